/* uio.h - batched UDP receive and send across many sockets over io_uring. */
#ifndef SBK_UIO_H
#define SBK_UIO_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/net.h"

/*
 * One io_uring with a ring of provided receive buffers. Every watched
 * socket has a multishot recvmsg armed on it, so datagrams from all sockets
 * arrive as completions that one uio_poll() reaps, and every send queued
 * with uio_send() leaves with one uio_submit(): a few system calls per
 * batch of packets however many sockets they belong to (with epoll it is
 * at least one recv and one send per packet when each socket has one).
 *
 * Waiting: either the caller blocks in uio_wait() (with UIO_WAIT the
 * kernel then handles arrivals in batches, only when uio_wait() is called:
 * one wake-up for many packets, however many sockets they came on), or
 * it watches uio_fd() in its own event loop and calls uio_poll() when
 * that is readable. uio_poll() takes what is ready without entering the
 * kernel.
 *
 * Ownership: the uio owns its ring and buffers; it borrows the sockets
 * (uio_unwatch() before the caller closes one: it registers them with the
 * ring, as fixed files where the descriptor limit allows, so that the
 * kernel takes no file reference per operation, and unwatching drops
 * every reference the ring holds). A received packet's
 * buffer belongs to the caller until it hands it back with uio_send()
 * (returned when the send completes) or uio_drop(). Completions that
 * arrive for a socket after uio_unwatch() are discarded here.
 */
struct uio;

/* A received datagram. `buf` has `room` bytes from its start, so a packet
 * may grow in place (SRTP protect) up to `room`. */
struct uio_pkt {
	uint64_t tag;		/* what uio_watch() was given */
	uint8_t *buf;
	size_t len;
	size_t room;
	size_t head;		/* bytes before `buf` that are free to
				 * overwrite (headers to prepend) */
	struct net_addr addr;	/* source */
	struct net_addr dst;	/* destination, when the socket reports it
				 * (IP_RECVORIGDSTADDR); else len 0 */
	int trunc;		/* the datagram did not fit */
	uint32_t bid;		/* the buffer (internal) */
};

/* uio_new() flags */
enum {
	/* Completions are collected only by uio_wait(), always from the
	 * thread that made the uio (io_uring DEFER_TASKRUN where the kernel
	 * has it): no uio_fd(). */
	UIO_WAIT = 1,
	/* Keep room in every buffer for the destination address, reported
	 * in uio_pkt.dst for sockets with IP_RECVORIGDSTADDR set. */
	UIO_DST = 2,
};

/*
 * A uio with `nbufs` (a power of two, <= 32768) receive buffers of
 * `bufsize` bytes, `flags` as above. NULL with *err: E_UNSUPPORTED (no
 * io_uring here, or too old for multishot receive and buffer rings),
 * E_NOMEM, E_IO.
 */
struct uio *uio_new(unsigned nbufs, size_t bufsize, unsigned flags,
    int *err) WUR;
void uio_free(struct uio *u);

/* A descriptor that is readable when completions wait (for ev_fd_add);
 * E_STATE with UIO_WAIT. */
int uio_fd(const struct uio *u);

/*
 * Hand what is queued to the kernel and wait until at least `wait_nr`
 * packets (or other completions: failed receives, the wake descriptor)
 * are ready, or `timeout_us` microseconds have passed (-1: no limit).
 * Completions of the sends just submitted do not count. With wait_nr 0
 * it does not block: it only collects what has arrived. Returns 0 (also
 * on timeout) or E_IO. Take the packets with uio_poll().
 */
int uio_wait(struct uio *u, unsigned wait_nr, int64_t timeout_us);
/*
 * Also end uio_wait() when `fd` (e.g. an epoll descriptor) is readable:
 * a one-shot poll that uio_wait() arms whenever none is pending.
 * uio_wake_ready() says whether it fired since the last call (and
 * resets). One wake descriptor per uio: E_STATE for a second one.
 */
int uio_set_wake_fd(struct uio *u, int fd) WUR;
int uio_wake_ready(struct uio *u);

/* Receive on `fd`, reporting `tag` with each packet (submitted at once).
 * Returns 0, E_NOMEM, E_IO, E_LIMIT, E_STATE (already receiving). */
int uio_watch(struct uio *u, int fd, uint64_t tag) WUR;
/* Register `fd` for sends only (a fixed file where the table has room,
 * so that no send takes a file reference); uio_watch() may follow.
 * Returns 0, E_NOMEM, E_LIMIT. */
int uio_register(struct uio *u, int fd) WUR;
/* Stop receiving on `fd` and forget it (cancels; late completions are
 * discarded); also for a socket only registered. */
void uio_unwatch(struct uio *u, int fd);

/*
 * Reap completions that are ready, without entering the kernel (but for
 * re-arming receives): up to `n` received packets into `out` (returns how
 * many, 0 when none wait). Send completions recycle their buffers and
 * finished receives are re-armed here, on the way. When it leaves
 * completions behind (`n` was reached), uio_fd() stays readable.
 */
size_t uio_poll(struct uio *u, struct uio_pkt *out, size_t n);
/* Queue `p`'s buffer (p->len bytes from p->buf, which may have moved
 * back into the head room) to `dst` from `fd`; takes the buffer.
 * Returns 0 or E_AGAIN (the queue is full even after a submit: the packet
 * is dropped and its buffer recycled). */
int uio_send(struct uio *u, int fd, struct uio_pkt *p,
    const struct net_addr *dst);
/* Give a received buffer back without sending it. */
void uio_drop(struct uio *u, struct uio_pkt *p);
/* Hand everything queued to the kernel. Returns 0 or E_IO. */
int uio_submit(struct uio *u);
/* Sends that failed (reported by completions), since the start. */
uint64_t uio_send_errors(const struct uio *u);

#endif
