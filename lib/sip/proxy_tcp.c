/* proxy_tcp.c - the proxy's inside TCP: sends, transports, lost links. */
#include <errno.h>

#include "sip/proxy_int.h"

int
px_send_tcp(struct proxy *px, struct target *t, struct slice b)
{
	int r;

	px_trace_out(px, 0, 0, 1, &t->dst, b);
	if (px->tcp == NULL)
		r = E_STATE;
	else if (t->conn != 0)
		r = tcpconn_send_conn(px->tcp, t->conn, b.p, b.len);
	else
		r = tcpconn_send(px->tcp, &t->dst, b.p, b.len, &t->conn);
	if (r != 0) {
		px->st.dropped++;
		log_msg(px->lg, LOG_INFO, "inside: tcp send: %s",
		    sbk_strerror(r));
	} else
		px_obs_out_tcp(px, t->conn, &t->dst, b);
	return r;
}

/* Does this next-hop URI ask for TCP (and do we have it)? */
int
px_uri_tcp(const struct px_env *env, struct slice uri)
{
	struct sip_uri u;
	struct slice v;

	return env->tcp && sip_uri_parse(uri, &u) == 0 &&
	    sip_param(u.params, "transport", &v, NULL) &&
	    slice_case_eq_cstr(v, "tcp");
}

/* One of our own inside URIs: a flow token at our inside host:port. */
static int
our_inside_uri(struct proxy *px, struct slice uri, struct sip_uri *u)
{
	uint64_t f;

	return sip_uri_parse(uri, u) == 0 &&
	    slice_case_eq_cstr(u->host, px->in_host) &&
	    (u->port ? u->port : 5060) == px->in_port &&
	    px_uri_token(&px->env, uri, &f);
}

/*
 * Rewrite a request we built for the inside to another transport: our
 * (top) Via says TCP or UDP, and our own Record-Route, Path and Contact
 * entries get or lose ";transport=tcp". Appends the result to `out`.
 */
int
px_retransport(struct proxy *px, struct slice msg, int tcp, struct buf *out)
{
	static const enum sip_hid ids[] = {
		SIP_H_RECORD_ROUTE, SIP_H_PATH, SIP_H_CONTACT
	};
	struct sip_msg m;
	struct sip_edits *e;
	struct sip_via via;
	struct slice v;
	size_t k;
	int r;

	if ((r = sip_parse(&m, msg)) != 0)
		return r;
	if (!m.is_request || !px_nth_value(&m, SIP_H_VIA, 0, &v) ||
	    sip_via_parse(v, &via) != 0 ||
	    !slice_case_eq_cstr(via.sent_by, px->in_hp))
		return E_INVAL;
	if ((e = sip_edits_new()) == NULL)
		return E_NOMEM;
	r = sip_edit_replace(e, via.transport, tcp ? SLICE_LIT("TCP") :
	    SLICE_LIT("UDP"));
	for (k = 0; r == 0 && k < sizeof(ids) / sizeof(ids[0]); k++) {
		long i = -1;

		while (r == 0 && (i = sip_next(&m, ids[k], (size_t)(i + 1)))
		    >= 0) {
			struct slice cur = m.hdr[i].value, val, span;
			while (r == 0 && sip_value_next(&cur, &val)) {
				struct sip_addr a;
				struct sip_uri u;
				int has;

				if (sip_addr_parse(val, &a) != 0 ||
				    !our_inside_uri(px, a.uri, &u))
					continue;
				has = sip_param(u.params, "transport", NULL,
				    &span);
				if (tcp && !has)
					r = sip_edit_insert(e, u.params.len > 0 ?
					    u.params.p : u.headers.len > 0 ?
					    u.headers.p - 1 : a.uri.p + a.uri.len,
					    SLICE_LIT(";transport=tcp"));
				else if (!tcp && has)
					r = sip_edit_delete(e, span);
			}
		}
	}
	if (r == 0)
		r = sip_edits_apply(e, &m, out);
	sip_edits_free(e);
	return r;
}

/* A request could not go inside over TCP: the client gets a 503. */
void
px_tcp_failed(struct proxy *px, uint64_t flow, struct slice orig)
{
	struct target back = { 1, flow, { .len = 0 }, 0, 0 };
	struct sip_msg m;

	if (flow == 0 || sip_parse(&m, orig) != 0)
		return;
	log_msg(px->lg, LOG_INFO, "inside TCP connection failed: 503");
	px_media_end(px, &m, PX_END_FAILED);
	px_reply(px, &m, &back, 503, NULL);
}

void
proxy_set_tcp(struct proxy *px, struct tcpconn_table *tc)
{
	px->tcp = tc;
	px->env.tcp = tc != NULL;
}

void
proxy_from_tcp(struct proxy *px, uint64_t conn, const struct net_addr *src,
    struct slice msg)
{
	px_from_inside(px, src, conn, msg);
}

void
proxy_tcp_closed(struct proxy *px, uint64_t conn, const struct net_addr *peer,
    int err)
{
	struct txn *t, *next;
	size_t i;

	(void)conn;
	/* A connection that was up: its transactions wait for an answer
	 * (the peer may open a new connection) or their 408. */
	if (err == 0)
		return;
	for (i = 0; i < TXN_BUCKETS; i++) {
		for (t = px->txn[i]; t != NULL; t = next) {
			next = t->next;
			if (!t->tcp || t->got_resp || !net_addr_eq(&t->dst, peer))
				continue;
			if (t->udp_alt == NULL) {
				px_tcp_failed(px, t->flow, buf_slice(t->orig));
				px_txn_free(px, t);
				continue;
			}
			/* RFC 3261 §18.1.1: moved to TCP for its size, and
			 * the connection was refused: UDP after all. */
			log_msg(px->lg, LOG_INFO, "inside TCP refused: UDP");
			buf_free(t->fwd);
			t->fwd = t->udp_alt;
			t->udp_alt = NULL;
			t->tcp = 0;
			px_send_inside(px, &t->dst, buf_slice(t->fwd));
			if (t->timer > 0)
				(void)ev_timer_del(px->loop, (uint64_t)t->timer);
			t->interval = px->conf.t1_ms;
			t->timer = ev_timer_add(px->loop, t->interval,
			    px_txn_timer, t);
		}
	}
}
