/* ng_int.h - private to lib/ng: the tables and helpers its files share. */
#ifndef SBK_NG_INT_H
#define SBK_NG_INT_H

#include <stddef.h>

#include "ng/ng.h"

/*
 * Not a public header: only lib/ng/ng_*.c include it. The request parser
 * (ng_req.c) and the request encoder (ng_client.c) read the same tables,
 * so a name, and what an ng key means, is written once (ng_keys.c).
 */

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Name tables: bits and enums to their canonical names and back. */
struct ng_name {
	unsigned v;
	const char *s;
};

struct ng_names {
	const struct ng_name *v;
	size_t n;
};

extern const struct ng_names ng_cmd_names, ng_proto_names, ng_ice_names,
    ng_dtls_names, ng_replace_names, ng_rtcp_mux_names, ng_sdes_names,
    ng_supports_names, ng_flag_names;

/* 1 and *v set if `s` names an entry of `t` (ng_name_eq()), else 0. */
int ng_name_find(const struct ng_names *t, struct slice s, unsigned *v);
/* The first name of value `v` in `t`, or NULL. */
const char *ng_name_of(const struct ng_names *t, unsigned v);
/* If `s` starts with `prefix` (normalised), put the rest in `rest`. */
int ng_name_prefix(struct slice s, const char *prefix, struct slice *rest);

/* The keys of a request dictionary. */
enum ng_key_id {
	K_NONE = 0,
	K_COMMAND, K_CALL_ID, K_FROM_TAG, K_TO_TAG, K_VIA_BRANCH, K_SDP,
	K_TRANSPORT, K_ICE, K_DTLS, K_REPLACE, K_RTCP_MUX, K_SDES,
	K_DIRECTION, K_FROM_IF, K_TO_IF, K_RECEIVED_FROM, K_MEDIA_ADDRESS,
	K_ADDRESS_FAMILY, K_LABEL, K_DELETE_DELAY, K_SUPPORTS, K_FLAGS,
	K_SIP_MSG_TYPE, K_RECORD_CALL, K_RTPP_FLAGS,
};

enum ng_key_shape {
	NG_KEY_STR,		/* a string, kept as is in a slice */
	NG_KEY_BITS,		/* a list of names from `names`, OR'd */
	NG_KEY_LIST,		/* another list, with code of its own */
	NG_KEY_SCALAR,		/* another single value, code of its own */
};

/* One key: its name, its shape and where it lands in struct ng_req. */
struct ng_key {
	enum ng_key_id id;
	const char *name;
	enum ng_key_shape shape;
	size_t field;		/* STR: struct slice, BITS: unsigned */
	const struct ng_names *names;	/* BITS, and ICE/DTLS: the values */
};

/* The keys, in the order ng_req_encode() writes them. */
extern const struct ng_key ng_keys[];
extern const size_t ng_nkeys;

/* The key named `name` (ng_name_eq()), or NULL. */
const struct ng_key *ng_key_find(struct slice name);
/* 1 if key `k` takes a list. */
int ng_key_is_list(const struct ng_key *k);

/* Split `COOKIE SP DOC`, allowing trailing whitespace after DOC. */
int ng_split_dgram(struct slice dgram, struct slice *cookie,
    struct slice *doc) WUR;
/* Decode `doc`, which must be a dictionary, into a new *out. */
int ng_parse_doc(struct slice doc, struct bencode_doc **out) WUR;
/* key and string `v`, unless `v` is empty. */
int ng_put_opt(struct buf *b, const char *key, struct slice v) WUR;

#endif
