/* conntab.h - a table of connections: handles, listeners, timeouts, reaping. */
#ifndef SBK_CONNTAB_H
#define SBK_CONNTAB_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/ev.h"
#include "base/log.h"
#include "base/net.h"

/*
 * The skeleton that the inside TCP connections (lib/tcpconn) and the
 * outside TLS flows (lib/flow) share; what a connection carries and how
 * it reads and writes stays with its owner.
 *
 * A connection is the owner's object (`conn`, opaque here) and a socket,
 * named by a 64-bit handle: a slot and a generation, never 0 and never
 * reused within the table, so a stale handle reaches nothing. The table
 * watches the socket on the loop and hands its events to the owner;
 * accepts connections on listening sockets; times connections out (a
 * connection that is not up yet after setup_ms, one with no activity for
 * idle_ms); and, when the owner kills a connection, unlinks it at once
 * (its handle is dead from then on) but reaps it only from a zero-delay
 * timer, so that the owner never frees an object that a function further
 * up the stack still uses.
 *
 * Ownership: the table borrows the loop and the logger (both outlive it),
 * owns the listening fds given to conntab_listen(), and borrows each
 * connection's fd and object: it frees neither, the owner's free callback
 * does. Callbacks run from the loop, never from inside a conntab_* call.
 */
struct conntab;

enum conntab_expiry {
	CONNTAB_SETUP = 1,	/* not up setup_ms after it was added */
	CONNTAB_IDLE,		/* no activity for idle_ms */
	CONNTAB_FIRST,		/* up, but not ready ready_ms after it was
				 * added (no first message) */
	CONNTAB_DEADLINE,	/* the owner's deadline passed */
};

struct conntab_ops {
	/* Events (EV_*) on the socket of live connection `conn`. */
	void (*event)(void *arg, void *conn, unsigned ev);
	/*
	 * A connection accepted on a listener: `fd` (non-blocking) is the
	 * callee's; it adds it with conntab_add() or closes it. May be NULL
	 * when the table never listens.
	 */
	void (*accept)(void *arg, int fd, const struct net_addr *peer);
	/*
	 * `conn` timed out (checked once a second). The owner usually kills
	 * it; if it does not, it is asked again a second later.
	 */
	void (*expire)(void *arg, void *conn, enum conntab_expiry why);
	/* A killed connection, from the reap timer, just before free. May
	 * be NULL. */
	void (*reaped)(void *arg, void *conn);
	/* Free `conn` (killed, or left at conntab_free()). */
	void (*free)(void *arg, void *conn);
	void *arg;
};

struct conntab_conf {
	size_t max_conns;	/* open connections (required, > 0) */
	uint32_t setup_ms;	/* time to come up (connect, handshake) */
	uint32_t idle_ms;	/* idle timeout */
	const char *name;	/* for log lines ("tcp", "flow") */
	uint32_t ready_ms;	/* time to become ready (0: no limit) */
};

/* A table, or NULL (no memory, no timer). `conf` is copied. */
struct conntab *conntab_new(struct ev_loop *loop,
    const struct conntab_conf *conf, const struct conntab_ops *ops,
    const struct logger *lg) WUR;
/*
 * Free every connection (live or waiting to be reaped) with the free
 * callback only, close the listeners, and free the table; NULL does
 * nothing.
 */
void conntab_free(struct conntab *t);

/* Accept connections on listening socket `fd` (taken over): E_LIMIT. */
int conntab_listen(struct conntab *t, int fd) WUR;
/* Stop accepting (SIGTERM drain); open connections keep running. */
void conntab_stop_listening(struct conntab *t);
/*
 * accept() errors for want of a resource (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM) so far. Each pauses the listeners, 50 ms doubling to 2 s while
 * they go on, rather than retrying at once (a spinning core).
 */
uint64_t conntab_accept_errors(const struct conntab *t);

/*
 * Add connection `conn` on socket `fd` (borrowed), watched for `ev`;
 * `up` is 0 while it still has to come up (see conntab_up()). 0 and the
 * new handle in *h, or E_LIMIT (max_conns open) / E_NOMEM / the loop's
 * error: then nothing was added and `fd` and `conn` are the caller's.
 */
int conntab_add(struct conntab *t, int fd, unsigned ev, int up, void *conn,
    uint64_t *h) WUR;
/* The object of live connection `h`, or NULL (killed or unknown). */
void *conntab_get(const struct conntab *t, uint64_t h);
/*
 * Kill live connection `h`: stop watching its socket and forget its
 * handle now; the reaped then the free callback run later from the loop.
 * 0, or E_NOTFOUND when `h` is not live (killed already, or unknown).
 */
int conntab_kill(struct conntab *t, uint64_t h);

/* The connection came up (connected, handshaken): counts as activity. */
void conntab_up(struct conntab *t, uint64_t h);
/* Activity on `h` now: the idle timeout starts again. */
void conntab_touch(struct conntab *t, uint64_t h);
/* Watch the socket of `h` for `ev` from now on (a no-op if unchanged). */
void conntab_want(struct conntab *t, uint64_t h, unsigned ev);

/*
 * Ready: the connection proved useful (a first message came), so it is no
 * longer among the pending ones that conntab_oldest_pending() offers for
 * eviction, nor subject to ready_ms. Implies conntab_up().
 */
void conntab_ready(struct conntab *t, uint64_t h);
/*
 * Expire `h` with CONNTAB_DEADLINE once `ms` from now have passed (checked
 * once a second with the other timeouts); 0 clears it. The owner's own
 * clock, e.g. a message that must complete in time.
 */
void conntab_deadline(struct conntab *t, uint64_t h, uint32_t ms);
/*
 * The oldest live connection that is not ready yet (handshake or first
 * message outstanding), with its handle in *h, or NULL: the one to give
 * up first when the table is full. O(1): the pending ones are kept in the
 * order they were added.
 */
void *conntab_oldest_pending(const struct conntab *t, uint64_t *h);
/*
 * The `n` oldest pending connections (fewer if there are fewer), oldest
 * first, into `conns`: how many. For an owner that picks among them.
 */
size_t conntab_pending(const struct conntab *t, void **conns, size_t n);

/* Live connections; 1 if max_conns of them are open. */
size_t conntab_count(const struct conntab *t);
int conntab_full(const struct conntab *t);

#endif
