/* pcapdec_int.h - pcapdec's state, shared by its files (cap/ only). */
#ifndef SBK_PCAPDEC_INT_H
#define SBK_PCAPDEC_INT_H

#include <stdint.h>
#include <stdio.h>

#include "cap/cap.h"
#include "cap/pcapdec.h"
#include "cap/tlskeys.h"
#include "cap/wav.h"
#include "media/keyline.h"
#include "media/rtpsec.h"
#include "media/suite.h"
#include "sip/sip.h"

#define MAX_KEYS 4096
#define MAX_CTX (2 * KEYLINE_MAX_KEYS)	/* AES-192: two KDFs each */
#define MAX_TCP_FLOWS 256
#define MAX_ENDPOINTS 4096
#define MAX_QUEUE 4096		/* frames held behind a pending fragment */
#define PKT_MAX 65536
#define HOPELESS 32		/* failed binds before trying less hard */

/* A key we may use. */
struct key {
	struct keyline *kl;
	const struct suite *suite;
	struct rtpsec *ctx[MAX_CTX];
	int libsrtp_kdf[MAX_CTX];
	size_t nctx;
	uint64_t order;		/* added order: newer keys are tried first */
	int from_sip;		/* learned from SIP in the capture: 1 in
				 * clear, 2 inside TLS */
	int from_sdp;		/* from SDP: an --sdp file, or SIP */
	int from_dtls;		/* exported from a DTLS handshake */
	int has_ssrc, has_src, has_dst;
	enum keyline_dir dir;	/* in: src is the peer's; out: dst is */
	uint32_t ssrc;
	struct cap_addr src, dst;
	struct slice call_id;	/* borrowed from kl */
	char unusable[80];	/* "": usable; else why not (KDR=n), nctx 0 */
};

/* A media endpoint seen in SDP, and its call. */
struct endpoint {
	struct cap_addr a;
	char call_id[128];
};

struct skey {
	uint8_t rtcp;
	uint8_t pad[3];
	uint32_t ssrc;
	struct cap_addr src, dst;
};

/* How a stream's key was found (the report's "key" column). */
enum how {
	HOW_NONE = 0,
	HOW_SEL,	/* a key line's selectors fit it */
	HOW_ANY,	/* a key line without selectors */
	HOW_ADDR,	/* an SDP key, by its c= and m= address */
	HOW_AUTH	/* tried by authentication: no address fits (NAT) */
};

struct stream {
	struct skey k;
	struct stream *next;	/* hash chain */
	struct key *key;
	size_t ctxi;
	uint8_t how;		/* enum how of `key` */
	uint8_t tried;		/* no key: 1 SDP, 2 SIP keys were tried by
				 * authentication on it and it is in an
				 * SDP's media (reported failed) */
	uint8_t auth_left;	/* packets SDP keys may still be tried on */
	uint8_t auth_rounds;
	uint64_t auth_order;	/* d->key_order when its round began */
	uint64_t desc_order;	/* d->key_order when `described` was set */
	int described;		/* an SDP names its source or destination */
	struct key *unsup;	/* an unusable key that fits it, or NULL */
	uint64_t packets, decrypted, fail[PCAPDEC_NFAIL];
	uint32_t bind_fails;
	int roc_known;
	uint32_t roc_first;
	/* sequence statistics (RTP) */
	int have_seq;
	uint64_t ext_first, ext_max;
	int pt;
	struct wav *wav;
	FILE *raw;
	int out_failed;
};

struct tcpflow {
	int used;
	struct cap_addr src, dst;
	uint32_t next;
	struct sip_framer *fr;
};

struct qframe {
	struct cap_frame f;
	uint8_t *buf;
	uint64_t serial;	/* 0: not a fragment */
	struct cap_pkt pkt;	/* for fragments */
};

struct pcapdec {
	struct pcapdec_opts o;
	struct key *keys[MAX_KEYS];
	size_t nkeys;
	uint64_t key_order;
	struct endpoint *eps;
	size_t neps;
	struct stream **tab;
	size_t tabsz;
	struct stream **list;
	size_t nstreams, liststz;
	struct tcpflow flows[MAX_TCP_FLOWS];
	struct cap_defrag *defrag;
	struct cap_writer *w;
	struct qframe *q;
	size_t qhead, qlen;
	uint8_t *pkt, *frame, *dgram;
	struct pcapdec_totals t;
	uint64_t bytes;
	int out_err;
	struct buf *sdpbuf;	/* a plain SDP for the output */
	uint8_t *sipbuf;	/* a plain SIP message for the output */
	int sip_from;		/* key source of SIP: 1 clear, 2 inside TLS */
	/* SIP inside TLS (pcapdec_tls.c): NULL without a key log */
	struct tlskeys *tlskeys;
	struct tlsconn **ctab;
	size_t nconns;
	size_t hunts;		/* connections searched without a hello */
	uint8_t *tlsout;	/* -w: the SIP a frame completed */
	size_t tlsoutlen;
#define TLS_ITEMS 256
	size_t tlsitems[TLS_ITEMS];	/* where each message ends in it */
	size_t ntlsitems;
	/* DTLS-SRTP handshakes (pcapdec_dtls.c) */
	struct dtlsflow **dflows;
	size_t ndflows;
};

/*
 * The files of a run, each one concern:
 *   pcapdec.c         the run: frames in, defragmentation, life cycle
 *   pcapdec_key.c     keys: key lines, SDP bodies, the endpoints they name
 *   pcapdec_sip.c     SIP in the capture (UDP, TCP streams joined in order)
 *   pcapdec_match.c   the stream table, which key fits a stream, decryption
 *   pcapdec_out.c     per-stream outputs (WAV, raw), the output pcap queue
 *   pcapdec_sdprw.c   the output's SIP: its SDP bodies made plain RTP
 *   pcapdec_report.c  totals and the per-stream report
 *   pcapdec_tls.c     SIP inside TLS: connections, -w rewriting
 *   pcapdec_dtls.c    DTLS-SRTP handshakes: their exported keys
 */

/* pcapdec_key.c */
void pcapdec_key_free(struct key *k);
/* Add the a=crypto keys of SDP `body` (call_id may be empty). */
int pcapdec_add_sdp_from(struct pcapdec *d, struct slice body,
    struct slice call_id, int from_sip, char *why, size_t whysz);

/* A key exported from a DTLS handshake (reported as "dtls"). */
int pcapdec_add_key_dtls(struct pcapdec *d, const struct keyline *kl,
    char *why, size_t whysz);

/* pcapdec_dtls.c */
struct dtlsflow;
/* A UDP datagram: 0 when not DTLS (or no key log), 1 when DTLS (written
 * as it is), 2 when DTLS to leave out of -w (its flow is keyed). */
int pcapdec_dtls_datagram(struct pcapdec *d, const struct cap_pkt *p);
void pcapdec_dtls_free(struct pcapdec *d);

/* pcapdec_sip.c */
int pcapdec_looks_like_sip(struct slice p);
void pcapdec_sip_message(struct pcapdec *d, struct slice raw);
void pcapdec_tcp_segment(struct pcapdec *d, const struct cap_pkt *p);

/* pcapdec_tls.c */
struct tlsconn;
/* A TCP segment: 1 when it belongs to a decrypted TLS connection (it was
 * written, rewritten, here), 0 when the caller goes on with it. */
int pcapdec_tls_segment(struct pcapdec *d, const struct cap_frame *f,
    const struct cap_pkt *p);
void pcapdec_tls_end(struct pcapdec *d);
void pcapdec_tls_free(struct pcapdec *d);

/* pcapdec_sdprw.c */
/*
 * SIP message `msg` with its SDP's SRTP media made plain RTP, into `out`
 * (`outsz` bytes): 1 with *outlen set, 0 when there is nothing to rewrite
 * (no SDP, no SRTP media) or it cannot be. `same_len`: keep the length
 * (a TCP segment), padding with a header; 0 if the rewrite is too short
 * to pad.
 */
int pcapdec_sip_plain(struct pcapdec *d, struct slice msg, int same_len,
    uint8_t *out, size_t outsz, size_t *outlen);

/* pcapdec_match.c */
int pcapdec_decrypt_udp(struct pcapdec *d, const struct cap_pkt *p,
    struct slice pl, uint8_t *buf, size_t *outlen);

/* pcapdec_out.c */
void pcapdec_stream_outputs(struct pcapdec *d, struct stream *s,
    const uint8_t *p, size_t len);
int pcapdec_write_frame(struct pcapdec *d, const struct cap_frame *f);
/* Write `f` now, or behind the queued frames while a datagram is open. */
void pcapdec_emit(struct pcapdec *d, const struct cap_frame *f);
int pcapdec_queue_push(struct pcapdec *d, const struct cap_frame *f,
    uint64_t serial, const struct cap_pkt *pkt);
void pcapdec_queue_flush(struct pcapdec *d, int all);
void pcapdec_queue_patch(struct pcapdec *d, uint64_t serial,
    const uint8_t *dg, size_t dlen);

#endif
