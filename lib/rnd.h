/* rnd.h - random bytes from OpenSSL's CSPRNG (keys, salts, tokens, SSRCs). */
#ifndef SBK_RND_H
#define SBK_RND_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Fill `p` with `n` unpredictable bytes. Returns 0 or E_CRYPTO. */
int rnd_bytes(void *p, size_t n) WUR;

#endif
