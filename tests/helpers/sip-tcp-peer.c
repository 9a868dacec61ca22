/* sip-tcp-peer.c - a scripted SIP peer on TCP and UDP for proxy tests. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer.h"

/*
 * sip-tcp-peer -l ADDR:PORT [-m answer|silent|busy|big] [-x] [-s CHUNK]
 *              [-w MS] [-t ADDR:PORT -f FILE]
 *
 * Listens on TCP and UDP on the same address and port and prints
 * "bound ADDR:PORT", "accepted ADDR:PORT" for every TCP connection, and
 * every message it receives as "<<< tcp" or "<<< udp", the message, and a
 * "----" line. Mode answer (default) replies on the transport the request
 * came on: 100/180/200 (with an SDP echo) to INVITE, 200 to the rest
 * (echoing Contact and Path for REGISTER), nothing to ACK; silent never
 * replies; busy and big as in sip-udp-peer. -x closes a TCP connection
 * after answering a request on it. -s writes everything on TCP in
 * CHUNK-byte segments 20 ms apart. With -f, opens a TCP connection to -t
 * first and sends FILE on it. Runs for -w MS (default 5000).
 */

#define MAX_CONNS 16

struct conn {
	int fd;
	struct sip_framer *fr;
};

static struct conn conns[MAX_CONNS];
static size_t chunk;
static enum peer_mode mode;
static int close_after;
static char self[NET_ADDR_STRLEN];

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

/* Where an answer goes: the TCP connection fd, or a datagram to `to`. */
struct tcp_to {
	int fd, ufd;
	const struct net_addr *to;
};

static void
tcp_send(void *ctx, struct slice b)
{
	const struct tcp_to *t = ctx;

	if (t->fd >= 0)
		write_all(t->fd, b.p, b.len);
	else
		peer_send_to("sip-tcp-peer", t->ufd, t->to, b);
}

/* Answer request `raw`; 1 if it was a request we answered. */
static int
handle(int fd, int ufd, const struct net_addr *from, struct slice raw)
{
	struct tcp_to t = { fd, ufd, from };
	struct peer_out out = { tcp_send, &t };
	struct sip_msg m;
	char contact[300];

	if (sip_parse(&m, raw) != 0)
		return 0;
	snprintf(contact, sizeof(contact), "Contact: <sip:peer@%s%s>\r\n",
	    self, fd >= 0 ? ";transport=tcp" : "");
	return peer_answer(&out, &m, mode, "tpeer1", contact);
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
		peer_print_lf(msg.p, msg.len);
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

int
main(int argc, char **argv)
{
	struct peer_opts o;
	struct net_addr la;
	int c, ufd, lfd, r;
	uint64_t end;
	size_t i;
	static uint8_t rb[65536];

	for (i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;
	peer_opts_init(&o);
	while ((c = getopt(argc, argv, PEER_OPTS "xs:")) != -1) {
		if ((r = peer_opt(&o, c, optarg)) != 0) {
			if (r < 0)
				return 2;
			continue;
		}
		switch (c) {
		case 'x': close_after = 1; break;
		case 's': chunk = (size_t)strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	mode = o.mode;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (peer_bind("sip-tcp-peer", &o, 1, &la, &ufd, &lfd, self) != 0)
		return 1;
	if (o.file != NULL && o.have_to) {
		long n = peer_read_file(&o, rb, sizeof(rb));
		struct net_addr src = la;
		int fd;

		if (n < 0)
			return 1;
		/* From our own address, so received= is predictable. */
		net_addr_set_port(&src, 0);
		if ((fd = socket(net_addr_family(&o.to), SOCK_STREAM, 0)) < 0 ||
		    bind(fd, &src.u.sa, src.len) != 0 ||
		    connect(fd, &o.to.u.sa, o.to.len) != 0) {
			printf("connect failed\n");
			return 1;
		}
		write_all(fd, rb, (size_t)n);
		(void)conn_add(fd);
	}
	end = peer_now_ms() + o.wait;
	while (peer_now_ms() < end) {
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
		if (poll(pf, np, (int)(end - peer_now_ms())) <= 0)
			continue;
		if (pf[0].revents) {
			struct net_pkt p;

			memset(&p, 0, sizeof(p));
			p.buf = rb;
			p.cap = sizeof(rb);
			while (net_recv(ufd, &p) == 0) {
				printf("<<< udp\n");
				peer_print_lf(p.buf, p.len);
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
