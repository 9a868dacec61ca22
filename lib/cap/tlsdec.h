/* tlsdec.h - decrypt the TLS 1.2/1.3 records of a captured connection. */
#ifndef SBK_TLSDEC_H
#define SBK_TLSDEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/slice.h"
#include "cap/tlskeys.h"

/*
 * One TCP connection's two byte streams (sides 0 and 1, as the caller
 * numbers them; the client is whichever sends the ClientHello) go in as
 * they are reassembled; the application data comes out in clear through a
 * callback, per side, in order.
 *
 * The ClientHello gives the client random (the key log's index) and the
 * ServerHello the version (supported_versions for TLS 1.3) and the suite.
 * TLS 1.2: the key block comes from the logged master secret through the
 * PRF (OpenSSL's TLS1-PRF), and a side's records are encrypted after its
 * ChangeCipherSpec. TLS 1.3: each side's keys come from its logged
 * handshake traffic secret, then its traffic secret 0 (switched to when a
 * record no longer authenticates under the handshake keys, as its first
 * application record does), then HKDF-Expand-Label("traffic upd") after
 * a KeyUpdate. Suites: AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305,
 * with ECDHE, DHE or RSA key exchange in TLS 1.2 (CBC suites are counted
 * unsupported).
 *
 * Lost bytes (tlsdec_gap()) make the side look for the next record header;
 * the records in the gap are not counted, so the record sequence number is
 * found by trying the next TLSDEC_RESYNC_TRY values (TLS 1.2 AES-GCM
 * carries it as its explicit nonce). A record that does not authenticate
 * is counted failed and skipped; after TLSDEC_FAIL_MAX in a row the side
 * gives up.
 */
struct tlsdec;

#define TLSDEC_RESYNC_TRY 64
#define TLSDEC_FAIL_MAX 16

enum tlsdec_state {
	TLSDEC_HELLO = 0,	/* waiting for the hellos */
	TLSDEC_KEYED,		/* keys found: decrypting */
	TLSDEC_NOT_TLS,		/* the stream is not TLS records */
	TLSDEC_NO_HELLO,	/* began without a ClientHello (mid-connection) */
	TLSDEC_NO_KEYS,		/* no key log line for its client random */
	TLSDEC_UNSUPPORTED,	/* a version or suite we do not decrypt */
	TLSDEC_NSTATE
};

struct tlsdec_stats {
	uint64_t records;	/* every record seen */
	uint64_t decrypted;	/* records that authenticated */
	uint64_t failed;	/* encrypted records that did not */
	uint64_t nokey;		/* encrypted records without a key */
	uint64_t resyncs;	/* record boundaries found again after a gap */
	uint64_t hunts;		/* key log searches without a hello */
	uint64_t hunted;	/* keyed without a hello, from the key log */
	uint64_t app_bytes;	/* application data given out */
};

/* Application data of `side` (0 or 1): `len` bytes at `p`, borrowed. */
typedef void (*tlsdec_fn)(void *arg, int side, const uint8_t *p, size_t len);

/* `keys` is borrowed for the life of the decoder. NULL: E_NOMEM. */
struct tlsdec *tlsdec_new(struct tlskeys *keys) WUR;
void tlsdec_free(struct tlsdec *t);

/*
 * The next `len` bytes of `side`'s stream. Calls fn for application data.
 * Returns 0, or E_NOMEM / E_CRYPTO (the crypto library failed).
 */
int tlsdec_feed(struct tlsdec *t, int side, const uint8_t *p, size_t len,
    tlsdec_fn fn, void *arg) WUR;
/* Do not search the key log for a connection seen without its hello
 * (the caller's budget for that work is spent). */
void tlsdec_no_hunt(struct tlsdec *t);

/* `side` lost bytes: look for the next record header. */
void tlsdec_gap(struct tlsdec *t, int side);

enum tlsdec_state tlsdec_state(const struct tlsdec *t);
const char *tlsdec_state_name(enum tlsdec_state s);
/* The client's side (0 or 1), -1 before the ClientHello. */
int tlsdec_client(const struct tlsdec *t);
/* The client random (32 bytes, borrowed), NULL before the ClientHello. */
const uint8_t *tlsdec_client_random(const struct tlsdec *t);
/* 0x0303 (TLS 1.2), 0x0304 (TLS 1.3), 0 before the ServerHello. */
uint16_t tlsdec_version(const struct tlsdec *t);
/* The suite's number, and its IANA name ("?" if we do not know it). */
uint16_t tlsdec_suite(const struct tlsdec *t);
const char *tlsdec_suite_name(uint16_t id);
void tlsdec_stats(const struct tlsdec *t, struct tlsdec_stats *s);

/* --- the key schedules, public for their tests (RFC 8448, RFC 5246) --- */

/* HKDF-Expand-Label(secret, label, context, outlen) with SHA-256 or
 * SHA-384 (`sha384`). 0 or E_CRYPTO. */
int tlsdec_hkdf_label(int sha384, const uint8_t *secret, size_t secretlen,
    const char *label, struct slice context, uint8_t *out, size_t outlen)
    WUR;
/* The TLS 1.2 PRF: P_hash(secret, label + seed), SHA-256 or SHA-384. */
int tlsdec_prf12(int sha384, const uint8_t *secret, size_t secretlen,
    const char *label, struct slice seed, uint8_t *out, size_t outlen) WUR;

/*
 * Decrypt one TLS 1.3 record (`rec`, header included) with traffic secret
 * `secret` of suite `suite` at sequence number `seq`: the inner plaintext
 * into `out` (room for `outsz`), its length and the inner content type.
 * 0, E_AUTH, E_SYNTAX, E_UNSUPPORTED, E_CRYPTO.
 */
int tlsdec_open13(uint16_t suite, const uint8_t *secret, struct slice rec,
    uint64_t seq, uint8_t *out, size_t outsz, size_t *outlen,
    uint8_t *type) WUR;

#endif
