/* test_ng.c - unit tests for the ng protocol: requests, replies, cache. */
#include <stdint.h>
#include <stdlib.h>

#include "ng/bencode.h"
#include "base/buf.h"
#include "base/err.h"
#include "ng/ng.h"
#include "t.h"

#define SDP "v=0\r\no=- 1 1 IN IP4 127.0.0.10\r\ns=-\r\n" \
	"c=IN IP4 127.0.0.10\r\nt=0 0\r\nm=audio 10000 RTP/SAVP 0\r\n" \
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 " \
	"inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"

/* Wrap a bencoded string literal: `BSTR("abc")` is "3:abc". */
static struct buf *
offer_dict(void)
{
	struct buf *b = buf_new(4096);
	int r;

	r = buf_append_cstr(b, "5123_7 d");
	if (r == 0) r = bencode_put_kcstr(b, "sdp", SDP);
	if (r == 0) r = bencode_put_kcstr(b, "ICE", "remove");
	if (r == 0) r = bencode_put_klist(b, "replace");
	if (r == 0) r = bencode_put_cstr(b, "origin");
	if (r == 0) r = bencode_put_cstr(b, "session-connection");
	if (r == 0) r = bencode_put_end(b);
	if (r == 0) r = bencode_put_klist(b, "rtcp-mux");
	if (r == 0) r = bencode_put_cstr(b, "demux");
	if (r == 0) r = bencode_put_end(b);
	if (r == 0) r = bencode_put_kcstr(b, "DTLS", "off");
	if (r == 0) r = bencode_put_kcstr(b, "transport-protocol", "RTP/AVP");
	if (r == 0) r = bencode_put_klist(b, "direction");
	if (r == 0) r = bencode_put_cstr(b, "external");
	if (r == 0) r = bencode_put_cstr(b, "internal");
	if (r == 0) r = bencode_put_end(b);
	if (r == 0) r = bencode_put_kcstr(b, "call-id", "abc@host");
	if (r == 0) r = bencode_put_kcstr(b, "via-branch", "z9hG4bK.1");
	if (r == 0) r = bencode_put_klist(b, "received-from");
	if (r == 0) r = bencode_put_cstr(b, "IP4");
	if (r == 0) r = bencode_put_cstr(b, "127.0.0.10");
	if (r == 0) r = bencode_put_end(b);
	if (r == 0) r = bencode_put_kcstr(b, "from-tag", "ft1");
	if (r == 0) r = bencode_put_klist(b, "supports");
	if (r == 0) r = bencode_put_cstr(b, "load limit");
	if (r == 0) r = bencode_put_end(b);
	if (r == 0) r = bencode_put_kcstr(b, "command", "offer");
	if (r == 0) r = bencode_put_end(b);
	if (r != 0) {
		buf_free(b);
		return NULL;
	}
	return b;
}

static void
check_sbc_offer(const struct ng_req *q, const char *what)
{
	T_OK(q->cmd == NG_CMD_OFFER, "%s: command offer", what);
	T_OK(slice_eq_cstr(q->call_id, "abc@host"), "%s: call-id", what);
	T_OK(slice_eq_cstr(q->from_tag, "ft1"), "%s: from-tag", what);
	T_OK(q->proto == NG_PROTO_RTP_AVP, "%s: RTP/AVP", what);
	T_OK(q->ice == NG_ICE_REMOVE, "%s: ICE remove", what);
	T_OK(q->dtls == NG_DTLS_OFF, "%s: DTLS off", what);
	T_EQ_INT(q->replace, NG_REPLACE_ORIGIN | NG_REPLACE_SESSION_CONNECTION,
	    "%s: replace", what);
	T_EQ_INT(q->rtcp_mux, NG_RTCP_MUX_DEMUX, "%s: rtcp-mux", what);
	T_OK(slice_eq_cstr(q->from_interface, "external") &&
	    slice_eq_cstr(q->to_interface, "internal"), "%s: direction", what);
	T_EQ_INT(q->n_unknown, 0, "%s: nothing unknown", what);
}

static void
test_parse_dict(void)
{
	struct buf *b = offer_dict(), *w = buf_new(256);
	struct ng_req q;

	T_EQ_INT(ng_req_parse(&q, buf_slice(b)), 0, "parse offer");
	T_OK(slice_eq_cstr(q.cookie, "5123_7"), "cookie");
	check_sbc_offer(&q, "dict");
	T_OK(slice_eq_cstr(q.sdp, SDP), "sdp");
	T_OK(slice_eq_cstr(q.via_branch, "z9hG4bK.1"), "via-branch");
	T_OK(slice_eq_cstr(q.received_family, "IP4") &&
	    slice_eq_cstr(q.received_addr, "127.0.0.10"), "received-from");
	T_EQ_INT(q.supports, NG_SUPPORTS_LOAD_LIMIT, "supports load limit");
	T_OK(ng_req_check(&q) == NULL, "complete offer");
	T_EQ_INT(ng_req_warning(&q, w), 0, "warning");
	T_EQ_INT(buf_len(w), 0, "no warning");
	T_EQ_INT(q.delete_delay, -1, "no delete-delay");
	T_OK(bencode_dict_get(q.dict, "command") != NULL, "dict kept");
	ng_req_release(&q);
	ng_req_release(&q);
	buf_free(b);
	buf_free(w);
}

static void
test_parse_rtpp(void)
{
	const char *flags = "  replace-origin replace-session-connection "
	    "ICE=remove rtcp-mux-demux DTLS=off RTP/AVP "
	    "direction=external direction=internal ";
	struct buf *b = buf_new(4096);
	struct ng_req q;
	int r;

	r = buf_append_cstr(b, "c1 d");
	if (r == 0) r = bencode_put_kcstr(b, "sdp", SDP);
	if (r == 0) r = bencode_put_kcstr(b, "call-id", "abc@host");
	if (r == 0) r = bencode_put_kcstr(b, "from-tag", "ft1");
	if (r == 0) r = bencode_put_kcstr(b, "command", "offer");
	if (r == 0) r = bencode_put_kcstr(b, "rtpp-flags", flags);
	if (r == 0) r = bencode_put_end(b);
	T_EQ_INT(r, 0, "build rtpp-flags request");
	T_EQ_INT(ng_req_parse(&q, buf_slice(b)), 0, "parse rtpp-flags");
	check_sbc_offer(&q, "rtpp-flags");
	T_OK(slice_eq_cstr(q.rtpp_flags, flags), "rtpp-flags kept");
	ng_req_release(&q);

	/* the other spellings of the same */
	buf_reset(b);
	r = buf_append_cstr(b, "c2 d");
	if (r == 0) r = bencode_put_kcstr(b, "command", "offer");
	if (r == 0) r = bencode_put_kcstr(b, "rtpp-flags",
	    "SDES-no-AES_CM_128_HMAC_SHA1_32 SDES-only-AES_CM_128_HMAC_SHA1_80 "
	    "SDES-pad SRTP AVPF internal external label=x1 delete-delay=7 "
	    "replace=[origin SDP-version] trust-address bogus-flag wat=1");
	if (r == 0) r = bencode_put_end(b);
	T_EQ_INT(r, 0, "build second rtpp-flags request");
	T_EQ_INT(ng_req_parse(&q, buf_slice(b)), 0, "parse rtpp-flags 2");
	T_OK(q.n_sdes_no == 1 && slice_eq_cstr(q.sdes_no[0],
	    "AES_CM_128_HMAC_SHA1_32"), "SDES-no-SUITE");
	T_OK(q.n_sdes_only == 1 && slice_eq_cstr(q.sdes_only[0],
	    "AES_CM_128_HMAC_SHA1_80"), "SDES-only-SUITE");
	T_EQ_INT(q.sdes, NG_SDES_PAD, "SDES-pad");
	T_OK(q.proto == NG_PROTO_RTP_SAVPF &&
	    slice_eq_cstr(q.transport_protocol, "RTP/SAVPF"),
	    "SRTP AVPF words make RTP/SAVPF");
	T_OK(slice_eq_cstr(q.from_interface, "internal") &&
	    slice_eq_cstr(q.to_interface, "external"),
	    "bare internal/external are directions");
	T_OK(slice_eq_cstr(q.label, "x1"), "label=");
	T_EQ_INT(q.delete_delay, 7, "delete-delay=");
	T_EQ_INT(q.replace, NG_REPLACE_ORIGIN | NG_REPLACE_SDP_VERSION,
	    "replace=[list]");
	T_EQ_INT(q.flags, NG_FLAG_TRUST_ADDRESS, "trust-address");
	T_OK(q.n_unknown == 2 && slice_eq_cstr(q.unknown[0], "bogus-flag") &&
	    slice_eq_cstr(q.unknown[1], "wat"), "unknowns collected");
	ng_req_release(&q);
	buf_free(b);
}

static void
test_names(void)
{
	struct ng_req q;
	const char *d = "k d18:transport protocol8:RTP/SAVP7:Call_ID1:x"
	    "8:FROM-TAG1:y5:flagsl18:sip_source_address9:Symmetric"
	    "19:replace-SDP_versione7:command5:OFFER3:sdp1:v"
	    "12:delete-delayi30e3:fooi1ee";

	T_OK(ng_name_eq(SLICE_LIT("transport_protocol"), "transport-protocol"),
	    "underscore = hyphen");
	T_OK(ng_name_eq(SLICE_LIT("Transport Protocol"), "transport-protocol"),
	    "space = hyphen, case ignored");
	T_OK(!ng_name_eq(SLICE_LIT("transport-protocols"),
	    "transport-protocol"), "lengths differ");
	T_EQ_INT(ng_req_parse(&q, slice_cstr(d)), 0, "parse odd spellings");
	T_OK(q.cmd == NG_CMD_OFFER && q.proto == NG_PROTO_RTP_SAVP &&
	    slice_eq_cstr(q.call_id, "x") && slice_eq_cstr(q.from_tag, "y"),
	    "keys matched");
	T_EQ_INT(q.flags, NG_FLAG_SIP_SOURCE_ADDRESS | NG_FLAG_SYMMETRIC,
	    "flags matched");
	T_EQ_INT(q.replace, NG_REPLACE_SDP_VERSION, "replace- in flags");
	T_EQ_INT(q.delete_delay, 30, "integer delete-delay");
	T_OK(q.n_unknown == 1 && slice_eq_cstr(q.unknown[0], "foo"),
	    "unknown key");
	T_OK(ng_proto_is_srtp(q.proto) && !ng_proto_is_srtp(NG_PROTO_RTP_AVP),
	    "is_srtp");
	T_EQ_STR(ng_proto_name(NG_PROTO_RTP_SAVPF), "RTP/SAVPF", "proto name");
	T_EQ_STR(ng_cmd_name(NG_CMD_STATISTICS), "statistics", "cmd name");
	ng_req_release(&q);
}

static void
test_check_and_warning(void)
{
	struct buf *w = buf_new(4096);
	struct ng_req q;
	int i, r;

	T_EQ_INT(ng_req_parse(&q, SLICE_LIT("a d7:command4:pinge")), 0, "ping");
	T_OK(q.cmd == NG_CMD_PING && ng_req_check(&q) == NULL, "ping ok");
	ng_req_release(&q);
	T_EQ_INT(ng_req_parse(&q, SLICE_LIT("a d7:command5:offer"
	    "7:call-id1:x8:from-tag1:ye")), 0, "offer without sdp");
	T_EQ_STR(ng_req_check(&q), NG_ERR_NO_SDP, "no sdp");
	ng_req_release(&q);
	T_EQ_INT(ng_req_parse(&q, SLICE_LIT("a d7:command6:answer"
	    "7:call-id1:x8:from-tag1:y3:sdp1:ve")), 0, "answer without to-tag");
	T_EQ_STR(ng_req_check(&q), NG_ERR_NO_TO_TAG, "no to-tag");
	ng_req_release(&q);
	T_EQ_INT(ng_req_parse(&q, SLICE_LIT("a d7:command6:deletee")), 0,
	    "delete without call-id");
	T_EQ_STR(ng_req_check(&q), NG_ERR_NO_CALL_ID, "no call-id");
	ng_req_release(&q);
	T_EQ_INT(ng_req_parse(&q, SLICE_LIT("a d7:command5:querye")), 0,
	    "query");
	T_EQ_STR(ng_req_check(&q), NG_ERR_NO_CALL_ID, "query needs call-id");
	ng_req_release(&q);
	T_EQ_INT(ng_req_parse(&q, SLICE_LIT("a d7:command11:block " "DTMF!e")),
	    0, "other command");
	T_EQ_STR(ng_req_check(&q), NG_ERR_UNRECOGNIZED, "unrecognized");
	ng_req_release(&q);
	T_EQ_INT(ng_req_parse(&q, SLICE_LIT("a de")), 0, "empty dict");
	T_EQ_STR(ng_req_check(&q), NG_ERR_NO_COMMAND, "no command");
	ng_req_release(&q);

	/* malformed datagrams */
	T_EQ_INT(ng_req_parse(&q, SLICE_LIT("nospace")), E_SYNTAX, "no space");
	T_EQ_INT(q.cookie.len, 0, "no cookie: drop silently");
	ng_req_release(&q);
	T_EQ_INT(ng_req_parse(&q, SLICE_LIT(" de")), E_SYNTAX, "empty cookie");
	ng_req_release(&q);
	T_EQ_INT(ng_req_parse(&q, SLICE_LIT("ck le")), E_SYNTAX, "not a dict");
	T_OK(slice_eq_cstr(q.cookie, "ck"), "cookie kept for the error reply");
	ng_req_release(&q);
	T_EQ_INT(ng_req_parse(&q, SLICE_LIT("ck d7:command")), E_SHORT,
	    "truncated");
	ng_req_release(&q);
	T_EQ_INT(ng_req_parse(&q, SLICE_LIT("ck d7:command4:pinge\r\n")), 0,
	    "trailing newline tolerated");
	ng_req_release(&q);

	/* many unknowns: stored up to the cap, counted beyond it */
	buf_reset(w);
	r = buf_append_cstr(w, "c d7:command4:ping5:flagsl");
	for (i = 0; i < 20 && r == 0; i++)
		r = buf_printf(w, "4:zz%02d", i);
	if (r == 0) r = buf_append_cstr(w, "ee");
	T_EQ_INT(ng_req_parse(&q, buf_slice(w)), 0, "20 unknown flags");
	T_EQ_INT(q.n_unknown, 20, "all counted");
	{
		struct buf *msg = buf_new(1024);

		T_EQ_INT(ng_req_warning(&q, msg), 0, "warning built");
		T_OK(slice_find(buf_slice(msg), SLICE_LIT("zz00, zz01")) > 0 &&
		    slice_find(buf_slice(msg), SLICE_LIT("and 4 more")) > 0,
		    "warning names them: %s", buf_str(msg));
		buf_free(msg);
	}
	ng_req_release(&q);

	/* a list longer than NG_LIST_MAX: the rest is reported, not lost */
	buf_reset(w);
	r = buf_append_cstr(w, "c d7:command4:ping4:SDESl");
	for (i = 0; i < NG_LIST_MAX + 1 && r == 0; i++)
		r = buf_printf(w, "7:no-S%03d", i);
	if (r == 0) r = buf_append_cstr(w, "ee");
	T_EQ_INT(ng_req_parse(&q, buf_slice(w)), 0, "long SDES list");
	T_EQ_INT(q.n_sdes_no, NG_LIST_MAX, "SDES-no stored to the cap");
	T_OK(q.n_unknown == 1 && slice_eq_cstr(q.unknown[0], "S016"),
	    "the one past the cap is unknown");
	ng_req_release(&q);
	buf_free(w);
}

static void
test_encode_roundtrip(void)
{
	struct buf *b = buf_new(8192), *tiny = buf_new(16);
	struct ng_req q, p;
	char cookie[NG_COOKIE_LEN + 1], c2[NG_COOKIE_LEN + 1];

	T_EQ_INT(ng_cookie_new(cookie, sizeof(cookie)), 0, "cookie");
	T_EQ_INT(strlen(cookie), NG_COOKIE_LEN, "cookie length");
	T_EQ_INT(ng_cookie_new(c2, sizeof(c2)), 0, "second cookie");
	T_OK(strcmp(cookie, c2) != 0, "cookies differ");
	T_EQ_INT(ng_cookie_new(c2, 4), E_INVAL, "cookie buffer too small");

	ng_req_init(&q);
	q.cookie = slice_cstr(cookie);
	q.cmd = NG_CMD_OFFER;
	q.call_id = SLICE_LIT("cid");
	q.from_tag = SLICE_LIT("ft");
	q.via_branch = SLICE_LIT("br");
	q.sdp = SLICE_LIT(SDP);
	q.proto = NG_PROTO_RTP_SAVP;
	q.ice = NG_ICE_REMOVE;
	q.dtls = NG_DTLS_OFF;
	q.replace = NG_REPLACE_ORIGIN | NG_REPLACE_SESSION_CONNECTION;
	q.rtcp_mux = NG_RTCP_MUX_DEMUX;
	q.sdes = NG_SDES_PAD;
	q.sdes_no[q.n_sdes_no++] = SLICE_LIT("AES_CM_128_HMAC_SHA1_32");
	q.sdes_only[q.n_sdes_only++] = SLICE_LIT("AES_CM_128_HMAC_SHA1_80");
	q.from_interface = SLICE_LIT("internal");
	q.to_interface = SLICE_LIT("external");
	q.received_family = SLICE_LIT("IP4");
	q.received_addr = SLICE_LIT("10.0.0.1");
	q.label = SLICE_LIT("callee");
	q.delete_delay = 0;
	q.supports = NG_SUPPORTS_LOAD_LIMIT;
	q.flags = NG_FLAG_TRUST_ADDRESS | NG_FLAG_SYMMETRIC;
	q.extra_flags[q.n_extra_flags++] = SLICE_LIT("my-flag");
	T_EQ_INT(ng_req_encode(&q, b), 0, "encode offer");
	T_EQ_INT(ng_req_encode(&q, tiny), E_BIG, "encode over the cap");
	T_EQ_INT(buf_len(tiny), 0, "failed encode leaves the buf as it was");

	T_EQ_INT(ng_req_parse(&p, buf_slice(b)), 0, "parse what we encoded");
	T_OK(slice_eq(p.cookie, q.cookie) && p.cmd == q.cmd &&
	    slice_eq(p.call_id, q.call_id) && slice_eq(p.from_tag, q.from_tag) &&
	    slice_eq(p.via_branch, q.via_branch) && slice_eq(p.sdp, q.sdp),
	    "identifiers round-trip");
	T_OK(p.proto == q.proto && p.ice == q.ice && p.dtls == q.dtls &&
	    p.replace == q.replace && p.rtcp_mux == q.rtcp_mux &&
	    p.sdes == q.sdes && p.supports == q.supports &&
	    p.flags == q.flags, "enums and bit sets round-trip");
	T_OK(p.n_sdes_no == 1 && slice_eq(p.sdes_no[0], q.sdes_no[0]) &&
	    p.n_sdes_only == 1 && slice_eq(p.sdes_only[0], q.sdes_only[0]),
	    "SDES lists round-trip");
	T_OK(slice_eq(p.from_interface, q.from_interface) &&
	    slice_eq(p.to_interface, q.to_interface) &&
	    slice_eq(p.received_family, q.received_family) &&
	    slice_eq(p.received_addr, q.received_addr) &&
	    slice_eq(p.label, q.label) && p.delete_delay == 0,
	    "the rest round-trips");
	T_OK(p.n_unknown == 1 && slice_eq_cstr(p.unknown[0], "my-flag"),
	    "extra flag arrives as unknown");
	ng_req_release(&p);

	q.cmd = NG_CMD_OTHER;
	T_EQ_INT(ng_req_encode(&q, b), E_INVAL, "unknown command refused");
	q.cmd = NG_CMD_PING;
	q.cookie = SLICE_LIT("a b");
	T_EQ_INT(ng_req_encode(&q, b), E_INVAL, "cookie with a space refused");
	buf_free(b);
	buf_free(tiny);
}

static void
test_replies(void)
{
	struct buf *b = buf_new(4096);
	struct slice ck = SLICE_LIT("ck1");
	struct ng_reply rep;
	struct slice ids[2] = { SLICE_LIT("c1"), SLICE_LIT("c2") };
	const struct bencode *m;
	int64_t v;

	T_EQ_INT(ng_reply_ok(b, ck, SLICE_LIT("v=0\r\n"), SLICE_LIT("w")), 0,
	    "ok reply");
	T_EQ_STR(buf_str(b), "ck1 d6:result2:ok7:warning1:w3:sdp5:v=0\r\ne",
	    "ok reply bytes");
	T_EQ_INT(ng_reply_parse(&rep, buf_slice(b)), 0, "parse ok reply");
	T_OK(rep.result == NG_RESULT_OK && slice_eq_cstr(rep.sdp, "v=0\r\n") &&
	    slice_eq_cstr(rep.warning, "w") && !ng_reply_failover(&rep),
	    "ok reply fields");
	ng_reply_release(&rep);

	buf_reset(b);
	T_EQ_INT(ng_reply_pong(b, ck), 0, "pong");
	T_EQ_STR(buf_str(b), "ck1 d6:result4:ponge", "pong bytes");
	buf_reset(b);
	T_EQ_INT(ng_reply_error(b, ck, NG_ERR_PORTS), 0, "error");
	T_EQ_STR(buf_str(b),
	    "ck1 d6:result5:error12:error-reason16:Ran out of portse",
	    "error bytes");
	T_EQ_INT(ng_reply_parse(&rep, buf_slice(b)), 0, "parse error");
	T_OK(rep.result == NG_RESULT_ERROR && ng_reply_failover(&rep),
	    "Ran out of ports fails over");
	ng_reply_release(&rep);
	buf_reset(b);
	T_EQ_INT(ng_reply_error(b, ck, NG_ERR_PARALLEL), 0, "error 2");
	T_EQ_INT(ng_reply_parse(&rep, buf_slice(b)), 0, "parse error 2");
	T_OK(ng_reply_failover(&rep), "Parallel session limit fails over");
	ng_reply_release(&rep);
	buf_reset(b);
	T_EQ_INT(ng_reply_error(b, ck, NG_ERR_UNKNOWN_CALL), 0, "error 3");
	T_EQ_INT(ng_reply_parse(&rep, buf_slice(b)), 0, "parse error 3");
	T_OK(!ng_reply_failover(&rep) &&
	    slice_eq_cstr(rep.error_reason, "Unknown call-id"),
	    "other errors do not fail over");
	ng_reply_release(&rep);
	buf_reset(b);
	T_EQ_INT(ng_reply_load_limit(b, ck), 0, "load limit");
	T_EQ_INT(ng_reply_parse(&rep, buf_slice(b)), 0, "parse load limit");
	T_OK(rep.result == NG_RESULT_LOAD_LIMIT && ng_reply_failover(&rep),
	    "load limit fails over");
	ng_reply_release(&rep);

	buf_reset(b);
	T_EQ_INT(ng_reply_list(b, ck, ids, 2), 0, "list");
	T_EQ_STR(buf_str(b), "ck1 d6:result2:ok5:callsl2:c12:c2ee",
	    "list bytes");

	buf_reset(b);
	{
		struct ng_statistics st = { 3, 10, 60, { 150, 25800, 1 },
		    { 9000, 1548000, 7 } };

		T_EQ_INT(ng_reply_statistics(b, ck, &st), 0, "statistics");
	}
	T_EQ_INT(ng_reply_parse(&rep, buf_slice(b)), 0, "parse statistics");
	m = bencode_dict_get(bencode_dict_get(bencode_dict_get(rep.dict,
	    "statistics"), "currentstatistics"), "sessionsown");
	T_OK(bencode_int(m, &v) == 0 && v == 3, "sessionsown");
	m = bencode_dict_get(bencode_dict_get(bencode_dict_get(rep.dict,
	    "statistics"), "totalstatistics"), "relayedpackets");
	T_OK(bencode_int(m, &v) == 0 && v == 9000, "total packets");
	ng_reply_release(&rep);

	/* a query reply, built in steps */
	buf_reset(b);
	{
		struct ng_stream_info si = { 0 };
		struct ng_counters rtp = { 100, 17200, 2 }, rtcp = { 4, 400, 0 };
		int r;

		si.local_port = 30000;
		si.peer_family = SLICE_LIT("IPv4");
		si.peer_addr = SLICE_LIT("127.0.0.10");
		si.peer_port = 10000;
		si.crypto_suite = SLICE_LIT("AES_CM_128_HMAC_SHA1_80");
		si.stats = rtp;
		r = ng_reply_begin(b, ck);
		if (r == 0) r = ng_query_created(b, 1700000000);
		if (r == 0) r = bencode_put_kdict(b, "tags");
		if (r == 0) r = ng_query_tag_begin(b, SLICE_LIT("ft1"), SLICE_NULL);
		if (r == 0) r = ng_query_media_begin(b, 1, SLICE_LIT("audio"),
		    SLICE_LIT("RTP/SAVP"));
		if (r == 0) r = ng_query_stream(b, &si);
		si.local_port = 30001;
		si.rtcp = 1;
		si.stats = rtcp;
		if (r == 0) r = ng_query_stream(b, &si);
		if (r == 0) r = ng_query_media_end(b);
		if (r == 0) r = ng_query_tag_end(b);
		if (r == 0) r = bencode_put_end(b);
		if (r == 0) r = ng_query_totals(b, &rtp, &rtcp);
		if (r == 0) r = ng_reply_end(b);
		T_EQ_INT(r, 0, "query reply built");
	}
	T_EQ_INT(ng_reply_parse(&rep, buf_slice(b)), 0, "parse query reply");
	m = bencode_dict_get(bencode_dict_get(rep.dict, "tags"), "ft1");
	m = bencode_first(bencode_dict_get(m, "medias"));
	T_OK(slice_eq_cstr(bencode_str(bencode_dict_get(m, "protocol")),
	    "RTP/SAVP"), "media protocol");
	m = bencode_next(bencode_first(bencode_dict_get(m, "streams")));
	T_OK(bencode_int(bencode_dict_get(m, "local port"), &v) == 0 &&
	    v == 30001, "second stream's port");
	T_OK(bencode_int(bencode_dict_get(bencode_dict_get(m, "stats"),
	    "packets"), &v) == 0 && v == 4, "second stream's packets");
	m = bencode_dict_get(bencode_dict_get(rep.dict, "totals"), "RTP");
	T_OK(bencode_int(bencode_dict_get(m, "errors"), &v) == 0 && v == 2,
	    "totals");
	ng_reply_release(&rep);

	/* a fork with no to-tag yet, as rtpengine names it */
	buf_reset(b);
	T_EQ_INT(ng_query_untagged_begin(b, 12, SLICE_LIT("z9hG4bK1")), 0,
	    "untagged party");
	T_EQ_MEM(buf_data(b), buf_len(b), "13:<untagged 12>d3:tag0:"
	    "10:via-branch8:z9hG4bK16:mediasl", strlen("13:<untagged 12>d3:"
	    "tag0:10:via-branch8:z9hG4bK16:mediasl"), "untagged key and tag");
	buf_reset(b);
	T_EQ_INT(ng_query_untagged_begin(b, 0, SLICE_NULL), 0, "untagged 0");
	T_EQ_MEM(buf_data(b), buf_len(b), "12:<untagged 0>d3:tag0:6:mediasl",
	    strlen("12:<untagged 0>d3:tag0:6:mediasl"), "... no via-branch");

	T_EQ_INT(ng_reply_parse(&rep, SLICE_LIT("x d6:result7:strangee")), 0,
	    "odd result");
	T_EQ_INT(rep.result, NG_RESULT_OTHER, "odd result is OTHER");
	ng_reply_release(&rep);
	T_EQ_INT(ng_reply_parse(&rep, SLICE_LIT("x i1e")), E_SYNTAX,
	    "reply not a dict");
	ng_reply_release(&rep);
	buf_free(b);
}

static void
test_cache(void)
{
	struct ng_cache *c = ng_cache_new(3, 1000, NG_CACHE_TTL_MS);
	struct slice r, peer = SLICE_LIT("127.0.0.1:5060");
	uint64_t t = 1000000;

	T_OK(c != NULL, "cache");
	T_EQ_INT(ng_cache_get(c, peer, SLICE_LIT("a"), t, &r), E_NOTFOUND,
	    "miss");
	T_EQ_INT(ng_cache_put(c, peer, SLICE_LIT("a"), SLICE_LIT("reply-a"),
	    t), 0, "put");
	T_OK(ng_cache_get(c, peer, SLICE_LIT("a"), t + 29999, &r) == 0 &&
	    slice_eq_cstr(r, "reply-a"), "hit within 30 s");
	T_EQ_INT(ng_cache_get(c, SLICE_LIT("127.0.0.2:5060"), SLICE_LIT("a"),
	    t + 1, &r), E_NOTFOUND, "another peer's cookie misses");
	T_EQ_INT(ng_cache_get(c, peer, SLICE_LIT("a"), t + 30000, &r),
	    E_NOTFOUND, "expired after 30 s");
	T_EQ_INT(ng_cache_count(c), 0, "expired entry dropped");

	T_EQ_INT(ng_cache_put(c, peer, SLICE_LIT("1"), SLICE_LIT("r1"), t), 0,
	    "put 1");
	T_EQ_INT(ng_cache_put(c, peer, SLICE_LIT("2"), SLICE_LIT("r2"), t), 0,
	    "put 2");
	T_EQ_INT(ng_cache_put(c, peer, SLICE_LIT("1"), SLICE_LIT("r1b"), t), 0,
	    "replace 1");
	T_OK(ng_cache_get(c, peer, SLICE_LIT("1"), t, &r) == 0 &&
	    slice_eq_cstr(r, "r1b"), "replaced");
	T_EQ_INT(ng_cache_count(c), 2, "two live");
	T_EQ_INT(ng_cache_put(c, peer, SLICE_LIT("3"), SLICE_LIT("r3"), t), 0,
	    "put 3");
	T_EQ_INT(ng_cache_put(c, peer, SLICE_LIT("4"), SLICE_LIT("r4"), t), 0,
	    "put 4 (ring full)");
	T_OK(ng_cache_count(c) <= 3, "bounded by max_entries");
	T_EQ_INT(ng_cache_get(c, peer, SLICE_LIT("2"), t, &r), E_NOTFOUND,
	    "oldest evicted");
	T_OK(ng_cache_get(c, peer, SLICE_LIT("4"), t, &r) == 0 &&
	    slice_eq_cstr(r, "r4"), "newest kept");
	{
		char big[1000];

		memset(big, 'x', sizeof(big));
		T_EQ_INT(ng_cache_put(c, peer, SLICE_LIT("5"),
		    slice_make(big, 980), t), 0, "put a big reply");
		T_EQ_INT(ng_cache_count(c), 1, "byte cap evicts the rest");
		T_EQ_INT(ng_cache_put(c, peer, SLICE_LIT("6"),
		    slice_make(big, 980), t), 0, "put another");
		T_EQ_INT(ng_cache_get(c, peer, SLICE_LIT("5"), t, &r),
		    E_NOTFOUND, "the first big one went");
		T_EQ_INT(ng_cache_put(c, SLICE_NULL, SLICE_LIT("8"),
		    slice_make(big, 1000), t), E_BIG, "larger than the cap");
		T_OK(ng_cache_get(c, peer, SLICE_LIT("6"), t, &r) == 0 &&
		    r.len == 980, "a refused put changes nothing");
	}
	ng_cache_free(c);
	ng_cache_free(NULL);

	/* many entries through a small cache */
	c = ng_cache_new(64, 1 << 20, 1000);
	{
		char k[16];
		int i, ok = 1;

		for (i = 0; i < 10000 && ok; i++) {
			int n = snprintf(k, sizeof(k), "%d", i);

			ok = ng_cache_put(c, SLICE_NULL, slice_make(k,
			    (size_t)n), slice_make(k, (size_t)n),
			    (uint64_t)i) == 0 && ng_cache_get(c, SLICE_NULL,
			    slice_make(k, (size_t)n), (uint64_t)i, &r) == 0 &&
			    slice_eq(r, slice_make(k, (size_t)n));
		}
		T_OK(ok, "10000 put/get through 64 slots");
		T_EQ_INT(ng_cache_count(c), 64, "full");
		ng_cache_expire(c, 10000 + 1000);
		T_EQ_INT(ng_cache_count(c), 0, "all expired");
	}
	ng_cache_free(c);
	T_OK(ng_cache_new(0, 10, 10) == NULL, "zero entries refused");
}

static void
test_retry(void)
{
	struct ng_retry rt;
	uint64_t when = 0, t = 5000;
	int sends = 0, st;

	ng_retry_init(&rt, 5, 1000, t);
	T_EQ_INT(ng_retry_next(&rt, t, &when), NG_RETRY_SEND, "first send");
	T_EQ_INT(when, t + 1000, "next in 1 s");
	T_EQ_INT(ng_retry_next(&rt, t + 500, &when), NG_RETRY_WAIT,
	    "wait before the interval");
	T_EQ_INT(when, t + 1000, "same deadline");
	sends = 1;
	for (t += 1000; (st = ng_retry_next(&rt, t, &when)) == NG_RETRY_SEND;
	    t += 1000)
		sends++;
	T_EQ_INT(sends, 5, "5 tries in all");
	T_EQ_INT(st, NG_RETRY_GIVEUP, "then give up");
	T_EQ_INT(t, 10000, "after 5 s");
	ng_retry_init(&rt, 0, 1000, 0);
	T_EQ_INT(ng_retry_next(&rt, 0, &when), NG_RETRY_GIVEUP,
	    "zero tries gives up at once");
}

/* Read tests/cases/ng/kamailio-5.6/NAME.bin (captured from Kamailio 5.6.3's
 * rtpengine module by tests/e2e/kamailio-ng.bats). */
static struct buf *
capture(const char *name)
{
	const char *top = getenv("SBK_TOP");
	char path[512];
	struct buf *b;
	uint8_t chunk[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/cases/ng/kamailio-5.6/%s.bin",
	    top != NULL ? top : ".", name);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	b = buf_new(NG_DGRAM_MAX);
	while (b != NULL && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(b, chunk, n) != 0) {
			buf_free(b);
			b = NULL;
		}
	fclose(f);
	return b;
}

static void
test_kamailio(void)
{
	static const struct {
		const char *name;
		enum ng_cmd cmd;
	} cap[] = {
		{ "ping", NG_CMD_PING },
		{ "offer-to-inside", NG_CMD_OFFER },
		{ "answer-from-inside", NG_CMD_ANSWER },
		{ "query", NG_CMD_QUERY },
		{ "delete", NG_CMD_DELETE },
		{ "offer-to-outside", NG_CMD_OFFER },
		{ "answer-from-outside", NG_CMD_ANSWER },
	};
	struct buf *enc = buf_new(NG_DGRAM_MAX), *b;
	struct ng_req q, p;
	size_t i;

	for (i = 0; i < sizeof(cap) / sizeof(cap[0]); i++) {
		const char *n = cap[i].name;

		if (!T_OK((b = capture(n)) != NULL, "%s: capture readable", n))
			continue;
		T_EQ_INT(ng_req_parse(&q, buf_slice(b)), 0, "%s: parses", n);
		T_EQ_INT(q.cmd, cap[i].cmd, "%s: command", n);
		T_OK(ng_req_check(&q) == NULL, "%s: complete", n);
		T_EQ_INT(q.n_unknown, 0, "%s: every key understood", n);
		if (q.cmd != NG_CMD_PING) {
			T_OK(q.call_id.len > 0 && q.from_tag.len > 0 &&
			    (q.supports & NG_SUPPORTS_LOAD_LIMIT) &&
			    slice_eq_cstr(q.received_family, "IP4"),
			    "%s: call-id, from-tag, supports, received-from",
			    n);
		}
		/* our encoder says the same thing back */
		buf_reset(enc);
		T_EQ_INT(ng_req_encode(&q, enc), 0, "%s: re-encodes", n);
		T_EQ_INT(ng_req_parse(&p, buf_slice(enc)), 0, "%s: reparses", n);
		T_OK(p.cmd == q.cmd && slice_eq(p.call_id, q.call_id) &&
		    slice_eq(p.from_tag, q.from_tag) &&
		    slice_eq(p.to_tag, q.to_tag) && slice_eq(p.sdp, q.sdp) &&
		    p.proto == q.proto && p.ice == q.ice && p.dtls == q.dtls &&
		    p.replace == q.replace && p.rtcp_mux == q.rtcp_mux &&
		    p.n_sdes_no == q.n_sdes_no && p.supports == q.supports &&
		    slice_eq(p.from_interface, q.from_interface) &&
		    slice_eq(p.to_interface, q.to_interface) &&
		    slice_eq(p.received_addr, q.received_addr),
		    "%s: same request after a round trip", n);
		if (strcmp(n, "offer-to-inside") == 0) {
			T_OK(q.proto == NG_PROTO_RTP_AVP &&
			    q.ice == NG_ICE_REMOVE && q.dtls == NG_DTLS_OFF &&
			    q.rtcp_mux == NG_RTCP_MUX_DEMUX &&
			    q.replace == (NG_REPLACE_ORIGIN |
			    NG_REPLACE_SESSION_CONNECTION) &&
			    slice_eq_cstr(q.from_interface, "outside") &&
			    slice_eq_cstr(q.to_interface, "inside") &&
			    slice_find(q.sdp, SLICE_LIT("RTP/SAVP")) > 0,
			    "%s: the SBC flags", n);
		}
		if (strcmp(n, "offer-to-outside") == 0) {
			T_OK(q.proto == NG_PROTO_RTP_SAVP &&
			    slice_eq_cstr(q.from_interface, "inside") &&
			    slice_eq_cstr(q.to_interface, "outside"),
			    "%s: RTP/SAVP towards the outside", n);
			/* 11 SDES-no-SUITE: once lost past a cap of 8 */
			T_EQ_INT(q.n_sdes_no, 11, "%s: all SDES-no kept", n);
			T_OK(slice_eq_cstr(q.sdes_no[10], "NULL_HMAC_SHA1_32"),
			    "%s: last SDES-no", n);
		}
		if (strcmp(n, "answer-from-inside") == 0)
			T_OK(q.to_tag.len > 0 && q.proto == NG_PROTO_NONE,
			    "%s: to-tag, no transport-protocol", n);
		ng_req_release(&p);
		ng_req_release(&q);
		buf_free(b);
	}
	buf_free(enc);
}

/*
 * Every key a request can carry, encoded: the bytes, hence the order of
 * the key table (rtpp-flags first, command last), pinned.
 */
static void
test_encode_all_keys(void)
{
	static const char want1[] =
	    "c1 d10:rtpp-flags9:SRTP AVPF3:sdp3:v=07:call-id3:cid8:from-t"
	    "ag2:ft6:to-tag2:tt10:via-branch2:vb18:transport-protocol9:RT"
	    "P/SAVPF3:ICE5:force4:DTLS7:passive7:replacel6:origin18:sessi"
	    "on-connection11:SDP-version8:username12:session-name12:zero-"
	    "address11:origin-fulle8:rtcp-muxl5:offer5:demux6:accept6:rej"
	    "ect7:requiree4:SDESl3:off5:nonew3:pad6:static16:unencrypted_"
	    "srtp17:unencrypted_srtcp20:unauthenticated_srtp14:encrypted_"
	    "srtp15:encrypted_srtcp18:authenticated_srtp8:lifetime10:prio"
	    "ritize4:no-A6:only-Be14:from-interface2:in13:received-froml3"
	    ":IP47:1.2.3.4e13:media-address7:5.6.7.814:address-family3:IP"
	    "65:label2:lb16:sip-message-type11:sip-request11:record-call3"
	    ":yes12:delete-delayi5e8:supportsl10:load limite5:flagsl13:tr"
	    "ust-address18:SIP-source-address9:symmetric10:asymmetric13:s"
	    "trict-source14:media-handover13:port-latching17:no-rtcp-attr"
	    "ibute19:full-rtcp-attribute12:loop-protect7:recrypt5:fatal4:"
	    "fast6:to-tag3:all5:reset14:unidirectional16:no-port-latching"
	    "11:record-call12:generate-mid10:pad-crypto11:trickle-ICE17:o"
	    "riginal-sendrecv17:discard-recording4:xtrae7:command5:offere";
	static const char want2[] =
	    "c1 d10:rtpp-flags9:SRTP AVPF3:sdp3:v=07:call-id3:cid8:from-t"
	    "ag2:ft6:to-tag2:tt10:via-branch2:vb18:transport-protocol7:RT"
	    "P/AVP3:ICE5:force4:DTLS7:passive7:replacel6:origin18:session"
	    "-connection11:SDP-version8:username12:session-name12:zero-ad"
	    "dress11:origin-fulle8:rtcp-muxl5:offer5:demux6:accept6:rejec"
	    "t7:requiree4:SDESl3:off5:nonew3:pad6:static16:unencrypted_sr"
	    "tp17:unencrypted_srtcp20:unauthenticated_srtp14:encrypted_sr"
	    "tp15:encrypted_srtcp18:authenticated_srtp8:lifetime10:priori"
	    "tize4:no-A6:only-Be9:directionl2:in3:oute13:received-froml3:"
	    "IP47:1.2.3.4e13:media-address7:5.6.7.814:address-family3:IP6"
	    "5:label2:lb16:sip-message-type11:sip-request11:record-call3:"
	    "yes12:delete-delayi5e8:supportsl10:load limite5:flagsl13:tru"
	    "st-address18:SIP-source-address9:symmetric10:asymmetric13:st"
	    "rict-source14:media-handover13:port-latching17:no-rtcp-attri"
	    "bute19:full-rtcp-attribute12:loop-protect7:recrypt5:fatal4:f"
	    "ast6:to-tag3:all5:reset14:unidirectional16:no-port-latching1"
	    "1:record-call12:generate-mid10:pad-crypto11:trickle-ICE17:or"
	    "iginal-sendrecv17:discard-recording4:xtrae7:command5:offere";
	struct buf *b = buf_new(4096);
	struct ng_req q;

	ng_req_init(&q);
	q.cookie = SLICE_LIT("c1");
	q.cmd = NG_CMD_OFFER;
	q.call_id = SLICE_LIT("cid");
	q.from_tag = SLICE_LIT("ft");
	q.to_tag = SLICE_LIT("tt");
	q.via_branch = SLICE_LIT("vb");
	q.sdp = SLICE_LIT("v=0");
	q.proto = NG_PROTO_RTP_SAVPF;
	q.ice = NG_ICE_FORCE;
	q.dtls = NG_DTLS_PASSIVE;
	q.replace = 0x7f;
	q.rtcp_mux = 0x1f;
	q.sdes = 0xfff;
	q.sdes_no[q.n_sdes_no++] = SLICE_LIT("A");
	q.sdes_only[q.n_sdes_only++] = SLICE_LIT("B");
	q.from_interface = SLICE_LIT("in");
	q.received_family = SLICE_LIT("IP4");
	q.received_addr = SLICE_LIT("1.2.3.4");
	q.media_address = SLICE_LIT("5.6.7.8");
	q.address_family = SLICE_LIT("IP6");
	q.label = SLICE_LIT("lb");
	q.sip_message_type = SLICE_LIT("sip-request");
	q.record_call = SLICE_LIT("yes");
	q.delete_delay = 5;
	q.supports = NG_SUPPORTS_LOAD_LIMIT;
	q.flags = 0xffffff;
	q.extra_flags[q.n_extra_flags++] = SLICE_LIT("xtra");
	q.rtpp_flags = SLICE_LIT("SRTP AVPF");
	T_EQ_INT(ng_req_encode(&q, b), 0, "encode every key");
	T_EQ_MEM(buf_data(b), buf_len(b), want1, sizeof(want1) - 1,
	    "every key, in the key table's order");
	buf_truncate(b, 0);
	q.to_interface = SLICE_LIT("out");
	q.transport_protocol = SLICE_LIT("RTP/AVP");
	T_EQ_INT(ng_req_encode(&q, b), 0, "encode with direction");
	T_EQ_MEM(buf_data(b), buf_len(b), want2, sizeof(want2) - 1,
	    "from and to interface as direction, protocol as sent");
	buf_free(b);
}

int
main(void)
{
	test_parse_dict();
	test_parse_rtpp();
	test_names();
	test_check_and_warning();
	test_encode_roundtrip();
	test_encode_all_keys();
	test_replies();
	test_cache();
	test_retry();
	test_kamailio();
	return t_done();
}
