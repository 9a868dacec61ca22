/* sip.c - SIP message framing, parsing and editing over slices. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sip.h"

static const struct {
	const char *full;
	char compact;
} hdr_names[SIP_H_COUNT_] = {
	[SIP_H_OTHER] = { NULL, 0 },
	[SIP_H_VIA] = { "Via", 'v' },
	[SIP_H_FROM] = { "From", 'f' },
	[SIP_H_TO] = { "To", 't' },
	[SIP_H_CALL_ID] = { "Call-ID", 'i' },
	[SIP_H_CSEQ] = { "CSeq", 0 },
	[SIP_H_CONTACT] = { "Contact", 'm' },
	[SIP_H_CONTENT_LENGTH] = { "Content-Length", 'l' },
	[SIP_H_CONTENT_TYPE] = { "Content-Type", 'c' },
	[SIP_H_ROUTE] = { "Route", 0 },
	[SIP_H_RECORD_ROUTE] = { "Record-Route", 0 },
	[SIP_H_MAX_FORWARDS] = { "Max-Forwards", 0 },
	[SIP_H_PATH] = { "Path", 0 },
	[SIP_H_SUPPORTED] = { "Supported", 'k' },
	[SIP_H_REQUIRE] = { "Require", 0 },
	[SIP_H_EXPIRES] = { "Expires", 0 },
	[SIP_H_CONTENT_ENCODING] = { "Content-Encoding", 'e' },
	[SIP_H_SUBJECT] = { "Subject", 's' },
	[SIP_H_EVENT] = { "Event", 'o' },
	[SIP_H_REFER_TO] = { "Refer-To", 'r' },
	[SIP_H_ALLOW_EVENTS] = { "Allow-Events", 'u' },
	[SIP_H_SESSION_EXPIRES] = { "Session-Expires", 'x' },
};

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

enum sip_hid
sip_hdr_id(struct slice name)
{
	int i;

	if (name.len == 1) {
		for (i = 1; i < SIP_H_COUNT_; i++)
			if (hdr_names[i].compact != 0 &&
			    lower(name.p[0]) == hdr_names[i].compact)
				return (enum sip_hid)i;
		return SIP_H_OTHER;
	}
	for (i = 1; i < SIP_H_COUNT_; i++)
		if (slice_case_eq_cstr(name, hdr_names[i].full))
			return (enum sip_hid)i;
	return SIP_H_OTHER;
}

const char *
sip_hdr_name(enum sip_hid id)
{
	return id > SIP_H_OTHER && id < SIP_H_COUNT_ ? hdr_names[id].full :
	    NULL;
}

/* RFC 3261 token characters. */
static int
is_token(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != 0 && strchr("-.!%*_+`'~", c) != NULL;
}

static int
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trim SP, HTAB, CR and LF (folded header values). */
static struct slice
trim_lws(struct slice s)
{
	while (s.len > 0 && is_ws(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && is_ws(s.p[s.len - 1]))
		s.len--;
	return s;
}

/* Find the end of the line starting at `s`: index of CR of CRLF, or -1. */
static long
line_end(struct slice s)
{
	size_t i;

	for (i = 0; i + 1 < s.len; i++)
		if (s.p[i] == '\r' && s.p[i + 1] == '\n')
			return (long)i;
	return -1;
}

static int
parse_start_line(struct sip_msg *m, struct slice line)
{
	struct slice a, b, c = line;
	uint64_t v;

	if (!slice_split(&c, ' ', &a) || a.len == 0)
		return E_SYNTAX;
	if (a.len == 7 && memcmp(a.p, "SIP/2.0", 7) == 0) {
		if (!slice_split(&c, ' ', &b))
			b = c, c = SLICE_NULL;	/* reason may be empty */
		if (b.len != 3 || slice_to_u64(b, 699, &v) != 0 || v < 100)
			return E_SYNTAX;
		m->is_request = 0;
		m->status = (int)v;
		m->reason = c;
		return 0;
	}
	for (size_t i = 0; i < a.len; i++)
		if (!is_token(a.p[i]))
			return E_SYNTAX;
	if (!slice_split(&c, ' ', &b) || b.len == 0)
		return E_SYNTAX;
	if (!slice_eq_cstr(c, "SIP/2.0"))
		return E_SYNTAX;
	if (slice_chr(b, ':') < 1)
		return E_SYNTAX;
	m->is_request = 1;
	m->method = a;
	m->ruri = b;
	return 0;
}

static int
parse_cseq(struct sip_msg *m, struct slice v)
{
	struct slice n;
	uint64_t x;

	if (!slice_split(&v, ' ', &n) || slice_to_u64(n, 0xffffffffu, &x) != 0)
		return E_SYNTAX;
	m->cseq = (uint32_t)x;
	m->cseq_method = slice_trim(v);
	if (m->cseq_method.len == 0)
		return E_SYNTAX;
	return 0;
}

int
sip_parse(struct sip_msg *m, struct slice raw)
{
	struct slice s = raw, line;
	long e;
	int r, have_cl = 0, have_cseq = 0;
	uint64_t cl = 0;

	memset(m, 0, sizeof(*m));
	m->raw = raw;
	m->max_forwards = -1;
	if ((e = line_end(s)) < 0)
		return E_SHORT;
	m->start_line = slice_make(s.p, (size_t)e);
	if ((r = parse_start_line(m, m->start_line)) != 0)
		return r;
	(void)slice_skip(&s, (size_t)e + 2);
	for (;;) {
		struct sip_hdr *h;
		struct slice name, value;
		size_t n;
		long c;

		if ((e = line_end(s)) < 0)
			return E_SHORT;
		if (e == 0) {
			m->hdr_end = slice_make(s.p, 2);
			(void)slice_skip(&s, 2);
			break;
		}
		/* Header line plus folded continuation lines. */
		n = (size_t)e + 2;
		while (n < s.len && (s.p[n] == ' ' || s.p[n] == '\t')) {
			long e2 = line_end(slice_make(s.p + n, s.len - n));
			if (e2 < 0)
				return E_SHORT;
			n += (size_t)e2 + 2;
		}
		line = slice_make(s.p, n);
		if (m->nhdr >= SIP_MAX_HEADERS)
			return E_BIG;
		c = slice_chr(slice_make(s.p, n - 2), ':');
		if (c <= 0)
			return E_SYNTAX;
		name = slice_trim(slice_make(s.p, (size_t)c));
		if (name.len == 0)
			return E_SYNTAX;
		for (size_t i = 0; i < name.len; i++)
			if (!is_token(name.p[i]))
				return E_SYNTAX;
		value = trim_lws(slice_make(s.p + c + 1, n - 2 - (size_t)c - 1));
		h = &m->hdr[m->nhdr++];
		h->id = sip_hdr_id(name);
		h->name = name;
		h->value = value;
		h->line = line;
		switch (h->id) {
		case SIP_H_CALL_ID:
			if (m->call_id.len == 0)
				m->call_id = value;
			break;
		case SIP_H_CSEQ:
			if (!have_cseq && parse_cseq(m, value) != 0)
				return E_SYNTAX;
			have_cseq = 1;
			break;
		case SIP_H_CONTENT_LENGTH:
			if (slice_to_u64(value, 1u << 30, &cl) != 0)
				return E_SYNTAX;
			have_cl = 1;
			break;
		case SIP_H_MAX_FORWARDS: {
			uint64_t mf;
			if (slice_to_u64(value, 255, &mf) != 0)
				return E_SYNTAX;
			m->max_forwards = (int)mf;
			break;
		}
		default:
			break;
		}
		(void)slice_skip(&s, n);
	}
	if (have_cl) {
		if (s.len < cl)
			return E_SHORT;
		s.len = (size_t)cl;
	}
	m->body = s;
	if (m->call_id.len == 0 || !have_cseq)
		return E_SYNTAX;
	if (m->is_request && !slice_eq(m->cseq_method, m->method) &&
	    !slice_eq_cstr(m->method, "ACK") &&
	    !slice_eq_cstr(m->method, "CANCEL"))
		return E_SYNTAX;
	if (sip_find(m, SIP_H_VIA) == NULL || sip_find(m, SIP_H_FROM) == NULL ||
	    sip_find(m, SIP_H_TO) == NULL)
		return E_SYNTAX;
	return 0;
}

long
sip_next(const struct sip_msg *m, enum sip_hid id, size_t from)
{
	size_t i;

	for (i = from; i < m->nhdr; i++)
		if (m->hdr[i].id == id)
			return (long)i;
	return -1;
}

const struct sip_hdr *
sip_find(const struct sip_msg *m, enum sip_hid id)
{
	long i = sip_next(m, id, 0);

	return i >= 0 ? &m->hdr[i] : NULL;
}

const struct sip_hdr *
sip_find_name(const struct sip_msg *m, const char *name)
{
	enum sip_hid id = sip_hdr_id(slice_cstr(name));
	size_t i;

	if (id != SIP_H_OTHER)
		return sip_find(m, id);
	for (i = 0; i < m->nhdr; i++)
		if (slice_case_eq_cstr(m->hdr[i].name, name))
			return &m->hdr[i];
	return NULL;
}

int
sip_value_next(struct slice *cur, struct slice *val)
{
	size_t i = 0;
	int q = 0, a = 0;

	*cur = trim_lws(*cur);
	while (cur->len > 0 && cur->p[0] == ',') {
		(void)slice_skip(cur, 1);
		*cur = trim_lws(*cur);
	}
	if (cur->len == 0)
		return 0;
	for (i = 0; i < cur->len; i++) {
		uint8_t c = cur->p[i];
		if (q) {
			if (c == '\\' && i + 1 < cur->len)
				i++;
			else if (c == '"')
				q = 0;
		} else if (c == '"')
			q = 1;
		else if (c == '<')
			a = 1;
		else if (c == '>')
			a = 0;
		else if (c == ',' && !a)
			break;
	}
	*val = trim_lws(slice_make(cur->p, i));
	(void)slice_skip(cur, i < cur->len ? i + 1 : i);
	return 1;
}

int
sip_addr_parse(struct slice v, struct sip_addr *a)
{
	long lt, gt;

	memset(a, 0, sizeof(*a));
	v = trim_lws(v);
	if (v.len == 0)
		return E_SYNTAX;
	if (v.p[0] == '"') {
		size_t i;
		for (i = 1; i < v.len; i++) {
			if (v.p[i] == '\\' && i + 1 < v.len)
				i++;
			else if (v.p[i] == '"')
				break;
		}
		if (i >= v.len)
			return E_SYNTAX;
		a->display = slice_make(v.p + 1, i - 1);
		(void)slice_skip(&v, i + 1);
		v = trim_lws(v);
		if (v.len == 0 || v.p[0] != '<')
			return E_SYNTAX;
	}
	lt = slice_chr(v, '<');
	if (lt >= 0) {
		struct slice rest = slice_make(v.p + lt + 1, v.len - (size_t)lt - 1);
		if (a->display.len == 0 && lt > 0)
			a->display = trim_lws(slice_make(v.p, (size_t)lt));
		gt = slice_chr(rest, '>');
		if (gt < 0)
			return E_SYNTAX;
		a->uri = trim_lws(slice_make(rest.p, (size_t)gt));
		a->params = trim_lws(slice_make(rest.p + gt + 1,
		    rest.len - (size_t)gt - 1));
		a->bracketed = 1;
	} else {
		long sc = slice_chr(v, ';');
		if (sc < 0) {
			a->uri = v;
		} else {
			a->uri = slice_make(v.p, (size_t)sc);
			a->params = slice_make(v.p + sc, v.len - (size_t)sc);
		}
		if (slice_chr(a->uri, ' ') >= 0)
			return E_SYNTAX;
	}
	if (a->uri.len == 0 || (a->params.len > 0 && a->params.p[0] != ';'))
		return E_SYNTAX;
	return 0;
}

static int
parse_hostport(struct slice hp, struct slice *host, uint16_t *port)
{
	struct slice p = SLICE_NULL;
	uint64_t v;

	*port = 0;
	if (hp.len == 0)
		return E_SYNTAX;
	if (hp.p[0] == '[') {
		long rb = slice_chr(hp, ']');
		if (rb < 0)
			return E_SYNTAX;
		*host = slice_make(hp.p, (size_t)rb + 1);
		p = slice_make(hp.p + rb + 1, hp.len - (size_t)rb - 1);
		if (p.len > 0) {
			if (p.p[0] != ':')
				return E_SYNTAX;
			(void)slice_skip(&p, 1);
			if (p.len == 0)
				return E_SYNTAX;
		}
	} else {
		long c = slice_chr(hp, ':');
		if (c >= 0) {
			*host = slice_make(hp.p, (size_t)c);
			p = slice_make(hp.p + c + 1, hp.len - (size_t)c - 1);
			if (p.len == 0)
				return E_SYNTAX;
		} else
			*host = hp;
		for (size_t i = 0; i < host->len; i++) {
			uint8_t ch = host->p[i];
			if (!(is_token(ch) && ch != '!' && ch != '%' &&
			    ch != '*' && ch != '`' && ch != '\'' && ch != '~'))
				return E_SYNTAX;
		}
	}
	if (host->len == 0)
		return E_SYNTAX;
	if (p.len > 0) {
		if (slice_to_u64(p, 65535, &v) != 0 || v == 0)
			return E_SYNTAX;
		*port = (uint16_t)v;
	}
	return 0;
}

int
sip_uri_parse(struct slice s, struct sip_uri *u)
{
	long c, at;
	struct slice rest, hp;
	size_t i, end;

	memset(u, 0, sizeof(*u));
	c = slice_chr(s, ':');
	if (c <= 0)
		return E_SYNTAX;
	u->scheme = slice_make(s.p, (size_t)c);
	rest = slice_make(s.p + c + 1, s.len - (size_t)c - 1);
	if (!slice_case_eq_cstr(u->scheme, "sip") &&
	    !slice_case_eq_cstr(u->scheme, "sips")) {
		u->user = rest;	/* opaque (tel: etc.) */
		return rest.len > 0 ? 0 : E_SYNTAX;
	}
	/* userinfo ends at the last '@' before any ';' or '?' of hostport */
	at = -1;
	for (i = 0; i < rest.len; i++) {
		if (rest.p[i] == '@')
			at = (long)i;
	}
	if (at >= 0) {
		struct slice ui = slice_make(rest.p, (size_t)at);
		long pw = slice_chr(ui, ':');
		u->user = pw >= 0 ? slice_make(ui.p, (size_t)pw) : ui;
		if (u->user.len == 0)
			return E_SYNTAX;
		(void)slice_skip(&rest, (size_t)at + 1);
	}
	end = rest.len;
	for (i = 0; i < rest.len; i++) {
		if (rest.p[i] == '[') {
			while (i < rest.len && rest.p[i] != ']')
				i++;
			continue;
		}
		if (rest.p[i] == ';' || rest.p[i] == '?') {
			end = i;
			break;
		}
	}
	hp = slice_make(rest.p, end);
	if (parse_hostport(hp, &u->host, &u->port) != 0)
		return E_SYNTAX;
	(void)slice_skip(&rest, end);
	{
		long q = slice_chr(rest, '?');
		if (q >= 0) {
			u->params = slice_make(rest.p, (size_t)q);
			u->headers = slice_make(rest.p + q + 1,
			    rest.len - (size_t)q - 1);
		} else
			u->params = rest;
	}
	return 0;
}

int
sip_param(struct slice params, const char *name, struct slice *val,
    struct slice *span)
{
	size_t i = 0, j;

	while (i < params.len) {
		struct slice item, n, v = SLICE_NULL;
		size_t start;
		long eq;
		int q = 0;

		if (params.p[i] != ';') {
			i++;
			continue;
		}
		start = i++;
		for (j = i; j < params.len && (q || params.p[j] != ';'); j++)
			if (params.p[j] == '"')
				q = !q;
		item = slice_make(params.p + i, j - i);
		eq = slice_chr(item, '=');
		if (eq >= 0) {
			n = trim_lws(slice_make(item.p, (size_t)eq));
			v = trim_lws(slice_make(item.p + eq + 1,
			    item.len - (size_t)eq - 1));
		} else
			n = trim_lws(item);
		if (slice_case_eq_cstr(n, name)) {
			if (val != NULL)
				*val = v;
			if (span != NULL)
				*span = slice_make(params.p + start, j - start);
			return 1;
		}
		i = j;
	}
	return 0;
}

int
sip_via_parse(struct slice v, struct sip_via *via)
{
	struct slice p, sb;
	long sc;
	size_t i;

	memset(via, 0, sizeof(*via));
	v = trim_lws(v);
	/* "SIP / 2.0 / UDP": three tokens, LWS allowed around the slashes */
	{
		struct slice s = v, tok[3];
		int k;

		for (k = 0; k < 3; k++) {
			s = trim_lws(s);
			for (i = 0; i < s.len && is_token(s.p[i]); i++)
				;
			if (i == 0)
				return E_SYNTAX;
			tok[k] = slice_make(s.p, i);
			(void)slice_skip(&s, i);
			s = trim_lws(s);
			if (k < 2) {
				if (s.len == 0 || s.p[0] != '/')
					return E_SYNTAX;
				(void)slice_skip(&s, 1);
			}
		}
		if (!slice_case_eq_cstr(tok[0], "SIP") ||
		    !slice_eq_cstr(tok[1], "2.0"))
			return E_SYNTAX;
		via->transport = tok[2];
		p = trim_lws(s);
	}
	sc = slice_chr(p, ';');
	sb = trim_lws(sc >= 0 ? slice_make(p.p, (size_t)sc) : p);
	via->params = sc >= 0 ? slice_make(p.p + sc, p.len - (size_t)sc) :
	    SLICE_NULL;
	via->sent_by = sb;
	if (parse_hostport(sb, &via->host, &via->port) != 0)
		return E_SYNTAX;
	(void)sip_param(via->params, "branch", &via->branch, NULL);
	via->has_rport = sip_param(via->params, "rport", &via->rport, NULL);
	return 0;
}

struct slice
sip_top_via(const struct sip_msg *m)
{
	const struct sip_hdr *h = sip_find(m, SIP_H_VIA);
	struct slice cur, v;

	if (h == NULL)
		return SLICE_NULL;
	cur = h->value;
	if (!sip_value_next(&cur, &v))
		return SLICE_NULL;
	return v;
}

/* ---- framer ---- */

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

/* Content-Length from a header block (first header line onwards). */
static int
block_content_length(struct slice hb, uint64_t *cl)
{
	int found = 0;

	while (hb.len > 0) {
		long e = line_end(hb), c;
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

/* ---- edits ---- */

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
