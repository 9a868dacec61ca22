/* test_cap.c - unit tests for the frame decoder, defrag, rewrite, g711, wav. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cap/cap.h"
#include "cap/g711.h"
#include "cap/wav.h"
#include "t.h"

/* An independent one's-complement sum (RFC 1071), byte by byte. */
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
csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* 1 if the IPv4 header at `ip` and its UDP datagram verify. */
static int
ip4_udp_ok(const uint8_t *ip)
{
	size_t hl = (size_t)(ip[0] & 15) * 4, ul = (size_t)(ip[hl + 4] << 8 | ip[hl + 5]);
	uint8_t ph[4] = { 0, 17, (uint8_t)(ul >> 8), (uint8_t)ul };
	uint32_t s;

	if (csum_fold(csum_add(0, ip, hl)) != 0xffff)
		return 0;
	s = csum_add(0, ip + 12, 8);
	s = csum_add(s, ph, 4);
	s = csum_add(s, ip + hl, ul);
	return csum_fold(s) == 0xffff;
}

static int
ip6_udp_ok(const uint8_t *ip, size_t l4)
{
	size_t ul = (size_t)(ip[l4 + 4] << 8 | ip[l4 + 5]);
	uint8_t ph[8] = { 0, 0, (uint8_t)(ul >> 8), (uint8_t)ul, 0, 0, 0, 17 };
	uint32_t s;

	s = csum_add(0, ip + 8, 32);
	s = csum_add(s, ph, 8);
	s = csum_add(s, ip + l4, ul);
	return csum_fold(s) == 0xffff;
}

static size_t
mk_ip4_udp(uint8_t *p, const char *payload, size_t plen, uint16_t fo,
    uint16_t id)
{
	size_t tl = 20 + 8 + plen;

	memset(p, 0, 28);
	p[0] = 0x45;
	p[2] = (uint8_t)(tl >> 8);
	p[3] = (uint8_t)tl;
	p[4] = (uint8_t)(id >> 8);
	p[5] = (uint8_t)id;
	p[6] = (uint8_t)(fo >> 8);
	p[7] = (uint8_t)fo;
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	p[20] = 0x13; p[21] = 0x88;	/* 5000 */
	p[22] = 0x17; p[23] = 0x70;	/* 6000 */
	p[24] = (uint8_t)((8 + plen) >> 8);
	p[25] = (uint8_t)(8 + plen);
	p[26] = 0x12; p[27] = 0x34;	/* some checksum */
	memcpy(p + 28, payload, plen);
	return tl;
}

static void
test_ethernet(void)
{
	uint8_t f[256], o[256];
	struct cap_pkt p, q;
	size_t n, on;

	memset(f, 0xaa, 12);
	memcpy(f + 12, "\x88\xa8\x00\x64\x81\x00\x00\xc8\x08\x00", 10);
	n = 22 + mk_ip4_udp(f + 22, "hello world", 11, 0, 1);
	f[n++] = 0;	/* ethernet padding */
	f[n++] = 0;
	T_EQ_INT(cap_decode(CAP_DLT_EN10MB, f, n, &p), 0, "qinq decodes");
	T_EQ_INT(p.kind, CAP_UDP, "qinq: udp");
	T_EQ_INT(p.l3_off, 22, "qinq: ip after two tags");
	T_EQ_INT(p.src.port, 5000, "source port");
	T_EQ_INT(p.dst.port, 6000, "destination port");
	T_OK(p.payload.len == 11 && memcmp(p.payload.p, "hello world", 11) == 0,
	    "payload found, padding excluded");
	T_EQ_INT(cap_rewrite_udp(f, n, &p, (const uint8_t *)"hi", 2, o,
	    sizeof(o), &on), 0, "rewrite");
	T_EQ_INT(on, n - 9, "rewritten frame is 9 bytes shorter");
	T_OK(ip4_udp_ok(o + 22), "ipv4 and udp checksums verify");
	T_OK(memcmp(o, f, 22) == 0, "link layer kept");
	T_OK(o[on - 1] == 0 && o[on - 2] == 0, "padding kept");
	T_EQ_INT(cap_decode(CAP_DLT_EN10MB, o, on, &q), 0, "rewritten decodes");
	T_OK(q.payload.len == 2 && memcmp(q.payload.p, "hi", 2) == 0,
	    "rewritten payload");
	T_EQ_INT(cap_decode(CAP_DLT_EN10MB, f, 40, &p), E_SHORT,
	    "cut frame is E_SHORT");
	T_EQ_INT(cap_decode(CAP_DLT_EN10MB, f, 5, &p), E_SHORT,
	    "cut link header is E_SHORT");
	f[22] = 0x55;
	T_EQ_INT(cap_decode(CAP_DLT_EN10MB, f, n, &p), E_SYNTAX,
	    "wrong ip version is E_SYNTAX");
	T_EQ_INT(cap_decode(9999, f, n, &p), E_UNSUPPORTED, "unknown dlt");
	memcpy(f + 12, "\x08\x06", 2);
	T_OK(cap_decode(CAP_DLT_EN10MB, f, n, &p) == 0 && p.kind == CAP_OTHER,
	    "arp is passed through");
}

/* An IPv4/TCP segment edited in place gets its checksum fixed. */
static void
test_tcp_checksum(void)
{
	uint8_t f[128];
	struct cap_pkt p;
	uint8_t ph[4] = { 0, 6, 0, 20 + 5 };
	uint32_t s;

	memset(f, 0, sizeof(f));
	f[0] = 0x45;
	f[3] = 20 + 20 + 5;
	f[8] = 64;
	f[9] = 6;
	memcpy(f + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	f[21] = 80; f[23] = 81;		/* ports */
	f[32] = 0x50;			/* data offset 5 */
	f[33] = 0x18;
	f[36] = 0xde; f[37] = 0xad;	/* a wrong checksum */
	memcpy(f + 40, "hello", 5);
	T_OK(cap_decode(CAP_DLT_RAW, f, 45, &p) == 0 && p.kind == CAP_TCP,
	    "tcp decodes");
	T_EQ_INT(cap_fix_tcp_checksum(f, 45, &p), 0, "tcp checksum fixed");
	s = csum_add(0, f + 12, 8);
	s = csum_add(s, ph, 4);
	s = csum_add(s, f + 20, 25);
	T_EQ_INT(csum_fold(s), 0xffff, "tcp checksum verifies");
	T_EQ_INT(cap_fix_tcp_checksum(f, 30, &p), E_INVAL,
	    "a frame without the whole segment: E_INVAL");
}

static void
test_links(void)
{
	uint8_t f[256];
	struct cap_pkt p;
	size_t n;

	memset(f, 0, sizeof(f));
	f[14] = 0x08;
	n = 16 + mk_ip4_udp(f + 16, "x", 1, 0, 1);
	T_OK(cap_decode(CAP_DLT_LINUX_SLL, f, n, &p) == 0 &&
	    p.kind == CAP_UDP && p.l3_off == 16, "linux sll");
	memset(f, 0, 20);
	f[0] = 0x08;
	n = 20 + mk_ip4_udp(f + 20, "x", 1, 0, 1);
	T_OK(cap_decode(CAP_DLT_LINUX_SLL2, f, n, &p) == 0 &&
	    p.kind == CAP_UDP && p.l3_off == 20, "linux sll2");
	memcpy(f, "\x02\x00\x00\x00", 4);
	n = 4 + mk_ip4_udp(f + 4, "x", 1, 0, 1);
	T_OK(cap_decode(CAP_DLT_NULL, f, n, &p) == 0 && p.kind == CAP_UDP,
	    "bsd null, little-endian family");
	memcpy(f, "\x00\x00\x00\x02", 4);
	T_OK(cap_decode(CAP_DLT_LOOP, f, n, &p) == 0 && p.kind == CAP_UDP,
	    "bsd loop, network order");
	n = mk_ip4_udp(f, "x", 1, 0, 1);
	T_OK(cap_decode(CAP_DLT_RAW, f, n, &p) == 0 && p.kind == CAP_UDP &&
	    p.l3_off == 0, "raw ip");
	T_OK(cap_decode(CAP_DLT_IPV4, f, n, &p) == 0 && p.kind == CAP_UDP,
	    "dlt ipv4");
}

static void
test_ip6(void)
{
	uint8_t f[256], o[256];
	struct cap_pkt p;
	size_t n = 0, on;

	memset(f, 0, sizeof(f));
	f[0] = 0x60;
	f[4] = 0;
	f[5] = 8 + 8 + 5;	/* dest opts + udp + payload */
	f[6] = 60;		/* destination options */
	f[7] = 64;
	f[23] = 1;
	f[39] = 2;
	f[40] = 17;		/* next: udp */
	f[41] = 0;		/* 8 bytes */
	f[48] = 0x13; f[49] = 0x88; f[50] = 0x17; f[51] = 0x70;
	f[53] = 13;
	memcpy(f + 56, "abcde", 5);
	n = 61;
	T_EQ_INT(cap_decode(CAP_DLT_IPV6, f, n, &p), 0, "ipv6 decodes");
	T_OK(p.kind == CAP_UDP && p.l4_off == 48 && p.payload.len == 5,
	    "ipv6 extension header walked");
	T_EQ_INT(cap_rewrite_udp(f, n, &p, (const uint8_t *)"XYZ", 3, o,
	    sizeof(o), &on), 0, "ipv6 rewrite");
	T_OK(on == 59 && o[5] == 19 && ip6_udp_ok(o, 48),
	    "ipv6 length and udp checksum");
}

static void
test_frag(void)
{
	uint8_t f1[256], f2[256], o[256], d[64];
	struct cap_defrag *d8;
	struct cap_pkt p1, p2, u;
	struct cap_dgram g;
	uint64_t s1, s2;
	size_t n1, n2, on;
	char pl[40];

	memset(pl, 'p', sizeof(pl));
	memcpy(pl, "0123456789", 10);
	/* One 48-byte IP payload split 32 + 16. */
	mk_ip4_udp(f1, pl, 40, 0x2000, 77);
	f1[2] = 0; f1[3] = 20 + 32;
	n1 = 52;
	memcpy(f2, f1, 20);
	f2[2] = 0; f2[3] = 20 + 16;
	f2[6] = 0; f2[7] = 4;	/* offset 32 */
	memcpy(f2 + 20, pl + 24, 16);
	n2 = 36;
	T_OK(cap_decode(CAP_DLT_RAW, f1, n1, &p1) == 0 && p1.kind == CAP_FRAG &&
	    p1.frag_more && p1.frag_off == 0, "first fragment");
	T_OK(cap_decode(CAP_DLT_RAW, f2, n2, &p2) == 0 && p2.kind == CAP_FRAG &&
	    !p2.frag_more && p2.frag_off == 32, "last fragment");
	d8 = cap_defrag_new(4, 65535, 1000000);
	T_OK(d8 != NULL, "defrag_new");
	T_EQ_INT(cap_defrag_add(d8, &p2, 10, &s2, &g), 0, "held");
	T_OK(cap_defrag_pending(d8, s2), "pending");
	T_EQ_INT(cap_defrag_add(d8, &p1, 20, &s1, &g), 1, "completed");
	T_OK(s1 == s2 && g.serial == s1, "same serial");
	T_OK(!cap_defrag_pending(d8, s1), "no longer pending");
	T_EQ_INT(cap_decode_l4(&p1, g.next, g.data, &u), 0, "l4 decodes");
	T_OK(u.kind == CAP_UDP && u.payload.len == 40 &&
	    memcmp(u.payload.p, pl, 40) == 0, "reassembled payload");
	/* Rewrite as a 30-byte datagram: the second fragment shrinks. */
	memcpy(d, g.data.p, 8);
	memcpy(d + 8, "ABCDEFGHIJKLMNOPQRSTUV", 22);
	T_EQ_INT(cap_rewrite_frag(f2, n2, &p2, d, 30, o, sizeof(o), &on), 0,
	    "rewrite past the end");
	T_OK(on == 20 && o[3] == 20, "fragment past the end keeps its header");
	T_EQ_INT(cap_rewrite_frag(f1, n1, &p1, d, 30, o, sizeof(o), &on), 0,
	    "rewrite first");
	T_OK(on == 50 && (o[6] & 0x20) == 0 && memcmp(o + 28, "ABCD", 4) == 0,
	    "first fragment now holds the end");
	T_OK(csum_fold(csum_add(0, o, 20)) == 0xffff, "ip checksum fixed");
	/* Overlap and timeout. */
	T_EQ_INT(cap_defrag_add(d8, &p1, 30, &s1, &g), 0, "new datagram");
	T_EQ_INT(cap_defrag_add(d8, &p1, 31, &s2, &g), E_SYNTAX, "overlap");
	T_EQ_INT(cap_defrag_add(d8, &p1, 40, &s1, &g), 0, "again");
	T_EQ_INT(cap_defrag_add(d8, &p2, 40 + 2000000, &s2, &g), 0,
	    "late fragment starts over");
	T_OK(s1 != s2 && cap_defrag_dropped(d8) == 2, "timed out");
	cap_defrag_free(d8);
	d8 = cap_defrag_new(1, 65535, 1000000);
	T_EQ_INT(cap_defrag_add(d8, &p1, 1, &s1, &g), 0, "one in flight");
	f1[5] = 78;
	T_OK(cap_decode(CAP_DLT_RAW, f1, n1, &p1) == 0, "decode");
	T_EQ_INT(cap_defrag_add(d8, &p1, 2, &s1, &g), E_LIMIT, "cap reached");
	cap_defrag_free(d8);
}

static void
test_g711(void)
{
	T_EQ_INT(g711_ulaw_to_linear(0xff), 0, "ulaw 0xff");
	T_EQ_INT(g711_ulaw_to_linear(0x00), -32124, "ulaw 0x00");
	T_EQ_INT(g711_ulaw_to_linear(0x80), 32124, "ulaw 0x80");
	T_EQ_INT(g711_alaw_to_linear(0xd5), 8, "alaw 0xd5");
	T_EQ_INT(g711_alaw_to_linear(0x55), -8, "alaw 0x55");
	T_EQ_INT(g711_alaw_to_linear(0xaa), 32256, "alaw 0xaa");
}

static void
test_wav(void)
{
	char path[] = "/tmp/sbk-test-wav-XXXXXX";
	int16_t a[4] = { 1, 2, 3, 4 }, b[2] = { 9, 9 };
	uint8_t buf[128];
	struct wav *w;
	FILE *fp;
	size_t n;
	int fd, err = 0;

	fd = mkstemp(path);
	T_OK(fd >= 0, "temp file");
	close(fd);
	w = wav_open(path, 8000, 1000, &err);
	T_OK(w != NULL, "wav_open");
	T_EQ_INT(wav_put(w, 1000, a, 4), 0, "first");
	T_EQ_INT(wav_put(w, 1008, a, 4), 0, "after a gap");
	T_EQ_INT(wav_put(w, 1004, b, 2), 0, "late packet fills the gap");
	T_EQ_INT(wav_put(w, 990, b, 2), E_RANGE, "before the start");
	T_EQ_INT(wav_samples(w), 12, "12 samples");
	T_EQ_INT(wav_close(w), 0, "close");
	fp = fopen(path, "rb");
	n = fp ? fread(buf, 1, sizeof(buf), fp) : 0;
	if (fp)
		fclose(fp);
	T_EQ_INT(n, 44 + 24, "file size");
	T_OK(memcmp(buf, "RIFF", 4) == 0 && buf[40] == 24 && buf[4] == 60,
	    "header sizes");
	T_OK(buf[44] == 1 && buf[50] == 4 && buf[52] == 9 && buf[56] == 0 &&
	    buf[60] == 1, "samples placed by timestamp, silence in the gap");
	unlink(path);
}

int
main(void)
{
	test_ethernet();
	test_tcp_checksum();
	test_links();
	test_ip6();
	test_frag();
	test_g711();
	test_wav();
	return t_done();
}
