/* proxy_media.c - forwarding; bodies wait for the media relay. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sip/proxy_int.h"

int
px_has_sdp(const struct sip_msg *m)
{
	const struct sip_hdr *ct = sip_find(m, SIP_H_CONTENT_TYPE);

	return m->body.len > 0 && ct != NULL &&
	    slice_find(ct->value, SLICE_LIT("sdp")) >= 0;
}

/*
 * A message waiting for the relay: parsed once, kept parsed (moved onto
 * our copy of its bytes) with its edit list; the new body is one more
 * edit, and the whole is serialised once, when it goes.
 */
struct parked {
	struct proxy *px;
	struct target t;
	struct target back;	/* where a failure answer goes */
	struct sip_msg m;	/* the message as it came, on `orig` */
	struct sip_edits *e;	/* its edits, on `m` */
	char key[BRANCH_MAX + 16];
	int klen;
	struct buf *orig;	/* its bytes */
	uint64_t origin;	/* the flow a request came from (or 0) */
};

/* Send; requests going inside get a transaction for `origin`. */
static void
send_final(struct proxy *px, struct target *t, struct slice bytes,
    const char *key, int klen, struct slice orig, int invite, uint64_t origin)
{
	struct buf *conv = NULL;
	struct slice udp = SLICE_NULL;

	if (!t->to_flow && !t->tcp && px->tcp != NULL &&
	    px->conf.tcp_switch > 0 && bytes.len > px->conf.tcp_switch &&
	    (conv = buf_new(MAX_SIP + 4096)) != NULL &&
	    px_retransport(px, bytes, 1, conv) == 0) {
		/* RFC 3261 §18.1.1: too large for UDP, TCP instead. */
		log_msg(px->lg, LOG_DEBUG, "%zu bytes: over TCP", bytes.len);
		udp = bytes;
		bytes = buf_slice(conv);
		t->tcp = 1;
		t->conn = 0;
	}
	if (px_deliver(px, t, bytes) != 0) {
		if (udp.len > 0) {
			/* ... and UDP after all when TCP fails. */
			t->tcp = 0;
			bytes = udp;
			udp = SLICE_NULL;
			px_deliver(px, t, bytes);
		} else if (key != NULL && klen > 0) {
			px_tcp_failed(px, origin, orig);
			key = NULL;
		}
	}
	if (key != NULL && klen > 0 && !t->to_flow)
		(void)px_txn_start(px, slice_make(key, (size_t)klen), origin, t,
		    bytes, orig, invite, udp);
	buf_free(conv);
}

static void
parked_free(struct parked *pk)
{
	sip_edits_free(pk->e);
	buf_free(pk->orig);
	free(pk);
}

static void
media_done(void *arg, int err, struct slice sdp)
{
	struct parked *pk = arg;
	struct proxy *px = pk->px;
	const struct sip_msg *m = &pk->m;
	struct buf *out = NULL;

	if (err != 0) {
		/* The relay failed: a request gets a 5xx from us, not a hang. */
		log_msg(px->lg, LOG_INFO, "media relay: %s: call-id=%.*s "
		    "from-tag=%.*s", sbk_strerror(err), PX_CID(m->call_id),
		    PX_CID(m->from_tag));
		if (m->is_request) {
			/* Unanswered, the relay may still have taken it. */
			if (err == E_TIMEOUT)
				px_media_end(px, m, PX_END_FAILED);
			/* The SDP's fault (unparseable, no SRTP where it
			 * is required) is the phone's: 488. */
			px_reply(px, m, &pk->back, err == E_UNSUPPORTED ||
			    err == E_SYNTAX ? 488 : 503, NULL);
		}
		goto done;
	}
	if ((out = buf_new(MAX_SIP)) == NULL)
		goto done;
	if (sip_edit_body(pk->e, m, sdp) != 0 ||
	    sip_edits_apply(pk->e, m, out) != 0)
		goto done;
	send_final(px, &pk->t, buf_slice(out), pk->klen > 0 ? pk->key : NULL,
	    pk->klen, buf_slice(pk->orig),
	    m->is_request && px_is_method(m, "INVITE"), pk->origin);
done:
	buf_free(out);
	parked_free(pk);
}

/* Park `m` and its edits until the relay has rewritten the body. */
static void
park(struct proxy *px, const struct sip_msg *m, const struct sip_edits *e,
    const struct target *t, const struct target *back, int outward,
    const char *key, int klen, uint64_t flow)
{
	struct parked *pk = calloc(1, sizeof(*pk));
	struct mediactl_req rq;

	if (pk == NULL)
		return;
	if ((pk->orig = buf_new(MAX_SIP)) == NULL ||
	    buf_append_slice(pk->orig, m->raw) != 0 ||
	    (pk->e = sip_edits_new()) == NULL) {
		parked_free(pk);
		return;
	}
	pk->m = *m;
	sip_msg_move(&pk->m, buf_data(pk->orig));
	if (sip_edits_copy(pk->e, e, m, &pk->m) != 0) {
		parked_free(pk);
		return;
	}
	pk->px = px;
	pk->t = *t;
	pk->back = *back;
	if (klen > 0) {
		memcpy(pk->key, key, (size_t)klen);
		pk->klen = klen;
	}
	pk->origin = flow;
	memset(&rq, 0, sizeof(rq));
	/* The relay reads the method or status, Call-ID, CSeq, tags, RAck
	 * and body: our edits change none, the message as it came will do. */
	rq.msg = m;
	rq.outward = outward != LEG_IN;
	rq.outside_both = outward == LEG_OUT_OUT;
	rq.require_srtp = px->conf.require_srtp && outward != LEG_OUT;
	/* WebRTC keying (proxy_keying.c): towards a phone that speaks
	 * DTLS-SRTP, or from one inward (its body says so). */
	if (outward == LEG_IN && flow != 0) {
		px_keying_learn(px, flow, m->body);
		rq.webrtc = flow_kind(px->flows, flow) != FLOW_TLS ||
		    mediactl_sdp_has_dtls(m->body);
	} else if (rq.outward && t->to_flow)
		rq.webrtc = px_keying_dtls(px, t->flow);
	mediactl_submit(px->mc, &rq, media_done, pk);
}

/*
 * Does the media of `m`'s call end here? The one place that decides, for
 * every way a call ends at the proxy (an initial INVITE's failure answer
 * and a CANCEL end it in mediactl_track(), which knows a re-INVITE and a
 * 2xx gone through): a BYE passing (PX_END_BYE); a BYE or CANCEL for a
 * flow that is gone, as nobody will send another for it (PX_END_GONE);
 * an initial INVITE we failed with 408 or 503, or whose offer the relay
 * did not answer, so that it may hold it (PX_END_FAILED; a failed
 * re-INVITE keeps its call, any other request has none); our own BYE for
 * a lost flow (PX_END_LOST). The relay is told with `m`'s Call-ID and
 * From tag: the whole call, and the late answers to its lost offers.
 */
void
px_media_end(struct proxy *px, const struct sip_msg *m, enum px_end why)
{
	if (px->mc == NULL)
		return;
	if (why == PX_END_BYE && !px_is_method(m, "BYE"))
		return;
	if (why == PX_END_GONE && !px_is_method(m, "BYE") &&
	    !px_is_method(m, "CANCEL"))
		return;
	if (why == PX_END_FAILED && (!px_is_method(m, "INVITE") ||
	    m->to_tag.len > 0))
		return;
	mediactl_delete(px->mc, m);
}

/*
 * Send `m` with edits `e` to `t`. With a media controller and an SDP body,
 * the message is parked until the relay has rewritten the body.
 */
void
px_forward(struct proxy *px, const struct sip_msg *m, struct sip_edits *e,
    struct target *t, const struct target *back, int outward,
    struct slice branch, uint64_t flow)
{
	struct buf *out;
	char key[BRANCH_MAX + 16];
	int klen = -1;
	int txn = m->is_request && !t->to_flow && !px_is_method(m, "ACK");

	/* INVITEs, their ACKs, CANCELs and failures: offer/answer roles,
	 * and the call deleted when an initial INVITE fails. */
	if (px->mc != NULL)
		mediactl_track(px->mc, m);
	if (txn)
		klen = px_txn_key(m, branch, key, sizeof(key));
	if (px->mc != NULL && px_has_sdp(m)) {
		park(px, m, e, t, back, outward, key, klen, flow);
		return;
	}
	if ((out = buf_new(MAX_SIP + 4096)) == NULL)
		return;
	if (sip_edits_apply(e, m, out) != 0) {
		buf_free(out);
		return;
	}
	send_final(px, t, buf_slice(out), klen > 0 ? key : NULL, klen, m->raw,
	    m->is_request && px_is_method(m, "INVITE"), flow);
	buf_free(out);
}
