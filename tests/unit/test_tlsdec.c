/* test_tlsdec.c - the key log, TCP reassembly and TLS record decryption
 * against RFC 8448 (TLS 1.3 traces) and the TLS 1.2 PRF vector. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cap/tcpre.h"
#include "cap/tlsdec.h"
#include "cap/tlskeys.h"
#include "cap/wsread.h"
#include "t.h"

static size_t
unhex(const char *h, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned v;

	while (h[0] != '\0' && h[1] != '\0' && n < max) {
		if (h[0] == ' ') {
			h++;
			continue;
		}
		v = (unsigned)strtoul((char[]){ h[0], h[1], 0 }, NULL, 16);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

/* RFC 8448 section 3 (simple 1-RTT, TLS_AES_128_GCM_SHA256) */
#define CHTS "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21"
#define SHTS "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38"
#define CTS0 "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5"
#define STS0 "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643"
#define CRANDOM "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7"
#define CLIENT_HELLO "010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18" \
    "a2ef6283024dece7000006130113031302010000910000000b0009000006736572766572" \
    "ff01000100000a00140012001d0017001800190100010101020103010400230000003300" \
    "260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e52" \
    "9aaf2c002b0003020304000d0020001e0403050306030203080408050806040105010601" \
    "02010402050206020202002d00020101001c00024001"
#define SERVER_HELLO "020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434d" \
    "ac155772ed3e2692800130100002e00330024001d0020c9828876112095fe66762bdbf7c6" \
    "72e156d6cc253b833df1dd69b1b04e751f0f002b00020304"
#define CFIN_RECORD "170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c" \
    "7a4bfc44d87f38f80338ac98fc46deb384bd1caeacab6867d726c40546"
#define CFIN "14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2" \
    "edd5ce61"
#define CDATA_RECORD "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66" \
    "bcab3f2b9819a8a5b46b395bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae63a" \
    "eebb21694915e4"

static void
test_hkdf_label(void)
{
	static const struct {
		const char *secret, *key, *iv;
	} v[] = {
		{ SHTS, "3fce516009c21727d0f2e4e86ee403bc",
		    "5d313eb2671276ee13000b30" },
		{ CHTS, "dbfaa693d1762c5b666af5d950258d01",
		    "5bd3c71b836e0b76bb73265f" },
		{ STS0, "9f02283b6c9c07efc26bb9f2ac92e356",
		    "cf782b88dd83549aadf1e984" },
		{ CTS0, "17422dda596ed5d9acd890e3c63f5051",
		    "5b78923dee08579033e523d9" },
	};
	uint8_t s[32], k[16], iv[12], want[16];

	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		unhex(v[i].secret, s, 32);
		T_OK(tlsdec_hkdf_label(0, s, 32, "key", SLICE_NULL, k, 16) == 0,
		    "rfc 8448 hkdf-expand-label key %zu", i);
		unhex(v[i].key, want, 16);
		T_EQ_MEM(k, 16, want, 16, "rfc 8448 traffic key %zu", i);
		T_OK(tlsdec_hkdf_label(0, s, 32, "iv", SLICE_NULL, iv, 12) == 0,
		    "rfc 8448 hkdf-expand-label iv %zu", i);
		unhex(v[i].iv, want, 12);
		T_EQ_MEM(iv, 12, want, 12, "rfc 8448 traffic iv %zu", i);
	}
}

static void
test_prf12(void)
{
	uint8_t sec[16], seed[16], out[100], want[100];

	/* the P_SHA256 vector of the IETF TLS list (msg03416) */
	unhex("9bbe436ba940f017b17652849a71db35", sec, 16);
	unhex("a0ba9f936cda311827a6f796ffd5198c", seed, 16);
	unhex("e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
	    "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
	    "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
	    "87347b66", want, 100);
	T_OK(tlsdec_prf12(0, sec, 16, "test label", slice_make(seed, 16), out,
	    100) == 0, "prf sha256 runs");
	T_EQ_MEM(out, 100, want, 100, "tls 1.2 prf sha256 vector");
	unhex("b80b733d6ceefcdc71566ea48e5567df", sec, 16);
	unhex("cd665cf6a8447dd6ff8b27555edb7465", seed, 16);
	unhex("7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd",
	    want, 32);
	T_OK(tlsdec_prf12(1, sec, 16, "test label", slice_make(seed, 16), out,
	    32) == 0, "prf sha384 runs");
	T_EQ_MEM(out, 32, want, 32, "tls 1.2 prf sha384 vector");
}

static void
test_open13(void)
{
	uint8_t s[32], rec[128], out[128], want[64];
	size_t rl, n = 0, wl;
	uint8_t type = 0;

	unhex(CHTS, s, 32);
	rl = unhex(CFIN_RECORD, rec, sizeof(rec));
	wl = unhex(CFIN, want, sizeof(want));
	T_OK(tlsdec_open13(0x1301, s, slice_make(rec, rl), 0, out,
	    sizeof(out), &n, &type) == 0, "rfc 8448 client Finished opens");
	T_EQ_MEM(out, n, want, wl, "its plaintext is the Finished message");
	T_EQ_INT(type, 22, "inner content type handshake");
	T_EQ_INT(tlsdec_open13(0x1301, s, slice_make(rec, rl), 1, out,
	    sizeof(out), &n, &type), E_AUTH, "the wrong sequence number fails");
	rec[20] ^= 1;
	T_EQ_INT(tlsdec_open13(0x1301, s, slice_make(rec, rl), 0, out,
	    sizeof(out), &n, &type), E_AUTH, "a flipped bit fails");
	unhex(CTS0, s, 32);
	rl = unhex(CDATA_RECORD, rec, sizeof(rec));
	T_OK(tlsdec_open13(0x1301, s, slice_make(rec, rl), 0, out,
	    sizeof(out), &n, &type) == 0, "rfc 8448 client data opens");
	T_EQ_INT(n, 50, "50 bytes");
	T_OK(n == 50 && out[0] == 0 && out[49] == 0x31, "00 .. 31");
	T_EQ_INT(type, 23, "inner content type application data");
}

/* --- the whole decoder on the RFC 8448 handshake --- */

struct got {
	uint8_t b[4096];
	size_t n;
	int calls, side;
};

static void
got_app(void *arg, int side, const uint8_t *p, size_t len)
{
	struct got *g = arg;

	g->calls++;
	g->side = side;
	if (g->n + len <= sizeof(g->b)) {
		memcpy(g->b + g->n, p, len);
		g->n += len;
	}
}

/* A record of `type` around handshake message `hex`. */
static size_t
wrap(uint8_t type, const char *hex, uint8_t *out)
{
	size_t n = unhex(hex, out + 5, 4096);

	out[0] = type;
	out[1] = 3;
	out[2] = 3;
	out[3] = (uint8_t)(n >> 8);
	out[4] = (uint8_t)n;
	return n + 5;
}

static struct tlskeys *
keys13(const char *crandom)
{
	char text[1024];
	char why[128];
	struct tlskeys *k = tlskeys_new();

	snprintf(text, sizeof(text),
	    "# SSL/TLS secrets log file\n"
	    "CLIENT_HANDSHAKE_TRAFFIC_SECRET %s %s\n"
	    "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\n"
	    "EXPORTER_SECRET %s %s\n"
	    "CLIENT_TRAFFIC_SECRET_0 %s %s\n"
	    "SERVER_TRAFFIC_SECRET_0 %s %s\n", crandom, CHTS, crandom, SHTS,
	    crandom, STS0, crandom, CTS0, crandom, STS0);
	if (k == NULL || tlskeys_add_text(k, slice_cstr(text), why,
	    sizeof(why)) != 0)
		abort();
	return k;
}

static void
test_decoder13(void)
{
	uint8_t ch[512], sh[512], fin[128], data[128];
	size_t chl, shl, finl, datal, i;
	struct tlsdec_stats st;
	struct tlskeys *k = keys13(CRANDOM);
	struct tlsdec *t = tlsdec_new(k);
	struct got g = { .n = 0 };

	chl = wrap(22, CLIENT_HELLO, ch);
	shl = wrap(22, SERVER_HELLO, sh);
	finl = unhex(CFIN_RECORD, fin, sizeof(fin));
	datal = unhex(CDATA_RECORD, data, sizeof(data));
	T_EQ_INT(tlskeys_count(k), 1, "one session in the key log");
	T_EQ_INT(tlskeys_skipped(k), 1, "EXPORTER_SECRET skipped");
	/* the client is side 1 here; bytes one at a time */
	for (i = 0; i < chl; i++)
		if (tlsdec_feed(t, 1, ch + i, 1, got_app, &g) != 0)
			break;
	T_EQ_INT(i, chl, "a ClientHello fed byte by byte");
	T_EQ_INT(tlsdec_client(t), 1, "the ClientHello's sender is the client");
	T_OK(tlsdec_feed(t, 0, sh, shl, got_app, &g) == 0, "ServerHello");
	T_EQ_INT(tlsdec_version(t), 0x0304, "supported_versions: TLS 1.3");
	T_EQ_INT(tlsdec_suite(t), 0x1301, "TLS_AES_128_GCM_SHA256");
	T_EQ_INT(tlsdec_state(t), TLSDEC_KEYED, "keyed from the key log");
	/* a compatibility CCS, the Finished, the data in one write */
	memcpy(ch, "\x14\x03\x03\x00\x01\x01", 6);
	memcpy(ch + 6, fin, finl);
	memcpy(ch + 6 + finl, data, datal);
	T_OK(tlsdec_feed(t, 1, ch, 6 + finl + datal, got_app, &g) == 0,
	    "CCS, Finished, data");
	T_EQ_INT(g.n, 50, "the 50 application bytes came out");
	T_EQ_INT(g.side, 1, "on the client's side");
	T_OK(g.n == 50 && g.b[0] == 0 && g.b[49] == 0x31, "in order");
	tlsdec_stats(t, &st);
	T_EQ_INT(st.decrypted, 2, "two records decrypted");
	T_EQ_INT(st.failed, 0, "none failed");
	/* the same record again: sequence 1 does not open it */
	T_OK(tlsdec_feed(t, 1, data, datal, got_app, &g) == 0, "replayed");
	tlsdec_stats(t, &st);
	T_EQ_INT(st.failed, 1, "a replayed record fails");
	tlsdec_free(t);

	/* the capture has the ServerHello before the ClientHello, and the
	 * client's records before the ServerHello: each side waits */
	t = tlsdec_new(k);
	memset(&g, 0, sizeof(g));
	T_OK(tlsdec_feed(t, 0, sh, shl, got_app, &g) == 0, "ServerHello first");
	T_EQ_INT(tlsdec_state(t), TLSDEC_HELLO, "it waits");
	chl = wrap(22, CLIENT_HELLO, ch);
	memcpy(ch + chl, "\x14\x03\x03\x00\x01\x01", 6);
	memcpy(ch + chl + 6, fin, finl);
	memcpy(ch + chl + 6 + finl, data, datal);
	T_OK(tlsdec_feed(t, 1, ch, chl + 6 + finl + datal, got_app, &g) == 0,
	    "then the client's flight");
	T_EQ_INT(tlsdec_state(t), TLSDEC_KEYED, "keyed");
	T_EQ_INT(g.n, 50, "the application bytes came out");
	tlsdec_free(t);
	t = tlsdec_new(k);
	memset(&g, 0, sizeof(g));
	chl = wrap(22, CLIENT_HELLO, ch);
	T_OK(tlsdec_feed(t, 1, ch, chl, got_app, &g) == 0 &&
	    tlsdec_feed(t, 1, fin, finl, got_app, &g) == 0 &&
	    tlsdec_feed(t, 1, data, datal, got_app, &g) == 0,
	    "the client's records before the ServerHello");
	T_EQ_INT(g.n, 0, "held");
	T_OK(tlsdec_feed(t, 0, sh, shl, got_app, &g) == 0, "ServerHello");
	T_EQ_INT(g.n, 50, "then decrypted");
	tlsdec_free(t);
	tlskeys_free(k);

	/* only the application secret logged: the handshake records do not
	 * open, the data does (its sequence found from 0) */
	k = tlskeys_new();
	{
		char why[128];

		T_OK(tlskeys_add_text(k, slice_cstr("CLIENT_TRAFFIC_SECRET_0 "
		    CRANDOM " " CTS0 "\n"), why, sizeof(why)) == 0, "cts0");
	}
	t = tlsdec_new(k);
	memset(&g, 0, sizeof(g));
	T_OK(tlsdec_feed(t, 1, ch, chl, got_app, &g) == 0 &&
	    tlsdec_feed(t, 0, sh, shl, got_app, &g) == 0 &&
	    tlsdec_feed(t, 1, fin, finl, got_app, &g) == 0 &&
	    tlsdec_feed(t, 1, data, datal, got_app, &g) == 0,
	    "a session with only CLIENT_TRAFFIC_SECRET_0");
	T_EQ_INT(g.n, 50, "its data decrypted");
	tlsdec_stats(t, &st);
	T_EQ_INT(st.failed, 1, "the Finished did not (no handshake secret)");
	tlsdec_free(t);
	tlskeys_free(k);

	/* no key log line for this client random */
	k = keys13("0034ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7");
	t = tlsdec_new(k);
	T_OK(tlsdec_feed(t, 0, ch, 0, got_app, &g) == 0, "nothing");
	chl = wrap(22, CLIENT_HELLO, ch);
	T_OK(tlsdec_feed(t, 0, ch, chl, got_app, &g) == 0 &&
	    tlsdec_feed(t, 1, sh, shl, got_app, &g) == 0, "hellos");
	T_EQ_INT(tlsdec_state(t), TLSDEC_NO_KEYS, "no keys for its random");
	tlsdec_free(t);
	t = tlsdec_new(k);
	T_OK(tlsdec_feed(t, 0, (const uint8_t *)"INVITE sip:a SIP/2.0\r\n",
	    22, got_app, &g) == 0, "sip");
	T_EQ_INT(tlsdec_state(t), TLSDEC_NOT_TLS, "cleartext SIP is not TLS");
	tlsdec_free(t);
	t = tlsdec_new(k);
	T_OK(tlsdec_feed(t, 0, data, datal, got_app, &g) == 0, "data first");
	T_EQ_INT(tlsdec_state(t), TLSDEC_NO_HELLO, "mid-connection: no hello");
	tlsdec_free(t);
	tlskeys_free(k);
}

/* A TLS 1.3 record of `pt` (type 23) under the RFC 8448 client
 * application key at `seq`, sealed with OpenSSL directly. */
static size_t
seal13(const char *pt, uint64_t seq, uint8_t *out)
{
	uint8_t key[16], iv[12], in[256];
	size_t n = strlen(pt);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l;

	unhex("17422dda596ed5d9acd890e3c63f5051", key, 16);
	unhex("5b78923dee08579033e523d9", iv, 12);
	for (int i = 0; i < 8; i++)
		iv[4 + i] ^= (uint8_t)(seq >> (56 - 8 * i));
	memcpy(in, pt, n);
	in[n++] = 23;
	out[0] = 23;
	out[1] = 3;
	out[2] = 3;
	out[3] = (uint8_t)((n + 16) >> 8);
	out[4] = (uint8_t)(n + 16);
	if (EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, key, iv) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &l, out, 5) != 1 ||
	    EVP_EncryptUpdate(c, out + 5, &l, in, (int)n) != 1 ||
	    EVP_EncryptFinal_ex(c, out + 5 + n, &l) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out + 5 + n) != 1)
		abort();
	EVP_CIPHER_CTX_free(c);
	return 5 + n + 16;
}

static void
test_hunt(void)
{
	const char *opt = "OPTIONS sip:bob@example.com SIP/2.0\r\n\r\n";
	uint8_t rec[2][256];
	size_t n0, n1;
	struct tlskeys *k = keys13(CRANDOM);
	struct tlsdec *t = tlsdec_new(k);
	struct tlsdec_stats st;
	struct got g = { .n = 0 };

	/* the capture began at the client's record 40000 */
	n0 = seal13(opt, 40000, rec[0]);
	n1 = seal13("INFO", 40001, rec[1]);
	T_OK(tlsdec_feed(t, 0, rec[0], n0, got_app, &g) == 0 &&
	    tlsdec_feed(t, 0, rec[1], n1, got_app, &g) == 0,
	    "records without a hello");
	T_EQ_INT(tlsdec_state(t), TLSDEC_KEYED, "found from the key log");
	T_EQ_INT(tlsdec_client(t), 0, "by its CLIENT_TRAFFIC_SECRET_0");
	T_EQ_INT(tlsdec_suite(t), 0x1301, "AES-128-GCM");
	T_EQ_MEM(g.b, g.n, "OPTIONS sip:bob@example.com SIP/2.0\r\n\r\nINFO",
	    strlen(opt) + 4, "both records, in order");
	tlsdec_stats(t, &st);
	T_EQ_INT(st.hunted, 1, "counted");
	tlsdec_free(t);
	/* past the searched record numbers: not found */
	t = tlsdec_new(k);
	n0 = seal13(opt, 70000, rec[0]);
	T_OK(tlsdec_feed(t, 0, rec[0], n0, got_app, &g) == 0, "record 70000");
	T_EQ_INT(tlsdec_state(t), TLSDEC_NO_HELLO, "beyond the search");
	tlsdec_free(t);
	tlskeys_free(k);
}

static void
test_keylog(void)
{
	struct tlskeys *k = tlskeys_new();
	const struct tlskeys_entry *e;
	uint8_t cr[32];
	char why[160] = "";
	char ms[97];

	memset(ms, 'a', 96);
	ms[96] = '\0';
	T_OK(k != NULL, "new");
	T_OK(tlskeys_add_text(k, slice_cstr("\n# c\nCLIENT_RANDOM "
	    CRANDOM " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
	    "CLIENT_TRAFFIC_SECRET_0 " CRANDOM " " CTS0 "\n"), why,
	    sizeof(why)) == 0, "CRLF lines, comments, blank lines");
	unhex(CRANDOM, cr, 32);
	e = tlskeys_find(k, cr);
	T_OK(e != NULL && e->len[TLSKEYS_MASTER] == 48 &&
	    e->secret[TLSKEYS_MASTER][47] == 0xaa &&
	    e->len[TLSKEYS_CTS0] == 32, "two lines of one random merged");
	T_EQ_INT(tlskeys_count(k), 1, "one session");
	T_EQ_INT(tlskeys_add_text(k, slice_cstr("CLIENT_RANDOM 1234 ab\n"),
	    why, sizeof(why)), E_SYNTAX, "a short random");
	T_EQ_STR(why, "line 1: CLIENT_RANDOM: the client random is not 64 hex "
	    "digits", "says the line");
	T_EQ_INT(tlskeys_add_text(k, slice_cstr("\n\nCLIENT_RANDOM " CRANDOM
	    " abcd\n"), why, sizeof(why)), E_SYNTAX, "a short master secret");
	T_EQ_STR(why, "line 3: CLIENT_RANDOM: the secret is not 96 hex digits",
	    "line 3");
	T_EQ_INT(tlskeys_add_text(k, slice_cstr("SERVER_TRAFFIC_SECRET_0 "
	    CRANDOM "\n"), why, sizeof(why)), E_SYNTAX, "a missing secret");
	T_EQ_INT(tlskeys_add_text(k, slice_cstr("CLIENT_TRAFFIC_SECRET_0 "
	    CRANDOM " " CTS0 " x\n"), why, sizeof(why)), E_SYNTAX,
	    "a field too many");
	T_EQ_INT(tlskeys_add_text(k, slice_cstr("CLIENT_TRAFFIC_SECRET_0 "
	    CRANDOM " " CTS0 "zz\n"), why, sizeof(why)), E_SYNTAX,
	    "not hex");
	T_OK(tlskeys_add_text(k, slice_cstr("RSA abcd 1234\n"
	    "CLIENT_EARLY_TRAFFIC_SECRET x y\n"), why, sizeof(why)) == 0,
	    "other labels skipped");
	T_EQ_INT(tlskeys_skipped(k), 2, "and counted");
	cr[0] ^= 1;
	T_OK(tlskeys_find(k, cr) == NULL, "an unknown random");
	tlskeys_free(k);
	tlskeys_free(NULL);
}

/* --- reassembly --- */

struct stream {
	uint8_t b[1 << 16];
	size_t n;
	uint64_t gaps;
};

static void
take(void *arg, const uint8_t *p, size_t len)
{
	struct stream *s = arg;

	if (p == NULL) {
		s->gaps += len;
		return;
	}
	if (s->n + len <= sizeof(s->b)) {
		memcpy(s->b + s->n, p, len);
		s->n += len;
	}
}

static void
test_tcpre(void)
{
	static uint8_t data[20000];
	static struct stream out;
	struct { uint32_t off, len; } seg[400];
	const uint32_t isn = 0xfffff000u;	/* wraps inside the stream */
	struct tcpre_stats st;
	struct tcpre *r;
	size_t i, n = 0, j;
	uint32_t off = 0, len;

	srand(7);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)rand();
	while (off < sizeof(data)) {	/* segments, some overlapping */
		len = 1 + (uint32_t)rand() % 700;
		if (off + len > sizeof(data))
			len = (uint32_t)sizeof(data) - off;
		seg[n].off = off;
		seg[n++].len = len;
		if (rand() % 4 == 0 && n < 399) {	/* a retransmission */
			seg[n].off = off > 100 ? off - 100 : 0;
			seg[n].len = len + (off > 100 ? 100 : off);
			n++;
		}
		off += len;
	}
	for (i = n - 1; i > 0; i--) {	/* shuffled, within 8 places */
		j = i - (size_t)rand() % (i < 8 ? i + 1 : 8);
		struct { uint32_t off, len; } t = { seg[i].off, seg[i].len };
		seg[i] = seg[j];
		seg[j].off = t.off;
		seg[j].len = t.len;
	}
	r = tcpre_new(1u << 20);
	T_OK(tcpre_add(r, isn, 1, SLICE_NULL, take, &out) == 0, "SYN");
	for (i = 0; i < n; i++)
		if (tcpre_add(r, isn + 1 + seg[i].off, 0, slice_make(data +
		    seg[i].off, seg[i].len), take, &out) != 0)
			break;
	T_EQ_INT(i, n, "every segment taken");
	tcpre_flush(r, take, &out);
	T_EQ_MEM(out.b, out.n, data, sizeof(data),
	    "shuffled, duplicated, overlapping: the stream once, in order");
	tcpre_stats(r, &st);
	T_EQ_INT(st.gaps, 0, "no gap");
	T_OK(st.dup > 0, "retransmitted bytes counted");
	tcpre_free(r);

	/* a capture that starts mid-stream, a lost segment, a small cap */
	memset(&out, 0, sizeof(out));
	r = tcpre_new(1000);
	T_OK(tcpre_add(r, 5000, 0, slice_make(data, 100), take, &out) == 0,
	    "mid-stream start");
	/* 100..200 lost; 200.. arrive: held up to the cap, then given up */
	for (i = 2; i < 30; i++)
		if (tcpre_add(r, 5000 + 100 * (uint32_t)i, 0, slice_make(data +
		    100 * i, 100), take, &out) != 0)
			break;
	T_EQ_INT(i, 30, "segments after a loss");
	T_EQ_INT(out.gaps, 100, "the lost 100 bytes are a gap");
	T_OK(out.n > 100 && tcpre_held(r) <= 1000, "held within the cap");
	tcpre_flush(r, take, &out);
	T_EQ_INT(out.n, 2900, "everything else delivered");
	T_EQ_MEM(out.b + 100, 2800, data + 200, 2800, "after the gap, in order");
	tcpre_free(r);
	tcpre_free(NULL);
}

/* --- WebSocket --- */

static void
ws_msg(void *arg, const uint8_t *p, size_t len)
{
	struct stream *s = arg;

	take(s, p, len);
	take(s, (const uint8_t *)"|", 1);
}

static void
test_wsread(void)
{
	static struct stream out;
	/* RFC 6455 5.7: a masked "Hello", an unmasked fragmented "Hel" "lo",
	 * a ping; then a 200-byte message with a 16-bit length */
	static const uint8_t hello_masked[] = { 0x81, 0x85, 0x37, 0xfa, 0x21,
	    0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	static const uint8_t frag[] = { 0x01, 0x03, 0x48, 0x65, 0x6c, 0x89,
	    0x00, 0x80, 0x02, 0x6c, 0x6f };
	const char *up = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: "
	    "websocket\r\n\r\n";
	uint8_t big[4 + 200];
	struct wsread *w = wsread_new(1000);
	size_t i;

	T_OK(wsread_looks_like(slice_cstr(up)), "a 101 starts a WebSocket");
	T_OK(wsread_looks_like(slice_cstr("GET /ws HTTP/1.1\r\n")),
	    "so does an upgrade request");
	T_OK(!wsread_looks_like(slice_cstr("INVITE sip:a SIP/2.0\r\n")),
	    "SIP does not");
	T_OK(wsread_feed(w, (const uint8_t *)up, strlen(up), ws_msg, &out) ==
	    0, "the header block");
	for (i = 0; i < sizeof(hello_masked); i++)	/* byte by byte */
		if (wsread_feed(w, hello_masked + i, 1, ws_msg, &out) != 0)
			break;
	T_EQ_INT(i, sizeof(hello_masked), "a masked frame byte by byte");
	T_OK(wsread_feed(w, frag, sizeof(frag), ws_msg, &out) == 0,
	    "fragments around a ping");
	big[0] = 0x82;
	big[1] = 126;
	big[2] = 0;
	big[3] = 200;
	memset(big + 4, 'x', 200);
	T_OK(wsread_feed(w, big, sizeof(big), ws_msg, &out) == 0,
	    "a 16-bit length");
	T_EQ_MEM(out.b, 12, "Hello|Hello|", 12, "unmasked, joined");
	T_EQ_INT(out.n, 12 + 201, "and the long one");
	T_EQ_INT(wsread_frames(w), 5, "five frames");
	T_EQ_INT(wsread_control(w), 1, "one of them control");
	big[0] = 0xc1;	/* RSV1: permessage-deflate */
	big[1] = 1;
	T_EQ_INT(wsread_feed(w, big, 3, ws_msg, &out), E_SYNTAX,
	    "a compressed frame is an error");
	wsread_free(w);
	w = wsread_new(100);
	T_OK(wsread_feed(w, (const uint8_t *)up, strlen(up), ws_msg, &out) ==
	    0, "header");
	big[0] = 0x81;
	big[1] = 126;
	T_EQ_INT(wsread_feed(w, big, 4, ws_msg, &out), E_BIG,
	    "a frame over the cap");
	wsread_free(w);
	wsread_free(NULL);
}

int
main(void)
{
	test_hkdf_label();
	test_prf12();
	test_open13();
	test_decoder13();
	test_hunt();
	test_keylog();
	test_tcpre();
	test_wsread();
	return t_done();
}
