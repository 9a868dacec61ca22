/* rnd.h - random bytes from OpenSSL's CSPRNG (keys, salts, tokens, SSRCs). */
#ifndef SBK_RND_H
#define SBK_RND_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Fill `p` with `n` unpredictable bytes. Returns 0 or E_CRYPTO. */
int rnd_bytes(void *p, size_t n) WUR;

/*
 * A pool of CSPRNG output for hot paths that need many small pieces (fresh
 * SRTP keys per call): each RAND_bytes() call costs a getpid() syscall and
 * locks, so the pool fetches RND_POOL_SIZE bytes at once and hands them
 * out in order. Every byte is handed out once; handed-out bytes are wiped
 * from the pool at once (OPENSSL_cleanse), so the pool never holds a copy
 * of a key in use. The strength of the bytes is RAND_bytes()'s own.
 *
 * Not thread-safe: one pool per thread/context, owned by the caller.
 * FORK: a pool must never be used on both sides of a fork() - the child
 * would hand out the same bytes as the parent (same keys!). Create pools
 * after forking (daemonising), or free the pool in the child and make a
 * new one. Requests larger than the pool go to RAND_bytes() directly.
 */
#define RND_POOL_SIZE 4096

struct rnd_pool;

/* A new, empty pool of `size` bytes (0: RND_POOL_SIZE). NULL: no memory. */
struct rnd_pool *rnd_pool_new(size_t size);
/* Wipe and free; NULL is fine. */
void rnd_pool_free(struct rnd_pool *rp);

/*
 * Fill `p` with `n` unpredictable bytes from `rp`, refilling it as needed;
 * rp NULL: rnd_bytes() directly. Returns 0, E_INVAL or E_CRYPTO (then `p`
 * is wiped and the pool is empty).
 */
int rnd_pool_bytes(struct rnd_pool *rp, void *p, size_t n) WUR;

/* For tests: the pool's storage, its size, and how many bytes of it are
 * still unused (the last `avail` bytes; all before them read as zero). */
const uint8_t *rnd_pool_storage(const struct rnd_pool *rp, size_t *size,
    size_t *avail);

#endif
