/* test_proxy.c - unit tests for the proxy's routing decisions (lib/sip). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "sip/proxy_int.h"
#include "sip/registrar.h"
#include "sip/sip.h"
#include "t.h"

/*
 * A world of three outside flows (1, 2, 3) stands in for the flow table:
 * each has a token (39 characters, as flow tokens have), a liveness, our
 * local address on it (the outside face 192.0.2.1:5061) and, in
 * contact-rewriting mode, the client's own Contact.
 */
#define NFLOWS 4

struct world {
	int alive[NFLOWS];
	const char *contact[NFLOWS];
};

static char toks[NFLOWS][FLOW_TOKEN_LEN + 1];

static const char *
tok(uint64_t flow)
{
	return toks[flow];
}

static int
w_alive(void *arg, uint64_t flow)
{
	struct world *w = arg;

	return flow > 0 && flow < NFLOWS && w->alive[flow];
}

static int
w_token(void *arg, struct slice t, uint64_t *flow)
{
	uint64_t f;

	(void)arg;
	for (f = 1; f < NFLOWS; f++) {
		if (slice_eq_cstr(t, toks[f])) {
			*flow = f;
			return 0;
		}
	}
	return E_AUTH;
}

static int
w_local(void *arg, uint64_t flow, struct net_addr *local)
{
	(void)arg;
	if (flow == 0 || flow >= NFLOWS)
		return E_NOTFOUND;
	return net_addr_parse_host(SLICE_LIT("192.0.2.1"), 5061, local);
}

static const char *
w_contact(void *arg, uint64_t flow)
{
	struct world *w = arg;

	return flow < NFLOWS ? w->contact[flow] : NULL;
}

static struct world world;
static struct proxy_conf conf;
static struct px_env env;

/* A fresh world and configuration: Path mode, no upstream, no TCP. */
static void
reset(enum proxy_reach reach)
{
	memset(&world, 0, sizeof(world));
	world.alive[1] = world.alive[2] = world.alive[3] = 1;
	memset(&conf, 0, sizeof(conf));
	conf.reach = reach;
	memset(&env, 0, sizeof(env));
	env.conf = &conf;
	env.in_host = "10.0.0.2";
	env.in_port = 5060;
	env.alive = w_alive;
	env.token = w_token;
	env.local = w_local;
	env.contact = w_contact;
	env.arg = &world;
}

static void
set_upstream(const char *host, uint16_t port)
{
	if (net_addr_parse_host(slice_cstr(host), port, &conf.upstream) != 0)
		printf("# bad upstream %s\n", host);
}

static struct net_prefix allow[4];

/* --allow-inside: the networks in `list` ("" for none). */
static void
set_allow(const char *list)
{
	char why[64];

	conf.allow_inside = allow;
	conf.nallow_inside = 0;
	if (list[0] != '\0' && net_prefix_list_parse(slice_cstr(list), allow,
	    4, &conf.nallow_inside, why, sizeof(why)) != 0)
		printf("# bad list %s: %s\n", list, why);
}

static char msgbuf[4096];
static struct sip_msg msg;

/* Parse "METHOD uri" with `extra` header lines; 0 or an error. */
static int
mk(const char *method, const char *uri, const char *extra)
{
	int n = snprintf(msgbuf, sizeof(msgbuf),
	    "%s %s SIP/2.0\r\n"
	    "Via: SIP/2.0/TLS 198.51.100.7:5080;branch=z9hG4bKc1\r\n"
	    "From: <sip:alice@gw.test>;tag=a1\r\n"
	    "%s"
	    "Call-ID: c1@test\r\n"
	    "CSeq: 1 %s\r\n"
	    "Content-Length: 0\r\n\r\n", method, uri, extra, method);

	if (n < 0 || (size_t)n >= sizeof(msgbuf))
		return -1;
	return sip_parse(&msg, slice_make(msgbuf, (size_t)n));
}

/* Route `method uri` (To without tag unless in `extra`). */
static void
route(int from_outside, uint64_t flow, const char *method, const char *uri,
    const char *extra, struct px_route *rt)
{
	char hdrs[2048];

	snprintf(hdrs, sizeof(hdrs), "%s%s", strstr(extra, "To:") != NULL ?
	    "" : "To: <sip:bob@gw.test>\r\n", extra);
	memset(rt, 0xa5, sizeof(*rt));
	if (mk(method, uri, hdrs) != 0) {
		T_OK(0, "parse %s %s", method, uri);
		rt->verdict = -1;
		return;
	}
	px_route_request(&env, &msg, from_outside, flow, 1000, rt);
}

static int
dst_is(const struct px_route *rt, const char *host, uint16_t port)
{
	struct net_addr a;

	return net_addr_parse_host(slice_cstr(host), port, &a) == 0 &&
	    net_addr_eq(&rt->t.dst, &a);
}

static int
ruri_is(const struct px_route *rt, const char *uri)
{
	return slice_eq_cstr(rt->ruri, uri);
}

/* ---- Path (the default) ---- */

static void
test_path(void)
{
	struct px_route rt;
	char uri[128], hdr[256];

	reset(PROXY_PATH);
	set_upstream("10.0.0.9", 5070);
	route(1, 1, "INVITE", "sip:bob@example.com", "", &rt);
	T_EQ_INT(rt.verdict, PX_INSIDE, "path: outside request: inside");
	T_OK(dst_is(&rt, "10.0.0.9", 5070), "path: to the upstream");
	T_EQ_INT(rt.t.tcp, 0, "path: over UDP");
	T_EQ_INT(rt.t.to_flow, 0, "path: not to a flow");

	conf.upstream_tcp = 1;
	route(1, 1, "INVITE", "sip:bob@example.com", "", &rt);
	T_EQ_INT(rt.t.tcp, 0, "path: TCP upstream without inside TCP: UDP");
	env.tcp = 1;
	route(1, 1, "INVITE", "sip:bob@example.com", "", &rt);
	T_EQ_INT(rt.t.tcp, 1, "path: TCP upstream: over TCP");

	/* No upstream: the Request-URI, its transport, where allowed. */
	reset(PROXY_PATH);
	env.tcp = 1;
	route(1, 1, "INVITE", "sip:bob@10.0.0.7:5072;transport=tcp", "", &rt);
	T_EQ_INT(rt.code, 403, "path: no upstream, R-URI not allowed: 403");
	T_OK(rt.why != NULL && strcmp(rt.why, "Request-URI Not Allowed") == 0,
	    "path: no upstream, R-URI not allowed: said so");
	set_allow("10.0.0.0/28");
	route(1, 1, "INVITE", "sip:bob@10.0.0.7:5072;transport=tcp", "", &rt);
	T_EQ_INT(rt.verdict, PX_INSIDE, "path: by R-URI: inside");
	T_OK(dst_is(&rt, "10.0.0.7", 5072), "path: to the R-URI's host:port");
	T_EQ_INT(rt.t.tcp, 1, "path: R-URI says tcp: TCP");
	route(1, 1, "OPTIONS", "sip:10.0.0.7", "", &rt);
	T_OK(dst_is(&rt, "10.0.0.7", 5060), "path: R-URI without port: 5060");
	T_EQ_INT(rt.t.tcp, 0, "path: R-URI without transport: UDP");

	/* A Route to us is popped; the next one is the hop. */
	snprintf(hdr, sizeof(hdr), "Route: <sip:%s@10.0.0.2:5060;lr>, "
	    "<sip:10.0.0.8:5062;transport=tcp;lr>\r\n", tok(1));
	route(1, 1, "BYE", "sip:bob@10.0.0.7", hdr, &rt);
	T_EQ_INT(rt.verdict, PX_INSIDE, "path: routed request: inside");
	T_EQ_INT(rt.nroutes, 1, "path: our Route popped, one");
	T_OK(dst_is(&rt, "10.0.0.8", 5062), "path: to the next Route");
	T_EQ_INT(rt.t.tcp, 1, "path: the next Route's transport");

	/* Our answers. */
	route(1, 1, "INVITE", "sip:bob@10.0.0.2:5060", "", &rt);
	T_EQ_INT(rt.verdict, PX_REPLY, "path: R-URI is us: answered");
	T_EQ_INT(rt.code, 404, "path: R-URI is us: 404");
	route(1, 1, "INVITE", "sip:bob@example.com", "", &rt);
	T_EQ_INT(rt.code, 404, "path: no upstream, name R-URI: 404");
	route(1, 1, "INVITE", "sip:bob@10.0.0.7", "Max-Forwards: 0\r\n", &rt);
	T_EQ_INT(rt.code, 483, "path: Max-Forwards 0: 483");
	route(1, 1, "INVITE", "sips:bob@10.0.0.7", "", &rt);
	T_EQ_INT(rt.code, 480, "path: sips: inward: 480");
	conf.allow_sips = 1;
	route(1, 1, "INVITE", "sips:bob@10.0.0.7", "", &rt);
	T_EQ_INT(rt.verdict, PX_INSIDE, "path: sips: allowed: inside");
	route(1, 1, "INVITE", "sip:bob@10.0.0.7", "Route: <sip:10.0.0.8;lr\r\n",
	    &rt);
	T_EQ_INT(rt.code, 400, "path: bad Route: 400");
	route(1, 1, "INVITE", "sip:bob@10.0.0.7",
	    "Route: <sip:gw.example;lr>\r\n", &rt);
	T_EQ_INT(rt.code, 403, "path: a Route we cannot check: 403");

	/* From inside: the flow the token in our Route names. */
	snprintf(hdr, sizeof(hdr), "Route: <sip:%s@10.0.0.2:5060;lr;ob>\r\n",
	    tok(2));
	route(0, 0, "INVITE", "sip:alice@198.51.100.7:5080;transport=tls",
	    hdr, &rt);
	T_EQ_INT(rt.verdict, PX_FLOW, "path: inside request: to a flow");
	T_EQ_INT(rt.t.flow, 2, "path: the flow of the Path token");
	T_EQ_INT(rt.t.to_flow, 1, "path: to_flow set");
	T_EQ_INT(rt.nroutes, 1, "path: the Path entry popped");
	T_EQ_INT(rt.ruri.len, 0, "path: the R-URI stays");

	/* ... or the token in the Request-URI. */
	snprintf(uri, sizeof(uri), "sip:%s@10.0.0.2:5060", tok(3));
	route(0, 0, "BYE", uri, "", &rt);
	T_EQ_INT(rt.verdict, PX_FLOW, "path: token R-URI: to a flow");
	T_EQ_INT(rt.t.flow, 3, "path: the flow of the R-URI token");

	/* The flow is gone: 430 (RFC 5626). */
	world.alive[2] = 0;
	route(0, 0, "BYE", "sip:alice@198.51.100.7:5080", hdr, &rt);
	T_EQ_INT(rt.verdict, PX_REPLY, "path: gone flow: answered");
	T_EQ_INT(rt.code, 430, "path: gone flow: 430");
	T_EQ_INT(rt.gone, 1, "path: gone flow: said so");

	route(0, 0, "INVITE", "sip:alice@198.51.100.7:5080", "", &rt);
	T_EQ_INT(rt.code, 404, "path: inside, no token: 404");
	route(0, 0, "INVITE", "sip:alice@198.51.100.7:5080",
	    "Route: <sip:10.0.0.5;lr>\r\n", &rt);
	T_EQ_INT(rt.code, 404, "path: inside, a Route not ours: 404");
	route(0, 0, "INVITE", "sip:alice@198.51.100.7:5080",
	    "Max-Forwards: 0\r\n", &rt);
	T_EQ_INT(rt.code, 483, "path: inside, Max-Forwards 0: 483");
}

/* ---- contact rewriting ---- */

static void
test_contact(void)
{
	struct px_route rt;
	char uri[128];

	reset(PROXY_CONTACT);
	set_upstream("10.0.0.9", 5060);
	world.contact[2] = "sip:alice@198.51.100.7:5080;transport=tls";
	snprintf(uri, sizeof(uri), "sip:%s@10.0.0.2:5060", tok(2));
	route(0, 0, "INVITE", uri, "", &rt);
	T_EQ_INT(rt.verdict, PX_FLOW, "contact: rewritten R-URI: to a flow");
	T_EQ_INT(rt.t.flow, 2, "contact: the flow of its token");
	T_OK(ruri_is(&rt, "sip:alice@198.51.100.7:5080;transport=tls"),
	    "contact: the client's own Contact restored");

	snprintf(uri, sizeof(uri), "sip:%s@10.0.0.2:5060", tok(1));
	route(0, 0, "INVITE", uri, "", &rt);
	T_EQ_INT(rt.t.flow, 1, "contact: no Contact known: still its flow");
	T_EQ_INT(rt.ruri.len, 0, "contact: no Contact known: R-URI stays");

	world.alive[2] = 0;
	snprintf(uri, sizeof(uri), "sip:%s@10.0.0.2:5060", tok(2));
	route(0, 0, "INVITE", uri, "", &rt);
	T_EQ_INT(rt.code, 430, "contact: gone flow: 430");

	route(1, 1, "REGISTER", "sip:gw.test", "", &rt);
	T_EQ_INT(rt.verdict, PX_INSIDE, "contact: REGISTER goes inside");
	T_OK(dst_is(&rt, "10.0.0.9", 5060), "contact: to the upstream");
}

/* ---- the built-in registrar ---- */

static int
bind_aor(struct registrar *r, const char *user, const char *contact,
    uint64_t flow)
{
	struct buf *out = buf_new(4096);
	char hdr[256];
	int rc;

	snprintf(hdr, sizeof(hdr), "To: <sip:%s@gw.test>\r\n"
	    "Contact: <%s>\r\n", user, contact);
	if (out == NULL || mk("REGISTER", "sip:gw.test", hdr) != 0)
		rc = -1;
	else
		rc = registrar_register(r, &msg, flow, 1000, 3600, out);
	buf_free(out);
	return rc;
}

static void
test_registrar(void)
{
	struct registrar *reg = registrar_new(100);
	struct px_route rt;
	char hdr[256];

	reset(PROXY_REGISTRAR);
	set_upstream("10.0.0.9", 5060);
	env.reg = reg;
	T_OK(reg != NULL, "registrar: made");
	if (reg == NULL)
		return;
	route(1, 1, "REGISTER", "sip:gw.test", "", &rt);
	T_EQ_INT(rt.verdict, PX_REGISTER, "registrar: REGISTER answered here");

	T_EQ_INT(bind_aor(reg, "bob", "sip:bob@198.51.100.9:5099;transport=tls",
	    2), 0, "registrar: bob bound to flow 2");
	route(0, 0, "INVITE", "sip:bob@10.0.0.2", "", &rt);
	T_EQ_INT(rt.verdict, PX_FLOW, "registrar: inside: to a flow");
	T_EQ_INT(rt.t.flow, 2, "registrar: the bound flow");
	T_OK(ruri_is(&rt, "sip:bob@198.51.100.9:5099;transport=tls"),
	    "registrar: R-URI: the binding's");
	route(0, 0, "INVITE", "sip:carol@10.0.0.2", "", &rt);
	T_EQ_INT(rt.code, 404, "registrar: inside, unknown user: 404");

	/* Outside to outside, by the registrar. */
	route(1, 1, "INVITE", "sip:bob@gw.test", "", &rt);
	T_EQ_INT(rt.verdict, PX_FLOW, "registrar: outside: to bob's flow");
	T_EQ_INT(rt.t.flow, 2, "registrar: outside: the bound flow");
	T_EQ_INT(rt.gone_code, 480, "registrar: outside: 480 if it goes");
	T_OK(ruri_is(&rt, "sip:bob@198.51.100.9:5099;transport=tls"),
	    "registrar: outside: R-URI: the binding's");
	route(1, 1, "INVITE", "sip:carol@gw.test", "", &rt);
	T_EQ_INT(rt.verdict, PX_INSIDE, "registrar: unknown user: inside");
	T_OK(dst_is(&rt, "10.0.0.9", 5060), "registrar: to the upstream");
	route(1, 1, "BYE", "sip:bob@gw.test",
	    "To: <sip:bob@gw.test>;tag=b1\r\n", &rt);
	T_EQ_INT(rt.verdict, PX_INSIDE, "registrar: in-dialog: not by AoR");
	route(1, 1, "ACK", "sip:bob@gw.test",
	    "To: <sip:bob@gw.test>;tag=b1\r\n", &rt);
	T_EQ_INT(rt.verdict, PX_FLOW, "registrar: ACK of a failure: by AoR");
	snprintf(hdr, sizeof(hdr), "Route: <sip:10.0.0.8;lr>\r\n");
	route(1, 1, "INVITE", "sip:bob@gw.test", hdr, &rt);
	T_EQ_INT(rt.code, 403, "registrar: another hop named, not allowed");
	set_allow("10.0.0.8");
	route(1, 1, "INVITE", "sip:bob@gw.test", hdr, &rt);
	T_EQ_INT(rt.verdict, PX_INSIDE, "registrar: another hop named: it");
	T_OK(dst_is(&rt, "10.0.0.8", 5060), "registrar: to that hop");
	set_allow("");

	/* Bound, but on a flow that is gone: 480. */
	world.alive[2] = 0;
	route(0, 0, "INVITE", "sip:bob@10.0.0.2", "", &rt);
	T_EQ_INT(rt.verdict, PX_REPLY, "registrar: dead flow: answered");
	T_EQ_INT(rt.code, 480, "registrar: dead flow: 480");
	route(1, 1, "INVITE", "sip:bob@gw.test", "", &rt);
	T_EQ_INT(rt.code, 480, "registrar: outside, dead flow: 480");
	registrar_free(reg);
}

/* ---- outside to outside, in a dialog ---- */

static void
test_o2o(void)
{
	struct px_route rt;
	char hdr[256];

	reset(PROXY_PATH);
	set_upstream("10.0.0.9", 5060);
	/* Record-Routed outside faces: the far one carries the callee's
	 * token, ours (the caller's) was popped before it. */
	snprintf(hdr, sizeof(hdr), "To: <sip:bob@gw.test>;tag=b1\r\n"
	    "Route: <sip:%s@192.0.2.1:5061;transport=tls;lr>\r\n", tok(2));
	route(1, 1, "BYE", "sip:bob@198.51.100.9:5099;transport=tls", hdr,
	    &rt);
	T_EQ_INT(rt.verdict, PX_FLOW, "o2o: in a dialog: to the other flow");
	T_EQ_INT(rt.t.flow, 2, "o2o: the flow of the Route token");
	T_EQ_INT(rt.gone_code, 430, "o2o: 430 if it goes");
	T_EQ_INT(rt.nroutes, 1, "o2o: our Route popped");
	T_EQ_INT(rt.ruri.len, 0, "o2o: R-URI stays");

	world.alive[2] = 0;
	route(1, 1, "BYE", "sip:bob@198.51.100.9:5099;transport=tls", hdr,
	    &rt);
	T_EQ_INT(rt.verdict, PX_REPLY, "o2o: gone flow: answered");
	T_EQ_INT(rt.code, 430, "o2o: gone flow: 430");

	/* Routes after ours stay the far client's business: to its flow. */
	world.alive[2] = 1;
	snprintf(hdr, sizeof(hdr), "To: <sip:bob@gw.test>;tag=b1\r\n"
	    "Route: <sip:%s@192.0.2.1:5061;transport=tls;lr>, "
	    "<sip:pbx.example;lr>\r\n", tok(2));
	route(1, 1, "BYE", "sip:bob@198.51.100.9:5099;transport=tls", hdr,
	    &rt);
	T_EQ_INT(rt.verdict, PX_FLOW, "o2o: a Route after ours: to the flow");
	T_EQ_INT(rt.t.flow, 2, "o2o: a Route after ours: the token's flow");

	/* Our inside face with a token is a Path, not a dialog outside. */
	world.alive[2] = 1;
	snprintf(hdr, sizeof(hdr),
	    "Route: <sip:%s@10.0.0.2:5060;lr>\r\n", tok(2));
	route(1, 1, "BYE", "sip:bob@10.0.0.7", hdr, &rt);
	T_EQ_INT(rt.verdict, PX_INSIDE, "o2o: inside-face token: inside");

	/* A forged token is not ours: the Route is a hop like any other. */
	snprintf(hdr, sizeof(hdr), "Route: <sip:%.*s@192.0.2.1:5061;"
	    "transport=tls;lr>\r\n", FLOW_TOKEN_LEN - 1, tok(2));
	route(1, 3, "BYE", "sip:bob@10.0.0.7", hdr, &rt);
	T_EQ_INT(rt.verdict, PX_INSIDE, "o2o: forged token: not a flow");
	T_EQ_INT(rt.nroutes, 1, "o2o: our face popped all the same");
}

/* ---- no open relay (issue 18) ---- */

/* Route `hdr` from outside (flow 1): refused with 403 and `why`. */
static void
refused(const char *uri, const char *hdr, const char *why, const char *name)
{
	struct px_route rt;

	route(1, 1, "OPTIONS", uri, hdr, &rt);
	T_EQ_INT(rt.verdict, PX_REPLY, "relay: %s: answered", name);
	T_EQ_INT(rt.code, 403, "relay: %s: 403", name);
	T_OK(rt.why != NULL && strcmp(rt.why, why) == 0, "relay: %s: %s",
	    name, why);
}

/* ... or sent inside to host:port, `npop` of our Route values popped. */
static void
allowed(const char *uri, const char *hdr, const char *host, uint16_t port,
    size_t npop, const char *name)
{
	struct px_route rt;

	route(1, 1, "OPTIONS", uri, hdr, &rt);
	T_EQ_INT(rt.verdict, PX_INSIDE, "relay: %s: inside", name);
	T_OK(dst_is(&rt, host, port), "relay: %s: to %s:%u", name, host,
	    port);
	T_EQ_INT(rt.nroutes, npop, "relay: %s: %zu of ours popped", name,
	    npop);
}

static void
test_relay(void)
{
	char hdr[1024], *p;
	size_t i;
	const char *rna = "Route Not Allowed";

	reset(PROXY_PATH);
	set_upstream("10.0.0.9", 5070);

	/* Refused: any Route that is not us, the upstream or allowed. */
	refused("sip:bob@gw.test", "Route: <sip:127.0.0.6:5080;lr>\r\n", rna,
	    "loose Route to an inside host");
	refused("sip:bob@gw.test", "Route: <sip:127.0.0.6:5080>\r\n", rna,
	    "strict Route to an inside host");
	refused("sip:10.0.0.2:5060", "Route: <sip:127.0.0.6:5080>\r\n", rna,
	    "strict routing through us to an inside host");
	refused("sip:bob@gw.test", "Route: <sip:10.0.0.2:5060;lr>, "
	    "<sip:127.0.0.6:5080;lr>\r\n", rna, "our face, then another");
	snprintf(hdr, sizeof(hdr), "Route: <sip:%s@10.0.0.2:5060;lr>\r\n"
	    "Route: <sip:127.0.0.6;lr>\r\n", tok(1));
	refused("sip:bob@gw.test", hdr, rna, "our token, then another");
	refused("sip:bob@gw.test", "Route: <sip:10.0.0.2:5060;lr>, "
	    "<sip:10.0.0.2:5060;lr>, <sip:10.0.0.2:5060;lr>, "
	    "<sip:10.0.0.2:5060;lr>, <sip:127.0.0.6;lr>\r\n", rna,
	    "four of ours, then another");
	refused("sip:bob@gw.test", "Route: <sip:10.0.0.9:5070;lr>, "
	    "<sip:127.0.0.6;lr>\r\n", rna, "the upstream, then another");
	refused("sip:bob@gw.test", "Route: <sip:10.0.0.9:5071;lr>\r\n", rna,
	    "the upstream's host, another port");
	refused("sip:bob@gw.test", "Route: <sip:10.0.0.2:2223;lr>\r\n", rna,
	    "our inside host, another port");
	refused("sip:bob@gw.test", "Route: <sip:192.0.2.1;lr>\r\n", rna,
	    "our outside host, port 5060");
	refused("sip:bob@gw.test", "Route: <sip:pbx.example;lr>\r\n", rna,
	    "a name we do not resolve");
	refused("sip:bob@gw.test", "Route: <tel:+15551234>\r\n", rna,
	    "not a SIP URI");
	p = hdr + snprintf(hdr, sizeof(hdr), "Route: ");
	for (i = 0; i < 17; i++)
		p += snprintf(p, sizeof(hdr) - (size_t)(p - hdr),
		    "%s<sip:10.0.0.9:5070;lr>", i > 0 ? ", " : "");
	snprintf(p, sizeof(hdr) - (size_t)(p - hdr), "\r\n");
	refused("sip:bob@gw.test", hdr, "Too Many Routes", "17 Route values");

	/* Allowed: ours popped, then the upstream (a Record-Route of its). */
	snprintf(hdr, sizeof(hdr), "Route: <sip:%s@192.0.2.1:5061;"
	    "transport=tls;lr>, <sip:%s@10.0.0.2:5060;lr>, "
	    "<sip:10.0.0.9:5070;lr>\r\n", tok(1), tok(1));
	allowed("sip:bob@10.0.0.30", hdr, "10.0.0.9", 5070, 2,
	    "in a dialog through the upstream");
	/* ... and back to us for another outside client. */
	snprintf(hdr, sizeof(hdr), "Route: <sip:%s@192.0.2.1:5061;"
	    "transport=tls;lr>, <sip:%s@10.0.0.2:5060;lr>, "
	    "<sip:10.0.0.9:5070;lr>, <sip:%s@10.0.0.2:5060;lr>, "
	    "<sip:%s@192.0.2.1:5061;transport=tls;lr>\r\n", tok(1), tok(1),
	    tok(3), tok(3));
	allowed("sip:carol@198.51.100.9:5099;transport=tls", hdr, "10.0.0.9",
	    5070, 2, "outside to outside through the upstream");
	allowed("sip:bob@gw.test", "Route: <sip:10.0.0.9:5070;lr>\r\n",
	    "10.0.0.9", 5070, 0, "a Route to the upstream");
	allowed("sip:bob@gw.test", "Route: <sips:192.0.2.1;lr>\r\n",
	    "10.0.0.9", 5070, 1, "our outside face, sips: (5061)");
	conf.outside_host = "sbc.example";
	allowed("sip:bob@gw.test", "Route: <sip:sbc.example;transport=tls;"
	    "lr>\r\n", "10.0.0.9", 5070, 1, "our advertised name");
	conf.outside_host = NULL;
	/* With an upstream, the Request-URI is the upstream's to route. */
	allowed("sip:bob@127.0.0.6:5080", "", "10.0.0.9", 5070, 0,
	    "an inside R-URI goes to the upstream");
	/* --allow-inside opens a network. */
	set_allow("127.0.0.0/8,::1");
	allowed("sip:bob@gw.test", "Route: <sip:127.0.0.6:5080;lr>\r\n",
	    "127.0.0.6", 5080, 0, "--allow-inside: a Route there");
	refused("sip:bob@gw.test", "Route: <sip:10.0.0.7;lr>\r\n", rna,
	    "--allow-inside: a Route elsewhere");

	/* The registrar without an upstream: flows, else allowed hosts. */
	reset(PROXY_REGISTRAR);
	refused("sip:carol@127.0.0.6:5080", "", "Request-URI Not Allowed",
	    "registrar: an inside R-URI");
	refused("sip:carol@8.8.8.8", "", "Request-URI Not Allowed",
	    "registrar: an outside R-URI");
	refused("sip:carol@gw.test", "Route: <sip:127.0.0.6:5080;lr>\r\n",
	    rna, "registrar: a Route");
	{
		struct px_route rt;

		route(1, 1, "OPTIONS", "sip:carol@gw.test", "", &rt);
		T_EQ_INT(rt.code, 404, "relay: registrar: a name R-URI: 404");
		route(1, 1, "OPTIONS", "sip:carol@10.0.0.2", "", &rt);
		T_EQ_INT(rt.code, 404, "relay: registrar: R-URI us: 404");
	}
	set_allow("127.0.0.6/32");
	allowed("sip:carol@127.0.0.6:5080", "", "127.0.0.6", 5080, 0,
	    "registrar: --allow-inside: an inside R-URI");
	refused("sip:carol@127.0.0.7:5080", "", "Request-URI Not Allowed",
	    "registrar: --allow-inside: another host");
	set_allow("");
}

/* ---- media policy ---- */

static void
test_srtp(void)
{
	struct px_route rt;
	int n;

	reset(PROXY_PATH);
	set_upstream("10.0.0.9", 5060);
	conf.require_srtp = 1;
	n = snprintf(msgbuf, sizeof(msgbuf),
	    "INVITE sip:bob@example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/TLS 198.51.100.7:5080;branch=z9hG4bKc1\r\n"
	    "From: <sip:alice@gw.test>;tag=a1\r\n"
	    "To: <sip:bob@gw.test>\r\n"
	    "Call-ID: c1@test\r\nCSeq: 1 INVITE\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: 13\r\n\r\nv=0\r\ns=-\r\nx\r\n");
	T_OK(n > 0 && sip_parse(&msg, slice_make(msgbuf, (size_t)n)) == 0,
	    "srtp: parsed");
	px_route_request(&env, &msg, 1, 1, 1000, &rt);
	T_EQ_INT(rt.code, 488, "srtp: offer without a=crypto: 488");
	conf.require_srtp = 0;
	px_route_request(&env, &msg, 1, 1, 1000, &rt);
	T_EQ_INT(rt.verdict, PX_INSIDE, "srtp: not required: inside");
}

int
main(void)
{
	uint64_t f;

	for (f = 1; f < NFLOWS; f++) {
		memset(toks[f], 'a' + (int)f, FLOW_TOKEN_LEN);
		toks[f][0] = 'T';
		toks[f][FLOW_TOKEN_LEN] = '\0';
	}
	test_path();
	test_contact();
	test_registrar();
	test_o2o();
	test_relay();
	test_srtp();
	return t_done();
}
