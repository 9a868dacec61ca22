/* pcapdec_out.c - pcapdec: per-stream WAV/raw outputs, the pcap queue. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cap/pcapdec_int.h"
#include "cap/g711.h"
#include "media/rtp.h"

/* --- per-stream outputs --- */

void
pcapdec_stream_outputs(struct pcapdec *d, struct stream *s, const uint8_t *p,
    size_t len)
{
	struct rtp_hdr h;
	int16_t pcm[PKT_MAX];
	char path[4096];
	int err = 0;

	if (s->k.rtcp || rtp_parse(slice_make(p, len), &h) != 0)
		return;
	if (!s->have_seq) {
		s->have_seq = 1;
		s->ext_first = s->ext_max = h.seq;
	} else {
		uint64_t base = s->ext_max & ~(uint64_t)0xffff;
		uint64_t ext = base | h.seq;
		int16_t delta = (int16_t)(h.seq - (uint16_t)s->ext_max);

		if (delta > 0 && h.seq < (uint16_t)s->ext_max)
			ext += 0x10000;		/* wrapped forward */
		else if (delta < 0 && h.seq > (uint16_t)s->ext_max &&
		    ext >= 0x10000)
			ext -= 0x10000;		/* late, from before a wrap */
		if (ext > s->ext_max)
			s->ext_max = ext;
		if (ext < s->ext_first)
			s->ext_first = ext;
	}
	if (s->pt < 0)
		s->pt = h.pt;
	if (s->out_failed)
		return;
	if (d->o.raw_dir != NULL) {
		if (s->raw == NULL) {
			snprintf(path, sizeof(path), "%s/%08x%s.raw",
			    d->o.raw_dir, s->k.ssrc, "");
			if ((s->raw = fopen(path, "wb")) == NULL)
				goto fail;
		}
		if (h.payload.len && fwrite(h.payload.p, 1, h.payload.len,
		    s->raw) != h.payload.len)
			goto fail;
	}
	if (d->o.wav_dir != NULL && (h.pt == 0 || h.pt == 8) &&
	    h.payload.len > 0) {
		if (s->wav == NULL) {
			snprintf(path, sizeof(path), "%s/%08x.wav",
			    d->o.wav_dir, s->k.ssrc);
			s->wav = wav_open(path, 8000, 8000 * 60, &err);
			if (s->wav == NULL)
				goto fail;
		}
		if (h.pt == 0)
			g711_ulaw_decode(h.payload.p, h.payload.len, pcm);
		else
			g711_alaw_decode(h.payload.p, h.payload.len, pcm);
		err = wav_put(s->wav, h.ts, pcm, h.payload.len);
		if (err == E_IO)
			goto fail;
	}
	return;
fail:
	log_msg(d->o.log, LOG_ERR, "ssrc 0x%08x: output: %s", s->k.ssrc,
	    strerror(errno));
	s->out_failed = 1;
	d->out_err = 1;
}

/* --- output queue (frames held while a fragmented datagram is open) --- */

int
pcapdec_write_frame(struct pcapdec *d, const struct cap_frame *f)
{
	if (d->w == NULL)
		return 0;
	if (cap_write(d->w, f) != 0) {
		d->out_err = 1;
		return E_IO;
	}
	d->t.written++;
	return 0;
}

void
pcapdec_emit(struct pcapdec *d, const struct cap_frame *f)
{
	if (d->qlen > 0) {
		if (pcapdec_queue_push(d, f, 0, NULL) != 0) {
			pcapdec_queue_flush(d, 1);
			(void)pcapdec_write_frame(d, f);
		}
		return;
	}
	(void)pcapdec_write_frame(d, f);
}

int
pcapdec_queue_push(struct pcapdec *d, const struct cap_frame *f,
    uint64_t serial, const struct cap_pkt *pkt)
{
	struct qframe *q;

	if (d->qlen == MAX_QUEUE)
		return E_LIMIT;
	q = &d->q[(d->qhead + d->qlen) % MAX_QUEUE];
	if ((q->buf = malloc(f->caplen ? f->caplen : 1)) == NULL)
		return E_NOMEM;
	memcpy(q->buf, f->data, f->caplen);
	q->f = *f;
	q->f.data = q->buf;
	q->serial = serial;
	if (pkt != NULL)
		q->pkt = *pkt;
	if (pkt != NULL && pkt->kind == CAP_FRAG) {	/* into our copy */
		q->pkt.frag_data.p = q->buf + (pkt->frag_data.p - f->data);
		q->pkt.payload = SLICE_NULL;
	}
	d->qlen++;
	return 0;
}

void
pcapdec_queue_flush(struct pcapdec *d, int all)
{
	struct qframe *q;

	while (d->qlen > 0) {
		q = &d->q[d->qhead];
		if (!all && q->serial && d->defrag != NULL &&
		    cap_defrag_pending(d->defrag, q->serial))
			break;
		(void)pcapdec_write_frame(d, &q->f);
		free(q->buf);
		q->buf = NULL;
		d->qhead = (d->qhead + 1) % MAX_QUEUE;
		d->qlen--;
	}
}

/* Replace the queued fragments of datagram `serial` by their plaintext. */
void
pcapdec_queue_patch(struct pcapdec *d, uint64_t serial, const uint8_t *dg,
    size_t dlen)
{
	size_t i, n;
	uint8_t *nb;

	for (i = 0; i < d->qlen; i++) {
		struct qframe *q = &d->q[(d->qhead + i) % MAX_QUEUE];

		if (q->serial != serial)
			continue;
		if (cap_rewrite_frag(q->buf, q->f.caplen, &q->pkt, dg, dlen,
		    d->frame, PKT_MAX + 256, &n) != 0)
			continue;
		if ((nb = malloc(n ? n : 1)) == NULL)
			continue;
		memcpy(nb, d->frame, n);
		q->f.wirelen -= q->f.caplen - (uint32_t)n;
		q->f.caplen = (uint32_t)n;
		free(q->buf);
		q->buf = nb;
		q->f.data = nb;
	}
}
