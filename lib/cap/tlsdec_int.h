/* tlsdec_int.h - the TLS record decoder's parts: the suites it reads,
 * their keys and the AEAD record opening (tlscrypt.c), shared with the
 * handshake and record state machine (tlsdec.c). Internal to lib/cap. */
#ifndef SBK_TLSDEC_INT_H
#define SBK_TLSDEC_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "cap/tlsdec.h"

enum { C_AES128GCM, C_AES256GCM, C_CHACHA };

/* The suites we decrypt: one table, read for names, ciphers and hashes. */
struct suite_info {
	uint16_t id;
	uint8_t cipher, sha384, v13;
	const char *name;
};

/* One direction's keys: TLS 1.2 uses k[0]; TLS 1.3 k[0] for the
 * handshake, k[1] for application data. */
struct keyset {
	EVP_CIPHER_CTX *ctx;
	uint8_t key[32];	/* TLS 1.3: kept for the search without a hello */
	uint8_t iv[12];
	uint8_t secret[48];
	int ok;
};

#define REC_MAX (16384 + 2048)	/* TLSCiphertext.length, TLS 1.2 */

/* The suites we decrypt, in one table: tlscrypt_suites[0 .. n - 1]. */
extern const struct suite_info tlscrypt_suites[];
extern const size_t tlscrypt_nsuites;
/* The suite `id`, or NULL when we cannot decrypt it. */
const struct suite_info *tlscrypt_suite(uint16_t id);
/* Its cipher and key length; */
const EVP_CIPHER *tlscrypt_cipher(const struct suite_info *si);
size_t tlscrypt_key_len(const struct suite_info *si);
/* a direction's cipher context from a TLS 1.2 key, or from a TLS 1.3
 * traffic secret (key and IV derived); its wiping; */
int tlscrypt_keyset(struct keyset *k, const struct suite_info *si,
    const uint8_t *key);
int tlscrypt_keyset13(struct keyset *k, const struct suite_info *si,
    const uint8_t *secret);
void tlscrypt_wipe(struct keyset *k);
/* record `rec` (header included) at record number `seq` opened into
 * `out`: 0, E_AUTH (it does not authenticate), E_SYNTAX (too short or
 * long), E_CRYPTO. */
int tlscrypt_open13(const struct keyset *k, struct slice rec, uint64_t seq,
    uint8_t *out, size_t *outlen, uint8_t *type);
int tlscrypt_open12(const struct suite_info *si, const struct keyset *k,
    struct slice rec, uint64_t seq, uint8_t *out, size_t *outlen);

#endif
