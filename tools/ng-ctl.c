/* ng-ctl.c - ask an ng relay (srtp-bridge, rtpengine) what it has, or tell
 * it to drop a call: ping, list, query, statistics, delete, raw requests. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/net.h"
#include "ng/ng.h"
#include "ng/ng_ctl.h"
#include "ng/ng_render.h"
#include "common.h"

#define ARGS_MAX 256
#define OUT_MAX (16 << 20)

static const char usage[] =
    "usage: ng-ctl [OPTIONS] ADDR:PORT COMMAND [ARGS]\n"
    "Send one ng request to a relay (srtp-bridge, rtpengine), show the reply.\n"
    "\n"
    "Commands:\n"
    "  ping                              is the relay there\n"
    "  list                              the calls, one Call-ID a line\n"
    "  query CALL-ID                     a call's parties, streams, counters\n"
    "  statistics                        the relay's counters\n"
    "  delete CALL-ID [FROM-TAG [TO-TAG]] end a call (or one party) now\n"
    "  raw KEY=VALUE...                  any request (command=offer ...):\n"
    "      KEY=VALUE string, KEY=@FILE string from FILE, KEY:=N integer,\n"
    "      KEY[]=V append V to the list KEY\n"
    "\n"
    "  -t, --timeout MS       wait per try (default 1000)\n"
    "  -n, --tries N          tries in all (default 3)\n"
    "  -j, --json             print the reply as JSON\n"
    "  -s, --sdp-out FILE     write the reply's sdp to FILE\n"
    "  -h, --help             this help\n"
    "  -V, --version          version\n"
    "\n"
    "Exit: 0 ok, 1 no reply or an error result, 2 usage, 3 malformed reply.\n"
    "See ng-ctl(1).\n";

static const struct option longopts[] = {
	{ "timeout", required_argument, NULL, 't' },
	{ "tries", required_argument, NULL, 'n' },
	{ "json", no_argument, NULL, 'j' },
	{ "sdp-out", required_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* The commands: the ng command sent (NULL: from the words), how many
 * arguments, and the keys the arguments given by position fill. */
static const struct cmd {
	const char *name, *ng;
	int min, max;
	const char *keys[3];
} cmds[] = {
	{ "ping", "ping", 0, 0, { NULL } },
	{ "list", "list", 0, 0, { NULL } },
	{ "query", "query", 1, 1, { "call-id" } },
	{ "statistics", "statistics", 0, 0, { NULL } },
	{ "delete", "delete", 1, 3, { "call-id", "from-tag", "to-tag" } },
	{ "raw", NULL, 1, ARGS_MAX, { NULL } },
};

struct cfg {
	unsigned timeout, tries;
	int json;
	const char *sdp_out, *addr;
	const struct cmd *cmd;
	char **words;
	int nwords;
};

static void
parse_opts(int argc, char **argv, struct cfg *c)
{
	size_t i;
	int o;

	memset(c, 0, sizeof(*c));
	c->timeout = 1000;
	c->tries = 3;
	while ((o = getopt_long(argc, argv, "t:n:js:hV", longopts,
	    NULL)) != -1) {
		switch (o) {
		case 't':
			c->timeout = (unsigned)cli_num("--timeout", optarg,
			    3600000);
			break;
		case 'n':
			c->tries = (unsigned)cli_num("--tries", optarg, 100);
			break;
		case 'j': c->json = 1; break;
		case 's': c->sdp_out = optarg; break;
		case 'h': fputs(usage, stdout); exit(XC_OK);
		case 'V': cli_version();
		default: cli_usage_hint();
		}
	}
	if (c->timeout == 0 || c->tries == 0) {
		cli_err("--timeout and --tries: at least 1");
		cli_usage_hint();
	}
	if (argc - optind < 2) {
		cli_err("want ADDR:PORT COMMAND");
		cli_usage_hint();
	}
	c->addr = argv[optind];
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[optind + 1], cmds[i].name) == 0)
			c->cmd = &cmds[i];
	if (c->cmd == NULL) {
		cli_err("%s: unknown command", argv[optind + 1]);
		cli_usage_hint();
	}
	c->words = argv + optind + 2;
	c->nwords = argc - optind - 2;
	if (c->nwords < c->cmd->min || c->nwords > c->cmd->max) {
		cli_err("%s: wrong number of arguments", c->cmd->name);
		cli_usage_hint();
	}
}

/* The request datagram `COOKIE SP DICT` into `req`. */
static void
build_request(const struct cfg *c, const char *cookie, struct buf *req)
{
	struct ng_arg a[ARGS_MAX + 1];
	struct buf *files[ARGS_MAX] = { NULL };
	size_t n = 0, bad = 0, i;
	int r, has_cmd = 0;

	for (i = 0; i < (size_t)c->nwords; i++, n++) {
		if (c->cmd->ng != NULL) {
			ng_arg_str(&a[n], c->cmd->keys[i],
			    slice_cstr(c->words[i]));
			continue;
		}
		if (ng_arg_parse(&a[n], slice_cstr(c->words[i])) != 0) {
			cli_err("%s: want KEY=VALUE", c->words[i]);
			cli_usage_hint();
		}
		has_cmd |= slice_eq_cstr(a[n].key, "command");
		if (a[n].at_file) {
			/* the path is the word's tail: NUL-terminated */
			files[i] = cli_read_file((const char *)a[n].val.p,
			    NG_DGRAM_MAX);
			if (files[i] == NULL)
				exit(XC_FAIL);
			a[n].val = buf_slice(files[i]);
		}
	}
	if (c->cmd->ng == NULL && !has_cmd) {
		cli_err("raw: want a command=NAME among the words");
		cli_usage_hint();
	}
	/* delete now, not after the relay's grace time (rtpengine: 30 s) */
	if (strcmp(c->cmd->name, "delete") == 0)
		a[n++] = (struct ng_arg){ .key = slice_cstr("delete-delay"),
		    .val = slice_cstr("0"), .kind = NG_ARG_INT };
	if (buf_printf(req, "%s ", cookie) != 0)
		cli_die(XC_FAIL, "out of memory");
	r = ng_args_encode(req, c->cmd->ng, a, n, &bad);
	if (r == E_SYNTAX)
		cli_die(XC_USAGE, "%s: not an integer", c->words[bad]);
	if (r != 0)
		cli_die(XC_FAIL, "request: %s", sbk_strerror(r));
	for (i = 0; i < ARGS_MAX; i++)
		buf_free(files[i]);
}

/* A UDP socket connected to the relay. */
static int
open_peer(const char *spec)
{
	struct net_addr a;
	int fd;

	if (net_addr_parse(slice_cstr(spec), &a) != 0)
		cli_die(XC_USAGE, "%s: want ADDR:PORT (numeric)", spec);
	fd = socket(net_addr_family(&a), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, &a.u.sa, a.len) != 0)
		cli_die(XC_FAIL, "%s: %s", spec, strerror(errno));
	return fd;
}

/* The reply for people: what the command asked for. */
static int
show_human(const struct cfg *c, const struct ng_reply *r, struct buf *out)
{
	const struct bencode *m;
	int e = 0;

	if (r->result == NG_RESULT_PONG)
		return buf_append_cstr(out, "pong\n");
	if (strcmp(c->cmd->name, "list") != 0)
		return ng_render_lines(out, r->dict, "result");
	m = bencode_first(bencode_dict_get(r->dict, "calls"));
	for (; m != NULL && e == 0; m = bencode_next(m))
		if ((e = ng_render_text(out, bencode_str(m))) == 0)
			e = buf_append_u8(out, '\n');
	return e;
}

static int
show_reply(const struct cfg *c, const struct ng_reply *r, struct buf *out)
{
	FILE *f;
	int e = 0;

	if (c->json && (e = ng_render_json(out, r->dict, 2)) == 0)
		e = buf_append_u8(out, '\n');
	else if (!c->json && r->result != NG_RESULT_ERROR)
		e = show_human(c, r, out);
	if (e != 0)
		cli_die(XC_FAIL, "reply: %s", sbk_strerror(e));
	cli_write_stdout(buf_data(out), buf_len(out));
	if (c->sdp_out != NULL && r->sdp.len > 0) {
		if ((f = fopen(c->sdp_out, "wb")) == NULL ||
		    fwrite(r->sdp.p, 1, r->sdp.len, f) != r->sdp.len ||
		    fclose(f) != 0)
			cli_die(XC_FAIL, "%s: %s", c->sdp_out, strerror(errno));
	}
	switch (r->result) {
	case NG_RESULT_OK:
	case NG_RESULT_PONG:
		return XC_OK;
	case NG_RESULT_ERROR:
		cli_err("%s: error: %.*s", c->addr, (int)r->error_reason.len,
		    (const char *)r->error_reason.p);
		return XC_FAIL;
	case NG_RESULT_LOAD_LIMIT:
		cli_err("%s: load limit", c->addr);
		return XC_FAIL;
	default:
		cli_err("%s: reply without a known result", c->addr);
		return XC_INPUT;
	}
}

int
main(int argc, char **argv)
{
	char cookie[NG_COOKIE_MAX + 1];
	struct buf *req, *rep, *out;
	struct ng_reply r;
	struct cfg c;
	int fd, e, rc;

	cli_init("ng-ctl");
	parse_opts(argc, argv, &c);
	req = buf_new(NG_DGRAM_MAX);
	rep = buf_new(NG_DGRAM_MAX);
	out = buf_new(OUT_MAX);
	if (req == NULL || rep == NULL || out == NULL)
		cli_die(XC_FAIL, "out of memory");
	if (ng_cookie_new(cookie, sizeof(cookie)) != 0)
		cli_die(XC_FAIL, "no random cookie");
	build_request(&c, cookie, req);

	fd = open_peer(c.addr);
	e = ng_exchange(fd, buf_slice(req), slice_cstr(cookie), c.tries,
	    c.timeout, rep);
	if (e == E_TIMEOUT)
		cli_die(XC_FAIL, "%s: no reply after %u %s, %u ms apart",
		    c.addr, c.tries, c.tries == 1 ? "try" : "tries", c.timeout);
	if (e != 0)
		cli_die(XC_FAIL, "%s: %s", c.addr,
		    e == E_IO ? strerror(errno) : sbk_strerror(e));
	close(fd);

	if (ng_reply_parse(&r, buf_slice(rep)) != 0)
		cli_die(XC_INPUT, "%s: malformed reply", c.addr);
	rc = show_reply(&c, &r, out);
	ng_reply_release(&r);
	buf_free(req);
	buf_free(rep);
	buf_free(out);
	return rc;
}
