/* httpd.h - a tiny HTTP/1.1 GET server on the event loop (for /metrics). */
#ifndef SBK_HTTPD_H
#define SBK_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/ev.h"
#include "base/log.h"
#include "base/net.h"
#include "base/slice.h"

/*
 * One request per connection, answered with "Connection: close": GET
 * (or HEAD) of a path, a handler that writes the body, the response
 * written from a buffer of its own as the socket takes it. Nothing ever
 * blocks the loop, and every connection is bounded:
 *
 *  - `max_conns` open at once; one more closes the oldest;
 *  - the request head (request line and headers) at most `max_request`
 *    bytes (431 beyond), a malformed one 400, other methods 405;
 *  - `timeout_ms` for the whole exchange, accept to last byte written:
 *    a client that sends slowly or does not read is closed then;
 *  - the response at most `max_response` bytes (500 beyond).
 *
 * Ownership: borrows the loop and the logger; owns its sockets.
 */
struct httpd;

struct httpd_conf {
	struct net_addr addr;		/* where to listen (port 0: any) */
	size_t max_conns;		/* 0: 8 */
	uint32_t timeout_ms;		/* 0: 5000 */
	size_t max_request;		/* 0: 4096 */
	size_t max_response;		/* 0: 8 MiB */
};

/*
 * The handler of a GET: `path` without its query string. Appends the
 * body to `body` (capped at max_response), sets *ctype (a static
 * string), returns the status: 200, 404 (body ignored), 500.
 */
typedef int httpd_fn(void *arg, struct slice path, struct buf *body,
    const char **ctype);

struct httpd *httpd_new(struct ev_loop *loop, const struct httpd_conf *c,
    httpd_fn *fn, void *arg, const struct logger *lg, int *err) WUR;
/* Close every connection and the listener. NULL does nothing. */
void httpd_free(struct httpd *h);
/* The bound address (to learn a port 0). */
int httpd_local(const struct httpd *h, struct net_addr *a) WUR;

/* The parts of a request head the server reads (slices into it). */
struct httpd_req {
	struct slice method, path;	/* path: without its query */
	int head;			/* HEAD: no body in the answer */
};
/*
 * Parse a request head (request line, headers, up to its empty line):
 * 0 for GET or HEAD of an absolute path in HTTP/1.0 or 1.1, else the
 * status to answer, 400 or 405.
 */
int httpd_parse_head(struct slice head, struct httpd_req *r) WUR;
/* The length of the head in `s` (through its empty line, CRLF CRLF or
 * LF LF), or -1 when it is not complete yet. */
long httpd_head_end(struct slice s);

struct httpd_stats {
	uint64_t requests;		/* answered (any status) */
	uint64_t bad;			/* 400, 405, 431 */
	uint64_t timeouts;		/* closed at timeout_ms */
	uint64_t evicted;		/* closed for a newer connection */
	size_t open;
};
void httpd_stats(const struct httpd *h, struct httpd_stats *st);

#endif
