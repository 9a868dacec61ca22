/* keylog.h - key lines for the relay: to rtpsec parameters, to a key log. */
#ifndef SBK_KEYLOG_H
#define SBK_KEYLOG_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "media/keyline.h"
#include "base/net.h"
#include "media/rtpsec.h"

/*
 * The rtpsec parameters of every key of a line, with the storage they
 * point into. Fill with keylog_params(); then pass `&k.p` to rtpsec_new()
 * or relay_side_set_key().
 */
struct keylog_keys {
	struct rtpsec_params p;
	struct rtpsec_key more[KEYLINE_MAX_KEYS - 1];
	uint8_t mki[KEYLINE_MAX_KEYS][RTPSEC_MAX_MKI];
};

/*
 * The rtpsec parameters of `kl`: key 0 in k->p itself, keys 1.. (a
 * multi-key line, RFC 4568 MKIs) in k->p.more, with their lifetimes. The
 * parameters BORROW the keys and salts inside `kl` (valid while `kl`
 * lives, unchanged) and the MKIs, written big-endian into k->mki. Session
 * parameters map to RTPSEC_* flags. Returns 0, E_STATE (no key), E_KEY
 * (several keys whose MKI lengths differ, or without MKIs) or
 * E_UNSUPPORTED (an MKI longer than RTPSEC_MAX_MKI, or KDR=n with n > 0:
 * session keys are derived once, as libsrtp does). WSH=n is a hint and
 * ignored: the replay window is RTPSEC_WINDOW packets.
 */
int keylog_params(const struct keyline *kl, struct keylog_keys *k) WUR;

/*
 * 0 if keylog_params() can map `kl` onto rtpsec, so a relay or a decoder
 * can honour the line as written; else its error (E_STATE, E_KEY,
 * E_UNSUPPORTED, as above) with a lower-case reason in `why` (may be
 * NULL), e.g. "KDR=1: key derivation rate not supported". A caller with
 * a choice of lines (an offer's a=crypto list) skips such a line.
 */
int keylog_check(const struct keyline *kl, char *why, size_t whysz) WUR;

/*
 * A key log: a file that gets one key line per key learned or generated,
 * appended with one write() each, created mode 0600. The struct owns its
 * descriptor and its copy of the path.
 */
struct keylog;

/*
 * Open `path` as base/secfile.h's secfile_append() does (create 0600 or
 * reset to 0600, append, no symbolic link, our own regular file). NULL
 * with *err E_IO and errno: ELOOP (a link), EPERM (another user's file),
 * EINVAL (not a regular file), or the open's own.
 */
struct keylog *keylog_open(const char *path, int *err) WUR;
/* Reopen the same path (after log rotation). Returns 0 or E_IO. */
int keylog_reopen(struct keylog *k) WUR;
void keylog_free(struct keylog *k);

/*
 * Append `kl` (its suite and keys; its own selectors are dropped) with the
 * selectors given: call-id (may be NULL), dir, src and dst (NULL or unset:
 * left out), ssrc (NULL: unknown). Returns 0, E_IO, E_BIG or E_NOMEM.
 */
int keylog_add(struct keylog *k, const struct keyline *kl,
    const char *call_id, enum keyline_dir dir, const struct net_addr *src,
    const struct net_addr *dst, const uint32_t *ssrc) WUR;

#endif
