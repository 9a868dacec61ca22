/* calls_int.h - the call table's parts: its structures and the functions
 * calls.c (the table), calls_sdp.c (SDP and keys) and calls_ng.c (ng
 * requests) share. Internal to lib/relay. */
#ifndef SBK_CALLS_INT_H
#define SBK_CALLS_INT_H

#include "relay/calls.h"
#include "media/keyline.h"
#include "media/sdp.h"
#include "ng/ng.h"
#include "relay/webrtc.h"

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
	/* WebRTC (calls_webrtc.c) */
	struct webrtc *w[2];		/* ICE-lite / DTLS glue per side */
	int dtls[2];			/* the side is keyed by DTLS-SRTP */
	int setup_offered[2];		/* our a=setup in an offer to it */
	int peer_actpass[2];		/* its offer said a=setup:actpass */
	struct dtls_fp peer_fp[2];	/* its fingerprint */
	char mid[32];			/* the offer's a=mid, or "" */
	int bundled;			/* the line of a BUNDLE group */
	int ice_out;			/* ICE written in the last SDP */
	/* an ICE offerer's SDP address, used if the answer drops ICE */
	struct net_addr sdp_rtp[2], sdp_rtcp[2];
	int sdp_has_rtcp[2];
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
	struct webrtc_ctr webrtc_gone;	/* counters of freed sides */
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
/* The WebRTC counters of every side, live and freed, added up. */
void calls_webrtc_totals(const struct calls *t, struct webrtc_ctr *k);
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
/* Give md->rx[side] (UNPROTECT) or md->tx[side] to the relay; logged
 * to the key log when new. */
int calls_apply_key(struct calls *t, struct media *md, int side,
    enum rtpsec_dir dir);
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
    size_t m, int to, const struct ng_req *req, struct reply_err *re);

/* ---- calls_webrtc.c: DTLS-SRTP, ICE-lite, AVPF, BUNDLE ---- */

/* Is media `m` of `s` UDP/TLS/RTP/...? Has it (or the session) ICE? */
int calls_media_is_dtls(const struct sdp *s, size_t m);
int calls_media_has_ice(const struct sdp *s, size_t m);
/* The offerer's side of media `m`: its DTLS role, fingerprint, ICE. */
int calls_webrtc_offer_from(struct calls *t, struct media *md,
    const struct sdp *s, size_t m, int from, const struct ng_req *req,
    struct reply_err *re);
/* The recipient's side: DTLS (dtls_to) and ICE as the flags say. */
int calls_webrtc_offer_to(struct calls *t, struct media *md, int to,
    const struct ng_req *req, int dtls_to, int ice_from,
    struct reply_err *re);
/* The answerer's side of media `m`: its role, fingerprint, ICE. */
int calls_webrtc_answer_from(struct calls *t, struct media *md,
    const struct sdp *s, size_t m, int from, struct reply_err *re);
/* The answer's DTLS flag towards the offerer `to` (an actpass offer):
 * DTLS=active makes us the client, DTLS=passive the server. */
int calls_webrtc_answer_to(struct media *md, int to,
    const struct ng_req *req);
/* Set the profile of media `m`; without AVPF, a=rtcp-fb goes. */
int calls_webrtc_profile(struct sdp *s, size_t m, int dtls, int srtp,
    int avpf);
/* Our a=fingerprint, a=setup, a=ice-*, a=candidate, a=mid, and the
 * session's a=ice-lite and a=group:BUNDLE, towards `side` (after ICE was
 * removed). */
int calls_webrtc_sdp(struct calls *t, struct branch *b, struct sdp *s,
    int side, int offer, const struct ng_req *req);
/* Is media `m` in the offer's BUNDLE group (*first: the first RTP line
 * of it, the one we relay)? */
int calls_webrtc_bundled(const struct sdp *s, size_t m, int *first);
/* Refuse media `m` (port 0, its transport attributes gone). */
int calls_webrtc_refuse(struct sdp *s, size_t m);

#endif
