/* fuzz_sdp.c - libFuzzer target: SDP parse, identity write, rewrites. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "media/keyline.h"
#include "media/sdp.h"
#include "media/sdprw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What we write after a rewrite must parse again. */
static void
reparse(struct sdp *s, struct buf *b)
{
	struct sdp *t;
	struct sdp_error e;

	buf_reset(b);
	if (sdp_write(s, b) != 0)
		__builtin_trap();
	if (sdp_parse(buf_slice(b), &t, &e) != 0)
		__builtin_trap();
	sdp_free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdp *s, *o;
	struct sdp_error e;
	struct buf *b;
	struct keyline **keys;
	size_t n;
	char why[128];
	struct sdprw_port pm[] = { { 0, 40000, -1 }, { 1, 40002, 40009 } };
	struct sdprw_opts opt = { 0 };

	if (sdp_parse(slice_make(data, size), &s, &e) != 0)
		return 0;
	if ((b = buf_new(4 * SDP_MAX_LEN)) == NULL)
		__builtin_trap();
	/* unchanged: byte-identical */
	if (sdp_write(s, b) != 0 || buf_len(b) != size ||
	    memcmp(buf_data(b), data, size) != 0)
		__builtin_trap();
	if (sdprw_keys(s, &keys, &n, why, sizeof(why)) == 0)
		sdprw_keys_free(keys, n);
	/* answer ourselves */
	if (sdp_parse(slice_make(data, size), &o, &e) != 0)
		__builtin_trap();
	opt.answer_to = o;
	opt.addr = "192.0.2.1";
	opt.origin_addr = "2001:db8::1";
	if (sdprw_apply(s, &opt, why, sizeof(why)) == 0)
		reparse(s, b);
	opt.answer_to = NULL;
	opt.to = SDPRW_TO_SRTP;
	opt.ports = pm;
	opt.nports = sdp_media_count(s) >= 2 ? 2 : 0;
	opt.remove_ice = 1;
	opt.mux = SDPRW_MUX_ADD;
	if (sdprw_apply(s, &opt, why, sizeof(why)) == 0)
		reparse(s, b);
	opt.to = SDPRW_TO_RTP;
	opt.mux = SDPRW_MUX_REMOVE;
	opt.addr = "::1";
	if (sdprw_apply(s, &opt, why, sizeof(why)) == 0)
		reparse(s, b);
	sdp_free(o);
	sdp_free(s);
	buf_free(b);
	return 0;
}
