/* fuzz_sip.c - libFuzzer target: SIP stream framer, parser and editor. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "sip/sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
poke(const struct sip_msg *m, struct sip_edits *e, struct buf *out)
{
	size_t i;

	for (i = 0; i < m->nhdr; i++) {
		struct slice cur = m->hdr[i].value, v, pv;
		struct sip_addr a;
		struct sip_uri u;
		struct sip_via via;

		while (sip_value_next(&cur, &v)) {
			if (m->hdr[i].id == SIP_H_VIA) {
				(void)sip_via_parse(v, &via);
				continue;
			}
			if (sip_addr_parse(v, &a) == 0) {
				(void)sip_param(a.params, "tag", &pv, NULL);
				if (sip_uri_parse(a.uri, &u) == 0)
					(void)sip_param(u.params, "lr", &pv,
					    NULL);
			}
		}
	}
	sip_edits_reset(e);
	if (m->nhdr > 0)
		(void)sip_edit_delete(e, m->hdr[m->nhdr - 1].line);
	(void)sip_edit_add_top(e, m, "Via", SLICE_LIT("SIP/2.0/UDP x;branch=1"));
	(void)sip_edit_body(e, m, SLICE_LIT("x"));
	buf_reset(out);
	(void)sip_edits_apply(e, m, out);
	if (m->is_request) {
		buf_reset(out);
		(void)sip_build_response(m, 400, NULL, SLICE_LIT("t"),
		    SLICE_NULL, out);
	}
}

/*
 * Moved onto a copy of its bytes with its edits, a message serialises to
 * the same bytes (what the proxy does with a message the relay holds).
 */
static void
moved(const struct sip_msg *m, struct sip_edits *e, struct buf *out)
{
	struct sip_edits *e2 = sip_edits_new();
	struct buf *out2 = buf_new(1 << 20);
	uint8_t *copy = malloc(m->raw.len + 1);
	struct sip_msg mv = *m;
	int r1, r2;

	if (e2 == NULL || out2 == NULL || copy == NULL)
		goto done;
	memcpy(copy, m->raw.p, m->raw.len);
	sip_msg_move(&mv, copy);
	sip_edits_reset(e);
	if (m->nhdr > 1)
		(void)sip_edit_delete(e, m->hdr[1].line);
	(void)sip_edit_add_top(e, m, "Via", SLICE_LIT("SIP/2.0/TCP y"));
	if (sip_edits_copy(e2, e, m, &mv) != 0)
		abort();
	(void)sip_edit_body(e, m, SLICE_LIT("xy"));
	(void)sip_edit_body(e2, &mv, SLICE_LIT("xy"));
	buf_reset(out);
	r1 = sip_edits_apply(e, m, out);
	r2 = sip_edits_apply(e2, &mv, out2);
	if (r1 != r2 || (r1 == 0 && !slice_eq(buf_slice(out), buf_slice(out2))))
		abort();
done:
	free(copy);
	buf_free(out2);
	sip_edits_free(e2);
}

/*
 * A refused request names a status and a printable reason, and whatever
 * it carried can still be answered (what the proxy does with it).
 */
static void
refused(const struct sip_msg *m, struct buf *out)
{
	size_t i;

	if (m->bad_status == 0)
		return;
	if (!m->is_request || (m->bad_status != 400 && m->bad_status != 505) ||
	    m->bad_reason[0] == '\0')
		abort();
	for (i = 0; m->bad_reason[i] != '\0'; i++)
		if ((unsigned char)m->bad_reason[i] < 0x20)
			abort();
	buf_reset(out);
	(void)sip_build_response(m, m->bad_status, m->bad_reason,
	    SLICE_LIT("t"), SLICE_NULL, out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_framer *f = sip_framer_new(4096);
	struct sip_edits *e = sip_edits_new();
	struct buf *out = buf_new(1 << 20);
	struct sip_msg m;
	struct slice msg;
	size_t i, step;
	int r;

	if (f == NULL || e == NULL || out == NULL)
		goto done;
	/* As a datagram. */
	if (sip_parse(&m, slice_make(data, size)) == 0) {
		if (m.bad_status != 0)
			abort();
		poke(&m, e, out);
		moved(&m, e, out);
	} else
		refused(&m, out);
	/* As a stream, in chunks whose size depends on the input. */
	step = size > 0 ? (size_t)(data[0] % 17) + 1 : 1;
	for (i = 0; i < size; i += step) {
		size_t n = size - i < step ? size - i : step;
		if (sip_framer_feed(f, data + i, n) != 0)
			break;
		while ((r = sip_framer_next(f, &msg)) > 0)
			if (r == SIP_FRAME_MSG && sip_parse(&m, msg) == 0)
				poke(&m, e, out);
		if (r < 0)
			break;
	}
done:
	buf_free(out);
	sip_edits_free(e);
	sip_framer_free(f);
	return 0;
}
