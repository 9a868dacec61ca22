/* test_srclimit.c - unit tests for per-source rates and bans
 * (lib/base/srclimit): token buckets, bans after failed authentication,
 * IPv6 /64 sources, a full table that keeps its bans. */
#include <stdio.h>
#include <string.h>

#include "base/srclimit.h"
#include "t.h"

static struct net_addr
A(const char *s)
{
	struct net_addr a;

	memset(&a, 0, sizeof(a));
	if (net_addr_parse_any(slice_cstr(s), 5061, &a) != 0)
		printf("# bad test address %s\n", s);
	return a;
}

static void
test_rate(void)
{
	struct srclimit_conf c = { 64, 2, 3, 0, 0, 0 };
	struct srclimit *t = srclimit_new(&c);
	struct net_addr a = A("192.0.2.1"), b = A("192.0.2.2:7");
	int ok = 0, i;

	T_OK(t != NULL, "table");
	for (i = 0; i < 10; i++)
		ok += srclimit_request(t, &a, 1000) == SRCLIMIT_OK;
	T_EQ_INT(ok, 3, "a burst of 3 passes, the rest of 10 at once not");
	T_EQ_INT(srclimit_request(t, &b, 1000), SRCLIMIT_OK,
	    "another source has its own bucket");
	T_EQ_INT(srclimit_request(t, &a, 1200), SRCLIMIT_RATE,
	    "200 ms later: not yet a token (2 a second)");
	T_EQ_INT(srclimit_request(t, &a, 1500), SRCLIMIT_OK,
	    "500 ms later: one token back");
	T_EQ_INT(srclimit_request(t, &a, 1500), SRCLIMIT_RATE, "only one");
	ok = 0;
	for (i = 0; i < 10; i++)
		ok += srclimit_request(t, &a, 100000) == SRCLIMIT_OK;
	T_EQ_INT(ok, 3, "after a long pause: the burst again, not more");
	{
		struct srclimit_stats st;

		srclimit_stats(t, 100000, &st);
		T_EQ_INT(st.tracked, 2, "two sources tracked");
		T_EQ_INT(st.refused_rate, 7 + 1 + 1 + 7, "refusals counted");
	}
	srclimit_free(t);
}

static void
test_ban(void)
{
	struct srclimit_conf c = { 64, 0, 0, 3, 10000, 60000 };
	struct srclimit *t = srclimit_new(&c);
	struct net_addr a = A("198.51.100.7"), b = A("198.51.100.8");
	struct srclimit_stats st;

	T_OK(t != NULL, "table");
	T_EQ_INT(srclimit_auth_fail(t, &a, 1000), 0, "first failure");
	T_EQ_INT(srclimit_auth_fail(t, &a, 2000), 0, "second");
	T_EQ_INT(srclimit_request(t, &a, 2500), SRCLIMIT_OK,
	    "not banned before the third");
	T_EQ_INT(srclimit_auth_fail(t, &a, 3000), 1, "the third bans");
	T_EQ_INT(srclimit_auth_fail(t, &a, 3001), 0,
	    "a ban starts once, not at every failure");
	T_EQ_INT(srclimit_conn(t, &a, 4000), SRCLIMIT_BANNED,
	    "its connections are refused");
	T_EQ_INT(srclimit_request(t, &a, 4000), SRCLIMIT_BANNED,
	    "and its requests");
	T_EQ_INT(srclimit_conn(t, &b, 4000), SRCLIMIT_OK,
	    "its neighbour is not");
	T_OK(srclimit_banned(t, &a, 62999), "still banned just before the end");
	T_OK(!srclimit_banned(t, &a, 63000), "the ban ends after 60 s");
	T_EQ_INT(srclimit_auth_fail(t, &a, 63001), 0,
	    "and its failure count starts again");
	/* Failures further apart than the window never add up. */
	T_EQ_INT(srclimit_auth_fail(t, &b, 100000), 0, "b: one");
	T_EQ_INT(srclimit_auth_fail(t, &b, 111000), 0, "b: one, 11 s later");
	T_EQ_INT(srclimit_auth_fail(t, &b, 122000), 0, "b: one, 22 s later");
	srclimit_stats(t, 122000, &st);
	T_EQ_INT(st.bans, 1, "one ban in all");
	T_EQ_INT(st.banned_now, 0, "none now");
	T_EQ_INT(st.refused_ban, 2, "two refused while banned");
	srclimit_free(t);
}

static void
test_sources(void)
{
	struct srclimit_conf c = { 64, 0, 0, 1, 1000, 5000 };
	struct srclimit *t = srclimit_new(&c);
	struct net_addr a1 = A("[2001:db8:1:2::10]:5061"),
	    a2 = A("[2001:db8:1:2:ffff::99]:6000"),
	    b = A("[2001:db8:1:3::10]:5061"), v4 = A("203.0.113.9"),
	    mapped = A("[::ffff:203.0.113.9]:5061");

	T_OK(t != NULL, "table");
	T_EQ_INT(srclimit_auth_fail(t, &a1, 10), 1, "an IPv6 address banned");
	T_OK(srclimit_banned(t, &a2, 20), "so is the rest of its /64");
	T_OK(!srclimit_banned(t, &b, 20), "not the next /64");
	T_EQ_INT(srclimit_auth_fail(t, &v4, 10), 1, "an IPv4 address banned");
	T_OK(srclimit_banned(t, &mapped, 20), "and as an IPv4-mapped IPv6 "
	    "address too");
	srclimit_free(t);
}

/* A flood from many addresses must not evict the bans, and a full table
 * of bans must not lock out a newcomer. */
static void
test_full(void)
{
	struct srclimit_conf c = { 4, 100, 100, 1, 1000, 60000 };
	struct srclimit *t = srclimit_new(&c);
	struct srclimit_stats st;
	char s[32];
	int i, ok = 0;

	T_OK(t != NULL, "table of 4");
	T_EQ_INT(srclimit_auth_fail(t, &(struct net_addr){ 0 }, 1), 0,
	    "an unset address is not a source");
	{
		struct net_addr bad = A("192.0.2.66");

		T_EQ_INT(srclimit_auth_fail(t, &bad, 1), 1, "one banned");
		for (i = 0; i < 1000; i++) {
			struct net_addr x;

			snprintf(s, sizeof(s), "10.%d.%d.1", i / 250, i % 250);
			x = A(s);
			ok += srclimit_request(t, &x, 2) == SRCLIMIT_OK;
		}
		T_EQ_INT(ok, 1000, "1000 other sources pass");
		T_OK(srclimit_banned(t, &bad, 3), "the ban survived them");
	}
	for (i = 0; i < 3; i++) {
		struct net_addr x;

		snprintf(s, sizeof(s), "192.0.2.%d", 100 + i);
		x = A(s);
		(void)srclimit_auth_fail(t, &x, 4);
	}
	{
		struct net_addr x = A("192.0.2.200");

		T_EQ_INT(srclimit_request(t, &x, 5), SRCLIMIT_OK,
		    "four bans fill the table: a newcomer still passes");
	}
	srclimit_stats(t, 5, &st);
	T_EQ_INT(st.banned_now, 4, "four banned");
	T_EQ_INT(st.untracked, 1, "the newcomer counted as untracked");
	T_OK(st.tracked <= 4, "never more than the table holds (%llu)",
	    (unsigned long long)st.tracked);
	srclimit_stats(t, 60005, &st);
	T_EQ_INT(st.banned_now, 0, "all bans over a minute later");
	srclimit_free(t);
}

int
main(void)
{
	struct srclimit_conf zero = { 0, 1, 1, 1, 1, 1 };

	T_OK(srclimit_new(&zero) == NULL, "a table of 0 sources is refused");
	srclimit_free(NULL);
	test_rate();
	test_ban();
	test_sources();
	test_full();
	return t_done();
}
