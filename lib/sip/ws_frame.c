/* ws_frame.c - WebSocket frames: the client stream decoded, server headers. */
#include <stdlib.h>
#include <string.h>

#include "sip/ws.h"

/*
 * Two buffers, both NULL while nothing is partial: `in`, the wire bytes
 * not consumed yet (a frame is unmasked in place there, and a whole
 * one-frame message is handed out from it without a copy), and `msg`,
 * the payload of a fragmented message so far.
 */
struct ws_dec {
	size_t max_msg;
	uint8_t *in;
	size_t in_len, in_off, in_cap;
	uint8_t *msg;
	size_t msg_len, msg_cap;
	int in_msg;		/* a fragmented message has begun */
	enum ws_op msg_op;
	int msg_out;		/* msg was handed out: empty it next time */
	int done;		/* an error or a close: nothing more */
	uint16_t code;
};

size_t
ws_frame_header(uint8_t out[WS_HDR_MAX], enum ws_op op, size_t len)
{
	int i;

	out[0] = (uint8_t)(0x80 | (unsigned)op);
	if (len < 126) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = 127;
	for (i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	return 10;
}

struct ws_dec *
ws_dec_new(size_t max_msg)
{
	struct ws_dec *d = calloc(1, sizeof(*d));

	if (d != NULL)
		d->max_msg = max_msg != 0 ? max_msg : 65536;
	return d;
}

void
ws_dec_free(struct ws_dec *d)
{
	if (d == NULL)
		return;
	free(d->in);
	free(d->msg);
	free(d);
}

/* The wire bytes held at most: one frame's header and payload whole, and
 * the next read behind it. */
static size_t
in_limit(const struct ws_dec *d)
{
	return d->max_msg + 14 + WS_FEED_MAX;
}

int
ws_dec_feed(struct ws_dec *d, const uint8_t *p, size_t n)
{
	size_t need;

	if (n > WS_FEED_MAX)
		return E_BIG;
	ws_dec_release(d);
	need = d->in_len + n;
	if (need > in_limit(d))
		return E_BIG;
	if (need > d->in_cap) {
		size_t cap = d->in_cap != 0 ? d->in_cap : 4096;
		uint8_t *x;

		while (cap < need)
			cap *= 2;
		if (cap > in_limit(d))
			cap = in_limit(d);
		if ((x = realloc(d->in, cap)) == NULL)
			return E_NOMEM;
		d->in = x;
		d->in_cap = cap;
	}
	memcpy(d->in + d->in_len, p, n);
	d->in_len += n;
	return 0;
}

static int
fail(struct ws_dec *d, int err, uint16_t code)
{
	d->done = 1;
	d->code = code;
	return err;
}

/* One frame's header at `p` (`len` bytes there). */
struct hdr {
	int fin;
	enum ws_op op;
	uint64_t plen;
	const uint8_t *mask;
	size_t hlen;
};

/* 1 and *h when the header is whole, 0 when not, or an error. */
static int
read_hdr(struct ws_dec *d, const uint8_t *p, size_t len, struct hdr *h)
{
	size_t ext, i;

	if (len < 2)
		return 0;
	h->fin = p[0] >> 7;
	h->op = (enum ws_op)(p[0] & 0x0f);
	if (p[0] & 0x70)
		return fail(d, E_SYNTAX, WS_CLOSE_PROTOCOL);	/* RSV */
	switch (h->op) {
	case WS_OP_CONT: case WS_OP_TEXT: case WS_OP_BINARY:
		break;
	case WS_OP_CLOSE: case WS_OP_PING: case WS_OP_PONG:
		if (!h->fin || (p[1] & 0x7f) > 125)
			return fail(d, E_SYNTAX, WS_CLOSE_PROTOCOL);
		break;
	default:
		return fail(d, E_SYNTAX, WS_CLOSE_PROTOCOL);
	}
	if (!(p[1] & 0x80))
		return fail(d, E_SYNTAX, WS_CLOSE_PROTOCOL);	/* unmasked */
	h->plen = p[1] & 0x7f;
	ext = h->plen == 126 ? 2 : h->plen == 127 ? 8 : 0;
	if (len < 2 + ext + 4)
		return 0;
	if (ext > 0) {
		h->plen = 0;
		for (i = 0; i < ext; i++)
			h->plen = h->plen << 8 | p[2 + i];
		/* The most significant bit must be 0; minimal forms are not
		 * required of a client by us. */
		if (ext == 8 && (p[2] & 0x80))
			return fail(d, E_SYNTAX, WS_CLOSE_PROTOCOL);
	}
	h->mask = p + 2 + ext;
	h->hlen = 2 + ext + 4;
	return 1;
}

static void
unmask(uint8_t *p, size_t n, const uint8_t mask[4])
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] ^= mask[i & 3];
}

/* A data frame (payload unmasked at `pl`): a message, or part of one. */
static int
data_frame(struct ws_dec *d, const struct hdr *h, uint8_t *pl,
    struct ws_event *ev)
{
	if (h->op == WS_OP_CONT) {
		if (!d->in_msg)
			return fail(d, E_SYNTAX, WS_CLOSE_PROTOCOL);
	} else if (d->in_msg) {
		return fail(d, E_SYNTAX, WS_CLOSE_PROTOCOL);
	} else if (h->fin) {
		/* A whole message in one frame: handed out in place. */
		ev->type = WS_EV_MSG;
		ev->op = h->op;
		ev->data = slice_make(pl, (size_t)h->plen);
		return 1;
	} else {
		d->in_msg = 1;
		d->msg_op = h->op;
		d->msg_len = 0;
	}
	if (d->msg_len + h->plen > d->max_msg)
		return fail(d, E_BIG, WS_CLOSE_TOO_BIG);
	if (h->plen > 0) {
		size_t need = d->msg_len + (size_t)h->plen;

		if (need > d->msg_cap) {
			size_t cap = d->msg_cap != 0 ? d->msg_cap : 1024;
			uint8_t *x;

			while (cap < need)
				cap *= 2;
			if (cap > d->max_msg)
				cap = d->max_msg;
			if ((x = realloc(d->msg, cap)) == NULL)
				return fail(d, E_NOMEM, WS_CLOSE_GOING);
			d->msg = x;
			d->msg_cap = cap;
		}
		memcpy(d->msg + d->msg_len, pl, (size_t)h->plen);
		d->msg_len += (size_t)h->plen;
	}
	if (!h->fin)
		return 0;
	d->in_msg = 0;
	d->msg_out = 1;
	ev->type = WS_EV_MSG;
	ev->op = d->msg_op;
	ev->data = slice_make(d->msg, d->msg_len);
	return 1;
}

static int
control_frame(struct ws_dec *d, const struct hdr *h, uint8_t *pl,
    struct ws_event *ev)
{
	ev->data = slice_make(pl, (size_t)h->plen);
	ev->code = 0;
	if (h->op == WS_OP_PING)
		ev->type = WS_EV_PING;
	else if (h->op == WS_OP_PONG)
		ev->type = WS_EV_PONG;
	else {
		if (h->plen == 1)
			return fail(d, E_SYNTAX, WS_CLOSE_PROTOCOL);
		ev->type = WS_EV_CLOSE;
		if (h->plen >= 2) {
			ev->code = (uint16_t)(pl[0] << 8 | pl[1]);
			ev->data = slice_make(pl + 2, (size_t)h->plen - 2);
		}
		d->done = 1;
	}
	return 1;
}

int
ws_dec_next(struct ws_dec *d, struct ws_event *ev)
{
	struct hdr h;
	uint8_t *p;
	size_t avail;
	int r;

	if (d->done)
		return 0;
	if (d->msg_out) {
		d->msg_out = 0;
		d->msg_len = 0;
	}
	for (;;) {
		if (d->in == NULL)
			return 0;
		p = d->in + d->in_off;
		avail = d->in_len - d->in_off;
		if ((r = read_hdr(d, p, avail, &h)) <= 0)
			return r;
		if (h.plen > d->max_msg)
			return fail(d, E_BIG, WS_CLOSE_TOO_BIG);
		if (avail - h.hlen < h.plen)
			return 0;
		unmask(p + h.hlen, (size_t)h.plen, h.mask);
		d->in_off += h.hlen + (size_t)h.plen;
		memset(ev, 0, sizeof(*ev));
		if (h.op >= WS_OP_CLOSE)
			return control_frame(d, &h, p + h.hlen, ev);
		if ((r = data_frame(d, &h, p + h.hlen, ev)) != 0)
			return r;
	}
}

uint16_t
ws_dec_close_code(const struct ws_dec *d)
{
	return d->code;
}

void
ws_dec_release(struct ws_dec *d)
{
	if (d->in_off > 0) {
		d->in_len -= d->in_off;
		if (d->in_len > 0)
			memmove(d->in, d->in + d->in_off, d->in_len);
		d->in_off = 0;
	}
	if (d->in_len == 0 && d->in != NULL) {
		free(d->in);
		d->in = NULL;
		d->in_cap = 0;
	}
	if (!d->in_msg && d->msg != NULL) {
		free(d->msg);
		d->msg = NULL;
		d->msg_len = d->msg_cap = 0;
		d->msg_out = 0;
	}
}

size_t
ws_dec_held(const struct ws_dec *d)
{
	return (d->in != NULL ? d->in_cap : 0) +
	    d->msg_cap;
}

int
ws_dec_partial(const struct ws_dec *d)
{
	return d->in_len > d->in_off || d->in_msg;
}
