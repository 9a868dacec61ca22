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

struct webrtc {
	struct relay_stream *rs;
	int side;
	struct webrtc_config cfg;
	char name[64];
	/* ICE-lite */
	int ice;
	struct ice_lite agent;
	struct net_addr checked;	/* last nominated or first checked */
	struct net_addr ok[CHECKED_MAX];	/* sources of answered checks */
	unsigned nok;
	int nominated;
	/* DTLS */
	struct dtls *d;
	enum dtls_role role;
	struct dtls_fp fp;
	int started, keyed, failed, failed_logged, bad_auth_logged;
	int ever_keyed;			/* some association gave keys */
	int renew;			/* a new fingerprint: next ClientHello
					 * starts a new association */
	uint64_t new_ms;		/* when the last one was made */
	struct net_addr dst;		/* where handshake replies go */
	int have_dst;
	int dcomp;
	struct net_addr hs_src;		/* where the handshake came from */
	int64_t timer;
	struct early early[EARLY_MAX];
	size_t nearly;
	struct webrtc_ctr ctr;
};

static void rearm(struct webrtc *w);

static void
dtls_send(void *arg, const uint8_t *p, size_t len)
{
	struct webrtc *w = arg;

	if (!w->have_dst)
		return;
	relay_side_sendto(w->rs, w->side, w->dcomp, p, len, &w->dst);
}

static void
nss_line(void *arg, const char *line)
{
	struct webrtc *w = arg;

	if (w->cfg.nss_keylog != NULL)
		w->cfg.nss_keylog(w->cfg.arg, line);
}

static void
after(struct webrtc *w, enum dtls_state st)
{
	if (st == DTLS_DONE && !w->keyed) {
		struct dtls_keys k;

		if (dtls_srtp_keys(w->d, &k) == 0) {
			w->keyed = w->ever_keyed = 1;
			w->ctr.handshakes++;
			if (!w->ice && w->have_dst)
				relay_side_set_latched(w->rs, w->side,
				    RELAY_RTP, &w->dst);
			log_msg(w->cfg.lg, LOG_INFO, "%s: DTLS-SRTP keys "
			    "(%s) on the %s side", w->name,
			    suite_by_id(k.suite) != NULL ?
			    suite_by_id(k.suite)->name : "?",
			    w->side == 0 ? "outside" : "inside");
			if (w->cfg.on_keys != NULL)
				w->cfg.on_keys(w, &k, w->cfg.arg);
			OPENSSL_cleanse(&k, sizeof(k));
		}
	} else if (st == DTLS_FAILED && !w->failed) {
		const char *why = dtls_why(w->d);

		w->failed = 1;	/* counted once per association */
		if (why != NULL && strstr(why, "fingerprint") != NULL)
			w->ctr.fp_mismatch++;
		else
			w->ctr.dtls_failed++;
		if (!w->failed_logged++)	/* logged once per side */
			log_msg(w->cfg.lg, LOG_WARN, "%s: DTLS on the %s side "
			    "failed: %s; %s", w->name, w->side == 0 ?
			    "outside" : "inside", why != NULL ? why : "?",
			    w->ever_keyed ? "the keys in use stay" :
			    "no media");
	}
	rearm(w);
}

static void
on_timer(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct webrtc *w = arg;

	(void)loop;
	(void)id;
	w->timer = 0;
	if (w->d != NULL)
		after(w, dtls_on_timeout(w->d));
}

static void
rearm(struct webrtc *w)
{
	int64_t now, at, id;

	if (w->timer > 0) {
		(void)ev_timer_del(w->cfg.loop, (uint64_t)w->timer);
		w->timer = 0;
	}
	if (w->d == NULL || dtls_state(w->d) == DTLS_FAILED)
		return;
	now = (int64_t)ev_now_ms(w->cfg.loop);
	if ((at = dtls_timeout_ms(w->d, now)) < 0)
		return;
	id = ev_timer_add(w->cfg.loop, (uint64_t)(at > now ? at - now : 0),
	    on_timer, w);
	if (id > 0)
		w->timer = id;
}

static void
start(struct webrtc *w)
{
	struct net_addr a;

	if (w->d == NULL || w->role != DTLS_ACTIVE || w->started)
		return;
	if (w->ice) {
		if (w->checked.len == 0)
			return;		/* after the first check */
		a = w->checked;
	} else if (relay_side_peer(w->rs, w->side, RELAY_RTP, &a) != 0) {
		return;
	}
	w->dst = a;
	w->have_dst = 1;
	w->dcomp = RELAY_RTP;
	w->hs_src = a;
	w->started = 1;
	if (dtls_start(w->d) != 0)
		w->ctr.dtls_failed++;
	after(w, dtls_state(w->d));
}

void
webrtc_kick(struct webrtc *w)
{
	start(w);
}

static void
early_drop(struct webrtc *w)
{
	for (size_t i = 0; i < w->nearly; i++)
		free(w->early[i].p);
	w->nearly = 0;
}

static int
is_client_hello(const uint8_t *p, size_t len)
{
	/* record header 13 bytes, then the handshake type */
	return len > 13 && p[0] == DTLS_REC_HANDSHAKE &&
	    p[13] == DTLS_HS_CLIENT_HELLO;
}

static int make_assoc(struct webrtc *w);

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
	w->ctr.dtls++;
	if (dtls_record_check(slice_make(p, len)) != 0) {
		w->ctr.dtls_bad++;
		return;
	}
	if (comp != RELAY_RTP)
		return;		/* one association, on the RTP component */
	/* only from an address we trust (dtls.h): one that passed an ICE
	 * check; or, without ICE, the one the handshake came from, else any
	 * (the first source is latched) */
	if (w->ice ? !was_checked(w, src) : w->hs_src.len != 0 &&
	    !net_addr_eq(src, &w->hs_src) && !is_client_hello(p, len)) {
		w->ctr.dtls_untrusted++;
		return;
	}
	if (w->d == NULL) {
		struct early *e;

		if (w->nearly >= EARLY_MAX || len > EARLY_BYTES)
			return;
		e = &w->early[w->nearly];
		if ((e->p = malloc(len)) == NULL)
			return;
		memcpy(e->p, p, len);
		e->len = len;
		e->src = *src;
		w->nearly++;
		if (w->ctr.dtls_early++ == 0)
			log_msg(w->cfg.lg, LOG_INFO, "%s: DTLS on the %s side "
			    "before its role and fingerprint are known: kept",
			    w->name, w->side == 0 ? "outside" : "inside");
		return;
	}
	if (w->role == DTLS_PASSIVE && is_client_hello(p, len) &&
	    (w->renew || (w->hs_src.len != 0 &&
	    !net_addr_eq(src, &w->hs_src)))) {
		/* the client moved (or changed its certificate) and starts
		 * again: a new association; the keys in use stay until it
		 * gives new ones */
		uint64_t now = ev_now_ms(w->cfg.loop);

		if (w->renew || dtls_state(w->d) != DTLS_HANDSHAKE ||
		    !w->ice) {
			/* at most one a second: a flood of ClientHellos
			 * from spoofed sources must not cost a handshake
			 * each */
			if (!w->renew && w->new_ms != 0 &&
			    now - w->new_ms < NEW_GAP_MS) {
				w->ctr.dtls_untrusted++;
				return;
			}
			w->renew = 0;
			w->new_ms = now;
			if (make_assoc(w) != 0)
				return;
		}
	}
	w->dst = *src;
	w->have_dst = 1;
	w->dcomp = comp;
	w->hs_src = *src;
	after(w, dtls_input(w->d, p, len));
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
	if (chk.nominated && (!w->nominated || !net_addr_eq(&w->checked,
	    src))) {
		w->nominated = 1;
		w->checked = *src;
		w->ctr.nominations++;
		relay_side_set_latched(w->rs, w->side, comp, src);
	} else if (w->checked.len == 0) {
		w->checked = *src;
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
	relay_side_set_other(rs, w->side, on_other, w);
	return w;
}

void
webrtc_free(struct webrtc *w)
{
	if (w == NULL)
		return;
	relay_side_set_other(w->rs, w->side, NULL, NULL);
	if (w->timer > 0)
		(void)ev_timer_del(w->cfg.loop, (uint64_t)w->timer);
	dtls_free(w->d);
	early_drop(w);
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
make_assoc(struct webrtc *w)
{
	struct dtls_config dc;
	int e = 0;

	memset(&dc, 0, sizeof(dc));
	dc.cert = w->cfg.cert;
	dc.role = w->role;
	dc.peer = w->fp;
	dc.send = dtls_send;
	dc.keylog = w->cfg.nss_keylog != NULL ? nss_line : NULL;
	dc.arg = w;
	if (w->timer > 0) {
		(void)ev_timer_del(w->cfg.loop, (uint64_t)w->timer);
		w->timer = 0;
	}
	dtls_free(w->d);
	w->d = NULL;
	w->started = w->keyed = w->failed = 0;
	if ((w->d = dtls_new(&dc, &e)) == NULL)
		return e != 0 ? e : E_NOMEM;
	return 0;
}

int
webrtc_dtls(struct webrtc *w, enum dtls_role role, const struct dtls_fp *peer)
{
	int e;

	if (w->d != NULL && w->role == role) {
		int changed = w->fp.len != peer->len ||
		    memcmp(w->fp.v, peer->v, peer->len) != 0;

		w->fp = *peer;
		if (changed && dtls_state(w->d) != DTLS_HANDSHAKE) {
			/* a new certificate: a new handshake; as the client
			 * we start it, as the server its ClientHello does */
			if (role == DTLS_PASSIVE)
				w->renew = 1;
			else if ((e = make_assoc(w)) != 0)
				return e;
		} else {
			dtls_set_peer(w->d, peer);
		}
		start(w);
		return 0;
	}
	w->role = role;
	w->fp = *peer;
	if ((e = make_assoc(w)) != 0)
		return e;
	for (size_t i = 0; i < w->nearly && w->d != NULL; i++) {
		if (w->ice && !was_checked(w, &w->early[i].src))
			continue;
		w->dst = w->early[i].src;
		w->have_dst = 1;
		w->dcomp = RELAY_RTP;
		w->hs_src = w->early[i].src;
		after(w, dtls_input(w->d, w->early[i].p, w->early[i].len));
	}
	early_drop(w);
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
	return w->keyed;
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
	a->fp_mismatch += b->fp_mismatch;
	a->dtls_failed += b->dtls_failed;
}
