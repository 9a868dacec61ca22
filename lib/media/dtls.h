/* dtls.h - DTLS-SRTP (RFC 5763, 5764) over OpenSSL: one association per
 * media side, driven by datagrams, keys out for lib/media/rtpsec. */
#ifndef SBK_DTLS_H
#define SBK_DTLS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/slice.h"
#include "media/suite.h"

/*
 * A certificate of our own: ECDSA P-256, self-signed, made at start, one
 * per process (dtls_cert_new()); its SHA-256 fingerprint goes into our
 * SDPs as "a=fingerprint:sha-256 XX:XX:...". Every association checks the
 * peer's certificate against the fingerprint its SDP gave: no match, no
 * keys (E_AUTH), whatever the handshake's own verdict.
 *
 * An association is driven from outside: datagrams in (dtls_input()),
 * datagrams out through the send callback, a retransmission timer
 * (dtls_timeout_ms() / dtls_on_timeout()). No socket, no thread, no
 * blocking. Records are checked by dtls_record_check() before OpenSSL
 * sees them.
 */
struct dtls_cert;
struct dtls;

#define DTLS_FP_MAX 96	/* "XX:" * 32, NUL */

enum dtls_role {
	DTLS_ACTIVE = 1,	/* a=setup:active: we are the client */
	DTLS_PASSIVE = 2,	/* a=setup:passive: we are the server */
};

/* Our certificate and key; NULL with *err (E_CRYPTO, E_NOMEM). */
struct dtls_cert *dtls_cert_new(int *err) WUR;
void dtls_cert_free(struct dtls_cert *c);
/* "sha-256", and the fingerprint as "AB:CD:..." (upper-case hex). */
const char *dtls_cert_fingerprint(const struct dtls_cert *c);

/*
 * A peer fingerprint from an SDP a=fingerprint value ("sha-256 AB:..",
 * also sha-1, sha-384, sha-512; case-insensitive). 0 or E_SYNTAX /
 * E_UNSUPPORTED (another hash).
 */
struct dtls_fp {
	int md;			/* NID of the hash */
	size_t len;
	uint8_t v[64];
};
int dtls_fp_parse(struct slice value, struct dtls_fp *fp) WUR;

/* A datagram to send, to where the handshake came from. */
typedef void dtls_send_fn(void *arg, const uint8_t *p, size_t len);
/* NSS key log lines ("CLIENT_RANDOM ...", TLS 1.2 secrets), one at a time,
 * without newline. */
typedef void dtls_keylog_fn(void *arg, const char *line);

struct dtls_config {
	struct dtls_cert *cert;		/* borrowed */
	enum dtls_role role;
	struct dtls_fp peer;		/* from the peer's SDP */
	unsigned suites;		/* bit (1 << suite_id) offered/accepted;
					 * 0: AES_CM_128_HMAC_SHA1_80, _32,
					 * AEAD_AES_128_GCM, AEAD_AES_256_GCM */
	dtls_send_fn *send;
	dtls_keylog_fn *keylog;		/* NULL: none */
	void *arg;
	unsigned mtu;			/* 0: 1200 */
};

struct dtls *dtls_new(const struct dtls_config *cfg, int *err) WUR;
void dtls_free(struct dtls *d);
/* Change the peer fingerprint (a re-offer); restarts nothing. */
void dtls_set_peer(struct dtls *d, const struct dtls_fp *fp);

/* Active role: send the first flight (ClientHello). Passive: nothing. */
int dtls_start(struct dtls *d) WUR;

enum dtls_state {
	DTLS_HANDSHAKE = 0,	/* going on */
	DTLS_DONE,		/* keys ready (dtls_srtp_keys()) */
	DTLS_FAILED,		/* alert, fingerprint mismatch, ...: dead */
};

/*
 * A DTLS datagram arrived (RFC 7983: first byte 20..63). Returns the
 * state after it; the first time it is DTLS_DONE the caller takes the
 * keys. A datagram that is not DTLS, or a record that fails
 * dtls_record_check(), is ignored (E_SYNTAX is counted by the caller
 * through the return of dtls_record_check(), not here). Retransmitted
 * flights are answered (OpenSSL's own logic); after DTLS_DONE, a
 * retransmitted final flight of the peer makes us resend ours.
 */
enum dtls_state dtls_input(struct dtls *d, const uint8_t *p, size_t len);
enum dtls_state dtls_state(const struct dtls *d);
/* Why it failed, for a log line ("fingerprint mismatch", an alert...). */
const char *dtls_why(const struct dtls *d);

/* Monotonic ms at which dtls_on_timeout() must run, or -1: no timer. */
int64_t dtls_timeout_ms(const struct dtls *d, int64_t now_ms);
/* Retransmit a lost flight (doubling back-off, as OpenSSL does). */
enum dtls_state dtls_on_timeout(struct dtls *d);

/*
 * The SRTP keys of a finished association (RFC 5764 4.2): the profile
 * that was chosen and our send (`tx`) and receive (`rx`) master key and
 * salt, each key_len + salt_len bytes of the suite (lib/media/suite.h).
 * 0, or E_STATE (not done).
 */
struct dtls_keys {
	enum suite_id suite;
	size_t key_len, salt_len;
	uint8_t tx[SUITE_MAX_KEY_SALT], rx[SUITE_MAX_KEY_SALT];
};
int dtls_srtp_keys(const struct dtls *d, struct dtls_keys *k) WUR;

/*
 * Check that `pkt` is a sequence of well-formed DTLS records (content
 * type 20..25, version 0xfeff or 0xfefd, lengths within the datagram):
 * 0 or E_SYNTAX. For the demultiplexer, and fuzzed.
 */
int dtls_record_check(struct slice pkt) WUR;

#endif
