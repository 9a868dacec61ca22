/* log.c - format a message and hand it to the caller's logging callback. */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"

void
log_vmsg(const struct logger *lg, enum log_level lvl, const char *fmt,
    va_list ap)
{
	char msg[1024];

	if (!log_on(lg, lvl))
		return;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		return;
	lg->fn(lg->arg, lvl, msg);	/* truncated messages are fine */
}

void
log_msg(const struct logger *lg, enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lg, lvl, fmt, ap);
	va_end(ap);
}

const char *
log_level_name(enum log_level lvl)
{
	switch (lvl) {
	case LOG_ERR:	return "error";
	case LOG_WARN:	return "warning";
	case LOG_INFO:	return "info";
	case LOG_DEBUG:	return "debug";
	}
	return "?";
}

int
log_summary(const struct logger *lg, struct buf *b, const char *fmt, ...)
{
	static const char pfx[] = "summary: ";
	char l[1024];
	va_list ap;
	int n;

	memcpy(l, pfx, sizeof(pfx));
	va_start(ap, fmt);
	n = vsnprintf(l + sizeof(pfx) - 1, sizeof(l) - (sizeof(pfx) - 1), fmt,
	    ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(l) - (sizeof(pfx) - 1))
		return E_BIG;
	if (lg != NULL && lg->fn != NULL) {
		lg->fn(lg->arg, LOG_INFO, l);
		return 0;
	}
	return buf_printf(b, "%s\n", l);
}
