/* SHA-256 content digests (digest.h). */
/* SHA256_Init and co. are deprecated in OpenSSL 3 in favour of EVP, which costs an
 * allocation and a look-up per digest; they still run the CPU's SHA instructions. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "digest.h"

void st_digest_init(struct st_digest *d)
{
	SHA256_Init(&d->c);
}

void st_digest_update(struct st_digest *d, const void *p, size_t n)
{
	SHA256_Update(&d->c, p, n);
}

void st_digest_final(struct st_digest *d, unsigned char out[ST_DIGEST_LEN])
{
	SHA256_Final(out, &d->c);
}

void st_digest(const void *p, size_t n, unsigned char out[ST_DIGEST_LEN])
{
	struct st_digest d;

	st_digest_init(&d);
	st_digest_update(&d, p, n);
	st_digest_final(&d, out);
}
