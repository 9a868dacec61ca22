/* test_uio.c - lib/uio buffer lifetimes: many datagrams through one socket
 * with a tiny buffer pool (every buffer reused hundreds of times, the
 * multishot receive ending on ENOBUFS and re-armed), each forwarded with
 * uio_send() or given back with uio_drop(); every forwarded datagram must
 * arrive exactly once, in order, with its own content. Then uio_wait():
 * it waits for packets (not for the completions of its own sends) and for
 * the wake descriptor; and the eventfd stays readable while uio_poll()
 * leaves completions behind. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "base/net.h"
#include "relay/uio.h"
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

/* A uio, or NULL after reporting the skip (no io_uring here). */
static struct uio *
ring(unsigned nbufs, size_t bufsize, unsigned flags)
{
	int e = 0;
	struct uio *u = uio_new(nbufs, bufsize, flags, &e);

	if (u == NULL)
		T_OK(e == E_UNSUPPORTED, "# skip io_uring not available");
	return u;
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
	int a, b, c, bad = 0, dup = 0, order = 0;
	uint32_t next_tx = 0, rx = 0, fwd = 0, out = 0;
	uint32_t last = 0;
	int have_last = 0, idle = 0;
	static uint8_t seen[NPKT];

	if ((u = ring(8, 256, 0)) == NULL)
		return;
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

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void
send_n(int from, const struct net_addr *to, uint32_t first, int n)
{
	for (int k = 0; k < n; k++) {
		uint8_t p[PLEN];

		fill(p, first + (uint32_t)k);
		if (net_send(from, &(struct net_pkt){ p, PLEN, PLEN, *to, 0 })
		    != 0)
			T_OK(0, "send");
	}
}

/* A child that sends `n` datagrams (or writes `n` bytes to a pipe when
 * `to` is NULL) after `delay_ms`, one every 20 ms. */
static pid_t
later(int fd, const struct net_addr *to, int n, long delay_ms)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	nap_ms(delay_ms);
	for (int k = 0; k < n; k++) {
		if (to != NULL)
			send_n(fd, to, 1000 + (uint32_t)k, 1);
		else if (write(fd, "x", 1) != 1)
			_exit(1);
		nap_ms(20);
	}
	_exit(0);
}

static void
reap(pid_t pid)
{
	int st;

	if (pid > 0) {
		kill(pid, SIGKILL);
		(void)waitpid(pid, &st, 0);
	}
}

static void
test_wait(void)
{
	struct net_addr la, lb, lc;
	struct uio_pkt pk[64];
	struct uio *u;
	int a, b, c, pp[2], bad = 0;
	size_t n;
	pid_t kid;

	if ((u = ring(64, 256, UIO_WAIT)) == NULL)
		return;
	T_EQ_INT(uio_fd(u), E_STATE, "UIO_WAIT: no eventfd");
	a = udp(&la);
	b = udp(&lb);
	c = udp(&lc);
	T_OK(a >= 0 && b >= 0 && c >= 0 && pipe(pp) == 0, "sockets, pipe");
	T_EQ_INT(uio_watch(u, b, 7), 0, "watch");
	/* five queued before the wait: all five after it */
	send_n(a, &lb, 0, 5);
	T_EQ_INT(uio_wait(u, 5, 2000000), 0, "wait for 5");
	n = uio_poll(u, pk, 64);
	T_EQ_INT((long long)n, 5, "5 packets after waiting for 5");
	/* forward them: the wait below must not end on their completions
	 * but on the 3 datagrams the child sends after it began */
	for (size_t i = 0; i < n; i++)
		if (uio_send(u, b, &pk[i], &lc) != 0)
			bad++;
	kid = later(a, &lb, 3, 100);
	T_EQ_INT(uio_wait(u, 3, 5000000), 0, "wait for 3 more");
	n = uio_poll(u, pk, 64);
	T_EQ_INT((long long)n, 3, "the wait counted packets, not its sends");
	reap(kid);
	for (size_t i = 0; i < n; i++)
		uio_drop(u, &pk[i]);
	for (int k = 0; k < 5; k++) {
		uint8_t g[512];
		struct net_pkt gp = { g, sizeof(g), 0, { .len = 0 }, 0 };
		uint32_t seq;

		for (int t = 0; t < 100 && net_recv(c, &gp) != 0; t++)
			nap_ms(10);
		if (check(g, gp.len, &seq) != 0 || seq != (uint32_t)k)
			bad++;
	}
	T_EQ_INT(bad, 0, "the 5 forwarded sends arrived, intact, in order");
	/* the wake descriptor ends a wait for packets that do not come */
	T_EQ_INT(uio_set_wake_fd(u, pp[0]), 0, "wake fd");
	T_EQ_INT(uio_set_wake_fd(u, c), E_STATE, "one wake fd only");
	T_EQ_INT(uio_wait(u, 1, 50000), 0, "wait, nothing to wake");
	(void)uio_poll(u, pk, 64);
	T_EQ_INT(uio_wake_ready(u), 0, "not woken while the fd is quiet");
	kid = later(pp[1], NULL, 1, 100);
	T_EQ_INT(uio_wait(u, 1, 5000000), 0, "wait with a long timeout");
	T_EQ_INT((long long)uio_poll(u, pk, 64), 0, "no packet");
	T_EQ_INT(uio_wake_ready(u), 1, "woken by the wake fd");
	T_EQ_INT(uio_wake_ready(u), 0, "reported once");
	reap(kid);
	/* unwatched and closed, the socket is gone: its port binds again
	 * (the ring keeps no reference to it, registered file or not) */
	uio_unwatch(u, b);
	close(b);
	b = -1;
	T_EQ_INT(net_udp_bind(&lb, 0, &b), 0, "the unwatched port is free");
	uio_free(u);
	close(a);
	if (b >= 0)
		close(b);
	close(c);
	close(pp[0]);
	close(pp[1]);
}

static int
readable(int fd)
{
	struct pollfd pf = { fd, POLLIN, 0 };

	return poll(&pf, 1, 0) == 1;
}

static void
test_resignal(void)
{
	struct net_addr la, lb;
	struct uio_pkt pk[4];
	struct uio *u;
	int a, b;
	size_t n, total = 0;

	if ((u = ring(64, 256, 0)) == NULL)
		return;
	a = udp(&la);
	b = udp(&lb);
	T_EQ_INT(uio_watch(u, b, 9), 0, "watch");
	send_n(a, &lb, 0, 5);
	for (int t = 0; t < 100 && !readable(uio_fd(u)); t++)
		nap_ms(10);
	nap_ms(50);	/* all five in the ring */
	n = uio_poll(u, pk, 2);
	T_EQ_INT((long long)n, 2, "2 of 5");
	total += n;
	T_OK(readable(uio_fd(u)), "eventfd readable while 3 wait");
	for (size_t i = 0; i < n; i++)
		uio_drop(u, &pk[i]);
	n = uio_poll(u, pk, 2);
	total += n;
	T_OK(n == 2 && readable(uio_fd(u)), "2 more, 1 waits: readable");
	for (size_t i = 0; i < n; i++)
		uio_drop(u, &pk[i]);
	n = uio_poll(u, pk, 2);
	total += n;
	for (size_t i = 0; i < n; i++)
		uio_drop(u, &pk[i]);
	T_EQ_INT((long long)total, 5, "all 5");
	T_OK(!readable(uio_fd(u)), "drained: not readable");
	uio_unwatch(u, b);
	uio_free(u);
	close(a);
	close(b);
}

/* uio_register(): a send-only socket (the relay's raw ones) sends as a
 * registered file, may be watched later (once), and uio_unwatch() lets
 * it go: its port can be bound again once it is closed. */
static void
test_register(void)
{
	struct net_addr la, lb, lc, from;
	struct uio_pkt pk[4];
	struct uio *u;
	uint8_t got[PLEN];
	uint32_t seq = 0;
	int a, b, c, e = 0, again;
	size_t n;

	if ((u = ring(16, 512, UIO_WAIT)) == NULL)
		return;
	a = udp(&la);
	b = udp(&lb);
	c = udp(&lc);
	T_OK(a >= 0 && b >= 0 && c >= 0, "sockets");
	T_EQ_INT(uio_register(u, b), 0, "register a send-only socket");
	T_EQ_INT(uio_register(u, b), 0, "register it again: the same slot");
	T_EQ_INT(uio_watch(u, a, 1), 0, "watch another");
	send_n(c, &la, 42, 1);
	T_EQ_INT(uio_wait(u, 1, 2000000), 0, "wait");
	n = uio_poll(u, pk, 4);
	T_EQ_INT((long long)n, 1, "one packet");
	if (n == 1) {
		T_EQ_INT(pk[0].tag, 1, "its tag");
		T_OK(pk[0].head >= 48, "head room for headers (%zu)",
		    pk[0].head);
		T_EQ_INT(uio_send(u, b, &pk[0], &lc), 0,
		    "sent from the registered socket");
		T_EQ_INT(uio_submit(u), 0, "submit");
	}
	{
		struct net_pkt p = { got, sizeof(got), 0, { .len = 0 }, 0 };

		e = -1;
		for (int w = 0; w < 100 && e != 0; w++)
			if ((e = net_recv(c, &p)) != 0)
				nap_ms(5);
		from = p.addr;
		T_OK(e == 0 && check(got, p.len, &seq) == 0 && seq == 42 &&
		    net_addr_eq(&from, &lb),
		    "arrives whole, from the registered socket's port");
	}
	T_EQ_INT(uio_watch(u, b, 2), 0, "a registered socket may be watched");
	T_EQ_INT(uio_watch(u, b, 2), E_STATE, "but not twice");
	uio_unwatch(u, b);
	close(b);
	again = -1;
	T_OK(net_udp_bind(&lb, 0, &again) == 0, "its port is free after "
	    "uio_unwatch() and close()");
	if (again >= 0)
		close(again);
	uio_free(u);
	close(a);
	close(c);
}

/* The VmFlags of the mapping holding `addr` (from /proc/self/smaps),
 * into `out`; -1 if not found. */
static int
vmflags(const void *addr, char *out, size_t n)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0, r = -1;
	uintptr_t x = (uintptr_t)addr;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = x >= lo && x < hi;
			continue;
		}
		if (in && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(out, n, "%s", line + 8);
			r = 0;
			break;
		}
	}
	fclose(f);
	return r;
}

/* The buffer pool is asked for transparent huge pages (its pages are
 * cold at many streams: TLB misses); the flag shows as "hg". */
static void
test_hugepages(void)
{
	struct net_addr la, lb;
	struct uio_pkt pk[4];
	struct uio *u;
	char fl[512] = "";
	uint8_t p[PLEN];
	struct net_pkt np = { p, PLEN, PLEN, { .len = 0 }, 0 };
	size_t n = 0;
	int a, b;

	if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) != 0) {
		T_OK(1, "# skip no transparent huge pages in this kernel");
		return;
	}
	if ((u = ring(1024, 2048, 0)) == NULL)
		return;
	a = udp(&la);
	b = udp(&lb);
	T_OK(a >= 0 && b >= 0, "sockets");
	T_EQ_INT(uio_watch(u, b, 7), 0, "watch");
	np.addr = lb;
	fill(p, 1);
	T_EQ_INT(net_send(a, &np), 0, "send");
	for (int tries = 0; tries < 100 && n == 0; tries++) {
		struct pollfd pf = { uio_fd(u), POLLIN, 0 };

		(void)uio_submit(u);
		(void)poll(&pf, 1, 20);
		n = uio_poll(u, pk, 4);
	}
	T_EQ_INT((long long)n, 1, "one datagram in a pool buffer");
	if (n == 1) {
		T_EQ_INT(vmflags(pk[0].buf, fl, sizeof(fl)), 0,
		    "the pool's mapping is in /proc/self/smaps");
		T_OK(strstr(fl, " hg") != NULL,
		    "the pool is advised for huge pages (VmFlags hg)");
		uio_drop(u, &pk[0]);
	}
	uio_unwatch(u, b);
	uio_free(u);
	close(a);
	close(b);
}

int
main(void)
{
	test_hugepages();
	test_register();
	test_lifetimes();
	test_wait();
	test_resignal();
	return t_done();
}
