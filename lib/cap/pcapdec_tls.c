/* pcapdec_tls.c - pcapdec: SIP inside TLS over TCP, decrypted with a key log. */
#include <stdlib.h>
#include <string.h>

#include "base/be.h"
#include "cap/pcapdec_int.h"
#include "cap/tcpre.h"
#include "cap/tlsdec.h"
#include "cap/wsread.h"

/*
 * A TCP connection is followed from its SYN, or from a first segment that
 * begins a TLS record. Each direction is reassembled (cap/tcpre.c), the
 * TLS records of both are decrypted (cap/tlsdec.c) with the key log's
 * secrets for its client random, and the application data is framed as
 * SIP (Content-Length; CRLF keep-alives). The messages go to the same
 * place as cleartext SIP in the capture (pcapdec_sip_message()), so their
 * SDP keys the SRTP; their keys are reported as from "tls".
 *
 * -w: from the frame whose ClientHello has a client random the key log
 * knows, the connection's frames are written rewritten: a frame carries
 * the SIP messages its bytes completed (in clear, the TLS records gone),
 * or nothing (SIP over WebSocket is written as SIP over TCP: the HTTP
 * upgrade and the frame headers are left out). The sequence numbers of each direction are renumbered: a
 * running output offset starts where the captured stream was when the
 * rewriting began (after the SYN, or at the first segment seen) and grows
 * by the bytes written (and 1 for a FIN); acknowledgements carry the other
 * direction's output offset. Messages over CHUNK bytes are split over
 * several frames. Frames of connections without keys are written as
 * captured.
 */

#define TLS_BUCKETS 4096
#define TLS_CONNS_MAX 65536
#define HELD_MAX (256u * 1024)	/* out-of-order bytes, per direction */
#define OUT_MAX (1u << 20)	/* decrypted SIP completed by one frame */
#define CHUNK 16384		/* SIP bytes per written frame */
#define HUNT_BUDGET 32		/* connections searched without a hello */

struct tlsconn {
	struct tlsconn *next;
	struct cap_addr a, b;	/* side 0 sends a -> b */
	struct tcpre *re[2];
	struct tlsdec *tls;
	struct sip_framer *fr[2];
	struct wsread *ws[2];	/* SIP over WebSocket instead */
	int skip[2];		/* framer lost: wait for a message start */
	int rewrite, closed, ignore, fin[2], accounted, data_seen;
	int hunt_counted;
	uint32_t fin_seq[2];	/* where each side's FIN is */
	uint32_t out[2];	/* next output sequence number per side */
	int have_out[2];
};

/* What a delivery callback needs. */
struct tlsctx {
	struct pcapdec *d;
	struct tlsconn *c;
	int side;
	int err;
};

static uint32_t
conn_hash(const struct cap_addr *x, const struct cap_addr *y)
{
	uint32_t h = 2166136261u, hx = 0, hy = 0;
	size_t i;

	for (i = 0; i < 16; i++) {
		hx = (hx ^ x->a[i]) * 16777619u;
		hy = (hy ^ y->a[i]) * 16777619u;
	}
	hx ^= x->port;
	hy ^= y->port;
	h ^= hx + hy;		/* the same both ways */
	return (h * 16777619u) % TLS_BUCKETS;
}

static int
addr_eq(const struct cap_addr *x, const struct cap_addr *y)
{
	return x->family == y->family && x->port == y->port &&
	    memcmp(x->a, y->a, 16) == 0;
}

/* The connection of `p` and the side it is from, or NULL. */
static struct tlsconn *
conn_find(struct pcapdec *d, const struct cap_pkt *p, int *side)
{
	struct tlsconn *c;

	for (c = d->ctab[conn_hash(&p->src, &p->dst)]; c != NULL; c = c->next) {
		if (addr_eq(&c->a, &p->src) && addr_eq(&c->b, &p->dst)) {
			*side = 0;
			return c;
		}
		if (addr_eq(&c->b, &p->src) && addr_eq(&c->a, &p->dst)) {
			*side = 1;
			return c;
		}
	}
	return NULL;
}

static void
conn_release(struct tlsconn *c)
{
	for (int i = 0; i < 2; i++) {
		tcpre_free(c->re[i]);
		c->re[i] = NULL;
		sip_framer_free(c->fr[i]);
		c->fr[i] = NULL;
		wsread_free(c->ws[i]);
		c->ws[i] = NULL;
	}
	tlsdec_free(c->tls);
	c->tls = NULL;
}

/* The table is full: forget the connections that are over or ignored. */
static void
evict(struct pcapdec *d)
{
	struct tlsconn **pp, *c;
	size_t i;

	for (i = 0; i < TLS_BUCKETS; i++)
		for (pp = &d->ctab[i]; (c = *pp) != NULL;) {
			if (c->closed || c->ignore) {
				*pp = c->next;
				conn_release(c);
				free(c);
				d->nconns--;
			} else {
				pp = &c->next;
			}
		}
}

static struct tlsconn *
conn_new(struct pcapdec *d, const struct cap_pkt *p)
{
	struct tlsconn *c, **pp;

	if (d->nconns >= TLS_CONNS_MAX)
		evict(d);
	if (d->nconns >= TLS_CONNS_MAX) {
		d->t.tls.not_tracked++;
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->a = p->src;
	c->b = p->dst;
	if ((c->re[0] = tcpre_new(HELD_MAX)) == NULL ||
	    (c->re[1] = tcpre_new(HELD_MAX)) == NULL ||
	    (c->tls = tlsdec_new(d->tlskeys)) == NULL) {
		conn_release(c);
		free(c);
		return NULL;
	}
	if (d->hunts >= HUNT_BUDGET)
		tlsdec_no_hunt(c->tls);
	pp = &d->ctab[conn_hash(&p->src, &p->dst)];
	c->next = *pp;
	*pp = c;
	d->nconns++;
	return c;
}

static void
conn_unlink(struct pcapdec *d, struct tlsconn *c)
{
	struct tlsconn **pp = &d->ctab[conn_hash(&c->a, &c->b)];

	while (*pp != NULL && *pp != c)
		pp = &(*pp)->next;
	if (*pp == c)
		*pp = c->next;
	d->nconns--;
}

/* Add a connection's counts to the totals, once. */
static void
conn_account(struct pcapdec *d, struct tlsconn *c)
{
	struct pcapdec_tls_totals *t = &d->t.tls;
	struct tlsdec_stats ts;
	struct tcpre_stats rs;
	enum tlsdec_state st;

	if (c->accounted || c->tls == NULL)
		return;
	c->accounted = 1;
	st = tlsdec_state(c->tls);
	if (st == TLSDEC_NOT_TLS)
		return;
	if (st == TLSDEC_HELLO && tlsdec_client(c->tls) < 0)
		return;		/* no TLS byte was seen */
	t->conns++;
	switch (st) {
	case TLSDEC_KEYED:
		t->keyed++;
		if (tlsdec_version(c->tls) == 0x0304)
			t->tls13++;
		else
			t->tls12++;
		break;
	case TLSDEC_NO_KEYS: t->no_keys++; break;
	case TLSDEC_UNSUPPORTED: t->unsupported++; break;
	default: t->no_hello++; break;
	}
	tlsdec_stats(c->tls, &ts);
	t->records += ts.records;
	t->decrypted += ts.decrypted;
	t->failed += ts.failed;
	t->nokey += ts.nokey;
	t->resyncs += ts.resyncs;
	t->hunted += ts.hunted;
	for (int i = 0; i < 2; i++) {
		if (c->re[i] == NULL)
			continue;
		tcpre_stats(c->re[i], &rs);
		t->tcp_gaps += rs.gaps;
		t->tcp_gap_bytes += rs.gap_bytes;
		t->tcp_dup_bytes += rs.dup;
	}
	if (st == TLSDEC_KEYED || st == TLSDEC_NO_KEYS ||
	    st == TLSDEC_UNSUPPORTED)
		log_msg(d->o.log, LOG_INFO, "tls connection: %s %s (%s), "
		    "%llu records, %llu decrypted, %llu failed",
		    tlsdec_version(c->tls) == 0x0304 ? "TLS 1.3" :
		    tlsdec_version(c->tls) == 0x0303 ? "TLS 1.2" : "TLS",
		    tlsdec_suite_name(tlsdec_suite(c->tls)),
		    tlsdec_state_name(st), (unsigned long long)ts.records,
		    (unsigned long long)ts.decrypted,
		    (unsigned long long)ts.failed);
}

/* --- the byte streams --- */

/* Append to the frame's output (-w); counted when it does not fit. */
static void
out_append(struct pcapdec *d, const uint8_t *p, size_t n)
{
	if (d->w == NULL)
		return;
	if (d->tlsoutlen + n > OUT_MAX) {
		d->t.tls.out_dropped++;
		return;
	}
	memcpy(d->tlsout + d->tlsoutlen, p, n);
	d->tlsoutlen += n;
	if (d->ntlsitems < TLS_ITEMS)	/* else it joins the last one */
		d->ntlsitems++;
	d->tlsitems[d->ntlsitems - 1] = d->tlsoutlen;
}

/* The framer's message has bytes after its header block. */
static int
has_body(struct slice m)
{
	long e = slice_find(m, SLICE_LIT("\r\n\r\n"));

	return e >= 0 && (size_t)e + 4 < m.len;
}

/* One SIP message found inside TLS (framed, or a WebSocket message). */
static void
sip_found(struct pcapdec *d, struct slice msg)
{
	size_t len;
	int body = has_body(msg);

	d->t.tls.sip_msgs++;
	/* only a message with a body can carry SDP: the others are not
	 * parsed again (most of them: OPTIONS, responses) */
	if (!d->o.no_sip && body) {
		d->sip_from = 2;
		pcapdec_sip_message(d, msg);
		d->sip_from = 1;
	}
	/* -w: its SDP made plain RTP as for SIP in clear (the length may
	 * change: the sequence numbers are renumbered anyway) */
	if (d->w != NULL && body && !d->o.keep_sdp &&
	    pcapdec_sip_plain(d, msg, 0, d->sipbuf, PKT_MAX, &len))
		out_append(d, d->sipbuf, len);
	else
		out_append(d, msg.p, msg.len);
}

/* A WebSocket message: SIP (RFC 7118), or counted as not SIP. */
static void
ws_message(void *arg, const uint8_t *p, size_t len)
{
	struct pcapdec *d = arg;
	struct slice m = slice_make(p, len);

	d->t.tls.ws_msgs++;
	if (pcapdec_looks_like_sip(m))
		sip_found(d, m);
	else
		d->t.tls.not_sip++;
}

/* Application data of one side: SIP messages out of it. */
static void
app_data(void *arg, int side, const uint8_t *p, size_t len)
{
	struct tlsctx *x = arg;
	struct pcapdec *d = x->d;
	struct tlsconn *c = x->c;
	struct slice msg;
	int r;

	if (c->ws[side] != NULL) {
		if (wsread_feed(c->ws[side], p, len, ws_message, d) != 0) {
			d->t.tls.not_sip++;
			wsread_free(c->ws[side]);
			c->ws[side] = NULL;
			c->skip[side] = 1;
		}
		return;
	}
	if (c->fr[side] == NULL && !c->skip[side] &&
	    wsread_looks_like(slice_make(p, len))) {	/* SIP over WSS */
		if ((c->ws[side] = wsread_new(65536)) == NULL)
			return;
		d->t.tls.ws_conns++;
		app_data(arg, side, p, len);
		return;
	}
	if (c->skip[side]) {	/* after a loss: a record that starts one */
		if (!pcapdec_looks_like_sip(slice_make(p, len)) &&
		    !(len >= 2 && p[0] == '\r' && p[1] == '\n'))
			return;
		c->skip[side] = 0;
	}
	if (c->fr[side] == NULL) {
		if (!pcapdec_looks_like_sip(slice_make(p, len)) &&
		    !(len >= 2 && p[0] == '\r' && p[1] == '\n')) {
			d->t.tls.not_sip++;
			c->skip[side] = 1;
			return;
		}
		if ((c->fr[side] = sip_framer_new(65536)) == NULL)
			return;
	}
	if (sip_framer_feed(c->fr[side], p, len) != 0)
		goto lost;
	while ((r = sip_framer_next(c->fr[side], &msg)) != SIP_FRAME_NONE) {
		if (r < 0)
			goto lost;
		if (r == SIP_FRAME_PING) {
			d->t.tls.sip_pings++;
			out_append(d, (const uint8_t *)"\r\n\r\n", 4);
			continue;
		}
		sip_found(d, msg);
	}
	sip_framer_release(c->fr[side]);
	return;
lost:
	d->t.tls.not_sip++;
	sip_framer_free(c->fr[side]);
	c->fr[side] = NULL;
	c->skip[side] = 1;
}

/* Reassembled bytes of x->side (or a gap) into the TLS decoder. */
static void
stream_bytes(void *arg, const uint8_t *p, size_t len)
{
	struct tlsctx *x = arg;
	struct tlsconn *c = x->c;
	int e;

	if (c->tls == NULL)
		return;
	if (p == NULL) {
		tlsdec_gap(c->tls, x->side);
		if (c->fr[x->side] != NULL || c->ws[x->side] != NULL) {
			sip_framer_free(c->fr[x->side]);
			c->fr[x->side] = NULL;
			wsread_free(c->ws[x->side]);
			c->ws[x->side] = NULL;
			c->skip[x->side] = 1;
		}
		return;
	}
	e = tlsdec_feed(c->tls, x->side, p, len, app_data, x);
	if (e != 0 && x->err == 0)
		x->err = e;
}

/* --- -w: the rewritten frames --- */

/*
 * Write frame `f` (decoded as `p`) with TCP payload `pl` (`n` bytes),
 * sequence number `seq`, acknowledgement `ack` (when set_ack), without
 * FIN unless `fin`. 0 or an error (the frame is then not written).
 */
static int
write_seg(struct pcapdec *d, const struct cap_frame *f,
    const struct cap_pkt *p, const uint8_t *pl, size_t n, uint32_t seq,
    int set_ack, uint32_t ack, int fin)
{
	size_t hl = (size_t)(p->payload.p - f->data), tot = hl + n, ihl, i;
	uint8_t *o = d->frame;
	struct cap_frame of;
	struct cap_pkt q;
	uint32_t sum = 0;

	if (tot > PKT_MAX + 256 || p->l4_off + 20 > hl)
		return E_BIG;
	memcpy(o, f->data, hl);
	if (n > 0)
		memcpy(o + hl, pl, n);
	if (p->ipver == 4) {
		ihl = (size_t)(o[p->l3_off] & 0x0f) * 4;
		if (tot - p->l3_off > 0xffff)
			return E_RANGE;
		o[p->l3_off + 2] = (uint8_t)((tot - p->l3_off) >> 8);
		o[p->l3_off + 3] = (uint8_t)(tot - p->l3_off);
		o[p->l3_off + 10] = o[p->l3_off + 11] = 0;
		for (i = 0; i + 1 < ihl; i += 2)
			sum += (uint32_t)o[p->l3_off + i] << 8 |
			    o[p->l3_off + i + 1];
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		o[p->l3_off + 10] = (uint8_t)(~sum >> 8);
		o[p->l3_off + 11] = (uint8_t)~sum;
	} else {
		if (tot - p->l3_off - 40 > 0xffff)
			return E_RANGE;
		o[p->l3_off + 4] = (uint8_t)((tot - p->l3_off - 40) >> 8);
		o[p->l3_off + 5] = (uint8_t)(tot - p->l3_off - 40);
	}
	put_be32(o + p->l4_off + 4, seq);
	if (set_ack)
		put_be32(o + p->l4_off + 8, ack);
	if (!fin)
		o[p->l4_off + 13] &= (uint8_t)~0x01;
	if (cap_decode(f->dlt, o, tot, &q) != 0 || q.kind != CAP_TCP ||
	    cap_fix_tcp_checksum(o, tot, &q) != 0)
		return E_SYNTAX;
	of = *f;
	of.data = o;
	of.caplen = of.wirelen = (uint32_t)tot;
	pcapdec_emit(d, &of);
	return 0;
}

/* The frame of a rewritten connection: its SIP, renumbered. */
static void
rewrite(struct pcapdec *d, struct tlsconn *c, int side,
    const struct cap_frame *f, const struct cap_pkt *p)
{
	const uint8_t *tcp = f->data + p->l4_off;
	int set_ack = (tcp[13] & 0x10) && c->have_out[!side];
	int fin = (p->tcp_flags & 0x01) != 0;
	size_t off = 0, n, end, i = 0;

	/* one segment a message or keep-alive (tshark reads SIP over TCP
	 * from a segment's start), split when longer than CHUNK */
	do {
		end = i < d->ntlsitems ? d->tlsitems[i] : d->tlsoutlen;
		n = end - off < CHUNK ? end - off : CHUNK;
		if (write_seg(d, f, p, d->tlsout + off, n, c->out[side],
		    set_ack, c->out[!side], fin && off + n == d->tlsoutlen)
		    != 0) {
			d->t.tls.out_dropped++;
			break;
		}
		c->out[side] += (uint32_t)n;
		off += n;
		if (off == end)
			i++;
	} while (off < d->tlsoutlen);
	if (fin)
		c->out[side]++;
	d->t.tls.rewritten++;
}

/* --- frames in --- */

/* A TLS record header at the start of a payload: a new connection? */
static int
starts_tls(struct slice pl)
{
	return pl.len >= 5 && (pl.p[0] == 22 || pl.p[0] == 23) &&
	    pl.p[1] == 3 && pl.p[2] <= 4;
}

int
pcapdec_tls_segment(struct pcapdec *d, const struct cap_frame *f,
    const struct cap_pkt *p)
{
	struct tlsctx x = { d, NULL, 0, 0 };
	struct tlsconn *c;
	int side = 0, syn = (p->tcp_flags & 0x02) != 0, e;
	const uint8_t *cr;

	if (d->tlskeys == NULL)
		return 0;
	c = conn_find(d, p, &side);
	if (c == NULL) {
		/* a client's SYN, or a first segment that is TLS */
		if (!((syn && !(p->tcp_flags & 0x10)) ||
		    starts_tls(p->payload)) || (c = conn_new(d, p)) == NULL)
			return 0;
		side = 0;
	} else if (syn && !(p->tcp_flags & 0x10) &&
	    (c->closed || c->ignore || c->data_seen)) {
		/* the same addresses again after data: a new connection */
		conn_account(d, c);
		conn_release(c);
		conn_unlink(d, c);
		free(c);
		return pcapdec_tls_segment(d, f, p);
	}
	if (c->ignore)
		return 0;
	x.c = c;
	x.side = side;
	if (p->payload.len > 0)
		c->data_seen = 1;
	if (!c->have_out[side]) {
		c->have_out[side] = 1;
		c->out[side] = p->tcp_seq + (uint32_t)syn;
	}
	d->tlsoutlen = 0;
	d->ntlsitems = 0;
	/* until the rewriting begins, the output offset is where the
	 * captured stream is in order (what came ahead of it is written
	 * as captured, and overlapped later: see pcap-decrypt(1)) */
	if (!c->rewrite && c->re[side] != NULL && tcpre_started(c->re[side]))
		c->out[side] = tcpre_next(c->re[side]);
	if (c->re[side] != NULL) {
		e = tcpre_add(c->re[side], p->tcp_seq, syn, p->payload,
		    stream_bytes, &x);
		if (e != 0)
			d->t.tls.errors++;
		if (x.err != 0)
			d->t.tls.errors++;
		if (p->tcp_flags & 0x04) {	/* RST: nothing more comes */
			tcpre_flush(c->re[0], stream_bytes, &x);
			x.side = 1;
			tcpre_flush(c->re[1], stream_bytes, &x);
			x.side = side;
		} else if (p->tcp_flags & 0x01) {
			c->fin[side] = 1;
			c->fin_seq[side] = p->tcp_seq + (uint32_t)syn +
			    (uint32_t)p->payload.len;
		}
	}
	if (c->tls != NULL && !c->hunt_counted) {
		struct tlsdec_stats ts;

		tlsdec_stats(c->tls, &ts);
		if (ts.hunts > 0) {	/* the key log was searched for it */
			c->hunt_counted = 1;
			d->hunts++;
		}
	}
	if (c->tls != NULL && !c->rewrite &&
	    (cr = tlsdec_client_random(c->tls)) != NULL &&
	    tlskeys_find(d->tlskeys, cr) != NULL)
		c->rewrite = 1;
	if (c->tls != NULL && !c->rewrite &&
	    tlsdec_state(c->tls) > TLSDEC_KEYED) {
		/* not TLS, or not ours to decrypt: written as captured */
		conn_account(d, c);
		conn_release(c);
		c->ignore = 1;
		return 0;
	}
	if ((p->tcp_flags & 0x04) || (c->fin[0] && c->fin[1] &&
	    c->re[0] != NULL && c->re[1] != NULL &&
	    tcpre_next(c->re[0]) == c->fin_seq[0] &&
	    tcpre_next(c->re[1]) == c->fin_seq[1])) {
		/* both FINs, and every byte before them: over */
		conn_account(d, c);
		conn_release(c);
		c->closed = 1;
	}
	if (!c->rewrite) {
		if (c->re[side] != NULL && tcpre_started(c->re[side]))
			c->out[side] = tcpre_next(c->re[side]);
		c->ignore = c->closed;
		return 0;
	}
	if (d->w == NULL || f->caplen != f->wirelen) {
		if (d->w != NULL)	/* cut short by the snap length */
			pcapdec_emit(d, f);
		return 1;
	}
	rewrite(d, c, side, f, p);
	return 1;
}

/* End of the capture: what is held is delivered, every count added. */
void
pcapdec_tls_end(struct pcapdec *d)
{
	struct tlsctx x = { d, NULL, 0, 0 };
	struct tlsconn *c;
	size_t i;

	if (d->ctab == NULL)
		return;
	for (i = 0; i < TLS_BUCKETS; i++)
		for (c = d->ctab[i]; c != NULL; c = c->next) {
			x.c = c;
			for (x.side = 0; x.side < 2; x.side++)
				if (c->re[x.side] != NULL)
					tcpre_flush(c->re[x.side],
					    stream_bytes, &x);
			conn_account(d, c);
		}
	d->tlsoutlen = 0;
}

void
pcapdec_tls_free(struct pcapdec *d)
{
	struct tlsconn *c, *n;
	size_t i;

	if (d->ctab != NULL)
		for (i = 0; i < TLS_BUCKETS; i++)
			for (c = d->ctab[i]; c != NULL; c = n) {
				n = c->next;
				conn_release(c);
				free(c);
			}
	free(d->ctab);
	free(d->tlsout);
	tlskeys_free(d->tlskeys);
}

int
pcapdec_add_tls_keylog(struct pcapdec *d, struct slice text, char *why,
    size_t whysz)
{
	if (d->tlskeys == NULL) {
		d->tlskeys = tlskeys_new();
		d->ctab = calloc(TLS_BUCKETS, sizeof(*d->ctab));
		d->tlsout = malloc(OUT_MAX);
		if (d->tlskeys == NULL || d->ctab == NULL ||
		    d->tlsout == NULL) {
			if (whysz)
				snprintf(why, whysz, "out of memory");
			return E_NOMEM;
		}
	}
	return tlskeys_add_text(d->tlskeys, text, why, whysz);
}
