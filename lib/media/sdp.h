/* sdp.h - SDP bodies as lines in sections: parse, inspect, edit, write. */
#ifndef SBK_SDP_H
#define SBK_SDP_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/slice.h"

/*
 * An SDP (RFC 8866) is held as its lines, grouped into sections: the
 * session section (SDP_SESSION) and one section per m= line (0, 1, ...).
 * Lines not edited are written back byte for byte, each with its own line
 * ending (CRLF or LF as it came in); new lines take the ending of the first
 * line. Lines we do not interpret are kept verbatim.
 *
 * Ownership: sdp_parse() copies the body, so the caller's bytes may go
 * away. Slices returned by accessors point into the struct sdp and stay
 * valid until it is edited or freed. Line indexes are per section, and
 * shift when lines are inserted or deleted before them.
 */
struct sdp;

#define SDP_SESSION (-1)	/* section number of the session part */
#define SDP_MAX_LEN 65536	/* body, bytes */
#define SDP_MAX_LINES 1024
#define SDP_MAX_MEDIA 32
#define SDP_MAX_LINE_LEN 4096

/* Where and why a body is malformed. */
struct sdp_error {
	unsigned line;		/* 1-based line number; 0: not a line's fault */
	char reason[112];	/* lower case, e.g. "bad m= line: port 70000" */
};

/*
 * Parse `body`. On success *out is a new sdp the caller frees with
 * sdp_free(). On failure returns E_SYNTAX, E_BIG (a cap was passed) or
 * E_NOMEM and fills `err` (may be NULL).
 */
int sdp_parse(struct slice body, struct sdp **out, struct sdp_error *err) WUR;
void sdp_free(struct sdp *s);

/* Append the SDP to `out`. Returns 0 or E_BIG / E_NOMEM. */
int sdp_write(const struct sdp *s, struct buf *out) WUR;

size_t sdp_media_count(const struct sdp *s);
/* Lines in section `sec` (SDP_SESSION or a media index). */
size_t sdp_nlines(const struct sdp *s, int sec);
/*
 * Line `i` of `sec`: returns its type letter ('v', 'm', 'a', ...), or 0 if
 * there is no such line, and sets *value to what follows "x=". A blank
 * line kept at the end of a body has type ' ' and an empty value.
 */
int sdp_line(const struct sdp *s, int sec, size_t i, struct slice *value);
/* Where line `i` of `sec` was in the parsed body (1-based); 0 if new. */
unsigned sdp_line_number(const struct sdp *s, int sec, size_t i);
/* Index of the first line of `type` at or after `from` in `sec`, or -1. */
long sdp_find(const struct sdp *s, int sec, int type, size_t from);
/*
 * Index of the first "a=NAME" or "a=NAME:VALUE" line at or after `from` in
 * `sec`, or -1; *value (may be NULL) gets what follows the ':' (empty for
 * a flag attribute).
 */
long sdp_attr_find(const struct sdp *s, int sec, const char *name,
    size_t from, struct slice *value);
/* The attribute name of an a= value ("rtcp" of "rtcp:9 IN IP4 ..."). */
struct slice sdp_attr_name(struct slice avalue);

/* Edits. `value` is what follows "x="; it is copied. */
int sdp_line_set(struct sdp *s, int sec, size_t i, struct slice value) WUR;
int sdp_line_setf(struct sdp *s, int sec, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 4, 5))) WUR;
/* Insert before line `i` (i == sdp_nlines(): append). Not for 'm'/'v'. */
int sdp_line_insert(struct sdp *s, int sec, size_t i, int type,
    struct slice value) WUR;
/* Delete line `i` (not the m= line opening a media section, not v=). */
int sdp_line_delete(struct sdp *s, int sec, size_t i) WUR;
/* Delete every a=NAME line in `sec`; returns how many (>= 0). */
int sdp_attr_delete(struct sdp *s, int sec, const char *name);

/* An m= line taken apart. */
struct sdp_media {
	struct slice type;	/* "audio", "video", "application", ... */
	unsigned port;		/* 0: rejected / disabled */
	unsigned nports;	/* "/n" after the port, 0 when absent */
	struct slice proto;	/* "RTP/SAVP", "UDP/TLS/RTP/SAVPF", ... */
	struct slice fmts;	/* the rest: "0 8 101" */
};
int sdp_media_get(const struct sdp *s, size_t m, struct sdp_media *md) WUR;

/* A c= line taken apart (the address without /ttl or /count). */
struct sdp_conn {
	int ipv6;		/* addrtype IP6 */
	struct slice addr;
};
/* The c= of `sec` (E_NOTFOUND if it has none). */
int sdp_conn_get(const struct sdp *s, int sec, struct sdp_conn *c) WUR;
/* The c= that applies to media `m`: its own, else the session's. */
int sdp_media_conn(const struct sdp *s, size_t m, struct sdp_conn *c) WUR;

#endif
