/* proxy.h - the SIP proxy between TLS flows (outside) and UDP/TCP (inside). */
#ifndef SBK_PROXY_H
#define SBK_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/ev.h"
#include "sip/flow.h"
#include "base/log.h"
#include "base/net.h"
#include "base/slice.h"
#include "base/srclimit.h"
#include "sip/tcpconn.h"

/*
 * RFC 3261 §16 proxying between the outside (SIP over TLS flows, see
 * lib/flow) and the inside (SIP over UDP, or TCP, see proxy_set_tcp()):
 *
 *  - Max-Forwards (483 at 0), loose routing (our own Route entries are
 *    popped, both faces), our Via pushed with a deterministic branch that
 *    carries the flow token, received/rport forced on the client's Via,
 *    responses routed by our Via (never by sent-by), double Record-Route
 *    on dialog-forming requests, the inside Request-URI rebuilt for UDP.
 *  - A small client transaction table for outside->inside requests: 100
 *    Trying for INVITE, UDP retransmissions (T1 doubling), 408 when the
 *    inside stays silent.
 *  - Reaching clients from the inside: Path (RFC 3327, default, with
 *    "Supported: path" added), Contact rewriting, or a built-in registrar
 *    (lib/registrar), with which outside requests for a registered AoR go
 *    flow to flow, never inside.
 *  - A media hook (lib/mediactl) that rewrites every SDP body through an ng
 *    relay while the message waits parked (offers and answers told apart
 *    by mediactl_track(), late offers included).
 *
 * Ownership: the proxy borrows the loop, the flow table and the logger; it
 * takes over the inside UDP socket `udp_fd`.
 */
struct proxy;
struct mediactl;

enum proxy_reach {
	PROXY_PATH = 0,		/* add Path to REGISTERs (default) */
	PROXY_CONTACT,		/* rewrite REGISTER Contacts to a token */
	PROXY_REGISTRAR,	/* answer REGISTER ourselves */
};

struct proxy_conf {
	struct net_addr inside;		/* our inside face (Via, RR, Path) */
	struct net_addr upstream;	/* .len 0: route by Route/R-URI */
	const char *outside_host;	/* advertised (NULL: connection's) */
	uint16_t outside_port;		/* 0: connection's local port */
	enum proxy_reach reach;
	int no_path_tag;		/* do not add "Supported: path" */
	int allow_sips;			/* relay sips: inward over UDP */
	int require_srtp;		/* 488 for offers without a=crypto */
	/* Keying offered to TLS phones: 0 SDES, 1 DTLS-SRTP with ICE
	 * (WebSocket phones always get DTLS-SRTP with ICE). */
	int outside_dtls;
	uint32_t t1_ms;			/* 0: 500 */
	uint32_t timeout_ms;		/* 0: 32000 (408 after) */
	uint32_t reg_max_s;		/* built-in registrar cap, 0: 3600 */
	size_t max_regs;		/* 0: 100000 */
	size_t max_txns;		/* 0: 100000 */
	/* Inside TCP (with proxy_set_tcp(); else everything goes UDP). */
	int upstream_tcp;		/* reach `upstream` over TCP */
	size_t tcp_switch;		/* larger requests go TCP (0: never) */
	/* Follow the dialogs that cross the border (lib/dialog) and send
	 * the inside party a BYE when the outside party's flow is lost. */
	int bye_on_loss;
	size_t max_dialogs;		/* 0: 100000 */
	/* Where outside requests may go besides the upstream and our own
	 * flows (--allow-inside): a Route's host, or without an upstream
	 * the Request-URI's. Borrowed; none: nowhere else. */
	const struct net_prefix *allow_inside;
	size_t nallow_inside;
	/* Digest authentication (proxy_set_auth()): 1 to challenge every
	 * out-of-dialog request from outside, not only where we are the
	 * registrar (then REGISTER and all out-of-dialog requests). */
	int auth_requests;
	uint32_t auth_nonce_s;		/* nonce lifetime (0: 300 s) */
};

struct proxy *proxy_new(struct ev_loop *loop, struct flow_table *flows,
    int udp_fd, const struct proxy_conf *conf, const struct logger *lg,
    int *err) WUR;
void proxy_free(struct proxy *px);

/* Attach a media controller (borrowed); NULL: bodies pass unchanged. */
void proxy_set_media(struct proxy *px, struct mediactl *mc);

/*
 * Inside TCP (lib/tcpconn, borrowed): requests go over TCP when their next
 * hop says ";transport=tcp", the upstream is TCP, or they are larger than
 * conf.tcp_switch (RFC 3261 §18.1.1; back to UDP when the connection is
 * refused); requests from inside may arrive over TCP. Our inside Via,
 * Record-Route and Path then say TCP.
 */
void proxy_set_tcp(struct proxy *px, struct tcpconn_table *tc);
/* A message from inside over TCP (tcpconn_cbs.msg). */
void proxy_from_tcp(struct proxy *px, uint64_t conn,
    const struct net_addr *src, struct slice msg);
/* An inside TCP connection is gone (tcpconn_cbs.closed). */
void proxy_tcp_closed(struct proxy *px, uint64_t conn,
    const struct net_addr *peer, int err);

/* Feed a message that arrived on flow `flow` (flow_cbs.msg). */
void proxy_from_flow(struct proxy *px, uint64_t flow, struct slice msg);
/* Flow gone (flow_cbs.closed). */
void proxy_flow_closed(struct proxy *px, uint64_t flow);

struct digest_creds;

/*
 * Digest authentication (lib/sip/digest, lib/sip/proxy_auth.c) for
 * `realm` (copied), against `creds` (taken over, also on failure). With
 * the built-in registrar a REGISTER needs Authorization (401), and any
 * other request from outside that is not in a dialog (no To tag; never
 * ACK or CANCEL) Proxy-Authorization (407); without it, only with
 * conf.auth_requests (then every such request, REGISTER included, 407).
 * A REGISTER's To user must be the authenticated user (403). Our realm's
 * credentials are removed before a request goes on. 0, E_INVAL, E_NOMEM
 * or E_CRYPTO.
 */
int proxy_set_auth(struct proxy *px, const char *realm,
    struct digest_creds *creds) WUR;
/* New credentials (SIGHUP): `creds` taken over, the old ones freed. */
void proxy_auth_swap(struct proxy *px, struct digest_creds *creds);
/*
 * Per-source limits (lib/base/srclimit; `conf` copied): requests over
 * the rate are dropped unanswered; authentication failures (ours, or a
 * 401/407/403 from inside to a request that carried credentials) ban
 * the source: its flows are closed and flow_set_gate() refuses it.
 * 0 or E_NOMEM.
 */
int proxy_set_limits(struct proxy *px, const struct srclimit_conf *conf) WUR;
/* A flow_gate_fn (arg: the proxy): 1 if `peer` is banned now. */
int proxy_src_refused(void *arg, const struct net_addr *peer);

struct proxy_auth_stats {
	uint64_t challenges;		/* 401 and 407 sent */
	uint64_t ok;			/* requests authenticated */
	uint64_t failed;		/* failures counted against sources */
	uint64_t forbidden;		/* 403: another's AoR */
	uint64_t upstream_failed;	/* of those: the inside's answers */
	struct srclimit_stats lim;	/* zero without limits */
};
void proxy_auth_stats(struct proxy *px, struct proxy_auth_stats *st);

/* Counters for logs and tests. */
struct proxy_stats {
	uint64_t in_req, in_resp, out_req, out_resp, bad, dropped, timeouts;
	uint64_t byes;			/* sent for lost flows */
	size_t txns, regs, dialogs;	/* dialogs: confirmed, followed */
};
void proxy_stats(const struct proxy *px, struct proxy_stats *st);

struct hep;
struct metrics_out;
/*
 * Capture every SIP message received and sent, both faces, in HEP
 * (lib/base/hep; borrowed, NULL: none): outside with the flow's
 * addresses as TLS (22), inside as UDP or TCP with our inside face.
 */
void proxy_set_hep(struct proxy *px, struct hep *h);
/* A metrics_collect_fn (arg: the proxy): SIP requests by face and method,
 * responses by face and class (received), the summary's counters. */
void proxy_metrics(void *arg, struct metrics_out *o);

#endif
