/* udp-relay.c (bench) - the bare UDP relay the srtp-bridge budget is set against. */
/*
 * The reference point of issue 3's budget: "a bare UDP relay with no
 * crypto needs ~7 us per packet with one recv and one send syscall each,
 * ~2.9 us with recvmmsg/sendmmsg batches of 32". This is that relay, so
 * that bench/srtp-bridge.sh can measure it on the same machine, under the
 * same load, in the same run, and the budget can be read as a ratio.
 *
 *   udp-relay NG_ADDR:PORT OUTSIDE_ADDR INSIDE_ADDR [BATCH]
 *
 * It answers the ng commands the load generator sends (ping, offer,
 * answer, delete) with just enough SDP to name its ports: one socket on
 * each side per call, the party's address from its SDP. Media is copied
 * as it is (no crypto, no checks) with epoll: for every readable socket,
 * recvfrom() + sendto() per datagram (BATCH 1, the default), or
 * recvmmsg() + sendmmsg() of up to BATCH datagrams. Runs until SIGTERM.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/net.h"
#include "ng/ng.h"
#include "media/sdp.h"

#define MAXB 64

struct leg {
	int fd;
	struct net_addr to;	/* where what arrives on the other leg goes */
	struct leg *peer;
};

struct call {
	char id[128];
	struct leg out, in;	/* out: faces alice; in: faces bob */
};

static struct call **calls;
static size_t ncalls, cap;
static volatile sig_atomic_t stop;
static struct net_addr outa, ina;
static int ep;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void
die(const char *what)
{
	fprintf(stderr, "udp-relay: %s\n", what);
	exit(1);
}

static struct call *
find(struct slice id)
{
	for (size_t i = 0; i < ncalls; i++)
		if (slice_eq(slice_cstr(calls[i]->id), id))
			return calls[i];
	return NULL;
}

/* The address and port of the first media of `body`; -1 if none. */
static int
sdp_addr(struct slice body, struct net_addr *a)
{
	struct sdp *s;
	struct sdp_media m;
	struct sdp_conn c;
	int r = -1;

	if (sdp_parse(body, &s, NULL) != 0)
		return -1;
	if (sdp_media_get(s, 0, &m) == 0 && sdp_media_conn(s, 0, &c) == 0 &&
	    net_addr_parse_host(c.addr, (uint16_t)m.port, a) == 0)
		r = 0;
	sdp_free(s);
	return r;
}

static void
leg_open(struct leg *l, const struct net_addr *local)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = l };

	if (net_udp_bind(local, 0, &l->fd) != 0)
		die("bind");
	net_set_bufs(l->fd, 1 << 20, 1 << 20);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, l->fd, &e) != 0)
		die("epoll_ctl");
}

/* An SDP naming `fd`'s local address and port. */
static void
sdp_of(int fd, char *out, size_t n)
{
	struct net_addr a;
	char h[NET_ADDR_STRLEN];

	if (net_local_addr(fd, &a) != 0 ||
	    net_addr_format_host(&a, h, sizeof(h)) != 0)
		die("local address");
	snprintf(out, n, "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\n"
	    "t=0 0\r\nm=audio %u RTP/AVP 0\r\n", h, h, net_addr_port(&a));
}

static void
ng_one(int fd, struct buf *out)
{
	static uint8_t in[65536];
	struct net_pkt p = { in, sizeof(in), 0, { .len = 0 }, 0 };
	struct ng_req q;
	struct call *c;
	char sdp[512];
	const char *err = NULL;

	if (net_recv(fd, &p) != 0)
		return;
	buf_reset(out);
	if (ng_req_parse(&q, slice_make(in, p.len)) != 0) {
		ng_req_release(&q);
		return;
	}
	sdp[0] = '\0';
	c = find(q.call_id);
	switch (q.cmd) {
	case NG_CMD_PING:
		if (ng_reply_pong(out, q.cookie) != 0)
			die("reply");
		goto send;
	case NG_CMD_OFFER:
		if (c == NULL) {
			if (ncalls == cap) {
				cap = cap ? 2 * cap : 1024;
				calls = realloc(calls, cap * sizeof(*calls));
				if (calls == NULL)
					die("out of memory");
			}
			if ((c = calloc(1, sizeof(*c))) == NULL)
				die("out of memory");
			snprintf(c->id, sizeof(c->id), "%.*s",
			    (int)q.call_id.len, (const char *)q.call_id.p);
			c->out.peer = &c->in;
			c->in.peer = &c->out;
			leg_open(&c->out, &outa);
			leg_open(&c->in, &ina);
			calls[ncalls++] = c;
		}
		/* what arrives from bob goes to alice */
		if (sdp_addr(q.sdp, &c->out.to) != 0)
			err = "Failed to parse SDP";
		sdp_of(c->in.fd, sdp, sizeof(sdp));
		break;
	case NG_CMD_ANSWER:
		if (c == NULL)
			err = "Unknown call-id";
		else if (sdp_addr(q.sdp, &c->in.to) != 0)
			err = "Failed to parse SDP";
		else
			sdp_of(c->out.fd, sdp, sizeof(sdp));
		break;
	case NG_CMD_DELETE:
		if (c == NULL) {
			err = "Unknown call-id";
			break;
		}
		close(c->out.fd);
		close(c->in.fd);
		for (size_t i = 0; i < ncalls; i++)
			if (calls[i] == c)
				calls[i] = calls[--ncalls];
		free(c);
		break;
	default:
		err = "Unrecognized command";
	}
	if (err != NULL ? ng_reply_error(out, q.cookie, err) != 0 :
	    ng_reply_ok(out, q.cookie, slice_cstr(sdp), slice_cstr("")) != 0)
		die("reply");
send:
	{
		struct net_pkt r = { (uint8_t *)buf_data(out), 0, buf_len(out),
			p.addr, 0 };

		if (net_send(fd, &r) != 0)
			fprintf(stderr, "udp-relay: cannot send an ng reply\n");
	}
	ng_req_release(&q);
}

/* Everything waiting on leg `l`, to where its peer leg sends. */
static void
relay(struct leg *l, unsigned batch)
{
	static uint8_t bufs[MAXB][2048];
	struct sockaddr *to = &l->peer->to.u.sa;
	socklen_t tolen = l->peer->to.len;

	if (l->peer->to.len == 0) {	/* nowhere to go yet: drain */
		while (recv(l->fd, bufs[0], sizeof(bufs[0]), MSG_DONTWAIT) >= 0)
			;
		return;
	}
	if (batch == 1) {
		ssize_t n;

		while ((n = recvfrom(l->fd, bufs[0], sizeof(bufs[0]),
		    MSG_DONTWAIT, NULL, NULL)) >= 0)
			(void)sendto(l->peer->fd, bufs[0], (size_t)n,
			    MSG_DONTWAIT, to, tolen);
		return;
	}
	for (;;) {
		struct mmsghdr m[MAXB];
		struct iovec v[MAXB];
		int n;

		for (unsigned k = 0; k < batch; k++) {
			v[k].iov_base = bufs[k];
			v[k].iov_len = sizeof(bufs[k]);
			memset(&m[k], 0, sizeof(m[k]));
			m[k].msg_hdr.msg_iov = &v[k];
			m[k].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(l->fd, m, batch, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int k = 0; k < n; k++) {
			v[k].iov_len = m[k].msg_len;
			m[k].msg_hdr.msg_name = to;
			m[k].msg_hdr.msg_namelen = tolen;
		}
		(void)sendmmsg(l->peer->fd, m, (unsigned)n, MSG_DONTWAIT);
		if ((unsigned)n < batch)
			return;
	}
}

int
main(int argc, char **argv)
{
	struct net_addr nga;
	struct epoll_event ev[256], e = { .events = EPOLLIN, .data.ptr = NULL };
	struct buf *out;
	unsigned batch = 1;
	int ngfd;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: udp-relay NG_ADDR:PORT OUTSIDE_ADDR "
		    "INSIDE_ADDR [BATCH]\n");
		return 2;
	}
	if (argc == 5)
		batch = (unsigned)strtoul(argv[4], NULL, 10);
	if (batch < 1 || batch > MAXB)
		die("BATCH: 1 to 64");
	if (net_addr_parse(slice_cstr(argv[1]), &nga) != 0 ||
	    net_addr_parse_host(slice_cstr(argv[2]), 0, &outa) != 0 ||
	    net_addr_parse_host(slice_cstr(argv[3]), 0, &ina) != 0)
		die("bad address");
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	if ((ep = epoll_create1(0)) < 0 || (out = buf_new(65536)) == NULL)
		die("epoll");
	if (net_udp_bind(&nga, 0, &ngfd) != 0)
		die("cannot bind the ng port");
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ngfd, &e) != 0)
		die("epoll_ctl");
	while (!stop) {
		int n = epoll_wait(ep, ev, 256, 200);

		for (int k = 0; k < n; k++) {
			if (ev[k].data.ptr == NULL) {
				/* a delete frees legs later events name:
				 * epoll reports them again */
				ng_one(ngfd, out);
				break;
			}
			relay(ev[k].data.ptr, batch);
		}
	}
	for (size_t i = 0; i < ncalls; i++) {
		close(calls[i]->out.fd);
		close(calls[i]->in.fd);
		free(calls[i]);
	}
	free(calls);
	buf_free(out);
	close(ngfd);
	close(ep);
	return 0;
}
