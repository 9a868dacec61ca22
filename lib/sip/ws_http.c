/* ws_http.c - the WebSocket opening handshake: Upgrade parsed, answered. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/b64.h"
#include "sip/ws.h"

int
ws_http_head_len(const uint8_t *p, size_t len, size_t cap)
{
	size_t i, n = len < cap ? len : cap;

	for (i = 3; i < n; i++)
		if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' &&
		    p[i - 3] == '\r')
			return (int)(i + 1);
	return len >= cap ? E_BIG : 0;
}

/* Does comma-separated list `v` hold `tok` (any case)? */
static int
list_has(struct slice v, const char *tok)
{
	struct slice item;

	while (v.len > 0) {
		(void)slice_split(&v, ',', &item);
		if (slice_case_eq_cstr(slice_trim(item), tok))
			return 1;
	}
	return 0;
}

/* The next CRLF-ended line of `s` into *line (without the CRLF). */
static int
next_line(struct slice *s, struct slice *line)
{
	long i = slice_find(*s, SLICE_LIT("\r\n"));

	if (i < 0)
		return 0;
	*line = slice_make(s->p, (size_t)i);
	(void)slice_skip(s, (size_t)i + 2);
	return 1;
}

/* Request line: METHOD SP TARGET SP HTTP/1.1 */
static int
request_line(struct slice line, struct ws_upgrade *u)
{
	if (!slice_split(&line, ' ', &u->method) ||
	    !slice_split(&line, ' ', &u->target))
		return E_SYNTAX;
	u->version = line;
	if (u->method.len == 0 || u->target.len == 0 ||
	    slice_chr(u->version, ' ') >= 0 ||
	    !(u->version.len == 8 && memcmp(u->version.p, "HTTP/1.", 7) == 0))
		return E_SYNTAX;
	return 0;
}

/* A header whose value is a single item: a second one is an error. */
static void
once(struct ws_upgrade *u, struct slice *dst, struct slice v)
{
	if (dst->p != NULL)
		u->dup = 1;
	*dst = v;
}

static int
header(struct ws_upgrade *u, struct slice name, struct slice v)
{
	uint64_t ver;

	if (slice_case_eq_cstr(name, "Upgrade"))
		u->upgrade_ws |= list_has(v, "websocket");
	else if (slice_case_eq_cstr(name, "Connection"))
		u->conn_upgrade |= list_has(v, "upgrade");
	else if (slice_case_eq_cstr(name, "Sec-WebSocket-Protocol"))
		u->proto_sip |= list_has(v, "sip");
	else if (slice_case_eq_cstr(name, "Sec-WebSocket-Key"))
		once(u, &u->key, v);
	else if (slice_case_eq_cstr(name, "Origin"))
		once(u, &u->origin, v);
	else if (slice_case_eq_cstr(name, "Host"))
		once(u, &u->host, v);
	else if (slice_case_eq_cstr(name, "Sec-WebSocket-Version")) {
		if (u->ws_version != -1)
			u->dup = 1;
		u->ws_version = slice_to_u64(v, 255, &ver) == 0 ? (int)ver :
		    -2;
	}
	return 0;
}

int
ws_http_parse(struct slice head, struct ws_upgrade *u)
{
	struct slice line, name;
	size_t i;
	int r;

	memset(u, 0, sizeof(*u));
	u->ws_version = -1;
	if (!next_line(&head, &line) || (r = request_line(line, u)) != 0)
		return E_SYNTAX;
	while (next_line(&head, &line)) {
		if (line.len == 0)
			return 0;	/* the blank line: the head is done */
		/* No folding (obsolete), no control bytes. */
		if (line.p[0] == ' ' || line.p[0] == '\t')
			return E_SYNTAX;
		for (i = 0; i < line.len; i++)
			if (line.p[i] < 0x20 && line.p[i] != '\t')
				return E_SYNTAX;
		if (!slice_split(&line, ':', &name) || name.len == 0 ||
		    slice_chr(name, ' ') >= 0 || slice_chr(name, '\t') >= 0)
			return E_SYNTAX;
		if ((r = header(u, name, slice_trim(line))) != 0)
			return r;
	}
	return E_SYNTAX;		/* no blank line */
}

/* A key is 16 bytes in base64: 24 characters with "==". */
static int
key_ok(struct slice key)
{
	uint8_t raw[18];

	return key.len == 24 && b64_decode(key, raw, sizeof(raw)) == 16;
}

int
ws_http_judge(const struct ws_upgrade *u, const char *const *origins,
    size_t norigins)
{
	size_t i;

	if (!slice_eq_cstr(u->method, "GET") ||
	    !slice_eq_cstr(u->version, "HTTP/1.1") || u->dup ||
	    !u->upgrade_ws || !u->conn_upgrade)
		return 400;
	if (u->ws_version != 13)
		return 426;
	if (!key_ok(u->key) || !u->proto_sip)
		return 400;
	if (norigins == 0 || u->origin.len == 0)
		return 101;
	for (i = 0; i < norigins; i++)
		if (slice_case_eq_cstr(u->origin, origins[i]))
			return 101;
	return 403;
}

int
ws_accept(struct slice key, char out[WS_ACCEPT_LEN + 1])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, key.p, key.len) == 1 &&
	    EVP_DigestUpdate(ctx, guid, sizeof(guid) - 1) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 20;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return E_CRYPTO;
	return b64_encode(md, 20, out, WS_ACCEPT_LEN + 1) == WS_ACCEPT_LEN ?
	    0 : E_CRYPTO;
}

int
ws_http_response(int status, struct slice key, char *out, size_t n)
{
	char acc[WS_ACCEPT_LEN + 1];
	const char *reason;
	int r;

	if (status == 101) {
		if ((r = ws_accept(key, acc)) != 0)
			return r;
		r = snprintf(out, n, "HTTP/1.1 101 Switching Protocols\r\n"
		    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		    "Sec-WebSocket-Accept: %s\r\n"
		    "Sec-WebSocket-Protocol: sip\r\n\r\n", acc);
	} else {
		reason = status == 403 ? "Forbidden" : status == 426 ?
		    "Upgrade Required" : "Bad Request";
		r = snprintf(out, n, "HTTP/1.1 %d %s\r\n%s"
		    "Connection: close\r\nContent-Length: 0\r\n\r\n", status,
		    reason, status == 426 ? "Sec-WebSocket-Version: 13\r\n" :
		    "");
	}
	return r < 0 || (size_t)r >= n ? E_BIG : r;
}
