/* mediactl.h - media control: SDP bodies through an ng relay, parked. */
#ifndef SBK_MEDIACTL_H
#define SBK_MEDIACTL_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/ev.h"
#include "base/log.h"
#include "base/net.h"
#include "sip/sip.h"
#include "base/slice.h"

/*
 * The SIP side of media: for every SDP body, an ng "offer" or "answer" to
 * a relay (srtp-bridge or rtpengine), and the message waits ("parked")
 * until the rewritten body comes back; "delete" when a call ends. Several
 * relays may be given: a relay that does not answer after its retries is
 * skipped for the next one. Never blocks.
 *
 * Outside->inside bodies get "transport-protocol RTP/AVP", inside->outside
 * and outside->outside bodies "RTP/SAVP"; offers carry replace-origin,
 * replace-session-connection, ICE=remove, rtcp-mux-demux and DTLS=off,
 * and "direction" naming the two interfaces when configured (the outside
 * name twice for outside->outside).
 *
 * Offer or answer: the body of a request is an offer, of a response or an
 * ACK an answer, except after an INVITE without SDP (a late offer: the
 * offer comes in its 2xx, the answer in the ACK) and for a PRACK answering
 * a reliable provisional's offer. To tell these apart, and to tell an
 * initial INVITE from a re-INVITE, every INVITE, ACK and final response
 * to an INVITE goes through mediactl_track() first.
 *
 * Calls always end on the relay: deletes wait in a room of their own
 * (a full queue refuses new offers and answers, E_LIMIT, never a
 * delete), are retried with back-off (timeout_ms, doubling, `retries`
 * tries), and counted and warned of (once per 10 s) when still
 * unanswered. An offer given up on (E_TIMEOUT) may still have been taken
 * by a slow relay: if its call is deleted (mediactl_delete()), a late OK
 * from the relay is followed by another delete to that relay, for two
 * minutes. An offer's late OK from a relay we failed over from is
 * deleted there at once (the call lives on the other).
 */
struct mediactl;

struct mediactl_conf {
	struct net_addr relay[4];
	size_t nrelay;
	const char *dir_outside;	/* ng "direction" names (optional) */
	const char *dir_inside;
	uint32_t timeout_ms;		/* first retry (0: 500) */
	unsigned retries;		/* per relay (0: 3) */
	size_t max_pending;		/* offers and answers (0: 10000) */
};

struct mediactl_req {
	const struct sip_msg *msg;	/* borrowed for the call only */
	int outward;			/* the body goes to the outside */
	int outside_both;		/* ... and comes from the outside too */
	int require_srtp;		/* E_UNSUPPORTED if no a=crypto */
	/* WebRTC keying (see below): the outside party the body goes to
	 * (outward), or the one it comes from (inward), speaks DTLS-SRTP
	 * with ICE and rtcp-mux. */
	int webrtc;
};

/*
 * The WebRTC legs, with the flags Kamailio's WebRTC configurations give
 * rtpengine: an offer going to a WebRTC party gets "transport-protocol
 * UDP/TLS/RTP/SAVPF", ICE=force, DTLS=passive, SDES-off and
 * rtcp-mux-offer + rtcp-mux-require; an answer going to one gets none of
 * these (the relay follows that party's own offer); a body coming from one and going inside gets
 * RTP/AVP, ICE=remove and rtcp-mux-demux (no DTLS=off: that would
 * refuse the DTLS the party offered; nor for any body with an
 * a=fingerprint, e.g. a WebRTC phone's towards an SDES one).
 */

/*
 * Called once with 0 and the new body (borrowed for the call), or an
 * error: E_TIMEOUT (no relay answered), E_UNSUPPORTED (--require-srtp and
 * no usable a=crypto), E_SYNTAX (the relay could not parse the SDP),
 * E_STATE (the relay refused for another reason), E_BIG (no request could
 * be made of the message), E_LIMIT (too many requests pending).
 */
typedef void mediactl_fn(void *arg, int err, struct slice sdp);

struct mediactl *mediactl_new(struct ev_loop *loop,
    const struct mediactl_conf *conf, const struct logger *lg,
    int *err) WUR;
/* Pending callbacks are called with E_STATE first. */
void mediactl_free(struct mediactl *mc);

/*
 * Submit `rq`; `fn` is called later from the loop (only if nothing can be
 * parked at all, E_LIMIT, is it called before this returns).
 */
void mediactl_submit(struct mediactl *mc, const struct mediactl_req *rq,
    mediactl_fn *fn, void *arg);
/*
 * Fire-and-forget "delete" of the call of `m` (Call-ID, From tag: the
 * whole call), late answers to its lost offers included.
 */
void mediactl_delete(struct mediactl *mc, const struct sip_msg *m);

struct mediactl_stats {
	uint64_t refused;		/* offers/answers: no room (E_LIMIT) */
	uint64_t failed;		/* offers/answers no relay took */
	uint64_t deletes;		/* deletes sent (retries not counted) */
	uint64_t deletes_failed;	/* unanswered after their retries */
	uint64_t deletes_dropped;	/* no room even among deletes */
	uint64_t late_deletes;		/* for late answers to lost offers */
	uint64_t ghosts_dropped;	/* lost offers forgotten for room */
	size_t pending, pending_deletes;	/* now */
	size_t ghosts;			/* lost offers remembered now */
	/* Time from a request to the relay's answer (failovers included),
	 * for requests answered: rtt_le[i] answers took <= the i-th bound
	 * of mediactl_rtt_bounds (cumulative). */
#define MEDIACTL_RTT_BUCKETS 11
	uint64_t rtt_le[MEDIACTL_RTT_BUCKETS];
	uint64_t rtt_count;
	double rtt_sum_s;
};

/* The upper bounds of the answer-time buckets, in seconds. */
extern const double mediactl_rtt_bounds[MEDIACTL_RTT_BUCKETS];

void mediactl_stats(const struct mediactl *mc, struct mediactl_stats *st);

/*
 * Follow the INVITE transactions of `m` (any message; borrowed for the
 * call), before mediactl_submit() of its body: remembers whether each
 * INVITE carried an offer and whether it was a re-INVITE (To tag), and
 * forgets it at its ACK, its failure or after 200 s. A CANCEL or a final
 * failure of an initial INVITE deletes the call; a failed re-INVITE (491,
 * 488...) keeps it, and so does a CANCEL or failure after a 2xx (a
 * forked INVITE: only the failing branch is deleted).
 */
void mediactl_track(struct mediactl *mc, const struct sip_msg *m);

/* Does `sdp` offer DTLS-SRTP (an a=fingerprint line)? */
int mediactl_sdp_has_dtls(struct slice sdp);
/* Does `sdp` key SRTP: an a=crypto line with a suite we know and a key,
 * or an a=fingerprint (DTLS-SRTP)? */
int mediactl_sdp_has_crypto(struct slice sdp);

#endif
