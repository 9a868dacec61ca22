/* metrics.c - counters and gauges in the Prometheus text exposition format. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/metrics.h"

struct metrics {
	struct {
		metrics_collect_fn *fn;
		void *arg;
	} c[METRICS_COLLECTORS_MAX];
	size_t n;
};

struct metrics_out {
	struct buf *b;
	int err;
	const char *family;		/* the current one, or NULL */
	enum metrics_kind kind;
	const char *seen[METRICS_FAMILIES_MAX];
	size_t nseen;
};

struct metrics *
metrics_new(void)
{
	return calloc(1, sizeof(struct metrics));
}

void
metrics_free(struct metrics *m)
{
	free(m);
}

int
metrics_add(struct metrics *m, metrics_collect_fn *fn, void *arg)
{
	if (m->n == METRICS_COLLECTORS_MAX)
		return E_LIMIT;
	m->c[m->n].fn = fn;
	m->c[m->n].arg = arg;
	m->n++;
	return 0;
}

static int
name_ok(const char *s, int colon)
{
	if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' ||
		    (colon && *s == ':')))
			return 0;
	return 1;
}

static void
fail(struct metrics_out *o, int e)
{
	if (o->err == 0)
		o->err = e;
}

static void
put(struct metrics_out *o, const char *s)
{
	if (o->err == 0 && buf_append_cstr(o->b, s) != 0)
		fail(o, E_BIG);
}

/* HELP text: backslash and newline escaped. */
static void
put_escaped(struct metrics_out *o, const char *s, int quote)
{
	for (; *s != '\0' && o->err == 0; s++) {
		const char *e = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" :
		    quote && *s == '"' ? "\\\"" : NULL;

		if (e != NULL)
			put(o, e);
		else if (buf_append_u8(o->b, (uint8_t)*s) != 0)
			fail(o, E_BIG);
	}
}

void
metrics_family(struct metrics_out *o, const char *name,
    enum metrics_kind kind, const char *help)
{
	size_t n = name != NULL ? strlen(name) : 0;

	if (!name_ok(name, 1) || (kind == METRICS_COUNTER &&
	    (n < 6 || strcmp(name + n - 6, "_total") != 0)) ||
	    (kind == METRICS_HISTOGRAM && n >= 6 &&
	    strcmp(name + n - 6, "_total") == 0)) {
		fail(o, E_INVAL);
		return;
	}
	for (size_t i = 0; i < o->nseen; i++)
		if (strcmp(o->seen[i], name) == 0) {
			fail(o, E_INVAL);
			return;
		}
	if (o->nseen == METRICS_FAMILIES_MAX) {
		fail(o, E_LIMIT);
		return;
	}
	o->seen[o->nseen++] = name;
	o->family = name;
	o->kind = kind;
	put(o, "# HELP ");
	put(o, name);
	put(o, " ");
	put_escaped(o, help != NULL ? help : "", 0);
	put(o, "\n# TYPE ");
	put(o, name);
	put(o, kind == METRICS_COUNTER ? " counter\n" :
	    kind == METRICS_GAUGE ? " gauge\n" : " histogram\n");
}

static void
labels(struct metrics_out *o, va_list ap)
{
	const char *k;
	int first = 1;

	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);

		if (!name_ok(k, 0) || v == NULL) {
			fail(o, E_INVAL);
			return;
		}
		put(o, first ? "{" : ",");
		put(o, k);
		put(o, "=\"");
		put_escaped(o, v, 1);
		put(o, "\"");
		first = 0;
	}
	if (!first)
		put(o, "}");
}

void
metrics_sample(struct metrics_out *o, uint64_t v, ...)
{
	va_list ap;

	if (o->family == NULL || o->kind == METRICS_HISTOGRAM) {
		fail(o, E_INVAL);
		return;
	}
	put(o, o->family);
	va_start(ap, v);
	labels(o, ap);
	va_end(ap);
	if (o->err == 0 && buf_printf(o->b, " %llu\n",
	    (unsigned long long)v) != 0)
		fail(o, E_BIG);
}

void
metrics_sample_f(struct metrics_out *o, double v, ...)
{
	va_list ap;

	if (o->family == NULL || o->kind == METRICS_HISTOGRAM) {
		fail(o, E_INVAL);
		return;
	}
	put(o, o->family);
	va_start(ap, v);
	labels(o, ap);
	va_end(ap);
	if (o->err == 0 && buf_printf(o->b, " %.9g\n", v) != 0)
		fail(o, E_BIG);
}

void
metrics_histogram(struct metrics_out *o, const double *le,
    const uint64_t *cum, size_t n, uint64_t count, double sum)
{
	const char *f = o->family;

	if (f == NULL || o->kind != METRICS_HISTOGRAM) {
		fail(o, E_INVAL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if ((i > 0 && (le[i] <= le[i - 1] || cum[i] < cum[i - 1])) ||
		    cum[i] > count) {
			fail(o, E_INVAL);
			return;
		}
		if (o->err == 0 && buf_printf(o->b, "%s_bucket{le=\"%.9g\"} "
		    "%llu\n", f, le[i], (unsigned long long)cum[i]) != 0)
			fail(o, E_BIG);
	}
	if (o->err == 0 && buf_printf(o->b, "%s_bucket{le=\"+Inf\"} %llu\n"
	    "%s_sum %.9g\n%s_count %llu\n", f, (unsigned long long)count, f,
	    sum, f, (unsigned long long)count) != 0)
		fail(o, E_BIG);
}

int
metrics_render(struct metrics *m, struct buf *out)
{
	struct metrics_out o;

	memset(&o, 0, sizeof(o));
	o.b = out;
	for (size_t i = 0; i < m->n && o.err == 0; i++) {
		o.family = NULL;
		m->c[i].fn(m->c[i].arg, &o);
	}
	return o.err;
}

int
metrics_http(void *arg, struct slice path, struct buf *body,
    const char **ctype)
{
	if (!slice_eq_cstr(path, "/metrics"))
		return 404;
	*ctype = "text/plain; version=0.0.4; charset=utf-8";
	return metrics_render(arg, body) == 0 ? 200 : 500;
}
