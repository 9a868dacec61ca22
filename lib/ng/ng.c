/* ng.c - rtpengine "ng" control protocol: requests, replies, reply cache. */
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "ng/ng.h"
#include "base/rnd.h"

/* Caps on what one request may contain (a real offer has ~40 values). */
#define NG_MAX_DEPTH 16
#define NG_MAX_NODES 4096

static int
norm(int c)
{
	if (c == ' ' || c == '_')
		return '-';
	if (c >= 'A' && c <= 'Z')
		return c + ('a' - 'A');
	return c;
}

static int
name_eq_n(struct slice a, const char *b, size_t blen)
{
	size_t i;

	if (a.len != blen)
		return 0;
	for (i = 0; i < blen; i++)
		if (norm(a.p[i]) != norm((unsigned char)b[i]))
			return 0;
	return 1;
}

int
ng_name_eq(struct slice name, const char *canon)
{
	return name_eq_n(name, canon, strlen(canon));
}

/* If `s` starts with `prefix` (normalised), put the rest in `rest`. */
static int
name_prefix(struct slice s, const char *prefix, struct slice *rest)
{
	size_t n = strlen(prefix);

	if (s.len <= n || !name_eq_n(slice_make(s.p, n), prefix, n))
		return 0;
	*rest = slice_make(s.p + n, s.len - n);
	return 1;
}

/* Name tables: bits and enums to their canonical names and back. */
struct name {
	unsigned v;
	const char *s;
};

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct name cmd_names[] = {
	{ NG_CMD_PING, "ping" },
	{ NG_CMD_OFFER, "offer" },
	{ NG_CMD_ANSWER, "answer" },
	{ NG_CMD_DELETE, "delete" },
	{ NG_CMD_QUERY, "query" },
	{ NG_CMD_LIST, "list" },
	{ NG_CMD_STATISTICS, "statistics" },
};

static const struct name proto_names[] = {
	{ NG_PROTO_RTP_AVP, "RTP/AVP" },
	{ NG_PROTO_RTP_SAVP, "RTP/SAVP" },
	{ NG_PROTO_RTP_AVPF, "RTP/AVPF" },
	{ NG_PROTO_RTP_SAVPF, "RTP/SAVPF" },
	{ NG_PROTO_UDP_TLS_RTP_SAVP, "UDP/TLS/RTP/SAVP" },
	{ NG_PROTO_UDP_TLS_RTP_SAVPF, "UDP/TLS/RTP/SAVPF" },
};

static const struct name ice_names[] = {
	{ NG_ICE_REMOVE, "remove" },
	{ NG_ICE_FORCE, "force" },
	{ NG_ICE_FORCE_RELAY, "force-relay" },
	{ NG_ICE_DEFAULT, "default" },
	{ NG_ICE_OPTIONAL, "optional" },
};

static const struct name dtls_names[] = {
	{ NG_DTLS_OFF, "off" },
	{ NG_DTLS_OFF, "no" },
	{ NG_DTLS_OFF, "disable" },
	{ NG_DTLS_PASSIVE, "passive" },
	{ NG_DTLS_ACTIVE, "active" },
};

static const struct name replace_names[] = {
	{ NG_REPLACE_ORIGIN, "origin" },
	{ NG_REPLACE_SESSION_CONNECTION, "session-connection" },
	{ NG_REPLACE_SDP_VERSION, "SDP-version" },
	{ NG_REPLACE_USERNAME, "username" },
	{ NG_REPLACE_SESSION_NAME, "session-name" },
	{ NG_REPLACE_ZERO_ADDRESS, "zero-address" },
	{ NG_REPLACE_ORIGIN_FULL, "origin-full" },
};

static const struct name rtcp_mux_names[] = {
	{ NG_RTCP_MUX_OFFER, "offer" },
	{ NG_RTCP_MUX_DEMUX, "demux" },
	{ NG_RTCP_MUX_ACCEPT, "accept" },
	{ NG_RTCP_MUX_REJECT, "reject" },
	{ NG_RTCP_MUX_REQUIRE, "require" },
};

static const struct name sdes_names[] = {
	{ NG_SDES_OFF, "off" },
	{ NG_SDES_NONEW, "nonew" },
	{ NG_SDES_PAD, "pad" },
	{ NG_SDES_STATIC, "static" },
	{ NG_SDES_UNENCRYPTED_SRTP, "unencrypted_srtp" },
	{ NG_SDES_UNENCRYPTED_SRTCP, "unencrypted_srtcp" },
	{ NG_SDES_UNAUTHENTICATED_SRTP, "unauthenticated_srtp" },
	{ NG_SDES_ENCRYPTED_SRTP, "encrypted_srtp" },
	{ NG_SDES_ENCRYPTED_SRTCP, "encrypted_srtcp" },
	{ NG_SDES_AUTHENTICATED_SRTP, "authenticated_srtp" },
	{ NG_SDES_LIFETIME, "lifetime" },
	{ NG_SDES_PRIORITIZE, "prioritize" },
};

static const struct name supports_names[] = {
	{ NG_SUPPORTS_LOAD_LIMIT, "load limit" },
};

static const struct name flag_names[] = {
	{ NG_FLAG_TRUST_ADDRESS, "trust-address" },
	{ NG_FLAG_SIP_SOURCE_ADDRESS, "SIP-source-address" },
	{ NG_FLAG_SYMMETRIC, "symmetric" },
	{ NG_FLAG_ASYMMETRIC, "asymmetric" },
	{ NG_FLAG_STRICT_SOURCE, "strict-source" },
	{ NG_FLAG_MEDIA_HANDOVER, "media-handover" },
	{ NG_FLAG_PORT_LATCHING, "port-latching" },
	{ NG_FLAG_NO_RTCP_ATTRIBUTE, "no-rtcp-attribute" },
	{ NG_FLAG_FULL_RTCP_ATTRIBUTE, "full-rtcp-attribute" },
	{ NG_FLAG_LOOP_PROTECT, "loop-protect" },
	{ NG_FLAG_RECRYPT, "recrypt" },
	{ NG_FLAG_FATAL, "fatal" },
	{ NG_FLAG_FAST, "fast" },
	{ NG_FLAG_TO_TAG, "to-tag" },
	{ NG_FLAG_ALL, "all" },
	{ NG_FLAG_RESET, "reset" },
	{ NG_FLAG_UNIDIRECTIONAL, "unidirectional" },
	{ NG_FLAG_NO_PORT_LATCHING, "no-port-latching" },
	{ NG_FLAG_RECORD_CALL, "record-call" },
	{ NG_FLAG_GENERATE_MID, "generate-mid" },
	{ NG_FLAG_PAD_CRYPTO, "pad-crypto" },
	{ NG_FLAG_TRICKLE_ICE, "trickle-ICE" },
	{ NG_FLAG_ORIGINAL_SENDRECV, "original-sendrecv" },
	{ NG_FLAG_DISCARD_RECORDING, "discard-recording" },
};

static int
name_find(const struct name *t, size_t n, struct slice s, unsigned *v)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (ng_name_eq(s, t[i].s)) {
			*v = t[i].v;
			return 1;
		}
	}
	return 0;
}

static const char *
name_of(const struct name *t, size_t n, unsigned v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].v == v)
			return t[i].s;
	return NULL;
}

const char *
ng_cmd_name(enum ng_cmd cmd)
{
	return name_of(cmd_names, N_ELEM(cmd_names), cmd);
}

const char *
ng_proto_name(enum ng_proto p)
{
	return name_of(proto_names, N_ELEM(proto_names), p);
}

enum ng_proto
ng_proto_parse(struct slice s)
{
	size_t i;

	/* exact SDP spelling: '/' is not normalised, '-' never occurs */
	for (i = 0; i < N_ELEM(proto_names); i++)
		if (slice_case_eq_cstr(s, proto_names[i].s))
			return proto_names[i].v;
	return NG_PROTO_OTHER;
}

int
ng_proto_is_srtp(enum ng_proto p)
{
	return p == NG_PROTO_RTP_SAVP || p == NG_PROTO_RTP_SAVPF ||
	    p == NG_PROTO_UDP_TLS_RTP_SAVP || p == NG_PROTO_UDP_TLS_RTP_SAVPF;
}

/* Parsing. */

enum key_id {
	K_NONE = 0,
	K_COMMAND, K_CALL_ID, K_FROM_TAG, K_TO_TAG, K_VIA_BRANCH, K_SDP,
	K_TRANSPORT, K_ICE, K_DTLS, K_REPLACE, K_RTCP_MUX, K_SDES,
	K_DIRECTION, K_FROM_IF, K_TO_IF, K_RECEIVED_FROM, K_MEDIA_ADDRESS,
	K_ADDRESS_FAMILY, K_LABEL, K_DELETE_DELAY, K_SUPPORTS, K_FLAGS,
	K_SIP_MSG_TYPE, K_RECORD_CALL, K_RTPP_FLAGS,
};

static const struct name key_names[] = {
	{ K_COMMAND, "command" },
	{ K_CALL_ID, "call-id" },
	{ K_FROM_TAG, "from-tag" },
	{ K_TO_TAG, "to-tag" },
	{ K_VIA_BRANCH, "via-branch" },
	{ K_SDP, "sdp" },
	{ K_TRANSPORT, "transport-protocol" },
	{ K_ICE, "ICE" },
	{ K_DTLS, "DTLS" },
	{ K_REPLACE, "replace" },
	{ K_RTCP_MUX, "rtcp-mux" },
	{ K_SDES, "SDES" },
	{ K_DIRECTION, "direction" },
	{ K_FROM_IF, "from-interface" },
	{ K_TO_IF, "to-interface" },
	{ K_RECEIVED_FROM, "received-from" },
	{ K_MEDIA_ADDRESS, "media-address" },
	{ K_ADDRESS_FAMILY, "address-family" },
	{ K_LABEL, "label" },
	{ K_DELETE_DELAY, "delete-delay" },
	{ K_SUPPORTS, "supports" },
	{ K_FLAGS, "flags" },
	{ K_SIP_MSG_TYPE, "sip-message-type" },
	{ K_RECORD_CALL, "record-call" },
	{ K_RTPP_FLAGS, "rtpp-flags" },
};

/* Transport bits of the rtpp-flags words RTP, AVP, SRTP, AVPF, DTLS. */
enum { TB_SRTP = 1, TB_AVPF = 2, TB_DTLS = 4, TB_SET = 0x100 };

struct pstate {
	struct ng_req *req;
	unsigned ndir;		/* direction values seen so far */
	unsigned nrecv;		/* received-from items seen so far */
	unsigned tbits;		/* rtpp-flags transport words */
};

static void
unknown(struct ng_req *req, struct slice s)
{
	if (req->n_unknown < NG_UNKNOWN_MAX)
		req->unknown[req->n_unknown] = s;
	if (req->n_unknown < SIZE_MAX)
		req->n_unknown++;
}

/* Past the cap a name is reported as unknown rather than lost quietly. */
static void
add_list(struct ng_req *req, struct slice *arr, size_t *n, struct slice s)
{
	if (*n < NG_LIST_MAX)
		arr[(*n)++] = s;
	else
		unknown(req, s);
}

static void
direction_item(struct pstate *ps, struct slice s)
{
	if (ps->ndir == 0)
		ps->req->from_interface = s;
	else if (ps->ndir == 1)
		ps->req->to_interface = s;
	else
		unknown(ps->req, s);
	ps->ndir++;
}

static void
set_bit(struct ng_req *req, const struct name *t, size_t n, unsigned *bits,
    struct slice s)
{
	unsigned v;

	if (name_find(t, n, s, &v))
		*bits |= v;
	else
		unknown(req, s);
}

static void
sdes_item(struct ng_req *req, struct slice s)
{
	struct slice rest;

	if (name_prefix(s, "no-", &rest))
		add_list(req, req->sdes_no, &req->n_sdes_no, rest);
	else if (name_prefix(s, "only-", &rest))
		add_list(req, req->sdes_only, &req->n_sdes_only, rest);
	else
		set_bit(req, sdes_names, N_ELEM(sdes_names), &req->sdes, s);
}

static int
rtpp_transport_word(struct pstate *ps, struct slice s)
{
	unsigned t = ps->tbits;
	enum ng_proto p;

	if (slice_eq_cstr(s, "RTP"))
		t = (t | TB_SET) & ~(unsigned)TB_SRTP;
	else if (slice_eq_cstr(s, "AVP"))
		t = (t | TB_SET) & ~(unsigned)TB_AVPF;
	else if (slice_eq_cstr(s, "SRTP"))
		t |= TB_SET | TB_SRTP;
	else if (slice_eq_cstr(s, "AVPF"))
		t |= TB_SET | TB_AVPF;
	else if (slice_eq_cstr(s, "DTLS"))
		t |= TB_SET | TB_DTLS;
	else if (slice_chr(s, '/') >= 0 &&
	    (p = ng_proto_parse(s)) != NG_PROTO_OTHER) {
		ps->req->proto = p;
		ps->req->transport_protocol = s;
		t = 0;
	} else
		return 0;
	ps->tbits = t;
	return 1;
}

/* A flag word, from `flags` or a bare word of `rtpp-flags`. */
static void
flag_word(struct pstate *ps, struct slice s, int rtpp)
{
	struct ng_req *req = ps->req;
	struct slice rest;
	unsigned v;

	if (name_find(flag_names, N_ELEM(flag_names), s, &v))
		req->flags |= v;
	else if (name_prefix(s, "replace-", &rest))
		set_bit(req, replace_names, N_ELEM(replace_names),
		    &req->replace, rest);
	else if (name_prefix(s, "SDES-", &rest))
		sdes_item(req, rest);
	else if (name_prefix(s, "rtcp-mux-", &rest))
		set_bit(req, rtcp_mux_names, N_ELEM(rtcp_mux_names),
		    &req->rtcp_mux, rest);
	else if (rtpp && rtpp_transport_word(ps, s))
		;
	else if (rtpp && (ng_name_eq(s, "internal") ||
	    ng_name_eq(s, "external")))
		direction_item(ps, s);
	else if (!rtpp && slice_chr(s, '/') >= 0 &&
	    ng_proto_parse(s) != NG_PROTO_OTHER) {
		req->proto = ng_proto_parse(s);
		req->transport_protocol = s;
	} else
		unknown(req, s);
}

/* One element of a list-valued key. */
static void
list_item(struct pstate *ps, enum key_id k, struct slice s, int rtpp)
{
	struct ng_req *req = ps->req;

	switch (k) {
	case K_REPLACE:
		set_bit(req, replace_names, N_ELEM(replace_names),
		    &req->replace, s);
		break;
	case K_RTCP_MUX:
		set_bit(req, rtcp_mux_names, N_ELEM(rtcp_mux_names),
		    &req->rtcp_mux, s);
		break;
	case K_SDES:
		sdes_item(req, s);
		break;
	case K_SUPPORTS:
		set_bit(req, supports_names, N_ELEM(supports_names),
		    &req->supports, s);
		break;
	case K_FLAGS:
		flag_word(ps, s, rtpp);
		break;
	case K_DIRECTION:
		direction_item(ps, s);
		break;
	case K_RECEIVED_FROM:
		if (ps->nrecv == 0)
			req->received_family = s;
		else if (ps->nrecv == 1)
			req->received_addr = s;
		ps->nrecv++;
		break;
	default:
		break;
	}
}

static int
is_list_key(enum key_id k)
{
	return k == K_REPLACE || k == K_RTCP_MUX || k == K_SDES ||
	    k == K_SUPPORTS || k == K_FLAGS || k == K_DIRECTION ||
	    k == K_RECEIVED_FROM;
}

static void rtpp_parse(struct pstate *ps, struct slice s);

/* A string value for a scalar key. */
static void
scalar(struct pstate *ps, enum key_id k, struct slice key, struct slice v)
{
	struct ng_req *req = ps->req;
	unsigned e;
	uint64_t u;

	switch (k) {
	case K_COMMAND:
		req->command = v;
		req->cmd = name_find(cmd_names, N_ELEM(cmd_names), v, &e) ?
		    (enum ng_cmd)e : NG_CMD_OTHER;
		break;
	case K_CALL_ID: req->call_id = v; break;
	case K_FROM_TAG: req->from_tag = v; break;
	case K_TO_TAG: req->to_tag = v; break;
	case K_VIA_BRANCH: req->via_branch = v; break;
	case K_SDP: req->sdp = v; break;
	case K_TRANSPORT:
		req->transport_protocol = v;
		req->proto = ng_proto_parse(v);
		if (req->proto == NG_PROTO_OTHER)
			unknown(req, v);
		break;
	case K_ICE:
		if (name_find(ice_names, N_ELEM(ice_names), v, &e))
			req->ice = (enum ng_ice)e;
		else {
			req->ice = NG_ICE_OTHER;
			unknown(req, v);
		}
		break;
	case K_DTLS:
		if (name_find(dtls_names, N_ELEM(dtls_names), v, &e))
			req->dtls = (enum ng_dtls)e;
		else {
			req->dtls = NG_DTLS_OTHER;
			unknown(req, v);
		}
		break;
	case K_FROM_IF: req->from_interface = v; ps->ndir = 1; break;
	case K_TO_IF: req->to_interface = v; ps->ndir = 2; break;
	case K_MEDIA_ADDRESS: req->media_address = v; break;
	case K_ADDRESS_FAMILY: req->address_family = v; break;
	case K_LABEL: req->label = v; break;
	case K_SIP_MSG_TYPE: req->sip_message_type = v; break;
	case K_RECORD_CALL: req->record_call = v; break;
	case K_DELETE_DELAY:
		if (slice_to_u64(v, INT64_MAX, &u) == 0)
			req->delete_delay = (int64_t)u;
		else
			unknown(req, key);
		break;
	case K_RTPP_FLAGS:
		req->rtpp_flags = v;
		rtpp_parse(ps, v);
		break;
	default:
		unknown(req, key);
		break;
	}
}

static void
dict_member(struct pstate *ps, const struct bencode *m)
{
	struct slice key = bencode_key(m), v;
	const struct bencode *e;
	unsigned kid;
	int64_t i;

	if (!name_find(key_names, N_ELEM(key_names), key, &kid)) {
		unknown(ps->req, key);
		return;
	}
	switch (bencode_type(m)) {
	case BENCODE_STR:
		v = bencode_str(m);
		if (is_list_key(kid))
			list_item(ps, kid, v, 0);
		else
			scalar(ps, kid, key, v);
		return;
	case BENCODE_LIST:
		if (!is_list_key(kid))
			break;
		for (e = bencode_first(m); e != NULL; e = bencode_next(e)) {
			if (bencode_type(e) == BENCODE_STR)
				list_item(ps, kid, bencode_str(e), 0);
			else
				unknown(ps->req, key);
		}
		return;
	case BENCODE_INT:
		if (kid == K_DELETE_DELAY && bencode_int(m, &i) == 0 &&
		    i >= 0) {
			ps->req->delete_delay = i;
			return;
		}
		break;
	default:
		break;
	}
	unknown(ps->req, key);
}

/*
 * rtpp-flags: words separated by spaces; `key=value` sets a key (a value
 * `[a b c]` is a list), a bare word is a flag. Keys and lists go through
 * the same handlers as the dictionary form.
 */
static void
rtpp_parse(struct pstate *ps, struct slice s)
{
	struct slice word, key, val, rest;
	unsigned kid;

	while (s.len > 0) {
		while (s.len > 0 && s.p[0] == ' ')
			(void)slice_skip(&s, 1);
		if (s.len == 0)
			break;
		(void)slice_split(&s, ' ', &word);
		val = word;
		if (!slice_split(&val, '=', &key)) {
			flag_word(ps, word, 1);
			continue;
		}
		if (val.len > 0 && val.p[0] == '[') {
			/* a list runs to the next ']' */
			long end = slice_chr(slice_make(val.p,
			    (size_t)(s.p + s.len - val.p)), ']');
			struct slice item;

			if (end < 0) {
				unknown(ps->req, key);
				return;
			}
			rest = slice_make(val.p + 1, (size_t)end - 1);
			s = slice_make(val.p + end + 1,
			    (size_t)(s.p + s.len - (val.p + end + 1)));
			if (!name_find(key_names, N_ELEM(key_names), key,
			    &kid) || !is_list_key(kid)) {
				unknown(ps->req, key);
				continue;
			}
			while (rest.len > 0) {
				(void)slice_split(&rest, ' ', &item);
				if (item.len > 0)
					list_item(ps, kid, item, 1);
			}
			continue;
		}
		if (!name_find(key_names, N_ELEM(key_names), key, &kid) ||
		    kid == K_RTPP_FLAGS)
			unknown(ps->req, key);
		else if (is_list_key(kid))
			list_item(ps, kid, val, 1);
		else
			scalar(ps, kid, key, val);
	}
}

static const char *
rtpp_proto(unsigned t)
{
	switch (t & (TB_SRTP | TB_AVPF | TB_DTLS)) {
	case 0: return "RTP/AVP";
	case TB_SRTP: return "RTP/SAVP";
	case TB_AVPF: return "RTP/AVPF";
	case TB_SRTP | TB_AVPF: return "RTP/SAVPF";
	case TB_DTLS:
	case TB_DTLS | TB_SRTP: return "UDP/TLS/RTP/SAVP";
	default: return "UDP/TLS/RTP/SAVPF";
	}
}

void
ng_req_init(struct ng_req *req)
{
	memset(req, 0, sizeof(*req));
	req->delete_delay = -1;
}

void
ng_req_release(struct ng_req *req)
{
	if (req == NULL)
		return;
	bencode_doc_free(req->doc);
	req->doc = NULL;
	req->dict = NULL;
}

/* Split `COOKIE SP DOC`, allowing trailing whitespace after DOC. */
static int
split_dgram(struct slice dgram, struct slice *cookie, struct slice *doc)
{
	struct slice rest = dgram, c;

	*cookie = SLICE_NULL;
	if (!slice_split(&rest, ' ', &c) || c.len == 0 ||
	    c.len > NG_COOKIE_MAX)
		return E_SYNTAX;
	*cookie = c;
	while (rest.len > 0 && (rest.p[rest.len - 1] == '\n' ||
	    rest.p[rest.len - 1] == '\r' || rest.p[rest.len - 1] == ' '))
		rest.len--;
	*doc = rest;
	return 0;
}

static int
parse_doc(struct slice doc, struct bencode_doc **out)
{
	const struct bencode_limits lim = { NG_MAX_DEPTH, NG_MAX_NODES };
	int r;

	if ((r = bencode_parse(doc, &lim, out, NULL)) != 0)
		return r;
	if (bencode_type(bencode_root(*out)) != BENCODE_DICT) {
		bencode_doc_free(*out);
		*out = NULL;
		return E_SYNTAX;
	}
	return 0;
}

int
ng_req_parse(struct ng_req *req, struct slice dgram)
{
	struct pstate ps = { req, 0, 0, 0 };
	struct slice doc;
	const struct bencode *m;
	int r;

	ng_req_init(req);
	if (dgram.len > NG_DGRAM_MAX)
		return E_BIG;
	if ((r = split_dgram(dgram, &req->cookie, &doc)) != 0)
		return r;
	if ((r = parse_doc(doc, &req->doc)) != 0)
		return r;
	req->dict = bencode_root(req->doc);
	for (m = bencode_first(req->dict); m != NULL; m = bencode_next(m))
		dict_member(&ps, m);
	if (ps.tbits != 0) {
		const char *p = rtpp_proto(ps.tbits);

		req->transport_protocol = slice_cstr(p);
		req->proto = ng_proto_parse(req->transport_protocol);
	}
	return 0;
}

const char *
ng_req_check(const struct ng_req *req)
{
	switch (req->cmd) {
	case NG_CMD_NONE:
		return NG_ERR_NO_COMMAND;
	case NG_CMD_OTHER:
		return NG_ERR_UNRECOGNIZED;
	case NG_CMD_OFFER:
	case NG_CMD_ANSWER:
		if (req->sdp.len == 0)
			return NG_ERR_NO_SDP;
		if (req->call_id.len == 0)
			return NG_ERR_NO_CALL_ID;
		if (req->from_tag.len == 0)
			return NG_ERR_NO_FROM_TAG;
		if (req->cmd == NG_CMD_ANSWER && req->to_tag.len == 0)
			return NG_ERR_NO_TO_TAG;
		return NULL;
	case NG_CMD_DELETE:
		if (req->call_id.len == 0)
			return NG_ERR_NO_CALL_ID;
		return NULL;	/* no tags: the whole call (rtpengine) */
	case NG_CMD_QUERY:
		if (req->call_id.len == 0)
			return NG_ERR_NO_CALL_ID;
		return NULL;
	default:
		return NULL;
	}
}

int
ng_req_warning(const struct ng_req *req, struct buf *out)
{
	size_t old = buf_len(out), i, n;
	int r;

	if (req->n_unknown == 0)
		return 0;
	n = req->n_unknown < NG_UNKNOWN_MAX ? req->n_unknown : NG_UNKNOWN_MAX;
	r = buf_append_cstr(out, "Unknown flag(s) or key(s): ");
	for (i = 0; r == 0 && i < n; i++) {
		if (i > 0)
			r = buf_append(out, ", ", 2);
		if (r == 0)
			r = buf_append_slice(out, req->unknown[i]);
	}
	if (r == 0 && req->n_unknown > n)
		r = buf_printf(out, " and %zu more", req->n_unknown - n);
	if (r != 0)
		buf_truncate(out, old);
	return r;
}

/* Encoding (client side). */

static int
put_opt(struct buf *b, const char *key, struct slice v)
{
	return v.len > 0 ? bencode_put_kstr(b, key, v) : 0;
}

static int
put_bits(struct buf *b, const char *key, const struct name *t, size_t n,
    unsigned bits)
{
	size_t i;
	int r;

	if (bits == 0)
		return 0;
	if ((r = bencode_put_klist(b, key)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if ((bits & t[i].v) && (r = bencode_put_cstr(b, t[i].s)) != 0)
			return r;
	return bencode_put_end(b);
}

static int
put_sdes(struct buf *b, const struct ng_req *q)
{
	size_t i;
	int r;

	if (q->sdes == 0 && q->n_sdes_no == 0 && q->n_sdes_only == 0)
		return 0;
	if ((r = bencode_put_klist(b, "SDES")) != 0)
		return r;
	for (i = 0; i < N_ELEM(sdes_names); i++)
		if ((q->sdes & sdes_names[i].v) &&
		    (r = bencode_put_cstr(b, sdes_names[i].s)) != 0)
			return r;
	for (i = 0; i < q->n_sdes_no && i < NG_LIST_MAX; i++)
		if ((r = buf_printf(b, "%zu:no-", q->sdes_no[i].len + 3)) != 0 ||
		    (r = buf_append_slice(b, q->sdes_no[i])) != 0)
			return r;
	for (i = 0; i < q->n_sdes_only && i < NG_LIST_MAX; i++)
		if ((r = buf_printf(b, "%zu:only-",
		    q->sdes_only[i].len + 5)) != 0 ||
		    (r = buf_append_slice(b, q->sdes_only[i])) != 0)
			return r;
	return bencode_put_end(b);
}

static int
put_flags(struct buf *b, const struct ng_req *q)
{
	size_t i;
	int r;

	if (q->flags == 0 && q->n_extra_flags == 0)
		return 0;
	if ((r = bencode_put_klist(b, "flags")) != 0)
		return r;
	for (i = 0; i < N_ELEM(flag_names); i++)
		if ((q->flags & flag_names[i].v) &&
		    (r = bencode_put_cstr(b, flag_names[i].s)) != 0)
			return r;
	for (i = 0; i < q->n_extra_flags && i < NG_UNKNOWN_MAX; i++)
		if ((r = bencode_put_str(b, q->extra_flags[i])) != 0)
			return r;
	return bencode_put_end(b);
}

static int
encode_body(const struct ng_req *q, struct buf *b)
{
	const char *s;
	int r;

	/* rtpp-flags first, so that the explicit keys after it win */
	if ((r = bencode_put_dict(b)) != 0 ||
	    (r = put_opt(b, "rtpp-flags", q->rtpp_flags)) != 0 ||
	    (r = put_opt(b, "sdp", q->sdp)) != 0 ||
	    (r = put_opt(b, "call-id", q->call_id)) != 0 ||
	    (r = put_opt(b, "from-tag", q->from_tag)) != 0 ||
	    (r = put_opt(b, "to-tag", q->to_tag)) != 0 ||
	    (r = put_opt(b, "via-branch", q->via_branch)) != 0)
		return r;
	if (q->transport_protocol.len > 0)
		r = bencode_put_kstr(b, "transport-protocol",
		    q->transport_protocol);
	else if ((s = ng_proto_name(q->proto)) != NULL)
		r = bencode_put_kcstr(b, "transport-protocol", s);
	if (r != 0)
		return r;
	if ((s = name_of(ice_names, N_ELEM(ice_names), q->ice)) != NULL &&
	    (r = bencode_put_kcstr(b, "ICE", s)) != 0)
		return r;
	if ((s = name_of(dtls_names, N_ELEM(dtls_names), q->dtls)) != NULL &&
	    (r = bencode_put_kcstr(b, "DTLS", s)) != 0)
		return r;
	if ((r = put_bits(b, "replace", replace_names, N_ELEM(replace_names),
	    q->replace)) != 0 ||
	    (r = put_bits(b, "rtcp-mux", rtcp_mux_names,
	    N_ELEM(rtcp_mux_names), q->rtcp_mux)) != 0 ||
	    (r = put_sdes(b, q)) != 0)
		return r;
	if (q->from_interface.len > 0 && q->to_interface.len > 0) {
		if ((r = bencode_put_klist(b, "direction")) != 0 ||
		    (r = bencode_put_str(b, q->from_interface)) != 0 ||
		    (r = bencode_put_str(b, q->to_interface)) != 0 ||
		    (r = bencode_put_end(b)) != 0)
			return r;
	} else if ((r = put_opt(b, "from-interface", q->from_interface)) != 0 ||
	    (r = put_opt(b, "to-interface", q->to_interface)) != 0)
		return r;
	if (q->received_family.len > 0 && q->received_addr.len > 0 &&
	    ((r = bencode_put_klist(b, "received-from")) != 0 ||
	    (r = bencode_put_str(b, q->received_family)) != 0 ||
	    (r = bencode_put_str(b, q->received_addr)) != 0 ||
	    (r = bencode_put_end(b)) != 0))
		return r;
	if ((r = put_opt(b, "media-address", q->media_address)) != 0 ||
	    (r = put_opt(b, "address-family", q->address_family)) != 0 ||
	    (r = put_opt(b, "label", q->label)) != 0 ||
	    (r = put_opt(b, "sip-message-type", q->sip_message_type)) != 0 ||
	    (r = put_opt(b, "record-call", q->record_call)) != 0)
		return r;
	if (q->delete_delay >= 0 &&
	    (r = bencode_put_kint(b, "delete-delay", q->delete_delay)) != 0)
		return r;
	if ((r = put_bits(b, "supports", supports_names,
	    N_ELEM(supports_names), q->supports)) != 0 ||
	    (r = put_flags(b, q)) != 0 ||
	    (r = bencode_put_kcstr(b, "command", ng_cmd_name(q->cmd))) != 0)
		return r;
	return bencode_put_end(b);
}

int
ng_req_encode(const struct ng_req *req, struct buf *out)
{
	size_t old = buf_len(out);
	int r;

	if (req->cookie.len == 0 || req->cookie.len > NG_COOKIE_MAX ||
	    slice_chr(req->cookie, ' ') >= 0 || ng_cmd_name(req->cmd) == NULL)
		return E_INVAL;
	if ((r = buf_append_slice(out, req->cookie)) != 0 ||
	    (r = buf_append_u8(out, ' ')) != 0 ||
	    (r = encode_body(req, out)) != 0)
		buf_truncate(out, old);
	return r;
}

int
ng_cookie_new(char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t rb[NG_COOKIE_LEN / 2];
	size_t i;
	int r;

	if (n < NG_COOKIE_LEN + 1)
		return E_INVAL;
	if ((r = rnd_bytes(rb, sizeof(rb))) != 0)
		return r;
	for (i = 0; i < sizeof(rb); i++) {
		out[2 * i] = hex[rb[i] >> 4];
		out[2 * i + 1] = hex[rb[i] & 15];
	}
	out[NG_COOKIE_LEN] = '\0';
	return 0;
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
	    (r = put_opt(out, "warning", warning)) != 0 ||
	    (r = put_opt(out, "sdp", sdp)) != 0)
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
	    (r = put_opt(out, "via-branch", via)) != 0)
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
	    (r = put_opt(out, "via-branch", via)) != 0)
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
	    (r = put_opt(out, "type", type)) != 0 ||
	    (r = put_opt(out, "protocol", protocol)) != 0)
		return r;
	return bencode_put_klist(out, "streams");
}

int
ng_query_stream(struct buf *out, const struct ng_stream_info *s)
{
	int r;

	if ((r = bencode_put_dict(out)) != 0 ||
	    (r = bencode_put_kint(out, "local port", s->local_port)) != 0 ||
	    (r = put_opt(out, "local address", s->local_addr)) != 0)
		return r;
	if (s->peer_family.len > 0 &&
	    ((r = bencode_put_kdict(out, "endpoint")) != 0 ||
	    (r = bencode_put_kstr(out, "family", s->peer_family)) != 0 ||
	    (r = bencode_put_kstr(out, "address", s->peer_addr)) != 0 ||
	    (r = bencode_put_kint(out, "port", s->peer_port)) != 0 ||
	    (r = bencode_put_end(out)) != 0))
		return r;
	if ((r = put_opt(out, "crypto suite", s->crypto_suite)) != 0 ||
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

/* Replies (client side). */

void
ng_reply_release(struct ng_reply *rep)
{
	if (rep == NULL)
		return;
	bencode_doc_free(rep->doc);
	rep->doc = NULL;
	rep->dict = NULL;
}

static struct slice
dict_str(const struct bencode *d, const char *key)
{
	const struct bencode *m;

	for (m = bencode_first(d); m != NULL; m = bencode_next(m))
		if (ng_name_eq(bencode_key(m), key))
			return bencode_str(m);
	return SLICE_NULL;
}

int
ng_reply_parse(struct ng_reply *rep, struct slice dgram)
{
	struct slice doc, res;
	int r;

	memset(rep, 0, sizeof(*rep));
	if (dgram.len > NG_DGRAM_MAX)
		return E_BIG;
	if ((r = split_dgram(dgram, &rep->cookie, &doc)) != 0)
		return r;
	if ((r = parse_doc(doc, &rep->doc)) != 0)
		return r;
	rep->dict = bencode_root(rep->doc);
	res = rep->result_str = dict_str(rep->dict, "result");
	if (res.len == 0)
		rep->result = NG_RESULT_NONE;
	else if (slice_eq_cstr(res, "ok"))
		rep->result = NG_RESULT_OK;
	else if (slice_eq_cstr(res, "pong"))
		rep->result = NG_RESULT_PONG;
	else if (slice_eq_cstr(res, "error"))
		rep->result = NG_RESULT_ERROR;
	else if (slice_eq_cstr(res, "load limit"))
		rep->result = NG_RESULT_LOAD_LIMIT;
	else
		rep->result = NG_RESULT_OTHER;
	rep->error_reason = dict_str(rep->dict, "error-reason");
	rep->warning = dict_str(rep->dict, "warning");
	rep->sdp = dict_str(rep->dict, "sdp");
	return 0;
}

int
ng_reply_failover(const struct ng_reply *rep)
{
	if (rep->result == NG_RESULT_LOAD_LIMIT)
		return 1;
	return rep->result == NG_RESULT_ERROR &&
	    (slice_eq_cstr(rep->error_reason, NG_ERR_PARALLEL) ||
	    slice_eq_cstr(rep->error_reason, NG_ERR_PORTS));
}

/* Retransmission schedule. */

void
ng_retry_init(struct ng_retry *rt, unsigned tries, uint64_t interval_ms,
    uint64_t now_ms)
{
	rt->tries = tries;
	rt->sent = 0;
	rt->interval_ms = interval_ms;
	rt->next_ms = now_ms;
}

int
ng_retry_next(struct ng_retry *rt, uint64_t now_ms, uint64_t *when_ms)
{
	if (now_ms < rt->next_ms) {
		*when_ms = rt->next_ms;
		return NG_RETRY_WAIT;
	}
	if (rt->sent >= rt->tries) {
		*when_ms = rt->next_ms;
		return NG_RETRY_GIVEUP;
	}
	rt->sent++;
	rt->next_ms = now_ms + rt->interval_ms;
	*when_ms = rt->next_ms;
	return NG_RETRY_SEND;
}

/* Reply cache: a FIFO ring (insertion order is expiry order) plus a
 * chained hash index over it. */

struct centry {
	uint8_t *data;		/* peer, cookie, reply */
	size_t plen, clen, rlen;
	uint64_t t;
	uint32_t hash;
	long next;		/* next slot in the hash chain, -1: end */
	int live;
};

struct ng_cache {
	struct centry *ring;
	size_t cap, head, used;	/* used: occupied slots from head */
	size_t live, bytes, max_bytes;
	long *bucket;
	size_t nbucket;		/* a power of two */
	uint64_t ttl;
};

static uint32_t
chash(struct slice peer, struct slice cookie)
{
	static const uint8_t sep = 0xff;

	return hash32_slice(hash32(hash32_slice(HASH32_INIT, peer), &sep, 1),
	    cookie);
}

struct ng_cache *
ng_cache_new(size_t max_entries, size_t max_bytes, uint64_t ttl_ms)
{
	struct ng_cache *c;
	size_t i;

	if (max_entries == 0 || max_entries > ((size_t)1 << 24))
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->cap = max_entries;
	c->max_bytes = max_bytes;
	c->ttl = ttl_ms;
	c->nbucket = 16;
	while (c->nbucket < max_entries * 2)
		c->nbucket *= 2;
	c->ring = calloc(c->cap, sizeof(*c->ring));
	c->bucket = malloc(c->nbucket * sizeof(*c->bucket));
	if (c->ring == NULL || c->bucket == NULL) {
		ng_cache_free(c);
		return NULL;
	}
	for (i = 0; i < c->nbucket; i++)
		c->bucket[i] = -1;
	return c;
}

static void
unlink_slot(struct ng_cache *c, size_t slot)
{
	struct centry *e = &c->ring[slot];
	long *pp = &c->bucket[e->hash & (c->nbucket - 1)];

	while (*pp >= 0) {
		if ((size_t)*pp == slot) {
			*pp = e->next;
			break;
		}
		pp = &c->ring[*pp].next;
	}
	c->bytes -= e->plen + e->clen + e->rlen;
	free(e->data);
	e->data = NULL;
	e->live = 0;
	c->live--;
}

/* Drop the oldest slot (live or not). */
static void
pop_oldest(struct ng_cache *c)
{
	if (c->used == 0)
		return;
	if (c->ring[c->head].live)
		unlink_slot(c, c->head);
	c->head = (c->head + 1) % c->cap;
	c->used--;
}

void
ng_cache_free(struct ng_cache *c)
{
	if (c == NULL)
		return;
	if (c->ring != NULL && c->bucket != NULL)
		while (c->used > 0)
			pop_oldest(c);
	free(c->ring);
	free(c->bucket);
	free(c);
}

void
ng_cache_expire(struct ng_cache *c, uint64_t now_ms)
{
	while (c->used > 0) {
		struct centry *e = &c->ring[c->head];

		if (e->live && (now_ms < e->t || now_ms - e->t < c->ttl))
			break;
		pop_oldest(c);
	}
}

static long
find(const struct ng_cache *c, struct slice peer, struct slice cookie,
    uint32_t h)
{
	long i;

	for (i = c->bucket[h & (c->nbucket - 1)]; i >= 0; i = c->ring[i].next) {
		const struct centry *e = &c->ring[i];

		if (e->hash == h && e->plen == peer.len &&
		    e->clen == cookie.len &&
		    (peer.len == 0 || memcmp(e->data, peer.p, peer.len) == 0) &&
		    memcmp(e->data + e->plen, cookie.p, cookie.len) == 0)
			return i;
	}
	return -1;
}

int
ng_cache_get(struct ng_cache *c, struct slice peer, struct slice cookie,
    uint64_t now_ms, struct slice *reply)
{
	long i;

	ng_cache_expire(c, now_ms);
	i = find(c, peer, cookie, chash(peer, cookie));
	if (i < 0)
		return E_NOTFOUND;
	*reply = slice_make(c->ring[i].data + c->ring[i].plen +
	    c->ring[i].clen, c->ring[i].rlen);
	return 0;
}

int
ng_cache_put(struct ng_cache *c, struct slice peer, struct slice cookie,
    struct slice reply, uint64_t now_ms)
{
	uint32_t h = chash(peer, cookie);
	size_t need, slot;
	struct centry *e;
	uint8_t *d;
	long i;

	if (peer.len > c->max_bytes || cookie.len > c->max_bytes ||
	    reply.len > c->max_bytes ||
	    peer.len + cookie.len + reply.len > c->max_bytes)
		return E_BIG;
	need = peer.len + cookie.len + reply.len;
	if ((d = malloc(need > 0 ? need : 1)) == NULL)
		return E_NOMEM;
	if (peer.len > 0)
		memcpy(d, peer.p, peer.len);
	if (cookie.len > 0)
		memcpy(d + peer.len, cookie.p, cookie.len);
	if (reply.len > 0)
		memcpy(d + peer.len + cookie.len, reply.p, reply.len);

	ng_cache_expire(c, now_ms);
	if ((i = find(c, peer, cookie, h)) >= 0)
		unlink_slot(c, (size_t)i);
	while (c->used == c->cap || c->bytes + need > c->max_bytes)
		pop_oldest(c);
	slot = (c->head + c->used) % c->cap;
	c->used++;
	e = &c->ring[slot];
	e->data = d;
	e->plen = peer.len;
	e->clen = cookie.len;
	e->rlen = reply.len;
	e->t = now_ms;
	e->hash = h;
	e->live = 1;
	e->next = c->bucket[h & (c->nbucket - 1)];
	c->bucket[h & (c->nbucket - 1)] = (long)slot;
	c->live++;
	c->bytes += need;
	return 0;
}

size_t
ng_cache_count(const struct ng_cache *c)
{
	return c != NULL ? c->live : 0;
}
