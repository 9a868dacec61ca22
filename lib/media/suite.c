/* suite.c - the table of SRTP crypto suites: one row a suite. */
#include <string.h>

#include "media/suite.h"

#define R (1u << SUITE_FOR_SDP_REWRITE)
#define B (1u << SUITE_FOR_SRTP_BRIDGE)
#define T (1u << SUITE_FOR_SIP_TLS_TERM)
#define IS_GCM(c) ((c) == SUITE_CIPHER_AES_GCM_128 || \
	(c) == SUITE_CIPHER_AES_GCM_256)
#define ROW(id, cipher, key, salt, rtp_tag, rtcp_tag, offer, accept) \
	{ SUITE_##id, #id, SUITE_CIPHER_##cipher, key, salt, rtp_tag, \
	rtcp_tag, IS_GCM(SUITE_CIPHER_##cipher), offer, accept }

/*
 * Rows in offer order: AES_CM_128_HMAC_SHA1_80 first, as baresip 1.0 takes
 * the first suite it knows and cannot decrypt AEAD_AES_256_GCM. Who offers
 * and accepts what by default:
 * - sdp-rewrite (R) offers and accepts the two AES-128 CM suites;
 * - srtp-bridge (B) offers those two and accepts every suite but the
 *   AES-192 ones (as its accept list before this table did);
 * - sip-tls-term (T) has rtpengine offer the two AES-128 CM suites (the
 *   others go in SDES no-SUITE flags) and passes on offers with any suite
 *   it knows (mediactl_sdp_has_crypto()).
 */
static const struct suite suites[] = {
	ROW(AES_CM_128_HMAC_SHA1_80, AES_CM_128, 16, 14, 10, 10,
	    R | B | T, R | B | T),
	ROW(AES_CM_128_HMAC_SHA1_32, AES_CM_128, 16, 14, 4, 10,
	    R | B | T, R | B | T),
	ROW(AES_192_CM_HMAC_SHA1_80, AES_CM_192, 24, 14, 10, 10, 0, T),
	ROW(AES_192_CM_HMAC_SHA1_32, AES_CM_192, 24, 14, 4, 10, 0, T),
	ROW(AES_256_CM_HMAC_SHA1_80, AES_CM_256, 32, 14, 10, 10, 0, B | T),
	ROW(AES_256_CM_HMAC_SHA1_32, AES_CM_256, 32, 14, 4, 10, 0, B | T),
	ROW(AEAD_AES_128_GCM, AES_GCM_128, 16, 12, 16, 16, 0, B | T),
	ROW(AEAD_AES_256_GCM, AES_GCM_256, 32, 12, 16, 16, 0, B | T),
};

#define NSUITES (sizeof(suites) / sizeof(suites[0]))

const struct suite *
suite_by_id(enum suite_id id)
{
	size_t i;

	for (i = 0; i < NSUITES; i++)
		if (suites[i].id == id)
			return &suites[i];
	return NULL;
}

const struct suite *
suite_by_name(struct slice name)
{
	size_t i;

	for (i = 0; i < NSUITES; i++)
		if (slice_eq_cstr(name, suites[i].name))
			return &suites[i];
	return NULL;
}

const struct suite *
suite_by_cname(const char *name)
{
	return suite_by_name(slice_cstr(name));
}

static unsigned
user_bit(enum suite_user user)
{
	return (unsigned)user < SUITE_USERS ? 1u << user : 0;
}

int
suite_offers(enum suite_user user, enum suite_id id)
{
	const struct suite *s = suite_by_id(id);

	return s != NULL && (s->offer & user_bit(user)) != 0;
}

int
suite_accepts(enum suite_user user, enum suite_id id)
{
	const struct suite *s = suite_by_id(id);

	return s != NULL && (s->accept & user_bit(user)) != 0;
}

/* The ids, in row order, of the suites whose offer (or accept) bits have
 * (want 1) or lack (want 0) `user`'s. */
static size_t
rows(enum suite_user user, int accept, int want, enum suite_id *out,
    size_t n)
{
	unsigned bit = user_bit(user);
	size_t i, k = 0;

	for (i = 0; i < NSUITES && k < n; i++)
		if ((((accept ? suites[i].accept : suites[i].offer) & bit) !=
		    0) == want)
			out[k++] = suites[i].id;
	return k;
}

size_t
suite_offer_order(enum suite_user user, enum suite_id *out, size_t n)
{
	return rows(user, 0, 1, out, n);
}

size_t
suite_accept_order(enum suite_user user, enum suite_id *out, size_t n)
{
	return rows(user, 1, 1, out, n);
}

/* 1 if rtpengine prefers `a` to `b`: AEAD, then key, then tag length. */
static int
stronger(const struct suite *a, const struct suite *b)
{
	if (a->aead != b->aead)
		return a->aead;
	if (a->key_len != b->key_len)
		return a->key_len > b->key_len;
	return a->srtp_tag_len > b->srtp_tag_len;
}

size_t
suite_not_offered(enum suite_user user, enum suite_id *out, size_t n)
{
	enum suite_id all[SUITE_COUNT];
	size_t i, j, k = rows(user, 0, 0, all, SUITE_COUNT);

	/* insertion sort, stable: eight rows at most */
	for (i = 1; i < k; i++) {
		enum suite_id id = all[i];

		for (j = i; j > 0 && stronger(suite_by_id(id),
		    suite_by_id(all[j - 1])); j--)
			all[j] = all[j - 1];
		all[j] = id;
	}
	for (i = 0; i < k && i < n; i++)
		out[i] = all[i];
	return i;
}

size_t
suite_default_order(enum suite_id *out, size_t n)
{
	return suite_offer_order(SUITE_FOR_SDP_REWRITE, out, n);
}
