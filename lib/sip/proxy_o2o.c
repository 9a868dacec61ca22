/* proxy_o2o.c - the proxy between two outside clients, flow to flow. */
#include <stdio.h>
#include <string.h>

#include "sip/proxy_int.h"

/*
 * A request from flow `from` for another client's flow `to`: relayed flow
 * to flow with our Via carrying the sender's token (the answer comes back
 * on `to` and finds `from` by it), and on dialog-forming requests two
 * outside-face Record-Route entries, the callee's token first and the
 * caller's last, so each side's in-dialog requests end on the other's
 * token. Bodies go through the relay as RTP/SAVP on both legs.
 */
void
px_flow_to_flow(struct proxy *px, uint64_t from, const struct sip_msg *m,
    struct sip_edits *e, const struct target *back, uint64_t to,
    int gone_code)
{
	struct target t;
	struct net_addr peer;
	char ftok[FLOW_TOKEN_LEN + 1], ttok[FLOW_TOKEN_LEN + 1];
	char fohp[NET_ADDR_STRLEN + 64], tohp[NET_ADDR_STRLEN + 64];
	char branch[BRANCH_MAX], line[1024];

	if (!flow_alive(px->flows, to) ||
	    flow_token(px->flows, to, ttok, sizeof(ttok)) != 0 ||
	    flow_token(px->flows, from, ftok, sizeof(ftok)) != 0 ||
	    flow_addrs(px->flows, from, &peer, NULL) != 0) {
		px_reply(px, m, back, gone_code, NULL);
		return;
	}
	px_outside_hp(px, from, fohp, sizeof(fohp));
	px_outside_hp(px, to, tohp, sizeof(tohp));
	if (px_fix_via(e, m, &peer) != 0) {
		px_reply(px, m, back, 400, NULL);
		return;
	}
	/* deterministic, as towards the inside */
	px_our_branch(m, ftok, branch, sizeof(branch));
	snprintf(line, sizeof(line), "Via: SIP/2.0/%s %s;branch=%s\r\n",
	    px_via_tp(px, to), tohp, branch);
	if (px_add_text_top(e, m, line) != 0)
		return;
	if (px_dialog_forming(m)) {
		snprintf(line, sizeof(line),
		    "Record-Route: <sip:%s@%s;transport=%s;lr>\r\n"
		    "Record-Route: <sip:%s@%s;transport=%s;lr>\r\n",
		    ttok, tohp, px_uri_tp(px, to), ftok, fohp,
		    px_uri_tp(px, from));
		if (px_add_text_top(e, m, line) != 0)
			return;
	}
	if (px_is_method(m, "INVITE"))
		px_reply(px, m, back, 100, NULL);
	px_media_end(px, m, PX_END_BYE);
	memset(&t, 0, sizeof(t));
	t.to_flow = 1;
	t.flow = to;
	px_forward(px, m, e, &t, back, LEG_OUT_OUT, slice_cstr(branch), from);
}

/* A response from the client of flow `to`'s peer, for flow `to`. */
void
px_response_to_flow(struct proxy *px, const struct sip_msg *m, uint64_t to)
{
	struct sip_edits *e;
	struct target t;

	/* 100 Trying is hop by hop (we sent our own). */
	if (m->status == 100 || (e = sip_edits_new()) == NULL)
		return;
	memset(&t, 0, sizeof(t));
	t.to_flow = 1;
	t.flow = to;
	if (px_drop_values(e, m, SIP_H_VIA, 1) == 0)
		px_forward(px, m, e, &t, &t, LEG_OUT_OUT, SLICE_NULL, to);
	sip_edits_free(e);
}
