/* rnd.c - random bytes from OpenSSL's CSPRNG, directly or via a pool. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/rnd.h"

struct rnd_pool {
	size_t size;
	size_t pos;		/* next unused byte; size: empty */
	uint8_t b[];
};

int
rnd_bytes(void *p, size_t n)
{
	if (n > INT_MAX)
		return E_INVAL;
	return RAND_bytes(p, (int)n) == 1 ? 0 : E_CRYPTO;
}

struct rnd_pool *
rnd_pool_new(size_t size)
{
	struct rnd_pool *rp;

	if (size == 0)
		size = RND_POOL_SIZE;
	if (size > INT_MAX || (rp = calloc(1, sizeof(*rp) + size)) == NULL)
		return NULL;
	rp->size = size;
	rp->pos = size;
	return rp;
}

void
rnd_pool_free(struct rnd_pool *rp)
{
	if (rp == NULL)
		return;
	OPENSSL_cleanse(rp->b, rp->size);
	free(rp);
}

/* Copy out `n` <= unused bytes and wipe them in the pool. */
static void
take(struct rnd_pool *rp, uint8_t *p, size_t n)
{
	memcpy(p, rp->b + rp->pos, n);
	OPENSSL_cleanse(rp->b + rp->pos, n);
	rp->pos += n;
}

int
rnd_pool_bytes(struct rnd_pool *rp, void *p, size_t n)
{
	uint8_t *o = p;
	size_t k;

	if (rp == NULL || n > rp->size)
		return rnd_bytes(p, n);
	k = rp->size - rp->pos;
	if (k >= n) {
		take(rp, o, n);
		return 0;
	}
	take(rp, o, k);
	if (RAND_bytes(rp->b, (int)rp->size) != 1) {
		OPENSSL_cleanse(rp->b, rp->size);
		rp->pos = rp->size;
		OPENSSL_cleanse(o, k);
		return E_CRYPTO;
	}
	rp->pos = 0;
	take(rp, o + k, n - k);
	return 0;
}

const uint8_t *
rnd_pool_storage(const struct rnd_pool *rp, size_t *size, size_t *avail)
{
	*size = rp->size;
	*avail = rp->size - rp->pos;
	return rp->b;
}
