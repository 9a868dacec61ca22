/* sipterm.h - sip-tls-term's machinery: TLS flows, proxy, inside TCP, media. */
#ifndef SBK_SIPTERM_H
#define SBK_SIPTERM_H

#include <stddef.h>

#include "base/err.h"
#include "base/ev.h"
#include "base/log.h"
#include "base/net.h"
#include "sip/flow.h"
#include "sip/mediactl.h"
#include "sip/proxy.h"
#include "sip/tcpconn.h"
#include "sip/tls.h"

/*
 * The SIP-aware TLS terminator put together: a TLS server and its flow
 * table on the listening addresses, the proxy on the inside UDP socket
 * (and TCP on the same address and port), an optional media relay, and
 * the signals a daemon answers (SIGHUP reloads the certificates and the
 * credentials file and reopens the TLS key log, SIGUSR1 logs the counters, SIGTERM and SIGINT stop
 * the loop; the counters are logged again at sipterm_free()).
 *
 * Ownership: the conf's strings and the logger are borrowed and must
 * outlive the sipterm; the loop too. Everything else is its own.
 */
struct sipterm;

#define SIPTERM_MAX_LISTEN 4

struct sipterm_conf {
	struct tls_conf tls;
	struct flow_conf flows;
	struct proxy_conf proxy;	/* .inside: the address to bind */
	struct tcpconn_conf tcp;	/* with inside_tcp */
	struct mediactl_conf media;	/* .nrelay 0: bodies unchanged */
	struct net_addr listen[SIPTERM_MAX_LISTEN];
	size_t nlisten;
	/* SIP over WebSocket (RFC 7118) listeners: over TLS with the same
	 * certificates, and plain (labs); .flows.ws_* their limits. */
	struct net_addr listen_wss[SIPTERM_MAX_LISTEN];
	size_t nlisten_wss;
	struct net_addr listen_ws[SIPTERM_MAX_LISTEN];
	size_t nlisten_ws;
	int inside_tcp;			/* SIP over TCP inside too */
	/* Digest authentication: the credentials file (NULL: none; reread
	 * on SIGHUP) and the realm (required with it). */
	const char *auth_file;
	const char *auth_realm;
	/* Per-source rates and bans (.max 0: none). */
	struct srclimit_conf limits;
};

/* The step sipterm_new() failed at, for the caller's message. */
enum sipterm_step {
	SIPTERM_TLS,		/* the TLS server (err) */
	SIPTERM_FLOWS,		/* the flow table (out of memory) */
	SIPTERM_LISTEN,		/* a listening socket (sys: errno) */
	SIPTERM_LISTEN_ADD,	/* too many listeners */
	SIPTERM_INSIDE,		/* binding the inside face (sys: errno) */
	SIPTERM_PROXY,		/* the proxy (err) */
	SIPTERM_TCP,		/* the inside TCP table (out of memory) */
	SIPTERM_TCP_LISTEN,	/* listening for inside TCP */
	SIPTERM_MEDIA,		/* the media controller (err) */
	SIPTERM_SIGNALS,	/* the signal handlers */
	SIPTERM_AUTH,		/* the credentials file (err; sys: errno;
				 * why: the line) */
	SIPTERM_LIMITS,		/* the source table (out of memory) */
};

struct sipterm_fail {
	enum sipterm_step step;
	int err;		/* an E_* code */
	int sys;		/* errno, where the step says so */
	char why[256];		/* SIPTERM_AUTH: which line, what;
				 * SIPTERM_TLS: a key mode */
};

/* A socket is bound: `what` is "listening tls", "listening wss",
 * "listening ws", "inside udp" or "inside tcp" (in that order, as they
 * are set up). */
typedef void sipterm_bound_fn(void *arg, const char *what, int fd);

/*
 * Set everything up on `loop`; `bound` (may be NULL) hears of each bound
 * socket. NULL on failure, with *f saying where (nothing is left open).
 */
struct sipterm *sipterm_new(struct ev_loop *loop,
    const struct sipterm_conf *conf, const struct logger *lg,
    sipterm_bound_fn *bound, void *arg, struct sipterm_fail *f) WUR;
/* Run the loop until SIGTERM or SIGINT; ev_run()'s result. */
int sipterm_run(struct sipterm *st) WUR;
/* Media first (parked messages call back into the proxy), then the rest;
 * the loop is the caller's. NULL does nothing. */
void sipterm_free(struct sipterm *st);

struct hep;
struct metrics;
/*
 * Observability (both borrowed, may be NULL): every SIP message in and
 * out captured to `h` (proxy_set_hep()), and the TLS, SIP and media
 * control counters added to `m` as collectors. 0 or E_LIMIT.
 */
int sipterm_observe(struct sipterm *st, struct hep *h, struct metrics *m)
    WUR;

#endif
