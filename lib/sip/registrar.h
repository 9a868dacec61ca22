/* registrar.h - a small built-in SIP registrar: AoR -> flow bindings. */
#ifndef SBK_REGISTRAR_H
#define SBK_REGISTRAR_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "sip/sip.h"
#include "base/slice.h"

/*
 * For labs with no PBX. An address-of-record is keyed by the user part of
 * the REGISTER's To URI (inside phones dial "sip:alice@GATEWAY", so the
 * host part is whatever address they used). An AoR holds up to
 * REG_MAX_BINDINGS bindings, one per Contact URI (compared byte for byte),
 * each with the flow its REGISTER came over, the Contact value as the
 * client wrote it, the Call-ID and CSeq that last touched it and its own
 * expiry (RFC 3261 §10.3). The registrar owns copies of everything.
 */
struct registrar;

#define REG_MAX_BINDINGS 16

struct reg_binding {
	uint64_t flow;
	struct slice contact;	/* the Contact value as sent ("<sip:..>;x") */
	struct slice uri;	/* the URI inside it */
	uint64_t expires_ms;	/* absolute, on the caller's clock */
	uint64_t order;		/* larger: (re)registered more recently */
};

/* At most `max` bindings in all (E_LIMIT beyond). */
struct registrar *registrar_new(size_t max) WUR;
void registrar_free(struct registrar *r);

/*
 * Apply REGISTER `m`, which arrived over `flow` at `now_ms`, by RFC 3261
 * §10.3 steps 5-8: the Expires header gives the default lifetime (3600 s
 * without it), a Contact's "expires" parameter its own; lifetimes are
 * capped at `max_s` seconds; expires 0 removes that Contact's binding;
 * "Contact: *" (only with Expires: 0) removes them all; a binding already
 * touched by the same Call-ID with a CSeq as high or higher is not
 * changed. A REGISTER without Contact only asks for the list. On success,
 * appends one "Contact: <uri>;params;expires=N\r\n" line for every
 * binding of the AoR that is left (the 200 OK must list them all) to
 * `contacts`. The message is borrowed for the call.
 *
 * Returns 0, E_SYNTAX (no usable To, a bad Contact or expires, "*" with
 * other Contacts or a non-zero Expires), E_STATE (out-of-order CSeq),
 * E_LIMIT (more than REG_MAX_BINDINGS live bindings for the AoR, see
 * registrar_set_live(), or `max` in all),
 * E_BIG (`contacts` full) or E_NOMEM. Nothing is changed on an error
 * other than E_BIG.
 */
int registrar_register(struct registrar *r, const struct sip_msg *m,
    uint64_t flow, uint64_t now_ms, uint32_t max_s, struct buf *contacts)
    WUR;

/*
 * The AoR that REGISTER `m` changes (its To URI's user part, else the
 * whole URI; a slice of `m`): 0 or E_SYNTAX. With digest authentication
 * (lib/sip/proxy_auth.c) it must equal the authenticated user, so that a
 * binding, "Contact: *" included, is only ever changed by its owner.
 */
int registrar_aor(const struct sip_msg *m, struct slice *aor) WUR;

/* Is `flow` usable? (for registrar_lookup; `arg` is the caller's) */
typedef int registrar_live_fn(void *arg, uint64_t flow);

/*
 * How registrar_register() tells a dead binding: one whose flow `live`
 * rejects. A REGISTER that would take an AoR past REG_MAX_BINDINGS first
 * drops the AoR's bindings on dead flows (they cannot be routed to: a
 * phone that reconnects from a new port 17 times in an hour must not be
 * locked out by its own stale bindings); live bindings are never
 * displaced. NULL (the default): no binding counts as dead.
 */
void registrar_set_live(struct registrar *r, registrar_live_fn *live,
    void *arg);

/*
 * The binding of `aor` to route to at `now_ms`: the most recently
 * (re)registered unexpired binding whose flow `live` accepts (live NULL:
 * any). Expired bindings are removed. 0 with *b filled (borrowed until the
 * next change), E_NOTFOUND (no binding at all) or E_STATE (bindings, but
 * none on a live flow).
 */
int registrar_lookup(struct registrar *r, struct slice aor, uint64_t now_ms,
    registrar_live_fn *live, void *arg, struct reg_binding *b) WUR;

/* Drop expired bindings; returns how many. */
size_t registrar_expire(struct registrar *r, uint64_t now_ms);
/* Bindings in all. */
size_t registrar_count(const struct registrar *r);

#endif
