/* proxy_auth.c - who may use the edge: digest authentication and bans. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base/rnd.h"
#include "sip/digest.h"
#include "sip/proxy_int.h"

/*
 * Every request from outside passes here first (proxy.c), after the
 * per-source checks: a banned source's flow is closed, a request over
 * its source's rate is dropped unanswered (a flood gets no answers to
 * amplify; a phone well under the rate never sees it). Then digest
 * authentication where proxy_set_auth() says (see proxy.h).
 *
 * Failures counted against a source (srclimit_auth_fail()): a wrong
 * response, an unknown user, a replayed nc, malformed credentials, and a
 * final 401/407/403 from inside to a request of its that carried
 * credentials for the inside (a first 401 without credentials is how
 * digest starts: never counted). Not counted: a request without
 * credentials (challenged), a stale nonce (the password was right), a
 * nonce not ours (it proves nothing: the response is not even checked),
 * a REGISTER for another's AoR (403: authenticated, not guessing).
 *
 * Retransmissions: a request the same flow sent before with the same
 * top Via branch, Call-ID and CSeq, and that passed, passes again without
 * a check (its nc would read as a replay). A small direct-mapped table
 * remembers them for SEEN_MS.
 */

#define SEEN_SLOTS 512
#define SEEN_MS 64000
#define REALM_MAX 256

struct seen {
	uint64_t h;
	uint64_t at_ms;
};

struct px_auth {
	struct digest *dg;		/* NULL: no digest authentication */
	struct digest_creds *creds;
	char realm[REALM_MAX];
	struct srclimit *lim;		/* NULL: no per-source limits */
	uint32_t ban_ms;
	uint32_t pause_ms;		/* flow_throttle() when over rate */
	struct seen seen[SEEN_SLOTS];
	struct proxy_auth_stats st;
	struct digest_params dp;	/* scratch: one request at a time */
	struct sip_msg bare;		/* a request without our header, */
	uint8_t sbuf[MAX_SIP + 1];	/* ... its bytes */
};

static struct px_auth *
auth_of(struct proxy *px)
{
	if (px->auth == NULL)
		px->auth = calloc(1, sizeof(*px->auth));
	return px->auth;
}

void
px_auth_free(struct px_auth *a)
{
	if (a == NULL)
		return;
	digest_free(a->dg);
	digest_creds_free(a->creds);
	srclimit_free(a->lim);
	free(a);
}

int
proxy_set_auth(struct proxy *px, const char *realm, struct digest_creds *creds)
{
	struct px_auth *a = auth_of(px);
	struct digest_cfg cfg;
	uint8_t secret[32];
	int err = E_INVAL;

	if (a == NULL) {
		digest_creds_free(creds);
		return E_NOMEM;
	}
	if (strlen(realm) >= sizeof(a->realm)) {
		digest_creds_free(creds);
		return E_INVAL;
	}
	if (rnd_bytes(secret, sizeof(secret)) != 0) {
		digest_creds_free(creds);
		return E_CRYPTO;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.realm = slice_cstr(realm);
	cfg.secret = secret;
	cfg.secret_len = sizeof(secret);
	cfg.lifetime_s = px->conf.auth_nonce_s;
	digest_free(a->dg);
	a->dg = digest_new(&cfg, &err);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (a->dg == NULL) {
		digest_creds_free(creds);
		return err;
	}
	snprintf(a->realm, sizeof(a->realm), "%s", realm);
	digest_creds_free(a->creds);
	a->creds = creds;
	return 0;
}

void
proxy_auth_swap(struct proxy *px, struct digest_creds *creds)
{
	if (px->auth == NULL) {
		digest_creds_free(creds);
		return;
	}
	digest_creds_free(px->auth->creds);
	px->auth->creds = creds;
}

int
proxy_set_limits(struct proxy *px, const struct srclimit_conf *conf)
{
	struct px_auth *a = auth_of(px);

	if (a == NULL)
		return E_NOMEM;
	srclimit_free(a->lim);
	a->lim = srclimit_new(conf);
	a->ban_ms = conf->ban_ms;
	/* a token's time, at least 10 ms, at most a second */
	a->pause_ms = conf->rate == 0 ? 0 : 1000 / conf->rate;
	if (a->pause_ms < 10)
		a->pause_ms = 10;
	return a->lim != NULL ? 0 : E_NOMEM;
}

int
proxy_src_refused(void *arg, const struct net_addr *peer)
{
	struct proxy *px = arg;

	if (px->auth == NULL || px->auth->lim == NULL)
		return 0;
	return srclimit_conn(px->auth->lim, peer, ev_now_ms(px->loop)) ==
	    SRCLIMIT_BANNED;
}

void
proxy_auth_stats(struct proxy *px, struct proxy_auth_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (px->auth == NULL)
		return;
	*st = px->auth->st;
	if (px->auth->lim != NULL)
		srclimit_stats(px->auth->lim, ev_now_ms(px->loop), &st->lim);
}

/*
 * One failure by the source `peer` (as `p`'s user, if known); a ban that
 * starts closes its flows. Failures are logged at INFO (one line each:
 * they are bounded by the bans), a ban at WARN, once.
 */
static void
count_failure(struct proxy *px, const struct net_addr *peer,
    const struct digest_params *p, const char *why)
{
	struct px_auth *a = px->auth;
	uint64_t now = ev_now_ms(px->loop);
	char s[NET_ADDR_STRLEN] = "?", u[68] = "";
	size_t n, i;

	a->st.failed++;
	if (net_addr_format_host(peer, s, sizeof(s)) != 0)
		s[0] = '\0';
	/* The user name is a stranger's bytes: printable ones only. */
	for (i = 0; p != NULL && i < p->username.len && i < sizeof(u) - 1;
	    i++)
		u[i] = p->username.p[i] > 0x20 && p->username.p[i] < 0x7f ?
		    (char)p->username.p[i] : '?';
	u[i] = '\0';
	log_msg(px->lg, LOG_INFO, "authentication failed from %s%s%s: %s", s,
	    u[0] ? " as " : "", u, why);
	if (a->lim == NULL || !srclimit_auth_fail(a->lim, peer, now))
		return;
	n = flow_close_gated(px->flows);
	log_msg(px->lg, LOG_WARN, "source %s banned for %u s after "
	    "repeated authentication failures; %zu connection%s closed",
	    s, (unsigned)(a->ban_ms / 1000), n, n == 1 ? "" : "s");
}

/* The request's identity for the retransmission table. */
static uint64_t
request_hash(uint64_t flow, const struct sip_msg *m)
{
	uint64_t h = HASH64_INIT;
	char c[32];

	h = hash64_slice(h, slice_make(&flow, sizeof(flow)));
	h = hash64_slice(h, sip_top_via(m));
	h = hash64_slice(h, m->call_id);
	snprintf(c, sizeof(c), " %u ", (unsigned)m->cseq);
	h = hash64_slice(h, slice_cstr(c));
	h = hash64_slice(h, m->method);
	return h != 0 ? h : 1;
}

static int
seen_before(struct px_auth *a, uint64_t h, uint64_t now)
{
	struct seen *s = &a->seen[h % SEEN_SLOTS];

	return s->h == h && now - s->at_ms < SEEN_MS;
}

static void
seen_add(struct px_auth *a, uint64_t h, uint64_t now)
{
	a->seen[h % SEEN_SLOTS] = (struct seen){ h, now };
}

/*
 * Our realm's credentials among the headers called `name`: its index
 * in m->hdr, or -1. The parse fills `p` (the caller's, large).
 */
static long
find_ours(struct px_auth *a, const struct sip_msg *m, const char *name,
    struct digest_params *p)
{
	size_t i;

	for (i = 0; i < m->nhdr; i++) {
		if (!slice_case_eq_cstr(m->hdr[i].name, name))
			continue;
		if (digest_parse(m->hdr[i].value, p, NULL, 0) != 0 ||
		    slice_eq_cstr(p->realm, a->realm))
			return (long)i;	/* a bad one: checked, refused */
	}
	return -1;
}

/* 401/407 with a fresh challenge. */
static void
challenge(struct proxy *px, const struct sip_msg *m, uint64_t flow, int reg,
    int stale)
{
	struct target back = { 1, flow, { .len = 0 }, 0, 0 };
	struct buf *b = buf_new(2048);

	if (b == NULL)
		return;
	if (digest_challenge(px->auth->dg, ev_now_ms(px->loop), stale,
	    reg ? "WWW-Authenticate" : "Proxy-Authenticate", b) == 0) {
		px->auth->st.challenges++;
		px_reply(px, m, &back, reg ? 401 : 407, buf_str(b));
	} else
		px_reply(px, m, &back, 500, NULL);
	buf_free(b);
}

/* `m` without header line `i`, parsed into `out` (in a->sbuf). */
static int
strip_header(struct px_auth *a, const struct sip_msg *m, size_t i,
    struct sip_msg *out)
{
	struct slice raw = m->raw, line = m->hdr[i].line;
	size_t head = (size_t)(line.p - raw.p);

	if (raw.len - line.len > MAX_SIP)
		return E_BIG;
	memcpy(a->sbuf, raw.p, head);
	memcpy(a->sbuf + head, line.p + line.len, raw.len - head - line.len);
	return sip_parse(out, slice_make(a->sbuf, raw.len - line.len));
}

/* Does this request need our credentials: 0 no, 1 Authorization (401),
 * 2 Proxy-Authorization (407). */
static int
needs_auth(const struct proxy *px, const struct sip_msg *m)
{
	int reg = px->conf.reach == PROXY_REGISTRAR;

	if (px->auth == NULL || px->auth->dg == NULL || m->to_tagged ||
	    px_is_method(m, "ACK") || px_is_method(m, "CANCEL"))
		return 0;
	if (reg && px_is_method(m, "REGISTER"))
		return 1;
	return reg || px->conf.auth_requests ? 2 : 0;
}

/* A request over its source's rate: logged, a line a second at most. */
static void
rate_logged(struct proxy *px, const struct net_addr *peer)
{
	char a[NET_ADDR_STRLEN];
	uint64_t quiet;

	if (!px_ratelog_pass(px, &px->rate_log, &quiet))
		return;
	if (net_addr_format(peer, a, sizeof(a)) != 0)
		snprintf(a, sizeof(a), "?");
	log_msg(px->lg, LOG_INFO, "requests from %s over the per-source "
	    "rate (--rate): dropped unanswered (and %llu more not logged "
	    "since the last such line)", a, (unsigned long long)quiet);
}

/* Rate and ban checks: 0 go on, -1 dropped (and maybe closed). */
static int
limits(struct proxy *px, uint64_t flow, const struct net_addr *peer)
{
	switch (srclimit_request(px->auth->lim, peer, ev_now_ms(px->loop))) {
	case SRCLIMIT_OK:
		return 0;
	case SRCLIMIT_BANNED:
		flow_close(px->flows, flow);
		return -1;
	default:
		/* over its rate: dropped, unanswered; a line a second; and
		 * the flow is not read until a token is back, so a flood
		 * waits in its own TCP window instead of in our CPU */
		rate_logged(px, peer);
		if (flow != 0)
			flow_throttle(px->flows, flow, px->auth->pause_ms);
		return -1;
	}
}

/*
 * The request to route: `m`, a copy without our credentials (in
 * px->auth), or NULL when it was answered or dropped here.
 */
const struct sip_msg *
px_auth_request(struct proxy *px, uint64_t flow, const struct sip_msg *m)
{
	struct px_auth *a = px->auth;
	struct target back = { 1, flow, { .len = 0 }, 0, 0 };
	struct digest_params *p = &a->dp;
	struct net_addr peer;
	struct slice user, aor;
	enum digest_result r;
	uint64_t now, h;
	long i;
	int kind;
	char why[128];

	if (flow_addrs(px->flows, flow, &peer, NULL) != 0)
		return NULL;
	if (a->lim != NULL && limits(px, flow, &peer) != 0)
		return NULL;
	if ((kind = needs_auth(px, m)) == 0)
		return m;
	now = ev_now_ms(px->loop);
	memset(p, 0, offsetof(struct digest_params, store));
	h = request_hash(flow, m);
	i = find_ours(a, m, kind == 1 ? "Authorization" :
	    "Proxy-Authorization", p);
	if (i < 0) {
		challenge(px, m, flow, kind == 1, 0);
		return NULL;
	}
	if (seen_before(a, h, now)) {
		r = DIGEST_OK;
		user = p->username;
	} else
		r = digest_check(a->dg, a->creds, m->hdr[i].value, m->method,
		    m->ruri, now, p, &user, why, sizeof(why));
	switch (r) {
	case DIGEST_OK:
		break;
	case DIGEST_STALE:
		challenge(px, m, flow, kind == 1, 1);
		return NULL;
	case DIGEST_MALFORMED:
		px_reply(px, m, &back, 400, NULL);
		count_failure(px, &peer, NULL, why);
		return NULL;
	case DIGEST_BAD_NONCE:
	case DIGEST_UNSUPPORTED:
		challenge(px, m, flow, kind == 1, 0);
		return NULL;
	default:
		/* Answered first: a ban that starts closes the flow. */
		challenge(px, m, flow, kind == 1, 0);
		count_failure(px, &peer, p, digest_result_str(r));
		return NULL;
	}
	/* A binding is changed only by its owner. */
	if (px_is_method(m, "REGISTER") && px->conf.reach == PROXY_REGISTRAR &&
	    (registrar_aor(m, &aor) != 0 || !slice_eq(aor, user))) {
		a->st.forbidden++;
		log_msg(px->lg, LOG_INFO, "REGISTER for another's address by "
		    "%.*s: 403", (int)(user.len > 64 ? 64 : user.len),
		    (const char *)user.p);
		px_reply(px, m, &back, 403, NULL);
		return NULL;
	}
	a->st.ok++;
	seen_add(a, h, now);
	/* Our realm's credentials are ours: not relayed. */
	if (kind == 1 && px->conf.reach == PROXY_REGISTRAR)
		return m;	/* the registrar answers: nothing goes on */
	if (strip_header(a, m, (size_t)i, &a->bare) != 0) {
		px_reply(px, m, &back, 500, NULL);
		return NULL;
	}
	return &a->bare;
}

/* Did the request carry credentials for someone other than us? */
static int
carried_foreign(struct px_auth *a, const struct sip_msg *m)
{
	size_t i;

	for (i = 0; i < m->nhdr; i++) {
		if (!slice_case_eq_cstr(m->hdr[i].name, "Authorization") &&
		    !slice_case_eq_cstr(m->hdr[i].name, "Proxy-Authorization"))
			continue;
		if (a->dg == NULL ||
		    digest_parse(m->hdr[i].value, &a->dp, NULL, 0) != 0 ||
		    !slice_eq_cstr(a->dp.realm, a->realm))
			return 1;
	}
	return 0;
}

/* Does a challenge say stale=true (the password was right)? */
static int
says_stale(const struct sip_msg *m)
{
	static const char want[] = "stale=true";
	size_t i, j;

	for (i = 0; i < m->nhdr; i++) {
		struct slice v = m->hdr[i].value;

		if (!slice_case_eq_cstr(m->hdr[i].name, "WWW-Authenticate") &&
		    !slice_case_eq_cstr(m->hdr[i].name, "Proxy-Authenticate"))
			continue;
		for (j = 0; j + sizeof(want) - 1 <= v.len; j++)
			if (slice_case_eq_cstr(slice_make(v.p + j,
			    sizeof(want) - 1), want))
				return 1;
	}
	return 0;
}

/*
 * A response from inside, before it is routed: a final 401/407/403 to a
 * request from outside that carried credentials counts against the
 * request's source (the inside PBX refused its password), unless it
 * says stale=true (an old nonce: the password was right; a phone that
 * reuses its last nonce meets this all day).
 */
void
px_auth_response(struct proxy *px, const struct sip_msg *m)
{
	struct slice v;
	struct sip_via via;
	struct sip_msg orig;
	struct net_addr peer;
	struct txn *tx;
	char key[BRANCH_MAX + 16];
	int klen;

	if (px->auth == NULL || px->auth->lim == NULL ||
	    (m->status != 401 && m->status != 407 && m->status != 403) ||
	    says_stale(m))
		return;
	if (!px_nth_value(m, SIP_H_VIA, 0, &v) || sip_via_parse(v, &via) != 0 ||
	    (klen = px_txn_key(m, via.branch, key, sizeof(key))) <= 0 ||
	    (tx = *px_txn_find(px, slice_make(key, (size_t)klen))) == NULL ||
	    tx->own || tx->flow == 0 ||
	    flow_addrs(px->flows, tx->flow, &peer, NULL) != 0 ||
	    sip_parse(&orig, buf_slice(tx->orig)) != 0 ||
	    !carried_foreign(px->auth, &orig))
		return;
	px->auth->st.upstream_failed++;
	count_failure(px, &peer, NULL, "refused by the inside");
}
