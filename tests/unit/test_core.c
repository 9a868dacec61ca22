/* test_core.c - unit tests for slice, buf, err, base64, rnd and suites. */
#include <stdint.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/rnd.h"
#include "base/slice.h"
#include "media/suite.h"
#include "t.h"

static void
test_slice(void)
{
	struct slice s = SLICE_LIT("\x01\x02\x03\x04\x05\x06\x07"), h;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t v;

	T_OK(slice_u8(&s, &u8) == 0 && u8 == 1, "slice_u8");
	T_OK(slice_be16(&s, &u16) == 0 && u16 == 0x0203, "slice_be16");
	T_OK(slice_be32(&s, &u32) == 0 && u32 == 0x04050607, "slice_be32");
	T_EQ_INT(slice_u8(&s, &u8), E_SHORT, "slice_u8 at end is E_SHORT");
	s = SLICE_LIT("\x01\x02\x03");
	T_EQ_INT(slice_be32(&s, &u32), E_SHORT, "short be32 fails");
	T_EQ_INT(s.len, 3, "failed read leaves the slice unchanged");

	s = SLICE_LIT("a=b=c");
	T_OK(slice_split(&s, '=', &h) == 1 && slice_eq_cstr(h, "a") &&
	    slice_eq_cstr(s, "b=c"), "slice_split");
	T_OK(slice_case_eq_cstr(SLICE_LIT("Content-Length"), "content-length"),
	    "case-insensitive compare");
	T_OK(slice_eq_cstr(slice_trim(SLICE_LIT(" \tx y\t ")), "x y"), "trim");
	T_EQ_INT(slice_find(SLICE_LIT("hello world"), SLICE_LIT("wor")), 6,
	    "find");
	T_EQ_INT(slice_find(SLICE_LIT("hel"), SLICE_LIT("hello")), -1,
	    "find longer needle");
	T_OK(slice_to_u64(SLICE_LIT("65535"), 65535, &v) == 0 && v == 65535,
	    "u64 at max");
	T_EQ_INT(slice_to_u64(SLICE_LIT("65536"), 65535, &v), E_RANGE,
	    "u64 over max");
	T_EQ_INT(slice_to_u64(SLICE_LIT("18446744073709551616"), UINT64_MAX,
	    &v), E_RANGE, "u64 overflow");
	T_EQ_INT(slice_to_u64(SLICE_LIT("12a"), 1000, &v), E_SYNTAX,
	    "u64 non-digit");
	T_EQ_INT(slice_to_u64(SLICE_LIT(""), 1000, &v), E_SYNTAX, "u64 empty");
	T_OK(slice_is_digits(SLICE_LIT("0123")) &&
	    !slice_is_digits(SLICE_LIT("")) && !slice_is_digits(SLICE_LIT("1a")),
	    "slice_is_digits");
	T_EQ_INT(slice_to_u64(SLICE_LIT("5"), 3, &v), E_RANGE,
	    "u64 digit over small max");
}

static void
test_buf(void)
{
	struct buf *b = buf_new(10);
	struct buf *s;
	int i, r = 0;

	T_OK(b != NULL, "buf_new");
	T_EQ_INT(buf_append_cstr(b, "hello"), 0, "append");
	T_EQ_INT(buf_printf(b, "%d", 12345), 0, "printf to the cap");
	T_EQ_STR(buf_str(b), "hello12345", "contents");
	T_EQ_INT(buf_append_u8(b, 'x'), E_BIG, "append over the cap");
	T_EQ_INT(buf_printf(b, "y"), E_BIG, "printf over the cap");
	T_EQ_INT(buf_len(b), 10, "failed appends change nothing");
	buf_consume(b, 5);
	T_EQ_STR(buf_str(b), "12345", "consume");
	buf_truncate(b, 2);
	T_EQ_STR(buf_str(b), "12", "truncate");
	buf_free(b);
	buf_free(NULL);

	s = buf_new_secret(1 << 20);
	for (i = 0; i < 10000 && r == 0; i++)
		r = buf_append(s, "0123456789", 10);
	T_OK(r == 0 && buf_len(s) == 100000, "secret buf grows");
	buf_free(s);
}

static void
test_b64(void)
{
	/* RFC 4648 section 10 vectors */
	static const char *const v[][2] = {
		{ "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	char out[64];
	uint8_t dec[64];
	size_t i;
	int n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = b64_encode((const uint8_t *)v[i][0], strlen(v[i][0]), out,
		    sizeof(out));
		T_EQ_STR(out, v[i][1], "b64 encode \"%s\"", v[i][0]);
		n = b64_decode(slice_cstr(v[i][1]), dec, sizeof(dec));
		T_EQ_MEM(dec, (size_t)n, v[i][0], strlen(v[i][0]),
		    "b64 decode \"%s\"", v[i][1]);
	}
	n = b64_decode(SLICE_LIT("Zm9vYg"), dec, sizeof(dec));
	T_EQ_MEM(dec, (size_t)n, "foob", 4, "b64 decode unpadded");
	T_EQ_INT(b64_decode(SLICE_LIT("Zm9v!mFy"), dec, sizeof(dec)),
	    E_SYNTAX, "b64 bad character");
	T_EQ_INT(b64_decode(SLICE_LIT("Zm9vY"), dec, sizeof(dec)), E_SYNTAX,
	    "b64 impossible length");
	T_EQ_INT(b64_decode(SLICE_LIT("Zg=a"), dec, sizeof(dec)), E_SYNTAX,
	    "b64 padding in the middle");
	T_EQ_INT(b64_decode(SLICE_LIT(""), dec, sizeof(dec)), E_SYNTAX,
	    "b64 empty");
	T_EQ_INT(b64_decode(SLICE_LIT("Zm9vYmFy"), dec, 5), E_BIG,
	    "b64 output too small");
	T_EQ_INT(b64_encode((const uint8_t *)"foo", 3, out, 4), E_BIG,
	    "b64 encode needs room for the NUL");
}

static void
test_rnd_suite(void)
{
	uint8_t a[30] = { 0 }, b[30] = { 0 };
	enum suite_id ids[4];
	const struct suite *s;

	T_OK(rnd_bytes(a, sizeof(a)) == 0 && rnd_bytes(b, sizeof(b)) == 0 &&
	    memcmp(a, b, sizeof(a)) != 0, "rnd_bytes gives distinct output");
	s = suite_by_cname("AES_CM_128_HMAC_SHA1_80");
	T_OK(s != NULL && s->key_len == 16 && s->salt_len == 14 &&
	    s->srtp_tag_len == 10, "suite AES_CM_128_HMAC_SHA1_80");
	s = suite_by_cname("AES_CM_128_HMAC_SHA1_32");
	T_OK(s != NULL && s->srtp_tag_len == 4 && s->srtcp_tag_len == 10,
	    "suite _32 has an 80-bit SRTCP tag");
	s = suite_by_cname("AEAD_AES_256_GCM");
	T_OK(s != NULL && s->key_len == 32 && s->salt_len == 12 && s->aead,
	    "suite AEAD_AES_256_GCM");
	T_OK(suite_by_cname("aes_cm_128_hmac_sha1_80") == NULL,
	    "suite names are case-sensitive");
	T_OK(suite_default_order(ids, 4) >= 1 &&
	    ids[0] == SUITE_AES_CM_128_HMAC_SHA1_80, "default order");
	T_OK(strcmp(sbk_strerror(E_SHORT), "input too short") == 0 &&
	    strcmp(sbk_strerror(12345), "unknown error") == 0, "strerror");
}

int
main(void)
{
	test_slice();
	test_buf();
	test_b64();
	test_rnd_suite();
	return t_done();
}
