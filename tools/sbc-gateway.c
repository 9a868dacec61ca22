/* sbc-gateway.c - start srtp-bridge and sip-tls-term together, supervise. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "base/ev.h"
#include "gw/gwconf.h"
#include "base/net.h"
#include "ng/ng.h"
#include "gw/proc.h"

#define CONF_MAX	(64 * 1024)	/* largest config file */
#define MAX_OPTS	64

struct child {
	const char *name;
	char **argv;
	pid_t pid;		/* 0: not running */
	int status;		/* wait status once reaped */
	int reaped;
};

struct gw {
	struct gwconf *conf;
	struct child ch[GW_NCHILD];
	int sfd;		/* signalfd: TERM INT HUP USR1 CHLD */
	int outfd;		/* sip-tls-term's stdout, -1 when closed */
	struct buf *out;	/* what it printed before it was ready */
	int stop;		/* TERM or INT arrived */
};

static void
usage(void)
{
	struct gwconf_key k;
	size_t i;

	printf("usage: sbc-gateway [-c FILE] [--KEY VALUE ...] "
	    "[--print-config | --dry-run]\n\n"
	    "Starts srtp-bridge, then sip-tls-term pointed at it, and runs "
	    "them until SIGTERM.\n"
	    "  -c, --config FILE       read KEY = VALUE lines (the command "
	    "line wins)\n"
	    "      --print-config      print the effective configuration\n"
	    "  -n, --dry-run           print the two command lines, start "
	    "nothing\n"
	    "  -v                      one more --verbose level\n"
	    "  -h, --help, -V, --version\n\nKeys (-o outside, -i inside, "
	    "-u upstream):\n");
	for (i = 0; gwconf_key(i, &k) == 0; i++)
		printf("      --%-20s%s%s%s%s\n", k.name, k.help,
		    k.def != NULL ? " [" : "", k.def != NULL ? k.def : "",
		    k.def != NULL ? "]" : "");
	exit(XC_OK);
}

/* Fill in what needs the system: inside (towards upstream), ng port. */
static void
resolve(struct gwconf *c)
{
	char a[NET_ADDR_STRLEN], why[256];
	struct net_addr na, src;
	int fd, tcp, r = 0;
	const char *up = gwconf_upstream(c, &tcp);

	if (!gwconf_is_set(c, "inside")) {
		struct slice o = slice_cstr(gwconf_get(c, "outside")), host;

		(void)slice_split(&o, '!', &host);
		if (up != NULL) {
			if (net_addr_parse(slice_cstr(up), &na) != 0 ||
			    (r = net_route_src(&na, &src)) == E_IO)
				cli_die(XC_FAIL, "inside: %s", strerror(errno));
			if (r != 0 ||
			    net_addr_format_host(&src, a, sizeof(a)) != 0)
				cli_die(XC_FAIL, "inside: no route to %s: %s",
				    up, strerror(errno));
			host = slice_cstr(a);
		}
		if (gwconf_set(c, slice_cstr("inside"), host, why,
		    sizeof(why)) != 0)
			cli_die(XC_FAIL, "inside: %s", why);
	}
	if (net_addr_parse(slice_cstr(gwconf_get(c, "ng")), &na) == 0 &&
	    net_addr_port(&na) == 0) {
		/* a free port: the kernel picks, srtp-bridge binds it next */
		if (net_udp_bind(&na, 0, &fd) != 0 ||
		    net_local_addr(fd, &na) != 0 ||
		    net_addr_format(&na, a, sizeof(a)) != 0)
			cli_die(XC_FAIL, "ng: %s", strerror(errno));
		close(fd);
		if (gwconf_set(c, slice_cstr("ng"), slice_cstr(a), why,
		    sizeof(why)) != 0)
			cli_die(XC_FAIL, "ng: %s", why);
	}
}

static uint64_t
now_ms(void)
{
	return ev_clock_ns() / 1000000;
}

static unsigned
conf_uint(const struct gwconf *c, const char *key)
{
	uint64_t u = 0;

	if (slice_to_u64(slice_cstr(gwconf_get(c, key)), UINT32_MAX, &u) != 0)
		return 0;
	return (unsigned)u;
}

/* Tell systemd (Type=notify) how we are, if it asked. */
static void
notify(const char *state)
{
	const char *p = getenv("NOTIFY_SOCKET");
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

/*
 * Start child `i`. Its signal mask keeps TERM, INT, HUP (and USR1 for
 * srtp-bridge) blocked across exec, so one that arrives before the tool
 * installs its handlers waits for them instead of killing it. It gets
 * SIGTERM if the launcher dies (even by SIGKILL): no orphans.
 */
static void
spawn(struct gw *g, enum gw_child i)
{
	struct child *c = &g->ch[i];
	struct proc_opts po;
	sigset_t mask;
	int e, xe;

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
	e = proc_spawn(c->argv, &po, &c->pid, &g->outfd, &xe);
	if (e == E_NOTFOUND)
		cli_err("%s: cannot run %s: %s", c->name, c->argv[0],
		    strerror(xe));
	else if (e != 0)
		cli_die(XC_FAIL, "%s: %s", c->name, strerror(errno));
	else
		cli_err("%s: started, pid %ld", c->name, (long)c->pid);
}

static void
describe_exit(const struct child *c)
{
	char st[64];

	if (proc_status_str(c->status, st, sizeof(st)) == 0)
		cli_err("%s: %s", c->name, st);
}

static void
reap(struct gw *g)
{
	pid_t pid;
	int st, i;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		for (i = 0; i < GW_NCHILD; i++)
			if (g->ch[i].pid == pid && !g->ch[i].reaped) {
				g->ch[i].status = st;
				g->ch[i].reaped = 1;
			}
}

static void
forward(struct gw *g, int signo)
{
	int i;

	for (i = 0; i < GW_NCHILD; i++) {
		if (g->ch[i].pid == 0 || g->ch[i].reaped)
			continue;
		/* sip-tls-term has no SIGUSR1: it would kill it */
		if (signo == SIGUSR1 && i != GW_SRTP_BRIDGE)
			continue;
		(void)kill(g->ch[i].pid, signo);
	}
}

/* Copy what sip-tls-term printed to stdout (and keep it until ready). */
static void
drain_out(struct gw *g)
{
	uint8_t tmp[4096];
	ssize_t n;

	while (g->outfd >= 0) {
		n = read(g->outfd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(g->outfd);
			g->outfd = -1;
			return;
		}
		cli_write_stdout(tmp, (size_t)n);
		fflush(stdout);
		if (g->out != NULL && buf_append(g->out, tmp, (size_t)n) != 0)
			buf_consume(g->out, buf_len(g->out));
	}
}

/*
 * Wait up to `ms` for signals, sip-tls-term's output or `fd` (if >= 0)
 * to be readable. Handles the signals: returns 1 if `fd` is readable.
 */
static int
wait_events(struct gw *g, int ms, int fd)
{
	struct pollfd pf[3];
	struct signalfd_siginfo si;
	int n = 0, r = 0;

	pf[n++] = (struct pollfd){ .fd = g->sfd, .events = POLLIN };
	pf[n++] = (struct pollfd){ .fd = g->outfd, .events = POLLIN };
	if (fd >= 0)
		pf[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(pf, (nfds_t)n, ms) <= 0)
		return 0;
	if (pf[1].revents != 0)
		drain_out(g);
	if (fd >= 0 && pf[2].revents != 0)
		r = 1;
	while (read(g->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(g);
			break;
		case SIGTERM:
		case SIGINT:
			g->stop = 1;
			break;
		case SIGHUP:
			cli_err("SIGHUP: reloading");
			forward(g, SIGHUP);
			break;
		case SIGUSR1:
			forward(g, SIGUSR1);
			break;
		}
	}
	return r;
}

static int
dead(const struct gw *g)
{
	int i;

	for (i = 0; i < GW_NCHILD; i++)
		if (g->ch[i].pid != 0 && g->ch[i].reaped)
			return 1;
	return 0;
}

/* srtp-bridge is ready when it answers an ng ping. */
static int
wait_bridge(struct gw *g, uint64_t deadline)
{
	char cookie[NG_COOKIE_LEN + 1], msg[64];
	uint8_t rep[2048];
	struct net_addr ng;
	uint64_t next = 0;
	ssize_t n;
	int fd, ok = 0;

	if (net_addr_parse(slice_cstr(gwconf_get(g->conf, "ng")), &ng) != 0 ||
	    (fd = socket(net_addr_family(&ng), SOCK_DGRAM | SOCK_CLOEXEC, 0))
	    < 0 || connect(fd, &ng.u.sa, ng.len) != 0)
		cli_die(XC_FAIL, "ng: %s", strerror(errno));
	if (ng_cookie_new(cookie, sizeof(cookie)) != 0)
		cli_die(XC_FAIL, "ng: no random cookie");
	(void)snprintf(msg, sizeof(msg), "%s d7:command4:pinge", cookie);
	while (!ok && !g->stop && !dead(g) && now_ms() < deadline) {
		struct ng_reply r;

		if (now_ms() >= next) {
			(void)send(fd, msg, strlen(msg), 0);
			next = now_ms() + 100;
		}
		if (!wait_events(g, 100, fd))
			continue;
		while ((n = recv(fd, rep, sizeof(rep), MSG_DONTWAIT)) > 0) {
			if (ng_reply_parse(&r, slice_make(rep, (size_t)n))
			    != 0)
				continue;
			ok |= slice_eq_cstr(r.cookie, cookie) &&
			    r.result == NG_RESULT_PONG;
			ng_reply_release(&r);
		}
	}
	close(fd);
	return ok;
}

/* sip-tls-term is ready when it has printed its inside address. */
static int
wait_term(struct gw *g, uint64_t deadline)
{
	while (!g->stop && !dead(g) && now_ms() < deadline) {
		if (slice_find(buf_slice(g->out), SLICE_LIT("inside udp ")) >= 0
		    && buf_data(g->out)[buf_len(g->out) - 1] == '\n')
			return 1;
		(void)wait_events(g, 100, -1);
	}
	return 0;
}

/* Stop child `i`: SIGTERM, up to stop-timeout, then SIGKILL. 0: clean. */
static int
stop_child(struct gw *g, enum gw_child i)
{
	struct child *c = &g->ch[i];
	uint64_t deadline;

	if (c->pid == 0)
		return 0;
	if (!c->reaped) {
		(void)kill(c->pid, SIGTERM);
		deadline = now_ms() + 1000ull * conf_uint(g->conf,
		    "stop-timeout");
		while (!c->reaped && now_ms() < deadline)
			(void)wait_events(g, 100, -1);
		if (!c->reaped) {
			cli_err("%s: still running after %u s: SIGKILL",
			    c->name, conf_uint(g->conf, "stop-timeout"));
			(void)kill(c->pid, SIGKILL);
			while (!c->reaped)
				(void)wait_events(g, 100, -1);
			return -1;
		}
	}
	return WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0 ? 0 : -1;
}

/* Stop sip-tls-term, then the relay it drives. */
static int
stop_all(struct gw *g)
{
	int a = stop_child(g, GW_SIP_TLS_TERM);
	int b = stop_child(g, GW_SRTP_BRIDGE);

	return a == 0 && b == 0 ? 0 : -1;
}

/* Start child `i` and wait until it is ready; 1 if it is. */
static int
start(struct gw *g, enum gw_child i, uint64_t ready_ms)
{
	uint64_t deadline;

	spawn(g, i);
	if (g->ch[i].pid == 0)
		return 0;
	deadline = now_ms() + ready_ms;
	if (i == GW_SRTP_BRIDGE ? wait_bridge(g, deadline) :
	    wait_term(g, deadline))
		return 1;
	if (!g->stop && !dead(g))
		cli_err("%s: not ready after %u s", g->ch[i].name,
		    conf_uint(g->conf, "ready-timeout"));
	return 0;
}

static int
run(struct gw *g)
{
	uint64_t ready_ms = 1000ull * conf_uint(g->conf, "ready-timeout");
	sigset_t ss;
	int i, ok;

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGUSR1);
	sigaddset(&ss, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &ss, NULL) != 0 ||
	    (g->sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		cli_die(XC_FAIL, "signals: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	if ((g->out = buf_new(64 * 1024)) == NULL)
		cli_die(XC_FAIL, "out of memory");

	ok = start(g, GW_SRTP_BRIDGE, ready_ms) &&
	    start(g, GW_SIP_TLS_TERM, ready_ms);
	if (!ok && !g->stop) {
		for (i = 0; i < GW_NCHILD; i++)
			if (g->ch[i].reaped)
				describe_exit(&g->ch[i]);
		(void)stop_all(g);
		cli_err("start-up failed");
		return XC_FAIL;
	}
	buf_free(g->out);
	g->out = NULL;
	if (!g->stop) {
		cli_err("ready: srtp-bridge pid %ld (ng %s), sip-tls-term "
		    "pid %ld", (long)g->ch[GW_SRTP_BRIDGE].pid,
		    gwconf_get(g->conf, "ng"), (long)g->ch[GW_SIP_TLS_TERM].pid);
		notify("READY=1");
	}
	while (!g->stop && !dead(g))
		(void)wait_events(g, -1, -1);
	notify("STOPPING=1");
	if (g->stop) {
		cli_err("stopping");
		if (stop_all(g) != 0) {
			cli_err("stopped, not cleanly");
			return XC_FAIL;
		}
		cli_err("stopped");
		return XC_OK;
	}
	for (i = 0; i < GW_NCHILD; i++)
		if (g->ch[i].reaped)
			describe_exit(&g->ch[i]);
	(void)stop_all(g);
	cli_err("a tool died: gateway stopped");
	return XC_FAIL;
}

static int
key_index(const char *name)
{
	struct gwconf_key k;
	int i;

	for (i = 0; gwconf_key((size_t)i, &k) == 0; i++)
		if (strcmp(k.name, name) == 0)
			return i;
	abort();	/* a key the table must have */
}

int
main(int argc, char **argv)
{
	enum { O_PRINT = 1000, O_KEY = 2000 };
	struct option lo[MAX_OPTS];
	struct { int key; const char *val; } ov[256];
	struct gw g = { .sfd = -1, .outfd = -1 };
	const char *conf_file = NULL;
	char *self;
	struct gwconf_key k;
	char why[256];
	size_t i, nlo = 0, nov = 0, line;
	int o, print = 0, dry = 0, nverb = 0, r;

	cli_init(argv[0]);
	for (i = 0; gwconf_key(i, &k) == 0 && nlo < MAX_OPTS - 8; i++)
		lo[nlo++] = (struct option){ k.name, k.is_bool ?
		    optional_argument : required_argument, NULL,
		    O_KEY + (int)i };
	lo[nlo++] = (struct option){ "config", required_argument, NULL, 'c' };
	lo[nlo++] = (struct option){ "print-config", no_argument, NULL,
	    O_PRINT };
	lo[nlo++] = (struct option){ "dry-run", no_argument, NULL, 'n' };
	lo[nlo++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[nlo++] = (struct option){ "version", no_argument, NULL, 'V' };
	lo[nlo] = (struct option){ NULL, 0, NULL, 0 };
	while ((o = getopt_long(argc, argv, "c:no:i:u:vhV", lo, NULL)) != -1) {
		int key = -1;

		switch (o) {
		case 'c': conf_file = optarg; continue;
		case O_PRINT: print = 1; continue;
		case 'n': dry = 1; continue;
		case 'v': nverb++; continue;
		case 'h': usage(); break;
		case 'V': cli_version(); break;
		case 'o': key = key_index("outside"); break;
		case 'i': key = key_index("inside"); break;
		case 'u': key = key_index("upstream"); break;
		default:
			if (o < O_KEY)
				cli_usage_hint();
			key = o - O_KEY;
		}
		if (nov == sizeof(ov) / sizeof(ov[0]))
			cli_die(XC_USAGE, "too many options");
		ov[nov].key = key;
		ov[nov++].val = optarg != NULL ? optarg : "yes";
	}
	if (optind != argc)
		cli_usage_hint();
	if ((g.conf = gwconf_new()) == NULL)
		cli_die(XC_FAIL, "out of memory");
	if (conf_file != NULL) {
		struct buf *b = cli_read_file(conf_file, CONF_MAX);

		if (b == NULL)
			exit(XC_FAIL);
		r = gwconf_parse(g.conf, buf_slice(b), &line, why, sizeof(why));
		buf_free(b);
		if (r != 0)
			cli_die(XC_INPUT, "%s:%zu: %s", conf_file, line, why);
	}
	/* the command line wins over the file */
	for (i = 0; i < nov; i++) {
		(void)gwconf_key((size_t)ov[i].key, &k);
		if (gwconf_set(g.conf, slice_cstr(k.name),
		    slice_cstr(ov[i].val), why, sizeof(why)) != 0)
			cli_die(XC_USAGE, "--%s", why);
	}
	if (nverb > 0) {
		char v[8];

		(void)snprintf(v, sizeof(v), "%d", nverb > 3 ? 3 : nverb);
		if (gwconf_set(g.conf, SLICE_LIT("verbose"), slice_cstr(v),
		    why, sizeof(why)) != 0)
			cli_die(XC_USAGE, "-v: %s", why);
	}
	if (print) {
		struct buf *b = buf_new(CONF_MAX);

		if (b == NULL || gwconf_format(g.conf, b) != 0)
			cli_die(XC_FAIL, "out of memory");
		cli_write_stdout(buf_data(b), buf_len(b));
		buf_free(b);
		gwconf_free(g.conf);
		return XC_OK;
	}
	if (gwconf_check(g.conf, why, sizeof(why)) != 0)
		cli_die(XC_USAGE, "%s", why);
	resolve(g.conf);
	self = proc_self_dir();
	for (i = 0; i < GW_NCHILD; i++) {
		const char *name = gwconf_child_name((enum gw_child)i);
		char *prog = proc_find(gwconf_get(g.conf, name), self,
		    getenv("PATH"), &r);

		g.ch[i].name = name;
		if (prog == NULL)
			cli_die(XC_FAIL, "%s: not found next to %s or in PATH",
			    gwconf_get(g.conf, name), cli_prog());
		r = gwconf_argv(g.conf, (enum gw_child)i, prog, &g.ch[i].argv);
		free(prog);
		if (r != 0)
			cli_die(XC_FAIL, "%s: command line: %s", name,
			    sbk_strerror(r));
	}
	free(self);
	if (dry) {
		struct buf *b = buf_new(CONF_MAX);

		for (i = 0; i < GW_NCHILD; i++)
			if (b == NULL ||
			    gwconf_shell_quote(g.ch[i].argv, b) != 0)
				cli_die(XC_FAIL, "out of memory");
		cli_write_stdout(buf_data(b), buf_len(b));
		buf_free(b);
		r = XC_OK;
	} else
		r = run(&g);
	for (i = 0; i < GW_NCHILD; i++)
		gwconf_argv_free(g.ch[i].argv);
	buf_free(g.out);
	if (g.sfd >= 0)
		close(g.sfd);
	gwconf_free(g.conf);
	return r;
}
