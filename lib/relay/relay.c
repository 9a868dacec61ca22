/* relay.c - streams of two sides: their sockets, keys, steering, timeouts
 * and counters (the packet path: relay_int.h; I/O: relay_uring.c,
 * relay_epoll.c). */
#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "relay/relay_int.h"
#include "relay/rawudp.h"

static void on_tick(struct ev_loop *loop, uint64_t id, void *arg);

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
		int ue = relay_uring_setup(r);

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
	relay_uring_free(r);
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
	    ev_fd_add(r->loop, rc->fd, EV_READ, relay_epoll_read,
	    &sd->ref[c]);
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
void
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
	rtpsec_free(sd->rtcp_rx);
	rtpsec_free(sd->rtcp_tx);
	sd->rtcp_rx = sd->rtcp_tx = NULL;
	sd->rtcp_apart = 0;
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
			relay_ctr_add(&r->gone[i][c], &sd->c[c].ctr);
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
	struct relay_ctr p, c;

	relay_totals_side(r, 0, rtp, rtcp);
	relay_totals_side(r, 1, &p, &c);
	relay_ctr_add(rtp, &p);
	relay_ctr_add(rtcp, &c);
	if (r->uio != NULL)	/* reported by completions, not per stream */
		rtp->send_err += uio_send_errors(r->uio);
}

void
relay_totals_side(const struct relay *r, int side, struct relay_ctr *rtp,
    struct relay_ctr *rtcp)
{
	side &= 1;
	*rtp = r->gone[side][0];
	*rtcp = r->gone[side][1];
	for (const struct relay_stream *s = r->head; s != NULL; s = s->next) {
		relay_ctr_add(rtp, &s->side[side].c[0].ctr);
		relay_ctr_add(rtcp, &s->side[side].c[1].ctr);
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
	if (sd->mux)
		relay_side_rtcp_apart(s, side, 0);
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
relay_side_set_other(struct relay_stream *s, int side, relay_other_fn *fn,
    void *arg)
{
	struct relay_side *sd = &s->side[side & 1];

	sd->other = fn;
	sd->other_arg = fn != NULL ? arg : NULL;
}

int
relay_side_sendto(struct relay_stream *s, int side, int comp,
    const uint8_t *p, size_t len, const struct net_addr *to)
{
	const struct relay_side *sd = &s->side[side & 1];
	int fd = sd->c[comp & 1].fd >= 0 ? sd->c[comp & 1].fd : sd->c[0].fd;

	if (fd < 0 || to == NULL || to->len == 0)
		return E_STATE;
	if (sendto(fd, p, len, 0, (const struct sockaddr *)&to->u,
	    to->len) < 0)
		return E_IO;
	return 0;
}

void
relay_side_set_latched(struct relay_stream *s, int side, int comp,
    const struct net_addr *a)
{
	struct relay_side *sd = &s->side[side & 1];

	for (int c = 0; c < 2; c++) {
		struct relay_comp *rc = &sd->c[c];

		if (c != (comp & 1) && !sd->mux)
			continue;
		if (rc->peer.len != 0 && !net_addr_eq(&rc->peer, a))
			rc->ctr.relatched++;
		rc->peer = *a;
		rc->latched = 1;
		rc->cand_n = 0;
		rc->peer_last_ms = ev_now_ms(s->r->loop);
	}
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
	k->klen = (uint8_t)(p->key_len < SUITE_MAX_KEY_SALT ? p->key_len : 0);
	k->slen = (uint8_t)(p->salt_len <= SUITE_MAX_KEY_SALT -
	    (size_t)k->klen ? p->salt_len : 0);
	k->mlen = (uint8_t)(p->mki_len <= RTPSEC_MAX_MKI ? p->mki_len : 0);
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

void
relay_side_rtcp_apart(struct relay_stream *s, int side, int on)
{
	struct relay_side *sd = &s->side[side & 1];

	if (!on) {
		rtpsec_free(sd->rtcp_rx);
		rtpsec_free(sd->rtcp_tx);
		sd->rtcp_rx = sd->rtcp_tx = NULL;
	}
	sd->rtcp_apart = on != 0;
}

int
relay_side_is_rtcp_apart(const struct relay_stream *s, int side)
{
	return s->side[side & 1].rtcp_apart;
}

int
relay_side_set_rtcp_key(struct relay_stream *s, int side, enum rtpsec_dir dir,
    const struct rtpsec_params *p)
{
	struct relay_side *sd = &s->side[side & 1];
	struct rtpsec *c, **slot;
	int e = 0;

	if (!sd->srtp || !sd->rtcp_apart || sd->mux)
		return E_STATE;
	if ((c = rtpsec_new(p, dir, &e)) == NULL)
		return e != 0 ? e : E_CRYPTO;
	slot = dir == RTPSEC_UNPROTECT ? &sd->rtcp_rx : &sd->rtcp_tx;
	rtpsec_free(*slot);
	*slot = c;
	return 0;
}

int
relay_side_has_rtcp_key(const struct relay_stream *s, int side,
    enum rtpsec_dir dir)
{
	const struct relay_side *sd = &s->side[side & 1];

	return (dir == RTPSEC_UNPROTECT ? sd->rtcp_rx : sd->rtcp_tx) != NULL;
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

#define CTR_FMT "in_packets=%llu in_bytes=%llu forwarded=%llu " \
	"drop_auth=%llu drop_replay=%llu drop_malformed=%llu " \
	"drop_nokey=%llu drop_nopeer=%llu drop_other=%llu send_errors=%llu " \
	"crypto_errors=%llu relatched=%llu"
#define CTR_ARGS(c) \
	(unsigned long long)(c)->pkts, (unsigned long long)(c)->bytes, \
	(unsigned long long)(c)->fwd_pkts, (unsigned long long)(c)->auth, \
	(unsigned long long)(c)->replay, (unsigned long long)(c)->malformed, \
	(unsigned long long)(c)->nokey, (unsigned long long)(c)->nopeer, \
	(unsigned long long)(c)->other, (unsigned long long)(c)->send_err, \
	(unsigned long long)(c)->crypto_err, (unsigned long long)(c)->relatched

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
			e = log_summary(r->lg, b, "stream=%u side=%s rtp local=%s "
			    "peer=%s latched=%d srtp=%d mux=%d " CTR_FMT, n,
			    names[i], l, p, sd->c[0].latched != 0,
			    sd->srtp != 0, sd->mux != 0,
			    CTR_ARGS(&sd->c[0].ctr));
			if (e == 0)
				e = log_summary(r->lg, b, "stream=%u side=%s rtcp "
				    CTR_FMT, n, names[i],
				    CTR_ARGS(&sd->c[1].ctr));
		}
	}
	relay_totals(r, &rtp, &rtcp);
	if (e == 0)
		e = log_summary(r->lg, b, "relay streams=%zu", r->nstreams);
	if (e == 0)
		e = log_summary(r->lg, b, "rtp " CTR_FMT, CTR_ARGS(&rtp));
	if (e == 0)
		e = log_summary(r->lg, b, "rtcp " CTR_FMT, CTR_ARGS(&rtcp));
	if (e == 0 && r->steer != NULL)
		e = log_summary(r->lg, b, "steering moved=%llu stray=%llu",
		    (unsigned long long)r->moved,
		    (unsigned long long)r->stray);
	if (e == 0 && r->raw[0] >= 0)
		e = log_summary(r->lg, b, "raw sent=%llu",
		    (unsigned long long)r->raw_sent);
	return e;
}
