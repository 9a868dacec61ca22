/* test_calls.c - unit tests for the ng call table (lib/relay/calls*.c):
 * offers, answers, forks, deletes, queries and errors, driven through
 * calls_handle() over a real relay bound on loopback. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/ev.h"
#include "base/net.h"
#include "ng/bencode.h"
#include "relay/calls.h"
#include "relay/relay.h"
#include "t.h"

/* 30 bytes: an AES-128 key and salt */
#define KEY128 "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
#define OUT_HOST "127.0.0.1"	/* the outside interface */
#define IN_HOST "127.0.0.2"	/* the inside one */

struct ctx {
	struct ev_loop *l;
	struct relay *r;
	struct calls *c;
	struct net_addr peer;	/* the ng client (keys the reply cache) */
	unsigned seq;		/* cookies */
	struct buf *out;	/* the last reply datagram */
};

/* The last reply, taken apart. */
struct rep {
	int e;			/* calls_handle() */
	struct bencode_doc *d;
	const struct bencode *root;
	char result[32], reason[128], warning[128];
	char sdp[4096];
};

static int
ctx_init(struct ctx *x, size_t max_sessions)
{
	struct relay_config rc;
	struct calls_config cc;
	int e = 0;

	memset(x, 0, sizeof(*x));
	memset(&rc, 0, sizeof(rc));
	memset(&cc, 0, sizeof(cc));
	rc.io = RELAY_IO_EPOLL;
	if ((x->l = ev_new(NULL)) == NULL ||
	    (x->r = relay_new(x->l, &rc, NULL, &e)) == NULL)
		return -1;
	if (net_addr_parse_host(SLICE_LIT(OUT_HOST), 0, &cc.iface[0]) != 0 ||
	    net_addr_parse_host(SLICE_LIT(IN_HOST), 0, &cc.iface[1]) != 0 ||
	    net_addr_parse(SLICE_LIT("127.0.0.1:5555"), &x->peer) != 0)
		return -1;
	cc.max_sessions = max_sessions;
	if ((x->c = calls_new(x->r, x->l, &cc, NULL, &e)) == NULL)
		return -1;
	x->out = buf_new(65536);
	return x->out != NULL ? 0 : -1;
}

static void
ctx_done(struct ctx *x)
{
	calls_free(x->c);
	relay_free(x->r);
	ev_free(x->l);
	buf_free(x->out);
}

static void
rep_free(struct rep *p)
{
	bencode_doc_free(p->d);
	p->d = NULL;
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

/* Send the datagram in x->out through the table; parse its reply. */
static void
exchange(struct ctx *x, struct buf *req, struct rep *p)
{
	struct slice reply, cookie;

	memset(p, 0, sizeof(*p));
	buf_reset(x->out);
	p->e = calls_handle(x->c, buf_slice(req), &x->peer, x->out);
	if (p->e != 0)
		return;
	reply = buf_slice(x->out);
	if (slice_split(&reply, ' ', &cookie) != 1 ||
	    bencode_parse(reply, NULL, &p->d, NULL) != 0)
		return;
	p->root = bencode_root(p->d);
	get_str(p->root, "result", p->result, sizeof(p->result));
	get_str(p->root, "error-reason", p->reason, sizeof(p->reason));
	get_str(p->root, "warning", p->warning, sizeof(p->warning));
	get_str(p->root, "sdp", p->sdp, sizeof(p->sdp));
}

/*
 * An ng request of key/value pairs (ending with NULL): a value "#N" is
 * the integer N, "[a,b]" the list of strings a and b, anything else a
 * string. The reply in `p` (rep_free() it).
 */
static void
ng(struct ctx *x, struct rep *p, ...)
{
	struct buf *b = buf_new(16384);
	char cookie[32];
	const char *k, *v;
	va_list ap;
	int r;

	(void)snprintf(cookie, sizeof(cookie), "t%u ", ++x->seq);
	r = buf_append_cstr(b, cookie);
	if (r == 0)
		r = bencode_put_dict(b);
	va_start(ap, p);
	while (r == 0 && (k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (v[0] == '#') {
			r = bencode_put_kint(b, k, strtoll(v + 1, NULL, 10));
		} else if (v[0] == '[') {
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
	if (r != 0) {
		memset(p, 0, sizeof(*p));
		p->e = r;
	} else {
		exchange(x, b, p);
	}
	buf_free(b);
}

/* An SDP of one audio line at `host`:`port`, with `proto`, an optional
 * a=crypto line (without "a=") and optional extra lines. */
static const char *
sdp(char *dst, size_t n, const char *host, unsigned port, const char *proto,
    const char *crypto)
{
	int k = snprintf(dst, n, "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\n"
	    "c=IN IP4 %s\r\nt=0 0\r\nm=audio %u %s 0 8\r\n"
	    "a=rtpmap:0 PCMU/8000\r\n%s%s%s", host, host, port, proto,
	    crypto != NULL ? "a=" : "", crypto != NULL ? crypto : "",
	    crypto != NULL ? "\r\n" : "");

	if (k < 0 || (size_t)k >= n)
		dst[0] = '\0';
	return dst;
}

static unsigned
count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* The port of the SDP's first m= line, or 0. */
static unsigned long
media_port(const char *s)
{
	const char *m = strstr(s, "m=audio ");

	return m != NULL ? strtoul(m + 8, NULL, 10) : 0;
}

static const struct bencode *
dict_path(const struct bencode *n, const char *k1, const char *k2)
{
	if (n != NULL)
		n = bencode_dict_get(n, k1);
	if (n != NULL && k2 != NULL)
		n = bencode_dict_get(n, k2);
	return n;
}

static void
test_ping_and_errors(void)
{
	struct ctx x;
	struct rep p;
	char s[1024];

	if (ctx_init(&x, 0) != 0) {
		T_OK(0, "set-up");
		return;
	}
	ng(&x, &p, "command", "ping", NULL);
	T_EQ_STR(p.result, "pong", "ping: pong");
	rep_free(&p);

	ng(&x, &p, "command", "answer", "call-id", "nope", "from-tag", "a",
	    "to-tag", "b", "sdp", sdp(s, sizeof(s), "10.0.0.1", 4000,
	    "RTP/AVP", NULL), NULL);
	T_EQ_STR(p.result, "error", "answer, unknown call: error");
	T_EQ_STR(p.reason, "Unknown call-id", "answer, unknown call: reason");
	rep_free(&p);

	ng(&x, &p, "command", "query", "call-id", "nope", NULL);
	T_EQ_STR(p.reason, "Unknown call-id", "query, unknown call");
	rep_free(&p);

	ng(&x, &p, "command", "offer", "call-id", "bad", "from-tag", "a",
	    "sdp", "this is no SDP", NULL);
	T_EQ_STR(p.result, "error", "offer, bad SDP: error");
	T_EQ_STR(p.reason, "Failed to parse SDP", "offer, bad SDP: reason");
	T_EQ_INT(calls_count(x.c), 0, "offer, bad SDP: no call left");
	T_EQ_INT(relay_nstreams(x.r), 0, "offer, bad SDP: no stream left");
	rep_free(&p);

	ng(&x, &p, "command", "offer", "from-tag", "a", "sdp",
	    sdp(s, sizeof(s), "10.0.0.1", 4000, "RTP/AVP", NULL), NULL);
	T_EQ_STR(p.reason, "No call-id in message", "offer without call-id");
	rep_free(&p);

	ng(&x, &p, "command", "frobnicate", "call-id", "x", NULL);
	T_EQ_STR(p.result, "error", "unknown command: error");
	T_EQ_STR(p.reason, "Unrecognized command", "unknown command: reason");
	rep_free(&p);

	/* an offer of a suite we do not take */
	ng(&x, &p, "command", "offer", "call-id", "suite", "from-tag", "a",
	    "sdp", sdp(s, sizeof(s), "10.0.0.1", 4000, "RTP/SAVP",
	    "crypto:1 F8_128_HMAC_SHA1_80 " KEY128), NULL);
	T_EQ_STR(p.result, "error", "offer, no usable suite: error");
	T_EQ_INT(calls_count(x.c), 0, "offer, no usable suite: no call");
	T_EQ_INT(relay_nstreams(x.r), 0, "offer, no usable suite: no stream");
	rep_free(&p);

	/* no cookie: nothing to answer */
	{
		struct buf *b = buf_new(64);

		T_OK(b != NULL && buf_append_cstr(b, "nocookie") == 0,
		    "a datagram without a cookie");
		exchange(&x, b, &p);
		T_EQ_INT(p.e, E_SYNTAX, "without a cookie: E_SYNTAX");
		rep_free(&p);
		buf_free(b);
	}
	ctx_done(&x);
}

/* SRTP from outside, offered as RTP inside; the answer turns it back. */
static void
test_offer_answer_srtp_to_rtp(void)
{
	struct ctx x;
	struct rep p;
	char s[1024];
	unsigned long in_port, out_port;
	const struct bencode *n;

	if (ctx_init(&x, 0) != 0) {
		T_OK(0, "set-up");
		return;
	}
	ng(&x, &p, "command", "offer", "call-id", "c1", "from-tag", "ft",
	    "transport-protocol", "RTP/AVP", "sdp", sdp(s, sizeof(s),
	    "10.0.0.1", 4000, "RTP/SAVP",
	    "crypto:1 AES_CM_128_HMAC_SHA1_80 " KEY128), NULL);
	T_EQ_STR(p.result, "ok", "srtp->rtp offer: ok");
	T_OK(strstr(p.sdp, " RTP/AVP 0 8\r\n") != NULL,
	    "srtp->rtp offer: RTP/AVP towards the recipient");
	T_EQ_INT(count(p.sdp, "a=crypto:"), 0, "srtp->rtp offer: no a=crypto");
	T_OK(strstr(p.sdp, "c=IN IP4 " IN_HOST "\r\n") != NULL,
	    "srtp->rtp offer: the inside address");
	T_OK(strstr(p.sdp, "c=IN IP4 10.0.0.1") == NULL,
	    "srtp->rtp offer: the offerer's address is gone");
	in_port = media_port(p.sdp);
	T_OK(in_port != 0 && in_port != 4000, "srtp->rtp offer: our port %lu",
	    in_port);
	T_EQ_INT(calls_count(x.c), 1, "srtp->rtp offer: one call");
	T_EQ_INT(relay_nstreams(x.r), 1, "srtp->rtp offer: one stream");
	rep_free(&p);

	/* the same offer again (a re-INVITE): the same ports */
	ng(&x, &p, "command", "offer", "call-id", "c1", "from-tag", "ft",
	    "transport-protocol", "RTP/AVP", "sdp", sdp(s, sizeof(s),
	    "10.0.0.1", 4000, "RTP/SAVP",
	    "crypto:1 AES_CM_128_HMAC_SHA1_80 " KEY128), NULL);
	T_EQ_INT(media_port(p.sdp), in_port, "re-offer: the same port");
	T_EQ_INT(relay_nstreams(x.r), 1, "re-offer: still one stream");
	rep_free(&p);

	ng(&x, &p, "command", "answer", "call-id", "c1", "from-tag", "ft",
	    "to-tag", "tt", "sdp", sdp(s, sizeof(s), "10.0.0.2", 5000,
	    "RTP/AVP", NULL), NULL);
	T_EQ_STR(p.result, "ok", "srtp->rtp answer: ok");
	T_OK(strstr(p.sdp, " RTP/SAVP 0 8\r\n") != NULL,
	    "srtp->rtp answer: RTP/SAVP towards the offerer");
	T_EQ_INT(count(p.sdp, "a=crypto:"), 1,
	    "srtp->rtp answer: one a=crypto");
	T_OK(strstr(p.sdp, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") !=
	    NULL, "srtp->rtp answer: the offer's suite and tag");
	T_OK(strstr(p.sdp, KEY128) == NULL,
	    "srtp->rtp answer: our own key, not the offerer's");
	T_OK(strstr(p.sdp, "c=IN IP4 " OUT_HOST "\r\n") != NULL,
	    "srtp->rtp answer: the outside address");
	out_port = media_port(p.sdp);
	T_OK(out_port != 0 && out_port != in_port,
	    "srtp->rtp answer: our outside port %lu", out_port);
	T_EQ_INT(relay_nstreams(x.r), 1, "srtp->rtp answer: one stream");
	rep_free(&p);

	/* a retransmitted request is answered from the cache */
	{
		struct buf *b = buf_new(256), *first = buf_new(65536);
		struct rep q;

		T_OK(b != NULL && first != NULL && buf_append_cstr(b,
		    "again d7:command4:list4:callse") == 0, "list request");
		exchange(&x, b, &q);
		T_OK(buf_append_slice(first, buf_slice(x.out)) == 0,
		    "first reply kept");
		rep_free(&q);
		ng(&x, &p, "command", "offer", "call-id", "c2", "from-tag",
		    "f2", "sdp", sdp(s, sizeof(s), "10.0.0.1", 4002,
		    "RTP/AVP", NULL), NULL);
		rep_free(&p);
		exchange(&x, b, &q);
		T_OK(slice_eq(buf_slice(x.out), buf_slice(first)),
		    "a retransmission gets the first reply");
		rep_free(&q);
		buf_free(b);
		buf_free(first);
	}

	ng(&x, &p, "command", "list", NULL);
	T_EQ_STR(p.result, "ok", "list: ok");
	n = p.root != NULL ? bencode_dict_get(p.root, "calls") : NULL;
	T_EQ_INT(n != NULL ? bencode_count(n) : 99, 2, "list: two calls");
	rep_free(&p);

	ng(&x, &p, "command", "query", "call-id", "c1", NULL);
	T_EQ_STR(p.result, "ok", "query: ok");
	T_OK(dict_path(p.root, "tags", "ft") != NULL &&
	    dict_path(p.root, "tags", "tt") != NULL, "query: both tags");
	T_OK(p.root != NULL && bencode_dict_get(p.root, "created") != NULL &&
	    bencode_dict_get(p.root, "totals") != NULL,
	    "query: created and totals");
	n = dict_path(p.root, "tags", "ft");
	n = n != NULL ? bencode_dict_get(n, "medias") : NULL;
	n = n != NULL ? bencode_first(n) : NULL;
	{
		char proto[32];

		get_str(n, "protocol", proto, sizeof(proto));
		T_EQ_STR(proto, "RTP/SAVP", "query: the offerer's profile");
	}
	rep_free(&p);

	ng(&x, &p, "command", "statistics", NULL);
	T_EQ_STR(p.result, "ok", "statistics: ok");
	n = dict_path(p.root, "statistics", "currentstatistics");
	n = n != NULL ? bencode_dict_get(n, "sessionsown") : NULL;
	{
		int64_t v = -1;

		T_OK(n != NULL && bencode_int(n, &v) == 0 && v == 2,
		    "statistics: two sessions (%lld)", (long long)v);
	}
	rep_free(&p);

	/* delete without tags: a bare ok, the call gone */
	ng(&x, &p, "command", "delete", "call-id", "c2", NULL);
	T_EQ_STR(p.result, "ok", "delete without tags: ok");
	T_OK(p.root != NULL && bencode_dict_get(p.root, "created") == NULL,
	    "delete without tags: a bare ok");
	T_EQ_INT(calls_count(x.c), 1, "delete without tags: one call left");
	rep_free(&p);

	/* tags that match nothing: ok with a warning, unless fatal */
	ng(&x, &p, "command", "delete", "call-id", "c1", "from-tag", "ft",
	    "to-tag", "other", NULL);
	T_EQ_STR(p.result, "ok", "delete, wrong tags: ok");
	T_EQ_STR(p.warning, "Call-ID not found or tags didn't match",
	    "delete, wrong tags: the warning");
	T_EQ_INT(calls_count(x.c), 1, "delete, wrong tags: nothing deleted");
	rep_free(&p);
	ng(&x, &p, "command", "delete", "call-id", "c1", "from-tag", "zz",
	    "flags", "[fatal]", NULL);
	T_EQ_STR(p.result, "error", "delete, unknown tag, fatal: error");
	T_EQ_STR(p.reason, "Call-ID not found or tags didn't match",
	    "delete, unknown tag, fatal: the reason");
	rep_free(&p);
	ng(&x, &p, "command", "delete", "call-id", "gone", "from-tag", "ft",
	    NULL);
	T_EQ_STR(p.warning, "Call-ID not found or tags didn't match",
	    "delete, unknown call: the warning");
	rep_free(&p);

	ng(&x, &p, "command", "delete", "call-id", "c1", "from-tag", "ft",
	    "to-tag", "tt", NULL);
	T_EQ_STR(p.result, "ok", "delete by tags: ok");
	T_OK(dict_path(p.root, "tags", "tt") != NULL,
	    "delete by tags: the query of what was deleted");
	T_EQ_INT(calls_count(x.c), 0, "delete by tags: no call left");
	T_EQ_INT(relay_nstreams(x.r), 0, "delete by tags: no stream left");
	rep_free(&p);
	ctx_done(&x);
}

/* RTP from inside, offered as SRTP outside: keys per suite, SDES. */
static void
test_offer_answer_rtp_to_srtp(void)
{
	struct ctx x;
	struct rep p;
	char s[1024];

	if (ctx_init(&x, 0) != 0) {
		T_OK(0, "set-up");
		return;
	}
	ng(&x, &p, "command", "offer", "call-id", "c1", "from-tag", "ft",
	    "transport-protocol", "RTP/SAVP", "sdp", sdp(s, sizeof(s),
	    "10.0.0.1", 4000, "RTP/AVP", NULL), NULL);
	T_EQ_STR(p.result, "ok", "rtp->srtp offer: ok");
	T_OK(strstr(p.sdp, " RTP/SAVP 0 8\r\n") != NULL,
	    "rtp->srtp offer: RTP/SAVP");
	T_EQ_INT(count(p.sdp, "a=crypto:"), 2,
	    "rtp->srtp offer: one key per suite of the default order");
	T_OK(strstr(p.sdp, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") !=
	    NULL, "rtp->srtp offer: AES_CM_128_HMAC_SHA1_80 first");
	T_OK(strstr(p.sdp, "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:") !=
	    NULL, "rtp->srtp offer: AES_CM_128_HMAC_SHA1_32 second");
	T_OK(strstr(p.sdp, "c=IN IP4 " OUT_HOST "\r\n") != NULL,
	    "rtp->srtp offer: towards outside (the offer came from inside)");
	rep_free(&p);

	/* the answer picks the second suite: matched by suite, not tag */
	ng(&x, &p, "command", "answer", "call-id", "c1", "from-tag", "ft",
	    "to-tag", "tt", "sdp", sdp(s, sizeof(s), "10.0.0.2", 5000,
	    "RTP/SAVP", "crypto:7 AES_CM_128_HMAC_SHA1_32 " KEY128), NULL);
	T_EQ_STR(p.result, "ok", "rtp->srtp answer: ok");
	T_OK(strstr(p.sdp, " RTP/AVP 0 8\r\n") != NULL,
	    "rtp->srtp answer: RTP/AVP to the offerer");
	T_EQ_INT(count(p.sdp, "a=crypto:"), 0, "rtp->srtp answer: no a=crypto");
	T_OK(strstr(p.sdp, "c=IN IP4 " IN_HOST "\r\n") != NULL,
	    "rtp->srtp answer: the inside address");
	rep_free(&p);
	ctx_done(&x);

	/* SDES only-: one suite offered; an answer of another is refused */
	if (ctx_init(&x, 0) != 0) {
		T_OK(0, "set-up");
		return;
	}
	ng(&x, &p, "command", "offer", "call-id", "c1", "from-tag", "ft",
	    "transport-protocol", "RTP/SAVP", "SDES",
	    "[only-AES_CM_128_HMAC_SHA1_80]", "sdp", sdp(s, sizeof(s),
	    "10.0.0.1", 4000, "RTP/AVP", NULL), NULL);
	T_EQ_INT(count(p.sdp, "a=crypto:"), 1, "SDES only-: one a=crypto");
	T_OK(strstr(p.sdp, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 ") != NULL,
	    "SDES only-: that suite");
	rep_free(&p);
	ng(&x, &p, "command", "offer", "call-id", "c2", "from-tag", "ft",
	    "transport-protocol", "RTP/SAVP", "SDES",
	    "[no-AES_CM_128_HMAC_SHA1_80]", "sdp",
	    sdp(s, sizeof(s), "10.0.0.1", 4000, "RTP/AVP", NULL), NULL);
	T_OK(strstr(p.sdp, "AES_CM_128_HMAC_SHA1_80") == NULL &&
	    count(p.sdp, "a=crypto:") == 1 && strstr(p.sdp,
	    "a=crypto:1 AES_CM_128_HMAC_SHA1_32 ") != NULL,
	    "SDES no-: that suite left out, the next one tag 1");
	rep_free(&p);
	ng(&x, &p, "command", "offer", "call-id", "c3", "from-tag", "ft",
	    "transport-protocol", "RTP/SAVP", "SDES",
	    "[no-AES_CM_128_HMAC_SHA1_80,no-AES_CM_128_HMAC_SHA1_32]", "sdp",
	    sdp(s, sizeof(s), "10.0.0.1", 4000, "RTP/AVP", NULL), NULL);
	T_EQ_STR(p.result, "error", "SDES no- of every suite: error");
	T_EQ_INT(calls_count(x.c), 2, "SDES no- of every suite: no call");
	rep_free(&p);
	ng(&x, &p, "command", "answer", "call-id", "c1", "from-tag", "ft",
	    "to-tag", "tt", "sdp", sdp(s, sizeof(s), "10.0.0.2", 5000,
	    "RTP/SAVP", "crypto:1 AES_CM_128_HMAC_SHA1_32 " KEY128), NULL);
	T_EQ_STR(p.result, "error", "answer of a suite not offered: error");
	T_EQ_STR(p.reason, "answer's crypto suite was not offered",
	    "answer of a suite not offered: reason");
	rep_free(&p);
	ctx_done(&x);
}

/* Parallel forks: one branch per via-branch, deleted one at a time. */
static void
test_forks(void)
{
	struct ctx x;
	struct rep p;
	char s[1024];
	unsigned long p1, p2;

	if (ctx_init(&x, 0) != 0) {
		T_OK(0, "set-up");
		return;
	}
	ng(&x, &p, "command", "offer", "call-id", "f", "from-tag", "a",
	    "via-branch", "v1", "sdp", sdp(s, sizeof(s), "10.0.0.1", 4000,
	    "RTP/AVP", NULL), NULL);
	p1 = media_port(p.sdp);
	T_EQ_STR(p.result, "ok", "fork 1 offer: ok");
	rep_free(&p);
	ng(&x, &p, "command", "offer", "call-id", "f", "from-tag", "a",
	    "via-branch", "v2", "sdp", sdp(s, sizeof(s), "10.0.0.1", 4000,
	    "RTP/AVP", NULL), NULL);
	p2 = media_port(p.sdp);
	T_EQ_STR(p.result, "ok", "fork 2 offer: ok");
	T_OK(p1 != 0 && p2 != 0 && p1 != p2,
	    "forks: each its own ports (%lu, %lu)", p1, p2);
	T_EQ_INT(calls_count(x.c), 1, "forks: one call");
	T_EQ_INT(relay_nstreams(x.r), 2, "forks: two streams");
	rep_free(&p);

	ng(&x, &p, "command", "query", "call-id", "f", NULL);
	T_OK(dict_path(p.root, "tags", "<untagged 1>") != NULL &&
	    dict_path(p.root, "tags", "<untagged 2>") != NULL,
	    "forks, unanswered: two untagged parties");
	rep_free(&p);

	ng(&x, &p, "command", "answer", "call-id", "f", "from-tag", "a",
	    "to-tag", "b2", "via-branch", "v2", "sdp", sdp(s, sizeof(s),
	    "10.0.0.3", 6000, "RTP/AVP", NULL), NULL);
	T_EQ_STR(p.result, "ok", "fork 2 answer: ok");
	rep_free(&p);
	ng(&x, &p, "command", "answer", "call-id", "f", "from-tag", "a",
	    "to-tag", "b1", "via-branch", "v1", "sdp", sdp(s, sizeof(s),
	    "10.0.0.2", 5000, "RTP/AVP", NULL), NULL);
	T_EQ_STR(p.result, "ok", "fork 1 answer: ok");
	T_EQ_INT(relay_nstreams(x.r), 2, "forks answered: two streams");
	rep_free(&p);

	ng(&x, &p, "command", "query", "call-id", "f", NULL);
	T_OK(dict_path(p.root, "tags", "a") != NULL &&
	    dict_path(p.root, "tags", "b1") != NULL &&
	    dict_path(p.root, "tags", "b2") != NULL,
	    "forks answered: the three parties");
	T_OK(dict_path(p.root, "tags", "<untagged 1>") == NULL,
	    "forks answered: no untagged party");
	rep_free(&p);

	/* from-tag and to-tag: that branch only */
	ng(&x, &p, "command", "delete", "call-id", "f", "from-tag", "a",
	    "to-tag", "b1", NULL);
	T_EQ_STR(p.result, "ok", "delete one fork: ok");
	T_OK(dict_path(p.root, "tags", "b1") != NULL &&
	    dict_path(p.root, "tags", "b2") == NULL,
	    "delete one fork: the query of that branch");
	T_EQ_INT(calls_count(x.c), 1, "delete one fork: the call stays");
	T_EQ_INT(relay_nstreams(x.r), 1, "delete one fork: one stream left");
	rep_free(&p);

	/* via-branch of the last branch: the whole call */
	ng(&x, &p, "command", "delete", "call-id", "f", "from-tag", "a",
	    "via-branch", "v2", NULL);
	T_EQ_STR(p.result, "ok", "delete the last fork: ok");
	T_EQ_INT(calls_count(x.c), 0, "delete the last fork: no call");
	T_EQ_INT(relay_nstreams(x.r), 0, "delete the last fork: no stream");
	rep_free(&p);

	/* by via-branch while another branch remains: that one only */
	ng(&x, &p, "command", "offer", "call-id", "g", "from-tag", "a",
	    "via-branch", "v1", "sdp", sdp(s, sizeof(s), "10.0.0.1", 4000,
	    "RTP/AVP", NULL), NULL);
	rep_free(&p);
	ng(&x, &p, "command", "offer", "call-id", "g", "from-tag", "a",
	    "via-branch", "v2", "sdp", sdp(s, sizeof(s), "10.0.0.1", 4000,
	    "RTP/AVP", NULL), NULL);
	rep_free(&p);
	ng(&x, &p, "command", "delete", "call-id", "g", "from-tag", "a",
	    "via-branch", "v1", NULL);
	T_EQ_INT(calls_count(x.c), 1, "delete by via-branch: the call stays");
	T_EQ_INT(relay_nstreams(x.r), 1, "delete by via-branch: one stream");
	rep_free(&p);
	ng(&x, &p, "command", "query", "call-id", "g", NULL);
	{
		const struct bencode *u = dict_path(p.root, "tags",
		    "<untagged 2>");
		char via[16];

		get_str(u, "via-branch", via, sizeof(via));
		T_EQ_STR(via, "v2", "delete by via-branch: branch v2 left");
	}
	rep_free(&p);
	ctx_done(&x);

	/* one offer, two answers with different to-tags and no
	 * via-branch: the second re-answers the one branch */
	if (ctx_init(&x, 0) != 0) {
		T_OK(0, "set-up");
		return;
	}
	ng(&x, &p, "command", "offer", "call-id", "h", "from-tag", "a",
	    "sdp", sdp(s, sizeof(s), "10.0.0.1", 4000, "RTP/AVP", NULL),
	    NULL);
	rep_free(&p);
	ng(&x, &p, "command", "answer", "call-id", "h", "from-tag", "a",
	    "to-tag", "b1", "sdp", sdp(s, sizeof(s), "10.0.0.2", 5000,
	    "RTP/AVP", NULL), NULL);
	p1 = media_port(p.sdp);
	T_EQ_STR(p.result, "ok", "first answer: ok");
	rep_free(&p);
	ng(&x, &p, "command", "answer", "call-id", "h", "from-tag", "a",
	    "to-tag", "b2", "sdp", sdp(s, sizeof(s), "10.0.0.3", 6000,
	    "RTP/AVP", NULL), NULL);
	T_EQ_STR(p.result, "ok", "second answer, other to-tag: ok");
	T_EQ_INT(media_port(p.sdp), p1, "second answer: the same port");
	T_EQ_INT(relay_nstreams(x.r), 1, "second answer: still one stream");
	rep_free(&p);
	ng(&x, &p, "command", "query", "call-id", "h", NULL);
	T_OK(dict_path(p.root, "tags", "b2") != NULL &&
	    dict_path(p.root, "tags", "b1") == NULL,
	    "second answer: its to-tag is the party now");
	rep_free(&p);
	ctx_done(&x);
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
test_delete_delay_and_limit(void)
{
	struct ctx x;
	struct rep p;
	char s[1024];
	uint64_t t0;

	if (ctx_init(&x, 1) != 0) {
		T_OK(0, "set-up");
		return;
	}
	ng(&x, &p, "command", "offer", "call-id", "d", "from-tag", "a",
	    "sdp", sdp(s, sizeof(s), "10.0.0.1", 4000, "RTP/AVP", NULL),
	    NULL);
	T_EQ_STR(p.result, "ok", "offer: ok");
	rep_free(&p);
	ng(&x, &p, "command", "offer", "call-id", "d2", "from-tag", "a",
	    "sdp", sdp(s, sizeof(s), "10.0.0.1", 4000, "RTP/AVP", NULL),
	    NULL);
	T_EQ_STR(p.reason, "Parallel session limit reached",
	    "max-sessions 1: the second call refused");
	T_EQ_INT(calls_count(x.c), 1, "max-sessions 1: one call");
	rep_free(&p);

	ng(&x, &p, "command", "delete", "call-id", "d", "from-tag", "a",
	    "delete-delay", "#1", NULL);
	T_EQ_STR(p.result, "ok", "delete-delay 1: ok");
	T_EQ_INT(calls_count(x.c), 1, "delete-delay 1: the call stays");
	rep_free(&p);
	ng(&x, &p, "command", "query", "call-id", "d", NULL);
	T_EQ_STR(p.result, "ok", "delete-delay 1: query still answers");
	rep_free(&p);
	t0 = mono_ms();
	while (calls_count(x.c) > 0 && mono_ms() - t0 < 3000)
		(void)ev_run_once(x.l, 50);
	T_EQ_INT(calls_count(x.c), 0, "delete-delay 1: gone after the delay");
	T_OK(mono_ms() - t0 >= 900, "delete-delay 1: not before a second");
	T_EQ_INT(relay_nstreams(x.r), 0, "delete-delay 1: no stream left");

	ng(&x, &p, "command", "offer", "call-id", "e", "from-tag", "a",
	    "sdp", sdp(s, sizeof(s), "10.0.0.1", 4000, "RTP/AVP", NULL),
	    NULL);
	rep_free(&p);
	ng(&x, &p, "command", "delete", "call-id", "e", "from-tag", "a",
	    "delete-delay", "#0", NULL);
	T_EQ_INT(calls_count(x.c), 0, "delete-delay 0: at once");
	rep_free(&p);
	ctx_done(&x);
}

int
main(void)
{
	test_ping_and_errors();
	test_offer_answer_srtp_to_rtp();
	test_offer_answer_rtp_to_srtp();
	test_forks();
	test_delete_delay_and_limit();
	return t_done();
}
