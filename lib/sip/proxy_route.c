/* proxy_route.c - where requests and responses go, and their edits. */
#include <stdio.h>
#include <string.h>

#include "sip/proxy_int.h"

/* ---- the decision: where a request goes ---- */

static int
verdict_reply(struct px_route *rt, int code)
{
	rt->verdict = PX_REPLY;
	rt->code = code;
	return 0;
}

/* We answer 403, and say why. */
static int
refuse(struct px_route *rt, const char *why)
{
	rt->why = why;
	return verdict_reply(rt, 403);
}

/* Route values of an outside request we look at, at most. */
#define PX_MAX_ROUTES 16

/*
 * A place outside requests may go (on top of our flows): the upstream,
 * its address and port, or a host in the --allow-inside networks.
 */
static int
dest_allowed(const struct px_env *env, const struct net_addr *a)
{
	const struct proxy_conf *c = env->conf;

	return (c->upstream.len != 0 && net_addr_eq(a, &c->upstream)) ||
	    net_prefix_list_match(c->allow_inside, c->nallow_inside, a);
}

/*
 * An outside request's Route values after our own (from value `from`):
 * each must be one of our faces (a dialog through the upstream comes back
 * to us) or a place dest_allowed(); else why it is refused. A Route
 * that names a host we do not resolve is refused too: we never follow
 * what we cannot check.
 */
static const char *
routes_refused(const struct px_env *env, const struct sip_msg *m,
    uint64_t flow, size_t from)
{
	struct slice v;
	struct sip_addr a;
	struct sip_uri u;
	struct net_addr d;
	size_t i;

	for (i = from; px_nth_value(m, SIP_H_ROUTE, i, &v); i++) {
		if (i >= PX_MAX_ROUTES)
			return "Too Many Routes";
		if (sip_addr_parse(v, &a) != 0 ||
		    sip_uri_parse(a.uri, &u) != 0)
			return "Route Not Allowed";
		if (px_uri_is_us(env, a.uri, flow))
			continue;
		if (px_uri_dest(&u, &d) != 0 || !dest_allowed(env, &d))
			return "Route Not Allowed";
	}
	return NULL;
}

/*
 * Our own Route entries (both faces), to be popped: how many, the token
 * of the last one that has one, *have_tok 1 if that entry is our inside
 * face, 2 if an outside one (a dialog between two outside clients), 0 if
 * none had a token; the first entry not ours in *next.
 */
static int
scan_routes(const struct px_env *env, const struct sip_msg *m, uint64_t flow,
    uint64_t *tok, int *have_tok, struct slice *next, size_t *nroutes)
{
	struct slice v;
	struct sip_addr a;
	size_t n = 0;

	*have_tok = 0;
	*next = SLICE_NULL;
	*nroutes = 0;
	while (n < 4 && px_nth_value(m, SIP_H_ROUTE, n, &v)) {
		if (sip_addr_parse(v, &a) != 0)
			return E_SYNTAX;
		if (!px_uri_is_us(env, a.uri, flow)) {
			*next = a.uri;
			break;
		}
		if (px_uri_token(env, a.uri, tok))
			*have_tok = px_uri_is_inside(env, a.uri) ? 1 : 2;
		n++;
	}
	*nroutes = n;
	return 0;
}

/*
 * A request from flow `from` for another outside client? In a dialog
 * between two of them (the last of our Route entries popped is an
 * outside face with a token: have_tok 2), or, with the built-in
 * registrar, when it is outside any dialog (or the ACK of a failed
 * INVITE), names no other hop, and its Request-URI user is registered
 * here. 1 when decided.
 */
static int
other_flow(const struct px_env *env, const struct sip_msg *m, int have_tok,
    uint64_t rtok, struct slice next, uint64_t now_ms, struct px_route *rt)
{
	struct reg_binding b;
	struct sip_uri ru;
	int r;

	if (have_tok == 2) {
		rt->t.flow = rtok;
		rt->gone_code = 430;
	} else {
		if (env->reg == NULL || have_tok || next.len > 0 ||
		    px_is_method(m, "REGISTER") ||
		    sip_uri_parse(m->ruri, &ru) != 0 || ru.user.len == 0)
			return 0;
		if (m->to_tagged && !px_is_method(m, "ACK"))
			return 0;
		r = registrar_lookup(env->reg, ru.user, now_ms, env->alive,
		    env->arg, &b);
		if (r == E_NOTFOUND)
			return 0;	/* not ours: inside, as any other */
		if (r != 0) {
			verdict_reply(rt, 480);
			return 1;
		}
		rt->t.flow = b.flow;
		rt->ruri = b.uri;
		rt->gone_code = 480;
	}
	if (!env->alive(env->arg, rt->t.flow)) {
		verdict_reply(rt, rt->gone_code);
		rt->gone = 1;
		return 1;
	}
	rt->verdict = PX_FLOW;
	rt->t.to_flow = 1;
	return 1;
}

/*
 * A request from outside (flow `flow`): its next hop, or our answer. It
 * goes only where the configuration says: a flow (a registered AoR, or
 * one our token names), the upstream, or an --allow-inside host; a Route
 * or (without an upstream) a Request-URI naming anything else is refused
 * with 403, never followed. With an upstream, the Request-URI is the
 * upstream's to route.
 */
static int
route_outside(const struct px_env *env, const struct sip_msg *m,
    uint64_t flow, uint64_t now_ms, struct px_route *rt)
{
	struct sip_uri u;
	struct slice next;
	uint64_t rtok;
	int have_tok;
	const char *why;

	if (env->conf->reach == PROXY_REGISTRAR &&
	    px_is_method(m, "REGISTER")) {
		rt->verdict = PX_REGISTER;
		return 0;
	}
	if (m->max_forwards == 0)
		return verdict_reply(rt, 483);
	if (scan_routes(env, m, flow, &rtok, &have_tok, &next,
	    &rt->nroutes) != 0)
		return verdict_reply(rt, 400);
	if (env->conf->require_srtp && px_has_sdp(m) &&
	    !px_is_method(m, "ACK") && !mediactl_sdp_has_crypto(m->body))
		return verdict_reply(rt, 488);	/* outside must be SRTP */
	if (other_flow(env, m, have_tok, rtok, next, now_ms, rt))
		return 0;
	/* To an address from here on: the Route set must allow it (to a
	 * flow, what Routes remain are the far client's business). */
	if ((why = routes_refused(env, m, flow, rt->nroutes)) != NULL)
		return refuse(rt, why);
	/* The Request-URI must do for the inside (see inside_ruri()). */
	if (sip_uri_parse(m->ruri, &u) != 0)
		return verdict_reply(rt, 416);
	if (slice_case_eq_cstr(u.scheme, "sips") && !env->conf->allow_sips)
		return verdict_reply(rt, 480);	/* RFC 5630: all TLS */
	/* Next hop: a remaining Route, else upstream, else the R-URI. */
	if (next.len > 0) {
		/* Allowed (routes_refused()), so it parses. */
		if (sip_uri_parse(next, &u) != 0 ||
		    px_uri_dest(&u, &rt->t.dst) != 0)
			return refuse(rt, "Route Not Allowed");
		rt->t.tcp = px_uri_tcp(env, next);
	} else if (env->conf->upstream.len != 0) {
		rt->t.dst = env->conf->upstream;
		rt->t.tcp = env->conf->upstream_tcp && env->tcp;
	} else {
		if (px_uri_dest(&u, &rt->t.dst) != 0 ||
		    px_uri_is_us(env, m->ruri, flow))
			return verdict_reply(rt, 404);
		if (!dest_allowed(env, &rt->t.dst))
			return refuse(rt, "Request-URI Not Allowed");
		rt->t.tcp = px_uri_tcp(env, m->ruri);
	}
	rt->verdict = PX_INSIDE;
	return 0;
}

/* A request from inside: the flow it goes to, or our answer. */
static int
route_inside(const struct px_env *env, const struct sip_msg *m,
    uint64_t now_ms, struct px_route *rt)
{
	struct slice next;
	struct sip_uri ru;
	uint64_t flow = 0;
	int have_tok = 0;

	rt->gone_code = 430;
	if (m->max_forwards == 0)
		return verdict_reply(rt, 483);
	if (scan_routes(env, m, 0, &flow, &have_tok, &next,
	    &rt->nroutes) != 0 || sip_uri_parse(m->ruri, &ru) != 0)
		return verdict_reply(rt, 400);
	if (next.len > 0 && !have_tok)
		return verdict_reply(rt, 404);	/* not ours to route */
	if (!have_tok && ru.user.len == FLOW_TOKEN_LEN &&
	    env->token(env->arg, ru.user, &flow) == 0) {
		/* Contact rewriting: back to the client's own Contact. */
		const char *c = env->contact(env->arg, flow);
		have_tok = 1;
		if (c != NULL)
			rt->ruri = slice_cstr(c);
	}
	if (!have_tok && env->reg != NULL) {
		struct reg_binding b;
		int r = registrar_lookup(env->reg, ru.user, now_ms,
		    env->alive, env->arg, &b);

		rt->gone_code = 480;
		/* Unknown AoR: 404; bindings on dead flows only: 480. */
		if (r != 0)
			return verdict_reply(rt, r == E_NOTFOUND ? 404 :
			    rt->gone_code);
		flow = b.flow;
		have_tok = 1;
		rt->ruri = b.uri;
	}
	if (!have_tok)
		return verdict_reply(rt, 404);
	rt->t.to_flow = 1;
	rt->t.flow = flow;
	if (!env->alive(env->arg, flow)) {
		/* RFC 5626: the flow this request must use is gone. */
		rt->gone = 1;
		return verdict_reply(rt, rt->gone_code);
	}
	rt->verdict = PX_FLOW;
	return 0;
}

/*
 * Where request `m` goes: from outside (flow `flow`) or from inside. It
 * reads `env` and the message and changes neither: the edits are the
 * caller's, after.
 */
void
px_route_request(const struct px_env *env, const struct sip_msg *m,
    int from_outside, uint64_t flow, uint64_t now_ms, struct px_route *rt)
{
	memset(rt, 0, sizeof(*rt));
	if (from_outside)
		(void)route_outside(env, m, flow, now_ms, rt);
	else
		(void)route_inside(env, m, now_ms, rt);
}

/* ---- the edits ---- */

/* Max-Forwards (not 0: px_route_request()): decrement or insert 70. */
static int
max_forwards(const struct sip_msg *m, struct sip_edits *e)
{
	const struct sip_hdr *h = sip_find(m, SIP_H_MAX_FORWARDS);
	char v[16];

	if (h == NULL)
		return sip_edit_add_top(e, m, "Max-Forwards", SLICE_LIT("70"));
	snprintf(v, sizeof(v), "%d", m->max_forwards - 1);
	return sip_edit_replace(e, h->value, slice_cstr(v));
}

/* received/rport on the sender's (top) Via, always (RFC 3581). */
int
px_fix_via(struct sip_edits *e, const struct sip_msg *m,
    const struct net_addr *src)
{
	struct slice v, rv, span;
	struct sip_via via;
	char ip[NET_ADDR_STRLEN];
	int r;

	if (!px_nth_value(m, SIP_H_VIA, 0, &v) || sip_via_parse(v, &via) != 0)
		return E_SYNTAX;
	if (net_addr_format_host(src, ip, sizeof(ip)) != 0)
		return E_INVAL;
	if (sip_param(via.params, "received", NULL, &span)) {
		if ((r = sip_edit_delete(e, span)) != 0)
			return r;
	}
	if (sip_param(via.params, "rport", &rv, &span)) {
		if ((r = sip_edit_delete(e, span)) != 0)
			return r;
	}
	return sip_edit_insertf(e, v.p + v.len, ";received=%s;rport=%u", ip,
	    net_addr_port(src));
}

/* The Request-URI for UDP: no transport=tls, no sips: (px_route_request()
 * refused what cannot be written for UDP). */
static int
inside_ruri(const struct sip_msg *m, struct sip_edits *e)
{
	struct sip_uri u;
	struct slice span, v;
	int r;

	if (sip_uri_parse(m->ruri, &u) != 0)
		return E_SYNTAX;
	if (slice_case_eq_cstr(u.scheme, "sips") &&
	    (r = sip_edit_replace(e, u.scheme, SLICE_LIT("sip"))) != 0)
		return r;
	/* transport=tls is for the outside; udp/tcp are the inside's. */
	if (sip_param(u.params, "transport", &v, &span) &&
	    !slice_case_eq_cstr(v, "udp") && !slice_case_eq_cstr(v, "tcp"))
		return sip_edit_delete(e, span);
	return 0;
}

int
px_add_text_top(struct sip_edits *e, const struct sip_msg *m, const char *text)
{
	const uint8_t *at = m->nhdr > 0 ? m->hdr[0].line.p : m->hdr_end.p;

	return sip_edit_insert(e, at, slice_cstr(text));
}

/* ---- the requests, routed and edited ---- */

/* An outside request refused by policy: counted, logged (rate-limited). */
static void
log_refused(struct proxy *px, const struct net_addr *peer,
    const struct px_route *rt)
{
	char a[NET_ADDR_STRLEN];
	uint64_t quiet;

	px->st.bad++;
	if (!px_ratelog_pass(px, &px->deny_log, &quiet))
		return;
	if (net_addr_format(peer, a, sizeof(a)) != 0)
		a[0] = '\0';
	if (quiet > 0)
		log_msg(px->lg, LOG_WARN, "outside request from %s refused: "
		    "%d %s (and %llu more refusals not logged)", a, rt->code,
		    rt->why != NULL ? rt->why : sip_reason(rt->code),
		    (unsigned long long)quiet);
	else
		log_msg(px->lg, LOG_WARN, "outside request from %s refused: "
		    "%d %s", a, rt->code,
		    rt->why != NULL ? rt->why : sip_reason(rt->code));
}

void
px_request_from_flow(struct proxy *px, uint64_t flow, const struct sip_msg *m)
{
	struct target back = { 1, flow, { .len = 0 }, 0, 0 }, t;
	struct sip_edits *e = sip_edits_new();
	struct px_route rt;
	struct net_addr peer;
	char tok[FLOW_TOKEN_LEN + 1], branch[BRANCH_MAX], line[1024];
	char ohp[NET_ADDR_STRLEN + 64];

	px->st.out_req++;
	if (e == NULL || flow_addrs(px->flows, flow, &peer, NULL) != 0 ||
	    flow_token(px->flows, flow, tok, sizeof(tok)) != 0)
		goto out;
	px_outside_hp(px, flow, ohp, sizeof(ohp));
	px_route_request(&px->env, m, 1, flow, ev_now_ms(px->loop), &rt);
	t = rt.t;
	if (rt.verdict == PX_REGISTER) {
		px_register_local(px, flow, m);
		goto out;
	}
	if (rt.verdict == PX_REPLY) {
		if (rt.code == 403)
			log_refused(px, &peer, &rt);
		px_reply_why(px, m, &back, rt.code, rt.why, NULL);
		goto out;
	}
	if (max_forwards(m, e) != 0)
		goto out;
	if (rt.nroutes > 0 &&
	    px_drop_values(e, m, SIP_H_ROUTE, rt.nroutes) != 0) {
		px_reply(px, m, &back, 400, NULL);
		goto out;
	}
	if (rt.verdict == PX_FLOW) {
		if (rt.ruri.len == 0 ||
		    sip_edit_replace(e, m->ruri, rt.ruri) == 0)
			px_flow_to_flow(px, flow, m, e, &back, t.flow,
			    rt.gone_code);
		goto out;
	}
	if (inside_ruri(m, e) != 0)
		goto out;
	if (px_fix_via(e, m, &peer) != 0) {
		px_reply(px, m, &back, 400, NULL);
		goto out;
	}
	px_our_branch(m, tok, branch, sizeof(branch));
	if (px_is_method(m, "CANCEL"))
		px_cancel_follows(px, slice_cstr(branch), &t);
	snprintf(line, sizeof(line), "Via: SIP/2.0/%s %s;branch=%s;rport\r\n",
	    t.tcp ? "TCP" : "UDP", px->in_hp, branch);
	if (px_add_text_top(e, m, line) != 0)
		goto out;
	if (px_dialog_forming(m)) {
		/* Two entries, one per face: the inside sees its own first. */
		snprintf(line, sizeof(line), "Record-Route: <sip:%s@%s%s;lr>\r\n"
		    "Record-Route: <sip:%s@%s;transport=%s;lr>\r\n",
		    tok, px->in_hp, t.tcp ? ";transport=tcp" : "", tok, ohp,
		    px_uri_tp(px, flow));
		if (px_add_text_top(e, m, line) != 0)
			goto out;
	}
	if (px_is_method(m, "REGISTER") && px_register_reach(px, m, e, flow,
	    tok, t.tcp ? ";transport=tcp" : "") != 0)
		goto out;
	if (px_is_method(m, "INVITE"))
		px_reply(px, m, &back, 100, NULL);
	px_media_end(px, m, PX_END_BYE);
	px_dlg_request(px, m, 1, flow);
	px_forward(px, m, e, &t, &back, 0, slice_cstr(branch), flow);
out:
	sip_edits_free(e);
}

void
px_request_from_inside(struct proxy *px, const struct net_addr *src,
    uint64_t conn, const struct sip_msg *m)
{
	struct target back = { 0, 0, *src, conn != 0, conn }, t;
	struct sip_edits *e = sip_edits_new();
	struct px_route rt;
	char tok[FLOW_TOKEN_LEN + 1], branch[BRANCH_MAX], line[1024];
	char ohp[NET_ADDR_STRLEN + 64];
	struct slice v;
	struct sip_via via;
	uint64_t h;

	px->st.in_req++;
	if (e == NULL)
		goto out;
	px_route_request(&px->env, m, 0, 0, ev_now_ms(px->loop), &rt);
	t = rt.t;
	if (rt.verdict == PX_REPLY) {
		if (rt.gone)
			goto gone;
		px_reply(px, m, &back, rt.code, NULL);
		goto out;
	}
	if (max_forwards(m, e) != 0)
		goto out;
	if (rt.nroutes > 0 &&
	    px_drop_values(e, m, SIP_H_ROUTE, rt.nroutes) != 0) {
		px_reply(px, m, &back, 400, NULL);
		goto out;
	}
	if (rt.ruri.len > 0 && sip_edit_replace(e, m->ruri, rt.ruri) != 0)
		goto out;
	if (flow_token(px->flows, t.flow, tok, sizeof(tok)) != 0)
		goto gone;
	px_outside_hp(px, t.flow, ohp, sizeof(ohp));
	if (px_fix_via(e, m, src) != 0) {
		px_reply(px, m, &back, 400, NULL);
		goto out;
	}
	(void)px_nth_value(m, SIP_H_VIA, 0, &v);
	h = hash64_slice(HASH64_INIT, sip_via_parse(v, &via) == 0 ?
	    via.branch : m->call_id);
	snprintf(branch, sizeof(branch), "z9hG4bKsbi.%016llx",
	    (unsigned long long)h);
	snprintf(line, sizeof(line), "Via: SIP/2.0/%s %s;branch=%s\r\n",
	    px_via_tp(px, t.flow), ohp, branch);
	if (px_add_text_top(e, m, line) != 0)
		goto out;
	if (px_dialog_forming(m)) {
		/* The client (callee) sees its own face first. */
		snprintf(line, sizeof(line),
		    "Record-Route: <sip:%s@%s;transport=%s;lr>\r\n"
		    "Record-Route: <sip:%s@%s%s;lr>\r\n",
		    tok, ohp, px_uri_tp(px, t.flow), tok, px->in_hp,
		    conn != 0 ? ";transport=tcp" : "");
		if (px_add_text_top(e, m, line) != 0)
			goto out;
	}
	px_media_end(px, m, PX_END_BYE);
	px_dlg_request(px, m, 0, t.flow);
	px_forward(px, m, e, &t, &back, 1, slice_cstr(branch), t.flow);
	goto out;
gone:
	/* RFC 5626: the flow this request must use is gone. */
	px_media_end(px, m, PX_END_GONE);
	px_reply(px, m, &back, rt.gone_code, NULL);
out:
	sip_edits_free(e);
}

void
px_response_from_inside(struct proxy *px, const struct sip_msg *m)
{
	struct sip_edits *e = NULL;
	struct slice v;
	struct sip_via via;
	struct sip_uri dummy;
	struct target t;
	char key[BRANCH_MAX + 16];
	struct txn *tx;
	int klen;

	(void)dummy;
	px->st.in_resp++;
	memset(&t, 0, sizeof(t));
	if (px_nth_value(m, SIP_H_VIA, 0, &v) && sip_via_parse(v, &via) == 0 &&
	    slice_case_eq_cstr(via.sent_by, px->in_hp) &&
	    px_own_response(px, m, via.branch))
		return;
	if (!px_nth_value(m, SIP_H_VIA, 0, &v) || sip_via_parse(v, &via) != 0 ||
	    !slice_case_eq_cstr(via.sent_by, px->in_hp) ||
	    via.branch.len < 7 + FLOW_TOKEN_LEN ||
	    flow_token_check(px->flows, slice_make(via.branch.p + 7,
	    FLOW_TOKEN_LEN), &t.flow) != 0) {
		px->st.dropped++;
		log_msg(px->lg, LOG_DEBUG, "response not for us: dropped");
		return;
	}
	t.to_flow = 1;
	klen = px_txn_key(m, via.branch, key, sizeof(key));
	if (klen > 0 && (tx = *px_txn_find(px, slice_make(key, (size_t)klen)))
	    != NULL) {
		tx->got_resp = 1;
		if (m->status >= 200)
			px_txn_free(px, tx);
	}
	/* 100 Trying is hop by hop (we sent our own). */
	if (m->status == 100)
		return;
	if ((e = sip_edits_new()) == NULL)
		return;
	if (px_drop_values(e, m, SIP_H_VIA, 1) != 0)
		goto out;
	if (px->conf.reach == PROXY_CONTACT &&
	    slice_eq_cstr(m->cseq_method, "REGISTER") &&
	    px_restore_contacts(px, m, e, t.flow) != 0)
		goto out;
	px_dlg_response(px, m, 0, t.flow);
	px_forward(px, m, e, &t, &t, 1, SLICE_NULL, t.flow);
out:
	sip_edits_free(e);
}

void
px_response_from_flow(struct proxy *px, uint64_t flow, const struct sip_msg *m)
{
	struct sip_edits *e = NULL;
	struct slice v, rp, rc;
	struct sip_via via;
	struct target t;

	px->st.out_resp++;
	memset(&t, 0, sizeof(t));
	/* For another outside client: our branch carries its flow token. */
	if (px_nth_value(m, SIP_H_VIA, 0, &v) && sip_via_parse(v, &via) == 0 &&
	    via.branch.len > 7 + FLOW_TOKEN_LEN && flow_token_check(px->flows,
	    slice_make(via.branch.p + 7, FLOW_TOKEN_LEN), &t.flow) == 0) {
		px_response_to_flow(px, m, t.flow);
		return;
	}
	if (!px_nth_value(m, SIP_H_VIA, 0, &v) || sip_via_parse(v, &via) != 0 ||
	    !(via.branch.len > 11 && memcmp(via.branch.p, "z9hG4bKsbi.", 11)
	    == 0)) {
		px->st.dropped++;
		px_log_bad(px, 1, flow, NULL, "response with a foreign Via",
		    E_NOTFOUND);
		return;
	}
	/* Back to the sender of the request, by its received/rport. */
	if (!px_nth_value(m, SIP_H_VIA, 1, &v) || sip_via_parse(v, &via) != 0) {
		px->st.dropped++;
		return;
	}
	{
		uint16_t port = via.port ? via.port : 5060;
		uint64_t p;
		struct slice host = via.host;
		if (sip_param(via.params, "rport", &rp, NULL) && rp.len > 0 &&
		    slice_to_u64(rp, 65535, &p) == 0 && p > 0)
			port = (uint16_t)p;
		if (sip_param(via.params, "received", &rc, NULL) && rc.len > 0)
			host = rc;
		if (net_addr_parse_host(host, port, &t.dst) != 0) {
			px->st.dropped++;
			return;
		}
		/* RFC 3261 §18.2.2: over TCP, the request's connection, else
		 * a new one to the sent-by port. */
		if (px->tcp != NULL && slice_case_eq_cstr(via.transport, "TCP")) {
			t.tcp = 1;
			if (tcpconn_find(px->tcp, &t.dst, &t.conn) != 0)
				net_addr_set_port(&t.dst, via.port ? via.port :
				    5060);
		}
	}
	if ((e = sip_edits_new()) == NULL)
		return;
	px_dlg_response(px, m, 1, flow);
	if (px_drop_values(e, m, SIP_H_VIA, 1) == 0)
		px_forward(px, m, e, &t, &t, 0, SLICE_NULL, flow);
	sip_edits_free(e);
}
