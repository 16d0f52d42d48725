/* The RFC 6962 Merkle tree over the audit records (merkle.c): hashing, the stored nodes in
 * audit.db's `merkle` table, proofs and their verification. Internal to the audit library. */
#ifndef AUDIT_MERKLE_H
#define AUDIT_MERKLE_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>

struct sqlite3;

#define MERKLE_HASH 32
/* The longest proof of a tree of at most 2^63 leaves (inclusion: 63 hashes; consistency:
 * 64), with room to spare for a malformed proof to be counted rather than cut. */
#define MERKLE_PATH_MAX 72

/* Writes SHA-256(0x00 || data) (the RFC 6962 leaf hash of 32 bytes of leaf data) to out. */
void merkle_leaf(const unsigned char *data, unsigned char *out);
/* Writes SHA-256(0x01 || left || right) to out. */
void merkle_node(const unsigned char *left, const unsigned char *right, unsigned char *out);
/* The `merkle` table's position of the complete subtree at level (>= 1) and index: nodes
 * are numbered in the order they complete as leaves are appended (post-order), leaves
 * excluded. */
int64_t merkle_pos(int level, int64_t index);

/* Appending leaves one by one, keeping only the roots of the complete subtrees (the
 * frontier): for computing the tree of a whole log in one pass. */
struct merkle_stream {
	unsigned char stack[64][MERKLE_HASH];
	int64_t size;
};

void merkle_stream_init(struct merkle_stream *s);
/* Appends a leaf by its leaf hash. The internal nodes it completes are written to nodes
 * (room for 64), lowest level first, which is their order in the table; returns their
 * count. */
int merkle_stream_add(struct merkle_stream *s, const unsigned char *leaf_hash,
		      unsigned char (*nodes)[MERKLE_HASH]);
/* The same for leaf data of 32 bytes (a record's hash), hashed with merkle_leaf(). */
int merkle_stream_push(struct merkle_stream *s, const unsigned char *data,
		       unsigned char (*nodes)[MERKLE_HASH]);
/* Writes the root of the leaves pushed so far (SHA-256 of nothing when none). */
void merkle_stream_root(const struct merkle_stream *s, unsigned char *root);

/* Stores the internal nodes completed by record seq (whose leaf data is hash; prev is the
 * leaf data of record seq - 1), inside the caller's write transaction. Returns 0, or -1
 * with err. */
int merkle_append(struct sqlite3 *db, int64_t seq, const unsigned char *prev,
		  const unsigned char *hash, struct st_error *err);
/* Rebuilds the whole `merkle` table from the records' hashes, inside the caller's write
 * transaction (the migration from schema 1). Returns 0, or -1 with err. */
int merkle_build(struct sqlite3 *db, struct st_error *err);
/* The root of the first n records for a new checkpoint, trusting stored nodes only as far
 * as a signed root vouches for them: the complete subtrees of the first c records must fold
 * to want (the root a valid checkpoint of c <= n records signed); the records c+1..n are
 * hashed anew and their nodes stored again. Returns 1 with root, 0 when the stored subtrees
 * are not the signed tree (nothing written), or -1 with err. */
int merkle_root_after(struct sqlite3 *db, int64_t c, const unsigned char *want, int64_t n,
		      unsigned char *root, struct st_error *err);
/* Writes the root of the tree of the first size (>= 1) records to root, from the stored
 * nodes. Returns 0, or -1 with err (ST_E_SYSTEM when a node is missing). */
int merkle_root(struct sqlite3 *db, int64_t size, unsigned char *root, struct st_error *err);
/* The RFC 6962 audit path of leaf index in the tree of size leaves (index < size), deepest
 * first, into path; *n is its length. Returns 0, or -1 with err. */
int merkle_inclusion(struct sqlite3 *db, int64_t index, int64_t size,
		     unsigned char (*path)[MERKLE_HASH], size_t *n, struct st_error *err);
/* The RFC 6962 consistency proof from the tree of size m to the tree of size n
 * (0 < m <= n; empty when m == n). Returns 0, or -1 with err. */
int merkle_consistency(struct sqlite3 *db, int64_t m, int64_t n,
		       unsigned char (*path)[MERKLE_HASH], size_t *np, struct st_error *err);

/* The lengths a correct proof has. */
size_t merkle_inclusion_len(int64_t index, int64_t size);
size_t merkle_consistency_len(int64_t m, int64_t n);
/* RFC 9162 section 2.1.3.2: whether path proves that leaf_hash (already hashed with
 * merkle_leaf) is leaf index of the tree of size leaves with this root. 1 yes, 0 no. */
int merkle_verify_inclusion(const unsigned char *leaf_hash, int64_t index, int64_t size,
			    const unsigned char (*path)[MERKLE_HASH], size_t n,
			    const unsigned char *root);
/* RFC 9162 section 2.1.4.2: whether path proves that the tree of size m with root1 is a
 * prefix of the tree of size n with root2. 1 yes, 0 no. */
int merkle_verify_consistency(int64_t m, int64_t n, const unsigned char *root1,
			      const unsigned char *root2, const unsigned char (*path)[MERKLE_HASH],
			      size_t np);

#endif
