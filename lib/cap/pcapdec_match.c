/* pcapdec_match.c - pcapdec: the stream table, fitting keys, decryption. */
#include <stdlib.h>
#include <string.h>

#include "cap/pcapdec_int.h"
#include "media/rtp.h"

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
	/* a DTLS key is its own 5-tuple's: an RTCP port without rtcp-mux
	 * has a handshake of its own */
	int rtcp = s->k.rtcp && !k->from_dtls;

	if (k->has_ssrc && k->ssrc != s->k.ssrc)
		return 0;
	if (k->has_src && !addr_match(&k->src, &s->k.src, rtcp)) {
		if (k->dir != KEYLINE_DIR_IN)
			return 0;
		hint_missed = 1;
	}
	if (k->has_dst && !addr_match(&k->dst, &s->k.dst, rtcp)) {
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
 * Keys from SDP (an --sdp file, or SIP in the capture) name the address
 * and port of their media's c= and m=, which is where the phone receives
 * and, with symmetric RTP, sends from; behind NAT it sends from another
 * address. So when no key fits a stream by address, SDP keys are tried on
 * it by authentication: the newest AUTH_CANDIDATES of them, those of the
 * stream's own call first (when the SIP in the capture names the other
 * side's address), on AUTH_PACKETS of its packets, and again when new
 * keys appear (AUTH_ROUNDS rounds before it is keyed, one per rekey
 * after): bounded work on streams that are not SRTP at all.
 */
#define AUTH_CANDIDATES 16
#define AUTH_PACKETS 8
#define AUTH_ROUNDS 4

/* May SDP keys be tried on this packet of `s` by authentication? */
static int
auth_allowed(struct pcapdec *d, struct stream *s)
{
	if (s->auth_order != d->key_order) {	/* new keys: a new round */
		s->auth_order = d->key_order;
		if (s->key != NULL || s->auth_rounds < AUTH_ROUNDS) {
			s->auth_rounds++;
			s->auth_left = AUTH_PACKETS;
		}
	}
	if (s->auth_left == 0)
		return 0;
	s->auth_left--;
	return 1;
}

/*
 * 1 if an SDP names the stream's source or destination as a media
 * address with a key (an SRTP media): a stream the SDP promised.
 */
static int
stream_described(struct pcapdec *d, struct stream *s)
{
	size_t i;

	if (s->desc_order == d->key_order)
		return s->described;
	s->desc_order = d->key_order;
	s->described = 0;
	for (i = 0; i < d->nkeys && !s->described; i++) {
		const struct key *k = d->keys[i];

		if (k->from_sdp && k->has_src &&
		    (addr_match(&k->src, &s->k.src, s->k.rtcp) ||
		    addr_match(&k->src, &s->k.dst, s->k.rtcp)))
			s->described = 1;
	}
	return s->described;
}

/* Add the SDP keys to try on `s` by authentication to `c` (room: max). */
static size_t
auth_candidates(const struct pcapdec *d, const struct stream *s,
    struct key **c, uint8_t *how, size_t nc, size_t max)
{
	const char *cid = stream_call_id(d, s);
	size_t i, n0 = nc;
	int pass, same;

	for (pass = cid != NULL ? 0 : 1; pass < 2; pass++) {
		for (i = d->nkeys; i-- > 0 && nc - n0 < AUTH_CANDIDATES &&
		    nc < max;) {
			struct key *k = d->keys[i];

			if (!k->from_sdp || k->nctx == 0 ||
			    key_fits(d, k, s) != 0)
				continue;
			same = cid != NULL && slice_eq_cstr(k->call_id, cid);
			if (pass == 0 ? !same : same)
				continue;
			how[nc] = HOW_AUTH;
			c[nc++] = k;
		}
	}
	return nc;
}

#define MAX_CANDS 64

/*
 * Find a key for stream `s` and decrypt the packet with it. `rebind`: the
 * stream's key failed; try only other keys, and only ROC 0 and the ROC
 * the stream is at.
 */
static int
bind_and_decrypt(struct pcapdec *d, struct stream *s, uint8_t *p, size_t *len,
    int rebind)
{
	struct key *cands[MAX_CANDS], *unsup = NULL;
	uint8_t how[MAX_CANDS];
	size_t nc = 0, nfit, i, j;
	uint32_t roc = 0, cur = 0, nroc;
	int any_fit = 0, r, worst = E_NOTFOUND, f;

	/* newest first */
	for (i = d->nkeys; i-- > 0 && nc < MAX_CANDS;) {
		struct key *k = d->keys[i];

		f = key_fits(d, k, s);
		if (f == 2)
			any_fit = 1;
		if (k->unusable[0] != '\0') {
			/* only by its selectors: a stream no key names is
			 * not blamed on it */
			if (f == 2 && unsup == NULL)
				unsup = k;
		} else if (f) {
			how[nc] = f == 1 ? (k->has_src || k->has_dst ?
			    HOW_AUTH : HOW_ANY) : k->from_sdp ? HOW_ADDR :
			    HOW_SEL;
			cands[nc++] = k;
		}
	}
	nfit = nc;
	if (!any_fit && auth_allowed(d, s))	/* SDP keys: NAT */
		nc = auth_candidates(d, s, cands, how, nc, MAX_CANDS);
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
				else if (how[i] == HOW_AUTH &&
				    cands[i]->from_sdp)
					log_msg(d->o.log, LOG_INFO,
					    "ssrc 0x%08x: keyed by "
					    "authentication with a key from "
					    "%s (its SDP names another "
					    "address: NAT)", s->k.ssrc,
					    cands[i]->from_sip ? "SIP" :
					    "--sdp");
				s->key = cands[i];
				s->ctxi = j;
				s->how = how[i];
				s->tried = 0;
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
	/*
	 * Only SDP keys tried by authentication, none fit: a stream an SDP
	 * names (the other side's address) was promised SRTP and failed;
	 * any other (plain RTP, a call we have no SDP of) has no key.
	 */
	if (nfit == 0 && s->key == NULL) {
		if (!stream_described(d, s))
			return E_NOTFOUND;
		if (s->tried == 0)
			s->tried = cands[0]->from_sip ? 2 : 1;
	}
	return worst;
}

/*
 * Decrypt the UDP payload `pl` of a datagram from `p` if it is SRTP or
 * SRTCP: `buf` holds a copy of `pl` that is decrypted in place; returns 1
 * with the plaintext in `buf` (*outlen bytes), else 0 (`buf` unchanged).
 */
int
pcapdec_decrypt_udp(struct pcapdec *d, const struct cap_pkt *p, struct slice pl,
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
	pcapdec_stream_outputs(d, s, buf, len);
	*outlen = len;
	return 1;
}
