/* common.h - what every sbckit tool's main() shares: exit codes, messages. */
#ifndef SBK_COMMON_H
#define SBK_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/net.h"

/* Exit codes, the same in every tool (see sbckit(7)). */
enum {
	XC_OK = 0,		/* success */
	XC_FAIL = 1,		/* runtime or protocol failure */
	XC_USAGE = 2,		/* bad command line */
	XC_INPUT = 3,		/* malformed input */
	XC_CRYPTO = 4,		/* crypto or authentication failure */
};

#ifndef SBK_VERSION
#define SBK_VERSION "0.1.0"
#endif

/* Set the program name used in messages (call first in main()). */
void cli_init(const char *prog);
const char *cli_prog(void);

/* `prog: msg` on stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* `prog: msg` on stderr, then exit(code). */
void cli_die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* The one-line hint for a bad option, then exit(2). */
void cli_usage_hint(void) __attribute__((noreturn));
/* `prog VERSION` on stdout, exit 0. */
void cli_version(void) __attribute__((noreturn));

/*
 * Read all of `path` ("-" or NULL: stdin) into a new buf capped at `max`.
 * On failure prints `prog: path: reason` and returns NULL.
 */
struct buf *cli_read_file(const char *path, size_t max);

/* Write `len` bytes to stdout; on failure print and exit 1. */
void cli_write_stdout(const void *p, size_t len);

/*
 * Flush and close stdout, exiting 1 with a message if any write failed
 * (a full disk or a closed pipe must not pass silently). Registered by
 * cli_init() with atexit().
 */
void cli_close_stdout(void);

/* A logger that writes `prog: level: msg` to stderr up to `lvl`. */
void cli_logger(struct logger *lg, enum log_level lvl);

/*
 * A daemon's bound sockets (--print-addresses): cli_bound() logs "WHAT
 * ADDR:PORT" to `lg` at LOG_INFO (a start-up line with the tool's prefix,
 * on stderr), and once cli_print_addresses(1) was called also writes it,
 * alone on a line, to stdout for scripts and the launcher. Stdout is not
 * flushed here: the tool flushes once all its sockets are bound, so a
 * reader that sees one line sees them all.
 */
void cli_print_addresses(int on);
void cli_bound(const struct logger *lg, const char *what,
    const struct net_addr *a);

/* Exit code for a library error code (E_SYNTAX -> 3, E_AUTH -> 4, ...). */
int cli_exit_code(int e);

/*
 * The number `s` given to option `opt`, 0 to `max`; otherwise exit 2 with
 * `prog: OPT: not a number up to MAX: S`.
 */
uint64_t cli_num(const char *opt, const char *s, uint64_t max);

struct ev_loop;
/*
 * A daemon's event loop, with SIGPIPE ignored (a peer gone shows as a
 * write error); exit 1 with `prog: event loop: reason` if there is none.
 */
struct ev_loop *cli_loop(void);

/*
 * --hep, --hep-id, --hep-password and --metrics, shared by the daemons:
 * CLI_OBS_OPTIONS goes into a getopt_long table, cli_obs_opt() takes
 * its options (1 if `ch` was one), cli_obs_start() makes the HEP sender
 * and the metrics endpoint (cli_bound() "metrics http ADDR:PORT"; exit 1
 * or 2 on failure), the tool adds its collectors to `metrics`.
 */
enum { CLI_O_HEP = 0x1000, CLI_O_HEPID, CLI_O_HEPPW, CLI_O_METRICS };
#define CLI_OBS_OPTIONS \
	{ "hep", required_argument, NULL, CLI_O_HEP }, \
	{ "hep-id", required_argument, NULL, CLI_O_HEPID }, \
	{ "hep-password", required_argument, NULL, CLI_O_HEPPW }, \
	{ "metrics", required_argument, NULL, CLI_O_METRICS }
#define CLI_OBS_USAGE \
	"      --hep udp:ADDR:PORT       send a HEPv3 copy to a collector (Homer, sngrep -L)\n" \
	"      --hep-id N                HEP capture agent id (0)\n" \
	"      --hep-password S          HEP authentication key\n" \
	"      --metrics [ADDR:]PORT     Prometheus endpoint, GET /metrics (127.0.0.1)\n"

struct hep;
struct metrics;
struct httpd;
struct cli_obs {
	const char *hep_url, *hep_pw, *metrics_addr;
	struct net_addr maddr;		/* --metrics, parsed */
	uint32_t hep_id;
	struct hep *hep;		/* cli_obs_start(): or NULL */
	struct metrics *metrics;	/* cli_obs_start(): or NULL */
	struct httpd *httpd;
	int64_t started;		/* wall clock, s */
};
int cli_obs_opt(int ch, const char *arg, struct cli_obs *o);
void cli_obs_start(struct cli_obs *o, struct ev_loop *loop,
    const struct logger *lg);
/* Serve the metrics (after the collectors are added). */
void cli_obs_serve(struct cli_obs *o, struct ev_loop *loop,
    const struct logger *lg);
void cli_obs_stop(struct cli_obs *o);

#endif
