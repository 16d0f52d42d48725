/* A map from strings to numbers that keeps the order in which keys were first put, by open
 * addressing (as git's hashmap), and the two hashes of steward's in-memory tables: the keyed
 * one for keys that come from the input, and a fast one for the rest. */
#ifndef ST_STRMAP_H
#define ST_STRMAP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "error.h"

struct st_strent {
	const char *key; /* len bytes: the map's copy (with a NUL after), or the caller's */
	size_t len;
	uint64_t hash;
	int64_t val;
};

struct st_strmap_block;

/* A map set to zero is an empty one that copies its keys. */
struct st_strmap {
	struct st_strent *e; /* n entries, in the order their keys were first put */
	size_t n, cap;
	uint32_t *slot; /* entry + 1 by hash (0: free); nslots a power of two, at most half full */
	size_t nslots;
	struct st_strmap_block *blocks; /* the copies of the keys, which never move */
	int borrow;
};

/* Keys are used in place (len bytes of the caller's, which must outlive the map). */
#define ST_STRMAP_BORROW 1

/* Sets up an empty map; flags is 0 or ST_STRMAP_BORROW. */
void st_strmap_init(struct st_strmap *m, int flags);

/* The entry of key (len bytes), or NULL. Entries move when a key is added. */
struct st_strent *st_strmap_get(const struct st_strmap *m, const char *key, size_t len);

/* st_strmap_get() of the NUL-terminated key. */
struct st_strent *st_strmap_gets(const struct st_strmap *m, const char *key);

/* Puts key (len bytes): *ent (when ent is not NULL) is its entry, the one there or a new
 * last one with val 0. Returns 1 when added, 0 when it was there, -1 when out of memory (m
 * unchanged). */
int st_strmap_put(struct st_strmap *m, const char *key, size_t len, struct st_strent **ent) ST_WUR;

/* Sets the NUL-terminated key to val (a key put before keeps its place). Returns 0, or -1
 * when out of memory. */
int st_strmap_set(struct st_strmap *m, const char *key, int64_t val) ST_WUR;

/* The map's hash of the len bytes at key: SipHash-2-4 under a key drawn once per process,
 * so that no one can choose names that share a slot. For the tables that keep a layout of
 * their own. */
uint64_t st_strmap_hash(const void *key, size_t len);

/* A hash of len bytes that anyone can compute, eight bytes at a time and mixed so that its
 * low bits depend on every byte: only for tables whose keys are not the input's (a schema's
 * property names, looked up by the input's keys) or that hold a few dozen keys at most. */
static inline uint64_t st_hash_fast(const void *key, size_t len)
{
	const unsigned char *s = key;
	const uint64_t k = 0xff51afd7ed558ccdull;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * k;
		h ^= h >> 32;
	}
	if (len) {
		w = 0;
		memcpy(&w, s, len);
		h = (h ^ w) * k;
	}
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ h >> 33;
}

/* How far the keys sit from the slots their hashes name, summed over the keys: the probes
 * that finding every key once takes beyond the first. A few per key at most, whatever keys
 * were put (a test of the hash). */
size_t st_strmap_displacement(const struct st_strmap *m);

/* Frees the entries and the copies of the keys, leaving an empty map of the same kind. */
void st_strmap_release(struct st_strmap *m);

#endif
