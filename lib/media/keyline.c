/* keyline.c - key lines: SDES crypto values (RFC 4568) with selectors. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base/b64.h"
#include "base/hex.h"
#include "media/keyline.h"
#include "base/rnd.h"

#define MAX_SEL 12		/* selectors per line */
#define SEL_NAME_MAX 32
#define SEL_VAL_MAX 256
#define SP_MAX 512		/* session parameters, bytes */
#define TAG_MAX 999999999L	/* 1*9DIGIT */

struct kl_key {
	uint8_t master[SUITE_MAX_KEY_SALT];
	uint64_t lifetime;	/* 0: none */
	int life_exp;		/* written as 2^life_exp; -1: decimal */
	uint64_t mki;
	size_t mki_len;		/* 0: no MKI */
};

struct kl_sel {
	char name[SEL_NAME_MAX];
	char val[SEL_VAL_MAX];
	size_t nlen, vlen;
};

struct keyline {
	const struct suite *suite;
	long tag;		/* -1: none */
	size_t nkeys;
	struct kl_key keys[KEYLINE_MAX_KEYS];
	size_t nsel;
	struct kl_sel sel[MAX_SEL];
	unsigned flags;
	int kdr;
	long wsh;
	char sp[SP_MAX];
	size_t splen;
};

struct keyline *
keyline_new(const struct suite *suite)
{
	struct keyline *kl;

	if (suite == NULL || (kl = calloc(1, sizeof(*kl))) == NULL)
		return NULL;
	kl->suite = suite;
	kl->tag = -1;
	kl->kdr = -1;
	kl->wsh = -1;
	return kl;
}

struct keyline *
keyline_dup(const struct keyline *kl)
{
	struct keyline *d;

	if (kl == NULL || (d = malloc(sizeof(*d))) == NULL)
		return NULL;
	memcpy(d, kl, sizeof(*d));
	return d;
}

void
keyline_clear_keys(struct keyline *kl)
{
	OPENSSL_cleanse(kl->keys, sizeof(kl->keys));
	kl->nkeys = 0;
}

void
keyline_free(struct keyline *kl)
{
	if (kl == NULL)
		return;
	/* the keys, and FEC_KEY=inline:... in the session parameters */
	OPENSSL_cleanse(kl->keys, sizeof(kl->keys));
	OPENSSL_cleanse(kl->sp, sizeof(kl->sp));
	free(kl);
}

static int
is_blank(uint8_t c)
{
	return c == ' ' || c == '\t';
}

int
keyline_is_comment(struct slice line)
{
	size_t i;

	for (i = 0; i < line.len; i++) {
		if (line.p[i] == '#')
			return 1;
		if (!is_blank(line.p[i]) && line.p[i] != '\r' &&
		    line.p[i] != '\n')
			return 0;
	}
	return 1;
}

/* Next blank-separated token of `s` into `tok`; 0 when none is left. */
static int
next_token(struct slice *s, struct slice *tok)
{
	size_t i = 0;

	while (i < s->len && is_blank(s->p[i]))
		i++;
	slice_skip(s, i);
	if (s->len == 0)
		return 0;
	for (i = 0; i < s->len && !is_blank(s->p[i]); i++)
		;
	slice_take(s, i, tok);
	return 1;
}

static int
is_name(struct slice s)
{
	size_t i;

	if (s.len == 0 || s.len >= SEL_NAME_MAX)
		return 0;
	for (i = 0; i < s.len; i++) {
		uint8_t c = s.p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

static int
parse_ssrc(struct slice s, uint32_t *v)
{
	uint64_t u;
	size_t i;

	if (s.len > 2 && s.p[0] == '0' && (s.p[1] == 'x' || s.p[1] == 'X')) {
		if (s.len > 10)
			return E_RANGE;
		u = 0;
		for (i = 2; i < s.len; i++) {
			int h = hex_digit(s.p[i]);

			if (h < 0)
				return E_SYNTAX;
			u = (u << 4) | (uint64_t)h;
		}
		*v = (uint32_t)u;
		return 0;
	}
	if (slice_to_u64(s, UINT32_MAX, &u) != 0)
		return slice_is_digits(s) ? E_RANGE : E_SYNTAX;
	*v = (uint32_t)u;
	return 0;
}

int
keyline_parse_addr(struct slice s, struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN + 1];
	struct slice h, port;
	uint64_t p;
	long c;
	int v6 = 0;

	if (s.len > 0 && s.p[0] == '[') {
		c = slice_chr(s, ']');
		if (c < 0 || (size_t)c + 1 >= s.len || s.p[c + 1] != ':')
			return E_SYNTAX;
		h = slice_make(s.p + 1, (size_t)c - 1);
		port = slice_make(s.p + c + 2, s.len - (size_t)c - 2);
		v6 = 1;
	} else {
		c = slice_chr(s, ':');
		if (c < 0)
			return E_SYNTAX;
		h = slice_make(s.p, (size_t)c);
		port = slice_make(s.p + c + 1, s.len - (size_t)c - 1);
	}
	if (h.len == 0 || h.len >= sizeof(host))
		return E_SYNTAX;
	if (!slice_is_digits(port))
		return E_SYNTAX;
	if (slice_to_u64(port, 65535, &p) != 0)
		return E_RANGE;
	memcpy(host, h.p, h.len);
	host[h.len] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (v6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return E_SYNTAX;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return E_SYNTAX;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
	}
	return 0;
}

/* Check a known selector's value; unknown names pass. */
static int
check_selector(struct slice name, struct slice val, char *why, size_t whysz)
{
	struct sockaddr_storage ss;
	uint32_t u32;
	uint64_t u;
	int r;

	if (slice_eq_cstr(name, "ssrc")) {
		if ((r = parse_ssrc(val, &u32)) != 0)
			goto bad;
	} else if (slice_eq_cstr(name, "src") || slice_eq_cstr(name, "dst")) {
		if ((r = keyline_parse_addr(val, &ss)) != 0)
			goto bad;
	} else if (slice_eq_cstr(name, "dir")) {
		r = E_SYNTAX;
		if (!slice_eq_cstr(val, "in") && !slice_eq_cstr(val, "out"))
			goto bad;
	} else if (slice_eq_cstr(name, "media")) {
		r = slice_is_digits(val) ? E_RANGE : E_SYNTAX;
		if (slice_to_u64(val, 65535, &u) != 0)
			goto bad;
	} else if (slice_eq_cstr(name, "type")) {
		r = E_SYNTAX;
		if (!is_name(val))
			goto bad;
	}
	return 0;
bad:
	sbk_why(why, whysz, "bad %.*s= selector '%.*s'", (int)name.len,
	    (const char *)name.p, (int)(val.len > 64 ? 64 : val.len),
	    (const char *)val.p);
	return r;
}

static int
set_selector(struct keyline *kl, struct slice name, struct slice val,
    char *why, size_t whysz)
{
	struct kl_sel *s = NULL;
	size_t i;
	int r;

	if (!is_name(name)) {
		sbk_why(why, whysz, "bad selector name");
		return E_SYNTAX;
	}
	for (i = 0; i < val.len; i++) {
		if (is_blank(val.p[i]) || val.p[i] == '\r' ||
		    val.p[i] == '\n' || val.p[i] == '\0') {
			sbk_why(why, whysz, "blank in selector value");
			return E_SYNTAX;
		}
	}
	for (i = 0; i < kl->nsel; i++) {
		if (slice_eq(name, slice_make(kl->sel[i].name,
		    kl->sel[i].nlen))) {
			s = &kl->sel[i];
			break;
		}
	}
	if (val.len == 0) {
		if (s != NULL) {
			memmove(s, s + 1, (size_t)(&kl->sel[kl->nsel] - (s + 1)) *
			    sizeof(*s));
			kl->nsel--;
		}
		return 0;
	}
	if ((r = check_selector(name, val, why, whysz)) != 0)
		return r;
	if (val.len >= SEL_VAL_MAX) {
		sbk_why(why, whysz, "selector %.*s= longer than %d bytes",
		    (int)name.len, (const char *)name.p, SEL_VAL_MAX - 1);
		return E_BIG;
	}
	if (s == NULL) {
		if (kl->nsel == MAX_SEL) {
			sbk_why(why, whysz, "more than %d selectors", MAX_SEL);
			return E_BIG;
		}
		s = &kl->sel[kl->nsel++];
		memcpy(s->name, name.p, name.len);
		s->name[name.len] = '\0';
		s->nlen = name.len;
	}
	memcpy(s->val, val.p, val.len);
	s->val[val.len] = '\0';
	s->vlen = val.len;
	return 0;
}

int
keyline_set_selector(struct keyline *kl, const char *name, struct slice value)
{
	return set_selector(kl, slice_cstr(name), value, NULL, 0);
}

struct slice
keyline_selector(const struct keyline *kl, const char *name)
{
	size_t i;

	for (i = 0; i < kl->nsel; i++)
		if (strcmp(kl->sel[i].name, name) == 0)
			return slice_make(kl->sel[i].val, kl->sel[i].vlen);
	return SLICE_NULL;
}

size_t
keyline_nselectors(const struct keyline *kl)
{
	return kl->nsel;
}

int
keyline_selector_at(const struct keyline *kl, size_t i, struct slice *name,
    struct slice *value)
{
	if (i >= kl->nsel)
		return E_NOTFOUND;
	*name = slice_make(kl->sel[i].name, kl->sel[i].nlen);
	*value = slice_make(kl->sel[i].val, kl->sel[i].vlen);
	return 0;
}

int
keyline_ssrc(const struct keyline *kl, uint32_t *ssrc)
{
	struct slice v = keyline_selector(kl, "ssrc");

	if (v.p == NULL || parse_ssrc(v, ssrc) != 0)
		return E_NOTFOUND;
	return 0;
}

int
keyline_src(const struct keyline *kl, struct sockaddr_storage *ss)
{
	struct slice v = keyline_selector(kl, "src");

	if (v.p == NULL || keyline_parse_addr(v, ss) != 0)
		return E_NOTFOUND;
	return 0;
}

int
keyline_dst(const struct keyline *kl, struct sockaddr_storage *ss)
{
	struct slice v = keyline_selector(kl, "dst");

	if (v.p == NULL || keyline_parse_addr(v, ss) != 0)
		return E_NOTFOUND;
	return 0;
}

enum keyline_dir
keyline_dir(const struct keyline *kl)
{
	struct slice v = keyline_selector(kl, "dir");

	if (slice_eq_cstr(v, "in"))
		return KEYLINE_DIR_IN;
	if (slice_eq_cstr(v, "out"))
		return KEYLINE_DIR_OUT;
	return KEYLINE_DIR_NONE;
}

long
keyline_media(const struct keyline *kl)
{
	struct slice v = keyline_selector(kl, "media");
	uint64_t u;

	if (v.p == NULL || slice_to_u64(v, 65535, &u) != 0)
		return -1;
	return (long)u;
}

const struct suite *
keyline_suite(const struct keyline *kl)
{
	return kl->suite;
}

size_t
keyline_nkeys(const struct keyline *kl)
{
	return kl->nkeys;
}

const uint8_t *
keyline_master(const struct keyline *kl, size_t i)
{
	return i < kl->nkeys ? kl->keys[i].master : NULL;
}

uint64_t
keyline_lifetime(const struct keyline *kl, size_t i)
{
	return i < kl->nkeys ? kl->keys[i].lifetime : 0;
}

size_t
keyline_mki(const struct keyline *kl, size_t i, uint64_t *value)
{
	if (i >= kl->nkeys)
		return 0;
	if (value != NULL)
		*value = kl->keys[i].mki;
	return kl->keys[i].mki_len;
}

unsigned
keyline_flags(const struct keyline *kl)
{
	return kl->flags;
}

int
keyline_kdr(const struct keyline *kl)
{
	return kl->kdr;
}

long
keyline_wsh(const struct keyline *kl)
{
	return kl->wsh;
}

struct slice
keyline_session_params(const struct keyline *kl)
{
	return slice_make(kl->sp, kl->splen);
}

long
keyline_tag(const struct keyline *kl)
{
	return kl->tag;
}

int
keyline_set_tag(struct keyline *kl, long tag)
{
	if (tag < -1 || tag > TAG_MAX)
		return E_RANGE;
	kl->tag = tag;
	return 0;
}

static int
mki_fits(uint64_t mki, size_t len)
{
	return len >= 8 || (mki >> (8 * len)) == 0;
}

static int
pow2_exp(uint64_t v)
{
	int e = 0;

	if (v == 0 || (v & (v - 1)) != 0)
		return -1;
	while (v > 1) {
		v >>= 1;
		e++;
	}
	return e;
}

int
keyline_add_key(struct keyline *kl, const uint8_t *master, size_t len,
    uint64_t lifetime, uint64_t mki, size_t mki_len)
{
	struct kl_key *k;

	if (len != kl->suite->key_len + kl->suite->salt_len)
		return E_KEY;
	if (mki_len > KEYLINE_MAX_MKI || !mki_fits(mki, mki_len))
		return E_RANGE;
	if (kl->nkeys == KEYLINE_MAX_KEYS)
		return E_BIG;
	k = &kl->keys[kl->nkeys++];
	memcpy(k->master, master, len);
	k->lifetime = lifetime;
	k->life_exp = pow2_exp(lifetime);
	k->mki = mki_len > 0 ? mki : 0;
	k->mki_len = mki_len;
	return 0;
}

int
keyline_add_random_key(struct keyline *kl)
{
	return keyline_add_pool_key(kl, NULL);
}

int
keyline_add_pool_key(struct keyline *kl, struct rnd_pool *rp)
{
	uint8_t m[SUITE_MAX_KEY_SALT];
	size_t n = kl->suite->key_len + kl->suite->salt_len;
	int r;

	if ((r = rnd_pool_bytes(rp, m, n)) == 0)
		r = keyline_add_key(kl, m, n, 0, 0, 0);
	OPENSSL_cleanse(m, sizeof(m));
	return r;
}

/* LIFETIME: "2^N" or a decimal, > 0. */
static int
parse_lifetime(struct slice s, struct kl_key *k, char *why, size_t whysz)
{
	uint64_t v;

	if (s.len > 2 && s.p[0] == '2' && s.p[1] == '^') {
		struct slice e = slice_make(s.p + 2, s.len - 2);

		if (!slice_is_digits(e) || slice_to_u64(e, 63, &v) != 0) {
			sbk_why(why, whysz, "bad lifetime '%.*s' (2^0..2^63)",
			    (int)(s.len > 32 ? 32 : s.len),
			    (const char *)s.p);
			return slice_is_digits(e) ? E_RANGE : E_SYNTAX;
		}
		k->lifetime = (uint64_t)1 << v;
		k->life_exp = (int)v;
		return 0;
	}
	if (!slice_is_digits(s)) {
		sbk_why(why, whysz, "bad lifetime '%.*s'",
		    (int)(s.len > 32 ? 32 : s.len), (const char *)s.p);
		return E_SYNTAX;
	}
	if (slice_to_u64(s, UINT64_MAX, &v) != 0 || v == 0) {
		sbk_why(why, whysz, "lifetime '%.*s' out of range",
		    (int)(s.len > 32 ? 32 : s.len), (const char *)s.p);
		return E_RANGE;
	}
	k->lifetime = v;
	k->life_exp = -1;
	return 0;
}

/* MKI: "VALUE:LENGTH", LENGTH 1..128 bytes, VALUE fits in LENGTH bytes. */
static int
parse_mki(struct slice s, struct kl_key *k, char *why, size_t whysz)
{
	struct slice v;
	uint64_t val, len;

	slice_split(&s, ':', &v);
	if (!slice_is_digits(v) || !slice_is_digits(s)) {
		sbk_why(why, whysz, "bad MKI (want VALUE:LENGTH)");
		return E_SYNTAX;
	}
	if (slice_to_u64(s, KEYLINE_MAX_MKI, &len) != 0 || len == 0) {
		sbk_why(why, whysz, "MKI length must be 1..%d bytes",
		    KEYLINE_MAX_MKI);
		return E_RANGE;
	}
	if (slice_to_u64(v, UINT64_MAX, &val) != 0 ||
	    !mki_fits(val, (size_t)len)) {
		sbk_why(why, whysz, "MKI value does not fit in %u bytes",
		    (unsigned)len);
		return E_RANGE;
	}
	k->mki = val;
	k->mki_len = (size_t)len;
	return 0;
}

/* One key-param: "inline:BASE64[|LIFETIME][|MKI:LEN]". */
static int
parse_key(struct keyline *kl, struct slice s, char *why, size_t whysz)
{
	uint8_t tmp[96];
	struct slice b, part;
	struct kl_key *k;
	size_t need = kl->suite->key_len + kl->suite->salt_len;
	int n, r = 0, nparts = 0, more;

	if (s.len < 7 || memcmp(s.p, "inline:", 7) != 0) {
		sbk_why(why, whysz, "key method is not 'inline:'");
		return E_SYNTAX;
	}
	slice_skip(&s, 7);
	if (kl->nkeys == KEYLINE_MAX_KEYS) {
		sbk_why(why, whysz, "more than %d keys", KEYLINE_MAX_KEYS);
		return E_BIG;
	}
	k = &kl->keys[kl->nkeys];
	memset(k, 0, sizeof(*k));
	k->life_exp = -1;
	more = slice_split(&s, '|', &b);
	n = b64_decode(b, tmp, sizeof(tmp));
	if (n == E_BIG) {
		sbk_why(why, whysz, "key is longer than %zu bytes, %s needs %zu",
		    sizeof(tmp), kl->suite->name, need);
		r = E_KEY;
		goto out;
	}
	if (n < 0) {
		sbk_why(why, whysz, "key is not valid base64");
		r = E_KEY;
		goto out;
	}
	if ((size_t)n != need) {
		sbk_why(why, whysz, "key is %d bytes, %s needs %zu", n,
		    kl->suite->name, need);
		r = E_KEY;
		goto out;
	}
	memcpy(k->master, tmp, need);
	while (more) {
		more = slice_split(&s, '|', &part);
		if (++nparts > 2 || part.len == 0) {
			sbk_why(why, whysz, "bad key parameters after '|'");
			r = E_SYNTAX;
			goto out;
		}
		if (slice_chr(part, ':') >= 0) {
			if (k->mki_len != 0) {
				sbk_why(why, whysz, "two MKIs");
				r = E_SYNTAX;
				goto out;
			}
			r = parse_mki(part, k, why, whysz);
		} else {
			if (k->mki_len != 0 || k->lifetime != 0) {
				sbk_why(why, whysz,
				    "lifetime must come before the MKI");
				r = E_SYNTAX;
				goto out;
			}
			r = parse_lifetime(part, k, why, whysz);
		}
		if (r != 0)
			goto out;
	}
	kl->nkeys++;
out:
	if (r != 0)
		OPENSSL_cleanse(k, sizeof(*k));
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return r;
}

/* Decode what we know of one session parameter; keep all of them. */
static int
parse_session_param(struct keyline *kl, struct slice t, char *why,
    size_t whysz)
{
	uint64_t v;

	if (slice_eq_cstr(t, "UNENCRYPTED_SRTP"))
		kl->flags |= KEYLINE_UNENCRYPTED_SRTP;
	else if (slice_eq_cstr(t, "UNENCRYPTED_SRTCP"))
		kl->flags |= KEYLINE_UNENCRYPTED_SRTCP;
	else if (slice_eq_cstr(t, "UNAUTHENTICATED_SRTP"))
		kl->flags |= KEYLINE_UNAUTHENTICATED_SRTP;
	else if (t.len > 4 && memcmp(t.p, "KDR=", 4) == 0) {
		if (slice_to_u64(slice_make(t.p + 4, t.len - 4), 24, &v) != 0) {
			sbk_why(why, whysz, "bad KDR (0..24)");
			return E_RANGE;
		}
		kl->kdr = (int)v;
	} else if (t.len > 4 && memcmp(t.p, "WSH=", 4) == 0) {
		if (slice_to_u64(slice_make(t.p + 4, t.len - 4), 0x7fffffff,
		    &v) != 0 || v < 64) {
			sbk_why(why, whysz, "bad WSH (64 or more)");
			return E_RANGE;
		}
		kl->wsh = (long)v;
	} else if (t.len > 10 && memcmp(t.p, "FEC_ORDER=", 10) == 0) {
		struct slice o = slice_make(t.p + 10, t.len - 10);

		if (!slice_eq_cstr(o, "FEC_SRTP") &&
		    !slice_eq_cstr(o, "SRTP_FEC")) {
			sbk_why(why, whysz, "bad FEC_ORDER");
			return E_SYNTAX;
		}
	}
	/* FEC_KEY=... and extensions are kept as written, not acted on. */
	if (kl->splen + (kl->splen > 0) + t.len >= SP_MAX) {
		sbk_why(why, whysz, "session parameters too long");
		return E_BIG;
	}
	if (kl->splen > 0)
		kl->sp[kl->splen++] = ' ';
	memcpy(kl->sp + kl->splen, t.p, t.len);
	kl->splen += t.len;
	return 0;
}

int
keyline_add_flags(struct keyline *kl, unsigned flags)
{
	static const struct {
		unsigned flag;
		const char *name;
	} fl[] = {
		{ KEYLINE_UNENCRYPTED_SRTP, "UNENCRYPTED_SRTP" },
		{ KEYLINE_UNENCRYPTED_SRTCP, "UNENCRYPTED_SRTCP" },
		{ KEYLINE_UNAUTHENTICATED_SRTP, "UNAUTHENTICATED_SRTP" },
	};
	int r;

	for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
		if ((flags & fl[i].flag) && !(kl->flags & fl[i].flag) &&
		    (r = parse_session_param(kl, slice_cstr(fl[i].name), NULL,
		    0)) != 0)
			return r;
	return 0;
}

/* The tag of an a=crypto value: "a=crypto:TAG" or a bare "TAG". */
static int
parse_tag(struct slice t, long *tag)
{
	uint64_t v;

	if (t.len > 9 && memcmp(t.p, "a=crypto:", 9) == 0)
		slice_skip(&t, 9);
	if (!slice_is_digits(t) || t.len > 9 || slice_to_u64(t, TAG_MAX, &v) != 0)
		return E_SYNTAX;
	*tag = (long)v;
	return 0;
}

int
keyline_parse(struct slice line, struct keyline **out, char *why,
    size_t whysz)
{
	struct slice s = line, tok, keys, kp, name;
	struct keyline *kl;
	const struct suite *suite = NULL;
	long tag = -1;
	int r, more;
	/* selectors are collected before the suite is known */
	struct slice selname[MAX_SEL], selval[MAX_SEL];
	size_t nsel = 0, i;

	*out = NULL;
	sbk_why(why, whysz, "%s", "");
	while (s.len > 0 && (s.p[s.len - 1] == '\n' || s.p[s.len - 1] == '\r'))
		s.len--;
	if (s.len > KEYLINE_MAX_LEN) {
		sbk_why(why, whysz, "line longer than %d bytes",
		    KEYLINE_MAX_LEN);
		return E_BIG;
	}
	for (;;) {
		if (!next_token(&s, &tok)) {
			sbk_why(why, whysz, "no crypto suite");
			return E_SYNTAX;
		}
		if (tok.len > 9 && memcmp(tok.p, "a=crypto:", 9) == 0) {
			if (parse_tag(tok, &tag) != 0) {
				sbk_why(why, whysz, "bad a=crypto tag");
				return E_SYNTAX;
			}
			continue;
		}
		if (tag < 0 && slice_is_digits(tok)) {
			if (parse_tag(tok, &tag) != 0) {
				sbk_why(why, whysz, "bad a=crypto tag");
				return E_SYNTAX;
			}
			continue;
		}
		if (slice_chr(tok, '=') < 0 || (suite = suite_by_name(tok)))
			break;
		if (tag >= 0) {
			sbk_why(why, whysz, "selector after the tag");
			return E_SYNTAX;
		}
		if (nsel == MAX_SEL) {
			sbk_why(why, whysz, "more than %d selectors", MAX_SEL);
			return E_BIG;
		}
		slice_split(&tok, '=', &name);
		selname[nsel] = name;
		selval[nsel++] = tok;
	}
	if (suite == NULL && (suite = suite_by_name(tok)) == NULL) {
		sbk_why(why, whysz, "unknown crypto suite '%.*s'",
		    (int)(tok.len > 40 ? 40 : tok.len), (const char *)tok.p);
		return E_KEY;
	}
	if (!next_token(&s, &keys)) {
		sbk_why(why, whysz, "no key after the suite");
		return E_SYNTAX;
	}
	if ((kl = keyline_new(suite)) == NULL)
		return E_NOMEM;
	kl->tag = tag;
	for (i = 0; i < nsel; i++) {
		if (selval[i].len == 0) {
			sbk_why(why, whysz, "empty selector %.*s=",
			    (int)(selname[i].len > 32 ? 32 : selname[i].len),
			    (const char *)selname[i].p);
			r = E_SYNTAX;
			goto fail;
		}
		for (size_t j = 0; j < i; j++) {
			if (slice_eq(selname[j], selname[i])) {
				sbk_why(why, whysz, "selector given twice");
				r = E_SYNTAX;
				goto fail;
			}
		}
		if ((r = set_selector(kl, selname[i], selval[i], why,
		    whysz)) != 0)
			goto fail;
	}
	do {
		more = slice_split(&keys, ';', &kp);
		if ((r = parse_key(kl, kp, why, whysz)) != 0)
			goto fail;
	} while (more);
	while (next_token(&s, &tok))
		if ((r = parse_session_param(kl, tok, why, whysz)) != 0)
			goto fail;
	*out = kl;
	return 0;
fail:
	keyline_free(kl);
	return r;
}

static int
fmt_key(const struct keyline *kl, const struct kl_key *k, struct buf *out)
{
	char b[B64_ENC_LEN(SUITE_MAX_KEY_SALT) + 1];
	int n, r;

	n = b64_encode(k->master, kl->suite->key_len + kl->suite->salt_len, b,
	    sizeof(b));
	if (n < 0)
		return n;
	r = buf_append_cstr(out, "inline:");
	if (r == 0)
		r = buf_append(out, b, (size_t)n);
	OPENSSL_cleanse(b, sizeof(b));
	if (r == 0 && k->lifetime != 0) {
		if (k->life_exp >= 0)
			r = buf_printf(out, "|2^%d", k->life_exp);
		else
			r = buf_printf(out, "|%llu",
			    (unsigned long long)k->lifetime);
	}
	if (r == 0 && k->mki_len != 0)
		r = buf_printf(out, "|%llu:%zu", (unsigned long long)k->mki,
		    k->mki_len);
	return r;
}

int
keyline_format(const struct keyline *kl, unsigned fmt, struct buf *out)
{
	size_t i, start = buf_len(out);
	int r = 0;

	if (kl->nkeys == 0)
		return E_STATE;
	for (i = 0; r == 0 && (fmt & KEYLINE_FMT_SELECTORS) && i < kl->nsel;
	    i++)
		r = buf_printf(out, "%s=%s ", kl->sel[i].name, kl->sel[i].val);
	if (r == 0 && (fmt & KEYLINE_FMT_TAG) && kl->tag >= 0)
		r = buf_printf(out, "%ld ", kl->tag);
	if (r == 0)
		r = buf_printf(out, "%s ", kl->suite->name);
	for (i = 0; r == 0 && i < kl->nkeys; i++) {
		if (i > 0)
			r = buf_append_u8(out, ';');
		if (r == 0)
			r = fmt_key(kl, &kl->keys[i], out);
	}
	if (r == 0 && kl->splen > 0) {
		r = buf_append_u8(out, ' ');
		if (r == 0)
			r = buf_append(out, kl->sp, kl->splen);
	}
	if (r != 0)
		buf_truncate(out, start);
	return r;
}
