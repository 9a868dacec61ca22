/* tlskeys.c - the NSS key log (SSLKEYLOGFILE) of TLS sessions, by client random. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base/hex.h"
#include "cap/tlskeys.h"

struct tlskeys {
	struct tlskeys_entry *e;
	size_t n, cap;
	size_t sorted;		/* e[0..sorted) is sorted and merged */
	size_t skipped;
	uint64_t lines;
};

static const struct {
	const char *label;
	enum tlskeys_secret s;
} labels[] = {
	{ "CLIENT_RANDOM", TLSKEYS_MASTER },
	{ "CLIENT_HANDSHAKE_TRAFFIC_SECRET", TLSKEYS_CHTS },
	{ "SERVER_HANDSHAKE_TRAFFIC_SECRET", TLSKEYS_SHTS },
	{ "CLIENT_TRAFFIC_SECRET_0", TLSKEYS_CTS0 },
	{ "SERVER_TRAFFIC_SECRET_0", TLSKEYS_STS0 },
};

struct tlskeys *
tlskeys_new(void)
{
	return calloc(1, sizeof(struct tlskeys));
}

void
tlskeys_free(struct tlskeys *k)
{
	if (k == NULL)
		return;
	if (k->e != NULL)
		OPENSSL_cleanse(k->e, k->cap * sizeof(*k->e));
	free(k->e);
	free(k);
}

size_t
tlskeys_count(const struct tlskeys *k)
{
	return k->n;
}

size_t
tlskeys_skipped(const struct tlskeys *k)
{
	return k->skipped;
}

/* The next space-separated field of `line`. */
static struct slice
field(struct slice *line)
{
	struct slice f;

	while (line->len > 0 && (line->p[0] == ' ' || line->p[0] == '\t'))
		slice_skip(line, 1);
	f.p = line->p;
	f.len = 0;
	while (f.len < line->len && line->p[f.len] != ' ' &&
	    line->p[f.len] != '\t')
		f.len++;
	(void)slice_skip(line, f.len);
	return f;
}

static int
cmp_entry(const void *a, const void *b)
{
	return memcmp(((const struct tlskeys_entry *)a)->random,
	    ((const struct tlskeys_entry *)b)->random, 32);
}

static int
cmp_order(const void *a, const void *b)
{
	const struct tlskeys_entry *x = a, *y = b;
	int c = memcmp(x->random, y->random, 32);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Sort the table and merge entries of the same random (later lines win). */
static void
settle(struct tlskeys *k)
{
	size_t i, o = 0;
	int s;

	if (k->sorted == k->n)
		return;
	/* file order breaks ties: later lines win when merged */
	qsort(k->e, k->n, sizeof(*k->e), cmp_order);
	for (i = 0; i < k->n; i++) {
		if (o > 0 && memcmp(k->e[o - 1].random, k->e[i].random,
		    32) == 0) {
			for (s = 0; s < TLSKEYS_N; s++)
				if (k->e[i].len[s] != 0) {
					k->e[o - 1].len[s] = k->e[i].len[s];
					memcpy(k->e[o - 1].secret[s],
					    k->e[i].secret[s],
					    TLSKEYS_SECRET_MAX);
				}
			continue;
		}
		if (o != i)
			k->e[o] = k->e[i];
		o++;
	}
	if (o < k->n)
		OPENSSL_cleanse(&k->e[o], (k->n - o) * sizeof(*k->e));
	k->n = k->sorted = o;
}

/* One line: 0 (added or skipped), or an error with the reason in why. */
static int
add_line(struct tlskeys *k, struct slice line, char *why, size_t whysz)
{
	struct slice label, cr, sec, rest;
	struct tlskeys_entry *e;
	size_t i, ncap;
	int n;

	while (line.len > 0 && (line.p[line.len - 1] == '\r' ||
	    line.p[line.len - 1] == ' ' || line.p[line.len - 1] == '\t'))
		line.len--;
	label = field(&line);
	if (label.len == 0 || label.p[0] == '#')
		return 0;
	for (i = 0; i < sizeof(labels) / sizeof(*labels); i++)
		if (label.len == strlen(labels[i].label) &&
		    memcmp(label.p, labels[i].label, label.len) == 0)
			break;
	if (i == sizeof(labels) / sizeof(*labels)) {
		k->skipped++;
		return 0;
	}
	cr = field(&line);
	sec = field(&line);
	rest = field(&line);
	if (cr.len == 0 || sec.len == 0 || rest.len != 0) {
		snprintf(why, whysz, "%s: want a client random and a secret",
		    labels[i].label);
		return E_SYNTAX;
	}
	if (k->n == k->cap) {
		if (k->cap >= TLSKEYS_MAX_ENTRIES) {
			snprintf(why, whysz, "more than %u sessions",
			    TLSKEYS_MAX_ENTRIES);
			return E_LIMIT;
		}
		ncap = k->cap ? 2 * k->cap : 64;
		if ((e = calloc(ncap, sizeof(*e))) == NULL) {
			snprintf(why, whysz, "out of memory");
			return E_NOMEM;
		}
		if (k->n > 0)
			memcpy(e, k->e, k->n * sizeof(*e));
		if (k->e != NULL)
			OPENSSL_cleanse(k->e, k->cap * sizeof(*k->e));
		free(k->e);
		k->e = e;
		k->cap = ncap;
	}
	e = &k->e[k->n];
	memset(e, 0, sizeof(*e));
	if (hex_decode(cr, e->random, 32) != 32) {
		snprintf(why, whysz, "%s: the client random is not 64 hex "
		    "digits", labels[i].label);
		return E_SYNTAX;
	}
	n = hex_decode(sec, e->secret[labels[i].s], TLSKEYS_SECRET_MAX);
	if (labels[i].s == TLSKEYS_MASTER ? n != 48 : (n != 32 && n != 48)) {
		OPENSSL_cleanse(e, sizeof(*e));
		snprintf(why, whysz, "%s: the secret is not %s hex digits",
		    labels[i].label, labels[i].s == TLSKEYS_MASTER ? "96" :
		    "64 or 96");
		return E_SYNTAX;
	}
	e->len[labels[i].s] = (uint8_t)n;
	e->order = k->lines++;
	k->n++;
	return 0;
}

int
tlskeys_add_text(struct tlskeys *k, struct slice text, char *why,
    size_t whysz)
{
	char r[160];
	size_t lineno = 0, i;
	struct slice line;
	int e;

	while (text.len > 0) {
		lineno++;
		for (i = 0; i < text.len && text.p[i] != '\n'; i++)
			;
		line = slice_make(text.p, i);
		(void)slice_skip(&text, i < text.len ? i + 1 : i);
		if ((e = add_line(k, line, r, sizeof(r))) != 0) {
			if (whysz)
				snprintf(why, whysz, "line %zu: %s", lineno, r);
			settle(k);
			return e;
		}
	}
	settle(k);
	return 0;
}

const struct tlskeys_entry *
tlskeys_find(struct tlskeys *k, const uint8_t *random)
{
	struct tlskeys_entry key;

	if (k == NULL || k->n == 0)
		return NULL;
	settle(k);
	memcpy(key.random, random, 32);
	return bsearch(&key, k->e, k->n, sizeof(*k->e), cmp_entry);
}

const struct tlskeys_entry *
tlskeys_at(struct tlskeys *k, size_t i)
{
	settle(k);
	return i < k->n ? &k->e[i] : NULL;
}
