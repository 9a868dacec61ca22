/* conntab.c - a table of connections: handles, listeners, timeouts, reaping. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/conntab.h"

#define MAX_LISTEN 8
#define SWEEP_MS 1000
#define ACCEPT_BACKOFF_MIN_MS 50
#define ACCEPT_BACKOFF_MAX_MS 2000

/* The table's record of one connection; the owner's object is `conn`. */
struct ent {
	struct conntab *t;
	void *conn;
	uint64_t handle;
	int fd;
	int up, ready;
	unsigned ev;		/* interest registered with the loop */
	uint64_t born_ms, active_ms;
	uint64_t deadline_ms;	/* the owner's (0: none) */
	struct ent *pprev, *pnext;	/* pending list, while not ready */
	struct ent *next_dead;
};

struct conntab {
	struct ev_loop *loop;
	struct conntab_conf conf;
	struct conntab_ops ops;
	const struct logger *lg;
	struct ent **slot;
	size_t nslot, nconn;
	uint32_t *freelist;
	size_t nfree;
	uint32_t gen;
	int lfd[MAX_LISTEN];
	size_t nlfd;
	int64_t sweep_timer, reap_timer;
	int64_t accept_timer;	/* accepts paused until it fires */
	uint32_t backoff_ms;	/* the pause after the next hard error */
	uint64_t accept_errors;	/* hard accept() errors, all told */
	struct ent *dead;	/* killed, waiting for the reap timer */
	/* Live connections not ready yet, oldest first: eviction picks the
	 * head without a scan of the table. */
	struct ent *phead, *ptail;
};

static struct ent *
lookup(const struct conntab *t, uint64_t h)
{
	uint32_t s = (uint32_t)(h & 0xffffffffu);
	struct ent *e;

	if (s >= t->nslot || (e = t->slot[s]) == NULL || e->handle != h)
		return NULL;
	return e;
}

static void
pending_unlink(struct conntab *t, struct ent *e)
{
	if (e->ready)
		return;
	if (e->pprev != NULL)
		e->pprev->pnext = e->pnext;
	else
		t->phead = e->pnext;
	if (e->pnext != NULL)
		e->pnext->pprev = e->pprev;
	else
		t->ptail = e->pprev;
	e->pprev = e->pnext = NULL;
	e->ready = 1;
}

static void
pending_append(struct conntab *t, struct ent *e)
{
	e->ready = 0;
	e->pnext = NULL;
	e->pprev = t->ptail;
	if (t->ptail != NULL)
		t->ptail->pnext = e;
	else
		t->phead = e;
	t->ptail = e;
}

static void
fd_event(struct ev_loop *loop, int fd, unsigned ev, void *arg)
{
	/* A socket is unwatched when its connection is killed, so `arg` is
	 * a live record here. */
	struct ent *e = arg;

	(void)loop;
	(void)fd;
	e->t->ops.event(e->t->ops.arg, e->conn, ev);
}

/* Reaped callbacks, then memory, once no conntab_* call is running. */
static void
reap(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct conntab *t = arg;
	struct ent *e;

	(void)loop;
	(void)id;
	t->reap_timer = 0;
	while ((e = t->dead) != NULL) {
		t->dead = e->next_dead;
		if (t->ops.reaped != NULL)
			t->ops.reaped(t->ops.arg, e->conn);
		t->ops.free(t->ops.arg, e->conn);
		free(e);
	}
}

static void
sweep(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct conntab *t = arg;
	uint64_t now = ev_now_ms(loop);
	size_t i;

	(void)id;
	for (i = 0; i < t->nslot; i++) {
		struct ent *e = t->slot[i];

		if (e == NULL)
			continue;
		if (!e->up && now - e->born_ms > t->conf.setup_ms)
			t->ops.expire(t->ops.arg, e->conn, CONNTAB_SETUP);
		else if (!e->ready && t->conf.ready_ms != 0 &&
		    now - e->born_ms > t->conf.ready_ms)
			t->ops.expire(t->ops.arg, e->conn, CONNTAB_FIRST);
		else if (e->deadline_ms != 0 && now >= e->deadline_ms)
			t->ops.expire(t->ops.arg, e->conn, CONNTAB_DEADLINE);
		else if (now - e->active_ms > t->conf.idle_ms)
			t->ops.expire(t->ops.arg, e->conn, CONNTAB_IDLE);
	}
	t->sweep_timer = ev_timer_add(loop, SWEEP_MS, sweep, t);
}

/*
 * Errors of accept(2) that concern one connection only (Linux passes the
 * new socket's pending network errors up through accept): take the next.
 */
static int
accept_transient(int e)
{
	switch (e) {
	case EAGAIN: case EINTR: case ECONNABORTED: case EPROTO:
	case ENETDOWN: case ENOPROTOOPT: case EHOSTDOWN: case ENONET:
	case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH: case EPERM:
		return 1;
	default:
		return 0;
	}
}

static void
listeners_watch(struct conntab *t, unsigned ev)
{
	for (size_t i = 0; i < t->nlfd; i++)
		if (ev_fd_mod(t->loop, t->lfd[i], ev) != 0)
			log_msg(t->lg, LOG_ERR, "%s: listener %d: %s",
			    t->conf.name, t->lfd[i], strerror(errno));
}

static void
accept_resume(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct conntab *t = arg;

	(void)loop;
	(void)id;
	t->accept_timer = 0;
	listeners_watch(t, EV_READ);
}

/*
 * accept() failed for want of a resource (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM): the pending connection stays in the backlog and the listener
 * stays readable, so retrying at once would spin a core and flood the log.
 * Stop watching the listeners for a while instead: 50 ms, doubling to 2 s
 * while it goes on; one log line per pause that starts the series, one
 * more each time the pause reaches its ceiling.
 */
static void
accept_pause(struct conntab *t, int e)
{
	t->accept_errors++;
	if (t->backoff_ms == 0)
		t->backoff_ms = ACCEPT_BACKOFF_MIN_MS;
	if (t->backoff_ms == ACCEPT_BACKOFF_MIN_MS ||
	    t->backoff_ms == ACCEPT_BACKOFF_MAX_MS)
		log_msg(t->lg, LOG_WARN, "%s: accept: %s: accepts paused for "
		    "%u ms (%llu errors)", t->conf.name, strerror(e),
		    t->backoff_ms, (unsigned long long)t->accept_errors);
	listeners_watch(t, 0);
	if (t->accept_timer <= 0)
		t->accept_timer = ev_timer_add(t->loop, t->backoff_ms,
		    accept_resume, t);
	if (t->accept_timer < 0)	/* no timer: never stay deaf */
		listeners_watch(t, EV_READ);
	if (t->backoff_ms < ACCEPT_BACKOFF_MAX_MS)
		t->backoff_ms = t->backoff_ms * 2 > ACCEPT_BACKOFF_MAX_MS ?
		    ACCEPT_BACKOFF_MAX_MS : t->backoff_ms * 2;
}

static void
accept_event(struct ev_loop *loop, int lfd, unsigned ev, void *arg)
{
	struct conntab *t = arg;
	int n;

	(void)loop;
	(void)ev;
	for (n = 0; n < 64; n++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct net_addr peer;
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (accept_transient(errno))
				continue;
			accept_pause(t, errno);
			return;
		}
		t->backoff_ms = 0;
		if (t->ops.accept == NULL ||
		    net_addr_from_sa(&peer, (struct sockaddr *)&ss, sl) != 0) {
			close(fd);
			continue;
		}
		t->ops.accept(t->ops.arg, fd, &peer);
	}
}

uint64_t
conntab_accept_errors(const struct conntab *t)
{
	return t->accept_errors;
}

struct conntab *
conntab_new(struct ev_loop *loop, const struct conntab_conf *conf,
    const struct conntab_ops *ops, const struct logger *lg)
{
	struct conntab *t;

	if (conf->max_conns == 0 || conf->max_conns > UINT32_MAX ||
	    (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->loop = loop;
	t->conf = *conf;
	if (t->conf.name == NULL)
		t->conf.name = "conn";
	t->ops = *ops;
	t->lg = lg;
	t->slot = calloc(t->conf.max_conns, sizeof(*t->slot));
	t->freelist = calloc(t->conf.max_conns, sizeof(*t->freelist));
	if (t->slot == NULL || t->freelist == NULL ||
	    (t->sweep_timer = ev_timer_add(loop, SWEEP_MS, sweep, t)) < 0) {
		free(t->slot);
		free(t->freelist);
		free(t);
		return NULL;
	}
	return t;
}

void
conntab_free(struct conntab *t)
{
	struct ent *e;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nslot; i++) {
		if ((e = t->slot[i]) != NULL) {
			(void)ev_fd_del(t->loop, e->fd);
			t->ops.free(t->ops.arg, e->conn);
			free(e);
		}
	}
	while ((e = t->dead) != NULL) {
		t->dead = e->next_dead;
		t->ops.free(t->ops.arg, e->conn);
		free(e);
	}
	conntab_stop_listening(t);
	if (t->sweep_timer > 0)
		(void)ev_timer_del(t->loop, (uint64_t)t->sweep_timer);
	if (t->reap_timer > 0)
		(void)ev_timer_del(t->loop, (uint64_t)t->reap_timer);
	if (t->accept_timer > 0)
		(void)ev_timer_del(t->loop, (uint64_t)t->accept_timer);
	free(t->slot);
	free(t->freelist);
	free(t);
}

int
conntab_listen(struct conntab *t, int fd)
{
	int r;

	if (t->nlfd >= MAX_LISTEN)
		return E_LIMIT;
	if ((r = ev_fd_add(t->loop, fd, EV_READ, accept_event, t)) != 0)
		return r;
	t->lfd[t->nlfd++] = fd;
	return 0;
}

void
conntab_stop_listening(struct conntab *t)
{
	size_t i;

	for (i = 0; i < t->nlfd; i++) {
		(void)ev_fd_del(t->loop, t->lfd[i]);
		close(t->lfd[i]);
	}
	t->nlfd = 0;
	if (t->accept_timer > 0)
		(void)ev_timer_del(t->loop, (uint64_t)t->accept_timer);
	t->accept_timer = 0;
}

int
conntab_add(struct conntab *t, int fd, unsigned ev, int up, void *conn,
    uint64_t *h)
{
	struct ent *e;
	uint32_t s;
	int r;

	if (conntab_full(t))
		return E_LIMIT;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return E_NOMEM;
	e->t = t;
	e->conn = conn;
	e->fd = fd;
	e->up = up;
	e->ev = ev;
	e->born_ms = e->active_ms = ev_now_ms(t->loop);
	if ((r = ev_fd_add(t->loop, fd, ev, fd_event, e)) != 0) {
		free(e);
		return r;
	}
	s = t->nfree > 0 ? t->freelist[--t->nfree] : (uint32_t)t->nslot++;
	if (++t->gen == 0)
		t->gen = 1;
	e->handle = ((uint64_t)t->gen << 32) | s;
	t->slot[s] = e;
	pending_append(t, e);
	t->nconn++;
	*h = e->handle;
	return 0;
}

void *
conntab_get(const struct conntab *t, uint64_t h)
{
	struct ent *e = lookup(t, h);

	return e != NULL ? e->conn : NULL;
}

int
conntab_kill(struct conntab *t, uint64_t h)
{
	struct ent *e = lookup(t, h);
	uint32_t s = (uint32_t)(h & 0xffffffffu);

	if (e == NULL)
		return E_NOTFOUND;
	(void)ev_fd_del(t->loop, e->fd);
	pending_unlink(t, e);
	t->slot[s] = NULL;
	t->freelist[t->nfree++] = s;
	t->nconn--;
	e->next_dead = t->dead;
	t->dead = e;
	if (t->reap_timer <= 0)
		t->reap_timer = ev_timer_add(t->loop, 0, reap, t);
	return 0;
}

void
conntab_up(struct conntab *t, uint64_t h)
{
	struct ent *e = lookup(t, h);

	if (e != NULL) {
		e->up = 1;
		e->active_ms = ev_now_ms(t->loop);
	}
}

void
conntab_ready(struct conntab *t, uint64_t h)
{
	struct ent *e = lookup(t, h);

	if (e != NULL) {
		e->up = 1;
		e->active_ms = ev_now_ms(t->loop);
		pending_unlink(t, e);
	}
}

void
conntab_deadline(struct conntab *t, uint64_t h, uint32_t ms)
{
	struct ent *e = lookup(t, h);

	if (e != NULL)
		e->deadline_ms = ms == 0 ? 0 : ev_now_ms(t->loop) + ms;
}

void *
conntab_oldest_pending(const struct conntab *t, uint64_t *h)
{
	if (t->phead == NULL)
		return NULL;
	*h = t->phead->handle;
	return t->phead->conn;
}

size_t
conntab_pending(const struct conntab *t, void **conns, size_t n)
{
	const struct ent *e;
	size_t k = 0;

	for (e = t->phead; e != NULL && k < n; e = e->pnext)
		conns[k++] = e->conn;
	return k;
}

void
conntab_touch(struct conntab *t, uint64_t h)
{
	struct ent *e = lookup(t, h);

	if (e != NULL)
		e->active_ms = ev_now_ms(t->loop);
}

void
conntab_want(struct conntab *t, uint64_t h, unsigned ev)
{
	struct ent *e = lookup(t, h);

	if (e != NULL && ev != e->ev && ev_fd_mod(t->loop, e->fd, ev) == 0)
		e->ev = ev;
}

size_t
conntab_count(const struct conntab *t)
{
	return t->nconn;
}

int
conntab_full(const struct conntab *t)
{
	return t->nconn >= t->conf.max_conns;
}
