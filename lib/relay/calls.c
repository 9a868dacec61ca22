/* calls.c - the call table: calls, their branches and streams, and their
 * life cycle (see calls.h; ng requests: calls_ng.c; SDP and keys:
 * calls_sdp.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "relay/calls_int.h"
#include "base/rnd.h"

const char *const calls_side_name[2] = { "outside", "inside" };

uint64_t
calls_wall(void)
{
	return (uint64_t)time(NULL);
}

/* ---- calls ---- */

void
calls_media_free(struct media *md)
{
	if (md == NULL)
		return;
	calls_obs_media_end(md);
	for (int i = 0; i < 2; i++) {
		if (md->w[i] != NULL) {
			struct webrtc_ctr k;

			webrtc_counters(md->w[i], &k);
			webrtc_ctr_add(&md->br->call->t->webrtc_gone, &k);
		}
		webrtc_free(md->w[i]);
	}
	relay_stream_free(md->rs);
	for (int i = 0; i < 2; i++) {
		keyline_free(md->rx[i]);
		keyline_free(md->tx[i]);
	}
	for (size_t i = 0; i < md->noffered; i++)
		keyline_free(md->offered[i]);
	free(md);
}

int
calls_dup_slice(struct slice v, uint8_t **p, size_t *len)
{
	uint8_t *n;

	if ((n = malloc(v.len + 1)) == NULL)
		return E_NOMEM;
	memcpy(n, v.p, v.len);
	n[v.len] = '\0';
	free(*p);
	*p = n;
	*len = v.len;
	return 0;
}

void
branch_free(struct branch *b)
{
	struct call *c = b->call;
	struct branch **pp;

	for (pp = &c->br; *pp != NULL; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	if (b->del_timer > 0)
		(void)ev_timer_del(c->t->loop, (uint64_t)b->del_timer);
	for (size_t i = 0; i < b->nm; i++)
		calls_media_free(b->m[i]);
	free(b->tag[0]);
	free(b->tag[1]);
	free(b->via);
	free(b);
}

/* A new branch at the end of the call's list, for via-branch `via`. */
struct branch *
branch_new(struct call *c, struct slice via)
{
	struct branch *b = calloc(1, sizeof(*b)), **pp;

	if (b == NULL)
		return NULL;
	if (via.len > 0 && calls_dup_slice(via, &b->via, &b->vialen) != 0) {
		free(b);
		return NULL;
	}
	b->call = c;
	b->seq = ++c->nbranch;
	for (pp = &c->br; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = b;
	return b;
}

void
call_free(struct call *call)
{
	struct calls *t = call->t;

	while (call->br != NULL)
		branch_free(call->br);
	if (call->del_timer > 0)
		(void)ev_timer_del(t->loop, (uint64_t)call->del_timer);
	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		t->head = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
	t->ncalls--;
	free(call->id);
	free(call);
}

struct call *
call_find(struct calls *t, struct slice id)
{
	for (struct call *c = t->head; c != NULL; c = c->next)
		if (slice_eq(slice_make(c->id, c->idlen), id))
			return c;
	return NULL;
}

struct call *
call_new(struct calls *t, struct slice id)
{
	struct call *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->id = malloc(id.len + 1)) == NULL) {
		free(c);
		return NULL;
	}
	memcpy(c->id, id.p, id.len);
	c->id[id.len] = '\0';
	c->idlen = id.len;
	c->t = t;
	c->created = calls_wall();
	c->next = t->head;
	if (t->head != NULL)
		t->head->prev = c;
	t->head = c;
	t->ncalls++;
	t->total++;
	return c;
}

int
branch_set_tag(struct branch *b, int side, struct slice tag)
{
	if (tag.len == 0)
		return 0;
	return calls_dup_slice(tag, &b->tag[side], &b->taglen[side]);
}

/* The side of the party with tag `tag` in branch `b`, or -1. */
int
branch_tag_side(const struct branch *b, struct slice tag)
{
	for (int i = 0; i < 2; i++)
		if (b->tag[i] != NULL && tag.len > 0 &&
		    slice_eq(slice_make(b->tag[i], b->taglen[i]), tag))
			return i;
	return -1;
}

static int
branch_via_is(const struct branch *b, struct slice via)
{
	return via.len > 0 && b->via != NULL &&
	    slice_eq(slice_make(b->via, b->vialen), via);
}

/* The branch whose two parties are `a` and `b` (either way), or NULL. */
struct branch *
branch_of_tags(const struct call *c, struct slice a, struct slice b)
{
	for (struct branch *br = c->br; br != NULL; br = br->next) {
		int sa = branch_tag_side(br, a), sb = branch_tag_side(br, b);

		if (sa >= 0 && sb >= 0 && sa != sb)
			return br;
	}
	return NULL;
}

struct branch *
branch_of_via(const struct call *c, struct slice via)
{
	for (struct branch *br = c->br; br != NULL; br = br->next)
		if (branch_via_is(br, via))
			return br;
	return NULL;
}

/*
 * The branch an offer belongs to (*fork set when it needs a new one): the
 * dialog of from-tag and to-tag (a re-INVITE); else the one of its
 * via-branch; else a branch of the from-tag not told apart by via-branch;
 * else, with a via-branch, a new fork of the from-tag's offer; else the
 * first branch (a new call: none).
 */
struct branch *
calls_offer_branch(const struct call *c, const struct ng_req *req, int *fork)
{
	struct branch *b;
	int known = 0;

	*fork = 0;
	if (req->to_tag.len > 0 &&
	    (b = branch_of_tags(c, req->from_tag, req->to_tag)) != NULL)
		return b;
	if ((b = branch_of_via(c, req->via_branch)) != NULL)
		return b;
	for (b = c->br; b != NULL; b = b->next) {
		if (branch_tag_side(b, req->from_tag) < 0)
			continue;
		known = 1;
		if (req->via_branch.len == 0 || b->via == NULL)
			return b;
	}
	if (c->br == NULL || (known && req->via_branch.len > 0)) {
		*fork = 1;
		return NULL;
	}
	return c->br;
}

/*
 * The branch an answer belongs to: the dialog of its tags (a re-answer),
 * else the one of its via-branch, else an unanswered branch of the
 * from-tag (the offerer), else any of the from-tag, else the first.
 */
struct branch *
calls_answer_branch(const struct call *c, const struct ng_req *req)
{
	struct branch *b;
	int side;

	if ((b = branch_of_tags(c, req->from_tag, req->to_tag)) != NULL ||
	    (b = branch_of_via(c, req->via_branch)) != NULL)
		return b;
	for (b = c->br; b != NULL; b = b->next)
		if ((side = branch_tag_side(b, req->from_tag)) >= 0 &&
		    b->tag[!side] == NULL)
			return b;
	for (b = c->br; b != NULL; b = b->next)
		if (branch_tag_side(b, req->from_tag) >= 0)
			return b;
	return c->br;
}

/* ---- life cycle ---- */

struct calls *
calls_new(struct relay *r, struct ev_loop *loop,
    const struct calls_config *cfg, const struct logger *lg, int *err)
{
	struct calls *t;
	int e = E_NOMEM;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		goto fail;
	t->relay = r;
	t->loop = loop;
	t->cfg = *cfg;
	t->lg = lg;
	t->fd = -1;
	t->started = calls_wall();
	t->rate_ms = ev_now_ms(loop);
	for (int i = 0; i < 2; i++) {
		const struct net_addr *a = cfg->advertise[i].len != 0 ?
		    &cfg->advertise[i] : &cfg->iface[i];

		if (net_addr_format_host(a, t->addr[i], sizeof(t->addr[i]))
		    != 0) {
			e = E_INVAL;
			goto fail;
		}
	}
	t->cache = ng_cache_new(CACHE_ENTRIES, CACHE_BYTES, NG_CACHE_TTL_MS);
	t->reply = buf_new(REPLY_MAX);
	t->rnd = rnd_pool_new(0);
	if (t->cache == NULL || t->reply == NULL || t->rnd == NULL)
		goto fail;
	return t;
fail:
	calls_free(t);
	if (err != NULL)
		*err = e;
	return NULL;
}

void
calls_free(struct calls *t)
{
	if (t == NULL)
		return;
	while (t->head != NULL)
		call_free(t->head);
	if (t->fd >= 0) {
		(void)ev_fd_del(t->loop, t->fd);
		close(t->fd);
	}
	ng_cache_free(t->cache);
	buf_free(t->reply);
	rnd_pool_free(t->rnd);
	free(t);
}

size_t
calls_count(const struct calls *t)
{
	return t->ncalls;
}

void
calls_stream_timeout(struct relay_stream *s, void *user)
{
	struct media *md = user;
	struct call *c = md->br->call;
	uint64_t now = ev_now_ms(c->t->loop), tmo = c->t->cfg.timeout_ms;

	(void)s;
	/* the call ends when ALL its streams are idle: an unused video line
	 * or an unanswered fork does not end a call whose audio flows */
	for (const struct branch *b = c->br; tmo > 0 && b != NULL; b = b->next)
		for (size_t m = 0; m < b->nm; m++)
			if (b->m[m] != NULL &&
			    now - relay_stream_last_ms(b->m[m]->rs) < tmo)
				return;
	log_msg(c->t->lg, LOG_INFO, "no media, deleted: call-id=%.*s",
	    CALLS_ID(slice_make(c->id, c->idlen)));
	call_free(c);
}

void
calls_stream_ssrc(struct relay_stream *s, int side, uint32_t ssrc,
    void *user)
{
	struct media *md = user;

	(void)s;
	if (md->ssrc_logged[side])
		return;
	md->ssrc_logged[side] = 1;
	calls_log_key(md->br->call->t, md, side, 1, &ssrc);
}

int
calls_summary(const struct calls *t, struct buf *b)
{
	uint64_t now = calls_wall();
	int e = log_summary(t->lg, b, "calls now=%zu total=%llu", t->ncalls,
	    (unsigned long long)t->total);

	for (const struct call *c = t->head; c != NULL && e == 0; c = c->next) {
		size_t nb = 0, nm = 0;

		for (const struct branch *br = c->br; br != NULL;
		    br = br->next) {
			nb++;
			for (size_t m = 0; m < br->nm; m++)
				nm += br->m[m] != NULL;
		}
		e = log_summary(t->lg, b, "call call-id=%.*s media=%zu "
		    "branches=%zu age_s=%llu", CALLS_ID(slice_make(c->id, c->idlen)), nm,
		    nb, (unsigned long long)(now - c->created));
	}
	if (e == 0) {
		struct webrtc_ctr k;

		calls_webrtc_totals(t, &k);
		e = log_summary(t->lg, b, "webrtc stun=%llu ice_answered=%llu "
		    "ice_bad_auth=%llu ice_other=%llu nominations=%llu "
		    "dtls=%llu dtls_bad=%llu dtls_untrusted=%llu "
		    "dtls_early=%llu handshakes=%llu "
		    "fingerprint_mismatch=%llu dtls_failed=%llu "
		    "handshakes_rtcp=%llu",
		    (unsigned long long)k.stun,
		    (unsigned long long)k.ice_answered,
		    (unsigned long long)k.ice_bad_auth,
		    (unsigned long long)k.ice_other,
		    (unsigned long long)k.nominations,
		    (unsigned long long)k.dtls, (unsigned long long)k.dtls_bad,
		    (unsigned long long)k.dtls_untrusted,
		    (unsigned long long)k.dtls_early,
		    (unsigned long long)k.handshakes,
		    (unsigned long long)k.fp_mismatch,
		    (unsigned long long)k.dtls_failed,
		    (unsigned long long)k.rtcp_handshakes);
	}
	return e;
}

void
calls_webrtc_totals(const struct calls *t, struct webrtc_ctr *k)
{
	*k = t->webrtc_gone;
	for (const struct call *c = t->head; c != NULL; c = c->next)
		for (const struct branch *br = c->br; br != NULL;
		    br = br->next)
			for (size_t m = 0; m < br->nm; m++)
				for (int i = 0; br->m[m] != NULL && i < 2;
				    i++) {
					struct webrtc_ctr x;

					if (br->m[m]->w[i] == NULL)
						continue;
					webrtc_counters(br->m[m]->w[i], &x);
					webrtc_ctr_add(k, &x);
				}
}
