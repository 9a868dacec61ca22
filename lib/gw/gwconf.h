/* gwconf.h - the gateway launcher's configuration: keys, file, argv. */
#ifndef SBK_GWCONF_H
#define SBK_GWCONF_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/slice.h"

/*
 * A gwconf holds one value per known key (outside, inside, upstream, ...;
 * the table is in gwconf.c and listed by gwconf_key()). Values are checked
 * when set and kept as normalised strings; an unset key reads as its
 * default. The config file format is one `key = value` a line; blank
 * lines and lines whose first non-blank byte is `#` are ignored, and a `#`
 * after whitespace starts a trailing comment. Every function that can
 * fail on input writes a lower-case reason into `why` (`n` bytes, may be
 * NULL/0). A gwconf owns all its strings; gwconf_free() releases them.
 */
struct gwconf;

/* The processes a gateway is made of, in start order. */
enum gw_child {
	GW_SRTP_BRIDGE = 0,
	GW_SIP_TLS_TERM = 1,
	GW_NCHILD
};

struct gwconf *gwconf_new(void) WUR;
void gwconf_free(struct gwconf *c);

/*
 * The key table: name, whether it is a yes/no switch, its default (NULL:
 * none) and a one-line description, for i = 0, 1, ...; returns 0, or
 * E_NOTFOUND past the end.
 */
struct gwconf_key {
	const char *name;
	int is_bool;
	const char *def;
	const char *help;
};
int gwconf_key(size_t i, struct gwconf_key *k);

/*
 * Set `key` to `value` (both borrowed, copied). Returns 0, E_NOTFOUND
 * (unknown key), E_SYNTAX or E_RANGE (bad value), E_BIG (value too long)
 * or E_NOMEM.
 */
int gwconf_set(struct gwconf *c, struct slice key, struct slice value,
    char *why, size_t n) WUR;

/*
 * Read config file text into `c`. A key may appear once per file.
 * Returns 0, or the first error as in gwconf_set() (E_SYNTAX also for a
 * line without `=`, a NUL byte, a key set twice) with its 1-based line
 * number in *line.
 */
int gwconf_parse(struct gwconf *c, struct slice text, size_t *line,
    char *why, size_t n) WUR;

/* The value of `key` (borrowed), its default when unset, NULL if neither. */
const char *gwconf_get(const struct gwconf *c, const char *key);
/*
 * The upstream's ADDR:PORT (borrowed; NULL if none), *tcp 1 when it was
 * given as tcp:ADDR:PORT.
 */
const char *gwconf_upstream(const struct gwconf *c, int *tcp);
/* Was `key` set explicitly (file or command line)? */
int gwconf_is_set(const struct gwconf *c, const char *key);
/* A yes/no key as 1/0 (unknown or unset without default: 0). */
int gwconf_bool(const struct gwconf *c, const char *key);

/*
 * Is the whole configuration usable? E_INVAL with the reason when a
 * required key is missing (outside; upstream unless registrar = yes) or
 * keys contradict each other.
 */
int gwconf_check(const struct gwconf *c, char *why, size_t n) WUR;

/*
 * The effective configuration in the file format, one key a line, keys
 * without a value as comments; gwconf_parse() reads it back to the same
 * values. Returns 0, E_BIG or E_NOMEM.
 */
int gwconf_format(const struct gwconf *c, struct buf *out) WUR;

/*
 * The argument vector that starts `which`, program `prog` (borrowed)
 * first, NULL-terminated, in a new array of new strings that
 * gwconf_argv_free() releases. Needs gwconf_check() to pass, `ng` with a
 * non-zero port and `inside` set (the caller resolves the defaults that
 * need the system). Returns 0, E_INVAL or E_NOMEM.
 */
int gwconf_argv(const struct gwconf *c, enum gw_child which,
    const char *prog, char ***argv) WUR;
void gwconf_argv_free(char **argv);

/*
 * Append `argv` as one shell command line (words quoted where needed,
 * single-quoted) and a newline to `out`. Returns 0, E_BIG or E_NOMEM.
 */
int gwconf_shell_quote(char *const *argv, struct buf *out) WUR;

/* The program name of `which` ("srtp-bridge", "sip-tls-term"). */
const char *gwconf_child_name(enum gw_child which);

#endif
