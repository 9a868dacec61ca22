/* digest_creds.c - the digest credentials file: user:realm:HA1 lines. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "sip/digest.h"
#include "sip/digest_int.h"

/* ---- credentials ---- */

struct cred_ent {
	struct slice user, realm, ha1;
	enum digest_alg alg;
	size_t line;
};

struct digest_creds {
	uint8_t *text;		/* our copy of the file, under the slices */
	size_t text_len;
	struct cred_ent *ent;	/* by user, realm, algorithm */
	size_t n;
};

static int
slice_cmp(struct slice a, struct slice b)
{
	size_t m = a.len < b.len ? a.len : b.len;
	int c = m > 0 ? memcmp(a.p, b.p, m) : 0;

	if (c != 0)
		return c;
	return a.len < b.len ? -1 : a.len > b.len;
}

static int
key_cmp(struct slice user, struct slice realm, enum digest_alg alg,
    const struct cred_ent *e)
{
	int c;

	if ((c = slice_cmp(user, e->user)) != 0 ||
	    (c = slice_cmp(realm, e->realm)) != 0)
		return c;
	return (int)alg - (int)e->alg;
}

static int
ent_cmp(const void *a, const void *b)
{
	const struct cred_ent *x = a, *y = b;
	int c = key_cmp(x->user, x->realm, x->alg, y);

	/* Equal keys keep file order, so a duplicate names its first line. */
	if (c == 0)
		c = x->line < y->line ? -1 : x->line > y->line;
	return c;
}

static int
field_ok(struct slice s)
{
	for (size_t i = 0; i < s.len; i++)
		if (is_ctl(s.p[i]))
			return 0;
	return s.len > 0;
}

/* One non-comment line into `e`; the reason names line `ln`. */
static int
creds_line(struct slice t, size_t ln, struct cred_ent *e, char *why,
    size_t n)
{
	long first = slice_chr(t, ':');
	size_t last;

	if (first < 0) {
		sbk_why(why, n, "line %zu: want user:realm:HA1", ln);
		return E_SYNTAX;
	}
	for (last = t.len - 1; t.p[last] != ':'; last--)
		;
	if (last == (size_t)first) {
		sbk_why(why, n, "line %zu: want user:realm:HA1", ln);
		return E_SYNTAX;
	}
	e->user = slice_make(t.p, (size_t)first);
	e->realm = slice_make(t.p + first + 1, last - (size_t)first - 1);
	e->ha1 = slice_make(t.p + last + 1, t.len - last - 1);
	e->line = ln;
	if (!field_ok(e->user)) {
		sbk_why(why, n, "line %zu: empty user or control byte in it",
		    ln);
		return E_SYNTAX;
	}
	if (!field_ok(e->realm)) {
		sbk_why(why, n, "line %zu: empty realm or control byte in it",
		    ln);
		return E_SYNTAX;
	}
	if (e->ha1.len == alg_hexlen(DIGEST_MD5))
		e->alg = DIGEST_MD5;
	else if (e->ha1.len == alg_hexlen(DIGEST_SHA256))
		e->alg = DIGEST_SHA256;
	else {
		sbk_why(why, n, "line %zu: HA1 must be 32 (MD5) or 64 "
		    "(SHA-256) hex digits, not %zu", ln, e->ha1.len);
		return E_SYNTAX;
	}
	for (size_t i = 0; i < e->ha1.len; i++)
		if (!is_lhex(e->ha1.p[i])) {
			sbk_why(why, n, "line %zu: HA1 must be lower-case hex",
			    ln);
			return E_SYNTAX;
		}
	return 0;
}

static int
creds_lines(struct digest_creds *c, char *why, size_t n)
{
	struct slice s = slice_make(c->text, c->text_len), line;
	size_t ln = 0, cap = 0;
	int e;

	while (s.len > 0) {
		(void)slice_split(&s, '\n', &line);
		ln++;
		if (line.len > DIGEST_CREDS_LINE) {
			sbk_why(why, n, "line %zu: longer than %d bytes", ln,
			    DIGEST_CREDS_LINE);
			return E_BIG;
		}
		if (line.len > 0 && line.p[line.len - 1] == '\r')
			line.len--;
		line = slice_trim(line);
		if (line.len == 0 || line.p[0] == '#')
			continue;
		if (c->n == cap) {
			size_t ncap = cap == 0 ? 64 : cap * 2;
			struct cred_ent *ne;

			if (c->n >= DIGEST_CREDS_MAX) {
				sbk_why(why, n, "line %zu: more than %d "
				    "entries", ln, DIGEST_CREDS_MAX);
				return E_BIG;
			}
			if (ncap > DIGEST_CREDS_MAX)
				ncap = DIGEST_CREDS_MAX;
			ne = realloc(c->ent, ncap * sizeof(*ne));
			if (ne == NULL) {
				sbk_why(why, n, "out of memory");
				return E_NOMEM;
			}
			c->ent = ne;
			cap = ncap;
		}
		if ((e = creds_line(line, ln, &c->ent[c->n], why, n)) != 0)
			return e;
		c->n++;
	}
	return 0;
}

int
digest_creds_parse(struct slice text, struct digest_creds **out, char *why,
    size_t n)
{
	struct digest_creds *c;
	int e;

	*out = NULL;
	sbk_why(why, n, "%s", "");
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->text = malloc(text.len + 1)) == NULL) {
		free(c);
		sbk_why(why, n, "out of memory");
		return E_NOMEM;
	}
	if (text.len > 0)
		memcpy(c->text, text.p, text.len);
	c->text_len = text.len;
	if ((e = creds_lines(c, why, n)) != 0) {
		digest_creds_free(c);
		return e;
	}
	if (c->n > 1)
		qsort(c->ent, c->n, sizeof(*c->ent), ent_cmp);
	for (size_t i = 1; i < c->n; i++) {
		const struct cred_ent *a = &c->ent[i - 1], *b = &c->ent[i];

		if (key_cmp(a->user, a->realm, a->alg, b) == 0) {
			sbk_why(why, n, "line %zu: user \"%.*s\" realm \"%.*s\""
			    " %s again (first on line %zu)", b->line,
			    show(b->user), (const char *)b->user.p,
			    show(b->realm), (const char *)b->realm.p,
			    alg_name(b->alg), a->line);
			digest_creds_free(c);
			return E_EXIST;
		}
	}
	*out = c;
	return 0;
}

int
digest_creds_read(const char *path, struct digest_creds **out, int *sys,
    char *why, size_t n)
{
	FILE *fp = fopen(path, "re");
	char *text;
	size_t len = 0, got;
	int r;

	*out = NULL;
	*sys = 0;
	if (why != NULL && n > 0)
		why[0] = '\0';
	if (fp == NULL) {
		*sys = errno;
		return E_IO;
	}
	if ((text = malloc(DIGEST_CREDS_FILE_MAX)) == NULL) {
		fclose(fp);
		return E_NOMEM;
	}
	while ((got = fread(text + len, 1, DIGEST_CREDS_FILE_MAX - len,
	    fp)) > 0)
		len += got;
	r = ferror(fp) ? E_IO : len == DIGEST_CREDS_FILE_MAX ? E_BIG : 0;
	if (r == E_IO)
		*sys = errno;
	fclose(fp);
	if (r == 0)
		r = digest_creds_parse(slice_make(text, len), out, why, n);
	/* HA1s are password equivalents: wiped. */
	OPENSSL_cleanse(text, len);
	free(text);
	return r;
}

void
digest_creds_free(struct digest_creds *c)
{
	if (c == NULL)
		return;
	if (c->text != NULL) {
		OPENSSL_cleanse(c->text, c->text_len);
		free(c->text);
	}
	free(c->ent);
	free(c);
}

size_t
digest_creds_count(const struct digest_creds *c)
{
	return c != NULL ? c->n : 0;
}

int
digest_creds_lookup(const struct digest_creds *c, struct slice user,
    struct slice realm, enum digest_alg alg, struct slice *ha1)
{
	size_t lo = 0, hi;

	if (c == NULL || (unsigned)alg >= DIGEST_NALG)
		return E_NOTFOUND;
	hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int k = key_cmp(user, realm, alg, &c->ent[mid]);

		if (k == 0) {
			*ha1 = c->ent[mid].ha1;
			return 0;
		}
		if (k < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return E_NOTFOUND;
}
