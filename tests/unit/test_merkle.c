/* Unit tests for audit/merkle.c and audit/proof.c: the RFC 6962 tree against the Certificate
 * Transparency test vectors (roots of sizes 0 to 8, audit paths, consistency proofs), the
 * stored tree, its proofs and their verification against a naive recursive implementation
 * of RFC 6962 section 2.1 written here, for every (index, size) and (m, n) up to 70 leaves;
 * altered proofs (a flipped hash, another index, size or root, a cut or longer path) are
 * rejected; then proofs of a real log, checked on their own. */
#include "audit.h"
#include "merkle.h"
#include "harness.h"

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H MERKLE_HASH
#define MAXN 70

static struct st_error err;

static void unhex(const char *s, unsigned char *out)
{
	size_t got = 0;

	if (sodium_hex2bin(out, H, s, strlen(s), NULL, &got, NULL) || got != H) {
		printf("# bad fixture hex '%s'\n", s);
		exit(2);
	}
}

static void sha(unsigned char *out, unsigned char prefix, const unsigned char *a, size_t an,
		const unsigned char *b, size_t bn)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &prefix, 1);
	crypto_hash_sha256_update(&st, a, an);
	crypto_hash_sha256_update(&st, b, bn);
	crypto_hash_sha256_final(&st, out);
}

/* ---- the naive RFC 6962 definitions, over leaf hashes lh[a..b) ---------------------------- */

static unsigned char lh[MAXN][H];
static unsigned char roots[MAXN + 2][H]; /* roots[n]: of the first n leaves, from mth() */

static int64_t k_of(int64_t n)
{
	int64_t k = 1;

	while (k * 2 < n)
		k *= 2;
	return k;
}

static void mth(int64_t a, int64_t b, unsigned char *out)
{
	unsigned char l[H], r[H];
	int64_t k;

	if (b - a == 1) {
		memcpy(out, lh[a], H);
		return;
	}
	k = k_of(b - a);
	mth(a, a + k, l);
	mth(a + k, b, r);
	sha(out, 1, l, H, r, H);
}

static void path_of(int64_t m, int64_t a, int64_t b, unsigned char (*out)[H], size_t *n)
{
	int64_t k;

	if (b - a <= 1)
		return;
	k = k_of(b - a);
	if (m < k) {
		path_of(m, a, a + k, out, n);
		mth(a + k, b, out[(*n)++]);
	} else {
		path_of(m - k, a + k, b, out, n);
		mth(a, a + k, out[(*n)++]);
	}
}

static void subproof(int64_t m, int64_t a, int64_t b, int whole, unsigned char (*out)[H],
		     size_t *n)
{
	int64_t k;

	if (m == b - a) {
		if (!whole)
			mth(a, b, out[(*n)++]);
		return;
	}
	k = k_of(b - a);
	if (m <= k) {
		subproof(m, a, a + k, whole, out, n);
		mth(a + k, b, out[(*n)++]);
	} else {
		subproof(m - k, a + k, b, 0, out, n);
		mth(a, a + k, out[(*n)++]);
	}
}

/* ---- Certificate Transparency's vectors ----------------------------------------------------- */

static void test_vectors(void)
{
	static const char *const leaves[8] = {
		"", "\x00", "\x10", "\x20\x21", "\x30\x31", "\x40\x41\x42\x43",
		"\x50\x51\x52\x53\x54\x55\x56\x57",
		"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
	static const size_t lens[8] = {0, 1, 1, 2, 2, 4, 8, 16};
	static const char *const vector_roots[9] = {
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
	static const struct {
		int64_t index, size;
		const char *path[3];
	} incl[] = {
		{0, 8,
		 {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		  "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
		{5, 8,
		 {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		  "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
		{2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
	};
	static const struct {
		int64_t m, n;
		size_t len;
		const char *path[3];
	} cons[] = {
		{1, 8, 3,
		 {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		  "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
		{6, 8, 3,
		 {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		  "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
		{2, 5, 2,
		 {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		  "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
	};
	unsigned char nodes[64][H], root[H], want[H], path[3][H], vroots[9][H];
	struct merkle_stream s;

	merkle_stream_init(&s);
	for (int i = 0; i <= 8; i++) {
		merkle_stream_root(&s, root);
		unhex(vector_roots[i], vroots[i]);
		if (!CHECK(!memcmp(root, vroots[i], H)))
			printf("#   root of the first %d vector leaves\n", i);
		if (i < 8) {
			sha(lh[i], 0, (const unsigned char *)leaves[i], lens[i], NULL, 0);
			merkle_stream_add(&s, lh[i], nodes);
		}
	}
	for (size_t t = 0; t < sizeof(incl) / sizeof(*incl); t++) {
		size_t n = merkle_inclusion_len(incl[t].index, incl[t].size);

		CHECK(n == (incl[t].size == 3 ? 1 : 3));
		for (size_t i = 0; i < n; i++)
			unhex(incl[t].path[i], path[i]);
		CHECK(merkle_verify_inclusion(lh[incl[t].index], incl[t].index, incl[t].size,
					      (const unsigned char(*)[H])path, n,
					      vroots[incl[t].size]));
		CHECK(!merkle_verify_inclusion(lh[incl[t].index], incl[t].index, incl[t].size,
					       (const unsigned char(*)[H])path, n - 1,
					       vroots[incl[t].size]));
	}
	for (size_t t = 0; t < sizeof(cons) / sizeof(*cons); t++) {
		CHECK(merkle_consistency_len(cons[t].m, cons[t].n) == cons[t].len);
		for (size_t i = 0; i < cons[t].len; i++)
			unhex(cons[t].path[i], path[i]);
		CHECK(merkle_verify_consistency(cons[t].m, cons[t].n, vroots[cons[t].m],
						vroots[cons[t].n], (const unsigned char(*)[H])path,
						cons[t].len));
		CHECK(!merkle_verify_consistency(cons[t].m, cons[t].n, vroots[cons[t].m - 1],
						 vroots[cons[t].n], (const unsigned char(*)[H])path,
						 cons[t].len));
	}
	memcpy(want, vroots[8], H);
	CHECK(merkle_verify_consistency(8, 8, want, vroots[8], NULL, 0));
	CHECK(!merkle_verify_consistency(8, 8, vroots[7], vroots[8], NULL, 0));
}

/* ---- the stored tree ------------------------------------------------------------------------ */

static sqlite3 *db;
static unsigned char data[MAXN][H];

static int exec(const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK;
}

/* A database with the records' hashes and the tree, appended one by one like the log. */
static void build_db(void)
{
	sqlite3_stmt *st = NULL;
	unsigned char zero[H] = {0};
	int ok = 1;

	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	CHECK(!exec("CREATE TABLE records (seq INTEGER PRIMARY KEY, hash BLOB NOT NULL);"
		    " CREATE TABLE merkle (pos INTEGER PRIMARY KEY, hash BLOB NOT NULL) STRICT"));
	CHECK(sqlite3_prepare_v2(db, "INSERT INTO records VALUES (?, ?)", -1, &st, NULL) ==
	      SQLITE_OK);
	for (int i = 0; i < MAXN; i++) {
		randombytes_buf(data[i], H);
		merkle_leaf(data[i], lh[i]);
		sqlite3_bind_int64(st, 1, i + 1);
		sqlite3_bind_blob(st, 2, data[i], H, SQLITE_STATIC);
		ok &= sqlite3_step(st) == SQLITE_DONE;
		sqlite3_reset(st);
		ok &= !merkle_append(db, i + 1, i ? data[i - 1] : zero, data[i], &err);
	}
	sqlite3_finalize(st);
	CHECK(ok);
}

static int64_t count(const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void test_stored_tree(void)
{
	unsigned char root[H], want[H], nodes[64][H];
	struct merkle_stream s;
	int roots_ok = 1, stream_ok = 1;
	char *before, *after;

	build_db();
	/* MAXN leaves leave MAXN - popcount(MAXN) nodes at positions 0, 1, 2, ... */
	CHECK(count("SELECT count(*) FROM merkle") == MAXN - __builtin_popcount(MAXN));
	CHECK(count("SELECT max(pos) FROM merkle") == MAXN - __builtin_popcount(MAXN) - 1);
	CHECK(merkle_pos(1, 0) == 0 && merkle_pos(1, 1) == 1 && merkle_pos(2, 0) == 2 &&
	      merkle_pos(1, 2) == 3 && merkle_pos(3, 0) == 6);
	merkle_stream_init(&s);
	for (int n = 1; n <= MAXN; n++) {
		merkle_stream_push(&s, data[n - 1], nodes);
		mth(0, n, want);
		roots_ok &= !merkle_root(db, n, root, &err) && !memcmp(root, want, H);
		merkle_stream_root(&s, root);
		stream_ok &= !memcmp(root, want, H);
	}
	CHECK(roots_ok);
	CHECK(stream_ok);
	/* The migration's one-pass build writes the same table. */
	before = sqlite3_mprintf("%lld", (long long)count("SELECT sum(length(hash)) FROM merkle"));
	CHECK(!exec("CREATE TABLE copy AS SELECT * FROM merkle"));
	CHECK(!merkle_build(db, &err));
	CHECK(count("SELECT count(*) FROM merkle m JOIN copy c USING (pos) WHERE m.hash = c.hash") ==
	      MAXN - __builtin_popcount(MAXN));
	after = sqlite3_mprintf("%lld", (long long)count("SELECT sum(length(hash)) FROM merkle"));
	CHECK_STR(after, before);
	sqlite3_free(before);
	sqlite3_free(after);
	/* A missing node is an error, not a wrong root. */
	CHECK(!exec("DELETE FROM merkle WHERE pos = 6"));
	CHECK(merkle_root(db, 8, root, &err) == -1);
	CHECK_HAS(err.msg, "Merkle tree is missing node 6");
	CHECK(!merkle_build(db, &err));
}

/* Whether path altered in one way is rejected, for every way. */
static int altered_inclusion_rejected(int64_t index, int64_t size, unsigned char (*path)[H],
				      size_t n, const unsigned char *root)
{
	unsigned char other[H];
	int ok = 1;

	for (size_t i = 0; i < n; i++) { /* a flipped bit in each hash */
		path[i][i % H] ^= 1;
		ok &= !merkle_verify_inclusion(lh[index], index, size,
					       (const unsigned char(*)[H])path, n, root);
		path[i][i % H] ^= 1;
	}
	if (index + 1 < size) /* another index */
		ok &= !merkle_verify_inclusion(lh[index], index + 1, size,
					       (const unsigned char(*)[H])path, n, root);
	if (index > 0)
		ok &= !merkle_verify_inclusion(lh[index], index - 1, size,
					       (const unsigned char(*)[H])path, n, root);
	/* another size, with its root (a size alone is bound to its root by the signature:
	 * index 0 of 3 and of 4 take the same steps) */
	if (size < MAXN)
		ok &= !merkle_verify_inclusion(lh[index], index, size + 1,
					       (const unsigned char(*)[H])path, n, roots[size + 1]);
	if (size - 1 > index)
		ok &= !merkle_verify_inclusion(lh[index], index, size - 1,
					       (const unsigned char(*)[H])path, n, roots[size - 1]);
	memcpy(other, root, H);
	other[0] ^= 0x80; /* another root */
	ok &= !merkle_verify_inclusion(lh[index], index, size, (const unsigned char(*)[H])path, n,
				       other);
	if (n) /* a cut path */
		ok &= !merkle_verify_inclusion(lh[index], index, size,
					       (const unsigned char(*)[H])path, n - 1, root);
	memcpy(path[n], root, H); /* a longer one */
	ok &= !merkle_verify_inclusion(lh[index], index, size, (const unsigned char(*)[H])path,
				       n + 1, root);
	/* another leaf */
	ok &= !merkle_verify_inclusion(lh[(index + 1) % MAXN], index, size,
				       (const unsigned char(*)[H])path, n, root);
	return ok;
}

static int altered_consistency_rejected(int64_t m, int64_t n, unsigned char (*path)[H],
					size_t np, const unsigned char *r1,
					const unsigned char *r2)
{
	unsigned char other[H];
	int ok = 1;

	for (size_t i = 0; i < np; i++) {
		path[i][(i * 7) % H] ^= 4;
		ok &= !merkle_verify_consistency(m, n, r1, r2, (const unsigned char(*)[H])path, np);
		path[i][(i * 7) % H] ^= 4;
	}
	memcpy(other, r1, H);
	other[5] ^= 1;
	ok &= !merkle_verify_consistency(m, n, other, r2, (const unsigned char(*)[H])path, np);
	memcpy(other, r2, H);
	other[5] ^= 1;
	ok &= !merkle_verify_consistency(m, n, r1, other, (const unsigned char(*)[H])path, np);
	if (np)
		ok &= !merkle_verify_consistency(m, n, r1, r2, (const unsigned char(*)[H])path,
						 np - 1);
	memcpy(path[np], r1, H);
	ok &= !merkle_verify_consistency(m, n, r1, r2, (const unsigned char(*)[H])path, np + 1);
	if (m > 1)
		ok &= !merkle_verify_consistency(m - 1, n, roots[m - 1], r2,
						 (const unsigned char(*)[H])path, np);
	if (n < MAXN)
		ok &= !merkle_verify_consistency(m, n + 1, r1, roots[n + 1],
						 (const unsigned char(*)[H])path, np);
	return ok;
}

static void test_proofs(void)
{
	unsigned char path[MERKLE_PATH_MAX][H], want[MERKLE_PATH_MAX][H], root[H], r1[H];
	size_t n, wn;
	int gen = 1, good = 1, bad = 1, len = 1, pairs = 0;

	for (int64_t size = 1; size <= MAXN; size++)
		mth(0, size, roots[size]);
	for (int64_t size = 1; size <= MAXN; size++) {
		mth(0, size, root);
		for (int64_t i = 0; i < size; i++, pairs++) {
			wn = 0;
			path_of(i, 0, size, want, &wn);
			gen &= !merkle_inclusion(db, i, size, path, &n, &err) && n == wn &&
			       !memcmp(path, want, n * H);
			len &= merkle_inclusion_len(i, size) == wn;
			good &= merkle_verify_inclusion(lh[i], i, size,
							(const unsigned char(*)[H])path, n, root);
			bad &= altered_inclusion_rejected(i, size, path, n, root);
		}
	}
	printf("# %d (index, size) pairs\n", pairs);
	CHECK(gen);
	CHECK(len);
	CHECK(good);
	CHECK(bad);
	gen = good = bad = len = 1;
	pairs = 0;
	for (int64_t m = 1; m <= MAXN; m++) {
		mth(0, m, r1);
		for (int64_t size = m; size <= MAXN; size++, pairs++) {
			mth(0, size, root);
			wn = 0;
			if (m < size)
				subproof(m, 0, size, 1, want, &wn);
			gen &= !merkle_consistency(db, m, size, path, &n, &err) && n == wn &&
			       !memcmp(path, want, n * H);
			len &= merkle_consistency_len(m, size) == wn;
			good &= merkle_verify_consistency(m, size, r1, root,
							  (const unsigned char(*)[H])path, n);
			if (m < size)
				bad &= altered_consistency_rejected(m, size, path, n, r1, root);
		}
	}
	printf("# %d (m, n) pairs\n", pairs);
	CHECK(gen);
	CHECK(len);
	CHECK(good);
	CHECK(bad);
	CHECK(merkle_inclusion(db, 5, 5, path, &n, &err) == -1);
	CHECK_STR(err.msg, "leaf 5 is not in a tree of 5");
	CHECK(merkle_consistency(db, 6, 5, path, &n, &err) == -1);
	CHECK_STR(err.msg, "a tree of 6 is not a prefix of one of 5");
	CHECK(!merkle_verify_inclusion(lh[0], 0, 0, NULL, 0, root));
	CHECK(!merkle_verify_consistency(0, 5, r1, root, NULL, 0));
	sqlite3_close(db);
}

/* ---- proofs of a real log ------------------------------------------------------------------- */

static void test_log_proofs(void)
{
	const char *dir = t_tmpdir();
	struct audit_log *log = NULL;
	struct audit_actor actor = {"tester", 1000, AUDIT_ROLE_ADMIN};
	struct audit_entry e = {&actor, "catalog.search", NULL, NULL};
	struct audit_checkpoint cp, cp2;
	struct audit_proof_result res;
	json_t *doc = NULL, *cdoc = NULL;
	int all = 1;

	CHECK(audit_open(&log, dir, "test", 0, &err) == 0);
	for (int i = 0; i < 21; i++)
		CHECK(audit_append(log, &e, AUDIT_OK, NULL, i % 3 ? NULL : "{\"n\":1}", &err) == 0);
	CHECK(audit_checkpoint(log, &cp, &err) == 0 && cp.seq == 21 && cp.version == 2 &&
	      cp.tree_size == 21);
	for (int64_t seq = 1; seq <= 21; seq++) {
		all &= audit_prove(audit_db(log), &cp, seq, &doc, &err) == 0;
		all &= audit_proof_check(doc, cp.public_key, &res) == 0 && res.record_checked &&
		       res.seq == seq && res.tree_size == 21;
		json_decref(doc);
		doc = NULL;
	}
	CHECK(all);
	CHECK(audit_prove(audit_db(log), &cp, 22, &doc, &err) == -1);
	CHECK_STR(err.msg, "record 22 is not in the signed log of 21 records");
	/* Consistency from 21 to 30. */
	for (int i = 0; i < 9; i++)
		CHECK(audit_append(log, &e, AUDIT_OK, NULL, NULL, &err) == 0);
	CHECK(audit_checkpoint(log, &cp2, &err) == 0 && cp2.seq == 30);
	CHECK(audit_prove_consistency(audit_db(log), &cp, &cp2, &cdoc, &err) == 0);
	CHECK(audit_proof_check(cdoc, NULL, &res) == 0 && res.old_size == 21 &&
	      res.tree_size == 30 && !res.key_given);
	/* Another key given: rejected. */
	cp.public_key[0] ^= 1;
	CHECK(audit_proof_check(cdoc, cp.public_key, &res) == 1);
	CHECK_STR(res.problem, "the old checkpoint is signed by another key than the one given");
	json_decref(cdoc);
	CHECK(audit_prove_consistency(audit_db(log), &cp2, &cp2, &cdoc, &err) == 0);
	CHECK(audit_proof_check(cdoc, cp2.public_key, &res) == 0);
	CHECK(json_array_size(json_object_get(cdoc, "path")) == 0);
	json_decref(cdoc);
	/* A log whose records grow keeps verifying with its tree. */
	{
		struct audit_verify_result vr;

		CHECK(audit_verify_db(audit_db(log), NULL, &vr, &err) == 0 && vr.records == 30);
	}
	audit_free(log);
}

int main(void)
{
	if (sodium_init() < 0)
		return 2;
	test_vectors();
	test_stored_tree();
	test_proofs();
	test_log_proofs();
	return t_done();
}
