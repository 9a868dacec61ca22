/* sdp.c - SDP bodies as lines: parse with checks, edit in place, write back. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "media/sdp.h"

#define ARENA_MAX (4 * SDP_MAX_LEN)	/* text of edited and new lines */

enum { EOL_NONE = 0, EOL_LF, EOL_CRLF };

struct sdp_ln {
	uint32_t off;		/* text offset in the body or the arena */
	uint32_t len;		/* text length, line ending excluded */
	uint8_t eol;
	uint8_t in_arena;
	char type;		/* ' ' for a kept trailing blank line */
	uint32_t no;		/* line number in the parsed body; 0: new */
};

struct sdp {
	uint8_t *body;		/* our copy of the parsed bytes */
	size_t body_len;
	struct buf *arena;	/* created on the first edit */
	struct sdp_ln *ln;	/* in the same allocation until it grows */
	size_t nln, cap;
	int ln_heap;
	size_t media[SDP_MAX_MEDIA];	/* index of each m= line in ln[] */
	size_t nmedia;
	uint8_t eol;		/* ending for new lines */
};

static void __attribute__((format(printf, 3, 4)))
seterr(struct sdp_error *e, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return;
	e->line = line;
	va_start(ap, fmt);
	if (vsnprintf(e->reason, sizeof(e->reason), fmt, ap) < 0)
		e->reason[0] = '\0';
	va_end(ap);
}

static struct slice
ln_text(const struct sdp *s, const struct sdp_ln *l)
{
	const uint8_t *base = l->in_arena ? buf_data(s->arena) : s->body;

	return slice_make(base + l->off, l->len);
}

/* Next blank-separated token. */
static int
tok(struct slice *s, struct slice *t)
{
	size_t i = 0;

	while (i < s->len && s->p[i] == ' ')
		i++;
	slice_skip(s, i);
	if (s->len == 0)
		return 0;
	for (i = 0; i < s->len && s->p[i] != ' '; i++)
		;
	slice_take(s, i, t);
	return 1;
}

static int
parse_m(struct slice v, struct sdp_media *md, const char **why)
{
	struct slice port, n;
	uint64_t u;

	memset(md, 0, sizeof(*md));
	if (!tok(&v, &md->type) || !tok(&v, &port) || !tok(&v, &md->proto)) {
		*why = "want 'media port proto fmt ...'";
		return E_SYNTAX;
	}
	if (slice_split(&port, '/', &n)) {
		if (!slice_is_digits(port) || slice_to_u64(port, 65535, &u) != 0) {
			*why = "bad port count";
			return E_SYNTAX;
		}
		md->nports = (unsigned)u;
		port = n;
	} else {
		port = n;
	}
	if (!slice_is_digits(port) || slice_to_u64(port, 65535, &u) != 0) {
		*why = "bad port";
		return E_SYNTAX;
	}
	md->port = (unsigned)u;
	v = slice_trim(v);
	if (v.len == 0) {
		*why = "no formats";
		return E_SYNTAX;
	}
	md->fmts = v;
	return 0;
}

static int
parse_c(struct slice v, struct sdp_conn *c)
{
	struct slice net, at, addr, head;

	if (!tok(&v, &net) || !tok(&v, &at) || !tok(&v, &addr) ||
	    slice_trim(v).len != 0 || !slice_eq_cstr(net, "IN"))
		return E_SYNTAX;
	if (slice_eq_cstr(at, "IP4"))
		c->ipv6 = 0;
	else if (slice_eq_cstr(at, "IP6"))
		c->ipv6 = 1;
	else
		return E_SYNTAX;
	slice_split(&addr, '/', &head);
	if (head.len == 0)
		return E_SYNTAX;
	c->addr = head;
	return 0;
}

/* Check the lines we interpret; others are kept as they are. */
static int
check_line(char type, struct slice v, unsigned no, struct sdp_error *err)
{
	struct sdp_media md;
	struct sdp_conn c;
	struct slice t, name;
	const char *why = "";
	int n = 0;
	uint64_t u;

	switch (type) {
	case 'v':
		if (!slice_eq_cstr(v, "0")) {
			seterr(err, no, "unsupported version v=%.*s",
			    (int)(v.len > 16 ? 16 : v.len), (const char *)v.p);
			return E_SYNTAX;
		}
		break;
	case 'm':
		if (parse_m(v, &md, &why) != 0) {
			seterr(err, no, "bad m= line: %s", why);
			return E_SYNTAX;
		}
		break;
	case 'c':
		if (parse_c(v, &c) != 0) {
			seterr(err, no, "bad c= line: want 'IN IP4|IP6 ADDR'");
			return E_SYNTAX;
		}
		break;
	case 'o':
		while (tok(&v, &t))
			n++;
		if (n != 6) {
			seterr(err, no, "bad o= line: want 6 fields, got %d",
			    n);
			return E_SYNTAX;
		}
		break;
	case 'a':
		name = sdp_attr_name(v);
		if (name.len == 0) {
			seterr(err, no, "bad a= line: no attribute name");
			return E_SYNTAX;
		}
		if (slice_eq_cstr(name, "rtcp")) {
			slice_skip(&v, 5);
			if (!tok(&v, &t) || !slice_is_digits(t) ||
			    slice_to_u64(t, 65535, &u) != 0) {
				seterr(err, no, "bad a=rtcp: port");
				return E_SYNTAX;
			}
			if (slice_trim(v).len != 0 &&
			    parse_c(slice_trim(v), &c) != 0) {
				seterr(err, no, "bad a=rtcp: address");
				return E_SYNTAX;
			}
		}
		break;
	}
	return 0;
}

static int
add_line(struct sdp *s, size_t at, struct sdp_ln l)
{
	if (s->nln == SDP_MAX_LINES)
		return E_BIG;
	if (s->nln == s->cap) {
		size_t nc = s->cap * 2;
		struct sdp_ln *n = malloc(nc * sizeof(*n));

		if (n == NULL)
			return E_NOMEM;
		memcpy(n, s->ln, s->nln * sizeof(*n));
		if (s->ln_heap)
			free(s->ln);
		s->ln = n;
		s->ln_heap = 1;
		s->cap = nc;
	}
	memmove(&s->ln[at + 1], &s->ln[at], (s->nln - at) * sizeof(s->ln[0]));
	s->ln[at] = l;
	s->nln++;
	return 0;
}

int
sdp_parse(struct slice body, struct sdp **out, struct sdp_error *err)
{
	struct sdp *s;
	size_t pos = 0, cap, i;
	unsigned no = 0;
	int r;

	*out = NULL;
	seterr(err, 0, "%s", "");
	if (body.len > SDP_MAX_LEN) {
		seterr(err, 0, "body larger than %d bytes", SDP_MAX_LEN);
		return E_BIG;
	}
	if (body.len == 0) {
		seterr(err, 1, "empty body");
		return E_SYNTAX;
	}
	/* one allocation: the struct, room for the lines and some new ones,
	 * then our copy of the body */
	for (cap = 16, i = 0; i < body.len; cap++) {
		const uint8_t *q = memchr(body.p + i, '\n', body.len - i);

		if (q == NULL)
			break;
		i = (size_t)(q - body.p) + 1;
	}
	if (cap > SDP_MAX_LINES)
		cap = SDP_MAX_LINES;
	if ((s = malloc(sizeof(*s) + cap * sizeof(struct sdp_ln) +
	    body.len)) == NULL)
		return E_NOMEM;
	memset(s, 0, sizeof(*s));
	s->ln = (struct sdp_ln *)(s + 1);
	s->cap = cap;
	s->body = (uint8_t *)(s->ln + cap);
	memcpy(s->body, body.p, body.len);
	s->body_len = body.len;
	while (pos < s->body_len) {
		const uint8_t *p = s->body + pos;
		size_t rest = s->body_len - pos, len;
		const uint8_t *nl = memchr(p, '\n', rest);
		struct sdp_ln l = { (uint32_t)pos, 0, EOL_NONE, 0, 0, 0 };
		struct slice v;

		l.no = ++no;
		len = nl != NULL ? (size_t)(nl - p) : rest;
		pos += nl != NULL ? len + 1 : len;
		l.eol = nl != NULL ? EOL_LF : EOL_NONE;
		if (len > 0 && p[len - 1] == '\r' && nl != NULL) {
			len--;
			l.eol = EOL_CRLF;
		}
		l.len = (uint32_t)len;
		if (len > SDP_MAX_LINE_LEN) {
			seterr(err, no, "line longer than %d bytes",
			    SDP_MAX_LINE_LEN);
			r = E_BIG;
			goto fail;
		}
		if (len > 0 && (memchr(p, '\r', len) != NULL ||
		    memchr(p, '\0', len) != NULL)) {
			seterr(err, no, "%s in line", memchr(p, '\r', len) !=
			    NULL ? "stray CR" : "NUL byte");
			r = E_SYNTAX;
			goto fail;
		}
		if (len == 0) {
			/* blank lines are tolerated at the very end only */
			for (i = pos; i < s->body_len; i++) {
				if (s->body[i] != '\r' && s->body[i] != '\n') {
					seterr(err, no, "empty line");
					r = E_SYNTAX;
					goto fail;
				}
			}
			l.type = ' ';
		} else {
			if (len < 2 || p[1] != '=' || p[0] < 'a' || p[0] > 'z') {
				seterr(err, no, "expected 'x=' at start of line");
				r = E_SYNTAX;
				goto fail;
			}
			l.type = (char)p[0];
			if (no == 1 && l.type != 'v') {
				seterr(err, no, "first line is not v=");
				r = E_SYNTAX;
				goto fail;
			}
			v = slice_make(p + 2, len - 2);
			if ((r = check_line(l.type, v, no, err)) != 0)
				goto fail;
		}
		if (no == 1)
			s->eol = l.eol != EOL_NONE ? l.eol : EOL_CRLF;
		if (l.type == 'm') {
			if (s->nmedia == SDP_MAX_MEDIA) {
				seterr(err, no, "more than %d m= lines",
				    SDP_MAX_MEDIA);
				r = E_BIG;
				goto fail;
			}
			s->media[s->nmedia++] = s->nln;
		}
		if ((r = add_line(s, s->nln, l)) != 0) {
			seterr(err, no, r == E_BIG ? "more than %d lines" :
			    "out of memory (%d lines)", SDP_MAX_LINES);
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	sdp_free(s);
	return r;
}

void
sdp_free(struct sdp *s)
{
	if (s == NULL)
		return;
	buf_free(s->arena);
	if (s->ln_heap)
		free(s->ln);
	/* a body may carry SDES keys */
	OPENSSL_cleanse(s->body, s->body_len);
	free(s);
}

int
sdp_write(const struct sdp *s, struct buf *out)
{
	static const char eols[][3] = { "", "\n", "\r\n" };
	size_t i, total = 0;
	uint8_t *w;

	for (i = 0; i < s->nln; i++)
		total += s->ln[i].len + 2;
	if ((w = buf_reserve(out, total)) == NULL)
		return buf_len(out) + total > buf_max(out) ? E_BIG : E_NOMEM;
	total = 0;
	for (i = 0; i < s->nln; i++) {
		const struct sdp_ln *l = &s->ln[i];
		struct slice t = ln_text(s, l);
		int eol = l->eol;

		/* a line that lost its place at the end needs an ending */
		if (eol == EOL_NONE && i + 1 < s->nln)
			eol = s->eol;
		memcpy(w + total, t.p, t.len);
		total += t.len;
		memcpy(w + total, eols[eol], (size_t)eol);
		total += (size_t)eol;
	}
	buf_commit(out, total);
	return 0;
}

size_t
sdp_media_count(const struct sdp *s)
{
	return s->nmedia;
}

/* The line range [*b, *e) of section `sec`; 0 or E_NOTFOUND. */
static int
bounds(const struct sdp *s, int sec, size_t *b, size_t *e)
{
	if (sec == SDP_SESSION) {
		*b = 0;
		*e = s->nmedia > 0 ? s->media[0] : s->nln;
		return 0;
	}
	if (sec < 0 || (size_t)sec >= s->nmedia)
		return E_NOTFOUND;
	*b = s->media[sec];
	*e = (size_t)sec + 1 < s->nmedia ? s->media[sec + 1] : s->nln;
	return 0;
}

size_t
sdp_nlines(const struct sdp *s, int sec)
{
	size_t b, e;

	return bounds(s, sec, &b, &e) == 0 ? e - b : 0;
}

int
sdp_line(const struct sdp *s, int sec, size_t i, struct slice *value)
{
	size_t b, e;
	struct slice t;

	if (bounds(s, sec, &b, &e) != 0 || i >= e - b)
		return 0;
	t = ln_text(s, &s->ln[b + i]);
	if (value != NULL)
		*value = t.len >= 2 ? slice_make(t.p + 2, t.len - 2) :
		    slice_make(t.p, 0);
	return s->ln[b + i].type;
}

unsigned
sdp_line_number(const struct sdp *s, int sec, size_t i)
{
	size_t b, e;

	if (bounds(s, sec, &b, &e) != 0 || i >= e - b)
		return 0;
	return s->ln[b + i].no;
}

long
sdp_find(const struct sdp *s, int sec, int type, size_t from)
{
	size_t b, e, i;

	if (bounds(s, sec, &b, &e) != 0)
		return -1;
	for (i = b + from; i < e; i++)
		if (s->ln[i].type == type)
			return (long)(i - b);
	return -1;
}

struct slice
sdp_attr_name(struct slice v)
{
	long c = slice_chr(v, ':');

	if (c >= 0)
		v.len = (size_t)c;
	return v;
}

long
sdp_attr_find(const struct sdp *s, int sec, const char *name, size_t from,
    struct slice *value)
{
	size_t b, e, i, n = strlen(name);

	if (bounds(s, sec, &b, &e) != 0)
		return -1;
	for (i = b + from; i < e; i++) {
		struct slice t;

		if (s->ln[i].type != 'a')
			continue;
		t = ln_text(s, &s->ln[i]);
		/* "a=" NAME (":" | end) */
		if (t.len < 2 + n || memcmp(t.p + 2, name, n) != 0)
			continue;
		if (t.len == 2 + n) {
			if (value != NULL)
				*value = slice_make(t.p + t.len, 0);
			return (long)(i - b);
		}
		if (t.p[2 + n] == ':') {
			if (value != NULL)
				*value = slice_make(t.p + 3 + n,
				    t.len - 3 - n);
			return (long)(i - b);
		}
	}
	return -1;
}

/* Put "x=" + value into the arena; fill l's text fields. */
static int
arena_put(struct sdp *s, int type, struct slice value, struct sdp_ln *l)
{
	size_t off;
	int r;

	if (value.len + 2 > SDP_MAX_LINE_LEN)
		return E_BIG;
	if (memchr(value.p != NULL ? value.p : (const uint8_t *)"", '\n',
	    value.len) != NULL || (value.len > 0 &&
	    memchr(value.p, '\r', value.len) != NULL))
		return E_INVAL;
	if (s->arena == NULL) {
		/* room for the usual edits in one allocation */
		if ((s->arena = buf_new_secret(ARENA_MAX)) == NULL ||
		    buf_reserve(s->arena, 1024) == NULL)
			return E_NOMEM;
	}
	off = buf_len(s->arena);
	if ((r = buf_append_u8(s->arena, (uint8_t)type)) != 0 ||
	    (r = buf_append_u8(s->arena, '=')) != 0 ||
	    (r = buf_append_slice(s->arena, value)) != 0) {
		buf_truncate(s->arena, off);
		return r;
	}
	l->off = (uint32_t)off;
	l->len = (uint32_t)(value.len + 2);
	l->in_arena = 1;
	l->type = (char)type;
	return 0;
}

int
sdp_line_set(struct sdp *s, int sec, size_t i, struct slice value)
{
	size_t b, e;
	struct sdp_ln l;
	int r;

	if (bounds(s, sec, &b, &e) != 0 || i >= e - b)
		return E_NOTFOUND;
	l = s->ln[b + i];
	if (l.type == ' ')
		return E_INVAL;
	if ((r = arena_put(s, l.type, value, &l)) != 0)
		return r;
	s->ln[b + i] = l;
	return 0;
}

int
sdp_line_setf(struct sdp *s, int sec, size_t i, const char *fmt, ...)
{
	char tmp[SDP_MAX_LINE_LEN];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return E_BIG;
	return sdp_line_set(s, sec, i, slice_make(tmp, (size_t)n));
}

int
sdp_line_insert(struct sdp *s, int sec, size_t i, int type,
    struct slice value)
{
	size_t b, e, k;
	struct sdp_ln l = { 0, 0, 0, 0, 0, 0 };
	int r;

	if (type < 'a' || type > 'z' || type == 'm' || type == 'v')
		return E_INVAL;
	if (bounds(s, sec, &b, &e) != 0 || i > e - b)
		return E_NOTFOUND;
	/* never after a section's trailing blank lines */
	while (i > 0 && s->ln[b + i - 1].type == ' ')
		i--;
	/* never before the m= line of the section */
	if (sec != SDP_SESSION && i == 0)
		return E_INVAL;
	if (sec == SDP_SESSION && i == 0)
		return E_INVAL;	/* v= stays first */
	l.eol = s->eol;
	if ((r = arena_put(s, type, value, &l)) != 0)
		return r;
	if ((r = add_line(s, b + i, l)) != 0)
		return r;
	for (k = 0; k < s->nmedia; k++)
		if (s->media[k] >= b + i && (int)k != sec)
			s->media[k]++;
	return 0;
}

int
sdp_line_delete(struct sdp *s, int sec, size_t i)
{
	size_t b, e, k;

	if (bounds(s, sec, &b, &e) != 0 || i >= e - b)
		return E_NOTFOUND;
	if (i == 0)
		return E_INVAL;	/* v= or m= */
	memmove(&s->ln[b + i], &s->ln[b + i + 1],
	    (s->nln - b - i - 1) * sizeof(s->ln[0]));
	s->nln--;
	for (k = 0; k < s->nmedia; k++)
		if (s->media[k] > b + i)
			s->media[k]--;
	return 0;
}

int
sdp_attr_delete(struct sdp *s, int sec, const char *name)
{
	long i;
	int n = 0;

	while ((i = sdp_attr_find(s, sec, name, 0, NULL)) >= 0) {
		if (sdp_line_delete(s, sec, (size_t)i) != 0)
			break;
		n++;
	}
	return n;
}

int
sdp_media_get(const struct sdp *s, size_t m, struct sdp_media *md)
{
	struct slice v;
	const char *why;

	if (m >= s->nmedia || sdp_line(s, (int)m, 0, &v) != 'm')
		return E_NOTFOUND;
	return parse_m(v, md, &why);
}

int
sdp_conn_get(const struct sdp *s, int sec, struct sdp_conn *c)
{
	struct slice v;
	long i = sdp_find(s, sec, 'c', 0);

	if (i < 0)
		return E_NOTFOUND;
	sdp_line(s, sec, (size_t)i, &v);
	return parse_c(v, c);
}

int
sdp_media_conn(const struct sdp *s, size_t m, struct sdp_conn *c)
{
	if (m >= s->nmedia)
		return E_NOTFOUND;
	if (sdp_conn_get(s, (int)m, c) == 0)
		return 0;
	return sdp_conn_get(s, SDP_SESSION, c);
}
