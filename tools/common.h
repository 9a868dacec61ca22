/* common.h - what every sbckit tool's main() shares: exit codes, messages. */
#ifndef SBK_COMMON_H
#define SBK_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/log.h"

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

#endif
