/* digest_int.h - private: what digest.c and digest_creds.c share. */
#ifndef SBK_DIGEST_INT_H
#define SBK_DIGEST_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/hex.h"
#include "base/slice.h"
#include "sip/digest.h"

/* An algorithm's name in challenges and its HA1's length in hex. */
static inline const char *
alg_name(enum digest_alg alg)
{
	return alg == DIGEST_MD5 ? "MD5" : "SHA-256";
}

static inline size_t
alg_hexlen(enum digest_alg alg)
{
	return alg == DIGEST_MD5 ? 32 : 64;
}

static inline int
is_ctl(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

static inline int
is_lhex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* The shortest prefix of `s` worth quoting in a reason. */
static inline int
show(struct slice s)
{
	return s.len > 40 ? 40 : (int)s.len;
}

#endif
