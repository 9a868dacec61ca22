/* fuzz_registrar.c - libFuzzer target: REGISTER handling of the registrar. */
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "sip/registrar.h"
#include "sip/sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is one REGISTER, applied twice on two flows at two times
 * (a refresh), then looked up and expired; bindings must stay within the
 * caps and every listed Contact line must parse again.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct registrar *r = registrar_new(32);
	struct buf *out = buf_new(REG_MAX_BINDINGS * 2048);
	struct sip_msg m, back;
	struct reg_binding b;
	struct slice aor;
	int e;

	if (r == NULL || out == NULL)
		goto done;
	if (sip_parse(&m, slice_make(data, size)) != 0)
		goto done;
	for (int i = 0; i < 2; i++) {
		buf_reset(out);
		e = registrar_register(r, &m, (uint64_t)i + 1,
		    (uint64_t)i * 1000, 600, out);
		if (registrar_count(r) > 32)
			__builtin_trap();
		if (e == 0 && buf_len(out) > 0) {
			/* The list must be a valid header block. */
			struct buf *msg = buf_new(REG_MAX_BINDINGS * 2048 + 256);
			if (msg != NULL && buf_append_cstr(msg,
			    "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS h\r\n"
			    "From: <sip:a@h>\r\nTo: <sip:a@h>\r\nCall-ID: c\r\n"
			    "CSeq: 1 REGISTER\r\n") == 0 &&
			    buf_append_slice(msg, buf_slice(out)) == 0 &&
			    buf_append_cstr(msg, "Content-Length: 0\r\n\r\n")
			    == 0 && sip_parse(&back, buf_slice(msg)) != 0)
				__builtin_trap();
			buf_free(msg);
		}
	}
	aor = SLICE_NULL;
	{
		const struct sip_hdr *to = sip_find(&m, SIP_H_TO);
		struct sip_addr ta;
		struct sip_uri tu;
		if (to != NULL && sip_addr_parse(to->value, &ta) == 0 &&
		    sip_uri_parse(ta.uri, &tu) == 0)
			aor = tu.user.len > 0 ? tu.user : ta.uri;
	}
	(void)registrar_lookup(r, aor, 1500, NULL, NULL, &b);
	(void)registrar_expire(r, 700 * 1000);
	if (registrar_count(r) != 0)
		__builtin_trap();
done:
	buf_free(out);
	registrar_free(r);
	return 0;
}
