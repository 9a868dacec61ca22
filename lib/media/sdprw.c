/* sdprw.c - SDP rewrites for the border: profiles, SDES keys, addresses, ports. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "media/keylog.h"
#include "base/rnd.h"
#include "media/sdprw.h"

#define CRYPTO_MAX 1024		/* one formatted a=crypto value */

/* The RTP profiles we rewrite. */
enum { P_NONE, P_AVP, P_AVPF, P_SAVP, P_SAVPF, P_DTLS, P_DTLSF };

static int
profile(struct slice proto)
{
	static const struct { const char *name; int p; } t[] = {
		{ "RTP/AVP", P_AVP }, { "RTP/AVPF", P_AVPF },
		{ "RTP/SAVP", P_SAVP }, { "RTP/SAVPF", P_SAVPF },
		{ "UDP/TLS/RTP/SAVP", P_DTLS }, { "UDP/TLS/RTP/SAVPF", P_DTLSF },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (slice_eq_cstr(proto, t[i].name))
			return t[i].p;
	return P_NONE;
}

static int
media_profile(const struct sdp *s, size_t m, struct sdp_media *md)
{
	if (sdp_media_get(s, m, md) != 0)
		return P_NONE;
	return profile(md->proto);
}

int
sdprw_media_is_rtp(const struct sdp *s, size_t m)
{
	struct sdp_media md;

	return media_profile(s, m, &md) != P_NONE;
}

int
sdprw_media_is_srtp(const struct sdp *s, size_t m)
{
	struct sdp_media md;
	int p = media_profile(s, m, &md);

	return p == P_SAVP || p == P_SAVPF || p == P_DTLS || p == P_DTLSF;
}

/*
 * A line value built without printf: these rewrites run for every call,
 * and vsnprintf costs more than the rest of a rewrite.
 */
struct lb {
	char b[SDP_MAX_LINE_LEN];
	size_t n;
	int err;
};

static void
lb_mem(struct lb *l, const void *p, size_t len)
{
	if (l->err || len > sizeof(l->b) - l->n) {
		l->err = 1;
		return;
	}
	memcpy(l->b + l->n, p, len);
	l->n += len;
}

static void
lb_s(struct lb *l, struct slice v)
{
	lb_mem(l, v.p, v.len);
}

static void
lb_c(struct lb *l, const char *c)
{
	lb_mem(l, c, strlen(c));
}

static void
lb_u(struct lb *l, unsigned long v)
{
	char d[24];
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	lb_mem(l, d + i, sizeof(d) - i);
}

static int
lb_set(struct sdp *s, int sec, size_t i, const struct lb *l)
{
	if (l->err)
		return E_BIG;
	return sdp_line_set(s, sec, i, slice_make(l->b, l->n));
}

/* Rewrite the m= line of `m` with a new port and proto. */
static int
set_mline(struct sdp *s, size_t m, const struct sdp_media *md, unsigned port,
    struct slice proto)
{
	struct lb l;

	l.n = 0;
	l.err = 0;
	lb_s(&l, md->type);
	lb_c(&l, " ");
	lb_u(&l, port);
	if (md->nports > 0) {
		lb_c(&l, "/");
		lb_u(&l, md->nports);
	}
	lb_c(&l, " ");
	lb_s(&l, proto);
	lb_c(&l, " ");
	lb_s(&l, md->fmts);
	return lb_set(s, (int)m, 0, &l);
}

/* Delete, in one pass, every a= line of `sec` whose name is in `names`. */
static void
delete_attrs(struct sdp *s, int sec, const char *const *names)
{
	size_t i = sdp_nlines(s, sec), k;
	struct slice v, n;

	while (i-- > 1) {
		if (sdp_line(s, sec, i, &v) != 'a')
			continue;
		n = sdp_attr_name(v);
		for (k = 0; names[k] != NULL; k++) {
			if (slice_eq_cstr(n, names[k])) {
				if (sdp_line_delete(s, sec, i) != 0)
					return;
				break;
			}
		}
	}
}

static const char *const dtls_attrs[] = { "fingerprint", "setup", "tls-id",
	NULL };
static const char *const media_attrs[] = { "crypto", "fingerprint", "setup",
	"tls-id", NULL };

static void
drop_dtls(struct sdp *s, int sec)
{
	delete_attrs(s, sec, dtls_attrs);
}

/* Session-level DTLS attributes go when no media uses DTLS any more. */
static void
drop_session_dtls(struct sdp *s)
{
	struct sdp_media md;
	size_t m;

	for (m = 0; m < sdp_media_count(s); m++) {
		int p = media_profile(s, m, &md);

		if (p == P_DTLS || p == P_DTLSF)
			return;
	}
	drop_dtls(s, SDP_SESSION);
}

/*
 * RTP media `m` (profile `p`, m= line `md`) to RTP/AVP or, with `srtp`,
 * RTP/SAVP (the F of feedback kept), its crypto, DTLS and ICE dropped.
 */
static int
reprofile(struct sdp *s, size_t m, const struct sdp_media *md, int p,
    int srtp)
{
	int f = p == P_AVPF || p == P_SAVPF || p == P_DTLSF, r;
	const char *np = srtp ? (f ? "RTP/SAVPF" : "RTP/SAVP") :
	    (f ? "RTP/AVPF" : "RTP/AVP");

	if (!slice_eq_cstr(md->proto, np) &&
	    (r = set_mline(s, m, md, md->port, slice_cstr(np))) != 0)
		return r;
	delete_attrs(s, (int)m, media_attrs);
	drop_session_dtls(s);
	return 0;
}

int
sdprw_media_to_rtp(struct sdp *s, size_t m)
{
	struct sdp_media md;
	int p = media_profile(s, m, &md);

	return p == P_NONE ? 0 : reprofile(s, m, &md, p, 0);
}

/* Where new attributes of a section go: after its last a= line. */
static size_t
attr_pos(const struct sdp *s, int sec)
{
	size_t n = sdp_nlines(s, sec), i;

	for (i = n; i > 0; i--)
		if (sdp_line(s, sec, i - 1, NULL) == 'a')
			return i;
	return n;
}

static int
add_crypto(struct sdp *s, size_t m, size_t at, const struct keyline *kl,
    size_t pos, struct buf *b)
{
	int r;

	buf_reset(b);
	if ((r = buf_append_cstr(b, "crypto:")) != 0)
		return r;
	if (keyline_tag(kl) < 0 && (r = buf_printf(b, "%zu ", pos)) != 0)
		return r;
	if ((r = keyline_format(kl, KEYLINE_FMT_TAG, b)) != 0)
		return r;
	return sdp_line_insert(s, (int)m, at, 'a', buf_slice(b));
}

int
sdprw_media_to_srtp(struct sdp *s, size_t m,
    const struct keyline *const *keys, size_t nkeys)
{
	struct sdp_media md;
	struct buf *b;
	int p = media_profile(s, m, &md), r = 0;
	size_t i, at;

	if (p == P_NONE || (r = reprofile(s, m, &md, p, 1)) != 0)
		return r;
	if (md.port == 0 || nkeys == 0)
		return 0;
	if ((b = buf_new_secret(CRYPTO_MAX)) == NULL)
		return E_NOMEM;
	at = attr_pos(s, (int)m);
	for (i = 0; r == 0 && i < nkeys; i++)
		r = add_crypto(s, m, at + i, keys[i], i + 1, b);
	buf_free(b);
	return r;
}

size_t
sdprw_media_ncrypto(const struct sdp *s, size_t m)
{
	size_t n = 0;
	long i = -1;

	while ((i = sdp_attr_find(s, (int)m, "crypto", (size_t)(i + 1),
	    NULL)) >= 0)
		n++;
	return n;
}

/* The i-th a=crypto value of media m and its line index, or -1. */
static long
crypto_value(const struct sdp *s, size_t m, size_t i, struct slice *v)
{
	long k = -1;

	do {
		k = sdp_attr_find(s, (int)m, "crypto", (size_t)(k + 1), v);
		if (k < 0)
			return -1;
	} while (i-- > 0);
	return k;
}

int
sdprw_offer_choose(const struct sdp *offer, size_t m,
    const enum suite_id *allowed, size_t nallowed, struct keyline **chosen,
    char *why, size_t whysz)
{
	struct keyline *kl;
	struct slice v;
	char skip[160] = "";
	long skip_tag = -1;
	size_t i, j;

	*chosen = NULL;
	for (i = 0; crypto_value(offer, m, i, &v) >= 0; i++) {
		/* suites or keys we cannot use are skipped, not fatal */
		if (keyline_parse(v, &kl, NULL, 0) != 0)
			continue;
		if (keyline_tag(kl) < 0) {
			keyline_free(kl);
			continue;
		}
		for (j = 0; allowed != NULL && j < nallowed; j++)
			if (keyline_suite(kl)->id == allowed[j])
				break;
		if (allowed != NULL && j == nallowed) {
			keyline_free(kl);
			continue;
		}
		/* a line whose parameters we cannot run (KDR=n, n > 0): a
		 * later alternative may do; remember why for the error */
		if (keylog_check(kl, skip[0] == '\0' ? skip : NULL,
		    sizeof(skip)) != 0) {
			if (skip_tag < 0)
				skip_tag = keyline_tag(kl);
			keyline_free(kl);
			continue;
		}
		*chosen = kl;
		return 0;
	}
	if (skip_tag >= 0)
		sbk_why(why, whysz, "media %zu: no usable a=crypto in the "
		    "offer (tag %ld: %s)", m, skip_tag, skip);
	else
		sbk_why(why, whysz, "media %zu: no acceptable crypto suite in "
		    "the offer", m);
	return E_NOTFOUND;
}

/* "ADDR:PORT" or "[ADDR]:PORT" for the selectors. */
static int
addr_port(char *out, size_t n, const struct sdp_conn *c, unsigned port)
{
	int k = snprintf(out, n, c->ipv6 ? "[%.*s]:%u" : "%.*s:%u",
	    (int)c->addr.len, (const char *)c->addr.p, port);

	return k < 0 || (size_t)k >= n ? E_BIG : 0;
}

int
sdprw_media_crypto(const struct sdp *s, size_t m, size_t i,
    struct keyline **out, char *why, size_t whysz)
{
	struct sdp_media md;
	struct sdp_conn c;
	struct keyline *kl;
	struct slice v;
	char tmp[96];
	long k;
	int r;

	*out = NULL;
	if ((r = sdp_media_get(s, m, &md)) != 0)
		return r;
	if ((k = crypto_value(s, m, i, &v)) < 0)
		return E_NOTFOUND;
	if ((r = keyline_parse(v, &kl, tmp, sizeof(tmp))) != 0) {
		sbk_why(why, whysz, "line %u: a=crypto: %s",
		    sdp_line_number(s, (int)m, (size_t)k), tmp);
		return r;
	}
	r = snprintf(tmp, sizeof(tmp), "%zu", m) < 0 ? E_BIG : 0;
	if (r == 0)
		r = keyline_set_selector(kl, "media", slice_cstr(tmp));
	if (r == 0)
		r = keyline_set_selector(kl, "type", md.type);
	if (r == 0 && md.port != 0 && sdp_media_conn(s, m, &c) == 0 &&
	    addr_port(tmp, sizeof(tmp), &c, md.port) == 0 &&
	    keyline_set_selector(kl, "src", slice_cstr(tmp)) != 0) {
		/* an address we cannot express (a name): no src= */
	}
	if (r != 0) {
		sbk_why(why, whysz, "media %zu: bad media type for a selector",
		    m);
		keyline_free(kl);
		return r;
	}
	*out = kl;
	return 0;
}

void
sdprw_keys_free(struct keyline **keys, size_t n)
{
	size_t i;

	if (keys == NULL)
		return;
	for (i = 0; i < n; i++)
		keyline_free(keys[i]);
	free(keys);
}

int
sdprw_keys(const struct sdp *s, struct keyline ***out, size_t *n, char *why,
    size_t whysz)
{
	struct keyline **v = NULL;
	size_t m, i, k = 0, total = 0;
	int r;

	*out = NULL;
	*n = 0;
	for (m = 0; m < sdp_media_count(s); m++)
		total += sdprw_media_ncrypto(s, m);
	if (total > 0 && (v = calloc(total, sizeof(*v))) == NULL)
		return E_NOMEM;
	for (m = 0; m < sdp_media_count(s); m++) {
		for (i = 0; i < sdprw_media_ncrypto(s, m); i++) {
			if ((r = sdprw_media_crypto(s, m, i, &v[k], why,
			    whysz)) != 0) {
				sdprw_keys_free(v, k);
				return r;
			}
			k++;
		}
	}
	*out = v;
	*n = k;
	return 0;
}

/* 4 or 6 for a numeric address, 0 otherwise. */
static int
addr_family(const char *addr)
{
	struct in6_addr a6;

	if (inet_pton(AF_INET, addr, &a6) == 1)
		return 4;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return 6;
	return 0;
}

static int
set_conn_line(struct sdp *s, int sec, size_t i, int fam, const char *addr)
{
	struct lb l;

	l.n = 0;
	l.err = 0;
	lb_c(&l, fam == 6 ? "IN IP6 " : "IN IP4 ");
	lb_c(&l, addr);
	return lb_set(s, sec, i, &l);
}

int
sdprw_set_conn(struct sdp *s, int sec, const char *addr)
{
	int fam = addr_family(addr);
	long i;

	if (fam == 0)
		return E_INVAL;
	if ((i = sdp_find(s, sec, 'c', 0)) < 0)
		return 0;
	return set_conn_line(s, sec, (size_t)i, fam, addr);
}

int
sdprw_set_origin(struct sdp *s, const char *addr)
{
	struct slice v, t[6];
	int fam = addr_family(addr), k = 0;
	long i;

	if (fam == 0)
		return E_INVAL;
	if ((i = sdp_find(s, SDP_SESSION, 'o', 0)) < 0)
		return 0;
	sdp_line(s, SDP_SESSION, (size_t)i, &v);
	/* sdp_parse() checked the 6 fields */
	while (k < 6 && v.len > 0) {
		struct slice h;

		slice_split(&v, ' ', &h);
		if (h.len > 0)
			t[k++] = h;
	}
	if (k != 6)
		return E_SYNTAX;
	return sdp_line_setf(s, SDP_SESSION, (size_t)i,
	    "%.*s %.*s %.*s IN IP%d %s", (int)t[0].len, (const char *)t[0].p,
	    (int)t[1].len, (const char *)t[1].p, (int)t[2].len,
	    (const char *)t[2].p, fam, addr);
}

int
sdprw_media_rtcp_mux(const struct sdp *s, size_t m)
{
	return sdp_attr_find(s, (int)m, "rtcp-mux", 0, NULL) >= 0;
}

int
sdprw_media_set_rtcp_mux(struct sdp *s, size_t m, int on)
{
	if (m >= sdp_media_count(s))
		return E_NOTFOUND;
	if (!on) {
		sdp_attr_delete(s, (int)m, "rtcp-mux");
		return 0;
	}
	if (sdprw_media_rtcp_mux(s, m))
		return 0;
	return sdp_line_insert(s, (int)m, attr_pos(s, (int)m), 'a',
	    SLICE_LIT("rtcp-mux"));
}

/* Rewrite an existing a=rtcp's port and/or address. */
static int
set_rtcp_attr(struct sdp *s, size_t m, size_t i, long port, const char *addr)
{
	struct slice v, p;
	uint64_t u;
	int fam;

	sdp_attr_find(s, (int)m, "rtcp", i, &v);
	slice_split(&v, ' ', &p);
	if (port < 0) {
		if (slice_to_u64(p, 65535, &u) != 0)
			return E_SYNTAX;
		port = (long)u;
	}
	if (addr != NULL) {
		if ((fam = addr_family(addr)) == 0)
			return E_INVAL;
		return sdp_line_setf(s, (int)m, i, "rtcp:%ld IN IP%d %s", port,
		    fam, addr);
	}
	if (v.len > 0)
		return sdp_line_setf(s, (int)m, i, "rtcp:%ld %.*s", port,
		    (int)v.len, (const char *)v.p);
	return sdp_line_setf(s, (int)m, i, "rtcp:%ld", port);
}

int
sdprw_media_set_port(struct sdp *s, size_t m, unsigned rtp, long rtcp,
    const char *addr)
{
	struct sdp_media md;
	int mux, r;
	long i;

	if ((r = sdp_media_get(s, m, &md)) != 0)
		return r;
	if (md.port == 0)
		return 0;
	if (rtp == 0 || rtp > 65535 || rtcp > 65535)
		return E_RANGE;
	mux = sdprw_media_rtcp_mux(s, m);
	if (rtcp < 0)
		rtcp = mux ? (long)rtp : (long)rtp + 1;
	if (rtcp > 65535)
		return E_RANGE;
	if (md.port != rtp && (r = set_mline(s, m, &md, rtp, md.proto)) != 0)
		return r;
	if ((i = sdp_attr_find(s, (int)m, "rtcp", 0, NULL)) >= 0)
		return set_rtcp_attr(s, m, (size_t)i, rtcp, addr);
	if (!mux && rtcp != (long)rtp + 1) {
		char v[96];
		int fam = addr != NULL ? addr_family(addr) : 0;
		int k = fam != 0 ?
		    snprintf(v, sizeof(v), "rtcp:%ld IN IP%d %s", rtcp, fam,
		    addr) : snprintf(v, sizeof(v), "rtcp:%ld", rtcp);

		if (k < 0 || (size_t)k >= sizeof(v))
			return E_BIG;
		return sdp_line_insert(s, (int)m, attr_pos(s, (int)m), 'a',
		    slice_make(v, (size_t)k));
	}
	return 0;
}

static int
is_ice(struct slice v)
{
	struct slice n = sdp_attr_name(v);

	return (n.len > 4 && memcmp(n.p, "ice-", 4) == 0) ||
	    slice_eq_cstr(n, "candidate") ||
	    slice_eq_cstr(n, "remote-candidates") ||
	    slice_eq_cstr(n, "end-of-candidates");
}

int
sdprw_remove_ice(struct sdp *s)
{
	int sec, r;

	for (sec = SDP_SESSION; sec < (int)sdp_media_count(s); sec++) {
		size_t i = sdp_nlines(s, sec);
		struct slice v;

		while (i-- > 1) {
			if (sdp_line(s, sec, i, &v) == 'a' && is_ice(v) &&
			    (r = sdp_line_delete(s, sec, i)) != 0)
				return r;
		}
	}
	return 0;
}

/* Fresh keys, one per suite, from `*pool`; *n set to how many were made. */
static int
fresh_keys(const enum suite_id *ids, size_t nids, const uint8_t **pool,
    struct keyline **out, size_t *n)
{
	size_t i, len;
	int r;

	*n = 0;
	for (i = 0; i < nids; i++) {
		const struct suite *su = suite_by_id(ids[i]);

		if (su == NULL)
			return E_INVAL;
		if ((out[i] = keyline_new(su)) == NULL)
			return E_NOMEM;
		(*n)++;
		len = su->key_len + su->salt_len;
		if ((r = keyline_add_key(out[i], *pool, len, 0, 0, 0)) != 0)
			return r;
		*pool += len;
	}
	return 0;
}

/* The given keys that apply to media m (see struct sdprw_opts). */
static size_t
given_keys(const struct sdprw_opts *o, size_t m,
    const struct keyline **out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < o->nkeys && n < max; i++)
		if (keyline_media(o->keys[i]) == (long)m)
			out[n++] = o->keys[i];
	if (n > 0)
		return n;
	for (i = 0; i < o->nkeys && n < max; i++)
		if (keyline_media(o->keys[i]) < 0)
			out[n++] = o->keys[i];
	return n;
}

#define MAX_CRYPTO 16	/* a=crypto lines we write per media */

static int
answer_media(struct sdp *s, size_t m, const struct sdprw_opts *o,
    const enum suite_id *ids, size_t nids, char *why, size_t whysz)
{
	struct keyline *chosen = NULL, *ours = NULL;
	const struct keyline *given[1];
	struct sdp_media md;
	int r;

	if (!sdprw_media_is_rtp(s, m))
		return 0;
	if (m >= sdp_media_count(o->answer_to)) {
		sbk_why(why, whysz, "answer has media %zu, the offer has %zu",
		    m, sdp_media_count(o->answer_to));
		return E_SYNTAX;
	}
	if (sdprw_media_ncrypto(o->answer_to, m) == 0 ||
	    sdp_media_get(s, m, &md) != 0 || md.port == 0) {
		/* the offer wants plain RTP here, or we reject the media */
		if (sdprw_media_ncrypto(o->answer_to, m) == 0)
			return sdprw_media_to_rtp(s, m);
		return sdprw_media_to_srtp(s, m, NULL, 0);
	}
	if ((r = sdprw_offer_choose(o->answer_to, m, ids, nids, &chosen, why,
	    whysz)) != 0)
		return r;
	if (given_keys(o, m, given, 1) == 1) {
		if (keyline_suite(given[0]) != keyline_suite(chosen)) {
			sbk_why(why, whysz, "media %zu: the given key is %s, "
			    "the offer's choice is %s", m,
			    keyline_suite(given[0])->name,
			    keyline_suite(chosen)->name);
			r = E_KEY;
			goto out;
		}
		ours = keyline_dup(given[0]);
	} else {
		ours = keyline_new(keyline_suite(chosen));
		if (ours != NULL && (r = keyline_add_random_key(ours)) != 0)
			goto out;
	}
	if (ours == NULL) {
		r = E_NOMEM;
		goto out;
	}
	if ((r = keyline_set_tag(ours, keyline_tag(chosen))) == 0)
		r = sdprw_media_to_srtp(s, m,
		    (const struct keyline *const *)&ours, 1);
out:
	keyline_free(ours);
	keyline_free(chosen);
	return r;
}

static int
srtp_media(struct sdp *s, size_t m, const struct sdprw_opts *o,
    const enum suite_id *ids, size_t nids, const uint8_t **pool)
{
	const struct keyline *given[MAX_CRYPTO];
	struct keyline *fresh[MAX_CRYPTO];
	struct sdp_media md;
	size_t n, nfresh = 0, i;
	int r;

	if (!sdprw_media_is_rtp(s, m))
		return 0;
	if (o->nkeys > 0) {
		n = given_keys(o, m, given, MAX_CRYPTO);
		return sdprw_media_to_srtp(s, m, given, n);
	}
	if (nids > MAX_CRYPTO)
		return E_INVAL;
	if (sdp_media_get(s, m, &md) != 0 || md.port == 0)
		return sdprw_media_to_srtp(s, m, NULL, 0);
	r = fresh_keys(ids, nids, pool, fresh, &nfresh);
	if (r == 0)
		r = sdprw_media_to_srtp(s, m,
		    (const struct keyline *const *)fresh, nfresh);
	for (i = 0; i < nfresh; i++)
		keyline_free(fresh[i]);
	return r;
}

/*
 * The random bytes for every fresh key of a to-SRTP offer, from one CSPRNG
 * call (each call costs a getpid() and locks in OpenSSL). *len 0: none.
 */
static int
key_pool(const struct sdp *s, struct rnd_pool *rp, const enum suite_id *ids,
    size_t nids, uint8_t **pool, size_t *len)
{
	struct sdp_media md;
	size_t m, i, per = 0, n = 0;
	int r;

	*pool = NULL;
	*len = 0;
	for (i = 0; i < nids; i++) {
		const struct suite *su = suite_by_id(ids[i]);

		if (su == NULL)
			return E_INVAL;
		per += su->key_len + su->salt_len;
	}
	for (m = 0; m < sdp_media_count(s); m++)
		if (sdprw_media_is_rtp(s, m) && sdp_media_get(s, m, &md) == 0 &&
		    md.port != 0)
			n++;
	if (n * per == 0)
		return 0;
	if ((*pool = malloc(n * per)) == NULL)
		return E_NOMEM;
	*len = n * per;
	if ((r = rnd_pool_bytes(rp, *pool, *len)) != 0) {
		free(*pool);
		*pool = NULL;
		*len = 0;
	}
	return r;
}

int
sdprw_apply(struct sdp *s, const struct sdprw_opts *o, char *why,
    size_t whysz)
{
	uint8_t *pool = NULL;
	const uint8_t *next;
	size_t poollen = 0;
	enum suite_id def[SUITE_COUNT];
	const enum suite_id *ids = o->suites;
	size_t nids = o->nsuites, nm = sdp_media_count(s), m, i;
	int r = 0;
	long k;

	sbk_why(why, whysz, "%s", "");
	if (ids == NULL) {
		nids = o->answer_to != NULL ?
		    suite_accept_order(SUITE_FOR_SDP_REWRITE, def, SUITE_COUNT) :
		    suite_offer_order(SUITE_FOR_SDP_REWRITE, def, SUITE_COUNT);
		ids = def;
	}
	for (i = 0; i < o->nports; i++) {
		if (o->ports[i].media >= nm) {
			sbk_why(why, whysz, "port map: no media %zu (%zu m= "
			    "lines)", o->ports[i].media, nm);
			return E_INVAL;
		}
	}
	if (o->answer_to == NULL && o->to == SDPRW_TO_SRTP && o->nkeys == 0 &&
	    (r = key_pool(s, o->rnd, ids, nids, &pool, &poollen)) != 0) {
		sbk_why(why, whysz, "fresh keys: %s", sbk_strerror(r));
		return r;
	}
	next = pool;
	for (m = 0; r == 0 && m < nm; m++) {
		if (o->answer_to != NULL)
			r = answer_media(s, m, o, ids, nids, why, whysz);
		else if (o->to == SDPRW_TO_SRTP)
			r = srtp_media(s, m, o, ids, nids, &next);
		else if (o->to == SDPRW_TO_RTP)
			r = sdprw_media_to_rtp(s, m);
		if (r == 0 && o->mux != SDPRW_MUX_KEEP &&
		    sdprw_media_is_rtp(s, m))
			r = sdprw_media_set_rtcp_mux(s, m,
			    o->mux == SDPRW_MUX_ADD);
	}
	if (pool != NULL) {
		OPENSSL_cleanse(pool, poollen);
		free(pool);
	}
	if (r != 0)
		goto fail;
	if (o->addr != NULL) {
		for (k = SDP_SESSION; r == 0 && k < (long)nm; k++) {
			long a;

			r = sdprw_set_conn(s, (int)k, o->addr);
			if (r == 0 && k >= 0 && (a = sdp_attr_find(s, (int)k,
			    "rtcp", 0, NULL)) >= 0)
				r = set_rtcp_attr(s, (size_t)k, (size_t)a, -1,
				    o->addr);
		}
		if (r != 0) {
			sbk_why(why, whysz, "bad address '%s'", o->addr);
			return r;
		}
	}
	if (o->origin_addr != NULL &&
	    (r = sdprw_set_origin(s, o->origin_addr)) != 0) {
		sbk_why(why, whysz, "bad origin address '%s'", o->origin_addr);
		return r;
	}
	for (i = 0; i < o->nports; i++) {
		r = sdprw_media_set_port(s, o->ports[i].media, o->ports[i].rtp,
		    o->ports[i].rtcp, o->addr);
		if (r != 0) {
			sbk_why(why, whysz, "port map: media %zu: %s",
			    o->ports[i].media, sbk_strerror(r));
			return r;
		}
	}
	if (o->remove_ice && (r = sdprw_remove_ice(s)) != 0)
		goto fail;
	return 0;
fail:
	if (why != NULL && whysz > 0 && why[0] == '\0')
		sbk_why(why, whysz, "%s", sbk_strerror(r));
	return r;
}
