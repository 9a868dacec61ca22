/* calls_obs.c - srtp-bridge seen from outside: HEP summaries, metrics. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/be.h"
#include "base/hep.h"
#include "base/metrics.h"
#include "relay/calls_int.h"

void
calls_set_hep(struct calls *t, struct hep *h)
{
	t->hep = h;
}

/* ---- HEP: a summary per side when a media line ends ---- */

/* `s` as a JSON string body (quotes, backslashes and controls escaped). */
static int
json_str(struct buf *b, struct slice s)
{
	int e = 0;

	for (size_t i = 0; i < s.len && e == 0; i++) {
		uint8_t c = s.p[i];

		if (c == '"' || c == '\\')
			e = buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			e = buf_printf(b, "\\u%04x", c);
		else
			e = buf_append_u8(b, c);
	}
	return e;
}

static int
json_ctr(struct buf *b, const char *name, const struct relay_ctr *k)
{
	return buf_printf(b, "\"%s\":{\"in_packets\":%llu,\"in_bytes\":%llu,"
	    "\"forwarded\":%llu,\"drop_auth\":%llu,\"drop_replay\":%llu,"
	    "\"drop_malformed\":%llu,\"drop_nokey\":%llu,\"drop_nopeer\":%llu,"
	    "\"drop_other\":%llu,\"send_errors\":%llu,\"crypto_errors\":%llu,"
	    "\"relatched\":%llu}", name, (unsigned long long)k->pkts,
	    (unsigned long long)k->bytes, (unsigned long long)k->fwd_pkts,
	    (unsigned long long)k->auth, (unsigned long long)k->replay,
	    (unsigned long long)k->malformed, (unsigned long long)k->nokey,
	    (unsigned long long)k->nopeer, (unsigned long long)k->other,
	    (unsigned long long)k->send_err,
	    (unsigned long long)k->crypto_err,
	    (unsigned long long)k->relatched);
}

static void
side_summary(struct calls *t, const struct media *md, struct slice cid,
    int side, struct buf *b)
{
	struct relay_ctr rtp, rtcp;
	struct net_addr local, peer;
	char l[NET_ADDR_STRLEN] = "", p[NET_ADDR_STRLEN] = "";
	struct hep_msg hm;
	int e;

	if (relay_side_local(md->rs, side, RELAY_RTP, &local) != 0)
		return;		/* never opened: nothing to say */
	if (relay_side_peer(md->rs, side, RELAY_RTP, &peer) != 0)
		peer = local;	/* no peer ever: the local address twice */
	if (net_addr_format(&local, l, sizeof(l)) != 0 ||
	    net_addr_format(&peer, p, sizeof(p)) != 0)
		return;
	relay_side_counters(md->rs, side, RELAY_RTP, &rtp);
	relay_side_counters(md->rs, side, RELAY_RTCP, &rtcp);
	buf_reset(b);
	if ((e = buf_append_cstr(b, "{\"event\":\"stream-end\","
	    "\"call-id\":\"")) != 0 || (e = json_str(b, cid)) != 0 ||
	    (e = buf_printf(b, "\",\"media\":%u,\"side\":\"%s\",\"local\":"
	    "\"%s\",\"peer\":\"%s\",\"srtp\":%s,", md->index,
	    calls_side_name[side], l, p, relay_side_is_srtp(md->rs, side) ?
	    "true" : "false")) != 0 || (e = json_ctr(b, "rtp", &rtp)) != 0 ||
	    (e = buf_append_u8(b, ',')) != 0 ||
	    (e = json_ctr(b, "rtcp", &rtcp)) != 0 ||
	    (e = buf_append_u8(b, '}')) != 0)
		return;
	memset(&hm, 0, sizeof(hm));
	hm.src = peer;
	hm.dst = local;
	hm.proto = HEP_IPPROTO_UDP;
	hm.type = HEP_TYPE_LOG;
	hm.payload = buf_slice(b);
	hm.correlation = cid;
	(void)hep_send(t->hep, &hm);
}

void
calls_obs_media_end(const struct media *md)
{
	struct calls *t;
	struct slice cid;
	struct buf *b;

	if (md->br == NULL || md->br->call == NULL || md->rs == NULL)
		return;
	t = md->br->call->t;
	if (t->hep == NULL)
		return;
	cid = slice_make(md->br->call->id, md->br->call->idlen);
	/* A call's end, not a packet's: one small allocation is fine. */
	if ((b = buf_new(4096)) == NULL)
		return;
	for (int side = 0; side < 2; side++)
		side_summary(t, md, cid, side, b);
	buf_free(b);
}

/* ---- HEP: RTCP reports as JSON (type 5) ---- */

/* A JSON text on the stack: no allocation per RTCP packet. */
struct jtext {
	char b[4096];
	size_t n;
	int err;
};

static void __attribute__((format(printf, 2, 3)))
jput(struct jtext *j, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (j->err)
		return;
	va_start(ap, fmt);
	k = vsnprintf(j->b + j->n, sizeof(j->b) - j->n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= sizeof(j->b) - j->n)
		j->err = 1;
	else
		j->n += (size_t)k;
}

/*
 * The first SR (200) or RR (201) of a compound packet as rtpengine's
 * homer JSON. 0, or -1 when there is none (or it is cut short).
 */
static int
rtcp_json(struct slice pkt, struct jtext *j)
{
	while (pkt.len >= 8) {
		const uint8_t *p = pkt.p;
		size_t len = ((size_t)(p[2] << 8 | p[3]) + 1) * 4;
		unsigned rc = p[0] & 0x1f, pt = p[1];
		size_t off;

		if ((p[0] >> 6) != 2 || len > pkt.len)
			return -1;
		if (pt != 200 && pt != 201) {
			slice_skip(&pkt, len);
			continue;
		}
		off = pt == 200 ? 28 : 8;
		if (len < off + 24 * (size_t)rc)
			return -1;
		jput(j, "{");
		if (pt == 200)
			jput(j, "\"sender_information\":{\"ntp_timestamp_sec\":%u,"
			    "\"ntp_timestamp_usec\":%u,\"rtp_timestamp\":%u,"
			    "\"packets\":%u,\"octets\":%u},", be32(p + 8),
			    be32(p + 12), be32(p + 16), be32(p + 20),
			    be32(p + 24));
		jput(j, "\"ssrc\":%u,\"type\":%u,\"report_count\":%u,"
		    "\"report_blocks\":[", be32(p + 4), pt, rc);
		for (unsigned i = 0; i < rc; i++) {
			const uint8_t *b = p + off + 24 * i;
			int32_t lost = (int32_t)((uint32_t)b[5] << 16 |
			    (uint32_t)b[6] << 8 | b[7]);

			if (lost & 0x800000)
				lost -= 0x1000000;
			jput(j, "%s{\"source_ssrc\":%u,\"fraction_lost\":%u,"
			    "\"packets_lost\":%d,\"highest_seq_no\":%u,"
			    "\"ia_jitter\":%u,\"lsr\":%u,\"dlsr\":%u}",
			    i ? "," : "", be32(b), b[4], lost, be32(b + 8),
			    be32(b + 12), be32(b + 16), be32(b + 20));
		}
		jput(j, "]}");
		return j->err ? -1 : 0;
	}
	return -1;
}

void
calls_stream_rtcp(struct relay_stream *s, int side, struct slice rtcp,
    const struct net_addr *src, void *user)
{
	const struct media *md = user;
	struct calls *t;
	struct hep_msg hm;
	struct jtext j;

	if (md == NULL || md->br == NULL || md->br->call == NULL)
		return;
	t = md->br->call->t;
	j.n = 0;
	j.err = 0;
	if (t->hep == NULL || rtcp_json(rtcp, &j) != 0)
		return;
	memset(&hm, 0, sizeof(hm));
	hm.src = *src;
	if (relay_side_local(s, side, RELAY_RTCP, &hm.dst) != 0)
		return;
	hm.proto = HEP_IPPROTO_UDP;
	hm.type = HEP_TYPE_RTCP_JSON;
	hm.payload = slice_make(j.b, j.n);
	hm.correlation = slice_make(md->br->call->id, md->br->call->idlen);
	(void)hep_send(t->hep, &hm);
}

/* ---- metrics ---- */

void
calls_obs_ng(struct calls *t, enum ng_cmd cmd, struct slice reply,
    int cached)
{
	int ok = slice_find(reply, slice_cstr("6:result2:ok")) >= 0 ||
	    slice_find(reply, slice_cstr("6:result4:pong")) >= 0;

	if ((int)cmd < 0 || cmd > NG_CMD_STATISTICS)
		cmd = NG_CMD_OTHER;
	t->ng_ctr[cmd][cached ? 2 : ok ? 0 : 1]++;
}

/* ICE-lite and DTLS-SRTP: the totals of `summary: webrtc`, freed sides
 * included (calls_webrtc_totals(), a walk of the table per scrape). */
static void
calls_metrics_webrtc(const struct calls *t, struct metrics_out *o)
{
	struct webrtc_ctr k;

	calls_webrtc_totals(t, &k);
	metrics_family(o, "sbckit_stun_requests_total", METRICS_COUNTER,
	    "STUN datagrams on WebRTC sides (received: all), and the "
	    "connectivity checks answered, failing integrity (bad_auth), or "
	    "else dropped (other).");
	metrics_sample(o, k.stun, "result", "received", NULL);
	metrics_sample(o, k.ice_answered, "result", "answered", NULL);
	metrics_sample(o, k.ice_bad_auth, "result", "bad_auth", NULL);
	metrics_sample(o, k.ice_other, "result", "other", NULL);
	metrics_family(o, "sbckit_ice_nominations_total", METRICS_COUNTER,
	    "ICE nominations (USE-CANDIDATE) that moved a side's peer.");
	metrics_sample(o, k.nominations, NULL);
	metrics_family(o, "sbckit_dtls_packets_total", METRICS_COUNTER,
	    "DTLS datagrams on WebRTC sides (received: all), and those "
	    "malformed, from an address not checked (untrusted), or kept "
	    "until the role was known (early).");
	metrics_sample(o, k.dtls, "result", "received", NULL);
	metrics_sample(o, k.dtls_bad, "result", "malformed", NULL);
	metrics_sample(o, k.dtls_untrusted, "result", "untrusted", NULL);
	metrics_sample(o, k.dtls_early, "result", "early", NULL);
	metrics_family(o, "sbckit_dtls_handshakes_total", METRICS_COUNTER,
	    "DTLS-SRTP handshakes, by result (ok: keys given).");
	metrics_sample(o, k.handshakes, "result", "ok", NULL);
	metrics_sample(o, k.dtls_failed, "result", "failed", NULL);
	metrics_sample(o, k.fp_mismatch, "result", "fingerprint_mismatch",
	    NULL);
	metrics_family(o, "sbckit_dtls_handshakes_rtcp_total", METRICS_COUNTER,
	    "Of the ok DTLS-SRTP handshakes, those on an RTCP port (a side "
	    "without rtcp-mux keys SRTCP by a handshake of its own).");
	metrics_sample(o, k.rtcp_handshakes, NULL);
}

void
calls_metrics(void *arg, struct metrics_out *o)
{
	static const char *const res[3] = { "ok", "error", "retransmission" };
	struct calls *t = arg;

	metrics_family(o, "sbckit_calls_open", METRICS_GAUGE,
	    "Calls in the ng call table now.");
	metrics_sample(o, t->ncalls, NULL);
	metrics_family(o, "sbckit_calls_total", METRICS_COUNTER,
	    "Calls created by ng offers.");
	metrics_sample(o, t->total, NULL);
	metrics_family(o, "sbckit_ng_requests_total", METRICS_COUNTER,
	    "ng requests answered, by command and result (retransmission: "
	    "answered from the reply cache).");
	for (int c = NG_CMD_NONE; c <= NG_CMD_STATISTICS; c++) {
		const char *n = c == NG_CMD_NONE ? "none" : c == NG_CMD_OTHER ?
		    "other" : ng_cmd_name((enum ng_cmd)c);

		for (int r = 0; r < 3; r++)
			metrics_sample(o, t->ng_ctr[c][r], "command",
			    n != NULL ? n : "other", "result", res[r], NULL);
	}
	metrics_family(o, "sbckit_ng_refused_total", METRICS_COUNTER,
	    "ng requests from sources --ng-allow does not name.");
	metrics_sample(o, t->ng_refused, NULL);
	calls_metrics_webrtc(t, o);
}
