/* freeport.c - print free port numbers on an address (e2e tests and demo). */
/*
 *   freeport ADDR [COUNT]
 *
 * Prints COUNT (default 1) distinct ports, one a line, that were free for
 * both UDP and TCP on the IPv4 address ADDR when asked: each is found by
 * binding port 0 and reading back what the kernel chose. Between this and
 * the real bind another process could take the port; tests run on their
 * own random 127.x.y.z address, which makes that unlikely.
 * Exit status: 0 ok, 1 no port found, 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_COUNT	64

/* Bind a `type` socket to addr:port; return the fd and the port, or -1. */
static int
bind_any(struct sockaddr_in *sin, int type, unsigned *port)
{
	socklen_t sl = sizeof(*sin);
	int fd = socket(AF_INET, type, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)sin, sizeof(*sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)sin, &sl) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin->sin_port);
	return fd;
}

int
main(int argc, char **argv)
{
	int held[2 * MAX_COUNT], nheld = 0, got = 0, tries, i;
	long count = 1;
	char *end;

	if (argc < 2 || argc > 3) {
		fputs("usage: freeport ADDR [COUNT]\n", stderr);
		return 2;
	}
	if (argc == 3) {
		count = strtol(argv[2], &end, 10);
		if (*end != '\0' || count < 1 || count > MAX_COUNT) {
			fputs("freeport: COUNT: 1 to 64\n", stderr);
			return 2;
		}
	}
	/* Hold every port found until the end, so all COUNT differ. */
	for (tries = 0; got < count && nheld + 2 <= 2 * MAX_COUNT &&
	    tries < 200; tries++) {
		struct sockaddr_in sin;
		unsigned port, p2;
		int u, t;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
			fprintf(stderr, "freeport: %s: not an IPv4 address\n",
			    argv[1]);
			return 2;
		}
		if ((u = bind_any(&sin, SOCK_DGRAM, &port)) < 0)
			break;
		t = bind_any(&sin, SOCK_STREAM, &p2);	/* same port, TCP */
		held[nheld++] = u;
		if (t < 0)
			continue;
		held[nheld++] = t;
		printf("%u\n", port);
		got++;
	}
	for (i = 0; i < nheld; i++)
		close(held[i]);
	if (got < count) {
		fprintf(stderr, "freeport: %s: %s\n", argv[1],
		    got ? "not enough free ports" : strerror(errno));
		return 1;
	}
	return 0;
}
