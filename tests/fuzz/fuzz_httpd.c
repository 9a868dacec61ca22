/* fuzz_httpd.c - libFuzzer target: the metrics endpoint's request head
 * parser on arbitrary bytes (what a client sends before the empty line). */
#include <stddef.h>
#include <stdint.h>

#include "base/httpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice in = slice_make(data, size);
	struct httpd_req r;
	long end = httpd_head_end(in);
	int st;

	if (end > (long)size)
		__builtin_trap();
	st = httpd_parse_head(end >= 0 ? slice_make(data, (size_t)end) : in,
	    &r);
	if (st != 0 && st != 400 && st != 405)
		__builtin_trap();
	/* An accepted path lies within the input and starts with '/'. */
	if (st == 0 && (r.path.len == 0 || r.path.p < data ||
	    r.path.p + r.path.len > data + size || r.path.p[0] != '/'))
		__builtin_trap();
	return 0;
}
