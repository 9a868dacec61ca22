/* buf.h - growable byte buffers with a hard size cap. */
#ifndef SBK_BUF_H
#define SBK_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/slice.h"

/*
 * A buf owns its bytes. It grows on demand up to `max` bytes, chosen by the
 * creator for that use; appends beyond it fail with E_BIG and leave the
 * contents unchanged. The contents are always followed by a NUL byte (not
 * counted in the length) so text can be handed to C APIs, but sbckit code
 * uses the length. A buf created with buf_new_secret() is wiped when it
 * shrinks, is reset or freed.
 */
struct buf;

struct buf *buf_new(size_t max) WUR;
struct buf *buf_new_secret(size_t max) WUR;
/* Frees `b` and its bytes; buf_free(NULL) does nothing. */
void buf_free(struct buf *b);

const uint8_t *buf_data(const struct buf *b);
size_t buf_len(const struct buf *b);
size_t buf_max(const struct buf *b);
struct slice buf_slice(const struct buf *b);
/* The contents as a NUL-terminated string (borrowed, valid until changed). */
const char *buf_str(const struct buf *b);

void buf_reset(struct buf *b);
/* Shorten to `len` bytes (no-op when already shorter). */
void buf_truncate(struct buf *b, size_t len);

int buf_append(struct buf *b, const void *p, size_t len) WUR;
int buf_append_slice(struct buf *b, struct slice s) WUR;
int buf_append_cstr(struct buf *b, const char *s) WUR;
int buf_append_u8(struct buf *b, uint8_t c) WUR;
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3))) WUR;
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0))) WUR;

/* Remove the first `n` bytes (for queues). */
void buf_consume(struct buf *b, size_t n);

/*
 * Reserve room for `n` more bytes and return a pointer to it; commit what
 * was written with buf_commit(). Returns NULL (E_BIG or E_NOMEM) on failure.
 */
uint8_t *buf_reserve(struct buf *b, size_t n);
void buf_commit(struct buf *b, size_t n);

#endif
