/* slice.c - the out-of-line slice helpers. */
#include "base/slice.h"

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int
slice_case_eq(struct slice a, struct slice b)
{
	size_t i;

	if (a.len != b.len)
		return 0;
	for (i = 0; i < a.len; i++)
		if (lower(a.p[i]) != lower(b.p[i]))
			return 0;
	return 1;
}

int
slice_case_eq_cstr(struct slice a, const char *b)
{
	return slice_case_eq(a, slice_cstr(b));
}

long
slice_chr(struct slice s, int c)
{
	const uint8_t *q;

	if (s.len == 0)
		return -1;
	q = memchr(s.p, c, s.len);
	return q != NULL ? (long)(q - s.p) : -1;
}

long
slice_find(struct slice s, struct slice n)
{
	size_t i;

	if (n.len == 0)
		return 0;
	if (n.len > s.len)
		return -1;
	for (i = 0; i + n.len <= s.len; i++) {
		if (s.p[i] == n.p[0] && memcmp(s.p + i, n.p, n.len) == 0)
			return (long)i;
	}
	return -1;
}

struct slice
slice_trim(struct slice s)
{
	while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

int
slice_split(struct slice *s, int c, struct slice *head)
{
	long i = slice_chr(*s, c);

	if (i < 0) {
		*head = *s;
		s->p += s->len;
		s->len = 0;
		return 0;
	}
	head->p = s->p;
	head->len = (size_t)i;
	s->p += (size_t)i + 1;
	s->len -= (size_t)i + 1;
	return 1;
}

int
slice_is_digits(struct slice s)
{
	size_t i;

	if (s.len == 0)
		return 0;
	for (i = 0; i < s.len; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return 0;
	return 1;
}

int
slice_to_u64(struct slice s, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (s.len == 0)
		return E_SYNTAX;
	for (i = 0; i < s.len; i++) {
		unsigned d;

		if (s.p[i] < '0' || s.p[i] > '9')
			return E_SYNTAX;
		d = (unsigned)(s.p[i] - '0');
		if (d > max || x > (max - d) / 10)
			return E_RANGE;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}
