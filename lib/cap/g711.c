/* g711.c - G.711 (PCMU / PCMA) decoding, as in ITU-T G.711 / Sun g711.c. */
#include "cap/g711.h"

int16_t
g711_ulaw_to_linear(uint8_t u)
{
	int t;

	u = (uint8_t)~u;
	t = ((u & 0x0f) << 3) + 0x84;
	t <<= (u & 0x70) >> 4;
	return (int16_t)((u & 0x80) ? (0x84 - t) : (t - 0x84));
}

int16_t
g711_alaw_to_linear(uint8_t a)
{
	int t, seg;

	a ^= 0x55;
	t = (a & 0x0f) << 4;
	seg = (a & 0x70) >> 4;
	if (seg == 0)
		t += 8;
	else
		t = (t + 0x108) << (seg - 1);
	return (int16_t)((a & 0x80) ? t : -t);
}

void
g711_ulaw_decode(const uint8_t *in, size_t n, int16_t *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = g711_ulaw_to_linear(in[i]);
}

void
g711_alaw_decode(const uint8_t *in, size_t n, int16_t *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = g711_alaw_to_linear(in[i]);
}
