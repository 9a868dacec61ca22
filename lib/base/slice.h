/* slice.h - bounded read-only byte views and cursor reads over wire data. */
#ifndef SBK_SLICE_H
#define SBK_SLICE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"

/*
 * A slice borrows `len` bytes at `p`; it never owns them and is never
 * NUL-terminated. Cursor functions consume from the front and return 0 or
 * E_SHORT, leaving the slice unchanged on failure.
 */
struct slice {
	const uint8_t *p;
	size_t len;
};

#define SLICE_NULL ((struct slice){ NULL, 0 })
#define SLICE_LIT(s) ((struct slice){ (const uint8_t *)(s), sizeof(s) - 1 })

static inline struct slice
slice_make(const void *p, size_t len)
{
	struct slice s = { (const uint8_t *)p, len };
	return s;
}

static inline struct slice
slice_cstr(const char *s)
{
	return slice_make(s, s != NULL ? strlen(s) : 0);
}

static inline int
slice_skip(struct slice *s, size_t n)
{
	if (s->len < n)
		return E_SHORT;
	s->p += n;
	s->len -= n;
	return 0;
}

/* Take the first `n` bytes of `s` into `out`. */
static inline int
slice_take(struct slice *s, size_t n, struct slice *out)
{
	if (s->len < n)
		return E_SHORT;
	out->p = s->p;
	out->len = n;
	s->p += n;
	s->len -= n;
	return 0;
}

static inline int
slice_u8(struct slice *s, uint8_t *v)
{
	if (s->len < 1)
		return E_SHORT;
	*v = s->p[0];
	s->p++;
	s->len--;
	return 0;
}

static inline int
slice_be16(struct slice *s, uint16_t *v)
{
	if (s->len < 2)
		return E_SHORT;
	*v = (uint16_t)((s->p[0] << 8) | s->p[1]);
	s->p += 2;
	s->len -= 2;
	return 0;
}

static inline int
slice_be32(struct slice *s, uint32_t *v)
{
	if (s->len < 4)
		return E_SHORT;
	*v = ((uint32_t)s->p[0] << 24) | ((uint32_t)s->p[1] << 16) |
	    ((uint32_t)s->p[2] << 8) | s->p[3];
	s->p += 4;
	s->len -= 4;
	return 0;
}

/* Byte-wise comparisons; never read past either length. */
static inline int
slice_eq(struct slice a, struct slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static inline int
slice_eq_cstr(struct slice a, const char *b)
{
	return slice_eq(a, slice_cstr(b));
}

/* ASCII case-insensitive comparison. */
int slice_case_eq(struct slice a, struct slice b);
int slice_case_eq_cstr(struct slice a, const char *b);

/* Index of the first `c` in `s`, or -1. */
long slice_chr(struct slice s, int c);

/* Index of the first occurrence of `needle` in `s`, or -1. */
long slice_find(struct slice s, struct slice needle);

/* Drop leading / trailing SP and HTAB. */
struct slice slice_trim(struct slice s);

/*
 * Split at the first `c`: `head` gets what is before it, `s` keeps what is
 * after it. Without a `c`, `head` gets all of `s` and `s` becomes empty;
 * returns 1 if `c` was found, 0 otherwise.
 */
int slice_split(struct slice *s, int c, struct slice *head);

/* True if `s` is one or more ASCII digits. */
int slice_is_digits(struct slice s);

/*
 * Parse an unsigned decimal of the whole slice, at most `max`. Returns 0,
 * E_SYNTAX (empty, non-digit) or E_RANGE (> max).
 */
int slice_to_u64(struct slice s, uint64_t max, uint64_t *v) WUR;

#endif
