/* registrar.h - a small built-in SIP registrar: AoR -> flow bindings. */
#ifndef SBK_REGISTRAR_H
#define SBK_REGISTRAR_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "slice.h"

/*
 * For labs with no PBX: one binding per address-of-record, keyed by the
 * AoR's user part (inside phones dial "sip:alice@GATEWAY", so the host
 * part is whatever address they used), holding the flow the REGISTER came
 * over, the Contact as the client wrote it, and an expiry. The last
 * REGISTER for an AoR wins. The registrar owns copies of everything.
 */
struct registrar;

struct reg_binding {
	uint64_t flow;
	struct slice contact;	/* the Contact value as sent ("<sip:..>;x") */
	struct slice uri;	/* the URI inside it */
	uint64_t expires_ms;	/* absolute, on the caller's clock */
};

/* At most `max` AoRs (E_LIMIT beyond). */
struct registrar *registrar_new(size_t max) WUR;
void registrar_free(struct registrar *r);

/*
 * Bind `aor` to `flow` with `contact` (a Contact header value) until
 * `expires_ms`. Replaces an existing binding. E_SYNTAX (bad contact),
 * E_LIMIT, E_NOMEM.
 */
int registrar_bind(struct registrar *r, struct slice aor, uint64_t flow,
    struct slice contact, uint64_t expires_ms) WUR;
/* Remove the binding of `aor` (E_NOTFOUND if none). */
int registrar_unbind(struct registrar *r, struct slice aor);

/*
 * The live binding of `aor` at time `now_ms` (expired ones are removed):
 * 0 with *b filled (borrowed until the next change), or E_NOTFOUND.
 */
int registrar_lookup(struct registrar *r, struct slice aor, uint64_t now_ms,
    struct reg_binding *b) WUR;
/* Drop expired bindings; returns how many. */
size_t registrar_expire(struct registrar *r, uint64_t now_ms);
size_t registrar_count(const struct registrar *r);

#endif
