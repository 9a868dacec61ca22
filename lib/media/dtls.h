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
 * sees them. An association is used by one thread at a time; the
 * certificate (and the SSL_CTX inside it) is shared by all of them.
 *
 * No DTLSv1_listen() cookies (HelloVerifyRequest): the media port is
 * already bound to a call, and the caller feeds an association only
 * datagrams from the address it trusts: the ICE-checked pair, or the
 * address the SDP gave, or, without either, the first source (latched).
 * That bounds amplification: a passive side answers a ClientHello of
 * ~200 bytes with a flight of ~1 kB only towards that one address, once
 * per ClientHello and per retransmission timer. Replies always go through
 * `send`, which sends to where the handshake came from.
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
/* The SHA-256 fingerprint as "AB:CD:..." (upper-case hex, 95 chars): an
 * SDP says "a=fingerprint:sha-256 " and this. Owned by `c`. */
const char *dtls_cert_fingerprint(const struct dtls_cert *c);

/*
 * A peer fingerprint from an SDP a=fingerprint value ("sha-256 AB:..",
 * also sha-1, sha-224, sha-384, sha-512; case-insensitive; exactly the
 * hash's length in colon-separated hex pairs). 0 or E_SYNTAX /
 * E_UNSUPPORTED (another hash: md5, md2, unknown).
 */
struct dtls_fp {
	int md;			/* NID of the hash */
	size_t len;
	uint8_t v[64];
};
int dtls_fp_parse(struct slice value, struct dtls_fp *fp) WUR;

/* A datagram to send, to where the handshake came from; at most `mtu`
 * bytes, one or more whole records. It must not call back into the same
 * association. */
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
	unsigned mtu;			/* 0: 1200; 256..16384 (the
					 * largest datagram we send) */
};

/* The first retransmission timeout (RFC 6347 4.2.4.1); it doubles on
 * every retransmission up to 60 s. */
#define DTLS_RTO_DEFAULT_MS 1000

/*
 * A new association; `cfg` is copied (the certificate is borrowed and
 * must outlive it). NULL with *err: E_INVAL (no cert or send, bad role,
 * MTU out of range), E_UNSUPPORTED (no suite in `suites` has a DTLS-SRTP
 * profile: only the four above have), E_NOMEM, E_CRYPTO. A `peer` of
 * md 0 means "not known yet" (DTLS before the SDP answer): the handshake
 * runs, and dtls_set_peer() decides later.
 */
struct dtls *dtls_new(const struct dtls_config *cfg, int *err) WUR;
/* Free, keys and secrets wiped; NULL does nothing. */
void dtls_free(struct dtls *d);
/*
 * Change the peer fingerprint (a re-offer); restarts nothing. If the
 * handshake had finished waiting for it, it is checked now: see
 * dtls_state() after the call (DTLS_DONE or DTLS_FAILED). An association
 * already DTLS_DONE stays so (a peer with a new certificate makes a new
 * handshake, thus a new association).
 */
void dtls_set_peer(struct dtls *d, const struct dtls_fp *fp);
/*
 * The first retransmission timeout, ms (0: DTLS_RTO_DEFAULT_MS; at most
 * 60000). RFC 6347's 1 s is slow for a call that waits for its audio;
 * a caller that knows the path is short may start lower. Before
 * dtls_start() (active) or the first dtls_input() (passive).
 */
void dtls_set_rto(struct dtls *d, unsigned ms);

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
 * flights are answered (OpenSSL's own logic; a passive side also resends
 * its flight at once for a repeated ClientHello); after DTLS_DONE, a
 * retransmitted final flight of the peer makes us resend ours. A fresh
 * ClientHello after DTLS_DONE is not a new handshake (no renegotiation):
 * a peer that starts again needs a new association (the caller's call).
 * `p` is borrowed for the call only.
 */
enum dtls_state dtls_input(struct dtls *d, const uint8_t *p, size_t len);
enum dtls_state dtls_state(const struct dtls *d);
/*
 * Why it failed, for a log line ("fingerprint mismatch", "alert from
 * peer: ...", OpenSSL's reason), or "". A passive association that fails
 * before it has answered any ClientHello starts again instead of failing
 * (a stray or forged datagram cannot kill it before its peer speaks);
 * dtls_why() then tells the last such failure while the state stays
 * DTLS_HANDSHAKE.
 */
const char *dtls_why(const struct dtls *d);
/*
 * The SHA-256 fingerprint of the peer's certificate as "AB:CD:.." into
 * `out` of `n` (>= DTLS_FP_MAX) bytes, for logs: 0, E_STATE (no
 * certificate yet), E_BIG, E_CRYPTO.
 */
int dtls_peer_fingerprint(const struct dtls *d, char *out, size_t n) WUR;

/* Monotonic ms at which dtls_on_timeout() must run, or -1: no timer. */
int64_t dtls_timeout_ms(const struct dtls *d, int64_t now_ms);
/* Retransmit a lost flight (doubling back-off, as OpenSSL does). */
enum dtls_state dtls_on_timeout(struct dtls *d);

/*
 * The SRTP keys of a finished association (RFC 5764 4.2): the profile
 * that was chosen and our send (`tx`) and receive (`rx`) master key and
 * salt, each key_len + salt_len bytes of the suite (lib/media/suite.h).
 * 0, or E_STATE (not done), E_AUTH (failed: the peer's certificate is
 * not the one its SDP named), E_UNSUPPORTED, E_CRYPTO. The caller wipes
 * `k` when done with it.
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
