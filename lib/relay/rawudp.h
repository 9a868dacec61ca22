/* rawudp.h - send UDP datagrams from any local port through one raw socket. */
#ifndef SBK_RAWUDP_H
#define SBK_RAWUDP_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/net.h"

/*
 * A relay with a thousand ports sends each packet from its port's own
 * socket: a socket, file and sock that are cold in the cache by the time
 * their next packet comes, and the kernel reads them all. One raw socket
 * (IPPROTO_RAW: send only, it receives nothing) sends for every port
 * instead: the caller writes the IP and UDP headers in front of the
 * payload (a received buffer has the room) and the socket stays hot.
 * The port sockets stay bound: they own the ports.
 *
 * Needs CAP_NET_RAW: without it rawudp_open() fails with E_PERM and the
 * caller sends from its port sockets as before.
 */

#define RAWUDP_HEAD4 28		/* IPv4 header + UDP header */
#define RAWUDP_HEAD6 48		/* IPv6 header + UDP header */
#define RAWUDP_HEAD_MAX RAWUDP_HEAD6
/* The largest payload sent raw: with its headers it fits IPv6's minimum
 * MTU (1280), so it never needs the fragments that an IP_HDRINCL socket
 * does not make; larger ones go out of the caller's port socket. */
#define RAWUDP_MAX_PAYLOAD 1200

/* A raw socket for `family` (AF_INET or AF_INET6), non-blocking, in *fd.
 * Returns 0, E_PERM (no CAP_NET_RAW), E_INVAL, E_IO. */
int rawudp_open(int family, int *fd) WUR;

/*
 * Write the IP and UDP headers (checksum included) for the `len` bytes at
 * `payload`, from `src` to `dst` (the same family), into the bytes just
 * before `payload`, of which `head` are the caller's to overwrite.
 * Returns the header length (send `len` + that many bytes, starting that
 * many bytes before `payload`), or E_INVAL (families differ or unset, too
 * little head room, payload over RAWUDP_MAX_PAYLOAD).
 */
int rawudp_frame(uint8_t *payload, size_t len, size_t head,
    const struct net_addr *src, const struct net_addr *dst) WUR;

#endif
