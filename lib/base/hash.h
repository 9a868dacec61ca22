/* hash.h - FNV-1a over bytes, the one hash of every in-memory table. */
#ifndef SBK_HASH_H
#define SBK_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "base/slice.h"

/*
 * FNV-1a, 32 and 64 bits. Chain calls to hash several fields: start from
 * HASH32_INIT (HASH64_INIT) and pass each result on as `h`. Not keyed: a
 * table hashing what a stranger sends must bound its chains by other means
 * (every table here caps its entries).
 */
#define HASH32_INIT 2166136261u
#define HASH64_INIT 1469598103934665603ull

static inline uint32_t
hash32(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static inline uint64_t
hash64(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static inline uint32_t
hash32_slice(uint32_t h, struct slice s)
{
	return hash32(h, s.p, s.len);
}

static inline uint64_t
hash64_slice(uint64_t h, struct slice s)
{
	return hash64(h, s.p, s.len);
}

#endif
