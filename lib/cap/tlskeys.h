/* tlskeys.h - the NSS key log (SSLKEYLOGFILE) of TLS sessions, by client random. */
#ifndef SBK_TLSKEYS_H
#define SBK_TLSKEYS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/slice.h"

/*
 * The lines OpenSSL, NSS, browsers, baresip and `sip-tls-term --tls-keylog`
 * write, "LABEL <client random hex> <secret hex>":
 *
 *   CLIENT_RANDOM                    TLS 1.2 master secret (48 bytes)
 *   CLIENT_HANDSHAKE_TRAFFIC_SECRET  TLS 1.3 (32 or 48 bytes, the hash's)
 *   SERVER_HANDSHAKE_TRAFFIC_SECRET
 *   CLIENT_TRAFFIC_SECRET_0
 *   SERVER_TRAFFIC_SECRET_0
 *
 * Other labels (EXPORTER_SECRET, CLIENT_EARLY_TRAFFIC_SECRET, RSA, ...),
 * '#' comments and blank lines are skipped (labels counted in `skipped`).
 * A line with one of the labels above whose fields are not two hex
 * strings of the right lengths is an error: E_SYNTAX with "line N: reason".
 * The same client random on several lines fills one entry; a repeated
 * secret replaces the earlier one.
 */
struct tlskeys;

enum tlskeys_secret {
	TLSKEYS_MASTER = 0,	/* CLIENT_RANDOM */
	TLSKEYS_CHTS,		/* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
	TLSKEYS_SHTS,		/* SERVER_HANDSHAKE_TRAFFIC_SECRET */
	TLSKEYS_CTS0,		/* CLIENT_TRAFFIC_SECRET_0 */
	TLSKEYS_STS0,		/* SERVER_TRAFFIC_SECRET_0 */
	TLSKEYS_N
};

#define TLSKEYS_SECRET_MAX 64
#define TLSKEYS_MAX_ENTRIES (1u << 20)

/* The secrets of one session (len 0: not logged). */
struct tlskeys_entry {
	uint8_t random[32];
	uint8_t len[TLSKEYS_N];
	uint8_t secret[TLSKEYS_N][TLSKEYS_SECRET_MAX];
	uint64_t order;		/* line order (internal) */
};

/* NULL: E_NOMEM. */
struct tlskeys *tlskeys_new(void) WUR;
/* Wipes the secrets. NULL does nothing. */
void tlskeys_free(struct tlskeys *k);

/*
 * Add the lines of `text` (borrowed). 0, or E_SYNTAX / E_LIMIT with
 * "line N: reason" in `why`; the lines before a bad one stay added.
 */
int tlskeys_add_text(struct tlskeys *k, struct slice text, char *why,
    size_t whysz) WUR;

/* The entry of client random `random` (32 bytes), borrowed; NULL if none. */
const struct tlskeys_entry *tlskeys_find(struct tlskeys *k,
    const uint8_t *random);

/* The i-th session (i < tlskeys_count()), borrowed. */
const struct tlskeys_entry *tlskeys_at(struct tlskeys *k, size_t i);

/* Sessions held, and lines skipped (labels we do not use). */
size_t tlskeys_count(const struct tlskeys *k);
size_t tlskeys_skipped(const struct tlskeys *k);

#endif
