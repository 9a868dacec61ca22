/* hep.c - HEPv3 (Homer capture protocol): encode, decode, send over UDP. */
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "base/hep.h"

#define HDR_LEN 6
#define CHUNK_HDR 6

enum {
	C_FAMILY = 1, C_PROTO = 2, C_SRC4 = 3, C_DST4 = 4, C_SRC6 = 5,
	C_DST6 = 6, C_SPORT = 7, C_DPORT = 8, C_SEC = 9, C_USEC = 10,
	C_TYPE = 11, C_CAPID = 12, C_AUTH = 14, C_PAYLOAD = 15, C_CORR = 17,
};

#define FAM_INET 2
#define FAM_INET6 10

/* ---- encoding ---- */

struct wr {
	uint8_t *p;
	size_t cap, len;
	int err;
};

static void
put(struct wr *w, const void *p, size_t n)
{
	if (w->err != 0)
		return;
	if (n > w->cap - w->len) {
		w->err = E_BIG;
		return;
	}
	memcpy(w->p + w->len, p, n);
	w->len += n;
}

static void
put16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(w, b, 2);
}

static void
chunk(struct wr *w, uint16_t type, const void *p, size_t n)
{
	if (n > HEP_MAX - CHUNK_HDR) {
		w->err = E_BIG;
		return;
	}
	put16(w, 0);
	put16(w, type);
	put16(w, (uint16_t)(n + CHUNK_HDR));
	put(w, p, n);
}

static void
chunk8(struct wr *w, uint16_t type, uint8_t v)
{
	chunk(w, type, &v, 1);
}

static void
chunk16(struct wr *w, uint16_t type, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	chunk(w, type, b, 2);
}

static void
chunk32(struct wr *w, uint16_t type, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };

	chunk(w, type, b, 4);
}

/* An IPv4-mapped IPv6 address as IPv4 (a dual-stack socket's peers). */
static void
unmap(const struct net_addr *in, struct net_addr *out)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	*out = *in;
	if (in->len == 0 || in->u.sa.sa_family != AF_INET6 ||
	    memcmp(in->u.in6.sin6_addr.s6_addr, pfx, 12) != 0)
		return;
	memset(out, 0, sizeof(*out));
	out->u.in4.sin_family = AF_INET;
	out->u.in4.sin_port = in->u.in6.sin6_port;
	memcpy(&out->u.in4.sin_addr, in->u.in6.sin6_addr.s6_addr + 12, 4);
	out->len = sizeof(out->u.in4);
}

int
hep_encode(const struct hep_msg *m, uint8_t *out, size_t cap, size_t *len)
{
	struct wr w = { out, cap, 0, 0 };
	struct net_addr s, d;
	int fam;

	unmap(&m->src, &s);
	unmap(&m->dst, &d);
	fam = net_addr_family(&s);
	if (fam == 0 || fam != net_addr_family(&d))
		return E_INVAL;
	put(&w, "HEP3", 4);
	put16(&w, 0);		/* the length, below */
	chunk8(&w, C_FAMILY, fam == AF_INET ? FAM_INET : FAM_INET6);
	chunk8(&w, C_PROTO, m->proto);
	chunk16(&w, C_SPORT, net_addr_port(&s));
	chunk16(&w, C_DPORT, net_addr_port(&d));
	chunk32(&w, C_SEC, m->sec);
	chunk32(&w, C_USEC, m->usec);
	chunk8(&w, C_TYPE, m->type);
	chunk32(&w, C_CAPID, m->capture_id);
	if (fam == AF_INET) {
		chunk(&w, C_SRC4, &s.u.in4.sin_addr, 4);
		chunk(&w, C_DST4, &d.u.in4.sin_addr, 4);
	} else {
		chunk(&w, C_SRC6, &s.u.in6.sin6_addr, 16);
		chunk(&w, C_DST6, &d.u.in6.sin6_addr, 16);
	}
	if (m->auth.len > 0)
		chunk(&w, C_AUTH, m->auth.p, m->auth.len);
	chunk(&w, C_PAYLOAD, m->payload.p, m->payload.len);
	if (m->correlation.len > 0)
		chunk(&w, C_CORR, m->correlation.p, m->correlation.len);
	if (w.err == 0 && w.len > HEP_MAX)
		w.err = E_BIG;
	if (w.err != 0)
		return w.err;
	out[4] = (uint8_t)(w.len >> 8);
	out[5] = (uint8_t)w.len;
	*len = w.len;
	return 0;
}

/* ---- decoding ---- */

static int
fixed(struct slice d, size_t n)
{
	return d.len == n ? 0 : E_SYNTAX;
}

static uint32_t
be(struct slice d)
{
	uint32_t v = 0;

	for (size_t i = 0; i < d.len; i++)
		v = v << 8 | d.p[i];
	return v;
}

/* One generic chunk into `m`; `seen` gathers what the message has. */
static int
take_chunk(struct hep_msg *m, uint16_t type, struct slice d, unsigned *fam,
    unsigned *seen)
{
	struct sockaddr_in *s4 = &m->src.u.in4, *d4 = &m->dst.u.in4;
	struct sockaddr_in6 *s6 = &m->src.u.in6, *d6 = &m->dst.u.in6;
	int r = 0;

	switch (type) {
	case C_FAMILY:
		if ((r = fixed(d, 1)) == 0)
			*fam = d.p[0];
		break;
	case C_PROTO: if ((r = fixed(d, 1)) == 0) m->proto = d.p[0]; break;
	case C_TYPE: if ((r = fixed(d, 1)) == 0) m->type = d.p[0]; break;
	case C_SPORT: case C_DPORT:
		if ((r = fixed(d, 2)) == 0) {
			if (type == C_SPORT)
				s6->sin6_port = htons((uint16_t)be(d));
			else
				d6->sin6_port = htons((uint16_t)be(d));
		}
		break;
	case C_SEC: if ((r = fixed(d, 4)) == 0) m->sec = be(d); break;
	case C_USEC: if ((r = fixed(d, 4)) == 0) m->usec = be(d); break;
	case C_CAPID: if ((r = fixed(d, 4)) == 0) m->capture_id = be(d); break;
	case C_SRC4: case C_DST4:
		if ((r = fixed(d, 4)) == 0) {
			memcpy(type == C_SRC4 ? &s4->sin_addr : &d4->sin_addr,
			    d.p, 4);
			*seen |= 1u << type;
		}
		break;
	case C_SRC6: case C_DST6:
		if ((r = fixed(d, 16)) == 0) {
			memcpy(type == C_SRC6 ? &s6->sin6_addr : &d6->sin6_addr,
			    d.p, 16);
			*seen |= 1u << type;
		}
		break;
	case C_AUTH: m->auth = d; break;
	case C_PAYLOAD: m->payload = d; *seen |= 1u << type; break;
	case C_CORR: m->correlation = d; break;
	default: break;
	}
	return r;
}

int
hep_decode(struct slice in, struct hep_msg *m)
{
	struct slice body, c;
	unsigned fam = 0, seen = 0;
	uint16_t total, in4[2], in6[2];
	struct net_addr s, d;

	memset(m, 0, sizeof(*m));
	memset(&s, 0, sizeof(s));
	memset(&d, 0, sizeof(d));
	if (in.len < HDR_LEN)
		return E_SHORT;
	if (memcmp(in.p, "HEP3", 4) != 0)
		return E_SYNTAX;
	total = (uint16_t)(in.p[4] << 8 | in.p[5]);
	if (total < HDR_LEN)
		return E_SYNTAX;
	if (total > in.len)
		return E_SHORT;
	body = slice_make(in.p + HDR_LEN, total - HDR_LEN);
	/* Ports and addresses are gathered in m->src/dst as IPv6 and
	 * sorted out by family at the end. */
	while (body.len > 0) {
		uint16_t vendor, type, len;
		int r;

		if (slice_be16(&body, &vendor) != 0 ||
		    slice_be16(&body, &type) != 0 ||
		    slice_be16(&body, &len) != 0)
			return E_SHORT;
		if (len < CHUNK_HDR)
			return E_SYNTAX;
		if (slice_take(&body, len - CHUNK_HDR, &c) != 0)
			return E_SHORT;
		if (vendor != 0)
			continue;
		if ((r = take_chunk(m, type, c, &fam, &seen)) != 0)
			return r;
	}
	in4[0] = C_SRC4, in4[1] = C_DST4, in6[0] = C_SRC6, in6[1] = C_DST6;
	if (!(seen & 1u << C_PAYLOAD))
		return E_SYNTAX;
	if (fam == FAM_INET && (seen & 1u << in4[0]) && (seen & 1u << in4[1])) {
		struct sockaddr_in a4 = m->src.u.in4, b4 = m->dst.u.in4;

		s.u.in4.sin_family = d.u.in4.sin_family = AF_INET;
		s.u.in4.sin_addr = a4.sin_addr;
		d.u.in4.sin_addr = b4.sin_addr;
		s.u.in4.sin_port = m->src.u.in6.sin6_port;
		d.u.in4.sin_port = m->dst.u.in6.sin6_port;
		s.len = d.len = sizeof(s.u.in4);
	} else if (fam == FAM_INET6 && (seen & 1u << in6[0]) &&
	    (seen & 1u << in6[1])) {
		s.u.in6 = m->src.u.in6;
		d.u.in6 = m->dst.u.in6;
		s.u.in6.sin6_family = d.u.in6.sin6_family = AF_INET6;
		s.u.in6.sin6_flowinfo = d.u.in6.sin6_flowinfo = 0;
		s.u.in6.sin6_scope_id = d.u.in6.sin6_scope_id = 0;
		s.len = d.len = sizeof(s.u.in6);
	} else
		return E_SYNTAX;
	m->src = s;
	m->dst = d;
	return 0;
}

/* ---- the sender ---- */

struct hep {
	int fd;
	struct hep_conf c;
	char *auth;
	struct hep_stats st;
	uint8_t buf[HEP_MAX];
};

int
hep_url_parse(const char *s, struct hep_conf *c)
{
	struct slice v = slice_cstr(s);
	long colon = slice_chr(v, ':');
	struct slice proto;

	if (colon <= 0)
		return E_SYNTAX;
	proto = slice_make(v.p, (size_t)colon);
	slice_skip(&v, (size_t)colon + 1);
	if (slice_case_eq_cstr(proto, "tcp") || slice_case_eq_cstr(proto,
	    "tls") || slice_case_eq_cstr(proto, "sctp"))
		return E_UNSUPPORTED;
	if (!slice_case_eq_cstr(proto, "udp"))
		return E_SYNTAX;
	return net_addr_parse(v, &c->dst);
}

struct hep *
hep_new(const struct hep_conf *c, int *err)
{
	struct hep *h = calloc(1, sizeof(*h));
	struct net_addr any;

	*err = E_NOMEM;
	if (h == NULL)
		return NULL;
	h->fd = -1;
	h->c = *c;
	if (c->auth != NULL && (h->auth = strdup(c->auth)) == NULL) {
		free(h);
		return NULL;
	}
	h->c.auth = h->auth;
	memset(&any, 0, sizeof(any));
	if (net_addr_parse_host(slice_cstr(net_addr_family(&c->dst) ==
	    AF_INET6 ? "::" : "0.0.0.0"), 0, &any) != 0 ||
	    net_udp_bind(&any, 0, &h->fd) != 0 ||
	    /* Connected: no route lookup per datagram. (A collector that is
	     * not listening then shows as one refused send, an error.) */
	    connect(h->fd, &c->dst.u.sa, c->dst.len) != 0) {
		*err = E_IO;
		hep_free(h);
		return NULL;
	}
	*err = 0;
	return h;
}

void
hep_free(struct hep *h)
{
	if (h == NULL)
		return;
	if (h->fd >= 0)
		close(h->fd);
	if (h->auth != NULL) {
		OPENSSL_cleanse(h->auth, strlen(h->auth));
		free(h->auth);
	}
	free(h);
}

int
hep_send(struct hep *h, struct hep_msg *m)
{
	struct net_pkt p;
	size_t len;
	int r;

	m->capture_id = h->c.capture_id;
	m->auth = h->auth != NULL ? slice_cstr(h->auth) : slice_make("", 0);
	if (m->sec == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		m->sec = (uint32_t)ts.tv_sec;
		m->usec = (uint32_t)(ts.tv_nsec / 1000);
	}
	if ((r = hep_encode(m, h->buf, sizeof(h->buf), &len)) != 0) {
		h->st.errors++;
		return r;
	}
	memset(&p, 0, sizeof(p));
	p.buf = h->buf;
	p.cap = p.len = len;		/* p.addr unset: the connected peer */
	r = net_send(h->fd, &p);
	if (r == 0)
		h->st.sent++;
	else if (r == E_AGAIN)
		h->st.dropped++;
	else
		h->st.errors++;
	return r;
}

void
hep_stats(const struct hep *h, struct hep_stats *st)
{
	*st = h->st;
}
