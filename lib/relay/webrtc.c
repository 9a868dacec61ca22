/* webrtc.c - one media side's ICE-lite agent and DTLS-SRTP association on
 * the relay's slow path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "relay/webrtc.h"
#include "media/stun.h"

#define EARLY_MAX 8
#define EARLY_BYTES 1500
#define DTLS_REC_HANDSHAKE 22
#define DTLS_HS_CLIENT_HELLO 1
#define CHECKED_MAX 4	/* addresses of answered checks kept */
#define NEW_GAP_MS 1000	/* a new association per ClientHello, at most */

struct early {
	uint8_t *p;
	size_t len;
	struct net_addr src;
};

/*
 * One DTLS association: on the RTP component, and, on a side without
 * rtcp-mux, another on the RTCP one (RFC 5764 4.1).
 */
struct assoc {
	struct webrtc *w;
	int comp;
	struct dtls *d;
	int started, keyed, failed;
	int renew;			/* a new fingerprint: next ClientHello
					 * starts a new association */
	uint64_t new_ms;		/* when the last one was made */
	struct net_addr dst;		/* where handshake replies go */
	int have_dst;
	struct net_addr hs_src;		/* where the handshake came from */
	int64_t timer;
	struct early early[EARLY_MAX];
	size_t nearly;
	size_t nunchecked;		/* of them, from no checked source */
};

struct webrtc {
	struct relay_stream *rs;
	int side;
	struct webrtc_config cfg;
	char name[64];
	/* ICE-lite */
	int ice;
	struct ice_lite agent;
	/* per component: last nominated or first checked */
	struct net_addr checked[2];
	int nominated[2];
	struct net_addr ok[CHECKED_MAX];	/* sources of answered checks */
	unsigned nok;
	/* DTLS: the same role, certificate and peer fingerprint for both */
	struct assoc a[2];
	enum dtls_role role;
	struct dtls_fp fp;
	int failed_logged, bad_auth_logged;
	int ever_keyed;			/* some association gave keys */
	struct webrtc_ctr ctr;
};

static void rearm(struct assoc *a);

static const char *
side_name(const struct webrtc *w)
{
	return w->side == 0 ? "outside" : "inside";
}

static int
muxed(const struct webrtc *w)
{
	return relay_side_is_mux(w->rs, w->side);
}

static void
dtls_send(void *arg, const uint8_t *p, size_t len)
{
	struct assoc *a = arg;

	if (!a->have_dst)
		return;
	relay_side_sendto(a->w->rs, a->w->side, a->comp, p, len, &a->dst);
}

static void
nss_line(void *arg, const char *line)
{
	struct assoc *a = arg;

	if (a->w->cfg.nss_keylog != NULL)
		a->w->cfg.nss_keylog(a->w->cfg.arg, line);
}

static void
after(struct assoc *a, enum dtls_state st)
{
	struct webrtc *w = a->w;

	if (st == DTLS_DONE && !a->keyed) {
		struct dtls_keys k;

		if (dtls_srtp_keys(a->d, &k) == 0) {
			a->keyed = w->ever_keyed = 1;
			w->ctr.handshakes++;
			if (a->comp == RELAY_RTCP)
				w->ctr.rtcp_handshakes++;
			if (!w->ice && a->have_dst)
				relay_side_set_latched(w->rs, w->side, a->comp,
				    &a->dst);
			log_msg(w->cfg.lg, LOG_INFO, "%s: DTLS-SRTP keys "
			    "(%s) on the %s side%s", w->name,
			    suite_by_id(k.suite) != NULL ?
			    suite_by_id(k.suite)->name : "?", side_name(w),
			    a->comp == RELAY_RTCP ? ", for RTCP" : "");
			if (w->cfg.on_keys != NULL)
				w->cfg.on_keys(w, a->comp, &k, w->cfg.arg);
			OPENSSL_cleanse(&k, sizeof(k));
		}
	} else if (st == DTLS_FAILED && !a->failed) {
		const char *why = dtls_why(a->d);

		a->failed = 1;	/* counted once per association */
		if (why != NULL && strstr(why, "fingerprint") != NULL)
			w->ctr.fp_mismatch++;
		else
			w->ctr.dtls_failed++;
		if (!w->failed_logged++)	/* logged once per side */
			log_msg(w->cfg.lg, LOG_WARN, "%s: DTLS on the %s side "
			    "failed: %s%s; %s", w->name, side_name(w),
			    why != NULL ? why : "?",
			    a->comp == RELAY_RTCP ? " (on its RTCP port)" : "",
			    w->ever_keyed ? "the keys in use stay" :
			    "no media");
	}
	rearm(a);
}

static void
on_timer(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct assoc *a = arg;

	(void)loop;
	(void)id;
	a->timer = 0;
	if (a->d != NULL)
		after(a, dtls_on_timeout(a->d));
}

static void
timer_stop(struct assoc *a)
{
	if (a->timer > 0) {
		(void)ev_timer_del(a->w->cfg.loop, (uint64_t)a->timer);
		a->timer = 0;
	}
}

static void
rearm(struct assoc *a)
{
	struct ev_loop *loop = a->w->cfg.loop;
	int64_t now, at, id;

	timer_stop(a);
	if (a->d == NULL || dtls_state(a->d) == DTLS_FAILED)
		return;
	now = (int64_t)ev_now_ms(loop);
	if ((at = dtls_timeout_ms(a->d, now)) < 0)
		return;
	id = ev_timer_add(loop, (uint64_t)(at > now ? at - now : 0),
	    on_timer, a);
	if (id > 0)
		a->timer = id;
}

static int make_assoc(struct assoc *a);

/* The active role: send the ClientHello of component `comp` once we
 * know where to (the RTCP one only without rtcp-mux). */
static void
start_comp(struct webrtc *w, int comp)
{
	struct assoc *a = &w->a[comp];
	struct net_addr to;

	if (w->role != DTLS_ACTIVE || w->a[RELAY_RTP].d == NULL ||
	    a->started || (comp == RELAY_RTCP && muxed(w)))
		return;
	if (w->ice) {
		if (w->checked[comp].len == 0)
			return;		/* after the first check */
		to = w->checked[comp];
	} else if (relay_side_peer(w->rs, w->side, comp, &to) != 0) {
		return;
	}
	if (a->d == NULL && make_assoc(a) != 0)
		return;
	a->dst = to;
	a->have_dst = 1;
	a->hs_src = to;
	a->started = 1;
	if (dtls_start(a->d) != 0)
		w->ctr.dtls_failed++;
	after(a, dtls_state(a->d));
}

static void
start(struct webrtc *w)
{
	start_comp(w, RELAY_RTP);
	start_comp(w, RELAY_RTCP);
}

void
webrtc_kick(struct webrtc *w)
{
	start(w);
}

static void
early_drop(struct assoc *a)
{
	for (size_t i = 0; i < a->nearly; i++)
		free(a->early[i].p);
	a->nearly = a->nunchecked = 0;
}

static int
is_client_hello(const uint8_t *p, size_t len)
{
	/* record header 13 bytes, then the handshake type */
	return len > 13 && p[0] == DTLS_REC_HANDSHAKE &&
	    p[13] == DTLS_HS_CLIENT_HELLO;
}

/* Did a check from `a` pass? */
static int
was_checked(const struct webrtc *w, const struct net_addr *a)
{
	for (unsigned i = 0; i < w->nok && i < CHECKED_MAX; i++)
		if (net_addr_eq(&w->ok[i], a))
			return 1;
	return 0;
}

static void
dtls_in(struct webrtc *w, int comp, const uint8_t *p, size_t len,
    const struct net_addr *src)
{
	struct assoc *a;
	int trusted;

	w->ctr.dtls++;
	if (dtls_record_check(slice_make(p, len)) != 0) {
		w->ctr.dtls_bad++;
		return;
	}
	/* muxed: one association, on RTP (before the answer the side may
	 * still change its mind: kept, see webrtc_dtls()) */
	if (comp == RELAY_RTCP && muxed(w) && w->role != 0)
		return;
	a = &w->a[comp];
	/* only from an address we trust (dtls.h): one that passed an ICE
	 * check; or, without ICE, the one the handshake came from, else any
	 * (the first source is latched) */
	trusted = w->ice ? was_checked(w, src) : a->hs_src.len == 0 ||
	    net_addr_eq(src, &a->hs_src) || is_client_hello(p, len);
	/* before the answer, with ICE offered but no check yet: kept (half
	 * the room at most), and fed only if its source is trusted then: a
	 * peer answering without ICE (RFC 8839 4.2) starts DTLS at once */
	if (!trusted && (w->role != 0 || a->nunchecked >= EARLY_MAX / 2)) {
		w->ctr.dtls_untrusted++;
		return;
	}
	if (w->role == 0) {
		struct early *e;

		if (a->nearly >= EARLY_MAX || len > EARLY_BYTES)
			return;
		if (!trusted)
			a->nunchecked++;
		e = &a->early[a->nearly];
		if ((e->p = malloc(len)) == NULL)
			return;
		memcpy(e->p, p, len);
		e->len = len;
		e->src = *src;
		a->nearly++;
		if (w->ctr.dtls_early++ == 0)
			log_msg(w->cfg.lg, LOG_INFO, "%s: DTLS on the %s side "
			    "before its role and fingerprint are known: kept",
			    w->name, side_name(w));
		return;
	}
	/* the RTCP component's association: made at its first datagram
	 * (as the server), or by start_comp() (as the client) */
	if (a->d == NULL && make_assoc(a) != 0)
		return;
	if (w->role == DTLS_PASSIVE && is_client_hello(p, len) &&
	    (a->renew || (a->hs_src.len != 0 &&
	    !net_addr_eq(src, &a->hs_src)))) {
		/* the client moved (or changed its certificate) and starts
		 * again: a new association; the keys in use stay until it
		 * gives new ones */
		uint64_t now = ev_now_ms(w->cfg.loop);

		if (a->renew || dtls_state(a->d) != DTLS_HANDSHAKE ||
		    !w->ice) {
			/* at most one a second: a flood of ClientHellos
			 * from spoofed sources must not cost a handshake
			 * each */
			if (!a->renew && a->new_ms != 0 &&
			    now - a->new_ms < NEW_GAP_MS) {
				w->ctr.dtls_untrusted++;
				return;
			}
			a->renew = 0;
			a->new_ms = now;
			if (make_assoc(a) != 0)
				return;
		}
	}
	a->dst = *src;
	a->have_dst = 1;
	a->hs_src = *src;
	after(a, dtls_input(a->d, p, len));
}

static void
stun_in(struct webrtc *w, int comp, const uint8_t *p, size_t len,
    const struct net_addr *src)
{
	uint8_t out[STUN_MAX];
	size_t outlen = 0;
	struct ice_check chk;
	int e;

	w->ctr.stun++;
	if (!w->ice) {
		w->ctr.ice_other++;
		return;
	}
	memset(&chk, 0, sizeof(chk));
	e = ice_lite_input(&w->agent, slice_make(p, len), src, out,
	    sizeof(out), &outlen, &chk);
	if (outlen > 0)
		relay_side_sendto(w->rs, w->side, comp, out, outlen, src);
	if (e == E_AUTH && outlen == 0) {	/* integrity: dropped */
		w->ctr.ice_bad_auth++;
		if (!w->bad_auth_logged) {
			w->bad_auth_logged = 1;
			log_msg(w->cfg.lg, LOG_WARN, "%s: STUN check failing "
			    "integrity on the %s side, dropped", w->name,
			    w->side == 0 ? "outside" : "inside");
		}
		return;
	}
	if (e != 0) {
		w->ctr.ice_other++;
		return;
	}
	w->ctr.ice_answered++;
	if (!was_checked(w, src))
		w->ok[w->nok++ % CHECKED_MAX] = *src;
	if (chk.nominated && (!w->nominated[comp] ||
	    !net_addr_eq(&w->checked[comp], src))) {
		w->nominated[comp] = 1;
		w->checked[comp] = *src;
		w->ctr.nominations++;
		relay_side_set_latched(w->rs, w->side, comp, src);
	} else if (w->checked[comp].len == 0) {
		w->checked[comp] = *src;
		relay_side_set_latched(w->rs, w->side, comp, src);
	}
	start(w);
}

static void
on_other(struct relay_stream *s, int side, int comp, const uint8_t *p,
    size_t len, const struct net_addr *src, void *arg)
{
	struct webrtc *w = arg;

	(void)s;
	(void)side;
	if (len == 0)
		return;
	if (p[0] <= 3)
		stun_in(w, comp, p, len, src);
	else
		dtls_in(w, comp, p, len, src);
}

struct webrtc *
webrtc_new(struct relay_stream *rs, int side, const struct webrtc_config *cfg,
    int *err)
{
	struct webrtc *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		*err = E_NOMEM;
		return NULL;
	}
	w->rs = rs;
	w->side = side & 1;
	w->cfg = *cfg;
	snprintf(w->name, sizeof(w->name), "%s",
	    cfg->name != NULL ? cfg->name : "webrtc");
	w->cfg.name = w->name;
	for (int c = 0; c < 2; c++) {
		w->a[c].w = w;
		w->a[c].comp = c;
	}
	relay_side_set_other(rs, w->side, on_other, w);
	return w;
}

void
webrtc_free(struct webrtc *w)
{
	if (w == NULL)
		return;
	relay_side_set_other(w->rs, w->side, NULL, NULL);
	for (int c = 0; c < 2; c++) {
		timer_stop(&w->a[c]);
		dtls_free(w->a[c].d);
		early_drop(&w->a[c]);
	}
	OPENSSL_cleanse(&w->agent, sizeof(w->agent));
	free(w);
}

int
webrtc_ice_on(struct webrtc *w)
{
	int e;

	if (w->ice)
		return 0;
	if ((e = ice_lite_init(&w->agent)) != 0)
		return e;
	w->ice = 1;
	return 0;
}

void
webrtc_ice_off(struct webrtc *w)
{
	w->ice = 0;
}

int
webrtc_has_ice(const struct webrtc *w)
{
	return w->ice;
}

const char *
webrtc_ice_ufrag(const struct webrtc *w)
{
	return w->agent.lufrag;
}

const char *
webrtc_ice_pwd(const struct webrtc *w)
{
	return w->agent.lpwd;
}

int
webrtc_ice_remote(struct webrtc *w, struct slice ufrag, struct slice pwd)
{
	int e = ice_lite_set_remote(&w->agent, ufrag, pwd);

	if (e == 1) {
		int e2 = ice_lite_restart(&w->agent);

		if (e2 != 0)
			return e2;
	}
	return e;
}

static int
make_assoc(struct assoc *a)
{
	struct webrtc *w = a->w;
	struct dtls_config dc;
	int e = 0;

	memset(&dc, 0, sizeof(dc));
	dc.cert = w->cfg.cert;
	dc.role = w->role;
	dc.peer = w->fp;
	dc.send = dtls_send;
	dc.keylog = w->cfg.nss_keylog != NULL ? nss_line : NULL;
	dc.arg = a;
	timer_stop(a);
	dtls_free(a->d);
	a->d = NULL;
	a->started = a->keyed = a->failed = 0;
	if ((a->d = dtls_new(&dc, &e)) == NULL)
		return e != 0 ? e : E_NOMEM;
	return 0;
}

/* A new association for `a` with the role and fingerprint given, fed
 * what came early. */
static int
assoc_begin(struct assoc *a)
{
	struct webrtc *w = a->w;
	int e;

	if ((e = make_assoc(a)) != 0)
		return e;
	for (size_t i = 0; i < a->nearly && a->d != NULL; i++) {
		if (w->ice && !was_checked(w, &a->early[i].src)) {
			w->ctr.dtls_untrusted++;
			continue;
		}
		a->dst = a->early[i].src;
		a->have_dst = 1;
		a->hs_src = a->early[i].src;
		after(a, dtls_input(a->d, a->early[i].p, a->early[i].len));
	}
	early_drop(a);
	return 0;
}

int
webrtc_dtls(struct webrtc *w, enum dtls_role role, const struct dtls_fp *peer)
{
	int e;

	if (w->a[RELAY_RTP].d != NULL && w->role == role) {
		int changed = w->fp.len != peer->len ||
		    memcmp(w->fp.v, peer->v, peer->len) != 0;

		w->fp = *peer;
		for (int c = 0; c < 2; c++) {
			struct assoc *a = &w->a[c];

			if (a->d == NULL)
				continue;
			if (changed && dtls_state(a->d) != DTLS_HANDSHAKE) {
				/* a new certificate: a new handshake; as the
				 * client we start it, as the server its
				 * ClientHello does */
				if (role == DTLS_PASSIVE)
					a->renew = 1;
				else if ((e = make_assoc(a)) != 0)
					return e;
			} else {
				dtls_set_peer(a->d, peer);
			}
		}
		start(w);
		return 0;
	}
	w->role = role;
	w->fp = *peer;
	for (int c = 0; c < 2; c++) {
		struct assoc *a = &w->a[c];

		/* the RTCP one when it is there, or something came for it
		 * and the side is not muxed; else at its first datagram, or
		 * by start() */
		if (c == RELAY_RTCP && muxed(w))
			early_drop(a);
		if (c == RELAY_RTCP && a->d == NULL && a->nearly == 0)
			continue;
		if ((e = assoc_begin(a)) != 0)
			return e;
	}
	start(w);
	return 0;
}

enum dtls_role
webrtc_role(const struct webrtc *w)
{
	return w->role;
}

int
webrtc_keyed(const struct webrtc *w)
{
	return w->a[RELAY_RTP].keyed;
}

int
webrtc_rtcp_keyed(const struct webrtc *w)
{
	return w->a[RELAY_RTCP].keyed;
}

void
webrtc_counters(const struct webrtc *w, struct webrtc_ctr *c)
{
	*c = w->ctr;
}

void
webrtc_ctr_add(struct webrtc_ctr *a, const struct webrtc_ctr *b)
{
	a->stun += b->stun;
	a->dtls += b->dtls;
	a->ice_answered += b->ice_answered;
	a->ice_bad_auth += b->ice_bad_auth;
	a->ice_other += b->ice_other;
	a->nominations += b->nominations;
	a->dtls_bad += b->dtls_bad;
	a->dtls_untrusted += b->dtls_untrusted;
	a->dtls_early += b->dtls_early;
	a->handshakes += b->handshakes;
	a->rtcp_handshakes += b->rtcp_handshakes;
	a->fp_mismatch += b->fp_mismatch;
	a->dtls_failed += b->dtls_failed;
}
