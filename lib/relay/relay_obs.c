/* relay_obs.c - the data plane's counters as Prometheus metrics. */
#include "base/metrics.h"
#include "relay/relay.h"

void
relay_metrics(void *arg, struct metrics_out *o)
{
	static const char *const side[2] = { "outside", "inside" };
	static const char *const comp[2] = { "rtp", "rtcp" };
	struct relay *r = arg;
	struct relay_ctr k[2][2];

	for (int s = 0; s < 2; s++)
		relay_totals_side(r, s, &k[s][0], &k[s][1]);
	metrics_family(o, "sbckit_streams_open", METRICS_GAUGE,
	    "Relay streams (media lines) now.");
	metrics_sample(o, relay_nstreams(r), NULL);
	metrics_family(o, "sbckit_packets_total", METRICS_COUNTER,
	    "Packets received, by side, component and what became of them "
	    "(received: all; forwarded; the rest: dropped, by reason).");
	for (int s = 0; s < 2; s++)
		for (int c = 0; c < 2; c++) {
			const struct relay_ctr *x = &k[s][c];
			const struct { const char *n; uint64_t v; } v[] = {
				{ "received", x->pkts },
				{ "forwarded", x->fwd_pkts },
				{ "auth", x->auth }, { "replay", x->replay },
				{ "malformed", x->malformed },
				{ "nokey", x->nokey }, { "nopeer", x->nopeer },
				{ "other", x->other },
				{ "send_error", x->send_err },
				{ "crypto_error", x->crypto_err },
			};

			for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
				metrics_sample(o, v[i].v, "side", side[s],
				    "component", comp[c], "result", v[i].n,
				    NULL);
		}
	metrics_family(o, "sbckit_bytes_total", METRICS_COUNTER,
	    "Bytes received and forwarded, by side and component.");
	for (int s = 0; s < 2; s++)
		for (int c = 0; c < 2; c++) {
			metrics_sample(o, k[s][c].bytes, "side", side[s],
			    "component", comp[c], "result", "received", NULL);
			metrics_sample(o, k[s][c].fwd_bytes, "side", side[s],
			    "component", comp[c], "result", "forwarded", NULL);
		}
	metrics_family(o, "sbckit_relatched_total", METRICS_COUNTER,
	    "Times a side's peer moved (latching), by side and component.");
	for (int s = 0; s < 2; s++)
		for (int c = 0; c < 2; c++)
			metrics_sample(o, k[s][c].relatched, "side", side[s],
			    "component", comp[c], NULL);
}
