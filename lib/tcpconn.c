/* tcpconn.c - SIP over plain TCP: reused connections, framing, queues. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "sip.h"
#include "tcpconn.h"

#define ADDR_BUCKETS 256
#define MAX_LISTEN 4

struct tconn {
	struct tcpconn_table *t;
	uint64_t handle;
	int fd;
	int connecting;		/* non-blocking connect in progress */
	int dead;
	int err;		/* for the closed callback */
	struct net_addr peer;
	struct sip_framer *fr;
	struct buf *wq;		/* unsent bytes; NULL when empty */
	uint64_t born_ms, active_ms;
	unsigned ev;		/* interest registered with the loop */
	struct tconn *next_addr;
	struct tconn *next_dead;
};

struct tcpconn_table {
	struct ev_loop *loop;
	struct tcpconn_conf conf;
	struct tcpconn_cbs cbs;
	const struct logger *lg;
	struct tconn **slot;
	size_t nslot, nconn;
	uint32_t *freelist;
	size_t nfree;
	uint32_t gen;
	struct tconn *addr[ADDR_BUCKETS];
	int lfd[MAX_LISTEN];
	size_t nlfd;
	int64_t sweep_timer, reap_timer;
	struct tconn *dead;
	uint8_t rbuf[16384];	/* shared: an idle connection holds none */
};

static void conn_event(struct ev_loop *loop, int fd, unsigned ev, void *arg);

static unsigned
addr_hash(const struct net_addr *a)
{
	const uint8_t *p;
	size_t n, i;
	unsigned h = 2166136261u;

	if (net_addr_family(a) == AF_INET6) {
		p = a->u.in6.sin6_addr.s6_addr;
		n = 16;
	} else {
		p = (const uint8_t *)&a->u.in4.sin_addr;
		n = 4;
	}
	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	h = (h ^ net_addr_port(a)) * 16777619u;
	return h % ADDR_BUCKETS;
}

static struct tconn *
lookup(const struct tcpconn_table *t, uint64_t h)
{
	uint32_t s = (uint32_t)(h & 0xffffffffu);
	struct tconn *c;

	if (s >= t->nslot || (c = t->slot[s]) == NULL || c->handle != h ||
	    c->dead)
		return NULL;
	return c;
}

static struct tconn *
by_addr(const struct tcpconn_table *t, const struct net_addr *a)
{
	struct tconn *c = t->addr[addr_hash(a)];

	while (c != NULL && !net_addr_eq(&c->peer, a))
		c = c->next_addr;
	return c;
}

static void
addr_unlink(struct tcpconn_table *t, struct tconn *c)
{
	struct tconn **pp = &t->addr[addr_hash(&c->peer)];

	while (*pp != NULL && *pp != c)
		pp = &(*pp)->next_addr;
	if (*pp == c)
		*pp = c->next_addr;
}

static void
conn_free(struct tconn *c)
{
	sip_framer_free(c->fr);
	buf_free(c->wq);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* Closed callbacks, then memory, once no tcpconn_* call is running. */
static void
reap(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct tcpconn_table *t = arg;
	struct tconn *c;

	(void)loop;
	(void)id;
	t->reap_timer = 0;
	while ((c = t->dead) != NULL) {
		t->dead = c->next_dead;
		if (t->cbs.closed != NULL)
			t->cbs.closed(t->cbs.arg, c->handle, &c->peer, c->err);
		conn_free(c);
	}
}

/* Unlink a connection now; report and free it from the loop. */
static void
conn_kill(struct tcpconn_table *t, struct tconn *c, int err, const char *why)
{
	uint32_t s = (uint32_t)(c->handle & 0xffffffffu);
	char a[NET_ADDR_STRLEN];

	if (c->dead)
		return;
	c->dead = 1;
	c->err = err;
	if (net_addr_format(&c->peer, a, sizeof(a)) != 0)
		a[0] = '\0';
	log_msg(t->lg, err != 0 ? LOG_INFO : LOG_DEBUG, "tcp %s: closed: %s",
	    a, why);
	(void)ev_fd_del(t->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	addr_unlink(t, c);
	t->slot[s] = NULL;
	t->freelist[t->nfree++] = s;
	t->nconn--;
	c->next_dead = t->dead;
	t->dead = c;
	if (t->reap_timer <= 0)
		t->reap_timer = ev_timer_add(t->loop, 0, reap, t);
}

static void
conn_update_events(struct tcpconn_table *t, struct tconn *c)
{
	unsigned ev = EV_READ;

	if (c->dead)
		return;
	if (c->connecting)
		ev = EV_WRITE;
	else if (c->wq != NULL && buf_len(c->wq) > 0)
		ev |= EV_WRITE;
	if (ev != c->ev && ev_fd_mod(t->loop, c->fd, ev) == 0)
		c->ev = ev;
}

/* A new connection object for `fd` (taken over), indexed by `peer`. */
static struct tconn *
conn_add(struct tcpconn_table *t, int fd, const struct net_addr *peer,
    int connecting)
{
	struct tconn *c;
	unsigned h;
	uint32_t s;

	if (t->nconn >= t->conf.max_conns ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return NULL;
	}
	if ((c->fr = sip_framer_new(t->conf.max_msg)) == NULL) {
		free(c);
		close(fd);
		return NULL;
	}
	c->t = t;
	c->fd = fd;
	c->peer = *peer;
	c->connecting = connecting;
	c->born_ms = c->active_ms = ev_now_ms(t->loop);
	c->ev = connecting ? EV_WRITE : EV_READ;
	if (ev_fd_add(t->loop, fd, c->ev, conn_event, c) != 0) {
		conn_free(c);
		return NULL;
	}
	s = t->nfree > 0 ? t->freelist[--t->nfree] : (uint32_t)t->nslot++;
	if (++t->gen == 0)
		t->gen = 1;
	c->handle = ((uint64_t)t->gen << 32) | s;
	t->slot[s] = c;
	t->nconn++;
	/* The newest connection to an address is the one reused. */
	h = addr_hash(peer);
	c->next_addr = t->addr[h];
	t->addr[h] = c;
	return c;
}

/* Write what the kernel takes; 0, or -1 after killing the connection. */
static int
conn_flush(struct tcpconn_table *t, struct tconn *c)
{
	while (c->wq != NULL && buf_len(c->wq) > 0) {
		ssize_t n = send(c->fd, buf_data(c->wq), buf_len(c->wq),
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			conn_kill(t, c, 0, "write failed");
			return -1;
		}
		buf_consume(c->wq, (size_t)n);
		c->active_ms = ev_now_ms(t->loop);
	}
	/* An idle connection keeps no queue. */
	buf_free(c->wq);
	c->wq = NULL;
	return 0;
}

/* Queue a whole message or nothing; write at once when possible. */
static int
conn_send(struct tcpconn_table *t, struct tconn *c, const void *p,
    size_t len)
{
	size_t queued = c->wq != NULL ? buf_len(c->wq) : 0, off = 0;

	if (len > t->conf.wq_max || queued > t->conf.wq_max - len) {
		log_msg(t->lg, LOG_WARN, "tcp: write queue full, %zu bytes "
		    "dropped", len);
		return E_LIMIT;
	}
	if (queued == 0 && !c->connecting) {
		while (off < len) {
			ssize_t n = send(c->fd, (const uint8_t *)p + off,
			    len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				conn_kill(t, c, 0, "write failed");
				return E_IO;
			}
			off += (size_t)n;
		}
		c->active_ms = ev_now_ms(t->loop);
		if (off == len)
			return 0;
	}
	if (c->wq == NULL && (c->wq = buf_new(t->conf.wq_max)) == NULL) {
		/* Part of a message went: the stream cannot continue. */
		if (off > 0)
			conn_kill(t, c, 0, "out of memory");
		return E_NOMEM;
	}
	if (buf_append(c->wq, (const uint8_t *)p + off, len - off) != 0) {
		if (off > 0)
			conn_kill(t, c, 0, "out of memory");
		return E_NOMEM;
	}
	conn_update_events(t, c);
	return 0;
}

static void
conn_read(struct tcpconn_table *t, struct tconn *c)
{
	uint64_t h = c->handle;
	int r, guard;

	for (guard = 0; guard < 64; guard++) {
		struct slice msg;
		ssize_t n = recv(c->fd, t->rbuf, sizeof(t->rbuf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_kill(t, c, 0, strerror(errno));
			break;
		}
		if (n == 0) {
			conn_kill(t, c, 0, "peer closed");
			return;
		}
		if (sip_framer_feed(c->fr, t->rbuf, (size_t)n) != 0) {
			conn_kill(t, c, 0, "message too large");
			return;
		}
		c->active_ms = ev_now_ms(t->loop);
		while ((r = sip_framer_next(c->fr, &msg)) > 0) {
			if (r == SIP_FRAME_PING) {
				/* RFC 5626 pong: a single CRLF, at once. */
				if (conn_send(t, c, "\r\n", 2) != 0)
					return;
				continue;
			}
			t->cbs.msg(t->cbs.arg, h, &c->peer, msg);
			if (c->dead)
				return;
		}
		if (r < 0) {
			conn_kill(t, c, 0, r == E_BIG ? "message too large" :
			    "unframeable stream");
			return;
		}
		if ((size_t)n < sizeof(t->rbuf))
			break;
	}
	sip_framer_release(c->fr);
}

static void
conn_event(struct ev_loop *loop, int fd, unsigned ev, void *arg)
{
	/* The fd is unwatched before a connection dies (conn_kill()), so
	 * `arg` is always live here. */
	struct tconn *c = arg;
	struct tcpconn_table *t = c->t;
	int e;

	(void)loop;
	(void)fd;
	if (c->connecting) {
		if (!(ev & (EV_WRITE | EV_ERROR)))
			return;
		if ((e = net_sock_error(c->fd)) != 0) {
			conn_kill(t, c, E_IO, strerror(e));
			return;
		}
		c->connecting = 0;
		c->active_ms = ev_now_ms(t->loop);
		log_msg(t->lg, LOG_DEBUG, "tcp: connected");
		ev |= EV_WRITE;
	}
	if ((ev & EV_WRITE) && conn_flush(t, c) != 0)
		return;
	if (ev & (EV_READ | EV_ERROR))
		conn_read(t, c);
	conn_update_events(t, c);
}

static void
sweep(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct tcpconn_table *t = arg;
	uint64_t now = ev_now_ms(loop);
	size_t i;

	(void)id;
	for (i = 0; i < t->nslot; i++) {
		struct tconn *c = t->slot[i];

		if (c == NULL || c->dead)
			continue;
		if (c->connecting && now - c->born_ms > t->conf.connect_ms)
			conn_kill(t, c, E_TIMEOUT, "connect timeout");
		else if (!c->connecting && now - c->active_ms > t->conf.idle_ms)
			conn_kill(t, c, 0, "idle timeout");
	}
	t->sweep_timer = ev_timer_add(loop, 1000, sweep, t);
}

static void
accept_event(struct ev_loop *loop, int lfd, unsigned ev, void *arg)
{
	struct tcpconn_table *t = arg;
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
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_msg(t->lg, LOG_WARN, "tcp: accept: %s",
				    strerror(errno));
			return;
		}
		if (net_addr_from_sa(&peer, (struct sockaddr *)&ss, sl) != 0) {
			close(fd);
			continue;
		}
		if (conn_add(t, fd, &peer, 0) == NULL)
			log_msg(t->lg, LOG_WARN, "tcp: connection refused "
			    "(limit or memory)");
	}
}

struct tcpconn_table *
tcpconn_new(struct ev_loop *loop, const struct tcpconn_conf *conf,
    const struct tcpconn_cbs *cbs, const struct logger *lg)
{
	struct tcpconn_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->loop = loop;
	t->conf = *conf;
	if (t->conf.max_conns == 0)
		t->conf.max_conns = 1024;
	if (t->conf.connect_ms == 0)
		t->conf.connect_ms = 5000;
	if (t->conf.idle_ms == 0)
		t->conf.idle_ms = 300000;
	if (t->conf.max_msg == 0)
		t->conf.max_msg = 65535;
	if (t->conf.wq_max == 0)
		t->conf.wq_max = 1 << 20;
	t->cbs = *cbs;
	t->lg = lg;
	t->slot = calloc(t->conf.max_conns, sizeof(*t->slot));
	t->freelist = calloc(t->conf.max_conns, sizeof(*t->freelist));
	if (t->slot == NULL || t->freelist == NULL ||
	    (t->sweep_timer = ev_timer_add(loop, 1000, sweep, t)) < 0) {
		free(t->slot);
		free(t->freelist);
		free(t);
		return NULL;
	}
	return t;
}

void
tcpconn_free(struct tcpconn_table *t)
{
	struct tconn *c;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nslot; i++) {
		if ((c = t->slot[i]) != NULL) {
			(void)ev_fd_del(t->loop, c->fd);
			conn_free(c);
		}
	}
	while ((c = t->dead) != NULL) {
		t->dead = c->next_dead;
		conn_free(c);
	}
	tcpconn_stop_listening(t);
	if (t->sweep_timer > 0)
		(void)ev_timer_del(t->loop, (uint64_t)t->sweep_timer);
	if (t->reap_timer > 0)
		(void)ev_timer_del(t->loop, (uint64_t)t->reap_timer);
	free(t->slot);
	free(t->freelist);
	free(t);
}

int
tcpconn_listen(struct tcpconn_table *t, int fd)
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
tcpconn_stop_listening(struct tcpconn_table *t)
{
	size_t i;

	for (i = 0; i < t->nlfd; i++) {
		(void)ev_fd_del(t->loop, t->lfd[i]);
		close(t->lfd[i]);
	}
	t->nlfd = 0;
}

int
tcpconn_send(struct tcpconn_table *t, const struct net_addr *dst,
    const void *p, size_t len, uint64_t *conn)
{
	struct tconn *c = by_addr(t, dst);
	int fd, r;

	if (c == NULL) {
		if (t->nconn >= t->conf.max_conns)
			return E_LIMIT;
		r = net_tcp_connect(dst, &fd);
		if (r != 0 && r != E_AGAIN) {
			char a[NET_ADDR_STRLEN];
			if (net_addr_format(dst, a, sizeof(a)) != 0)
				a[0] = '\0';
			log_msg(t->lg, LOG_INFO, "tcp %s: connect: %s", a,
			    strerror(errno));
			return E_IO;
		}
		if ((c = conn_add(t, fd, dst, r == E_AGAIN)) == NULL)
			return E_NOMEM;
	}
	if (conn != NULL)
		*conn = c->handle;
	return conn_send(t, c, p, len);
}

int
tcpconn_send_conn(struct tcpconn_table *t, uint64_t conn, const void *p,
    size_t len)
{
	struct tconn *c = lookup(t, conn);

	return c == NULL ? E_NOTFOUND : conn_send(t, c, p, len);
}

int
tcpconn_find(const struct tcpconn_table *t, const struct net_addr *dst,
    uint64_t *conn)
{
	struct tconn *c = by_addr(t, dst);

	if (c == NULL)
		return E_NOTFOUND;
	*conn = c->handle;
	return 0;
}

int
tcpconn_peer(const struct tcpconn_table *t, uint64_t conn,
    struct net_addr *peer)
{
	struct tconn *c = lookup(t, conn);

	if (c == NULL)
		return E_NOTFOUND;
	*peer = c->peer;
	return 0;
}

void
tcpconn_close(struct tcpconn_table *t, uint64_t conn)
{
	struct tconn *c = lookup(t, conn);

	if (c != NULL) {
		/* Best effort: what the kernel does not take now is lost. */
		(void)conn_flush(t, c);
		conn_kill(t, c, 0, "closed by us");
	}
}

size_t
tcpconn_count(const struct tcpconn_table *t)
{
	return t->nconn;
}
