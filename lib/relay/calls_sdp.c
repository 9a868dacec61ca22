/* calls_sdp.c - the SDP and keys of an offer or answer, one media line at
 * a time: its relay stream, its peer, its keys, its rewritten m= line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "relay/calls_int.h"
#include "base/rnd.h"
#include "media/sdprw.h"

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

/* ---- key handling ---- */

void
calls_log_key(struct calls *t, struct media *md, int side, int rx,
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
int
calls_apply_key(struct calls *t, struct media *md, int side, enum rtpsec_dir dir)
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
		calls_log_key(t, md, side, dir == RTPSEC_UNPROTECT, NULL);
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
int
calls_offer_side(const struct branch *b, const struct ng_req *req,
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
	struct net_addr loc, rl;
	int e, mux = relay_side_is_mux(md->rs, side);
	long rtcp;

	if ((e = sdprw_media_set_rtcp_mux(s, md->index, mux)) != 0)
		return e;
	if ((e = relay_side_local(md->rs, side, RELAY_RTP, &loc)) != 0)
		return e;
	/* the RTCP socket's own port: RTP + 1 from a port range, anywhere
	 * when the kernel picks */
	rtcp = (long)net_addr_port(&loc);
	if (!mux)
		rtcp = relay_side_local(md->rs, side, RELAY_RTCP, &rl) == 0 ?
		    (long)net_addr_port(&rl) : rtcp + 1;
	if ((e = sdprw_media_set_port(s, md->index, net_addr_port(&loc),
	    rtcp, t->addr[side])) != 0)
		return e;
	return sdprw_set_conn(s, (int)md->index, t->addr[side]);
}

int
calls_set_session_addr(struct calls *t, struct sdp *s, int side,
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
				    calls_side_name[i], e == E_IO ?
				    strerror(errno) : sbk_strerror(e));
			re->reason = NG_ERR_PORTS;
			calls_media_free(md);
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

int
calls_offer_media(struct calls *t, struct branch *c, struct sdp *s, size_t m,
    int from, const struct ng_req *req, struct reply_err *re)
{
	struct media *md;
	struct net_addr rtp, rtcp;
	struct sdp_media mdsc;
	int to = !from, has_rtcp, srtp_from, srtp_to, e, mux;
	int dtls_from, dtls_to, ice_from, avpf_to;
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
	avpf_to = md->proto[from][0] != '\0' &&
	    md->proto[from][strlen(md->proto[from]) - 1] == 'F';
	ice_from = calls_media_has_ice(s, m);
	dtls_from = calls_media_is_dtls(s, m);
	/* the offerer's side: where it is, how it does RTCP, its key; with
	 * ICE, where the checks come from (webrtc.c), not the SDP */
	memset(&md->sdp_rtp[from], 0, sizeof(md->sdp_rtp[from]));
	if (sdp_peer(s, m, &rtp, &rtcp, &has_rtcp) == 0) {
		if (!ice_from)
			relay_side_set_peer(md->rs, from, &rtp, has_rtcp ?
			    &rtcp : NULL);
		md->sdp_rtp[from] = rtp;
		if (has_rtcp)
			md->sdp_rtcp[from] = rtcp;
		md->sdp_has_rtcp[from] = has_rtcp;
	}
	mux = sdprw_media_rtcp_mux(s, m);
	if (req->rtcp_mux & NG_RTCP_MUX_REJECT)
		mux = 0;
	if ((e = relay_side_set_mux(md->rs, from, mux)) != 0)
		return e;
	srtp_from = sdprw_media_is_srtp(s, m);
	relay_side_set_srtp(md->rs, from, srtp_from);
	if ((e = calls_webrtc_offer_from(t, md, s, m, from, req, re)) != 0)
		return e;
	if (dtls_from) {
		/* keys come from the handshake (calls_webrtc.c) */
	} else if (srtp_from) {
		struct accept_suites acc = accept_suites();

		e = sdprw_offer_choose(s, m, acc.id, acc.n, &chosen,
		    re->buf, sizeof(re->buf));
		if (e != 0) {
			re->reason = re->buf;
			return e;
		}
		keyline_free(md->rx[from]);
		md->rx[from] = chosen;
		if ((e = calls_apply_key(t, md, from, RTPSEC_UNPROTECT)) != 0)
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
		if ((e = calls_apply_key(t, md, from, RTPSEC_PROTECT)) != 0)
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
	dtls_to = req->proto != NG_PROTO_NONE && req->proto != NG_PROTO_OTHER ?
	    req->proto == NG_PROTO_UDP_TLS_RTP_SAVP ||
	    req->proto == NG_PROTO_UDP_TLS_RTP_SAVPF : dtls_from;
	if (req->dtls == NG_DTLS_OFF)
		dtls_to = 0;
	if (dtls_to)
		srtp_to = 1;
	if (req->proto != NG_PROTO_NONE && req->proto != NG_PROTO_OTHER)
		avpf_to = req->proto == NG_PROTO_RTP_AVPF ||
		    req->proto == NG_PROTO_RTP_SAVPF ||
		    req->proto == NG_PROTO_UDP_TLS_RTP_SAVPF;
	if (srtp_to != relay_side_is_srtp(md->rs, to)) {
		relay_side_set_srtp(md->rs, to, srtp_to);
		keyline_free(md->rx[to]);
		keyline_free(md->tx[to]);
		md->rx[to] = md->tx[to] = NULL;
	}
	if (srtp_to && !dtls_to) {
		if ((e = make_offer_keys(t, md, to, req)) != 0)
			return e;
		e = sdprw_media_to_srtp(s, m,
		    (const struct keyline *const *)md->offered, md->noffered);
	} else {
		e = sdprw_media_to_rtp(s, m);
	}
	if (e != 0)
		return e;
	if ((e = calls_webrtc_offer_to(t, md, to, req, dtls_to, ice_from,
	    re)) != 0)
		return e;
	if ((e = calls_webrtc_profile(s, m, dtls_to, srtp_to, avpf_to)) != 0)
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

int
calls_answer_media(struct calls *t, struct branch *c, struct sdp *s, size_t m,
    int to, const struct ng_req *req, struct reply_err *re)
{
	struct media *md = m < c->nm ? c->m[m] : NULL;
	int from = !to, e, has_rtcp;
	struct net_addr rtp, rtcp;
	size_t n;

	if (md == NULL)
		return 0;	/* not a stream we relay */
	copy_proto(md->proto[from], sizeof(md->proto[from]), s, m);
	if ((md->w[from] == NULL || !calls_media_has_ice(s, m)) &&
	    sdp_peer(s, m, &rtp, &rtcp, &has_rtcp) == 0)
		relay_side_set_peer(md->rs, from, &rtp, has_rtcp ? &rtcp :
		    NULL);
	if ((e = relay_side_set_mux(md->rs, from,
	    sdprw_media_rtcp_mux(s, m))) != 0)
		return e;
	if (req->ice == NG_ICE_REMOVE && md->w[to] != NULL &&
	    webrtc_has_ice(md->w[to])) {
		/* the offerer gets no ICE back: it sends from where its SDP
		 * says, as a peer without ICE does */
		webrtc_ice_off(md->w[to]);
		if (md->sdp_rtp[to].len != 0)
			relay_side_set_peer(md->rs, to, &md->sdp_rtp[to],
			    md->sdp_has_rtcp[to] ? &md->sdp_rtcp[to] : NULL);
	}
	if ((e = calls_webrtc_answer_from(t, md, s, m, from, re)) != 0 ||
	    (e = calls_webrtc_answer_to(md, to, req)) != 0)
		return e;
	if (md->dtls[from]) {
		/* keys come from the handshake (calls_webrtc.c) */
	} else if (relay_side_is_srtp(md->rs, from) &&
	    sdprw_media_is_srtp(s, m) &&
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
		if ((e = calls_apply_key(t, md, from, RTPSEC_UNPROTECT)) != 0 ||
		    (e = calls_apply_key(t, md, from, RTPSEC_PROTECT)) != 0)
			return e;
	} else if (relay_side_is_srtp(md->rs, from)) {
		/* offered SRTP, answered plain (or without a key) */
		relay_side_set_srtp(md->rs, from, sdprw_media_is_srtp(s, m));
	}
	/* towards the offerer: DTLS as it offered, or exactly one a=crypto,
	 * its suite and tag */
	n = strlen(md->proto[to]);
	if (md->dtls[to]) {
		if ((e = sdprw_media_to_rtp(s, m)) == 0)
			e = calls_webrtc_profile(s, m, 1, 1, n > 0 &&
			    md->proto[to][n - 1] == 'F');
	} else if (relay_side_is_srtp(md->rs, to) && md->tx[to] != NULL) {
		const struct keyline *one[1] = { md->tx[to] };

		e = sdprw_media_to_srtp(s, m, one, 1);
	} else {
		e = sdprw_media_to_rtp(s, m);
	}
	/* the offerer's profile, with or without AVPF as it offered */
	if (e == 0 && !md->dtls[to] && n > 0)
		e = calls_webrtc_profile(s, m, 0, relay_side_is_srtp(md->rs,
		    to) && md->tx[to] != NULL, md->proto[to][n - 1] == 'F');
	if (e != 0)
		return e;
	copy_proto(md->proto[to], sizeof(md->proto[to]), s, m);
	return set_media_addr(t, s, md, to);
}

