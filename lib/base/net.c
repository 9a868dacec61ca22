/* net.c - address parsing/formatting, socket set-up, recvmmsg/sendmmsg. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/net.h"

/* Copy a slice into a NUL-terminated stack string for inet_pton(). */
static int
cstr(struct slice s, char *out, size_t n)
{
	if (s.len == 0 || s.len >= n)
		return E_SYNTAX;
	memcpy(out, s.p, s.len);
	out[s.len] = '\0';
	/* inet_pton must see exactly the slice: no embedded NUL */
	if (memchr(out, '\0', s.len) != NULL)
		return E_SYNTAX;
	return 0;
}

int
net_addr_parse_host(struct slice s, uint16_t port, struct net_addr *a)
{
	char h[INET6_ADDRSTRLEN + 1];

	memset(a, 0, sizeof(*a));
	if (s.len >= 2 && s.p[0] == '[' && s.p[s.len - 1] == ']') {
		s.p++;
		s.len -= 2;
		if (cstr(s, h, sizeof(h)) != 0)
			return E_SYNTAX;
		goto v6;
	}
	if (cstr(s, h, sizeof(h)) != 0)
		return E_SYNTAX;
	if (inet_pton(AF_INET, h, &a->u.in4.sin_addr) == 1) {
		a->u.in4.sin_family = AF_INET;
		a->u.in4.sin_port = htons(port);
		a->len = sizeof(a->u.in4);
		return 0;
	}
v6:
	if (inet_pton(AF_INET6, h, &a->u.in6.sin6_addr) == 1) {
		a->u.in6.sin6_family = AF_INET6;
		a->u.in6.sin6_port = htons(port);
		a->len = sizeof(a->u.in6);
		return 0;
	}
	memset(a, 0, sizeof(*a));
	return E_SYNTAX;
}

int
net_addr_parse(struct slice s, struct net_addr *a)
{
	long colon = -1;
	uint64_t port;
	struct slice host, ps;
	int r;

	memset(a, 0, sizeof(*a));
	if (s.len > 0 && s.p[0] == '[') {
		long rb = slice_chr(s, ']');

		if (rb < 0 || (size_t)rb + 1 >= s.len || s.p[rb + 1] != ':')
			return E_SYNTAX;
		colon = rb + 1;
	} else {
		/* IPv4: exactly one colon */
		for (size_t i = 0; i < s.len; i++)
			if (s.p[i] == ':') {
				if (colon >= 0)
					return E_SYNTAX;
				colon = (long)i;
			}
		if (colon < 0)
			return E_SYNTAX;
	}
	host = slice_make(s.p, (size_t)colon);
	ps = slice_make(s.p + colon + 1, s.len - (size_t)colon - 1);
	if ((r = slice_to_u64(ps, 65535, &port)) != 0)
		return r;
	if (host.len > 0 && host.p[0] != '[') {
		char h[INET_ADDRSTRLEN + 1];

		if (cstr(host, h, sizeof(h)) != 0 ||
		    inet_pton(AF_INET, h, &a->u.in4.sin_addr) != 1) {
			memset(a, 0, sizeof(*a));
			return E_SYNTAX;
		}
		a->u.in4.sin_family = AF_INET;
		a->u.in4.sin_port = htons((uint16_t)port);
		a->len = sizeof(a->u.in4);
		return 0;
	}
	return net_addr_parse_host(host, (uint16_t)port, a);
}

int
net_addr_parse_any(struct slice s, uint16_t default_port, struct net_addr *a)
{
	if (net_addr_parse(s, a) == 0)
		return 0;
	return net_addr_parse_host(s, default_port, a);
}

int
net_addr_format_host(const struct net_addr *a, char *out, size_t n)
{
	const void *src;
	int fam = net_addr_family(a);

	if (fam == 0)
		return E_INVAL;
	src = fam == AF_INET ? (const void *)&a->u.in4.sin_addr :
	    (const void *)&a->u.in6.sin6_addr;
	if (inet_ntop(fam, src, out, (socklen_t)n) == NULL)
		return E_BIG;
	return 0;
}

int
net_addr_format(const struct net_addr *a, char *out, size_t n)
{
	char h[INET6_ADDRSTRLEN];
	int r;

	if ((r = net_addr_format_host(a, h, sizeof(h))) != 0)
		return r;
	r = snprintf(out, n, net_addr_family(a) == AF_INET6 ? "[%s]:%u" :
	    "%s:%u", h, (unsigned)net_addr_port(a));
	if (r < 0 || (size_t)r >= n)
		return E_BIG;
	return 0;
}

int
net_addr_family(const struct net_addr *a)
{
	if (a->len == sizeof(a->u.in4) && a->u.sa.sa_family == AF_INET)
		return AF_INET;
	if (a->len == sizeof(a->u.in6) && a->u.sa.sa_family == AF_INET6)
		return AF_INET6;
	return 0;
}

uint16_t
net_addr_port(const struct net_addr *a)
{
	switch (net_addr_family(a)) {
	case AF_INET:
		return ntohs(a->u.in4.sin_port);
	case AF_INET6:
		return ntohs(a->u.in6.sin6_port);
	}
	return 0;
}

void
net_addr_set_port(struct net_addr *a, uint16_t port)
{
	switch (net_addr_family(a)) {
	case AF_INET:
		a->u.in4.sin_port = htons(port);
		break;
	case AF_INET6:
		a->u.in6.sin6_port = htons(port);
		break;
	}
}

int
net_addr_host_eq(const struct net_addr *a, const struct net_addr *b)
{
	int fam = net_addr_family(a);

	if (fam != net_addr_family(b) || fam == 0)
		return 0;
	if (fam == AF_INET)
		return a->u.in4.sin_addr.s_addr == b->u.in4.sin_addr.s_addr;
	return memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, 16) == 0;
}

int
net_addr_eq(const struct net_addr *a, const struct net_addr *b)
{
	return net_addr_host_eq(a, b) && net_addr_port(a) == net_addr_port(b);
}

unsigned
net_addr_hash(const struct net_addr *a, int with_port)
{
	const uint8_t *p;
	size_t n;
	uint32_t h;

	if (net_addr_family(a) == AF_INET6) {
		p = a->u.in6.sin6_addr.s6_addr;
		n = 16;
	} else {
		p = (const uint8_t *)&a->u.in4.sin_addr;
		n = 4;
	}
	h = hash32(HASH32_INIT, p, n);
	if (with_port) {
		uint16_t port = net_addr_port(a);
		uint8_t be[2] = { port >> 8, port & 0xff };

		h = hash32(h, be, sizeof(be));
	}
	return h;
}

int
net_addr_is_any(const struct net_addr *a)
{
	switch (net_addr_family(a)) {
	case AF_INET:
		return a->u.in4.sin_addr.s_addr == htonl(INADDR_ANY);
	case AF_INET6:
		return IN6_IS_ADDR_UNSPECIFIED(&a->u.in6.sin6_addr);
	}
	return 0;
}

/* The IPv4 address in `a` (also in its IPv4-mapped IPv6 form), or 0. */
static int
v4_of(const struct net_addr *a, uint8_t out[4])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	if (net_addr_family(a) == AF_INET) {
		memcpy(out, &a->u.in4.sin_addr, 4);
		return 1;
	}
	if (net_addr_family(a) == AF_INET6 &&
	    memcmp(a->u.in6.sin6_addr.s6_addr, mapped, 12) == 0) {
		memcpy(out, a->u.in6.sin6_addr.s6_addr + 12, 4);
		return 1;
	}
	return 0;
}

int
net_addr_is_loopback(const struct net_addr *a)
{
	uint8_t v4[4];

	if (v4_of(a, v4))
		return v4[0] == 127;
	return net_addr_family(a) == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&a->u.in6.sin6_addr);
}

int
net_prefix_parse(struct slice s, struct net_prefix *p)
{
	const uint8_t *slash = memchr(s.p, '/', s.len);
	struct slice host = s;
	unsigned max, bits = 0;
	size_t i;

	memset(p, 0, sizeof(*p));
	if (slash != NULL)
		host.len = (size_t)(slash - s.p);
	if (net_addr_parse_host(host, 0, &p->a) != 0)
		return E_SYNTAX;
	max = net_addr_family(&p->a) == AF_INET ? 32 : 128;
	if (slash == NULL) {
		p->bits = max;
		return 0;
	}
	i = host.len + 1;
	if (i >= s.len || s.len - i > 3)
		return E_SYNTAX;
	for (; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return E_SYNTAX;
		bits = bits * 10 + (unsigned)(s.p[i] - '0');
	}
	if (bits > max)
		return E_RANGE;
	p->bits = bits;
	return 0;
}

int
net_prefix_list_parse(struct slice s, struct net_prefix *out, size_t max,
    size_t *n, char *why, size_t whysz)
{
	size_t i = 0, start;
	int e;

	*n = 0;
	while (i <= s.len) {
		struct slice item;

		start = i;
		while (i < s.len && s.p[i] != ',')
			i++;
		item = slice_make(s.p + start, i - start);
		item = slice_trim(item);
		i++;
		if (item.len == 0)
			continue;
		if (*n == max) {
			sbk_why(why, whysz, "more than %zu networks", max);
			return E_BIG;
		}
		if ((e = net_prefix_parse(item, &out[*n])) != 0) {
			sbk_why(why, whysz, "%.*s: %s", (int)item.len,
			    (const char *)item.p, e == E_RANGE ?
			    "prefix too long" : "not an address or network");
			return e;
		}
		(*n)++;
	}
	if (*n == 0) {
		sbk_why(why, whysz, "no network");
		return E_SYNTAX;
	}
	return 0;
}

static int
bits_eq(const uint8_t *x, const uint8_t *y, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(x, y, whole) != 0)
		return 0;
	return rest == 0 ||
	    ((x[whole] ^ y[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

int
net_prefix_match(const struct net_prefix *p, const struct net_addr *a)
{
	uint8_t pv4[4], av4[4];

	if (net_addr_family(&p->a) == AF_INET)
		return v4_of(&p->a, pv4) && v4_of(a, av4) &&
		    bits_eq(pv4, av4, p->bits);
	return net_addr_family(a) == AF_INET6 &&
	    bits_eq(p->a.u.in6.sin6_addr.s6_addr, a->u.in6.sin6_addr.s6_addr,
	    p->bits);
}

int
net_prefix_list_match(const struct net_prefix *p, size_t n,
    const struct net_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (net_prefix_match(&p[i], a))
			return 1;
	return 0;
}

int
net_addr_from_sa(struct net_addr *a, const struct sockaddr *sa, socklen_t len)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET && len >= sizeof(a->u.in4)) {
		memcpy(&a->u.in4, sa, sizeof(a->u.in4));
		a->len = sizeof(a->u.in4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(a->u.in6)) {
		memcpy(&a->u.in6, sa, sizeof(a->u.in6));
		a->len = sizeof(a->u.in6);
		return 0;
	}
	return E_UNSUPPORTED;
}

int
net_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return E_IO;
	return 0;
}

int
net_udp_pending(int fd)
{
	uint8_t b;

	/* one byte, not none: a sockmap socket answers a 0-byte read with 0
	 * whether or not anything waits */
	if (recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC) >= 0)
		return 1;
	return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : E_IO;
}

void
net_set_bufs(int fd, int rcv, int snd)
{
	if (rcv > 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (snd > 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
}

static int
sock_new(const struct net_addr *a, int type, int flags, int *fdp)
{
	int fam = net_addr_family(a), fd, one = 1, e;

	if (fam == 0)
		return E_INVAL;
	fd = socket(fam, type | SOCK_CLOEXEC |
	    ((flags & NET_BLOCKING) ? 0 : SOCK_NONBLOCK), 0);
	if (fd < 0)
		return E_IO;
	if ((flags & NET_REUSEADDR) &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		goto fail;
	if (fam == AF_INET6) {
		int v6only = (flags & NET_V6ONLY) ? 1 : 0;

		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		    sizeof(v6only)) != 0)
			goto fail;
	}
	*fdp = fd;
	return 0;
fail:
	e = errno;
	close(fd);
	errno = e;
	return E_IO;
}

static int
bind_or_close(int fd, const struct net_addr *a)
{
	int e;

	if (bind(fd, &a->u.sa, a->len) == 0)
		return 0;
	e = errno;
	close(fd);
	errno = e;
	return E_IO;
}

int
net_udp_bind(const struct net_addr *a, int flags, int *fd)
{
	int r, s;

	if ((r = sock_new(a, SOCK_DGRAM, flags, &s)) != 0)
		return r;
	if ((r = bind_or_close(s, a)) != 0)
		return r;
	*fd = s;
	return 0;
}

int
net_tcp_listen(const struct net_addr *a, int backlog, int flags, int *fd)
{
	int r, s, e;

	if ((r = sock_new(a, SOCK_STREAM, flags | NET_REUSEADDR, &s)) != 0)
		return r;
	if ((r = bind_or_close(s, a)) != 0)
		return r;
	if (listen(s, backlog) != 0) {
		e = errno;
		close(s);
		errno = e;
		return E_IO;
	}
	*fd = s;
	return 0;
}

int
net_udp_tcp_bind(const struct net_addr *a, int backlog, int *ufd, int *tfd)
{
	struct net_addr b;
	int i, e;

	for (i = 0; i < 32; i++) {
		if (net_udp_bind(a, 0, ufd) != 0)
			return E_IO;
		if (net_local_addr(*ufd, &b) == 0 &&
		    net_tcp_listen(&b, backlog, 0, tfd) == 0)
			return 0;
		e = errno;
		close(*ufd);
		errno = e;
		if (net_addr_port(a) != 0)
			break;
	}
	return E_IO;
}

int
net_route_src(const struct net_addr *to, struct net_addr *src)
{
	int fd, e, r = 0;

	fd = socket(net_addr_family(to), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return E_IO;
	if (connect(fd, &to->u.sa, to->len) != 0 ||
	    net_local_addr(fd, src) != 0)
		r = E_NOTFOUND;
	else
		net_addr_set_port(src, 0);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

int
net_tcp_connect(const struct net_addr *a, int *fd)
{
	int r, s, e, one = 1;

	if ((r = sock_new(a, SOCK_STREAM, 0, &s)) != 0)
		return r;
	(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s, &a->u.sa, a->len) == 0) {
		*fd = s;
		return 0;
	}
	if (errno == EINPROGRESS) {
		*fd = s;
		return E_AGAIN;
	}
	e = errno;
	close(s);
	errno = e;
	return E_IO;
}

int
net_sock_error(int fd)
{
	int e = 0;
	socklen_t l = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) != 0)
		return errno;
	return e;
}

int
net_local_addr(int fd, struct net_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &l) != 0)
		return E_IO;
	return net_addr_from_sa(a, (struct sockaddr *)&ss, l);
}

static int
io_err(void)
{
	return (errno == EAGAIN || errno == EWOULDBLOCK) ? E_AGAIN : E_IO;
}

int
net_recv(int fd, struct net_pkt *p)
{
	socklen_t l = sizeof(p->addr.u);
	ssize_t n;

	n = recvfrom(fd, p->buf, p->cap, MSG_TRUNC, &p->addr.u.sa, &l);
	if (n < 0)
		return io_err();
	p->addr.len = l;
	p->trunc = (size_t)n > p->cap;
	p->len = p->trunc ? p->cap : (size_t)n;
	return 0;
}

int
net_send(int fd, const struct net_pkt *p)
{
	ssize_t n;

	n = sendto(fd, p->buf, p->len, 0, p->addr.len ? &p->addr.u.sa : NULL,
	    p->addr.len);
	if (n < 0)
		return io_err();
	return 0;
}

int
net_recv_batch(int fd, struct net_pkt *p, size_t n)
{
	struct mmsghdr mm[NET_BATCH_MAX];
	struct iovec iov[NET_BATCH_MAX];
	int got;

	if (n > NET_BATCH_MAX)
		n = NET_BATCH_MAX;
	if (n == 0)
		return E_INVAL;
	for (size_t i = 0; i < n; i++) {
		iov[i].iov_base = p[i].buf;
		iov[i].iov_len = p[i].cap;
		memset(&mm[i].msg_hdr, 0, sizeof(mm[i].msg_hdr));
		mm[i].msg_hdr.msg_name = &p[i].addr.u;
		mm[i].msg_hdr.msg_namelen = sizeof(p[i].addr.u);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	got = recvmmsg(fd, mm, (unsigned)n, MSG_DONTWAIT, NULL);
	if (got < 0)
		return io_err();
	if (got == 0)
		return E_AGAIN;
	for (int i = 0; i < got; i++) {
		p[i].addr.len = mm[i].msg_hdr.msg_namelen;
		p[i].len = mm[i].msg_len;
		p[i].trunc = (mm[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
	}
	return got;
}

int
net_send_batch(int fd, const struct net_pkt *p, size_t n)
{
	struct mmsghdr mm[NET_BATCH_MAX];
	struct iovec iov[NET_BATCH_MAX];
	size_t done = 0;

	if (n > NET_BATCH_MAX)
		n = NET_BATCH_MAX;
	for (size_t i = 0; i < n; i++) {
		iov[i].iov_base = p[i].buf;
		iov[i].iov_len = p[i].len;
		memset(&mm[i].msg_hdr, 0, sizeof(mm[i].msg_hdr));
		if (p[i].addr.len) {
			mm[i].msg_hdr.msg_name = (void *)&p[i].addr.u;
			mm[i].msg_hdr.msg_namelen = p[i].addr.len;
		}
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	while (done < n) {
		int s = sendmmsg(fd, mm + done, (unsigned)(n - done), 0);

		if (s < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* this datagram cannot go (bad address, too big):
			 * drop it and carry on with the rest */
			if (n == 1)
				return E_IO;
			done++;
			continue;
		}
		if (s == 0)
			break;
		done += (size_t)s;
	}
	if (done == 0 && n > 0)
		return E_AGAIN;
	return (int)done;
}

int
net_send_some(int fd, const void *p, size_t len, size_t *done)
{
	ssize_t n;

	do
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? E_AGAIN :
		    E_IO;
	*done = (size_t)n;
	return 0;
}
