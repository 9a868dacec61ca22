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
		enum suite_cipher cipher;
		size_t key, salt, rtp_tag, rtcp_tag;
		int aead;
	} want[] = {
		{ SUITE_AES_CM_128_HMAC_SHA1_80, "AES_CM_128_HMAC_SHA1_80",
		    SUITE_CIPHER_AES_CM_128, 16, 14, 10, 10, 0 },
		{ SUITE_AES_CM_128_HMAC_SHA1_32, "AES_CM_128_HMAC_SHA1_32",
		    SUITE_CIPHER_AES_CM_128, 16, 14, 4, 10, 0 },
		{ SUITE_AES_192_CM_HMAC_SHA1_80, "AES_192_CM_HMAC_SHA1_80",
		    SUITE_CIPHER_AES_CM_192, 24, 14, 10, 10, 0 },
		{ SUITE_AES_192_CM_HMAC_SHA1_32, "AES_192_CM_HMAC_SHA1_32",
		    SUITE_CIPHER_AES_CM_192, 24, 14, 4, 10, 0 },
		{ SUITE_AES_256_CM_HMAC_SHA1_80, "AES_256_CM_HMAC_SHA1_80",
		    SUITE_CIPHER_AES_CM_256, 32, 14, 10, 10, 0 },
		{ SUITE_AES_256_CM_HMAC_SHA1_32, "AES_256_CM_HMAC_SHA1_32",
		    SUITE_CIPHER_AES_CM_256, 32, 14, 4, 10, 0 },
		{ SUITE_AEAD_AES_128_GCM, "AEAD_AES_128_GCM",
		    SUITE_CIPHER_AES_GCM_128, 16, 12, 16, 16, 1 },
		{ SUITE_AEAD_AES_256_GCM, "AEAD_AES_256_GCM",
		    SUITE_CIPHER_AES_GCM_256, 32, 12, 16, 16, 1 },
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
		    s->cipher == want[i].cipher && s->aead == want[i].aead,
		    "%s", want[i].name);
		T_OK(suite_by_cname(want[i].name) == s, "%s by name",
		    want[i].name);
	}
	T_OK(suite_by_id(SUITE_NONE) == NULL && suite_by_id(SUITE_COUNT) ==
	    NULL && suite_by_cname("F8_128_HMAC_SHA1_80") == NULL,
	    "unknown suites");
}

/* `got` (`n` ids) is `want` (`nw` ids), in that order. */
static int
same(const enum suite_id *got, size_t n, const enum suite_id *want,
    size_t nw)
{
	size_t i;

	if (n != nw)
		return 0;
	for (i = 0; i < n; i++)
		if (got[i] != want[i])
			return 0;
	return 1;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Each tool's suites before the one table, pinned: sdp-rewrite, srtp-bridge
 * and sip-tls-term offer AES_CM_128_HMAC_SHA1_80 then _32; sdp-rewrite
 * accepts those two, srtp-bridge its list (lib/relay/calls.c), sip-tls-term
 * any suite; sip-tls-term's SDES no-SUITE list (lib/sip/mediactl.c) is the
 * other six, AEAD_AES_256_GCM first.
 */
static void
test_defaults(void)
{
	static const enum suite_id offer[] = {
		SUITE_AES_CM_128_HMAC_SHA1_80, SUITE_AES_CM_128_HMAC_SHA1_32,
	};
	static const enum suite_id bridge_accept[] = {
		SUITE_AES_CM_128_HMAC_SHA1_80, SUITE_AES_CM_128_HMAC_SHA1_32,
		SUITE_AES_256_CM_HMAC_SHA1_80, SUITE_AES_256_CM_HMAC_SHA1_32,
		SUITE_AEAD_AES_128_GCM, SUITE_AEAD_AES_256_GCM,
	};
	static const enum suite_id tls_no[] = {
		SUITE_AEAD_AES_256_GCM, SUITE_AEAD_AES_128_GCM,
		SUITE_AES_256_CM_HMAC_SHA1_80, SUITE_AES_256_CM_HMAC_SHA1_32,
		SUITE_AES_192_CM_HMAC_SHA1_80, SUITE_AES_192_CM_HMAC_SHA1_32,
	};
	static const char *const user[] = { "sdp-rewrite", "srtp-bridge",
		"sip-tls-term" };
	enum suite_id ids[SUITE_COUNT], all[SUITE_COUNT - 1], id;
	enum suite_user u;
	size_t n, i;

	for (i = 0; i < N(all); i++)
		all[i] = (enum suite_id)(i + 1);
	T_EQ_INT(suite_default_order(ids, SUITE_COUNT), 2, "two by default");
	T_OK(ids[0] == SUITE_AES_CM_128_HMAC_SHA1_80 &&
	    ids[1] == SUITE_AES_CM_128_HMAC_SHA1_32, "_80 then _32");
	T_EQ_INT(suite_default_order(ids, 1), 1, "capped at n");
	for (u = SUITE_FOR_SDP_REWRITE; u < SUITE_USERS; u++) {
		n = suite_offer_order(u, ids, SUITE_COUNT);
		T_OK(same(ids, n, offer, N(offer)), "%s offers _80, _32",
		    user[u]);
		for (id = SUITE_NONE; id <= SUITE_COUNT; id++)
			if (suite_offers(u, id) != (id > 0 && id < 3))
				break;
		T_EQ_INT(id, SUITE_COUNT + 1, "%s: suite_offers()", user[u]);
	}
	n = suite_accept_order(SUITE_FOR_SDP_REWRITE, ids, SUITE_COUNT);
	T_OK(same(ids, n, offer, N(offer)), "sdp-rewrite accepts _80, _32");
	n = suite_accept_order(SUITE_FOR_SRTP_BRIDGE, ids, SUITE_COUNT);
	T_OK(same(ids, n, bridge_accept, N(bridge_accept)),
	    "srtp-bridge accepts all but AES-192");
	n = suite_accept_order(SUITE_FOR_SIP_TLS_TERM, ids, SUITE_COUNT);
	T_OK(same(ids, n, all, N(all)), "sip-tls-term accepts all");
	for (id = SUITE_NONE; id <= SUITE_COUNT; id++)
		if (suite_accepts(SUITE_FOR_SRTP_BRIDGE, id) !=
		    (id == bridge_accept[0] || id == bridge_accept[1] ||
		    id == bridge_accept[2] || id == bridge_accept[3] ||
		    id == bridge_accept[4] || id == bridge_accept[5]))
			break;
	T_EQ_INT(id, SUITE_COUNT + 1, "srtp-bridge: suite_accepts()");
	n = suite_not_offered(SUITE_FOR_SIP_TLS_TERM, ids, SUITE_COUNT);
	T_OK(same(ids, n, tls_no, N(tls_no)),
	    "sip-tls-term's no-SUITE list, AEAD_AES_256_GCM first");
	T_EQ_INT(suite_not_offered(SUITE_FOR_SIP_TLS_TERM, ids, 2), 2,
	    "not offered: capped at n");
	T_OK(ids[0] == SUITE_AEAD_AES_256_GCM && ids[1] ==
	    SUITE_AEAD_AES_128_GCM, "not offered: the strongest first");
	T_OK(!suite_offers(SUITE_USERS, SUITE_AES_CM_128_HMAC_SHA1_80) &&
	    !suite_accepts((enum suite_user)-1, SUITE_AES_CM_128_HMAC_SHA1_80)
	    && suite_offer_order(SUITE_USERS, ids, SUITE_COUNT) == 0,
	    "unknown user: nothing");
}

int
main(void)
{
	test_properties();
	test_defaults();
	return t_done();
}
