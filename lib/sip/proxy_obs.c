/* proxy_obs.c - the proxy seen from outside: HEP capture and metrics. */
#include <string.h>

#include "base/hep.h"
#include "base/metrics.h"
#include "sip/proxy_int.h"

/*
 * Both hooks sit where every message passes once per direction:
 * px_trace_in() (a message parsed, from a flow or from inside) and
 * px_trace_out() (bytes handed to a flow, a UDP socket or a TCP
 * connection). Without HEP the send hook costs one test; the receive
 * hook counts the method or class, an array increment.
 */

static const char *const methods[PX_NMETHODS] = {
	"INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "PRACK",
	"UPDATE", "INFO", "SUBSCRIBE", "NOTIFY", "REFER", "MESSAGE",
	"PUBLISH", "other",
};

static size_t
method_index(struct slice m)
{
	for (size_t i = 0; i + 1 < PX_NMETHODS; i++)
		if (slice_eq_cstr(m, methods[i]))
			return i;
	return PX_NMETHODS - 1;
}

void
proxy_set_hep(struct proxy *px, struct hep *h)
{
	px->obs.hep = h;
}

/* Our end towards an inside peer: the connection's for TCP (its
 * ephemeral port when we connected), else our UDP face. */
static void
inside_face(struct proxy *px, uint64_t conn, const struct net_addr *peer,
    struct net_addr *a)
{
	struct px_obs *o = &px->obs;

	if (conn != 0 && px->tcp != NULL && tcpconn_local(px->tcp, conn, a) == 0)
		return;
	*a = px->conf.inside;
	if (!net_addr_is_any(a) || peer == NULL)
		return;
	/* Bound to 0.0.0.0 or ::: the address the route to the peer
	 * leaves from, as the routing table says (asked again only when
	 * the peer's host changes). */
	if (!net_addr_host_eq(&o->route_dst, peer)) {
		if (net_route_src(peer, &o->route_src) != 0)
			return;
		o->route_dst = *peer;
	}
	*a = o->route_src;
	net_addr_set_port(a, px->in_port);
}

static void
capture(struct proxy *px, const struct net_addr *src,
    const struct net_addr *dst, uint8_t proto, struct slice b)
{
	struct hep_msg hm;

	memset(&hm, 0, sizeof(hm));
	hm.src = *src;
	hm.dst = *dst;
	hm.proto = proto;
	hm.type = HEP_TYPE_SIP;
	hm.payload = b;
	(void)hep_send(px->obs.hep, &hm);
}

void
px_obs_in(struct proxy *px, int outside, uint64_t flow, uint64_t conn,
    const struct net_addr *src, const struct sip_msg *m)
{
	struct net_addr peer, local;
	int o = outside != 0;

	if (m->is_request)
		px->obs.req[o][method_index(m->method)]++;
	else if (m->status >= 100 && m->status < 700)
		px->obs.resp[o][m->status / 100 - 1]++;
	if (px->obs.hep == NULL)
		return;
	if (outside) {
		if (flow_addrs(px->flows, flow, &peer, &local) == 0)
			capture(px, &peer, &local, HEP_IPPROTO_TLS, m->raw);
	} else if (src != NULL && src->len != 0) {
		inside_face(px, conn, src, &local);
		capture(px, src, &local, conn != 0 ? HEP_IPPROTO_TCP :
		    HEP_IPPROTO_UDP, m->raw);
	}
}

void
px_obs_out(struct proxy *px, int outside, uint64_t flow, int tcp,
    const struct net_addr *dst, struct slice b)
{
	struct net_addr peer, local;

	if (px->obs.hep == NULL)
		return;
	if (outside) {
		if (flow_addrs(px->flows, flow, &peer, &local) == 0)
			capture(px, &local, &peer, HEP_IPPROTO_TLS, b);
	} else if (!tcp && dst != NULL && dst->len != 0) {
		/* (TCP: px_obs_out_tcp(), once the connection is known) */
		inside_face(px, 0, dst, &local);
		capture(px, &local, dst, HEP_IPPROTO_UDP, b);
	}
}

void
px_obs_out_tcp(struct proxy *px, uint64_t conn, const struct net_addr *dst,
    struct slice b)
{
	struct net_addr local, peer;

	if (px->obs.hep == NULL)
		return;
	if (conn == 0 || px->tcp == NULL ||
	    tcpconn_peer(px->tcp, conn, &peer) != 0)
		peer = *dst;
	if (peer.len == 0)
		return;
	inside_face(px, conn, &peer, &local);
	capture(px, &local, &peer, HEP_IPPROTO_TCP, b);
}

void
proxy_metrics(void *arg, struct metrics_out *o)
{
	static const char *const face[2] = { "inside", "outside" };
	static const char *const cls[6] = { "1xx", "2xx", "3xx", "4xx",
	    "5xx", "6xx" };
	struct proxy *px = arg;
	struct proxy_stats ps;
	struct hep_stats hs;

	metrics_family(o, "sbckit_sip_requests_total", METRICS_COUNTER,
	    "SIP requests received (parsed), by face and method.");
	for (int f = 0; f < 2; f++)
		for (size_t i = 0; i < PX_NMETHODS; i++)
			metrics_sample(o, px->obs.req[f][i], "face", face[f],
			    "method", methods[i], NULL);
	metrics_family(o, "sbckit_sip_responses_total", METRICS_COUNTER,
	    "SIP responses received (parsed), by face and status class.");
	for (int f = 0; f < 2; f++)
		for (size_t i = 0; i < 6; i++)
			metrics_sample(o, px->obs.resp[f][i], "face", face[f],
			    "class", cls[i], NULL);
	proxy_stats(px, &ps);
	metrics_family(o, "sbckit_sip_messages_bad_total", METRICS_COUNTER,
	    "SIP messages refused as malformed.");
	metrics_sample(o, ps.bad, NULL);
	metrics_family(o, "sbckit_sip_messages_dropped_total",
	    METRICS_COUNTER, "SIP messages that could not be sent on.");
	metrics_sample(o, ps.dropped, NULL);
	metrics_family(o, "sbckit_sip_transaction_timeouts_total",
	    METRICS_COUNTER, "Inside transactions answered 408.");
	metrics_sample(o, ps.timeouts, NULL);
	metrics_family(o, "sbckit_sip_transactions_open", METRICS_GAUGE,
	    "Client transactions towards the inside now.");
	metrics_sample(o, ps.txns, NULL);
	metrics_family(o, "sbckit_sip_registrations", METRICS_GAUGE,
	    "Bindings in the built-in registrar now.");
	metrics_sample(o, ps.regs, NULL);
	metrics_family(o, "sbckit_calls_open", METRICS_GAUGE,
	    "Confirmed dialogs followed now (--bye-on-loss).");
	metrics_sample(o, ps.dialogs, NULL);
	if (px->obs.hep == NULL)
		return;
	hep_stats(px->obs.hep, &hs);
	metrics_family(o, "sbckit_hep_messages_total", METRICS_COUNTER,
	    "HEP datagrams to the collector, by result.");
	metrics_sample(o, hs.sent, "result", "sent", NULL);
	metrics_sample(o, hs.dropped, "result", "dropped", NULL);
	metrics_sample(o, hs.errors, "result", "error", NULL);
}
