/* proxy.c - the SIP proxy between TLS flows (outside) and UDP/TCP (inside). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sip/proxy_int.h"

void
proxy_from_flow(struct proxy *px, uint64_t flow, struct slice raw)
{
	struct sip_msg m;
	int r = sip_parse(&m, raw);

	if (r != 0) {
		struct target back = { 1, flow, { .len = 0 }, 0, 0 };
		px_log_bad(px, 1, flow, NULL, "malformed SIP", r);
		/* Answer what can be answered; responses are dropped. */
		if (m.is_request && m.call_id.len > 0 && m.cseq_method.len > 0 &&
		    sip_find(&m, SIP_H_VIA) != NULL)
			px_reply(px, &m, &back, 400, NULL);
		return;
	}
	px_trace_in(px, 1, flow, 0, NULL, &m);
	if (!m.is_request) {
		px_response_from_flow(px, flow, &m);
		return;
	}
	/* Who may ask (proxy_auth.c): limits, bans, digest. */
	if (px->auth != NULL) {
		const struct sip_msg *go = px_auth_request(px, flow, &m);

		if (go != NULL)
			px_request_from_flow(px, flow, go);
		return;
	}
	px_request_from_flow(px, flow, &m);
}

void
px_from_inside(struct proxy *px, const struct net_addr *src, uint64_t conn,
    struct slice raw)
{
	struct sip_msg m;
	int r;

	/* Keep-alives and stray CRLFs on UDP. */
	if (raw.len <= 4)
		return;
	r = sip_parse(&m, raw);
	if (r != 0) {
		struct target back = { 0, 0, *src, conn != 0, conn };
		px_log_bad(px, 0, 0, src, "malformed SIP", r);
		if (m.is_request && m.call_id.len > 0 && m.cseq_method.len > 0 &&
		    sip_find(&m, SIP_H_VIA) != NULL)
			px_reply(px, &m, &back, 400, NULL);
		return;
	}
	px_trace_in(px, 0, 0, conn, src, &m);
	if (m.is_request)
		px_request_from_inside(px, src, conn, &m);
	else {
		px_auth_response(px, &m);
		px_response_from_inside(px, &m);
	}
}

static void
udp_event(struct ev_loop *loop, int fd, unsigned ev, void *arg)
{
	struct proxy *px = arg;
	int n;

	(void)loop;
	(void)ev;
	for (n = 0; n < 64; n++) {
		struct net_pkt p;

		memset(&p, 0, sizeof(p));
		p.buf = px->rbuf;
		p.cap = sizeof(px->rbuf);
		if (net_recv(fd, &p) != 0)
			return;
		if (p.trunc)
			continue;
		px_from_inside(px, &p.addr, 0, slice_make(p.buf, p.len));
	}
}

static void
dlg_sweep(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct proxy *px = arg;

	(void)id;
	(void)dialog_expire(px->dlg, ev_now_ms(loop));
	px->dlg_timer = ev_timer_add(loop, 10000, dlg_sweep, px);
}

static void
reg_sweep(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct proxy *px = arg;

	(void)id;
	(void)registrar_expire(px->reg, ev_now_ms(loop));
	px->reg_timer = ev_timer_add(loop, 10000, reg_sweep, px);
}

/* The routing decisions' view of the proxy's tables (struct px_env). */
static int
env_alive(void *arg, uint64_t flow)
{
	struct proxy *px = arg;

	return flow_alive(px->flows, flow);
}

static int
env_token(void *arg, struct slice tok, uint64_t *flow)
{
	struct proxy *px = arg;

	return flow_token_check(px->flows, tok, flow);
}

static int
env_local(void *arg, uint64_t flow, struct net_addr *local)
{
	struct proxy *px = arg;

	return flow_addrs(px->flows, flow, NULL, local);
}

static const char *
env_contact(void *arg, uint64_t flow)
{
	return px_cmap_get(arg, flow);
}

struct proxy *
proxy_new(struct ev_loop *loop, struct flow_table *flows, int udp_fd,
    const struct proxy_conf *conf, const struct logger *lg, int *err)
{
	struct proxy *px = calloc(1, sizeof(*px));
	struct net_addr bound;
	int r;

	*err = E_NOMEM;
	if (px == NULL)
		return NULL;
	px->loop = loop;
	px->flows = flows;
	px->udp_fd = udp_fd;
	px->conf = *conf;
	px->lg = lg;
	if (px->conf.t1_ms == 0)
		px->conf.t1_ms = 500;
	if (px->conf.timeout_ms == 0)
		px->conf.timeout_ms = 32000;
	if (px->conf.reg_max_s == 0)
		px->conf.reg_max_s = 3600;
	if (px->conf.max_regs == 0)
		px->conf.max_regs = 100000;
	if (px->conf.max_txns == 0)
		px->conf.max_txns = 100000;
	/* Our inside face as others must write it (the bound port). */
	bound = conf->inside;
	if (net_addr_port(&bound) == 0 && net_local_addr(udp_fd, &bound) == 0)
		net_addr_set_port(&px->conf.inside,
		    net_addr_port(&bound));
	px->in_port = net_addr_port(&px->conf.inside);
	px_uri_host(&px->conf.inside, px->in_host, sizeof(px->in_host));
	snprintf(px->in_hp, sizeof(px->in_hp), "%s:%u", px->in_host,
	    px->in_port);
	if (conf->reach == PROXY_REGISTRAR) {
		if ((px->reg = registrar_new(px->conf.max_regs)) == NULL) {
			free(px);
			return NULL;
		}
		px->reg_timer = ev_timer_add(loop, 10000, reg_sweep, px);
		registrar_set_live(px->reg, env_alive, px);
	}
	px->env.conf = &px->conf;
	px->env.in_host = px->in_host;
	px->env.in_port = px->in_port;
	px->env.reg = px->reg;
	px->env.alive = env_alive;
	px->env.token = env_token;
	px->env.local = env_local;
	px->env.contact = env_contact;
	px->env.arg = px;
	if (conf->bye_on_loss) {
		struct dialog_conf dc;

		memset(&dc, 0, sizeof(dc));
		dc.max = conf->max_dialogs;
		dc.is_us = px_dlg_is_us;
		dc.arg = px;
		if ((px->dlg = dialog_table_new(&dc, &r)) == NULL) {
			registrar_free(px->reg);
			free(px);
			*err = r;
			return NULL;
		}
		px->dlg_timer = ev_timer_add(loop, 10000, dlg_sweep, px);
	}
	if ((r = ev_fd_add(loop, udp_fd, EV_READ, udp_event, px)) != 0) {
		if (px->dlg_timer > 0)
			(void)ev_timer_del(loop, (uint64_t)px->dlg_timer);
		dialog_table_free(px->dlg);
		registrar_free(px->reg);
		free(px);
		*err = r;
		return NULL;
	}
	*err = 0;
	return px;
}

void
proxy_free(struct proxy *px)
{
	size_t i;

	if (px == NULL)
		return;
	/* First: dropping the contact map below must send no BYEs. */
	if (px->dlg_timer > 0)
		(void)ev_timer_del(px->loop, (uint64_t)px->dlg_timer);
	dialog_table_free(px->dlg);
	px->dlg = NULL;
	for (i = 0; i < TXN_BUCKETS; i++)
		while (px->txn[i] != NULL)
			px_txn_free(px, px->txn[i]);
	for (i = 0; i < CMAP_BUCKETS; i++)
		while (px->cmap[i] != NULL)
			proxy_flow_closed(px, px->cmap[i]->flow);
	if (px->reg_timer > 0)
		(void)ev_timer_del(px->loop, (uint64_t)px->reg_timer);
	registrar_free(px->reg);
	px_auth_free(px->auth);
	px_keying_free(px);
	(void)ev_fd_del(px->loop, px->udp_fd);
	close(px->udp_fd);
	free(px);
}

void
proxy_set_media(struct proxy *px, struct mediactl *mc)
{
	px->mc = mc;
}

void
proxy_stats(const struct proxy *px, struct proxy_stats *st)
{
	*st = px->st;
	st->txns = px->ntxn;
	st->regs = px->reg != NULL ? registrar_count(px->reg) : 0;
	st->dialogs = px->dlg != NULL ? dialog_confirmed(px->dlg) : 0;
}
