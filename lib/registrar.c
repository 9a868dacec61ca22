/* registrar.c - a small built-in SIP registrar: AoR -> flow bindings. */
#include <stdlib.h>
#include <string.h>

#include "registrar.h"
#include "sip.h"

struct ent {
	char *aor;
	size_t aorlen;
	char *contact;
	size_t clen;
	size_t uoff, ulen;	/* URI inside contact */
	uint64_t flow, expires_ms;
	struct ent *next;
};

#define REG_BUCKETS 4096

struct registrar {
	struct ent *b[REG_BUCKETS];
	size_t n, max;
};

static unsigned
hash(struct slice s)
{
	unsigned h = 2166136261u;
	size_t i;

	for (i = 0; i < s.len; i++)
		h = (h ^ s.p[i]) * 16777619u;
	return h % REG_BUCKETS;
}

static struct ent **
find(struct registrar *r, struct slice aor)
{
	struct ent **pp = &r->b[hash(aor)];

	while (*pp != NULL && !slice_eq(slice_make((*pp)->aor,
	    (*pp)->aorlen), aor))
		pp = &(*pp)->next;
	return pp;
}

struct registrar *
registrar_new(size_t max)
{
	struct registrar *r = calloc(1, sizeof(*r));

	if (r != NULL)
		r->max = max;
	return r;
}

static void
ent_free(struct ent *e)
{
	free(e->aor);
	free(e->contact);
	free(e);
}

void
registrar_free(struct registrar *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < REG_BUCKETS; i++) {
		while (r->b[i] != NULL) {
			struct ent *e = r->b[i];
			r->b[i] = e->next;
			ent_free(e);
		}
	}
	free(r);
}

int
registrar_bind(struct registrar *r, struct slice aor, uint64_t flow,
    struct slice contact, uint64_t expires_ms)
{
	struct ent **pp = find(r, aor), *e = *pp;
	struct sip_addr a;
	char *c;

	if (aor.len == 0 || sip_addr_parse(contact, &a) != 0)
		return E_SYNTAX;
	if ((c = malloc(contact.len + 1)) == NULL)
		return E_NOMEM;
	memcpy(c, contact.p, contact.len);
	c[contact.len] = '\0';
	if (e == NULL) {
		if (r->n >= r->max) {
			free(c);
			return E_LIMIT;
		}
		if ((e = calloc(1, sizeof(*e))) == NULL ||
		    (e->aor = malloc(aor.len + 1)) == NULL) {
			free(e);
			free(c);
			return E_NOMEM;
		}
		memcpy(e->aor, aor.p, aor.len);
		e->aor[aor.len] = '\0';
		e->aorlen = aor.len;
		*pp = e;
		r->n++;
	}
	free(e->contact);
	e->contact = c;
	e->clen = contact.len;
	e->uoff = (size_t)(a.uri.p - contact.p);
	e->ulen = a.uri.len;
	e->flow = flow;
	e->expires_ms = expires_ms;
	return 0;
}

int
registrar_unbind(struct registrar *r, struct slice aor)
{
	struct ent **pp = find(r, aor), *e = *pp;

	if (e == NULL)
		return E_NOTFOUND;
	*pp = e->next;
	ent_free(e);
	r->n--;
	return 0;
}

int
registrar_lookup(struct registrar *r, struct slice aor, uint64_t now_ms,
    struct reg_binding *b)
{
	struct ent *e = *find(r, aor);

	if (e == NULL)
		return E_NOTFOUND;
	if (e->expires_ms <= now_ms) {
		(void)registrar_unbind(r, aor);
		return E_NOTFOUND;
	}
	b->flow = e->flow;
	b->contact = slice_make(e->contact, e->clen);
	b->uri = slice_make(e->contact + e->uoff, e->ulen);
	b->expires_ms = e->expires_ms;
	return 0;
}

size_t
registrar_expire(struct registrar *r, uint64_t now_ms)
{
	size_t i, n = 0;

	for (i = 0; i < REG_BUCKETS; i++) {
		struct ent **pp = &r->b[i];
		while (*pp != NULL) {
			struct ent *e = *pp;
			if (e->expires_ms <= now_ms) {
				*pp = e->next;
				ent_free(e);
				r->n--;
				n++;
			} else
				pp = &e->next;
		}
	}
	return n;
}

size_t
registrar_count(const struct registrar *r)
{
	return r->n;
}
