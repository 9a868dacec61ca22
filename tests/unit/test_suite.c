/* test_suite.c - the SRTP suite table, and each tool's default suites. */
#include <stdint.h>

#include "media/suite.h"
#include "t.h"

/* What RFC 4568, 6188 and 7714 say of each suite, pinned. */
static void
test_properties(void)
{
	static const struct {
		enum suite_id id;
		const char *name;
		size_t key, salt, rtp_tag, rtcp_tag;
		int aead;
	} want[] = {
		{ SUITE_AES_CM_128_HMAC_SHA1_80, "AES_CM_128_HMAC_SHA1_80",
		    16, 14, 10, 10, 0 },
		{ SUITE_AES_CM_128_HMAC_SHA1_32, "AES_CM_128_HMAC_SHA1_32",
		    16, 14, 4, 10, 0 },
		{ SUITE_AES_192_CM_HMAC_SHA1_80, "AES_192_CM_HMAC_SHA1_80",
		    24, 14, 10, 10, 0 },
		{ SUITE_AES_192_CM_HMAC_SHA1_32, "AES_192_CM_HMAC_SHA1_32",
		    24, 14, 4, 10, 0 },
		{ SUITE_AES_256_CM_HMAC_SHA1_80, "AES_256_CM_HMAC_SHA1_80",
		    32, 14, 10, 10, 0 },
		{ SUITE_AES_256_CM_HMAC_SHA1_32, "AES_256_CM_HMAC_SHA1_32",
		    32, 14, 4, 10, 0 },
		{ SUITE_AEAD_AES_128_GCM, "AEAD_AES_128_GCM", 16, 12, 16, 16, 1 },
		{ SUITE_AEAD_AES_256_GCM, "AEAD_AES_256_GCM", 32, 12, 16, 16, 1 },
	};
	size_t i;

	T_EQ_INT(SUITE_COUNT - 1, sizeof(want) / sizeof(want[0]),
	    "eight suites");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct suite *s = suite_by_id(want[i].id);

		T_OK(s != NULL && s->id == want[i].id &&
		    strcmp(s->name, want[i].name) == 0 &&
		    s->key_len == want[i].key && s->salt_len == want[i].salt &&
		    s->srtp_tag_len == want[i].rtp_tag &&
		    s->srtcp_tag_len == want[i].rtcp_tag &&
		    s->aead == want[i].aead, "%s", want[i].name);
		T_OK(suite_by_cname(want[i].name) == s, "%s by name",
		    want[i].name);
	}
	T_OK(suite_by_id(SUITE_NONE) == NULL && suite_by_id(SUITE_COUNT) ==
	    NULL && suite_by_cname("F8_128_HMAC_SHA1_80") == NULL,
	    "unknown suites");
}

/*
 * Each tool's suites before the one table, pinned: sdp-rewrite and
 * srtp-bridge offer AES_CM_128_HMAC_SHA1_80 then _32.
 */
static void
test_defaults(void)
{
	enum suite_id ids[SUITE_COUNT];

	T_EQ_INT(suite_default_order(ids, SUITE_COUNT), 2, "two by default");
	T_OK(ids[0] == SUITE_AES_CM_128_HMAC_SHA1_80 &&
	    ids[1] == SUITE_AES_CM_128_HMAC_SHA1_32, "_80 then _32");
	T_EQ_INT(suite_default_order(ids, 1), 1, "capped at n");
}

int
main(void)
{
	test_properties();
	test_defaults();
	return t_done();
}
