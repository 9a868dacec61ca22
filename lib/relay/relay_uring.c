/* relay_uring.c - the relay's io_uring engine: packets of every socket
 * reaped from one ring, processed and sent from their receive buffers. */
#include "relay/relay_int.h"
#include "relay/rawudp.h"

static void on_ring(struct ev_loop *loop, int fd, unsigned events, void *arg);
static int ring_wait(struct ev_loop *loop, int epfd, int timeout_ms,
    int *ready, void *arg);

/* io_uring for `r`: driving the loop's waits if it has no waiter yet,
 * else watched through its eventfd. */
int
relay_uring_setup(struct relay *r)
{
	int e = 0;

	r->uio = uio_new(RELAY_URING_BUFS, PKT_CAP, UIO_WAIT | UIO_DST, &e);
	if (r->uio == NULL)
		return e;
	if ((e = ev_set_waiter(r->loop, ring_wait, r)) == 0) {
		r->waiter = 1;
		return 0;
	}
	uio_free(r->uio);
	if (e != E_EXIST) {
		r->uio = NULL;
		return e;
	}
	r->uio = uio_new(RELAY_URING_BUFS, PKT_CAP, UIO_DST, &e);
	if (r->uio == NULL)
		return e;
	if (ev_fd_add(r->loop, uio_fd(r->uio), EV_READ, on_ring, r) != 0) {
		uio_free(r->uio);
		r->uio = NULL;
		return E_IO;
	}
	return 0;
}

void
relay_uring_free(struct relay *r)
{
	if (r->uio == NULL)
		return;
	if (r->waiter)
		ev_clear_waiter(r->loop);
	else
		(void)ev_fd_del(r->loop, uio_fd(r->uio));
	uio_free(r->uio);
	r->uio = NULL;
}

/* relay_send_fn: the packet `arg` (struct uio_pkt) queued to be sent
 * from its receive buffer, by the raw socket or `to`'s port socket. */
static size_t
ring_send(struct relay *r, const struct relay_comp *from,
    const struct relay_comp *to, size_t n, void *arg, size_t *bytes)
{
	struct uio_pkt *u = arg;
	size_t len = u->len;
	struct net_addr dst;
	int ofd, hl, raw = 0;

	(void)n;
	/* the raw socket spares a cold port socket; a flooded stream's
	 * is hot, and the kernel checksums for it (offload) */
	ofd = from->hot ? -1 : r->raw[to->peer.u.sa.sa_family == AF_INET6];
	if (ofd >= 0 && (hl = rawudp_frame(u->buf, u->len, u->head,
	    &to->local, &to->peer)) > 0) {
		/* from the hot raw socket; its address takes no port */
		u->buf -= hl;
		u->len += (size_t)hl;
		dst = to->peer;
		net_addr_set_port(&dst, 0);
		raw = 1;
	} else {
		ofd = to->fd;
		dst = to->peer;
	}
	if (uio_send(r->uio, ofd, u, &dst) != 0)
		return 0;
	r->raw_sent += (uint64_t)raw;
	*bytes = len;
	return 1;
}

/*
 * io_uring: completions from every socket at once. Each packet is
 * processed in its receive buffer and queued to be sent from it.
 */
static void
ring_one(struct relay *r, struct uio_pkt *u, struct relay_fdref *ref)
{
	struct net_pkt p = { u->buf, u->len, u->len, u->addr, u->trunc };
	int c;

	if (ref == NULL) {
		r->stray++;
		uio_drop(r->uio, u);
		return;
	}
	c = process(ref->s, ref->side, ref->comp, &p, u->room);
	if (c < 0) {
		uio_drop(r->uio, u);
		return;
	}
	u->len = p.len;
	if (relay_forward(r, ref->s, ref->side, c, 1, ring_send, u) < 0)
		uio_drop(r->uio, u);
}

/* The component a received packet is for: its socket's, or for a
 * steering socket the one bound at its destination port. NULL: none. */
static struct relay_fdref *
ring_ref(const struct relay *r, const struct uio_pkt *u)
{
	unsigned port;

	if (!(u->tag & 1))
		return (struct relay_fdref *)(uintptr_t)u->tag;
	port = net_addr_port(&u->dst);
	if (u->dst.len == 0 || port < r->cfg.port_min ||
	    port > r->cfg.port_max)
		return NULL;
	return r->byport[(unsigned)(u->tag >> 1) * r->span + port -
	    r->cfg.port_min];
}

/*
 * At a thousand streams every packet's stream and keys are cold in the
 * cache, and taking those misses one after another was most of the
 * relay's user-space time. So the batch is walked ahead of the work,
 * each step fetching what the next one dereferences: the streams, then
 * the components and key contexts, then the keys; the misses overlap.
 */
static void
ring_prefetch(struct relay *r, size_t n)
{
	struct relay_fdref **refs = r->urefs;

	for (size_t i = 0; i < n; i++) {
		refs[i] = ring_ref(r, &r->upkts[i]);
		if (refs[i] != NULL)
			__builtin_prefetch(refs[i]);
	}
	for (size_t i = 0; i < n; i++) {
		const struct relay_side *sa, *sb;
		const struct relay_comp *ca, *cb;

		if (refs[i] == NULL)
			continue;
		sa = &refs[i]->s->side[refs[i]->side];
		sb = &refs[i]->s->side[!refs[i]->side];
		ca = &sa->c[refs[i]->comp];
		cb = &sb->c[sb->mux ? 0 : refs[i]->comp];
		__builtin_prefetch(ca);
		__builtin_prefetch(&ca->ctr.pkts);
		__builtin_prefetch(&ca->ctr.last_ms);
		__builtin_prefetch(cb);
		__builtin_prefetch(&cb->local);
		__builtin_prefetch(&sa->rx);
		__builtin_prefetch(&sb->tx);
	}
	/* the key contexts, then what is read through them */
	for (int step = 0; step < 2; step++)
		for (size_t i = 0; i < n; i++) {
			const struct relay_side *sa, *sb;
			int rtcp;

			if (refs[i] == NULL)
				continue;
			sa = &refs[i]->s->side[refs[i]->side];
			sb = &refs[i]->s->side[!refs[i]->side];
			rtcp = refs[i]->comp == RELAY_RTCP;
			if (step == 0) {
				if (sa->srtp && sa->rx != NULL)
					__builtin_prefetch(sa->rx);
				if (sb->srtp && sb->tx != NULL)
					__builtin_prefetch(sb->tx);
				continue;
			}
			if (sa->srtp)
				rtpsec_prefetch(sa->rx, rtcp);
			if (sb->srtp)
				rtpsec_prefetch(sb->tx, rtcp);
		}
}

/* Everything the ring holds (a bounded number of rounds); sends stay
 * queued for the next submit. Returns the packets handled. */
static size_t
ring_drain(struct relay *r, unsigned rounds)
{
	size_t total = 0;

	while (rounds-- > 0) {
		size_t n = uio_poll(r->uio, r->upkts, NET_BATCH_MAX);

		ring_prefetch(r, n);
		for (size_t i = 0; i < n; i++)
			ring_one(r, &r->upkts[i], r->urefs[i]);
		total += n;
		if (n < NET_BATCH_MAX)
			break;
	}
	return total;
}

/* The loop's waiter: submit the sends, wait for packets (coalescing
 * while they flow) or the epoll descriptor, handle the packets. */
static int
ring_wait(struct ev_loop *loop, int epfd, int timeout_ms, int *ready,
    void *arg)
{
	struct relay *r = arg;
	int64_t t = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000;
	unsigned nr = 1;
	size_t n;

	if (uio_set_wake_fd(r->uio, epfd) != 0)
		return E_STATE;
	if (r->busy && r->cfg.coalesce_pkts > 1) {
		nr = r->cfg.coalesce_pkts;
		if (t < 0 || t > (int64_t)r->cfg.coalesce_us)
			t = r->cfg.coalesce_us;
	}
	if (uio_wait(r->uio, nr, t) != 0)
		return E_IO;
	ev_now_update(loop);
	/* the ring holds at most its completion queue: this ends */
	n = ring_drain(r, RELAY_URING_BUFS * 4 / NET_BATCH_MAX + 1);
	if (r->nmoving > 0)
		relay_moves(r);
	r->busy = n > 0;
	*ready = uio_wake_ready(r->uio);
	return n > 0;
}

/* The eventfd way (a second relay on a loop): what is there, in rounds;
 * uio_poll() leaves the eventfd readable if completions remain. */
static void
on_ring(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct relay *r = arg;

	(void)loop;
	(void)fd;
	(void)events;
	(void)ring_drain(r, 16);
	if (r->nmoving > 0)
		relay_moves(r);
	(void)uio_submit(r->uio);
}
