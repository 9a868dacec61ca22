/* test_ev.c - unit tests for the event loop: fds, timers, signals, children. */
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/ev.h"
#include "t.h"

static int order[16], norder;
static uint64_t victim;

static void
on_timer(struct ev_loop *l, uint64_t id, void *arg)
{
	(void)id;
	if (norder < 16)
		order[norder++] = (int)(intptr_t)arg;
	if ((intptr_t)arg == 1)	/* cancels a later one from a callback */
		T_EQ_INT(ev_timer_del(l, victim), 0, "delete from callback");
}

static int reads;

static void
on_read(struct ev_loop *l, int fd, unsigned ev, void *arg)
{
	char c;

	(void)arg;
	if ((ev & EV_READ) && read(fd, &c, 1) == 1)
		reads++;
	if (reads == 2)
		T_EQ_INT(ev_fd_del(l, fd), 0, "fd delete from its callback");
}

static int got_sig;

static void
on_sig(struct ev_loop *l, int signo, void *arg)
{
	(void)arg;
	got_sig = signo;
	ev_stop(l);
}

static void
on_stop(struct ev_loop *l, uint64_t id, void *arg)
{
	(void)id;
	(void)arg;
	ev_stop(l);
}

/* A waiter as an io_uring one would be: it blocks on the epoll fd (with
 * poll()), says whether that is readable, reports work of its own. */
struct waiter {
	int calls, last_timeout, lie, fail;
};

static int
wait_fn(struct ev_loop *l, int epfd, int timeout_ms, int *ready, void *arg)
{
	struct waiter *w = arg;
	struct pollfd pf = { epfd, POLLIN, 0 };

	w->calls++;
	w->last_timeout = timeout_ms;
	if (w->fail)
		return E_IO;
	*ready = poll(&pf, 1, timeout_ms) == 1 && !w->lie;
	ev_now_update(l);
	return 7;
}

static int wreads;

static void
on_wread(struct ev_loop *l, int fd, unsigned ev, void *arg)
{
	char c;

	(void)l;
	(void)arg;
	if ((ev & EV_READ) && read(fd, &c, 1) == 1)
		wreads++;
}

static void
test_waiter(void)
{
	struct ev_loop *l = ev_new(NULL);
	struct waiter w = { 0, 0, 0, 0 }, w2 = { 0, 0, 0, 0 };
	int p[2], r;

	T_OK(l != NULL && pipe(p) == 0, "loop, pipe");
	T_EQ_INT(ev_set_waiter(l, wait_fn, &w), 0, "set waiter");
	T_EQ_INT(ev_set_waiter(l, wait_fn, &w2), E_EXIST, "one waiter");
	T_EQ_INT(ev_fd_add(l, p[0], EV_READ, on_wread, NULL), 0, "fd add");
	r = ev_run_once(l, 5);
	T_OK(r == 7 && w.calls == 1 && w.last_timeout == 5 && wreads == 0,
	    "the waiter waits (timeout handed on), its work counted");
	T_OK(ev_timer_add(l, 0, on_timer, (void *)5) > 0, "due timer");
	r = ev_run_once(l, -1);
	T_OK(r == 8 && w.last_timeout == 0, "a due timer: no blocking, "
	    "timer run");
	T_OK(write(p[1], "ab", 2) == 2, "write");
	w.lie = 1;
	(void)ev_run_once(l, 0);
	T_EQ_INT(wreads, 0, "not ready: no epoll dispatch");
	w.lie = 0;
	r = ev_run_once(l, 1000);
	T_OK(r == 8 && wreads == 1, "ready: the fd callback runs");
	ev_clear_waiter(l);
	r = ev_run_once(l, 1000);
	T_OK(r == 1 && wreads == 2 && w.calls == 4,
	    "cleared: epoll_wait again");
	T_EQ_INT(ev_set_waiter(l, wait_fn, &w2), 0, "another waiter");
	w2.fail = 1;
	T_EQ_INT(ev_run_once(l, 0), E_IO, "a failing waiter fails the loop");
	ev_clear_waiter(l);
	close(p[0]);
	close(p[1]);
	ev_free(l);
}

static pid_t child_pid;
static int child_status, child_calls;

static void
on_child(struct ev_loop *l, pid_t pid, int status, void *arg)
{
	(void)arg;
	child_pid = pid;
	child_status = status;
	child_calls++;
	ev_stop(l);
}

/* A child that exits with `code`, or waits for a signal (code < 0). */
static pid_t
kid(int code)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (code < 0)
			for (;;)
				pause();
		_exit(code);
	}
	return pid;
}

static void
test_children(void)
{
	struct ev_loop *l = ev_new(NULL);
	siginfo_t si;
	pid_t a, b, c, d;
	int st = 0;

	/* one that ended before it was watched */
	a = kid(3);
	T_OK(a > 0 && waitid(P_PID, (id_t)a, &si, WEXITED | WNOWAIT) == 0,
	    "child: the first one has ended");
	T_EQ_INT(ev_child_add(l, a, on_child, NULL), 0, "child: watch");
	T_EQ_INT(ev_child_add(l, a, on_child, NULL), E_EXIST,
	    "child: watched twice");
	T_EQ_INT(ev_signal_add(l, SIGCHLD, on_sig, NULL), E_EXIST,
	    "child: SIGCHLD is the loop's");
	T_EQ_INT(ev_child_add(l, 0, on_child, NULL), E_INVAL, "child: pid 0");
	T_OK(ev_timer_add(l, 2000, on_stop, NULL) > 0, "child: guard timer");
	T_EQ_INT(ev_run(l), 0, "child: run");
	T_EQ_INT(child_calls, 1, "child: one call");
	T_EQ_INT(child_pid, a, "child: its pid");
	T_OK(WIFEXITED(child_status) && WEXITSTATUS(child_status) == 3,
	    "child: exit status 3 (ended before the watch)");
	T_EQ_INT(ev_child_del(l, a), E_NOTFOUND, "child: the watch ended");

	/* one killed while watched; one unwatched; one watch deleted */
	b = kid(-1);
	c = kid(-1);
	d = kid(0);
	T_EQ_INT(ev_child_add(l, b, on_child, NULL), 0, "child: watch b");
	T_EQ_INT(ev_child_add(l, c, on_child, NULL), 0, "child: watch c");
	T_EQ_INT(ev_child_del(l, c), 0, "child: unwatch c");
	(void)ev_run_once(l, 50);
	T_EQ_INT(child_calls, 1, "child: nothing while they run");
	T_OK(kill(b, SIGTERM) == 0 && kill(c, SIGTERM) == 0, "child: kill");
	T_OK(ev_timer_add(l, 2000, on_stop, NULL) > 0, "child: guard timer");
	T_EQ_INT(ev_run(l), 0, "child: run");
	T_EQ_INT(child_calls, 2, "child: called for b");
	T_EQ_INT(child_pid, b, "child: b's pid");
	T_OK(WIFSIGNALED(child_status) && WTERMSIG(child_status) == SIGTERM,
	    "child: killed by SIGTERM");
	T_EQ_INT(waitpid(c, &st, 0), c,
	    "child: an unwatched child is left to its parent");
	T_EQ_INT(waitpid(d, &st, 0), d,
	    "child: one never watched is not reaped by the loop");
	ev_free(l);
}

int
main(void)
{
	struct ev_loop *l = ev_new(NULL);
	int64_t ids[8];
	int p[2], r;

	T_OK(l != NULL, "ev_new");
	/* timers: fire in deadline order; ties in creation order */
	ids[0] = ev_timer_add(l, 30, on_timer, (void *)3);
	ids[1] = ev_timer_add(l, 10, on_timer, (void *)1);
	ids[2] = ev_timer_add(l, 20, on_timer, (void *)2);
	ids[3] = ev_timer_add(l, 20, on_timer, (void *)22);
	ids[4] = ev_timer_add(l, 25, on_timer, (void *)9);
	ids[5] = ev_timer_add(l, 5, on_timer, (void *)99);
	victim = (uint64_t)ids[4];
	T_OK(ids[0] > 0 && ids[1] > 0 && ids[5] > 0, "timer ids");
	T_EQ_INT(ev_timer_del(l, (uint64_t)ids[5]), 0, "cancel");
	T_EQ_INT(ev_timer_del(l, (uint64_t)ids[5]), E_NOTFOUND,
	    "cancel twice");
	T_OK(ev_timer_add(l, 40, on_stop, NULL) > 0, "stop timer");
	T_EQ_INT(ev_run(l), 0, "run until stop");
	T_EQ_INT(norder, 4, "four timers fired");
	T_OK(order[0] == 1 && order[1] == 2 && order[2] == 22 &&
	    order[3] == 3, "deadline order, ties by creation");
	T_EQ_INT(ev_timer_del(l, (uint64_t)ids[0]), E_NOTFOUND,
	    "fired timer is gone");

	/* many timers: heap stays ordered */
	norder = 0;
	for (int i = 0; i < 200; i++) {
		r = (int)ev_timer_add(l, (uint64_t)(200 - i) % 7, on_timer,
		    (void *)(intptr_t)100);
		if (r < 0)
			break;
	}
	while (ev_run_once(l, 10) > 0 || norder < 16)
		if (norder >= 16)
			break;
	T_EQ_INT(norder, 16, "many timers fire");

	/* fds */
	T_OK(pipe(p) == 0, "pipe");
	T_EQ_INT(ev_fd_add(l, p[0], EV_READ, on_read, NULL), 0, "fd add");
	T_EQ_INT(ev_fd_add(l, p[0], EV_READ, on_read, NULL), E_EXIST,
	    "fd add twice");
	T_OK(write(p[1], "abc", 3) == 3, "write");
	for (int i = 0; i < 5; i++)
		(void)ev_run_once(l, 0);
	T_EQ_INT(reads, 2, "read until the callback removed itself");
	T_EQ_INT(ev_fd_del(l, p[0]), E_NOTFOUND, "fd gone");
	T_EQ_INT(ev_fd_mod(l, p[1], EV_WRITE), E_NOTFOUND, "mod unknown fd");

	/* signals */
	T_EQ_INT(ev_signal_add(l, SIGUSR1, on_sig, NULL), 0, "signal add");
	T_OK(kill(getpid(), SIGUSR1) == 0, "raise");
	T_EQ_INT(ev_timer_add(l, 2000, on_stop, NULL) > 0, 1, "guard timer");
	T_EQ_INT(ev_run(l), 0, "run");
	T_EQ_INT(got_sig, SIGUSR1, "signal delivered through the loop");
	T_OK(ev_now_ms(l) > 0 && ev_now_ns(l) / 1000000 == ev_now_ms(l),
	    "cached clock");
	close(p[0]);
	close(p[1]);
	ev_free(l);
	ev_free(NULL);
	test_waiter();
	test_children();
	return t_done();
}
