/* srclimit.h - per-source request rates and bans (what Kamailio's pike does). */
#ifndef SBK_SRCLIMIT_H
#define SBK_SRCLIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/net.h"

/*
 * A bounded table of traffic sources, for an edge that anyone can reach.
 * A source is an IPv4 address, or an IPv6 /64 (one subscriber's prefix:
 * an attacker who holds a /64 has 2^64 addresses to rotate through). For
 * each it keeps a token bucket of requests (`rate` a second, `burst` at
 * once) and a count of authentication failures in a window; `fails`
 * failures within `window_ms` ban the source for `ban_ms`. A banned
 * source's requests and new connections are refused until the ban ends.
 *
 * The table holds at most `max` sources. When it is full, the least
 * recently seen source that is not banned makes room; if every entry is
 * banned, a new source is not tracked (its request is allowed, and
 * counted as untracked): a flood from many addresses cannot evict the
 * bans, and never makes legitimate traffic fail for want of an entry.
 *
 * Times are the caller's monotonic milliseconds. No globals, no I/O; the
 * caller logs (srclimit_*() say when a ban starts, once per ban).
 */
struct srclimit;

struct srclimit_conf {
	size_t max;		/* sources tracked (required, > 0) */
	uint32_t rate;		/* requests per second per source (0: no cap) */
	uint32_t burst;		/* bucket size (0: `rate`) */
	uint32_t fails;		/* auth failures that ban (0: never ban) */
	uint32_t window_ms;	/* ... within this window */
	uint32_t ban_ms;	/* how long a ban lasts */
};

enum srclimit_verdict {
	SRCLIMIT_OK = 0,
	SRCLIMIT_RATE,		/* over its request rate: refuse this one */
	SRCLIMIT_BANNED,	/* banned: refuse everything from it */
};

struct srclimit_stats {
	uint64_t tracked;	/* sources in the table now */
	uint64_t bans;		/* bans started, all told */
	uint64_t banned_now;	/* sources banned now */
	uint64_t refused_rate;	/* requests refused for their rate */
	uint64_t refused_ban;	/* requests and connections refused, banned */
	uint64_t untracked;	/* sources not tracked: the table was full */
};

/* A table, or NULL (no memory, or `max` 0). `conf` is copied. */
struct srclimit *srclimit_new(const struct srclimit_conf *conf) WUR;
void srclimit_free(struct srclimit *t);

/* A new connection from `src`: SRCLIMIT_OK or SRCLIMIT_BANNED. */
enum srclimit_verdict srclimit_conn(struct srclimit *t,
    const struct net_addr *src, uint64_t now_ms);
/* A request from `src`: takes a token. OK, RATE or BANNED. */
enum srclimit_verdict srclimit_request(struct srclimit *t,
    const struct net_addr *src, uint64_t now_ms);
/*
 * An authentication failure by `src` (our registrar's, or a 401/407/403
 * from the upstream to its request). Returns 1 if this one started a ban
 * (log it, close the source's connections), else 0.
 */
int srclimit_auth_fail(struct srclimit *t, const struct net_addr *src,
    uint64_t now_ms);
/* True while `src` is banned. */
int srclimit_banned(struct srclimit *t, const struct net_addr *src,
    uint64_t now_ms);
/* The counters, bans that ended by `now_ms` taken off first. */
void srclimit_stats(struct srclimit *t, uint64_t now_ms,
    struct srclimit_stats *st);

#endif
