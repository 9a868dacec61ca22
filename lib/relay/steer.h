/* steer.h - deliver a UDP port range to one socket (BPF sk_lookup). */
#ifndef SBK_STEER_H
#define SBK_STEER_H

#include <stdint.h>

#include "base/err.h"
#include "base/net.h"

/*
 * A relay binds one UDP socket per media port. Reading 1000 sockets that
 * each hold one packet costs the kernel a cold socket per packet; reading
 * one socket that holds them all costs it one. A steer attaches a BPF
 * sk_lookup program (Linux 5.9) to the process's network namespace that
 * hands every UDP datagram addressed to one of its hosts, at a port in
 * [port_min, port_max] that was marked with steer_port(), to that host's
 * steering socket instead of the socket bound to the port. Ports not
 * marked are left alone (another relay sharing the address and range
 * keeps its own). The port sockets stay bound (they own the
 * ports, and send), they just receive nothing. The steering socket reports
 * each datagram's original destination (IP_RECVORIGDSTADDR /
 * IPV6_RECVORIGDSTADDR), so the reader knows the port it was sent to.
 *
 * Connected sockets are matched before sk_lookup runs, so a connected
 * port socket still receives its own peer's packets; the relay's port
 * sockets are not connected.
 *
 * Needs CAP_BPF and CAP_NET_ADMIN (root): without them steer_new() fails
 * with E_PERM and the caller reads its port sockets as before. The
 * program is detached when the steer is freed or the process exits.
 */
struct steer;

#define STEER_MAX_HOSTS 4
/* The receive buffer of a steering socket (SO_RCVBUFFORCE): it holds
 * every steered stream's packets while the relay is busy. */
#define STEER_RCVBUF (32 << 20)

/*
 * Steer UDP to hosts[i] (address only; the port is ignored) at ports
 * [port_min, port_max] to a new socket per host, bound to that host at an
 * ephemeral port. NULL with *err: E_INVAL, E_PERM (no privilege),
 * E_UNSUPPORTED (kernel without sk_lookup or SOCKMAP for UDP), E_IO.
 */
struct steer *steer_new(const struct net_addr *hosts, unsigned nhosts,
    uint16_t port_min, uint16_t port_max, int *err) WUR;
void steer_free(struct steer *st);

/* Steer (on 1) or stop steering (on 0) host h's `port`. 0, E_INVAL (not
 * in the range), E_IO. */
int steer_port(struct steer *st, unsigned h, uint16_t port, int on);

/* Host i's steering socket (owned by the steer), or -1. */
int steer_fd(const struct steer *st, unsigned i);
/* The host index for `a`'s address, or -1 when it is not steered. */
int steer_host(const struct steer *st, const struct net_addr *a);

#endif
