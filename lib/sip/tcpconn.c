/* tcpconn.c - SIP over plain TCP: reused connections, framing, queues. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/conntab.h"
#include "sip/sip.h"
#include "sip/tcpconn.h"
#include "base/wqueue.h"

#define ADDR_BUCKETS 256

struct tconn {
	uint64_t handle;
	int fd;
	int connecting;		/* non-blocking connect in progress */
	int dead;
	int err;		/* for the closed callback */
	struct net_addr peer;
	struct sip_framer *fr;
	struct buf *wq;		/* unsent bytes; NULL when empty */
	struct tconn *next_addr;
};

struct tcpconn_table {
	struct conntab *ct;
	size_t max_msg, wq_max;
	struct tcpconn_cbs cbs;
	const struct logger *lg;
	struct tconn *addr[ADDR_BUCKETS];
	uint8_t rbuf[16384];	/* shared: an idle connection holds none */
};

static unsigned
addr_hash(const struct net_addr *a)
{
	return net_addr_hash(a, 1) % ADDR_BUCKETS;
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
conn_free(void *arg, void *conn)
{
	struct tconn *c = conn;

	(void)arg;
	sip_framer_free(c->fr);
	buf_free(c->wq);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* The closed callback runs from the reap timer: no tcpconn_* call runs. */
static void
conn_reaped(void *arg, void *conn)
{
	struct tcpconn_table *t = arg;
	struct tconn *c = conn;

	if (t->cbs.closed != NULL)
		t->cbs.closed(t->cbs.arg, c->handle, &c->peer, c->err);
}

/* Unlink a connection now; report and free it from the loop. */
static void
conn_kill(struct tcpconn_table *t, struct tconn *c, int err, const char *why)
{
	char a[NET_ADDR_STRLEN];

	if (c->dead)
		return;
	c->dead = 1;
	c->err = err;
	if (net_addr_format(&c->peer, a, sizeof(a)) != 0)
		a[0] = '\0';
	log_msg(t->lg, err != 0 ? LOG_INFO : LOG_DEBUG, "tcp %s: closed: %s",
	    a, why);
	(void)conntab_kill(t->ct, c->handle);
	close(c->fd);
	c->fd = -1;
	addr_unlink(t, c);
}

static void
conn_update_events(struct tcpconn_table *t, struct tconn *c)
{
	unsigned ev = EV_READ;

	if (c->dead)
		return;
	if (c->connecting)
		ev = EV_WRITE;
	else if (wq_len(c->wq) > 0)
		ev |= EV_WRITE;
	conntab_want(t->ct, c->handle, ev);
}

/* A new connection object for `fd` (taken over), indexed by `peer`. */
static struct tconn *
conn_add(struct tcpconn_table *t, int fd, const struct net_addr *peer,
    int connecting)
{
	struct tconn *c;
	unsigned h;

	if (conntab_full(t->ct) || (c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->peer = *peer;
	c->connecting = connecting;
	if ((c->fr = sip_framer_new(t->max_msg)) == NULL ||
	    conntab_add(t->ct, fd, connecting ? EV_WRITE : EV_READ,
	    !connecting, c, &c->handle) != 0) {
		conn_free(t, c);
		return NULL;
	}
	/* The newest connection to an address is the one reused. */
	h = addr_hash(peer);
	c->next_addr = t->addr[h];
	t->addr[h] = c;
	return c;
}

/* The socket as a write queue's writer. */
static int
sock_write(void *arg, const uint8_t *p, size_t len, size_t *done)
{
	struct tconn *c = arg;

	return net_send_some(c->fd, p, len, done);
}

/* Write what the kernel takes; 0, or -1 after killing the connection. */
static int
conn_flush(struct tcpconn_table *t, struct tconn *c)
{
	size_t before = wq_len(c->wq);
	int r = wq_flush(&c->wq, sock_write, c);

	if (wq_len(c->wq) != before)
		conntab_touch(t->ct, c->handle);
	if (r != 0 && r != E_AGAIN) {
		conn_kill(t, c, 0, "write failed");
		return -1;
	}
	return 0;
}

/* Queue a whole message or nothing; write at once when possible. */
static int
conn_send(struct tcpconn_table *t, struct tconn *c, const void *p,
    size_t len)
{
	size_t sent = 0;
	int r;

	if (c->connecting) {
		r = wq_push(&c->wq, t->wq_max, p, len);
	} else {
		/* A write is tried now unless bytes wait already. */
		if (wq_len(c->wq) == 0)
			conntab_touch(t->ct, c->handle);
		r = wq_send(&c->wq, t->wq_max, p, len, sock_write, c, &sent);
	}
	if (r == E_LIMIT) {
		log_msg(t->lg, LOG_WARN, "tcp: write queue full, %zu bytes "
		    "dropped", len);
		return E_LIMIT;
	}
	if (r == E_NOMEM) {
		/* Part of a message went: the stream cannot continue. */
		if (sent > 0)
			conn_kill(t, c, 0, "out of memory");
		return E_NOMEM;
	}
	if (r != 0) {
		conn_kill(t, c, 0, "write failed");
		return E_IO;
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
		conntab_touch(t->ct, h);
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
conn_event(void *arg, void *conn, unsigned ev)
{
	struct tcpconn_table *t = arg;
	struct tconn *c = conn;
	int e;

	if (c->connecting) {
		if (!(ev & (EV_WRITE | EV_ERROR)))
			return;
		if ((e = net_sock_error(c->fd)) != 0) {
			conn_kill(t, c, E_IO, strerror(e));
			return;
		}
		c->connecting = 0;
		conntab_up(t->ct, c->handle);
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
conn_expire(void *arg, void *conn, enum conntab_expiry why)
{
	struct tcpconn_table *t = arg;
	struct tconn *c = conn;

	if (why == CONNTAB_SETUP)
		conn_kill(t, c, E_TIMEOUT, "connect timeout");
	else if (!c->connecting)	/* connecting: the connect timeout */
		conn_kill(t, c, 0, "idle timeout");
}

static void
conn_accept(void *arg, int fd, const struct net_addr *peer)
{
	struct tcpconn_table *t = arg;

	if (conn_add(t, fd, peer, 0) == NULL)
		log_msg(t->lg, LOG_WARN, "tcp: connection refused "
		    "(limit or memory)");
}

struct tcpconn_table *
tcpconn_new(struct ev_loop *loop, const struct tcpconn_conf *conf,
    const struct tcpconn_cbs *cbs, const struct logger *lg)
{
	struct conntab_conf cc = {
		conf->max_conns != 0 ? conf->max_conns : 1024,
		conf->connect_ms != 0 ? conf->connect_ms : 5000,
		conf->idle_ms != 0 ? conf->idle_ms : 300000, "tcp", 0 };
	struct conntab_ops ops = { conn_event, conn_accept, conn_expire,
	    conn_reaped, conn_free, NULL };
	struct tcpconn_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->max_msg = conf->max_msg != 0 ? conf->max_msg : 65535;
	t->wq_max = conf->wq_max != 0 ? conf->wq_max : 1 << 20;
	t->cbs = *cbs;
	t->lg = lg;
	ops.arg = t;
	if ((t->ct = conntab_new(loop, &cc, &ops, lg)) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void
tcpconn_free(struct tcpconn_table *t)
{
	if (t == NULL)
		return;
	conntab_free(t->ct);
	free(t);
}

int
tcpconn_listen(struct tcpconn_table *t, int fd)
{
	return conntab_listen(t->ct, fd);
}

void
tcpconn_stop_listening(struct tcpconn_table *t)
{
	conntab_stop_listening(t->ct);
}

int
tcpconn_send(struct tcpconn_table *t, const struct net_addr *dst,
    const void *p, size_t len, uint64_t *conn)
{
	struct tconn *c = by_addr(t, dst);
	int fd, r;

	if (c == NULL) {
		if (conntab_full(t->ct))
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
	struct tconn *c = conntab_get(t->ct, conn);

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
	struct tconn *c = conntab_get(t->ct, conn);

	if (c == NULL)
		return E_NOTFOUND;
	*peer = c->peer;
	return 0;
}

int
tcpconn_local(const struct tcpconn_table *t, uint64_t conn,
    struct net_addr *local)
{
	struct tconn *c = conntab_get(t->ct, conn);

	if (c == NULL)
		return E_NOTFOUND;
	return net_local_addr(c->fd, local) == 0 ? 0 : E_IO;
}

void
tcpconn_close(struct tcpconn_table *t, uint64_t conn)
{
	struct tconn *c = conntab_get(t->ct, conn);

	if (c != NULL) {
		/* Best effort: what the kernel does not take now is lost. */
		(void)conn_flush(t, c);
		conn_kill(t, c, 0, "closed by us");
	}
}

size_t
tcpconn_count(const struct tcpconn_table *t)
{
	return conntab_count(t->ct);
}
