/* tls.c - OpenSSL 3 server contexts and non-blocking TLS connections. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/buf.h"
#include "base/secfile.h"
#include "base/ev.h"
#include "sip/tls.h"
#include "base/wqueue.h"

struct ctxset {
	SSL_CTX *def;
	SSL_CTX *sni[TLS_MAX_SNI];
};

struct tls_server {
	struct tls_conf conf;
	const struct logger *lg;
	struct ctxset cur;
	int keylog_fd;
};

struct tls_conn {
	struct tls_server *s;
	SSL *ssl;
	struct buf *wq;		/* allocated only while something waits */
	unsigned hs_want;	/* events the handshake waits for */
	unsigned rd_want;	/* EV_WRITE if the last read wanted a write */
	unsigned wr_want;	/* events a blocked write waits for */
	int hs_done;
};

#define TLS_WQ_DEFAULT (256 * 1024)

static void
log_ssl_errors(const struct logger *lg, const char *what)
{
	unsigned long e;
	char b[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, b, sizeof(b));
		log_msg(lg, LOG_ERR, "%s: %s", what, b);
	}
}

static void
keylog_cb(const SSL *ssl, const char *line)
{
	struct tls_server *s = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	char b[1024];
	size_t n;

	if (s == NULL || s->keylog_fd < 0)
		return;
	n = strlen(line);
	if (n + 1 > sizeof(b))
		return;
	memcpy(b, line, n);
	b[n++] = '\n';
	/* One write() on an O_APPEND fd: lines never interleave. */
	if (write(s->keylog_fd, b, n) != (ssize_t)n)
		log_msg(s->lg, LOG_WARN, "tls: key log write failed");
}

static int
sni_cb(SSL *ssl, int *al, void *arg)
{
	struct tls_server *s = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	size_t i;

	(void)al;
	if (name == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	for (i = 0; i < s->conf.nsni; i++) {
		if (strcasecmp(name, s->conf.sni[i].name) == 0 &&
		    s->cur.sni[i] != NULL) {
			SSL_set_SSL_CTX(ssl, s->cur.sni[i]);
			return SSL_TLSEXT_ERR_OK;
		}
	}
	/* Clients often send an IP or nothing: use the default. */
	return SSL_TLSEXT_ERR_NOACK;
}

static SSL_CTX *
mk_ctx(struct tls_server *s, const struct tls_certkey *ck, size_t nck,
    int *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char why[160];
	long mode;
	size_t i;

	*err = E_CRYPTO;
	if (ctx == NULL)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_IGNORE_UNEXPECTED_EOF |
	    (s->conf.no_tickets ? SSL_OP_NO_TICKET : 0));
	mode = SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
	if (!s->conf.no_release_buffers)
		mode |= SSL_MODE_RELEASE_BUFFERS;
	SSL_CTX_set_mode(ctx, mode);
	/* One TLS 1.3 ticket is enough to come back once (default: 2). */
	(void)SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(ctx, 20000);
	if (!SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"sbckit",
	    6))
		goto fail;
	for (i = 0; i < nck; i++) {
		if (access(ck[i].cert, R_OK) != 0 ||
		    access(ck[i].key, R_OK) != 0) {
			log_msg(s->lg, LOG_ERR, "tls: %s: %s", access(ck[i].cert,
			    R_OK) != 0 ? ck[i].cert : ck[i].key,
			    strerror(errno));
			*err = E_IO;
			goto fail;
		}
		if (secfile_check_private(ck[i].key, why, sizeof(why)) ==
		    E_PERM) {
			log_msg(s->lg, s->conf.key_mode_strict ? LOG_ERR :
			    LOG_WARN, "tls: %s: %s", ck[i].key, why);
			if (s->conf.key_mode_strict) {
				*err = E_PERM;
				goto fail;
			}
		}
		if (SSL_CTX_use_certificate_chain_file(ctx, ck[i].cert) != 1) {
			log_ssl_errors(s->lg, ck[i].cert);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, ck[i].key,
		    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx)
		    != 1) {
			log_ssl_errors(s->lg, ck[i].key);
			goto fail;
		}
	}
	if (s->conf.verify != TLS_VERIFY_OFF) {
		STACK_OF(X509_NAME) *names;

		if (s->conf.ca_file == NULL) {
			*err = E_INVAL;
			goto fail;
		}
		if (SSL_CTX_load_verify_locations(ctx, s->conf.ca_file, NULL)
		    != 1) {
			log_ssl_errors(s->lg, s->conf.ca_file);
			goto fail;
		}
		if ((names = SSL_load_client_CA_file(s->conf.ca_file)) != NULL)
			SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    (s->conf.verify == TLS_VERIFY_REQUIRED ?
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
	}
	SSL_CTX_set_app_data(ctx, s);
	if (s->keylog_fd >= 0)
		SSL_CTX_set_keylog_callback(ctx, keylog_cb);
	*err = 0;
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static void
ctxset_free(struct ctxset *cs)
{
	size_t i;

	SSL_CTX_free(cs->def);
	for (i = 0; i < TLS_MAX_SNI; i++)
		SSL_CTX_free(cs->sni[i]);
	memset(cs, 0, sizeof(*cs));
}

static int
ctxset_build(struct tls_server *s, struct ctxset *cs)
{
	size_t i;
	int err;

	memset(cs, 0, sizeof(*cs));
	if (s->conf.ncerts == 0 || s->conf.ncerts > TLS_MAX_CERTS ||
	    s->conf.nsni > TLS_MAX_SNI)
		return E_INVAL;
	if ((cs->def = mk_ctx(s, s->conf.certs, s->conf.ncerts, &err)) == NULL)
		return err;
	for (i = 0; i < s->conf.nsni; i++) {
		cs->sni[i] = mk_ctx(s, &s->conf.sni[i].ck, 1, &err);
		if (cs->sni[i] == NULL) {
			ctxset_free(cs);
			return err;
		}
	}
	if (s->conf.nsni > 0) {
		SSL_CTX_set_tlsext_servername_callback(cs->def, sni_cb);
		SSL_CTX_set_tlsext_servername_arg(cs->def, s);
	}
	return 0;
}

struct tls_server *
tls_server_new(const struct tls_conf *conf, const struct logger *lg, int *err)
{
	struct tls_server *s = calloc(1, sizeof(*s));
	int r;

	if (s == NULL) {
		*err = E_NOMEM;
		return NULL;
	}
	s->conf = *conf;
	if (s->conf.wq_max == 0)
		s->conf.wq_max = TLS_WQ_DEFAULT;
	s->lg = lg;
	s->keylog_fd = -1;
	if (conf->keylog != NULL) {
		char why[160];

		if ((r = secfile_append(conf->keylog, &s->keylog_fd, why,
		    sizeof(why))) != 0) {
			log_msg(lg, LOG_ERR, "tls: %s: %s", conf->keylog, why);
			s->keylog_fd = -1;
			free(s);
			*err = r;
			return NULL;
		}
	}
	if ((r = ctxset_build(s, &s->cur)) != 0) {
		tls_server_free(s);
		*err = r;
		return NULL;
	}
	*err = 0;
	return s;
}

void
tls_server_free(struct tls_server *s)
{
	if (s == NULL)
		return;
	ctxset_free(&s->cur);
	if (s->keylog_fd >= 0)
		close(s->keylog_fd);
	free(s);
}

int
tls_server_reopen_keylog(struct tls_server *s)
{
	char why[160];
	int fd, r;

	if (s->conf.keylog == NULL)
		return 0;
	if ((r = secfile_append(s->conf.keylog, &fd, why, sizeof(why))) != 0) {
		log_msg(s->lg, LOG_ERR, "tls: %s: %s; key log not reopened",
		    s->conf.keylog, why);
		return r;
	}
	/* The callback reads the descriptor at each line: the next secrets
	 * go to the new file. */
	if (s->keylog_fd >= 0)
		close(s->keylog_fd);
	s->keylog_fd = fd;
	return 0;
}

int
tls_server_reload(struct tls_server *s)
{
	struct ctxset ns;
	int r;

	if ((r = ctxset_build(s, &ns)) != 0)
		return r;
	/* Live SSLs hold their own reference on the old contexts. */
	ctxset_free(&s->cur);
	s->cur = ns;
	return 0;
}

struct tls_conn *
tls_conn_new(struct tls_server *s, int fd)
{
	struct tls_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->s = s;
	if ((c->ssl = SSL_new(s->cur.def)) == NULL ||
	    SSL_set_fd(c->ssl, fd) != 1) {
		SSL_free(c->ssl);
		free(c);
		return NULL;
	}
	SSL_set_accept_state(c->ssl);
	c->hs_want = EV_READ;
	return c;
}

void
tls_conn_free(struct tls_conn *c)
{
	if (c == NULL)
		return;
	SSL_free(c->ssl);
	buf_free(c->wq);
	free(c);
}

/* Map an SSL_get_error() result; sets *want for the retry. */
static int
map_err(struct tls_conn *c, int rc, unsigned *want)
{
	int e = SSL_get_error(c->ssl, rc);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		*want = EV_READ;
		return E_AGAIN;
	case SSL_ERROR_WANT_WRITE:
		*want = EV_WRITE;
		return E_AGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return E_IO;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		return E_IO;
	default:
		if (log_on(c->s->lg, LOG_DEBUG))
			log_ssl_errors(c->s->lg, "tls");
		ERR_clear_error();
		return E_CRYPTO;
	}
}

int
tls_conn_handshake(struct tls_conn *c)
{
	int rc, r;

	if (c->hs_done)
		return 0;
	ERR_clear_error();
	rc = SSL_do_handshake(c->ssl);
	if (rc == 1) {
		c->hs_done = 1;
		c->hs_want = 0;
		return 0;
	}
	r = map_err(c, rc, &c->hs_want);
	if (r == E_CRYPTO && SSL_get_verify_result(c->ssl) != X509_V_OK)
		return E_AUTH;
	return r;
}

int
tls_conn_established(const struct tls_conn *c)
{
	return c->hs_done;
}

int
tls_conn_read(struct tls_conn *c, void *p, size_t n, size_t *got)
{
	size_t g = 0;
	int rc;

	*got = 0;
	c->rd_want = 0;
	ERR_clear_error();
	rc = SSL_read_ex(c->ssl, p, n, &g);
	if (rc == 1) {
		*got = g;
		return 0;
	}
	if (SSL_get_error(c->ssl, rc) == SSL_ERROR_ZERO_RETURN)
		return 0;	/* close_notify or EOF: *got == 0 */
	rc = map_err(c, rc, &c->rd_want);
	if (rc == E_AGAIN && c->rd_want == EV_READ)
		c->rd_want = 0;
	return rc;
}

/* The SSL object as a write queue's writer. */
static int
ssl_write(void *arg, const uint8_t *p, size_t len, size_t *done)
{
	struct tls_conn *c = arg;
	int rc;

	ERR_clear_error();
	rc = SSL_write_ex(c->ssl, p, len, done);
	if (rc != 1)
		return map_err(c, rc, &c->wr_want);
	c->wr_want = 0;
	return 0;
}

int
tls_conn_flush(struct tls_conn *c)
{
	int r = wq_flush(&c->wq, ssl_write, c);

	if (r == 0)
		c->wr_want = 0;
	return r;
}

int
tls_conn_write(struct tls_conn *c, const void *p, size_t len)
{
	int r;

	/* Always through the queue: after a WANT_WRITE, OpenSSL wants the
	 * same bytes again, and the queue keeps them. */
	if ((r = wq_push(&c->wq, c->s->conf.wq_max, p, len)) != 0)
		return r;
	if (!c->hs_done)
		return 0;
	r = tls_conn_flush(c);
	return r == E_AGAIN ? 0 : r;
}

size_t
tls_conn_queued(const struct tls_conn *c)
{
	return wq_len(c->wq);
}

int
tls_conn_partial(const struct tls_conn *c)
{
	return SSL_has_pending(c->ssl);
}

unsigned
tls_conn_events(const struct tls_conn *c)
{
	unsigned ev;

	if (!c->hs_done)
		return c->hs_want != 0 ? c->hs_want : EV_READ;
	ev = EV_READ | c->rd_want;
	if (tls_conn_queued(c) > 0)
		ev |= c->wr_want != 0 ? c->wr_want : EV_WRITE;
	return ev;
}

void
tls_conn_shutdown(struct tls_conn *c)
{
	if (!c->hs_done)
		return;
	ERR_clear_error();
	(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
}

const char *
tls_conn_version(const struct tls_conn *c)
{
	return SSL_get_version(c->ssl);
}

const char *
tls_conn_sni(const struct tls_conn *c)
{
	return SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
}

int
tls_conn_resumed(const struct tls_conn *c)
{
	return SSL_session_reused(c->ssl);
}

int
tls_conn_peer_verified(const struct tls_conn *c)
{
	X509 *x = SSL_get0_peer_certificate(c->ssl);

	return x != NULL && SSL_get_verify_result(c->ssl) == X509_V_OK;
}
