/* err.c - messages for the library's error codes. */
#include <stdarg.h>
#include <stdio.h>

#include "base/err.h"

const char *
sbk_strerror(int e)
{
	switch (e) {
	case E_OK:		return "success";
	case E_SHORT:		return "input too short";
	case E_BIG:		return "input too large";
	case E_SYNTAX:		return "syntax error";
	case E_NOMEM:		return "out of memory";
	case E_RANGE:		return "value out of range";
	case E_KEY:		return "bad key material";
	case E_CRYPTO:		return "crypto library failure";
	case E_AUTH:		return "authentication failed";
	case E_REPLAY:		return "replayed or too old packet";
	case E_IO:		return "i/o error";
	case E_NOTFOUND:	return "not found";
	case E_EXIST:		return "already exists";
	case E_LIMIT:		return "limit reached";
	case E_STATE:		return "invalid state";
	case E_UNSUPPORTED:	return "not supported";
	case E_AGAIN:		return "try again";
	case E_TIMEOUT:		return "timed out";
	case E_INVAL:		return "invalid argument";
	case E_PERM:		return "not permitted";
	}
	return "unknown error";
}

void
sbk_why(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || n == 0)
		return;
	va_start(ap, fmt);
	if (vsnprintf(why, n, fmt, ap) < 0)
		why[0] = '\0';
	va_end(ap);
}
