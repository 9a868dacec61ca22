/* proxy_int.h - the proxy's parts: its state and what they share. */
#ifndef SBK_PROXY_INT_H
#define SBK_PROXY_INT_H

/*
 * The proxy in parts: proxy.c (life cycle, dispatch), proxy_route.c (where
 * a message goes), proxy_o2o.c (outside to outside), proxy_reach.c (Path,
 * Contact map, registrar), proxy_media.c (forwarding, the media hook),
 * proxy_txn.c (client transactions), proxy_tcp.c (inside TCP),
 * proxy_end.c (bye-on-loss), proxy_log.c (the message trace),
 * proxy_util.c (helpers). Internal to lib/sip.
 */

#include "base/buf.h"
#include "base/hash.h"
#include "sip/dialog.h"
#include "sip/mediactl.h"
#include "sip/proxy.h"
#include "sip/registrar.h"
#include "sip/sip.h"

#define MAX_SIP 65535
#define TXN_BUCKETS 4096
#define CMAP_BUCKETS 1024
#define BRANCH_MAX 96

/*
 * A Call-ID in a log line: "%.*s" with PX_CID(slice). It comes from the
 * wire (control bytes are refused at the edge); the cap keeps a line short.
 */
#define PX_CID_MAX 128
#define PX_CID(s) \
	(int)((s).len < PX_CID_MAX ? (s).len : PX_CID_MAX), (s).p

/* Where a body goes (px_forward()'s `outward`): the relay's profiles. */
#define LEG_IN 0		/* outside -> inside: RTP/AVP */
#define LEG_OUT 1		/* inside -> outside: RTP/SAVP */
#define LEG_OUT_OUT 2		/* outside -> outside: RTP/SAVP */

/* An outside->inside client transaction (UDP retransmission, 408). */
struct txn {
	struct proxy *px;
	char key[BRANCH_MAX + 16];
	size_t klen;
	uint64_t flow;
	struct net_addr dst;
	struct buf *fwd;	/* what went inside (retransmitted) */
	struct buf *orig;	/* the request as the client sent it */
	int64_t timer;
	uint32_t interval;
	uint64_t deadline_ms;
	int invite, got_resp;
	int tcp;		/* sent over TCP: no retransmissions */
	int own;		/* our own request (a BYE): answers stop here */
	struct buf *udp_alt;	/* moved to TCP for size: the UDP form */
	struct txn *next;
};

/* Contact-rewriting mode: the client's own Contact per flow. */
struct cmap {
	uint64_t flow;
	char *uri;
	struct cmap *next;
};

/*
 * What the routing decisions read of the world: the proxy's own tables
 * (set up by proxy_new()), or a test's stand-ins. A decision changes none.
 */
struct px_env {
	const struct proxy_conf *conf;
	const char *in_host;		/* "10.0.0.2", "[::1]" */
	uint16_t in_port;
	int tcp;			/* inside TCP (proxy_set_tcp()) */
	struct registrar *reg;		/* built-in registrar, or NULL */
	registrar_live_fn *alive;	/* is the flow open? */
	/* The flow a token names: 0, else not one of ours. */
	int (*token)(void *arg, struct slice tok, uint64_t *flow);
	/* Our local address on a flow: 0, else gone. */
	int (*local)(void *arg, uint64_t flow, struct net_addr *local);
	/* Contact rewriting: the client's own Contact URI, or NULL. */
	const char *(*contact)(void *arg, uint64_t flow);
	void *arg;
};

/* A warning that may come in floods: a line a second at most, with the
 * count of those not logged (px_ratelog_pass()). */
struct px_ratelog {
	uint64_t last_ms;
	uint64_t quiet;
};

/* proxy_obs.c: HEP capture and the counters behind the metrics. */
#define PX_NMETHODS 15		/* px_obs_method(): 14 names and "other" */
struct px_obs {
	struct hep *hep;		/* borrowed, or NULL */
	uint64_t req[2][PX_NMETHODS];	/* received: [outside][method] */
	uint64_t resp[2][6];		/* received: [outside][class - 1] */
	/* A wildcard inside face: the source towards the last peer. */
	struct net_addr route_dst, route_src;
};

struct proxy {
	struct px_env env;		/* what routing reads (proxy_new()) */
	struct ev_loop *loop;
	struct flow_table *flows;
	int udp_fd;
	struct proxy_conf conf;
	const struct logger *lg;
	struct mediactl *mc;
	struct tcpconn_table *tcp;	/* inside TCP, or NULL */
	struct registrar *reg;
	struct dialog_table *dlg;	/* --bye-on-loss, or NULL */
	int64_t dlg_timer;
	char in_host[NET_ADDR_STRLEN];	/* "10.0.0.2" or "[::1]" */
	char in_hp[NET_ADDR_STRLEN + 8];	/* "10.0.0.2:5060" */
	uint16_t in_port;
	struct txn *txn[TXN_BUCKETS];
	size_t ntxn;
	struct cmap *cmap[CMAP_BUCKETS];
	struct proxy_stats st;
	struct px_ratelog bad_log;	/* px_log_bad() */
	struct px_ratelog send_log;	/* px_send_inside() failures */
	struct px_ratelog deny_log;	/* outside requests refused 403 */
	struct px_ratelog rate_log;	/* requests over a source's rate */
	int64_t reg_timer;
	struct px_auth *auth;		/* proxy_auth.c, or NULL */
	struct px_keying *keying;	/* proxy_keying.c, or NULL */
	uint8_t rbuf[MAX_SIP + 1];
	struct px_obs obs;		/* proxy_obs.c */
};

/* Where a message goes. */
struct target {
	int to_flow;
	uint64_t flow;
	struct net_addr dst;
	int tcp;		/* inside over TCP: on `conn`, else to `dst` */
	uint64_t conn;
};

/* What becomes of a request (px_route_request()). */
enum px_verdict {
	PX_INSIDE,		/* to t.dst, over TCP if t.tcp */
	PX_FLOW,		/* to flow t.flow */
	PX_REGISTER,		/* the built-in registrar answers it */
	PX_REPLY,		/* we answer it with `code` */
};

struct px_route {
	enum px_verdict verdict;
	int code;		/* PX_REPLY: the status we answer */
	const char *why;	/* PX_REPLY: its reason phrase, or NULL */
	int gone;		/* PX_REPLY: because its flow is gone */
	int gone_code;		/* PX_FLOW: answer if it goes (430, 480) */
	struct target t;	/* PX_INSIDE, PX_FLOW */
	size_t nroutes;		/* our own Route values, to be popped */
	struct slice ruri;	/* PX_FLOW: the Request-URI to put back, or
				 * empty (a binding's, the client's Contact) */
};

/* Why a call's media may end (px_media_end()). */
enum px_end {
	PX_END_BYE,		/* a request passes: a BYE ends it */
	PX_END_GONE,		/* its flow is gone: a BYE or CANCEL ends it */
	PX_END_FAILED,		/* we answered it 408 or 503 */
	PX_END_LOST,		/* our BYE for a lost flow */
};

/* proxy.c */
void px_from_inside(struct proxy *px, const struct net_addr *src,
    uint64_t conn, struct slice raw);

/* proxy_route.c */
void px_route_request(const struct px_env *env, const struct sip_msg *m,
    int from_outside, uint64_t flow, uint64_t now_ms, struct px_route *rt);
int px_fix_via(struct sip_edits *e, const struct sip_msg *m,
    const struct net_addr *src);
int px_add_text_top(struct sip_edits *e, const struct sip_msg *m,
    const char *text);
void px_request_from_flow(struct proxy *px, uint64_t flow,
    const struct sip_msg *m);
void px_request_from_inside(struct proxy *px, const struct net_addr *src,
    uint64_t conn, const struct sip_msg *m);
void px_response_from_inside(struct proxy *px, const struct sip_msg *m);
void px_response_from_flow(struct proxy *px, uint64_t flow,
    const struct sip_msg *m);

/* proxy_o2o.c */
void px_flow_to_flow(struct proxy *px, uint64_t from,
    const struct sip_msg *m, struct sip_edits *e, const struct target *back,
    uint64_t to, int gone_code);
void px_response_to_flow(struct proxy *px, const struct sip_msg *m,
    uint64_t to);

/* proxy_reach.c */
const char *px_cmap_get(struct proxy *px, uint64_t flow);
int px_register_reach(struct proxy *px, const struct sip_msg *m,
    struct sip_edits *e, uint64_t flow, const char *tok, const char *tp);
void px_register_local(struct proxy *px, uint64_t flow,
    const struct sip_msg *m);
int px_restore_contacts(struct proxy *px, const struct sip_msg *m,
    struct sip_edits *e, uint64_t flow);

/* proxy_auth.c */
struct px_auth;
const struct sip_msg *px_auth_request(struct proxy *px, uint64_t flow,
    const struct sip_msg *m);
void px_auth_response(struct proxy *px, const struct sip_msg *m);
void px_auth_free(struct px_auth *a);

/* proxy_media.c */
void px_media_end(struct proxy *px, const struct sip_msg *m,
    enum px_end why);
int px_has_sdp(const struct sip_msg *m);
void px_forward(struct proxy *px, const struct sip_msg *m, struct sip_edits *e,
    struct target *t, const struct target *back, int outward,
    struct slice branch, uint64_t flow);

/* proxy_keying.c: the keying of each outside phone */
void px_keying_learn(struct proxy *px, uint64_t flow, struct slice sdp);
int px_keying_dtls(struct proxy *px, uint64_t flow);
void px_keying_forget(struct proxy *px, uint64_t flow);
void px_keying_free(struct proxy *px);
/* proxy_txn.c */
struct txn **px_txn_find(struct proxy *px, struct slice key);
void px_txn_free(struct proxy *px, struct txn *t);
void px_txn_timer(struct ev_loop *loop, uint64_t id, void *arg);
struct txn *px_txn_start(struct proxy *px, struct slice key, uint64_t flow,
    const struct target *dst, struct slice fwd, struct slice orig, int invite,
    struct slice udp_alt);
int px_txn_key(const struct sip_msg *m, struct slice branch, char *out,
    size_t n);
void px_cancel_follows(struct proxy *px, struct slice branch, struct target *t);

/* proxy_tcp.c */
int px_send_tcp(struct proxy *px, struct target *t, struct slice b);
int px_uri_tcp(const struct px_env *env, struct slice uri);
int px_retransport(struct proxy *px, struct slice msg, int tcp,
    struct buf *out);
void px_tcp_failed(struct proxy *px, uint64_t flow, struct slice orig);

/* proxy_end.c */
int px_dlg_is_us(void *arg, struct slice uri, uint64_t flow);
void px_dlg_request(struct proxy *px, const struct sip_msg *m,
    int from_outside, uint64_t flow);
void px_dlg_response(struct proxy *px, const struct sip_msg *m,
    int from_outside, uint64_t flow);
void px_bye_for_lost(void *arg, const struct dialog *d);
int px_own_response(struct proxy *px, const struct sip_msg *m,
    struct slice branch);

/* proxy_log.c: a line per message at LOG_DEBUG */
void px_trace_in(struct proxy *px, int outside, uint64_t flow, uint64_t conn,
    const struct net_addr *src, const struct sip_msg *m);
void px_trace_out(struct proxy *px, int outside, uint64_t flow, int tcp,
    const struct net_addr *dst, struct slice b);

/* proxy_obs.c: every message in and out (from px_trace_in/out) */
void px_obs_in(struct proxy *px, int outside, uint64_t flow, uint64_t conn,
    const struct net_addr *src, const struct sip_msg *m);
void px_obs_out(struct proxy *px, int outside, uint64_t flow, int tcp,
    const struct net_addr *dst, struct slice b);
/* Inside TCP, once sent (the connection and our end of it known). */
void px_obs_out_tcp(struct proxy *px, uint64_t conn,
    const struct net_addr *dst, struct slice b);

/* proxy_util.c */
int px_is_method(const struct sip_msg *m, const char *name);
int px_dialog_forming(const struct sip_msg *m);
void px_uri_host(const struct net_addr *a, char *out, size_t n);
void px_outside_hp(struct proxy *px, uint64_t flow, char *out, size_t n);
/* A flow's transport: in a Via ("TLS", "WSS", "WS") and as a URI's
 * transport parameter ("tls", or "ws" for both WebSockets, RFC 7118). */
const char *px_via_tp(struct proxy *px, uint64_t flow);
const char *px_uri_tp(struct proxy *px, uint64_t flow);
int px_nth_value(const struct sip_msg *m, enum sip_hid id, size_t idx,
    struct slice *val);
void px_our_branch(const struct sip_msg *m, const char *tok, char *out,
    size_t n);
int px_drop_values(struct sip_edits *e, const struct sip_msg *m,
    enum sip_hid id, size_t ndrop);
int px_uri_dest(const struct sip_uri *u, struct net_addr *a);
int px_uri_is_inside(const struct px_env *env, struct slice uri);
int px_uri_is_us(const struct px_env *env, struct slice uri, uint64_t flow);
int px_uri_token(const struct px_env *env, struct slice uri, uint64_t *flow);
void px_send_inside(struct proxy *px, const struct net_addr *dst,
    struct slice b);
int px_deliver(struct proxy *px, const struct target *t, struct slice b);
void px_reply(struct proxy *px, const struct sip_msg *m,
    const struct target *back, int code, const char *extra);
void px_reply_why(struct proxy *px, const struct sip_msg *m,
    const struct target *back, int code, const char *reason,
    const char *extra);
int px_ratelog_pass(struct proxy *px, struct px_ratelog *rl,
    uint64_t *quiet);
void px_log_bad(struct proxy *px, int from_flow, uint64_t flow,
    const struct net_addr *src, const char *what, int err);

#endif
