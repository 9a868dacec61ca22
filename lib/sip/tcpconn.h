/* tcpconn.h - SIP over plain TCP: reused connections, framing, queues. */
#ifndef SBK_TCPCONN_H
#define SBK_TCPCONN_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/ev.h"
#include "base/log.h"
#include "base/net.h"
#include "base/slice.h"

/*
 * A table of plain TCP connections carrying SIP (RFC 3261 §18): the
 * inside face of sip-tls-term. It accepts connections on listening
 * sockets, opens connections with a non-blocking connect, keeps one
 * connection per remote address and reuses it for every message to that
 * address (a closed one is replaced on the next send), reassembles
 * messages with the lib/sip stream framer (Content-Length mandatory, CRLF
 * keep-alive pings answered with a pong), queues what the kernel does not
 * take under a per-connection cap, and closes connections that stay idle
 * or do not connect in time.
 *
 * A connection is named by a 64-bit handle (slot and generation), never 0
 * and never reused within the table, so a stale handle reaches nothing.
 *
 * Ownership: the table borrows the loop and the logger (both outlive it)
 * and owns the listening fds given to tcpconn_listen() and every
 * connection. Callbacks run from the loop, never from inside a tcpconn_*
 * call; they may call any tcpconn_* function, on any connection.
 */
struct tcpconn_table;

struct tcpconn_conf {
	size_t max_conns;		/* open connections (0: 1024) */
	uint32_t connect_ms;		/* connect timeout (0: 5000) */
	uint32_t idle_ms;		/* idle timeout (0: 300 s) */
	size_t max_msg;			/* largest SIP message (0: 65535) */
	size_t wq_max;			/* write queue cap (0: 1 MiB) */
};

/* A complete message (borrowed until return) from `peer` on `conn`. */
typedef void tcpconn_msg_fn(void *arg, uint64_t conn,
    const struct net_addr *peer, struct slice msg);
/*
 * Connection `conn` to `peer` is gone. `err` is 0 for one that was up
 * (closed by either side, idle, unframeable), or why it never came up:
 * E_IO (refused, unreachable) or E_TIMEOUT (connect timeout).
 */
typedef void tcpconn_closed_fn(void *arg, uint64_t conn,
    const struct net_addr *peer, int err);

struct tcpconn_cbs {
	tcpconn_msg_fn *msg;
	tcpconn_closed_fn *closed;	/* may be NULL */
	void *arg;
};

struct tcpconn_table *tcpconn_new(struct ev_loop *loop,
    const struct tcpconn_conf *conf, const struct tcpconn_cbs *cbs,
    const struct logger *lg) WUR;
/* Closes every connection and listener (no callbacks); NULL does nothing. */
void tcpconn_free(struct tcpconn_table *t);

/* Accept connections on listening socket `fd` (taken over). */
int tcpconn_listen(struct tcpconn_table *t, int fd) WUR;

/*
 * Send one whole message to `dst` on its connection, connecting first if
 * there is none (the bytes wait in the queue until it is up). The handle
 * used goes to *conn (may be NULL). Returns 0, E_LIMIT (queue full or
 * too many connections: nothing was queued, the connection stays), or
 * E_IO (the connect failed at once).
 */
int tcpconn_send(struct tcpconn_table *t, const struct net_addr *dst,
    const void *p, size_t len, uint64_t *conn) WUR;
/* Send on connection `conn` only: 0, E_NOTFOUND (gone), E_LIMIT, E_IO. */
int tcpconn_send_conn(struct tcpconn_table *t, uint64_t conn, const void *p,
    size_t len) WUR;
/* The open connection to `dst`: 0 and *conn, or E_NOTFOUND. */
int tcpconn_find(const struct tcpconn_table *t, const struct net_addr *dst,
    uint64_t *conn) WUR;
/* The remote address of `conn`: 0 or E_NOTFOUND. */
int tcpconn_peer(const struct tcpconn_table *t, uint64_t conn,
    struct net_addr *peer) WUR;
/* Close a connection; its closed callback runs later from the loop. */
/* Our end of connection `conn` (getsockname: a system call; for HEP
 * capture, not for every message). E_NOTFOUND, E_IO. */
int tcpconn_local(const struct tcpconn_table *t, uint64_t conn,
    struct net_addr *local) WUR;
void tcpconn_close(struct tcpconn_table *t, uint64_t conn);
size_t tcpconn_count(const struct tcpconn_table *t);

/* Stop accepting (SIGTERM drain); open connections keep running. */
void tcpconn_stop_listening(struct tcpconn_table *t);

#endif
