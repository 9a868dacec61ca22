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

/* The fixed properties of a suite. */
struct suite {
	enum suite_id id;
	const char *name;	/* as in SDES: "AES_CM_128_HMAC_SHA1_80" */
	size_t key_len;		/* master key, bytes */
	size_t salt_len;	/* master salt, bytes */
	size_t srtp_tag_len;	/* SRTP auth tag (or AEAD tag), bytes */
	size_t srtcp_tag_len;	/* SRTCP auth tag (or AEAD tag), bytes */
	int aead;		/* GCM: no separate auth key */
};

#define SUITE_MAX_KEY_SALT 46	/* AES-256 key + 14-byte salt */

/* The suite with id `id`, or NULL. */
const struct suite *suite_by_id(enum suite_id id);
/* The suite with SDES name `name` (exact, case-sensitive), or NULL. */
const struct suite *suite_by_name(struct slice name);
const struct suite *suite_by_cname(const char *name);

/*
 * The default preference order for offers towards an SRTP side:
 * AES_CM_128_HMAC_SHA1_80 first (baresip 1.0 picks the first it supports).
 * Returns the number of ids written to `out` (at most `n`).
 */
size_t suite_default_order(enum suite_id *out, size_t n);

#endif
