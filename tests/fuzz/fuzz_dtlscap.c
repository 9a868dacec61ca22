/* fuzz_dtlscap.c - libFuzzer target: DTLS records and handshake fragments
 * as a capture sees them (cap/dtlscap.c), then the key export. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cap/dtlscap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is a sequence of datagrams, each a byte (bit 0: the side) and
 * a 16-bit big-endian length, then its bytes (cut short at the end).
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dtlscap_hs h;
	static const uint8_t master[48] = { 1, 2, 3 };
	struct dtlscap_keys k;
	size_t len;
	int side, r;

	dtlscap_init(&h);
	while (size >= 3) {
		side = data[0] & 1;
		len = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		(void)dtlscap_is_dtls(slice_make(data, len));
		(void)dtlscap_input(&h, side, slice_make(data, len));
		if (h.r[0].got > h.r[0].len || h.r[1].got > h.r[1].len ||
		    h.r[0].len > DTLSCAP_MSG_MAX ||
		    h.r[1].len > DTLSCAP_MSG_MAX)
			__builtin_trap();
		data += len;
		size -= len;
	}
	r = dtlscap_srtp_keys(&h, master, sizeof(master), &k);
	if (r == 0 && (k.key_len + k.salt_len > SUITE_MAX_KEY_SALT ||
	    k.key_len == 0))
		__builtin_trap();
	return 0;
}
