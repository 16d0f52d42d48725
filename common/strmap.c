/* The string map of strmap.h: SipHash-2-4 of the key under a key of the process's own
 * (libsodium's crypto_shorthash), and linear probing in a table kept at most half full. */
#include "strmap.h"
#include "alloc.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

/* Copies of keys, many to a block: a key keeps its address while more are added. */
struct st_strmap_block {
	struct st_strmap_block *next;
	size_t used, cap;
	char bytes[];
};

#define BLOCK_BYTES ((size_t)64 << 10)

void st_strmap_init(struct st_strmap *m, int flags)
{
	memset(m, 0, sizeof(*m));
	m->borrow = (flags & ST_STRMAP_BORROW) != 0;
}

/* The hash's key, drawn once per process. Keys come from files and events that others
 * write (dataset names, dbt unique ids, run ids): with a hash anyone can compute, such as
 * FNV-1a, names chosen to share a slot make every look-up walk all of them (a load of n
 * names takes n^2 steps). The order of a map does not depend on the hash, so nothing that
 * steward writes does either. */
static unsigned char hash_key[crypto_shorthash_KEYBYTES];
static pthread_once_t hash_key_once = PTHREAD_ONCE_INIT;

static void make_hash_key(void)
{
	/* sodium_init() fails only when libsodium cannot start at all; randombytes_buf()
	 * then still reads the kernel's generator. */
	int started = sodium_init();

	(void)started;
	randombytes_buf(hash_key, sizeof(hash_key));
}

uint64_t st_strmap_hash(const void *key, size_t len)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t h;

	pthread_once(&hash_key_once, make_hash_key);
	crypto_shorthash(out, key, len, hash_key);
	memcpy(&h, out, sizeof(h));
	return h;
}

static size_t home(uint64_t h, size_t nslots)
{
	return (size_t)h & (nslots - 1);
}

static struct st_strent *find(const struct st_strmap *m, const char *key, size_t len,
			      uint64_t h)
{
	if (!m->nslots)
		return NULL;
	for (size_t at = home(h, m->nslots); m->slot[at]; at = (at + 1) & (m->nslots - 1)) {
		struct st_strent *e = &m->e[m->slot[at] - 1];

		if (e->hash == h && e->len == len && !memcmp(e->key, key, len))
			return e;
	}
	return NULL;
}

struct st_strent *st_strmap_get(const struct st_strmap *m, const char *key, size_t len)
{
	return m->nslots ? find(m, key, len, st_strmap_hash(key, len)) : NULL;
}

struct st_strent *st_strmap_gets(const struct st_strmap *m, const char *key)
{
	return m->nslots ? st_strmap_get(m, key, strlen(key)) : NULL;
}

/* Room for the n entries' slots in a table of at least twice that, rehashed. Returns 0, or
 * -1 when out of memory (m unchanged). */
static int grow_slots(struct st_strmap *m, size_t n)
{
	size_t ns = m->nslots ? m->nslots : 16;
	uint32_t *slot;

	while (ns < n * 2)
		ns *= 2;
	if (ns == m->nslots)
		return 0;
	if (!(slot = st_calloc(ns, sizeof(*slot))))
		return -1;
	for (size_t i = 0; i < m->n; i++) {
		size_t at = home(m->e[i].hash, ns);

		while (slot[at])
			at = (at + 1) & (ns - 1);
		slot[at] = (uint32_t)i + 1;
	}
	st_free(m->slot);
	m->slot = slot;
	m->nslots = ns;
	return 0;
}

/* A copy of key (len bytes) and a NUL in m's blocks, or NULL when out of memory. */
static char *copy_key(struct st_strmap *m, const char *key, size_t len)
{
	struct st_strmap_block *b = m->blocks;
	char *p;

	if (!b || b->cap - b->used < len + 1) {
		size_t cap = len + 1 > BLOCK_BYTES ? len + 1 : BLOCK_BYTES;

		if (len >= SIZE_MAX - sizeof(*b) - 1 || !(b = st_malloc(sizeof(*b) + cap)))
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = m->blocks;
		m->blocks = b;
	}
	p = b->bytes + b->used;
	if (len)
		memcpy(p, key, len);
	p[len] = '\0';
	b->used += len + 1;
	return p;
}

int st_strmap_put(struct st_strmap *m, const char *key, size_t len, struct st_strent **ent)
{
	uint64_t h = st_strmap_hash(key, len);
	struct st_strent *e = find(m, key, len, h);
	const char *k;
	size_t at;

	if (e) {
		if (ent)
			*ent = e;
		return 0;
	}
	if (m->n >= UINT32_MAX - 1 || grow_slots(m, m->n + 1) ||
	    st_grow(&m->e, &m->cap, m->n + 1, sizeof(*m->e)))
		return -1;
	if (!(k = m->borrow ? key : copy_key(m, key, len)))
		return -1;
	e = &m->e[m->n];
	e->key = k;
	e->len = len;
	e->hash = h;
	e->val = 0;
	for (at = home(h, m->nslots); m->slot[at]; at = (at + 1) & (m->nslots - 1))
		;
	m->slot[at] = (uint32_t)++m->n;
	if (ent)
		*ent = e;
	return 1;
}

int st_strmap_set(struct st_strmap *m, const char *key, int64_t val)
{
	struct st_strent *e;

	if (st_strmap_put(m, key, strlen(key), &e) < 0)
		return -1;
	e->val = val;
	return 0;
}

size_t st_strmap_displacement(const struct st_strmap *m)
{
	size_t sum = 0;

	for (size_t i = 0; i < m->nslots; i++)
		if (m->slot[i])
			sum += (i - home(m->e[m->slot[i] - 1].hash, m->nslots)) & (m->nslots - 1);
	return sum;
}

void st_strmap_release(struct st_strmap *m)
{
	int borrow = m->borrow;

	while (m->blocks) {
		struct st_strmap_block *b = m->blocks;

		m->blocks = b->next;
		st_free(b);
	}
	st_free(m->e);
	st_free(m->slot);
	st_strmap_init(m, borrow ? ST_STRMAP_BORROW : 0);
}
