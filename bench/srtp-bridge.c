/* srtp-bridge.c (bench) - load generator for ng media relays: SRTP in, RTP out. */
/*
 * Sets up N calls on a relay over the ng protocol (outside party offers
 * RTP/SAVP with one AES_CM_128_HMAC_SHA1_80 key, transport-protocol
 * RTP/AVP towards the inside party), pre-encrypts every packet of the run
 * (so the generator's crypto does not compete with the relay), sends them
 * from one socket per call at PPS packets/s each, counts what arrives as
 * plain RTP on the inside sockets (checking the length), and reports the
 * relay's CPU time per bridged packet from /proc/PID/stat.
 *
 *   srtp-bridge -n ADDR:PORT -p PID [-l LOCAL] [-c CALLS] [-r PPS]
 *               [-s SECONDS] [-d OUT,IN] [-P | -D] [-H CALLS_PER_S]
 *               [-a SEND_CPU,RECV_CPU]
 *
 * -P: plain RTP on both sides (the relay's no-crypto baseline). -D: the
 * outside party offers UDP/TLS/RTP/SAVP (a=setup:active) and keys its
 * SRTP by a DTLS-SRTP handshake with the relay before the run, so the
 * relay's receive context comes from DTLS instead of SDES. -H paces the
 * set-ups (offer, answer and, with -D, the handshake) at that many calls
 * a second; setup_s and setups_per_s say how long they took. -a pins
 * the sending thread and the receiving one (-1: not pinned). Prints one
 * line of key=value figures on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/ev.h"
#include "base/net.h"
#include "ng/ng.h"
#include "base/rnd.h"
#include "media/dtls.h"
#include "media/rtpsec.h"
#include "media/sdp.h"

#define PAYLOAD 160
#define PLAIN_LEN (12 + PAYLOAD)
#define SLOT 256

struct call {
	int tx, rx;		/* alice's and bob's sockets */
	struct net_addr dst;	/* the relay's outside port for alice */
	uint8_t *pkts;		/* npkts * SLOT: len (2 bytes) + packet */
	uint64_t got;
};

static struct call *calls;
static size_t ncalls;
static volatile int done;
static uint64_t rx_total, rx_bad, send_err;
static int send_cpu = -1, recv_cpu = -1;	/* -a: pinned threads */
static struct dtls_cert *dcert;		/* -D: the outside party's */

static void
die(const char *what)
{
	fprintf(stderr, "bench srtp-bridge: %s\n", what);
	exit(1);
}

/* ---- -D: a DTLS-SRTP handshake as the client, from `fd` to `dst` ---- */

struct hs {
	int fd;
	const struct net_addr *dst;
};

static void
hs_send(void *arg, const uint8_t *p, size_t len)
{
	struct hs *h = arg;
	struct net_pkt k = { (uint8_t *)p, 0, len, *h->dst, 0 };

	if (net_send(h->fd, &k) != 0)
		return;	/* lost: the timer sends it again */
}

/* The relay's fingerprint from its answer; the keys we send with. */
static void
dtls_keys_for(int fd, const struct net_addr *dst, struct slice answer,
    struct dtls_keys *k)
{
	const char *a = memmem(answer.p, answer.len, "a=fingerprint:", 14);
	struct dtls_config dc;
	struct hs h = { fd, dst };
	struct dtls *d;
	size_t n = 0;
	uint8_t in[4096];
	int e = 0;

	if (a == NULL)
		die("answer without a fingerprint");
	a += 14;
	while (a + n < (const char *)answer.p + answer.len && a[n] != '\r' &&
	    a[n] != '\n')
		n++;
	memset(&dc, 0, sizeof(dc));
	dc.cert = dcert;
	dc.role = DTLS_ACTIVE;
	dc.send = hs_send;
	dc.arg = &h;
	if (dtls_fp_parse(slice_make(a, n), &dc.peer) != 0)
		die("bad fingerprint in the answer");
	if ((d = dtls_new(&dc, &e)) == NULL || dtls_start(d) != 0)
		die("dtls");
	for (int i = 0; i < 400 && dtls_state(d) == DTLS_HANDSHAKE; i++) {
		struct pollfd pf = { fd, POLLIN, 0 };
		struct net_pkt r = { in, sizeof(in), 0, { .len = 0 }, 0 };

		struct timespec ts;
		int64_t now, at;

		if (poll(&pf, 1, 10) == 1 && net_recv(fd, &r) == 0) {
			(void)dtls_input(d, in, r.len);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if ((at = dtls_timeout_ms(d, now)) >= 0 && now >= at)
			(void)dtls_on_timeout(d);
	}
	if (dtls_srtp_keys(d, k) != 0)
		die("DTLS handshake with the relay failed");
	dtls_free(d);
}

/* Pin the calling thread to `cpu` (-1: leave it to the scheduler). */
static void
pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		die("cannot pin a thread (-a)");
}

static uint64_t
proc_ticks(long pid)
{
	char path[64], b[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;
	int field = 0;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		die("cannot read the relay's /proc/PID/stat");
	if (fgets(b, sizeof(b), f) == NULL)
		b[0] = '\0';
	fclose(f);
	/* fields after the ")" closing comm: state is field 3 */
	p = strrchr(b, ')');
	if (p == NULL)
		return 0;
	for (p += 2, field = 3; *p != '\0' && field < 15; p++) {
		if (*p == ' ') {
			field++;
			if (field == 14)
				ut = strtoull(p + 1, NULL, 10);
			if (field == 15)
				st = strtoull(p + 1, NULL, 10);
		}
	}
	return ut + st;
}

/* Context switches of the relay so far (voluntary: it went to sleep,
 * i.e. wake-ups; involuntary: preempted), from /proc/PID/status. */
static void
proc_switches(long pid, uint64_t *vol, uint64_t *invol)
{
	char path[64], line[256];
	FILE *f;

	*vol = *invol = 0;
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "voluntary_ctxt_switches:", 24) == 0)
			*vol = strtoull(line + 24, NULL, 10);
		else if (strncmp(line, "nonvoluntary_ctxt_switches:", 27) == 0)
			*invol = strtoull(line + 27, NULL, 10);
	}
	fclose(f);
}

/* UDP receive buffer overflows, machine-wide (/proc/net/snmp): where
 * loss happens when the relay or the receiver falls behind. */
static uint64_t
udp_rcvbuf_errors(void)
{
	char line[512];
	FILE *f = fopen("/proc/net/snmp", "r");
	int header = 1;
	uint64_t v = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p;

		if (strncmp(line, "Udp: ", 5) != 0)
			continue;
		if (header) {	/* names first, then values */
			header = 0;
			continue;
		}
		/* InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors */
		p = line + 5;
		for (int k = 0; k < 4 && p != NULL; k++) {
			p = strchr(p, ' ');
			if (p != NULL)
				p++;
		}
		if (p != NULL)
			v = strtoull(p, NULL, 10);
		break;
	}
	fclose(f);
	return v;
}

/* ---- ng ---- */

static int ngfd;
static struct net_addr ngaddr;

static void
ng_call(struct ng_req *q, struct ng_reply *rep, struct buf *out)
{
	char cookie[NG_COOKIE_LEN + 1];
	static uint8_t in[65536];

	buf_reset(out);
	if (ng_cookie_new(cookie, sizeof(cookie)) != 0)
		die("cookie");
	q->cookie = slice_cstr(cookie);
	if (ng_req_encode(q, out) != 0)
		die("ng encode");
	for (int tries = 0; tries < 5; tries++) {
		struct net_pkt p = { (uint8_t *)buf_data(out), 0, buf_len(out),
			ngaddr, 0 };
		struct net_pkt r = { in, sizeof(in), 0, { .len = 0 }, 0 };
		struct timespec ts = { 0, 1000000 };

		if (net_send(ngfd, &p) != 0)
			die("ng send");
		for (int w = 0; w < 1000; w++) {
			if (net_recv(ngfd, &r) == 0) {
				if (ng_reply_parse(rep, slice_make(in, r.len))
				    == 0 && slice_eq(rep->cookie, q->cookie))
					return;
				ng_reply_release(rep);
			}
			nanosleep(&ts, NULL);
		}
	}
	die("no ng reply");
}

/* The address and port of the first media in `sdp`. */
static void
sdp_dest(struct slice body, struct net_addr *a)
{
	struct sdp *s;
	struct sdp_media m;
	struct sdp_conn c;

	if (sdp_parse(body, &s, NULL) != 0 || sdp_media_get(s, 0, &m) != 0 ||
	    sdp_media_conn(s, 0, &c) != 0 ||
	    net_addr_parse_host(c.addr, (uint16_t)m.port, a) != 0)
		die("reply SDP without an address");
	sdp_free(s);
}

static int
usock(const struct net_addr *local)
{
	int fd;

	if (net_udp_bind(local, 0, &fd) != 0)
		die("bind");
	net_set_bufs(fd, 1 << 20, 1 << 20);
	return fd;
}

static void
setup(size_t i, const struct net_addr *local, const char *dout,
    const char *din, int plain, size_t npkts)
{
	struct call *c = &calls[i];
	struct net_addr la, lb;
	uint8_t key[30];
	char k64[64], host[NET_ADDR_STRLEN], sdp[1024], cid[64];
	struct ng_req q;
	struct ng_reply rep;
	struct buf *out = buf_new(65536);
	struct rtpsec *ctx = NULL;
	struct rtpsec_params p;
	struct dtls_keys dk;
	uint32_t ssrc = (uint32_t)i + 0x1000;
	uint16_t seq0 = (uint16_t)(i * 7);
	int n;

	c->tx = usock(local);
	c->rx = usock(local);
	/* the receiver thread may be descheduled on a busy machine: room
	 * for a burst, so that loss measures the relay, not this thread */
	net_set_bufs(c->rx, 4 << 20, 0);
	if (net_local_addr(c->tx, &la) != 0 || net_local_addr(c->rx, &lb) != 0
	    || net_addr_format_host(local, host, sizeof(host)) != 0)
		die("local address");
	if (rnd_bytes(key, sizeof(key)) != 0 ||
	    b64_encode(key, sizeof(key), k64, sizeof(k64)) < 0)
		die("key");
	snprintf(cid, sizeof(cid), "bench-%zu-%ld", i, (long)getpid());
	/* offer from alice (outside) */
	if (dcert != NULL)
		n = snprintf(sdp, sizeof(sdp), "v=0\r\no=- 1 1 IN IP4 %s\r\n"
		    "s=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %u "
		    "UDP/TLS/RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
		    "a=fingerprint:sha-256 %s\r\na=setup:active\r\n", host,
		    host, net_addr_port(&la), dtls_cert_fingerprint(dcert));
	else
		n = snprintf(sdp, sizeof(sdp), "v=0\r\no=- 1 1 IN IP4 %s\r\n"
		    "s=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %u %s 0\r\n"
		    "a=rtpmap:0 PCMU/8000\r\n%s%s%s", host, host,
		    net_addr_port(&la), plain ? "RTP/AVP" : "RTP/SAVP",
		    plain ? "" : "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:",
		    plain ? "" : k64, plain ? "" : "\r\n");
	if (n < 0 || (size_t)n >= sizeof(sdp))
		die("sdp");
	ng_req_init(&q);
	q.cmd = NG_CMD_OFFER;
	q.call_id = slice_cstr(cid);
	q.from_tag = SLICE_LIT("alice");
	q.sdp = slice_cstr(sdp);
	q.proto = NG_PROTO_RTP_AVP;
	q.ice = NG_ICE_REMOVE;
	q.rtcp_mux = NG_RTCP_MUX_DEMUX;
	q.from_interface = slice_cstr(dout);
	q.to_interface = slice_cstr(din);
	ng_call(&q, &rep, out);
	if (rep.result != NG_RESULT_OK)
		die("offer refused");
	ng_reply_release(&rep);
	/* answer from bob (inside) */
	n = snprintf(sdp, sizeof(sdp), "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\n"
	    "c=IN IP4 %s\r\nt=0 0\r\nm=audio %u RTP/AVP 0\r\n"
	    "a=rtpmap:0 PCMU/8000\r\n", host, host, net_addr_port(&lb));
	if (n < 0 || (size_t)n >= sizeof(sdp))
		die("sdp");
	ng_req_init(&q);
	q.cmd = NG_CMD_ANSWER;
	q.call_id = slice_cstr(cid);
	q.from_tag = SLICE_LIT("alice");
	q.to_tag = SLICE_LIT("bob");
	q.sdp = slice_cstr(sdp);
	q.ice = NG_ICE_REMOVE;
	ng_call(&q, &rep, out);
	if (rep.result != NG_RESULT_OK || rep.sdp.len == 0)
		die("answer refused");
	sdp_dest(rep.sdp, &c->dst);
	memset(&p, 0, sizeof(p));
	p.suite = SUITE_AES_CM_128_HMAC_SHA1_80;
	p.key = key;
	p.key_len = 16;
	p.salt = key + 16;
	p.salt_len = 14;
	if (dcert != NULL) {
		dtls_keys_for(c->tx, &c->dst, rep.sdp, &dk);
		p.suite = dk.suite;
		p.key = dk.tx;
		p.key_len = dk.key_len;
		p.salt = dk.tx + dk.key_len;
		p.salt_len = dk.salt_len;
	}
	ng_reply_release(&rep);
	buf_free(out);
	/* every packet of the run, encrypted now */
	if (!plain) {
		if ((ctx = rtpsec_new(&p, RTPSEC_PROTECT, NULL)) == NULL)
			die("rtpsec");
	}
	if ((c->pkts = malloc(npkts * SLOT)) == NULL)
		die("out of memory");
	for (size_t k = 0; k < npkts; k++) {
		uint8_t *b = c->pkts + k * SLOT + 2;
		uint16_t sq = (uint16_t)(seq0 + k);
		uint32_t ts = (uint32_t)k * 160;
		size_t len = PLAIN_LEN;

		b[0] = 0x80;
		b[1] = 0;
		b[2] = (uint8_t)(sq >> 8);
		b[3] = (uint8_t)sq;
		b[4] = (uint8_t)(ts >> 24);
		b[5] = (uint8_t)(ts >> 16);
		b[6] = (uint8_t)(ts >> 8);
		b[7] = (uint8_t)ts;
		b[8] = (uint8_t)(ssrc >> 24);
		b[9] = (uint8_t)(ssrc >> 16);
		b[10] = (uint8_t)(ssrc >> 8);
		b[11] = (uint8_t)ssrc;
		memset(b + 12, 0xd5, PAYLOAD);
		if (ctx != NULL && rtpsec_protect(ctx, b, &len, SLOT - 2) != 0)
			die("protect");
		c->pkts[k * SLOT] = (uint8_t)(len >> 8);
		c->pkts[k * SLOT + 1] = (uint8_t)len;
	}
	rtpsec_free(ctx);
}

static void
teardown(size_t i)
{
	char cid[64];
	struct ng_req q;
	struct ng_reply rep;
	struct buf *out = buf_new(65536);

	snprintf(cid, sizeof(cid), "bench-%zu-%ld", i, (long)getpid());
	ng_req_init(&q);
	q.cmd = NG_CMD_DELETE;
	q.call_id = slice_cstr(cid);
	q.from_tag = SLICE_LIT("alice");
	ng_call(&q, &rep, out);
	ng_reply_release(&rep);
	buf_free(out);
	close(calls[i].tx);
	close(calls[i].rx);
	free(calls[i].pkts);
}

/* ---- the receiver thread ---- */

static void *
receiver(void *arg)
{
	int ep = epoll_create1(0);
	struct epoll_event ev[256];
	static uint8_t bufs[NET_BATCH_MAX][2048];
	struct net_pkt p[NET_BATCH_MAX];

	(void)arg;
	pin(recv_cpu);
	for (size_t i = 0; i < ncalls; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.u64 = i };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, calls[i].rx, &e) != 0)
			die("epoll");
	}
	while (!done) {
		int n = epoll_wait(ep, ev, 256, 50);

		for (int k = 0; k < n; k++) {
			struct call *c = &calls[ev[k].data.u64];
			int got;

			for (size_t j = 0; j < NET_BATCH_MAX; j++) {
				p[j].buf = bufs[j];
				p[j].cap = sizeof(bufs[j]);
			}
			while ((got = net_recv_batch(c->rx, p, NET_BATCH_MAX))
			    > 0) {
				for (int j = 0; j < got; j++) {
					if (p[j].len == PLAIN_LEN) {
						c->got++;
						__atomic_add_fetch(&rx_total, 1,
						    __ATOMIC_RELAXED);
					} else {
						__atomic_add_fetch(&rx_bad, 1,
						    __ATOMIC_RELAXED);
					}
				}
				if (got < NET_BATCH_MAX)
					break;
			}
		}
	}
	close(ep);
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *ng = NULL, *local = "127.0.0.1", *dirs = "outside,inside";
	long pid = 0;
	double pps = 50, secs = 20;
	int plain = 0, c, derr = 0;
	char dout[32], din[32];
	struct net_addr la, any;
	pthread_t th;
	uint64_t npkts, total, sent = 0, t0, t1, k0, k1, v0, v1, i0, i1;
	uint64_t rb0, rb1, s0, s1;
	double cpu_us, setup_rate = 0;
	long hz = sysconf(_SC_CLK_TCK);

	while ((c = getopt(argc, argv, "n:p:l:c:r:s:d:PDH:a:")) != -1) {
		switch (c) {
		case 'n': ng = optarg; break;
		case 'p': pid = strtol(optarg, NULL, 10); break;
		case 'l': local = optarg; break;
		case 'c': ncalls = strtoul(optarg, NULL, 10); break;
		case 'r': pps = strtod(optarg, NULL); break;
		case 's': secs = strtod(optarg, NULL); break;
		case 'd': dirs = optarg; break;
		case 'P': plain = 1; break;
		case 'H': setup_rate = strtod(optarg, NULL); break;
		case 'D':
			if ((dcert = dtls_cert_new(&derr)) == NULL)
				die("DTLS certificate");
			break;
		case 'a':
			if (sscanf(optarg, "%d,%d", &send_cpu, &recv_cpu) != 2 ||
			    send_cpu < -1 || recv_cpu < -1 ||
			    send_cpu >= CPU_SETSIZE || recv_cpu >= CPU_SETSIZE)
				die("-a SEND_CPU,RECV_CPU: CPU numbers, or -1");
			break;
		default:
			fprintf(stderr, "usage: srtp-bridge -n NG -p PID [-l "
			    "LOCAL] [-c CALLS] [-r PPS] [-s SECONDS] "
			    "[-d OUT,IN] [-P | -D] [-H CALLS_PER_S] "
			    "[-a SEND_CPU,RECV_CPU]\n");
			return 2;
		}
	}
	if (ng == NULL || pid <= 0)
		die("need -n ADDR:PORT and -p PID");
	if (ncalls == 0)
		ncalls = 1000;
	{
		const char *comma = strchr(dirs, ',');

		if (comma == NULL || (size_t)(comma - dirs) >= sizeof(dout) ||
		    strlen(comma + 1) >= sizeof(din))
			die("-d OUT,IN");
		memcpy(dout, dirs, (size_t)(comma - dirs));
		dout[comma - dirs] = '\0';
		memcpy(din, comma + 1, strlen(comma + 1) + 1);
	}
	if (net_addr_parse(slice_cstr(ng), &ngaddr) != 0 ||
	    net_addr_parse_host(slice_cstr(local), 0, &la) != 0)
		die("bad address");
	any = la;
	ngfd = usock(&any);
	npkts = (uint64_t)(pps * secs) + 1;
	if ((calls = calloc(ncalls, sizeof(*calls))) == NULL)
		die("out of memory");
	s0 = ev_clock_ns();
	for (size_t i = 0; i < ncalls; i++) {
		/* -H: calls (with -D, handshakes) set up at this pace */
		while (setup_rate > 0 && (double)(ev_clock_ns() - s0) <
		    (double)i * 1e9 / setup_rate)
			usleep(1000);
		setup(i, &la, dout, din, plain, npkts);
	}
	s1 = ev_clock_ns();
	if (pthread_create(&th, NULL, receiver, NULL) != 0)
		die("thread");
	pin(send_cpu);
	total = npkts * ncalls;
	usleep(200000);
	k0 = proc_ticks(pid);
	proc_switches(pid, &v0, &i0);
	rb0 = udp_rcvbuf_errors();
	t0 = ev_clock_ns();
	/* round-robin over the calls at the aggregate rate */
	while (sent < total) {
		uint64_t now = ev_clock_ns() - t0;
		uint64_t due = (uint64_t)((double)now * pps * (double)ncalls /
		    1e9);
		struct timespec ts = { 0, 200000 };

		if (due > total)
			due = total;
		/* one call: batches of up to 64 with sendmmsg */
		while (ncalls == 1 && sent < due) {
			struct net_pkt v[NET_BATCH_MAX];
			size_t n = due - sent < NET_BATCH_MAX ? due - sent :
			    NET_BATCH_MAX;
			int r;

			for (size_t j = 0; j < n; j++) {
				uint8_t *b = calls[0].pkts + (sent + j) * SLOT;

				v[j].buf = b + 2;
				v[j].len = ((size_t)b[0] << 8) | b[1];
				v[j].addr = calls[0].dst;
			}
			r = net_send_batch(calls[0].tx, v, n);
			if (r <= 0) {
				send_err++;
				break;	/* buffer full: retry the rest later */
			}
			sent += (uint64_t)r;
		}
		while (sent < due) {
			struct call *cl = &calls[sent % ncalls];
			uint8_t *b = cl->pkts + (sent / ncalls) * SLOT;
			size_t len = ((size_t)b[0] << 8) | b[1];
			struct net_pkt p = { b + 2, 0, len, cl->dst, 0 };

			if (net_send(cl->tx, &p) != 0)
				send_err++;
			sent++;
		}
		nanosleep(&ts, NULL);
	}
	t1 = ev_clock_ns();
	usleep(500000);
	k1 = proc_ticks(pid);
	proc_switches(pid, &v1, &i1);
	rb1 = udp_rcvbuf_errors();
	done = 1;
	pthread_join(th, NULL);
	cpu_us = (double)(k1 - k0) * 1e6 / (double)hz;
	printf("calls=%zu pps_per_call=%.0f seconds=%.2f sent=%llu "
	    "received=%llu bad=%llu loss=%.4f%% offered_pps=%.0f "
	    "relay_cpu_s=%.2f relay_us_per_pkt=%.3f pkts_per_wakeup=%.1f "
	    "preempted=%llu udp_rcvbuf_errors=%llu send_err=%llu "
	    "setup_s=%.2f setups_per_s=%.0f\n",
	    ncalls, pps,
	    (double)(t1 - t0) / 1e9, (unsigned long long)sent,
	    (unsigned long long)rx_total, (unsigned long long)rx_bad,
	    sent ? 100.0 * (double)(sent - rx_total) / (double)sent : 0.0,
	    (double)sent * 1e9 / (double)(t1 - t0), cpu_us / 1e6,
	    rx_total ? cpu_us / (double)rx_total : 0.0,
	    (double)rx_total / (double)(v1 - v0 ? v1 - v0 : 1),
	    (unsigned long long)(i1 - i0), (unsigned long long)(rb1 - rb0),
	    (unsigned long long)send_err, (double)(s1 - s0) / 1e9,
	    s1 > s0 ? (double)ncalls * 1e9 / (double)(s1 - s0) : 0.0);
	for (size_t i = 0; i < ncalls; i++)
		teardown(i);
	free(calls);
	close(ngfd);
	return 0;
}
