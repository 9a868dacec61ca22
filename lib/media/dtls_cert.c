/* dtls_cert.c - our DTLS certificate, its SSL_CTX, and SDP fingerprints. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/hex.h"
#include "base/rnd.h"
#include "media/dtls_int.h"

/*
 * What WebRTC peers speak: ECDHE only (forward secrecy), AEAD first, the
 * CBC-SHA1 ones last for DTLS 1.0 phones (DTLS 1.0 has no GCM). The RSA
 * ones are for peers with RSA certificates when we are the client; as a
 * server our ECDSA key picks the ECDSA ones.
 */
#define DTLS_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:" \
	"ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA"
#define DTLS_GROUPS "X25519:P-256:P-384"
#define DTLS_CN "sbckit"
#define DTLS_DAYS_BEFORE 1	/* peers whose clock is behind ours */
#define DTLS_DAYS_AFTER 30

void
dtls_hex_colon(const uint8_t *p, size_t len, char *out, size_t n)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t i, o = 0;

	if (n == 0)
		return;
	for (i = 0; i < len && o + 3 <= n; i++) {
		if (i > 0)
			out[o++] = ':';
		out[o++] = hx[p[i] >> 4];
		out[o++] = hx[p[i] & 15];
	}
	out[o < n ? o : n - 1] = '\0';
}

/* A self-signed X.509 v3 certificate for `key`: random 63-bit serial,
 * CN "sbckit", valid from yesterday for a month, signed with SHA-256. */
static X509 *
make_x509(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;
	BIGNUM *bn = NULL;
	uint8_t serial[8];

	if (x == NULL || X509_set_version(x, X509_VERSION_3) != 1)
		goto fail;
	if (rnd_bytes(serial, sizeof(serial)) != 0)
		goto fail;
	serial[0] &= 0x7f;	/* positive */
	serial[0] |= 0x01;	/* never zero, always 8 bytes */
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto fail;
	if (X509_gmtime_adj(X509_getm_notBefore(x),
	    -(long)DTLS_DAYS_BEFORE * 86400) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x),
	    (long)DTLS_DAYS_AFTER * 86400) == NULL)
		goto fail;
	if ((name = X509_get_subject_name(x)) == NULL ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)DTLS_CN, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    X509_set_pubkey(x, key) != 1 ||
	    X509_sign(x, key, EVP_sha256()) <= 0)
		goto fail;
	BN_free(bn);
	return x;
fail:
	BN_free(bn);
	X509_free(x);
	return NULL;
}

static SSL_CTX *
make_ctx(struct dtls_cert *c)
{
	SSL_CTX *ctx = SSL_CTX_new(DTLS_method());

	if (ctx == NULL)
		return NULL;
	/*
	 * DTLS 1.0 too, for old phones: OpenSSL 3 allows it only at
	 * security level 0. What level 1 would add (no SHA-1 signatures,
	 * no keys under 80 bits of strength) the cipher list and groups
	 * below, and the fingerprint check of the peer's certificate,
	 * already give.
	 */
	SSL_CTX_set_security_level(ctx, 0);
	if (SSL_CTX_set_min_proto_version(ctx, DTLS1_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate(ctx, c->x509) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, c->key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, DTLS_CIPHERS) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, DTLS_GROUPS) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/*
	 * The MTU is ours (dtls_config.mtu), there is no socket to ask; no
	 * tickets, resumption or renegotiation: one handshake per
	 * association, with the certificates the SDPs name.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, dtls_verify_cb);
	SSL_CTX_set_keylog_callback(ctx, dtls_keylog_cb);
	SSL_CTX_set_info_callback(ctx, dtls_info_cb);
	return ctx;
}

struct dtls_cert *
dtls_cert_new(int *err)
{
	struct dtls_cert *c = calloc(1, sizeof(*c));
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int e = E_CRYPTO;

	if (c == NULL) {
		e = E_NOMEM;
		goto fail;
	}
	if ((c->key = EVP_EC_gen("P-256")) == NULL ||
	    (c->x509 = make_x509(c->key)) == NULL ||
	    X509_digest(c->x509, EVP_sha256(), md, &mdlen) != 1 ||
	    (c->ctx = make_ctx(c)) == NULL)
		goto fail;
	if ((c->bio = dtls_bio_method()) == NULL) {
		e = E_NOMEM;
		goto fail;
	}
	dtls_hex_colon(md, mdlen, c->fp, sizeof(c->fp));
	if (err != NULL)
		*err = 0;
	return c;
fail:
	dtls_cert_free(c);
	if (err != NULL)
		*err = e;
	return NULL;
}

void
dtls_cert_free(struct dtls_cert *c)
{
	if (c == NULL)
		return;
	SSL_CTX_free(c->ctx);
	X509_free(c->x509);
	EVP_PKEY_free(c->key);
	if (c->bio != NULL)
		BIO_meth_free(c->bio);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

const char *
dtls_cert_fingerprint(const struct dtls_cert *c)
{
	return c->fp;
}

/* The hashes of RFC 8122 (4572) we check with; md2 and md5 are refused. */
static const struct {
	const char *name;
	int nid;
	size_t len;
} hashes[] = {
	{ "sha-1", NID_sha1, 20 },
	{ "sha-224", NID_sha224, 28 },
	{ "sha-256", NID_sha256, 32 },
	{ "sha-384", NID_sha384, 48 },
	{ "sha-512", NID_sha512, 64 },
};

int
dtls_fp_parse(struct slice value, struct dtls_fp *fp)
{
	struct slice v = slice_trim(value), name = v;
	size_t i, n, want = 0;
	int nid = 0, hi, lo;

	memset(fp, 0, sizeof(*fp));
	for (i = 0; i < v.len && v.p[i] != ' ' && v.p[i] != '\t'; i++)
		;
	name.len = i;
	(void)slice_skip(&v, i);
	v = slice_trim(v);
	if (name.len == 0 || v.len == 0)
		return E_SYNTAX;
	for (i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (slice_case_eq_cstr(name, hashes[i].name)) {
			nid = hashes[i].nid;
			want = hashes[i].len;
		}
	if (nid == 0)
		return E_UNSUPPORTED;
	/* exactly `want` pairs of hex digits, ':' between them */
	if (v.len != want * 3 - 1)
		return E_SYNTAX;
	for (n = 0; n < want; n++) {
		const uint8_t *q = v.p + n * 3;

		if ((hi = hex_digit(q[0])) < 0 || (lo = hex_digit(q[1])) < 0 ||
		    (n + 1 < want && q[2] != ':')) {
			memset(fp, 0, sizeof(*fp));
			return E_SYNTAX;
		}
		fp->v[n] = (uint8_t)(hi << 4 | lo);
	}
	fp->md = nid;
	fp->len = want;
	return 0;
}
