/* uio.c - multishot recvmsg into a provided-buffer ring, sendmsg batches. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <liburing.h>

#include "uio.h"

#define BGID 7
/* user_data: kind in the top byte, then the slot/buffer and generation */
#define UD_RECV 1ull
#define UD_SEND 2ull
#define UD_CANCEL 3ull
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
	int efd;		/* signalled on every completion */
	struct io_uring_buf_ring *br;
	size_t br_size;
	unsigned nbufs;
	size_t bufsize;
	uint8_t *mem;
	struct usend *sends;
	struct uslot *slots;
	size_t nslots;
	unsigned pending_recycle;
	struct msghdr rmh;	/* the template for multishot recvmsg */
	uint64_t send_errors;
	uint32_t rearm_wanted;	/* slots whose receive ended (ENOBUFS...) */
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

static struct io_uring_sqe *
sqe_get(struct uio *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (sqe == NULL) {
		recycle_flush(u);
		(void)io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

struct uio *
uio_new(unsigned nbufs, size_t bufsize, int *err)
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
	u->efd = -1;
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = nbufs * 4;
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
	u->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (u->efd < 0 || io_uring_register_eventfd(&u->ring, u->efd) != 0) {
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
	u->mem = malloc((size_t)nbufs * bufsize);
	u->sends = calloc(nbufs, sizeof(*u->sends));
	if (u->mem == NULL || u->sends == NULL)
		goto fail;
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
	u->rmh.msg_namelen = sizeof(struct sockaddr_in6);
	u->rmh.msg_controllen = 0;
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
	free(u->mem);
	free(u->sends);
	free(u->slots);
	free(u);
}

int
uio_fd(const struct uio *u)
{
	return u->efd;
}

static int
arm(struct uio *u, uint32_t idx)
{
	struct uslot *s = &u->slots[idx];
	struct io_uring_sqe *sqe = sqe_get(u);

	if (sqe == NULL)
		return E_AGAIN;
	io_uring_prep_recvmsg_multishot(sqe, s->fd, &u->rmh, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, UD(UD_RECV, idx, s->gen));
	s->armed = 1;
	return 0;
}

int
uio_watch(struct uio *u, int fd, uint64_t tag)
{
	size_t i;

	for (i = 0; i < u->nslots; i++)
		if (u->slots[i].fd < 0)
			break;
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
		}
		u->slots = ns;
		u->nslots = n;
	}
	u->slots[i].fd = fd;
	u->slots[i].tag = tag;
	u->slots[i].gen++;
	if (arm(u, (uint32_t)i) != 0)
		return E_NOMEM;
	return uio_submit(u);
}

void
uio_unwatch(struct uio *u, int fd)
{
	for (size_t i = 0; i < u->nslots; i++) {
		struct uslot *s = &u->slots[i];
		struct io_uring_sqe *sqe;

		if (s->fd != fd)
			continue;
		if (s->armed && (sqe = sqe_get(u)) != NULL) {
			io_uring_prep_cancel_fd(sqe, fd, 0);
			io_uring_sqe_set_data64(sqe, UD(UD_CANCEL, 0, 0));
		}
		s->fd = -1;
		s->armed = 0;
		s->gen++;	/* what is still in flight is stale now */
	}
	/* the cancel must reach the kernel before the caller closes fd */
	recycle_flush(u);
	(void)io_uring_submit(&u->ring);
}

size_t
uio_poll(struct uio *u, struct uio_pkt *out, size_t n)
{
	struct io_uring_cqe *cqes[256];
	size_t got = 0;
	uint64_t cnt;

	/* reset the signal first: a completion after the reaping below
	 * signals again */
	if (read(u->efd, &cnt, sizeof(cnt)) < 0)
		cnt = 0;
	while (got < n) {
		unsigned k = io_uring_peek_batch_cqe(&u->ring, cqes,
		    (unsigned)(n - got < 256 ? n - got : 256));

		if (k == 0)
			break;
		for (unsigned i = 0; i < k; i++) {
			struct io_uring_cqe *c = cqes[i];
			uint64_t ud = io_uring_cqe_get_data64(c);
			uint32_t idx = UD_IDX(ud);
			int has_buf = (c->flags & IORING_CQE_F_BUFFER) != 0;
			uint32_t bid = c->flags >> IORING_CQE_BUFFER_SHIFT;
			struct uslot *s;
			struct io_uring_recvmsg_out *o;

			switch (UD_KIND(ud)) {
			case UD_SEND:
				if (c->res < 0)
					u->send_errors++;
				recycle(u, idx);
				continue;
			case UD_RECV:
				break;
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
			o = io_uring_recvmsg_validate(bufp(u, bid), c->res,
			    &u->rmh);
			if (o == NULL) {
				recycle(u, bid);
				continue;
			}
			out[got].tag = s->tag;
			out[got].bid = bid;
			out[got].buf = io_uring_recvmsg_payload(o, &u->rmh);
			out[got].len = io_uring_recvmsg_payload_length(o,
			    c->res, &u->rmh);
			out[got].room = u->bufsize - (size_t)(out[got].buf -
			    bufp(u, bid));
			out[got].trunc = (o->flags & MSG_TRUNC) != 0;
			if (net_addr_from_sa(&out[got].addr,
			    io_uring_recvmsg_name(o), o->namelen) != 0)
				memset(&out[got].addr, 0,
				    sizeof(out[got].addr));
			got++;
		}
		io_uring_cq_advance(&u->ring, k);
	}
	recycle_flush(u);
	if (u->rearm_wanted > 0) {
		u->rearm_wanted = 0;
		for (size_t i = 0; i < u->nslots; i++)
			if (u->slots[i].fd >= 0 && !u->slots[i].armed)
				(void)arm(u, (uint32_t)i);
		/* now: with nothing received the caller may not submit, and
		 * an unsubmitted re-arm would leave the socket deaf */
		(void)io_uring_submit(&u->ring);
	}
	return got;
}

int
uio_send(struct uio *u, int fd, struct uio_pkt *p, const struct net_addr *dst)
{
	struct usend *s = &u->sends[p->bid];
	struct io_uring_sqe *sqe = sqe_get(u);

	if (sqe == NULL) {
		uio_drop(u, p);
		return E_AGAIN;
	}
	memset(&s->mh, 0, sizeof(s->mh));
	memcpy(&s->addr, &dst->u, dst->len);
	s->iov.iov_base = p->buf;
	s->iov.iov_len = p->len;
	s->mh.msg_name = &s->addr;
	s->mh.msg_namelen = dst->len;
	s->mh.msg_iov = &s->iov;
	s->mh.msg_iovlen = 1;
	/* MSG_DONTWAIT: a full socket buffer fails the send (counted, buffer
	 * back at once) instead of parking it until writable, as sendmmsg
	 * does with epoll; parked sends held the whole pool in a flood */
	io_uring_prep_sendmsg(sqe, fd, &s->mh, MSG_DONTWAIT);
	io_uring_sqe_set_data64(sqe, UD(UD_SEND, p->bid, 0));
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
	recycle_flush(u);
	if (io_uring_sq_ready(&u->ring) == 0)
		return 0;
	return io_uring_submit(&u->ring) < 0 ? E_IO : 0;
}

uint64_t
uio_send_errors(const struct uio *u)
{
	return u->send_errors;
}
