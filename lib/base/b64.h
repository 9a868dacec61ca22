/* b64.h - base64 (RFC 4648, standard alphabet, padded) through OpenSSL. */
#ifndef SBK_B64_H
#define SBK_B64_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/slice.h"

/* Encoded length of `n` bytes, without a NUL. */
#define B64_ENC_LEN(n) ((((n) + 2) / 3) * 4)

/*
 * Encode `in` into `out` (room for B64_ENC_LEN(len) + 1 bytes; NUL-terminated).
 * Returns the encoded length, or E_BIG if `outsz` is too small.
 */
int b64_encode(const uint8_t *in, size_t len, char *out, size_t outsz) WUR;

/*
 * Decode strict padded base64 `in` into `out` (room for `outsz` bytes).
 * Returns the decoded length, E_SYNTAX for a bad character, length or
 * padding, E_BIG if it does not fit. Accepts unpadded input too, since
 * some SDES implementations omit the padding.
 */
int b64_decode(struct slice in, uint8_t *out, size_t outsz) WUR;

#endif
