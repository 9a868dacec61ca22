/* ng_keys.c - rtpengine "ng" protocol: names, and the table of request keys. */
#include <stddef.h>
#include <string.h>

#include "ng/ng_int.h"

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

int
ng_name_prefix(struct slice s, const char *prefix, struct slice *rest)
{
	size_t n = strlen(prefix);

	if (s.len <= n || !name_eq_n(slice_make(s.p, n), prefix, n))
		return 0;
	*rest = slice_make(s.p + n, s.len - n);
	return 1;
}

/* Name tables: bits and enums to their canonical names and back. */

#define TABLE(t) { t, N_ELEM(t) }

static const struct ng_name cmd_v[] = {
	{ NG_CMD_PING, "ping" },
	{ NG_CMD_OFFER, "offer" },
	{ NG_CMD_ANSWER, "answer" },
	{ NG_CMD_DELETE, "delete" },
	{ NG_CMD_QUERY, "query" },
	{ NG_CMD_LIST, "list" },
	{ NG_CMD_STATISTICS, "statistics" },
};
const struct ng_names ng_cmd_names = TABLE(cmd_v);

static const struct ng_name proto_v[] = {
	{ NG_PROTO_RTP_AVP, "RTP/AVP" },
	{ NG_PROTO_RTP_SAVP, "RTP/SAVP" },
	{ NG_PROTO_RTP_AVPF, "RTP/AVPF" },
	{ NG_PROTO_RTP_SAVPF, "RTP/SAVPF" },
	{ NG_PROTO_UDP_TLS_RTP_SAVP, "UDP/TLS/RTP/SAVP" },
	{ NG_PROTO_UDP_TLS_RTP_SAVPF, "UDP/TLS/RTP/SAVPF" },
};
const struct ng_names ng_proto_names = TABLE(proto_v);

static const struct ng_name ice_v[] = {
	{ NG_ICE_REMOVE, "remove" },
	{ NG_ICE_FORCE, "force" },
	{ NG_ICE_FORCE_RELAY, "force-relay" },
	{ NG_ICE_DEFAULT, "default" },
	{ NG_ICE_OPTIONAL, "optional" },
};
const struct ng_names ng_ice_names = TABLE(ice_v);

static const struct ng_name dtls_v[] = {
	{ NG_DTLS_OFF, "off" },
	{ NG_DTLS_OFF, "no" },
	{ NG_DTLS_OFF, "disable" },
	{ NG_DTLS_PASSIVE, "passive" },
	{ NG_DTLS_ACTIVE, "active" },
};
const struct ng_names ng_dtls_names = TABLE(dtls_v);

static const struct ng_name replace_v[] = {
	{ NG_REPLACE_ORIGIN, "origin" },
	{ NG_REPLACE_SESSION_CONNECTION, "session-connection" },
	{ NG_REPLACE_SDP_VERSION, "SDP-version" },
	{ NG_REPLACE_USERNAME, "username" },
	{ NG_REPLACE_SESSION_NAME, "session-name" },
	{ NG_REPLACE_ZERO_ADDRESS, "zero-address" },
	{ NG_REPLACE_ORIGIN_FULL, "origin-full" },
};
const struct ng_names ng_replace_names = TABLE(replace_v);

static const struct ng_name rtcp_mux_v[] = {
	{ NG_RTCP_MUX_OFFER, "offer" },
	{ NG_RTCP_MUX_DEMUX, "demux" },
	{ NG_RTCP_MUX_ACCEPT, "accept" },
	{ NG_RTCP_MUX_REJECT, "reject" },
	{ NG_RTCP_MUX_REQUIRE, "require" },
};
const struct ng_names ng_rtcp_mux_names = TABLE(rtcp_mux_v);

static const struct ng_name sdes_v[] = {
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
const struct ng_names ng_sdes_names = TABLE(sdes_v);

static const struct ng_name supports_v[] = {
	{ NG_SUPPORTS_LOAD_LIMIT, "load limit" },
};
const struct ng_names ng_supports_names = TABLE(supports_v);

static const struct ng_name flag_v[] = {
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
const struct ng_names ng_flag_names = TABLE(flag_v);

int
ng_name_find(const struct ng_names *t, struct slice s, unsigned *v)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (ng_name_eq(s, t->v[i].s)) {
			*v = t->v[i].v;
			return 1;
		}
	}
	return 0;
}

const char *
ng_name_of(const struct ng_names *t, unsigned v)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].v == v)
			return t->v[i].s;
	return NULL;
}

const char *
ng_cmd_name(enum ng_cmd cmd)
{
	return ng_name_of(&ng_cmd_names, cmd);
}

const char *
ng_proto_name(enum ng_proto p)
{
	return ng_name_of(&ng_proto_names, p);
}

enum ng_proto
ng_proto_parse(struct slice s)
{
	size_t i;

	/* exact SDP spelling: '/' is not normalised, '-' never occurs */
	for (i = 0; i < N_ELEM(proto_v); i++)
		if (slice_case_eq_cstr(s, proto_v[i].s))
			return proto_v[i].v;
	return NG_PROTO_OTHER;
}

int
ng_proto_is_srtp(enum ng_proto p)
{
	return p == NG_PROTO_RTP_SAVP || p == NG_PROTO_RTP_SAVPF ||
	    p == NG_PROTO_UDP_TLS_RTP_SAVP || p == NG_PROTO_UDP_TLS_RTP_SAVPF;
}


/*
 * The request keys: what each means, once. Rows in the order
 * ng_req_encode() writes them: rtpp-flags first, so that the explicit keys
 * after it win; command last.
 */
#define STR(id, name, f) { id, name, NG_KEY_STR, offsetof(struct ng_req, f), \
	NULL }
#define BITS(id, name, f, t) { id, name, NG_KEY_BITS, \
	offsetof(struct ng_req, f), &t }
#define LIST(id, name) { id, name, NG_KEY_LIST, 0, NULL }
#define SCALAR(id, name, t) { id, name, NG_KEY_SCALAR, 0, t }

const struct ng_key ng_keys[] = {
	SCALAR(K_RTPP_FLAGS, "rtpp-flags", NULL),
	STR(K_SDP, "sdp", sdp),
	STR(K_CALL_ID, "call-id", call_id),
	STR(K_FROM_TAG, "from-tag", from_tag),
	STR(K_TO_TAG, "to-tag", to_tag),
	STR(K_VIA_BRANCH, "via-branch", via_branch),
	SCALAR(K_TRANSPORT, "transport-protocol", NULL),
	SCALAR(K_ICE, "ICE", &ng_ice_names),
	SCALAR(K_DTLS, "DTLS", &ng_dtls_names),
	BITS(K_REPLACE, "replace", replace, ng_replace_names),
	BITS(K_RTCP_MUX, "rtcp-mux", rtcp_mux, ng_rtcp_mux_names),
	LIST(K_SDES, "SDES"),
	LIST(K_DIRECTION, "direction"),
	SCALAR(K_FROM_IF, "from-interface", NULL),
	SCALAR(K_TO_IF, "to-interface", NULL),
	LIST(K_RECEIVED_FROM, "received-from"),
	STR(K_MEDIA_ADDRESS, "media-address", media_address),
	STR(K_ADDRESS_FAMILY, "address-family", address_family),
	STR(K_LABEL, "label", label),
	STR(K_SIP_MSG_TYPE, "sip-message-type", sip_message_type),
	STR(K_RECORD_CALL, "record-call", record_call),
	SCALAR(K_DELETE_DELAY, "delete-delay", NULL),
	BITS(K_SUPPORTS, "supports", supports, ng_supports_names),
	LIST(K_FLAGS, "flags"),
	SCALAR(K_COMMAND, "command", &ng_cmd_names),
};

const size_t ng_nkeys = N_ELEM(ng_keys);

const struct ng_key *
ng_key_find(struct slice name)
{
	size_t i;

	for (i = 0; i < N_ELEM(ng_keys); i++)
		if (ng_name_eq(name, ng_keys[i].name))
			return &ng_keys[i];
	return NULL;
}

int
ng_key_is_list(const struct ng_key *k)
{
	return k->shape == NG_KEY_BITS || k->shape == NG_KEY_LIST;
}
