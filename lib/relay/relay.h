/* relay.h - the media data plane: streams of two sides, SRTP <-> RTP. */
#ifndef SBK_RELAY_H
#define SBK_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/ev.h"
#include "base/log.h"
#include "base/net.h"
#include "media/rtpsec.h"

/*
 * A relay moves packets between the two sides of each of its streams.
 * A stream is one media line of a call: side 0 and side 1, each with an
 * RTP socket and an RTCP socket (or one socket for both: rtcp-mux, RFC
 * 5761), each either SRTP (packets are unprotected on the way in and
 * protected on the way out with that side's keys) or plain RTP. A packet
 * read on one side is checked, decrypted if that side is SRTP, encrypted if
 * the other side is SRTP, and sent from the other side's socket to that
 * side's peer.
 *
 * Checks, in order; a packet failing one is dropped and counted, never
 * forwarded: truncated or not RTP/RTCP for its port (malformed); header
 * validation (lib/rtp: version, CSRC count, extension length; padding and
 * compound structure for plain packets) (malformed); SRTP side without a
 * receive key yet, e.g. early media before the answer (nokey: dropped
 * quietly); authentication (auth) and replay (replay); the other side's
 * send key missing (nokey) or its peer unknown (nopeer).
 *
 * Latching (symmetric RTP), per side and component: on an SRTP side the
 * peer is learned from the first packet that AUTHENTICATES, whatever the
 * SDP said (mobile clients sit behind NAT). Once latched it moves to a new
 * source only when that source sends `relatch_count` consecutive
 * authenticated packets with none from the latched address in between, or
 * when the latched address has been silent for `relatch_quiet_ms` and the
 * new source's packet authenticates. Unauthenticated packets never move it.
 * On a plain side (nothing can be authenticated) the peer is learned from
 * the first packet only when no peer was given, and never moves after.
 * relay_side_set_peer() (a new SDP) sets the peer and forgets the latch.
 *
 * I/O: with io_uring (lib/uio) every socket has a multishot receive armed
 * and packets from all sockets are reaped, processed in their receive
 * buffers and sent in batches: a few system calls per batch instead of
 * two per packet. With epoll, each readable socket is read with recvmmsg
 * and written with sendmmsg.
 *
 * Wake-ups: with io_uring the relay drives the loop's waiting (ev
 * waiter): one io_uring_enter() submits the last batch's sends and waits
 * for the next batch, and the loop's epoll descriptor (control sockets,
 * signals) is watched by a poll on the ring, timers by the wait's
 * timeout. While packets flow, each wait returns when `coalesce_pkts`
 * have arrived or `coalesce_us` have passed, whichever is first, so one
 * wake-up carries many packets even when each socket has one: that
 * bounds the latency added to a packet (and to a control request) by
 * coalesce_us. After a wait that found nothing the relay is idle and the
 * next wait returns at the first packet. When the loop has a waiter
 * already (a second relay on it), the ring is watched through an eventfd
 * and every wake-up takes what is there.
 *
 * Steering (relay_steer()): the ports of the range arrive on one socket
 * per host. A flood on one port would fill that socket's buffer and take
 * every stream's packets with it: a port that receives more than
 * `flood_pps` packets in a second (a tick) goes back to its own socket for
 * the rest of its life, so a flood starves the others for at most a tick.
 *
 * Fairness: with epoll each readable socket gets at most `budget` packets
 * per loop iteration (level-triggered epoll calls it again next time), so
 * a flood on one stream delays the others by at most one budget. With
 * io_uring packets are taken in arrival order from one shared pool of
 * 8192 buffers, each returned as soon as its send completes; when a flood
 * empties the pool, receives stop (ENOBUFS) and are re-armed, all of them,
 * after the batch, while every socket's packets wait in its own socket
 * buffer: others are delayed by a batch, not starved.
 *
 * Ownership: the relay borrows the loop; it owns its streams, their
 * sockets and crypto contexts (relay_free() frees them all). A stream is
 * freed with relay_stream_free(), or by the relay. No allocation, system
 * call other than recvmmsg/sendmmsg (epoll), or logging happens per
 * packet.
 */
struct relay;
struct relay_stream;

enum { RELAY_RTP = 0, RELAY_RTCP = 1 };

/* Counters of one side and component: what arrived there. */
struct relay_ctr {
	uint64_t pkts, bytes;		/* received on this socket */
	uint64_t fwd_pkts, fwd_bytes;	/* forwarded to the other side */
	uint64_t last_ms;		/* monotonic ms of the last good packet */
	uint64_t malformed, auth, replay, nokey, nopeer, other;
	uint64_t send_err, crypto_err;
	uint64_t relatched;		/* times the peer moved */
};

/* How packets are read and written. */
enum relay_io {
	RELAY_IO_AUTO = 0,	/* io_uring if the kernel has it, else epoll */
	RELAY_IO_EPOLL,		/* epoll + recvmmsg/sendmmsg per socket */
	RELAY_IO_URING,		/* io_uring across sockets (lib/uio), or fail */
};

struct relay_config {
	enum relay_io io;
	uint16_t port_min, port_max;	/* 0, 0: the kernel picks ports */
	unsigned budget;		/* packets per socket per wake-up */
	unsigned batch;			/* recvmmsg/sendmmsg batch (<= 64) */
	/* io_uring wake-ups, see above: 0: defaults 32 packets, 500 us;
	 * coalesce_pkts 1: no coalescing (each wait returns at once) */
	unsigned coalesce_pkts;
	unsigned coalesce_us;
	/* relay_steer(): a port receiving more packets than this in a
	 * second goes back to its own socket; 0: default 5000 */
	unsigned flood_pps;
	unsigned relatch_count;		/* see above; 0: default 8 */
	uint64_t relatch_quiet_ms;	/* see above; 0: default 2000 */
	uint64_t timeout_ms;		/* no media this long: on_timeout */
	/* A stream timed out. The callee normally frees it (and its call). */
	void (*on_timeout)(struct relay_stream *s, void *user);
	/* The first SSRC authenticated on an SRTP side (for key logs). */
	void (*on_ssrc)(struct relay_stream *s, int side, uint32_t ssrc,
	    void *user);
	/* Every RTCP packet that arrived on `side` and passed the checks,
	 * in clear (after SRTCP unprotect), from `src`, before it is
	 * forwarded (HEP export; NULL: none, the default). `rtcp` is
	 * borrowed for the call. */
	void (*on_rtcp)(struct relay_stream *s, int side, struct slice rtcp,
	    const struct net_addr *src, void *user);
};

/*
 * A new relay on `loop`. `cfg` is copied; `lg` (may be NULL) is borrowed
 * and must outlive the relay. NULL with *err on failure.
 */
struct relay *relay_new(struct ev_loop *loop, const struct relay_config *cfg,
    const struct logger *lg, int *err) WUR;
/* Frees every stream (closing its sockets) and the relay. NULL: no-op. */
void relay_free(struct relay *r);

/*
 * Receive the whole port range of `hosts` (addresses; ports ignored) on
 * one socket per host (lib/steer: a BPF sk_lookup program), so a wake-up
 * reads a few hot sockets instead of one cold socket per packet; streams
 * still send from their own port sockets. Only with io_uring and a port
 * range, before the first stream: E_STATE otherwise. Sides opened on other
 * hosts are read as before. Errors of steer_new() (E_PERM without
 * CAP_BPF/CAP_NET_ADMIN, E_UNSUPPORTED): the relay is unchanged.
 */
int relay_steer(struct relay *r, const struct net_addr *hosts, unsigned n)
    WUR;

/*
 * Send every packet that fits (RAWUDP_MAX_PAYLOAD) from one raw socket
 * per address family (lib/rawudp), the IP and UDP headers written into
 * the receive buffer's head room, instead of from the cold port socket of
 * each stream; packets from a wildcard-bound port still leave from it.
 * Only with io_uring: E_STATE otherwise. E_PERM without CAP_NET_RAW (the
 * relay is unchanged); IPv6 alone failing leaves IPv6 on port sockets.
 */
int relay_raw_send(struct relay *r) WUR;

/* A new stream with no sockets yet; `user` is handed to the callbacks. */
struct relay_stream *relay_stream_new(struct relay *r, void *user) WUR;
/* Close its sockets, wipe its keys, free it. NULL does nothing. */
void relay_stream_free(struct relay_stream *s);
void *relay_stream_user(const struct relay_stream *s);

/*
 * Open the sockets of `side` on host `host` (its port is ignored): with
 * `port` non-zero, RTP on `port` and RTCP on `port + 1` (or only `port`
 * with `mux`); with `port` 0, from the relay's port range (an even RTP
 * port and the odd one above it, trying the range round-robin) or, with no
 * range, wherever the kernel likes. E_LIMIT when the range is exhausted,
 * E_IO (errno) otherwise, E_STATE if the side is open already.
 */
int relay_side_open(struct relay_stream *s, int side,
    const struct net_addr *host, uint16_t port, int mux) WUR;
/* Local address of `side`'s socket for `comp` (the RTP one when muxed). */
int relay_side_local(const struct relay_stream *s, int side, int comp,
    struct net_addr *a) WUR;
int relay_side_is_mux(const struct relay_stream *s, int side);
/*
 * Switch rtcp-mux towards `side` (RTCP sent from the RTP socket to the RTP
 * peer). RTCP arriving on the RTP socket is always taken (RFC 5761). Off
 * needs an RTCP socket (opened with mux 0): E_STATE.
 */
int relay_side_set_mux(struct relay_stream *s, int side, int mux) WUR;

/*
 * Where to send `side`'s packets: RTP to `rtp`, RTCP to `rtcp` (NULL: the
 * RTP address with port + 1, or the RTP address itself when muxed). A NULL
 * `rtp` (or one with port 0) clears the peer so it is learned. Forgets any
 * latch (a new SDP from that side).
 */
void relay_side_set_peer(struct relay_stream *s, int side,
    const struct net_addr *rtp, const struct net_addr *rtcp);
/* The current peer (latched or given) for `comp`; E_NOTFOUND if none. */
int relay_side_peer(const struct relay_stream *s, int side, int comp,
    struct net_addr *a) WUR;

/*
 * Make `side` an SRTP side (srtp 1) or a plain one (srtp 0). Going plain
 * drops its keys. An SRTP side without keys drops what it receives (nokey)
 * until relay_side_set_key() gives them.
 */
void relay_side_set_srtp(struct relay_stream *s, int side, int srtp);
int relay_side_is_srtp(const struct relay_stream *s, int side);

/*
 * Set the receive key (RTPSEC_UNPROTECT: what `side` sends us) or the send
 * key (RTPSEC_PROTECT: what we send `side`) of an SRTP side. The same key
 * as now (suite, key, salt, MKI, flags) keeps the context and its
 * rollover/replay state: returns 0. A different key makes a new context
 * (returns 1); for receiving, the previous context is kept to
 * authenticate late packets until the new one has authenticated one.
 * Errors as rtpsec_new(); E_STATE if the side is not SRTP.
 */
int relay_side_set_key(struct relay_stream *s, int side, enum rtpsec_dir dir,
    const struct rtpsec_params *p) WUR;
/* Is the key for `dir` known? */
int relay_side_has_key(const struct relay_stream *s, int side,
    enum rtpsec_dir dir);

/*
 * SRTCP keyed apart from SRTP on `side` (DTLS-SRTP without rtcp-mux: RFC
 * 5764 4.1 runs a handshake on each component, and the RTCP one's keys
 * protect SRTCP). With `on` 1, RTCP from and to `side` is unprotected and
 * protected only with the keys of relay_side_set_rtcp_key() (nokey until
 * they are given); RTP keeps relay_side_set_key()'s. With 0 (and when
 * rtcp-mux is switched on), RTCP goes back to the RTP keys and the RTCP
 * ones are dropped. Going plain drops them too.
 */
void relay_side_rtcp_apart(struct relay_stream *s, int side, int on);
int relay_side_is_rtcp_apart(const struct relay_stream *s, int side);
/* Set the SRTCP key of `dir` (a new context each time, no previous one
 * kept). 0, rtpsec_new()'s errors, E_STATE when the side is not SRTP,
 * muxed or not apart. */
int relay_side_set_rtcp_key(struct relay_stream *s, int side,
    enum rtpsec_dir dir, const struct rtpsec_params *p) WUR;
int relay_side_has_rtcp_key(const struct relay_stream *s, int side,
    enum rtpsec_dir dir);

/*
 * The slow path of `side` (ICE-lite and DTLS-SRTP, lib/relay/webrtc.h):
 * STUN and DTLS datagrams (RFC 7983: first byte 0..3 and 20..63) that
 * arrive on its sockets, which the relay otherwise drops (counted as
 * `other`, as they still are), are handed to `fn` with the component they
 * came on (RTP for a muxed socket), the bytes and the source, before the
 * relay's buffer is reused. `fn` may send (relay_side_sendto()), move the
 * peer (relay_side_set_latched()) and set keys, not free the stream. NULL
 * `fn`: dropped again. Streams without it pay nothing per packet beyond
 * the classification they already had.
 */
typedef void relay_other_fn(struct relay_stream *s, int side, int comp,
    const uint8_t *p, size_t len, const struct net_addr *src, void *arg);
void relay_side_set_other(struct relay_stream *s, int side,
    relay_other_fn *fn, void *arg);
/*
 * Send `len` bytes to `to` from `side`'s own socket for `comp` (the RTP
 * one when muxed): one sendto(), for the slow path, whatever the engine.
 * 0, E_STATE (not open), E_IO (errno).
 */
int relay_side_sendto(struct relay_stream *s, int side, int comp,
    const uint8_t *p, size_t len, const struct net_addr *to);
/*
 * Make `a` the latched peer of `side`'s `comp` (an ICE-nominated pair, or
 * the source a DTLS handshake finished from): media go there at once, and
 * it moves again only as latching says (see above). With rtcp-mux both
 * components move. Counted as relatched when it moved.
 */
void relay_side_set_latched(struct relay_stream *s, int side, int comp,
    const struct net_addr *a);

/* Counters of `side`, component `comp`. */
void relay_side_counters(const struct relay_stream *s, int side, int comp,
    struct relay_ctr *out);
/* All counters of all streams ever, added up (RTP and RTCP apart). */
void relay_totals(const struct relay *r, struct relay_ctr *rtp,
    struct relay_ctr *rtcp);
/* The same for the packets that arrived on one side (0 or 1), without
 * io_uring's send errors (relay_totals() has them, on RTP). */
void relay_totals_side(const struct relay *r, int side, struct relay_ctr *rtp,
    struct relay_ctr *rtcp);
/* Monotonic ms of the last good packet of the stream (either side). */
uint64_t relay_stream_last_ms(const struct relay_stream *s);
size_t relay_nstreams(const struct relay *r);

/* Call fn for every stream (fn may free the stream it is given). */
void relay_foreach(struct relay *r,
    void (*fn)(struct relay_stream *s, void *arg), void *arg);

/*
 * The summary, one line per block, "summary: " then key=value pairs: per
 * stream and side its addresses and RTP counters, and its RTCP counters;
 * then the totals ("summary: relay streams=", "summary: rtp ...", "summary:
 * rtcp ...", steering, raw sockets). The lines go to the relay's logger
 * as LOG_INFO whatever its level (a summary is asked for), or, without a
 * logger, are appended to `b` (the caller prints them). `names` names side 0 and 1 (e.g. "outside", "inside").
 * Returns 0 or E_BIG/E_NOMEM.
 */
int relay_summary(const struct relay *r, const char *const names[2],
    struct buf *b) WUR;

struct metrics_out;
/* A metrics_collect_fn (arg: the relay; relay_obs.c): streams open,
 * packets and bytes by side, component and result, read from the
 * counters above at scrape time (relay_totals_side()). */
void relay_metrics(void *arg, struct metrics_out *o);

/* Add two counter sets (a += b). */
void relay_ctr_add(struct relay_ctr *a, const struct relay_ctr *b);

#endif
