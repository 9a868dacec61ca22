/* ng.h - rtpengine "ng" control protocol: requests, replies, reply cache. */
#ifndef SBK_NG_H
#define SBK_NG_H

#include <stddef.h>
#include <stdint.h>

#include "ng/bencode.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/slice.h"

/*
 * One request is one datagram `COOKIE SP BENCODE-DICT`; the reply is
 * `SAME-COOKIE SP BENCODE-DICT` (see shared/refs/ng-protocol.md).
 *
 * Server side: ng_req_parse() turns a datagram into a `struct ng_req`
 * view, ng_req_check() names a missing mandatory key the way rtpengine
 * does, ng_req_warning() lists what was not understood, ng_reply_*()
 * build the answer, and a `struct ng_cache` answers retransmissions.
 *
 * Client side: fill a `struct ng_req` (ng_req_init(), then the fields),
 * take a fresh cookie from ng_cookie_new(), ng_req_encode() it, send it on
 * the schedule of a `struct ng_retry`, and read the answer with
 * ng_reply_parse().
 *
 * Names of keys and flags are compared the way ng_name_eq() does: space,
 * hyphen and underscore are the same character and ASCII case is ignored
 * (rtpengine itself is case-sensitive for some names; accepting both
 * spellings costs nothing). Values that are identifiers (call-id, tags,
 * labels) are kept byte for byte.
 */

/* Size caps chosen for this protocol. */
#define NG_DGRAM_MAX 65507	/* the largest UDP payload */
#define NG_COOKIE_MAX 128	/* longer cookies are refused */
#define NG_COOKIE_LEN 16	/* what ng_cookie_new() makes (hex chars) */
#define NG_LIST_MAX 16		/* stored names per list (SDES no-/only-) */
#define NG_UNKNOWN_MAX 16	/* stored unknown keys and flags */

/* The exact strings Kamailio's and OpenSIPS' modules fail over on. */
#define NG_ERR_PARALLEL "Parallel session limit reached"
#define NG_ERR_PORTS "Ran out of ports"
/* Error reasons rtpengine uses, for the same situations. */
#define NG_ERR_UNKNOWN_CALL "Unknown call-id"
#define NG_ERR_UNKNOWN_TAG "Unknown tag"
/* delete of an unknown call: a warning with `ok`, or the error reason when
 * the request has the flag `fatal` */
#define NG_ERR_DELETE_NOT_FOUND "Call-ID not found or tags didn't match"
#define NG_ERR_UNRECOGNIZED "Unrecognized command"
#define NG_ERR_NO_CALL_ID "No call-id in message"
#define NG_ERR_NO_FROM_TAG "No from-tag in message"
#define NG_ERR_NO_TO_TAG "No to-tag in message"
#define NG_ERR_NO_SDP "No SDP body in message"
#define NG_ERR_NO_COMMAND "No command in message"
#define NG_ERR_DECODE "Could not decode bencode dictionary"
#define NG_ERR_BAD_SDP "Failed to parse SDP"

enum ng_cmd {
	NG_CMD_NONE = 0,	/* no `command` key */
	NG_CMD_OTHER,		/* a command we do not handle (see .command) */
	NG_CMD_PING,
	NG_CMD_OFFER,
	NG_CMD_ANSWER,
	NG_CMD_DELETE,
	NG_CMD_QUERY,
	NG_CMD_LIST,
	NG_CMD_STATISTICS,
};

/* transport-protocol: the profile towards the recipient of this SDP. */
enum ng_proto {
	NG_PROTO_NONE = 0,	/* not given: keep what the SDP says */
	NG_PROTO_RTP_AVP,
	NG_PROTO_RTP_SAVP,
	NG_PROTO_RTP_AVPF,
	NG_PROTO_RTP_SAVPF,
	NG_PROTO_UDP_TLS_RTP_SAVP,
	NG_PROTO_UDP_TLS_RTP_SAVPF,
	NG_PROTO_OTHER,		/* see .transport_protocol */
};

enum ng_ice {
	NG_ICE_NONE = 0,	/* not given */
	NG_ICE_REMOVE,
	NG_ICE_FORCE,
	NG_ICE_FORCE_RELAY,
	NG_ICE_DEFAULT,
	NG_ICE_OPTIONAL,
	NG_ICE_OTHER,
};

enum ng_dtls {
	NG_DTLS_NONE = 0,	/* not given */
	NG_DTLS_OFF,		/* also "no", "disable" */
	NG_DTLS_PASSIVE,
	NG_DTLS_ACTIVE,
	NG_DTLS_OTHER,
};

/* replace: [...] */
enum {
	NG_REPLACE_ORIGIN = 1u << 0,
	NG_REPLACE_SESSION_CONNECTION = 1u << 1,
	NG_REPLACE_SDP_VERSION = 1u << 2,
	NG_REPLACE_USERNAME = 1u << 3,
	NG_REPLACE_SESSION_NAME = 1u << 4,
	NG_REPLACE_ZERO_ADDRESS = 1u << 5,
	NG_REPLACE_ORIGIN_FULL = 1u << 6,
};

/* rtcp-mux: [...] */
enum {
	NG_RTCP_MUX_OFFER = 1u << 0,
	NG_RTCP_MUX_DEMUX = 1u << 1,
	NG_RTCP_MUX_ACCEPT = 1u << 2,
	NG_RTCP_MUX_REJECT = 1u << 3,
	NG_RTCP_MUX_REQUIRE = 1u << 4,
};

/* SDES: [...] (plus no-SUITE / only-SUITE, kept as names in sdes_no[] /
 * sdes_only[]) */
enum {
	NG_SDES_OFF = 1u << 0,
	NG_SDES_NONEW = 1u << 1,
	NG_SDES_PAD = 1u << 2,
	NG_SDES_STATIC = 1u << 3,
	NG_SDES_UNENCRYPTED_SRTP = 1u << 4,
	NG_SDES_UNENCRYPTED_SRTCP = 1u << 5,
	NG_SDES_UNAUTHENTICATED_SRTP = 1u << 6,
	NG_SDES_ENCRYPTED_SRTP = 1u << 7,
	NG_SDES_ENCRYPTED_SRTCP = 1u << 8,
	NG_SDES_AUTHENTICATED_SRTP = 1u << 9,
	NG_SDES_LIFETIME = 1u << 10,
	NG_SDES_PRIORITIZE = 1u << 11,
};

/* supports: [...] */
enum {
	NG_SUPPORTS_LOAD_LIMIT = 1u << 0,
};

/* flags: [...] */
enum {
	NG_FLAG_TRUST_ADDRESS = 1u << 0,
	NG_FLAG_SIP_SOURCE_ADDRESS = 1u << 1,
	NG_FLAG_SYMMETRIC = 1u << 2,
	NG_FLAG_ASYMMETRIC = 1u << 3,
	NG_FLAG_STRICT_SOURCE = 1u << 4,
	NG_FLAG_MEDIA_HANDOVER = 1u << 5,
	NG_FLAG_PORT_LATCHING = 1u << 6,
	NG_FLAG_NO_RTCP_ATTRIBUTE = 1u << 7,
	NG_FLAG_FULL_RTCP_ATTRIBUTE = 1u << 8,
	NG_FLAG_LOOP_PROTECT = 1u << 9,
	NG_FLAG_RECRYPT = 1u << 10,
	NG_FLAG_FATAL = 1u << 11,
	NG_FLAG_FAST = 1u << 12,	/* rtpengine ignores it; accepted */
	NG_FLAG_TO_TAG = 1u << 13,	/* delete: match by to-tag */
	NG_FLAG_ALL = 1u << 14,
	NG_FLAG_RESET = 1u << 15,
	NG_FLAG_UNIDIRECTIONAL = 1u << 16,
	NG_FLAG_NO_PORT_LATCHING = 1u << 17,
	NG_FLAG_RECORD_CALL = 1u << 18,
	NG_FLAG_GENERATE_MID = 1u << 19,
	NG_FLAG_PAD_CRYPTO = 1u << 20,
	NG_FLAG_TRICKLE_ICE = 1u << 21,
	NG_FLAG_ORIGINAL_SENDRECV = 1u << 22,
	NG_FLAG_DISCARD_RECORDING = 1u << 23,
};

/*
 * A request. Every slice BORROWS the datagram given to ng_req_parse()
 * (or, when building, whatever the caller points it at); an empty slice
 * (len 0) means "not given". ng_req_parse() owns a decoded tree in `doc`:
 * release it with ng_req_release().
 */
struct ng_req {
	struct slice cookie;
	enum ng_cmd cmd;
	struct slice command;		/* as sent */
	struct slice call_id, from_tag, to_tag, via_branch;
	struct slice sdp;
	enum ng_proto proto;
	struct slice transport_protocol;	/* as sent */
	enum ng_ice ice;
	enum ng_dtls dtls;
	unsigned replace;		/* NG_REPLACE_* */
	unsigned rtcp_mux;		/* NG_RTCP_MUX_* */
	unsigned sdes;			/* NG_SDES_* */
	struct slice sdes_no[NG_LIST_MAX];	/* SDES no-SUITE */
	size_t n_sdes_no;
	struct slice sdes_only[NG_LIST_MAX];	/* SDES only-SUITE */
	size_t n_sdes_only;
	/* direction: [from, to], or from-interface / to-interface */
	struct slice from_interface, to_interface;
	/* received-from: [family, address] */
	struct slice received_family, received_addr;
	struct slice media_address, address_family;
	struct slice label, sip_message_type, record_call;
	int64_t delete_delay;		/* -1: not given */
	unsigned supports;		/* NG_SUPPORTS_* */
	unsigned flags;			/* NG_FLAG_* */
	struct slice rtpp_flags;	/* the whole-string form, if sent */
	/* names not understood (keys and flag words), for a warning */
	struct slice unknown[NG_UNKNOWN_MAX];
	size_t n_unknown;		/* may exceed NG_UNKNOWN_MAX */
	/* building only: flag words sent verbatim in `flags` */
	struct slice extra_flags[NG_UNKNOWN_MAX];
	size_t n_extra_flags;
	/* parsing only: the decoded dictionary, for keys not mapped here */
	const struct bencode *dict;
	struct bencode_doc *doc;
};

/* An empty request (every field "not given"), for building. */
void ng_req_init(struct ng_req *req);

/*
 * Parse datagram `dgram` into `req` (fully overwritten). Returns 0, or:
 * E_SYNTAX with req->cookie empty: no usable cookie, drop the datagram
 * silently; E_SYNTAX/E_SHORT/E_BIG with a cookie: the document is not a
 * bencoded dictionary, answer ng_reply_error(NG_ERR_DECODE). Unknown keys,
 * flags and values do not fail: they land in req->unknown[]. Even on
 * failure, call ng_req_release() (it is harmless).
 */
int ng_req_parse(struct ng_req *req, struct slice dgram) WUR;
/* Free what ng_req_parse() allocated; the view's slices stay valid only
 * as long as the datagram does. */
void ng_req_release(struct ng_req *req);

/*
 * The rtpengine error reason for a request missing a key its command
 * needs (NG_ERR_NO_*, NG_ERR_UNRECOGNIZED), or NULL if it is complete.
 */
const char *ng_req_check(const struct ng_req *req);

/*
 * Append a readable warning naming every unknown key and flag in `req`
 * (e.g. "Unknown flag(s) or key(s): foo, bar") to `out`; appends nothing
 * when there are none. Returns 0, E_BIG or E_NOMEM.
 */
int ng_req_warning(const struct ng_req *req, struct buf *out) WUR;

/*
 * Encode `req` as a datagram `COOKIE SP DICT` appended to `out`: the
 * command, every given key, the bit sets as their lists, extra_flags[] in
 * `flags`. req->cookie must be set (see ng_cookie_new()); req->cmd must be
 * a known command. Returns 0, E_INVAL, E_BIG or E_NOMEM; `out` is left as
 * it was on failure.
 */
int ng_req_encode(const struct ng_req *req, struct buf *out) WUR;

/*
 * Write a fresh random cookie (NG_COOKIE_LEN hex characters and a NUL)
 * into `out`, which has room for `n` bytes. Returns 0, E_INVAL (too small)
 * or E_CRYPTO.
 */
int ng_cookie_new(char *out, size_t n) WUR;

/* Name helpers. */
/* Does `name` equal `canon` (space = '-' = '_', ASCII case ignored)? */
int ng_name_eq(struct slice name, const char *canon);
const char *ng_cmd_name(enum ng_cmd cmd);	/* "offer", ...; NULL */
const char *ng_proto_name(enum ng_proto p);	/* "RTP/AVP", ...; NULL */
/* The profile named `s` (exact SDP spelling, case ignored). */
enum ng_proto ng_proto_parse(struct slice s);
/* True for RTP/SAVP, RTP/SAVPF and the DTLS ones. */
int ng_proto_is_srtp(enum ng_proto p);

/*
 * Replies (server side). Each appends a whole datagram `COOKIE SP DICT`
 * to `out` and returns 0, E_BIG or E_NOMEM; on failure `out` is left as
 * it was. An empty slice means "leave this key out".
 */
int ng_reply_ok(struct buf *out, struct slice cookie, struct slice sdp,
    struct slice warning) WUR;
int ng_reply_pong(struct buf *out, struct slice cookie) WUR;
int ng_reply_error(struct buf *out, struct slice cookie, const char *reason)
    WUR;
int ng_reply_load_limit(struct buf *out, struct slice cookie) WUR;
/* `calls`: the call-ids, as rtpengine's `list` answers. */
int ng_reply_list(struct buf *out, struct slice cookie,
    const struct slice *call_ids, size_t n) WUR;

/*
 * Longer replies (query, statistics) are built in steps: ng_reply_begin()
 * writes `COOKIE SP d 6:result 2:ok` and leaves the dict open; add
 * members with the bencode_put_k*() calls (nested dicts and lists are
 * opened with bencode_put_kdict()/bencode_put_klist() and closed with
 * bencode_put_end()); ng_reply_end() closes the top dict. The helpers
 * below write the members rtpengine's query and statistics replies use.
 * On failure the caller resets `out` to its earlier length.
 */
int ng_reply_begin(struct buf *out, struct slice cookie) WUR;
int ng_reply_end(struct buf *out) WUR;

/* Packet counters, as rtpengine reports them. */
struct ng_counters {
	uint64_t packets, bytes, errors;
};

/* One stream (RTP or RTCP of one media) of a `query` reply. */
struct ng_stream_info {
	uint16_t local_port;
	struct slice local_addr;	/* optional */
	struct slice peer_family;	/* "IPv4" / "IPv6"; empty: no peer */
	struct slice peer_addr;
	uint16_t peer_port;
	struct slice crypto_suite;	/* empty: plain RTP */
	int rtcp;			/* 1 for an RTCP stream */
	uint64_t last_packet;		/* seconds since the epoch, 0: none */
	struct ng_counters stats;
};

/*
 * A query reply, as rtpengine shapes it:
 *   ng_reply_begin(out, cookie);
 *   ng_query_created(out, t);                      "created": t
 *   bencode_put_kdict(out, "tags");                "tags": {
 *     ng_query_tag_begin(out, tag, via);             TAG: { "tag": TAG, "medias": [
 *       ng_query_media_begin(out, 1, type, proto);     { "index", "type", "protocol", "streams": [
 *         ng_query_stream(out, &rtp_info);               { "local port", "endpoint", "stats", ... }
 *         ng_query_stream(out, &rtcp_info);
 *       ng_query_media_end(out);                       ] }
 *     ng_query_tag_end(out);                         ] }
 *   bencode_put_end(out);                          }
 *   ng_query_totals(out, &rtp, &rtcp);             "totals": { "RTP": {...}, "RTCP": {...} }
 *   ng_reply_end(out);
 */
int ng_query_created(struct buf *out, uint64_t created) WUR;
/* `via`: the tag's via-branch, or SLICE_NULL for none. */
int ng_query_tag_begin(struct buf *out, struct slice tag, struct slice via)
    WUR;
/*
 * The same for a party without a tag yet (a fork not answered): key
 * "<untagged N>" and "tag": "", as rtpengine writes it; `n` tells such
 * parties of one call apart.
 */
int ng_query_untagged_begin(struct buf *out, unsigned n, struct slice via)
    WUR;
int ng_query_media_begin(struct buf *out, unsigned index, struct slice type,
    struct slice protocol) WUR;
int ng_query_stream(struct buf *out, const struct ng_stream_info *s) WUR;
int ng_query_media_end(struct buf *out) WUR;
int ng_query_tag_end(struct buf *out) WUR;
int ng_query_totals(struct buf *out, const struct ng_counters *rtp,
    const struct ng_counters *rtcp) WUR;

/*
 * The members of a `statistics` reply, named as rtpengine names them:
 * statistics.currentstatistics {sessionsown, sessionstotal, packetrate,
 * byterate, errorrate} and statistics.totalstatistics {uptime,
 * managedsessions, relayedpackets, relayedbytes, relayedpacketerrors}.
 */
struct ng_statistics {
	uint64_t sessions_current, sessions_total;
	uint64_t uptime;		/* seconds */
	struct ng_counters rate;	/* per second, recent */
	struct ng_counters total;
};
/* A whole `statistics` reply datagram. */
int ng_reply_statistics(struct buf *out, struct slice cookie,
    const struct ng_statistics *st) WUR;

/* Replies (client side). */
enum ng_result {
	NG_RESULT_NONE = 0,	/* no `result` key */
	NG_RESULT_OK,
	NG_RESULT_PONG,
	NG_RESULT_ERROR,
	NG_RESULT_LOAD_LIMIT,
	NG_RESULT_OTHER,
};

/* A reply view; slices borrow the datagram, `doc` is owned. */
struct ng_reply {
	struct slice cookie;
	enum ng_result result;
	struct slice result_str;	/* as sent */
	struct slice error_reason, warning, sdp;
	const struct bencode *dict;
	struct bencode_doc *doc;
};

/*
 * Parse reply datagram `dgram` into `rep`. Returns 0, E_SYNTAX (no cookie,
 * not a dict) or another bencode error. Call ng_reply_release() after.
 */
int ng_reply_parse(struct ng_reply *rep, struct slice dgram) WUR;
void ng_reply_release(struct ng_reply *rep);
/*
 * True if the client should try the next relay of its set: `load limit`,
 * or an error whose reason is NG_ERR_PARALLEL or NG_ERR_PORTS.
 */
int ng_reply_failover(const struct ng_reply *rep);

/*
 * Retransmission schedule, driven by the caller's event loop with its own
 * monotonic clock in milliseconds. Kamailio's defaults: 5 tries, 1000 ms.
 *
 *   ng_retry_init(&rt, 5, 1000, now);
 *   on a timer or at start: switch (ng_retry_next(&rt, now, &when))
 *     NG_RETRY_SEND: send the same datagram again, arm a timer at `when`
 *     NG_RETRY_WAIT: nothing to do before `when`
 *     NG_RETRY_GIVEUP: no answer in time: fail over / report a timeout
 */
struct ng_retry {
	unsigned tries, sent;
	uint64_t interval_ms, next_ms;
};

enum { NG_RETRY_SEND = 1, NG_RETRY_WAIT = 2, NG_RETRY_GIVEUP = 3 };

void ng_retry_init(struct ng_retry *rt, unsigned tries, uint64_t interval_ms,
    uint64_t now_ms);
int ng_retry_next(struct ng_retry *rt, uint64_t now_ms, uint64_t *when_ms);

/*
 * Reply cache (server side): a retransmitted request is answered from
 * here and never runs twice. Entries are keyed by the cookie and, when
 * given, the sender's address bytes (so two clients that happen to pick
 * the same cookie do not see each other's answers), and live `ttl_ms`
 * (rtpengine keeps them 30 s). At most `max_entries` replies and
 * `max_bytes` bytes are kept; beyond that the oldest go first. Time is
 * the caller's monotonic clock in milliseconds; nothing here reads a clock.
 */
struct ng_cache;

#define NG_CACHE_TTL_MS 30000

struct ng_cache *ng_cache_new(size_t max_entries, size_t max_bytes,
    uint64_t ttl_ms) WUR;
void ng_cache_free(struct ng_cache *c);
/*
 * The cached reply for (`peer`, `cookie`), still fresh at `now_ms`, in
 * `*reply` (borrowed: valid until the next call that changes the cache).
 * Returns 0 or E_NOTFOUND.
 */
int ng_cache_get(struct ng_cache *c, struct slice peer, struct slice cookie,
    uint64_t now_ms, struct slice *reply) WUR;
/* Store a copy of `reply` for (`peer`, `cookie`), replacing any earlier
 * one. Returns 0, E_BIG (larger than max_bytes) or E_NOMEM. */
int ng_cache_put(struct ng_cache *c, struct slice peer, struct slice cookie,
    struct slice reply, uint64_t now_ms) WUR;
/* Drop what expired by `now_ms` (get/put also do it as they go). */
void ng_cache_expire(struct ng_cache *c, uint64_t now_ms);
size_t ng_cache_count(const struct ng_cache *c);

#endif
