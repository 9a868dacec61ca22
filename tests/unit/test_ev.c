/* test_ev.c - unit tests for the event loop: fds, timer order, signals. */
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "../../lib/ev.h"
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
	return t_done();
}
