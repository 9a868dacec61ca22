/* relay.c - per-packet forwarding between stream sides, with SRTP and latching. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <openssl/crypto.h>

#include "relay/relay.h"
#include "relay/rawudp.h"
#include "relay/steer.h"
#include "media/rtp.h"
#include "relay/uio.h"

#define PKT_CAP 2048
/* Receive at most this much so that protecting in place always fits. */
#define RX_CAP (PKT_CAP - RTPSEC_MAX_OVERHEAD)
/* io_uring receive buffers shared by all sockets (16 MiB): ~0.3 s of a
 * 50,000 pps load if the relay is descheduled */
#define RELAY_URING_BUFS 8192
/* Flooded ports being moved to their own socket at a time. */
#define RELAY_MOVING 16

/* What identifies a key: equal material keeps the context. */
struct keyid {
	int set;
	enum suite_id suite;
	unsigned flags;
	size_t klen, slen, mlen;
	uint8_t k[SUITE_MAX_KEY_SALT + RTPSEC_MAX_MKI];
};

struct relay_comp {
	/* what a packet reads and writes: its first 128 bytes */
	struct net_addr peer;	/* len 0: unknown */
	int latched;
	unsigned cand_n;
	uint64_t peer_last_ms;	/* last good packet from `peer` */
	int fd;			/* -1: none (muxed RTCP, or not open) */
	uint8_t steered;	/* its port's slot is set (relay_steer()) */
	uint8_t watched;	/* its own socket is read */
	uint8_t moving;		/* in relay.moving[] */
	uint8_t hot;		/* over the flood rate in the last tick */
	struct net_addr local;
	struct relay_ctr ctr;	/* pkts .. last_ms: the hot counters */
	struct net_addr cand;
	uint64_t tick_pkts;	/* ctr.pkts at the last tick */
};

struct relay_fdref {
	struct relay_stream *s;
	uint8_t side, comp;
};

/*
 * What every packet reads comes first, so that a packet of a stream that
 * is cold in the cache costs few lines: a side's flags and key contexts
 * in its first 40 bytes, the stream's own in its first 16 (side 0's then
 * share that line, and side 1's start 1024 bytes in, on a line of its
 * own); what set-up and the timers read comes last.
 */
struct relay_side {
	_Alignas(16) int open;	/* 16: sizeof is 1008 */
	int mux, srtp;
	int ssrc_known;
	struct rtpsec *rx, *rx_old, *tx;
	struct relay_comp c[2];
	struct relay_fdref ref[2];
	struct keyid rxid, txid;
	uint8_t spare[16];	/* makes it 1008 bytes: see below */
};

struct relay_stream {
	struct relay *r;
	uint64_t last_ms;
	struct relay_side side[2];
	void *user;
	struct relay_stream *prev, *next;
	uint64_t created_ms;
	uint64_t told;		/* tick_no when on_timeout was called */
};
_Static_assert(offsetof(struct relay_stream, side[1]) == 1024,
    "side 1's first line is its own");

struct relay {
	struct ev_loop *loop;
	struct relay_config cfg;
	const struct logger *lg;
	struct relay_stream *head;
	size_t nstreams;
	uint16_t port_next;
	int64_t tick;
	uint64_t tick_no;
	struct relay_ctr gone[2];	/* counters of freed streams */
	struct uio *uio;		/* NULL: epoll + recvmmsg/sendmmsg */
	/* relay_steer(): the port range of each steered host delivered to
	 * one socket; byport[host * span + port - port_min] is the
	 * component bound there */
	struct steer *steer;
	struct relay_fdref **byport;
	unsigned span;
	uint64_t stray;			/* steered to a port not in use */
	uint64_t moved;			/* ports moved off steering (floods) */
	int raw[2];			/* relay_raw_send(): IPv4, IPv6; -1 */
	uint64_t raw_sent;		/* packets queued on them */
	/* ports being moved: unsteered, read from their own socket once
	 * the steering socket holds nothing older for them */
	struct relay_fdref *moving[RELAY_MOVING];
	unsigned nmoving;
	int waiter;			/* the uio drives the loop's waits */
	int busy;			/* the last wait found packets */
	struct uio_pkt upkts[NET_BATCH_MAX];
	struct relay_fdref *urefs[NET_BATCH_MAX];	/* their components */
	/* the one packet pool: single-threaded, flushed before reuse */
	struct net_pkt pkts[NET_BATCH_MAX];
	struct net_pkt *out[2][NET_BATCH_MAX];
	struct net_pkt outv[NET_BATCH_MAX];
	uint8_t mem[NET_BATCH_MAX][PKT_CAP];
};

static void on_tick(struct ev_loop *loop, uint64_t id, void *arg);
static void on_ring(struct ev_loop *loop, int fd, unsigned events, void *arg);
static void on_read(struct ev_loop *loop, int fd, unsigned events, void *arg);
static int ring_wait(struct ev_loop *loop, int epfd, int timeout_ms,
    int *ready, void *arg);

/* io_uring for `r`: driving the loop's waits if it has no waiter yet,
 * else watched through its eventfd. */
static int
ring_setup(struct relay *r)
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

struct relay *
relay_new(struct ev_loop *loop, const struct relay_config *cfg,
    const struct logger *lg, int *err)
{
	struct relay *r;

	if (loop == NULL || cfg == NULL || cfg->port_min > cfg->port_max) {
		if (err != NULL)
			*err = E_INVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		if (err != NULL)
			*err = E_NOMEM;
		return NULL;
	}
	r->loop = loop;
	r->cfg = *cfg;
	r->raw[0] = r->raw[1] = -1;
	r->lg = lg;
	if (r->cfg.budget == 0)
		r->cfg.budget = 64;
	if (r->cfg.batch == 0 || r->cfg.batch > NET_BATCH_MAX)
		r->cfg.batch = 32;
	if (r->cfg.relatch_count == 0)
		r->cfg.relatch_count = 8;
	if (r->cfg.relatch_quiet_ms == 0)
		r->cfg.relatch_quiet_ms = 2000;
	if (r->cfg.coalesce_pkts == 0)
		r->cfg.coalesce_pkts = 32;
	if (r->cfg.coalesce_us == 0)
		r->cfg.coalesce_us = 500;
	if (r->cfg.flood_pps == 0)
		r->cfg.flood_pps = 5000;
	/* the range, aligned to even RTP ports */
	if (r->cfg.port_min != 0) {
		if (r->cfg.port_min & 1)
			r->cfg.port_min++;
		if (r->cfg.port_max <= r->cfg.port_min) {
			free(r);
			if (err != NULL)
				*err = E_INVAL;
			return NULL;
		}
	}
	r->port_next = r->cfg.port_min;
	for (size_t i = 0; i < NET_BATCH_MAX; i++) {
		r->pkts[i].buf = r->mem[i];
		r->pkts[i].cap = RX_CAP;
	}
	if (r->cfg.io != RELAY_IO_EPOLL) {
		int ue = ring_setup(r);

		if (r->uio == NULL && r->cfg.io == RELAY_IO_URING) {
			free(r);
			if (err != NULL)
				*err = ue;
			return NULL;
		}
		if (r->uio == NULL)
			log_msg(lg, LOG_INFO, "io_uring unavailable (%s): "
			    "using epoll", sbk_strerror(ue));
	}
	r->tick = ev_timer_add(loop, 1000, on_tick, r);
	if (r->tick < 0) {
		if (err != NULL)
			*err = (int)r->tick;
		r->tick = 0;
		relay_free(r);
		return NULL;
	}
	return r;
}

void
relay_free(struct relay *r)
{
	if (r == NULL)
		return;
	while (r->head != NULL)
		relay_stream_free(r->head);
	if (r->tick > 0)
		(void)ev_timer_del(r->loop, (uint64_t)r->tick);
	if (r->uio != NULL) {
		if (r->waiter)
			ev_clear_waiter(r->loop);
		else
			(void)ev_fd_del(r->loop, uio_fd(r->uio));
		uio_free(r->uio);
	}
	steer_free(r->steer);
	for (int i = 0; i < 2; i++)
		if (r->raw[i] >= 0)
			close(r->raw[i]);
	free(r->byport);
	free(r);
}

int
relay_raw_send(struct relay *r)
{
	int e;

	if (r->uio == NULL)
		return E_STATE;
	if (r->raw[0] >= 0)
		return 0;
	if ((e = rawudp_open(AF_INET, &r->raw[0])) != 0)
		return e;
	if (rawudp_open(AF_INET6, &r->raw[1]) != 0)
		r->raw[1] = -1;
	for (int i = 0; i < 2; i++)
		if (r->raw[i] >= 0 && (e = uio_register(r->uio, r->raw[i]))
		    != 0) {
			for (int k = 0; k < 2; k++) {
				if (r->raw[k] >= 0) {
					uio_unwatch(r->uio, r->raw[k]);
					close(r->raw[k]);
				}
				r->raw[k] = -1;
			}
			return e;
		}
	return 0;
}

int
relay_steer(struct relay *r, const struct net_addr *hosts, unsigned n)
{
	int e = 0;

	if (r->uio == NULL || r->cfg.port_min == 0 || r->head != NULL)
		return E_STATE;
	if (r->steer != NULL || n == 0 || n > STEER_MAX_HOSTS)
		return E_INVAL;
	r->span = (unsigned)(r->cfg.port_max - r->cfg.port_min) + 1;
	r->byport = calloc((size_t)n * r->span, sizeof(*r->byport));
	if (r->byport == NULL)
		return E_NOMEM;
	r->steer = steer_new(hosts, n, r->cfg.port_min, r->cfg.port_max, &e);
	for (unsigned i = 0; e == 0 && i < n; i++)
		e = uio_watch(r->uio, steer_fd(r->steer, i),
		    ((uint64_t)i << 1) | 1);
	if (e != 0) {
		for (unsigned i = 0; r->steer != NULL && i < n; i++)
			uio_unwatch(r->uio, steer_fd(r->steer, i));
		steer_free(r->steer);
		r->steer = NULL;
		free(r->byport);
		r->byport = NULL;
	}
	return e;
}

struct relay_stream *
relay_stream_new(struct relay *r, void *user)
{
	/* on a line boundary: the layout above counts lines */
	struct relay_stream *s = aligned_alloc(64, (sizeof(*s) + 63) & ~63ul);

	if (s == NULL)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->r = r;
	s->user = user;
	for (int i = 0; i < 2; i++)
		for (int c = 0; c < 2; c++) {
			s->side[i].c[c].fd = -1;
			s->side[i].ref[c].s = s;
			s->side[i].ref[c].side = (uint8_t)i;
			s->side[i].ref[c].comp = (uint8_t)c;
		}
	s->created_ms = s->last_ms = ev_now_ms(r->loop);
	s->next = r->head;
	if (r->head != NULL)
		r->head->prev = s;
	r->head = s;
	r->nstreams++;
	return s;
}

/* Where the component bound at `local` is registered when its host is
 * steered (its port in the range), else NULL. */
static struct relay_fdref **
steer_slot(struct relay *r, const struct net_addr *local)
{
	int h = steer_host(r->steer, local);
	unsigned port = net_addr_port(local);

	if (h < 0 || port < r->cfg.port_min || port > r->cfg.port_max)
		return NULL;
	return &r->byport[(unsigned)h * r->span + port - r->cfg.port_min];
}

/* Start reading a component's socket: its own receive, or the steering
 * socket's packets for its port. */
static int
comp_watch(struct relay *r, struct relay_side *sd, int c)
{
	struct relay_comp *rc = &sd->c[c];
	struct relay_fdref **slot;
	int e;

	if (r->steer != NULL && (slot = steer_slot(r, &rc->local)) != NULL) {
		e = steer_port(r->steer, (unsigned)steer_host(r->steer,
		    &rc->local), net_addr_port(&rc->local), 1);
		if (e == 0) {
			*slot = &sd->ref[c];
			rc->steered = 1;
		}
		return e;
	}
	e = r->uio != NULL ? uio_watch(r->uio, rc->fd,
	    (uint64_t)(uintptr_t)&sd->ref[c]) :
	    ev_fd_add(r->loop, rc->fd, EV_READ, on_read, &sd->ref[c]);
	if (e == 0)
		rc->watched = 1;
	return e;
}

static struct relay_comp *
ref_comp(const struct relay_fdref *ref)
{
	return &ref->s->side[ref->side].c[ref->comp];
}

/*
 * Every tick: a component that received more than the flood rate since
 * the last one is hot (relay_raw_send(): it forwards from its port
 * socket). A steered port that did goes back to its own socket, whose buffer then takes the flood
 * alone instead of the steering socket's, shared by every stream. In two
 * steps, so that its packets stay in order (SRTP's replay window is
 * short): here it stops being steered, and its new packets wait in its
 * own socket; relay_moves() reads that socket once the steering socket
 * has been emptied of the older ones.
 */
static void
tick_floods(struct relay *r)
{
	for (struct relay_stream *s = r->head; s != NULL; s = s->next)
		for (int i = 0; i < 2; i++)
			for (int c = 0; c < 2; c++) {
				struct relay_side *sd = &s->side[i];
				struct relay_comp *rc = &sd->c[c];
				uint64_t n = rc->ctr.pkts - rc->tick_pkts;

				rc->tick_pkts = rc->ctr.pkts;
				/* what it forwards leaves from a socket hot
				 * with its own traffic, not the raw one */
				rc->hot = n > r->cfg.flood_pps;
				if (r->steer == NULL || rc->fd < 0 ||
				    !rc->steered ||
				    rc->watched || rc->moving ||
				    n <= r->cfg.flood_pps ||
				    r->nmoving == RELAY_MOVING)
					continue;
				if (steer_port(r->steer, (unsigned)steer_host(
				    r->steer, &rc->local),
				    net_addr_port(&rc->local), 0) != 0)
					continue;
				rc->moving = 1;
				/* its new packets wait in its own socket while
				 * the steering socket drains: as many as that
				 * may hold, or a loss run longer than SRTP's
				 * index estimate bridges (2^15) could follow */
				(void)setsockopt(rc->fd, SOL_SOCKET,
				    SO_RCVBUFFORCE, &(int){ STEER_RCVBUF },
				    sizeof(int));
				r->moving[r->nmoving++] = &sd->ref[c];
			}
}

/* Read the own sockets of ports being moved whose steering socket is
 * empty: nothing older can come after. */
static void
relay_moves(struct relay *r)
{
	for (unsigned i = 0; i < r->nmoving; ) {
		struct relay_fdref *ref = r->moving[i];
		struct relay_comp *rc = ref_comp(ref);
		int h = steer_host(r->steer, &rc->local);

		if (net_udp_pending(steer_fd(r->steer, (unsigned)h)) != 0 ||
		    uio_watch(r->uio, rc->fd,
		    (uint64_t)(uintptr_t)ref) != 0) {
			i++;
			continue;
		}
		rc->moving = 0;
		rc->watched = 1;
		r->moved++;
		r->moving[i] = r->moving[--r->nmoving];
	}
}

/* Stop reading a component's socket and close it. */
static void
comp_close(struct relay *r, struct relay_side *sd, int c)
{
	struct relay_comp *rc = &sd->c[c];
	struct relay_fdref **slot;

	if (rc->fd < 0)
		return;
	for (unsigned i = 0; rc->moving && i < r->nmoving; i++)
		if (r->moving[i] == &sd->ref[c])
			r->moving[i--] = r->moving[--r->nmoving];
	if (rc->steered) {
		slot = steer_slot(r, &rc->local);
		if (slot != NULL && *slot == &sd->ref[c])
			*slot = NULL;
		(void)steer_port(r->steer, (unsigned)steer_host(r->steer,
		    &rc->local), net_addr_port(&rc->local), 0);
	}
	if (rc->watched && r->uio != NULL)
		uio_unwatch(r->uio, rc->fd);
	else if (rc->watched)
		(void)ev_fd_del(r->loop, rc->fd);
	close(rc->fd);
	rc->fd = -1;
	rc->steered = rc->watched = rc->moving = 0;
}

static void
keyid_clear(struct keyid *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

static void
side_drop_keys(struct relay_side *sd)
{
	rtpsec_free(sd->rx);
	rtpsec_free(sd->rx_old);
	rtpsec_free(sd->tx);
	sd->rx = sd->rx_old = sd->tx = NULL;
	keyid_clear(&sd->rxid);
	keyid_clear(&sd->txid);
}

void
relay_stream_free(struct relay_stream *s)
{
	struct relay *r;

	if (s == NULL)
		return;
	r = s->r;
	for (int i = 0; i < 2; i++) {
		struct relay_side *sd = &s->side[i];

		for (int c = 0; c < 2; c++) {
			comp_close(r, sd, c);
			relay_ctr_add(&r->gone[c], &sd->c[c].ctr);
		}
		side_drop_keys(sd);
	}
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		r->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	r->nstreams--;
	free(s);
}

void *
relay_stream_user(const struct relay_stream *s)
{
	return s->user;
}

size_t
relay_nstreams(const struct relay *r)
{
	return r->nstreams;
}

uint64_t
relay_stream_last_ms(const struct relay_stream *s)
{
	return s->last_ms;
}

void
relay_ctr_add(struct relay_ctr *a, const struct relay_ctr *b)
{
	a->pkts += b->pkts;
	a->bytes += b->bytes;
	a->fwd_pkts += b->fwd_pkts;
	a->fwd_bytes += b->fwd_bytes;
	a->malformed += b->malformed;
	a->auth += b->auth;
	a->replay += b->replay;
	a->nokey += b->nokey;
	a->nopeer += b->nopeer;
	a->other += b->other;
	a->send_err += b->send_err;
	a->crypto_err += b->crypto_err;
	a->relatched += b->relatched;
	if (b->last_ms > a->last_ms)
		a->last_ms = b->last_ms;
}

void
relay_side_counters(const struct relay_stream *s, int side, int comp,
    struct relay_ctr *out)
{
	*out = s->side[side & 1].c[comp & 1].ctr;
}

void
relay_totals(const struct relay *r, struct relay_ctr *rtp,
    struct relay_ctr *rtcp)
{
	*rtp = r->gone[0];
	*rtcp = r->gone[1];
	if (r->uio != NULL)	/* reported by completions, not per stream */
		rtp->send_err += uio_send_errors(r->uio);
	for (const struct relay_stream *s = r->head; s != NULL; s = s->next)
		for (int i = 0; i < 2; i++) {
			relay_ctr_add(rtp, &s->side[i].c[0].ctr);
			relay_ctr_add(rtcp, &s->side[i].c[1].ctr);
		}
}

void
relay_foreach(struct relay *r, void (*fn)(struct relay_stream *, void *),
    void *arg)
{
	struct relay_stream *s = r->head, *n;

	for (; s != NULL; s = n) {
		n = s->next;
		fn(s, arg);
	}
}

/* ---- the packet path ---- */

static void
latch(struct relay *r, struct relay_comp *c, const struct net_addr *src,
    int authenticated)
{
	uint64_t now = ev_now_ms(r->loop);

	if (c->peer.len != 0 && net_addr_eq(&c->peer, src)) {
		c->latched = 1;
		c->cand_n = 0;
		c->peer_last_ms = now;
		return;
	}
	if (!authenticated) {
		/* plain side: learn only an unknown peer, never move it */
		if (c->peer.len == 0) {
			c->peer = *src;
			c->latched = 1;
			c->peer_last_ms = now;
		}
		return;
	}
	if (!c->latched) {
		if (c->peer.len != 0)
			c->ctr.relatched++;
		c->peer = *src;
		c->latched = 1;
		c->cand_n = 0;
		c->peer_last_ms = now;
		return;
	}
	if (now - c->peer_last_ms >= r->cfg.relatch_quiet_ms)
		goto move;
	if (c->cand_n > 0 && net_addr_eq(&c->cand, src)) {
		if (++c->cand_n >= r->cfg.relatch_count)
			goto move;
		return;
	}
	c->cand = *src;
	c->cand_n = 1;
	if (r->cfg.relatch_count <= 1)
		goto move;
	return;
move:
	c->peer = *src;
	c->cand_n = 0;
	c->peer_last_ms = now;
	c->ctr.relatched++;
}

/* Unprotect with the current receive context, then the previous one. */
static int
unprotect(struct relay_side *sd, int rtcp, uint8_t *p, size_t *len)
{
	int e;

	e = rtcp ? rtpsec_unprotect_rtcp(sd->rx, p, len) :
	    rtpsec_unprotect(sd->rx, p, len);
	if (e == 0) {
		if (sd->rx_old != NULL) {
			/* the new key works: the old one is done */
			rtpsec_free(sd->rx_old);
			sd->rx_old = NULL;
		}
		return 0;
	}
	if ((e == E_AUTH || e == E_NOTFOUND) && sd->rx_old != NULL) {
		int e2 = rtcp ? rtpsec_unprotect_rtcp(sd->rx_old, p, len) :
		    rtpsec_unprotect(sd->rx_old, p, len);

		if (e2 == 0 || e2 == E_REPLAY)
			return e2;
	}
	return e;
}

/*
 * Check, decrypt, re-encrypt one packet that arrived on side `a`, component
 * `comp` (for a muxed socket: RTP; the demux decides). Returns the
 * component to forward it on, or -1 to drop it (counted).
 */
static int
process(struct relay_stream *s, int a, int comp, struct net_pkt *p,
    size_t room)
{
	struct relay_side *sa = &s->side[a], *sb = &s->side[!a];
	struct relay_comp *ca = &sa->c[comp];
	struct slice v = slice_make(p->buf, p->len);
	enum rtp_kind k = rtp_classify(v);
	struct rtp_hdr rh;
	struct rtcp_hdr ch;
	int rtcp, e;
	size_t len;

	/* RFC 5761: RTCP may come on the RTP port whether or not mux was
	 * negotiated yet (an offerer that offered it may start early) */
	if (comp == RELAY_RTP && k == RTP_KIND_RTCP) {
		comp = RELAY_RTCP;
		ca = &sa->c[comp];
	}
	ca->ctr.pkts++;
	ca->ctr.bytes += p->len;
	if (k == RTP_KIND_STUN || k == RTP_KIND_DTLS) {
		ca->ctr.other++;
		return -1;
	}
	rtcp = comp == RELAY_RTCP;
	if (p->trunc || k != (rtcp ? RTP_KIND_RTCP : RTP_KIND_RTP))
		goto malformed;
	if (sa->srtp) {
		if (rtcp ? rtcp_parse_header(v, &ch) != 0 :
		    rtp_parse_header(v, &rh) != 0)
			goto malformed;
		if (sa->rx == NULL) {
			ca->ctr.nokey++;
			return -1;
		}
		len = p->len;
		e = unprotect(sa, rtcp, p->buf, &len);
		switch (e) {
		case 0:
			break;
		case E_AUTH:
		case E_NOTFOUND:	/* MKI not ours */
			ca->ctr.auth++;
			return -1;
		case E_REPLAY:
			ca->ctr.replay++;
			return -1;
		case E_SHORT:
		case E_SYNTAX:
			goto malformed;
		default:
			ca->ctr.crypto_err++;
			return -1;
		}
		p->len = len;
		if (!rtcp && !sa->ssrc_known) {
			sa->ssrc_known = 1;
			if (s->r->cfg.on_ssrc != NULL)
				s->r->cfg.on_ssrc(s, a, rh.ssrc, s->user);
		}
		latch(s->r, ca, &p->addr, 1);
	} else {
		if (rtcp ? rtcp_parse(v, 1, &ch) != 0 : rtp_parse(v, &rh) != 0)
			goto malformed;
		latch(s->r, ca, &p->addr, 0);
	}
	ca->ctr.last_ms = s->last_ms = ev_now_ms(s->r->loop);
	if (sb->srtp) {
		if (sb->tx == NULL) {
			ca->ctr.nokey++;
			return -1;
		}
		len = p->len;
		e = rtcp ? rtpsec_protect_rtcp(sb->tx, p->buf, &len, room) :
		    rtpsec_protect(sb->tx, p->buf, &len, room);
		if (e == E_REPLAY) {
			/* the plain sender repeated a sequence number */
			ca->ctr.replay++;
			return -1;
		}
		if (e != 0) {
			ca->ctr.crypto_err++;
			return -1;
		}
		p->len = len;
	}
	return comp;
malformed:
	ca->ctr.malformed++;
	return -1;
}

/* Where a packet that came in on side `a` goes out for component `comp`:
 * the other side's component (the RTP one when it is muxed): its socket,
 * local address and peer. */
static const struct relay_comp *
destination(struct relay_stream *s, int a, int comp)
{
	struct relay_side *sb = &s->side[!a];
	const struct relay_comp *o = &sb->c[sb->mux ? 0 : comp];

	return o->fd >= 0 && o->peer.len != 0 ? o : NULL;
}

static void
flush(struct relay *r, struct relay_stream *s, int a, int comp,
    struct net_pkt **v, size_t n)
{
	struct relay_comp *ca = &s->side[a].c[comp];
	const struct relay_comp *o = destination(s, a, comp);
	int sent;

	if (o == NULL) {
		ca->ctr.nopeer += n;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		r->outv[i] = *v[i];
		r->outv[i].addr = o->peer;
	}
	if (n == 1)
		sent = net_send(o->fd, &r->outv[0]) == 0 ? 1 : 0;
	else
		sent = net_send_batch(o->fd, r->outv, n);
	if (sent < 0)
		sent = 0;
	for (size_t i = 0; i < (size_t)sent; i++) {
		ca->ctr.fwd_pkts++;
		ca->ctr.fwd_bytes += r->outv[i].len;
	}
	ca->ctr.send_err += n - (size_t)sent;
}

/*
 * io_uring: completions from every socket at once. Each packet is
 * processed in its receive buffer and queued to be sent from it.
 */
static void
ring_one(struct relay *r, struct uio_pkt *u, struct relay_fdref *ref)
{
	struct relay_stream *s;
	struct net_pkt p = { u->buf, u->len, u->len, u->addr, u->trunc };
	const struct relay_comp *o;
	struct relay_comp *ca;
	struct net_addr to;
	int c, ofd, hl, raw = 0;

	if (ref == NULL) {
		r->stray++;
		uio_drop(r->uio, u);
		return;
	}
	s = ref->s;
	c = process(s, ref->side, ref->comp, &p, u->room);
	if (c < 0) {
		uio_drop(r->uio, u);
		return;
	}
	ca = &s->side[ref->side].c[c];
	if ((o = destination(s, ref->side, c)) == NULL) {
		ca->ctr.nopeer++;
		uio_drop(r->uio, u);
		return;
	}
	u->len = p.len;
	/* the raw socket spares a cold port socket; a flooded stream's
	 * is hot, and the kernel checksums for it (offload) */
	ofd = ca->hot ? -1 : r->raw[o->peer.u.sa.sa_family == AF_INET6];
	if (ofd >= 0 && (hl = rawudp_frame(u->buf, u->len, u->head,
	    &o->local, &o->peer)) > 0) {
		/* from the hot raw socket; its address takes no port */
		u->buf -= hl;
		u->len += (size_t)hl;
		to = o->peer;
		net_addr_set_port(&to, 0);
		raw = 1;
	} else {
		ofd = o->fd;
		to = o->peer;
	}
	if (uio_send(r->uio, ofd, u, &to) != 0) {
		ca->ctr.send_err++;
		return;
	}
	r->raw_sent += (uint64_t)raw;
	ca->ctr.fwd_pkts++;
	ca->ctr.fwd_bytes += p.len;
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

static void
on_read(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct relay_fdref *ref = arg;
	struct relay_stream *s = ref->s;
	struct relay *r = s->r;
	unsigned budget = r->cfg.budget;
	int a = ref->side;

	(void)loop;
	(void)events;
	while (budget > 0) {
		size_t want = budget < r->cfg.batch ? budget : r->cfg.batch;
		size_t nout[2] = { 0, 0 };
		int n;

		n = want == 1 ? (net_recv(fd, &r->pkts[0]) == 0 ? 1 : 0) :
		    net_recv_batch(fd, r->pkts, want);
		if (n <= 0)
			break;
		budget -= (unsigned)n;
		for (int i = 0; i < n; i++) {
			int c = process(s, a, ref->comp, &r->pkts[i], PKT_CAP);

			if (c >= 0)
				r->out[c][nout[c]++] = &r->pkts[i];
		}
		for (int c = 0; c < 2; c++)
			if (nout[c] > 0)
				flush(r, s, a, c, r->out[c], nout[c]);
		if ((size_t)n < want)
			break;
	}
}

/* ---- set-up ---- */

static int
open_comp(struct relay_stream *s, int side, int comp,
    const struct net_addr *a)
{
	struct relay_comp *c = &s->side[side].c[comp];
	int fd, e;

	if ((e = net_udp_bind(a, 0, &fd)) != 0)
		return e;
	/* room for a burst (a blasted stream, a descheduled relay); the
	 * kernel charges only what is queued */
	net_set_bufs(fd, 4 << 20, 1 << 20);
	if (net_local_addr(fd, &c->local) != 0) {
		close(fd);
		return E_IO;
	}
	c->fd = fd;
	return 0;
}

static void
close_side(struct relay_stream *s, int side)
{
	for (int c = 0; c < 2; c++)
		comp_close(s->r, &s->side[side], c);
	s->side[side].open = 0;
}

static int
try_ports(struct relay_stream *s, int side, const struct net_addr *host,
    uint16_t port, int mux)
{
	struct net_addr a = *host;
	int e;

	net_addr_set_port(&a, port);
	if ((e = open_comp(s, side, RELAY_RTP, &a)) != 0)
		return e;
	if (!mux) {
		if (port != 0)
			net_addr_set_port(&a, (uint16_t)(port + 1));
		if ((e = open_comp(s, side, RELAY_RTCP, &a)) != 0) {
			close_side(s, side);
			return e;
		}
	}
	return 0;
}

int
relay_side_open(struct relay_stream *s, int side, const struct net_addr *host,
    uint16_t port, int mux)
{
	struct relay *r = s->r;
	struct relay_side *sd = &s->side[side & 1];
	int e = E_LIMIT;

	side &= 1;
	if (sd->open)
		return E_STATE;
	if (port != 0 || r->cfg.port_min == 0) {
		if (port == 65535 && !mux)
			return E_RANGE;
		e = try_ports(s, side, host, port, mux);
	} else {
		unsigned span = (unsigned)(r->cfg.port_max - r->cfg.port_min) / 2
		    + 1;

		for (unsigned i = 0; i < span; i++) {
			uint16_t p = r->port_next;

			r->port_next = (uint16_t)(p + 2);
			if (r->port_next > r->cfg.port_max - (mux ? 0 : 1) ||
			    r->port_next < r->cfg.port_min)
				r->port_next = r->cfg.port_min;
			if (p + (mux ? 0 : 1) > r->cfg.port_max)
				continue;
			e = try_ports(s, side, host, p, mux);
			if (e == 0 || errno != EADDRINUSE)
				break;
			e = E_LIMIT;
		}
	}
	if (e != 0)
		return e;
	sd->mux = mux;
	for (int c = 0; c < (mux ? 1 : 2); c++) {
		if ((e = comp_watch(r, sd, c)) != 0) {
			close_side(s, side);
			return e;
		}
	}
	sd->open = 1;
	return 0;
}

int
relay_side_local(const struct relay_stream *s, int side, int comp,
    struct net_addr *a)
{
	const struct relay_side *sd = &s->side[side & 1];

	if (!sd->open)
		return E_STATE;
	*a = sd->c[sd->mux ? 0 : (comp & 1)].local;
	return 0;
}

int
relay_side_is_mux(const struct relay_stream *s, int side)
{
	return s->side[side & 1].mux;
}

int
relay_side_set_mux(struct relay_stream *s, int side, int mux)
{
	struct relay_side *sd = &s->side[side & 1];

	if (!mux && sd->c[RELAY_RTCP].fd < 0)
		return E_STATE;
	sd->mux = mux != 0;
	return 0;
}

void
relay_side_set_peer(struct relay_stream *s, int side,
    const struct net_addr *rtp, const struct net_addr *rtcp)
{
	struct relay_side *sd = &s->side[side & 1];

	for (int c = 0; c < 2; c++) {
		memset(&sd->c[c].peer, 0, sizeof(sd->c[c].peer));
		sd->c[c].latched = 0;
		sd->c[c].cand_n = 0;
	}
	if (rtp == NULL || net_addr_port(rtp) == 0)
		return;
	sd->c[0].peer = *rtp;
	if (rtcp != NULL && net_addr_port(rtcp) != 0) {
		sd->c[1].peer = *rtcp;
	} else {
		sd->c[1].peer = *rtp;
		if (!sd->mux && net_addr_port(rtp) < 65535)
			net_addr_set_port(&sd->c[1].peer,
			    (uint16_t)(net_addr_port(rtp) + 1));
	}
}

int
relay_side_peer(const struct relay_stream *s, int side, int comp,
    struct net_addr *a)
{
	const struct relay_comp *c = &s->side[side & 1].c[comp & 1];

	if (c->peer.len == 0)
		return E_NOTFOUND;
	*a = c->peer;
	return 0;
}

void
relay_side_set_srtp(struct relay_stream *s, int side, int srtp)
{
	struct relay_side *sd = &s->side[side & 1];

	if (!srtp)
		side_drop_keys(sd);
	sd->srtp = srtp != 0;
}

int
relay_side_is_srtp(const struct relay_stream *s, int side)
{
	return s->side[side & 1].srtp;
}

static void
keyid_make(struct keyid *k, const struct rtpsec_params *p)
{
	memset(k, 0, sizeof(*k));
	k->set = 1;
	k->suite = p->suite;
	k->flags = p->flags;
	k->klen = p->key_len < SUITE_MAX_KEY_SALT ? p->key_len : 0;
	k->slen = p->salt_len <= SUITE_MAX_KEY_SALT - k->klen ?
	    p->salt_len : 0;
	k->mlen = p->mki_len <= RTPSEC_MAX_MKI ? p->mki_len : 0;
	if (k->klen)
		memcpy(k->k, p->key, k->klen);
	if (k->slen)
		memcpy(k->k + k->klen, p->salt, k->slen);
	if (k->mlen)
		memcpy(k->k + k->klen + k->slen, p->mki, k->mlen);
}

static int
keyid_eq(const struct keyid *a, const struct keyid *b)
{
	return a->set && b->set && a->suite == b->suite &&
	    a->flags == b->flags && a->klen == b->klen &&
	    a->slen == b->slen && a->mlen == b->mlen &&
	    CRYPTO_memcmp(a->k, b->k, a->klen + a->slen + a->mlen) == 0;
}

int
relay_side_set_key(struct relay_stream *s, int side, enum rtpsec_dir dir,
    const struct rtpsec_params *p)
{
	struct relay_side *sd = &s->side[side & 1];
	struct keyid id;
	struct rtpsec *c;
	int e = 0;

	if (!sd->srtp)
		return E_STATE;
	keyid_make(&id, p);
	/* keyid: key 0; rtpsec_same_params: every key of a multi-MKI line */
	if (keyid_eq(&id, dir == RTPSEC_UNPROTECT ? &sd->rxid : &sd->txid) &&
	    rtpsec_same_params(dir == RTPSEC_UNPROTECT ? sd->rx : sd->tx, p)) {
		keyid_clear(&id);
		return 0;
	}
	c = rtpsec_new(p, dir, &e);
	if (c == NULL) {
		keyid_clear(&id);
		return e != 0 ? e : E_CRYPTO;
	}
	if (dir == RTPSEC_UNPROTECT) {
		rtpsec_free(sd->rx_old);
		sd->rx_old = sd->rx;
		sd->rx = c;
		sd->rxid = id;
		sd->ssrc_known = 0;
	} else {
		rtpsec_free(sd->tx);
		sd->tx = c;
		sd->txid = id;
	}
	keyid_clear(&id);
	return 1;
}

int
relay_side_has_key(const struct relay_stream *s, int side,
    enum rtpsec_dir dir)
{
	const struct relay_side *sd = &s->side[side & 1];

	return (dir == RTPSEC_UNPROTECT ? sd->rx : sd->tx) != NULL;
}

/* ---- timeouts ---- */

static void
on_tick(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct relay *r = arg;
	uint64_t now = ev_now_ms(loop);
	struct relay_stream *s;

	(void)id;
	r->tick = ev_timer_add(loop, 1000, on_tick, r);
	tick_floods(r);
	if (r->cfg.timeout_ms == 0 || r->cfg.on_timeout == NULL)
		return;
	/* The callback may free any streams (a whole call): start over after
	 * each one, skipping those already told this tick. */
	r->tick_no++;
again:
	for (s = r->head; s != NULL; s = s->next) {
		if (s->told == r->tick_no || now - s->last_ms < r->cfg.timeout_ms)
			continue;
		s->told = r->tick_no;
		r->cfg.on_timeout(s, s->user);
		goto again;
	}
}

/* ---- reporting ---- */

static int
ctr_line(struct buf *b, const char *what, const struct relay_ctr *c)
{
	return buf_printf(b, "  %-6s in %llu pkts %llu bytes, out %llu pkts, "
	    "dropped: auth %llu replay %llu malformed %llu nokey %llu "
	    "nopeer %llu other %llu senderr %llu crypto %llu; relatched %llu\n",
	    what, (unsigned long long)c->pkts, (unsigned long long)c->bytes,
	    (unsigned long long)c->fwd_pkts, (unsigned long long)c->auth,
	    (unsigned long long)c->replay, (unsigned long long)c->malformed,
	    (unsigned long long)c->nokey, (unsigned long long)c->nopeer,
	    (unsigned long long)c->other, (unsigned long long)c->send_err,
	    (unsigned long long)c->crypto_err,
	    (unsigned long long)c->relatched);
}

int
relay_summary(const struct relay *r, const char *const names[2],
    struct buf *b)
{
	struct relay_ctr rtp, rtcp;
	unsigned n = 0;
	int e = 0;

	for (const struct relay_stream *s = r->head; s != NULL && e == 0;
	    s = s->next, n++) {
		for (int i = 0; i < 2 && e == 0; i++) {
			const struct relay_side *sd = &s->side[i];
			char l[NET_ADDR_STRLEN] = "-", p[NET_ADDR_STRLEN] = "-";

			if (sd->open && net_addr_format(&sd->c[0].local, l,
			    sizeof(l)) != 0)
				l[0] = '\0';
			if (sd->c[0].peer.len != 0 && net_addr_format(
			    &sd->c[0].peer, p, sizeof(p)) != 0)
				p[0] = '\0';
			e = buf_printf(b, "stream %u %s: local %s peer %s%s %s%s\n",
			    n, names[i], l, p, sd->c[0].latched ? " (latched)" :
			    "", sd->srtp ? "srtp" : "rtp", sd->mux ? " mux" : "");
			if (e == 0)
				e = ctr_line(b, "rtp", &sd->c[0].ctr);
			if (e == 0)
				e = ctr_line(b, "rtcp", &sd->c[1].ctr);
		}
	}
	relay_totals(r, &rtp, &rtcp);
	if (e == 0)
		e = buf_printf(b, "total: %zu streams now\n", r->nstreams);
	if (e == 0)
		e = ctr_line(b, "rtp", &rtp);
	if (e == 0)
		e = ctr_line(b, "rtcp", &rtcp);
	if (e == 0 && r->steer != NULL)
		e = buf_printf(b, "steering: %llu ports moved to their own "
		    "socket (floods), %llu packets to ports not in use\n",
		    (unsigned long long)r->moved,
		    (unsigned long long)r->stray);
	if (e == 0 && r->raw[0] >= 0)
		e = buf_printf(b, "raw sockets: %llu packets sent from them\n",
		    (unsigned long long)r->raw_sent);
	return e;
}
