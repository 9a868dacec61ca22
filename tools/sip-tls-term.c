/* sip-tls-term.c - SIP-aware TLS terminator: SIP/TLS outside, SIP/UDP+TCP inside. */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "base/ev.h"
#include "base/net.h"
#include "sip/sipterm.h"
#include "sip/sipterm_check.h"

/* The command line, parsed. */
struct opts {
	struct sipterm_conf c;
	size_t nkeys;
	const char *inside, *advertise;
	char *adv_host;			/* --advertise host: ours to free */
	struct net_addr up;
	int have_up;
	enum log_level lvl;
	struct net_prefix allow[32];	/* --allow-inside */
	size_t nallow;
	char realm[NET_ADDR_STRLEN];	/* the default --auth-realm */
	int check;			/* --check: validate, start nothing */
	const char *origins[16];	/* --ws-origin */
	size_t norigins;
	struct cli_obs obs;		/* --hep, --metrics */
};

static void
usage(void)
{
	printf("usage: %s [options]\n"
	    "  -l, --listen ADDR:PORT        TLS listening address (default 0.0.0.0:5061)\n"
	    "      --listen-wss ADDR:PORT    SIP over secure WebSocket (RFC 7118)\n"
	    "      --listen-ws ADDR:PORT     SIP over plain WebSocket (labs, loopback)\n"
	    "      --ws-origin ORIGIN[,..]   Origins allowed to upgrade (default: any)\n"
	    "      --ws-max-message BYTES    largest WebSocket message (65535)\n"
	    "      --outside-keying sdes|dtls  SRTP keying offered to TLS phones (sdes)\n"
	    "  -c, --cert FILE               certificate chain (PEM; twice: ECDSA + RSA)\n"
	    "  -k, --key FILE                private key for the preceding --cert\n"
	    "      --sni NAME=CERT,KEY       another identity for SNI NAME\n"
	    "      --verify-client MODE      off, optional or required (needs --ca)\n"
	    "      --ca FILE                 CA certificates for client certificates\n"
	    "      --tls-keylog FILE         NSS key log (also $SSLKEYLOGFILE)\n"
	    "      --allow-readable-key      accept a key file group or others may read\n"
	    "  -u, --upstream udp|tcp:ADDR:PORT  the inside SIP server\n"
	    "  -i, --inside ADDR[:PORT]      inside address (default: towards upstream)\n"
	    "      --inside-tcp              SIP over TCP inside too (same address and port)\n"
	    "      --udp-max BYTES           larger requests go over TCP (1300; 0: never)\n"
	    "      --inside-idle S           idle timeout of inside TCP connections (300)\n"
	    "  -a, --advertise HOST[:PORT]   outside name for Via/Record-Route\n"
	    "      --registrar               built-in registrar (no PBX)\n"
	    "      --contact-rewrite         rewrite REGISTER Contacts instead of Path\n"
	    "      --no-path-tag             do not add 'Supported: path'\n"
	    "      --allow-sips-downgrade    relay sips: Request-URIs over UDP\n"
	    "      --allow-inside NET[,NET..]  outside requests may go there too\n"
	    "                                (Route, R-URI without upstream)\n"
	    "  -m, --media ng:ADDR:PORT      media relay (repeat for failover)\n"
	    "      --media-direction OUT,IN  ng direction (interface) names\n"
	    "      --require-srtp            488 for outside offers without a=crypto\n"
	    "      --max-conns N             TLS connections in total (10000)\n"
	    "      --max-per-ip N            TLS connections per address or IPv6 /64 (32; 0: off)\n"
	    "      --handshake-timeout MS    (10000)\n"
	    "      --first-message-timeout S accept to first SIP message (30; 0: off)\n"
	    "      --message-timeout S       first byte to whole message (20; 0: off)\n"
	    "      --buffer-budget MB        partial messages, all connections (64; 0: off)\n"
	    "      --idle-timeout S          (600)\n"
	    "      --max-msg BYTES           largest SIP message (65535)\n"
	    "      --write-queue BYTES       per-connection write queue cap (262144)\n"
	    "      --socket-sndbuf BYTES     kernel send buffer per connection (default: auto)\n"
	    "      --timeout MS              inside transaction timeout, then 408 (32000)\n"
	    "      --no-bye-on-loss          no BYE to the inside when a phone's flow is lost\n"
	    "      --max-dialogs N           calls followed for --bye-on-loss (100000)\n"
	    "      --no-release-buffers      keep OpenSSL's buffers (benchmark baseline)\n"
	    "      --auth FILE               digest credentials (user:realm:HA1 lines)\n"
	    "      --auth-realm NAME         realm (default: --advertise host or --listen address)\n"
	    "      --auth-requests           also 407 out-of-dialog requests without --registrar\n"
	    "      --auth-nonce-life S       a nonce's lifetime, then stale=true (300)\n"
	    "      --ban-fails N             auth failures that ban a source (10; 0: never)\n"
	    "      --ban-window S            ... within S seconds (60)\n"
	    "      --ban-time S              how long a ban lasts (600)\n"
	    "      --rate N[/BURST]          requests a second per source (50/100; 0: no cap)\n"
	    "      --max-sources N           sources tracked for bans and rates (65536)\n"
	    "      --check                   check the configuration (files, keys),\n"
	    "                                bind nothing, exit 0, 1 or 3\n"
	    "      --print-addresses         the bound addresses on stdout too\n"
	    CLI_OBS_USAGE
	    "  -v, --verbose                 more logging (repeat)\n"
	    "  -q, --quiet                   errors only\n"
	    "  -h, --help                    this help\n"
	    "  -V, --version                 version\n", cli_prog());
	exit(XC_OK);
}

static unsigned long
num(const char *opt, const char *s, unsigned long max)
{
	uint64_t v;

	if (slice_to_u64(slice_cstr(s), max, &v) != 0)
		cli_die(XC_USAGE, "%s: bad number '%s'", opt, s);
	return (unsigned long)v;
}

static void
addr(const char *opt, const char *s, uint16_t defport, struct net_addr *a)
{
	if (net_addr_parse_any(slice_cstr(s), defport, a) != 0)
		cli_die(XC_USAGE, "%s: bad address '%s'", opt, s);
}

/* "WHAT ADDR:PORT": where socket `fd` is bound (`arg`: the logger). */
static void
say_bound(void *arg, const char *what, int fd)
{
	struct net_addr a;

	if (net_local_addr(fd, &a) == 0)
		cli_bound(arg, what, &a);
}

enum { O_SNI = 256, O_VERIFY, O_CA, O_KEYLOG, O_REGISTRAR, O_CREWRITE,
    O_NOPATHTAG, O_SIPS, O_MDIR, O_SRTP, O_MAXC, O_MAXIP, O_HST,
    O_IDLE, O_MAXMSG, O_WQ, O_TIMEOUT, O_NORB, O_SNDBUF, O_INTCP,
    O_UDPMAX, O_INIDLE, O_BYE, O_NOBYE, O_MAXDLG, O_ALLOWIN, O_AUTH,
    O_REALM, O_AUTHREQ, O_NONCE, O_BANF, O_BANW, O_BANT, O_RATE, O_MAXSRC,
    O_FIRSTMSG, O_MSGTO, O_BUDGET, O_CHECK, O_RDKEY, O_PRADDR };
/* The WebSocket options (parse_ws()). */
enum { O_WSS = 512, O_WS, O_WSORIGIN, O_WSMAX, O_OKEYING };
/* Long options (the short ones: parse_args()'s getopt string). */
static const struct option lo[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "listen-wss", required_argument, NULL, O_WSS },
	{ "listen-ws", required_argument, NULL, O_WS },
	{ "ws-origin", required_argument, NULL, O_WSORIGIN },
	{ "ws-max-message", required_argument, NULL, O_WSMAX },
	{ "outside-keying", required_argument, NULL, O_OKEYING },
	{ "cert", required_argument, NULL, 'c' },
	{ "key", required_argument, NULL, 'k' },
	{ "sni", required_argument, NULL, O_SNI },
	{ "verify-client", required_argument, NULL, O_VERIFY },
	{ "ca", required_argument, NULL, O_CA },
	{ "tls-keylog", required_argument, NULL, O_KEYLOG },
	{ "upstream", required_argument, NULL, 'u' },
	{ "inside", required_argument, NULL, 'i' },
	{ "advertise", required_argument, NULL, 'a' },
	{ "inside-tcp", no_argument, NULL, O_INTCP },
	{ "udp-max", required_argument, NULL, O_UDPMAX },
	{ "inside-idle", required_argument, NULL, O_INIDLE },
	{ "registrar", no_argument, NULL, O_REGISTRAR },
	{ "contact-rewrite", no_argument, NULL, O_CREWRITE },
	{ "no-path-tag", no_argument, NULL, O_NOPATHTAG },
	{ "allow-sips-downgrade", no_argument, NULL, O_SIPS },
	{ "allow-inside", required_argument, NULL, O_ALLOWIN },
	{ "media", required_argument, NULL, 'm' },
	{ "media-direction", required_argument, NULL, O_MDIR },
	{ "require-srtp", no_argument, NULL, O_SRTP },
	{ "max-conns", required_argument, NULL, O_MAXC },
	{ "max-per-ip", required_argument, NULL, O_MAXIP },
	{ "handshake-timeout", required_argument, NULL, O_HST },
	{ "first-message-timeout", required_argument, NULL, O_FIRSTMSG },
	{ "message-timeout", required_argument, NULL, O_MSGTO },
	{ "buffer-budget", required_argument, NULL, O_BUDGET },
	{ "idle-timeout", required_argument, NULL, O_IDLE },
	{ "max-msg", required_argument, NULL, O_MAXMSG },
	{ "write-queue", required_argument, NULL, O_WQ },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "bye-on-loss", no_argument, NULL, O_BYE },
	{ "no-bye-on-loss", no_argument, NULL, O_NOBYE },
	{ "max-dialogs", required_argument, NULL, O_MAXDLG },
	{ "no-release-buffers", no_argument, NULL, O_NORB },
	{ "socket-sndbuf", required_argument, NULL, O_SNDBUF },
	{ "auth", required_argument, NULL, O_AUTH },
	{ "auth-realm", required_argument, NULL, O_REALM },
	{ "auth-requests", no_argument, NULL, O_AUTHREQ },
	{ "auth-nonce-life", required_argument, NULL, O_NONCE },
	{ "ban-fails", required_argument, NULL, O_BANF },
	{ "ban-window", required_argument, NULL, O_BANW },
	{ "ban-time", required_argument, NULL, O_BANT },
	{ "rate", required_argument, NULL, O_RATE },
	{ "max-sources", required_argument, NULL, O_MAXSRC },
	{ "check", no_argument, NULL, O_CHECK },
	{ "allow-readable-key", no_argument, NULL, O_RDKEY },
	{ "print-addresses", no_argument, NULL, O_PRADDR },
	CLI_OBS_OPTIONS,
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* --allow-inside NET[,NET...], repeatable: the networks added. */
static void
allow_inside(const char *arg, struct opts *o)
{
	const size_t max = sizeof(o->allow) / sizeof(o->allow[0]);
	char why[128];
	size_t n;

	if (net_prefix_list_parse(slice_cstr(arg), o->allow + o->nallow,
	    max - o->nallow, &n, why, sizeof(why)) != 0)
		cli_die(XC_USAGE, "--allow-inside: %s", why);
	o->nallow += n;
	o->c.proxy.allow_inside = o->allow;
	o->c.proxy.nallow_inside = o->nallow;
}

/* --rate N[/BURST] */
static void
rate(const char *s, struct srclimit_conf *l)
{
	const char *sl = strchr(s, '/');
	uint64_t v;

	if (slice_to_u64(slice_make(s, sl != NULL ? (size_t)(sl - s) :
	    strlen(s)), 1000000, &v) != 0)
		cli_die(XC_USAGE, "--rate: want N or N/BURST, not '%s'", s);
	l->rate = (uint32_t)v;
	l->burst = sl != NULL ? (uint32_t)num("--rate", sl + 1, 1000000) :
	    l->rate * 2;
}

/* --ws-origin A[,B...], repeatable: split in place into o->origins. */
static void
ws_origins(char *arg, struct opts *o)
{
	char *p, *save = NULL;
	const size_t max = sizeof(o->origins) / sizeof(o->origins[0]);

	for (p = strtok_r(arg, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		if (o->norigins == max)
			cli_die(XC_USAGE, "--ws-origin: at most %zu", max);
		o->origins[o->norigins++] = p;
	}
	o->c.flows.ws_origins = o->origins;
	o->c.flows.nws_origins = o->norigins;
}

/* A WebSocket listener; a plain one off loopback is worth a warning. */
static void
ws_listen(const char *opt, const char *s, struct net_addr *a, size_t *n)
{
	if (*n == SIPTERM_MAX_LISTEN)
		cli_die(XC_USAGE, "%s: at most %d", opt, SIPTERM_MAX_LISTEN);
	addr(opt, s, 0, &a[*n]);
	if (strcmp(opt, "--listen-ws") == 0 && !net_addr_is_loopback(&a[*n]))
		cli_err("warning: --listen-ws %s: SIP in the clear off "
		    "loopback", s);
	(*n)++;
}

/* Options of SIP over WebSocket and of the outside media keying. */
static int
parse_ws(int ch, struct opts *o)
{
	struct sipterm_conf *c = &o->c;

	switch (ch) {
	case O_WSS: ws_listen("--listen-wss", optarg, c->listen_wss,
		    &c->nlisten_wss); break;
	case O_WS: ws_listen("--listen-ws", optarg, c->listen_ws,
		    &c->nlisten_ws); break;
	case O_WSORIGIN: ws_origins(optarg, o); break;
	case O_WSMAX: c->flows.ws_max_msg = num("--ws-max-message", optarg,
		    1 << 20);
		if (c->flows.ws_max_msg < 1024)
			cli_die(XC_USAGE, "--ws-max-message: at least 1024");
		break;
	case O_OKEYING:
		if (strcmp(optarg, "sdes") == 0)
			c->proxy.outside_dtls = 0;
		else if (strcmp(optarg, "dtls") == 0)
			c->proxy.outside_dtls = 1;
		else
			cli_die(XC_USAGE, "--outside-keying: sdes or dtls");
		break;
	default: return 0;
	}
	return 1;
}

/* Options that guard the edge: digest authentication, bans, rates. */
static int
parse_guard(int ch, struct opts *o)
{
	struct sipterm_conf *c = &o->c;
	struct srclimit_conf *l = &c->limits;

	switch (ch) {
	case O_AUTH: c->auth_file = optarg; break;
	case O_REALM: c->auth_realm = optarg; break;
	case O_AUTHREQ: c->proxy.auth_requests = 1; break;
	case O_NONCE: c->proxy.auth_nonce_s = (uint32_t)num(
		    "--auth-nonce-life", optarg, 86400);
		if (c->proxy.auth_nonce_s == 0)
			cli_die(XC_USAGE, "--auth-nonce-life: at least 1");
		break;
	case O_BANF: l->fails = (uint32_t)num("--ban-fails", optarg, 1000000);
		break;
	case O_BANW: l->window_ms = (uint32_t)num("--ban-window", optarg,
		    86400) * 1000; break;
	case O_BANT: l->ban_ms = (uint32_t)num("--ban-time", optarg,
		    86400 * 7) * 1000; break;
	case O_RATE: rate(optarg, l); break;
	case O_MAXSRC: l->max = num("--max-sources", optarg, 10000000);
		if (l->max == 0)
			cli_die(XC_USAGE, "--max-sources: at least 1");
		break;
	default: return 0;
	}
	return 1;
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	struct sipterm_conf *c = &o->c;
	struct tls_conf *tc = &c->tls;
	struct flow_conf *fc = &c->flows;
	struct proxy_conf *pc = &c->proxy;
	struct tcpconn_conf *tcf = &c->tcp;
	struct mediactl_conf *mcf = &c->media;
	int ch;

	memset(o, 0, sizeof(*o));
	o->lvl = LOG_INFO;
	pc->tcp_switch = 1300;
	pc->bye_on_loss = 1;
	/* Safe on the internet: 10 failures in a minute ban for 10 minutes;
	 * 50 requests a second, 100 at once, per source. */
	c->limits = (struct srclimit_conf){ 65536, 50, 100, 10, 60000,
	    600000 };
	fc->max_per_ip = 32;
	tc->key_mode_strict = 1;
	while ((ch = getopt_long(argc, argv, "l:c:k:u:i:a:m:vqhV", lo, NULL))
	    != -1) {
		if (parse_guard(ch, o) || parse_ws(ch, o) ||
		    cli_obs_opt(ch, optarg, &o->obs))
			continue;
		switch (ch) {
		case 'l':
			if (c->nlisten == SIPTERM_MAX_LISTEN)
				cli_die(XC_USAGE, "--listen: at most %d",
				    SIPTERM_MAX_LISTEN);
			addr("--listen", optarg, 5061,
			    &c->listen[c->nlisten++]);
			break;
		case 'c':
			if (tc->ncerts == TLS_MAX_CERTS)
				cli_die(XC_USAGE, "--cert: at most %d",
				    TLS_MAX_CERTS);
			tc->certs[tc->ncerts++].cert = optarg;
			break;
		case 'k':
			if (o->nkeys >= tc->ncerts)
				cli_die(XC_USAGE, "--key: give --cert first");
			tc->certs[o->nkeys++].key = optarg;
			break;
		case O_SNI: {
			char *eq = strchr(optarg, '='), *cm;
			if (eq == NULL || (cm = strchr(eq, ',')) == NULL ||
			    tc->nsni == TLS_MAX_SNI)
				cli_die(XC_USAGE, "--sni: want NAME=CERT,KEY");
			*eq = '\0';
			*cm = '\0';
			tc->sni[tc->nsni++] = (struct tls_sni){ optarg,
			    { eq + 1, cm + 1 } };
			break;
		}
		case O_VERIFY:
			if (strcmp(optarg, "off") == 0)
				tc->verify = TLS_VERIFY_OFF;
			else if (strcmp(optarg, "optional") == 0)
				tc->verify = TLS_VERIFY_OPTIONAL;
			else if (strcmp(optarg, "required") == 0)
				tc->verify = TLS_VERIFY_REQUIRED;
			else
				cli_die(XC_USAGE, "--verify-client: off, "
				    "optional or required");
			break;
		case O_CA: tc->ca_file = optarg; break;
		case O_KEYLOG: tc->keylog = optarg; break;
		case 'u':
			if (strncmp(optarg, "tcp:", 4) == 0)
				pc->upstream_tcp = c->inside_tcp = 1;
			else if (strncmp(optarg, "udp:", 4) != 0)
				cli_die(XC_USAGE, "--upstream: want "
				    "udp:ADDR:PORT or tcp:ADDR:PORT");
			addr("--upstream", optarg + 4, 5060, &o->up);
			o->have_up = 1;
			break;
		case O_INTCP: c->inside_tcp = 1; break;
		case O_UDPMAX: pc->tcp_switch = num("--udp-max", optarg,
			    1 << 20); break;
		case O_INIDLE: tcf->idle_ms = (uint32_t)num("--inside-idle",
			    optarg, 86400) * 1000;
			if (tcf->idle_ms == 0)
				cli_die(XC_USAGE, "--inside-idle: at least 1");
			break;
		case 'i': o->inside = optarg; break;
		case 'a': o->advertise = optarg; break;
		case O_REGISTRAR: pc->reach = PROXY_REGISTRAR; break;
		case O_CREWRITE: pc->reach = PROXY_CONTACT; break;
		case O_NOPATHTAG: pc->no_path_tag = 1; break;
		case O_SIPS: pc->allow_sips = 1; break;
		case O_ALLOWIN: allow_inside(optarg, o); break;
		case 'm':
			if (strncmp(optarg, "ng:", 3) != 0 || mcf->nrelay == 4)
				cli_die(XC_USAGE, "--media: want ng:ADDR:PORT "
				    "(at most 4)");
			addr("--media", optarg + 3, 2223,
			    &mcf->relay[mcf->nrelay++]);
			break;
		case O_MDIR: {
			char *cm = strchr(optarg, ',');
			if (cm == NULL)
				cli_die(XC_USAGE, "--media-direction: OUT,IN");
			*cm = '\0';
			mcf->dir_outside = optarg;
			mcf->dir_inside = cm + 1;
			break;
		}
		case O_SRTP: pc->require_srtp = 1; break;
		case O_MAXC: fc->max_conns = num("--max-conns", optarg,
			    1000000); break;
		case O_MAXIP: fc->max_per_ip = num("--max-per-ip", optarg,
			    1000000); break;
		case O_HST: fc->handshake_ms = (uint32_t)num(
			    "--handshake-timeout", optarg, 3600000); break;
		case O_FIRSTMSG: fc->first_msg_ms = (uint32_t)num(
			    "--first-message-timeout", optarg, 86400) * 1000;
			if (fc->first_msg_ms == 0)
				fc->first_msg_ms = FLOW_NEVER;
			break;
		case O_MSGTO: fc->msg_ms = (uint32_t)num("--message-timeout",
			    optarg, 86400) * 1000;
			if (fc->msg_ms == 0)
				fc->msg_ms = FLOW_NEVER;
			break;
		case O_BUDGET: fc->buffer_budget = (size_t)num(
			    "--buffer-budget", optarg, 1 << 20) << 20;
			if (fc->buffer_budget == 0)
				fc->buffer_budget = SIZE_MAX;
			break;
		case O_IDLE: fc->idle_ms = (uint32_t)num("--idle-timeout",
			    optarg, 86400) * 1000; break;
		case O_MAXMSG: fc->max_msg = num("--max-msg", optarg, 1 << 20);
			break;
		case O_WQ: tc->wq_max = num("--write-queue", optarg, 1 << 26);
			break;
		case O_TIMEOUT: pc->timeout_ms = (uint32_t)num("--timeout",
			    optarg, 3600000); break;
		case O_NORB: tc->no_release_buffers = 1; break;
		case O_BYE: pc->bye_on_loss = 1; break;
		case O_NOBYE: pc->bye_on_loss = 0; break;
		case O_MAXDLG: pc->max_dialogs = num("--max-dialogs", optarg,
			    100000000);
			if (pc->max_dialogs == 0)
				cli_die(XC_USAGE, "--max-dialogs: at least 1");
			break;
		case O_SNDBUF: fc->sndbuf = (int)num("--socket-sndbuf", optarg,
			    1 << 26); break;
		case O_CHECK: o->check = 1; break;
		case O_RDKEY: tc->key_mode_strict = 0; break;
		case O_PRADDR: cli_print_addresses(1); break;
		case 'v': if (o->lvl < LOG_DEBUG) o->lvl++; break;
		case 'q': o->lvl = LOG_ERR; break;
		case 'h': usage(); break;
		case 'V': cli_version(); break;
		default: cli_usage_hint();
		}
	}
	if (optind != argc)
		cli_usage_hint();
	if (tc->ncerts == 0 || o->nkeys != tc->ncerts)
		cli_die(XC_USAGE, "--cert and --key are required (in pairs)");
	if (tc->verify != TLS_VERIFY_OFF && tc->ca_file == NULL)
		cli_die(XC_USAGE, "--verify-client needs --ca");
	if (tc->keylog == NULL && getenv("SSLKEYLOGFILE") != NULL &&
	    getenv("SSLKEYLOGFILE")[0] != '\0')
		tc->keylog = getenv("SSLKEYLOGFILE");
	if (c->nlisten == 0)
		addr("--listen", "0.0.0.0:5061", 5061,
		    &c->listen[c->nlisten++]);
}

/* What the options leave open: the upstream, the inside face, our name. */
static void
finish_conf(struct opts *o)
{
	struct sipterm_conf *c = &o->c;
	struct proxy_conf *pc = &c->proxy;

	if (o->have_up)
		pc->upstream = o->up;
	/* The inside face: given, or the source address towards upstream. */
	if (o->inside != NULL)
		addr("--inside", o->inside, 0, &pc->inside);
	else if (o->have_up && net_route_src(&o->up, &pc->inside) == 0)
		;
	else if (!net_addr_is_any(&c->listen[0])) {
		pc->inside = c->listen[0];
		net_addr_set_port(&pc->inside, 0);
	} else
		addr("--inside", "127.0.0.1:0", 0, &pc->inside);
	if (o->advertise != NULL) {
		char *colon = strrchr(o->advertise, ':');
		o->adv_host = strdup(o->advertise);
		if (o->adv_host == NULL)
			cli_die(XC_FAIL, "out of memory");
		if (colon != NULL && strchr(colon, ']') == NULL &&
		    strchr(o->advertise, ':') == colon) {
			o->adv_host[colon - o->advertise] = '\0';
			pc->outside_port = (uint16_t)num("--advertise",
			    colon + 1, 65535);
		}
		pc->outside_host = o->adv_host;
	}
	/* The realm: given, else our outside name or address. */
	if (c->auth_realm == NULL && pc->outside_host != NULL)
		c->auth_realm = pc->outside_host;
	else if (c->auth_realm == NULL) {
		if (net_addr_is_any(&c->listen[0]) ||
		    net_addr_format_host(&c->listen[0], o->realm,
		    sizeof(o->realm)) != 0)
			snprintf(o->realm, sizeof(o->realm), "sbckit");
		c->auth_realm = o->realm;
	}
	/* Nothing to count: no table at all. */
	if (c->limits.rate == 0 && c->limits.fails == 0)
		c->limits.max = 0;
}

/* The message and exit code for a failed set-up step. */
static void __attribute__((noreturn))
die_setup(const struct sipterm_fail *f)
{
	switch (f->step) {
	case SIPTERM_TLS:
		if (f->err == E_PERM)
			cli_die(XC_CRYPTO, "tls: %s (--allow-readable-key "
			    "accepts it)", f->why);
		cli_die(f->err == E_IO ? XC_FAIL : XC_CRYPTO, "tls: %s",
		    sbk_strerror(f->err));
	case SIPTERM_FLOWS: cli_die(XC_FAIL, "flows: out of memory");
	case SIPTERM_LISTEN: cli_die(XC_FAIL, "listen: %s", strerror(f->sys));
	case SIPTERM_LISTEN_ADD: cli_die(XC_FAIL, "listen: too many");
	case SIPTERM_INSIDE:
		cli_die(XC_FAIL, "inside: bind: %s", strerror(f->sys));
	case SIPTERM_PROXY:
		cli_die(XC_FAIL, "proxy: %s", sbk_strerror(f->err));
	case SIPTERM_TCP: cli_die(XC_FAIL, "inside tcp: out of memory");
	case SIPTERM_TCP_LISTEN: cli_die(XC_FAIL, "inside tcp: listen failed");
	case SIPTERM_MEDIA:
		cli_die(XC_FAIL, "media: %s", sbk_strerror(f->err));
	case SIPTERM_AUTH:
		cli_die(f->err == E_IO ? XC_FAIL : XC_INPUT, "auth: %s%s%s",
		    f->sys != 0 ? strerror(f->sys) : sbk_strerror(f->err),
		    f->why[0] ? ": " : "", f->why);
	case SIPTERM_LIMITS: cli_die(XC_FAIL, "limits: out of memory");
	default: cli_die(XC_FAIL, "signals: cannot install handlers");
	}
}

/* --check: one line a check on stdout; the worst result. */
struct check_res {
	int fail, malformed;
	int strict;		/* a readable key fails, not warns */
};

static void
say_check(void *arg, const char *what, int err, const char *detail)
{
	struct check_res *cr = arg;
	const char *tag = "ok";

	if (err != 0 && strcmp(what, "key-mode") == 0 && !cr->strict)
		tag = "warn";
	else if (err != 0) {
		tag = "FAIL";
		cr->fail = 1;
		if (strcmp(what, "auth") == 0 && err != E_IO)
			cr->malformed = 1;
	}
	printf("%s %s: %s\n", tag, what, detail);
}

static int
check_only(const struct opts *o, const struct logger *lg)
{
	struct check_res cr = { 0, 0, o->c.tls.key_mode_strict };
	struct sipterm_fail f;
	char s[NET_ADDR_STRLEN];
	size_t i;

	for (i = 0; i < o->c.nlisten; i++)
		if (net_addr_format(&o->c.listen[i], s, sizeof(s)) == 0)
			printf("ok listen: %s (not bound)\n", s);
	for (i = 0; i < o->c.nlisten_wss; i++)
		if (net_addr_format(&o->c.listen_wss[i], s, sizeof(s)) == 0)
			printf("ok listen-wss: %s (not bound)\n", s);
	for (i = 0; i < o->c.nlisten_ws; i++)
		if (net_addr_format(&o->c.listen_ws[i], s, sizeof(s)) == 0)
			printf("ok listen-ws: %s (not bound)\n", s);
	if (net_addr_format(&o->c.proxy.inside, s, sizeof(s)) == 0)
		printf("ok inside: %s (not bound)\n", s);
	if (sipterm_check(&o->c, lg, say_check, &cr, &f) != 0)
		cr.fail = 1;
	fflush(stdout);
	return cr.malformed ? XC_INPUT : cr.fail ? XC_FAIL : XC_OK;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct logger lg, quiet;
	struct ev_loop *loop;
	struct sipterm *st;
	struct sipterm_fail f;
	int err;

	cli_init(argv[0]);
	parse_args(argc, argv, &o);
	finish_conf(&o);
	cli_logger(&lg, o.lvl);
	/* With SSL_MODE_RELEASE_BUFFERS every TLS record mallocs and frees a
	 * ~17 KiB buffer; glibc's default 128 KiB trim threshold then gives
	 * memory back to the kernel (brk) over and over, which cost ~60% more
	 * CPU per call (bench/sip-tls-term.sh). Trim only above 4 MiB. */
	(void)mallopt(M_TRIM_THRESHOLD, 4 << 20);

	/* Everything is loaded and checked before a socket is bound: a bad
	 * key or credentials file fails alone, not after a port is taken.
	 * Warnings are left to sipterm_new(), which says them once. */
	quiet = lg;
	quiet.level = LOG_ERR;
	if (o.check)
		return check_only(&o, &quiet);
	if (sipterm_check(&o.c, &quiet, NULL, NULL, &f) != 0)
		die_setup(&f);
	loop = cli_loop();
	if ((st = sipterm_new(loop, &o.c, &lg, say_bound, &lg, &f)) == NULL)
		die_setup(&f);
	cli_obs_start(&o.obs, loop, &lg);
	if (sipterm_observe(st, o.obs.hep, o.obs.metrics) != 0)
		cli_die(XC_FAIL, "--metrics: too many collectors");
	cli_obs_serve(&o.obs, loop, &lg);
	fflush(stdout);		/* --print-addresses: all lines at once */
	err = sipterm_run(st);
	sipterm_free(st);
	cli_obs_stop(&o.obs);
	ev_free(loop);
	free(o.adv_host);
	return err == 0 ? XC_OK : XC_FAIL;
}
