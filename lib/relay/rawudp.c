/* rawudp.c - IP and UDP headers written in place, sent from one raw socket. */
#include <errno.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "relay/rawudp.h"

int
rawudp_open(int family, int *fd)
{
	int s;

	*fd = -1;
	if (family != AF_INET && family != AF_INET6)
		return E_INVAL;
	/* IPPROTO_RAW: IP_HDRINCL (IPV6_HDRINCL) implied, nothing received */
	s = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_RAW);
	if (s < 0)
		return errno == EPERM || errno == EACCES ? E_PERM : E_IO;
	*fd = s;
	return 0;
}

/* acc + w in ones' complement arithmetic on 64 bits (end-around carry). */
static inline uint64_t
add1c(uint64_t acc, uint64_t w)
{
	acc += w;
	return acc + (acc < w);
}

/* The ones' complement sum of n bytes, 64 bits at a time, not folded
 * (RFC 1071: any word size folds to the same 16-bit sum). */
static uint64_t
sum_bytes(uint64_t acc, const uint8_t *p, size_t n)
{
	uint64_t w;
	uint8_t tail[8] = { 0 };

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		acc = add1c(acc, w);
	}
	if (n > 0) {
		/* zero-padded: an odd last byte is the high half of its
		 * 16-bit word in network order, as RFC 768 pads */
		memcpy(tail, p, n);
		memcpy(&w, tail, 8);
		acc = add1c(acc, w);
	}
	return acc;
}

/* Fold to 16 bits and complement; 0 is sent as 0xffff (RFC 768). The
 * sum was taken over native-order words: so is the result's layout. */
static uint16_t
csum_final(uint64_t acc)
{
	uint16_t c;

	acc = (acc & 0xffffffff) + (acc >> 32);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	c = (uint16_t)~acc;
	return c == 0 ? 0xffff : c;
}

int
rawudp_frame(uint8_t *payload, size_t len, size_t head,
    const struct net_addr *src, const struct net_addr *dst)
{
	size_t hl, ulen = len + 8;
	uint8_t *ip, *udp;
	uint64_t acc;
	uint16_t v, c;
	uint8_t pseudo[4], uh[8];

	if (src->len == 0 || dst->len == 0 ||
	    src->u.sa.sa_family != dst->u.sa.sa_family ||
	    len > RAWUDP_MAX_PAYLOAD)
		return E_INVAL;
	hl = src->u.sa.sa_family == AF_INET ? RAWUDP_HEAD4 :
	    src->u.sa.sa_family == AF_INET6 ? RAWUDP_HEAD6 : 0;
	if (hl == 0 || head < hl)
		return E_INVAL;
	/* a wildcard source is the routing's to choose, and a v4-mapped
	 * address is IPv4 on the wire: both are for the port socket */
	if (hl == RAWUDP_HEAD4 ? src->u.in4.sin_addr.s_addr == INADDR_ANY :
	    IN6_IS_ADDR_UNSPECIFIED(&src->u.in6.sin6_addr) ||
	    IN6_IS_ADDR_V4MAPPED(&src->u.in6.sin6_addr) ||
	    IN6_IS_ADDR_V4MAPPED(&dst->u.in6.sin6_addr))
		return E_INVAL;
	ip = payload - hl;
	udp = payload - 8;
	/*
	 * The UDP header is made and summed here, then stored: the bytes
	 * before a received payload are on a line nobody has touched for
	 * thousands of packets, and summing them back from there made the
	 * load wait for that line (its 2-byte stores cannot be forwarded to
	 * an 8-byte load): 3.5% of the relay's CPU.
	 */
	if (hl == RAWUDP_HEAD4) {
		memcpy(uh, &src->u.in4.sin_port, 2);
		memcpy(uh + 2, &dst->u.in4.sin_port, 2);
	} else {
		memcpy(uh, &src->u.in6.sin6_port, 2);
		memcpy(uh + 2, &dst->u.in6.sin6_port, 2);
	}
	v = htons((uint16_t)ulen);
	memcpy(uh + 4, &v, 2);
	memset(uh + 6, 0, 2);
	/* pseudo-header: addresses, protocol, UDP length */
	pseudo[0] = 0;
	pseudo[1] = IPPROTO_UDP;
	memcpy(pseudo + 2, &v, 2);
	if (hl == RAWUDP_HEAD4) {
		acc = sum_bytes(0, (const uint8_t *)&src->u.in4.sin_addr, 4);
		acc = sum_bytes(acc, (const uint8_t *)&dst->u.in4.sin_addr, 4);
	} else {
		acc = sum_bytes(0, src->u.in6.sin6_addr.s6_addr, 16);
		acc = sum_bytes(acc, dst->u.in6.sin6_addr.s6_addr, 16);
	}
	acc = sum_bytes(acc, pseudo, 4);
	acc = sum_bytes(acc, uh, 8);
	acc = sum_bytes(acc, payload, len);
	c = csum_final(acc);
	memcpy(uh + 6, &c, 2);
	memcpy(udp, uh, 8);
	if (hl == RAWUDP_HEAD4) {
		/* the kernel fills in the ID (when 0) and the checksum */
		ip[0] = 0x45;
		ip[1] = 0;
		v = htons((uint16_t)(20 + ulen));
		memcpy(ip + 2, &v, 2);
		memset(ip + 4, 0, 2);		/* ID */
		ip[6] = 0x40;			/* DF, as a UDP socket sets */
		ip[7] = 0;
		ip[8] = 64;			/* TTL */
		ip[9] = IPPROTO_UDP;
		memset(ip + 10, 0, 2);
		memcpy(ip + 12, &src->u.in4.sin_addr, 4);
		memcpy(ip + 16, &dst->u.in4.sin_addr, 4);
	} else {
		ip[0] = 0x60;
		ip[1] = ip[2] = ip[3] = 0;	/* class, flow label */
		v = htons((uint16_t)ulen);
		memcpy(ip + 4, &v, 2);
		ip[6] = IPPROTO_UDP;
		ip[7] = 64;			/* hop limit */
		memcpy(ip + 8, src->u.in6.sin6_addr.s6_addr, 16);
		memcpy(ip + 24, dst->u.in6.sin6_addr.s6_addr, 16);
	}
	return (int)hl;
}
