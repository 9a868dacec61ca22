/* dtls.c - DTLS-SRTP associations over OpenSSL, driven by datagrams. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "media/dtls_int.h"

#define DTLS_MTU_DEFAULT 1200
#define DTLS_MTU_MIN 256	/* OpenSSL's own floor (dtls1_min_mtu) */
#define DTLS_MTU_MAX 16384
#define DTLS_RTO_MAX_MS 60000	/* RFC 6347 4.2.4.1: at least 60 s */
#define DTLS_REC_HDR 13
#define DTLS_REC_MAX (16384 + 2048)	/* RFC 6347 4.1.2.1 */
#define EXPORTER "EXTRACTOR-dtls_srtp"
#define FLIGHT_MAX 4096		/* a passive side's flight 4 kept (~1 kB) */
#define FLIGHT_DGRAMS 8

/*
 * The SRTP protection profiles of RFC 5764 / 7714 we negotiate, in our
 * order of preference (a server's preference decides: OpenSSL picks the
 * first of its own list the client offered).
 */
static const struct {
	enum suite_id id;
	unsigned long prof;
	const char *name;
} profiles[] = {
	{ SUITE_AEAD_AES_256_GCM, SRTP_AEAD_AES_256_GCM,
	    "SRTP_AEAD_AES_256_GCM" },
	{ SUITE_AEAD_AES_128_GCM, SRTP_AEAD_AES_128_GCM,
	    "SRTP_AEAD_AES_128_GCM" },
	{ SUITE_AES_CM_128_HMAC_SHA1_80, SRTP_AES128_CM_SHA1_80,
	    "SRTP_AES128_CM_SHA1_80" },
	{ SUITE_AES_CM_128_HMAC_SHA1_32, SRTP_AES128_CM_SHA1_32,
	    "SRTP_AES128_CM_SHA1_32" },
};
#define NPROFILES (sizeof(profiles) / sizeof(profiles[0]))

struct dtls {
	struct dtls_config cfg;
	struct dtls_cert *cert;
	SSL *ssl;
	enum dtls_state state;
	int hs_done;		/* OpenSSL finished; fingerprint may wait */
	int answered;		/* passive: a ClientHello was answered */
	int closed;		/* close_notify seen */
	unsigned rto_ms;
	char profiles[128];	/* for SSL_set_tlsext_use_srtp() */
	char why[160];
	int why_soft;		/* a failure we started again after */
	int fp_bad;		/* failed: not the SDP's certificate */
	const uint8_t *in;	/* the datagram being fed, once */
	size_t in_len;
	size_t wlen;		/* bytes waiting in wbuf */
	uint8_t *wbuf;		/* one datagram of up to cfg.mtu bytes */
	size_t nsent;		/* datagrams sent, ever */
	/*
	 * Passive, during the handshake: a copy of the last flight we sent,
	 * to answer a retransmitted ClientHello at once (RFC 6347 4.2.4: a
	 * retransmitted flight makes the receiver retransmit its own), which
	 * OpenSSL leaves to its timer.
	 */
	uint8_t *fl;		/* FLIGHT_MAX bytes, or NULL */
	size_t fl_len, fl_n, fl_dlen[FLIGHT_DGRAMS];
	int fl_new;		/* the next datagram starts a new flight */
	int fl_bad;		/* did not fit: nothing to resend */
};

/* The first reason wins, but one a passive side started again after
 * (why_soft) gives way to the next. */
static void
set_why(struct dtls *d, const char *s)
{
	if (d->why[0] == '\0' || d->why_soft) {
		snprintf(d->why, sizeof(d->why), "%s", s);
		d->why_soft = 0;
	}
}

/* ---- the datagram BIO: one datagram in, datagrams of <= mtu out ---- */

/* Keep a copy of a datagram of the current flight (passive side). */
static void
flight_keep(struct dtls *d, const uint8_t *p, size_t len)
{
	if (d->fl == NULL || d->hs_done)
		return;
	if (d->fl_new) {
		d->fl_len = d->fl_n = 0;
		d->fl_new = d->fl_bad = 0;
	}
	if (d->fl_bad || d->fl_n == FLIGHT_DGRAMS ||
	    len > FLIGHT_MAX - d->fl_len) {
		d->fl_bad = 1;
		return;
	}
	memcpy(d->fl + d->fl_len, p, len);
	d->fl_len += len;
	d->fl_dlen[d->fl_n++] = len;
}

static void
flight_resend(struct dtls *d)
{
	size_t i, o = 0;

	if (d->fl == NULL || d->fl_bad || d->fl_n == 0)
		return;
	for (i = 0; i < d->fl_n; i++) {
		d->cfg.send(d->cfg.arg, d->fl + o, d->fl_dlen[i]);
		o += d->fl_dlen[i];
		d->nsent++;
	}
}

static void
wflush(struct dtls *d)
{
	if (d->wlen > 0) {
		d->cfg.send(d->cfg.arg, d->wbuf, d->wlen);
		flight_keep(d, d->wbuf, d->wlen);
		d->nsent++;
		d->wlen = 0;
	}
}

/*
 * OpenSSL writes one record per call, and packs a flight's records into
 * datagrams itself: it asks BIO_wpending() what is already waiting, sizes
 * the next fragment to fit the MTU, and flushes when nothing more fits.
 * So records gather in wbuf and go out on a flush (ours after every
 * OpenSSL call, or its own).
 */
static int
bio_write(BIO *b, const char *p, int n)
{
	struct dtls *d = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (d == NULL || n <= 0)
		return n <= 0 ? 0 : -1;
	if (d->wlen + (size_t)n > d->cfg.mtu)
		wflush(d);
	if ((size_t)n > d->cfg.mtu) {
		/* cannot happen with OpenSSL's fragmentation; never cut */
		d->cfg.send(d->cfg.arg, (const uint8_t *)p, (size_t)n);
		flight_keep(d, (const uint8_t *)p, (size_t)n);
		d->nsent++;
		return n;
	}
	memcpy(d->wbuf + d->wlen, p, (size_t)n);
	d->wlen += (size_t)n;
	return n;
}

static int
bio_read(BIO *b, char *p, int n)
{
	struct dtls *d = BIO_get_data(b);
	size_t m;

	BIO_clear_retry_flags(b);
	if (d == NULL || d->in == NULL || n <= 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	m = d->in_len < (size_t)n ? d->in_len : (size_t)n;
	memcpy(p, d->in, m);
	d->in = NULL;
	d->in_len = 0;
	return (int)m;
}

static long
bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct dtls *d = BIO_get_data(b);

	(void)num;
	(void)ptr;
	if (d == NULL)
		return 0;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		wflush(d);
		return 1;
	case BIO_CTRL_WPENDING:
		return (long)d->wlen;
	case BIO_CTRL_PENDING:
		return d->in != NULL ? (long)d->in_len : 0;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
		return (long)d->cfg.mtu;
	default:
		return 0;
	}
}

static int
bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static int
bio_destroy(BIO *b)
{
	BIO_set_data(b, NULL);
	return 1;
}

BIO_METHOD *
dtls_bio_method(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() |
	    BIO_TYPE_SOURCE_SINK, "sbckit dtls datagram");

	if (m == NULL)
		return NULL;
	if (BIO_meth_set_write(m, bio_write) != 1 ||
	    BIO_meth_set_read(m, bio_read) != 1 ||
	    BIO_meth_set_ctrl(m, bio_ctrl) != 1 ||
	    BIO_meth_set_create(m, bio_create) != 1 ||
	    BIO_meth_set_destroy(m, bio_destroy) != 1) {
		BIO_meth_free(m);
		return NULL;
	}
	return m;
}

/* ---- callbacks of the shared SSL_CTX ---- */

static struct dtls *
of_ssl(const SSL *ssl)
{
	return ssl != NULL ? SSL_get_app_data(ssl) : NULL;
}

/* 1 if `x` hashes to `fp`, 0 if not, -1 if it cannot be hashed. */
static int
fp_match(X509 *x, const struct dtls_fp *fp)
{
	const EVP_MD *md = EVP_get_digestbynid(fp->md);
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (x == NULL || md == NULL || X509_digest(x, md, h, &n) != 1)
		return -1;
	return n == fp->len && CRYPTO_memcmp(h, fp->v, n) == 0;
}

/*
 * Peers' certificates are self-signed: OpenSSL's verdict (preverify) is
 * ignored. The end-entity certificate (depth 0) must hash to the SDP's
 * fingerprint when we know it already; when we do not (DTLS before the
 * answer), the check waits for dtls_set_peer().
 */
int
dtls_verify_cb(int ok, X509_STORE_CTX *st)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(st,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	struct dtls *d = of_ssl(ssl);

	(void)ok;
	if (d == NULL)
		return 0;
	if (X509_STORE_CTX_get_error_depth(st) != 0 || d->cfg.peer.md == 0)
		return 1;
	if (fp_match(X509_STORE_CTX_get_current_cert(st), &d->cfg.peer) == 1)
		return 1;
	set_why(d, "fingerprint mismatch");
	d->fp_bad = 1;
	return 0;
}

void
dtls_keylog_cb(const SSL *ssl, const char *line)
{
	struct dtls *d = of_ssl(ssl);

	if (d != NULL && d->cfg.keylog != NULL)
		d->cfg.keylog(d->cfg.arg, line);
}

void
dtls_info_cb(const SSL *ssl, int where, int ret)
{
	struct dtls *d = of_ssl(ssl);
	char b[128];

	if (d == NULL || !(where & SSL_CB_ALERT) || !(where & SSL_CB_READ))
		return;
	if ((ret & 0xff) == SSL_AD_CLOSE_NOTIFY) {
		d->closed = 1;
		set_why(d, "closed by peer");
		return;
	}
	if ((ret >> 8) != SSL3_AL_FATAL)
		return;
	snprintf(b, sizeof(b), "alert from peer: %s",
	    SSL_alert_desc_string_long(ret));
	set_why(d, b);
}

/* The initial retransmission timeout, then doubling up to 60 s. */
static unsigned int
timer_cb(SSL *ssl, unsigned int prev_us)
{
	struct dtls *d = of_ssl(ssl);
	unsigned long us;

	if (prev_us == 0)
		return (d != NULL ? d->rto_ms : DTLS_RTO_DEFAULT_MS) * 1000u;
	us = (unsigned long)prev_us * 2;
	return us > DTLS_RTO_MAX_MS * 1000ul ? DTLS_RTO_MAX_MS * 1000u :
	    (unsigned int)us;
}

/* ---- associations ---- */

static int
ssl_make(struct dtls *d)
{
	SSL *ssl = SSL_new(d->cert->ctx);
	BIO *b;

	if (ssl == NULL)
		return E_NOMEM;
	if ((b = BIO_new(d->cert->bio)) == NULL) {
		SSL_free(ssl);
		return E_NOMEM;
	}
	BIO_set_data(b, d);
	SSL_set_bio(ssl, b, b);
	SSL_set_app_data(ssl, d);
	/* SSL_set_tlsext_use_srtp() returns 0 on success */
	if (SSL_set_tlsext_use_srtp(ssl, d->profiles) != 0 ||
	    SSL_set_mtu(ssl, d->cfg.mtu) <= 0) {	/* returns the MTU */
		SSL_free(ssl);
		return E_CRYPTO;
	}
	DTLS_set_timer_cb(ssl, timer_cb);
	if (d->cfg.role == DTLS_ACTIVE)
		SSL_set_connect_state(ssl);
	else
		SSL_set_accept_state(ssl);
	SSL_free(d->ssl);
	d->ssl = ssl;
	d->answered = 0;
	return 0;
}

struct dtls *
dtls_new(const struct dtls_config *cfg, int *err)
{
	struct dtls *d = NULL;
	unsigned suites = cfg != NULL ? cfg->suites : 0;
	size_t i, o = 0;
	int e = E_INVAL;

	if (cfg == NULL || cfg->cert == NULL || cfg->send == NULL ||
	    (cfg->role != DTLS_ACTIVE && cfg->role != DTLS_PASSIVE) ||
	    (cfg->mtu != 0 && (cfg->mtu < DTLS_MTU_MIN ||
	    cfg->mtu > DTLS_MTU_MAX)))
		goto fail;
	if (suites == 0)
		suites = 1u << SUITE_AES_CM_128_HMAC_SHA1_80 |
		    1u << SUITE_AES_CM_128_HMAC_SHA1_32 |
		    1u << SUITE_AEAD_AES_128_GCM | 1u << SUITE_AEAD_AES_256_GCM;
	e = E_NOMEM;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		goto fail;
	d->cfg = *cfg;
	d->cert = cfg->cert;
	if (d->cfg.mtu == 0)
		d->cfg.mtu = DTLS_MTU_DEFAULT;
	d->rto_ms = DTLS_RTO_DEFAULT_MS;
	if ((d->wbuf = malloc(d->cfg.mtu)) == NULL ||
	    (cfg->role == DTLS_PASSIVE &&
	    (d->fl = malloc(FLIGHT_MAX)) == NULL))
		goto fail;
	for (i = 0; i < NPROFILES; i++) {
		if (!(suites & 1u << profiles[i].id))
			continue;
		o += (size_t)snprintf(d->profiles + o, sizeof(d->profiles) - o,
		    "%s%s", o > 0 ? ":" : "", profiles[i].name);
	}
	e = E_UNSUPPORTED;	/* no suite that DTLS-SRTP can key */
	if (o == 0)
		goto fail;
	if ((e = ssl_make(d)) != 0)
		goto fail;
	if (err != NULL)
		*err = 0;
	return d;
fail:
	dtls_free(d);
	if (err != NULL)
		*err = e;
	return NULL;
}

void
dtls_free(struct dtls *d)
{
	if (d == NULL)
		return;
	SSL_free(d->ssl);
	free(d->wbuf);
	free(d->fl);
	OPENSSL_cleanse(d, sizeof(*d));
	free(d);
}

void
dtls_set_rto(struct dtls *d, unsigned ms)
{
	d->rto_ms = ms == 0 ? DTLS_RTO_DEFAULT_MS :
	    ms > DTLS_RTO_MAX_MS ? DTLS_RTO_MAX_MS : ms;
}

/* OpenSSL finished (or the fingerprint came): done if the peer is who
 * the SDP said. */
static void
check_peer(struct dtls *d)
{
	if (d->cfg.peer.md == 0)
		return;		/* wait for dtls_set_peer() */
	if (fp_match(SSL_get0_peer_certificate(d->ssl), &d->cfg.peer) == 1) {
		d->state = DTLS_DONE;
	} else {
		set_why(d, "fingerprint mismatch");
		d->fp_bad = 1;
		d->state = DTLS_FAILED;
	}
}

void
dtls_set_peer(struct dtls *d, const struct dtls_fp *fp)
{
	d->cfg.peer = *fp;
	if (d->hs_done && d->state == DTLS_HANDSHAKE)
		check_peer(d);
}

static void
failed(struct dtls *d)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	set_why(d, r != NULL ? r : "handshake failed");
	ERR_clear_error();
	wflush(d);	/* our alert, if any */
	/*
	 * A passive side that has answered nobody yet starts again: a stray
	 * or forged datagram must not kill the association before its peer
	 * speaks. dtls_why() still tells what happened.
	 */
	if (d->cfg.role == DTLS_PASSIVE && !d->answered && !d->hs_done &&
	    ssl_make(d) == 0) {
		d->why_soft = 1;
		return;
	}
	d->state = DTLS_FAILED;
}

/* Run OpenSSL on whatever is in the BIO, after input or a timeout. */
static void
drive(struct dtls *d)
{
	uint8_t sink[2048];
	size_t sent0 = d->nsent;
	int r;

	ERR_clear_error();
	if (!d->hs_done) {
		d->fl_new = 1;
		r = SSL_do_handshake(d->ssl);
		if (r == 1) {
			d->hs_done = 1;
			wflush(d);
			free(d->fl);	/* no more ClientHellos to answer */
			d->fl = NULL;
			/* OpenSSL finishes without use_srtp when no profile
			 * was common: no keys, so no association */
			if (SSL_get_selected_srtp_profile(d->ssl) == NULL) {
				set_why(d, "no common SRTP profile");
				d->state = DTLS_FAILED;
				return;
			}
			check_peer(d);
			/* ~33 kB of record buffers an idle association does
			 * not need; OpenSSL makes them again if a datagram
			 * comes (a repeated flight) */
			(void)SSL_free_buffers(d->ssl);
			return;
		}
		switch (SSL_get_error(d->ssl, r)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			wflush(d);
			if (d->nsent > sent0)
				d->answered = 1;
			ERR_clear_error();
			return;
		default:
			failed(d);
			return;
		}
	}
	/*
	 * After the handshake: the peer's retransmitted final flight makes
	 * OpenSSL resend ours; alerts end the association. Application data
	 * has no use in DTLS-SRTP and is dropped.
	 */
	for (;;) {
		r = SSL_read(d->ssl, sink, sizeof(sink));
		if (r > 0)
			continue;
		switch (SSL_get_error(d->ssl, r)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
		case SSL_ERROR_ZERO_RETURN:	/* close_notify: keys stay */
			break;
		default:
			if (d->closed)
				break;
			set_why(d, "fatal error after handshake");
			d->state = DTLS_FAILED;
			break;
		}
		break;
	}
	OPENSSL_cleanse(sink, sizeof(sink));
	ERR_clear_error();
	wflush(d);
	(void)SSL_free_buffers(d->ssl);
}

int
dtls_start(struct dtls *d)
{
	if (d->state != DTLS_HANDSHAKE)
		return E_STATE;
	if (d->cfg.role != DTLS_ACTIVE)
		return 0;
	if (SSL_in_before(d->ssl) == 0 || d->hs_done)
		return E_STATE;
	drive(d);
	return d->state == DTLS_FAILED ? E_CRYPTO : 0;
}

enum dtls_state
dtls_input(struct dtls *d, const uint8_t *p, size_t len)
{
	size_t sent0;

	if (d->state == DTLS_FAILED || p == NULL || len == 0 ||
	    p[0] < 20 || p[0] > 63)
		return d->state;
	if (dtls_record_check(slice_make(p, len)) != 0)
		return d->state;
	/* an active side that has not started does not take a hello */
	if (d->cfg.role == DTLS_ACTIVE && SSL_in_before(d->ssl))
		return d->state;
	sent0 = d->nsent;
	d->in = p;
	d->in_len = len;
	drive(d);
	d->in = NULL;
	d->in_len = 0;
	/* a retransmitted ClientHello (epoch 0, handshake type 1, its
	 * first fragment) that OpenSSL took in silence: our flight was
	 * lost, send it again */
	if (d->cfg.role == DTLS_PASSIVE && d->answered && !d->hs_done &&
	    d->state == DTLS_HANDSHAKE && d->nsent == sent0 &&
	    len >= DTLS_REC_HDR + 12 && p[0] == 22 && p[3] == 0 &&
	    p[4] == 0 && p[DTLS_REC_HDR] == 1 && p[DTLS_REC_HDR + 6] == 0 &&
	    p[DTLS_REC_HDR + 7] == 0 && p[DTLS_REC_HDR + 8] == 0)
		flight_resend(d);
	return d->state;
}

enum dtls_state
dtls_state(const struct dtls *d)
{
	return d->state;
}

const char *
dtls_why(const struct dtls *d)
{
	return d->why;
}

int64_t
dtls_timeout_ms(const struct dtls *d, int64_t now_ms)
{
	struct timeval tv;

	if (d->state == DTLS_FAILED || d->hs_done ||
	    DTLSv1_get_timeout(d->ssl, &tv) != 1)
		return -1;
	/* rounded up: firing early would only find OpenSSL not ready */
	return now_ms + (int64_t)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
}

enum dtls_state
dtls_on_timeout(struct dtls *d)
{
	if (d->state != DTLS_HANDSHAKE || d->hs_done)
		return d->state;
	ERR_clear_error();
	d->fl_new = 1;
	if (DTLSv1_handle_timeout(d->ssl) < 0) {
		set_why(d, "handshake timed out");
		d->state = DTLS_FAILED;
	}
	ERR_clear_error();
	wflush(d);
	return d->state;
}

int
dtls_srtp_keys(const struct dtls *d, struct dtls_keys *k)
{
	SRTP_PROTECTION_PROFILE *pp;
	const struct suite *s = NULL;
	uint8_t m[4 * 32];
	size_t kl, sl, i;
	const uint8_t *ck, *sk, *cs, *ss;

	memset(k, 0, sizeof(*k));
	if (d->state != DTLS_DONE)
		return d->state == DTLS_FAILED && d->fp_bad ? E_AUTH : E_STATE;
	if ((pp = SSL_get_selected_srtp_profile(d->ssl)) == NULL)
		return E_UNSUPPORTED;
	for (i = 0; i < NPROFILES; i++)
		if (profiles[i].prof == pp->id)
			s = suite_by_id(profiles[i].id);
	if (s == NULL || 2 * (s->key_len + s->salt_len) > sizeof(m))
		return E_UNSUPPORTED;
	kl = s->key_len;
	sl = s->salt_len;
	/* RFC 5764 4.2: client key | server key | client salt | server salt */
	if (SSL_export_keying_material(d->ssl, m, 2 * (kl + sl), EXPORTER,
	    sizeof(EXPORTER) - 1, NULL, 0, 0) != 1) {
		ERR_clear_error();
		return E_CRYPTO;
	}
	ck = m;
	sk = m + kl;
	cs = m + 2 * kl;
	ss = m + 2 * kl + sl;
	k->suite = s->id;
	k->key_len = kl;
	k->salt_len = sl;
	if (d->cfg.role == DTLS_ACTIVE) {
		memcpy(k->tx, ck, kl);
		memcpy(k->tx + kl, cs, sl);
		memcpy(k->rx, sk, kl);
		memcpy(k->rx + kl, ss, sl);
	} else {
		memcpy(k->tx, sk, kl);
		memcpy(k->tx + kl, ss, sl);
		memcpy(k->rx, ck, kl);
		memcpy(k->rx + kl, cs, sl);
	}
	OPENSSL_cleanse(m, sizeof(m));
	return 0;
}

int
dtls_peer_fingerprint(const struct dtls *d, char *out, size_t n)
{
	X509 *x = SSL_get0_peer_certificate(d->ssl);
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (n > 0)
		out[0] = '\0';
	if (x == NULL)
		return E_STATE;
	if (X509_digest(x, EVP_sha256(), h, &len) != 1)
		return E_CRYPTO;
	if (n < 3 * (size_t)len)
		return E_BIG;
	dtls_hex_colon(h, len, out, n);
	return 0;
}

int
dtls_record_check(struct slice pkt)
{
	uint16_t ver, len;

	if (pkt.len == 0)
		return E_SYNTAX;
	while (pkt.len > 0) {
		if (pkt.len < DTLS_REC_HDR)
			return E_SYNTAX;
		if (pkt.p[0] < 20 || pkt.p[0] > 25)
			return E_SYNTAX;
		ver = (uint16_t)(pkt.p[1] << 8 | pkt.p[2]);
		if (ver != 0xfeff && ver != 0xfefd)
			return E_SYNTAX;
		/* epoch (2) and sequence number (6) take any value */
		len = (uint16_t)(pkt.p[11] << 8 | pkt.p[12]);
		if (len > DTLS_REC_MAX || len > pkt.len - DTLS_REC_HDR)
			return E_SYNTAX;
		(void)slice_skip(&pkt, DTLS_REC_HDR + (size_t)len);
	}
	return 0;
}
