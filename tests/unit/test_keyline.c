/* test_keyline.c - unit tests for key lines: RFC 4568 examples, edge cases. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "media/keyline.h"
#include "t.h"

/* RFC 4568 section 4 and 9 example keys (30 bytes each). */
#define K1 "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
#define K2 "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
#define K3 "MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm"
#define K4 "QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5"

static char why[128];

static int
parse(const char *line, struct keyline **kl)
{
	return keyline_parse(slice_cstr(line), kl, why, sizeof(why));
}

/* Parse, format with `fmt`, compare with `want` (NULL: the input). */
static void
roundtrip(const char *line, unsigned fmt, const char *want, const char *name)
{
	struct keyline *kl;
	struct buf *b = buf_new(4096);
	int r = parse(line, &kl);

	T_EQ_INT(r, 0, "%s: parses (%s)", name, why);
	if (r == 0) {
		T_EQ_INT(keyline_format(kl, fmt, b), 0, "%s: formats", name);
		T_EQ_STR(buf_str(b), want != NULL ? want : line,
		    "%s: round trip", name);
	}
	keyline_free(kl);
	buf_free(b);
}

static void
test_rfc4568(void)
{
	struct keyline *kl;
	uint64_t mki;
	const uint8_t *m;

	/* section 4 */
	T_EQ_INT(parse("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" K1
	    "|2^20|1:32", &kl), 0, "rfc 4568 s4 attribute (%s)", why);
	T_OK(kl != NULL && keyline_suite(kl)->id ==
	    SUITE_AES_CM_128_HMAC_SHA1_80, "suite");
	T_EQ_INT(keyline_tag(kl), 1, "tag");
	T_EQ_INT(keyline_nkeys(kl), 1, "one key");
	T_OK(keyline_lifetime(kl, 0) == (1u << 20), "lifetime 2^20");
	T_EQ_INT(keyline_mki(kl, 0, &mki), 32, "mki length 32");
	T_EQ_INT(mki, 1, "mki value 1");
	m = keyline_master(kl, 0);
	/* "PS1u" decodes to 3d 2d 6e */
	T_OK(m != NULL && m[0] == 0x3d && m[1] == 0x2d && m[2] == 0x6e,
	    "key bytes");
	T_OK(keyline_master(kl, 1) == NULL, "no second key");
	keyline_free(kl);

	/* section 9.1 with a session parameter */
	T_EQ_INT(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" K2
	    "|2^20|1:4 FEC_ORDER=FEC_SRTP", &kl), 0, "s9.1 (%s)", why);
	T_OK(slice_eq_cstr(keyline_session_params(kl), "FEC_ORDER=FEC_SRTP"),
	    "FEC_ORDER kept");
	keyline_free(kl);

	/* section 6.1: two keys, distinguished by MKI */
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_32 inline:" K3 "|2^20|1:4;"
	    "inline:" K4 "|2^20|2:4", &kl), 0, "two keys (%s)", why);
	T_EQ_INT(keyline_nkeys(kl), 2, "two keys parsed");
	T_EQ_INT(keyline_mki(kl, 1, &mki), 4, "second mki length");
	T_EQ_INT(mki, 2, "second mki value");
	keyline_free(kl);

	roundtrip("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" K1 "|2^20|1:32",
	    KEYLINE_FMT_TAG, "1 AES_CM_128_HMAC_SHA1_80 inline:" K1
	    "|2^20|1:32", "attribute form to a=crypto value");
	roundtrip("AES_CM_128_HMAC_SHA1_32 inline:" K3 "|2^20|1:4;inline:" K4
	    "|2^20|2:4", 0, NULL, "two keys");
	roundtrip("2 AES_CM_128_HMAC_SHA1_80 inline:" K2 "|1048576 KDR=1 "
	    "UNENCRYPTED_SRTCP WSH=128 FEC_KEY=inline:" K1 " -EXT",
	    KEYLINE_FMT_TAG, NULL, "decimal lifetime and session params");
}

static void
test_session_params(void)
{
	struct keyline *kl;

	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1
	    " UNENCRYPTED_SRTP UNENCRYPTED_SRTCP UNAUTHENTICATED_SRTP KDR=24 "
	    "WSH=64", &kl), 0, "all flags (%s)", why);
	T_EQ_INT(keyline_flags(kl), KEYLINE_UNENCRYPTED_SRTP |
	    KEYLINE_UNENCRYPTED_SRTCP | KEYLINE_UNAUTHENTICATED_SRTP, "flags");
	T_EQ_INT(keyline_kdr(kl), 24, "kdr");
	T_EQ_INT(keyline_wsh(kl), 64, "wsh");
	keyline_free(kl);
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1, &kl), 0, "plain");
	T_OK(keyline_flags(kl) == 0 && keyline_kdr(kl) == -1 &&
	    keyline_wsh(kl) == -1 && keyline_tag(kl) == -1, "no params");
	keyline_free(kl);
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1 " KDR=25", &kl),
	    E_RANGE, "KDR 25");
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1 " WSH=10", &kl),
	    E_RANGE, "WSH below 64");
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1 " FEC_ORDER=X",
	    &kl), E_SYNTAX, "bad FEC_ORDER");
}

static void
test_selectors(void)
{
	struct keyline *kl;
	struct sockaddr_storage ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	uint32_t ssrc;
	struct slice n, v;
	const char *line = "call-id=abc@host ssrc=0xDEADBEEF src=[::1]:5004 "
	    "dst=192.0.2.7:40000 dir=in media=1 type=audio x-new=thing "
	    "AES_CM_128_HMAC_SHA1_80 inline:" K1;

	T_EQ_INT(parse(line, &kl), 0, "selectors parse (%s)", why);
	T_OK(slice_eq_cstr(keyline_selector(kl, "call-id"), "abc@host"),
	    "call-id");
	T_OK(keyline_ssrc(kl, &ssrc) == 0 && ssrc == 0xdeadbeef, "ssrc hex");
	T_OK(keyline_src(kl, &ss) == 0 && ss.ss_family == AF_INET6 &&
	    ntohs(a6->sin6_port) == 5004 &&
	    IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr), "src ipv6");
	T_OK(keyline_dst(kl, &ss) == 0 && ss.ss_family == AF_INET &&
	    ntohs(a4->sin_port) == 40000 &&
	    ntohl(a4->sin_addr.s_addr) == 0xc0000207, "dst ipv4");
	T_EQ_INT(keyline_dir(kl), KEYLINE_DIR_IN, "dir");
	T_EQ_INT(keyline_media(kl), 1, "media");
	T_OK(slice_eq_cstr(keyline_selector(kl, "type"), "audio"), "type");
	T_OK(slice_eq_cstr(keyline_selector(kl, "x-new"), "thing"),
	    "unknown selector kept");
	T_OK(keyline_selector(kl, "nope").p == NULL, "absent selector");
	T_EQ_INT(keyline_nselectors(kl), 8, "eight selectors");
	T_OK(keyline_selector_at(kl, 7, &n, &v) == 0 &&
	    slice_eq_cstr(n, "x-new"), "selector order kept");
	T_EQ_INT(keyline_set_selector(kl, "src", SLICE_LIT("10.0.0.1:1")), 0,
	    "replace src");
	T_EQ_INT(keyline_set_selector(kl, "x-new", SLICE_NULL), 0,
	    "remove selector");
	T_EQ_INT(keyline_set_selector(kl, "dir", SLICE_LIT("up")), E_SYNTAX,
	    "bad dir rejected");
	T_EQ_INT(keyline_nselectors(kl), 7, "seven selectors");
	keyline_free(kl);
	roundtrip(line, KEYLINE_FMT_SELECTORS, NULL, "selectors round trip");
	roundtrip(line, 0, "AES_CM_128_HMAC_SHA1_80 inline:" K1,
	    "selectors left out");
	T_EQ_INT(parse("ssrc=12345 AES_CM_128_HMAC_SHA1_80 inline:" K1, &kl),
	    0, "decimal ssrc");
	T_OK(keyline_ssrc(kl, &ssrc) == 0 && ssrc == 12345, "ssrc decimal");
	keyline_free(kl);

	T_EQ_INT(parse("ssrc=0x1FFFFFFFF AES_CM_128_HMAC_SHA1_80 inline:" K1,
	    &kl), E_RANGE, "ssrc over 32 bits");
	T_EQ_INT(parse("src=::1:5 AES_CM_128_HMAC_SHA1_80 inline:" K1, &kl),
	    E_SYNTAX, "ipv6 without brackets");
	T_EQ_INT(parse("src=1.2.3.4:70000 AES_CM_128_HMAC_SHA1_80 inline:" K1,
	    &kl), E_RANGE, "port over 65535");
	T_EQ_INT(parse("src=1.2.3:5 AES_CM_128_HMAC_SHA1_80 inline:" K1, &kl),
	    E_SYNTAX, "bad ipv4");
	T_EQ_INT(parse("dir=sideways AES_CM_128_HMAC_SHA1_80 inline:" K1, &kl),
	    E_SYNTAX, "bad dir");
	T_EQ_INT(parse("dir=in dir=out AES_CM_128_HMAC_SHA1_80 inline:" K1,
	    &kl), E_SYNTAX, "selector twice");
	T_EQ_INT(parse("=x AES_CM_128_HMAC_SHA1_80 inline:" K1, &kl),
	    E_SYNTAX, "empty selector name");
	T_EQ_INT(parse("x= AES_CM_128_HMAC_SHA1_80 inline:" K1, &kl),
	    E_SYNTAX, "empty selector value");
}

static void
test_errors(void)
{
	struct keyline *kl = (struct keyline *)1;

	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1 "AA", &kl), E_KEY,
	    "too long key");
	T_OK(kl == NULL, "no keyline on failure");
	T_EQ_STR(why, "key is 31 bytes, AES_CM_128_HMAC_SHA1_80 needs 30",
	    "reason names the length");
	T_EQ_INT(parse("AES_256_CM_HMAC_SHA1_80 inline:" K1, &kl), E_KEY,
	    "30 bytes for AES-256");
	T_EQ_STR(why, "key is 30 bytes, AES_256_CM_HMAC_SHA1_80 needs 46",
	    "reason names the suite");
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:PS1u!CVe", &kl), E_KEY,
	    "bad base64");
	T_EQ_STR(why, "key is not valid base64", "base64 reason");
	T_EQ_INT(parse("AES_CM_999 inline:" K1, &kl), E_KEY, "unknown suite");
	T_EQ_STR(why, "unknown crypto suite 'AES_CM_999'", "suite reason");
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80", &kl), E_SYNTAX, "no key");
	T_EQ_INT(parse("", &kl), E_SYNTAX, "empty");
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 uri:" K1, &kl), E_SYNTAX,
	    "not inline");
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1 ";", &kl),
	    E_SYNTAX, "trailing semicolon");
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1 "|", &kl),
	    E_SYNTAX, "empty parameter");
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1 "|2^64", &kl),
	    E_RANGE, "lifetime 2^64");
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1 "|2^x", &kl),
	    E_SYNTAX, "lifetime 2^x");
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1 "|0", &kl),
	    E_RANGE, "lifetime 0");
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1 "|1:0", &kl),
	    E_RANGE, "mki length 0");
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1 "|1:129", &kl),
	    E_RANGE, "mki length 129");
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1 "|256:1", &kl),
	    E_RANGE, "mki value too big for its length");
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1 "|1:4|2^20", &kl),
	    E_SYNTAX, "mki before lifetime");
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1 "|1:4|2:4", &kl),
	    E_SYNTAX, "two mkis");
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1 "|2^20|1:4|3", &kl),
	    E_SYNTAX, "three parameters");
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1 "|x:4", &kl),
	    E_SYNTAX, "mki not a number");
	T_EQ_INT(parse("a=crypto:x AES_CM_128_HMAC_SHA1_80 inline:" K1, &kl),
	    E_SYNTAX, "bad tag");
	T_EQ_INT(parse("1 dir=in AES_CM_128_HMAC_SHA1_80 inline:" K1, &kl),
	    E_SYNTAX, "selector after tag");
}

static void
test_forms(void)
{
	struct keyline *kl;
	uint64_t mki;

	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1 "|1:128\r\n", &kl),
	    0, "mki length 128, CRLF ignored");
	T_EQ_INT(keyline_mki(kl, 0, &mki), 128, "mki 128 bytes");
	T_OK(keyline_lifetime(kl, 0) == 0, "no lifetime");
	keyline_free(kl);
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:" K1 "|2^48", &kl), 0,
	    "2^48");
	T_OK(keyline_lifetime(kl, 0) == ((uint64_t)1 << 48), "2^48 value");
	keyline_free(kl);
	T_EQ_INT(parse("AES_CM_128_HMAC_SHA1_80 inline:"
	    "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", &kl), 0, "padded");
	keyline_free(kl);
	/* unpadded base64 from some implementations: 30 bytes has no pad */
	T_EQ_INT(parse("AEAD_AES_128_GCM inline:MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3OA",
	    &kl), 0, "unpadded 28-byte GCM key (%s)", why);
	keyline_free(kl);
	T_EQ_INT(parse("AEAD_AES_256_GCM inline:MTIzNDU2Nzg5MDEyMzQ1Njc4OTAx"
	    "MjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ=", &kl), 0, "44-byte GCM key (%s)",
	    why);
	keyline_free(kl);
	T_OK(keyline_is_comment(SLICE_LIT("  # hello")), "comment");
	T_OK(keyline_is_comment(SLICE_LIT(" \t\r\n")), "blank");
	T_OK(!keyline_is_comment(SLICE_LIT("AES")), "not a comment");
	roundtrip("AES_CM_128_HMAC_SHA1_80 inline:" K1 "|2^31|7:1", 0, NULL,
	    "2^31 and 1-byte mki");
	roundtrip("AES_CM_128_HMAC_SHA1_80\tinline:" K1 "   KDR=0", 0,
	    "AES_CM_128_HMAC_SHA1_80 inline:" K1 " KDR=0", "blanks folded");
}

static void
test_build(void)
{
	struct keyline *kl, *d;
	struct buf *b = buf_new(4096);
	uint8_t m[46] = { 1, 2, 3 };

	kl = keyline_new(suite_by_id(SUITE_AES_CM_128_HMAC_SHA1_32));
	T_OK(kl != NULL, "new");
	T_EQ_INT(keyline_format(kl, 0, b), E_STATE, "no key: E_STATE");
	T_EQ_INT(keyline_add_key(kl, m, 29, 0, 0, 0), E_KEY, "short key");
	T_EQ_INT(keyline_add_key(kl, m, 30, 1u << 31, 5, 2), 0, "add key");
	T_EQ_INT(keyline_add_key(kl, m, 30, 0, 70000, 2), E_RANGE,
	    "mki too big");
	T_EQ_INT(keyline_add_random_key(kl), 0, "random key");
	T_EQ_INT(keyline_nkeys(kl), 2, "two keys");
	T_OK(memcmp(keyline_master(kl, 0), keyline_master(kl, 1), 30) != 0,
	    "random key differs");
	T_EQ_INT(keyline_set_tag(kl, 3), 0, "tag");
	T_EQ_INT(keyline_set_selector(kl, "media", SLICE_LIT("0")), 0, "sel");
	d = keyline_dup(kl);
	keyline_clear_keys(kl);
	T_EQ_INT(keyline_nkeys(kl), 0, "cleared");
	keyline_free(kl);
	T_EQ_INT(keyline_format(d, KEYLINE_FMT_SELECTORS | KEYLINE_FMT_TAG, b),
	    0, "format dup");
	T_OK(strncmp(buf_str(b), "media=0 3 AES_CM_128_HMAC_SHA1_32 inline:"
	    "AQID", 41) == 0 && strstr(buf_str(b), "|2^31|5:2;inline:") != NULL,
	    "built line: %s", buf_str(b));
	buf_reset(b);
	/* the formatted line parses back to the same keys */
	T_EQ_INT(keyline_format(d, 0, b), 0, "format again");
	T_EQ_INT(keyline_parse(buf_slice(b), &kl, why, sizeof(why)), 0,
	    "parse formatted");
	T_OK(kl != NULL && memcmp(keyline_master(kl, 1), keyline_master(d, 1),
	    30) == 0, "random key survives the round trip");
	keyline_free(kl);
	/* session parameters added to a built line (an answer mirroring) */
	T_EQ_INT(keyline_add_flags(d, KEYLINE_UNENCRYPTED_SRTCP |
	    KEYLINE_UNAUTHENTICATED_SRTP), 0, "add flags");
	T_EQ_INT(keyline_add_flags(d, KEYLINE_UNENCRYPTED_SRTCP), 0,
	    "add a flag it has");
	T_EQ_INT(keyline_flags(d), KEYLINE_UNENCRYPTED_SRTCP |
	    KEYLINE_UNAUTHENTICATED_SRTP, "flags");
	T_OK(slice_eq_cstr(keyline_session_params(d),
	    "UNENCRYPTED_SRTCP UNAUTHENTICATED_SRTP"),
	    "written once each, in order");
	keyline_free(d);
	keyline_free(NULL);
	buf_free(b);
}

int
main(void)
{
	test_rfc4568();
	test_session_params();
	test_selectors();
	test_errors();
	test_forms();
	test_build();
	return t_done();
}
