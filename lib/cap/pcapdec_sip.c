/* pcapdec_sip.c - pcapdec: keys from the SDP of cleartext SIP in a capture. */
#include <stdlib.h>
#include <string.h>

#include "cap/pcapdec_int.h"

/* --- SIP in the capture --- */

int
pcapdec_looks_like_sip(struct slice p)
{
	static const char *starts[] = { "SIP/2.0 ", "INVITE ", "ACK ", "BYE ",
	    "UPDATE ", "PRACK ", "CANCEL ", "OPTIONS ", "REGISTER ",
	    "NOTIFY ", "SUBSCRIBE ", "INFO ", "REFER ", "MESSAGE " };
	size_t i, n;

	/* every UDP payload comes here: RTP (first byte >= 128) leaves at
	 * once */
	if (p.len < 8 || p.p[0] < 'A' || p.p[0] > 'U')
		return 0;
	for (i = 0; i < sizeof(starts) / sizeof(*starts); i++) {
		n = strlen(starts[i]);
		if (p.len >= n && memcmp(p.p, starts[i], n) == 0)
			return 1;
	}
	return 0;
}

void
pcapdec_sip_message(struct pcapdec *d, struct slice raw)
{
	const struct sip_hdr *ct;
	struct sip_msg *m;
	char why[160];
	int e;

	if ((m = malloc(sizeof(*m))) == NULL)
		return;
	if (sip_parse(m, raw) != 0 || m->body.len == 0)
		goto out;
	ct = sip_find(m, SIP_H_CONTENT_TYPE);
	if (ct != NULL && !slice_case_eq_cstr(ct->value, "application/sdp"))
		goto out;
	e = pcapdec_add_sdp_from(d, m->body, m->call_id, d->sip_from, why,
	    sizeof(why));
	if (e != 0)
		log_msg(d->o.log, LOG_WARN, "sdp in sip message ignored: %s",
		    why);
out:
	free(m);
}

void
pcapdec_tcp_segment(struct pcapdec *d, const struct cap_pkt *p)
{
	struct tcpflow *f = NULL, *freef = NULL;
	struct slice pl = p->payload, msg;
	uint32_t skip;
	size_t i;
	int r;

	for (i = 0; i < MAX_TCP_FLOWS; i++) {
		struct tcpflow *x = &d->flows[i];

		if (!x->used) {
			if (freef == NULL)
				freef = x;
			continue;
		}
		if (memcmp(&x->src, &p->src, sizeof(p->src)) == 0 &&
		    memcmp(&x->dst, &p->dst, sizeof(p->dst)) == 0) {
			f = x;
			break;
		}
	}
	if (f == NULL) {
		if (pl.len == 0 || !pcapdec_looks_like_sip(pl) || freef == NULL)
			return;
		f = freef;
		if ((f->fr = sip_framer_new(65536)) == NULL)
			return;
		f->used = 1;
		f->src = p->src;
		f->dst = p->dst;
		f->next = p->tcp_seq;
	}
	if (pl.len == 0)
		goto fin;
	skip = f->next - p->tcp_seq;	/* already seen (retransmission) */
	if ((int32_t)skip < 0) {
		/* a gap: what we missed is lost; start over at a message */
		sip_framer_free(f->fr);
		f->fr = sip_framer_new(65536);
		if (f->fr == NULL || !pcapdec_looks_like_sip(pl)) {
			f->used = 0;
			sip_framer_free(f->fr);
			f->fr = NULL;
			return;
		}
		skip = 0;
		f->next = p->tcp_seq;
	}
	if (skip >= pl.len)
		goto fin;
	pl.p += skip;
	pl.len -= skip;
	f->next += (uint32_t)pl.len;
	if (sip_framer_feed(f->fr, pl.p, pl.len) != 0)
		goto drop;
	while ((r = sip_framer_next(f->fr, &msg)) != SIP_FRAME_NONE) {
		if (r < 0)
			goto drop;
		if (r == SIP_FRAME_MSG)
			pcapdec_sip_message(d, msg);
	}
fin:
	if (p->tcp_flags & 0x05) {	/* FIN or RST */
drop:
		sip_framer_free(f->fr);
		f->fr = NULL;
		f->used = 0;
	}
}
