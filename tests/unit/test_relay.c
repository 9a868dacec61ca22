/* test_relay.c - unit tests for lib/relay (plain streams, drops, peers),
 * lib/uio (io_uring batches) and keylog_params (MKI, flags). */
#include <string.h>
#include <unistd.h>

#include "base/ev.h"
#include "media/keylog.h"
#include "base/net.h"
#include "relay/relay.h"
#include "t.h"

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

/* Run the loop until `fd` has a datagram or ~1 s passed. */
static int
recv_via(struct ev_loop *l, int fd, uint8_t *b, size_t cap, size_t *len)
{
	for (int i = 0; i < 100; i++) {
		struct net_pkt p = { b, cap, 0, { .len = 0 }, 0 };

		(void)ev_run_once(l, 10);
		if (net_recv(fd, &p) == 0) {
			*len = p.len;
			return 0;
		}
	}
	return -1;
}

/* With `second`, another relay took the loop's waiter first: this one
 * watches its ring through an eventfd. */
static void
test_plain(enum relay_io io, int second)
{
	struct ev_loop *l = ev_new(NULL);
	struct relay_config rc;
	struct relay *r, *r0 = NULL;
	struct relay_stream *s;
	struct net_addr host, sa, sb, loc0, loc1;
	int a, b, e;
	uint8_t pkt[172], got[2048];
	size_t len = 0;
	struct relay_ctr k;
	const char *name = io == RELAY_IO_URING ? (second ? "uring, second" :
	    "uring") : "epoll";

	memset(&rc, 0, sizeof(rc));
	rc.io = io;
	if (second)
		r0 = relay_new(l, &rc, NULL, &e);
	r = relay_new(l, &rc, NULL, &e);
	if (r == NULL && io == RELAY_IO_URING) {
		T_OK(1, "# skip io_uring not available here");
		relay_free(r0);
		ev_free(l);
		return;
	}
	T_OK(r != NULL, "%s: relay_new", name);
	s = relay_stream_new(r, NULL);
	T_EQ_INT(net_addr_parse_host(SLICE_LIT("127.0.0.1"), 0, &host), 0,
	    "host");
	T_EQ_INT(relay_side_open(s, 0, &host, 0, 1), 0, "%s: open side 0",
	    name);
	T_EQ_INT(relay_side_open(s, 1, &host, 0, 0), 0, "%s: open side 1",
	    name);
	T_EQ_INT(relay_side_open(s, 1, &host, 0, 0), E_STATE, "open twice");
	T_OK(relay_side_local(s, 0, 0, &loc0) == 0 &&
	    relay_side_local(s, 1, 0, &loc1) == 0, "locals");
	a = udp(&sa);
	b = udp(&sb);
	relay_side_set_peer(s, 1, &sb, NULL);	/* b is side 1's peer */
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x80;
	pkt[11] = 1;
	memset(pkt + 12, 'x', 160);
	/* a -> side 0 -> side 1 -> b, unchanged */
	T_OK(net_send(a, &(struct net_pkt){ pkt, 0, sizeof(pkt), loc0, 0 })
	    == 0, "send");
	T_OK(recv_via(l, b, got, sizeof(got), &len) == 0 &&
	    len == sizeof(pkt) && memcmp(got, pkt, len) == 0,
	    "%s: plain RTP forwarded as is", name);
	/* side 0 learned a (no peer was given), so b -> a works */
	pkt[3] = 1;
	T_OK(net_send(b, &(struct net_pkt){ pkt, 0, sizeof(pkt), loc1, 0 })
	    == 0, "send back");
	T_OK(recv_via(l, a, got, sizeof(got), &len) == 0 && len ==
	    sizeof(pkt), "%s: learned the unknown plain peer", name);
	/* version 1 and a truncated header are dropped and counted */
	pkt[0] = 0x40;
	T_OK(net_send(a, &(struct net_pkt){ pkt, 0, sizeof(pkt), loc0, 0 })
	    == 0, "send bad");
	T_OK(net_send(a, &(struct net_pkt){ pkt, 0, 5, loc0, 0 }) == 0,
	    "send short");
	T_OK(recv_via(l, b, got, sizeof(got), &len) != 0,
	    "%s: malformed not forwarded", name);
	relay_side_counters(s, 0, RELAY_RTP, &k);
	T_EQ_INT(k.malformed, 2, "%s: malformed counted", name);
	T_EQ_INT(k.fwd_pkts, 1, "%s: forwarded counted", name);
	/* SRTP side without keys: dropped quietly as nokey */
	relay_side_set_srtp(s, 0, 1);
	pkt[0] = 0x80;
	T_OK(net_send(a, &(struct net_pkt){ pkt, 0, sizeof(pkt), loc0, 0 })
	    == 0, "send early");
	T_OK(recv_via(l, b, got, sizeof(got), &len) != 0,
	    "%s: no key, nothing forwarded", name);
	relay_side_counters(s, 0, RELAY_RTP, &k);
	T_EQ_INT(k.nokey, 1, "%s: nokey counted", name);
	T_EQ_INT(relay_nstreams(r), 1, "one stream");
	relay_stream_free(s);
	T_EQ_INT(relay_nstreams(r), 0, "stream freed");
	relay_totals(r, &k, &(struct relay_ctr){ 0 });
	T_EQ_INT(k.malformed, 2, "totals keep freed streams' counters");
	relay_free(r);
	relay_free(r0);
	close(a);
	close(b);
	ev_free(l);
}

static void
test_keylog_params(void)
{
	struct keyline *kl = NULL;
	struct keylog_keys k;
	const struct rtpsec_params *pp = &k.p;
	char why[100] = "";

	T_EQ_INT(keyline_parse(SLICE_LIT("AES_CM_128_HMAC_SHA1_80 inline:"
	    "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31|258:2 "
	    "UNENCRYPTED_SRTCP"), &kl, NULL, 0), 0, "parse");
	T_EQ_INT(keylog_params(kl, &k), 0, "params");
	T_OK(pp->suite == SUITE_AES_CM_128_HMAC_SHA1_80 && pp->key_len == 16 &&
	    pp->salt_len == 14 && pp->salt == pp->key + 16, "suite, key, salt");
	T_OK(pp->mki_len == 2 && pp->mki[0] == 1 && pp->mki[1] == 2,
	    "MKI 258:2 is 0x01 0x02 on the wire");
	T_OK(pp->lifetime == (1ull << 31) && pp->nmore == 0,
	    "lifetime 2^31, one key");
	T_EQ_INT(pp->flags, RTPSEC_UNENCRYPTED_SRTCP, "session parameter");
	keyline_free(kl);
	kl = NULL;
	/* RFC 4568 multi-key line: every key, MKI and lifetime */
	T_EQ_INT(keyline_parse(SLICE_LIT("AES_CM_128_HMAC_SHA1_80 inline:"
	    "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4;"
	    "inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIz|2:4"), &kl,
	    NULL, 0), 0, "parse two keys");
	T_EQ_INT(keylog_params(kl, &k), 0, "params of two keys");
	T_OK(pp->nmore == 1 && pp->more != NULL && pp->mki_len == 4 &&
	    pp->mki[3] == 1 && pp->more[0].mki[3] == 2 &&
	    pp->more[0].mki[0] == 0 && pp->lifetime == (1ull << 20) &&
	    pp->more[0].lifetime == 0 &&
	    memcmp(pp->more[0].key, "ABCDEFGHIJKLMNOP", 16) == 0 &&
	    memcmp(pp->more[0].salt, "QRSTUVWXYZ0123", 14) == 0,
	    "key 1: its own key, salt and MKI 2:4, no lifetime");
	keyline_free(kl);
	kl = NULL;
	T_EQ_INT(keyline_parse(SLICE_LIT("AES_CM_128_HMAC_SHA1_80 inline:"
	    "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|1:4;"
	    "inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIz|2:2"), &kl,
	    NULL, 0), 0, "parse keys with MKIs of different lengths");
	T_EQ_INT(keylog_params(kl, &k), E_KEY, "MKI lengths differ: E_KEY");
	keyline_free(kl);
	kl = NULL;
	T_EQ_INT(keyline_parse(SLICE_LIT("AES_CM_128_HMAC_SHA1_80 inline:"
	    "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz KDR=0 WSH=256"), &kl,
	    NULL, 0), 0, "parse KDR=0 WSH=256");
	T_EQ_INT(keylog_params(kl, &k), 0, "KDR=0 is no rate: usable");
	keyline_free(kl);
	kl = NULL;
	T_EQ_INT(keyline_parse(SLICE_LIT("AES_CM_128_HMAC_SHA1_80 inline:"
	    "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz KDR=16"), &kl,
	    NULL, 0), 0, "parse KDR=16");
	T_EQ_INT(keylog_params(kl, &k), E_UNSUPPORTED,
	    "KDR=16: E_UNSUPPORTED, not silently wrong keys later");
	T_EQ_INT(keylog_check(kl, why, sizeof(why)), E_UNSUPPORTED,
	    "keylog_check agrees");
	T_EQ_STR(why, "KDR=16: key derivation rate not supported",
	    "... and says why");
	keyline_free(kl);
}

int
main(void)
{
	test_plain(RELAY_IO_EPOLL, 0);
	test_plain(RELAY_IO_URING, 0);
	test_plain(RELAY_IO_URING, 1);
	test_keylog_params();
	return t_done();
}
