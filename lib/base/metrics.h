/* metrics.h - counters and gauges in the Prometheus text exposition format. */
#ifndef SBK_METRICS_H
#define SBK_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/*
 * A registry of collectors. Nothing is counted here: at each scrape
 * (metrics_render()) every collector reads the counters its module keeps
 * anyway and writes them as families of samples, so a metric costs
 * nothing between scrapes. The output is the text format 0.0.4:
 *
 *   # HELP sbckit_packets_total Packets received, by what became of them.
 *   # TYPE sbckit_packets_total counter
 *   sbckit_packets_total{side="outside",component="rtp",result="auth"} 3
 *
 * Enforced here: metric and label names match [a-zA-Z_:][a-zA-Z0-9_:]*
 * (labels without ':'), a counter's name ends in "_total", a family is
 * written once per scrape and its samples follow its header, label values
 * are escaped (\\, \", \n). A breach fails the render (E_INVAL), so a
 * bad collector shows in tests, not on a Prometheus server.
 *
 * Ownership: the registry borrows the collectors' `arg`s; it owns
 * nothing else. Single-threaded, like the loop it runs on.
 */
struct metrics;
struct metrics_out;

enum metrics_kind { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM };

typedef void metrics_collect_fn(void *arg, struct metrics_out *o);

#define METRICS_COLLECTORS_MAX 16
#define METRICS_FAMILIES_MAX 128

struct metrics *metrics_new(void) WUR;
void metrics_free(struct metrics *m);
/* Add a collector, called in the order added. E_LIMIT past the max. */
int metrics_add(struct metrics *m, metrics_collect_fn *fn, void *arg) WUR;
/*
 * Append one scrape to `out`. 0, E_BIG (`out`'s cap; `out` then holds
 * a cut scrape: do not serve it), E_INVAL (a collector broke a rule).
 */
int metrics_render(struct metrics *m, struct buf *out) WUR;

/* From a collector: start a family (its samples follow). */
void metrics_family(struct metrics_out *o, const char *name,
    enum metrics_kind kind, const char *help);
/*
 * A sample of the current family: label name and value pairs, then NULL.
 * metrics_sample(o, 7, "side", "outside", "result", "auth", NULL).
 */
void metrics_sample(struct metrics_out *o, uint64_t v, ...)
    __attribute__((sentinel));
/* The same with a fractional value (seconds, ratios). */
void metrics_sample_f(struct metrics_out *o, double v, ...)
    __attribute__((sentinel));

/*
 * The samples of a METRICS_HISTOGRAM family (no labels): `n` buckets,
 * `cum[i]` the observations <= `le[i]` (cumulative, `le` increasing),
 * then +Inf (= count), NAME_sum and NAME_count.
 */
void metrics_histogram(struct metrics_out *o, const double *le,
    const uint64_t *cum, size_t n, uint64_t count, double sum);

/*
 * An httpd_fn (lib/base/httpd; arg: the registry): GET /metrics is a
 * scrape, 500 if it fails, 404 for any other path.
 */
int metrics_http(void *arg, struct slice path, struct buf *body,
    const char **ctype);

#endif
