/* b64.c - base64 through OpenSSL's EVP block codec, with strict checking. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/b64.h"

int
b64_encode(const uint8_t *in, size_t len, char *out, size_t outsz)
{
	int n;

	if (len > 3 * 1024 * 1024 || B64_ENC_LEN(len) + 1 > outsz)
		return E_BIG;
	n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	if (n < 0)
		return E_CRYPTO;
	out[n] = '\0';
	return n;
}

static int
b64_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int
b64_decode(struct slice in, uint8_t *out, size_t outsz)
{
	uint8_t tmp[4 * 1024 + 4], dec[3 * 1024 + 3];
	size_t i, n, pad = 0, dlen;
	int r;

	/* validate: alphabet, then up to two '=' at the very end */
	n = in.len;
	while (pad < 2 && n > 0 && in.p[n - 1] == '=') {
		n--;
		pad++;
	}
	if (n == 0)
		return E_SYNTAX;
	for (i = 0; i < n; i++)
		if (!b64_char(in.p[i]))
			return E_SYNTAX;
	if (pad > 0 && (n + pad) % 4 != 0)
		return E_SYNTAX;
	if (n % 4 == 1)
		return E_SYNTAX;
	if (n + 4 > sizeof(tmp))
		return E_BIG;
	memcpy(tmp, in.p, n);
	while (n % 4 != 0)	/* re-pad for OpenSSL */
		tmp[n++] = '=';
	dlen = n / 4 * 3;
	pad = (tmp[n - 1] == '=') + (tmp[n - 2] == '=');
	r = EVP_DecodeBlock(dec, tmp, (int)n);
	if (r < 0 || (size_t)r != dlen) {
		OPENSSL_cleanse(dec, sizeof(dec));
		return E_SYNTAX;
	}
	dlen -= pad;
	if (dlen > outsz) {
		OPENSSL_cleanse(dec, sizeof(dec));
		return E_BIG;
	}
	memcpy(out, dec, dlen);
	OPENSSL_cleanse(dec, sizeof(dec));
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return (int)dlen;
}
