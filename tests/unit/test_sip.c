/* test_sip.c - unit tests for SIP parsing, framing and edits (lib/sip). */
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "sip/sip.h"
#include "t.h"

/* What baresip 1.0 sends over TLS (trimmed of nothing but its UUIDs). */
static const char reg[] =
    "REGISTER sip:gw.example;transport=tls SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 127.0.0.10:5061;branch=z9hG4bK6c8e7a2b;rport\r\n"
    "Contact: <sip:alice-0x55d1@127.0.0.10:5061;transport=tls>;expires=300\r\n"
    "Max-Forwards: 70\r\n"
    "To: <sip:alice@gw.example;transport=tls>\r\n"
    "From: <sip:alice@gw.example;transport=tls>;tag=1a2b3c\r\n"
    "Call-ID: 7b0f3a41c2d9e8f1\r\n"
    "CSeq: 46377 REGISTER\r\n"
    "User-Agent: baresip v1.0.0 (x86_64/linux)\r\n"
    "Allow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,UPDATE\r\n"
    "Supported: gruu,path,replaces\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static const char inv[] =
    "INVITE sip:bob@gw.example;transport=tls SIP/2.0\r\n"
    "v: SIP/2.0/TLS 127.0.0.10:5061;branch=z9hG4bKa1;rport,"
    " SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bKb2;received=1.2.3.4\r\n"
    "Route: <sip:10.0.0.1;lr>, <sip:gw.example:5061;transport=tls;lr>\r\n"
    "m: \"Alice A.\" <sip:alice@127.0.0.10:5061;transport=tls>\r\n"
    "f: \"Alice, A.\" <sip:alice@gw.example>;tag=x1\r\n"
    "t: sip:bob@gw.example\r\n"
    "i: abc@host\r\n"
    "CSeq: 1 INVITE\r\n"
    "Subject: a folded\r\n"
    "  header\r\n"
    "c: application/sdp\r\n"
    "l: 14\r\n"
    "\r\n"
    "v=0\r\no=- 1 1\r\n";

static void
test_parse(void)
{
	struct sip_msg m;
	struct sip_addr a;
	struct sip_uri u;
	struct sip_via v;
	struct slice cur, val, pv, span;
	const struct sip_hdr *h;
	int n;

	T_EQ_INT(sip_parse(&m, slice_make(reg, sizeof(reg) - 1)), 0,
	    "parse REGISTER");
	T_OK(m.is_request && slice_eq_cstr(m.method, "REGISTER"), "method");
	T_OK(slice_eq_cstr(m.ruri, "sip:gw.example;transport=tls"), "r-uri");
	T_OK(m.cseq == 46377 && slice_eq_cstr(m.cseq_method, "REGISTER"),
	    "cseq");
	T_EQ_INT(m.max_forwards, 70, "max-forwards");
	T_EQ_INT(m.body.len, 0, "empty body");
	h = sip_find(&m, SIP_H_CONTACT);
	T_OK(h != NULL && sip_addr_parse(h->value, &a) == 0 &&
	    slice_eq_cstr(a.uri, "sip:alice-0x55d1@127.0.0.10:5061;transport=tls")
	    && sip_param(a.params, "expires", &pv, NULL) && slice_eq_cstr(pv,
	    "300"), "contact + expires");
	T_OK(sip_uri_parse(a.uri, &u) == 0 && slice_eq_cstr(u.user,
	    "alice-0x55d1") && slice_eq_cstr(u.host, "127.0.0.10") &&
	    u.port == 5061 && sip_param(u.params, "transport", &pv, NULL) &&
	    slice_eq_cstr(pv, "tls"), "contact uri");
	T_OK(sip_find_name(&m, "user-agent") != NULL, "find by name");

	T_EQ_INT(sip_parse(&m, slice_make(inv, sizeof(inv) - 1)), 0,
	    "parse INVITE with compact headers");
	T_OK(slice_eq_cstr(m.call_id, "abc@host"), "compact call-id");
	T_OK(slice_eq_cstr(m.body, "v=0\r\no=- 1 1\r\n"), "body by l:");
	h = sip_find(&m, SIP_H_VIA);
	cur = h->value;
	n = 0;
	while (sip_value_next(&cur, &val)) {
		T_OK(sip_via_parse(val, &v) == 0, "via %d parses", n);
		if (n == 0)
			T_OK(slice_eq_cstr(v.transport, "TLS") && v.port == 5061
			    && slice_eq_cstr(v.branch, "z9hG4bKa1") &&
			    v.has_rport && v.rport.len == 0, "via 1 fields");
		else
			T_OK(slice_eq_cstr(v.host, "[2001:db8::1]") &&
			    v.port == 5070 && !v.has_rport, "via 2 (IPv6)");
		n++;
	}
	T_EQ_INT(n, 2, "two vias in one header");
	h = sip_find(&m, SIP_H_ROUTE);
	cur = h->value;
	T_OK(sip_value_next(&cur, &val) && sip_addr_parse(val, &a) == 0 &&
	    sip_uri_parse(a.uri, &u) == 0 && sip_param(u.params, "lr", &pv,
	    NULL) && pv.len == 0, "route lr flag");
	T_OK(sip_value_next(&cur, &val) && sip_addr_parse(val, &a) == 0 &&
	    slice_eq_cstr(a.uri, "sip:gw.example:5061;transport=tls;lr"),
	    "second route");
	T_OK(!sip_value_next(&cur, &val), "route list ends");
	h = sip_find(&m, SIP_H_FROM);
	cur = h->value;
	T_OK(sip_value_next(&cur, &val) && slice_eq(val, h->value),
	    "comma inside quotes does not split");
	T_OK(sip_addr_parse(val, &a) == 0 && slice_eq_cstr(a.display,
	    "Alice, A.") && sip_param(a.params, "tag", &pv, &span) &&
	    slice_eq_cstr(pv, "x1") && slice_eq_cstr(span, ";tag=x1"),
	    "display name and tag");
	h = sip_find(&m, SIP_H_TO);
	T_OK(sip_addr_parse(h->value, &a) == 0 && !a.bracketed &&
	    slice_eq_cstr(a.uri, "sip:bob@gw.example"), "bare addr-spec");
	h = sip_find(&m, SIP_H_SUBJECT);
	T_OK(h != NULL && h->value.len == 18, "folded header value");

	/* responses */
	{
		static const char r[] = "SIP/2.0 180 Ringing\r\n"
		    "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
		    "To: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 2 INVITE\r\n"
		    "Content-Length: 0\r\n\r\n";
		T_OK(sip_parse(&m, SLICE_LIT(r)) == 0 && !m.is_request &&
		    m.status == 180 && slice_eq_cstr(m.reason, "Ringing"),
		    "parse response");
	}
}

static void
test_malformed(void)
{
	static const char *bad[] = {
		"INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n",
		"INVITE sip:x SIP/3.0\r\n\r\n",
		"SIP/2.0 99 Low\r\n\r\n",
		"INV ITE sip:x SIP/2.0\r\n\r\n",
		"INVITE sip:x SIP/2.0\r\nVia SIP/2.0/UDP h\r\n\r\n",
		"INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <a:b>\r\n"
		    "To: <a:b>\r\nCall-ID: 1\r\nCSeq: 1 BYE\r\n\r\n",
		"INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <a:b>\r\n"
		    "To: <a:b>\r\nCall-ID: 1\r\nCSeq: 1 INVITE\r\n"
		    "Content-Length: 9\r\n\r\nshort",
		"INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <a:b>\r\n"
		    "To: <a:b>\r\nCall-ID: 1\r\nCSeq: 1 INVITE\r\n"
		    "Max-Forwards: x\r\n\r\n",
	};
	struct sip_msg m;
	struct sip_via v;
	struct sip_uri u;
	struct sip_addr a;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_OK(sip_parse(&m, slice_cstr(bad[i])) != 0,
		    "malformed %zu rejected", i);
	T_OK(sip_via_parse(SLICE_LIT("SIP/2.0/UDP"), &v) != 0, "via no host");
	T_OK(sip_via_parse(SLICE_LIT("SIP/2.0/UDP h:99999"), &v) != 0,
	    "via port range");
	T_OK(sip_via_parse(SLICE_LIT("SIP / 2.0 / TCP h:5;branch=z"), &v) == 0
	    && slice_eq_cstr(v.transport, "TCP"), "via LWS around slashes");
	T_OK(sip_uri_parse(SLICE_LIT("sip:[::1"), &u) != 0, "bad ipv6");
	T_OK(sip_uri_parse(SLICE_LIT("sips:@h"), &u) != 0, "empty user");
	T_OK(sip_addr_parse(SLICE_LIT("<sip:a@b"), &a) != 0, "unclosed <");
}


/* The mandatory headers of a request for the cases below. */
#define STD "Via: SIP/2.0/TLS h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\n" \
    "To: <sip:b@h>\nCall-ID: x\nCSeq: 1 OPTIONS\n"

/* `in` with "\n" as CRLF, "~0" as NUL, a blank line after: its length. */
static size_t
expand(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	for (; *in != '\0' && n + 4 < cap; in++) {
		if (in[0] == '~' && in[1] == '0') {
			out[n++] = '\0';
			in++;
		} else if (*in == '\n') {
			out[n++] = '\r';
			out[n++] = '\n';
		} else
			out[n++] = *in;
	}
	out[n++] = '\r';
	out[n++] = '\n';
	return n;
}

/*
 * Refusals at the edge (issue 18): each case is a request line and header
 * lines (with "\n" for CRLF, "~0" for a NUL byte), the status and reason
 * phrase it gets, and whether the answer can be made (Via, Call-ID and a
 * CSeq method read all the same).
 */
static void
test_refusals(void)
{
	static const struct {
		const char *in;
		int status;
		const char *why;
		int answerable;
	} cases[] = {
		{ "OPTIONS sip:b@h~0x SIP/2.0\n" STD, 400,
		    "Control Character in Request-Line", 1 },
		{ "OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\n"
		    "From: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x~0y\n"
		    "CSeq: 1 OPTIONS\n", 400, "Control Character in Call-ID", 1 },
		{ "OPTIONS sip:b@h SIP/2.0\n" STD "User-Agent: a\x01z\n", 400,
		    "Control Character in User-Agent", 1 },
		{ "OPTIONS sip:b@h SIP/2.0\n" STD "Subject: a\rb\n", 400,
		    "Control Character in Subject", 1 },
		{ "OPTIONS sip:b@h SIP/2.0\n" STD "Subject: a\x7f\n", 400,
		    "Control Character in Subject", 1 },
		{ "OPTIONS sip:b@h SIP/2.0\n" STD "NoColonHere\n", 400,
		    "Header Without Colon", 1 },
		{ "OPTIONS sip:b@h SIP/2.0\n" STD "Bad Name: x\n", 400,
		    "Malformed Header Name", 1 },
		{ "OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\n"
		    "From: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\n"
		    "CSeq: abc OPTIONS\n", 400, "Bad CSeq", 1 },
		{ "OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\n"
		    "From: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\n"
		    "CSeq: 7\n", 400, "Bad CSeq", 1 },
		{ "OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\n"
		    "From: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\n"
		    "CSeq: 1 INVITE\n", 400, "CSeq Method Mismatch", 1 },
		{ "OPTIONS  SIP/2.0\n" STD, 400, "Missing Request-URI", 1 },
		{ "OPTIONS SIP/2.0\n" STD, 400, "Missing Request-URI", 1 },
		{ "OPTIONS bob SIP/2.0\n" STD, 400, "Bad Request-URI", 1 },
		{ "OPTIONS sip:b@h SIP/9.9\n" STD, 505, "Version Not Supported",
		    1 },
		{ "OPTIONS sip:b@h HTTP/1.1\n" STD, 400,
		    "Malformed Request-Line", 1 },
		{ "OPTIONS sip:b@h SIP/2.0\n" STD "Max-Forwards: lots\n", 400,
		    "Bad Max-Forwards", 1 },
		{ "OPTIONS sip:b@h SIP/2.0\n" STD "Max-Forwards: 256\n", 400,
		    "Bad Max-Forwards", 1 },
		{ "OPTIONS sip:b@h SIP/2.0\n" STD "Max-Forwards: 70\n"
		    "Max-Forwards: 69\n", 400, "Conflicting Max-Forwards", 1 },
		{ "OPTIONS sip:b@h SIP/2.0\n" STD "Content-Length: 0\n"
		    "l: 5\n", 400, "Conflicting Content-Length", 1 },
		{ "OPTIONS sip:b@h SIP/2.0\n" STD "Call-ID: other\n", 400,
		    "Conflicting Call-ID", 1 },
		{ "OPTIONS sip:b@h SIP/2.0\n" STD "Content-Length: x\n", 400,
		    "Bad Content-Length", 1 },
		{ "OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\n"
		    "To: <sip:b@h>\nCall-ID: x\nCSeq: 1 OPTIONS\n", 400,
		    "Missing From", 1 },
		{ "OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\n"
		    "From: <sip:a@h>;tag=1\nCall-ID: x\nCSeq: 1 OPTIONS\n", 400,
		    "Missing To", 1 },
		{ "OPTIONS sip:b@h SIP/2.0\nFrom: <sip:a@h>;tag=1\n"
		    "To: <sip:b@h>\nCall-ID: x\nCSeq: 1 OPTIONS\n", 400,
		    "Missing Via", 0 },
		{ "OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\n"
		    "From: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCSeq: 1 OPTIONS\n",
		    400, "Missing Call-ID", 0 },
		{ "OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\n"
		    "From: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\n", 400,
		    "Missing CSeq", 0 },
		/* Responses are never answered. */
		{ "SIP/2.0 200 OK\n" STD "Max-Forwards: x\n", 0, "", 0 },
		{ "SIP/2.0 200 O~0K\n" STD, 0, "", 0 },
	};
	static const char *good[] = {
		/* A folded header, HT in a value, UTF-8 in a display name. */
		"OPTIONS sip:b@h SIP/2.0\n" STD "Subject: one\n two\n"
		    "User-Agent: a\tb\nX-Name: \"J\xc3\xbcrg\" <sip:j@h>\n",
		/* The same Content-Length twice, written two ways. */
		"OPTIONS sip:b@h SIP/2.0\n" STD "Content-Length: 0\nl: 00\n",
		/* ACK and CANCEL keep their own CSeq methods' leniency. */
		"ACK sip:b@h SIP/2.0\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\n"
		    "From: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\n"
		    "CSeq: 1 INVITE\n",
		"SIP/2.0 200\n" STD,
	};
	char buf[1024];
	struct buf *out = buf_new(4096);
	struct sip_msg m;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = expand(cases[i].in, buf, sizeof(buf));
		int r = sip_parse(&m, slice_make(buf, n));

		T_OK(r != 0, "refused %zu: %s", i, cases[i].why);
		T_EQ_INT(m.bad_status, cases[i].status, "refused %zu: status",
		    i);
		T_EQ_STR(m.bad_reason, cases[i].why, "refused %zu: reason", i);
		T_EQ_INT(m.is_request && m.call_id.len > 0 &&
		    m.cseq_method.len > 0 && sip_find(&m, SIP_H_VIA) != NULL,
		    cases[i].answerable, "refused %zu: answerable", i);
		if (cases[i].answerable) {
			buf_reset(out);
			T_OK(sip_build_response(&m, m.bad_status, m.bad_reason,
			    SLICE_LIT("t"), SLICE_NULL, out) == 0,
			    "refused %zu: answer built", i);
		}
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		size_t n = expand(good[i], buf, sizeof(buf));

		T_EQ_INT(sip_parse(&m, slice_make(buf, n)), 0, "accepted %zu",
		    i);
		T_EQ_INT(m.bad_status, 0, "accepted %zu: no fault", i);
	}
	buf_free(out);
}

static void
test_framer(void)
{
	static const char two[] =
	    "\r\n\r\n"
	    "OPTIONS sip:a SIP/2.0\r\nl: 3\r\n\r\nabc"
	    "\r\n"
	    "OPTIONS sip:b SIP/2.0\r\nContent-Length: 0\r\n\r\n";
	struct sip_framer *f = sip_framer_new(200);
	struct slice msg;
	size_t i;
	int r, pings = 0, msgs = 0;

	/* Byte by byte: reassembly across every possible split. */
	for (i = 0; i < sizeof(two) - 1; i++) {
		T_OK(sip_framer_feed(f, two + i, 1) == 0 || 0, "feed");
		while ((r = sip_framer_next(f, &msg)) > 0) {
			if (r == SIP_FRAME_PING)
				pings++;
			else if (msgs++ == 0)
				T_OK(msg.len == 34 && msg.p[33] == 'c',
				    "first message with body");
			else
				T_OK(slice_eq_cstr(slice_make(msg.p, 15),
				    "OPTIONS sip:b S"), "second message");
		}
		if (r < 0)
			break;
	}
	T_EQ_INT(pings, 1, "one ping");
	T_EQ_INT(msgs, 2, "two messages");
	T_EQ_INT(sip_framer_pending(f), 0, "nothing left");
	sip_framer_free(f);

	/* All at once. */
	f = sip_framer_new(200);
	T_OK(sip_framer_feed(f, two, sizeof(two) - 1) == 0, "feed all");
	T_EQ_INT(sip_framer_next(f, &msg), SIP_FRAME_PING, "ping first");
	T_EQ_INT(sip_framer_next(f, &msg), SIP_FRAME_MSG, "msg 1");
	T_EQ_INT(sip_framer_next(f, &msg), SIP_FRAME_MSG, "msg 2");
	T_EQ_INT(sip_framer_next(f, &msg), SIP_FRAME_NONE, "then nothing");
	sip_framer_free(f);

	f = sip_framer_new(100);
	T_OK(sip_framer_feed(f, "INVITE sip:x SIP/2.0\r\nl: 500\r\n\r\n", 32)
	    == 0, "feed oversize header");
	T_EQ_INT(sip_framer_next(f, &msg), E_BIG, "body over cap is E_BIG");
	sip_framer_free(f);

	f = sip_framer_new(100);
	T_OK(sip_framer_feed(f, "INVITE sip:x SIP/2.0\r\nVia: x\r\n\r\n", 32)
	    == 0, "feed no content-length");
	T_EQ_INT(sip_framer_next(f, &msg), E_SYNTAX,
	    "missing Content-Length on a stream");
	sip_framer_free(f);

	f = sip_framer_new(64);
	{
		char junk[200];
		memset(junk, 'a', sizeof(junk));
		r = sip_framer_feed(f, junk, sizeof(junk));
		T_OK(r == E_BIG || sip_framer_next(f, &msg) == E_BIG,
		    "endless header block is E_BIG");
	}
	sip_framer_free(f);
	sip_framer_free(NULL);
}

static void
test_edits(void)
{
	struct sip_msg m;
	struct sip_edits *e = sip_edits_new();
	struct buf *out = buf_new(4096);
	const struct sip_hdr *h;
	struct sip_msg m2;

	T_OK(sip_parse(&m, slice_make(inv, sizeof(inv) - 1)) == 0, "parse");
	T_OK(sip_edits_apply(e, &m, out) == 0 && slice_eq(buf_slice(out),
	    m.raw), "no edits: byte-identical");
	buf_reset(out);
	T_OK(sip_edit_add_top(e, &m, "Via",
	    SLICE_LIT("SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKgw1")) == 0,
	    "add via");
	h = sip_find(&m, SIP_H_ROUTE);
	T_OK(sip_edit_delete(e, h->line) == 0, "delete route");
	T_OK(sip_edit_replace(e, m.ruri, SLICE_LIT("sip:bob@10.0.0.10")) == 0,
	    "replace r-uri");
	T_OK(sip_edit_body(e, &m, SLICE_LIT("v=0\r\n")) == 0, "new body");
	T_OK(sip_edits_apply(e, &m, out) == 0, "apply");
	T_OK(sip_parse(&m2, buf_slice(out)) == 0, "result parses");
	T_OK(slice_eq_cstr(m2.ruri, "sip:bob@10.0.0.10"), "r-uri replaced");
	T_OK(sip_find(&m2, SIP_H_ROUTE) == NULL, "route gone");
	T_OK(slice_eq_cstr(sip_top_via(&m2),
	    "SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKgw1"), "our via on top");
	T_OK(slice_eq_cstr(m2.body, "v=0\r\n"), "body replaced");
	T_OK(slice_eq_cstr(sip_find(&m2, SIP_H_CONTENT_LENGTH)->value, "5"),
	    "content-length follows");
	T_OK(slice_find(buf_slice(out), SLICE_LIT("  header\r\n")) > 0,
	    "untouched bytes verbatim");
	sip_edits_reset(e);
	T_OK(sip_edit_delete(e, m.ruri) == 0 && sip_edit_replace(e,
	    slice_make(m.ruri.p + 2, 3), SLICE_LIT("x")) == 0, "overlap");
	buf_reset(out);
	T_EQ_INT(sip_edits_apply(e, &m, out), E_INVAL, "overlap refused");

	/* response building */
	buf_reset(out);
	T_OK(sip_build_response(&m, 404, NULL, SLICE_LIT("gw1"), SLICE_NULL,
	    out) == 0 && sip_parse(&m2, buf_slice(out)) == 0 &&
	    m2.status == 404, "build 404");
	T_OK(slice_find(buf_slice(out), SLICE_LIT("To: sip:bob@gw.example;"
	    "tag=gw1\r\n")) > 0, "to-tag added");
	T_OK(slice_find(buf_slice(out), SLICE_LIT("branch=z9hG4bKb2")) > 0,
	    "all vias copied");
	buf_free(out);
	sip_edits_free(e);
}

/* From and To tags, parsed once with the message. */
static void
test_tags(void)
{
	static const char *const cases[][5] = {
		/* From, To, from_tag, to_tag, tagged (from, to) */
		{ "<sip:a@h>;tag=x1", "sip:b@h", "x1", "", "10" },
		{ "\"A;tag=no\" <sip:a@h;tag=in>;tag=f", "<sip:b@h>;tag=t9",
		    "f", "t9", "11" },
		{ "sip:a@h;tag=bare", "<sip:b@h>;TAG=up", "bare", "up", "11" },
		{ "<sip:a@h>", "<sip:b@h>;tag", "", "", "01" },
		{ "<sip:a@h", "<sip:b@h>;tag=", "", "", "01" },
	};
	char buf[512];
	struct sip_msg m;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(buf, sizeof(buf), "BYE sip:b@h SIP/2.0\r\n"
		    "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: %s\r\n"
		    "To: %s\r\nCall-ID: c\r\nCSeq: 2 BYE\r\n"
		    "Content-Length: 0\r\n\r\n", cases[i][0], cases[i][1]);

		if (!T_OK(sip_parse(&m, slice_make(buf, (size_t)n)) == 0,
		    "tags %zu: parsed", i))
			continue;
		T_OK(slice_eq_cstr(m.from_tag, cases[i][2]),
		    "tags %zu: From tag '%s'", i, cases[i][2]);
		T_OK(slice_eq_cstr(m.to_tag, cases[i][3]),
		    "tags %zu: To tag '%s'", i, cases[i][3]);
		T_EQ_INT(m.from_tagged, cases[i][4][0] == '1',
		    "tags %zu: From tagged", i);
		T_EQ_INT(m.to_tagged, cases[i][4][1] == '1',
		    "tags %zu: To tagged", i);
	}
}

/*
 * A parsed message moved onto a copy of its bytes, its edits copied
 * along, and one more edit there: the same bytes as every edit made on
 * the original (what the proxy does with a message the relay holds).
 */
static void
test_move(void)
{
	static const char noclen[] =
	    "INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
	    "From: <sip:a@h>;tag=f1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\n"
	    "CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n\r\n"
	    "v=0\r\n";
	const char *srcs[] = { inv, noclen };
	size_t lens[] = { sizeof(inv) - 1, sizeof(noclen) - 1 };
	size_t k;

	for (k = 0; k < 2; k++) {
		struct sip_msg m, mv;
		struct sip_edits *e = sip_edits_new(), *all = sip_edits_new();
		struct sip_edits *e2 = sip_edits_new();
		struct buf *want = buf_new(4096), *got = buf_new(4096);
		uint8_t *copy = malloc(lens[k]);
		const struct sip_hdr *h;
		size_t i;
		int ok;

		if (e == NULL || all == NULL || e2 == NULL || want == NULL ||
		    got == NULL || copy == NULL ||
		    sip_parse(&m, slice_make(srcs[k], lens[k])) != 0) {
			T_OK(0, "move %zu: set up", k);
			goto next;
		}
		h = sip_find(&m, SIP_H_VIA);
		ok = sip_edit_add_top(e, &m, "Via", SLICE_LIT("SIP/2.0/UDP "
		    "10.0.0.2;branch=z9hG4bKx")) == 0 &&
		    sip_edit_delete(e, h->line) == 0 &&
		    sip_edit_replace(e, m.ruri,
		    SLICE_LIT("sip:b@10.0.0.9")) == 0;
		ok = ok && sip_edit_add_top(all, &m, "Via", SLICE_LIT(
		    "SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKx")) == 0 &&
		    sip_edit_delete(all, h->line) == 0 &&
		    sip_edit_replace(all, m.ruri,
		    SLICE_LIT("sip:b@10.0.0.9")) == 0 &&
		    sip_edit_body(all, &m, SLICE_LIT("v=0\r\ns=x\r\n")) == 0 &&
		    sip_edits_apply(all, &m, want) == 0;
		T_OK(ok, "move %zu: edits on the original", k);
		memcpy(copy, m.raw.p, m.raw.len);
		mv = m;
		sip_msg_move(&mv, copy);
		T_OK(mv.raw.p == copy && mv.body.p == copy + (m.body.p -
		    m.raw.p) && slice_eq(mv.call_id, m.call_id) &&
		    mv.from_tag.p == copy + (m.from_tag.p - m.raw.p),
		    "move %zu: slices on the copy", k);
		for (i = 0, ok = 1; i < m.nhdr; i++)
			ok = ok && mv.hdr[i].line.p == copy +
			    (m.hdr[i].line.p - m.raw.p) &&
			    slice_eq(mv.hdr[i].value, m.hdr[i].value);
		T_OK(ok, "move %zu: every header on the copy", k);
		T_OK(sip_edits_copy(e2, e, &m, &mv) == 0, "move %zu: edits "
		    "copied", k);
		T_OK(sip_edit_body(e2, &mv, SLICE_LIT("v=0\r\ns=x\r\n")) == 0 &&
		    sip_edits_apply(e2, &mv, got) == 0, "move %zu: applied", k);
		T_OK(slice_eq(buf_slice(got), buf_slice(want)),
		    "move %zu: same bytes as all edits on the original", k);
		T_OK(sip_edits_copy(e2, e, &mv, &m) == E_INVAL,
		    "move %zu: edits not on `from`: E_INVAL", k);
next:
		free(copy);
		buf_free(want);
		buf_free(got);
		sip_edits_free(e);
		sip_edits_free(e2);
		sip_edits_free(all);
	}
}

int
main(void)
{
	test_parse();
	test_malformed();
	test_refusals();
	test_framer();
	test_edits();
	test_tags();
	test_move();
	return t_done();
}
