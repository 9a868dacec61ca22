/* ng_req.c - rtpengine "ng" protocol: parsing a request (server side). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ng/ng_int.h"

/* Caps on what one request may contain (a real offer has ~40 values). */
#define NG_MAX_DEPTH 16
#define NG_MAX_NODES 4096

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
set_bit(struct ng_req *req, const struct ng_names *t, unsigned *bits,
    struct slice s)
{
	unsigned v;

	if (ng_name_find(t, s, &v))
		*bits |= v;
	else
		unknown(req, s);
}

static void
sdes_item(struct ng_req *req, struct slice s)
{
	struct slice rest;

	if (ng_name_prefix(s, "no-", &rest))
		add_list(req, req->sdes_no, &req->n_sdes_no, rest);
	else if (ng_name_prefix(s, "only-", &rest))
		add_list(req, req->sdes_only, &req->n_sdes_only, rest);
	else
		set_bit(req, &ng_sdes_names, &req->sdes, s);
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

	if (ng_name_find(&ng_flag_names, s, &v))
		req->flags |= v;
	else if (ng_name_prefix(s, "replace-", &rest))
		set_bit(req, &ng_replace_names, &req->replace, rest);
	else if (ng_name_prefix(s, "SDES-", &rest))
		sdes_item(req, rest);
	else if (ng_name_prefix(s, "rtcp-mux-", &rest))
		set_bit(req, &ng_rtcp_mux_names, &req->rtcp_mux, rest);
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
list_item(struct pstate *ps, const struct ng_key *k, struct slice s, int rtpp)
{
	struct ng_req *req = ps->req;

	if (k->shape == NG_KEY_BITS) {
		set_bit(req, k->names, (unsigned *)((char *)req + k->field), s);
		return;
	}
	switch (k->id) {
	case K_SDES:
		sdes_item(req, s);
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

static void rtpp_parse(struct pstate *ps, struct slice s);

/* The value `v` names in key `k`'s table, else `other` (`v` unknown). */
static unsigned
one_of(struct ng_req *req, const struct ng_key *k, struct slice v,
    unsigned other)
{
	unsigned e;

	if (ng_name_find(k->names, v, &e))
		return e;
	unknown(req, v);
	return other;
}

/* A string value for a scalar key. */
static void
scalar(struct pstate *ps, const struct ng_key *k, struct slice key,
    struct slice v)
{
	struct ng_req *req = ps->req;
	unsigned e;
	uint64_t u;

	if (k->shape == NG_KEY_STR) {
		*(struct slice *)((char *)req + k->field) = v;
		return;
	}
	switch (k->id) {
	case K_COMMAND:
		req->command = v;
		req->cmd = ng_name_find(k->names, v, &e) ? (enum ng_cmd)e :
		    NG_CMD_OTHER;
		break;
	case K_TRANSPORT:
		req->transport_protocol = v;
		req->proto = ng_proto_parse(v);
		if (req->proto == NG_PROTO_OTHER)
			unknown(req, v);
		break;
	case K_ICE:
		req->ice = (enum ng_ice)one_of(req, k, v, NG_ICE_OTHER);
		break;
	case K_DTLS:
		req->dtls = (enum ng_dtls)one_of(req, k, v, NG_DTLS_OTHER);
		break;
	case K_FROM_IF: req->from_interface = v; ps->ndir = 1; break;
	case K_TO_IF: req->to_interface = v; ps->ndir = 2; break;
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
	const struct ng_key *k;
	int64_t i;

	if ((k = ng_key_find(key)) == NULL) {
		unknown(ps->req, key);
		return;
	}
	switch (bencode_type(m)) {
	case BENCODE_STR:
		v = bencode_str(m);
		if (ng_key_is_list(k))
			list_item(ps, k, v, 0);
		else
			scalar(ps, k, key, v);
		return;
	case BENCODE_LIST:
		if (!ng_key_is_list(k))
			break;
		for (e = bencode_first(m); e != NULL; e = bencode_next(e)) {
			if (bencode_type(e) == BENCODE_STR)
				list_item(ps, k, bencode_str(e), 0);
			else
				unknown(ps->req, key);
		}
		return;
	case BENCODE_INT:
		if (k->id == K_DELETE_DELAY && bencode_int(m, &i) == 0 &&
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
	const struct ng_key *k;

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
			if ((k = ng_key_find(key)) == NULL ||
			    !ng_key_is_list(k)) {
				unknown(ps->req, key);
				continue;
			}
			while (rest.len > 0) {
				(void)slice_split(&rest, ' ', &item);
				if (item.len > 0)
					list_item(ps, k, item, 1);
			}
			continue;
		}
		if ((k = ng_key_find(key)) == NULL || k->id == K_RTPP_FLAGS)
			unknown(ps->req, key);
		else if (ng_key_is_list(k))
			list_item(ps, k, val, 1);
		else
			scalar(ps, k, key, val);
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

int
ng_split_dgram(struct slice dgram, struct slice *cookie, struct slice *doc)
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

int
ng_parse_doc(struct slice doc, struct bencode_doc **out)
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
	if ((r = ng_split_dgram(dgram, &req->cookie, &doc)) != 0)
		return r;
	if ((r = ng_parse_doc(doc, &req->doc)) != 0)
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
