/* srtp-ref.c - protect/unprotect hex packets with stock libsrtp2 (a reference). */
/*
 *   srtp-ref [OPTION...] protect|unprotect SUITE inline:BASE64...
 *     -m HEX   MKI as on the wire (e.g. 0001 for "|1:2"); once per key
 *     -i N     protect with key N (0-based; srtp_protect_mki's mki_index)
 *     -f FLAG  unencrypted-srtp, unencrypted-srtcp, unauthenticated-srtp,
 *              libsrtp-aes192-kdf (ignored: libsrtp does what it does)
 *
 * Several keys (an RFC 4568 multi-key line, given as one argument each,
 * anything from "|" on ignored) need an MKI each, of one length.
 *
 * Reads one packet a line, "rtp HEX" or "rtcp HEX", and writes the result
 * as HEX, or "error N" with libsrtp's status N. For tests that want an
 * independent SRTP peer or capture generator: it uses libsrtp2 only (via
 * tests/helpers/srtp_ref.h), never lib/rtpsec. Exit status: 0 ok (even if
 * packets failed), 2 usage or bad key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/b64.h"
#include "srtp_ref.h"

#define LINE_MAX_BYTES 65536

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode hex (whitespace allowed) into `out`; returns bytes or -1. */
static long
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1, v;

	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			continue;
		if ((v = hexval((unsigned char)*s)) < 0 || n >= cap)
			return -1;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return hi < 0 ? (long)n : -1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: srtp-ref protect|unprotect SUITE inline:KEY "
	    "[-m MKIHEX]... [-i INDEX] [-f FLAG]...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static char line[2 * LINE_MAX_BYTES + 16];
	static uint8_t pkt[LINE_MAX_BYTES + SRTP_MAX_TRAILER_LEN];
	static uint8_t keysalt[RTPSEC_MAX_KEYS][64];
	static uint8_t mki[RTPSEC_MAX_KEYS][SRTP_MAX_MKI_LEN];
	struct rtpsec_key more[RTPSEC_MAX_KEYS];
	const struct suite *su;
	struct rtpsec_params p = { 0 };
	struct srtp_ref ref;
	enum rtpsec_dir dir;
	const char *k;
	long n, index = 0;
	size_t len, i, nmki = 0, nkeys;
	int c, r, rtcp;

	while ((c = getopt(argc, argv, "m:i:f:h")) != -1) {
		switch (c) {
		case 'm':
			if (nmki >= RTPSEC_MAX_KEYS || (n = unhex(optarg,
			    mki[nmki], sizeof(mki[0]))) <= 0 ||
			    (nmki > 0 && (size_t)n != p.mki_len))
				usage();
			p.mki = mki[0];
			p.mki_len = (size_t)n;
			nmki++;
			break;
		case 'i':
			index = strtol(optarg, NULL, 10);
			if (index < 0 || index >= RTPSEC_MAX_KEYS)
				usage();
			break;
		case 'f':
			if (strcmp(optarg, "unencrypted-srtp") == 0)
				p.flags |= RTPSEC_UNENCRYPTED_SRTP;
			else if (strcmp(optarg, "unencrypted-srtcp") == 0)
				p.flags |= RTPSEC_UNENCRYPTED_SRTCP;
			else if (strcmp(optarg, "unauthenticated-srtp") == 0)
				p.flags |= RTPSEC_UNAUTHENTICATED_SRTP;
			else if (strcmp(optarg, "libsrtp-aes192-kdf") != 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (argc - optind < 3 || argc - optind > 2 + RTPSEC_MAX_KEYS)
		usage();
	nkeys = (size_t)(argc - optind - 2);
	if (nkeys > 1 && nmki != nkeys)
		usage();
	if (strcmp(argv[optind], "protect") == 0)
		dir = RTPSEC_PROTECT;
	else if (strcmp(argv[optind], "unprotect") == 0)
		dir = RTPSEC_UNPROTECT;
	else
		usage();
	if ((su = suite_by_cname(argv[optind + 1])) == NULL)
		usage();
	for (i = 0; i < nkeys; i++) {
		k = argv[optind + 2 + i];
		if (strncmp(k, "inline:", 7) == 0)
			k += 7;
		r = b64_decode(slice_make(k, strcspn(k, "|")), keysalt[i],
		    sizeof(keysalt[i]));
		if (r < 0 || (size_t)r != su->key_len + su->salt_len) {
			fprintf(stderr, "srtp-ref: key: wrong length for %s\n",
			    su->name);
			return 2;
		}
		if (i > 0) {
			more[i - 1].key = keysalt[i];
			more[i - 1].salt = keysalt[i] + su->key_len;
			more[i - 1].mki = mki[i];
			more[i - 1].lifetime = 0;
		}
	}
	p.suite = su->id;
	p.key = keysalt[0];
	p.key_len = su->key_len;
	p.salt = keysalt[0] + su->key_len;
	p.salt_len = su->salt_len;
	p.more = more;
	p.nmore = nkeys - 1;
	if ((size_t)index >= nkeys || srtp_ref_new(&ref, &p, dir) != 0) {
		fprintf(stderr, "srtp-ref: libsrtp2 refused the policy\n");
		return 2;
	}
	ref.mki_index = (unsigned)index;
	while (fgets(line, sizeof(line), stdin) != NULL) {
		rtcp = strncmp(line, "rtcp ", 5) == 0;
		if (!rtcp && strncmp(line, "rtp ", 4) != 0) {
			printf("error syntax\n");
			continue;
		}
		n = unhex(line + (rtcp ? 5 : 4), pkt, LINE_MAX_BYTES);
		if (n < 0) {
			printf("error syntax\n");
			continue;
		}
		len = (size_t)n;
		r = dir == RTPSEC_PROTECT ? srtp_ref_protect(&ref, pkt, &len,
		    rtcp) : srtp_ref_unprotect(&ref, pkt, &len, rtcp);
		if (r != 0) {
			printf("error %d\n", r);
			continue;
		}
		for (i = 0; i < len; i++)
			printf("%02x", pkt[i]);
		printf("\n");
		fflush(stdout);
	}
	srtp_ref_free(&ref);
	return 0;
}
