/* test_rtpsec.c - SRTP/SRTCP: RFC vectors, and packet by packet vs libsrtp2. */
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "media/rtpsec.h"
#include "media/rtpsec_ossl.h"
#include "media/suite.h"
#include "../helpers/srtp_ref.h"
#include "t.h"

static size_t
unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	int hi = -1, v;

	for (; *h != '\0'; h++) {
		if (*h >= '0' && *h <= '9')
			v = *h - '0';
		else if (*h >= 'a' && *h <= 'f')
			v = *h - 'a' + 10;
		else if (*h >= 'A' && *h <= 'F')
			v = *h - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

static uint32_t rng_state = 0x12345678;

static uint8_t
rng8(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return (uint8_t)rng_state;
}

static void
rng_fill(uint8_t *p, size_t n)
{
	while (n-- > 0)
		*p++ = rng8();
}

/* ---- RFC vectors ---- */

static void
test_rfc3711_b2(void)
{
	uint8_t key[16], iv[16], want[48], ks[48] = { 0 };
	struct aesctr c;
	int ok;

	unhex("2B7E151628AED2A6ABF7158809CF4F3C", key);
	unhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000", iv);
	unhex("E03EAD0935C95E80E166B16DD92B4EB4"
	    "D23513162B02D0F72A43A2FE4A5F97AB"
	    "41E95B3BB0A2E8DD477901E4FCA894C0", want);
	ok = aesctr_init(&c, key, 16) == 0;
	T_OK(ok && aesctr_xor(&c, iv, ks, 48) == 0 &&
	    memcmp(ks, want, 48) == 0, "RFC 3711 B.2 AES-CM keystream");
	/* The same keystream in uneven pieces (block counter carried). */
	unhex("EC8CDF7398607CB0F2D21675EA9EA1E4"
	    "362B7C3C6773516318A077D7FC5073AE"
	    "6A2CC3787889374FBEB4C81B17BA6C44", want);
	iv[14] = 0xfe;
	iv[15] = 0xff;
	memset(ks, 0, sizeof(ks));
	T_OK(ok && aesctr_xor(&c, iv, ks, 48) == 0 &&
	    memcmp(ks, want, 48) == 0,
	    "RFC 3711 B.2 keystream at counter FEFF..FF01");
	aesctr_wipe(&c);
	/* bad input: a key length AES has not, a context wiped */
	T_EQ_INT(aesctr_init(&c, key, 20), E_KEY, "AES key of 20 bytes refused");
	T_EQ_INT(aesctr_xor(&c, iv, ks, 16), E_CRYPTO,
	    "a context that was not set up encrypts nothing");
	aesctr_wipe(&c);
	T_EQ_INT(aesctr_xor(&c, iv, ks, 16), E_CRYPTO,
	    "nor a wiped one");
	T_OK(rtpsec_kdf(key, 20, iv, 14, 0, ks, 16) == E_KEY,
	    "KDF with a 20-byte master key refused");
}

static void
kdf_case(const char *name, const char *mk, const char *ms, const char *ek,
    const char *ak, const char *es)
{
	uint8_t mkey[32], msalt[14], want[32], got[32];
	size_t klen = unhex(mk, mkey), n;

	unhex(ms, msalt);
	n = unhex(ek, want);
	T_OK(rtpsec_kdf(mkey, klen, msalt, 14, 0, got, n) == 0 &&
	    memcmp(got, want, n) == 0, "%s: cipher key (label 0)", name);
	n = unhex(ak, want);
	T_OK(rtpsec_kdf(mkey, klen, msalt, 14, 1, got, n) == 0 &&
	    memcmp(got, want, n) == 0, "%s: auth key (label 1)", name);
	n = unhex(es, want);
	T_OK(rtpsec_kdf(mkey, klen, msalt, 14, 2, got, n) == 0 &&
	    memcmp(got, want, n) == 0, "%s: salt (label 2)", name);
}

static void
test_kdf(void)
{
	kdf_case("RFC 3711 B.3", "E1F97A0D3E018BE0D64FA32C06DE4139",
	    "0EC675AD498AFEEBB6960B3AABE6", "C61E7A93744F39EE10734AFE3FF7A087",
	    "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4",
	    "30CBBC08863D8C85D49DB34A9AE1");
	kdf_case("RFC 6188 7.2 (AES-256 PRF)",
	    "f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6",
	    "3b04803de51ee7c96423ab5b78d2",
	    "5ba1064e30ec51613cad926c5a28ef731ec7fb397f70a960653caf06554cd8c4",
	    "fd9c32d39ed5fbb5a9dc96b30818454d1313dc05",
	    "fa31791685ca444a9e07c6c64e93");
	kdf_case("RFC 6188 7.4 (AES-192 PRF)",
	    "73edc66c4fa15776fb57f9505c17136550ffda71f3e8e5f1",
	    "c8522f3acd4ce86d5add78edbb11",
	    "31874736a8f1143870c26e4857d8a5b2c4a354407faadabb",
	    "355b10973cd95b9eacf4061c7e1a7151e7cfbfcb",
	    "2372b82d639b6d8503a47adc0a6c");
}

static void
test_rfc7714(void)
{
	static const char *pt = "8040f17b8041f8d35501a0b2"
	    "47616c6c696120657374206f6d6e69732064697669736120696e"
	    "207061727465732074726573";
	struct {
		const char *name, *key, *ct;
		enum suite_cipher cipher;
	} v[] = {
		{ "RFC 7714 16.1.1 AEAD_AES_128_GCM",
		    "000102030405060708090a0b0c0d0e0f",
		    "8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bca"
		    "be633bd50d294e6f42a5f47a51c7d19b36de3adf8833899d7f27beb1"
		    "6a9152cf765ee4390cce", SUITE_CIPHER_AES_GCM_128 },
		{ "RFC 7714 16.2.1 AEAD_AES_256_GCM",
		    "000102030405060708090a0b0c0d0e0f"
		    "101112131415161718191a1b1c1d1e1f",
		    "8040f17b8041f8d35501a0b232b1de78a822fe12ef9f78fa332e33aa"
		    "b18012389a58e2f3b50b2a0276ffae0f1ba63799b87b7aa3db36dfff"
		    "d6b0f9bb7878d7a76c13", SUITE_CIPHER_AES_GCM_256 },
	};
	uint8_t key[32], iv[12], pkt[128], want[128];
	size_t i, plen, wlen;
	EVP_CIPHER_CTX *e, *d;

	/* The vectors' salt is "Quid pro quo"; IV = salt ^ SSRC|ROC|SEQ. */
	unhex("51753c6580c2726f20718414", iv);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		(void)unhex(v[i].key, key);
		plen = unhex(pt, pkt);
		wlen = unhex(v[i].ct, want);
		e = rtpsec_gcm_new(key, v[i].cipher, 1);
		d = rtpsec_gcm_new(key, v[i].cipher, 0);
		T_OK(e != NULL && rtpsec_gcm_seal(e, iv, pkt, 12, NULL, 0,
		    pkt + 12, plen - 12, pkt + plen) == 0 &&
		    plen + 16 == wlen && memcmp(pkt, want, wlen) == 0,
		    "%s: seal", v[i].name);
		T_OK(d != NULL && rtpsec_gcm_open(d, iv, pkt, 12, NULL, 0,
		    pkt + 12, plen - 12, pkt + plen, 1) == 0 &&
		    memcmp(pkt + 12, "Gallia est omnis", 16) == 0,
		    "%s: open", v[i].name);
		memcpy(pkt, want, wlen);
		pkt[20] ^= 1;
		T_OK(d != NULL && rtpsec_gcm_open(d, iv, pkt, 12, NULL, 0,
		    pkt + 12, plen - 12, pkt + plen, 1) == E_AUTH &&
		    pkt[20] == (want[20] ^ 1) &&
		    memcmp(pkt + 21, want + 21, wlen - 21) == 0,
		    "%s: forged packet rejected and left as it was",
		    v[i].name);
		EVP_CIPHER_CTX_free(e);
		EVP_CIPHER_CTX_free(d);
	}
}

/* libsrtp's own AES-256 known answer (srtp_validate_aes_256). */
static void
test_aes256_kat(void)
{
	uint8_t ks[46], pkt[64], want[64];
	size_t len, wlen;
	struct rtpsec_params p = { 0 };
	struct rtpsec *tx, *rx;
	int err = 0;

	unhex("f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6"
	    "3b04803de51ee7c96423ab5b78d2", ks);
	len = unhex("800f1234decafbadcafebabe"
	    "abababababababababababababababab", pkt);
	wlen = unhex("800f1234decafbadcafebabef1d9de17ff251ff1aa007774"
	    "b0b4b40da08d9d9a5b3a55d8873b", want);
	p.suite = SUITE_AES_256_CM_HMAC_SHA1_80;
	p.key = ks;
	p.key_len = 32;
	p.salt = ks + 32;
	p.salt_len = 14;
	tx = rtpsec_new(&p, RTPSEC_PROTECT, &err);
	rx = rtpsec_new(&p, RTPSEC_UNPROTECT, &err);
	T_OK(tx != NULL && rx != NULL, "AES-256 contexts");
	if (tx == NULL || rx == NULL)
		return;
	T_OK(rtpsec_protect(tx, pkt, &len, sizeof(pkt)) == 0 &&
	    len == wlen && memcmp(pkt, want, wlen) == 0,
	    "AES_256_CM_HMAC_SHA1_80 known answer (libsrtp's)");
	T_OK(rtpsec_unprotect(rx, pkt, &len) == 0 && len == 28 &&
	    pkt[27] == 0xab, "and back");
	rtpsec_free(tx);
	rtpsec_free(rx);
}

/* ---- packet by packet against stock libsrtp2 ---- */

struct pair {
	struct rtpsec *tx, *rx;
	struct srtp_ref rtx, rrx;
};

static int
pair_new(struct pair *pr, const struct rtpsec_params *p)
{
	int err = 0;

	memset(pr, 0, sizeof(*pr));
	pr->tx = rtpsec_new(p, RTPSEC_PROTECT, &err);
	pr->rx = rtpsec_new(p, RTPSEC_UNPROTECT, &err);
	if (pr->tx == NULL || pr->rx == NULL)
		return err != 0 ? err : -1;
	if (srtp_ref_new(&pr->rtx, p, RTPSEC_PROTECT) != 0 ||
	    srtp_ref_new(&pr->rrx, p, RTPSEC_UNPROTECT) != 0)
		return 1;
	return 0;
}

static void
pair_free(struct pair *pr)
{
	rtpsec_free(pr->tx);
	rtpsec_free(pr->rx);
	srtp_ref_free(&pr->rtx);
	srtp_ref_free(&pr->rrx);
}

static size_t
make_rtp(uint8_t *p, uint16_t seq, uint32_t ssrc, size_t payload, int fancy)
{
	size_t n = 12;

	p[0] = 0x80;
	p[1] = 0x00;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	memset(p + 4, 0, 4);
	p[7] = (uint8_t)seq;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
	if (fancy) {		/* two CSRCs and a one-word extension */
		p[0] |= 0x12;
		rng_fill(p + n, 8);
		n += 8;
		p[n] = 0xbe;
		p[n + 1] = 0xde;
		p[n + 2] = 0;
		p[n + 3] = 1;
		rng_fill(p + n + 4, 4);
		n += 8;
	}
	rng_fill(p + n, payload);
	return n + payload;
}

static size_t
make_rtcp(uint8_t *p, uint32_t ssrc, size_t extra)
{
	size_t n = 8 + 20 + extra;

	p[0] = 0x80;
	p[1] = 200;
	p[2] = 0;
	p[3] = (uint8_t)((n / 4) - 1);
	p[4] = (uint8_t)(ssrc >> 24);
	p[5] = (uint8_t)(ssrc >> 16);
	p[6] = (uint8_t)(ssrc >> 8);
	p[7] = (uint8_t)ssrc;
	rng_fill(p + 8, n - 8);
	return n;
}

/*
 * Protect `pkt` with both; outputs must be identical. Then each receiver
 * unprotects a copy; both must give the original back. Returns 0 if all
 * held.
 */
static int
round_trip(struct pair *pr, const uint8_t *pkt, size_t len, int rtcp,
    uint8_t *sent, size_t *sent_len, int ref_rx_broken)
{
	uint8_t a[2048], b[2048];
	size_t la = len, lb = len;
	int ra, rb;

	memcpy(a, pkt, len);
	memcpy(b, pkt, len);
	ra = rtcp ? rtpsec_protect_rtcp(pr->tx, a, &la, sizeof(a)) :
	    rtpsec_protect(pr->tx, a, &la, sizeof(a));
	rb = srtp_ref_protect(&pr->rtx, b, &lb, rtcp);
	if (ra != 0 || rb != 0) {
		printf("# protect: ours %d, libsrtp %d\n", ra, rb);
		return -1;
	}
	if (la != lb || memcmp(a, b, la) != 0) {
		printf("# protect output differs (len %zu vs %zu)\n", la, lb);
		return -1;
	}
	memcpy(sent, a, la);
	*sent_len = la;
	/* libsrtp's receiver gets our packet, ours gets libsrtp's. */
	ra = rtcp ? rtpsec_unprotect_rtcp(pr->rx, b, &lb) :
	    rtpsec_unprotect(pr->rx, b, &lb);
	rb = ref_rx_broken ? 0 : srtp_ref_unprotect(&pr->rrx, a, &la, rtcp);
	if (ref_rx_broken)
		la = lb;
	if (ra != 0 || rb != 0) {
		printf("# unprotect: ours %d, libsrtp %d\n", ra, rb);
		return -1;
	}
	if (la != len || lb != len ||
	    (!ref_rx_broken && memcmp(a, pkt, len) != 0) ||
	    memcmp(b, pkt, len) != 0) {
		printf("# unprotect output differs\n");
		return -1;
	}
	return 0;
}

static void
compare_suite(enum suite_id id, unsigned flags, int use_mki)
{
	const struct suite *su = suite_by_id(id);
	static const size_t sizes[] = { 160, 0, 1, 15, 16, 17, 33, 1200 };
	uint8_t key[32], salt[14], mki[4] = { 0xde, 0xad, 0x00, 0x01 };
	uint8_t pkt[2048], sent[2048], copy[2048];
	struct rtpsec_params p = { 0 };
	struct pair pr;
	char name[160];
	size_t len, slen, i, bad = 0, nrtp = 0;
	uint32_t roc_tx = 9, roc_rx = 9;
	uint16_t seq = 65530;
	int r, rr, auth = !(flags & RTPSEC_UNAUTHENTICATED_SRTP);
	/*
	 * libsrtp 2.5 cannot read its own SRTCP with an MKI when the SRTP
	 * tag is shorter than the SRTCP one (_32 suites): it looks for the
	 * MKI before a 4-byte tag. We still compare what both send.
	 */
	int rtcp_broken = use_mki && su->srtp_tag_len != su->srtcp_tag_len;

	snprintf(name, sizeof(name), "%s%s%s%s%s", su->name,
	    use_mki ? " MKI" : "",
	    (flags & RTPSEC_UNENCRYPTED_SRTP) ? " UNENCRYPTED_SRTP" : "",
	    (flags & RTPSEC_UNENCRYPTED_SRTCP) ? " UNENCRYPTED_SRTCP" : "",
	    (flags & RTPSEC_UNAUTHENTICATED_SRTP) ?
	    " UNAUTHENTICATED_SRTP" : "");
	rng_fill(key, sizeof(key));
	rng_fill(salt, sizeof(salt));
	p.suite = id;
	p.key = key;
	p.key_len = su->key_len;
	p.salt = salt;
	p.salt_len = su->salt_len;
	p.flags = flags;
	if (use_mki) {
		p.mki = mki;
		p.mki_len = sizeof(mki);
	}
	r = pair_new(&pr, &p);
	if (r > 0) {
		printf("ok %d - %s # skip libsrtp2 lacks it\n", ++t_n, name);
		pair_free(&pr);
		return;
	}
	if (!T_OK(r == 0, "%s: contexts", name)) {
		pair_free(&pr);
		return;
	}

	/* RTP: two SSRCs, sequence wrap, odd sizes, CSRC + extension. */
	for (i = 0; i < 24; i++) {
		uint32_t ssrc = (i & 1) ? 0x11223344 : 0xcafebabe;

		if (i & 1)
			seq++;
		len = make_rtp(pkt, (uint16_t)(seq + (i & 1 ? 1000 : 0)), ssrc,
		    sizes[i % 8], (i % 5) == 3);
		if (round_trip(&pr, pkt, len, 0, sent, &slen, 0) != 0)
			bad++;
		nrtp++;
	}
	T_OK(bad == 0, "%s: %zu SRTP packets identical to libsrtp2, both "
	    "ways, across a sequence wrap", name, nrtp);
	r = rtpsec_get_roc(pr.tx, 0xcafebabe, &roc_tx);
	rr = rtpsec_get_roc(pr.rx, 0xcafebabe, &roc_rx);
	T_OK(r == 0 && roc_tx == 1 && rr == 0 && roc_rx == 1,
	    "%s: ROC incremented at the wrap (tx %u, rx %u)", name,
	    (unsigned)roc_tx, (unsigned)roc_rx);

	/* Replay of the last SRTP packet. */
	memcpy(copy, sent, slen);
	len = slen;
	r = rtpsec_unprotect(pr.rx, copy, &len);
	len = slen;
	memcpy(pkt, sent, slen);
	rr = srtp_ref_unprotect(&pr.rrx, pkt, &len, 0);
	T_OK(r == E_REPLAY && rr == srtp_err_status_replay_fail &&
	    memcmp(copy, sent, slen) == 0, "%s: SRTP replay rejected "
	    "(ours %d, libsrtp %d)", name, r, rr);

	/* A tampered packet. */
	len = make_rtp(pkt, (uint16_t)(seq + 5), 0xcafebabe, 160, 0);
	if (round_trip(&pr, pkt, len, 0, sent, &slen, 0) != 0)
		bad++;
	len = make_rtp(pkt, (uint16_t)(seq + 6), 0xcafebabe, 160, 0);
	slen = len;
	T_OK(rtpsec_protect(pr.tx, pkt, &slen, sizeof(pkt)) == 0, "%s: protect",
	    name);
	pkt[20] ^= 0x40;
	memcpy(copy, pkt, slen);
	len = slen;
	r = rtpsec_unprotect(pr.rx, copy, &len);
	if (auth)
		T_OK(r == E_AUTH && memcmp(copy, pkt, slen) == 0,
		    "%s: tampered SRTP packet: E_AUTH, packet untouched (%d)",
		    name, r);
	else
		T_OK(r == 0, "%s: no tag, so tampering goes unnoticed", name);
	len = slen;
	pkt[20] ^= 0x40;
	/* The untampered one still gets through afterwards. */
	if (auth)
		T_OK(rtpsec_unprotect(pr.rx, pkt, &len) == 0,
		    "%s: the genuine packet still passes after a forgery",
		    name);

	/* SRTCP. */
	bad = 0;
	for (i = 0; i < 8; i++) {
		len = make_rtcp(pkt, (i & 1) ? 0x11223344 : 0xcafebabe,
		    4 * i + (i == 5 ? 1000 : 0));
		if (round_trip(&pr, pkt, len, 1, sent, &slen, rtcp_broken) != 0)
			bad++;
	}
	T_OK(bad == 0, "%s: SRTCP packets identical to libsrtp2, %s", name,
	    rtcp_broken ? "libsrtp's receiver skipped (its MKI bug)" :
	    "both ways");
	memcpy(copy, sent, slen);
	len = slen;
	r = rtpsec_unprotect_rtcp(pr.rx, copy, &len);
	T_OK(r == E_REPLAY && memcmp(copy, sent, slen) == 0,
	    "%s: SRTCP replay rejected (%d)", name, r);
	len = make_rtcp(pkt, 0xcafebabe, 12);
	slen = len;
	T_OK(rtpsec_protect_rtcp(pr.tx, pkt, &slen, sizeof(pkt)) == 0,
	    "%s: protect rtcp", name);
	pkt[9] ^= 1;
	memcpy(copy, pkt, slen);
	len = slen;
	r = rtpsec_unprotect_rtcp(pr.rx, copy, &len);
	memcpy(sent, pkt, slen);
	len = slen;
	rr = srtp_ref_unprotect(&pr.rrx, sent, &len, 1);
	T_OK(r == E_AUTH && memcmp(copy, pkt, slen) == 0 &&
	    (rr != 0 || rtcp_broken),
	    "%s: tampered SRTCP rejected by both (ours %d, libsrtp %d)", name,
	    r, rr);
	pair_free(&pr);
}

/*
 * Which AES-192 key derivation does this libsrtp2 do? Returns
 * RTPSEC_LIBSRTP_AES192_KDF (<= 2.6), 0 (RFC 6188, later ones) or -1.
 */
static int
libsrtp_aes192_kdf(void)
{
	static const unsigned try[] = { RTPSEC_LIBSRTP_AES192_KDF, 0 };
	uint8_t key[24] = { 1, 2, 3 }, salt[14] = { 4, 5, 6 };
	uint8_t a[64], b[64];
	struct rtpsec_params p = { 0 };
	struct srtp_ref ref;
	struct rtpsec *tx;
	size_t la, lb, i;
	int found = -1;

	p.suite = SUITE_AES_192_CM_HMAC_SHA1_80;
	p.key = key;
	p.key_len = 24;
	p.salt = salt;
	p.salt_len = 14;
	for (i = 0; i < 2 && found < 0; i++) {
		p.flags = try[i];
		if (srtp_ref_new(&ref, &p, RTPSEC_PROTECT) != 0)
			return -1;
		tx = rtpsec_new(&p, RTPSEC_PROTECT, NULL);
		la = lb = make_rtp(a, 7, 7, 20, 0);
		memcpy(b, a, la);
		if (tx != NULL && rtpsec_protect(tx, a, &la, sizeof(a)) == 0 &&
		    srtp_ref_protect(&ref, b, &lb, 0) == 0 && la == lb &&
		    memcmp(a, b, la) == 0)
			found = (int)try[i];
		rtpsec_free(tx);
		srtp_ref_free(&ref);
	}
	return found;
}

static void
test_compare(void)
{
	enum suite_id id;
	int k192 = libsrtp_aes192_kdf();

	T_OK(k192 >= 0, "libsrtp2's AES-192 key derivation is one we know (%s)",
	    k192 > 0 ? "libsrtp <= 2.6, RTPSEC_LIBSRTP_AES192_KDF" :
	    "RFC 6188");

	for (id = SUITE_AES_CM_128_HMAC_SHA1_80; id < SUITE_COUNT; id++) {
		const struct suite *su = suite_by_id(id);
		unsigned f = su->key_len == 24 && k192 > 0 ? (unsigned)k192 : 0;

		compare_suite(id, f, 0);
		compare_suite(id, f, 1);
		compare_suite(id, f | RTPSEC_UNENCRYPTED_SRTCP, 0);
		if (!su->aead) {
			compare_suite(id, f | RTPSEC_UNENCRYPTED_SRTP, 0);
			compare_suite(id, f | RTPSEC_UNAUTHENTICATED_SRTP, 0);
		}
	}
}

/*
 * Several master keys told apart by MKI (RFC 4568 multi-key lines): what
 * we send with key i is what libsrtp sends with srtp_protect_mki(..., i),
 * each receiver takes the key the MKI names, a lifetime moves the sender
 * to the next key, and the per-SSRC state (ROC) is shared by all keys.
 */
static void
multi_key_suite(enum suite_id id)
{
	const struct suite *su = suite_by_id(id);
	uint8_t key[3][32], salt[3][14], mki[3][4] = { { 0, 0, 0, 1 },
		{ 0, 0, 0, 2 }, { 0x80, 0, 0, 3 } };
	uint8_t pkt[2048], sent[2048], copy[2048];
	struct rtpsec_key more[2];
	struct rtpsec_params p = { 0 };
	struct pair pr;
	size_t len, slen, i;
	uint16_t seq = 65533;
	int bad = 0, r;
	int rtcp_broken = su->srtp_tag_len != su->srtcp_tag_len;

	for (i = 0; i < 3; i++) {
		rng_fill(key[i], sizeof(key[i]));
		rng_fill(salt[i], sizeof(salt[i]));
	}
	p.suite = id;
	p.key = key[0];
	p.key_len = su->key_len;
	p.salt = salt[0];
	p.salt_len = su->salt_len;
	p.mki = mki[0];
	p.mki_len = 4;
	p.lifetime = 6;
	for (i = 0; i < 2; i++) {
		more[i].key = key[i + 1];
		more[i].salt = salt[i + 1];
		more[i].mki = mki[i + 1];
		more[i].lifetime = 0;
	}
	p.more = more;
	p.nmore = 2;
	r = pair_new(&pr, &p);
	if (!T_OK(r == 0, "%s 3 keys: contexts (%d)", su->name, r)) {
		pair_free(&pr);
		return;
	}
	T_OK(rtpsec_nkeys(pr.tx) == 3 && rtpsec_key_in_use(pr.tx) == 0,
	    "%s 3 keys: key 0 first", su->name);
	/* key 0: 4 RTP + 2 RTCP packets, its lifetime of 6 */
	for (i = 0; i < 6; i++) {
		if (i < 4)
			len = make_rtp(pkt, seq++, 0xcafebabe, 160, 0);
		else
			len = make_rtcp(pkt, 0xcafebabe, 8);
		if (round_trip(&pr, pkt, len, i >= 4, sent, &slen,
		    i >= 4 && rtcp_broken) != 0)
			bad++;
	}
	T_OK(bad == 0 && memcmp(sent + slen - 4 - (su->aead ? 0 :
	    su->srtcp_tag_len), mki[0], 4) == 0, "%s 3 keys: key 0 (MKI 1) packets identical "
	    "to libsrtp2's, both ways", su->name);
	/* its lifetime is over: key 1, across the sequence wrap */
	pr.rtx.mki_index = 1;
	for (i = 0; i < 4; i++) {
		len = make_rtp(pkt, seq++, 0xcafebabe, 100 + i, i == 2);
		if (round_trip(&pr, pkt, len, 0, sent, &slen, 0) != 0)
			bad++;
	}
	T_OK(bad == 0 && rtpsec_key_in_use(pr.tx) == 1,
	    "%s 3 keys: after key 0's lifetime, key 1 (as libsrtp's "
	    "mki_index 1), across the wrap", su->name);
	T_OK(rtpsec_get_roc(pr.rx, 0xcafebabe, (uint32_t[]){ 0 }) == 0,
	    "%s 3 keys: one SSRC state for all keys", su->name);
	/* chosen explicitly: key 2, RTP and RTCP */
	T_EQ_INT(rtpsec_use_key(pr.tx, 2), 0, "use_key 2");
	T_EQ_INT(rtpsec_use_key(pr.tx, 3), E_RANGE, "use_key 3: E_RANGE");
	T_EQ_INT(rtpsec_use_key(pr.rx, 0), E_STATE, "use_key on rx: E_STATE");
	pr.rtx.mki_index = 2;
	len = make_rtp(pkt, seq++, 0x11223344, 160, 0);
	bad += round_trip(&pr, pkt, len, 0, sent, &slen, 0) != 0;
	len = make_rtcp(pkt, 0x11223344, 16);
	bad += round_trip(&pr, pkt, len, 1, sent, &slen, rtcp_broken) != 0;
	T_OK(bad == 0, "%s 3 keys: key 2 (MKI 0x80000003) RTP and RTCP "
	    "identical to libsrtp2's", su->name);
	/* back to key 0, which is spent: key 1 is taken */
	T_EQ_INT(rtpsec_use_key(pr.tx, 0), 0, "use_key 0");
	pr.rtx.mki_index = 1;
	len = make_rtp(pkt, seq++, 0xcafebabe, 160, 0);
	bad += round_trip(&pr, pkt, len, 0, sent, &slen, 0) != 0;
	T_OK(bad == 0 && rtpsec_key_in_use(pr.tx) == 1,
	    "%s 3 keys: a spent key is skipped", su->name);
	/* an MKI we do not have: E_NOTFOUND, nothing changed */
	len = make_rtp(pkt, seq++, 0xcafebabe, 160, 0);
	slen = len;
	T_OK(rtpsec_protect(pr.tx, pkt, &slen, sizeof(pkt)) == 0, "protect");
	pkt[su->aead ? slen - 1 : slen - su->srtp_tag_len - 1] = 9;
	memcpy(copy, pkt, slen);
	len = slen;
	T_OK(rtpsec_unprotect(pr.rx, copy, &len) == E_NOTFOUND &&
	    len == slen && memcmp(copy, pkt, slen) == 0,
	    "%s 3 keys: unknown MKI: E_NOTFOUND, packet untouched", su->name);
	pair_free(&pr);
}

static void
test_multi_key(void)
{
	static const enum suite_id ids[] = { SUITE_AES_CM_128_HMAC_SHA1_80,
		SUITE_AES_CM_128_HMAC_SHA1_32, SUITE_AES_256_CM_HMAC_SHA1_80,
		SUITE_AEAD_AES_128_GCM, SUITE_AEAD_AES_256_GCM };
	uint8_t key[16] = { 1 }, key2[16] = { 3 }, salt[14] = { 2 }, pkt[256];
	uint8_t mki0[2] = { 0, 1 }, mki1[2] = { 0, 2 };
	struct rtpsec_key more[RTPSEC_MAX_KEYS];
	struct rtpsec_params p = { 0 }, q;
	struct rtpsec *tx;
	size_t len, i;
	int err = 0, ok = 1;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		multi_key_suite(ids[i]);

	p.suite = SUITE_AES_CM_128_HMAC_SHA1_80;
	p.key = key;
	p.key_len = 16;
	p.salt = salt;
	p.salt_len = 14;
	p.lifetime = 2;
	/* one key with a lifetime: then E_LIMIT, nothing sent */
	tx = rtpsec_new(&p, RTPSEC_PROTECT, NULL);
	for (i = 0; i < 2; i++) {
		len = make_rtp(pkt, (uint16_t)i, 1, 20, 0);
		ok &= rtpsec_protect(tx, pkt, &len, sizeof(pkt)) == 0;
	}
	len = make_rtp(pkt, 2, 1, 20, 0);
	T_OK(ok && rtpsec_protect(tx, pkt, &len, sizeof(pkt)) == E_LIMIT &&
	    len == 32 && rtpsec_protect_rtcp(tx, pkt, &len, sizeof(pkt)) ==
	    E_LIMIT, "lifetime 2: the third packet is E_LIMIT");
	T_OK(rtpsec_same_params(tx, &p) == 1 && rtpsec_same_params(NULL, &p)
	    == 0, "same_params: the same parameters");
	q = p;
	q.lifetime = 3;
	T_EQ_INT(rtpsec_same_params(tx, &q), 0, "same_params: lifetime");
	rtpsec_free(tx);

	/* a second key changes the parameters; so does its key */
	p.lifetime = 0;
	p.mki = mki0;
	p.mki_len = 2;
	more[0].key = key2;
	more[0].salt = salt;
	more[0].mki = mki1;
	more[0].lifetime = 0;
	p.more = more;
	p.nmore = 1;
	tx = rtpsec_new(&p, RTPSEC_PROTECT, &err);
	q = p;
	q.nmore = 0;
	T_OK(tx != NULL && rtpsec_same_params(tx, &p) == 1 &&
	    rtpsec_same_params(tx, &q) == 0, "same_params: key 1 counts");
	more[0].key = key;
	T_EQ_INT(rtpsec_same_params(tx, &p), 0, "same_params: key 1's key");
	rtpsec_free(tx);

	/* what cannot be */
	more[0].mki = mki0;
	T_OK(rtpsec_new(&p, RTPSEC_UNPROTECT, &err) == NULL && err == E_KEY,
	    "two keys with one MKI: E_KEY");
	more[0].mki = mki1;
	p.mki_len = 0;
	p.mki = NULL;
	T_OK(rtpsec_new(&p, RTPSEC_UNPROTECT, &err) == NULL && err == E_KEY,
	    "two keys without MKIs: E_KEY");
	p.mki = mki0;
	p.mki_len = 1;
	for (i = 0; i < RTPSEC_MAX_KEYS; i++) {
		more[i] = more[0];
		more[i].mki = (const uint8_t *)"\x01\x02\x03\x04\x05\x06\x07"
		    "\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10" + i;
	}
	p.nmore = RTPSEC_MAX_KEYS - 1;
	tx = rtpsec_new(&p, RTPSEC_UNPROTECT, &err);
	T_OK(tx != NULL && rtpsec_nkeys(tx) == RTPSEC_MAX_KEYS,
	    "%d keys", RTPSEC_MAX_KEYS);
	rtpsec_free(tx);
	p.nmore = RTPSEC_MAX_KEYS;
	T_OK(rtpsec_new(&p, RTPSEC_UNPROTECT, &err) == NULL && err == E_KEY,
	    "%d keys: E_KEY", RTPSEC_MAX_KEYS + 1);
}

/* ---- ROC control, failure semantics, errors ---- */

static void
test_roc(void)
{
	uint8_t key[16], salt[14], pkt[256], copy[256];
	struct rtpsec_params p = { 0 };
	struct rtpsec *tx, *rx;
	size_t len, slen;
	uint32_t roc = 7;
	int i, ok = 1;

	rng_fill(key, sizeof(key));
	rng_fill(salt, sizeof(salt));
	p.suite = SUITE_AES_CM_128_HMAC_SHA1_80;
	p.key = key;
	p.key_len = 16;
	p.salt = salt;
	p.salt_len = 14;
	tx = rtpsec_new(&p, RTPSEC_PROTECT, NULL);
	rx = rtpsec_new(&p, RTPSEC_UNPROTECT, NULL);
	if (!T_OK(tx != NULL && rx != NULL, "ROC: contexts"))
		return;
	/* The sender runs from ROC 0 into ROC 1 ... */
	for (i = 0; i < 10; i++) {
		len = make_rtp(pkt, (uint16_t)(65530 + i), 0xabcdef01, 40, 0);
		ok &= rtpsec_protect(tx, pkt, &len, sizeof(pkt)) == 0;
	}
	/* ... and the capture starts here, at ROC 1, seq 4. */
	len = make_rtp(pkt, 4, 0xabcdef01, 40, 0);
	ok &= rtpsec_protect(tx, pkt, &len, sizeof(pkt)) == 0;
	T_OK(ok, "ROC: sender crosses the wrap");
	slen = len;
	memcpy(copy, pkt, len);
	T_EQ_INT(rtpsec_unprotect(rx, copy, &len), E_AUTH,
	    "ROC: a receiver that guesses ROC 0 fails");
	T_OK(len == slen && memcmp(copy, pkt, slen) == 0 &&
	    rtpsec_get_roc(rx, 0xabcdef01, &roc) == E_NOTFOUND,
	    "ROC: ... and neither the packet nor the state changed");
	T_EQ_INT(rtpsec_check_roc(rx, pkt, slen, 0), E_AUTH, "check_roc 0");
	T_EQ_INT(rtpsec_check_roc(rx, pkt, slen, 1), 0, "check_roc 1");
	T_OK(memcmp(copy, pkt, slen) == 0, "check_roc reads only");
	T_EQ_INT(rtpsec_set_roc(rx, 0xabcdef01, 1), 0, "set_roc");
	T_OK(rtpsec_get_roc(rx, 0xabcdef01, &roc) == 0 && roc == 1,
	    "get_roc after set_roc");
	T_EQ_INT(rtpsec_unprotect(rx, copy, &len), 0,
	    "ROC: unprotect with the ROC set");
	for (i = 5; i < 8; i++) {
		len = make_rtp(pkt, (uint16_t)i, 0xabcdef01, 40, 0);
		ok &= rtpsec_protect(tx, pkt, &len, sizeof(pkt)) == 0 &&
		    rtpsec_unprotect(rx, pkt, &len) == 0;
	}
	T_OK(ok && rtpsec_get_roc(rx, 0xabcdef01, &roc) == 0 && roc == 1,
	    "ROC: later packets estimated from the ROC set");
	rtpsec_free(tx);
	rtpsec_free(rx);
}

static void
test_errors(void)
{
	uint8_t key[32] = { 1 }, salt[14] = { 2 }, pkt[256], mki[2] = { 0, 1 };
	struct rtpsec_params p = { 0 };
	struct rtpsec *tx, *rx, *rx2;
	size_t len;
	uint32_t roc;
	int err = 0;

	p.suite = SUITE_AES_CM_128_HMAC_SHA1_80;
	p.key = key;
	p.key_len = 15;
	p.salt = salt;
	p.salt_len = 14;
	T_OK(rtpsec_new(&p, RTPSEC_PROTECT, &err) == NULL && err == E_KEY,
	    "short key: E_KEY");
	p.key_len = 16;
	p.suite = SUITE_AEAD_AES_128_GCM;
	p.salt_len = 12;
	p.flags = RTPSEC_UNENCRYPTED_SRTP;
	T_OK(rtpsec_new(&p, RTPSEC_PROTECT, &err) == NULL &&
	    err == E_UNSUPPORTED, "GCM + UNENCRYPTED_SRTP: E_UNSUPPORTED");
	p.flags = 0;
	p.suite = SUITE_AES_CM_128_HMAC_SHA1_80;
	p.salt_len = 14;
	p.max_ssrcs = 2;
	p.mki = mki;
	p.mki_len = 2;
	tx = rtpsec_new(&p, RTPSEC_PROTECT, &err);
	rx = rtpsec_new(&p, RTPSEC_UNPROTECT, &err);
	mki[1] = 2;
	rx2 = rtpsec_new(&p, RTPSEC_UNPROTECT, &err);
	if (!T_OK(tx && rx && rx2, "contexts"))
		return;
	T_EQ_INT(rtpsec_overhead(tx, 0), 12, "overhead RTP: tag 10 + MKI 2");
	T_EQ_INT(rtpsec_overhead(tx, 1), 16, "overhead RTCP: 10 + 4 + 2");

	len = 11;
	T_EQ_INT(rtpsec_protect(tx, pkt, &len, sizeof(pkt)), E_SHORT,
	    "11 bytes: E_SHORT");
	len = make_rtp(pkt, 1, 1, 20, 0);
	pkt[0] = 0x40;
	T_EQ_INT(rtpsec_protect(tx, pkt, &len, sizeof(pkt)), E_SYNTAX,
	    "version 1: E_SYNTAX");
	pkt[0] = 0x8f;		/* 15 CSRCs, 60 bytes, in a 32-byte packet */
	T_EQ_INT(rtpsec_protect(tx, pkt, &len, sizeof(pkt)), E_SHORT,
	    "CSRC count beyond the packet: E_SHORT");
	len = make_rtp(pkt, 1, 1, 20, 0);
	T_EQ_INT(rtpsec_protect(tx, pkt, &len, len + 11), E_BIG,
	    "no room for the tag: E_BIG");
	T_EQ_INT(rtpsec_unprotect(tx, pkt, &len), E_STATE,
	    "unprotect on a protect context: E_STATE");
	T_EQ_INT(rtpsec_protect(tx, pkt, &len, sizeof(pkt)), 0, "protect");
	T_EQ_INT(rtpsec_unprotect(rx2, pkt, &len), E_NOTFOUND,
	    "another MKI: E_NOTFOUND");
	T_EQ_INT(rtpsec_unprotect(rx, pkt, &len), 0, "the right MKI");
	len = 20;
	T_EQ_INT(rtpsec_unprotect(rx, pkt, &len), E_SHORT,
	    "shorter than header + MKI + tag: E_SHORT");
	len = 12;
	T_EQ_INT(rtpsec_unprotect_rtcp(rx, pkt, &len), E_SHORT,
	    "SRTCP too short: E_SHORT");

	/* Three SSRCs in a context for two: the oldest is dropped. */
	len = make_rtp(pkt, 1, 100, 20, 0);
	T_EQ_INT(rtpsec_protect(tx, pkt, &len, sizeof(pkt)), 0, "ssrc 100");
	len = make_rtp(pkt, 1, 200, 20, 0);
	T_EQ_INT(rtpsec_protect(tx, pkt, &len, sizeof(pkt)), 0, "ssrc 200");
	len = make_rtp(pkt, 1, 300, 20, 0);
	T_EQ_INT(rtpsec_protect(tx, pkt, &len, sizeof(pkt)), 0, "ssrc 300");
	T_OK(rtpsec_get_roc(tx, 300, &roc) == 0 &&
	    rtpsec_get_roc(tx, 200, &roc) == 0 &&
	    rtpsec_get_roc(tx, 1, &roc) == E_NOTFOUND,
	    "LRU: SSRC 1 (least recently used) made room");
	T_EQ_INT(rtpsec_forget(tx, 200), 0, "forget");
	T_EQ_INT(rtpsec_forget(tx, 200), E_NOTFOUND, "forget twice");
	len = make_rtp(pkt, 1, 300, 20, 0);
	T_EQ_INT(rtpsec_protect(tx, pkt, &len, sizeof(pkt)), E_REPLAY,
	    "protecting the same index twice: E_REPLAY (as libsrtp)");
	rtpsec_free(tx);
	rtpsec_free(rx);
	rtpsec_free(rx2);
	rtpsec_free(NULL);
}

int
main(void)
{
	int ni = aesctr_use_ni(-1);

	printf("# AES-CM on %s\n", ni ? "AES-NI" : "OpenSSL EVP");
	test_rfc3711_b2();
	test_kdf();
	test_rfc7714();
	test_aes256_kat();
	test_compare();
	test_multi_key();
	test_roc();
	test_errors();
	if (ni) {
		/* the vectors and libsrtp2's bytes again, on the other path */
		printf("# AES-CM on OpenSSL EVP\n");
		aesctr_use_ni(0);
		T_EQ_INT(aesctr_use_ni(-1), 0, "AES-NI can be turned off");
		test_rfc3711_b2();
		test_kdf();
		test_aes256_kat();
		test_compare();
		aesctr_use_ni(1);
	}
	return t_done();
}
