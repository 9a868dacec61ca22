/* rtpsec_ossl.h - private: the OpenSSL primitives under lib/media/rtpsec.c. */
#ifndef SBK_RTPSEC_OSSL_H
#define SBK_RTPSEC_OSSL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "media/aesctr.h"
#include "media/suite.h"
#include "base/err.h"

/*
 * Not a public header: only lib/media/rtpsec.c includes it. All functions return
 * 0 or E_CRYPTO (E_AUTH where a tag is checked) and never allocate.
 */

/*
 * The RFC 3711 4.3 key derivation (key_derivation_rate 0): `n` bytes for
 * `label` from the master key and the master salt (`salt_len` <= 14
 * bytes, zero-padded to 14 as libsrtp does for the 12-byte AEAD salts).
 */
int rtpsec_kdf(const uint8_t *mkey, size_t mkey_len, const uint8_t *msalt,
    size_t salt_len, uint8_t label, uint8_t *out, size_t n) WUR;

/* HMAC-SHA1 with the inner and outer states computed once per key. */
struct rtpsec_hmac {
	uint32_t inner[5], outer[5];	/* SHA-1 chaining values */
};

void rtpsec_hmac_init(struct rtpsec_hmac *h, const uint8_t *key, size_t len);
/* HMAC over `a` (`an` bytes) then `b` (`bn` bytes), into `md`. */
void rtpsec_hmac(const struct rtpsec_hmac *h, const uint8_t *a, size_t an,
    const uint8_t *b, size_t bn, uint8_t md[20]);
void rtpsec_hmac_wipe(struct rtpsec_hmac *h);

/*
 * AES-GCM (RFC 7714), 12-byte IVs, 16-byte tags; `cipher` one of the GCM
 * ones (else NULL), `key` as long as its AES key.
 */
EVP_CIPHER_CTX *rtpsec_gcm_new(const uint8_t *key, enum suite_cipher cipher,
    int enc);
/*
 * Encrypt `n` bytes at `p` in place, authenticating aad1|aad2 too, and
 * write the tag to `tag`.
 */
int rtpsec_gcm_seal(EVP_CIPHER_CTX *g, const uint8_t iv[12],
    const uint8_t *aad1, size_t n1, const uint8_t *aad2, size_t n2,
    uint8_t *p, size_t n, uint8_t tag[16]) WUR;
/*
 * Check `tag` over aad1|aad2|`n` bytes of ciphertext at `p` and, if
 * `decrypt`, decrypt them in place. Returns 0, E_AUTH (and `p` is left as
 * it was) or E_CRYPTO.
 */
int rtpsec_gcm_open(EVP_CIPHER_CTX *g, const uint8_t iv[12],
    const uint8_t *aad1, size_t n1, const uint8_t *aad2, size_t n2,
    uint8_t *p, size_t n, const uint8_t tag[16], int decrypt) WUR;

#endif
