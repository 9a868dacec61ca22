/* ng-send.c - send one rtpengine ng request, print the decoded reply. */
/*
 *   ng-send [options] ADDR:PORT COMMAND [KEY=VALUE ...]
 *   ng-send [options] -f FILE ADDR:PORT
 *   ng-send --decode [FILE]
 *
 * Arguments after COMMAND build the request dictionary:
 *   KEY=VALUE    a string          (call-id=abc)
 *   KEY=@FILE    a string read from FILE (sdp=@offer.sdp)
 *   KEY:=N       an integer        (delete-delay:=0)
 *   KEY[]=VALUE  append VALUE to the list KEY (flags[]=trust-address)
 * -f FILE sends FILE's bencoded dictionary instead (a leading "COOKIE "
 * in it is replaced by a fresh cookie). The request is retransmitted on
 * the ng schedule (--tries, --timeout) until a reply with the same cookie
 * arrives; the reply is printed as indented text (--raw: the datagram as
 * it came). --decode reads a captured request datagram (FILE or stdin) and
 * prints what lib/ng understood of it, one `name: value` a line.
 *
 * Exit status: 0 result ok or pong; 1 error or load limit result, timeout,
 * network failure; 2 usage; 3 malformed reply or input.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ng/bencode.h"
#include "base/buf.h"
#include "ng/ng.h"
#include "peer.h"

enum { XS_OK = 0, XS_FAIL = 1, XS_USAGE = 2, XS_INPUT = 3 };

static void __attribute__((format(printf, 2, 3), noreturn))
die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("ng-send: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void
usage(FILE *f)
{
	fputs("usage: ng-send [options] ADDR:PORT COMMAND [KEY=VALUE ...]\n"
	    "       ng-send [options] -f FILE ADDR:PORT\n"
	    "       ng-send --decode [FILE]\n"
	    "  KEY=VALUE  string    KEY=@FILE  string from FILE\n"
	    "  KEY:=N     integer   KEY[]=V    append V to list KEY\n"
	    "  -f, --file FILE      send the bencoded dictionary in FILE\n"
	    "  -b, --bind ADDR:PORT send from this local address\n"
	    "  -c, --cookie STR     use this cookie (default: random)\n"
	    "  -t, --timeout MS     wait per try (default 1000)\n"
	    "  -n, --tries N        tries in all (default 3)\n"
	    "  -s, --sdp-out FILE   write the reply's sdp to FILE\n"
	    "      --raw            print the reply datagram as received\n"
	    "      --decode         parse a captured request, print it\n"
	    "  -q, --quiet          print nothing but errors\n"
	    "  -h, --help           this text\n", f);
}

static struct buf *
read_file(const char *path, size_t max)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	struct buf *b;
	uint8_t chunk[4096];
	size_t n;

	if (f == NULL)
		die(XS_INPUT, "%s: %s", path, strerror(errno));
	if ((b = buf_new(max)) == NULL)
		die(XS_FAIL, "out of memory");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(b, chunk, n) != 0)
			die(XS_INPUT, "%s: larger than %zu bytes", path, max);
	if (ferror(f))
		die(XS_INPUT, "%s: read error", path);
	if (f != stdin)
		fclose(f);
	return b;
}

/* One command-line member. */
struct arg {
	char key[128];
	const char *val;
	int kind;		/* 's' string, 'i' integer, 'l' list element */
	struct buf *file;	/* KEY=@FILE */
};

static void
put_arg_value(struct buf *b, const struct arg *a)
{
	struct slice v = a->file != NULL ? buf_slice(a->file) :
	    slice_cstr(a->val);
	int r;

	if (a->kind == 'i') {
		char *end;
		long long n;

		errno = 0;
		n = strtoll(a->val, &end, 10);
		if (errno != 0 || end == a->val || *end != '\0')
			die(XS_USAGE, "%s: not an integer: %s", a->key, a->val);
		r = bencode_put_int(b, n);
	} else
		r = bencode_put_str(b, v);
	if (r != 0)
		die(XS_INPUT, "request larger than %d bytes", NG_DGRAM_MAX);
}

static void
build_args(struct buf *b, const char *cmd, char **av, int ac)
{
	struct arg *a = calloc((size_t)ac + 1, sizeof(*a));
	int i, j, r;

	if (a == NULL)
		die(XS_FAIL, "out of memory");
	for (i = 0; i < ac; i++) {
		const char *eq = strchr(av[i], '=');
		size_t kl;

		if (eq == NULL || eq == av[i])
			die(XS_USAGE, "%s: want KEY=VALUE", av[i]);
		kl = (size_t)(eq - av[i]);
		a[i].kind = 's';
		if (kl > 2 && eq[-2] == '[' && eq[-1] == ']') {
			a[i].kind = 'l';
			kl -= 2;
		} else if (kl > 1 && eq[-1] == ':') {
			a[i].kind = 'i';
			kl -= 1;
		}
		if (kl == 0 || kl >= sizeof(a[i].key))
			die(XS_USAGE, "%s: bad key", av[i]);
		memcpy(a[i].key, av[i], kl);
		a[i].val = eq + 1;
		if (a[i].kind != 'i' && eq[1] == '@')
			a[i].file = read_file(eq + 2, NG_DGRAM_MAX);
	}
	r = bencode_put_dict(b);
	for (i = 0; i < ac && r == 0; i++) {
		if (a[i].key[0] == '\0')
			continue;	/* already written with its list */
		if ((r = bencode_put_cstr(b, a[i].key)) != 0)
			break;
		if (a[i].kind != 'l') {
			put_arg_value(b, &a[i]);
			continue;
		}
		/* a list: this element and every later one with this key */
		if ((r = bencode_put_list(b)) != 0)
			break;
		for (j = i; j < ac; j++) {
			if (j != i && (a[j].kind != 'l' ||
			    strcmp(a[j].key, a[i].key) != 0))
				continue;
			put_arg_value(b, &a[j]);
			if (j != i)
				a[j].key[0] = '\0';
		}
		r = bencode_put_end(b);
	}
	if (r == 0 && cmd != NULL)
		r = bencode_put_kcstr(b, "command", cmd);
	if (r == 0)
		r = bencode_put_end(b);
	if (r != 0)
		die(XS_INPUT, "request larger than %d bytes", NG_DGRAM_MAX);
	for (i = 0; i < ac; i++)
		buf_free(a[i].file);
	free(a);
}

/* ADDR:PORT or [ADDR6]:PORT, numeric only; caller frees. */
static struct addrinfo *
resolve(const char *spec)
{
	char host[256];
	const char *colon = strrchr(spec, ':'), *h = spec;
	struct addrinfo hints, *ai = NULL;
	size_t hl;
	int r;

	if (colon == NULL || colon == spec || colon[1] == '\0')
		die(XS_USAGE, "%s: want ADDR:PORT", spec);
	hl = (size_t)(colon - spec);
	if (spec[0] == '[' && hl > 2 && spec[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		die(XS_USAGE, "%s: address too long", spec);
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((r = getaddrinfo(host, colon + 1, &hints, &ai)) != 0)
		die(XS_USAGE, "%s: %s", spec, gai_strerror(r));
	return ai;
}

/* A UDP socket connected to `spec`, bound to `local` if given (so that a
 * second run retransmits from the same address, as Kamailio does). */
static int
open_peer(const char *spec, const char *local)
{
	struct addrinfo *ai = resolve(spec), *la = NULL;
	int fd, one = 1;

	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(XS_FAIL, "socket: %s", strerror(errno));
	if (local != NULL) {
		la = resolve(local);
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		if (bind(fd, la->ai_addr, la->ai_addrlen) != 0)
			die(XS_FAIL, "%s: %s", local, strerror(errno));
		freeaddrinfo(la);
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
		die(XS_FAIL, "%s: %s", spec, strerror(errno));
	freeaddrinfo(ai);
	return fd;
}

/* Send `req` on the retry schedule; the matching reply into `rep`. */
static void
exchange(int fd, struct slice req, struct slice cookie, unsigned tries,
    unsigned timeout, struct buf *rep)
{
	struct ng_retry rt;
	uint64_t when;
	uint8_t *w;
	int st;

	ng_retry_init(&rt, tries, timeout, peer_now_ms());
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		uint64_t t = peer_now_ms();
		ssize_t n;

		st = ng_retry_next(&rt, t, &when);
		if (st == NG_RETRY_GIVEUP)
			die(XS_FAIL, "no reply after %u tries", tries);
		if (st == NG_RETRY_SEND &&
		    send(fd, req.p, req.len, 0) != (ssize_t)req.len &&
		    errno != ECONNREFUSED)
			die(XS_FAIL, "send: %s", strerror(errno));
		t = peer_now_ms();
		if (poll(&pfd, 1, when > t ? (int)(when - t) : 0) <= 0)
			continue;
		buf_reset(rep);
		if ((w = buf_reserve(rep, NG_DGRAM_MAX)) == NULL)
			die(XS_FAIL, "out of memory");
		n = recv(fd, w, NG_DGRAM_MAX, 0);
		if (n < 0)
			continue;	/* ECONNREFUSED: nobody yet, retry */
		buf_commit(rep, (size_t)n);
		if ((size_t)n > cookie.len &&
		    memcmp(w, cookie.p, cookie.len) == 0 &&
		    w[cookie.len] == ' ')
			return;
	}
}

static void
pr(const char *name, struct slice v)
{
	if (v.len > 0)
		printf("%s: %.*s\n", name, (int)v.len, (const char *)v.p);
}

static void
pr_bits(const char *name, unsigned bits)
{
	if (bits != 0)
		printf("%s: 0x%x\n", name, bits);
}

/* --decode: what lib/ng understood of a request. */
static int
decode(const char *path)
{
	struct buf *b = read_file(path != NULL ? path : "-", NG_DGRAM_MAX);
	struct ng_req q;
	const char *why;
	size_t i;
	int r;

	if ((r = ng_req_parse(&q, buf_slice(b))) != 0)
		die(XS_INPUT, "%s: not an ng request (%s)", path ? path : "-",
		    sbk_strerror(r));
	pr("cookie", q.cookie);
	pr("command", q.command);
	pr("call-id", q.call_id);
	pr("from-tag", q.from_tag);
	pr("to-tag", q.to_tag);
	pr("via-branch", q.via_branch);
	pr("transport-protocol", q.transport_protocol);
	if (q.ice != NG_ICE_NONE)
		printf("ICE: %d\n", q.ice);
	if (q.dtls != NG_DTLS_NONE)
		printf("DTLS: %d\n", q.dtls);
	pr_bits("replace", q.replace);
	pr_bits("rtcp-mux", q.rtcp_mux);
	pr_bits("SDES", q.sdes);
	for (i = 0; i < q.n_sdes_no; i++)
		pr("SDES-no", q.sdes_no[i]);
	for (i = 0; i < q.n_sdes_only; i++)
		pr("SDES-only", q.sdes_only[i]);
	pr("from-interface", q.from_interface);
	pr("to-interface", q.to_interface);
	pr("received-from-family", q.received_family);
	pr("received-from-address", q.received_addr);
	pr("media-address", q.media_address);
	pr("address-family", q.address_family);
	pr("label", q.label);
	pr("sip-message-type", q.sip_message_type);
	pr("record-call", q.record_call);
	if (q.delete_delay >= 0)
		printf("delete-delay: %" PRId64 "\n", q.delete_delay);
	pr_bits("supports", q.supports);
	pr_bits("flags", q.flags);
	pr("rtpp-flags", q.rtpp_flags);
	if (q.sdp.len > 0)
		printf("sdp-bytes: %zu\n", q.sdp.len);
	for (i = 0; i < q.n_unknown && i < NG_UNKNOWN_MAX; i++)
		pr("unknown", q.unknown[i]);
	if ((why = ng_req_check(&q)) != NULL)
		printf("incomplete: %s\n", why);
	ng_req_release(&q);
	buf_free(b);
	return XS_OK;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "bind", required_argument, NULL, 'b' },
		{ "cookie", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "tries", required_argument, NULL, 'n' },
		{ "sdp-out", required_argument, NULL, 's' },
		{ "raw", no_argument, NULL, 'R' },
		{ "decode", no_argument, NULL, 'D' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *sdp_out = NULL, *bind_to = NULL;
	char cookie[NG_COOKIE_MAX + 1];
	unsigned timeout = 1000, tries = 3;
	int c, raw = 0, quiet = 0, fd, rc;
	struct buf *req, *rep, *txt;
	struct ng_reply r;

	cookie[0] = '\0';
	while ((c = getopt_long(argc, argv, "f:b:c:t:n:s:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'f': file = optarg; break;
		case 'b': bind_to = optarg; break;
		case 'c':
			if (strlen(optarg) == 0 || strlen(optarg) > NG_COOKIE_MAX ||
			    strchr(optarg, ' ') != NULL)
				die(XS_USAGE, "--cookie: 1 to %d characters, "
				    "no space", NG_COOKIE_MAX);
			memcpy(cookie, optarg, strlen(optarg) + 1);
			break;
		case 't': timeout = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': tries = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': sdp_out = optarg; break;
		case 'R': raw = 1; break;
		case 'q': quiet = 1; break;
		case 'D':
			return decode(optind < argc ? argv[optind] : NULL);
		case 'h': usage(stdout); return XS_OK;
		default:
			fputs("Try 'ng-send --help' for more information.\n",
			    stderr);
			return XS_USAGE;
		}
	}
	if (optind >= argc || (file == NULL && optind + 1 >= argc) ||
	    (file != NULL && optind + 1 != argc) || timeout == 0 || tries == 0) {
		usage(stderr);
		return XS_USAGE;
	}
	if (cookie[0] == '\0' && ng_cookie_new(cookie, sizeof(cookie)) != 0)
		die(XS_FAIL, "no random cookie");
	req = buf_new(NG_DGRAM_MAX);
	rep = buf_new(NG_DGRAM_MAX);
	txt = buf_new(1 << 20);
	if (req == NULL || rep == NULL || txt == NULL)
		die(XS_FAIL, "out of memory");
	if (buf_printf(req, "%s ", cookie) != 0)
		die(XS_FAIL, "out of memory");
	if (file != NULL) {
		struct buf *in = read_file(file, NG_DGRAM_MAX);
		struct slice s = buf_slice(in);
		long sp = slice_chr(s, ' ');

		/* "COOKIE d..." as captured: drop the old cookie */
		if (s.len > 0 && s.p[0] != 'd' && sp > 0)
			(void)slice_skip(&s, (size_t)sp + 1);
		if (buf_append_slice(req, s) != 0)
			die(XS_INPUT, "%s: too large", file);
		buf_free(in);
	} else
		build_args(req, argv[optind + 1], argv + optind + 2,
		    argc - optind - 2);

	fd = open_peer(argv[optind], bind_to);
	exchange(fd, buf_slice(req), slice_cstr(cookie), tries, timeout, rep);
	close(fd);

	if (ng_reply_parse(&r, buf_slice(rep)) != 0)
		die(XS_INPUT, "malformed reply");
	if (!quiet && raw)
		fwrite(buf_data(rep), 1, buf_len(rep), stdout);
	else if (!quiet) {
		if (bencode_to_text(txt, r.dict, 2) != 0)
			die(XS_FAIL, "reply too large to print");
		printf("%s\n", buf_str(txt));
	}
	if (sdp_out != NULL) {
		FILE *f = fopen(sdp_out, "wb");

		if (f == NULL || fwrite(r.sdp.p, 1, r.sdp.len, f) != r.sdp.len ||
		    fclose(f) != 0)
			die(XS_FAIL, "%s: %s", sdp_out, strerror(errno));
	}
	rc = XS_OK;
	if (r.result == NG_RESULT_ERROR) {
		fprintf(stderr, "ng-send: error: %.*s\n",
		    (int)r.error_reason.len, (const char *)r.error_reason.p);
		rc = XS_FAIL;
	} else if (r.result == NG_RESULT_LOAD_LIMIT) {
		fprintf(stderr, "ng-send: load limit\n");
		rc = XS_FAIL;
	} else if (r.result != NG_RESULT_OK && r.result != NG_RESULT_PONG) {
		fprintf(stderr, "ng-send: unexpected result\n");
		rc = XS_INPUT;
	}
	ng_reply_release(&r);
	buf_free(req);
	buf_free(rep);
	buf_free(txt);
	if (fflush(stdout) != 0 || ferror(stdout))
		die(XS_FAIL, "stdout: write error");
	return rc;
}
