/* sip_frame.c - SIP message framing on a byte stream (TCP, TLS). */
#include <stdlib.h>
#include <string.h>

#include "sip/sip.h"

struct sip_framer {
	uint8_t *data;
	size_t cap;	/* allocated */
	size_t max;	/* message cap */
	size_t off;	/* start of unconsumed bytes */
	size_t len;	/* end of valid bytes */
	size_t drop;	/* bytes to consume at the next call */
	size_t scan;	/* bytes after off known to hold no header end */
};

struct sip_framer *
sip_framer_new(size_t max_msg)
{
	struct sip_framer *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->max = max_msg;
	return f;
}

void
sip_framer_free(struct sip_framer *f)
{
	if (f == NULL)
		return;
	free(f->data);
	free(f);
}

static void
framer_compact(struct sip_framer *f)
{
	if (f->drop > 0) {
		f->off += f->drop;
		f->drop = 0;
	}
	if (f->off == f->len) {
		f->off = f->len = 0;
		/* An idle connection keeps no buffer (memory per flow). */
		free(f->data);
		f->data = NULL;
		f->cap = 0;
	} else if (f->off > 0) {
		memmove(f->data, f->data + f->off, f->len - f->off);
		f->len -= f->off;
		f->off = 0;
	}
}

void
sip_framer_release(struct sip_framer *f)
{
	framer_compact(f);
}

uint8_t *
sip_framer_space(struct sip_framer *f, size_t *n)
{
	size_t want;

	framer_compact(f);
	/* Allow a little over the cap so an oversize message is detected. */
	if (f->len >= f->max + 4) {
		*n = 0;
		return NULL;
	}
	want = f->max + 4;
	if (f->cap < want && f->cap - f->len < 2048) {
		size_t nc = f->cap == 0 ? 4096 : f->cap * 2;
		uint8_t *p;
		if (nc > want)
			nc = want;
		if (nc < 4096)
			nc = want < 4096 ? want : 4096;
		p = realloc(f->data, nc);
		if (p == NULL) {
			*n = 0;
			return NULL;
		}
		f->data = p;
		f->cap = nc;
	}
	*n = f->cap - f->len;
	return f->data + f->len;
}

void
sip_framer_commit(struct sip_framer *f, size_t n)
{
	if (n <= f->cap - f->len)
		f->len += n;
}

int
sip_framer_feed(struct sip_framer *f, const void *p, size_t len)
{
	while (len > 0) {
		size_t n;
		uint8_t *d = sip_framer_space(f, &n);

		if (d == NULL || n == 0)
			return E_BIG;
		if (n > len)
			n = len;
		memcpy(d, p, n);
		sip_framer_commit(f, n);
		p = (const uint8_t *)p + n;
		len -= n;
	}
	return 0;
}

size_t
sip_framer_pending(const struct sip_framer *f)
{
	return f->len - f->off - f->drop;
}

size_t
sip_framer_held(const struct sip_framer *f)
{
	return f->cap;
}

/* Content-Length from a header block (first header line onwards). */
static int
block_content_length(struct slice hb, uint64_t *cl)
{
	int found = 0;

	while (hb.len > 0) {
		long e = slice_find(hb, SLICE_LIT("\r\n")), c;
		struct slice line, name;

		if (e < 0)
			line = hb, hb = SLICE_NULL;
		else {
			line = slice_make(hb.p, (size_t)e);
			(void)slice_skip(&hb, (size_t)e + 2);
		}
		c = slice_chr(line, ':');
		if (c <= 0 || line.p[0] == ' ' || line.p[0] == '\t')
			continue;
		name = slice_trim(slice_make(line.p, (size_t)c));
		if (sip_hdr_id(name) == SIP_H_CONTENT_LENGTH) {
			uint64_t v;
			if (slice_to_u64(slice_trim(slice_make(line.p + c + 1,
			    line.len - (size_t)c - 1)), 1u << 30, &v) != 0)
				return E_SYNTAX;
			if (found && v != *cl)
				return E_SYNTAX;
			*cl = v;
			found = 1;
		}
	}
	return found ? 0 : E_SYNTAX;
}

int
sip_framer_next(struct sip_framer *f, struct slice *msg)
{
	struct slice s;
	long he;
	uint64_t cl = 0;
	size_t hlen;
	int r;

	f->off += f->drop;
	f->drop = 0;
	if (f->data == NULL)
		return SIP_FRAME_NONE;
	/* Leading CRLFs: a double CRLF is a ping, a single one is skipped. */
	for (;;) {
		s = slice_make(f->data + f->off, f->len - f->off);
		if (s.len < 2 || s.p[0] != '\r' || s.p[1] != '\n')
			break;
		if (s.len >= 4 && s.p[2] == '\r' && s.p[3] == '\n') {
			f->drop = 4;
			f->scan = 0;
			return SIP_FRAME_PING;
		}
		if (s.len < 4 && (s.len < 3 || s.p[2] == '\r'))
			return SIP_FRAME_NONE;	/* could become a ping */
		f->off += 2;
		f->scan = 0;
	}
	if (s.len == 1 && s.p[0] == '\r')
		return SIP_FRAME_NONE;
	/* Resume the search where the last one stopped (no quadratic
	 * rescans when a message trickles in a byte at a time). */
	he = slice_find(slice_make(s.p + f->scan, s.len - f->scan),
	    SLICE_LIT("\r\n\r\n"));
	if (he < 0) {
		if (s.len > f->max)
			return E_BIG;
		f->scan = s.len > 3 ? s.len - 3 : 0;
		return SIP_FRAME_NONE;
	}
	he += (long)f->scan;
	hlen = (size_t)he + 4;
	if (hlen > f->max)
		return E_BIG;
	if ((r = block_content_length(slice_make(s.p, (size_t)he + 2), &cl))
	    != 0)
		return r;
	if (cl > f->max - hlen)
		return E_BIG;
	if (s.len < hlen + cl)
		return SIP_FRAME_NONE;
	*msg = slice_make(s.p, hlen + (size_t)cl);
	f->drop = hlen + (size_t)cl;
	f->scan = 0;
	return SIP_FRAME_MSG;
}
