/* test_dialog.c - unit tests for the border dialog table (lib/dialog). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "sip/dialog.h"
#include "sip/sip.h"
#include "t.h"

/* Our faces: any URI at host gw.in or gw.out. */
static int
is_us(void *arg, struct slice uri, uint64_t flow)
{
	struct sip_uri u;

	(void)flow;
	(*(int *)arg)++;
	return sip_uri_parse(uri, &u) == 0 &&
	    (slice_eq_cstr(u.host, "gw.in") || slice_eq_cstr(u.host, "gw.out"));
}

#define US_RR_OUTSIDE_UAC \
	"Record-Route: <sip:px@10.0.0.9;lr>\r\n" \
	"Record-Route: <sip:tok@gw.in:5060;lr>, <sip:tok@gw.out:5061;transport=tls;lr>\r\n"

static char mb[8][2048];
static int mbi;

/* Parse `text` (kept in a rotating buffer) into `m`. */
static int
msg(struct sip_msg *m, const char *text)
{
	char *b = mb[mbi++ % 8];
	int n = snprintf(b, sizeof(mb[0]), "%s", text);

	if (n < 0 || (size_t)n >= sizeof(mb[0]))
		return -1;
	return sip_parse(m, slice_make(b, (size_t)n));
}

static int
req(struct sip_msg *m, const char *method, const char *ruri, const char *from,
    const char *to, const char *cid, unsigned cseq, const char *extra)
{
	char b[2048];
	int n = snprintf(b, sizeof(b), "%s %s SIP/2.0\r\n"
	    "Via: SIP/2.0/TLS 192.0.2.7:5061;branch=z9hG4bK%u\r\n"
	    "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %u %s\r\n%s"
	    "Content-Length: 0\r\n\r\n", method, ruri, cseq, from, to, cid,
	    cseq, method, extra);

	if (n < 0 || (size_t)n >= sizeof(b))
		return -1;
	return msg(m, b);
}

static int
resp(struct sip_msg *m, int code, const char *method, const char *from,
    const char *to, const char *cid, unsigned cseq, const char *extra)
{
	char b[2048];
	int n = snprintf(b, sizeof(b), "SIP/2.0 %d X\r\n"
	    "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKx\r\n"
	    "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %u %s\r\n%s"
	    "Content-Length: 0\r\n\r\n", code, from, to, cid, cseq, method,
	    extra);

	if (n < 0 || (size_t)n >= sizeof(b))
		return -1;
	return msg(m, b);
}

/* What dialog_flow_lost() handed us: BYEs and next hops. */
struct lost {
	int n;
	char bye[4][2048];
	char hop[4][256];
	int routed[4];
};

static void
on_lost(void *arg, const struct dialog *d)
{
	struct lost *l = arg;
	struct buf *b;
	struct slice h;

	if (l->n >= 4 || (b = buf_new(4096)) == NULL)
		return;
	if (dialog_bye(d, "SIP/2.0/UDP gw.in:5060;branch=z9hG4bKsbye.1", b)
	    == 0)
		snprintf(l->bye[l->n], sizeof(l->bye[0]), "%s", buf_str(b));
	h = dialog_next_hop(d, &l->routed[l->n]);
	snprintf(l->hop[l->n], sizeof(l->hop[0]), "%.*s", (int)h.len,
	    (const char *)h.p);
	l->n++;
	buf_free(b);
}

static struct dialog_table *
table(int *calls, size_t max)
{
	struct dialog_conf c;
	int err;

	memset(&c, 0, sizeof(c));
	c.max = max;
	c.early_s = 10;
	c.idle_s = 100;
	c.is_us = is_us;
	c.arg = calls;
	return dialog_table_new(&c, &err);
}

#define ALICE "<sip:alice@example.org>;tag=a1"
#define BOB "<sip:bob@pbx.lan>"
#define BOB_T "<sip:bob@pbx.lan>;tag=b1"

/* Alice (outside, flow 7) calls Bob; Bob answers through a proxy. */
static int
call_out(struct dialog_table *t, const char *cid, const char *btag)
{
	struct sip_msg m;
	char to[128], contact[512];

	snprintf(to, sizeof(to), "<sip:bob@pbx.lan>;tag=%s", btag);
	snprintf(contact, sizeof(contact), "Contact: <sip:bob@10.0.0.50:5062>"
	    ";expires=3\r\n" US_RR_OUTSIDE_UAC);
	if (req(&m, "INVITE", "sip:bob@pbx.lan", ALICE, BOB, cid, 1,
	    "Contact: <sip:alice@192.0.2.7:5061;transport=tls>\r\n") != 0 ||
	    dialog_request(t, &m, 1, 7, 0) != 0)
		return -1;
	if (resp(&m, 200, "INVITE", ALICE, to, cid, 1, contact) != 0)
		return -1;
	return dialog_response(t, &m, 0, 7, 0);
}

static void
test_outside_uac(void)
{
	int calls = 0;
	struct dialog_table *t = table(&calls, 0);
	struct lost l;
	struct sip_msg m;

	T_OK(t != NULL, "table");
	T_OK(req(&m, "INVITE", "sip:bob@pbx.lan", ALICE, BOB, "c1", 1,
	    "Contact: <sip:alice@192.0.2.7:5061;transport=tls>\r\n") == 0 &&
	    dialog_request(t, &m, 1, 7, 0) == 0, "INVITE from outside");
	T_OK(dialog_request(t, &m, 1, 7, 0) == 0, "retransmitted INVITE");
	T_EQ_INT(dialog_count(t), 1, "one early entry");
	T_EQ_INT(dialog_confirmed(t), 0, "not confirmed yet");
	T_OK(resp(&m, 180, "INVITE", ALICE, BOB_T, "c1", 1, "") == 0 &&
	    dialog_response(t, &m, 0, 7, 0) == 0, "180");
	T_EQ_INT(dialog_confirmed(t), 0, "a 180 confirms nothing");
	T_OK(resp(&m, 200, "INVITE", ALICE, BOB_T, "c1", 1,
	    "Contact: <sip:bob@10.0.0.50:5062>\r\n" US_RR_OUTSIDE_UAC) == 0 &&
	    dialog_response(t, &m, 0, 7, 0) == 0, "200");
	T_EQ_INT(dialog_confirmed(t), 1, "confirmed by the 2xx");
	T_OK(dialog_response(t, &m, 0, 7, 0) == 0, "retransmitted 200");
	T_EQ_INT(dialog_count(t), 1, "still one");
	T_OK(calls > 0, "is_us asked");

	/* Alice's re-INVITE (5) and UPDATE (6); Bob's target refresh. */
	T_OK(req(&m, "INVITE", "sip:bob@10.0.0.50:5062", ALICE, BOB_T, "c1", 5,
	    "") == 0 && dialog_request(t, &m, 1, 7, 1) == 0, "re-INVITE");
	T_OK(resp(&m, 491, "INVITE", ALICE, BOB_T, "c1", 5, "") == 0 &&
	    dialog_response(t, &m, 0, 7, 1) == 0, "491 to the re-INVITE");
	T_EQ_INT(dialog_confirmed(t), 1, "a failed re-INVITE keeps the dialog");
	T_OK(req(&m, "UPDATE", "sip:bob@10.0.0.50:5062", ALICE, BOB_T, "c1", 6,
	    "") == 0 && dialog_request(t, &m, 1, 7, 1) == 0, "UPDATE");
	T_OK(req(&m, "ACK", "sip:bob@10.0.0.50:5062", ALICE, BOB_T, "c1", 5,
	    "") == 0 && dialog_request(t, &m, 1, 7, 1) == 0, "late ACK");
	T_OK(req(&m, "INVITE", "sip:alice@192.0.2.7", BOB_T, ALICE, "c1", 1,
	    "Contact: <sip:bob@10.0.0.51:5070>\r\n") == 0 &&
	    dialog_request(t, &m, 0, 7, 1) == 0, "Bob's target refresh");
	/* Another Call-ID on the same flow, not confirmed. */
	T_OK(req(&m, "INVITE", "sip:carol@pbx.lan", ALICE, BOB, "c2", 1, "")
	    == 0 && dialog_request(t, &m, 1, 7, 1) == 0, "second INVITE");
	T_EQ_INT(dialog_count(t), 2, "two entries");

	memset(&l, 0, sizeof(l));
	T_EQ_INT(dialog_flow_lost(t, 8, on_lost, &l), 0, "other flow: nothing");
	T_EQ_INT(dialog_flow_lost(t, 7, on_lost, &l), 1, "flow 7 lost");
	T_EQ_INT(l.n, 1, "one BYE (the early one has none)");
	T_EQ_STR(l.bye[0],
	    "BYE sip:bob@10.0.0.51:5070 SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP gw.in:5060;branch=z9hG4bKsbye.1\r\n"
	    "Max-Forwards: 70\r\n"
	    "Route: <sip:px@10.0.0.9;lr>\r\n"
	    "From: <sip:alice@example.org>;tag=a1\r\n"
	    "To: <sip:bob@pbx.lan>;tag=b1\r\n"
	    "Call-ID: c1\r\n"
	    "CSeq: 7 BYE\r\n"
	    "Reason: Q.850;cause=41;text=\"outside flow lost\"\r\n"
	    "Content-Length: 0\r\n\r\n", "the BYE, RFC 3261 12.2.1.1");
	T_EQ_STR(l.hop[0], "sip:px@10.0.0.9;lr", "next hop: the first Route");
	T_EQ_INT(l.routed[0], 1, "routed");
	T_EQ_INT(dialog_count(t), 0, "all of flow 7 forgotten");
	dialog_table_free(t);
}

static void
test_inside_uac(void)
{
	int calls = 0;
	struct dialog_table *t = table(&calls, 0);
	struct lost l;
	struct sip_msg m;
	const char *from = "\"Bob\" <sip:bob@pbx.lan>;tag=b9";
	const char *to = "<sip:alice@gw.in>";
	const char *to_t = "<sip:alice@gw.in>;tag=a9";

	T_OK(req(&m, "INVITE", "sip:alice@gw.in", from, to, "c3", 20,
	    "Contact: <sip:bob@10.0.0.50>\r\n"
	    "Record-Route: <sip:px@10.0.0.9;lr;ftag=b9>\r\n") == 0 &&
	    dialog_request(t, &m, 0, 3, 0) == 0, "INVITE from inside");
	T_OK(resp(&m, 200, "INVITE", from, to_t, "c3", 20,
	    "Contact: <sip:alice@192.0.2.7:5061;transport=tls>\r\n"
	    "Record-Route: <sip:t@gw.out;transport=tls;lr>\r\n"
	    "Record-Route: <sip:t@gw.in;lr>\r\n"
	    "Record-Route: <sip:px@10.0.0.9;lr;ftag=b9>\r\n") == 0 &&
	    dialog_response(t, &m, 1, 3, 0) == 0, "200 from Alice");
	T_EQ_INT(dialog_confirmed(t), 1, "confirmed");
	memset(&l, 0, sizeof(l));
	T_EQ_INT(dialog_flow_lost(t, 3, on_lost, &l), 1, "flow 3 lost");
	T_EQ_STR(l.bye[0],
	    "BYE sip:bob@10.0.0.50 SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP gw.in:5060;branch=z9hG4bKsbye.1\r\n"
	    "Max-Forwards: 70\r\n"
	    "Route: <sip:px@10.0.0.9;lr;ftag=b9>\r\n"
	    "From: <sip:alice@gw.in>;tag=a9\r\n"
	    "To: <sip:bob@pbx.lan>;tag=b9\r\n"
	    "Call-ID: c3\r\n"
	    "CSeq: 1 BYE\r\n"
	    "Reason: Q.850;cause=41;text=\"outside flow lost\"\r\n"
	    "Content-Length: 0\r\n\r\n", "the BYE from the callee's side");
	dialog_table_free(t);
}

static void
test_forget(void)
{
	int calls = 0;
	struct dialog_table *t = table(&calls, 0);
	struct sip_msg m;
	struct lost l;

	/* Without our Record-Route in the 2xx: not followed at all. */
	T_OK(req(&m, "INVITE", "sip:bob@pbx.lan", ALICE, BOB, "n1", 1, "") == 0
	    && dialog_request(t, &m, 1, 7, 0) == 0, "INVITE");
	T_OK(resp(&m, 200, "INVITE", ALICE, BOB_T, "n1", 1,
	    "Contact: <sip:bob@10.0.0.50>\r\n"
	    "Record-Route: <sip:px@10.0.0.9;lr>\r\n") == 0, "200 parsed");
	T_EQ_INT(dialog_response(t, &m, 0, 7, 0), E_UNSUPPORTED,
	    "2xx that bypasses us");
	T_EQ_INT(dialog_count(t), 0, "... forgotten");

	/* CANCEL from the caller. */
	T_OK(req(&m, "INVITE", "sip:bob@pbx.lan", ALICE, BOB, "n2", 1, "") == 0
	    && dialog_request(t, &m, 1, 7, 0) == 0, "INVITE");
	T_OK(req(&m, "CANCEL", "sip:bob@pbx.lan", ALICE, BOB, "n2", 1, "") == 0
	    && dialog_request(t, &m, 1, 7, 0) == 0, "CANCEL");
	T_EQ_INT(dialog_count(t), 0, "CANCEL forgets the early entry");

	/* Failure of the initial INVITE. */
	T_OK(req(&m, "INVITE", "sip:bob@pbx.lan", ALICE, BOB, "n3", 1, "") == 0
	    && dialog_request(t, &m, 1, 7, 0) == 0, "INVITE");
	T_OK(resp(&m, 486, "INVITE", ALICE, BOB_T, "n3", 1, "") == 0 &&
	    dialog_response(t, &m, 0, 7, 0) == 0, "486");
	T_EQ_INT(dialog_count(t), 0, "a failed INVITE forgets it");

	/* BYE from the inside, then from the outside. */
	T_OK(call_out(t, "n4", "b1") == 0, "call n4");
	T_OK(req(&m, "BYE", "sip:alice@x", BOB_T, ALICE, "n4", 2, "") == 0 &&
	    dialog_request(t, &m, 0, 7, 0) == 0, "BYE from Bob");
	T_EQ_INT(dialog_count(t), 0, "forgotten on Bob's BYE");
	T_OK(call_out(t, "n5", "b1") == 0, "call n5");
	T_OK(req(&m, "BYE", "sip:bob@x", ALICE, BOB_T, "n5", 2, "") == 0 &&
	    dialog_request(t, &m, 1, 7, 0) == 0, "BYE from Alice");
	T_EQ_INT(dialog_count(t), 0, "forgotten on Alice's BYE");

	/* A BYE with the wrong tag ends nothing. */
	T_OK(call_out(t, "n6", "b1") == 0, "call n6");
	T_OK(req(&m, "BYE", "sip:bob@x", ALICE, "<sip:bob@pbx.lan>;tag=zz",
	    "n6", 2, "") == 0 && dialog_request(t, &m, 1, 7, 0) == 0,
	    "BYE with another To tag");
	T_EQ_INT(dialog_confirmed(t), 1, "kept");
	/* 481 to an in-dialog request (RFC 3261 12.2.1.2). */
	T_OK(req(&m, "INFO", "sip:bob@x", ALICE, BOB_T, "n6", 3, "") == 0 &&
	    dialog_request(t, &m, 1, 7, 0) == 0, "INFO");
	T_OK(resp(&m, 481, "INFO", ALICE, BOB_T, "n6", 3, "") == 0 &&
	    dialog_response(t, &m, 0, 7, 0) == 0, "481");
	T_EQ_INT(dialog_count(t), 0, "forgotten on 481");

	/* Forks: two 2xx with their own To tags, two dialogs. */
	T_OK(call_out(t, "n7", "f1") == 0, "fork 1");
	T_OK(resp(&m, 200, "INVITE", ALICE, "<sip:bob@pbx.lan>;tag=f2", "n7",
	    1, "Contact: <sip:bob2@10.0.0.52>\r\n" US_RR_OUTSIDE_UAC) == 0 &&
	    dialog_response(t, &m, 0, 7, 0) == 0, "fork 2");
	T_EQ_INT(dialog_confirmed(t), 2, "two dialogs");
	memset(&l, 0, sizeof(l));
	T_EQ_INT(dialog_flow_lost(t, 7, on_lost, &l), 2, "both get a BYE");
	T_OK(l.n == 2 && strstr(l.bye[0], "tag=f") != NULL &&
	    strstr(l.bye[1], "tag=f") != NULL &&
	    strcmp(l.bye[0], l.bye[1]) != 0, "one BYE per fork");
	T_EQ_INT(dialog_count(t), 0, "empty");
	dialog_table_free(t);
}

static void
test_limits(void)
{
	int calls = 0;
	struct dialog_table *t = table(&calls, 1);
	struct sip_msg m;
	struct lost l;

	T_OK(t != NULL, "table of 1");
	T_OK(req(&m, "INVITE", "sip:bob@pbx.lan", ALICE, BOB, "l1", 1, "") == 0
	    && dialog_request(t, &m, 1, 7, 0) == 0, "first INVITE");
	T_OK(req(&m, "INVITE", "sip:bob@pbx.lan", ALICE, BOB, "l2", 1, "") == 0,
	    "parsed");
	T_EQ_INT(dialog_request(t, &m, 1, 7, 0), E_LIMIT, "table full");
	/* Early entries expire after early_s (10 s here). */
	T_EQ_INT(dialog_expire(t, 9999), 0, "not yet");
	T_EQ_INT(dialog_expire(t, 10000), 1, "early entry expired");
	/* Confirmed: idle_s (100 s) after the last request. */
	T_OK(call_out(t, "l3", "b1") == 0, "call");
	T_OK(req(&m, "INFO", "sip:bob@x", ALICE, BOB_T, "l3", 2, "") == 0 &&
	    dialog_request(t, &m, 1, 7, 50000) == 0, "INFO at 50 s");
	T_EQ_INT(dialog_expire(t, 149999), 0, "kept by the INFO");
	T_EQ_INT(dialog_expire(t, 150000), 1, "idle dialog expired");
	memset(&l, 0, sizeof(l));
	T_EQ_INT(dialog_flow_lost(t, 7, on_lost, &l), 0, "nothing left");

	/* Malformed: no From tag, no Call-ID. */
	T_OK(req(&m, "INVITE", "sip:bob@pbx.lan", "<sip:alice@x>", BOB, "l4", 1,
	    "") == 0, "parsed");
	T_EQ_INT(dialog_request(t, &m, 1, 7, 0), E_SYNTAX, "no From tag");
	T_OK(req(&m, "INVITE", "sip:bob@pbx.lan", ALICE, "<sip:bob@x;tag=1",
	    "l5", 1, "") != 0 || dialog_request(t, &m, 1, 7, 0) == E_SYNTAX,
	    "a To that does not parse");
	T_EQ_INT(dialog_count(t), 0, "nothing kept");
	dialog_table_free(t);
	dialog_table_free(NULL);
	{
		struct dialog_conf c;
		int err = 0;
		memset(&c, 0, sizeof(c));
		T_OK(dialog_table_new(&c, &err) == NULL && err == E_INVAL,
		    "is_us is required");
	}
}

int
main(void)
{
	test_outside_uac();
	test_inside_uac();
	test_forget();
	test_limits();
	return t_done();
}
