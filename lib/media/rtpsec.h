/* rtpsec.h - SRTP/SRTCP protect and unprotect (RFC 3711, 6188, 7714). */
#ifndef SBK_RTPSEC_H
#define SBK_RTPSEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "media/suite.h"

/*
 * One `struct rtpsec` is one direction of one master key: it either
 * protects (RTP -> SRTP, RTCP -> SRTCP) or unprotects (the reverse), for any
 * number of SSRCs that share that key (like libsrtp's ssrc_any_outbound /
 * ssrc_any_inbound templates). Per-SSRC state (rollover counter, replay
 * windows, SRTCP index) is created on an SSRC's first packet: when
 * protecting, at once; when unprotecting, only once that packet has
 * authenticated. Rekeying is a new context; the old one can be kept for a
 * while to unprotect late packets.
 *
 * The output is bit-identical to libsrtp 2.5 (tests/unit/test_rtpsec.c
 * compares packet by packet), with these session parameters (RFC 4568):
 * UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP, UNAUTHENTICATED_SRTP (no SRTP tag is
 * sent or expected). AEAD suites support UNENCRYPTED_SRTCP only.
 * One exception, AES-192 key derivation: see RTPSEC_LIBSRTP_AES192_KDF.
 *
 * Crypto is OpenSSL's (SHA extensions, AES-GCM) and, for AES-CM on x86-64,
 * AES-NI's own (lib/media/aesctr.h), with all key schedules and HMAC inner/outer
 * states computed when the context is made and kept inline; a packet
 * costs no allocation, no logging and no system call. A context is not
 * thread-safe: use one per thread (or lock around it).
 *
 * Packet layouts, as libsrtp writes them (T = tag, E|I = E flag + SRTCP
 * index):
 *   SRTP  AES-CM:  header | payload* | MKI | T
 *   SRTP  GCM:     header | payload* T | MKI
 *   SRTCP AES-CM:  header(8) | rest* | E|I | MKI | T
 *   SRTCP GCM:     header(8) | rest* T | E|I | MKI
 * (* encrypted)
 */
struct rtpsec;

/* Session parameters (RFC 4568 section 6.3), for rtpsec_params.flags. */
#define RTPSEC_UNENCRYPTED_SRTP		0x01u
#define RTPSEC_UNENCRYPTED_SRTCP	0x02u
#define RTPSEC_UNAUTHENTICATED_SRTP	0x04u
/*
 * Protect only: allow sending the same RTP packet index again (an
 * application retransmitting). Without it, like libsrtp, protecting a
 * sequence number already protected fails with E_REPLAY.
 */
#define RTPSEC_ALLOW_REPEAT_TX		0x08u
/*
 * AES_192_CM suites only: derive the session keys the way libsrtp up to
 * 2.6 (Debian 12's 2.5 included) does, with AES-256 over key|salt|zeros,
 * instead of RFC 6188's AES-192 PRF (libsrtp issue #763, fixed in later
 * releases). Without it we follow the RFC (its 7.4 vectors are tested).
 */
#define RTPSEC_LIBSRTP_AES192_KDF	0x10u

#define RTPSEC_MAX_MKI 128	/* bytes, as libsrtp */
/* Master keys per context (libsrtp's SRTP_MAX_NUM_MASTER_KEYS). */
#define RTPSEC_MAX_KEYS 16
/* The most rtpsec_protect*() adds to a packet: tag + E|index + MKI. */
#define RTPSEC_MAX_OVERHEAD (16 + 4 + RTPSEC_MAX_MKI)
/* The replay window, in packets (SRTP and SRTCP, libsrtp's default). */
#define RTPSEC_WINDOW 128
/* Default and largest number of SSRCs one context keeps state for. */
#define RTPSEC_DEFAULT_SSRCS 16
#define RTPSEC_MAX_SSRCS 4096

enum rtpsec_dir { RTPSEC_PROTECT = 1, RTPSEC_UNPROTECT = 2 };

/*
 * A further master key of a context (RFC 4568 lets one a=crypto line carry
 * several, told apart by their MKIs): its master key and salt, of the
 * suite's lengths, and its MKI of the same length as the first key's.
 */
struct rtpsec_key {
	const uint8_t *key;
	const uint8_t *salt;
	const uint8_t *mki;
	uint64_t lifetime;	/* packets; 0: RFC 3711's limits only */
};

/*
 * What rtpsec_new() needs. Everything is borrowed for the duration of the
 * call only: the context keeps its own copies (wiped when freed).
 * `key`/`salt` are the master key and master salt, of exactly the suite's
 * key_len/salt_len (lib/media/suite.h). `mki` is the MKI as it is on the wire
 * (RFC 4568 "MKI:LEN": the value big-endian in LEN bytes), `mki_len` 0 for
 * none. Zero `max_ssrcs` means RTPSEC_DEFAULT_SSRCS; when a context is full
 * the least recently used SSRC's state is dropped for the new one.
 *
 * Several master keys: `more` holds keys 1..`nmore` (key 0 is the one
 * above), up to RTPSEC_MAX_KEYS in all, each with an MKI of `mki_len`
 * bytes (not 0) distinct from the others'. All keys share the per-SSRC
 * state (rollover counter, replay windows), as in libsrtp. Unprotecting
 * takes the key whose MKI the packet carries. Protecting uses one key at
 * a time, key 0 first (see rtpsec_use_key()); a key with a `lifetime`
 * (RFC 4568: packets, SRTP and SRTCP counted together) is used for that
 * many packets, then the next key in order takes over, and when no key
 * is left protecting fails with E_LIMIT. Lifetimes are not enforced when
 * unprotecting: the sender decides when to move to the next MKI, and a
 * receiver that cut a key off early would only lose media (libsrtp, too,
 * applies only RFC 3711's 2^48 limit there).
 */
struct rtpsec_params {
	enum suite_id suite;
	const uint8_t *key;
	size_t key_len;
	const uint8_t *salt;
	size_t salt_len;
	const uint8_t *mki;
	size_t mki_len;
	unsigned flags;		/* RTPSEC_* above */
	unsigned max_ssrcs;
	uint64_t lifetime;	/* of key 0, packets; 0: none */
	const struct rtpsec_key *more;	/* keys 1..nmore, or NULL */
	size_t nmore;
};

/*
 * A new context for direction `dir`, or NULL with *err (if `err` is not
 * NULL) set: E_KEY (unknown suite, wrong key/salt/MKI length, more keys
 * without MKIs or with equal ones, too many keys), E_UNSUPPORTED
 * (a flag the suite cannot do), E_INVAL, E_NOMEM, E_CRYPTO.
 */
struct rtpsec *rtpsec_new(const struct rtpsec_params *p, enum rtpsec_dir dir,
    int *err);
/*
 * A hint, no effect on results: start fetching into the cache what the
 * next protect or unprotect of an RTP (rtcp 0) or RTCP packet on `c`
 * will read (the last SSRC's state, the keys). For a caller with many
 * contexts, a batch at a time: prefetch `c` itself first, then call this,
 * then work. NULL: nothing.
 */
void rtpsec_prefetch(const struct rtpsec *c, int rtcp);

/* Wipe the keys and free; rtpsec_free(NULL) does nothing. */
void rtpsec_free(struct rtpsec *c);

enum suite_id rtpsec_suite(const struct rtpsec *c);
enum rtpsec_dir rtpsec_dir(const struct rtpsec *c);
/* Bytes rtpsec_protect() (rtcp == 0) or _protect_rtcp() adds per packet. */
size_t rtpsec_overhead(const struct rtpsec *c, int rtcp);

/* Number of master keys (1 + rtpsec_params.nmore). */
size_t rtpsec_nkeys(const struct rtpsec *c);
/*
 * Protect with key `i` (0-based, in rtpsec_params order) from now on,
 * like libsrtp's srtp_protect_mki(..., mki_index). Returns 0, E_RANGE (no
 * key `i`) or E_STATE (an unprotect context).
 */
int rtpsec_use_key(struct rtpsec *c, size_t i) WUR;
/* The key the next rtpsec_protect*() will use (before lifetime checks). */
size_t rtpsec_key_in_use(const struct rtpsec *c);
/*
 * 1 if `c` was made from exactly these parameters (suite, flags, every
 * key, salt, MKI and lifetime), else 0 (also for a NULL `c`): whether a
 * new SDP with the same a=crypto may keep the context and its state.
 */
int rtpsec_same_params(const struct rtpsec *c, const struct rtpsec_params *p);

/*
 * Protect the RTP packet of `*len` bytes at `pkt` in place; the buffer has
 * room for `cap` bytes. On success `*len` grows by rtpsec_overhead(c, 0).
 * Returns 0, or: E_SHORT (shorter than its RTP header says), E_SYNTAX (not
 * RTP version 2), E_BIG (cap too small), E_REPLAY (index already sent, see
 * RTPSEC_ALLOW_REPEAT_TX), E_LIMIT (every key's lifetime used up, or the
 * SRTCP index exhausted: time to rekey), E_STATE (an unprotect context),
 * E_CRYPTO. On failure neither the packet nor the context changed.
 */
int rtpsec_protect(struct rtpsec *c, uint8_t *pkt, size_t *len, size_t cap)
    WUR;

/*
 * Unprotect the SRTP packet of `*len` bytes at `pkt` in place; on success
 * `*len` shrinks to the RTP packet. Returns 0, or: E_SHORT (too short for
 * header, tag and MKI), E_SYNTAX (not version 2, or the SRTCP E flag
 * disagrees with UNENCRYPTED_SRTCP), E_NOTFOUND (MKI is not ours),
 * E_AUTH (tag did not verify: wrong key, wrong ROC, tampered), E_REPLAY
 * (seen before, or older than the replay window), E_STATE, E_CRYPTO.
 * On ANY failure neither the packet bytes nor the context changed, so a
 * caller may try another context or another ROC (see rtpsec_set_roc()).
 */
int rtpsec_unprotect(struct rtpsec *c, uint8_t *pkt, size_t *len) WUR;

/* The same for RTCP / SRTCP (SSRC = the sender SSRC at bytes 4..7). */
int rtpsec_protect_rtcp(struct rtpsec *c, uint8_t *pkt, size_t *len,
    size_t cap) WUR;
int rtpsec_unprotect_rtcp(struct rtpsec *c, uint8_t *pkt, size_t *len) WUR;

/*
 * Rollover counter control, for captures that start mid-call and for
 * senders that must continue a stream (RFC 3711 3.3.1).
 *
 * rtpsec_set_roc() creates or resets the state of `ssrc` so that its next
 * SRTP packet is taken to have exactly rollover counter `roc` (index =
 * roc * 65536 + seq, no estimation), with an empty replay window; later
 * packets are estimated from there as usual. SRTCP state is kept.
 * Returns 0, E_NOMEM.
 *
 * rtpsec_get_roc() gives the ROC of the highest index seen (or, just after
 * rtpsec_set_roc(), the ROC set). Returns 0 or E_NOTFOUND (no state).
 */
int rtpsec_set_roc(struct rtpsec *c, uint32_t ssrc, uint32_t roc) WUR;
int rtpsec_get_roc(const struct rtpsec *c, uint32_t ssrc, uint32_t *roc) WUR;

/*
 * Would this SRTP packet authenticate with rollover counter `roc`?
 * Returns 0 (yes), E_AUTH, E_SHORT, E_SYNTAX, E_NOTFOUND (MKI) or E_STATE,
 * and changes nothing at all: no replay check, no decryption, no state.
 * For guessing the ROC of a capture before rtpsec_set_roc(). With
 * UNAUTHENTICATED_SRTP nothing can be checked: E_UNSUPPORTED.
 */
int rtpsec_check_roc(struct rtpsec *c, const uint8_t *pkt, size_t len,
    uint32_t roc) WUR;

/* Forget the state of `ssrc` (a BYE). Returns 0 or E_NOTFOUND. */
int rtpsec_forget(struct rtpsec *c, uint32_t ssrc);

#endif
