/* pcapdec_sdprw.c - pcapdec: the output's SIP, its SDP made plain RTP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cap/pcapdec_int.h"
#include "media/sdp.h"
#include "media/sdprw.h"

/*
 * The output pcap holds RTP where the capture had SRTP, so the SDP that
 * describes those streams must say so too: Wireshark and sngrep follow
 * the SDP, and one that says RTP/SAVP makes them dissect the plaintext as
 * SRTP (and cut the last 10 bytes of audio off as an auth tag). Every SRTP
 * media (SDES or DTLS) is rewritten by lib/media/sdprw, the code
 * sdp-rewrite --to-rtp runs: RTP/AVP(F), no a=crypto, no DTLS attributes.
 */

#define PAD_NAME "X-Sbckit-Pad: "

/*
 * The SDP body `body` made plain into `out`: 1 if any media was SRTP,
 * else 0 (also when it is not SDP).
 */
static int
plain_sdp(struct slice body, struct buf *out)
{
	struct sdp *s;
	size_t m, n;
	int any = 0;

	if (sdp_parse(body, &s, NULL) != 0)
		return 0;
	n = sdp_media_count(s);
	for (m = 0; m < n; m++) {
		if (!sdprw_media_is_srtp(s, m))
			continue;
		if (sdprw_media_to_rtp(s, m) != 0) {
			any = 0;
			break;
		}
		any = 1;
	}
	if (any && sdp_write(s, out) != 0)
		any = 0;
	sdp_free(s);
	return any;
}

static int
put(uint8_t *out, size_t outsz, size_t *n, const void *p, size_t len)
{
	if (len > outsz - *n)
		return -1;
	memcpy(out + *n, p, len);
	*n += len;
	return 0;
}

int
pcapdec_sip_plain(struct pcapdec *d, struct slice msg, int same_len,
    uint8_t *out, size_t outsz, size_t *outlen)
{
	const struct sip_hdr *ct, *cl;
	struct sip_msg *m = NULL;
	const uint8_t *bend, *mend;
	char num[24];
	size_t n = 0, want, pad, i;
	int ok = 0;

	if (d->sdpbuf == NULL && (d->sdpbuf = buf_new(SDP_MAX_LEN)) == NULL)
		return 0;
	buf_reset(d->sdpbuf);
	if ((m = malloc(sizeof(*m))) == NULL)
		return 0;
	if (sip_parse(m, msg) != 0 || m->body.len == 0)
		goto out;
	ct = sip_find(m, SIP_H_CONTENT_TYPE);
	if (ct != NULL && !slice_case_eq_cstr(ct->value, "application/sdp"))
		goto out;
	if (!plain_sdp(m->body, d->sdpbuf))
		goto out;
	cl = sip_find(m, SIP_H_CONTENT_LENGTH);
	bend = m->body.p + m->body.len;
	mend = msg.p + msg.len;
	snprintf(num, sizeof(num), "%zu", buf_len(d->sdpbuf));
	/* the headers, Content-Length's value replaced */
	if (cl != NULL) {
		if (put(out, outsz, &n, msg.p, (size_t)(cl->value.p - msg.p)) ||
		    put(out, outsz, &n, num, strlen(num)) ||
		    put(out, outsz, &n, cl->value.p + cl->value.len,
		    (size_t)(m->hdr_end.p - (cl->value.p + cl->value.len))))
			goto out;
	} else if (put(out, outsz, &n, msg.p, (size_t)(m->hdr_end.p - msg.p)))
		goto out;
	/* a stream's segments keep their length: pad with a header */
	want = n + (size_t)(m->body.p - m->hdr_end.p) + buf_len(d->sdpbuf) +
	    (size_t)(mend - bend);
	if (same_len) {
		if (want + strlen(PAD_NAME) + 1 + m->hdr_end.len > msg.len)
			goto out;
		pad = msg.len - want - strlen(PAD_NAME) - m->hdr_end.len;
		if (put(out, outsz, &n, PAD_NAME, strlen(PAD_NAME)))
			goto out;
		for (i = 0; i < pad; i++)
			if (put(out, outsz, &n, "x", 1))
				goto out;
		if (put(out, outsz, &n, m->hdr_end.p, m->hdr_end.len))
			goto out;
	}
	if (put(out, outsz, &n, m->hdr_end.p, (size_t)(m->body.p -
	    m->hdr_end.p)) ||
	    put(out, outsz, &n, buf_data(d->sdpbuf), buf_len(d->sdpbuf)) ||
	    put(out, outsz, &n, bend, (size_t)(mend - bend)))
		goto out;
	*outlen = n;
	ok = 1;
out:
	free(m);
	return ok;
}
