/* rnd.c - random bytes from OpenSSL's CSPRNG. */
#include <limits.h>

#include <openssl/rand.h>

#include "rnd.h"

int
rnd_bytes(void *p, size_t n)
{
	if (n > INT_MAX)
		return E_INVAL;
	return RAND_bytes(p, (int)n) == 1 ? 0 : E_CRYPTO;
}
