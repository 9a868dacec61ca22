/* cap.c - capture frames: libpcap I/O, link/IP/UDP/TCP decode, fragments. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "base/be.h"
#include "cap/cap.h"

#define PROTO_HOPOPTS 0
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_AH 51
#define PROTO_DSTOPTS 60
#define PROTO_MOBILITY 135

#define ETH_IP4 0x0800
#define ETH_IP6 0x86dd

#define CAP_IO_BUF (1u << 20)	/* stdio buffer for capture files */

/* Offset of the cursor `s` from the start of `frame`. */
static size_t
off_of(const uint8_t *frame, struct slice s)
{
	return (size_t)(s.p - frame);
}

static int
decode_transport(struct cap_pkt *pkt, uint8_t proto, struct slice s,
    const uint8_t *frame)
{
	struct slice h;
	uint16_t sport, dport, ulen;
	uint8_t doff;
	int r;

	pkt->proto = proto;
	if (proto == PROTO_UDP) {
		if ((r = slice_take(&s, 8, &h)) != 0)
			return r;
		sport = be16(h.p);
		dport = be16(h.p + 2);
		ulen = be16(h.p + 4);
		if (ulen < 8)
			return E_SYNTAX;
		if ((size_t)ulen - 8 > s.len)
			return E_SHORT;
		pkt->kind = CAP_UDP;
		pkt->l4_off = frame != NULL ? off_of(frame, h) : 0;
		pkt->src.port = sport;
		pkt->dst.port = dport;
		pkt->udp_sum = be16(h.p + 6);
		pkt->payload = slice_make(s.p, (size_t)ulen - 8);
		return 0;
	}
	if (proto == PROTO_TCP) {
		if (s.len < 20)
			return E_SHORT;
		doff = (uint8_t)(s.p[12] >> 4);
		if (doff < 5)
			return E_SYNTAX;
		if ((r = slice_take(&s, (size_t)doff * 4, &h)) != 0)
			return r;
		pkt->kind = CAP_TCP;
		pkt->l4_off = frame != NULL ? off_of(frame, h) : 0;
		pkt->src.port = be16(h.p);
		pkt->dst.port = be16(h.p + 2);
		pkt->tcp_seq = ((uint32_t)h.p[4] << 24) | ((uint32_t)h.p[5] << 16) |
		    ((uint32_t)h.p[6] << 8) | h.p[7];
		pkt->tcp_flags = h.p[13];
		pkt->payload = s;
		return 0;
	}
	pkt->kind = CAP_OTHER;
	return 0;
}

static int
decode_ip4(struct cap_pkt *pkt, struct slice s, const uint8_t *frame)
{
	struct slice h;
	size_t hlen, tlen;
	uint16_t fo;
	int r;

	if (s.len < 20)
		return E_SHORT;
	if ((s.p[0] >> 4) != 4)
		return E_SYNTAX;
	hlen = (size_t)(s.p[0] & 0x0f) * 4;
	tlen = be16(s.p + 2);
	if (hlen < 20 || tlen < hlen)
		return E_SYNTAX;
	if (tlen > s.len)
		return E_SHORT;
	pkt->ipver = 4;
	pkt->l3_off = off_of(frame, s);
	pkt->ip_end = pkt->l3_off + tlen;
	pkt->src.family = pkt->dst.family = 4;
	memcpy(pkt->src.a, s.p + 12, 4);
	memcpy(pkt->dst.a, s.p + 16, 4);
	pkt->proto = s.p[9];
	fo = be16(s.p + 6);
	s.len = tlen;
	if ((r = slice_take(&s, hlen, &h)) != 0)
		return r;
	if ((fo & 0x3fff) != 0) {
		pkt->kind = CAP_FRAG;
		pkt->frag_id = be16(h.p + 4);
		pkt->frag_off = (uint32_t)(fo & 0x1fff) * 8;
		pkt->frag_more = (fo & 0x2000) != 0;
		pkt->frag_hdr_off = pkt->l3_off;
		pkt->frag_data = s;
		return 0;
	}
	return decode_transport(pkt, pkt->proto, s, frame);
}

/*
 * Walk IPv6 extension headers starting with `next` over `s`; stops at the
 * first header that is not an extension header, or at a fragment header
 * (returned with *frag pointing at it).
 */
static int
walk_ip6_ext(uint8_t *next, struct slice *s, const uint8_t **frag)
{
	size_t n, i;
	int r;

	*frag = NULL;
	for (i = 0; i < CAP_IP6_EXT_MAX; i++) {
		switch (*next) {
		case PROTO_HOPOPTS:
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
		case PROTO_MOBILITY:
			if (s->len < 2)
				return E_SHORT;
			n = ((size_t)s->p[1] + 1) * 8;
			break;
		case PROTO_AH:
			if (s->len < 2)
				return E_SHORT;
			n = ((size_t)s->p[1] + 2) * 4;
			break;
		case PROTO_FRAGMENT:
			if (s->len < 8)
				return E_SHORT;
			*frag = s->p;
			return 0;
		default:
			return 0;
		}
		if (s->len < n)
			return E_SHORT;
		*next = s->p[0];
		if ((r = slice_skip(s, n)) != 0)
			return r;
	}
	return E_UNSUPPORTED;
}

static int
decode_ip6(struct cap_pkt *pkt, struct slice s, const uint8_t *frame)
{
	const uint8_t *fh;
	size_t plen;
	uint16_t fo;
	uint8_t next;
	int r;

	if (s.len < 40)
		return E_SHORT;
	if ((s.p[0] >> 4) != 6)
		return E_SYNTAX;
	plen = be16(s.p + 4);
	if (plen == 0)		/* jumbogram or garbage: not ours */
		return E_UNSUPPORTED;
	if (plen > s.len - 40)
		return E_SHORT;
	pkt->ipver = 6;
	pkt->l3_off = off_of(frame, s);
	pkt->ip_end = pkt->l3_off + 40 + plen;
	pkt->src.family = pkt->dst.family = 6;
	memcpy(pkt->src.a, s.p + 8, 16);
	memcpy(pkt->dst.a, s.p + 24, 16);
	next = s.p[6];
	s.len = 40 + plen;
	if ((r = slice_skip(&s, 40)) != 0)
		return r;
	if ((r = walk_ip6_ext(&next, &s, &fh)) != 0)
		return r;
	if (fh != NULL) {
		fo = be16(fh + 2);
		pkt->proto = fh[0];
		if ((r = slice_skip(&s, 8)) != 0)
			return r;
		if ((fo & 0xfff9) == 0) {	/* atomic fragment */
			next = fh[0];
			if ((r = walk_ip6_ext(&next, &s, &fh)) != 0)
				return r;
			if (fh != NULL)
				return E_SYNTAX;
			return decode_transport(pkt, next, s, frame);
		}
		pkt->kind = CAP_FRAG;
		pkt->frag_id = ((uint32_t)fh[4] << 24) |
		    ((uint32_t)fh[5] << 16) | ((uint32_t)fh[6] << 8) | fh[7];
		pkt->frag_off = fo & 0xfff8;
		pkt->frag_more = fo & 1;
		pkt->frag_hdr_off = (size_t)(fh - frame);
		pkt->frag_data = s;
		return 0;
	}
	return decode_transport(pkt, next, s, frame);
}

static int
decode_ip(struct cap_pkt *pkt, struct slice s, const uint8_t *frame)
{
	if (s.len < 1)
		return E_SHORT;
	switch (s.p[0] >> 4) {
	case 4:
		return decode_ip4(pkt, s, frame);
	case 6:
		return decode_ip6(pkt, s, frame);
	default:
		return E_SYNTAX;
	}
}

/* An ethertype after the link header, possibly behind VLAN tags. */
static int
decode_ethertype(struct cap_pkt *pkt, uint16_t type, struct slice s,
    const uint8_t *frame)
{
	int i, r;

	for (i = 0; i < CAP_VLAN_MAX &&
	    (type == 0x8100 || type == 0x88a8 || type == 0x9100); i++) {
		if ((r = slice_skip(&s, 2)) != 0 ||
		    (r = slice_be16(&s, &type)) != 0)
			return r;
	}
	if (type == ETH_IP4)
		return decode_ip4(pkt, s, frame);
	if (type == ETH_IP6)
		return decode_ip6(pkt, s, frame);
	pkt->kind = CAP_OTHER;
	return 0;
}

int
cap_decode(int dlt, const uint8_t *frame, size_t len, struct cap_pkt *pkt)
{
	struct slice s = slice_make(frame, len);
	uint32_t af, afs;
	uint16_t type;
	int r;

	memset(pkt, 0, sizeof(*pkt));
	switch (dlt) {
	case CAP_DLT_EN10MB:
		if ((r = slice_skip(&s, 12)) != 0 ||
		    (r = slice_be16(&s, &type)) != 0)
			return r;
		return decode_ethertype(pkt, type, s, frame);
	case CAP_DLT_LINUX_SLL:
		if ((r = slice_skip(&s, 14)) != 0 ||
		    (r = slice_be16(&s, &type)) != 0)
			return r;
		return decode_ethertype(pkt, type, s, frame);
	case CAP_DLT_LINUX_SLL2:
		if ((r = slice_be16(&s, &type)) != 0 ||
		    (r = slice_skip(&s, 18)) != 0)
			return r;
		return decode_ethertype(pkt, type, s, frame);
	case CAP_DLT_NULL:
	case CAP_DLT_LOOP:
		/* The address family, in the capturing host's byte order
		 * (NULL) or network order (LOOP): accept either. */
		if ((r = slice_be32(&s, &af)) != 0)
			return r;
		afs = __builtin_bswap32(af);
		if (af == 2 || afs == 2)
			return decode_ip4(pkt, s, frame);
		if (af == 10 || af == 24 || af == 28 || af == 30 ||
		    afs == 10 || afs == 24 || afs == 28 || afs == 30)
			return decode_ip6(pkt, s, frame);
		pkt->kind = CAP_OTHER;
		return 0;
	case CAP_DLT_RAW:
	case CAP_DLT_RAW_BSD:
		return decode_ip(pkt, s, frame);
	case CAP_DLT_IPV4:
		return decode_ip4(pkt, s, frame);
	case CAP_DLT_IPV6:
		return decode_ip6(pkt, s, frame);
	default:
		return E_UNSUPPORTED;
	}
}

int
cap_decode_l4(const struct cap_pkt *first, uint8_t next, struct slice ipp,
    struct cap_pkt *out)
{
	const uint8_t *fh;
	int r;

	*out = *first;
	out->kind = CAP_OTHER;
	out->payload = SLICE_NULL;
	out->frag_data = SLICE_NULL;
	if (first->ipver == 6) {
		if ((r = walk_ip6_ext(&next, &ipp, &fh)) != 0)
			return r;
		if (fh != NULL)
			return E_SYNTAX;
	}
	return decode_transport(out, next, ipp, NULL);
}

const char *
cap_dlt_name(int dlt)
{
	switch (dlt) {
	case CAP_DLT_NULL: return "null";
	case CAP_DLT_EN10MB: return "ethernet";
	case CAP_DLT_RAW: case CAP_DLT_RAW_BSD: return "raw";
	case CAP_DLT_LOOP: return "loop";
	case CAP_DLT_LINUX_SLL: return "linux-sll";
	case CAP_DLT_IPV4: return "ipv4";
	case CAP_DLT_IPV6: return "ipv6";
	case CAP_DLT_LINUX_SLL2: return "linux-sll2";
	default: return "unknown";
	}
}

/* --- checksums --- */

static uint64_t
sum_bytes(uint64_t sum, const uint8_t *p, size_t len)
{
	uint32_t w;

	while (len >= 4) {
		memcpy(&w, p, 4);
		sum += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t h;

		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = { p[0], 0 };
		uint16_t h;

		memcpy(&h, last, 2);
		sum += h;
	}
	return sum;
}

/* Fold a sum of native-order words into a network-order checksum. */
static uint16_t
fold(uint64_t sum)
{
	uint16_t h;
	uint8_t b[2];

	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	h = (uint16_t)~sum;
	memcpy(b, &h, 2);
	return be16(b);
}

/* The checksum over the pseudo header of `p` and `len` bytes at `l4`. */
static uint16_t
l4_checksum(const struct cap_pkt *p, uint8_t proto, const uint8_t *l4,
    size_t len)
{
	uint8_t ph[4] = { 0, proto, (uint8_t)(len >> 8), (uint8_t)len };
	uint64_t sum = 0;

	if (p->ipver == 4) {
		sum = sum_bytes(sum, p->src.a, 4);
		sum = sum_bytes(sum, p->dst.a, 4);
	} else {
		sum = sum_bytes(sum, p->src.a, 16);
		sum = sum_bytes(sum, p->dst.a, 16);
		uint8_t ph6[8] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16),
		    (uint8_t)(len >> 8), (uint8_t)len, 0, 0, 0, proto };
		sum = sum_bytes(sum, ph6, 8);
		return fold(sum_bytes(sum, l4, len));
	}
	sum = sum_bytes(sum, ph, 4);
	return fold(sum_bytes(sum, l4, len));
}

uint16_t
cap_udp_checksum(const struct cap_pkt *p, const uint8_t *udp, size_t len)
{
	uint16_t c = l4_checksum(p, PROTO_UDP, udp, len);

	return c == 0 ? 0xffff : c;	/* 0 means none in UDP */
}

int
cap_fix_tcp_checksum(uint8_t *frame, size_t len, const struct cap_pkt *p)
{
	uint8_t *t;
	size_t tl;

	if (p->kind != CAP_TCP || p->ip_end > len || p->l4_off + 20 > p->ip_end)
		return E_INVAL;
	t = frame + p->l4_off;
	tl = p->ip_end - p->l4_off;
	put_be16(t + 16, 0);
	put_be16(t + 16, l4_checksum(p, PROTO_TCP, t, tl));
	return 0;
}

static void
ip4_fix(uint8_t *ip, size_t tlen)
{
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4;

	put_be16(ip + 2, (uint16_t)tlen);
	put_be16(ip + 10, 0);
	put_be16(ip + 10, fold(sum_bytes(0, ip, hlen)));
}

int
cap_rewrite_udp(const uint8_t *frame, size_t len, const struct cap_pkt *p,
    const uint8_t *pl, size_t pllen, uint8_t *out, size_t outsz,
    size_t *outlen)
{
	size_t head = p->l4_off + 8, tail, ulen, n;
	uint8_t *u;

	if (p->kind != CAP_UDP || p->ip_end > len || head > p->ip_end)
		return E_INVAL;
	tail = len - p->ip_end;
	ulen = 8 + pllen;
	if (ulen > 0xffff || p->l4_off + ulen - p->l3_off > 0xffff)
		return E_RANGE;
	n = head + pllen + tail;
	if (n > outsz)
		return E_BIG;
	memcpy(out, frame, head);
	memcpy(out + head, pl, pllen);
	memcpy(out + head + pllen, frame + p->ip_end, tail);
	if (p->ipver == 4)
		ip4_fix(out + p->l3_off, p->l4_off + ulen - p->l3_off);
	else
		put_be16(out + p->l3_off + 4,
		    (uint16_t)(p->l4_off + ulen - p->l3_off - 40));
	u = out + p->l4_off;
	put_be16(u + 4, (uint16_t)ulen);
	if (p->ipver == 4 && p->udp_sum == 0)
		;	/* no checksum stays no checksum */
	else {
		put_be16(u + 6, 0);
		put_be16(u + 6, cap_udp_checksum(p, u, ulen));
	}
	*outlen = n;
	return 0;
}

int
cap_shrink_udp(uint8_t *frame, size_t len, const struct cap_pkt *p,
    size_t pllen, size_t *outlen)
{
	size_t head = p->l4_off + 8, tail, ulen;
	uint8_t *u;

	if (p->kind != CAP_UDP || p->ip_end > len || head > p->ip_end ||
	    pllen > p->payload.len)
		return E_INVAL;
	tail = len - p->ip_end;
	ulen = 8 + pllen;
	if (tail)
		memmove(frame + head + pllen, frame + p->ip_end, tail);
	if (p->ipver == 4)
		ip4_fix(frame + p->l3_off, p->l4_off + ulen - p->l3_off);
	else
		put_be16(frame + p->l3_off + 4,
		    (uint16_t)(p->l4_off + ulen - p->l3_off - 40));
	u = frame + p->l4_off;
	put_be16(u + 4, (uint16_t)ulen);
	if (p->ipver == 6 || p->udp_sum != 0) {
		put_be16(u + 6, 0);
		put_be16(u + 6, cap_udp_checksum(p, u, ulen));
	}
	*outlen = head + pllen + tail;
	return 0;
}

int
cap_rewrite_frag(const uint8_t *frame, size_t len, const struct cap_pkt *p,
    const uint8_t *dgram, size_t dlen, uint8_t *out, size_t outsz,
    size_t *outlen)
{
	size_t head, tail, keep = 0, n, end;
	uint8_t *ip;

	if (p->kind != CAP_FRAG || p->ip_end > len || p->frag_data.p == NULL)
		return E_INVAL;
	head = off_of(frame, p->frag_data);
	tail = len - p->ip_end;
	end = p->frag_off + p->frag_data.len;
	if (p->frag_off < dlen)
		keep = (end < dlen ? end : dlen) - p->frag_off;
	n = head + keep + tail;
	if (n > outsz)
		return E_BIG;
	memcpy(out, frame, head);
	if (keep)
		memcpy(out + head, dgram + p->frag_off, keep);
	memcpy(out + head + keep, frame + p->ip_end, tail);
	ip = out + p->l3_off;
	if (p->frag_off < dlen && end >= dlen) {	/* now holds the end */
		if (p->ipver == 4)
			ip[6] &= (uint8_t)~0x20;
		else
			out[p->frag_hdr_off + 3] &= (uint8_t)~1;
	}
	if (p->ipver == 4)
		ip4_fix(ip, head + keep - p->l3_off);
	else
		put_be16(ip + 4, (uint16_t)(head + keep - p->l3_off - 40));
	*outlen = n;
	return 0;
}

/* --- fragment reassembly --- */

#define DEFRAG_MAX_PIECES 128

struct dgram {
	int used;
	uint64_t serial;
	uint64_t first_ts;
	uint8_t ipver, proto;
	uint8_t src[16], dst[16];
	uint32_t id;
	size_t total;		/* known once the last fragment arrived */
	int have_last;
	size_t got;		/* bytes received */
	size_t npieces;
	uint32_t pieces[DEFRAG_MAX_PIECES][2];	/* [off, end) */
	uint8_t *data;		/* max_bytes */
};

struct cap_defrag {
	size_t max_dgrams, max_bytes;
	uint64_t timeout_us;
	uint64_t next_serial;
	uint64_t dropped;
	uint8_t *done;		/* the last completed datagram */
	struct dgram *d;
};

struct cap_defrag *
cap_defrag_new(size_t max_dgrams, size_t max_bytes, uint64_t timeout_us)
{
	struct cap_defrag *d;

	if (max_dgrams == 0 || max_bytes == 0)
		return NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->max_dgrams = max_dgrams;
	d->max_bytes = max_bytes;
	d->timeout_us = timeout_us;
	d->next_serial = 1;
	d->d = calloc(max_dgrams, sizeof(*d->d));
	d->done = malloc(max_bytes);
	if (d->d == NULL || d->done == NULL) {
		cap_defrag_free(d);
		return NULL;
	}
	return d;
}

void
cap_defrag_free(struct cap_defrag *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; d->d != NULL && i < d->max_dgrams; i++)
		free(d->d[i].data);
	free(d->d);
	free(d->done);
	free(d);
}

static void
dgram_drop(struct cap_defrag *d, struct dgram *g, int count)
{
	g->used = 0;
	g->npieces = 0;
	g->got = 0;
	g->have_last = 0;
	g->total = 0;
	if (count)
		d->dropped++;
}

int
cap_defrag_add(struct cap_defrag *d, const struct cap_pkt *p, uint64_t ts_us,
    uint64_t *serial, struct cap_dgram *out)
{
	struct dgram *g = NULL, *freeg = NULL;
	size_t alen = p->ipver == 4 ? 4 : 16, i, off, end;

	*serial = 0;
	if (p->kind != CAP_FRAG)
		return E_INVAL;
	for (i = 0; i < d->max_dgrams; i++) {
		struct dgram *x = &d->d[i];

		if (x->used && ts_us > x->first_ts + d->timeout_us)
			dgram_drop(d, x, 1);
		if (!x->used) {
			if (freeg == NULL)
				freeg = x;
			continue;
		}
		if (g == NULL && x->ipver == p->ipver && x->proto == p->proto &&
		    x->id == p->frag_id && memcmp(x->src, p->src.a, alen) == 0 &&
		    memcmp(x->dst, p->dst.a, alen) == 0)
			g = x;
	}
	if (g == NULL) {
		if (freeg == NULL) {
			d->dropped++;
			return E_LIMIT;
		}
		g = freeg;
		if (g->data == NULL && (g->data = malloc(d->max_bytes)) == NULL)
			return E_NOMEM;
		g->used = 1;
		g->serial = d->next_serial++;
		g->first_ts = ts_us;
		g->ipver = p->ipver;
		g->proto = p->proto;
		g->id = p->frag_id;
		memcpy(g->src, p->src.a, alen);
		memcpy(g->dst, p->dst.a, alen);
	}
	*serial = g->serial;
	off = p->frag_off;
	end = off + p->frag_data.len;
	if (end > d->max_bytes) {
		dgram_drop(d, g, 1);
		return E_BIG;
	}
	if (g->npieces == DEFRAG_MAX_PIECES) {
		dgram_drop(d, g, 1);
		return E_LIMIT;
	}
	if ((g->have_last && end > g->total) ||
	    (!p->frag_more && (g->got > 0 && g->have_last)))
		goto bad;
	for (i = 0; i < g->npieces; i++)
		if (off < g->pieces[i][1] && end > g->pieces[i][0])
			goto bad;
	if (!p->frag_more) {
		for (i = 0; i < g->npieces; i++)
			if (g->pieces[i][1] > end)
				goto bad;
		g->have_last = 1;
		g->total = end;
	}
	memcpy(g->data + off, p->frag_data.p, p->frag_data.len);
	g->pieces[g->npieces][0] = (uint32_t)off;
	g->pieces[g->npieces][1] = (uint32_t)end;
	g->npieces++;
	g->got += p->frag_data.len;
	if (!g->have_last || g->got != g->total)
		return 0;
	memcpy(d->done, g->data, g->total);
	out->serial = g->serial;
	out->next = g->proto;
	out->data = slice_make(d->done, g->total);
	dgram_drop(d, g, 0);
	return 1;
bad:
	dgram_drop(d, g, 1);
	return E_SYNTAX;
}

int
cap_defrag_pending(const struct cap_defrag *d, uint64_t serial)
{
	size_t i;

	for (i = 0; i < d->max_dgrams; i++)
		if (d->d[i].used && d->d[i].serial == serial)
			return 1;
	return 0;
}

uint64_t
cap_defrag_dropped(const struct cap_defrag *d)
{
	return d->dropped;
}

/* --- libpcap input and output --- */

struct cap_reader {
	pcap_t *p;
	char *iobuf;	/* the FILE's buffer, freed after pcap_close() */
	int dlt;
	char err[PCAP_ERRBUF_SIZE];
};

struct cap_reader *
cap_open(const char *path, char *why, size_t whysz)
{
	char eb[PCAP_ERRBUF_SIZE] = "";
	struct cap_reader *r;
	FILE *fp;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		if (whysz)
			snprintf(why, whysz, "out of memory");
		return NULL;
	}
	/* Our own FILE with a large buffer: with libpcap's default one,
	 * reading costs a system call every 4 KiB. */
	if (strcmp(path, "-") == 0) {
		int fd = dup(0);

		fp = fd >= 0 ? fdopen(fd, "rb") : NULL;
		if (fp == NULL && fd >= 0)
			close(fd);
	} else
		fp = fopen(path, "rb");
	if (fp == NULL) {
		if (whysz)
			snprintf(why, whysz, "%s", strerror(errno));
		free(r);
		return NULL;
	}
	/* (glibc ignores the size unless it is given the buffer) */
	if ((r->iobuf = malloc(CAP_IO_BUF)) != NULL)
		(void)setvbuf(fp, r->iobuf, _IOFBF, CAP_IO_BUF);
	r->p = pcap_fopen_offline_with_tstamp_precision(fp,
	    PCAP_TSTAMP_PRECISION_MICRO, eb);
	if (r->p == NULL) {
		if (whysz)
			snprintf(why, whysz, "%s", eb);
		fclose(fp);
		free(r->iobuf);
		free(r);
		return NULL;
	}
	r->dlt = pcap_datalink(r->p);
	return r;
}

void
cap_close(struct cap_reader *r)
{
	if (r == NULL)
		return;
	pcap_close(r->p);
	free(r->iobuf);
	free(r);
}

int
cap_reader_dlt(const struct cap_reader *r)
{
	return r->dlt;
}

int
cap_reader_snaplen(const struct cap_reader *r)
{
	return pcap_snapshot(r->p);
}

int
cap_read(struct cap_reader *r, struct cap_frame *f)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	rc = pcap_next_ex(r->p, &h, &data);
	if (rc == 1) {
		f->ts_sec = h->ts.tv_sec;
		f->ts_usec = (uint32_t)h->ts.tv_usec;
		f->caplen = h->caplen;
		f->wirelen = h->len;
		f->dlt = r->dlt;
		f->data = data;
		return 1;
	}
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	snprintf(r->err, sizeof(r->err), "%s", pcap_geterr(r->p));
	if (strstr(r->err, "truncated") != NULL)
		return E_SHORT;
	return E_SYNTAX;
}

const char *
cap_reader_error(const struct cap_reader *r)
{
	return r->err;
}

struct cap_writer {
	pcap_t *p;
	pcap_dumper_t *d;
	char *iobuf;	/* the FILE's buffer, freed after the FILE */
};

struct cap_writer *
cap_writer_open(const char *path, int dlt, int snaplen, char *why,
    size_t whysz)
{
	struct cap_writer *w;
	FILE *fp;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		if (whysz)
			snprintf(why, whysz, "out of memory");
		return NULL;
	}
	if (snaplen < 262144)
		snaplen = 262144;
	w->p = pcap_open_dead_with_tstamp_precision(dlt, snaplen,
	    PCAP_TSTAMP_PRECISION_MICRO);
	if (w->p == NULL) {
		if (whysz)
			snprintf(why, whysz, "cannot create a pcap handle");
		free(w);
		return NULL;
	}
	/* Our own FILE, so that "-" is a duplicate of stdout: closing the
	 * dump never closes the process's stdout under its feet. */
	if (strcmp(path, "-") == 0) {
		int fd = dup(1);

		fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
		if (fp == NULL && fd >= 0)
			close(fd);
	} else
		fp = fopen(path, "wb");
	if (fp == NULL) {
		if (whysz)
			snprintf(why, whysz, "%s", strerror(errno));
		pcap_close(w->p);
		free(w);
		return NULL;
	}
	if ((w->iobuf = malloc(CAP_IO_BUF)) != NULL)
		(void)setvbuf(fp, w->iobuf, _IOFBF, CAP_IO_BUF);
	if ((w->d = pcap_dump_fopen(w->p, fp)) == NULL) {
		if (whysz)
			snprintf(why, whysz, "%s", pcap_geterr(w->p));
		fclose(fp);
		pcap_close(w->p);
		free(w->iobuf);
		free(w);
		return NULL;
	}
	return w;
}

int
cap_write(struct cap_writer *w, const struct cap_frame *f)
{
	struct pcap_pkthdr h;

	h.ts.tv_sec = (time_t)f->ts_sec;
	h.ts.tv_usec = (suseconds_t)f->ts_usec;
	h.caplen = f->caplen;
	h.len = f->wirelen;
	pcap_dump((u_char *)w->d, &h, f->data);
	return 0;
}

int
cap_writer_close(struct cap_writer *w)
{
	int r = 0;
	FILE *fp;

	if (w == NULL)
		return 0;
	fp = pcap_dump_file(w->d);
	if (pcap_dump_flush(w->d) != 0 || ferror(fp))
		r = E_IO;
	pcap_dump_close(w->d);
	pcap_close(w->p);
	free(w->iobuf);
	free(w);
	return r;
}

void
cap_addr_format(const struct cap_addr *a, char *b, size_t n)
{
	char ip[INET6_ADDRSTRLEN];

	if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->a, ip,
	    sizeof(ip)) == NULL)
		snprintf(ip, sizeof(ip), "?");
	if (a->family == 6)
		snprintf(b, n, "[%s]:%u", ip, a->port);
	else
		snprintf(b, n, "%s:%u", ip, a->port);
}
