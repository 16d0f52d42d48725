/* Keyed BLAKE2b (RFC 7693) with the key block compressed once and reused: a pseudonym then
 * costs one compression instead of two. libsodium has no API for a precomputed keyed state,
 * so this small implementation follows the RFC; tests/unit/test_pii.c checks it against
 * libsodium's crypto_generichash for many keys, lengths and outputs. Internal to pii/. */
#ifndef PII_BLAKE2B_H
#define PII_BLAKE2B_H

#include <stddef.h>
#include <stdint.h>

struct pii_b2b {
	uint64_t h0[8];         /* the initial chaining value */
	uint64_t h[8];          /* the chaining value after the key block */
	unsigned char kb[128];  /* the key block, for the empty message (its only block) */
	size_t outlen;
};

/* Prepares a keyed state for digests of outlen bytes (1..64) under a key of keylen bytes
 * (1..64). The caller wipes the state when done. */
void pii_b2b_init(struct pii_b2b *s, const unsigned char *key, size_t keylen, size_t outlen);
/* Writes the digest of in[0, n) under the prepared key to out (s->outlen bytes); s is not
 * changed, so it serves any number of values. */
void pii_b2b_digest(const struct pii_b2b *s, const unsigned char *in, size_t n,
		    unsigned char *out);

#endif
