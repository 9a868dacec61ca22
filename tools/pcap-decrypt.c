/* pcap-decrypt.c - decrypt the SRTP in a capture into RTP pcap, WAV, report. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "media/keyline.h"
#include "cap/pcapdec.h"
#include "common.h"

/* pcap-decrypt's own exit status: something decrypted, but not every
 * keyed stream fully (see pcap-decrypt(1), EXIT STATUS) */
#define XC_PARTIAL 5

#define KEYFILE_MAX (16u << 20)
#define SDP_MAX (1u << 20)

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: pcap-decrypt [options] [-r] CAPTURE\n"
	    "Decrypt the SRTP/SRTCP streams of a pcap or pcapng capture.\n"
	    "\n"
	    "  -r, --read FILE       capture to read (pcap or pcapng, - for stdin)\n"
	    "  -w, --write FILE      write every frame, SRTP replaced by RTP, as pcap\n"
	    "  -k, --key LINE        a key line (repeatable; - reads lines from stdin)\n"
	    "  -K, --keylog FILE     key lines from FILE (as srtp-bridge --keylog writes)\n"
	    "      --keys FILE       the same as --keylog\n"
	    "      --sdp FILE        the a=crypto keys of an SDP body\n"
	    "      --tls-keylog FILE NSS key log (SSLKEYLOGFILE): SIP inside TLS in clear,\n"
	    "                        DTLS-SRTP handshakes give their streams' keys\n"
	    "      --no-sip          do not learn keys from SIP/SDP inside the capture\n"
	    "      --keep-sdp        -w: the SIP as captured (else its SDP says RTP/AVP)\n"
	    "      --wav DIR         DIR/SSRC.wav for each PCMU/PCMA stream\n"
	    "      --raw DIR         DIR/SSRC.raw, the RTP payloads of each stream\n"
	    "      --json FILE       the per-stream report as JSON (- for stdout)\n"
	    "      --roc-max N       rollover counters to try at a stream's start (64)\n"
	    "  -q, --quiet           no report on stderr\n"
	    "  -v, --verbose         say more (key changes, ignored SDP)\n"
	    "  -h, --help            this help\n"
	    "  -V, --version         the version\n");
}

/* What the progress line needs: the file's size, when it has one, and
 * when the run began. */
struct prog {
	uint64_t size;
	struct timespec t0;
};

static void
progress(void *arg, uint64_t frames, uint64_t bytes)
{
	const struct prog *pg = arg;
	struct timespec t;
	double s;

	clock_gettime(CLOCK_MONOTONIC, &t);
	s = (double)(t.tv_sec - pg->t0.tv_sec) +
	    (double)(t.tv_nsec - pg->t0.tv_nsec) / 1e9;
	if (s <= 0)
		s = 1e-9;
	if (pg->size > 0)	/* the capture's record bytes: about its size */
		fprintf(stderr, "\r%s: %llu frames, %.0f/s, %llu of %llu MB "
		    "(%.0f%%)", cli_prog(), (unsigned long long)frames,
		    (double)frames / s, (unsigned long long)(bytes >> 20),
		    (unsigned long long)(pg->size >> 20),
		    bytes >= pg->size ? 100.0 : 100.0 * (double)bytes /
		    (double)pg->size);
	else
		fprintf(stderr, "\r%s: %llu frames, %.0f/s, %llu MB",
		    cli_prog(), (unsigned long long)frames, (double)frames / s,
		    (unsigned long long)(bytes >> 20));
}

#define PROBLEMS_MAX 50	/* streams named on stderr; the report has all */

/* The keyed streams that did not decrypt fully, one stderr line each. */
static void
problems(const struct pcapdec *d)
{
	struct buf *b = buf_new(16u << 20);
	struct slice all, line;
	size_t n = 0;

	if (b == NULL || pcapdec_report_problems(d, b) != 0) {
		buf_free(b);
		return;
	}
	all = buf_slice(b);
	while (all.len > 0) {
		slice_split(&all, '\n', &line);
		if (n++ < PROBLEMS_MAX)
			cli_err("  %.*s", (int)line.len, (const char *)line.p);
	}
	if (n > PROBLEMS_MAX)
		cli_err("  ... and %zu more (see the report)", n - PROBLEMS_MAX);
	buf_free(b);
}

static struct buf *
read_or_die(struct pcapdec *d, const char *path, size_t max)
{
	struct buf *b = cli_read_file(path, max);

	if (b == NULL) {
		pcapdec_free(d);
		exit(XC_FAIL);
	}
	return b;
}

/* Add key line `line`; on failure say why and return the exit code. */
static int
add_line(struct pcapdec *d, const char *line)
{
	struct keyline *kl;
	char why[200];
	int e;

	if ((e = keyline_parse(slice_cstr(line), &kl, why, sizeof(why))) != 0) {
		cli_err("-k: %s", why);
		return XC_USAGE;
	}
	e = pcapdec_add_key(d, kl, why, sizeof(why));
	keyline_free(kl);
	if (e != 0) {
		cli_err("-k: %s", why);
		return XC_USAGE;
	}
	return XC_OK;
}

#define MAX_KEYFILES 64
#define MAX_KEYLINES 256

/* The command line. */
struct args {
	struct pcapdec_opts o;
	const char *in, *json;
	const char *keyf[MAX_KEYFILES], *sdpf[MAX_KEYFILES];
	const char *tlsf[MAX_KEYFILES];
	size_t ntls;
	const char *keyl[MAX_KEYLINES];
	size_t nkeyf, nsdp, nkeyl;
	int quiet, verbose, key_stdin;
};

static void
parse_args(int argc, char **argv, struct args *a)
{
	static const struct option lo[] = {
		{ "read", required_argument, NULL, 'r' },
		{ "write", required_argument, NULL, 'w' },
		{ "key", required_argument, NULL, 'k' },
		{ "keylog", required_argument, NULL, 'K' },
		{ "keys", required_argument, NULL, 'K' },
		{ "sdp", required_argument, NULL, 'S' },
		{ "tls-keylog", required_argument, NULL, 'T' },
		{ "no-sip", no_argument, NULL, 'N' },
		{ "keep-sdp", no_argument, NULL, 'P' },
		{ "wav", required_argument, NULL, 'A' },
		{ "raw", required_argument, NULL, 'R' },
		{ "json", required_argument, NULL, 'J' },
		{ "roc-max", required_argument, NULL, 'O' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "r:w:k:K:qvhV", lo, NULL)) != -1) {
		switch (c) {
		case 'r': a->in = optarg; break;
		case 'w': a->o.out_pcap = optarg; break;
		case 'k':
			if (strcmp(optarg, "-") == 0)
				a->key_stdin = 1;
			else if (a->nkeyl < MAX_KEYLINES)
				a->keyl[a->nkeyl++] = optarg;
			else
				cli_die(XC_USAGE, "-k: too many keys");
			break;
		case 'K':
			if (a->nkeyf == MAX_KEYFILES)
				cli_die(XC_USAGE, "--keylog: too many files");
			a->keyf[a->nkeyf++] = optarg;
			break;
		case 'S':
			if (a->nsdp == MAX_KEYFILES)
				cli_die(XC_USAGE, "--sdp: too many files");
			a->sdpf[a->nsdp++] = optarg;
			break;
		case 'T':
			if (a->ntls == MAX_KEYFILES)
				cli_die(XC_USAGE, "--tls-keylog: too many files");
			a->tlsf[a->ntls++] = optarg;
			break;
		case 'N': a->o.no_sip = 1; break;
		case 'P': a->o.keep_sdp = 1; break;
		case 'A': a->o.wav_dir = optarg; break;
		case 'R': a->o.raw_dir = optarg; break;
		case 'J': a->json = optarg; break;
		case 'O':
			a->o.roc_max = (uint32_t)cli_num("--roc-max", optarg,
			    1u << 20);
			break;
		case 'q': a->quiet = 1; break;
		case 'v': a->verbose = 1; break;
		case 'h': usage(stdout); exit(XC_OK);
		case 'V': cli_version();
		default: cli_usage_hint();
		}
	}
	if (a->in == NULL && optind < argc)
		a->in = argv[optind++];
	if (a->in == NULL || optind != argc) {
		cli_err(a->in == NULL ? "no capture given" :
		    "too many arguments");
		cli_usage_hint();
	}
	if (a->key_stdin && strcmp(a->in, "-") == 0)
		cli_die(XC_USAGE, "-k - and a capture on stdin cannot share it");
	if (a->o.out_pcap != NULL && strcmp(a->o.out_pcap, "-") == 0 &&
	    a->json != NULL && strcmp(a->json, "-") == 0)
		cli_die(XC_USAGE, "-w - and --json - cannot share stdout");
	if (a->key_stdin) {
		if (a->nkeyf == MAX_KEYFILES)
			cli_die(XC_USAGE, "--keylog: too many files");
		a->keyf[a->nkeyf++] = "-";
	}
}

/* Every key given: lines, key files, SDP files; an exit code. */
static int
load_keys(struct pcapdec *d, const struct args *a)
{
	struct buf *b;
	char why[512];
	size_t i;
	int e, rc;

	for (i = 0; i < a->nkeyl; i++)
		if ((rc = add_line(d, a->keyl[i])) != XC_OK)
			return rc;
	for (i = 0; i < a->nkeyf; i++) {
		b = read_or_die(d, a->keyf[i], KEYFILE_MAX);
		e = pcapdec_add_keys_text(d, buf_slice(b), why, sizeof(why));
		buf_free(b);
		if (e != 0) {
			pcapdec_free(d);
			cli_die(XC_INPUT, "%s: %s", strcmp(a->keyf[i], "-") ?
			    a->keyf[i] : "stdin", why);
		}
	}
	for (i = 0; i < a->ntls; i++) {
		b = read_or_die(d, a->tlsf[i], KEYFILE_MAX);
		e = pcapdec_add_tls_keylog(d, buf_slice(b), why, sizeof(why));
		buf_free(b);
		if (e != 0) {
			pcapdec_free(d);
			cli_die(e == E_NOMEM ? XC_FAIL : XC_INPUT, "%s: %s",
			    a->tlsf[i], why);
		}
	}
	for (i = 0; i < a->nsdp; i++) {
		b = read_or_die(d, a->sdpf[i], SDP_MAX);
		e = pcapdec_add_sdp(d, buf_slice(b), why, sizeof(why));
		buf_free(b);
		if (e != 0) {
			pcapdec_free(d);
			cli_die(XC_INPUT, "%s: %s", a->sdpf[i], why);
		}
	}
	return XC_OK;
}

/* The text report on stderr, the JSON one where asked; `rc` or E_IO. */
static int
reports(const struct pcapdec *d, const struct args *a, int rc)
{
	struct buf *b;
	FILE *f;

	if (!a->quiet) {
		b = buf_new(16u << 20);
		if (b != NULL && pcapdec_report_text(d, b) == 0)
			fwrite(buf_data(b), 1, buf_len(b), stderr);
		buf_free(b);
	}
	if (a->json == NULL)
		return rc;
	f = strcmp(a->json, "-") == 0 ? stdout : fopen(a->json, "w");
	b = buf_new(64u << 20);
	if (f == NULL || b == NULL || pcapdec_report_json(d, b) != 0 ||
	    fwrite(buf_data(b), 1, buf_len(b), f) != buf_len(b) ||
	    (f != stdout && fclose(f) != 0)) {
		cli_err("%s: cannot write the report", a->json);
		if (rc == 0)
			rc = E_IO;
	}
	buf_free(b);
	return rc;
}

/* The exit status of run result `rc` (reason `why`), said on stderr. */
static int
verdict(const struct pcapdec *d, int rc, const char *why, int quiet)
{
	struct pcapdec_totals t;

	pcapdec_totals(d, &t);
	if (rc != 0) {
		if (why[0] != '\0')	/* E_IO from the JSON report: said */
			cli_err("%s", why);
		return rc == E_SHORT || rc == E_SYNTAX ? XC_INPUT : XC_FAIL;
	}
	if (t.decrypted == 0 && t.tls.decrypted == 0) {
		if (t.tls.conns > 0)
			cli_err("%llu TLS connections: %llu without keys for "
			    "their client random, %llu without a ClientHello, "
			    "%llu unsupported, %llu TLS records failed",
			    (unsigned long long)t.tls.conns,
			    (unsigned long long)t.tls.no_keys,
			    (unsigned long long)t.tls.no_hello,
			    (unsigned long long)t.tls.unsupported,
			    (unsigned long long)t.tls.failed);
		if (t.dtls.handshakes > 0)
			cli_err("%llu DTLS handshakes: %llu keyed, %llu "
			    "without keys for their client random, %llu "
			    "unsupported", (unsigned long long)t.dtls.handshakes,
			    (unsigned long long)t.dtls.keyed,
			    (unsigned long long)t.dtls.no_keys,
			    (unsigned long long)t.dtls.unsupported);
		cli_err("nothing decrypted (%s)", t.keys == 0 ?
		    "no keys given or found in the capture" :
		    t.failed[PCAPDEC_UNSUPPORTED] > 0 ?
		    "the keys that fit cannot be used" :
		    "wrong keys, or no stream fits them");
		problems(d);
		return XC_CRYPTO;
	}
	if (t.tls.failed > 0)
		cli_err("%llu TLS records did not authenticate (of %llu "
		    "decrypted)", (unsigned long long)t.tls.failed,
		    (unsigned long long)t.tls.decrypted);
	if (t.streams_not_ok > 0) {
		cli_err("%llu of %llu keyed streams did not decrypt fully:",
		    (unsigned long long)t.streams_not_ok,
		    (unsigned long long)t.keyed_streams);
		problems(d);
		return XC_PARTIAL;
	}
	if (t.tls.failed > 0)
		return XC_PARTIAL;
	if (!quiet && t.tls.keyed > 0)
		fprintf(stderr, "%s: %llu TLS connections decrypted, %llu "
		    "records, %llu SIP messages\n", cli_prog(),
		    (unsigned long long)t.tls.keyed,
		    (unsigned long long)t.tls.decrypted,
		    (unsigned long long)t.tls.sip_msgs);
	if (!quiet && t.dtls.keyed > 0)
		fprintf(stderr, "%s: %llu DTLS-SRTP handshakes keyed their "
		    "streams (%llu without keys)\n", cli_prog(),
		    (unsigned long long)t.dtls.keyed,
		    (unsigned long long)t.dtls.no_keys);
	if (!quiet && t.auth_streams > 0)
		fprintf(stderr, "%s: %llu packets decrypted in %llu frames; "
		    "%llu streams keyed by authentication (their SDP names "
		    "another address: NAT)\n", cli_prog(),
		    (unsigned long long)t.decrypted,
		    (unsigned long long)t.frames,
		    (unsigned long long)t.auth_streams);
	else if (!quiet)
		fprintf(stderr, "%s: %llu packets decrypted in %llu frames\n",
		    cli_prog(), (unsigned long long)t.decrypted,
		    (unsigned long long)t.frames);
	return XC_OK;
}

int
main(int argc, char **argv)
{
	struct args a = { .o = { .roc_max = 64 } };
	struct prog pg = { 0 };
	struct stat st;
	struct pcapdec *d;
	struct logger lg;
	char why[512] = "";
	int e, rc;

	cli_init(argv[0]);
	parse_args(argc, argv, &a);
	cli_logger(&lg, a.verbose ? LOG_INFO : LOG_WARN);
	a.o.log = &lg;
	if (!a.quiet && isatty(2)) {
		a.o.progress = progress;
		a.o.progress_arg = &pg;
		clock_gettime(CLOCK_MONOTONIC, &pg.t0);
		if (strcmp(a.in, "-") != 0 && stat(a.in, &st) == 0 &&
		    S_ISREG(st.st_mode))
			pg.size = (uint64_t)st.st_size;
	}
	if (a.o.wav_dir != NULL && mkdir(a.o.wav_dir, 0755) != 0 &&
	    errno != EEXIST)
		cli_die(XC_FAIL, "%s: %s", a.o.wav_dir, strerror(errno));
	if (a.o.raw_dir != NULL && mkdir(a.o.raw_dir, 0755) != 0 &&
	    errno != EEXIST)
		cli_die(XC_FAIL, "%s: %s", a.o.raw_dir, strerror(errno));
	if ((d = pcapdec_new(&a.o, &e)) == NULL)
		cli_die(XC_FAIL, "%s", sbk_strerror(e));
	if ((rc = load_keys(d, &a)) != XC_OK) {
		pcapdec_free(d);
		return rc;
	}
	rc = pcapdec_run(d, a.in, why, sizeof(why));
	if (a.o.progress != NULL)
		fprintf(stderr, "\r\033[K");
	rc = reports(d, &a, rc);
	rc = verdict(d, rc, why, a.quiet);
	pcapdec_free(d);
	return rc;
}
