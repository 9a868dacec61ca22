/* tlscrypt.c - TLS 1.2 and 1.3 record crypto for captures: the suites we
 * decrypt, their key schedules (RFC 8446 7.1, RFC 5246 5), AEAD opening. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "base/be.h"
#include "cap/tlsdec_int.h"
const struct suite_info tlscrypt_suites[] = {
	{ 0x1301, C_AES128GCM, 0, 1, "TLS_AES_128_GCM_SHA256" },
	{ 0x1302, C_AES256GCM, 1, 1, "TLS_AES_256_GCM_SHA384" },
	{ 0x1303, C_CHACHA, 0, 1, "TLS_CHACHA20_POLY1305_SHA256" },
	{ 0xc02b, C_AES128GCM, 0, 0,
	    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" },
	{ 0xc02c, C_AES256GCM, 1, 0,
	    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" },
	{ 0xc02f, C_AES128GCM, 0, 0, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0xc030, C_AES256GCM, 1, 0, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0xcca8, C_CHACHA, 0, 0,
	    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xcca9, C_CHACHA, 0, 0,
	    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xccaa, C_CHACHA, 0, 0, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0x009c, C_AES128GCM, 0, 0, "TLS_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0x009d, C_AES256GCM, 1, 0, "TLS_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0x009e, C_AES128GCM, 0, 0, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0x009f, C_AES256GCM, 1, 0, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384" },
};
const size_t tlscrypt_nsuites = sizeof(tlscrypt_suites) /
    sizeof(*tlscrypt_suites);

const struct suite_info *
tlscrypt_suite(uint16_t id)
{
	size_t i;

	for (i = 0; i < tlscrypt_nsuites; i++)
		if (tlscrypt_suites[i].id == id)
			return &tlscrypt_suites[i];
	return NULL;
}

const char *
tlsdec_suite_name(uint16_t id)
{
	const struct suite_info *si = tlscrypt_suite(id);

	return si != NULL ? si->name : "?";
}

const EVP_CIPHER *
tlscrypt_cipher(const struct suite_info *si)
{
	return si->cipher == C_AES128GCM ? EVP_aes_128_gcm() :
	    si->cipher == C_AES256GCM ? EVP_aes_256_gcm() :
	    EVP_chacha20_poly1305();
}

size_t
tlscrypt_key_len(const struct suite_info *si)
{
	return si->cipher == C_AES128GCM ? 16 : 32;
}

/* --- key schedules --- */

int
tlsdec_hkdf_label(int sha384, const uint8_t *secret, size_t secretlen,
    const char *label, struct slice context, uint8_t *out, size_t outlen)
{
	uint8_t info[2 + 1 + 255 + 1 + 255];
	size_t ll = 6 + strlen(label), n = 0;
	OSSL_PARAM params[5], *p = params;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY, ok;
	EVP_KDF_CTX *kctx;
	EVP_KDF *kdf;

	if (ll > 255 || context.len > 255 || outlen > 0xffff)
		return E_INVAL;
	info[n++] = (uint8_t)(outlen >> 8);
	info[n++] = (uint8_t)outlen;
	info[n++] = (uint8_t)ll;
	memcpy(info + n, "tls13 ", 6);
	memcpy(info + n + 6, label, ll - 6);
	n += ll;
	info[n++] = (uint8_t)context.len;
	if (context.len > 0)
		memcpy(info + n, context.p, context.len);
	n += context.len;
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL)
		return E_CRYPTO;
	kctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (kctx == NULL)
		return E_CRYPTO;
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    sha384 ? "SHA384" : "SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)secret, secretlen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
	*p = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(kctx, out, outlen, params) > 0;
	EVP_KDF_CTX_free(kctx);
	return ok ? 0 : E_CRYPTO;
}

int
tlsdec_prf12(int sha384, const uint8_t *secret, size_t secretlen,
    const char *label, struct slice seed, uint8_t *out, size_t outlen)
{
	OSSL_PARAM params[5], *p = params;
	EVP_KDF_CTX *kctx;
	EVP_KDF *kdf;
	int ok;

	if ((kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL)) == NULL)
		return E_CRYPTO;
	kctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (kctx == NULL)
		return E_CRYPTO;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    sha384 ? "SHA384" : "SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET,
	    (void *)secret, secretlen);
	/* the seeds are concatenated: the label, then the seed */
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED,
	    (void *)label, strlen(label));
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED,
	    (void *)seed.p, seed.len);
	*p = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(kctx, out, outlen, params) > 0;
	EVP_KDF_CTX_free(kctx);
	return ok ? 0 : E_CRYPTO;
}

/* A cipher context keyed with `key`, IV to be set per record. */
int
tlscrypt_keyset(struct keyset *k, const struct suite_info *si, const uint8_t *key)
{
	if (k->ctx == NULL && (k->ctx = EVP_CIPHER_CTX_new()) == NULL)
		return E_NOMEM;
	if (EVP_DecryptInit_ex(k->ctx, tlscrypt_cipher(si), NULL, key, NULL) != 1)
		return E_CRYPTO;
	k->ok = 1;
	return 0;
}

/* TLS 1.3: key and IV of traffic secret `secret` (kept for updates). */
int
tlscrypt_keyset13(struct keyset *k, const struct suite_info *si,
    const uint8_t *secret)
{
	size_t hl = si->sha384 ? 48 : 32;
	uint8_t key[32];
	int e;

	memmove(k->secret, secret, hl);
	if ((e = tlsdec_hkdf_label(si->sha384, k->secret, hl, "key",
	    SLICE_NULL, k->key, tlscrypt_key_len(si))) != 0 ||
	    (e = tlsdec_hkdf_label(si->sha384, k->secret, hl, "iv",
	    SLICE_NULL, k->iv, 12)) != 0)
		return e;
	memcpy(key, k->key, tlscrypt_key_len(si));
	e = tlscrypt_keyset(k, si, key);
	OPENSSL_cleanse(key, sizeof(key));
	return e;
}

void
tlscrypt_wipe(struct keyset *k)
{
	EVP_CIPHER_CTX_free(k->ctx);
	OPENSSL_cleanse(k, sizeof(*k));
}

/*
 * One AEAD open: `ct` (tag last) under nonce `nonce` and `aad`, into out.
 * 0, E_AUTH, E_SYNTAX (shorter than the tag), E_CRYPTO.
 */
static int
aead_open(EVP_CIPHER_CTX *ctx, const uint8_t *nonce, const uint8_t *aad,
    size_t aadlen, struct slice ct, uint8_t *out, size_t *outlen)
{
	int n, m;

	if (ct.len < 16 || ct.len - 16 > REC_MAX)
		return E_SYNTAX;
	if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1 ||
	    EVP_DecryptUpdate(ctx, out, &n, ct.p, (int)(ct.len - 16)) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16,
	    (void *)(ct.p + ct.len - 16)) != 1)
		return E_CRYPTO;
	if (EVP_DecryptFinal_ex(ctx, out + n, &m) != 1)
		return E_AUTH;
	*outlen = (size_t)n + (size_t)m;
	return 0;
}

/* TLS 1.3: record `rec` (header included) under keyset `k` at `seq`. */
int
tlscrypt_open13(const struct keyset *k, struct slice rec, uint64_t seq, uint8_t *out,
    size_t *outlen, uint8_t *type)
{
	uint8_t nonce[12], s8[8];
	size_t n;
	int e;

	memcpy(nonce, k->iv, 12);
	put_be64(s8, seq);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= s8[i];
	if ((e = aead_open(k->ctx, nonce, rec.p, 5, slice_make(rec.p + 5,
	    rec.len - 5), out, &n)) != 0)
		return e;
	while (n > 0 && out[n - 1] == 0)	/* padding */
		n--;
	if (n == 0)
		return E_SYNTAX;
	*type = out[n - 1];
	*outlen = n - 1;
	return 0;
}

/* TLS 1.2: record `rec` under keyset `k` of suite `si` at `seq`. */
int
tlscrypt_open12(const struct suite_info *si, const struct keyset *k, struct slice rec,
    uint64_t seq, uint8_t *out, size_t *outlen)
{
	uint8_t nonce[12], aad[13];
	struct slice ct = slice_make(rec.p + 5, rec.len - 5);
	size_t plen;

	put_be64(aad, seq);
	memcpy(aad + 8, rec.p, 3);	/* type, version */
	if (si->cipher == C_CHACHA) {
		if (ct.len < 16)
			return E_SYNTAX;
		memcpy(nonce, k->iv, 12);
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= aad[i];
		plen = ct.len - 16;
	} else {
		if (ct.len < 8 + 16)
			return E_SYNTAX;
		memcpy(nonce, k->iv, 4);
		memcpy(nonce + 4, ct.p, 8);
		ct.p += 8;
		ct.len -= 8;
		plen = ct.len - 16;
	}
	aad[11] = (uint8_t)(plen >> 8);
	aad[12] = (uint8_t)plen;
	return aead_open(k->ctx, nonce, aad, 13, ct, out, outlen);
}

int
tlsdec_open13(uint16_t suite, const uint8_t *secret, struct slice rec,
    uint64_t seq, uint8_t *out, size_t outsz, size_t *outlen, uint8_t *type)
{
	const struct suite_info *si = tlscrypt_suite(suite);
	struct keyset k;
	int e;

	if (si == NULL || !si->v13)
		return E_UNSUPPORTED;
	if (rec.len < 5 + 17 || outsz < rec.len - 5 - 16)
		return E_SYNTAX;
	memset(&k, 0, sizeof(k));
	if ((e = tlscrypt_keyset13(&k, si, secret)) == 0)
		e = tlscrypt_open13(&k, rec, seq, out, outlen, type);
	tlscrypt_wipe(&k);
	return e;
}

/* --- the connection --- */
