/* BLAKE2b compression and a keyed digest with a cached key block, per RFC 7693. */
#include "blake2b.h"

#include <sodium.h>
#include <string.h>

static const uint64_t iv[8] = {
	0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
	0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
	0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

static const uint8_t sigma[12][16] = {
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
	{11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
	{7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
	{9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
	{2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
	{12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
	{13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
	{6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
	{10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

static uint64_t rotr(uint64_t x, int n)
{
	return (x >> n) | (x << (64 - n));
}

static uint64_t load64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

#define G(a, b, c, d, x, y)                                                                    \
	do {                                                                                   \
		v[a] = v[a] + v[b] + (x);                                                      \
		v[d] = rotr(v[d] ^ v[a], 32);                                                  \
		v[c] = v[c] + v[d];                                                            \
		v[b] = rotr(v[b] ^ v[c], 24);                                                  \
		v[a] = v[a] + v[b] + (y);                                                      \
		v[d] = rotr(v[d] ^ v[a], 16);                                                  \
		v[c] = v[c] + v[d];                                                            \
		v[b] = rotr(v[b] ^ v[c], 63);                                                  \
	} while (0)

/* Compresses one 128-byte block into h; t is the byte count including it. */
static void compress(uint64_t h[8], const unsigned char block[128], uint64_t t, int last)
{
	uint64_t v[16], m[16];

	for (int i = 0; i < 16; i++)
		m[i] = load64(block + 8 * i);
	for (int i = 0; i < 8; i++) {
		v[i] = h[i];
		v[i + 8] = iv[i];
	}
	v[12] ^= t; /* the high word of the counter stays 0 below 2^64 bytes */
	if (last)
		v[14] = ~v[14];
	/* Rounds written out, so that every message index is a constant the compiler folds. */
#define ROUND(r)                                                                               \
	do {                                                                                   \
		G(0, 4, 8, 12, m[sigma[r][0]], m[sigma[r][1]]);                                \
		G(1, 5, 9, 13, m[sigma[r][2]], m[sigma[r][3]]);                                \
		G(2, 6, 10, 14, m[sigma[r][4]], m[sigma[r][5]]);                               \
		G(3, 7, 11, 15, m[sigma[r][6]], m[sigma[r][7]]);                               \
		G(0, 5, 10, 15, m[sigma[r][8]], m[sigma[r][9]]);                               \
		G(1, 6, 11, 12, m[sigma[r][10]], m[sigma[r][11]]);                             \
		G(2, 7, 8, 13, m[sigma[r][12]], m[sigma[r][13]]);                              \
		G(3, 4, 9, 14, m[sigma[r][14]], m[sigma[r][15]]);                              \
	} while (0)
	ROUND(0);
	ROUND(1);
	ROUND(2);
	ROUND(3);
	ROUND(4);
	ROUND(5);
	ROUND(6);
	ROUND(7);
	ROUND(8);
	ROUND(9);
	ROUND(10);
	ROUND(11);
#undef ROUND
	for (int i = 0; i < 8; i++)
		h[i] ^= v[i] ^ v[i + 8];
}

void pii_b2b_init(struct pii_b2b *s, const unsigned char *key, size_t keylen, size_t outlen)
{
	for (int i = 0; i < 8; i++)
		s->h0[i] = iv[i];
	/* Parameter block: digest length, key length, fanout 1, depth 1. */
	s->h0[0] ^= 0x01010000ULL ^ ((uint64_t)keylen << 8) ^ (uint64_t)outlen;
	s->outlen = outlen;
	memset(s->kb, 0, sizeof(s->kb));
	memcpy(s->kb, key, keylen);
	/* For a non-empty message the key block is not the last: compress it once, here. */
	memcpy(s->h, s->h0, sizeof(s->h));
	compress(s->h, s->kb, 128, 0);
}

void pii_b2b_digest(const struct pii_b2b *s, const unsigned char *in, size_t n,
		    unsigned char *out)
{
	uint64_t h[8], t = 128;
	unsigned char block[128];

	if (!n) {
		/* The key block alone is the message's last block. */
		memcpy(h, s->h0, sizeof(h));
		compress(h, s->kb, 128, 1);
		goto out;
	}
	memcpy(h, s->h, sizeof(h));
	while (n > 128) {
		t += 128;
		compress(h, in, t, 0);
		in += 128;
		n -= 128;
	}
	memcpy(block, in, n);
	memset(block + n, 0, sizeof(block) - n);
	t += n;
	compress(h, block, t, 1);
	sodium_memzero(block, n); /* the value's bytes; the rest was zero */
out:
	/* h now holds the digest itself, which is no secret: it becomes the pseudonym. */
	for (size_t i = 0; i < s->outlen; i++)
		out[i] = (unsigned char)(h[i / 8] >> (8 * (i % 8)));
}
