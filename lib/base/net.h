/* net.h - IPv4/IPv6 addresses, non-blocking sockets, batched UDP I/O. */
#ifndef SBK_NET_H
#define SBK_NET_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/err.h"
#include "base/slice.h"

/* An IPv4 or IPv6 socket address held by value (no ownership). */
struct net_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} u;
	socklen_t len;		/* 0: unset */
};

/* Room for "[ffff:...:255.255.255.255%ifname]:65535" and a NUL. */
#define NET_ADDR_STRLEN 80

/*
 * Parse "1.2.3.4:5", "[::1]:5" (the port is required). Returns 0,
 * E_SYNTAX or E_RANGE (port > 65535).
 */
int net_addr_parse(struct slice s, struct net_addr *a) WUR;
/*
 * Parse a host alone ("1.2.3.4", "::1" or "[::1]") and set `port`.
 * Returns 0 or E_SYNTAX.
 */
int net_addr_parse_host(struct slice s, uint16_t port, struct net_addr *a) WUR;
/* Either form: "HOST:PORT", or a bare host that gets `default_port`. */
int net_addr_parse_any(struct slice s, uint16_t default_port,
    struct net_addr *a) WUR;

/* "1.2.3.4:5" / "[::1]:5" into `out` (NUL-terminated). E_BIG if too small. */
int net_addr_format(const struct net_addr *a, char *out, size_t n) WUR;
/* The host alone, "1.2.3.4" / "::1" (no brackets). */
int net_addr_format_host(const struct net_addr *a, char *out, size_t n) WUR;

int net_addr_family(const struct net_addr *a);	/* AF_INET, AF_INET6, 0 */
uint16_t net_addr_port(const struct net_addr *a);
void net_addr_set_port(struct net_addr *a, uint16_t port);
/* True if family, address and port are equal. */
int net_addr_eq(const struct net_addr *a, const struct net_addr *b);
/* True if family and address (not port) are equal. */
int net_addr_host_eq(const struct net_addr *a, const struct net_addr *b);
/* FNV-1a of the address bytes, and of the port (network order) when
 * `with_port`. */
unsigned net_addr_hash(const struct net_addr *a, int with_port);
/* True for 0.0.0.0 and :: */
int net_addr_is_any(const struct net_addr *a);
/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
int net_addr_is_loopback(const struct net_addr *a);

/*
 * A network: an address and a prefix length ("10.0.0.0/8", "2001:db8::/32",
 * or a single host "192.0.2.7", "::1" as /32 or /128). An IPv4 network
 * also matches the IPv4-mapped IPv6 form of its addresses.
 */
struct net_prefix {
	struct net_addr a;	/* port unused */
	unsigned bits;
};

/* Parse one network. Returns 0, E_SYNTAX or E_RANGE (bits too long). */
int net_prefix_parse(struct slice s, struct net_prefix *p) WUR;
/*
 * Parse a comma-separated list of networks into `out` (at most `max`),
 * setting *n. Returns 0, E_SYNTAX/E_RANGE (with the bad item in `why`)
 * or E_BIG (more than `max`).
 */
int net_prefix_list_parse(struct slice s, struct net_prefix *out,
    size_t max, size_t *n, char *why, size_t whysz) WUR;
/* True if `a`'s host is in network `p`. */
int net_prefix_match(const struct net_prefix *p, const struct net_addr *a);
/* True if `a` is in any of the `n` networks. */
int net_prefix_list_match(const struct net_prefix *p, size_t n,
    const struct net_addr *a);
/* Fill `a` from a sockaddr of `len` bytes (IPv4 or IPv6); E_UNSUPPORTED. */
int net_addr_from_sa(struct net_addr *a, const struct sockaddr *sa,
    socklen_t len) WUR;

/* Socket options for net_udp_bind() / net_tcp_listen(). */
enum {
	NET_REUSEADDR = 1,	/* SO_REUSEADDR (listeners; not media ports) */
	NET_V6ONLY = 2,		/* IPV6_V6ONLY=1 on IPv6 (default: 0, dual) */
	NET_BLOCKING = 4,	/* leave the socket blocking */
};

/*
 * A new non-blocking, close-on-exec UDP socket bound to `a` (port 0: the
 * kernel picks; read it back with net_local_addr()). The caller owns and
 * closes *fd. Returns 0 or E_IO (errno set; EADDRINUSE for a taken port).
 */
int net_udp_bind(const struct net_addr *a, int flags, int *fd) WUR;
/* A listening non-blocking TCP socket (SO_REUSEADDR always). */
int net_tcp_listen(const struct net_addr *a, int backlog, int flags,
    int *fd) WUR;
/*
 * A UDP socket and a TCP listener on the same address and port: `a`'s
 * port, or if it is 0 one the kernel picks for UDP that TCP can have too
 * (tried up to 32 times). Both non-blocking, owned by the caller. Returns
 * 0 or E_IO (errno set).
 */
int net_udp_tcp_bind(const struct net_addr *a, int backlog, int *ufd,
    int *tfd) WUR;
/*
 * The local address a datagram towards `to` would leave from (port 0), as
 * the routing table says; nothing is sent. Returns 0, E_NOTFOUND (no
 * route; errno set) or E_IO (no socket).
 */
int net_route_src(const struct net_addr *to, struct net_addr *src) WUR;
/*
 * A non-blocking TCP connect. Returns 0 (connected), E_AGAIN (in progress:
 * wait for writability, then net_sock_error()) or E_IO. *fd is set in the
 * first two cases and owned by the caller.
 */
int net_tcp_connect(const struct net_addr *a, int *fd) WUR;
/* The pending error of a socket (SO_ERROR), as an errno value. */
int net_sock_error(int fd);
/* The address a socket is bound to. */
int net_local_addr(int fd, struct net_addr *a) WUR;
/*
 * Send what a non-blocking stream socket takes of `len` bytes now (no
 * SIGPIPE, EINTR retried): 0 with *done, E_AGAIN when it takes nothing,
 * E_IO (errno) otherwise. The writer of a write queue (base/wqueue).
 */
int net_send_some(int fd, const void *p, size_t len, size_t *done) WUR;
int net_set_nonblock(int fd) WUR;
/* Set SO_RCVBUF/SO_SNDBUF (best effort; 0 leaves one alone). */
void net_set_bufs(int fd, int rcv, int snd);
/*
 * Whether a datagram waits on `fd` (1) or none (0); E_IO on error. It
 * peeks, taking nothing. (SIOCINQ cannot say: on a socket in a BPF
 * sockmap, as a steering socket is, Linux 6.x answers it with the
 * sockmap's own queue only, 0 while datagrams wait.)
 */
int net_udp_pending(int fd) WUR;

/*
 * One datagram for batched I/O. The caller owns `buf` (`cap` bytes);
 * receive sets `len` and `addr`; send reads `len` bytes to `addr`
 * (addr.len 0: the socket's connected peer).
 */
struct net_pkt {
	uint8_t *buf;
	size_t cap;
	size_t len;
	struct net_addr addr;
	int trunc;		/* receive: datagram was larger than cap */
};

#define NET_BATCH_MAX 64

/* One datagram. Returns 0, E_AGAIN (nothing waiting) or E_IO. */
int net_recv(int fd, struct net_pkt *p) WUR;
/* One datagram. Returns 0, E_AGAIN (buffer full) or E_IO. */
int net_send(int fd, const struct net_pkt *p) WUR;
/*
 * Up to `n` (<= NET_BATCH_MAX) datagrams with one recvmmsg(). Returns the
 * count (> 0), E_AGAIN or E_IO.
 */
int net_recv_batch(int fd, struct net_pkt *p, size_t n) WUR;
/*
 * `n` datagrams with sendmmsg(), retrying the rest after a partial send;
 * a datagram the kernel refuses (other than EAGAIN) is dropped and counted
 * as consumed. Returns the number consumed (< n when the socket buffer is
 * full), E_AGAIN if none could go, E_IO for a single refused datagram.
 */
int net_send_batch(int fd, const struct net_pkt *p, size_t n) WUR;

#endif
