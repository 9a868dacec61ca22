/* uio.c - multishot recvmsg into a provided-buffer ring, sendmsg batches. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <liburing.h>

#include "relay/uio.h"

#define BGID 7
/* The buffer pool is cycled through whole (a provided-buffer ring is
 * first in, first out), so at many streams every packet lands in a page
 * not touched for thousands of packets: on 4 KiB pages a TLB miss for
 * the kernel's copy and again for the relay. It is mapped in whole
 * transparent huge pages. */
#define HUGE_2M ((size_t)2 << 20)
/* user_data: kind in the top byte, then the slot/buffer and generation */
#define UD_RECV 1ull
#define UD_SEND 2ull
#define UD_CANCEL 3ull
#define UD_WAKE 4ull
#define UD(kind, idx, gen) (((kind) << 56) | ((uint64_t)(gen) << 24) | (idx))
#define UD_KIND(u) ((u) >> 56)
#define UD_IDX(u) ((uint32_t)((u) & 0xffffff))
#define UD_GEN(u) ((uint32_t)(((u) >> 24) & 0xffffffff))

/* A watched socket. */
struct uslot {
	int fd;			/* -1: free */
	uint32_t gen;
	uint64_t tag;
	int armed;		/* a multishot receive is in flight */
	int recv;		/* receiving (uio_watch), not only sending */
	int fixed;		/* registered at the slot's index */
};

/* What a send needs until it completes. */
struct usend {
	struct msghdr mh;
	struct iovec iov;
	struct sockaddr_in6 addr;
};

struct uio {
	struct io_uring ring;
	int ring_ok;
	unsigned flags;		/* UIO_WAIT, UIO_DST */
	int sendto;		/* IORING_OP_SEND takes an address (6.1) */
	int efd;		/* signalled on every completion; -1: UIO_WAIT */
	int wake_fd;		/* uio_set_wake_fd(), or -1 */
	int wake_armed, wake_ready;
	unsigned sends_queued;	/* sends not submitted yet */
	struct io_uring_buf_ring *br;
	size_t br_size;
	unsigned nbufs;
	size_t bufsize;
	uint8_t *mem;
	size_t mem_size;
	struct usend *sends;
	struct uslot *slots;
	size_t nslots;
	unsigned pending_recycle;
	struct msghdr rmh;	/* the template for multishot recvmsg */
	uint64_t send_errors;
	uint32_t rearm_wanted;	/* slots whose receive ended (ENOBUFS...) */
	/* registered files: the kernel takes no file reference per
	 * operation; slot i is file i when i < nfixed. fdmap[fd]: the slot
	 * of a registered fd (for sends), -1 */
	unsigned nfixed;
	int *fdmap;
	size_t nfdmap;
};

static uint8_t *
bufp(const struct uio *u, uint32_t bid)
{
	return u->mem + (size_t)bid * u->bufsize;
}

static void
recycle(struct uio *u, uint32_t bid)
{
	io_uring_buf_ring_add(u->br, bufp(u, bid), (unsigned)u->bufsize,
	    (unsigned short)bid, io_uring_buf_ring_mask(u->nbufs),
	    (int)u->pending_recycle);
	u->pending_recycle++;
}

static void
recycle_flush(struct uio *u)
{
	if (u->pending_recycle > 0) {
		io_uring_buf_ring_advance(u->br, (int)u->pending_recycle);
		u->pending_recycle = 0;
	}
}

/* Hand the queued entries to the kernel (sends complete there: their
 * completions are in the ring afterwards). */
static int
submit_now(struct uio *u)
{
	recycle_flush(u);
	u->sends_queued = 0;
	if (io_uring_sq_ready(&u->ring) == 0)
		return 0;
	return io_uring_submit(&u->ring) < 0 ? E_IO : 0;
}

static struct io_uring_sqe *
sqe_get(struct uio *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (sqe == NULL) {
		(void)submit_now(u);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

/* Does IORING_OP_SEND take a destination address (Linux 6.1)? The same
 * release brought IORING_SETUP_DEFER_TASKRUN, which older kernels
 * refuse: a cheap and certain probe. */
static int
has_sendto(void)
{
	struct io_uring r;

	if (io_uring_queue_init(1, &r, IORING_SETUP_SINGLE_ISSUER |
	    IORING_SETUP_DEFER_TASKRUN) != 0)
		return 0;
	io_uring_queue_exit(&r);
	return 1;
}

struct uio *
uio_new(unsigned nbufs, size_t bufsize, unsigned flags, int *err)
{
	struct io_uring_params p;
	struct io_uring_buf_reg reg;
	struct uio *u;
	int e = E_NOMEM, r;

	if (nbufs == 0 || nbufs > 32768 || (nbufs & (nbufs - 1)) != 0 ||
	    bufsize < 256) {
		e = E_INVAL;
		goto fail0;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL)
		goto fail0;
	u->nbufs = nbufs;
	u->bufsize = bufsize;
	u->flags = flags;
	u->efd = -1;
	u->wake_fd = -1;
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = nbufs * 4;
	r = -EINVAL;
	if (flags & UIO_WAIT) {
		/* task work (receives) runs only when uio_wait() enters the
		 * kernel, which is woken only when enough of it is queued:
		 * the batching this flag is for (Linux 6.1) */
		p.flags |= IORING_SETUP_SINGLE_ISSUER |
		    IORING_SETUP_DEFER_TASKRUN;
		r = io_uring_queue_init_params(nbufs, &u->ring, &p);
		if (r == -EINVAL) {	/* older kernel: without */
			memset(&p, 0, sizeof(p));
			p.flags = IORING_SETUP_CQSIZE;
			p.cq_entries = nbufs * 4;
		}
	}
	if (r == -EINVAL)
		r = io_uring_queue_init_params(nbufs, &u->ring, &p);
	if (r < 0) {
		e = r == -ENOMEM ? E_NOMEM : E_UNSUPPORTED;
		goto fail;
	}
	u->ring_ok = 1;
	if (!(p.features & IORING_FEAT_NODROP)) {
		e = E_UNSUPPORTED;
		goto fail;
	}
	/* an eventfd registered with the ring is signalled for every
	 * completion: the documented way to wait for a ring in epoll */
	if (!(flags & UIO_WAIT) &&
	    ((u->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    io_uring_register_eventfd(&u->ring, u->efd) != 0)) {
		e = E_IO;
		goto fail;
	}
	u->br_size = nbufs * sizeof(struct io_uring_buf);
	u->br = mmap(NULL, u->br_size, PROT_READ | PROT_WRITE,
	    MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (u->br == MAP_FAILED) {
		u->br = NULL;
		goto fail;
	}
	u->mem_size = ((size_t)nbufs * bufsize + HUGE_2M - 1) & ~(HUGE_2M - 1);
	u->mem = mmap(NULL, u->mem_size, PROT_READ | PROT_WRITE,
	    MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (u->mem == MAP_FAILED)
		u->mem = NULL;
	else
		(void)madvise(u->mem, u->mem_size, MADV_HUGEPAGE);
	u->sends = calloc(nbufs, sizeof(*u->sends));
	if (u->mem == NULL || u->sends == NULL)
		goto fail;
	/* a sparse table of registered files, as big as the descriptor
	 * limit allows (the kernel wants no more); none: plain fds */
	{
		struct rlimit rl;
		unsigned nf = 65536;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < nf)
			nf = (unsigned)rl.rlim_cur;
		if (io_uring_register_files_sparse(&u->ring, nf) == 0)
			u->nfixed = nf;
	}
	/* fault the pool in now, not on the first packets (a page fault is
	 * dear, in a virtual machine more so) */
	memset(u->mem, 0, (size_t)nbufs * bufsize);
	u->sendto = has_sendto();
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (unsigned long)u->br;
	reg.ring_entries = nbufs;
	reg.bgid = BGID;
	if (io_uring_register_buf_ring(&u->ring, &reg, 0) != 0) {
		e = E_UNSUPPORTED;
		goto fail;
	}
	io_uring_buf_ring_init(u->br);
	for (uint32_t i = 0; i < nbufs; i++)
		recycle(u, i);
	recycle_flush(u);
	/* the name's room rounded up to 8: the control data after it (in
	 * io_uring's recvmsg_out layout) must be aligned for cmsghdr */
	u->rmh.msg_namelen = (sizeof(struct sockaddr_in6) + 7) & ~(size_t)7;
	/* room for a destination address (IP_ORIGDSTADDR), filled only on
	 * sockets that ask for it */
	u->rmh.msg_controllen = flags & UIO_DST ?
	    CMSG_SPACE(sizeof(struct sockaddr_in6)) : 0;
	return u;
fail:
	uio_free(u);
fail0:
	if (err != NULL)
		*err = e;
	return NULL;
}

void
uio_free(struct uio *u)
{
	if (u == NULL)
		return;
	if (u->ring_ok)
		io_uring_queue_exit(&u->ring);
	if (u->efd >= 0)
		close(u->efd);
	if (u->br != NULL)
		munmap(u->br, u->br_size);
	if (u->mem != NULL)
		munmap(u->mem, u->mem_size);
	free(u->sends);
	free(u->slots);
	free(u->fdmap);
	free(u);
}

int
uio_fd(const struct uio *u)
{
	return u->efd >= 0 ? u->efd : E_STATE;
}

int
uio_set_wake_fd(struct uio *u, int fd)
{
	if (fd < 0)
		return E_INVAL;
	if (u->wake_fd >= 0 && u->wake_fd != fd)
		return E_STATE;
	u->wake_fd = fd;
	return 0;
}

int
uio_wake_ready(struct uio *u)
{
	int r = u->wake_ready;

	u->wake_ready = 0;
	return r;
}

int
uio_wait(struct uio *u, unsigned wait_nr, int64_t timeout_us)
{
	struct __kernel_timespec ts, *tsp = NULL;
	struct io_uring_cqe *cqe;
	unsigned want;
	int r;

	if (u->wake_fd >= 0 && !u->wake_armed) {
		struct io_uring_sqe *sqe = sqe_get(u);

		if (sqe != NULL) {
			io_uring_prep_poll_add(sqe, u->wake_fd, POLLIN);
			io_uring_sqe_set_data64(sqe, UD(UD_WAKE, 0, 0));
			u->wake_armed = 1;
		}
	}
	recycle_flush(u);
	if (wait_nr == 0) {
		u->sends_queued = 0;
		r = io_uring_submit_and_get_events(&u->ring);
		return r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY ?
		    E_IO : 0;
	}
	/* the kernel waits for the completion queue to hold this many:
	 * what is there already and the sends submitted now (they complete
	 * on submission, MSG_DONTWAIT) do not count towards wait_nr */
	want = io_uring_cq_ready(&u->ring) + u->sends_queued + wait_nr;
	if (want > u->nbufs * 4)
		want = u->nbufs * 4;
	u->sends_queued = 0;
	if (timeout_us >= 0) {
		ts.tv_sec = timeout_us / 1000000;
		ts.tv_nsec = (timeout_us % 1000000) * 1000;
		tsp = &ts;
	}
	r = io_uring_submit_and_wait_timeout(&u->ring, &cqe, want, tsp, NULL);
	if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN &&
	    r != -EBUSY)
		return E_IO;
	return 0;
}

static int
arm(struct uio *u, uint32_t idx)
{
	struct uslot *s = &u->slots[idx];
	struct io_uring_sqe *sqe = sqe_get(u);

	if (sqe == NULL)
		return E_AGAIN;
	io_uring_prep_recvmsg_multishot(sqe, s->fixed ? (int)idx : s->fd,
	    &u->rmh, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT | (s->fixed ? IOSQE_FIXED_FILE : 0);
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, UD(UD_RECV, idx, s->gen));
	s->armed = 1;
	return 0;
}

/* Record that `fd` is registered as file `slot` (-1: is not). */
static int
fdmap_set(struct uio *u, int fd, int slot)
{
	if ((size_t)fd >= u->nfdmap) {
		size_t n = u->nfdmap ? u->nfdmap : 256;
		int *m;

		if (slot < 0)
			return 0;
		while (n <= (size_t)fd)
			n *= 2;
		if ((m = realloc(u->fdmap, n * sizeof(*m))) == NULL)
			return E_NOMEM;
		for (size_t k = u->nfdmap; k < n; k++)
			m[k] = -1;
		u->fdmap = m;
		u->nfdmap = n;
	}
	u->fdmap[fd] = slot;
	return 0;
}

/* A slot for `fd`: its own when it has one, else a free one (the
 * table grows), registered as a fixed file where room allows. */
static int
slot_get(struct uio *u, int fd, size_t *idx)
{
	size_t i, fr = SIZE_MAX;

	for (i = 0; i < u->nslots; i++) {
		if (u->slots[i].fd == fd) {
			*idx = i;
			return 0;
		}
		if (u->slots[i].fd < 0 && fr == SIZE_MAX)
			fr = i;
	}
	i = fr != SIZE_MAX ? fr : u->nslots;
	if (i == u->nslots) {
		size_t n = u->nslots ? u->nslots * 2 : 64;
		struct uslot *ns;

		if (n > 0xffffff)
			return E_LIMIT;
		if ((ns = realloc(u->slots, n * sizeof(*ns))) == NULL)
			return E_NOMEM;
		for (size_t k = u->nslots; k < n; k++) {
			ns[k].fd = -1;
			ns[k].gen = 0;
			ns[k].armed = 0;
			ns[k].recv = 0;
			ns[k].fixed = 0;
		}
		u->slots = ns;
		u->nslots = n;
	}
	u->slots[i].fd = fd;
	u->slots[i].tag = 0;
	u->slots[i].recv = 0;
	u->slots[i].gen++;
	u->slots[i].fixed = i < u->nfixed && fdmap_set(u, fd, (int)i) == 0 &&
	    io_uring_register_files_update(&u->ring, (unsigned)i, &fd, 1) == 1;
	if (!u->slots[i].fixed)
		(void)fdmap_set(u, fd, -1);
	*idx = i;
	return 0;
}

int
uio_register(struct uio *u, int fd)
{
	size_t i;

	return slot_get(u, fd, &i);
}

int
uio_watch(struct uio *u, int fd, uint64_t tag)
{
	size_t i;
	int e;

	if ((e = slot_get(u, fd, &i)) != 0)
		return e;
	if (u->slots[i].recv)
		return E_STATE;
	u->slots[i].tag = tag;
	u->slots[i].recv = 1;
	if (arm(u, (uint32_t)i) != 0)
		return E_NOMEM;
	return uio_submit(u);
}

void
uio_unwatch(struct uio *u, int fd)
{
	int minus1 = -1;

	for (size_t i = 0; i < u->nslots; i++) {
		struct uslot *s = &u->slots[i];
		struct io_uring_sqe *sqe;

		if (s->fd != fd)
			continue;
		if (s->armed && (sqe = sqe_get(u)) != NULL) {
			if (s->fixed)
				io_uring_prep_cancel_fd(sqe, (int)i,
				    IORING_ASYNC_CANCEL_FD_FIXED);
			else
				io_uring_prep_cancel_fd(sqe, fd, 0);
			io_uring_sqe_set_data64(sqe, UD(UD_CANCEL, 0, 0));
		}
		/* the cancel must reach the kernel and complete (its task
		 * work runs only when we ask, with UIO_WAIT) before the file
		 * leaves the table, and both before the caller closes fd:
		 * else the receive keeps the socket, and its port, open */
		recycle_flush(u);
		u->sends_queued = 0;
		(void)io_uring_submit_and_get_events(&u->ring);
		if (s->fixed)
			(void)io_uring_register_files_update(&u->ring,
			    (unsigned)i, &minus1, 1);
		(void)fdmap_set(u, fd, -1);
		s->fd = -1;
		s->armed = 0;
		s->recv = 0;
		s->fixed = 0;
		s->gen++;	/* what is still in flight is stale now */
	}
	(void)submit_now(u);
}

/* The destination a socket with IP_RECVORIGDSTADDR reported. */
static void
orig_dst(struct io_uring_recvmsg_out *o, struct msghdr *mh,
    struct net_addr *dst)
{
	struct cmsghdr *c;

	dst->len = 0;
	if (o->controllen == 0)
		return;
	for (c = io_uring_recvmsg_cmsg_firsthdr(o, mh); c != NULL;
	    c = io_uring_recvmsg_cmsg_nexthdr(o, mh, c))
		if ((c->cmsg_level == IPPROTO_IP &&
		    c->cmsg_type == IP_ORIGDSTADDR) ||
		    (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_ORIGDSTADDR)) {
			if (net_addr_from_sa(dst,
			    (const struct sockaddr *)CMSG_DATA(c),
			    (socklen_t)(c->cmsg_len - CMSG_LEN(0))) != 0)
				dst->len = 0;
			return;
		}
}

size_t
uio_poll(struct uio *u, struct uio_pkt *out, size_t n)
{
	struct io_uring_cqe *c;
	size_t got = 0;
	unsigned head, seen = 0;
	uint64_t cnt;

	/* reset the signal first: a completion after the reaping below
	 * signals again */
	if (u->efd >= 0 && read(u->efd, &cnt, sizeof(cnt)) < 0)
		cnt = 0;
	io_uring_for_each_cqe(&u->ring, head, c) {
		uint64_t ud = io_uring_cqe_get_data64(c);
		uint32_t idx = UD_IDX(ud);
		int has_buf = (c->flags & IORING_CQE_F_BUFFER) != 0;
		uint32_t bid = c->flags >> IORING_CQE_BUFFER_SHIFT;
		struct uslot *s;
		struct io_uring_recvmsg_out *o;

		if (got == n)
			break;
		seen++;
		switch (UD_KIND(ud)) {
		case UD_SEND:
			if (c->res < 0)
				u->send_errors++;
			recycle(u, idx);
			continue;
		case UD_RECV:
			break;
		case UD_WAKE:
			u->wake_armed = 0;
			u->wake_ready = 1;
			continue;
		default:
			continue;
		}
		s = idx < u->nslots ? &u->slots[idx] : NULL;
		if (s == NULL || s->fd < 0 || s->gen != UD_GEN(ud)) {
			/* stale: the socket was unwatched */
			if (has_buf)
				recycle(u, bid);
			continue;
		}
		if (!(c->flags & IORING_CQE_F_MORE)) {
			s->armed = 0;	/* re-armed below */
			u->rearm_wanted++;
		}
		if (c->res < 0 || !has_buf) {
			if (has_buf)
				recycle(u, bid);
			continue;
		}
		o = io_uring_recvmsg_validate(bufp(u, bid), c->res, &u->rmh);
		if (o == NULL) {
			recycle(u, bid);
			continue;
		}
		out[got].tag = s->tag;
		out[got].bid = bid;
		out[got].buf = io_uring_recvmsg_payload(o, &u->rmh);
		out[got].len = io_uring_recvmsg_payload_length(o, c->res,
		    &u->rmh);
		out[got].head = (size_t)(out[got].buf - bufp(u, bid));
		out[got].room = u->bufsize - out[got].head;
		out[got].trunc = (o->flags & MSG_TRUNC) != 0;
		if (net_addr_from_sa(&out[got].addr, io_uring_recvmsg_name(o),
		    o->namelen) != 0)
			memset(&out[got].addr, 0, sizeof(out[got].addr));
		orig_dst(o, &u->rmh, &out[got].dst);
		got++;
	}
	io_uring_cq_advance(&u->ring, seen);
	recycle_flush(u);
	if (u->rearm_wanted > 0) {
		u->rearm_wanted = 0;
		for (size_t i = 0; i < u->nslots; i++)
			if (u->slots[i].recv && !u->slots[i].armed)
				(void)arm(u, (uint32_t)i);
		/* now: with nothing received the caller may not submit, and
		 * an unsubmitted re-arm would leave the socket deaf */
		(void)submit_now(u);
	}
	if (got == n && u->efd >= 0 && io_uring_cq_ready(&u->ring) > 0) {
		/* completions left behind: keep the descriptor readable */
		cnt = 1;
		if (write(u->efd, &cnt, sizeof(cnt)) < 0)
			cnt = 0;
	}
	return got;
}

int
uio_send(struct uio *u, int fd, struct uio_pkt *p, const struct net_addr *dst)
{
	struct usend *s = &u->sends[p->bid];
	struct io_uring_sqe *sqe = sqe_get(u);
	int fx = fd >= 0 && (size_t)fd < u->nfdmap ? u->fdmap[fd] : -1;

	if (sqe == NULL) {
		uio_drop(u, p);
		return E_AGAIN;
	}
	memcpy(&s->addr, &dst->u, dst->len);
	/* MSG_DONTWAIT: a full socket buffer fails the send (counted, buffer
	 * back at once) instead of parking it until writable, as sendmmsg
	 * does with epoll; parked sends held the whole pool in a flood */
	if (u->sendto) {
		/* sendto(): no msghdr for the kernel to copy and check */
		io_uring_prep_send(sqe, fx >= 0 ? fx : fd, p->buf, p->len,
		    MSG_DONTWAIT);
		sqe->addr2 = (uint64_t)(uintptr_t)&s->addr;
		sqe->addr_len = (uint16_t)dst->len;
	} else {
		memset(&s->mh, 0, sizeof(s->mh));
		s->iov.iov_base = p->buf;
		s->iov.iov_len = p->len;
		s->mh.msg_name = &s->addr;
		s->mh.msg_namelen = dst->len;
		s->mh.msg_iov = &s->iov;
		s->mh.msg_iovlen = 1;
		io_uring_prep_sendmsg(sqe, fx >= 0 ? fx : fd, &s->mh,
		    MSG_DONTWAIT);
	}
	if (fx >= 0)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, UD(UD_SEND, p->bid, 0));
	u->sends_queued++;
	return 0;
}

void
uio_drop(struct uio *u, struct uio_pkt *p)
{
	recycle(u, p->bid);
}

int
uio_submit(struct uio *u)
{
	return submit_now(u);
}

uint64_t
uio_send_errors(const struct uio *u)
{
	return u->send_errors;
}
