/* test_supervise.c - unit tests for the gateway supervisor, with fake tools. */
/*
 * The tools are this program run again with a role in argv[1]: a bridge
 * that answers every datagram on the ng port with "pong", a terminator
 * that prints its ready line, and variants that exit, never answer or
 * ignore SIGTERM. What the supervisor says is collected from its logger
 * and checked in order.
 */
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/ev.h"
#include "base/log.h"
#include "gw/gwconf.h"
#include "gw/resolve.h"
#include "gw/supervise.h"
#include "t.h"

static char self[PATH_MAX];
static const char *term_prog;	/* NULL: this program */
static char said[8192], out[4096];
static size_t nsaid, nout;

/* --- the fake tools --- */

static int term_code;	/* a fake's exit status on SIGTERM */

static void
on_term(int signo)
{
	(void)signo;
	_exit(term_code);
}

static void
on_hup(int signo)
{
	(void)signo;
	if (write(1, "hup\n", 4) < 0)
		_exit(1);
}

/* What a tool does once it has installed its handlers. */
static void
unblock(void)
{
	sigset_t all;

	signal(SIGTERM, on_term);
	signal(SIGHUP, on_hup);
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
}

static int
fake(int argc, char **argv)
{
	struct sockaddr_in sin;
	struct sockaddr_storage from;
	socklen_t fl;
	uint8_t b[2048];
	int fd, code;

	if (strcmp(argv[1], "bridge") == 0 && argc == 3) {
		unblock();
		signal(SIGHUP, SIG_IGN);	/* its stdout is the test's */
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin.sin_port = htons((uint16_t)strtoul(argv[2], NULL, 10));
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sin,
		    sizeof(sin)) != 0)
			return 1;
		for (;;) {
			fl = sizeof(from);
			if (recvfrom(fd, b, sizeof(b), 0,
			    (struct sockaddr *)&from, &fl) >= 0)
				(void)sendto(fd, "pong", 4, 0,
				    (struct sockaddr *)&from, fl);
		}
	}
	if (strcmp(argv[1], "deaf") == 0) {
		/* TERM stays blocked, as the supervisor started it */
		for (;;)
			pause();
	}
	if (strcmp(argv[1], "term") == 0 && argc == 3) {
		unblock();
		printf("listening tls 127.0.0.1:1\ninside udp 127.0.0.1:2\n");
		fflush(stdout);
		code = (int)strtol(argv[2], NULL, 10);
		if (code == -2)		/* runs, exits 1 on SIGTERM */
			term_code = 1;
		if (code >= 0) {
			usleep(300 * 1000);
			return code;
		}
		for (;;)
			pause();
	}
	return 2;
}

/* --- the supervisor under test --- */

static void
say(void *arg, enum log_level lvl, const char *msg)
{
	int n;

	(void)arg;
	(void)lvl;
	n = snprintf(said + nsaid, sizeof(said) - nsaid, "%s\n", msg);
	if (n > 0 && (size_t)n < sizeof(said) - nsaid)
		nsaid += (size_t)n;
}

static void
copy_out(void *arg, const uint8_t *p, size_t n)
{
	(void)arg;
	if (n > sizeof(out) - 1 - nout)
		n = sizeof(out) - 1 - nout;
	memcpy(out + nout, p, n);
	nout += n;
	out[nout] = '\0';
}

static int
is_pong(void *arg, const uint8_t *p, size_t n)
{
	(void)arg;
	return n == 4 && memcmp(p, "pong", 4) == 0;
}

/* Signals sent once the gateway is ready: HUP (then TERM once the
 * terminator said "hup"), or TERM; and a guard: TERM after 5 s, so that
 * a broken supervisor fails the test rather than hanging it. */
struct script {
	int sig, step, ticks;
};
static int guarded;

static void
poke(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct script *s = arg;

	(void)id;
	if (++s->ticks == 250) {
		printf("# guard: SIGTERM after 5 s\n");
		guarded = 1;
		(void)kill(getpid(), SIGTERM);
		return;
	}
	if (s->sig != 0 && s->step == 0 &&
	    strstr(said, "\nready: ") != NULL) {
		(void)kill(getpid(), s->sig);
		s->step = s->sig == SIGHUP ? 1 : 2;
	} else if (s->step == 1 && strstr(out, "hup\n") != NULL) {
		(void)kill(getpid(), SIGTERM);
		s->step = 2;
	}
	if (ev_timer_add(loop, 20, poke, s) < 0)
		printf("# poke: no timer\n");
}

/* A free UDP port on 127.0.0.1. */
static unsigned
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t l = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned p = 0;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &l) == 0)
		p = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return p;
}

/*
 * Run a gateway of fakes `bridge` and `term` (roles; "bridge" gets the
 * port) with timeouts of 1 s; `sig`: sent once ready (0: none). The
 * return of gw_supervise(), *failed as it set it.
 */
static int
gateway(const char *bridge, const char *term, const char *term_arg, int sig,
    int *failed)
{
	char port[16], ng[32], why[256] = "";
	char *bargv[4], *targv[4];
	struct logger lg = { say, NULL, LOG_DEBUG };
	struct script sc = { sig, 0, 0 };
	struct gw_sup_opts o;
	struct ev_loop *loop;
	int e;

	nsaid = nout = 0;
	said[0] = '\n';		/* so that every line follows a newline */
	said[1] = out[0] = '\0';
	nsaid = 1;
	snprintf(port, sizeof(port), "%u", free_port());
	snprintf(ng, sizeof(ng), "127.0.0.1:%s", port);
	bargv[0] = self;
	bargv[1] = (char *)bridge;
	bargv[2] = port;
	bargv[3] = NULL;
	targv[0] = term_prog != NULL ? (char *)term_prog : self;
	targv[1] = (char *)term;
	targv[2] = (char *)term_arg;
	targv[3] = NULL;
	memset(&o, 0, sizeof(o));
	o.argv[GW_SRTP_BRIDGE] = bargv;
	o.argv[GW_SIP_TLS_TERM] = targv;
	o.ng = ng;
	o.ping = (const uint8_t *)"ping";
	o.ping_len = 4;
	o.is_pong = is_pong;
	o.ready_line = "inside udp ";
	o.ready_timeout = 1;
	o.stop_timeout = 1;
	o.log = &lg;
	o.out = copy_out;
	if ((loop = ev_new(NULL)) == NULL)
		return E_NOMEM;
	if (ev_timer_add(loop, 20, poke, &sc) < 0)
		return E_NOMEM;
	*failed = -1;
	e = gw_supervise(loop, &o, failed, why, sizeof(why));
	if (e != 0)
		printf("# gw_supervise: %s\n", why);
	ev_free(loop);
	return e;
}

/* Do the lines `want` (each "...\n") appear in what was said, in order? */
static int
in_order(const char *const *want)
{
	const char *p = said;

	for (; *want != NULL; want++) {
		if ((p = strstr(p, *want)) == NULL) {
			printf("# missing, or out of order: %s", *want);
			printf("# said:%s", said);
			return 0;
		}
		p += strlen(*want) - 1;	/* its newline starts the next */
	}
	return 1;
}

static void
test_stop(void)
{
	static const char *const want[] = { "\nsrtp-bridge: started, pid ",
	    "\nsip-tls-term: started, pid ", "\nready: srtp-bridge pid ",
	    "\nSIGHUP: reloading\n", "\nstopping\n", "\nstopped\n", NULL };
	int failed;

	T_EQ_INT(gateway("bridge", "term", "-1", SIGHUP, &failed), 0,
	    "stop: runs");
	T_EQ_INT(failed, 0, "stop: SIGTERM, both exit 0: not failed");
	T_OK(in_order(want), "stop: started, ready, reloading, stopping, "
	    "stopped");
	T_OK(strstr(out, "inside udp 127.0.0.1:2\n") != NULL,
	    "stop: the terminator's output is passed on");
	T_OK(strstr(out, "hup\n") != NULL,
	    "stop: SIGHUP was passed on to it");
	T_OK(!guarded, "stop: on its own, before the guard");
}

static void
test_unclean(void)
{
	static const char *const want[] = { "\nready: ", "\nstopping\n",
	    "\nstopped, not cleanly\n", NULL };
	int failed;

	T_EQ_INT(gateway("bridge", "term", "-2", SIGTERM, &failed), 0,
	    "unclean: runs");
	T_EQ_INT(failed, 1, "unclean: a tool exiting 1 on SIGTERM: failed");
	T_OK(in_order(want), "unclean: stopped, not cleanly");
}

static void
test_died(void)
{
	static const char *const want[] = { "\nready: ",
	    "\nsip-tls-term: exited with status 3\n",
	    "\na tool died: gateway stopped\n", NULL };
	int failed;

	T_EQ_INT(gateway("bridge", "term", "3", 0, &failed), 0, "died: runs");
	T_EQ_INT(failed, 1, "died: failed");
	T_OK(in_order(want), "died: its exit said, the gateway stopped");
	T_OK(strstr(said, "\nstopping\n") == NULL, "died: not 'stopping'");
}

static void
test_startup(void)
{
	static const char *const never[] = { "\nsrtp-bridge: started, pid ",
	    "\nsrtp-bridge: not ready after 1 s\n",
	    "\nsrtp-bridge: still running after 1 s: SIGKILL\n",
	    "\nstart-up failed\n", NULL };
	int failed;

	T_EQ_INT(gateway("deaf", "term", "-1", 0, &failed), 0,
	    "never ready: runs");
	T_EQ_INT(failed, 1, "never ready: failed");
	T_OK(in_order(never), "never ready, deaf: not ready, SIGKILL, "
	    "start-up failed");
	T_OK(strstr(said, "sip-tls-term: started") == NULL,
	    "never ready: the terminator is not started");

	/* a role it does not know: it exits 2 at once, never ready */
	T_EQ_INT(gateway("bridge", "nothing", "-1", 0, &failed), 0,
	    "exits at start: runs");
	T_EQ_INT(failed, 1, "exits at start: failed");
	T_OK(strstr(said, "\nsip-tls-term: exited with status 2\n") != NULL &&
	    strstr(said, "\nstart-up failed\n") != NULL &&
	    strstr(said, "not ready") == NULL,
	    "exits at start: its exit said, start-up failed");
}

static void
test_cannot_run(void)
{
	static const char *const want[] = { "\nsrtp-bridge: started, pid ",
	    "\nsip-tls-term: cannot run /nonexistent/stt: No such file or "
	    "directory\n", "\nstart-up failed\n", NULL };
	int failed;

	term_prog = "/nonexistent/stt";
	T_EQ_INT(gateway("bridge", "term", "-1", 0, &failed), 0,
	    "cannot run: runs");
	term_prog = NULL;
	T_EQ_INT(failed, 1, "cannot run: failed");
	T_OK(in_order(want), "cannot run: said, start-up failed");
	T_OK(strstr(said, "not ready") == NULL, "cannot run: not 'not ready'");
}

static void
test_resolve(void)
{
	struct gwconf *c = gwconf_new();
	char why[256] = "";
	const char *ng;

	T_OK(c != NULL && gwconf_set(c, SLICE_LIT("outside"),
	    SLICE_LIT("127.0.0.1"), why, sizeof(why)) == 0 &&
	    gwconf_set(c, SLICE_LIT("registrar"), SLICE_LIT("yes"), why,
	    sizeof(why)) == 0 && gwconf_set(c, SLICE_LIT("ng"),
	    SLICE_LIT("127.0.0.1:0"), why, sizeof(why)) == 0,
	    "resolve: a configuration (%s)", why);
	T_EQ_INT(gw_resolve(c, why, sizeof(why)), 0, "resolve: ok (%s)", why);
	T_EQ_STR(gwconf_get(c, "inside"), "127.0.0.1",
	    "resolve: no upstream: inside is the outside host");
	ng = gwconf_get(c, "ng");
	T_OK(ng != NULL && strncmp(ng, "127.0.0.1:", 10) == 0 &&
	    strcmp(ng, "127.0.0.1:0") != 0, "resolve: ng gets a port (%s)",
	    ng != NULL ? ng : "NULL");
	gwconf_free(c);
}

int
main(int argc, char **argv)
{
	ssize_t n;

	if (argc >= 2)
		return fake(argc, argv);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		printf("Bail out! /proc/self/exe\n");
		return 1;
	}
	self[n] = '\0';
	test_stop();
	test_unclean();
	test_died();
	test_startup();
	test_cannot_run();
	test_resolve();
	return t_done();
}
