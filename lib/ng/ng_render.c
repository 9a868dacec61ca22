/* ng_render.c - decoded ng replies shown as JSON, or as `key: value`
 * lines a person reads. */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "ng/ng_render.h"

/*
 * The length of the valid UTF-8 sequence at p[0..len-1] (shortest form,
 * no surrogates, at most U+10FFFF), or 0 if it is not one.
 */
static size_t
utf8_len(const uint8_t *p, size_t len)
{
	uint32_t c;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, c = p[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return n;
}

static int
json_str(struct buf *b, struct slice s)
{
	size_t i = 0, n;
	int r;

	if ((r = buf_append_u8(b, '"')) != 0)
		return r;
	while (i < s.len) {
		uint8_t c = s.p[i];

		if (c == '"' || c == '\\')
			r = buf_printf(b, "\\%c", c);
		else if (c == '\n')
			r = buf_append_cstr(b, "\\n");
		else if (c == '\r')
			r = buf_append_cstr(b, "\\r");
		else if (c == '\t')
			r = buf_append_cstr(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			r = buf_printf(b, "\\u%04x", c);
		else if ((n = utf8_len(s.p + i, s.len - i)) == 0)
			r = buf_printf(b, "\\u%04x", c);	/* not UTF-8 */
		else {
			r = buf_append(b, s.p + i, n);
			i += n - 1;
		}
		if (r != 0)
			return r;
		i++;
	}
	return buf_append_u8(b, '"');
}

static int
newline(struct buf *b, unsigned indent, unsigned level)
{
	int r;

	if (indent == 0)
		return 0;
	if ((r = buf_append_u8(b, '\n')) != 0)
		return r;
	return buf_printf(b, "%*s", (int)(indent * level), "");
}

/* Recursion is bounded by the parser's depth cap (BENCODE_DEPTH_MAX). */
static int
json_node(struct buf *b, const struct bencode *n, unsigned indent,
    unsigned level)
{
	enum bencode_type t = bencode_type(n);
	const struct bencode *m;
	int64_t v;
	int r;

	if (t == BENCODE_INT)
		return bencode_int(n, &v) != 0 ? E_INVAL :
		    buf_printf(b, "%" PRId64, v);
	if (t == BENCODE_STR)
		return json_str(b, bencode_str(n));
	if ((r = buf_append_u8(b, t == BENCODE_DICT ? '{' : '[')) != 0)
		return r;
	for (m = bencode_first(n); m != NULL; m = bencode_next(m)) {
		if ((m != bencode_first(n) &&
		    (r = buf_append_u8(b, ',')) != 0) ||
		    (r = newline(b, indent, level + 1)) != 0)
			return r;
		if (t == BENCODE_DICT &&
		    ((r = json_str(b, bencode_key(m))) != 0 ||
		    (r = buf_append_cstr(b, indent ? ": " : ":")) != 0))
			return r;
		if ((r = json_node(b, m, indent, level + 1)) != 0)
			return r;
	}
	if (bencode_first(n) != NULL && (r = newline(b, indent, level)) != 0)
		return r;
	return buf_append_u8(b, t == BENCODE_DICT ? '}' : ']');
}

int
ng_render_json(struct buf *out, const struct bencode *n, unsigned indent)
{
	size_t len = buf_len(out);
	int r;

	if (n == NULL)
		return E_INVAL;
	if ((r = json_node(out, n, indent, 0)) != 0)
		buf_truncate(out, len);
	return r;
}

int
ng_render_text(struct buf *out, struct slice s)
{
	size_t i = 0, n;
	int r;

	while (i < s.len) {
		uint8_t c = s.p[i];

		if (c == '\\')
			r = buf_append_cstr(out, "\\\\");
		else if (c == '\n')
			r = buf_append_cstr(out, "\\n");
		else if (c == '\r')
			r = buf_append_cstr(out, "\\r");
		else if (c == '\t')
			r = buf_append_cstr(out, "\\t");
		else if (c < 0x20 || c == 0x7f ||
		    (n = utf8_len(s.p + i, s.len - i)) == 0 ||
		    (n == 2 && c == 0xc2 && s.p[i + 1] < 0xa0))
			r = buf_printf(out, "\\x%02x", c);	/* C1 too */
		else {
			r = buf_append(out, s.p + i, n);
			i += n - 1;
		}
		if (r != 0)
			return r;
		i++;
	}
	return 0;
}

/* `path` holds the names down to `n`; it is put back as it was. */
static int
lines_node(struct buf *b, struct buf *path, const struct bencode *n,
    const char *skip)
{
	enum bencode_type t = bencode_type(n);
	const struct bencode *m;
	size_t plen = buf_len(path), i = 0;
	int64_t v;
	int r = 0;

	if (t == BENCODE_INT || t == BENCODE_STR ||
	    bencode_first(n) == NULL) {
		if ((r = buf_append_slice(b, buf_slice(path))) != 0 ||
		    (r = buf_append_cstr(b, ": ")) != 0)
			return r;
		if (t == BENCODE_INT)
			r = bencode_int(n, &v) != 0 ? E_INVAL :
			    buf_printf(b, "%" PRId64, v);
		else if (t == BENCODE_STR)
			r = ng_render_text(b, bencode_str(n));
		else
			r = buf_append_cstr(b, t == BENCODE_DICT ? "{}" : "[]");
		return r != 0 ? r : buf_append_u8(b, '\n');
	}
	for (m = bencode_first(n); m != NULL && r == 0; m = bencode_next(m),
	    i++) {
		if (t == BENCODE_DICT && skip != NULL &&
		    slice_eq_cstr(bencode_key(m), skip))
			continue;
		if (t == BENCODE_LIST)
			r = buf_printf(path, "[%zu]", i);
		else if (plen == 0 || (r = buf_append_u8(path, '.')) == 0)
			r = ng_render_text(path, bencode_key(m));
		if (r == 0)
			r = lines_node(b, path, m, NULL);
		buf_truncate(path, plen);
	}
	return r;
}

int
ng_render_lines(struct buf *out, const struct bencode *n, const char *skip)
{
	struct buf *path;
	size_t len = buf_len(out);
	int r;

	if (n == NULL)
		return E_INVAL;
	/* a path longer than this is not for reading anyway */
	if ((path = buf_new(64 * 1024)) == NULL)
		return E_NOMEM;
	if ((r = lines_node(out, path, n, skip)) != 0)
		buf_truncate(out, len);
	buf_free(path);
	return r;
}
