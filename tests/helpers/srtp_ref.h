/* srtp_ref.h - stock libsrtp2, driven like lib/rtpsec: the reference. */
#ifndef SBK_SRTP_REF_H
#define SBK_SRTP_REF_H

/*
 * Header-only so that the unit test, the benchmark and the srtp-ref helper
 * share one way of configuring libsrtp2. lib/rtpsec does not touch libsrtp
 * at all, so stock libsrtp2 can run in the same process as the reference.
 */
#include <stdint.h>
#include <string.h>

#include <srtp2/srtp.h>
#include <srtp2/crypto_types.h>

#include "media/rtpsec.h"
#include "media/suite.h"

struct srtp_ref {
	srtp_t s;
	int use_mki;
	unsigned mki_index;	/* the key srtp_ref_protect() uses */
};

static inline int
srtp_ref_init(void)
{
	static int done;

	if (!done && srtp_init() != srtp_err_status_ok)
		return -1;
	done = 1;
	return 0;
}

static inline int
srtp_ref_suite(srtp_crypto_policy_t *rtp, srtp_crypto_policy_t *rtcp,
    enum suite_id id)
{
	switch (id) {
	case SUITE_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp);
		break;
	case SUITE_AES_CM_128_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp);
		break;
	case SUITE_AES_192_CM_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80(rtp);
		srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80(rtcp);
		break;
	case SUITE_AES_192_CM_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_192_hmac_sha1_32(rtp);
		srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80(rtcp);
		break;
	case SUITE_AES_256_CM_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtcp);
		break;
	case SUITE_AES_256_CM_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtcp);
		break;
	case SUITE_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(rtcp);
		break;
	case SUITE_AEAD_AES_256_GCM:
		srtp_crypto_policy_set_aes_gcm_256_16_auth(rtp);
		srtp_crypto_policy_set_aes_gcm_256_16_auth(rtcp);
		break;
	default:
		return -1;
	}
	return 0;
}

/*
 * A libsrtp2 session equivalent to rtpsec_new(p, dir): one template stream
 * (ssrc_any_outbound or ssrc_any_inbound), with every master key of `p`
 * (p->more too; key lifetimes are ours only, libsrtp has none: switch
 * keys with r->mki_index). Returns 0 or a libsrtp status.
 */
static inline int
srtp_ref_new(struct srtp_ref *r, const struct rtpsec_params *p,
    enum rtpsec_dir dir)
{
	unsigned char keys[RTPSEC_MAX_KEYS][SRTP_MAX_KEY_LEN];
	unsigned char mkis[RTPSEC_MAX_KEYS][SRTP_MAX_MKI_LEN];
	unsigned char *key = keys[0];
	srtp_master_key_t mk[RTPSEC_MAX_KEYS], *mkp[RTPSEC_MAX_KEYS];
	srtp_policy_t pol;
	int st;

	memset(r, 0, sizeof(*r));
	memset(&pol, 0, sizeof(pol));
	if (srtp_ref_init() != 0 || srtp_ref_suite(&pol.rtp, &pol.rtcp,
	    p->suite) != 0 || p->key_len + p->salt_len > sizeof(keys[0]) ||
	    p->mki_len > sizeof(mkis[0]) || p->nmore >= RTPSEC_MAX_KEYS ||
	    (p->nmore > 0 && p->mki_len == 0))
		return -1;
	memcpy(key, p->key, p->key_len);
	memcpy(key + p->key_len, p->salt, p->salt_len);
	if (p->flags & RTPSEC_UNENCRYPTED_SRTP)
		pol.rtp.sec_serv &= ~sec_serv_conf;
	if (p->flags & RTPSEC_UNAUTHENTICATED_SRTP) {
		pol.rtp.sec_serv &= ~sec_serv_auth;
		pol.rtp.auth_type = SRTP_NULL_AUTH;
		pol.rtp.auth_key_len = 0;
		pol.rtp.auth_tag_len = 0;
	}
	if (p->flags & RTPSEC_UNENCRYPTED_SRTCP)
		pol.rtcp.sec_serv &= ~sec_serv_conf;
	pol.ssrc.type = dir == RTPSEC_PROTECT ? ssrc_any_outbound :
	    ssrc_any_inbound;
	pol.window_size = 128;
	pol.allow_repeat_tx = (p->flags & RTPSEC_ALLOW_REPEAT_TX) != 0;
	if (p->mki_len > 0) {
		for (size_t i = 0; i <= p->nmore; i++) {
			const struct rtpsec_key *k = i > 0 ? &p->more[i - 1] :
			    NULL;

			if (i > 0) {
				memcpy(keys[i], k->key, p->key_len);
				memcpy(keys[i] + p->key_len, k->salt,
				    p->salt_len);
			}
			memcpy(mkis[i], i > 0 ? k->mki : p->mki, p->mki_len);
			mk[i].key = keys[i];
			mk[i].mki_id = mkis[i];
			mk[i].mki_size = (unsigned)p->mki_len;
			mkp[i] = &mk[i];
		}
		pol.keys = mkp;
		pol.num_master_keys = 1 + (unsigned long)p->nmore;
		r->use_mki = 1;
	} else {
		pol.key = key;
	}
	st = srtp_create(&r->s, &pol);
	memset(keys, 0, sizeof(keys));
	return st;
}

static inline void
srtp_ref_free(struct srtp_ref *r)
{
	if (r->s != NULL)
		srtp_dealloc(r->s);
	r->s = NULL;
}

/* In place, like rtpsec; the buffer must have SRTP_MAX_TRAILER_LEN room. */
static inline int
srtp_ref_protect(struct srtp_ref *r, uint8_t *p, size_t *len, int rtcp)
{
	int n = (int)*len, st;

	if (rtcp)
		st = srtp_protect_rtcp_mki(r->s, p, &n, r->use_mki,
		    r->mki_index);
	else
		st = srtp_protect_mki(r->s, p, &n, r->use_mki,
		    r->mki_index);
	if (st == 0)
		*len = (size_t)n;
	return st;
}

static inline int
srtp_ref_unprotect(struct srtp_ref *r, uint8_t *p, size_t *len, int rtcp)
{
	int n = (int)*len, st;

	if (rtcp)
		st = srtp_unprotect_rtcp_mki(r->s, p, &n, r->use_mki);
	else
		st = srtp_unprotect_mki(r->s, p, &n, r->use_mki);
	if (st == 0)
		*len = (size_t)n;
	return st;
}

#endif
