/* pcapdec_key.c - pcapdec's keys: key lines, SDP bodies, their endpoints. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "cap/pcapdec_int.h"
#include "media/sdp.h"
#include "media/sdprw.h"

/* --- keys --- */

void
pcapdec_key_free(struct key *k)
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
 * E_UNSUPPORTED with a reason in `why`; or, `from_sdp` (an SDP's
 * alternatives), kept without contexts, so that the streams it fits are
 * reported as such rather than decrypted with wrong keys. A key from SDP
 * names its address only as a hint (see pcapdec_match.c).
 */
static int
add_key(struct pcapdec *d, const struct keyline *kl, int from_sip,
    int from_sdp, char *why, size_t whysz)
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
	if (keyline_kdr(kl) > 0 && !from_sdp) {
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
	k->from_sdp = from_sdp;
	k->has_ssrc = keyline_ssrc(kl, &k->ssrc) == 0;
	k->has_src = keyline_src(kl, &ss) == 0 && ss_to_addr(&ss, &k->src) == 0;
	k->has_dst = keyline_dst(kl, &ss) == 0 && ss_to_addr(&ss, &k->dst) == 0;
	k->call_id = keyline_selector(k->kl, "call-id");
	k->dir = keyline_dir(kl);
	if (key_known(d, k)) {
		pcapdec_key_free(k);
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
				pcapdec_key_free(k);
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
pcapdec_add_key_dtls(struct pcapdec *d, const struct keyline *kl, char *why,
    size_t whysz)
{
	size_t n = d->nkeys;
	int e;

	if ((e = add_key(d, kl, 0, 0, why, whysz)) == 0 && d->nkeys > n)
		d->keys[n]->from_dtls = 1;
	return e;
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

int
pcapdec_add_sdp_from(struct pcapdec *d, struct slice body, struct slice call_id,
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
	return pcapdec_add_sdp_from(d, body, SLICE_NULL, 0, why, whysz);
}
