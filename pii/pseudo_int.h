/* Private to pii/: keyed pseudonyms for a caller that looks a category's subkey up once and
 * keeps it (the ingest fast path, one per field and thread). Not part of the pii library's
 * interface. */
#ifndef PII_PSEUDO_INT_H
#define PII_PSEUDO_INT_H

#include "pii.h"
#include "blake2b.h"

#include <stddef.h>

/* The keyed state of category's subkey under h (NULL: ""), derived on first use, as
 * pii_pseudonym() uses it; valid while h lives. NULL with err when out of memory. */
const struct pii_b2b *pii_pseudonym_key(struct pii_pseudonymizer *h, const char *category,
					struct st_error *err);
/* pii_pseudonymize() with key, category's state from pii_pseudonym_key(): the pseudonym of
 * value (len bytes, normalized by norm first) into out (PII_PSEUDONYM_MAX bytes). Returns its
 * length, or PII_NOT_OF_KIND when the normalizer does not take the value. */
int pii_pseudonymize_key(struct pii_pseudonymizer *h, const struct pii_b2b *key, int norm,
			 const char *value, size_t len, const char *country_code, char *out);

#endif
