/* test_digest.c - SIP digest auth: RFC vectors, round trips, abuse. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/buf.h"
#include "sip/digest.h"
#include "t.h"

static const uint8_t secret[32] = "0123456789abcdef0123456789abcdef";

/* H(s) in hex with EVP directly: the client's side, not digest.c's. */
static void
evp_hex(const char *md, const char *s, char *hex)
{
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(s, strlen(s), d, &n, EVP_get_digestbyname(md),
	    NULL) != 1)
		n = 0;
	for (unsigned int i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	hex[2 * n] = '\0';
}

/* A client's Authorization value for `nonce`, computed independently. */
static void
client_auth(char *out, size_t n, const char *alg, const char *user,
    const char *realm, const char *pw, const char *method, const char *uri,
    const char *nonce, unsigned nc, const char *cnonce)
{
	const char *md = strcmp(alg, "MD5") == 0 ? "MD5" : "SHA256";
	char tmp[1024], ha1[129], ha2[129], resp[129], ncs[9];

	snprintf(ncs, sizeof(ncs), "%08x", nc);
	snprintf(tmp, sizeof(tmp), "%s:%s:%s", user, realm, pw);
	evp_hex(md, tmp, ha1);
	snprintf(tmp, sizeof(tmp), "%s:%s", method, uri);
	evp_hex(md, tmp, ha2);
	snprintf(tmp, sizeof(tmp), "%s:%s:%s:%s:auth:%s", ha1, nonce, ncs,
	    cnonce, ha2);
	evp_hex(md, tmp, resp);
	snprintf(out, n, "Digest username=\"%s\", realm=\"%s\", "
	    "nonce=\"%s\", uri=\"%s\", response=\"%s\", algorithm=%s, "
	    "cnonce=\"%s\", qop=auth, nc=%s", user, realm, nonce, uri, resp,
	    alg, cnonce, ncs);
}

static const char *const rfc7616_sha256 =
    "Digest username=\"Mufasa\",\r\n"
    "       realm=\"http-auth@example.org\",\r\n"
    "       uri=\"/dir/index.html\",\r\n"
    "       algorithm=SHA-256,\r\n"
    "       nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n"
    "       nc=00000001,\r\n"
    "       cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\",\r\n"
    "       qop=auth,\r\n"
    "       response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8"
    "db5856cb6c1\",\r\n"
    "       opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";

static const char *const rfc7616_md5 =
    "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", "
    "uri=\"/dir/index.html\", algorithm=MD5, "
    "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", nc=00000001, "
    "cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, "
    "response=\"8ca523f5e9506fed4657c9700eebdbec\", "
    "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";

/* RFC 2617 §3.5: no algorithm (so MD5), qop and nc as tokens. */
static const char *const rfc2617 =
    "Digest username=\"Mufasa\",\r\n"
    "                 realm=\"testrealm@host.com\",\r\n"
    "                 nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
    "                 uri=\"/dir/index.html\",\r\n"
    "                 qop=auth,\r\n"
    "                 nc=00000001,\r\n"
    "                 cnonce=\"0a4f113b\",\r\n"
    "                 response=\"6629fae49393a05397450978507c4ef1\",\r\n"
    "                 opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";

static void
rfc_vector(const char *name, const char *hdr, enum digest_alg alg,
    const char *realm, const char *pw, const char *ha1_want,
    const char *resp_want)
{
	static struct digest_params p;
	char why[128], ha1[65], resp[65];

	T_EQ_INT(digest_parse(slice_cstr(hdr), &p, why, sizeof(why)), 0,
	    "%s: parses (%s)", name, why);
	T_EQ_INT(p.alg, alg, "%s: algorithm", name);
	T_OK(slice_eq_cstr(p.username, "Mufasa") &&
	    slice_eq_cstr(p.realm, realm) &&
	    slice_eq_cstr(p.uri, "/dir/index.html") &&
	    slice_eq_cstr(p.qop, "auth") && p.nc == 1,
	    "%s: username, realm, uri, qop, nc", name);
	T_EQ_INT(digest_ha1_hex(alg, SLICE_LIT("Mufasa"), slice_cstr(realm),
	    slice_cstr(pw), ha1, sizeof(ha1)), 0, "%s: HA1", name);
	T_EQ_STR(ha1, ha1_want, "%s: HA1 value", name);
	T_EQ_INT(digest_response_hex(slice_cstr(ha1), SLICE_LIT("GET"), &p,
	    resp, sizeof(resp)), 0, "%s: response", name);
	T_EQ_STR(resp, resp_want, "%s: response is the RFC's", name);
	T_OK(slice_eq_cstr(p.response, resp_want),
	    "%s: and the one in the header", name);
}

static void
test_rfc(void)
{
	rfc_vector("rfc7616 sha-256", rfc7616_sha256, DIGEST_SHA256,
	    "http-auth@example.org", "Circle of Life",
	    "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232",
	    "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
	rfc_vector("rfc7616 md5", rfc7616_md5, DIGEST_MD5,
	    "http-auth@example.org", "Circle of Life",
	    "3d78807defe7de2157e2b0b6573a855f",
	    "8ca523f5e9506fed4657c9700eebdbec");
	rfc_vector("rfc2617", rfc2617, DIGEST_MD5, "testrealm@host.com",
	    "Circle Of Life", "939e7578ed9e3c518a452acee763bce9",
	    "6629fae49393a05397450978507c4ef1");
}

/* The nonce of the first challenge line in `hdrs` into `nonce`. */
static int
nonce_of(const char *hdrs, char *nonce, size_t n)
{
	const char *a = strstr(hdrs, "nonce=\""), *b;

	if (a == NULL || (b = strchr(a + 7, '"')) == NULL ||
	    (size_t)(b - a - 7) >= n)
		return -1;
	memcpy(nonce, a + 7, (size_t)(b - a - 7));
	nonce[b - a - 7] = '\0';
	return 0;
}

struct fixture {
	struct digest *d;
	struct digest_creds *c;
	char nonce[DIGEST_NONCE_LEN + 1];
};

#define REALM "sbc.example.net"
#define RURI "sip:sbc.example.net"
#define T0 1000000000ull	/* ms */

static enum digest_result
check(struct fixture *f, const char *hdr, uint64_t now_ms, char *why,
    size_t n)
{
	static struct digest_params p;
	struct slice user = SLICE_NULL;
	enum digest_result r;

	r = digest_check(f->d, f->c, slice_cstr(hdr), SLICE_LIT("REGISTER"),
	    SLICE_LIT(RURI), now_ms, &p, &user, why, n);
	if (r == DIGEST_OK && !slice_eq_cstr(user, "alice"))
		return (enum digest_result)99;
	return r;
}

static int
fixture_init(struct fixture *f, size_t slots)
{
	struct digest_cfg cfg = { SLICE_LIT(REALM), secret, sizeof(secret),
	    300, slots, 0 };
	char ha1[129], ha1s[129], text[512], why[128];
	int e;

	memset(f, 0, sizeof(*f));
	evp_hex("MD5", "alice:" REALM ":wonderland", ha1);
	evp_hex("SHA256", "alice:" REALM ":wonderland", ha1s);
	snprintf(text, sizeof(text), "# users\nalice:%s:%s\n"
	    "alice:%s:%s\r\nbob:elsewhere:%s\n", REALM, ha1, REALM, ha1s,
	    ha1);
	f->d = digest_new(&cfg, &e);
	if (f->d == NULL || digest_creds_parse(slice_cstr(text), &f->c, why,
	    sizeof(why)) != 0)
		return -1;
	return 0;
}

static void
fixture_fini(struct fixture *f)
{
	digest_free(f->d);
	digest_creds_free(f->c);
}

static void
test_challenge(void)
{
	struct fixture f;
	struct buf *b = buf_new(2048);
	const char *s, *l2;
	char n2[DIGEST_NONCE_LEN + 1];

	T_OK(fixture_init(&f, 0) == 0 && b != NULL, "fixture");
	T_EQ_INT(digest_challenge(f.d, T0, 0, "WWW-Authenticate", b), 0,
	    "challenge");
	s = buf_str(b);
	T_OK(strncmp(s, "WWW-Authenticate: Digest realm=\"" REALM "\", "
	    "qop=\"auth\", algorithm=SHA-256, nonce=\"", 77) == 0,
	    "first line offers SHA-256: %.*s", 77, s);
	l2 = strstr(s, "\r\n");
	T_OK(l2 != NULL && strncmp(l2 + 2, "WWW-Authenticate: Digest realm=\""
	    REALM "\", qop=\"auth\", algorithm=MD5, nonce=\"", 73) == 0,
	    "second line offers MD5");
	T_OK(nonce_of(s, f.nonce, sizeof(f.nonce)) == 0 &&
	    strlen(f.nonce) == DIGEST_NONCE_LEN, "nonce of %d characters",
	    DIGEST_NONCE_LEN);
	T_OK(l2 != NULL && nonce_of(l2, n2, sizeof(n2)) == 0 &&
	    strcmp(n2, f.nonce) == 0, "both lines carry the same nonce");
	T_OK(strstr(s, "stale") == NULL, "not stale");
	T_EQ_INT(strlen(s) - (size_t)(strstr(l2 + 2, "\r\n") + 2 - s), 0,
	    "two lines exactly");
	buf_reset(b);
	T_EQ_INT(digest_challenge(f.d, T0, 1, "Proxy-Authenticate", b), 0,
	    "stale challenge");
	T_OK(strncmp(buf_str(b), "Proxy-Authenticate: ", 20) == 0 &&
	    strstr(buf_str(b), ", stale=true\r\n") != NULL,
	    "Proxy-Authenticate with stale=true");
	T_OK(nonce_of(buf_str(b), n2, sizeof(n2)) == 0 &&
	    strcmp(n2, f.nonce) != 0, "a new nonce each time");
	buf_free(b);
	fixture_fini(&f);
}

static void
test_roundtrip(void)
{
	struct fixture f;
	char hdr[1024], why[128];

	T_OK(fixture_init(&f, 0) == 0, "fixture");
	T_EQ_INT(digest_nonce(f.d, T0, f.nonce, sizeof(f.nonce)), 0, "nonce");
	for (int i = 0; i < 2; i++) {
		const char *alg = i == 0 ? "SHA-256" : "MD5";

		client_auth(hdr, sizeof(hdr), alg, "alice", REALM,
		    "wonderland", "REGISTER", RURI, f.nonce, 1 + i, "c1");
		T_EQ_INT(check(&f, hdr, T0 + 1000, why, sizeof(why)),
		    DIGEST_OK, "%s round trip (%s)", alg, why);
	}
	/* The same nc again, and lower ones: replays. */
	client_auth(hdr, sizeof(hdr), "MD5", "alice", REALM, "wonderland",
	    "REGISTER", RURI, f.nonce, 2, "c1");
	T_EQ_INT(check(&f, hdr, T0 + 2000, why, sizeof(why)), DIGEST_REPLAY,
	    "same nc refused (%s)", why);
	client_auth(hdr, sizeof(hdr), "SHA-256", "alice", REALM, "wonderland",
	    "REGISTER", RURI, f.nonce, 1, "c2");
	T_EQ_INT(check(&f, hdr, T0 + 2000, why, sizeof(why)), DIGEST_REPLAY,
	    "lower nc refused");
	client_auth(hdr, sizeof(hdr), "SHA-256", "alice", REALM, "wonderland",
	    "REGISTER", RURI, f.nonce, 3, "c2");
	T_EQ_INT(check(&f, hdr, T0 + 3000, why, sizeof(why)), DIGEST_OK,
	    "next nc accepted (%s)", why);

	client_auth(hdr, sizeof(hdr), "SHA-256", "alice", REALM, "rabbit",
	    "REGISTER", RURI, f.nonce, 4, "c3");
	T_EQ_INT(check(&f, hdr, T0 + 3000, why, sizeof(why)),
	    DIGEST_BAD_RESPONSE, "wrong password (%s)", why);
	client_auth(hdr, sizeof(hdr), "SHA-256", "alice", REALM, "wonderland",
	    "INVITE", RURI, f.nonce, 4, "c3");
	T_EQ_INT(check(&f, hdr, T0 + 3000, why, sizeof(why)),
	    DIGEST_BAD_RESPONSE, "response for another method");
	client_auth(hdr, sizeof(hdr), "SHA-256", "alice", "elsewhere",
	    "wonderland", "REGISTER", RURI, f.nonce, 4, "c3");
	T_EQ_INT(check(&f, hdr, T0 + 3000, why, sizeof(why)),
	    DIGEST_UNKNOWN_USER, "wrong realm (%s)", why);
	client_auth(hdr, sizeof(hdr), "SHA-256", "carol", REALM, "wonderland",
	    "REGISTER", RURI, f.nonce, 4, "c3");
	T_EQ_INT(check(&f, hdr, T0 + 3000, why, sizeof(why)),
	    DIGEST_UNKNOWN_USER, "unknown user (%s)", why);
	client_auth(hdr, sizeof(hdr), "SHA-256", "alice", REALM, "wonderland",
	    "REGISTER", "sip:other.example.net", f.nonce, 4, "c3");
	T_EQ_INT(check(&f, hdr, T0 + 3000, why, sizeof(why)),
	    DIGEST_MALFORMED, "uri other than the Request-URI (%s)", why);

	/* Tampered: one character of the nonce changed, response redone. */
	f.nonce[10] = f.nonce[10] == 'A' ? 'B' : 'A';
	client_auth(hdr, sizeof(hdr), "SHA-256", "alice", REALM, "wonderland",
	    "REGISTER", RURI, f.nonce, 5, "c3");
	T_EQ_INT(check(&f, hdr, T0 + 3000, why, sizeof(why)),
	    DIGEST_BAD_NONCE, "tampered nonce (%s)", why);
	client_auth(hdr, sizeof(hdr), "SHA-256", "alice", REALM, "wonderland",
	    "REGISTER", RURI, "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", 1,
	    "c3");
	T_EQ_INT(check(&f, hdr, T0 + 3000, why, sizeof(why)),
	    DIGEST_BAD_NONCE, "foreign nonce");
	fixture_fini(&f);

	/* A nonce of another process (another secret) is not ours. */
	{
		static const uint8_t other[32] = "another secret, another one";
		struct digest_cfg cfg = { SLICE_LIT(REALM), other,
		    sizeof(other), 300, 0, 0 };
		struct digest *d2;
		int e;

		T_OK(fixture_init(&f, 0) == 0, "fixture");
		d2 = digest_new(&cfg, &e);
		T_OK(d2 != NULL && digest_nonce(d2, T0, f.nonce,
		    sizeof(f.nonce)) == 0, "other verifier's nonce");
		client_auth(hdr, sizeof(hdr), "MD5", "alice", REALM,
		    "wonderland", "REGISTER", RURI, f.nonce, 1, "c");
		T_EQ_INT(check(&f, hdr, T0, why, sizeof(why)),
		    DIGEST_BAD_NONCE, "another secret's nonce");
		digest_free(d2);
		fixture_fini(&f);
	}
}

static void
test_stale(void)
{
	struct fixture f;
	char hdr[1024], why[128], old[DIGEST_NONCE_LEN + 1];

	T_OK(fixture_init(&f, 0) == 0, "fixture");
	T_EQ_INT(digest_nonce(f.d, T0, f.nonce, sizeof(f.nonce)), 0, "nonce");
	client_auth(hdr, sizeof(hdr), "SHA-256", "alice", REALM, "wonderland",
	    "REGISTER", RURI, f.nonce, 1, "c");
	T_EQ_INT(check(&f, hdr, T0 + 300 * 1000, why, sizeof(why)), DIGEST_OK,
	    "still fresh at its lifetime (%s)", why);
	client_auth(hdr, sizeof(hdr), "SHA-256", "alice", REALM, "wonderland",
	    "REGISTER", RURI, f.nonce, 2, "c");
	T_EQ_INT(check(&f, hdr, T0 + 301 * 1000, why, sizeof(why)),
	    DIGEST_STALE, "expired nonce is stale (%s)", why);
	client_auth(hdr, sizeof(hdr), "SHA-256", "alice", REALM, "rabbit",
	    "REGISTER", RURI, f.nonce, 3, "c");
	T_EQ_INT(check(&f, hdr, T0 + 301 * 1000, why, sizeof(why)),
	    DIGEST_BAD_RESPONSE, "expired nonce, wrong password: not stale");
	fixture_fini(&f);

	/* Eviction fails safe: 4 slots, a nonce 4 serials later evicts. */
	T_OK(fixture_init(&f, 4) == 0, "fixture with 4 slots");
	T_EQ_INT(digest_nonce(f.d, T0, old, sizeof(old)), 0, "nonce A");
	client_auth(hdr, sizeof(hdr), "MD5", "alice", REALM, "wonderland",
	    "REGISTER", RURI, old, 1, "c");
	T_EQ_INT(check(&f, hdr, T0, why, sizeof(why)), DIGEST_OK, "A used");
	for (int i = 0; i < 4; i++)
		T_EQ_INT(digest_nonce(f.d, T0, f.nonce, sizeof(f.nonce)), 0,
		    "nonce %d", i + 2);
	client_auth(hdr, sizeof(hdr), "MD5", "alice", REALM, "wonderland",
	    "REGISTER", RURI, f.nonce, 1, "c");
	T_EQ_INT(check(&f, hdr, T0, why, sizeof(why)), DIGEST_OK,
	    "A+4 used, evicting A");
	client_auth(hdr, sizeof(hdr), "MD5", "alice", REALM, "wonderland",
	    "REGISTER", RURI, old, 2, "c");
	T_EQ_INT(check(&f, hdr, T0, why, sizeof(why)), DIGEST_STALE,
	    "evicted A is stale, not fresh (%s)", why);
	client_auth(hdr, sizeof(hdr), "MD5", "alice", REALM, "wonderland",
	    "REGISTER", RURI, old, 1, "c");
	T_EQ_INT(check(&f, hdr, T0, why, sizeof(why)), DIGEST_STALE,
	    "evicted A's old nc is not replayable");
	fixture_fini(&f);
}

static void
test_no_md5(void)
{
	struct digest_cfg cfg = { SLICE_LIT(REALM), secret, sizeof(secret), 0,
	    0, 1 };
	struct fixture f;
	struct buf *b = buf_new(2048);
	char hdr[1024], why[128];
	int e;

	T_OK(fixture_init(&f, 0) == 0, "fixture");
	digest_free(f.d);
	f.d = digest_new(&cfg, &e);
	T_OK(f.d != NULL && b != NULL, "verifier without MD5");
	T_EQ_INT(digest_challenge(f.d, T0, 0, "WWW-Authenticate", b), 0,
	    "challenge");
	T_OK(strstr(buf_str(b), "MD5") == NULL &&
	    strstr(buf_str(b), "\r\n") + 2 == buf_str(b) + buf_len(b),
	    "one line, SHA-256 only");
	T_OK(nonce_of(buf_str(b), f.nonce, sizeof(f.nonce)) == 0, "nonce");
	client_auth(hdr, sizeof(hdr), "MD5", "alice", REALM, "wonderland",
	    "REGISTER", RURI, f.nonce, 1, "c");
	T_EQ_INT(check(&f, hdr, T0, why, sizeof(why)), DIGEST_UNSUPPORTED,
	    "MD5 refused (%s)", why);
	buf_free(b);
	fixture_fini(&f);
}

static void
test_new(void)
{
	struct digest_cfg cfg = { SLICE_LIT(REALM), secret, 8, 0, 0, 0 };
	int e = 0;

	T_OK(digest_new(&cfg, &e) == NULL && e == E_INVAL, "short secret");
	cfg.secret_len = sizeof(secret);
	cfg.realm = SLICE_LIT("a\"b");
	T_OK(digest_new(&cfg, &e) == NULL && e == E_INVAL, "quote in realm");
	cfg.realm = SLICE_NULL;
	T_OK(digest_new(&cfg, &e) == NULL && e == E_INVAL, "empty realm");
	digest_free(NULL);
	digest_creds_free(NULL);
	T_OK(1, "free(NULL)");
}

struct bad {
	const char *name;
	const char *hdr;
	size_t len;		/* 0: strlen */
	int want;
};

#define OKRESP "\"0123456789abcdef0123456789abcdef\""
#define TAIL "realm=\"r\", nonce=\"n\", uri=\"sip:x\", qop=auth, " \
	"nc=00000001, cnonce=\"c\", response=" OKRESP

static void
test_parse(void)
{
	static const struct bad bad[] = {
		{ "good", "Digest username=\"u\", " TAIL, 0, 0 },
		{ "names in any case, LWS", "dIgEsT  USERNAME = \"u\" ,\r\n "
		    "Realm=\"r\",NONCE=\"n\" , uri=\"sip:x\", QOP=\"auth\", "
		    "nc=00000001, cnonce=\"c\", response=" OKRESP, 0, 0 },
		{ "unknown params ignored", "Digest foo=bar, username=\"u\", "
		    "x=\"a\\\"b\", " TAIL, 0, 0 },
		{ "unterminated quote", "Digest username=\"u, " TAIL, 0,
		    E_SYNTAX },
		{ "unterminated quote at the end", "Digest username=\"u\", "
		    "realm=\"r", 0, E_SYNTAX },
		{ "unterminated escape", "Digest username=\"u\\", 0,
		    E_SYNTAX },
		{ "duplicate param", "Digest username=\"u\", username=\"v\", "
		    TAIL, 0, E_SYNTAX },
		{ "duplicate in other case", "Digest username=\"u\", " TAIL
		    ", Realm=\"r\"", 0, E_SYNTAX },
		{ "missing response", "Digest username=\"u\", realm=\"r\", "
		    "nonce=\"n\", uri=\"sip:x\", qop=auth, nc=00000001, "
		    "cnonce=\"c\"", 0, E_SYNTAX },
		{ "missing username", "Digest " TAIL, 0, E_SYNTAX },
		{ "missing cnonce", "Digest username=\"u\", realm=\"r\", "
		    "nonce=\"n\", uri=\"sip:x\", qop=auth, nc=00000001, "
		    "response=" OKRESP, 0, E_SYNTAX },
		{ "NUL in a quoted value", "Digest username=\"u\0v\", " TAIL,
		    sizeof("Digest username=\"u\0v\", " TAIL) - 1, E_SYNTAX },
		{ "NUL after a token", "Digest username=u\0, " TAIL,
		    sizeof("Digest username=u\0, " TAIL) - 1, E_SYNTAX },
		{ "NUL before the scheme", "\0Digest username=\"u\", " TAIL,
		    sizeof("\0Digest username=\"u\", " TAIL) - 1, E_SYNTAX },
		{ "empty", "", 0, E_SYNTAX },
		{ "scheme only", "Digest", 0, E_SYNTAX },
		{ "scheme and blanks", "Digest   ", 0, E_SYNTAX },
		{ "trailing comma", "Digest username=\"u\", " TAIL ",", 0,
		    E_SYNTAX },
		{ "no '='", "Digest username \"u\", " TAIL, 0, E_SYNTAX },
		{ "empty token value", "Digest username=, " TAIL, 0,
		    E_SYNTAX },
		{ "no comma", "Digest username=\"u\" " TAIL, 0, E_SYNTAX },
		{ "nc too short", "Digest username=\"u\", realm=\"r\", "
		    "nonce=\"n\", uri=\"sip:x\", qop=auth, nc=1, cnonce=\"c\", "
		    "response=" OKRESP, 0, E_SYNTAX },
		{ "nc zero", "Digest username=\"u\", realm=\"r\", "
		    "nonce=\"n\", uri=\"sip:x\", qop=auth, nc=00000000, "
		    "cnonce=\"c\", response=" OKRESP, 0, E_SYNTAX },
		{ "response too short for SHA-256", "Digest username=\"u\", "
		    TAIL ", algorithm=SHA-256", 0, E_SYNTAX },
		{ "response not hex", "Digest username=\"u\", realm=\"r\", "
		    "nonce=\"n\", uri=\"sip:x\", qop=auth, nc=00000001, "
		    "cnonce=\"c\", response="
		    "\"0123456789abcdef0123456789abcdeg\"", 0, E_SYNTAX },
		{ "Basic", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", 0,
		    E_UNSUPPORTED },
		{ "auth-int", "Digest username=\"u\", realm=\"r\", "
		    "nonce=\"n\", uri=\"sip:x\", qop=auth-int, nc=00000001, "
		    "cnonce=\"c\", response=" OKRESP, 0, E_UNSUPPORTED },
		{ "MD5-sess", "Digest username=\"u\", algorithm=MD5-sess, "
		    TAIL, 0, E_UNSUPPORTED },
		{ "SHA-512-256", "Digest username=\"u\", "
		    "algorithm=SHA-512-256, " TAIL, 0, E_UNSUPPORTED },
		{ "userhash", "Digest username=\"u\", userhash=true, " TAIL, 0,
		    E_UNSUPPORTED },
		{ "no qop (RFC 2069)", "Digest username=\"u\", realm=\"r\", "
		    "nonce=\"n\", uri=\"sip:x\", response=" OKRESP, 0,
		    E_UNSUPPORTED },
	};
	static struct digest_params p;
	char why[128], big[DIGEST_MAX_HDR + 64];
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].hdr);

		T_EQ_INT(digest_parse(slice_make(bad[i].hdr, len), &p, why,
		    sizeof(why)), bad[i].want, "parse: %s (%s)", bad[i].name,
		    why);
	}
	T_EQ_INT(digest_parse(slice_cstr("Digest username=\"a\\\"l\\\\i\", "
	    TAIL), &p, why, sizeof(why)), 0, "escapes");
	T_OK(slice_eq_cstr(p.username, "a\"l\\i"), "escapes removed: %.*s",
	    (int)p.username.len, (const char *)p.username.p);

	/* Overlong: one value over DIGEST_MAX_VALUE, the whole over the cap. */
	n = (size_t)snprintf(big, sizeof(big), "Digest username=\"");
	memset(big + n, 'a', DIGEST_MAX_VALUE + 1);
	n += DIGEST_MAX_VALUE + 1;
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\", %s", TAIL);
	T_EQ_INT(digest_parse(slice_make(big, n), &p, why, sizeof(why)),
	    E_BIG, "overlong quoted value (%s)", why);
	memset(big + 16, 'a', DIGEST_MAX_VALUE + 1);
	T_EQ_INT(digest_parse(slice_make(big, n), &p, why, sizeof(why)),
	    E_BIG, "overlong token value (%s)", why);
	memset(big, ' ', sizeof(big));
	memcpy(big, "Digest", 6);
	T_EQ_INT(digest_parse(slice_make(big, sizeof(big)), &p, why,
	    sizeof(why)), E_BIG, "overlong header");
	n = (size_t)snprintf(big, sizeof(big), "Digest username=\"u\", %s",
	    TAIL);
	for (int i = 0; i < DIGEST_MAX_PARAMS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, ", x%d=y", i);
	T_EQ_INT(digest_parse(slice_make(big, n), &p, why, sizeof(why)),
	    E_BIG, "too many parameters (%s)", why);
}

static void
test_check_malformed(void)
{
	struct fixture f;
	char why[128];

	T_OK(fixture_init(&f, 0) == 0, "fixture");
	T_EQ_INT(check(&f, "Digest username=\"alice", T0, why, sizeof(why)),
	    DIGEST_MALFORMED, "unterminated quote: malformed (%s)", why);
	T_EQ_INT(check(&f, "Basic YWxpY2U6eA==", T0, why, sizeof(why)),
	    DIGEST_UNSUPPORTED, "Basic: unsupported (%s)", why);
	fixture_fini(&f);
}

struct cbad {
	const char *name;
	const char *text;
	int want;
	const char *why;	/* a prefix of the reason */
};

#define H32 "0123456789abcdef0123456789abcdef"
#define H64 H32 H32

static void
test_creds(void)
{
	static const struct cbad bad[] = {
		{ "one field", "alice\n", E_SYNTAX, "line 1:" },
		{ "two fields", "# c\n\nalice:" H32 "\n", E_SYNTAX, "line 3:" },
		{ "upper-case HA1", "a:r:" H32 "\nb:r:0123456789ABCDEF"
		    "0123456789abcdef\n", E_SYNTAX, "line 2: HA1 must be "
		    "lower-case" },
		{ "HA1 length", "a:r:" H32 "0\n", E_SYNTAX, "line 1: HA1 must "
		    "be 32" },
		{ "empty user", "\n:r:" H32 "\n", E_SYNTAX, "line 2: empty "
		    "user" },
		{ "empty realm", "a::" H32 "\n", E_SYNTAX, "line 1: empty "
		    "realm" },
		{ "control byte", "a\tb:r:" H32 "\n", E_SYNTAX, "line 1:" },
		{ "duplicate", "# x\na:r:" H32 "\nb:r:" H32 "\na:r:" H64
		    "\na:r:" H32 "\n", E_EXIST, "line 5: user \"a\" realm \"r\""
		    " MD5 again (first on line 2)" },
	};
	struct digest_creds *c;
	struct slice ha1;
	char why[160], longl[DIGEST_CREDS_LINE + 64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		T_EQ_INT(digest_creds_parse(slice_cstr(bad[i].text), &c, why,
		    sizeof(why)), bad[i].want, "creds: %s (%s)", bad[i].name,
		    why);
		T_OK(strncmp(why, bad[i].why, strlen(bad[i].why)) == 0 &&
		    c == NULL, "creds: %s names its line", bad[i].name);
	}
	memset(longl, 'a', sizeof(longl));
	memcpy(longl, "# ", 2);
	T_EQ_INT(digest_creds_parse(slice_make(longl, sizeof(longl)), &c, why,
	    sizeof(why)), E_BIG, "overlong line (%s)", why);

	T_EQ_INT(digest_creds_parse(slice_cstr("  # comment\r\n\r\n"
	    "a:r:" H32 "\r\n a:r:" H64 "\nb:sip:r:x:" H32), &c, why,
	    sizeof(why)), 0, "good file (%s)", why);
	T_EQ_INT(digest_creds_count(c), 3, "three entries");
	T_OK(digest_creds_lookup(c, SLICE_LIT("a"), SLICE_LIT("r"),
	    DIGEST_MD5, &ha1) == 0 && slice_eq_cstr(ha1, H32), "a, MD5");
	T_OK(digest_creds_lookup(c, SLICE_LIT("a"), SLICE_LIT("r"),
	    DIGEST_SHA256, &ha1) == 0 && slice_eq_cstr(ha1, H64),
	    "a, SHA-256");
	T_OK(digest_creds_lookup(c, SLICE_LIT("b"), SLICE_LIT("sip:r:x"),
	    DIGEST_MD5, &ha1) == 0, "a realm holding ':'");
	T_EQ_INT(digest_creds_lookup(c, SLICE_LIT("b"), SLICE_LIT("sip:r:x"),
	    DIGEST_SHA256, &ha1), E_NOTFOUND, "b has no SHA-256");
	T_EQ_INT(digest_creds_lookup(c, SLICE_LIT("A"), SLICE_LIT("r"),
	    DIGEST_MD5, &ha1), E_NOTFOUND, "users are case-sensitive");
	digest_creds_free(c);
	T_EQ_INT(digest_creds_parse(slice_cstr("ab:r:" H32 "\na:r:"
	    "00000000000000000000000000000000\n"), &c, why, sizeof(why)), 0,
	    "a user that prefixes another is not a duplicate (%s)", why);
	T_OK(digest_creds_lookup(c, SLICE_LIT("a"), SLICE_LIT("r"),
	    DIGEST_MD5, &ha1) == 0 && ha1.p[0] == '0' && ha1.p[1] == '0' &&
	    digest_creds_lookup(c, SLICE_LIT("ab"), SLICE_LIT("r"),
	    DIGEST_MD5, &ha1) == 0 && slice_eq_cstr(ha1, H32),
	    "and each finds its own HA1");
	digest_creds_free(c);
	T_EQ_INT(digest_creds_parse(SLICE_NULL, &c, why, sizeof(why)), 0,
	    "empty file");
	T_EQ_INT(digest_creds_count(c), 0, "no entries");
	digest_creds_free(c);
}

int
main(void)
{
	test_rfc();
	test_challenge();
	test_roundtrip();
	test_stale();
	test_no_md5();
	test_new();
	test_parse();
	test_check_malformed();
	test_creds();
	return t_done();
}
