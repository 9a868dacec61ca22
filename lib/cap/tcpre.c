/* tcpre.c - TCP reassembly of one direction of a captured connection. */
#include <stdlib.h>
#include <string.h>

#include "cap/tcpre.h"

struct seg {
	struct seg *next;
	uint32_t seq;
	size_t len;
	uint8_t data[];
};

struct tcpre {
	int started;
	uint32_t next;
	struct seg *held;	/* sorted by seq (relative to next) */
	size_t held_bytes, nheld, max_held;
	struct tcpre_stats st;
};

struct tcpre *
tcpre_new(size_t max_held)
{
	struct tcpre *r = calloc(1, sizeof(*r));

	if (r != NULL)
		r->max_held = max_held;
	return r;
}

void
tcpre_free(struct tcpre *r)
{
	struct seg *s, *n;

	if (r == NULL)
		return;
	for (s = r->held; s != NULL; s = n) {
		n = s->next;
		free(s);
	}
	free(r);
}

uint32_t
tcpre_next(const struct tcpre *r)
{
	return r->next;
}

int
tcpre_started(const struct tcpre *r)
{
	return r->started;
}

size_t
tcpre_held(const struct tcpre *r)
{
	return r->held_bytes;
}

void
tcpre_stats(const struct tcpre *r, struct tcpre_stats *s)
{
	*s = r->st;
}

/* Deliver the part of [seq, seq+len) at or after next. */
static void
deliver(struct tcpre *r, uint32_t seq, const uint8_t *p, size_t len,
    tcpre_fn fn, void *arg)
{
	uint32_t skip = r->next - seq;

	if ((int32_t)skip < 0)
		return;		/* callers never pass data ahead of next */
	if (skip >= len) {
		r->st.dup += len;
		return;
	}
	r->st.dup += skip;
	p += skip;
	len -= skip;
	r->next += (uint32_t)len;
	r->st.delivered += len;
	fn(arg, p, len);
}

/* Deliver the held segments that now join the stream. */
static void
drain(struct tcpre *r, tcpre_fn fn, void *arg)
{
	struct seg *s;

	while ((s = r->held) != NULL && (int32_t)(s->seq - r->next) <= 0) {
		r->held = s->next;
		r->held_bytes -= s->len;
		r->nheld--;
		deliver(r, s->seq, s->data, s->len, fn, arg);
		free(s);
	}
}

/* Give up the hole before the first held segment. */
static void
skip_gap(struct tcpre *r, tcpre_fn fn, void *arg)
{
	uint32_t gap;

	if (r->held == NULL)
		return;
	gap = r->held->seq - r->next;
	if ((int32_t)gap > 0) {
		r->st.gaps++;
		r->st.gap_bytes += gap;
		r->next = r->held->seq;
		fn(arg, NULL, gap);
	}
	drain(r, fn, arg);
}

static int
hold(struct tcpre *r, uint32_t seq, struct slice data)
{
	struct seg *s, **pp;

	if ((s = malloc(sizeof(*s) + data.len)) == NULL)
		return E_NOMEM;
	s->seq = seq;
	s->len = data.len;
	memcpy(s->data, data.p, data.len);
	for (pp = &r->held; *pp != NULL &&
	    (int32_t)((*pp)->seq - r->next) <= (int32_t)(seq - r->next);
	    pp = &(*pp)->next)
		;
	s->next = *pp;
	*pp = s;
	r->held_bytes += data.len;
	r->nheld++;
	if (r->held_bytes > r->st.held_max)
		r->st.held_max = r->held_bytes;
	return 0;
}

int
tcpre_add(struct tcpre *r, uint32_t seq, int syn, struct slice data,
    tcpre_fn fn, void *arg)
{
	int e;

	if (syn) {
		seq++;
		if (!r->started) {
			r->started = 1;
			r->next = seq;
		}
	}
	if (data.len == 0)
		return 0;
	if (!r->started) {	/* the capture began mid-connection */
		r->started = 1;
		r->next = seq;
	}
	if ((int32_t)(seq - r->next) <= 0) {
		deliver(r, seq, data.p, data.len, fn, arg);
		drain(r, fn, arg);
		return 0;
	}
	/* ahead of the stream: hold it, within the caps */
	while (r->held != NULL && (r->held_bytes + data.len > r->max_held ||
	    r->nheld >= TCPRE_MAX_SEGS))
		skip_gap(r, fn, arg);
	if ((int32_t)(seq - r->next) <= 0) {	/* the gap reached it */
		deliver(r, seq, data.p, data.len, fn, arg);
		drain(r, fn, arg);
		return 0;
	}
	if (data.len > r->max_held) {
		/* alone too big to hold: it starts the stream anew */
		r->st.gaps++;
		r->st.gap_bytes += seq - r->next;
		fn(arg, NULL, seq - r->next);
		r->next = seq;
		deliver(r, seq, data.p, data.len, fn, arg);
		return 0;
	}
	if ((e = hold(r, seq, data)) != 0)
		return e;
	return 0;
}

void
tcpre_flush(struct tcpre *r, tcpre_fn fn, void *arg)
{
	while (r->held != NULL)
		skip_gap(r, fn, arg);
}
