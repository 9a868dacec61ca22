/* keyline.h - parse and format key lines: SDES crypto values with selectors. */
#ifndef SBK_KEYLINE_H
#define SBK_KEYLINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/rnd.h"
#include "base/slice.h"
#include "media/suite.h"

/*
 * A key line (see sbckit(7)) is an RFC 4568 SDES crypto value, optionally
 * preceded by selectors and optionally by an a=crypto tag:
 *
 *   [NAME=VALUE ...] [a=crypto:TAG | TAG] SUITE KEY-PARAMS [SESSION-PARAMS]
 *   KEY-PARAMS = inline:BASE64[|LIFETIME][|MKI:LEN] *(";" inline:...)
 *
 * Known selectors are checked: call-id=ID, ssrc=0xHEX (or decimal),
 * src=ADDR:PORT, dst=ADDR:PORT (IPv6 as [ADDR]:PORT), dir=in|out, media=N
 * (media index in an SDP), type=TOKEN (media type: audio, video...), tag=N.
 * Other NAME=VALUE selectors are KEPT verbatim (readers may ignore them; a
 * newer writer may add some), and come back from keyline_selector().
 *
 * Session parameters (UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP,
 * UNAUTHENTICATED_SRTP, KDR=n, WSH=n, FEC_ORDER=..., FEC_KEY=..., and
 * unknown ones) are kept verbatim and formatted back; the three flags, KDR
 * and WSH are also decoded.
 *
 * Ownership: a struct keyline owns all its data, including a copy of every
 * selector value; nothing returned by an accessor outlives the keyline or a
 * later change to it. Key material is wiped (OPENSSL_cleanse) by
 * keyline_free() and keyline_clear_keys().
 */
struct keyline;

#define KEYLINE_MAX_KEYS 8	/* inline: keys per line */
#define KEYLINE_MAX_MKI 128	/* MKI length, bytes (RFC 4568) */
#define KEYLINE_MAX_LEN 2048	/* longest line we parse */

/* Session-parameter flags (keyline_flags()). */
#define KEYLINE_UNENCRYPTED_SRTP	0x1u
#define KEYLINE_UNENCRYPTED_SRTCP	0x2u
#define KEYLINE_UNAUTHENTICATED_SRTP	0x4u

enum keyline_dir { KEYLINE_DIR_NONE = 0, KEYLINE_DIR_IN, KEYLINE_DIR_OUT };

/* An empty key line for `suite` (no keys, no selectors); NULL: E_NOMEM. */
struct keyline *keyline_new(const struct suite *suite) WUR;
/* A deep copy; NULL: E_NOMEM. */
struct keyline *keyline_dup(const struct keyline *kl) WUR;
/* Wipes the keys, frees; keyline_free(NULL) does nothing. */
void keyline_free(struct keyline *kl);

/*
 * 1 if `line` is blank or a comment (first non-blank byte '#'), else 0.
 * Readers of key files skip such lines before keyline_parse().
 */
int keyline_is_comment(struct slice line);

/*
 * Parse one key line (no line terminator needed; a trailing CR/LF is
 * ignored). On success *out is a new keyline the caller frees. On failure
 * returns E_SYNTAX (grammar), E_KEY (bad base64, key length not matching the
 * suite, unknown suite), E_RANGE (number out of range) or E_BIG (too long,
 * too many keys or selectors), and writes a lower-case reason such as
 * "key is 29 bytes, AES_CM_128_HMAC_SHA1_80 needs 30" into `why` (may be
 * NULL; `whysz` bytes, always NUL-terminated when whysz > 0).
 */
int keyline_parse(struct slice line, struct keyline **out, char *why,
    size_t whysz) WUR;

/* What to write in keyline_format(). */
#define KEYLINE_FMT_SELECTORS	0x1u	/* "name=value " prefixes */
#define KEYLINE_FMT_TAG		0x2u	/* "TAG " before the suite (a=crypto) */

/*
 * Append the line (no newline) to `out`. With KEYLINE_FMT_TAG and a tag set
 * the result is an a=crypto value: "1 AES_CM_128_HMAC_SHA1_80 inline:...".
 * Returns 0, E_BIG (out full), E_STATE (no key).
 */
int keyline_format(const struct keyline *kl, unsigned fmt, struct buf *out) WUR;

/* --- the crypto --- */
const struct suite *keyline_suite(const struct keyline *kl);
size_t keyline_nkeys(const struct keyline *kl);
/*
 * Key `i`'s master key followed by its master salt: suite->key_len +
 * suite->salt_len bytes (the salt starts at key_len); NULL if no key `i`.
 * This is the layout libsrtp2 wants.
 */
const uint8_t *keyline_master(const struct keyline *kl, size_t i);
/* Key `i`'s lifetime in packets; 0 when not given. */
uint64_t keyline_lifetime(const struct keyline *kl, size_t i);
/* Key `i`'s MKI: returns its length in bytes (0: none) and sets *value. */
size_t keyline_mki(const struct keyline *kl, size_t i, uint64_t *value);

/*
 * Add a key: `len` must be suite key_len + salt_len (else E_KEY). lifetime 0
 * means none (a power of two is written as 2^N); mki_len 0 means no MKI,
 * else 1..128 and `mki` must fit in it (E_RANGE). E_BIG after
 * KEYLINE_MAX_KEYS keys.
 */
int keyline_add_key(struct keyline *kl, const uint8_t *master, size_t len,
    uint64_t lifetime, uint64_t mki, size_t mki_len) WUR;
/* Add a fresh random key (lib/rnd), no lifetime, no MKI. */
int keyline_add_random_key(struct keyline *kl) WUR;
/* The same with the bytes from `rp` (lib/base/rnd.h; NULL: RAND_bytes). */
int keyline_add_pool_key(struct keyline *kl, struct rnd_pool *rp) WUR;
/* Wipe and drop every key. */
void keyline_clear_keys(struct keyline *kl);

/* --- session parameters --- */
unsigned keyline_flags(const struct keyline *kl);
/*
 * Add the session parameters of KEYLINE_* `flags` the line does not have
 * yet (an answer mirrors the offer's UNENCRYPTED_SRTCP and friends).
 * Returns 0 or E_BIG.
 */
int keyline_add_flags(struct keyline *kl, unsigned flags) WUR;
/* KDR=n (0..24) or -1; WSH=n or -1. */
int keyline_kdr(const struct keyline *kl);
long keyline_wsh(const struct keyline *kl);
/* All session parameters as written, space-separated (may be empty). */
struct slice keyline_session_params(const struct keyline *kl);

/* --- the a=crypto tag --- */
/* The tag (0..999999999) or -1 when none. */
long keyline_tag(const struct keyline *kl);
int keyline_set_tag(struct keyline *kl, long tag) WUR;

/* --- selectors --- */
/*
 * The value of selector `name` ("call-id", "src", or any kept unknown
 * one); a NULL slice (p NULL, len 0) when absent.
 */
struct slice keyline_selector(const struct keyline *kl, const char *name);
/*
 * Set, replace or (value.len == 0) remove a selector. Known names are
 * checked (E_SYNTAX / E_RANGE); names are [a-z0-9_-]+. Values cannot hold
 * blanks. E_BIG when full.
 */
int keyline_set_selector(struct keyline *kl, const char *name,
    struct slice value) WUR;
/* Number of selectors and the i-th one, in line order. */
size_t keyline_nselectors(const struct keyline *kl);
int keyline_selector_at(const struct keyline *kl, size_t i,
    struct slice *name, struct slice *value) WUR;

/* Decoded forms of the known selectors: 0, or E_NOTFOUND when absent. */
int keyline_ssrc(const struct keyline *kl, uint32_t *ssrc) WUR;
/* src= / dst= as sockaddr_in or sockaddr_in6 (port in network order). */
int keyline_src(const struct keyline *kl, struct sockaddr_storage *ss) WUR;
int keyline_dst(const struct keyline *kl, struct sockaddr_storage *ss) WUR;
enum keyline_dir keyline_dir(const struct keyline *kl);
/* media=N or -1. */
long keyline_media(const struct keyline *kl);

/*
 * Parse "ADDR:PORT" / "[ADDR6]:PORT" (also used for src=/dst=). Returns 0,
 * E_SYNTAX or E_RANGE.
 */
int keyline_parse_addr(struct slice s, struct sockaddr_storage *ss) WUR;

#endif
