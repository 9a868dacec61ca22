/* test_rtp.c - unit tests for the RTP/RTCP header views and the demux. */
#include <stdint.h>

#include "media/rtp.h"
#include "t.h"

static void
test_rtp(void)
{
	/* V=2 P=0 X=1 CC=1 M=1 PT=0, seq 0x1234, ts, ssrc, 1 csrc,
	 * ext profile 0xBEDE len 1, payload "ab" */
	static const uint8_t p1[] = {
		0x91, 0x80, 0x12, 0x34, 0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef,
		1, 2, 3, 4, 0xbe, 0xde, 0, 1, 9, 9, 9, 9, 'a', 'b' };
	/* padded: payload "x", 3 padding bytes */
	static const uint8_t p2[] = {
		0xa0, 0x08, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 'x', 0, 0, 3 };
	struct rtp_hdr h;
	uint8_t b[32];

	T_EQ_INT(rtp_parse(slice_make(p1, sizeof(p1)), &h), 0, "valid RTP");
	T_OK(h.version == 2 && h.ext && h.cc == 1 && h.marker && h.pt == 0 &&
	    h.seq == 0x1234 && h.ts == 160 && h.ssrc == 0xdeadbeef,
	    "fixed header fields");
	T_OK(h.csrc.len == 4 && h.ext_profile == 0xbede &&
	    h.ext_data.len == 4 && h.hdr_len == 24, "csrc and extension");
	T_OK(slice_eq_cstr(h.payload, "ab"), "payload");
	T_EQ_INT(rtp_parse(slice_make(p2, sizeof(p2)), &h), 0, "padded RTP");
	T_OK(h.pad_len == 3 && slice_eq_cstr(h.payload, "x"),
	    "padding removed");

	T_EQ_INT(rtp_parse(slice_make(p1, 11), &h), E_SHORT, "short fixed");
	memcpy(b, p1, sizeof(p1));
	b[0] = 0x51;
	T_EQ_INT(rtp_parse(slice_make(b, sizeof(p1)), &h), E_SYNTAX,
	    "version 1");
	b[0] = 0x9f;	/* 15 CSRCs */
	T_EQ_INT(rtp_parse(slice_make(b, sizeof(p1)), &h), E_SHORT,
	    "absurd CSRC count");
	memcpy(b, p1, sizeof(p1));
	b[19] = 9;	/* extension of 9 words */
	T_EQ_INT(rtp_parse(slice_make(b, sizeof(p1)), &h), E_SHORT,
	    "extension longer than the packet");
	memcpy(b, p2, sizeof(p2));
	b[15] = 0;
	T_EQ_INT(rtp_parse(slice_make(b, sizeof(p2)), &h), E_SYNTAX,
	    "zero padding count");
	b[15] = 5;
	T_EQ_INT(rtp_parse(slice_make(b, sizeof(p2)), &h), E_SYNTAX,
	    "padding beyond payload");
	T_EQ_INT(rtp_parse_header(slice_make(b, sizeof(p2)), &h), 0,
	    "header-only parse ignores (encrypted) padding");
	memcpy(b, p2, sizeof(p2));
	b[1] = 0xc8;	/* M + PT 72: would be an SR */
	T_EQ_INT(rtp_parse_header(slice_make(b, sizeof(p2)), &h), E_SYNTAX,
	    "RTCP-colliding payload type");
	T_OK(rtp_seq_after(1, 65535) && !rtp_seq_after(65535, 1) &&
	    rtp_seq_after(10, 9), "serial arithmetic");
}

static void
test_rtcp(void)
{
	/* RR with no blocks (8 bytes) + SDES with one empty chunk (8 bytes) */
	static const uint8_t c[] = {
		0x80, 201, 0, 1, 0, 0, 0, 7,
		0x81, 202, 0, 1, 0, 0, 0, 7 };
	/* SR 28 bytes, padded BYE */
	static const uint8_t d[] = {
		0x80, 200, 0, 6, 0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8,
		0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
		0xa1, 203, 0, 2, 0, 0, 0, 9, 0, 0, 0, 4 };
	struct rtcp_hdr h;
	uint8_t b[64];

	T_EQ_INT(rtcp_parse(slice_make(c, sizeof(c)), 0, &h), 0,
	    "compound RR+SDES");
	T_OK(h.pt == 201 && h.ssrc == 7 && h.first_len == 8, "first header");
	T_EQ_INT(rtcp_parse(slice_make(d, sizeof(d)), 0, &h), 0,
	    "SR + padded BYE");
	T_EQ_INT(rtcp_parse(slice_make(c, sizeof(c) - 4), 0, &h), E_SHORT,
	    "truncated second packet");
	memcpy(b, c, sizeof(c));
	b[0] = 0xa0;	/* padding on the first of two */
	T_EQ_INT(rtcp_parse(slice_make(b, sizeof(c)), 0, &h), E_SYNTAX,
	    "padding not on the last packet");
	T_EQ_INT(rtcp_parse(slice_make(c + 8, 8), 0, &h), E_SYNTAX,
	    "compound must start with SR/RR");
	T_EQ_INT(rtcp_parse(slice_make(c + 8, 8), 1, &h), 0,
	    "reduced-size allows any first type");
	memcpy(b, c, sizeof(c));
	b[1] = 190;
	T_EQ_INT(rtcp_parse_header(slice_make(b, sizeof(c)), &h), E_SYNTAX,
	    "not an RTCP type");
	T_EQ_INT(rtcp_parse_header(slice_make(c, 7), &h), E_SHORT, "short");
	/* SRTCP: trailer after the compound is fine for the header view */
	memcpy(b, c, sizeof(c));
	memset(b + sizeof(c), 0xee, 14);
	T_EQ_INT(rtcp_parse_header(slice_make(b, sizeof(c) + 14), &h), 0,
	    "SRTCP header view");
}

static void
test_classify(void)
{
	T_EQ_INT(rtp_classify(SLICE_LIT("\x80\x00")), RTP_KIND_RTP, "RTP");
	T_EQ_INT(rtp_classify(SLICE_LIT("\x80\x80")), RTP_KIND_RTP, "RTP M");
	T_EQ_INT(rtp_classify(SLICE_LIT("\x80\xc8")), RTP_KIND_RTCP, "SR");
	T_EQ_INT(rtp_classify(SLICE_LIT("\x81\xdf")), RTP_KIND_RTCP, "223");
	T_EQ_INT(rtp_classify(SLICE_LIT("\x80\xe0")), RTP_KIND_RTP,
	    "224 is RTP (PT 96 + M)");
	T_EQ_INT(rtp_classify(SLICE_LIT("\x00\x01")), RTP_KIND_STUN, "STUN");
	T_EQ_INT(rtp_classify(SLICE_LIT("\x16\xfe")), RTP_KIND_DTLS, "DTLS");
	T_EQ_INT(rtp_classify(SLICE_LIT("\x40")), RTP_KIND_BAD, "junk");
	T_EQ_INT(rtp_classify(SLICE_LIT("\x80")), RTP_KIND_BAD, "one byte");
	T_EQ_INT(rtp_classify(SLICE_NULL), RTP_KIND_BAD, "empty");
}

int
main(void)
{
	test_rtp();
	test_rtcp();
	test_classify();
	return t_done();
}
