/* keylog.c - map key lines onto rtpsec contexts and append them to key logs. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/secfile.h"
#include "media/keylog.h"

struct keylog {
	int fd;
	char *path;
};

int
keylog_check(const struct keyline *kl, char *why, size_t whysz)
{
	size_t n = keyline_nkeys(kl), ml = 0, l;
	uint64_t v;

	if (keyline_suite(kl) == NULL || n == 0) {
		sbk_why(why, whysz, "no key");
		return E_STATE;
	}
	if (n > KEYLINE_MAX_KEYS) {
		sbk_why(why, whysz, "more than %d keys", KEYLINE_MAX_KEYS);
		return E_KEY;
	}
	/* a key derivation rate re-keys every 2^KDR packets: neither we nor
	 * libsrtp do that, and silently not doing it loses the media later */
	if (keyline_kdr(kl) > 0) {
		sbk_why(why, whysz, "KDR=%d: key derivation rate not "
		    "supported", keyline_kdr(kl));
		return E_UNSUPPORTED;
	}
	for (size_t i = 0; i < n; i++) {
		l = keyline_mki(kl, i, &v);
		if (l > RTPSEC_MAX_MKI) {
			sbk_why(why, whysz, "MKI of %zu bytes not supported "
			    "(at most %d)", l, RTPSEC_MAX_MKI);
			return E_UNSUPPORTED;
		}
		if (i > 0 && (l != ml || l == 0)) {
			sbk_why(why, whysz, "several keys need MKIs of one "
			    "length");
			return E_KEY;
		}
		ml = l;
	}
	return 0;
}

int
keylog_params(const struct keyline *kl, struct keylog_keys *k)
{
	const struct suite *su = keyline_suite(kl);
	struct rtpsec_params *p = &k->p;
	size_t n = keyline_nkeys(kl);
	unsigned f = keyline_flags(kl);
	int e;

	if (su == NULL || n == 0 || keyline_master(kl, 0) == NULL)
		return E_STATE;
	if ((e = keylog_check(kl, NULL, 0)) != 0)
		return e;
	memset(p, 0, sizeof(*p));
	p->suite = su->id;
	p->key_len = su->key_len;
	p->salt_len = su->salt_len;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *m = keyline_master(kl, i);
		uint64_t v = 0;
		size_t l = keyline_mki(kl, i, &v);

		memset(k->mki[i], 0, l);
		for (size_t j = 0; j < l && j < 8; j++)
			k->mki[i][l - 1 - j] = (uint8_t)(v >> (8 * j));
		if (i == 0) {
			p->key = m;
			p->salt = m + su->key_len;
			p->mki = l > 0 ? k->mki[0] : NULL;
			p->mki_len = l;
			p->lifetime = keyline_lifetime(kl, 0);
		} else {
			k->more[i - 1].key = m;
			k->more[i - 1].salt = m + su->key_len;
			k->more[i - 1].mki = k->mki[i];
			k->more[i - 1].lifetime = keyline_lifetime(kl, i);
		}
	}
	p->more = n > 1 ? k->more : NULL;
	p->nmore = n - 1;
	if (f & KEYLINE_UNENCRYPTED_SRTP)
		p->flags |= RTPSEC_UNENCRYPTED_SRTP;
	if (f & KEYLINE_UNENCRYPTED_SRTCP)
		p->flags |= RTPSEC_UNENCRYPTED_SRTCP;
	if (f & KEYLINE_UNAUTHENTICATED_SRTP)
		p->flags |= RTPSEC_UNAUTHENTICATED_SRTP;
	return 0;
}

struct keylog *
keylog_open(const char *path, int *err)
{
	struct keylog *k = calloc(1, sizeof(*k));

	if (k == NULL || (k->path = strdup(path)) == NULL) {
		free(k);
		if (err != NULL)
			*err = E_NOMEM;
		return NULL;
	}
	k->fd = -1;
	if (keylog_reopen(k) != 0) {
		int e = errno;

		keylog_free(k);
		errno = e;
		if (err != NULL)
			*err = E_IO;
		return NULL;
	}
	return k;
}

int
keylog_reopen(struct keylog *k)
{
	int fd, r;

	if ((r = secfile_append(k->path, &fd, NULL, 0)) != 0) {
		if (r == E_PERM)
			errno = EPERM;
		else if (r == E_INVAL)
			errno = EINVAL;
		return E_IO;
	}
	if (k->fd >= 0)
		close(k->fd);
	k->fd = fd;
	return 0;
}

void
keylog_free(struct keylog *k)
{
	if (k == NULL)
		return;
	if (k->fd >= 0)
		close(k->fd);
	free(k->path);
	free(k);
}

/* A selector value must be one token of printable bytes. */
static int
put_sel(struct buf *b, const char *name, const char *val)
{
	for (const char *c = val; *c != '\0'; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c == 0x7f)
			return 0;	/* leave it out rather than break the line */
	return buf_printf(b, "%s=%s ", name, val);
}

int
keylog_add(struct keylog *k, const struct keyline *kl, const char *call_id,
    enum keyline_dir dir, const struct net_addr *src,
    const struct net_addr *dst, const uint32_t *ssrc)
{
	struct buf *b = buf_new_secret(KEYLINE_MAX_LEN + 512);
	char a[NET_ADDR_STRLEN];
	int e = 0;
	ssize_t w;

	if (b == NULL)
		return E_NOMEM;
	if (call_id != NULL && *call_id != '\0')
		e = put_sel(b, "call-id", call_id);
	if (e == 0 && ssrc != NULL)
		e = buf_printf(b, "ssrc=0x%08x ", (unsigned)*ssrc);
	if (e == 0 && src != NULL && src->len != 0 &&
	    net_addr_format(src, a, sizeof(a)) == 0)
		e = put_sel(b, "src", a);
	if (e == 0 && dst != NULL && dst->len != 0 &&
	    net_addr_format(dst, a, sizeof(a)) == 0)
		e = put_sel(b, "dst", a);
	if (e == 0 && dir != KEYLINE_DIR_NONE)
		e = put_sel(b, "dir", dir == KEYLINE_DIR_IN ? "in" : "out");
	if (e == 0)
		e = keyline_format(kl, 0, b);
	if (e == 0)
		e = buf_append_u8(b, '\n');
	if (e == 0) {
		w = write(k->fd, buf_data(b), buf_len(b));
		if (w < 0 || (size_t)w != buf_len(b))
			e = E_IO;
	}
	buf_free(b);
	return e;
}
