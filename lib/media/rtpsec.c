/* rtpsec.c - SRTP/SRTCP contexts: RFC 3711 packet processing per SSRC. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "media/rtpsec.h"
#include "media/rtpsec_ossl.h"

/*
 * The packet formats, the index estimation (RFC 3711 3.3.1 and appendix
 * A) and the replay rules follow libsrtp 2.5 step by step, so that what we
 * send and what we accept is what libsrtp sends and accepts; where libsrtp
 * has a quirk that is not observable on the wire (how it stores windows)
 * we keep the observable behaviour only.
 */

#define SEQ_MEDIAN 0x8000
#define SRTCP_INDEX_MAX 0x7fffffffu

struct keys {			/* the session keys of RTP, or of RTCP */
	struct rtpsec_hmac hmac;
	uint8_t salt[14];
	EVP_CIPHER_CTX *gcm;	/* AEAD suites */
	struct aesctr ctr;	/* AES-CM suites; 64 bytes in, for its lines */
};

struct stream {			/* what one SSRC needs */
	uint32_t ssrc;
	uint8_t used;
	uint8_t pending;	/* rtpsec_set_roc(): next index is exact */
	uint32_t pending_roc;
	uint64_t index;		/* highest RTP index, ROC << 16 | SEQ */
	uint64_t win[2];	/* bit k: index - k has been seen */
	uint32_t rtcp_index;	/* highest SRTCP index sent / seen */
	uint64_t rtcp_win[2];
	uint64_t used_at;
};

struct mkey {			/* one master key: its MKI and session keys */
	uint64_t lifetime;	/* packets; 0: none */
	uint64_t used;		/* packets protected with it */
	struct keys rtp, rtcp;	/* `used` shares the first line of rtp's */
	uint8_t mki[RTPSEC_MAX_MKI];
};

struct rtpsec {
	const struct suite *suite;
	enum rtpsec_dir dir;
	unsigned flags;
	int aead;
	size_t rtp_tag;		/* SRTP tag bytes on the wire (0: none) */
	size_t rtcp_tag;
	size_t mki_len;		/* the same for every key */
	struct mkey *k;		/* nk keys */
	size_t nk, txk;		/* txk: the key protect uses */
	struct stream *s;	/* nmax slots, ns of them used */
	size_t ns, nmax, last;
	uint64_t tick;
	uint8_t id[SHA256_DIGEST_LENGTH];	/* of the parameters */
};

static inline uint32_t
be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static inline void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- replay windows: bit k of the 128-bit `w` is "highest - k seen" */

static inline int
win_get(const uint64_t w[2], unsigned k)
{
	return (int)((w[k >> 6] >> (k & 63)) & 1);
}

static inline void
win_set(uint64_t w[2], unsigned k)
{
	w[k >> 6] |= (uint64_t)1 << (k & 63);
}

static inline void
win_shift(uint64_t w[2], uint64_t d)
{
	if (d >= 128) {
		w[0] = w[1] = 0;
	} else if (d >= 64) {
		w[1] = d == 64 ? w[0] : w[0] << (d - 64);
		w[0] = 0;
	} else if (d > 0) {
		w[1] = (w[1] << d) | (w[0] >> (64 - d));
		w[0] <<= d;
	}
}

enum { SEEN_NEW = 0, SEEN_DUP = 1, SEEN_OLD = 2 };

/* libsrtp's srtp_rdbx_check()/srtp_rdb_check(), `delta` from the highest. */
static inline int
win_check(const uint64_t w[2], int64_t delta)
{
	if (delta > 0)
		return SEEN_NEW;
	if (-delta >= RTPSEC_WINDOW)
		return SEEN_OLD;
	return win_get(w, (unsigned)-delta) ? SEEN_DUP : SEEN_NEW;
}

static inline void
win_add(uint64_t w[2], int64_t delta)
{
	if (delta > 0) {
		win_shift(w, (uint64_t)delta);
		win_set(w, 0);
	} else {
		win_set(w, (unsigned)-delta);
	}
}

/*
 * The RTP packet index for `seq` (libsrtp's srtp_rdbx_estimate_index and
 * srtp_index_guess): `*delta` is its distance from the highest index.
 */
static uint64_t
estimate(const struct stream *st, uint16_t seq, int64_t *delta)
{
	uint64_t idx = st->index;
	uint32_t roc;
	uint16_t ls;

	if (st->pending) {
		*delta = 1;	/* unused: the window restarts */
		return ((uint64_t)st->pending_roc << 16) | seq;
	}
	if (idx <= SEQ_MEDIAN) {
		*delta = (int64_t)seq - (int64_t)idx;
		return seq;
	}
	roc = (uint32_t)(idx >> 16);
	ls = (uint16_t)idx;
	if (ls < SEQ_MEDIAN) {
		if ((int)seq - (int)ls > SEQ_MEDIAN) {
			roc--;
			*delta = (int64_t)seq - ls - 0x10000;
		} else {
			*delta = (int64_t)seq - ls;
		}
	} else {
		if ((int)ls - SEQ_MEDIAN > (int)seq) {
			roc++;
			*delta = (int64_t)seq - ls + 0x10000;
		} else {
			*delta = (int64_t)seq - ls;
		}
	}
	return ((uint64_t)roc << 16) | seq;
}

static void
rtp_commit(struct stream *st, uint64_t est, int64_t delta)
{
	if (st->pending) {
		st->pending = 0;
		st->index = est;
		st->win[0] = 1;
		st->win[1] = 0;
		return;
	}
	win_add(st->win, delta);
	if (delta > 0)
		st->index += (uint64_t)delta;
}

/* ---- per-SSRC state ---- */

static struct stream *
find(struct rtpsec *c, uint32_t ssrc)
{
	size_t i;

	if (c->ns > 0 && c->s[c->last].used && c->s[c->last].ssrc == ssrc)
		return &c->s[c->last];
	for (i = 0; i < c->nmax; i++)
		if (c->s[i].used && c->s[i].ssrc == ssrc) {
			c->last = i;
			return &c->s[i];
		}
	return NULL;
}

/* A slot for a new SSRC: a free one, else the least recently used. */
static struct stream *
insert(struct rtpsec *c, const struct stream *tmpl)
{
	size_t i, pick = 0;
	uint64_t oldest = UINT64_MAX;

	for (i = 0; i < c->nmax; i++) {
		if (!c->s[i].used) {
			pick = i;
			c->ns++;
			break;
		}
		if (c->s[i].used_at < oldest) {
			oldest = c->s[i].used_at;
			pick = i;
		}
	}
	c->s[pick] = *tmpl;
	c->s[pick].used = 1;
	c->last = pick;
	return &c->s[pick];
}

/* The stream of `ssrc`, or `tmp` set up as a fresh one (not yet kept). */
static struct stream *
lookup(struct rtpsec *c, uint32_t ssrc, struct stream *tmp, int *fresh)
{
	struct stream *st = find(c, ssrc);

	*fresh = st == NULL;
	if (st != NULL)
		return st;
	memset(tmp, 0, sizeof(*tmp));
	tmp->ssrc = ssrc;
	return tmp;
}

static struct stream *
keep(struct rtpsec *c, struct stream *st, int fresh)
{
	if (fresh)
		st = insert(c, st);
	st->used_at = ++c->tick;
	return st;
}

/* ---- context ---- */

static int
derive(struct keys *k, const struct rtpsec_params *p, const uint8_t *key,
    const uint8_t *salt, const struct suite *su, int enc, uint8_t label_base)
{
	uint8_t ek[32], ak[20], mk[32];
	const uint8_t *ms = salt;
	size_t klen = p->key_len, mklen = klen, mslen = p->salt_len;
	int r;

	memcpy(mk, key, klen);
	if (su->cipher == SUITE_CIPHER_AES_CM_192 &&
	    (p->flags & RTPSEC_LIBSRTP_AES192_KDF)) {
		/* libsrtp <= 2.6: AES-256 keyed with key | salt[0..7]. */
		memcpy(mk + 24, salt, 8);
		mklen = 32;
		ms = salt + 8;
		mslen = 6;
	}
	if ((r = rtpsec_kdf(mk, mklen, ms, mslen, label_base, ek, klen)) != 0 ||
	    (r = rtpsec_kdf(mk, mklen, ms, mslen, (uint8_t)(label_base + 2),
	    k->salt, su->salt_len)) != 0)
		goto out;
	if (su->aead) {
		k->gcm = rtpsec_gcm_new(ek, su->cipher, enc);
		r = k->gcm != NULL ? 0 : E_CRYPTO;
	} else {
		if ((r = rtpsec_kdf(mk, mklen, ms, mslen,
		    (uint8_t)(label_base + 1), ak, sizeof(ak))) != 0)
			goto out;
		rtpsec_hmac_init(&k->hmac, ak, sizeof(ak));
		r = aesctr_init(&k->ctr, ek, klen);
	}
out:
	OPENSSL_cleanse(mk, sizeof(mk));
	OPENSSL_cleanse(ek, sizeof(ek));
	OPENSSL_cleanse(ak, sizeof(ak));
	return r;
}

/* Key `i` of `p` (0: the one in `p` itself). */
static void
key_at(const struct rtpsec_params *p, size_t i, const uint8_t **key,
    const uint8_t **salt, const uint8_t **mki, uint64_t *lifetime)
{
	if (i == 0) {
		*key = p->key;
		*salt = p->salt;
		*mki = p->mki;
		*lifetime = p->lifetime;
	} else {
		*key = p->more[i - 1].key;
		*salt = p->more[i - 1].salt;
		*mki = p->more[i - 1].mki;
		*lifetime = p->more[i - 1].lifetime;
	}
}

/* A digest of everything that makes a context what it is. */
static int
params_id(const struct rtpsec_params *p, uint8_t id[SHA256_DIGEST_LENGTH])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint64_t hdr[6] = { (uint64_t)p->suite, p->flags, p->key_len,
		p->salt_len, p->mki_len, p->nmore };
	int ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(md, hdr, sizeof(hdr));

	for (size_t i = 0; ok && i <= p->nmore; i++) {
		const uint8_t *key, *salt, *mki;
		uint64_t lt;

		key_at(p, i, &key, &salt, &mki, &lt);
		ok = EVP_DigestUpdate(md, key, p->key_len) &&
		    EVP_DigestUpdate(md, salt, p->salt_len) &&
		    (p->mki_len == 0 ||
		    EVP_DigestUpdate(md, mki, p->mki_len)) &&
		    EVP_DigestUpdate(md, &lt, sizeof(lt));
	}
	ok = ok && EVP_DigestFinal_ex(md, id, NULL);
	EVP_MD_CTX_free(md);
	return ok ? 0 : E_CRYPTO;
}

/* Are the keys of `p` there, MKIs given for several keys and distinct? */
static int
check_keys(const struct rtpsec_params *p)
{
	if (p->key == NULL || p->salt == NULL ||
	    (p->mki_len > 0 && p->mki == NULL) ||
	    (p->nmore > 0 && p->more == NULL))
		return E_INVAL;
	if (p->nmore >= RTPSEC_MAX_KEYS || (p->nmore > 0 && p->mki_len == 0))
		return E_KEY;
	for (size_t i = 0; i < p->nmore; i++) {
		const struct rtpsec_key *k = &p->more[i];

		if (k->key == NULL || k->salt == NULL || k->mki == NULL)
			return E_INVAL;
		if (memcmp(k->mki, p->mki, p->mki_len) == 0)
			return E_KEY;
		for (size_t j = 0; j < i; j++)
			if (memcmp(k->mki, p->more[j].mki, p->mki_len) == 0)
				return E_KEY;
	}
	return 0;
}

struct rtpsec *
rtpsec_new(const struct rtpsec_params *p, enum rtpsec_dir dir, int *err)
{
	const struct suite *su;
	struct rtpsec *c = NULL;
	int r = E_INVAL;

	if (p == NULL || (dir != RTPSEC_PROTECT && dir != RTPSEC_UNPROTECT) ||
	    p->max_ssrcs > RTPSEC_MAX_SSRCS)
		goto fail;
	r = E_KEY;
	if ((su = suite_by_id(p->suite)) == NULL ||
	    p->key_len != su->key_len || p->salt_len != su->salt_len ||
	    p->mki_len > RTPSEC_MAX_MKI)
		goto fail;
	if ((r = check_keys(p)) != 0)
		goto fail;
	r = E_UNSUPPORTED;
	if (su->aead && (p->flags & (RTPSEC_UNENCRYPTED_SRTP |
	    RTPSEC_UNAUTHENTICATED_SRTP)) != 0)
		goto fail;
	r = E_NOMEM;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->nmax = p->max_ssrcs != 0 ? p->max_ssrcs : RTPSEC_DEFAULT_SSRCS;
	c->nk = 1 + p->nmore;
	if ((c->s = calloc(c->nmax, sizeof(*c->s))) == NULL ||
	    (c->k = calloc(c->nk, sizeof(*c->k))) == NULL)
		goto fail;
	c->suite = su;
	c->dir = dir;
	c->flags = p->flags;
	c->aead = su->aead;
	c->rtp_tag = (p->flags & RTPSEC_UNAUTHENTICATED_SRTP) ? 0 :
	    su->srtp_tag_len;
	c->rtcp_tag = su->srtcp_tag_len;
	c->mki_len = p->mki_len;
	for (size_t i = 0; i < c->nk; i++) {
		struct mkey *k = &c->k[i];
		const uint8_t *key, *salt, *mki;

		key_at(p, i, &key, &salt, &mki, &k->lifetime);
		if (p->mki_len > 0)
			memcpy(k->mki, mki, p->mki_len);
		if ((r = derive(&k->rtp, p, key, salt, su,
		    dir == RTPSEC_PROTECT, 0)) != 0 ||
		    (r = derive(&k->rtcp, p, key, salt, su,
		    dir == RTPSEC_PROTECT, 3)) != 0)
			goto fail;
	}
	if ((r = params_id(p, c->id)) != 0)
		goto fail;
	return c;
fail:
	rtpsec_free(c);
	if (err != NULL)
		*err = r;
	return NULL;
}

void
rtpsec_free(struct rtpsec *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; c->k != NULL && i < c->nk; i++) {
		EVP_CIPHER_CTX_free(c->k[i].rtp.gcm);
		EVP_CIPHER_CTX_free(c->k[i].rtcp.gcm);
		aesctr_wipe(&c->k[i].rtp.ctr);
		aesctr_wipe(&c->k[i].rtcp.ctr);
	}
	if (c->k != NULL)
		OPENSSL_cleanse(c->k, c->nk * sizeof(*c->k));
	free(c->k);
	free(c->s);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

size_t
rtpsec_nkeys(const struct rtpsec *c)
{
	return c->nk;
}

int
rtpsec_use_key(struct rtpsec *c, size_t i)
{
	if (c->dir != RTPSEC_PROTECT)
		return E_STATE;
	if (i >= c->nk)
		return E_RANGE;
	c->txk = i;
	return 0;
}

size_t
rtpsec_key_in_use(const struct rtpsec *c)
{
	return c->txk;
}

int
rtpsec_same_params(const struct rtpsec *c, const struct rtpsec_params *p)
{
	uint8_t id[SHA256_DIGEST_LENGTH];
	int same;

	if (c == NULL || p == NULL || check_keys(p) != 0 ||
	    params_id(p, id) != 0)
		return 0;
	same = CRYPTO_memcmp(id, c->id, sizeof(id)) == 0;
	OPENSSL_cleanse(id, sizeof(id));
	return same;
}

/*
 * The key to protect with: the current one while its lifetime lasts,
 * then the next in order. NULL when all are spent.
 */
static struct mkey *
tx_key(struct rtpsec *c)
{
	for (; c->txk < c->nk; c->txk++) {
		struct mkey *k = &c->k[c->txk];

		if (k->lifetime == 0 || k->used < k->lifetime)
			return k;
	}
	c->txk = c->nk - 1;
	return NULL;
}

/* The key whose MKI is at `at`, or NULL. */
static struct mkey *
rx_key(struct rtpsec *c, const uint8_t *at)
{
	if (c->mki_len == 0)
		return &c->k[0];
	for (size_t i = 0; i < c->nk; i++)
		if (memcmp(at, c->k[i].mki, c->mki_len) == 0)
			return &c->k[i];
	return NULL;
}

enum suite_id
rtpsec_suite(const struct rtpsec *c)
{
	return c->suite->id;
}

enum rtpsec_dir
rtpsec_dir(const struct rtpsec *c)
{
	return c->dir;
}

size_t
rtpsec_overhead(const struct rtpsec *c, int rtcp)
{
	return rtcp ? c->rtcp_tag + 4 + c->mki_len : c->rtp_tag + c->mki_len;
}

/* ---- RTP ---- */

/* The length of the RTP header (fixed part, CSRCs, extension). */
static int
rtp_header(const uint8_t *p, size_t len, size_t *hlen)
{
	size_t h;

	if (len < 12)
		return E_SHORT;
	if ((p[0] >> 6) != 2)
		return E_SYNTAX;
	h = 12 + 4 * (size_t)(p[0] & 0x0f);
	if (p[0] & 0x10) {
		if (len < h + 4)
			return E_SHORT;
		h += 4 + 4 * (size_t)((p[h + 2] << 8) | p[h + 3]);
	}
	if (len < h)
		return E_SHORT;
	*hlen = h;
	return 0;
}

/* AES-CM IV (RFC 3711 4.1.1): (SSRC << 64 | index << 16) XOR salt << 16. */
static void
cm_iv(uint8_t iv[16], const uint8_t salt[14], const uint8_t *ssrc,
    uint64_t index)
{
	int i;

	memset(iv, 0, 16);
	memcpy(iv + 4, ssrc, 4);
	for (i = 0; i < 6; i++)
		iv[8 + i] = (uint8_t)(index >> (40 - 8 * i));
	for (i = 0; i < 14; i++)
		iv[i] ^= salt[i];
}

/* GCM IV (RFC 7714 8.1 and 9.1): 00 00 | SSRC | `hi` | `lo` XOR salt. */
static void
gcm_iv(uint8_t iv[12], const uint8_t salt[14], const uint8_t *ssrc,
    uint16_t hi, uint32_t lo)
{
	int i;

	iv[0] = iv[1] = 0;
	memcpy(iv + 2, ssrc, 4);
	iv[6] = (uint8_t)(hi >> 8);
	iv[7] = (uint8_t)hi;
	put_be32(iv + 8, lo);
	for (i = 0; i < 12; i++)
		iv[i] ^= salt[i];
}

int
rtpsec_protect(struct rtpsec *c, uint8_t *pkt, size_t *len, size_t cap)
{
	struct stream tmp, *st;
	struct mkey *k;
	uint8_t iv[16], rocb[4], md[20];
	size_t n = *len, hlen, over;
	uint64_t est;
	int64_t delta;
	int r, fresh, seen;

	if (c->dir != RTPSEC_PROTECT)
		return E_STATE;
	if ((r = rtp_header(pkt, n, &hlen)) != 0)
		return r;
	over = c->rtp_tag + c->mki_len;
	if (cap < n || cap - n < over)
		return E_BIG;
	if ((k = tx_key(c)) == NULL)
		return E_LIMIT;
	st = lookup(c, be32(pkt + 8), &tmp, &fresh);
	est = estimate(st, (uint16_t)((pkt[2] << 8) | pkt[3]), &delta);
	if (!st->pending) {
		seen = win_check(st->win, delta);
		if (seen == SEEN_OLD || (seen == SEEN_DUP &&
		    !(c->flags & RTPSEC_ALLOW_REPEAT_TX)))
			return E_REPLAY;
	}
	if (c->aead) {
		gcm_iv(iv, k->rtp.salt, pkt + 8, (uint16_t)(est >> 32),
		    (uint32_t)est);
		if ((r = rtpsec_gcm_seal(k->rtp.gcm, iv, pkt, hlen, NULL, 0,
		    pkt + hlen, n - hlen, pkt + n)) != 0)
			return r;
		memcpy(pkt + n + 16, k->mki, c->mki_len);
	} else {
		if (!(c->flags & RTPSEC_UNENCRYPTED_SRTP)) {
			cm_iv(iv, k->rtp.salt, pkt + 8, est);
			if ((r = aesctr_xor(&k->rtp.ctr, iv, pkt + hlen,
			    n - hlen)) != 0)
				return r;
		}
		memcpy(pkt + n, k->mki, c->mki_len);
		if (c->rtp_tag > 0) {
			put_be32(rocb, (uint32_t)(est >> 16));
			rtpsec_hmac(&k->rtp.hmac, pkt, n, rocb, 4, md);
			memcpy(pkt + n + c->mki_len, md, c->rtp_tag);
		}
	}
	k->used++;
	st = keep(c, st, fresh);
	rtp_commit(st, est, delta);
	*len = n + over;
	return 0;
}

/*
 * Where the parts of an SRTP packet of `n` bytes are, and which key its
 * MKI names. Returns 0, E_SHORT, E_SYNTAX or E_NOTFOUND (no such MKI).
 */
static int
srtp_layout(struct rtpsec *c, const uint8_t *pkt, size_t n,
    size_t *hlen, size_t *plen, size_t *tag_at, struct mkey **k)
{
	size_t tag = c->aead ? 16 : c->rtp_tag, mki_at;
	int r;

	if ((r = rtp_header(pkt, n, hlen)) != 0)
		return r;
	if (n - *hlen < tag + c->mki_len)
		return E_SHORT;
	*plen = n - tag - c->mki_len;	/* header + payload */
	if (c->aead) {
		*tag_at = *plen;
		mki_at = *plen + tag;
	} else {
		mki_at = *plen;
		*tag_at = *plen + c->mki_len;
	}
	if ((*k = rx_key(c, pkt + mki_at)) == NULL)
		return E_NOTFOUND;
	return 0;
}

/* Authenticate (and with `decrypt`, decrypt) with packet index `est`. */
static int
srtp_open(const struct rtpsec *c, const struct mkey *k, uint8_t *pkt,
    size_t hlen, size_t plen, size_t tag_at, uint64_t est, int decrypt)
{
	uint8_t iv[16], rocb[4], md[20];

	if (c->aead) {
		gcm_iv(iv, k->rtp.salt, pkt + 8, (uint16_t)(est >> 32),
		    (uint32_t)est);
		return rtpsec_gcm_open(k->rtp.gcm, iv, pkt, hlen, NULL, 0,
		    pkt + hlen, plen - hlen, pkt + tag_at, decrypt);
	}
	if (c->rtp_tag > 0) {
		put_be32(rocb, (uint32_t)(est >> 16));
		rtpsec_hmac(&k->rtp.hmac, pkt, plen, rocb, 4, md);
		if (CRYPTO_memcmp(md, pkt + tag_at, c->rtp_tag) != 0)
			return E_AUTH;
	}
	if (decrypt && !(c->flags & RTPSEC_UNENCRYPTED_SRTP)) {
		cm_iv(iv, k->rtp.salt, pkt + 8, est);
		return aesctr_xor(&k->rtp.ctr, iv, pkt + hlen, plen - hlen);
	}
	return 0;
}

void
rtpsec_prefetch(const struct rtpsec *c, int rtcp)
{
	const struct mkey *k;
	const uint8_t *ks;

	if (c == NULL || c->nk == 0)
		return;
	if (c->ns > 0)
		__builtin_prefetch(&c->s[c->last]);
	/* the key protect uses; unprotect's is named by the packet's MKI,
	 * most often the first */
	k = &c->k[c->dir == RTPSEC_PROTECT && c->txk < c->nk ? c->txk : 0];
	ks = (const uint8_t *)(rtcp ? &k->rtcp : &k->rtp);
	if (c->dir == RTPSEC_PROTECT)
		__builtin_prefetch(&k->used);
	for (size_t off = 0; off < sizeof(struct keys); off += 64)
		__builtin_prefetch(ks + off);
}

int
rtpsec_unprotect(struct rtpsec *c, uint8_t *pkt, size_t *len)
{
	struct stream tmp, *st;
	struct mkey *k;
	size_t hlen, plen, tag_at;
	uint64_t est;
	int64_t delta;
	int r, fresh;

	if (c->dir != RTPSEC_UNPROTECT)
		return E_STATE;
	if ((r = srtp_layout(c, pkt, *len, &hlen, &plen, &tag_at, &k)) != 0)
		return r;
	st = lookup(c, be32(pkt + 8), &tmp, &fresh);
	est = estimate(st, (uint16_t)((pkt[2] << 8) | pkt[3]), &delta);
	if (!st->pending && win_check(st->win, delta) != SEEN_NEW)
		return E_REPLAY;
	if ((r = srtp_open(c, k, pkt, hlen, plen, tag_at, est, 1)) != 0)
		return r;
	st = keep(c, st, fresh);
	rtp_commit(st, est, delta);
	*len = plen;
	return 0;
}

int
rtpsec_check_roc(struct rtpsec *c, const uint8_t *pkt, size_t len,
    uint32_t roc)
{
	struct mkey *k;
	size_t hlen, plen, tag_at;
	uint64_t est;
	int r;

	if (c->dir != RTPSEC_UNPROTECT)
		return E_STATE;
	if (!c->aead && c->rtp_tag == 0)
		return E_UNSUPPORTED;
	if ((r = srtp_layout(c, pkt, len, &hlen, &plen, &tag_at, &k)) != 0)
		return r;
	est = ((uint64_t)roc << 16) | (uint16_t)((pkt[2] << 8) | pkt[3]);
	/* Not decrypting: the packet is only read. */
	return srtp_open(c, k, (uint8_t *)(uintptr_t)pkt, hlen, plen, tag_at,
	    est, 0);
}

/* ---- RTCP ---- */

int
rtpsec_protect_rtcp(struct rtpsec *c, uint8_t *pkt, size_t *len, size_t cap)
{
	struct stream tmp, *st;
	struct mkey *k;
	uint8_t iv[16], tr[4], md[20];
	size_t n = *len, over = 4 + c->mki_len + c->rtcp_tag;
	uint32_t idx;
	int r, fresh, enc = !(c->flags & RTPSEC_UNENCRYPTED_SRTCP);

	if (c->dir != RTPSEC_PROTECT)
		return E_STATE;
	if (n < 8)
		return E_SHORT;
	if ((pkt[0] >> 6) != 2)
		return E_SYNTAX;
	if (cap < n || cap - n < over)
		return E_BIG;
	if ((k = tx_key(c)) == NULL)
		return E_LIMIT;
	st = lookup(c, be32(pkt + 4), &tmp, &fresh);
	if (st->rtcp_index >= SRTCP_INDEX_MAX)
		return E_LIMIT;		/* RFC 3711 9.2: time to rekey */
	idx = st->rtcp_index + 1;	/* libsrtp starts at 1 */
	put_be32(tr, idx | (enc ? 0x80000000u : 0));
	if (c->aead) {
		gcm_iv(iv, k->rtcp.salt, pkt + 4, 0, idx);
		if (enc)
			r = rtpsec_gcm_seal(k->rtcp.gcm, iv, pkt, 8, tr, 4,
			    pkt + 8, n - 8, pkt + n);
		else	/* RFC 7714 9.3: all of it is AAD */
			r = rtpsec_gcm_seal(k->rtcp.gcm, iv, pkt, n, tr, 4,
			    NULL, 0, pkt + n);
		if (r != 0)
			return r;
		memcpy(pkt + n + 16, tr, 4);
		memcpy(pkt + n + 20, k->mki, c->mki_len);
	} else {
		if (enc) {
			cm_iv(iv, k->rtcp.salt, pkt + 4, idx);
			if ((r = aesctr_xor(&k->rtcp.ctr, iv, pkt + 8,
			    n - 8)) != 0)
				return r;
		}
		memcpy(pkt + n, tr, 4);
		memcpy(pkt + n + 4, k->mki, c->mki_len);
		rtpsec_hmac(&k->rtcp.hmac, pkt, n + 4, NULL, 0, md);
		memcpy(pkt + n + 4 + c->mki_len, md, c->rtcp_tag);
	}
	k->used++;
	st = keep(c, st, fresh);
	st->rtcp_index = idx;
	*len = n + over;
	return 0;
}

int
rtpsec_unprotect_rtcp(struct rtpsec *c, uint8_t *pkt, size_t *len)
{
	struct stream tmp, *st;
	struct mkey *k;
	uint8_t iv[16], md[20];
	size_t n = *len, tag = c->rtcp_tag, body, tr_at, mki_at, tag_at;
	uint32_t tr, idx;
	int64_t delta;
	int r, fresh, enc;

	if (c->dir != RTPSEC_UNPROTECT)
		return E_STATE;
	if (n < 8 + 4 + tag + c->mki_len)
		return E_SHORT;
	if ((pkt[0] >> 6) != 2)
		return E_SYNTAX;
	if (c->aead) {
		mki_at = n - c->mki_len;
		tr_at = mki_at - 4;
		tag_at = tr_at - tag;
		body = tag_at;
	} else {
		tag_at = n - tag;
		mki_at = tag_at - c->mki_len;
		tr_at = mki_at - 4;
		body = tr_at;
	}
	if ((k = rx_key(c, pkt + mki_at)) == NULL)
		return E_NOTFOUND;
	tr = be32(pkt + tr_at);
	enc = (tr & 0x80000000u) != 0;
	idx = tr & SRTCP_INDEX_MAX;
	/* libsrtp: AES-CM insists on the agreed E flag, GCM follows it. */
	if (!c->aead && enc != !(c->flags & RTPSEC_UNENCRYPTED_SRTCP))
		return E_SYNTAX;
	st = lookup(c, be32(pkt + 4), &tmp, &fresh);
	delta = (int64_t)idx - (int64_t)st->rtcp_index;
	if (win_check(st->rtcp_win, delta) != SEEN_NEW)
		return E_REPLAY;
	if (c->aead) {
		gcm_iv(iv, k->rtcp.salt, pkt + 4, 0, idx);
		if (enc)
			r = rtpsec_gcm_open(k->rtcp.gcm, iv, pkt, 8,
			    pkt + tr_at, 4, pkt + 8, body - 8, pkt + tag_at, 1);
		else
			r = rtpsec_gcm_open(k->rtcp.gcm, iv, pkt, body,
			    pkt + tr_at, 4, NULL, 0, pkt + tag_at, 1);
		if (r != 0)
			return r;
	} else {
		rtpsec_hmac(&k->rtcp.hmac, pkt, mki_at, NULL, 0, md);
		if (CRYPTO_memcmp(md, pkt + tag_at, tag) != 0)
			return E_AUTH;
		if (enc) {
			cm_iv(iv, k->rtcp.salt, pkt + 4, idx);
			if ((r = aesctr_xor(&k->rtcp.ctr, iv, pkt + 8,
			    body - 8)) != 0)
				return r;
		}
	}
	st = keep(c, st, fresh);
	win_add(st->rtcp_win, delta);
	if (delta > 0)
		st->rtcp_index = idx;
	*len = body;
	return 0;
}

/* ---- ROC control ---- */

int
rtpsec_set_roc(struct rtpsec *c, uint32_t ssrc, uint32_t roc)
{
	struct stream tmp, *st;
	int fresh;

	st = lookup(c, ssrc, &tmp, &fresh);
	st = keep(c, st, fresh);
	st->pending = 1;
	st->pending_roc = roc;
	st->index = (uint64_t)roc << 16;
	st->win[0] = st->win[1] = 0;
	return 0;
}

int
rtpsec_get_roc(const struct rtpsec *c, uint32_t ssrc, uint32_t *roc)
{
	size_t i;

	for (i = 0; i < c->nmax; i++)
		if (c->s[i].used && c->s[i].ssrc == ssrc) {
			*roc = c->s[i].pending ? c->s[i].pending_roc :
			    (uint32_t)(c->s[i].index >> 16);
			return 0;
		}
	return E_NOTFOUND;
}

int
rtpsec_forget(struct rtpsec *c, uint32_t ssrc)
{
	struct stream *st = find(c, ssrc);

	if (st == NULL)
		return E_NOTFOUND;
	memset(st, 0, sizeof(*st));
	c->ns--;
	return 0;
}
