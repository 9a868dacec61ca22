/* relay_int.h - the relay's parts: its structures and the packet path
 * that relay.c (streams, sides, keys, the API), relay_uring.c and
 * relay_epoll.c (its two I/O engines) share. Internal to lib/relay. */
#ifndef SBK_RELAY_INT_H
#define SBK_RELAY_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "relay/relay.h"
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
	uint8_t klen, slen, mlen;	/* <= 46, 46, 128 */
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
	/* relay_side_set_other(): STUN and DTLS */
	relay_other_fn *other;
	void *other_arg;
	/* relay_side_rtcp_apart(): SRTCP keyed apart from SRTP (DTLS-SRTP
	 * without rtcp-mux, RFC 5764 4.1: the RTCP component's own
	 * association). Read only for RTCP packets, and only when set:
	 * RTP never reads this line. */
	int rtcp_apart;
	struct rtpsec *rtcp_rx, *rtcp_tx;
	uint8_t spare[24];	/* 1008 in all */
};
_Static_assert(sizeof(struct relay_side) == 1008,
    "a side is 1008 bytes: the stream's 16 and side 0 fill 1024");

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
	struct relay_ctr gone[2][2];	/* freed streams': [side][comp] */
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

/* relay_uring.c: io_uring for `r` (r->uio), or an error and r->uio NULL;
 * and its undoing. */
int relay_uring_setup(struct relay *r);
void relay_uring_free(struct relay *r);
/* relay_epoll.c: a component's socket is readable (ev callback; `arg` is
 * its struct relay_fdref). */
void relay_epoll_read(struct ev_loop *loop, int fd, unsigned events,
    void *arg);
/* relay.c: read the own sockets of ports being moved off steering. */
void relay_moves(struct relay *r);

/*
 * The packet path, shared by both engines. Inline, as when they were one
 * file: it runs for every packet.
 */

static inline void
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
static inline int
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
static inline int
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
		if (sa->other != NULL)	/* the slow path (WebRTC) */
			sa->other(s, a, comp, p->buf, p->len, &p->addr,
			    sa->other_arg);
		return -1;
	}
	rtcp = comp == RELAY_RTCP;
	if (p->trunc || k != (rtcp ? RTP_KIND_RTCP : RTP_KIND_RTP))
		goto malformed;
	if (sa->srtp) {
		if (rtcp ? rtcp_parse_header(v, &ch) != 0 :
		    rtp_parse_header(v, &rh) != 0)
			goto malformed;
		len = p->len;
		if (rtcp && sa->rtcp_apart) {	/* its own keys (cold) */
			if (sa->rtcp_rx == NULL) {
				ca->ctr.nokey++;
				return -1;
			}
			e = rtpsec_unprotect_rtcp(sa->rtcp_rx, p->buf, &len);
		} else {
			if (sa->rx == NULL) {
				ca->ctr.nokey++;
				return -1;
			}
			e = unprotect(sa, rtcp, p->buf, &len);
		}
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
	if (rtcp && s->r->cfg.on_rtcp != NULL)	/* clear here, both ways */
		s->r->cfg.on_rtcp(s, a, slice_make(p->buf, p->len), &p->addr,
		    s->user);
	ca->ctr.last_ms = s->last_ms = ev_now_ms(s->r->loop);
	if (sb->srtp) {
		struct rtpsec *tx = rtcp && sb->rtcp_apart ? sb->rtcp_tx :
		    sb->tx;

		if (tx == NULL) {
			ca->ctr.nokey++;
			return -1;
		}
		len = p->len;
		e = rtcp ? rtpsec_protect_rtcp(tx, p->buf, &len, room) :
		    rtpsec_protect(tx, p->buf, &len, room);
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
static inline const struct relay_comp *
destination(struct relay_stream *s, int a, int comp)
{
	struct relay_side *sb = &s->side[!a];
	const struct relay_comp *o = &sb->c[sb->mux ? 0 : comp];

	return o->fd >= 0 && o->peer.len != 0 ? o : NULL;
}

/*
 * The tail of both engines: `n` packets that arrived on side `a` and were
 * processed for component `comp` (process()) go to the other side's
 * peer. `send` is the engine's way of sending them from `from`'s stream
 * to `to`: it returns how many left and sets *bytes to their size
 * (without any header it framed them in). What happened is counted on
 * `from`. Returns the number sent, or -1 when there is no peer to send
 * to (counted as nopeer): the packets are still the caller's.
 *
 * Inline with a constant `send`, the compiler makes the call direct and
 * inlines it: no indirect call per packet.
 */
typedef size_t relay_send_fn(struct relay *r, const struct relay_comp *from,
    const struct relay_comp *to, size_t n, void *arg, size_t *bytes);

static inline int
relay_forward(struct relay *r, struct relay_stream *s, int a, int comp,
    size_t n, relay_send_fn *send, void *arg)
{
	struct relay_comp *ca = &s->side[a].c[comp];
	const struct relay_comp *o = destination(s, a, comp);
	size_t sent, bytes = 0;

	if (o == NULL) {
		ca->ctr.nopeer += n;
		return -1;
	}
	sent = send(r, ca, o, n, arg, &bytes);
	ca->ctr.fwd_pkts += sent;
	ca->ctr.fwd_bytes += bytes;
	if (sent < n)
		ca->ctr.send_err += n - sent;
	return (int)sent;
}

#endif
