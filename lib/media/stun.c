/* stun.c - STUN messages (RFC 8489): parse, check and build, for ICE. */

/*
 * MESSAGE-INTEGRITY is HMAC-SHA1 through OpenSSL's one-shot HMAC(), which
 * allocates inside OpenSSL: STUN is the control side of a media port (a
 * check every 50 ms while ICE runs, one every few seconds after), not the
 * per-packet path. FINGERPRINT is our own CRC-32 (no zlib dependency).
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/be.h"
#include "media/stun.h"

enum {
	A_MAPPED_ADDRESS = 0x0001,
	A_USERNAME = 0x0006,
	A_MESSAGE_INTEGRITY = 0x0008,
	A_ERROR_CODE = 0x0009,
	A_UNKNOWN_ATTRIBUTES = 0x000A,
	A_XOR_MAPPED_ADDRESS = 0x0020,
	A_PRIORITY = 0x0024,
	A_USE_CANDIDATE = 0x0025,
	A_FINGERPRINT = 0x8028,
	A_ICE_CONTROLLED = 0x8029,
	A_ICE_CONTROLLING = 0x802A,
};

#define FP_XOR 0x5354554eu
#define MI_LEN 20		/* HMAC-SHA1 */
#define USERNAME_MAX 513	/* "ufrag:ufrag", 256 ice-chars each */
#define REASON_MAX 763		/* RFC 8489 14.8 */

/*
 * CRC-32 (ISO-HDLC: reflected 0xEDB88320, as zlib and Ethernet), half a
 * byte a step: a 16-entry table, enough for messages of 100 bytes.
 */
static uint32_t
crc32(const uint8_t *p, size_t n)
{
	static const uint32_t t[16] = {
		0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu,
		0x76dc4190u, 0x6b6b51f4u, 0x4db26158u, 0x5005713cu,
		0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
		0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
	};
	uint32_t c = 0xffffffffu;
	size_t i;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		c = (c >> 4) ^ t[c & 15];
		c = (c >> 4) ^ t[c & 15];
	}
	return ~c;
}

/*
 * HMAC-SHA1 over the first `at` bytes of `msg` (the message up to its
 * MESSAGE-INTEGRITY), with the header's length set as if the message ended
 * right after MESSAGE-INTEGRITY (RFC 8489 14.5). 0 or E_CRYPTO.
 */
static int
integrity(const uint8_t *msg, size_t at, const uint8_t *key, size_t keylen,
    uint8_t md[MI_LEN])
{
	static const uint8_t none[1];
	uint8_t buf[STUN_MAX];
	uint8_t out[EVP_MAX_MD_SIZE];
	unsigned outlen = 0;

	if (at < STUN_HDR || at > sizeof(buf) || keylen > 4096)
		return E_CRYPTO;
	memcpy(buf, msg, at);
	put_be16(buf + 2, at + 4 + MI_LEN - STUN_HDR);
	if (HMAC(EVP_sha1(), key != NULL ? key : none, (int)keylen, buf, at,
	    out, &outlen) == NULL || outlen != MI_LEN)
		return E_CRYPTO;
	memcpy(md, out, MI_LEN);
	return 0;
}

int
stun_is(struct slice pkt)
{
	return pkt.len >= STUN_HDR && pkt.p[0] < 4 &&
	    be32(pkt.p + 4) == STUN_COOKIE;
}

static int
known_required(uint16_t t)
{
	switch (t) {
	case A_MAPPED_ADDRESS:
	case A_USERNAME:
	case A_MESSAGE_INTEGRITY:
	case A_ERROR_CODE:
	case A_UNKNOWN_ATTRIBUTES:
	case A_XOR_MAPPED_ADDRESS:
	case A_PRIORITY:
	case A_USE_CANDIDATE:
		return 1;
	}
	return 0;
}

static int
parse_xor_addr(const uint8_t *v, size_t n, const uint8_t tid[12],
    struct net_addr *a)
{
	uint8_t x[16];
	uint16_t port;
	size_t i;

	if (n < 4)
		return E_SYNTAX;
	port = (uint16_t)(be16(v + 2) ^ (STUN_COOKIE >> 16));
	put_be32(x, STUN_COOKIE);
	memcpy(x + 4, tid, 12);
	memset(a, 0, sizeof(*a));
	if (v[1] == 1 && n == 8) {
		uint8_t ip[4];

		for (i = 0; i < 4; i++)
			ip[i] = v[4 + i] ^ x[i];
		a->u.in4.sin_family = AF_INET;
		a->u.in4.sin_port = htons(port);
		memcpy(&a->u.in4.sin_addr, ip, 4);
		a->len = sizeof(a->u.in4);
		return 0;
	}
	if (v[1] == 2 && n == 20) {
		uint8_t ip[16];

		for (i = 0; i < 16; i++)
			ip[i] = v[4 + i] ^ x[i];
		a->u.in6.sin6_family = AF_INET6;
		a->u.in6.sin6_port = htons(port);
		memcpy(&a->u.in6.sin6_addr, ip, 16);
		a->len = sizeof(a->u.in6);
		return 0;
	}
	return E_SYNTAX;
}

/* One attribute before MESSAGE-INTEGRITY (or MESSAGE-INTEGRITY itself). */
static int
parse_attr(struct stun_msg *m, uint16_t t, const uint8_t *v, size_t n,
    size_t off)
{
	unsigned code;

	switch (t) {
	case A_USERNAME:
		if (n > USERNAME_MAX)
			return E_SYNTAX;
		if (m->username.len == 0)
			m->username = slice_make(v, n);
		return 0;
	case A_MESSAGE_INTEGRITY:
		if (n != MI_LEN)
			return E_SYNTAX;
		m->integrity_at = off;
		return 0;
	case A_ERROR_CODE:
		if (n < 4 || n > 4 + REASON_MAX || v[0] != 0 ||
		    (v[1] & 0xf8) != 0)
			return E_SYNTAX;
		code = (v[2] & 7) * 100u + v[3];
		if ((v[2] & 7) < 3 || (v[2] & 7) > 6 || v[3] > 99)
			return E_SYNTAX;
		if (m->error_code == 0)
			m->error_code = (uint16_t)code;
		return 0;
	case A_XOR_MAPPED_ADDRESS: {
		struct net_addr a;

		if (parse_xor_addr(v, n, m->tid, &a) != 0)
			return E_SYNTAX;
		if (m->mapped.len == 0)
			m->mapped = a;
		return 0;
	}
	case A_PRIORITY:
		if (n != 4)
			return E_SYNTAX;
		if (!m->has_priority) {
			m->has_priority = 1;
			m->priority = be32(v);
		}
		return 0;
	case A_USE_CANDIDATE:
		if (n != 0)
			return E_SYNTAX;
		m->use_candidate = 1;
		return 0;
	case A_ICE_CONTROLLED:
	case A_ICE_CONTROLLING:
		if (n != 8)
			return E_SYNTAX;
		if (m->role == 0) {
			m->role = t == A_ICE_CONTROLLING ? 1 : 2;
			m->tiebreaker = ((uint64_t)be32(v) << 32) | be32(v + 4);
		}
		return 0;
	}
	if (t < 0x8000 && !known_required(t) &&
	    m->n_unknown < STUN_UNKNOWN_MAX)
		m->unknown[m->n_unknown++] = t;
	return 0;
}

int
stun_parse(struct slice pkt, struct stun_msg *m)
{
	const uint8_t *p = pkt.p;
	size_t off, n, padded;
	uint16_t t;
	int r;

	memset(m, 0, sizeof(*m));
	if (pkt.len < STUN_HDR || pkt.len > STUN_MAX || (p[0] & 0xc0) != 0 ||
	    be32(p + 4) != STUN_COOKIE)
		return E_SYNTAX;
	n = be16(p + 2);
	if ((n & 3) != 0 || n + STUN_HDR != pkt.len)
		return E_SYNTAX;
	m->type = be16(p);
	memcpy(m->tid, p + 8, 12);
	for (off = STUN_HDR; off < pkt.len; off += 4 + padded) {
		if (pkt.len - off < 4)
			return E_SYNTAX;
		t = be16(p + off);
		n = be16(p + off + 2);
		padded = (n + 3) & ~(size_t)3;
		if (padded > pkt.len - off - 4)
			return E_SYNTAX;
		if (t == A_FINGERPRINT) {
			if (n != 4 || off + 8 != pkt.len ||
			    (crc32(p, off) ^ FP_XOR) != be32(p + off + 4))
				return E_SYNTAX;
			m->has_fingerprint = 1;
			return 0;
		}
		if (m->integrity_at != 0)
			continue;	/* RFC 8489 14.5: ignored */
		if ((r = parse_attr(m, t, p + off + 4, n, off)) != 0)
			return r;
	}
	return 0;
}

int
stun_check_integrity(struct slice pkt, const struct stun_msg *m,
    const uint8_t *key, size_t keylen)
{
	uint8_t md[MI_LEN];
	size_t at = m->integrity_at;
	int ok;

	if (at < STUN_HDR || pkt.len > STUN_MAX || at > pkt.len ||
	    pkt.len - at < 4 + MI_LEN ||
	    be16(pkt.p + at) != A_MESSAGE_INTEGRITY ||
	    be16(pkt.p + at + 2) != MI_LEN)
		return E_AUTH;
	if (integrity(pkt.p, at, key, keylen, md) != 0)
		return E_AUTH;
	ok = CRYPTO_memcmp(md, pkt.p + at + 4, MI_LEN) == 0;
	return ok ? 0 : E_AUTH;
}

/* A message being built: `len` bytes so far, `bad` once anything overflowed. */
struct wr {
	uint8_t *p;
	size_t cap, len;
	int bad;
};

static uint8_t *
put_attr(struct wr *w, uint16_t t, size_t n)
{
	size_t padded = (n + 3) & ~(size_t)3;
	uint8_t *v;

	if (w->bad || n > 0xffff || w->cap - w->len < 4 + padded ||
	    w->len + 4 + padded > STUN_MAX) {
		w->bad = 1;
		return NULL;
	}
	put_be16(w->p + w->len, t);
	put_be16(w->p + w->len + 2, n);
	v = w->p + w->len + 4;
	memset(v, 0, padded);
	w->len += 4 + padded;
	return v;
}

static void
put_bytes(struct wr *w, uint16_t t, const void *b, size_t n)
{
	uint8_t *v = put_attr(w, t, n);

	if (v != NULL && n > 0)
		memcpy(v, b, n);
}

static int
begin(struct wr *w, uint8_t *out, size_t cap, uint16_t type,
    const uint8_t tid[12])
{
	w->p = out;
	w->cap = cap;
	w->len = 0;
	w->bad = 0;
	if (out == NULL || cap < STUN_HDR) {
		w->bad = 1;
		return E_BIG;
	}
	put_be16(out, type);
	put_be16(out + 2, 0);
	put_be32(out + 4, STUN_COOKIE);
	memcpy(out + 8, tid, 12);
	w->len = STUN_HDR;
	return 0;
}

/* MESSAGE-INTEGRITY (with a key) and FINGERPRINT: the length, or 0. */
static size_t
finish(struct wr *w, const uint8_t *key, size_t keylen)
{
	size_t at;
	uint8_t *v;

	if (w->bad)
		return 0;
	if (key != NULL) {
		at = w->len;
		if ((v = put_attr(w, A_MESSAGE_INTEGRITY, MI_LEN)) == NULL ||
		    integrity(w->p, at, key, keylen, v) != 0)
			return 0;
	}
	at = w->len;
	if ((v = put_attr(w, A_FINGERPRINT, 4)) == NULL)
		return 0;
	put_be16(w->p + 2, w->len - STUN_HDR);
	put_be32(v, crc32(w->p, at) ^ FP_XOR);
	return w->len;
}

static void
put_xor_addr(struct wr *w, const struct net_addr *a)
{
	static const uint8_t v4mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	uint8_t x[16], *v;
	const uint8_t *ip;
	uint16_t port;
	size_t n, i;
	int fam;

	if (a == NULL || a->len == 0) {
		w->bad = 1;
		return;
	}
	if (a->u.sa.sa_family == AF_INET) {
		ip = (const uint8_t *)&a->u.in4.sin_addr;
		port = ntohs(a->u.in4.sin_port);
		fam = 1;
		n = 4;
	} else if (a->u.sa.sa_family == AF_INET6) {
		ip = (const uint8_t *)&a->u.in6.sin6_addr;
		port = ntohs(a->u.in6.sin6_port);
		fam = 2;
		n = 16;
		if (memcmp(ip, v4mapped, 12) == 0) {
			ip += 12;
			fam = 1;
			n = 4;
		}
	} else {
		w->bad = 1;
		return;
	}
	put_be32(x, STUN_COOKIE);
	memcpy(x + 4, w->p + 8, 12);
	if ((v = put_attr(w, A_XOR_MAPPED_ADDRESS, 4 + n)) == NULL)
		return;
	v[0] = 0;
	v[1] = (uint8_t)fam;
	put_be16(v + 2, port ^ (STUN_COOKIE >> 16));
	for (i = 0; i < n; i++)
		v[4 + i] = ip[i] ^ x[i];
}

size_t
stun_binding_success(uint8_t *out, size_t cap, const uint8_t tid[12],
    const struct net_addr *mapped, const uint8_t *key, size_t keylen)
{
	struct wr w;

	if (begin(&w, out, cap, STUN_BINDING_SUCCESS, tid) != 0)
		return 0;
	put_xor_addr(&w, mapped);
	return finish(&w, key, keylen);
}

static const char *
reason_of(unsigned code)
{
	switch (code) {
	case 300: return "Try Alternate";
	case 400: return "Bad Request";
	case 401: return "Unauthenticated";
	case 420: return "Unknown Attribute";
	case 487: return "Role Conflict";
	case 500: return "Server Error";
	}
	return "";
}

static void
put_error_code(struct wr *w, unsigned code, const char *reason)
{
	size_t n;
	uint8_t *v;

	if (reason == NULL)
		reason = reason_of(code);
	n = strlen(reason);
	if (code < 300 || code > 699 || n > REASON_MAX) {
		w->bad = 1;
		return;
	}
	if ((v = put_attr(w, A_ERROR_CODE, 4 + n)) == NULL)
		return;
	v[0] = 0;
	v[1] = 0;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	memcpy(v + 4, reason, n);
}

size_t
stun_binding_error(uint8_t *out, size_t cap, const uint8_t tid[12],
    unsigned code, const char *reason, const uint8_t *key, size_t keylen)
{
	struct wr w;

	if (begin(&w, out, cap, STUN_BINDING_ERROR, tid) != 0)
		return 0;
	put_error_code(&w, code, reason);
	return finish(&w, key, keylen);
}

size_t
stun_binding_error_unknown(uint8_t *out, size_t cap, const uint8_t tid[12],
    const uint16_t *types, size_t n, const uint8_t *key, size_t keylen)
{
	struct wr w;
	uint8_t *v;
	size_t i;

	if (begin(&w, out, cap, STUN_BINDING_ERROR, tid) != 0)
		return 0;
	put_error_code(&w, 420, NULL);
	if (n > STUN_UNKNOWN_MAX || (n > 0 && types == NULL))
		return 0;
	if ((v = put_attr(&w, A_UNKNOWN_ATTRIBUTES, 2 * n)) != NULL)
		for (i = 0; i < n; i++)
			put_be16(v + 2 * i, types[i]);
	return finish(&w, key, keylen);
}

size_t
stun_binding_request(uint8_t *out, size_t cap, const uint8_t tid[12],
    struct slice username, uint32_t priority, int role, uint64_t tiebreaker,
    int use_candidate, const uint8_t *key, size_t keylen)
{
	struct wr w;
	uint8_t *v;

	if (begin(&w, out, cap, STUN_BINDING_REQUEST, tid) != 0)
		return 0;
	/* the order of RFC 5769's sample request, so tests can compare */
	if ((v = put_attr(&w, A_PRIORITY, 4)) != NULL)
		put_be32(v, priority);
	if (role == 1 || role == 2) {
		v = put_attr(&w, role == 1 ? A_ICE_CONTROLLING :
		    A_ICE_CONTROLLED, 8);
		if (v != NULL) {
			put_be32(v, (uint32_t)(tiebreaker >> 32));
			put_be32(v + 4, (uint32_t)tiebreaker);
		}
	} else if (role != 0)
		return 0;
	if (username.len > USERNAME_MAX)
		return 0;
	if (username.len > 0)
		put_bytes(&w, A_USERNAME, username.p, username.len);
	if (use_candidate)
		(void)put_attr(&w, A_USE_CANDIDATE, 0);
	return finish(&w, key, keylen);
}
