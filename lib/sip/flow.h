/* flow.h - TLS client connections ("flows") carrying SIP, and flow tokens. */
#ifndef SBK_FLOW_H
#define SBK_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/ev.h"
#include "base/log.h"
#include "base/net.h"
#include "base/slice.h"
#include "sip/tls.h"

/*
 * A flow table accepts TLS connections on listening sockets, drives their
 * handshakes, reassembles SIP messages (lib/sip framer), answers RFC 5626
 * CRLF keep-alive pings, enforces the connection limits and timeouts, and
 * hands each complete message to a callback.
 *
 * A flow is named by a 64-bit handle (a slot and a generation that is never
 * reused within the process), so a handle to a closed flow never reaches a
 * newer one in the same slot. A flow token is that handle plus an HMAC
 * under a per-process random key: printable, safe in a SIP URI user part,
 * and impossible to forge for a flow it does not name.
 *
 * Ownership: the table borrows the loop, the TLS server and the logger
 * (all must outlive it) and owns the listening fds given to
 * flow_listen() and every accepted connection. Callbacks run from the
 * loop; they may call flow_send() and flow_close() on any flow, including
 * the one being served (closing is deferred until the callback returns).
 */
struct flow_table;


/*
 * Slow and silent clients: a connection is "pending" until its handshake
 * is done and its first SIP message came. When the table is full, a new
 * connection closes the oldest pending one rather than being refused, so
 * a phone always gets a slot; pending ones also have deadlines of their
 * own. Partial messages are charged against one budget for all flows: over
 * it, the flows holding the most are closed first; and a message must
 * complete within msg_ms of its first byte (a slow-loris).
 */
#define FLOW_NEVER UINT32_MAX		/* a deadline that is off */

struct flow_conf {
	size_t max_conns;		/* total TLS connections (0: 10000) */
	size_t max_per_ip;		/* per client IPv4 address or IPv6
					 * /64 (0: unlimited) */
	uint32_t handshake_ms;		/* handshake timeout (0: 10 s) */
	uint32_t idle_ms;		/* idle timeout (0: 600 s) */
	size_t max_msg;			/* largest SIP message (0: 65535) */
	int sndbuf;			/* SO_SNDBUF per connection (0: kernel) */
	uint32_t first_msg_ms;		/* accept to first message (0: 30 s,
					 * FLOW_NEVER: none) */
	uint32_t msg_ms;		/* first byte to whole message (0: 20 s,
					 * FLOW_NEVER: none) */
	size_t buffer_budget;		/* bytes of partial messages, all flows
					 * (0: 64 MiB, SIZE_MAX: none) */
	/* WebSocket listeners (flow_listen_kind()): the Origins allowed
	 * (borrowed; none: any) and the largest message (0: 65535). */
	const char *const *ws_origins;
	size_t nws_origins;
	size_t ws_max_msg;
};

/*
 * What a listener speaks: SIP over TLS (RFC 3261), or SIP over WebSocket
 * (RFC 7118, lib/sip/ws.h) over TLS (WSS) or plain TCP (WS, for labs).
 * A WebSocket connection is pending until its Upgrade is answered 101 (the
 * handshake deadline counts the TLS handshake and the Upgrade both); then
 * it is a flow like any other: each WebSocket message is one SIP message
 * handed to the msg callback, and flow_send() sends a message as one text
 * frame. A bad Upgrade is answered (400, 403, 426) and closed; a protocol
 * error closes with a close frame (1002, 1009); a close frame is echoed.
 */
enum flow_kind { FLOW_TLS = 0, FLOW_WSS, FLOW_WS };

/* What the limits did, since the table was made. */
struct flow_stats {
	uint64_t accepted;		/* connections taken in */
	uint64_t evicted;		/* pending, closed for a newer one */
	uint64_t refused_full;		/* full, and none pending to evict */
	uint64_t refused_per_ip;	/* over max_per_ip */
	uint64_t handshake_timeouts;
	uint64_t first_msg_timeouts;	/* no first message in first_msg_ms */
	uint64_t msg_timeouts;		/* a message not whole in msg_ms */
	uint64_t budget_closes;		/* closed to stay under the budget */
	size_t held, held_peak;		/* partial message bytes, now and max */
	uint64_t ws_upgraded;		/* WebSocket Upgrades answered 101 */
	uint64_t ws_refused;		/* ... answered 400, 403 or 426 */
	uint64_t ws_errors;		/* closed for a frame error (1002, 1009) */
	uint64_t handshakes_ok, handshakes_failed;	/* TLS, completed */
	uint64_t throttled;		/* flow_throttle() calls */
	size_t open_kind[3];		/* open now, by enum flow_kind (a walk
					 * of the open flows: scrapes only) */
};

/* A complete message from flow `flow` (borrowed until return). */
typedef void flow_msg_fn(void *arg, uint64_t flow, struct slice msg);
/* Flow `flow` is gone (closed by either side, timed out or failed). */
typedef void flow_closed_fn(void *arg, uint64_t flow);
/* A stream that could not be framed (oversize, no Content-Length). */
typedef void flow_bad_fn(void *arg, uint64_t flow, int err);

struct flow_cbs {
	flow_msg_fn *msg;
	flow_closed_fn *closed;		/* may be NULL */
	flow_bad_fn *bad;		/* may be NULL */
	void *arg;
};

struct flow_table *flow_table_new(struct ev_loop *loop, struct tls_server *tls,
    const struct flow_conf *conf, const struct flow_cbs *cbs,
    const struct logger *lg) WUR;
/* Closes every flow and listener (no callbacks); NULL does nothing. */
void flow_table_free(struct flow_table *t);

/* Accept TLS connections on listening socket `fd` (taken over). */
int flow_listen(struct flow_table *t, int fd) WUR;
/*
 * Accept connections of `kind` on listening socket `fd` (taken over; its
 * local address tells its connections apart, so two listeners of
 * different kinds need different ports). E_LIMIT: too many listeners.
 */
int flow_listen_kind(struct flow_table *t, int fd, enum flow_kind kind) WUR;
/* The kind of an open flow (FLOW_TLS for one that is gone). */
enum flow_kind flow_kind(const struct flow_table *t, uint64_t flow);

/*
 * Queue bytes on a flow. 0, E_NOTFOUND (gone), E_LIMIT (its write queue
 * is full: the flow is closed, the peer is not reading).
 */
int flow_send(struct flow_table *t, uint64_t flow, const void *p, size_t len)
    WUR;
/* Close a flow (deferred if it is being served). */
void flow_close(struct flow_table *t, uint64_t flow);

/*
 * Stop reading flow `flow` for `ms` (a source over its request rate):
 * its bytes wait in the kernel, so TCP pushes back on the sender instead
 * of us reading and refusing at its pace; messages already framed wait
 * too and come, in order, once the time is up. Writes go on. Unknown
 * flows: nothing.
 */
void flow_throttle(struct flow_table *t, uint64_t flow, uint32_t ms);
/* 1 if the flow is open. */
int flow_alive(const struct flow_table *t, uint64_t flow);
/* The client's address and our local address of the connection. */
int flow_addrs(const struct flow_table *t, uint64_t flow,
    struct net_addr *peer, struct net_addr *local) WUR;
size_t flow_count(const struct flow_table *t);
/* The counters of the limits above. */
void flow_stats(const struct flow_table *t, struct flow_stats *st);

/* Token length, without NUL. */
#define FLOW_TOKEN_LEN 39

/* Write the token of `flow` into `out` (NUL-terminated, n > LEN). */
int flow_token(const struct flow_table *t, uint64_t flow, char *out,
    size_t n) WUR;
/*
 * Check a token: 0 and the handle in *flow; E_AUTH (not ours, forged or
 * malformed). The flow may be gone: check flow_alive().
 */
int flow_token_check(const struct flow_table *t, struct slice tok,
    uint64_t *flow) WUR;

/*
 * Bans: `gate` (NULL: none) says whether source `peer` is refused. It is
 * asked at accept, before the handshake (a refused connection is closed
 * at once), and by flow_close_gated(), which closes every open flow whose
 * source it refuses now and returns how many (their closed callbacks run).
 */
typedef int flow_gate_fn(void *arg, const struct net_addr *peer);
void flow_set_gate(struct flow_table *t, flow_gate_fn *gate, void *arg);
size_t flow_close_gated(struct flow_table *t);

/* Stop accepting (SIGTERM drain); live flows keep running. */
void flow_stop_listening(struct flow_table *t);

#endif
