/* fuzz_digest.c - libFuzzer target: digest credentials and their file. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sip/digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t secret[32] = "fuzz secret, fuzz secret, fuzz!";

/* Base credentials for inputs that are not a credentials file. */
static const char base_creds[] =
    "alice:r:0123456789abcdef0123456789abcdef\n"
    "alice:r:0123456789abcdef0123456789abcdef"
    "0123456789abcdef0123456789abcdef\n";

static int
inside(struct slice s, const struct digest_params *p)
{
	return s.len == 0 || (s.p >= p->store && s.len <= p->used &&
	    (size_t)(s.p - p->store) <= p->used - s.len);
}

/*
 * The input is both an Authorization value and a credentials file. A
 * value that parses must point only into its own store; given a nonce of
 * ours, our realm and the right response, it must verify once and then be
 * a replay.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct digest_params p;
	struct digest_cfg cfg = { SLICE_LIT("r"), secret, sizeof(secret), 0,
	    0, 0 };
	struct digest_creds *fc = NULL, *bc = NULL, *c;
	struct digest *d = NULL;
	char why[256], nonce[DIGEST_NONCE_LEN + 1], resp[65];
	struct slice ha1, user;
	int e;

	if (digest_creds_parse(slice_make(data, size), &fc, why,
	    sizeof(why)) == 0 && digest_creds_count(fc) > DIGEST_CREDS_MAX)
		__builtin_trap();
	if (digest_parse(slice_make(data, size), &p, why, sizeof(why)) != 0)
		goto out;
	if (!inside(p.username, &p) || !inside(p.realm, &p) ||
	    !inside(p.nonce, &p) || !inside(p.uri, &p) ||
	    !inside(p.response, &p) || !inside(p.cnonce, &p) ||
	    !inside(p.opaque, &p) || !inside(p.qop, &p) ||
	    !inside(p.nc_text, &p) || p.nc == 0 || p.used > sizeof(p.store))
		__builtin_trap();
	if ((d = digest_new(&cfg, &e)) == NULL ||
	    digest_creds_parse(SLICE_LIT(base_creds), &bc, why,
	    sizeof(why)) != 0)
		__builtin_trap();
	c = fc != NULL ? fc : bc;
	/* As sent: a foreign nonce never verifies. */
	if (digest_verify(d, c, &p, SLICE_LIT("REGISTER"), 5000, &user,
	    NULL) == DIGEST_OK)
		__builtin_trap();
	/* As a client that knows the password would have sent it. */
	p.realm = SLICE_LIT("r");
	if (digest_nonce(d, 5000, nonce, sizeof(nonce)) != 0)
		__builtin_trap();
	p.nonce = slice_make(nonce, DIGEST_NONCE_LEN);
	if (digest_creds_lookup(c, p.username, p.realm, p.alg, &ha1) != 0)
		goto out;
	if (digest_response_hex(ha1, SLICE_LIT("REGISTER"), &p, resp,
	    sizeof(resp)) != 0)
		__builtin_trap();
	p.response = slice_make(resp, strlen(resp));
	if (digest_verify(d, c, &p, SLICE_LIT("REGISTER"), 6000, &user,
	    NULL) != DIGEST_OK || !slice_eq(user, p.username) ||
	    digest_verify(d, c, &p, SLICE_LIT("REGISTER"), 6000, &user,
	    NULL) != DIGEST_REPLAY)
		__builtin_trap();
out:
	digest_free(d);
	digest_creds_free(bc);
	digest_creds_free(fc);
	return 0;
}
