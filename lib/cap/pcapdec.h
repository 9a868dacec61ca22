/* pcapdec.h - decrypt the SRTP/SRTCP streams of a capture (pcap-decrypt). */
#ifndef SBK_PCAPDEC_H
#define SBK_PCAPDEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "media/keyline.h"
#include "base/log.h"
#include "base/slice.h"

/*
 * A decryption run: keys are added (key lines, key files, SDP bodies),
 * then pcapdec_run() reads a capture frame by frame (lib/cap), finds the
 * RTP/RTCP streams, learns more keys from the SDP of cleartext SIP in the
 * capture (UDP, and TCP streams joined in order), decrypts with lib/rtpsec
 * and writes every frame to the output pcap in input order, the SRTP and
 * SRTCP ones replaced by their plaintext and the SDP of cleartext SIP made
 * plain RTP (RTP/AVP, no a=crypto: UDP, and TCP segments that hold whole
 * messages; unless keep_sdp). Per-stream results come back as
 * a report (text or JSON) formatted into a buf; nothing is printed.
 *
 * Key matching: a key line's selectors (ssrc=, src=, dst=, call-id=) must
 * all match a stream (RTCP also matches src/dst ports one above the RTP
 * port); a key without selectors may match every stream. Keys from SDP
 * (pcapdec_add_sdp(), and SIP in the capture) carry src= (the SDP's c= and
 * m=) and, from SIP, call-id=; when no key fits a stream by address (NAT:
 * the phone sends from another address than its SDP names), the newest
 * SDP keys are tried on its first packets and authentication decides (a
 * bounded number: see pcapdec_match.c). Such a stream that no key
 * decrypts is a failure when an SDP names its other side (it was promised
 * SRTP), else it has no key. The newest fitting key is tried first, and a
 * stream whose key stops authenticating tries newer keys (a re-INVITE
 * rekey).
 */
struct pcapdec;

/* Why a packet did not decrypt (report order). */
enum pcapdec_fail {
	PCAPDEC_NOKEY = 0,	/* no key fits the stream, or its MKI */
	PCAPDEC_AUTH,		/* authentication failed with every key */
	PCAPDEC_REPLAY,		/* a duplicate, or older than the window */
	PCAPDEC_MALFORMED,	/* too short or not RTP/RTCP after all */
	PCAPDEC_UNSUPPORTED,	/* its key has KDR=n, n > 0 (from SDP) */
	PCAPDEC_NFAIL
};

/*
 * A stream's outcome. A stream is keyed when a key fits it (it
 * decrypted, failed authentication or replay checks under a key, or fits
 * only a key we cannot use); a keyed stream is OK when every packet that
 * was not a replay decrypted, PARTIAL when some did, FAILED when none
 * did, UNSUPPORTED when none did and a key that fits it has a key
 * derivation rate (KDR=n, n > 0: session keys are derived once here, as
 * in libsrtp). NOKEY: not keyed (no key fits; not counted as a failure).
 */
enum pcapdec_status {
	PCAPDEC_ST_OK = 0,
	PCAPDEC_ST_PARTIAL,
	PCAPDEC_ST_FAILED,
	PCAPDEC_ST_UNSUPPORTED,
	PCAPDEC_ST_NOKEY
};

struct pcapdec_opts {
	const char *out_pcap;	/* -w: NULL for none, "-" stdout */
	const char *wav_dir;	/* NULL: no WAV (PCMU/PCMA streams) */
	const char *raw_dir;	/* NULL: no raw payload files */
	int no_sip;		/* do not learn keys from SIP in the capture */
	int keep_sdp;		/* out_pcap: SIP as captured, not made plain */
	uint32_t roc_max;	/* ROC values tried when a stream starts */
	size_t max_streams;	/* 0: 65536 */
	const struct logger *log;	/* may be NULL */
	/* Called about every 65536 frames (may be NULL). */
	void (*progress)(void *arg, uint64_t frames, uint64_t bytes);
	void *progress_arg;
};

/* NULL with *err set (E_NOMEM, E_INVAL). `o` is copied (strings borrowed). */
struct pcapdec *pcapdec_new(const struct pcapdec_opts *o, int *err) WUR;
void pcapdec_free(struct pcapdec *d);

/*
 * Add a key (copied; the caller keeps `kl`). E_KEY for an unusable key,
 * E_UNSUPPORTED for one with a key derivation rate (KDR=n, n > 0), with
 * a reason in `why` (`whysz` bytes; 0 for none).
 */
int pcapdec_add_key(struct pcapdec *d, const struct keyline *kl, char *why,
    size_t whysz) WUR;

/*
 * Add every key line of `text` (one a line, '#' comments and blank lines
 * skipped). On a bad line returns its error with "line N: reason" in `why`;
 * keys before it stay added.
 */
int pcapdec_add_keys_text(struct pcapdec *d, struct slice text, char *why,
    size_t whysz) WUR;

/*
 * Add the a=crypto keys of an SDP body (src= its media's address, which
 * is a hint: see key matching above; no call-id). An offer
 * lists alternatives, so a line with KDR=n (n > 0) is not an error: it is
 * kept as a key that cannot decrypt, and the packets of the streams it
 * fits are counted PCAPDEC_UNSUPPORTED (the streams reported
 * PCAPDEC_ST_UNSUPPORTED) rather than decrypted wrongly (the same for SDP
 * found in the capture).
 */
int pcapdec_add_sdp(struct pcapdec *d, struct slice body, char *why,
    size_t whysz) WUR;

/*
 * Read `path` ("-": stdin) to its end and write the outputs. Returns 0,
 * E_SHORT (the capture ends inside a record: what came before is written
 * and reported), E_SYNTAX (unreadable capture), E_IO (an output failed),
 * E_NOMEM; `why` says what.
 */
int pcapdec_run(struct pcapdec *d, const char *path, char *why, size_t whysz)
    WUR;

/*
 * Add the lines of an NSS key log (SSLKEYLOGFILE; see cap/tlskeys.h):
 * TLS connections in the capture whose client random it names are
 * decrypted, their SIP read like cleartext SIP (keys reported from
 * "tls"), and with -w written as cleartext SIP (see pcapdec_tls.c).
 * E_SYNTAX with "line N: reason" in `why` for a malformed line.
 */
int pcapdec_add_tls_keylog(struct pcapdec *d, struct slice text, char *why,
    size_t whysz) WUR;

/* TLS connections of a run with a key log. */
struct pcapdec_tls_totals {
	uint64_t conns;		/* TLS connections seen */
	uint64_t keyed, tls12, tls13;	/* keys found; their versions */
	uint64_t no_keys;	/* no key log line for the client random */
	uint64_t no_hello;	/* began without a ClientHello */
	uint64_t hunted;	/* keyed all the same (TLS 1.3, key log tried) */
	uint64_t unsupported;	/* a version or suite not decrypted */
	uint64_t not_tracked;	/* over the connection cap */
	uint64_t records, decrypted, failed, nokey, resyncs;
	uint64_t tcp_gaps, tcp_gap_bytes, tcp_dup_bytes;
	uint64_t sip_msgs, sip_pings, not_sip;
	uint64_t ws_conns, ws_msgs;	/* SIP over WebSocket inside TLS */
	uint64_t rewritten, out_dropped, errors;
};

/* DTLS-SRTP handshakes of a run with a key log (UDP 5-tuples). */
struct pcapdec_dtls_totals {
	uint64_t flows;		/* UDP 5-tuples that carried DTLS */
	uint64_t datagrams;	/* DTLS datagrams */
	uint64_t handshakes;	/* ClientHellos (client randoms) seen */
	uint64_t keyed;		/* SRTP keys exported from the key log */
	uint64_t no_keys;	/* no key log line for the client random */
	uint64_t unsupported;	/* no use_srtp, another profile, MKI,
				 * not DTLS 1.2 */
	uint64_t not_tracked;	/* datagrams of flows over the cap */
	uint64_t dropped;	/* -w: DTLS datagrams left out */
};

/* Totals after pcapdec_run(). */
struct pcapdec_totals {
	uint64_t frames, written;
	uint64_t streams, keyed_streams, streams_without_plaintext;
	uint64_t streams_not_ok;	/* keyed, status other than OK */
	uint64_t decrypted, failed[PCAPDEC_NFAIL];
	uint64_t auth_streams;	/* keyed by authentication (SDP, NAT) */
	uint64_t keys, sip_keys;
	uint64_t frag_dropped;
	int truncated;
	struct pcapdec_tls_totals tls;
	struct pcapdec_dtls_totals dtls;
};
void pcapdec_totals(const struct pcapdec *d, struct pcapdec_totals *t);

/* The per-stream report, one line a stream, appended to `out`. */
int pcapdec_report_text(const struct pcapdec *d, struct buf *out) WUR;
/* The same as a JSON document. */
int pcapdec_report_json(const struct pcapdec *d, struct buf *out) WUR;
/*
 * One line per keyed stream that is not OK, appended to `out`:
 * "0x0000abcd rtp 10.1.0.1:20000 -> 10.2.0.1:30000: partial, 46 of 50
 * decrypted (auth 4)". Nothing when every keyed stream is OK.
 */
int pcapdec_report_problems(const struct pcapdec *d, struct buf *out) WUR;

/* A failure reason's report name ("no-key", "auth", ...). */
const char *pcapdec_fail_name(enum pcapdec_fail f);
/* A status's report name ("ok", "partial", "failed", "unsupported",
 * "no-key"). */
const char *pcapdec_status_name(enum pcapdec_status st);

#endif
