/* flow_ws.c - WebSocket connections of the flow table (RFC 6455, RFC
 * 7118): the Upgrade, then frames, each message a SIP message. */
#include <stdlib.h>
#include <string.h>

#include "sip/flow_int.h"

/* Send a close frame with `code` (best effort), then close. */
void
flow_ws_fail(struct flow_table *t, struct conn *c, uint16_t code,
    const char *why)
{
	uint8_t f[WS_HDR_MAX + 2];
	size_t hl = ws_frame_header(f, WS_OP_CLOSE, 2);

	f[hl] = (uint8_t)(code >> 8);
	f[hl + 1] = (uint8_t)code;
	if (flow_io_write(c, f, hl + 2) == 0)
		(void)flow_io_flush(c);
	flow_conn_kill(t, c, why);
}

/*
 * The Upgrade request: wait for its head, judge it, answer. 1 when the
 * connection is open (bytes after the head go to the decoder), 0 when
 * more are needed, -1 when it was killed.
 */
static int
ws_upgrade(struct flow_table *t, struct conn *c, const uint8_t *p, size_t n)
{
	struct ws_upgrade u;
	char resp[512];
	int hl, st, len;
	size_t rest;

	if (c->http == NULL && (c->http = malloc(WS_HTTP_MAX)) == NULL) {
		flow_conn_kill(t, c, "out of memory");
		return -1;
	}
	if (n > WS_HTTP_MAX - c->http_len)
		n = WS_HTTP_MAX - c->http_len;	/* the cap decides below */
	memcpy(c->http + c->http_len, p, n);
	c->http_len += n;
	hl = ws_http_head_len(c->http, c->http_len, WS_HTTP_MAX);
	if (hl == 0)
		return 0;
	memset(&u, 0, sizeof(u));
	if (hl < 0 || ws_http_parse(slice_make(c->http, (size_t)hl), &u) != 0)
		st = 400;
	else
		st = ws_http_judge(&u, t->conf.ws_origins, t->conf.nws_origins);
	len = ws_http_response(st, u.key, resp, sizeof(resp));
	if (len < 0 || flow_io_write(c, resp, (size_t)len) != 0) {
		flow_conn_kill(t, c, "write");
		return -1;
	}
	if (st != 101) {
		char a[NET_ADDR_STRLEN];

		t->ws_refused++;
		if (net_addr_format(&c->peer, a, sizeof(a)) != 0)
			a[0] = '\0';
		log_msg(t->lg, LOG_INFO, "flow %s: websocket upgrade refused: "
		    "%d", a, st);
		(void)flow_io_flush(c);
		flow_conn_kill(t, c, "bad upgrade");
		return -1;
	}
	if ((c->dec = ws_dec_new(t->conf.ws_max_msg)) == NULL) {
		flow_conn_kill(t, c, "out of memory");
		return -1;
	}
	t->ws_upgraded++;
	c->ws_open = 1;
	conntab_up(t->ct, c->handle);
	/* A client may send its first frame right behind the request. */
	rest = c->http_len - (size_t)hl;
	if (rest > 0 && ws_dec_feed(c->dec, c->http + hl, rest) != 0) {
		flow_conn_kill(t, c, "out of memory");
		return -1;
	}
	free(c->http);
	c->http = NULL;
	c->http_len = 0;
	return 1;
}

/* The events the decoder has: 0, 1 when the flow was throttled (the rest
 * wait), or -1 once the connection is gone. */
static int
ws_events(struct flow_table *t, struct conn *c)
{
	uint64_t h = c->handle;
	struct ws_event ev;
	uint8_t f[WS_HDR_MAX + 125];
	size_t hl;
	int r = 0;

	while (!flow_paused(t, c) && (r = ws_dec_next(c->dec, &ev)) > 0) {
		switch (ev.type) {
		case WS_EV_MSG:
			flow_msg_done(t, c);
			/* A keep-alive of a few CRLFs is no message. */
			if (ev.data.len <= 4 && slice_trim(ev.data).len == 0)
				break;
			conntab_ready(t->ct, h);
			t->cbs.msg(t->cbs.arg, h, ev.data);
			if (conntab_get(t->ct, h) == NULL)
				return -1;
			break;
		case WS_EV_PING:
			hl = ws_frame_header(f, WS_OP_PONG, ev.data.len);
			memcpy(f + hl, ev.data.p, ev.data.len);
			if (flow_io_write(c, f, hl + ev.data.len) != 0) {
				flow_conn_kill(t, c, "write");
				return -1;
			}
			break;
		case WS_EV_PONG:
			break;
		case WS_EV_CLOSE:
			/* Echo its code (RFC 6455 §5.5.1), then close. */
			flow_ws_fail(t, c, ev.code != 0 ? ev.code : WS_CLOSE_NORMAL,
			    "peer closed (websocket close)");
			return -1;
		}
	}
	if (flow_paused(t, c))
		return 1;	/* throttled: the rest wait in the decoder */
	if (r < 0) {
		t->ws_errors++;
		if (t->cbs.bad != NULL)
			t->cbs.bad(t->cbs.arg, h, r);
		if ((c = conntab_get(t->ct, h)) != NULL)
			flow_ws_fail(t, c, ws_dec_close_code(c->dec), r == E_BIG ?
			    "websocket message too large" :
			    "websocket protocol error");
		return -1;
	}
	return 0;
}

/* Read a WebSocket connection: the Upgrade, then frames. */
void
flow_ws_read(struct flow_table *t, struct conn *c)
{
	int r = 0, n;

	/* What a throttle left decoded comes first. */
	if (c->ws_open && (r = ws_events(t, c)) < 0)
		return;
	for (n = 0; r == 0; n++) {
		size_t got = 0;

		if (n == READS_PER_EVENT) {
			flow_revisit_add(t, c);	/* see flow_conn_read() */
			break;
		}
		r = flow_io_read(c, t->rbuf, WS_FEED_MAX, &got);
		if (r == E_AGAIN)
			break;
		if (r != 0 || got == 0) {
			flow_conn_kill(t, c, r != 0 ? "read error" : "peer closed");
			return;
		}
		conntab_touch(t->ct, c->handle);
		if (!c->ws_open) {
			if ((r = ws_upgrade(t, c, t->rbuf, got)) < 0)
				return;
			if (r == 0)
				continue;
		} else if (ws_dec_feed(c->dec, t->rbuf, got) != 0) {
			flow_ws_fail(t, c, WS_CLOSE_TOO_BIG, "out of memory");
			return;
		}
		if ((r = ws_events(t, c)) < 0)
			return;
		ws_dec_release(c->dec);
	}
	if (c->dec != NULL)
		ws_dec_release(c->dec);
	flow_after_read(t, c);
}
