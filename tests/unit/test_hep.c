/* test_hep.c - unit tests for HEPv3: a vector written from the spec, round
 * trips, refused input, and the non-blocking sender. */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "base/hep.h"
#include "t.h"

static void
addr(const char *s, struct net_addr *a)
{
	if (net_addr_parse(slice_cstr(s), a) != 0)
		memset(a, 0, sizeof(*a));
}

/*
 * The expected bytes, chunk by chunk as the HEP3 specification lays them
 * out (vendor 0, type, length including the 6-byte chunk header, data;
 * integers big-endian), in sngrep's fixed order.
 */
static const uint8_t want_v4[] = {
	'H', 'E', 'P', '3', 0x00, 0x00,	/* length patched below */
	0, 0, 0, 1, 0, 7, 2,			/* family: IPv4 */
	0, 0, 0, 2, 0, 7, 22,			/* protocol: TLS (22) */
	0, 0, 0, 7, 0, 8, 0x13, 0xc5,		/* src port 5061 */
	0, 0, 0, 8, 0, 8, 0x13, 0xc4,		/* dst port 5060 */
	0, 0, 0, 9, 0, 10, 0x5f, 0x5e, 0x10, 0x00,	/* sec */
	0, 0, 0, 10, 0, 10, 0x00, 0x01, 0xe2, 0x40,	/* usec 123456 */
	0, 0, 0, 11, 0, 7, 1,			/* type: SIP */
	0, 0, 0, 12, 0, 10, 0, 0, 0x07, 0xd1,	/* capture id 2001 */
	0, 0, 0, 3, 0, 10, 192, 0, 2, 1,	/* src 192.0.2.1 */
	0, 0, 0, 4, 0, 10, 198, 51, 100, 7,	/* dst 198.51.100.7 */
	0, 0, 0, 14, 0, 12, 's', 'e', 'c', 'r', 'e', 't',	/* key */
	0, 0, 0, 15, 0, 11, 'H', 'E', 'L', 'L', 'O',	/* payload */
	0, 0, 0, 17, 0, 9, 'c', 'i', 'd',	/* correlation */
};

static void
vector(void)
{
	struct hep_msg m, d;
	uint8_t out[512], want[sizeof(want_v4)];
	size_t len = 0;

	memset(&m, 0, sizeof(m));
	addr("192.0.2.1:5061", &m.src);
	addr("198.51.100.7:5060", &m.dst);
	m.proto = HEP_IPPROTO_TLS;
	m.type = HEP_TYPE_SIP;
	m.sec = 0x5f5e1000;
	m.usec = 123456;
	m.capture_id = 2001;
	m.auth = slice_cstr("secret");
	m.payload = slice_cstr("HELLO");
	m.correlation = slice_cstr("cid");
	memcpy(want, want_v4, sizeof(want));
	want[5] = sizeof(want);
	T_EQ_INT(hep_encode(&m, out, sizeof(out), &len), 0, "encode");
	T_EQ_MEM(out, len, want, sizeof(want), "bytes as the spec lays them");
	T_EQ_INT(hep_encode(&m, out, sizeof(want) - 1, &len), E_BIG,
	    "one byte short: E_BIG");
	T_EQ_INT(hep_decode(slice_make(want, sizeof(want)), &d), 0, "decode");
	T_OK(net_addr_eq(&d.src, &m.src) && net_addr_eq(&d.dst, &m.dst),
	    "addresses and ports back");
	T_OK(d.proto == 22 && d.type == 1 && d.sec == m.sec &&
	    d.usec == m.usec && d.capture_id == 2001, "fixed chunks back");
	T_OK(slice_eq_cstr(d.auth, "secret") &&
	    slice_eq_cstr(d.payload, "HELLO") &&
	    slice_eq_cstr(d.correlation, "cid"), "strings back");
}

static void
v6_and_mapped(void)
{
	struct hep_msg m, d;
	uint8_t out[512];
	size_t len;

	memset(&m, 0, sizeof(m));
	addr("[2001:db8::1]:5061", &m.src);
	addr("[2001:db8::2]:5060", &m.dst);
	m.proto = HEP_IPPROTO_UDP;
	m.payload = slice_cstr("x");
	T_EQ_INT(hep_encode(&m, out, sizeof(out), &len), 0, "IPv6 encode");
	T_EQ_INT(hep_decode(slice_make(out, len), &d), 0, "IPv6 decode");
	T_OK(net_addr_eq(&d.src, &m.src) && net_addr_eq(&d.dst, &m.dst),
	    "IPv6 addresses back");
	/* A dual-stack socket's IPv4 peer against an IPv4 face. */
	addr("[::ffff:127.0.0.1]:4000", &m.src);
	addr("127.0.0.2:5060", &m.dst);
	T_EQ_INT(hep_encode(&m, out, sizeof(out), &len), 0, "mapped encode");
	T_EQ_INT(hep_decode(slice_make(out, len), &d), 0, "mapped decode");
	T_OK(net_addr_family(&d.src) == AF_INET &&
	    net_addr_port(&d.src) == 4000, "IPv4-mapped sent as IPv4");
	addr("[2001:db8::1]:1", &m.src);
	T_EQ_INT(hep_encode(&m, out, sizeof(out), &len), E_INVAL,
	    "mixed families refused");
}

static void
refused(void)
{
	uint8_t b[sizeof(want_v4) + 16];
	struct hep_msg d;
	size_t n = sizeof(want_v4);

	memcpy(b, want_v4, n);
	b[5] = (uint8_t)n;
	T_EQ_INT(hep_decode(slice_make(b, 5), &d), E_SHORT, "short header");
	T_EQ_INT(hep_decode(slice_make(b, n - 1), &d), E_SHORT,
	    "length beyond the datagram");
	b[0] = 'X';
	T_EQ_INT(hep_decode(slice_make(b, n), &d), E_SYNTAX, "not HEP3");
	b[0] = 'H';
	b[11] = 5;		/* the family chunk's length: 5 < 6 */
	T_EQ_INT(hep_decode(slice_make(b, n), &d), E_SYNTAX,
	    "chunk length under its header");
	b[11] = 8;		/* family chunk of 2 bytes swallows one */
	T_OK(hep_decode(slice_make(b, n), &d) < 0, "bad fixed size refused");
	b[11] = 7;
	/* An unknown vendor's chunk is skipped. */
	memcpy(b + n, "\x00\x09\x00\x01\x00\x08zz", 8);
	b[5] = (uint8_t)(n + 8);
	T_EQ_INT(hep_decode(slice_make(b, n + 8), &d), 0,
	    "other vendor's chunk skipped");
	/* A truncated chunk at the end. */
	memcpy(b + n, "\x00\x00\x00\x0f\x00\x40", 6);
	b[5] = (uint8_t)(n + 6);
	T_EQ_INT(hep_decode(slice_make(b, n + 6), &d), E_SHORT,
	    "chunk beyond the end");
}

static void
sender(void)
{
	struct hep_conf c;
	struct hep_msg m, d;
	struct hep_stats st;
	struct hep *h;
	struct net_addr lo;
	uint8_t rx[2048];
	int fd, err;
	ssize_t n;

	memset(&c, 0, sizeof(c));
	T_EQ_INT(hep_url_parse("udp:127.0.0.1:9060", &c), 0, "url udp");
	T_EQ_INT(hep_url_parse("tcp:127.0.0.1:9060", &c), E_UNSUPPORTED,
	    "url tcp unsupported");
	T_EQ_INT(hep_url_parse("127.0.0.1:9060", &c), E_SYNTAX,
	    "url without transport");
	addr("127.0.0.1:0", &lo);
	if (net_udp_bind(&lo, 0, &fd) != 0 || net_local_addr(fd, &lo) != 0) {
		T_OK(0, "bind");
		return;
	}
	net_set_bufs(fd, 4096, 0);
	c.dst = lo;
	c.capture_id = 7;
	c.auth = "pw";
	h = hep_new(&c, &err);
	T_OK(h != NULL, "sender");
	if (h == NULL)
		return;
	memset(&m, 0, sizeof(m));
	addr("10.0.0.1:1", &m.src);
	addr("10.0.0.2:2", &m.dst);
	m.payload = slice_cstr("INVITE");
	T_EQ_INT(hep_send(h, &m), 0, "send");
	n = recv(fd, rx, sizeof(rx), 0);
	T_OK(n > 0 && hep_decode(slice_make(rx, (size_t)n), &d) == 0 &&
	    d.capture_id == 7 && slice_eq_cstr(d.auth, "pw") && d.sec > 0,
	    "received: id, key and time set");
	hep_stats(h, &st);
	T_OK(st.sent == 1 && st.dropped == 0 && st.errors == 0,
	    "counted as sent");
	m.payload = slice_make(rx, 0);
	addr("[::1]:1", &m.src);
	T_EQ_INT(hep_send(h, &m), E_INVAL, "unencodable: refused");
	hep_stats(h, &st);
	T_EQ_INT(st.errors, 1, "and counted");
	hep_free(h);
	hep_free(NULL);
	close(fd);
}

int
main(void)
{
	vector();
	v6_and_mapped();
	refused();
	sender();
	return t_done();
}
