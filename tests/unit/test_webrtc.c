/* test_webrtc.c - unit tests of srtp-bridge's WebRTC sides (lib/relay/
 * webrtc.c, calls_webrtc.c): SDPs of DTLS-SRTP and ICE-lite offers and
 * answers through calls_handle(), then a browser played by sockets on
 * loopback with lib/media's STUN and DTLS as its stack: checks answered,
 * nominations and a network change, a wrong password, the handshake in
 * both roles, SRTP <-> RTP with the exported keys, an ICE restart. */
#include <poll.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/ev.h"
#include "base/net.h"
#include "media/dtls.h"
#include "media/rtpsec.h"
#include "media/stun.h"
#include "ng/bencode.h"
#include "relay/calls.h"
#include "relay/calls_int.h"
#include "relay/relay.h"
#include "t.h"

#define OUT_HOST "127.0.0.1"
#define IN_HOST "127.0.0.2"
#define BROWSER "127.0.0.5"
#define BROWSER2 "127.0.0.6"
#define PHONE "127.0.0.7"

struct ctx {
	struct ev_loop *l;
	struct relay *r;
	struct calls *c;
	struct dtls_cert *cert;
	struct net_addr peer;
	unsigned seq;
	struct buf *out;
};

struct rep {
	struct bencode_doc *d;
	char result[32], reason[128];
	char sdp[8192];
};

static int
ctx_init_io(struct ctx *x, enum relay_io io)
{
	struct relay_config rc;
	struct calls_config cc;
	int e = 0;

	memset(x, 0, sizeof(*x));
	memset(&rc, 0, sizeof(rc));
	memset(&cc, 0, sizeof(cc));
	rc.io = io;
	if ((x->l = ev_new(NULL)) == NULL ||
	    (x->r = relay_new(x->l, &rc, NULL, &e)) == NULL ||
	    (x->cert = dtls_cert_new(&e)) == NULL)
		return -1;
	if (net_addr_parse_host(SLICE_LIT(OUT_HOST), 0, &cc.iface[0]) != 0 ||
	    net_addr_parse_host(SLICE_LIT(IN_HOST), 0, &cc.iface[1]) != 0 ||
	    net_addr_parse(SLICE_LIT("127.0.0.1:5555"), &x->peer) != 0)
		return -1;
	cc.cert = x->cert;
	if ((x->c = calls_new(x->r, x->l, &cc, NULL, &e)) == NULL)
		return -1;
	x->out = buf_new(65536);
	return x->out != NULL ? 0 : -1;
}

static int
ctx_init(struct ctx *x)
{
	return ctx_init_io(x, RELAY_IO_EPOLL);
}

static void
ctx_done(struct ctx *x)
{
	calls_free(x->c);
	relay_free(x->r);
	dtls_cert_free(x->cert);
	ev_free(x->l);
	buf_free(x->out);
}

static void
get_str(const struct bencode *dict, const char *key, char *dst, size_t n)
{
	const struct bencode *v = dict != NULL ?
	    bencode_dict_get(dict, key) : NULL;
	struct slice s = v != NULL ? bencode_str(v) : SLICE_NULL;
	size_t k = s.len < n - 1 ? s.len : n - 1;

	if (k > 0)
		memcpy(dst, s.p, k);
	dst[k] = '\0';
}

/* An ng request of key/value pairs ending with NULL; "[a,b]" is a list. */
static void
ng(struct ctx *x, struct rep *p, ...)
{
	struct buf *b = buf_new(16384);
	char cookie[32];
	const char *k, *v;
	struct slice reply, ck;
	va_list ap;
	int r;

	memset(p, 0, sizeof(*p));
	(void)snprintf(cookie, sizeof(cookie), "w%u ", ++x->seq);
	r = buf_append_cstr(b, cookie);
	if (r == 0)
		r = bencode_put_dict(b);
	va_start(ap, p);
	while (r == 0 && (k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (v[0] == '[') {
			struct slice l = slice_make(v + 1, strlen(v) - 2), it;

			r = bencode_put_klist(b, k);
			while (r == 0 && l.len > 0) {
				(void)slice_split(&l, ',', &it);
				r = bencode_put_str(b, it);
			}
			if (r == 0)
				r = bencode_put_end(b);
		} else {
			r = bencode_put_kcstr(b, k, v);
		}
	}
	va_end(ap);
	if (r == 0)
		r = bencode_put_end(b);
	buf_reset(x->out);
	if (r == 0 && calls_handle(x->c, buf_slice(b), &x->peer, x->out) == 0) {
		reply = buf_slice(x->out);
		if (slice_split(&reply, ' ', &ck) == 1 &&
		    bencode_parse(reply, NULL, &p->d, NULL) == 0) {
			const struct bencode *root = bencode_root(p->d);

			get_str(root, "result", p->result, sizeof(p->result));
			get_str(root, "error-reason", p->reason,
			    sizeof(p->reason));
			get_str(root, "sdp", p->sdp, sizeof(p->sdp));
		}
	}
	bencode_doc_free(p->d);
	p->d = NULL;
	buf_free(b);
}

static unsigned
count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* The value of the first "a=NAME:" line, into dst. */
static const char *
attr(const char *sdp, const char *name, char *dst, size_t n)
{
	char key[64];
	const char *p;
	size_t k = 0;

	snprintf(key, sizeof(key), "a=%s:", name);
	dst[0] = '\0';
	if ((p = strstr(sdp, key)) == NULL)
		return dst;
	p += strlen(key);
	while (p[k] != '\r' && p[k] != '\n' && p[k] != '\0' && k < n - 1)
		k++;
	memcpy(dst, p, k);
	dst[k] = '\0';
	return dst;
}

static unsigned long
port_of(const char *s, const char *type)
{
	char key[32];
	const char *m;

	snprintf(key, sizeof(key), "m=%s ", type);
	m = strstr(s, key);
	return m != NULL ? strtoul(m + strlen(key), NULL, 10) : 0;
}

/* A UDP socket bound on `host`, its address in *a. */
static int
sock(const char *host, struct net_addr *a)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	socklen_t l = sizeof(a->u);

	if (fd < 0 || net_addr_parse_host(slice_make(host, strlen(host)), 0,
	    a) != 0 || bind(fd, &a->u.sa, a->len) != 0 ||
	    getsockname(fd, &a->u.sa, &l) != 0)
		return -1;
	a->len = l;
	return fd;
}

/* Run the loop until `fd` has a datagram (or `ms` pass): its length. */
static ssize_t
recv_wait(struct ctx *x, int fd, uint8_t *b, size_t n, int ms)
{
	for (int i = 0; i < ms / 5; i++) {
		struct pollfd pf = { fd, POLLIN, 0 };
		ssize_t k;

		(void)ev_run_once(x->l, 5);
		if (poll(&pf, 1, 0) == 1 &&
		    (k = recv(fd, b, n, MSG_DONTWAIT)) >= 0)
			return k;
	}
	return -1;
}

static void
to(int fd, const struct net_addr *dst, const void *p, size_t n)
{
	(void)sendto(fd, p, n, 0, &dst->u.sa, dst->len);
}

/* A Binding request from the browser with USERNAME "ours:theirs". */
static size_t
check_req(uint8_t *out, const char *ours, const char *theirs,
    const char *pwd, int use)
{
	char user[600];
	uint8_t tid[12];

	for (int i = 0; i < 12; i++)
		tid[i] = (uint8_t)rand();
	snprintf(user, sizeof(user), "%s:%s", ours, theirs);
	return stun_binding_request(out, STUN_MAX, tid,
	    slice_make(user, strlen(user)), 1862270975u, 1, 42, use,
	    (const uint8_t *)pwd, strlen(pwd));
}

/* ---- the browser's DTLS ---- */

struct browser {
	int fd;
	struct net_addr dst;	/* our outside port */
	struct dtls *d;
};

static void
b_send(void *arg, const uint8_t *p, size_t len)
{
	struct browser *b = arg;

	to(b->fd, &b->dst, p, len);
}

/* Drive both ends until the browser's association is done or failed. */
static enum dtls_state
handshake(struct ctx *x, struct browser *b)
{
	uint8_t buf[4096];

	for (int i = 0; i < 100 && dtls_state(b->d) == DTLS_HANDSHAKE; i++) {
		ssize_t n = recv_wait(x, b->fd, buf, sizeof(buf), 50);

		if (n > 0 && buf[0] >= 20 && buf[0] <= 63)
			(void)dtls_input(b->d, buf, (size_t)n);
	}
	/* let our side take the browser's last flight */
	for (int i = 0; i < 10; i++)
		(void)ev_run_once(x->l, 5);
	return dtls_state(b->d);
}

static struct rtpsec *
ctx_of(const struct dtls_keys *k, const uint8_t *ks, enum rtpsec_dir dir)
{
	struct rtpsec_params p;
	int e = 0;

	memset(&p, 0, sizeof(p));
	p.suite = k->suite;
	p.key = ks;
	p.key_len = k->key_len;
	p.salt = ks + k->key_len;
	p.salt_len = k->salt_len;
	return rtpsec_new(&p, dir, &e);
}

static size_t
rtp_pkt(uint8_t *p, uint16_t seq)
{
	p[0] = 0x80;
	p[1] = 0;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	memset(p + 4, 0, 4);
	p[8] = 0xb1;
	p[9] = 0x0b;
	p[10] = 0x0b;
	p[11] = 0x0b;
	for (int i = 0; i < 160; i++)
		p[12 + i] = (uint8_t)(i ^ seq);
	return 172;
}

static const char *
browser_sdp(char *dst, size_t n, const struct net_addr *a, const char *fp,
    const char *setup, const char *ufrag, int video)
{
	char host[NET_ADDR_STRLEN];

	if (net_addr_format_host(a, host, sizeof(host)) != 0)
		return "";
	snprintf(dst, n, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
	    "a=group:BUNDLE 0%s\r\na=msid-semantic:WMS *\r\n"
	    "m=audio %u UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 %s\r\n"
	    "a=rtcp:9 IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\n"
	    "a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 "
	    "transport-cc\r\na=rtpmap:0 PCMU/8000\r\n"
	    "a=candidate:1 1 udp 2130706431 %s %u typ host\r\n"
	    "a=ice-ufrag:%s\r\na=ice-pwd:browserpasswordbrowserpw\r\n"
	    "a=fingerprint:sha-256 %s\r\na=setup:%s\r\n%s",
	    video ? " 1" : "", net_addr_port(a), host, host,
	    net_addr_port(a), ufrag, fp, setup, video ?
	    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n"
	    "a=mid:1\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n" : "");
	return dst;
}

static const char *
phone_sdp(char *dst, size_t n, const struct net_addr *a, int video)
{
	snprintf(dst, n, "v=0\r\no=- 2 2 IN IP4 " PHONE "\r\ns=-\r\n"
	    "c=IN IP4 " PHONE "\r\nt=0 0\r\nm=audio %u RTP/AVP 0\r\n"
	    "a=rtpmap:0 PCMU/8000\r\n%s", net_addr_port(a),
	    video ? "m=video 0 RTP/AVP 96\r\n" : "");
	return dst;
}

static void
test_browser_offers(void)
{
	struct ctx x;
	struct rep r;
	struct browser b;
	struct dtls_cert *bc;
	struct dtls_config dc;
	struct dtls_keys k;
	struct net_addr ba, b2a, pa, ours, ours_in;
	int pfd, b2fd, e = 0;
	char sdpbuf[4096], osdp[8192], v[256], ufrag[300], pwd[300];
	uint8_t pkt[2048];
	ssize_t n;
	size_t len;
	struct rtpsec *tx, *rx;
	struct webrtc_ctr wc;

	if (!T_OK(ctx_init(&x) == 0, "browser offers: set up"))
		return;
	bc = dtls_cert_new(&e);
	b.fd = sock(BROWSER, &ba);
	b2fd = sock(BROWSER2, &b2a);
	pfd = sock(PHONE, &pa);
	T_OK(bc != NULL && b.fd >= 0 && b2fd >= 0 && pfd >= 0,
	    "browser offers: sockets and the browser's certificate");
	/* Kamailio's flags towards the phone */
	ng(&x, &r, "command", "offer", "call-id", "w1", "from-tag", "br",
	    "sdp", browser_sdp(sdpbuf, sizeof(sdpbuf), &ba,
	    dtls_cert_fingerprint(bc), "actpass", "bUfR", 1),
	    "direction", "[outside,inside]", "ICE", "remove",
	    "transport-protocol", "RTP/AVP", "rtcp-mux", "[demux]", NULL);
	T_EQ_STR(r.result, "ok", "offer: ok");
	T_OK(strstr(r.sdp, "m=audio ") != NULL &&
	    strstr(r.sdp, " RTP/AVP 111 0\r\n") != NULL,
	    "offer to the phone: RTP/AVP");
	T_OK(count(r.sdp, "a=ice-") == 0 && count(r.sdp, "a=candidate") == 0
	    && count(r.sdp, "a=fingerprint") == 0 &&
	    count(r.sdp, "a=setup") == 0 && count(r.sdp, "a=rtcp-fb") == 0 &&
	    count(r.sdp, "a=rtcp-mux") == 0 && count(r.sdp, "a=group") == 0,
	    "offer to the phone: no ICE, DTLS, rtcp-fb, rtcp-mux, BUNDLE");
	T_EQ_INT(port_of(r.sdp, "video"), 0,
	    "offer: the second bundled line refused (port 0)");
	T_OK(strstr(r.sdp, "a=rtcp:") != NULL, "offer: rtcp-mux-demux: "
	    "an RTCP port");
	memcpy(osdp, r.sdp, sizeof(osdp));
	ours_in.len = 0;
	T_OK(net_addr_parse_host(SLICE_LIT(IN_HOST),
	    (uint16_t)port_of(osdp, "audio"), &ours_in) == 0,
	    "offer: our inside port");

	ng(&x, &r, "command", "answer", "call-id", "w1", "from-tag", "br",
	    "to-tag", "ph", "sdp", phone_sdp(sdpbuf, sizeof(sdpbuf), &pa, 1),
	    NULL);
	T_EQ_STR(r.result, "ok", "answer: ok");
	T_OK(strstr(r.sdp, " UDP/TLS/RTP/SAVPF 0\r\n") != NULL,
	    "answer to the browser: UDP/TLS/RTP/SAVPF, as offered");
	T_EQ_INT(count(r.sdp, "a=fingerprint:sha-256 "), 1,
	    "answer: one fingerprint");
	T_EQ_STR(attr(r.sdp, "fingerprint", v, sizeof(v)) + 8,
	    dtls_cert_fingerprint(x.cert), "answer: it is our certificate's");
	T_OK(strstr(r.sdp, "a=setup:passive\r\n") != NULL,
	    "answer to actpass: passive");
	T_OK(strstr(r.sdp, "a=ice-lite\r\n") != NULL &&
	    strstr(r.sdp, "a=end-of-candidates\r\n") != NULL,
	    "answer: ice-lite, end-of-candidates");
	T_OK(strstr(r.sdp, "a=rtcp-mux\r\n") != NULL, "answer: rtcp-mux");
	T_OK(strstr(r.sdp, "a=mid:0\r\n") != NULL &&
	    strstr(r.sdp, "a=group:BUNDLE 0\r\n") != NULL,
	    "answer: a=mid:0 and a BUNDLE of that one line");
	T_EQ_INT(port_of(r.sdp, "video"), 0, "answer: video refused");
	snprintf(v, sizeof(v), "a=candidate:1 1 UDP 2130706431 " OUT_HOST
	    " %lu typ host\r\n", port_of(r.sdp, "audio"));
	T_OK(strstr(r.sdp, v) != NULL, "answer: one host candidate, RFC "
	    "8445 priority, on the media port");
	T_EQ_INT(count(r.sdp, "a=candidate:"), 1, "answer: only one");
	attr(r.sdp, "ice-ufrag", ufrag, sizeof(ufrag));
	attr(r.sdp, "ice-pwd", pwd, sizeof(pwd));
	T_OK(strlen(ufrag) >= 4 && strlen(pwd) >= 22, "answer: our "
	    "ice-ufrag and ice-pwd");
	T_OK(net_addr_parse_host(SLICE_LIT(OUT_HOST),
	    (uint16_t)port_of(r.sdp, "audio"), &ours) == 0, "our port");

	/* ICE: a wrong password is dropped */
	len = check_req(pkt, ufrag, "bUfR", "wrongwrongwrongwrongwrong", 1);
	to(b.fd, &ours, pkt, len);
	n = recv_wait(&x, b.fd, pkt, sizeof(pkt), 200);
	T_EQ_INT(n, -1, "STUN with a wrong password: no answer");
	calls_webrtc_totals(x.c, &wc);
	T_EQ_INT(wc.ice_bad_auth, 1, "... counted");
	/* the right one, nominated */
	len = check_req(pkt, ufrag, "bUfR", pwd, 1);
	to(b.fd, &ours, pkt, len);
	n = recv_wait(&x, b.fd, pkt, sizeof(pkt), 500);
	{
		struct stun_msg m;

		T_OK(n > 0 && stun_parse(slice_make(pkt, (size_t)n), &m) == 0
		    && m.type == STUN_BINDING_SUCCESS &&
		    stun_check_integrity(slice_make(pkt, (size_t)n), &m,
		    (const uint8_t *)pwd, strlen(pwd)) == 0 &&
		    net_addr_eq(&m.mapped, &ba),
		    "STUN check answered: success, our integrity, "
		    "XOR-MAPPED-ADDRESS = the browser");
	}

	/* DTLS: the browser is active (the answer said passive) */
	memset(&dc, 0, sizeof(dc));
	dc.cert = bc;
	dc.role = DTLS_ACTIVE;
	T_OK(dtls_fp_parse(slice_make(v, 0), &dc.peer) != 0, "fp: empty "
	    "refused");
	{
		char fpv[128];

		snprintf(fpv, sizeof(fpv), "sha-256 %s",
		    dtls_cert_fingerprint(x.cert));
		T_OK(dtls_fp_parse(slice_make(fpv, strlen(fpv)), &dc.peer)
		    == 0, "browser: our fingerprint");
	}
	dc.send = b_send;
	dc.arg = &b;
	b.dst = ours;
	b.d = dtls_new(&dc, &e);
	T_OK(b.d != NULL && dtls_start(b.d) == 0, "browser: ClientHello");
	T_EQ_INT(handshake(&x, &b), DTLS_DONE, "handshake done");
	T_OK(dtls_srtp_keys(b.d, &k) == 0, "browser: keys");
	tx = ctx_of(&k, k.tx, RTPSEC_PROTECT);
	rx = ctx_of(&k, k.rx, RTPSEC_UNPROTECT);
	T_OK(tx != NULL && rx != NULL, "browser: SRTP contexts");
	calls_webrtc_totals(x.c, &wc);
	T_EQ_INT(wc.handshakes, 1, "one handshake counted");

	/* SRTP from the browser -> RTP at the phone */
	len = rtp_pkt(pkt, 1);
	T_OK(rtpsec_protect(tx, pkt, &len, sizeof(pkt)) == 0, "protect");
	to(b.fd, &ours, pkt, len);
	n = recv_wait(&x, pfd, pkt, sizeof(pkt), 500);
	{
		uint8_t want[200];

		T_EQ_MEM(pkt, n > 0 ? (size_t)n : 0, want, rtp_pkt(want, 1),
		    "browser SRTP -> phone: the same RTP, decrypted with "
		    "the exported keys");
	}
	/* RTP from the phone -> SRTP at the browser */
	len = rtp_pkt(pkt, 7);
	to(pfd, &ours_in, pkt, len);
	n = recv_wait(&x, b.fd, pkt, sizeof(pkt), 500);
	len = n > 0 ? (size_t)n : 0;
	T_OK(n > 0 && rtpsec_unprotect(rx, pkt, &len) == 0 && len == 172 &&
	    pkt[3] == 7, "phone RTP -> browser: SRTP it decrypts");

	/* a network change: a nominated check from a new address moves the
	 * media; no new DTLS needed (same keys) */
	len = check_req(pkt, ufrag, "bUfR", pwd, 1);
	to(b2fd, &ours, pkt, len);
	n = recv_wait(&x, b2fd, pkt, sizeof(pkt), 500);
	T_OK(n > 0, "check from the new address answered");
	len = rtp_pkt(pkt, 8);
	to(pfd, &ours_in, pkt, len);
	n = recv_wait(&x, b2fd, pkt, sizeof(pkt), 500);
	len = n > 0 ? (size_t)n : 0;
	T_OK(n > 0 && rtpsec_unprotect(rx, pkt, &len) == 0 && pkt[3] == 8,
	    "network change: media follow the new nominated pair");

	/* an ICE restart: a re-offer with a new ufrag keeps the call and
	 * gets new credentials */
	ng(&x, &r, "command", "offer", "call-id", "w1", "from-tag", "br",
	    "to-tag", "ph", "sdp", browser_sdp(sdpbuf, sizeof(sdpbuf), &b2a,
	    dtls_cert_fingerprint(bc), "actpass", "nEwU", 0),
	    "direction", "[outside,inside]", "ICE", "remove",
	    "transport-protocol", "RTP/AVP", "rtcp-mux", "[demux]", NULL);
	T_EQ_STR(r.result, "ok", "ICE restart re-offer: ok");
	T_EQ_INT(port_of(r.sdp, "audio"), port_of(osdp, "audio"),
	    "re-offer: the same inside port");
	ng(&x, &r, "command", "answer", "call-id", "w1", "from-tag", "br",
	    "to-tag", "ph", "sdp", phone_sdp(sdpbuf, sizeof(sdpbuf), &pa, 0),
	    NULL);
	T_EQ_STR(r.result, "ok", "ICE restart answer: ok");
	attr(r.sdp, "ice-ufrag", v, sizeof(v));
	T_OK(v[0] != '\0' && strcmp(v, ufrag) != 0,
	    "ICE restart: our ice-ufrag is new");
	T_OK(strstr(r.sdp, "a=setup:passive\r\n") != NULL,
	    "re-answer: still passive");
	/* the same DTLS keys still carry media */
	len = rtp_pkt(pkt, 2);
	T_OK(rtpsec_protect(tx, pkt, &len, sizeof(pkt)) == 0, "protect");
	to(b2fd, &ours, pkt, len);
	n = recv_wait(&x, pfd, pkt, sizeof(pkt), 500);
	T_OK(n == 172 && pkt[3] == 2, "after the restart: media still flow");

	rtpsec_free(tx);
	rtpsec_free(rx);
	dtls_free(b.d);
	dtls_cert_free(bc);
	close(b.fd);
	close(b2fd);
	close(pfd);
	ctx_done(&x);
}

/* The phone offers; we offer DTLS to the browser, which answers passive:
 * we are the client, and start once its check tells us where. */
static void
test_phone_offers(void)
{
	struct ctx x;
	struct rep r;
	struct browser b;
	struct dtls_cert *bc;
	struct dtls_config dc;
	struct net_addr ba, pa, ours;
	int pfd, e = 0;
	char sdpbuf[4096], ufrag[300], pwd[300], fpv[128];
	uint8_t pkt[2048];
	ssize_t n;
	size_t len;

	if (!T_OK(ctx_init(&x) == 0, "phone offers: set up"))
		return;
	bc = dtls_cert_new(&e);
	b.fd = sock(BROWSER, &ba);
	pfd = sock(PHONE, &pa);
	ng(&x, &r, "command", "offer", "call-id", "w2", "from-tag", "ph",
	    "sdp", phone_sdp(sdpbuf, sizeof(sdpbuf), &pa, 0),
	    "direction", "[inside,outside]", "ICE", "force",
	    "transport-protocol", "UDP/TLS/RTP/SAVPF", "rtcp-mux",
	    "[offer]", NULL);
	T_EQ_STR(r.result, "ok", "offer to the browser: ok");
	T_OK(strstr(r.sdp, " UDP/TLS/RTP/SAVPF 0\r\n") != NULL &&
	    strstr(r.sdp, "a=setup:actpass\r\n") != NULL &&
	    strstr(r.sdp, "a=rtcp-mux\r\n") != NULL &&
	    strstr(r.sdp, "a=ice-lite\r\n") != NULL &&
	    count(r.sdp, "a=fingerprint:sha-256 ") == 1 &&
	    count(r.sdp, "a=candidate:") == 1,
	    "offer: SAVPF, actpass, rtcp-mux, ice-lite, one fingerprint, "
	    "one candidate");
	attr(r.sdp, "ice-ufrag", ufrag, sizeof(ufrag));
	attr(r.sdp, "ice-pwd", pwd, sizeof(pwd));
	T_OK(net_addr_parse_host(SLICE_LIT(OUT_HOST),
	    (uint16_t)port_of(r.sdp, "audio"), &ours) == 0, "our port");
	ng(&x, &r, "command", "answer", "call-id", "w2", "from-tag", "ph",
	    "to-tag", "br", "sdp", browser_sdp(sdpbuf, sizeof(sdpbuf), &ba,
	    dtls_cert_fingerprint(bc), "passive", "bUfR", 0), NULL);
	T_EQ_STR(r.result, "ok", "answer: ok");
	T_OK(strstr(r.sdp, " RTP/AVP 111 0\r\n") != NULL &&
	    count(r.sdp, "a=fingerprint") == 0 && count(r.sdp, "a=ice") == 0 &&
	    count(r.sdp, "a=rtcp-fb") == 0 && count(r.sdp, "a=group") == 0,
	    "answer to the phone: RTP/AVP as it offered, no DTLS, ICE, "
	    "rtcp-fb, BUNDLE");

	memset(&dc, 0, sizeof(dc));
	dc.cert = bc;
	dc.role = DTLS_PASSIVE;
	snprintf(fpv, sizeof(fpv), "sha-256 %s",
	    dtls_cert_fingerprint(x.cert));
	T_OK(dtls_fp_parse(slice_make(fpv, strlen(fpv)), &dc.peer) == 0,
	    "browser: our fingerprint");
	dc.send = b_send;
	dc.arg = &b;
	b.dst = ours;
	b.d = dtls_new(&dc, &e);
	len = check_req(pkt, ufrag, "bUfR", pwd, 1);
	to(b.fd, &ours, pkt, len);
	n = recv_wait(&x, b.fd, pkt, sizeof(pkt), 500);
	T_OK(n > 0 && pkt[0] == 0x01, "check answered");
	n = recv_wait(&x, b.fd, pkt, sizeof(pkt), 500);
	T_OK(n > 13 && pkt[0] == 22 && pkt[13] == 1,
	    "we are active: our ClientHello follows the check");
	if (n > 0)
		(void)dtls_input(b.d, pkt, (size_t)n);
	T_EQ_INT(handshake(&x, &b), DTLS_DONE, "handshake done, we the "
	    "client");
	dtls_free(b.d);
	dtls_cert_free(bc);
	close(b.fd);
	close(pfd);
	ctx_done(&x);
}

/* A fingerprint that is not the browser's: no keys, counted. */
static void
test_fingerprint_mismatch(void)
{
	struct ctx x;
	struct rep r;
	struct browser b;
	struct dtls_cert *bc, *other;
	struct dtls_config dc;
	struct net_addr ba, pa, ours;
	struct webrtc_ctr wc;
	int pfd, e = 0;
	char sdpbuf[4096], fpv[128], ufrag[300], pwd[300];
	uint8_t pkt[2048];
	size_t len;

	if (!T_OK(ctx_init(&x) == 0, "mismatch: set up"))
		return;
	bc = dtls_cert_new(&e);
	other = dtls_cert_new(&e);
	b.fd = sock(BROWSER, &ba);
	pfd = sock(PHONE, &pa);
	ng(&x, &r, "command", "offer", "call-id", "w3", "from-tag", "br",
	    "sdp", browser_sdp(sdpbuf, sizeof(sdpbuf), &ba,
	    dtls_cert_fingerprint(other), "active", "bUfR", 0),
	    "direction", "[outside,inside]", "ICE", "remove",
	    "transport-protocol", "RTP/AVP", NULL);
	T_EQ_STR(r.result, "ok", "mismatch: offer ok");
	ng(&x, &r, "command", "answer", "call-id", "w3", "from-tag", "br",
	    "to-tag", "ph", "sdp", phone_sdp(sdpbuf, sizeof(sdpbuf), &pa, 0),
	    NULL);
	T_OK(strstr(r.sdp, "a=setup:passive\r\n") != NULL,
	    "answer to active: passive");
	attr(r.sdp, "ice-ufrag", ufrag, sizeof(ufrag));
	attr(r.sdp, "ice-pwd", pwd, sizeof(pwd));
	T_OK(net_addr_parse_host(SLICE_LIT(OUT_HOST),
	    (uint16_t)port_of(r.sdp, "audio"), &ours) == 0, "our port");
	memset(&dc, 0, sizeof(dc));
	dc.cert = bc;
	dc.role = DTLS_ACTIVE;
	snprintf(fpv, sizeof(fpv), "sha-256 %s",
	    dtls_cert_fingerprint(x.cert));
	T_OK(dtls_fp_parse(slice_make(fpv, strlen(fpv)), &dc.peer) == 0,
	    "browser: our fingerprint");
	dc.send = b_send;
	dc.arg = &b;
	b.dst = ours;
	b.d = dtls_new(&dc, &e);
	T_OK(b.d != NULL && dtls_start(b.d) == 0, "ClientHello");
	for (int i = 0; i < 20; i++)
		(void)ev_run_once(x.l, 5);
	calls_webrtc_totals(x.c, &wc);
	T_EQ_INT(wc.dtls_untrusted, 1, "DTLS before any ICE check from its "
	    "address: dropped, counted");
	dtls_free(b.d);
	len = check_req(pkt, ufrag, "bUfR", pwd, 1);
	to(b.fd, &ours, pkt, len);
	T_OK(recv_wait(&x, b.fd, pkt, sizeof(pkt), 500) > 0, "check answered");
	b.d = dtls_new(&dc, &e);
	T_OK(b.d != NULL && dtls_start(b.d) == 0, "ClientHello after it");
	(void)handshake(&x, &b);
	calls_webrtc_totals(x.c, &wc);
	T_EQ_INT(wc.fp_mismatch, 1, "fingerprint mismatch counted once");
	T_EQ_INT(wc.handshakes, 0, "no keys");
	/* a re-offer with the right fingerprint: the next ClientHello from
	 * the same address gets a new handshake, which succeeds */
	ng(&x, &r, "command", "offer", "call-id", "w3", "from-tag", "br",
	    "to-tag", "ph", "sdp", browser_sdp(sdpbuf, sizeof(sdpbuf), &ba,
	    dtls_cert_fingerprint(bc), "active", "bUfR", 0),
	    "direction", "[outside,inside]", "ICE", "remove",
	    "transport-protocol", "RTP/AVP", NULL);
	T_EQ_STR(r.result, "ok", "re-offer with the right fingerprint");
	dtls_free(b.d);
	b.d = dtls_new(&dc, &e);
	T_OK(b.d != NULL && dtls_start(b.d) == 0, "ClientHello again");
	T_EQ_INT(handshake(&x, &b), DTLS_DONE, "the new handshake succeeds");
	calls_webrtc_totals(x.c, &wc);
	T_EQ_INT(wc.handshakes, 1, "keys now");
	dtls_free(b.d);
	dtls_cert_free(bc);
	dtls_cert_free(other);
	close(b.fd);
	close(pfd);
	ctx_done(&x);
}

/* SDP only: flags DTLS=off, DTLS=passive, SDES towards the browser side,
 * a DTLS offer without a fingerprint. */
static void
test_flags(void)
{
	struct ctx x;
	struct rep r;
	struct net_addr ba;
	char sdpbuf[4096];

	if (!T_OK(ctx_init(&x) == 0, "flags: set up"))
		return;
	T_OK(net_addr_parse(SLICE_LIT(BROWSER ":40000"), &ba) == 0, "addr");
	ng(&x, &r, "command", "offer", "call-id", "f1", "from-tag", "a",
	    "sdp", browser_sdp(sdpbuf, sizeof(sdpbuf), &ba,
	    dtls_cert_fingerprint(x.cert),
	    "actpass", "bUfR", 0), "direction", "[outside,inside]", NULL);
	T_EQ_STR(r.result, "ok", "DTLS offer, no flags: ok");
	T_OK(strstr(r.sdp, " UDP/TLS/RTP/SAVPF ") != NULL &&
	    strstr(r.sdp, "a=setup:actpass") != NULL &&
	    strstr(r.sdp, "a=ice-lite") != NULL &&
	    strstr(r.sdp, "a=rtcp-fb:111") != NULL,
	    "... passed on as DTLS with ICE (ICE answers ICE), rtcp-fb kept");
	ng(&x, &r, "command", "answer", "call-id", "f1", "from-tag", "a",
	    "to-tag", "b", "sdp", "v=0\r\no=- 1 1 IN IP4 127.0.0.9\r\ns=-\r\n"
	    "c=IN IP4 127.0.0.9\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
	    "DTLS", "active", NULL);
	T_OK(strstr(r.sdp, "a=setup:active\r\n") != NULL &&
	    strstr(r.sdp, " UDP/TLS/RTP/SAVPF 0") != NULL,
	    "answer with DTLS=active to an actpass offer: setup:active");
	ng(&x, &r, "command", "offer", "call-id", "f2", "from-tag", "a",
	    "sdp", browser_sdp(sdpbuf, sizeof(sdpbuf), &ba,
	    dtls_cert_fingerprint(x.cert),
	    "actpass", "bUfR", 0), "direction", "[outside,inside]",
	    "DTLS", "off", "ICE", "remove", NULL);
	T_OK(strstr(r.sdp, " RTP/SAVPF ") != NULL &&
	    count(r.sdp, "a=crypto:") >= 1 && count(r.sdp, "a=setup") == 0
	    && count(r.sdp, "a=ice") == 0,
	    "DTLS=off: SDES (RTP/SAVPF, a=crypto) towards the recipient");
	ng(&x, &r, "command", "offer", "call-id", "f3", "from-tag", "a",
	    "sdp", "v=0\r\no=- 1 1 IN IP4 127.0.0.9\r\ns=-\r\nc=IN IP4 "
	    "127.0.0.9\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
	    "direction", "[inside,outside]", "DTLS", "passive",
	    "transport-protocol", "UDP/TLS/RTP/SAVP", NULL);
	T_OK(strstr(r.sdp, " UDP/TLS/RTP/SAVP 0") != NULL &&
	    strstr(r.sdp, "a=setup:passive") != NULL &&
	    count(r.sdp, "a=ice") == 0,
	    "DTLS=passive: setup:passive offered (RFC 8842); no ICE without "
	    "ICE=force");
	ng(&x, &r, "command", "offer", "call-id", "f4", "from-tag", "a",
	    "sdp", "v=0\r\no=- 1 1 IN IP4 127.0.0.9\r\ns=-\r\nc=IN IP4 "
	    "127.0.0.9\r\nt=0 0\r\nm=audio 4000 UDP/TLS/RTP/SAVP 0\r\n"
	    "a=setup:actpass\r\n", "direction", "[outside,inside]", NULL);
	T_EQ_STR(r.result, "error", "a DTLS offer without a fingerprint: "
	    "refused");
	T_OK(strstr(r.reason, "fingerprint") != NULL, "... saying why");
	ctx_done(&x);
}


/* The relay's first flight is lost: its retransmission timer (on the
 * loop, with either I/O engine) sends it again and the handshake ends. */
static void
test_lost_flight(enum relay_io io, const char *name)
{
	struct ctx x;
	struct rep r;
	struct browser b;
	struct dtls_cert *bc;
	struct dtls_config dc;
	struct net_addr ba, pa, ours;
	int pfd, e = 0, lost = 0;
	char sdpbuf[4096], fpv[128], ufrag[300], pwd[300];
	uint8_t pkt[4096];
	ssize_t n;
	size_t len;

	if (ctx_init_io(&x, io) != 0) {
		T_OK(1, "%s: not available here, skipped", name);
		ctx_done(&x);
		return;
	}
	bc = dtls_cert_new(&e);
	b.fd = sock(BROWSER, &ba);
	pfd = sock(PHONE, &pa);
	ng(&x, &r, "command", "offer", "call-id", "lf", "from-tag", "br",
	    "sdp", browser_sdp(sdpbuf, sizeof(sdpbuf), &ba,
	    dtls_cert_fingerprint(bc), "actpass", "bUfR", 0),
	    "direction", "[outside,inside]", "ICE", "remove",
	    "transport-protocol", "RTP/AVP", NULL);
	ng(&x, &r, "command", "answer", "call-id", "lf", "from-tag", "br",
	    "to-tag", "ph", "sdp", phone_sdp(sdpbuf, sizeof(sdpbuf), &pa, 0),
	    NULL);
	T_EQ_STR(r.result, "ok", "%s: offer and answer", name);
	attr(r.sdp, "ice-ufrag", ufrag, sizeof(ufrag));
	attr(r.sdp, "ice-pwd", pwd, sizeof(pwd));
	T_OK(net_addr_parse_host(SLICE_LIT(OUT_HOST),
	    (uint16_t)port_of(r.sdp, "audio"), &ours) == 0, "our port");
	len = check_req(pkt, ufrag, "bUfR", pwd, 1);
	to(b.fd, &ours, pkt, len);
	T_OK(recv_wait(&x, b.fd, pkt, sizeof(pkt), 500) > 0,
	    "%s: check answered", name);
	memset(&dc, 0, sizeof(dc));
	dc.cert = bc;
	dc.role = DTLS_ACTIVE;
	snprintf(fpv, sizeof(fpv), "sha-256 %s",
	    dtls_cert_fingerprint(x.cert));
	T_OK(dtls_fp_parse(slice_make(fpv, strlen(fpv)), &dc.peer) == 0,
	    "browser: our fingerprint");
	dc.send = b_send;
	dc.arg = &b;
	b.dst = ours;
	b.d = dtls_new(&dc, &e);
	T_OK(b.d != NULL && dtls_start(b.d) == 0, "%s: ClientHello", name);
	/* the first flight back is lost: every datagram of it, for 300 ms */
	while ((n = recv_wait(&x, b.fd, pkt, sizeof(pkt), 300)) > 0)
		lost++;
	T_OK(lost > 0, "%s: our first flight (%d datagrams) dropped", name,
	    lost);
	/* the retransmission (RTO 1 s) brings it again */
	n = recv_wait(&x, b.fd, pkt, sizeof(pkt), 2500);
	T_OK(n > 0 && pkt[0] == 22, "%s: our flight retransmitted by the "
	    "timer", name);
	if (n > 0)
		(void)dtls_input(b.d, pkt, (size_t)n);
	T_EQ_INT(handshake(&x, &b), DTLS_DONE, "%s: handshake done after "
	    "the loss", name);
	dtls_free(b.d);
	dtls_cert_free(bc);
	close(b.fd);
	close(pfd);
	ctx_done(&x);
}

/* A DTLS phone without ICE (RTP/SAVP keyed by DTLS, setup:active): the
 * first source is latched; ClientHellos from elsewhere start at most one
 * new association a second, and a stranger's cannot change the keys. */
static void
test_no_ice_phone(void)
{
	struct ctx x;
	struct rep r;
	struct browser b, evil[4];
	struct dtls_cert *bc, *ec;
	struct dtls_config dc;
	struct net_addr ba, pa, ours, ours_in, ea;
	struct webrtc_ctr wc;
	struct dtls_keys k;
	struct rtpsec *tx;
	int pfd, e = 0;
	char sdpbuf[4096], fpv[128], host[NET_ADDR_STRLEN];
	uint8_t pkt[2048], want[200];
	ssize_t n;
	size_t len;

	if (!T_OK(ctx_init(&x) == 0, "no-ICE phone: set up"))
		return;
	bc = dtls_cert_new(&e);
	ec = dtls_cert_new(&e);
	b.fd = sock(BROWSER, &ba);
	pfd = sock(PHONE, &pa);
	T_OK(net_addr_format_host(&ba, host, sizeof(host)) == 0, "host");
	snprintf(sdpbuf, sizeof(sdpbuf), "v=0\r\no=- 1 1 IN IP4 %s\r\n"
	    "s=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %u UDP/TLS/RTP/SAVP 0"
	    "\r\na=rtcp-mux\r\na=fingerprint:sha-256 %s\r\n"
	    "a=setup:active\r\n", host, host, net_addr_port(&ba),
	    dtls_cert_fingerprint(bc));
	ng(&x, &r, "command", "offer", "call-id", "ni", "from-tag", "ph",
	    "sdp", sdpbuf, "direction", "[outside,inside]",
	    "transport-protocol", "RTP/AVP", NULL);
	T_EQ_STR(r.result, "ok", "no-ICE DTLS offer: ok");
	T_OK(net_addr_parse_host(SLICE_LIT(IN_HOST),
	    (uint16_t)port_of(r.sdp, "audio"), &ours_in) == 0, "inside port");
	ng(&x, &r, "command", "answer", "call-id", "ni", "from-tag", "ph",
	    "to-tag", "b", "sdp", phone_sdp(sdpbuf, sizeof(sdpbuf), &pa, 0),
	    NULL);
	T_OK(strstr(r.sdp, " UDP/TLS/RTP/SAVP 0") != NULL &&
	    strstr(r.sdp, "a=setup:passive") != NULL &&
	    count(r.sdp, "a=ice") == 0 && count(r.sdp, "a=candidate") == 0,
	    "answer: UDP/TLS/RTP/SAVP, passive, no ICE (none offered)");
	T_OK(net_addr_parse_host(SLICE_LIT(OUT_HOST),
	    (uint16_t)port_of(r.sdp, "audio"), &ours) == 0, "our port");
	memset(&dc, 0, sizeof(dc));
	dc.cert = bc;
	dc.role = DTLS_ACTIVE;
	snprintf(fpv, sizeof(fpv), "sha-256 %s",
	    dtls_cert_fingerprint(x.cert));
	T_OK(dtls_fp_parse(slice_make(fpv, strlen(fpv)), &dc.peer) == 0,
	    "our fingerprint");
	dc.send = b_send;
	dc.arg = &b;
	b.dst = ours;
	b.d = dtls_new(&dc, &e);
	T_OK(b.d != NULL && dtls_start(b.d) == 0, "phone: ClientHello");
	T_EQ_INT(handshake(&x, &b), DTLS_DONE, "no-ICE handshake done");
	T_OK(dtls_srtp_keys(b.d, &k) == 0 &&
	    (tx = ctx_of(&k, k.tx, RTPSEC_PROTECT)) != NULL, "phone keys");
	/* strangers' ClientHellos, four at once */
	dc.cert = ec;
	for (int i = 0; i < 4; i++) {
		char h[32];

		snprintf(h, sizeof(h), "127.0.0.%d", 40 + i);
		evil[i].fd = sock(h, &ea);
		evil[i].dst = ours;
		dc.arg = &evil[i];
		evil[i].d = dtls_new(&dc, &e);
		T_OK(evil[i].d != NULL && dtls_start(evil[i].d) == 0,
		    "stranger %d: ClientHello", i);
	}
	for (int i = 0; i < 40; i++)
		(void)ev_run_once(x.l, 5);
	calls_webrtc_totals(x.c, &wc);
	T_EQ_INT(wc.dtls_untrusted, 3, "of 4 strangers' ClientHellos within "
	    "a second, 3 ignored (one new association a second)");
	/* the phone's keys still carry its media */
	len = rtp_pkt(pkt, 3);
	T_OK(rtpsec_protect(tx, pkt, &len, sizeof(pkt)) == 0, "protect");
	to(b.fd, &ours, pkt, len);
	n = recv_wait(&x, pfd, pkt, sizeof(pkt), 500);
	T_EQ_MEM(pkt, n > 0 ? (size_t)n : 0, want, rtp_pkt(want, 3),
	    "the phone's SRTP still decrypts: strangers changed no key");
	for (int i = 0; i < 4; i++) {
		dtls_free(evil[i].d);
		close(evil[i].fd);
	}
	rtpsec_free(tx);
	dtls_free(b.d);
	dtls_cert_free(bc);
	dtls_cert_free(ec);
	close(b.fd);
	close(pfd);
	ctx_done(&x);
}

/* An RTCP receiver report with no blocks (8 bytes). */
static size_t
rtcp_rr(uint8_t *p, uint32_t ssrc)
{
	p[0] = 0x80;
	p[1] = 201;
	p[2] = 0;
	p[3] = 1;
	p[4] = (uint8_t)(ssrc >> 24);
	p[5] = (uint8_t)(ssrc >> 16);
	p[6] = (uint8_t)(ssrc >> 8);
	p[7] = (uint8_t)ssrc;
	return 8;
}

/* The port of the first "a=rtcp:" line, else `rtp` + 1. */
static uint16_t
rtcp_port_of(const char *sdp, unsigned long rtp)
{
	char v[64];

	attr(sdp, "rtcp", v, sizeof(v));
	return (uint16_t)(v[0] != '\0' ? strtoul(v, NULL, 10) : rtp + 1);
}

/* How many lines of file `path` hold both `a` and `b`. */
static unsigned
lines_with(const char *path, const char *a, const char *b)
{
	char line[1024];
	unsigned n = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, a) != NULL && strstr(line, b) != NULL)
			n++;
	fclose(f);
	return n;
}

/*
 * A DTLS-SRTP phone without rtcp-mux (baresip's default `rtcp_mux no`
 * with mediaenc=dtls_srtp): a handshake on each component (RFC 5764 4.1),
 * the phone active (we are the server) or passive (we are the client and
 * send both ClientHellos). SRTP runs on the RTP association's keys and
 * SRTCP on the RTCP one's, both ways, to and from a plain phone; SRTCP
 * under the RTP keys is refused; the key log has the RTCP keys with the
 * RTCP addresses.
 */
static void
test_no_mux(int phone_active)
{
	struct ctx x;
	struct rep r;
	struct browser b[2];
	struct dtls_cert *bc;
	struct dtls_config dc;
	struct dtls_keys k[2];
	struct rtpsec *tx[2], *rx[2];
	struct net_addr ba[2], pa, pca, ours[2], ours_in[2];
	struct webrtc_ctr wc;
	struct relay_ctr rc;
	struct media *md;
	struct keylog *kl;
	int pfd, pcfd, e = 0;
	char sdpbuf[4096], fpv[128], host[NET_ADDR_STRLEN], nm[32];
	char klpath[] = "/tmp/test_webrtc_keylog.XXXXXX", sel[96], b64[128];
	uint8_t pkt[2048], want[200];
	unsigned long port;
	ssize_t n;
	size_t len;

	snprintf(nm, sizeof(nm), "no-mux, phone %s", phone_active ? "active" :
	    "passive");
	if (!T_OK(ctx_init(&x) == 0, "%s: set up", nm))
		return;
	if ((e = mkstemp(klpath)) >= 0)
		close(e);
	kl = keylog_open(klpath, &e);
	x.c->cfg.keylog = kl;
	bc = dtls_cert_new(&e);
	b[0].fd = sock(BROWSER, &ba[0]);
	b[1].fd = sock(BROWSER, &ba[1]);
	pfd = sock(PHONE, &pa);
	pcfd = sock(PHONE, &pca);
	T_OK(kl != NULL && bc != NULL && b[0].fd >= 0 && b[1].fd >= 0 &&
	    pfd >= 0 && pcfd >= 0 && net_addr_format_host(&ba[0], host,
	    sizeof(host)) == 0, "%s: sockets, key log", nm);
	snprintf(sdpbuf, sizeof(sdpbuf), "v=0\r\no=- 1 1 IN IP4 %s\r\n"
	    "s=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %u UDP/TLS/RTP/SAVP 0"
	    "\r\na=rtcp:%u\r\na=fingerprint:sha-256 %s\r\na=setup:%s\r\n",
	    host, host, net_addr_port(&ba[0]), net_addr_port(&ba[1]),
	    dtls_cert_fingerprint(bc), phone_active ? "active" : "passive");
	ng(&x, &r, "command", "offer", "call-id", "nm", "from-tag", "ph",
	    "sdp", sdpbuf, "direction", "[outside,inside]",
	    "transport-protocol", "RTP/AVP", NULL);
	T_EQ_STR(r.result, "ok", "%s: offer ok", nm);
	port = port_of(r.sdp, "audio");
	T_OK(net_addr_parse_host(SLICE_LIT(IN_HOST), (uint16_t)port,
	    &ours_in[0]) == 0 && net_addr_parse_host(SLICE_LIT(IN_HOST),
	    rtcp_port_of(r.sdp, port), &ours_in[1]) == 0, "inside ports");
	snprintf(sdpbuf, sizeof(sdpbuf), "v=0\r\no=- 2 2 IN IP4 " PHONE
	    "\r\ns=-\r\nc=IN IP4 " PHONE "\r\nt=0 0\r\nm=audio %u RTP/AVP 0"
	    "\r\na=rtcp:%u\r\na=rtpmap:0 PCMU/8000\r\n", net_addr_port(&pa),
	    net_addr_port(&pca));
	ng(&x, &r, "command", "answer", "call-id", "nm", "from-tag", "ph",
	    "to-tag", "b", "sdp", sdpbuf, NULL);
	T_EQ_STR(r.result, "ok", "%s: answer ok", nm);
	T_OK(strstr(r.sdp, " UDP/TLS/RTP/SAVP 0") != NULL &&
	    strstr(r.sdp, phone_active ? "a=setup:passive" :
	    "a=setup:active") != NULL && count(r.sdp, "a=rtcp-mux") == 0,
	    "%s: answer: DTLS, the other role, no rtcp-mux", nm);
	port = port_of(r.sdp, "audio");
	T_OK(net_addr_parse_host(SLICE_LIT(OUT_HOST), (uint16_t)port,
	    &ours[0]) == 0 && net_addr_parse_host(SLICE_LIT(OUT_HOST),
	    rtcp_port_of(r.sdp, port), &ours[1]) == 0, "outside ports");

	/* the phone: one association per component, the same certificate */
	memset(&dc, 0, sizeof(dc));
	dc.cert = bc;
	dc.role = phone_active ? DTLS_ACTIVE : DTLS_PASSIVE;
	snprintf(fpv, sizeof(fpv), "sha-256 %s",
	    dtls_cert_fingerprint(x.cert));
	T_OK(dtls_fp_parse(slice_make(fpv, strlen(fpv)), &dc.peer) == 0,
	    "our fingerprint");
	dc.send = b_send;
	for (int c = 0; c < 2; c++) {
		dc.arg = &b[c];
		b[c].dst = ours[c];
		b[c].d = dtls_new(&dc, &e);
		T_OK(b[c].d != NULL && (!phone_active ||
		    dtls_start(b[c].d) == 0), "%s: phone %s association", nm,
		    c ? "RTCP" : "RTP");
	}
	for (int c = 0; c < 2; c++) {
		T_EQ_INT(handshake(&x, &b[c]), DTLS_DONE, "%s: %s handshake "
		    "done", nm, c ? "RTCP" : "RTP");
		memset(&k[c], 0, sizeof(k[c]));
		T_OK(dtls_srtp_keys(b[c].d, &k[c]) == 0, "%s: %s keys", nm,
		    c ? "RTCP" : "RTP");
		tx[c] = ctx_of(&k[c], k[c].tx, RTPSEC_PROTECT);
		rx[c] = ctx_of(&k[c], k[c].rx, RTPSEC_UNPROTECT);
	}
	T_OK(tx[0] != NULL && rx[0] != NULL && tx[1] != NULL &&
	    rx[1] != NULL && memcmp(k[0].tx, k[1].tx, sizeof(k[0].tx)) != 0,
	    "%s: two sets of keys", nm);
	calls_webrtc_totals(x.c, &wc);
	T_EQ_INT(wc.handshakes, 2, "%s: two handshakes counted", nm);
	T_EQ_INT(wc.rtcp_handshakes, 1, "%s: one of them on RTCP", nm);
	{
		struct call *cl = call_find(x.c, SLICE_LIT("nm"));

		md = cl != NULL && cl->br != NULL && cl->br->nm > 0 ?
		    cl->br->m[0] : NULL;
	}
	T_OK(md != NULL && webrtc_keyed(md->w[0]) &&
	    webrtc_rtcp_keyed(md->w[0]) &&
	    relay_side_is_rtcp_apart(md->rs, 0) &&
	    relay_side_has_rtcp_key(md->rs, 0, RTPSEC_UNPROTECT) &&
	    relay_side_has_rtcp_key(md->rs, 0, RTPSEC_PROTECT),
	    "%s: the outside side's SRTCP keyed apart", nm);

	/* SRTP (RTP keys) -> RTP */
	len = rtp_pkt(pkt, 5);
	T_OK(rtpsec_protect(tx[0], pkt, &len, sizeof(pkt)) == 0, "protect");
	to(b[0].fd, &ours[0], pkt, len);
	n = recv_wait(&x, pfd, pkt, sizeof(pkt), 500);
	T_EQ_MEM(pkt, n > 0 ? (size_t)n : 0, want, rtp_pkt(want, 5),
	    "%s: SRTP -> the plain phone's RTP", nm);
	/* SRTCP under the RTP keys: refused */
	len = rtcp_rr(pkt, 0xb10b0b0b);
	T_OK(rtpsec_protect_rtcp(tx[0], pkt, &len, sizeof(pkt)) == 0,
	    "protect RTCP with the RTP keys");
	to(b[1].fd, &ours[1], pkt, len);
	n = recv_wait(&x, pcfd, pkt, sizeof(pkt), 200);
	T_EQ_INT(n, -1, "%s: SRTCP under the RTP association's keys: "
	    "dropped", nm);
	/* SRTCP (RTCP keys) -> RTCP */
	len = rtcp_rr(pkt, 0xb10b0b0b);
	T_OK(rtpsec_protect_rtcp(tx[1], pkt, &len, sizeof(pkt)) == 0,
	    "protect RTCP");
	to(b[1].fd, &ours[1], pkt, len);
	n = recv_wait(&x, pcfd, pkt, sizeof(pkt), 500);
	T_EQ_MEM(pkt, n > 0 ? (size_t)n : 0, want, rtcp_rr(want,
	    0xb10b0b0b), "%s: SRTCP under the RTCP association's keys -> "
	    "the plain phone's RTCP port, in clear", nm);
	relay_side_counters(md->rs, 0, RELAY_RTCP, &rc);
	T_EQ_INT(rc.auth, 1, "%s: the wrong one counted (auth)", nm);
	/* RTP -> SRTP (RTP keys); RTCP -> SRTCP (RTCP keys) */
	len = rtp_pkt(pkt, 9);
	to(pfd, &ours_in[0], pkt, len);
	n = recv_wait(&x, b[0].fd, pkt, sizeof(pkt), 500);
	len = n > 0 ? (size_t)n : 0;
	T_OK(n > 0 && rtpsec_unprotect(rx[0], pkt, &len) == 0 && len == 172
	    && pkt[3] == 9, "%s: RTP -> SRTP the phone decrypts", nm);
	len = rtcp_rr(pkt, 0x70707070);
	to(pcfd, &ours_in[1], pkt, len);
	n = recv_wait(&x, b[1].fd, pkt, sizeof(pkt), 500);
	len = n > 0 ? (size_t)n : 0;
	{
		uint8_t copy[2048];
		size_t l2 = len;

		memcpy(copy, pkt, len);
		T_OK(n > 0 && rtpsec_unprotect_rtcp(rx[0], copy, &l2) != 0,
		    "%s: our SRTCP is not under the RTP keys", nm);
	}
	T_OK(n > 0 && rtpsec_unprotect_rtcp(rx[1], pkt, &len) == 0 &&
	    len == 8 && pkt[4] == 0x70, "%s: RTCP -> SRTCP under the RTCP "
	    "association's keys, at the phone's RTCP port", nm);

	/* the key log: the RTCP keys, with the RTCP addresses */
	T_OK(b64_encode(k[1].tx, k[1].key_len + k[1].salt_len, b64,
	    sizeof(b64)) > 0, "b64");
	snprintf(sel, sizeof(sel), "dst=" OUT_HOST ":%u",
	    net_addr_port(&ours[1]));
	T_EQ_INT(lines_with(klpath, sel, b64), 1, "%s: key log: the phone's "
	    "SRTCP key, to our RTCP port", nm);
	T_OK(b64_encode(k[1].rx, k[1].key_len + k[1].salt_len, b64,
	    sizeof(b64)) > 0, "b64");
	snprintf(sel, sizeof(sel), "src=" OUT_HOST ":%u",
	    net_addr_port(&ours[1]));
	T_EQ_INT(lines_with(klpath, sel, b64), 1, "%s: key log: our SRTCP "
	    "key, from our RTCP port", nm);

	for (int c = 0; c < 2; c++) {
		rtpsec_free(tx[c]);
		rtpsec_free(rx[c]);
		dtls_free(b[c].d);
		close(b[c].fd);
	}
	dtls_cert_free(bc);
	close(pfd);
	close(pcfd);
	ctx_done(&x);
	keylog_free(kl);
	(void)unlink(klpath);
}

/* rtpsec parameters of a fixed AES_CM_128_HMAC_SHA1_80 key (`seed`). */
static void
fixed_key(struct rtpsec_params *p, uint8_t *ks, uint8_t seed)
{
	for (int i = 0; i < 30; i++)
		ks[i] = (uint8_t)(seed + i * 7);
	memset(p, 0, sizeof(*p));
	p->suite = SUITE_AES_CM_128_HMAC_SHA1_80;
	p->key = ks;
	p->key_len = 16;
	p->salt = ks + 16;
	p->salt_len = 14;
}

/*
 * The relay alone: an SRTP side (no rtcp-mux) whose SRTCP is keyed apart
 * (relay_side_rtcp_apart()): RTCP is nokey until its keys come, whatever
 * the RTP keys, and RTP is untouched; then its own keys both ways; rtcp-mux
 * switched on drops them.
 */
static void
test_rtcp_apart(void)
{
	struct ctx x;
	struct relay *r;
	struct relay_stream *st;
	struct relay_config rc;
	struct rtpsec_params kp, kq;
	struct rtpsec *tx, *rx, *tx2, *rx2;
	struct net_addr h0, h1, a[4], l0rtp, l0rtcp, l1rtcp;
	struct relay_ctr c0, c1;
	uint8_t ks[30], kq_s[30], pkt[2048], want[200];
	int fd[4], e = 0;
	ssize_t n;
	size_t len;

	memset(&x, 0, sizeof(x));
	memset(&rc, 0, sizeof(rc));
	rc.io = RELAY_IO_EPOLL;
	x.l = ev_new(NULL);
	r = x.l != NULL ? relay_new(x.l, &rc, NULL, &e) : NULL;
	st = r != NULL ? relay_stream_new(r, NULL) : NULL;
	fd[0] = sock(BROWSER, &a[0]);	/* side 0's party: RTP, RTCP */
	fd[1] = sock(BROWSER, &a[1]);
	fd[2] = sock(PHONE, &a[2]);	/* side 1's (plain) */
	fd[3] = sock(PHONE, &a[3]);
	if (!T_OK(st != NULL && fd[0] >= 0 && fd[1] >= 0 && fd[2] >= 0 &&
	    fd[3] >= 0 && net_addr_parse_host(SLICE_LIT(OUT_HOST), 0, &h0)
	    == 0 && net_addr_parse_host(SLICE_LIT(IN_HOST), 0, &h1) == 0 &&
	    relay_side_open(st, 0, &h0, 0, 0) == 0 &&
	    relay_side_open(st, 1, &h1, 0, 0) == 0 &&
	    relay_side_local(st, 0, RELAY_RTP, &l0rtp) == 0 &&
	    relay_side_local(st, 0, RELAY_RTCP, &l0rtcp) == 0 &&
	    relay_side_local(st, 1, RELAY_RTCP, &l1rtcp) == 0,
	    "rtcp apart: relay, stream, sockets"))
		goto out;
	relay_side_set_peer(st, 0, &a[0], &a[1]);
	relay_side_set_peer(st, 1, &a[2], &a[3]);
	relay_side_set_srtp(st, 0, 1);
	fixed_key(&kp, ks, 1);
	fixed_key(&kq, kq_s, 99);
	T_OK(relay_side_set_key(st, 0, RTPSEC_UNPROTECT, &kp) == 1 &&
	    relay_side_set_key(st, 0, RTPSEC_PROTECT, &kp) == 1,
	    "rtcp apart: the RTP keys");
	T_EQ_INT(relay_side_set_rtcp_key(st, 0, RTPSEC_UNPROTECT, &kq),
	    E_STATE, "rtcp apart: an RTCP key before apart: E_STATE");
	tx = rtpsec_new(&kp, RTPSEC_PROTECT, &e);
	rx = rtpsec_new(&kp, RTPSEC_UNPROTECT, &e);
	tx2 = rtpsec_new(&kq, RTPSEC_PROTECT, &e);
	rx2 = rtpsec_new(&kq, RTPSEC_UNPROTECT, &e);
	T_OK(tx != NULL && rx != NULL && tx2 != NULL && rx2 != NULL,
	    "contexts");
	/* not apart: SRTCP under the RTP keys passes */
	len = rtcp_rr(pkt, 1);
	T_OK(rtpsec_protect_rtcp(tx, pkt, &len, sizeof(pkt)) == 0, "protect");
	to(fd[1], &l0rtcp, pkt, len);
	n = recv_wait(&x, fd[3], pkt, sizeof(pkt), 500);
	T_EQ_MEM(pkt, n > 0 ? (size_t)n : 0, want, rtcp_rr(want, 1),
	    "rtcp apart off: SRTCP under the RTP keys -> RTCP");
	/* apart, no RTCP keys yet: nokey both ways, RTP unchanged */
	relay_side_rtcp_apart(st, 0, 1);
	T_OK(relay_side_is_rtcp_apart(st, 0), "apart");
	len = rtcp_rr(pkt, 1);
	T_OK(rtpsec_protect_rtcp(tx, pkt, &len, sizeof(pkt)) == 0, "protect");
	to(fd[1], &l0rtcp, pkt, len);
	len = rtcp_rr(pkt, 3);
	to(fd[3], &l1rtcp, pkt, len);
	n = recv_wait(&x, fd[3], pkt, sizeof(pkt), 200);
	T_EQ_INT(n, -1, "rtcp apart, no RTCP key: SRTCP under the RTP keys "
	    "not taken");
	n = recv_wait(&x, fd[1], pkt, sizeof(pkt), 100);
	T_EQ_INT(n, -1, "... nor RTCP sent under them");
	relay_side_counters(st, 0, RELAY_RTCP, &c0);
	relay_side_counters(st, 1, RELAY_RTCP, &c1);
	T_OK(c0.nokey == 1 && c1.nokey == 1, "... both counted nokey "
	    "(%llu, %llu)", (unsigned long long)c0.nokey,
	    (unsigned long long)c1.nokey);
	len = rtp_pkt(pkt, 4);
	T_OK(rtpsec_protect(tx, pkt, &len, sizeof(pkt)) == 0, "protect");
	to(fd[0], &l0rtp, pkt, len);
	n = recv_wait(&x, fd[2], pkt, sizeof(pkt), 500);
	T_EQ_MEM(pkt, n > 0 ? (size_t)n : 0, want, rtp_pkt(want, 4),
	    "rtcp apart: RTP still under the RTP keys");
	/* the RTCP keys: SRTCP under them, both ways */
	T_OK(relay_side_set_rtcp_key(st, 0, RTPSEC_UNPROTECT, &kq) == 0 &&
	    relay_side_set_rtcp_key(st, 0, RTPSEC_PROTECT, &kq) == 0 &&
	    relay_side_has_rtcp_key(st, 0, RTPSEC_PROTECT),
	    "rtcp apart: its keys");
	len = rtcp_rr(pkt, 5);
	T_OK(rtpsec_protect_rtcp(tx2, pkt, &len, sizeof(pkt)) == 0,
	    "protect");
	to(fd[1], &l0rtcp, pkt, len);
	n = recv_wait(&x, fd[3], pkt, sizeof(pkt), 500);
	T_EQ_MEM(pkt, n > 0 ? (size_t)n : 0, want, rtcp_rr(want, 5),
	    "rtcp apart: SRTCP under its keys -> RTCP");
	len = rtcp_rr(pkt, 6);
	to(fd[3], &l1rtcp, pkt, len);
	n = recv_wait(&x, fd[1], pkt, sizeof(pkt), 500);
	len = n > 0 ? (size_t)n : 0;
	T_OK(n > 0 && rtpsec_unprotect_rtcp(rx2, pkt, &len) == 0 && len == 8
	    && pkt[7] == 6, "rtcp apart: RTCP -> SRTCP under its keys");
	/* rtcp-mux on: back to the RTP keys, the RTCP ones dropped */
	T_OK(relay_side_set_mux(st, 0, 1) == 0 &&
	    !relay_side_is_rtcp_apart(st, 0) &&
	    !relay_side_has_rtcp_key(st, 0, RTPSEC_PROTECT) &&
	    !relay_side_has_rtcp_key(st, 0, RTPSEC_UNPROTECT),
	    "rtcp-mux on: not apart, RTCP keys dropped");
	rtpsec_free(tx);
	rtpsec_free(rx);
	rtpsec_free(tx2);
	rtpsec_free(rx2);
out:
	for (int i = 0; i < 4; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	relay_free(r);
	ev_free(x.l);
}

/*
 * We offer DTLS-SRTP with ICE (ICE=force) to a DTLS phone that does
 * neither ICE nor rtcp-mux (baresip): it answers active and starts both
 * handshakes as soon as it has our offer, before its answer reaches us,
 * from sources no check has vouched for. They are kept, fed when the
 * answer (without ICE) comes, and the handshakes finish at once, not
 * after its first retransmission (1 s).
 */
static void
test_early_no_ice_answer(void)
{
	struct ctx x;
	struct rep r;
	struct browser b[2];
	struct dtls_cert *bc;
	struct dtls_config dc;
	struct net_addr ba[2], pa, ours[2];
	struct webrtc_ctr wc;
	int pfd, e = 0;
	char sdpbuf[4096], fpv[128], host[NET_ADDR_STRLEN];
	unsigned long port;
	uint64_t t0, t1;

	if (!T_OK(ctx_init(&x) == 0, "early, no ICE answer: set up"))
		return;
	bc = dtls_cert_new(&e);
	b[0].fd = sock(BROWSER, &ba[0]);
	b[1].fd = sock(BROWSER, &ba[1]);
	pfd = sock(PHONE, &pa);
	T_OK(bc != NULL && b[0].fd >= 0 && b[1].fd >= 0 && pfd >= 0 &&
	    net_addr_format_host(&ba[0], host, sizeof(host)) == 0, "sockets");
	ng(&x, &r, "command", "offer", "call-id", "en", "from-tag", "ph",
	    "sdp", phone_sdp(sdpbuf, sizeof(sdpbuf), &pa, 0),
	    "direction", "[inside,outside]", "ICE", "force",
	    "transport-protocol", "UDP/TLS/RTP/SAVP", NULL);
	T_OK(strcmp(r.result, "ok") == 0 && count(r.sdp, "a=ice-ufrag") == 1
	    && count(r.sdp, "a=rtcp-mux") == 0, "offer: DTLS with ICE, no "
	    "rtcp-mux");
	port = port_of(r.sdp, "audio");
	T_OK(net_addr_parse_host(SLICE_LIT(OUT_HOST), (uint16_t)port,
	    &ours[0]) == 0 && net_addr_parse_host(SLICE_LIT(OUT_HOST),
	    rtcp_port_of(r.sdp, port), &ours[1]) == 0, "outside ports");
	memset(&dc, 0, sizeof(dc));
	dc.cert = bc;
	dc.role = DTLS_ACTIVE;
	snprintf(fpv, sizeof(fpv), "sha-256 %s",
	    dtls_cert_fingerprint(x.cert));
	T_OK(dtls_fp_parse(slice_make(fpv, strlen(fpv)), &dc.peer) == 0,
	    "our fingerprint");
	dc.send = b_send;
	for (int c = 0; c < 2; c++) {
		dc.arg = &b[c];
		b[c].dst = ours[c];
		b[c].d = dtls_new(&dc, &e);
		T_OK(b[c].d != NULL && dtls_start(b[c].d) == 0, "ClientHello "
		    "%d before the answer", c);
	}
	for (int i = 0; i < 10; i++)
		(void)ev_run_once(x.l, 5);
	snprintf(sdpbuf, sizeof(sdpbuf), "v=0\r\no=- 1 1 IN IP4 %s\r\n"
	    "s=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %u UDP/TLS/RTP/SAVP 0"
	    "\r\na=rtcp:%u\r\na=fingerprint:sha-256 %s\r\na=setup:active\r\n",
	    host, host, net_addr_port(&ba[0]), net_addr_port(&ba[1]),
	    dtls_cert_fingerprint(bc));
	t0 = ev_now_ms(x.l);
	ng(&x, &r, "command", "answer", "call-id", "en", "from-tag", "ph",
	    "to-tag", "bs", "sdp", sdpbuf, NULL);
	T_EQ_STR(r.result, "ok", "answer without ICE: ok");
	for (int c = 0; c < 2; c++)
		T_EQ_INT(handshake(&x, &b[c]), DTLS_DONE, "handshake %d done",
		    c);
	(void)ev_run_once(x.l, 0);
	t1 = ev_now_ms(x.l);
	T_OK(t1 - t0 < 800, "... at once (%llu ms), not after a "
	    "retransmission", (unsigned long long)(t1 - t0));
	calls_webrtc_totals(x.c, &wc);
	T_OK(wc.dtls_early >= 2 && wc.dtls_untrusted == 0 &&
	    wc.handshakes == 2 && wc.rtcp_handshakes == 1, "kept early (%llu),"
	    " none refused (%llu), two handshakes (%llu)",
	    (unsigned long long)wc.dtls_early,
	    (unsigned long long)wc.dtls_untrusted,
	    (unsigned long long)wc.handshakes);
	for (int c = 0; c < 2; c++) {
		dtls_free(b[c].d);
		close(b[c].fd);
	}
	dtls_cert_free(bc);
	close(pfd);
	ctx_done(&x);
}

/* SDES <-> DTLS: the phone offers RTP/SAVP with its a=crypto, the browser
 * gets DTLS-SRTP with ICE, answers active; SRTP with the phone's SDES key
 * reaches the browser as SRTP under the DTLS keys, and back. */
static void
test_sdes_to_dtls(void)
{
	struct ctx x;
	struct rep r;
	struct browser b;
	struct dtls_cert *bc;
	struct dtls_config dc;
	struct dtls_keys k;
	struct net_addr ba, pa, ours, ours_in;
	struct rtpsec_params pp;
	struct rtpsec *ptx, *prx, *btx, *brx;
	int pfd, e = 0;
	char sdpbuf[4096], fpv[128], ufrag[300], pwd[300], k64[64], v[256];
	char line[128];
	uint8_t pkt[2048], key[30];
	ssize_t n;
	size_t len;

	if (!T_OK(ctx_init(&x) == 0, "SDES<->DTLS: set up"))
		return;
	bc = dtls_cert_new(&e);
	b.fd = sock(BROWSER, &ba);
	pfd = sock(PHONE, &pa);
	for (int i = 0; i < 30; i++)
		key[i] = (uint8_t)(i * 7 + 1);
	T_OK(b64_encode(key, sizeof(key), k64, sizeof(k64)) > 0, "key");
	snprintf(sdpbuf, sizeof(sdpbuf), "v=0\r\no=- 2 2 IN IP4 " PHONE
	    "\r\ns=-\r\nc=IN IP4 " PHONE "\r\nt=0 0\r\nm=audio %u RTP/SAVP 0"
	    "\r\na=rtpmap:0 PCMU/8000\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 "
	    "inline:%s\r\n", net_addr_port(&pa), k64);
	ng(&x, &r, "command", "offer", "call-id", "sd", "from-tag", "ph",
	    "sdp", sdpbuf, "direction", "[inside,outside]", "ICE", "force",
	    "transport-protocol", "UDP/TLS/RTP/SAVPF", "rtcp-mux",
	    "[require]", NULL);
	T_EQ_STR(r.result, "ok", "SDES offer to a DTLS recipient: ok");
	T_OK(strstr(r.sdp, " UDP/TLS/RTP/SAVPF 0") != NULL &&
	    count(r.sdp, "a=crypto") == 0 &&
	    count(r.sdp, "a=fingerprint:sha-256 ") == 1,
	    "offer: DTLS, no a=crypto");
	attr(r.sdp, "ice-ufrag", ufrag, sizeof(ufrag));
	attr(r.sdp, "ice-pwd", pwd, sizeof(pwd));
	T_OK(net_addr_parse_host(SLICE_LIT(OUT_HOST),
	    (uint16_t)port_of(r.sdp, "audio"), &ours) == 0, "our port");
	ng(&x, &r, "command", "answer", "call-id", "sd", "from-tag", "ph",
	    "to-tag", "br", "sdp", browser_sdp(sdpbuf, sizeof(sdpbuf), &ba,
	    dtls_cert_fingerprint(bc), "active", "bUfR", 0), NULL);
	T_EQ_STR(r.result, "ok", "answer: ok");
	T_OK(strstr(r.sdp, " RTP/SAVP 111 0") != NULL &&
	    count(r.sdp, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") == 1 &&
	    count(r.sdp, "a=fingerprint") == 0,
	    "answer to the phone: RTP/SAVP as offered, one a=crypto, no DTLS");
	attr(r.sdp, "crypto", v, sizeof(v));
	T_OK(net_addr_parse_host(SLICE_LIT(IN_HOST),
	    (uint16_t)port_of(r.sdp, "audio"), &ours_in) == 0, "inside port");
	/* the phone's contexts: its key out, ours (from the answer) in */
	memset(&pp, 0, sizeof(pp));
	pp.suite = SUITE_AES_CM_128_HMAC_SHA1_80;
	pp.key = key;
	pp.key_len = 16;
	pp.salt = key + 16;
	pp.salt_len = 14;
	ptx = rtpsec_new(&pp, RTPSEC_PROTECT, &e);
	{
		uint8_t ok[64];
		const char *in = strstr(v, "inline:");
		size_t kl = 0;

		snprintf(line, sizeof(line), "%s", in != NULL ? in + 7 : "");
		line[strcspn(line, "|\r\n")] = '\0';
		int dl = b64_decode(slice_make(line, strlen(line)), ok,
		    sizeof(ok));

		kl = dl > 0 ? (size_t)dl : 0;
		T_OK(kl == 30, "our SDES key to the phone");
		pp.key = ok;
		pp.salt = ok + 16;
		prx = rtpsec_new(&pp, RTPSEC_UNPROTECT, &e);
	}
	/* the browser: check, handshake as the client */
	len = check_req(pkt, ufrag, "bUfR", pwd, 1);
	to(b.fd, &ours, pkt, len);
	T_OK(recv_wait(&x, b.fd, pkt, sizeof(pkt), 500) > 0, "check answered");
	memset(&dc, 0, sizeof(dc));
	dc.cert = bc;
	dc.role = DTLS_ACTIVE;
	snprintf(fpv, sizeof(fpv), "sha-256 %s",
	    dtls_cert_fingerprint(x.cert));
	T_OK(dtls_fp_parse(slice_make(fpv, strlen(fpv)), &dc.peer) == 0,
	    "our fingerprint");
	dc.send = b_send;
	dc.arg = &b;
	b.dst = ours;
	b.d = dtls_new(&dc, &e);
	T_OK(b.d != NULL && dtls_start(b.d) == 0, "ClientHello");
	T_EQ_INT(handshake(&x, &b), DTLS_DONE, "handshake done");
	T_OK(dtls_srtp_keys(b.d, &k) == 0, "browser keys");
	btx = ctx_of(&k, k.tx, RTPSEC_PROTECT);
	brx = ctx_of(&k, k.rx, RTPSEC_UNPROTECT);
	/* phone SDES -> browser DTLS */
	len = rtp_pkt(pkt, 5);
	T_OK(ptx != NULL && rtpsec_protect(ptx, pkt, &len, sizeof(pkt)) == 0,
	    "phone: protect with its SDES key");
	to(pfd, &ours_in, pkt, len);
	n = recv_wait(&x, b.fd, pkt, sizeof(pkt), 500);
	len = n > 0 ? (size_t)n : 0;
	T_OK(n > 0 && brx != NULL && rtpsec_unprotect(brx, pkt, &len) == 0 &&
	    len == 172 && pkt[3] == 5,
	    "SDES SRTP from the phone -> DTLS-keyed SRTP at the browser");
	/* browser DTLS -> phone SDES */
	len = rtp_pkt(pkt, 6);
	T_OK(btx != NULL && rtpsec_protect(btx, pkt, &len, sizeof(pkt)) == 0,
	    "browser: protect");
	to(b.fd, &ours, pkt, len);
	n = recv_wait(&x, pfd, pkt, sizeof(pkt), 500);
	len = n > 0 ? (size_t)n : 0;
	T_OK(n > 0 && prx != NULL && rtpsec_unprotect(prx, pkt, &len) == 0 &&
	    len == 172 && pkt[3] == 6,
	    "DTLS-keyed SRTP from the browser -> SDES SRTP at the phone");
	rtpsec_free(ptx);
	rtpsec_free(prx);
	rtpsec_free(btx);
	rtpsec_free(brx);
	dtls_free(b.d);
	dtls_cert_free(bc);
	close(b.fd);
	close(pfd);
	ctx_done(&x);
}

/* An SDES phone that offers ICE (a full agent), answered with ICE=remove
 * (a plain Kamailio set-up): no ICE back, and media go to its SDP address
 * before it sends anything. */
static void
test_ice_removed_in_answer(void)
{
	struct ctx x;
	struct rep r;
	struct net_addr ba, pa, ours_in;
	int bfd, pfd;
	char sdpbuf[4096], host[NET_ADDR_STRLEN];
	uint8_t pkt[2048];
	ssize_t n;
	size_t len;

	if (!T_OK(ctx_init(&x) == 0, "ICE removed: set up"))
		return;
	bfd = sock(BROWSER, &ba);
	pfd = sock(PHONE, &pa);
	T_OK(net_addr_format_host(&ba, host, sizeof(host)) == 0, "host");
	snprintf(sdpbuf, sizeof(sdpbuf), "v=0\r\no=- 1 1 IN IP4 %s\r\n"
	    "s=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %u RTP/AVP 0\r\n"
	    "a=ice-ufrag:lInU\r\na=ice-pwd:linphonepasswordlinphone\r\n"
	    "a=candidate:1 1 UDP 2130706431 %s %u typ host\r\n", host, host,
	    net_addr_port(&ba), host, net_addr_port(&ba));
	ng(&x, &r, "command", "offer", "call-id", "ir", "from-tag", "ln",
	    "sdp", sdpbuf, "direction", "[outside,inside]", "ICE", "remove",
	    NULL);
	T_EQ_STR(r.result, "ok", "ICE offer: ok");
	T_OK(net_addr_parse_host(SLICE_LIT(IN_HOST),
	    (uint16_t)port_of(r.sdp, "audio"), &ours_in) == 0, "inside port");
	ng(&x, &r, "command", "answer", "call-id", "ir", "from-tag", "ln",
	    "to-tag", "b", "sdp", phone_sdp(sdpbuf, sizeof(sdpbuf), &pa, 0),
	    "ICE", "remove", NULL);
	T_OK(count(r.sdp, "a=ice") == 0 && count(r.sdp, "a=candidate") == 0,
	    "answer with ICE=remove: no ICE to the offerer");
	len = rtp_pkt(pkt, 9);
	to(pfd, &ours_in, pkt, len);
	n = recv_wait(&x, bfd, pkt, sizeof(pkt), 500);
	T_OK(n == 172 && pkt[3] == 9, "media go to the offerer's SDP address "
	    "at once");
	close(bfd);
	close(pfd);
	ctx_done(&x);
}

int
main(void)
{
	test_flags();
	test_browser_offers();
	test_phone_offers();
	test_fingerprint_mismatch();
	test_no_ice_phone();
	test_no_mux(1);
	test_no_mux(0);
	test_rtcp_apart();
	test_early_no_ice_answer();
	test_sdes_to_dtls();
	test_ice_removed_in_answer();
	test_lost_flight(RELAY_IO_EPOLL, "lost flight, epoll");
	test_lost_flight(RELAY_IO_URING, "lost flight, io_uring");
	return t_done();
}
