/* bencode.c - bencode decoder into an arena tree, and encoder into a buf. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "ng/bencode.h"

struct bencode {
	struct slice key;	/* dict member: its key */
	struct slice str;	/* BENCODE_STR: the bytes */
	struct slice raw;	/* the whole encoded value */
	int64_t i;		/* BENCODE_INT */
	const struct bencode *child;	/* containers: first element */
	const struct bencode *next;	/* next sibling */
	size_t n;		/* containers: number of elements */
	enum bencode_type type;
};

/* Nodes come from blocks that double in size; freed all at once. */
struct blk {
	struct blk *next;
	size_t n, used;
	struct bencode node[];
};

#define FIRST_BLK 32
#define MAX_BLK 4096

struct bencode_doc {
	struct blk *blocks;
	size_t nodes, max_nodes;
	const struct bencode *root;
};

static struct bencode *
node_new(struct bencode_doc *d, int *err)
{
	struct blk *b = d->blocks;
	struct bencode *n;

	if (d->nodes >= d->max_nodes) {
		*err = E_BIG;
		return NULL;
	}
	if (b == NULL || b->used == b->n) {
		size_t want = b == NULL ? FIRST_BLK : b->n * 2;
		struct blk *nb;

		if (want > MAX_BLK)
			want = MAX_BLK;
		if (want > d->max_nodes - d->nodes)
			want = d->max_nodes - d->nodes;
		nb = malloc(sizeof(*nb) + want * sizeof(nb->node[0]));
		if (nb == NULL) {
			*err = E_NOMEM;
			return NULL;
		}
		nb->next = b;
		nb->n = want;
		nb->used = 0;
		d->blocks = nb;
		b = nb;
	}
	n = &b->node[b->used++];
	memset(n, 0, sizeof(*n));
	d->nodes++;
	return n;
}

void
bencode_doc_free(struct bencode_doc *d)
{
	struct blk *b, *nb;

	if (d == NULL)
		return;
	for (b = d->blocks; b != NULL; b = nb) {
		nb = b->next;
		free(b);
	}
	free(d);
}

/* "i-123e" at p[0..len): the integer, its length in `*took`. */
static int
parse_int(const uint8_t *p, size_t len, int64_t *v, size_t *took)
{
	size_t i = 1, start;
	uint64_t x = 0, lim;
	int neg = 0;

	if (i < len && p[i] == '-') {
		neg = 1;
		i++;
	}
	start = i;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
		unsigned dg = (unsigned)(p[i] - '0');

		if (x > (lim - dg) / 10)
			return E_BIG;
		x = x * 10 + dg;
	}
	if (i == len)
		return E_SHORT;
	if (p[i] != 'e' || i == start)
		return E_SYNTAX;
	/* canonical only: no leading zeros, no "-0" */
	if ((p[start] == '0' && i - start > 1) || (neg && x == 0))
		return E_SYNTAX;
	*v = neg ? (int64_t)(0 - x) : (int64_t)x;
	*took = i + 1;
	return 0;
}

/* "5:hello" at p[0..len): the string, its total length in `*took`. */
static int
parse_str(const uint8_t *p, size_t len, struct slice *s, size_t *took)
{
	size_t i, n = 0;

	for (i = 0; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
		if (i == 1 && p[0] == '0')
			return E_SYNTAX;
		if (n > (SIZE_MAX - 9) / 10)
			return E_BIG;
		n = n * 10 + (size_t)(p[i] - '0');
	}
	if (i == len)
		return E_SHORT;
	if (i == 0 || p[i] != ':')
		return E_SYNTAX;
	i++;
	if (n > len - i)
		return E_SHORT;
	s->p = p + i;
	s->len = n;
	*took = i + n;
	return 0;
}

struct frame {
	struct bencode *c;	/* the open container */
	struct bencode *last;	/* its last element so far */
	struct slice key;	/* dict: the key waiting for its value */
	int have_key;
};

int
bencode_parse(struct slice in, const struct bencode_limits *lim,
    struct bencode_doc **out, size_t *used)
{
	struct frame st[BENCODE_DEPTH_MAX];
	unsigned depth = 0, max_depth = BENCODE_DEFAULT_DEPTH;
	struct bencode_doc *d;
	size_t pos = 0;
	int r = 0;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return E_NOMEM;
	d->max_nodes = BENCODE_DEFAULT_NODES;
	if (lim != NULL) {
		max_depth = lim->max_depth;
		d->max_nodes = lim->max_nodes;
	}
	if (max_depth > BENCODE_DEPTH_MAX)
		max_depth = BENCODE_DEPTH_MAX;

	for (;;) {
		const uint8_t *p = in.p + pos;
		size_t left = in.len - pos, took = 0;
		struct bencode *n;
		struct frame *f = depth > 0 ? &st[depth - 1] : NULL;

		if (left == 0) {
			r = E_SHORT;
			goto fail;
		}
		if (p[0] == 'e') {
			if (f == NULL || f->have_key) {
				r = E_SYNTAX;
				goto fail;
			}
			pos++;
			f->c->raw.len = (size_t)(in.p + pos - f->c->raw.p);
			depth--;
			if (depth == 0)
				break;
			continue;
		}
		/* a key: a string waiting for its value */
		if (f != NULL && f->c->type == BENCODE_DICT && !f->have_key) {
			if ((r = parse_str(p, left, &f->key, &took)) != 0)
				goto fail;
			f->have_key = 1;
			pos += took;
			continue;
		}
		if ((n = node_new(d, &r)) == NULL)
			goto fail;
		n->raw.p = p;
		switch (p[0]) {
		case 'i':
			n->type = BENCODE_INT;
			r = parse_int(p, left, &n->i, &took);
			break;
		case 'l':
			n->type = BENCODE_LIST;
			took = 1;
			break;
		case 'd':
			n->type = BENCODE_DICT;
			took = 1;
			break;
		default:
			n->type = BENCODE_STR;
			r = parse_str(p, left, &n->str, &took);
			break;
		}
		if (r != 0)
			goto fail;
		pos += took;
		n->raw.len = took;
		if (f == NULL) {
			d->root = n;
		} else {
			if (f->c->type == BENCODE_DICT) {
				n->key = f->key;
				f->have_key = 0;
			}
			if (f->last == NULL)
				f->c->child = n;
			else
				f->last->next = n;
			f->last = n;
			f->c->n++;
		}
		if (n->type == BENCODE_LIST || n->type == BENCODE_DICT) {
			if (depth >= max_depth) {
				r = E_BIG;
				goto fail;
			}
			st[depth].c = n;
			st[depth].last = NULL;
			st[depth].have_key = 0;
			st[depth].key = SLICE_NULL;
			depth++;
		} else if (depth == 0) {
			break;
		}
	}
	if (used != NULL)
		*used = pos;
	else if (pos != in.len) {
		r = E_SYNTAX;
		goto fail;
	}
	*out = d;
	return 0;
fail:
	bencode_doc_free(d);
	return r;
}

const struct bencode *
bencode_root(const struct bencode_doc *d)
{
	return d != NULL ? d->root : NULL;
}

size_t
bencode_doc_nodes(const struct bencode_doc *d)
{
	return d != NULL ? d->nodes : 0;
}

enum bencode_type
bencode_type(const struct bencode *n)
{
	return n != NULL ? n->type : 0;
}

struct slice
bencode_str(const struct bencode *n)
{
	return n != NULL && n->type == BENCODE_STR ? n->str : SLICE_NULL;
}

int
bencode_int(const struct bencode *n, int64_t *v)
{
	if (n == NULL || n->type != BENCODE_INT)
		return E_INVAL;
	*v = n->i;
	return 0;
}

size_t
bencode_count(const struct bencode *n)
{
	return n != NULL ? n->n : 0;
}

const struct bencode *
bencode_first(const struct bencode *n)
{
	return n != NULL ? n->child : NULL;
}

const struct bencode *
bencode_next(const struct bencode *n)
{
	return n != NULL ? n->next : NULL;
}

struct slice
bencode_key(const struct bencode *n)
{
	return n != NULL ? n->key : SLICE_NULL;
}

struct slice
bencode_raw(const struct bencode *n)
{
	return n != NULL ? n->raw : SLICE_NULL;
}

const struct bencode *
bencode_dict_get_slice(const struct bencode *dict, struct slice key)
{
	const struct bencode *m;

	if (dict == NULL || dict->type != BENCODE_DICT)
		return NULL;
	for (m = dict->child; m != NULL; m = m->next)
		if (slice_eq(m->key, key))
			return m;
	return NULL;
}

const struct bencode *
bencode_dict_get(const struct bencode *dict, const char *key)
{
	return bencode_dict_get_slice(dict, slice_cstr(key));
}

/* Encoding. */

int
bencode_put_int(struct buf *b, int64_t v)
{
	return buf_printf(b, "i%" PRId64 "e", v);
}

int
bencode_put_str(struct buf *b, struct slice s)
{
	size_t old = buf_len(b);
	int r;

	if ((r = buf_printf(b, "%zu:", s.len)) != 0)
		return r;
	if ((r = buf_append_slice(b, s)) != 0)
		buf_truncate(b, old);
	return r;
}

int
bencode_put_cstr(struct buf *b, const char *s)
{
	return bencode_put_str(b, slice_cstr(s));
}

int
bencode_put_list(struct buf *b)
{
	return buf_append_u8(b, 'l');
}

int
bencode_put_dict(struct buf *b)
{
	return buf_append_u8(b, 'd');
}

int
bencode_put_end(struct buf *b)
{
	return buf_append_u8(b, 'e');
}

int
bencode_put_node(struct buf *b, const struct bencode *n)
{
	if (n == NULL)
		return E_INVAL;
	return buf_append_slice(b, n->raw);
}

/* Run `r = expr` after the key; undo the key if the value failed. */
#define KEYED(b, key, expr) do { \
	size_t old_ = buf_len(b); \
	int r_ = bencode_put_cstr((b), (key)); \
	if (r_ == 0 && (r_ = (expr)) != 0) \
		buf_truncate((b), old_); \
	return r_; \
} while (0)

int
bencode_put_kstr(struct buf *b, const char *key, struct slice v)
{
	KEYED(b, key, bencode_put_str(b, v));
}

int
bencode_put_kcstr(struct buf *b, const char *key, const char *v)
{
	KEYED(b, key, bencode_put_cstr(b, v));
}

int
bencode_put_kint(struct buf *b, const char *key, int64_t v)
{
	KEYED(b, key, bencode_put_int(b, v));
}

int
bencode_put_klist(struct buf *b, const char *key)
{
	KEYED(b, key, bencode_put_list(b));
}

int
bencode_put_kdict(struct buf *b, const char *key)
{
	KEYED(b, key, bencode_put_dict(b));
}

/* Text rendering: recursion is bounded by the parser's depth cap. */

static int
text_str(struct buf *b, struct slice s)
{
	size_t i;
	int r = buf_append_u8(b, '"');

	for (i = 0; r == 0 && i < s.len; i++) {
		uint8_t c = s.p[i];

		switch (c) {
		case '\r': r = buf_append(b, "\\r", 2); break;
		case '\n': r = buf_append(b, "\\n", 2); break;
		case '\t': r = buf_append(b, "\\t", 2); break;
		case '"': r = buf_append(b, "\\\"", 2); break;
		case '\\': r = buf_append(b, "\\\\", 2); break;
		default:
			if (c < 0x20 || c > 0x7e)
				r = buf_printf(b, "\\x%02x", c);
			else
				r = buf_append_u8(b, c);
		}
	}
	return r != 0 ? r : buf_append_u8(b, '"');
}

static int
text_nl(struct buf *b, unsigned indent, unsigned level)
{
	size_t i;
	int r;

	if (indent == 0)
		return 0;
	if ((r = buf_append_u8(b, '\n')) != 0)
		return r;
	for (i = 0; r == 0 && i < (size_t)indent * level; i++)
		r = buf_append_u8(b, ' ');
	return r;
}

static int
text_node(struct buf *b, const struct bencode *n, unsigned indent,
    unsigned level)
{
	const struct bencode *c;
	int r = 0;

	switch (n->type) {
	case BENCODE_INT:
		return buf_printf(b, "%" PRId64, n->i);
	case BENCODE_STR:
		return text_str(b, n->str);
	case BENCODE_LIST:
	case BENCODE_DICT:
		break;
	default:
		return E_INVAL;
	}
	if ((r = buf_append_u8(b, n->type == BENCODE_LIST ? '[' : '{')) != 0)
		return r;
	for (c = n->child; c != NULL && r == 0; c = c->next) {
		if (c != n->child && (r = buf_append_u8(b, ',')) != 0)
			break;
		if (indent == 0 && c != n->child)
			r = buf_append_u8(b, ' ');
		if (r == 0)
			r = text_nl(b, indent, level + 1);
		if (r == 0 && n->type == BENCODE_DICT &&
		    ((r = text_str(b, c->key)) != 0 ||
		    (r = buf_append(b, ": ", 2)) != 0))
			break;
		if (r == 0)
			r = text_node(b, c, indent, level + 1);
	}
	if (r == 0 && n->child != NULL)
		r = text_nl(b, indent, level);
	if (r == 0)
		r = buf_append_u8(b, n->type == BENCODE_LIST ? ']' : '}');
	return r;
}

int
bencode_to_text(struct buf *b, const struct bencode *n, unsigned indent)
{
	if (n == NULL)
		return E_INVAL;
	return text_node(b, n, indent, 0);
}
