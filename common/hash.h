/* FNV-1a (64-bit), the hash of steward's in-memory tables of names, paths and keys: short
 * keys, one multiply per byte. Not for anything an attacker chooses to collide on a
 * security boundary; file contents are told apart by digest.h. */
#ifndef ST_HASH_H
#define ST_HASH_H

#include <stddef.h>
#include <stdint.h>

#define ST_FNV_OFFSET 1469598103934665603ull
#define ST_FNV_PRIME 1099511628211ull

/* h (ST_FNV_OFFSET to start) carried over n bytes at p. */
static inline uint64_t st_fnv1a_add(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * ST_FNV_PRIME;
	return h;
}

/* The hash of n bytes at p. */
static inline uint64_t st_fnv1a(const void *p, size_t n)
{
	return st_fnv1a_add(ST_FNV_OFFSET, p, n);
}

/* The hash of string s, without its NUL (st_fnv1a(s, strlen(s)) in one pass). */
static inline uint64_t st_fnv1a_str(const char *s)
{
	uint64_t h = ST_FNV_OFFSET;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * ST_FNV_PRIME;
	return h;
}

#endif
