/* calls.c - ng requests to relay streams and rewritten SDPs (see calls.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "relay/calls.h"
#include "media/keyline.h"
#include "ng/ng.h"
#include "base/rnd.h"
#include "media/sdp.h"
#include "media/sdprw.h"

#define OUTSIDE 0
#define INSIDE 1
#define MAX_OFFERED 8
#define REPLY_MAX (NG_DGRAM_MAX)
#define CACHE_ENTRIES 4096
#define CACHE_BYTES (16u << 20)

static const char *const side_name[2] = { "outside", "inside" };

/* The suites we accept from an offerer: the suite table's (media/suite.h). */
struct accept_suites {
	enum suite_id id[SUITE_COUNT];
	size_t n;
};

static struct accept_suites
accept_suites(void)
{
	struct accept_suites a;

	a.n = suite_accept_order(SUITE_FOR_SRTP_BRIDGE, a.id, SUITE_COUNT);
	return a;
}

struct call;
struct branch;

struct media {
	struct branch *br;
	unsigned index;			/* m= line number */
	struct relay_stream *rs;
	struct keyline *rx[2];		/* the peer's key, per side */
	struct keyline *tx[2];		/* our key towards each side */
	struct keyline *offered[MAX_OFFERED];	/* offered to `offered_to` */
	size_t noffered;
	int offered_to;
	char type[16];
	char proto[2][24];		/* profile on each side */
	int ssrc_logged[2];
};

/*
 * A branch is one dialog of a call: the offerer and one answerer (forked
 * offers, told apart by via-branch, make one branch each, with their own
 * ports on both sides, as rtpengine does).
 */
struct branch {
	struct call *call;
	struct branch *next;
	uint8_t *tag[2];		/* tag of the party on each side */
	size_t taglen[2];
	uint8_t *via;			/* via-branch of its offer, or NULL */
	size_t vialen;
	unsigned seq;			/* 1, 2, ... in its call: names an
					 * untagged party "<untagged N>" */
	int offer_from;			/* side of the last offer */
	struct media *m[SDP_MAX_MEDIA];
	size_t nm;
	int64_t del_timer;		/* delete-delay pending, or 0 */
};

struct call {
	struct calls *t;
	struct call *prev, *next;
	uint8_t *id;
	size_t idlen;
	struct branch *br;		/* its dialogs, oldest first */
	unsigned nbranch;		/* branches made so far */
	uint64_t created;		/* wall clock, seconds */
	int64_t del_timer;		/* delete-delay pending, or 0 */
};

struct calls {
	struct relay *relay;
	struct ev_loop *loop;
	struct calls_config cfg;
	const struct logger *lg;
	char addr[2][NET_ADDR_STRLEN];	/* advertised hosts, as text */
	struct call *head;
	size_t ncalls;
	uint64_t total;
	uint64_t started;		/* wall clock */
	struct ng_cache *cache;
	struct rnd_pool *rnd;		/* fresh keys; made after any fork */
	int fd;
	struct buf *reply;		/* for calls_listen */
	uint8_t rxbuf[NG_DGRAM_MAX + 1];
	/* for statistics rates */
	uint64_t rate_ms;
	struct relay_ctr rate_prev;
};

static uint64_t
wall(void)
{
	return (uint64_t)time(NULL);
}

/* ---- calls ---- */

static void
media_free(struct media *md)
{
	if (md == NULL)
		return;
	relay_stream_free(md->rs);
	for (int i = 0; i < 2; i++) {
		keyline_free(md->rx[i]);
		keyline_free(md->tx[i]);
	}
	for (size_t i = 0; i < md->noffered; i++)
		keyline_free(md->offered[i]);
	free(md);
}

static int
dup_slice(struct slice v, uint8_t **p, size_t *len)
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

static void
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
		media_free(b->m[i]);
	free(b->tag[0]);
	free(b->tag[1]);
	free(b->via);
	free(b);
}

/* A new branch at the end of the call's list, for via-branch `via`. */
static struct branch *
branch_new(struct call *c, struct slice via)
{
	struct branch *b = calloc(1, sizeof(*b)), **pp;

	if (b == NULL)
		return NULL;
	if (via.len > 0 && dup_slice(via, &b->via, &b->vialen) != 0) {
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

static void
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

static struct call *
call_find(struct calls *t, struct slice id)
{
	for (struct call *c = t->head; c != NULL; c = c->next)
		if (slice_eq(slice_make(c->id, c->idlen), id))
			return c;
	return NULL;
}

static struct call *
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
	c->created = wall();
	c->next = t->head;
	if (t->head != NULL)
		t->head->prev = c;
	t->head = c;
	t->ncalls++;
	t->total++;
	return c;
}

static int
branch_set_tag(struct branch *b, int side, struct slice tag)
{
	if (tag.len == 0)
		return 0;
	return dup_slice(tag, &b->tag[side], &b->taglen[side]);
}

/* The side of the party with tag `tag` in branch `b`, or -1. */
static int
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
static struct branch *
branch_of_tags(const struct call *c, struct slice a, struct slice b)
{
	for (struct branch *br = c->br; br != NULL; br = br->next) {
		int sa = branch_tag_side(br, a), sb = branch_tag_side(br, b);

		if (sa >= 0 && sb >= 0 && sa != sb)
			return br;
	}
	return NULL;
}

static struct branch *
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
static struct branch *
offer_branch(const struct call *c, const struct ng_req *req, int *fork)
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
static struct branch *
answer_branch(const struct call *c, const struct ng_req *req)
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

/* ---- key handling ---- */

static void
log_key(struct calls *t, struct media *md, int side, int rx,
    const uint32_t *ssrc)
{
	struct net_addr loc, peer;
	const struct keyline *kl = rx ? md->rx[side] : md->tx[side];

	if (t->cfg.keylog == NULL || kl == NULL)
		return;
	if (relay_side_local(md->rs, side, RELAY_RTP, &loc) != 0)
		memset(&loc, 0, sizeof(loc));
	if (relay_side_peer(md->rs, side, RELAY_RTP, &peer) != 0)
		memset(&peer, 0, sizeof(peer));
	if (keylog_add(t->cfg.keylog, kl, (const char *)md->br->call->id,
	    rx ? KEYLINE_DIR_IN : KEYLINE_DIR_OUT, rx ? &peer : &loc,
	    rx ? &loc : &peer, ssrc) != 0)
		log_msg(t->lg, LOG_WARN, "key log: %s", sbk_strerror(E_IO));
}

/* Give key `kl` to the relay for `side`, `dir`; log it if it is new. */
static int
apply_key(struct calls *t, struct media *md, int side, enum rtpsec_dir dir)
{
	const struct keyline *kl = dir == RTPSEC_UNPROTECT ? md->rx[side] :
	    md->tx[side];
	struct keylog_keys k;
	int e;

	if ((e = keylog_params(kl, &k)) != 0)
		return e;
	e = relay_side_set_key(md->rs, side, dir, &k.p);
	OPENSSL_cleanse(&k, sizeof(k));
	if (e == 1) {
		if (dir == RTPSEC_UNPROTECT)
			md->ssrc_logged[side] = 0;
		log_key(t, md, side, dir == RTPSEC_UNPROTECT, NULL);
	}
	return e < 0 ? e : 0;
}

static struct keyline *
fresh_key(struct calls *t, enum suite_id id, long tag)
{
	struct keyline *k = keyline_new(suite_by_id(id));

	if (k == NULL)
		return NULL;
	if (keyline_add_pool_key(k, t->rnd) != 0 || keyline_set_tag(k, tag) != 0) {
		keyline_free(k);
		return NULL;
	}
	return k;
}

static int
suite_listed(enum suite_id id, const struct slice *names, size_t n)
{
	for (size_t i = 0; i < n && i < NG_LIST_MAX; i++) {
		const struct suite *s = suite_by_name(names[i]);

		if (s != NULL && s->id == id)
			return 1;
	}
	return 0;
}

/* Fresh keys for an SRTP recipient, one per suite, filtered by SDES. */
static int
make_offer_keys(struct calls *t, struct media *md, int to,
    const struct ng_req *req)
{
	enum suite_id order[SUITE_COUNT];
	size_t n = suite_offer_order(SUITE_FOR_SRTP_BRIDGE, order, SUITE_COUNT);

	if (md->noffered > 0 && md->offered_to == to)
		return 0;	/* keep our keys across re-offers */
	for (size_t i = 0; i < md->noffered; i++)
		keyline_free(md->offered[i]);
	md->noffered = 0;
	for (size_t i = 0; i < n && md->noffered < MAX_OFFERED; i++) {
		struct keyline *k;

		if (suite_listed(order[i], req->sdes_no, req->n_sdes_no))
			continue;
		if (req->n_sdes_only > 0 && !suite_listed(order[i],
		    req->sdes_only, req->n_sdes_only))
			continue;
		if ((k = fresh_key(t, order[i], (long)md->noffered + 1)) == NULL)
			return E_NOMEM;
		md->offered[md->noffered++] = k;
	}
	md->offered_to = to;
	return md->noffered > 0 ? 0 : E_NOTFOUND;
}

/* ---- SDP helpers ---- */

/* The peer address of media `m` of `s` (RTP and RTCP). */
static int
sdp_peer(const struct sdp *s, size_t m, struct net_addr *rtp,
    struct net_addr *rtcp, int *has_rtcp)
{
	struct sdp_media mdsc;
	struct sdp_conn c;
	struct slice v;
	int e;

	*has_rtcp = 0;
	if ((e = sdp_media_get(s, m, &mdsc)) != 0)
		return e;
	if ((e = sdp_media_conn(s, m, &c)) != 0)
		return e;
	if ((e = net_addr_parse_host(c.addr, (uint16_t)mdsc.port, rtp)) != 0)
		return e;
	if (sdp_attr_find(s, (int)m, "rtcp", 0, &v) >= 0) {
		struct slice port;
		uint64_t p;

		(void)slice_split(&v, ' ', &port);
		if (slice_to_u64(port, 65535, &p) == 0 && p != 0) {
			*rtcp = *rtp;
			net_addr_set_port(rtcp, (uint16_t)p);
			*has_rtcp = 1;
		}
	}
	return 0;
}

static int
iface_side(struct slice name)
{
	static const char *const out[] = { "outside", "external", "ext",
		"public", "pub", NULL };
	static const char *const in[] = { "inside", "internal", "int",
		"private", "priv", NULL };

	for (int i = 0; out[i] != NULL; i++)
		if (slice_case_eq_cstr(name, out[i]))
			return OUTSIDE;
	for (int i = 0; in[i] != NULL; i++)
		if (slice_case_eq_cstr(name, in[i]))
			return INSIDE;
	return -1;
}

/* Which side an offer comes from (see calls.h). */
static int
offer_side(const struct branch *b, const struct ng_req *req,
    const struct sdp *s)
{
	int side;

	if (req->from_interface.len > 0 &&
	    (side = iface_side(req->from_interface)) >= 0)
		return side;
	if (req->to_interface.len > 0 &&
	    (side = iface_side(req->to_interface)) >= 0)
		return !side;
	if (b != NULL && (side = branch_tag_side(b, req->from_tag)) >= 0)
		return side;
	if (b != NULL && (side = branch_tag_side(b, req->to_tag)) >= 0)
		return !side;
	if (req->proto != NG_PROTO_NONE && req->proto != NG_PROTO_OTHER)
		return ng_proto_is_srtp(req->proto) ? INSIDE : OUTSIDE;
	for (size_t m = 0; m < sdp_media_count(s); m++)
		if (sdprw_media_is_rtp(s, m))
			return sdprw_media_is_srtp(s, m) ? OUTSIDE : INSIDE;
	return OUTSIDE;
}

static void
copy_proto(char *dst, size_t n, const struct sdp *s, size_t m)
{
	struct sdp_media md;

	dst[0] = '\0';
	if (sdp_media_get(s, m, &md) == 0 && md.proto.len < n) {
		memcpy(dst, md.proto.p, md.proto.len);
		dst[md.proto.len] = '\0';
	}
}

/* Rewrite address and ports of media `m` towards `side`. */
static int
set_media_addr(struct calls *t, struct sdp *s, struct media *md, int side)
{
	struct net_addr loc;
	int e, mux = relay_side_is_mux(md->rs, side);

	if ((e = sdprw_media_set_rtcp_mux(s, md->index, mux)) != 0)
		return e;
	if ((e = relay_side_local(md->rs, side, RELAY_RTP, &loc)) != 0)
		return e;
	if ((e = sdprw_media_set_port(s, md->index, net_addr_port(&loc),
	    mux ? (long)net_addr_port(&loc) : (long)net_addr_port(&loc) + 1,
	    t->addr[side])) != 0)
		return e;
	return sdprw_set_conn(s, (int)md->index, t->addr[side]);
}

static int
set_session_addr(struct calls *t, struct sdp *s, int side,
    const struct ng_req *req)
{
	int e;

	if ((e = sdprw_set_conn(s, SDP_SESSION, t->addr[side])) != 0)
		return e;
	if ((req->replace & (NG_REPLACE_ORIGIN | NG_REPLACE_ORIGIN_FULL)) &&
	    (e = sdprw_set_origin(s, t->addr[side])) != 0)
		return e;
	return sdprw_remove_ice(s);
}

/* ---- offer / answer ---- */

struct reply_err {
	const char *reason;	/* NULL: ok */
	char buf[160];
};

static struct media *
media_get(struct calls *t, struct branch *c, size_t m, struct reply_err *re)
{
	struct media *md;
	int e;

	if (m < c->nm && c->m[m] != NULL)
		return c->m[m];
	if ((md = calloc(1, sizeof(*md))) == NULL)
		return NULL;
	md->br = c;
	md->index = (unsigned)m;
	md->rs = relay_stream_new(t->relay, md);
	if (md->rs == NULL) {
		free(md);
		return NULL;
	}
	for (int i = 0; i < 2; i++) {
		e = relay_side_open(md->rs, i, &t->cfg.iface[i], 0, 0);
		if (e != 0) {
			/* an exhausted range, or no port the kernel would give */
			if (e != E_LIMIT)
				log_msg(t->lg, LOG_ERR, "%s media port: %s",
				    side_name[i], e == E_IO ? strerror(errno) :
				    sbk_strerror(e));
			re->reason = NG_ERR_PORTS;
			media_free(md);
			return NULL;
		}
	}
	if (m >= c->nm) {
		for (size_t i = c->nm; i < m; i++)
			c->m[i] = NULL;
		c->nm = m + 1;
	}
	c->m[m] = md;
	return md;
}

static int
offer_media(struct calls *t, struct branch *c, struct sdp *s, size_t m,
    int from, const struct ng_req *req, struct reply_err *re)
{
	struct media *md;
	struct net_addr rtp, rtcp;
	struct sdp_media mdsc;
	int to = !from, has_rtcp, srtp_from, srtp_to, e, mux;
	struct keyline *chosen = NULL;

	if ((md = media_get(t, c, m, re)) == NULL)
		return re->reason != NULL ? E_LIMIT : E_NOMEM;
	if (sdp_media_get(s, m, &mdsc) == 0) {
		size_t n = mdsc.type.len < sizeof(md->type) - 1 ?
		    mdsc.type.len : sizeof(md->type) - 1;

		memcpy(md->type, mdsc.type.p, n);
		md->type[n] = '\0';
	}
	copy_proto(md->proto[from], sizeof(md->proto[from]), s, m);
	/* the offerer's side: where it is, how it does RTCP, its key */
	if (sdp_peer(s, m, &rtp, &rtcp, &has_rtcp) == 0)
		relay_side_set_peer(md->rs, from, &rtp, has_rtcp ? &rtcp :
		    NULL);
	mux = sdprw_media_rtcp_mux(s, m);
	if (req->rtcp_mux & NG_RTCP_MUX_REJECT)
		mux = 0;
	if ((e = relay_side_set_mux(md->rs, from, mux)) != 0)
		return e;
	srtp_from = sdprw_media_is_srtp(s, m);
	relay_side_set_srtp(md->rs, from, srtp_from);
	if (srtp_from) {
		struct accept_suites acc = accept_suites();

		e = sdprw_offer_choose(s, m, acc.id, acc.n, &chosen,
		    re->buf, sizeof(re->buf));
		if (e != 0) {
			re->reason = re->buf;
			return e;
		}
		keyline_free(md->rx[from]);
		md->rx[from] = chosen;
		if ((e = apply_key(t, md, from, RTPSEC_UNPROTECT)) != 0)
			return e;
		/* our key to the offerer: kept while the suite and the
		 * session parameters (mirrored, as rtpengine does: RFC 4568
		 * UNENCRYPTED_SRTCP and friends hold both ways) are the same */
		if (md->tx[from] == NULL ||
		    keyline_suite(md->tx[from]) != keyline_suite(chosen) ||
		    keyline_flags(md->tx[from]) != keyline_flags(chosen)) {
			keyline_free(md->tx[from]);
			md->tx[from] = fresh_key(t, keyline_suite(chosen)->id,
			    keyline_tag(chosen));
			if (md->tx[from] == NULL)
				return E_NOMEM;
			if ((e = keyline_add_flags(md->tx[from],
			    keyline_flags(chosen))) != 0)
				return e;
		} else if ((e = keyline_set_tag(md->tx[from],
		    keyline_tag(chosen))) != 0) {
			return e;
		}
		if ((e = apply_key(t, md, from, RTPSEC_PROTECT)) != 0)
			return e;
	} else {
		keyline_free(md->rx[from]);
		keyline_free(md->tx[from]);
		md->rx[from] = md->tx[from] = NULL;
	}
	/* the recipient's side: the profile it gets, our keys for it */
	srtp_to = req->proto != NG_PROTO_NONE && req->proto != NG_PROTO_OTHER ?
	    ng_proto_is_srtp(req->proto) : srtp_from;
	if (req->sdes & NG_SDES_OFF)
		srtp_to = 0;
	if (srtp_to != relay_side_is_srtp(md->rs, to)) {
		relay_side_set_srtp(md->rs, to, srtp_to);
		keyline_free(md->rx[to]);
		keyline_free(md->tx[to]);
		md->rx[to] = md->tx[to] = NULL;
	}
	if (srtp_to) {
		if ((e = make_offer_keys(t, md, to, req)) != 0)
			return e;
		e = sdprw_media_to_srtp(s, m,
		    (const struct keyline *const *)md->offered, md->noffered);
	} else {
		e = sdprw_media_to_rtp(s, m);
	}
	if (e != 0)
		return e;
	mux = relay_side_is_mux(md->rs, from);
	if (req->rtcp_mux & (NG_RTCP_MUX_DEMUX | NG_RTCP_MUX_REJECT))
		mux = 0;
	if (req->rtcp_mux & (NG_RTCP_MUX_OFFER | NG_RTCP_MUX_REQUIRE))
		mux = 1;
	if ((e = relay_side_set_mux(md->rs, to, mux)) != 0)
		return e;
	copy_proto(md->proto[to], sizeof(md->proto[to]), s, m);
	return set_media_addr(t, s, md, to);
}

static int
answer_media(struct calls *t, struct branch *c, struct sdp *s, size_t m,
    int to, struct reply_err *re)
{
	struct media *md = m < c->nm ? c->m[m] : NULL;
	int from = !to, e, has_rtcp;
	struct net_addr rtp, rtcp;

	if (md == NULL)
		return 0;	/* not a stream we relay */
	copy_proto(md->proto[from], sizeof(md->proto[from]), s, m);
	if (sdp_peer(s, m, &rtp, &rtcp, &has_rtcp) == 0)
		relay_side_set_peer(md->rs, from, &rtp, has_rtcp ? &rtcp :
		    NULL);
	if ((e = relay_side_set_mux(md->rs, from,
	    sdprw_media_rtcp_mux(s, m))) != 0)
		return e;
	if (relay_side_is_srtp(md->rs, from) && sdprw_media_is_srtp(s, m) &&
	    sdprw_media_ncrypto(s, m) > 0) {
		struct keyline *k = NULL;
		size_t i;

		e = sdprw_media_crypto(s, m, 0, &k, re->buf, sizeof(re->buf));
		if (e != 0) {
			re->reason = re->buf;
			return e;
		}
		/* an answer has no alternative to fall back on: say why */
		if ((e = keylog_check(k, re->buf, sizeof(re->buf))) != 0) {
			keyline_free(k);
			re->reason = re->buf;
			return e;
		}
		/* matched by suite: answerers renumber tags */
		for (i = 0; i < md->noffered; i++)
			if (keyline_suite(md->offered[i]) == keyline_suite(k))
				break;
		if (i == md->noffered) {
			keyline_free(k);
			re->reason = "answer's crypto suite was not offered";
			return E_NOTFOUND;
		}
		keyline_free(md->rx[from]);
		md->rx[from] = k;
		keyline_free(md->tx[from]);
		if ((md->tx[from] = keyline_dup(md->offered[i])) == NULL)
			return E_NOMEM;
		/* the answerer's session parameters hold for our key too */
		if ((e = keyline_add_flags(md->tx[from], keyline_flags(k))) != 0)
			return e;
		if ((e = apply_key(t, md, from, RTPSEC_UNPROTECT)) != 0 ||
		    (e = apply_key(t, md, from, RTPSEC_PROTECT)) != 0)
			return e;
	} else if (relay_side_is_srtp(md->rs, from)) {
		/* offered SRTP, answered plain (or without a key) */
		relay_side_set_srtp(md->rs, from, sdprw_media_is_srtp(s, m));
	}
	/* towards the offerer: exactly one a=crypto, its suite and tag */
	if (relay_side_is_srtp(md->rs, to) && md->tx[to] != NULL) {
		const struct keyline *one[1] = { md->tx[to] };

		e = sdprw_media_to_srtp(s, m, one, 1);
	} else {
		e = sdprw_media_to_rtp(s, m);
	}
	if (e != 0)
		return e;
	copy_proto(md->proto[to], sizeof(md->proto[to]), s, m);
	return set_media_addr(t, s, md, to);
}

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
		b = offer_branch(c, req, &fork);
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
		from = offer_side(sib, req, s);
		b->offer_from = from;
		e = branch_set_tag(b, from, req->from_tag);
		if (e == 0 && b->via == NULL && req->via_branch.len > 0)
			e = dup_slice(req->via_branch, &b->via, &b->vialen);
	} else if ((b = answer_branch(c, req)) == NULL) {
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
		if (!sdprw_media_is_rtp(s, m))
			continue;
		e = offer ? offer_media(t, b, s, m, from, req, &re) :
		    answer_media(t, b, s, m, from, &re);
	}
	if (e == 0)
		e = set_session_addr(t, s, offer ? !from : from, req);
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
		log_msg(t->lg, LOG_WARN, "%s %.*s: %s", offer ? "offer" :
		    "answer", (int)req->call_id.len,
		    (const char *)req->call_id.p, re.reason != NULL ?
		    re.reason : sbk_strerror(e));
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
	log_msg(t->lg, LOG_INFO, "%s %.*s from %s%s", offer ? "offer" :
	    "answer", (int)req->call_id.len, (const char *)req->call_id.p,
	    side_name[from], fork ? " (a new branch)" : "");
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
	uint64_t now_ms = ev_now_ms(t->loop), now = wall();
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
	log_msg(c->t->lg, LOG_INFO, "delete %s: delay over", c->id);
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
	log_msg(t->lg, LOG_INFO, "delete %.*s%s%s", (int)req->call_id.len,
	    (const char *)req->call_id.p, b != NULL ? ": one branch" : "",
	    delay > 0 ? ", delayed" : "");
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
	st.uptime = wall() - t->started;
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
		ng_req_release(&req);
		return e;
	}
	if (e != 0)
		e = ng_reply_error(out, req.cookie, NG_ERR_DECODE);
	else
		e = dispatch(t, &req, out);
	if (e == 0 && ng_cache_put(t->cache, pk, req.cookie,
	    slice_make(buf_data(out) + start, buf_len(out) - start), now) != 0)
		log_msg(t->lg, LOG_WARN, "ng reply cache: full");
	ng_req_release(&req);
	return e;
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
	t->started = wall();
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
	log_msg(c->t->lg, LOG_INFO, "call %s: no media, deleted",
	    (const char *)c->id);
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
	log_key(md->br->call->t, md, side, 1, &ssrc);
}

int
calls_summary(const struct calls *t, struct buf *b)
{
	uint64_t now = wall();
	int e = buf_printf(b, "calls: %zu now, %llu since start\n", t->ncalls,
	    (unsigned long long)t->total);

	for (const struct call *c = t->head; c != NULL && e == 0; c = c->next) {
		size_t nb = 0, nm = 0;

		for (const struct branch *br = c->br; br != NULL;
		    br = br->next) {
			nb++;
			for (size_t m = 0; m < br->nm; m++)
				nm += br->m[m] != NULL;
		}
		e = buf_printf(b, "call %s: %zu media, %zu branch%s, %llu s\n",
		    (const char *)c->id, nm, nb, nb == 1 ? "" : "es",
		    (unsigned long long)(now - c->created));
	}
	return e;
}
