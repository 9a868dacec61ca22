/* srtp-gen-pcap.c - write SRTP captures with stock libsrtp2, and the plaintext. */
/*
 * A test generator for pcap-decrypt, independent of lib/rtpsec and lib/cap:
 * it encrypts with stock libsrtp2 and builds every frame (link layer, IP,
 * fragments, UDP/TCP, checksums, pcap and pcapng files) itself. Next to the
 * encrypted capture it writes what a correct decryption must produce:
 *
 *   -o FILE       the encrypted capture (pcap, or pcapng with --pcapng)
 *   --plain FILE  the same frames as a pcap with SRTP/SRTCP replaced by the
 *                 plain RTP/RTCP (lengths and checksums fixed); frames that
 *                 must not decrypt (corrupted, replayed) are left as they are
 *   --keys FILE   one key line per stream, with selectors
 *   --raw DIR     DIR/SSRC.raw: the RTP payloads that must decrypt, in
 *                 capture order (SSRC as 8 lower-case hex digits)
 *
 * --kdr N [--kdr-call C] writes KDR=N into the key lines and SDP of every
 * call (or of call C only) while libsrtp2 still encrypts with KDR 0, as it
 * can do no other: a decrypter that ignores the KDR "decrypts" those
 * streams, one that honours it cannot, and must say so.
 *
 * Options choose the variant; see usage().
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <srtp2/srtp.h>

#define MAXF 2048
#define MAXCALLS 64

enum link { L_ETH, L_VLAN, L_QINQ, L_SLL, L_SLL2, L_RAW, L_NULL };

struct opt {
	enum link link;
	int ipv6, ext, frag, pcapng, calls, packets, rtcp, rtcp_mux, roc;
	int seq, mki, corrupt, replay, reorder, loss, sip, rekey, unenc_srtcp;
	int truncate, pt, sport_base, tick_us, kdr, kdr_call;
	unsigned long long seed;
	const char *suite, *out, *plain, *keys, *raw;
};

static struct opt o = {
	.calls = 1, .packets = 50, .seq = 1000, .suite = "AES_CM_128_HMAC_SHA1_80",
	.seed = 1, .sport_base = 20000, .tick_us = 20000, .kdr_call = -1,
};

struct ep {
	uint8_t a[16];
	uint16_t port;
};

struct stream {
	srtp_t ctx;
	uint32_t ssrc, ts, npkt, rtcp_n;
	uint16_t seq;
	struct ep src, dst;
	int iface;
	int kdr;		/* KDR=n written for it, 0: none */
	uint8_t key[46];
	char line[512];
	FILE *raw;
	/* a packet held back for --reorder */
	int held;
	uint8_t hold_enc[8][MAXF], hold_pl[8][MAXF];
	size_t hold_elen[8], hold_plen[8], nhold;
	uint8_t hold_payload[MAXF];
	size_t hold_paylen;
};

static FILE *fenc, *fplain;
static uint64_t now_us = 1700000000ull * 1000000;
static long last_plain_off;
static size_t last_enc_rec;
static uint32_t ipid = 1;
static FILE *last_raw;	/* the raw file of the last frame, if RTP */
static uint64_t rng;

static void
die(const char *m)
{
	fprintf(stderr, "srtp-gen-pcap: %s\n", m);
	exit(1);
}

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

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

static uint32_t
csum_add(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}

static uint16_t
csum_fin(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* --- files --- */

static void
fput(FILE *f, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, f) != n)
		die("write failed");
}

static void
le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static int
linktype(void)
{
	switch (o.link) {
	case L_SLL: return 113;
	case L_SLL2: return 276;
	case L_RAW: return 101;
	case L_NULL: return 0;
	default: return 1;
	}
}

static void
pcap_header(FILE *f)
{
	uint8_t h[24];

	le32(h, 0xa1b2c3d4);
	h[4] = 2; h[5] = 0; h[6] = 4; h[7] = 0;
	le32(h + 8, 0);
	le32(h + 12, 0);
	le32(h + 16, 262144);
	le32(h + 20, (uint32_t)linktype());
	fput(f, h, 24);
}

static void
pcap_record(FILE *f, const uint8_t *p, size_t n)
{
	uint8_t h[16];

	le32(h, (uint32_t)(now_us / 1000000));
	le32(h + 4, (uint32_t)(now_us % 1000000));
	le32(h + 8, (uint32_t)n);
	le32(h + 12, (uint32_t)n);
	fput(f, h, 16);
	fput(f, p, n);
}

static void
pcapng_header(FILE *f)
{
	uint8_t b[28];
	int i;

	le32(b, 0x0a0d0d0a);
	le32(b + 4, 28);
	le32(b + 8, 0x1a2b3c4d);
	b[12] = 1; b[13] = 0; b[14] = 0; b[15] = 0;
	memset(b + 16, 0xff, 8);
	le32(b + 24, 28);
	fput(f, b, 28);
	for (i = 0; i < 2; i++) {	/* two interfaces, same link type */
		le32(b, 1);
		le32(b + 4, 20);
		b[8] = (uint8_t)linktype();
		b[9] = (uint8_t)(linktype() >> 8);
		b[10] = b[11] = 0;
		le32(b + 12, 262144);
		le32(b + 16, 20);
		fput(f, b, 20);
	}
}

static size_t
pcapng_record(FILE *f, const uint8_t *p, size_t n, int iface)
{
	uint8_t h[28], pad[4] = { 0 };
	size_t padn = (4 - n % 4) % 4, tot = 32 + n + padn;

	le32(h, 6);
	le32(h + 4, (uint32_t)tot);
	le32(h + 8, (uint32_t)iface);
	le32(h + 12, (uint32_t)(now_us >> 32));
	le32(h + 16, (uint32_t)now_us);
	le32(h + 20, (uint32_t)n);
	le32(h + 24, (uint32_t)n);
	fput(f, h, 28);
	fput(f, p, n);
	fput(f, pad, padn);
	le32(h, (uint32_t)tot);
	fput(f, h, 4);
	return tot;
}

/* One frame into both outputs. */
static void
emit(const uint8_t *enc, size_t elen, const uint8_t *pl, size_t plen,
    int iface)
{
	last_raw = NULL;
	if (o.pcapng)
		last_enc_rec = pcapng_record(fenc, enc, elen, iface);
	else {
		pcap_record(fenc, enc, elen);
		last_enc_rec = 16 + elen;
	}
	if (fplain) {
		last_plain_off = ftell(fplain);
		pcap_record(fplain, pl, plen);
	}
}

/* --- frames --- */

static size_t
link_hdr(uint8_t *b, int v6)
{
	unsigned et = v6 ? 0x86dd : 0x0800;

	switch (o.link) {
	case L_ETH: case L_VLAN: case L_QINQ: {
		size_t n = 12;

		memcpy(b, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01",
		    12);
		if (o.link == L_QINQ) {
			wr16(b + n, 0x88a8); wr16(b + n + 2, 100); n += 4;
		}
		if (o.link != L_ETH) {
			wr16(b + n, 0x8100); wr16(b + n + 2, 200); n += 4;
		}
		wr16(b + n, et);
		return n + 2;
	}
	case L_SLL:
		memset(b, 0, 16);
		wr16(b + 2, 1);		/* ARPHRD_ETHER */
		wr16(b + 4, 6);
		memcpy(b + 6, "\x02\x00\x00\x00\x00\x01", 6);
		wr16(b + 14, et);
		return 16;
	case L_SLL2:
		memset(b, 0, 20);
		wr16(b, et);
		wr32(b + 4, 2);		/* ifindex */
		wr16(b + 8, 1);
		b[10] = 4;		/* outgoing */
		b[11] = 6;
		memcpy(b + 12, "\x02\x00\x00\x00\x00\x01", 6);
		return 20;
	case L_NULL:
		le32(b, v6 ? 30 : 2);
		return 4;
	case L_RAW:
		return 0;
	}
	return 0;
}

/*
 * The IP header(s) for `l4len` bytes of fragment data at `off` into
 * `b`; returns the header length.
 */
static size_t
ip_hdr(uint8_t *b, const struct ep *s, const struct ep *d, int proto,
    size_t l4len, int is_frag, size_t off, int more, uint32_t id)
{
	size_t ext = 0;

	if (!o.ipv6) {
		memset(b, 0, 20);
		b[0] = 0x45;
		wr16(b + 2, (unsigned)(20 + l4len));
		wr16(b + 4, id & 0xffff);
		if (is_frag)
			wr16(b + 6, (unsigned)((more ? 0x2000 : 0) | (off / 8)));
		b[8] = 64;
		b[9] = (uint8_t)proto;
		memcpy(b + 12, s->a, 4);
		memcpy(b + 16, d->a, 4);
		wr16(b + 10, csum_fin(csum_add(0, b, 20)));
		return 20;
	}
	memset(b, 0, 40);
	b[0] = 0x60;
	b[7] = 64;
	memcpy(b + 8, s->a, 16);
	memcpy(b + 24, d->a, 16);
	b[6] = (uint8_t)proto;
	if (o.ext) {		/* destination options, 8 bytes of PadN */
		memset(b + 40, 0, 8);
		b[40] = (uint8_t)proto;
		b[42] = 1;
		b[43] = 4;
		b[6] = 60;
		ext = 8;
	}
	if (is_frag) {
		uint8_t *f = b + 40 + ext;

		f[0] = (uint8_t)proto;
		f[1] = 0;
		wr16(f + 2, (unsigned)(off | (more ? 1 : 0)));
		wr32(f + 4, id);
		if (ext)
			b[40] = 44;
		else
			b[6] = 44;
		ext += 8;
	}
	wr16(b + 4, (unsigned)(ext + l4len));
	return 40 + ext;
}

static uint16_t
l4_sum(const struct ep *s, const struct ep *d, int proto, const uint8_t *l4,
    size_t n)
{
	uint8_t ph[8] = { 0 };
	uint32_t sum;
	uint16_t c;

	if (o.ipv6) {
		sum = csum_add(0, s->a, 16);
		sum = csum_add(sum, d->a, 16);
		wr32(ph, (uint32_t)n);
		ph[7] = (uint8_t)proto;
		sum = csum_add(sum, ph, 8);
	} else {
		sum = csum_add(0, s->a, 4);
		sum = csum_add(sum, d->a, 4);
		ph[1] = (uint8_t)proto;
		wr16(ph + 2, (unsigned)n);
		sum = csum_add(sum, ph, 4);
	}
	c = csum_fin(csum_add(sum, l4, n));
	return c == 0 && proto == 17 ? 0xffff : c;
}

static size_t
mk_udp(uint8_t *b, const struct ep *s, const struct ep *d, const uint8_t *pl,
    size_t n)
{
	wr16(b, s->port);
	wr16(b + 2, d->port);
	wr16(b + 4, (unsigned)(8 + n));
	wr16(b + 6, 0);
	memcpy(b + 8, pl, n);
	wr16(b + 6, l4_sum(s, d, 17, b, 8 + n));
	return 8 + n;
}

/*
 * Build the frames of one L4 datagram in both forms (`l4p` may be NULL:
 * same as `l4e`) into enc[]/pl[]; returns the number of frames. With
 * --frag both are cut at the same offsets; the plain one ends earlier
 * (the fragment that holds its end loses the more-fragments flag).
 */
static size_t
mk_frames(const struct ep *s, const struct ep *d, int proto,
    const uint8_t *l4e, size_t ne, const uint8_t *l4p, size_t np,
    uint8_t enc[][MAXF], size_t *elen, uint8_t pl[][MAXF], size_t *plen)
{
	size_t nf = 0, off, k, kp, h;
	uint32_t id = ipid++;

	if (l4p == NULL) {
		l4p = l4e;
		np = ne;
	}
	if (!o.frag || ne <= (size_t)o.frag) {
		h = link_hdr(enc[0], o.ipv6);
		h += ip_hdr(enc[0] + h, s, d, proto, ne, 0, 0, 0, id);
		memcpy(enc[0] + h, l4e, ne);
		elen[0] = h + ne;
		h = link_hdr(pl[0], o.ipv6);
		h += ip_hdr(pl[0] + h, s, d, proto, np, 0, 0, 0, id);
		memcpy(pl[0] + h, l4p, np);
		plen[0] = h + np;
		return 1;
	}
	for (off = 0; off < ne && nf < 8; off += k, nf++) {
		k = ne - off > (size_t)o.frag ? (size_t)o.frag : ne - off;
		h = link_hdr(enc[nf], o.ipv6);
		h += ip_hdr(enc[nf] + h, s, d, proto, k, 1, off, off + k < ne,
		    id);
		memcpy(enc[nf] + h, l4e + off, k);
		elen[nf] = h + k;
		kp = off < np ? (off + k < np ? k : np - off) : 0;
		h = link_hdr(pl[nf], o.ipv6);
		h += ip_hdr(pl[nf] + h, s, d, proto, kp, 1, off,
		    off + k < np, id);
		memcpy(pl[nf] + h, l4p + off, kp);
		plen[nf] = h + kp;
	}
	return nf;
}

static void
send_udp(const struct ep *s, const struct ep *d, const uint8_t *enc,
    size_t ne, const uint8_t *pl, size_t np, int iface)
{
	static uint8_t fe[8][MAXF], fp[8][MAXF], ue[MAXF], up[MAXF];
	size_t el[8], plen[8], n, i, a, b;

	a = mk_udp(ue, s, d, enc, ne);
	b = mk_udp(up, s, d, pl, np);
	n = mk_frames(s, d, 17, ue, a, up, b, fe, el, fp, plen);
	for (i = 0; i < n; i++)
		emit(fe[i], el[i], fp[i], plen[i], iface);
}

/* --- SIP --- */

static void
addr_str(const struct ep *e, char *b, size_t n)
{
	inet_ntop(o.ipv6 ? AF_INET6 : AF_INET, e->a, b, (socklen_t)n);
}

static void
b64(const uint8_t *k, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, k, (int)n);
}

static size_t
key_len(void)
{
	if (strstr(o.suite, "GCM"))
		return strstr(o.suite, "256") ? 32 + 12 : 16 + 12;
	if (strstr(o.suite, "192"))
		return 24 + 14;
	if (strstr(o.suite, "256"))
		return 32 + 14;
	return 16 + 14;
}

/* The SDES value: "SUITE inline:KEY[|2^31|1:4][ UNENCRYPTED_SRTCP]
 * [ KDR=n]". */
static void
crypto_value(const struct stream *st, char *b, size_t n)
{
	char k[128], kdr[16] = "";

	b64(st->key, key_len(), k);
	if (st->kdr > 0)
		snprintf(kdr, sizeof(kdr), " KDR=%d", st->kdr);
	snprintf(b, n, "%s inline:%s%s%s%s", o.suite, k,
	    o.mki ? "|2^31|1:4" : "", o.unenc_srtcp ? " UNENCRYPTED_SRTCP" : "",
	    kdr);
}

static void
sip_sdp(char *b, size_t n, const struct stream *st, int call)
{
	char a[64], cv[256];

	addr_str(&st->src, a, sizeof(a));
	crypto_value(st, cv, sizeof(cv));
	snprintf(b, n,
	    "v=0\r\no=- %d 1 IN IP%c %s\r\ns=-\r\nc=IN IP%c %s\r\nt=0 0\r\n"
	    "m=audio %u RTP/SAVP %d\r\na=rtpmap:%d %s/8000\r\n"
	    "a=crypto:1 %s\r\n%s",
	    call, o.ipv6 ? '6' : '4', a, o.ipv6 ? '6' : '4', a,
	    st->src.port, o.pt, o.pt, o.pt == 8 ? "PCMA" : "PCMU", cv,
	    o.rtcp_mux ? "a=rtcp-mux\r\n" : "");
}

struct tcpflow {
	uint32_t seq[2];
	int open;
};

static void
send_tcp(const struct ep *s, const struct ep *d, uint32_t *seq, int flags,
    const uint8_t *p, size_t n)
{
	static uint8_t seg[MAXF], fe[8][MAXF], fp[8][MAXF];
	size_t el[8], pl[8], nf, i;

	memset(seg, 0, 20);
	wr16(seg, s->port);
	wr16(seg + 2, d->port);
	wr32(seg + 4, *seq);
	seg[12] = 0x50;
	seg[13] = (uint8_t)flags;
	wr16(seg + 14, 65535);
	if (n)
		memcpy(seg + 20, p, n);
	wr16(seg + 16, l4_sum(s, d, 6, seg, 20 + n));
	*seq += (uint32_t)n + ((flags & 0x02) ? 1 : 0);
	nf = mk_frames(s, d, 6, seg, 20 + n, NULL, 0, fe, el, fp, pl);
	for (i = 0; i < nf; i++)
		emit(fe[i], el[i], fp[i], pl[i], 0);
}

static void
sip_send(const struct ep *s, const struct ep *d, const char *msg,
    struct tcpflow *tf, int dir)
{
	size_t n = strlen(msg), half;
	struct ep ss = *s, dd = *d;

	if (o.sip == 1) {
		ss.port = dd.port = 5060;
		send_udp(&ss, &dd, (const uint8_t *)msg, n,
		    (const uint8_t *)msg, n, 0);
		return;
	}
	/* TCP: caller port 40000, callee 5060; each message in two
	 * segments so the reader has to join them. */
	ss.port = dir == 0 ? 40000 : 5060;
	dd.port = dir == 0 ? 5060 : 40000;
	if (!tf->open) {
		uint32_t s0 = tf->seq[0], s1 = tf->seq[1];
		struct ep a = dir == 0 ? ss : dd, b = dir == 0 ? dd : ss;

		send_tcp(&a, &b, &s0, 0x02, NULL, 0);
		send_tcp(&b, &a, &s1, 0x12, NULL, 0);
		tf->seq[0] = s0;
		tf->seq[1] = s1;
		send_tcp(&a, &b, &tf->seq[0], 0x10, NULL, 0);
		tf->open = 1;
	}
	half = n / 2;
	send_tcp(&ss, &dd, &tf->seq[dir], 0x18, (const uint8_t *)msg, half);
	send_tcp(&ss, &dd, &tf->seq[dir], 0x18, (const uint8_t *)msg + half,
	    n - half);
}

static void
sip_exchange(struct stream *a, struct stream *b, int call, int cseq,
    struct tcpflow *tf)
{
	char sdp[1024], msg[2048], as[64], bs[64];

	addr_str(&a->src, as, sizeof(as));
	addr_str(&b->src, bs, sizeof(bs));
	sip_sdp(sdp, sizeof(sdp), a, call);
	snprintf(msg, sizeof(msg),
	    "INVITE sip:bob@%s SIP/2.0\r\n"
	    "Via: SIP/2.0/%s %s:5060;branch=z9hG4bK-%d-%d\r\n"
	    "From: <sip:alice@example.com>;tag=a%d\r\n"
	    "To: <sip:bob@example.com>%s\r\n"
	    "Call-ID: call-%d@gen\r\nCSeq: %d INVITE\r\n"
	    "Contact: <sip:alice@%s>\r\nContent-Type: application/sdp\r\n"
	    "Content-Length: %zu\r\n\r\n%s",
	    bs, o.sip == 2 ? "TCP" : "UDP", as, call, cseq, call,
	    cseq > 1 ? ";tag=b" : "", call, cseq, as, strlen(sdp), sdp);
	sip_send(&a->src, &b->src, msg, tf, 0);
	now_us += 1000;
	sip_sdp(sdp, sizeof(sdp), b, call);
	snprintf(msg, sizeof(msg),
	    "SIP/2.0 200 OK\r\n"
	    "Via: SIP/2.0/%s %s:5060;branch=z9hG4bK-%d-%d\r\n"
	    "From: <sip:alice@example.com>;tag=a%d\r\n"
	    "To: <sip:bob@example.com>;tag=b\r\n"
	    "Call-ID: call-%d@gen\r\nCSeq: %d INVITE\r\n"
	    "Contact: <sip:bob@%s>\r\nContent-Type: application/sdp\r\n"
	    "Content-Length: %zu\r\n\r\n%s",
	    o.sip == 2 ? "TCP" : "UDP", as, call, cseq, call, call, cseq, bs,
	    strlen(sdp), sdp);
	sip_send(&b->src, &a->src, msg, tf, 1);
	now_us += 1000;
}

/* --- SRTP --- */

static void
set_policy(srtp_crypto_policy_t *rtp, srtp_crypto_policy_t *rtcp)
{
	const char *s = o.suite;

	if (strcmp(s, "AES_CM_128_HMAC_SHA1_80") == 0) {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp);
	} else if (strcmp(s, "AES_CM_128_HMAC_SHA1_32") == 0) {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp);
	} else if (strcmp(s, "AES_192_CM_HMAC_SHA1_80") == 0) {
		srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80(rtp);
		srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80(rtcp);
	} else if (strcmp(s, "AES_192_CM_HMAC_SHA1_32") == 0) {
		srtp_crypto_policy_set_aes_cm_192_hmac_sha1_32(rtp);
		srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80(rtcp);
	} else if (strcmp(s, "AES_256_CM_HMAC_SHA1_80") == 0) {
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtcp);
	} else if (strcmp(s, "AES_256_CM_HMAC_SHA1_32") == 0) {
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtcp);
	} else if (strcmp(s, "AEAD_AES_128_GCM") == 0) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(rtcp);
	} else if (strcmp(s, "AEAD_AES_256_GCM") == 0) {
		srtp_crypto_policy_set_aes_gcm_256_16_auth(rtp);
		srtp_crypto_policy_set_aes_gcm_256_16_auth(rtcp);
	} else
		die("unknown suite");
	if (o.unenc_srtcp)
		rtcp->sec_serv = sec_serv_auth;
}

static void
stream_key(struct stream *st, int call)
{
	srtp_policy_t p;
	srtp_master_key_t mk, *mks[1];
	uint8_t mki[4] = { 0, 0, 0, 1 };
	char a[64], b[64], cv[256];
	size_t i;

	for (i = 0; i < key_len(); i++)
		st->key[i] = (uint8_t)rnd();
	if (st->ctx)
		srtp_dealloc(st->ctx);
	memset(&p, 0, sizeof(p));
	set_policy(&p.rtp, &p.rtcp);
	p.ssrc.type = ssrc_specific;
	p.ssrc.value = st->ssrc;
	p.window_size = 128;
	if (o.mki) {
		mk.key = st->key;
		mk.mki_id = mki;
		mk.mki_size = 4;
		mks[0] = &mk;
		p.keys = mks;
		p.num_master_keys = 1;
	} else
		p.key = st->key;
	if (srtp_create(&st->ctx, &p) != srtp_err_status_ok)
		die("srtp_create failed");
	addr_str(&st->src, a, sizeof(a));
	addr_str(&st->dst, b, sizeof(b));
	crypto_value(st, cv, sizeof(cv));
	snprintf(st->line, sizeof(st->line),
	    "call-id=call-%d@gen ssrc=0x%08x src=%s%s%s:%u dst=%s%s%s:%u %s",
	    call, st->ssrc, o.ipv6 ? "[" : "", a, o.ipv6 ? "]" : "",
	    st->src.port, o.ipv6 ? "[" : "", b, o.ipv6 ? "]" : "",
	    st->dst.port, cv);
}

static int
protect(struct stream *st, uint8_t *p, int *len, int rtcp)
{
	if (rtcp)
		return o.mki ? srtp_protect_rtcp_mki(st->ctx, p, len, 1, 0) :
		    srtp_protect_rtcp(st->ctx, p, len);
	return o.mki ? srtp_protect_mki(st->ctx, p, len, 1, 0) :
	    srtp_protect(st->ctx, p, len);
}

static void
flush_held(struct stream *st)
{
	size_t i;

	for (i = 0; i < st->nhold; i++)
		emit(st->hold_enc[i], st->hold_elen[i], st->hold_pl[i],
		    st->hold_plen[i], st->iface);
	if (st->raw && st->hold_paylen)
		fput(st->raw, st->hold_payload, st->hold_paylen);
	st->nhold = 0;
	st->held = 0;
}

static void
send_rtp(struct stream *st)
{
	uint8_t pl[MAXF], enc[MAXF + 64], ue[MAXF], up[MAXF];
	uint8_t fe[8][MAXF], fp[8][MAXF];
	size_t el[8], plen[8], n, i, a, b;
	int len, k = (int)++st->npkt, bad = 0, dup = 0, hold = 0;

	pl[0] = 0x80;
	pl[1] = (uint8_t)(o.pt | (k == 1 ? 0x80 : 0));
	wr16(pl + 2, st->seq);
	wr32(pl + 4, st->ts);
	wr32(pl + 8, st->ssrc);
	for (i = 0; i < 160; i++)
		pl[12 + i] = (uint8_t)rnd();
	memcpy(enc, pl, 172);
	len = 172;
	if (protect(st, enc, &len, 0) != srtp_err_status_ok)
		die("srtp_protect failed");
	st->seq++;
	st->ts += 160;
	if (o.loss && k % o.loss == 0)
		return;
	if (o.corrupt && k % o.corrupt == 0) {
		enc[20] ^= 0x01;
		bad = 1;
	}
	if (o.replay && k % o.replay == 0)
		dup = 1;
	if (o.reorder && k % o.reorder == 0)
		hold = 1;
	a = mk_udp(ue, &st->src, &st->dst, enc, (size_t)len);
	b = mk_udp(up, &st->src, &st->dst, bad ? enc : pl,
	    bad ? (size_t)len : 172);
	n = mk_frames(&st->src, &st->dst, 17, ue, a, up, b, fe, el, fp, plen);
	if (hold) {
		for (i = 0; i < n; i++) {
			memcpy(st->hold_enc[i], fe[i], el[i]);
			memcpy(st->hold_pl[i], fp[i], plen[i]);
			st->hold_elen[i] = el[i];
			st->hold_plen[i] = plen[i];
		}
		st->nhold = n;
		memcpy(st->hold_payload, pl + 12, 160);
		st->hold_paylen = bad ? 0 : 160;
		st->held = 1;
		return;
	}
	for (i = 0; i < n; i++)
		emit(fe[i], el[i], fp[i], plen[i], st->iface);
	if (st->raw && !bad) {
		fput(st->raw, pl + 12, 160);
		last_raw = st->raw;
	}
	if (dup) {	/* the replayed copy must fail: stays encrypted */
		for (i = 0; i < n; i++)
			emit(fe[i], el[i], fe[i], el[i], st->iface);
	}
	if (st->held)
		flush_held(st);
}

static void
send_rtcp(struct stream *st)
{
	uint8_t pl[64], enc[128];
	struct ep s = st->src, d = st->dst;
	int len;

	pl[0] = 0x80;
	pl[1] = 200;
	wr16(pl + 2, 6);
	wr32(pl + 4, st->ssrc);
	wr32(pl + 8, (uint32_t)(now_us / 1000000) + 2208988800u);
	wr32(pl + 12, (uint32_t)(now_us % 1000000) * 4294u);
	wr32(pl + 16, st->ts);
	wr32(pl + 20, st->npkt);
	wr32(pl + 24, st->npkt * 160);
	memcpy(enc, pl, 28);
	len = 28;
	if (protect(st, enc, &len, 1) != srtp_err_status_ok)
		die("srtp_protect_rtcp failed");
	if (!o.rtcp_mux) {
		s.port++;
		d.port++;
	}
	send_udp(&s, &d, enc, (size_t)len, pl, 28, st->iface);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: srtp-gen-pcap -o OUT [--plain PCAP] [--keys FILE] [--raw DIR]\n"
	    "  [--link ethernet|vlan|qinq|sll|sll2|raw|null] [--ipv6 [--ext]]\n"
	    "  [--frag BYTES] [--pcapng] [--calls N] [--packets N]\n"
	    "  [--rtcp | --rtcp-mux] [--unencrypted-srtcp] [--roc N] [--seq N]\n"
	    "  [--mki] [--suite NAME] [--corrupt N] [--replay N] [--reorder N]\n"
	    "  [--loss N] [--sip udp|tcp] [--rekey] [--truncate BYTES]\n"
	    "  [--pt 0|8] [--seed N] [--kdr N [--kdr-call C]]\n");
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "out", 1, 0, 'o' }, { "plain", 1, 0, 'P' },
		{ "keys", 1, 0, 'K' }, { "raw", 1, 0, 'R' },
		{ "link", 1, 0, 'l' }, { "ipv6", 0, 0, '6' },
		{ "ext", 0, 0, 'x' }, { "frag", 1, 0, 'f' },
		{ "pcapng", 0, 0, 'n' }, { "calls", 1, 0, 'c' },
		{ "packets", 1, 0, 'p' }, { "rtcp", 0, 0, 'r' },
		{ "rtcp-mux", 0, 0, 'm' }, { "roc", 1, 0, 'O' },
		{ "seq", 1, 0, 'q' }, { "mki", 0, 0, 'M' },
		{ "suite", 1, 0, 's' }, { "corrupt", 1, 0, 'C' },
		{ "replay", 1, 0, 'D' }, { "reorder", 1, 0, 'E' },
		{ "loss", 1, 0, 'L' }, { "sip", 1, 0, 'S' },
		{ "rekey", 0, 0, 'k' }, { "unencrypted-srtcp", 0, 0, 'u' },
		{ "truncate", 1, 0, 't' }, { "pt", 1, 0, 'T' },
		{ "seed", 1, 0, 'z' }, { "kdr", 1, 0, 'Y' },
		{ "kdr-call", 1, 0, 'y' },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
	};
	static const char *links[] = { "ethernet", "vlan", "qinq", "sll",
	    "sll2", "raw", "null" };
	static struct stream st[2 * MAXCALLS];
	struct tcpflow tf[MAXCALLS];
	FILE *kf = NULL;
	int c, i, ns, t, found;
	size_t j;

	while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'o': o.out = optarg; break;
		case 'P': o.plain = optarg; break;
		case 'K': o.keys = optarg; break;
		case 'R': o.raw = optarg; break;
		case 'l':
			found = 0;
			for (j = 0; j < sizeof(links) / sizeof(*links); j++)
				if (strcmp(optarg, links[j]) == 0) {
					o.link = (enum link)j;
					found = 1;
				}
			if (!found)
				die("unknown link");
			break;
		case '6': o.ipv6 = 1; break;
		case 'x': o.ext = 1; break;
		case 'f': o.frag = (int)strtol(optarg, NULL, 10) & ~7; break;
		case 'n': o.pcapng = 1; break;
		case 'c': o.calls = (int)strtol(optarg, NULL, 10); break;
		case 'p': o.packets = (int)strtol(optarg, NULL, 10); break;
		case 'r': o.rtcp = 1; break;
		case 'm': o.rtcp = o.rtcp_mux = 1; break;
		case 'O': o.roc = (int)strtol(optarg, NULL, 10); break;
		case 'q': o.seq = (int)strtol(optarg, NULL, 10); break;
		case 'M': o.mki = 1; break;
		case 's': o.suite = optarg; break;
		case 'C': o.corrupt = (int)strtol(optarg, NULL, 10); break;
		case 'D': o.replay = (int)strtol(optarg, NULL, 10); break;
		case 'E': o.reorder = (int)strtol(optarg, NULL, 10); break;
		case 'L': o.loss = (int)strtol(optarg, NULL, 10); break;
		case 'S': o.sip = strcmp(optarg, "tcp") == 0 ? 2 : 1; break;
		case 'k': o.rekey = 1; break;
		case 'u': o.unenc_srtcp = 1; break;
		case 't': o.truncate = (int)strtol(optarg, NULL, 10); break;
		case 'T': o.pt = (int)strtol(optarg, NULL, 10); break;
		case 'z': o.seed = strtoull(optarg, NULL, 10); break;
		case 'Y': o.kdr = (int)strtol(optarg, NULL, 10); break;
		case 'y': o.kdr_call = (int)strtol(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o.out == NULL || o.calls < 1 || o.calls > MAXCALLS) {
		usage(stderr);
		return 2;
	}
	rng = o.seed * 0x9e3779b97f4a7c15ull + 1;
	if (srtp_init() != srtp_err_status_ok)
		die("srtp_init failed");
	if ((fenc = fopen(o.out, "wb")) == NULL)
		die("cannot create output");
	if (o.plain && (fplain = fopen(o.plain, "wb")) == NULL)
		die("cannot create plain output");
	if (o.keys && (kf = fopen(o.keys, "w")) == NULL)
		die("cannot create key file");
	if (o.pcapng)
		pcapng_header(fenc);
	else
		pcap_header(fenc);
	if (fplain)
		pcap_header(fplain);
	ns = 2 * o.calls;
	memset(tf, 0, sizeof(tf));
	for (i = 0; i < ns; i++) {
		struct stream *s = &st[i];
		int call = i / 2, side = i % 2;
		struct ep *me = &s->src, *peer = &s->dst;

		memset(me, 0, sizeof(*me));
		memset(peer, 0, sizeof(*peer));
		if (o.ipv6) {
			me->a[0] = peer->a[0] = 0xfd;
			me->a[1] = (uint8_t)(1 + side);
			peer->a[1] = (uint8_t)(2 - side);
			me->a[13] = peer->a[13] = (uint8_t)call;
			me->a[15] = peer->a[15] = 1;
		} else {
			me->a[0] = peer->a[0] = 10;
			me->a[1] = (uint8_t)(1 + side);
			peer->a[1] = (uint8_t)(2 - side);
			me->a[2] = peer->a[2] = (uint8_t)call;
			me->a[3] = peer->a[3] = 1;
		}
		me->port = (uint16_t)(o.sport_base + 10000 * side + 4 * call);
		peer->port = (uint16_t)(o.sport_base + 10000 * (1 - side) +
		    4 * call);
		s->ssrc = (uint32_t)rnd();
		s->seq = (uint16_t)o.seq;
		s->ts = (uint32_t)rnd();
		s->iface = o.pcapng ? side : 0;
		s->kdr = o.kdr_call < 0 || o.kdr_call == call ? o.kdr : 0;
		tf[call].seq[0] = (uint32_t)rnd();
		tf[call].seq[1] = (uint32_t)rnd();
		stream_key(s, call);
		if (o.roc && srtp_set_stream_roc(s->ctx, s->ssrc,
		    (uint32_t)o.roc) != srtp_err_status_ok)
			die("srtp_set_stream_roc failed");
		if (kf)
			fprintf(kf, "%s\n", s->line);
		if (o.raw) {
			char p[1024];

			snprintf(p, sizeof(p), "%s/%08x.raw", o.raw, s->ssrc);
			if ((s->raw = fopen(p, "wb")) == NULL)
				die("cannot create raw file");
		}
	}
	if (o.sip)
		for (i = 0; i < o.calls; i++)
			sip_exchange(&st[2 * i], &st[2 * i + 1], i, 1, &tf[i]);
	for (t = 0; t < o.packets; t++) {
		if (o.rekey && t == o.packets / 2) {
			for (i = 0; i < ns; i++) {
				stream_key(&st[i], i / 2);
				if (kf)
					fprintf(kf, "%s\n", st[i].line);
			}
			if (o.sip)
				for (i = 0; i < o.calls; i++)
					sip_exchange(&st[2 * i], &st[2 * i + 1],
					    i, 2, &tf[i]);
		}
		for (i = 0; i < ns; i++) {
			send_rtp(&st[i]);
			now_us += 50;
		}
		if (o.rtcp && t % 10 == 5)
			for (i = 0; i < ns; i++)
				send_rtcp(&st[i]);
		now_us += (uint64_t)o.tick_us - 50u * (uint64_t)ns;
	}
	for (i = 0; i < ns; i++)
		if (st[i].held)
			flush_held(&st[i]);
	if (o.truncate && last_raw != NULL &&	/* its last payload is cut */
	    (fflush(last_raw) != 0 ||
	    ftruncate(fileno(last_raw), ftell(last_raw) - 160) != 0))
		die("truncate failed");
	for (i = 0; i < ns; i++) {
		if (st[i].raw && fclose(st[i].raw) != 0)
			die("raw write failed");
		srtp_dealloc(st[i].ctx);
	}
	if (fflush(fenc) != 0)
		die("write failed");
	if (o.truncate) {
		long end = ftell(fenc);

		if ((size_t)o.truncate >= last_enc_rec)
			die("--truncate must cut inside the last record");
		if (ftruncate(fileno(fenc), end - o.truncate) != 0)
			die("truncate failed");
		if (fplain && (fflush(fplain) != 0 ||
		    ftruncate(fileno(fplain), last_plain_off) != 0))
			die("truncate failed");
	}
	if (fclose(fenc) != 0 || (fplain && fclose(fplain) != 0) ||
	    (kf && fclose(kf) != 0))
		die("write failed");
	srtp_shutdown();
	return 0;
}
