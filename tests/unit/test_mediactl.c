/* test_mediactl.c - unit tests for lib/mediactl: what goes to the ng relay. */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/ev.h"
#include "sip/mediactl.h"
#include "base/net.h"
#include "ng/ng.h"
#include "sip/sip.h"
#include "t.h"

/*
 * A UDP socket stands in for the relay: every request mediactl sends is
 * read back and parsed with lib/ng (the server side), and its command,
 * tags, profile, interfaces and SDES filters checked. It answers when
 * told to, late or never: calls must end on the relay all the same.
 */

static int relay_fd;
static uint8_t dgram[65536];
static struct ng_req got;
static struct net_addr got_from;	/* mediactl's socket */
static char got_cookie[NG_COOKIE_MAX + 1];
static int cb_err = 1;
static struct ev_loop *lp;

static const char sdp[] =
    "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n"
    "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
static const char sdp_srtp[] =
    "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n"
    "t=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
    "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";

/* Build a message: start line, the dialog headers, extra, body. */
static char mbuf[8][4096];
static int mi;

static const struct sip_msg *
msg(struct sip_msg *m, const char *start, const char *cid, const char *from,
    const char *to, const char *cseq, const char *extra, const char *body)
{
	char *b = mbuf[mi++ % 8];
	int n = snprintf(b, 4096, "%s\r\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK1\r\n"
	    "From: <sip:a@x>;tag=%s\r\nTo: <sip:b@x>%s%s\r\nCall-ID: %s\r\n"
	    "CSeq: %s\r\n%s%sContent-Length: %zu\r\n\r\n%s", start, from,
	    to[0] ? ";tag=" : "", to, cid, cseq, extra,
	    body[0] ? "Content-Type: application/sdp\r\n" : "", strlen(body),
	    body);

	if (n < 0 || n >= 4096 || sip_parse(m, slice_make(b, (size_t)n)) != 0) {
		printf("# cannot build %s\n", start);
		return NULL;
	}
	return m;
}

/* The next request the relay gets within `ms`: 1, or 0 if none. */
static int
next(int ms)
{
	struct pollfd pf = { relay_fd, POLLIN, 0 };
	struct net_pkt p;

	ng_req_release(&got);
	memset(&got, 0, sizeof(got));
	if (poll(&pf, 1, ms) <= 0)
		return 0;
	memset(&p, 0, sizeof(p));
	p.buf = dgram;
	p.cap = sizeof(dgram);
	if (net_recv(relay_fd, &p) != 0)
		return 0;
	got_from = p.addr;
	if (ng_req_parse(&got, slice_make(p.buf, p.len)) != 0)
		return 0;
	snprintf(got_cookie, sizeof(got_cookie), "%.*s",
	    (int)got.cookie.len, (const char *)got.cookie.p);
	return 1;
}

/* The next request of command `cmd` (others skipped) within `ms`, the
 * loop running meanwhile (retransmissions, timeouts): 1, or 0. */
static int
next_cmd(enum ng_cmd cmd, int ms)
{
	uint64_t end = ev_now_ms(lp) + (uint64_t)ms;

	while (ev_now_ms(lp) < end) {
		(void)ev_run_once(lp, 5);
		while (next(0))
			if (got.cmd == cmd)
				return 1;
	}
	return 0;
}

/* Run the loop for `ms`; the number of requests of `cmd` the relay got. */
static int
count_cmd(enum ng_cmd cmd, int ms)
{
	uint64_t end = ev_now_ms(lp) + (uint64_t)ms;
	int n = 0;

	while (ev_now_ms(lp) < end) {
		(void)ev_run_once(lp, 5);
		while (next(0))
			n += got.cmd == cmd;
	}
	return n;
}

/* The relay answers `cookie` with an ok (and an SDP) to mediactl. */
static void
answer(const char *cookie)
{
	struct buf *b = buf_new(4096);
	struct net_pkt p;

	if (b == NULL)
		return;
	if (ng_reply_ok(b, slice_cstr(cookie), slice_cstr("v=0\r\n"),
	    SLICE_NULL) == 0) {
		memset(&p, 0, sizeof(p));
		p.buf = (uint8_t *)(uintptr_t)buf_data(b);
		p.len = p.cap = buf_len(b);
		p.addr = got_from;
		if (net_send(relay_fd, &p) != 0)
			printf("# answer not sent\n");
	}
	buf_free(b);
}

static void
done(void *arg, int err, struct slice s)
{
	(void)arg;
	(void)s;
	cb_err = err;
}

static void
submit(struct mediactl *mc, const struct sip_msg *m, int outward, int both,
    int require)
{
	struct mediactl_req rq;

	memset(&rq, 0, sizeof(rq));
	rq.msg = m;
	rq.outward = outward;
	rq.outside_both = both;
	rq.require_srtp = require;
	/* As the proxy does: every message tracked, bodies submitted. */
	mediactl_track(mc, m);
	if (m->body.len > 0)
		mediactl_submit(mc, &rq, done, NULL);
}

static int
is(struct slice s, const char *c)
{
	return slice_eq_cstr(s, c);
}

static struct mediactl_stats
stats(const struct mediactl *mc)
{
	struct mediactl_stats st;

	mediactl_stats(mc, &st);
	return st;
}

/*
 * Calls always end: deletes retried with back-off and counted when
 * unanswered; a late answer to an offer given up on is deleted; a full
 * queue refuses an offer but never a delete.
 */
static void
lifecycle(const struct net_addr *ra)
{
	struct mediactl_conf cf;
	struct mediactl *mc;
	struct sip_msg m, inv;
	char ck[NG_COOKIE_MAX + 1];
	uint64_t t0, t1, t2;
	int err, n;

	memset(&cf, 0, sizeof(cf));
	cf.relay[0] = *ra;
	cf.nrelay = 1;
	cf.timeout_ms = 100;
	cf.retries = 3;
	cf.max_pending = 2;
	if ((mc = mediactl_new(lp, &cf, NULL, &err)) == NULL) {
		T_OK(0, "mediactl_new (lifecycle)");
		return;
	}

	/* An unanswered delete: three tries, 100 then 200 ms apart (the
	 * loop's clock read fresh first). */
	(void)ev_run_once(lp, 0);
	mediactl_delete(mc, msg(&m, "BYE sip:b@x SIP/2.0", "d1", "a1", "b1",
	    "2 BYE", "", ""));
	T_OK(next_cmd(NG_CMD_DELETE, 1000) && is(got.call_id, "d1"),
	    "delete sent");
	snprintf(ck, sizeof(ck), "%s", got_cookie);
	t0 = ev_now_ms(lp);
	T_OK(next_cmd(NG_CMD_DELETE, 1000) && strcmp(got_cookie, ck) == 0,
	    "delete retried");
	t1 = ev_now_ms(lp);
	T_OK(next_cmd(NG_CMD_DELETE, 1000) && strcmp(got_cookie, ck) == 0,
	    "delete retried again");
	t2 = ev_now_ms(lp);
	T_OK(t1 - t0 >= 80 && t2 - t1 >= 150, "back-off: %llu then %llu ms",
	    (unsigned long long)(t1 - t0), (unsigned long long)(t2 - t1));
	T_EQ_INT(count_cmd(NG_CMD_DELETE, 700), 0, "three tries, no more");
	T_EQ_INT(stats(mc).deletes_failed, 1, "the unanswered delete counted");
	T_EQ_INT(stats(mc).pending_deletes, 0, "and forgotten");

	/* An offer nobody answers in time: E_TIMEOUT; the proxy deletes
	 * the call (px_media_end()); the relay answers the offer late, and
	 * gets one more delete for it. */
	cb_err = 1;
	submit(mc, msg(&inv, "INVITE sip:b@x SIP/2.0", "d2", "a2", "",
	    "1 INVITE", "", sdp_srtp), 0, 0, 0);
	T_OK(next_cmd(NG_CMD_OFFER, 1000) && is(got.call_id, "d2"), "offer");
	snprintf(ck, sizeof(ck), "%s", got_cookie);
	for (n = 0; n < 200 && cb_err == 1; n++)
		(void)ev_run_once(lp, 5);
	T_EQ_INT(cb_err, E_TIMEOUT, "unanswered offer: E_TIMEOUT");
	T_EQ_INT(stats(mc).ghosts, 1, "the lost offer remembered");
	mediactl_delete(mc, &inv);
	T_OK(next_cmd(NG_CMD_DELETE, 1000) && is(got.call_id, "d2"),
	    "its call deleted");
	answer(got_cookie);
	answer(ck);		/* the relay, late */
	T_OK(next_cmd(NG_CMD_DELETE, 1000) && is(got.call_id, "d2") &&
	    is(got.from_tag, "a2") && got.to_tag.len == 0,
	    "late answer to the lost offer: delete");
	answer(got_cookie);
	answer(ck);		/* ... and a retransmission's answer */
	T_EQ_INT(count_cmd(NG_CMD_DELETE, 300), 0, "one delete per relay");
	T_EQ_INT(stats(mc).late_deletes, 1, "late delete counted");

	/* A re-INVITE's lost offer: its call stays (nothing deleted), its
	 * late answer deletes nothing either. */
	cb_err = 1;
	submit(mc, msg(&inv, "INVITE sip:b@x SIP/2.0", "d3", "a3", "b3",
	    "5 INVITE", "", sdp_srtp), 0, 0, 0);
	T_OK(next_cmd(NG_CMD_OFFER, 1000) && is(got.call_id, "d3"),
	    "re-INVITE offer");
	snprintf(ck, sizeof(ck), "%s", got_cookie);
	for (n = 0; n < 200 && cb_err == 1; n++)
		(void)ev_run_once(lp, 5);
	T_EQ_INT(cb_err, E_TIMEOUT, "unanswered re-INVITE offer: E_TIMEOUT");
	answer(ck);
	T_EQ_INT(count_cmd(NG_CMD_DELETE, 300), 0,
	    "late answer to a kept call's offer: no delete");

	/* The queue full (max_pending 2): the offer is refused at once
	 * and counted, the delete of its call still goes. */
	submit(mc, msg(&m, "INVITE sip:b@x SIP/2.0", "d4", "a4", "",
	    "1 INVITE", "", sdp_srtp), 0, 0, 0);
	submit(mc, msg(&m, "INVITE sip:b@x SIP/2.0", "d5", "a5", "",
	    "1 INVITE", "", sdp_srtp), 0, 0, 0);
	cb_err = 1;
	submit(mc, msg(&inv, "INVITE sip:b@x SIP/2.0", "d6", "a6", "",
	    "1 INVITE", "", sdp_srtp), 0, 0, 0);
	T_EQ_INT(cb_err, E_LIMIT, "queue full: offer refused (E_LIMIT)");
	T_EQ_INT(stats(mc).refused, 1, "refusal counted");
	T_EQ_INT(stats(mc).pending, 2, "two offers pending");
	mediactl_delete(mc, &inv);
	T_OK(next_cmd(NG_CMD_DELETE, 1000) && is(got.call_id, "d6"),
	    "queue full: the delete still sent");
	answer(got_cookie);
	T_EQ_INT(stats(mc).deletes, 4, "four deletes sent in all");

	ng_req_release(&got);
	mediactl_free(mc);
}

/*
 * Two relays: an offer relay 0 does not answer goes to relay 1; when
 * relay 0 answers late after all, the call it kept is deleted there, and
 * only there (the call lives on relay 1).
 */
static void
failover(const struct net_addr *ra)
{
	struct mediactl_conf cf;
	struct mediactl *mc;
	struct sip_msg m;
	struct net_addr rb, any;
	char ck[NG_COOKIE_MAX + 1];
	int err, fd0 = relay_fd, fd1, n;

	if (net_addr_parse(slice_cstr("127.0.0.1:0"), &any) != 0 ||
	    net_udp_bind(&any, 0, &fd1) != 0 || net_local_addr(fd1, &rb) != 0) {
		T_OK(0, "second relay");
		return;
	}
	memset(&cf, 0, sizeof(cf));
	cf.relay[0] = *ra;
	cf.relay[1] = rb;
	cf.nrelay = 2;
	cf.timeout_ms = 100;
	cf.retries = 2;
	if ((mc = mediactl_new(lp, &cf, NULL, &err)) == NULL) {
		T_OK(0, "mediactl_new (failover)");
		close(fd1);
		return;
	}
	(void)ev_run_once(lp, 0);
	cb_err = 1;
	submit(mc, msg(&m, "INVITE sip:b@x SIP/2.0", "f1", "a1", "",
	    "1 INVITE", "", sdp_srtp), 0, 0, 0);
	T_OK(next_cmd(NG_CMD_OFFER, 1000) && is(got.call_id, "f1"),
	    "offer to relay 0");
	snprintf(ck, sizeof(ck), "%s", got_cookie);
	relay_fd = fd1;
	T_OK(next_cmd(NG_CMD_OFFER, 2000) && strcmp(got_cookie, ck) == 0,
	    "relay 0 silent: the offer goes to relay 1");
	answer(ck);
	for (n = 0; n < 100 && cb_err == 1; n++)
		(void)ev_run_once(lp, 5);
	T_EQ_INT(cb_err, 0, "relay 1 answers");
	relay_fd = fd0;
	while (next(0))
		;
	answer(ck);		/* relay 0, late */
	T_OK(next_cmd(NG_CMD_DELETE, 1000) && is(got.call_id, "f1") &&
	    is(got.from_tag, "a1"), "relay 0's late answer: delete there");
	answer(got_cookie);
	relay_fd = fd1;
	T_EQ_INT(count_cmd(NG_CMD_DELETE, 300), 0, "relay 1 keeps the call");
	relay_fd = fd0;
	T_EQ_INT(stats(mc).late_deletes, 1, "counted");
	ng_req_release(&got);
	mediactl_free(mc);
	close(fd1);
}

int
main(void)
{
	struct ev_loop *loop;
	struct mediactl *mc;
	struct mediactl_conf cf;
	struct net_addr ra;
	struct sip_msg m;
	int err;

	memset(&got, 0, sizeof(got));
	if ((lp = loop = ev_new(&err)) == NULL ||
	    net_addr_parse(slice_cstr("127.0.0.1:0"), &ra) != 0 ||
	    net_udp_bind(&ra, 0, &relay_fd) != 0 ||
	    net_local_addr(relay_fd, &ra) != 0) {
		T_OK(0, "set-up");
		return t_done();
	}
	memset(&cf, 0, sizeof(cf));
	cf.relay[0] = ra;
	cf.nrelay = 1;
	cf.dir_outside = "outside";
	cf.dir_inside = "inside";
	cf.timeout_ms = 5000;
	mc = mediactl_new(loop, &cf, NULL, &err);
	T_OK(mc != NULL, "mediactl_new");
	if (mc == NULL)
		return t_done();

	/* An outside INVITE: an offer towards the inside. */
	submit(mc, msg(&m, "INVITE sip:b@x SIP/2.0", "c1", "a1", "",
	    "1 INVITE", "", sdp_srtp), 0, 0, 0);
	T_OK(next(1000) && got.cmd == NG_CMD_OFFER, "INVITE: offer");
	T_OK(is(got.from_tag, "a1") && got.to_tag.len == 0, "from-tag a1");
	T_OK(got.proto == NG_PROTO_RTP_AVP, "RTP/AVP towards the inside");
	T_OK(is(got.from_interface, "outside") &&
	    is(got.to_interface, "inside"), "direction outside, inside");
	T_EQ_INT(got.n_sdes_no, 0, "no SDES filter towards the inside");
	/* Its 183 with SDP from the inside: an answer towards the outside. */
	submit(mc, msg(&m, "SIP/2.0 183 Session Progress", "c1", "a1", "b1",
	    "1 INVITE", "", sdp), 1, 0, 0);
	T_OK(next(1000) && got.cmd == NG_CMD_ANSWER, "183: answer");
	T_OK(is(got.from_tag, "a1") && is(got.to_tag, "b1"), "183 tags");
	T_OK(got.proto == NG_PROTO_RTP_SAVP, "RTP/SAVP towards the outside");
	T_OK(is(got.from_interface, "inside") &&
	    is(got.to_interface, "outside"), "direction inside, outside");
	/* A re-INVITE from the inside: an offer from b1, SDES filtered. */
	submit(mc, msg(&m, "INVITE sip:a@x SIP/2.0", "c1", "b1", "a1",
	    "7 INVITE", "", sdp), 1, 0, 0);
	T_OK(next(1000) && got.cmd == NG_CMD_OFFER, "re-INVITE: offer");
	T_OK(is(got.from_tag, "b1") && is(got.to_tag, "a1"),
	    "re-INVITE names its sender as the offerer");
	T_EQ_INT(got.n_sdes_no, 6, "AES_CM_128 first: six suites filtered");
	T_OK(got.n_sdes_no > 0 && is(got.sdes_no[0], "AEAD_AES_256_GCM"),
	    "AEAD_AES_256_GCM filtered");
	/* ... refused with 491: the call stays. */
	mediactl_track(mc, msg(&m, "SIP/2.0 491 Request Pending", "c1", "b1",
	    "a1", "7 INVITE", "", ""));
	T_OK(!next(200), "a refused re-INVITE deletes nothing");
	/* A CANCEL of the initial INVITE deletes. */
	mediactl_track(mc, msg(&m, "CANCEL sip:b@x SIP/2.0", "c1", "a1", "",
	    "1 CANCEL", "", ""));
	T_OK(next(1000) && got.cmd == NG_CMD_DELETE && is(got.call_id, "c1"),
	    "CANCEL of the initial INVITE: delete");

	/* A late offer: INVITE without SDP, offer in the 200, answer in ACK. */
	submit(mc, msg(&m, "INVITE sip:b@x SIP/2.0", "c2", "a2", "",
	    "1 INVITE", "", ""), 0, 0, 0);
	submit(mc, msg(&m, "SIP/2.0 200 OK", "c2", "a2", "b2", "1 INVITE", "",
	    sdp), 1, 0, 0);
	T_OK(next(1000) && got.cmd == NG_CMD_OFFER, "200 after a late INVITE: "
	    "offer");
	T_OK(is(got.from_tag, "b2") && is(got.to_tag, "a2"),
	    "offerer: the To party");
	T_OK(got.proto == NG_PROTO_RTP_SAVP && got.n_sdes_no == 6,
	    "towards the outside, SDES filtered");
	submit(mc, msg(&m, "ACK sip:b@x SIP/2.0", "c2", "a2", "b2", "1 ACK", "",
	    sdp_srtp), 0, 0, 0);
	T_OK(next(1000) && got.cmd == NG_CMD_ANSWER, "ACK: answer");
	T_OK(is(got.from_tag, "b2") && is(got.to_tag, "a2"), "ACK tags");
	/* A failed initial INVITE deletes. */
	submit(mc, msg(&m, "INVITE sip:b@x SIP/2.0", "c3", "a3", "",
	    "1 INVITE", "", sdp), 0, 0, 0);
	T_OK(next(1000) && got.cmd == NG_CMD_OFFER, "offer");
	mediactl_track(mc, msg(&m, "SIP/2.0 486 Busy Here", "c3", "a3", "b3",
	    "1 INVITE", "", ""));
	T_OK(next(1000) && got.cmd == NG_CMD_DELETE && is(got.call_id, "c3"),
	    "486 to the initial INVITE: delete");

	/* PRACK: answer to a reliable 183's offer after a late INVITE. */
	submit(mc, msg(&m, "INVITE sip:b@x SIP/2.0", "c4", "a4", "",
	    "5 INVITE", "", ""), 0, 0, 0);
	submit(mc, msg(&m, "PRACK sip:b@x SIP/2.0", "c4", "a4", "b4",
	    "6 PRACK", "RAck: 1 5 INVITE\r\n", sdp_srtp), 0, 0, 0);
	T_OK(next(1000) && got.cmd == NG_CMD_ANSWER, "PRACK after a late "
	    "INVITE: answer");
	T_OK(is(got.from_tag, "b4") && is(got.to_tag, "a4"), "PRACK tags");
	submit(mc, msg(&m, "PRACK sip:b@x SIP/2.0", "c1", "a1", "b1",
	    "2 PRACK", "RAck: 1 1 INVITE\r\n", sdp_srtp), 0, 0, 0);
	T_OK(next(1000) && got.cmd == NG_CMD_OFFER, "PRACK otherwise: offer");

	/* Outside to outside: RTP/SAVP, the outside name twice. */
	submit(mc, msg(&m, "INVITE sip:c@x SIP/2.0", "c5", "a5", "",
	    "1 INVITE", "", sdp_srtp), 1, 1, 0);
	T_OK(next(1000) && got.cmd == NG_CMD_OFFER, "o2o: offer");
	T_OK(got.proto == NG_PROTO_RTP_SAVP, "o2o: RTP/SAVP");
	T_OK(is(got.from_interface, "outside") &&
	    is(got.to_interface, "outside"), "o2o: outside, outside");
	T_EQ_INT(got.n_sdes_no, 6, "o2o: SDES filtered");

	/* --require-srtp: an outside offer without a=crypto fails. */
	cb_err = 1;
	submit(mc, msg(&m, "INVITE sip:b@x SIP/2.0", "c6", "a6", "",
	    "1 INVITE", "", sdp), 0, 0, 1);
	for (int i = 0; i < 10 && cb_err == 1; i++)
		(void)ev_run_once(loop, 50);
	T_EQ_INT(cb_err, E_UNSUPPORTED, "no a=crypto: E_UNSUPPORTED");
	T_OK(!next(100), "and nothing sent");

	/* A 2xx went through: a CANCEL crossing it keeps the call, a
	 * (forked) failure after it deletes its own branch only. */
	submit(mc, msg(&m, "INVITE sip:b@x SIP/2.0", "c7", "a7", "",
	    "1 INVITE", "", sdp_srtp), 0, 0, 0);
	T_OK(next(1000) && got.cmd == NG_CMD_OFFER, "c7: offer");
	mediactl_track(mc, msg(&m, "SIP/2.0 200 OK", "c7", "a7", "b7",
	    "1 INVITE", "", ""));
	mediactl_track(mc, msg(&m, "CANCEL sip:b@x SIP/2.0", "c7", "a7", "",
	    "1 CANCEL", "", ""));
	T_OK(!next(200), "a CANCEL after a 2xx deletes nothing");
	mediactl_track(mc, msg(&m, "SIP/2.0 486 Busy Here", "c7", "a7", "b8",
	    "1 INVITE", "", ""));
	T_OK(next(1000) && got.cmd == NG_CMD_DELETE && is(got.call_id, "c7") &&
	    is(got.from_tag, "a7") && is(got.to_tag, "b8"),
	    "a failure after a 2xx deletes its branch only (to-tag b8)");
	ng_req_release(&got);
	mediactl_free(mc);
	mediactl_free(NULL);

	lifecycle(&ra);
	failover(&ra);

	close(relay_fd);
	ev_free(loop);
	return t_done();
}
