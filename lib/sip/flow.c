/* flow.c - TLS client connections carrying SIP, limits, timeouts, tokens;
 * WebSocket's own part is flow_ws.c. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/rnd.h"
#include "sip/flow_int.h"

static const char *const lim_what[L_N] = {
	"evicted: not up or silent, for a new connection",
	"refused: connection limit",
	"refused: per-address limit",
	"closed: no handshake in time",
	"closed: no first message in time",
	"closed: message not complete in time",
	"closed: partial messages over the buffer budget",
};

/*
 * Count a limit's event on `peer`; log it, at most once a second per kind
 * (an attack makes thousands a second), with how many went unlogged.
 */
static void
lim_event(struct flow_table *t, enum lim k, const struct net_addr *peer)
{
	uint64_t sec = ev_now_ms(t->loop) / 1000 + 1;
	char a[NET_ADDR_STRLEN];

	t->n[k]++;
	if (t->log_sec[k] == sec) {
		t->quiet[k]++;
		return;
	}
	if (net_addr_format(peer, a, sizeof(a)) != 0)
		a[0] = '\0';
	log_msg(t->lg, k == L_FULL || k == L_BUDGET ? LOG_WARN : LOG_INFO,
	    "flow %s: %s (%llu in all, %llu more unlogged)", a, lim_what[k],
	    (unsigned long long)t->n[k], (unsigned long long)t->quiet[k]);
	t->log_sec[k] = sec;
	t->quiet[k] = 0;
}

/*
 * The per-address key: the address without port; an IPv6 client counts
 * by its /64 (one subscriber's prefix; it may use any address in it).
 */
static void
ip_key(struct net_addr *k, const struct net_addr *a)
{
	*k = *a;
	net_addr_set_port(k, 0);
	if (net_addr_family(k) == AF_INET6 &&
	    !IN6_IS_ADDR_V4MAPPED(&k->u.in6.sin6_addr)) {
		memset(k->u.in6.sin6_addr.s6_addr + 8, 0, 8);
		k->u.in6.sin6_flowinfo = 0;
	}
}

static unsigned
ip_hash(const struct net_addr *a)
{
	return net_addr_hash(a, 0) % IP_BUCKETS;
}

static struct ipcount **
ip_find(struct flow_table *t, const struct net_addr *peer)
{
	struct net_addr a;
	struct ipcount **pp;

	ip_key(&a, peer);
	pp = &t->ips[ip_hash(&a)];
	while (*pp != NULL && !net_addr_host_eq(&(*pp)->ip, &a))
		pp = &(*pp)->next;
	return pp;
}

static int
ip_inc(struct flow_table *t, const struct net_addr *a)
{
	struct ipcount **pp = ip_find(t, a);

	if (*pp == NULL) {
		if ((*pp = calloc(1, sizeof(**pp))) == NULL)
			return E_NOMEM;
		ip_key(&(*pp)->ip, a);
	}
	if (t->conf.max_per_ip > 0 && (*pp)->n >= t->conf.max_per_ip)
		return E_LIMIT;
	(*pp)->n++;
	return 0;
}

static void
ip_dec(struct flow_table *t, const struct net_addr *a)
{
	struct ipcount **pp = ip_find(t, a), *x;

	if ((x = *pp) == NULL)
		return;
	if (--x->n == 0) {
		*pp = x->next;
		free(x);
	}
}

/*
 * Charge the framer's buffer of `c` (none once dead) to the budget, and
 * keep the list of the flows that hold one.
 */
static void
account(struct flow_table *t, struct conn *c)
{
	size_t now = c->dead ? 0 : c->kind == FLOW_TLS ?
	    sip_framer_held(c->fr) : c->http_len + (c->dec != NULL ?
	    ws_dec_held(c->dec) : 0);

	if (now > 0 && c->held == 0) {
		c->hprev = NULL;
		c->hnext = t->holding;
		if (t->holding != NULL)
			t->holding->hprev = c;
		t->holding = c;
		c->held_ms = ev_now_ms(t->loop);
	} else if (now == 0 && c->held > 0) {
		if (c->hprev != NULL)
			c->hprev->hnext = c->hnext;
		else
			t->holding = c->hnext;
		if (c->hnext != NULL)
			c->hnext->hprev = c->hprev;
		c->hprev = c->hnext = NULL;
	}
	t->held = t->held - c->held + now;
	c->held = now;
	if (t->held > t->held_peak)
		t->held_peak = t->held;
}

static void
conn_free(void *arg, void *conn)
{
	struct conn *c = conn;

	(void)arg;
	tls_conn_free(c->tls);
	sip_framer_free(c->fr);
	ws_dec_free(c->dec);
	free(c->http);
	buf_free(c->pwq);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* ---- revisits: throttled connections, and read budgets spent ---- */

static void on_revisit(struct ev_loop *loop, uint64_t id, void *arg);
#define REVISIT_MS 10

void
flow_revisit_add(struct flow_table *t, struct conn *c)
{
	if (c->revisit || c->dead)
		return;
	c->revisit = 1;
	c->rprev = NULL;
	c->rnext = t->revisit;
	if (t->revisit != NULL)
		t->revisit->rprev = c;
	t->revisit = c;
	if (t->rtimer <= 0)
		t->rtimer = ev_timer_add(t->loop, REVISIT_MS, on_revisit, t);
}

static void
revisit_del(struct flow_table *t, struct conn *c)
{
	if (!c->revisit)
		return;
	if (c->rprev != NULL)
		c->rprev->rnext = c->rnext;
	else
		t->revisit = c->rnext;
	if (c->rnext != NULL)
		c->rnext->rprev = c->rprev;
	c->revisit = 0;
	c->rprev = c->rnext = NULL;
}

int
flow_paused(const struct flow_table *t, const struct conn *c)
{
	return c->pause_until > ev_now_ms(t->loop);
}

/* Unlink a connection now; free its memory once no callback runs. */
void
flow_conn_kill(struct flow_table *t, struct conn *c, const char *why)
{
	char a[NET_ADDR_STRLEN];

	if (c->dead)
		return;
	c->dead = 1;
	revisit_del(t, c);
	if (c->all_prev != NULL)
		c->all_prev->all_next = c->all_next;
	else if (t->all == c)
		t->all = c->all_next;
	if (c->all_next != NULL)
		c->all_next->all_prev = c->all_prev;
	c->all_next = c->all_prev = NULL;
	if (log_on(t->lg, LOG_DEBUG) && net_addr_format(&c->peer, a,
	    sizeof(a)) == 0)
		log_msg(t->lg, LOG_DEBUG, "flow %s: closed: %s", a, why);
	(void)conntab_kill(t->ct, c->handle);
	account(t, c);
	if (c->tls != NULL)
		tls_conn_shutdown(c->tls);
	ip_dec(t, &c->peer);
	if (t->cbs.closed != NULL && (c->kind == FLOW_TLS ? c->tls != NULL &&
	    tls_conn_established(c->tls) : c->ws_open))
		t->cbs.closed(t->cbs.arg, c->handle);
}

/* ---- the transport under the messages: TLS, or the plain socket ---- */

static int
sock_write(void *arg, const uint8_t *p, size_t len, size_t *done)
{
	struct conn *c = arg;

	return net_send_some(c->fd, p, len, done);
}

/* As tls_conn_read(): 0 with *got (0: the peer closed), E_AGAIN, E_IO. */
int
flow_io_read(struct conn *c, uint8_t *p, size_t n, size_t *got)
{
	ssize_t k;

	if (c->kind != FLOW_WS)
		return tls_conn_read(c->tls, p, n, got);
	do
		k = recv(c->fd, p, n, MSG_DONTWAIT);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? E_AGAIN :
		    E_IO;
	*got = (size_t)k;
	return 0;
}

/* As tls_conn_write(): 0, E_LIMIT (nothing queued), or broken. */
int
flow_io_write(struct conn *c, const void *p, size_t len)
{
	size_t sent = 0;
	int r;

	if (c->kind != FLOW_WS)
		return tls_conn_write(c->tls, p, len);
	r = wq_send(&c->pwq, PLAIN_WQ_MAX, p, len, sock_write, c, &sent);
	return r == E_LIMIT ? E_LIMIT : r == 0 ? 0 : E_IO;
}

int
flow_io_flush(struct conn *c)
{
	if (c->kind != FLOW_WS)
		return c->tls != NULL ? tls_conn_flush(c->tls) : 0;
	return wq_flush(&c->pwq, sock_write, c);
}

static size_t
io_queued(const struct conn *c)
{
	if (c->kind != FLOW_WS)
		return c->tls != NULL ? tls_conn_queued(c->tls) : 0;
	return wq_len(c->pwq);
}

static void
conn_update_events(struct flow_table *t, struct conn *c)
{
	unsigned ev;

	if (c->dead)
		return;
	if (c->kind == FLOW_WS)
		ev = EV_READ | (wq_len(c->pwq) > 0 ? EV_WRITE : 0);
	else
		ev = c->tls != NULL ? tls_conn_events(c->tls) : EV_READ;
	/* Throttled: its bytes wait in the kernel (TCP pushes back);
	 * a TLS write in progress still gets its events. */
	if (flow_paused(t, c))
		ev &= ~(unsigned)EV_READ;
	conntab_want(t->ct, c->handle, ev);
}

static void
conn_expire(void *arg, void *conn, enum conntab_expiry why)
{
	struct flow_table *t = arg;
	struct conn *c = conn;

	switch (why) {
	case CONNTAB_SETUP:
		lim_event(t, L_HANDSHAKE, &c->peer);
		flow_conn_kill(t, c, "handshake timeout");
		break;
	case CONNTAB_FIRST:
		lim_event(t, L_FIRST, &c->peer);
		flow_conn_kill(t, c, "no first message");
		break;
	case CONNTAB_DEADLINE:
		lim_event(t, L_MSG, &c->peer);
		flow_conn_kill(t, c, "message timeout");
		break;
	default:
		flow_conn_kill(t, c, "idle timeout");
	}
}

/*
 * Room for one more: when the table is full, close a connection that is
 * still pending (no handshake or no first message yet) rather than refuse
 * a newcomer that may be a phone. Oldest first would let a flood that
 * reconnects as fast as it is evicted push out a phone's connection before
 * its handshake is done; so among the EVICT_SCAN oldest, the one whose
 * address holds the most connections goes (the oldest of those): a phone
 * with one connection outlasts sources with many. 0, or E_LIMIT when every
 * connection open has proved useful.
 */
#define EVICT_SCAN 16

static int
make_room(struct flow_table *t)
{
	void *v[EVICT_SCAN];
	struct conn *old = NULL;
	size_t i, n, most = 0;

	if (!conntab_full(t->ct))
		return 0;
	n = conntab_pending(t->ct, v, EVICT_SCAN);
	for (i = 0; i < n; i++) {
		struct conn *c = v[i];
		struct ipcount *x = *ip_find(t, &c->peer);
		size_t k = x != NULL ? x->n : 0;

		if (old == NULL || k > most) {
			old = c;
			most = k;
		}
	}
	if (old == NULL)
		return E_LIMIT;
	lim_event(t, L_EVICT, &old->peer);
	flow_conn_kill(t, old, "evicted");
	return 0;
}

/* Which listener took a connection, by our local address of it. */
static enum flow_kind
listener_kind(const struct flow_table *t, const struct net_addr *local)
{
	size_t i;

	for (i = 0; i < t->nlst; i++) {
		const struct net_addr *a = &t->lst[i].a;

		if (net_addr_port(a) == net_addr_port(local) &&
		    net_addr_family(a) == net_addr_family(local) &&
		    (net_addr_is_any(a) || net_addr_host_eq(a, local)))
			return t->lst[i].kind;
	}
	return FLOW_TLS;
}

static void
conn_accept(void *arg, int fd, const struct net_addr *peer)
{
	struct flow_table *t = arg;
	struct conn *c;

	/* A banned source: refused before the handshake costs us a thing. */
	if (t->gate != NULL && t->gate(t->gate_arg, peer)) {
		close(fd);
		return;
	}
	if (ip_inc(t, peer) != 0) {
		lim_event(t, L_PER_IP, peer);
		close(fd);
		return;
	}
	if (make_room(t) != 0) {
		lim_event(t, L_FULL, peer);
		ip_dec(t, peer);
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		ip_dec(t, peer);
		close(fd);
		return;
	}
	c->fd = fd;
	if (net_local_addr(fd, &c->local) != 0)
		memset(&c->local, 0, sizeof(c->local));
	c->kind = listener_kind(t, &c->local);
	if (c->kind == FLOW_TLS &&
	    (c->fr = sip_framer_new(t->conf.max_msg)) == NULL) {
		free(c);
		ip_dec(t, peer);
		close(fd);
		return;
	}
	if (t->conf.sndbuf > 0)
		net_set_bufs(fd, 0, t->conf.sndbuf);
	c->peer = *peer;
	if (conntab_add(t->ct, fd, EV_READ, 0, c, &c->handle) != 0) {
		ip_dec(t, peer);
		conn_free(t, c);
		return;
	}
	t->accepted++;
	if ((c->all_next = t->all) != NULL)
		t->all->all_prev = c;
	t->all = c;
}

/* A message (or ping) came whole: the next one has a clock of its own. */
void
flow_msg_done(struct flow_table *t, struct conn *c)
{
	if (c->partial) {
		c->partial = 0;
		conntab_deadline(t->ct, c->handle, 0);
	}
}

/*
 * After a read: start the message clock when bytes of a message wait (in
 * the framer, or a TLS record not whole yet), stop it when none do,
 * charge the buffer, and close the flows holding the most (then the
 * oldest) while all of them hold more than the budget.
 */
void
flow_after_read(struct flow_table *t, struct conn *c)
{
	/* Up to 3 bytes may be a keep-alive in the making: a phone that
	 * sends a single CRLF every 30 s leaves one waiting for the next. */
	int busy = c->kind == FLOW_TLS ? sip_framer_pending(c->fr) > 3 ||
	    tls_conn_partial(c->tls) : c->http_len > 0 || (c->dec != NULL &&
	    ws_dec_partial(c->dec)) || (c->tls != NULL &&
	    tls_conn_partial(c->tls));

	if (busy && !c->partial) {
		c->partial = 1;
		if (t->conf.msg_ms != FLOW_NEVER)
			conntab_deadline(t->ct, c->handle, t->conf.msg_ms);
	} else if (!busy)
		flow_msg_done(t, c);
	account(t, c);
	while (t->held > t->conf.buffer_budget && t->holding != NULL) {
		struct conn *x, *big = t->holding;

		for (x = big->hnext; x != NULL; x = x->hnext)
			if (x->held > big->held || (x->held == big->held &&
			    x->held_ms < big->held_ms))
				big = x;
		lim_event(t, L_BUDGET, &big->peer);
		flow_conn_kill(t, big, "buffer budget");
	}
}

/*
 * Hand the framed messages waiting in `c` to the callback: 0, 1 when the
 * callback throttled the flow (the rest wait), -1 when it is gone.
 */
static int
conn_drain(struct flow_table *t, struct conn *c)
{
	uint64_t h = c->handle;
	struct slice msg;
	int r = 0;

	while (!flow_paused(t, c) && (r = sip_framer_next(c->fr, &msg)) > 0) {
		if (r == SIP_FRAME_PING) {
			/* RFC 5626 pong: a single CRLF, at once. */
			if (tls_conn_write(c->tls, "\r\n", 2) != 0) {
				flow_conn_kill(t, c, "write");
				return -1;
			}
			flow_msg_done(t, c);
			continue;
		}
		flow_msg_done(t, c);
		/* The flow proved useful: no longer pending. */
		conntab_ready(t->ct, h);
		t->cbs.msg(t->cbs.arg, h, msg);
		if (conntab_get(t->ct, h) == NULL)
			return -1;
	}
	if (flow_paused(t, c))
		return 1;
	if (r < 0) {
		if (t->cbs.bad != NULL)
			t->cbs.bad(t->cbs.arg, h, r);
		if (conntab_get(t->ct, h) != NULL)
			flow_conn_kill(t, c, r == E_BIG ? "message too large" :
			    "unframeable stream");
		return -1;
	}
	return 0;
}

void
flow_conn_read(struct flow_table *t, struct conn *c)
{
	uint64_t h = c->handle;
	int r, n;

	/* What a throttle left framed comes first. */
	if ((r = conn_drain(t, c)) < 0)
		return;
	for (n = 0; r == 0; n++) {
		size_t got = 0;

		if (n == READS_PER_EVENT) {
			/* the others' turn; TLS may hold decrypted bytes
			 * that epoll cannot see: come back */
			flow_revisit_add(t, c);
			break;
		}
		/* Read into the table's scratch buffer: an idle connection
		 * holds no read buffer of its own. */
		r = tls_conn_read(c->tls, t->rbuf, sizeof(t->rbuf), &got);
		if (r == E_AGAIN)
			break;
		if (r != 0 || got == 0) {
			flow_conn_kill(t, c, r != 0 ? "tls error" : "peer closed");
			return;
		}
		if (sip_framer_feed(c->fr, t->rbuf, got) != 0) {
			flow_conn_kill(t, c, "message too large");
			return;
		}
		conntab_touch(t->ct, h);
		if ((r = conn_drain(t, c)) < 0)
			return;
	}
	sip_framer_release(c->fr);
	flow_after_read(t, c);
}

static void
conn_event(void *arg, void *conn, unsigned ev)
{
	struct flow_table *t = arg;
	struct conn *c = conn;
	uint64_t h = c->handle;
	int r;

	(void)ev;
	if (c->kind == FLOW_WS) {
		if (wq_len(c->pwq) > 0 && (r = flow_io_flush(c)) != 0 &&
		    r != E_AGAIN) {
			flow_conn_kill(t, c, "write");
			return;
		}
		flow_ws_read(t, c);
		if ((c = conntab_get(t->ct, h)) != NULL)
			conn_update_events(t, c);
		return;
	}
	/* The TLS state (~13 KiB) only once the client sends something: a
	 * connection that never does costs a few hundred bytes. */
	if (c->tls == NULL && (c->tls = tls_conn_new(t->tls, c->fd)) == NULL) {
		flow_conn_kill(t, c, "out of memory");
		return;
	}
	if (!tls_conn_established(c->tls)) {
		r = tls_conn_handshake(c->tls);
		if (r == E_AGAIN) {
			conn_update_events(t, c);
			return;
		}
		if (r != 0) {
			t->hs_failed++;
			flow_conn_kill(t, c, r == E_AUTH ? "client certificate" :
			    "handshake failed");
			return;
		}
		t->hs_ok++;
		/* A WSS connection is up once its Upgrade is answered. */
		if (c->kind == FLOW_TLS)
			conntab_up(t->ct, h);
	}
	if (tls_conn_queued(c->tls) > 0) {
		r = tls_conn_flush(c->tls);
		if (r < 0 && r != E_AGAIN) {
			flow_conn_kill(t, c, "write");
			return;
		}
	}
	if (c->kind == FLOW_WSS)
		flow_ws_read(t, c);
	else
		flow_conn_read(t, c);
	if ((c = conntab_get(t->ct, h)) != NULL)
		conn_update_events(t, c);
}

struct flow_table *
flow_table_new(struct ev_loop *loop, struct tls_server *tls,
    const struct flow_conf *conf, const struct flow_cbs *cbs,
    const struct logger *lg)
{
	struct conntab_conf cc = {
		conf->max_conns != 0 ? conf->max_conns : 10000,
		conf->handshake_ms != 0 ? conf->handshake_ms : 10000,
		conf->idle_ms != 0 ? conf->idle_ms : 600000, "flow",
		conf->first_msg_ms == FLOW_NEVER ? 0 :
		conf->first_msg_ms != 0 ? conf->first_msg_ms : 30000 };
	struct conntab_ops ops = { conn_event, conn_accept, conn_expire,
	    NULL, conn_free, NULL };
	struct flow_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->loop = loop;
	t->tls = tls;
	t->conf = *conf;
	if (t->conf.max_msg == 0)
		t->conf.max_msg = 65535;
	if (t->conf.msg_ms == 0)
		t->conf.msg_ms = 20000;
	if (t->conf.buffer_budget == 0)
		t->conf.buffer_budget = (size_t)64 << 20;
	if (t->conf.ws_max_msg == 0)
		t->conf.ws_max_msg = 65535;
	t->cbs = *cbs;
	t->lg = lg;
	ops.arg = t;
	if ((t->ct = conntab_new(loop, &cc, &ops, lg)) == NULL ||
	    rnd_bytes(t->key, sizeof(t->key)) != 0) {
		flow_table_free(t);
		return NULL;
	}
	return t;
}

void
flow_table_free(struct flow_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	if (t->rtimer > 0)
		(void)ev_timer_del(t->loop, (uint64_t)t->rtimer);
	conntab_free(t->ct);
	for (i = 0; i < IP_BUCKETS; i++) {
		while (t->ips[i] != NULL) {
			struct ipcount *x = t->ips[i];
			t->ips[i] = x->next;
			free(x);
		}
	}
	OPENSSL_cleanse(t->key, sizeof(t->key));
	free(t->wbuf);
	free(t);
}

int
flow_listen(struct flow_table *t, int fd)
{
	return conntab_listen(t->ct, fd);
}

int
flow_listen_kind(struct flow_table *t, int fd, enum flow_kind kind)
{
	if (kind != FLOW_TLS) {
		if (t->nlst >= MAX_LISTEN) {
			close(fd);
			return E_LIMIT;
		}
		if (net_local_addr(fd, &t->lst[t->nlst].a) != 0) {
			close(fd);
			return E_IO;
		}
		t->lst[t->nlst++].kind = kind;
	}
	return conntab_listen(t->ct, fd);
}

enum flow_kind
flow_kind(const struct flow_table *t, uint64_t flow)
{
	const struct conn *c = conntab_get(t->ct, flow);

	return c != NULL ? c->kind : FLOW_TLS;
}

void
flow_stop_listening(struct flow_table *t)
{
	conntab_stop_listening(t->ct);
}

int
flow_send(struct flow_table *t, uint64_t flow, const void *p, size_t len)
{
	struct conn *c = conntab_get(t->ct, flow);
	size_t hl;
	int r;

	if (c == NULL)
		return E_NOTFOUND;
	if (c->kind != FLOW_TLS) {
		/* One text frame: header and message in one write. */
		if (!c->ws_open)
			return E_NOTFOUND;
		if (len > t->conf.ws_max_msg)
			return E_LIMIT;
		if (t->wbuf == NULL && (t->wbuf = malloc(t->conf.ws_max_msg +
		    WS_HDR_MAX)) == NULL)
			return E_LIMIT;
		hl = ws_frame_header(t->wbuf, WS_OP_TEXT, len);
		memcpy(t->wbuf + hl, p, len);
		p = t->wbuf;
		len += hl;
	} else if (c->tls == NULL || !tls_conn_established(c->tls))
		return E_NOTFOUND;
	r = flow_io_write(c, p, len);
	if (r != 0) {
		flow_conn_kill(t, c, r == E_LIMIT ? "write queue full" : "write");
		return r == E_LIMIT ? E_LIMIT : E_NOTFOUND;
	}
	conn_update_events(t, c);
	return 0;
}

void
flow_close(struct flow_table *t, uint64_t flow)
{
	struct conn *c = conntab_get(t->ct, flow);

	if (c != NULL && c->ws_open) {
		flow_ws_fail(t, c, WS_CLOSE_GOING, "closed by us");
		return;
	}
	if (c != NULL) {
		/* Best effort: what does not go now is dropped. */
		if (io_queued(c) > 0 && flow_io_flush(c) != 0)
			log_msg(t->lg, LOG_DEBUG, "flow: unsent bytes dropped");
		flow_conn_kill(t, c, "closed by us");
	}
}

int
flow_alive(const struct flow_table *t, uint64_t flow)
{
	return conntab_get(t->ct, flow) != NULL;
}

int
flow_addrs(const struct flow_table *t, uint64_t flow, struct net_addr *peer,
    struct net_addr *local)
{
	struct conn *c = conntab_get(t->ct, flow);

	if (c == NULL)
		return E_NOTFOUND;
	if (peer != NULL)
		*peer = c->peer;
	if (local != NULL)
		*local = c->local;
	return 0;
}

size_t
flow_count(const struct flow_table *t)
{
	return conntab_count(t->ct);
}

void
flow_stats(const struct flow_table *t, struct flow_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->accepted = t->accepted;
	st->evicted = t->n[L_EVICT];
	st->refused_full = t->n[L_FULL];
	st->refused_per_ip = t->n[L_PER_IP];
	st->handshake_timeouts = t->n[L_HANDSHAKE];
	st->first_msg_timeouts = t->n[L_FIRST];
	st->msg_timeouts = t->n[L_MSG];
	st->budget_closes = t->n[L_BUDGET];
	st->held = t->held;
	st->held_peak = t->held_peak;
	st->ws_upgraded = t->ws_upgraded;
	st->ws_refused = t->ws_refused;
	st->ws_errors = t->ws_errors;
	st->handshakes_ok = t->hs_ok;
	st->handshakes_failed = t->hs_failed;
	st->throttled = t->throttled;
	for (const struct conn *c = t->all; c != NULL; c = c->all_next)
		if ((unsigned)c->kind < 3)
			st->open_kind[c->kind]++;
}

void
flow_throttle(struct flow_table *t, uint64_t flow, uint32_t ms)
{
	struct conn *c = conntab_get(t->ct, flow);

	if (c == NULL || c->dead)
		return;
	c->pause_until = ev_now_ms(t->loop) + ms;
	t->throttled++;
	flow_revisit_add(t, c);
	conn_update_events(t, c);
}

/* The revisit timer: paused flows whose time is up, and those whose read
 * budget ran out, are read again. */
static void
on_revisit(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct flow_table *t = arg;
	uint64_t now = ev_now_ms(loop), hs[REVISIT_BATCH];
	struct conn *c, *next;
	size_t n = 0, i;

	(void)id;
	t->rtimer = 0;
	for (c = t->revisit; c != NULL && n < REVISIT_BATCH; c = next) {
		next = c->rnext;
		if (c->pause_until > now)
			continue;
		c->pause_until = 0;
		revisit_del(t, c);
		hs[n++] = c->handle;
	}
	/* by handle: a callback may close any flow (a ban closes all of a
	 * source's) */
	for (i = 0; i < n; i++)
		if ((c = conntab_get(t->ct, hs[i])) != NULL && !c->dead)
			conn_event(t, c, EV_READ);
	if (t->revisit != NULL && t->rtimer <= 0)
		t->rtimer = ev_timer_add(t->loop, REVISIT_MS, on_revisit, t);
}

static int
mac(const struct flow_table *t, uint64_t h, uint8_t out[32])
{
	uint8_t m[8];
	size_t olen = 0;
	int i;

	for (i = 0; i < 8; i++)
		m[i] = (uint8_t)(h >> (56 - 8 * i));
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, t->key,
	    sizeof(t->key), m, sizeof(m), out, 32, &olen) == NULL || olen != 32)
		return E_CRYPTO;
	return 0;
}

#define MAC_BYTES 10

int
flow_token(const struct flow_table *t, uint64_t flow, char *out, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	uint8_t m[32];
	size_t k = 0;
	int i, r;

	if (n < FLOW_TOKEN_LEN + 1)
		return E_BIG;
	if ((r = mac(t, flow, m)) != 0)
		return r;
	out[k++] = 's';
	out[k++] = 'b';
	out[k++] = 'k';
	for (i = 15; i >= 0; i--)
		out[k++] = hx[(flow >> (4 * i)) & 15];
	for (i = 0; i < MAC_BYTES; i++) {
		out[k++] = hx[m[i] >> 4];
		out[k++] = hx[m[i] & 15];
	}
	out[k] = '\0';
	return 0;
}

static int
unhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
flow_token_check(const struct flow_table *t, struct slice tok, uint64_t *flow)
{
	uint8_t m[32], got[MAC_BYTES];
	uint64_t h = 0;
	size_t i;

	if (tok.len != FLOW_TOKEN_LEN || memcmp(tok.p, "sbk", 3) != 0)
		return E_AUTH;
	for (i = 3; i < 19; i++) {
		int v = unhex(tok.p[i]);
		if (v < 0)
			return E_AUTH;
		h = (h << 4) | (uint64_t)v;
	}
	for (i = 0; i < MAC_BYTES; i++) {
		int a = unhex(tok.p[19 + 2 * i]), b = unhex(tok.p[20 + 2 * i]);
		if (a < 0 || b < 0)
			return E_AUTH;
		got[i] = (uint8_t)(a << 4 | b);
	}
	if (mac(t, h, m) != 0 || CRYPTO_memcmp(m, got, MAC_BYTES) != 0)
		return E_AUTH;
	*flow = h;
	return 0;
}

void
flow_set_gate(struct flow_table *t, flow_gate_fn *gate, void *arg)
{
	t->gate = gate;
	t->gate_arg = arg;
}

size_t
flow_close_gated(struct flow_table *t)
{
	struct conn *c;
	size_t n = 0;

	if (t->gate == NULL)
		return 0;
	/* From the head again after each kill: its closed callback may
	 * change the list. Bans are rare; the walk is bounded by the table. */
	for (c = t->all; c != NULL; ) {
		if (!t->gate(t->gate_arg, &c->peer)) {
			c = c->all_next;
			continue;
		}
		flow_conn_kill(t, c, "source banned");
		n++;
		c = t->all;
	}
	return n;
}
