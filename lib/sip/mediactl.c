/* mediactl.c - media control: SDP bodies through an ng relay, parked. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/buf.h"
#include "sip/mediactl.h"
#include "ng/ng.h"
#include "media/suite.h"

enum pkind { PK_OFFER, PK_ANSWER, PK_DELETE };

struct pending {
	struct mediactl *mc;
	char cookie[NG_COOKIE_LEN + 1];
	struct buf *dgram;	/* encoded request, cookie included */
	size_t relay;		/* index it goes to now */
	size_t tried;		/* relays tried */
	unsigned sent_to;	/* relays (bits) it went to */
	struct ng_retry rt;
	int64_t timer;
	mediactl_fn *fn;	/* NULL: fire and forget (delete) */
	void *arg;
	int err;		/* for a deferred failure */
	enum pkind kind;
	int fixed;		/* a delete for one relay: no failover */
	int lost;		/* a relay of its chain did not answer */
	int initial;		/* an offer without a to-tag */
	char *id;		/* call-id then from-tag (logs; offers: a
				 * delete if it is lost) */
	size_t cidlen, ftaglen;
	struct pending *next;	/* hash chain (by cookie) */
	uint64_t born_ns;	/* made (the answer time's start) */
};

/*
 * A request's Call-ID in a log line ("%.*s"): from the wire (control bytes
 * are refused at the edge), capped to keep a line short.
 */
#define MC_CID_MAX 128
#define MC_CID(p) \
	(int)((p)->id == NULL ? 1 : (p)->cidlen < MC_CID_MAX ? \
	(p)->cidlen : MC_CID_MAX), (p)->id == NULL ? "-" : (p)->id

/*
 * An offer we gave up on although a relay may have taken it: its late
 * answer, if the call is to end (doomed, by mediactl_delete()), is
 * followed by a delete to the relay that answered.
 */
struct ghost {
	char cookie[NG_COOKIE_LEN + 1];
	unsigned relays;	/* bits: relays it went to, not heard from */
	int doomed;
	int dead;		/* nothing more to do; freed when it expires */
	uint64_t born_ms;
	char *id;		/* call-id then from-tag */
	size_t cidlen, ftaglen;
	struct ghost *cnext;	/* chain by cookie */
	struct ghost *inext;	/* chain by call-id */
	struct ghost *onext;	/* oldest first */
};

/* An INVITE transaction seen going through (mediactl_track). */
struct inv {
	char *cid;
	size_t cidlen;
	uint32_t cseq;
	int reinvite;		/* it had a To tag */
	int offer;		/* it carried SDP */
	int confirmed;		/* a 2xx went through */
	uint64_t expires_ms;
	struct inv *next;
};

#define INV_BUCKETS 1024
#define INV_MAX 20000
#define INV_LIFE_MS 200000	/* beyond timer C (180 s) */

#define PEND_BUCKETS 4096
#define MC_MAX_PENDING 10000	/* offers and answers (default) */
#define MC_MAX_DELETES 20000	/* deletes: a room of their own */
#define GHOST_BUCKETS 1024
#define GHOST_MAX 20000
#define GHOST_LIFE_MS 120000	/* twice the relay's usual media timeout */
#define LOG_EVERY_MS 10000	/* one warning of a kind per 10 s */
#define MC_RCVBUF (1 << 20)	/* a relay's burst of (late) answers */

/* A warning of a kind, and how many since the last one. */
struct rlog {
	uint64_t last_ms;
	uint64_t n;
};

struct mediactl {
	struct ev_loop *loop;
	struct mediactl_conf conf;
	const struct logger *lg;
	int fd;
	size_t cur;		/* relay in use */
	struct pending *pend[PEND_BUCKETS];
	size_t nreq, ndel;	/* pending offers/answers, deletes */
	struct ghost *gc[GHOST_BUCKETS], *gi[GHOST_BUCKETS];
	struct ghost *gold, *gnew;	/* oldest first */
	size_t nghost;
	struct inv *inv[INV_BUCKETS];
	size_t ninv;
	struct mediactl_stats st;
	struct rlog log_full, log_timeout, log_delfail, log_deldrop;
	uint8_t rbuf[NG_DGRAM_MAX + 1];
};

static void mc_timer(struct ev_loop *loop, uint64_t id, void *arg);
static void del_send(struct mediactl *mc, int relay, struct slice cid,
    struct slice ftag, struct slice ttag);

/* Is a warning of kind `r` due now? Counts it either way. */
static int
rlog_due(struct mediactl *mc, struct rlog *r)
{
	uint64_t now = ev_now_ms(mc->loop);

	r->n++;
	if (r->last_ms != 0 && now - r->last_ms < LOG_EVERY_MS)
		return 0;
	r->last_ms = now;
	return 1;
}

static unsigned
cookie_hash(struct slice c, unsigned n)
{
	return hash32_slice(HASH32_INIT, c) % n;
}

static void
pending_unlink(struct mediactl *mc, struct pending *p)
{
	struct pending **pp = &mc->pend[cookie_hash(slice_cstr(p->cookie),
	    PEND_BUCKETS)];

	while (*pp != NULL && *pp != p)
		pp = &(*pp)->next;
	if (*pp == p) {
		*pp = p->next;
		if (p->kind == PK_DELETE)
			mc->ndel--;
		else
			mc->nreq--;
	}
	if (p->timer > 0)
		(void)ev_timer_del(mc->loop, (uint64_t)p->timer);
	buf_free(p->dgram);
	free(p->id);
	free(p);
}

static struct pending *
pending_find(struct mediactl *mc, struct slice cookie)
{
	struct pending *p = mc->pend[cookie_hash(cookie, PEND_BUCKETS)];

	while (p != NULL && !slice_eq_cstr(cookie, p->cookie))
		p = p->next;
	return p;
}

/* The index of relay address `a`, or -1. */
static int
relay_index(const struct mediactl *mc, const struct net_addr *a)
{
	size_t i;

	for (i = 0; i < mc->conf.nrelay; i++)
		if (net_addr_eq(a, &mc->conf.relay[i]))
			return (int)i;
	return -1;
}

/* ---- ghosts: offers given up on ---- */

static void
ghost_unchain(struct ghost **pp, struct ghost *g, int byid)
{
	while (*pp != NULL && *pp != g)
		pp = byid ? &(*pp)->inext : &(*pp)->cnext;
	if (*pp == g)
		*pp = byid ? g->inext : g->cnext;
}

/* Free the oldest ghost. */
static void
ghost_pop(struct mediactl *mc)
{
	struct ghost *g = mc->gold;

	mc->gold = g->onext;
	if (mc->gold == NULL)
		mc->gnew = NULL;
	ghost_unchain(&mc->gc[cookie_hash(slice_cstr(g->cookie),
	    GHOST_BUCKETS)], g, 0);
	ghost_unchain(&mc->gi[cookie_hash(slice_make(g->id, g->cidlen),
	    GHOST_BUCKETS)], g, 1);
	free(g->id);
	free(g);
	mc->nghost--;
}

static void
ghost_expire(struct mediactl *mc)
{
	uint64_t now = ev_now_ms(mc->loop);

	while (mc->gold != NULL && (mc->gold->born_ms + GHOST_LIFE_MS <= now ||
	    mc->gold->dead))
		ghost_pop(mc);
}

/*
 * Remember offer `p`, given up on by `relays` (bits): a late answer from
 * one of them may need a delete (`doomed`: it does).
 */
static void
ghost_add(struct mediactl *mc, const struct pending *p, unsigned relays,
    int doomed)
{
	struct ghost *g;
	unsigned h;

	ghost_expire(mc);
	if (p->id == NULL)
		return;
	if (mc->nghost >= GHOST_MAX) {
		mc->st.ghosts_dropped++;
		ghost_pop(mc);	/* the relay's own timeout reaps it */
	}
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->id = malloc(p->cidlen + p->ftaglen + 1)) == NULL) {
		free(g);
		return;
	}
	memcpy(g->cookie, p->cookie, sizeof(g->cookie));
	memcpy(g->id, p->id, p->cidlen + p->ftaglen);
	g->cidlen = p->cidlen;
	g->ftaglen = p->ftaglen;
	g->relays = relays;
	g->doomed = doomed;
	g->born_ms = ev_now_ms(mc->loop);
	h = cookie_hash(slice_cstr(g->cookie), GHOST_BUCKETS);
	g->cnext = mc->gc[h];
	mc->gc[h] = g;
	h = cookie_hash(slice_make(g->id, g->cidlen), GHOST_BUCKETS);
	g->inext = mc->gi[h];
	mc->gi[h] = g;
	if (mc->gnew != NULL)
		mc->gnew->onext = g;
	else
		mc->gold = g;
	mc->gnew = g;
	mc->nghost++;
}

/*
 * The ghosts of call `cid`: doomed (the whole call is deleted: a late
 * answer must be deleted too) or, for a new initial offer of the same
 * call, laid to rest (the relay reuses the call: its late answer is no
 * leak).
 */
static void
ghost_mark(struct mediactl *mc, struct slice cid, int doom)
{
	struct ghost *g = mc->gi[cookie_hash(cid, GHOST_BUCKETS)];

	for (; g != NULL; g = g->inext)
		if (!g->dead && slice_eq(slice_make(g->id, g->cidlen), cid)) {
			if (doom)
				g->doomed = 1;
			else
				g->dead = 1;
		}
}

/* A reply nobody waits for: the late answer of a ghost? */
static void
ghost_reply(struct mediactl *mc, const struct ng_reply *rep,
    const struct net_addr *from)
{
	struct ghost *g = mc->gc[cookie_hash(rep->cookie, GHOST_BUCKETS)];
	int r = relay_index(mc, from);

	while (g != NULL && !slice_eq_cstr(rep->cookie, g->cookie))
		g = g->cnext;
	if (g == NULL || g->dead || r < 0 || !(g->relays & (1u << r)))
		return;	/* foreign, or heard already (retransmissions) */
	g->relays &= ~(1u << r);
	if (g->relays == 0)
		g->dead = 1;
	if (!g->doomed || rep->result != NG_RESULT_OK)
		return;
	mc->st.late_deletes++;
	log_msg(mc->lg, LOG_DEBUG, "ng: late answer to an offer: delete: "
	    "call-id=%.*s", (int)(g->cidlen < MC_CID_MAX ? g->cidlen :
	    MC_CID_MAX), g->id);
	del_send(mc, r, slice_make(g->id, g->cidlen),
	    slice_make(g->id + g->cidlen, g->ftaglen), SLICE_NULL);
}

/* ---- pending requests ---- */

const double mediactl_rtt_bounds[MEDIACTL_RTT_BUCKETS] = {
	0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2,
};

/* The relay answered `p` (ok or error): how long it took. */
static void
answered(struct mediactl *mc, const struct pending *p)
{
	double s = (double)(ev_now_ns(mc->loop) - p->born_ns) / 1e9;

	for (size_t i = 0; i < MEDIACTL_RTT_BUCKETS; i++)
		if (s <= mediactl_rtt_bounds[i])
			mc->st.rtt_le[i]++;
	mc->st.rtt_count++;
	mc->st.rtt_sum_s += s;
}

/* Finish `p`: call back (at most once) and free it. */
static void
finish(struct mediactl *mc, struct pending *p, int err, struct slice sdp)
{
	mediactl_fn *fn = p->fn;
	void *arg = p->arg;

	p->fn = NULL;
	pending_unlink(mc, p);
	if (fn != NULL)
		fn(arg, err, sdp);
}

static void
send_now(struct mediactl *mc, struct pending *p)
{
	struct net_pkt pk;

	memset(&pk, 0, sizeof(pk));
	pk.buf = (uint8_t *)(uintptr_t)buf_data(p->dgram);
	pk.len = pk.cap = buf_len(p->dgram);
	pk.addr = mc->conf.relay[p->relay];
	p->sent_to |= 1u << p->relay;
	if (net_send(mc->fd, &pk) != 0)
		log_msg(mc->lg, LOG_DEBUG, "ng: send failed");
}

/* Send (again) on the schedule; deletes back off, doubling each time. */
static void
send_due(struct mediactl *mc, struct pending *p, uint64_t now,
    uint64_t *when)
{
	(void)now;
	(void)when;
	send_now(mc, p);
	if (p->kind == PK_DELETE)
		p->rt.interval_ms *= 2;	/* for the next wait */
}

/* Start (again) on relay p->relay with a fresh schedule. */
static void
start(struct mediactl *mc, struct pending *p)
{
	uint64_t now = ev_now_ms(mc->loop), when = now;

	ng_retry_init(&p->rt, mc->conf.retries, mc->conf.timeout_ms, now);
	if (ng_retry_next(&p->rt, now, &when) == NG_RETRY_SEND)
		send_due(mc, p, now, &when);
	if (p->timer > 0)
		(void)ev_timer_del(mc->loop, (uint64_t)p->timer);
	p->timer = ev_timer_add(mc->loop, when > now ? when - now : 1,
	    mc_timer, p);
}

/* No relay answered `p` (or all refused): count, tell, give up. */
static void
give_up(struct mediactl *mc, struct pending *p, int err)
{
	if (p->lost)
		err = E_TIMEOUT;	/* one of them may have it */
	if (p->kind == PK_DELETE) {
		mc->st.deletes_failed++;
		if (rlog_due(mc, &mc->log_delfail)) {
			log_msg(mc->lg, LOG_WARN, "ng: delete not answered, "
			    "given up (%llu since the last warning): the "
			    "relay's own timeout must end the call: "
			    "call-id=%.*s", (unsigned long long)
			    mc->log_delfail.n, MC_CID(p));
			mc->log_delfail.n = 0;
		}
	} else {
		mc->st.failed++;
		if (rlog_due(mc, &mc->log_timeout)) {
			log_msg(mc->lg, LOG_WARN, "ng: no relay took a request "
			    "(%llu since the last warning): call-id=%.*s",
			    (unsigned long long)mc->log_timeout.n, MC_CID(p));
			mc->log_timeout.n = 0;
		}
		if (p->kind == PK_OFFER && err == E_TIMEOUT)
			ghost_add(mc, p, p->sent_to, 0);
	}
	finish(mc, p, err, SLICE_NULL);
}

/* Try the next relay, or give up. */
static void
failover(struct mediactl *mc, struct pending *p, int err)
{
	if (err == E_TIMEOUT)
		p->lost = 1;
	if (!p->fixed && ++p->tried < mc->conf.nrelay) {
		p->relay = (p->relay + 1) % mc->conf.nrelay;
		/* New requests go to the relay that works. */
		mc->cur = p->relay;
		log_msg(mc->lg, LOG_WARN, "ng: relay %zu failed, trying %zu: "
		    "call-id=%.*s", (p->relay + mc->conf.nrelay - 1) %
		    mc->conf.nrelay, p->relay, MC_CID(p));
		start(mc, p);
		return;
	}
	give_up(mc, p, err);
}

static void
mc_timer(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct pending *p = arg;
	struct mediactl *mc = p->mc;
	uint64_t now = ev_now_ms(loop), when = now;

	(void)id;
	p->timer = 0;
	if (p->err != 0) {
		finish(mc, p, p->err, SLICE_NULL);
		return;
	}
	switch (ng_retry_next(&p->rt, now, &when)) {
	case NG_RETRY_SEND:
		send_due(mc, p, now, &when);
		/* FALLTHROUGH */
	case NG_RETRY_WAIT:
		p->timer = ev_timer_add(loop, when > now ? when - now : 1,
		    mc_timer, p);
		break;
	default:
		failover(mc, p, E_TIMEOUT);
	}
}

/*
 * An answer from a relay `p` went to before it failed over: that relay
 * has the call too (it was only slow); the call lives on the other one.
 * (Once `p` is answered, a ghost of it does the same.)
 */
static void
stray_reply(struct mediactl *mc, struct pending *p, const struct ng_reply *rep,
    const struct net_addr *from)
{
	int r = relay_index(mc, from);

	if (r < 0 || !(p->sent_to & (1u << r)) || p->kind != PK_OFFER ||
	    !p->initial || p->id == NULL || rep->result != NG_RESULT_OK)
		return;
	p->sent_to &= ~(1u << r);
	mc->st.late_deletes++;
	del_send(mc, r, slice_make(p->id, p->cidlen),
	    slice_make(p->id + p->cidlen, p->ftaglen), SLICE_NULL);
}

static void
mc_read(struct ev_loop *loop, int fd, unsigned ev, void *arg)
{
	struct mediactl *mc = arg;
	int n;

	(void)loop;
	(void)ev;
	for (n = 0; n < 64; n++) {
		struct net_pkt pk;
		struct ng_reply rep;
		struct pending *p;

		memset(&pk, 0, sizeof(pk));
		pk.buf = mc->rbuf;
		pk.cap = sizeof(mc->rbuf) - 1;
		if (net_recv(fd, &pk) != 0)
			return;
		if (ng_reply_parse(&rep, slice_make(pk.buf, pk.len)) != 0) {
			ng_reply_release(&rep);
			continue;
		}
		p = pending_find(mc, rep.cookie);
		if (p != NULL && !net_addr_eq(&pk.addr,
		    &mc->conf.relay[p->relay])) {
			stray_reply(mc, p, &rep, &pk.addr);
			p = NULL;
		} else if (p == NULL)
			ghost_reply(mc, &rep, &pk.addr);
		if (p == NULL) {
			ng_reply_release(&rep);
			continue;	/* late or foreign */
		}
		if (ng_reply_failover(&rep)) {
			ng_reply_release(&rep);
			failover(mc, p, E_LIMIT);
			continue;
		}
		answered(mc, p);
		if ((rep.result == NG_RESULT_OK || rep.result ==
		    NG_RESULT_PONG) && p->kind == PK_OFFER && p->lost &&
		    p->initial && (p->sent_to & ~(1u << p->relay)) != 0)
			/* Failed over: the relays before may have it too. */
			ghost_add(mc, p, p->sent_to & ~(1u << p->relay), 1);
		if (rep.result == NG_RESULT_OK || rep.result == NG_RESULT_PONG)
			finish(mc, p, 0, rep.sdp);
		else {
			/* The SDP's own fault is the phone's (488); any other
			 * refusal is the relay's (503). rtpengine and
			 * srtp-bridge say the same words for a bad SDP. */
			int bad_sdp = slice_find(rep.error_reason,
			    slice_cstr(NG_ERR_BAD_SDP)) == 0;

			log_msg(mc->lg, bad_sdp ? LOG_INFO : LOG_WARN,
			    "ng: relay error: %.*s: call-id=%.*s",
			    (int)rep.error_reason.len,
			    (const char *)rep.error_reason.p, MC_CID(p));
			finish(mc, p, bad_sdp ? E_SYNTAX : E_STATE,
			    SLICE_NULL);
		}
		ng_reply_release(&rep);
	}
}

struct mediactl *
mediactl_new(struct ev_loop *loop, const struct mediactl_conf *conf,
    const struct logger *lg, int *err)
{
	struct mediactl *mc;
	struct net_addr any;
	int r;

	*err = E_INVAL;
	if (conf->nrelay == 0 || conf->nrelay > 4)
		return NULL;
	if ((mc = calloc(1, sizeof(*mc))) == NULL) {
		*err = E_NOMEM;
		return NULL;
	}
	mc->loop = loop;
	mc->conf = *conf;
	mc->lg = lg;
	if (mc->conf.timeout_ms == 0)
		mc->conf.timeout_ms = 500;
	if (mc->conf.retries == 0)
		mc->conf.retries = 3;
	if (mc->conf.max_pending == 0)
		mc->conf.max_pending = MC_MAX_PENDING;
	memset(&any, 0, sizeof(any));
	if (net_addr_parse_host(slice_cstr(net_addr_family(&conf->relay[0]) ==
	    AF_INET6 ? "::" : "0.0.0.0"), 0, &any) != 0 ||
	    (r = net_udp_bind(&any, 0, &mc->fd)) != 0) {
		free(mc);
		*err = E_IO;
		return NULL;
	}
	/* A relay back from a stall answers everything at once; an answer
	 * lost here is a call nobody deletes. Best effort (rmem_max). */
	r = MC_RCVBUF;
	(void)setsockopt(mc->fd, SOL_SOCKET, SO_RCVBUF, &r, sizeof(r));
	if ((r = ev_fd_add(loop, mc->fd, EV_READ, mc_read, mc)) != 0) {
		close(mc->fd);
		free(mc);
		*err = r;
		return NULL;
	}
	*err = 0;
	return mc;
}
/* ---- INVITE transactions: late offers, re-INVITEs ---- */

static unsigned
inv_hash(struct slice cid, uint32_t cseq)
{
	return hash32_slice(HASH32_INIT ^ cseq, cid) % INV_BUCKETS;
}

static void
inv_unlink(struct mediactl *mc, struct inv **pp)
{
	struct inv *v = *pp;

	*pp = v->next;
	free(v->cid);
	free(v);
	mc->ninv--;
}

/* The entry of (cid, cseq), expired ones dropped on the way. */
static struct inv **
inv_find(struct mediactl *mc, struct slice cid, uint32_t cseq)
{
	struct inv **pp = &mc->inv[inv_hash(cid, cseq)];
	uint64_t now = ev_now_ms(mc->loop);

	while (*pp != NULL) {
		struct inv *v = *pp;
		if (v->expires_ms <= now) {
			inv_unlink(mc, pp);
			continue;
		}
		if (v->cseq == cseq && slice_eq(slice_make(v->cid, v->cidlen),
		    cid))
			break;
		pp = &v->next;
	}
	return pp;
}

static void
inv_sweep(struct mediactl *mc)
{
	uint64_t now = ev_now_ms(mc->loop);
	size_t i;

	for (i = 0; i < INV_BUCKETS; i++) {
		struct inv **pp = &mc->inv[i];
		while (*pp != NULL) {
			if ((*pp)->expires_ms <= now)
				inv_unlink(mc, pp);
			else
				pp = &(*pp)->next;
		}
	}
}

static int
has_body(const struct sip_msg *m)
{
	const struct sip_hdr *ct = sip_find(m, SIP_H_CONTENT_TYPE);

	return m->body.len > 0 && ct != NULL &&
	    slice_find(ct->value, SLICE_LIT("sdp")) >= 0;
}

static void
inv_note(struct mediactl *mc, const struct sip_msg *m)
{
	struct inv **pp = inv_find(mc, m->call_id, m->cseq), *v = *pp;

	if (v == NULL) {
		if (mc->ninv >= INV_MAX)
			inv_sweep(mc);
		if (mc->ninv >= INV_MAX || (v = calloc(1, sizeof(*v))) == NULL)
			return;	/* untracked: requests offer, responses answer */
		if ((v->cid = malloc(m->call_id.len)) == NULL) {
			free(v);
			return;
		}
		memcpy(v->cid, m->call_id.p, m->call_id.len);
		v->cidlen = m->call_id.len;
		v->cseq = m->cseq;
		v->next = mc->inv[inv_hash(m->call_id, m->cseq)];
		mc->inv[inv_hash(m->call_id, m->cseq)] = v;
		mc->ninv++;
	}
	v->reinvite = m->to_tag.len > 0;
	v->offer = has_body(m);
	v->expires_ms = ev_now_ms(mc->loop) + INV_LIFE_MS;
}

void
mediactl_track(struct mediactl *mc, const struct sip_msg *m)
{
	struct inv **pp;
	int keep;

	if (m->call_id.len == 0)
		return;
	if (m->is_request && slice_eq_cstr(m->method, "INVITE")) {
		inv_note(mc, m);
		return;
	}
	if (!m->is_request && m->status >= 200 && m->status < 300 &&
	    slice_eq_cstr(m->cseq_method, "INVITE")) {
		if (*(pp = inv_find(mc, m->call_id, m->cseq)) != NULL)
			(*pp)->confirmed = 1;
		return;
	}
	if (m->is_request && !slice_eq_cstr(m->method, "ACK") &&
	    !slice_eq_cstr(m->method, "CANCEL"))
		return;
	if (!m->is_request && (m->status < 300 ||
	    !slice_eq_cstr(m->cseq_method, "INVITE")))
		return;
	/* ACK, CANCEL, or a final failure of an INVITE. A re-INVITE's
	 * failure keeps the call (its dialog is confirmed), and so does a
	 * CANCEL or a (forked) failure after a 2xx: only that failing
	 * branch, if it had early media, goes. */
	pp = inv_find(mc, m->call_id, m->cseq);
	keep = *pp != NULL && ((*pp)->reinvite || (*pp)->confirmed);
	if (*pp != NULL && (*pp)->confirmed && !(*pp)->reinvite &&
	    !m->is_request && m->to_tag.len > 0)
		del_send(mc, -1, m->call_id, m->from_tag, m->to_tag);
	if (*pp != NULL && !slice_eq_cstr(m->method, "CANCEL"))
		inv_unlink(mc, pp);
	if (!slice_eq_cstr(m->method, "ACK") && !keep)
		mediactl_delete(mc, m);
}

/* Is the SDP of `m` an offer? (see mediactl.h) */
static int
is_offer(struct mediactl *mc, const struct sip_msg *m)
{
	struct inv *v;

	if (m->is_request && slice_eq_cstr(m->method, "PRACK")) {
		/* RAck: RSEQ CSEQ METHOD; the INVITE had no offer: the
		 * reliable provisional did, and this answers it. */
		const struct sip_hdr *ra = sip_find_name(m, "RAck");
		struct slice cur, rseq, cs;
		uint64_t n;

		if (ra == NULL)
			return 1;
		cur = ra->value;
		if (!slice_split(&cur, ' ', &rseq) ||
		    !slice_split(&cur, ' ', &cs) ||
		    slice_to_u64(cs, 0xffffffffu, &n) != 0)
			return 1;
		v = *inv_find(mc, m->call_id, (uint32_t)n);
		return v == NULL || v->offer;
	}
	if (m->is_request)
		return !slice_eq_cstr(m->method, "ACK");
	if (!slice_eq_cstr(m->cseq_method, "INVITE"))
		return 0;
	/* A response to an INVITE without SDP carries the offer. */
	v = *inv_find(mc, m->call_id, m->cseq);
	return v != NULL && !v->offer;
}

void
mediactl_free(struct mediactl *mc)
{
	size_t i;

	if (mc == NULL)
		return;
	for (i = 0; i < PEND_BUCKETS; i++)
		while (mc->pend[i] != NULL)
			finish(mc, mc->pend[i], E_STATE, SLICE_NULL);
	while (mc->gold != NULL)
		ghost_pop(mc);
	if (mc->st.deletes_failed + mc->st.deletes_dropped > 0)
		log_msg(mc->lg, LOG_WARN, "ng: %llu deletes unanswered, %llu "
		    "dropped", (unsigned long long)mc->st.deletes_failed,
		    (unsigned long long)mc->st.deletes_dropped);
	for (i = 0; i < INV_BUCKETS; i++)
		while (mc->inv[i] != NULL)
			inv_unlink(mc, &mc->inv[i]);
	(void)ev_fd_del(mc->loop, mc->fd);
	close(mc->fd);
	free(mc);
}

/*
 * A new pending request of `kind`: offers and answers up to max_pending,
 * deletes in a room of their own, so that a flood of offers never keeps
 * a call from ending.
 */
static struct pending *
pending_new(struct mediactl *mc, enum pkind kind, mediactl_fn *fn, void *arg)
{
	struct pending *p;
	unsigned h;

	if (kind == PK_DELETE ? mc->ndel >= MC_MAX_DELETES :
	    mc->nreq >= mc->conf.max_pending)
		return NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->mc = mc;
	p->kind = kind;
	p->fn = fn;
	p->arg = arg;
	p->relay = mc->cur;
	p->born_ns = ev_now_ns(mc->loop);
	if ((p->dgram = buf_new(NG_DGRAM_MAX)) == NULL ||
	    ng_cookie_new(p->cookie, sizeof(p->cookie)) != 0) {
		buf_free(p->dgram);
		free(p);
		return NULL;
	}
	h = cookie_hash(slice_cstr(p->cookie), PEND_BUCKETS);
	p->next = mc->pend[h];
	mc->pend[h] = p;
	if (kind == PK_DELETE)
		mc->ndel++;
	else
		mc->nreq++;
	return p;
}

/* Fail `p` from the loop, never from inside the caller's call. */
static void
fail_later(struct mediactl *mc, struct pending *p, int err)
{
	p->err = err;
	p->timer = ev_timer_add(mc->loop, 0, mc_timer, p);
}

/* Keep a request's call-id and from-tag: for the log lines about it, and
 * an offer's for a delete if it is lost. */
static void
keep_id(struct pending *p, struct slice cid, struct slice ftag)
{
	if ((p->id = malloc(cid.len + ftag.len + 1)) == NULL)
		return;
	memcpy(p->id, cid.p, cid.len);
	memcpy(p->id + cid.len, ftag.p, ftag.len);
	p->cidlen = cid.len;
	p->ftaglen = ftag.len;
}

void
mediactl_submit(struct mediactl *mc, const struct mediactl_req *rq,
    mediactl_fn *fn, void *arg)
{
	const struct sip_msg *m = rq->msg;
	int offer = is_offer(mc, m);
	struct pending *p = pending_new(mc, offer ? PK_OFFER : PK_ANSWER, fn,
	    arg);
	struct ng_req q;

	if (p == NULL) {
		/* No room to even park it: the caller learns at once (the
		 * only callback made from inside this call). */
		mc->st.refused++;
		if (rlog_due(mc, &mc->log_full)) {
			log_msg(mc->lg, LOG_WARN, "ng: too many pending "
			    "requests: %llu refused since the last warning",
			    (unsigned long long)mc->log_full.n);
			mc->log_full.n = 0;
		}
		fn(arg, E_LIMIT, SLICE_NULL);
		return;
	}
	if (offer && rq->require_srtp && !mediactl_sdp_has_crypto(m->body)) {
		fail_later(mc, p, E_UNSUPPORTED);
		return;
	}
	ng_req_init(&q);
	q.cookie = slice_cstr(p->cookie);
	q.cmd = offer ? NG_CMD_OFFER : NG_CMD_ANSWER;
	q.call_id = m->call_id;
	/* from-tag names the offerer: the From party of an offer in a
	 * request or of an answer in a response, else the To party (an
	 * offer in a 2xx, its answer in the ACK), as Kamailio's rtpengine
	 * module does. */
	q.from_tag = m->is_request == offer ? m->from_tag : m->to_tag;
	q.to_tag = m->is_request == offer ? m->to_tag : m->from_tag;
	q.sdp = m->body;
	q.proto = rq->outward || rq->outside_both ? NG_PROTO_RTP_SAVP :
	    NG_PROTO_RTP_AVP;
	/* An answer to a DTLS-SRTP phone follows its offer: the relay
	 * knows that leg's protocol, ICE and rtcp-mux from it. */
	if (rq->webrtc && rq->outward)
		q.proto = offer ? NG_PROTO_UDP_TLS_RTP_SAVPF : NG_PROTO_NONE;
	if (offer && q.proto == NG_PROTO_RTP_SAVP) {
		/* rtpengine offers AEAD_AES_256_GCM first, and baresip 1.0
		 * takes the first suite it knows but cannot decrypt that
		 * one: every suite the suite table has sip-tls-term not
		 * offer goes in a no- (rtpengine 10.5 has no only-SUITE). */
		enum suite_id no[SUITE_COUNT];
		size_t nno = suite_not_offered(SUITE_FOR_SIP_TLS_TERM, no,
		    NG_LIST_MAX < SUITE_COUNT ? NG_LIST_MAX : SUITE_COUNT);

		for (size_t i = 0; i < nno; i++)
			q.sdes_no[q.n_sdes_no++] = slice_cstr(
			    suite_by_id(no[i])->name);
	}
	q.ice = NG_ICE_REMOVE;
	q.dtls = NG_DTLS_OFF;
	q.replace = NG_REPLACE_ORIGIN | NG_REPLACE_SESSION_CONNECTION;
	q.rtcp_mux = NG_RTCP_MUX_DEMUX;
	if (rq->webrtc && rq->outward && offer) {
		q.ice = NG_ICE_FORCE;
		q.dtls = NG_DTLS_PASSIVE;
		q.sdes = NG_SDES_OFF;
		q.rtcp_mux = NG_RTCP_MUX_OFFER | NG_RTCP_MUX_REQUIRE;
	} else if (rq->webrtc && rq->outward) {
		q.ice = NG_ICE_NONE;
		q.dtls = NG_DTLS_NONE;
		q.rtcp_mux = 0;
	} else if (rq->webrtc || mediactl_sdp_has_dtls(m->body))
		q.dtls = NG_DTLS_NONE;	/* DTLS=off would refuse its DTLS */
	if (mc->conf.dir_outside != NULL && mc->conf.dir_inside != NULL) {
		q.from_interface = slice_cstr(rq->outward &&
		    !rq->outside_both ? mc->conf.dir_inside :
		    mc->conf.dir_outside);
		q.to_interface = slice_cstr(rq->outward || rq->outside_both ?
		    mc->conf.dir_outside : mc->conf.dir_inside);
	}
	if (q.from_tag.len == 0 || ng_req_encode(&q, p->dgram) != 0) {
		fail_later(mc, p, E_BIG);
		return;
	}
	keep_id(p, q.call_id, q.from_tag);
	if (offer) {
		p->initial = q.to_tag.len == 0;
		/* A new initial offer of the same call (a retry after a
		 * failure): the relay reuses the call, older lost offers of
		 * it are no leak any more. */
		if (p->initial)
			ghost_mark(mc, q.call_id, 0);
	}
	start(mc, p);
}

/*
 * A delete of call `cid` (from-tag `ftag`: the whole call; with `ttag`
 * only that branch), to relay `relay` only, or (-1) to the one in use
 * with failover. Retried with back-off; never dropped for lack of room
 * among offers and answers.
 */
static void
del_send(struct mediactl *mc, int relay, struct slice cid, struct slice ftag,
    struct slice ttag)
{
	struct pending *p;
	struct ng_req q;

	if (cid.len == 0)
		return;
	if ((p = pending_new(mc, PK_DELETE, NULL, NULL)) == NULL) {
		mc->st.deletes_dropped++;
		if (rlog_due(mc, &mc->log_deldrop)) {
			log_msg(mc->lg, LOG_WARN, "ng: %llu deletes dropped "
			    "since the last warning: too many unanswered",
			    (unsigned long long)mc->log_deldrop.n);
			mc->log_deldrop.n = 0;
		}
		return;
	}
	keep_id(p, cid, ftag);
	if (relay >= 0) {
		p->relay = (size_t)relay;
		p->fixed = 1;
	}
	ng_req_init(&q);
	q.cookie = slice_cstr(p->cookie);
	q.cmd = NG_CMD_DELETE;
	q.call_id = cid;
	q.from_tag = ftag;
	q.to_tag = ttag;
	if (ng_req_encode(&q, p->dgram) != 0) {
		pending_unlink(mc, p);
		return;
	}
	mc->st.deletes++;
	start(mc, p);
}

void
mediactl_delete(struct mediactl *mc, const struct sip_msg *m)
{
	if (m->call_id.len == 0)
		return;
	/* Without a to-tag, the whole call ends: so do the offers of it
	 * we gave up on, if the relay answers them late. */
	ghost_mark(mc, m->call_id, 1);
	del_send(mc, -1, m->call_id, m->from_tag, SLICE_NULL);
}

void
mediactl_stats(const struct mediactl *mc, struct mediactl_stats *st)
{
	*st = mc->st;
	st->pending = mc->nreq;
	st->pending_deletes = mc->ndel;
	st->ghosts = mc->nghost;
}
