/* test_registrar.c - unit tests for the built-in registrar (lib/registrar). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "sip/registrar.h"
#include "sip/sip.h"
#include "t.h"

static char msgbuf[4096];

/* A REGISTER for `user` with `contacts` (header lines), Call-ID, CSeq. */
static int
mkreg(struct sip_msg *m, const char *user, const char *contacts,
    const char *callid, unsigned cseq)
{
	int n = snprintf(msgbuf, sizeof(msgbuf),
	    "REGISTER sip:gw.test;transport=tls SIP/2.0\r\n"
	    "Via: SIP/2.0/TLS 127.0.0.10:5061;branch=z9hG4bKr%u\r\n"
	    "To: <sip:%s@gw.test;transport=tls>\r\n"
	    "From: <sip:%s@gw.test;transport=tls>;tag=t1\r\n"
	    "Call-ID: %s\r\n"
	    "CSeq: %u REGISTER\r\n"
	    "%s"
	    "Content-Length: 0\r\n\r\n", cseq, user, user, callid, cseq,
	    contacts);

	if (n < 0 || (size_t)n >= sizeof(msgbuf))
		return -1;
	return sip_parse(m, slice_make(msgbuf, (size_t)n));
}

/* Register and return the status as an E_* code; the list in `out`. */
static int
reg(struct registrar *r, const char *user, const char *contacts,
    const char *callid, unsigned cseq, uint64_t flow, uint64_t now,
    struct buf *out)
{
	struct sip_msg m;

	buf_reset(out);
	if (mkreg(&m, user, contacts, callid, cseq) != 0)
		return -100;
	return registrar_register(r, &m, flow, now, 3600, out);
}

/* Flows 100 and up are dead (registrar_set_live). */
static int
live_below_100(void *arg, uint64_t flow)
{
	(void)arg;
	return flow < 100;
}

static int
count_lines(const struct buf *b)
{
	const char *s = buf_str(b);
	int n = 0;

	while ((s = strstr(s, "Contact: ")) != NULL) {
		n++;
		s++;
	}
	return n;
}

static int dead_flow;

static int
live(void *arg, uint64_t flow)
{
	(void)arg;
	return (int)flow != dead_flow;
}

int
main(void)
{
	struct registrar *r = registrar_new(100);
	struct buf *out = buf_new(65536);
	struct reg_binding b;

	T_OK(r != NULL && out != NULL, "new");

	/* One binding; the 200 lists it with its own parameters. */
	T_EQ_INT(reg(r, "alice", "Contact: <sip:a1@10.0.0.1:5061;transport=tls>"
	    ";+sip.instance=\"<urn:uuid:1>\";expires=300\r\n", "c1", 1, 1, 0,
	    out), 0, "first binding");
	T_EQ_STR(buf_str(out), "Contact: <sip:a1@10.0.0.1:5061;transport=tls>"
	    ";+sip.instance=\"<urn:uuid:1>\";expires=300\r\n",
	    "listed with its parameters and expires");
	T_EQ_INT(registrar_count(r), 1, "one binding");

	/* A second device for the same AoR, with the Expires header. */
	T_EQ_INT(reg(r, "alice", "Expires: 120\r\nContact: <sip:a2@10.0.0.2>\r\n",
	    "c2", 1, 2, 1000, out), 0, "second binding");
	T_EQ_INT(count_lines(out), 2, "both listed");
	T_OK(strstr(buf_str(out), "Contact: <sip:a2@10.0.0.2>;expires=120\r\n")
	    != NULL, "second with Expires header value");
	T_OK(strstr(buf_str(out), "<sip:a1@10.0.0.1:5061;transport=tls>;"
	    "+sip.instance=\"<urn:uuid:1>\";expires=299\r\n") != NULL,
	    "first with its remaining time");
	T_EQ_INT(registrar_count(r), 2, "two bindings");

	/* Routing picks the most recently registered live binding. */
	T_EQ_INT(registrar_lookup(r, slice_cstr("alice"), 2000, NULL, NULL, &b),
	    0, "lookup");
	T_EQ_INT(b.flow, 2, "newest binding's flow");
	T_EQ_MEM(b.uri.p, b.uri.len, "sip:a2@10.0.0.2", 15, "its URI");
	dead_flow = 2;
	T_EQ_INT(registrar_lookup(r, slice_cstr("alice"), 2000, live, NULL, &b),
	    0, "lookup skipping a dead flow");
	T_EQ_INT(b.flow, 1, "the other flow");
	/* A refresh of the first makes it the newest. */
	dead_flow = 0;
	T_EQ_INT(reg(r, "alice", "Contact: <sip:a1@10.0.0.1:5061;transport=tls>"
	    "\r\n", "c1", 2, 3, 3000, out), 0, "refresh on a new flow");
	T_EQ_INT(count_lines(out), 2, "still two");
	T_EQ_INT(registrar_lookup(r, slice_cstr("alice"), 3000, NULL, NULL, &b),
	    0, "lookup after refresh");
	T_EQ_INT(b.flow, 3, "refreshed binding, new flow");
	dead_flow = 3;
	T_EQ_INT(registrar_lookup(r, slice_cstr("alice"), 3000, live, NULL, &b),
	    0, "fallback");
	T_EQ_INT(b.flow, 2, "fallback to the other");
	dead_flow = 0;

	/* Out-of-order CSeq on the same Call-ID: refused, nothing changed. */
	T_EQ_INT(reg(r, "alice", "Contact: <sip:a1@10.0.0.1:5061;transport="
	    "tls>;expires=0\r\n", "c1", 2, 3, 3000, out), E_STATE,
	    "same CSeq again");
	T_EQ_INT(registrar_count(r), 2, "unchanged");

	/* A query (no Contact) lists without changing. */
	T_EQ_INT(reg(r, "alice", "", "q1", 1, 9, 3000, out), 0, "query");
	T_EQ_INT(count_lines(out), 2, "query lists both");

	/* expires=0 removes one binding. */
	T_EQ_INT(reg(r, "alice", "Contact: <sip:a2@10.0.0.2>;expires=0\r\n",
	    "c2", 2, 2, 4000, out), 0, "remove one");
	T_EQ_STR(buf_str(out), "Contact: <sip:a1@10.0.0.1:5061;transport=tls>"
	    ";expires=3599\r\n", "the other is left (default lifetime)");
	T_EQ_INT(registrar_count(r), 1, "one left");

	/* Expiry per binding. */
	T_EQ_INT(reg(r, "alice", "Contact: <sip:a3@10.0.0.3>;expires=10\r\n",
	    "c3", 1, 4, 4000, out), 0, "short binding");
	T_EQ_INT(registrar_lookup(r, slice_cstr("alice"), 5000, NULL, NULL, &b),
	    0, "lookup");
	T_EQ_INT(b.flow, 4, "short one is newest");
	T_EQ_INT(registrar_lookup(r, slice_cstr("alice"), 14000, NULL, NULL, &b),
	    0, "lookup after its expiry");
	T_EQ_INT(b.flow, 3, "expired one skipped");
	T_EQ_INT(registrar_count(r), 1, "expired one removed");

	/* "*" needs Expires: 0 and no other Contact. */
	T_EQ_INT(reg(r, "alice", "Contact: *\r\n", "c9", 1, 1, 15000, out),
	    E_SYNTAX, "* without Expires");
	T_EQ_INT(reg(r, "alice", "Expires: 0\r\nContact: *, <sip:x@1.2.3.4>\r\n",
	    "c9", 1, 1, 15000, out), E_SYNTAX, "* with another Contact");
	T_EQ_INT(reg(r, "bob", "Contact: <sip:b@10.0.0.9>\r\n", "b1", 1, 7,
	    15000, out), 0, "bob");
	T_EQ_INT(reg(r, "alice", "Expires: 0\r\nContact: *\r\n", "c9", 1, 1,
	    15000, out), 0, "* removes all");
	T_EQ_INT(buf_len(out), 0, "nothing listed");
	T_EQ_INT(registrar_lookup(r, slice_cstr("alice"), 15000, NULL, NULL, &b),
	    E_NOTFOUND, "alice gone");
	T_EQ_INT(registrar_lookup(r, slice_cstr("bob"), 15000, NULL, NULL, &b),
	    0, "bob kept");
	dead_flow = 7;
	T_EQ_INT(registrar_lookup(r, slice_cstr("bob"), 15000, live, NULL, &b),
	    E_STATE, "bob's only flow is dead");
	dead_flow = 0;

	/* Malformed input. */
	T_EQ_INT(reg(r, "carol", "Contact: <sip:c@1.2.3.4>;expires=soon\r\n",
	    "c1", 1, 1, 0, out), E_SYNTAX, "bad expires");
	T_EQ_INT(reg(r, "carol", "Expires: -1\r\nContact: <sip:c@1.2.3.4>\r\n",
	    "c1", 1, 1, 0, out), E_SYNTAX, "bad Expires");
	T_EQ_INT(reg(r, "carol", "Contact: <>\r\n", "c1", 1, 1, 0, out),
	    E_SYNTAX, "empty Contact");

	/* Per-AoR cap, all or nothing. */
	{
		char many[4096];
		size_t n = 0;
		int i;

		for (i = 0; i < REG_MAX_BINDINGS + 1; i++)
			n += (size_t)snprintf(many + n, sizeof(many) - n,
			    "Contact: <sip:d%d@10.0.1.%d>\r\n", i, i + 1);
		T_EQ_INT(reg(r, "dave", many, "d1", 1, 5, 0, out), E_LIMIT,
		    "too many Contacts at once");
		T_EQ_INT(registrar_lookup(r, slice_cstr("dave"), 0, NULL, NULL,
		    &b), E_NOTFOUND, "nothing bound");
		for (i = 0; i < REG_MAX_BINDINGS; i++) {
			snprintf(many, sizeof(many),
			    "Contact: <sip:d%d@10.0.1.%d>\r\n", i, i + 1);
			if (reg(r, "dave", many, "d1", (unsigned)i + 1, 5, 0, out)
			    != 0)
				break;
		}
		T_EQ_INT(i, REG_MAX_BINDINGS, "up to the cap one by one");
		T_EQ_INT(reg(r, "dave", "Contact: <sip:dx@10.0.2.1>\r\n", "d1", 99,
		    5, 0, out), E_LIMIT, "one more is refused");
		/* Several Contacts in one REGISTER all count. */
		T_EQ_INT(count_lines(out), 0, "no list on error");
	}
	/* A full AoR makes room by dropping bindings on dead flows only. */
	{
		struct registrar *lr = registrar_new(1000);
		char one[128];
		int i, ok = 0;

		registrar_set_live(lr, live_below_100, NULL);
		/* a phone that reconnected 16 times: flows 100..115, dead */
		for (i = 0; i < REG_MAX_BINDINGS; i++) {
			snprintf(one, sizeof(one),
			    "Contact: <sip:e@10.0.3.1:%d>\r\n", 5000 + i);
			ok += reg(lr, "erin", one, "e1", (unsigned)i + 1,
			    100 + (uint64_t)i, 0, out) == 0;
		}
		T_EQ_INT(ok, REG_MAX_BINDINGS, "16 bindings");
		T_EQ_INT(reg(lr, "erin", "Contact: <sip:e@10.0.3.1:6000>\r\n",
		    "e1", 50, 7, 0, out), 0, "the 17th, on a live flow, fits");
		T_EQ_INT(count_lines(out), 1, "the dead ones are gone");
		T_EQ_INT(registrar_count(lr), 1, "counted");
		/* live ones are never displaced */
		for (i = 0; i < REG_MAX_BINDINGS - 1; i++) {
			snprintf(one, sizeof(one),
			    "Contact: <sip:e@10.0.4.1:%d>\r\n", 5000 + i);
			(void)reg(lr, "erin", one, "e1", 60 + (unsigned)i,
			    (uint64_t)i + 1, 0, out);
		}
		T_EQ_INT(registrar_count(lr), REG_MAX_BINDINGS, "16 live");
		T_EQ_INT(reg(lr, "erin", "Contact: <sip:e@10.0.5.1>\r\n", "e1",
		    90, 8, 0, out), E_LIMIT, "a 17th live one is refused");
		/* a refresh needs no room */
		T_EQ_INT(reg(lr, "erin", "Contact: <sip:e@10.0.3.1:6000>\r\n",
		    "e1", 91, 9, 0, out), 0, "a refresh of a live one");
		registrar_free(lr);
	}
	/* The total cap. */
	{
		struct registrar *small = registrar_new(1);

		T_EQ_INT(reg(small, "a", "Contact: <sip:a@1.1.1.1>\r\n", "x", 1, 1,
		    0, out), 0, "one fits");
		T_EQ_INT(reg(small, "b", "Contact: <sip:b@1.1.1.1>\r\n", "y", 1, 1,
		    0, out), E_LIMIT, "a second does not");
		T_EQ_INT(reg(small, "a", "Contact: <sip:a@1.1.1.1>\r\n", "x", 2, 1,
		    0, out), 0, "a refresh does");
		T_EQ_INT(registrar_expire(small, 3600 * 1000), 1, "expire");
		T_EQ_INT(registrar_count(small), 0, "empty");
		registrar_free(small);
	}
	/*
	 * Owners (digest authentication, lib/sip/proxy_auth.c): the AoR a
	 * REGISTER changes is its To user, which the proxy compares with the
	 * authenticated user; "Contact: *" reaches that AoR's bindings only.
	 */
	{
		struct registrar *o = registrar_new(100);
		struct sip_msg m;
		struct slice aor;

		T_EQ_INT(mkreg(&m, "alice", "", "o1", 1), 0, "parse");
		T_EQ_INT(registrar_aor(&m, &aor), 0, "aor");
		T_OK(slice_eq_cstr(aor, "alice"), "aor: the To user");
		T_EQ_INT(reg(o, "alice", "Contact: <sip:a1@10.0.0.1>\r\n"
		    "Contact: <sip:a2@10.0.0.2>\r\n", "o1", 1, 1, 0, out), 0,
		    "alice: two bindings");
		T_EQ_INT(reg(o, "bob", "Contact: <sip:b1@10.0.0.3>\r\n", "o2", 1,
		    2, 0, out), 0, "bob: one");
		T_EQ_INT(reg(o, "bob", "Contact: *\r\nExpires: 0\r\n", "o2", 2,
		    2, 0, out), 0, "bob: Contact: *");
		T_EQ_INT(count_lines(out), 0, "bob has none left");
		T_EQ_INT(registrar_count(o), 2, "alice's two are still there");
		T_EQ_INT(registrar_lookup(o, slice_cstr("alice"), 0, NULL, NULL,
		    &b), 0, "alice still reachable");
		T_EQ_INT(registrar_lookup(o, slice_cstr("bob"), 0, NULL, NULL,
		    &b), E_NOTFOUND, "bob gone");
		/* A To without a user: the whole URI is the AoR, never a
		 * user name. */
		{
			static const char nouser[] =
			    "REGISTER sip:gw.test SIP/2.0\r\n"
			    "Via: SIP/2.0/TLS 127.0.0.10:5061;branch=z9hG4bKn\r\n"
			    "To: <sip:gw.test>\r\nFrom: <sip:gw.test>;tag=1\r\n"
			    "Call-ID: n\r\nCSeq: 1 REGISTER\r\n"
			    "Content-Length: 0\r\n\r\n";
			T_EQ_INT(sip_parse(&m, slice_make(nouser,
			    sizeof(nouser) - 1)), 0, "parse, no user");
			T_EQ_INT(registrar_aor(&m, &aor), 0, "aor, no user");
			T_OK(slice_eq_cstr(aor, "sip:gw.test"),
			    "aor: the URI");
		}
		registrar_free(o);
	}
	registrar_free(r);
	registrar_free(NULL);
	buf_free(out);
	return t_done();
}
