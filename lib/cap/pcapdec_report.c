/* pcapdec_report.c - pcapdec: totals and the per-stream report. */
#include <stdio.h>
#include <string.h>

#include "cap/pcapdec_int.h"

/* --- results --- */

/* A key fits it: it decrypted, or failed under a key, or fits one we
 * cannot use. */
static int
stream_keyed(const struct stream *s)
{
	return s->key != NULL || s->unsup != NULL || s->fail[PCAPDEC_AUTH] ||
	    s->fail[PCAPDEC_REPLAY] || s->fail[PCAPDEC_UNSUPPORTED];
}

/* Where its key came from: "given" (a key line), "sdp", "sip" (SIP in
 * clear), "tls" (SIP inside TLS), "dtls" (a DTLS-SRTP handshake), NULL. */
static const char *
stream_key_from(const struct stream *s)
{
	const struct key *k = s->key != NULL ? s->key : s->unsup;

	if (k != NULL && k->from_dtls)
		return "dtls";
	if (k != NULL)
		return k->from_sip == 2 ? "tls" : k->from_sip ? "sip" :
		    k->from_sdp ? "sdp" : "given";
	return s->tried == 2 ? "sip" : s->tried == 1 ? "sdp" : NULL;
}

/* How: "selectors", "any", "address", "authentication", NULL. */
static const char *
stream_keyed_by(const struct stream *s)
{
	static const char *n[] = { NULL, "selectors", "any", "address",
	    "authentication" };

	if (s->key != NULL)
		return n[s->how];
	if (s->unsup != NULL)
		return "address";
	return s->tried ? "authentication" : NULL;
}

/* The report's key column: "line", "sdp/addr", "sip/auth", "-", ... */
static void
key_col(const struct stream *s, char *b, size_t n)
{
	const char *from = stream_key_from(s), *by = stream_keyed_by(s);

	if (from == NULL || by == NULL)
		snprintf(b, n, "-");
	else if (strcmp(from, "dtls") == 0)	/* by its 5-tuple */
		snprintf(b, n, "dtls");
	else if (strcmp(from, "given") == 0)
		snprintf(b, n, "line%s", strcmp(by, "selectors") == 0 ? "" :
		    strcmp(by, "any") == 0 ? "/any" : "/auth");
	else
		snprintf(b, n, "%s/%.4s", from, by);
}

static enum pcapdec_status
stream_status(const struct stream *s)
{
	if (!stream_keyed(s))
		return PCAPDEC_ST_NOKEY;
	if (s->decrypted == 0)
		return s->fail[PCAPDEC_UNSUPPORTED] ? PCAPDEC_ST_UNSUPPORTED :
		    PCAPDEC_ST_FAILED;
	/* replays are duplicates of packets that did decrypt (a capture
	 * on two interfaces sees each twice): not a failure */
	if (s->fail[PCAPDEC_AUTH] || s->fail[PCAPDEC_NOKEY] ||
	    s->fail[PCAPDEC_UNSUPPORTED])
		return PCAPDEC_ST_PARTIAL;
	return PCAPDEC_ST_OK;
}

/* The suite shown for it: its key's, else the unusable key's. */
static const char *
stream_suite(const struct stream *s)
{
	if (s->key != NULL)
		return s->key->suite->name;
	return s->unsup != NULL ? s->unsup->suite->name : NULL;
}

void
pcapdec_totals(const struct pcapdec *d, struct pcapdec_totals *t)
{
	size_t i, j;

	*t = d->t;
	t->streams = d->nstreams;
	for (i = 0; i < d->nstreams; i++) {
		const struct stream *s = d->list[i];

		t->decrypted += s->decrypted;
		for (j = 0; j < PCAPDEC_NFAIL; j++)
			t->failed[j] += s->fail[j];
		if (stream_keyed(s)) {
			t->keyed_streams++;
			if (s->decrypted == 0)
				t->streams_without_plaintext++;
			if (stream_status(s) != PCAPDEC_ST_OK)
				t->streams_not_ok++;
			if (s->key != NULL && s->how == HOW_AUTH)
				t->auth_streams++;
		}
	}
}

static uint64_t
lost(const struct stream *s)
{
	uint64_t exp;

	if (!s->have_seq)
		return 0;
	exp = s->ext_max - s->ext_first + 1;
	return exp > s->decrypted ? exp - s->decrypted : 0;
}

static uint32_t
roc_now(const struct stream *s)
{
	uint32_t roc = 0;

	if (s->key != NULL && !s->k.rtcp &&
	    rtpsec_get_roc(s->key->ctx[s->ctxi], s->k.ssrc, &roc) == 0)
		return roc;
	return s->roc_first;
}

/* The TLS lines of the text report (a key log was given). */
static int
tls_text(const struct pcapdec *d, struct buf *out)
{
	const struct pcapdec_tls_totals *t = &d->t.tls;

	return buf_printf(out, "tls: %llu connections: %llu decrypted "
	    "(TLS 1.2 %llu, TLS 1.3 %llu; %llu of them found without a "
	    "ClientHello), %llu without keys for their client random, %llu "
	    "without a ClientHello, %llu unsupported; "
	    "records: %llu decrypted, %llu failed, %llu without a key; "
	    "%llu SIP messages inside TLS (%llu over WebSocket, %llu not "
	    "SIP)\n"
	    "tls: tcp: %llu gaps given up (%llu bytes), %llu bytes "
	    "retransmitted, %llu resyncs on a record header, %llu "
	    "connections over the cap\n",
	    (unsigned long long)t->conns, (unsigned long long)t->keyed,
	    (unsigned long long)t->tls12, (unsigned long long)t->tls13,
	    (unsigned long long)t->hunted,
	    (unsigned long long)t->no_keys, (unsigned long long)t->no_hello,
	    (unsigned long long)t->unsupported,
	    (unsigned long long)t->decrypted, (unsigned long long)t->failed,
	    (unsigned long long)t->nokey, (unsigned long long)t->sip_msgs,
	    (unsigned long long)t->ws_msgs,
	    (unsigned long long)t->not_sip, (unsigned long long)t->tcp_gaps,
	    (unsigned long long)t->tcp_gap_bytes,
	    (unsigned long long)t->tcp_dup_bytes,
	    (unsigned long long)t->resyncs,
	    (unsigned long long)t->not_tracked);
}

/* The DTLS line of the text report (a key log was given). */
static int
dtls_text(const struct pcapdec *d, struct buf *out)
{
	const struct pcapdec_dtls_totals *t = &d->t.dtls;

	return buf_printf(out, "dtls: %llu handshakes on %llu UDP flows: "
	    "%llu keyed (SRTP keys exported), %llu without keys for their "
	    "client random, %llu unsupported; %llu DTLS datagrams, %llu "
	    "left out of the output, %llu over the flow cap\n",
	    (unsigned long long)t->handshakes, (unsigned long long)t->flows,
	    (unsigned long long)t->keyed, (unsigned long long)t->no_keys,
	    (unsigned long long)t->unsupported,
	    (unsigned long long)t->datagrams, (unsigned long long)t->dropped,
	    (unsigned long long)t->not_tracked);
}

/* The "dtls" member of the JSON report. */
static int
dtls_json(const struct pcapdec *d, struct buf *out)
{
	const struct pcapdec_dtls_totals *t = &d->t.dtls;

	return buf_printf(out, "  \"dtls\": {\"flows\": %llu, "
	    "\"datagrams\": %llu, \"handshakes\": %llu, \"keyed\": %llu, "
	    "\"no_keys\": %llu, \"unsupported\": %llu, "
	    "\"not_tracked\": %llu, \"output_dropped\": %llu},\n",
	    (unsigned long long)t->flows, (unsigned long long)t->datagrams,
	    (unsigned long long)t->handshakes, (unsigned long long)t->keyed,
	    (unsigned long long)t->no_keys,
	    (unsigned long long)t->unsupported,
	    (unsigned long long)t->not_tracked,
	    (unsigned long long)t->dropped);
}

/* The "tls" member of the JSON report. */
static int
tls_json(const struct pcapdec *d, struct buf *out)
{
	const struct pcapdec_tls_totals *t = &d->t.tls;

	return buf_printf(out, "  \"tls\": {\"connections\": %llu, "
	    "\"decrypted\": %llu, \"tls12\": %llu, \"tls13\": %llu, "
	    "\"no_keys\": %llu, \"no_hello\": %llu, "
	    "\"keyed_without_hello\": %llu, "
	    "\"unsupported\": %llu, \"not_tracked\": %llu, "
	    "\"records\": %llu, \"records_decrypted\": %llu, "
	    "\"records_failed\": %llu, \"records_nokey\": %llu, "
	    "\"resyncs\": %llu, \"tcp_gaps\": %llu, "
	    "\"tcp_gap_bytes\": %llu, \"tcp_dup_bytes\": %llu, "
	    "\"sip_messages\": %llu, \"sip_pings\": %llu, "
	    "\"not_sip\": %llu, \"websocket_streams\": %llu, "
	    "\"websocket_messages\": %llu, \"frames_rewritten\": %llu, "
	    "\"output_dropped\": %llu},\n",
	    (unsigned long long)t->conns, (unsigned long long)t->keyed,
	    (unsigned long long)t->tls12, (unsigned long long)t->tls13,
	    (unsigned long long)t->no_keys, (unsigned long long)t->no_hello,
	    (unsigned long long)t->hunted,
	    (unsigned long long)t->unsupported,
	    (unsigned long long)t->not_tracked,
	    (unsigned long long)t->records, (unsigned long long)t->decrypted,
	    (unsigned long long)t->failed, (unsigned long long)t->nokey,
	    (unsigned long long)t->resyncs, (unsigned long long)t->tcp_gaps,
	    (unsigned long long)t->tcp_gap_bytes,
	    (unsigned long long)t->tcp_dup_bytes,
	    (unsigned long long)t->sip_msgs, (unsigned long long)t->sip_pings,
	    (unsigned long long)t->not_sip, (unsigned long long)t->ws_conns,
	    (unsigned long long)t->ws_msgs, (unsigned long long)t->rewritten,
	    (unsigned long long)t->out_dropped);
}

int
pcapdec_report_text(const struct pcapdec *d, struct buf *out)
{
	char a[64], b[64], kc[16];
	size_t i, j;
	int e = 0;

	e = buf_printf(out, "%-10s %-4s %-22s %-22s %-23s %-11s %-9s %7s %9s "
	    "%6s %6s %6s %9s %11s %5s %s\n", "ssrc", "kind", "source",
	    "destination", "suite", "status", "key", "packets", "decrypted",
	    "no-key", "auth", "replay", "malformed", "unsupported", "lost",
	    "roc");
	for (i = 0; i < d->nstreams && e == 0; i++) {
		const struct stream *s = d->list[i];
		const char *su = stream_suite(s);
		static const int w[PCAPDEC_NFAIL] = { 6, 6, 6, 9, 11 };

		cap_addr_format(&s->k.src, a, sizeof(a));
		cap_addr_format(&s->k.dst, b, sizeof(b));
		key_col(s, kc, sizeof(kc));
		e = buf_printf(out, "0x%08x %-4s %-22s %-22s %-23s %-11s %-9s "
		    "%7llu %9llu", s->k.ssrc, s->k.rtcp ? "rtcp" : "rtp", a, b,
		    su != NULL ? su : "-", pcapdec_status_name(stream_status(s)),
		    kc, (unsigned long long)s->packets,
		    (unsigned long long)s->decrypted);
		for (j = 0; j < PCAPDEC_NFAIL && e == 0; j++)
			e = buf_printf(out, " %*llu", w[j],
			    (unsigned long long)s->fail[j]);
		if (e == 0 && s->k.rtcp)
			e = buf_printf(out, " %5s %s\n", "-", "-");
		else if (e == 0 && s->roc_known && s->roc_first != 0)
			e = buf_printf(out, " %5llu %u (found, started at %u)\n",
			    (unsigned long long)lost(s), roc_now(s),
			    s->roc_first);
		else if (e == 0)
			e = buf_printf(out, " %5llu %u\n",
			    (unsigned long long)lost(s), roc_now(s));
	}
	if (e == 0 && d->tlskeys != NULL)
		e = tls_text(d, out);
	if (e == 0 && d->tlskeys != NULL)
		e = dtls_text(d, out);
	return e;
}

int
pcapdec_report_problems(const struct pcapdec *d, struct buf *out)
{
	char a[64], b[64];
	size_t i, j;
	int e = 0, n;
	enum pcapdec_status st;

	for (i = 0; i < d->nstreams && e == 0; i++) {
		const struct stream *s = d->list[i];

		st = stream_status(s);
		if (st == PCAPDEC_ST_OK || st == PCAPDEC_ST_NOKEY)
			continue;
		cap_addr_format(&s->k.src, a, sizeof(a));
		cap_addr_format(&s->k.dst, b, sizeof(b));
		e = buf_printf(out, "0x%08x %s %s -> %s: %s, %llu of %llu "
		    "decrypted (", s->k.ssrc, s->k.rtcp ? "rtcp" : "rtp", a, b,
		    pcapdec_status_name(st), (unsigned long long)s->decrypted,
		    (unsigned long long)s->packets);
		for (j = 0, n = 0; j < PCAPDEC_NFAIL && e == 0; j++) {
			if (s->fail[j] == 0)
				continue;
			e = buf_printf(out, "%s%s %llu", n++ ? ", " : "",
			    pcapdec_fail_name((enum pcapdec_fail)j),
			    (unsigned long long)s->fail[j]);
		}
		if (e == 0 && s->fail[PCAPDEC_UNSUPPORTED] && s->unsup != NULL)
			e = buf_printf(out, ": %s", s->unsup->unusable);
		if (e == 0)
			e = buf_printf(out, ")");
		if (e == 0 && s->key == NULL && s->tried)
			e = buf_printf(out, ": no SDP names its source; the "
			    "SDP keys (%s) tried by authentication, none fits",
			    s->tried == 2 ? "SIP" : "--sdp");
		else if (e == 0 && s->key != NULL && s->how == HOW_AUTH &&
		    s->key->from_sdp)
			e = buf_printf(out, ": keyed by authentication, with "
			    "a key from %s", s->key->from_sip == 2 ?
			    "SIP inside TLS" : s->key->from_sip ? "SIP" :
			    "--sdp");
		if (e == 0)
			e = buf_printf(out, "\n");
	}
	return e;
}

int
pcapdec_report_json(const struct pcapdec *d, struct buf *out)
{
	struct pcapdec_totals t;
	char a[64], b[64];
	size_t i, j;
	int e;

	pcapdec_totals(d, &t);
	e = buf_printf(out, "{\n  \"frames\": %llu,\n  \"written\": %llu,\n"
	    "  \"truncated\": %s,\n  \"keys\": %llu,\n  \"sip_keys\": %llu,\n"
	    "  \"decrypted\": %llu,\n  \"fragments_dropped\": %llu,\n"
	    "  \"keyed_streams\": %llu,\n  \"streams_not_ok\": %llu,\n"
	    "  \"auth_streams\": %llu,\n",
	    (unsigned long long)t.frames, (unsigned long long)t.written,
	    t.truncated ? "true" : "false", (unsigned long long)t.keys,
	    (unsigned long long)t.sip_keys, (unsigned long long)t.decrypted,
	    (unsigned long long)t.frag_dropped,
	    (unsigned long long)t.keyed_streams,
	    (unsigned long long)t.streams_not_ok,
	    (unsigned long long)t.auth_streams);
	if (e == 0 && d->tlskeys != NULL)
		e = tls_json(d, out);
	if (e == 0 && d->tlskeys != NULL)
		e = dtls_json(d, out);
	if (e == 0)
		e = buf_printf(out, "  \"streams\": [");
	for (i = 0; i < d->nstreams && e == 0; i++) {
		const struct stream *s = d->list[i];
		const char *su = stream_suite(s), *kf = stream_key_from(s);
		const char *kb = stream_keyed_by(s);

		cap_addr_format(&s->k.src, a, sizeof(a));
		cap_addr_format(&s->k.dst, b, sizeof(b));
		e = buf_printf(out, "%s\n    {\"ssrc\": \"0x%08x\", "
		    "\"kind\": \"%s\", \"src\": \"%s\", \"dst\": \"%s\", "
		    "\"suite\": %s%s%s, \"key_from\": \"%s\", "
		    "\"keyed_by\": %s%s%s, \"status\": \"%s\", "
		    "\"packets\": %llu, \"decrypted\": %llu, \"failed\": {",
		    i ? "," : "", s->k.ssrc, s->k.rtcp ? "rtcp" : "rtp", a, b,
		    su ? "\"" : "", su ? su : "null", su ? "\"" : "",
		    kf ? kf : "none", kb ? "\"" : "", kb ? kb : "null",
		    kb ? "\"" : "",
		    pcapdec_status_name(stream_status(s)),
		    (unsigned long long)s->packets,
		    (unsigned long long)s->decrypted);
		for (j = 0; j < PCAPDEC_NFAIL && e == 0; j++)
			e = buf_printf(out, "%s\"%s\": %llu", j ? ", " : "",
			    pcapdec_fail_name((enum pcapdec_fail)j),
			    (unsigned long long)s->fail[j]);
		if (e == 0)
			e = buf_printf(out, "}");
		if (e == 0 && stream_status(s) == PCAPDEC_ST_UNSUPPORTED &&
		    s->unsup != NULL)
			e = buf_printf(out, ", \"unsupported\": \"%s\"",
			    s->unsup->unusable);
		if (e == 0 && s->k.rtcp)
			e = buf_printf(out, "}");
		else if (e == 0)
			e = buf_printf(out, ", \"lost\": %llu, \"roc\": %u, "
			    "\"roc_first\": %u, \"payload_type\": %d%s}",
			    (unsigned long long)lost(s), roc_now(s),
			    s->roc_first, s->pt,
			    s->key && s->key->libsrtp_kdf[s->ctxi] ?
			    ", \"kdf\": \"libsrtp-aes192\"" : "");
	}
	if (e == 0)
		e = buf_printf(out, "\n  ]\n}\n");
	return e;
}
