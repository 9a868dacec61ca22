/* digest.h - SIP digest authentication: credentials, challenges, checks. */
#ifndef SBK_DIGEST_H
#define SBK_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/slice.h"

/*
 * HTTP digest as SIP uses it (RFC 3261 §22, RFC 7616, RFC 8760), for a
 * registrar and a proxy that face the internet. No I/O, no clock, no
 * globals: the caller reads the credentials file, passes the time, and
 * sends the responses.
 *
 * What is supported, and what is refused on purpose:
 * - algorithms MD5 and SHA-256 (challenges offer SHA-256 first, then MD5,
 *   as RFC 8760 asks); the "-sess" variants, SHA-512-256 and userhash are
 *   refused (DIGEST_UNSUPPORTED): we never offer them.
 * - qop "auth" only. "auth-int" is refused, and so is the RFC 2069 form
 *   without qop: our challenges always carry qop="auth" and RFC 3261
 *   §22.4 makes a client that sees it answer with qop, and without qop
 *   there is no nc and so no replay check.
 * - no "opaque": the nonce carries all the state. An opaque sent by the
 *   client is parsed and ignored.
 *
 * Nonces are stateless: base64url (no padding) of
 *   time(8) || serial(8) || random(4) || HMAC-SHA256(secret, "sbk-digest" ||
 *   time || serial || random || realm)[0..16)
 * so any nonce we issued (in this process, for this realm) is recognised
 * without a table, and its age is known. The replay check (RFC 7616 §3.4.5)
 * needs state only for nonces that were used successfully: a direct-mapped
 * table of `nc_slots` slots indexed by serial, each holding the highest
 * serial stored there and its last nc. A nonce whose slot holds a higher
 * serial was, or may have been, evicted: it is treated as stale (fail
 * safe), never as fresh. Unauthenticated requests never write to the
 * table, so a stranger cannot evict anyone's nonce.
 *
 * Wiring it into a proxy (a sketch of the intended use):
 * - at start-up: 32 random bytes as the secret, digest_new(); the
 *   credentials file read and digest_creds_parse()d; on SIGHUP parse it
 *   again and swap the pointer only if the parse succeeded.
 * - which requests: a REGISTER for the built-in registrar, and any request
 *   from outside that is not inside a dialog (no To tag), except ACK and
 *   CANCEL, which cannot be challenged (RFC 3261 §22.1). Check after the
 *   transaction layer, so a retransmission does not count as a replay.
 * - REGISTER: read "Authorization"; without one, or with any result but
 *   OK, answer 401 with digest_challenge(.., "WWW-Authenticate", ..).
 *   Other requests: "Proxy-Authorization", 407 and "Proxy-Authenticate".
 *   STALE: the same answer with stale=1. MALFORMED: 400. UNSUPPORTED: a
 *   fresh challenge (it offers what we support). A request may carry
 *   several such headers (one per realm): use the one whose realm is ours.
 * - OK: *user is the authenticated user. A REGISTER whose To user differs
 *   from it (someone binding another's address) gets 403 Forbidden. The
 *   header is not forwarded upstream: remove it from the relayed request.
 */

enum digest_alg {
	DIGEST_MD5 = 0,
	DIGEST_SHA256 = 1,
};
#define DIGEST_NALG 2

/* Caps on what a stranger may send us. */
#define DIGEST_MAX_HDR		4096	/* an Authorization value */
#define DIGEST_MAX_VALUE	1024	/* one parameter's value */
#define DIGEST_MAX_PARAMS	32	/* parameters in one value */
#define DIGEST_NONCE_LEN	48	/* characters of our nonces */
/* Caps on the credentials file. */
#define DIGEST_CREDS_MAX	100000	/* entries */
#define DIGEST_CREDS_LINE	1024	/* bytes in one line */

/* ---- credentials ---- */

/*
 * The credentials file, one entry a line:
 *   user:realm:HA1
 * HA1 = H(user ":" realm ":" password) in lower-case hex: 32 digits for MD5,
 * 64 for SHA-256; a user who may use both algorithms has two lines. The
 * user ends at the first ':', the HA1 starts after the last, the realm is
 * what lies between (it may hold ':'). Lines starting with '#' (after
 * blanks) are comments; blank lines are ignored; a trailing CR is dropped.
 * No control bytes in a user or realm, neither may be empty.
 */
struct digest_creds;

/*
 * Parse the file contents `text` (borrowed; copied) into *out. Returns 0,
 * E_SYNTAX (a bad line), E_EXIST (the same user, realm and algorithm
 * twice), E_BIG (a line longer than DIGEST_CREDS_LINE, more than
 * DIGEST_CREDS_MAX entries) or E_NOMEM; on an error `why` (n bytes, may be
 * NULL) says which line ("line 7: ...") and *out is NULL. Re-read on
 * SIGHUP by parsing into a new object and swapping pointers: an object is
 * never changed once made.
 */
int digest_creds_parse(struct slice text, struct digest_creds **out,
    char *why, size_t n) WUR;
/*
 * Read the file at `path` (at most DIGEST_CREDS_FILE_MAX bytes) and parse
 * it as digest_creds_parse() does. Returns its codes, or E_IO with the
 * errno in *sys (0 otherwise), E_BIG for a file too long, E_NOMEM. The
 * bytes read (password equivalents) are wiped before they are freed.
 */
#define DIGEST_CREDS_FILE_MAX (16u << 20)
int digest_creds_read(const char *path, struct digest_creds **out, int *sys,
    char *why, size_t n) WUR;
/* Wipe and free; NULL is fine. */
void digest_creds_free(struct digest_creds *c);
/* Entries in all. */
size_t digest_creds_count(const struct digest_creds *c);
/*
 * The HA1 (lower-case hex, 32 or 64 bytes) of (user, realm, alg), borrowed
 * from `c` until it is freed. 0 or E_NOTFOUND.
 */
int digest_creds_lookup(const struct digest_creds *c, struct slice user,
    struct slice realm, enum digest_alg alg, struct slice *ha1) WUR;

/* ---- the verifier: one realm, one secret, the replay table ---- */

struct digest_cfg {
	struct slice realm;	/* copied; no '"', '\\' or control bytes */
	const uint8_t *secret;	/* copied; 16..64 bytes, e.g. 32 random */
	size_t secret_len;
	uint32_t lifetime_s;	/* nonce lifetime; 0: 300 s */
	size_t nc_slots;	/* replay table slots; 0: 1024 */
	int no_md5;		/* 1: neither offer nor accept MD5 */
};

struct digest;

/*
 * A verifier for cfg->realm. Returns NULL with *err = E_INVAL (bad realm,
 * secret or sizes) or E_NOMEM. Not thread-safe: one per event loop.
 */
struct digest *digest_new(const struct digest_cfg *cfg, int *err) WUR;
/* Wipe the secret and free; NULL is fine. */
void digest_free(struct digest *d);

/*
 * A fresh nonce for `now_ms` (the caller's clock, any epoch, the same one
 * it passes to digest_verify()) into `nonce`: DIGEST_NONCE_LEN characters
 * and a NUL. Returns 0, E_INVAL (`n` too small) or E_CRYPTO.
 */
int digest_nonce(struct digest *d, uint64_t now_ms, char *nonce, size_t n)
    WUR;

/*
 * Append one challenge value for `alg` (no header name, no CRLF):
 *   Digest realm="R", qop="auth", algorithm=SHA-256, nonce="N"[, stale=true]
 * Returns 0, E_INVAL (MD5 with no_md5, a nonce with '"') or E_BIG.
 */
int digest_challenge_value(const struct digest *d, enum digest_alg alg,
    struct slice nonce, int stale, struct buf *out) WUR;

/*
 * Append the whole challenge as header lines to `out`: a new nonce, then
 * "HNAME: <value>\r\n" for SHA-256 and, unless no_md5, again for MD5,
 * both with that nonce. `hname` is "WWW-Authenticate" (401, for REGISTER)
 * or "Proxy-Authenticate" (407, for other requests). `stale`: 1 when the
 * previous check said DIGEST_STALE. Returns 0, E_CRYPTO or E_BIG (`out`
 * is then left as it was).
 */
int digest_challenge(struct digest *d, uint64_t now_ms, int stale,
    const char *hname, struct buf *out) WUR;

/* ---- checking a request's credentials ---- */

/*
 * One Authorization / Proxy-Authorization value, parsed. The slices point
 * into `store` (unescaped copies) and so into this struct: do not copy it
 * by value, and keep it while the slices are used.
 */
struct digest_params {
	struct slice username, realm, nonce, uri, response, cnonce, opaque;
	struct slice qop;	/* "auth" */
	struct slice nc_text;	/* the nc as sent: 8 hex digits */
	uint32_t nc;
	enum digest_alg alg;	/* MD5 when absent, as RFC 7616 says */
	size_t used;
	uint8_t store[DIGEST_MAX_HDR];
};

/*
 * Parse a credentials value: scheme "Digest", then comma-separated
 * name=token or name="quoted string" parameters (names in any case,
 * backslash escapes, LWS around the separators), each known name at most
 * once, unknown names ignored. username, realm, nonce, uri, response, qop,
 * nc and cnonce are required; response must be hex of the algorithm's
 * length. Returns 0, E_SYNTAX (malformed, duplicate or missing parameter),
 * E_BIG (over a cap: DIGEST_MAX_HDR, DIGEST_MAX_VALUE, DIGEST_MAX_PARAMS)
 * or E_UNSUPPORTED (another scheme, algorithm, qop or userhash; no qop);
 * `why` (n bytes, may be NULL) says what. `value` is borrowed for the call.
 */
int digest_parse(struct slice value, struct digest_params *p, char *why,
    size_t n) WUR;

/*
 * Does the "uri" parameter name the request's Request-URI? RFC 7616 §3.4.6
 * has the server check it, so that credentials for one URI are not
 * replayed on another. Compared byte for byte: the client copies its
 * Request-URI, and we are its first hop. 1 or 0.
 */
int digest_uri_matches(struct slice uri, struct slice request_uri);

/*
 * H(user ":" realm ":" password) in lower-case hex into `hex` (n >= 65
 * bytes, NUL-terminated): the HA1 of a credentials line, for tools that
 * write the file. Returns 0, E_INVAL or E_CRYPTO.
 */
int digest_ha1_hex(enum digest_alg alg, struct slice user, struct slice realm,
    struct slice password, char *hex, size_t n) WUR;

/*
 * The response a client with `ha1` (hex) should send for `p` (its nonce,
 * nc, cnonce, qop, uri and algorithm) and `method`:
 *   KD(HA1, nonce ":" nc ":" cnonce ":" qop ":" H(method ":" uri))
 * in lower-case hex into `hex` (n >= 65 bytes, NUL-terminated). Nothing is
 * checked here: digest_verify() does that. Returns 0, E_INVAL or E_CRYPTO.
 */
int digest_response_hex(struct slice ha1, struct slice method,
    const struct digest_params *p, char *hex, size_t n) WUR;

enum digest_result {
	DIGEST_OK = 0,
	DIGEST_STALE,		/* right password, old or lost nonce */
	DIGEST_BAD_RESPONSE,	/* wrong password, or tampered parameters */
	DIGEST_UNKNOWN_USER,	/* no such user, or not our realm */
	DIGEST_BAD_NONCE,	/* not a nonce of ours (another process?) */
	DIGEST_REPLAY,		/* nc not above the last one seen */
	DIGEST_MALFORMED,	/* a bad value, or uri != Request-URI */
	DIGEST_UNSUPPORTED,	/* scheme, algorithm or qop we refuse */
};

/* A static lower-case name for `r` ("bad response"). */
const char *digest_result_str(enum digest_result r);

/*
 * Check parsed credentials `p` for a request with `method` (the request
 * line's method; HA2 = H(method ":" uri)) at `now_ms`, against `creds`
 * (borrowed). In order: the realm is ours, the nonce is ours
 * (DIGEST_BAD_NONCE), the user has an entry for the algorithm
 * (DIGEST_UNKNOWN_USER), the response is right (DIGEST_BAD_RESPONSE, a
 * constant-time comparison), the nonce is young enough and still in the
 * replay table (else DIGEST_STALE: only when the password was right, so a
 * client may retry without asking its user), the nc is above the last
 * one seen for this nonce (DIGEST_REPLAY). Only DIGEST_OK updates the
 * replay table. On DIGEST_OK, *user (may be NULL) is the username,
 * borrowed from `p`. *reason (may be NULL) gets a static string.
 * The caller checks p->uri with digest_uri_matches() (digest_check does).
 */
enum digest_result digest_verify(struct digest *d,
    const struct digest_creds *creds, const struct digest_params *p,
    struct slice method, uint64_t now_ms, struct slice *user,
    const char **reason) WUR;

/*
 * All of it for one header value: digest_parse() into `p` (caller's
 * storage), digest_uri_matches() against `request_uri`, digest_verify().
 * Parse errors give DIGEST_MALFORMED (E_SYNTAX, E_BIG) or
 * DIGEST_UNSUPPORTED. `why` (n bytes, may be NULL) gets the reason.
 */
enum digest_result digest_check(struct digest *d,
    const struct digest_creds *creds, struct slice value,
    struct slice method, struct slice request_uri, uint64_t now_ms,
    struct digest_params *p, struct slice *user, char *why, size_t n) WUR;

#endif
