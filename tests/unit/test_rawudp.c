/* test_rawudp.c - lib/rawudp: headers written in place and sent from a raw
 * socket arrive at a plain UDP socket as a datagram from the given source
 * port, IPv4 and IPv6, odd and even lengths (loopback checks the UDP
 * checksum: a wrong one is dropped); the checksum also equals a plain
 * RFC 1071 sum taken here; bad arguments get E_INVAL. Needs CAP_NET_RAW:
 * skipped without. */
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>

#include "base/net.h"
#include "relay/rawudp.h"
#include "t.h"

/* RFC 1071 the slow way: big-endian 16-bit words, folded. */
static uint16_t
ref_csum(const uint8_t *src, const uint8_t *dst, size_t alen,
    const uint8_t *udp, size_t ulen)
{
	uint32_t s = 0;

	for (size_t i = 0; i < alen; i += 2)
		s += (uint32_t)(src[i] << 8 | src[i + 1]) +
		    (uint32_t)(dst[i] << 8 | dst[i + 1]);
	s += IPPROTO_UDP + (uint32_t)ulen;
	for (size_t i = 0; i < ulen; i += 2)
		s += (uint32_t)(udp[i] << 8) +
		    (i + 1 < ulen ? udp[i + 1] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void
test_family(const char *host, int family)
{
	struct net_addr any, rx_addr, src, from;
	uint8_t buf[2048], got[2048];
	int raw, rx, e;

	if (net_addr_parse_host(slice_cstr(host), 0, &any) != 0 ||
	    net_udp_bind(&any, 0, &rx) != 0 ||
	    net_local_addr(rx, &rx_addr) != 0) {
		T_OK(1, "# skip %s not usable here", host);
		return;
	}
	e = rawudp_open(family, &raw);
	if (e == E_PERM) {
		T_OK(1, "# skip no CAP_NET_RAW");
		close(rx);
		return;
	}
	T_EQ_INT(e, 0, "%s: rawudp_open", host);
	src = any;
	net_addr_set_port(&src, 40002);
	for (size_t len = 0; len <= 173; len += len < 12 ? 1 : 53) {
		size_t head = 64, hl;
		uint8_t *payload = buf + head;
		struct net_pkt p;
		struct net_addr to = rx_addr;
		const uint8_t *sa, *da;
		size_t alen;

		for (size_t i = 0; i < len; i++)
			payload[i] = (uint8_t)(i * 7 + len);
		e = rawudp_frame(payload, len, head, &src, &rx_addr);
		hl = family == AF_INET ? RAWUDP_HEAD4 : RAWUDP_HEAD6;
		T_EQ_INT(e, (int)hl, "%s: %zu bytes framed", host, len);
		if (family == AF_INET) {
			sa = (const uint8_t *)&src.u.in4.sin_addr;
			da = (const uint8_t *)&rx_addr.u.in4.sin_addr;
			alen = 4;
		} else {
			sa = src.u.in6.sin6_addr.s6_addr;
			da = rx_addr.u.in6.sin6_addr.s6_addr;
			alen = 16;
		}
		{
			uint8_t *udp = payload - 8;
			uint16_t c = (uint16_t)(udp[6] << 8 | udp[7]);
			uint8_t z[2048];

			memcpy(z, udp, len + 8);
			z[6] = z[7] = 0;
			T_EQ_INT(c == 0xffff ? 0 : c, ref_csum(sa, da, alen, z,
			    len + 8), "%s: %zu bytes: checksum as RFC 1071",
			    host, len);
		}
		net_addr_set_port(&to, 0);
		p = (struct net_pkt){ payload - hl, 0, len + hl, to, 0 };
		T_EQ_INT(net_send(raw, &p), 0, "%s: %zu bytes sent", host,
		    len);
		p = (struct net_pkt){ got, sizeof(got), 0, { .len = 0 }, 0 };
		e = -1;
		for (int w = 0; w < 100 && e != 0; w++) {
			e = net_recv(rx, &p);
			if (e != 0)
				usleep(2000);
		}
		from = p.addr;
		T_OK(e == 0 && p.len == len && memcmp(got, payload, len) == 0,
		    "%s: %zu bytes arrive as sent", host, len);
		T_OK(e == 0 && net_addr_eq(&from, &src),
		    "%s: %zu bytes: from the given source port", host, len);
	}
	close(raw);
	close(rx);
}

static void
test_inval(void)
{
	struct net_addr a4, b4, a6, any4, mapped;
	uint8_t buf[2048];

	T_OK(net_addr_parse(slice_cstr("127.0.0.1:1000"), &a4) == 0 &&
	    net_addr_parse(slice_cstr("127.0.0.2:2000"), &b4) == 0 &&
	    net_addr_parse(slice_cstr("[::1]:1000"), &a6) == 0 &&
	    net_addr_parse(slice_cstr("0.0.0.0:1000"), &any4) == 0 &&
	    net_addr_parse(slice_cstr("[::ffff:127.0.0.1]:1000"), &mapped)
	    == 0, "addresses");
	T_EQ_INT(rawudp_frame(buf + 64, 10, 64, &a4, &a6), E_INVAL,
	    "families differ");
	T_EQ_INT(rawudp_frame(buf + 64, 10, RAWUDP_HEAD4 - 1, &a4, &b4),
	    E_INVAL, "too little head room");
	T_EQ_INT(rawudp_frame(buf + 64, 10, RAWUDP_HEAD4, &a4, &b4),
	    RAWUDP_HEAD4, "just enough head room");
	T_EQ_INT(rawudp_frame(buf + 64, 10, RAWUDP_HEAD6 - 1, &a6, &a6),
	    E_INVAL, "too little head room for IPv6");
	T_EQ_INT(rawudp_frame(buf + 64, RAWUDP_MAX_PAYLOAD + 1, 64, &a4,
	    &b4), E_INVAL, "too big: it would need fragments");
	T_EQ_INT(rawudp_frame(buf + 64, 10, 64, &any4, &b4), E_INVAL,
	    "a wildcard source is the port socket's");
	T_EQ_INT(rawudp_frame(buf + 64, 10, 64, &mapped, &a6), E_INVAL,
	    "a v4-mapped source is the port socket's");
	T_EQ_INT(rawudp_frame(buf + 64, 10, 64, &(struct net_addr){ .len = 0 },
	    &b4), E_INVAL, "unset source");
	T_EQ_INT(rawudp_open(AF_UNIX, &(int){ 0 }), E_INVAL, "AF_UNIX");
}

int
main(void)
{
	test_inval();
	test_family("127.0.0.1", AF_INET);
	test_family("::1", AF_INET6);
	return t_done();
}
