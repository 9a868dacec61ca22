/* digest.c - SIP digest authentication: credentials, challenges, checks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/b64.h"
#include "base/rnd.h"
#include "sip/digest.h"
#include "sip/digest_int.h"

/* ---- small helpers ---- */

/*
 * Hex of H(parts[0] ":" parts[1] ":" ...) into `hex` (65 bytes). Returns 0
 * or E_CRYPTO.
 */
static int
hash_hex(enum digest_alg alg, const struct slice *parts, size_t np, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	int ok;

	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return E_CRYPTO;
	ok = EVP_DigestInit_ex(ctx, alg == DIGEST_SHA256 ? EVP_sha256() :
	    EVP_md5(), NULL) == 1;
	for (size_t i = 0; ok && i < np; i++) {
		if (i > 0)
			ok = EVP_DigestUpdate(ctx, ":", 1) == 1;
		if (ok && parts[i].len > 0)
			ok = EVP_DigestUpdate(ctx, parts[i].p,
			    parts[i].len) == 1;
	}
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 &&
		    (size_t)mdlen * 2 == alg_hexlen(alg);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return E_CRYPTO;
	for (unsigned int i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * mdlen] = '\0';
	return 0;
}

/* ---- the verifier ---- */

#define REALM_MAX	256
#define SECRET_MIN	16
#define SECRET_MAX	64
#define NC_SLOTS_MAX	(1u << 20)
#define NONCE_RAW	36	/* time 8, serial 8, random 4, tag 16 */
#define NONCE_TAG	16
#define NONCE_LABEL	"sbk-digest"

struct nc_slot {
	uint64_t serial;	/* the highest serial stored here; 0: none */
	uint32_t nc;		/* its last accepted nc */
};

struct digest {
	uint8_t realm[REALM_MAX];
	size_t realm_len;
	uint8_t secret[SECRET_MAX];
	size_t secret_len;
	uint64_t lifetime_s;
	uint64_t serial;	/* of the last nonce issued */
	int no_md5;
	size_t nslots;
	struct nc_slot *slots;
};

struct digest *
digest_new(const struct digest_cfg *cfg, int *err)
{
	struct digest *d;

	*err = E_INVAL;
	if (cfg == NULL || cfg->realm.len == 0 || cfg->realm.len > REALM_MAX ||
	    cfg->secret == NULL || cfg->secret_len < SECRET_MIN ||
	    cfg->secret_len > SECRET_MAX || cfg->nc_slots > NC_SLOTS_MAX)
		return NULL;
	for (size_t i = 0; i < cfg->realm.len; i++)
		if (is_ctl(cfg->realm.p[i]) || cfg->realm.p[i] == '"' ||
		    cfg->realm.p[i] == '\\')
			return NULL;
	*err = E_NOMEM;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->nslots = cfg->nc_slots != 0 ? cfg->nc_slots : 1024;
	if ((d->slots = calloc(d->nslots, sizeof(*d->slots))) == NULL) {
		free(d);
		return NULL;
	}
	memcpy(d->realm, cfg->realm.p, cfg->realm.len);
	d->realm_len = cfg->realm.len;
	memcpy(d->secret, cfg->secret, cfg->secret_len);
	d->secret_len = cfg->secret_len;
	d->lifetime_s = cfg->lifetime_s != 0 ? cfg->lifetime_s : 300;
	d->no_md5 = cfg->no_md5 != 0;
	*err = 0;
	return d;
}

void
digest_free(struct digest *d)
{
	if (d == NULL)
		return;
	free(d->slots);
	OPENSSL_cleanse(d, sizeof(*d));
	free(d);
}

/* The nonce's tag over its first NONCE_RAW - NONCE_TAG bytes. */
static int
nonce_tag(const struct digest *d, const uint8_t *raw, uint8_t *tag)
{
	uint8_t msg[sizeof(NONCE_LABEL) - 1 + NONCE_RAW + REALM_MAX];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t len = 0;

	memcpy(msg, NONCE_LABEL, sizeof(NONCE_LABEL) - 1);
	len += sizeof(NONCE_LABEL) - 1;
	memcpy(msg + len, raw, NONCE_RAW - NONCE_TAG);
	len += NONCE_RAW - NONCE_TAG;
	memcpy(msg + len, d->realm, d->realm_len);
	len += d->realm_len;
	if (HMAC(EVP_sha256(), d->secret, (int)d->secret_len, msg, len, md,
	    &mdlen) == NULL || mdlen < NONCE_TAG)
		return E_CRYPTO;
	memcpy(tag, md, NONCE_TAG);
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int
digest_nonce(struct digest *d, uint64_t now_ms, char *nonce, size_t n)
{
	uint8_t raw[NONCE_RAW];
	char b64[B64_ENC_LEN(NONCE_RAW) + 1];
	int e;

	if (n < DIGEST_NONCE_LEN + 1)
		return E_INVAL;
	put_be64(raw, now_ms / 1000);
	put_be64(raw + 8, ++d->serial);
	if ((e = rnd_bytes(raw + 16, 4)) != 0 ||
	    (e = nonce_tag(d, raw, raw + NONCE_RAW - NONCE_TAG)) != 0)
		return e;
	e = b64_encode(raw, sizeof(raw), b64, sizeof(b64));
	if (e != DIGEST_NONCE_LEN)
		return e < 0 ? e : E_CRYPTO;
	/* base64url: the nonce travels in a quoted string and in URIs. */
	for (int i = 0; i < DIGEST_NONCE_LEN; i++)
		nonce[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	nonce[DIGEST_NONCE_LEN] = '\0';
	return 0;
}

/*
 * Is `nonce` ours? Then 0 with its time (s) and serial. Else E_AUTH
 * (a wrong length, alphabet or tag).
 */
static int
nonce_open(const struct digest *d, struct slice nonce, uint64_t *ts,
    uint64_t *serial)
{
	uint8_t b64[DIGEST_NONCE_LEN], raw[NONCE_RAW], tag[NONCE_TAG];

	if (nonce.len != DIGEST_NONCE_LEN)
		return E_AUTH;
	for (size_t i = 0; i < nonce.len; i++) {
		uint8_t c = nonce.p[i];

		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (c == '+' || c == '/' || c == '=')
			return E_AUTH;
		b64[i] = c;
	}
	if (b64_decode(slice_make(b64, sizeof(b64)), raw, sizeof(raw)) !=
	    NONCE_RAW || nonce_tag(d, raw, tag) != 0 ||
	    CRYPTO_memcmp(tag, raw + NONCE_RAW - NONCE_TAG, NONCE_TAG) != 0)
		return E_AUTH;
	*ts = get_be64(raw);
	*serial = get_be64(raw + 8);
	return 0;
}

int
digest_challenge_value(const struct digest *d, enum digest_alg alg,
    struct slice nonce, int stale, struct buf *out)
{
	if ((unsigned)alg >= DIGEST_NALG || (alg == DIGEST_MD5 && d->no_md5))
		return E_INVAL;
	for (size_t i = 0; i < nonce.len; i++)
		if (is_ctl(nonce.p[i]) || nonce.p[i] == '"' ||
		    nonce.p[i] == '\\')
			return E_INVAL;
	return buf_printf(out, "Digest realm=\"%.*s\", qop=\"auth\", "
	    "algorithm=%s, nonce=\"%.*s\"%s", (int)d->realm_len,
	    (const char *)d->realm, alg_name(alg), (int)nonce.len,
	    (const char *)nonce.p, stale ? ", stale=true" : "");
}

int
digest_challenge(struct digest *d, uint64_t now_ms, int stale,
    const char *hname, struct buf *out)
{
	static const enum digest_alg order[] = { DIGEST_SHA256, DIGEST_MD5 };
	char nonce[DIGEST_NONCE_LEN + 1];
	size_t was = buf_len(out);
	int e;

	if ((e = digest_nonce(d, now_ms, nonce, sizeof(nonce))) != 0)
		return e;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (order[i] == DIGEST_MD5 && d->no_md5)
			continue;
		if ((e = buf_printf(out, "%s: ", hname)) != 0 ||
		    (e = digest_challenge_value(d, order[i],
		    slice_make(nonce, DIGEST_NONCE_LEN), stale, out)) != 0 ||
		    (e = buf_append_cstr(out, "\r\n")) != 0) {
			buf_truncate(out, was);
			return e;
		}
	}
	return 0;
}

/* ---- parsing credentials ---- */

enum {
	P_USERNAME, P_REALM, P_NONCE, P_URI, P_RESPONSE, P_ALGORITHM,
	P_CNONCE, P_OPAQUE, P_QOP, P_NC, P_USERHASH, P_COUNT_
};

static const char *const pname[P_COUNT_] = {
	"username", "realm", "nonce", "uri", "response", "algorithm",
	"cnonce", "opaque", "qop", "nc", "userhash",
};

/* LWS: folded lines reach us verbatim (sip.h). */
static int
is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_tchar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

static void
skip_ws(struct slice *s)
{
	while (s->len > 0 && is_ws(s->p[0]))
		(void)slice_skip(s, 1);
}

static struct slice
take_token(struct slice *s)
{
	size_t i = 0;
	struct slice t;

	while (i < s->len && is_tchar(s->p[i]))
		i++;
	(void)slice_take(s, i, &t);
	return t;
}

/*
 * One value (token or quoted string) from `s`; with `keep`, its unescaped
 * bytes are appended to p->store and *v points at them.
 */
static int
take_value(struct slice *s, struct digest_params *p, int keep,
    struct slice *v, char *why, size_t n)
{
	uint8_t *dst = p->store + p->used;
	size_t room = sizeof(p->store) - p->used, len = 0, i;

	if (room > DIGEST_MAX_VALUE)
		room = DIGEST_MAX_VALUE;
	if (s->len > 0 && s->p[0] == '"') {
		for (i = 1;; i++) {
			uint8_t c;

			if (i >= s->len) {
				sbk_why(why, n, "unterminated quoted string");
				return E_SYNTAX;
			}
			c = s->p[i];
			if (c == '"')
				break;
			if (c == '\\') {
				if (++i >= s->len) {
					sbk_why(why, n, "unterminated quoted "
					    "string");
					return E_SYNTAX;
				}
				c = s->p[i];
			}
			if (is_ctl(c) && c != '\t') {
				sbk_why(why, n, "control byte in a quoted "
				    "string");
				return E_SYNTAX;
			}
			if (len >= room) {
				sbk_why(why, n, "value longer than %d bytes",
				    DIGEST_MAX_VALUE);
				return E_BIG;
			}
			if (keep)
				dst[len] = c;
			len++;
		}
		(void)slice_skip(s, i + 1);
	} else {
		struct slice t = take_token(s);

		if (t.len == 0) {
			sbk_why(why, n, "expected a value");
			return E_SYNTAX;
		}
		if (t.len > room) {
			sbk_why(why, n, "value longer than %d bytes",
			    DIGEST_MAX_VALUE);
			return E_BIG;
		}
		if (keep)
			memcpy(dst, t.p, t.len);
		len = t.len;
	}
	if (keep) {
		*v = slice_make(dst, len);
		p->used += len;
	}
	return 0;
}

static int
param_index(struct slice name)
{
	for (int i = 0; i < P_COUNT_; i++)
		if (slice_case_eq_cstr(name, pname[i]))
			return i;
	return -1;
}

/* The list of name=value pairs after the scheme, into v[]. */
static int
parse_params(struct slice s, struct digest_params *p, struct slice *v,
    char *why, size_t n)
{
	unsigned seen = 0, count = 0;
	int e;

	for (;;) {
		struct slice name, val = SLICE_NULL;
		int k;

		skip_ws(&s);
		name = take_token(&s);
		if (name.len == 0) {
			sbk_why(why, n, "expected a parameter name");
			return E_SYNTAX;
		}
		if (++count > DIGEST_MAX_PARAMS) {
			sbk_why(why, n, "more than %d parameters",
			    DIGEST_MAX_PARAMS);
			return E_BIG;
		}
		k = param_index(name);
		skip_ws(&s);
		if (s.len == 0 || s.p[0] != '=') {
			sbk_why(why, n, "expected '=' after %.*s", show(name),
			    (const char *)name.p);
			return E_SYNTAX;
		}
		(void)slice_skip(&s, 1);
		skip_ws(&s);
		if (k >= 0 && (seen & (1u << k)) != 0) {
			sbk_why(why, n, "duplicate %s", pname[k]);
			return E_SYNTAX;
		}
		if ((e = take_value(&s, p, k >= 0, &val, why, n)) != 0)
			return e;
		if (k >= 0) {
			seen |= 1u << k;
			v[k] = val;
		}
		skip_ws(&s);
		if (s.len == 0)
			return 0;
		if (s.p[0] != ',') {
			sbk_why(why, n, "expected ',' after %.*s", show(name),
			    (const char *)name.p);
			return E_SYNTAX;
		}
		(void)slice_skip(&s, 1);
	}
}

static int
is_hex_of(struct slice s, size_t len)
{
	if (s.len != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (hex_digit(s.p[i]) < 0)
			return 0;
	return 1;
}

/* The parsed parameters into `p`: algorithm, qop, the required ones. */
static int
check_params(struct digest_params *p, const struct slice *v, char *why,
    size_t n)
{
	static const int need[] = { P_USERNAME, P_REALM, P_NONCE, P_URI,
	    P_RESPONSE, P_NC, P_CNONCE };

	if (v[P_USERHASH].p != NULL && !slice_case_eq_cstr(v[P_USERHASH],
	    "false")) {
		sbk_why(why, n, "userhash is not supported");
		return E_UNSUPPORTED;
	}
	p->alg = DIGEST_MD5;
	if (v[P_ALGORITHM].p != NULL) {
		if (slice_case_eq_cstr(v[P_ALGORITHM], "SHA-256"))
			p->alg = DIGEST_SHA256;
		else if (!slice_case_eq_cstr(v[P_ALGORITHM], "MD5")) {
			sbk_why(why, n, "algorithm %.*s is not supported",
			    show(v[P_ALGORITHM]),
			    (const char *)v[P_ALGORITHM].p);
			return E_UNSUPPORTED;
		}
	}
	if (v[P_QOP].p == NULL) {
		sbk_why(why, n, "no qop (the RFC 2069 form is not supported)");
		return E_UNSUPPORTED;
	}
	if (!slice_case_eq_cstr(v[P_QOP], "auth")) {
		sbk_why(why, n, "qop %.*s is not supported", show(v[P_QOP]),
		    (const char *)v[P_QOP].p);
		return E_UNSUPPORTED;
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (v[need[i]].p == NULL) {
			sbk_why(why, n, "no %s", pname[need[i]]);
			return E_SYNTAX;
		}
	if (!is_hex_of(v[P_NC], 8)) {
		sbk_why(why, n, "nc must be 8 hex digits");
		return E_SYNTAX;
	}
	p->nc = 0;
	for (size_t i = 0; i < 8; i++)
		p->nc = p->nc << 4 | (uint32_t)hex_digit(v[P_NC].p[i]);
	if (p->nc == 0) {
		sbk_why(why, n, "nc must start at 00000001");
		return E_SYNTAX;
	}
	if (v[P_CNONCE].len == 0 || v[P_URI].len == 0) {
		sbk_why(why, n, "empty %s", v[P_URI].len == 0 ? "uri" :
		    "cnonce");
		return E_SYNTAX;
	}
	if (!is_hex_of(v[P_RESPONSE], alg_hexlen(p->alg))) {
		sbk_why(why, n, "response must be %zu hex digits for %s",
		    alg_hexlen(p->alg), alg_name(p->alg));
		return E_SYNTAX;
	}
	p->username = v[P_USERNAME];
	p->realm = v[P_REALM];
	p->nonce = v[P_NONCE];
	p->uri = v[P_URI];
	p->response = v[P_RESPONSE];
	p->cnonce = v[P_CNONCE];
	p->opaque = v[P_OPAQUE];
	p->qop = v[P_QOP];
	p->nc_text = v[P_NC];
	return 0;
}

int
digest_parse(struct slice value, struct digest_params *p, char *why,
    size_t n)
{
	struct slice v[P_COUNT_], s = value, scheme;
	int e;

	sbk_why(why, n, "%s", "");
	memset(p, 0, offsetof(struct digest_params, store));
	for (int i = 0; i < P_COUNT_; i++)
		v[i] = SLICE_NULL;
	if (value.len > DIGEST_MAX_HDR) {
		sbk_why(why, n, "longer than %d bytes", DIGEST_MAX_HDR);
		return E_BIG;
	}
	skip_ws(&s);
	scheme = take_token(&s);
	if (scheme.len == 0) {
		sbk_why(why, n, "no scheme");
		return E_SYNTAX;
	}
	if (!slice_case_eq_cstr(scheme, "Digest")) {
		sbk_why(why, n, "scheme %.*s is not supported", show(scheme),
		    (const char *)scheme.p);
		return E_UNSUPPORTED;
	}
	if (s.len == 0 || !is_ws(s.p[0])) {
		sbk_why(why, n, "no parameters after Digest");
		return E_SYNTAX;
	}
	if ((e = parse_params(s, p, v, why, n)) != 0 ||
	    (e = check_params(p, v, why, n)) != 0)
		return e;
	return 0;
}

int
digest_uri_matches(struct slice uri, struct slice request_uri)
{
	return uri.len > 0 && slice_eq(uri, request_uri);
}

/* ---- verifying ---- */

const char *
digest_result_str(enum digest_result r)
{
	switch (r) {
	case DIGEST_OK:			return "ok";
	case DIGEST_STALE:		return "stale";
	case DIGEST_BAD_RESPONSE:	return "bad response";
	case DIGEST_UNKNOWN_USER:	return "unknown user";
	case DIGEST_BAD_NONCE:		return "bad nonce";
	case DIGEST_REPLAY:		return "replay";
	case DIGEST_MALFORMED:		return "malformed";
	case DIGEST_UNSUPPORTED:	return "unsupported";
	}
	return "unknown result";
}

int
digest_ha1_hex(enum digest_alg alg, struct slice user, struct slice realm,
    struct slice password, char *hex, size_t n)
{
	struct slice parts[3] = { user, realm, password };

	if ((unsigned)alg >= DIGEST_NALG || n < 65)
		return E_INVAL;
	return hash_hex(alg, parts, 3, hex);
}

int
digest_response_hex(struct slice ha1, struct slice method,
    const struct digest_params *p, char *hex, size_t n)
{
	char ha2[65];
	struct slice parts[6];
	int e;

	if ((unsigned)p->alg >= DIGEST_NALG || n < 65)
		return E_INVAL;
	parts[0] = method;
	parts[1] = p->uri;
	if ((e = hash_hex(p->alg, parts, 2, ha2)) != 0)
		return e;
	parts[0] = ha1;
	parts[1] = p->nonce;
	parts[2] = p->nc_text;
	parts[3] = p->cnonce;
	parts[4] = p->qop;
	parts[5] = slice_make(ha2, alg_hexlen(p->alg));
	return hash_hex(p->alg, parts, 6, hex);
}

#define RESULT(r, text) do { \
	if (reason != NULL) \
		*reason = (text); \
	return (r); \
} while (0)

enum digest_result
digest_verify(struct digest *d, const struct digest_creds *creds,
    const struct digest_params *p, struct slice method, uint64_t now_ms,
    struct slice *user, const char **reason)
{
	char want[65];
	uint8_t got[64];
	struct slice ha1;
	struct nc_slot *slot;
	static const char dummy_ha1[] = "00000000000000000000000000000000"
	    "00000000000000000000000000000000";
	uint64_t ts, serial, now_s = now_ms / 1000;
	int known;

	if ((unsigned)p->alg >= DIGEST_NALG || p->response.len !=
	    alg_hexlen(p->alg) || p->nc == 0)
		RESULT(DIGEST_MALFORMED, "credentials not from digest_parse");
	if (p->alg == DIGEST_MD5 && d->no_md5)
		RESULT(DIGEST_UNSUPPORTED, "md5 is not accepted");
	if (!slice_eq(p->realm, slice_make(d->realm, d->realm_len)))
		RESULT(DIGEST_UNKNOWN_USER, "not our realm");
	if (nonce_open(d, p->nonce, &ts, &serial) != 0)
		RESULT(DIGEST_BAD_NONCE, "not a nonce of ours");
	/* An unknown user costs the same hashing: no user-list oracle. */
	known = digest_creds_lookup(creds, p->username, p->realm, p->alg,
	    &ha1) == 0;
	if (!known)
		ha1 = slice_make(dummy_ha1, alg_hexlen(p->alg));
	if (digest_response_hex(ha1, method, p, want, sizeof(want)) != 0)
		RESULT(DIGEST_BAD_RESPONSE, "crypto library failure");
	if (!known)
		RESULT(DIGEST_UNKNOWN_USER, "no such user for the algorithm");
	/* Hex digits in either case, as some phones send upper case. */
	for (size_t i = 0; i < p->response.len; i++) {
		uint8_t c = p->response.p[i];

		got[i] = c >= 'A' && c <= 'F' ? (uint8_t)(c + 'a' - 'A') : c;
	}
	if (CRYPTO_memcmp(got, want, p->response.len) != 0)
		RESULT(DIGEST_BAD_RESPONSE, "wrong response");

	/* The password was right: from here on the worst is "stale". */
	if (ts > now_s || now_s - ts > d->lifetime_s)
		RESULT(DIGEST_STALE, "nonce expired");
	slot = &d->slots[serial % d->nslots];
	if (slot->serial > serial)
		RESULT(DIGEST_STALE, "nonce left the replay table");
	if (slot->serial == serial) {
		if (p->nc <= slot->nc)
			RESULT(DIGEST_REPLAY, "nc not above the last one seen");
	} else
		slot->serial = serial;
	slot->nc = p->nc;
	if (user != NULL)
		*user = p->username;
	RESULT(DIGEST_OK, "ok");
}

enum digest_result
digest_check(struct digest *d, const struct digest_creds *creds,
    struct slice value, struct slice method, struct slice request_uri,
    uint64_t now_ms, struct digest_params *p, struct slice *user, char *why,
    size_t n)
{
	const char *reason = NULL;
	enum digest_result r;
	int e;

	if ((e = digest_parse(value, p, why, n)) != 0)
		return e == E_UNSUPPORTED ? DIGEST_UNSUPPORTED :
		    DIGEST_MALFORMED;
	if (!digest_uri_matches(p->uri, request_uri)) {
		sbk_why(why, n, "uri does not match the request-uri");
		return DIGEST_MALFORMED;
	}
	r = digest_verify(d, creds, p, method, now_ms, user, &reason);
	sbk_why(why, n, "%s", reason != NULL ? reason : "");
	return r;
}
