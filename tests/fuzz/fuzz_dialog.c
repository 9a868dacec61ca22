/* fuzz_dialog.c - libFuzzer target: the border dialog table (lib/dialog). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "sip/dialog.h"
#include "sip/sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Our faces: URIs at host "gw". */
static int
is_us(void *arg, struct slice uri, uint64_t flow)
{
	struct sip_uri u;

	(void)arg;
	(void)flow;
	return sip_uri_parse(uri, &u) == 0 && slice_eq_cstr(u.host, "gw");
}

struct st {
	size_t n;
};

/* Every BYE built must parse again, as one request with our Via. */
static void
on_lost(void *arg, const struct dialog *d)
{
	struct st *s = arg;
	struct buf *b = buf_new(70000);
	struct sip_msg m;
	int hop;

	s->n++;
	if (b == NULL)
		return;
	if (dialog_bye(d, "SIP/2.0/UDP gw:5060;branch=z9hG4bKsbye.1", b) == 0
	    && (sip_parse(&m, buf_slice(b)) != 0 || !m.is_request ||
	    !slice_eq_cstr(m.method, "BYE") ||
	    !slice_eq(m.call_id, dialog_call_id(d))))
		__builtin_trap();
	(void)dialog_next_hop(d, &hop);
	buf_free(b);
}

/*
 * The input is a series of SIP messages separated by "\n\x00\n"; the
 * first byte of each says from which side it comes and for which of two
 * flows. Then both flows are lost; what was confirmed must have been
 * handed over, and the table must be empty.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t sep[] = { '\n', 0, '\n' };
	struct dialog_conf c;
	struct dialog_table *t;
	struct slice in = slice_make(data, size);
	struct st s = { 0 };
	size_t conf;
	uint64_t now = 0;
	int err;

	memset(&c, 0, sizeof(c));
	c.max = 8;
	c.is_us = is_us;
	if ((t = dialog_table_new(&c, &err)) == NULL)
		return 0;
	while (in.len > 0) {
		struct slice one = in;
		struct sip_msg m;
		long i = slice_find(in, slice_make(sep, sizeof(sep)));
		uint8_t k;

		if (i >= 0) {
			one = slice_make(in.p, (size_t)i);
			(void)slice_skip(&in, (size_t)i + sizeof(sep));
		} else
			in = SLICE_NULL;
		if (slice_u8(&one, &k) != 0 || sip_parse(&m, one) != 0)
			continue;
		now += 1000;
		if (m.is_request)
			(void)dialog_request(t, &m, k & 1, (k >> 1) & 1, now);
		else
			(void)dialog_response(t, &m, k & 1, (k >> 1) & 1, now);
		if (dialog_count(t) > 8 || dialog_confirmed(t) > dialog_count(t))
			__builtin_trap();
	}
	conf = dialog_confirmed(t);
	if (dialog_flow_lost(t, 0, on_lost, &s) + dialog_flow_lost(t, 1,
	    on_lost, &s) != conf || s.n != conf || dialog_count(t) != 0)
		__builtin_trap();
	dialog_table_free(t);
	return 0;
}
