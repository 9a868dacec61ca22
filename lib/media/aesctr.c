/* aesctr.c - AES counter-mode keystream: AES-NI, or OpenSSL's EVP. */
#include <string.h>

#include <openssl/crypto.h>

#include "media/aesctr.h"

#define EVP_BLOCKS 16	/* counter blocks encrypted per EVP call */

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_NI 1
#include <immintrin.h>
#else
#define HAVE_NI 0
#endif

static int use_ni = -1;		/* -1: not yet asked of the CPU */

static int
ni_present(void)
{
#if HAVE_NI
	__builtin_cpu_init();
	return __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1");
#else
	return 0;
#endif
}

int
aesctr_use_ni(int on)
{
	int was;

	if (use_ni < 0)
		use_ni = ni_present();
	was = use_ni;
	if (on >= 0)
		use_ni = on && ni_present();
	return was;
}

/* Counter block `i` after `iv` (the last 32 bits big-endian, wrapping). */
static inline void
ctr_block(uint8_t b[16], const uint8_t iv[16], uint32_t lo)
{
	memcpy(b, iv, 12);
	b[12] = (uint8_t)(lo >> 24);
	b[13] = (uint8_t)(lo >> 16);
	b[14] = (uint8_t)(lo >> 8);
	b[15] = (uint8_t)lo;
}

static inline uint32_t
ctr_lo(const uint8_t iv[16])
{
	return ((uint32_t)iv[12] << 24) | ((uint32_t)iv[13] << 16) |
	    ((uint32_t)iv[14] << 8) | iv[15];
}

/* p ^= ks, eight bytes at a time (a byte loop was 1/4 of a packet). */
static inline void
xor_into(uint8_t *p, const uint8_t *ks, size_t n)
{
	uint64_t a, b;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&a, p + i, 8);
		memcpy(&b, ks + i, 8);
		a ^= b;
		memcpy(p + i, &a, 8);
	}
	for (; i < n; i++)
		p[i] ^= ks[i];
}

/* ---- OpenSSL EVP ---- */

static int
evp_init(struct aesctr *a, const uint8_t *key, size_t len)
{
	const EVP_CIPHER *ciph = len == 16 ? EVP_aes_128_ecb() :
	    len == 24 ? EVP_aes_192_ecb() : EVP_aes_256_ecb();

	if ((a->evp = EVP_CIPHER_CTX_new()) == NULL)
		return E_CRYPTO;
	if (EVP_EncryptInit_ex(a->evp, ciph, NULL, key, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(a->evp, 0) != 1) {
		EVP_CIPHER_CTX_free(a->evp);
		a->evp = NULL;
		return E_CRYPTO;
	}
	return 0;
}

static int
evp_xor(EVP_CIPHER_CTX *ecb, const uint8_t iv[16], uint8_t *p, size_t n)
{
	uint8_t ctr[EVP_BLOCKS * 16], ks[EVP_BLOCKS * 16];
	uint32_t lo = ctr_lo(iv);
	size_t nb, i, take;
	int ol;

	while (n > 0) {
		nb = (n + 15) / 16;
		if (nb > EVP_BLOCKS)
			nb = EVP_BLOCKS;
		for (i = 0; i < nb; i++, lo++)
			ctr_block(ctr + 16 * i, iv, lo);
		if (EVP_EncryptUpdate(ecb, ks, &ol, ctr, (int)(16 * nb)) != 1 ||
		    (size_t)ol != 16 * nb)
			return E_CRYPTO;
		take = n < 16 * nb ? n : 16 * nb;
		xor_into(p, ks, take);
		p += take;
		n -= take;
	}
	return 0;
}

/* ---- AES-NI ---- */

#if HAVE_NI
#define NI __attribute__((target("aes,sse4.1")))

/* FIPS-197 SubWord, by AESKEYGENASSIST (its dword 0 is SubWord(dword 1)). */
static NI uint32_t
sub_word(uint32_t w)
{
	__m128i x = _mm_set_epi32(0, 0, (int)w, 0);

	return (uint32_t)_mm_cvtsi128_si32(_mm_aeskeygenassist_si128(x, 0));
}

/*
 * The FIPS-197 5.2 key expansion, word by word; a word's bytes are in
 * memory order, so the little-endian uint32 holds byte 0 in its low 8
 * bits and RotWord is a rotate right by 8.
 */
static NI void
ni_expand(struct aesctr *a, const uint8_t *key, size_t len)
{
	static const uint8_t rcon[10] = {
		0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36
	};
	uint32_t w[60], t;
	size_t nk = len / 4, i;

	a->nr = (unsigned)nk + 6;
	memcpy(w, key, len);
	for (i = nk; i < 4 * ((size_t)a->nr + 1); i++) {
		t = w[i - 1];
		if (i % nk == 0)
			t = sub_word((t >> 8) | (t << 24)) ^ rcon[i / nk - 1];
		else if (nk > 6 && i % nk == 4)
			t = sub_word(t);
		w[i] = w[i - nk] ^ t;
	}
	memcpy(a->rk, w, 16 * ((size_t)a->nr + 1));
	OPENSSL_cleanse(w, sizeof(w));
}

/* One AES round on four blocks. */
#define ROUND4(f, k) do { \
	b0 = f(b0, k); b1 = f(b1, k); b2 = f(b2, k); b3 = f(b3, k); \
} while (0)

/*
 * Four blocks at a time, so that the AES units' latency overlaps; the
 * counter is kept byte-swapped in the last lane, so that a block is one
 * add and one shuffle.
 */
static NI void
ni_xor(const struct aesctr *a, const uint8_t iv[16], uint8_t *p, size_t n)
{
	const __m128i *rk = (const __m128i *)a->rk;
	const __m128i swap = _mm_set_epi8(12, 13, 14, 15, 11, 10, 9, 8,
	    7, 6, 5, 4, 3, 2, 1, 0);
	__m128i ctr = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)iv),
	    swap);
	__m128i b0, b1, b2, b3, k, ks[4];
	unsigned r, nr = a->nr;
	uint8_t last[16];

	while (n > 0) {
		b0 = _mm_shuffle_epi8(ctr, swap);
		b1 = _mm_shuffle_epi8(_mm_add_epi32(ctr,
		    _mm_set_epi32(1, 0, 0, 0)), swap);
		b2 = _mm_shuffle_epi8(_mm_add_epi32(ctr,
		    _mm_set_epi32(2, 0, 0, 0)), swap);
		b3 = _mm_shuffle_epi8(_mm_add_epi32(ctr,
		    _mm_set_epi32(3, 0, 0, 0)), swap);
		ctr = _mm_add_epi32(ctr, _mm_set_epi32(4, 0, 0, 0));
		ROUND4(_mm_xor_si128, _mm_load_si128(&rk[0]));
		for (r = 1; r < nr; r++) {
			k = _mm_load_si128(&rk[r]);
			ROUND4(_mm_aesenc_si128, k);
		}
		ROUND4(_mm_aesenclast_si128, _mm_load_si128(&rk[nr]));
		if (n >= 64) {
			__m128i *q = (__m128i *)p;

			_mm_storeu_si128(q, _mm_xor_si128(b0,
			    _mm_loadu_si128(q)));
			_mm_storeu_si128(q + 1, _mm_xor_si128(b1,
			    _mm_loadu_si128(q + 1)));
			_mm_storeu_si128(q + 2, _mm_xor_si128(b2,
			    _mm_loadu_si128(q + 2)));
			_mm_storeu_si128(q + 3, _mm_xor_si128(b3,
			    _mm_loadu_si128(q + 3)));
			p += 64;
			n -= 64;
			continue;
		}
		/* the tail: less than four blocks' worth */
		ks[0] = b0;
		ks[1] = b1;
		ks[2] = b2;
		ks[3] = b3;
		for (r = 0; n > 0; r++) {
			size_t take = n < 16 ? n : 16;

			if (take == 16) {
				_mm_storeu_si128((__m128i *)p, _mm_xor_si128(
				    ks[r], _mm_loadu_si128((__m128i *)p)));
			} else {
				_mm_storeu_si128((__m128i *)last, ks[r]);
				xor_into(p, last, take);
			}
			p += take;
			n -= take;
		}
	}
}
#endif

int
aesctr_init(struct aesctr *a, const uint8_t *key, size_t len)
{
	memset(a, 0, sizeof(*a));
	if (len != 16 && len != 24 && len != 32)
		return E_KEY;
#if HAVE_NI
	if (aesctr_use_ni(-1)) {
		ni_expand(a, key, len);
		return 0;
	}
#endif
	return evp_init(a, key, len);
}

int
aesctr_xor(const struct aesctr *a, const uint8_t iv[16], uint8_t *p,
    size_t n)
{
#if HAVE_NI
	if (a->nr != 0) {
		ni_xor(a, iv, p, n);
		return 0;
	}
#endif
	if (a->evp == NULL)
		return E_CRYPTO;
	return evp_xor(a->evp, iv, p, n);
}

void
aesctr_wipe(struct aesctr *a)
{
	EVP_CIPHER_CTX_free(a->evp);
	OPENSSL_cleanse(a, sizeof(*a));
}
