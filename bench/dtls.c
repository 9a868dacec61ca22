/* dtls.c - benchmark: DTLS-SRTP handshakes per second on one core. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "media/dtls.h"

/*
 * Full handshakes (ECDHE, ECDSA P-256 both ways, use_srtp, the
 * exporter) between an active and a passive association in this thread,
 * datagrams passed through in memory: no network, so what is measured is
 * the CPU a handshake costs. The CPU time spent inside the passive side's
 * calls is measured apart: that is what srtp-bridge spends per WebRTC
 * call it answers (a=setup:passive). Variants, best of several rounds of
 * this thread's CPU time:
 *   reused   - one certificate (and its SSL_CTX) for all associations,
 *              as srtp-bridge does;
 *   new ctx  - a new certificate (key, X.509, SSL_CTX) for each side of
 *              each handshake, what a process making one per call
 *              would pay.
 * And the heap an established pair of associations keeps (glibc's
 * mallinfo2() before and after making MEM_PAIRS of them).
 * Usage: dtls [HANDSHAKES]
 */

#define ROUNDS 3
#define MEM_PAIRS 100
#define QN 32
#define QB 2048

struct q {
	uint8_t b[QN][QB];
	size_t len[QN], n;
};

static void
send_cb(void *arg, const uint8_t *p, size_t len)
{
	struct q *q = arg;

	if (q->n < QN && len <= QB) {
		memcpy(q->b[q->n], p, len);
		q->len[q->n++] = len;
	}
}

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct dtls_fp
fp_of(const struct dtls_cert *c)
{
	struct dtls_fp fp;
	char b[200];

	snprintf(b, sizeof(b), "sha-256 %s", dtls_cert_fingerprint(c));
	if (dtls_fp_parse(slice_cstr(b), &fp) != 0)
		memset(&fp, 0, sizeof(fp));
	return fp;
}

/* Deliver q's datagrams to d; returns how many. */
static size_t
deliver(struct q *q, struct dtls *d, double *cpu)
{
	static struct q tmp;
	double t0 = cpu != NULL ? cpu_now() : 0;
	size_t i, n = q->n;

	memcpy(&tmp, q, sizeof(tmp));
	q->n = 0;
	for (i = 0; i < n; i++)
		(void)dtls_input(d, tmp.b[i], tmp.len[i]);
	if (cpu != NULL)
		*cpu += cpu_now() - t0;
	return n;
}

/* One handshake; 0 or -1. `passive_cpu` gets the passive side's time. */
static int
handshake(struct dtls_cert *ca, struct dtls_cert *cb, double *passive_cpu)
{
	static struct q qa, qb;
	struct dtls_config a = { 0 }, b = { 0 };
	struct dtls *da, *db;
	struct dtls_keys ka, kb;
	double t0;
	int i, ok;

	qa.n = qb.n = 0;
	a.cert = ca;
	a.role = DTLS_ACTIVE;
	a.peer = fp_of(cb);
	a.send = send_cb;
	a.arg = &qa;
	b = a;
	b.cert = cb;
	b.role = DTLS_PASSIVE;
	b.peer = fp_of(ca);
	b.arg = &qb;
	t0 = cpu_now();
	db = dtls_new(&b, &i);
	*passive_cpu += cpu_now() - t0;
	da = dtls_new(&a, &i);
	if (da == NULL || db == NULL || dtls_start(da) != 0)
		return -1;
	for (i = 0; i < 10; i++)
		if (deliver(&qa, db, passive_cpu) + deliver(&qb, da, NULL) == 0)
			break;
	t0 = cpu_now();
	ok = dtls_srtp_keys(db, &kb) == 0;
	dtls_free(db);
	*passive_cpu += cpu_now() - t0;
	ok = ok && dtls_srtp_keys(da, &ka) == 0 &&
	    memcmp(ka.tx, kb.rx, ka.key_len + ka.salt_len) == 0;
	dtls_free(da);
	return ok ? 0 : -1;
}

/* Bytes of heap one established pair (active + passive) keeps. */
static long
pair_bytes(struct dtls_cert *ca, struct dtls_cert *cb)
{
	static struct dtls *as[MEM_PAIRS], *bs[MEM_PAIRS];
	static struct q qa, qb;
	struct mallinfo2 m0, m1;
	struct dtls_config a = { 0 }, b;
	size_t i;
	int k, err, ok = 1;

	a.cert = ca;
	a.role = DTLS_ACTIVE;
	a.peer = fp_of(cb);
	a.send = send_cb;
	a.arg = &qa;
	b = a;
	b.cert = cb;
	b.role = DTLS_PASSIVE;
	b.peer = fp_of(ca);
	b.arg = &qb;
	m0 = mallinfo2();
	for (i = 0; i < MEM_PAIRS; i++) {
		qa.n = qb.n = 0;
		as[i] = dtls_new(&a, &err);
		bs[i] = dtls_new(&b, &err);
		if (as[i] == NULL || bs[i] == NULL || dtls_start(as[i]) != 0)
			return -1;
		for (k = 0; k < 10; k++)
			if (deliver(&qa, bs[i], NULL) +
			    deliver(&qb, as[i], NULL) == 0)
				break;
		ok = ok && dtls_state(bs[i]) == DTLS_DONE;
	}
	m1 = mallinfo2();
	for (i = 0; i < MEM_PAIRS; i++) {
		dtls_free(as[i]);
		dtls_free(bs[i]);
	}
	return ok ? (long)(m1.uordblks - m0.uordblks) / MEM_PAIRS : -1;
}

struct fig {
	double total, passive;	/* CPU s per handshake, best round */
};

static int
run(long n, int fresh, struct dtls_cert *ca, struct dtls_cert *cb,
    struct fig *f)
{
	int r, err;
	long i;

	f->total = f->passive = 1e9;
	for (r = 0; r < ROUNDS; r++) {
		double t0 = cpu_now(), pas = 0, t;

		for (i = 0; i < n; i++) {
			if (fresh) {
				double t1 = cpu_now();

				cb = dtls_cert_new(&err);
				pas += cpu_now() - t1;
				ca = dtls_cert_new(&err);
				if (ca == NULL || cb == NULL)
					return -1;
			}
			if (handshake(ca, cb, &pas) != 0)
				return -1;
			if (fresh) {
				double t1 = cpu_now();

				dtls_cert_free(cb);
				pas += cpu_now() - t1;
				dtls_cert_free(ca);
			}
		}
		t = (cpu_now() - t0) / (double)n;
		if (t < f->total)
			f->total = t;
		if (pas / (double)n < f->passive)
			f->passive = pas / (double)n;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200;
	struct dtls_cert *ca, *cb;
	struct fig reused, fresh;
	double t0, cert;
	int err;

	if (n <= 0) {
		fprintf(stderr, "usage: dtls [HANDSHAKES]\n");
		return 2;
	}
	ca = dtls_cert_new(&err);
	cb = dtls_cert_new(&err);
	if (ca == NULL || cb == NULL)
		return 1;
	t0 = cpu_now();
	dtls_cert_free(dtls_cert_new(&err));
	cert = cpu_now() - t0;
	if (run(n, 0, ca, cb, &reused) != 0 ||
	    run(n / 4 > 0 ? n / 4 : 1, 1, NULL, NULL, &fresh) != 0) {
		fprintf(stderr, "dtls: a benchmark handshake failed\n");
		return 1;
	}
	printf("dtls: full DTLS 1.2 handshakes (ECDHE-ECDSA P-256, "
	    "use_srtp, exporter), in memory, one thread, best of %d\n",
	    ROUNDS);
	printf("  certificate (key + X.509 + SSL_CTX)   %8.3f ms\n",
	    cert * 1e3);
	printf("  reused certificate/SSL_CTX (%ld):\n", n);
	printf("    both sides      %8.3f ms  %7.0f handshakes/s/core\n",
	    reused.total * 1e3, 1 / reused.total);
	printf("    passive side    %8.3f ms  %7.0f handshakes/s/core\n",
	    reused.passive * 1e3, 1 / reused.passive);
	printf("  new certificate/SSL_CTX per side (%ld):\n",
	    n / 4 > 0 ? n / 4 : 1);
	printf("    both sides      %8.3f ms  %7.0f handshakes/s/core\n",
	    fresh.total * 1e3, 1 / fresh.total);
	printf("    passive side    %8.3f ms  %7.0f handshakes/s/core\n",
	    fresh.passive * 1e3, 1 / fresh.passive);
	printf("  ratio reused / new certificate (handshakes/s, passive): "
	    "%.2fx\n", fresh.passive / reused.passive);
	printf("  heap kept by an established pair (active + passive): "
	    "%ld bytes\n", pair_bytes(ca, cb));
	dtls_cert_free(ca);
	dtls_cert_free(cb);
	return 0;
}
