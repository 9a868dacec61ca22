/* ws.h - WebSocket (RFC 6455) for SIP (RFC 7118): handshake and frames. */
#ifndef SBK_WS_H
#define SBK_WS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/slice.h"

/*
 * The server side of a WebSocket carrying SIP, in two parts that touch no
 * socket: the opening handshake (ws_http.c: an HTTP/1.1 GET with
 * "Upgrade: websocket" parsed, judged and answered) and the frames
 * (ws_frame.c: a decoder that reassembles client messages, and the
 * header of the unmasked frames a server sends).
 *
 * The rules, RFC 6455 and RFC 7118 as sip-tls-term applies them:
 *  - The Upgrade must be a GET over HTTP/1.1 with "Upgrade: websocket",
 *    "Connection: Upgrade", a Sec-WebSocket-Key of 16 bytes in base64 and
 *    "sip" among its Sec-WebSocket-Protocol values (else 400), version
 *    13 (else 426 naming 13), and, when an Origin allow-list is set, an
 *    Origin in it (else 403; a request without Origin, from a client that
 *    is no browser, is let in). The 101 names the protocol "sip".
 *  - Client frames must be masked (else close 1002), no RSV bit, known
 *    opcodes; control frames whole (FIN) and at most 125 bytes. A message
 *    of several frames (continuation frames, control frames between
 *    them) is reassembled; a frame or message larger than the cap closes
 *    with 1009. Text frames are not checked for UTF-8 (the SIP parser
 *    judges the message; Kamailio is as lenient): one SIP message per
 *    WebSocket message, text or binary alike.
 */

/* ---- the opening handshake (ws_http.c) ---- */

/* What an Upgrade request said; slices borrow the request's bytes. */
struct ws_upgrade {
	struct slice method, target, version;	/* request line */
	struct slice key;		/* Sec-WebSocket-Key */
	struct slice origin;		/* Origin (empty: none) */
	struct slice host;
	int upgrade_ws;			/* Upgrade names websocket */
	int conn_upgrade;		/* Connection names upgrade */
	int proto_sip;			/* Sec-WebSocket-Protocol has sip */
	int ws_version;			/* Sec-WebSocket-Version (-1: none) */
	int dup;			/* a header given twice that must not */
};

/* The largest Upgrade request taken (bytes, head and blank line). */
#define WS_HTTP_MAX 8192

/*
 * Find the end of an HTTP request head in `p` (the bytes so far): the
 * head's length with its blank line, 0 when it is not whole yet, E_BIG
 * when `len` passed `cap` without one.
 */
int ws_http_head_len(const uint8_t *p, size_t len, size_t cap) WUR;

/* Parse a whole head (from ws_http_head_len()): 0 or E_SYNTAX. */
int ws_http_parse(struct slice head, struct ws_upgrade *u) WUR;

/*
 * The status the request earns: 101 (upgrade), 400, 403 (its Origin is
 * not among the `norigins` allowed ones; with none, any Origin goes) or
 * 426 (a version other than 13). Origins compare without case.
 */
int ws_http_judge(const struct ws_upgrade *u, const char *const *origins,
    size_t norigins);

/* Sec-WebSocket-Accept of `key` (28 characters and a NUL): 0, E_CRYPTO. */
#define WS_ACCEPT_LEN 28
int ws_accept(struct slice key, char out[WS_ACCEPT_LEN + 1]) WUR;

/*
 * The response for `status` (from ws_http_judge(); `key` for a 101) into
 * `out`: its length, or E_BIG / E_CRYPTO. Anything but a 101 carries
 * "Connection: close".
 */
int ws_http_response(int status, struct slice key, char *out, size_t n) WUR;

/* ---- frames (ws_frame.c) ---- */

enum ws_op {
	WS_OP_CONT = 0x0, WS_OP_TEXT = 0x1, WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8, WS_OP_PING = 0x9, WS_OP_PONG = 0xa,
};

/* Close codes (RFC 6455 §7.4.1). */
#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_GOING 1001
#define WS_CLOSE_PROTOCOL 1002
#define WS_CLOSE_TOO_BIG 1009

/* A server frame's header, at most. */
#define WS_HDR_MAX 10

/*
 * The header of an unmasked, final frame of `op` with `len` payload
 * bytes into `out`: its length (2, 4 or 10).
 */
size_t ws_frame_header(uint8_t out[WS_HDR_MAX], enum ws_op op, size_t len);

/* What the decoder found. */
enum ws_ev_type { WS_EV_MSG = 1, WS_EV_PING, WS_EV_PONG, WS_EV_CLOSE };

struct ws_event {
	enum ws_ev_type type;
	enum ws_op op;			/* MSG: TEXT or BINARY */
	struct slice data;		/* payload (unmasked; CLOSE: reason) */
	uint16_t code;			/* CLOSE: status code (0: none) */
};

/*
 * A decoder: one per connection. It holds no memory while nothing is
 * partial (after ws_dec_release()). Ownership: its own buffers; event
 * slices point into them and live until the next feed or release.
 */
struct ws_dec;

/* A decoder for messages of at most `max_msg` bytes (0: 65536). */
struct ws_dec *ws_dec_new(size_t max_msg) WUR;
void ws_dec_free(struct ws_dec *d);

/* The most ws_dec_feed() takes at a time. */
#define WS_FEED_MAX 16384

/* Take `n` (<= WS_FEED_MAX) bytes from the wire: 0, E_BIG or E_NOMEM. */
int ws_dec_feed(struct ws_dec *d, const uint8_t *p, size_t n) WUR;

/*
 * The next event: 1 and *ev, 0 when more bytes are needed, or an error
 * after which the connection closes with ws_dec_close_code(): E_SYNTAX
 * (1002: unmasked, bad opcode or RSV, bad control frame, bad
 * continuation) or E_BIG (1009). After an error, or a CLOSE event, it
 * gives nothing more.
 */
int ws_dec_next(struct ws_dec *d, struct ws_event *ev) WUR;

/* The close code for the error ws_dec_next() returned. */
uint16_t ws_dec_close_code(const struct ws_dec *d);

/* Drop what was consumed; free the buffers when nothing is partial. */
void ws_dec_release(struct ws_dec *d);

/* Bytes held (partial frames and messages), for budgets. */
size_t ws_dec_held(const struct ws_dec *d);
/* 1 while a frame or a fragmented message is not whole. */
int ws_dec_partial(const struct ws_dec *d);

#endif
