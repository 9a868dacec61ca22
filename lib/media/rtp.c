/* rtp.c - bounds-checked RTP and RTCP header parsing and demultiplexing. */
#include <string.h>

#include "media/rtp.h"

int
rtp_parse_header(struct slice pkt, struct rtp_hdr *h)
{
	struct slice s = pkt;
	uint8_t b0, b1;
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = slice_u8(&s, &b0)) != 0 || (r = slice_u8(&s, &b1)) != 0 ||
	    (r = slice_be16(&s, &h->seq)) != 0 ||
	    (r = slice_be32(&s, &h->ts)) != 0 ||
	    (r = slice_be32(&s, &h->ssrc)) != 0)
		return E_SHORT;
	h->version = b0 >> 6;
	if (h->version != 2)
		return E_SYNTAX;
	h->padding = (b0 >> 5) & 1;
	h->ext = (b0 >> 4) & 1;
	h->cc = b0 & 0x0f;
	h->marker = b1 >> 7;
	h->pt = b1 & 0x7f;
	/* payload types 72..76 collide with RTCP SR..APP (RFC 5761 4) */
	if (h->pt >= 72 && h->pt <= 76)
		return E_SYNTAX;
	if (slice_take(&s, (size_t)h->cc * 4, &h->csrc) != 0)
		return E_SHORT;
	if (h->ext) {
		uint16_t words;

		if (slice_be16(&s, &h->ext_profile) != 0 ||
		    slice_be16(&s, &words) != 0)
			return E_SHORT;
		if (slice_take(&s, (size_t)words * 4, &h->ext_data) != 0)
			return E_SHORT;
	}
	h->hdr_len = pkt.len - s.len;
	h->payload = s;
	return 0;
}

int
rtp_parse(struct slice pkt, struct rtp_hdr *h)
{
	int r;

	if ((r = rtp_parse_header(pkt, h)) != 0)
		return r;
	if (h->padding) {
		uint8_t n;

		if (h->payload.len == 0)
			return E_SHORT;
		n = h->payload.p[h->payload.len - 1];
		if (n == 0 || n > h->payload.len)
			return E_SYNTAX;
		h->pad_len = n;
		h->payload.len -= n;
	}
	return 0;
}

static int
rtcp_one(struct slice s, struct rtcp_hdr *h)
{
	uint8_t b0;

	if (s.len < 4)
		return E_SHORT;
	b0 = s.p[0];
	h->version = b0 >> 6;
	h->padding = (b0 >> 5) & 1;
	h->count = b0 & 0x1f;
	h->pt = s.p[1];
	h->length = (uint16_t)((s.p[2] << 8) | s.p[3]);
	h->first_len = ((size_t)h->length + 1) * 4;
	if (h->version != 2 || h->pt < 192 || h->pt > 223)
		return E_SYNTAX;
	if (h->first_len > s.len)
		return E_SHORT;
	return 0;
}

int
rtcp_parse_header(struct slice pkt, struct rtcp_hdr *h)
{
	struct slice s = pkt;
	int r;

	memset(h, 0, sizeof(*h));
	if (pkt.len < 8)
		return E_SHORT;
	if ((r = rtcp_one(pkt, h)) != 0)
		return r;
	if (slice_skip(&s, 4) != 0 || slice_be32(&s, &h->ssrc) != 0)
		return E_SHORT;
	return 0;
}

int
rtcp_parse(struct slice pkt, int reduced_size, struct rtcp_hdr *h)
{
	struct slice s = pkt;
	int r, first = 1;

	if ((r = rtcp_parse_header(pkt, h)) != 0)
		return r;
	if (!reduced_size && h->pt != 200 && h->pt != 201)
		return E_SYNTAX;
	while (s.len > 0) {
		struct rtcp_hdr one;

		if ((r = rtcp_one(s, &one)) != 0)
			return r;
		if (one.padding) {
			uint8_t n;

			/* only the last packet may be padded */
			if (one.first_len != s.len)
				return E_SYNTAX;
			n = s.p[s.len - 1];
			if (n == 0 || (size_t)n > one.first_len - 4)
				return E_SYNTAX;
		}
		if (first && one.pt != h->pt)
			return E_SYNTAX;
		first = 0;
		(void)slice_skip(&s, one.first_len);
	}
	return 0;
}

enum rtp_kind
rtp_classify(struct slice pkt)
{
	uint8_t b0;

	if (pkt.len == 0)
		return RTP_KIND_BAD;
	b0 = pkt.p[0];
	if (b0 <= 3)
		return RTP_KIND_STUN;
	if (b0 >= 20 && b0 <= 63)
		return RTP_KIND_DTLS;
	if (b0 >= 128 && b0 <= 191) {
		if (pkt.len < 2)
			return RTP_KIND_BAD;
		if (pkt.p[1] >= 192 && pkt.p[1] <= 223)
			return RTP_KIND_RTCP;
		return RTP_KIND_RTP;
	}
	return RTP_KIND_BAD;
}
