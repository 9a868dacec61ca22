/* fuzz_rtpsec.c - libFuzzer: unprotect arbitrary bytes; round-trip RTP. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/rtpsec.h"

/*
 * Byte 0 picks the suite, the flags and the operation; the rest is the
 * packet. Unprotecting garbage must fail cleanly and leave the bytes as
 * they were (the receivers keep state from input to input, like a real
 * one); anything protect accepts must unprotect to the same bytes (with
 * fresh contexts, so that earlier inputs do not interfere).
 */
static struct rtpsec *rx[SUITE_COUNT][4];

static const uint8_t key[32] = { 1, 2, 3, 4 }, salt[14] = { 5, 6 };
static const uint8_t key2[32] = { 9 };
static const uint8_t mki[3] = { 0, 0, 7 }, mki2[3] = { 0, 0, 8 };
static const unsigned fl[4] = { 0, RTPSEC_UNENCRYPTED_SRTCP,
    RTPSEC_UNENCRYPTED_SRTP, RTPSEC_UNAUTHENTICATED_SRTP };

static struct rtpsec *
make(int s, int f, enum rtpsec_dir dir)
{
	const struct suite *su = suite_by_id((enum suite_id)s);
	struct rtpsec_params p = { 0 };
	/* suites with an MKI get a second key (a multi-key line) */
	struct rtpsec_key more = { key2, salt, mki2, 0 };

	p.suite = (enum suite_id)s;
	p.key = key;
	p.key_len = su->key_len;
	p.salt = salt;
	p.salt_len = su->salt_len;
	p.flags = fl[f];
	p.mki = mki;
	p.mki_len = (s & 1) ? sizeof(mki) : 0;
	p.more = &more;
	p.nmore = (s & 1) ? 1 : 0;
	p.max_ssrcs = 4;
	return rtpsec_new(&p, dir, NULL);
}

static void
setup(void)
{
	int s, f;

	for (s = 1; s < SUITE_COUNT; s++)
		for (f = 0; f < 4; f++)
			rx[s][f] = make(s, f, RTPSEC_UNPROTECT);
}

static void
round_trip(int s, int f, int rtcp, uint8_t *buf, size_t len,
    const uint8_t *orig, size_t cap)
{
	struct rtpsec *t = make(s, f, RTPSEC_PROTECT);
	struct rtpsec *r = make(s, f, RTPSEC_UNPROTECT);
	size_t olen = len;
	int ok;

	if (t == NULL || r == NULL || (rtpsec_nkeys(t) > 1 &&
	    rtpsec_use_key(t, len & 1) != 0))
		abort();
	if (rtcp)
		ok = rtpsec_protect_rtcp(t, buf, &len, cap) != 0 ||
		    (rtpsec_unprotect_rtcp(r, buf, &len) == 0 &&
		    len == olen && memcmp(buf, orig, olen) == 0);
	else
		ok = rtpsec_protect(t, buf, &len, cap) != 0 ||
		    (rtpsec_unprotect(r, buf, &len) == 0 &&
		    len == olen && memcmp(buf, orig, olen) == 0);
	if (!ok)
		abort();
	rtpsec_free(t);
	rtpsec_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	uint8_t buf[4096], orig[4096];
	size_t len, olen;
	int s, f, op, r;
	uint32_t roc;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 1 || size - 1 > sizeof(buf) - RTPSEC_MAX_OVERHEAD)
		return 0;
	s = 1 + data[0] % (SUITE_COUNT - 1);
	f = (data[0] >> 3) & 3;
	op = data[0] >> 5;
	if (rx[s][f] == NULL)
		return 0;	/* e.g. GCM + UNENCRYPTED_SRTP */
	len = olen = size - 1;
	memcpy(buf, data + 1, len);
	memcpy(orig, data + 1, len);
	switch (op & 3) {
	case 0:
		r = rtpsec_unprotect(rx[s][f], buf, &len);
		if (r != 0 && (len != olen || memcmp(buf, orig, olen) != 0))
			abort();	/* failure must leave the packet be */
		break;
	case 1:
		r = rtpsec_unprotect_rtcp(rx[s][f], buf, &len);
		if (r != 0 && (len != olen || memcmp(buf, orig, olen) != 0))
			abort();
		break;
	case 2:
		round_trip(s, f, 0, buf, len, orig, sizeof(buf));
		break;
	default:
		round_trip(s, f, 1, buf, len, orig, sizeof(buf));
		(void)rtpsec_check_roc(rx[s][f], data + 1, size - 1, 1);
		(void)rtpsec_get_roc(rx[s][f], 0, &roc);
		break;
	}
	return 0;
}
