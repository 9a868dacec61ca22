/* dtls_int.h - what dtls.c needs of a certificate (media wing only). */
#ifndef SBK_DTLS_INT_H
#define SBK_DTLS_INT_H

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include "media/dtls.h"

/*
 * A certificate carries the one SSL_CTX of its associations (key,
 * certificate, versions, ciphers, groups, verify and key log callbacks)
 * and the BIO method through which they speak datagrams: made once per
 * process, shared read-only by every association and thread.
 */
struct dtls_cert {
	EVP_PKEY *key;
	X509 *x509;
	SSL_CTX *ctx;
	BIO_METHOD *bio;
	char fp[DTLS_FP_MAX];
};

/* The SSL_CTX callbacks, in dtls.c (they find the association through
 * SSL_get_app_data()). */
int dtls_verify_cb(int ok, X509_STORE_CTX *st);
void dtls_keylog_cb(const SSL *ssl, const char *line);
void dtls_info_cb(const SSL *ssl, int where, int ret);
/* The BIO method of dtls.c's datagram BIO; NULL with E_NOMEM. */
BIO_METHOD *dtls_bio_method(void);

/* `len` bytes as "AB:CD:..", in `out` of `n` >= 3 * len bytes. */
void dtls_hex_colon(const uint8_t *p, size_t len, char *out, size_t n);

#endif
