/* hex.h - hexadecimal digits and strings, read. */
#ifndef SBK_HEX_H
#define SBK_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "base/slice.h"

/* The value of hex digit `c` (either case), or -1. */
int hex_digit(int c);

/*
 * The bytes of an even-length hex string `h` (either case) into `out`
 * (room for `max`): their count, or -1 (empty, odd length, a non-digit,
 * more than `max` bytes).
 */
int hex_decode(struct slice h, uint8_t *out, size_t max);

#endif
