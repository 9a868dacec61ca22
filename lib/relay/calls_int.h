/* calls_int.h - the call table's parts: its structures and the functions
 * calls.c (the table), calls_sdp.c (SDP and keys) and calls_ng.c (ng
 * requests) share. Internal to lib/relay. */
#ifndef SBK_CALLS_INT_H
#define SBK_CALLS_INT_H

#include "relay/calls.h"
#include "media/keyline.h"
#include "media/sdp.h"
#include "ng/ng.h"

#define OUTSIDE 0
#define INSIDE 1
#define MAX_OFFERED 8
#define REPLY_MAX (NG_DGRAM_MAX)
#define CACHE_ENTRIES 4096
#define CACHE_BYTES (16u << 20)

/* "outside", "inside" (calls.c) */
extern const char *const calls_side_name[2];

struct call;
struct branch;

struct media {
	struct branch *br;
	unsigned index;			/* m= line number */
	struct relay_stream *rs;
	struct keyline *rx[2];		/* the peer's key, per side */
	struct keyline *tx[2];		/* our key towards each side */
	struct keyline *offered[MAX_OFFERED];	/* offered to `offered_to` */
	size_t noffered;
	int offered_to;
	char type[16];
	char proto[2][24];		/* profile on each side */
	int ssrc_logged[2];
};

/*
 * A branch is one dialog of a call: the offerer and one answerer (forked
 * offers, told apart by via-branch, make one branch each, with their own
 * ports on both sides, as rtpengine does).
 */
struct branch {
	struct call *call;
	struct branch *next;
	uint8_t *tag[2];		/* tag of the party on each side */
	size_t taglen[2];
	uint8_t *via;			/* via-branch of its offer, or NULL */
	size_t vialen;
	unsigned seq;			/* 1, 2, ... in its call: names an
					 * untagged party "<untagged N>" */
	int offer_from;			/* side of the last offer */
	struct media *m[SDP_MAX_MEDIA];
	size_t nm;
	int64_t del_timer;		/* delete-delay pending, or 0 */
};

/*
 * A Call-ID or tag in a log line ("%.*s"): from the wire (the ng decoder
 * refuses control bytes), capped to keep a line short.
 */
#define CALLS_ID_MAX 128
#define CALLS_ID(s) \
	(int)((s).len < CALLS_ID_MAX ? (s).len : CALLS_ID_MAX), \
	(const char *)(s).p

struct call {
	struct calls *t;
	struct call *prev, *next;
	uint8_t *id;
	size_t idlen;
	struct branch *br;		/* its dialogs, oldest first */
	unsigned nbranch;		/* branches made so far */
	uint64_t created;		/* wall clock, seconds */
	int64_t del_timer;		/* delete-delay pending, or 0 */
};

struct calls {
	struct relay *relay;
	struct ev_loop *loop;
	struct calls_config cfg;
	const struct logger *lg;
	char addr[2][NET_ADDR_STRLEN];	/* advertised hosts, as text */
	struct call *head;
	size_t ncalls;
	uint64_t total;
	uint64_t started;		/* wall clock */
	struct ng_cache *cache;
	struct rnd_pool *rnd;		/* fresh keys; made after any fork */
	int fd;
	struct buf *reply;		/* for calls_listen */
	uint64_t ng_refused;		/* requests not in cfg.ng_allow */
	uint8_t rxbuf[NG_DGRAM_MAX + 1];
	/* for statistics rates */
	uint64_t rate_ms;
	struct relay_ctr rate_prev;
	/* calls_obs.c: HEP summaries (borrowed, or NULL) and the ng
	 * requests answered, [command][ok, error, retransmission] */
	struct hep *hep;
	uint64_t ng_ctr[NG_CMD_STATISTICS + 1][3];
};


struct reply_err {
	const char *reason;	/* NULL: ok */
	char buf[160];
};

/* ---- calls_obs.c: HEP and metrics ---- */

/* A media line ends: its summary to HEP, one datagram per side. */
void calls_obs_media_end(const struct media *md);
/* An ng request answered: `reply` (the datagram) tells ok from error;
 * `cached`: a retransmission answered from the cache. */
void calls_obs_ng(struct calls *t, enum ng_cmd cmd, struct slice reply,
    int cached);

/* ---- calls.c: the table ---- */

/* The wall clock, in seconds. */
uint64_t calls_wall(void);
/* Replace *p (freed) with a NUL-terminated copy of `v`. E_NOMEM. */
int calls_dup_slice(struct slice v, uint8_t **p, size_t *len);
/* Free a media line and its relay stream. NULL does nothing. */
void calls_media_free(struct media *md);
/* A new branch at the end of the call's list, for via-branch `via`. */
struct branch *branch_new(struct call *c, struct slice via);
/* Unlink a branch from its call and free it (not the call). */
void branch_free(struct branch *b);
struct call *call_new(struct calls *t, struct slice id);
struct call *call_find(struct calls *t, struct slice id);
/* Free a call, its branches and their streams. */
void call_free(struct call *call);
int branch_set_tag(struct branch *b, int side, struct slice tag);
/* The side of the party with tag `tag` in branch `b`, or -1. */
int branch_tag_side(const struct branch *b, struct slice tag);
/* The branch whose two parties are `a` and `b` (either way), or NULL. */
struct branch *branch_of_tags(const struct call *c, struct slice a,
    struct slice b);
struct branch *branch_of_via(const struct call *c, struct slice via);
/* The branch an offer belongs to (NULL, *fork set: a new one) and the
 * one an answer belongs to (calls.c says how). */
struct branch *calls_offer_branch(const struct call *c,
    const struct ng_req *req, int *fork);
struct branch *calls_answer_branch(const struct call *c,
    const struct ng_req *req);

/* ---- calls_sdp.c: SDP and keys ---- */

/* Write the key of `md`'s `side` (rx: the peer's) to the key log. */
void calls_log_key(struct calls *t, struct media *md, int side, int rx,
    const uint32_t *ssrc);
/* Which side an offer comes from (see calls.h). */
int calls_offer_side(const struct branch *b, const struct ng_req *req,
    const struct sdp *s);
/* The session-level address (and origin, if asked) towards `side`. */
int calls_set_session_addr(struct calls *t, struct sdp *s, int side,
    const struct ng_req *req);
/* Media line `m` of an offer from `from` / an answer to `to`: its stream
 * set up, `s` rewritten for the recipient; *re says why on failure. */
int calls_offer_media(struct calls *t, struct branch *c, struct sdp *s,
    size_t m, int from, const struct ng_req *req, struct reply_err *re);
int calls_answer_media(struct calls *t, struct branch *c, struct sdp *s,
    size_t m, int to, struct reply_err *re);

#endif
