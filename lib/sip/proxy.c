/* proxy.c - the SIP proxy between TLS flows (outside) and UDP/TCP (inside). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/hash.h"
#include "sip/dialog.h"
#include "sip/mediactl.h"
#include "sip/proxy.h"
#include "sip/registrar.h"
#include "base/rnd.h"
#include "sip/sip.h"

#define MAX_SIP 65535
#define TXN_BUCKETS 4096
#define CMAP_BUCKETS 1024
#define BRANCH_MAX 96

/* Where a body goes (forward()'s `outward`): the relay's profiles. */
#define LEG_IN 0		/* outside -> inside: RTP/AVP */
#define LEG_OUT 1		/* inside -> outside: RTP/SAVP */
#define LEG_OUT_OUT 2		/* outside -> outside: RTP/SAVP */

/* An outside->inside client transaction (UDP retransmission, 408). */
struct txn {
	struct proxy *px;
	char key[BRANCH_MAX + 16];
	size_t klen;
	uint64_t flow;
	struct net_addr dst;
	struct buf *fwd;	/* what went inside (retransmitted) */
	struct buf *orig;	/* the request as the client sent it */
	int64_t timer;
	uint32_t interval;
	uint64_t deadline_ms;
	int invite, got_resp;
	int tcp;		/* sent over TCP: no retransmissions */
	int own;		/* our own request (a BYE): answers stop here */
	struct buf *udp_alt;	/* moved to TCP for size: the UDP form */
	struct txn *next;
};

/* Contact-rewriting mode: the client's own Contact per flow. */
struct cmap {
	uint64_t flow;
	char *uri;
	struct cmap *next;
};

struct proxy {
	struct ev_loop *loop;
	struct flow_table *flows;
	int udp_fd;
	struct proxy_conf conf;
	const struct logger *lg;
	struct mediactl *mc;
	struct tcpconn_table *tcp;	/* inside TCP, or NULL */
	struct registrar *reg;
	struct dialog_table *dlg;	/* --bye-on-loss, or NULL */
	int64_t dlg_timer;
	char in_host[NET_ADDR_STRLEN];	/* "10.0.0.2" or "[::1]" */
	char in_hp[NET_ADDR_STRLEN + 8];	/* "10.0.0.2:5060" */
	uint16_t in_port;
	struct txn *txn[TXN_BUCKETS];
	size_t ntxn;
	struct cmap *cmap[CMAP_BUCKETS];
	struct proxy_stats st;
	uint64_t last_bad_flow;
	struct net_addr last_bad_src;
	int64_t reg_timer;
	uint8_t rbuf[MAX_SIP + 1];
};

/* Where a message goes. */
struct target {
	int to_flow;
	uint64_t flow;
	struct net_addr dst;
	int tcp;		/* inside over TCP: on `conn`, else to `dst` */
	uint64_t conn;
};

static void udp_event(struct ev_loop *loop, int fd, unsigned ev, void *arg);
static void register_local(struct proxy *px, uint64_t flow,
    const struct sip_msg *m);
static int send_tcp(struct proxy *px, struct target *t, struct slice b);
static int retransport(struct proxy *px, struct slice msg, int tcp,
    struct buf *out);
static void tcp_failed(struct proxy *px, uint64_t flow, struct slice orig);
static int uri_tcp(struct proxy *px, struct slice uri);
static void cancel_follows(struct proxy *px, struct slice branch,
    struct target *t);
static void bye_for_lost(void *arg, const struct dialog *d);
static int own_response(struct proxy *px, const struct sip_msg *m,
    struct slice branch);
static void dlg_request(struct proxy *px, const struct sip_msg *m,
    int from_outside, uint64_t flow);
static void dlg_response(struct proxy *px, const struct sip_msg *m,
    int from_outside, uint64_t flow);

/* ---- small helpers ---- */

static int
is_method(const struct sip_msg *m, const char *name)
{
	return slice_eq_cstr(m->method, name);
}

static int
dialog_forming(const struct sip_msg *m)
{
	const struct sip_hdr *to = sip_find(m, SIP_H_TO);
	struct sip_addr a;

	if (!is_method(m, "INVITE") && !is_method(m, "SUBSCRIBE") &&
	    !is_method(m, "REFER"))
		return 0;
	/* In-dialog requests (To tag) keep their route set. */
	return to == NULL || sip_addr_parse(to->value, &a) != 0 ||
	    !sip_param(a.params, "tag", NULL, NULL);
}

/* Host of `a` for a URI or Via ("1.2.3.4", "[::1]"). */
static void
uri_host(const struct net_addr *a, char *out, size_t n)
{
	char h[NET_ADDR_STRLEN];

	if (net_addr_format_host(a, h, sizeof(h)) != 0)
		h[0] = '\0';
	if (net_addr_family(a) == AF_INET6)
		snprintf(out, n, "[%s]", h);
	else
		snprintf(out, n, "%s", h);
}

/* Our outside face as seen on `flow`: "host:port". */
static void
outside_hp(struct proxy *px, uint64_t flow, char *out, size_t n)
{
	struct net_addr local;
	char h[NET_ADDR_STRLEN];
	uint16_t port = px->conf.outside_port;

	memset(&local, 0, sizeof(local));
	if (flow_addrs(px->flows, flow, NULL, &local) == 0 && port == 0)
		port = net_addr_port(&local);
	if (port == 0)
		port = 5061;
	if (px->conf.outside_host != NULL)
		snprintf(out, n, "%s:%u", px->conf.outside_host, port);
	else {
		uri_host(&local, h, sizeof(h));
		snprintf(out, n, "%s:%u", h, port);
	}
}

/* Value `idx` (0-based) among all values of headers `id`, in order. */
static int
nth_value(const struct sip_msg *m, enum sip_hid id, size_t idx,
    struct slice *val)
{
	long i = -1;
	size_t k = 0;

	while ((i = sip_next(m, id, (size_t)(i + 1))) >= 0) {
		struct slice cur = m->hdr[i].value, v;
		while (sip_value_next(&cur, &v)) {
			if (k++ == idx) {
				*val = v;
				return 1;
			}
		}
	}
	return 0;
}

/*
 * The branch of our Via on `m`, from the client's: deterministic, because
 * the CANCEL and the non-2xx ACK of an INVITE carry the client's INVITE
 * branch and must get ours too. `tok` names the flow it came from.
 */
static void
our_branch(const struct sip_msg *m, const char *tok, char *out, size_t n)
{
	struct sip_via via;
	struct slice v, cbranch;
	uint64_t h;

	(void)nth_value(m, SIP_H_VIA, 0, &v);
	cbranch = sip_via_parse(v, &via) == 0 ? via.branch : SLICE_NULL;
	h = hash64_slice(HASH64_INIT, cbranch);
	if (cbranch.len == 0) {
		h = hash64_slice(h, m->call_id);
		h ^= m->cseq;
	}
	snprintf(out, n, "z9hG4bK%s.%016llx", tok, (unsigned long long)h);
}

/*
 * Drop the first `ndrop` values of the headers `id`: a header left empty
 * loses its line, one partly dropped gets its remaining values.
 */
static int
drop_values(struct sip_edits *e, const struct sip_msg *m, enum sip_hid id,
    size_t ndrop)
{
	long i = -1;
	int r;

	while (ndrop > 0 && (i = sip_next(m, id, (size_t)(i + 1))) >= 0) {
		struct slice cur = m->hdr[i].value, v;
		size_t nv = 0;

		while (sip_value_next(&cur, &v))
			nv++;
		if (nv <= ndrop) {
			if ((r = sip_edit_delete(e, m->hdr[i].line)) != 0)
				return r;
			ndrop -= nv;
			continue;
		}
		/* Keep from the (ndrop+1)-th value to the end of the line. */
		cur = m->hdr[i].value;
		for (size_t k = 0; k < ndrop; k++)
			(void)sip_value_next(&cur, &v);
		while (cur.len > 0 && (cur.p[0] == ' ' || cur.p[0] == '\t' ||
		    cur.p[0] == '\r' || cur.p[0] == '\n'))
			(void)slice_skip(&cur, 1);
		return sip_edit_delete(e, slice_make(m->hdr[i].value.p,
		    (size_t)(cur.p - m->hdr[i].value.p)));
	}
	return 0;
}

/* A host[:port] of a URI as a socket address (numeric hosts only). */
static int
uri_dest(const struct sip_uri *u, struct net_addr *a)
{
	return net_addr_parse_host(u->host, u->port ? u->port : 5060, a);
}

/* Is `uri` our inside face? */
static int
uri_is_inside(struct proxy *px, struct slice uri)
{
	struct sip_uri u;

	return sip_uri_parse(uri, &u) == 0 &&
	    slice_case_eq_cstr(u.host, px->in_host) &&
	    (u.port ? u.port : 5060) == px->in_port;
}

/* Is `uri` one of our faces (inside, or the outside as seen on flow)? */
static int
uri_is_us(struct proxy *px, struct slice uri, uint64_t flow)
{
	struct sip_uri u;
	struct net_addr local;
	char h[NET_ADDR_STRLEN];
	uint16_t port;
	uint64_t tf;

	if (sip_uri_parse(uri, &u) != 0)
		return 0;
	port = u.port;
	if (slice_case_eq_cstr(u.host, px->in_host) &&
	    (port ? port : 5060) == px->in_port)
		return 1;
	if (port == 0)
		port = (slice_case_eq_cstr(u.scheme, "sips") ||
		    sip_param(u.params, "transport", NULL, NULL)) ? 5061 : 5060;
	if (px->conf.outside_host != NULL &&
	    slice_case_eq_cstr(u.host, px->conf.outside_host) &&
	    (px->conf.outside_port == 0 || port == px->conf.outside_port))
		return 1;
	if (flow != 0 && flow_addrs(px->flows, flow, NULL, &local) == 0) {
		uri_host(&local, h, sizeof(h));
		if (slice_case_eq_cstr(u.host, h) &&
		    port == net_addr_port(&local))
			return 1;
	}
	/* Our outside face as seen on the flow its token names: the far
	 * Record-Route entry of a dialog, in a request from the other side. */
	if (u.user.len == FLOW_TOKEN_LEN &&
	    flow_token_check(px->flows, u.user, &tf) == 0 && tf != flow &&
	    flow_addrs(px->flows, tf, NULL, &local) == 0) {
		uri_host(&local, h, sizeof(h));
		if (slice_case_eq_cstr(u.host, h) &&
		    port == net_addr_port(&local))
			return 1;
	}
	return 0;
}

/* A flow token in the user part of `uri`, if any. */
static int
uri_token(struct proxy *px, struct slice uri, uint64_t *flow)
{
	struct sip_uri u;

	if (sip_uri_parse(uri, &u) != 0 || u.user.len != FLOW_TOKEN_LEN)
		return 0;
	return flow_token_check(px->flows, u.user, flow) == 0;
}

static void
send_inside(struct proxy *px, const struct net_addr *dst, struct slice b)
{
	struct net_pkt p;

	memset(&p, 0, sizeof(p));
	p.buf = (uint8_t *)(uintptr_t)b.p;
	p.len = b.len;
	p.cap = b.len;
	p.addr = *dst;
	if (net_send(px->udp_fd, &p) != 0) {
		px->st.dropped++;
		log_msg(px->lg, LOG_WARN, "inside: send failed: %s",
		    strerror(errno));
	}
}

static void
send_flow(struct proxy *px, uint64_t flow, struct slice b)
{
	int r = flow_send(px->flows, flow, b.p, b.len);

	if (r != 0) {
		px->st.dropped++;
		log_msg(px->lg, LOG_INFO, "outside: flow gone, %zu bytes dropped",
		    b.len);
	}
}

/* 0, or why a TCP send failed (counted and logged here). */
static int
deliver(struct proxy *px, const struct target *t, struct slice b)
{
	struct target tt = *t;

	if (t->to_flow)
		send_flow(px, t->flow, b);
	else if (t->tcp)
		return send_tcp(px, &tt, b);
	else
		send_inside(px, &t->dst, b);
	return 0;
}

/* Answer request `m` ourselves, back where it came from. */
static void
reply(struct proxy *px, const struct sip_msg *m, const struct target *back,
    int code, const char *extra)
{
	struct buf *b;
	char tag[24];
	uint64_t h;

	if (!m->is_request || is_method(m, "ACK"))
		return;
	if ((b = buf_new(MAX_SIP)) == NULL)
		return;
	/* A stable To tag: retransmitted requests get the same answer. */
	h = hash64_slice(HASH64_INIT, m->call_id);
	snprintf(tag, sizeof(tag), "sbk%016llx", (unsigned long long)h);
	if (sip_build_response(m, code, NULL, slice_cstr(tag),
	    extra != NULL ? slice_cstr(extra) : SLICE_NULL, b) == 0)
		deliver(px, back, buf_slice(b));
	buf_free(b);
}

static void
log_bad(struct proxy *px, int from_flow, uint64_t flow,
    const struct net_addr *src, const char *what, int err)
{
	char a[NET_ADDR_STRLEN] = "?";

	px->st.bad++;
	/* Logged once per source in a row, never a flood. */
	if (from_flow) {
		if (px->last_bad_flow == flow)
			return;
		px->last_bad_flow = flow;
		struct net_addr peer;
		if (flow_addrs(px->flows, flow, &peer, NULL) == 0)
			if (net_addr_format(&peer, a, sizeof(a)) != 0)
				a[0] = '\0';
	} else {
		if (net_addr_eq(&px->last_bad_src, src))
			return;
		px->last_bad_src = *src;
		if (net_addr_format(src, a, sizeof(a)) != 0)
			a[0] = '\0';
	}
	log_msg(px->lg, LOG_INFO, "%s from %s: %s", what, a, sbk_strerror(err));
}

/* ---- transactions ---- */

static unsigned
txn_hash(struct slice k)
{
	return (unsigned)(hash64_slice(HASH64_INIT, k) % TXN_BUCKETS);
}

static struct txn **
txn_find(struct proxy *px, struct slice key)
{
	struct txn **pp = &px->txn[txn_hash(key)];

	while (*pp != NULL && !slice_eq(slice_make((*pp)->key, (*pp)->klen),
	    key))
		pp = &(*pp)->next;
	return pp;
}

static void
txn_free(struct proxy *px, struct txn *t)
{
	struct txn **pp = txn_find(px, slice_make(t->key, t->klen));

	if (*pp == t) {
		*pp = t->next;
		px->ntxn--;
	}
	if (t->timer > 0)
		(void)ev_timer_del(px->loop, (uint64_t)t->timer);
	buf_free(t->fwd);
	buf_free(t->orig);
	buf_free(t->udp_alt);
	free(t);
}

static void
txn_timer(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct txn *t = arg;
	struct proxy *px = t->px;
	uint64_t now = ev_now_ms(loop), next;

	(void)id;
	t->timer = 0;
	if (now >= t->deadline_ms) {
		struct sip_msg m;
		struct target back = { 1, t->flow, { .len = 0 }, 0, 0 };

		px->st.timeouts++;
		if (t->own) {
			/* Timer F: give up, nobody to tell. */
			log_msg(px->lg, LOG_INFO, "inside did not answer our "
			    "BYE: given up");
			txn_free(px, t);
			return;
		}
		log_msg(px->lg, LOG_INFO, "inside did not answer: 408");
		if (sip_parse(&m, buf_slice(t->orig)) == 0) {
			if (px->mc != NULL)
				mediactl_delete(px->mc, &m);
			reply(px, &m, &back, 408, NULL);
		}
		txn_free(px, t);
		return;
	}
	if (!t->tcp && (!t->got_resp || !t->invite)) {
		if (!t->got_resp)
			send_inside(px, &t->dst, buf_slice(t->fwd));
		if (t->interval < 4000 || t->invite)
			t->interval *= 2;
	}
	next = t->interval;
	if ((t->got_resp && t->invite) || t->tcp)
		next = t->deadline_ms - now;	/* wait for the final answer */
	if (now + next > t->deadline_ms)
		next = t->deadline_ms - now;
	t->timer = ev_timer_add(loop, next, txn_timer, t);
}

static struct txn *
txn_start(struct proxy *px, struct slice key, uint64_t flow,
    const struct target *dst, struct slice fwd, struct slice orig,
    int invite, struct slice udp_alt)
{
	struct txn *t;

	if (px->ntxn >= px->conf.max_txns || key.len > sizeof(t->key))
		return NULL;
	if (*txn_find(px, key) != NULL)
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->px = px;
	memcpy(t->key, key.p, key.len);
	t->klen = key.len;
	t->flow = flow;
	t->dst = dst->dst;
	t->tcp = dst->tcp;
	t->invite = invite;
	t->interval = px->conf.t1_ms;
	t->deadline_ms = ev_now_ms(px->loop) + px->conf.timeout_ms;
	if ((t->fwd = buf_new(MAX_SIP)) == NULL ||
	    (t->orig = buf_new(MAX_SIP)) == NULL ||
	    buf_append_slice(t->fwd, fwd) != 0 ||
	    buf_append_slice(t->orig, orig) != 0) {
		buf_free(t->fwd);
		buf_free(t->orig);
		free(t);
		return NULL;
	}
	if (udp_alt.len > 0 && ((t->udp_alt = buf_new(MAX_SIP + 4096)) == NULL
	    || buf_append_slice(t->udp_alt, udp_alt) != 0)) {
		buf_free(t->udp_alt);
		t->udp_alt = NULL;
	}
	/* Reliable transports are not retransmitted (RFC 3261 §17.1.1.2). */
	t->timer = ev_timer_add(px->loop, t->tcp ? px->conf.timeout_ms :
	    t->interval, txn_timer, t);
	t->next = px->txn[txn_hash(key)];
	px->txn[txn_hash(key)] = t;
	px->ntxn++;
	return t;
}

/* Transaction key: our branch and the CSeq method. */
static int
txn_key(const struct sip_msg *m, struct slice branch, char *out, size_t n)
{
	int k = snprintf(out, n, "%.*s %.*s", (int)branch.len,
	    (const char *)branch.p, (int)m->cseq_method.len,
	    (const char *)m->cseq_method.p);

	return k < 0 || (size_t)k >= n ? -1 : k;
}

/* ---- contact map (contact-rewriting mode) ---- */

static struct cmap **
cmap_find(struct proxy *px, uint64_t flow)
{
	struct cmap **pp = &px->cmap[flow % CMAP_BUCKETS];

	while (*pp != NULL && (*pp)->flow != flow)
		pp = &(*pp)->next;
	return pp;
}

static void
cmap_set(struct proxy *px, uint64_t flow, struct slice uri)
{
	struct cmap **pp = cmap_find(px, flow), *c = *pp;
	char *u = malloc(uri.len + 1);

	if (u == NULL)
		return;
	memcpy(u, uri.p, uri.len);
	u[uri.len] = '\0';
	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			free(u);
			return;
		}
		c->flow = flow;
		*pp = c;
	}
	free(c->uri);
	c->uri = u;
}

static const char *
cmap_get(struct proxy *px, uint64_t flow)
{
	struct cmap *c = *cmap_find(px, flow);

	return c != NULL ? c->uri : NULL;
}

void
proxy_flow_closed(struct proxy *px, uint64_t flow)
{
	struct cmap **pp = cmap_find(px, flow), *c = *pp;
	size_t n;

	if (c != NULL) {
		*pp = c->next;
		free(c->uri);
		free(c);
	}
	/* The phone cannot end its calls any more: we do (--bye-on-loss). */
	if (px->dlg != NULL && (n = dialog_flow_lost(px->dlg, flow,
	    bye_for_lost, px)) > 0)
		log_msg(px->lg, LOG_INFO, "flow lost: BYE sent for %zu "
		    "call%s", n, n == 1 ? "" : "s");
}

/* ---- forwarding with the media hook ---- */

static int
has_sdp(const struct sip_msg *m)
{
	const struct sip_hdr *ct = sip_find(m, SIP_H_CONTENT_TYPE);

	return m->body.len > 0 && ct != NULL &&
	    slice_find(ct->value, SLICE_LIT("sdp")) >= 0;
}

struct parked {
	struct proxy *px;
	struct target t;
	struct target back;	/* where a failure answer goes */
	struct buf *msg;	/* edited message, old body */
	int outward;		/* body goes outside (RTP/SAVP) */
	int txn;		/* start a transaction when sent */
	char key[BRANCH_MAX + 16];
	int klen;
	struct buf *orig;
	uint64_t origin;	/* the flow a request came from (or 0) */
};

/* Send; requests going inside get a transaction for `origin`. */
static void
send_final(struct proxy *px, struct target *t, struct slice bytes,
    const char *key, int klen, struct slice orig, int invite, uint64_t origin)
{
	struct buf *conv = NULL;
	struct slice udp = SLICE_NULL;

	if (!t->to_flow && !t->tcp && px->tcp != NULL &&
	    px->conf.tcp_switch > 0 && bytes.len > px->conf.tcp_switch &&
	    (conv = buf_new(MAX_SIP + 4096)) != NULL &&
	    retransport(px, bytes, 1, conv) == 0) {
		/* RFC 3261 §18.1.1: too large for UDP, TCP instead. */
		log_msg(px->lg, LOG_DEBUG, "%zu bytes: over TCP", bytes.len);
		udp = bytes;
		bytes = buf_slice(conv);
		t->tcp = 1;
		t->conn = 0;
	}
	if (deliver(px, t, bytes) != 0) {
		if (udp.len > 0) {
			/* ... and UDP after all when TCP fails. */
			t->tcp = 0;
			bytes = udp;
			udp = SLICE_NULL;
			deliver(px, t, bytes);
		} else if (key != NULL && klen > 0) {
			tcp_failed(px, origin, orig);
			key = NULL;
		}
	}
	if (key != NULL && klen > 0 && !t->to_flow)
		(void)txn_start(px, slice_make(key, (size_t)klen), origin, t,
		    bytes, orig, invite, udp);
	buf_free(conv);
}

static void
media_done(void *arg, int err, struct slice sdp)
{
	struct parked *pk = arg;
	struct proxy *px = pk->px;
	struct sip_msg m;
	struct sip_edits *e = NULL;
	struct buf *out = NULL;

	if (sip_parse(&m, buf_slice(pk->msg)) != 0)
		goto done;
	if (err != 0) {
		/* The relay failed: a request gets a 5xx from us, not a hang. */
		struct sip_msg o;
		log_msg(px->lg, LOG_WARN, "media relay: %s", sbk_strerror(err));
		if (m.is_request && pk->orig != NULL &&
		    sip_parse(&o, buf_slice(pk->orig)) == 0)
			reply(px, &o, &pk->back, err == E_UNSUPPORTED ? 488 :
			    503, NULL);
		goto done;
	}
	if ((e = sip_edits_new()) == NULL || (out = buf_new(MAX_SIP)) == NULL)
		goto done;
	if (sip_edit_body(e, &m, sdp) != 0 || sip_edits_apply(e, &m, out) != 0)
		goto done;
	send_final(px, &pk->t, buf_slice(out), pk->klen > 0 ? pk->key : NULL,
	    pk->klen, pk->orig != NULL ? buf_slice(pk->orig) : SLICE_NULL,
	    m.is_request && is_method(&m, "INVITE"), pk->origin);
done:
	sip_edits_free(e);
	buf_free(out);
	buf_free(pk->msg);
	buf_free(pk->orig);
	free(pk);
}

/*
 * Send `m` with edits `e` to `t`. With a media controller and an SDP body,
 * the message is parked until the relay has rewritten the body.
 */
static void
forward(struct proxy *px, const struct sip_msg *m, struct sip_edits *e,
    struct target *t, const struct target *back, int outward,
    struct slice branch, uint64_t flow)
{
	struct buf *out = buf_new(MAX_SIP + 4096);
	char key[BRANCH_MAX + 16];
	int klen = -1;
	int txn = m->is_request && !t->to_flow && !is_method(m, "ACK");

	if (out == NULL)
		return;
	/* INVITEs, their ACKs, CANCELs and failures: offer/answer roles,
	 * and the call deleted when an initial INVITE fails. */
	if (px->mc != NULL)
		mediactl_track(px->mc, m);
	if (txn)
		klen = txn_key(m, branch, key, sizeof(key));
	if (sip_edits_apply(e, m, out) != 0) {
		buf_free(out);
		return;
	}
	if (px->mc != NULL && has_sdp(m)) {
		struct parked *pk = calloc(1, sizeof(*pk));
		struct mediactl_req rq;
		struct sip_msg em;

		if (pk == NULL || sip_parse(&em, buf_slice(out)) != 0) {
			free(pk);
			buf_free(out);
			return;
		}
		pk->px = px;
		pk->t = *t;
		pk->back = *back;
		pk->msg = out;
		pk->outward = outward;
		if (klen > 0) {
			memcpy(pk->key, key, (size_t)klen);
			pk->klen = klen;
		}
		if ((pk->orig = buf_new(MAX_SIP)) != NULL &&
		    buf_append_slice(pk->orig, m->raw) != 0) {
			buf_free(pk->orig);
			pk->orig = NULL;
		}
		memset(&rq, 0, sizeof(rq));
		rq.msg = &em;
		rq.outward = outward != LEG_IN;
		rq.outside_both = outward == LEG_OUT_OUT;
		rq.require_srtp = px->conf.require_srtp && outward != LEG_OUT;
		pk->origin = flow;
		mediactl_submit(px->mc, &rq, media_done, pk);
		return;
	}
	send_final(px, t, buf_slice(out), klen > 0 ? key : NULL, klen, m->raw,
	    m->is_request && is_method(m, "INVITE"), flow);
	buf_free(out);
}

/* ---- requests ---- */

/* Max-Forwards: 483 at zero, else decrement or insert 70. */
static int
max_forwards(struct proxy *px, const struct sip_msg *m, struct sip_edits *e,
    const struct target *back)
{
	const struct sip_hdr *h = sip_find(m, SIP_H_MAX_FORWARDS);
	char v[16];
	int r;

	if (m->max_forwards == 0) {
		reply(px, m, back, 483, NULL);
		return -1;
	}
	if (h == NULL)
		r = sip_edit_add_top(e, m, "Max-Forwards", SLICE_LIT("70"));
	else {
		snprintf(v, sizeof(v), "%d", m->max_forwards - 1);
		r = sip_edit_replace(e, h->value, slice_cstr(v));
	}
	return r;
}

/* received/rport on the sender's (top) Via, always (RFC 3581). */
static int
fix_via(struct sip_edits *e, const struct sip_msg *m,
    const struct net_addr *src)
{
	struct slice v, rv, span;
	struct sip_via via;
	char ip[NET_ADDR_STRLEN];
	int r;

	if (!nth_value(m, SIP_H_VIA, 0, &v) || sip_via_parse(v, &via) != 0)
		return E_SYNTAX;
	if (net_addr_format_host(src, ip, sizeof(ip)) != 0)
		return E_INVAL;
	if (sip_param(via.params, "received", NULL, &span)) {
		if ((r = sip_edit_delete(e, span)) != 0)
			return r;
	}
	if (sip_param(via.params, "rport", &rv, &span)) {
		if ((r = sip_edit_delete(e, span)) != 0)
			return r;
	}
	return sip_edit_insertf(e, v.p + v.len, ";received=%s;rport=%u", ip,
	    net_addr_port(src));
}

/*
 * Pop our own Route entries (both faces); the token of the last one that
 * has one, *have_tok 1 if that entry is our inside face, 2 if an outside
 * one (a dialog between two outside clients), 0 if none had a token.
 */
static int
pop_routes(struct proxy *px, const struct sip_msg *m, struct sip_edits *e,
    uint64_t flow, uint64_t *tok, int *have_tok, struct slice *next)
{
	struct slice v;
	struct sip_addr a;
	size_t n = 0;

	*have_tok = 0;
	*next = SLICE_NULL;
	while (n < 4 && nth_value(m, SIP_H_ROUTE, n, &v)) {
		if (sip_addr_parse(v, &a) != 0)
			return E_SYNTAX;
		if (!uri_is_us(px, a.uri, flow)) {
			*next = a.uri;
			break;
		}
		if (uri_token(px, a.uri, tok))
			*have_tok = uri_is_inside(px, a.uri) ? 1 : 2;
		n++;
	}
	return n > 0 ? drop_values(e, m, SIP_H_ROUTE, n) : 0;
}

/* The Request-URI for UDP: no transport=tls, no sips: (if allowed). */
static int
inside_ruri(struct proxy *px, const struct sip_msg *m, struct sip_edits *e,
    const struct target *back)
{
	struct sip_uri u;
	struct slice span, v;
	int r;

	if (sip_uri_parse(m->ruri, &u) != 0) {
		reply(px, m, back, 416, NULL);
		return -1;
	}
	if (slice_case_eq_cstr(u.scheme, "sips")) {
		if (!px->conf.allow_sips) {
			/* RFC 5630: sips: means TLS on every hop. */
			reply(px, m, back, 480, NULL);
			return -1;
		}
		if ((r = sip_edit_replace(e, u.scheme, SLICE_LIT("sip"))) != 0)
			return r;
	}
	/* transport=tls is for the outside; udp/tcp are the inside's. */
	if (sip_param(u.params, "transport", &v, &span) &&
	    !slice_case_eq_cstr(v, "udp") && !slice_case_eq_cstr(v, "tcp"))
		return sip_edit_delete(e, span);
	return 0;
}

static int
add_text_top(struct sip_edits *e, const struct sip_msg *m, const char *text)
{
	const uint8_t *at = m->nhdr > 0 ? m->hdr[0].line.p : m->hdr_end.p;

	return sip_edit_insert(e, at, slice_cstr(text));
}

/* REGISTER on the way in: Path or Contact rewrite. */
static int
register_reach(struct proxy *px, const struct sip_msg *m, struct sip_edits *e,
    uint64_t flow, const char *tok, const char *tp)
{
	char line[512];
	long i = -1;
	int r;

	if (px->conf.reach == PROXY_PATH) {
		const struct sip_hdr *sup = sip_find(m, SIP_H_SUPPORTED);
		snprintf(line, sizeof(line), "Path: <sip:%s@%s%s;lr;ob>\r\n",
		    tok, px->in_hp, tp);
		if ((r = add_text_top(e, m, line)) != 0)
			return r;
		if (px->conf.no_path_tag)
			return 0;
		/* Strict-Path registrars (Kamailio's default) answer 420
		 * unless the REGISTER says it supports path. */
		if (sup == NULL)
			return add_text_top(e, m, "Supported: path\r\n");
		{
			struct slice cur = sup->value, v;
			while (sip_value_next(&cur, &v))
				if (slice_case_eq_cstr(v, "path"))
					return 0;
		}
		return sip_edit_insert(e, sup->value.p + sup->value.len,
		    SLICE_LIT(", path"));
	}
	/* Contact rewriting: remember the client's, give ours. */
	while ((i = sip_next(m, SIP_H_CONTACT, (size_t)(i + 1))) >= 0) {
		struct slice cur = m->hdr[i].value, v;
		while (sip_value_next(&cur, &v)) {
			struct sip_addr a;
			if (slice_eq_cstr(v, "*") || sip_addr_parse(v, &a) != 0)
				continue;
			cmap_set(px, flow, a.uri);
			snprintf(line, sizeof(line), "sip:%s@%s%s", tok,
			    px->in_hp, tp);
			if ((r = sip_edit_replace(e, a.uri, slice_cstr(line)))
			    != 0)
				return r;
		}
	}
	return 0;
}

/* ---- outside to outside ---- */

/* For registrar_lookup: is the flow still connected? */
static int
flow_live(void *arg, uint64_t flow)
{
	struct proxy *px = arg;

	return flow_alive(px->flows, flow);
}

/*
 * A request from flow `from` for another client's flow `to`: relayed flow
 * to flow with our Via carrying the sender's token (the answer comes back
 * on `to` and finds `from` by it), and on dialog-forming requests two
 * outside-face Record-Route entries, the callee's token first and the
 * caller's last, so each side's in-dialog requests end on the other's
 * token. Bodies go through the relay as RTP/SAVP on both legs.
 */
static void
flow_to_flow(struct proxy *px, uint64_t from, const struct sip_msg *m,
    struct sip_edits *e, const struct target *back, uint64_t to,
    int gone_code)
{
	struct target t;
	struct net_addr peer;
	char ftok[FLOW_TOKEN_LEN + 1], ttok[FLOW_TOKEN_LEN + 1];
	char fohp[NET_ADDR_STRLEN + 64], tohp[NET_ADDR_STRLEN + 64];
	char branch[BRANCH_MAX], line[1024];

	if (!flow_alive(px->flows, to) ||
	    flow_token(px->flows, to, ttok, sizeof(ttok)) != 0 ||
	    flow_token(px->flows, from, ftok, sizeof(ftok)) != 0 ||
	    flow_addrs(px->flows, from, &peer, NULL) != 0) {
		reply(px, m, back, gone_code, NULL);
		return;
	}
	outside_hp(px, from, fohp, sizeof(fohp));
	outside_hp(px, to, tohp, sizeof(tohp));
	if (fix_via(e, m, &peer) != 0) {
		reply(px, m, back, 400, NULL);
		return;
	}
	/* deterministic, as towards the inside */
	our_branch(m, ftok, branch, sizeof(branch));
	snprintf(line, sizeof(line), "Via: SIP/2.0/TLS %s;branch=%s\r\n", tohp,
	    branch);
	if (add_text_top(e, m, line) != 0)
		return;
	if (dialog_forming(m)) {
		snprintf(line, sizeof(line),
		    "Record-Route: <sip:%s@%s;transport=tls;lr>\r\n"
		    "Record-Route: <sip:%s@%s;transport=tls;lr>\r\n",
		    ttok, tohp, ftok, fohp);
		if (add_text_top(e, m, line) != 0)
			return;
	}
	if (is_method(m, "INVITE"))
		reply(px, m, back, 100, NULL);
	if (px->mc != NULL && is_method(m, "BYE"))
		mediactl_delete(px->mc, m);
	memset(&t, 0, sizeof(t));
	t.to_flow = 1;
	t.flow = to;
	forward(px, m, e, &t, back, LEG_OUT_OUT, slice_cstr(branch), from);
}

/*
 * Does request `m` from flow `from` go to another outside client? In a
 * dialog between two of them (the last of our Route entries popped is an
 * outside face with a token: have_tok 2), or, with the built-in
 * registrar, when it is outside any dialog (or the ACK of a failed
 * INVITE), names no other hop, and its Request-URI user is registered
 * here. Returns 1 when it has been dealt with.
 */
static int
other_flow(struct proxy *px, const struct sip_msg *m, struct sip_edits *e,
    const struct target *back, int have_tok, uint64_t rtok, struct slice next,
    uint64_t from)
{
	const struct sip_hdr *to = sip_find(m, SIP_H_TO);
	struct reg_binding b;
	struct sip_addr ta;
	struct sip_uri ru;
	int r, tagged;

	if (have_tok == 2) {
		flow_to_flow(px, from, m, e, back, rtok, 430);
		return 1;
	}
	if (px->reg == NULL || have_tok || next.len > 0 ||
	    is_method(m, "REGISTER") || sip_uri_parse(m->ruri, &ru) != 0 ||
	    ru.user.len == 0)
		return 0;
	tagged = to != NULL && sip_addr_parse(to->value, &ta) == 0 &&
	    sip_param(ta.params, "tag", NULL, NULL);
	if (tagged && !is_method(m, "ACK"))
		return 0;
	r = registrar_lookup(px->reg, ru.user, ev_now_ms(px->loop), flow_live,
	    px, &b);
	if (r == E_NOTFOUND)
		return 0;	/* not ours: inside, as any other request */
	if (r != 0) {
		reply(px, m, back, 480, NULL);
		return 1;
	}
	if (sip_edit_replace(e, m->ruri, b.uri) != 0)
		return 1;
	flow_to_flow(px, from, m, e, back, b.flow, 480);
	return 1;
}

/* A response from the client of flow `to`'s peer, for flow `to`. */
static void
response_to_flow(struct proxy *px, const struct sip_msg *m, uint64_t to)
{
	struct sip_edits *e;
	struct target t;

	/* 100 Trying is hop by hop (we sent our own). */
	if (m->status == 100 || (e = sip_edits_new()) == NULL)
		return;
	memset(&t, 0, sizeof(t));
	t.to_flow = 1;
	t.flow = to;
	if (drop_values(e, m, SIP_H_VIA, 1) == 0)
		forward(px, m, e, &t, &t, LEG_OUT_OUT, SLICE_NULL, to);
	sip_edits_free(e);
}

static void
request_from_flow(struct proxy *px, uint64_t flow, const struct sip_msg *m)
{
	struct target back = { 1, flow, { .len = 0 }, 0, 0 }, t;
	struct sip_edits *e = sip_edits_new();
	struct net_addr peer;
	char tok[FLOW_TOKEN_LEN + 1], branch[BRANCH_MAX], line[1024];
	char ohp[NET_ADDR_STRLEN + 64];
	struct slice next;
	uint64_t rtok;
	int have_tok;

	px->st.out_req++;
	memset(&t, 0, sizeof(t));
	if (e == NULL || flow_addrs(px->flows, flow, &peer, NULL) != 0 ||
	    flow_token(px->flows, flow, tok, sizeof(tok)) != 0)
		goto out;
	outside_hp(px, flow, ohp, sizeof(ohp));
	if (px->conf.reach == PROXY_REGISTRAR && is_method(m, "REGISTER")) {
		register_local(px, flow, m);
		goto out;
	}
	if (max_forwards(px, m, e, &back) != 0)
		goto out;
	if (pop_routes(px, m, e, flow, &rtok, &have_tok, &next) != 0) {
		reply(px, m, &back, 400, NULL);
		goto out;
	}
	if (px->conf.require_srtp && has_sdp(m) && !is_method(m, "ACK") &&
	    !mediactl_sdp_has_crypto(m->body)) {
		/* The outside leg must be encrypted. */
		reply(px, m, &back, 488, NULL);
		goto out;
	}
	if (other_flow(px, m, e, &back, have_tok, rtok, next, flow))
		goto out;
	if (inside_ruri(px, m, e, &back) != 0)
		goto out;
	/* Next hop: a remaining Route, else upstream, else the R-URI. */
	if (next.len > 0) {
		struct sip_uri u;
		if (sip_uri_parse(next, &u) != 0 || uri_dest(&u, &t.dst) != 0) {
			reply(px, m, &back, 502, NULL);
			goto out;
		}
		t.tcp = uri_tcp(px, next);
	} else if (px->conf.upstream.len != 0) {
		t.dst = px->conf.upstream;
		t.tcp = px->conf.upstream_tcp && px->tcp != NULL;
	} else {
		struct sip_uri u;
		if (sip_uri_parse(m->ruri, &u) != 0 ||
		    uri_dest(&u, &t.dst) != 0 || uri_is_us(px, m->ruri, flow)) {
			reply(px, m, &back, 404, NULL);
			goto out;
		}
		t.tcp = uri_tcp(px, m->ruri);
	}
	if (fix_via(e, m, &peer) != 0) {
		reply(px, m, &back, 400, NULL);
		goto out;
	}
	our_branch(m, tok, branch, sizeof(branch));
	if (is_method(m, "CANCEL"))
		cancel_follows(px, slice_cstr(branch), &t);
	snprintf(line, sizeof(line), "Via: SIP/2.0/%s %s;branch=%s;rport\r\n",
	    t.tcp ? "TCP" : "UDP", px->in_hp, branch);
	if (add_text_top(e, m, line) != 0)
		goto out;
	if (dialog_forming(m)) {
		/* Two entries, one per face: the inside sees its own first. */
		snprintf(line, sizeof(line), "Record-Route: <sip:%s@%s%s;lr>\r\n"
		    "Record-Route: <sip:%s@%s;transport=tls;lr>\r\n",
		    tok, px->in_hp, t.tcp ? ";transport=tcp" : "", tok, ohp);
		if (add_text_top(e, m, line) != 0)
			goto out;
	}
	if (is_method(m, "REGISTER") && register_reach(px, m, e, flow, tok,
	    t.tcp ? ";transport=tcp" : "") != 0)
		goto out;
	if (is_method(m, "INVITE"))
		reply(px, m, &back, 100, NULL);
	if (px->mc != NULL && is_method(m, "BYE"))
		mediactl_delete(px->mc, m);
	dlg_request(px, m, 1, flow);
	forward(px, m, e, &t, &back, 0, slice_cstr(branch), flow);
out:
	sip_edits_free(e);
}

/* The built-in registrar: answer REGISTER, bind AoR -> flow. */
static void
register_local(struct proxy *px, uint64_t flow, const struct sip_msg *m)
{
	struct target back = { 1, flow, { .len = 0 }, 0, 0 };
	struct buf *c = buf_new(REG_MAX_BINDINGS * 1100);
	int r, code;

	if (c == NULL)
		return;
	r = registrar_register(px->reg, m, flow, ev_now_ms(px->loop),
	    px->conf.reg_max_s, c);
	switch (r) {
	case 0:		code = 200; break;
	case E_STATE:	code = 500; break;	/* out-of-order CSeq */
	case E_LIMIT:	code = 503; break;
	case E_BIG:
	case E_NOMEM:	code = 500; break;
	default:	code = 400; break;
	}
	if (r != 0)
		log_msg(px->lg, LOG_INFO, "REGISTER refused: %s",
		    sbk_strerror(r));
	else
		log_msg(px->lg, LOG_DEBUG, "REGISTER: %zu bindings in all",
		    registrar_count(px->reg));
	/* The 200 lists every binding; the client looks for its own. */
	reply(px, m, &back, code, r == 0 && buf_len(c) > 0 ? buf_str(c) :
	    NULL);
	buf_free(c);
}

static void
request_from_inside(struct proxy *px, const struct net_addr *src,
    uint64_t conn, const struct sip_msg *m)
{
	struct target back = { 0, 0, *src, conn != 0, conn }, t;
	struct sip_edits *e = sip_edits_new();
	char tok[FLOW_TOKEN_LEN + 1], branch[BRANCH_MAX], line[1024];
	char ohp[NET_ADDR_STRLEN + 64];
	struct slice next, v;
	struct sip_via via;
	struct sip_uri ru;
	uint64_t flow = 0, h;
	int have_tok = 0, gone_code = 430;

	px->st.in_req++;
	memset(&t, 0, sizeof(t));
	if (e == NULL)
		goto out;
	if (max_forwards(px, m, e, &back) != 0)
		goto out;
	if (pop_routes(px, m, e, 0, &flow, &have_tok, &next) != 0 ||
	    sip_uri_parse(m->ruri, &ru) != 0) {
		reply(px, m, &back, 400, NULL);
		goto out;
	}
	if (next.len > 0 && !have_tok) {
		/* Not for us to route further inside. */
		reply(px, m, &back, 404, NULL);
		goto out;
	}
	if (!have_tok && ru.user.len == FLOW_TOKEN_LEN &&
	    flow_token_check(px->flows, ru.user, &flow) == 0) {
		/* Contact rewriting: back to the client's own Contact. */
		const char *c = cmap_get(px, flow);
		have_tok = 1;
		if (c != NULL && sip_edit_replace(e, m->ruri, slice_cstr(c))
		    != 0)
			goto out;
	}
	if (!have_tok && px->reg != NULL) {
		struct reg_binding b;
		int r = registrar_lookup(px->reg, ru.user, ev_now_ms(px->loop),
		    flow_live, px, &b);

		gone_code = 480;
		if (r != 0) {
			/* Unknown AoR: 404; bindings on dead flows only: 480. */
			reply(px, m, &back, r == E_NOTFOUND ? 404 : gone_code,
			    NULL);
			goto out;
		}
		flow = b.flow;
		have_tok = 1;
		if (sip_edit_replace(e, m->ruri, b.uri) != 0)
			goto out;
	}
	if (!have_tok) {
		reply(px, m, &back, 404, NULL);
		goto out;
	}
	if (!flow_alive(px->flows, flow) ||
	    flow_token(px->flows, flow, tok, sizeof(tok)) != 0) {
		/* RFC 5626: the flow this request must use is gone. A BYE or
		 * CANCEL still ends the call's media: nobody will send
		 * another for it, and the relay may have no media timeout. */
		if (px->mc != NULL &&
		    (is_method(m, "BYE") || is_method(m, "CANCEL")))
			mediactl_delete(px->mc, m);
		reply(px, m, &back, gone_code, NULL);
		goto out;
	}
	t.to_flow = 1;
	t.flow = flow;
	outside_hp(px, flow, ohp, sizeof(ohp));
	if (fix_via(e, m, src) != 0) {
		reply(px, m, &back, 400, NULL);
		goto out;
	}
	(void)nth_value(m, SIP_H_VIA, 0, &v);
	h = hash64_slice(HASH64_INIT, sip_via_parse(v, &via) == 0 ?
	    via.branch : m->call_id);
	snprintf(branch, sizeof(branch), "z9hG4bKsbi.%016llx",
	    (unsigned long long)h);
	snprintf(line, sizeof(line), "Via: SIP/2.0/TLS %s;branch=%s\r\n",
	    ohp, branch);
	if (add_text_top(e, m, line) != 0)
		goto out;
	if (dialog_forming(m)) {
		/* The client (callee) sees its own face first. */
		snprintf(line, sizeof(line),
		    "Record-Route: <sip:%s@%s;transport=tls;lr>\r\n"
		    "Record-Route: <sip:%s@%s%s;lr>\r\n",
		    tok, ohp, tok, px->in_hp, conn != 0 ? ";transport=tcp" : "");
		if (add_text_top(e, m, line) != 0)
			goto out;
	}
	if (px->mc != NULL && is_method(m, "BYE"))
		mediactl_delete(px->mc, m);
	dlg_request(px, m, 0, flow);
	forward(px, m, e, &t, &back, 1, slice_cstr(branch), flow);
out:
	sip_edits_free(e);
}

/* Contact rewriting: the 200 to a REGISTER shows the client's Contact. */
static int
restore_contacts(struct proxy *px, const struct sip_msg *m,
    struct sip_edits *e, uint64_t flow)
{
	const char *orig = cmap_get(px, flow);
	long i = -1;
	int r;

	if (orig == NULL)
		return 0;
	while ((i = sip_next(m, SIP_H_CONTACT, (size_t)(i + 1))) >= 0) {
		struct slice cur = m->hdr[i].value, v;
		while (sip_value_next(&cur, &v)) {
			struct sip_addr a;
			uint64_t f;
			if (sip_addr_parse(v, &a) != 0 ||
			    !uri_token(px, a.uri, &f) || f != flow)
				continue;
			if ((r = sip_edit_replace(e, a.uri, slice_cstr(orig)))
			    != 0)
				return r;
		}
	}
	return 0;
}

static void
response_from_inside(struct proxy *px, const struct sip_msg *m)
{
	struct sip_edits *e = NULL;
	struct slice v;
	struct sip_via via;
	struct sip_uri dummy;
	struct target t;
	char key[BRANCH_MAX + 16];
	struct txn *tx;
	int klen;

	(void)dummy;
	px->st.in_resp++;
	memset(&t, 0, sizeof(t));
	if (nth_value(m, SIP_H_VIA, 0, &v) && sip_via_parse(v, &via) == 0 &&
	    slice_case_eq_cstr(via.sent_by, px->in_hp) &&
	    own_response(px, m, via.branch))
		return;
	if (!nth_value(m, SIP_H_VIA, 0, &v) || sip_via_parse(v, &via) != 0 ||
	    !slice_case_eq_cstr(via.sent_by, px->in_hp) ||
	    via.branch.len < 7 + FLOW_TOKEN_LEN ||
	    flow_token_check(px->flows, slice_make(via.branch.p + 7,
	    FLOW_TOKEN_LEN), &t.flow) != 0) {
		px->st.dropped++;
		log_msg(px->lg, LOG_DEBUG, "response not for us: dropped");
		return;
	}
	t.to_flow = 1;
	klen = txn_key(m, via.branch, key, sizeof(key));
	if (klen > 0 && (tx = *txn_find(px, slice_make(key, (size_t)klen)))
	    != NULL) {
		tx->got_resp = 1;
		if (m->status >= 200)
			txn_free(px, tx);
	}
	/* 100 Trying is hop by hop (we sent our own). */
	if (m->status == 100)
		return;
	if ((e = sip_edits_new()) == NULL)
		return;
	if (drop_values(e, m, SIP_H_VIA, 1) != 0)
		goto out;
	if (px->conf.reach == PROXY_CONTACT &&
	    slice_eq_cstr(m->cseq_method, "REGISTER") &&
	    restore_contacts(px, m, e, t.flow) != 0)
		goto out;
	dlg_response(px, m, 0, t.flow);
	forward(px, m, e, &t, &t, 1, SLICE_NULL, t.flow);
out:
	sip_edits_free(e);
}

static void
response_from_flow(struct proxy *px, uint64_t flow, const struct sip_msg *m)
{
	struct sip_edits *e = NULL;
	struct slice v, rp, rc;
	struct sip_via via;
	struct target t;

	px->st.out_resp++;
	memset(&t, 0, sizeof(t));
	/* For another outside client: our branch carries its flow token. */
	if (nth_value(m, SIP_H_VIA, 0, &v) && sip_via_parse(v, &via) == 0 &&
	    via.branch.len > 7 + FLOW_TOKEN_LEN && flow_token_check(px->flows,
	    slice_make(via.branch.p + 7, FLOW_TOKEN_LEN), &t.flow) == 0) {
		response_to_flow(px, m, t.flow);
		return;
	}
	if (!nth_value(m, SIP_H_VIA, 0, &v) || sip_via_parse(v, &via) != 0 ||
	    !(via.branch.len > 11 && memcmp(via.branch.p, "z9hG4bKsbi.", 11)
	    == 0)) {
		px->st.dropped++;
		log_bad(px, 1, flow, NULL, "response with a foreign Via",
		    E_NOTFOUND);
		return;
	}
	/* Back to the sender of the request, by its received/rport. */
	if (!nth_value(m, SIP_H_VIA, 1, &v) || sip_via_parse(v, &via) != 0) {
		px->st.dropped++;
		return;
	}
	{
		uint16_t port = via.port ? via.port : 5060;
		uint64_t p;
		struct slice host = via.host;
		if (sip_param(via.params, "rport", &rp, NULL) && rp.len > 0 &&
		    slice_to_u64(rp, 65535, &p) == 0 && p > 0)
			port = (uint16_t)p;
		if (sip_param(via.params, "received", &rc, NULL) && rc.len > 0)
			host = rc;
		if (net_addr_parse_host(host, port, &t.dst) != 0) {
			px->st.dropped++;
			return;
		}
		/* RFC 3261 §18.2.2: over TCP, the request's connection, else
		 * a new one to the sent-by port. */
		if (px->tcp != NULL && slice_case_eq_cstr(via.transport, "TCP")) {
			t.tcp = 1;
			if (tcpconn_find(px->tcp, &t.dst, &t.conn) != 0)
				net_addr_set_port(&t.dst, via.port ? via.port :
				    5060);
		}
	}
	if ((e = sip_edits_new()) == NULL)
		return;
	dlg_response(px, m, 1, flow);
	if (drop_values(e, m, SIP_H_VIA, 1) == 0)
		forward(px, m, e, &t, &t, 0, SLICE_NULL, flow);
	sip_edits_free(e);
}

void
proxy_from_flow(struct proxy *px, uint64_t flow, struct slice raw)
{
	struct sip_msg m;
	int r = sip_parse(&m, raw);

	if (r != 0) {
		struct target back = { 1, flow, { .len = 0 }, 0, 0 };
		log_bad(px, 1, flow, NULL, "malformed SIP", r);
		/* Answer what can be answered; responses are dropped. */
		if (m.is_request && m.call_id.len > 0 && m.cseq_method.len > 0 &&
		    sip_find(&m, SIP_H_VIA) != NULL)
			reply(px, &m, &back, 400, NULL);
		return;
	}
	if (m.is_request)
		request_from_flow(px, flow, &m);
	else
		response_from_flow(px, flow, &m);
}

static void
from_inside(struct proxy *px, const struct net_addr *src, uint64_t conn,
    struct slice raw)
{
	struct sip_msg m;
	int r;

	/* Keep-alives and stray CRLFs on UDP. */
	if (raw.len <= 4)
		return;
	r = sip_parse(&m, raw);
	if (r != 0) {
		struct target back = { 0, 0, *src, conn != 0, conn };
		log_bad(px, 0, 0, src, "malformed SIP", r);
		if (m.is_request && m.call_id.len > 0 && m.cseq_method.len > 0 &&
		    sip_find(&m, SIP_H_VIA) != NULL)
			reply(px, &m, &back, 400, NULL);
		return;
	}
	if (m.is_request)
		request_from_inside(px, src, conn, &m);
	else
		response_from_inside(px, &m);
}

static void
udp_event(struct ev_loop *loop, int fd, unsigned ev, void *arg)
{
	struct proxy *px = arg;
	int n;

	(void)loop;
	(void)ev;
	for (n = 0; n < 64; n++) {
		struct net_pkt p;

		memset(&p, 0, sizeof(p));
		p.buf = px->rbuf;
		p.cap = sizeof(px->rbuf);
		if (net_recv(fd, &p) != 0)
			return;
		if (p.trunc)
			continue;
		from_inside(px, &p.addr, 0, slice_make(p.buf, p.len));
	}
}

/* ---- inside TCP ---- */

static int
send_tcp(struct proxy *px, struct target *t, struct slice b)
{
	int r;

	if (px->tcp == NULL)
		r = E_STATE;
	else if (t->conn != 0)
		r = tcpconn_send_conn(px->tcp, t->conn, b.p, b.len);
	else
		r = tcpconn_send(px->tcp, &t->dst, b.p, b.len, &t->conn);
	if (r != 0) {
		px->st.dropped++;
		log_msg(px->lg, LOG_INFO, "inside: tcp send: %s",
		    sbk_strerror(r));
	}
	return r;
}

/* Does this next-hop URI ask for TCP (and do we have it)? */
static int
uri_tcp(struct proxy *px, struct slice uri)
{
	struct sip_uri u;
	struct slice v;

	return px->tcp != NULL && sip_uri_parse(uri, &u) == 0 &&
	    sip_param(u.params, "transport", &v, NULL) &&
	    slice_case_eq_cstr(v, "tcp");
}

/* A CANCEL goes where its INVITE went, on the same transport. */
static void
cancel_follows(struct proxy *px, struct slice branch, struct target *t)
{
	char key[BRANCH_MAX + 16];
	int k = snprintf(key, sizeof(key), "%.*s INVITE", (int)branch.len,
	    (const char *)branch.p);
	struct txn *tx;

	if (k <= 0 || (size_t)k >= sizeof(key))
		return;
	if ((tx = *txn_find(px, slice_make(key, (size_t)k))) != NULL) {
		t->dst = tx->dst;
		t->tcp = tx->tcp;
		t->conn = 0;
	}
}

/* One of our own inside URIs: a flow token at our inside host:port. */
static int
our_inside_uri(struct proxy *px, struct slice uri, struct sip_uri *u)
{
	uint64_t f;

	return sip_uri_parse(uri, u) == 0 &&
	    slice_case_eq_cstr(u->host, px->in_host) &&
	    (u->port ? u->port : 5060) == px->in_port && uri_token(px, uri, &f);
}

/*
 * Rewrite a request we built for the inside to another transport: our
 * (top) Via says TCP or UDP, and our own Record-Route, Path and Contact
 * entries get or lose ";transport=tcp". Appends the result to `out`.
 */
static int
retransport(struct proxy *px, struct slice msg, int tcp, struct buf *out)
{
	static const enum sip_hid ids[] = {
		SIP_H_RECORD_ROUTE, SIP_H_PATH, SIP_H_CONTACT
	};
	struct sip_msg m;
	struct sip_edits *e;
	struct sip_via via;
	struct slice v;
	size_t k;
	int r;

	if ((r = sip_parse(&m, msg)) != 0)
		return r;
	if (!m.is_request || !nth_value(&m, SIP_H_VIA, 0, &v) ||
	    sip_via_parse(v, &via) != 0 ||
	    !slice_case_eq_cstr(via.sent_by, px->in_hp))
		return E_INVAL;
	if ((e = sip_edits_new()) == NULL)
		return E_NOMEM;
	r = sip_edit_replace(e, via.transport, tcp ? SLICE_LIT("TCP") :
	    SLICE_LIT("UDP"));
	for (k = 0; r == 0 && k < sizeof(ids) / sizeof(ids[0]); k++) {
		long i = -1;

		while (r == 0 && (i = sip_next(&m, ids[k], (size_t)(i + 1)))
		    >= 0) {
			struct slice cur = m.hdr[i].value, val, span;
			while (r == 0 && sip_value_next(&cur, &val)) {
				struct sip_addr a;
				struct sip_uri u;
				int has;

				if (sip_addr_parse(val, &a) != 0 ||
				    !our_inside_uri(px, a.uri, &u))
					continue;
				has = sip_param(u.params, "transport", NULL,
				    &span);
				if (tcp && !has)
					r = sip_edit_insert(e, u.params.len > 0 ?
					    u.params.p : u.headers.len > 0 ?
					    u.headers.p - 1 : a.uri.p + a.uri.len,
					    SLICE_LIT(";transport=tcp"));
				else if (!tcp && has)
					r = sip_edit_delete(e, span);
			}
		}
	}
	if (r == 0)
		r = sip_edits_apply(e, &m, out);
	sip_edits_free(e);
	return r;
}

/* A request could not go inside over TCP: the client gets a 503. */
static void
tcp_failed(struct proxy *px, uint64_t flow, struct slice orig)
{
	struct target back = { 1, flow, { .len = 0 }, 0, 0 };
	struct sip_msg m;

	if (flow == 0 || sip_parse(&m, orig) != 0)
		return;
	log_msg(px->lg, LOG_INFO, "inside TCP connection failed: 503");
	if (px->mc != NULL)
		mediactl_delete(px->mc, &m);
	reply(px, &m, &back, 503, NULL);
}

void
proxy_set_tcp(struct proxy *px, struct tcpconn_table *tc)
{
	px->tcp = tc;
}

void
proxy_from_tcp(struct proxy *px, uint64_t conn, const struct net_addr *src,
    struct slice msg)
{
	from_inside(px, src, conn, msg);
}

void
proxy_tcp_closed(struct proxy *px, uint64_t conn, const struct net_addr *peer,
    int err)
{
	struct txn *t, *next;
	size_t i;

	(void)conn;
	/* A connection that was up: its transactions wait for an answer
	 * (the peer may open a new connection) or their 408. */
	if (err == 0)
		return;
	for (i = 0; i < TXN_BUCKETS; i++) {
		for (t = px->txn[i]; t != NULL; t = next) {
			next = t->next;
			if (!t->tcp || t->got_resp || !net_addr_eq(&t->dst, peer))
				continue;
			if (t->udp_alt == NULL) {
				tcp_failed(px, t->flow, buf_slice(t->orig));
				txn_free(px, t);
				continue;
			}
			/* RFC 3261 §18.1.1: moved to TCP for its size, and
			 * the connection was refused: UDP after all. */
			log_msg(px->lg, LOG_INFO, "inside TCP refused: UDP");
			buf_free(t->fwd);
			t->fwd = t->udp_alt;
			t->udp_alt = NULL;
			t->tcp = 0;
			send_inside(px, &t->dst, buf_slice(t->fwd));
			if (t->timer > 0)
				(void)ev_timer_del(px->loop, (uint64_t)t->timer);
			t->interval = px->conf.t1_ms;
			t->timer = ev_timer_add(px->loop, t->interval, txn_timer,
			    t);
		}
	}
}

/* ---- ending the dialogs of a lost flow (--bye-on-loss) ---- */

#define OWN_BRANCH "z9hG4bKsbye."

static int
dlg_is_us(void *arg, struct slice uri, uint64_t flow)
{
	return uri_is_us(arg, uri, flow);
}

static void
dlg_request(struct proxy *px, const struct sip_msg *m, int from_outside,
    uint64_t flow)
{
	int r;

	if (px->dlg == NULL)
		return;
	r = dialog_request(px->dlg, m, from_outside, flow, ev_now_ms(px->loop));
	if (r != 0 && r != E_SYNTAX)
		log_msg(px->lg, LOG_INFO, "dialog not followed: %s",
		    sbk_strerror(r));
}

static void
dlg_response(struct proxy *px, const struct sip_msg *m, int from_outside,
    uint64_t flow)
{
	int r;

	if (px->dlg == NULL)
		return;
	r = dialog_response(px->dlg, m, from_outside, flow,
	    ev_now_ms(px->loop));
	if (r != 0 && r != E_SYNTAX)
		log_msg(px->lg, LOG_INFO, "dialog not followed: %s",
		    sbk_strerror(r));
}

/*
 * The BYE of a lost flow's dialog: to the first Route, else the upstream,
 * else the remote target (the rule for requests from the flow), over UDP
 * with retransmissions (timers E and F) or TCP, as a transaction of our
 * own whose answer ends here.
 */
static void
bye_for_lost(void *arg, const struct dialog *d)
{
	struct proxy *px = arg;
	struct target t;
	struct sip_uri u;
	struct sip_msg m;
	struct buf *b = NULL;
	uint8_t rb[8];
	char branch[BRANCH_MAX], via[BRANCH_MAX + NET_ADDR_STRLEN + 64];
	char key[BRANCH_MAX + 16];
	struct slice hop;
	struct txn *tx;
	int routed, klen;

	memset(&t, 0, sizeof(t));
	hop = dialog_next_hop(d, &routed);
	if (routed || px->conf.upstream.len == 0) {
		if (sip_uri_parse(hop, &u) != 0 || uri_dest(&u, &t.dst) != 0)
			goto fail;
		t.tcp = uri_tcp(px, hop);
	} else {
		t.dst = px->conf.upstream;
		t.tcp = px->conf.upstream_tcp && px->tcp != NULL;
	}
	if (rnd_bytes(rb, sizeof(rb)) != 0)
		goto fail;
	snprintf(branch, sizeof(branch), OWN_BRANCH
	    "%02x%02x%02x%02x%02x%02x%02x%02x", rb[0], rb[1], rb[2], rb[3],
	    rb[4], rb[5], rb[6], rb[7]);
	snprintf(via, sizeof(via), "SIP/2.0/%s %s;branch=%s;rport",
	    t.tcp ? "TCP" : "UDP", px->in_hp, branch);
	if ((b = buf_new(MAX_SIP)) == NULL || dialog_bye(d, via, b) != 0 ||
	    sip_parse(&m, buf_slice(b)) != 0)
		goto fail;
	/* The relay's call ends with it (From tag: the whole call). */
	if (px->mc != NULL)
		mediactl_delete(px->mc, &m);
	px->st.byes++;
	if (deliver(px, &t, buf_slice(b)) == 0 &&
	    (klen = txn_key(&m, slice_cstr(branch), key, sizeof(key))) > 0 &&
	    (tx = txn_start(px, slice_make(key, (size_t)klen), 0, &t,
	    buf_slice(b), buf_slice(b), 0, SLICE_NULL)) != NULL)
		tx->own = 1;
	log_msg(px->lg, LOG_DEBUG, "BYE for lost flow, call %.*s",
	    (int)dialog_call_id(d).len, (const char *)dialog_call_id(d).p);
	buf_free(b);
	return;
fail:
	buf_free(b);
	log_msg(px->lg, LOG_WARN, "flow lost: no BYE for call %.*s",
	    (int)dialog_call_id(d).len, (const char *)dialog_call_id(d).p);
}

/* An answer to one of our own BYEs: 1 (dealt with), else 0. */
static int
own_response(struct proxy *px, const struct sip_msg *m, struct slice branch)
{
	char key[BRANCH_MAX + 16];
	struct txn *tx;
	int klen;

	if (branch.len < sizeof(OWN_BRANCH) - 1 ||
	    memcmp(branch.p, OWN_BRANCH, sizeof(OWN_BRANCH) - 1) != 0)
		return 0;
	klen = txn_key(m, branch, key, sizeof(key));
	if (klen > 0 && (tx = *txn_find(px, slice_make(key, (size_t)klen)))
	    != NULL) {
		tx->got_resp = 1;
		if (m->status >= 200) {
			log_msg(px->lg, LOG_INFO, "BYE for lost flow: %d %.*s",
			    m->status, (int)m->reason.len,
			    (const char *)m->reason.p);
			txn_free(px, tx);
		}
	}
	return 1;
}

static void
dlg_sweep(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct proxy *px = arg;

	(void)id;
	(void)dialog_expire(px->dlg, ev_now_ms(loop));
	px->dlg_timer = ev_timer_add(loop, 10000, dlg_sweep, px);
}

static void
reg_sweep(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct proxy *px = arg;

	(void)id;
	(void)registrar_expire(px->reg, ev_now_ms(loop));
	px->reg_timer = ev_timer_add(loop, 10000, reg_sweep, px);
}

struct proxy *
proxy_new(struct ev_loop *loop, struct flow_table *flows, int udp_fd,
    const struct proxy_conf *conf, const struct logger *lg, int *err)
{
	struct proxy *px = calloc(1, sizeof(*px));
	struct net_addr bound;
	int r;

	*err = E_NOMEM;
	if (px == NULL)
		return NULL;
	px->loop = loop;
	px->flows = flows;
	px->udp_fd = udp_fd;
	px->conf = *conf;
	px->lg = lg;
	if (px->conf.t1_ms == 0)
		px->conf.t1_ms = 500;
	if (px->conf.timeout_ms == 0)
		px->conf.timeout_ms = 32000;
	if (px->conf.reg_max_s == 0)
		px->conf.reg_max_s = 3600;
	if (px->conf.max_regs == 0)
		px->conf.max_regs = 100000;
	if (px->conf.max_txns == 0)
		px->conf.max_txns = 100000;
	/* Our inside face as others must write it (the bound port). */
	bound = conf->inside;
	if (net_addr_port(&bound) == 0 && net_local_addr(udp_fd, &bound) == 0)
		net_addr_set_port(&px->conf.inside,
		    net_addr_port(&bound));
	px->in_port = net_addr_port(&px->conf.inside);
	uri_host(&px->conf.inside, px->in_host, sizeof(px->in_host));
	snprintf(px->in_hp, sizeof(px->in_hp), "%s:%u", px->in_host,
	    px->in_port);
	if (conf->reach == PROXY_REGISTRAR) {
		if ((px->reg = registrar_new(px->conf.max_regs)) == NULL) {
			free(px);
			return NULL;
		}
		px->reg_timer = ev_timer_add(loop, 10000, reg_sweep, px);
	}
	if (conf->bye_on_loss) {
		struct dialog_conf dc;

		memset(&dc, 0, sizeof(dc));
		dc.max = conf->max_dialogs;
		dc.is_us = dlg_is_us;
		dc.arg = px;
		if ((px->dlg = dialog_table_new(&dc, &r)) == NULL) {
			registrar_free(px->reg);
			free(px);
			*err = r;
			return NULL;
		}
		px->dlg_timer = ev_timer_add(loop, 10000, dlg_sweep, px);
	}
	if ((r = ev_fd_add(loop, udp_fd, EV_READ, udp_event, px)) != 0) {
		if (px->dlg_timer > 0)
			(void)ev_timer_del(loop, (uint64_t)px->dlg_timer);
		dialog_table_free(px->dlg);
		registrar_free(px->reg);
		free(px);
		*err = r;
		return NULL;
	}
	*err = 0;
	return px;
}

void
proxy_free(struct proxy *px)
{
	size_t i;

	if (px == NULL)
		return;
	/* First: dropping the contact map below must send no BYEs. */
	if (px->dlg_timer > 0)
		(void)ev_timer_del(px->loop, (uint64_t)px->dlg_timer);
	dialog_table_free(px->dlg);
	px->dlg = NULL;
	for (i = 0; i < TXN_BUCKETS; i++)
		while (px->txn[i] != NULL)
			txn_free(px, px->txn[i]);
	for (i = 0; i < CMAP_BUCKETS; i++)
		while (px->cmap[i] != NULL)
			proxy_flow_closed(px, px->cmap[i]->flow);
	if (px->reg_timer > 0)
		(void)ev_timer_del(px->loop, (uint64_t)px->reg_timer);
	registrar_free(px->reg);
	(void)ev_fd_del(px->loop, px->udp_fd);
	close(px->udp_fd);
	free(px);
}

void
proxy_set_media(struct proxy *px, struct mediactl *mc)
{
	px->mc = mc;
}

void
proxy_stats(const struct proxy *px, struct proxy_stats *st)
{
	*st = px->st;
	st->txns = px->ntxn;
	st->regs = px->reg != NULL ? registrar_count(px->reg) : 0;
	st->dialogs = px->dlg != NULL ? dialog_confirmed(px->dlg) : 0;
}
