/* sip-tcp-peer.c - a scripted SIP peer on TCP and UDP for proxy tests. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/buf.h"
#include "../../lib/net.h"
#include "../../lib/sip.h"

/*
 * sip-tcp-peer -l ADDR:PORT [-m answer|silent] [-x] [-s CHUNK] [-w MS]
 *              [-t ADDR:PORT -f FILE]
 *
 * Listens on TCP and UDP on the same address and port and prints
 * "bound ADDR:PORT", "accepted ADDR:PORT" for every TCP connection, and
 * every message it receives as "<<< tcp" or "<<< udp", the message, and a
 * "----" line. Mode answer (default) replies on the transport the request
 * came on: 100/180/200 (with an SDP echo) to INVITE, 200 to the rest
 * (echoing Contact and Path for REGISTER), nothing to ACK; silent never
 * replies. -x closes a TCP connection after answering a request on it.
 * -s writes everything on TCP in CHUNK-byte segments 20 ms apart. With -f,
 * opens a TCP connection to -t first and sends FILE on it. Runs for -w MS
 * (default 5000).
 */

#define MAX_CONNS 16

struct conn {
	int fd;
	struct sip_framer *fr;
};

static struct conn conns[MAX_CONNS];
static size_t chunk;
static int mode, close_after;
static char self[NET_ADDR_STRLEN];

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
write_all(int fd, const uint8_t *p, size_t n)
{
	size_t step = chunk > 0 ? chunk : n;

	while (n > 0) {
		size_t k = n < step ? n : step;
		ssize_t w = send(fd, p, k, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				usleep(1000);
				continue;
			}
			fprintf(stderr, "sip-tcp-peer: write failed\n");
			return;
		}
		p += w;
		n -= (size_t)w;
		if (chunk > 0 && n > 0)
			usleep(20000);
	}
}

/* Send on TCP connection `fd`, or as a datagram to `to` when fd < 0. */
static void
out(int fd, int ufd, const struct net_addr *to, struct slice b)
{
	struct net_pkt p;

	if (fd >= 0) {
		write_all(fd, b.p, b.len);
		return;
	}
	memset(&p, 0, sizeof(p));
	p.buf = (uint8_t *)(uintptr_t)b.p;
	p.len = p.cap = b.len;
	p.addr = *to;
	if (net_send(ufd, &p) != 0)
		fprintf(stderr, "sip-tcp-peer: send failed\n");
}

static void
respond(int fd, int ufd, const struct net_addr *to, const struct sip_msg *m,
    int code, const char *extra, struct slice body)
{
	struct buf *b = buf_new(65536), *e = buf_new(65536);

	if (extra != NULL && buf_append_cstr(e, extra) != 0)
		goto done;
	if (body.len > 0 && buf_append_cstr(e,
	    "Content-Type: application/sdp\r\n") != 0)
		goto done;
	if (sip_build_response(m, code, NULL, SLICE_LIT("tpeer1"),
	    buf_slice(e), b) != 0)
		goto done;
	if (body.len > 0) {
		/* Replace the trailing "Content-Length: 0\r\n\r\n". */
		buf_truncate(b, buf_len(b) - 21);
		if (buf_printf(b, "Content-Length: %zu\r\n\r\n", body.len) != 0 ||
		    buf_append_slice(b, body) != 0)
			goto done;
	}
	out(fd, ufd, to, buf_slice(b));
done:
	buf_free(b);
	buf_free(e);
}

/* Answer request `raw`; 1 if it was a request we answered. */
static int
handle(int fd, int ufd, const struct net_addr *from, struct slice raw)
{
	struct sip_msg m;
	char contact[300];

	if (sip_parse(&m, raw) != 0 || !m.is_request ||
	    slice_eq_cstr(m.method, "ACK") || mode == 1)
		return 0;
	snprintf(contact, sizeof(contact), "Contact: <sip:peer@%s%s>\r\n",
	    self, fd >= 0 ? ";transport=tcp" : "");
	if (slice_eq_cstr(m.method, "INVITE")) {
		respond(fd, ufd, from, &m, 100, NULL, SLICE_NULL);
		respond(fd, ufd, from, &m, 180, contact, SLICE_NULL);
		respond(fd, ufd, from, &m, 200, contact, m.body);
		return 1;
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
		respond(fd, ufd, from, &m, 200, buf_str(x), SLICE_NULL);
		buf_free(x);
		return 1;
	}
	respond(fd, ufd, from, &m, 200, NULL, SLICE_NULL);
	return 1;
}

static int
conn_add(int fd)
{
	size_t i;

	for (i = 0; i < MAX_CONNS; i++) {
		if (conns[i].fd < 0) {
			conns[i].fd = fd;
			conns[i].fr = sip_framer_new(1 << 20);
			return 0;
		}
	}
	close(fd);
	return -1;
}

static void
conn_drop(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	sip_framer_free(c->fr);
	c->fr = NULL;
}

static void
conn_read(struct conn *c, int ufd)
{
	uint8_t rb[16384];
	ssize_t n = recv(c->fd, rb, sizeof(rb), 0);
	struct slice msg;
	int k, answered = 0;

	if (n <= 0) {
		printf("tcp closed by the other side\n");
		conn_drop(c);
		return;
	}
	if (sip_framer_feed(c->fr, rb, (size_t)n) != 0) {
		printf("tcp: message too large\n");
		conn_drop(c);
		return;
	}
	while ((k = sip_framer_next(c->fr, &msg)) > 0) {
		if (k == SIP_FRAME_PING)
			continue;
		printf("<<< tcp\n");
		print_lf(msg.p, msg.len);
		printf("\n----\n");
		answered |= handle(c->fd, ufd, NULL, msg);
	}
	if (k < 0) {
		printf("tcp: unframeable\n");
		conn_drop(c);
		return;
	}
	if (answered && close_after) {
		printf("closing tcp\n");
		conn_drop(c);
	}
}

/* UDP and TCP on the same address and port (port 0: until both fit). */
static int
bind_both(struct net_addr *a, int *ufd, int *lfd)
{
	struct net_addr b;
	int i;

	for (i = 0; i < 32; i++) {
		if (net_udp_bind(a, 0, ufd) != 0 || net_local_addr(*ufd, &b))
			return -1;
		if (net_tcp_listen(&b, 16, 0, lfd) == 0) {
			*a = b;
			return 0;
		}
		close(*ufd);
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct net_addr la, to;
	const char *file = NULL, *lstr = "127.0.0.1:0";
	int c, ufd, lfd, have_to = 0;
	unsigned wait = 5000;
	uint64_t end;
	size_t i;
	static uint8_t rb[65536];

	for (i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;
	while ((c = getopt(argc, argv, "l:m:w:t:f:xs:")) != -1) {
		switch (c) {
		case 'l': lstr = optarg; break;
		case 'm': mode = strcmp(optarg, "silent") == 0; break;
		case 'w': wait = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't':
			if (net_addr_parse(slice_cstr(optarg), &to) != 0)
				return 2;
			have_to = 1;
			break;
		case 'f': file = optarg; break;
		case 'x': close_after = 1; break;
		case 's': chunk = (size_t)strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (net_addr_parse(slice_cstr(lstr), &la) != 0 ||
	    bind_both(&la, &ufd, &lfd) != 0 ||
	    net_addr_format(&la, self, sizeof(self)) != 0) {
		fprintf(stderr, "sip-tcp-peer: cannot bind %s\n", lstr);
		return 1;
	}
	printf("bound %s\n", self);
	if (file != NULL && have_to) {
		FILE *f = fopen(file, "rb");
		struct net_addr src = la;
		size_t n;
		int fd;

		if (f == NULL)
			return 1;
		n = fread(rb, 1, sizeof(rb), f);
		fclose(f);
		/* From our own address, so received= is predictable. */
		net_addr_set_port(&src, 0);
		if ((fd = socket(net_addr_family(&to), SOCK_STREAM, 0)) < 0 ||
		    bind(fd, &src.u.sa, src.len) != 0 ||
		    connect(fd, &to.u.sa, to.len) != 0) {
			printf("connect failed\n");
			return 1;
		}
		write_all(fd, rb, n);
		(void)conn_add(fd);
	}
	end = now_ms() + wait;
	while (now_ms() < end) {
		struct pollfd pf[2 + MAX_CONNS];
		size_t np = 2, map[MAX_CONNS];

		pf[0] = (struct pollfd){ ufd, POLLIN, 0 };
		pf[1] = (struct pollfd){ lfd, POLLIN, 0 };
		for (i = 0; i < MAX_CONNS; i++) {
			if (conns[i].fd >= 0) {
				map[np - 2] = i;
				pf[np++] = (struct pollfd){ conns[i].fd, POLLIN, 0 };
			}
		}
		if (poll(pf, np, (int)(end - now_ms())) <= 0)
			continue;
		if (pf[0].revents) {
			struct net_pkt p;

			memset(&p, 0, sizeof(p));
			p.buf = rb;
			p.cap = sizeof(rb);
			while (net_recv(ufd, &p) == 0) {
				printf("<<< udp\n");
				print_lf(p.buf, p.len);
				printf("\n----\n");
				(void)handle(-1, ufd, &p.addr,
				    slice_make(p.buf, p.len));
				p.cap = sizeof(rb);
			}
		}
		if (pf[1].revents) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			struct net_addr pa;
			char a[NET_ADDR_STRLEN];
			int fd = accept(lfd, (struct sockaddr *)&ss, &sl);

			if (fd >= 0 && net_addr_from_sa(&pa,
			    (struct sockaddr *)&ss, sl) == 0 &&
			    net_addr_format(&pa, a, sizeof(a)) == 0) {
				printf("accepted %s\n", a);
				(void)conn_add(fd);
			} else if (fd >= 0)
				close(fd);
		}
		for (i = 2; i < np; i++)
			if (pf[i].revents)
				conn_read(&conns[map[i - 2]], ufd);
	}
	for (i = 0; i < MAX_CONNS; i++)
		if (conns[i].fd >= 0)
			conn_drop(&conns[i]);
	close(ufd);
	close(lfd);
	return 0;
}
