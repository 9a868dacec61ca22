/* aesctr.h - private: AES counter-mode keystream for lib/rtpsec. */
#ifndef SBK_AESCTR_H
#define SBK_AESCTR_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "base/err.h"

/*
 * AES in counter mode as SRTP uses it (RFC 3711 4.1.1): the keystream for
 * counter blocks iv, iv+1, ... (the last 32 bits counting, big-endian),
 * XORed into the data.
 *
 * On x86-64 with AES-NI the key schedule is expanded into the struct
 * itself and every block is encrypted here with the AES instructions: a
 * packet reads only these bytes, which lie next to the other session keys
 * (OpenSSL's EVP context is two pointers and ~10 cache lines away, all
 * cold when thousands of streams take turns). Elsewhere, or when turned
 * off with aesctr_use_ni(0), it is OpenSSL's AES-ECB through EVP. Both
 * give the same bytes (tests/unit/test_rtpsec.c runs its vectors and its
 * comparisons with libsrtp2 both ways).
 */
struct aesctr {
	unsigned nr;		/* rounds (10, 12, 14); 0: `evp` is used */
	EVP_CIPHER_CTX *evp;	/* without AES-NI: AES-ECB */
	_Alignas(16) uint8_t rk[15][16];	/* AES-NI: round keys 0..nr */
};

/*
 * Set `a` up for the AES key `key` of `len` bytes (16, 24 or 32).
 * Returns 0, E_KEY (another length) or E_CRYPTO.
 */
int aesctr_init(struct aesctr *a, const uint8_t *key, size_t len) WUR;
/* XOR `n` bytes at `p` with the keystream from counter block `iv`. */
int aesctr_xor(const struct aesctr *a, const uint8_t iv[16], uint8_t *p,
    size_t n) WUR;
/* Free and wipe; the struct may then be set up again. */
void aesctr_wipe(struct aesctr *a);

/*
 * Whether contexts set up from now on use AES-NI: 1 yes, 0 no (OpenSSL's
 * EVP), -1 only ask. Returns what was in force before; always 0 without
 * AES-NI. For tests and benchmarks; not thread-safe.
 */
int aesctr_use_ni(int on);

#endif
