/* test_ws.c - the WebSocket handshake and frames, against RFC 6455 vectors. */
#include "t.h"

#include "sip/ws.h"

#define REQ_OK "GET /sip HTTP/1.1\r\nHost: 127.0.0.1\r\n" \
	"Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" \
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" \
	"Origin: https://phone.example\r\n" \
	"Sec-WebSocket-Protocol: chat, sip\r\nSec-WebSocket-Version: 13\r\n\r\n"

static int
judge(const char *req, const char *const *orig, size_t n)
{
	struct ws_upgrade u;
	int hl = ws_http_head_len((const uint8_t *)req, strlen(req),
	    WS_HTTP_MAX);

	if (hl <= 0)
		return hl;
	if (ws_http_parse(slice_make(req, (size_t)hl), &u) != 0)
		return -1000;
	return ws_http_judge(&u, orig, n);
}

static void
test_http(void)
{
	char out[512], acc[WS_ACCEPT_LEN + 1];
	const char *orig[] = { "https://other.example", "HTTPS://PHONE.EXAMPLE" };
	int n;

	/* RFC 6455 §1.3: the sample nonce and its accept value. */
	T_OK(ws_accept(SLICE_LIT("dGhlIHNhbXBsZSBub25jZQ=="), acc) == 0 &&
	    strcmp(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0, "accept: %s", acc);
	T_EQ_INT(judge(REQ_OK, NULL, 0), 101, "a good upgrade");
	T_EQ_INT(judge(REQ_OK, orig, 2), 101, "origin allowed (any case)");
	T_EQ_INT(judge(REQ_OK, orig, 1), 403, "origin not allowed");
	T_EQ_INT(judge("GET / HTTP/1.1\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n",
	    orig, 1), 101, "no origin: not a browser, let in");
	T_EQ_INT(judge("GET / HTTP/1.1\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Version: 13\r\n\r\n",
	    NULL, 0), 400, "no sip subprotocol");
	T_EQ_INT(judge("GET / HTTP/1.1\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 8\r\n\r\n",
	    NULL, 0), 426, "version 8");
	T_EQ_INT(judge("GET / HTTP/1.1\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\n"
	    "Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n",
	    NULL, 0), 400, "a key of 5 bytes");
	T_EQ_INT(judge("POST / HTTP/1.1\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n",
	    NULL, 0), 400, "POST");
	T_EQ_INT(judge("GET / HTTP/1.1\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n",
	    NULL, 0), 400, "no Upgrade header");
	T_EQ_INT(judge("GET / HTTP/1.1\r\n Upgrade: websocket\r\n\r\n", NULL, 0),
	    -1000, "folded header refused");
	T_EQ_INT(judge("GET / HTTP/1.1\r\nHost: a\r\n", NULL, 0), 0,
	    "not whole yet");
	T_EQ_INT(ws_http_head_len((const uint8_t *)"GET / HTTP/1.1\r\nX: y",
	    20, 16), E_BIG, "over the cap without an end");
	n = ws_http_response(101, SLICE_LIT("dGhlIHNhbXBsZSBub25jZQ=="), out,
	    sizeof(out));
	T_OK(n > 0 && strstr(out, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK"
	    "+xOo=\r\n") != NULL && strstr(out, "Sec-WebSocket-Protocol: sip\r\n")
	    != NULL, "101 response");
	n = ws_http_response(426, SLICE_NULL, out, sizeof(out));
	T_OK(n > 0 && strncmp(out, "HTTP/1.1 426 ", 13) == 0 &&
	    strstr(out, "Sec-WebSocket-Version: 13\r\n") != NULL, "426 response");
}

/* Feed `len` bytes and return the first event's type, or the error. */
static int
one(struct ws_dec *d, const uint8_t *p, size_t len, struct ws_event *ev)
{
	int r = ws_dec_feed(d, p, len);

	if (r != 0)
		return r;
	r = ws_dec_next(d, ev);
	return r == 1 ? (int)ev->type : r;
}

static void
test_frames(void)
{
	/* RFC 6455 §5.7: "Hello" masked, fragmented, ping, and the
	 * unmasked one a client must not send. */
	static const uint8_t hello[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
	    0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	static const uint8_t unmasked[] = { 0x81, 0x05, 'H', 'e', 'l', 'l',
	    'o' };
	static const uint8_t frag[] = { 0x01, 0x83, 0, 0, 0, 0, 'H', 'e', 'l',
	    0x89, 0x82, 1, 2, 3, 4, 'p' ^ 1, 'q' ^ 2,	/* ping between */
	    0x80, 0x82, 0, 0, 0, 0, 'l', 'o' };
	static const uint8_t closef[] = { 0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8 };
	static const uint8_t rsv[] = { 0xc1, 0x80, 0, 0, 0, 0 };
	static const uint8_t cont0[] = { 0x80, 0x80, 0, 0, 0, 0 };
	static const uint8_t bigping[] = { 0x89, 0xfe, 0, 126, 0, 0, 0, 0 };
	uint8_t big[16] = { 0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0 };
	uint8_t hdr[WS_HDR_MAX];
	struct ws_event ev;
	struct ws_dec *d;
	size_t i;

	d = ws_dec_new(1024);
	T_EQ_INT(one(d, hello, sizeof(hello), &ev), WS_EV_MSG, "masked Hello");
	T_OK(ev.op == WS_OP_TEXT && slice_eq_cstr(ev.data, "Hello"),
	    "payload unmasked");
	T_EQ_INT(ws_dec_next(d, &ev), 0, "nothing more");
	ws_dec_release(d);
	T_EQ_INT(ws_dec_held(d), 0, "no memory held when idle");
	/* The same, a byte at a time. */
	for (i = 0; i + 1 < sizeof(hello); i++) {
		if (ws_dec_feed(d, hello + i, 1) != 0 || ws_dec_next(d, &ev) != 0)
			break;
	}
	T_OK(i + 1 == sizeof(hello) && ws_dec_partial(d), "byte by byte: partial");
	T_EQ_INT(one(d, hello + i, 1, &ev), WS_EV_MSG, "byte by byte: whole");
	T_EQ_INT(one(d, frag, sizeof(frag), &ev), WS_EV_PING, "ping first");
	T_OK(slice_eq_cstr(ev.data, "pq"), "ping payload");
	T_EQ_INT(ws_dec_next(d, &ev), 1, "then the message");
	T_OK(ev.type == WS_EV_MSG && ev.op == WS_OP_TEXT &&
	    slice_eq_cstr(ev.data, "Hello"), "fragments reassembled");
	T_EQ_INT(one(d, closef, sizeof(closef), &ev), WS_EV_CLOSE, "close");
	T_EQ_INT(ev.code, 1000, "close code");
	ws_dec_free(d);

	d = ws_dec_new(1024);
	T_EQ_INT(one(d, unmasked, sizeof(unmasked), &ev), E_SYNTAX, "unmasked");
	T_EQ_INT(ws_dec_close_code(d), 1002, "1002");
	ws_dec_free(d);
	d = ws_dec_new(1024);
	T_EQ_INT(one(d, rsv, sizeof(rsv), &ev), E_SYNTAX, "RSV bit");
	ws_dec_free(d);
	d = ws_dec_new(1024);
	T_EQ_INT(one(d, cont0, sizeof(cont0), &ev), E_SYNTAX,
	    "continuation without a start");
	ws_dec_free(d);
	d = ws_dec_new(1024);
	T_EQ_INT(one(d, bigping, sizeof(bigping), &ev), E_SYNTAX,
	    "control frame over 125");
	ws_dec_free(d);
	d = ws_dec_new(1024);
	T_EQ_INT(one(d, big, 14, &ev), E_BIG, "64-bit length over the cap");
	T_EQ_INT(ws_dec_close_code(d), 1009, "1009");
	ws_dec_free(d);

	T_EQ_INT(ws_frame_header(hdr, WS_OP_TEXT, 5), 2, "short header");
	T_OK(hdr[0] == 0x81 && hdr[1] == 5, "0x81 0x05");
	T_EQ_INT(ws_frame_header(hdr, WS_OP_TEXT, 256), 4, "16-bit header");
	T_OK(hdr[1] == 126 && hdr[2] == 1 && hdr[3] == 0, "126 0x0100");
	T_EQ_INT(ws_frame_header(hdr, WS_OP_BINARY, 65536), 10, "64-bit header");
	T_OK(hdr[0] == 0x82 && hdr[1] == 127 && hdr[7] == 1 && hdr[9] == 0,
	    "127 0x10000");
}

/* A masked client frame of `n` bytes of `c` into `out`: its length. */
static size_t
client_frame(uint8_t *out, int fin, int op, size_t n, int c)
{
	static const uint8_t key[4] = { 0x11, 0x22, 0x33, 0x44 };
	size_t hl = 2, i;

	out[0] = (uint8_t)((fin ? 0x80 : 0) | op);
	if (n < 126)
		out[1] = (uint8_t)(0x80 | n);
	else {
		out[1] = 0x80 | 126;
		out[2] = (uint8_t)(n >> 8);
		out[3] = (uint8_t)n;
		hl = 4;
	}
	memcpy(out + hl, key, 4);
	for (i = 0; i < n; i++)
		out[hl + 4 + i] = (uint8_t)(c ^ key[i & 3]);
	return hl + 4 + n;
}

/* A message in fragments grows its buffer up to the cap, no further. */
static void
test_fragments(void)
{
	static uint8_t f[8192];
	struct ws_event ev;
	struct ws_dec *d = ws_dec_new(4096);
	size_t i, n, ok = 1;

	for (i = 0; i < 3; i++) {
		n = client_frame(f, i == 2, i == 0 ? WS_OP_BINARY : WS_OP_CONT,
		    1000, 'a' + (int)i);
		if (ws_dec_feed(d, f, n) != 0 ||
		    ws_dec_next(d, &ev) != (i == 2 ? 1 : 0))
			ok = 0;
		if (i < 2)
			ws_dec_release(d);
	}
	T_OK(ok && ev.type == WS_EV_MSG && ev.op == WS_OP_BINARY &&
	    ev.data.len == 3000 && ev.data.p[0] == 'a' &&
	    ev.data.p[1500] == 'b' && ev.data.p[2999] == 'c',
	    "3000 bytes in 3 fragments");
	ws_dec_release(d);
	T_EQ_INT(ws_dec_held(d), 0, "released after the message");
	for (i = 0, ok = 0; i < 5; i++) {
		n = client_frame(f, 0, i == 0 ? WS_OP_TEXT : WS_OP_CONT, 1000,
		    'x');
		if (ws_dec_feed(d, f, n) != 0)
			break;
		if (ws_dec_next(d, &ev) == E_BIG) {
			ok = 1;
			break;
		}
		ws_dec_release(d);
	}
	T_OK(ok && i == 4 && ws_dec_close_code(d) == 1009,
	    "the fifth 1000-byte fragment passes 4096: 1009");
	ws_dec_free(d);
}

int
main(void)
{
	test_http();
	test_frames();
	test_fragments();
	return t_done();
}
