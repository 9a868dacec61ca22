/* supervise.h - the gateway's tools on an event loop: start, watch, stop. */
#ifndef SBK_SUPERVISE_H
#define SBK_SUPERVISE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/ev.h"
#include "base/log.h"
#include "gw/gwconf.h"

/*
 * gw_supervise() starts srtp-bridge, waits until it answers a probe on its
 * control (ng) port, then starts sip-tls-term and waits until it prints
 * its ready line; then it watches both until SIGTERM or SIGINT (it stops
 * sip-tls-term, then srtp-bridge: SIGTERM, SIGKILL after the stop
 * timeout) or until one of them exits (it stops the other). SIGHUP is
 * passed on to both, SIGUSR1 to srtp-bridge only. Everything is waited
 * for on `loop`: the signals (ev_signal_add), the tools' exits
 * (ev_child_add), sip-tls-term's stdout, the probe's replies and the
 * timeouts (timers). A child gets SIGTERM if the caller dies, and keeps
 * TERM, INT, HUP (USR1) blocked across exec so that one sent before its
 * handlers are in place waits for them.
 *
 * What it has to say (a tool started, ready, stopping, a tool's exit
 * status) goes to `log` as whole sentences, LOG_INFO and LOG_ERR; the
 * ready-state changes go to the service manager's notify socket
 * (READY=1, STOPPING=1) when one is given.
 */
struct gw_sup_opts {
	char *const *argv[GW_NCHILD];	/* each tool's argv, [0] a path */
	const char *ng;			/* srtp-bridge's ng ADDR:PORT */
	/* the probe: one datagram sent to `ng` every 100 ms until
	 * is_pong() says a reply answers it */
	const uint8_t *ping;
	size_t ping_len;
	int (*is_pong)(void *arg, const uint8_t *p, size_t n);
	void *pong_arg;
	/* sip-tls-term is ready once its stdout holds this, then a newline */
	const char *ready_line;
	unsigned ready_timeout, stop_timeout;	/* seconds */
	const char *notify_socket;	/* $NOTIFY_SOCKET, or NULL */
	const struct logger *log;	/* may be NULL */
	/* every byte sip-tls-term writes to its stdout, as it comes */
	void (*out)(void *arg, const uint8_t *p, size_t n);
	void *out_arg;
};

/*
 * Run the gateway on `loop` until it stops; `o` and what it points to are
 * borrowed until then. The loop is the gateway's: it takes the signals
 * TERM INT HUP USR1 and CHLD, whose handlers point into this run, so
 * after it returns the loop is only for ev_free(). Returns 0 when the
 * gateway ran and stopped, *failed 0 if it stopped on request with both
 * tools exiting 0, 1 if start-up failed, a tool died or did not exit
 * cleanly (said through `log`). Returns a negative E_* code with `why`
 * when the supervisor itself could not go on (a signal, a socket, a
 * fork, memory): the tools it started get SIGTERM when the caller exits.
 */
int gw_supervise(struct ev_loop *loop, const struct gw_sup_opts *o,
    int *failed, char *why, size_t whysz) WUR;

#endif
