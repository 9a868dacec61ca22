/* registrar.c - a small built-in SIP registrar: AoR -> flow bindings. */
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "sip/registrar.h"

struct binding {
	char *contact;		/* the Contact value, NUL-terminated copy */
	size_t clen;
	size_t uoff, ulen;	/* URI inside contact */
	char *callid;
	size_t cidlen;
	uint32_t cseq;
	uint64_t flow, expires_ms, order;
	struct binding *next;
};

struct aor {
	char *name;
	size_t len;
	struct binding *b;	/* newest (re)registration first */
	size_t nb;
	struct aor *next;
};

#define REG_BUCKETS 4096
#define DEFAULT_EXPIRES 3600

struct registrar {
	struct aor *b[REG_BUCKETS];
	size_t n, max;		/* bindings */
	uint64_t order;
	registrar_live_fn *live;	/* NULL: every flow is live */
	void *live_arg;
};

/* One Contact of a REGISTER, checked before anything changes. */
struct op {
	struct slice value, uri, params;
	uint64_t exp_s;
	struct binding *old;	/* the binding with this URI, if any */
	int dup;		/* the same URI came earlier in this REGISTER */
};

static unsigned
hash(struct slice s)
{
	return hash32_slice(HASH32_INIT, s) % REG_BUCKETS;
}

static struct aor **
aor_find(struct registrar *r, struct slice name)
{
	struct aor **pp = &r->b[hash(name)];

	while (*pp != NULL && !slice_eq(slice_make((*pp)->name,
	    (*pp)->len), name))
		pp = &(*pp)->next;
	return pp;
}

static struct slice
b_uri(const struct binding *b)
{
	return slice_make(b->contact + b->uoff, b->ulen);
}

static void
binding_free(struct binding *b)
{
	free(b->contact);
	free(b->callid);
	free(b);
}

/* Unlink and free binding *pp of `a`. */
static void
binding_drop(struct registrar *r, struct aor *a, struct binding **pp)
{
	struct binding *b = *pp;

	*pp = b->next;
	binding_free(b);
	a->nb--;
	r->n--;
}

/* Free AoR *pp if it holds no binding. */
static void
aor_drop_empty(struct aor **pp)
{
	struct aor *a = *pp;

	if (a == NULL || a->nb > 0)
		return;
	*pp = a->next;
	free(a->name);
	free(a);
}

/* Remove the expired bindings of `a`; returns how many. */
static size_t
aor_expire(struct registrar *r, struct aor *a, uint64_t now_ms)
{
	struct binding **pp = &a->b;
	size_t n = 0;

	while (*pp != NULL) {
		if ((*pp)->expires_ms <= now_ms) {
			binding_drop(r, a, pp);
			n++;
		} else
			pp = &(*pp)->next;
	}
	return n;
}

struct registrar *
registrar_new(size_t max)
{
	struct registrar *r = calloc(1, sizeof(*r));

	if (r != NULL)
		r->max = max;
	return r;
}

void
registrar_free(struct registrar *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < REG_BUCKETS; i++) {
		while (r->b[i] != NULL) {
			struct aor *a = r->b[i];
			while (a->b != NULL)
				binding_drop(r, a, &a->b);
			r->b[i] = a->next;
			free(a->name);
			free(a);
		}
	}
	free(r);
}

static char *
dup_slice(struct slice s)
{
	char *c = malloc(s.len + 1);

	if (c != NULL) {
		if (s.len > 0)
			memcpy(c, s.p, s.len);
		c[s.len] = '\0';
	}
	return c;
}

/* The AoR key of a REGISTER: the To URI's user part (else the URI). */
static int
aor_of(const struct sip_msg *m, struct slice *aor)
{
	const struct sip_hdr *to = sip_find(m, SIP_H_TO);
	struct sip_addr ta;
	struct sip_uri tu;

	if (to == NULL || sip_addr_parse(to->value, &ta) != 0 ||
	    sip_uri_parse(ta.uri, &tu) != 0)
		return E_SYNTAX;
	*aor = tu.user.len > 0 ? tu.user : ta.uri;
	return aor->len > 0 ? 0 : E_SYNTAX;
}

int
registrar_aor(const struct sip_msg *m, struct slice *aor)
{
	return aor_of(m, aor);
}

/* Would this REGISTER (Call-ID, CSeq) be out of order for `b`? */
static int
stale(const struct binding *b, const struct sip_msg *m)
{
	return slice_eq(slice_make(b->callid, b->cidlen), m->call_id) &&
	    m->cseq <= b->cseq;
}

static struct binding *
find_uri(struct aor *a, struct slice uri)
{
	struct binding *b;

	for (b = a != NULL ? a->b : NULL; b != NULL; b = b->next)
		if (slice_eq(b_uri(b), uri))
			return b;
	return NULL;
}

/* Parse the Contacts of `m` into ops[]; *star for "Contact: *". */
static int
parse_ops(const struct sip_msg *m, uint64_t def_s, uint32_t max_s,
    struct op *ops, size_t *nops, int *star)
{
	long i = -1;
	size_t n = 0;

	*star = 0;
	while ((i = sip_next(m, SIP_H_CONTACT, (size_t)(i + 1))) >= 0) {
		struct slice cur = m->hdr[i].value, v, pv;
		while (sip_value_next(&cur, &v)) {
			struct sip_addr a;
			struct op *o;

			if (slice_eq_cstr(v, "*")) {
				*star = 1;
				continue;
			}
			if (n >= REG_MAX_BINDINGS)
				return E_LIMIT;
			if (sip_addr_parse(v, &a) != 0 || a.uri.len == 0)
				return E_SYNTAX;
			o = &ops[n++];
			memset(o, 0, sizeof(*o));
			o->value = v;
			o->uri = a.uri;
			o->params = a.params;
			o->exp_s = def_s;
			if (sip_param(a.params, "expires", &pv, NULL) &&
			    slice_to_u64(pv, 0xffffffffu, &o->exp_s) != 0)
				return E_SYNTAX;
			if (o->exp_s > max_s)
				o->exp_s = max_s;
		}
	}
	*nops = n;
	return 0;
}

/* Create or refresh the binding for `o`. */
static int
apply_op(struct registrar *r, struct aor *a, const struct op *o,
    const struct sip_msg *m, uint64_t flow, uint64_t now_ms)
{
	struct binding *b = find_uri(a, o->uri), **pp;
	char *c, *cid;

	if ((c = dup_slice(o->value)) == NULL ||
	    (cid = dup_slice(m->call_id)) == NULL) {
		free(c);
		return E_NOMEM;
	}
	if (b == NULL) {
		if ((b = calloc(1, sizeof(*b))) == NULL) {
			free(c);
			free(cid);
			return E_NOMEM;
		}
		a->nb++;
		r->n++;
	} else {
		/* Unlink: it goes back in front, as the newest. */
		for (pp = &a->b; *pp != b; pp = &(*pp)->next)
			;
		*pp = b->next;
		free(b->contact);
		free(b->callid);
	}
	b->contact = c;
	b->clen = o->value.len;
	b->uoff = (size_t)(o->uri.p - o->value.p);
	b->ulen = o->uri.len;
	b->callid = cid;
	b->cidlen = m->call_id.len;
	b->cseq = m->cseq;
	b->flow = flow;
	b->expires_ms = now_ms + o->exp_s * 1000;
	b->order = ++r->order;
	b->next = a->b;
	a->b = b;
	return 0;
}

/* One "Contact: <uri>;params;expires=N" line for `b`, as of `now_ms`. */
static int
list_binding(const struct binding *b, uint64_t now_ms, struct buf *out)
{
	struct slice v = slice_make(b->contact, b->clen), span;
	struct sip_addr a;
	const uint8_t *end;
	uint64_t left = (b->expires_ms - now_ms + 999) / 1000;
	int r;

	if (sip_addr_parse(v, &a) != 0)
		return E_SYNTAX;
	end = a.params.p + a.params.len;
	if ((r = buf_printf(out, "Contact: <%.*s>", (int)a.uri.len,
	    (const char *)a.uri.p)) != 0)
		return r;
	if (sip_param(a.params, "expires", NULL, &span)) {
		/* The client's own parameters, but its expires. */
		if ((r = buf_append(out, a.params.p,
		    (size_t)(span.p - a.params.p))) != 0 ||
		    (r = buf_append(out, span.p + span.len,
		    (size_t)(end - (span.p + span.len)))) != 0)
			return r;
	} else if ((r = buf_append_slice(out, a.params)) != 0)
		return r;
	return buf_printf(out, ";expires=%llu\r\n", (unsigned long long)left);
}

void
registrar_set_live(struct registrar *r, registrar_live_fn *live, void *arg)
{
	r->live = live;
	r->live_arg = arg;
}

/*
 * Make room in a full AoR: drop its bindings on dead flows, except those
 * this REGISTER refreshes (ops[].old: they move to its flow). Dead
 * bindings are unroutable, so dropping them before the REGISTER is known
 * to succeed changes nothing a lookup could see.
 */
static void
drop_dead(struct registrar *r, struct aor *a, const struct op *ops,
    size_t nops)
{
	struct binding **bp = &a->b;
	size_t i;

	if (r->live == NULL)
		return;
	while (*bp != NULL) {
		int keep = r->live(r->live_arg, (*bp)->flow);

		for (i = 0; i < nops && !keep; i++)
			if (ops[i].old == *bp)
				keep = 1;
		if (keep)
			bp = &(*bp)->next;
		else
			binding_drop(r, a, bp);
	}
}

int
registrar_register(struct registrar *r, const struct sip_msg *m,
    uint64_t flow, uint64_t now_ms, uint32_t max_s, struct buf *contacts)
{
	struct op ops[REG_MAX_BINDINGS];
	struct slice aor;
	struct aor **pp, *a;
	const struct sip_hdr *eh = sip_find(m, SIP_H_EXPIRES);
	uint64_t def_s = DEFAULT_EXPIRES;
	size_t nops = 0, i, j, adds = 0;
	int star, e;

	if ((e = aor_of(m, &aor)) != 0)
		return e;
	if (eh != NULL && slice_to_u64(eh->value, 0xffffffffu, &def_s) != 0)
		return E_SYNTAX;
	if (def_s > max_s)
		def_s = max_s;
	if ((e = parse_ops(m, def_s, max_s, ops, &nops, &star)) != 0)
		return e;
	/* RFC 3261 §10.2.2: "*" only alone and with Expires: 0. */
	if (star && (nops > 0 || eh == NULL || def_s != 0))
		return E_SYNTAX;
	pp = aor_find(r, aor);
	a = *pp;
	if (a != NULL)
		(void)aor_expire(r, a, now_ms);
	/* Check everything before changing anything. */
	if (star && a != NULL) {
		struct binding *b;
		for (b = a->b; b != NULL; b = b->next)
			if (stale(b, m))
				return E_STATE;
	}
	for (i = 0; i < nops; i++) {
		for (j = 0; j < i; j++)
			if (slice_eq(ops[j].uri, ops[i].uri))
				ops[i].dup = 1;
		ops[i].old = find_uri(a, ops[i].uri);
		if (ops[i].old != NULL && stale(ops[i].old, m))
			return E_STATE;
		if (ops[i].old == NULL && !ops[i].dup && ops[i].exp_s > 0)
			adds++;
	}
	if (adds > 0 && a != NULL && a->nb + adds > REG_MAX_BINDINGS)
		drop_dead(r, a, ops, nops);
	if (adds > 0 && ((a != NULL ? a->nb : 0) + adds > REG_MAX_BINDINGS ||
	    r->n + adds > r->max))
		return E_LIMIT;
	if (a == NULL && adds > 0) {
		if ((a = calloc(1, sizeof(*a))) == NULL ||
		    (a->name = dup_slice(aor)) == NULL) {
			free(a);
			return E_NOMEM;
		}
		a->len = aor.len;
		a->next = *pp;
		*pp = a;
	}
	/* Apply, in order: a later Contact for the same URI wins. */
	if (star && a != NULL)
		while (a->b != NULL)
			binding_drop(r, a, &a->b);
	for (i = 0; i < nops && a != NULL; i++) {
		if (ops[i].exp_s == 0) {
			struct binding **bp = &a->b;
			while (*bp != NULL && !slice_eq(b_uri(*bp), ops[i].uri))
				bp = &(*bp)->next;
			if (*bp != NULL)
				binding_drop(r, a, bp);
		} else if ((e = apply_op(r, a, &ops[i], m, flow, now_ms)) != 0) {
			aor_drop_empty(pp);
			return e;
		}
	}
	if (a != NULL) {
		struct binding *b;
		for (b = a->b; b != NULL; b = b->next)
			if ((e = list_binding(b, now_ms, contacts)) != 0)
				return e;
	}
	aor_drop_empty(pp);
	return 0;
}

int
registrar_lookup(struct registrar *r, struct slice aor, uint64_t now_ms,
    registrar_live_fn *live, void *arg, struct reg_binding *out)
{
	struct aor **pp = aor_find(r, aor), *a = *pp;
	struct binding *b, *best = NULL;

	if (a == NULL)
		return E_NOTFOUND;
	(void)aor_expire(r, a, now_ms);
	if (a->nb == 0) {
		aor_drop_empty(pp);
		return E_NOTFOUND;
	}
	for (b = a->b; b != NULL; b = b->next)
		if ((live == NULL || live(arg, b->flow)) &&
		    (best == NULL || b->order > best->order))
			best = b;
	if (best == NULL)
		return E_STATE;
	out->flow = best->flow;
	out->contact = slice_make(best->contact, best->clen);
	out->uri = b_uri(best);
	out->expires_ms = best->expires_ms;
	out->order = best->order;
	return 0;
}

size_t
registrar_expire(struct registrar *r, uint64_t now_ms)
{
	size_t i, n = 0;

	for (i = 0; i < REG_BUCKETS; i++) {
		struct aor **pp = &r->b[i];
		while (*pp != NULL) {
			n += aor_expire(r, *pp, now_ms);
			if ((*pp)->nb == 0)
				aor_drop_empty(pp);
			else
				pp = &(*pp)->next;
		}
	}
	return n;
}

size_t
registrar_count(const struct registrar *r)
{
	return r->n;
}
