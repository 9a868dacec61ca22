/* ice.c - an ICE-lite agent (RFC 8445 2.5, 7.3): answers connectivity
 * checks with our short-term credentials, reports nominations. */
#include <string.h>

#include <openssl/crypto.h>

#include "base/rnd.h"
#include "media/ice.h"
#include "media/stun.h"

#define LUFRAG_LEN 8	/* RFC 8839: >= 24 bits of randomness in ufrag */
#define LPWD_LEN 24	/* >= 128 bits in pwd: 24 * 6 = 144 */

static const char ice_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
is_ice_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static int
ice_chars_ok(struct slice s, size_t min, size_t max)
{
	size_t i;

	if (s.len < min || s.len > max)
		return 0;
	for (i = 0; i < s.len; i++)
		if (!is_ice_char(s.p[i]))
			return 0;
	return 1;
}

/* `n` ice-chars into `out` (n + 1 bytes); 64 of them: one byte each. */
static int
make_chars(char *out, size_t n)
{
	uint8_t r[LPWD_LEN];
	size_t i;

	if (n > sizeof(r) || rnd_bytes(r, n) != 0)
		return E_CRYPTO;
	for (i = 0; i < n; i++)
		out[i] = ice_chars[r[i] & 63];
	out[n] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}

static int
new_local(struct ice_lite *a)
{
	char uf[LUFRAG_LEN + 1], pw[LPWD_LEN + 1];

	if (make_chars(uf, LUFRAG_LEN) != 0 || make_chars(pw, LPWD_LEN) != 0) {
		OPENSSL_cleanse(pw, sizeof(pw));
		return E_CRYPTO;
	}
	OPENSSL_cleanse(a->lpwd, sizeof(a->lpwd));
	memcpy(a->lufrag, uf, sizeof(uf));
	memcpy(a->lpwd, pw, sizeof(pw));
	OPENSSL_cleanse(pw, sizeof(pw));
	return 0;
}

int
ice_lite_init(struct ice_lite *a)
{
	memset(a, 0, sizeof(*a));
	return new_local(a);
}

int
ice_lite_restart(struct ice_lite *a)
{
	int r;

	if ((r = new_local(a)) != 0)
		return r;
	a->gen++;
	/* answering the peer's restart: its new ufrag belongs to this gen */
	a->rstale = !a->rpending;
	a->rpending = 0;
	return 0;
}

int
ice_lite_set_remote(struct ice_lite *a, struct slice ufrag, struct slice pwd)
{
	int changed;

	if (!ice_chars_ok(ufrag, 4, ICE_UFRAG_MAX) ||
	    !ice_chars_ok(pwd, 22, ICE_PWD_MAX))
		return E_SYNTAX;
	changed = a->rufrag[0] != '\0' &&
	    (!slice_eq_cstr(ufrag, a->rufrag) || !slice_eq_cstr(pwd, a->rpwd));
	OPENSSL_cleanse(a->rpwd, sizeof(a->rpwd));
	memcpy(a->rufrag, ufrag.p, ufrag.len);
	a->rufrag[ufrag.len] = '\0';
	memcpy(a->rpwd, pwd.p, pwd.len);
	a->rpwd[pwd.len] = '\0';
	a->rstale = 0;
	a->rpending = changed;
	return changed;
}

/* USERNAME "ours:theirs" (theirs not compared while unknown or stale). */
static int
username_ok(const struct ice_lite *a, struct slice u)
{
	size_t ln = strlen(a->lufrag);
	struct slice theirs;

	if (ln == 0 || u.len < ln + 2 || memcmp(u.p, a->lufrag, ln) != 0 ||
	    u.p[ln] != ':')
		return 0;
	theirs = slice_make(u.p + ln + 1, u.len - ln - 1);
	if (a->rufrag[0] == '\0' || a->rstale)
		return theirs.len <= ICE_UFRAG_MAX;
	return slice_eq_cstr(theirs, a->rufrag);
}

int
ice_lite_input(struct ice_lite *a, struct slice pkt,
    const struct net_addr *src, uint8_t *out, size_t cap, size_t *outlen,
    struct ice_check *chk)
{
	const uint8_t *key = (const uint8_t *)a->lpwd;
	size_t keylen = strlen(a->lpwd);
	struct stun_msg m;

	*outlen = 0;
	if (out == NULL || cap < STUN_MAX || src == NULL ||
	    (net_addr_family(src) != AF_INET &&
	    net_addr_family(src) != AF_INET6))
		return E_INVAL;
	if (!stun_is(pkt) || stun_parse(pkt, &m) != 0) {
		a->malformed++;
		return E_SYNTAX;
	}
	if (m.type != STUN_BINDING_REQUEST)
		return E_NOTFOUND;
	a->requests++;
	if (!m.has_fingerprint) {
		a->malformed++;
		return E_SYNTAX;
	}
	if (m.username.len == 0 || m.integrity_at == 0) {
		a->malformed++;
		*outlen = stun_binding_error(out, cap, m.tid, 400, NULL,
		    NULL, 0);
		return E_SYNTAX;
	}
	if (!username_ok(a, m.username)) {
		a->bad_user++;
		*outlen = stun_binding_error(out, cap, m.tid, 401, NULL,
		    NULL, 0);
		return E_AUTH;
	}
	if (stun_check_integrity(pkt, &m, key, keylen) != 0) {
		a->bad_auth++;
		return E_AUTH;
	}
	if (m.n_unknown > 0) {
		a->unknown_attrs++;
		*outlen = stun_binding_error_unknown(out, cap, m.tid,
		    m.unknown, m.n_unknown, key, keylen);
		return E_UNSUPPORTED;
	}
	if (m.role == 2) {
		a->role_conflicts++;
		*outlen = stun_binding_error(out, cap, m.tid, 487, NULL,
		    key, keylen);
		return E_STATE;
	}
	*outlen = stun_binding_success(out, cap, m.tid, src, key, keylen);
	if (*outlen == 0)
		return E_INVAL;
	a->answered++;
	if (m.use_candidate)
		a->nominations++;
	if (chk != NULL) {
		chk->nominated = m.use_candidate;
		chk->priority = m.priority;
	}
	return 0;
}
