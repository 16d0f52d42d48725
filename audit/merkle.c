/* The RFC 6962 Merkle tree over the audit log: leaf i is record seq i + 1, its leaf data the
 * record's hash. Internal nodes are stored as they complete (table `merkle`), so a proof
 * reads O(log n) of them; proofs are checked with RFC 9162's algorithms. */
/* SHA256_Init and co. are deprecated in OpenSSL 3 in favour of EVP, whose per-call cost is
 * more than a whole 2-block hash; they still run the CPU's SHA instructions directly. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "merkle.h"
#include "alloc.h"
#include "sql.h"

#include <openssl/sha.h>
#include <sqlite3.h>
#include <string.h>

#define ONE ((int64_t)1)

/* SHA-256 of the tree's short inputs (33 and 65 bytes): several times faster than
 * libsodium's portable code where the CPU has SHA instructions. The unit tests compare it
 * with libsodium and Python's hashlib. */
static void sha256(const unsigned char *b, size_t n, unsigned char *out)
{
	SHA256_CTX c;

	SHA256_Init(&c);
	SHA256_Update(&c, b, n);
	SHA256_Final(out, &c);
}

void merkle_leaf(const unsigned char *data, unsigned char *out)
{
	unsigned char b[1 + MERKLE_HASH];

	b[0] = 0x00;
	memcpy(b + 1, data, MERKLE_HASH);
	sha256(b, sizeof(b), out);
}

void merkle_node(const unsigned char *left, const unsigned char *right, unsigned char *out)
{
	unsigned char b[1 + 2 * MERKLE_HASH];

	b[0] = 0x01;
	memcpy(b + 1, left, MERKLE_HASH);
	memcpy(b + 1 + MERKLE_HASH, right, MERKLE_HASH);
	sha256(b, sizeof(b), out);
}

static int popcount64(uint64_t v)
{
	return __builtin_popcountll(v);
}

static int ctz64(uint64_t v)
{
	return v ? __builtin_ctzll(v) : 64;
}

/* Appending leaf m - 1 completes the nodes at levels 1..ctz(m), in that order; after it the
 * table holds m - popcount(m) nodes. */
int64_t merkle_pos(int level, int64_t index)
{
	uint64_t m = (uint64_t)(index + 1) << level;

	return (int64_t)(m - (uint64_t)popcount64(m)) - 1 - (ctz64(m) - level);
}

/* The largest power of two below n (n >= 2): RFC 6962's split point. */
static int64_t split(int64_t n)
{
	int64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

/* ---- One pass over all leaves ---------------------------------------------------------- */

void merkle_stream_init(struct merkle_stream *s)
{
	memset(s, 0, sizeof(*s));
}

int merkle_stream_push(struct merkle_stream *s, const unsigned char *data,
		       unsigned char (*nodes)[MERKLE_HASH])
{
	unsigned char h[MERKLE_HASH];

	merkle_leaf(data, h);
	return merkle_stream_add(s, h, nodes);
}

int merkle_stream_add(struct merkle_stream *s, const unsigned char *leaf_hash,
		      unsigned char (*nodes)[MERKLE_HASH])
{
	unsigned char h[MERKLE_HASH];
	int level = 0;

	memcpy(h, leaf_hash, MERKLE_HASH);
	while (level < 63 && ((uint64_t)s->size >> level) & 1) {
		merkle_node(s->stack[level], h, h);
		memcpy(nodes[level], h, MERKLE_HASH);
		level++;
	}
	memcpy(s->stack[level], h, MERKLE_HASH);
	s->size++;
	return level;
}

void merkle_stream_root(const struct merkle_stream *s, unsigned char *root)
{
	unsigned char acc[MERKLE_HASH];
	int have = 0;

	if (!s->size) {
		sha256(NULL, 0, root);
		return;
	}
	for (int level = 0; level < 64; level++) {
		if (!(((uint64_t)s->size >> level) & 1))
			continue;
		if (have)
			merkle_node(s->stack[level], acc, acc);
		else
			memcpy(acc, s->stack[level], MERKLE_HASH);
		have = 1;
	}
	memcpy(root, acc, MERKLE_HASH);
}

/* ---- Reading stored subtrees ------------------------------------------------------------ */

struct reader {
	sqlite3 *db;
	sqlite3_stmt *leaf, *node;
};

/* Statements are prepared when first needed: appending a record mostly needs none. */
static int reader_open(struct reader *r, sqlite3 *db, struct st_error *err)
{
	(void)err;
	r->db = db;
	r->leaf = r->node = NULL;
	return 0;
}

static void reader_close(struct reader *r)
{
	sqlite3_finalize(r->leaf);
	sqlite3_finalize(r->node);
	r->leaf = r->node = NULL;
}

/* Reads the 32-byte blob of the row keyed key. */
static int read_hash(struct reader *r, sqlite3_stmt *st, int64_t key, unsigned char *out,
		     struct st_error *err)
{
	int rc, ret = -1;

	sqlite3_bind_int64(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == MERKLE_HASH) {
		memcpy(out, sqlite3_column_blob(st, 0), MERKLE_HASH);
		ret = 0;
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		if (st == r->leaf)
			st_error_set(err, ST_E_SYSTEM,
				     "record %lld is missing or damaged; run 'steward audit verify'",
				     (long long)key);
		else
			st_error_set(err, ST_E_SYSTEM,
				     "the audit log's Merkle tree is missing node %lld; run 'steward "
				     "audit verify'",
				     (long long)key);
	} else {
		st_sql_error(err, r->db, "cannot read the audit log");
	}
	sqlite3_reset(st);
	return ret;
}

/* The hash of the complete subtree at level and index: a leaf hashed from its record, or a
 * stored node. */
static int subtree(struct reader *r, int level, int64_t index, unsigned char *out,
		   struct st_error *err)
{
	unsigned char data[MERKLE_HASH];

	if (level > 0) {
		if (!r->node &&
		    st_sql_prepare(r->db, &r->node, "SELECT hash FROM merkle WHERE pos = ?", err))
			return -1;
		return read_hash(r, r->node, merkle_pos(level, index), out, err);
	}
	if (!r->leaf && st_sql_prepare(r->db, &r->leaf, "SELECT hash FROM records WHERE seq = ?", err))
		return -1;
	if (read_hash(r, r->leaf, index + 1, data, err))
		return -1;
	merkle_leaf(data, out);
	return 0;
}

/* RFC 6962's MTH(D[a:b]) for a range the recursion produces: its complete subtrees, by the
 * bits of b - a from the largest, folded from the right. */
static int range_hash(struct reader *r, int64_t a, int64_t b, unsigned char *out,
		      struct st_error *err)
{
	unsigned char h[64][MERKLE_HASH];
	int64_t at = a, size = b - a;
	int cnt = 0;

	if (size < 1)
		return st_error_set(err, ST_E_SYSTEM, "an empty Merkle subtree was asked for");
	for (int level = 62; level >= 0; level--) {
		if (!((size >> level) & 1))
			continue;
		if (at & ((ONE << level) - 1))
			return st_error_set(err, ST_E_SYSTEM, "a Merkle subtree is not aligned");
		if (subtree(r, level, at >> level, h[cnt++], err))
			return -1;
		at += ONE << level;
	}
	memcpy(out, h[cnt - 1], MERKLE_HASH);
	for (int i = cnt - 2; i >= 0; i--)
		merkle_node(h[i], out, out);
	return 0;
}

/* ---- Writing ------------------------------------------------------------------------------ */

int merkle_append(sqlite3 *db, int64_t seq, const unsigned char *prev, const unsigned char *hash,
		  struct st_error *err)
{
	unsigned char cur[MERKLE_HASH], left[MERKLE_HASH];
	struct reader r = {0};
	sqlite3_stmt *ins = NULL;
	int top = ctz64((uint64_t)seq), ret = -1;

	if (seq < 1)
		return st_error_set(err, ST_E_SYSTEM, "record %lld cannot be a Merkle leaf",
				    (long long)seq);
	if (!top)
		return 0; /* an odd leaf completes no node */
	/* A node left by records cut from the end is replaced: the tree follows the records.
	 * A node of level 1 needs only this record's and the previous one's hash; only higher
	 * ones read stored nodes. */
	if (reader_open(&r, db, err) ||
	    st_sql_cached(db, &ins, "INSERT OR REPLACE INTO merkle (pos, hash) VALUES (?, ?)", err))
		goto out;
	merkle_leaf(hash, cur);
	for (int level = 1; level <= top; level++) {
		if (level == 1)
			merkle_leaf(prev, left);
		else if (subtree(&r, level - 1, (seq >> (level - 1)) - 2, left, err))
			goto out;
		merkle_node(left, cur, cur);
		sqlite3_bind_int64(ins, 1, merkle_pos(level, (seq >> level) - 1));
		sqlite3_bind_blob(ins, 2, cur, MERKLE_HASH, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			st_sql_error(err, db, "cannot write the audit log");
			goto out;
		}
		sqlite3_reset(ins);
	}
	ret = 0;
out:
	st_sql_done(ins);
	reader_close(&r);
	return ret;
}

int merkle_build(sqlite3 *db, struct st_error *err)
{
	unsigned char nodes[64][MERKLE_HASH], data[MERKLE_HASH];
	struct merkle_stream *s = st_malloc(sizeof(*s));
	sqlite3_stmt *st = NULL, *ins = NULL;
	int64_t pos = 0;
	int ret = -1, rc;

	if (!s)
		return st_error_oom(err);
	merkle_stream_init(s);
	if (st_sql_exec(db, "DELETE FROM merkle", err) ||
	    st_sql_prepare(db, &st, "SELECT hash FROM records ORDER BY seq", err) ||
	    st_sql_prepare(db, &ins, "INSERT INTO merkle (pos, hash) VALUES (?, ?)", err))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int k;

		/* A damaged hash still takes its place; verify names the record. */
		memset(data, 0, sizeof(data));
		if (sqlite3_column_bytes(st, 0) == MERKLE_HASH)
			memcpy(data, sqlite3_column_blob(st, 0), MERKLE_HASH);
		k = merkle_stream_push(s, data, nodes);
		for (int i = 0; i < k; i++) {
			sqlite3_bind_int64(ins, 1, pos++);
			sqlite3_bind_blob(ins, 2, nodes[i], MERKLE_HASH, SQLITE_STATIC);
			if (sqlite3_step(ins) != SQLITE_DONE) {
				st_sql_error(err, db, "cannot write the audit log");
				goto out;
			}
			sqlite3_reset(ins);
		}
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(ins);
	st_free(s);
	return ret;
}

int merkle_root_after(sqlite3 *db, int64_t c, const unsigned char *want, int64_t n,
		      unsigned char *root, struct st_error *err)
{
	unsigned char nodes[64][MERKLE_HASH], got[MERKLE_HASH];
	struct merkle_stream *s = st_malloc(sizeof(*s));
	struct reader r = {0};
	sqlite3_stmt *st = NULL, *ins = NULL;
	int64_t at = 0, pos;
	int ret = -1, rc;

	if (!s)
		return st_error_oom(err);
	merkle_stream_init(s);
	if (c < 1 || c > n) {
		st_error_set(err, ST_E_SYSTEM, "no Merkle tree of %lld records extends to %lld",
			     (long long)c, (long long)n);
		goto out;
	}
	reader_open(&r, db, err);
	/* The frontier of c leaves: one complete subtree per bit of c, largest first. */
	for (int level = 62; level >= 0; level--) {
		if (!((c >> level) & 1))
			continue;
		if (subtree(&r, level, at >> level, s->stack[level], err))
			goto out;
		at += ONE << level;
	}
	s->size = c;
	merkle_stream_root(s, got);
	if (memcmp(got, want, MERKLE_HASH)) {
		ret = 0; /* the stored nodes are not the signed tree */
		goto out;
	}
	if (st_sql_prepare(db, &st,
			    "SELECT seq, hash FROM records WHERE seq > ? AND seq <= ? ORDER BY seq",
			    err) ||
	    st_sql_prepare(db, &ins, "INSERT OR REPLACE INTO merkle (pos, hash) VALUES (?, ?)", err))
		goto out;
	sqlite3_bind_int64(st, 1, c);
	sqlite3_bind_int64(st, 2, n);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int k;

		if (sqlite3_column_int64(st, 0) != s->size + 1 ||
		    sqlite3_column_bytes(st, 1) != MERKLE_HASH) {
			st_error_set(err, ST_E_SYSTEM,
				     "record %lld is missing or damaged; run 'steward audit verify'",
				     (long long)(s->size + 1));
			goto out;
		}
		pos = s->size - popcount64((uint64_t)s->size);
		k = merkle_stream_push(s, sqlite3_column_blob(st, 1), nodes);
		/* The nodes are stored again: a changed one is repaired. */
		for (int i = 0; i < k; i++) {
			sqlite3_bind_int64(ins, 1, pos + i);
			sqlite3_bind_blob(ins, 2, nodes[i], MERKLE_HASH, SQLITE_STATIC);
			if (sqlite3_step(ins) != SQLITE_DONE) {
				st_sql_error(err, db, "cannot write the audit log");
				goto out;
			}
			sqlite3_reset(ins);
		}
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	if (s->size != n) {
		st_error_set(err, ST_E_SYSTEM,
			     "record %lld is missing or damaged; run 'steward audit verify'",
			     (long long)(s->size + 1));
		goto out;
	}
	merkle_stream_root(s, root);
	ret = 1;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(ins);
	reader_close(&r);
	st_free(s);
	return ret;
}

int merkle_root(sqlite3 *db, int64_t size, unsigned char *root, struct st_error *err)
{
	struct reader r = {0};
	int ret = -1;

	if (!reader_open(&r, db, err) && !range_hash(&r, 0, size, root, err))
		ret = 0;
	reader_close(&r);
	return ret;
}

/* ---- Proofs ------------------------------------------------------------------------------- */

/* Reverses the first n hashes of path: proofs are found top-down and listed deepest first. */
static void reverse(unsigned char (*path)[MERKLE_HASH], size_t n)
{
	unsigned char t[MERKLE_HASH];

	for (size_t i = 0; i < n / 2; i++) {
		memcpy(t, path[i], MERKLE_HASH);
		memcpy(path[i], path[n - 1 - i], MERKLE_HASH);
		memcpy(path[n - 1 - i], t, MERKLE_HASH);
	}
}

/* RFC 6962 PATH(m, D[n]) top-down: each step keeps the half holding the leaf and records
 * the other half. With r NULL, only counts. */
static int inclusion(struct reader *r, int64_t index, int64_t size,
		     unsigned char (*path)[MERKLE_HASH], size_t *n, struct st_error *err)
{
	int64_t a = 0, b = size;

	*n = 0;
	while (b - a > 1) {
		int64_t k = split(b - a);
		int64_t sa = index - a < k ? a + k : a, sb = index - a < k ? b : a + k;

		if (r && range_hash(r, sa, sb, path[*n], err))
			return -1;
		(*n)++;
		if (index - a < k)
			b = a + k;
		else
			a += k;
	}
	if (r)
		reverse(path, *n);
	return 0;
}

/* RFC 6962 SUBPROOF(m, D[n], true) top-down. With r NULL, only counts. */
static int consistency(struct reader *r, int64_t m, int64_t n,
		       unsigned char (*path)[MERKLE_HASH], size_t *np, struct st_error *err)
{
	int64_t a = 0, b = n;
	int whole = 1; /* b: the old tree is a complete subtree of what is left */

	*np = 0;
	if (m >= n)
		return 0;
	for (;;) {
		int64_t k;

		if (m == b - a) {
			if (!whole) {
				if (r && range_hash(r, a, b, path[*np], err))
					return -1;
				(*np)++;
			}
			break;
		}
		k = split(b - a);
		if (m <= k) {
			if (r && range_hash(r, a + k, b, path[*np], err))
				return -1;
			b = a + k;
		} else {
			if (r && range_hash(r, a, a + k, path[*np], err))
				return -1;
			m -= k;
			a += k;
			whole = 0;
		}
		(*np)++;
	}
	if (r)
		reverse(path, *np);
	return 0;
}

size_t merkle_inclusion_len(int64_t index, int64_t size)
{
	size_t n = 0;

	if (index >= 0 && index < size)
		inclusion(NULL, index, size, NULL, &n, NULL);
	return n;
}

size_t merkle_consistency_len(int64_t m, int64_t n)
{
	size_t np = 0;

	if (m > 0 && m <= n)
		consistency(NULL, m, n, NULL, &np, NULL);
	return np;
}

int merkle_inclusion(sqlite3 *db, int64_t index, int64_t size, unsigned char (*path)[MERKLE_HASH],
		     size_t *n, struct st_error *err)
{
	struct reader r = {0};
	int ret = -1;

	*n = 0;
	if (index < 0 || index >= size)
		return st_error_set(err, ST_E_INVALID, "leaf %lld is not in a tree of %lld",
				    (long long)index, (long long)size);
	if (!reader_open(&r, db, err) && !inclusion(&r, index, size, path, n, err))
		ret = 0;
	reader_close(&r);
	return ret;
}

int merkle_consistency(sqlite3 *db, int64_t m, int64_t n, unsigned char (*path)[MERKLE_HASH],
		       size_t *np, struct st_error *err)
{
	struct reader r = {0};
	int ret = -1;

	*np = 0;
	if (m < 1 || m > n)
		return st_error_set(err, ST_E_INVALID, "a tree of %lld is not a prefix of one of %lld",
				    (long long)m, (long long)n);
	if (!reader_open(&r, db, err) && !consistency(&r, m, n, path, np, err))
		ret = 0;
	reader_close(&r);
	return ret;
}

/* ---- Verifying ------------------------------------------------------------------------------ */

int merkle_verify_inclusion(const unsigned char *leaf_hash, int64_t index, int64_t size,
			    const unsigned char (*path)[MERKLE_HASH], size_t n,
			    const unsigned char *root)
{
	unsigned char r[MERKLE_HASH];
	uint64_t fn, sn;

	if (index < 0 || index >= size)
		return 0;
	fn = (uint64_t)index;
	sn = (uint64_t)size - 1;
	memcpy(r, leaf_hash, MERKLE_HASH);
	for (size_t i = 0; i < n; i++) {
		if (!sn)
			return 0;
		if ((fn & 1) || fn == sn) {
			merkle_node(path[i], r, r);
			while (!(fn & 1) && fn) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node(r, path[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return !sn && !memcmp(r, root, MERKLE_HASH);
}

int merkle_verify_consistency(int64_t m, int64_t n, const unsigned char *root1,
			      const unsigned char *root2, const unsigned char (*path)[MERKLE_HASH],
			      size_t np)
{
	unsigned char fr[MERKLE_HASH], sr[MERKLE_HASH];
	uint64_t fn, sn;
	size_t i = 0;

	if (m < 1 || m > n)
		return 0;
	if (m == n)
		return !np && !memcmp(root1, root2, MERKLE_HASH);
	if (!np)
		return 0;
	/* When the old tree is a complete subtree, its root is the proof's implicit first hash. */
	if (!(m & (m - 1))) {
		memcpy(fr, root1, MERKLE_HASH);
	} else {
		memcpy(fr, path[0], MERKLE_HASH);
		i = 1;
	}
	memcpy(sr, fr, MERKLE_HASH);
	fn = (uint64_t)m - 1;
	sn = (uint64_t)n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < np; i++) {
		if (!sn)
			return 0;
		if ((fn & 1) || fn == sn) {
			merkle_node(path[i], fr, fr);
			merkle_node(path[i], sr, sr);
			while (!(fn & 1) && fn) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node(sr, path[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return !sn && !memcmp(fr, root1, MERKLE_HASH) && !memcmp(sr, root2, MERKLE_HASH);
}
