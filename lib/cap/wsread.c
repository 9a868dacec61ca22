/* wsread.c - the WebSocket messages of a captured stream (RFC 6455). */
#include <stdlib.h>
#include <string.h>

#include "cap/wsread.h"

#define HDR_MAX 16384

struct wsread {
	int in_frames;		/* past the HTTP header block */
	int failed;
	size_t max_msg;
	uint8_t *buf;		/* bytes not yet read */
	size_t len, cap;
	uint8_t *msg;		/* the message being joined */
	size_t msglen;
	int in_msg;
	uint64_t frames, control;
};

struct wsread *
wsread_new(size_t max_msg)
{
	struct wsread *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->max_msg = max_msg;
	w->cap = (max_msg > HDR_MAX ? max_msg : HDR_MAX) + 14;
	w->buf = malloc(w->cap);
	w->msg = malloc(max_msg ? max_msg : 1);
	if (w->buf == NULL || w->msg == NULL) {
		wsread_free(w);
		return NULL;
	}
	return w;
}

void
wsread_free(struct wsread *w)
{
	if (w == NULL)
		return;
	free(w->buf);
	free(w->msg);
	free(w);
}

uint64_t
wsread_frames(const struct wsread *w)
{
	return w->frames;
}

uint64_t
wsread_control(const struct wsread *w)
{
	return w->control;
}

int
wsread_looks_like(struct slice p)
{
	return (p.len >= 4 && memcmp(p.p, "GET ", 4) == 0) ||
	    (p.len >= 12 && memcmp(p.p, "HTTP/1.1 101", 12) == 0);
}

/* One frame at the front of the buffer: its size consumed in *used (0:
 * not whole yet). */
static int
frame(struct wsread *w, size_t *used, wsread_fn fn, void *arg)
{
	const uint8_t *b = w->buf;
	size_t hl = 2, i;
	uint64_t plen;
	uint8_t op, mask[4];
	int masked;

	*used = 0;
	if (w->len < 2)
		return 0;
	if (b[0] & 0x70)
		return E_SYNTAX;	/* RSV bits: an extension we do not read */
	op = b[0] & 0x0f;
	masked = (b[1] & 0x80) != 0;
	plen = b[1] & 0x7f;
	if (plen == 126) {
		if (w->len < 4)
			return 0;
		plen = (uint64_t)b[2] << 8 | b[3];
		hl = 4;
	} else if (plen == 127) {
		if (w->len < 10)
			return 0;
		for (plen = 0, i = 0; i < 8; i++)
			plen = plen << 8 | b[2 + i];
		hl = 10;
	}
	if (plen > w->max_msg)
		return E_BIG;
	if (masked) {
		if (w->len < hl + 4)
			return 0;
		memcpy(mask, b + hl, 4);
		hl += 4;
	}
	if (w->len < hl + plen)
		return 0;
	*used = hl + (size_t)plen;
	w->frames++;
	if (op >= 8) {		/* close, ping, pong */
		w->control++;
		return 0;
	}
	if (op == 0 ? !w->in_msg : op != 1 && op != 2)
		return E_SYNTAX;	/* a lost start, or a reserved opcode */
	if (op != 0)
		w->msglen = 0;
	if (w->msglen + plen > w->max_msg)
		return E_BIG;
	for (i = 0; i < plen; i++)
		w->msg[w->msglen + i] = masked ? b[hl + i] ^ mask[i & 3] :
		    b[hl + i];
	w->msglen += (size_t)plen;
	w->in_msg = !(b[0] & 0x80);
	if (!w->in_msg && w->msglen > 0)
		fn(arg, w->msg, w->msglen);
	return 0;
}

int
wsread_feed(struct wsread *w, const uint8_t *p, size_t len, wsread_fn fn,
    void *arg)
{
	size_t n, used;
	long e;
	int r;

	while (len > 0) {
		if (w->failed)
			return E_SYNTAX;
		n = w->cap - w->len < len ? w->cap - w->len : len;
		memcpy(w->buf + w->len, p, n);
		w->len += n;
		p += n;
		len -= n;
		if (!w->in_frames) {	/* the upgrade's header block */
			e = slice_find(slice_make(w->buf, w->len),
			    SLICE_LIT("\r\n\r\n"));
			if (e < 0) {
				if (w->len >= HDR_MAX) {
					w->failed = 1;
					return E_BIG;
				}
				continue;
			}
			used = (size_t)e + 4;
			memmove(w->buf, w->buf + used, w->len - used);
			w->len -= used;
			w->in_frames = 1;
		}
		for (;;) {
			if ((r = frame(w, &used, fn, arg)) != 0) {
				w->failed = 1;
				return r;
			}
			if (used == 0)
				break;
			memmove(w->buf, w->buf + used, w->len - used);
			w->len -= used;
		}
	}
	return 0;
}
