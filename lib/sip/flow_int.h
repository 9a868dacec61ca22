/* flow_int.h - the flow table's parts: its structures and the functions
 * flow.c (connections, limits, TLS, tokens) and flow_ws.c (WebSocket
 * connections) share. Internal to lib/sip. */
#ifndef SBK_FLOW_INT_H
#define SBK_FLOW_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/conntab.h"
#include "base/wqueue.h"
#include "sip/flow.h"
#include "sip/sip.h"
#include "sip/ws.h"

struct conn {
	uint64_t handle;
	int fd;
	int dead;
	struct tls_conn *tls;
	struct sip_framer *fr;
	struct net_addr peer, local;
	struct conn *all_next, *all_prev;	/* live ones, for bans */
	size_t held;		/* framer bytes charged to the budget */
	int partial;		/* a message has begun (deadline set) */
	uint64_t held_ms;	/* when it started holding bytes */
	struct conn *hprev, *hnext;	/* flows holding bytes */
	enum flow_kind kind;
	/* WebSocket: the Upgrade so far (NULL once answered or before its
	 * first byte), the frame decoder once open, and for plain WS the
	 * socket's write queue (NULL while empty). */
	int ws_open;
	uint8_t *http;
	size_t http_len;
	struct ws_dec *dec;
	struct buf *pwq;
	/* flow_throttle(): not read until then (monotonic ms) */
	uint64_t pause_until;
	/* on the table's revisit list: paused, or its read budget spent
	 * with bytes possibly left where epoll cannot see them */
	int revisit;
	struct conn *rprev, *rnext;
};

/*
 * Reads (of up to 16 KiB) one connection gets per wake-up: a client that
 * floods is read a little at a time, each other connection in between.
 */
#define READS_PER_EVENT 4
/* Connections revisited per timer run (the rest at the next, at once). */
#define REVISIT_BATCH 64

/* A plain WebSocket connection's write queue cap. */
#define PLAIN_WQ_MAX ((size_t)1 << 20)
#define MAX_LISTEN 8

struct ipcount {
	struct net_addr ip;	/* port zeroed */
	size_t n;
	struct ipcount *next;
};

#define IP_BUCKETS 1024

/* Events of the limits: counted, and logged once a second at most. */
enum lim { L_EVICT, L_FULL, L_PER_IP, L_HANDSHAKE, L_FIRST, L_MSG,
    L_BUDGET, L_N };

struct flow_table {
	struct ev_loop *loop;
	struct conntab *ct;
	struct tls_server *tls;
	struct flow_conf conf;
	struct flow_cbs cbs;
	const struct logger *lg;
	struct ipcount *ips[IP_BUCKETS];
	size_t held, held_peak;	/* framer bytes, all flows */
	struct conn *holding;	/* flows with held > 0 */
	uint64_t n[L_N];	/* events so far */
	uint64_t log_sec[L_N];	/* second of the last line (+1) */
	uint64_t quiet[L_N];	/* events not logged since */
	uint64_t accepted;
	uint64_t hs_ok, hs_failed;	/* TLS handshakes (flow_stats) */
	uint8_t key[32];
	uint8_t rbuf[16384];	/* one TLS record's worth, shared */
	struct conn *all;		/* live connections (flow_close_gated) */
	flow_gate_fn *gate;		/* refuse at accept (flow_set_gate) */
	void *gate_arg;
	struct { struct net_addr a; enum flow_kind kind; } lst[MAX_LISTEN];
	size_t nlst;
	uint64_t ws_upgraded, ws_refused, ws_errors;
	uint8_t *wbuf;		/* a WebSocket frame being sent */
	struct conn *revisit;		/* see struct conn */
	int64_t rtimer;			/* its timer, 0: none */
	uint64_t throttled;		/* flow_throttle() calls */
};

/* ---- flow.c, for flow_ws.c ---- */

/* Unlink a connection now; free its memory once no callback runs. */
void flow_conn_kill(struct flow_table *t, struct conn *c, const char *why);
/* The transport under the messages (TLS, or the plain socket): as
 * tls_conn_read()/_write()/_flush(). */
int flow_io_read(struct conn *c, uint8_t *p, size_t n, size_t *got);
int flow_io_write(struct conn *c, const void *p, size_t len);
int flow_io_flush(struct conn *c);
/* Throttled (flow_throttle()) now? */
int flow_paused(const struct flow_table *t, const struct conn *c);
/* Read `c` again soon (its read budget spent, or throttled). */
void flow_revisit_add(struct flow_table *t, struct conn *c);
/* A message came whole / what a read leaves: clocks and the budget. */
void flow_msg_done(struct flow_table *t, struct conn *c);
void flow_after_read(struct flow_table *t, struct conn *c);
/* Read a TLS connection's SIP messages. */
void flow_conn_read(struct flow_table *t, struct conn *c);

/* ---- flow_ws.c ---- */

/* Send a close frame with `code` (best effort), then close. */
void flow_ws_fail(struct flow_table *t, struct conn *c, uint16_t code,
    const char *why);
/* Read a WebSocket connection: the Upgrade, then frames. */
void flow_ws_read(struct flow_table *t, struct conn *c);

#endif
