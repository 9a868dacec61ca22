/* ng_reply.c - rtpengine "ng" protocol, server side: building replies. */
#include <stdint.h>
#include <string.h>

#include "ng/ng_int.h"

int
ng_put_opt(struct buf *b, const char *key, struct slice v)
{
	return v.len > 0 ? bencode_put_kstr(b, key, v) : 0;
}

/* Replies (server side). */

static int
reply_head(struct buf *out, struct slice cookie)
{
	int r;

	if ((r = buf_append_slice(out, cookie)) != 0 ||
	    (r = buf_append_u8(out, ' ')) != 0)
		return r;
	return bencode_put_dict(out);
}

/* Run a reply body; on failure put `out` back as it was. */
#define REPLY(out, body) do { \
	size_t old_ = buf_len(out); \
	int r_ = (body); \
	if (r_ != 0) \
		buf_truncate((out), old_); \
	return r_; \
} while (0)

static int
ok_body(struct buf *out, struct slice cookie, struct slice sdp,
    struct slice warning)
{
	int r;

	if ((r = reply_head(out, cookie)) != 0 ||
	    (r = bencode_put_kcstr(out, "result", "ok")) != 0 ||
	    (r = ng_put_opt(out, "warning", warning)) != 0 ||
	    (r = ng_put_opt(out, "sdp", sdp)) != 0)
		return r;
	return bencode_put_end(out);
}

int
ng_reply_ok(struct buf *out, struct slice cookie, struct slice sdp,
    struct slice warning)
{
	REPLY(out, ok_body(out, cookie, sdp, warning));
}

static int
result_body(struct buf *out, struct slice cookie, const char *result,
    const char *reason)
{
	int r;

	if ((r = reply_head(out, cookie)) != 0 ||
	    (r = bencode_put_kcstr(out, "result", result)) != 0)
		return r;
	if (reason != NULL &&
	    (r = bencode_put_kcstr(out, "error-reason", reason)) != 0)
		return r;
	return bencode_put_end(out);
}

int
ng_reply_pong(struct buf *out, struct slice cookie)
{
	REPLY(out, result_body(out, cookie, "pong", NULL));
}

int
ng_reply_error(struct buf *out, struct slice cookie, const char *reason)
{
	REPLY(out, result_body(out, cookie, "error",
	    reason != NULL ? reason : "error"));
}

int
ng_reply_load_limit(struct buf *out, struct slice cookie)
{
	REPLY(out, result_body(out, cookie, "load limit",
	    "Load limit reached"));
}

static int
list_body(struct buf *out, struct slice cookie, const struct slice *ids,
    size_t n)
{
	size_t i;
	int r;

	if ((r = reply_head(out, cookie)) != 0 ||
	    (r = bencode_put_kcstr(out, "result", "ok")) != 0 ||
	    (r = bencode_put_klist(out, "calls")) != 0)
		return r;
	for (i = 0; i < n; i++)
		if ((r = bencode_put_str(out, ids[i])) != 0)
			return r;
	if ((r = bencode_put_end(out)) != 0)
		return r;
	return bencode_put_end(out);
}

int
ng_reply_list(struct buf *out, struct slice cookie,
    const struct slice *call_ids, size_t n)
{
	REPLY(out, list_body(out, cookie, call_ids, n));
}

int
ng_reply_begin(struct buf *out, struct slice cookie)
{
	int r;

	if ((r = reply_head(out, cookie)) != 0)
		return r;
	return bencode_put_kcstr(out, "result", "ok");
}

int
ng_reply_end(struct buf *out)
{
	return bencode_put_end(out);
}

static int
put_counters(struct buf *out, const char *key, const struct ng_counters *c)
{
	int r;

	if ((r = bencode_put_kdict(out, key)) != 0 ||
	    (r = bencode_put_kint(out, "packets", (int64_t)c->packets)) != 0 ||
	    (r = bencode_put_kint(out, "bytes", (int64_t)c->bytes)) != 0 ||
	    (r = bencode_put_kint(out, "errors", (int64_t)c->errors)) != 0)
		return r;
	return bencode_put_end(out);
}

int
ng_query_created(struct buf *out, uint64_t created)
{
	return bencode_put_kint(out, "created", (int64_t)created);
}

int
ng_query_tag_begin(struct buf *out, struct slice tag, struct slice via)
{
	int r;

	if ((r = bencode_put_str(out, tag)) != 0 ||
	    (r = bencode_put_dict(out)) != 0 ||
	    (r = bencode_put_kstr(out, "tag", tag)) != 0 ||
	    (r = ng_put_opt(out, "via-branch", via)) != 0)
		return r;
	return bencode_put_klist(out, "medias");
}

int
ng_query_untagged_begin(struct buf *out, unsigned n, struct slice via)
{
	char key[32];
	size_t i = sizeof(key), k;
	int r;

	/* "<untagged N>", without printf: N backwards, then in place */
	key[--i] = '>';
	do {
		key[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	k = sizeof("<untagged ") - 1;
	memcpy(key + i - k, "<untagged ", k);
	i -= k;
	if ((r = bencode_put_str(out, slice_make(key + i,
	    sizeof(key) - i))) != 0 ||
	    (r = bencode_put_dict(out)) != 0 ||
	    (r = bencode_put_kstr(out, "tag", SLICE_LIT(""))) != 0 ||
	    (r = ng_put_opt(out, "via-branch", via)) != 0)
		return r;
	return bencode_put_klist(out, "medias");
}

int
ng_query_media_begin(struct buf *out, unsigned index, struct slice type,
    struct slice protocol)
{
	int r;

	if ((r = bencode_put_dict(out)) != 0 ||
	    (r = bencode_put_kint(out, "index", index)) != 0 ||
	    (r = ng_put_opt(out, "type", type)) != 0 ||
	    (r = ng_put_opt(out, "protocol", protocol)) != 0)
		return r;
	return bencode_put_klist(out, "streams");
}

int
ng_query_stream(struct buf *out, const struct ng_stream_info *s)
{
	int r;

	if ((r = bencode_put_dict(out)) != 0 ||
	    (r = bencode_put_kint(out, "local port", s->local_port)) != 0 ||
	    (r = ng_put_opt(out, "local address", s->local_addr)) != 0)
		return r;
	if (s->peer_family.len > 0 &&
	    ((r = bencode_put_kdict(out, "endpoint")) != 0 ||
	    (r = bencode_put_kstr(out, "family", s->peer_family)) != 0 ||
	    (r = bencode_put_kstr(out, "address", s->peer_addr)) != 0 ||
	    (r = bencode_put_kint(out, "port", s->peer_port)) != 0 ||
	    (r = bencode_put_end(out)) != 0))
		return r;
	if ((r = ng_put_opt(out, "crypto suite", s->crypto_suite)) != 0 ||
	    (r = bencode_put_klist(out, "flags")) != 0 ||
	    (r = bencode_put_cstr(out, s->rtcp ? "RTCP" : "RTP")) != 0 ||
	    (r = bencode_put_end(out)) != 0)
		return r;
	if (s->last_packet > 0 && (r = bencode_put_kint(out, "last packet",
	    (int64_t)s->last_packet)) != 0)
		return r;
	if ((r = put_counters(out, "stats", &s->stats)) != 0)
		return r;
	return bencode_put_end(out);
}

static int
end2(struct buf *out)
{
	int r = bencode_put_end(out);

	return r != 0 ? r : bencode_put_end(out);
}

int
ng_query_media_end(struct buf *out)
{
	return end2(out);
}

int
ng_query_tag_end(struct buf *out)
{
	return end2(out);
}

int
ng_query_totals(struct buf *out, const struct ng_counters *rtp,
    const struct ng_counters *rtcp)
{
	int r;

	if ((r = bencode_put_kdict(out, "totals")) != 0 ||
	    (r = put_counters(out, "RTP", rtp)) != 0 ||
	    (r = put_counters(out, "RTCP", rtcp)) != 0)
		return r;
	return bencode_put_end(out);
}

static int
stats_body(struct buf *out, struct slice cookie, const struct ng_statistics *s)
{
	int r;

	if ((r = ng_reply_begin(out, cookie)) != 0 ||
	    (r = bencode_put_kdict(out, "statistics")) != 0 ||
	    (r = bencode_put_kdict(out, "currentstatistics")) != 0 ||
	    (r = bencode_put_kint(out, "sessionsown",
	    (int64_t)s->sessions_current)) != 0 ||
	    (r = bencode_put_kint(out, "sessionsforeign", 0)) != 0 ||
	    (r = bencode_put_kint(out, "sessionstotal",
	    (int64_t)s->sessions_current)) != 0 ||
	    (r = bencode_put_kint(out, "packetrate",
	    (int64_t)s->rate.packets)) != 0 ||
	    (r = bencode_put_kint(out, "byterate",
	    (int64_t)s->rate.bytes)) != 0 ||
	    (r = bencode_put_kint(out, "errorrate",
	    (int64_t)s->rate.errors)) != 0 ||
	    (r = bencode_put_end(out)) != 0)
		return r;
	if ((r = bencode_put_kdict(out, "totalstatistics")) != 0 ||
	    (r = bencode_put_kint(out, "uptime", (int64_t)s->uptime)) != 0 ||
	    (r = bencode_put_kint(out, "managedsessions",
	    (int64_t)s->sessions_total)) != 0 ||
	    (r = bencode_put_kint(out, "relayedpackets",
	    (int64_t)s->total.packets)) != 0 ||
	    (r = bencode_put_kint(out, "relayedbytes",
	    (int64_t)s->total.bytes)) != 0 ||
	    (r = bencode_put_kint(out, "relayedpacketerrors",
	    (int64_t)s->total.errors)) != 0 ||
	    (r = bencode_put_end(out)) != 0)
		return r;
	if ((r = bencode_put_end(out)) != 0)
		return r;
	return ng_reply_end(out);
}

int
ng_reply_statistics(struct buf *out, struct slice cookie,
    const struct ng_statistics *st)
{
	REPLY(out, stats_body(out, cookie, st));
}
