/* test_net.c - unit tests for address parsing and batched UDP on loopback. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "base/net.h"
#include "t.h"

static void
roundtrip(const char *in, const char *want)
{
	struct net_addr a;
	char s[NET_ADDR_STRLEN];

	T_EQ_INT(net_addr_parse(slice_cstr(in), &a), 0, "parse %s", in);
	if (net_addr_format(&a, s, sizeof(s)) != 0)
		s[0] = '\0';
	T_EQ_STR(s, want, "format %s", in);
}

static void
test_parse(void)
{
	struct net_addr a, b;
	char s[NET_ADDR_STRLEN];
	static const char *bad[] = { "", "1.2.3.4", "1.2.3.4:", ":5",
		"1.2.3.4:65536", "1.2.3.4:x", "::1:5", "[::1]", "[::1]5",
		"[1.2.3.4]:5", "1.2.3:5", "[::1]:-1", "host:5", NULL };

	roundtrip("1.2.3.4:5", "1.2.3.4:5");
	roundtrip("[::1]:5060", "[::1]:5060");
	roundtrip("[2001:db8::1]:65535", "[2001:db8::1]:65535");
	roundtrip("0.0.0.0:0", "0.0.0.0:0");
	for (int i = 0; bad[i] != NULL; i++)
		T_OK(net_addr_parse(slice_cstr(bad[i]), &a) != 0,
		    "reject \"%s\"", bad[i]);
	T_EQ_INT(net_addr_parse(slice_make("1.2.3.4:5\0", 10), &a), E_SYNTAX,
	    "embedded NUL");
	T_EQ_INT(net_addr_parse_host(SLICE_LIT("::1"), 9, &a), 0, "bare v6");
	T_EQ_INT(net_addr_parse_host(SLICE_LIT("[::1]"), 9, &b), 0,
	    "bracketed v6");
	T_OK(net_addr_eq(&a, &b) && net_addr_port(&a) == 9, "same address");
	T_EQ_INT(net_addr_format_host(&a, s, sizeof(s)), 0, "format host");
	T_EQ_STR(s, "::1", "host without brackets");
	T_EQ_INT(net_addr_parse_any(SLICE_LIT("10.0.0.1"), 7, &a), 0, "any");
	T_EQ_INT(net_addr_port(&a), 7, "default port");
	net_addr_set_port(&a, 8);
	T_EQ_INT(net_addr_parse_any(SLICE_LIT("10.0.0.1:8"), 7, &b), 0,
	    "any with port");
	T_OK(net_addr_eq(&a, &b), "set_port");
	net_addr_set_port(&b, 9);
	T_OK(!net_addr_eq(&a, &b) && net_addr_host_eq(&a, &b), "host_eq");
	T_OK(net_addr_parse_host(SLICE_LIT("0.0.0.0"), 0, &a) == 0 &&
	    net_addr_is_any(&a), "is_any");
	T_EQ_INT(net_addr_format(&a, s, 5), E_BIG, "format too small");
}

static void
test_udp(const char *host)
{
	struct net_addr a, la, lb;
	int fa, fb, r;
	uint8_t bufs[8][64], out[8][64];
	struct net_pkt tx[8], rx[8];

	if (net_addr_parse_host(slice_cstr(host), 0, &a) != 0 ||
	    net_udp_bind(&a, 0, &fa) != 0) {
		T_OK(1, "# skip %s not available", host);
		return;
	}
	T_EQ_INT(net_udp_bind(&a, NET_V6ONLY, &fb), 0, "bind b %s", host);
	T_OK(net_local_addr(fa, &la) == 0 && net_local_addr(fb, &lb) == 0 &&
	    net_addr_port(&la) != 0, "port 0 gets a port");
	T_EQ_INT(net_recv(fa, &(struct net_pkt){ bufs[0], 64, 0, a, 0 }),
	    E_AGAIN, "nothing waiting");
	for (int i = 0; i < 8; i++) {
		memset(out[i], 'a' + i, sizeof(out[i]));
		tx[i] = (struct net_pkt){ out[i], 64, (size_t)(10 + i), lb, 0 };
		rx[i] = (struct net_pkt){ bufs[i], 64, 0, a, 0 };
	}
	T_EQ_INT(net_send_batch(fa, tx, 8), 8, "sendmmsg 8");
	r = net_recv_batch(fb, rx, 8);
	T_EQ_INT(r, 8, "recvmmsg 8");
	T_OK(r == 8 && rx[7].len == 17 && rx[7].buf[0] == 'h' &&
	    net_addr_eq(&rx[7].addr, &la), "lengths, data, source");
	tx[0].len = 60;
	T_EQ_INT(net_send(fb, &(struct net_pkt){ out[1], 64, 60, la, 0 }), 0,
	    "send");
	rx[0].cap = 16;
	T_OK(net_recv(fa, &rx[0]) == 0 && rx[0].trunc && rx[0].len == 16,
	    "truncation reported");
	/* net_udp_pending() peeks: an empty datagram counts, and stays */
	T_EQ_INT(net_udp_pending(fa), 0, "nothing pending");
	T_EQ_INT(net_send(fb, &(struct net_pkt){ out[1], 64, 0, la, 0 }), 0,
	    "send an empty datagram");
	T_EQ_INT(net_udp_pending(fa), 1, "an empty datagram is pending");
	T_EQ_INT(net_udp_pending(fa), 1, "still, after a peek");
	rx[0].cap = 64;
	T_OK(net_recv(fa, &rx[0]) == 0 && rx[0].len == 0, "and is read");
	T_EQ_INT(net_udp_pending(fa), 0, "then nothing pending");
	T_EQ_INT(net_udp_pending(-1), E_IO, "a bad descriptor: E_IO");
	close(fa);
	close(fb);
}

static void
test_tcp(void)
{
	struct net_addr a, la;
	int l, c, r;

	T_EQ_INT(net_addr_parse(SLICE_LIT("127.0.0.1:0"), &a), 0, "tcp addr");
	T_EQ_INT(net_tcp_listen(&a, 4, 0, &l), 0, "listen");
	T_EQ_INT(net_local_addr(l, &la), 0, "listener address");
	r = net_tcp_connect(&la, &c);
	T_OK(r == 0 || r == E_AGAIN, "connect");
	if (r == 0 || r == E_AGAIN) {
		usleep(10000);
		T_EQ_INT(net_sock_error(c), 0, "connected");
		close(c);
	}
	close(l);
}

static void
test_udp_tcp_bind(void)
{
	struct net_addr a, ua, ta;
	int u, t, l, r;

	T_EQ_INT(net_addr_parse(SLICE_LIT("127.0.0.1:0"), &a), 0, "pair addr");
	r = net_udp_tcp_bind(&a, 4, &u, &t);
	T_EQ_INT(r, 0, "udp+tcp on a kernel-chosen port");
	if (r != 0)
		return;
	T_OK(net_local_addr(u, &ua) == 0 && net_local_addr(t, &ta) == 0 &&
	    net_addr_eq(&ua, &ta) && net_addr_port(&ua) != 0,
	    "udp and tcp on one address and port");
	close(u);
	close(t);
	/* A given port taken on TCP: no retry, and the UDP socket is gone. */
	T_EQ_INT(net_tcp_listen(&a, 4, 0, &l), 0, "a listener");
	T_EQ_INT(net_local_addr(l, &ta), 0, "its address");
	T_EQ_INT(net_udp_tcp_bind(&ta, 4, &u, &t), E_IO, "taken port: E_IO");
	T_EQ_INT(net_udp_bind(&ta, 0, &u), 0, "its udp port was let go");
	close(u);
	close(l);
}

static void
test_route_src(void)
{
	struct net_addr to, src;
	char s[NET_ADDR_STRLEN];

	T_EQ_INT(net_addr_parse(SLICE_LIT("127.0.0.1:5060"), &to), 0, "to");
	T_EQ_INT(net_route_src(&to, &src), 0, "route towards 127.0.0.1");
	if (net_addr_format(&src, s, sizeof(s)) != 0)
		s[0] = '\0';
	T_EQ_STR(s, "127.0.0.1:0", "source 127.0.0.1, port 0");
}

static int
in(const char *net, const char *host)
{
	struct net_prefix p;
	struct net_addr a;

	if (net_prefix_parse(slice_cstr(net), &p) != 0 ||
	    net_addr_parse_host(slice_cstr(host), 0, &a) != 0)
		return -1;
	return net_prefix_match(&p, &a);
}

static void
test_prefix(void)
{
	struct net_prefix l[4], p;
	struct net_addr a;
	char why[96] = "";
	size_t n = 0;

	T_EQ_INT(in("10.0.0.0/8", "10.200.3.4"), 1, "10/8 has 10.200.3.4");
	T_EQ_INT(in("10.0.0.0/8", "11.0.0.1"), 0, "not 11.0.0.1");
	T_EQ_INT(in("192.168.1.0/25", "192.168.1.127"), 1, "/25: .127 in");
	T_EQ_INT(in("192.168.1.0/25", "192.168.1.128"), 0, "/25: .128 out");
	T_EQ_INT(in("192.0.2.7", "192.0.2.7"), 1, "a host is its /32");
	T_EQ_INT(in("192.0.2.7", "192.0.2.8"), 0, "and only itself");
	T_EQ_INT(in("0.0.0.0/0", "203.0.113.1"), 1, "/0 has everything v4");
	T_EQ_INT(in("0.0.0.0/0", "2001:db8::1"), 0, "but no IPv6");
	T_EQ_INT(in("127.0.0.0/8", "::ffff:127.0.0.5"), 1,
	    "an IPv4 network has its IPv4-mapped addresses");
	T_EQ_INT(in("2001:db8::/32", "2001:db8:ffff::1"), 1, "v6 /32 in");
	T_EQ_INT(in("2001:db8::/32", "2001:db9::1"), 0, "v6 /32 out");
	T_EQ_INT(in("2001:db8::/33", "2001:db8:8000::1"), 0, "v6 /33 out");
	T_EQ_INT(in("[::1]", "::1"), 1, "::1 in brackets");
	T_EQ_INT(in("::1", "127.0.0.1"), 0, "::1 is not 127.0.0.1");
	T_EQ_INT(net_prefix_parse(SLICE_LIT("10.0.0.0/33"), &p), E_RANGE,
	    "/33 on IPv4 refused");
	T_EQ_INT(net_prefix_parse(SLICE_LIT("::/129"), &p), E_RANGE,
	    "/129 refused");
	T_EQ_INT(net_prefix_parse(SLICE_LIT("10.0.0.0/"), &p), E_SYNTAX,
	    "an empty length refused");
	T_EQ_INT(net_prefix_parse(SLICE_LIT("10.0.0.0/8x"), &p), E_SYNTAX,
	    "a bad length refused");
	T_EQ_INT(net_prefix_parse(SLICE_LIT("10.0.0/8"), &p), E_SYNTAX,
	    "a bad address refused");
	T_EQ_INT(net_prefix_list_parse(SLICE_LIT(" 127.0.0.1, 10.0.0.0/8,::1 "),
	    l, 4, &n, why, sizeof(why)), 0, "a list");
	T_EQ_INT(n, 3, "of three");
	T_OK(net_addr_parse_host(SLICE_LIT("10.9.9.9"), 0, &a) == 0 &&
	    net_prefix_list_match(l, n, &a), "10.9.9.9 in the list");
	T_OK(net_addr_parse_host(SLICE_LIT("192.0.2.1"), 0, &a) == 0 &&
	    !net_prefix_list_match(l, n, &a), "192.0.2.1 not");
	T_EQ_INT(net_prefix_list_parse(SLICE_LIT("1.1.1.1,nope"), l, 4, &n, why,
	    sizeof(why)), E_SYNTAX, "a bad item");
	T_OK(strstr(why, "nope") != NULL, "is named: %s", why);
	T_EQ_INT(net_prefix_list_parse(SLICE_LIT("1.1.1.1,2.2.2.2,3.3.3.3,"
	    "4.4.4.4,5.5.5.5"), l, 4, &n, why, sizeof(why)), E_BIG,
	    "more than fit");
	T_EQ_INT(net_prefix_list_parse(SLICE_LIT(" , "), l, 4, &n, why,
	    sizeof(why)), E_SYNTAX, "an empty list");
	T_OK(net_addr_parse_host(SLICE_LIT("127.3.2.1"), 0, &a) == 0 &&
	    net_addr_is_loopback(&a), "127.3.2.1 is loopback");
	T_OK(net_addr_parse_host(SLICE_LIT("::1"), 0, &a) == 0 &&
	    net_addr_is_loopback(&a), "::1 is loopback");
	T_OK(net_addr_parse_host(SLICE_LIT("0.0.0.0"), 0, &a) == 0 &&
	    !net_addr_is_loopback(&a), "0.0.0.0 is not");
}

int
main(void)
{
	test_parse();
	test_prefix();
	test_udp("127.0.0.1");
	test_udp("::1");
	test_tcp();
	test_udp_tcp_bind();
	test_route_src();
	return t_done();
}
