/* stun.h - STUN messages (RFC 8489) as ICE uses them (RFC 8445 7.1). */
#ifndef SBK_STUN_H
#define SBK_STUN_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/net.h"
#include "base/slice.h"

/*
 * Parsing checks the header (top bits 00, magic cookie, length a
 * multiple of 4 that matches the datagram, at most STUN_MAX), walks every
 * attribute within bounds (each padded to 4 bytes; the padding's value is
 * ignored), and checks FINGERPRINT when present (it must then be last).
 * Attributes after MESSAGE-INTEGRITY other than FINGERPRINT are ignored
 * (RFC 8489 14.5). Of an attribute repeated, the first counts (RFC 8489
 * 14). The attributes read are checked for their lengths and values
 * (a bad one is E_SYNTAX); comprehension-required ones (type < 0x8000)
 * that we do not know are listed in `unknown` for the caller's 420 (RFC
 * 8489 6.3.1); optional ones are skipped. Nothing is allocated; slices
 * point into the packet.
 */
#define STUN_HDR 20
#define STUN_COOKIE 0x2112A442u
#define STUN_MAX 1280	/* the most we build or accept */
#define STUN_UNKNOWN_MAX 4	/* unknown attribute types kept for a 420 */

enum {
	STUN_BINDING_REQUEST = 0x0001,
	STUN_BINDING_SUCCESS = 0x0101,
	STUN_BINDING_ERROR = 0x0111,
	STUN_BINDING_INDICATION = 0x0011,
};

struct stun_msg {
	uint16_t type;
	uint8_t tid[12];
	struct slice username;		/* len 0: none */
	size_t integrity_at;		/* offset of MESSAGE-INTEGRITY, 0: none */
	int has_fingerprint;		/* present and correct */
	int use_candidate;
	int has_priority;
	uint32_t priority;
	int role;			/* 0 none, 1 ICE-CONTROLLING, 2 -CONTROLLED */
	uint64_t tiebreaker;
	uint16_t error_code;		/* error responses: 300..699, else 0 */
	struct net_addr mapped;		/* XOR-MAPPED-ADDRESS, len 0: none */
	/* unknown comprehension-required attributes before any
	 * MESSAGE-INTEGRITY: the first STUN_UNKNOWN_MAX types */
	unsigned n_unknown;
	uint16_t unknown[STUN_UNKNOWN_MAX];
};

/*
 * Is this datagram STUN at all (RFC 7983: first byte 0..3, the cookie)?
 * Cheap: for demultiplexing.
 */
int stun_is(struct slice pkt);
/* Parse `pkt` into *m: 0, or E_SYNTAX (malformed, bad FINGERPRINT). */
int stun_parse(struct slice pkt, struct stun_msg *m) WUR;
/*
 * Check MESSAGE-INTEGRITY (HMAC-SHA1, short-term credential: the key is
 * the password's bytes) of a parsed message: 0, or E_AUTH (absent or
 * wrong).
 */
int stun_check_integrity(struct slice pkt, const struct stun_msg *m,
    const uint8_t *key, size_t keylen) WUR;

/*
 * Build messages into `out` (`cap` bytes, STUN_MAX is always enough):
 * the length written, or 0 if it did not fit. With a `key`, a
 * MESSAGE-INTEGRITY; always a FINGERPRINT.
 */
/*
 * A Binding success response to `tid` with XOR-MAPPED-ADDRESS `mapped`
 * (an IPv4-mapped IPv6 address, as a dual-stack socket reports an IPv4
 * peer, is written as the IPv4 address it is).
 */
size_t stun_binding_success(uint8_t *out, size_t cap, const uint8_t tid[12],
    const struct net_addr *mapped, const uint8_t *key, size_t keylen);
/*
 * A Binding error response (e.g. 400, 401, 487) with a reason phrase
 * (NUL-terminated, at most 763 bytes; NULL: the RFC's phrase for the
 * codes ICE uses). `code` 300..699, else 0 is returned.
 */
size_t stun_binding_error(uint8_t *out, size_t cap, const uint8_t tid[12],
    unsigned code, const char *reason, const uint8_t *key, size_t keylen);
/* A 420 (Unknown Attribute) with UNKNOWN-ATTRIBUTES listing `n` types. */
size_t stun_binding_error_unknown(uint8_t *out, size_t cap,
    const uint8_t tid[12], const uint16_t *types, size_t n,
    const uint8_t *key, size_t keylen);
/*
 * A Binding request (tests, and an ICE full agent's checks): USERNAME,
 * PRIORITY, ICE-CONTROLLING (role 1) or ICE-CONTROLLED (role 2) with
 * `tiebreaker`, USE-CANDIDATE if `use_candidate`.
 */
size_t stun_binding_request(uint8_t *out, size_t cap, const uint8_t tid[12],
    struct slice username, uint32_t priority, int role, uint64_t tiebreaker,
    int use_candidate, const uint8_t *key, size_t keylen);

#endif
