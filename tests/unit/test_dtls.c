/* test_dtls.c - DTLS-SRTP: two associations in one process, datagrams in
 * queues; keys, suites, fingerprints, lost flights, junk, SRTP. */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/rnd.h"
#include "media/dtls.h"
#include "media/rtpsec.h"
#include "media/suite.h"
#include "t.h"

#define QMAX 64
#define PMAX 2048

/* One side: its association and the datagrams it sent, not yet taken. */
struct side {
	struct dtls *d;
	const char *name;
	uint8_t q[QMAX][PMAX];
	size_t qlen[QMAX];
	size_t n;		/* queued */
	size_t sent;		/* ever */
	size_t biggest;
	char keylog[4][256];
	size_t nkeylog;
};

static struct dtls_cert *cert_a, *cert_b, *cert_c;

static void
send_cb(void *arg, const uint8_t *p, size_t len)
{
	struct side *s = arg;

	s->sent++;
	if (len > s->biggest)
		s->biggest = len;
	if (s->n >= QMAX || len > PMAX)
		return;
	memcpy(s->q[s->n], p, len);
	s->qlen[s->n++] = len;
}

static void
keylog_cb(void *arg, const char *line)
{
	struct side *s = arg;

	if (s->nkeylog < 4)
		snprintf(s->keylog[s->nkeylog++], sizeof(s->keylog[0]), "%s",
		    line);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static struct dtls_fp
fp_of(const struct dtls_cert *c)
{
	struct dtls_fp fp;
	char b[200];

	snprintf(b, sizeof(b), "sha-256 %s", dtls_cert_fingerprint(c));
	if (dtls_fp_parse(slice_cstr(b), &fp) != 0)
		memset(&fp, 0, sizeof(fp));
	return fp;
}

/* a: active with cert_a expecting `bfp`; b: passive with cert_b. */
static int
pair(struct side *a, struct side *b, unsigned sa, unsigned sb,
    const struct dtls_fp *afp, const struct dtls_fp *bfp, unsigned mtu)
{
	struct dtls_config ca = { 0 }, cb = { 0 };
	int err;

	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	a->name = "a";
	b->name = "b";
	ca.cert = cert_a;
	ca.role = DTLS_ACTIVE;
	ca.peer = *bfp;
	ca.suites = sa;
	ca.send = send_cb;
	ca.keylog = keylog_cb;
	ca.arg = a;
	ca.mtu = mtu;
	cb = ca;
	cb.cert = cert_b;
	cb.role = DTLS_PASSIVE;
	cb.peer = *afp;
	cb.suites = sb;
	cb.arg = b;
	cb.mtu = 0;
	a->d = dtls_new(&ca, &err);
	b->d = dtls_new(&cb, &err);
	return a->d != NULL && b->d != NULL;
}

static void
unpair(struct side *a, struct side *b)
{
	dtls_free(a->d);
	dtls_free(b->d);
	a->d = b->d = NULL;
}

/* Deliver what `from` queued to `to`; returns how many. */
static size_t
deliver(struct side *from, struct side *to)
{
	size_t i, n = from->n;
	static uint8_t tmp[QMAX][PMAX];
	size_t len[QMAX];

	/* copy first: `to` may answer into its own queue meanwhile */
	for (i = 0; i < n; i++) {
		memcpy(tmp[i], from->q[i], from->qlen[i]);
		len[i] = from->qlen[i];
	}
	from->n = 0;
	for (i = 0; i < n; i++)
		(void)dtls_input(to->d, tmp[i], len[i]);
	return n;
}

static void
drop(struct side *s)
{
	s->n = 0;
}

static void
pump(struct side *a, struct side *b)
{
	int i;

	for (i = 0; i < 20; i++)
		if (deliver(a, b) + deliver(b, a) == 0)
			break;
}

static int
keys_cross(const struct dtls_keys *ka, const struct dtls_keys *kb)
{
	size_t n = ka->key_len + ka->salt_len;

	return ka->suite == kb->suite && ka->key_len == kb->key_len &&
	    ka->salt_len == kb->salt_len && n > 0 &&
	    memcmp(ka->tx, kb->rx, n) == 0 && memcmp(ka->rx, kb->tx, n) == 0 &&
	    memcmp(ka->tx, ka->rx, n) != 0;
}

/* ---- tests ---- */

static void
test_cert(void)
{
	const char *f = dtls_cert_fingerprint(cert_a);
	size_t i, bad = 0;
	struct dtls_fp fp;

	T_EQ_INT(strlen(f), 95, "fingerprint is 32 bytes as XX:..");
	for (i = 0; f[i] != '\0'; i++)
		if (i % 3 == 2 ? f[i] != ':' : !((f[i] >= '0' && f[i] <= '9')
		    || (f[i] >= 'A' && f[i] <= 'F')))
			bad++;
	T_EQ_INT(bad, 0, "upper-case hex with colons");
	T_OK(strcmp(f, dtls_cert_fingerprint(cert_b)) != 0,
	    "two certificates, two fingerprints");
	fp = fp_of(cert_a);
	T_EQ_INT(fp.len, 32, "own fingerprint parses as sha-256");
}

static void
test_fp_parse(void)
{
	struct dtls_fp fp;
	char lower[200];
	size_t i;

	snprintf(lower, sizeof(lower), "  SHA-256\t%s ",
	    dtls_cert_fingerprint(cert_a));
	for (i = 10; lower[i] != '\0'; i++)
		if (lower[i] >= 'A' && lower[i] <= 'F')
			lower[i] = (char)(lower[i] - 'A' + 'a');
	T_EQ_INT(dtls_fp_parse(slice_cstr(lower), &fp), 0,
	    "case-insensitive, spaces around");
	T_OK(fp.len == 32 && memcmp(fp.v, fp_of(cert_a).v, 32) == 0,
	    "same bytes as upper-case");
	T_EQ_INT(dtls_fp_parse(slice_cstr("sha-1 00:11:22:33:44:55:66:77:88:"
	    "99:aa:bb:cc:dd:ee:ff:00:11:22:33"), &fp), 0, "sha-1");
	T_OK(fp.len == 20 && fp.v[0] == 0 && fp.v[19] == 0x33, "sha-1 bytes");
	T_EQ_INT(dtls_fp_parse(slice_cstr("md5 00:11:22:33:44:55:66:77:88:99:"
	    "aa:bb:cc:dd:ee:ff"), &fp), E_UNSUPPORTED, "md5 refused");
	T_EQ_INT(dtls_fp_parse(slice_cstr("sha-1 00:11:22"), &fp), E_SYNTAX,
	    "short value");
	T_EQ_INT(dtls_fp_parse(slice_cstr("sha-1 00:11:22:33:44:55:66:77:88:"
	    "99:aa:bb:cc:dd:ee:ff:00:11:22:3g"), &fp), E_SYNTAX, "bad hex");
	T_EQ_INT(dtls_fp_parse(slice_cstr("sha-1 00-11:22:33:44:55:66:77:88:"
	    "99:aa:bb:cc:dd:ee:ff:00:11:22:33"), &fp), E_SYNTAX, "bad separator");
	T_EQ_INT(dtls_fp_parse(slice_cstr("sha-256"), &fp), E_SYNTAX,
	    "no value");
	T_EQ_INT(dtls_fp_parse(slice_cstr(""), &fp), E_SYNTAX, "empty");
}

static void
test_record_check(void)
{
	uint8_t r[64] = { 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 3,
	    1, 2, 3 };

	T_EQ_INT(dtls_record_check(slice_make(r, 16)), 0, "one record");
	memcpy(r + 16, r, 16);
	r[16] = 21;
	r[18] = 0xff;
	T_EQ_INT(dtls_record_check(slice_make(r, 32)), 0,
	    "two records, DTLS 1.0 version");
	T_EQ_INT(dtls_record_check(slice_make(r, 31)), E_SYNTAX,
	    "second record cut");
	T_EQ_INT(dtls_record_check(slice_make(r, 20)), E_SYNTAX,
	    "trailing bytes");
	T_EQ_INT(dtls_record_check(slice_make(r, 12)), E_SYNTAX,
	    "short header");
	T_EQ_INT(dtls_record_check(slice_make(r, 0)), E_SYNTAX, "empty");
	r[0] = 26;
	T_EQ_INT(dtls_record_check(slice_make(r, 16)), E_SYNTAX,
	    "content type 26");
	r[0] = 23;
	r[2] = 0xfc;
	T_EQ_INT(dtls_record_check(slice_make(r, 16)), E_SYNTAX,
	    "version 0xfefc");
	r[2] = 0xfd;
	r[12] = 4;
	T_EQ_INT(dtls_record_check(slice_make(r, 16)), E_SYNTAX,
	    "length past the datagram");
}

static void
test_handshake(void)
{
	struct side *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct dtls_fp fa = fp_of(cert_a), fb = fp_of(cert_b);
	struct dtls_keys ka, kb;
	char pf[DTLS_FP_MAX];
	int64_t t;

	T_OK(pair(a, b, 0, 0, &fa, &fb, 0), "two associations");
	T_EQ_INT(dtls_srtp_keys(a->d, &ka), E_STATE, "no keys before");
	T_EQ_INT(dtls_timeout_ms(a->d, 1000), -1, "no timer before start");
	T_EQ_INT(dtls_start(b->d), 0, "passive start sends nothing");
	T_EQ_INT(b->sent, 0, "nothing sent by passive");
	T_EQ_INT(dtls_start(a->d), 0, "active start");
	T_EQ_INT(a->sent, 1, "a ClientHello");
	T_EQ_INT(dtls_start(a->d), E_STATE, "start twice");
	t = dtls_timeout_ms(a->d, 5000);
	T_OK(t > 5000 && t <= 5000 + DTLS_RTO_DEFAULT_MS,
	    "timer armed for 1 s (%lld)", (long long)t);
	pump(a, b);
	T_EQ_INT(dtls_state(a->d), DTLS_DONE, "active done");
	T_EQ_INT(dtls_state(b->d), DTLS_DONE, "passive done");
	T_EQ_INT(dtls_timeout_ms(a->d, 0), -1, "no timer after");
	T_EQ_INT(dtls_srtp_keys(a->d, &ka), 0, "keys of a");
	T_EQ_INT(dtls_srtp_keys(b->d, &kb), 0, "keys of b");
	T_EQ_INT(ka.suite, SUITE_AEAD_AES_256_GCM,
	    "AEAD_AES_256_GCM first by default");
	T_OK(ka.key_len == 32 && ka.salt_len == 12, "GCM-256 lengths");
	T_OK(keys_cross(&ka, &kb), "a.tx == b.rx, a.rx == b.tx");
	T_OK(a->biggest <= 1200 && b->biggest <= 1200,
	    "datagrams within the default MTU (%zu, %zu)", a->biggest,
	    b->biggest);
	T_EQ_INT(dtls_peer_fingerprint(a->d, pf, sizeof(pf)), 0,
	    "peer fingerprint of a");
	T_EQ_STR(pf, dtls_cert_fingerprint(cert_b), "a sees b's certificate");
	T_EQ_INT(dtls_peer_fingerprint(b->d, pf, sizeof(pf)), 0,
	    "peer fingerprint of b");
	T_EQ_STR(pf, dtls_cert_fingerprint(cert_a), "b sees a's certificate");
	T_OK(a->nkeylog == 1 && b->nkeylog == 1 &&
	    strncmp(a->keylog[0], "CLIENT_RANDOM ", 14) == 0 &&
	    strcmp(a->keylog[0], b->keylog[0]) == 0,
	    "one NSS key log line, the same on both sides");
	T_EQ_STR(dtls_why(a->d), "", "no failure reason");
	unpair(a, b);
	free(a);
	free(b);
}

struct suite_case {
	unsigned sa, sb;
	enum suite_id want;	/* SUITE_NONE: fails */
	const char *name;
};

#define S(x) (1u << SUITE_##x)

static void
test_suites(void)
{
	static const struct suite_case cases[] = {
		{ S(AES_CM_128_HMAC_SHA1_80) | S(AES_CM_128_HMAC_SHA1_32), 0,
		    SUITE_AES_CM_128_HMAC_SHA1_80, "client offers CM only" },
		{ 0, S(AES_CM_128_HMAC_SHA1_32) | S(AEAD_AES_128_GCM),
		    SUITE_AEAD_AES_128_GCM, "server takes its first" },
		{ S(AES_CM_128_HMAC_SHA1_32), 0,
		    SUITE_AES_CM_128_HMAC_SHA1_32, "_32 alone" },
		{ S(AEAD_AES_128_GCM), S(AEAD_AES_128_GCM) |
		    S(AES_256_CM_HMAC_SHA1_80), SUITE_AEAD_AES_128_GCM,
		    "a suite without a DTLS profile is ignored" },
		{ S(AES_CM_128_HMAC_SHA1_80), S(AES_CM_128_HMAC_SHA1_32),
		    SUITE_NONE, "nothing common" },
	};
	struct side *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct dtls_fp fa = fp_of(cert_a), fb = fp_of(cert_b);
	struct dtls_config c = { 0 };
	struct dtls_keys ka, kb;
	size_t i;
	int err = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct suite_case *sc = &cases[i];

		if (!T_OK(pair(a, b, sc->sa, sc->sb, &fa, &fb, 0), "%s: pair",
		    sc->name))
			continue;
		if (dtls_start(a->d) != 0)
			T_OK(0, "start");
		pump(a, b);
		if (sc->want == SUITE_NONE) {
			T_EQ_INT(dtls_state(a->d), DTLS_FAILED, "%s: a fails",
			    sc->name);
			T_EQ_STR(dtls_why(a->d), "no common SRTP profile",
			    "%s: why", sc->name);
			T_OK(dtls_state(b->d) == DTLS_FAILED,
			    "%s: b fails too", sc->name);
		} else {
			T_OK(dtls_srtp_keys(a->d, &ka) == 0 &&
			    dtls_srtp_keys(b->d, &kb) == 0 &&
			    keys_cross(&ka, &kb), "%s: keys", sc->name);
			T_EQ_INT(ka.suite, sc->want, "%s: suite", sc->name);
		}
		unpair(a, b);
	}
	c.cert = cert_a;
	c.role = DTLS_ACTIVE;
	c.send = send_cb;
	c.suites = S(AES_256_CM_HMAC_SHA1_80);
	T_OK(dtls_new(&c, &err) == NULL && err == E_UNSUPPORTED,
	    "no keyable suite: E_UNSUPPORTED");
	c.suites = 0;
	c.mtu = 100;
	T_OK(dtls_new(&c, &err) == NULL && err == E_INVAL, "MTU 100: E_INVAL");
	c.mtu = 0;
	c.send = NULL;
	T_OK(dtls_new(&c, &err) == NULL && err == E_INVAL, "no send: E_INVAL");
	free(a);
	free(b);
}

/* A handshake record of junk: a ClientHello's type, nothing else. */
static void
feed_junk(struct dtls *d)
{
	uint8_t p[100];

	memset(p, 0x5a, sizeof(p));
	p[0] = 22;
	p[1] = 0xfe;
	p[2] = 0xfd;
	p[3] = p[4] = 0;
	p[11] = 0;
	p[12] = sizeof(p) - 13;
	p[13] = 1;
	(void)dtls_input(d, p, sizeof(p));
}

static void
test_mismatch(void)
{
	struct side *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct dtls_fp fa = fp_of(cert_a), fb = fp_of(cert_b);
	struct dtls_fp fc = fp_of(cert_c);
	struct dtls_keys k;

	/* the active side expects another certificate than b's */
	T_OK(pair(a, b, 0, 0, &fa, &fc, 0), "pair");
	T_EQ_INT(dtls_start(a->d), 0, "start");
	pump(a, b);
	T_EQ_INT(dtls_state(a->d), DTLS_FAILED, "active: mismatch fails");
	T_EQ_STR(dtls_why(a->d), "fingerprint mismatch", "active: why");
	T_EQ_INT(dtls_state(b->d), DTLS_FAILED, "passive: alerted, fails");
	T_OK(strncmp(dtls_why(b->d), "alert from peer", 15) == 0,
	    "passive: why is the alert (%s)", dtls_why(b->d));
	T_EQ_INT(dtls_srtp_keys(a->d, &k), E_AUTH, "no keys: E_AUTH");
	unpair(a, b);

	/* the passive side expects another certificate than a's (and had
	 * junk before, whose reason must give way) */
	T_OK(pair(a, b, 0, 0, &fc, &fb, 0), "pair");
	feed_junk(b->d);
	T_OK(dtls_state(b->d) == DTLS_HANDSHAKE && dtls_why(b->d)[0] != '\0',
	    "junk first (%s)", dtls_why(b->d));
	drop(b);
	T_EQ_INT(dtls_start(a->d), 0, "start");
	pump(a, b);
	T_EQ_INT(dtls_state(b->d), DTLS_FAILED, "passive: mismatch fails");
	T_EQ_STR(dtls_why(b->d), "fingerprint mismatch", "passive: why");
	T_EQ_INT(dtls_state(a->d), DTLS_FAILED, "active: alerted, fails");
	T_EQ_INT(dtls_srtp_keys(b->d, &k), E_AUTH, "no keys: E_AUTH");
	unpair(a, b);

	/* DTLS before the answer: b does not know a's fingerprint yet */
	memset(&fc, 0, sizeof(fc));
	T_OK(pair(a, b, 0, 0, &fc, &fb, 0), "pair, no fingerprint yet");
	T_EQ_INT(dtls_start(a->d), 0, "start");
	pump(a, b);
	T_EQ_INT(dtls_state(a->d), DTLS_DONE, "active done");
	T_EQ_INT(dtls_state(b->d), DTLS_HANDSHAKE, "passive waits");
	T_EQ_INT(dtls_srtp_keys(b->d, &k), E_STATE, "no keys while waiting");
	dtls_set_peer(b->d, &fa);
	T_EQ_INT(dtls_state(b->d), DTLS_DONE, "answer came: done");
	T_EQ_INT(dtls_srtp_keys(b->d, &k), 0, "keys");
	unpair(a, b);

	fc = fp_of(cert_c);
	memset(&fa, 0, sizeof(fa));
	T_OK(pair(a, b, 0, 0, &fa, &fb, 0), "pair, no fingerprint yet");
	T_EQ_INT(dtls_start(a->d), 0, "start");
	pump(a, b);
	dtls_set_peer(b->d, &fc);
	T_EQ_INT(dtls_state(b->d), DTLS_FAILED, "late answer, wrong: fails");
	T_EQ_STR(dtls_why(b->d), "fingerprint mismatch", "why");
	T_EQ_INT(dtls_srtp_keys(b->d, &k), E_AUTH, "no keys: E_AUTH");
	unpair(a, b);
	free(a);
	free(b);
}

static void
test_lost_flights(void)
{
	struct side *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct dtls_fp fa = fp_of(cert_a), fb = fp_of(cert_b);
	struct dtls_keys ka, kb;
	int64_t t0, t;
	size_t sent;

	T_OK(pair(a, b, 0, 0, &fa, &fb, 0), "pair");
	dtls_set_rto(a->d, 50);
	dtls_set_rto(b->d, 50);
	t0 = now_ms();
	T_EQ_INT(dtls_start(a->d), 0, "start");
	t = dtls_timeout_ms(a->d, t0);
	/* (bounds that a loaded machine's delays cannot break) */
	T_OK(t >= t0 && t <= t0 + 51, "timer at 50 ms, not 1 s (%lld)",
	    (long long)(t - t0));
	drop(a);		/* the ClientHello is lost */
	T_EQ_INT(dtls_on_timeout(a->d), DTLS_HANDSHAKE, "early: nothing");
	if (now_ms() < t - 2) {
		T_EQ_INT(a->n, 0, "nothing resent before the timer");
		sleep_ms(60);
	} else {
		T_OK(1, "# skip: too slow to call before the timer");
		drop(a);
		sleep_ms(110);	/* the doubled timer */
	}
	T_EQ_INT(dtls_on_timeout(a->d), DTLS_HANDSHAKE, "timeout");
	T_EQ_INT(a->n, 1, "ClientHello resent");
	t0 = now_ms();
	t = dtls_timeout_ms(a->d, t0);
	T_OK(t > t0 + 50 && t <= t0 + 101, "timer doubled (%lld)",
	    (long long)(t - t0));
	deliver(a, b);
	T_OK(b->n > 0, "b answered");
	drop(b);		/* and b's flight is lost */
	sleep_ms(110);
	(void)dtls_on_timeout(b->d);
	sent = b->sent;
	T_OK(b->n > 0, "b resent its flight by its own timer");
	drop(b);		/* lost again */
	(void)dtls_on_timeout(a->d);
	T_EQ_INT(a->n, 1, "a resent the ClientHello");
	deliver(a, b);
	T_OK(b->sent > sent, "a retransmitted ClientHello is answered");
	pump(a, b);
	T_EQ_INT(dtls_state(a->d), DTLS_DONE, "active done");
	T_EQ_INT(dtls_state(b->d), DTLS_DONE, "passive done");
	T_OK(dtls_srtp_keys(a->d, &ka) == 0 && dtls_srtp_keys(b->d, &kb) == 0
	    && keys_cross(&ka, &kb), "keys agree");
	unpair(a, b);
	free(a);
	free(b);
}

/* The server's final flight lost: the client resends its own, and the
 * server (already done) answers it again. */
static void
test_lost_final(void)
{
	struct side *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct dtls_fp fa = fp_of(cert_a), fb = fp_of(cert_b);
	struct dtls_keys ka, kb;
	int i;

	T_OK(pair(a, b, 0, 0, &fa, &fb, 0), "pair");
	dtls_set_rto(a->d, 50);
	T_EQ_INT(dtls_start(a->d), 0, "start");
	deliver(a, b);		/* ClientHello */
	deliver(b, a);		/* flight 4 */
	deliver(a, b);		/* flight 5 */
	T_EQ_INT(dtls_state(b->d), DTLS_DONE, "server done");
	T_OK(b->n > 0, "server's final flight queued");
	drop(b);
	T_EQ_INT(dtls_state(a->d), DTLS_HANDSHAKE, "client waits");
	for (i = 0; i < 20 && dtls_state(a->d) != DTLS_DONE; i++) {
		sleep_ms(60);
		(void)dtls_on_timeout(a->d);
		pump(a, b);
	}
	T_EQ_INT(dtls_state(a->d), DTLS_DONE, "client done after resend");
	T_OK(dtls_srtp_keys(a->d, &ka) == 0 && dtls_srtp_keys(b->d, &kb) == 0
	    && keys_cross(&ka, &kb), "keys agree");
	unpair(a, b);
	free(a);
	free(b);
}

static void
test_junk(void)
{
	struct side *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct dtls_fp fa = fp_of(cert_a), fb = fp_of(cert_b);
	struct dtls_keys ka, kb;
	uint8_t p[300];
	int i;

	T_OK(pair(a, b, 0, 0, &fa, &fb, 0), "pair");
	for (i = 0; i < 200; i++) {
		size_t n = 1 + (size_t)i % sizeof(p);

		if (rnd_bytes(p, n) != 0)
			break;
		(void)dtls_input(b->d, p, n);
	}
	T_EQ_INT(dtls_state(b->d), DTLS_HANDSHAKE, "random bytes ignored");
	/* well-formed records whose handshake body is junk */
	for (i = 0; i < 50; i++) {
		if (rnd_bytes(p, sizeof(p)) != 0)
			break;
		p[0] = 22;
		p[1] = 0xfe;
		p[2] = 0xfd;
		p[3] = p[4] = 0;
		p[11] = 0;
		p[12] = (uint8_t)(sizeof(p) - 13);
		p[13] = (uint8_t)(i % 3);	/* ClientHello sometimes */
		(void)dtls_input(b->d, p, sizeof(p));
	}
	T_EQ_INT(dtls_state(b->d), DTLS_HANDSHAKE,
	    "passive survives junk records (%s)", dtls_why(b->d));
	(void)dtls_input(a->d, p, sizeof(p));
	T_EQ_INT(dtls_state(a->d), DTLS_HANDSHAKE,
	    "active before start ignores input");
	drop(b);
	T_EQ_INT(dtls_start(a->d), 0, "start");
	pump(a, b);
	T_EQ_INT(dtls_state(a->d), DTLS_DONE, "then a handshake works");
	T_OK(dtls_srtp_keys(a->d, &ka) == 0 && dtls_srtp_keys(b->d, &kb) == 0
	    && keys_cross(&ka, &kb), "keys agree");
	for (i = 0; i < 50; i++) {
		if (rnd_bytes(p, sizeof(p)) != 0)
			break;
		p[0] = (uint8_t)(20 + i % 4);
		p[1] = 0xfe;
		p[2] = 0xfd;
		p[11] = 0;
		p[12] = (uint8_t)(sizeof(p) - 13);
		(void)dtls_input(a->d, p, sizeof(p));
		(void)dtls_input(b->d, p, sizeof(p));
	}
	T_OK(dtls_state(a->d) == DTLS_DONE && dtls_state(b->d) == DTLS_DONE,
	    "junk after the handshake changes nothing");
	unpair(a, b);
	free(a);
	free(b);
}

static void
test_mtu(void)
{
	struct side *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct dtls_fp fa = fp_of(cert_a), fb = fp_of(cert_b);

	T_OK(pair(a, b, 0, 0, &fa, &fb, 256), "pair, a's MTU 256");
	T_EQ_INT(dtls_start(a->d), 0, "start");
	pump(a, b);
	T_EQ_INT(dtls_state(a->d), DTLS_DONE, "done");
	T_OK(a->biggest <= 256, "a's datagrams <= 256 (%zu)", a->biggest);
	T_OK(a->sent > 2, "a's flight in several datagrams (%zu)", a->sent);
	unpair(a, b);
	free(a);
	free(b);
}

/* RTP from a to b and back, with the keys each side derived. */
static void
test_srtp(void)
{
	struct side *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct dtls_fp fa = fp_of(cert_a), fb = fp_of(cert_b);
	unsigned suites[] = { 0, S(AES_CM_128_HMAC_SHA1_80) };
	struct dtls_keys ka, kb;
	size_t i, j;

	for (j = 0; j < 2; j++) {
		struct rtpsec_params pa = { 0 }, pb = { 0 };
		struct rtpsec *tx, *rx;
		uint8_t pkt[12 + 160 + RTPSEC_MAX_OVERHEAD];
		size_t len = 12 + 160;
		int err;

		if (!T_OK(pair(a, b, suites[j], suites[j], &fa, &fb, 0),
		    "pair"))
			continue;
		if (dtls_start(a->d) != 0)
			T_OK(0, "start");
		pump(a, b);
		if (!T_OK(dtls_srtp_keys(a->d, &ka) == 0 &&
		    dtls_srtp_keys(b->d, &kb) == 0, "keys"))
			continue;
		memset(pkt, 0, sizeof(pkt));
		pkt[0] = 0x80;
		pkt[1] = 0;
		pkt[3] = 7;
		pkt[11] = 0x42;
		for (i = 12; i < len; i++)
			pkt[i] = (uint8_t)i;
		pa.suite = ka.suite;
		pa.key = ka.tx;
		pa.key_len = ka.key_len;
		pa.salt = ka.tx + ka.key_len;
		pa.salt_len = ka.salt_len;
		pb = pa;
		pb.key = kb.rx;
		pb.salt = kb.rx + kb.key_len;
		tx = rtpsec_new(&pa, RTPSEC_PROTECT, &err);
		rx = rtpsec_new(&pb, RTPSEC_UNPROTECT, &err);
		T_OK(tx != NULL && rx != NULL, "%s: contexts",
		    suite_by_id(ka.suite)->name);
		if (tx != NULL && rx != NULL) {
			T_EQ_INT(rtpsec_protect(tx, pkt, &len, sizeof(pkt)),
			    0, "a protects with a.tx");
			T_EQ_INT(rtpsec_unprotect(rx, pkt, &len), 0,
			    "b unprotects with b.rx");
			T_OK(len == 172 && pkt[171] == 171, "same RTP");
		}
		rtpsec_free(tx);
		rtpsec_free(rx);
		/* the other way, and a wrong key fails */
		pa.key = kb.tx;
		pa.salt = kb.tx + kb.key_len;
		pb.key = ka.tx;
		pb.salt = ka.tx + ka.key_len;
		tx = rtpsec_new(&pa, RTPSEC_PROTECT, &err);
		rx = rtpsec_new(&pb, RTPSEC_UNPROTECT, &err);
		len = 172;
		if (tx != NULL && rx != NULL) {
			T_EQ_INT(rtpsec_protect(tx, pkt, &len, sizeof(pkt)),
			    0, "b protects with b.tx");
			T_EQ_INT(rtpsec_unprotect(rx, pkt, &len), E_AUTH,
			    "a's own tx key does not open it");
		}
		rtpsec_free(tx);
		rtpsec_free(rx);
		unpair(a, b);
	}
	free(a);
	free(b);
}

int
main(void)
{
	int err;

	cert_a = dtls_cert_new(&err);
	cert_b = dtls_cert_new(&err);
	cert_c = dtls_cert_new(&err);
	if (!T_OK(cert_a != NULL && cert_b != NULL && cert_c != NULL,
	    "three certificates"))
		return t_done();
	test_cert();
	test_fp_parse();
	test_record_check();
	test_handshake();
	test_suites();
	test_mismatch();
	test_lost_flights();
	test_lost_final();
	test_junk();
	test_mtu();
	test_srtp();
	dtls_cert_free(cert_a);
	dtls_cert_free(cert_b);
	dtls_cert_free(cert_c);
	dtls_cert_free(NULL);
	dtls_free(NULL);
	return t_done();
}
