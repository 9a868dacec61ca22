/* log.c - format a message and hand it to the caller's logging callback. */
#include <stdio.h>

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
