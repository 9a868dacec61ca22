/* gwconf.c - the gateway launcher's configuration: keys, file, argv. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw/gwconf.h"
#include "base/hep.h"
#include "base/net.h"

#define GW_VALUE_MAX	1024	/* longest value */
#define GW_LINE_MAX	4096	/* longest config line */
#define GW_ARGV_MAX	64	/* most words in an argument vector */

enum kt {
	KT_HOST,	/* ADDR[!PUBLIC] */
	KT_ADDR,	/* ADDR:PORT */
	KT_UPSTREAM,	/* [udp:|tcp:]ADDR:PORT, stored without udp: */
	KT_PATH,	/* a file or program name */
	KT_KEYLOG,	/* a file or "off" */
	KT_BOOL,	/* yes/no (true/false, on/off, 1/0), stored yes/no */
	KT_UINT,	/* decimal in [min, max] */
	KT_RANGE,	/* MIN-MAX ports */
	KT_WORD,	/* one word, no blanks */
	KT_NETS,	/* NET[,NET...]: networks or hosts */
	KT_ARGS,	/* words separated by blanks */
	KT_HEP,		/* udp:ADDR:PORT (hep_url_parse()) */
	KT_METRICS,	/* [ADDR:]PORT, stored ADDR:PORT (a port alone:
			 * 127.0.0.1, as the tools' --metrics) */
};

struct key {
	const char *name;
	enum kt type;
	const char *def;
	uint32_t min, max;
	const char *help;
};

/* The order here is the order of --print-config. */
static const struct key keys[] = {
	{ "outside", KT_HOST, NULL, 0, 0,
	    "outside address for TLS and SRTP, ADDR[!PUBLIC]" },
	{ "inside", KT_HOST, NULL, 0, 0,
	    "inside address for SIP and RTP (default: towards upstream)" },
	{ "upstream", KT_UPSTREAM, NULL, 0, 0,
	    "inside SIP server, [udp:|tcp:]ADDR:PORT" },
	{ "registrar", KT_BOOL, "no", 0, 0,
	    "built-in registrar (then upstream is optional)" },
	{ "allow-inside", KT_NETS, NULL, 0, 0,
	    "inside hosts outside requests may reach besides the upstream, "
	    "NET[,NET...]" },
	{ "inside-tcp", KT_BOOL, "no", 0, 0,
	    "SIP over TCP inside too (on with a tcp: upstream)" },
	{ "tls-port", KT_UINT, "5061", 1, 65535, "outside TLS port" },
	{ "wss-port", KT_UINT, "0", 0, 65535,
	    "outside SIP over secure WebSocket port (0: none)" },
	{ "ws-listen", KT_ADDR, NULL, 0, 0,
	    "SIP over plain WebSocket, ADDR:PORT (labs, loopback)" },
	{ "ws-origin", KT_WORD, NULL, 0, 0,
	    "Origins allowed to open a WebSocket, ORIGIN[,ORIGIN...]" },
	{ "sip-port", KT_UINT, "5060", 0, 65535,
	    "inside SIP UDP port (0: any)" },
	{ "cert", KT_PATH, "/etc/sbckit/gateway.pem", 0, 0,
	    "certificate chain (PEM)" },
	{ "key", KT_PATH, "/etc/sbckit/gateway.key", 0, 0,
	    "private key (PEM)" },
	{ "advertise", KT_WORD, NULL, 0, 0,
	    "outside name for Via/Record-Route, HOST[:PORT]" },
	{ "require-srtp", KT_BOOL, "no", 0, 0,
	    "reject outside offers without SRTP" },
	{ "outside-keying", KT_WORD, "sdes", 0, 0,
	    "SRTP keying offered to TLS phones, sdes or dtls" },
	{ "bye-on-loss", KT_BOOL, "yes", 0, 0,
	    "BYE to the inside for the calls of a phone whose TLS is lost" },
	{ "auth", KT_KEYLOG, "off", 0, 0,
	    "digest credentials file (user:realm:HA1 lines), or off" },
	{ "auth-realm", KT_WORD, NULL, 0, 0,
	    "digest realm (default: the advertised name or outside address)" },
	{ "auth-requests", KT_BOOL, "no", 0, 0,
	    "also authenticate out-of-dialog requests to the upstream" },
	{ "ban-fails", KT_UINT, "10", 0, 1000000,
	    "authentication failures that ban a source (0: never)" },
	{ "ban-window", KT_UINT, "60", 1, 86400,
	    "... within SEC seconds" },
	{ "ban-time", KT_UINT, "600", 0, 604800,
	    "seconds a ban lasts" },
	{ "rate", KT_WORD, "50/100", 0, 0,
	    "requests a second per source, N[/BURST] (0: no cap)" },
	{ "media-ports", KT_RANGE, "30000-39999", 0, 0,
	    "media port range, MIN-MAX" },
	{ "ng", KT_ADDR, "127.0.0.1:0", 0, 0,
	    "srtp-bridge control address (port 0: a free one)" },
	{ "keylog", KT_KEYLOG, "off", 0, 0, "SRTP key log file, or off" },
	{ "tls-keylog", KT_KEYLOG, "off", 0, 0, "TLS key log file, or off" },
	{ "hep", KT_HEP, NULL, 0, 0,
	    "HEPv3 collector both tools copy to (Homer, sngrep -L), "
	    "udp:ADDR:PORT" },
	{ "hep-id", KT_UINT, "0", 0, UINT32_MAX, "HEP capture agent id" },
	{ "metrics", KT_METRICS, NULL, 0, 0,
	    "sip-tls-term's Prometheus endpoint, [ADDR:]PORT (127.0.0.1)" },
	{ "relay-metrics", KT_METRICS, NULL, 0, 0,
	    "srtp-bridge's Prometheus endpoint, [ADDR:]PORT (127.0.0.1)" },
	{ "media-timeout", KT_UINT, "0", 0, 86400,
	    "end a call after SEC without media (0: srtp-bridge's default)" },
	{ "max-sessions", KT_UINT, "0", 0, 100000000,
	    "parallel call limit (0: none)" },
	{ "verbose", KT_UINT, "0", 0, 3, "verbosity of both tools, 0-3" },
	{ "ready-timeout", KT_UINT, "10", 1, 600,
	    "seconds each tool has to become ready" },
	{ "stop-timeout", KT_UINT, "5", 1, 600,
	    "seconds each tool has to exit after SIGTERM" },
	{ "srtp-bridge", KT_PATH, "srtp-bridge", 0, 0,
	    "the srtp-bridge program" },
	{ "sip-tls-term", KT_PATH, "sip-tls-term", 0, 0,
	    "the sip-tls-term program" },
	{ "srtp-bridge-args", KT_ARGS, NULL, 0, 0,
	    "more srtp-bridge options" },
	{ "sip-tls-term-args", KT_ARGS, NULL, 0, 0,
	    "more sip-tls-term options" },
	{ "allow-readable-key", KT_BOOL, "no", 0, 0,
	    "accept a key file group or others may read (a warning)" },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct gwconf {
	char *val[NKEYS];	/* NULL: unset */
};

struct gwconf *
gwconf_new(void)
{
	return calloc(1, sizeof(struct gwconf));
}

void
gwconf_free(struct gwconf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < NKEYS; i++)
		free(c->val[i]);
	free(c);
}

int
gwconf_key(size_t i, struct gwconf_key *k)
{
	if (i >= NKEYS)
		return E_NOTFOUND;
	k->name = keys[i].name;
	k->is_bool = keys[i].type == KT_BOOL;
	k->def = keys[i].def;
	k->help = keys[i].help;
	return 0;
}

static long
find_key(struct slice name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (slice_eq_cstr(name, keys[i].name))
			return (long)i;
	return -1;
}

static int
key_name_ok(struct slice s)
{
	size_t i;

	if (s.len == 0 || s.len > 40)
		return 0;
	for (i = 0; i < s.len; i++) {
		uint8_t b = s.p[i];
		if (!((b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') ||
		    b == '-' || b == '_'))
			return 0;
	}
	return 1;
}

static int
has_blank(struct slice s)
{
	return slice_chr(s, ' ') >= 0 || slice_chr(s, '\t') >= 0;
}

/* A host alone: "1.2.3.4", "::1", "[::1]". */
static int
host_ok(struct slice s)
{
	struct net_addr a;

	return s.len > 0 && net_addr_parse_host(s, 0, &a) == 0;
}

/* PUBLIC in ADDR!PUBLIC: a name or address, [A-Za-z0-9.:-[]]. */
static int
public_ok(struct slice s)
{
	size_t i;

	if (s.len == 0)
		return 0;
	for (i = 0; i < s.len; i++) {
		uint8_t b = s.p[i];
		if (!((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
		    (b >= '0' && b <= '9') || b == '.' || b == ':' ||
		    b == '-' || b == '[' || b == ']'))
			return 0;
	}
	return 1;
}

static int
parse_bool(struct slice v, int *b)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (slice_case_eq_cstr(v, yes[i])) {
			*b = 1;
			return 0;
		}
		if (slice_case_eq_cstr(v, no[i])) {
			*b = 0;
			return 0;
		}
	}
	return E_SYNTAX;
}

/* Drop a trailing comment: a '#' at the start or after a blank. */
static struct slice
strip_comment(struct slice v)
{
	size_t i;

	for (i = 0; i < v.len; i++)
		if (v.p[i] == '#' && (i == 0 || v.p[i - 1] == ' ' ||
		    v.p[i - 1] == '\t'))
			return slice_make(v.p, i);
	return v;
}

/* Check `v` for key `k`; write the normalised form into `out`. */
static int
check_value(const struct key *k, struct slice v, char *out, size_t outn,
    char *why, size_t n)
{
	uint64_t u, lo, hi;
	struct net_addr a;
	struct slice head;
	int b, r;

	if (v.len >= outn) {
		sbk_why(why, n, "%s: value longer than %zu bytes", k->name,
		    outn - 1);
		return E_BIG;
	}
	for (size_t i = 0; i < v.len; i++)
		if ((v.p[i] < 0x20 && v.p[i] != '\t') || v.p[i] == 0x7f) {
			sbk_why(why, n, "%s: control character in value", k->name);
			return E_SYNTAX;
		}
	if (strip_comment(v).len != v.len) {
		sbk_why(why, n, "%s: '#' after a blank starts a comment", k->name);
		return E_SYNTAX;
	}
	if (k->type != KT_ARGS && has_blank(v)) {
		sbk_why(why, n, "%s: blank in value", k->name);
		return E_SYNTAX;
	}
	memcpy(out, v.p, v.len);
	out[v.len] = '\0';
	switch (k->type) {
	case KT_HOST:
		if (!slice_split(&v, '!', &head)) {
			if (!host_ok(head))
				goto bad_host;
		} else if (!host_ok(head) || !public_ok(v))
			goto bad_host;
		return 0;
	bad_host:
		sbk_why(why, n, "%s: want an IP address, ADDR[!PUBLIC]", k->name);
		return E_SYNTAX;
	case KT_UPSTREAM:
		if (v.len > 4 && slice_case_eq_cstr(slice_make(v.p, 4), "udp:")) {
			(void)slice_skip(&v, 4);
			memmove(out, out + 4, v.len + 1);
		} else if (v.len > 4 &&
		    slice_case_eq_cstr(slice_make(v.p, 4), "tcp:")) {
			/* kept, lower case: the address follows */
			(void)slice_skip(&v, 4);
			memcpy(out, "tcp:", 4);
		}
		/* FALLTHROUGH */
	case KT_ADDR:
		if ((r = net_addr_parse(v, &a)) != 0) {
			sbk_why(why, n, "%s: want ADDR:PORT (IPv6: [ADDR]:PORT)",
			    k->name);
			return r;
		}
		if (k->type == KT_UPSTREAM && net_addr_port(&a) == 0) {
			sbk_why(why, n, "%s: port 0", k->name);
			return E_RANGE;
		}
		return 0;
	case KT_PATH:
	case KT_KEYLOG:
	case KT_WORD:
	case KT_ARGS:
		if (v.len == 0) {
			sbk_why(why, n, "%s: empty value", k->name);
			return E_SYNTAX;
		}
		if (k->type == KT_KEYLOG && slice_case_eq_cstr(v, "off")) {
			memcpy(out, "off", 4);
			return 0;
		}
		return 0;
	case KT_NETS: {
		struct net_prefix nets[32];
		size_t nn;
		char e[96];

		if ((r = net_prefix_list_parse(v, nets, 32, &nn, e,
		    sizeof(e))) != 0) {
			sbk_why(why, n, "%s: %s", k->name, e);
			return r;
		}
		return 0;
	}
	case KT_HEP: {
		struct hep_conf hc;

		memset(&hc, 0, sizeof(hc));
		if ((r = hep_url_parse(out, &hc)) != 0) {
			sbk_why(why, n, "%s: want udp:ADDR:PORT", k->name);
			return r;
		}
		return 0;
	}
	case KT_METRICS:
		if (slice_is_digits(v)) {
			if ((r = slice_to_u64(v, 65535, &u)) != 0 ||
			    (r = net_addr_parse_host(slice_cstr("127.0.0.1"),
			    (uint16_t)u, &a)) != 0)
				goto bad_metrics;
		} else if ((r = net_addr_parse(v, &a)) != 0)
			goto bad_metrics;
		return net_addr_format(&a, out, outn);
	bad_metrics:
		sbk_why(why, n, "%s: want [ADDR:]PORT (IPv6: [ADDR]:PORT)",
		    k->name);
		return r;
	case KT_BOOL:
		if (parse_bool(v, &b) != 0) {
			sbk_why(why, n, "%s: want yes or no", k->name);
			return E_SYNTAX;
		}
		memcpy(out, b ? "yes" : "no", b ? 4 : 3);
		return 0;
	case KT_UINT:
		if ((r = slice_to_u64(v, k->max, &u)) != 0 || u < k->min) {
			sbk_why(why, n, "%s: want a number from %lu to %lu",
			    k->name, (unsigned long)k->min,
			    (unsigned long)k->max);
			return r != 0 ? r : E_RANGE;
		}
		r = snprintf(out, outn, "%llu", (unsigned long long)u);
		return r > 0 && (size_t)r < outn ? 0 : E_BIG;
	case KT_RANGE:
		if (!slice_split(&v, '-', &head) ||
		    slice_to_u64(head, 65535, &lo) != 0 ||
		    slice_to_u64(v, 65535, &hi) != 0 || lo == 0 || lo > hi) {
			sbk_why(why, n, "%s: want MIN-MAX, 1 <= MIN <= MAX <= 65535",
			    k->name);
			return E_RANGE;
		}
		r = snprintf(out, outn, "%llu-%llu", (unsigned long long)lo,
		    (unsigned long long)hi);
		return r > 0 && (size_t)r < outn ? 0 : E_BIG;
	}
	return E_SYNTAX;
}

static int
set_index(struct gwconf *c, size_t i, struct slice value, char *why,
    size_t n)
{
	char tmp[GW_VALUE_MAX + 1];
	char *s;
	int r;

	value = slice_trim(value);
	if (value.len == 0) {	/* back to the default */
		free(c->val[i]);
		c->val[i] = NULL;
		return 0;
	}
	if ((r = check_value(&keys[i], value, tmp, sizeof(tmp), why, n)) != 0)
		return r;
	if ((s = strdup(tmp)) == NULL)
		return E_NOMEM;
	free(c->val[i]);
	c->val[i] = s;
	return 0;
}

int
gwconf_set(struct gwconf *c, struct slice key, struct slice value,
    char *why, size_t n)
{
	long i;

	if (!key_name_ok(key)) {
		sbk_why(why, n, "bad key name");
		return E_NOTFOUND;
	}
	if ((i = find_key(key)) < 0) {
		sbk_why(why, n, "unknown key '%.*s'", (int)key.len,
		    (const char *)key.p);
		return E_NOTFOUND;
	}
	return set_index(c, (size_t)i, value, why, n);
}

int
gwconf_parse(struct gwconf *c, struct slice text, size_t *line, char *why,
    size_t n)
{
	size_t seen[NKEYS] = { 0 };	/* line a key was set on, 0: not */
	size_t ln = 0;
	struct slice l, k;
	long i;
	int r;

	while (text.len > 0) {
		(void)slice_split(&text, '\n', &l);
		*line = ++ln;
		if (l.len > 0 && l.p[l.len - 1] == '\r')
			l.len--;
		if (l.len > GW_LINE_MAX) {
			sbk_why(why, n, "line longer than %d bytes", GW_LINE_MAX);
			return E_BIG;
		}
		if (memchr(l.p, '\0', l.len) != NULL) {
			sbk_why(why, n, "NUL byte");
			return E_SYNTAX;
		}
		l = slice_trim(l);
		if (l.len == 0 || l.p[0] == '#')
			continue;
		if (!slice_split(&l, '=', &k)) {
			sbk_why(why, n, "want key = value");
			return E_SYNTAX;
		}
		k = slice_trim(k);
		if (!key_name_ok(k)) {
			sbk_why(why, n, "bad key name");
			return E_SYNTAX;
		}
		if ((i = find_key(k)) < 0) {
			sbk_why(why, n, "unknown key '%.*s'", (int)k.len,
			    (const char *)k.p);
			return E_NOTFOUND;
		}
		if (seen[i] != 0) {
			sbk_why(why, n, "%s set twice (first on line %zu)",
			    keys[i].name, seen[i]);
			return E_SYNTAX;
		}
		seen[i] = ln;
		if ((r = set_index(c, (size_t)i, strip_comment(l), why, n))
		    != 0)
			return r;
	}
	*line = 0;
	return 0;
}

const char *
gwconf_get(const struct gwconf *c, const char *key)
{
	long i = find_key(slice_cstr(key));

	if (i < 0)
		return NULL;
	return c->val[i] != NULL ? c->val[i] : keys[i].def;
}

int
gwconf_is_set(const struct gwconf *c, const char *key)
{
	long i = find_key(slice_cstr(key));

	return i >= 0 && c->val[i] != NULL;
}

int
gwconf_bool(const struct gwconf *c, const char *key)
{
	const char *v = gwconf_get(c, key);

	return v != NULL && strcmp(v, "yes") == 0;
}

static int
str_ends(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && strcmp(s + a - b, tail) == 0;
}

int
gwconf_check(const struct gwconf *c, char *why, size_t n)
{
	if (gwconf_get(c, "outside") == NULL) {
		sbk_why(why, n, "no outside address (outside = ADDR)");
		return E_INVAL;
	}
	if (gwconf_get(c, "upstream") == NULL &&
	    !gwconf_bool(c, "registrar")) {
		sbk_why(why, n, "no upstream (upstream = ADDR:PORT), "
		    "and not a registrar (registrar = yes)");
		return E_INVAL;
	}
	if (strcmp(gwconf_get(c, "outside-keying"), "sdes") != 0 &&
	    strcmp(gwconf_get(c, "outside-keying"), "dtls") != 0) {
		sbk_why(why, n, "outside-keying: sdes or dtls");
		return E_INVAL;
	}
	if (strcmp(gwconf_get(c, "wss-port"), gwconf_get(c, "tls-port"))
	    == 0) {
		sbk_why(why, n, "wss-port: the same as tls-port");
		return E_INVAL;
	}
	if (gwconf_get(c, "metrics") != NULL &&
	    gwconf_get(c, "relay-metrics") != NULL &&
	    strcmp(gwconf_get(c, "metrics"), gwconf_get(c, "relay-metrics"))
	    == 0 && !str_ends(gwconf_get(c, "metrics"), ":0")) {
		sbk_why(why, n, "relay-metrics: the same as metrics (each "
		    "tool needs a port of its own)");
		return E_INVAL;
	}
	return 0;
}

int
gwconf_format(const struct gwconf *c, struct buf *out)
{
	size_t i;
	int r;

	for (i = 0; i < NKEYS; i++) {
		const char *v = c->val[i] != NULL ? c->val[i] : keys[i].def;

		if ((r = buf_printf(out, "# %s\n", keys[i].help)) != 0)
			return r;
		r = v != NULL ? buf_printf(out, "%s = %s\n", keys[i].name, v) :
		    buf_printf(out, "#%s =\n", keys[i].name);
		if (r != 0)
			return r;
	}
	return 0;
}

/* ---- argument vectors ---- */

struct argv_b {
	char **v;
	size_t n;
	int err;
};

static void
push(struct argv_b *a, const char *s)
{
	if (a->err != 0)
		return;
	if (a->n + 1 >= GW_ARGV_MAX) {
		a->err = E_BIG;
		return;
	}
	if ((a->v[a->n] = strdup(s)) == NULL) {
		a->err = E_NOMEM;
		return;
	}
	a->n++;
}

static void __attribute__((format(printf, 2, 3)))
pushf(struct argv_b *a, const char *fmt, ...)
{
	char s[GW_VALUE_MAX + 64];
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof(s)) {
		if (a->err == 0)
			a->err = E_BIG;
		return;
	}
	push(a, s);
}

/* Split KT_ARGS value `v` at blanks into words. */
static void
push_words(struct argv_b *a, const char *v)
{
	struct slice s = slice_cstr(v), w;
	char word[GW_VALUE_MAX + 1];

	while (s.len > 0) {
		while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t'))
			(void)slice_skip(&s, 1);
		w = slice_make(s.p, 0);
		while (s.len > 0 && s.p[0] != ' ' && s.p[0] != '\t') {
			w.len++;
			(void)slice_skip(&s, 1);
		}
		if (w.len == 0)
			break;
		memcpy(word, w.p, w.len);
		word[w.len] = '\0';
		push(a, word);
	}
}

/* "HOST:PORT" for host value `v` (ADDR[!PUBLIC]), brackets for IPv6. */
static int
host_port(const char *v, unsigned port, char *out, size_t n)
{
	struct slice s = slice_cstr(v), head;
	struct net_addr a;

	(void)slice_split(&s, '!', &head);
	if (net_addr_parse_host(head, (uint16_t)port, &a) != 0)
		return E_INVAL;
	return net_addr_format(&a, out, n);
}

static unsigned
uval(const struct gwconf *c, const char *key)
{
	uint64_t u = 0;

	if (slice_to_u64(slice_cstr(gwconf_get(c, key)), UINT32_MAX, &u) != 0)
		return 0;
	return (unsigned)u;
}

/* HEP and metrics: --hep and --hep-id to both, each its own --metrics. */
static void
obs_argv(const struct gwconf *c, struct argv_b *a, const char *metrics)
{
	if (gwconf_get(c, "hep") != NULL) {
		push(a, "--hep");
		push(a, gwconf_get(c, "hep"));
		if (uval(c, "hep-id") != 0)
			pushf(a, "--hep-id=%u", uval(c, "hep-id"));
	}
	if (gwconf_get(c, metrics) != NULL) {
		push(a, "--metrics");
		push(a, gwconf_get(c, metrics));
	}
}

static void
srtp_bridge_argv(const struct gwconf *c, struct argv_b *a)
{
	const char *range = gwconf_get(c, "media-ports");
	const char *dash = strchr(range, '-');
	unsigned i;

	push(a, "--ng");
	push(a, gwconf_get(c, "ng"));
	push(a, "--outside");
	push(a, gwconf_get(c, "outside"));
	push(a, "--inside");
	push(a, gwconf_get(c, "inside"));
	pushf(a, "--port-min=%.*s", (int)(dash - range), range);
	pushf(a, "--port-max=%s", dash + 1);
	if (strcmp(gwconf_get(c, "keylog"), "off") != 0) {
		push(a, "--keylog");
		push(a, gwconf_get(c, "keylog"));
	}
	if (uval(c, "media-timeout") > 0)
		pushf(a, "--timeout=%u", uval(c, "media-timeout"));
	if (uval(c, "max-sessions") > 0)
		pushf(a, "--max-sessions=%u", uval(c, "max-sessions"));
	obs_argv(c, a, "relay-metrics");
	for (i = 0; i < uval(c, "verbose"); i++)
		push(a, "-v");
	if (gwconf_get(c, "srtp-bridge-args") != NULL)
		push_words(a, gwconf_get(c, "srtp-bridge-args"));
}

/* Authentication and bans: what differs from sip-tls-term's defaults. */
static void
guard_argv(const struct gwconf *c, struct argv_b *a)
{
	if (strcmp(gwconf_get(c, "auth"), "off") != 0) {
		push(a, "--auth");
		push(a, gwconf_get(c, "auth"));
	}
	if (gwconf_get(c, "auth-realm") != NULL) {
		push(a, "--auth-realm");
		push(a, gwconf_get(c, "auth-realm"));
	}
	if (gwconf_bool(c, "auth-requests"))
		push(a, "--auth-requests");
	if (uval(c, "ban-fails") != 10)
		pushf(a, "--ban-fails=%u", uval(c, "ban-fails"));
	if (uval(c, "ban-window") != 60)
		pushf(a, "--ban-window=%u", uval(c, "ban-window"));
	if (uval(c, "ban-time") != 600)
		pushf(a, "--ban-time=%u", uval(c, "ban-time"));
	if (strcmp(gwconf_get(c, "rate"), "50/100") != 0)
		pushf(a, "--rate=%s", gwconf_get(c, "rate"));
}

/* SIP over WebSocket and the outside keying. */
static void
ws_argv(const struct gwconf *c, struct argv_b *a)
{
	char hp[NET_ADDR_STRLEN];

	if (uval(c, "wss-port") != 0) {
		if (host_port(gwconf_get(c, "outside"), uval(c, "wss-port"), hp,
		    sizeof(hp)) != 0) {
			a->err = E_INVAL;
			return;
		}
		push(a, "--listen-wss");
		push(a, hp);
	}
	if (gwconf_get(c, "ws-listen") != NULL) {
		push(a, "--listen-ws");
		push(a, gwconf_get(c, "ws-listen"));
	}
	if (gwconf_get(c, "ws-origin") != NULL) {
		push(a, "--ws-origin");
		push(a, gwconf_get(c, "ws-origin"));
	}
	if (strcmp(gwconf_get(c, "outside-keying"), "sdes") != 0)
		pushf(a, "--outside-keying=%s", gwconf_get(c, "outside-keying"));
}

static void
sip_tls_term_argv(const struct gwconf *c, struct argv_b *a)
{
	const char *out = gwconf_get(c, "outside"), *pub;
	char hp[NET_ADDR_STRLEN];
	unsigned i;

	if (host_port(out, uval(c, "tls-port"), hp, sizeof(hp)) != 0) {
		a->err = E_INVAL;
		return;
	}
	/* the launcher's ready line, "inside udp ADDR:PORT", on its stdout */
	push(a, "--print-addresses");
	push(a, "--listen");
	push(a, hp);
	push(a, "--cert");
	push(a, gwconf_get(c, "cert"));
	push(a, "--key");
	push(a, gwconf_get(c, "key"));
	if (gwconf_get(c, "upstream") != NULL) {
		int tcp;
		const char *up = gwconf_upstream(c, &tcp);

		pushf(a, "--upstream=%s:%s", tcp ? "tcp" : "udp", up);
	}
	if (gwconf_bool(c, "inside-tcp"))
		push(a, "--inside-tcp");
	if (host_port(gwconf_get(c, "inside"), uval(c, "sip-port"), hp,
	    sizeof(hp)) != 0) {
		a->err = E_INVAL;
		return;
	}
	push(a, "--inside");
	push(a, hp);
	pushf(a, "--media=ng:%s", gwconf_get(c, "ng"));
	push(a, "--media-direction=outside,inside");
	if (gwconf_bool(c, "registrar"))
		push(a, "--registrar");
	if (gwconf_get(c, "allow-inside") != NULL) {
		push(a, "--allow-inside");
		push(a, gwconf_get(c, "allow-inside"));
	}
	if (gwconf_bool(c, "require-srtp"))
		push(a, "--require-srtp");
	ws_argv(c, a);
	if (!gwconf_bool(c, "bye-on-loss"))
		push(a, "--no-bye-on-loss");
	guard_argv(c, a);
	/* ADDR!PUBLIC: the public name is what the phones see. */
	if (gwconf_get(c, "advertise") != NULL) {
		push(a, "--advertise");
		push(a, gwconf_get(c, "advertise"));
	} else if ((pub = strchr(out, '!')) != NULL) {
		pub++;
		pushf(a, strchr(pub, ':') != NULL && pub[0] != '[' ?
		    "--advertise=[%s]:%u" : "--advertise=%s:%u", pub,
		    uval(c, "tls-port"));
	}
	if (strcmp(gwconf_get(c, "tls-keylog"), "off") != 0) {
		push(a, "--tls-keylog");
		push(a, gwconf_get(c, "tls-keylog"));
	}
	obs_argv(c, a, "metrics");
	for (i = 0; i < uval(c, "verbose"); i++)
		push(a, "-v");
	if (gwconf_bool(c, "allow-readable-key"))
		push(a, "--allow-readable-key");
	if (gwconf_get(c, "sip-tls-term-args") != NULL)
		push_words(a, gwconf_get(c, "sip-tls-term-args"));
}

const char *
gwconf_upstream(const struct gwconf *c, int *tcp)
{
	const char *up = gwconf_get(c, "upstream");

	*tcp = up != NULL && strncmp(up, "tcp:", 4) == 0;
	return up != NULL && *tcp ? up + 4 : up;
}

int
gwconf_argv(const struct gwconf *c, enum gw_child which, const char *prog,
    char ***argv)
{
	struct argv_b a = { NULL, 0, 0 };
	struct net_addr ng;

	*argv = NULL;
	if (gwconf_check(c, NULL, 0) != 0 || gwconf_get(c, "inside") == NULL ||
	    net_addr_parse(slice_cstr(gwconf_get(c, "ng")), &ng) != 0 ||
	    net_addr_port(&ng) == 0 || prog == NULL || which >= GW_NCHILD)
		return E_INVAL;
	if ((a.v = calloc(GW_ARGV_MAX, sizeof(char *))) == NULL)
		return E_NOMEM;
	push(&a, prog);
	if (which == GW_SRTP_BRIDGE)
		srtp_bridge_argv(c, &a);
	else
		sip_tls_term_argv(c, &a);
	if (a.err != 0) {
		gwconf_argv_free(a.v);
		return a.err;
	}
	*argv = a.v;
	return 0;
}

void
gwconf_argv_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

static int
shell_safe(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_@%+=:,./-", *s) == NULL)
			return 0;
	return 1;
}

int
gwconf_shell_quote(char *const *argv, struct buf *out)
{
	size_t i;
	int r;

	for (i = 0; argv[i] != NULL; i++) {
		const char *s = argv[i];

		if (i > 0 && (r = buf_append_u8(out, ' ')) != 0)
			return r;
		if (shell_safe(s)) {
			if ((r = buf_append_cstr(out, s)) != 0)
				return r;
			continue;
		}
		if ((r = buf_append_u8(out, '\'')) != 0)
			return r;
		for (; *s != '\0'; s++) {
			r = *s == '\'' ? buf_append_cstr(out, "'\\''") :
			    buf_append_u8(out, (uint8_t)*s);
			if (r != 0)
				return r;
		}
		if ((r = buf_append_u8(out, '\'')) != 0)
			return r;
	}
	return buf_append_u8(out, '\n');
}

const char *
gwconf_child_name(enum gw_child which)
{
	return which == GW_SRTP_BRIDGE ? "srtp-bridge" :
	    which == GW_SIP_TLS_TERM ? "sip-tls-term" : NULL;
}
