/* sip-udp-peer.c - a scripted SIP-over-UDP peer for proxy tests. */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "peer.h"

/*
 * sip-udp-peer -l ADDR:PORT [-m answer|silent|busy|big] [-w MS]
 *              [-t ADDR:PORT -f FILE]
 *
 * Prints "bound ADDR:PORT", then every datagram it receives followed by a
 * "----" line. Mode answer (default) replies 100/180/200 (with an SDP
 * echo) to INVITE, 200 to other requests (echoing Contact and Path for
 * REGISTER), nothing to ACK; silent never replies; busy replies 486 to
 * INVITE, big answers with 8 KB of padding. With -f, sends FILE to -t
 * first (a request from the inside). Runs for -w MS (default 5000).
 */

struct udp_to {
	int fd;
	const struct net_addr *to;
};

static void
udp_send(void *ctx, struct slice b)
{
	const struct udp_to *u = ctx;

	peer_send_to("sip-udp-peer", u->fd, u->to, b);
}

static void
handle(int fd, const struct net_addr *from, struct slice raw,
    enum peer_mode mode, const char *self)
{
	struct udp_to u = { fd, from };
	struct peer_out out = { udp_send, &u };
	struct sip_msg m;
	char contact[256];

	if (sip_parse(&m, raw) != 0)
		return;
	snprintf(contact, sizeof(contact), "Contact: <sip:peer@%s>\r\n", self);
	(void)peer_answer(&out, &m, mode, "peer1", contact);
}

int
main(int argc, char **argv)
{
	struct peer_opts o;
	struct net_addr la;
	int c, fd;
	char self[NET_ADDR_STRLEN];
	uint64_t end;
	static uint8_t rb[65536];

	peer_opts_init(&o);
	while ((c = getopt(argc, argv, PEER_OPTS)) != -1)
		if (peer_opt(&o, c, optarg) != 1)
			return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (peer_bind("sip-udp-peer", &o, 0, &la, &fd, NULL, self) != 0)
		return 1;
	if (o.file != NULL && o.have_to) {
		long n = peer_read_file(&o, rb, sizeof(rb));

		if (n < 0)
			return 1;
		peer_send_to("sip-udp-peer", fd, &o.to,
		    slice_make(rb, (size_t)n));
	}
	end = peer_now_ms() + o.wait;
	while (peer_now_ms() < end) {
		struct pollfd pf = { fd, POLLIN, 0 };
		struct net_pkt p;

		if (poll(&pf, 1, (int)(end - peer_now_ms())) <= 0)
			continue;
		memset(&p, 0, sizeof(p));
		p.buf = rb;
		p.cap = sizeof(rb);
		while (net_recv(fd, &p) == 0) {
			peer_print_lf(p.buf, p.len);
			printf("\n----\n");
			handle(fd, &p.addr, slice_make(p.buf, p.len), o.mode,
			    self);
			p.cap = sizeof(rb);
		}
	}
	close(fd);
	return 0;
}
