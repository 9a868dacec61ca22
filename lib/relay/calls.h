/* calls.h - the ng-driven call table of srtp-bridge: offers, answers, keys. */
#ifndef SBK_CALLS_H
#define SBK_CALLS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/ev.h"
#include "media/dtls.h"
#include "media/keylog.h"
#include "base/log.h"
#include "base/net.h"
#include "relay/relay.h"

/*
 * A call table turns rtpengine "ng" requests (lib/ng) into relay streams
 * (lib/relay) and rewritten SDPs (lib/sdprw, the same code as sdp-rewrite).
 * Each RTP media line of a call is one relay stream; its side 0 faces the
 * OUTSIDE interface and side 1 the INSIDE one.
 *
 * Which side an offer comes from: its `direction` / `from-interface`
 * (names: outside, external, ext, public; inside, internal, int,
 * private), else the side of its from-tag in an existing call, else
 * `transport-protocol` (RTP/AVP towards the recipient: the recipient is
 * inside; RTP/SAVP: outside), else the offer's own profile (SRTP comes
 * from outside), else outside.
 *
 * SRTP <-> RTP: `transport-protocol` is the profile towards the recipient
 * of the SDP (absent: as offered). Towards an SRTP recipient the offer
 * carries one fresh key per suite (AES_CM_128_HMAC_SHA1_80 first, as
 * filtered by SDES no-/only-); the answer's a=crypto is matched to them by
 * suite, not tag. The offerer gets exactly one a=crypto in its answer: a
 * fresh key for the first suite of its offer that we support, with its
 * tag. Keys are kept across re-INVITEs; a changed a=crypto from a peer
 * makes a new receive context, an unchanged one keeps it. Media before a
 * key is known (early media) are dropped quietly by the relay.
 *
 * Forks and branches: an offer with a via-branch not seen before, from a
 * party that already made an offer in the call, is a new branch (a
 * dialog) with its own streams and ports on both sides, as rtpengine
 * does with parallel forking; answers find their branch by from-tag and
 * to-tag, then by via-branch. `delete` with from-tag and to-tag ends only
 * the branch of those two parties, and with via-branch (no to-tag) only
 * that branch; the last branch, an unknown via-branch, or no to-tag nor
 * via-branch end the whole call. Tags that match nothing: ok with the
 * warning "Call-ID not found or tags didn't match" (error with `fatal`).
 * The reply carries the query of what was deleted (a bare ok for a delete
 * without tags), as rtpengine's; in it and in `query`, the party of a fork
 * with no to-tag yet is "<untagged N>" (tag "", its via-branch).
 * `delete-delay` N > 0 defers the deletion N seconds (media still flow,
 * query still answers); without it (or 0) the deletion is at once
 * (rtpengine's default is 30 s).
 *
 * Timeouts: a call ends when every stream of every branch has seen no
 * media for calls_config.timeout_ms.
 *
 * Ownership: the table borrows the relay, the loop, the logger and the
 * key log (all must outlive it) and owns its calls, their streams and
 * keys (wiped when freed) and its reply cache.
 */
struct calls;

struct calls_config {
	struct net_addr iface[2];	/* outside, inside: hosts (port unused) */
	/* the address written into SDPs, when not the bound one (NAT) */
	struct net_addr advertise[2];
	size_t max_sessions;		/* parallel calls; 0: no limit */
	/* the relay's timeout_ms (0: none): a call ends when all its
	 * streams have been idle this long */
	uint64_t timeout_ms;
	struct keylog *keylog;		/* NULL: no key log */
	/* calls_listen(): answer only these sources (n 0: anyone);
	 * borrowed, must outlive the table */
	const struct net_prefix *ng_allow;
	size_t n_ng_allow;
	/* DTLS-SRTP (calls_webrtc.c): our certificate (borrowed; NULL: no
	 * DTLS, such offers are refused), and where the DTLS secrets go as
	 * NSS key log lines (NULL: nowhere) */
	struct dtls_cert *cert;
	void (*dtls_keylog)(void *arg, const char *line);
	void *dtls_keylog_arg;
};

#define CALLS_NG_ALLOW_MAX 32

/* A new table. NULL with *err (E_NOMEM, E_INVAL). It owns a random pool
 * for fresh keys (lib/base/rnd.h): do not fork() and use it on both sides. */
struct calls *calls_new(struct relay *r, struct ev_loop *loop,
    const struct calls_config *cfg, const struct logger *lg, int *err) WUR;
/* Free every call (and its streams) and the table. NULL does nothing. */
void calls_free(struct calls *c);

/*
 * Handle one ng request datagram `dgram` from `peer` (used to key the
 * reply cache) and append the reply datagram to `out`. A retransmitted
 * cookie is answered from the cache and not run again. Returns 0 (reply
 * in `out`), E_SYNTAX (no cookie: send nothing) or E_NOMEM/E_BIG.
 */
int calls_handle(struct calls *c, struct slice dgram,
    const struct net_addr *peer, struct buf *out) WUR;

/*
 * Listen for ng requests on UDP `addr` with the table's loop, answering
 * each with calls_handle(). Returns 0 or E_IO (errno).
 */
int calls_listen(struct calls *c, const struct net_addr *addr) WUR;
/* The address calls_listen() bound (its port when it was 0): 0, or
 * E_STATE before calls_listen(), E_IO. */
int calls_local(const struct calls *c, struct net_addr *a) WUR;

/* For relay_config.on_timeout / on_ssrc: the stream's user is ours. */
void calls_stream_timeout(struct relay_stream *s, void *user);
void calls_stream_ssrc(struct relay_stream *s, int side, uint32_t ssrc,
    void *user);

size_t calls_count(const struct calls *c);
/* The calls' summary: "summary: calls now= total=", then a line per call
 * (call-id, media, branches, age), as relay_summary() writes them. */
int calls_summary(const struct calls *c, struct buf *b) WUR;

struct hep;
struct metrics_out;
/*
 * HEP (lib/base/hep; borrowed, NULL: none): when a media line ends (its
 * call deleted or timed out), one summary a side, as HEP type 100 (log)
 * with the Call-ID as correlation id, from the side's peer to its local
 * address, the payload JSON:
 *   {"event":"stream-end","call-id":"…","media":0,"side":"outside",
 *    "local":"…","peer":"…","srtp":true,"rtp":{COUNTERS},"rtcp":{…}}
 * COUNTERS as in the summary lines (in_packets, in_bytes, forwarded,
 * drop_auth, drop_replay, drop_malformed, drop_nokey, drop_nopeer,
 * drop_other, send_errors, crypto_errors, relatched).
 */
void calls_set_hep(struct calls *c, struct hep *h);
/*
 * For relay_config.on_rtcp (set it only with HEP: the stream's user is
 * ours): the first sender or receiver report of each RTCP packet as
 * HEP type 5, JSON as rtpengine's --homer writes it ("sender_information",
 * "ssrc", "type", "report_count", "report_blocks"), the Call-ID as
 * correlation id, from the packet's source to our port on that side.
 */
void calls_stream_rtcp(struct relay_stream *s, int side, struct slice rtcp,
    const struct net_addr *src, void *user);
/* A metrics_collect_fn (arg: the table): calls open and made, ng
 * requests by command and result. */
void calls_metrics(void *arg, struct metrics_out *o);

#endif
