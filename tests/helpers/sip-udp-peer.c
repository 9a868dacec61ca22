/* sip-udp-peer.c - a scripted SIP-over-UDP peer for proxy tests. */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/buf.h"
#include "../../lib/net.h"
#include "../../lib/sip.h"

/*
 * sip-udp-peer -l ADDR:PORT [-m answer|silent|busy] [-w MS]
 *              [-t ADDR:PORT -f FILE]
 *
 * Prints "bound ADDR:PORT", then every datagram it receives followed by a
 * "----" line. Mode answer (default) replies 100/180/200 (with an SDP
 * echo) to INVITE, 200 to other requests (echoing Contact and Path for
 * REGISTER), nothing to ACK; silent never replies; busy replies 486 to
 * INVITE, big answers with 8 KB of padding. With -f, sends FILE to -t first (a request from the inside).
 * Runs for -w MS (default 5000).
 */

/* Print with CRLFs as LFs (line-oriented test output). */
static void
print_lf(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!(p[i] == '\r' && i + 1 < n && p[i + 1] == '\n'))
			putchar(p[i]);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
send_to(int fd, const struct net_addr *to, struct slice b)
{
	struct net_pkt p;

	memset(&p, 0, sizeof(p));
	p.buf = (uint8_t *)(uintptr_t)b.p;
	p.len = p.cap = b.len;
	p.addr = *to;
	if (net_send(fd, &p) != 0)
		fprintf(stderr, "sip-udp-peer: send failed\n");
}

/* A response to `m` with optional body; `extra` are header lines. */
static void
respond(int fd, const struct net_addr *to, const struct sip_msg *m, int code,
    const char *extra, struct slice body)
{
	struct buf *b = buf_new(65536), *e = buf_new(65536);

	if (extra != NULL && buf_append_cstr(e, extra) != 0)
		goto out;
	if (body.len > 0 && buf_append_cstr(e,
	    "Content-Type: application/sdp\r\n") != 0)
		goto out;
	if (sip_build_response(m, code, NULL, SLICE_LIT("peer1"), buf_slice(e),
	    b) != 0)
		goto out;
	if (body.len > 0) {
		/* Replace the trailing "Content-Length: 0\r\n\r\n". */
		buf_truncate(b, buf_len(b) - 21);
		if (buf_printf(b, "Content-Length: %zu\r\n\r\n", body.len) != 0 ||
		    buf_append_slice(b, body) != 0)
			goto out;
	}
	send_to(fd, to, buf_slice(b));
out:
	buf_free(b);
	buf_free(e);
}

static void
handle(int fd, const struct net_addr *from, struct slice raw, int mode,
    const char *self)
{
	struct sip_msg m;
	char contact[256];

	if (sip_parse(&m, raw) != 0 || !m.is_request ||
	    slice_eq_cstr(m.method, "ACK") || mode == 1)
		return;
	snprintf(contact, sizeof(contact), "Contact: <sip:peer@%s>\r\n", self);
	if (slice_eq_cstr(m.method, "INVITE")) {
		respond(fd, from, &m, 100, NULL, SLICE_NULL);
		if (mode == 2) {
			respond(fd, from, &m, 486, NULL, SLICE_NULL);
			return;
		}
		respond(fd, from, &m, 180, contact, SLICE_NULL);
		respond(fd, from, &m, 200, contact, m.body);
		return;
	}
	if (slice_eq_cstr(m.method, "REGISTER")) {
		struct buf *x = buf_new(8192);
		size_t i;

		for (i = 0; i < m.nhdr; i++)
			if (m.hdr[i].id == SIP_H_CONTACT ||
			    m.hdr[i].id == SIP_H_PATH)
				if (buf_printf(x, "%s: %.*s\r\n",
				    sip_hdr_name(m.hdr[i].id),
				    (int)m.hdr[i].value.len,
				    (const char *)m.hdr[i].value.p) != 0)
					break;
		respond(fd, from, &m, 200, buf_str(x), SLICE_NULL);
		buf_free(x);
		return;
	}
	if (mode == 3) {
		/* Large answers, to fill a slow client's queue. */
		static char pad[8100];
		memset(pad, 'x', sizeof(pad) - 3);
		memcpy(pad, "X-Pad: ", 7);
		memcpy(pad + sizeof(pad) - 3, "\r\n", 3);
		respond(fd, from, &m, 200, pad, SLICE_NULL);
		return;
	}
	respond(fd, from, &m, 200, NULL, SLICE_NULL);
}

int
main(int argc, char **argv)
{
	struct net_addr la, to;
	const char *file = NULL, *lstr = "127.0.0.1:0";
	int c, fd, mode = 0, have_to = 0;
	unsigned wait = 5000;
	char self[NET_ADDR_STRLEN];
	uint64_t end;
	static uint8_t rb[65536];

	while ((c = getopt(argc, argv, "l:m:w:t:f:")) != -1) {
		switch (c) {
		case 'l': lstr = optarg; break;
		case 'm':
			mode = strcmp(optarg, "silent") == 0 ? 1 :
			    strcmp(optarg, "busy") == 0 ? 2 :
			    strcmp(optarg, "big") == 0 ? 3 : 0;
			break;
		case 'w': wait = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't':
			if (net_addr_parse(slice_cstr(optarg), &to) != 0)
				return 2;
			have_to = 1;
			break;
		case 'f': file = optarg; break;
		default: return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (net_addr_parse(slice_cstr(lstr), &la) != 0 ||
	    net_udp_bind(&la, 0, &fd) != 0 || net_local_addr(fd, &la) != 0 ||
	    net_addr_format(&la, self, sizeof(self)) != 0) {
		fprintf(stderr, "sip-udp-peer: cannot bind %s\n", lstr);
		return 1;
	}
	printf("bound %s\n", self);
	if (file != NULL && have_to) {
		FILE *f = fopen(file, "rb");
		size_t n;

		if (f == NULL)
			return 1;
		n = fread(rb, 1, sizeof(rb), f);
		fclose(f);
		send_to(fd, &to, slice_make(rb, n));
	}
	end = now_ms() + wait;
	while (now_ms() < end) {
		struct pollfd pf = { fd, POLLIN, 0 };
		struct net_pkt p;

		if (poll(&pf, 1, (int)(end - now_ms())) <= 0)
			continue;
		memset(&p, 0, sizeof(p));
		p.buf = rb;
		p.cap = sizeof(rb);
		while (net_recv(fd, &p) == 0) {
			print_lf(p.buf, p.len);
			printf("\n----\n");
			handle(fd, &p.addr, slice_make(p.buf, p.len), mode, self);
			p.cap = sizeof(rb);
		}
	}
	close(fd);
	return 0;
}
