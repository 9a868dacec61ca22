/* webrtc.h - one media side's ICE-lite agent and DTLS-SRTP association,
 * fed by the relay's slow path (relay_side_set_other()). */
#ifndef SBK_WEBRTC_H
#define SBK_WEBRTC_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/ev.h"
#include "base/log.h"
#include "base/net.h"
#include "base/slice.h"
#include "media/dtls.h"
#include "media/ice.h"
#include "relay/relay.h"

/*
 * A `struct webrtc` sits on one side of a relay stream and takes the STUN
 * and DTLS datagrams that arrive there (RFC 7983 demultiplexing, done by
 * the relay's packet classification: SRTP and plain streams pay nothing).
 *
 * ICE-lite (webrtc_ice_on()): Binding requests are answered by
 * ice_lite_input() from the socket they arrived on, to their source. The
 * source of a check that carries USE-CANDIDATE becomes the side's media
 * peer (relay_side_set_latched()), and so does a later one from a new
 * address (a network change). Until a nomination, the first checked source
 * is taken. Requests failing integrity are dropped and counted.
 *
 * DTLS-SRTP (webrtc_dtls()): one association (lib/media/dtls) on the RTP
 * component, and on a side without rtcp-mux another on the RTCP one (RFC
 * 5764 4.1: each component its own handshake; the same certificate,
 * fingerprint check, role and rules), made at its first datagram as the
 * server, or started with the RTP one as the client. Each is fed only
 * datagrams from an address we trust (with ICE: a checked one; without:
 * the one its handshake came from, the first source latched) and its
 * replies go there. Handshake datagrams that arrive before the role and
 * the peer's fingerprint are known (the browser starts DTLS as soon as it
 * has our SDP, before the ng answer reaches us) are kept (up to 8 per
 * component) and fed to the association when webrtc_dtls() makes it; with
 * ICE offered, those from a source no check has passed yet take at most
 * half that room and are fed only if it is trusted then (a check came, or
 * the answer had no ICE: a phone answering our ICE offer without it). The
 * active role sends each ClientHello once it knows where: the component's
 * ICE-checked source, else the side's peer from the SDP. Retransmissions run on the loop's timers. A
 * new ClientHello from another address after the handshake (the client
 * moved and redoes DTLS) makes a fresh association (passive role). When a
 * handshake finishes, `on_keys` gets the exported keys (RFC 5764 4.2)
 * and the component: RTCP's are for SRTCP only (relay_side_rtcp_apart()).
 * A peer certificate that does not match the SDP fingerprint fails the
 * association: no keys, no media, counted and logged once.
 *
 * Ownership: borrows the stream, the loop, the certificate and the logger
 * (all outlive it); owns its associations, timers and early datagrams.
 * webrtc_free() unhooks it from the stream.
 */
struct webrtc;

struct webrtc_ctr {
	uint64_t stun, dtls;		/* datagrams handed to us */
	uint64_t ice_answered;		/* checks answered */
	uint64_t ice_bad_auth;		/* integrity failed: dropped */
	uint64_t ice_other;		/* malformed, another USERNAME (401),
					 * responses, role conflicts */
	uint64_t nominations;		/* USE-CANDIDATE that moved the peer */
	uint64_t dtls_bad;		/* not well-formed DTLS records */
	uint64_t dtls_untrusted;	/* from an address not checked */
	uint64_t dtls_early;		/* kept until the role was known */
	uint64_t handshakes;		/* finished, keys given */
	uint64_t rtcp_handshakes;	/* of them, on the RTCP component */
	uint64_t fp_mismatch;		/* peer certificate != SDP fingerprint */
	uint64_t dtls_failed;		/* other failures (alerts, ...) */
};

/* `comp`: RELAY_RTP (keys for SRTP, and SRTCP unless the RTCP component
 * has its own) or RELAY_RTCP (for SRTCP only). */
typedef void webrtc_keys_fn(struct webrtc *w, int comp,
    const struct dtls_keys *k, void *arg);

struct webrtc_config {
	struct ev_loop *loop;
	struct dtls_cert *cert;
	const struct logger *lg;
	webrtc_keys_fn *on_keys;
	dtls_keylog_fn *nss_keylog;	/* NULL: none */
	void *arg;			/* for on_keys and nss_keylog */
	const char *name;		/* in log lines, e.g. a call-id; copied */
};

/* A new glue for `side` of `rs`, hooked to its slow path. NULL, *err. */
struct webrtc *webrtc_new(struct relay_stream *rs, int side,
    const struct webrtc_config *cfg, int *err) WUR;
/* Unhook, stop the timer, free the association. NULL does nothing. */
void webrtc_free(struct webrtc *w);

/* Answer connectivity checks (fresh local credentials the first time). */
int webrtc_ice_on(struct webrtc *w) WUR;
/* Stop answering them (ICE=remove). */
void webrtc_ice_off(struct webrtc *w);
int webrtc_has_ice(const struct webrtc *w);
/* Our ice-ufrag and ice-pwd (webrtc_ice_on() first). */
const char *webrtc_ice_ufrag(const struct webrtc *w);
const char *webrtc_ice_pwd(const struct webrtc *w);
/*
 * The peer's credentials from its SDP: 1 when they changed (an ICE
 * restart: our credentials are renewed too), 0 when the same, E_SYNTAX.
 */
int webrtc_ice_remote(struct webrtc *w, struct slice ufrag, struct slice pwd)
    WUR;

/*
 * Our role and the peer's fingerprint. The first call makes the
 * association (and feeds it what came early); later ones with the same
 * role only change the fingerprint; another role makes a new one.
 * 0, or dtls_new()'s error.
 */
int webrtc_dtls(struct webrtc *w, enum dtls_role role,
    const struct dtls_fp *peer) WUR;
/* The role given (0: none yet), and whether keys were given (by the
 * RTP component's association; by the RTCP one's). */
enum dtls_role webrtc_role(const struct webrtc *w);
int webrtc_keyed(const struct webrtc *w);
int webrtc_rtcp_keyed(const struct webrtc *w);
/* Active role: start now if we know where to (called after an answer). */
void webrtc_kick(struct webrtc *w);

void webrtc_counters(const struct webrtc *w, struct webrtc_ctr *c);
/* a += b */
void webrtc_ctr_add(struct webrtc_ctr *a, const struct webrtc_ctr *b);

#endif
