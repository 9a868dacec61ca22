/* fuzz_tlsdec.c - libFuzzer target: the key log, TCP reassembly, TLS records. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cap/tcpre.h"
#include "cap/tlsdec.h"
#include "cap/tlskeys.h"
#include "cap/wsread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The RFC 8448 section 3 session, so seeds can carry a real handshake. */
static const char keylog[] =
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET "
    "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
    "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21\n"
    "CLIENT_TRAFFIC_SECRET_0 "
    "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
    "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5\n"
    "CLIENT_RANDOM "
    "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f\n";

struct ctx {
	struct tlsdec *t;
	int side;
	size_t app;
};

static void
app(void *arg, int side, const uint8_t *p, size_t len)
{
	struct ctx *c = arg;

	if (side < 0 || side > 1 || (len > 0 && p == NULL))
		__builtin_trap();
	c->app += len;
}

static void
wsmsg(void *arg, const uint8_t *p, size_t len)
{
	(void)arg;
	if (len > 0 && p == NULL)
		__builtin_trap();
}

static void
bytes(void *arg, const uint8_t *p, size_t len)
{
	struct ctx *c = arg;

	if (p == NULL)
		tlsdec_gap(c->t, c->side);
	else
		(void)tlsdec_feed(c->t, c->side, p, len, app, c);
}

/*
 * Input: 'K' then a key log; or chunks of [op][len hi][len lo][bytes]:
 * op bit 0 the side, bit 1 a gap first, bit 2 through the reassembler
 * at the sequence offset in the two bytes after the length; 'W' first:
 * the rest is one WebSocket stream, fed in chunks of the first byte's size.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlskeys *k = tlskeys_new();
	struct tcpre *re[2] = { tcpre_new(4096), tcpre_new(4096) };
	struct ctx c = { NULL, 0, 0 };
	char why[160];
	size_t len;
	uint32_t seq;
	uint8_t op;

	if (k == NULL || re[0] == NULL || re[1] == NULL)
		goto out;
	if (size > 1 && data[0] == 'W') {
		struct wsread *w = wsread_new(2048);
		size_t step = data[1] ? data[1] : 1;

		data += 2;
		size -= 2;
		while (w != NULL && size > 0) {
			len = size < step ? size : step;
			if (wsread_feed(w, data, len, wsmsg, NULL) != 0)
				break;
			data += len;
			size -= len;
		}
		wsread_free(w);
		goto out;
	}
	if (size > 0 && data[0] == 'K') {
		(void)tlskeys_add_text(k, slice_make(data + 1, size - 1), why,
		    sizeof(why));
		goto out;
	}
	if (tlskeys_add_text(k, slice_cstr(keylog), why, sizeof(why)) != 0)
		__builtin_trap();
	if ((c.t = tlsdec_new(k)) == NULL)
		goto out;
	while (size >= 3) {
		op = data[0];
		len = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		seq = 0;
		if (op & 4) {
			if (size < 2)
				break;
			seq = (uint32_t)data[0] << 8 | data[1];
			data += 2;
			size -= 2;
		}
		if (len > size)
			len = size;
		c.side = op & 1;
		if (op & 2)
			tlsdec_gap(c.t, c.side);
		if (op & 4)
			(void)tcpre_add(re[c.side], 1000 + seq, (op & 8) != 0,
			    slice_make(data, len), bytes, &c);
		else
			(void)tlsdec_feed(c.t, c.side, data, len, app, &c);
		data += len;
		size -= len;
	}
	tcpre_flush(re[0], bytes, &(struct ctx){ c.t, 0, 0 });
	tcpre_flush(re[1], bytes, &(struct ctx){ c.t, 1, 0 });
out:
	tlsdec_free(c.t);
	tcpre_free(re[0]);
	tcpre_free(re[1]);
	tlskeys_free(k);
	return 0;
}
