/* sip.h - SIP message framing, parsing and editing over slices (RFC 3261). */
#ifndef SBK_SIP_H
#define SBK_SIP_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/slice.h"

/*
 * Ownership, once for the whole module: a parsed message (struct sip_msg)
 * and everything reached from it are slices that BORROW the bytes handed to
 * sip_parse(); they are valid as long as those bytes are. Nothing here
 * allocates except the framer and the edit list, which own their buffers.
 */

/* Headers we look at; everything else is SIP_H_OTHER (kept verbatim). */
enum sip_hid {
	SIP_H_OTHER = 0,
	SIP_H_VIA,
	SIP_H_FROM,
	SIP_H_TO,
	SIP_H_CALL_ID,
	SIP_H_CSEQ,
	SIP_H_CONTACT,
	SIP_H_CONTENT_LENGTH,
	SIP_H_CONTENT_TYPE,
	SIP_H_ROUTE,
	SIP_H_RECORD_ROUTE,
	SIP_H_MAX_FORWARDS,
	SIP_H_PATH,
	SIP_H_SUPPORTED,
	SIP_H_REQUIRE,
	SIP_H_EXPIRES,
	SIP_H_CONTENT_ENCODING,
	SIP_H_SUBJECT,
	SIP_H_EVENT,
	SIP_H_REFER_TO,
	SIP_H_ALLOW_EVENTS,
	SIP_H_SESSION_EXPIRES,
	SIP_H_COUNT_
};

/* Caps: a parsed message holds at most this many header lines. */
#define SIP_MAX_HEADERS 96

struct sip_hdr {
	enum sip_hid id;
	struct slice name;	/* as written (may be compact, e.g. "v") */
	struct slice value;	/* trimmed; folded lines included verbatim */
	struct slice line;	/* the whole header line(s) including CRLF */
};

struct sip_msg {
	struct slice raw;	/* the whole message */
	int is_request;
	/* request line */
	struct slice method;
	struct slice ruri;
	/* status line */
	int status;
	struct slice reason;
	struct slice start_line;	/* without its CRLF */
	size_t nhdr;
	struct sip_hdr hdr[SIP_MAX_HEADERS];
	struct slice hdr_end;	/* the empty line "\r\n" ending the headers */
	struct slice body;
	/* shortcuts (empty when absent) */
	struct slice call_id;
	uint32_t cseq;
	struct slice cseq_method;
	int max_forwards;	/* -1 when absent */
	/* The tag parameters of the (first) From and To headers, parsed
	 * once here for every later step; *_tagged: the parameter is there
	 * (its value may still be empty). */
	struct slice from_tag, to_tag;
	int from_tagged, to_tagged;
	/* Why sip_parse() refused a request it could still answer: the
	 * status (400, or 505 for another SIP version) and its reason
	 * phrase ("Missing Call-ID"); 0 and "" otherwise, and always for
	 * responses (never answered). The fields above are then filled as
	 * far as they could be read, for sip_build_response(). */
	int bad_status;
	char bad_reason[64];
};

/*
 * The parsed message `m`, whose bytes have been copied to `to` (as many):
 * every slice of it now points there. For keeping a parsed message
 * beyond the life of the bytes it was parsed from.
 */
void sip_msg_move(struct sip_msg *m, const uint8_t *to);

/*
 * Parse one complete message in `raw` (start line, headers, body). The body
 * is what follows the blank line; with a Content-Length it must match (a
 * datagram may carry less: E_SHORT, more: trailing bytes ignored).
 * Returns 0, E_SYNTAX (malformed), E_BIG (more than SIP_MAX_HEADERS
 * headers) or E_SHORT.
 *
 * Refused, with m->bad_status and m->bad_reason set for a request: a
 * control character (anything below 0x20 but HT, and DEL; CR LF only as
 * a line end or a fold) in the start line or a header; a header line
 * without a colon or with a bad name; an empty or scheme-less
 * Request-URI; a version other than SIP/2.0 (505); a bad CSeq (number,
 * method, or a method other than the request's but for ACK and CANCEL);
 * a Max-Forwards that is not a number up to 255; a bad Content-Length
 * or one larger than the datagram; a missing Via, From, To, Call-ID or
 * CSeq; two Call-ID, CSeq, From, To, Max-Forwards, Content-Length or
 * Content-Type headers with different values. The first fault found
 * names the message's fault; the parse goes on through the headers, so
 * that the answer can carry them.
 */
int sip_parse(struct sip_msg *m, struct slice raw) WUR;

/* The id of header name `name` (full or compact form, any case). */
enum sip_hid sip_hdr_id(struct slice name);
/* The canonical full name of `id` ("Via"), or NULL for SIP_H_OTHER. */
const char *sip_hdr_name(enum sip_hid id);

/*
 * Header iteration: index of the first header with `id` at or after
 * `from`, or -1. sip_find() returns the first value's header or NULL.
 */
long sip_next(const struct sip_msg *m, enum sip_hid id, size_t from);
const struct sip_hdr *sip_find(const struct sip_msg *m, enum sip_hid id);
/* Case-insensitive lookup of an arbitrary header name. */
const struct sip_hdr *sip_find_name(const struct sip_msg *m, const char *name);

/*
 * Split a multi-value header ("a, b, <sip:c,d>") one value at a time:
 * returns 1 with the next value (trimmed) in `val` and the cursor advanced,
 * 0 at the end. Commas inside quotes and <...> do not split.
 */
int sip_value_next(struct slice *cursor, struct slice *val);

/* A name-addr or addr-spec with header parameters. */
struct sip_addr {
	struct slice display;	/* without quotes; may be empty */
	struct slice uri;	/* what was inside <> (or the bare URI) */
	struct slice params;	/* ";tag=x;expires=3" (header params) */
	int bracketed;		/* 1 if the URI was in <> */
};
int sip_addr_parse(struct slice v, struct sip_addr *a) WUR;

struct sip_uri {
	struct slice scheme;	/* "sip", "sips", "tel" ... */
	struct slice user;	/* may be empty */
	struct slice host;	/* IPv6 references keep their [] */
	uint16_t port;		/* 0 when absent */
	struct slice params;	/* ";transport=tls;lr" or empty */
	struct slice headers;	/* "?a=b" without the '?', or empty */
};
int sip_uri_parse(struct slice s, struct sip_uri *u) WUR;

/*
 * Look up parameter `name` (case-insensitive) in a ";a=b;c" list: returns
 * 1 and its value (empty for a bare flag) in `val` (may be NULL), or 0.
 * `span` (may be NULL) gets the whole ";name=value" for editing.
 */
int sip_param(struct slice params, const char *name, struct slice *val,
    struct slice *span);

struct sip_via {
	struct slice transport;	/* "UDP", "TLS", ... */
	struct slice host;
	uint16_t port;
	struct slice sent_by;	/* host[:port] as written */
	struct slice params;
	struct slice branch;
	int has_rport;
	struct slice rport;	/* value, empty if bare */
};
/* Parse one Via value (split a multi-value Via with sip_value_next()). */
int sip_via_parse(struct slice v, struct sip_via *via) WUR;

/* The first value of the topmost Via header (empty slice if none). */
struct slice sip_top_via(const struct sip_msg *m);

/* ---- stream framing ---------------------------------------------------- */

/*
 * A framer reassembles messages from a byte stream (TLS or TCP): leading
 * CRLFs are skipped, a CRLFCRLF before any message is a keep-alive ping
 * (RFC 5626 §3.5.1), a message ends after its blank line plus
 * Content-Length bytes; Content-Length (or "l") is mandatory on streams.
 */
struct sip_framer;

enum { SIP_FRAME_NONE = 0, SIP_FRAME_MSG = 1, SIP_FRAME_PING = 2 };

/* `max_msg` caps one message; the framer buffers at most that much. */
struct sip_framer *sip_framer_new(size_t max_msg) WUR;
void sip_framer_free(struct sip_framer *f);

/* Space to read into directly: up to `*n` bytes at the returned pointer. */
uint8_t *sip_framer_space(struct sip_framer *f, size_t *n);
void sip_framer_commit(struct sip_framer *f, size_t n);
/* Copy `len` bytes in; E_BIG if the cap would be passed. */
int sip_framer_feed(struct sip_framer *f, const void *p, size_t len) WUR;

/*
 * The next event: SIP_FRAME_MSG with the message in `msg` (borrowed, valid
 * until the next call on `f`), SIP_FRAME_PING, SIP_FRAME_NONE (need more
 * bytes), or an error: E_BIG (message or header block over the cap),
 * E_SYNTAX (no or bad Content-Length). After an error the stream cannot be
 * resynchronised: close it.
 */
int sip_framer_next(struct sip_framer *f, struct slice *msg) WUR;
/* Drop consumed bytes; an empty framer frees its buffer (idle memory). */
void sip_framer_release(struct sip_framer *f);
/* Bytes buffered and not yet returned. */
size_t sip_framer_pending(const struct sip_framer *f);
/* Bytes of buffer allocated (what a memory budget charges). */
size_t sip_framer_held(const struct sip_framer *f);

/* ---- edits ------------------------------------------------------------- */

/*
 * An edit list: insertions, replacements and deletions addressed by slices
 * into the original message, applied in one pass that copies untouched
 * bytes verbatim. Replacement texts are copied into the list.
 */
struct sip_edits;

struct sip_edits *sip_edits_new(void) WUR;
void sip_edits_free(struct sip_edits *e);
void sip_edits_reset(struct sip_edits *e);

/* Insert `text` before byte `at` (a pointer into the message). */
int sip_edit_insert(struct sip_edits *e, const uint8_t *at, struct slice text)
    WUR;
/* Replace the bytes of `span` (a slice of the message) with `text`. */
int sip_edit_replace(struct sip_edits *e, struct slice span, struct slice text)
    WUR;
int sip_edit_delete(struct sip_edits *e, struct slice span) WUR;
/* printf-style insert. */
int sip_edit_insertf(struct sip_edits *e, const uint8_t *at, const char *fmt,
    ...) __attribute__((format(printf, 3, 4))) WUR;

/* Insert a header line "Name: value\r\n" before the first header. */
int sip_edit_add_top(struct sip_edits *e, const struct sip_msg *m,
    const char *name, struct slice value) WUR;
/* Replace the body and set Content-Length to match (adds it if missing). */
int sip_edit_body(struct sip_edits *e, const struct sip_msg *m,
    struct slice body) WUR;

/*
 * Append to `dst` the edits of `src`, made on message `from`, as edits of
 * `to`, the same message moved (sip_msg_move()). 0, E_INVAL (an edit
 * outside `from`), E_NOMEM or E_BIG.
 */
int sip_edits_copy(struct sip_edits *dst, const struct sip_edits *src,
    const struct sip_msg *from, const struct sip_msg *to) WUR;
/*
 * Serialise `m` with the edits into `out` (appended). Edits must not
 * overlap (E_INVAL). The list is left as is.
 */
int sip_edits_apply(const struct sip_edits *e, const struct sip_msg *m,
    struct buf *out) WUR;

/* ---- building responses ------------------------------------------------ */

/*
 * Append a response to request `req` into `out`: status line, all Via
 * headers, From, To (with `to_tag` added if it has none and code > 100),
 * Call-ID, CSeq, then `extra` (complete header lines, may be empty) and
 * Content-Length: 0.
 */
int sip_build_response(const struct sip_msg *req, int code,
    const char *reason, struct slice to_tag, struct slice extra,
    struct buf *out) WUR;

/* The standard reason phrase for `code` ("Not Found"), or "Unknown". */
const char *sip_reason(int code);

#endif
