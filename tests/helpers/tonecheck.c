/* tonecheck.c - find the dominant tone in a WAV file and check it (e2e tests). */
/*
 *   tonecheck [--expect HZ] [--tolerance HZ] [--min-level DBFS]
 *             [--min-seconds S] [--min-purity F] FILE.wav
 *
 * Reads a 16-bit PCM WAV (what baresip's sndfile module records, or what
 * sox makes), cuts it into 100 ms blocks, drops the silent ones (below
 * --min-level), and runs a DFT (Goertzel, one filter per 10 Hz bin) over
 * each active block. It prints one line:
 *
 *   freq=440 level=-9.2 active=3.80 purity=0.98
 *
 * freq: the bin with the most energy over all active blocks (Hz); level:
 * RMS of the active blocks in dBFS; active: seconds of non-silent audio;
 * purity: the share of the active energy within --tolerance of --expect
 * (or of freq without --expect). With --expect the exit status says whether
 * that tone dominates: 0 yes, 1 no (other tone, too little audio, too
 * impure), 2 usage, 3 unreadable or malformed WAV.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/slice.h"

#define BIN_HZ		10.0
#define MAX_WAV		(64u << 20)	/* 64 MiB: over an hour at 8 kHz */

struct audio {
	int16_t *s;		/* first channel only */
	size_t n;
	unsigned rate;
};

static int
le16(struct slice *s, uint16_t *v)
{
	if (s->len < 2)
		return E_SHORT;
	*v = (uint16_t)(s->p[0] | (s->p[1] << 8));
	s->p += 2;
	s->len -= 2;
	return 0;
}

static int
le32(struct slice *s, uint32_t *v)
{
	if (s->len < 4)
		return E_SHORT;
	*v = (uint32_t)s->p[0] | ((uint32_t)s->p[1] << 8) |
	    ((uint32_t)s->p[2] << 16) | ((uint32_t)s->p[3] << 24);
	s->p += 4;
	s->len -= 4;
	return 0;
}

/*
 * Parse RIFF/WAVE: find "fmt " (PCM, 16 bit) and "data". A data chunk whose
 * size runs past the end (a recorder killed before it fixed the header) is
 * cut to what is there. Fills `a` (a->s is malloc'd, caller frees).
 */
static int
wav_parse(struct slice w, struct audio *a)
{
	struct slice id, body, fmt = SLICE_NULL, data = SLICE_NULL;
	uint32_t riffsz, sz, rate = 0;
	uint16_t tag = 0, ch = 0, bits = 0, u16;
	size_t i, frame;
	int r;

	if ((r = slice_take(&w, 4, &id)) != 0 || (r = le32(&w, &riffsz)) != 0 ||
	    (r = slice_take(&w, 4, &body)) != 0)
		return r;
	if (!slice_eq_cstr(id, "RIFF") || !slice_eq_cstr(body, "WAVE"))
		return E_SYNTAX;
	while (w.len >= 8) {
		if ((r = slice_take(&w, 4, &id)) != 0 || (r = le32(&w, &sz)) != 0)
			return r;
		if (sz > w.len)
			sz = (uint32_t)w.len;
		if ((r = slice_take(&w, sz, &body)) != 0)
			return r;
		if (sz & 1)
			(void)slice_skip(&w, 1);
		if (slice_eq_cstr(id, "fmt "))
			fmt = body;
		else if (slice_eq_cstr(id, "data")) {
			data = body;
			break;
		}
	}
	if (fmt.p == NULL || data.p == NULL)
		return E_SYNTAX;
	if ((r = le16(&fmt, &tag)) != 0 || (r = le16(&fmt, &ch)) != 0 ||
	    (r = le32(&fmt, &rate)) != 0 || (r = slice_skip(&fmt, 6)) != 0 ||
	    (r = le16(&fmt, &bits)) != 0)
		return r;
	if ((tag != 1 && tag != 0xfffe) || bits != 16 || ch == 0 || rate == 0 ||
	    rate > 192000)
		return E_SYNTAX;
	frame = 2u * ch;
	a->rate = rate;
	a->n = data.len / frame;
	a->s = calloc(a->n ? a->n : 1, sizeof(*a->s));
	if (a->s == NULL)
		return E_NOMEM;
	for (i = 0; i < a->n; i++) {
		struct slice f = { data.p + i * frame, frame };

		(void)le16(&f, &u16);
		a->s[i] = (int16_t)u16;
	}
	return 0;
}

static int
read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	size_t n = 0, cap = 0;

	if (f == NULL)
		return -1;
	for (;;) {
		if (n == cap) {
			uint8_t *q;

			if (cap >= MAX_WAV)
				break;
			cap = cap ? cap * 2 : 65536;
			if ((q = realloc(p, cap)) == NULL) {
				free(p);
				fclose(f);
				errno = ENOMEM;
				return -1;
			}
			p = q;
		}
		size_t got = fread(p + n, 1, cap - n, f);
		if (got == 0)
			break;
		n += got;
	}
	if (ferror(f)) {
		free(p);
		fclose(f);
		errno = EIO;
		return -1;
	}
	fclose(f);
	*out = p;
	*len = n;
	return 0;
}

/* Power of DFT bin frequency `hz` over x[0..n) (Goertzel). */
static double
goertzel(const double *x, size_t n, double hz, unsigned rate)
{
	double w = 2.0 * M_PI * hz / rate, c = 2.0 * cos(w);
	double s0, s1 = 0, s2 = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		s0 = x[i] + c * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	return s1 * s1 + s2 * s2 - c * s1 * s2;
}

static void
usage(FILE *f)
{
	fputs("usage: tonecheck [--expect HZ] [--tolerance HZ] "
	    "[--min-level DBFS]\n"
	    "                 [--min-seconds S] [--min-purity F] FILE.wav\n",
	    f);
}

static int
num(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno != 0 || end == s || *end != '\0' ? -1 : 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "expect", required_argument, NULL, 'e' },
		{ "tolerance", required_argument, NULL, 't' },
		{ "min-level", required_argument, NULL, 'l' },
		{ "min-seconds", required_argument, NULL, 's' },
		{ "min-purity", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double expect = 0, tol = 30, minlvl = -45, minsec = 1.0, minpur = 0.6;
	struct audio a = { NULL, 0, 0 };
	uint8_t *raw = NULL;
	size_t rawlen, blk, nbins, i, b, bestb, active = 0;
	double *x, *pw, sumsq = 0, band = 0, total = 0, level, purity, best;
	int c, r, ok;

	while ((c = getopt_long(argc, argv, "e:t:l:s:p:h", opts, NULL)) != -1) {
		double *dst = c == 'e' ? &expect : c == 't' ? &tol :
		    c == 'l' ? &minlvl : c == 's' ? &minsec :
		    c == 'p' ? &minpur : NULL;

		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (dst == NULL || num(optarg, dst) != 0) {
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (read_file(argv[optind], &raw, &rawlen) != 0) {
		fprintf(stderr, "tonecheck: %s: %s\n", argv[optind],
		    strerror(errno));
		return 3;
	}
	r = wav_parse(slice_make(raw, rawlen), &a);
	free(raw);
	if (r != 0) {
		fprintf(stderr, "tonecheck: %s: not a 16-bit PCM WAV\n",
		    argv[optind]);
		return 3;
	}

	blk = a.rate / 10;			/* 100 ms: 10 Hz bins */
	nbins = (size_t)(a.rate / 2 / BIN_HZ);
	x = calloc(blk, sizeof(*x));
	pw = calloc(nbins + 1, sizeof(*pw));
	if (x == NULL || pw == NULL) {
		fprintf(stderr, "tonecheck: out of memory\n");
		return 1;
	}
	for (i = 0; i + blk <= a.n; i += blk) {
		double e = 0;

		for (b = 0; b < blk; b++) {
			x[b] = a.s[i + b] / 32768.0;
			e += x[b] * x[b];
		}
		if (10.0 * log10(e / blk + 1e-20) < minlvl)
			continue;		/* silence: not heard */
		active++;
		sumsq += e;
		/* Bin 0 (DC) is skipped: it is not a tone. */
		for (b = 1; b <= nbins; b++)
			pw[b] += goertzel(x, blk, b * BIN_HZ, a.rate);
	}
	bestb = 1;
	for (b = 1; b <= nbins; b++) {
		total += pw[b];
		if (pw[b] > pw[bestb])
			bestb = b;
	}
	best = bestb * BIN_HZ;
	if (expect == 0)
		expect = best;
	for (b = 1; b <= nbins; b++)
		if (fabs(b * BIN_HZ - expect) <= tol)
			band += pw[b];
	purity = total > 0 ? band / total : 0;
	level = active ? 10.0 * log10(sumsq / (active * blk) + 1e-20) : -200;
	printf("freq=%.0f level=%.1f active=%.2f purity=%.2f\n",
	    active ? best : 0.0, level, (double)active * blk / a.rate, purity);
	ok = active > 0 && fabs(best - expect) <= tol && purity >= minpur &&
	    (double)active * blk / a.rate >= minsec;
	free(x);
	free(pw);
	free(a.s);
	return ok ? 0 : 1;
}
