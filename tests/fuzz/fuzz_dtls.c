/* fuzz_dtls.c - libFuzzer: DTLS record checks, and associations fed junk. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/dtls.h"

/*
 * The input is byte 0 (bit 0: feed an active association that has sent
 * its ClientHello, else a passive one; bit 1: a retransmission timeout
 * after every datagram) then datagrams, each a 2-byte big-endian length
 * and its bytes (a short tail is one more datagram). Every datagram goes
 * through dtls_record_check(), and, as a real media port would, to the
 * association: nothing may crash, leak or hang; OpenSSL's verdicts are
 * fine. One certificate for the whole run (made once, as a process does).
 */
static struct dtls_cert *cert;
static size_t sent;

static void
send_cb(void *arg, const uint8_t *p, size_t len)
{
	(void)arg;
	if (len > 0 && p[len - 1] == 0xa5)	/* touch every byte sent */
		sent++;
	sent += len > 0;
}

static void
check_records(const uint8_t *p, size_t n)
{
	size_t o = 0, len;

	if (dtls_record_check(slice_make(p, n)) != 0)
		return;
	/* accepted: the records must tile the datagram exactly */
	while (o < n) {
		if (n - o < 13)
			__builtin_trap();
		len = (size_t)p[o + 11] << 8 | p[o + 12];
		if (p[o] < 20 || p[o] > 25 || len > n - o - 13)
			__builtin_trap();
		o += 13 + len;
	}
	if (o != n || n == 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dtls_config cfg = { 0 };
	struct dtls_keys k;
	struct dtls *d;
	uint8_t flags;
	size_t n;
	int err;

	if (cert == NULL && (cert = dtls_cert_new(&err)) == NULL)
		abort();
	check_records(data, size);
	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;
	cfg.cert = cert;
	cfg.role = (flags & 1) ? DTLS_ACTIVE : DTLS_PASSIVE;
	cfg.send = send_cb;
	if ((d = dtls_new(&cfg, &err)) == NULL)
		abort();
	dtls_set_rto(d, 1);
	if (dtls_start(d) != 0 && cfg.role == DTLS_ACTIVE)
		abort();
	while (size > 0) {
		if (size >= 2) {
			n = (size_t)data[0] << 8 | data[1];
			data += 2;
			size -= 2;
			if (n > size)
				n = size;
		} else {
			n = size;
		}
		check_records(data, n);
		(void)dtls_input(d, data, n);
		if (flags & 2)
			(void)dtls_on_timeout(d);
		(void)dtls_timeout_ms(d, 0);
		data += n;
		size -= n;
	}
	(void)dtls_srtp_keys(d, &k);
	(void)dtls_why(d);
	dtls_free(d);
	return 0;
}
