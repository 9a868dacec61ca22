/* fuzz_b64.c - libFuzzer target: base64 decoding of arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "base/b64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[64];
	char enc[B64_ENC_LEN(64) + 1];
	int n;

	n = b64_decode(slice_make(data, size), out, sizeof(out));
	if (n >= 0 && b64_encode(out, (size_t)n, enc, sizeof(enc)) < 0)
		__builtin_trap();
	return 0;
}
