/* rtp.h - RTP/RTCP header views with validation, and RFC 5761/7983 demux. */
#ifndef SBK_RTP_H
#define SBK_RTP_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/slice.h"

/*
 * A parsed RTP header (RFC 3550 5.1). All slices borrow the packet given to
 * the parser and are valid as long as it is.
 */
struct rtp_hdr {
	uint8_t version;
	uint8_t padding;	/* P bit */
	uint8_t ext;		/* X bit */
	uint8_t cc;		/* CSRC count */
	uint8_t marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	struct slice csrc;	/* cc * 4 bytes */
	uint16_t ext_profile;	/* when ext */
	struct slice ext_data;	/* the extension words, without its header */
	size_t hdr_len;		/* fixed header + CSRCs + extension */
	struct slice payload;	/* after the header, without padding */
	uint8_t pad_len;	/* 0 unless padding was parsed */
};

/*
 * Parse the RTP header of `pkt`: version 2, room for the CSRCs and for the
 * extension its length announces. Does not look at the payload end, so it
 * is right for SRTP (whose padding is encrypted and which carries a tag):
 * `payload` is everything after the header. Returns 0, E_SHORT, E_SYNTAX.
 */
int rtp_parse_header(struct slice pkt, struct rtp_hdr *h) WUR;

/*
 * Parse a plain RTP packet: the header as above plus, if P is set, a
 * padding count that is non-zero and fits in the payload; `payload`
 * excludes the padding. Returns 0, E_SHORT, E_SYNTAX.
 */
int rtp_parse(struct slice pkt, struct rtp_hdr *h) WUR;

/* The first header of an RTCP packet (RFC 3550 6.4). */
struct rtcp_hdr {
	uint8_t version;
	uint8_t padding;
	uint8_t count;		/* RC / SC / FMT */
	uint8_t pt;		/* 192..223 */
	uint16_t length;	/* in 32-bit words minus one */
	uint32_t ssrc;		/* sender SSRC (the first word after the header) */
	size_t first_len;	/* bytes of the first packet: (length+1)*4 */
};

/*
 * Parse the first RTCP header of `pkt` (plain RTCP or SRTCP): version 2,
 * a packet type in the RTCP range, at least 8 bytes, and a first packet
 * that fits. Right for SRTCP, whose trailer follows the compound packet.
 * Returns 0, E_SHORT, E_SYNTAX.
 */
int rtcp_parse_header(struct slice pkt, struct rtcp_hdr *h) WUR;

/*
 * Validate a plain compound RTCP packet (RFC 3550 6.4.1 / A.2): every
 * packet version 2 with an RTCP type and a length that fits, the lengths
 * adding up to exactly the datagram, padding only on the last packet, and
 * the first packet an SR or RR (or any type when `reduced_size`, RFC 5506).
 * Returns 0, E_SHORT, E_SYNTAX; `h` gets the first header.
 */
int rtcp_parse(struct slice pkt, int reduced_size, struct rtcp_hdr *h) WUR;

/* What a datagram on a media port is (RFC 7983 first byte, RFC 5761 PT). */
enum rtp_kind {
	RTP_KIND_BAD = 0,	/* too short or a first byte nothing uses */
	RTP_KIND_RTP,
	RTP_KIND_RTCP,
	RTP_KIND_STUN,		/* first byte 0..3 */
	RTP_KIND_DTLS,		/* first byte 20..63 */
};

/*
 * Classify a datagram from its first two bytes: 128..191 is RTP or RTCP,
 * told apart by the second byte (payload type 64..95 with the marker bit,
 * i.e. 192..223, is RTCP: RFC 5761 section 4). Needs 2 bytes for RTP/RTCP.
 */
enum rtp_kind rtp_classify(struct slice pkt);

/* Sequence number arithmetic: is `a` after `b` in 16-bit serial space? */
static inline int
rtp_seq_after(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b) > 0;
}

#endif
