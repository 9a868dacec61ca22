/* fuzz_ws.c - libFuzzer target: the WebSocket Upgrade parser and frames. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The first byte picks the part: even, the Upgrade head; odd, a frame
 * stream fed in pieces whose sizes the next byte sets. */
static void
upgrade(const uint8_t *p, size_t n)
{
	const char *orig[] = { "https://phone.test" };
	struct ws_upgrade u;
	char out[512];
	int hl = ws_http_head_len(p, n, WS_HTTP_MAX), st;

	if (hl <= 0 || ws_http_parse(slice_make(p, (size_t)hl), &u) != 0)
		return;
	st = ws_http_judge(&u, orig, 1);
	(void)ws_http_response(st, u.key, out, sizeof(out));
}

static void
frames(const uint8_t *p, size_t n)
{
	struct ws_dec *d;
	struct ws_event ev;
	size_t step, k;
	int r;

	if (n < 1)
		return;
	step = (size_t)p[0] % 64 + 1;
	p++;
	n--;
	if ((d = ws_dec_new(4096)) == NULL)
		return;
	while (n > 0) {
		k = n < step ? n : step;
		if (ws_dec_feed(d, p, k) != 0)
			break;
		p += k;
		n -= k;
		while ((r = ws_dec_next(d, &ev)) > 0)
			if (ev.data.len > 0 && ev.data.p[0] == 0xff &&
			    ev.data.p[ev.data.len - 1] == 0xfe)
				(void)ws_dec_held(d);
		if (r < 0) {
			(void)ws_dec_close_code(d);
			break;
		}
		ws_dec_release(d);
	}
	ws_dec_free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		frames(data + 1, size - 1);
	else
		upgrade(data + 1, size - 1);
	return 0;
}
