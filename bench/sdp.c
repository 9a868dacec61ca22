/* sdp.c - benchmark: µs per SDP for parse + rewrite + write of a 1 KB offer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/rnd.h"
#include "media/sdp.h"
#include "media/sdprw.h"

/*
 * What sip-tls-term and srtp-bridge do for every offer and answer: parse
 * a typical ~1 KB SRTP offer, rewrite it (to RTP, c= address, m= port) and
 * write it; and the other way (to SRTP with two fresh keys from the
 * CSPRNG). The baseline, measured in the same run, is the least any SDP
 * handling costs: copy the bytes and split them into lines. Each figure
 * is the best of several rounds of this thread's CPU time (not wall time),
 * because these machines are noisy and often loaded by parallel builds.
 * Usage: sdp [ITERATIONS]
 */

#define ROUNDS 5

static const char offer[] =
    "v=0\r\n"
    "o=- 3912004719 3912004720 IN IP4 192.0.2.33\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.33\r\n"
    "t=0 0\r\n"
    "m=audio 10002 RTP/SAVP 0 8 9 18 101\r\n"
    "b=AS:64\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=fmtp:18 annexb=no\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=sendrecv\r\n"
    "a=label:1\r\n"
    "a=ssrc:1148382390 cname:a8d2c3e1-55f1-4a9c-8b0e-7d1c9f2e3a4b\r\n"
    "a=rtcp-rsize\r\n"
    "a=ptime:20\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
    "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^31|1:1\r\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 "
    "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31|1:1\r\n"
    "m=video 10004 RTP/SAVPF 96 97\r\n"
    "b=AS:512\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=sendrecv\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
    "inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^31|1:1\r\n";

static volatile size_t sink;

static double
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* Copy the body and find every line: the floor for any SDP handling. */
static int
baseline(struct slice in, struct buf *out)
{
	const uint8_t *p, *e;
	size_t lines = 0;

	buf_reset(out);
	if (buf_append_slice(out, in) != 0)
		return -1;
	p = buf_data(out);
	e = p + buf_len(out);
	while (p < e) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(e - p));

		lines++;
		p = nl != NULL ? nl + 1 : e;
	}
	sink += lines;
	return 0;
}

static int
parse_only(struct slice in, struct buf *out)
{
	struct sdp *s;

	(void)out;
	if (sdp_parse(in, &s, NULL) != 0)
		return -1;
	sink += sdp_media_count(s);
	sdp_free(s);
	return 0;
}

static int
rewrite(struct slice in, struct buf *out, const struct sdprw_opts *o)
{
	struct sdp *s;
	int r;

	if (sdp_parse(in, &s, NULL) != 0)
		return -1;
	buf_reset(out);
	r = sdprw_apply(s, o, NULL, 0);
	if (r == 0)
		r = sdp_write(s, out);
	sdp_free(s);
	sink += buf_len(out);
	return r;
}

/* The CSPRNG call a to-SRTP rewrite makes: 2 media x 2 keys x 30 bytes. */
static int
csprng(struct slice in, struct buf *out)
{
	uint8_t k[120];

	(void)in;
	(void)out;
	return rnd_bytes(k, sizeof(k));
}

static struct rnd_pool *pool;

/* The same bytes from a 4 KiB pool (what srtp-bridge's ng daemon uses). */
static int
csprng_pool(struct slice in, struct buf *out)
{
	uint8_t k[120];

	(void)in;
	(void)out;
	return rnd_pool_bytes(pool, k, sizeof(k));
}

static const struct sdprw_port ports[] = { { 0, 40000, -1 },
	{ 1, 40002, -1 } };
static struct sdprw_opts to_rtp, to_srtp, to_srtp_pool;

static int
do_to_rtp(struct slice in, struct buf *out)
{
	return rewrite(in, out, &to_rtp);
}

static int
do_to_srtp(struct slice in, struct buf *out)
{
	return rewrite(in, out, &to_srtp);
}

static int
do_to_srtp_pool(struct slice in, struct buf *out)
{
	return rewrite(in, out, &to_srtp_pool);
}

/* Best of ROUNDS: µs per call of fn over `n` iterations. */
static double
measure(int (*fn)(struct slice, struct buf *), struct slice in,
    struct buf *out, long n)
{
	double best = 1e30;
	int k;
	long i;

	for (k = 0; k < ROUNDS; k++) {
		double t0 = now_us(), t;

		for (i = 0; i < n; i++) {
			if (fn(in, out) != 0) {
				fprintf(stderr, "sdp: benchmark step failed\n");
				exit(1);
			}
		}
		t = (now_us() - t0) / (double)n;
		if (t < best)
			best = t;
	}
	return best;
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 50000;
	struct buf *out = buf_new(SDP_MAX_LEN * 2);
	struct slice in = slice_make(offer, sizeof(offer) - 1), rtp;
	struct buf *rtpbody = buf_new(SDP_MAX_LEN * 2);
	double base, parse, down, up, rnd, upp, rndp;

	pool = rnd_pool_new(0);
	if (n <= 0 || out == NULL || rtpbody == NULL || pool == NULL)
		return 1;
	to_rtp.to = SDPRW_TO_RTP;
	to_rtp.addr = "10.0.0.2";
	to_rtp.ports = ports;
	to_rtp.nports = 2;
	to_srtp.to = SDPRW_TO_SRTP;
	to_srtp.addr = "203.0.113.5";
	to_srtp.ports = ports;
	to_srtp.nports = 2;
	to_srtp_pool = to_srtp;
	to_srtp_pool.rnd = pool;
	/* the inside's plain form is the input of the SRTP direction */
	if (do_to_rtp(in, rtpbody) != 0)
		return 1;
	rtp = buf_slice(rtpbody);

	base = measure(baseline, in, out, n);
	parse = measure(parse_only, in, out, n);
	down = measure(do_to_rtp, in, out, n);
	up = measure(do_to_srtp, rtp, out, n);
	rnd = measure(csprng, in, out, n);
	upp = measure(do_to_srtp_pool, rtp, out, n);
	rndp = measure(csprng_pool, in, out, n);
	printf("sdp: %zu-byte offer, 2 media, best of %d x %ld\n", in.len,
	    ROUNDS, n);
	printf("  baseline (copy + split lines)      %7.3f us\n", base);
	printf("  parse only                         %7.3f us  %5.1fx baseline\n",
	    parse, parse / base);
	printf("  parse + to rtp + write             %7.3f us  %5.1fx baseline"
	    "  (budget 5 us)\n", down, down / base);
	printf("  parse + to srtp (2 new keys) + write, keys from:\n");
	printf("    RAND_bytes per SDP (before)      %7.3f us  %5.1fx baseline"
	    "  (budget 5 us)\n", up, up / base);
	printf("    of which OpenSSL RAND_bytes      %7.3f us  (one call per SDP)\n",
	    rnd);
	printf("    4 KiB rnd_pool (after)           %7.3f us  %5.1fx baseline"
	    "  (budget 5 us)\n", upp, upp / base);
	printf("    of which rnd_pool_bytes          %7.3f us\n", rndp);
	printf("  to srtp speed-up, pool vs RAND_bytes: %.2fx\n", up / upp);
	buf_free(out);
	buf_free(rtpbody);
	rnd_pool_free(pool);
	return 0;
}
