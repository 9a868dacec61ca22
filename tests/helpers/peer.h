/* peer.h - the scripted test peers' shared options, sockets and answers. */
#ifndef SBK_PEER_H
#define SBK_PEER_H

/*
 * Header-only (like srtp_ref.h): the Makefile builds each C file in
 * tests/helpers as a program of its own, and none of this is library
 * material. Used by sip-udp-peer, sip-tcp-peer, sip-tls-client and
 * ng-send; each takes what it needs (static inline: no unused warnings).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/net.h"
#include "sip/sip.h"

/* Print with CRLFs as LFs (line-oriented test output). */
static inline void
peer_print_lf(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!(p[i] == '\r' && i + 1 < n && p[i + 1] == '\n'))
			putchar(p[i]);
}

static inline uint64_t
peer_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* How a SIP peer answers requests (-m). */
enum peer_mode { PEER_ANSWER, PEER_SILENT, PEER_BUSY, PEER_BIG };

/* The options the SIP peers have in common. */
struct peer_opts {
	const char *listen;	/* -l ADDR:PORT */
	enum peer_mode mode;	/* -m answer|silent|busy|big */
	unsigned wait;		/* -w MS: how long to run */
	struct net_addr to;	/* -t ADDR:PORT: where -f goes */
	int have_to;
	const char *file;	/* -f FILE: a request to send first */
};

#define PEER_OPTS "l:m:w:t:f:"

static inline void
peer_opts_init(struct peer_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->listen = "127.0.0.1:0";
	o->wait = 5000;
}

/*
 * One getopt result: 1 if it was one of PEER_OPTS (taken into `o`), 0 if
 * not, -1 if its argument is bad.
 */
static inline int
peer_opt(struct peer_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'l': o->listen = arg; return 1;
	case 'm':
		o->mode = strcmp(arg, "silent") == 0 ? PEER_SILENT :
		    strcmp(arg, "busy") == 0 ? PEER_BUSY :
		    strcmp(arg, "big") == 0 ? PEER_BIG : PEER_ANSWER;
		return 1;
	case 'w': o->wait = (unsigned)strtoul(arg, NULL, 10); return 1;
	case 't':
		if (net_addr_parse(slice_cstr(arg), &o->to) != 0)
			return -1;
		o->have_to = 1;
		return 1;
	case 'f': o->file = arg; return 1;
	default: return 0;
	}
}

/*
 * Bind UDP on o->listen and, with `tcp`, a TCP listener on the same
 * address and port; the address in `a`. Prints "bound ADDR:PORT" (the
 * address also in `self`), or says "PROG: cannot bind ADDR" and returns -1.
 */
static inline int
peer_bind(const char *prog, const struct peer_opts *o, int tcp,
    struct net_addr *a, int *ufd, int *lfd, char self[NET_ADDR_STRLEN])
{
	if (net_addr_parse(slice_cstr(o->listen), a) != 0 ||
	    (tcp ? net_udp_tcp_bind(a, 16, ufd, lfd) :
	    net_udp_bind(a, 0, ufd)) != 0 ||
	    net_local_addr(*ufd, a) != 0 ||
	    net_addr_format(a, self, NET_ADDR_STRLEN) != 0) {
		fprintf(stderr, "%s: cannot bind %s\n", prog, o->listen);
		return -1;
	}
	printf("bound %s\n", self);
	return 0;
}

/* Up to `cap` bytes of o->file into `p`: their number, or -1. */
static inline long
peer_read_file(const struct peer_opts *o, uint8_t *p, size_t cap)
{
	FILE *f = fopen(o->file, "rb");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(p, 1, cap, f);
	fclose(f);
	return (long)n;
}

/* Send `b` as one datagram to `to`; "PROG: send failed" if it is not. */
static inline void
peer_send_to(const char *prog, int fd, const struct net_addr *to,
    struct slice b)
{
	struct net_pkt p;

	memset(&p, 0, sizeof(p));
	p.buf = (uint8_t *)(uintptr_t)b.p;
	p.len = p.cap = b.len;
	p.addr = *to;
	if (net_send(fd, &p) != 0)
		fprintf(stderr, "%s: send failed\n", prog);
}

/*
 * A response to `m` into `b` (reset first): To-tag `tag`, `extra` header
 * lines (or NULL), and `body` as an SDP if it is not empty.
 */
static inline int
peer_response(struct buf *b, const struct sip_msg *m, int code,
    const char *tag, const char *extra, struct slice body)
{
	struct buf *e = buf_new(65536);
	int r = -1;

	buf_reset(b);
	if (e == NULL || (extra != NULL && buf_append_cstr(e, extra) != 0))
		goto out;
	if (body.len > 0 && buf_append_cstr(e,
	    "Content-Type: application/sdp\r\n") != 0)
		goto out;
	if (sip_build_response(m, code, NULL, slice_cstr(tag), buf_slice(e),
	    b) != 0)
		goto out;
	if (body.len > 0) {
		/* Replace the trailing "Content-Length: 0\r\n\r\n". */
		buf_truncate(b, buf_len(b) - 21);
		if (buf_printf(b, "Content-Length: %zu\r\n\r\n", body.len) != 0 ||
		    buf_append_slice(b, body) != 0)
			goto out;
	}
	r = 0;
out:
	buf_free(e);
	return r;
}

/* Where a peer's answers go: send(ctx, bytes). */
struct peer_out {
	void (*send)(void *ctx, struct slice b);
	void *ctx;
};

/* Build a response (see peer_response) and send it. */
static inline void
peer_respond(const struct peer_out *out, const struct sip_msg *m, int code,
    const char *tag, const char *extra, struct slice body)
{
	struct buf *b = buf_new(65536);

	if (b != NULL && peer_response(b, m, code, tag, extra, body) == 0)
		out->send(out->ctx, buf_slice(b));
	buf_free(b);
}

/*
 * Answer request `m` as a scripted UAS would in `mode`, the To-tag `tag`,
 * `contact` (a header line) in the 180 and 200 to INVITE. PEER_ANSWER:
 * 100/180/200 (the 200 echoing the offer) to INVITE, 200 to the rest,
 * REGISTER's echoing its Contact and Path; PEER_BUSY: 486 to INVITE;
 * PEER_BIG: 8 KB of padding in the 200 to other requests; PEER_SILENT:
 * nothing. Never anything to ACK or to responses. 1 if it answered.
 */
static inline int
peer_answer(const struct peer_out *out, const struct sip_msg *m,
    enum peer_mode mode, const char *tag, const char *contact)
{
	if (!m->is_request || slice_eq_cstr(m->method, "ACK") ||
	    mode == PEER_SILENT)
		return 0;
	if (slice_eq_cstr(m->method, "INVITE")) {
		peer_respond(out, m, 100, tag, NULL, SLICE_NULL);
		if (mode == PEER_BUSY) {
			peer_respond(out, m, 486, tag, NULL, SLICE_NULL);
			return 1;
		}
		peer_respond(out, m, 180, tag, contact, SLICE_NULL);
		peer_respond(out, m, 200, tag, contact, m->body);
		return 1;
	}
	if (slice_eq_cstr(m->method, "REGISTER")) {
		struct buf *x = buf_new(8192);
		size_t i;

		for (i = 0; x != NULL && i < m->nhdr; i++)
			if (m->hdr[i].id == SIP_H_CONTACT ||
			    m->hdr[i].id == SIP_H_PATH)
				if (buf_printf(x, "%s: %.*s\r\n",
				    sip_hdr_name(m->hdr[i].id),
				    (int)m->hdr[i].value.len,
				    (const char *)m->hdr[i].value.p) != 0)
					break;
		if (x != NULL)
			peer_respond(out, m, 200, tag, buf_str(x), SLICE_NULL);
		buf_free(x);
		return 1;
	}
	if (mode == PEER_BIG) {
		/* Large answers, to fill a slow client's queue. */
		static char pad[8100];

		memset(pad, 'x', sizeof(pad) - 3);
		memcpy(pad, "X-Pad: ", 7);
		memcpy(pad + sizeof(pad) - 3, "\r\n", 3);
		peer_respond(out, m, 200, tag, pad, SLICE_NULL);
		return 1;
	}
	peer_respond(out, m, 200, tag, NULL, SLICE_NULL);
	return 1;
}

#endif
