/* ev.h - a small epoll event loop: fds, monotonic timers, signals, children. */
#ifndef SBK_EV_H
#define SBK_EV_H

#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"

/*
 * Ownership, once for the whole module: the loop never owns the file
 * descriptors or the `arg` pointers handed to it. ev_fd_add() borrows the
 * fd until ev_fd_del() (the caller closes it afterwards); callbacks may add
 * and delete fds and timers, including their own, at any time. ev_free()
 * releases only the loop's own memory and its epoll/signalfd descriptors.
 *
 * Time is CLOCK_MONOTONIC in milliseconds, cached once per iteration
 * (ev_now_ms()). Timers are one-shot; a periodic job re-arms itself from
 * its callback. The loop is single-threaded and keeps no global state;
 * only ev_signal_add() touches process state (it blocks the signal with
 * sigprocmask so that it is delivered through the loop's signalfd).
 */
struct ev_loop;

enum { EV_READ = 1, EV_WRITE = 2, EV_ERROR = 4 };

typedef void ev_fd_fn(struct ev_loop *loop, int fd, unsigned events,
    void *arg);
typedef void ev_timer_fn(struct ev_loop *loop, uint64_t id, void *arg);
typedef void ev_signal_fn(struct ev_loop *loop, int signo, void *arg);
typedef void ev_child_fn(struct ev_loop *loop, pid_t pid, int status,
    void *arg);

/* A new loop, or NULL (E_IO / E_NOMEM in *err when err is not NULL). */
struct ev_loop *ev_new(int *err) WUR;
/* Frees the loop (not the fds or args it was given); NULL does nothing. */
void ev_free(struct ev_loop *loop);

/*
 * Watch `fd` for `events` (EV_READ|EV_WRITE, level-triggered); `fn` gets
 * the events that happened (EV_ERROR for EPOLLERR/EPOLLHUP). E_EXIST if
 * `fd` is watched already.
 */
int ev_fd_add(struct ev_loop *loop, int fd, unsigned events, ev_fd_fn *fn,
    void *arg) WUR;
/* Change the interest set of a watched fd (0 pauses it). */
int ev_fd_mod(struct ev_loop *loop, int fd, unsigned events) WUR;
/* Stop watching `fd`; E_NOTFOUND if it was not watched. Does not close. */
int ev_fd_del(struct ev_loop *loop, int fd);

/*
 * Call `fn` once, `delay_ms` from now. Returns a timer id (> 0) or a
 * negative E_* code. Ids are never reused while the loop lives.
 */
int64_t ev_timer_add(struct ev_loop *loop, uint64_t delay_ms, ev_timer_fn *fn,
    void *arg) WUR;
/* Cancel a pending timer; E_NOTFOUND if it fired or never existed. */
int ev_timer_del(struct ev_loop *loop, uint64_t id);

/*
 * Deliver signal `signo` through the loop: blocks it for the process and
 * calls `fn` from the loop when it arrives. One handler per signal.
 */
int ev_signal_add(struct ev_loop *loop, int signo, ev_signal_fn *fn,
    void *arg) WUR;

/*
 * Call `fn` once, from the loop, with the wait status of child `pid` when
 * it ends; the loop reaps it (waitpid on that pid only: other children
 * are left to whoever waits for them). The watch ends with the call. The
 * loop takes SIGCHLD for this (through ev_signal_add(), so SIGCHLD cannot
 * have a handler of its own: E_EXIST). A child that ended before the
 * watch is reported too; one reaped by someone else (ECHILD) is dropped
 * without a call. E_EXIST if `pid` is watched, E_LIMIT past EV_CHILD_MAX.
 */
#define EV_CHILD_MAX 16
int ev_child_add(struct ev_loop *loop, pid_t pid, ev_child_fn *fn, void *arg)
    WUR;
/* Stop watching `pid` (not reaped); E_NOTFOUND if it was not watched. */
int ev_child_del(struct ev_loop *loop, pid_t pid);

/*
 * A waiter replaces the loop's epoll_wait() (e.g. an io_uring that
 * watches the epoll descriptor among its own completions, so that one
 * system call waits for both). Each iteration calls `fn` with the epoll
 * descriptor and the longest it may block (`timeout_ms`, -1: no limit).
 * `fn` returns when `epfd` is readable, when it has handled work of its
 * own, or when the time is up; it should refresh the clock with
 * ev_now_update() before handling its own work. It sets *ready to 1 when
 * `epfd` may be readable (the loop then collects and dispatches its
 * events without blocking) and leaves it 0 when not (then there is no
 * epoll_wait() system call at all); it returns how many pieces of work it
 * handled (added to ev_run_once()'s count) or a negative E_* code
 * (ev_run_once() then fails with E_IO). One waiter per loop: E_EXIST;
 * ev_clear_waiter() removes it.
 */
typedef int ev_wait_fn(struct ev_loop *loop, int epfd, int timeout_ms,
    int *ready, void *arg);
int ev_set_waiter(struct ev_loop *loop, ev_wait_fn *fn, void *arg) WUR;
void ev_clear_waiter(struct ev_loop *loop);

/* The cached monotonic time of this iteration, in ms / ns. */
uint64_t ev_now_ms(const struct ev_loop *loop);
uint64_t ev_now_ns(const struct ev_loop *loop);
/* Refresh the cached time (for a waiter that handled work after blocking). */
void ev_now_update(struct ev_loop *loop);
/* Read the monotonic clock now (ns), uncached. */
uint64_t ev_clock_ns(void);

/*
 * One iteration: wait at most `max_wait_ms` (-1: until the next timer or
 * event), dispatch fd events, then due timers. Returns the number of
 * callbacks run, or E_IO.
 */
int ev_run_once(struct ev_loop *loop, int max_wait_ms);
/* Iterate until ev_stop(); returns 0, or E_IO if epoll failed. */
int ev_run(struct ev_loop *loop);
/* Make ev_run() return after the current iteration. */
void ev_stop(struct ev_loop *loop);

#endif
