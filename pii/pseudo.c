/* Keyed pseudonyms: per-category subkeys from the master key (libsodium KDF), then keyed
 * BLAKE2b of the normalized value, encoded as "kN:" + base64url. docs/pseudonyms.md gives
 * the construction and test vectors. */
#include "pii.h"
#include "alloc.h"
#include "blake2b.h"
#include "norm_int.h"
#include "pseudo_int.h"

#include <sodium.h>
#include <string.h>

#define KDF_CONTEXT "stwdpii1" /* 8 bytes, crypto_kdf_CONTEXTBYTES */

struct sub {
	char *category;
	struct pii_b2b *state; /* keyed with the subkey; guarded memory */
};

#define SEEN_BITS 8 /* 256 slots */
#define SEEN_PROBES 4 /* slots looked at for a pointer */

struct pii_pseudonymizer {
	char id[PII_KEY_ID_MAX];
	size_t idlen;
	const unsigned char *master; /* borrowed from the keyring */
	struct sub *subs;
	size_t n, cap;
	/* Category pointers seen, by their address, with their subkey's index: callers such
	 * as the ingest plans hold one copy of a category per field of each dataset. */
	struct {
		const char *category;
		size_t sub;
	} seen[1u << SEEN_BITS];
};

int pii_pseudonymizer_new(struct pii_pseudonymizer **out, const struct pii_key *key, struct st_error *err)
{
	struct pii_pseudonymizer *h;

	if (!key->secret)
		return st_error_set(err, ST_E_SYSTEM, "key '%s' is not loaded", key->id);
	if (sodium_init() < 0)
		return st_error_set(err, ST_E_SYSTEM, "cannot initialise libsodium");
	h = st_calloc(1, sizeof(*h));
	if (!h)
		return st_error_oom(err);
	memcpy(h->id, key->id, sizeof(h->id));
	h->idlen = strlen(h->id);
	h->master = key->secret;
	*out = h;
	return 0;
}

void pii_pseudonymizer_free(struct pii_pseudonymizer *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++) {
		st_free(h->subs[i].category);
		sodium_free(h->subs[i].state);
	}
	st_free(h->subs);
	st_free(h);
}

/* The KDF subkey id of a category: the first 8 bytes of SHA-256(category), little-endian. */
static uint64_t category_id(const char *category)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	uint64_t id = 0;

	crypto_hash_sha256(digest, (const unsigned char *)category, strlen(category));
	for (int i = 7; i >= 0; i--)
		id = (id << 8) | digest[i];
	return id;
}

static struct sub *find_sub(struct pii_pseudonymizer *h, const char *category, struct st_error *err)
{
	size_t slot = (size_t)(((uint64_t)(uintptr_t)category * 0x9e3779b97f4a7c15ULL) >>
			       (64 - SEEN_BITS));
	unsigned char *subkey;
	struct sub *s;

	/* Callers pass the same category strings again and again: pointers first, in the slot
	 * and the next three (a plan holds a few dozen category pointers, which would often
	 * share a slot), then by name. */
	for (size_t k = 0; k < SEEN_PROBES; k++) {
		size_t at = (slot + k) & ((1u << SEEN_BITS) - 1);

		if (h->seen[at].category == category)
			return &h->subs[h->seen[at].sub];
		if (!h->seen[at].category) {
			slot = at; /* a free slot: a new pointer goes there */
			break;
		}
	}
	for (size_t i = 0; i < h->n; i++)
		if (!strcmp(h->subs[i].category, category)) {
			h->seen[slot].category = category;
			h->seen[slot].sub = i;
			return &h->subs[i];
		}
	if (st_grow(&h->subs, &h->cap, h->n + 1, sizeof(*h->subs))) {
		st_error_oom(err);
		return NULL;
	}
	s = &h->subs[h->n];
	s->category = st_strdup(category);
	s->state = sodium_malloc(sizeof(*s->state));
	/* The subkey is key material too: it is derived in guarded memory, never on the
	 * stack, and sodium_free() wipes it. */
	subkey = sodium_malloc(crypto_generichash_KEYBYTES);
	if (!s->category || !s->state || !subkey) {
		st_free(s->category);
		sodium_free(s->state);
		sodium_free(subkey);
		st_error_oom(err);
		return NULL;
	}
	crypto_kdf_derive_from_key(subkey, crypto_generichash_KEYBYTES, category_id(category),
				   KDF_CONTEXT, h->master);
	pii_b2b_init(s->state, subkey, crypto_generichash_KEYBYTES, PII_TAG_BYTES);
	sodium_free(subkey);
	sodium_mprotect_readonly(s->state); /* only read from now on; sodium_free() wipes it */
	h->seen[slot].category = category;
	h->seen[slot].sub = h->n++;
	return s;
}

_Static_assert(PII_PSEUDONYM_MAX >= PII_KEY_ID_MAX + 1 + PII_TAG_BYTES / 3 * 4 + 1,
	       "a pseudonym buffer holds the whole key id array, ':', the tag and a NUL");

/* base64url's alphabet (RFC 4648 section 5) as arithmetic, so that the pair table below
 * is a constant: 0-25 'A'-'Z', 26-51 'a'-'z', 52-61 '0'-'9', 62 '-', 63 '_'. */
#define B64(x)                                                                                 \
	((char)((x) < 26 ? 'A' + (x) : (x) < 52 ? 'a' + (x) - 26 : (x) < 62 ? '0' + (x) - 52     \
		: (x) == 62 ? '-' : '_'))
#define B64P1(i) {B64((i) >> 6), B64((i) & 63)}
#define B64P4(i) B64P1(i), B64P1((i) + 1), B64P1((i) + 2), B64P1((i) + 3)
#define B64P16(i) B64P4(i), B64P4((i) + 4), B64P4((i) + 8), B64P4((i) + 12)
#define B64P64(i) B64P16(i), B64P16((i) + 16), B64P16((i) + 32), B64P16((i) + 48)
#define B64P256(i) B64P64(i), B64P64((i) + 64), B64P64((i) + 128), B64P64((i) + 192)
#define B64P1024(i) B64P256(i), B64P256((i) + 256), B64P256((i) + 512), B64P256((i) + 768)

/* The two characters of every 12-bit group: a pseudonym's 24 characters take 12 lookups
 * instead of 24 (it is on the ingest hot path, four times an event). */
static const char b64pair[4096][2] = {
	B64P1024(0), B64P1024(1024), B64P1024(2048), B64P1024(3072),
};

_Static_assert(PII_TAG_BYTES % 3 == 0, "base64url() takes the tag three bytes at a time");

/* Unpadded base64url of the 18-byte tag t: 24 characters and a NUL, three bytes (four
 * characters) at a time. The tag is read a byte at a time on purpose: pii_b2b_digest() has
 * just written it byte by byte, and a wider load would wait for those stores. A tag is no
 * secret once it is a pseudonym, so no constant-time encoder is needed. */
static void base64url(const unsigned char *t, char *out)
{
	for (int i = 0; i < PII_TAG_BYTES; i += 3, out += 4) {
		uint32_t v = (uint32_t)t[i] << 16 | (uint32_t)t[i + 1] << 8 | t[i + 2];

		memcpy(out, b64pair[v >> 12], 2);
		memcpy(out + 2, b64pair[v & 4095], 2);
	}
	*out = '\0';
}

/* The pseudonym of value under the subkey state key into out: the id, ':' and the tag. */
static inline int encode(const struct pii_pseudonymizer *h, const struct pii_b2b *key,
			 const char *value, size_t len, char *out)
{
	unsigned char tag[PII_TAG_BYTES];
	size_t idlen = h->idlen;

	pii_b2b_digest(key, (const unsigned char *)value, len, tag);
	/* The whole id array (NUL-padded, and out has room), a copy of constant size. */
	memcpy(out, h->id, PII_KEY_ID_MAX);
	out[idlen] = ':';
	base64url(tag, out + idlen + 1);
	/* The tag is not wiped: it is no secret, being the pseudonym itself, which the caller
	 * writes out (as blake2b.c says of the digest). */
	return (int)idlen + 1 + PII_TAG_BYTES / 3 * 4;
}

int pii_pseudonym(struct pii_pseudonymizer *h, const char *category, const char *value, size_t len,
		  char *out, struct st_error *err)
{
	struct sub *s = find_sub(h, category ? category : "", err);

	if (!s)
		return -1;
	return encode(h, s->state, value, len, out);
}

const struct pii_b2b *pii_pseudonym_key(struct pii_pseudonymizer *h, const char *category,
					struct st_error *err)
{
	struct sub *s = find_sub(h, category ? category : "", err);

	return s ? s->state : NULL;
}

/* The pseudonym of value normalized by norm, under key, or when key is NULL under
 * category's subkey (looked up after the value is normalized). The normalized copy is wiped
 * once hashed: it is the value itself. */
static int normalized(struct pii_pseudonymizer *h, const struct pii_b2b *key,
		      const char *category, int norm, const char *value, size_t len,
		      const char *country_code, char *out, struct st_error *err)
{
	char nv[PII_NORM_MAX];
	const char *v;
	struct sub *s;
	int n = pii_normalize_view(norm, value, len, country_code, nv, &v);

	if (n < 0) {
		sodium_memzero(nv, sizeof(nv)); /* the normalizer may have written part of it */
		return PII_NOT_OF_KIND;
	}
	len = (size_t)n;
	if (!key && (s = find_sub(h, category ? category : "", err)))
		key = s->state;
	n = key ? encode(h, key, v, len, out) : -1;
	if (v == nv) /* else the value was hashed where it is, and nv holds none of it */
		sodium_memzero(nv, len); /* only the bytes the normalizer wrote: this is per value */
	return n;
}

int pii_pseudonymize_key(struct pii_pseudonymizer *h, const struct pii_b2b *key, int norm,
			 const char *value, size_t len, const char *country_code, char *out)
{
	/* An address already in its normal form, as most are, is hashed as it is, without
	 * the normalizer's copy and trimming. */
	if (norm == PII_NORM_NONE || (norm == PII_NORM_IP && pii_ip_is_normal(value, len)))
		return encode(h, key, value, len, out);
	return normalized(h, key, NULL, norm, value, len, country_code, out, NULL);
}

int pii_pseudonymize(struct pii_pseudonymizer *h, int norm, const char *category, const char *value,
		     size_t len, const char *country_code, char *out, struct st_error *err)
{
	if (norm == PII_NORM_NONE)
		return pii_pseudonym(h, category, value, len, out, err);
	return normalized(h, NULL, category, norm, value, len, country_code, out, err);
}

int pii_pseudonymizers_init(struct pii_pseudonymizers *hs, const struct pii_keyring *kr, struct st_error *err)
{
	const struct pii_key *cur = pii_keyring_current(kr);

	memset(hs, 0, sizeof(*hs));
	if (!cur || !cur->secret)
		return st_error_set(err, ST_E_NOTFOUND, "no current key (run 'steward key init')");
	if (pii_pseudonymizer_new(&hs->v[0], cur, err))
		return -1;
	hs->n = 1;
	for (size_t i = 0; i < kr->n && hs->n < PII_PSEUDONYMIZERS_MAX; i++) {
		if (&kr->keys[i] == cur || kr->keys[i].status == PII_KEY_RETIRED ||
		    !kr->keys[i].secret)
			continue;
		if (pii_pseudonymizer_new(&hs->v[hs->n], &kr->keys[i], err))
			return -1;
		hs->n++;
	}
	return 0;
}

void pii_pseudonymizers_release(struct pii_pseudonymizers *hs)
{
	for (size_t i = 0; i < hs->n; i++)
		pii_pseudonymizer_free(hs->v[i]);
	memset(hs, 0, sizeof(*hs));
}

int pii_subject_pseudonyms(const struct pii_keyring *kr, const char *category, const char *value,
			   size_t len, const char *country, char out[][PII_PSEUDONYM_MAX],
			   size_t max, size_t *n, struct st_error *err)
{
	int norm = pii_norm_for_category(category), ret = -1;
	struct pii_pseudonymizers hs;

	*n = 0;
	if (pii_pseudonymizers_init(&hs, kr, err))
		goto out;
	for (size_t i = 0; i < hs.n && *n < max; i++) {
		int r = pii_pseudonymize(hs.v[i], norm, category, value, len, country, out[*n], err);

		if (r == PII_NOT_OF_KIND) {
			st_error_set(err, ST_E_INVALID, "the subject is not a valid %s",
				     pii_norm_noun(norm));
			goto out;
		}
		if (r < 0)
			goto out;
		(*n)++;
	}
	ret = 0;
out:
	pii_pseudonymizers_release(&hs);
	return ret;
}
