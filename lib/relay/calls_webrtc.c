/* calls_webrtc.c - the WebRTC part of an offer or answer: DTLS-SRTP
 * (a=fingerprint, a=setup), ICE-lite (a=ice-*, a=candidate), profiles
 * with and without AVPF, a=mid and a BUNDLE group of one line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "relay/calls_int.h"
#include "media/sdprw.h"

/* ---- reading an SDP ---- */

/* The value of a=NAME of media `m`, else of the session: 0 or E_NOTFOUND. */
static int
attr(const struct sdp *s, size_t m, const char *name, struct slice *v)
{
	if (sdp_attr_find(s, (int)m, name, 0, v) >= 0)
		return 0;
	if (sdp_attr_find(s, SDP_SESSION, name, 0, v) >= 0)
		return 0;
	return E_NOTFOUND;
}

static int
proto_of(const struct sdp *s, size_t m, struct slice *proto)
{
	struct sdp_media md;

	if (sdp_media_get(s, m, &md) != 0)
		return E_SYNTAX;
	*proto = md.proto;
	return 0;
}

int
calls_media_is_dtls(const struct sdp *s, size_t m)
{
	struct slice p;

	return proto_of(s, m, &p) == 0 && p.len > 8 &&
	    strncasecmp((const char *)p.p, "UDP/TLS/", 8) == 0;
}

int
calls_media_has_ice(const struct sdp *s, size_t m)
{
	struct slice v;

	return attr(s, m, "ice-ufrag", &v) == 0 &&
	    attr(s, m, "ice-pwd", &v) == 0;
}

/* The first a=fingerprint we can use (sha-256 first, as WebRTC peers list
 * several): 0, or E_NOTFOUND / E_SYNTAX. */
static int
fingerprint(const struct sdp *s, size_t m, struct dtls_fp *fp)
{
	int found = 0, e = E_NOTFOUND;

	for (int pass = 0; pass < 2 && !found; pass++) {
		int sec = pass == 0 ? (int)m : SDP_SESSION;
		struct slice v;
		long i = 0;

		while ((i = sdp_attr_find(s, sec, "fingerprint", (size_t)i,
		    &v)) >= 0) {
			struct dtls_fp f;

			if (dtls_fp_parse(v, &f) == 0) {
				if (!found || (v.len > 7 &&
				    strncasecmp((const char *)v.p, "sha-256",
				    7) == 0 && fp->len != 32)) {
					*fp = f;
					found = 1;
				}
			} else if (e == E_NOTFOUND) {
				e = E_SYNTAX;
			}
			i++;
		}
	}
	return found ? 0 : e;
}

enum setup { SETUP_NONE = 0, SETUP_ACTPASS, SETUP_ACTIVE, SETUP_PASSIVE,
	SETUP_HOLDCONN };

static enum setup
setup_of(const struct sdp *s, size_t m)
{
	struct slice v;

	if (attr(s, m, "setup", &v) != 0)
		return SETUP_NONE;
	if (slice_case_eq_cstr(v, "actpass"))
		return SETUP_ACTPASS;
	if (slice_case_eq_cstr(v, "active"))
		return SETUP_ACTIVE;
	if (slice_case_eq_cstr(v, "passive"))
		return SETUP_PASSIVE;
	return SETUP_HOLDCONN;
}

/* ---- the glue's callbacks ---- */

/* One SRTCP key of the RTCP component's association to the relay and to
 * the key log (with the RTCP addresses: a reader of the log tells it
 * from the RTP key by them). */
static int
rtcp_key(struct calls *t, struct media *md, int side, const struct keyline *kl,
    enum rtpsec_dir dir)
{
	struct keylog_keys k;
	struct net_addr loc, peer;
	int rx = dir == RTPSEC_UNPROTECT, e;

	if ((e = keylog_params(kl, &k)) != 0)
		return e;
	e = relay_side_set_rtcp_key(md->rs, side, dir, &k.p);
	OPENSSL_cleanse(&k, sizeof(k));
	if (e != 0 || t->cfg.keylog == NULL)
		return e;
	if (relay_side_local(md->rs, side, RELAY_RTCP, &loc) != 0)
		memset(&loc, 0, sizeof(loc));
	if (relay_side_peer(md->rs, side, RELAY_RTCP, &peer) != 0)
		memset(&peer, 0, sizeof(peer));
	if (keylog_add(t->cfg.keylog, kl, (const char *)md->br->call->id,
	    rx ? KEYLINE_DIR_IN : KEYLINE_DIR_OUT, rx ? &peer : &loc,
	    rx ? &loc : &peer, NULL) != 0)
		log_msg(t->lg, LOG_WARN, "key log: %s", sbk_strerror(E_IO));
	return 0;
}

static void
on_keys(struct webrtc *w, int comp, const struct dtls_keys *k, void *arg)
{
	struct media *md = arg;
	struct calls *t = md->br->call->t;
	const struct suite *su = suite_by_id(k->suite);
	int side = md->w[0] == w ? 0 : 1;
	size_t n = k->key_len + k->salt_len;
	struct keyline *rx, *tx;

	if (su == NULL || (rx = keyline_new(su)) == NULL)
		return;
	if ((tx = keyline_new(su)) == NULL) {
		keyline_free(rx);
		return;
	}
	if (keyline_add_key(rx, k->rx, n, 0, 0, 0) != 0 ||
	    keyline_add_key(tx, k->tx, n, 0, 0, 0) != 0) {
		keyline_free(rx);
		keyline_free(tx);
		return;
	}
	relay_side_set_srtp(md->rs, side, 1);
	if (comp == RELAY_RTCP) {
		/* RFC 5764 4.1: SRTCP with the RTCP component's keys (a
		 * side without rtcp-mux) */
		if (!relay_side_is_mux(md->rs, side)) {
			relay_side_rtcp_apart(md->rs, side, 1);
			if (rtcp_key(t, md, side, rx, RTPSEC_UNPROTECT) != 0 ||
			    rtcp_key(t, md, side, tx, RTPSEC_PROTECT) != 0)
				log_msg(t->lg, LOG_WARN, "call-id=%s: DTLS-SRTP "
				    "RTCP keys refused by the relay",
				    (const char *)md->br->call->id);
		}
		keyline_free(rx);
		keyline_free(tx);
		return;
	}
	keyline_free(md->rx[side]);
	keyline_free(md->tx[side]);
	md->rx[side] = rx;
	md->tx[side] = tx;
	if (calls_apply_key(t, md, side, RTPSEC_UNPROTECT) != 0 ||
	    calls_apply_key(t, md, side, RTPSEC_PROTECT) != 0)
		log_msg(t->lg, LOG_WARN, "call-id=%s: DTLS-SRTP keys "
		    "refused by the relay", (const char *)md->br->call->id);
}

static void
nss_keylog(void *arg, const char *line)
{
	struct media *md = arg;
	struct calls *t = md->br->call->t;

	if (t->cfg.dtls_keylog != NULL)
		t->cfg.dtls_keylog(t->cfg.dtls_keylog_arg, line);
}

/* The glue of `side`, made when first needed. */
static struct webrtc *
glue(struct calls *t, struct media *md, int side, int *err)
{
	struct webrtc_config wc;

	if (md->w[side] != NULL)
		return md->w[side];
	memset(&wc, 0, sizeof(wc));
	wc.loop = t->loop;
	wc.cert = t->cfg.cert;
	wc.lg = t->lg;
	wc.on_keys = on_keys;
	wc.nss_keylog = t->cfg.dtls_keylog != NULL ? nss_keylog : NULL;
	wc.arg = md;
	wc.name = (const char *)md->br->call->id;
	md->w[side] = webrtc_new(md->rs, side, &wc, err);
	return md->w[side];
}

static void
glue_drop(struct media *md, int side)
{
	webrtc_free(md->w[side]);
	md->w[side] = NULL;
	md->dtls[side] = 0;
}

/* The peer's ICE credentials, if its SDP has them. */
static int
ice_remote(struct webrtc *w, const struct sdp *s, size_t m)
{
	struct slice u, p;
	int e;

	if (attr(s, m, "ice-ufrag", &u) != 0 || attr(s, m, "ice-pwd", &p) != 0)
		return 0;
	if ((e = webrtc_ice_on(w)) != 0)
		return e;
	e = webrtc_ice_remote(w, u, p);
	return e < 0 ? e : 0;
}

static void
keep_mid(struct media *md, const struct sdp *s, size_t m)
{
	struct slice v;

	md->mid[0] = '\0';
	if (sdp_attr_find(s, (int)m, "mid", 0, &v) >= 0 &&
	    v.len < sizeof(md->mid)) {
		memcpy(md->mid, v.p, v.len);
		md->mid[v.len] = '\0';
	}
}

/* ---- offer ---- */

int
calls_webrtc_offer_from(struct calls *t, struct media *md, const struct sdp *s,
    size_t m, int from, const struct ng_req *req, struct reply_err *re)
{
	int dtls = calls_media_is_dtls(s, m), ice = calls_media_has_ice(s, m);
	struct webrtc *w;
	int e = 0;

	keep_mid(md, s, m);
	if (!dtls && !ice) {
		glue_drop(md, from);
		return 0;
	}
	if (dtls && t->cfg.cert == NULL) {
		re->reason = "DTLS-SRTP not available";
		return E_UNSUPPORTED;
	}
	if ((w = glue(t, md, from, &e)) == NULL)
		return e;
	if (ice) {
		if ((e = ice_remote(w, s, m)) != 0) {
			re->reason = "bad ice-ufrag or ice-pwd";
			return e;
		}
	} else {
		webrtc_ice_off(w);
	}
	md->dtls[from] = dtls;
	if (dtls) {
		struct dtls_fp fp;
		enum setup su = setup_of(s, m);
		enum dtls_role role;

		if ((e = fingerprint(s, m, &fp)) != 0) {
			re->reason = e == E_NOTFOUND ? "DTLS offer without a "
			    "fingerprint" : "no usable a=fingerprint";
			return e;
		}
		if (su == SETUP_ACTIVE)
			role = DTLS_PASSIVE;
		else if (su == SETUP_PASSIVE)
			role = DTLS_ACTIVE;
		else	/* actpass (or none: RFC 4145 says active) */
			role = req->dtls == NG_DTLS_ACTIVE ? DTLS_ACTIVE :
			    DTLS_PASSIVE;
		if (su == SETUP_NONE)
			role = DTLS_PASSIVE;
		md->peer_actpass[from] = su == SETUP_ACTPASS;
		md->peer_fp[from] = fp;
		relay_side_set_srtp(md->rs, from, 1);
		if ((e = webrtc_dtls(w, role, &fp)) != 0)
			return e;
	}
	return 0;
}

int
calls_webrtc_offer_to(struct calls *t, struct media *md, int to,
    const struct ng_req *req, int dtls_to, int ice_from,
    struct reply_err *re)
{
	struct webrtc *w;
	int ice = req->ice == NG_ICE_FORCE || req->ice == NG_ICE_FORCE_RELAY ||
	    (req->ice != NG_ICE_REMOVE && ice_from);
	int e = 0;

	if (!dtls_to && !ice) {
		glue_drop(md, to);
		return 0;
	}
	if (dtls_to && t->cfg.cert == NULL) {
		re->reason = "DTLS-SRTP not available";
		return E_UNSUPPORTED;
	}
	if ((w = glue(t, md, to, &e)) == NULL)
		return e;
	if (ice) {
		if ((e = webrtc_ice_on(w)) != 0)
			return e;
	} else {
		webrtc_ice_off(w);
	}
	md->dtls[to] = dtls_to;
	md->setup_offered[to] = req->dtls == NG_DTLS_PASSIVE ? SETUP_PASSIVE :
	    req->dtls == NG_DTLS_ACTIVE ? SETUP_ACTIVE : SETUP_ACTPASS;
	if (dtls_to)
		relay_side_set_srtp(md->rs, to, 1);
	return 0;
}

/* ---- answer ---- */

int
calls_webrtc_answer_from(struct calls *t, struct media *md,
    const struct sdp *s, size_t m, int from, struct reply_err *re)
{
	struct webrtc *w = md->w[from];
	struct dtls_fp fp;
	enum setup su;
	enum dtls_role role;
	int e;

	(void)t;
	if (w == NULL)
		return 0;
	if (calls_media_has_ice(s, m) && webrtc_has_ice(w) &&
	    (e = ice_remote(w, s, m)) != 0) {
		re->reason = "bad ice-ufrag or ice-pwd";
		return e;
	}
	/* RFC 8839 §4.2: an answer without ICE attributes means no ICE
	 * (a DTLS phone without ICE answering our ICE=force offer): media
	 * and DTLS from where it sends, as for a phone that never had it */
	if (webrtc_has_ice(w) && !calls_media_has_ice(s, m))
		webrtc_ice_off(w);
	if (!md->dtls[from])
		return 0;
	if (!calls_media_is_dtls(s, m)) {
		/* offered DTLS, answered otherwise: not a DTLS side */
		md->dtls[from] = 0;
		if (!webrtc_has_ice(w))
			glue_drop(md, from);
		return 0;
	}
	if ((e = fingerprint(s, m, &fp)) != 0) {
		re->reason = e == E_NOTFOUND ? "DTLS answer without a "
		    "fingerprint" : "no usable a=fingerprint";
		return e;
	}
	su = setup_of(s, m);
	if (su == SETUP_PASSIVE)
		role = DTLS_ACTIVE;
	else if (su == SETUP_ACTIVE || su == SETUP_NONE)
		role = DTLS_PASSIVE;
	else if (md->setup_offered[from] == SETUP_ACTIVE)
		role = DTLS_ACTIVE;
	else
		role = DTLS_PASSIVE;	/* actpass in an answer: be lenient */
	if ((e = webrtc_dtls(w, role, &fp)) != 0)
		return e;
	webrtc_kick(w);
	return 0;
}

int
calls_webrtc_answer_to(struct media *md, int to, const struct ng_req *req)
{
	enum dtls_role role;

	if (md->w[to] == NULL || !md->dtls[to] || !md->peer_actpass[to] ||
	    (req->dtls != NG_DTLS_ACTIVE && req->dtls != NG_DTLS_PASSIVE))
		return 0;
	role = req->dtls == NG_DTLS_ACTIVE ? DTLS_ACTIVE : DTLS_PASSIVE;
	if (role == webrtc_role(md->w[to]))
		return 0;
	return webrtc_dtls(md->w[to], role, &md->peer_fp[to]);
}

/* ---- writing an SDP ---- */

/* Rewrite media `m`'s m= line with profile `proto` (its port and formats
 * as they are). */
static int
set_proto(struct sdp *s, size_t m, const char *proto)
{
	struct sdp_media d;
	char port[24];

	if (sdp_media_get(s, m, &d) != 0)
		return E_SYNTAX;
	if (d.nports > 0)
		snprintf(port, sizeof(port), "%u/%u", d.port, d.nports);
	else
		snprintf(port, sizeof(port), "%u", d.port);
	return sdp_line_setf(s, (int)m, 0, "%.*s %s %s %.*s", (int)d.type.len,
	    (const char *)d.type.p, port, proto, (int)d.fmts.len,
	    (const char *)d.fmts.p);
}

static int add_attr(struct sdp *s, int sec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
add_attr(struct sdp *s, int sec, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return E_BIG;
	return sdp_line_insert(s, sec, sdp_nlines(s, sec), 'a',
	    slice_make(line, (size_t)n));
}

/* RFC 8445 5.1.2.1: host type preference 126, one local address. */
static uint32_t
host_priority(int comp_id)
{
	return (126u << 24) | (65535u << 8) | (uint32_t)(256 - comp_id);
}

int
calls_webrtc_profile(struct sdp *s, size_t m, int dtls, int srtp, int avpf)
{
	char p[32];
	int e;

	snprintf(p, sizeof(p), "%s%s", dtls ? "UDP/TLS/RTP/SAVP" : srtp ?
	    "RTP/SAVP" : "RTP/AVP", avpf ? "F" : "");
	if ((e = set_proto(s, m, p)) != 0)
		return e;
	if (!avpf)
		(void)sdp_attr_delete(s, (int)m, "rtcp-fb");
	return 0;
}

/* Our DTLS and ICE attributes of media `m` towards `side` (after
 * calls_set_session_addr() has removed everyone else's ICE). */
static int
media_attrs(struct calls *t, struct media *md, struct sdp *s, size_t m,
    int side, int offer, const struct ng_req *req)
{
	struct webrtc *w = md->w[side];
	int e;

	if (md->mid[0] != '\0' && sdp_attr_find(s, (int)m, "mid", 0, NULL) < 0
	    && (e = add_attr(s, (int)m, "mid:%s", md->mid)) != 0)
		return e;
	if (w == NULL)
		return 0;
	if (md->dtls[side]) {
		static const char *const setup[] = { "actpass", "actpass",
			"active", "passive", "actpass" };
		const char *su;

		(void)sdp_attr_delete(s, (int)m, "fingerprint");
		(void)sdp_attr_delete(s, (int)m, "setup");
		(void)sdp_attr_delete(s, (int)m, "tls-id");
		(void)sdp_attr_delete(s, (int)m, "crypto");
		if (offer)
			su = setup[md->setup_offered[side] % 5];
		else
			su = webrtc_role(w) == DTLS_ACTIVE ? "active" :
			    "passive";
		if ((e = add_attr(s, (int)m, "fingerprint:sha-256 %s",
		    dtls_cert_fingerprint(t->cfg.cert))) != 0 ||
		    (e = add_attr(s, (int)m, "setup:%s", su)) != 0)
			return e;
	}
	if (webrtc_has_ice(w) && (offer || req->ice != NG_ICE_REMOVE)) {
		struct net_addr loc;
		char port[16];
		int ncomp = relay_side_is_mux(md->rs, side) ? 1 : 2;

		if ((e = add_attr(s, (int)m, "ice-ufrag:%s",
		    webrtc_ice_ufrag(w))) != 0 ||
		    (e = add_attr(s, (int)m, "ice-pwd:%s",
		    webrtc_ice_pwd(w))) != 0)
			return e;
		for (int c = 0; c < ncomp; c++) {
			char line[256];

			if ((e = relay_side_local(md->rs, side, c, &loc)) != 0)
				return e;
			snprintf(port, sizeof(port), "%u",
			    net_addr_port(&loc));
			snprintf(line, sizeof(line), "candidate:1 %d UDP %u "
			    "%s %s typ host", c + 1, host_priority(c + 1),
			    t->addr[side], port);
			if ((e = add_attr(s, (int)m, "%s", line)) != 0)
				return e;
		}
		if ((e = add_attr(s, (int)m, "end-of-candidates")) != 0)
			return e;
		md->ice_out = 1;
	}
	return 0;
}

int
calls_webrtc_sdp(struct calls *t, struct branch *b, struct sdp *s,
    int side, int offer, const struct ng_req *req)
{
	int ice = 0, webrtc = 0, e;
	char group[256] = "BUNDLE";
	long i;

	for (size_t m = 0; m < sdp_media_count(s); m++) {
		struct media *md = m < b->nm ? b->m[m] : NULL;

		if (md == NULL || md->rs == NULL)
			continue;
		md->ice_out = 0;
		if ((e = media_attrs(t, md, s, m, side, offer, req)) != 0)
			return e;
		ice |= md->ice_out;
		if (md->w[side] != NULL && (md->dtls[side] || md->ice_out))
			webrtc = 1;
		if (md->mid[0] != '\0' && md->bundled) {
			size_t l = strlen(group);

			snprintf(group + l, sizeof(group) - l, " %s", md->mid);
		}
	}
	/* the session: ours only */
	(void)sdp_attr_delete(s, SDP_SESSION, "fingerprint");
	(void)sdp_attr_delete(s, SDP_SESSION, "setup");
	while ((i = sdp_attr_find(s, SDP_SESSION, "group", 0, NULL)) >= 0)
		if (sdp_line_delete(s, SDP_SESSION, (size_t)i) != 0)
			break;
	if (webrtc && strcmp(group, "BUNDLE") != 0 &&
	    (e = add_attr(s, SDP_SESSION, "group:%s", group)) != 0)
		return e;
	if (ice && (e = add_attr(s, SDP_SESSION, "ice-lite")) != 0)
		return e;
	return 0;
}

/* ---- BUNDLE ---- */

/* Is `mid` in the offer's a=group:BUNDLE? Its position (0 = first), or
 * -1. */
static int
bundle_pos(const struct sdp *s, struct slice mid)
{
	struct slice v, tok;

	if (sdp_attr_find(s, SDP_SESSION, "group", 0, &v) < 0)
		return -1;
	if (slice_split(&v, ' ', &tok) != 1 || !slice_case_eq_cstr(tok,
	    "BUNDLE"))
		return -1;
	for (int pos = 0; v.len > 0; pos++) {
		(void)slice_split(&v, ' ', &tok);
		if (tok.len == mid.len && memcmp(tok.p, mid.p, mid.len) == 0)
			return pos;
	}
	return -1;
}

int
calls_webrtc_bundled(const struct sdp *s, size_t m, int *first)
{
	struct slice mid;

	*first = 0;
	if (sdp_attr_find(s, (int)m, "mid", 0, &mid) < 0 ||
	    bundle_pos(s, mid) < 0)
		return 0;
	/* the first RTP media of the group carries the call */
	for (size_t k = 0; k < m; k++) {
		struct slice o;

		if (sdprw_media_is_rtp(s, k) &&
		    sdp_attr_find(s, (int)k, "mid", 0, &o) >= 0 &&
		    bundle_pos(s, o) >= 0)
			return 1;
	}
	*first = 1;
	return 1;
}

int
calls_webrtc_refuse(struct sdp *s, size_t m)
{
	struct sdp_media d;
	static const char *const drop[] = { "candidate", "ice-ufrag",
		"ice-pwd", "fingerprint", "setup", "crypto", "end-of-candidates",
		"ssrc", "msid", "rtcp-fb", "rtcp-mux", NULL };

	if (sdp_media_get(s, m, &d) != 0)
		return E_SYNTAX;
	for (int i = 0; drop[i] != NULL; i++)
		(void)sdp_attr_delete(s, (int)m, drop[i]);
	return sdp_line_setf(s, (int)m, 0, "%.*s 0 %.*s %.*s",
	    (int)d.type.len, (const char *)d.type.p, (int)d.proto.len,
	    (const char *)d.proto.p, (int)d.fmts.len, (const char *)d.fmts.p);
}
