/* The string map of strmap.h: FNV-1a over the key, finished so that its low bits index the
 * slots, and linear probing in a table kept at most half full. */
#include "strmap.h"
#include "alloc.h"
#include "hash.h"

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

static uint64_t key_hash(const char *key, size_t len)
{
	return st_fnv1a(key, len);
}

/* The slot index of hash h: FNV-1a's low bits follow the last bytes of the key poorly
 * (names that differ only in their middle), so h is finished as MurmurHash3 does. */
static size_t home(uint64_t h, size_t nslots)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
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
	return m->nslots ? find(m, key, len, key_hash(key, len)) : NULL;
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
	uint64_t h = key_hash(key, len);
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
