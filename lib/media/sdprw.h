/* sdprw.h - the SBC's SDP rewrites: SRTP <-> RTP, keys, addresses, ports. */
#ifndef SBK_SDPRW_H
#define SBK_SDPRW_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "media/keyline.h"
#include "base/rnd.h"
#include "media/sdp.h"
#include "media/suite.h"

/*
 * Rewrites on a parsed struct sdp, one media section at a time (a relay
 * calls these per stream) or all at once through sdprw_apply() (what
 * sdp-rewrite does). Only RTP media are touched by the profile and crypto
 * rewrites (proto RTP/AVP, RTP/AVPF, RTP/SAVP, RTP/SAVPF and the
 * UDP/TLS/RTP/... forms); m=application, m=image etc. are left alone.
 * None of these take over their arguments; every keyline returned is the
 * caller's to free.
 */

/* 1 if media `m` is RTP (any of the profiles above), else 0. */
int sdprw_media_is_rtp(const struct sdp *s, size_t m);
/* 1 if media `m` uses an SRTP profile (SAVP/SAVPF, with or without TLS). */
int sdprw_media_is_srtp(const struct sdp *s, size_t m);

/*
 * To plain RTP: RTP/SAVP -> RTP/AVP, RTP/SAVPF -> RTP/AVPF,
 * UDP/TLS/RTP/SAVP[F] -> RTP/AVP[F]; deletes a=crypto and the DTLS
 * attributes (a=fingerprint, a=setup, a=tls-id) of the media and, for
 * DTLS, of the session. No-op for non-RTP media.
 */
int sdprw_media_to_rtp(struct sdp *s, size_t m) WUR;

/*
 * To SDES-SRTP: RTP/AVP -> RTP/SAVP, RTP/AVPF -> RTP/SAVPF (DTLS profiles
 * become SDES ones and lose their DTLS attributes), every existing
 * a=crypto is replaced by one a=crypto per keyline in `keys` (in order;
 * tag: the keyline's, else its position from 1). A rejected media
 * (port 0) gets the profile but no a=crypto. No-op for non-RTP media.
 */
int sdprw_media_to_srtp(struct sdp *s, size_t m,
    const struct keyline *const *keys, size_t nkeys) WUR;

/*
 * The offer's crypto that an answer to media `m` of `offer` should take:
 * the first a=crypto of that media (offer order) whose suite is in
 * `allowed` (NULL: any suite sbckit knows) and whose parameters the relay
 * can honour (keylog_check(): no KDR=n with n > 0, ...); lines that do not
 * parse or cannot be honoured are skipped. *chosen is a new keyline (the
 * offerer's key, with its tag); E_NOTFOUND when none fits, `why` saying
 * why (the first line skipped as unusable, if any).
 */
int sdprw_offer_choose(const struct sdp *offer, size_t m,
    const enum suite_id *allowed, size_t nallowed, struct keyline **chosen,
    char *why, size_t whysz) WUR;

/*
 * Number of a=crypto lines of media `m`, and the i-th as a new keyline
 * with selectors media=M type=TYPE and, when the media has a port and an
 * address, src=ADDR:PORT (c= of the media or the session, port of m=).
 * E_KEY/E_SYNTAX with `why` filled for a bad a=crypto line.
 */
size_t sdprw_media_ncrypto(const struct sdp *s, size_t m);
int sdprw_media_crypto(const struct sdp *s, size_t m, size_t i,
    struct keyline **out, char *why, size_t whysz) WUR;

/*
 * Every a=crypto of every media as keylines (as sdprw_media_crypto()).
 * *out is a new array of *n keylines; free with sdprw_keys_free().
 */
int sdprw_keys(const struct sdp *s, struct keyline ***out, size_t *n,
    char *why, size_t whysz) WUR;
void sdprw_keys_free(struct keyline **keys, size_t n);

/*
 * Set the address of c= lines: `sec` SDP_SESSION rewrites the session c=,
 * a media index that media's c= (neither is added when absent). IP4 or
 * IP6 follows the address. E_INVAL for a bad address.
 */
int sdprw_set_conn(struct sdp *s, int sec, const char *addr) WUR;
/* Set the address (and IP4/IP6) of o=. */
int sdprw_set_origin(struct sdp *s, const char *addr) WUR;

/*
 * Set media `m`'s port to `rtp`. `rtcp` < 0: RTP+1 (or RTP with
 * rtcp-mux). An existing a=rtcp gets the RTCP port (and `addr`, when not
 * NULL, as its address); a=rtcp is added only when RTCP is not RTP+1 and
 * rtcp-mux is off. A rejected media (port 0) stays rejected.
 */
int sdprw_media_set_port(struct sdp *s, size_t m, unsigned rtp, long rtcp,
    const char *addr) WUR;

/* Delete ICE (a=ice-*, a=candidate, a=remote-candidates,
 * a=end-of-candidates) from the session and every media. */
int sdprw_remove_ice(struct sdp *s) WUR;

/* 1 if media `m` has a=rtcp-mux. Add (on=1) or delete (on=0) it. */
int sdprw_media_rtcp_mux(const struct sdp *s, size_t m);
int sdprw_media_set_rtcp_mux(struct sdp *s, size_t m, int on) WUR;

/* All of the above, as sdp-rewrite does it. */
enum sdprw_to { SDPRW_TO_KEEP = 0, SDPRW_TO_RTP, SDPRW_TO_SRTP };
enum sdprw_mux { SDPRW_MUX_KEEP = 0, SDPRW_MUX_REMOVE, SDPRW_MUX_ADD };

struct sdprw_port {
	size_t media;		/* media index */
	unsigned rtp;
	long rtcp;		/* < 0: derive */
};

struct sdprw_opts {
	enum sdprw_to to;
	/* to-srtp offer: the suites, one fresh key each, in this order;
	 * answer mode: the suites allowed. NULL: sdp-rewrite's (the suite
	 * table's, lib/media/suite.h: suite_offer_order() for an offer,
	 * suite_accept_order() for an answer). */
	const enum suite_id *suites;
	size_t nsuites;
	/* to-srtp with given keys instead of fresh ones: a key with a
	 * media=N selector goes to media N, the others to every media
	 * without one of its own. */
	const struct keyline *const *keys;
	size_t nkeys;
	/* answer mode: one a=crypto per media, suite from this offer */
	const struct sdp *answer_to;
	const char *addr;	/* c= (session and media), a=rtcp address */
	const char *origin_addr;	/* o= */
	const struct sdprw_port *ports;
	size_t nports;
	int remove_ice;
	enum sdprw_mux mux;
	/* fresh keys' random bytes from this pool (lib/base/rnd.h; not shared
	 * across fork); NULL: one RAND_bytes() call per SDP */
	struct rnd_pool *rnd;
};

/*
 * Apply `o` to `s`. On failure `s` may be half rewritten (callers write
 * nothing) and `why` says what went wrong: E_INVAL (options), E_NOTFOUND
 * (answer: no acceptable suite), E_KEY, E_SYNTAX.
 */
int sdprw_apply(struct sdp *s, const struct sdprw_opts *o, char *why,
    size_t whysz) WUR;

#endif
