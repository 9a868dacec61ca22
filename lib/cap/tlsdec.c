/* tlsdec.c - decrypt the TLS 1.2/1.3 records of a captured connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "base/be.h"
#include "cap/tlsdec_int.h"

#define HS_MAX 16384		/* a hello, buffered */
#define STALL_MAX (256u * 1024)	/* a side waiting for the other's hello */
#define HUNT_SEQ 65536		/* record numbers tried without a hello */
#define HUNT_SEQ_CHACHA 4096
#define HUNT_SESSIONS 64	/* key log sessions tried without a hello */
#define HUNT_BATCH 4096		/* AES blocks a call */

/* SHA-256("HelloRetryRequest"), RFC 8446 4.1.3 */
static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
	0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
	0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c
};

struct side {
	uint8_t rec[5 + REC_MAX];
	size_t reclen;
	uint8_t hs[HS_MAX];
	size_t hslen, hs_skip;
	int enc;		/* TLS 1.2: after its ChangeCipherSpec */
	int stage;		/* TLS 1.3: 0 handshake, 1 application */
	int resync, seq_unknown, dead, seen;
	int hunt;		/* TLS 1.3 without a hello: search the seq */
	uint8_t *stall;		/* bytes held until the other side's hello */
	size_t stalllen;
	int stalled;
	unsigned fails;
	uint64_t seq;
	struct keyset k[2];
};

struct tlsdec {
	struct tlskeys *keys;
	enum tlsdec_state st;
	int client;
	uint16_t version, suite;
	const struct suite_info *si;
	uint8_t crandom[32], srandom[32];
	struct side s[2];
	uint8_t out[REC_MAX];
	struct tlsdec_stats stats;
	tlsdec_fn fn;		/* of the feed in progress */
	void *arg;
	int nohunt;
};

const char *
tlsdec_state_name(enum tlsdec_state s)
{
	static const char *n[] = { "hello", "keyed", "not-tls", "no-hello",
	    "no-keys", "unsupported" };

	return (unsigned)s < TLSDEC_NSTATE ? n[s] : "?";
}

struct tlsdec *
tlsdec_new(struct tlskeys *keys)
{
	struct tlsdec *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->keys = keys;
	t->client = -1;
	return t;
}

void
tlsdec_free(struct tlsdec *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < 2; i++) {
		tlscrypt_wipe(&t->s[i].k[0]);
		tlscrypt_wipe(&t->s[i].k[1]);
		free(t->s[i].stall);
	}
	OPENSSL_cleanse(t->out, sizeof(t->out));
	free(t);
}

enum tlsdec_state
tlsdec_state(const struct tlsdec *t)
{
	return t->st;
}

int
tlsdec_client(const struct tlsdec *t)
{
	return t->client;
}

const uint8_t *
tlsdec_client_random(const struct tlsdec *t)
{
	return t->client >= 0 ? t->crandom : NULL;
}

uint16_t
tlsdec_version(const struct tlsdec *t)
{
	return t->version;
}

uint16_t
tlsdec_suite(const struct tlsdec *t)
{
	return t->suite;
}

void
tlsdec_stats(const struct tlsdec *t, struct tlsdec_stats *s)
{
	*s = t->stats;
}

/* The keys of both sides, once the ServerHello is known. */
static int
make_keys(struct tlsdec *t)
{
	const struct tlskeys_entry *e = tlskeys_find(t->keys, t->crandom);
	const struct suite_info *si = t->si;
	struct side *c = &t->s[t->client], *s = &t->s[!t->client];
	size_t kl = tlscrypt_key_len(si), hl = si->sha384 ? 48 : 32, ivl;
	uint8_t kb[2 * 32 + 2 * 12], seed[64];
	int r = 0;

	if (e == NULL) {
		t->st = TLSDEC_NO_KEYS;
		return 0;
	}
	if (!si->v13) {
		if (e->len[TLSKEYS_MASTER] != 48) {
			t->st = TLSDEC_NO_KEYS;
			return 0;
		}
		/* key_block = PRF(master, "key expansion", server_random +
		 * client_random): client key, server key, client IV, server
		 * IV (AEAD suites have no MAC keys) */
		ivl = si->cipher == C_CHACHA ? 12 : 4;
		memcpy(seed, t->srandom, 32);
		memcpy(seed + 32, t->crandom, 32);
		if ((r = tlsdec_prf12(si->sha384, e->secret[TLSKEYS_MASTER],
		    48, "key expansion", slice_make(seed, 64), kb,
		    2 * kl + 2 * ivl)) == 0 &&
		    (r = tlscrypt_keyset(&c->k[0], si, kb)) == 0 &&
		    (r = tlscrypt_keyset(&s->k[0], si, kb + kl)) == 0) {
			memcpy(c->k[0].iv, kb + 2 * kl, ivl);
			memcpy(s->k[0].iv, kb + 2 * kl + ivl, ivl);
		}
		OPENSSL_cleanse(kb, sizeof(kb));
		if (r != 0)
			return r;
		t->st = TLSDEC_KEYED;
		return 0;
	}
	if (e->len[TLSKEYS_CHTS] == hl &&
	    (r = tlscrypt_keyset13(&c->k[0], si, e->secret[TLSKEYS_CHTS])) != 0)
		return r;
	if (e->len[TLSKEYS_SHTS] == hl &&
	    (r = tlscrypt_keyset13(&s->k[0], si, e->secret[TLSKEYS_SHTS])) != 0)
		return r;
	if (e->len[TLSKEYS_CTS0] == hl &&
	    (r = tlscrypt_keyset13(&c->k[1], si, e->secret[TLSKEYS_CTS0])) != 0)
		return r;
	if (e->len[TLSKEYS_STS0] == hl &&
	    (r = tlscrypt_keyset13(&s->k[1], si, e->secret[TLSKEYS_STS0])) != 0)
		return r;
	if (!c->k[0].ok && !c->k[1].ok && !s->k[0].ok && !s->k[1].ok) {
		t->st = TLSDEC_NO_KEYS;
		return 0;
	}
	/* without the handshake secrets, the application ones start; the
	 * records before them are not counted in their sequence */
	for (int i = 0; i < 2; i++)
		if (!t->s[i].k[0].ok) {
			t->s[i].stage = 1;
			t->s[i].seq_unknown = 1;
		}
	t->st = TLSDEC_KEYED;
	return 0;
}

/* A ClientHello body from `side`. */
static void
client_hello(struct tlsdec *t, int side, struct slice m)
{
	if (t->client >= 0 && t->client != side)
		return;
	if (m.len < 2 + 32) {
		t->st = TLSDEC_NOT_TLS;
		return;
	}
	t->client = side;
	memcpy(t->crandom, m.p + 2, 32);
}

/* A ServerHello body from `side`: version, suite, then the keys. */
static int
server_hello(struct tlsdec *t, int side, struct slice m)
{
	struct slice ext, x;
	uint16_t ver, type, len;
	uint8_t sidlen;

	if (t->client < 0 || t->client == side)
		return 0;
	if (m.len < 2 + 32 + 1) {
		t->st = TLSDEC_NOT_TLS;
		return 0;
	}
	if (memcmp(m.p + 2, hrr_random, 32) == 0)
		return 0;	/* HelloRetryRequest: another ClientHello */
	ver = (uint16_t)(m.p[0] << 8 | m.p[1]);
	memcpy(t->srandom, m.p + 2, 32);
	sidlen = m.p[34];
	(void)slice_skip(&m, 35);
	if (slice_skip(&m, sidlen) != 0 || m.len < 3) {
		t->st = TLSDEC_NOT_TLS;
		return 0;
	}
	t->suite = (uint16_t)(m.p[0] << 8 | m.p[1]);
	(void)slice_skip(&m, 3);
	if (m.len >= 2) {
		len = (uint16_t)(m.p[0] << 8 | m.p[1]);
		(void)slice_skip(&m, 2);
		ext = slice_make(m.p, len < m.len ? len : m.len);
		while (ext.len >= 4) {
			type = (uint16_t)(ext.p[0] << 8 | ext.p[1]);
			len = (uint16_t)(ext.p[2] << 8 | ext.p[3]);
			(void)slice_skip(&ext, 4);
			if (slice_take(&ext, len, &x) != 0)
				break;
			if (type == 43 && x.len == 2)	/* supported_versions */
				ver = (uint16_t)(x.p[0] << 8 | x.p[1]);
		}
	}
	t->version = ver;
	t->si = tlscrypt_suite(t->suite);
	if (t->si == NULL || (ver != 0x0303 && ver != 0x0304) ||
	    (t->si->v13 != 0) != (ver == 0x0304)) {
		t->st = TLSDEC_UNSUPPORTED;
		return 0;
	}
	return make_keys(t);
}

/* Clear handshake bytes of `side`: find the hellos. */
static int
handshake(struct tlsdec *t, int side, struct slice b)
{
	struct side *s = &t->s[side];
	size_t n, mlen;
	uint8_t type;
	int e;

	while (b.len > 0 && t->st == TLSDEC_HELLO) {
		if (s->hs_skip > 0) {	/* a message we do not read */
			n = b.len < s->hs_skip ? b.len : s->hs_skip;
			s->hs_skip -= n;
			(void)slice_skip(&b, n);
			continue;
		}
		n = HS_MAX - s->hslen;
		if (n > b.len)
			n = b.len;
		memcpy(s->hs + s->hslen, b.p, n);
		s->hslen += n;
		(void)slice_skip(&b, n);
		while (s->hslen >= 4 && t->st == TLSDEC_HELLO) {
			type = s->hs[0];
			mlen = be24(s->hs + 1);
			if (type != 1 && type != 2) {
				n = 4 + mlen < s->hslen ? 4 + mlen : s->hslen;
				s->hs_skip = 4 + mlen - n;
			} else if (4 + mlen > HS_MAX) {
				t->st = TLSDEC_NOT_TLS;
				return 0;
			} else if (4 + mlen > s->hslen) {
				break;
			} else {
				n = 4 + mlen;
				if (type == 1)
					client_hello(t, side,
					    slice_make(s->hs + 4, mlen));
				else if ((e = server_hello(t, side,
				    slice_make(s->hs + 4, mlen))) != 0)
					return e;
			}
			memmove(s->hs, s->hs + n, s->hslen - n);
			s->hslen -= n;
		}
	}
	return 0;
}

/* A decrypted TLS 1.3 handshake record: a KeyUpdate changes the keys. */
static int
post_handshake(struct tlsdec *t, struct side *s, const uint8_t *p, size_t n)
{
	uint8_t next[48];
	size_t hl = t->si->sha384 ? 48 : 32, mlen;
	int e, upd = 0;

	while (n >= 4) {
		mlen = be24(p + 1);
		if (4 + mlen > n)
			break;
		if (p[0] == 24)		/* key_update */
			upd = 1;
		p += 4 + mlen;
		n -= 4 + mlen;
	}
	if (!upd || s->stage != 1 || !s->k[1].ok)
		return 0;
	if ((e = tlsdec_hkdf_label(t->si->sha384, s->k[1].secret, hl,
	    "traffic upd", SLICE_NULL, next, hl)) != 0)
		return e;
	e = tlscrypt_keyset13(&s->k[1], t->si, next);
	OPENSSL_cleanse(next, sizeof(next));
	s->seq = 0;
	return e;
}

/* --- TLS 1.3 without a hello (the capture began mid-connection) --- */

/* Text or CR/LF: how a record of a text protocol (SIP) begins. */
static int
texty(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(p[i] == '\r' || p[i] == '\n' ||
		    (p[i] >= 0x20 && p[i] < 0x7f)))
			return 0;
	return 1;
}

/*
 * The record number under which `k` (TLS 1.3, suite `si`) opens `rec`,
 * searched from 0: the first keystream block of each candidate is made
 * (AES-ECB over the counter blocks, a batch at a time; ChaCha20 one by
 * one, fewer of them), and only those whose first bytes come out as text
 * are opened. 0 with *seq, the plaintext in t->out; else E_AUTH.
 */
static int
seq_hunt(struct tlsdec *t, const struct suite_info *si,
    const struct keyset *k, struct slice rec, uint64_t *seq, size_t *n,
    uint8_t *type)
{
	static const uint8_t zero[16];
	uint8_t *blk = NULL, *ks = NULL, iv16[16];
	size_t m, b, nb, max;
	EVP_CIPHER_CTX *c;
	int l, e = E_AUTH;
	uint64_t q, q0;

	if (rec.len < 5 + 17)
		return E_SYNTAX;
	m = rec.len - 5 - 16 < 8 ? rec.len - 5 - 16 : 8;
	if ((c = EVP_CIPHER_CTX_new()) == NULL)
		return E_NOMEM;
	if (si->cipher == C_CHACHA) {
		for (q = 0; q < HUNT_SEQ_CHACHA && e != 0; q++) {
			iv16[0] = 1;	/* block counter 1: the payload */
			iv16[1] = iv16[2] = iv16[3] = 0;
			memcpy(iv16 + 4, k->iv, 12);
			for (int i = 0; i < 8; i++)
				iv16[8 + i] ^= (uint8_t)(q >> (56 - 8 * i));
			if (EVP_EncryptInit_ex(c, EVP_chacha20(), NULL, k->key,
			    iv16) != 1 || EVP_EncryptUpdate(c, iv16, &l, zero,
			    16) != 1) {
				e = E_CRYPTO;
				break;
			}
			for (size_t i = 0; i < m; i++)
				iv16[i] ^= rec.p[5 + i];
			if (texty(iv16, m) &&
			    tlscrypt_open13(k, rec, q, t->out, n, type) == 0) {
				*seq = q;
				e = 0;
			}
		}
		goto out;
	}
	blk = malloc(HUNT_BATCH * 16);
	ks = malloc(HUNT_BATCH * 16 + 16);
	if (blk == NULL || ks == NULL || EVP_EncryptInit_ex(c,
	    si->cipher == C_AES128GCM ? EVP_aes_128_ecb() : EVP_aes_256_ecb(),
	    NULL, k->key, NULL) != 1) {
		e = blk == NULL || ks == NULL ? E_NOMEM : E_CRYPTO;
		goto out;
	}
	EVP_CIPHER_CTX_set_padding(c, 0);
	max = HUNT_SEQ;
	for (q0 = 0; q0 < max && e != 0; q0 += HUNT_BATCH) {
		nb = HUNT_BATCH;
		for (b = 0; b < nb; b++) {	/* nonce || counter 2 */
			uint8_t *x = blk + 16 * b;

			q = q0 + b;
			memcpy(x, k->iv, 12);
			for (int i = 0; i < 8; i++)
				x[4 + i] ^= (uint8_t)(q >> (56 - 8 * i));
			x[12] = x[13] = x[14] = 0;
			x[15] = 2;
		}
		if (EVP_EncryptUpdate(c, ks, &l, blk, (int)(nb * 16)) != 1) {
			e = E_CRYPTO;
			break;
		}
		for (b = 0; b < nb && e != 0; b++) {
			for (size_t i = 0; i < m; i++)
				ks[16 * b + i] ^= rec.p[5 + i];
			if (texty(ks + 16 * b, m) &&
			    tlscrypt_open13(k, rec, q0 + b, t->out, n, type) == 0) {
				*seq = q0 + b;
				e = 0;
			}
		}
	}
out:
	EVP_CIPHER_CTX_free(c);
	free(blk);
	free(ks);
	return e;
}

/*
 * The first record of `side` is application data and no ClientHello was
 * seen: try the key log's TLS 1.3 traffic secrets (either role, every
 * suite of the secret's length) on it. Keyed when one opens it: that
 * session's other secret keys the other side, whose record number is
 * searched the same way on its next record.
 */
static int
hunt(struct tlsdec *t, int side, struct slice rec, tlsdec_fn fn, void *arg)
{
	static const int sec[2][2] = { { TLSKEYS_CTS0, TLSKEYS_STS0 },
	    { TLSKEYS_STS0, TLSKEYS_CTS0 } };
	const struct tlskeys_entry *e;
	struct side *s = &t->s[side], *o = &t->s[!side];
	struct keyset k;
	size_t i, j, n;
	uint64_t q;
	uint8_t type;
	int r, ret;

	t->st = TLSDEC_NO_HELLO;
	if (t->nohunt)
		return 0;
	t->stats.hunts++;
	for (i = 0; i < tlskeys_count(t->keys) && i < HUNT_SESSIONS; i++) {
		e = tlskeys_at(t->keys, i);
		for (r = 0; r < 2; r++) {
			size_t l = e->len[sec[r][0]];

			for (j = 0; j < tlscrypt_nsuites; j++) {
				const struct suite_info *si = &tlscrypt_suites[j];

				if (!si->v13 || l != (si->sha384 ? 48u : 32u))
					continue;
				memset(&k, 0, sizeof(k));
				if ((ret = tlscrypt_keyset13(&k, si, e->secret[sec[r][0]]))
				    != 0 || (ret = seq_hunt(t, si, &k, rec, &q, &n,
				    &type)) != 0) {
					tlscrypt_wipe(&k);
					if (ret == E_NOMEM || ret == E_CRYPTO)
						return ret;
					continue;
				}
				/* found: this session, this role */
				t->si = si;
				t->suite = si->id;
				t->version = 0x0304;
				t->client = r == 0 ? side : !side;
				memcpy(t->crandom, e->random, 32);
				tlscrypt_wipe(&s->k[1]);
				s->k[1] = k;
				s->stage = 1;
				s->seq = q + 1;
				if (e->len[sec[r][1]] == l &&
				    (ret = tlscrypt_keyset13(&o->k[1], si,
				    e->secret[sec[r][1]])) != 0)
					return ret;
				o->stage = 1;
				o->hunt = 1;
				t->st = TLSDEC_KEYED;
				t->stats.hunted++;
				t->stats.decrypted++;
				if (type == 23 && n > 0) {
					t->stats.app_bytes += n;
					fn(arg, side, t->out, n);
				}
				return 0;
			}
		}
	}
	return 0;
}

/* Open `rec` at the side's sequence number, or in the window after it
 * when unknown; the content type in *type. */
static int
open_rec(struct tlsdec *t, struct side *s, struct slice rec, size_t *n,
    uint8_t *type)
{
	uint64_t first = s->seq, tries = s->seq_unknown ? TLSDEC_RESYNC_TRY : 1;
	int e = E_AUTH, st;

	if (!t->si->v13) {
		if (s->seq_unknown && t->si->cipher != C_CHACHA &&
		    rec.len >= 5 + 8) {
			first = 0;	/* OpenSSL, NSS: the explicit nonce */
			for (int i = 0; i < 8; i++)
				first = first << 8 | rec.p[5 + i];
			if (tlscrypt_open12(t->si, &s->k[0], rec, first, t->out,
			    n) == 0) {
				s->seq = first + 1;
				goto ok;
			}
			first = s->seq;
		}
		for (uint64_t q = first; q < first + tries; q++)
			if ((e = tlscrypt_open12(t->si, &s->k[0], rec, q, t->out,
			    n)) == 0) {
				s->seq = q + 1;
				goto ok;
			}
		*type = rec.p[0];
		return e;
	}
	if (s->hunt) {		/* no hello: the record number is searched */
		uint64_t q;

		if (!s->k[1].ok ||
		    (e = seq_hunt(t, t->si, &s->k[1], rec, &q, n, type)) != 0)
			return e == E_SYNTAX ? E_AUTH : e;
		s->hunt = 0;
		s->seq = q + 1;
		goto ok13;
	}
	for (st = s->stage; st < 2; st++) {
		if (!s->k[st].ok)
			continue;
		if (st != s->stage)	/* the application keys start at 0 */
			first = 0;
		for (uint64_t q = first; q < first + tries; q++)
			if ((e = tlscrypt_open13(&s->k[st], rec, q, t->out, n,
			    type)) == 0) {
				s->stage = st;
				s->seq = q + 1;
				goto ok13;
			}
	}
	return e;
ok:
	*type = rec.p[0];
ok13:
	s->seq_unknown = 0;
	return 0;
}

static int
record(struct tlsdec *t, int side, struct slice rec, tlsdec_fn fn, void *arg)
{
	struct side *s = &t->s[side];
	uint8_t type = rec.p[0];
	size_t n;
	int e;

	if (t->st == TLSDEC_HELLO) {
		/* the other side's hello has not been read yet (the capture
		 * reordered the directions): wait for it */
		if ((type == 22 && rec.len > 5 && rec.p[5] == 2 &&
		    t->client < 0) || ((type == 23 || type == 20) &&
		    t->client >= 0 && t->version == 0)) {
			s->stalled = 1;
			return 0;
		}
		t->stats.records++;
		if (type == 22)
			return handshake(t, side, slice_make(rec.p + 5,
			    rec.len - 5));
		if (type == 23 && t->client < 0 && t->version == 0)
			return hunt(t, side, rec, fn, arg);
		if (type == 23)
			t->st = TLSDEC_NO_HELLO;
		return 0;
	}
	t->stats.records++;
	if (t->st != TLSDEC_KEYED)
		return 0;
	if (!t->si->v13 && !s->enc) {
		if (type == 20) {	/* ChangeCipherSpec */
			s->enc = 1;
			s->seq = 0;
		}
		return 0;
	}
	if (t->si->v13 && type != 23)
		return 0;	/* clear: CCS for compatibility, a hello */
	if (!s->k[0].ok && !s->k[1].ok) {
		t->stats.nokey++;
		return 0;
	}
	e = open_rec(t, s, rec, &n, &type);
	if (e == E_CRYPTO || e == E_NOMEM)
		return e;
	if (e != 0) {
		t->stats.failed++;
		if (!s->seq_unknown)
			s->seq++;
		if (++s->fails >= TLSDEC_FAIL_MAX)
			s->dead = 1;
		return 0;
	}
	s->fails = 0;
	t->stats.decrypted++;
	if (type == 23 && n > 0) {
		t->stats.app_bytes += n;
		fn(arg, side, t->out, n);
	} else if (type == 22 && t->si->v13) {
		return post_handshake(t, s, t->out, n);
	}
	return 0;
}

/* A record header that may begin a record. */
static int
header_ok(const uint8_t *h)
{
	size_t len = (size_t)h[3] << 8 | h[4];

	return h[0] >= 20 && h[0] <= 24 && h[1] == 3 && h[2] <= 4 &&
	    len <= REC_MAX;
}

/* After a gap: an application data or alert header, TLS 1.2 style. */
static int
header_resync(const uint8_t *h)
{
	size_t len = (size_t)h[3] << 8 | h[4];

	return (h[0] == 23 || h[0] == 21) && h[1] == 3 && h[2] == 3 &&
	    len >= 17 && len <= REC_MAX;
}

/* Drop bytes before the first plausible header; 1 when one is in front. */
static int
scan(struct tlsdec *t, struct side *s)
{
	size_t i;

	for (i = 0; i + 5 <= s->reclen; i++)
		if (header_resync(s->rec + i))
			break;
	if (i + 5 > s->reclen)
		i = s->reclen >= 4 ? s->reclen - 4 : 0;
	memmove(s->rec, s->rec + i, s->reclen - i);
	s->reclen -= i;
	if (s->reclen >= 5 && header_resync(s->rec)) {
		s->resync = 0;
		s->seq_unknown = 1;
		t->stats.resyncs++;
		return 1;
	}
	return 0;
}

/* Hold `n` bytes of a stalled side; too many: the hellos are lost. */
static int
stall_add(struct tlsdec *t, struct side *s, const uint8_t *p, size_t n)
{
	if (n == 0)
		return 0;
	if (s->stalllen + n > STALL_MAX) {
		t->st = TLSDEC_NO_HELLO;
		return 0;
	}
	if (s->stall == NULL && (s->stall = malloc(STALL_MAX)) == NULL)
		return E_NOMEM;
	memcpy(s->stall + s->stalllen, p, n);
	s->stalllen += n;
	return 0;
}

/* A stalled side goes on once the state has moved past what it waited
 * for (the ClientHello, or the ServerHello). */
static int
unstall(struct tlsdec *t, int side)
{
	struct side *s = &t->s[side];
	uint8_t *b;
	size_t n;
	int e;

	if (!s->stalled)
		return 0;
	if (t->st == TLSDEC_HELLO && (t->client < 0 ||
	    (t->client == side && t->version == 0)))
		return 0;	/* still waiting */
	b = s->stall;
	n = s->stalllen;
	s->stall = NULL;
	s->stalllen = 0;
	s->stalled = 0;
	e = tlsdec_feed(t, side, b, n, t->fn, t->arg);
	free(b);
	return e;
}

/* Read what the buffer holds: whole records, or a bad header (resync). */
static int
step(struct tlsdec *t, struct side *s, int side, tlsdec_fn fn, void *arg)
{
	size_t rl;
	int e;

	for (;;) {
		if (t->st > TLSDEC_KEYED || s->dead)
			return 0;
		if (s->resync && !scan(t, s))
			return 0;
		if (s->reclen < 5)
			return 0;
		if (!header_ok(s->rec)) {
			if (t->st == TLSDEC_HELLO) {
				t->st = s->seen ? TLSDEC_NO_HELLO :
				    TLSDEC_NOT_TLS;
				return 0;
			}
			s->resync = 1;
			continue;
		}
		s->seen = 1;
		rl = 5 + ((size_t)s->rec[3] << 8 | s->rec[4]);
		if (s->reclen < rl)
			return 0;
		e = record(t, side, slice_make(s->rec, rl), fn, arg);
		if (s->stalled) {	/* this record and the rest wait */
			e = stall_add(t, s, s->rec, s->reclen);
			s->reclen = 0;
			return e;
		}
		memmove(s->rec, s->rec + rl, s->reclen - rl);
		s->reclen -= rl;
		if (e != 0)
			return e;
		if ((e = unstall(t, !side)) != 0)
			return e;
	}
}

int
tlsdec_feed(struct tlsdec *t, int side, const uint8_t *p, size_t len,
    tlsdec_fn fn, void *arg)
{
	struct side *s;
	size_t n;
	int e;

	if (side < 0 || side > 1)
		return E_INVAL;
	s = &t->s[side];
	t->fn = fn;
	t->arg = arg;
	if (s->stalled)
		return stall_add(t, s, p, len);
	while (len > 0) {
		if (t->st > TLSDEC_KEYED || s->dead)
			return 0;
		if (s->stalled)
			return stall_add(t, s, p, len);
		n = sizeof(s->rec) - s->reclen;
		if (n == 0) {	/* cannot happen: step() leaves < a record */
			s->reclen = 0;
			continue;
		}
		n = n < len ? n : len;
		memcpy(s->rec + s->reclen, p, n);
		s->reclen += n;
		p += n;
		len -= n;
		if ((e = step(t, s, side, fn, arg)) != 0)
			return e;
	}
	return 0;
}

void
tlsdec_no_hunt(struct tlsdec *t)
{
	t->nohunt = 1;
}

void
tlsdec_gap(struct tlsdec *t, int side)
{
	struct side *s;

	if (side < 0 || side > 1)
		return;
	s = &t->s[side];
	if (t->st == TLSDEC_HELLO) {	/* a hello may be what was lost */
		t->st = TLSDEC_NO_HELLO;
		return;
	}
	s->reclen = 0;
	s->resync = 1;
}
