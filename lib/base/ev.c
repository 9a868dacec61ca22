/* ev.c - epoll event loop with a min-heap of timers and a signalfd. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/ev.h"

#define EV_BATCH 64
#define EV_NSIG 65

struct ev_fd {
	ev_fd_fn *fn;
	void *arg;
	unsigned events;
};

/* A timer lives in a slot; the heap holds slot indices ordered by `when`. */
struct ev_tslot {
	uint64_t id;		/* 0: free */
	uint64_t when;		/* ms */
	ev_timer_fn *fn;
	void *arg;
	size_t pos;		/* index in heap */
	uint32_t next_free;
};

struct ev_loop {
	int epfd;
	int sigfd;
	int stop;
	uint64_t now_ns;
	struct ev_fd *fds;	/* indexed by fd */
	size_t nfds;
	struct ev_tslot *slots;
	size_t nslots;
	uint32_t free_head;	/* UINT32_MAX: none */
	uint32_t *heap;
	size_t nheap;
	uint32_t seq;
	ev_wait_fn *wait_fn;	/* NULL: epoll_wait() */
	void *wait_arg;
	sigset_t sigmask;
	struct {
		ev_signal_fn *fn;
		void *arg;
	} sig[EV_NSIG];
	struct {
		pid_t pid;
		ev_child_fn *fn;
		void *arg;
	} child[EV_CHILD_MAX];
	size_t nchild;
};

uint64_t
ev_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct ev_loop *
ev_new(int *err)
{
	struct ev_loop *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		if (err != NULL)
			*err = E_NOMEM;
		return NULL;
	}
	l->sigfd = -1;
	l->free_head = UINT32_MAX;
	sigemptyset(&l->sigmask);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		if (err != NULL)
			*err = E_IO;
		return NULL;
	}
	l->now_ns = ev_clock_ns();
	return l;
}

void
ev_free(struct ev_loop *l)
{
	if (l == NULL)
		return;
	close(l->epfd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	free(l->fds);
	free(l->slots);
	free(l->heap);
	free(l);
}

static uint32_t
to_epoll(unsigned ev)
{
	return ((ev & EV_READ) ? EPOLLIN : 0) | ((ev & EV_WRITE) ? EPOLLOUT : 0);
}

int
ev_fd_add(struct ev_loop *l, int fd, unsigned events, ev_fd_fn *fn,
    void *arg)
{
	struct epoll_event ee;

	if (fd < 0 || fn == NULL)
		return E_INVAL;
	if ((size_t)fd >= l->nfds) {
		size_t n = l->nfds ? l->nfds : 64;
		struct ev_fd *p;

		while (n <= (size_t)fd)
			n *= 2;
		p = realloc(l->fds, n * sizeof(*p));
		if (p == NULL)
			return E_NOMEM;
		memset(p + l->nfds, 0, (n - l->nfds) * sizeof(*p));
		l->fds = p;
		l->nfds = n;
	}
	if (l->fds[fd].fn != NULL)
		return E_EXIST;
	memset(&ee, 0, sizeof(ee));
	ee.events = to_epoll(events);
	ee.data.fd = fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ee) != 0)
		return E_IO;
	l->fds[fd].fn = fn;
	l->fds[fd].arg = arg;
	l->fds[fd].events = events;
	return 0;
}

int
ev_fd_mod(struct ev_loop *l, int fd, unsigned events)
{
	struct epoll_event ee;

	if (fd < 0 || (size_t)fd >= l->nfds || l->fds[fd].fn == NULL)
		return E_NOTFOUND;
	if (l->fds[fd].events == events)
		return 0;
	memset(&ee, 0, sizeof(ee));
	ee.events = to_epoll(events);
	ee.data.fd = fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ee) != 0)
		return E_IO;
	l->fds[fd].events = events;
	return 0;
}

int
ev_fd_del(struct ev_loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nfds || l->fds[fd].fn == NULL)
		return E_NOTFOUND;
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->fds[fd].fn = NULL;
	l->fds[fd].arg = NULL;
	l->fds[fd].events = 0;
	return 0;
}

/* ---- timers: binary min-heap over slots ---- */

static int
tless(const struct ev_loop *l, uint32_t a, uint32_t b)
{
	const struct ev_tslot *x = &l->slots[a], *y = &l->slots[b];

	/* ties fire in creation order */
	return x->when < y->when || (x->when == y->when && x->id < y->id);
}

static void
hset(struct ev_loop *l, size_t i, uint32_t s)
{
	l->heap[i] = s;
	l->slots[s].pos = i;
}

static void
sift_up(struct ev_loop *l, size_t i)
{
	uint32_t s = l->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!tless(l, s, l->heap[p]))
			break;
		hset(l, i, l->heap[p]);
		i = p;
	}
	hset(l, i, s);
}

static void
sift_down(struct ev_loop *l, size_t i)
{
	uint32_t s = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && tless(l, l->heap[c + 1], l->heap[c]))
			c++;
		if (!tless(l, l->heap[c], s))
			break;
		hset(l, i, l->heap[c]);
		i = c;
	}
	hset(l, i, s);
}

static void
heap_remove(struct ev_loop *l, size_t i)
{
	uint32_t s;

	l->nheap--;
	if (i == l->nheap)
		return;
	s = l->heap[l->nheap];
	hset(l, i, s);
	sift_down(l, i);
	sift_up(l, l->slots[s].pos);
}

static void
slot_release(struct ev_loop *l, uint32_t s)
{
	l->slots[s].id = 0;
	l->slots[s].fn = NULL;
	l->slots[s].arg = NULL;
	l->slots[s].next_free = l->free_head;
	l->free_head = s;
}

int64_t
ev_timer_add(struct ev_loop *l, uint64_t delay_ms, ev_timer_fn *fn, void *arg)
{
	uint32_t s;
	struct ev_tslot *t;

	if (fn == NULL)
		return E_INVAL;
	if (l->free_head == UINT32_MAX) {
		size_t n = l->nslots ? l->nslots * 2 : 16;
		struct ev_tslot *ns;
		uint32_t *nh;

		if (n > UINT32_MAX / 2)
			return E_LIMIT;
		ns = realloc(l->slots, n * sizeof(*ns));
		if (ns == NULL)
			return E_NOMEM;
		l->slots = ns;
		nh = realloc(l->heap, n * sizeof(*nh));
		if (nh == NULL)
			return E_NOMEM;
		l->heap = nh;
		for (size_t i = n; i-- > l->nslots;) {
			memset(&ns[i], 0, sizeof(ns[i]));
			ns[i].next_free = l->free_head;
			l->free_head = (uint32_t)i;
		}
		l->nslots = n;
	}
	s = l->free_head;
	t = &l->slots[s];
	l->free_head = t->next_free;
	/* id: a sequence number above the slot index; never 0, never reused
	 * until 2^31 timers have been made. */
	if (++l->seq >= (1u << 31))
		l->seq = 1;
	t->id = ((uint64_t)l->seq << 32) | s;
	t->when = l->now_ns / 1000000 + delay_ms;
	t->fn = fn;
	t->arg = arg;
	l->heap[l->nheap] = s;
	t->pos = l->nheap++;
	sift_up(l, t->pos);
	return (int64_t)t->id;
}

int
ev_timer_del(struct ev_loop *l, uint64_t id)
{
	uint32_t s = (uint32_t)(id & 0xffffffffu);

	if (id == 0 || s >= l->nslots || l->slots[s].id != id)
		return E_NOTFOUND;
	heap_remove(l, l->slots[s].pos);
	slot_release(l, s);
	return 0;
}

/* ---- signals ---- */

int
ev_signal_add(struct ev_loop *l, int signo, ev_signal_fn *fn, void *arg)
{
	sigset_t one;
	int fd;

	if (signo <= 0 || signo >= EV_NSIG || fn == NULL)
		return E_INVAL;
	if (l->sig[signo].fn != NULL)
		return E_EXIST;
	sigemptyset(&one);
	sigaddset(&one, signo);
	if (sigprocmask(SIG_BLOCK, &one, NULL) != 0)
		return E_IO;
	sigaddset(&l->sigmask, signo);
	fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return E_IO;
	if (l->sigfd < 0) {
		struct epoll_event ee;

		memset(&ee, 0, sizeof(ee));
		ee.events = EPOLLIN;
		ee.data.fd = -1;	/* marks the signalfd */
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ee) != 0) {
			close(fd);
			return E_IO;
		}
		l->sigfd = fd;
	}
	l->sig[signo].fn = fn;
	l->sig[signo].arg = arg;
	return 0;
}

static int
run_signals(struct ev_loop *l)
{
	struct signalfd_siginfo si;
	int n = 0;

	while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int s = (int)si.ssi_signo;

		if (s > 0 && s < EV_NSIG && l->sig[s].fn != NULL) {
			l->sig[s].fn(l, s, l->sig[s].arg);
			n++;
		}
	}
	return n;
}

/* ---- children ---- */

/* Reap the watched children that ended, one call each. */
static void
run_children(struct ev_loop *l)
{
	ev_child_fn *fn;
	void *arg;
	pid_t pid, r;
	size_t i;
	int st = 0;

	/* a callback may add or delete watches: start over after each */
again:
	for (i = 0; i < l->nchild; i++) {
		pid = l->child[i].pid;
		r = waitpid(pid, &st, WNOHANG);
		if (r == 0 || (r < 0 && errno == EINTR))
			continue;
		fn = l->child[i].fn;
		arg = l->child[i].arg;
		l->child[i] = l->child[--l->nchild];
		if (r == pid)
			fn(l, pid, st, arg);
		goto again;
	}
}

static void
child_signal(struct ev_loop *l, int signo, void *arg)
{
	(void)signo;
	(void)arg;
	run_children(l);
}

static void
child_timer(struct ev_loop *l, uint64_t id, void *arg)
{
	(void)id;
	(void)arg;
	run_children(l);
}

int
ev_child_add(struct ev_loop *l, pid_t pid, ev_child_fn *fn, void *arg)
{
	int64_t id;
	size_t i;
	int r;

	if (pid <= 0 || fn == NULL)
		return E_INVAL;
	for (i = 0; i < l->nchild; i++)
		if (l->child[i].pid == pid)
			return E_EXIST;
	if (l->nchild == EV_CHILD_MAX)
		return E_LIMIT;
	if (l->sig[SIGCHLD].fn == NULL &&
	    (r = ev_signal_add(l, SIGCHLD, child_signal, NULL)) != 0)
		return r;
	if (l->sig[SIGCHLD].fn != child_signal)
		return E_EXIST;
	/* its SIGCHLD may have come before the signal was blocked, and
	 * is lost then: look once from the loop */
	if ((id = ev_timer_add(l, 0, child_timer, NULL)) < 0)
		return (int)id;
	l->child[l->nchild].pid = pid;
	l->child[l->nchild].fn = fn;
	l->child[l->nchild].arg = arg;
	l->nchild++;
	return 0;
}

int
ev_child_del(struct ev_loop *l, pid_t pid)
{
	size_t i;

	for (i = 0; i < l->nchild; i++)
		if (l->child[i].pid == pid) {
			l->child[i] = l->child[--l->nchild];
			return 0;
		}
	return E_NOTFOUND;
}

/* ---- the loop ---- */

uint64_t
ev_now_ms(const struct ev_loop *l)
{
	return l->now_ns / 1000000;
}

uint64_t
ev_now_ns(const struct ev_loop *l)
{
	return l->now_ns;
}

void
ev_now_update(struct ev_loop *l)
{
	l->now_ns = ev_clock_ns();
}

int
ev_set_waiter(struct ev_loop *l, ev_wait_fn *fn, void *arg)
{
	if (fn == NULL)
		return E_INVAL;
	if (l->wait_fn != NULL)
		return E_EXIST;
	l->wait_fn = fn;
	l->wait_arg = arg;
	return 0;
}

void
ev_clear_waiter(struct ev_loop *l)
{
	l->wait_fn = NULL;
	l->wait_arg = NULL;
}

static int
run_timers(struct ev_loop *l)
{
	uint64_t now = l->now_ns / 1000000;
	int n = 0;

	/* Timers added by callbacks in this pass with delay 0 are due too;
	 * bound the pass so a self-re-arming 0 ms timer cannot spin forever. */
	for (int budget = 1024; l->nheap > 0 && budget > 0; budget--) {
		uint32_t s = l->heap[0];
		struct ev_tslot *t = &l->slots[s];
		ev_timer_fn *fn;
		void *arg;
		uint64_t id;

		if (t->when > now)
			break;
		fn = t->fn;
		arg = t->arg;
		id = t->id;
		heap_remove(l, 0);
		slot_release(l, s);
		fn(l, id, arg);
		n++;
	}
	return n;
}

int
ev_run_once(struct ev_loop *l, int max_wait_ms)
{
	struct epoll_event evs[EV_BATCH];
	int wait = max_wait_ms, n, ran = 0;

	if (l->nheap > 0) {
		uint64_t now = ev_clock_ns() / 1000000;
		uint64_t when = l->slots[l->heap[0]].when;
		int64_t d = when > now ? (int64_t)(when - now) : 0;

		if (wait < 0 || d < wait)
			wait = (int)(d > 1000000 ? 1000000 : d);
	}
	if (l->wait_fn != NULL) {
		int ready = 0, w = l->wait_fn(l, l->epfd, wait, &ready,
		    l->wait_arg);

		if (w < 0)
			return E_IO;
		ran += w;
		n = ready ? epoll_wait(l->epfd, evs, EV_BATCH, 0) : 0;
	} else {
		n = epoll_wait(l->epfd, evs, EV_BATCH, wait);
	}
	if (n < 0 && errno != EINTR)
		return E_IO;
	l->now_ns = ev_clock_ns();
	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		unsigned e = 0;
		struct ev_fd *f;

		if (fd < 0) {
			ran += run_signals(l);
			continue;
		}
		/* an earlier callback in this batch may have deleted it */
		if ((size_t)fd >= l->nfds || l->fds[fd].fn == NULL)
			continue;
		f = &l->fds[fd];
		if (evs[i].events & EPOLLIN)
			e |= EV_READ;
		if (evs[i].events & EPOLLOUT)
			e |= EV_WRITE;
		if (evs[i].events & (EPOLLERR | EPOLLHUP))
			e |= EV_ERROR;
		f->fn(l, fd, e, f->arg);
		ran++;
	}
	ran += run_timers(l);
	return ran;
}

int
ev_run(struct ev_loop *l)
{
	l->stop = 0;
	while (!l->stop) {
		int r = ev_run_once(l, -1);

		if (r < 0)
			return r;
	}
	return 0;
}

void
ev_stop(struct ev_loop *l)
{
	l->stop = 1;
}
