/* sbc-gateway.c - start srtp-bridge and sip-tls-term together, supervise. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "base/ev.h"
#include "base/net.h"
#include "base/secfile.h"
#include "gw/gwconf.h"
#include "gw/proc.h"
#include "gw/resolve.h"
#include "gw/supervise.h"
#include "ng/ng.h"

#define CONF_MAX	(64 * 1024)	/* largest config file */
#define MAX_OPTS	64
#define MAX_SETS	256

/* The command line: options, and the keys it sets, in order. */
struct args {
	const char *conf_file;
	int print, dry, check, nverb;
	int print_addr;		/* --print-addresses */
	struct { int key; const char *val; } ov[MAX_SETS];
	size_t nov;
};

static void
usage(void)
{
	struct gwconf_key k;
	size_t i;

	printf("usage: sbc-gateway [-c FILE] [--KEY VALUE ...] "
	    "[--print-config | --dry-run | --check]\n\n"
	    "Starts srtp-bridge, then sip-tls-term pointed at it, and runs "
	    "them until SIGTERM.\n"
	    "  -c, --config FILE       read KEY = VALUE lines (the command "
	    "line wins)\n"
	    "      --print-config      print the effective configuration\n"
	    "  -n, --dry-run           print the two command lines, start "
	    "nothing\n"
	    "      --check             check files, keys, addresses and "
	    "programs, start\n"
	    "                          nothing (exit 0 ok, 1 a check failed, "
	    "3 bad config)\n"
	    "      --print-addresses   sip-tls-term's bound addresses on "
	    "stdout\n"
	    "  -v                      one more --verbose level\n"
	    "  -h, --help, -V, --version\n\nKeys (-o outside, -i inside, "
	    "-u upstream):\n");
	for (i = 0; gwconf_key(i, &k) == 0; i++)
		printf("      --%-20s%s%s%s%s\n", k.name, k.help,
		    k.def != NULL ? " [" : "", k.def != NULL ? k.def : "",
		    k.def != NULL ? "]" : "");
	exit(XC_OK);
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

static void
parse_args(int argc, char **argv, struct args *a)
{
	enum { O_PRINT = 1000, O_CHECK, O_PRADDR, O_KEY = 2000 };
	struct option lo[MAX_OPTS];
	struct gwconf_key k;
	size_t i, nlo = 0;
	int o;

	for (i = 0; gwconf_key(i, &k) == 0 && nlo < MAX_OPTS - 8; i++)
		lo[nlo++] = (struct option){ k.name, k.is_bool ?
		    optional_argument : required_argument, NULL,
		    O_KEY + (int)i };
	lo[nlo++] = (struct option){ "config", required_argument, NULL, 'c' };
	lo[nlo++] = (struct option){ "print-config", no_argument, NULL,
	    O_PRINT };
	lo[nlo++] = (struct option){ "dry-run", no_argument, NULL, 'n' };
	lo[nlo++] = (struct option){ "check", no_argument, NULL, O_CHECK };
	lo[nlo++] = (struct option){ "print-addresses", no_argument, NULL,
	    O_PRADDR };
	lo[nlo++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[nlo++] = (struct option){ "version", no_argument, NULL, 'V' };
	lo[nlo] = (struct option){ NULL, 0, NULL, 0 };
	while ((o = getopt_long(argc, argv, "c:no:i:u:vhV", lo, NULL)) != -1) {
		int key = -1;

		switch (o) {
		case 'c': a->conf_file = optarg; continue;
		case O_PRINT: a->print = 1; continue;
		case 'n': a->dry = 1; continue;
		case O_CHECK: a->check = 1; continue;
		case O_PRADDR: a->print_addr = 1; continue;
		case 'v': a->nverb++; continue;
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
		if (a->nov == MAX_SETS)
			cli_die(XC_USAGE, "too many options");
		a->ov[a->nov].key = key;
		a->ov[a->nov++].val = optarg != NULL ? optarg : "yes";
	}
	if (optind != argc) {
		cli_err("unexpected argument '%s' (a yes/no key takes no value "
		    "on the command line: --registrar, not --registrar yes)",
		    argv[optind]);
		cli_usage_hint();
	}
}

/* The file, then the command line over it (the command line wins). */
static struct gwconf *
load_conf(const struct args *a)
{
	struct gwconf *c;
	struct gwconf_key k;
	char why[256];
	size_t i, line;
	int r;

	if ((c = gwconf_new()) == NULL)
		cli_die(XC_FAIL, "out of memory");
	if (a->conf_file != NULL) {
		struct buf *b = cli_read_file(a->conf_file, CONF_MAX);

		if (b == NULL)
			exit(XC_FAIL);
		r = gwconf_parse(c, buf_slice(b), &line, why, sizeof(why));
		buf_free(b);
		if (r != 0)
			cli_die(XC_INPUT, "%s:%zu: %s", a->conf_file, line,
			    why);
	}
	for (i = 0; i < a->nov; i++) {
		(void)gwconf_key((size_t)a->ov[i].key, &k);
		if (gwconf_set(c, slice_cstr(k.name), slice_cstr(a->ov[i].val),
		    why, sizeof(why)) != 0)
			cli_die(XC_USAGE, "--%s", why);
	}
	if (a->nverb > 0) {
		char v[16];

		(void)snprintf(v, sizeof(v), "%d", a->nverb > 3 ? 3 : a->nverb);
		if (gwconf_set(c, SLICE_LIT("verbose"), slice_cstr(v), why,
		    sizeof(why)) != 0)
			cli_die(XC_USAGE, "-v: %s", why);
	}
	return c;
}

/* Each tool's command line, its program found next to us or in PATH. */
static void
tool_argvs(const struct gwconf *c, char **argv[GW_NCHILD])
{
	char *self = proc_self_dir(), *prog;
	size_t i;
	int r;

	for (i = 0; i < GW_NCHILD; i++) {
		const char *name = gwconf_child_name((enum gw_child)i);

		prog = proc_find(gwconf_get(c, name), self, getenv("PATH"), &r);
		if (prog == NULL)
			cli_die(XC_FAIL, "%s: not found next to %s or in PATH",
			    gwconf_get(c, name), cli_prog());
		r = gwconf_argv(c, (enum gw_child)i, prog, &argv[i]);
		free(prog);
		if (r != 0)
			cli_die(XC_FAIL, "%s: command line: %s", name,
			    sbk_strerror(r));
	}
	free(self);
}

/* Print the configuration (fmt 0) or the command lines (fmt 1). */
static void
print_out(const struct gwconf *c, char **argv[GW_NCHILD], int fmt)
{
	struct buf *b = buf_new(CONF_MAX);
	size_t i;

	if (b == NULL || (fmt == 0 && gwconf_format(c, b) != 0))
		cli_die(XC_FAIL, "out of memory");
	for (i = 0; fmt == 1 && i < GW_NCHILD; i++)
		if (gwconf_shell_quote(argv[i], b) != 0)
			cli_die(XC_FAIL, "out of memory");
	cli_write_stdout(buf_data(b), buf_len(b));
	buf_free(b);
}

static void
say(void *arg, enum log_level lvl, const char *msg)
{
	(void)arg;
	(void)lvl;
	cli_err("%s", msg);
}

static void
copy_out(void *arg, const uint8_t *p, size_t n)
{
	(void)arg;
	cli_write_stdout(p, n);
	fflush(stdout);
}

/* One more word at the end of a gwconf_argv() vector. */
static void
argv_add(char ***argv, const char *word)
{
	char **v;
	size_t n;

	for (n = 0; (*argv)[n] != NULL; n++)
		;
	if ((v = realloc(*argv, (n + 2) * sizeof(*v))) == NULL)
		cli_die(XC_FAIL, "out of memory");
	*argv = v;
	if ((v[n] = strdup(word)) == NULL)
		cli_die(XC_FAIL, "out of memory");
	v[n + 1] = NULL;
}

/* srtp-bridge is ready when it answers our ng ping. */
static int
is_pong(void *arg, const uint8_t *p, size_t n)
{
	const char *cookie = arg;
	struct ng_reply r;
	int ok;

	if (ng_reply_parse(&r, slice_make(p, n)) != 0)
		return 0;
	ok = slice_eq_cstr(r.cookie, cookie) && r.result == NG_RESULT_PONG;
	ng_reply_release(&r);
	return ok;
}

static unsigned
conf_uint(const struct gwconf *c, const char *key)
{
	uint64_t u = 0;

	if (slice_to_u64(slice_cstr(gwconf_get(c, key)), UINT32_MAX, &u) != 0)
		return 0;
	return (unsigned)u;
}

static int
run(const struct gwconf *c, char **argv[GW_NCHILD], int print_addr)
{
	char cookie[NG_COOKIE_LEN + 1], ping[64], why[256];
	struct logger lg = { say, NULL, LOG_DEBUG };
	struct gw_sup_opts o;
	struct ev_loop *loop;
	int e, failed = 0;
	size_t i;

	if (ng_cookie_new(cookie, sizeof(cookie)) != 0)
		cli_die(XC_FAIL, "ng: no random cookie");
	(void)snprintf(ping, sizeof(ping), "%s d7:command4:pinge", cookie);
	if (print_addr)		/* before o.argv: it may move */
		argv_add(&argv[GW_SRTP_BRIDGE], "--print-addresses");
	memset(&o, 0, sizeof(o));
	for (i = 0; i < GW_NCHILD; i++)
		o.argv[i] = argv[i];
	o.ng = gwconf_get(c, "ng");
	o.ping = (const uint8_t *)ping;
	o.ping_len = strlen(ping);
	o.is_pong = is_pong;
	o.pong_arg = cookie;
	o.ready_line = "inside udp ";
	o.ready_timeout = conf_uint(c, "ready-timeout");
	o.stop_timeout = conf_uint(c, "stop-timeout");
	o.notify_socket = getenv("NOTIFY_SOCKET");
	o.log = &lg;
	/* sip-tls-term's stdout holds only its --print-addresses lines, for
	 * us; srtp-bridge's is ours: its ng and --metrics lines only when
	 * asked */
	o.out = print_addr ? copy_out : NULL;
	loop = cli_loop();
	e = gw_supervise(loop, &o, &failed, why, sizeof(why));
	ev_free(loop);
	if (e != 0)
		cli_die(XC_FAIL, "%s", why);
	return failed ? XC_FAIL : XC_OK;
}

/* --check: one line a check on stdout, "ok", "warn" or "FAIL". */
enum { CK_OK, CK_WARN, CK_FAIL };

static void __attribute__((format(printf, 4, 5)))
ck(int *failed, int res, const char *what, const char *fmt, ...)
{
	static const char *const tag[] = { "ok", "warn", "FAIL" };
	va_list ap;

	printf("%s %s: ", tag[res], what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (res == CK_FAIL)
		*failed = 1;
}

/* A key log that is not there yet is made in its directory: writable? */
static void
check_keylog(const struct gwconf *c, const char *key, int *failed)
{
	const char *path = gwconf_get(c, key);
	char dir[4096], *sl;
	struct stat st;

	if (strcmp(path, "off") == 0)
		return;
	if (stat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode) || access(path, W_OK) != 0)
			ck(failed, CK_FAIL, key, "%s: %s", path,
			    S_ISREG(st.st_mode) ? strerror(errno) :
			    "not a regular file");
		else
			ck(failed, CK_OK, key, "%s: writable", path);
		return;
	}
	(void)snprintf(dir, sizeof(dir), "%s", path);
	if ((sl = strrchr(dir, '/')) == NULL)
		(void)snprintf(dir, sizeof(dir), ".");
	else
		sl[sl == dir] = '\0';
	if (access(dir, W_OK | X_OK) != 0)
		ck(failed, CK_FAIL, key, "%s: directory %s: %s", path, dir,
		    strerror(errno));
	else
		ck(failed, CK_OK, key, "%s: directory %s writable", path, dir);
}

/* The certificate, the key (and its mode), the key logs, the auth file. */
static void
check_files(const struct gwconf *c, int *failed)
{
	const char *f[] = { "cert", "key", "auth" };
	char why[256];
	size_t i;
	int r;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		const char *path = gwconf_get(c, f[i]);

		if (strcmp(path, "off") == 0)
			continue;
		if (access(path, R_OK) != 0)
			ck(failed, CK_FAIL, f[i], "%s: %s", path,
			    strerror(errno));
		else
			ck(failed, CK_OK, f[i], "%s: readable", path);
	}
	r = secfile_check_private(gwconf_get(c, "key"), why, sizeof(why));
	if (r == E_PERM)
		ck(failed, gwconf_bool(c, "allow-readable-key") ? CK_WARN :
		    CK_FAIL, "key-mode", "%s: %s%s", gwconf_get(c, "key"), why,
		    gwconf_bool(c, "allow-readable-key") ? "" :
		    " (allow-readable-key accepts it)");
	else if (r == 0)
		ck(failed, CK_OK, "key-mode", "%s: only its owner may read it",
		    gwconf_get(c, "key"));
	check_keylog(c, "keylog", failed);
	check_keylog(c, "tls-keylog", failed);
}

/* Bind and close one socket: is `host`:`port` ours and free? */
static void
check_bind(const char *what, const char *host, unsigned port, int tcp,
    int *failed)
{
	struct net_addr a;
	char h[NET_ADDR_STRLEN], *bang;
	int fd, e;

	(void)snprintf(h, sizeof(h), "%s", host);
	if ((bang = strchr(h, '!')) != NULL)	/* ADDR!PUBLIC */
		*bang = '\0';
	if (net_addr_parse_host(slice_cstr(h), (uint16_t)port, &a) != 0) {
		ck(failed, CK_FAIL, what, "%s: not an address", h);
		return;
	}
	if ((tcp ? net_tcp_listen(&a, 1, 0, &fd) : net_udp_bind(&a, 0, &fd))
	    == 0) {
		close(fd);
		ck(failed, CK_OK, what, "%s %s port %u bindable", tcp ? "tcp" :
		    "udp", h, port);
		return;
	}
	e = errno;
	ck(failed, CK_FAIL, what, "%s %s port %u: %s", tcp ? "tcp" : "udp", h,
	    port, e == EADDRNOTAVAIL ? "not a local address (no interface "
	    "has it)" : e == EADDRINUSE ? "port in use" : e == EACCES ?
	    "permission denied (a port below 1024 needs "
	    "CAP_NET_BIND_SERVICE)" : strerror(e));
}

static void
check_addrs(const struct gwconf *c, int *failed)
{
	const char *out = gwconf_get(c, "outside"), *in = gwconf_get(c,
	    "inside");
	const char *range = gwconf_get(c, "media-ports");
	uint64_t pmin = 0;

	/* "MIN-MAX", checked when set: MIN is the first port srtp-bridge
	 * binds. */
	if (slice_to_u64(slice_make(range, strcspn(range, "-")), 65535,
	    &pmin) != 0)
		pmin = 0;

	check_bind("outside", out, conf_uint(c, "tls-port"), 1, failed);
	check_bind("inside", in, conf_uint(c, "sip-port"), 0, failed);
	if (gwconf_bool(c, "inside-tcp"))
		check_bind("inside", in, conf_uint(c, "sip-port"), 1, failed);
	check_bind("media-ports", out, (unsigned)pmin, 0, failed);
	if (strcmp(out, in) != 0)
		check_bind("media-ports", in, (unsigned)pmin, 0, failed);
}

/* Each tool's metrics endpoint (ADDR:PORT, stored so): bindable? */
static void
check_metrics(const struct gwconf *c, int *failed)
{
	static const char *const key[] = { "metrics", "relay-metrics" };
	char h[NET_ADDR_STRLEN];
	struct net_addr a;
	size_t i;

	for (i = 0; i < 2; i++) {
		const char *v = gwconf_get(c, key[i]);
		const char *colon = v != NULL ? strrchr(v, ':') : NULL;

		if (colon == NULL || net_addr_parse(slice_cstr(v), &a) != 0)
			continue;
		if (net_addr_port(&a) == 0) {
			ck(failed, CK_OK, key[i], "%s: a free port", v);
			continue;
		}
		(void)snprintf(h, sizeof(h), "%.*s", (int)(colon - v), v);
		check_bind(key[i], h, net_addr_port(&a), 1, failed);
	}
}

/*
 * sip-tls-term --check on the command line the gateway would give it:
 * the certificates and keys loaded by the very code and options that will
 * use them (an --sni or --ca in sip-tls-term-args too), the credentials
 * file parsed. Its lines go to our stdout.
 */
static void
check_tls(const struct gwconf *c, const char *prog, int *failed)
{
	char **argv = NULL, st[64];
	struct proc_opts po;
	pid_t pid;
	int r, ee, ws;

	if (gwconf_argv(c, GW_SIP_TLS_TERM, prog, &argv) != 0) {
		ck(failed, CK_FAIL, "sip-tls-term", "command line: out of "
		    "memory");
		return;
	}
	argv_add(&argv, "--check");
	fflush(stdout);
	memset(&po, 0, sizeof(po));
	r = proc_spawn(argv, &po, &pid, NULL, &ee);
	gwconf_argv_free(argv);
	if (r != 0) {
		ck(failed, CK_FAIL, "sip-tls-term", "cannot run %s: %s", prog,
		    strerror(r == E_NOTFOUND ? ee : errno));
		return;
	}
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		return;
	(void)proc_status_str(ws, st, sizeof(st));
	ck(failed, CK_FAIL, "sip-tls-term", "--check %s", st);
}

/* --check: everything the start needs, one line each; the exit code. */
static int
check(struct gwconf *c)
{
	char *self = proc_self_dir(), *prog[GW_NCHILD], why[256];
	int failed = 0, r;
	size_t i;

	ck(&failed, CK_OK, "config", "parses");
	if (gw_resolve(c, why, sizeof(why)) != 0)
		ck(&failed, CK_FAIL, "resolve", "%s", why);
	for (i = 0; i < GW_NCHILD; i++) {
		const char *name = gwconf_child_name((enum gw_child)i);

		prog[i] = proc_find(gwconf_get(c, name), self, getenv("PATH"),
		    &r);
		/* A name with a '/' is taken as it is: is it there? */
		if (prog[i] != NULL && access(prog[i], X_OK) != 0) {
			free(prog[i]);
			prog[i] = NULL;
		}
		if (prog[i] != NULL)
			ck(&failed, CK_OK, name, "%s", prog[i]);
		else
			ck(&failed, CK_FAIL, name, "%s: not found (or not "
			    "executable) next to %s or in PATH",
			    gwconf_get(c, name), cli_prog());
	}
	free(self);
	check_files(c, &failed);
	if (prog[GW_SIP_TLS_TERM] != NULL && gwconf_get(c, "inside") != NULL)
		check_tls(c, prog[GW_SIP_TLS_TERM], &failed);
	else
		ck(&failed, CK_FAIL, "tls", "certificate and key not checked: "
		    "no sip-tls-term to run");
	if (gwconf_get(c, "inside") != NULL)
		check_addrs(c, &failed);
	check_metrics(c, &failed);
	for (i = 0; i < GW_NCHILD; i++)
		free(prog[i]);
	fflush(stdout);
	return failed ? XC_FAIL : XC_OK;
}

int
main(int argc, char **argv)
{
	struct args a;
	struct gwconf *c;
	char **tool[GW_NCHILD] = { NULL }, why[256];
	size_t i;
	int r = XC_OK;

	cli_init(argv[0]);
	memset(&a, 0, sizeof(a));
	parse_args(argc, argv, &a);
	c = load_conf(&a);
	if (a.print) {
		print_out(c, NULL, 0);
		gwconf_free(c);
		return XC_OK;
	}
	if (gwconf_check(c, why, sizeof(why)) != 0)
		cli_die(a.check ? XC_INPUT : XC_USAGE, "%s", why);
	if (a.check) {
		r = check(c);
		gwconf_free(c);
		return r;
	}
	if (gw_resolve(c, why, sizeof(why)) != 0)
		cli_die(XC_FAIL, "%s", why);
	tool_argvs(c, tool);
	if (a.dry)
		print_out(c, tool, 1);
	else
		r = run(c, tool, a.print_addr);
	for (i = 0; i < GW_NCHILD; i++)
		gwconf_argv_free(tool[i]);
	gwconf_free(c);
	return r;
}
