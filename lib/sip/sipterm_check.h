/* sipterm_check.h - sip-tls-term's configuration checked, nothing bound. */
#ifndef SBK_SIPTERM_CHECK_H
#define SBK_SIPTERM_CHECK_H

#include <stddef.h>

#include "base/log.h"
#include "sip/sipterm.h"

/* One check done: `what` ("tls", "tls-keylog", "auth", or "key-mode":
 * a key file group or others may read, E_PERM, a failure when the TLS
 * conf is strict, else a warning), its result (0 or an E_* code) and a
 * lower-case detail. */
typedef void sipterm_check_fn(void *arg, const char *what, int err,
    const char *detail);

/*
 * Check what sipterm_new() would load, without binding a socket or
 * creating a file: the certificates and keys load and match (OpenSSL),
 * the TLS key log can be opened for appending (the file, or its
 * directory when it does not exist yet), the credentials file reads and
 * parses, no key file group or others may read (when strict). `report`
 * (may be NULL) hears of each check; `lg` (may be NULL)
 * gets OpenSSL's details. Returns 0, or the first failure's E_* code with
 * *f filled in as sipterm_new() would (step SIPTERM_TLS or SIPTERM_AUTH).
 * Every check runs even after one failed.
 */
int sipterm_check(const struct sipterm_conf *conf, const struct logger *lg,
    sipterm_check_fn *report, void *arg, struct sipterm_fail *f) WUR;

#endif
