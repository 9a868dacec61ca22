/* wsread.h - the WebSocket messages of a captured stream (RFC 6455). */
#ifndef SBK_WSREAD_H
#define SBK_WSREAD_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/slice.h"

/*
 * A reader of one direction of a WebSocket connection as captured (SIP
 * over WebSocket, RFC 7118, inside TLS): the HTTP upgrade request or its
 * 101 response first (skipped), then frames, unmasked, their fragments
 * joined; each whole text or binary message is given to a callback.
 * Control frames (close, ping, pong) are counted and skipped. A frame or
 * message over `max_msg` bytes, or a header block over 16 KiB, is an
 * error after which the stream cannot be read further. Reads only: no
 * extension (permessage-deflate: RSV1 frames are errors).
 */
struct wsread;

/* A whole message, borrowed until the callback returns. */
typedef void (*wsread_fn)(void *arg, const uint8_t *p, size_t len);

/* NULL: E_NOMEM. */
struct wsread *wsread_new(size_t max_msg) WUR;
void wsread_free(struct wsread *w);

/* 1 when `p` starts the stream of a WebSocket upgrade ("GET " request
 * or "HTTP/1.1 101" response). */
int wsread_looks_like(struct slice p);

/* The next bytes. 0, E_BIG, E_SYNTAX (the stream is lost), E_NOMEM. */
int wsread_feed(struct wsread *w, const uint8_t *p, size_t len,
    wsread_fn fn, void *arg) WUR;

/* Frames read, and control frames among them. */
uint64_t wsread_frames(const struct wsread *w);
uint64_t wsread_control(const struct wsread *w);

#endif
