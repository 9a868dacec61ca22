/* t.h - a tiny TAP producer for the C unit tests (one header, no library). */
#ifndef SBK_T_H
#define SBK_T_H

#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>

/*
 * Each test program calls its checks through these macros and ends with
 * `return t_done();`. Output is TAP ("ok N - name" / "not ok N - name");
 * tests/run counts the lines. A failed check prints where and why.
 */
static int t_n, t_failed;

#define T_OK(cond, ...) t_ok_((cond) ? 1 : 0, __FILE__, __LINE__, #cond, __VA_ARGS__)

static inline int __attribute__((format(printf, 5, 6)))
t_ok_(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	t_n++;
	printf("%sok %d - ", ok ? "" : "not ", t_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok) {
		t_failed++;
		printf("#   failed at %s:%d: %s\n", file, line, expr);
	}
	fflush(stdout);
	return ok;
}

#define T_EQ_INT(a, b, ...) do { \
	long long t_a_ = (long long)(a), t_b_ = (long long)(b); \
	if (!T_OK(t_a_ == t_b_, __VA_ARGS__)) \
		printf("#   got %lld, want %lld\n", t_a_, t_b_); \
} while (0)

#define T_EQ_STR(a, b, ...) do { \
	const char *t_a_ = (a), *t_b_ = (b); \
	int t_same_ = t_a_ != NULL && t_b_ != NULL && strcmp(t_a_, t_b_) == 0; \
	if (!T_OK(t_same_, __VA_ARGS__)) \
		printf("#   got  \"%s\"\n#   want \"%s\"\n", \
		    t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)"); \
} while (0)

#define T_EQ_MEM(a, alen, b, blen, ...) do { \
	size_t t_al_ = (alen), t_bl_ = (blen); \
	T_OK(t_al_ == t_bl_ && memcmp((a), (b), t_al_) == 0, __VA_ARGS__); \
} while (0)

static inline int
t_done(void)
{
	printf("1..%d\n", t_n);
	return t_failed != 0;
}

#endif
