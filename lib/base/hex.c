/* hex.c - hexadecimal digits and strings, read. */
#include "base/hex.h"

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex_decode(struct slice h, uint8_t *out, size_t max)
{
	size_t i;
	int a, b;

	if (h.len == 0 || h.len % 2 != 0 || h.len / 2 > max)
		return -1;
	for (i = 0; i < h.len / 2; i++) {
		if ((a = hex_digit(h.p[2 * i])) < 0 ||
		    (b = hex_digit(h.p[2 * i + 1])) < 0)
			return -1;
		out[i] = (uint8_t)(a << 4 | b);
	}
	return (int)(h.len / 2);
}
