/* srtp-bridge.c - the SRTP <-> RTP media relay: one stream, or an ng daemon. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "relay/calls.h"
#include "base/ev.h"
#include "media/keyline.h"
#include "base/secfile.h"
#include "media/dtls.h"
#include "media/keylog.h"
#include "base/net.h"
#include "relay/relay.h"
#include "common.h"
#include "base/metrics.h"

#define OUT 0		/* relay side 0: outside (SRTP) */
#define IN 1		/* relay side 1: inside (RTP) */

static const char *const side_names[2] = { "outside", "inside" };

enum { TRI_AUTO, TRI_ON, TRI_OFF };	/* --steer, --raw-send */

#define SRTP_BRIDGE_NG_TIMEOUT_MS 60000

struct opts {
	const char *outside, *inside, *outside_peer, *inside_peer;
	const char *key_in, *key_out, *keys_file, *keylog;
	const char *dtls_keylog;	/* NSS key log of DTLS secrets */
	const char *ng;
	struct net_prefix ng_allow[CALLS_NG_ALLOW_MAX];
	size_t n_ng_allow;
	uint16_t port_min, port_max;
	size_t max_sessions;
	int mux[2];
	uint64_t timeout_ms;
	int timeout_set;
	enum relay_io io;
	int steer;		/* TRI_* */
	int raw;		/* TRI_* */
	int coalesce_set;
	unsigned coalesce_us, coalesce_pkts;
	unsigned relatch_count;
	uint64_t relatch_quiet_ms;
	enum log_level verbosity;
	struct cli_obs obs;	/* --hep, --metrics */
};

struct state {
	struct opts *o;
	struct ev_loop *loop;
	struct relay *relay;
	struct relay_stream *stream;
	struct calls *calls;
	struct keylog *keylog;
	struct dtls_cert *cert;		/* DTLS-SRTP, one per process */
	int dtls_fd;			/* --dtls-keylog, or -1 */
	struct logger lg;
	int exit_code;
};

static void
usage(void)
{
	printf("usage: srtp-bridge --outside ADDR:PORT --inside ADDR:PORT "
	    "[--inside-peer ADDR:PORT]\n"
	    "                   (--key-in LINE --key-out LINE | --keys FILE) "
	    "[options]\n"
	    "       srtp-bridge --ng ADDR:PORT --outside ADDR --inside ADDR "
	    "[options]\n\n"
	    "One stream: SRTP/SRTCP on the outside address, RTP/RTCP on the "
	    "inside one.\n"
	    "  -o, --outside ADDR:PORT     outside (SRTP) local address; "
	    "RTCP on PORT+1\n"
	    "  -i, --inside ADDR:PORT      inside (RTP) local address; "
	    "RTCP on PORT+1\n"
	    "      --outside-peer ADDR:PORT  outside peer (default: latched)\n"
	    "  -p, --inside-peer ADDR:PORT   inside peer (default: learned)\n"
	    "      --key-in LINE           key line for SRTP arriving outside\n"
	    "      --key-out LINE          key line for SRTP sent outside\n"
	    "  -k, --keys FILE             key lines (dir=in / dir=out, or "
	    "in then out)\n"
	    "      --rtcp-mux[=SIDE]       RTP and RTCP on one port: outside,"
	    " inside, both\n\n"
	    "Daemon driven by the rtpengine ng protocol:\n"
	    "      --ng ADDR:PORT          listen for ng requests (UDP)\n"
	    "      --ng-allow NET[,NET..]  answer ng requests from these "
	    "networks only\n"
	    "  -o, --outside ADDR[!PUBLIC]  outside interface address "
	    "(PUBLIC: put in SDPs)\n"
	    "  -i, --inside ADDR[!PUBLIC]   inside interface address\n"
	    "      --interface NAME=ADDR   the same; NAME outside or inside\n"
	    "      --port-min N, --port-max N  media port range (30000-39999)\n"
	    "      --max-sessions N        parallel call limit (0: none)\n\n"
	    "Both:\n"
	    "  -t, --timeout SEC           end a call after SEC without media\n"
	    "                              (ng: 60; 0: never)\n"
	    "      --relatch-count N       authenticated packets that move a "
	    "latch (8)\n"
	    "      --relatch-quiet MS      silence after which one does (2000)\n"
	    "  -K, --keylog FILE           append every key (mode 0600)\n"
	    "      --dtls-keylog FILE      append DTLS secrets, NSS key log "
	    "format\n"
	    "      --io auto|epoll|uring   packet I/O (auto: io_uring if "
	    "available)\n"
	    "      --steer auto|on|off     ng: read the port range through one "
	    "socket\n"
	    "                              per interface (BPF sk_lookup; auto: "
	    "when\n"
	    "                              privileged)\n"
	    "      --raw-send auto|on|off  io_uring: send from one raw socket, "
	    "not\n"
	    "                              each port's own (auto: with "
	    "CAP_NET_RAW)\n"
	    "      --coalesce USEC         io_uring: wait up to USEC for more "
	    "packets\n"
	    "                              per wake-up (500; 0: do not wait)\n"
	    "      --coalesce-pkts N       ... or until N packets arrived (32)\n"
	    CLI_OBS_USAGE
	    "      --print-addresses       the --metrics address on stdout "
	    "too\n"
	    "  -v, --verbose               more messages (repeat)\n"
	    "  -h, --help, -V, --version\n");
	exit(XC_OK);
}

/* auto, on or off (TRI_*), for option `name` */
static int
tri_arg(const char *name, const char *s)
{
	if (strcmp(s, "auto") == 0)
		return TRI_AUTO;
	if (strcmp(s, "on") == 0)
		return TRI_ON;
	if (strcmp(s, "off") == 0)
		return TRI_OFF;
	cli_die(XC_USAGE, "%s: auto, on or off, not %s", name, s);
}

static void
addr_arg(const char *name, const char *s, int need_port, struct net_addr *a)
{
	int e = need_port ? net_addr_parse(slice_cstr(s), a) :
	    net_addr_parse_any(slice_cstr(s), 0, a);

	if (e != 0)
		cli_die(XC_USAGE, "%s: bad address (want %s): %s", name,
		    need_port ? "ADDR:PORT or [ADDR6]:PORT" : "ADDR", s);
}

/* ---- one-stream mode ---- */

static struct keyline *
parse_line(const char *what, struct slice line)
{
	struct keyline *kl = NULL;
	char why[160];
	int e = keyline_parse(line, &kl, why, sizeof(why));

	if (e != 0)
		cli_die(cli_exit_code(e), "%s: %s", what, why);
	return kl;
}

/* Read the in/out keys from the options or the key file. */
static void
load_keys(const struct opts *o, struct keyline **kin, struct keyline **kout)
{
	struct buf *b;
	struct slice s, line;
	int n = 0;

	*kin = *kout = NULL;
	if (o->keys_file == NULL) {
		*kin = parse_line("--key-in", slice_cstr(o->key_in));
		*kout = parse_line("--key-out", slice_cstr(o->key_out));
		return;
	}
	if ((b = cli_read_file(o->keys_file, 1 << 20)) == NULL)
		exit(XC_FAIL);
	s = buf_slice(b);
	while (s.len > 0) {
		struct keyline *kl;
		enum keyline_dir d;

		(void)slice_split(&s, '\n', &line);
		if (keyline_is_comment(line))
			continue;
		kl = parse_line(o->keys_file, line);
		d = keyline_dir(kl);
		if (d == KEYLINE_DIR_NONE)
			d = n == 0 ? KEYLINE_DIR_IN : KEYLINE_DIR_OUT;
		n++;
		if (d == KEYLINE_DIR_IN && *kin == NULL) {
			*kin = kl;
		} else if (d == KEYLINE_DIR_OUT && *kout == NULL) {
			*kout = kl;
		} else {
			keyline_free(kl);
		}
	}
	buf_free(b);
	if (*kin == NULL || *kout == NULL)
		cli_die(XC_INPUT, "%s: need a key for each direction (dir=in, "
		    "dir=out)", o->keys_file);
}

static void
apply_keys(struct state *st)
{
	struct keyline *kl[2];
	struct net_addr loc, peer;
	int e;

	load_keys(st->o, &kl[0], &kl[1]);
	if (relay_side_local(st->stream, OUT, 0, &loc) != 0)
		memset(&loc, 0, sizeof(loc));
	if (relay_side_peer(st->stream, OUT, 0, &peer) != 0)
		memset(&peer, 0, sizeof(peer));
	for (int d = 0; d < 2; d++) {
		struct keylog_keys k;

		if ((e = keylog_params(kl[d], &k)) != 0)
			cli_die(XC_INPUT, "key-%s: %s", d ? "out" : "in",
			    sbk_strerror(e));
		e = relay_side_set_key(st->stream, OUT,
		    d ? RTPSEC_PROTECT : RTPSEC_UNPROTECT, &k.p);
		if (e < 0)
			cli_die(cli_exit_code(e), "key-%s: %s", d ? "out" : "in",
			    sbk_strerror(e));
		if (e == 1 && st->keylog != NULL &&
		    keylog_add(st->keylog, kl[d], NULL,
		    d ? KEYLINE_DIR_OUT : KEYLINE_DIR_IN, d ? &loc : &peer,
		    d ? &peer : &loc, NULL) != 0)
			cli_err("%s: %s", st->o->keylog, strerror(errno));
		if (e == 1)
			log_msg(&st->lg, LOG_INFO, "%s key %s",
			    d ? "send" : "receive", "set");
		keyline_free(kl[d]);
	}
}

static void
open_one(struct state *st)
{
	const struct opts *o = st->o;
	struct net_addr a;
	struct relay_stream *s;
	int e;

	s = st->stream = relay_stream_new(st->relay, st);
	if (s == NULL)
		cli_die(XC_FAIL, "out of memory");
	addr_arg("--outside", o->outside, 1, &a);
	if ((e = relay_side_open(s, OUT, &a, net_addr_port(&a), o->mux[OUT]))
	    != 0)
		cli_die(XC_FAIL, "--outside %s: %s", o->outside,
		    e == E_IO ? strerror(errno) : sbk_strerror(e));
	addr_arg("--inside", o->inside, 1, &a);
	if ((e = relay_side_open(s, IN, &a, net_addr_port(&a), o->mux[IN]))
	    != 0)
		cli_die(XC_FAIL, "--inside %s: %s", o->inside,
		    e == E_IO ? strerror(errno) : sbk_strerror(e));
	relay_side_set_srtp(s, OUT, 1);
	if (o->outside_peer != NULL) {
		addr_arg("--outside-peer", o->outside_peer, 1, &a);
		relay_side_set_peer(s, OUT, &a, NULL);
	}
	if (o->inside_peer != NULL) {
		addr_arg("--inside-peer", o->inside_peer, 1, &a);
		relay_side_set_peer(s, IN, &a, NULL);
	}
	apply_keys(st);
}

/* ---- ng mode ---- */

/* "ADDR" or "ADDR!PUBLIC" (the address to write into SDPs). */
static void
iface_arg(const char *name, const char *s, struct net_addr *a,
    struct net_addr *adv)
{
	const char *bang = strchr(s, '!');
	struct slice h = bang != NULL ? slice_make(s, (size_t)(bang - s)) :
	    slice_cstr(s);

	if (net_addr_parse_host(h, 0, a) != 0)
		cli_die(XC_USAGE, "%s: bad interface address: %s", name, s);
	memset(adv, 0, sizeof(*adv));
	if (bang != NULL &&
	    net_addr_parse_host(slice_cstr(bang + 1), 0, adv) != 0)
		cli_die(XC_USAGE, "%s: bad public address: %s", name, s);
}

/* One NSS key log line of a DTLS handshake (for Wireshark). */
static void
dtls_keylog_line(void *arg, const char *line)
{
	struct state *st = arg;
	char b[512];
	int n = snprintf(b, sizeof(b), "%s\n", line);

	if (st->dtls_fd < 0 || n <= 0 || (size_t)n >= sizeof(b))
		return;
	if (write(st->dtls_fd, b, (size_t)n) != n)
		cli_err("%s: %s", st->o->dtls_keylog, strerror(errno));
}

static void
open_dtls_keylog(struct state *st)
{
	char why[160];

	if (st->o->dtls_keylog == NULL)
		return;
	if (st->dtls_fd >= 0)
		close(st->dtls_fd);
	st->dtls_fd = -1;
	if (secfile_append(st->o->dtls_keylog, &st->dtls_fd, why,
	    sizeof(why)) != 0)
		cli_err("%s: %s", st->o->dtls_keylog, why);
}

static void
open_ng(struct state *st)
{
	const struct opts *o = st->o;
	struct calls_config cc;
	struct net_addr a;
	int e;

	memset(&cc, 0, sizeof(cc));
	iface_arg("--outside", o->outside, &cc.iface[OUT], &cc.advertise[OUT]);
	iface_arg("--inside", o->inside, &cc.iface[IN], &cc.advertise[IN]);
	cc.max_sessions = o->max_sessions;
	cc.timeout_ms = o->timeout_ms;
	cc.keylog = st->keylog;
	cc.ng_allow = o->ng_allow;
	cc.n_ng_allow = o->n_ng_allow;
	if ((st->cert = dtls_cert_new(&e)) == NULL)
		log_msg(&st->lg, LOG_WARN, "DTLS certificate: %s (DTLS-SRTP "
		    "offers will be refused)", sbk_strerror(e));
	cc.cert = st->cert;
	if (st->o->dtls_keylog != NULL) {
		cc.dtls_keylog = dtls_keylog_line;
		cc.dtls_keylog_arg = st;
	}
	if ((st->calls = calls_new(st->relay, st->loop, &cc, &st->lg, &e))
	    == NULL)
		cli_die(XC_FAIL, "call table: %s", sbk_strerror(e));
	if (o->steer != TRI_OFF) {
		e = relay_steer(st->relay, cc.iface, 2);
		if (e != 0 && o->steer == TRI_ON)
			cli_die(XC_FAIL, "--steer on: %s%s", sbk_strerror(e),
			    e == E_PERM ? " (needs CAP_BPF and CAP_NET_ADMIN)"
			    : e == E_STATE ? " (needs io_uring)" : "");
		log_msg(&st->lg, LOG_INFO, "port range steered to one socket "
		    "per interface: %s", e == 0 ? "yes" : sbk_strerror(e));
	}
	addr_arg("--ng", o->ng, 1, &a);
	/* ng requests create calls, read keys and end calls: whoever can
	 * send them owns the relay. */
	if (o->n_ng_allow == 0 && !net_addr_is_loopback(&a))
		log_msg(&st->lg, LOG_WARN, "--ng %s is not on loopback and "
		    "answers anyone who reaches it: restrict it with "
		    "--ng-allow (and a firewall)", o->ng);
	if ((e = calls_listen(st->calls, &a)) != 0)
		cli_die(XC_FAIL, "--ng %s: %s", o->ng, e == E_IO ?
		    strerror(errno) : sbk_strerror(e));
	/* the port the kernel picked for --ng ADDR:0, for scripts */
	if (calls_local(st->calls, &a) == 0)
		cli_bound(&st->lg, "ng udp", &a);
	fflush(stdout);
}

/* ---- signals and the run ---- */

static void
summary(struct state *st)
{
	struct buf *b = buf_new(1 << 22);

	if (b == NULL)
		return;
	if ((st->calls == NULL || calls_summary(st->calls, b) == 0) &&
	    relay_summary(st->relay, side_names, b) == 0)
		fprintf(stderr, "%s", buf_str(b));
	buf_free(b);
}

static void
on_signal(struct ev_loop *loop, int signo, void *arg)
{
	struct state *st = arg;

	switch (signo) {
	case SIGUSR1:
		summary(st);
		break;
	case SIGHUP:
		/* reload what can be: the key log file, the key file */
		if (st->keylog != NULL && keylog_reopen(st->keylog) != 0)
			cli_err("%s: %s", st->o->keylog, strerror(errno));
		open_dtls_keylog(st);
		if (st->stream != NULL && st->o->keys_file != NULL)
			apply_keys(st);
		log_msg(&st->lg, LOG_INFO, "reloaded");
		break;
	default:	/* SIGTERM, SIGINT: drain and exit */
		ev_stop(loop);
		break;
	}
}

static void
on_timeout(struct relay_stream *s, void *user)
{
	struct state *st = user;

	(void)s;
	log_msg(&st->lg, LOG_INFO, "no media for %llu s: exiting",
	    (unsigned long long)(st->o->timeout_ms / 1000));
	ev_stop(st->loop);
}

static void
on_ssrc(struct relay_stream *s, int side, uint32_t ssrc, void *user)
{
	struct state *st = user;

	(void)s;
	log_msg(&st->lg, LOG_INFO, "%s: first authenticated SSRC 0x%08x",
	    side_names[side], (unsigned)ssrc);
}

/* The relay of `st` as the options say, with raw sending if asked. */
static void
open_relay(struct state *st)
{
	const struct opts *o = st->o;
	struct relay_config rc;
	int e;

	memset(&rc, 0, sizeof(rc));
	rc.io = o->io;
	rc.coalesce_us = o->coalesce_us;
	rc.coalesce_pkts = o->coalesce_pkts;
	if (o->coalesce_set && o->coalesce_us == 0)
		rc.coalesce_pkts = 1;	/* no coalescing */
	rc.timeout_ms = o->timeout_ms;
	rc.relatch_count = o->relatch_count;
	rc.relatch_quiet_ms = o->relatch_quiet_ms;
	rc.on_timeout = o->ng != NULL ? calls_stream_timeout : on_timeout;
	rc.on_ssrc = o->ng != NULL ? calls_stream_ssrc : on_ssrc;
	if (o->ng != NULL && o->obs.hep != NULL)	/* RTCP to HEP */
		rc.on_rtcp = calls_stream_rtcp;
	if (o->ng != NULL) {
		rc.port_min = o->port_min;
		rc.port_max = o->port_max;
	}
	if ((st->relay = relay_new(st->loop, &rc, &st->lg, &e)) == NULL)
		cli_die(XC_FAIL, "relay: %s", sbk_strerror(e));
	if (o->raw != TRI_OFF) {
		e = relay_raw_send(st->relay);
		if (e != 0 && o->raw == TRI_ON)
			cli_die(XC_FAIL, "--raw-send on: %s%s", sbk_strerror(e),
			    e == E_PERM ? " (needs CAP_NET_RAW)" :
			    e == E_STATE ? " (needs io_uring)" : "");
		log_msg(&st->lg, LOG_INFO, "sending from raw sockets: %s",
		    e == 0 ? "yes" : sbk_strerror(e));
	}
}

/*
 * Everything the options name is checked before a file is created or a
 * port bound: a bad key must not leave a key log behind or make a rerun
 * race its own ports.
 */
static void
check_config(const struct opts *o)
{
	struct net_addr a, adv;

	if (o->ng != NULL) {
		addr_arg("--ng", o->ng, 1, &a);
		iface_arg("--outside", o->outside, &a, &adv);
		iface_arg("--inside", o->inside, &a, &adv);
		return;
	}
	addr_arg("--outside", o->outside, 1, &a);
	addr_arg("--inside", o->inside, 1, &a);
	if (o->outside_peer != NULL)
		addr_arg("--outside-peer", o->outside_peer, 1, &a);
	if (o->inside_peer != NULL)
		addr_arg("--inside-peer", o->inside_peer, 1, &a);
	{
		struct keyline *kl[2];

		load_keys(o, &kl[0], &kl[1]);
		for (int d = 0; d < 2; d++) {
			struct keylog_keys k;
			int e = keylog_params(kl[d], &k);

			if (e != 0)
				cli_die(XC_INPUT, "key-%s: %s", d ? "out" :
				    "in", sbk_strerror(e));
			OPENSSL_cleanse(&k, sizeof(k));
			keyline_free(kl[d]);
		}
	}
}

/* --hep and --metrics: the collectors, then the endpoint. */
static void
observe(struct state *st)
{
	struct cli_obs *ob = &st->o->obs;

	if (st->calls != NULL)
		calls_set_hep(st->calls, ob->hep);
	else if (ob->hep != NULL)
		log_msg(&st->lg, LOG_WARN, "--hep: only ng calls (--ng) have "
		    "reports and summaries to send; nothing will be");
	if (ob->metrics != NULL && (metrics_add(ob->metrics, relay_metrics,
	    st->relay) != 0 || (st->calls != NULL && metrics_add(ob->metrics,
	    calls_metrics, st->calls) != 0)))
		cli_die(XC_FAIL, "--metrics: too many collectors");
	cli_obs_serve(ob, st->loop, &st->lg);
}

static int
run(struct opts *o)
{
	struct state st;
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	int e;

	check_config(o);
	memset(&st, 0, sizeof(st));
	st.o = o;
	cli_logger(&st.lg, o->verbosity);
	st.loop = cli_loop();
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (ev_signal_add(st.loop, sigs[i], on_signal, &st) != 0)
			cli_die(XC_FAIL, "signals: %s", strerror(errno));
	if (o->keylog != NULL &&
	    (st.keylog = keylog_open(o->keylog, &e)) == NULL)
		cli_die(XC_FAIL, "%s: %s", o->keylog, strerror(errno));
	st.dtls_fd = -1;
	open_dtls_keylog(&st);
	if (o->dtls_keylog != NULL && st.dtls_fd < 0)
		cli_die(XC_FAIL, "--dtls-keylog: cannot open %s",
		    o->dtls_keylog);
	cli_obs_start(&o->obs, st.loop, &st.lg);
	open_relay(&st);
	if (o->ng != NULL) {
		open_ng(&st);
		log_msg(&st.lg, LOG_INFO, "ng on %s, outside %s, inside %s",
		    o->ng, o->outside, o->inside);
	} else {
		open_one(&st);
		log_msg(&st.lg, LOG_INFO, "bridging %s (srtp) <-> %s (rtp)",
		    o->outside, o->inside);
	}
	observe(&st);
	if (ev_run(st.loop) != 0)
		cli_err("event loop: %s", strerror(errno));
	/* drain what is already queued, then report */
	for (int i = 0; i < 4 && ev_run_once(st.loop, 0) > 0; i++)
		;
	summary(&st);
	calls_free(st.calls);
	relay_free(st.relay);
	dtls_cert_free(st.cert);
	if (st.dtls_fd >= 0)
		close(st.dtls_fd);
	cli_obs_stop(&o->obs);
	keylog_free(st.keylog);
	ev_free(st.loop);
	return st.exit_code;
}

/* --io */
static enum relay_io
io_arg(const char *s)
{
	if (strcmp(s, "auto") == 0)
		return RELAY_IO_AUTO;
	if (strcmp(s, "epoll") == 0)
		return RELAY_IO_EPOLL;
	if (strcmp(s, "uring") == 0)
		return RELAY_IO_URING;
	cli_die(XC_USAGE, "--io: auto, epoll or uring, not %s", s);
}

/* --rtcp-mux[=outside|inside|both] */
static void
mux_arg(const char *s, int mux[2])
{
	if (s == NULL || strcmp(s, "both") == 0)
		mux[OUT] = mux[IN] = 1;
	else if (strcmp(s, "outside") == 0)
		mux[OUT] = 1;
	else if (strcmp(s, "inside") == 0)
		mux[IN] = 1;
	else
		cli_die(XC_USAGE, "--rtcp-mux: outside, inside or both, not %s",
		    s);
}

/* --interface outside=ADDR|inside=ADDR */
static void
interface_arg(const char *s, struct opts *o)
{
	if (strncmp(s, "outside=", 8) == 0)
		o->outside = s + 8;
	else if (strncmp(s, "inside=", 7) == 0)
		o->inside = s + 7;
	else
		cli_die(XC_USAGE, "--interface: want outside=ADDR or "
		    "inside=ADDR, not %s", s);
}

static void
ng_allow_arg(const char *arg, struct opts *o)
{
	char why[128];

	if (net_prefix_list_parse(slice_cstr(arg), o->ng_allow,
	    CALLS_NG_ALLOW_MAX, &o->n_ng_allow, why, sizeof(why)) != 0)
		cli_die(XC_USAGE, "--ng-allow: %s", why);
}

enum { O_OPEER = 256, O_KIN, O_KOUT, O_MUX, O_NG, O_NGALLOW, O_IFACE, O_PMIN,
	O_PMAX, O_MAXS, O_RCOUNT, O_RQUIET, O_IO, O_COAL, O_COALN, O_STEER,
	O_RAW, O_DTLSKL, O_PRADDR };

static const struct option long_opts[] = {
	{ "outside", required_argument, NULL, 'o' },
	{ "inside", required_argument, NULL, 'i' },
	{ "outside-peer", required_argument, NULL, O_OPEER },
	{ "inside-peer", required_argument, NULL, 'p' },
	{ "key-in", required_argument, NULL, O_KIN },
	{ "key-out", required_argument, NULL, O_KOUT },
	{ "keys", required_argument, NULL, 'k' },
	{ "rtcp-mux", optional_argument, NULL, O_MUX },
	{ "ng", required_argument, NULL, O_NG },
	{ "ng-allow", required_argument, NULL, O_NGALLOW },
	{ "interface", required_argument, NULL, O_IFACE },
	{ "port-min", required_argument, NULL, O_PMIN },
	{ "port-max", required_argument, NULL, O_PMAX },
	{ "max-sessions", required_argument, NULL, O_MAXS },
	{ "timeout", required_argument, NULL, 't' },
	{ "relatch-count", required_argument, NULL, O_RCOUNT },
	{ "relatch-quiet", required_argument, NULL, O_RQUIET },
	{ "keylog", required_argument, NULL, 'K' },
	{ "dtls-keylog", required_argument, NULL, O_DTLSKL },
	{ "io", required_argument, NULL, O_IO },
	{ "coalesce", required_argument, NULL, O_COAL },
	{ "steer", required_argument, NULL, O_STEER },
	{ "raw-send", required_argument, NULL, O_RAW },
	{ "coalesce-pkts", required_argument, NULL, O_COALN },
	{ "print-addresses", no_argument, NULL, O_PRADDR },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	CLI_OBS_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

/* One option `c` with argument `arg` (getopt_long's) into `o`. */
static void
one_opt(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case 'o': o->outside = arg; break;
	case 'i': o->inside = arg; break;
	case O_OPEER: o->outside_peer = arg; break;
	case 'p': o->inside_peer = arg; break;
	case O_KIN: o->key_in = arg; break;
	case O_KOUT: o->key_out = arg; break;
	case 'k': o->keys_file = arg; break;
	case O_MUX: mux_arg(arg, o->mux); break;
	case O_NG: o->ng = arg; break;
	case O_NGALLOW: ng_allow_arg(arg, o); break;
	case O_IFACE: interface_arg(arg, o); break;
	case O_PMIN:
		o->port_min = (uint16_t)cli_num("--port-min", arg, 65534);
		break;
	case O_PMAX:
		o->port_max = (uint16_t)cli_num("--port-max", arg, 65535);
		break;
	case O_MAXS:
		o->max_sessions = (size_t)cli_num("--max-sessions", arg,
		    1000000);
		break;
	case 't':
		o->timeout_ms = cli_num("--timeout", arg, 86400) * 1000;
		o->timeout_set = 1;
		break;
	case O_RCOUNT:
		o->relatch_count = (unsigned)cli_num("--relatch-count", arg,
		    1000000);
		break;
	case O_RQUIET:
		o->relatch_quiet_ms = cli_num("--relatch-quiet", arg,
		    86400000);
		break;
	case 'K': o->keylog = arg; break;
	case O_DTLSKL: o->dtls_keylog = arg; break;
	case O_PRADDR: cli_print_addresses(1); break;
	case O_IO: o->io = io_arg(arg); break;
	case O_STEER: o->steer = tri_arg("--steer", arg); break;
	case O_RAW: o->raw = tri_arg("--raw-send", arg); break;
	case O_COAL:
		o->coalesce_us = (unsigned)cli_num("--coalesce", arg, 100000);
		o->coalesce_set = 1;
		break;
	case O_COALN:
		o->coalesce_pkts = (unsigned)cli_num("--coalesce-pkts", arg,
		    4096);
		if (o->coalesce_pkts == 0)
			cli_die(XC_USAGE, "--coalesce-pkts: at least 1");
		break;
	case 'v':
		if (o->verbosity < LOG_DEBUG)
			o->verbosity++;
		break;
	case 'h': usage(); break;
	case 'V': cli_version(); break;
	default: cli_usage_hint();
	}
}

/* The options that go together, and the defaults that depend on others. */
static void
check_opts(struct opts *o)
{
	if (o->outside == NULL || o->inside == NULL)
		cli_die(XC_USAGE, "need --outside and --inside");
	if (o->steer == TRI_ON && o->ng == NULL)
		cli_die(XC_USAGE, "--steer on: only with --ng (a port range)");
	if (o->n_ng_allow > 0 && o->ng == NULL)
		cli_die(XC_USAGE, "--ng-allow: only with --ng");
	if (o->dtls_keylog != NULL && o->ng == NULL)
		cli_die(XC_USAGE, "--dtls-keylog: only with --ng");
	if (o->ng != NULL) {
		/* Every call must end: one offered and never answered, or
		 * whose phone vanished, would hold its ports for ever
		 * (rtpengine's default is the same 60 s). */
		if (!o->timeout_set)
			o->timeout_ms = SRTP_BRIDGE_NG_TIMEOUT_MS;
		if (o->port_min == 0 && o->port_max == 0) {
			o->port_min = 30000;
			o->port_max = 39999;
		}
		if (o->port_min == 0 || o->port_max < o->port_min + 3)
			cli_die(XC_USAGE, "--port-min/--port-max: need a range "
			    "of at least 4 ports");
		if (o->key_in != NULL || o->key_out != NULL ||
		    o->keys_file != NULL || o->inside_peer != NULL ||
		    o->outside_peer != NULL)
			cli_die(XC_USAGE, "--ng takes no stream options "
			    "(keys and peers come from the SDPs)");
	} else if (o->keys_file == NULL && (o->key_in == NULL ||
	    o->key_out == NULL))
		cli_die(XC_USAGE, "need --key-in and --key-out, or --keys");
}

/* The command line into `o` (exits on a usage error, -h, -V). */
static void
parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->verbosity = LOG_WARN;
	while ((c = getopt_long(argc, argv, "o:i:p:k:t:K:vhV", long_opts,
	    NULL)) != -1)
		if (!cli_obs_opt(c, optarg, &o->obs))
			one_opt(o, c, optarg);
	if (optind < argc)
		cli_die(XC_USAGE, "unexpected argument: %s", argv[optind]);
	check_opts(o);
}

int
main(int argc, char **argv)
{
	struct opts o;

	cli_init(argv[0]);
	parse_opts(argc, argv, &o);
	return run(&o);
}
