/* dialog.h - the dialogs that cross the border, to end them for a lost flow. */
#ifndef SBK_DIALOG_H
#define SBK_DIALOG_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "sip/sip.h"
#include "base/slice.h"

/*
 * A dialog table follows the INVITE dialogs between an outside party (a
 * phone on a TLS flow) and an inside party (behind the PBX), so that when
 * the phone's flow is lost the border can send the inside party the BYE
 * the phone no longer can (RFC 3261 §15, built by §12.2.1.1).
 *
 * It sees every request and response that crosses the border as it
 * arrived (before the proxy's edits) and keeps, per dialog: Call-ID,
 * both tags, both URIs, the inside party's remote target (its Contact,
 * refreshed by target refresh requests and their 2xx), the part of the
 * route set beyond our own Record-Route entries, and the highest CSeq
 * the outside party used. An initial INVITE makes an early entry; a 2xx
 * whose Record-Route names us (in-dialog requests then pass us) confirms
 * it, one entry per 2xx To tag (forks). Entries are forgotten on a BYE
 * from either side, a CANCEL or a failure of the initial INVITE, a 481 or
 * 408 to an in-dialog request, when their flow is lost, and after
 * `early_s` (unanswered INVITE) or `idle_s` without any request in the
 * dialog. Dialogs between two outside parties are not followed.
 *
 * Ownership: the table owns copies of everything it keeps; messages are
 * borrowed for the call only. No timers: the caller runs
 * dialog_expire() now and then.
 */
struct dialog_table;
struct dialog;

/* Is `uri` one of our own faces (for Record-Route)? `flow`: the outside
 * flow of the dialog, for our outside face as seen on it. */
typedef int dialog_is_us_fn(void *arg, struct slice uri, uint64_t flow);

struct dialog_conf {
	size_t max;		/* dialogs in all (0: 100000) */
	uint32_t early_s;	/* INVITE without final answer (0: 300) */
	uint32_t idle_s;	/* confirmed, no request seen (0: 86400) */
	dialog_is_us_fn *is_us;	/* required */
	void *arg;
};

/* NULL with *err E_INVAL (no is_us) or E_NOMEM. */
struct dialog_table *dialog_table_new(const struct dialog_conf *conf,
    int *err) WUR;
/* Forget everything; NULL does nothing. */
void dialog_table_free(struct dialog_table *t);

/*
 * Request `m` crossing the border: from the outside party on `flow`
 * (from_outside 1) or from the inside to the outside party on `flow`
 * (from_outside 0). Returns 0, E_LIMIT (table full: not followed),
 * E_NOMEM or E_SYNTAX (no usable From/To/Call-ID); the proxy forwards
 * the request either way.
 */
int dialog_request(struct dialog_table *t, const struct sip_msg *m,
    int from_outside, uint64_t flow, uint64_t now_ms) WUR;
/* A response crossing the border; as dialog_request(). */
int dialog_response(struct dialog_table *t, const struct sip_msg *m,
    int from_outside, uint64_t flow, uint64_t now_ms) WUR;

/*
 * Flow `flow` is lost: `fn` is called for each confirmed dialog of it
 * (the dialog is borrowed for the call), then every dialog of the flow
 * is forgotten. Returns the number of confirmed dialogs.
 */
typedef void dialog_lost_fn(void *arg, const struct dialog *d);
size_t dialog_flow_lost(struct dialog_table *t, uint64_t flow,
    dialog_lost_fn *fn, void *arg);

/*
 * Append to `out` the BYE the outside party of `d` would send: the
 * Request-URI is the inside party's remote target, Route the route set
 * beyond us, From the outside party with its tag, To the inside party
 * with its tag, CSeq one more than the outside party's last, our Via
 * value `via` (e.g. "SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK...")
 * and a Reason (RFC 3326). Returns 0, E_BIG or E_NOMEM.
 */
int dialog_bye(const struct dialog *d, const char *via, struct buf *out)
    WUR;
/*
 * Where the BYE goes: the first Route URI (*routed 1), else the remote
 * target (*routed 0). Borrowed from `d`.
 */
struct slice dialog_next_hop(const struct dialog *d, int *routed);
struct slice dialog_call_id(const struct dialog *d);

/* Forget entries past their time; returns how many. */
size_t dialog_expire(struct dialog_table *t, uint64_t now_ms);
/* Entries (early and confirmed) and confirmed ones. */
size_t dialog_count(const struct dialog_table *t);
size_t dialog_confirmed(const struct dialog_table *t);

#endif
