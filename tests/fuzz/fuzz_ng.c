/* fuzz_ng.c - libFuzzer target for ng request and reply parsing. */
#include <stdint.h>
#include <stdlib.h>

#include "base/buf.h"
#include "ng/ng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice in = slice_make(data, size);
	struct buf *b = buf_new(NG_DGRAM_MAX);
	struct ng_req q, p;
	struct ng_reply rep;

	if (b == NULL)
		return 0;
	if (ng_req_parse(&q, in) == 0) {
		(void)ng_req_check(&q);
		(void)ng_req_warning(&q, b);
		buf_reset(b);
		/* what we understood survives our own encoder */
		if (q.cmd != NG_CMD_NONE && q.cmd != NG_CMD_OTHER &&
		    ng_req_encode(&q, b) == 0) {
			if (ng_req_parse(&p, buf_slice(b)) != 0 ||
			    p.cmd != q.cmd || !slice_eq(p.call_id, q.call_id) ||
			    !slice_eq(p.sdp, q.sdp) || p.flags != q.flags ||
			    p.replace != q.replace || p.proto != q.proto)
				abort();
			ng_req_release(&p);
		}
		buf_reset(b);
		(void)ng_reply_ok(b, q.cookie, q.sdp, q.call_id);
	}
	ng_req_release(&q);
	if (ng_reply_parse(&rep, in) == 0)
		(void)ng_reply_failover(&rep);
	ng_reply_release(&rep);
	buf_free(b);
	return 0;
}
