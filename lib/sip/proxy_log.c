/* proxy_log.c - the proxy's trace: a line per SIP message in and out. */
#include <stdio.h>
#include <string.h>

#include "sip/proxy_int.h"

/*
 * One line per message at LOG_DEBUG (the tools' -v; their default is
 * LOG_INFO, which stays quiet): the direction, the face and the peer, the
 * method or status, Call-ID and CSeq. A person follows a call with
 * `grep call-id=...`. Nothing is formatted when the level is off: this is
 * the signalling path.
 */
static void
trace(struct proxy *px, const char *dir, int outside, int tcp,
    const char *peer, const struct sip_msg *m)
{
	char st[16];
	struct slice what = m->method;

	if (!m->is_request) {
		int n = snprintf(st, sizeof(st), "%d", m->status);

		what = slice_make(st, n > 0 ? (size_t)n : 0);
	}
	log_msg(px->lg, LOG_DEBUG, "sip: %s %s%s %s %.*s call-id=%.*s "
	    "cseq=%u %.*s", dir, outside ? "outside" : "inside",
	    tcp ? " tcp" : "", peer, (int)what.len, what.p,
	    PX_CID(m->call_id), m->cseq, (int)m->cseq_method.len,
	    m->cseq_method.p);
}

static void
flow_peer(struct proxy *px, uint64_t flow, char *a, size_t n)
{
	struct net_addr peer;

	if (flow_addrs(px->flows, flow, &peer, NULL) != 0 ||
	    net_addr_format(&peer, a, n) != 0)
		snprintf(a, n, "flow-gone");
}

void
px_trace_in(struct proxy *px, int outside, uint64_t flow, uint64_t conn,
    const struct net_addr *src, const struct sip_msg *m)
{
	char a[NET_ADDR_STRLEN] = "?";

	px_obs_in(px, outside, flow, conn, src, m);
	if (!log_on(px->lg, LOG_DEBUG))
		return;
	if (outside)
		flow_peer(px, flow, a, sizeof(a));
	else if (net_addr_format(src, a, sizeof(a)) != 0)
		a[0] = '\0';
	trace(px, "in", outside, conn != 0, a, m);
}

void
px_trace_out(struct proxy *px, int outside, uint64_t flow, int tcp,
    const struct net_addr *dst, struct slice b)
{
	char a[NET_ADDR_STRLEN] = "?";
	struct sip_msg m;

	px_obs_out(px, outside, flow, tcp, dst, b);
	if (!log_on(px->lg, LOG_DEBUG) || sip_parse(&m, b) != 0)
		return;
	if (outside)
		flow_peer(px, flow, a, sizeof(a));
	else if (dst == NULL || dst->len == 0 ||
	    net_addr_format(dst, a, sizeof(a)) != 0)
		snprintf(a, sizeof(a), "?");
	trace(px, "out", outside, tcp, a, &m);
}
