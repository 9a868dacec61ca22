/* sipobs.h - sip-tls-term's metrics: TLS flows and media control. */
#ifndef SBK_SIPOBS_H
#define SBK_SIPOBS_H

struct metrics_out;

/*
 * metrics_collect_fn's (lib/base/metrics) over counters the modules keep
 * anyway; read at scrape time only. proxy_metrics() (sip/proxy.h) has
 * the SIP counters.
 */
/* arg: a struct flow_table: TLS connections open, accepted, handshakes
 * and the closes of the limits. */
void flow_metrics(void *arg, struct metrics_out *o);
/* arg: a struct mediactl: ng requests that failed, deletes, pending. */
void mediactl_metrics(void *arg, struct metrics_out *o);

#endif
