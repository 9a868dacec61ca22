/* pcapdec.c - decrypt the SRTP/SRTCP streams of a capture (pcap-decrypt). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cap/pcapdec_int.h"

const char *
pcapdec_fail_name(enum pcapdec_fail f)
{
	static const char *n[] = { "no-key", "auth", "replay", "malformed",
	    "unsupported" };

	return (unsigned)f < PCAPDEC_NFAIL ? n[f] : "?";
}

const char *
pcapdec_status_name(enum pcapdec_status st)
{
	static const char *n[] = { "ok", "partial", "failed", "unsupported",
	    "no-key" };

	return (unsigned)st <= PCAPDEC_ST_NOKEY ? n[st] : "?";
}

/* --- the run --- */

/*
 * The fragments of datagram `g` (decoded as `u`) are to carry UDP payload
 * `pl` (`len` bytes, no longer than the old one): patch the queued ones.
 */
static void
patch_udp(struct pcapdec *d, const struct cap_pkt *u,
    const struct cap_dgram *g, const uint8_t *pl, size_t len)
{
	uint16_t c;

	if (8 + len > PKT_MAX)
		return;
	memcpy(d->dgram, g->data.p, 8);
	memmove(d->dgram + 8, pl, len);
	d->dgram[4] = (uint8_t)((8 + len) >> 8);
	d->dgram[5] = (uint8_t)(8 + len);
	if (u->ipver == 6 || u->udp_sum != 0) {
		d->dgram[6] = d->dgram[7] = 0;
		c = cap_udp_checksum(u, d->dgram, 8 + len);
		d->dgram[6] = (uint8_t)(c >> 8);
		d->dgram[7] = (uint8_t)c;
	}
	pcapdec_queue_patch(d, g->serial, d->dgram, 8 + len);
}

/* Rewrite the output's SIP (see pcapdec_sdprw.c)? */
static int
sip_out(const struct pcapdec *d, const struct cap_frame *f)
{
	return d->w != NULL && !d->o.keep_sdp && f->caplen == f->wirelen &&
	    f->caplen <= PKT_MAX;
}

/* A SIP datagram: its SDP made plain into `o` (d->frame); 1 if done. */
static int
sip_out_udp(struct pcapdec *d, const struct cap_frame *f,
    const struct cap_pkt *p, struct cap_frame *o)
{
	size_t len, n;

	if (!sip_out(d, f) ||
	    !pcapdec_sip_plain(d, p->payload, 0, d->sipbuf, PKT_MAX, &len) ||
	    cap_rewrite_udp(f->data, f->caplen, p, d->sipbuf, len, d->frame,
	    PKT_MAX + 256, &n) != 0)
		return 0;
	*o = *f;
	o->data = d->frame;
	o->caplen = o->wirelen = (uint32_t)n;
	return 1;
}

/*
 * A TCP segment: the whole SIP messages it starts with get their SDP made
 * plain in place, each keeping its length (the sequence numbers of the
 * stream stay right), into `o` (d->frame); 1 if any was. A message split
 * across segments is left as it is.
 */
static int
sip_out_tcp(struct pcapdec *d, const struct cap_frame *f,
    const struct cap_pkt *p, struct cap_frame *o)
{
	struct sip_msg *m;
	struct slice rest;
	size_t off, pos = 0, mlen, len;
	int changed = 0;

	if (!sip_out(d, f) || !pcapdec_looks_like_sip(p->payload) ||
	    (m = malloc(sizeof(*m))) == NULL)
		return 0;
	memcpy(d->frame, f->data, f->caplen);
	off = (size_t)(p->payload.p - f->data);
	while (pos < p->payload.len) {
		rest = slice_make(d->frame + off + pos, p->payload.len - pos);
		if (!pcapdec_looks_like_sip(rest) || sip_parse(m, rest) != 0 ||
		    sip_find(m, SIP_H_CONTENT_LENGTH) == NULL)
			break;
		mlen = (size_t)(m->body.p + m->body.len - rest.p);
		if (pcapdec_sip_plain(d, slice_make(rest.p, mlen), 1,
		    d->sipbuf, PKT_MAX, &len) && len == mlen) {
			memcpy(d->frame + off + pos, d->sipbuf, len);
			changed = 1;
		}
		pos += mlen;
	}
	free(m);
	if (!changed || cap_fix_tcp_checksum(d->frame, f->caplen, p) != 0)
		return 0;
	*o = *f;
	o->data = d->frame;
	return 1;
}

static void
fragment(struct pcapdec *d, const struct cap_frame *f, const struct cap_pkt *p)
{
	struct cap_dgram g;
	struct cap_pkt u;
	uint64_t serial = 0, ts;
	size_t len;
	int r;

	ts = (uint64_t)f->ts_sec * 1000000u + f->ts_usec;
	r = cap_defrag_add(d->defrag, p, ts, &serial, &g);
	if (r < 0 || pcapdec_queue_push(d, f, r == 0 ? serial : 0, p) != 0) {
		pcapdec_queue_flush(d, 1);
		(void)pcapdec_write_frame(d, f);
		return;
	}
	if (r == 0)
		return;
	/* completed by this frame: re-mark it as part of the datagram */
	d->q[(d->qhead + d->qlen - 1) % MAX_QUEUE].serial = g.serial;
	if (cap_decode_l4(p, g.next, g.data, &u) == 0) {
		if (u.kind == CAP_UDP && u.payload.len <= PKT_MAX &&
		    (memcpy(d->pkt, u.payload.p, u.payload.len), 1) &&
		    pcapdec_decrypt_udp(d, &u, u.payload, d->pkt, &len))
			patch_udp(d, &u, &g, d->pkt, len);
		else if (u.kind == CAP_UDP &&
		    pcapdec_dtls_datagram(d, &u) != 0)
			;	/* DTLS: its keys; written as it is */
		else if (u.kind == CAP_UDP &&
		    pcapdec_looks_like_sip(u.payload)) {
			if (!d->o.no_sip)
				pcapdec_sip_message(d, u.payload);
			if (d->w != NULL && !d->o.keep_sdp &&
			    pcapdec_sip_plain(d, u.payload, 0, d->sipbuf,
			    PKT_MAX, &len) && len <= u.payload.len)
				patch_udp(d, &u, &g, d->sipbuf, len);
		}
	}
	/* nothing of it is pending any more */
	for (size_t i = 0; i < d->qlen; i++) {
		struct qframe *q = &d->q[(d->qhead + i) % MAX_QUEUE];

		if (q->serial == g.serial)
			q->serial = 0;
	}
	pcapdec_queue_flush(d, 0);
}

static void
frame(struct pcapdec *d, const struct cap_frame *f)
{
	struct cap_frame o;
	struct cap_pkt p;
	size_t len, n, off;

	d->t.frames++;
	if (cap_decode(f->dlt, f->data, f->caplen, &p) != 0 ||
	    p.kind == CAP_OTHER)
		goto plain;
	if (p.kind == CAP_FRAG) {
		fragment(d, f, &p);
		return;
	}
	if (p.kind == CAP_TCP) {
		if (pcapdec_tls_segment(d, f, &p))
			return;
		if (!d->o.no_sip)
			pcapdec_tcp_segment(d, &p);
		if (sip_out_tcp(d, f, &p, &o))
			f = &o;
		goto plain;
	}
	if (pcapdec_looks_like_sip(p.payload)) {
		if (!d->o.no_sip)
			pcapdec_sip_message(d, p.payload);
		if (sip_out_udp(d, f, &p, &o))
			f = &o;
		goto plain;
	}
	switch (pcapdec_dtls_datagram(d, &p)) {
	case 2:		/* a keyed DTLS-SRTP flow's: left out */
		return;
	case 1:
		goto plain;
	default:
		break;
	}
	/* decrypt in a copy of the frame, then shrink it in place */
	if (f->caplen > PKT_MAX + 256)
		goto plain;
	memcpy(d->frame, f->data, f->caplen);
	off = (size_t)(p.payload.p - f->data);
	if (!pcapdec_decrypt_udp(d, &p, p.payload, d->frame + off, &len))
		goto plain;
	if (cap_shrink_udp(d->frame, f->caplen, &p, len, &n) != 0)
		goto plain;
	o = *f;
	o.data = d->frame;
	o.wirelen = f->wirelen - (f->caplen - (uint32_t)n);
	o.caplen = (uint32_t)n;
	f = &o;
plain:
	pcapdec_emit(d, f);
}

int
pcapdec_run(struct pcapdec *d, const char *path, char *why, size_t whysz)
{
	struct cap_reader *r;
	struct cap_frame f;
	char eb[512];
	int rc, ret = 0;

	if (strcmp(path, "-") != 0 && access(path, R_OK) != 0) {
		if (whysz)
			snprintf(why, whysz, "%s: %s", path, strerror(errno));
		return E_IO;
	}
	if ((r = cap_open(path, eb, sizeof(eb))) == NULL) {
		if (whysz)
			snprintf(why, whysz, "%s: %s", path, eb);
		return E_SYNTAX;
	}
	if (d->o.out_pcap != NULL) {
		d->w = cap_writer_open(d->o.out_pcap, cap_reader_dlt(r),
		    cap_reader_snaplen(r), eb, sizeof(eb));
		if (d->w == NULL) {
			if (whysz)
				snprintf(why, whysz, "%s: %s", d->o.out_pcap,
				    eb);
			cap_close(r);
			return E_IO;
		}
	}
	while ((rc = cap_read(r, &f)) == 1) {
		d->bytes += f.caplen;
		frame(d, &f);
		if (d->o.progress != NULL && (d->t.frames & 0xffff) == 0)
			d->o.progress(d->o.progress_arg, d->t.frames, d->bytes);
	}
	if (rc < 0) {
		if (whysz)
			snprintf(why, whysz, "%s: %s", path,
			    cap_reader_error(r));
		d->t.truncated = rc == E_SHORT;
		ret = rc == E_SHORT ? E_SHORT : E_SYNTAX;
	}
	pcapdec_tls_end(d);
	pcapdec_queue_flush(d, 1);
	cap_close(r);
	d->t.frag_dropped = cap_defrag_dropped(d->defrag);
	if (cap_writer_close(d->w) != 0)
		d->out_err = 1;
	d->w = NULL;
	for (size_t i = 0; i < d->nstreams; i++) {
		struct stream *s = d->list[i];

		if (s->raw != NULL && fclose(s->raw) != 0)
			d->out_err = 1;
		s->raw = NULL;
		if (wav_close(s->wav) != 0)
			d->out_err = 1;
		s->wav = NULL;
	}
	if (d->out_err && ret == 0) {
		if (whysz)
			snprintf(why, whysz, "writing the output failed");
		ret = E_IO;
	}
	return ret;
}

/* --- life cycle --- */

struct pcapdec *
pcapdec_new(const struct pcapdec_opts *o, int *err)
{
	struct pcapdec *d;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		*err = E_NOMEM;
		return NULL;
	}
	d->o = *o;
	d->sip_from = 1;
	if (d->o.max_streams == 0)
		d->o.max_streams = 65536;
	d->tabsz = 256;
	d->tab = calloc(d->tabsz, sizeof(*d->tab));
	d->eps = calloc(MAX_ENDPOINTS, sizeof(*d->eps));
	d->q = calloc(MAX_QUEUE, sizeof(*d->q));
	d->pkt = malloc(PKT_MAX + RTPSEC_MAX_OVERHEAD);
	d->frame = malloc(PKT_MAX + 256);
	d->dgram = malloc(PKT_MAX + 8);
	d->sipbuf = malloc(PKT_MAX);
	d->defrag = cap_defrag_new(256, 65535, 30 * 1000000ull);
	if (d->tab == NULL || d->eps == NULL || d->q == NULL ||
	    d->pkt == NULL || d->frame == NULL || d->dgram == NULL ||
	    d->sipbuf == NULL || d->defrag == NULL) {
		pcapdec_free(d);
		*err = E_NOMEM;
		return NULL;
	}
	return d;
}

void
pcapdec_free(struct pcapdec *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nkeys; i++)
		pcapdec_key_free(d->keys[i]);
	for (i = 0; i < d->nstreams; i++) {
		if (d->list[i]->raw != NULL)
			fclose(d->list[i]->raw);
		(void)wav_close(d->list[i]->wav);
		free(d->list[i]);
	}
	for (i = 0; i < MAX_TCP_FLOWS; i++)
		sip_framer_free(d->flows[i].fr);
	for (i = 0; d->q != NULL && i < d->qlen; i++)
		free(d->q[(d->qhead + i) % MAX_QUEUE].buf);
	if (d->w != NULL)
		(void)cap_writer_close(d->w);
	cap_defrag_free(d->defrag);
	free(d->list);
	free(d->tab);
	free(d->eps);
	free(d->q);
	if (d->pkt != NULL)
		OPENSSL_cleanse(d->pkt, PKT_MAX + RTPSEC_MAX_OVERHEAD);
	free(d->pkt);
	free(d->frame);
	free(d->dgram);
	free(d->sipbuf);
	buf_free(d->sdpbuf);
	pcapdec_tls_free(d);
	pcapdec_dtls_free(d);
	free(d);
}
