/* fuzz_rtp.c - libFuzzer target for the RTP/RTCP header views and demux. */
#include <stddef.h>
#include <stdint.h>

#include "media/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice s = slice_make(data, size);
	struct rtp_hdr h;
	struct rtcp_hdr c;
	volatile uint8_t sink = 0;

	(void)rtp_classify(s);
	if (rtp_parse(s, &h) == 0) {
		/* every view must lie inside the input */
		if (h.payload.len > 0)
			sink ^= h.payload.p[h.payload.len - 1];
		if (h.ext_data.len > 0)
			sink ^= h.ext_data.p[h.ext_data.len - 1];
		if (h.hdr_len + h.payload.len + h.pad_len != size)
			__builtin_trap();
	}
	if (rtp_parse_header(s, &h) == 0 && h.hdr_len + h.payload.len != size)
		__builtin_trap();
	if (rtcp_parse_header(s, &c) == 0 && c.first_len > size)
		__builtin_trap();
	(void)rtcp_parse(s, 0, &c);
	(void)rtcp_parse(s, 1, &c);
	(void)sink;
	return 0;
}
