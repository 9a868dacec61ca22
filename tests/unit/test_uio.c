/* test_uio.c - lib/uio buffer lifetimes: many datagrams through one socket
 * with a tiny buffer pool (every buffer reused hundreds of times, the
 * multishot receive ending on ENOBUFS and re-armed), each forwarded with
 * uio_send() or given back with uio_drop(); every forwarded datagram must
 * arrive exactly once, in order, with its own content. */
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/net.h"
#include "../../lib/uio.h"
#include "t.h"

#define NPKT 20000
#define BURST 24
#define PLEN 200

static int
udp(struct net_addr *la)
{
	struct net_addr a;
	int fd;

	if (net_addr_parse(SLICE_LIT("127.0.0.1:0"), &a) != 0 ||
	    net_udp_bind(&a, 0, &fd) != 0 || net_local_addr(fd, la) != 0)
		return -1;
	return fd;
}

static void
fill(uint8_t *b, uint32_t seq)
{
	for (size_t i = 0; i < PLEN; i++)
		b[i] = (uint8_t)(seq * 31u + i * 7u);
	memcpy(b, &seq, sizeof(seq));
}

static int
check(const uint8_t *b, size_t len, uint32_t *seq)
{
	uint8_t want[PLEN];

	if (len != PLEN)
		return -1;
	memcpy(seq, b, sizeof(*seq));
	fill(want, *seq);
	return memcmp(b, want, PLEN) == 0 ? 0 : -1;
}

static void
test_lifetimes(void)
{
	struct net_addr la, lb, lc;
	struct uio_pkt pk[64];
	struct uio *u;
	int a, b, c, e = 0, bad = 0, dup = 0, order = 0;
	uint32_t next_tx = 0, rx = 0, fwd = 0, out = 0;
	uint32_t last = 0;
	int have_last = 0, idle = 0;
	static uint8_t seen[NPKT];

	u = uio_new(8, 256, &e);
	if (u == NULL) {
		T_OK(e == E_UNSUPPORTED, "# skip io_uring not available");
		return;
	}
	a = udp(&la);
	b = udp(&lb);
	c = udp(&lc);
	T_OK(a >= 0 && b >= 0 && c >= 0, "sockets");
	T_EQ_INT(uio_watch(u, b, 42), 0, "watch");
	/* until all is through, or ~2 s without progress (a lost datagram) */
	while ((next_tx < NPKT || out < fwd || rx < next_tx) && idle < 100) {
		struct pollfd pf = { uio_fd(u), POLLIN, 0 };
		size_t n;

		/* a burst bigger than the pool, once the last one is in */
		if (rx == next_tx)
			for (int k = 0; k < BURST && next_tx < NPKT; k++) {
				uint8_t p[PLEN];
				struct net_pkt np = { p, PLEN, PLEN, lb, 0 };

				fill(p, next_tx++);
				if (net_send(a, &np) != 0)
					bad++;
			}
		(void)poll(&pf, 1, 20);
		n = uio_poll(u, pk, 64);
		idle = n == 0 ? idle + 1 : 0;
		for (size_t i = 0; i < n; i++) {
			uint32_t seq;

			if (pk[i].tag != 42 || check(pk[i].buf, pk[i].len,
			    &seq) != 0 || seq >= NPKT) {
				bad++;
				uio_drop(u, &pk[i]);
				continue;
			}
			rx++;
			if (seq % 5 == 3) {	/* given back unsent */
				uio_drop(u, &pk[i]);
				continue;
			}
			fwd++;
			if (uio_send(u, b, &pk[i], &lc) != 0)
				bad++;
		}
		if (uio_submit(u) != 0)
			bad++;
		for (;;) {
			uint8_t g[512];
			struct net_pkt gp = { g, sizeof(g), 0, { .len = 0 },
				0 };
			uint32_t seq;

			if (net_recv(c, &gp) != 0)
				break;
			out++;
			if (check(g, gp.len, &seq) != 0 || seq >= NPKT) {
				bad++;
				continue;
			}
			if (seen[seq]++)
				dup++;
			if (have_last && seq <= last)
				order++;
			last = seq;
			have_last = 1;
		}
	}
	T_EQ_INT(bad, 0, "every datagram intact (content matches its sequence number)");
	T_EQ_INT(dup, 0, "no datagram forwarded twice");
	T_EQ_INT(order, 0, "forwarded in order");
	T_EQ_INT((long long)rx, NPKT, "every datagram received once");
	T_EQ_INT((long long)out, (long long)fwd, "every forwarded datagram arrived");
	T_EQ_INT((long long)uio_send_errors(u), 0, "no send errors");
	uio_unwatch(u, b);
	uio_free(u);
	close(a);
	close(b);
	close(c);
}

int
main(void)
{
	test_lifetimes();
	return t_done();
}
