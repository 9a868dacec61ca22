/* test_rnd.c - unit tests for the CSPRNG pool (lib/rnd): wiping, refill
 * boundary, distinct outputs, large requests, the keyline hook. */
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "media/keyline.h"
#include "base/rnd.h"
#include "media/suite.h"
#include "t.h"

static int
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void
test_wipe(void)
{
	struct rnd_pool *rp = rnd_pool_new(0);
	const uint8_t *st;
	size_t size, avail;
	uint8_t k[30];

	T_OK(rp != NULL, "pool of the default size");
	if (rp == NULL)
		return;
	st = rnd_pool_storage(rp, &size, &avail);
	T_EQ_INT(size, RND_POOL_SIZE, "default size");
	T_EQ_INT(avail, 0, "a new pool is empty (filled on first use)");
	T_OK(rnd_pool_bytes(rp, k, sizeof(k)) == 0, "30 bytes");
	st = rnd_pool_storage(rp, &size, &avail);
	T_EQ_INT(avail, RND_POOL_SIZE - 30, "one bulk fill, 30 used");
	T_OK(all_zero(st, 30), "handed-out bytes are wiped in the pool");
	T_OK(!all_zero(st + 30, avail), "unused bytes are random");
	T_OK(!all_zero(k, sizeof(k)), "output is random");
	T_OK(memmem(st, size, k, sizeof(k)) == NULL,
	    "no copy of the output stays in the pool");
	rnd_pool_free(rp);
}

static void
test_boundary(void)
{
	struct rnd_pool *rp = rnd_pool_new(64);
	const uint8_t *st;
	uint8_t a[50], b[30], tail[14];
	size_t size, avail;

	if (!T_OK(rp != NULL, "64-byte pool"))
		return;
	T_OK(rnd_pool_bytes(rp, a, sizeof(a)) == 0, "50 of 64");
	st = rnd_pool_storage(rp, &size, &avail);
	T_EQ_INT(avail, 14, "14 left");
	memcpy(tail, st + 50, sizeof(tail));
	T_OK(rnd_pool_bytes(rp, b, sizeof(b)) == 0, "30 across the refill");
	st = rnd_pool_storage(rp, &size, &avail);
	T_EQ_MEM(b, 14, tail, 14, "first the old pool's last 14 bytes");
	T_EQ_INT(avail, 64 - 16, "then 16 of the refilled pool");
	T_OK(all_zero(st, 16), "refill: handed-out bytes wiped");
	T_OK(memmem(a, sizeof(a), b + 14, 16) == NULL &&
	    memcmp(b + 14, tail, 14) != 0, "refilled bytes are new");
	T_OK(rnd_pool_bytes(rp, b, 30) == 0 &&
	    rnd_pool_bytes(rp, b, 18) == 0, "exactly empty");
	rnd_pool_storage(rp, &size, &avail);
	T_EQ_INT(avail, 0, "no refill before it is needed");
	T_OK(all_zero(st, 64), "an emptied pool holds only zeros");
	T_OK(rnd_pool_bytes(rp, b, 1) == 0, "one more byte refills");
	rnd_pool_storage(rp, &size, &avail);
	T_EQ_INT(avail, 63, "63 left");
	{
		uint8_t big[100];

		T_OK(rnd_pool_bytes(rp, big, sizeof(big)) == 0 &&
		    !all_zero(big, sizeof(big)), "larger than the pool: direct");
		rnd_pool_storage(rp, &size, &avail);
		T_EQ_INT(avail, 63, "... and the pool is untouched");
	}
	T_OK(rnd_pool_bytes(rp, b, 0) == 0, "0 bytes is fine");
	rnd_pool_free(rp);
	rnd_pool_free(NULL);
}

#define NKEYS 1000

static void
test_distinct(void)
{
	static uint8_t k[NKEYS][30];
	struct rnd_pool *rp = rnd_pool_new(0);
	int ok = rp != NULL, dup = 0;

	/* 30 kB: seven refills, chunks straddling each boundary */
	for (size_t i = 0; ok && i < NKEYS; i++)
		ok = rnd_pool_bytes(rp, k[i], sizeof(k[i])) == 0;
	T_OK(ok, "%d keys from one pool", NKEYS);
	for (size_t i = 0; i < NKEYS; i++)
		for (size_t j = i + 1; j < NKEYS; j++)
			dup += memcmp(k[i], k[j], sizeof(k[i])) == 0;
	T_EQ_INT(dup, 0, "all distinct");
	T_OK(rnd_pool_bytes(NULL, k[0], 30) == 0 &&
	    rnd_pool_bytes(NULL, k[1], 30) == 0 &&
	    memcmp(k[0], k[1], 30) != 0, "NULL pool: RAND_bytes directly");
	rnd_pool_free(rp);
}

static void
test_keyline(void)
{
	const struct suite *su = suite_by_id(SUITE_AES_CM_128_HMAC_SHA1_80);
	struct rnd_pool *rp = rnd_pool_new(0);
	struct keyline *a = keyline_new(su), *b = keyline_new(su);
	struct buf *la = buf_new(256), *lb = buf_new(256);

	T_OK(rp != NULL && a != NULL && b != NULL, "setup");
	T_OK(a != NULL && b != NULL && keyline_add_pool_key(a, rp) == 0 &&
	    keyline_add_pool_key(b, rp) == 0, "two keys from a pool");
	T_OK(a != NULL && b != NULL && la != NULL && lb != NULL &&
	    keyline_format(a, 0, la) == 0 && keyline_format(b, 0, lb) == 0 &&
	    buf_len(la) > 40 && (buf_len(la) != buf_len(lb) ||
	    memcmp(buf_data(la), buf_data(lb), buf_len(la)) != 0),
	    "different key lines");
	buf_free(la);
	buf_free(lb);
	keyline_free(a);
	keyline_free(b);
	rnd_pool_free(rp);
}

int
main(void)
{
	test_wipe();
	test_boundary();
	test_distinct();
	test_keyline();
	return t_done();
}
