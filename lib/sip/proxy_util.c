/* proxy_util.c - helpers: our faces, URIs, branches, sends, answers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sip/proxy_int.h"

int
px_is_method(const struct sip_msg *m, const char *name)
{
	return slice_eq_cstr(m->method, name);
}

int
px_dialog_forming(const struct sip_msg *m)
{
	if (!px_is_method(m, "INVITE") && !px_is_method(m, "SUBSCRIBE") &&
	    !px_is_method(m, "REFER"))
		return 0;
	/* In-dialog requests (To tag) keep their route set. */
	return !m->to_tagged;
}

/* Host of `a` for a URI or Via ("1.2.3.4", "[::1]"). */
void
px_uri_host(const struct net_addr *a, char *out, size_t n)
{
	char h[NET_ADDR_STRLEN];

	if (net_addr_format_host(a, h, sizeof(h)) != 0)
		h[0] = '\0';
	if (net_addr_family(a) == AF_INET6)
		snprintf(out, n, "[%s]", h);
	else
		snprintf(out, n, "%s", h);
}

/* Our outside face as seen on `flow`: "host:port". */
void
px_outside_hp(struct proxy *px, uint64_t flow, char *out, size_t n)
{
	struct net_addr local;
	char h[NET_ADDR_STRLEN];
	uint16_t port = px->conf.outside_port;

	memset(&local, 0, sizeof(local));
	/* --advertise's port is the SIP/TLS listener's; a WebSocket flow
	 * names the port it came to. */
	if (flow_addrs(px->flows, flow, NULL, &local) == 0 && (port == 0 ||
	    flow_kind(px->flows, flow) != FLOW_TLS))
		port = net_addr_port(&local);
	if (port == 0)
		port = 5061;
	if (px->conf.outside_host != NULL)
		snprintf(out, n, "%s:%u", px->conf.outside_host, port);
	else {
		px_uri_host(&local, h, sizeof(h));
		snprintf(out, n, "%s:%u", h, port);
	}
}

const char *
px_via_tp(struct proxy *px, uint64_t flow)
{
	switch (flow_kind(px->flows, flow)) {
	case FLOW_WSS: return "WSS";
	case FLOW_WS: return "WS";
	default: return "TLS";
	}
}

const char *
px_uri_tp(struct proxy *px, uint64_t flow)
{
	return flow_kind(px->flows, flow) == FLOW_TLS ? "tls" : "ws";
}

/* Value `idx` (0-based) among all values of headers `id`, in order. */
int
px_nth_value(const struct sip_msg *m, enum sip_hid id, size_t idx,
    struct slice *val)
{
	long i = -1;
	size_t k = 0;

	while ((i = sip_next(m, id, (size_t)(i + 1))) >= 0) {
		struct slice cur = m->hdr[i].value, v;
		while (sip_value_next(&cur, &v)) {
			if (k++ == idx) {
				*val = v;
				return 1;
			}
		}
	}
	return 0;
}

/*
 * The branch of our Via on `m`, from the client's: deterministic, because
 * the CANCEL and the non-2xx ACK of an INVITE carry the client's INVITE
 * branch and must get ours too. `tok` names the flow it came from.
 */
void
px_our_branch(const struct sip_msg *m, const char *tok, char *out, size_t n)
{
	struct sip_via via;
	struct slice v, cbranch;
	uint64_t h;

	(void)px_nth_value(m, SIP_H_VIA, 0, &v);
	cbranch = sip_via_parse(v, &via) == 0 ? via.branch : SLICE_NULL;
	h = hash64_slice(HASH64_INIT, cbranch);
	if (cbranch.len == 0) {
		h = hash64_slice(h, m->call_id);
		h ^= m->cseq;
	}
	snprintf(out, n, "z9hG4bK%s.%016llx", tok, (unsigned long long)h);
}

/*
 * Drop the first `ndrop` values of the headers `id`: a header left empty
 * loses its line, one partly dropped gets its remaining values.
 */
int
px_drop_values(struct sip_edits *e, const struct sip_msg *m, enum sip_hid id,
    size_t ndrop)
{
	long i = -1;
	int r;

	while (ndrop > 0 && (i = sip_next(m, id, (size_t)(i + 1))) >= 0) {
		struct slice cur = m->hdr[i].value, v;
		size_t nv = 0;

		while (sip_value_next(&cur, &v))
			nv++;
		if (nv <= ndrop) {
			if ((r = sip_edit_delete(e, m->hdr[i].line)) != 0)
				return r;
			ndrop -= nv;
			continue;
		}
		/* Keep from the (ndrop+1)-th value to the end of the line. */
		cur = m->hdr[i].value;
		for (size_t k = 0; k < ndrop; k++)
			(void)sip_value_next(&cur, &v);
		while (cur.len > 0 && (cur.p[0] == ' ' || cur.p[0] == '\t' ||
		    cur.p[0] == '\r' || cur.p[0] == '\n'))
			(void)slice_skip(&cur, 1);
		return sip_edit_delete(e, slice_make(m->hdr[i].value.p,
		    (size_t)(cur.p - m->hdr[i].value.p)));
	}
	return 0;
}

/* A host[:port] of a URI as a socket address (numeric hosts only). */
int
px_uri_dest(const struct sip_uri *u, struct net_addr *a)
{
	return net_addr_parse_host(u->host, u->port ? u->port : 5060, a);
}

/* Is `uri` our inside face? */
int
px_uri_is_inside(const struct px_env *env, struct slice uri)
{
	struct sip_uri u;

	return sip_uri_parse(uri, &u) == 0 &&
	    slice_case_eq_cstr(u.host, env->in_host) &&
	    (u.port ? u.port : 5060) == env->in_port;
}

/* Is `uri` one of our faces (inside, or the outside as seen on flow)? */
int
px_uri_is_us(const struct px_env *env, struct slice uri, uint64_t flow)
{
	struct sip_uri u;
	struct net_addr local;
	char h[NET_ADDR_STRLEN];
	uint16_t port;
	uint64_t tf;

	if (sip_uri_parse(uri, &u) != 0)
		return 0;
	port = u.port;
	if (slice_case_eq_cstr(u.host, env->in_host) &&
	    (port ? port : 5060) == env->in_port)
		return 1;
	if (port == 0)
		port = (slice_case_eq_cstr(u.scheme, "sips") ||
		    sip_param(u.params, "transport", NULL, NULL)) ? 5061 : 5060;
	if (env->conf->outside_host != NULL &&
	    slice_case_eq_cstr(u.host, env->conf->outside_host) &&
	    (env->conf->outside_port == 0 || port == env->conf->outside_port))
		return 1;
	/* --advertise with a port, and a WebSocket flow's own port. */
	if (env->conf->outside_host != NULL &&
	    slice_case_eq_cstr(u.host, env->conf->outside_host) &&
	    ((flow != 0 && env->local(env->arg, flow, &local) == 0 &&
	    port == net_addr_port(&local)) || (u.user.len == FLOW_TOKEN_LEN &&
	    env->token(env->arg, u.user, &tf) == 0 &&
	    env->local(env->arg, tf, &local) == 0 &&
	    port == net_addr_port(&local))))
		return 1;
	if (flow != 0 && env->local(env->arg, flow, &local) == 0) {
		px_uri_host(&local, h, sizeof(h));
		if (slice_case_eq_cstr(u.host, h) &&
		    port == net_addr_port(&local))
			return 1;
	}
	/* Our outside face as seen on the flow its token names: the far
	 * Record-Route entry of a dialog, in a request from the other side. */
	if (u.user.len == FLOW_TOKEN_LEN &&
	    env->token(env->arg, u.user, &tf) == 0 && tf != flow &&
	    env->local(env->arg, tf, &local) == 0) {
		px_uri_host(&local, h, sizeof(h));
		if (slice_case_eq_cstr(u.host, h) &&
		    port == net_addr_port(&local))
			return 1;
	}
	return 0;
}

/* A flow token in the user part of `uri`, if any. */
int
px_uri_token(const struct px_env *env, struct slice uri, uint64_t *flow)
{
	struct sip_uri u;

	if (sip_uri_parse(uri, &u) != 0 || u.user.len != FLOW_TOKEN_LEN)
		return 0;
	return env->token(env->arg, u.user, flow) == 0;
}

void
px_send_inside(struct proxy *px, const struct net_addr *dst, struct slice b)
{
	struct net_pkt p;

	px_trace_out(px, 0, 0, 0, dst, b);
	memset(&p, 0, sizeof(p));
	p.buf = (uint8_t *)(uintptr_t)b.p;
	p.len = b.len;
	p.cap = b.len;
	p.addr = *dst;
	if (net_send(px->udp_fd, &p) != 0) {
		int e = errno;
		uint64_t quiet;

		px->st.dropped++;
		if (px_ratelog_pass(px, &px->send_log, &quiet))
			log_msg(px->lg, LOG_WARN, "inside: send failed: %s "
			    "(and %llu more not logged)", strerror(e),
			    (unsigned long long)quiet);
	}
}

static void
send_flow(struct proxy *px, uint64_t flow, struct slice b)
{
	int r;

	px_trace_out(px, 1, flow, 0, NULL, b);
	r = flow_send(px->flows, flow, b.p, b.len);
	if (r != 0) {
		px->st.dropped++;
		log_msg(px->lg, LOG_INFO, "outside: flow gone, %zu bytes dropped",
		    b.len);
	}
}

/* 0, or why a TCP send failed (counted and logged here). */
int
px_deliver(struct proxy *px, const struct target *t, struct slice b)
{
	struct target tt = *t;

	if (t->to_flow)
		send_flow(px, t->flow, b);
	else if (t->tcp)
		return px_send_tcp(px, &tt, b);
	else
		px_send_inside(px, &t->dst, b);
	return 0;
}

/*
 * Answer request `m` ourselves, back where it came from, with `reason`
 * (NULL: the standard phrase). A request sip_parse() refused gets the
 * status and reason it named instead (400 or 505). Never an ACK.
 */
void
px_reply_why(struct proxy *px, const struct sip_msg *m,
    const struct target *back, int code, const char *reason,
    const char *extra)
{
	struct buf *b;
	char tag[24];
	uint64_t h;

	if (!m->is_request || px_is_method(m, "ACK"))
		return;
	if (m->bad_status != 0) {
		code = m->bad_status;
		reason = m->bad_reason;
	}
	if ((b = buf_new(MAX_SIP)) == NULL)
		return;
	/* A stable To tag: retransmitted requests get the same answer. */
	h = hash64_slice(HASH64_INIT, m->call_id);
	snprintf(tag, sizeof(tag), "sbk%016llx", (unsigned long long)h);
	if (sip_build_response(m, code, reason, slice_cstr(tag),
	    extra != NULL ? slice_cstr(extra) : SLICE_NULL, b) == 0)
		px_deliver(px, back, buf_slice(b));
	buf_free(b);
}

void
px_reply(struct proxy *px, const struct sip_msg *m, const struct target *back,
    int code, const char *extra)
{
	px_reply_why(px, m, back, code, NULL, extra);
}

/*
 * 1 if a line may be logged now (then *quiet: how many were not since
 * the last one), 0 if it is counted instead: a line a second at most.
 */
int
px_ratelog_pass(struct proxy *px, struct px_ratelog *rl, uint64_t *quiet)
{
	uint64_t now = ev_now_ms(px->loop);

	if (rl->last_ms != 0 && now - rl->last_ms < 1000) {
		rl->quiet++;
		return 0;
	}
	*quiet = rl->quiet;
	rl->last_ms = now != 0 ? now : 1;
	rl->quiet = 0;
	return 1;
}

/* Bad input is counted, and logged (px_ratelog_pass()). */
void
px_log_bad(struct proxy *px, int from_flow, uint64_t flow,
    const struct net_addr *src, const char *what, int err)
{
	char a[NET_ADDR_STRLEN] = "?";
	struct net_addr peer;
	uint64_t quiet;

	px->st.bad++;
	if (!px_ratelog_pass(px, &px->bad_log, &quiet))
		return;
	if (from_flow) {
		if (flow_addrs(px->flows, flow, &peer, NULL) == 0 &&
		    net_addr_format(&peer, a, sizeof(a)) != 0)
			a[0] = '\0';
	} else if (net_addr_format(src, a, sizeof(a)) != 0)
		a[0] = '\0';
	if (quiet > 0)
		log_msg(px->lg, LOG_INFO, "%s from %s: %s (and %llu more bad "
		    "messages not logged)", what, a, sbk_strerror(err),
		    (unsigned long long)quiet);
	else
		log_msg(px->lg, LOG_INFO, "%s from %s: %s", what, a,
		    sbk_strerror(err));
}
