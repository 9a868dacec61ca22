/* fuzz_webrtc_sdp.c - libFuzzer target for the WebRTC part of srtp-bridge's
 * call table (lib/relay/calls_webrtc.c): the input is an SDP, offered from
 * outside with Kamailio's flags towards a plain inside, then answered
 * with itself, then the call deleted; fingerprints, setup roles, ICE
 * credentials, a=mid and BUNDLE groups of any shape. Sockets are opened
 * only for an SDP that parses (a few per input). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/ev.h"
#include "base/net.h"
#include "media/dtls.h"
#include "ng/bencode.h"
#include "relay/calls.h"
#include "relay/relay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ev_loop *loop;
static struct relay *relay;
static struct calls *calls;
static struct dtls_cert *cert;
static struct buf *req, *out;

static void
init(void)
{
	struct relay_config rc;
	struct calls_config cc;
	int e = 0;

	memset(&rc, 0, sizeof(rc));
	memset(&cc, 0, sizeof(cc));
	rc.io = RELAY_IO_EPOLL;
	if ((loop = ev_new(NULL)) == NULL ||
	    (relay = relay_new(loop, &rc, NULL, &e)) == NULL ||
	    (cert = dtls_cert_new(&e)) == NULL ||
	    net_addr_parse_host(SLICE_LIT("127.0.0.1"), 0, &cc.iface[0]) != 0
	    || net_addr_parse_host(SLICE_LIT("127.0.0.1"), 0, &cc.iface[1])
	    != 0)
		abort();
	cc.cert = cert;
	if ((calls = calls_new(relay, loop, &cc, NULL, &e)) == NULL ||
	    (req = buf_new(200000)) == NULL || (out = buf_new(200000)) == NULL)
		abort();
}

/* One request: command, the SDP (or none), and Kamailio's flags. */
static void
one(const char *cmd, struct slice sdp, int offer)
{
	static unsigned long seq;
	struct net_addr peer;
	char cookie[32];
	int r;

	/* a fresh cookie each time: the reply cache would answer a repeat */
	snprintf(cookie, sizeof(cookie), "f%lu ", ++seq);
	buf_reset(req);
	buf_reset(out);
	r = buf_append_cstr(req, cookie);
	if (r == 0)
		r = bencode_put_dict(req);
	if (r == 0)
		r = bencode_put_kcstr(req, "command", cmd);
	if (r == 0)
		r = bencode_put_kcstr(req, "call-id", "fuzz");
	if (r == 0)
		r = bencode_put_kcstr(req, "from-tag", "a");
	if (r == 0 && !offer)
		r = bencode_put_kcstr(req, "to-tag", "b");
	if (r == 0 && sdp.len > 0)
		r = bencode_put_kstr(req, "sdp", sdp);
	if (r == 0 && offer)
		r = bencode_put_kcstr(req, "transport-protocol", "RTP/AVP");
	if (r == 0)
		r = bencode_put_kcstr(req, "ICE", offer ? "remove" : "force");
	if (r == 0)
		r = bencode_put_end(req);
	if (r != 0 || net_addr_parse(SLICE_LIT("127.0.0.1:9"), &peer) != 0)
		return;
	(void)calls_handle(calls, buf_slice(req), &peer, out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice sdp = slice_make(data, size);

	if (calls == NULL)
		init();
	one("offer", sdp, 1);
	one("answer", sdp, 0);
	one("delete", SLICE_NULL, 0);
	(void)ev_run_once(loop, 0);
	return 0;
}
