/* sip_edit.c - edits to a parsed SIP message, and our own responses. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sip.h"

struct edit {
	size_t off;	/* offset into the message */
	size_t del;	/* bytes removed there */
	size_t toff;	/* text offset into e->text */
	size_t tlen;
	size_t seq;	/* insertion order, for stable sorting */
};

struct sip_edits {
	struct edit *v;
	size_t n, cap;
	struct buf *text;
	const uint8_t *base;	/* message the edits refer to (for checks) */
};

#define SIP_EDIT_TEXT_MAX (256 * 1024)

struct sip_edits *
sip_edits_new(void)
{
	struct sip_edits *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	if ((e->text = buf_new(SIP_EDIT_TEXT_MAX)) == NULL) {
		free(e);
		return NULL;
	}
	return e;
}

void
sip_edits_free(struct sip_edits *e)
{
	if (e == NULL)
		return;
	buf_free(e->text);
	free(e->v);
	free(e);
}

void
sip_edits_reset(struct sip_edits *e)
{
	e->n = 0;
	buf_reset(e->text);
}

/* Offsets are stored relative to pointers; resolved at apply time. */
static int
add_edit(struct sip_edits *e, const uint8_t *at, size_t del, const void *t,
    size_t tlen)
{
	struct edit *x;
	int r;

	if (e->n == e->cap) {
		size_t nc = e->cap ? e->cap * 2 : 16;
		struct edit *nv = realloc(e->v, nc * sizeof(*nv));
		if (nv == NULL)
			return E_NOMEM;
		e->v = nv;
		e->cap = nc;
	}
	x = &e->v[e->n];
	x->off = (size_t)(uintptr_t)at;	/* absolute address for now */
	x->del = del;
	x->toff = buf_len(e->text);
	x->tlen = tlen;
	x->seq = e->n;
	if (tlen > 0 && (r = buf_append(e->text, t, tlen)) != 0)
		return r;
	e->n++;
	return 0;
}

int
sip_edit_insert(struct sip_edits *e, const uint8_t *at, struct slice text)
{
	return add_edit(e, at, 0, text.p, text.len);
}

int
sip_edit_replace(struct sip_edits *e, struct slice span, struct slice text)
{
	return add_edit(e, span.p, span.len, text.p, text.len);
}

int
sip_edit_delete(struct sip_edits *e, struct slice span)
{
	return add_edit(e, span.p, span.len, NULL, 0);
}

int
sip_edit_insertf(struct sip_edits *e, const uint8_t *at, const char *fmt, ...)
{
	char tmp[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return E_BIG;
	return add_edit(e, at, 0, tmp, (size_t)n);
}

int
sip_edit_add_top(struct sip_edits *e, const struct sip_msg *m,
    const char *name, struct slice value)
{
	const uint8_t *at = m->nhdr > 0 ? m->hdr[0].line.p : m->hdr_end.p;

	if (value.len > 1900)
		return E_BIG;
	return sip_edit_insertf(e, at, "%s: %.*s\r\n", name, (int)value.len,
	    (const char *)value.p);
}

int
sip_edit_body(struct sip_edits *e, const struct sip_msg *m, struct slice body)
{
	const struct sip_hdr *cl = sip_find(m, SIP_H_CONTENT_LENGTH);
	char num[24];
	int r, n;

	n = snprintf(num, sizeof(num), "%zu", body.len);
	if (n < 0 || (size_t)n >= sizeof(num))
		return E_BIG;
	if (cl != NULL)
		r = sip_edit_replace(e, cl->value, slice_make(num, (size_t)n));
	else
		r = sip_edit_insertf(e, m->hdr_end.p, "Content-Length: %s\r\n",
		    num);
	if (r != 0)
		return r;
	return sip_edit_replace(e, m->body, body);
}

static int
edit_cmp(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	/* At one position: pure inserts first, in order given. */
	if ((x->del == 0) != (y->del == 0))
		return x->del == 0 ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

int
sip_edits_copy(struct sip_edits *dst, const struct sip_edits *src,
    const struct sip_msg *from, const struct sip_msg *to)
{
	uintptr_t base = (uintptr_t)from->raw.p;
	size_t i;
	int r;

	if (from->raw.len != to->raw.len)
		return E_INVAL;
	for (i = 0; i < src->n; i++) {
		const struct edit *x = &src->v[i];

		if (x->off < base || x->off - base > from->raw.len)
			return E_INVAL;
		if ((r = add_edit(dst, to->raw.p + (x->off - base), x->del,
		    buf_data(src->text) + x->toff, x->tlen)) != 0)
			return r;
	}
	return 0;
}

int
sip_edits_apply(const struct sip_edits *e, const struct sip_msg *m,
    struct buf *out)
{
	struct edit *v;
	uintptr_t base = (uintptr_t)m->raw.p;
	size_t i, pos = 0;
	int r = 0;

	if (e->n == 0)
		return buf_append_slice(out, m->raw);
	v = malloc(e->n * sizeof(*v));
	if (v == NULL)
		return E_NOMEM;
	memcpy(v, e->v, e->n * sizeof(*v));
	for (i = 0; i < e->n; i++) {
		if (v[i].off < base || v[i].off - base > m->raw.len ||
		    v[i].del > m->raw.len - (v[i].off - base)) {
			free(v);
			return E_INVAL;
		}
		v[i].off -= base;
	}
	qsort(v, e->n, sizeof(*v), edit_cmp);
	for (i = 0; i < e->n && r == 0; i++) {
		if (v[i].off < pos) {
			r = E_INVAL;	/* overlapping edits */
			break;
		}
		if ((r = buf_append(out, m->raw.p + pos, v[i].off - pos)) != 0)
			break;
		if (v[i].tlen > 0)
			r = buf_append(out, buf_data(e->text) + v[i].toff,
			    v[i].tlen);
		pos = v[i].off + v[i].del;
	}
	if (r == 0)
		r = buf_append(out, m->raw.p + pos, m->raw.len - pos);
	free(v);
	return r;
}

/* ---- responses ---- */

const char *
sip_reason(int code)
{
	switch (code) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 183: return "Session Progress";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 416: return "Unsupported URI Scheme";
	case 420: return "Bad Extension";
	case 430: return "Flow Failed";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 483: return "Too Many Hops";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 500: return "Server Internal Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Server Time-out";
	case 513: return "Message Too Large";
	default: return "Unknown";
	}
}

int
sip_build_response(const struct sip_msg *req, int code, const char *reason,
    struct slice to_tag, struct slice extra, struct buf *out)
{
	size_t i;
	int r;

	if (reason == NULL)
		reason = sip_reason(code);
	if ((r = buf_printf(out, "SIP/2.0 %d %s\r\n", code, reason)) != 0)
		return r;
	for (i = 0; i < req->nhdr; i++) {
		const struct sip_hdr *h = &req->hdr[i];
		const char *n = sip_hdr_name(h->id);

		switch (h->id) {
		case SIP_H_VIA:
		case SIP_H_FROM:
		case SIP_H_CALL_ID:
		case SIP_H_CSEQ:
			r = buf_printf(out, "%s: %.*s\r\n", n,
			    (int)h->value.len, (const char *)h->value.p);
			break;
		case SIP_H_TO: {
			struct sip_addr a;
			int add = code > 100 && to_tag.len > 0 &&
			    (sip_addr_parse(h->value, &a) != 0 ||
			    !sip_param(a.params, "tag", NULL, NULL));
			r = buf_printf(out, "To: %.*s%s%.*s\r\n",
			    (int)h->value.len, (const char *)h->value.p,
			    add ? ";tag=" : "", add ? (int)to_tag.len : 0,
			    add ? (const char *)to_tag.p : "");
			break;
		}
		default:
			break;
		}
		if (r != 0)
			return r;
	}
	if (extra.len > 0 && (r = buf_append_slice(out, extra)) != 0)
		return r;
	return buf_append_cstr(out, "Content-Length: 0\r\n\r\n");
}
