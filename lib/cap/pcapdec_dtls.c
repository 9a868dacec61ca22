/* pcapdec_dtls.c - pcapdec: DTLS-SRTP handshakes keying their streams. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cap/dtlscap.h"
#include "cap/pcapdec_int.h"

/*
 * With a key log (--tls-keylog), every UDP 5-tuple that carries DTLS
 * (RFC 7983: first byte 20..63, a DTLS record header) is a flow of its
 * own: its ClientHello and ServerHello are read (cap/dtlscap.c), and when
 * the key log holds a CLIENT_RANDOM master secret for the client random,
 * the SRTP keys exported from it (RFC 5764 4.2) are added as two keys
 * whose selectors are the 5-tuple: src=client dst=server with the
 * client's key, the reverse with the server's. So SRTP and SRTCP on that
 * 5-tuple (RTCP on its own port has a handshake of its own) decrypt as
 * with a key line; their key source is "dtls". A new handshake on the
 * flow (another client random) adds its keys, which are tried first.
 *
 * -w: the DTLS datagrams of a flow whose client random the key log holds
 * are left out, from the one that carries the ClientHello's first
 * fragment on, so that its decrypted RTP is not taken for SRTP after a
 * DTLS handshake; other DTLS is written as captured.
 */

#define DTLS_FLOWS_MAX 256

struct dtlsflow {
	struct cap_addr a, b;	/* side 0 sends a -> b */
	struct dtlscap_hs hs;
	int known;		/* the key log holds its client random */
	int keyed;		/* keys added for the current random */
	int unsup_counted;
};

void
pcapdec_dtls_free(struct pcapdec *d)
{
	size_t i;

	for (i = 0; i < d->ndflows; i++) {
		OPENSSL_cleanse(d->dflows[i], sizeof(*d->dflows[i]));
		free(d->dflows[i]);
	}
	free(d->dflows);
	d->dflows = NULL;
	d->ndflows = 0;
}

static struct dtlsflow *
flow_get(struct pcapdec *d, const struct cap_pkt *p, int *side)
{
	struct dtlsflow *f;
	size_t i;

	for (i = 0; i < d->ndflows; i++) {
		f = d->dflows[i];
		if (memcmp(&f->a, &p->src, sizeof(f->a)) == 0 &&
		    memcmp(&f->b, &p->dst, sizeof(f->b)) == 0) {
			*side = 0;
			return f;
		}
		if (memcmp(&f->a, &p->dst, sizeof(f->a)) == 0 &&
		    memcmp(&f->b, &p->src, sizeof(f->b)) == 0) {
			*side = 1;
			return f;
		}
	}
	if (d->ndflows == DTLS_FLOWS_MAX) {
		d->t.dtls.not_tracked++;
		return NULL;
	}
	if (d->dflows == NULL &&
	    (d->dflows = calloc(DTLS_FLOWS_MAX, sizeof(*d->dflows))) == NULL)
		return NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->a = p->src;
	f->b = p->dst;
	dtlscap_init(&f->hs);
	d->dflows[d->ndflows++] = f;
	d->t.dtls.flows++;
	*side = 0;
	return f;
}

/* A key for what `src` sends to `dst`. */
static int
add_dir(struct pcapdec *d, const struct cap_addr *src,
    const struct cap_addr *dst, const struct dtlscap_keys *k,
    const uint8_t *master)
{
	struct keyline *kl;
	char s[64], t[64], why[160];
	int e;

	if ((kl = keyline_new(suite_by_id(k->suite))) == NULL)
		return E_NOMEM;
	cap_addr_format(src, s, sizeof(s));
	cap_addr_format(dst, t, sizeof(t));
	if ((e = keyline_add_key(kl, master, k->key_len + k->salt_len, 0, 0,
	    0)) != 0 ||
	    (e = keyline_set_selector(kl, "src", slice_cstr(s))) != 0 ||
	    (e = keyline_set_selector(kl, "dst", slice_cstr(t))) != 0 ||
	    (e = pcapdec_add_key_dtls(d, kl, why, sizeof(why))) != 0)
		log_msg(d->o.log, LOG_WARN, "DTLS-SRTP key %s -> %s: %s", s, t,
		    e == E_NOMEM ? "out of memory" : sbk_strerror(e));
	keyline_free(kl);
	return e;
}

/* Both hellos read: the keys, if the key log has the secret. */
static void
key_flow(struct pcapdec *d, struct dtlsflow *f)
{
	const struct tlskeys_entry *e;
	const struct cap_addr *cl, *sv;
	struct dtlscap_keys k;
	int r;

	if (f->keyed || !f->known || !f->hs.have_ch || !f->hs.have_sh)
		return;
	e = tlskeys_find(d->tlskeys, f->hs.crandom);
	if (e == NULL || e->len[TLSKEYS_MASTER] == 0)
		return;
	r = dtlscap_srtp_keys(&f->hs, e->secret[TLSKEYS_MASTER],
	    e->len[TLSKEYS_MASTER], &k);
	if (r == E_UNSUPPORTED) {
		if (!f->unsup_counted)
			d->t.dtls.unsupported++;
		f->unsup_counted = 1;
		log_msg(d->o.log, LOG_WARN, "a DTLS handshake not keyed: "
		    "version 0x%04x, SRTP profile 0x%04x, MKI of %zu bytes "
		    "(DTLS 1.2 with profile 1, 2, 7 or 8 and no MKI only)",
		    f->hs.version, f->hs.profile, f->hs.mki_len);
		return;
	}
	if (r != 0)
		return;
	cl = f->hs.client == 1 ? &f->b : &f->a;
	sv = f->hs.client == 1 ? &f->a : &f->b;
	f->keyed = 1;
	if (add_dir(d, cl, sv, &k, k.client) == 0 &&
	    add_dir(d, sv, cl, &k, k.server) == 0) {
		d->t.dtls.keyed++;
		log_msg(d->o.log, LOG_INFO, "DTLS-SRTP keys (%s) from the "
		    "key log", suite_by_id(k.suite)->name);
	}
	OPENSSL_cleanse(&k, sizeof(k));
}

int
pcapdec_dtls_datagram(struct pcapdec *d, const struct cap_pkt *p)
{
	struct dtlsflow *f;
	unsigned ev;
	int side;

	if (d->tlskeys == NULL || !dtlscap_is_dtls(p->payload))
		return 0;
	d->t.dtls.datagrams++;
	if ((f = flow_get(d, p, &side)) == NULL)
		return 1;
	ev = dtlscap_input(&f->hs, side, p->payload);
	if (ev & DTLSCAP_EV_CRANDOM) {	/* a new handshake */
		const struct tlskeys_entry *e;

		d->t.dtls.handshakes++;
		e = tlskeys_find(d->tlskeys, f->hs.crandom);
		f->known = e != NULL && e->len[TLSKEYS_MASTER] > 0;
		f->keyed = 0;
		f->unsup_counted = 0;
		if (!f->known)
			d->t.dtls.no_keys++;
	}
	if (ev & (DTLSCAP_EV_CH | DTLSCAP_EV_SH))
		key_flow(d, f);
	if (f->known && d->w != NULL) {
		d->t.dtls.dropped++;
		return 2;
	}
	return 1;
}
