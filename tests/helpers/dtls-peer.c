/* dtls-peer.c - one DTLS-SRTP association of lib/media/dtls over UDP. */
/*
 *   dtls-peer -r active|passive -l ADDR:PORT [-t ADDR:PORT]
 *             [-f "sha-256 XX:.."] [-s SUITE[,SUITE..]] [-m MTU]
 *             [-k KEYLOG] [-o RTO_MS] [-w MS]
 *
 * For tests against other DTLS implementations (openssl s_client and
 * s_server, aiortc). Binds -l (IPv4), prints "bound ADDR:PORT" and
 * "fingerprint XX:.." (our certificate's SHA-256), then: active sends
 * its ClientHello to -t; passive answers the first source that sends it
 * DTLS, and only that one. On success prints "suite NAME" and
 * "material HEX": the exported keying material rebuilt from the keys
 * the library gave (client key | server key | client salt | server
 * salt, as RFC 5764 4.2 and `openssl -keymatexport EXTRACTOR-dtls_srtp`
 * print it), "peer XX:.." (the peer certificate's SHA-256), "biggest N"
 * (the largest datagram sent so far), and exits 0
 * (a passive side lingers 500 ms to answer a repeated final flight).
 * -f is the peer's SDP fingerprint (without it: any certificate is
 * taken, the handshake is reported as "unchecked"). -k appends the NSS
 * key log lines. Exit status: 0 done, 1 timeout (-w, default 5000) or
 * system error, 2 usage, 4 handshake failed ("failed: WHY" on stderr).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "media/dtls.h"
#include "media/suite.h"

struct peer {
	int fd;
	int latched;
	struct sockaddr_in to;
	FILE *keylog;
	size_t biggest;		/* datagram sent */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
send_cb(void *arg, const uint8_t *p, size_t len)
{
	struct peer *pe = arg;

	if (!pe->latched)
		return;
	if (len > pe->biggest)
		pe->biggest = len;
	if (sendto(pe->fd, p, len, 0, (struct sockaddr *)&pe->to,
	    sizeof(pe->to)) < 0)
		perror("dtls-peer: sendto");
}

static void
keylog_cb(void *arg, const char *line)
{
	struct peer *pe = arg;

	if (pe->keylog != NULL) {
		fprintf(pe->keylog, "%s\n", line);
		fflush(pe->keylog);
	}
}

static int
parse_addr(const char *s, struct sockaddr_in *sin)
{
	char host[64];
	const char *c = strrchr(s, ':');
	char *end;
	long port;

	if (c == NULL || (size_t)(c - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(c - s));
	host[c - s] = '\0';
	port = strtol(c + 1, &end, 10);
	if (*end != '\0' || port < 0 || port > 65535)
		return -1;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

static unsigned
parse_suites(const char *s)
{
	char b[256], *tok, *save = NULL;
	const struct suite *su;
	unsigned m = 0;

	snprintf(b, sizeof(b), "%s", s);
	for (tok = strtok_r(b, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((su = suite_by_cname(tok)) == NULL)
			return 0;
		m |= 1u << su->id;
	}
	return m;
}

static void
usage(void)
{
	fprintf(stderr, "usage: dtls-peer -r active|passive -l ADDR:PORT "
	    "[-t ADDR:PORT] [-f FP] [-s SUITES] [-m MTU] [-k KEYLOG] "
	    "[-o RTO_MS] [-w MS]\n");
	exit(2);
}

/* The material as openssl prints it, from our side's tx/rx keys. */
static void
print_material(const struct dtls_keys *k, enum dtls_role role)
{
	const uint8_t *c = role == DTLS_ACTIVE ? k->tx : k->rx;
	const uint8_t *s = role == DTLS_ACTIVE ? k->rx : k->tx;
	size_t i;

	printf("suite %s\nmaterial ", suite_by_id(k->suite)->name);
	for (i = 0; i < k->key_len; i++)
		printf("%02X", c[i]);
	for (i = 0; i < k->key_len; i++)
		printf("%02X", s[i]);
	for (i = 0; i < k->salt_len; i++)
		printf("%02X", c[k->key_len + i]);
	for (i = 0; i < k->salt_len; i++)
		printf("%02X", s[k->key_len + i]);
	printf("\n");
}

int
main(int argc, char **argv)
{
	struct dtls_config cfg = { 0 };
	struct sockaddr_in local, from;
	struct peer pe = { .fd = -1 };
	struct dtls_cert *cert;
	struct dtls *d;
	struct dtls_keys k;
	socklen_t fl;
	uint8_t buf[4096];
	char pfp[DTLS_FP_MAX];
	const char *l = NULL, *t = NULL, *keylog = NULL;
	int64_t deadline, linger = -1, tmo;
	long wait_ms = 5000, rto = 0;
	int c, err, have_fp = 0, unchecked = 0;
	enum dtls_state st = DTLS_HANDSHAKE;
	int rc = 0;

	while ((c = getopt(argc, argv, "r:l:t:f:s:m:k:o:w:")) != -1) {
		switch (c) {
		case 'r':
			if (strcmp(optarg, "active") == 0)
				cfg.role = DTLS_ACTIVE;
			else if (strcmp(optarg, "passive") == 0)
				cfg.role = DTLS_PASSIVE;
			else
				usage();
			break;
		case 'l': l = optarg; break;
		case 't': t = optarg; break;
		case 'f':
			if (dtls_fp_parse(slice_cstr(optarg), &cfg.peer) != 0)
				usage();
			have_fp = 1;
			break;
		case 's':
			if ((cfg.suites = parse_suites(optarg)) == 0)
				usage();
			break;
		case 'm': cfg.mtu = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'k': keylog = optarg; break;
		case 'o': rto = strtol(optarg, NULL, 10); break;
		case 'w': wait_ms = strtol(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (cfg.role == 0 || l == NULL || parse_addr(l, &local) != 0 ||
	    (cfg.role == DTLS_ACTIVE && (t == NULL ||
	    parse_addr(t, &pe.to) != 0)))
		usage();
	if (keylog != NULL && (pe.keylog = fopen(keylog, "a")) == NULL) {
		perror(keylog);
		return 1;
	}
	pe.latched = cfg.role == DTLS_ACTIVE;
	if ((pe.fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    bind(pe.fd, (struct sockaddr *)&local, sizeof(local)) != 0) {
		perror("dtls-peer: bind");
		return 1;
	}
	fl = sizeof(local);
	getsockname(pe.fd, (struct sockaddr *)&local, &fl);
	if ((cert = dtls_cert_new(&err)) == NULL) {
		fprintf(stderr, "dtls-peer: certificate: %s\n",
		    sbk_strerror(err));
		return 1;
	}
	cfg.cert = cert;
	cfg.send = send_cb;
	cfg.keylog = keylog_cb;
	cfg.arg = &pe;
	if ((d = dtls_new(&cfg, &err)) == NULL) {
		fprintf(stderr, "dtls-peer: %s\n", sbk_strerror(err));
		return 2;
	}
	if (rto > 0)
		dtls_set_rto(d, (unsigned)rto);
	printf("bound %s:%u\nfingerprint %s\n", inet_ntoa(local.sin_addr),
	    ntohs(local.sin_port), dtls_cert_fingerprint(cert));
	fflush(stdout);
	if (dtls_start(d) != 0) {
		fprintf(stderr, "failed: %s\n", dtls_why(d));
		rc = 4;
		goto out;
	}
	deadline = now_ms() + wait_ms;
	for (;;) {
		struct pollfd pfd = { pe.fd, POLLIN, 0 };
		int64_t now = now_ms(), until = deadline;
		ssize_t n;

		if (linger >= 0 && now >= linger)
			break;
		if (now >= deadline) {
			fprintf(stderr, "dtls-peer: timeout\n");
			rc = 1;
			goto out;
		}
		tmo = dtls_timeout_ms(d, now);
		if (tmo >= 0 && tmo < until)
			until = tmo;
		if (linger >= 0 && linger < until)
			until = linger;
		if (poll(&pfd, 1, (int)(until > now ? until - now : 0)) > 0) {
			fl = sizeof(from);
			n = recvfrom(pe.fd, buf, sizeof(buf), 0,
			    (struct sockaddr *)&from, &fl);
			if (n <= 0)
				continue;
			if (!pe.latched) {
				pe.to = from;
				pe.latched = 1;
			} else if (from.sin_addr.s_addr !=
			    pe.to.sin_addr.s_addr ||
			    from.sin_port != pe.to.sin_port) {
				continue;	/* not our peer */
			}
			st = dtls_input(d, buf, (size_t)n);
		} else if (tmo >= 0 && now_ms() >= tmo) {
			st = dtls_on_timeout(d);
		}
		if (st == DTLS_FAILED) {
			fprintf(stderr, "failed: %s\n", dtls_why(d));
			rc = 4;
			goto out;
		}
		if (st == DTLS_HANDSHAKE && !have_fp && !unchecked &&
		    dtls_peer_fingerprint(d, pfp, sizeof(pfp)) == 0) {
			/* no SDP fingerprint: take what the peer shows, once
			 * the handshake has come this far */
			struct dtls_fp fp;
			char b[200];

			snprintf(b, sizeof(b), "sha-256 %s", pfp);
			if (dtls_fp_parse(slice_cstr(b), &fp) == 0) {
				dtls_set_peer(d, &fp);
				st = dtls_state(d);
				unchecked = 1;
			}
		}
		if (st == DTLS_DONE && linger < 0) {
			if (dtls_srtp_keys(d, &k) != 0) {
				fprintf(stderr, "failed: no keys\n");
				rc = 4;
				goto out;
			}
			print_material(&k, cfg.role);
			if (dtls_peer_fingerprint(d, pfp, sizeof(pfp)) == 0)
				printf("peer %s\n", pfp);
			if (unchecked)
				printf("unchecked\n");
			printf("biggest %zu\n", pe.biggest);
			fflush(stdout);
			linger = now_ms() + (cfg.role == DTLS_PASSIVE ? 500 : 0);
		}
	}
out:
	/* every way out frees what it made (a leak checker watches) */
	dtls_free(d);
	dtls_cert_free(cert);
	close(pe.fd);
	if (pe.keylog != NULL)
		fclose(pe.keylog);
	return rc;
}
