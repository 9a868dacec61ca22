/* buf.c - growable byte buffers with a hard size cap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base/buf.h"

struct buf {
	uint8_t *p;
	size_t len;	/* bytes in use */
	size_t size;	/* bytes allocated, always > len (room for the NUL) */
	size_t max;	/* cap on len */
	int secret;
};

static struct buf *
mk(size_t max, int secret)
{
	struct buf *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->size = 64;
	b->p = malloc(b->size);
	if (b->p == NULL) {
		free(b);
		return NULL;
	}
	b->p[0] = '\0';
	b->max = max;
	b->secret = secret;
	return b;
}

struct buf *
buf_new(size_t max)
{
	return mk(max, 0);
}

struct buf *
buf_new_secret(size_t max)
{
	return mk(max, 1);
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	if (b->secret)
		OPENSSL_cleanse(b->p, b->size);
	free(b->p);
	free(b);
}

const uint8_t *buf_data(const struct buf *b) { return b->p; }
size_t buf_len(const struct buf *b) { return b->len; }
size_t buf_max(const struct buf *b) { return b->max; }
const char *buf_str(const struct buf *b) { return (const char *)b->p; }

struct slice
buf_slice(const struct buf *b)
{
	return slice_make(b->p, b->len);
}

void
buf_truncate(struct buf *b, size_t len)
{
	if (len >= b->len)
		return;
	if (b->secret)
		OPENSSL_cleanse(b->p + len, b->len - len);
	b->len = len;
	b->p[len] = '\0';
}

void
buf_reset(struct buf *b)
{
	buf_truncate(b, 0);
}

uint8_t *
buf_reserve(struct buf *b, size_t n)
{
	size_t need, nsize;
	uint8_t *np;

	if (n > b->max - b->len)
		return NULL;
	need = b->len + n + 1;
	if (need <= b->size)
		return b->p + b->len;
	nsize = b->size;
	while (nsize < need)
		nsize = nsize > SIZE_MAX / 2 ? need : nsize * 2;
	if (nsize > b->max + 1)
		nsize = b->max + 1;
	if (b->secret) {
		/* no realloc: the old block would be freed unwiped */
		np = malloc(nsize);
		if (np == NULL)
			return NULL;
		memcpy(np, b->p, b->len + 1);
		OPENSSL_cleanse(b->p, b->size);
		free(b->p);
	} else {
		np = realloc(b->p, nsize);
		if (np == NULL)
			return NULL;
	}
	b->p = np;
	b->size = nsize;
	return b->p + b->len;
}

void
buf_commit(struct buf *b, size_t n)
{
	b->len += n;
	b->p[b->len] = '\0';
}

int
buf_append(struct buf *b, const void *p, size_t len)
{
	uint8_t *w;

	if (len > b->max - b->len)
		return E_BIG;
	if ((w = buf_reserve(b, len)) == NULL)
		return E_NOMEM;
	if (len > 0)
		memcpy(w, p, len);
	buf_commit(b, len);
	return 0;
}

int
buf_append_slice(struct buf *b, struct slice s)
{
	return buf_append(b, s.p, s.len);
}

int
buf_append_cstr(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_append_u8(struct buf *b, uint8_t c)
{
	return buf_append(b, &c, 1);
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	uint8_t *w;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return E_INVAL;
	if ((size_t)n > b->max - b->len)
		return E_BIG;
	if ((w = buf_reserve(b, (size_t)n)) == NULL)
		return E_NOMEM;
	if (vsnprintf((char *)w, (size_t)n + 1, fmt, ap) != n)
		return E_INVAL;
	buf_commit(b, (size_t)n);
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->p, b->p + n, b->len - n);
	if (b->secret)
		OPENSSL_cleanse(b->p + b->len - n, n);
	b->len -= n;
	b->p[b->len] = '\0';
}
