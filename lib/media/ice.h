/* ice.h - an ICE-lite agent (RFC 8445 2.5, 6.1.1): answers connectivity
 * checks for one media component set, learns the nominated pair. */
#ifndef SBK_ICE_H
#define SBK_ICE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/net.h"
#include "base/slice.h"

#define ICE_UFRAG_MAX 256	/* RFC 8839: 4..256 ice-chars */
#define ICE_PWD_MAX 256		/* 22..256 */

/*
 * A lite agent is always controlled. Its credentials are made by
 * ice_lite_init() (8 and 24 characters from [A-Za-z0-9+/]); the peer's
 * come from its SDP. A Binding request is answered only when it is for us
 * (USERNAME "ours:theirs"), carries a correct MESSAGE-INTEGRITY keyed
 * with our password, and a correct FINGERPRINT; others get no answer, or
 * a 400/401 error where RFC 8489 says so, and are counted.
 */
struct ice_lite {
	char lufrag[ICE_UFRAG_MAX + 1], lpwd[ICE_PWD_MAX + 1];
	char rufrag[ICE_UFRAG_MAX + 1], rpwd[ICE_PWD_MAX + 1];
	uint64_t gen;			/* bumped at each ICE restart */
	/* counters */
	uint64_t requests, answered, bad_auth, bad_user, malformed;
	uint64_t nominations;
};

/* Fresh local credentials; remote ones cleared. 0 or E_CRYPTO. */
int ice_lite_init(struct ice_lite *a) WUR;
/* New local credentials (an ICE restart we start, or answer). */
int ice_lite_restart(struct ice_lite *a) WUR;
/*
 * The peer's ice-ufrag and ice-pwd from its SDP. Returns 1 when they
 * differ from the ones known (a restart: the caller answers with new
 * local credentials, ice_lite_restart()), 0 when the same, E_SYNTAX for
 * values that are not ice-chars of legal length.
 */
int ice_lite_set_remote(struct ice_lite *a, struct slice ufrag,
    struct slice pwd) WUR;

/* What a check that was answered says. */
struct ice_check {
	int nominated;			/* USE-CANDIDATE */
	uint32_t priority;
};

/*
 * A STUN packet `pkt` arrived from `src`. When it is a Binding request
 * for us, the response goes to `out` (`cap` >= STUN_MAX), *outlen its
 * length, to be sent back to `src` from the socket it arrived on, and
 * *chk says what the check was: returns 0. An error response to send
 * (*outlen > 0) with E_AUTH or E_SYNTAX; nothing to send (*outlen 0):
 * E_AUTH (integrity failed: dropped, counted), E_SYNTAX, E_NOTFOUND (a
 * response or indication: nothing to do; a lite agent sends no checks).
 */
int ice_lite_input(struct ice_lite *a, struct slice pkt,
    const struct net_addr *src, uint8_t *out, size_t cap, size_t *outlen,
    struct ice_check *chk) WUR;

#endif
