/* test_steer.c - lib/steer: datagrams to a port range reach one socket,
 * with their original destination; others are left alone. Needs root
 * (CAP_BPF, CAP_NET_ADMIN); skipped without. */
#include <string.h>
#include <unistd.h>

#include "base/net.h"
#include "relay/steer.h"
#include "t.h"

/* Receive one datagram on fd (waiting up to 1 s); its destination in
 * *dst when the socket reports it. Returns its length or -1. */
static int
recv_dst(int fd, uint8_t *b, size_t cap, struct net_addr *dst)
{
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(struct sockaddr_in6))];
	} cm;
	struct iovec iov = { b, cap };
	struct msghdr mh = { 0 };
	ssize_t n = -1;

	memset(dst, 0, sizeof(*dst));
	for (int i = 0; i < 100 && n < 0; i++) {
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = &cm;
		mh.msg_controllen = sizeof(cm);
		n = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (n < 0)
			usleep(10000);
	}
	if (n < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL;
	    c = CMSG_NXTHDR(&mh, c))
		if ((c->cmsg_level == IPPROTO_IP &&
		    c->cmsg_type == IP_ORIGDSTADDR) ||
		    (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_ORIGDSTADDR))
			if (net_addr_from_sa(dst,
			    (const struct sockaddr *)CMSG_DATA(c),
			    (socklen_t)(c->cmsg_len - CMSG_LEN(0))) != 0)
				memset(dst, 0, sizeof(*dst));
	return (int)n;
}

static void
one_host(const char *host, const char *other)
{
	struct net_addr h[2], a, tx, dst;
	struct net_pkt p;
	uint8_t b[64];
	int e = 0, txfd, in_range, out_range;
	struct steer *st;
	uint16_t base = (uint16_t)(40000 + (getpid() % 5000) * 4);

	if (net_addr_parse_host(slice_cstr(host), 0, &h[0]) != 0 ||
	    net_addr_parse_host(slice_cstr(other), 0, &h[1]) != 0) {
		T_OK(0, "%s: parse", host);
		return;
	}
	st = steer_new(h, 2, base, (uint16_t)(base + 1), &e);
	if (st == NULL && (e == E_PERM || e == E_UNSUPPORTED)) {
		T_OK(1, "# skip steering not available here (%s)",
		    sbk_strerror(e));
		return;
	}
	if (!T_OK(st != NULL, "%s: steer_new (%s)", host, sbk_strerror(e)))
		return;
	{
		int v = 0;
		socklen_t vl = sizeof(v);

		int r = getsockopt(steer_fd(st, 0), SOL_SOCKET, SO_RCVBUF, &v,
		    &vl);

		T_OK(r == 0 && v >= 32 << 20,
		    "%s: the steering socket's buffer is big (%d), whatever "
		    "rmem_max says", host, v);
	}
	T_EQ_INT(steer_host(st, &h[0]), 0, "%s: host index", host);
	T_EQ_INT(steer_host(st, &h[1]), 1, "%s: second host index", host);
	/* the port sockets: one in the range, one just outside */
	a = h[0];
	net_addr_set_port(&a, base);
	T_EQ_INT(net_udp_bind(&a, 0, &in_range), 0, "%s: bind %u", host,
	    base);
	net_addr_set_port(&a, (uint16_t)(base + 2));
	T_EQ_INT(net_udp_bind(&a, 0, &out_range), 0, "%s: bind %u", host,
	    base + 2);
	tx = h[0];
	T_EQ_INT(net_udp_bind(&tx, 0, &txfd), 0, "%s: sender", host);

	/* in the range but not marked: left alone */
	p = (struct net_pkt){ b, sizeof(b), 4, h[0], 0 };
	net_addr_set_port(&p.addr, base);
	T_EQ_INT(net_send(txfd, &p), 0, "%s: send unmarked", host);
	T_EQ_INT(recv_dst(in_range, b, sizeof(b), &dst), 4,
	    "%s: unmarked: the port socket has it", host);
	T_EQ_INT(steer_port(st, 0, base, 1), 0, "%s: mark %u", host, base);
	T_EQ_INT(steer_port(st, 0, (uint16_t)(base + 2), 1), E_INVAL,
	    "%s: out of the range: E_INVAL", host);
	T_EQ_INT(steer_port(st, 2, base, 1), E_INVAL, "%s: no host 2", host);
	memcpy(b, "steered", 7);
	p = (struct net_pkt){ b, sizeof(b), 7, h[0], 0 };
	net_addr_set_port(&p.addr, base);
	T_EQ_INT(net_udp_pending(steer_fd(st, 0)), 0,
	    "%s: nothing pending on the steering socket", host);
	T_EQ_INT(net_send(txfd, &p), 0, "%s: send in range", host);
	/* the relay's move waits on this; SIOCINQ said 0 here (6.x) */
	T_EQ_INT(net_udp_pending(steer_fd(st, 0)), 1,
	    "%s: a datagram pending on the steering socket", host);
	T_EQ_INT(recv_dst(steer_fd(st, 0), b, sizeof(b), &dst), 7,
	    "%s: the steering socket has it", host);
	T_EQ_INT(net_udp_pending(steer_fd(st, 0)), 0,
	    "%s: and then nothing", host);
	T_EQ_INT(net_addr_port(&dst), base, "%s: original port reported",
	    host);
	T_OK(net_addr_host_eq(&dst, &h[0]), "%s: original address", host);
	T_EQ_INT(recv_dst(in_range, b, sizeof(b), &dst), -1,
	    "%s: the port socket does not", host);

	p.len = 5;
	net_addr_set_port(&p.addr, (uint16_t)(base + 2));
	T_EQ_INT(net_send(txfd, &p), 0, "%s: send out of range", host);
	T_EQ_INT(recv_dst(out_range, b, sizeof(b), &dst), 5,
	    "%s: out of range: the port socket has it", host);
	T_EQ_INT(recv_dst(steer_fd(st, 0), b, sizeof(b), &dst), -1,
	    "%s: out of range: not steered", host);

	/* the other host's same port is another slot */
	T_EQ_INT(steer_port(st, 1, base, 1), 0, "%s: mark host 1", host);
	T_EQ_INT(steer_port(st, 0, base, 0), 0, "%s: unmark", host);
	p.len = 2;
	net_addr_set_port(&p.addr, base);
	T_EQ_INT(net_send(txfd, &p), 0, "%s: send after unmark", host);
	T_EQ_INT(recv_dst(in_range, b, sizeof(b), &dst), 2,
	    "%s: unmarked again: the port socket has it", host);
	T_EQ_INT(steer_port(st, 0, base, 1), 0, "%s: mark again", host);
	steer_free(st);
	p.len = 3;
	net_addr_set_port(&p.addr, base);
	T_EQ_INT(net_send(txfd, &p), 0, "%s: send after free", host);
	T_EQ_INT(recv_dst(in_range, b, sizeof(b), &dst), 3,
	    "%s: after steer_free the port socket receives again", host);
	close(in_range);
	close(out_range);
	close(txfd);
}

int
main(void)
{
	struct net_addr h = { 0 };
	int e = 0;

	T_OK(steer_new(&h, 0, 1, 2, &e) == NULL && e == E_INVAL,
	    "no hosts: E_INVAL");
	one_host("127.0.0.1", "127.0.0.2");
	one_host("::1", "127.0.0.1");
	return t_done();
}
