/* Content digests of the files a catalog load reads (descriptors, dbt manifests and the
 * extensions applied to them), which tell a changed file from the same one: SHA-256, which
 * libcrypto runs on the CPU's SHA instructions, about twice as fast as BLAKE2b here. */
#ifndef ST_DIGEST_H
#define ST_DIGEST_H

#include <openssl/sha.h>
#include <stddef.h>

#define ST_DIGEST_LEN 32

struct st_digest {
	SHA256_CTX c;
};

/* Starts digest d. */
void st_digest_init(struct st_digest *d);
/* Adds n bytes at p to d. */
void st_digest_update(struct st_digest *d, const void *p, size_t n);
/* Writes the digest of what was added to d in out; d is done. */
void st_digest_final(struct st_digest *d, unsigned char out[ST_DIGEST_LEN]);
/* The digest of n bytes at p, in out. */
void st_digest(const void *p, size_t n, unsigned char out[ST_DIGEST_LEN]);

#endif
