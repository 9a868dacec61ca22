/* test_pcapdec.c - unit tests for pcapdec: captures in, plaintext out. */
/*
 * Each case writes a capture of IPv4/UDP frames to a temporary directory,
 * with SRTP/SRTCP protected from known plaintext by lib/rtpsec or by stock
 * libsrtp2 (the independent reference, tests/helpers/srtp_ref.h), runs a
 * pcapdec over it and reads the output pcap back, comparing each frame's
 * UDP payload with what was protected (or, where nothing may decrypt,
 * with what went in).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/buf.h"
#include "cap/cap.h"
#include "cap/pcapdec.h"
#include "media/keyline.h"
#include "media/rtpsec.h"
#include "media/suite.h"
#include "t.h"
#include "../helpers/srtp_ref.h"

#define SUITE "AES_CM_128_HMAC_SHA1_80"
#define NPKT_MAX 64
#define PKT_SZ 512

static char dir[64];
static char in_path[128], out_path[128];

/* Two master keys (16 key + 14 salt bytes), told apart by their bytes. */
static uint8_t key_a[30], key_b[30];

/* The frames of a capture: what went on the wire, what must come out. */
struct capt {
	struct cap_writer *w;
	uint32_t n;
	uint8_t plain[NPKT_MAX][PKT_SZ];
	size_t plen[NPKT_MAX];
	uint8_t wire[NPKT_MAX][PKT_SZ];
	size_t wlen[NPKT_MAX];
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

static void
capt_open(struct capt *c)
{
	char why[256];

	memset(c, 0, sizeof(*c));
	c->w = cap_writer_open(in_path, CAP_DLT_EN10MB, 65535, why,
	    sizeof(why));
	if (c->w == NULL) {
		printf("Bail out! %s: %s\n", in_path, why);
		exit(1);
	}
}

static void
capt_close(struct capt *c)
{
	if (cap_writer_close(c->w) != 0) {
		printf("Bail out! writing %s\n", in_path);
		exit(1);
	}
}

/*
 * One Ethernet/IPv4/UDP frame from 10.0.0.`s`:`sport` to 10.0.0.`d`:`dport`
 * carrying `pl` (UDP checksum 0: none, as IPv4 allows). `plain` is what
 * the payload must be after decryption (NULL: the same as `pl`).
 */
static void
capt_udp(struct capt *c, int s, uint16_t sport, int d, uint16_t dport,
    const uint8_t *pl, size_t len, const uint8_t *plain, size_t plainlen)
{
	uint8_t f[14 + 20 + 8 + PKT_SZ];
	struct cap_frame fr;
	size_t tl = 20 + 8 + len;

	memset(f, 0, 42);
	f[12] = 0x08;			/* IPv4 */
	f[14] = 0x45;
	wr16(f + 16, (unsigned)tl);
	wr16(f + 18, c->n + 1);		/* IP id */
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
	memcpy(c->wire[c->n], pl, len);
	c->wlen[c->n] = len;
	if (plain == NULL) {
		plain = pl;
		plainlen = len;
	}
	memcpy(c->plain[c->n], plain, plainlen);
	c->plen[c->n] = plainlen;
	c->n++;
	if (cap_write(c->w, &fr) != 0) {
		printf("Bail out! cap_write\n");
		exit(1);
	}
}

/* The Internet checksum of the TCP segment `seg` (`len` bytes) from
 * 10.0.0.`s` to 10.0.0.`d`, computed here on its own. */
static uint16_t
tcp_sum(int s, int d, const uint8_t *seg, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	sum += 0x0a00 + 0x0000 + (unsigned)s;	/* 10.0.0.s */
	sum += 0x0a00 + (unsigned)d;
	sum += 6 + (uint32_t)len;
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(seg[i] << 8 | seg[i + 1]);
	if (len & 1)
		sum += (uint32_t)seg[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * One Ethernet/IPv4/TCP frame (PSH ACK) from 10.0.0.`s`:`sport` to
 * 10.0.0.`d`:`dport`, sequence `seq`, carrying `pl`, its checksum right;
 * `plain` is what the payload must be in the output (NULL: `pl`).
 */
static void
capt_tcp(struct capt *c, int s, uint16_t sport, int d, uint16_t dport,
    uint32_t seq, const uint8_t *pl, size_t len, const uint8_t *plain)
{
	uint8_t f[14 + 20 + 20 + PKT_SZ * 2];
	struct cap_frame fr;
	size_t tl = 20 + 20 + len;

	memset(f, 0, 54);
	f[12] = 0x08;
	f[14] = 0x45;
	wr16(f + 16, (unsigned)tl);
	wr16(f + 18, c->n + 1);
	f[22] = 64;
	f[23] = 6;
	f[26] = 10; f[29] = (uint8_t)s;
	f[30] = 10; f[33] = (uint8_t)d;
	wr16(f + 34, sport);
	wr16(f + 36, dport);
	wr32(f + 38, seq);
	f[46] = 0x50;
	f[47] = 0x18;
	wr16(f + 48, 65535);
	memcpy(f + 54, pl, len);
	wr16(f + 50, tcp_sum(s, d, f + 34, 20 + len));
	memset(&fr, 0, sizeof(fr));
	fr.ts_sec = 1700000000;
	fr.caplen = fr.wirelen = (uint32_t)(54 + len);
	fr.dlt = CAP_DLT_EN10MB;
	fr.data = f;
	if (len > PKT_SZ) {
		printf("Bail out! capt_tcp: %zu bytes\n", len);
		exit(1);
	}
	memcpy(c->wire[c->n], pl, len);
	c->wlen[c->n] = len;
	memcpy(c->plain[c->n], plain != NULL ? plain : pl, len);
	c->plen[c->n] = len;
	c->n++;
	if (cap_write(c->w, &fr) != 0) {
		printf("Bail out! cap_write\n");
		exit(1);
	}
}

/* A sender: lib/rtpsec, or stock libsrtp2 as the reference. */
struct prot {
	struct rtpsec *r;
	struct srtp_ref ref;
	int libsrtp;
};

static void
prot_new(struct prot *pr, const uint8_t *key, int libsrtp)
{
	struct rtpsec_params p;
	int err = 0;

	memset(pr, 0, sizeof(*pr));
	memset(&p, 0, sizeof(p));
	p.suite = SUITE_AES_CM_128_HMAC_SHA1_80;
	p.key = key;
	p.key_len = 16;
	p.salt = key + 16;
	p.salt_len = 14;
	pr->libsrtp = libsrtp;
	if (libsrtp)
		err = srtp_ref_new(&pr->ref, &p, RTPSEC_PROTECT);
	else if ((pr->r = rtpsec_new(&p, RTPSEC_PROTECT, &err)) != NULL)
		err = 0;
	if (err != 0) {
		printf("Bail out! %s: %d\n", libsrtp ? "srtp_create" :
		    "rtpsec_new", err);
		exit(1);
	}
}

/* Protect `*len` bytes at `pkt` (room for PKT_SZ) in place. */
static void
prot_do(struct prot *pr, uint8_t *pkt, size_t *len, int rtcp)
{
	int e;

	if (pr->libsrtp)
		e = srtp_ref_protect(&pr->ref, pkt, len, rtcp);
	else if (rtcp)
		e = rtpsec_protect_rtcp(pr->r, pkt, len, PKT_SZ);
	else
		e = rtpsec_protect(pr->r, pkt, len, PKT_SZ);
	if (e != 0) {
		printf("Bail out! protect: %d\n", e);
		exit(1);
	}
}

static void
prot_free(struct prot *pr)
{
	if (pr->libsrtp)
		srtp_ref_free(&pr->ref);
	rtpsec_free(pr->r);
}

/* A PCMU RTP packet of `ssrc`, sequence `seq`, 160 bytes of payload. */
static size_t
mk_rtp(uint8_t *p, uint32_t ssrc, uint16_t seq)
{
	size_t i;

	p[0] = 0x80;
	p[1] = 0;
	wr16(p + 2, seq);
	wr32(p + 4, (uint32_t)seq * 160);
	wr32(p + 8, ssrc);
	for (i = 0; i < 160; i++)
		p[12 + i] = (uint8_t)(seq + i);
	return 12 + 160;
}

/* An RTCP sender report of `ssrc`, the `n`th. */
static size_t
mk_rtcp(uint8_t *p, uint32_t ssrc, uint32_t n)
{
	memset(p, 0, 28);
	p[0] = 0x80;
	p[1] = 200;
	wr16(p + 2, 6);
	wr32(p + 4, ssrc);
	wr32(p + 8, 0xe0000000u + n);
	wr32(p + 16, n * 8000);
	wr32(p + 20, n * 50);
	wr32(p + 24, n * 50 * 160);
	return 28;
}

/*
 * `count` SRTP packets of `ssrc` from 10.0.0.1:20000 to 10.0.0.2:30000,
 * protected with `key` (by libsrtp2 if `libsrtp`). `bad`: index of one
 * whose tag is broken (or -1); `dup`: index of one sent twice (or -1).
 * Frames that must not decrypt (all of them unless `decrypts`) are
 * expected unchanged.
 */
static void
capt_stream(struct capt *c, uint32_t ssrc, const uint8_t *key, int libsrtp,
    int count, int bad, int dup, int decrypts)
{
	struct prot r;
	uint8_t pl[PKT_SZ], en[PKT_SZ];
	size_t plen, elen;
	int i;

	prot_new(&r, key, libsrtp);
	for (i = 0; i < count; i++) {
		plen = mk_rtp(pl, ssrc, (uint16_t)(1000 + i));
		memcpy(en, pl, plen);
		elen = plen;
		prot_do(&r, en, &elen, 0);
		if (i == bad)
			en[elen - 1] ^= 1;
		if (decrypts && i != bad)
			capt_udp(c, 1, 20000, 2, 30000, en, elen, pl, plen);
		else
			capt_udp(c, 1, 20000, 2, 30000, en, elen, NULL, 0);
		if (i == dup)		/* a replay: stays as it was */
			capt_udp(c, 1, 20000, 2, 30000, en, elen, NULL, 0);
	}
	prot_free(&r);
}

/*
 * `count` packets of `ssrc` from 10.0.0.`s`:`sport` to 10.0.0.`d`:`dport`,
 * SRTP protected with `key` by lib/rtpsec (NULL: plain RTP, passed as it
 * is). `decrypts`: expected to come out as the plain RTP.
 */
static void
capt_flow(struct capt *c, int s, uint16_t sport, int d, uint16_t dport,
    uint32_t ssrc, const uint8_t *key, int count, int decrypts)
{
	struct prot r;
	uint8_t pl[PKT_SZ], en[PKT_SZ];
	size_t plen, elen;
	int i;

	if (key != NULL)
		prot_new(&r, key, 0);
	for (i = 0; i < count; i++) {
		plen = mk_rtp(pl, ssrc, (uint16_t)(7000 + i));
		memcpy(en, pl, plen);
		elen = plen;
		if (key != NULL)
			prot_do(&r, en, &elen, 0);
		capt_udp(c, s, sport, d, dport, en, elen, decrypts ? pl : NULL,
		    decrypts ? plen : 0);
	}
	if (key != NULL)
		prot_free(&r);
}

/* A key line: `sel` (selectors, may be ""), the suite, `key`. */
static void
key_line(char *out, size_t outsz, const char *sel, const uint8_t *key)
{
	char b64[64];

	if (b64_encode(key, 30, b64, sizeof(b64)) < 0) {
		printf("Bail out! b64_encode\n");
		exit(1);
	}
	snprintf(out, outsz, "%s%s%s inline:%s", sel, *sel ? " " : "", SUITE,
	    b64);
}

static int keep_sdp;		/* dec_new(): pcapdec_opts.keep_sdp */

static struct pcapdec *
dec_new(int no_sip)
{
	struct pcapdec_opts o;
	struct pcapdec *d;
	int err = 0;

	memset(&o, 0, sizeof(o));
	o.out_pcap = out_path;
	o.no_sip = no_sip;
	o.keep_sdp = keep_sdp;
	o.roc_max = 2;
	if ((d = pcapdec_new(&o, &err)) == NULL) {
		printf("Bail out! pcapdec_new: %d\n", err);
		exit(1);
	}
	return d;
}

static int
add_key_text(struct pcapdec *d, const char *sel, const uint8_t *key)
{
	char line[256], why[160] = "";
	int e;

	key_line(line, sizeof(line), sel, key);
	e = pcapdec_add_keys_text(d, slice_make((const uint8_t *)line,
	    strlen(line)), why, sizeof(why));
	if (e != 0)
		printf("# key line: %s\n", why);
	return e;
}

static int
run(struct pcapdec *d)
{
	char why[256] = "";
	int e;

	if ((e = pcapdec_run(d, in_path, why, sizeof(why))) != 0)
		printf("# run: %s\n", why);
	return e;
}

/* Number of output frames whose UDP payload is what `c` expects. */
static uint32_t
out_matches(const struct capt *c)
{
	struct cap_reader *r;
	struct cap_frame f;
	struct cap_pkt p;
	char why[256];
	uint32_t i = 0, good = 0;

	if ((r = cap_open(out_path, why, sizeof(why))) == NULL)
		return 0;
	while (i < c->n && cap_read(r, &f) == 1) {
		if (cap_decode(f.dlt, f.data, f.caplen, &p) == 0 &&
		    (p.kind == CAP_UDP || (p.kind == CAP_TCP &&
		    tcp_sum(f.data[29], f.data[33], f.data + p.l4_off,
		    p.ip_end - p.l4_off) == 0)) &&
		    p.payload.len == c->plen[i] &&
		    memcmp(p.payload.p, c->plain[i], c->plen[i]) == 0)
			good++;
		else
			printf("# frame %u differs\n", i + 1);
		i++;
	}
	if (cap_read(r, &f) != 0)
		good = 0;		/* more frames than went in */
	cap_close(r);
	return good;
}

/* The JSON report, in a static buffer. */
static const char *
json(const struct pcapdec *d)
{
	static char s[8192];
	struct buf *b = buf_new(65536);

	s[0] = '\0';
	if (b != NULL && pcapdec_report_json(d, b) == 0)
		snprintf(s, sizeof(s), "%.*s", (int)buf_len(b),
		    (const char *)buf_data(b));
	buf_free(b);
	return s;
}

/* --- cases --- */

static void
test_selectors(void)
{
	struct capt c;
	struct pcapdec *d;
	struct pcapdec_totals t;

	/* two streams, each with its key (one sent by lib/rtpsec, one by
	 * libsrtp2); a key's selectors pick its stream */
	capt_open(&c);
	capt_stream(&c, 0x11111111, key_a, 0, 20, -1, -1, 1);
	capt_stream(&c, 0x22222222, key_b, 1, 20, -1, -1, 1);
	capt_close(&c);
	d = dec_new(0);
	T_EQ_INT(add_key_text(d, "ssrc=0x11111111 src=10.0.0.1:20000 "
	    "dst=10.0.0.2:30000", key_a), 0, "selectors: key a added");
	T_EQ_INT(add_key_text(d, "ssrc=0x22222222", key_b), 0,
	    "selectors: key b added");
	T_EQ_INT(run(d), 0, "selectors: run");
	T_EQ_INT(out_matches(&c), 40,
	    "selectors: every frame decrypts to the exact RTP it came from");
	pcapdec_totals(d, &t);
	T_EQ_INT(t.frames, 40, "selectors: 40 frames read");
	T_EQ_INT(t.written, 40, "selectors: 40 frames written");
	T_EQ_INT(t.streams, 2, "selectors: 2 streams");
	T_EQ_INT(t.keyed_streams, 2, "selectors: both keyed");
	T_EQ_INT(t.decrypted, 40, "selectors: 40 decrypted");
	T_EQ_INT(t.failed[PCAPDEC_AUTH], 0, "selectors: no auth failure");
	T_EQ_INT(t.streams_not_ok, 0, "selectors: every stream ok");
	pcapdec_free(d);

	/* a selector that names another stream keeps the key off this one */
	d = dec_new(0);
	T_EQ_INT(add_key_text(d, "ssrc=0x33333333", key_a), 0,
	    "other ssrc: key added");
	T_EQ_INT(run(d), 0, "other ssrc: run");
	pcapdec_totals(d, &t);
	T_EQ_INT(t.decrypted, 0, "other ssrc: nothing decrypted");
	T_EQ_INT(t.failed[PCAPDEC_NOKEY], 40, "other ssrc: 40 without a key");
	T_EQ_INT(t.keyed_streams, 0, "other ssrc: no stream keyed");
	pcapdec_free(d);
}

static void
test_wrong_key(void)
{
	struct capt c;
	struct pcapdec *d;
	struct pcapdec_totals t;

	capt_open(&c);
	capt_stream(&c, 0x11111111, key_a, 0, 10, -1, -1, 0);
	capt_close(&c);
	d = dec_new(0);
	T_EQ_INT(add_key_text(d, "ssrc=0x11111111", key_b), 0,
	    "wrong key: added");
	T_EQ_INT(run(d), 0, "wrong key: run");
	T_EQ_INT(out_matches(&c), 10,
	    "wrong key: every frame written as it was read");
	pcapdec_totals(d, &t);
	T_EQ_INT(t.decrypted, 0, "wrong key: nothing decrypted");
	T_EQ_INT(t.failed[PCAPDEC_AUTH], 10, "wrong key: 10 auth failures");
	T_EQ_INT(t.failed[PCAPDEC_NOKEY], 0, "wrong key: none without a key");
	T_EQ_INT(t.keyed_streams, 1, "wrong key: the stream is keyed");
	T_EQ_INT(t.streams_without_plaintext, 1,
	    "wrong key: a stream without plaintext");
	T_OK(strstr(json(d), "\"status\": \"failed\"") != NULL,
	    "wrong key: reported failed");
	pcapdec_free(d);
}

/*
 * A SIP INVITE from 10.0.0.1:5060 whose SDP offers `key` for
 * 10.0.0.1:20000. `plain`: what the output must hold, its SDP made plain
 * RTP (RTP/AVP, no a=crypto, Content-Length fixed), else as it went in.
 */
static void
capt_invite(struct capt *c, const uint8_t *key, int plain)
{
	char sdp[2][512], sip[2][1024], b64[64];
	int n, m[2], i;

	if (b64_encode(key, 30, b64, sizeof(b64)) < 0)
		return;
	for (i = 0; i < 2; i++) {
		n = snprintf(sdp[i], sizeof(sdp[i]), "v=0\r\n"
		    "o=- 1 1 IN IP4 10.0.0.1\r\n"
		    "s=-\r\n"
		    "c=IN IP4 10.0.0.1\r\n"
		    "t=0 0\r\n"
		    "m=audio 20000 RTP/%s 0\r\n", i ? "AVP" : "SAVP");
		if (i == 0)
			n += snprintf(sdp[i] + n, sizeof(sdp[i]) - (size_t)n,
			    "a=crypto:1 %s inline:%s\r\n", SUITE, b64);
		m[i] = snprintf(sip[i], sizeof(sip[i]),
		    "INVITE sip:b@10.0.0.2 SIP/2.0\r\n"
		    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1\r\n"
		    "From: <sip:a@10.0.0.1>;tag=1\r\n"
		    "To: <sip:b@10.0.0.2>\r\n"
		    "Call-ID: call-1@10.0.0.1\r\n"
		    "CSeq: 1 INVITE\r\n"
		    "Contact: <sip:a@10.0.0.1:5060>\r\n"
		    "Max-Forwards: 70\r\n"
		    "Content-Type: application/sdp\r\n"
		    "Content-Length: %d\r\n\r\n%s", n, sdp[i]);
	}
	capt_udp(c, 1, 5060, 2, 5060, (const uint8_t *)sip[0], (size_t)m[0],
	    (const uint8_t *)sip[plain], (size_t)m[plain]);
}

static void
test_sip(void)
{
	struct capt c;
	struct pcapdec *d;
	struct pcapdec_totals t;

	capt_open(&c);
	capt_invite(&c, key_a, 1);
	capt_stream(&c, 0x11111111, key_a, 1, 20, -1, -1, 1);
	capt_close(&c);
	d = dec_new(0);
	T_EQ_INT(run(d), 0, "sip: run");
	T_EQ_INT(out_matches(&c), 21,
	    "sip: the SDP's key decrypts the stream, the SDP says RTP/AVP");
	pcapdec_totals(d, &t);
	T_EQ_INT(t.sip_keys, 1, "sip: one key learned from SIP");
	T_EQ_INT(t.keys, 1, "sip: one key in all");
	T_EQ_INT(t.decrypted, 20, "sip: 20 decrypted");
	T_OK(strstr(json(d), "\"key_from\": \"sip\"") != NULL,
	    "sip: the report says the key came from SIP");
	pcapdec_free(d);

	/* keep_sdp: the SIP as it was */
	capt_open(&c);
	capt_invite(&c, key_a, 0);
	capt_stream(&c, 0x11111111, key_a, 1, 20, -1, -1, 1);
	capt_close(&c);
	keep_sdp = 1;
	d = dec_new(0);
	keep_sdp = 0;
	T_EQ_INT(run(d), 0, "keep_sdp: run");
	T_EQ_INT(out_matches(&c), 21,
	    "keep_sdp: the stream decrypts, SIP passes as it was");
	pcapdec_free(d);

	d = dec_new(1);
	T_EQ_INT(run(d), 0, "no-sip: run");
	pcapdec_totals(d, &t);
	T_EQ_INT(t.sip_keys, 0, "no-sip: no key learned");
	T_EQ_INT(t.decrypted, 0, "no-sip: nothing decrypted");
	T_EQ_INT(t.failed[PCAPDEC_NOKEY], 20, "no-sip: 20 without a key");
	pcapdec_free(d);
}

/* An SDP offering `key` for `addr`:`port` (RTP/SAVP), or (`plain`) the
 * same made plain RTP. */
static int
mk_sdp(char *b, size_t n, const char *addr, unsigned port, const uint8_t *key,
    int plain)
{
	char b64[64];

	if (b64_encode(key, 30, b64, sizeof(b64)) < 0)
		return 0;
	if (plain)
		return snprintf(b, n, "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\n"
		    "c=IN IP4 %s\r\nt=0 0\r\nm=audio %u RTP/AVP 0\r\n"
		    "a=rtpmap:0 PCMU/8000\r\n", addr, addr, port);
	return snprintf(b, n, "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\n"
	    "c=IN IP4 %s\r\nt=0 0\r\nm=audio %u RTP/SAVP 0\r\n"
	    "a=rtpmap:0 PCMU/8000\r\na=crypto:1 %s inline:%s\r\n", addr, addr,
	    port, SUITE, b64);
}

/*
 * A SIP INVITE (`resp` 0) from 10.0.0.`s` to 10.0.0.`d` or its 200 OK,
 * call `cid`, whose SDP offers `key` for `addr`:`port`.
 */
static void
capt_sip_sdp(struct capt *c, int resp, int s, int d, const char *cid,
    const char *addr, unsigned port, const uint8_t *key)
{
	char sdp[512], sip[2][1024];
	int n, m[2], i;

	for (i = 0; i < 2; i++) {	/* as captured, as written */
		n = mk_sdp(sdp, sizeof(sdp), addr, port, key, i);
		m[i] = snprintf(sip[i], sizeof(sip[i]), "%s\r\n"
		    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1\r\n"
		    "From: <sip:a@10.0.0.1>;tag=1\r\n"
		    "To: <sip:b@10.0.0.2>%s\r\n"
		    "Call-ID: %s\r\n"
		    "CSeq: 1 INVITE\r\n"
		    "Contact: <sip:x@10.0.0.%d:5060>\r\n"
		    "Content-Type: application/sdp\r\n"
		    "Content-Length: %d\r\n\r\n%s",
		    resp ? "SIP/2.0 200 OK" : "INVITE sip:b@10.0.0.2 SIP/2.0",
		    resp ? ";tag=2" : "", cid, s, n, sdp);
	}
	capt_udp(c, s, 5060, d, 5060, (const uint8_t *)sip[0], (size_t)m[0],
	    (const uint8_t *)sip[1], (size_t)m[1]);
}

/* The problem lines of `d`, in a static buffer. */
static const char *
problems(const struct pcapdec *d)
{
	static char s[4096];
	struct buf *b = buf_new(65536);

	s[0] = '\0';
	if (b != NULL && pcapdec_report_problems(d, b) == 0)
		snprintf(s, sizeof(s), "%.*s", (int)buf_len(b),
		    (const char *)buf_data(b));
	buf_free(b);
	return s;
}

static void
test_nat(void)
{
	struct capt c;
	struct pcapdec *d;
	struct pcapdec_totals t;
	uint8_t key_c[30];
	char sdp[512];
	const char *j;
	int n, sip;

	memset(key_c, 0x5a, sizeof(key_c));
	/*
	 * The phone (10.0.0.1) is behind NAT: its SDP names 192.168.1.5:4000,
	 * it sends from 10.0.0.1:20000 to the far end's 10.0.0.2:30000,
	 * which its SDP names rightly. A third flow, plain RTP of a call no
	 * SDP describes, must not be blamed.
	 */
	for (sip = 1; sip >= 0; sip--) {
		capt_open(&c);
		if (sip) {
			capt_sip_sdp(&c, 0, 1, 2, "nat-1", "192.168.1.5", 4000,
			    key_a);
			capt_sip_sdp(&c, 1, 2, 1, "nat-1", "10.0.0.2", 30000,
			    key_b);
		}
		capt_flow(&c, 1, 20000, 2, 30000, 0x11111111, key_a, 10, 1);
		capt_flow(&c, 2, 30000, 1, 20000, 0x22222222, key_b, 10, 1);
		capt_flow(&c, 3, 7000, 4, 8000, 0x33333333, NULL, 10, 0);
		capt_close(&c);
		d = dec_new(!sip);
		if (!sip) {
			n = mk_sdp(sdp, sizeof(sdp), "192.168.1.5", 4000,
			    key_a, 0);
			T_EQ_INT(pcapdec_add_sdp(d, slice_make((const uint8_t *)
			    sdp, (size_t)n), NULL, 0), 0, "nat --sdp: offer");
			n = mk_sdp(sdp, sizeof(sdp), "10.0.0.2", 30000, key_b,
			    0);
			T_EQ_INT(pcapdec_add_sdp(d, slice_make((const uint8_t *)
			    sdp, (size_t)n), NULL, 0), 0, "nat --sdp: answer");
		}
		T_EQ_INT(run(d), 0, "nat %s: run", sip ? "sip" : "--sdp");
		T_EQ_INT(out_matches(&c), c.n, "nat %s: both directions "
		    "decrypt exactly, the plain flow passes",
		    sip ? "sip" : "--sdp");
		pcapdec_totals(d, &t);
		T_EQ_INT(t.decrypted, 20, "nat %s: 20 decrypted",
		    sip ? "sip" : "--sdp");
		T_EQ_INT(t.keyed_streams, 2, "nat %s: 2 keyed streams",
		    sip ? "sip" : "--sdp");
		T_EQ_INT(t.streams_not_ok, 0, "nat %s: every keyed stream ok",
		    sip ? "sip" : "--sdp");
		T_EQ_INT(t.auth_streams, 1, "nat %s: one keyed by "
		    "authentication", sip ? "sip" : "--sdp");
		T_EQ_INT(t.failed[PCAPDEC_NOKEY], 10, "nat %s: the plain flow "
		    "has no key", sip ? "sip" : "--sdp");
		j = json(d);
		T_OK(strstr(j, sip ? "\"ssrc\": \"0x11111111\", \"kind\": "
		    "\"rtp\", \"src\": \"10.0.0.1:20000\", \"dst\": "
		    "\"10.0.0.2:30000\", \"suite\": \"" SUITE "\", "
		    "\"key_from\": \"sip\", \"keyed_by\": \"authentication\""
		    : "\"key_from\": \"sdp\", \"keyed_by\": "
		    "\"authentication\"") != NULL,
		    "nat %s: the phone's stream keyed by authentication",
		    sip ? "sip" : "--sdp");
		T_OK(strstr(j, sip ? "\"key_from\": \"sip\", \"keyed_by\": "
		    "\"address\"" : "\"key_from\": \"sdp\", \"keyed_by\": "
		    "\"address\"") != NULL, "nat %s: the far end's by address",
		    sip ? "sip" : "--sdp");
		T_OK(strstr(j, "\"key_from\": \"none\", \"keyed_by\": null, "
		    "\"status\": \"no-key\"") != NULL,
		    "nat %s: the plain flow: no key", sip ? "sip" : "--sdp");
		pcapdec_free(d);
	}

	/* the phone's SDP has a key it does not use: its stream, which the
	 * far end's SDP names, failed; the plain flow still has no key */
	capt_open(&c);
	capt_sip_sdp(&c, 0, 1, 2, "nat-2", "192.168.1.5", 4000, key_c);
	capt_sip_sdp(&c, 1, 2, 1, "nat-2", "10.0.0.2", 30000, key_b);
	capt_flow(&c, 1, 20000, 2, 30000, 0x11111111, key_a, 10, 0);
	capt_flow(&c, 2, 30000, 1, 20000, 0x22222222, key_b, 10, 1);
	capt_flow(&c, 3, 7000, 4, 8000, 0x33333333, NULL, 10, 0);
	capt_close(&c);
	d = dec_new(0);
	T_EQ_INT(run(d), 0, "nat, wrong key: run");
	T_EQ_INT(out_matches(&c), c.n, "nat, wrong key: the far end's "
	    "decrypts, the rest passes as it was");
	pcapdec_totals(d, &t);
	T_EQ_INT(t.decrypted, 10, "nat, wrong key: 10 decrypted");
	T_EQ_INT(t.keyed_streams, 2, "nat, wrong key: the phone's stream "
	    "counts as keyed");
	T_EQ_INT(t.streams_not_ok, 1, "nat, wrong key: and is not ok");
	T_EQ_INT(t.streams_without_plaintext, 1,
	    "nat, wrong key: without plaintext");
	T_OK(strstr(problems(d), "0x11111111 rtp 10.0.0.1:20000 -> "
	    "10.0.0.2:30000: failed, 0 of 10 decrypted (no-key 2, auth 8): "
	    "no SDP names its source") != NULL &&
	    strstr(problems(d), "tried by authentication, none fits") != NULL,
	    "nat, wrong key: the problem line names it");
	T_OK(strstr(problems(d), "0x33333333") == NULL,
	    "nat, wrong key: the plain flow is not a problem");
	pcapdec_free(d);
}

/*
 * SIP over TCP whose segment holds the whole message: its SDP is made
 * plain in place, the segment keeping its length (a padding header), its
 * checksum fixed; a message split across two segments stays as it was.
 */
static void
test_sip_tcp(void)
{
	static const char pad[] = "X-Sbckit-Pad: ";
	struct capt c;
	struct pcapdec *d;
	struct pcapdec_totals t;
	char sdp[512], psdp[512], msg[1024], want[1024], hdr[512];
	int n, pn, m, w;

	n = mk_sdp(sdp, sizeof(sdp), "10.0.0.1", 20000, key_a, 0);
	pn = mk_sdp(psdp, sizeof(psdp), "10.0.0.1", 20000, key_a, 1);
	snprintf(hdr, sizeof(hdr), "INVITE sip:b@10.0.0.2 SIP/2.0\r\n"
	    "Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-1\r\n"
	    "From: <sip:a@10.0.0.1>;tag=1\r\nTo: <sip:b@10.0.0.2>\r\n"
	    "Call-ID: tcp-1\r\nCSeq: 1 INVITE\r\n"
	    "Content-Type: application/sdp\r\n");
	m = snprintf(msg, sizeof(msg), "%sContent-Length: %d\r\n\r\n%s", hdr,
	    n, sdp);
	/* the same headers, Content-Length fixed, a padding header */
	w = snprintf(want, sizeof(want), "%sContent-Length: %d\r\n%s", hdr,
	    pn, pad);
	while (w + 2 + 2 + pn < m)
		want[w++] = 'x';
	w += snprintf(want + w, sizeof(want) - (size_t)w, "\r\n\r\n%s", psdp);
	T_EQ_INT(w, m, "sip tcp: the expected message keeps the length");

	capt_open(&c);
	capt_tcp(&c, 1, 40000, 2, 5060, 1000, (const uint8_t *)msg, (size_t)m,
	    (const uint8_t *)want);
	/* split in two: left alone */
	capt_tcp(&c, 1, 40001, 2, 5060, 5000, (const uint8_t *)msg, 100, NULL);
	capt_tcp(&c, 1, 40001, 2, 5060, 5100, (const uint8_t *)msg + 100,
	    (size_t)m - 100, NULL);
	capt_stream(&c, 0x11111111, key_a, 0, 5, -1, -1, 1);
	capt_close(&c);
	d = dec_new(0);
	T_EQ_INT(run(d), 0, "sip tcp: run");
	T_EQ_INT(out_matches(&c), c.n, "sip tcp: the whole message made plain "
	    "and padded, checksum right; the split one as it was");
	pcapdec_totals(d, &t);
	T_EQ_INT(t.decrypted, 5, "sip tcp: its key decrypts the stream");
	pcapdec_free(d);
}

/*
 * A DTLS-SRTP offer (UDP/TLS/RTP/SAVPF) becomes RTP/AVPF without its DTLS
 * attributes; a plain RTP one and a non-SDP body are left alone.
 */
static void
test_sip_dtls(void)
{
#define fmt "INVITE sip:b@10.0.0.2 SIP/2.0\r\n" \
	    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-2\r\n" \
	    "From: <sip:a@10.0.0.1>;tag=1\r\nTo: <sip:b@10.0.0.2>\r\n" \
	    "Call-ID: dtls-1\r\nCSeq: 1 INVITE\r\n" \
	    "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n%s"
	static const char *dtls = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n"
	    "s=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
	    "a=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:"
	    "67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\r\n"
	    "m=audio 20000 UDP/TLS/RTP/SAVPF 0\r\na=setup:actpass\r\n"
	    "a=rtpmap:0 PCMU/8000\r\n";
	static const char *plain = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n"
	    "s=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
	    "m=audio 20000 RTP/AVPF 0\r\n"
	    "a=rtpmap:0 PCMU/8000\r\n";
	struct capt c;
	struct pcapdec *d;
	char in[1024], want[1024];
	int n, w;

	capt_open(&c);
	n = snprintf(in, sizeof(in), fmt, "application/sdp", strlen(dtls),
	    dtls);
	w = snprintf(want, sizeof(want), fmt, "application/sdp",
	    strlen(plain), plain);
	capt_udp(&c, 1, 5060, 2, 5060, (const uint8_t *)in, (size_t)n,
	    (const uint8_t *)want, (size_t)w);
	/* already plain: as it was */
	n = snprintf(in, sizeof(in), fmt, "application/sdp", strlen(plain),
	    plain);
	capt_udp(&c, 1, 5060, 2, 5060, (const uint8_t *)in, (size_t)n, NULL,
	    0);
	/* not SDP: as it was */
	n = snprintf(in, sizeof(in), fmt, "text/plain", strlen(dtls), dtls);
	capt_udp(&c, 1, 5060, 2, 5060, (const uint8_t *)in, (size_t)n, NULL,
	    0);
	capt_close(&c);
	d = dec_new(0);
	T_EQ_INT(run(d), 0, "sip dtls: run");
	T_EQ_INT(out_matches(&c), 3, "sip dtls: UDP/TLS/RTP/SAVPF made "
	    "RTP/AVPF, no fingerprint or setup; plain SDP and text as they "
	    "were");
	pcapdec_free(d);
#undef fmt
}

static void
test_dir(void)
{
	struct capt c;
	struct pcapdec *d;
	struct pcapdec_totals t;

	/* the key names the peer as its SDP gave it; it sent from
	 * elsewhere (NAT) */
	capt_open(&c);
	capt_stream(&c, 0x11111111, key_a, 0, 10, -1, -1, 1);
	capt_close(&c);
	d = dec_new(0);
	T_EQ_INT(add_key_text(d, "dir=in src=192.0.2.9:4000 "
	    "dst=10.0.0.2:30000", key_a), 0, "dir=in: added");
	T_EQ_INT(run(d), 0, "dir=in: run");
	T_EQ_INT(out_matches(&c), 10,
	    "dir=in: a peer address that misses is a hint, "
	    "authentication decides");
	pcapdec_totals(d, &t);
	T_EQ_INT(t.decrypted, 10, "dir=in: 10 decrypted");
	pcapdec_free(d);

	/* without dir=, src= is a selector: it does not fit */
	d = dec_new(0);
	T_EQ_INT(add_key_text(d, "src=192.0.2.9:4000 dst=10.0.0.2:30000",
	    key_a), 0, "no dir: added");
	T_EQ_INT(run(d), 0, "no dir: run");
	pcapdec_totals(d, &t);
	T_EQ_INT(t.decrypted, 0, "no dir: nothing decrypted");
	T_EQ_INT(t.failed[PCAPDEC_NOKEY], 10, "no dir: 10 without a key");
	pcapdec_free(d);

	/* dir=out: the peer is dst; our side (src) must still fit */
	d = dec_new(0);
	T_EQ_INT(add_key_text(d, "dir=out src=10.0.0.9:20000 "
	    "dst=10.0.0.2:30000", key_a), 0, "dir=out, own side wrong: added");
	T_EQ_INT(run(d), 0, "dir=out, own side wrong: run");
	pcapdec_totals(d, &t);
	T_EQ_INT(t.decrypted, 0, "dir=out, own side wrong: nothing decrypted");
	pcapdec_free(d);

	/* a dir= key tried by authentication that fails is an auth failure */
	d = dec_new(0);
	T_EQ_INT(add_key_text(d, "dir=in src=192.0.2.9:4000", key_b), 0,
	    "dir=in, wrong key: added");
	T_EQ_INT(run(d), 0, "dir=in, wrong key: run");
	pcapdec_totals(d, &t);
	T_EQ_INT(t.decrypted, 0, "dir=in, wrong key: nothing decrypted");
	T_EQ_INT(t.failed[PCAPDEC_AUTH], 10,
	    "dir=in, wrong key: 10 auth failures");
	pcapdec_free(d);
}

static void
test_srtcp(void)
{
	struct capt c;
	struct pcapdec *d;
	struct pcapdec_totals t;
	struct prot r;
	uint8_t pl[PKT_SZ], en[PKT_SZ];
	size_t plen, elen;
	uint32_t i;

	prot_new(&r, key_a, 1);		/* libsrtp2's SRTCP */
	capt_open(&c);
	for (i = 0; i < 5; i++) {
		plen = mk_rtcp(pl, 0x11111111, i);
		memcpy(en, pl, plen);
		elen = plen;
		prot_do(&r, en, &elen, 1);
		/* RTCP on the port above the RTP port the key names */
		capt_udp(&c, 1, 20001, 2, 30001, en, elen, pl, plen);
	}
	capt_close(&c);
	prot_free(&r);
	d = dec_new(0);
	T_EQ_INT(add_key_text(d, "src=10.0.0.1:20000 dst=10.0.0.2:30000",
	    key_a), 0, "srtcp: added");
	T_EQ_INT(run(d), 0, "srtcp: run");
	T_EQ_INT(out_matches(&c), 5,
	    "srtcp: every report decrypts to the exact RTCP it came from");
	pcapdec_totals(d, &t);
	T_EQ_INT(t.decrypted, 5, "srtcp: 5 decrypted");
	T_OK(strstr(json(d), "\"kind\": \"rtcp\"") != NULL,
	    "srtcp: reported as an rtcp stream");
	pcapdec_free(d);
}

/* Split a report line into at most `max` blank-separated words. */
static size_t
words(const char *line, char w[][48], size_t max)
{
	size_t n = 0, l;

	while (*line != '\0' && *line != '\n' && n < max) {
		while (*line == ' ')
			line++;
		for (l = 0; line[l] != '\0' && line[l] != ' ' &&
		    line[l] != '\n'; l++)
			;
		if (l == 0)
			break;
		snprintf(w[n++], 48, "%.*s", (int)l, line);
		line += l;
	}
	return n;
}

static void
test_report(void)
{
	static const char *want[] = { "0x11111111", "rtp", "10.0.0.1:20000",
	    "10.0.0.2:30000", SUITE, "partial", "line", "10", "8", "0", "1", "1",
	    "0", "0", "2", "0" };
	struct capt c;
	struct pcapdec *d;
	struct buf *b;
	char w[20][48], line[512];
	const char *p, *nl;
	size_t n, i;
	int same;

	/* 10 packets: the 3rd broken, the 5th sent twice, the 8th lost */
	capt_open(&c);
	{
		struct prot r;
		uint8_t pl[PKT_SZ], en[PKT_SZ];
		size_t plen, elen;
		int k;

		prot_new(&r, key_a, 0);
		for (k = 0; k < 10; k++) {
			plen = mk_rtp(pl, 0x11111111, (uint16_t)(1000 + k));
			memcpy(en, pl, plen);
			elen = plen;
			prot_do(&r, en, &elen, 0);
			if (k == 7)
				continue;
			if (k == 2) {
				en[elen - 1] ^= 1;
				capt_udp(&c, 1, 20000, 2, 30000, en, elen,
				    NULL, 0);
				continue;
			}
			capt_udp(&c, 1, 20000, 2, 30000, en, elen, pl, plen);
			if (k == 4)
				capt_udp(&c, 1, 20000, 2, 30000, en, elen,
				    NULL, 0);
		}
		prot_free(&r);
	}
	capt_close(&c);
	d = dec_new(0);
	T_EQ_INT(add_key_text(d, "ssrc=0x11111111", key_a), 0,
	    "report: added");
	T_EQ_INT(run(d), 0, "report: run");
	T_EQ_INT(out_matches(&c), 10, "report: output frames as expected");

	b = buf_new(65536);
	T_EQ_INT(pcapdec_report_text(d, b), 0, "report: text");
	p = (const char *)buf_data(b);
	nl = memchr(p, '\n', buf_len(b));
	T_OK(nl != NULL && strncmp(p, "ssrc ", 5) == 0,
	    "report: text starts with its header line");
	line[0] = '\0';
	if (nl != NULL)
		snprintf(line, sizeof(line), "%.*s",
		    (int)(buf_len(b) - (size_t)(nl + 1 - p)), nl + 1);
	n = words(line, w, 20);
	same = n == sizeof(want) / sizeof(*want);
	for (i = 0; same && i < n; i++)
		if (strcmp(w[i], want[i]) != 0) {
			printf("# column %zu: got %s, want %s\n", i + 1, w[i],
			    want[i]);
			same = 0;
		}
	T_OK(same, "report: the stream's line: 10 packets, 8 decrypted, "
	    "auth 1 replay 1, 2 lost, roc 0");
	T_OK(strchr(line, '\n') != NULL &&
	    strchr(line, '\n')[1] == '\0', "report: one line a stream");

	buf_free(b);
	b = buf_new(65536);
	T_EQ_INT(pcapdec_report_problems(d, b), 0, "report: problems");
	snprintf(line, sizeof(line), "%.*s", (int)buf_len(b),
	    (const char *)buf_data(b));
	T_EQ_STR(line, "0x11111111 rtp 10.0.0.1:20000 -> 10.0.0.2:30000: "
	    "partial, 8 of 10 decrypted (auth 1, replay 1)\n",
	    "report: the problem line");
	buf_free(b);

	p = json(d);
	T_OK(strstr(p, "\"packets\": 10, \"decrypted\": 8, \"failed\": "
	    "{\"no-key\": 0, \"auth\": 1, \"replay\": 1, \"malformed\": 0, "
	    "\"unsupported\": 0}, \"lost\": 2, \"roc\": 0, \"roc_first\": 0, "
	    "\"payload_type\": 0}") != NULL, "report: the stream in JSON");
	T_OK(strstr(p, "\"streams_not_ok\": 1,") != NULL,
	    "report: JSON counts it not ok");
	pcapdec_free(d);
}

static void
test_keys_text(void)
{
	struct pcapdec *d = dec_new(0);
	char why[160] = "";
	const char *text = "# a comment\n\nssrc=0x1 " SUITE
	    " inline:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nnot a key\n";
	struct pcapdec_totals t;

	T_OK(pcapdec_add_keys_text(d, slice_make((const uint8_t *)text,
	    strlen(text)), why, sizeof(why)) < 0,
	    "keys text: a bad line fails");
	T_OK(strncmp(why, "line 4: ", 8) == 0, "keys text: says which line "
	    "(%s)", why);
	pcapdec_totals(d, &t);
	T_EQ_INT(t.keys, 1, "keys text: the key before it stays");
	pcapdec_free(d);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(key_a); i++) {
		key_a[i] = (uint8_t)(i + 1);
		key_b[i] = (uint8_t)(0x80 + 3 * i);
	}
	snprintf(dir, sizeof(dir), "/tmp/test_pcapdec.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	snprintf(in_path, sizeof(in_path), "%s/in.pcap", dir);
	snprintf(out_path, sizeof(out_path), "%s/out.pcap", dir);
	test_selectors();
	test_wrong_key();
	test_sip();
	test_dir();
	test_nat();
	test_sip_tcp();
	test_sip_dtls();
	test_srtcp();
	test_report();
	test_keys_text();
	unlink(in_path);
	unlink(out_path);
	rmdir(dir);
	return t_done();
}
