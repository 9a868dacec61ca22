/* dialog.c - the dialogs that cross the border, to end them for a lost flow. */
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "sip/dialog.h"

#define BUCKETS 4096
#define MAX_ROUTE 16		/* route set entries beyond us */
#define MAX_FIELD 2048		/* one URI, tag or Call-ID */

struct str {
	char *p;
	size_t len;
};

struct dialog {
	struct str call_id;
	struct str out_tag, in_tag;	/* in_tag empty: early */
	struct str out_uri, in_uri;
	struct str target;		/* the inside party's Contact URI */
	struct str route[MAX_ROUTE];
	size_t nroute;
	uint32_t out_cseq;		/* last from the outside party, 0: none */
	uint32_t invite_cseq;		/* of the initial INVITE */
	int outside_uac;		/* the outside party sent the INVITE */
	int confirmed;
	uint64_t flow;
	uint64_t deadline_ms;
	struct dialog *cnext;		/* Call-ID chain */
	struct dialog *fnext;		/* flow chain */
};

struct dialog_table {
	struct dialog_conf conf;
	size_t n, nconfirmed;
	struct dialog *by_cid[BUCKETS];
	struct dialog *by_flow[BUCKETS];
};

/* The parts of a message we look at. */
struct view {
	struct sip_addr from, to;
	struct slice from_tag, to_tag;
	int has_to_tag;
};

static unsigned
hash_slice(struct slice s)
{
	return (unsigned)(hash64_slice(HASH64_INIT, s) % BUCKETS);
}

static unsigned
hash_flow(uint64_t f)
{
	return (unsigned)((f ^ (f >> 29)) * 0x9e3779b97f4a7c15ull >> 40) %
	    BUCKETS;
}

static struct slice
sl(const struct str *s)
{
	return slice_make(s->p, s->len);
}

static int
str_set(struct str *s, struct slice v)
{
	char *p;

	if (v.len > MAX_FIELD)
		return E_BIG;
	/* These go into a BYE of ours: one header line each. */
	if (slice_chr(v, '\r') >= 0 || slice_chr(v, '\n') >= 0 ||
	    slice_chr(v, '\0') >= 0)
		return E_SYNTAX;
	if ((p = malloc(v.len + 1)) == NULL)
		return E_NOMEM;
	if (v.len > 0)
		memcpy(p, v.p, v.len);
	p[v.len] = '\0';
	free(s->p);
	s->p = p;
	s->len = v.len;
	return 0;
}

/* No byte of `bad` in `v`. */
static int
clean(struct slice v, const char *bad)
{
	size_t i;

	for (i = 0; i < v.len; i++)
		if (v.p[i] < 0x21 || v.p[i] == 0x7f || strchr(bad, v.p[i]))
			return 0;
	return v.len > 0;
}

/* A URI we may write between <> and on a request line. */
static int
uri_ok(struct slice v)
{
	struct sip_uri u;

	return clean(v, "<>\"") && sip_uri_parse(v, &u) == 0;
}

/* A tag or Call-ID: one word. */
static int
word_ok(struct slice v)
{
	return clean(v, "<>\",;");
}

static void
str_free(struct str *s)
{
	free(s->p);
	s->p = NULL;
	s->len = 0;
}

static void
dlg_free(struct dialog *d)
{
	size_t i;

	str_free(&d->call_id);
	str_free(&d->out_tag);
	str_free(&d->in_tag);
	str_free(&d->out_uri);
	str_free(&d->in_uri);
	str_free(&d->target);
	for (i = 0; i < d->nroute; i++)
		str_free(&d->route[i]);
	free(d);
}

static void
unlink_dlg(struct dialog_table *t, struct dialog *d)
{
	struct dialog **pp;

	for (pp = &t->by_cid[hash_slice(sl(&d->call_id))]; *pp != NULL;
	    pp = &(*pp)->cnext)
		if (*pp == d) {
			*pp = d->cnext;
			break;
		}
	for (pp = &t->by_flow[hash_flow(d->flow)]; *pp != NULL;
	    pp = &(*pp)->fnext)
		if (*pp == d) {
			*pp = d->fnext;
			break;
		}
	t->n--;
	if (d->confirmed)
		t->nconfirmed--;
}

static void
forget(struct dialog_table *t, struct dialog *d)
{
	unlink_dlg(t, d);
	dlg_free(d);
}

static void
link_dlg(struct dialog_table *t, struct dialog *d)
{
	unsigned c = hash_slice(sl(&d->call_id)), f = hash_flow(d->flow);

	d->cnext = t->by_cid[c];
	t->by_cid[c] = d;
	d->fnext = t->by_flow[f];
	t->by_flow[f] = d;
	t->n++;
	if (d->confirmed)
		t->nconfirmed++;
}

struct dialog_table *
dialog_table_new(const struct dialog_conf *conf, int *err)
{
	struct dialog_table *t;

	*err = E_INVAL;
	if (conf == NULL || conf->is_us == NULL)
		return NULL;
	*err = E_NOMEM;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->conf = *conf;
	if (t->conf.max == 0)
		t->conf.max = 100000;
	if (t->conf.early_s == 0)
		t->conf.early_s = 300;
	if (t->conf.idle_s == 0)
		t->conf.idle_s = 86400;
	*err = 0;
	return t;
}

void
dialog_table_free(struct dialog_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < BUCKETS; i++)
		while (t->by_cid[i] != NULL)
			forget(t, t->by_cid[i]);
	free(t);
}

/* From, To, their tags; E_SYNTAX without them or a Call-ID. */
static int
view_of(const struct sip_msg *m, struct view *v)
{
	const struct sip_hdr *f = sip_find(m, SIP_H_FROM);
	const struct sip_hdr *to = sip_find(m, SIP_H_TO);

	memset(v, 0, sizeof(*v));
	if (f == NULL || to == NULL || m->call_id.len == 0 ||
	    m->call_id.len > MAX_FIELD ||
	    sip_addr_parse(f->value, &v->from) != 0 ||
	    sip_addr_parse(to->value, &v->to) != 0 ||
	    m->from_tag.len == 0)
		return E_SYNTAX;
	v->from_tag = m->from_tag;
	v->to_tag = m->to_tag;
	v->has_to_tag = m->to_tag.len > 0;
	/* All of these may go into a BYE of ours. */
	if (!word_ok(m->call_id) || !word_ok(v->from_tag) ||
	    (v->has_to_tag && !word_ok(v->to_tag)) || !uri_ok(v->from.uri) ||
	    !uri_ok(v->to.uri))
		return E_SYNTAX;
	return 0;
}

/* The first Contact URI of `m` (0), or E_NOTFOUND. */
static int
contact_of(const struct sip_msg *m, struct slice *uri)
{
	const struct sip_hdr *h = sip_find(m, SIP_H_CONTACT);
	struct slice cur, v;
	struct sip_addr a;

	if (h == NULL)
		return E_NOTFOUND;
	cur = h->value;
	if (!sip_value_next(&cur, &v) || sip_addr_parse(v, &a) != 0 ||
	    !uri_ok(a.uri))
		return E_NOTFOUND;
	*uri = a.uri;
	return 0;
}

/*
 * The Record-Route values of `m` in route-set order (reversed for a UAC,
 * `reverse`), into `v` (at most `max`): *n values, *us 1 if one of them
 * is ours. E_BIG: more than `max`.
 */
static int
record_routes(struct dialog_table *t, const struct sip_msg *m, int reverse,
    uint64_t flow, struct slice *v, size_t max, size_t *n, int *us)
{
	long i = -1;
	size_t k, last_us = 0;
	struct slice cur, val;
	struct sip_addr a;

	*n = 0;
	*us = 0;
	while ((i = sip_next(m, SIP_H_RECORD_ROUTE, (size_t)(i + 1))) >= 0) {
		cur = m->hdr[i].value;
		while (sip_value_next(&cur, &val)) {
			if (*n == max)
				return E_BIG;
			if (sip_addr_parse(val, &a) != 0 || !a.bracketed ||
			    !uri_ok(a.uri))
				return E_SYNTAX;
			v[(*n)++] = val;
		}
	}
	if (reverse)
		for (k = 0; k < *n / 2; k++) {
			val = v[k];
			v[k] = v[*n - 1 - k];
			v[*n - 1 - k] = val;
		}
	/* The inside part: what follows our last own entry. */
	for (k = 0; k < *n; k++)
		if (sip_addr_parse(v[k], &a) == 0 &&
		    t->conf.is_us(t->conf.arg, a.uri, flow)) {
			*us = 1;
			last_us = k + 1;
		}
	if (*us) {
		memmove(v, v + last_us, (*n - last_us) * sizeof(*v));
		*n -= last_us;
	}
	return 0;
}

static int
set_route(struct dialog *d, const struct slice *v, size_t n)
{
	size_t i;
	int r;

	for (i = 0; i < d->nroute; i++)
		str_free(&d->route[i]);
	d->nroute = 0;
	for (i = 0; i < n; i++) {
		if ((r = str_set(&d->route[i], v[i])) != 0)
			return r;
		d->nroute++;
	}
	return 0;
}

/* The entry of an in-dialog message: outside and inside tags given. */
static struct dialog *
find(struct dialog_table *t, struct slice cid, struct slice out_tag,
    struct slice in_tag)
{
	struct dialog *d;

	for (d = t->by_cid[hash_slice(cid)]; d != NULL; d = d->cnext)
		if (d->confirmed && slice_eq(sl(&d->call_id), cid) &&
		    slice_eq(sl(&d->out_tag), out_tag) &&
		    slice_eq(sl(&d->in_tag), in_tag))
			return d;
	return NULL;
}

/*
 * An entry of the initial INVITE (CSeq `cseq`) of the UAC with tag
 * `uac_tag`, on the side `outside_uac`: an early one first.
 */
static struct dialog *
find_invite(struct dialog_table *t, struct slice cid, struct slice uac_tag,
    int outside_uac, uint32_t cseq)
{
	struct dialog *d, *any = NULL;

	for (d = t->by_cid[hash_slice(cid)]; d != NULL; d = d->cnext) {
		if (d->outside_uac != outside_uac || d->invite_cseq != cseq ||
		    !slice_eq(sl(&d->call_id), cid) ||
		    !slice_eq(outside_uac ? sl(&d->out_tag) : sl(&d->in_tag),
		    uac_tag))
			continue;
		if (!d->confirmed)
			return d;
		any = d;
	}
	return any;
}

static struct dialog *
dlg_new(struct dialog_table *t)
{
	if (t->n >= t->conf.max)
		return NULL;
	return calloc(1, sizeof(struct dialog));
}

/* An initial INVITE: a new early entry (a retransmission: nothing). */
static int
initial_invite(struct dialog_table *t, const struct sip_msg *m,
    const struct view *v, int from_outside, uint64_t flow, uint64_t now_ms)
{
	struct slice rr[MAX_ROUTE + 8], target;
	struct dialog *d;
	size_t nrr = 0;
	int r, us;

	if (find_invite(t, m->call_id, v->from_tag, from_outside, m->cseq)
	    != NULL)
		return 0;
	if (!from_outside) {
		/* Bob's route set, as Alice will have it, beyond us. */
		if (contact_of(m, &target) != 0)
			return E_SYNTAX;
		if ((r = record_routes(t, m, 0, flow, rr, MAX_ROUTE, &nrr, &us))
		    != 0)
			return r;
	}
	if (t->n >= t->conf.max)
		return E_LIMIT;
	if ((d = dlg_new(t)) == NULL)
		return E_NOMEM;
	d->flow = flow;
	d->outside_uac = from_outside;
	d->invite_cseq = m->cseq;
	d->deadline_ms = now_ms + (uint64_t)t->conf.early_s * 1000;
	if (from_outside) {
		d->out_cseq = m->cseq;
		r = str_set(&d->out_tag, v->from_tag);
		if (r == 0)
			r = str_set(&d->out_uri, v->from.uri);
		if (r == 0)
			r = str_set(&d->in_uri, v->to.uri);
	} else {
		r = str_set(&d->in_tag, v->from_tag);
		if (r == 0)
			r = str_set(&d->in_uri, v->from.uri);
		if (r == 0)
			r = str_set(&d->out_uri, v->to.uri);
		if (r == 0)
			r = str_set(&d->target, target);
		if (r == 0)
			r = set_route(d, rr, nrr);
	}
	if (r == 0)
		r = str_set(&d->call_id, m->call_id);
	if (r != 0) {
		dlg_free(d);
		return r;
	}
	link_dlg(t, d);
	return 0;
}

/* CANCEL: the early entries of that INVITE go. */
static void
cancel(struct dialog_table *t, const struct sip_msg *m, const struct view *v,
    int from_outside)
{
	struct dialog *d, *next;

	for (d = t->by_cid[hash_slice(m->call_id)]; d != NULL; d = next) {
		next = d->cnext;
		if (!d->confirmed && d->outside_uac == from_outside &&
		    d->invite_cseq == m->cseq &&
		    slice_eq(sl(&d->call_id), m->call_id) &&
		    slice_eq(from_outside ? sl(&d->out_tag) : sl(&d->in_tag),
		    v->from_tag))
			forget(t, d);
	}
}

int
dialog_request(struct dialog_table *t, const struct sip_msg *m,
    int from_outside, uint64_t flow, uint64_t now_ms)
{
	struct view v;
	struct dialog *d;
	struct slice target;
	int r;

	if (!m->is_request)
		return E_INVAL;
	if ((r = view_of(m, &v)) != 0)
		return r;
	if (!v.has_to_tag) {
		if (slice_eq_cstr(m->method, "INVITE"))
			return initial_invite(t, m, &v, from_outside, flow,
			    now_ms);
		if (slice_eq_cstr(m->method, "CANCEL"))
			cancel(t, m, &v, from_outside);
		return 0;
	}
	d = from_outside ? find(t, m->call_id, v.from_tag, v.to_tag) :
	    find(t, m->call_id, v.to_tag, v.from_tag);
	if (d == NULL)
		return 0;
	if (slice_eq_cstr(m->method, "BYE")) {
		forget(t, d);
		return 0;
	}
	d->deadline_ms = now_ms + (uint64_t)t->conf.idle_s * 1000;
	if (from_outside) {
		if (!slice_eq_cstr(m->method, "ACK") &&
		    !slice_eq_cstr(m->method, "CANCEL") && m->cseq > d->out_cseq)
			d->out_cseq = m->cseq;
		return 0;
	}
	/* RFC 3261 §12.2.2: a target refresh request from the inside
	 * party gives its new remote target. */
	if ((slice_eq_cstr(m->method, "INVITE") ||
	    slice_eq_cstr(m->method, "UPDATE")) && contact_of(m, &target) == 0)
		return str_set(&d->target, target);
	return 0;
}

/* Confirm `d` (or a copy of it, for a second fork) with this 2xx. */
static int
confirm(struct dialog_table *t, struct dialog *d, const struct sip_msg *m,
    const struct view *v, uint64_t now_ms)
{
	struct slice rr[MAX_ROUTE + 8], target = SLICE_NULL;
	struct dialog *c = d;
	size_t nrr = 0, i;
	int r, us;

	r = record_routes(t, m, d->outside_uac, d->flow, rr, MAX_ROUTE, &nrr,
	    &us);
	if (r == 0 && !us)
		r = E_UNSUPPORTED;	/* in-dialog requests bypass us */
	if (r == 0 && d->outside_uac && contact_of(m, &target) != 0)
		r = E_SYNTAX;
	if (r != 0) {
		/* Not a dialog we can end: do not keep it early either. */
		if (!d->confirmed)
			forget(t, d);
		return r;
	}
	if (d->confirmed) {
		/* Another fork answered too: a dialog of its own. */
		if ((c = dlg_new(t)) == NULL)
			return t->n >= t->conf.max ? E_LIMIT : E_NOMEM;
		c->flow = d->flow;
		c->outside_uac = d->outside_uac;
		c->invite_cseq = d->invite_cseq;
		c->out_cseq = d->out_cseq;
		r = str_set(&c->call_id, sl(&d->call_id));
		if (r == 0)
			r = str_set(&c->out_uri, sl(&d->out_uri));
		if (r == 0)
			r = str_set(&c->in_uri, sl(&d->in_uri));
		if (r == 0)
			r = str_set(d->outside_uac ? &c->out_tag : &c->in_tag,
			    d->outside_uac ? sl(&d->out_tag) : sl(&d->in_tag));
		if (r == 0 && !d->outside_uac)
			r = str_set(&c->target, sl(&d->target));
		for (i = 0; r == 0 && i < d->nroute; i++) {
			r = str_set(&c->route[i], sl(&d->route[i]));
			c->nroute++;
		}
		if (r != 0) {
			dlg_free(c);
			return r;
		}
	} else
		unlink_dlg(t, c);
	/* The UAS's tag: the To tag of its 2xx. */
	if (c->outside_uac) {
		r = str_set(&c->in_tag, v->to_tag);
		if (r == 0)
			r = str_set(&c->target, target);
		if (r == 0)
			r = set_route(c, rr, nrr);
	} else
		r = str_set(&c->out_tag, v->to_tag);
	if (r != 0) {
		dlg_free(c);
		return r;
	}
	c->confirmed = 1;
	c->deadline_ms = now_ms + (uint64_t)t->conf.idle_s * 1000;
	link_dlg(t, c);
	return 0;
}

int
dialog_response(struct dialog_table *t, const struct sip_msg *m,
    int from_outside, uint64_t flow, uint64_t now_ms)
{
	struct view v;
	struct dialog *d;
	struct slice target;
	int r, outside_uac = !from_outside;
	int invite = slice_eq_cstr(m->cseq_method, "INVITE");

	(void)flow;
	if (m->is_request)
		return E_INVAL;
	if (m->status < 200 || (r = view_of(m, &v)) != 0 || !v.has_to_tag)
		return 0;
	/* From: the UAC of the request; To: the UAS. */
	d = outside_uac ? find(t, m->call_id, v.from_tag, v.to_tag) :
	    find(t, m->call_id, v.to_tag, v.from_tag);
	if (d != NULL && (d->outside_uac != outside_uac || !invite ||
	    m->cseq != d->invite_cseq)) {
		/* A response in the dialog. */
		if (m->status == 481 || m->status == 408) {
			forget(t, d);	/* RFC 3261 §12.2.1.2 */
			return 0;
		}
		/* The 2xx to the outside party's target refresh. */
		if (outside_uac && m->status < 300 && (invite ||
		    slice_eq_cstr(m->cseq_method, "UPDATE")) &&
		    contact_of(m, &target) == 0)
			return str_set(&d->target, target);
		return 0;
	}
	if (d != NULL || !invite)
		return 0;	/* a retransmitted 2xx */
	d = find_invite(t, m->call_id, v.from_tag, outside_uac, m->cseq);
	if (d == NULL)
		return 0;
	if (m->status >= 300) {
		/* The initial INVITE failed (on this fork). */
		if (!d->confirmed)
			forget(t, d);
		return 0;
	}
	return confirm(t, d, m, &v, now_ms);
}

size_t
dialog_flow_lost(struct dialog_table *t, uint64_t flow, dialog_lost_fn *fn,
    void *arg)
{
	struct dialog **pp = &t->by_flow[hash_flow(flow)], *d;
	size_t n = 0;

	while ((d = *pp) != NULL) {
		if (d->flow != flow) {
			pp = &d->fnext;
			continue;
		}
		if (d->confirmed) {
			n++;
			if (fn != NULL)
				fn(arg, d);
		}
		forget(t, d);	/* unlinks d from *pp */
	}
	return n;
}

int
dialog_bye(const struct dialog *d, const char *via, struct buf *out)
{
	size_t i;
	int r;

	if ((r = buf_printf(out, "BYE %s SIP/2.0\r\nVia: %s\r\n"
	    "Max-Forwards: 70\r\n", d->target.p, via)) != 0)
		return r;
	for (i = 0; i < d->nroute; i++)
		if ((r = buf_printf(out, "Route: %s\r\n", d->route[i].p)) != 0)
			return r;
	return buf_printf(out, "From: <%s>;tag=%s\r\nTo: <%s>;tag=%s\r\n"
	    "Call-ID: %s\r\nCSeq: %llu BYE\r\n"
	    "Reason: Q.850;cause=41;text=\"outside flow lost\"\r\n"
	    "Content-Length: 0\r\n\r\n", d->out_uri.p, d->out_tag.p,
	    d->in_uri.p, d->in_tag.p, d->call_id.p,
	    (unsigned long long)d->out_cseq + 1);
}

struct slice
dialog_next_hop(const struct dialog *d, int *routed)
{
	struct sip_addr a;

	*routed = 0;
	if (d->nroute > 0 && sip_addr_parse(sl(&d->route[0]), &a) == 0) {
		*routed = 1;
		return a.uri;
	}
	return sl(&d->target);
}

struct slice
dialog_call_id(const struct dialog *d)
{
	return sl(&d->call_id);
}

size_t
dialog_expire(struct dialog_table *t, uint64_t now_ms)
{
	struct dialog *d, *next;
	size_t i, n = 0;

	for (i = 0; i < BUCKETS; i++)
		for (d = t->by_cid[i]; d != NULL; d = next) {
			next = d->cnext;
			if (now_ms >= d->deadline_ms) {
				forget(t, d);
				n++;
			}
		}
	return n;
}

size_t
dialog_count(const struct dialog_table *t)
{
	return t->n;
}

size_t
dialog_confirmed(const struct dialog_table *t)
{
	return t->nconfirmed;
}
