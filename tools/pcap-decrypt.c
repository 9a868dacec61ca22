/* pcap-decrypt.c - decrypt the SRTP in a capture into RTP pcap, WAV, report. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	    "      --no-sip          do not learn keys from SIP/SDP inside the capture\n"
	    "      --wav DIR         DIR/SSRC.wav for each PCMU/PCMA stream\n"
	    "      --raw DIR         DIR/SSRC.raw, the RTP payloads of each stream\n"
	    "      --json FILE       the per-stream report as JSON (- for stdout)\n"
	    "      --roc-max N       rollover counters to try at a stream's start (64)\n"
	    "  -q, --quiet           no report on stderr\n"
	    "  -v, --verbose         say more (key changes, ignored SDP)\n"
	    "  -h, --help            this help\n"
	    "  -V, --version         the version\n");
}

static void
progress(void *arg, uint64_t frames, uint64_t bytes)
{
	(void)arg;
	fprintf(stderr, "\r%s: %llu frames, %llu MB", cli_prog(),
	    (unsigned long long)frames, (unsigned long long)(bytes >> 20));
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

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "read", required_argument, NULL, 'r' },
		{ "write", required_argument, NULL, 'w' },
		{ "key", required_argument, NULL, 'k' },
		{ "keylog", required_argument, NULL, 'K' },
		{ "keys", required_argument, NULL, 'K' },
		{ "sdp", required_argument, NULL, 'S' },
		{ "no-sip", no_argument, NULL, 'N' },
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
	struct pcapdec_opts o = { .roc_max = 64 };
	struct pcapdec_totals t;
	struct pcapdec *d;
	struct logger lg;
	struct buf *b;
	const char *in = NULL, *json = NULL, *keyf[64], *sdpf[64];
	const char *keyl[256];
	size_t nkeyf = 0, nsdp = 0, nkeyl = 0, i;
	int c, e, quiet = 0, verbose = 0, rc, key_stdin = 0;
	char why[512];

	cli_init(argv[0]);
	while ((c = getopt_long(argc, argv, "r:w:k:K:qvhV", lo, NULL)) != -1) {
		switch (c) {
		case 'r': in = optarg; break;
		case 'w': o.out_pcap = optarg; break;
		case 'k':
			if (strcmp(optarg, "-") == 0)
				key_stdin = 1;
			else if (nkeyl < 256)
				keyl[nkeyl++] = optarg;
			else
				cli_die(XC_USAGE, "-k: too many keys");
			break;
		case 'K':
			if (nkeyf == 64)
				cli_die(XC_USAGE, "--keylog: too many files");
			keyf[nkeyf++] = optarg;
			break;
		case 'S':
			if (nsdp == 64)
				cli_die(XC_USAGE, "--sdp: too many files");
			sdpf[nsdp++] = optarg;
			break;
		case 'N': o.no_sip = 1; break;
		case 'A': o.wav_dir = optarg; break;
		case 'R': o.raw_dir = optarg; break;
		case 'J': json = optarg; break;
		case 'O':
			o.roc_max = (uint32_t)cli_num("--roc-max", optarg,
			    1u << 20);
			break;
		case 'q': quiet = 1; break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout); return XC_OK;
		case 'V': cli_version();
		default: cli_usage_hint();
		}
	}
	if (in == NULL && optind < argc)
		in = argv[optind++];
	if (in == NULL || optind != argc) {
		cli_err(in == NULL ? "no capture given" : "too many arguments");
		cli_usage_hint();
	}
	if (key_stdin && strcmp(in, "-") == 0)
		cli_die(XC_USAGE, "-k - and a capture on stdin cannot share it");
	if (o.out_pcap != NULL && strcmp(o.out_pcap, "-") == 0 && json != NULL &&
	    strcmp(json, "-") == 0)
		cli_die(XC_USAGE, "-w - and --json - cannot share stdout");
	if (key_stdin) {
		if (nkeyf == 64)
			cli_die(XC_USAGE, "--keylog: too many files");
		keyf[nkeyf++] = "-";
	}
	cli_logger(&lg, verbose ? LOG_INFO : LOG_WARN);
	o.log = &lg;
	if (!quiet && isatty(2))
		o.progress = progress;
	if (o.wav_dir != NULL && mkdir(o.wav_dir, 0755) != 0 && errno != EEXIST)
		cli_die(XC_FAIL, "%s: %s", o.wav_dir, strerror(errno));
	if (o.raw_dir != NULL && mkdir(o.raw_dir, 0755) != 0 && errno != EEXIST)
		cli_die(XC_FAIL, "%s: %s", o.raw_dir, strerror(errno));
	if ((d = pcapdec_new(&o, &e)) == NULL)
		cli_die(XC_FAIL, "%s", sbk_strerror(e));
	for (i = 0; i < nkeyl; i++) {
		if ((rc = add_line(d, keyl[i])) != XC_OK) {
			pcapdec_free(d);
			return rc;
		}
	}
	for (i = 0; i < nkeyf; i++) {
		b = read_or_die(d, keyf[i], KEYFILE_MAX);
		e = pcapdec_add_keys_text(d, buf_slice(b), why, sizeof(why));
		buf_free(b);
		if (e != 0) {
			pcapdec_free(d);
			cli_die(XC_INPUT, "%s: %s", strcmp(keyf[i], "-") ?
			    keyf[i] : "stdin", why);
		}
	}
	for (i = 0; i < nsdp; i++) {
		b = read_or_die(d, sdpf[i], SDP_MAX);
		e = pcapdec_add_sdp(d, buf_slice(b), why, sizeof(why));
		buf_free(b);
		if (e != 0) {
			pcapdec_free(d);
			cli_die(XC_INPUT, "%s: %s", sdpf[i], why);
		}
	}

	rc = pcapdec_run(d, in, why, sizeof(why));
	if (o.progress != NULL)
		fprintf(stderr, "\r\033[K");
	pcapdec_totals(d, &t);
	if (!quiet) {
		b = buf_new(16u << 20);
		if (b != NULL && pcapdec_report_text(d, b) == 0)
			fwrite(buf_data(b), 1, buf_len(b), stderr);
		buf_free(b);
	}
	if (json != NULL) {
		FILE *f = strcmp(json, "-") == 0 ? stdout : fopen(json, "w");

		b = buf_new(64u << 20);
		if (f == NULL || b == NULL || pcapdec_report_json(d, b) != 0 ||
		    fwrite(buf_data(b), 1, buf_len(b), f) != buf_len(b) ||
		    (f != stdout && fclose(f) != 0)) {
			cli_err("%s: cannot write the report", json);
			if (rc == 0)
				rc = E_IO;
		}
		buf_free(b);
	}

	if (rc == E_SHORT || rc == E_SYNTAX) {
		pcapdec_free(d);
		cli_err("%s", why);
		return XC_INPUT;
	}
	if (rc != 0) {
		pcapdec_free(d);
		cli_err("%s", why);
		return XC_FAIL;
	}
	if (t.decrypted == 0) {
		cli_err("nothing decrypted (%s)", t.keys == 0 ?
		    "no keys given or found in the capture" :
		    t.failed[PCAPDEC_UNSUPPORTED] > 0 ?
		    "the keys that fit cannot be used" :
		    "wrong keys, or no stream fits them");
		problems(d);
		pcapdec_free(d);
		return XC_CRYPTO;
	}
	if (t.streams_not_ok > 0) {
		cli_err("%llu of %llu keyed streams did not decrypt fully:",
		    (unsigned long long)t.streams_not_ok,
		    (unsigned long long)t.keyed_streams);
		problems(d);
		pcapdec_free(d);
		return XC_PARTIAL;
	}
	pcapdec_free(d);
	if (!quiet)
		fprintf(stderr, "%s: %llu packets decrypted in %llu frames\n",
		    cli_prog(), (unsigned long long)t.decrypted,
		    (unsigned long long)t.frames);
	return XC_OK;
}
