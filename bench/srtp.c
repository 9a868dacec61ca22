/* srtp.c - benchmark: ns per SRTP protect/unprotect, rtpsec vs libsrtp2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "media/aesctr.h"
#include "media/rtpsec.h"
#include "media/suite.h"
#include "../tests/helpers/srtp_ref.h"

/*
 * For every suite: the same 172-byte RTP packets (12-byte header, 160
 * bytes of payload: 20 ms of G.711) protected and unprotected by lib/rtpsec
 * and by stock libsrtp2 in the same run. Packets are prepared in batches
 * outside the timed loops; each figure is thread CPU time, the best of
 * several rounds, because these machines are noisy. Where AES-NI is
 * used for AES-CM (lib/media/aesctr.c), AES_CM_128_HMAC_SHA1_80 is run again
 * with OpenSSL's EVP AES instead, hot and cold, as its baseline.
 * Usage: srtp [PACKETS] [PAYLOAD]
 */

#define BATCH 1024
#define ROUNDS 5
#define SLOT 2048

struct impl {
	const char *name;
	struct rtpsec *tx, *rx;
	struct srtp_ref rtx, rrx;
	int ref;
};

static uint8_t *pkts;
static size_t lens[BATCH];

static double
now_ns(void)
{
	struct timespec t;

	/* CPU time, not wall time: other work on this box preempts us. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void
fill(uint32_t first_seq, size_t payload)
{
	size_t i;

	for (i = 0; i < BATCH; i++) {
		uint8_t *p = pkts + i * SLOT;
		uint16_t seq = (uint16_t)(first_seq + i);

		p[0] = 0x80;
		p[1] = 0x08;
		p[2] = (uint8_t)(seq >> 8);
		p[3] = (uint8_t)seq;
		memset(p + 4, 0x11, 4);
		memcpy(p + 8, "\xca\xfe\xba\xbe", 4);
		memset(p + 12, 0xd5, payload);
		lens[i] = 12 + payload;
	}
}

static int
protect(struct impl *m, uint8_t *p, size_t *len)
{
	return m->ref ? srtp_ref_protect(&m->rtx, p, len, 0) :
	    rtpsec_protect(m->tx, p, len, SLOT);
}

static int
unprotect(struct impl *m, uint8_t *p, size_t *len)
{
	return m->ref ? srtp_ref_unprotect(&m->rrx, p, len, 0) :
	    rtpsec_unprotect(m->rx, p, len);
}

/* Best-of-ROUNDS ns per packet for protect and unprotect of `n` packets. */
static int
run(struct impl *m, size_t n, size_t payload, double *prot, double *unprot)
{
	static uint32_t seq = 1;
	double t, tp, tu;
	size_t done, i;
	int round;

	*prot = *unprot = 1e18;
	for (round = 0; round < ROUNDS; round++) {
		tp = tu = 0;
		for (done = 0; done < n; done += BATCH) {
			fill(seq, payload);
			seq += BATCH;
			t = now_ns();
			for (i = 0; i < BATCH; i++)
				if (protect(m, pkts + i * SLOT, &lens[i]) != 0)
					return -1;
			tp += now_ns() - t;
			t = now_ns();
			for (i = 0; i < BATCH; i++)
				if (unprotect(m, pkts + i * SLOT, &lens[i]) != 0)
					return -1;
			tu += now_ns() - t;
		}
		done = (n + BATCH - 1) / BATCH * BATCH;
		if (tp / (double)done < *prot)
			*prot = tp / (double)done;
		if (tu / (double)done < *unprot)
			*unprot = tu / (double)done;
	}
	return 0;
}

/*
 * A relay with many streams meets each stream's context cold in the
 * cache. NCOLD receive contexts (more than the caches hold), each with a
 * packet protected by its own sender, unprotected round robin: CPU ns
 * per packet cold, to set against the hot figure above.
 */
#define NCOLD 16384
#define COLD_SLOT 256

static int
cold(enum suite_id id, size_t rounds, double *best)
{
	const struct suite *su = suite_by_id(id);
	struct rtpsec **rx = calloc(NCOLD, sizeof(*rx));
	uint8_t *buf = malloc((size_t)NCOLD * COLD_SLOT);
	uint8_t *work = malloc((size_t)NCOLD * COLD_SLOT);
	size_t *len = calloc(NCOLD, sizeof(*len)), *wlen;
	uint8_t key[32];
	struct rtpsec_params p = { 0 };
	int r = -1;

	wlen = calloc(NCOLD, sizeof(*wlen));
	if (rx == NULL || buf == NULL || work == NULL || len == NULL ||
	    wlen == NULL)
		goto out;
	p.suite = id;
	p.key = key;
	p.key_len = su->key_len;
	p.salt = key + 16;
	p.salt_len = su->salt_len;
	for (size_t i = 0; i < NCOLD; i++) {
		struct rtpsec *tx;
		uint8_t *b = buf + i * COLD_SLOT;

		memset(key, (int)(i * 131 + 7), sizeof(key));
		key[0] = (uint8_t)(i >> 8);
		if ((rx[i] = rtpsec_new(&p, RTPSEC_UNPROTECT, NULL)) == NULL ||
		    (tx = rtpsec_new(&p, RTPSEC_PROTECT, NULL)) == NULL)
			goto out;
		b[0] = 0x80;
		b[1] = 0x08;
		memset(b + 2, 0, 6);
		b[3] = 1;
		b[8] = (uint8_t)(i >> 8);
		b[9] = (uint8_t)i;
		b[10] = b[11] = 0x11;
		memset(b + 12, 0xd5, 160);
		len[i] = 172;
		r = rtpsec_protect(tx, b, &len[i], COLD_SLOT);
		rtpsec_free(tx);
		if (r != 0)
			goto out;
		r = -1;
	}
	*best = 1e18;
	for (size_t round = 0; round < rounds; round++) {
		double dt;

		/* fresh contexts each round: the replay window would refuse
		 * a second unprotect of the same packet */
		for (size_t i = 0; i < NCOLD; i++) {
			rtpsec_free(rx[i]);
			memset(key, (int)(i * 131 + 7), sizeof(key));
			key[0] = (uint8_t)(i >> 8);
			if ((rx[i] = rtpsec_new(&p, RTPSEC_UNPROTECT, NULL))
			    == NULL)
				goto out;
		}
		memcpy(work, buf, (size_t)NCOLD * COLD_SLOT);
		memcpy(wlen, len, NCOLD * sizeof(*len));
		dt = now_ns();
		for (size_t i = 0; i < NCOLD; i++)
			if (rtpsec_unprotect(rx[i], work + i * COLD_SLOT,
			    &wlen[i]) != 0)
				goto out;
		dt = (now_ns() - dt) / NCOLD;
		if (dt < *best)
			*best = dt;
	}
	r = 0;
out:
	for (size_t i = 0; rx != NULL && i < NCOLD; i++)
		rtpsec_free(rx[i]);
	free(rx);
	free(buf);
	free(work);
	free(len);
	free(wlen);
	return r;
}

/* Our hot protect/unprotect of one suite; 1: not available, -1: failed. */
static int
hot(const struct rtpsec_params *p, size_t n, size_t payload, double *op,
    double *ou)
{
	struct impl ours = { "rtpsec", NULL, NULL, { 0 }, { 0 }, 0 };
	int r = 1;

	ours.tx = rtpsec_new(p, RTPSEC_PROTECT, NULL);
	ours.rx = rtpsec_new(p, RTPSEC_UNPROTECT, NULL);
	if (ours.tx != NULL && ours.rx != NULL)
		r = run(&ours, n, payload, op, ou) != 0 ? -1 : 0;
	rtpsec_free(ours.tx);
	rtpsec_free(ours.rx);
	return r;
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	size_t payload = argc > 2 ? strtoul(argv[2], NULL, 10) : 160;
	uint8_t key[32], salt[14];
	struct rtpsec_params p = { 0 };
	enum suite_id id;
	double op, ou, rp, ru, eop, eou, c, ec;
	int k192 = RTPSEC_LIBSRTP_AES192_KDF, fail = 0, r;
	int ni = aesctr_use_ni(-1);

	if (payload > SLOT - 12 - RTPSEC_MAX_OVERHEAD || n == 0 ||
	    (pkts = malloc((size_t)BATCH * SLOT)) == NULL) {
		fprintf(stderr, "usage: srtp [PACKETS] [PAYLOAD<=%d]\n",
		    SLOT - 12 - RTPSEC_MAX_OVERHEAD);
		return 2;
	}
	memset(key, 0x5a, sizeof(key));
	memset(salt, 0xa5, sizeof(salt));
	printf("# SRTP, %zu-byte RTP packets, best of %d rounds of %zu; "
	    "CPU ns per packet\n", 12 + payload, ROUNDS, n);
	printf("%-24s %9s %9s %6s   %9s %9s %6s\n", "suite", "protect",
	    "libsrtp", "ratio", "unprot", "libsrtp", "ratio");
	for (id = SUITE_AES_CM_128_HMAC_SHA1_80; id < SUITE_COUNT; id++) {
		const struct suite *su = suite_by_id(id);
		struct impl ref = { "libsrtp2", NULL, NULL, { 0 }, { 0 }, 1 };

		p.suite = id;
		p.key = key;
		p.key_len = su->key_len;
		p.salt = salt;
		p.salt_len = su->salt_len;
		p.flags = su->key_len == 24 ? (unsigned)k192 : 0;
		if (srtp_ref_new(&ref.rtx, &p, RTPSEC_PROTECT) != 0 ||
		    srtp_ref_new(&ref.rrx, &p, RTPSEC_UNPROTECT) != 0 ||
		    (r = hot(&p, n, payload, &op, &ou)) == 1) {
			printf("%-24s (not available)\n", su->name);
		} else if (r != 0 || run(&ref, n, payload, &rp, &ru) != 0) {
			printf("%-24s FAILED\n", su->name);
			fail = 1;
		} else {
			printf("%-24s %9.0f %9.0f %5.1fx   %9.0f %9.0f %5.1fx\n",
			    su->name, op, rp, rp / op, ou, ru, ru / ou);
		}
		srtp_ref_free(&ref.rtx);
		srtp_ref_free(&ref.rrx);
		if (id != SUITE_AES_CM_128_HMAC_SHA1_80 || !ni || fail)
			continue;
		/* the same with OpenSSL's AES (ratio = EVP / AES-NI) */
		aesctr_use_ni(0);
		r = hot(&p, n, payload, &eop, &eou);
		aesctr_use_ni(1);
		if (r != 0) {
			printf("%-24s EVP AES: FAILED\n", su->name);
			fail = 1;
			continue;
		}
		printf("%-24s %9.0f %9s %5.2fx   %9.0f %9s %5.2fx\n",
		    "  ...on OpenSSL EVP AES", eop, "", eop / op, eou, "",
		    eou / ou);
	}
	printf("# budget: <= 600 ns per packet for AES_CM_128_HMAC_SHA1_80 "
	    "(ratio = libsrtp2 / rtpsec; on EVP AES: EVP / AES-NI)\n");
	printf("# unprotect with %d contexts round robin (cold in the "
	    "cache), best of %d\n", NCOLD, ROUNDS);
	for (id = SUITE_AES_CM_128_HMAC_SHA1_80; id < SUITE_COUNT; id++) {
		if (id != SUITE_AES_CM_128_HMAC_SHA1_80 &&
		    id != SUITE_AEAD_AES_128_GCM)
			continue;
		if (cold(id, ROUNDS, &c) != 0) {
			printf("%-24s cold: FAILED\n", suite_by_id(id)->name);
			fail = 1;
			continue;
		}
		printf("%-24s %9s %9s %6s   %9.0f\n", suite_by_id(id)->name,
		    "", "", "", c);
		if (id != SUITE_AES_CM_128_HMAC_SHA1_80 || !ni)
			continue;
		aesctr_use_ni(0);
		r = cold(id, ROUNDS, &ec);
		aesctr_use_ni(1);
		if (r != 0) {
			printf("%-24s cold EVP AES: FAILED\n", "");
			fail = 1;
			continue;
		}
		printf("%-24s %9s %9s %6s   %9.0f %9s %5.2fx\n",
		    "  ...on OpenSSL EVP AES", "", "", "", ec, "", ec / c);
	}
	free(pkts);
	return fail;
}
