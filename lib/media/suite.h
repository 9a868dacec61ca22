/* suite.h - the SRTP crypto suites sbckit knows (RFC 4568, 6188, 7714). */
#ifndef SBK_SUITE_H
#define SBK_SUITE_H

#include <stddef.h>

#include "base/slice.h"

enum suite_id {
	SUITE_NONE = 0,
	SUITE_AES_CM_128_HMAC_SHA1_80,
	SUITE_AES_CM_128_HMAC_SHA1_32,
	SUITE_AES_192_CM_HMAC_SHA1_80,
	SUITE_AES_192_CM_HMAC_SHA1_32,
	SUITE_AES_256_CM_HMAC_SHA1_80,
	SUITE_AES_256_CM_HMAC_SHA1_32,
	SUITE_AEAD_AES_128_GCM,
	SUITE_AEAD_AES_256_GCM,
	SUITE_COUNT
};

/* The cipher a suite runs: AES counter mode (RFC 3711, 6188) or GCM
 * (RFC 7714), by AES key size. */
enum suite_cipher {
	SUITE_CIPHER_AES_CM_128 = 1,
	SUITE_CIPHER_AES_CM_192,
	SUITE_CIPHER_AES_CM_256,
	SUITE_CIPHER_AES_GCM_128,
	SUITE_CIPHER_AES_GCM_256
};

/* The tools whose default suites the table sets. */
enum suite_user {
	SUITE_FOR_SDP_REWRITE = 0,
	SUITE_FOR_SRTP_BRIDGE,
	SUITE_FOR_SIP_TLS_TERM,
	SUITE_USERS
};

/* The fixed properties of a suite, and who uses it by default. */
struct suite {
	enum suite_id id;
	const char *name;	/* as in SDES: "AES_CM_128_HMAC_SHA1_80" */
	enum suite_cipher cipher;
	size_t key_len;		/* master key, bytes */
	size_t salt_len;	/* master salt, bytes */
	size_t srtp_tag_len;	/* SRTP auth tag (or AEAD tag), bytes */
	size_t srtcp_tag_len;	/* SRTCP auth tag (or AEAD tag), bytes */
	int aead;		/* GCM: no separate auth key (from `cipher`) */
	unsigned offer;		/* bit 1 << suite_user: offered by default */
	unsigned accept;	/* bit 1 << suite_user: accepted by default */
};

#define SUITE_MAX_KEY_SALT 46	/* AES-256 key + 14-byte salt */

/* The suite with id `id`, or NULL. */
const struct suite *suite_by_id(enum suite_id id);
/* The suite with SDES name `name` (exact, case-sensitive), or NULL. */
const struct suite *suite_by_name(struct slice name);
const struct suite *suite_by_cname(const char *name);

/*
 * 1 if `user` offers (accepts) suite `id` by default, else 0 (also for an
 * unknown id or user).
 */
int suite_offers(enum suite_user user, enum suite_id id);
int suite_accepts(enum suite_user user, enum suite_id id);

/*
 * The suites `user` offers by default, in offer order (the table's: the
 * first is the one a peer that takes the first suite it knows will take).
 * Returns the number of ids written to `out` (at most `n`).
 */
size_t suite_offer_order(enum suite_user user, enum suite_id *out, size_t n);
/* The suites `user` accepts by default, in the table's order; as above. */
size_t suite_accept_order(enum suite_user user, enum suite_id *out,
    size_t n);
/*
 * The suites `user` does not offer, AEAD first, then longer keys, then
 * longer tags (the order rtpengine prefers them in, so that a list of
 * SDES no-SUITE flags names the suite it would pick first first); as
 * above.
 */
size_t suite_not_offered(enum suite_user user, enum suite_id *out,
    size_t n);

/* sdp-rewrite's offer order, suite_offer_order(SUITE_FOR_SDP_REWRITE). */
size_t suite_default_order(enum suite_id *out, size_t n);

#endif
