/* dtlscap.c - DTLS-SRTP handshakes seen in a capture, their SRTP keys. */
#include <string.h>

#include <openssl/crypto.h>

#include "base/be.h"
#include "cap/dtlscap.h"
#include "cap/tlsdec.h"

#define REC_HDR 13
#define HS_HDR 12
#define HS_CLIENT_HELLO 1
#define HS_SERVER_HELLO 2
#define EXT_USE_SRTP 14
#define DTLS12 0xfefd

void
dtlscap_init(struct dtlscap_hs *h)
{
	memset(h, 0, sizeof(*h));
	h->client = -1;
}

static int
rec_ok(const uint8_t *p, size_t len)
{
	uint32_t v;

	if (len < REC_HDR || p[0] < 20 || p[0] > 25)
		return 0;
	v = be16(p + 1);
	return (v == 0xfeff || v == DTLS12) && be16(p + 11) <= len - REC_HDR;
}

int
dtlscap_is_dtls(struct slice dgram)
{
	return dgram.len > 0 && dgram.p[0] >= 20 && dgram.p[0] <= 63 &&
	    rec_ok(dgram.p, dgram.len);
}

/* A ClientHello body: its random. */
static int
client_hello(struct dtlscap_hs *h, const uint8_t *b, size_t n, int side)
{
	if (n < 34)
		return 0;
	memcpy(h->crandom, b + 2, 32);
	h->have_crandom = 1;
	h->have_ch = 1;
	h->client = side;
	return 1;
}

/* A ServerHello body: random, suite, use_srtp. */
static int
server_hello(struct dtlscap_hs *h, const uint8_t *b, size_t n)
{
	size_t pos, end, el, sl;
	uint32_t t, pl;

	if (n < 35 || (pos = 35 + (size_t)b[34]) + 3 > n)
		return 0;
	h->version = (uint16_t)be16(b);
	memcpy(h->srandom, b + 2, 32);
	h->suite = (uint16_t)be16(b + pos);
	pos += 3;	/* suite, compression method */
	h->profile = 0;
	h->mki_len = 0;
	h->have_sh = 1;
	if (pos + 2 > n)
		return 1;	/* no extensions */
	end = pos + 2 + be16(b + pos);
	if (end > n)
		end = n;
	for (pos += 2; pos + 4 <= end; pos += 4 + el) {
		t = be16(b + pos);
		el = be16(b + pos + 2);
		if (pos + 4 + el > end)
			break;
		if (t != EXT_USE_SRTP || el < 5)
			continue;
		/* SRTPProtectionProfiles (one chosen), srtp_mki */
		pl = be16(b + pos + 4);
		if (pl < 2 || 2 + pl + 1 > el)
			continue;
		h->profile = (uint16_t)be16(b + pos + 6);
		sl = b[pos + 6 + pl];
		h->mki_len = sl ? sl : 0;
	}
	return 1;
}

/* A handshake fragment (header and `flen` bytes at `f`) from `side`. */
static unsigned
fragment(struct dtlscap_hs *h, int side, const uint8_t *hdr,
    const uint8_t *f, size_t flen)
{
	struct dtlscap_reasm *r = &h->r[side];
	uint8_t type = hdr[0];
	uint32_t len = be24(hdr + 1), seq = be16(hdr + 4);
	uint32_t off = be24(hdr + 6), i;
	unsigned ev = 0;

	if (type != HS_CLIENT_HELLO && type != HS_SERVER_HELLO)
		return 0;
	if (len > DTLSCAP_MSG_MAX || off > len || flen > len - off)
		return 0;
	/* the client random is in the first fragment already */
	if (type == HS_CLIENT_HELLO && off == 0 && flen >= 34 &&
	    (!h->have_crandom || memcmp(h->crandom, f + 2, 32) != 0)) {
		memcpy(h->crandom, f + 2, 32);
		h->have_crandom = 1;
		h->client = side;
		ev |= DTLSCAP_EV_CRANDOM;
	}
	if (r->type != type || r->seq != seq || r->len != len) {
		r->type = type;
		r->seq = (uint16_t)seq;
		r->len = len;
		r->got = 0;
		memset(r->have, 0, (len + 7) / 8);
	}
	if (r->got == len && len > 0)
		return ev;	/* read already: a retransmission */
	for (i = 0; i < flen; i++) {
		uint32_t o = off + i;

		if (r->have[o / 8] & (1u << (o % 8)))
			continue;
		r->have[o / 8] |= (uint8_t)(1u << (o % 8));
		r->buf[o] = f[i];
		r->got++;
	}
	if (r->got != len)
		return ev;
	if (type == HS_CLIENT_HELLO) {
		if (client_hello(h, r->buf, len, side))
			ev |= DTLSCAP_EV_CH;
	} else if (h->client != side && server_hello(h, r->buf, len))
		ev |= DTLSCAP_EV_SH;
	if (len == 0)
		r->type = 0;
	return ev;
}

unsigned
dtlscap_input(struct dtlscap_hs *h, int side, struct slice dgram)
{
	const uint8_t *p = dgram.p;
	size_t n = dgram.len, rl, pos;
	unsigned ev = 0;
	uint32_t fl;

	side = side ? 1 : 0;
	while (n >= REC_HDR && rec_ok(p, n)) {
		rl = be16(p + 11);
		/* epoch 0, a handshake record: in clear */
		if (p[0] == 22 && be16(p + 3) == 0) {
			for (pos = 0; pos + HS_HDR <= rl; pos += HS_HDR + fl) {
				const uint8_t *m = p + REC_HDR + pos;

				fl = be24(m + 9);
				if (fl > rl - pos - HS_HDR)
					break;
				ev |= fragment(h, side, m, m + HS_HDR, fl);
			}
		}
		p += REC_HDR + rl;
		n -= REC_HDR + rl;
	}
	return ev;
}

int
dtlscap_suite_sha384(uint16_t suite)
{
	/* the TLS 1.2 suites whose names end in _SHA384 */
	static const uint16_t s384[] = {
		0x009d, 0x009f, 0x00a1, 0x00a3, 0x00a5, 0x00a7, 0x00a9,
		0x00ab, 0x00ad, 0x00af, 0x00b3, 0x00b7, 0xc024, 0xc026,
		0xc028, 0xc02a, 0xc02c, 0xc02e, 0xc030, 0xc032, 0xc038,
		0xc03b, 0xc03d, 0xc03f, 0xc041, 0xc043, 0xc045, 0xc049,
		0xc04b, 0xc04d, 0xc04f, 0xc051, 0xc053, 0xc055, 0xc057,
		0xc059, 0xc05b, 0xc05d, 0xc05f, 0xc061, 0xc063, 0xc073,
		0xc077, 0xc079, 0xc07b, 0xc07d, 0xc07f, 0xc081, 0xc083,
		0xc085, 0xc087, 0xc089, 0xc08b, 0xc08d, 0xc08f, 0xc091,
		0xc093, 0xc095, 0xc097, 0xc099, 0xc09b, 0xd002,
	};
	size_t i;

	for (i = 0; i < sizeof(s384) / sizeof(s384[0]); i++)
		if (s384[i] == suite)
			return 1;
	return 0;
}

enum suite_id
dtlscap_profile_suite(uint16_t profile)
{
	switch (profile) {	/* RFC 5764 4.1.2, RFC 7714 14.2 */
	case 0x0001: return SUITE_AES_CM_128_HMAC_SHA1_80;
	case 0x0002: return SUITE_AES_CM_128_HMAC_SHA1_32;
	case 0x0007: return SUITE_AEAD_AES_128_GCM;
	case 0x0008: return SUITE_AEAD_AES_256_GCM;
	default: return SUITE_NONE;
	}
}

int
dtlscap_export(int sha384, const uint8_t *master, size_t masterlen,
    const char *label, const uint8_t *crandom, const uint8_t *srandom,
    uint8_t *out, size_t outlen)
{
	uint8_t seed[64];

	memcpy(seed, crandom, 32);
	memcpy(seed + 32, srandom, 32);
	return tlsdec_prf12(sha384, master, masterlen, label,
	    slice_make(seed, sizeof(seed)), out, outlen);
}

int
dtlscap_srtp_keys(const struct dtlscap_hs *h, const uint8_t *master,
    size_t masterlen, struct dtlscap_keys *k)
{
	const struct suite *su;
	uint8_t m[2 * SUITE_MAX_KEY_SALT];
	size_t kl, sl;
	int e;

	memset(k, 0, sizeof(*k));
	if (!h->have_ch || !h->have_sh)
		return E_STATE;
	if (h->version != DTLS12 || h->mki_len != 0 ||
	    (su = suite_by_id(dtlscap_profile_suite(h->profile))) == NULL)
		return E_UNSUPPORTED;
	kl = su->key_len;
	sl = su->salt_len;
	e = dtlscap_export(dtlscap_suite_sha384(h->suite), master, masterlen,
	    "EXTRACTOR-dtls_srtp", h->crandom, h->srandom, m, 2 * (kl + sl));
	if (e != 0) {
		OPENSSL_cleanse(m, sizeof(m));
		return e;
	}
	k->suite = su->id;
	k->key_len = kl;
	k->salt_len = sl;
	memcpy(k->client, m, kl);
	memcpy(k->server, m + kl, kl);
	memcpy(k->client + kl, m + 2 * kl, sl);
	memcpy(k->server + kl, m + 2 * kl + sl, sl);
	OPENSSL_cleanse(m, sizeof(m));
	return 0;
}
