/* test_relay_steer.c - lib/relay with relay_steer(): streams of a port
 * range read through one socket per host, both directions, RTP and RTCP
 * on their own ports; a flooded port goes back to its own socket while
 * the other streams keep flowing; closing a stream stops its steering.
 * Needs root (BPF sk_lookup) and io_uring; skipped without. The same
 * flows run unsteered too (one socket per port): a flood on one stream
 * must not starve the other there either. And all of it again sending
 * from raw sockets (relay_raw_send()): every packet still comes from the
 * relay's port on its side. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/ev.h"
#include "base/net.h"
#include "relay/relay.h"
#include "t.h"

static struct net_addr host;

static int
udp(struct net_addr *la)
{
	struct net_addr a = host;
	int fd;

	net_addr_set_port(&a, 0);
	if (net_udp_bind(&a, 0, &fd) != 0 || net_local_addr(fd, la) != 0)
		return -1;
	return fd;
}

static struct net_addr last_from;	/* of recv_via()'s datagram */

/* Run the loop until `fd` has a datagram or ~1 s passed. */
static int
recv_via(struct ev_loop *l, int fd, uint8_t *b, size_t cap, size_t *len)
{
	for (int i = 0; i < 100; i++) {
		struct net_pkt p = { b, cap, 0, { .len = 0 }, 0 };

		(void)ev_run_once(l, 10);
		if (net_recv(fd, &p) == 0) {
			*len = p.len;
			last_from = p.addr;
			return 0;
		}
	}
	return -1;
}

/* Everything waiting on fd, dropped; how many. */
static unsigned
drain(int fd)
{
	uint8_t b[2048];
	unsigned n = 0;
	struct net_pkt p = { b, sizeof(b), 0, { .len = 0 }, 0 };

	while (net_recv(fd, &p) == 0)
		n++;
	return n;
}

static void
rtp(uint8_t *pkt, uint16_t seq, uint8_t ssrc)
{
	memset(pkt, 0, 172);
	pkt[0] = 0x80;
	pkt[2] = (uint8_t)(seq >> 8);
	pkt[3] = (uint8_t)seq;
	pkt[11] = ssrc;
	memset(pkt + 12, 'x', 160);
}

struct call {
	struct relay_stream *s;
	struct net_addr loc0, loc1, loc1c, pa, pb;
	int a, b;		/* side 0's and side 1's peers */
};

static int
call_open(struct relay *r, struct call *c)
{
	c->s = relay_stream_new(r, NULL);
	if (c->s == NULL || relay_side_open(c->s, 0, &host, 0, 1) != 0 ||
	    relay_side_open(c->s, 1, &host, 0, 0) != 0 ||
	    relay_side_local(c->s, 0, 0, &c->loc0) != 0 ||
	    relay_side_local(c->s, 1, 0, &c->loc1) != 0 ||
	    relay_side_local(c->s, 1, 1, &c->loc1c) != 0)
		return -1;
	c->a = udp(&c->pa);
	c->b = udp(&c->pb);
	relay_side_set_peer(c->s, 1, &c->pb, NULL);
	return c->a >= 0 && c->b >= 0 ? 0 : -1;
}

static void
call_close(struct call *c)
{
	relay_stream_free(c->s);
	close(c->a);
	close(c->b);
}

static void
test_steer(const char *hs0, int steer, int raw)
{
	struct ev_loop *l = ev_new(NULL);
	struct relay_config rc;
	struct relay *r;
	struct call c1, c2;
	struct net_addr hosts[1];
	uint8_t pkt[172], got[2048];
	size_t len = 0;
	struct relay_ctr k;
	struct buf *sum = buf_new(1 << 16);
	int e = 0;
	unsigned flood = 0, c1_got = 0, c1_sent = 0;
	uint64_t t0;
	char hs[64];

	snprintf(hs, sizeof(hs), "%s%s%s", hs0, steer ? "" : " unsteered",
	    raw ? " raw-send" : "");
	if (net_addr_parse_host(slice_cstr(hs0), 0, &host) != 0) {
		T_OK(0, "%s: host", hs);
		return;
	}
	memset(&rc, 0, sizeof(rc));
	rc.io = RELAY_IO_URING;
	rc.port_min = (uint16_t)(42000 + (getpid() % 1000) * 20);
	rc.port_max = (uint16_t)(rc.port_min + 19);
	rc.flood_pps = 300;
	if ((r = relay_new(l, &rc, NULL, &e)) == NULL) {
		T_OK(1, "# skip io_uring not available here");
		ev_free(l);
		buf_free(sum);
		return;
	}
	hosts[0] = host;
	e = steer ? relay_steer(r, hosts, 1) : 0;
	if (e == E_PERM || e == E_UNSUPPORTED) {
		T_OK(1, "# skip steering not available here (%s)",
		    sbk_strerror(e));
		relay_free(r);
		ev_free(l);
		buf_free(sum);
		return;
	}
	T_EQ_INT(e, 0, "%s: relay_steer", hs);
	if (raw && (e = relay_raw_send(r)) == E_PERM) {
		T_OK(1, "# skip raw sockets not available here");
		relay_free(r);
		ev_free(l);
		buf_free(sum);
		return;
	}
	if (raw)
		T_EQ_INT(e, 0, "%s: relay_raw_send", hs);
	if (steer)
		T_EQ_INT(relay_steer(r, hosts, 1), E_INVAL, "%s: steer twice",
		    hs);
	T_EQ_INT(call_open(r, &c1), 0, "%s: call 1", hs);
	T_EQ_INT(call_open(r, &c2), 0, "%s: call 2", hs);

	/* a -> side 0 -> side 1 -> b, and back; RTCP on its own port */
	rtp(pkt, 1, 1);
	T_OK(net_send(c1.a, &(struct net_pkt){ pkt, 0, sizeof(pkt), c1.loc0,
	    0 }) == 0, "send");
	T_OK(recv_via(l, c1.b, got, sizeof(got), &len) == 0 &&
	    len == sizeof(pkt) && memcmp(got, pkt, len) == 0,
	    "%s: steered packet forwarded as is", hs);
	T_OK(net_addr_eq(&last_from, &c1.loc1),
	    "%s: from the relay's port on that side", hs);
	/* too big for a raw send without fragments: from the port socket */
	{
		uint8_t big[1300];

		rtp(big, 2, 1);
		memset(big + 172, 'y', sizeof(big) - 172);
		T_OK(net_send(c1.a, &(struct net_pkt){ big, 0, sizeof(big),
		    c1.loc0, 0 }) == 0, "send big");
		T_OK(recv_via(l, c1.b, got, sizeof(got), &len) == 0 &&
		    len == sizeof(big) && memcmp(got, big, len) == 0 &&
		    net_addr_eq(&last_from, &c1.loc1),
		    "%s: a 1300-byte packet forwarded as is, same source", hs);
	}
	rtp(pkt, 2, 2);
	T_OK(net_send(c1.b, &(struct net_pkt){ pkt, 0, sizeof(pkt), c1.loc1,
	    0 }) == 0, "send back");
	T_OK(recv_via(l, c1.a, got, sizeof(got), &len) == 0 &&
	    len == sizeof(pkt), "%s: and back to the latched peer", hs);
	T_OK(net_addr_eq(&last_from, &c1.loc0),
	    "%s: from the relay's port on the other side", hs);
	/* an RTCP receiver report to side 1's RTCP port goes to a (mux) */
	{
		uint8_t rr[8] = { 0x80, 201, 0, 1, 0, 0, 0, 2 };

		T_OK(net_send(c1.b, &(struct net_pkt){ rr, 0, sizeof(rr),
		    c1.loc1c, 0 }) == 0, "send rtcp");
		T_OK(recv_via(l, c1.a, got, sizeof(got), &len) == 0 &&
		    len == sizeof(rr) && got[1] == 201,
		    "%s: RTCP on its own port steered too", hs);
	}
	relay_side_counters(c1.s, 1, RELAY_RTCP, &k);
	T_EQ_INT(k.fwd_pkts, 1, "%s: counted on the RTCP component", hs);

	/* flood call 2 for ~1.5 s (a tick) while call 1 sends 50 pps */
	t0 = ev_clock_ns();
	for (unsigned i = 0; ev_clock_ns() - t0 < 1500000000ull; i++) {
		rtp(pkt, (uint16_t)i, 3);
		for (int j = 0; j < 20; j++)
			if (net_send(c2.a, &(struct net_pkt){ pkt, 0,
			    sizeof(pkt), c2.loc0, 0 }) == 0)
				flood++;
		rtp(pkt, (uint16_t)i, 4);
		if (i % 10 == 0 && net_send(c1.a, &(struct net_pkt){ pkt, 0,
		    sizeof(pkt), c1.loc0, 0 }) == 0)
			c1_sent++;
		(void)ev_run_once(l, 2);
		(void)drain(c2.b);
		c1_got += drain(c1.b);
	}
	T_OK(flood > 3000, "%s: flooded (%u packets)", hs, flood);
	T_OK(c1_got * 2 >= c1_sent && c1_sent > 0,
	    "%s: call 1 kept flowing (%u of %u)", hs, c1_got, c1_sent);
	T_EQ_INT(relay_summary(r, (const char *const[2]){ "a", "b" }, sum), 0,
	    "summary");
	if (raw) {
		const char *rs = strstr(buf_str(sum), "summary: raw sent=");
		unsigned long long n = rs ? strtoull(rs + 18, NULL, 10) : 0;

		T_OK(n > 0, "%s: sent from the raw sockets", hs);
		/* after a tick over the flood rate call 2 is hot: it sends
		 * from its own port socket */
		T_OK(n < flood, "%s: the hot flood not raw (%llu of %u)", hs,
		    n, flood);
	}
	else
		T_OK(strstr(buf_str(sum), "summary: raw ") == NULL,
		    "%s: no raw sockets line", hs);
	if (steer)
		T_OK(strstr(buf_str(sum), "summary: steering moved=1 ") != NULL,
		    "%s: the flooded port went back to its own socket", hs);
	else
		T_OK(strstr(buf_str(sum), "summary: steering ") == NULL,
		    "%s: no steering line", hs);
	/* both still forward: call 2 from its own socket, call 1 steered */
	rtp(pkt, 60000, 3);
	(void)drain(c2.b);
	T_OK(net_send(c2.a, &(struct net_pkt){ pkt, 0, sizeof(pkt), c2.loc0,
	    0 }) == 0, "send on moved port");
	T_OK(recv_via(l, c2.b, got, sizeof(got), &len) == 0 &&
	    len == sizeof(pkt) && net_addr_eq(&last_from, &c2.loc1),
	    "%s: the moved port still forwards, from its port", hs);
	rtp(pkt, 60000, 4);
	(void)drain(c1.b);
	T_OK(net_send(c1.a, &(struct net_pkt){ pkt, 0, sizeof(pkt), c1.loc0,
	    0 }) == 0, "send on steered port");
	T_OK(recv_via(l, c1.b, got, sizeof(got), &len) == 0 &&
	    len == sizeof(pkt), "%s: the steered port still forwards", hs);

	/* a freed stream's port is no longer steered: a new socket bound
	 * there receives for itself */
	{
		struct net_addr p0 = c1.loc0;
		int fd;

		call_close(&c1);
		T_EQ_INT(net_udp_bind(&p0, 0, &fd), 0, "%s: port free", hs);
		rtp(pkt, 7, 7);
		T_OK(net_send(c2.a, &(struct net_pkt){ pkt, 0, sizeof(pkt),
		    p0, 0 }) == 0, "send to freed port");
		(void)ev_run_once(l, 10);
		usleep(10000);
		T_EQ_INT(drain(fd), 1,
		    "%s: freed port: not steered any more", hs);
		close(fd);
	}
	call_close(&c2);
	relay_free(r);
	ev_free(l);
	buf_free(sum);
}

int
main(void)
{
	test_steer("127.0.0.1", 1, 0);
	test_steer("::1", 1, 0);
	test_steer("127.0.0.1", 0, 0);
	test_steer("127.0.0.1", 1, 1);
	test_steer("::1", 1, 1);
	test_steer("127.0.0.1", 0, 1);
	return t_done();
}
