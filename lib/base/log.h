/* log.h - the logging callback through which the library reports. */
#ifndef SBK_LOG_H
#define SBK_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/*
 * The library never prints. Contexts that have something to say take a
 * `const struct logger *` (may be NULL: silence) and call log_msg(); the
 * tool decides where the words go. `level` is the most verbose level passed
 * on to `fn`.
 */
struct logger {
	void (*fn)(void *arg, enum log_level lvl, const char *msg);
	void *arg;
	enum log_level level;
};

void log_msg(const struct logger *lg, enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(const struct logger *lg, enum log_level lvl, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));

/* True if a message at `lvl` would reach the callback. */
static inline int
log_on(const struct logger *lg, enum log_level lvl)
{
	return lg != 0 && lg->fn != 0 && lvl <= lg->level;
}

const char *log_level_name(enum log_level lvl);

struct buf;
/*
 * A summary line, "summary: " and what `fmt` makes (key=value pairs): a
 * summary is asked for (a signal, the exit), so it goes to `lg`'s callback
 * at LOG_INFO whatever `lg`'s level, which gives it the tool's prefix and
 * priority; without a callback it is appended to `b` with a newline.
 * Returns 0, or E_BIG (a line over 1 KiB, or `b` full).
 */
int log_summary(const struct logger *lg, struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
