/* test_conntab.c - unit tests for the connection table and write queues. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/conntab.h"
#include "base/ev.h"
#include "base/net.h"
#include "base/wqueue.h"
#include "t.h"

/* ---- write queues, against a writer that takes a few bytes a call ---- */

struct wire {
	uint8_t got[256];
	size_t len;
	size_t take;		/* bytes taken per call */
	size_t room;		/* bytes taken before E_AGAIN */
	int fail;		/* error to return instead (0: none) */
	int fail_after;		/* error once the room is used (0: E_AGAIN) */
	int calls;
};

static int
wire_write(void *arg, const uint8_t *p, size_t len, size_t *done)
{
	struct wire *w = arg;
	size_t n = len < w->take ? len : w->take;

	w->calls++;
	if (w->fail != 0)
		return w->fail;
	if (n > w->room)
		n = w->room;
	if (n == 0)
		return w->fail_after != 0 ? w->fail_after : E_AGAIN;
	if (n > sizeof(w->got) - w->len)
		return E_IO;
	memcpy(w->got + w->len, p, n);
	w->len += n;
	w->room -= n;
	*done = n;
	return 0;
}

static void
test_wqueue(void)
{
	struct wire w = { .take = 3, .room = 5 };
	struct buf *q = NULL;
	size_t sent = 99;

	/* Partial writes: 5 bytes go 3 + 2, the rest waits in the queue. */
	T_EQ_INT(wq_send(&q, 16, "abcdefgh", 8, wire_write, &w, &sent), 0,
	    "send past the room");
	T_EQ_MEM(w.got, w.len, "abcde", 5, "what the writer took, in order");
	T_EQ_INT(wq_len(q), 3, "the rest is queued");
	T_EQ_INT(sent, 0, "*sent is only for errors");
	/* With bytes waiting, a new message goes behind them, unwritten. */
	w.calls = 0;
	w.room = 100;
	T_EQ_INT(wq_send(&q, 16, "ijkl", 4, wire_write, &w, NULL), 0,
	    "send behind a queue");
	T_EQ_INT(w.calls, 0, "no write jumps the queue");
	T_EQ_INT(wq_len(q), 7, "queued behind");
	/* The cap: a message that does not fit is refused whole. */
	T_EQ_INT(wq_send(&q, 16, "0123456789", 10, wire_write, &w, NULL),
	    E_LIMIT, "over the cap");
	T_EQ_INT(wq_len(q), 7, "nothing of it queued");
	T_EQ_INT(wq_push(&q, 16, "012345678", 9), 0, "exactly to the cap");
	T_EQ_INT(wq_push(&q, 16, "x", 1), E_LIMIT, "one byte over the cap");
	T_EQ_INT(wq_len(q), 16, "full");
	/* Flush in 3-byte writes until the writer stops taking. */
	w.room = 4;
	T_EQ_INT(wq_flush(&q, wire_write, &w), E_AGAIN, "flush, stalled");
	T_EQ_INT(wq_len(q), 12, "4 bytes went");
	w.room = 100;
	T_EQ_INT(wq_flush(&q, wire_write, &w), 0, "flush, all");
	T_OK(q == NULL, "a drained queue holds no memory");
	T_EQ_MEM(w.got, w.len, "abcdefghijkl012345678", 21,
	    "every byte once, in order");
	T_EQ_INT(wq_flush(&q, wire_write, &w), 0, "flush of nothing");
	/* A message written whole leaves no queue behind. */
	T_EQ_INT(wq_send(&q, 16, "mn", 2, wire_write, &w, NULL), 0, "direct");
	T_OK(q == NULL, "no queue for a message that went at once");
	/* A broken stream: the error and how much of the message went. */
	w.len = 0;
	w.room = 4;
	w.take = 4;
	T_EQ_INT(wq_send(&q, 16, "abcdefgh", 8, wire_write, &w, NULL), 0,
	    "half goes");
	w.fail = E_IO;
	T_EQ_INT(wq_flush(&q, wire_write, &w), E_IO, "flush error");
	T_EQ_INT(wq_len(q), 4, "the unsent rest stays");
	buf_free(q);
	q = NULL;
	w.fail = 0;
	w.room = 2;
	w.take = 2;
	w.fail_after = E_IO;
	T_EQ_INT(wq_send(&q, 16, "abcdef", 6, wire_write, &w, &sent), E_IO,
	    "two go, then the stream breaks");
	T_EQ_INT(sent, 2, "*sent: a partial message is on the wire");
	T_OK(q == NULL, "the rest is not queued");
	w.fail_after = 0;
	w.room = 100;
	w.fail = E_CRYPTO;
	T_EQ_INT(wq_send(&q, 16, "abcdef", 6, wire_write, &w, &sent),
	    E_CRYPTO, "writer error passed on");
	T_EQ_INT(sent, 0, "nothing went");
	T_OK(q == NULL, "nothing queued on error");
	T_EQ_INT(wq_len(NULL), 0, "an absent queue is empty");
}

/* ---- the table ---- */

struct obj {
	int fd;			/* the table's end of a socket pair */
	uint64_t h;
	int events, expired, why, reaped, freed;
};

struct owner {
	struct conntab *t;
	int accepted, kill_on_expire;
	struct net_addr peer;
	struct obj *acc;	/* the accepted connection */
	int lg[16];		/* order of callbacks: 1 reaped, 2 freed */
	size_t nlg;
};

static void
o_event(void *arg, void *conn, unsigned ev)
{
	struct obj *o = conn;
	char b[64];

	(void)arg;
	o->events++;
	if (ev & EV_READ)
		(void)read(o->fd, b, sizeof(b));
}

static void
o_accept(void *arg, int fd, const struct net_addr *peer)
{
	struct owner *w = arg;
	struct obj *o = calloc(1, sizeof(*o));

	w->accepted++;
	w->peer = *peer;
	if (o == NULL || conntab_add(w->t, fd, EV_READ, 1, o, &o->h) != 0) {
		free(o);
		close(fd);
		return;
	}
	o->fd = fd;
	w->acc = o;
}

static void
o_expire(void *arg, void *conn, enum conntab_expiry why)
{
	struct owner *w = arg;
	struct obj *o = conn;

	o->expired++;
	o->why = why;
	if (w->kill_on_expire)
		(void)conntab_kill(w->t, o->h);
}

static void
o_reaped(void *arg, void *conn)
{
	struct owner *w = arg;
	struct obj *o = conn;

	o->reaped++;
	if (w->nlg < 16)
		w->lg[w->nlg++] = 1;
}

/* Objects are freed by the test (it reads their counters afterwards). */
static void
o_free(void *arg, void *conn)
{
	struct owner *w = arg;
	struct obj *o = conn;

	o->freed++;
	if (w->nlg < 16)
		w->lg[w->nlg++] = 2;
}

static int
run_until(struct ev_loop *l, const int *counter, int want, int rounds)
{
	int i;

	for (i = 0; i < rounds && *counter < want; i++)
		(void)ev_run_once(l, 10);
	return *counter >= want;
}

static void
test_table(struct ev_loop *l)
{
	struct conntab_ops ops = { o_event, o_accept, o_expire, o_reaped,
	    o_free, NULL };
	struct conntab_conf conf = { 2, 100000, 100000, "test", 0 };
	struct owner w;
	struct obj a, b, c;
	int pa[2], pb[2], pc[2];
	uint64_t stale;

	memset(&w, 0, sizeof(w));
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	ops.arg = &w;
	T_OK((w.t = conntab_new(l, &conf, &ops, NULL)) != NULL, "new");
	T_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pa) == 0 &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pb) == 0 &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pc) == 0,
	    "socket pairs");
	a.fd = pa[0];
	b.fd = pb[0];
	c.fd = pc[0];
	T_EQ_INT(conntab_add(w.t, a.fd, EV_READ, 1, &a, &a.h), 0, "add a");
	T_EQ_INT(conntab_add(w.t, b.fd, EV_READ, 1, &b, &b.h), 0, "add b");
	T_OK(a.h != 0 && b.h != 0 && a.h != b.h, "distinct handles");
	T_EQ_INT(conntab_full(w.t), 1, "full at max_conns");
	T_EQ_INT(conntab_add(w.t, c.fd, EV_READ, 1, &c, &c.h), E_LIMIT,
	    "max_conns");
	T_EQ_INT(conntab_count(w.t), 2, "count");
	T_OK(conntab_get(w.t, a.h) == &a && conntab_get(w.t, b.h) == &b,
	    "get");
	T_OK(conntab_get(w.t, 0) == NULL && conntab_get(w.t, a.h ^
	    0x100000000ull) == NULL, "unknown handles reach nothing");

	/* Events on a socket reach its connection. */
	T_EQ_INT(write(pb[1], "x", 1), 1, "poke b");
	T_OK(run_until(l, &b.events, 1, 100), "b's event");
	T_EQ_INT(a.events, 0, "not a's");

	/* A kill forgets the handle at once; free waits for the loop. */
	T_EQ_INT(conntab_kill(w.t, a.h), 0, "kill a");
	T_OK(conntab_get(w.t, a.h) == NULL, "a's handle is dead at once");
	T_EQ_INT(conntab_kill(w.t, a.h), E_NOTFOUND, "a second kill");
	T_EQ_INT(conntab_count(w.t), 1, "count after the kill");
	T_EQ_INT(conntab_full(w.t), 0, "room again");
	T_EQ_INT(a.reaped + a.freed, 0, "not reaped inside the call");
	T_EQ_INT(write(pa[1], "x", 1), 1, "poke dead a");
	/* The slot is free again: a new connection takes it, the old
	 * handle does not reach it. */
	stale = a.h;
	T_EQ_INT(conntab_add(w.t, c.fd, EV_READ, 1, &c, &c.h), 0,
	    "add c in a's place");
	T_OK((c.h & 0xffffffffu) == (stale & 0xffffffffu) && c.h != stale,
	    "same slot, new generation");
	T_OK(conntab_get(w.t, stale) == NULL, "the stale handle stays dead");
	T_OK(run_until(l, &a.freed, 1, 100), "a freed from the loop");
	T_EQ_INT(a.events, 0, "a killed socket is not watched");
	T_EQ_INT(a.reaped, 1, "reaped once");
	T_OK(w.nlg == 2 && w.lg[0] == 1 && w.lg[1] == 2,
	    "reaped before freed");

	/* conntab_free: every connection freed, none reaped. */
	T_EQ_INT(conntab_kill(w.t, b.h), 0, "kill b");
	conntab_free(w.t);
	T_OK(b.freed == 1 && b.reaped == 0, "dead b freed, not reaped");
	T_OK(c.freed == 1 && c.reaped == 0, "live c freed, not reaped");
	T_EQ_INT(a.freed, 1, "a not freed twice");
	close(pa[0]);
	close(pa[1]);
	close(pb[0]);
	close(pb[1]);
	close(pc[0]);
	close(pc[1]);
}

static void
test_timeouts(struct ev_loop *l)
{
	struct conntab_ops ops = { o_event, o_accept, o_expire, o_reaped,
	    o_free, NULL };
	struct conntab_conf conf = { 8, 1, 100000, "test", 0 };
	struct owner w;
	struct obj p, u, i2;
	int pp[2], pu[2], pi[2];

	memset(&w, 0, sizeof(w));
	memset(&p, 0, sizeof(p));
	memset(&u, 0, sizeof(u));
	memset(&i2, 0, sizeof(i2));
	ops.arg = &w;
	w.kill_on_expire = 1;
	T_OK((w.t = conntab_new(l, &conf, &ops, NULL)) != NULL, "new");
	T_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pp) == 0 &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pu) == 0,
	    "socket pairs");
	/* setup 1 ms, idle 100 s: the one not up times out, the up one
	 * does not. */
	T_EQ_INT(conntab_add(w.t, pp[0], EV_READ, 0, &p, &p.h), 0, "pending");
	T_EQ_INT(conntab_add(w.t, pu[0], EV_READ, 1, &u, &u.h), 0, "up");
	T_OK(run_until(l, &p.freed, 1, 500), "pending one expired");
	T_EQ_INT(p.why, CONNTAB_SETUP, "setup timeout");
	T_EQ_INT(u.expired, 0, "the up one is left alone");
	T_OK(conntab_get(w.t, u.h) == &u, "and alive");
	conntab_free(w.t);

	/* idle 1 ms: a connection that came up expires as idle; the owner
	 * that does not kill it is asked again. */
	conf.setup_ms = 100000;
	conf.idle_ms = 1;
	memset(&u, 0, sizeof(u));
	w.kill_on_expire = 0;
	T_OK((w.t = conntab_new(l, &conf, &ops, NULL)) != NULL, "new idle");
	T_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pi) == 0,
	    "socket pair");
	T_EQ_INT(conntab_add(w.t, pi[0], EV_READ, 0, &i2, &i2.h), 0, "add");
	conntab_up(w.t, i2.h);
	T_OK(run_until(l, &i2.expired, 2, 1000), "idle, asked twice");
	T_EQ_INT(i2.why, CONNTAB_IDLE, "idle timeout");
	T_OK(conntab_get(w.t, i2.h) == &i2, "alive until the owner kills");
	conntab_free(w.t);
	T_EQ_INT(i2.freed, 1, "freed at conntab_free");
	close(pp[0]);
	close(pp[1]);
	close(pu[0]);
	close(pu[1]);
	close(pi[0]);
	close(pi[1]);
}

/*
 * Pending connections (no handshake or no first message yet): the oldest
 * is offered for eviction, a ready one never; their own deadlines.
 */
static void
test_pending(struct ev_loop *l)
{
	struct conntab_ops ops = { o_event, o_accept, o_expire, o_reaped,
	    o_free, NULL };
	struct conntab_conf conf = { 8, 100000, 100000, "test", 0 };
	struct owner w;
	struct obj o[5];
	int sp[5][2], i;
	uint64_t h = 0;

	memset(&w, 0, sizeof(w));
	memset(o, 0, sizeof(o));
	ops.arg = &w;
	T_OK((w.t = conntab_new(l, &conf, &ops, NULL)) != NULL, "new");
	T_OK(conntab_oldest_pending(w.t, &h) == NULL, "none pending");
	for (i = 0; i < 5; i++) {
		T_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
		    sp[i]) == 0, "socket pair %d", i);
		T_EQ_INT(conntab_add(w.t, sp[i][0], EV_READ, 0, &o[i],
		    &o[i].h), 0, "add %d", i);
	}
	T_OK(conntab_oldest_pending(w.t, &h) == &o[0] && h == o[0].h,
	    "the oldest first");
	conntab_up(w.t, o[0].h);
	T_OK(conntab_oldest_pending(w.t, &h) == &o[0],
	    "up is not enough: still pending");
	conntab_ready(w.t, o[0].h);
	T_OK(conntab_oldest_pending(w.t, &h) == &o[1] && h == o[1].h,
	    "ready: the next oldest");
	T_EQ_INT(conntab_kill(w.t, o[1].h), 0, "kill 1");
	T_OK(conntab_oldest_pending(w.t, &h) == &o[2], "killed: gone");
	{
		void *v[8];

		T_OK(conntab_pending(w.t, v, 2) == 2 && v[0] == &o[2] &&
		    v[1] == &o[3], "the two oldest pending");
		T_OK(conntab_pending(w.t, v, 8) == 3 && v[2] == &o[4],
		    "all three");
	}
	conntab_ready(w.t, o[3].h);
	conntab_ready(w.t, o[3].h);
	T_OK(conntab_oldest_pending(w.t, &h) == &o[2], "from the middle");
	conntab_ready(w.t, o[2].h);
	T_OK(conntab_oldest_pending(w.t, &h) == &o[4], "the last one");
	T_EQ_INT(conntab_kill(w.t, o[4].h), 0, "kill 4");
	T_OK(conntab_oldest_pending(w.t, &h) == NULL, "none left");
	T_EQ_INT(conntab_add(w.t, sp[1][1], EV_READ, 0, &o[1], &o[1].h), 0,
	    "a new one");
	T_OK(conntab_oldest_pending(w.t, &h) == &o[1], "pending again");
	conntab_free(w.t);

	/* ready_ms: up but silent expires as CONNTAB_FIRST; the owner's
	 * deadline as CONNTAB_DEADLINE; a cleared one never. */
	conf.ready_ms = 1;
	memset(o, 0, sizeof(o));
	T_OK((w.t = conntab_new(l, &conf, &ops, NULL)) != NULL, "new");
	for (i = 0; i < 3; i++)
		T_EQ_INT(conntab_add(w.t, sp[i][0], EV_READ, 0, &o[i],
		    &o[i].h), 0, "add %d", i);
	conntab_up(w.t, o[0].h);
	conntab_ready(w.t, o[1].h);
	conntab_deadline(w.t, o[1].h, 1);
	conntab_ready(w.t, o[2].h);
	conntab_deadline(w.t, o[2].h, 1);
	conntab_deadline(w.t, o[2].h, 0);
	T_OK(run_until(l, &o[0].expired, 1, 500) &&
	    run_until(l, &o[1].expired, 1, 500), "expired");
	T_EQ_INT(o[0].why, CONNTAB_FIRST, "no first message");
	T_EQ_INT(o[1].why, CONNTAB_DEADLINE, "the owner's deadline");
	T_EQ_INT(o[2].expired, 0, "a cleared deadline: left alone");
	conntab_free(w.t);
	for (i = 0; i < 5; i++) {
		close(sp[i][0]);
		close(sp[i][1]);
	}
}

static void
test_listen(struct ev_loop *l)
{
	struct conntab_ops ops = { o_event, o_accept, o_expire, o_reaped,
	    o_free, NULL };
	struct conntab_conf conf = { 4, 100000, 100000, "test", 0 };
	struct owner w;
	struct net_addr la, local;
	int lfd = -1, fd;

	memset(&w, 0, sizeof(w));
	ops.arg = &w;
	T_OK((w.t = conntab_new(l, &conf, &ops, NULL)) != NULL, "new");
	T_OK(net_addr_parse(SLICE_LIT("127.0.0.1:0"), &la) == 0 &&
	    net_tcp_listen(&la, 4, 0, &lfd) == 0 &&
	    net_local_addr(lfd, &la) == 0, "listener");
	T_EQ_INT(conntab_listen(w.t, lfd), 0, "listen");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	T_OK(fd >= 0 && connect(fd, &la.u.sa, la.len) == 0, "connect");
	T_OK(run_until(l, &w.accepted, 1, 500), "accepted");
	T_OK(net_local_addr(fd, &local) == 0 && net_addr_eq(&local, &w.peer),
	    "the peer address is the client's");
	T_OK(w.acc != NULL && conntab_get(w.t, w.acc->h) == w.acc,
	    "accepted and added");
	T_EQ_INT(write(fd, "hi", 2), 2, "client writes");
	T_OK(w.acc != NULL && run_until(l, &w.acc->events, 1, 500),
	    "event on the accepted connection");
	conntab_stop_listening(w.t);
	conntab_free(w.t);
	if (w.acc != NULL) {
		T_EQ_INT(w.acc->freed, 1, "accepted one freed");
		close(w.acc->fd);
		free(w.acc);
	}
	close(fd);
}

static void
count_log(void *arg, enum log_level lvl, const char *msg)
{
	(void)lvl;
	(void)msg;
	(*(int *)arg)++;
}

/*
 * accept() out of descriptors (a shell's 1024 limit under --max-conns):
 * the pending connection stays in the backlog and the listener readable.
 * Retrying at once spun a core and logged ~190 MB in 5 s; the table must
 * pause instead, log a line or two, and accept once descriptors are back.
 */
static void
test_accept_emfile(struct ev_loop *l)
{
	struct conntab_ops ops = { o_event, o_accept, o_expire, o_reaped,
	    o_free, NULL };
	struct conntab_conf conf = { 4, 100000, 100000, "test", 0 };
	int lines = 0;
	struct logger lg = { count_log, &lines, LOG_DEBUG };
	struct rlimit old, low;
	struct owner w;
	struct net_addr la;
	int lfd = -1, fd, probe, i;
	uint64_t t0;

	memset(&w, 0, sizeof(w));
	ops.arg = &w;
	T_OK((w.t = conntab_new(l, &conf, &ops, &lg)) != NULL, "new");
	T_OK(net_addr_parse(SLICE_LIT("127.0.0.1:0"), &la) == 0 &&
	    net_tcp_listen(&la, 4, 0, &lfd) == 0 &&
	    net_local_addr(lfd, &la) == 0, "listener");
	T_EQ_INT(conntab_listen(w.t, lfd), 0, "listen");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	T_OK(fd >= 0 && connect(fd, &la.u.sa, la.len) == 0, "connect");
	/* No descriptor left for the accepted socket. */
	probe = dup(0);
	T_OK(probe >= 0 && getrlimit(RLIMIT_NOFILE, &old) == 0, "limits");
	low = old;
	low.rlim_cur = (rlim_t)probe;
	close(probe);
	T_OK(setrlimit(RLIMIT_NOFILE, &low) == 0 && dup(0) < 0 &&
	    errno == EMFILE, "descriptors exhausted");
	t0 = ev_clock_ns();
	for (i = 0; ev_clock_ns() - t0 < 400000000ull; i++)
		(void)ev_run_once(l, 10);
	T_EQ_INT(w.accepted, 0, "nothing accepted without a descriptor");
	T_OK(conntab_accept_errors(w.t) >= 1 &&
	    conntab_accept_errors(w.t) <= 6, "accept() retried a few times "
	    "in 400 ms, not spun (%llu errors, %d loop rounds)",
	    (unsigned long long)conntab_accept_errors(w.t), i);
	T_OK(lines >= 1 && lines <= 2, "one or two log lines, not one a "
	    "retry (%d)", lines);
	T_OK(setrlimit(RLIMIT_NOFILE, &old) == 0, "descriptors back");
	T_OK(run_until(l, &w.accepted, 1, 300), "then the connection is "
	    "accepted");
	conntab_free(w.t);
	if (w.acc != NULL) {
		close(w.acc->fd);
		free(w.acc);
	}
	close(fd);
}

/*
 * The address hash the tables index by: FNV-1a 32 over the address bytes
 * and the port's two bytes in network order, values from Python.
 */
static void
test_hash(void)
{
	struct net_addr a, b, c;

	T_OK(net_addr_parse(SLICE_LIT("127.0.0.1:5060"), &a) == 0 &&
	    net_addr_parse(SLICE_LIT("127.0.0.1:5061"), &b) == 0 &&
	    net_addr_parse(SLICE_LIT("[::1]:5060"), &c) == 0, "addresses");
	T_EQ_INT(net_addr_hash(&a, 0), 0xdaaf40edu, "IPv4 host");
	T_EQ_INT(net_addr_hash(&a, 1), 0xb0d58c3au, "IPv4 host and port");
	T_EQ_INT(net_addr_hash(&b, 0), net_addr_hash(&a, 0),
	    "the port counts only when asked");
	T_EQ_INT(net_addr_hash(&c, 0), 0x68691772u, "IPv6 host");
}

int
main(void)
{
	struct ev_loop *l = ev_new(NULL);

	T_OK(l != NULL, "loop");
	test_wqueue();
	test_hash();
	if (l != NULL) {
		test_table(l);
		test_timeouts(l);
		test_pending(l);
		test_listen(l);
		test_accept_emfile(l);
	}
	ev_free(l);
	return t_done();
}
