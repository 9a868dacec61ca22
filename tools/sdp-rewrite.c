/* sdp-rewrite.c - turn an SDP between its SRTP and RTP forms; extract keys. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/secfile.h"
#include "media/keyline.h"
#include "media/sdp.h"
#include "media/sdprw.h"
#include "common.h"

#define MAX_KEYS 64
#define KEYFILE_MAX (256 * 1024)

static const char usage[] =
    "usage: sdp-rewrite [OPTIONS] [FILE]\n"
    "Rewrite the SDP in FILE (or stdin) and write it to stdout.\n"
    "\n"
    "  -t, --to rtp|srtp          RTP/SAVP(F) -> RTP/AVP(F), or back with keys\n"
    "  -s, --suites LIST          suites for --to srtp / allowed in answers\n"
    "                             (default AES_CM_128_HMAC_SHA1_80,\n"
    "                             AES_CM_128_HMAC_SHA1_32)\n"
    "  -k, --key LINE             use this key line instead of a fresh key\n"
    "      --key-file FILE        read key lines from FILE\n"
    "  -a, --answer-to FILE       answer the offer in FILE: one a=crypto per\n"
    "                             media, suite and tag from the offer\n"
    "  -c, --addr ADDR            set c= (session and media) and a=rtcp address\n"
    "  -o, --origin-addr ADDR     set the o= address\n"
    "  -p, --port-map MAP         m= ports: IDX=PORT[/RTCP],... e.g. 0=40000\n"
    "      --remove-ice           drop ICE attributes\n"
    "      --rtcp-mux keep|add|remove\n"
    "  -K, --print-keys           print the SDP's keys as key lines instead\n"
    "      --keys-out FILE        append the output SDP's keys to FILE (0600)\n"
    "  -h, --help                 this help\n"
    "  -V, --version              version\n"
    "\n"
    "Exit: 0 ok, 1 failure, 2 usage, 3 malformed input. See sdp-rewrite(1).\n";

enum { O_KEYFILE = 256, O_REMOVE_ICE, O_MUX, O_KEYS_OUT };

static const struct option longopts[] = {
	{ "to", required_argument, NULL, 't' },
	{ "suites", required_argument, NULL, 's' },
	{ "key", required_argument, NULL, 'k' },
	{ "key-file", required_argument, NULL, O_KEYFILE },
	{ "answer-to", required_argument, NULL, 'a' },
	{ "addr", required_argument, NULL, 'c' },
	{ "origin-addr", required_argument, NULL, 'o' },
	{ "port-map", required_argument, NULL, 'p' },
	{ "remove-ice", no_argument, NULL, O_REMOVE_ICE },
	{ "rtcp-mux", required_argument, NULL, O_MUX },
	{ "print-keys", no_argument, NULL, 'K' },
	{ "keys-out", required_argument, NULL, O_KEYS_OUT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct cfg {
	struct sdprw_opts rw;
	enum suite_id suites[SUITE_COUNT];
	struct keyline *keys[MAX_KEYS];
	size_t nkeys;
	struct sdprw_port ports[SDP_MAX_MEDIA];
	const char *answer_file, *keys_out, *in;
	int print_keys;
};

static void __attribute__((format(printf, 1, 2), noreturn))
bad_usage(const char *fmt, ...)
{
	char m[512];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(m, sizeof(m), fmt, ap) < 0)
		m[0] = '\0';
	va_end(ap);
	cli_err("%s", m);
	cli_usage_hint();
}

static void
parse_suites(struct cfg *c, const char *arg)
{
	struct slice s = slice_cstr(arg), name;
	const struct suite *su;

	c->rw.nsuites = 0;
	while (s.len > 0) {
		slice_split(&s, ',', &name);
		if ((su = suite_by_name(slice_trim(name))) == NULL)
			bad_usage("--suites: unknown suite in '%s'", arg);
		if (c->rw.nsuites == SUITE_COUNT)
			bad_usage("--suites: too many in '%s'", arg);
		c->suites[c->rw.nsuites++] = su->id;
	}
	if (c->rw.nsuites == 0)
		bad_usage("--suites: empty list '%s'", arg);
	c->rw.suites = c->suites;
}

static void
add_key(struct cfg *c, struct slice line, const char *where)
{
	char why[128];
	int r;

	if (c->nkeys == MAX_KEYS)
		cli_die(XC_INPUT, "%s: more than %d keys", where, MAX_KEYS);
	r = keyline_parse(line, &c->keys[c->nkeys], why, sizeof(why));
	if (r != 0)
		cli_die(cli_exit_code(r), "%s: %s", where, why);
	c->nkeys++;
}

static void
read_key_file(struct cfg *c, const char *path)
{
	struct buf *b = cli_read_file(path, KEYFILE_MAX);
	struct slice s, line;
	char where[300];
	unsigned no = 0;

	if (b == NULL)
		exit(XC_FAIL);
	s = buf_slice(b);
	while (s.len > 0) {
		slice_split(&s, '\n', &line);
		no++;
		if (keyline_is_comment(line))
			continue;
		if (snprintf(where, sizeof(where), "%s: line %u", path, no) < 0)
			where[0] = '\0';
		add_key(c, line, where);
	}
	buf_free(b);
}

/* IDX=PORT[/RTCP],... */
static void
parse_port_map(struct cfg *c, const char *arg)
{
	struct slice s = slice_cstr(arg), item, idx, rtcp;
	uint64_t m, p, q;

	while (s.len > 0) {
		slice_split(&s, ',', &item);
		if (!slice_split(&item, '=', &idx) ||
		    slice_to_u64(idx, SDP_MAX_MEDIA - 1, &m) != 0)
			bad_usage("--port-map: bad media index in '%s'", arg);
		if (slice_split(&item, '/', &rtcp)) {
			if (slice_to_u64(item, 65535, &q) != 0 || q == 0)
				bad_usage("--port-map: bad RTCP port in '%s'",
				    arg);
		} else {
			q = 0;
		}
		if (slice_to_u64(rtcp, 65535, &p) != 0 || p == 0)
			bad_usage("--port-map: bad port in '%s'", arg);
		if (c->rw.nports == SDP_MAX_MEDIA)
			bad_usage("--port-map: too many entries in '%s'", arg);
		c->ports[c->rw.nports].media = (size_t)m;
		c->ports[c->rw.nports].rtp = (unsigned)p;
		c->ports[c->rw.nports++].rtcp = q != 0 ? (long)q : -1;
	}
	c->rw.ports = c->ports;
}

static struct sdp *
load_sdp(const char *path)
{
	struct buf *b = cli_read_file(path, SDP_MAX_LEN);
	struct sdp *s = NULL;
	struct sdp_error e;
	int r;

	if (b == NULL)
		exit(XC_FAIL);
	if ((r = sdp_parse(buf_slice(b), &s, &e)) != 0) {
		if (path != NULL && strcmp(path, "-") != 0)
			cli_err("%s: line %u: %s", path, e.line, e.reason);
		else
			cli_err("line %u: %s", e.line, e.reason);
		exit(cli_exit_code(r));
	}
	buf_free(b);
	return s;
}

/* The SDP's keys as key lines into `out`. */
static void
format_keys(const struct sdp *s, struct buf *out)
{
	struct keyline **keys;
	size_t n, i;
	char why[128];
	int r;

	if ((r = sdprw_keys(s, &keys, &n, why, sizeof(why))) != 0)
		cli_die(cli_exit_code(r), "%s", why);
	for (i = 0; i < n; i++) {
		if (keyline_format(keys[i], KEYLINE_FMT_SELECTORS, out) != 0 ||
		    buf_append_u8(out, '\n') != 0)
			cli_die(XC_FAIL, "key lines: too long");
	}
	sdprw_keys_free(keys, n);
}

static void
write_keys_out(const char *path, const struct sdp *s)
{
	struct buf *b = buf_new_secret(SDP_MAX_LEN);
	char why[160];
	int fd;

	if (b == NULL)
		cli_die(XC_FAIL, "out of memory");
	format_keys(s, b);
	if (secfile_append(path, &fd, why, sizeof(why)) != 0)
		cli_die(XC_FAIL, "%s: %s", path, why);
	if (write(fd, buf_data(b), buf_len(b)) != (ssize_t)buf_len(b) ||
	    close(fd) != 0)
		cli_die(XC_FAIL, "%s: write error: %s", path, strerror(errno));
	buf_free(b);
}

static void
parse_args(struct cfg *c, int argc, char **argv)
{
	int ch, rewrites = 0;

	while ((ch = getopt_long(argc, argv, "t:s:k:a:c:o:p:KhV", longopts,
	    NULL)) != -1) {
		rewrites += ch != 'K' && ch != 'h' && ch != 'V';
		switch (ch) {
		case 't':
			if (strcmp(optarg, "rtp") == 0)
				c->rw.to = SDPRW_TO_RTP;
			else if (strcmp(optarg, "srtp") == 0)
				c->rw.to = SDPRW_TO_SRTP;
			else
				bad_usage("--to: want rtp or srtp, not '%s'",
				    optarg);
			break;
		case 's': parse_suites(c, optarg); break;
		case 'k': add_key(c, slice_cstr(optarg), "--key"); break;
		case O_KEYFILE: read_key_file(c, optarg); break;
		case 'a': c->answer_file = optarg; break;
		case 'c': c->rw.addr = optarg; break;
		case 'o': c->rw.origin_addr = optarg; break;
		case 'p': parse_port_map(c, optarg); break;
		case O_REMOVE_ICE: c->rw.remove_ice = 1; break;
		case O_MUX:
			if (strcmp(optarg, "keep") == 0)
				c->rw.mux = SDPRW_MUX_KEEP;
			else if (strcmp(optarg, "add") == 0)
				c->rw.mux = SDPRW_MUX_ADD;
			else if (strcmp(optarg, "remove") == 0)
				c->rw.mux = SDPRW_MUX_REMOVE;
			else
				bad_usage("--rtcp-mux: want keep, add or "
				    "remove, not '%s'", optarg);
			break;
		case 'K': c->print_keys = 1; break;
		case O_KEYS_OUT: c->keys_out = optarg; break;
		case 'h':
			fputs(usage, stdout);
			exit(XC_OK);
		case 'V': cli_version();
		default: cli_usage_hint();
		}
	}
	if (argc - optind > 1)
		bad_usage("%s", "more than one input file");
	c->in = optind < argc ? argv[optind] : NULL;
	if (c->print_keys && rewrites > 0)
		bad_usage("%s", "--print-keys takes no rewrite options");
	if (c->answer_file != NULL && c->rw.to == SDPRW_TO_RTP)
		bad_usage("%s", "--answer-to answers with SRTP, not --to rtp");
	if (c->nkeys > 0 && c->rw.to != SDPRW_TO_SRTP &&
	    c->answer_file == NULL)
		bad_usage("%s", "--key needs --to srtp or --answer-to");
	if (c->nkeys > 0 && c->rw.suites != NULL && c->answer_file == NULL)
		bad_usage("%s", "--key and --suites: the key names its suite");
}

int
main(int argc, char **argv)
{
	static struct cfg c;
	struct sdp *s, *offer = NULL;
	struct buf *out;
	char why[160];
	size_t i;
	int r;

	cli_init(argv[0]);
	argv[0] = (char *)cli_prog();	/* getopt's messages use it */
	parse_args(&c, argc, argv);
	c.rw.keys = (const struct keyline *const *)c.keys;
	c.rw.nkeys = c.nkeys;
	s = load_sdp(c.in);
	if ((out = buf_new_secret(2 * SDP_MAX_LEN)) == NULL)
		cli_die(XC_FAIL, "out of memory");
	if (c.print_keys) {
		format_keys(s, out);
	} else {
		if (c.answer_file != NULL)
			c.rw.answer_to = offer = load_sdp(c.answer_file);
		if ((r = sdprw_apply(s, &c.rw, why, sizeof(why))) != 0)
			cli_die(r == E_INVAL ? XC_USAGE : cli_exit_code(r),
			    "%s", why);
		if ((r = sdp_write(s, out)) != 0)
			cli_die(XC_FAIL, "output: %s", sbk_strerror(r));
		if (c.keys_out != NULL)
			write_keys_out(c.keys_out, s);
	}
	cli_write_stdout(buf_data(out), buf_len(out));
	buf_free(out);
	sdp_free(offer);
	sdp_free(s);
	for (i = 0; i < c.nkeys; i++)
		keyline_free(c.keys[i]);
	return XC_OK;
}
