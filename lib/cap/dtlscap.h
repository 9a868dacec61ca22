/* dtlscap.h - DTLS-SRTP handshakes seen in a capture: their randoms, suite
 * and SRTP profile, and the SRTP keys exported from a key log's secret. */
#ifndef SBK_DTLSCAP_H
#define SBK_DTLSCAP_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/slice.h"
#include "media/suite.h"

/*
 * One UDP 5-tuple's DTLS 1.2 handshake (RFC 6347, 5764), read from its
 * datagrams in both directions: the ClientHello's client random, the
 * ServerHello's server random, cipher suite and use_srtp profile. The
 * two sides are "a" and "b" (side 0 and 1, the caller's choice); the
 * side that sends the ClientHello is the DTLS client.
 *
 * Records (13-byte header: type, version 0xfeff or 0xfefd, epoch, 48-bit
 * sequence number, length) are read in epoch 0 only; handshake messages
 * (12-byte header: type, length, message_seq, fragment_offset,
 * fragment_length) are reassembled from their fragments, in any order and
 * overlapping, ClientHello and ServerHello only, up to DTLSCAP_MSG_MAX
 * bytes. A ClientHello sent again (after a HelloVerifyRequest, or
 * retransmitted) carries the same random; a later one replaces it. Bad
 * input is skipped, never read beyond its length.
 */
#define DTLSCAP_MSG_MAX 8192

struct dtlscap_reasm {
	uint8_t type;		/* 0: none in progress */
	uint16_t seq;
	uint32_t len, got;
	uint8_t have[DTLSCAP_MSG_MAX / 8];
	uint8_t buf[DTLSCAP_MSG_MAX];
};

struct dtlscap_hs {
	int client;		/* side that sent the ClientHello, or -1 */
	int have_crandom;	/* crandom known (the first fragment) */
	int have_ch, have_sh;	/* whole messages read */
	uint8_t crandom[32], srandom[32];
	uint16_t version;	/* the ServerHello's */
	uint16_t suite;		/* the chosen cipher suite */
	uint16_t profile;	/* use_srtp's SRTP profile; 0: none */
	size_t mki_len;		/* use_srtp's MKI (srtp_mki) length */
	struct dtlscap_reasm r[2];
};

/* Events of dtlscap_input(). */
#define DTLSCAP_EV_CRANDOM 0x1u	/* the client random became known */
#define DTLSCAP_EV_CH 0x2u	/* a whole ClientHello */
#define DTLSCAP_EV_SH 0x4u	/* a whole ServerHello */

/* Set up `h` (no allocation). */
void dtlscap_init(struct dtlscap_hs *h);

/*
 * 1 if `dgram` starts with a DTLS record (RFC 7983: first byte 20..63;
 * a content type 20..25, version 0xfeff or 0xfefd, the record within the
 * datagram), else 0.
 */
int dtlscap_is_dtls(struct slice dgram);

/* Read a datagram from side `side` (0 or 1): the events it brought. */
unsigned dtlscap_input(struct dtlscap_hs *h, int side, struct slice dgram);

/* 1 if the cipher suite's PRF hash is SHA-384, else 0 (SHA-256). */
int dtlscap_suite_sha384(uint16_t suite);

/* The SRTP suite of a DTLS-SRTP protection profile, or SUITE_NONE. */
enum suite_id dtlscap_profile_suite(uint16_t profile);

/*
 * The RFC 5705 exporter of TLS 1.2 / DTLS 1.2: PRF(master_secret, label,
 * client_random + server_random), no context, `outlen` bytes into `out`.
 * 0 or E_CRYPTO.
 */
int dtlscap_export(int sha384, const uint8_t *master, size_t masterlen,
    const char *label, const uint8_t *crandom, const uint8_t *srandom,
    uint8_t *out, size_t outlen) WUR;

/* The SRTP master keys of a handshake: each key then salt. */
struct dtlscap_keys {
	enum suite_id suite;
	size_t key_len, salt_len;
	uint8_t client[SUITE_MAX_KEY_SALT], server[SUITE_MAX_KEY_SALT];
};

/*
 * The keys of handshake `h` (ClientHello and ServerHello read) with
 * master secret `master` (the key log's CLIENT_RANDOM line): RFC 5764
 * 4.2's "EXTRACTOR-dtls_srtp" exporter, split as client_write_key |
 * server_write_key | client_write_salt | server_write_salt. 0, E_STATE
 * (a hello missing), E_UNSUPPORTED (no use_srtp, an unknown profile, an
 * MKI, not DTLS 1.2), E_CRYPTO. The caller wipes `k`.
 */
int dtlscap_srtp_keys(const struct dtlscap_hs *h, const uint8_t *master,
    size_t masterlen, struct dtlscap_keys *k) WUR;

#endif
