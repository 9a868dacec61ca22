/* bencode.h - bencode decoder into an arena tree, and encoder into a buf. */
#ifndef SBK_BENCODE_H
#define SBK_BENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/slice.h"

/*
 * Decoding: bencode_parse() reads one value from a bounded slice into a
 * tree of nodes allocated from one arena (a `struct bencode_doc`), freed at
 * once by bencode_doc_free(). Nodes BORROW the input: string values, keys
 * and raw spans point into it, so the input must outlive the doc. The
 * parser is iterative (no recursion) and capped in depth and node count.
 *
 * Integers must be canonical ("i0e", "i-5e"; no "i-0e", no leading zeros)
 * and fit an int64_t, so a parsed value re-encodes to the very same bytes.
 * Dictionary keys must be strings; their order and uniqueness are not
 * checked (rtpengine's peers send them unsorted).
 */
struct bencode_doc;
struct bencode;

enum bencode_type {
	BENCODE_INT = 1,
	BENCODE_STR,
	BENCODE_LIST,
	BENCODE_DICT,
};

#define BENCODE_DEPTH_MAX 64		/* hard ceiling for max_depth */
#define BENCODE_DEFAULT_DEPTH 32
#define BENCODE_DEFAULT_NODES 8192

struct bencode_limits {
	unsigned max_depth;	/* containers nested deeper: E_BIG */
	size_t max_nodes;	/* more values in the document: E_BIG */
};

/*
 * Parse one bencoded value at the start of `in`. `lim` may be NULL
 * (defaults above). If `used` is non-NULL it receives the number of bytes
 * the value took and trailing bytes are allowed; if NULL, trailing bytes
 * are E_SYNTAX. Returns 0 and a new doc in `*out` (caller frees), or
 * E_SHORT (input ends inside a value), E_SYNTAX (malformed), E_BIG (a cap
 * was exceeded, or an integer does not fit int64_t) or E_NOMEM.
 */
int bencode_parse(struct slice in, const struct bencode_limits *lim,
    struct bencode_doc **out, size_t *used) WUR;
/* Free the doc and every node in it; bencode_doc_free(NULL) does nothing. */
void bencode_doc_free(struct bencode_doc *d);

/* The top-level value (never NULL for a parsed doc). */
const struct bencode *bencode_root(const struct bencode_doc *d);
/* Number of nodes (values) in the doc. */
size_t bencode_doc_nodes(const struct bencode_doc *d);

/* Node accessors; every one accepts NULL and then returns 0/empty/NULL. */
enum bencode_type bencode_type(const struct bencode *n);
/* The bytes of a string (SLICE_NULL if `n` is not a string). */
struct slice bencode_str(const struct bencode *n);
/* The value of an integer: 0, or E_INVAL if `n` is not an integer. */
int bencode_int(const struct bencode *n, int64_t *v) WUR;
/* Number of elements (list) or members (dict); 0 otherwise. */
size_t bencode_count(const struct bencode *n);
/* First element/member of a container, then the next one, or NULL. */
const struct bencode *bencode_first(const struct bencode *n);
const struct bencode *bencode_next(const struct bencode *n);
/* For a dict member: its key (SLICE_NULL for a list element or the root). */
struct slice bencode_key(const struct bencode *n);
/* The exact encoded bytes of the value (borrowed from the input). */
struct slice bencode_raw(const struct bencode *n);

/* The first member of `dict` whose key equals `key` byte for byte. */
const struct bencode *bencode_dict_get(const struct bencode *dict,
    const char *key);
const struct bencode *bencode_dict_get_slice(const struct bencode *dict,
    struct slice key);

/*
 * Encoding: append to a buf (its cap bounds the output). Containers are
 * opened with bencode_put_list()/bencode_put_dict() and closed with
 * bencode_put_end(); inside a dict, alternate a key (a string) and a value,
 * or use the bencode_put_k*() shorthands. Each call returns 0, E_BIG (the
 * buf's cap) or E_NOMEM; a failed call leaves the buf as it was, but a
 * sequence of calls may stop half-way: callers that need all-or-nothing
 * remember buf_len() and buf_truncate() back on failure.
 */
int bencode_put_int(struct buf *b, int64_t v) WUR;
int bencode_put_str(struct buf *b, struct slice s) WUR;
int bencode_put_cstr(struct buf *b, const char *s) WUR;
int bencode_put_list(struct buf *b) WUR;
int bencode_put_dict(struct buf *b) WUR;
int bencode_put_end(struct buf *b) WUR;
/* A parsed value, copied as its raw bytes. */
int bencode_put_node(struct buf *b, const struct bencode *n) WUR;
/* Dict members: key `key` (a C string) and a value. */
int bencode_put_kstr(struct buf *b, const char *key, struct slice v) WUR;
int bencode_put_kcstr(struct buf *b, const char *key, const char *v) WUR;
int bencode_put_kint(struct buf *b, const char *key, int64_t v) WUR;
/* Key `key`, then open a list / dict as its value. */
int bencode_put_klist(struct buf *b, const char *key) WUR;
int bencode_put_kdict(struct buf *b, const char *key) WUR;

/*
 * A readable rendering of `n` (JSON-like: strings quoted, bytes outside
 * printable ASCII as \r \n \t \" \\ or \xHH). `indent` > 0 puts each member
 * on its own line, indented by that many spaces per level; 0 gives one line.
 * Returns 0, E_BIG or E_NOMEM.
 */
int bencode_to_text(struct buf *b, const struct bencode *n, unsigned indent)
    WUR;

#endif
