/* g711.h - G.711 (PCMU / PCMA) decoding to 16-bit linear PCM. */
#ifndef SBK_G711_H
#define SBK_G711_H

#include <stddef.h>
#include <stdint.h>

/* Decode `n` mu-law (PCMU, RTP payload type 0) bytes into `out[n]`. */
void g711_ulaw_decode(const uint8_t *in, size_t n, int16_t *out);
/* Decode `n` A-law (PCMA, RTP payload type 8) bytes into `out[n]`. */
void g711_alaw_decode(const uint8_t *in, size_t n, int16_t *out);

int16_t g711_ulaw_to_linear(uint8_t u);
int16_t g711_alaw_to_linear(uint8_t a);

#endif
