/* test_ice.c - the ICE-lite agent: answers, refusals and their counters,
 * the peer's ufrag before and after the SDP, ICE restarts. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>

#include "base/err.h"
#include "base/net.h"
#include "media/ice.h"
#include "media/stun.h"
#include "t.h"

#include <openssl/evp.h>

static const uint8_t tid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
static uint8_t req[STUN_MAX], out[STUN_MAX];
static size_t reqlen, outlen;

static void
put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* A bit-at-a-time CRC-32, independent of stun.c's. */
static uint32_t
ref_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static struct net_addr
addr(const char *s)
{
	struct net_addr a;

	memset(&a, 0, sizeof(a));
	if (net_addr_parse(slice_cstr(s), &a) != 0)
		printf("# bad address %s\n", s);
	return a;
}

/* A check from the peer: USERNAME `user`, keyed with `key`. */
static void
mkreq(const char *user, const char *key, int role, int usecand)
{
	reqlen = stun_binding_request(req, sizeof(req), tid,
	    slice_cstr(user), 0x6e7f00ffu, role, 0x1122334455667788ull,
	    usecand, (const uint8_t *)key, key != NULL ? strlen(key) : 0);
}

static int
input(struct ice_lite *a, const struct net_addr *src, struct ice_check *c)
{
	return ice_lite_input(a, slice_make(req, reqlen), src, out,
	    sizeof(out), &outlen, c);
}

static int
all_ice_chars(const char *s)
{
	for (; *s != '\0'; s++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+/", *s) == NULL)
			return 0;
	return 1;
}

static void
test_creds(void)
{
	struct ice_lite a, b;

	T_EQ_INT(ice_lite_init(&a), 0, "init");
	T_EQ_INT(ice_lite_init(&b), 0, "init another");
	T_EQ_INT(strlen(a.lufrag), 8, "ufrag of 8");
	T_EQ_INT(strlen(a.lpwd), 24, "pwd of 24");
	T_OK(all_ice_chars(a.lufrag) && all_ice_chars(a.lpwd),
	    "ice-chars only (%s %s)", a.lufrag, a.lpwd);
	T_OK(strcmp(a.lufrag, b.lufrag) != 0 && strcmp(a.lpwd, b.lpwd) != 0,
	    "two agents, two sets of credentials");
	T_OK(a.rufrag[0] == '\0' && a.rpwd[0] == '\0', "no remote yet");

	T_EQ_INT(ice_lite_set_remote(&a, SLICE_LIT("abcd"),
	    SLICE_LIT("0123456789abcdefghij+/")), 0, "first remote: 0");
	T_EQ_STR(a.rufrag, "abcd", "remote ufrag kept");
	T_EQ_INT(ice_lite_set_remote(&a, SLICE_LIT("abcd"),
	    SLICE_LIT("0123456789abcdefghij+/")), 0, "the same again: 0");
	T_EQ_INT(ice_lite_set_remote(&a, SLICE_LIT("abc"),
	    SLICE_LIT("0123456789abcdefghij+/")), E_SYNTAX, "ufrag of 3");
	T_EQ_INT(ice_lite_set_remote(&a, SLICE_LIT("ab-d"),
	    SLICE_LIT("0123456789abcdefghij+/")), E_SYNTAX, "ufrag with '-'");
	T_EQ_INT(ice_lite_set_remote(&a, SLICE_LIT("abcd"),
	    SLICE_LIT("0123456789abcdefghij+")), E_SYNTAX, "pwd of 21");
	T_EQ_INT(ice_lite_set_remote(&a, SLICE_LIT("abcd"),
	    SLICE_LIT("0123456789abcdefghij:/")), E_SYNTAX, "pwd with ':'");
	T_EQ_STR(a.rufrag, "abcd", "refused values change nothing");
	T_EQ_INT(ice_lite_set_remote(&a, SLICE_LIT("abcd"),
	    SLICE_LIT("0123456789abcdefghij+/x")), 1, "new pwd: restart (1)");
	T_EQ_INT(ice_lite_set_remote(&a, SLICE_LIT("wxyz"),
	    SLICE_LIT("0123456789abcdefghij+/x")), 1, "new ufrag: restart");
}

static void
test_answer(void)
{
	struct ice_lite a;
	struct ice_check c = { -1, 0 };
	struct stun_msg m;
	struct net_addr src = addr("127.0.0.1:40002"), v6 = addr("[::1]:5"),
	    mapped = addr("[::ffff:127.0.0.1]:40002");
	char user[600];
	int r;

	T_EQ_INT(ice_lite_init(&a), 0, "init");
	T_EQ_INT(ice_lite_set_remote(&a, SLICE_LIT("PEER"),
	    SLICE_LIT("peerpasswordpeerpassword")), 0, "remote set");
	snprintf(user, sizeof(user), "%s:PEER", a.lufrag);

	mkreq(user, a.lpwd, 1, 1);
	r = input(&a, &src, &c);
	T_EQ_INT(r, 0, "a right check is answered");
	T_OK(outlen > 0 && stun_parse(slice_make(out, outlen), &m) == 0,
	    "the answer parses");
	T_EQ_INT(m.type, STUN_BINDING_SUCCESS, "a Binding success");
	T_EQ_MEM(m.tid, 12, tid, 12, "to the request's transaction");
	T_OK(net_addr_eq(&m.mapped, &src), "XOR-MAPPED-ADDRESS is the source");
	T_EQ_INT(stun_check_integrity(slice_make(out, outlen), &m,
	    (const uint8_t *)a.lpwd, strlen(a.lpwd)), 0,
	    "MESSAGE-INTEGRITY with our password");
	T_OK(m.has_fingerprint, "and a FINGERPRINT");
	T_OK(c.nominated == 1 && c.priority == 0x6e7f00ffu,
	    "the check: nominated, its priority");
	T_OK(a.requests == 1 && a.answered == 1 && a.nominations == 1,
	    "counted: request, answer, nomination");

	mkreq(user, a.lpwd, 1, 0);
	T_EQ_INT(input(&a, &v6, &c), 0, "from IPv6");
	T_OK(stun_parse(slice_make(out, outlen), &m) == 0 &&
	    net_addr_eq(&m.mapped, &v6) && c.nominated == 0,
	    "IPv6 mapped address, not nominated");
	T_EQ_INT(a.nominations, 1, "no new nomination");
	T_EQ_INT(input(&a, &mapped, &c), 0, "from an IPv4-mapped address");
	T_OK(stun_parse(slice_make(out, outlen), &m) == 0 &&
	    net_addr_eq(&m.mapped, &src), "answered as IPv4");

	mkreq(user, a.lpwd, 0, 0);
	T_EQ_INT(input(&a, &src, &c), 0, "no role attribute: answered");

	/* wrong password: dropped and counted */
	mkreq(user, "wrongpasswordwrongpassword", 1, 1);
	T_EQ_INT(input(&a, &src, &c), E_AUTH, "wrong password: E_AUTH");
	T_EQ_INT(outlen, 0, "and no answer");
	T_EQ_INT(a.bad_auth, 1, "counted bad_auth");

	/* wrong usernames: 401 without MI */
	snprintf(user, sizeof(user), "%s:OTHER", a.lufrag);
	mkreq(user, a.lpwd, 1, 1);
	T_EQ_INT(input(&a, &src, &c), E_AUTH, "their ufrag wrong: E_AUTH");
	T_OK(outlen > 0 && stun_parse(slice_make(out, outlen), &m) == 0 &&
	    m.error_code == 401 && m.integrity_at == 0 && m.has_fingerprint,
	    "a 401, no MI, a FINGERPRINT");
	mkreq("nobody12:PEER", a.lpwd, 1, 1);
	T_EQ_INT(input(&a, &src, &c), E_AUTH, "our ufrag wrong: E_AUTH");
	snprintf(user, sizeof(user), "%s:", a.lufrag);
	mkreq(user, a.lpwd, 1, 1);
	T_EQ_INT(input(&a, &src, &c), E_AUTH, "their ufrag empty: E_AUTH");
	snprintf(user, sizeof(user), "%s", a.lufrag);
	mkreq(user, a.lpwd, 1, 1);
	T_EQ_INT(input(&a, &src, &c), E_AUTH, "no colon: E_AUTH");
	snprintf(user, sizeof(user), "%sX:PEER", a.lufrag);
	mkreq(user, a.lpwd, 1, 1);
	T_EQ_INT(input(&a, &src, &c), E_AUTH, "our ufrag as a prefix: E_AUTH");
	T_EQ_INT(a.bad_user, 5, "counted bad_user");

	/* no MI, no USERNAME: 400 */
	snprintf(user, sizeof(user), "%s:PEER", a.lufrag);
	mkreq(user, NULL, 1, 1);
	T_EQ_INT(input(&a, &src, &c), E_SYNTAX, "no MI: E_SYNTAX");
	T_OK(outlen > 0 && stun_parse(slice_make(out, outlen), &m) == 0 &&
	    m.error_code == 400, "a 400");
	mkreq("", a.lpwd, 1, 1);
	T_EQ_INT(input(&a, &src, &c), E_SYNTAX, "no USERNAME: E_SYNTAX");
	T_OK(outlen > 0 && stun_parse(slice_make(out, outlen), &m) == 0 &&
	    m.error_code == 400, "a 400");

	/* no FINGERPRINT: dropped */
	mkreq(user, a.lpwd, 1, 1);
	reqlen -= 8;
	req[3] = (uint8_t)(reqlen - 20);
	T_EQ_INT(input(&a, &src, &c), E_SYNTAX, "no FINGERPRINT: E_SYNTAX");
	T_EQ_INT(outlen, 0, "dropped");
	T_EQ_INT(a.malformed, 3, "counted malformed");

	/* role conflict */
	mkreq(user, a.lpwd, 2, 0);
	T_EQ_INT(input(&a, &src, &c), E_STATE, "ICE-CONTROLLED: E_STATE");
	T_OK(outlen > 0 && stun_parse(slice_make(out, outlen), &m) == 0 &&
	    m.error_code == 487 && stun_check_integrity(slice_make(out,
	    outlen), &m, (const uint8_t *)a.lpwd, strlen(a.lpwd)) == 0,
	    "a 487 with our MI");
	T_EQ_INT(a.role_conflicts, 1, "counted");

	/* responses and indications: nothing to do */
	reqlen = stun_binding_success(req, sizeof(req), tid, &src,
	    (const uint8_t *)a.lpwd, strlen(a.lpwd));
	T_EQ_INT(input(&a, &src, &c), E_NOTFOUND, "a response: E_NOTFOUND");
	T_EQ_INT(outlen, 0, "no answer");
	mkreq(user, a.lpwd, 1, 0);
	req[1] = 0x11;	/* an indication; FINGERPRINT now wrong */
	T_EQ_INT(input(&a, &src, &c), E_SYNTAX, "bad FINGERPRINT: E_SYNTAX");
	T_EQ_INT(a.requests, 14, "requests counted (%llu)",
	    (unsigned long long)a.requests);
	T_EQ_INT(a.answered, 4, "answered counted");

	/* every truncation of a right check: E_SYNTAX, nothing sent */
	{
		size_t k, bad = 0, full;

		mkreq(user, a.lpwd, 1, 1);
		full = reqlen;
		for (k = 0; k < full; k++) {
			reqlen = k;
			if (input(&a, &src, &c) != E_SYNTAX || outlen != 0)
				bad++;
		}
		T_EQ_INT(bad, 0, "every truncation of a check: E_SYNTAX, "
		    "no answer (%zu)", full);
		reqlen = full;
		T_EQ_INT(input(&a, &src, &c), 0, "and the whole one answered");
	}

	/* the caller's mistakes */
	mkreq(user, a.lpwd, 1, 0);
	T_EQ_INT(ice_lite_input(&a, slice_make(req, reqlen), &src, out,
	    STUN_MAX - 1, &outlen, &c), E_INVAL, "cap < STUN_MAX: E_INVAL");
	src.len = 0;
	T_EQ_INT(input(&a, &src, &c), E_INVAL, "no source: E_INVAL");
}

/* A request with an unknown comprehension-required attribute: 420. */
static void
test_unknown(void)
{
	struct ice_lite a;
	struct ice_check c;
	struct stun_msg m;
	struct net_addr src = addr("127.0.0.1:9");
	char user[600];
	uint8_t md[20];
	size_t n, l = 0;

	T_EQ_INT(ice_lite_init(&a), 0, "init");
	snprintf(user, sizeof(user), "%s:abcd", a.lufrag);
	/* our builder without a key, FINGERPRINT cut, CHANGE-REQUEST
	 * (0x0003) added, then MI and FINGERPRINT by hand */
	n = stun_binding_request(req, sizeof(req), tid, slice_cstr(user), 1,
	    1, 1, 0, NULL, 0) - 8;
	put16(req + n, 0x0003);
	put16(req + n + 2, 4);
	memset(req + n + 4, 0, 4);
	n += 8;
	put16(req + 2, n + 24 - 20);
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, a.lpwd,
	    strlen(a.lpwd), req, n, md, 20, &l) == NULL)
		memset(md, 0, 20);
	put16(req + n, 0x0008);
	put16(req + n + 2, 20);
	memcpy(req + n + 4, md, 20);
	n += 24;
	put16(req + 2, n + 8 - 20);
	put16(req + n, 0x8028);
	put16(req + n + 2, 4);
	put32(req + n + 4, ref_crc32(req, n) ^ 0x5354554eu);
	reqlen = n + 8;
	T_EQ_INT(input(&a, &src, &c), E_UNSUPPORTED, "unknown: E_UNSUPPORTED");
	T_OK(outlen > 0 && stun_parse(slice_make(out, outlen), &m) == 0 &&
	    m.error_code == 420 && m.integrity_at != 0, "a 420 with MI");
	T_OK(outlen >= 56 && out[48] == 0 && out[49] == 0x0a &&
	    out[52] == 0 && out[53] == 3, "UNKNOWN-ATTRIBUTES 0x0003");
	T_EQ_INT(a.unknown_attrs, 1, "counted");
	T_EQ_INT(a.answered, 0, "not answered");
	/* with a wrong MI the same request is dropped, not answered 420 */
	req[n - 1] ^= 1;
	put32(req + n + 4, ref_crc32(req, n) ^ 0x5354554eu);
	T_EQ_INT(input(&a, &src, &c), E_AUTH, "and with a bad MI: E_AUTH");
	T_EQ_INT(outlen, 0, "dropped");
}

static void
test_remote_unknown_and_restart(void)
{
	struct ice_lite a;
	struct ice_check c;
	struct net_addr src = addr("127.0.0.1:9");
	char user[600], old_l[ICE_UFRAG_MAX + 1], big[300];

	T_EQ_INT(ice_lite_init(&a), 0, "init");
	/* before the peer's SDP reached us: any "theirs" passes */
	snprintf(user, sizeof(user), "%s:whoever", a.lufrag);
	mkreq(user, a.lpwd, 1, 1);
	T_EQ_INT(input(&a, &src, &c), 0, "remote unknown: answered");
	memset(big, 'x', 256);
	big[256] = '\0';
	snprintf(user, sizeof(user), "%s:%s", a.lufrag, big);
	mkreq(user, a.lpwd, 1, 1);
	T_EQ_INT(input(&a, &src, &c), 0, "a 256-byte ufrag of theirs");
	snprintf(user, sizeof(user), "%s:%sx", a.lufrag, big);
	mkreq(user, a.lpwd, 1, 1);
	T_EQ_INT(input(&a, &src, &c), E_AUTH, "257 bytes: refused");
	snprintf(user, sizeof(user), "%s:whoever", a.lufrag);
	mkreq(user, "not-our-password-at-all", 1, 1);
	T_EQ_INT(input(&a, &src, &c), E_AUTH, "but the password decides");

	/* the SDP arrives: now compared */
	T_EQ_INT(ice_lite_set_remote(&a, SLICE_LIT("R1r1"),
	    SLICE_LIT("RemotePassword1RemotePassword1")), 0, "remote R1r1");
	mkreq(user, a.lpwd, 1, 1);
	T_EQ_INT(input(&a, &src, &c), E_AUTH, "'whoever' is refused now");
	snprintf(user, sizeof(user), "%s:R1r1", a.lufrag);
	mkreq(user, a.lpwd, 1, 1);
	T_EQ_INT(input(&a, &src, &c), 0, "R1r1 answered");

	/* the peer restarts: new ufrag in a re-offer */
	T_EQ_INT(ice_lite_set_remote(&a, SLICE_LIT("R2r2"),
	    SLICE_LIT("RemotePassword2RemotePassword2")), 1, "re-offer: 1");
	memcpy(old_l, a.lufrag, sizeof(old_l));
	T_EQ_INT(ice_lite_restart(&a), 0, "we answer with new credentials");
	T_OK(strcmp(old_l, a.lufrag) != 0 && a.gen == 1, "new ufrag, gen 1");
	mkreq(user, a.lpwd, 1, 1);
	T_EQ_INT(input(&a, &src, &c), E_AUTH, "the old username: refused");
	snprintf(user, sizeof(user), "%s:R1r1", a.lufrag);
	mkreq(user, a.lpwd, 1, 1);
	T_EQ_INT(input(&a, &src, &c), E_AUTH, "new ours, old theirs: refused");
	snprintf(user, sizeof(user), "%s:R2r2", a.lufrag);
	mkreq(user, a.lpwd, 1, 1);
	T_EQ_INT(input(&a, &src, &c), 0, "new ours, new theirs: answered");

	/* we restart: until the answer comes, theirs is not compared */
	T_EQ_INT(ice_lite_restart(&a), 0, "our restart");
	snprintf(user, sizeof(user), "%s:R3r3", a.lufrag);
	mkreq(user, a.lpwd, 1, 1);
	T_EQ_INT(input(&a, &src, &c), 0, "a check before the answer passes");
	T_EQ_INT(ice_lite_set_remote(&a, SLICE_LIT("R3r3"),
	    SLICE_LIT("RemotePassword3RemotePassword3")), 1, "the answer");
	snprintf(user, sizeof(user), "%s:R2r2", a.lufrag);
	mkreq(user, a.lpwd, 1, 1);
	T_EQ_INT(input(&a, &src, &c), E_AUTH, "then theirs is compared");
}

int
main(void)
{
	test_creds();
	test_answer();
	test_unknown();
	test_remote_unknown_and_restart();
	return t_done();
}
