/* fuzz_stun.c - libFuzzer target: STUN parsing, MESSAGE-INTEGRITY and the
 * ICE-lite agent's answers. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/hmac.h>

#include "media/ice.h"
#include "media/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char lufrag[] = "LOCALufr", lpwd[] = "localpasswordlocalpassw1";

static uint32_t
crc32_ref(const uint8_t *p, size_t n)
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
be16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
be32(uint8_t *p, uint32_t v)
{
	be16(p, v >> 16);
	be16(p + 2, v & 0xffff);
}

/*
 * Mode 1: the input after 3 bytes is the attribute section of a message
 * of type data[1..2], sealed here with a right MESSAGE-INTEGRITY (our
 * password) and FINGERPRINT, so that the agent's logic past both checks
 * is reached. Mode 0: the input is the datagram.
 */
static size_t
seal(const uint8_t *data, size_t size, uint8_t *m, size_t cap)
{
	size_t n = size - 3;
	unsigned mdlen = 0;

	if (n > cap - 20 - 32)
		n = cap - 20 - 32;
	n &= ~(size_t)3;
	memset(m, 0, 20);
	be16(m, ((size_t)data[1] << 8 | data[2]) & 0x3fff);
	be32(m + 4, STUN_COOKIE);
	memcpy(m + 8, "fuzzfuzzfuzz", 12);
	memcpy(m + 20, data + 3, n);
	n += 20;
	be16(m + 2, n + 24 - 20);
	if (HMAC(EVP_sha1(), lpwd, (int)strlen(lpwd), m, n, m + n + 4,
	    &mdlen) == NULL)
		return 0;
	be16(m + n, 0x0008);
	be16(m + n + 2, mdlen);
	n += 24;
	be16(m + 2, n + 8 - 20);
	be16(m + n, 0x8028);
	be16(m + n + 2, 4);
	be32(m + n + 4, crc32_ref(m, n) ^ 0x5354554eu);
	return n + 8;
}

static void
check_msg(struct slice s, const struct stun_msg *m)
{
	if (m->username.len > 0 && (m->username.p < s.p ||
	    m->username.p + m->username.len > s.p + s.len))
		__builtin_trap();
	if (m->integrity_at != 0 && (m->integrity_at < STUN_HDR ||
	    m->integrity_at + 24 > s.len))
		__builtin_trap();
	if (m->n_unknown > STUN_UNKNOWN_MAX)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t m[STUN_MAX], out[STUN_MAX], again[STUN_MAX];
	struct ice_lite a;
	struct ice_check chk;
	struct stun_msg msg, resp;
	struct net_addr src;
	struct slice s;
	size_t n, outlen = 0;
	int r;

	if (size < 1)
		return 0;
	if ((data[0] & 1) != 0 && size >= 3) {
		if ((n = seal(data, size, m, sizeof(m))) == 0)
			return 0;
	} else {
		n = size - 1 < sizeof(m) ? size - 1 : sizeof(m);
		memcpy(m, data + 1, n);
	}
	s = slice_make(m, n);
	(void)stun_is(s);
	if (stun_parse(s, &msg) == 0) {
		check_msg(s, &msg);
		(void)stun_check_integrity(s, &msg, (const uint8_t *)lpwd,
		    strlen(lpwd));
		(void)stun_check_integrity(s, &msg, NULL, 0);
	}

	memset(&a, 0, sizeof(a));
	memcpy(a.lufrag, lufrag, sizeof(lufrag));
	memcpy(a.lpwd, lpwd, sizeof(lpwd));
	if ((data[0] & 2) != 0) {
		memcpy(a.rufrag, "PEER", 5);
		memcpy(a.rpwd, "peerpasswordpeerpassword", 25);
	}
	memset(&src, 0, sizeof(src));
	if ((data[0] & 4) != 0) {
		src.u.in6.sin6_family = AF_INET6;
		src.u.in6.sin6_port = htons(5004);
		src.u.in6.sin6_addr.s6_addr[15] = 1;
		src.len = sizeof(src.u.in6);
	} else {
		src.u.in4.sin_family = AF_INET;
		src.u.in4.sin_port = htons(5004);
		src.u.in4.sin_addr.s_addr = htonl(0x7f000001);
		src.len = sizeof(src.u.in4);
	}
	r = ice_lite_input(&a, s, &src, out, sizeof(out), &outlen, &chk);
	if (outlen > sizeof(out))
		__builtin_trap();
	if (outlen > 0) {
		/* what we send parses, with a FINGERPRINT */
		struct slice o = slice_make(out, outlen);

		if (stun_parse(o, &resp) != 0 || !resp.has_fingerprint)
			__builtin_trap();
		if (memcmp(resp.tid, msg.tid, 12) != 0)
			__builtin_trap();
		if (r == 0 && (!net_addr_eq(&resp.mapped, &src) ||
		    stun_check_integrity(o, &resp, (const uint8_t *)lpwd,
		    strlen(lpwd)) != 0))
			__builtin_trap();
	}
	if (r == 0 && (msg.type != STUN_BINDING_REQUEST || a.answered != 1))
		__builtin_trap();
	/* a request of ours for the same peer parses back */
	if (msg.username.len > 0) {
		n = stun_binding_request(again, sizeof(again), msg.tid,
		    msg.username, msg.priority, msg.role, msg.tiebreaker,
		    msg.use_candidate, (const uint8_t *)lpwd, strlen(lpwd));
		if (n == 0 || stun_parse(slice_make(again, n), &resp) != 0 ||
		    !slice_eq(resp.username, msg.username))
			__builtin_trap();
	}
	return 0;
}
