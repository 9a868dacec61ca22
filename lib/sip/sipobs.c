/* sipobs.c - sip-tls-term's metrics: TLS flows and media control. */
#include "base/metrics.h"
#include "sip/flow.h"
#include "sip/mediactl.h"
#include "sip/sipobs.h"

void
flow_metrics(void *arg, struct metrics_out *o)
{
	struct flow_table *t = arg;
	struct flow_stats fs;

	flow_stats(t, &fs);
	metrics_family(o, "sbckit_tls_connections_open", METRICS_GAUGE,
	    "TLS connections (flows) open now.");
	metrics_sample(o, flow_count(t), NULL);
	metrics_family(o, "sbckit_tls_connections_total", METRICS_COUNTER,
	    "TLS connections accepted.");
	metrics_sample(o, fs.accepted, NULL);
	metrics_family(o, "sbckit_tls_handshakes_total", METRICS_COUNTER,
	    "TLS handshakes, by result.");
	metrics_sample(o, fs.handshakes_ok, "result", "ok", NULL);
	metrics_sample(o, fs.handshakes_failed, "result", "failed", NULL);
	metrics_sample(o, fs.handshake_timeouts, "result", "timeout", NULL);
	metrics_family(o, "sbckit_tls_connections_closed_total",
	    METRICS_COUNTER, "TLS connections refused or closed by a limit, "
	    "by reason.");
	metrics_sample(o, fs.evicted, "reason", "evicted", NULL);
	metrics_sample(o, fs.refused_full, "reason", "full", NULL);
	metrics_sample(o, fs.refused_per_ip, "reason", "per_address", NULL);
	metrics_sample(o, fs.first_msg_timeouts, "reason",
	    "first_message_timeout", NULL);
	metrics_sample(o, fs.msg_timeouts, "reason", "message_timeout", NULL);
	metrics_sample(o, fs.budget_closes, "reason", "buffer_budget", NULL);
	metrics_family(o, "sbckit_tls_buffered_bytes", METRICS_GAUGE,
	    "Bytes of partial SIP messages held, all flows.");
	metrics_sample(o, fs.held, NULL);
	metrics_family(o, "sbckit_connections_open", METRICS_GAUGE,
	    "Client connections open now, by transport (tls: SIP over TLS, "
	    "wss and ws: SIP over WebSocket over TLS and over TCP).");
	metrics_sample(o, fs.open_kind[FLOW_TLS], "transport", "tls", NULL);
	metrics_sample(o, fs.open_kind[FLOW_WSS], "transport", "wss", NULL);
	metrics_sample(o, fs.open_kind[FLOW_WS], "transport", "ws", NULL);
	metrics_family(o, "sbckit_ws_upgrades_total", METRICS_COUNTER,
	    "WebSocket Upgrades, by result (ok: 101; refused: 400, 403 or "
	    "426).");
	metrics_sample(o, fs.ws_upgraded, "result", "ok", NULL);
	metrics_sample(o, fs.ws_refused, "result", "refused", NULL);
	metrics_family(o, "sbckit_ws_errors_total", METRICS_COUNTER,
	    "WebSocket connections closed for a frame error (1002, 1009).");
	metrics_sample(o, fs.ws_errors, NULL);
	metrics_family(o, "sbckit_flows_throttled_total", METRICS_COUNTER,
	    "Times a connection was not read for a while because its source "
	    "went over --rate.");
	metrics_sample(o, fs.throttled, NULL);
}

void
mediactl_metrics(void *arg, struct metrics_out *o)
{
	struct mediactl_stats ms;

	mediactl_stats(arg, &ms);
	metrics_family(o, "sbckit_ng_client_total", METRICS_COUNTER,
	    "ng requests to the media relay that did not go well, by event.");
	metrics_sample(o, ms.refused, "event", "refused", NULL);
	metrics_sample(o, ms.failed, "event", "failed", NULL);
	metrics_sample(o, ms.deletes, "event", "delete", NULL);
	metrics_sample(o, ms.deletes_failed, "event", "delete_failed", NULL);
	metrics_sample(o, ms.deletes_dropped, "event", "delete_dropped",
	    NULL);
	metrics_sample(o, ms.late_deletes, "event", "late_delete", NULL);
	metrics_family(o, "sbckit_ng_answer_seconds", METRICS_HISTOGRAM,
	    "Time from an ng request to the media relay's answer "
	    "(retransmissions and failovers included).");
	metrics_histogram(o, mediactl_rtt_bounds, ms.rtt_le,
	    MEDIACTL_RTT_BUCKETS, ms.rtt_count, ms.rtt_sum_s);
	metrics_family(o, "sbckit_ng_client_pending", METRICS_GAUGE,
	    "ng requests to the media relay waiting for an answer.");
	metrics_sample(o, ms.pending, "kind", "offer_answer", NULL);
	metrics_sample(o, ms.pending_deletes, "kind", "delete", NULL);
}
