/* calls_ng.c - ng requests on the call table: offer, answer, delete,
 * query, list, statistics; the reply cache and the ng socket. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay/calls_int.h"
#include "media/sdprw.h"

/* ---- offer / answer ---- */

static int
do_offer_answer(struct calls *t, const struct ng_req *req, struct buf *out)
{
	struct reply_err re = { NULL, "" };
	struct call *c = call_find(t, req->call_id);
	struct sdp *s = NULL;
	struct sdp_error se;
	struct buf *body = NULL, *warn = NULL;
	struct branch *b = NULL, *sib;
	int is_new = 0, new_branch = 0, fork = 0, from, e = 0;
	int offer = req->cmd == NG_CMD_OFFER;

	if (!offer && c == NULL)
		return ng_reply_error(out, req->cookie, NG_ERR_UNKNOWN_CALL);
	if (sdp_parse(req->sdp, &s, &se) != 0)
		return ng_reply_error(out, req->cookie, NG_ERR_BAD_SDP);
	if (c == NULL) {
		if (t->cfg.max_sessions > 0 &&
		    t->ncalls >= t->cfg.max_sessions) {
			sdp_free(s);
			if (req->supports & NG_SUPPORTS_LOAD_LIMIT)
				return ng_reply_load_limit(out, req->cookie);
			return ng_reply_error(out, req->cookie,
			    NG_ERR_PARALLEL);
		}
		if ((c = call_new(t, req->call_id)) == NULL) {
			sdp_free(s);
			return E_NOMEM;
		}
		is_new = 1;
	}
	if (offer) {
		b = calls_offer_branch(c, req, &fork);
		sib = b;
		if (b == NULL) {
			/* a new call, or a fork: on the side it has elsewhere */
			for (sib = c->br; sib != NULL &&
			    branch_tag_side(sib, req->from_tag) < 0;
			    sib = sib->next)
				;
			if ((b = branch_new(c, req->via_branch)) == NULL) {
				sdp_free(s);
				if (is_new)
					call_free(c);
				return E_NOMEM;
			}
			new_branch = !is_new;
		}
		from = calls_offer_side(sib, req, s);
		b->offer_from = from;
		e = branch_set_tag(b, from, req->from_tag);
		if (e == 0 && b->via == NULL && req->via_branch.len > 0)
			e = calls_dup_slice(req->via_branch, &b->via,
			    &b->vialen);
	} else if ((b = calls_answer_branch(c, req)) == NULL) {
		sdp_free(s);
		return ng_reply_error(out, req->cookie, NG_ERR_UNKNOWN_CALL);
	} else {
		/* from-tag names the offerer; the answer goes to it */
		from = branch_tag_side(b, req->from_tag);
		if (from < 0)
			from = b->offer_from;
		e = branch_set_tag(b, !from, req->to_tag);
	}
	for (size_t m = 0; e == 0 && m < sdp_media_count(s); m++) {
		int bundled, first = 0;

		if (!sdprw_media_is_rtp(s, m))
			continue;
		bundled = calls_webrtc_bundled(s, m, &first);
		if (offer && bundled && !first &&
		    (m >= b->nm || b->m[m] == NULL)) {
			/* one bundled line is relayed; the others are
			 * refused (port 0), not half-answered */
			e = calls_webrtc_refuse(s, m);
			continue;
		}
		e = offer ? calls_offer_media(t, b, s, m, from, req, &re) :
		    calls_answer_media(t, b, s, m, from, req, &re);
		if (e == 0 && offer && m < b->nm && b->m[m] != NULL)
			b->m[m]->bundled = bundled;
	}
	if (e == 0)
		e = calls_set_session_addr(t, s, offer ? !from : from, req);
	if (e == 0)
		e = calls_webrtc_sdp(t, b, s, offer ? !from : from, offer, req);
	if (e == 0 && (body = buf_new(SDP_MAX_LEN + 4096)) == NULL)
		e = E_NOMEM;
	if (e == 0)
		e = sdp_write(s, body);
	sdp_free(s);
	if (e != 0) {
		buf_free(body);
		if (is_new)
			call_free(c);
		else if (new_branch)
			branch_free(b);
		log_msg(t->lg, LOG_WARN, "%s refused: %s: call-id=%.*s "
		    "from-tag=%.*s to-tag=%.*s", offer ? "offer" : "answer",
		    re.reason != NULL ? re.reason : sbk_strerror(e),
		    CALLS_ID(req->call_id), CALLS_ID(req->from_tag),
		    CALLS_ID(req->to_tag));
		if (e == E_NOMEM)
			return e;
		return ng_reply_error(out, req->cookie, re.reason != NULL ?
		    re.reason : sbk_strerror(e));
	}
	if ((warn = buf_new(1024)) != NULL &&
	    ng_req_warning(req, warn) != 0)
		buf_reset(warn);
	e = ng_reply_ok(out, req->cookie, buf_slice(body),
	    warn != NULL ? buf_slice(warn) : SLICE_NULL);
	buf_free(warn);
	buf_free(body);
	log_msg(t->lg, LOG_INFO, "%s call-id=%.*s from-tag=%.*s to-tag=%.*s "
	    "from %s%s", offer ? "offer" : "answer", CALLS_ID(req->call_id),
	    CALLS_ID(req->from_tag), CALLS_ID(req->to_tag),
	    calls_side_name[from], fork ? " (a new branch)" : "");
	return e;
}

/* ---- delete, query, list, statistics ---- */

static uint64_t
errors(const struct relay_ctr *k)
{
	return k->malformed + k->auth + k->replay + k->nokey + k->nopeer +
	    k->send_err + k->crypto_err;
}

static struct ng_counters
ngc(const struct relay_ctr *k)
{
	struct ng_counters n = { k->pkts, k->bytes, errors(k) };

	return n;
}

static int
query_side(struct calls *t, const struct branch *c, int side,
    struct buf *out)
{
	uint64_t now_ms = ev_now_ms(t->loop), now = calls_wall();
	struct slice via = side != c->offer_from && c->via != NULL ?
	    slice_make(c->via, c->vialen) : SLICE_NULL;
	int e;

	/* a fork not answered yet: its ports are open all the same */
	e = c->tag[side] != NULL ? ng_query_tag_begin(out,
	    slice_make(c->tag[side], c->taglen[side]), via) :
	    ng_query_untagged_begin(out, c->seq, via);
	if (e != 0)
		return e;
	for (size_t m = 0; m < c->nm; m++) {
		const struct media *md = c->m[m];

		if (md == NULL)
			continue;
		if ((e = ng_query_media_begin(out, md->index + 1,
		    slice_cstr(md->type), slice_cstr(md->proto[side]))) != 0)
			return e;
		for (int comp = 0; comp < 2; comp++) {
			struct ng_stream_info si;
			struct relay_ctr k;
			struct net_addr loc, peer;
			char la[NET_ADDR_STRLEN], pa[NET_ADDR_STRLEN];
			const struct keyline *kl = md->rx[side];

			memset(&si, 0, sizeof(si));
			relay_side_counters(md->rs, side, comp, &k);
			if (relay_side_local(md->rs, side, comp, &loc) == 0) {
				si.local_port = net_addr_port(&loc);
				if (net_addr_format_host(&loc, la, sizeof(la))
				    == 0)
					si.local_addr = slice_cstr(la);
			}
			if (relay_side_peer(md->rs, side, comp, &peer) == 0 &&
			    net_addr_format_host(&peer, pa, sizeof(pa)) == 0) {
				si.peer_family = net_addr_family(&peer) ==
				    AF_INET6 ? SLICE_LIT("IPv6") :
				    SLICE_LIT("IPv4");
				si.peer_addr = slice_cstr(pa);
				si.peer_port = net_addr_port(&peer);
			}
			if (relay_side_is_srtp(md->rs, side) && kl != NULL)
				si.crypto_suite = slice_cstr(
				    keyline_suite(kl)->name);
			si.rtcp = comp == RELAY_RTCP;
			if (k.last_ms != 0)
				si.last_packet = now - (now_ms - k.last_ms) /
				    1000;
			si.stats = ngc(&k);
			if ((e = ng_query_stream(out, &si)) != 0)
				return e;
		}
		if ((e = ng_query_media_end(out)) != 0)
			return e;
	}
	return ng_query_tag_end(out);
}

/* Is the party of `b`'s `side` also in a branch other than `b`? */
static int
tag_elsewhere(const struct call *c, const struct branch *b, int side,
    const struct branch *upto)
{
	struct slice tag = slice_make(b->tag[side], b->taglen[side]);

	for (const struct branch *o = c->br; o != upto; o = o->next)
		if (o != b && branch_tag_side(o, tag) >= 0)
			return 1;
	return 0;
}

/*
 * The query body of call `c`, or with `only` of that branch's own parties
 * (a branch deleted): "created", "tags" (each party once, with its
 * streams in the first branch it is in; the party of a fork without a
 * to-tag yet as "<untagged N>", as rtpengine lists it), "totals" of
 * those branches.
 */
static int
call_stats(struct calls *t, const struct call *c, const struct branch *only,
    struct slice cookie, struct buf *out)
{
	struct relay_ctr rtp, rtcp, k;
	struct ng_counters nrtp, nrtcp;
	size_t start = buf_len(out);
	int e;

	memset(&rtp, 0, sizeof(rtp));
	memset(&rtcp, 0, sizeof(rtcp));
	for (const struct branch *b = c->br; b != NULL; b = b->next) {
		if (only != NULL && b != only)
			continue;
		for (size_t m = 0; m < b->nm; m++)
			for (int i = 0; b->m[m] != NULL && i < 2; i++) {
				relay_side_counters(b->m[m]->rs, i, RELAY_RTP,
				    &k);
				relay_ctr_add(&rtp, &k);
				relay_side_counters(b->m[m]->rs, i, RELAY_RTCP,
				    &k);
				relay_ctr_add(&rtcp, &k);
			}
	}
	nrtp = ngc(&rtp);
	nrtcp = ngc(&rtcp);
	if ((e = ng_reply_begin(out, cookie)) != 0 ||
	    (e = ng_query_created(out, c->created)) != 0 ||
	    (e = bencode_put_kdict(out, "tags")) != 0)
		goto fail;
	for (const struct branch *b = c->br; b != NULL; b = b->next) {
		if (only != NULL && b != only)
			continue;
		for (int i = 0; i < 2; i++) {
			if (b->tag[i] != NULL && tag_elsewhere(c, b, i,
			    only != NULL ? NULL : b))
				continue;
			if ((e = query_side(t, b, i, out)) != 0)
				goto fail;
		}
	}
	if ((e = bencode_put_end(out)) != 0 ||
	    (e = ng_query_totals(out, &nrtp, &nrtcp)) != 0 ||
	    (e = ng_reply_end(out)) != 0)
		goto fail;
	return 0;
fail:
	buf_truncate(out, start);
	return e;
}

static void
on_delete_call(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct call *c = arg;

	(void)loop;
	(void)id;
	c->del_timer = 0;
	log_msg(c->t->lg, LOG_INFO, "delete: delay over: call-id=%.*s",
	    CALLS_ID(slice_make(c->id, c->idlen)));
	call_free(c);
}

static void
on_delete_branch(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct branch *b = arg;
	struct call *c = b->call;

	(void)loop;
	(void)id;
	b->del_timer = 0;
	branch_free(b);
	if (c->br == NULL)
		call_free(c);
}

/*
 * delete (see calls.h): the branch of from-tag and to-tag, or of
 * via-branch, or the whole call; after delete-delay seconds if given.
 */
static int
do_delete(struct calls *t, const struct ng_req *req, struct buf *out)
{
	struct call *c = call_find(t, req->call_id);
	struct branch *b = NULL;
	int64_t delay = req->delete_delay > 0 ? req->delete_delay : 0;
	int known = req->from_tag.len == 0, e;

	for (b = c != NULL ? c->br : NULL; b != NULL && !known; b = b->next)
		known = branch_tag_side(b, req->from_tag) >= 0;
	b = NULL;
	if (c != NULL && known && req->to_tag.len > 0 &&
	    req->from_tag.len > 0 &&
	    (b = branch_of_tags(c, req->from_tag, req->to_tag)) == NULL)
		known = 0;	/* rtpengine: the tags must match */
	/* as rtpengine: an error only when the client asked for one with
	 * `fatal`, else ok with a warning */
	if (c == NULL || !known) {
		if (req->flags & NG_FLAG_FATAL)
			return ng_reply_error(out, req->cookie,
			    NG_ERR_DELETE_NOT_FOUND);
		return ng_reply_ok(out, req->cookie, SLICE_NULL,
		    SLICE_LIT(NG_ERR_DELETE_NOT_FOUND));
	}
	if (b == NULL && req->to_tag.len == 0 && req->via_branch.len > 0 &&
	    (b = branch_of_via(c, req->via_branch)) != NULL &&
	    req->from_tag.len > 0 && branch_tag_side(b, req->from_tag) < 0)
		b = NULL;
	if (b != NULL && b == c->br && b->next == NULL)
		b = NULL;	/* its last branch: the whole call */
	log_msg(t->lg, LOG_INFO, "delete call-id=%.*s from-tag=%.*s%s%s",
	    CALLS_ID(req->call_id), CALLS_ID(req->from_tag),
	    b != NULL ? ": one branch" : "", delay > 0 ? ", delayed" : "");
	/* rtpengine answers a delete without tags with a bare ok */
	e = req->from_tag.len == 0 && req->to_tag.len == 0 ?
	    ng_reply_ok(out, req->cookie, SLICE_NULL, SLICE_NULL) :
	    call_stats(t, c, b, req->cookie, out);
	if (e != 0)
		return e;
	if (delay > 0) {
		int64_t *tm = b != NULL ? &b->del_timer : &c->del_timer;
		int64_t id;

		if (*tm > 0)
			(void)ev_timer_del(t->loop, (uint64_t)*tm);
		id = ev_timer_add(t->loop, (uint64_t)delay * 1000,
		    b != NULL ? on_delete_branch : on_delete_call,
		    b != NULL ? (void *)b : (void *)c);
		if (id > 0) {
			*tm = id;
			return 0;
		}
		*tm = 0;	/* no timer: at once */
	}
	if (b != NULL)
		branch_free(b);
	else
		call_free(c);
	return 0;
}

static int
do_query(struct calls *t, const struct ng_req *req, struct buf *out)
{
	struct call *c = call_find(t, req->call_id);

	if (c == NULL)
		return ng_reply_error(out, req->cookie, NG_ERR_UNKNOWN_CALL);
	return call_stats(t, c, NULL, req->cookie, out);
}

static int
do_list(struct calls *t, const struct ng_req *req, struct buf *out)
{
	struct slice *ids = calloc(t->ncalls + 1, sizeof(*ids));
	size_t n = 0;
	int e;

	if (ids == NULL)
		return E_NOMEM;
	for (struct call *c = t->head; c != NULL; c = c->next)
		ids[n++] = slice_make(c->id, c->idlen);
	e = ng_reply_list(out, req->cookie, ids, n);
	free(ids);
	return e;
}

static int
do_statistics(struct calls *t, const struct ng_req *req, struct buf *out)
{
	struct ng_statistics st;
	struct relay_ctr rtp, rtcp;
	uint64_t now = ev_now_ms(t->loop), dt;

	relay_totals(t->relay, &rtp, &rtcp);
	relay_ctr_add(&rtp, &rtcp);
	memset(&st, 0, sizeof(st));
	st.sessions_current = t->ncalls;
	st.sessions_total = t->total;
	st.uptime = calls_wall() - t->started;
	st.total = ngc(&rtp);
	dt = now - t->rate_ms;
	if (dt > 0) {
		st.rate.packets = (rtp.pkts - t->rate_prev.pkts) * 1000 / dt;
		st.rate.bytes = (rtp.bytes - t->rate_prev.bytes) * 1000 / dt;
		st.rate.errors = (errors(&rtp) - errors(&t->rate_prev)) *
		    1000 / dt;
	}
	t->rate_prev = rtp;
	t->rate_ms = now;
	return ng_reply_statistics(out, req->cookie, &st);
}

/* ---- the request path ---- */

static int
dispatch(struct calls *t, const struct ng_req *req, struct buf *out)
{
	const char *why = ng_req_check(req);

	if (why != NULL)
		return ng_reply_error(out, req->cookie, why);
	switch (req->cmd) {
	case NG_CMD_PING:
		return ng_reply_pong(out, req->cookie);
	case NG_CMD_OFFER:
	case NG_CMD_ANSWER:
		return do_offer_answer(t, req, out);
	case NG_CMD_DELETE:
		return do_delete(t, req, out);
	case NG_CMD_QUERY:
		return do_query(t, req, out);
	case NG_CMD_LIST:
		return do_list(t, req, out);
	case NG_CMD_STATISTICS:
		return do_statistics(t, req, out);
	default:
		return ng_reply_error(out, req->cookie, NG_ERR_UNRECOGNIZED);
	}
}

int
calls_handle(struct calls *t, struct slice dgram, const struct net_addr *peer,
    struct buf *out)
{
	struct ng_req req;
	struct slice cached, pk = slice_make(&peer->u, peer->len);
	uint64_t now = ev_now_ms(t->loop);
	size_t start = buf_len(out);
	int e;

	e = ng_req_parse(&req, dgram);
	if (req.cookie.len == 0) {
		ng_req_release(&req);
		return E_SYNTAX;
	}
	if (ng_cache_get(t->cache, pk, req.cookie, now, &cached) == 0) {
		e = buf_append_slice(out, cached);
		calls_obs_ng(t, req.cmd, cached, 1);
		ng_req_release(&req);
		return e;
	}
	if (e != 0)
		e = ng_reply_error(out, req.cookie, NG_ERR_DECODE);
	else
		e = dispatch(t, &req, out);
	if (e == 0)
		calls_obs_ng(t, req.cmd, slice_make(buf_data(out) + start,
		    buf_len(out) - start), 0);
	if (e == 0 && ng_cache_put(t->cache, pk, req.cookie,
	    slice_make(buf_data(out) + start, buf_len(out) - start), now) != 0)
		log_msg(t->lg, LOG_WARN, "ng reply cache: full");
	ng_req_release(&req);
	return e;
}

/* A request from a source --ng-allow does not name: no answer (an answer
 * would tell a scanner what listens), a count, and a log line at the
 * first and then at every 1000th. */
static void
ng_refuse(struct calls *t, const struct net_addr *src)
{
	char a[NET_ADDR_STRLEN];

	if (t->ng_refused++ % 1000 == 0 &&
	    net_addr_format(src, a, sizeof(a)) == 0)
		log_msg(t->lg, LOG_WARN, "ng: request from %s refused: not in "
		    "--ng-allow (%llu refused)", a,
		    (unsigned long long)t->ng_refused);
}

static void
on_ng(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct calls *t = arg;

	(void)loop;
	(void)events;
	for (int i = 0; i < 64; i++) {
		struct net_pkt p = { t->rxbuf, sizeof(t->rxbuf) - 1, 0,
			{ .len = 0 }, 0 };
		struct net_pkt r;

		if (net_recv(fd, &p) != 0)
			break;
		if (t->cfg.n_ng_allow > 0 && !net_prefix_list_match(
		    t->cfg.ng_allow, t->cfg.n_ng_allow, &p.addr)) {
			ng_refuse(t, &p.addr);
			continue;
		}
		buf_reset(t->reply);
		if (p.trunc || calls_handle(t, slice_make(p.buf, p.len),
		    &p.addr, t->reply) != 0)
			continue;
		r = p;
		r.buf = (uint8_t *)buf_data(t->reply);
		r.len = buf_len(t->reply);
		if (net_send(fd, &r) != 0)
			log_msg(t->lg, LOG_WARN, "ng reply: %s",
			    strerror(errno));
	}
}

int
calls_listen(struct calls *t, const struct net_addr *addr)
{
	int e;

	if (t->fd >= 0)
		return E_STATE;
	if ((e = net_udp_bind(addr, 0, &t->fd)) != 0)
		return e;
	if ((e = ev_fd_add(t->loop, t->fd, EV_READ, on_ng, t)) != 0) {
		close(t->fd);
		t->fd = -1;
		return e;
	}
	return 0;
}

int
calls_local(const struct calls *t, struct net_addr *a)
{
	if (t->fd < 0)
		return E_STATE;
	return net_local_addr(t->fd, a);
}
