/* test_stun.c - STUN against RFC 5769's vectors, an independent HMAC and
 * CRC, and malformed input (every truncation, every bit flip). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "base/err.h"
#include "base/net.h"
#include "media/stun.h"
#include "t.h"

/* RFC 5769 2.1, 2.2, 2.3 (the padding of their text attributes is 0x20) */
static const char *req_hex =
    "000100582112a442b7e7a701bc34d686fa87dfae"
    "802200105354554e207465737420636c69656e74"	/* SOFTWARE */
    "002400046e0001ff"				/* PRIORITY */
    "80290008932ff9b151263b36"			/* ICE-CONTROLLED */
    "000600096576746a3a68367659202020"		/* USERNAME */
    "000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2"
    "80280004e57a3bcf";
static const char *v4_hex =
    "0101003c2112a442b7e7a701bc34d686fa87dfae"
    "8022000b7465737420766563746f7220"
    "002000080001a147e112a643"
    "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7"
    "80280004c07d4c96";
static const char *v6_hex =
    "010100482112a442b7e7a701bc34d686fa87dfae"
    "8022000b7465737420766563746f7220"
    "002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9"
    "00080014a382954e4be67bf11784c97c8292c275bfe3ed41"
    "80280004c8fb0b4c";
static const char pw[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const uint8_t tid[12] = {
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae
};

static size_t
unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (h[0] != '\0' && h[1] != '\0' && n < cap) {
		char b[3] = { h[0], h[1], 0 };

		v = (unsigned)strtoul(b, NULL, 16);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

/* The test's own references: a bit-at-a-time CRC-32, and OpenSSL's
 * EVP_Q_mac (not the HMAC() stun.c calls). */
static uint32_t
ref_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static void
ref_hmac(const uint8_t *key, size_t keylen, const uint8_t *p, size_t n,
    uint8_t md[20])
{
	size_t outlen = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, key, keylen, p, n,
	    md, 20, &outlen) == NULL || outlen != 20)
		memset(md, 0, 20);
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/*
 * Append MESSAGE-INTEGRITY (with a key) and FINGERPRINT to the `n` bytes
 * of `m` with the references above; the new length.
 */
static size_t
ref_seal(uint8_t *m, size_t n, const char *key)
{
	if (key != NULL) {
		put16(m + 2, n + 24 - 20);
		ref_hmac((const uint8_t *)key, strlen(key), m, n, m + n + 4);
		put16(m + n, 0x0008);
		put16(m + n + 2, 20);
		n += 24;
	}
	put16(m + 2, n + 8 - 20);
	put16(m + n, 0x8028);
	put16(m + n + 2, 4);
	put32(m + n + 4, ref_crc32(m, n) ^ 0x5354554eu);
	return n + 8;
}

static struct net_addr
addr(const char *s)
{
	struct net_addr a;

	memset(&a, 0, sizeof(a));
	if (net_addr_parse(slice_cstr(s), &a) != 0)
		printf("# bad address %s\n", s);
	return a;
}

static void
test_references(void)
{
	uint8_t m[STUN_MAX];
	size_t n = unhex(req_hex, m, sizeof(m));
	uint8_t md[20];

	T_EQ_INT(ref_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u,
	    "reference CRC-32 gives the check value");
	/* the test's references agree with RFC 5769 itself */
	T_EQ_INT(ref_crc32(m, n - 8) ^ 0x5354554eu, 0xe57a3bcfu,
	    "reference CRC-32 matches the sample request's FINGERPRINT");
	put16(m + 2, n - 8 - 20);
	ref_hmac((const uint8_t *)pw, strlen(pw), m, n - 32, md);
	T_EQ_MEM(md, 20, m + n - 28, 20,
	    "reference HMAC matches the sample request's MESSAGE-INTEGRITY");
}

static void
test_rfc5769_parse(void)
{
	uint8_t m[STUN_MAX];
	size_t n = unhex(req_hex, m, sizeof(m));
	struct slice s = slice_make(m, n);
	struct stun_msg msg;
	struct net_addr want;
	char a[NET_ADDR_STRLEN] = "";

	T_OK(stun_is(s), "the sample request is STUN");
	T_EQ_INT(stun_parse(s, &msg), 0, "sample request parses");
	T_EQ_INT(msg.type, STUN_BINDING_REQUEST, "a Binding request");
	T_EQ_MEM(msg.tid, 12, tid, 12, "its transaction id");
	T_OK(slice_eq_cstr(msg.username, "evtj:h6vY"), "USERNAME evtj:h6vY");
	T_OK(msg.has_priority && msg.priority == 0x6e0001ffu, "PRIORITY");
	T_EQ_INT(msg.role, 2, "ICE-CONTROLLED");
	T_OK(msg.tiebreaker == 0x932ff9b151263b36ull, "its tie-breaker");
	T_EQ_INT(msg.use_candidate, 0, "no USE-CANDIDATE");
	T_EQ_INT(msg.has_fingerprint, 1, "FINGERPRINT present and right");
	T_EQ_INT(msg.integrity_at, n - 32, "MESSAGE-INTEGRITY where it is");
	T_EQ_INT(msg.n_unknown, 0, "SOFTWARE is optional, not unknown");
	T_EQ_INT(stun_check_integrity(s, &msg, (const uint8_t *)pw,
	    strlen(pw)), 0, "sample request: integrity with the password");
	T_EQ_INT(stun_check_integrity(s, &msg, (const uint8_t *)pw,
	    strlen(pw) - 1), E_AUTH, "and not with a shorter one");

	n = unhex(v4_hex, m, sizeof(m));
	s = slice_make(m, n);
	T_EQ_INT(stun_parse(s, &msg), 0, "IPv4 response parses");
	T_EQ_INT(msg.type, STUN_BINDING_SUCCESS, "a Binding success");
	want = addr("192.0.2.1:32853");
	T_OK(net_addr_eq(&msg.mapped, &want), "XOR-MAPPED-ADDRESS 192.0.2.1"
	    ":32853");
	T_EQ_INT(stun_check_integrity(s, &msg, (const uint8_t *)pw,
	    strlen(pw)), 0, "IPv4 response: integrity");

	n = unhex(v6_hex, m, sizeof(m));
	s = slice_make(m, n);
	T_EQ_INT(stun_parse(s, &msg), 0, "IPv6 response parses");
	want = addr("[2001:db8:1234:5678:11:2233:4455:6677]:32853");
	if (msg.mapped.len != 0)
		if (net_addr_format(&msg.mapped, a, sizeof(a)) != 0)
			a[0] = '\0';
	T_OK(net_addr_eq(&msg.mapped, &want), "XOR-MAPPED-ADDRESS %s", a);
	T_EQ_INT(stun_check_integrity(s, &msg, (const uint8_t *)pw,
	    strlen(pw)), 0, "IPv6 response: integrity");
	m[30] ^= 1;	/* in SOFTWARE: only FINGERPRINT and MI notice */
	T_EQ_INT(stun_parse(s, &msg), E_SYNTAX, "a flipped bit: bad "
	    "FINGERPRINT");
}

/*
 * What RFC 5769 fixes, without the SOFTWARE our builders do not write:
 * the vector with SOFTWARE cut out, the padding zeroed, and MI and
 * FINGERPRINT recomputed by the references.
 */
static size_t
expected_without_software(const char *hex, uint8_t *m)
{
	size_t n = unhex(hex, m, STUN_MAX), sw, at;

	sw = 4 + ((((size_t)m[22] << 8 | m[23]) + 3) & ~(size_t)3);
	memmove(m + 20, m + 20 + sw, n - 20 - sw);
	n -= sw + 32;		/* and MI and FINGERPRINT */
	for (at = 20; at < n; at += 4 + ((((size_t)m[at + 2] << 8 |
	    m[at + 3]) + 3) & ~(size_t)3)) {
		size_t l = (size_t)m[at + 2] << 8 | m[at + 3];

		memset(m + at + 4 + l, 0, ((l + 3) & ~(size_t)3) - l);
	}
	return ref_seal(m, n, pw);
}

static void
test_build_vs_rfc5769(void)
{
	uint8_t want[STUN_MAX], got[STUN_MAX];
	size_t wn, gn;
	struct net_addr a;

	wn = expected_without_software(v4_hex, want);
	a = addr("192.0.2.1:32853");
	gn = stun_binding_success(got, sizeof(got), tid, &a,
	    (const uint8_t *)pw, strlen(pw));
	T_EQ_MEM(got, gn, want, wn, "IPv4 success: RFC 5769 2.2's bytes "
	    "without SOFTWARE (%zu)", gn);

	wn = expected_without_software(v6_hex, want);
	a = addr("[2001:db8:1234:5678:11:2233:4455:6677]:32853");
	gn = stun_binding_success(got, sizeof(got), tid, &a,
	    (const uint8_t *)pw, strlen(pw));
	T_EQ_MEM(got, gn, want, wn, "IPv6 success: RFC 5769 2.3's bytes "
	    "without SOFTWARE (%zu)", gn);

	/* the same IPv4 peer seen through a dual-stack socket */
	a = addr("[::ffff:192.0.2.1]:32853");
	wn = expected_without_software(v4_hex, want);
	gn = stun_binding_success(got, sizeof(got), tid, &a,
	    (const uint8_t *)pw, strlen(pw));
	T_EQ_MEM(got, gn, want, wn, "IPv4-mapped IPv6 is written as IPv4");

	wn = expected_without_software(req_hex, want);
	gn = stun_binding_request(got, sizeof(got), tid,
	    SLICE_LIT("evtj:h6vY"), 0x6e0001ffu, 2, 0x932ff9b151263b36ull, 0,
	    (const uint8_t *)pw, strlen(pw));
	T_EQ_MEM(got, gn, want, wn, "request: RFC 5769 2.1's bytes without "
	    "SOFTWARE (%zu)", gn);
}

static void
test_build(void)
{
	uint8_t m[STUN_MAX];
	struct stun_msg msg;
	struct net_addr a = addr("[::1]:9");
	static const uint16_t unk[2] = { 0x0003, 0x7777 };
	size_t n, k, full;

	n = stun_binding_error(m, sizeof(m), tid, 487, NULL,
	    (const uint8_t *)pw, strlen(pw));
	T_OK(n > 0 && stun_parse(slice_make(m, n), &msg) == 0,
	    "487 builds and parses");
	T_EQ_INT(msg.type, STUN_BINDING_ERROR, "an error response");
	T_EQ_INT(msg.error_code, 487, "ERROR-CODE 487");
	T_EQ_INT(stun_check_integrity(slice_make(m, n), &msg,
	    (const uint8_t *)pw, strlen(pw)), 0, "with integrity");
	T_OK(n >= 36 && memcmp(m + 28, "Role Conflict", 13) == 0,
	    "the RFC's reason phrase");
	n = stun_binding_error(m, sizeof(m), tid, 401, NULL, NULL, 0);
	T_OK(n > 0 && stun_parse(slice_make(m, n), &msg) == 0 &&
	    msg.error_code == 401 && msg.integrity_at == 0 &&
	    msg.has_fingerprint, "401 without a key: no MI, a FINGERPRINT");
	T_EQ_INT(stun_check_integrity(slice_make(m, n), &msg,
	    (const uint8_t *)pw, strlen(pw)), E_AUTH, "absent MI is E_AUTH");
	T_EQ_INT(stun_binding_error(m, sizeof(m), tid, 299, "x", NULL, 0), 0,
	    "code 299 refused");
	T_EQ_INT(stun_binding_error(m, sizeof(m), tid, 700, "x", NULL, 0), 0,
	    "code 700 refused");
	n = stun_binding_error_unknown(m, sizeof(m), tid, unk, 2,
	    (const uint8_t *)pw, strlen(pw));
	T_OK(n > 0 && stun_parse(slice_make(m, n), &msg) == 0 &&
	    msg.error_code == 420, "420 builds and parses");
	T_OK(n == 20 + 28 + 8 + 24 + 8 && m[48] == 0x00 && m[49] == 0x0a &&
	    m[52] == 0x00 && m[53] == 0x03 && m[54] == 0x77,
	    "UNKNOWN-ATTRIBUTES lists the types");

	/* every capacity short of the message: 0, and no write past it */
	full = stun_binding_success(m, sizeof(m), tid, &a,
	    (const uint8_t *)pw, strlen(pw));
	for (k = 0; k < full; k++) {
		uint8_t small[STUN_MAX];

		memset(small, 0xa5, sizeof(small));
		if (stun_binding_success(small, k, tid, &a,
		    (const uint8_t *)pw, strlen(pw)) != 0 ||
		    small[k] != 0xa5)
			break;
	}
	T_EQ_INT(k, full, "a success never fits a buffer too small (%zu)",
	    full);
	a.len = 0;
	T_EQ_INT(stun_binding_success(m, sizeof(m), tid, &a, NULL, 0), 0,
	    "no address: nothing built");
	T_EQ_INT(stun_binding_request(m, sizeof(m), tid, SLICE_LIT("a:b"), 1,
	    3, 0, 0, NULL, 0), 0, "role 3 refused");
	n = stun_binding_request(m, sizeof(m), tid, SLICE_LIT("a:b"), 7, 1,
	    42, 1, NULL, 0);
	T_OK(n > 0 && stun_parse(slice_make(m, n), &msg) == 0 &&
	    msg.role == 1 && msg.tiebreaker == 42 && msg.use_candidate &&
	    msg.priority == 7 && msg.integrity_at == 0,
	    "request: ICE-CONTROLLING, USE-CANDIDATE, no key no MI");
}

static int
parse_or_auth_fails(const uint8_t *m, size_t n)
{
	struct stun_msg msg;

	/* a flip in FINGERPRINT's type leaves a message without one */
	if (stun_parse(slice_make(m, n), &msg) != 0 || !msg.has_fingerprint)
		return 1;
	return stun_check_integrity(slice_make(m, n), &msg,
	    (const uint8_t *)pw, strlen(pw)) == E_AUTH;
}

static void
test_malformed(void)
{
	const char *vec[3] = { req_hex, v4_hex, v6_hex };
	uint8_t m[STUN_MAX + 8], c[STUN_MAX + 8];
	struct stun_msg msg;
	size_t n, k, bad;
	int v, b;

	for (v = 0; v < 3; v++) {
		n = unhex(vec[v], m, sizeof(m));
		/* every truncation, as sent: the length does not match */
		for (bad = 0, k = 0; k < n; k++) {
			memcpy(c, m, k);
			if (stun_parse(slice_make(c, k), &msg) != E_SYNTAX)
				bad++;
		}
		T_EQ_INT(bad, 0, "vector %d: every truncation is E_SYNTAX", v);
		/* every truncation with the header's length fixed up:
		 * mid-attribute cuts are E_SYNTAX, cuts between attributes
		 * parse (no FINGERPRINT then, so has_fingerprint is 0) */
		for (bad = 0, k = 20; k < n; k += 4) {
			int r;

			memcpy(c, m, k);
			put16(c + 2, k - 20);
			r = stun_parse(slice_make(c, k), &msg);
			if (r != 0 && r != E_SYNTAX)
				bad++;
			if (r == 0 && msg.has_fingerprint)
				bad++;
		}
		T_EQ_INT(bad, 0, "vector %d: every fixed-up truncation is "
		    "refused or lacks FINGERPRINT", v);
		/* every single-bit flip is caught by FINGERPRINT or MI */
		for (bad = 0, k = 0; k < n; k++)
			for (b = 0; b < 8; b++) {
				memcpy(c, m, n);
				c[k] ^= (uint8_t)(1u << b);
				if (!parse_or_auth_fails(c, n))
					bad++;
			}
		T_EQ_INT(bad, 0, "vector %d: every bit flip refused", v);
		/* four bytes more (a trailing attribute header) */
		memcpy(c, m, n);
		memset(c + n, 0, 4);
		put16(c + 2, n + 4 - 20);
		T_EQ_INT(stun_parse(slice_make(c, n + 4), &msg), E_SYNTAX,
		    "vector %d: an attribute after FINGERPRINT", v);
	}

	/* hand-made ones: header, then attributes, sealed by ref_seal */
	memset(m, 0, sizeof(m));
	put16(m, 0x0001);
	put32(m + 4, STUN_COOKIE);
	memcpy(m + 8, tid, 12);
	n = ref_seal(m, 20, NULL);
	T_EQ_INT(stun_parse(slice_make(m, n), &msg), 0, "empty + FP parses");
	memcpy(c, m, n);
	c[0] = 0x40;
	T_EQ_INT(stun_parse(slice_make(c, n), &msg), E_SYNTAX, "top bits 01");
	T_OK(!stun_is(slice_make(c, n)), "and it is not STUN to demux");
	memcpy(c, m, n);
	c[4] = 0x22;
	T_EQ_INT(stun_parse(slice_make(c, n), &msg), E_SYNTAX, "bad cookie");
	T_OK(!stun_is(slice_make(c, n)), "not STUN to demux");
	c[0] = 0x80;
	T_OK(!stun_is(slice_make(c, n)), "RTP is not STUN");

	/* PRIORITY of 3 bytes; then of 4 */
	put16(m + 20, 0x0024);
	put16(m + 22, 3);
	n = ref_seal(m, 28, NULL);
	T_EQ_INT(stun_parse(slice_make(m, n), &msg), E_SYNTAX,
	    "PRIORITY of 3 bytes");
	/* XOR-MAPPED-ADDRESS of family 3 */
	put16(m + 20, 0x0020);
	put16(m + 22, 8);
	m[25] = 3;
	n = ref_seal(m, 32, NULL);
	T_EQ_INT(stun_parse(slice_make(m, n), &msg), E_SYNTAX,
	    "XOR-MAPPED-ADDRESS family 3");
	m[25] = 2;	/* IPv6 family, IPv4 length */
	n = ref_seal(m, 32, NULL);
	T_EQ_INT(stun_parse(slice_make(m, n), &msg), E_SYNTAX,
	    "XOR-MAPPED-ADDRESS IPv6 of 8 bytes");
	/* ERROR-CODE class 7 */
	memset(m + 20, 0, 16);
	put16(m + 20, 0x0009);
	put16(m + 22, 4);
	m[26] = 7;
	n = ref_seal(m, 28, NULL);
	T_EQ_INT(stun_parse(slice_make(m, n), &msg), E_SYNTAX,
	    "ERROR-CODE class 7");
	m[26] = 4;
	m[27] = 100;
	n = ref_seal(m, 28, NULL);
	T_EQ_INT(stun_parse(slice_make(m, n), &msg), E_SYNTAX,
	    "ERROR-CODE number 100");
	/* MI of 19 bytes */
	memset(m + 20, 0, 32);
	put16(m + 20, 0x0008);
	put16(m + 22, 19);
	n = ref_seal(m, 44, NULL);
	T_EQ_INT(stun_parse(slice_make(m, n), &msg), E_SYNTAX, "MI of 19");
	/* an attribute running past the end */
	memset(m + 20, 0, 32);
	put16(m + 20, 0x8022);
	put16(m + 22, 200);
	put16(m + 2, 8);
	T_EQ_INT(stun_parse(slice_make(m, 28), &msg), E_SYNTAX,
	    "an attribute longer than the message");
	/* larger than STUN_MAX */
	put16(m + 20, 0x8022);
	put16(m + 22, STUN_MAX - 20);
	put16(m + 2, STUN_MAX - 20 + 4);
	memset(c, 0, sizeof(c));
	memcpy(c, m, 24);
	T_EQ_INT(stun_parse(slice_make(c, STUN_MAX + 4), &msg), E_SYNTAX,
	    "more than STUN_MAX bytes");
	/* length not a multiple of 4 */
	put16(m + 2, 1);
	m[20] = 0;
	T_EQ_INT(stun_parse(slice_make(m, 21), &msg), E_SYNTAX,
	    "length 1");

	/* unknown, repeated, and after-MI attributes */
	memset(m + 20, 0, 64);
	put16(m + 20, 0x0003);			/* CHANGE-REQUEST: unknown */
	put16(m + 22, 4);
	put16(m + 28, 0xc057);			/* optional: skipped */
	put16(m + 30, 4);
	put16(m + 36, 0x0024);			/* PRIORITY 5 */
	put16(m + 38, 4);
	put32(m + 40, 5);
	put16(m + 44, 0x0024);			/* PRIORITY 6: ignored */
	put16(m + 46, 4);
	put32(m + 48, 6);
	put16(m + 52, 0x0006);			/* USERNAME "ab" */
	put16(m + 54, 2);
	memcpy(m + 56, "ab", 2);
	n = ref_seal(m, 60, pw) - 8;	/* MI, and no FINGERPRINT yet */
	/* then USE-CANDIDATE and an unknown one after MI: ignored */
	put16(m + n, 0x0025);
	put16(m + n + 2, 0);
	put16(m + n + 4, 0x0004);
	put16(m + n + 6, 4);
	memset(m + n + 8, 0, 4);
	n = ref_seal(m, n + 12, NULL);
	T_EQ_INT(stun_parse(slice_make(m, n), &msg), 0, "mixed message "
	    "parses");
	T_OK(msg.n_unknown == 1 && msg.unknown[0] == 0x0003,
	    "one unknown comprehension-required attribute, 0x0003");
	T_EQ_INT(msg.priority, 5, "the first PRIORITY counts");
	T_EQ_INT(msg.use_candidate, 0, "USE-CANDIDATE after MI ignored");
	T_OK(slice_eq_cstr(msg.username, "ab"), "USERNAME");
	T_EQ_INT(stun_check_integrity(slice_make(m, n), &msg,
	    (const uint8_t *)pw, strlen(pw)), 0,
	    "MI covers what precedes it only");
}

int
main(void)
{
	test_references();
	test_rfc5769_parse();
	test_build_vs_rfc5769();
	test_build();
	test_malformed();
	return t_done();
}
