/* fuzz_keyline.c - libFuzzer target: key-line parsing and re-formatting. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "media/keyline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyline *kl, *k2;
	struct buf *b;
	char why[128];

	if (keyline_parse(slice_make(data, size), &kl, why, sizeof(why)) != 0)
		return 0;
	if ((b = buf_new(8192)) == NULL)
		__builtin_trap();
	/* what we format must parse back to the same line */
	if (keyline_format(kl, KEYLINE_FMT_SELECTORS | KEYLINE_FMT_TAG, b) != 0)
		__builtin_trap();
	if (keyline_parse(buf_slice(b), &k2, why, sizeof(why)) != 0)
		__builtin_trap();
	if (keyline_nkeys(k2) != keyline_nkeys(kl) ||
	    memcmp(keyline_master(k2, 0), keyline_master(kl, 0),
	    keyline_suite(kl)->key_len + keyline_suite(kl)->salt_len) != 0)
		__builtin_trap();
	keyline_free(k2);
	keyline_free(kl);
	buf_free(b);
	return 0;
}
