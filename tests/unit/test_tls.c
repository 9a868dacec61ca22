/* test_tls.c - unit tests for lib/tls against a stock OpenSSL client. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/ev.h"
#include "base/net.h"
#include "sip/flow.h"
#include "sip/tls.h"
#include "t.h"

static char dir[] = "/tmp/sbk-test-tls-XXXXXX";

/* A self-signed certificate for `cn`, with an EC P-256 or RSA key. */
static int
mk_cert(const char *cn, int rsa, const char *cert, const char *key)
{
	EVP_PKEY *pk = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	FILE *f;
	int ok = 0;

	if (pk == NULL || x == NULL)
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pk);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	if (!X509_sign(x, pk, EVP_sha256()))
		goto out;
	if ((f = fopen(cert, "w")) == NULL)
		goto out;
	PEM_write_X509(f, x);
	fclose(f);
	if ((f = fopen(key, "w")) == NULL)
		goto out;
	PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	ok = 1;
out:
	X509_free(x);
	EVP_PKEY_free(pk);
	return ok;
}

struct pair {
	int sfd, cfd;
	struct tls_conn *s;
	SSL *c;
};

static void
pair_free(struct pair *p)
{
	tls_conn_free(p->s);
	/* A client freed without close_notify drops its session. */
	SSL_shutdown(p->c);
	SSL_free(p->c);
	close(p->sfd);
	close(p->cfd);
}

/* Step both sides until the handshake is done or fails. */
static int
pair_open(struct pair *p, struct tls_server *srv, SSL_CTX *cctx,
    const char *sni, SSL_SESSION *sess)
{
	int sv[2], i, sr = E_AGAIN, cr = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
		return -1;
	p->sfd = sv[0];
	p->cfd = sv[1];
	p->s = tls_conn_new(srv, p->sfd);
	p->c = SSL_new(cctx);
	SSL_set_fd(p->c, p->cfd);
	if (sni != NULL)
		SSL_set_tlsext_host_name(p->c, sni);
	if (sess != NULL)
		SSL_set_session(p->c, sess);
	SSL_set_connect_state(p->c);
	for (i = 0; i < 100; i++) {
		if (cr != 1)
			cr = SSL_do_handshake(p->c);
		if (sr == E_AGAIN)
			sr = tls_conn_handshake(p->s);
		if (sr != E_AGAIN && sr != 0)
			return sr;
		if (sr == 0 && cr == 1)
			return 0;
		if (cr <= 0 && SSL_get_error(p->c, cr) != SSL_ERROR_WANT_READ &&
		    SSL_get_error(p->c, cr) != SSL_ERROR_WANT_WRITE)
			return -2;
	}
	return -3;
}

static SSL_CTX *
client_ctx(int maxver)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	SSL_CTX_set_min_proto_version(c, TLS1_VERSION);
	SSL_CTX_set_security_level(c, 0);
	if (maxver)
		SSL_CTX_set_max_proto_version(c, maxver);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT);
	return c;
}

static char *
path(const char *name)
{
	static char b[8][256];
	static int k;
	char *p = b[k++ % 8];

	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static void
test_tls(void)
{
	struct tls_conf conf;
	struct tls_server *srv;
	struct pair p;
	SSL_CTX *cctx;
	char buf[65536];
	size_t got;
	struct stat st;
	int err, r, i;
	char cert[256], key[256], rcert[256], rkey[256], scert[256], skey[256];
	char kl[256];

	snprintf(cert, sizeof(cert), "%s", path("ec.pem"));
	snprintf(key, sizeof(key), "%s", path("ec.key"));
	snprintf(rcert, sizeof(rcert), "%s", path("rsa.pem"));
	snprintf(rkey, sizeof(rkey), "%s", path("rsa.key"));
	snprintf(scert, sizeof(scert), "%s", path("sni.pem"));
	snprintf(skey, sizeof(skey), "%s", path("sni.key"));
	snprintf(kl, sizeof(kl), "%s", path("keys.log"));
	T_OK(mk_cert("gw.test", 0, cert, key) && mk_cert("gw.test", 1, rcert,
	    rkey) && mk_cert("other.test", 0, scert, skey), "make certs");

	memset(&conf, 0, sizeof(conf));
	conf.certs[0] = (struct tls_certkey){ cert, key };
	conf.certs[1] = (struct tls_certkey){ rcert, rkey };
	conf.ncerts = 2;
	conf.sni[0] = (struct tls_sni){ "other.test", { scert, skey } };
	conf.nsni = 1;
	conf.keylog = kl;
	conf.wq_max = 32768;
	srv = tls_server_new(&conf, NULL, &err);
	T_OK(srv != NULL, "server with ECDSA + RSA + SNI");
	if (srv == NULL)
		return;

	cctx = client_ctx(0);
	T_EQ_INT(pair_open(&p, srv, cctx, NULL, NULL), 0, "handshake");
	T_EQ_STR(tls_conn_version(p.s), "TLSv1.3", "TLS 1.3 negotiated");
	{
		X509 *x = SSL_get1_peer_certificate(p.c);
		char cn[64] = "";
		X509_NAME_get_text_by_NID(X509_get_subject_name(x),
		    NID_commonName, cn, sizeof(cn));
		T_EQ_STR(cn, "gw.test", "default certificate without SNI");
		X509_free(x);
	}
	/* Client -> server, several writes arriving as one read and a read
	 * with a small buffer. */
	SSL_write(p.c, "hello ", 6);
	SSL_write(p.c, "world", 5);
	r = tls_conn_read(p.s, buf, 3, &got);
	T_OK(r == 0 && got == 3 && memcmp(buf, "hel", 3) == 0, "read part");
	{
		size_t tot = 3;
		while (tls_conn_read(p.s, buf + tot, sizeof(buf) - tot, &got)
		    == 0 && got > 0)
			tot += got;
		T_OK(tot == 11 && memcmp(buf, "hello world", 11) == 0,
		    "read rest");
	}
	T_EQ_INT(tls_conn_read(p.s, buf, sizeof(buf), &got), E_AGAIN,
	    "nothing more: E_AGAIN");
	T_EQ_INT(tls_conn_events(p.s) & EV_WRITE, 0, "idle wants no write");

	/* Server -> client: the client stops reading; the queue fills up to
	 * its cap and then refuses without blocking. */
	memset(buf, 'x', sizeof(buf));
	for (i = 0, r = 0; i < 200 && r == 0; i++)
		r = tls_conn_write(p.s, buf, 4000);
	T_EQ_INT(r, E_LIMIT, "write queue cap reached (client not reading)");
	T_OK(tls_conn_queued(p.s) > 0 && (tls_conn_events(p.s) & EV_WRITE),
	    "blocked queue asks for EV_WRITE");
	/* Drain on the client; the server flushes. */
	for (i = 0; i < 1000 && tls_conn_queued(p.s) > 0; i++) {
		while (SSL_read(p.c, buf, sizeof(buf)) > 0)
			;
		if (tls_conn_flush(p.s) < 0 && tls_conn_queued(p.s) == 0)
			break;
	}
	T_EQ_INT(tls_conn_queued(p.s), 0, "queue drains when the peer reads");
	{
		SSL_SESSION *sess;

		/* TLS 1.3 tickets arrive after the handshake. */
		SSL_read(p.c, buf, 1);
		sess = SSL_get1_session(p.c);
		tls_conn_shutdown(p.s);
		pair_free(&p);
		T_EQ_INT(pair_open(&p, srv, cctx, NULL, sess), 0,
		    "second handshake with the session");
		T_OK(tls_conn_resumed(p.s), "session resumed");
		SSL_SESSION_free(sess);
		pair_free(&p);
	}
	T_EQ_INT(pair_open(&p, srv, cctx, "other.test", NULL), 0, "SNI");
	{
		X509 *x = SSL_get1_peer_certificate(p.c);
		char cn[64] = "";
		X509_NAME_get_text_by_NID(X509_get_subject_name(x),
		    NID_commonName, cn, sizeof(cn));
		T_EQ_STR(cn, "other.test", "SNI picks its certificate");
		T_EQ_STR(tls_conn_sni(p.s), "other.test", "SNI name seen");
		X509_free(x);
	}
	pair_free(&p);
	SSL_CTX_free(cctx);

	/* TLS 1.1 and below are refused. */
	cctx = client_ctx(TLS1_1_VERSION);
	T_OK(pair_open(&p, srv, cctx, NULL, NULL) < 0, "TLS 1.1 refused");
	pair_free(&p);
	SSL_CTX_free(cctx);

	/* TLS 1.2 with ECDSA and with RSA only. */
	cctx = client_ctx(TLS1_2_VERSION);
	SSL_CTX_set_cipher_list(cctx, "ECDHE-RSA-AES128-GCM-SHA256");
	T_EQ_INT(pair_open(&p, srv, cctx, NULL, NULL), 0,
	    "TLS 1.2 RSA-only client served by the RSA certificate");
	T_EQ_STR(tls_conn_version(p.s), "TLSv1.2", "TLS 1.2");
	/* Renegotiation refused: the client asks, the server ignores. */
	T_OK(SSL_renegotiate(p.c) == 1, "client requests renegotiation");
	SSL_do_handshake(p.c);
	r = tls_conn_read(p.s, buf, sizeof(buf), &got);
	T_OK(r != 0 || got == 0, "no renegotiated data exchange");
	pair_free(&p);
	SSL_CTX_free(cctx);

	/* Key log: NSS format lines, mode 0600. */
	T_OK(stat(kl, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "key log is 0600");
	{
		FILE *f = fopen(kl, "r");
		char line[512];
		int cr = 0, ts = 0;
		while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
			if (strncmp(line, "CLIENT_RANDOM ", 14) == 0)
				cr++;
			if (strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0)
				ts++;
		}
		if (f != NULL)
			fclose(f);
		T_OK(cr > 0 && ts > 0, "key log has TLS 1.2 and 1.3 lines");
	}

	/* Reload keeps a live connection and serves the new certificate. */
	cctx = client_ctx(0);
	T_EQ_INT(pair_open(&p, srv, cctx, NULL, NULL), 0, "connection before");
	T_OK(mk_cert("gw2.test", 0, cert, key), "replace cert");
	T_EQ_INT(tls_server_reload(srv), 0, "reload");
	SSL_write(p.c, "ping", 4);
	T_OK(tls_conn_read(p.s, buf, sizeof(buf), &got) == 0 && got == 4,
	    "old connection still works after reload");
	T_OK(tls_conn_write(p.s, "pong", 4) == 0 && SSL_read(p.c, buf, 4) == 4
	    && memcmp(buf, "pong", 4) == 0, "and in the other direction");
	{
		struct pair q;
		X509 *x;
		char cn[64] = "";
		T_EQ_INT(pair_open(&q, srv, cctx, NULL, NULL), 0, "new conn");
		x = SSL_get1_peer_certificate(q.c);
		X509_NAME_get_text_by_NID(X509_get_subject_name(x),
		    NID_commonName, cn, sizeof(cn));
		T_EQ_STR(cn, "gw2.test", "new connection gets the new cert");
		X509_free(x);
		pair_free(&q);
	}
	pair_free(&p);
	/* A broken reload keeps the old certificates. */
	{
		FILE *f = fopen(key, "w");
		fputs("garbage\n", f);
		fclose(f);
	}
	T_OK(tls_server_reload(srv) < 0, "reload with a bad key fails");
	T_EQ_INT(pair_open(&p, srv, cctx, NULL, NULL), 0,
	    "still serving the previous certificate");
	pair_free(&p);
	SSL_CTX_free(cctx);
	tls_server_free(srv);
	tls_server_free(NULL);

	/* Required client certificates. */
	memset(&conf, 0, sizeof(conf));
	T_OK(mk_cert("gw.test", 0, cert, key), "fresh cert");
	conf.certs[0] = (struct tls_certkey){ cert, key };
	conf.ncerts = 1;
	conf.verify = TLS_VERIFY_REQUIRED;
	conf.ca_file = scert;
	srv = tls_server_new(&conf, NULL, &err);
	T_OK(srv != NULL, "server requiring client certs");
	cctx = client_ctx(0);
	T_OK(pair_open(&p, srv, cctx, NULL, NULL) != 0 ||
	    tls_conn_read(p.s, buf, 1, &got) < 0,
	    "client without certificate refused");
	pair_free(&p);
	SSL_CTX_use_certificate_file(cctx, scert, SSL_FILETYPE_PEM);
	SSL_CTX_use_PrivateKey_file(cctx, skey, SSL_FILETYPE_PEM);
	T_EQ_INT(pair_open(&p, srv, cctx, NULL, NULL), 0,
	    "client with a certificate from the CA file");
	T_OK(tls_conn_peer_verified(p.s), "peer verified");
	pair_free(&p);
	SSL_CTX_free(cctx);
	tls_server_free(srv);

	conf.verify = TLS_VERIFY_OFF;
	conf.certs[0].key = path("missing.key");
	T_OK(tls_server_new(&conf, NULL, &err) == NULL && err == E_IO,
	    "missing key file is E_IO");
}

/* ---- the flow table's limits (lib/sip/flow) ---------------------------- */

struct fl {
	int msgs;
};

static void
fl_msg(void *arg, uint64_t flow, struct slice msg)
{
	(void)flow;
	(void)msg;
	((struct fl *)arg)->msgs++;
}

/* Run the loop for about `ms`. */
static void
pump(struct ev_loop *l, int ms)
{
	uint64_t t0 = ev_clock_ns();

	while (ev_clock_ns() - t0 < (uint64_t)ms * 1000000)
		(void)ev_run_once(l, 5);
}

/* A plain TCP connection from address `src` (127.x.y.z) to `to`. */
static int
tcp_from(const char *src, const struct net_addr *to)
{
	struct net_addr s;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (net_addr_parse(slice_cstr(src), &s) != 0 ||
	    bind(fd, &s.u.sa, s.len) != 0 ||
	    connect(fd, &to->u.sa, to->len) != 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 1 if the server closed `fd` (what it sent before is drained). */
static int
gone(int fd)
{
	char b[4096];
	ssize_t r;

	while ((r = read(fd, b, sizeof(b))) > 0)
		;
	return r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
}

/* A TLS client from `src`, handshaken while the loop runs, or NULL. */
static SSL *
tls_from(struct ev_loop *l, SSL_CTX *cctx, const char *src,
    const struct net_addr *to, int *fdp)
{
	int fd = tcp_from(src, to), i, r;
	SSL *s;

	if (fd < 0 || (s = SSL_new(cctx)) == NULL)
		return NULL;
	SSL_set_fd(s, fd);
	SSL_set_connect_state(s);
	for (i = 0; i < 400; i++) {
		if ((r = SSL_do_handshake(s)) == 1) {
			*fdp = fd;
			return s;
		}
		r = SSL_get_error(s, r);
		if (r != SSL_ERROR_WANT_READ && r != SSL_ERROR_WANT_WRITE)
			break;
		(void)ev_run_once(l, 5);
	}
	SSL_free(s);
	close(fd);
	return NULL;
}

static int
tls_put(SSL *s, const char *p)
{
	return SSL_write(s, p, (int)strlen(p)) == (int)strlen(p);
}

static void
tls_drop(SSL *s, int fd)
{
	SSL_free(s);
	if (fd >= 0)
		close(fd);
}

static const char opt_msg[] = "OPTIONS sip:gw.test SIP/2.0\r\n"
    "Content-Length: 0\r\n\r\n";

/*
 * A table full of connections that never handshake: a phone's connection
 * evicts the oldest of them instead of being refused; once every slot
 * holds a useful flow, newcomers are refused. Per-address limit first.
 */
static void
test_flow_evict(struct ev_loop *l, struct tls_server *srv, SSL_CTX *cctx)
{
	struct flow_conf fc = { .max_conns = 4, .max_per_ip = 3,
	    .first_msg_ms = FLOW_NEVER };
	struct fl f = { 0 };
	struct flow_cbs cbs = { fl_msg, NULL, NULL, &f };
	struct flow_table *t;
	struct flow_stats st;
	struct net_addr la;
	int lfd = -1, r[7], cfd[4], i;
	SSL *c[4];
	char src[32];

	T_OK((t = flow_table_new(l, srv, &fc, &cbs, NULL)) != NULL,
	    "flow table");
	T_OK(net_addr_parse(SLICE_LIT("127.0.0.1:0"), &la) == 0 &&
	    net_tcp_listen(&la, 64, 0, &lfd) == 0 &&
	    net_local_addr(lfd, &la) == 0 && flow_listen(t, lfd) == 0,
	    "listening");
	r[4] = tcp_from("127.0.0.2:0", &la);
	pump(l, 50);
	for (i = 0; i < 4; i++)
		r[i] = tcp_from("127.0.0.1:0", &la);
	pump(l, 100);
	flow_stats(t, &st);
	T_EQ_INT(st.refused_per_ip, 1, "the 4th from one address refused");
	T_OK(gone(r[3]) && !gone(r[0]), "and closed, the others open");
	T_EQ_INT(flow_count(t), 4, "full: 3 from 127.0.0.1, 1 before");
	for (i = 0; i < 4; i++) {
		T_OK(snprintf(src, sizeof(src), "127.0.1.%d:0", i + 1) > 0 &&
		    (c[i] = tls_from(l, cctx, src, &la, &cfd[i])) != NULL,
		    "phone %d gets a slot in a full table", i + 1);
		if (c[i] == NULL)
			goto out;
		T_OK(tls_put(c[i], opt_msg), "phone %d sends", i + 1);
		pump(l, 30);
		T_EQ_INT(f.msgs, i + 1, "its message came");
		if (i == 0)
			T_OK(gone(r[0]) && !gone(r[4]), "the oldest from the "
			    "busiest address went, not an older lone one");
	}
	flow_stats(t, &st);
	T_EQ_INT(st.evicted, 4, "4 silent connections evicted");
	T_OK(gone(r[0]) && gone(r[1]) && gone(r[2]) && gone(r[4]),
	    "all of them closed");
	T_EQ_INT(flow_count(t), 4, "4 phones");
	r[5] = tcp_from("127.0.0.5:0", &la);
	pump(l, 50);
	flow_stats(t, &st);
	T_EQ_INT(st.refused_full, 1, "full of useful flows: refused");
	T_OK(r[5] >= 0 && gone(r[5]), "closed");
	T_EQ_INT(st.evicted, 4, "no phone evicted");
	T_EQ_INT(st.accepted, 8, "accepted: 3 + 1 + 4 phones");
	for (i = 0; i < 4; i++)
		tls_drop(c[i], cfd[i]);
	for (i = 0; i < 6; i++)
		if (r[i] >= 0)
			close(r[i]);
out:
	flow_table_free(t);
}

/*
 * Partial messages against the budget: over it, the flow holding the
 * most is closed, the smaller one stays; a whole message gives its
 * buffer back.
 */
static void
test_flow_budget(struct ev_loop *l, struct tls_server *srv, SSL_CTX *cctx)
{
	struct flow_conf fc = { .max_conns = 8, .buffer_budget = 16384 };
	struct fl f = { 0 };
	struct flow_cbs cbs = { fl_msg, NULL, NULL, &f };
	struct flow_table *t;
	struct flow_stats st;
	struct net_addr la;
	int lfd = -1, xfd = -1, yfd = -1;
	SSL *x, *y;
	char big[12001];

	T_OK((t = flow_table_new(l, srv, &fc, &cbs, NULL)) != NULL,
	    "flow table");
	T_OK(net_addr_parse(SLICE_LIT("127.0.0.1:0"), &la) == 0 &&
	    net_tcp_listen(&la, 64, 0, &lfd) == 0 &&
	    net_local_addr(lfd, &la) == 0 && flow_listen(t, lfd) == 0,
	    "listening");
	x = tls_from(l, cctx, "127.0.2.1:0", &la, &xfd);
	y = tls_from(l, cctx, "127.0.2.2:0", &la, &yfd);
	T_OK(x != NULL && y != NULL, "two clients");
	if (x == NULL || y == NULL)
		goto out;
	T_OK(tls_put(x, "OPTIONS sip:gw.test SIP/2.0\r\nX: 1\r\n"), "x: a start");
	pump(l, 50);
	flow_stats(t, &st);
	T_EQ_INT(st.held, 4096, "x holds a 4 KiB buffer");
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "OPTIONS sip:gw.test SIP/2.0\r\nX: ", 32);
	big[sizeof(big) - 1] = '\0';
	T_OK(tls_put(y, big), "y: 12000 bytes of a header");
	pump(l, 50);
	flow_stats(t, &st);
	T_EQ_INT(st.budget_closes, 1, "over the budget: one closed");
	T_OK(gone(yfd), "the larger one, y");
	T_EQ_INT(st.held, 4096, "x's buffer is what is left");
	T_OK(st.held_peak > 16384, "the peak went over (%zu)", st.held_peak);
	T_OK(tls_put(x, "Content-Length: 0\r\n\r\n"), "x completes");
	pump(l, 50);
	flow_stats(t, &st);
	T_EQ_INT(f.msgs, 1, "x's message came");
	T_EQ_INT(st.held, 0, "nothing held");
	T_EQ_INT(flow_count(t), 1, "x open");
out:
	if (x != NULL)
		tls_drop(x, xfd);
	if (y != NULL)
		tls_drop(y, yfd);
	flow_table_free(t);
}

/*
 * Deadlines: no handshake, no first message, a message that does not
 * complete; a flow that talks stays.
 */
static void
test_flow_deadlines(struct ev_loop *l, struct tls_server *srv,
    SSL_CTX *cctx)
{
	struct flow_conf fc = { .max_conns = 8, .handshake_ms = 1000,
	    .first_msg_ms = 1500, .msg_ms = 1000 };
	struct fl f = { 0 };
	struct flow_cbs cbs = { fl_msg, NULL, NULL, &f };
	struct flow_table *t;
	struct flow_stats st;
	struct net_addr la;
	int lfd = -1, q, pfd = -1, sfd = -1, kfd = -1, rfd = -1, afd = -1, i;
	SSL *p, *s, *k, *r = NULL, *a = NULL;

	T_OK((t = flow_table_new(l, srv, &fc, &cbs, NULL)) != NULL,
	    "flow table");
	T_OK(net_addr_parse(SLICE_LIT("127.0.0.1:0"), &la) == 0 &&
	    net_tcp_listen(&la, 64, 0, &lfd) == 0 &&
	    net_local_addr(lfd, &la) == 0 && flow_listen(t, lfd) == 0,
	    "listening");
	q = tcp_from("127.0.3.1:0", &la);
	p = tls_from(l, cctx, "127.0.3.2:0", &la, &pfd);
	s = tls_from(l, cctx, "127.0.3.3:0", &la, &sfd);
	k = tls_from(l, cctx, "127.0.3.4:0", &la, &kfd);
	T_OK(q >= 0 && p != NULL && s != NULL && k != NULL, "four clients");
	if (p == NULL || s == NULL || k == NULL)
		goto out;
	T_OK(tls_put(p, opt_msg) && tls_put(p, "OPTIONS sip:gw.test SIP/2.0"
	    "\r\n"), "p: a message, then a part of one");
	/* a: a message, then a single CRLF keep-alive, and silence. */
	a = tls_from(l, cctx, "127.0.3.6:0", &la, &afd);
	T_OK(a != NULL && tls_put(a, opt_msg) && tls_put(a, "\r\n"),
	    "a: a message and a CRLF");
	/* r: a message, then half a TLS record (no plaintext at all). */
	r = tls_from(l, cctx, "127.0.3.5:0", &la, &rfd);
	T_OK(r != NULL && tls_put(r, opt_msg), "r: a message");
	if (r != NULL) {
		BIO *mem = BIO_new(BIO_s_mem());
		char *rec;
		long n;

		SSL_set0_wbio(r, mem);
		T_OK(tls_put(r, opt_msg) && (n = BIO_get_mem_data(mem,
		    &rec)) > 20 && write(rfd, rec, (size_t)n / 2) ==
		    (ssize_t)n / 2, "r: half a record");
	}
	for (i = 0; i < 8; i++) {
		T_OK(tls_put(k, opt_msg), "k talks");
		pump(l, 400);
	}
	flow_stats(t, &st);
	T_EQ_INT(st.handshake_timeouts, 1, "no handshake: closed");
	T_EQ_INT(st.first_msg_timeouts, 1, "no first message: closed");
	T_EQ_INT(st.msg_timeouts, 2, "a message or record not complete: "
	    "closed");
	T_OK(gone(q) && gone(pfd) && gone(sfd) && gone(rfd), "all four");
	T_OK(!gone(kfd) && flow_count(t) == 2, "the one that talks stays");
	T_OK(!gone(afd), "a single CRLF is no message begun");
	T_EQ_INT(f.msgs, 11, "its messages and p's, r's and a's first came");
	T_EQ_INT(st.held, 4096, "only a's CRLF is held");
out:
	if (q >= 0)
		close(q);
	if (p != NULL)
		tls_drop(p, pfd);
	if (s != NULL)
		tls_drop(s, sfd);
	if (k != NULL)
		tls_drop(k, kfd);
	if (r != NULL)
		tls_drop(r, rfd);
	if (a != NULL)
		tls_drop(a, afd);
	flow_table_free(t);
}

static void
test_flows(void)
{
	struct tls_conf conf;
	struct tls_server *srv;
	struct ev_loop *l = ev_new(NULL);
	SSL_CTX *cctx = client_ctx(0);
	int err;

	memset(&conf, 0, sizeof(conf));
	T_OK(mk_cert("gw.test", 0, path("fl.pem"), path("fl.key")),
	    "flow cert");
	conf.certs[0] = (struct tls_certkey){ path("fl.pem"),
	    path("fl.key") };
	conf.ncerts = 1;
	conf.wq_max = 32768;
	srv = tls_server_new(&conf, NULL, &err);
	T_OK(l != NULL && srv != NULL && cctx != NULL, "loop and server");
	if (l != NULL && srv != NULL && cctx != NULL) {
		test_flow_evict(l, srv, cctx);
		test_flow_budget(l, srv, cctx);
		test_flow_deadlines(l, srv, cctx);
	}
	SSL_CTX_free(cctx);
	tls_server_free(srv);
	ev_free(l);
}

int
main(void)
{
	char cmd[512];

	if (mkdtemp(dir) == NULL)
		return 1;
	test_tls();
	test_flows();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return t_done();
}
