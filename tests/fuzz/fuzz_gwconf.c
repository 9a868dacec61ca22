/* fuzz_gwconf.c - libFuzzer target: the gateway launcher's config file. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "gw/gwconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gwconf *c, *d;
	struct gwconf_key k;
	struct buf *b;
	char why[256], **argv;
	size_t line, i;
	int e;

	if ((c = gwconf_new()) == NULL || (d = gwconf_new()) == NULL ||
	    (b = buf_new(1 << 20)) == NULL)
		__builtin_trap();
	if (gwconf_parse(c, slice_make(data, size), &line, why, sizeof(why))
	    != 0)
		goto out;
	/* what we print must parse back to the same values */
	if (gwconf_format(c, b) != 0 ||
	    gwconf_parse(d, buf_slice(b), &line, why, sizeof(why)) != 0)
		__builtin_trap();
	for (i = 0; gwconf_key(i, &k) == 0; i++) {
		const char *x = gwconf_get(c, k.name), *y = gwconf_get(d, k.name);
		if (!(x == y || (x != NULL && y != NULL && strcmp(x, y) == 0)))
			__builtin_trap();
	}
	/* a complete config gives argument vectors */
	if (gwconf_get(c, "inside") == NULL &&
	    gwconf_set(c, SLICE_LIT("inside"), SLICE_LIT("127.0.0.1"), why,
	    sizeof(why)) != 0)
		__builtin_trap();
	if (gwconf_set(c, SLICE_LIT("ng"), SLICE_LIT("127.0.0.1:9"), why,
	    sizeof(why)) != 0)
		__builtin_trap();
	for (i = 0; i < GW_NCHILD; i++) {
		if ((e = gwconf_argv(c, (enum gw_child)i, "p", &argv)) != 0) {
			if (e != E_INVAL && e != E_BIG)
				__builtin_trap();
			continue;
		}
		buf_reset(b);
		if (gwconf_shell_quote(argv, b) != 0)
			__builtin_trap();
		gwconf_argv_free(argv);
	}
out:
	buf_free(b);
	gwconf_free(d);
	gwconf_free(c);
	return 0;
}
