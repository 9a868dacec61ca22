/* stun-tool.c - drive lib/media/stun and ice from a shell, for checks
 * against an independent STUN/ICE implementation (aioice). */
/*
 *   stun-tool answer LUFRAG LPWD RUFRAG|- RPWD|- SRC   (hex lines on stdin)
 *   stun-tool request USERNAME PWD|- PRIORITY ROLE TIEBREAKER USECAND TID
 *   stun-tool parse PWD|-                              (hex lines on stdin)
 *   stun-tool serve ADDR SECONDS [RUFRAG RPWD]
 *
 * answer: an ICE-lite agent with these credentials (- : the peer's not
 * known yet) takes each request as if from SRC and prints
 * "RC HEX" (RC the E_* name or "ok", HEX the answer or "-").
 * request: prints our Binding request in hex (PWD - : no MI; ROLE 0, 1
 * controlling, 2 controlled; TID 24 hex digits).
 * parse: prints what stun_parse() read, one message a line, with
 * "mi=ok|bad|none" checked with PWD.
 * serve: an ICE-lite agent on a UDP socket at ADDR (port 0: any),
 * fresh credentials; prints "port P ufrag U pwd W" first, then one line
 * per STUN packet ("check RC nominated N from A") and echoes every other
 * datagram back prefixed "echo:"; stops after SECONDS or at a datagram
 * "bye", and prints its counters.
 *
 * Exit status: 0 ok, 1 runtime failure, 2 usage, 3 malformed input.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/net.h"
#include "media/ice.h"
#include "media/stun.h"

static int
usage(void)
{
	fputs("usage: stun-tool answer LUFRAG LPWD RUFRAG|- RPWD|- SRC\n"
	    "       stun-tool request USERNAME PWD|- PRIORITY ROLE TIEBREAKER "
	    "USECAND TID\n"
	    "       stun-tool parse PWD|-\n"
	    "       stun-tool serve ADDR SECONDS [RUFRAG RPWD]\n", stderr);
	return 2;
}

static size_t
unhex(const char *h, uint8_t *out, size_t cap, int *bad)
{
	size_t n = 0;
	int i, v[2];

	*bad = 0;
	while (h[0] != '\0' && h[0] != '\n') {
		for (i = 0; i < 2; i++) {
			char c = h[i];

			if (c >= '0' && c <= '9')
				v[i] = c - '0';
			else if (c >= 'a' && c <= 'f')
				v[i] = c - 'a' + 10;
			else if (c >= 'A' && c <= 'F')
				v[i] = c - 'A' + 10;
			else {
				*bad = 1;
				return n;
			}
		}
		if (n == cap) {
			*bad = 1;
			return n;
		}
		out[n++] = (uint8_t)(v[0] << 4 | v[1]);
		h += 2;
	}
	return n;
}

static void
puthex(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static const char *
rcname(int r)
{
	switch (r) {
	case 0: return "ok";
	case E_SYNTAX: return "E_SYNTAX";
	case E_AUTH: return "E_AUTH";
	case E_NOTFOUND: return "E_NOTFOUND";
	case E_STATE: return "E_STATE";
	case E_UNSUPPORTED: return "E_UNSUPPORTED";
	case E_INVAL: return "E_INVAL";
	}
	return "E_OTHER";
}

static int
set_cred(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (n >= cap)
		return -1;
	memcpy(dst, v, n + 1);
	return 0;
}

static int
cmd_answer(char **av)
{
	struct ice_lite a;
	struct ice_check c;
	struct net_addr src;
	uint8_t in[STUN_MAX * 2], out[STUN_MAX];
	char line[STUN_MAX * 4 + 8];
	size_t n, outlen;
	int bad, r;

	memset(&a, 0, sizeof(a));
	if (set_cred(a.lufrag, sizeof(a.lufrag), av[0]) != 0 ||
	    set_cred(a.lpwd, sizeof(a.lpwd), av[1]) != 0)
		return usage();
	if (strcmp(av[2], "-") != 0 &&
	    ice_lite_set_remote(&a, slice_cstr(av[2]), slice_cstr(av[3])) < 0) {
		fprintf(stderr, "stun-tool: bad remote credentials\n");
		return 2;
	}
	if (net_addr_parse(slice_cstr(av[4]), &src) != 0)
		return usage();
	while (fgets(line, sizeof(line), stdin) != NULL) {
		n = unhex(line, in, sizeof(in), &bad);
		if (bad) {
			fprintf(stderr, "stun-tool: bad hex\n");
			return 3;
		}
		r = ice_lite_input(&a, slice_make(in, n), &src, out,
		    sizeof(out), &outlen, &c);
		printf("%s ", rcname(r));
		if (outlen > 0)
			puthex(out, outlen);
		else
			printf("-");
		printf("\n");
	}
	printf("requests %" PRIu64 " answered %" PRIu64 " bad_auth %" PRIu64
	    " bad_user %" PRIu64 " malformed %" PRIu64 " nominations %"
	    PRIu64 " role_conflicts %" PRIu64 "\n", a.requests, a.answered,
	    a.bad_auth, a.bad_user, a.malformed, a.nominations,
	    a.role_conflicts);
	return 0;
}

static int
cmd_request(char **av)
{
	uint8_t out[STUN_MAX], tid[12];
	const char *pwd = strcmp(av[1], "-") == 0 ? NULL : av[1];
	size_t n;
	int bad;

	if (unhex(av[6], tid, sizeof(tid), &bad) != 12 || bad)
		return usage();
	n = stun_binding_request(out, sizeof(out), tid, slice_cstr(av[0]),
	    (uint32_t)strtoul(av[2], NULL, 0), (int)strtol(av[3], NULL, 0),
	    strtoull(av[4], NULL, 0), (int)strtol(av[5], NULL, 0),
	    (const uint8_t *)pwd, pwd != NULL ? strlen(pwd) : 0);
	if (n == 0)
		return 3;
	puthex(out, n);
	printf("\n");
	return 0;
}

static int
cmd_parse(char **av)
{
	const char *pwd = strcmp(av[0], "-") == 0 ? NULL : av[0];
	uint8_t in[STUN_MAX * 2];
	char line[STUN_MAX * 4 + 8], a[NET_ADDR_STRLEN];
	struct stun_msg m;
	size_t n;
	int bad, st = 0;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		n = unhex(line, in, sizeof(in), &bad);
		if (bad || stun_parse(slice_make(in, n), &m) != 0) {
			printf("malformed\n");
			st = 3;
			continue;
		}
		printf("type=0x%04x tid=", m.type);
		puthex(m.tid, 12);
		printf(" user=%.*s", (int)m.username.len,
		    m.username.len ? (const char *)m.username.p : "");
		if (m.has_priority)
			printf(" priority=%" PRIu32, m.priority);
		if (m.role != 0)
			printf(" %s=%" PRIu64, m.role == 1 ? "controlling" :
			    "controlled", m.tiebreaker);
		if (m.use_candidate)
			printf(" use-candidate");
		if (m.error_code != 0)
			printf(" error=%u", m.error_code);
		if (m.mapped.len != 0 &&
		    net_addr_format(&m.mapped, a, sizeof(a)) == 0)
			printf(" mapped=%s", a);
		printf(" mi=%s fp=%d\n", m.integrity_at == 0 ? "none" :
		    pwd != NULL && stun_check_integrity(slice_make(in, n), &m,
		    (const uint8_t *)pwd, strlen(pwd)) == 0 ? "ok" : "bad",
		    m.has_fingerprint);
	}
	return st;
}

static int
cmd_serve(int ac, char **av)
{
	struct ice_lite a;
	struct ice_check c;
	struct net_addr at;
	struct net_pkt p;
	uint8_t in[2048], out[STUN_MAX + 8];
	char from[NET_ADDR_STRLEN];
	struct pollfd pfd;
	time_t end;
	size_t outlen;
	int fd, r;

	if (net_addr_parse(slice_cstr(av[0]), &at) != 0)
		return usage();
	end = time(NULL) + strtol(av[1], NULL, 10);
	if (ice_lite_init(&a) != 0)
		return 1;
	if (ac >= 4 && ice_lite_set_remote(&a, slice_cstr(av[2]),
	    slice_cstr(av[3])) < 0)
		return usage();
	if (net_udp_bind(&at, 0, &fd) != 0 || net_local_addr(fd, &at) != 0) {
		fprintf(stderr, "stun-tool: bind: %s\n", strerror(errno));
		return 1;
	}
	printf("port %u ufrag %s pwd %s\n", net_addr_port(&at), a.lufrag,
	    a.lpwd);
	fflush(stdout);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (time(NULL) < end) {
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		memset(&p, 0, sizeof(p));
		p.buf = in;
		p.cap = sizeof(in) - 5;
		if (net_recv(fd, &p) != 0)
			continue;
		if (net_addr_format(&p.addr, from, sizeof(from)) != 0)
			from[0] = '\0';
		if (p.len == 3 && memcmp(in, "bye", 3) == 0)
			break;
		if (!stun_is(slice_make(in, p.len))) {
			memmove(in + 5, in, p.len);
			memcpy(in, "echo:", 5);
			p.len += 5;
			if (net_send(fd, &p) != 0)
				fprintf(stderr, "stun-tool: send failed\n");
			continue;
		}
		r = ice_lite_input(&a, slice_make(in, p.len), &p.addr, out,
		    sizeof(out), &outlen, &c);
		printf("check %s nominated %d from %s\n", rcname(r),
		    r == 0 ? c.nominated : 0, from);
		fflush(stdout);
		if (outlen > 0) {
			p.buf = out;
			p.len = outlen;
			if (net_send(fd, &p) != 0)
				fprintf(stderr, "stun-tool: send failed\n");
		}
	}
	printf("requests %" PRIu64 " answered %" PRIu64 " bad_auth %" PRIu64
	    " bad_user %" PRIu64 " nominations %" PRIu64 " role_conflicts %"
	    PRIu64 "\n", a.requests, a.answered, a.bad_auth, a.bad_user,
	    a.nominations, a.role_conflicts);
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 7 && strcmp(argv[1], "answer") == 0)
		return cmd_answer(argv + 2);
	if (argc >= 9 && strcmp(argv[1], "request") == 0)
		return cmd_request(argv + 2);
	if (argc >= 3 && strcmp(argv[1], "parse") == 0)
		return cmd_parse(argv + 2);
	if (argc >= 4 && strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 2, argv + 2);
	return usage();
}
