/* rtpsec_ossl.c - SRTP KDF, HMAC-SHA1 and AES-GCM on OpenSSL, for rtpsec. */

/*
 * SHA1_Init/SHA1_Update/SHA1_Final are deprecated in OpenSSL 3 but are the
 * only way to reuse a precomputed HMAC state without an allocation: a
 * SHA_CTX is a plain struct that can be copied, whereas EVP_MD_CTX_copy()
 * and EVP_MAC_CTX_dup() allocate (measured: ~0.2 us per 172-byte packet
 * here against ~0.45 us for EVP_MAC re-init and ~0.9 us for EVP_MAC dup).
 * AES-CM is lib/media/aesctr.c.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <string.h>

#include <openssl/crypto.h>

#include "media/rtpsec_ossl.h"

int
rtpsec_kdf(const uint8_t *mkey, size_t mkey_len, const uint8_t *msalt,
    size_t salt_len, uint8_t label, uint8_t *out, size_t n)
{
	uint8_t iv[16] = { 0 };
	struct aesctr c;
	int r;

	if (salt_len > 14)
		return E_KEY;
	if ((r = aesctr_init(&c, mkey, mkey_len)) != 0)
		return r;
	memcpy(iv, msalt, salt_len);
	iv[7] ^= label;		/* key_id = label << 48, aligned to the salt */
	memset(out, 0, n);
	r = aesctr_xor(&c, iv, out, n);
	aesctr_wipe(&c);
	OPENSSL_cleanse(iv, sizeof(iv));
	return r;
}

/*
 * A key's HMAC state is SHA-1's chaining value after its one padded key
 * block: 20 bytes, where a SHA_CTX is 96 (two of them were three cold
 * cache lines a packet). SHA_CTX is a public struct (openssl/sha.h).
 */
static void
chain_get(uint32_t v[5], const SHA_CTX *x)
{
	v[0] = x->h0;
	v[1] = x->h1;
	v[2] = x->h2;
	v[3] = x->h3;
	v[4] = x->h4;
}

static void
chain_set(SHA_CTX *x, const uint32_t v[5])
{
	x->h0 = v[0];
	x->h1 = v[1];
	x->h2 = v[2];
	x->h3 = v[3];
	x->h4 = v[4];
	x->Nl = 512;		/* bits hashed: the key block */
	x->Nh = 0;
	x->num = 0;		/* nothing buffered */
}

void
rtpsec_hmac_init(struct rtpsec_hmac *h, const uint8_t *key, size_t len)
{
	uint8_t pad[64];
	SHA_CTX x;
	size_t i;

	/* sbckit's auth keys are 20 bytes, always shorter than a block. */
	memset(pad, 0x36, sizeof(pad));
	for (i = 0; i < len && i < sizeof(pad); i++)
		pad[i] ^= key[i];
	SHA1_Init(&x);
	SHA1_Update(&x, pad, sizeof(pad));
	chain_get(h->inner, &x);
	memset(pad, 0x5c, sizeof(pad));
	for (i = 0; i < len && i < sizeof(pad); i++)
		pad[i] ^= key[i];
	SHA1_Init(&x);
	SHA1_Update(&x, pad, sizeof(pad));
	chain_get(h->outer, &x);
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(&x, sizeof(x));
}

void
rtpsec_hmac(const struct rtpsec_hmac *h, const uint8_t *a, size_t an,
    const uint8_t *b, size_t bn, uint8_t md[20])
{
	SHA_CTX x;

	chain_set(&x, h->inner);
	SHA1_Update(&x, a, an);
	if (bn > 0)
		SHA1_Update(&x, b, bn);
	SHA1_Final(md, &x);
	chain_set(&x, h->outer);
	SHA1_Update(&x, md, 20);
	SHA1_Final(md, &x);
	OPENSSL_cleanse(&x, sizeof(x));
}

void
rtpsec_hmac_wipe(struct rtpsec_hmac *h)
{
	OPENSSL_cleanse(h, sizeof(*h));
}

EVP_CIPHER_CTX *
rtpsec_gcm_new(const uint8_t *key, enum suite_cipher cipher, int enc)
{
	const EVP_CIPHER *ciph = cipher == SUITE_CIPHER_AES_GCM_128 ?
	    EVP_aes_128_gcm() : cipher == SUITE_CIPHER_AES_GCM_256 ?
	    EVP_aes_256_gcm() : NULL;
	EVP_CIPHER_CTX *c;

	if (ciph == NULL || (c = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	if (EVP_CipherInit_ex(c, ciph, NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key, NULL, enc) != 1) {
		EVP_CIPHER_CTX_free(c);
		return NULL;
	}
	return c;
}

static int
gcm_start(EVP_CIPHER_CTX *g, const uint8_t iv[12], int enc,
    const uint8_t *aad1, size_t n1, const uint8_t *aad2, size_t n2)
{
	int ol;

	if (EVP_CipherInit_ex(g, NULL, NULL, NULL, iv, enc) != 1)
		return E_CRYPTO;
	if (n1 > 0 && EVP_CipherUpdate(g, NULL, &ol, aad1, (int)n1) != 1)
		return E_CRYPTO;
	if (n2 > 0 && EVP_CipherUpdate(g, NULL, &ol, aad2, (int)n2) != 1)
		return E_CRYPTO;
	return 0;
}

int
rtpsec_gcm_seal(EVP_CIPHER_CTX *g, const uint8_t iv[12],
    const uint8_t *aad1, size_t n1, const uint8_t *aad2, size_t n2,
    uint8_t *p, size_t n, uint8_t tag[16])
{
	uint8_t fin[16];
	int ol, r;

	if ((r = gcm_start(g, iv, 1, aad1, n1, aad2, n2)) != 0)
		return r;
	if (n > 0 && EVP_CipherUpdate(g, p, &ol, p, (int)n) != 1)
		return E_CRYPTO;
	if (EVP_CipherFinal_ex(g, fin, &ol) != 1 ||
	    EVP_CIPHER_CTX_ctrl(g, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
		return E_CRYPTO;
	return 0;
}

int
rtpsec_gcm_open(EVP_CIPHER_CTX *g, const uint8_t iv[12],
    const uint8_t *aad1, size_t n1, const uint8_t *aad2, size_t n2,
    uint8_t *p, size_t n, const uint8_t tag[16], int decrypt)
{
	uint8_t scratch[256];
	uint8_t t[16], fin[16];
	size_t off, take;
	int ol, r;

	memcpy(t, tag, 16);	/* the tag may sit right after `p` */
	if ((r = gcm_start(g, iv, 0, aad1, n1, aad2, n2)) != 0)
		return r;
	if (decrypt) {
		if (n > 0 && EVP_CipherUpdate(g, p, &ol, p, (int)n) != 1)
			return E_CRYPTO;
	} else {
		/* Check only: run the ciphertext through, output discarded. */
		for (off = 0; off < n; off += take) {
			take = n - off < sizeof(scratch) ? n - off :
			    sizeof(scratch);
			if (EVP_CipherUpdate(g, scratch, &ol, p + off,
			    (int)take) != 1)
				return E_CRYPTO;
		}
		OPENSSL_cleanse(scratch, sizeof(scratch));
	}
	if (EVP_CIPHER_CTX_ctrl(g, EVP_CTRL_GCM_SET_TAG, 16, t) != 1)
		return E_CRYPTO;
	if (EVP_CipherFinal_ex(g, fin, &ol) == 1)
		return 0;
	if (decrypt && n > 0) {
		/*
		 * Put the ciphertext back: GCM's payload transform is CTR,
		 * so encrypting the plaintext with the same IV restores it.
		 * Only forged packets pay for this.
		 */
		if (gcm_start(g, iv, 1, NULL, 0, NULL, 0) != 0 ||
		    EVP_CipherUpdate(g, p, &ol, p, (int)n) != 1)
			return E_CRYPTO;
	}
	return E_AUTH;
}
