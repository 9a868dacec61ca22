/* sip-tls-client.c - scripted SIP-over-TLS test client (stock OpenSSL). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "peer.h"

/*
 * sip-tls-client [-s CHUNK] [-j] [-w MS] [-c N] [-n] [-a] [-S SNI]
 *                [-d MS] ADDR:PORT [FILE...]
 *
 * Connects (no certificate check), sends every FILE (-j: all in one
 * TLS record; -s: in CHUNK-byte records, each record its own write with
 * -d MS between them), then prints what arrives for -w MS (default 2000)
 * or until -c N messages came (-r BYTES: a small socket receive buffer): each message followed by a "----" line,
 * a CRLF pong as "PONG", the end of the connection as "CLOSED".
 * -n: never read (a client that stops reading). -a: answer requests
 * with 200 OK (100 first for INVITE). -h: only the handshake, then wait.
 */

static void
die(const char *m)
{
	fprintf(stderr, "sip-tls-client: %s\n", m);
	exit(1);
}

static void
ssl_write_all(SSL *ssl, int fd, const void *p, size_t n)
{
	while (n > 0) {
		size_t w = 0;
		int r = SSL_write_ex(ssl, p, n, &w);

		if (r == 1) {
			p = (const uint8_t *)p + w;
			n -= w;
			continue;
		}
		r = SSL_get_error(ssl, r);
		if (r == SSL_ERROR_WANT_WRITE || r == SSL_ERROR_WANT_READ) {
			struct pollfd pf = { fd, r == SSL_ERROR_WANT_WRITE ?
			    POLLOUT : POLLIN, 0 };
			poll(&pf, 1, 1000);
			continue;
		}
		die("write failed");
	}
}

static void
answer(SSL *ssl, int fd, struct slice raw)
{
	struct sip_msg m;
	struct buf *b = buf_new(65536);

	if (sip_parse(&m, raw) != 0 || !m.is_request ||
	    slice_eq_cstr(m.method, "ACK")) {
		buf_free(b);
		return;
	}
	if (slice_eq_cstr(m.method, "INVITE")) {
		if (sip_build_response(&m, 100, NULL, SLICE_NULL, SLICE_NULL, b)
		    == 0)
			ssl_write_all(ssl, fd, buf_data(b), buf_len(b));
		buf_reset(b);
	}
	{
		/* A UAS copies Record-Route into its answer. */
		struct buf *x = buf_new(8192);
		size_t i;

		for (i = 0; i < m.nhdr; i++)
			if (m.hdr[i].id == SIP_H_RECORD_ROUTE &&
			    buf_printf(x, "Record-Route: %.*s\r\n",
			    (int)m.hdr[i].value.len,
			    (const char *)m.hdr[i].value.p) != 0)
				break;
		if (buf_append_cstr(x, "Contact: <sip:client@127.0.0.10:5061;"
		    "transport=tls>\r\n") == 0 && sip_build_response(&m, 200,
		    NULL, SLICE_LIT("cli1"), buf_slice(x), b) == 0)
			ssl_write_all(ssl, fd, buf_data(b), buf_len(b));
		buf_free(x);
	}
	buf_free(b);
}

int
main(int argc, char **argv)
{
	size_t chunk = 0;
	int join = 0, noread = 0, ans = 0, c, fd, count = -1, got = 0;
	int rcvbuf = 0;
	unsigned wait = 2000, delay = 0;
	const char *sni = NULL;
	struct net_addr a;
	SSL_CTX *ctx;
	SSL *ssl;
	struct buf *all = buf_new(1 << 22);
	struct sip_framer *fr = sip_framer_new(1 << 20);
	uint64_t end;

	while ((c = getopt(argc, argv, "s:jw:c:naS:d:r:")) != -1) {
		switch (c) {
		case 's': chunk = (size_t)strtoul(optarg, NULL, 10); break;
		case 'j': join = 1; break;
		case 'w': wait = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': count = (int)strtol(optarg, NULL, 10); break;
		case 'n': noread = 1; break;
		case 'a': ans = 1; break;
		case 'S': sni = optarg; break;
		case 'd': delay = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': rcvbuf = (int)strtol(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (optind >= argc || net_addr_parse(slice_cstr(argv[optind]), &a))
		die("usage: sip-tls-client [opts] ADDR:PORT [FILE...]");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((fd = socket(net_addr_family(&a), SOCK_STREAM, 0)) < 0)
		die("socket failed");
	/* A small window makes a non-reading client back up quickly. */
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (connect(fd, &a.u.sa, a.len) != 0)
		die("connect failed");
	ctx = SSL_CTX_new(TLS_client_method());
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (sni != NULL)
		SSL_set_tlsext_host_name(ssl, sni);
	if (SSL_connect(ssl) != 1) {
		printf("HANDSHAKE FAILED\n");
		return 1;
	}
	printf("CONNECTED %s\n", SSL_get_version(ssl));
	for (c = optind + 1; c < argc; c++) {
		FILE *f = fopen(argv[c], "rb");
		uint8_t tmp[65536];
		size_t n;

		if (f == NULL)
			die("cannot open a file");
		while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
			if (buf_append(all, tmp, n) != 0)
				die("too much input");
		fclose(f);
		if (!join && chunk == 0) {
			ssl_write_all(ssl, fd, buf_data(all), buf_len(all));
			buf_reset(all);
		}
	}
	if (buf_len(all) > 0) {
		size_t off = 0, n = buf_len(all);
		size_t step = chunk > 0 ? chunk : n;

		while (off < n) {
			size_t k = n - off < step ? n - off : step;
			ssl_write_all(ssl, fd, buf_data(all) + off, k);
			off += k;
			if (delay > 0 && off < n)
				usleep(delay * 1000);
		}
	}
	end = peer_now_ms() + wait;
	if (noread) {
		while (peer_now_ms() < end)
			usleep(10000);
		printf("DONE\n");
		return 0;
	}
	while (peer_now_ms() < end && (count < 0 || got < count)) {
		struct pollfd pf = { fd, POLLIN, 0 };
		uint8_t rb[16384];
		int r;

		if (SSL_pending(ssl) == 0 &&
		    poll(&pf, 1, (int)(end - peer_now_ms())) <= 0)
			continue;
		r = SSL_read(ssl, rb, sizeof(rb));
		if (r <= 0) {
			printf("CLOSED\n");
			return 0;
		}
		if (sip_framer_feed(fr, rb, (size_t)r) != 0)
			die("framer overflow");
		for (;;) {
			struct slice msg;
			int k = sip_framer_next(fr, &msg);

			if (k == SIP_FRAME_NONE)
				break;
			if (k < 0) {
				/* A pong is a lone CRLF: not a message. */
				printf("UNFRAMEABLE\n");
				return 1;
			}
			if (k == SIP_FRAME_PING)
				continue;
			peer_print_lf(msg.p, msg.len);
			printf("----\n");
			got++;
			if (ans)
				answer(ssl, fd, msg);
		}
		/* A single CRLF pong stays in the framer: report it. */
		if (sip_framer_pending(fr) == 2) {
			printf("PONG\n");
			sip_framer_free(fr);
			fr = sip_framer_new(1 << 20);
		}
	}
	SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	buf_free(all);
	sip_framer_free(fr);
	return 0;
}
