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
 *
 * Before the peer's ufrag is known (no ice_lite_set_remote() yet: a
 * browser checks as soon as it has our answer, often before its own SDP
 * has reached us through the signalling), and after an ICE restart that
 * we started (ice_lite_restart() without a new remote ufrag first), the
 * "theirs" half of USERNAME is not compared: any 1..256 bytes pass. The
 * MESSAGE-INTEGRITY keyed with our password still decides, so only a
 * holder of our SDP can be answered.
 *
 * The checks, in order (ice_lite_input()):
 *   not STUN, malformed, bad FINGERPRINT      E_SYNTAX, dropped, malformed
 *   not a Binding request                     E_NOTFOUND, dropped
 *   no FINGERPRINT                            E_SYNTAX, dropped, malformed
 *   no USERNAME or no MESSAGE-INTEGRITY       E_SYNTAX, 400, malformed
 *   USERNAME not "ours:theirs"                E_AUTH, 401, bad_user
 *   MESSAGE-INTEGRITY wrong                   E_AUTH, dropped, bad_auth
 *   unknown comprehension-required attribute  E_UNSUPPORTED, 420 with
 *                                             UNKNOWN-ATTRIBUTES,
 *                                             unknown_attrs
 *   ICE-CONTROLLED (the peer must control a   E_STATE, 487, role_conflicts
 *     lite agent, RFC 8445 6.1.1; it switches
 *     role on the 487, 7.2.5.1)
 *   otherwise                                 0, success, answered
 * The 400 and 401 carry no MESSAGE-INTEGRITY (the request was not
 * authenticated); 420, 487 and the success do, with our password, and
 * every answer has a FINGERPRINT. A wrong MESSAGE-INTEGRITY, where RFC
 * 8489 9.1.3 answers 401, is dropped: a prober learns nothing, and the
 * peer's retransmissions meet the same silence as a lost path. A request with neither ICE-CONTROLLING
 * nor ICE-CONTROLLED is answered (RFC 5245 agents).
 */
struct ice_lite {
	char lufrag[ICE_UFRAG_MAX + 1], lpwd[ICE_PWD_MAX + 1];
	char rufrag[ICE_UFRAG_MAX + 1], rpwd[ICE_PWD_MAX + 1];
	uint64_t gen;			/* bumped at each ICE restart */
	/* counters */
	uint64_t requests, answered, bad_auth, bad_user, malformed;
	uint64_t nominations;
	uint64_t role_conflicts, unknown_attrs;
	/* set by the functions below; the caller leaves them alone */
	int rstale;			/* their ufrag is of our last gen */
	int rpending;			/* set_remote said restart: 1 */
};

/* Fresh local credentials; remote ones cleared. 0 or E_CRYPTO. */
int ice_lite_init(struct ice_lite *a) WUR;
/*
 * New local credentials (an ICE restart we start, or answer), `gen`
 * bumped. Answering one: ice_lite_set_remote() first (it returns 1), then
 * this. Starting one: this alone, and the peer's ufrag is not compared
 * until its answer's ice_lite_set_remote(). 0 or E_CRYPTO (then the old
 * credentials stay).
 */
int ice_lite_restart(struct ice_lite *a) WUR;
/*
 * The peer's ice-ufrag and ice-pwd from its SDP. Returns 1 when they
 * differ from the ones known (a restart: the caller answers with new
 * local credentials, ice_lite_restart(); in the peer's answer to a
 * restart we offered, 1 is expected and needs nothing more), 0 when the
 * same or when none were known (the first SDP), E_SYNTAX for values that
 * are not ice-chars of legal length (ufrag 4..256, pwd 22..256; nothing
 * is changed then).
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
 * (*outlen > 0) with E_AUTH, E_SYNTAX, E_UNSUPPORTED (420) or E_STATE
 * (487); nothing to send (*outlen 0): E_AUTH (integrity failed: dropped,
 * counted), E_SYNTAX, E_NOTFOUND (a response or indication: nothing to
 * do; a lite agent sends no checks), E_INVAL (`cap` too small, `src` not
 * IPv4 or IPv6). Whenever *outlen > 0, send it, whatever the return; the
 * pair is checked (and *chk set) only on 0. The XOR-MAPPED-ADDRESS is
 * `src` (IPv4-mapped IPv6 written as IPv4). Borrows everything.
 */
int ice_lite_input(struct ice_lite *a, struct slice pkt,
    const struct net_addr *src, uint8_t *out, size_t cap, size_t *outlen,
    struct ice_check *chk) WUR;

#endif
