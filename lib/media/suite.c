/* suite.c - the table of SRTP crypto suites. */
#include <string.h>

#include "media/suite.h"

static const struct suite suites[] = {
	{ SUITE_AES_CM_128_HMAC_SHA1_80, "AES_CM_128_HMAC_SHA1_80", 16, 14, 10, 10, 0 },
	{ SUITE_AES_CM_128_HMAC_SHA1_32, "AES_CM_128_HMAC_SHA1_32", 16, 14, 4, 10, 0 },
	{ SUITE_AES_192_CM_HMAC_SHA1_80, "AES_192_CM_HMAC_SHA1_80", 24, 14, 10, 10, 0 },
	{ SUITE_AES_192_CM_HMAC_SHA1_32, "AES_192_CM_HMAC_SHA1_32", 24, 14, 4, 10, 0 },
	{ SUITE_AES_256_CM_HMAC_SHA1_80, "AES_256_CM_HMAC_SHA1_80", 32, 14, 10, 10, 0 },
	{ SUITE_AES_256_CM_HMAC_SHA1_32, "AES_256_CM_HMAC_SHA1_32", 32, 14, 4, 10, 0 },
	{ SUITE_AEAD_AES_128_GCM, "AEAD_AES_128_GCM", 16, 12, 16, 16, 1 },
	{ SUITE_AEAD_AES_256_GCM, "AEAD_AES_256_GCM", 32, 12, 16, 16, 1 },
};

const struct suite *
suite_by_id(enum suite_id id)
{
	size_t i;

	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i].id == id)
			return &suites[i];
	return NULL;
}

const struct suite *
suite_by_name(struct slice name)
{
	size_t i;

	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (slice_eq_cstr(name, suites[i].name))
			return &suites[i];
	return NULL;
}

const struct suite *
suite_by_cname(const char *name)
{
	return suite_by_name(slice_cstr(name));
}

size_t
suite_default_order(enum suite_id *out, size_t n)
{
	static const enum suite_id order[] = {
		SUITE_AES_CM_128_HMAC_SHA1_80,
		SUITE_AES_CM_128_HMAC_SHA1_32,
	};
	size_t i;

	for (i = 0; i < n && i < sizeof(order) / sizeof(order[0]); i++)
		out[i] = order[i];
	return i;
}
