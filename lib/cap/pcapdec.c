/* pcapdec.c - decrypt the SRTP/SRTCP streams of a capture (pcap-decrypt). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cap/cap.h"
#include "cap/g711.h"
#include "cap/pcapdec.h"
#include "media/rtp.h"
#include "media/rtpsec.h"
#include "media/sdp.h"
#include "media/sdprw.h"
#include "sip/sip.h"
#include "media/suite.h"
#include "cap/wav.h"

#define MAX_KEYS 4096
#define MAX_CTX (2 * KEYLINE_MAX_KEYS)	/* AES-192: two KDFs each */
#define MAX_TCP_FLOWS 256
#define MAX_ENDPOINTS 4096
#define MAX_QUEUE 4096		/* frames held behind a pending fragment */
#define PKT_MAX 65536
#define HOPELESS 32		/* failed binds before trying less hard */

/* A key we may use. */
struct key {
	struct keyline *kl;
	const struct suite *suite;
	struct rtpsec *ctx[MAX_CTX];
	int libsrtp_kdf[MAX_CTX];
	size_t nctx;
	uint64_t order;		/* added order: newer keys are tried first */
	int from_sip;
	int has_ssrc, has_src, has_dst;
	enum keyline_dir dir;	/* in: src is the peer's; out: dst is */
	uint32_t ssrc;
	struct cap_addr src, dst;
	struct slice call_id;	/* borrowed from kl */
	char unusable[80];	/* "": usable; else why not (KDR=n), nctx 0 */
};

/* A media endpoint seen in SDP, and its call. */
struct endpoint {
	struct cap_addr a;
	char call_id[128];
};

struct skey {
	uint8_t rtcp;
	uint8_t pad[3];
	uint32_t ssrc;
	struct cap_addr src, dst;
};

struct stream {
	struct skey k;
	struct stream *next;	/* hash chain */
	struct key *key;
	size_t ctxi;
	struct key *unsup;	/* an unusable key that fits it, or NULL */
	uint64_t packets, decrypted, fail[PCAPDEC_NFAIL];
	uint32_t bind_fails;
	int roc_known;
	uint32_t roc_first;
	/* sequence statistics (RTP) */
	int have_seq;
	uint64_t ext_first, ext_max;
	int pt;
	struct wav *wav;
	FILE *raw;
	int out_failed;
};

struct tcpflow {
	int used;
	struct cap_addr src, dst;
	uint32_t next;
	struct sip_framer *fr;
};

struct qframe {
	struct cap_frame f;
	uint8_t *buf;
	uint64_t serial;	/* 0: not a fragment */
	struct cap_pkt pkt;	/* for fragments */
};

struct pcapdec {
	struct pcapdec_opts o;
	struct key *keys[MAX_KEYS];
	size_t nkeys;
	uint64_t key_order;
	struct endpoint *eps;
	size_t neps;
	struct stream **tab;
	size_t tabsz;
	struct stream **list;
	size_t nstreams, liststz;
	struct tcpflow flows[MAX_TCP_FLOWS];
	struct cap_defrag *defrag;
	struct cap_writer *w;
	struct qframe *q;
	size_t qhead, qlen;
	uint8_t *pkt, *frame, *dgram;
	struct pcapdec_totals t;
	uint64_t bytes;
	int out_err;
};

const char *
pcapdec_fail_name(enum pcapdec_fail f)
{
	static const char *n[] = { "no-key", "auth", "replay", "malformed",
	    "unsupported" };

	return (unsigned)f < PCAPDEC_NFAIL ? n[f] : "?";
}

const char *
pcapdec_status_name(enum pcapdec_status st)
{
	static const char *n[] = { "ok", "partial", "failed", "unsupported",
	    "no-key" };

	return (unsigned)st <= PCAPDEC_ST_NOKEY ? n[st] : "?";
}

/* --- keys --- */

static void
key_free(struct key *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->nctx; i++)
		rtpsec_free(k->ctx[i]);
	keyline_free(k->kl);
	free(k);
}

static int
ss_to_addr(const struct sockaddr_storage *ss, struct cap_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		a->family = 4;
		memcpy(a->a, &s4->sin_addr, 4);
		a->port = ntohs(s4->sin_port);
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		a->family = 6;
		memcpy(a->a, &s6->sin6_addr, 16);
		a->port = ntohs(s6->sin6_port);
		return 0;
	}
	return E_SYNTAX;
}

/* The same key material and selectors as a key we have: skip it. */
static int
key_known(const struct pcapdec *d, const struct key *k)
{
	size_t i, j, n;

	for (i = 0; i < d->nkeys; i++) {
		const struct key *x = d->keys[i];

		if (x->suite != k->suite || x->has_src != k->has_src ||
		    (k->has_src && memcmp(&x->src, &k->src, sizeof(k->src))) ||
		    x->has_ssrc != k->has_ssrc || x->ssrc != k->ssrc ||
		    x->has_dst != k->has_dst ||
		    (k->has_dst && memcmp(&x->dst, &k->dst, sizeof(k->dst))) ||
		    keyline_nkeys(x->kl) != keyline_nkeys(k->kl) ||
		    keyline_flags(x->kl) != keyline_flags(k->kl) ||
		    keyline_kdr(x->kl) != keyline_kdr(k->kl) ||
		    !slice_eq(x->call_id, k->call_id))
			continue;
		n = k->suite->key_len + k->suite->salt_len;
		for (j = 0; j < keyline_nkeys(k->kl); j++)
			if (CRYPTO_memcmp(keyline_master(x->kl, j),
			    keyline_master(k->kl, j), n) != 0)
				break;
		if (j == keyline_nkeys(k->kl))
			return 1;
	}
	return 0;
}

/*
 * Add `kl`. A line with a key derivation rate (KDR=n, n > 0) cannot be
 * decrypted here (session keys are derived once, as libsrtp does):
 * E_UNSUPPORTED with a reason in `why`; or, with `keep_unusable` (an
 * SDP's alternatives), kept without contexts, so that the streams it
 * fits are reported as such rather than decrypted with wrong keys.
 */
static int
add_key(struct pcapdec *d, const struct keyline *kl, int from_sip,
    int keep_unusable, char *why, size_t whysz)
{
	struct rtpsec_params p;
	struct sockaddr_storage ss;
	struct key *k;
	uint8_t mki[KEYLINE_MAX_MKI];
	uint64_t mv;
	size_t i, ml, b;
	int v, err = 0;
	unsigned fl = keyline_flags(kl);

	if (keyline_nkeys(kl) == 0) {
		if (whysz)
			snprintf(why, whysz, "no key");
		return E_KEY;
	}
	if (keyline_kdr(kl) > 0 && !keep_unusable) {
		if (whysz)
			snprintf(why, whysz, "KDR=%d: key derivation rate not "
			    "supported, cannot decrypt", keyline_kdr(kl));
		return E_UNSUPPORTED;
	}
	if (d->nkeys == MAX_KEYS) {
		if (whysz)
			snprintf(why, whysz, "more than %d keys", MAX_KEYS);
		return E_LIMIT;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return E_NOMEM;
	if ((k->kl = keyline_dup(kl)) == NULL) {
		free(k);
		return E_NOMEM;
	}
	k->suite = keyline_suite(kl);
	k->from_sip = from_sip;
	k->has_ssrc = keyline_ssrc(kl, &k->ssrc) == 0;
	k->has_src = keyline_src(kl, &ss) == 0 && ss_to_addr(&ss, &k->src) == 0;
	k->has_dst = keyline_dst(kl, &ss) == 0 && ss_to_addr(&ss, &k->dst) == 0;
	k->call_id = keyline_selector(k->kl, "call-id");
	k->dir = keyline_dir(kl);
	if (key_known(d, k)) {
		key_free(k);
		return 0;
	}
	if (keyline_kdr(kl) > 0) {
		snprintf(k->unusable, sizeof(k->unusable), "KDR=%d: key "
		    "derivation rate not supported", keyline_kdr(kl));
		log_msg(d->o.log, LOG_WARN, "a=crypto %s from %s: %s; the "
		    "streams it fits are reported, not decrypted",
		    k->suite->name, from_sip ? "SIP" : "SDP", k->unusable);
		goto keep;
	}
	memset(&p, 0, sizeof(p));
	p.suite = k->suite->id;
	p.key_len = k->suite->key_len;
	p.salt_len = k->suite->salt_len;
	p.max_ssrcs = 1024;
	if (fl & KEYLINE_UNENCRYPTED_SRTP)
		p.flags |= RTPSEC_UNENCRYPTED_SRTP;
	if (fl & KEYLINE_UNENCRYPTED_SRTCP)
		p.flags |= RTPSEC_UNENCRYPTED_SRTCP;
	if (fl & KEYLINE_UNAUTHENTICATED_SRTP)
		p.flags |= RTPSEC_UNAUTHENTICATED_SRTP;
	for (i = 0; i < keyline_nkeys(kl); i++) {
		p.key = keyline_master(k->kl, i);
		p.salt = p.key + p.key_len;
		ml = keyline_mki(k->kl, i, &mv);
		if (ml > sizeof(mki))
			ml = sizeof(mki);
		for (b = 0; b < ml; b++)	/* big-endian, in ml bytes */
			mki[ml - 1 - b] = b < 8 ? (uint8_t)(mv >> (8 * b)) : 0;
		p.mki = ml ? mki : NULL;
		p.mki_len = ml;
		/* AES-192: RFC 6188 key derivation, and libsrtp's (<= 2.6) */
		for (v = 0; v < 2; v++) {
			if (v == 1 && k->suite->id != SUITE_AES_192_CM_HMAC_SHA1_80 &&
			    k->suite->id != SUITE_AES_192_CM_HMAC_SHA1_32)
				break;
			p.flags = (p.flags & ~RTPSEC_LIBSRTP_AES192_KDF) |
			    (v ? RTPSEC_LIBSRTP_AES192_KDF : 0);
			k->ctx[k->nctx] = rtpsec_new(&p, RTPSEC_UNPROTECT, &err);
			if (k->ctx[k->nctx] == NULL) {
				key_free(k);
				if (whysz)
					snprintf(why, whysz, "%s",
					    sbk_strerror(err ? err : E_KEY));
				return err ? err : E_KEY;
			}
			k->libsrtp_kdf[k->nctx] = v;
			k->nctx++;
		}
	}
keep:
	k->order = ++d->key_order;
	d->keys[d->nkeys++] = k;
	d->t.keys++;
	if (from_sip)
		d->t.sip_keys++;
	return 0;
}

int
pcapdec_add_key(struct pcapdec *d, const struct keyline *kl, char *why,
    size_t whysz)
{
	return add_key(d, kl, 0, 0, why, whysz);
}

int
pcapdec_add_keys_text(struct pcapdec *d, struct slice text, char *why,
    size_t whysz)
{
	struct keyline *kl;
	struct slice line;
	char r[160];
	size_t n = 0;
	int e;

	while (text.len > 0) {
		slice_split(&text, '\n', &line);
		n++;
		if (keyline_is_comment(line))
			continue;
		if ((e = keyline_parse(line, &kl, r, sizeof(r))) != 0) {
			if (whysz)
				snprintf(why, whysz, "line %zu: %s", n, r);
			return e;
		}
		e = add_key(d, kl, 0, 0, r, sizeof(r));
		keyline_free(kl);
		if (e != 0) {
			if (whysz)
				snprintf(why, whysz, "line %zu: %s", n, r);
			return e;
		}
	}
	return 0;
}

static void
remember_endpoint(struct pcapdec *d, const struct cap_addr *a,
    struct slice call_id)
{
	struct endpoint *e;
	size_t i, n;

	if (call_id.len == 0)
		return;
	for (i = 0; i < d->neps; i++)
		if (memcmp(&d->eps[i].a, a, sizeof(*a)) == 0)
			break;
	if (i == d->neps) {
		if (d->neps == MAX_ENDPOINTS)
			return;
		d->neps++;
	}
	e = &d->eps[i];
	e->a = *a;
	n = call_id.len < sizeof(e->call_id) - 1 ? call_id.len :
	    sizeof(e->call_id) - 1;
	memcpy(e->call_id, call_id.p, n);
	e->call_id[n] = '\0';
}

static int
add_sdp(struct pcapdec *d, struct slice body, struct slice call_id,
    int from_sip, char *why, size_t whysz)
{
	struct sockaddr_storage ss;
	struct keyline **kls = NULL;
	struct cap_addr a;
	struct sdp *s = NULL;
	size_t n = 0, i;
	char tmp[160] = "";
	int e;

	if ((e = sdp_parse(body, &s, NULL)) != 0) {
		if (whysz)
			snprintf(why, whysz, "sdp: %s", sbk_strerror(e));
		return e;
	}
	e = sdprw_keys(s, &kls, &n, why, whysz);
	sdp_free(s);
	if (e != 0)
		return e;
	for (i = 0; i < n && e == 0; i++) {
		if (call_id.len > 0 &&
		    keyline_selector(kls[i], "call-id").p == NULL &&
		    memchr(call_id.p, ' ', call_id.len) == NULL)
			if (keyline_set_selector(kls[i], "call-id", call_id))
				log_msg(d->o.log, LOG_DEBUG,
				    "call-id not kept as a selector");
		if (keyline_src(kls[i], &ss) == 0 && ss_to_addr(&ss, &a) == 0)
			remember_endpoint(d, &a, call_id);
		e = add_key(d, kls[i], from_sip, 1, tmp, sizeof(tmp));
		if (e != 0 && whysz)
			snprintf(why, whysz, "a=crypto: %s", tmp);
	}
	sdprw_keys_free(kls, n);
	return e;
}

int
pcapdec_add_sdp(struct pcapdec *d, struct slice body, char *why, size_t whysz)
{
	return add_sdp(d, body, SLICE_NULL, 0, why, whysz);
}

/* --- SIP in the capture --- */

static int
looks_like_sip(struct slice p)
{
	static const char *starts[] = { "SIP/2.0 ", "INVITE ", "ACK ", "BYE ",
	    "UPDATE ", "PRACK ", "CANCEL ", "OPTIONS ", "REGISTER ",
	    "NOTIFY ", "SUBSCRIBE ", "INFO ", "REFER ", "MESSAGE " };
	size_t i, n;

	/* every UDP payload comes here: RTP (first byte >= 128) leaves at
	 * once */
	if (p.len < 8 || p.p[0] < 'A' || p.p[0] > 'U')
		return 0;
	for (i = 0; i < sizeof(starts) / sizeof(*starts); i++) {
		n = strlen(starts[i]);
		if (p.len >= n && memcmp(p.p, starts[i], n) == 0)
			return 1;
	}
	return 0;
}

static void
sip_message(struct pcapdec *d, struct slice raw)
{
	const struct sip_hdr *ct;
	struct sip_msg *m;
	char why[160];
	int e;

	if ((m = malloc(sizeof(*m))) == NULL)
		return;
	if (sip_parse(m, raw) != 0 || m->body.len == 0)
		goto out;
	ct = sip_find(m, SIP_H_CONTENT_TYPE);
	if (ct != NULL && !slice_case_eq_cstr(ct->value, "application/sdp"))
		goto out;
	e = add_sdp(d, m->body, m->call_id, 1, why, sizeof(why));
	if (e != 0)
		log_msg(d->o.log, LOG_WARN, "sdp in sip message ignored: %s",
		    why);
out:
	free(m);
}

static void
tcp_segment(struct pcapdec *d, const struct cap_pkt *p)
{
	struct tcpflow *f = NULL, *freef = NULL;
	struct slice pl = p->payload, msg;
	uint32_t skip;
	size_t i;
	int r;

	for (i = 0; i < MAX_TCP_FLOWS; i++) {
		struct tcpflow *x = &d->flows[i];

		if (!x->used) {
			if (freef == NULL)
				freef = x;
			continue;
		}
		if (memcmp(&x->src, &p->src, sizeof(p->src)) == 0 &&
		    memcmp(&x->dst, &p->dst, sizeof(p->dst)) == 0) {
			f = x;
			break;
		}
	}
	if (f == NULL) {
		if (pl.len == 0 || !looks_like_sip(pl) || freef == NULL)
			return;
		f = freef;
		if ((f->fr = sip_framer_new(65536)) == NULL)
			return;
		f->used = 1;
		f->src = p->src;
		f->dst = p->dst;
		f->next = p->tcp_seq;
	}
	if (pl.len == 0)
		goto fin;
	skip = f->next - p->tcp_seq;	/* already seen (retransmission) */
	if ((int32_t)skip < 0) {
		/* a gap: what we missed is lost; start over at a message */
		sip_framer_free(f->fr);
		f->fr = sip_framer_new(65536);
		if (f->fr == NULL || !looks_like_sip(pl)) {
			f->used = 0;
			sip_framer_free(f->fr);
			f->fr = NULL;
			return;
		}
		skip = 0;
		f->next = p->tcp_seq;
	}
	if (skip >= pl.len)
		goto fin;
	pl.p += skip;
	pl.len -= skip;
	f->next += (uint32_t)pl.len;
	if (sip_framer_feed(f->fr, pl.p, pl.len) != 0)
		goto drop;
	while ((r = sip_framer_next(f->fr, &msg)) != SIP_FRAME_NONE) {
		if (r < 0)
			goto drop;
		if (r == SIP_FRAME_MSG)
			sip_message(d, msg);
	}
fin:
	if (p->tcp_flags & 0x05) {	/* FIN or RST */
drop:
		sip_framer_free(f->fr);
		f->fr = NULL;
		f->used = 0;
	}
}

/* --- streams --- */

static uint64_t
skey_hash(const struct skey *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 0, w;
	size_t i;

	/* a word at a time: this runs for every packet */
	for (i = 0; i + 8 <= sizeof(*k); i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	for (; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 32);
}

static struct stream *
stream_get(struct pcapdec *d, const struct skey *k)
{
	struct stream *s, **nt, **nl;
	size_t i, b;

	b = skey_hash(k) & (d->tabsz - 1);
	for (s = d->tab[b]; s != NULL; s = s->next)
		if (memcmp(&s->k, k, sizeof(*k)) == 0)
			return s;
	if (d->nstreams >= d->o.max_streams)
		return NULL;
	if (d->nstreams == d->liststz) {
		size_t n = d->liststz ? 2 * d->liststz : 64;

		if ((nl = realloc(d->list, n * sizeof(*nl))) == NULL)
			return NULL;
		d->list = nl;
		d->liststz = n;
	}
	if (d->nstreams >= d->tabsz) {	/* grow the table */
		size_t n = 2 * d->tabsz;

		if ((nt = calloc(n, sizeof(*nt))) == NULL)
			return NULL;
		for (i = 0; i < d->nstreams; i++) {
			struct stream *x = d->list[i];
			size_t xb = skey_hash(&x->k) & (n - 1);

			x->next = nt[xb];
			nt[xb] = x;
		}
		free(d->tab);
		d->tab = nt;
		d->tabsz = n;
		b = skey_hash(k) & (n - 1);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->k = *k;
	s->pt = -1;
	s->next = d->tab[b];
	d->tab[b] = s;
	d->list[d->nstreams++] = s;
	return s;
}

static int
addr_match(const struct cap_addr *sel, const struct cap_addr *a, int rtcp)
{
	size_t n = sel->family == 4 ? 4 : 16;

	if (sel->family != a->family || memcmp(sel->a, a->a, n) != 0)
		return 0;
	return sel->port == a->port ||
	    (rtcp && (uint16_t)(sel->port + 1) == a->port);
}

static const char *
stream_call_id(const struct pcapdec *d, const struct stream *s)
{
	size_t i;

	for (i = 0; i < d->neps; i++)
		if (addr_match(&d->eps[i].a, &s->k.src, s->k.rtcp) ||
		    addr_match(&d->eps[i].a, &s->k.dst, s->k.rtcp))
			return d->eps[i].call_id;
	return NULL;
}

/*
 * 2: fits by its selectors, 1: may be tried (no selectors), 0: not.
 *
 * A relay's key line (srtp-bridge --keylog) names the peer's address as
 * its SDP gave it, but a peer behind NAT sends from another one and the
 * relay latches to that. So with `dir=`, the peer's side (src of an `in`
 * key, dst of an `out` key) is only a hint: if it alone differs, the key
 * may still be tried, and authentication decides.
 */
static int
key_fits(const struct pcapdec *d, const struct key *k, const struct stream *s)
{
	const char *cid;
	int hint_missed = 0;

	if (k->has_ssrc && k->ssrc != s->k.ssrc)
		return 0;
	if (k->has_src && !addr_match(&k->src, &s->k.src, s->k.rtcp)) {
		if (k->dir != KEYLINE_DIR_IN)
			return 0;
		hint_missed = 1;
	}
	if (k->has_dst && !addr_match(&k->dst, &s->k.dst, s->k.rtcp)) {
		if (k->dir != KEYLINE_DIR_OUT)
			return 0;
		hint_missed = 1;
	}
	if (k->call_id.len > 0 && !k->from_sip) {
		/* only a known, different call excludes: a capture
		 * without its SIP still decrypts */
		cid = stream_call_id(d, s);
		if (cid != NULL && !slice_eq_cstr(k->call_id, cid))
			return 0;
	}
	if (hint_missed)
		return 1;
	return k->has_ssrc || k->has_src || k->has_dst ||
	    k->call_id.len > 0 ? 2 : 1;
}

/*
 * Try context `c` on the packet (`len` bytes at `p`, unchanged on
 * failure). RTP: ROC values `roc0`..`roc0 + nroc - 1` (nroc 0: whatever
 * the context estimates). Returns 0 with the packet decrypted.
 */
static int
try_ctx(struct stream *s, struct rtpsec *c, uint8_t *p, size_t *len,
    uint32_t roc0, uint32_t nroc, uint32_t *roc_used)
{
	uint32_t i;
	int r;

	if (s->k.rtcp)
		return rtpsec_unprotect_rtcp(c, p, len);
	if (nroc == 0)
		return rtpsec_unprotect(c, p, len);
	for (i = 0; i < nroc; i++) {
		r = rtpsec_check_roc(c, p, *len, roc0 + i);
		if (r == E_UNSUPPORTED) {	/* unauthenticated: trust it */
			if (rtpsec_set_roc(c, s->k.ssrc, roc0) != 0)
				return E_NOMEM;
			*roc_used = roc0;
			return rtpsec_unprotect(c, p, len);
		}
		if (r == E_AUTH)
			continue;
		if (r != 0)
			return r;
		if ((r = rtpsec_set_roc(c, s->k.ssrc, roc0 + i)) != 0)
			return r;
		*roc_used = roc0 + i;
		return rtpsec_unprotect(c, p, len);
	}
	return E_AUTH;
}

static enum pcapdec_fail
fail_of(int r)
{
	switch (r) {
	case E_REPLAY: return PCAPDEC_REPLAY;
	case E_NOTFOUND: return PCAPDEC_NOKEY;
	case E_SHORT: case E_SYNTAX: return PCAPDEC_MALFORMED;
	case E_UNSUPPORTED: return PCAPDEC_UNSUPPORTED;
	default: return PCAPDEC_AUTH;
	}
}

/*
 * Find a key for stream `s` and decrypt the packet with it. `rebind`: the
 * stream's key failed; try only other keys, and only ROC 0 and the ROC
 * the stream is at.
 */
static int
bind_and_decrypt(struct pcapdec *d, struct stream *s, uint8_t *p, size_t *len,
    int rebind)
{
	struct key *cands[64], *unsup = NULL;
	size_t nc = 0, i, j;
	uint32_t roc = 0, cur = 0, nroc;
	int any_fit = 0, r, worst = E_NOTFOUND, f;

	/* newest first */
	for (i = d->nkeys; i-- > 0 && nc < 64;) {
		f = key_fits(d, d->keys[i], s);
		if (f == 2)
			any_fit = 1;
		if (d->keys[i]->unusable[0] != '\0') {
			/* only by its selectors: a stream no key names is
			 * not blamed on it */
			if (f == 2 && unsup == NULL)
				unsup = d->keys[i];
		} else if (f)
			cands[nc++] = d->keys[i];
	}
	if (!any_fit) {		/* SIP keys whose address did not fit (NAT) */
		for (i = d->nkeys; i-- > 0 && nc < 64;)
			if (d->keys[i]->from_sip && key_fits(d, d->keys[i], s) == 0)
				cands[nc++] = d->keys[i];
	}
	if (nc == 0 && unsup == NULL)
		return E_NOTFOUND;
	if (rebind && s->key != NULL)
		if (rtpsec_get_roc(s->key->ctx[s->ctxi], s->k.ssrc, &cur) != 0)
			cur = 0;
	nroc = d->o.roc_max + 1;
	if (s->bind_fails >= HOPELESS && s->bind_fails % 256 != 0)
		nroc = 1;	/* keep trying, less hard */
	for (i = 0; i < nc; i++) {
		for (j = 0; j < cands[i]->nctx; j++) {
			struct rtpsec *c = cands[i]->ctx[j];

			if (rebind && cands[i] == s->key && j == s->ctxi)
				continue;
			if (rebind) {
				r = try_ctx(s, c, p, len, 0, 1, &roc);
				if (r != 0 && cur != 0)
					r = try_ctx(s, c, p, len, cur, 1, &roc);
			} else
				r = try_ctx(s, c, p, len, 0, nroc, &roc);
			if (r == 0) {
				if (s->key != NULL && s->key != cands[i])
					log_msg(d->o.log, LOG_INFO,
					    "ssrc 0x%08x: new key", s->k.ssrc);
				s->key = cands[i];
				s->ctxi = j;
				if (!s->roc_known && !s->k.rtcp) {
					s->roc_known = 1;
					s->roc_first = roc;
				}
				s->bind_fails = 0;
				return 0;
			}
			/* report the most telling reason */
			if (r == E_AUTH || (r == E_REPLAY && worst != E_AUTH) ||
			    worst == E_NOTFOUND)
				worst = r;
		}
	}
	if (!rebind)
		s->bind_fails++;
	/* a key that fits but cannot decrypt (KDR): most likely the one
	 * the stream is under, so say that rather than "auth" */
	if (unsup != NULL) {
		s->unsup = unsup;
		return E_UNSUPPORTED;
	}
	return worst;
}

/* --- per-stream outputs --- */

static void
stream_outputs(struct pcapdec *d, struct stream *s, const uint8_t *p,
    size_t len)
{
	struct rtp_hdr h;
	int16_t pcm[PKT_MAX];
	char path[4096];
	int err = 0;

	if (s->k.rtcp || rtp_parse(slice_make(p, len), &h) != 0)
		return;
	if (!s->have_seq) {
		s->have_seq = 1;
		s->ext_first = s->ext_max = h.seq;
	} else {
		uint64_t base = s->ext_max & ~(uint64_t)0xffff;
		uint64_t ext = base | h.seq;
		int16_t delta = (int16_t)(h.seq - (uint16_t)s->ext_max);

		if (delta > 0 && h.seq < (uint16_t)s->ext_max)
			ext += 0x10000;		/* wrapped forward */
		else if (delta < 0 && h.seq > (uint16_t)s->ext_max &&
		    ext >= 0x10000)
			ext -= 0x10000;		/* late, from before a wrap */
		if (ext > s->ext_max)
			s->ext_max = ext;
		if (ext < s->ext_first)
			s->ext_first = ext;
	}
	if (s->pt < 0)
		s->pt = h.pt;
	if (s->out_failed)
		return;
	if (d->o.raw_dir != NULL) {
		if (s->raw == NULL) {
			snprintf(path, sizeof(path), "%s/%08x%s.raw",
			    d->o.raw_dir, s->k.ssrc, "");
			if ((s->raw = fopen(path, "wb")) == NULL)
				goto fail;
		}
		if (h.payload.len && fwrite(h.payload.p, 1, h.payload.len,
		    s->raw) != h.payload.len)
			goto fail;
	}
	if (d->o.wav_dir != NULL && (h.pt == 0 || h.pt == 8) &&
	    h.payload.len > 0) {
		if (s->wav == NULL) {
			snprintf(path, sizeof(path), "%s/%08x.wav",
			    d->o.wav_dir, s->k.ssrc);
			s->wav = wav_open(path, 8000, 8000 * 60, &err);
			if (s->wav == NULL)
				goto fail;
		}
		if (h.pt == 0)
			g711_ulaw_decode(h.payload.p, h.payload.len, pcm);
		else
			g711_alaw_decode(h.payload.p, h.payload.len, pcm);
		err = wav_put(s->wav, h.ts, pcm, h.payload.len);
		if (err == E_IO)
			goto fail;
	}
	return;
fail:
	log_msg(d->o.log, LOG_ERR, "ssrc 0x%08x: output: %s", s->k.ssrc,
	    strerror(errno));
	s->out_failed = 1;
	d->out_err = 1;
}

/*
 * Decrypt the UDP payload `pl` of a datagram from `p` if it is SRTP or
 * SRTCP: `buf` holds a copy of `pl` that is decrypted in place; returns 1
 * with the plaintext in `buf` (*outlen bytes), else 0 (`buf` unchanged).
 */
static int
decrypt_udp(struct pcapdec *d, const struct cap_pkt *p, struct slice pl,
    uint8_t *buf, size_t *outlen)
{
	struct rtp_hdr rh;
	struct rtcp_hdr ch;
	struct skey k;
	struct stream *s;
	enum rtp_kind kind;
	size_t len;
	int r;

	kind = rtp_classify(pl);
	if (kind != RTP_KIND_RTP && kind != RTP_KIND_RTCP)
		return 0;
	memset(&k, 0, sizeof(k));
	if (kind == RTP_KIND_RTP) {
		if (rtp_parse_header(pl, &rh) != 0)
			return 0;
		k.ssrc = rh.ssrc;
	} else {
		if (rtcp_parse_header(pl, &ch) != 0)
			return 0;
		k.rtcp = 1;
		k.ssrc = ch.ssrc;
	}
	k.src = p->src;
	k.dst = p->dst;
	if ((s = stream_get(d, &k)) == NULL)
		return 0;
	s->packets++;
	if (pl.len > PKT_MAX) {
		s->fail[PCAPDEC_MALFORMED]++;
		return 0;
	}
	len = pl.len;
	if (s->key != NULL) {
		struct rtpsec *c = s->key->ctx[s->ctxi];

		r = s->k.rtcp ? rtpsec_unprotect_rtcp(c, buf, &len) :
		    rtpsec_unprotect(c, buf, &len);
		/* a rekey: a new context's SRTCP index starts over, so
		 * the old one sees a replay before it sees a bad tag */
		if (r == E_AUTH || r == E_NOTFOUND || r == E_REPLAY) {
			if (bind_and_decrypt(d, s, buf, &len, 1) == 0)
				r = 0;
		}
	} else
		r = bind_and_decrypt(d, s, buf, &len, 0);
	if (r != 0) {
		s->fail[fail_of(r)]++;
		return 0;
	}
	s->decrypted++;
	stream_outputs(d, s, buf, len);
	*outlen = len;
	return 1;
}

/* --- output queue (frames held while a fragmented datagram is open) --- */

static int
write_frame(struct pcapdec *d, const struct cap_frame *f)
{
	if (d->w == NULL)
		return 0;
	if (cap_write(d->w, f) != 0) {
		d->out_err = 1;
		return E_IO;
	}
	d->t.written++;
	return 0;
}

static int
queue_push(struct pcapdec *d, const struct cap_frame *f, uint64_t serial,
    const struct cap_pkt *pkt)
{
	struct qframe *q;

	if (d->qlen == MAX_QUEUE)
		return E_LIMIT;
	q = &d->q[(d->qhead + d->qlen) % MAX_QUEUE];
	if ((q->buf = malloc(f->caplen ? f->caplen : 1)) == NULL)
		return E_NOMEM;
	memcpy(q->buf, f->data, f->caplen);
	q->f = *f;
	q->f.data = q->buf;
	q->serial = serial;
	if (pkt != NULL)
		q->pkt = *pkt;
	if (pkt != NULL && pkt->kind == CAP_FRAG) {	/* into our copy */
		q->pkt.frag_data.p = q->buf + (pkt->frag_data.p - f->data);
		q->pkt.payload = SLICE_NULL;
	}
	d->qlen++;
	return 0;
}

static void
queue_flush(struct pcapdec *d, int all)
{
	struct qframe *q;

	while (d->qlen > 0) {
		q = &d->q[d->qhead];
		if (!all && q->serial && d->defrag != NULL &&
		    cap_defrag_pending(d->defrag, q->serial))
			break;
		(void)write_frame(d, &q->f);
		free(q->buf);
		q->buf = NULL;
		d->qhead = (d->qhead + 1) % MAX_QUEUE;
		d->qlen--;
	}
}

/* Replace the queued fragments of datagram `serial` by their plaintext. */
static void
queue_patch(struct pcapdec *d, uint64_t serial, const uint8_t *dg, size_t dlen)
{
	size_t i, n;
	uint8_t *nb;

	for (i = 0; i < d->qlen; i++) {
		struct qframe *q = &d->q[(d->qhead + i) % MAX_QUEUE];

		if (q->serial != serial)
			continue;
		if (cap_rewrite_frag(q->buf, q->f.caplen, &q->pkt, dg, dlen,
		    d->frame, PKT_MAX + 256, &n) != 0)
			continue;
		if ((nb = malloc(n ? n : 1)) == NULL)
			continue;
		memcpy(nb, d->frame, n);
		q->f.wirelen -= q->f.caplen - (uint32_t)n;
		q->f.caplen = (uint32_t)n;
		free(q->buf);
		q->buf = nb;
		q->f.data = nb;
	}
}

/* --- the run --- */

static void
fragment(struct pcapdec *d, const struct cap_frame *f, const struct cap_pkt *p)
{
	struct cap_dgram g;
	struct cap_pkt u;
	uint64_t serial = 0, ts;
	size_t len;
	int r;

	ts = (uint64_t)f->ts_sec * 1000000u + f->ts_usec;
	r = cap_defrag_add(d->defrag, p, ts, &serial, &g);
	if (r < 0 || queue_push(d, f, r == 0 ? serial : 0, p) != 0) {
		queue_flush(d, 1);
		(void)write_frame(d, f);
		return;
	}
	if (r == 0)
		return;
	/* completed by this frame: re-mark it as part of the datagram */
	d->q[(d->qhead + d->qlen - 1) % MAX_QUEUE].serial = g.serial;
	if (cap_decode_l4(p, g.next, g.data, &u) == 0) {
		if (u.kind == CAP_UDP && u.payload.len <= PKT_MAX &&
		    (memcpy(d->pkt, u.payload.p, u.payload.len), 1) &&
		    decrypt_udp(d, &u, u.payload, d->pkt, &len) &&
		    8 + len <= PKT_MAX) {
			memcpy(d->dgram, g.data.p, 8);
			memcpy(d->dgram + 8, d->pkt, len);
			d->dgram[4] = (uint8_t)((8 + len) >> 8);
			d->dgram[5] = (uint8_t)(8 + len);
			if (u.ipver == 6 || u.udp_sum != 0) {
				uint16_t c;

				d->dgram[6] = d->dgram[7] = 0;
				c = cap_udp_checksum(&u, d->dgram, 8 + len);
				d->dgram[6] = (uint8_t)(c >> 8);
				d->dgram[7] = (uint8_t)c;
			}
			queue_patch(d, g.serial, d->dgram, 8 + len);
		} else if (u.kind == CAP_UDP && !d->o.no_sip &&
		    looks_like_sip(u.payload))
			sip_message(d, u.payload);
	}
	/* nothing of it is pending any more */
	for (size_t i = 0; i < d->qlen; i++) {
		struct qframe *q = &d->q[(d->qhead + i) % MAX_QUEUE];

		if (q->serial == g.serial)
			q->serial = 0;
	}
	queue_flush(d, 0);
}

static void
frame(struct pcapdec *d, const struct cap_frame *f)
{
	struct cap_frame o;
	struct cap_pkt p;
	size_t len, n, off;

	d->t.frames++;
	if (cap_decode(f->dlt, f->data, f->caplen, &p) != 0 ||
	    p.kind == CAP_OTHER)
		goto plain;
	if (p.kind == CAP_FRAG) {
		fragment(d, f, &p);
		return;
	}
	if (p.kind == CAP_TCP) {
		if (!d->o.no_sip)
			tcp_segment(d, &p);
		goto plain;
	}
	if (!d->o.no_sip && looks_like_sip(p.payload)) {
		sip_message(d, p.payload);
		goto plain;
	}
	/* decrypt in a copy of the frame, then shrink it in place */
	if (f->caplen > PKT_MAX + 256)
		goto plain;
	memcpy(d->frame, f->data, f->caplen);
	off = (size_t)(p.payload.p - f->data);
	if (!decrypt_udp(d, &p, p.payload, d->frame + off, &len))
		goto plain;
	if (cap_shrink_udp(d->frame, f->caplen, &p, len, &n) != 0)
		goto plain;
	o = *f;
	o.data = d->frame;
	o.wirelen = f->wirelen - (f->caplen - (uint32_t)n);
	o.caplen = (uint32_t)n;
	f = &o;
plain:
	if (d->qlen > 0) {
		if (queue_push(d, f, 0, NULL) != 0) {
			queue_flush(d, 1);
			(void)write_frame(d, f);
		}
		return;
	}
	(void)write_frame(d, f);
}

int
pcapdec_run(struct pcapdec *d, const char *path, char *why, size_t whysz)
{
	struct cap_reader *r;
	struct cap_frame f;
	char eb[512];
	int rc, ret = 0;

	if (strcmp(path, "-") != 0 && access(path, R_OK) != 0) {
		if (whysz)
			snprintf(why, whysz, "%s: %s", path, strerror(errno));
		return E_IO;
	}
	if ((r = cap_open(path, eb, sizeof(eb))) == NULL) {
		if (whysz)
			snprintf(why, whysz, "%s: %s", path, eb);
		return E_SYNTAX;
	}
	if (d->o.out_pcap != NULL) {
		d->w = cap_writer_open(d->o.out_pcap, cap_reader_dlt(r),
		    cap_reader_snaplen(r), eb, sizeof(eb));
		if (d->w == NULL) {
			if (whysz)
				snprintf(why, whysz, "%s: %s", d->o.out_pcap,
				    eb);
			cap_close(r);
			return E_IO;
		}
	}
	while ((rc = cap_read(r, &f)) == 1) {
		d->bytes += f.caplen;
		frame(d, &f);
		if (d->o.progress != NULL && (d->t.frames & 0xffff) == 0)
			d->o.progress(d->o.progress_arg, d->t.frames, d->bytes);
	}
	if (rc < 0) {
		if (whysz)
			snprintf(why, whysz, "%s: %s", path,
			    cap_reader_error(r));
		d->t.truncated = rc == E_SHORT;
		ret = rc == E_SHORT ? E_SHORT : E_SYNTAX;
	}
	queue_flush(d, 1);
	cap_close(r);
	d->t.frag_dropped = cap_defrag_dropped(d->defrag);
	if (cap_writer_close(d->w) != 0)
		d->out_err = 1;
	d->w = NULL;
	for (size_t i = 0; i < d->nstreams; i++) {
		struct stream *s = d->list[i];

		if (s->raw != NULL && fclose(s->raw) != 0)
			d->out_err = 1;
		s->raw = NULL;
		if (wav_close(s->wav) != 0)
			d->out_err = 1;
		s->wav = NULL;
	}
	if (d->out_err && ret == 0) {
		if (whysz)
			snprintf(why, whysz, "writing the output failed");
		ret = E_IO;
	}
	return ret;
}

/* --- results --- */

/* A key fits it: it decrypted, or failed under a key, or fits one we
 * cannot use. */
static int
stream_keyed(const struct stream *s)
{
	return s->key != NULL || s->unsup != NULL || s->fail[PCAPDEC_AUTH] ||
	    s->fail[PCAPDEC_REPLAY] || s->fail[PCAPDEC_UNSUPPORTED];
}

static enum pcapdec_status
stream_status(const struct stream *s)
{
	if (!stream_keyed(s))
		return PCAPDEC_ST_NOKEY;
	if (s->decrypted == 0)
		return s->fail[PCAPDEC_UNSUPPORTED] ? PCAPDEC_ST_UNSUPPORTED :
		    PCAPDEC_ST_FAILED;
	/* replays are duplicates of packets that did decrypt (a capture
	 * on two interfaces sees each twice): not a failure */
	if (s->fail[PCAPDEC_AUTH] || s->fail[PCAPDEC_NOKEY] ||
	    s->fail[PCAPDEC_UNSUPPORTED])
		return PCAPDEC_ST_PARTIAL;
	return PCAPDEC_ST_OK;
}

/* The suite shown for it: its key's, else the unusable key's. */
static const char *
stream_suite(const struct stream *s)
{
	if (s->key != NULL)
		return s->key->suite->name;
	return s->unsup != NULL ? s->unsup->suite->name : NULL;
}

void
pcapdec_totals(const struct pcapdec *d, struct pcapdec_totals *t)
{
	size_t i, j;

	*t = d->t;
	t->streams = d->nstreams;
	for (i = 0; i < d->nstreams; i++) {
		const struct stream *s = d->list[i];

		t->decrypted += s->decrypted;
		for (j = 0; j < PCAPDEC_NFAIL; j++)
			t->failed[j] += s->fail[j];
		if (stream_keyed(s)) {
			t->keyed_streams++;
			if (s->decrypted == 0)
				t->streams_without_plaintext++;
			if (stream_status(s) != PCAPDEC_ST_OK)
				t->streams_not_ok++;
		}
	}
}

static void
addr_fmt(const struct cap_addr *a, char *b, size_t n)
{
	char ip[INET6_ADDRSTRLEN];

	if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->a, ip,
	    sizeof(ip)) == NULL)
		snprintf(ip, sizeof(ip), "?");
	if (a->family == 6)
		snprintf(b, n, "[%s]:%u", ip, a->port);
	else
		snprintf(b, n, "%s:%u", ip, a->port);
}

static uint64_t
lost(const struct stream *s)
{
	uint64_t exp;

	if (!s->have_seq)
		return 0;
	exp = s->ext_max - s->ext_first + 1;
	return exp > s->decrypted ? exp - s->decrypted : 0;
}

static uint32_t
roc_now(const struct stream *s)
{
	uint32_t roc = 0;

	if (s->key != NULL && !s->k.rtcp &&
	    rtpsec_get_roc(s->key->ctx[s->ctxi], s->k.ssrc, &roc) == 0)
		return roc;
	return s->roc_first;
}

int
pcapdec_report_text(const struct pcapdec *d, struct buf *out)
{
	char a[64], b[64];
	size_t i, j;
	int e = 0;

	e = buf_printf(out, "%-10s %-4s %-22s %-22s %-23s %-11s %7s %9s %6s "
	    "%6s %6s %9s %11s %5s %s\n", "ssrc", "kind", "source",
	    "destination", "suite", "status", "packets", "decrypted",
	    "no-key", "auth", "replay", "malformed", "unsupported", "lost",
	    "roc");
	for (i = 0; i < d->nstreams && e == 0; i++) {
		const struct stream *s = d->list[i];
		const char *su = stream_suite(s);
		static const int w[PCAPDEC_NFAIL] = { 6, 6, 6, 9, 11 };

		addr_fmt(&s->k.src, a, sizeof(a));
		addr_fmt(&s->k.dst, b, sizeof(b));
		e = buf_printf(out, "0x%08x %-4s %-22s %-22s %-23s %-11s %7llu "
		    "%9llu", s->k.ssrc, s->k.rtcp ? "rtcp" : "rtp", a, b,
		    su != NULL ? su : "-", pcapdec_status_name(stream_status(s)),
		    (unsigned long long)s->packets,
		    (unsigned long long)s->decrypted);
		for (j = 0; j < PCAPDEC_NFAIL && e == 0; j++)
			e = buf_printf(out, " %*llu", w[j],
			    (unsigned long long)s->fail[j]);
		if (e == 0 && s->k.rtcp)
			e = buf_printf(out, " %5s %s\n", "-", "-");
		else if (e == 0 && s->roc_known && s->roc_first != 0)
			e = buf_printf(out, " %5llu %u (found, started at %u)\n",
			    (unsigned long long)lost(s), roc_now(s),
			    s->roc_first);
		else if (e == 0)
			e = buf_printf(out, " %5llu %u\n",
			    (unsigned long long)lost(s), roc_now(s));
	}
	return e;
}

int
pcapdec_report_problems(const struct pcapdec *d, struct buf *out)
{
	char a[64], b[64];
	size_t i, j;
	int e = 0, n;
	enum pcapdec_status st;

	for (i = 0; i < d->nstreams && e == 0; i++) {
		const struct stream *s = d->list[i];

		st = stream_status(s);
		if (st == PCAPDEC_ST_OK || st == PCAPDEC_ST_NOKEY)
			continue;
		addr_fmt(&s->k.src, a, sizeof(a));
		addr_fmt(&s->k.dst, b, sizeof(b));
		e = buf_printf(out, "0x%08x %s %s -> %s: %s, %llu of %llu "
		    "decrypted (", s->k.ssrc, s->k.rtcp ? "rtcp" : "rtp", a, b,
		    pcapdec_status_name(st), (unsigned long long)s->decrypted,
		    (unsigned long long)s->packets);
		for (j = 0, n = 0; j < PCAPDEC_NFAIL && e == 0; j++) {
			if (s->fail[j] == 0)
				continue;
			e = buf_printf(out, "%s%s %llu", n++ ? ", " : "",
			    pcapdec_fail_name((enum pcapdec_fail)j),
			    (unsigned long long)s->fail[j]);
		}
		if (e == 0 && s->fail[PCAPDEC_UNSUPPORTED] && s->unsup != NULL)
			e = buf_printf(out, ": %s", s->unsup->unusable);
		if (e == 0)
			e = buf_printf(out, ")\n");
	}
	return e;
}

int
pcapdec_report_json(const struct pcapdec *d, struct buf *out)
{
	struct pcapdec_totals t;
	char a[64], b[64];
	size_t i, j;
	int e;

	pcapdec_totals(d, &t);
	e = buf_printf(out, "{\n  \"frames\": %llu,\n  \"written\": %llu,\n"
	    "  \"truncated\": %s,\n  \"keys\": %llu,\n  \"sip_keys\": %llu,\n"
	    "  \"decrypted\": %llu,\n  \"fragments_dropped\": %llu,\n"
	    "  \"keyed_streams\": %llu,\n  \"streams_not_ok\": %llu,\n"
	    "  \"streams\": [",
	    (unsigned long long)t.frames, (unsigned long long)t.written,
	    t.truncated ? "true" : "false", (unsigned long long)t.keys,
	    (unsigned long long)t.sip_keys, (unsigned long long)t.decrypted,
	    (unsigned long long)t.frag_dropped,
	    (unsigned long long)t.keyed_streams,
	    (unsigned long long)t.streams_not_ok);
	for (i = 0; i < d->nstreams && e == 0; i++) {
		const struct stream *s = d->list[i];
		const struct key *k = s->key != NULL ? s->key : s->unsup;
		const char *su = stream_suite(s);

		addr_fmt(&s->k.src, a, sizeof(a));
		addr_fmt(&s->k.dst, b, sizeof(b));
		e = buf_printf(out, "%s\n    {\"ssrc\": \"0x%08x\", "
		    "\"kind\": \"%s\", \"src\": \"%s\", \"dst\": \"%s\", "
		    "\"suite\": %s%s%s, \"key_from\": \"%s\", "
		    "\"status\": \"%s\", "
		    "\"packets\": %llu, \"decrypted\": %llu, \"failed\": {",
		    i ? "," : "", s->k.ssrc, s->k.rtcp ? "rtcp" : "rtp", a, b,
		    su ? "\"" : "", su ? su : "null", su ? "\"" : "",
		    k ? (k->from_sip ? "sip" : "given") : "none",
		    pcapdec_status_name(stream_status(s)),
		    (unsigned long long)s->packets,
		    (unsigned long long)s->decrypted);
		for (j = 0; j < PCAPDEC_NFAIL && e == 0; j++)
			e = buf_printf(out, "%s\"%s\": %llu", j ? ", " : "",
			    pcapdec_fail_name((enum pcapdec_fail)j),
			    (unsigned long long)s->fail[j]);
		if (e == 0)
			e = buf_printf(out, "}");
		if (e == 0 && stream_status(s) == PCAPDEC_ST_UNSUPPORTED &&
		    s->unsup != NULL)
			e = buf_printf(out, ", \"unsupported\": \"%s\"",
			    s->unsup->unusable);
		if (e == 0 && s->k.rtcp)
			e = buf_printf(out, "}");
		else if (e == 0)
			e = buf_printf(out, ", \"lost\": %llu, \"roc\": %u, "
			    "\"roc_first\": %u, \"payload_type\": %d%s}",
			    (unsigned long long)lost(s), roc_now(s),
			    s->roc_first, s->pt,
			    s->key && s->key->libsrtp_kdf[s->ctxi] ?
			    ", \"kdf\": \"libsrtp-aes192\"" : "");
	}
	if (e == 0)
		e = buf_printf(out, "\n  ]\n}\n");
	return e;
}

/* --- life cycle --- */

struct pcapdec *
pcapdec_new(const struct pcapdec_opts *o, int *err)
{
	struct pcapdec *d;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		*err = E_NOMEM;
		return NULL;
	}
	d->o = *o;
	if (d->o.max_streams == 0)
		d->o.max_streams = 65536;
	d->tabsz = 256;
	d->tab = calloc(d->tabsz, sizeof(*d->tab));
	d->eps = calloc(MAX_ENDPOINTS, sizeof(*d->eps));
	d->q = calloc(MAX_QUEUE, sizeof(*d->q));
	d->pkt = malloc(PKT_MAX + RTPSEC_MAX_OVERHEAD);
	d->frame = malloc(PKT_MAX + 256);
	d->dgram = malloc(PKT_MAX + 8);
	d->defrag = cap_defrag_new(256, 65535, 30 * 1000000ull);
	if (d->tab == NULL || d->eps == NULL || d->q == NULL ||
	    d->pkt == NULL || d->frame == NULL || d->dgram == NULL ||
	    d->defrag == NULL) {
		pcapdec_free(d);
		*err = E_NOMEM;
		return NULL;
	}
	return d;
}

void
pcapdec_free(struct pcapdec *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nkeys; i++)
		key_free(d->keys[i]);
	for (i = 0; i < d->nstreams; i++) {
		if (d->list[i]->raw != NULL)
			fclose(d->list[i]->raw);
		(void)wav_close(d->list[i]->wav);
		free(d->list[i]);
	}
	for (i = 0; i < MAX_TCP_FLOWS; i++)
		sip_framer_free(d->flows[i].fr);
	for (i = 0; d->q != NULL && i < d->qlen; i++)
		free(d->q[(d->qhead + i) % MAX_QUEUE].buf);
	if (d->w != NULL)
		(void)cap_writer_close(d->w);
	cap_defrag_free(d->defrag);
	free(d->list);
	free(d->tab);
	free(d->eps);
	free(d->q);
	if (d->pkt != NULL)
		OPENSSL_cleanse(d->pkt, PKT_MAX + RTPSEC_MAX_OVERHEAD);
	free(d->pkt);
	free(d->frame);
	free(d->dgram);
	free(d);
}
