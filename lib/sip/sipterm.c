/* sipterm.c - sip-tls-term's machinery: TLS flows, proxy, inside TCP, media. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "base/metrics.h"
#include "sip/digest.h"
#include "sip/sipobs.h"
#include "sip/sipterm.h"

/* A credentials file larger than this is refused (about 160,000 lines). */

struct sipterm {
	struct ev_loop *loop;
	const struct logger *lg;
	struct tls_server *tls;
	struct flow_table *flows;
	struct tcpconn_table *tcp;
	struct proxy *px;
	struct mediactl *mc;
	const char *auth_file;		/* borrowed from the conf */
	const char *tls_keylog;		/* borrowed from the conf */
	int guarded;			/* auth or limits: a summary */
};

static void
on_msg(void *arg, uint64_t flow, struct slice msg)
{
	proxy_from_flow(((struct sipterm *)arg)->px, flow, msg);
}

static void
on_closed(void *arg, uint64_t flow)
{
	proxy_flow_closed(((struct sipterm *)arg)->px, flow);
}

static void
on_tcp_msg(void *arg, uint64_t conn, const struct net_addr *src,
    struct slice msg)
{
	proxy_from_tcp(((struct sipterm *)arg)->px, conn, src, msg);
}

static void
on_tcp_closed(void *arg, uint64_t conn, const struct net_addr *peer, int err)
{
	proxy_tcp_closed(((struct sipterm *)arg)->px, conn, peer, err);
}

static void
reload_creds(struct sipterm *st)
{
	struct digest_creds *c;
	char why[128];
	int r, sys;

	if (st->auth_file == NULL)
		return;
	if ((r = digest_creds_read(st->auth_file, &c, &sys, why, sizeof(why))) != 0) {
		log_msg(st->lg, LOG_ERR, "auth: %s: %s%s%s; old credentials "
		    "kept", st->auth_file, r == E_IO && sys != 0 ?
		    strerror(sys) : sbk_strerror(r), why[0] ? ": " : "", why);
		return;
	}
	log_msg(st->lg, LOG_INFO, "auth: %s reloaded: %zu entries",
	    st->auth_file, digest_creds_count(c));
	proxy_auth_swap(st->px, c);
}

/* The counters that say who was refused (SIGUSR1, exit). */
static void
term_summary(struct sipterm *st)
{
	struct proxy_auth_stats a;
	struct proxy_stats ps;
	struct mediactl_stats ms;
	struct flow_stats fs;

	/* One line per block, key=value: a line for grep, a journal entry,
	 * a field for awk (sip-tls-term(1), LOGGING). */
	if (st->flows != NULL) {
		flow_stats(st->flows, &fs);
		log_msg(st->lg, LOG_INFO, "summary: flows accepted=%llu "
		    "evicted=%llu refused_full=%llu refused_per_address=%llu "
		    "timeout_handshake=%llu timeout_first_message=%llu "
		    "timeout_message=%llu budget_closes=%llu "
		    "held_peak_kib=%zu ws_upgraded=%llu ws_refused=%llu "
		    "ws_errors=%llu throttled=%llu",
		    (unsigned long long)fs.accepted,
		    (unsigned long long)fs.evicted,
		    (unsigned long long)fs.refused_full,
		    (unsigned long long)fs.refused_per_ip,
		    (unsigned long long)fs.handshake_timeouts,
		    (unsigned long long)fs.first_msg_timeouts,
		    (unsigned long long)fs.msg_timeouts,
		    (unsigned long long)fs.budget_closes, fs.held_peak / 1024,
		    (unsigned long long)fs.ws_upgraded,
		    (unsigned long long)fs.ws_refused,
		    (unsigned long long)fs.ws_errors,
		    (unsigned long long)fs.throttled);
	}
	if (st->px == NULL)
		return;
	proxy_stats(st->px, &ps);
	/* proxy_stats: in_* came from the inside, out_* from the outside. */
	log_msg(st->lg, LOG_INFO, "summary: sip requests_inside=%llu "
	    "responses_inside=%llu requests_outside=%llu "
	    "responses_outside=%llu bad=%llu "
	    "dropped=%llu timeouts=%llu byes_for_lost=%llu transactions=%zu "
	    "registrations=%zu dialogs=%zu", (unsigned long long)ps.in_req,
	    (unsigned long long)ps.in_resp, (unsigned long long)ps.out_req,
	    (unsigned long long)ps.out_resp, (unsigned long long)ps.bad,
	    (unsigned long long)ps.dropped, (unsigned long long)ps.timeouts,
	    (unsigned long long)ps.byes, ps.txns, ps.regs, ps.dialogs);
	if (st->mc != NULL) {
		mediactl_stats(st->mc, &ms);
		log_msg(st->lg, LOG_INFO, "summary: ng refused=%llu "
		    "failed=%llu deletes=%llu deletes_failed=%llu "
		    "deletes_dropped=%llu late_deletes=%llu "
		    "ghosts_dropped=%llu pending=%zu pending_deletes=%zu "
		    "ghosts=%zu", (unsigned long long)ms.refused,
		    (unsigned long long)ms.failed,
		    (unsigned long long)ms.deletes,
		    (unsigned long long)ms.deletes_failed,
		    (unsigned long long)ms.deletes_dropped,
		    (unsigned long long)ms.late_deletes,
		    (unsigned long long)ms.ghosts_dropped, ms.pending,
		    ms.pending_deletes, ms.ghosts);
	}
	if (!st->guarded)
		return;
	proxy_auth_stats(st->px, &a);
	log_msg(st->lg, LOG_INFO, "summary: auth challenges=%llu ok=%llu "
	    "failed=%llu failed_inside=%llu forbidden=%llu bans=%llu "
	    "banned_now=%llu refused_banned=%llu refused_rate=%llu "
	    "tracked=%llu untracked=%llu", (unsigned long long)a.challenges,
	    (unsigned long long)a.ok, (unsigned long long)a.failed,
	    (unsigned long long)a.upstream_failed,
	    (unsigned long long)a.forbidden, (unsigned long long)a.lim.bans,
	    (unsigned long long)a.lim.banned_now,
	    (unsigned long long)a.lim.refused_ban,
	    (unsigned long long)a.lim.refused_rate,
	    (unsigned long long)a.lim.tracked,
	    (unsigned long long)a.lim.untracked);
}

static void
on_usr1(struct ev_loop *loop, int signo, void *arg)
{
	(void)loop;
	(void)signo;
	term_summary(arg);
}

static void
on_hup(struct ev_loop *loop, int signo, void *arg)
{
	struct sipterm *st = arg;

	(void)loop;
	(void)signo;
	if (tls_server_reload(st->tls) != 0)
		log_msg(st->lg, LOG_ERR, "reload failed; old certificates kept");
	else
		log_msg(st->lg, LOG_INFO, "certificates reloaded");
	if (st->tls_keylog != NULL && tls_server_reopen_keylog(st->tls) == 0)
		log_msg(st->lg, LOG_INFO, "tls: key log %s reopened",
		    st->tls_keylog);
	reload_creds(st);
}

static void
on_term(struct ev_loop *loop, int signo, void *arg)
{
	(void)arg;
	(void)signo;
	ev_stop(loop);
}

static int
fail(struct sipterm_fail *f, enum sipterm_step step, int err, int sys)
{
	f->step = step;
	f->err = err;
	f->sys = sys;
	return err != 0 ? err : E_IO;
}

static void
bound_cb(sipterm_bound_fn *bound, void *arg, const char *what, int fd)
{
	if (bound != NULL)
		bound(arg, what, fd);
}

/* The WebSocket listeners of `kind`. */
static int
listen_ws(struct sipterm *st, const struct net_addr *a, size_t n,
    enum flow_kind kind, sipterm_bound_fn *bound, void *arg,
    struct sipterm_fail *f)
{
	size_t i;
	int err, fd;

	for (i = 0; i < n; i++) {
		if (net_tcp_listen(&a[i], 1024, 0, &fd) != 0)
			return fail(f, SIPTERM_LISTEN, E_IO, errno);
		if ((err = flow_listen_kind(st->flows, fd, kind)) != 0)
			return fail(f, SIPTERM_LISTEN_ADD, err, 0);
		bound_cb(bound, arg, kind == FLOW_WSS ? "listening wss" :
		    "listening ws", fd);
	}
	return 0;
}

/* The TLS server and the flow table on the listening addresses. */
static int
outside(struct sipterm *st, const struct sipterm_conf *c,
    sipterm_bound_fn *bound, void *arg, struct sipterm_fail *f)
{
	struct flow_cbs cbs = { on_msg, on_closed, NULL, st };
	size_t i;
	int err, fd;

	if ((st->tls = tls_server_new(&c->tls, st->lg, &err)) == NULL)
		return fail(f, SIPTERM_TLS, err, 0);
	if ((st->flows = flow_table_new(st->loop, st->tls, &c->flows, &cbs,
	    st->lg)) == NULL)
		return fail(f, SIPTERM_FLOWS, E_NOMEM, 0);
	for (i = 0; i < c->nlisten; i++) {
		if (net_tcp_listen(&c->listen[i], 1024, 0, &fd) != 0)
			return fail(f, SIPTERM_LISTEN, E_IO, errno);
		if ((err = flow_listen(st->flows, fd)) != 0) {
			close(fd);
			return fail(f, SIPTERM_LISTEN_ADD, err, 0);
		}
		bound_cb(bound, arg, "listening tls", fd);
	}
	if ((err = listen_ws(st, c->listen_wss, c->nlisten_wss, FLOW_WSS,
	    bound, arg, f)) != 0 || (err = listen_ws(st, c->listen_ws,
	    c->nlisten_ws, FLOW_WS, bound, arg, f)) != 0)
		return err;
	return 0;
}

/* The proxy on the inside face; TCP on the same address and port. */
static int
inside(struct sipterm *st, const struct sipterm_conf *c,
    sipterm_bound_fn *bound, void *arg, struct sipterm_fail *f)
{
	struct tcpconn_cbs tcb = { on_tcp_msg, on_tcp_closed, st };
	struct proxy_conf pc = c->proxy;
	struct tcpconn_conf tcf = c->tcp;
	int err, fd, tfd = -1;

	if ((c->inside_tcp ? net_udp_tcp_bind(&pc.inside, 256, &fd, &tfd) :
	    net_udp_bind(&pc.inside, 0, &fd)) != 0)
		return fail(f, SIPTERM_INSIDE, E_IO, errno);
	if ((st->px = proxy_new(st->loop, st->flows, fd, &pc, st->lg, &err))
	    == NULL) {
		close(fd);
		if (tfd >= 0)
			close(tfd);
		return fail(f, SIPTERM_PROXY, err, 0);
	}
	bound_cb(bound, arg, "inside udp", fd);
	if (!c->inside_tcp)
		return 0;
	tcf.max_msg = c->flows.max_msg;
	if ((st->tcp = tcpconn_new(st->loop, &tcf, &tcb, st->lg)) == NULL) {
		close(tfd);
		return fail(f, SIPTERM_TCP, E_NOMEM, 0);
	}
	bound_cb(bound, arg, "inside tcp", tfd);
	if ((err = tcpconn_listen(st->tcp, tfd)) != 0) {
		close(tfd);
		return fail(f, SIPTERM_TCP_LISTEN, err, 0);
	}
	proxy_set_tcp(st->px, st->tcp);
	return 0;
}

/* Digest authentication and per-source limits on the proxy. */
static int
guard(struct sipterm *st, const struct sipterm_conf *c,
    struct sipterm_fail *f)
{
	struct digest_creds *cr;
	int err, sys;

	st->guarded = c->limits.max > 0 || c->auth_file != NULL;
	if (c->limits.max > 0) {
		if (proxy_set_limits(st->px, &c->limits) != 0)
			return fail(f, SIPTERM_LIMITS, E_NOMEM, 0);
		flow_set_gate(st->flows, proxy_src_refused, st->px);
	}
	if (c->auth_file == NULL)
		return 0;
	st->auth_file = c->auth_file;
	if ((err = digest_creds_read(c->auth_file, &cr, &sys, f->why,
	    sizeof(f->why))) != 0)
		return fail(f, SIPTERM_AUTH, err, sys);
	if (c->auth_realm == NULL ||
	    (err = proxy_set_auth(st->px, c->auth_realm, cr)) != 0) {
		snprintf(f->why, sizeof(f->why), "bad realm");
		return fail(f, SIPTERM_AUTH, c->auth_realm == NULL ? E_INVAL :
		    err, 0);
	}
	log_msg(st->lg, LOG_INFO, "auth: %zu entries, realm \"%s\"",
	    digest_creds_count(cr), c->auth_realm);
	return 0;
}

struct sipterm *
sipterm_new(struct ev_loop *loop, const struct sipterm_conf *conf,
    const struct logger *lg, sipterm_bound_fn *bound, void *arg,
    struct sipterm_fail *f)
{
	struct sipterm *st = calloc(1, sizeof(*st));
	int err;

	if (st == NULL) {
		(void)fail(f, SIPTERM_FLOWS, E_NOMEM, 0);
		return NULL;
	}
	f->why[0] = '\0';
	st->loop = loop;
	st->lg = lg;
	st->tls_keylog = conf->tls.keylog;
	if (outside(st, conf, bound, arg, f) != 0 ||
	    inside(st, conf, bound, arg, f) != 0 ||
	    guard(st, conf, f) != 0)
		goto bad;
	if (conf->media.nrelay > 0) {
		if ((st->mc = mediactl_new(loop, &conf->media, lg, &err))
		    == NULL) {
			(void)fail(f, SIPTERM_MEDIA, err, 0);
			goto bad;
		}
		proxy_set_media(st->px, st->mc);
	}
	if (ev_signal_add(loop, SIGHUP, on_hup, st) != 0 ||
	    ev_signal_add(loop, SIGUSR1, on_usr1, st) != 0 ||
	    ev_signal_add(loop, SIGTERM, on_term, st) != 0 ||
	    ev_signal_add(loop, SIGINT, on_term, st) != 0) {
		(void)fail(f, SIPTERM_SIGNALS, E_IO, 0);
		goto bad;
	}
	return st;
bad:
	sipterm_free(st);
	return NULL;
}

int
sipterm_run(struct sipterm *st)
{
	int r = ev_run(st->loop);

	term_summary(st);
	return r;
}

void
sipterm_free(struct sipterm *st)
{
	if (st == NULL)
		return;
	/* Parked messages call back into the proxy: media goes first. */
	mediactl_free(st->mc);
	proxy_free(st->px);
	tcpconn_free(st->tcp);
	flow_table_free(st->flows);
	tls_server_free(st->tls);
	free(st);
}

int
sipterm_observe(struct sipterm *st, struct hep *h, struct metrics *m)
{
	int r = 0;

	proxy_set_hep(st->px, h);
	if (m == NULL)
		return 0;
	if ((r = metrics_add(m, flow_metrics, st->flows)) != 0 ||
	    (r = metrics_add(m, proxy_metrics, st->px)) != 0)
		return r;
	if (st->mc != NULL)
		r = metrics_add(m, mediactl_metrics, st->mc);
	return r;
}
