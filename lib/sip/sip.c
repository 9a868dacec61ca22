/* sip.c - SIP message parsing over slices: headers, URIs, Via, addresses. */
#include <stdio.h>
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

/*
 * A control character where the grammar allows none (RFC 3261 §25.1):
 * below 0x20 but HT, and DEL; CR LF only as the fold of a header line
 * (CRLF then SP or HT).
 */
static int
has_ctl(struct slice s)
{
	size_t i;

	for (i = 0; i < s.len; i++) {
		uint8_t c = s.p[i];

		if (c == '\t' || (c >= 0x20 && c != 0x7f))
			continue;
		if (c == '\r' && i + 2 < s.len && s.p[i + 1] == '\n' &&
		    (s.p[i + 2] == ' ' || s.p[i + 2] == '\t')) {
			i++;
			continue;
		}
		return 1;
	}
	return 0;
}

/* The first fault of a request names it (sip_msg.bad_*). E_SYNTAX. */
static int
bad(struct sip_msg *m, int status, const char *why)
{
	if (m->bad_status == 0) {
		m->bad_status = status;
		snprintf(m->bad_reason, sizeof(m->bad_reason), "%s", why);
	}
	return E_SYNTAX;
}

/* "WHAT NAME": a header's fault, named by its canonical or wire name. */
static int
bad_hdr(struct sip_msg *m, const char *what, const struct sip_hdr *h)
{
	char why[sizeof(m->bad_reason)];
	const char *n = sip_hdr_name(h->id);

	if (n != NULL)
		snprintf(why, sizeof(why), "%s %s", what, n);
	else
		snprintf(why, sizeof(why), "%s %.*s", what,
		    h->name.len > 24 ? 24 : (int)h->name.len,
		    (const char *)h->name.p);
	return bad(m, 400, why);
}

/*
 * The start line. A response that does not parse is E_SYNTAX; so is a
 * line whose first word is not a method. From there on it is a request
 * (is_request, method set), and a fault is named for the answer.
 */
static int
parse_start_line(struct sip_msg *m, struct slice line)
{
	struct slice a, b, c = line;
	uint64_t v;

	if (!slice_split(&c, ' ', &a) || a.len == 0)
		return E_SYNTAX;
	if (a.len == 7 && memcmp(a.p, "SIP/2.0", 7) == 0) {
		(void)slice_split(&c, ' ', &b);	/* reason may be empty */
		if (has_ctl(line) || b.len != 3 ||
		    slice_to_u64(b, 699, &v) != 0 || v < 100)
			return E_SYNTAX;
		m->is_request = 0;
		m->status = (int)v;
		m->reason = c;
		return 0;
	}
	for (size_t i = 0; i < a.len; i++)
		if (!is_token(a.p[i]))
			return E_SYNTAX;
	m->is_request = 1;
	m->method = a;
	if (has_ctl(line))
		return bad(m, 400, "Control Character in Request-Line");
	if (!slice_split(&c, ' ', &b)) {
		/* "OPTIONS SIP/2.0": the one word left is the version. */
		c = b;
		b = SLICE_NULL;
	}
	if (b.len == 0)
		return bad(m, 400, "Missing Request-URI");
	if (!slice_eq_cstr(c, "SIP/2.0")) {
		if (c.len > 4 && memcmp(c.p, "SIP/", 4) == 0 &&
		    slice_chr(c, ' ') < 0)
			return bad(m, 505, "Version Not Supported");
		return bad(m, 400, "Malformed Request-Line");
	}
	if (slice_chr(b, ':') < 1)
		return bad(m, 400, "Bad Request-URI");
	m->ruri = b;
	return 0;
}

static int
parse_cseq(struct sip_msg *m, struct slice v)
{
	struct slice n;
	uint64_t x;
	int ok;

	ok = slice_split(&v, ' ', &n) &&
	    slice_to_u64(n, 0xffffffffu, &x) == 0;
	m->cseq_method = slice_trim(v);
	if (!ok || m->cseq_method.len == 0) {
		/* For the answer: the method it should have named. */
		if (m->cseq_method.len == 0)
			m->cseq_method = m->method;
		return E_SYNTAX;
	}
	for (size_t i = 0; i < m->cseq_method.len; i++)
		if (!is_token(m->cseq_method.p[i]))
			return E_SYNTAX;
	m->cseq = (uint32_t)x;
	return 0;
}

static void
move_slice(struct slice *s, const uint8_t *from, const uint8_t *to)
{
	if (s->p != NULL)
		s->p = to + (s->p - from);
}

void
sip_msg_move(struct sip_msg *m, const uint8_t *to)
{
	const uint8_t *from = m->raw.p;
	struct slice *fixed[] = {
		&m->raw, &m->method, &m->ruri, &m->reason, &m->start_line,
		&m->hdr_end, &m->body, &m->call_id, &m->cseq_method,
		&m->from_tag, &m->to_tag
	};
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		move_slice(fixed[i], from, to);
	for (i = 0; i < m->nhdr; i++) {
		move_slice(&m->hdr[i].name, from, to);
		move_slice(&m->hdr[i].value, from, to);
		move_slice(&m->hdr[i].line, from, to);
	}
}

/* The tag parameter of a From or To value; none if it does not parse. */
static void
parse_tag(const struct sip_hdr *h, struct slice *tag, int *tagged)
{
	struct sip_addr a;

	if (h != NULL && sip_addr_parse(h->value, &a) == 0)
		*tagged = sip_param(a.params, "tag", tag, NULL);
}

/* Single-value headers: a second one must say the same. */
static int
single_valued(enum sip_hid id)
{
	switch (id) {
	case SIP_H_FROM:
	case SIP_H_TO:
	case SIP_H_CALL_ID:
	case SIP_H_CSEQ:
	case SIP_H_MAX_FORWARDS:
	case SIP_H_CONTENT_LENGTH:
	case SIP_H_CONTENT_TYPE:
		return 1;
	default:
		return 0;
	}
}

/* The header just added (index `k`) against an earlier one of its id. */
static int
conflicts(const struct sip_msg *m, size_t k)
{
	const struct sip_hdr *h = &m->hdr[k];
	long i = sip_next(m, h->id, 0);
	uint64_t a, b;

	if (i < 0 || (size_t)i == k)
		return 0;
	if (h->id == SIP_H_CONTENT_LENGTH)
		return slice_to_u64(m->hdr[i].value, 1u << 30, &a) != 0 ||
		    slice_to_u64(h->value, 1u << 30, &b) != 0 || a != b;
	return !slice_eq(m->hdr[i].value, h->value);
}

/* What a header we know says; a fault named (E_SYNTAX), or 0. */
static int
read_header(struct sip_msg *m, const struct sip_hdr *h, int *have_cseq,
    int *have_cl, uint64_t *cl)
{
	uint64_t v;

	switch (h->id) {
	case SIP_H_CALL_ID:
		if (m->call_id.len == 0)
			m->call_id = h->value;
		break;
	case SIP_H_CSEQ:
		if (!*have_cseq) {
			*have_cseq = 1;
			if (parse_cseq(m, h->value) != 0)
				return bad(m, 400, "Bad CSeq");
		}
		break;
	case SIP_H_CONTENT_LENGTH:
		if (slice_to_u64(h->value, 1u << 30, &v) != 0)
			return bad(m, 400, "Bad Content-Length");
		if (!*have_cl)
			*cl = v;
		*have_cl = 1;
		break;
	case SIP_H_MAX_FORWARDS:
		if (slice_to_u64(h->value, 255, &v) != 0)
			return bad(m, 400, "Bad Max-Forwards");
		if (m->max_forwards < 0)
			m->max_forwards = (int)v;
		break;
	default:
		break;
	}
	return 0;
}

int
sip_parse(struct sip_msg *m, struct slice raw)
{
	struct slice s = raw, line;
	long e;
	int r, err, have_cl = 0, have_cseq = 0;
	uint64_t cl = 0;

	memset(m, 0, sizeof(*m));
	m->raw = raw;
	m->max_forwards = -1;
	if ((e = line_end(s)) < 0)
		return E_SHORT;
	m->start_line = slice_make(s.p, (size_t)e);
	/* A request goes on being read after a fault, to be answered. */
	if ((err = parse_start_line(m, m->start_line)) != 0 && !m->is_request)
		return err;
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
		(void)slice_skip(&s, n);
		if (m->nhdr >= SIP_MAX_HEADERS) {
			(void)bad(m, 400, "Too Many Headers");
			return E_BIG;
		}
		c = slice_chr(slice_make(line.p, n - 2), ':');
		if (c <= 0) {
			err = bad(m, 400, "Header Without Colon");
			continue;
		}
		name = slice_trim(slice_make(line.p, (size_t)c));
		r = name.len == 0;
		for (size_t i = 0; i < name.len; i++)
			if (!is_token(name.p[i]))
				r = 1;
		if (r) {
			err = bad(m, 400, "Malformed Header Name");
			continue;
		}
		value = trim_lws(slice_make(line.p + c + 1,
		    n - 2 - (size_t)c - 1));
		h = &m->hdr[m->nhdr++];
		h->id = sip_hdr_id(name);
		h->name = name;
		h->value = value;
		h->line = line;
		/* Kept all the same: the answer echoes it to its sender. */
		if (has_ctl(slice_make(line.p, n - 2)))
			err = bad_hdr(m, "Control Character in", h);
		if (single_valued(h->id) && conflicts(m, m->nhdr - 1))
			err = bad_hdr(m, "Conflicting", h);
		if (read_header(m, h, &have_cseq, &have_cl, &cl) != 0)
			err = E_SYNTAX;
	}
	if (have_cl) {
		if (s.len < cl) {
			(void)bad(m, 400, "Content-Length Beyond Datagram");
			err = err != 0 ? err : E_SHORT;
		} else
			s.len = (size_t)cl;
	}
	m->body = s;
	if (sip_find(m, SIP_H_VIA) == NULL)
		err = bad(m, 400, "Missing Via");
	if (sip_find(m, SIP_H_FROM) == NULL)
		err = bad(m, 400, "Missing From");
	if (sip_find(m, SIP_H_TO) == NULL)
		err = bad(m, 400, "Missing To");
	if (m->call_id.len == 0)
		err = bad(m, 400, "Missing Call-ID");
	if (!have_cseq)
		err = bad(m, 400, "Missing CSeq");
	else if (m->is_request && err == 0 &&
	    !slice_eq(m->cseq_method, m->method) &&
	    !slice_eq_cstr(m->method, "ACK") &&
	    !slice_eq_cstr(m->method, "CANCEL"))
		err = bad(m, 400, "CSeq Method Mismatch");
	if (err != 0) {
		if (!m->is_request) {
			m->bad_status = 0;
			m->bad_reason[0] = '\0';
		}
		return err;
	}
	parse_tag(sip_find(m, SIP_H_FROM), &m->from_tag, &m->from_tagged);
	parse_tag(sip_find(m, SIP_H_TO), &m->to_tag, &m->to_tagged);
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
