/* test_gwconf.c - unit tests for the gateway launcher's configuration. */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "gw/gwconf.h"
#include "t.h"

static char why[256];

static struct gwconf *
parsed(const char *text, int *r, size_t *line)
{
	struct gwconf *c = gwconf_new();

	*r = gwconf_parse(c, slice_cstr(text), line, why, sizeof(why));
	return c;
}

/* The config file `text` fails on line `want_line` with code `want`. */
static void
bad(const char *text, int want, size_t want_line, const char *reason)
{
	size_t line = 99;
	int r;
	struct gwconf *c = parsed(text, &r, &line);

	T_EQ_INT(r, want, "bad config: %s: code", reason);
	T_EQ_INT(line, want_line, "bad config: %s: line", reason);
	T_OK(strstr(why, reason) != NULL, "bad config: why has '%s' (%s)",
	    reason, why);
	gwconf_free(c);
}

/* One command line of `which` as a shell line. */
static char *
cmdline(const struct gwconf *c, enum gw_child which)
{
	struct buf *b = buf_new(4096);
	char **argv, *s;

	if (gwconf_argv(c, which, "/bin/x", &argv) != 0) {
		buf_free(b);
		return strdup("(argv failed)");
	}
	if (gwconf_shell_quote(argv, b) != 0)
		buf_reset(b);
	s = strdup(buf_str(b));
	gwconf_argv_free(argv);
	buf_free(b);
	return s;
}

static int
set(struct gwconf *c, const char *k, const char *v)
{
	return gwconf_set(c, slice_cstr(k), slice_cstr(v), why, sizeof(why));
}

static void
test_parse(void)
{
	size_t line;
	int r;
	struct gwconf *c = parsed(
	    "# a lab gateway\r\n"
	    "\n"
	    "  outside = 127.0.0.1!gw.example.org   # public name\r\n"
	    "upstream=udp:127.0.0.2:5060\n"
	    "registrar = Yes\n"
	    "\t tls-port\t=\t15061\n"
	    "keylog = /var/log/x#y\n"
	    "verbose = 02\n"
	    "sip-tls-term-args = --max-per-ip 10   --quiet\n"
	    "inside =\n", &r, &line);

	T_EQ_INT(r, 0, "parse: ok (%s)", why);
	T_EQ_STR(gwconf_get(c, "outside"), "127.0.0.1!gw.example.org",
	    "parse: trailing comment and blanks dropped");
	T_EQ_STR(gwconf_get(c, "upstream"), "127.0.0.2:5060",
	    "parse: udp: prefix dropped");
	T_EQ_STR(gwconf_get(c, "registrar"), "yes", "parse: bool normalised");
	T_EQ_STR(gwconf_get(c, "tls-port"), "15061", "parse: tabs around =");
	T_EQ_STR(gwconf_get(c, "keylog"), "/var/log/x#y",
	    "parse: '#' inside a word is not a comment");
	T_EQ_STR(gwconf_get(c, "verbose"), "2", "parse: number normalised");
	T_EQ_STR(gwconf_get(c, "sip-port"), "5060", "parse: default");
	T_OK(gwconf_get(c, "inside") == NULL, "parse: empty value: unset");
	T_OK(!gwconf_is_set(c, "inside") && gwconf_is_set(c, "outside"),
	    "parse: is_set");
	T_OK(gwconf_get(c, "no-such-key") == NULL, "get: unknown key");
	T_OK(gwconf_bool(c, "registrar") && !gwconf_bool(c, "require-srtp"),
	    "bool");
	T_EQ_INT(gwconf_check(c, why, sizeof(why)), 0, "check: ok");
	gwconf_free(c);

	c = parsed("", &r, &line);
	T_EQ_INT(r, 0, "parse: empty file");
	T_EQ_INT(gwconf_check(c, why, sizeof(why)), E_INVAL,
	    "check: no outside");
	T_OK(strstr(why, "outside") != NULL, "check: says outside");
	T_EQ_INT(set(c, "outside", "::1"), 0, "set: IPv6 outside");
	T_EQ_INT(gwconf_check(c, why, sizeof(why)), E_INVAL,
	    "check: no upstream, no registrar");
	T_OK(strstr(why, "upstream") != NULL, "check: says upstream");
	T_EQ_INT(set(c, "registrar", "on"), 0, "set: registrar on");
	T_EQ_INT(gwconf_check(c, why, sizeof(why)), 0, "check: registrar");
	gwconf_free(c);
}

static void
test_errors(void)
{
	bad("outside = 1.2.3.4\n\nfoo = 1\n", E_NOTFOUND, 3, "unknown key 'foo'");
	bad("outside 1.2.3.4\n", E_SYNTAX, 1, "want key = value");
	bad("# x\noutside = 1.2.3.4\noutside = 1.2.3.5\n", E_SYNTAX, 3,
	    "outside set twice (first on line 2)");
	bad("tls-port = 0\n", E_RANGE, 1, "tls-port: want a number");
	bad("tls-port = 65536\n", E_RANGE, 1, "tls-port");
	bad("tls-port = 5x\n", E_SYNTAX, 1, "tls-port");
	bad("\n\noutside = example.org\n", E_SYNTAX, 3, "want an IP address");
	bad("outside = 1.2.3.4!\n", E_SYNTAX, 1, "want an IP address");
	bad("outside = 1.2.3.4!a b\n", E_SYNTAX, 1, "blank in value");
	bad("registrar = maybe\n", E_SYNTAX, 1, "want yes or no");
	bad("allow-inside = 10.0.0.0/33\n", E_RANGE, 1, "prefix too long");
	bad("allow-inside = 10.0.0.1,,bad\n", E_SYNTAX, 1,
	    "bad: not an address or network");
	bad("media-ports = 40000-30000\n", E_RANGE, 1, "MIN-MAX");
	bad("media-ports = 0-10\n", E_RANGE, 1, "MIN-MAX");
	bad("media-ports = 30000\n", E_RANGE, 1, "MIN-MAX");
	bad("upstream = 1.2.3.4\n", E_SYNTAX, 1, "want ADDR:PORT");
	bad("upstream = 1.2.3.4:0\n", E_RANGE, 1, "port 0");
	bad("Outside = 1.2.3.4\n", E_SYNTAX, 1, "bad key name");
	bad(" = 1\n", E_SYNTAX, 1, "bad key name");
	bad("cert = /a\x01z\n", E_SYNTAX, 1, "control character");
	{
		static const char nul[] = "outside = 1.2.3.4\ncert = a\0b\n";
		struct gwconf *c = gwconf_new();
		size_t line = 0;

		T_EQ_INT(gwconf_parse(c, slice_make(nul, sizeof(nul) - 1),
		    &line, why, sizeof(why)), E_SYNTAX, "NUL byte: code");
		T_EQ_INT(line, 2, "NUL byte: line");
		gwconf_free(c);
	}
	{
		char *big = malloc(5000);
		memset(big, 'a', 4999);
		big[4999] = '\0';
		memcpy(big, "cert=", 5);
		bad(big, E_BIG, 1, "line longer");
		big[1500] = '\0';
		bad(big, E_BIG, 1, "value longer");
		free(big);
	}
}

static void
test_roundtrip(void)
{
	struct gwconf *c = gwconf_new(), *d;
	struct buf *b = buf_new(65536);
	struct gwconf_key k;
	size_t i, line;
	int r, same = 1;

	T_EQ_INT(set(c, "outside", "[2001:db8::1]!gw.example"), 0,
	    "set: bracketed IPv6");
	T_EQ_INT(set(c, "media-ports", "40000-40999"), 0, "set: range");
	T_EQ_INT(set(c, "srtp-bridge-args", "--io epoll  -t 30"), 0,
	    "set: args");
	T_EQ_INT(set(c, "tls-keylog", "OFF"), 0, "set: keylog off");
	T_EQ_STR(gwconf_get(c, "tls-keylog"), "off", "keylog off normalised");
	T_EQ_INT(set(c, "nope", "1"), E_NOTFOUND, "set: unknown key");
	T_EQ_INT(set(c, "verbose", "4"), E_RANGE, "set: verbose 4");
	T_EQ_INT(gwconf_format(c, b), 0, "format");
	d = parsed(buf_str(b), &r, &line);
	T_EQ_INT(r, 0, "format parses back (line %zu: %s)", line, why);
	for (i = 0; gwconf_key(i, &k) == 0; i++) {
		const char *x = gwconf_get(c, k.name), *y = gwconf_get(d, k.name);
		if (!(x == y || (x != NULL && y != NULL && strcmp(x, y) == 0)))
			same = 0;
	}
	T_OK(same, "format: every key reads back the same");
	T_EQ_INT(i, 42, "42 keys");
	T_EQ_INT(gwconf_key(i, &k), E_NOTFOUND, "key past the end");
	gwconf_free(c);
	gwconf_free(d);
	buf_free(b);
}

static void
test_argv(void)
{
	struct gwconf *c = gwconf_new();
	char **argv;
	char *s;

	T_EQ_INT(set(c, "outside", "192.0.2.1!203.0.113.7"), 0, "set outside");
	T_EQ_INT(set(c, "upstream", "10.0.0.5:5080"), 0, "set upstream");
	T_EQ_INT(gwconf_argv(c, GW_SRTP_BRIDGE, "/bin/x", &argv), E_INVAL,
	    "argv: needs inside");
	T_EQ_INT(set(c, "inside", "10.0.0.1"), 0, "set inside");
	T_EQ_INT(gwconf_argv(c, GW_SRTP_BRIDGE, "/bin/x", &argv), E_INVAL,
	    "argv: needs an ng port");
	T_OK(argv == NULL, "argv: NULL on failure");
	T_EQ_INT(set(c, "ng", "127.0.0.1:2223"), 0, "set ng");
	s = cmdline(c, GW_SRTP_BRIDGE);
	T_EQ_STR(s, "/bin/x --ng 127.0.0.1:2223 --outside '192.0.2.1!203.0.113.7'"
	    " --inside 10.0.0.1 --port-min=30000 --port-max=39999\n",
	    "argv: srtp-bridge, defaults");
	free(s);
	s = cmdline(c, GW_SIP_TLS_TERM);
	T_EQ_STR(s, "/bin/x --print-addresses"
	    " --listen 192.0.2.1:5061 --cert /etc/sbckit/gateway.pem"
	    " --key /etc/sbckit/gateway.key --upstream=udp:10.0.0.5:5080"
	    " --inside 10.0.0.1:5060 --media=ng:127.0.0.1:2223"
	    " --media-direction=outside,inside --advertise=203.0.113.7:5061\n",
	    "argv: sip-tls-term, defaults, advertise from ADDR!PUBLIC");
	free(s);

	T_EQ_INT(set(c, "outside", "::1"), 0, "set outside ::1");
	T_EQ_INT(set(c, "inside", "[::2]"), 0, "set inside [::2]");
	T_EQ_INT(set(c, "registrar", "yes"), 0, "registrar");
	T_EQ_INT(set(c, "allow-inside", "10.0.0.0/8,192.0.2.7"), 0,
	    "allow-inside");
	T_EQ_INT(set(c, "require-srtp", "true"), 0, "require-srtp");
	T_EQ_INT(set(c, "keylog", "/tmp/k k"), E_SYNTAX, "keylog with a blank");
	T_EQ_INT(set(c, "keylog", "/tmp/it's"), 0, "keylog with a quote");
	T_EQ_INT(set(c, "tls-keylog", "/tmp/tls"), 0, "tls-keylog");
	T_EQ_INT(set(c, "media-timeout", "60"), 0, "media-timeout");
	T_EQ_INT(set(c, "max-sessions", "500"), 0, "max-sessions");
	T_EQ_INT(set(c, "verbose", "2"), 0, "verbose");
	T_EQ_INT(set(c, "sip-port", "0"), 0, "sip-port 0");
	T_EQ_INT(set(c, "advertise", "sbc.example.org"), 0, "advertise");
	T_EQ_INT(set(c, "sip-tls-term-args", "--max-per-ip 10"), 0, "args");
	s = cmdline(c, GW_SRTP_BRIDGE);
	T_EQ_STR(s, "/bin/x --ng 127.0.0.1:2223 --outside ::1 --inside '[::2]'"
	    " --port-min=30000 --port-max=39999 --keylog '/tmp/it'\\''s'"
	    " --timeout=60 --max-sessions=500 -v -v\n",
	    "argv: srtp-bridge, everything");
	free(s);
	s = cmdline(c, GW_SIP_TLS_TERM);
	T_EQ_STR(s, "/bin/x --print-addresses"
	    " --listen '[::1]:5061' --cert /etc/sbckit/gateway.pem"
	    " --key /etc/sbckit/gateway.key --upstream=udp:10.0.0.5:5080"
	    " --inside '[::2]:0' --media=ng:127.0.0.1:2223"
	    " --media-direction=outside,inside --registrar"
	    " --allow-inside 10.0.0.0/8,192.0.2.7 --require-srtp"
	    " --advertise sbc.example.org --tls-keylog /tmp/tls -v -v"
	    " --max-per-ip 10\n", "argv: sip-tls-term, everything");
	free(s);
	/* Inside TCP, and no BYE for lost flows. */
	{
		int tcp = 0;
		T_EQ_INT(set(c, "upstream", "TCP:10.0.0.5:5080"), 0,
		    "upstream over TCP");
		T_EQ_STR(gwconf_get(c, "upstream"), "tcp:10.0.0.5:5080",
		    "tcp: kept, lower case");
		T_EQ_STR(gwconf_upstream(c, &tcp), "10.0.0.5:5080",
		    "gwconf_upstream: the address");
		T_EQ_INT(tcp, 1, "gwconf_upstream: tcp");
		T_EQ_INT(set(c, "upstream", "tcp:10.0.0.5"), E_SYNTAX,
		    "tcp: without a port");
		T_EQ_INT(set(c, "upstream", "sctp:10.0.0.5:5080"), E_SYNTAX,
		    "another transport");
		T_EQ_STR(gwconf_get(c, "bye-on-loss"), "yes",
		    "bye-on-loss: on by default");
		T_EQ_INT(set(c, "bye-on-loss", "off"), 0, "bye-on-loss off");
		T_EQ_INT(set(c, "inside-tcp", "maybe"), E_SYNTAX,
		    "inside-tcp: a bool");
		T_EQ_INT(set(c, "inside-tcp", "yes"), 0, "inside-tcp");
	}
	s = cmdline(c, GW_SIP_TLS_TERM);
	T_EQ_STR(s, "/bin/x --print-addresses"
	    " --listen '[::1]:5061' --cert /etc/sbckit/gateway.pem"
	    " --key /etc/sbckit/gateway.key --upstream=tcp:10.0.0.5:5080"
	    " --inside-tcp --inside '[::2]:0' --media=ng:127.0.0.1:2223"
	    " --media-direction=outside,inside --registrar"
	    " --allow-inside 10.0.0.0/8,192.0.2.7 --require-srtp"
	    " --no-bye-on-loss --advertise sbc.example.org --tls-keylog /tmp/tls"
	    " -v -v --max-per-ip 10\n", "argv: sip-tls-term, TCP, no BYE");
	free(s);
	/* Authentication and bans: only what differs from the defaults. */
	T_EQ_INT(set(c, "auth", "/etc/sbckit/users"), 0, "auth");
	T_EQ_INT(set(c, "ban-time", "3600"), 0, "ban-time");
	T_EQ_INT(set(c, "ban-fails", "10"), 0, "ban-fails, the default");
	T_EQ_INT(set(c, "rate", "20/40"), 0, "rate");
	T_EQ_INT(set(c, "ban-window", "0"), E_RANGE, "ban-window 0");
	s = cmdline(c, GW_SIP_TLS_TERM);
	T_OK(strstr(s, " --no-bye-on-loss --auth /etc/sbckit/users"
	    " --ban-time=3600 --rate=20/40 --advertise") != NULL,
	    "argv: sip-tls-term, auth and bans");
	free(s);
	T_EQ_INT(gwconf_argv(c, GW_NCHILD, "/bin/x", &argv), E_INVAL,
	    "argv: bad child");
	T_EQ_STR(gwconf_child_name(GW_SIP_TLS_TERM), "sip-tls-term", "name");
	T_OK(gwconf_child_name(GW_NCHILD) == NULL, "name: bad child");
	gwconf_free(c);
	gwconf_free(NULL);
}

/* The WebSocket keys: passed through to sip-tls-term, checked. */
static void
test_ws(void)
{
	struct gwconf *c = gwconf_new();
	char *s;

	T_OK(c != NULL && set(c, "outside", "192.0.2.1") == 0 &&
	    set(c, "inside", "10.0.0.1") == 0 && set(c, "registrar", "yes")
	    == 0 && set(c, "ng", "127.0.0.1:2223") == 0, "ws: base");
	s = cmdline(c, GW_SIP_TLS_TERM);
	T_OK(strstr(s, "ws") == NULL && strstr(s, "keying") == NULL,
	    "ws: none by default");
	free(s);
	T_EQ_INT(set(c, "wss-port", "8443"), 0, "wss-port");
	T_EQ_INT(set(c, "ws-listen", "127.0.0.1:8080"), 0, "ws-listen");
	T_EQ_INT(set(c, "ws-listen", "nowhere"), E_SYNTAX, "ws-listen: bad");
	T_EQ_INT(set(c, "ws-origin", "https://a.test,https://b.test"), 0,
	    "ws-origin");
	T_EQ_INT(set(c, "outside-keying", "dtls"), 0, "outside-keying");
	T_EQ_INT(gwconf_check(c, why, sizeof(why)), 0, "ws: check");
	s = cmdline(c, GW_SIP_TLS_TERM);
	T_OK(strstr(s, " --listen-wss 192.0.2.1:8443 --listen-ws 127.0.0.1:8080"
	    " --ws-origin https://a.test,https://b.test --outside-keying=dtls")
	    != NULL, "ws: argv %s", s);
	free(s);
	T_EQ_INT(set(c, "outside-keying", "zrtp"), 0, "outside-keying: a word");
	T_EQ_INT(gwconf_check(c, why, sizeof(why)), E_INVAL,
	    "outside-keying zrtp: refused by the check");
	T_EQ_INT(set(c, "outside-keying", "sdes"), 0, "outside-keying sdes");
	T_EQ_INT(set(c, "wss-port", "5061"), 0, "wss-port 5061");
	T_EQ_INT(gwconf_check(c, why, sizeof(why)), E_INVAL,
	    "wss-port = tls-port: refused");
	gwconf_free(c);
}

/* HEP to both tools, each its own metrics endpoint. */
static void
test_obs(void)
{
	struct gwconf *c = gwconf_new();
	char *s;

	T_OK(c != NULL && set(c, "outside", "192.0.2.1") == 0 &&
	    set(c, "inside", "10.0.0.1") == 0 && set(c, "registrar", "yes")
	    == 0 && set(c, "ng", "127.0.0.1:2223") == 0, "obs: base");
	s = cmdline(c, GW_SRTP_BRIDGE);
	T_OK(strstr(s, "--hep") == NULL && strstr(s, "--metrics") == NULL,
	    "obs: none by default");
	free(s);
	T_EQ_INT(set(c, "hep", "tcp:127.0.0.1:9060"), E_UNSUPPORTED,
	    "hep: tcp refused");
	T_EQ_STR(why, "hep: want udp:ADDR:PORT", "hep: why");
	T_EQ_INT(set(c, "hep", "udp:127.0.0.1"), E_SYNTAX, "hep: no port");
	T_EQ_INT(set(c, "hep", "udp:127.0.0.1:9060"), 0, "hep");
	T_EQ_INT(set(c, "hep-id", "4294967296"), E_RANGE, "hep-id: 2^32");
	T_EQ_INT(set(c, "hep-id", "4294967295"), 0, "hep-id: 2^32 - 1");
	T_EQ_INT(set(c, "metrics", "9100"), 0, "metrics: a port alone");
	T_EQ_STR(gwconf_get(c, "metrics"), "127.0.0.1:9100",
	    "metrics: a port alone is on loopback");
	T_EQ_INT(set(c, "metrics", "65536"), E_RANGE, "metrics: port 65536");
	T_EQ_INT(set(c, "metrics", "nowhere:1"), E_SYNTAX, "metrics: a name");
	T_EQ_STR(why, "metrics: want [ADDR:]PORT (IPv6: [ADDR]:PORT)",
	    "metrics: why");
	T_EQ_INT(set(c, "relay-metrics", "[::1]:9101"), 0, "relay-metrics");
	T_EQ_INT(gwconf_check(c, why, sizeof(why)), 0, "obs: check");
	s = cmdline(c, GW_SRTP_BRIDGE);
	T_OK(strstr(s, " --hep udp:127.0.0.1:9060 --hep-id=4294967295"
	    " --metrics '[::1]:9101'") != NULL, "obs: srtp-bridge argv %s", s);
	free(s);
	s = cmdline(c, GW_SIP_TLS_TERM);
	T_OK(strstr(s, " --hep udp:127.0.0.1:9060 --hep-id=4294967295"
	    " --metrics 127.0.0.1:9100") != NULL, "obs: sip-tls-term argv %s",
	    s);
	free(s);
	T_EQ_INT(set(c, "relay-metrics", "127.0.0.1:9100"), 0,
	    "relay-metrics: metrics' port");
	T_EQ_INT(gwconf_check(c, why, sizeof(why)), E_INVAL,
	    "relay-metrics = metrics: refused");
	T_OK(strstr(why, "relay-metrics: the same as metrics") != NULL,
	    "relay-metrics = metrics: why");
	T_EQ_INT(set(c, "relay-metrics", "0"), 0, "relay-metrics: port 0");
	T_EQ_INT(set(c, "metrics", "0"), 0, "metrics: port 0");
	T_EQ_INT(gwconf_check(c, why, sizeof(why)), 0,
	    "port 0 twice: each a free one");
	gwconf_free(c);
}

int
main(void)
{
	test_parse();
	test_errors();
	test_roundtrip();
	test_argv();
	test_ws();
	test_obs();
	return t_done();
}
