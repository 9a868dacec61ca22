/* common.c - shared command-line helpers for the sbckit tools. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "base/ev.h"
#include "base/hep.h"
#include "base/httpd.h"
#include "base/metrics.h"

static const char *progname = "sbckit";
/* How lines on stderr start: journald's priority, a time, or nothing. */
static enum { PFX_NONE, PFX_JOURNAL, PFX_TIME } prefix = PFX_NONE;

/*
 * systemd sets JOURNAL_STREAM to the device and inode of the stream it
 * connected stderr to (systemd.exec(5)): when stderr is that stream, a
 * line's "<N>" prefix sets its priority (sd-daemon(3)). Otherwise
 * SBK_LOG_TIME=1 puts a UTC time on each line.
 */
static void
prefix_init(void)
{
	const char *js = getenv("JOURNAL_STREAM"), *lt = getenv("SBK_LOG_TIME");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (js != NULL && fstat(STDERR_FILENO, &st) == 0) {
		errno = 0;
		dev = strtoull(js, &end, 10);
		if (errno == 0 && *end == ':') {
			ino = strtoull(end + 1, &end, 10);
			if (errno == 0 && *end == '\0' &&
			    dev == (unsigned long long)st.st_dev &&
			    ino == (unsigned long long)st.st_ino) {
				prefix = PFX_JOURNAL;
				return;
			}
		}
	}
	if (lt != NULL && strcmp(lt, "1") == 0)
		prefix = PFX_TIME;
}

/* The start of a line on stderr at syslog priority `pri` (3 err ... 7). */
static void
line_start(int pri)
{
	struct timespec ts;
	struct tm tm;
	char t[32];

	if (prefix == PFX_JOURNAL) {
		fprintf(stderr, "<%d>", pri);
	} else if (prefix == PFX_TIME && clock_gettime(CLOCK_REALTIME, &ts) ==
	    0 && gmtime_r(&ts.tv_sec, &tm) != NULL &&
	    strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm) > 0) {
		fprintf(stderr, "%s.%03ldZ ", t, ts.tv_nsec / 1000000);
	}
}

void
cli_init(const char *prog)
{
	const char *s = strrchr(prog, '/');

	progname = s != NULL ? s + 1 : prog;
	prefix_init();
	atexit(cli_close_stdout);
}

const char *
cli_prog(void)
{
	return progname;
}

static void
vmsg(const char *fmt, va_list ap)
{
	char m[1024];

	if (vsnprintf(m, sizeof(m), fmt, ap) < 0)
		m[0] = '\0';
	line_start(3);
	fprintf(stderr, "%s: %s\n", progname, m);
}

void
cli_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void
cli_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(code);
}

void
cli_usage_hint(void)
{
	line_start(3);
	fprintf(stderr, "Try '%s --help' for more information.\n", progname);
	exit(XC_USAGE);
}

void
cli_version(void)
{
	printf("%s (sbckit) %s\n", progname, SBK_VERSION);
	exit(XC_OK);
}

struct buf *
cli_read_file(const char *path, size_t max)
{
	FILE *f;
	struct buf *b;
	int stdin_ = path == NULL || strcmp(path, "-") == 0;
	const char *name = stdin_ ? "stdin" : path;

	f = stdin_ ? stdin : fopen(path, "rb");
	if (f == NULL) {
		cli_err("%s: %s", name, strerror(errno));
		return NULL;
	}
	if ((b = buf_new(max)) == NULL) {
		cli_err("%s: out of memory", name);
		goto fail;
	}
	for (;;) {
		uint8_t *w = buf_reserve(b, 4096);
		size_t n;

		if (w == NULL) {
			/* near the cap: try to read the last few bytes */
			size_t room = buf_max(b) - buf_len(b);
			int c;

			if (room == 0 && (c = fgetc(f)) == EOF && !ferror(f))
				break;
			if (room == 0 || (w = buf_reserve(b, room)) == NULL) {
				cli_err("%s: larger than %zu bytes", name,
				    buf_max(b));
				goto fail;
			}
			n = fread(w, 1, room, f);
			buf_commit(b, n);
			if (n < room)
				break;
			continue;
		}
		n = fread(w, 1, 4096, f);
		buf_commit(b, n);
		if (n < 4096)
			break;
	}
	if (ferror(f)) {
		cli_err("%s: %s", name, strerror(errno));
		goto fail;
	}
	if (!stdin_)
		fclose(f);
	return b;
fail:
	buf_free(b);
	if (!stdin_)
		fclose(f);
	return NULL;
}

void
cli_write_stdout(const void *p, size_t len)
{
	if (len > 0 && fwrite(p, 1, len, stdout) != len)
		cli_die(XC_FAIL, "write error: %s", strerror(errno));
}

void
cli_close_stdout(void)
{
	int bad = ferror(stdout) != 0;

	if (fflush(stdout) != 0)
		bad = 1;
	if (fclose(stdout) != 0 && errno != EBADF)
		bad = 1;
	if (bad) {
		fprintf(stderr, "%s: write error: %s\n", progname,
		    strerror(errno != 0 ? errno : EIO));
		_exit(XC_FAIL);
	}
}

static void
log_stderr(void *arg, enum log_level lvl, const char *msg)
{
	static const int pri[] = { 3, 4, 6, 7 };	/* LOG_ERR..LOG_DEBUG */

	(void)arg;
	line_start((unsigned)lvl < 4 ? pri[lvl] : 7);
	fprintf(stderr, "%s: %s: %s\n", progname, log_level_name(lvl), msg);
}

void
cli_logger(struct logger *lg, enum log_level lvl)
{
	lg->fn = log_stderr;
	lg->arg = NULL;
	lg->level = lvl;
}

int
cli_exit_code(int e)
{
	switch (e) {
	case E_OK:
		return XC_OK;
	case E_SHORT: case E_BIG: case E_SYNTAX: case E_RANGE: case E_KEY:
		return XC_INPUT;
	case E_AUTH: case E_CRYPTO: case E_REPLAY:
		return XC_CRYPTO;
	case E_INVAL:
		return XC_USAGE;
	}
	return XC_FAIL;
}

uint64_t
cli_num(const char *opt, const char *s, uint64_t max)
{
	uint64_t v;

	if (slice_to_u64(slice_cstr(s), max, &v) != 0)
		cli_die(XC_USAGE, "%s: not a number up to %llu: %s", opt,
		    (unsigned long long)max, s);
	return v;
}

struct ev_loop *
cli_loop(void)
{
	struct ev_loop *loop;
	int e;

	signal(SIGPIPE, SIG_IGN);
	if ((loop = ev_new(&e)) == NULL)
		cli_die(XC_FAIL, "event loop: %s", sbk_strerror(e));
	return loop;
}

/* ---- --hep and --metrics ---- */

int
cli_obs_opt(int ch, const char *arg, struct cli_obs *o)
{
	struct hep_conf hc;
	struct net_addr a;
	int e;

	switch (ch) {
	case CLI_O_HEP:
		memset(&hc, 0, sizeof(hc));
		if ((e = hep_url_parse(arg, &hc)) != 0)
			cli_die(XC_USAGE, "--hep: %s'%s'", e == E_UNSUPPORTED ?
			    "only udp:ADDR:PORT, not " : "want udp:ADDR:PORT, "
			    "not ", arg);
		o->hep_url = arg;
		return 1;
	case CLI_O_HEPID:
		o->hep_id = (uint32_t)cli_num("--hep-id", arg, UINT32_MAX);
		return 1;
	case CLI_O_HEPPW:
		if (strlen(arg) > 255)
			cli_die(XC_USAGE, "--hep-password: at most 255 bytes");
		o->hep_pw = arg;
		return 1;
	case CLI_O_METRICS:
		/* A port alone: on loopback. */
		if ((slice_is_digits(slice_cstr(arg)) ? net_addr_parse_host(
		    slice_cstr("127.0.0.1"), (uint16_t)cli_num("--metrics",
		    arg, 65535), &a) : net_addr_parse(slice_cstr(arg), &a))
		    != 0)
			cli_die(XC_USAGE, "--metrics: want [ADDR:]PORT, not "
			    "'%s'", arg);
		o->maddr = a;
		o->metrics_addr = arg;
		return 1;
	}
	return 0;
}

void
cli_obs_start(struct cli_obs *o, struct ev_loop *loop,
    const struct logger *lg)
{
	struct hep_conf hc;
	int e;

	(void)loop;
	if (o->hep_url != NULL) {
		memset(&hc, 0, sizeof(hc));
		if (hep_url_parse(o->hep_url, &hc) != 0)
			cli_die(XC_USAGE, "--hep: bad '%s'", o->hep_url);
		hc.capture_id = o->hep_id;
		hc.auth = o->hep_pw;
		if ((o->hep = hep_new(&hc, &e)) == NULL)
			cli_die(XC_FAIL, "--hep: %s", e == E_IO ?
			    strerror(errno) : sbk_strerror(e));
	}
	if (o->metrics_addr == NULL)
		return;
	if ((o->metrics = metrics_new()) == NULL)
		cli_die(XC_FAIL, "--metrics: out of memory");
	(void)lg;
}

/* The process itself: which tool and version, since when. */
static void
process_metrics(void *arg, struct metrics_out *o)
{
	const struct cli_obs *ob = arg;

	metrics_family(o, "sbckit_build_info", METRICS_GAUGE,
	    "Always 1: the tool and its version as labels.");
	metrics_sample(o, 1, "tool", progname, "version", SBK_VERSION, NULL);
	metrics_family(o, "process_start_time_seconds", METRICS_GAUGE,
	    "Start time of the process since the Unix epoch in seconds.");
	metrics_sample(o, (uint64_t)ob->started, NULL);
}

void
cli_obs_serve(struct cli_obs *o, struct ev_loop *loop,
    const struct logger *lg)
{
	struct httpd_conf hc;
	int e;

	if (o->metrics == NULL)
		return;
	o->started = time(NULL);
	if (metrics_add(o->metrics, process_metrics, o) != 0)
		cli_die(XC_FAIL, "--metrics: too many collectors");
	memset(&hc, 0, sizeof(hc));
	hc.addr = o->maddr;
	/* The counters tell who calls whom how often: loopback unless an
	 * address says otherwise, and then a warning. */
	if (!net_addr_is_loopback(&hc.addr))
		log_msg(lg, LOG_WARN, "--metrics %s is not on loopback: "
		    "anyone who reaches it reads the counters (restrict it "
		    "with a firewall)", o->metrics_addr);
	if ((o->httpd = httpd_new(loop, &hc, metrics_http, o->metrics, lg,
	    &e)) == NULL)
		cli_die(XC_FAIL, "--metrics %s: %s", o->metrics_addr,
		    e == E_IO ? strerror(errno) : sbk_strerror(e));
	if (httpd_local(o->httpd, &hc.addr) == 0)
		cli_bound(lg, "metrics http", &hc.addr);
	fflush(stdout);
}

void
cli_obs_stop(struct cli_obs *o)
{
	httpd_free(o->httpd);
	metrics_free(o->metrics);
	hep_free(o->hep);
	o->httpd = NULL;
	o->metrics = NULL;
	o->hep = NULL;
}

static int print_addresses;	/* --print-addresses */

void
cli_print_addresses(int on)
{
	print_addresses = on;
}

void
cli_bound(const struct logger *lg, const char *what, const struct net_addr *a)
{
	char s[NET_ADDR_STRLEN];

	if (net_addr_format(a, s, sizeof(s)) != 0)
		return;
	log_msg(lg, LOG_INFO, "%s %s", what, s);
	if (print_addresses)
		printf("%s %s\n", what, s);
}
