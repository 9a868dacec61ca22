/* test_dtlscap.c - DTLS-SRTP handshakes read from their datagrams: the
 * RFC 5705 / 5764 exporter with the key log's master secret must give the
 * keys OpenSSL's SSL_export_keying_material gave both ends of a real
 * in-process DTLS pair (lib/media/dtls), every profile; fragmented and
 * reordered hellos; junk. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/buf.h"
#include "base/err.h"
#include "media/dtls.h"
#include "media/suite.h"
#include "cap/cap.h"
#include "cap/dtlscap.h"
#include "cap/pcapdec.h"
#include "media/rtpsec.h"
#include "t.h"

#define QMAX 64
#define PMAX 2048

struct side {
	struct dtls *d;
	uint8_t q[QMAX][PMAX];
	size_t qlen[QMAX], n;
	char keylog[256];
	/* every datagram it sent, for the capture's view */
	uint8_t all[QMAX][PMAX];
	size_t alllen[QMAX], nall;
	unsigned ord[QMAX];	/* when, across both sides */
};

static unsigned sent_order;

static struct dtls_cert *cert_a, *cert_b;

static void
send_cb(void *arg, const uint8_t *p, size_t len)
{
	struct side *s = arg;

	if (len > PMAX)
		return;
	if (s->n < QMAX) {
		memcpy(s->q[s->n], p, len);
		s->qlen[s->n++] = len;
	}
	if (s->nall < QMAX) {
		memcpy(s->all[s->nall], p, len);
		s->ord[s->nall] = sent_order++;
		s->alllen[s->nall++] = len;
	}
}

static void
keylog_cb(void *arg, const char *line)
{
	struct side *s = arg;

	snprintf(s->keylog, sizeof(s->keylog), "%s", line);
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

static size_t
deliver(struct side *from, struct side *to)
{
	static uint8_t tmp[QMAX][PMAX];
	size_t i, n = from->n, len[QMAX];

	for (i = 0; i < n; i++) {
		memcpy(tmp[i], from->q[i], from->qlen[i]);
		len[i] = from->qlen[i];
	}
	from->n = 0;
	for (i = 0; i < n; i++)
		(void)dtls_input(to->d, tmp[i], len[i]);
	return n;
}

/* a (active: the DTLS client) and b finish a handshake offering `suites`
 * (datagrams of at most `mtu`); 0 if they did. */
static int
handshake(struct side *a, struct side *b, unsigned suites, unsigned mtu)
{
	struct dtls_config ca = { 0 }, cb;
	int err, i;

	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	ca.cert = cert_a;
	ca.role = DTLS_ACTIVE;
	ca.peer = fp_of(cert_b);
	ca.suites = suites;
	ca.send = send_cb;
	ca.keylog = keylog_cb;
	ca.arg = a;
	ca.mtu = mtu;
	cb = ca;
	cb.cert = cert_b;
	cb.role = DTLS_PASSIVE;
	cb.peer = fp_of(cert_a);
	cb.arg = b;
	if ((a->d = dtls_new(&ca, &err)) == NULL ||
	    (b->d = dtls_new(&cb, &err)) == NULL || dtls_start(a->d) != 0)
		return -1;
	for (i = 0; i < 20; i++)
		if (deliver(a, b) + deliver(b, a) == 0)
			break;
	return dtls_state(a->d) == DTLS_DONE &&
	    dtls_state(b->d) == DTLS_DONE ? 0 : -1;
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
	    c - 'a' + 10 : -1;
}

/* "CLIENT_RANDOM <64 hex> <96 hex>": the random and the master secret. */
static int
parse_keylog(const char *l, uint8_t *random, uint8_t *master)
{
	size_t i;

	if (strncmp(l, "CLIENT_RANDOM ", 14) != 0 || strlen(l) != 14 + 64 +
	    1 + 96)
		return -1;
	for (i = 0; i < 32; i++)
		random[i] = (uint8_t)(hexval(l[14 + 2 * i]) << 4 |
		    hexval(l[15 + 2 * i]));
	for (i = 0; i < 48; i++)
		master[i] = (uint8_t)(hexval(l[79 + 2 * i]) << 4 |
		    hexval(l[80 + 2 * i]));
	return 0;
}

/* The capture's view: a's datagrams from side 0, b's from side 1, in the
 * order a capture between them would show them (a's first flight, b's,
 * and so on: each side's own order is what matters). */
static unsigned
feed(struct dtlscap_hs *h, const struct side *a, const struct side *b)
{
	unsigned ev = 0;
	size_t i;

	dtlscap_init(h);
	for (i = 0; i < a->nall; i++)
		ev |= dtlscap_input(h, 0, slice_make(a->all[i], a->alllen[i]));
	for (i = 0; i < b->nall; i++)
		ev |= dtlscap_input(h, 1, slice_make(b->all[i], b->alllen[i]));
	return ev;
}

struct pcase {
	unsigned suites;
	enum suite_id want;
	uint16_t profile;
	const char *name;
};

static void
test_exporter(void)
{
	static const struct pcase cases[] = {
		{ 1u << SUITE_AES_CM_128_HMAC_SHA1_80,
		    SUITE_AES_CM_128_HMAC_SHA1_80, 1, "SRTP_AES128_CM_SHA1_80" },
		{ 1u << SUITE_AES_CM_128_HMAC_SHA1_32,
		    SUITE_AES_CM_128_HMAC_SHA1_32, 2, "SRTP_AES128_CM_SHA1_32" },
		{ 1u << SUITE_AEAD_AES_128_GCM, SUITE_AEAD_AES_128_GCM, 7,
		    "SRTP_AEAD_AES_128_GCM" },
		{ 1u << SUITE_AEAD_AES_256_GCM, SUITE_AEAD_AES_256_GCM, 8,
		    "SRTP_AEAD_AES_256_GCM" },
	};
	static struct side a, b;
	struct dtlscap_hs *h = malloc(sizeof(*h));
	struct dtls_keys ka, kb;
	struct dtlscap_keys k;
	uint8_t random[32], master[48], wrong[48];
	size_t i, n;
	unsigned ev;

	if (!T_OK(h != NULL, "memory"))
		return;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];

		if (!T_OK(handshake(&a, &b, c->suites, 0) == 0,
		    "%s: a handshake", c->name))
			goto next;
		T_OK(dtls_srtp_keys(a.d, &ka) == 0 &&
		    dtls_srtp_keys(b.d, &kb) == 0, "%s: OpenSSL's keys",
		    c->name);
		T_OK(parse_keylog(a.keylog, random, master) == 0,
		    "%s: a CLIENT_RANDOM line", c->name);
		ev = feed(h, &a, &b);
		T_OK(ev == (DTLSCAP_EV_CRANDOM | DTLSCAP_EV_CH |
		    DTLSCAP_EV_SH) && h->client == 0,
		    "%s: ClientHello from the active side, ServerHello "
		    "(events 0x%x)", c->name, ev);
		T_OK(memcmp(h->crandom, random, 32) == 0,
		    "%s: the client random the key log names", c->name);
		T_EQ_INT(h->profile, c->profile, "%s: use_srtp profile",
		    c->name);
		T_EQ_INT(h->version, 0xfefd, "%s: DTLS 1.2, suite 0x%04x "
		    "(PRF %s)", c->name, h->suite,
		    dtlscap_suite_sha384(h->suite) ? "SHA-384" : "SHA-256");
		T_EQ_INT(dtlscap_srtp_keys(h, master, 48, &k), 0,
		    "%s: exported", c->name);
		n = k.key_len + k.salt_len;
		T_OK(k.suite == c->want && ka.suite == c->want &&
		    k.key_len == ka.key_len && k.salt_len == ka.salt_len,
		    "%s: suite and lengths", c->name);
		/* RFC 5764 4.2: a is the client, its tx the client key */
		T_OK(memcmp(k.client, ka.tx, n) == 0 &&
		    memcmp(k.client, kb.rx, n) == 0,
		    "%s: client key and salt = SSL_export_keying_material's",
		    c->name);
		T_OK(memcmp(k.server, ka.rx, n) == 0 &&
		    memcmp(k.server, kb.tx, n) == 0,
		    "%s: server key and salt = SSL_export_keying_material's",
		    c->name);
		memcpy(wrong, master, 48);
		wrong[47] ^= 1;
		T_OK(dtlscap_srtp_keys(h, wrong, 48, &k) == 0 &&
		    memcmp(k.client, ka.tx, n) != 0,
		    "%s: another secret, other keys", c->name);
next:
		dtls_free(a.d);
		dtls_free(b.d);
	}
	T_OK(dtlscap_suite_sha384(0xc030) && dtlscap_suite_sha384(0xc02c) &&
	    !dtlscap_suite_sha384(0xc02b) && !dtlscap_suite_sha384(0xcca9),
	    "SHA-384 suites");
	/* a small MTU: the flights fragmented, the capture reassembles */
	if (T_OK(handshake(&a, &b, 0, 256) == 0, "a handshake, MTU 256")) {
		T_OK(dtls_srtp_keys(a.d, &ka) == 0 &&
		    parse_keylog(a.keylog, random, master) == 0, "keys, MTU 256");
		ev = feed(h, &a, &b);
		T_OK((ev & DTLSCAP_EV_SH) && h->client == 0 &&
		    dtlscap_srtp_keys(h, master, 48, &k) == 0 &&
		    memcmp(k.client, ka.tx, k.key_len + k.salt_len) == 0 &&
		    memcmp(k.server, ka.rx, k.key_len + k.salt_len) == 0,
		    "MTU 256 (%zu and %zu datagrams): the same keys", a.nall,
		    b.nall);
		/* the ServerHello missing: no keys yet */
		dtlscap_init(h);
		(void)dtlscap_input(h, 0, slice_make(a.all[0], a.alllen[0]));
		T_EQ_INT(dtlscap_srtp_keys(h, master, 48, &k), E_STATE,
		    "ClientHello alone: E_STATE");
	}
	dtls_free(a.d);
	dtls_free(b.d);
	free(h);
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	put16(p + 1, v);
}

/* A record carrying fragment [off, off+len) of message `body` (`blen`). */
static size_t
frag_record(uint8_t *out, uint8_t type, const uint8_t *body, uint32_t blen,
    uint32_t off, uint32_t len, uint16_t mseq)
{
	memset(out, 0, 13);
	out[0] = 22;
	put16(out + 1, 0xfefd);
	put16(out + 11, 12 + len);
	out[13] = type;
	put24(out + 14, blen);
	put16(out + 17, mseq);
	put24(out + 19, off);
	put24(out + 22, len);
	memcpy(out + 25, body + off, len);
	return 25 + len;
}

static void
test_fragments(void)
{
	struct dtlscap_hs *h = malloc(sizeof(*h));
	uint8_t ch[300], sh[120], d1[400], d2[400], d3[400];
	size_t n1, n2, n3, i;
	unsigned ev;

	if (!T_OK(h != NULL, "memory"))
		return;
	/* a ClientHello body: version, random, empty session and cookie,
	 * one suite, compression null, no extensions, padding after */
	memset(ch, 0, sizeof(ch));
	put16(ch, 0xfefd);
	for (i = 0; i < 32; i++)
		ch[2 + i] = (uint8_t)(0xa0 + i);
	/* three fragments, the last first, overlapping */
	n1 = frag_record(d1, 1, ch, sizeof(ch), 200, 100, 0);
	n2 = frag_record(d2, 1, ch, sizeof(ch), 90, 150, 0);
	n3 = frag_record(d3, 1, ch, sizeof(ch), 0, 100, 0);
	dtlscap_init(h);
	ev = dtlscap_input(h, 1, slice_make(d1, n1));
	ev |= dtlscap_input(h, 1, slice_make(d2, n2));
	T_EQ_INT(ev, 0, "two fragments without the first: nothing yet");
	ev = dtlscap_input(h, 1, slice_make(d3, n3));
	T_EQ_INT(ev, DTLSCAP_EV_CRANDOM | DTLSCAP_EV_CH,
	    "the first fragment completes it");
	T_OK(h->have_ch && h->client == 1 && h->crandom[0] == 0xa0 &&
	    h->crandom[31] == 0xbf, "client random, client side 1");
	ev = dtlscap_input(h, 1, slice_make(d3, n3));
	T_EQ_INT(ev, 0, "a retransmission: no new event");
	/* a ServerHello from side 0 with use_srtp (profile 7, no MKI) and
	 * SHA-384 suite, in two records of one datagram */
	memset(sh, 0, sizeof(sh));
	put16(sh, 0xfefd);
	memset(sh + 2, 0x55, 32);
	sh[34] = 0;			/* session id */
	put16(sh + 35, 0xc030);		/* suite */
	sh[37] = 0;			/* compression */
	put16(sh + 38, 9 + 4);		/* extensions */
	put16(sh + 40, 0x0017);		/* extended_master_secret */
	put16(sh + 42, 0);
	put16(sh + 44, 14);		/* use_srtp */
	put16(sh + 46, 5);
	put16(sh + 48, 2);
	put16(sh + 50, 7);
	sh[52] = 0;
	n1 = frag_record(d1, 2, sh, 53, 0, 30, 0);
	n2 = frag_record(d1 + n1, 2, sh, 53, 30, 23, 0);
	ev = dtlscap_input(h, 0, slice_make(d1, n1 + n2));
	T_EQ_INT(ev, DTLSCAP_EV_SH, "ServerHello in two records");
	T_OK(h->profile == 7 && h->suite == 0xc030 && h->mki_len == 0 &&
	    h->srandom[0] == 0x55, "profile 7, suite, server random");
	/* a length beyond the record: skipped */
	dtlscap_init(h);
	n3 = frag_record(d3, 1, ch, sizeof(ch), 0, 100, 0);
	put24(d3 + 22, 300);
	T_EQ_INT(dtlscap_input(h, 0, slice_make(d3, n3)), 0,
	    "fragment longer than its record: skipped");
	put24(d3 + 22, 100);
	put24(d3 + 14, DTLSCAP_MSG_MAX + 1);
	T_EQ_INT(dtlscap_input(h, 0, slice_make(d3, n3)), 0,
	    "message over DTLSCAP_MSG_MAX: skipped");
	T_OK(!dtlscap_is_dtls(slice_make("\x80\x00", 2)) &&
	    !dtlscap_is_dtls(slice_make(d3, 12)) &&
	    dtlscap_is_dtls(slice_make(d3, n3)), "RFC 7983 demultiplexing");
	free(h);
}

/* Move what `from` wrote to `to`, and show it to the capture as `side`. */
static void
move(SSL *from, SSL *to, struct dtlscap_hs *h, int side, unsigned *ev)
{
	static uint8_t b[16384];
	int n;

	while ((n = BIO_read(SSL_get_wbio(from), b, sizeof(b))) > 0) {
		*ev |= dtlscap_input(h, side, slice_make(b, (size_t)n));
		(void)BIO_write(SSL_get_rbio(to), b, n);
	}
}

static SSL *
dtls12(SSL_CTX *ctx, int server)
{
	SSL *s = SSL_new(ctx);
	BIO *r = BIO_new(BIO_s_mem()), *w = BIO_new(BIO_s_mem());

	if (s == NULL || r == NULL || w == NULL)
		return NULL;
	BIO_set_mem_eof_return(r, -1);
	SSL_set_bio(s, r, w);
	SSL_set_options(s, SSL_OP_NO_QUERY_MTU);
	SSL_set_mtu(s, 1400);
	if (server)
		SSL_set_accept_state(s);
	else
		SSL_set_connect_state(s);
	return s;
}

/*
 * OpenSSL on both ends, a SHA-384 suite forced (lib/media/dtls picks
 * SHA-256 ones): the exporter with the PRF's other hash, and RFC 5705
 * with another label, against SSL_export_keying_material.
 */
static void
test_sha384(void)
{
	struct dtlscap_hs *h = malloc(sizeof(*h));
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *nm;
	SSL_CTX *cc = SSL_CTX_new(DTLS_method()), *sc = SSL_CTX_new(DTLS_method());
	SSL *c = NULL, *s = NULL;
	struct dtlscap_keys k;
	uint8_t master[48], ref[2 * SUITE_MAX_KEY_SALT], out[64], r64[64];
	unsigned ev = 0;
	int i;

	if (!T_OK(h != NULL && pk != NULL && x != NULL && cc != NULL &&
	    sc != NULL, "OpenSSL contexts"))
		goto out;
	dtlscap_init(h);
	nm = X509_get_subject_name(x);
	if (!T_OK(X509_set_version(x, 2) == 1 &&
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1 &&
	    X509_gmtime_adj(X509_getm_notBefore(x), -60) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 3600) != NULL &&
	    X509_set_pubkey(x, pk) == 1 &&
	    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)"dtlscap", -1, -1, 0) == 1 &&
	    X509_set_issuer_name(x, nm) == 1 &&
	    X509_sign(x, pk, EVP_sha256()) > 0 &&
	    SSL_CTX_use_certificate(sc, x) == 1 &&
	    SSL_CTX_use_PrivateKey(sc, pk) == 1 &&
	    SSL_CTX_set_cipher_list(cc, "ECDHE-ECDSA-AES256-GCM-SHA384") &&
	    SSL_CTX_set_cipher_list(sc, "ECDHE-ECDSA-AES256-GCM-SHA384") &&
	    SSL_CTX_set_min_proto_version(cc, DTLS1_2_VERSION) &&
	    SSL_CTX_set_min_proto_version(sc, DTLS1_2_VERSION) &&
	    SSL_CTX_set_tlsext_use_srtp(cc, "SRTP_AEAD_AES_256_GCM") == 0 &&
	    SSL_CTX_set_tlsext_use_srtp(sc, "SRTP_AEAD_AES_256_GCM") == 0,
	    "a certificate, a SHA-384 suite, AEAD_AES_256_GCM"))
		goto out;
	if (!T_OK((c = dtls12(cc, 0)) != NULL && (s = dtls12(sc, 1)) != NULL,
	    "two SSLs"))
		goto out;
	for (i = 0; i < 20 && !(SSL_is_init_finished(c) &&
	    SSL_is_init_finished(s)); i++) {
		(void)SSL_do_handshake(c);
		move(c, s, h, 1, &ev);
		(void)SSL_do_handshake(s);
		move(s, c, h, 0, &ev);
	}
	if (!T_OK(SSL_is_init_finished(c) && SSL_is_init_finished(s),
	    "OpenSSL DTLS 1.2 handshake"))
		goto out;
	T_OK(SSL_SESSION_get_master_key(SSL_get_session(c), master, 48) ==
	    48 && SSL_get_client_random(c, r64, 32) == 32 &&
	    memcmp(r64, h->crandom, 32) == 0 && h->client == 1,
	    "the client random from side 1");
	T_OK(h->suite == 0xc02c && dtlscap_suite_sha384(h->suite) &&
	    h->profile == 8, "suite 0x%04x, profile %u", h->suite, h->profile);
	T_OK(dtlscap_srtp_keys(h, master, 48, &k) == 0 &&
	    k.suite == SUITE_AEAD_AES_256_GCM, "exported");
	T_OK(SSL_export_keying_material(c, ref, 2 * (32 + 12),
	    "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0) == 1 &&
	    memcmp(k.client, ref, 32) == 0 &&
	    memcmp(k.server, ref + 32, 32) == 0 &&
	    memcmp(k.client + 32, ref + 64, 12) == 0 &&
	    memcmp(k.server + 32, ref + 76, 12) == 0,
	    "SHA-384 PRF: the keys SSL_export_keying_material gives");
	T_OK(SSL_export_keying_material(s, r64, 64, "EXPORTER-sbckit-test",
	    20, NULL, 0, 0) == 1 &&
	    dtlscap_export(1, master, 48, "EXPORTER-sbckit-test", h->crandom,
	    h->srandom, out, 64) == 0 && memcmp(out, r64, 64) == 0,
	    "RFC 5705 with another label, 64 bytes");
out:
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cc);
	SSL_CTX_free(sc);
	X509_free(x);
	EVP_PKEY_free(pk);
	free(h);
}

/* --- a capture through pcapdec --- */

#define NFR 256
#define FR_SZ 600

/* What went on the wire, and what the output must hold instead. */
struct capt {
	struct cap_writer *w;
	unsigned n, ndtls;
	uint8_t want[NFR][FR_SZ];
	size_t wantlen[NFR];
};

static void
wr16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v >> 16);
	wr16(p + 2, v & 0xffff);
}

/* An Ethernet/IPv4/UDP frame 10.0.0.s:sport -> 10.0.0.d:dport; `want`
 * NULL: expected left out of the output. */
static int
frame(struct capt *c, int s, unsigned sport, int d, unsigned dport,
    const uint8_t *pl, size_t len, const uint8_t *want, size_t wantlen)
{
	uint8_t f[42 + PMAX];
	struct cap_frame fr;

	if (len > PMAX || c->n >= NFR || (want != NULL && wantlen > FR_SZ))
		return -1;
	memset(f, 0, 42);
	f[12] = 0x08;
	f[14] = 0x45;
	wr16(f + 16, (unsigned)(28 + len));
	f[22] = 64;
	f[23] = 17;
	f[26] = 10; f[29] = (uint8_t)s;
	f[30] = 10; f[33] = (uint8_t)d;
	wr16(f + 34, sport);
	wr16(f + 36, dport);
	wr16(f + 38, (unsigned)(8 + len));
	memcpy(f + 42, pl, len);
	memset(&fr, 0, sizeof(fr));
	fr.ts_sec = 1700000000 + c->n / 50;
	fr.ts_usec = (c->n % 50) * 20000;
	fr.caplen = fr.wirelen = (uint32_t)(42 + len);
	fr.dlt = CAP_DLT_EN10MB;
	fr.data = f;
	if (want != NULL) {
		memcpy(c->want[c->n], want, wantlen);
		c->wantlen[c->n++] = wantlen;
	} else
		c->ndtls++;
	return cap_write(c->w, &fr);
}

/* The handshake of `a` (10.0.0.1:ap, the client) and `b` (10.0.0.2:bp)
 * in the order it was sent; `drop`: expected left out. */
static int
capt_handshake(struct capt *c, const struct side *a, const struct side *b,
    unsigned ap, unsigned bp, int drop)
{
	size_t i = 0, j = 0;
	int e = 0;

	while (e == 0 && (i < a->nall || j < b->nall)) {
		if (j == b->nall || (i < a->nall && a->ord[i] < b->ord[j])) {
			e = frame(c, 1, ap, 2, bp, a->all[i], a->alllen[i],
			    drop ? NULL : a->all[i], a->alllen[i]);
			i++;
		} else {
			e = frame(c, 2, bp, 1, ap, b->all[j], b->alllen[j],
			    drop ? NULL : b->all[j], b->alllen[j]);
			j++;
		}
	}
	return e;
}

static struct rtpsec *
protector(const struct dtls_keys *k, const uint8_t *m)
{
	struct rtpsec_params p;
	int err;

	memset(&p, 0, sizeof(p));
	p.suite = k->suite;
	p.key = m;
	p.key_len = k->key_len;
	p.salt = m + k->key_len;
	p.salt_len = k->salt_len;
	return rtpsec_new(&p, RTPSEC_PROTECT, &err);
}

/* `n` SRTP (or SRTCP) packets of `ssrc` keyed with `m`. */
static int
capt_media(struct capt *c, const struct dtls_keys *k, const uint8_t *m,
    int rtcp, int s, unsigned sport, int d, unsigned dport, uint32_t ssrc,
    int n)
{
	struct rtpsec *r = protector(k, m);
	uint8_t pl[FR_SZ], en[FR_SZ];
	size_t plen, elen;
	int i, e = r == NULL ? -1 : 0;

	for (i = 0; i < n && e == 0; i++) {
		memset(pl, 0, sizeof(pl));
		pl[0] = 0x80;
		if (rtcp) {	/* a sender report */
			pl[1] = 200;
			wr16(pl + 2, 6);
			wr32(pl + 4, ssrc);
			wr32(pl + 8, 0xe0000000u + (uint32_t)i);
			plen = 28;
		} else {
			wr16(pl + 2, (unsigned)(100 + i));
			wr32(pl + 4, (uint32_t)i * 160);
			wr32(pl + 8, ssrc);
			memset(pl + 12, 0x55 + i, 160);
			plen = 172;
		}
		memcpy(en, pl, plen);
		elen = plen;
		e = rtcp ? rtpsec_protect_rtcp(r, en, &elen, sizeof(en)) :
		    rtpsec_protect(r, en, &elen, sizeof(en));
		if (e == 0)
			e = frame(c, s, sport, d, dport, en, elen, pl, plen);
	}
	rtpsec_free(r);
	return e;
}

static int
has(const struct buf *b, const char *s)
{
	return memmem(buf_data(b), buf_len(b), s, strlen(s)) != NULL;
}

/* The output's UDP payloads, in order, against what `c` expects. */
static int
out_same(const struct capt *c, const char *path, unsigned *n)
{
	struct cap_reader *r;
	struct cap_frame f;
	struct cap_pkt p;
	char why[128];
	int same = 1;

	*n = 0;
	if ((r = cap_open(path, why, sizeof(why))) == NULL)
		return 0;
	while (cap_read(r, &f) == 1) {
		if (cap_decode(f.dlt, f.data, f.caplen, &p) != 0 ||
		    p.kind != CAP_UDP || *n >= c->n ||
		    p.payload.len != c->wantlen[*n] ||
		    memcmp(p.payload.p, c->want[*n], p.payload.len) != 0)
			same = 0;
		(*n)++;
	}
	cap_close(r);
	return same && *n == c->n;
}

/*
 * A call without rtcp-mux: one DTLS handshake on the RTP ports, another
 * on the RTCP ports (RFC 5764: an association per component), SRTP and
 * SRTCP both ways keyed by OpenSSL. The key log alone decrypts all four
 * streams, each with its own 5-tuple's keys; -w leaves out the DTLS.
 */
static void
test_pcapdec(void)
{
	static struct side a1, b1, a2, b2;
	struct dtls_keys k1a, k1b, k2a, k2b;
	struct pcapdec_opts o;
	struct pcapdec_totals t;
	struct pcapdec *d = NULL;
	struct capt *c = calloc(1, sizeof(*c));
	struct buf *rep = buf_new(1 << 16);
	char tmpl[] = "/tmp/test_dtlscap.XXXXXX", in[64], out[64], why[256];
	char log[600];
	unsigned n = 0;
	int e, err;

	if (!T_OK(c != NULL && rep != NULL && mkdtemp(tmpl) != NULL,
	    "a directory"))
		goto done;
	snprintf(in, sizeof(in), "%s/in.pcap", tmpl);
	snprintf(out, sizeof(out), "%s/out.pcap", tmpl);
	if (!T_OK(handshake(&a1, &b1, 0, 0) == 0 &&
	    handshake(&a2, &b2, 0, 0) == 0 &&
	    dtls_srtp_keys(a1.d, &k1a) == 0 && dtls_srtp_keys(b1.d, &k1b) == 0 &&
	    dtls_srtp_keys(a2.d, &k2a) == 0 && dtls_srtp_keys(b2.d, &k2b) == 0,
	    "two DTLS pairs (RTP and RTCP components)"))
		goto done;
	if (!T_OK((c->w = cap_writer_open(in, CAP_DLT_EN10MB, 65535, why,
	    sizeof(why))) != NULL, "a capture"))
		goto done;
	e = capt_handshake(c, &a1, &b1, 20000, 30000, 1);
	if (e == 0)
		e = capt_handshake(c, &a2, &b2, 20001, 30001, 1);
	if (e == 0)
		e = capt_media(c, &k1a, k1a.tx, 0, 1, 20000, 2, 30000, 0x1111,
		    20);
	if (e == 0)
		e = capt_media(c, &k1b, k1b.tx, 0, 2, 30000, 1, 20000, 0x2222,
		    20);
	if (e == 0)
		e = capt_media(c, &k2a, k2a.tx, 1, 1, 20001, 2, 30001, 0x1111,
		    5);
	if (e == 0)
		e = capt_media(c, &k2b, k2b.tx, 1, 2, 30001, 1, 20001, 0x2222,
		    5);
	if (!T_OK(cap_writer_close(c->w) == 0 && e == 0, "capture written (%d)", e))
		goto done;
	memset(&o, 0, sizeof(o));
	o.out_pcap = out;
	o.roc_max = 2;
	snprintf(log, sizeof(log), "%s\n%s\n", a1.keylog, a2.keylog);
	if (!T_OK((d = pcapdec_new(&o, &err)) != NULL &&
	    pcapdec_add_tls_keylog(d, slice_cstr(log), why, sizeof(why)) == 0,
	    "a run with the two CLIENT_RANDOM lines"))
		goto done;
	T_EQ_INT(pcapdec_run(d, in, why, sizeof(why)), 0, "run");
	pcapdec_totals(d, &t);
	T_OK(t.dtls.handshakes == 2 && t.dtls.keyed == 2 &&
	    t.dtls.no_keys == 0 && t.dtls.flows == 2 &&
	    t.dtls.dropped == c->ndtls,
	    "2 handshakes on 2 flows keyed, %llu DTLS datagrams left out",
	    (unsigned long long)t.dtls.dropped);
	T_OK(t.decrypted == 50 && t.keyed_streams == 4 &&
	    t.streams_not_ok == 0, "4 streams, all 50 packets decrypted "
	    "(%llu)", (unsigned long long)t.decrypted);
	e = out_same(c, out, &n);
	T_OK(e && n == 50 && c->n == 50, "the output: the plain RTP and "
	    "RTCP, no DTLS (%u frames)", n);
	T_OK(pcapdec_report_text(d, rep) == 0 &&
	    has(rep, " dtls ") &&
	    has(rep, "dtls: 2 handshakes on 2 UDP flows: 2 keyed"), "report: key column dtls, the dtls line");
	pcapdec_free(d);
	/* only the RTP component's secret: its RTCP port is not keyed by
	 * it (no port + 1 for DTLS keys), its streams have no key */
	snprintf(log, sizeof(log), "%s\n", a1.keylog);
	o.out_pcap = NULL;
	if (!T_OK((d = pcapdec_new(&o, &err)) != NULL &&
	    pcapdec_add_tls_keylog(d, slice_cstr(log), why, sizeof(why)) == 0,
	    "a run with the RTP component's line"))
		goto done;
	T_EQ_INT(pcapdec_run(d, in, why, sizeof(why)), 0, "run");
	pcapdec_totals(d, &t);
	T_OK(t.dtls.keyed == 1 && t.dtls.no_keys == 1 && t.decrypted == 40 &&
	    t.keyed_streams == 2 && t.streams_not_ok == 0,
	    "RTP decrypted, RTCP no-key (%llu decrypted, %llu keyed)",
	    (unsigned long long)t.decrypted,
	    (unsigned long long)t.keyed_streams);
done:
	pcapdec_free(d);
	buf_free(rep);
	free(c);
	dtls_free(a1.d);
	dtls_free(b1.d);
	dtls_free(a2.d);
	dtls_free(b2.d);
	if (tmpl[sizeof(tmpl) - 2] != 'X') {
		snprintf(why, sizeof(why), "%s/in.pcap", tmpl);
		(void)unlink(why);
		snprintf(why, sizeof(why), "%s/out.pcap", tmpl);
		(void)unlink(why);
		(void)rmdir(tmpl);
	}
}

int
main(void)
{
	int err;

	cert_a = dtls_cert_new(&err);
	cert_b = dtls_cert_new(&err);
	if (!T_OK(cert_a != NULL && cert_b != NULL, "two certificates"))
		return t_done();
	test_exporter();
	test_fragments();
	test_sha384();
	test_pcapdec();
	dtls_cert_free(cert_a);
	dtls_cert_free(cert_b);
	return t_done();
}
