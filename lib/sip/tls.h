/* tls.h - OpenSSL 3 server contexts and non-blocking TLS connections. */
#ifndef SBK_TLS_H
#define SBK_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/log.h"
#include "base/slice.h"

/*
 * Ownership: a tls_server owns its SSL_CTX set and the key log fd; a
 * tls_conn owns its SSL and write queue but BORROWS the socket fd (the
 * caller closes it after tls_conn_free()). Connections keep a reference
 * on the SSL_CTX they were made with, so tls_server_reload() never drops a
 * live connection: new connections get the new certificates.
 */

enum tls_verify { TLS_VERIFY_OFF = 0, TLS_VERIFY_OPTIONAL, TLS_VERIFY_REQUIRED };

#define TLS_MAX_CERTS 2		/* e.g. one ECDSA and one RSA */
#define TLS_MAX_SNI 8

struct tls_certkey {
	const char *cert;	/* PEM: certificate then its chain */
	const char *key;	/* PEM private key */
};

struct tls_sni {
	const char *name;	/* server name to match (exact, any case) */
	struct tls_certkey ck;
};

struct tls_conf {
	struct tls_certkey certs[TLS_MAX_CERTS];	/* default identity */
	size_t ncerts;
	struct tls_sni sni[TLS_MAX_SNI];
	size_t nsni;
	enum tls_verify verify;
	const char *ca_file;		/* for client certificates */
	const char *keylog;		/* NSS key log file, or NULL */
	int no_release_buffers;		/* 1: OpenSSL default buffers (bench) */
	int no_tickets;			/* 1: stateful session cache only */
	int key_mode_strict;		/* 1: a key file group/others may
					 * read is an error, not a warning */
	size_t wq_max;			/* write queue cap per connection */
};

struct tls_server;

/*
 * Build a server from `conf` (the struct is copied; its strings are
 * borrowed and must outlive the server: files are read now and again at
 * each reload). Returns NULL with *err set (E_IO unreadable file, E_CRYPTO
 * bad certificate/key or mismatch, E_INVAL no certificate, E_PERM a key
 * file group or others may read when `key_mode_strict`, else a warning;
 * for the key log, what base/secfile.h's secfile_append() refuses). Details go to
 * `lg` (borrowed, may be NULL).
 */
struct tls_server *tls_server_new(const struct tls_conf *conf,
    const struct logger *lg, int *err) WUR;
void tls_server_free(struct tls_server *s);
/* Re-read certificates, keys and CA; on failure the old ones stay. */
int tls_server_reload(struct tls_server *s) WUR;
/*
 * Reopen the key log at the same path (after log rotation: a file renamed
 * away gets a new one, created 0600, as tls_server_new() opens it). 0,
 * also when there is no key log; on failure (what secfile_append()
 * refuses, said through the logger) the old descriptor stays.
 */
int tls_server_reopen_keylog(struct tls_server *s) WUR;

struct tls_conn;

/* A server-side connection on accepted, non-blocking socket `fd`. */
struct tls_conn *tls_conn_new(struct tls_server *s, int fd) WUR;
void tls_conn_free(struct tls_conn *c);

/*
 * Drive the handshake. 0: done; E_AGAIN: call again when tls_conn_events()
 * says; E_CRYPTO / E_AUTH (client cert) / E_IO: close.
 */
int tls_conn_handshake(struct tls_conn *c) WUR;
int tls_conn_established(const struct tls_conn *c);

/*
 * Read decrypted bytes: 0 with *got > 0; 0 with *got == 0 means the peer
 * closed; E_AGAIN nothing now; E_IO / E_CRYPTO: close.
 */
int tls_conn_read(struct tls_conn *c, void *p, size_t n, size_t *got) WUR;

/*
 * Queue `len` bytes and try to send. 0: queued (maybe sent); E_LIMIT:
 * the queue cap would be passed (nothing queued: the peer is too slow);
 * E_IO / E_CRYPTO: close.
 */
int tls_conn_write(struct tls_conn *c, const void *p, size_t len) WUR;
/* Try to send what is queued: 0 all sent, E_AGAIN some left, <0 close. */
int tls_conn_flush(struct tls_conn *c) WUR;
size_t tls_conn_queued(const struct tls_conn *c);
/*
 * 1 while bytes of a TLS record that is not whole yet wait in OpenSSL's
 * buffer: a peer that trickles a record holds ~17 KiB there and shows
 * no plaintext, so a message clock must count those bytes too.
 */
int tls_conn_partial(const struct tls_conn *c);

/*
 * The EV_READ / EV_WRITE interest the connection needs now, accounting for
 * OpenSSL's WANT_READ on a write and WANT_WRITE on a read.
 */
unsigned tls_conn_events(const struct tls_conn *c);
/* Start a close_notify (best effort, never blocks). */
void tls_conn_shutdown(struct tls_conn *c);

/* Negotiated version ("TLSv1.3"), the SNI name sent (or NULL), reuse. */
const char *tls_conn_version(const struct tls_conn *c);
const char *tls_conn_sni(const struct tls_conn *c);
int tls_conn_resumed(const struct tls_conn *c);
/* 1 if the client presented a certificate that verified. */
int tls_conn_peer_verified(const struct tls_conn *c);

#endif
