/* uio.h - batched UDP receive and send across many sockets over io_uring. */
#ifndef SBK_UIO_H
#define SBK_UIO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "net.h"

/*
 * One io_uring with a ring of provided receive buffers. Every watched
 * socket has a multishot recvmsg armed on it, so datagrams from all sockets
 * arrive as completions that one uio_poll() reaps, and every send queued
 * with uio_send() leaves with one uio_submit(): a few system calls per
 * batch of packets however many sockets they belong to (with epoll it is
 * at least one recv and one send per packet when each socket has one).
 *
 * Ownership: the uio owns its ring and buffers; it borrows the sockets
 * (uio_unwatch() before the caller closes one). A received packet's
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
	struct net_addr addr;	/* source */
	int trunc;		/* the datagram did not fit */
	uint32_t bid;		/* the buffer (internal) */
};

/*
 * A uio with `nbufs` (a power of two, <= 32768) receive buffers of
 * `bufsize` bytes. NULL with *err: E_UNSUPPORTED (no io_uring here, or
 * too old for multishot receive and buffer rings), E_NOMEM, E_IO.
 */
struct uio *uio_new(unsigned nbufs, size_t bufsize, int *err) WUR;
void uio_free(struct uio *u);

/* A descriptor that is readable when completions wait (for ev_fd_add). */
int uio_fd(const struct uio *u);

/* Receive on `fd`, reporting `tag` with each packet (submitted at once).
 * Returns 0, E_NOMEM, E_IO. */
int uio_watch(struct uio *u, int fd, uint64_t tag) WUR;
/* Stop receiving on `fd` (cancels; late completions are discarded). */
void uio_unwatch(struct uio *u, int fd);

/*
 * Reap completions: up to `n` received packets into `out` (returns how
 * many, 0 when none wait). Send completions recycle their buffers and
 * finished receives are re-armed here, on the way.
 */
size_t uio_poll(struct uio *u, struct uio_pkt *out, size_t n);
/* Queue `p`'s buffer (p->len bytes) to `dst` from `fd`; takes the buffer.
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
