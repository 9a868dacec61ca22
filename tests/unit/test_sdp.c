/* test_sdp.c - unit tests for the SDP parser/writer and the SBC rewrites. */
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "media/keyline.h"
#include "media/sdp.h"
#include "media/sdprw.h"
#include "t.h"

#define K1 "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
#define K2 "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"

/* baresip 1.0's offer (refs/clients.md) */
static const char baresip[] =
    "v=0\r\n"
    "o=- 1234 5678 IN IP4 127.0.0.10\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.10\r\n"
    "t=0 0\r\n"
    "m=audio 10002 RTP/SAVP 0 101\r\n"
    "b=AS:64\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=sendrecv\r\n"
    "a=label:1\r\n"
    "a=ssrc:1148382390 cname:9a1b2c3d\r\n"
    "a=rtcp-rsize\r\n"
    "a=ptime:20\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" K1 "\r\n";

static const char webrtc[] =
    "v=0\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\n"
    "s=-\n"
    "t=0 0\n"
    "a=group:BUNDLE 0 1\n"
    "a=ice-options:trickle\n"
    "a=fingerprint:sha-256 AA:BB:CC\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\n"
    "c=IN IP6 2001:db8::5\n"
    "a=rtcp:9 IN IP6 ::\n"
    "a=candidate:1 1 udp 2122260223 192.0.2.3 54321 typ host\n"
    "a=end-of-candidates\n"
    "a=ice-ufrag:abcd\n"
    "a=ice-pwd:0123456789012345678901\n"
    "a=setup:actpass\n"
    "a=mid:0\n"
    "a=sendrecv\n"
    "a=rtcp-mux\n"
    "a=rtpmap:111 opus/48000/2\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\n"
    "c=IN IP6 2001:db8::5\n"
    "a=setup:actpass\n"
    "a=mid:1\n"
    "a=rtcp-mux\n"
    "a=rtpmap:96 VP8/90000\n"
    "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\n"
    "c=IN IP6 2001:db8::5\n";

static char why[160];

static struct sdp *
parse(const char *body)
{
	struct sdp *s = NULL;
	struct sdp_error e;
	int r = sdp_parse(slice_cstr(body), &s, &e);

	if (r != 0)
		printf("# parse: line %u: %s\n", e.line, e.reason);
	return s;
}

static void
write_eq(const struct sdp *s, const char *want, const char *name)
{
	struct buf *b = buf_new(SDP_MAX_LEN * 2);

	T_EQ_INT(sdp_write(s, b), 0, "%s: write", name);
	T_EQ_STR(buf_str(b), want, "%s", name);
	buf_free(b);
}

static void
test_identity(void)
{
	static const char *bodies[] = {
		baresip, webrtc,
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\nt=0 0",	/* mixed, no end */
		"v=0\r\ns=x\r\nm=audio 0 RTP/AVP 0\r\n\r\n\r\n",	/* blank end */
		"v=0\nx=unknown line kept\na=weird  spacing :x\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct sdp *s = parse(bodies[i]);

		T_OK(s != NULL, "body %zu parses", i);
		if (s != NULL)
			write_eq(s, bodies[i], "unchanged body is identical");
		sdp_free(s);
	}
}

static void
bad(const char *body, unsigned line, const char *reason, int code)
{
	struct sdp *s = NULL;
	struct sdp_error e;
	int r = sdp_parse(slice_cstr(body), &s, &e);

	T_EQ_INT(r, code, "rejects: %s", reason);
	T_EQ_INT(e.line, line, "line of: %s", reason);
	T_EQ_STR(e.reason, reason, "reason");
	T_OK(s == NULL, "nothing returned");
}

static void
test_errors(void)
{
	bad("", 1, "empty body", E_SYNTAX);
	bad("s=x\r\n", 1, "first line is not v=", E_SYNTAX);
	bad("v=1\r\n", 1, "unsupported version v=1", E_SYNTAX);
	bad("v=0\r\ns=x\r\nm=audio 70000 RTP/AVP 0\r\n", 3,
	    "bad m= line: bad port", E_SYNTAX);
	bad("v=0\r\nm=audio 5004 RTP/AVP\r\n", 2, "bad m= line: no formats",
	    E_SYNTAX);
	bad("v=0\r\nm=audio\r\n", 2,
	    "bad m= line: want 'media port proto fmt ...'", E_SYNTAX);
	bad("v=0\r\nc=IN IP5 1.2.3.4\r\n", 2,
	    "bad c= line: want 'IN IP4|IP6 ADDR'", E_SYNTAX);
	bad("v=0\r\no=- 1 IN IP4 x\r\n", 2,
	    "bad o= line: want 6 fields, got 5", E_SYNTAX);
	bad("v=0\r\ns=x\r\n\r\nt=0 0\r\n", 3, "empty line", E_SYNTAX);
	bad("v=0\r\nhello\r\n", 2, "expected 'x=' at start of line", E_SYNTAX);
	bad("v=0\r\ns=a\rb\r\n", 2, "stray CR in line", E_SYNTAX);
	bad("v=0\nm=audio 1 RTP/AVP 0\na=rtcp:x\n", 3, "bad a=rtcp: port",
	    E_SYNTAX);
	bad("v=0\nm=audio 1 RTP/AVP 0\na=rtcp:5 IN IP4\n", 3,
	    "bad a=rtcp: address", E_SYNTAX);
	bad("v=0\na=\n", 2, "bad a= line: no attribute name", E_SYNTAX);
}

static void
test_caps(void)
{
	struct buf *b = buf_new(SDP_MAX_LEN * 2);
	struct sdp *s = NULL;
	struct sdp_error e;
	int i, ok = 1;

	ok &= buf_append_cstr(b, "v=0\n") == 0;
	for (i = 0; i < SDP_MAX_MEDIA + 1; i++)
		ok &= buf_append_cstr(b, "m=audio 1 RTP/AVP 0\n") == 0;
	T_EQ_INT(sdp_parse(buf_slice(b), &s, &e), E_BIG, "too many m=");
	T_EQ_INT(e.line, SDP_MAX_MEDIA + 2, "line of the m= too many");
	buf_reset(b);
	ok &= buf_append_cstr(b, "v=0\n") == 0;
	for (i = 0; i < SDP_MAX_LINES; i++)
		ok &= buf_append_cstr(b, "a=x\n") == 0;
	T_EQ_INT(sdp_parse(buf_slice(b), &s, &e), E_BIG, "too many lines");
	buf_reset(b);
	ok &= buf_append_cstr(b, "v=0\ns=") == 0;
	for (i = 0; i < SDP_MAX_LINE_LEN; i++)
		ok &= buf_append_u8(b, 'x') == 0;
	T_EQ_INT(sdp_parse(buf_slice(b), &s, &e), E_BIG, "line too long");
	buf_reset(b);
	for (i = 0; i < SDP_MAX_LEN + 1; i++)
		ok &= buf_append_u8(b, 'x') == 0;
	T_EQ_INT(sdp_parse(buf_slice(b), &s, &e), E_BIG, "body too big");
	T_OK(ok, "test bodies built");
	buf_free(b);
}

static void
test_access(void)
{
	struct sdp *s = parse(webrtc);
	struct sdp_media md;
	struct sdp_conn c;
	struct slice v;

	T_EQ_INT(sdp_media_count(s), 3, "three media");
	T_OK(sdp_media_get(s, 0, &md) == 0 && slice_eq_cstr(md.type, "audio")
	    && md.port == 9 && slice_eq_cstr(md.proto, "UDP/TLS/RTP/SAVPF") &&
	    slice_eq_cstr(md.fmts, "111 0"), "m= audio");
	T_OK(sdp_media_get(s, 2, &md) == 0 && md.port == 0, "rejected");
	T_OK(sdp_media_conn(s, 1, &c) == 0 && c.ipv6 &&
	    slice_eq_cstr(c.addr, "2001:db8::5"), "media c= ipv6");
	T_EQ_INT(sdp_conn_get(s, SDP_SESSION, &c), E_NOTFOUND, "no session c=");
	T_EQ_INT(sdp_attr_find(s, SDP_SESSION, "group", 0, &v), 4, "group");
	T_OK(slice_eq_cstr(v, "BUNDLE 0 1"), "group value");
	T_EQ_INT(sdp_attr_find(s, 0, "rtcp-mux", 0, &v), 10, "flag attr");
	T_EQ_INT(v.len, 0, "flag value empty");
	T_EQ_INT(sdp_attr_find(s, 0, "rtcp", 0, &v), 2, "rtcp not rtcp-mux");
	T_EQ_INT(sdprw_media_is_srtp(s, 0), 1, "DTLS is srtp");
	T_EQ_INT(sdprw_media_is_rtp(s, 2), 0, "datachannel is not rtp");
	sdp_free(s);
	s = parse(baresip);
	T_OK(sdp_media_conn(s, 0, &c) == 0 && !c.ipv6 &&
	    slice_eq_cstr(c.addr, "127.0.0.10"), "session c= applies");
	sdp_free(s);
}

static void
test_edit(void)
{
	struct sdp *s = parse("v=0\ns=x\nm=audio 1 RTP/AVP 0\na=a\n"
	    "m=video 2 RTP/AVP 96\na=b");

	T_EQ_INT(sdp_line_insert(s, 0, 2, 'a', SLICE_LIT("new")), 0, "insert");
	T_EQ_INT(sdp_line_insert(s, SDP_SESSION, 2, 'c',
	    SLICE_LIT("IN IP4 1.1.1.1")), 0, "insert at session end");
	T_EQ_INT(sdp_line_insert(s, 1, 2, 'a', SLICE_LIT("end")), 0,
	    "append after a last line without ending");
	T_EQ_INT(sdp_line_insert(s, 1, 0, 'a', SLICE_LIT("x")), E_INVAL,
	    "not before m=");
	T_EQ_INT(sdp_line_insert(s, 1, 0, 'm', SLICE_LIT("x")), E_INVAL,
	    "no new m=");
	T_EQ_INT(sdp_line_set(s, 0, 1, SLICE_LIT("A")), 0, "set");
	T_EQ_INT(sdp_line_delete(s, 1, 0), E_INVAL, "m= stays");
	T_EQ_INT(sdp_line_set(s, 0, 1, SLICE_LIT("a\nb")), E_INVAL,
	    "no newline in a value");
	write_eq(s, "v=0\ns=x\nc=IN IP4 1.1.1.1\nm=audio 1 RTP/AVP 0\na=A\n"
	    "a=new\nm=video 2 RTP/AVP 96\na=b\na=end\n", "edits");
	T_EQ_INT(sdp_line_delete(s, 0, 2), 0, "delete");
	T_EQ_INT(sdp_attr_delete(s, 1, "b"), 1, "delete attr");
	write_eq(s, "v=0\ns=x\nc=IN IP4 1.1.1.1\nm=audio 1 RTP/AVP 0\na=A\n"
	    "m=video 2 RTP/AVP 96\na=end\n", "deletes");
	sdp_free(s);
}

static void
test_to_rtp(void)
{
	struct sdp *s = parse(webrtc);

	T_EQ_INT(sdprw_media_to_rtp(s, 0), 0, "audio to rtp");
	T_EQ_INT(sdprw_media_to_rtp(s, 1), 0, "video to rtp");
	T_EQ_INT(sdprw_media_to_rtp(s, 2), 0, "datachannel untouched");
	T_EQ_INT(sdprw_remove_ice(s), 0, "remove ice");
	write_eq(s,
	    "v=0\n"
	    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\n"
	    "s=-\n"
	    "t=0 0\n"
	    "a=group:BUNDLE 0 1\n"
	    "m=audio 9 RTP/AVPF 111 0\n"
	    "c=IN IP6 2001:db8::5\n"
	    "a=rtcp:9 IN IP6 ::\n"
	    "a=mid:0\n"
	    "a=sendrecv\n"
	    "a=rtcp-mux\n"
	    "a=rtpmap:111 opus/48000/2\n"
	    "m=video 9 RTP/AVPF 96\n"
	    "c=IN IP6 2001:db8::5\n"
	    "a=mid:1\n"
	    "a=rtcp-mux\n"
	    "a=rtpmap:96 VP8/90000\n"
	    "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\n"
	    "c=IN IP6 2001:db8::5\n", "webrtc to rtp without ice");
	sdp_free(s);
}

static void
test_to_srtp(void)
{
	struct sdp *s = parse("v=0\r\ns=-\r\nc=IN IP4 10.0.0.7\r\n"
	    "m=audio 5004 RTP/AVP 0\r\na=sendrecv\r\n"
	    "m=video 0 RTP/AVPF 96\r\n");
	struct keyline *k[2], **keys;
	struct sdp_media md;
	size_t n;
	char w[16];

	T_EQ_INT(keyline_parse(slice_cstr("AES_CM_128_HMAC_SHA1_80 inline:"
	    K1), &k[0], w, sizeof(w)), 0, "key 1");
	T_EQ_INT(keyline_parse(slice_cstr("7 AES_CM_128_HMAC_SHA1_32 inline:"
	    K2 "|2^31"), &k[1], w, sizeof(w)), 0, "key 2");
	T_EQ_INT(sdprw_media_to_srtp(s, 0, (const struct keyline *const *)k,
	    2), 0, "to srtp");
	T_EQ_INT(sdprw_media_to_srtp(s, 1, (const struct keyline *const *)k,
	    2), 0, "rejected to srtp");
	write_eq(s, "v=0\r\ns=-\r\nc=IN IP4 10.0.0.7\r\n"
	    "m=audio 5004 RTP/SAVP 0\r\na=sendrecv\r\n"
	    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" K1 "\r\n"
	    "a=crypto:7 AES_CM_128_HMAC_SHA1_32 inline:" K2 "|2^31\r\n"
	    "m=video 0 RTP/SAVPF 96\r\n", "srtp with given keys");
	T_EQ_INT(sdprw_keys(s, &keys, &n, why, sizeof(why)), 0, "keys");
	T_EQ_INT(n, 2, "two keys");
	if (n == 2) {
		struct buf *b = buf_new(1024);

		T_OK(keyline_format(keys[1], KEYLINE_FMT_SELECTORS, b) == 0,
		    "format");
		T_EQ_STR(buf_str(b), "media=0 type=audio src=10.0.0.7:5004 "
		    "AES_CM_128_HMAC_SHA1_32 inline:" K2 "|2^31",
		    "key line with selectors");
		buf_free(b);
	}
	sdprw_keys_free(keys, n);
	T_EQ_INT(sdprw_media_set_port(s, 0, 40000, -1, NULL), 0, "port");
	T_OK(sdp_media_get(s, 0, &md) == 0 && md.port == 40000 &&
	    slice_eq_cstr(md.proto, "RTP/SAVP"), "new port, same proto");
	T_EQ_INT(sdp_attr_find(s, 0, "rtcp", 0, NULL), -1,
	    "no a=rtcp for port+1");
	T_EQ_INT(sdprw_media_set_port(s, 0, 40000, 40005, "10.1.1.1"), 0,
	    "odd rtcp");
	T_OK(sdp_attr_find(s, 0, "rtcp", 0, NULL) > 0, "a=rtcp added");
	T_EQ_INT(sdprw_media_set_port(s, 0, 65535, -1, NULL), E_RANGE,
	    "rtcp past 65535");
	T_EQ_INT(sdprw_media_to_rtp(s, 0), 0, "back to rtp");
	T_EQ_INT(sdprw_media_ncrypto(s, 0), 0, "crypto gone");
	keyline_free(k[0]);
	keyline_free(k[1]);
	sdp_free(s);
}

static void
test_answer(void)
{
	static const char offer[] = "v=0\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	    "m=audio 5004 RTP/SAVP 0\r\n"
	    "a=crypto:1 AEAD_AES_256_GCM inline:MTIzNDU2Nzg5MDEyMzQ1Njc4OTAx"
	    "MjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ=\r\n"
	    "a=crypto:2 F8_128_HMAC_SHA1_80 inline:" K1 "\r\n"
	    "a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:" K1 "|2^20|1:4\r\n"
	    "a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:" K2 "\r\n"
	    "m=audio 5006 RTP/AVP 0\r\n";
	struct sdp *o = parse(offer), *a;
	struct sdprw_opts opts = { 0 };
	struct keyline *ch;
	enum suite_id only80 = SUITE_AES_CM_128_HMAC_SHA1_80;
	struct slice v;

	T_EQ_INT(sdprw_offer_choose(o, 0, NULL, 0, &ch, why, sizeof(why)), 0,
	    "any suite: the first");
	T_OK(ch != NULL && keyline_tag(ch) == 1, "tag 1 (GCM)");
	keyline_free(ch);
	T_EQ_INT(sdprw_offer_choose(o, 0, &only80, 1, &ch, why, sizeof(why)),
	    0, "only _80");
	T_OK(ch != NULL && keyline_tag(ch) == 4, "tag 4");
	keyline_free(ch);
	T_EQ_INT(sdprw_offer_choose(o, 1, &only80, 1, &ch, why, sizeof(why)),
	    E_NOTFOUND, "no crypto");
	T_EQ_STR(why, "media 1: no acceptable crypto suite in the offer",
	    "why");

	a = parse("v=0\r\ns=-\r\nc=IN IP4 10.0.0.7\r\nm=audio 6000 RTP/AVP 0"
	    "\r\nm=audio 6002 RTP/AVP 0\r\n");
	opts.answer_to = o;	/* default suites: _80 then _32 */
	T_EQ_INT(sdprw_apply(a, &opts, why, sizeof(why)), 0, "answer (%s)",
	    why);
	T_EQ_INT(sdprw_media_ncrypto(a, 0), 1, "one crypto");
	T_OK(sdp_attr_find(a, 0, "crypto", 0, &v) > 0 && v.len > 26 &&
	    memcmp(v.p, "3 AES_CM_128_HMAC_SHA1_32 ", 26) == 0,
	    "offer order among allowed: tag 3");
	T_OK(!sdprw_media_is_srtp(a, 1) && sdprw_media_ncrypto(a, 1) == 0,
	    "plain media answered plain");
	sdp_free(a);
	a = parse("v=0\r\ns=-\r\nm=audio 6000 RTP/AVP 0\r\n");
	opts.suites = &only80;
	opts.nsuites = 0;
	T_EQ_INT(sdprw_apply(a, &opts, why, sizeof(why)), E_NOTFOUND,
	    "nothing allowed");
	sdp_free(a);
	sdp_free(o);
}

static void
test_apply(void)
{
	struct sdp *s = parse(baresip);
	struct sdprw_port pm[] = { { 0, 40000, -1 } };
	struct sdprw_opts o = { 0 };

	o.to = SDPRW_TO_RTP;
	o.addr = "10.0.0.2";
	o.origin_addr = "::1";
	o.ports = pm;
	o.nports = 1;
	T_EQ_INT(sdprw_apply(s, &o, why, sizeof(why)), 0, "apply (%s)", why);
	write_eq(s, "v=0\r\n"
	    "o=- 1234 5678 IN IP6 ::1\r\n"
	    "s=-\r\n"
	    "c=IN IP4 10.0.0.2\r\n"
	    "t=0 0\r\n"
	    "m=audio 40000 RTP/AVP 0 101\r\n"
	    "b=AS:64\r\n"
	    "a=rtpmap:0 PCMU/8000\r\n"
	    "a=rtpmap:101 telephone-event/8000\r\n"
	    "a=fmtp:101 0-15\r\n"
	    "a=sendrecv\r\n"
	    "a=label:1\r\n"
	    "a=ssrc:1148382390 cname:9a1b2c3d\r\n"
	    "a=rtcp-rsize\r\n"
	    "a=ptime:20\r\n", "baresip to rtp for the inside");
	pm[0].media = 1;
	T_EQ_INT(sdprw_apply(s, &o, why, sizeof(why)), E_INVAL, "bad port map");
	T_EQ_STR(why, "port map: no media 1 (1 m= lines)", "port map why");
	o.nports = 0;
	o.addr = "not-an-address";
	T_EQ_INT(sdprw_apply(s, &o, why, sizeof(why)), E_INVAL, "bad addr");
	o.addr = NULL;
	o.to = SDPRW_TO_SRTP;
	o.mux = SDPRW_MUX_ADD;
	T_EQ_INT(sdprw_apply(s, &o, why, sizeof(why)), 0, "to srtp, mux");
	T_EQ_INT(sdprw_media_ncrypto(s, 0), 2, "default: two suites");
	T_EQ_INT(sdprw_media_rtcp_mux(s, 0), 1, "mux added");
	sdp_free(s);
}

/*
 * sdp-rewrite's default suites, pinned: an offer towards SRTP carries
 * AES_CM_128_HMAC_SHA1_80 then _32 (baresip 1.0 takes the first it
 * knows), and an answer takes only those two from an offer.
 */
static void
test_default_suites(void)
{
	static const char plain[] = "v=0\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	    "m=audio 5004 RTP/AVP 0\r\n";
	struct sdp *s = parse(plain), *a;
	struct sdprw_opts o = { 0 };
	enum suite_id id;
	struct slice v;
	long i;

	o.to = SDPRW_TO_SRTP;
	T_EQ_INT(sdprw_apply(s, &o, why, sizeof(why)), 0, "default offer");
	T_EQ_INT(sdprw_media_ncrypto(s, 0), 2, "default offer: two suites");
	T_OK((i = sdp_attr_find(s, 0, "crypto", 0, &v)) > 0 && v.len > 26 &&
	    memcmp(v.p, "1 AES_CM_128_HMAC_SHA1_80 ", 26) == 0,
	    "default offer: first _80");
	T_OK(sdp_attr_find(s, 0, "crypto", (size_t)i + 1, &v) > 0 &&
	    v.len > 26 &&
	    memcmp(v.p, "2 AES_CM_128_HMAC_SHA1_32 ", 26) == 0,
	    "default offer: then _32");
	sdp_free(s);
	for (id = SUITE_AES_CM_128_HMAC_SHA1_80; id < SUITE_COUNT; id++) {
		int want = id == SUITE_AES_CM_128_HMAC_SHA1_80 ||
		    id == SUITE_AES_CM_128_HMAC_SHA1_32;

		s = parse(plain);
		a = parse(plain);
		o.to = SDPRW_TO_SRTP;
		o.suites = &id;
		o.nsuites = 1;
		T_EQ_INT(sdprw_apply(s, &o, why, sizeof(why)), 0,
		    "offer of %s", suite_by_id(id)->name);
		o.to = SDPRW_TO_KEEP;
		o.suites = NULL;
		o.nsuites = 0;
		o.answer_to = s;
		T_EQ_INT(sdprw_apply(a, &o, why, sizeof(why)),
		    want ? 0 : E_NOTFOUND, "default answer %s %s",
		    want ? "takes" : "refuses", suite_by_id(id)->name);
		o.answer_to = NULL;
		sdp_free(a);
		sdp_free(s);
	}
}

int
main(void)
{
	test_identity();
	test_errors();
	test_caps();
	test_access();
	test_edit();
	test_to_rtp();
	test_to_srtp();
	test_answer();
	test_apply();
	test_default_suites();
	return t_done();
}
