/* proxy_end.c - ending the dialogs of a lost flow (bye-on-loss). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/rnd.h"
#include "sip/proxy_int.h"

#define OWN_BRANCH "z9hG4bKsbye."

int
px_dlg_is_us(void *arg, struct slice uri, uint64_t flow)
{
	struct proxy *px = arg;

	return px_uri_is_us(&px->env, uri, flow);
}

void
px_dlg_request(struct proxy *px, const struct sip_msg *m, int from_outside,
    uint64_t flow)
{
	int r;

	if (px->dlg == NULL)
		return;
	r = dialog_request(px->dlg, m, from_outside, flow, ev_now_ms(px->loop));
	if (r != 0 && r != E_SYNTAX)
		log_msg(px->lg, LOG_INFO, "dialog not followed: %s: call-id=%.*s "
		    "%.*s", sbk_strerror(r), PX_CID(m->call_id),
		    (int)m->method.len, m->method.p);
}

void
px_dlg_response(struct proxy *px, const struct sip_msg *m, int from_outside,
    uint64_t flow)
{
	int r;

	if (px->dlg == NULL)
		return;
	r = dialog_response(px->dlg, m, from_outside, flow,
	    ev_now_ms(px->loop));
	if (r != 0 && r != E_SYNTAX)
		log_msg(px->lg, LOG_INFO, "dialog not followed: %s: call-id=%.*s "
		    "%d", sbk_strerror(r), PX_CID(m->call_id), m->status);
}

/*
 * The BYE of a lost flow's dialog: to the first Route, else the upstream,
 * else the remote target (the rule for requests from the flow), over UDP
 * with retransmissions (timers E and F) or TCP, as a transaction of our
 * own whose answer ends here.
 */
void
px_bye_for_lost(void *arg, const struct dialog *d)
{
	struct proxy *px = arg;
	struct target t;
	struct sip_uri u;
	struct sip_msg m;
	struct buf *b = NULL;
	uint8_t rb[8];
	char branch[BRANCH_MAX], via[BRANCH_MAX + NET_ADDR_STRLEN + 64];
	char key[BRANCH_MAX + 16];
	struct slice hop;
	struct txn *tx;
	int routed, klen;

	memset(&t, 0, sizeof(t));
	hop = dialog_next_hop(d, &routed);
	if (routed || px->conf.upstream.len == 0) {
		if (sip_uri_parse(hop, &u) != 0 || px_uri_dest(&u, &t.dst) != 0)
			goto fail;
		t.tcp = px_uri_tcp(&px->env, hop);
	} else {
		t.dst = px->conf.upstream;
		t.tcp = px->conf.upstream_tcp && px->tcp != NULL;
	}
	if (rnd_bytes(rb, sizeof(rb)) != 0)
		goto fail;
	snprintf(branch, sizeof(branch), OWN_BRANCH
	    "%02x%02x%02x%02x%02x%02x%02x%02x", rb[0], rb[1], rb[2], rb[3],
	    rb[4], rb[5], rb[6], rb[7]);
	snprintf(via, sizeof(via), "SIP/2.0/%s %s;branch=%s;rport",
	    t.tcp ? "TCP" : "UDP", px->in_hp, branch);
	if ((b = buf_new(MAX_SIP)) == NULL || dialog_bye(d, via, b) != 0 ||
	    sip_parse(&m, buf_slice(b)) != 0)
		goto fail;
	/* The relay's call ends with it (From tag: the whole call). */
	px_media_end(px, &m, PX_END_LOST);
	px->st.byes++;
	if (px_deliver(px, &t, buf_slice(b)) == 0 &&
	    (klen = px_txn_key(&m, slice_cstr(branch), key, sizeof(key))) > 0 &&
	    (tx = px_txn_start(px, slice_make(key, (size_t)klen), 0, &t,
	    buf_slice(b), buf_slice(b), 0, SLICE_NULL)) != NULL)
		tx->own = 1;
	log_msg(px->lg, LOG_DEBUG, "BYE for lost flow: call-id=%.*s",
	    PX_CID(dialog_call_id(d)));
	buf_free(b);
	return;
fail:
	buf_free(b);
	log_msg(px->lg, LOG_WARN, "flow lost: no BYE: call-id=%.*s",
	    PX_CID(dialog_call_id(d)));
}

/* An answer to one of our own BYEs: 1 (dealt with), else 0. */
int
px_own_response(struct proxy *px, const struct sip_msg *m, struct slice branch)
{
	char key[BRANCH_MAX + 16];
	struct txn *tx;
	int klen;

	if (branch.len < sizeof(OWN_BRANCH) - 1 ||
	    memcmp(branch.p, OWN_BRANCH, sizeof(OWN_BRANCH) - 1) != 0)
		return 0;
	klen = px_txn_key(m, branch, key, sizeof(key));
	if (klen > 0 && (tx = *px_txn_find(px, slice_make(key, (size_t)klen)))
	    != NULL) {
		tx->got_resp = 1;
		if (m->status >= 200) {
			log_msg(px->lg, LOG_INFO, "BYE for lost flow: %d %.*s "
			    "call-id=%.*s", m->status, (int)m->reason.len,
			    (const char *)m->reason.p, PX_CID(m->call_id));
			px_txn_free(px, tx);
		}
	}
	return 1;
}
