/* sbc-gateway.c - start srtp-bridge and sip-tls-term together, supervise. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "base/ev.h"
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
	int print, dry, nverb;
	struct { int key; const char *val; } ov[MAX_SETS];
	size_t nov;
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
	enum { O_PRINT = 1000, O_KEY = 2000 };
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
	lo[nlo++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[nlo++] = (struct option){ "version", no_argument, NULL, 'V' };
	lo[nlo] = (struct option){ NULL, 0, NULL, 0 };
	while ((o = getopt_long(argc, argv, "c:no:i:u:vhV", lo, NULL)) != -1) {
		int key = -1;

		switch (o) {
		case 'c': a->conf_file = optarg; continue;
		case O_PRINT: a->print = 1; continue;
		case 'n': a->dry = 1; continue;
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
run(const struct gwconf *c, char **argv[GW_NCHILD])
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
	o.out = copy_out;
	loop = cli_loop();
	e = gw_supervise(loop, &o, &failed, why, sizeof(why));
	ev_free(loop);
	if (e != 0)
		cli_die(XC_FAIL, "%s", why);
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
		cli_die(XC_USAGE, "%s", why);
	if (gw_resolve(c, why, sizeof(why)) != 0)
		cli_die(XC_FAIL, "%s", why);
	tool_argvs(c, tool);
	if (a.dry)
		print_out(c, tool, 1);
	else
		r = run(c, tool);
	for (i = 0; i < GW_NCHILD; i++)
		gwconf_argv_free(tool[i]);
	gwconf_free(c);
	return r;
}
