/* sip-tls-term.c (bench) - SIP-over-TLS load client: calls/s and idle flows. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/buf.h"
#include "base/net.h"
#include "sip/sip.h"

/*
 * sip-tls-term-bench calls ADDR:PORT CLIENTS SECONDS
 *	CLIENTS TLS connections each running complete calls back to back
 *	(INVITE, 100, 180, 200, ACK, BYE, 200) through the gateway; prints
 *	"calls N seconds S cps X".
 * sip-tls-term-bench idle ADDR:PORT CONNS
 *	opens CONNS TLS connections, completes their handshakes, prints
 *	"ready N", then holds them until standard input closes.
 * wscalls and wsidle: the same over secure WebSocket (RFC 7118): each
 *	connection upgraded first, each message one masked text frame.
 */

struct cli {
	SSL *ssl;
	int fd;
	int state;		/* 0 handshake, 1 wait 200 INVITE, 2 wait 200 BYE */
	unsigned seq;
	struct sip_framer *fr;
	struct buf *out;	/* pending bytes (WANT_WRITE) */
	char callid[48];
	char rr[2][160];	/* Record-Route values from the 200 */
	int nrr;
	char totag[64];
	int ws;			/* SIP over WebSocket */
	struct buf *in;		/* WebSocket: bytes of frames not whole */
};

static int ws_mode;

/* Queue a message: as it is, or in one masked WebSocket text frame (a
 * zero masking key: the bench measures the server, not the client). */
static int __attribute__((format(printf, 2, 3)))
emit(struct cli *c, const char *fmt, ...)
{
	char m[4096];
	uint8_t h[8];
	size_t hl;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(m))
		return -1;
	if (!c->ws)
		return buf_append(c->out, m, (size_t)n);
	h[0] = 0x81;
	if (n < 126) {
		h[1] = (uint8_t)(0x80 | n);
		hl = 2;
	} else {
		h[1] = 0x80 | 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	}
	memset(h + hl, 0, 4);
	if (buf_append(c->out, h, hl + 4) != 0)
		return -1;
	return buf_append(c->out, m, (size_t)n);
}

/* WebSocket: the payloads of the server's whole frames to the framer
 * (-1: a bad frame); before the 101, its head is skipped (*up set). */
static int
ws_input(struct cli *c, const uint8_t *p, size_t n, int *up)
{
	const uint8_t *d;
	size_t len, hl, pl;

	if (buf_append(c->in, p, n) != 0)
		return -1;
	for (;;) {
		d = buf_data(c->in);
		len = buf_len(c->in);
		if (!*up) {
			long e = slice_find(slice_make(d, len),
			    SLICE_LIT("\r\n\r\n"));
			if (e < 0)
				return 0;
			if (len < 12 || memcmp(d, "HTTP/1.1 101", 12) != 0)
				return -1;
			buf_consume(c->in, (size_t)e + 4);
			*up = 1;
			continue;
		}
		if (len < 2)
			return 0;
		pl = d[1] & 0x7f;
		hl = 2;
		if (pl == 126) {
			if (len < 4)
				return 0;
			pl = (size_t)d[2] << 8 | d[3];
			hl = 4;
		} else if (pl == 127)
			return -1;
		if (len < hl + pl)
			return 0;
		if ((d[0] & 0x0f) == 0x1 && sip_framer_feed(c->fr, d + hl, pl)
		    != 0)
			return -1;
		buf_consume(c->in, hl + pl);
	}
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
cli_flush(struct cli *c)
{
	while (buf_len(c->out) > 0) {
		size_t w = 0;
		int r = SSL_write_ex(c->ssl, buf_data(c->out), buf_len(c->out),
		    &w);
		if (r != 1) {
			r = SSL_get_error(c->ssl, r);
			return r == SSL_ERROR_WANT_WRITE ||
			    r == SSL_ERROR_WANT_READ ? 0 : -1;
		}
		buf_consume(c->out, w);
	}
	return 0;
}

static const char *self = "127.0.0.10:5061";

static int
send_invite(struct cli *c, int id)
{
	static const char sdp[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.10\r\ns=-\r\n"
	    "c=IN IP4 127.0.0.10\r\nt=0 0\r\nm=audio 10000 RTP/AVP 0\r\n";

	c->seq++;
	snprintf(c->callid, sizeof(c->callid), "b%d-%u@bench", id, c->seq);
	c->nrr = 0;
	if (emit(c,
	    "INVITE sip:bob@127.0.0.1 SIP/2.0\r\n"
	    "Via: SIP/2.0/TLS %s;branch=z9hG4bKb%d.%u.1;rport\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: <sip:a%d@bench>;tag=f%d\r\n"
	    "To: <sip:bob@bench>\r\n"
	    "Call-ID: %s\r\n"
	    "CSeq: 1 INVITE\r\n"
	    "Contact: <sip:a%d@%s;transport=tls>\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: %zu\r\n\r\n%s", self, id, c->seq, id, id,
	    c->callid, id, self, sizeof(sdp) - 1, sdp) != 0)
		return -1;
	c->state = 1;
	return cli_flush(c);
}

/* ACK and BYE follow the route set the 200 recorded (reversed). */
static int
send_ack_bye(struct cli *c, int id)
{
	char route[400] = "";
	int i;
	const char *m[2] = { "ACK", "BYE" };

	for (i = c->nrr - 1; i >= 0; i--) {
		size_t l = strlen(route);
		snprintf(route + l, sizeof(route) - l, "%s%s",
		    l ? ", " : "Route: ", c->rr[i]);
	}
	for (i = 0; i < 2; i++) {
		if (emit(c,
		    "%s sip:bob@127.0.0.1 SIP/2.0\r\n"
		    "Via: SIP/2.0/TLS %s;branch=z9hG4bKb%d.%u.%d;rport\r\n"
		    "%s%s"
		    "Max-Forwards: 70\r\n"
		    "From: <sip:a%d@bench>;tag=f%d\r\n"
		    "To: <sip:bob@bench>;tag=%s\r\n"
		    "Call-ID: %s\r\n"
		    "CSeq: %d %s\r\n"
		    "Content-Length: 0\r\n\r\n", m[i], self, id, c->seq, i + 2,
		    route, route[0] ? "\r\n" : "", id, id, c->totag, c->callid,
		    i + 1, m[i]) != 0)
			return -1;
	}
	c->state = 2;
	return cli_flush(c);
}

static void
on_200(struct cli *c, const struct sip_msg *m)
{
	const struct sip_hdr *to = sip_find(m, SIP_H_TO);
	struct sip_addr a;
	struct slice tag = SLICE_NULL;
	long i = -1;

	if (to != NULL && sip_addr_parse(to->value, &a) == 0)
		(void)sip_param(a.params, "tag", &tag, NULL);
	snprintf(c->totag, sizeof(c->totag), "%.*s", (int)tag.len,
	    (const char *)tag.p);
	c->nrr = 0;
	while ((i = sip_next(m, SIP_H_RECORD_ROUTE, (size_t)(i + 1))) >= 0) {
		struct slice cur = m->hdr[i].value, v;
		while (sip_value_next(&cur, &v) && c->nrr < 2) {
			snprintf(c->rr[c->nrr], sizeof(c->rr[0]), "%.*s",
			    (int)v.len, (const char *)v.p);
			c->nrr++;
		}
	}
}

static int
connect_one(SSL_CTX *ctx, const struct net_addr *a, struct cli *c)
{
	c->fd = socket(net_addr_family(a), SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return -1;
	if (connect(c->fd, &a->u.sa, a->len) != 0 && errno != EINPROGRESS)
		return -1;
	c->ssl = SSL_new(ctx);
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_connect_state(c->ssl);
	c->fr = sip_framer_new(65536);
	c->out = buf_new(1 << 20);
	c->ws = ws_mode;
	c->in = buf_new(1 << 17);
	return c->ssl != NULL && c->fr != NULL && c->out != NULL &&
	    c->in != NULL ? 0 : -1;
}

#define INFLIGHT 32
#define RETRIES 200

static void
close_one(struct cli *c)
{
	SSL_free(c->ssl);
	close(c->fd);
	sip_framer_free(c->fr);
	buf_free(c->out);
	buf_free(c->in);
	memset(c, 0, sizeof(*c));
}

static int
open_one(SSL_CTX *ctx, const struct net_addr *a, struct cli *cl, int i, int ep)
{
	struct epoll_event ev = { EPOLLIN | EPOLLOUT, { .u32 = (uint32_t)i } };

	if (connect_one(ctx, a, &cl[i]) != 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, cl[i].fd, &ev) != 0) {
		fprintf(stderr, "bench: connect %d failed\n", i);
		return -1;
	}
	return 0;
}

/* Reopen slot `i` after its handshake failed with SSL error `why`; gives
 * up (-1) after RETRIES failures in all. */
static int
retry_one(SSL_CTX *ctx, const struct net_addr *a, struct cli *cl, int i,
    int ep, int why)
{
	static int failures;
	unsigned long e = ERR_peek_error();

	if (failures++ == 0 || failures >= RETRIES)
		fprintf(stderr, "bench: handshake %d failed (SSL error %d, "
		    "errno %d, %s)%s\n", i, why, errno,
		    e != 0 ? ERR_reason_error_string(e) : "no reason",
		    failures >= RETRIES ? ", giving up" : ", retrying");
	ERR_clear_error();
	if (failures >= RETRIES)
		return -1;
	(void)epoll_ctl(ep, EPOLL_CTL_DEL, cl[i].fd, NULL);
	close_one(&cl[i]);
	return open_one(ctx, a, cl, i, ep);
}

int
main(int argc, char **argv)
{
	struct net_addr a;
	SSL_CTX *ctx;
	struct cli *cl;
	int n, ep, i, calls_mode, opened;
	uint64_t t0, end, calls = 0, secs = 0;
	size_t ready = 0;
	struct epoll_event evs[256];

	if (argc < 4 || net_addr_parse(slice_cstr(argv[2]), &a) != 0) {
		fprintf(stderr, "usage: %s [ws]calls|[ws]idle ADDR:PORT N "
		    "[SECONDS]\n",
		    argv[0]);
		return 2;
	}
	ws_mode = strncmp(argv[1], "ws", 2) == 0;
	calls_mode = strcmp(argv[1] + (ws_mode ? 2 : 0), "calls") == 0;
	n = (int)strtol(argv[3], NULL, 10);
	if (n <= 0)
		n = 1;
	if (calls_mode)
		secs = argc > 4 ? strtoul(argv[4], NULL, 10) : 5;
	setvbuf(stdout, NULL, _IOLBF, 0);
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	cl = calloc((size_t)n, sizeof(*cl));
	ep = epoll_create1(0);
	/* At most INFLIGHT handshakes at once: the gateway's memory is then
	 * measured in its steady state, not at a handshake storm's peak. */
	for (opened = 0; opened < n && opened < INFLIGHT; opened++)
		if (open_one(ctx, &a, cl, opened, ep) != 0)
			return 1;
	t0 = now_ms();
	end = t0 + 600000;
	while (now_ms() < end) {
		int k = epoll_wait(ep, evs, 256, 200), j;

		for (j = 0; j < k; j++) {
			struct cli *c = &cl[evs[j].data.u32];
			int id = (int)evs[j].data.u32;
			uint8_t rb[16384];
			int r;

			if (c->state == 0) {
				r = SSL_do_handshake(c->ssl);
				if (r != 1) {
					r = SSL_get_error(c->ssl, r);
					if (r != SSL_ERROR_WANT_READ &&
					    r != SSL_ERROR_WANT_WRITE) {
						/* A loaded server may drop a
						 * handshake: retry that slot. */
						if (retry_one(ctx, &a, cl, id, ep,
						    r) != 0)
							return 1;
					}
					continue;
				}
				if (c->ws) {
					if (buf_printf(c->out, "GET / HTTP/1.1"
					    "\r\nHost: bench\r\nUpgrade: "
					    "websocket\r\nConnection: Upgrade"
					    "\r\nSec-WebSocket-Key: dGhlIHNh"
					    "bXBsZSBub25jZQ==\r\nSec-WebSocket"
					    "-Version: 13\r\nSec-WebSocket-"
					    "Protocol: sip\r\n\r\n") != 0 ||
					    cli_flush(c) != 0)
						return 1;
					c->state = 5;
					continue;
				}
			upgraded:
				ready++;
				if (opened < n &&
				    open_one(ctx, &a, cl, opened++, ep) != 0)
					return 1;
				{
					struct epoll_event ev = { EPOLLIN,
					    { .u32 = (uint32_t)id } };
					epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				}
				if (!calls_mode) {
					c->state = 3;
					if (ready == (size_t)n) {
						printf("ready %zu\n", ready);
						end = 0;
					}
					continue;
				}
				if (ready == (size_t)n) {
					/* everyone connected: the clock starts */
					t0 = now_ms();
					end = t0 + secs * 1000;
					for (i = 0; i < n; i++)
						if (cl[i].state == 4 &&
						    send_invite(&cl[i], i) != 0)
							return 1;
					if (send_invite(c, id) != 0)
						return 1;
				} else
					c->state = 4;	/* wait for the others */
				continue;
			}
			if (cli_flush(c) != 0)
				return 1;
			for (;;) {
				struct slice msg;
				struct sip_msg m;

				r = SSL_read(c->ssl, rb, sizeof(rb));
				if (r <= 0)
					break;
				if (c->ws) {
					int up = c->state != 5;

					if (ws_input(c, rb, (size_t)r, &up) != 0)
						return 1;
					if (c->state == 5 && up) {
						c->state = 0;
						goto upgraded;
					}
				} else if (sip_framer_feed(c->fr, rb, (size_t)r)
				    != 0)
					return 1;
				while (sip_framer_next(c->fr, &msg) ==
				    SIP_FRAME_MSG) {
					if (sip_parse(&m, msg) != 0 ||
					    m.is_request || m.status != 200)
						continue;
					if (c->state == 1 && slice_eq_cstr(
					    m.cseq_method, "INVITE")) {
						on_200(c, &m);
						if (send_ack_bye(c, id) != 0)
							return 1;
					} else if (c->state == 2 && slice_eq_cstr(
					    m.cseq_method, "BYE")) {
						calls++;
						if (send_invite(c, id) != 0)
							return 1;
					}
				}
			}
		}
	}
	if (!calls_mode) {
		char b[16];
		/* Hold the connections until told to stop. */
		while (read(0, b, sizeof(b)) > 0)
			;
		return 0;
	}
	{
		double s = (double)(now_ms() - t0) / 1000.0;
		printf("calls %llu seconds %.2f cps %.0f\n",
		    (unsigned long long)calls, s, (double)calls / s);
	}
	return 0;
}
