/* supervise.c - the gateway's tools on an event loop: start, watch, stop. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/net.h"
#include "gw/proc.h"
#include "gw/supervise.h"

#define OUT_KEEP	(64 * 1024)	/* sip-tls-term's output until ready */
#define PING_MS		100

/*
 * The supervisor is a state machine stepped after every iteration of the
 * loop: the callbacks only record what happened (a pong, a child's exit,
 * a signal, a timeout), and step() decides, so that everything one
 * iteration brought is seen before a decision.
 */
enum phase {
	P_BRIDGE,	/* srtp-bridge started, waiting for its pong */
	P_TERM,		/* sip-tls-term started, waiting for its ready line */
	P_RUN,		/* both ready */
	P_STOP,		/* stopping sip-tls-term, then srtp-bridge */
	P_DONE
};

/* Why we are stopping: what is said when both are down. */
enum reason { R_STARTUP, R_SIGNAL, R_DIED };

/* Stopping one tool: SIGTERM sent, SIGKILL sent. */
enum stopping { S_BEGIN, S_TERM, S_KILL };

struct child {
	const char *name;
	pid_t pid;		/* 0: not running */
	int status;		/* wait status once reaped */
	int reaped;
};

struct sup {
	struct ev_loop *loop;
	const struct gw_sup_opts *o;
	struct child ch[GW_NCHILD];
	enum phase phase;
	enum reason reason;
	enum stopping ss;
	size_t si;		/* stop order index */
	int unclean;		/* a tool stopped not cleanly */
	int failed;
	int stop;		/* TERM or INT arrived */
	int outfd;		/* sip-tls-term's stdout, -1 when closed */
	struct buf *out;	/* what it printed before it was ready */
	int ngfd;		/* the probe's socket, -1 when closed */
	int pong;
	uint64_t deadline;	/* timer id of the running deadline, 0: none */
	int timed_out;
	uint64_t ping_timer;
	int err;		/* the supervisor failed: E_* with why */
	char *why;
	size_t whysz;
};

/* sip-tls-term first: it drives the relay */
static const enum gw_child stop_order[GW_NCHILD] = {
	GW_SIP_TLS_TERM, GW_SRTP_BRIDGE
};

static void
fail(struct sup *s, int e, const char *what, int errnum)
{
	if (s->err != 0)
		return;
	s->err = e;
	sbk_why(s->why, s->whysz, "%s%s%s", what != NULL ? what : "",
	    what != NULL ? ": " : "", errnum != 0 ? strerror(errnum) :
	    sbk_strerror(e));
}

/* Tell the service manager (systemd Type=notify) how we are. */
static void
notify(const struct sup *s, const char *state)
{
	const char *p = s->o->notify_socket;
	struct sockaddr_un sun;
	size_t len;
	int fd;

	if (p == NULL || (p[0] != '/' && p[0] != '@') ||
	    (len = strlen(p)) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, p, len);
	if (p[0] == '@')
		sun.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	(void)sendto(fd, state, strlen(state), 0, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

/* --- timers --- */

static void
on_deadline(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct sup *s = arg;

	(void)loop;
	(void)id;
	s->deadline = 0;
	s->timed_out = 1;
}

static void
deadline_clear(struct sup *s)
{
	if (s->deadline != 0)
		(void)ev_timer_del(s->loop, s->deadline);
	s->deadline = 0;
	s->timed_out = 0;
}

static void
deadline_set(struct sup *s, unsigned seconds)
{
	int64_t id;

	deadline_clear(s);
	if ((id = ev_timer_add(s->loop, 1000ull * seconds, on_deadline, s)) < 0)
		fail(s, (int)id, "timer", 0);
	else
		s->deadline = (uint64_t)id;
}

/* --- events --- */

static void
on_child(struct ev_loop *loop, pid_t pid, int status, void *arg)
{
	struct sup *s = arg;
	int i;

	(void)loop;
	for (i = 0; i < GW_NCHILD; i++)
		if (s->ch[i].pid == pid && !s->ch[i].reaped) {
			s->ch[i].status = status;
			s->ch[i].reaped = 1;
		}
}

static void
forward(struct sup *s, int signo)
{
	int i;

	for (i = 0; i < GW_NCHILD; i++) {
		if (s->ch[i].pid == 0 || s->ch[i].reaped)
			continue;
		/* sip-tls-term has no SIGUSR1: it would kill it */
		if (signo == SIGUSR1 && i != GW_SRTP_BRIDGE)
			continue;
		(void)kill(s->ch[i].pid, signo);
	}
}

static void
on_signal(struct ev_loop *loop, int signo, void *arg)
{
	struct sup *s = arg;

	(void)loop;
	switch (signo) {
	case SIGTERM:
	case SIGINT:
		s->stop = 1;
		break;
	case SIGHUP:
		log_msg(s->o->log, LOG_INFO, "SIGHUP: reloading");
		forward(s, SIGHUP);
		break;
	case SIGUSR1:
		forward(s, SIGUSR1);
		break;
	}
}

/* Pass on what sip-tls-term printed (and keep it until it is ready). */
static void
on_out(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct sup *s = arg;
	uint8_t tmp[4096];
	ssize_t n;

	(void)events;
	for (;;) {
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			(void)ev_fd_del(loop, fd);
			close(fd);
			s->outfd = -1;
			return;
		}
		if (s->o->out != NULL)
			s->o->out(s->o->out_arg, tmp, (size_t)n);
		if (s->out != NULL && buf_append(s->out, tmp, (size_t)n) != 0)
			buf_consume(s->out, buf_len(s->out));
	}
}

static void
on_pong(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct sup *s = arg;
	uint8_t rep[2048];
	ssize_t n;

	(void)loop;
	(void)events;
	while ((n = recv(fd, rep, sizeof(rep), MSG_DONTWAIT)) > 0)
		if (s->o->is_pong(s->o->pong_arg, rep, (size_t)n))
			s->pong = 1;
}

static void
on_ping(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct sup *s = arg;
	int64_t r;

	(void)id;
	s->ping_timer = 0;
	if (s->ngfd < 0)
		return;
	(void)send(s->ngfd, s->o->ping, s->o->ping_len, 0);
	if ((r = ev_timer_add(loop, PING_MS, on_ping, s)) < 0)
		fail(s, (int)r, "timer", 0);
	else
		s->ping_timer = (uint64_t)r;
}

/* --- starting --- */

static void
probe_open(struct sup *s)
{
	struct net_addr ng;
	int e;

	if (net_addr_parse(slice_cstr(s->o->ng), &ng) != 0 ||
	    (s->ngfd = socket(net_addr_family(&ng), SOCK_DGRAM | SOCK_CLOEXEC,
	    0)) < 0 || connect(s->ngfd, &ng.u.sa, ng.len) != 0) {
		fail(s, E_IO, "ng", errno);
		return;
	}
	if ((e = ev_fd_add(s->loop, s->ngfd, EV_READ, on_pong, s)) != 0) {
		fail(s, e, "ng", 0);
		return;
	}
	on_ping(s->loop, 0, s);		/* the first one now */
}

static void
probe_close(struct sup *s)
{
	if (s->ping_timer != 0)
		(void)ev_timer_del(s->loop, s->ping_timer);
	s->ping_timer = 0;
	if (s->ngfd >= 0) {
		(void)ev_fd_del(s->loop, s->ngfd);
		close(s->ngfd);
	}
	s->ngfd = -1;
}

/*
 * Start child `i` and its wait for readiness. Its signal mask keeps
 * TERM, INT, HUP (and USR1 for srtp-bridge) blocked across exec, so one
 * that arrives before the tool installs its handlers waits for them
 * instead of killing it. It gets SIGTERM if we die (even by SIGKILL): no
 * orphans.
 */
static void
start(struct sup *s, enum gw_child i)
{
	struct child *c = &s->ch[i];
	struct proc_opts po;
	sigset_t mask;
	int e, xe, fd = -1;

	s->phase = i == GW_SRTP_BRIDGE ? P_BRIDGE : P_TERM;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (i == GW_SRTP_BRIDGE)
		sigaddset(&mask, SIGUSR1);
	po = (struct proc_opts){ &mask, i == GW_SIP_TLS_TERM, SIGTERM, NULL };
	/* the relay's per-call state on huge pages: at many streams it is
	 * cold, and on 4 KiB pages its address translation too ("Tuning" in
	 * srtp-bridge(1)); an inherited GLIBC_TUNABLES is left as it is */
	if (i == GW_SRTP_BRIDGE)
		po.env_default = "GLIBC_TUNABLES=glibc.malloc.hugetlb=1";
	e = proc_spawn(s->o->argv[i], &po, &c->pid, &fd, &xe);
	if (e == E_NOTFOUND) {
		log_msg(s->o->log, LOG_ERR, "%s: cannot run %s: %s", c->name,
		    s->o->argv[i][0], strerror(xe));
		c->pid = 0;
		return;
	}
	if (e != 0) {
		fail(s, e, c->name, errno);
		return;
	}
	log_msg(s->o->log, LOG_INFO, "%s: started, pid %ld", c->name,
	    (long)c->pid);
	if ((e = ev_child_add(s->loop, c->pid, on_child, s)) != 0) {
		fail(s, e, c->name, 0);
		return;
	}
	if (fd >= 0) {
		s->outfd = fd;
		if ((e = ev_fd_add(s->loop, fd, EV_READ, on_out, s)) != 0) {
			fail(s, e, c->name, 0);
			return;
		}
	}
	deadline_set(s, s->o->ready_timeout);
	if (i == GW_SRTP_BRIDGE)
		probe_open(s);
}

static int
dead(const struct sup *s)
{
	int i;

	for (i = 0; i < GW_NCHILD; i++)
		if (s->ch[i].pid != 0 && s->ch[i].reaped)
			return 1;
	return 0;
}

static void
describe_exits(const struct sup *s)
{
	char st[64];
	int i;

	for (i = 0; i < GW_NCHILD; i++)
		if (s->ch[i].reaped &&
		    proc_status_str(s->ch[i].status, st, sizeof(st)) == 0)
			log_msg(s->o->log, LOG_ERR, "%s: %s", s->ch[i].name,
			    st);
}

static int
line_ready(const struct sup *s)
{
	return s->out != NULL && buf_len(s->out) > 0 &&
	    slice_find(buf_slice(s->out), slice_cstr(s->o->ready_line)) >= 0
	    && buf_data(s->out)[buf_len(s->out) - 1] == '\n';
}

static void
stop_begin(struct sup *s, enum reason r)
{
	s->reason = r;
	s->phase = P_STOP;
	s->si = 0;
	s->ss = S_BEGIN;
}

/* A tool did not come up, or we were told to stop while it did. */
static void
startup_over(struct sup *s)
{
	if (!s->stop) {
		describe_exits(s);
		stop_begin(s, R_STARTUP);
		return;
	}
	buf_free(s->out);
	s->out = NULL;
	notify(s, "STOPPING=1");
	log_msg(s->o->log, LOG_INFO, "stopping");
	stop_begin(s, R_SIGNAL);
}

static void
ready(struct sup *s)
{
	buf_free(s->out);
	s->out = NULL;
	s->phase = P_RUN;
	log_msg(s->o->log, LOG_INFO, "ready: srtp-bridge pid %ld (ng %s), "
	    "sip-tls-term pid %ld", (long)s->ch[GW_SRTP_BRIDGE].pid, s->o->ng,
	    (long)s->ch[GW_SIP_TLS_TERM].pid);
	notify(s, "READY=1");
}

/* --- stopping --- */

static void
stopped_one(struct sup *s, int clean)
{
	if (!clean)
		s->unclean = 1;
	s->ss = S_BEGIN;
	if (++s->si < GW_NCHILD)
		return;
	s->phase = P_DONE;
	switch (s->reason) {
	case R_STARTUP:
		log_msg(s->o->log, LOG_ERR, "start-up failed");
		s->failed = 1;
		break;
	case R_SIGNAL:
		log_msg(s->o->log, s->unclean ? LOG_ERR : LOG_INFO,
		    s->unclean ? "stopped, not cleanly" : "stopped");
		s->failed = s->unclean;
		break;
	case R_DIED:
		log_msg(s->o->log, LOG_ERR, "a tool died: gateway stopped");
		s->failed = 1;
		break;
	}
}

static int
exited_0(const struct child *c)
{
	return WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0;
}

/* Stop the tool at s->si: SIGTERM, up to stop-timeout, then SIGKILL. */
static int
stop_step(struct sup *s)
{
	struct child *c = &s->ch[stop_order[s->si]];

	switch (s->ss) {
	case S_BEGIN:
		if (c->pid == 0) {
			stopped_one(s, 1);
			return 1;
		}
		if (c->reaped) {
			stopped_one(s, exited_0(c));
			return 1;
		}
		(void)kill(c->pid, SIGTERM);
		deadline_set(s, s->o->stop_timeout);
		s->ss = S_TERM;
		return 1;
	case S_TERM:
		if (c->reaped) {
			deadline_clear(s);
			stopped_one(s, exited_0(c));
			return 1;
		}
		if (!s->timed_out)
			return 0;
		log_msg(s->o->log, LOG_ERR, "%s: still running after %u s: "
		    "SIGKILL", c->name, s->o->stop_timeout);
		(void)kill(c->pid, SIGKILL);
		s->timed_out = 0;
		s->ss = S_KILL;
		return 1;
	case S_KILL:
		if (!c->reaped)
			return 0;
		stopped_one(s, 0);
		return 1;
	}
	return 0;
}

/* --- the state machine --- */

/* Act on what the loop brought; 1 if the state moved (step again). */
static int
step(struct sup *s)
{
	enum gw_child i;
	int over;

	switch (s->phase) {
	case P_BRIDGE:
	case P_TERM:
		i = s->phase == P_BRIDGE ? GW_SRTP_BRIDGE : GW_SIP_TLS_TERM;
		over = s->stop || dead(s) || s->timed_out;
		if (s->ch[i].pid != 0 && (i == GW_SRTP_BRIDGE ? s->pong :
		    !over && line_ready(s))) {
			deadline_clear(s);
			if (i == GW_SRTP_BRIDGE) {
				probe_close(s);
				start(s, GW_SIP_TLS_TERM);
			} else
				ready(s);
			return 1;
		}
		if (s->ch[i].pid != 0 && !over)
			return 0;
		if (s->ch[i].pid != 0 && !s->stop && !dead(s))
			log_msg(s->o->log, LOG_ERR, "%s: not ready after %u s",
			    s->ch[i].name, s->o->ready_timeout);
		deadline_clear(s);
		probe_close(s);
		startup_over(s);
		return 1;
	case P_RUN:
		if (!s->stop && !dead(s))
			return 0;
		notify(s, "STOPPING=1");
		if (s->stop) {
			log_msg(s->o->log, LOG_INFO, "stopping");
			stop_begin(s, R_SIGNAL);
		} else {
			describe_exits(s);
			stop_begin(s, R_DIED);
		}
		return 1;
	case P_STOP:
		return stop_step(s);
	case P_DONE:
		break;
	}
	return 0;
}

int
gw_supervise(struct ev_loop *loop, const struct gw_sup_opts *o, int *failed,
    char *why, size_t whysz)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	struct sup s;
	size_t k;
	int e;

	memset(&s, 0, sizeof(s));
	s.loop = loop;
	s.o = o;
	s.outfd = s.ngfd = -1;
	s.why = why;
	s.whysz = whysz;
	for (k = 0; k < GW_NCHILD; k++)
		s.ch[k].name = gwconf_child_name((enum gw_child)k);
	for (k = 0; k < sizeof(sigs) / sizeof(*sigs); k++)
		if ((e = ev_signal_add(loop, sigs[k], on_signal, &s)) != 0) {
			fail(&s, e, "signals", e == E_IO ? errno : 0);
			return s.err;
		}
	if ((s.out = buf_new(OUT_KEEP)) == NULL) {
		fail(&s, E_NOMEM, NULL, 0);
		return s.err;
	}
	start(&s, GW_SRTP_BRIDGE);
	while (s.err == 0 && s.phase != P_DONE) {
		while (s.err == 0 && step(&s))
			;
		if (s.err != 0 || s.phase == P_DONE)
			break;
		if ((e = ev_run_once(loop, -1)) < 0)
			fail(&s, e, "event loop", errno);
	}
	probe_close(&s);
	deadline_clear(&s);
	if (s.outfd >= 0) {
		(void)ev_fd_del(loop, s.outfd);
		close(s.outfd);
	}
	for (k = 0; k < GW_NCHILD; k++)
		if (s.ch[k].pid != 0 && !s.ch[k].reaped)
			(void)ev_child_del(loop, s.ch[k].pid);
	buf_free(s.out);
	*failed = s.failed;
	return s.err;
}
