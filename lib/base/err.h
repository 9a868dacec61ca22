/* err.h - the error codes every sbckit library function returns. */
#ifndef SBK_ERR_H
#define SBK_ERR_H

#include <stddef.h>

/*
 * Library functions return 0 on success or one of these (negative) codes.
 * Functions that return a pointer return NULL on failure; where the reason
 * matters they also take an `int *err`.
 */
enum {
	E_OK = 0,
	E_SHORT = -1,		/* input ends before the structure does */
	E_BIG = -2,		/* larger than the cap chosen for it */
	E_SYNTAX = -3,		/* malformed input */
	E_NOMEM = -4,		/* allocation failed */
	E_RANGE = -5,		/* a value out of its allowed range */
	E_KEY = -6,		/* bad key material (length, base64, suite) */
	E_CRYPTO = -7,		/* the crypto library failed */
	E_AUTH = -8,		/* authentication tag did not verify */
	E_REPLAY = -9,		/* packet already seen or too old */
	E_IO = -10,		/* a system call failed; see errno */
	E_NOTFOUND = -11,	/* no such item */
	E_EXIST = -12,		/* item exists already */
	E_LIMIT = -13,		/* a configured limit was reached */
	E_STATE = -14,		/* call not valid in the current state */
	E_UNSUPPORTED = -15,	/* valid input we do not handle */
	E_AGAIN = -16,		/* try again later (would block) */
	E_TIMEOUT = -17,	/* a deadline passed */
	E_INVAL = -18,		/* invalid argument from the caller */
	E_PERM = -19,		/* not permitted (a privilege is missing) */
};

#define E_MIN E_PERM

/* A static, lower-case, human-readable message for code `e`. */
const char *sbk_strerror(int e);

/* Format a reason into the caller's `why` buffer of `n` bytes (nothing
 * when `why` is NULL or `n` 0): how parsers say why they refused. */
void sbk_why(char *why, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#if defined(__GNUC__)
#define WUR __attribute__((warn_unused_result))
#else
#define WUR
#endif

#endif
