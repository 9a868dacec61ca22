/* mediactl.c - media control: SDP bodies through an ng relay, parked. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/buf.h"
#include "sip/mediactl.h"
#include "ng/ng.h"
#include "media/suite.h"

struct pending {
	struct mediactl *mc;
	char cookie[NG_COOKIE_LEN + 1];
	struct buf *dgram;	/* encoded request, cookie included */
	size_t relay;		/* index it goes to now */
	size_t tried;		/* relays tried */
	struct ng_retry rt;
	int64_t timer;
	mediactl_fn *fn;	/* NULL: fire and forget (delete) */
	void *arg;
	int err;		/* for a deferred failure */
	struct pending *next;
};

/* An INVITE transaction seen going through (mediactl_track). */
struct inv {
	char *cid;
	size_t cidlen;
	uint32_t cseq;
	int reinvite;		/* it had a To tag */
	int offer;		/* it carried SDP */
	uint64_t expires_ms;
	struct inv *next;
};

#define INV_BUCKETS 1024
#define INV_MAX 20000
#define INV_LIFE_MS 200000	/* beyond timer C (180 s) */

struct mediactl {
	struct ev_loop *loop;
	struct mediactl_conf conf;
	const struct logger *lg;
	int fd;
	size_t cur;		/* relay in use */
	struct pending *list;
	size_t npending;
	struct inv *inv[INV_BUCKETS];
	size_t ninv;
	uint8_t rbuf[NG_DGRAM_MAX + 1];
};

#define MC_MAX_PENDING 10000

static void mc_timer(struct ev_loop *loop, uint64_t id, void *arg);

static void
pending_unlink(struct mediactl *mc, struct pending *p)
{
	struct pending **pp = &mc->list;

	while (*pp != NULL && *pp != p)
		pp = &(*pp)->next;
	if (*pp == p) {
		*pp = p->next;
		mc->npending--;
	}
	if (p->timer > 0)
		(void)ev_timer_del(mc->loop, (uint64_t)p->timer);
	buf_free(p->dgram);
	free(p);
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
	if (net_send(mc->fd, &pk) != 0)
		log_msg(mc->lg, LOG_DEBUG, "ng: send failed");
}

/* Start (again) on relay p->relay with a fresh schedule. */
static void
start(struct mediactl *mc, struct pending *p)
{
	uint64_t now = ev_now_ms(mc->loop), when = now;

	ng_retry_init(&p->rt, mc->conf.retries, mc->conf.timeout_ms, now);
	if (ng_retry_next(&p->rt, now, &when) == NG_RETRY_SEND)
		send_now(mc, p);
	if (p->timer > 0)
		(void)ev_timer_del(mc->loop, (uint64_t)p->timer);
	p->timer = ev_timer_add(mc->loop, when > now ? when - now : 1,
	    mc_timer, p);
}

/* Try the next relay, or give up. */
static void
failover(struct mediactl *mc, struct pending *p, int err)
{
	if (++p->tried < mc->conf.nrelay) {
		p->relay = (p->relay + 1) % mc->conf.nrelay;
		/* New requests go to the relay that works. */
		mc->cur = p->relay;
		log_msg(mc->lg, LOG_WARN, "ng: relay %zu failed, trying %zu",
		    (p->relay + mc->conf.nrelay - 1) % mc->conf.nrelay, p->relay);
		start(mc, p);
		return;
	}
	log_msg(mc->lg, LOG_WARN, "ng: no relay answered");
	finish(mc, p, err, SLICE_NULL);
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
		send_now(mc, p);
		/* FALLTHROUGH */
	case NG_RETRY_WAIT:
		p->timer = ev_timer_add(loop, when > now ? when - now : 1,
		    mc_timer, p);
		break;
	default:
		failover(mc, p, E_TIMEOUT);
	}
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
		for (p = mc->list; p != NULL; p = p->next)
			if (slice_eq_cstr(rep.cookie, p->cookie) &&
			    net_addr_eq(&pk.addr, &mc->conf.relay[p->relay]))
				break;
		if (p == NULL) {
			ng_reply_release(&rep);
			continue;	/* late or foreign */
		}
		if (ng_reply_failover(&rep)) {
			ng_reply_release(&rep);
			failover(mc, p, E_LIMIT);
			continue;
		}
		if (rep.result == NG_RESULT_OK || rep.result == NG_RESULT_PONG)
			finish(mc, p, 0, rep.sdp);
		else {
			log_msg(mc->lg, LOG_WARN, "ng: relay error: %.*s",
			    (int)rep.error_reason.len,
			    (const char *)rep.error_reason.p);
			finish(mc, p, E_SYNTAX, SLICE_NULL);
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
	memset(&any, 0, sizeof(any));
	if (net_addr_parse_host(slice_cstr(net_addr_family(&conf->relay[0]) ==
	    AF_INET6 ? "::" : "0.0.0.0"), 0, &any) != 0 ||
	    (r = net_udp_bind(&any, 0, &mc->fd)) != 0) {
		free(mc);
		*err = E_IO;
		return NULL;
	}
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
	int reinvite;

	if (m->call_id.len == 0)
		return;
	if (m->is_request && slice_eq_cstr(m->method, "INVITE")) {
		inv_note(mc, m);
		return;
	}
	if (m->is_request && !slice_eq_cstr(m->method, "ACK") &&
	    !slice_eq_cstr(m->method, "CANCEL"))
		return;
	if (!m->is_request && (m->status < 300 ||
	    !slice_eq_cstr(m->cseq_method, "INVITE")))
		return;
	/* ACK, CANCEL, or a final failure of an INVITE. */
	pp = inv_find(mc, m->call_id, m->cseq);
	reinvite = *pp != NULL && (*pp)->reinvite;
	if (*pp != NULL && !slice_eq_cstr(m->method, "CANCEL"))
		inv_unlink(mc, pp);
	if (!slice_eq_cstr(m->method, "ACK") && !reinvite)
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
	while (mc->list != NULL)
		finish(mc, mc->list, E_STATE, SLICE_NULL);
	for (i = 0; i < INV_BUCKETS; i++)
		while (mc->inv[i] != NULL)
			inv_unlink(mc, &mc->inv[i]);
	(void)ev_fd_del(mc->loop, mc->fd);
	close(mc->fd);
	free(mc);
}

int
mediactl_sdp_has_crypto(struct slice sdp)
{
	struct slice s = sdp, line;

	while (s.len > 0) {
		(void)slice_split(&s, '\n', &line);
		if (line.len > 0 && line.p[line.len - 1] == '\r')
			line.len--;
		if (line.len > 9 && memcmp(line.p, "a=crypto:", 9) == 0) {
			struct slice rest = slice_make(line.p + 9, line.len - 9);
			struct slice tagp, suite;
			(void)slice_split(&rest, ' ', &tagp);
			(void)slice_split(&rest, ' ', &suite);
			if (suite_by_name(suite) != NULL &&
			    slice_find(rest, SLICE_LIT("inline:")) >= 0)
				return 1;
		}
	}
	return 0;
}

static struct pending *
pending_new(struct mediactl *mc, mediactl_fn *fn, void *arg)
{
	struct pending *p;

	if (mc->npending >= MC_MAX_PENDING ||
	    (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->mc = mc;
	p->fn = fn;
	p->arg = arg;
	p->relay = mc->cur;
	if ((p->dgram = buf_new(NG_DGRAM_MAX)) == NULL ||
	    ng_cookie_new(p->cookie, sizeof(p->cookie)) != 0) {
		buf_free(p->dgram);
		free(p);
		return NULL;
	}
	p->next = mc->list;
	mc->list = p;
	mc->npending++;
	return p;
}

/* Fail `p` from the loop, never from inside the caller's call. */
static void
fail_later(struct mediactl *mc, struct pending *p, int err)
{
	p->err = err;
	p->timer = ev_timer_add(mc->loop, 0, mc_timer, p);
}

void
mediactl_submit(struct mediactl *mc, const struct mediactl_req *rq,
    mediactl_fn *fn, void *arg)
{
	const struct sip_msg *m = rq->msg;
	struct pending *p = pending_new(mc, fn, arg);
	struct ng_req q;
	int offer;

	if (p == NULL) {
		/* No room to even park it: the caller learns at once (the
		 * only callback made from inside this call). */
		log_msg(mc->lg, LOG_WARN, "ng: too many pending requests");
		fn(arg, E_LIMIT, SLICE_NULL);
		return;
	}
	offer = is_offer(mc, m);
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
	if (mc->conf.dir_outside != NULL && mc->conf.dir_inside != NULL) {
		q.from_interface = slice_cstr(rq->outward &&
		    !rq->outside_both ? mc->conf.dir_inside :
		    mc->conf.dir_outside);
		q.to_interface = slice_cstr(rq->outward || rq->outside_both ?
		    mc->conf.dir_outside : mc->conf.dir_inside);
	}
	if (q.from_tag.len == 0 || ng_req_encode(&q, p->dgram) != 0) {
		fail_later(mc, p, E_SYNTAX);
		return;
	}
	start(mc, p);
}

void
mediactl_delete(struct mediactl *mc, const struct sip_msg *m)
{
	struct pending *p;
	struct ng_req q;

	if (m->call_id.len == 0 || (p = pending_new(mc, NULL, NULL)) == NULL)
		return;
	ng_req_init(&q);
	q.cookie = slice_cstr(p->cookie);
	q.cmd = NG_CMD_DELETE;
	q.call_id = m->call_id;
	/* Without a to-tag, the whole call ends. */
	q.from_tag = m->from_tag;
	if (ng_req_encode(&q, p->dgram) != 0) {
		pending_unlink(mc, p);
		return;
	}
	start(mc, p);
}
