/* fuzz_bencode.c - libFuzzer target for the bencode decoder and printer. */
#include <stdint.h>
#include <stdlib.h>

#include "ng/bencode.h"
#include "base/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice in = slice_make(data, size);
	struct bencode_doc *d = NULL;
	struct buf *b;
	size_t used = 0;

	if (bencode_parse(in, NULL, &d, &used) != 0)
		return 0;
	/* canonical input: the root's raw span is exactly what was used */
	if (bencode_raw(bencode_root(d)).len != used ||
	    bencode_raw(bencode_root(d)).p != data)
		abort();
	b = buf_new(1 << 22);
	if (b != NULL) {
		/* re-encoding reproduces the input byte for byte */
		if (bencode_put_node(b, bencode_root(d)) != 0 ||
		    buf_len(b) != used || memcmp(buf_data(b), data, used) != 0)
			abort();
		buf_reset(b);
		(void)bencode_to_text(b, bencode_root(d), 2);
		buf_free(b);
	}
	bencode_doc_free(d);
	return 0;
}
