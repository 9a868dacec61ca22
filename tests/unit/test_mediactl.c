/* test_mediactl.c - unit tests for lib/mediactl: what goes to the ng relay. */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/ev.h"
#include "sip/mediactl.h"
#include "base/net.h"
#include "ng/ng.h"
#include "sip/sip.h"
#include "t.h"

/*
 * A UDP socket stands in for the relay: every request mediactl sends is
 * read back and parsed with lib/ng (the server side), and its command,
 * tags, profile, interfaces and SDES filters checked.
 */

static int relay_fd;
static uint8_t dgram[65536];
static struct ng_req got;
static int cb_err = 1;

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
	return ng_req_parse(&got, slice_make(p.buf, p.len)) == 0;
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
	if ((loop = ev_new(&err)) == NULL ||
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

	ng_req_release(&got);
	mediactl_free(mc);
	mediactl_free(NULL);
	close(relay_fd);
	ev_free(loop);
	return t_done();
}
