/* Proof documents of the audit log's Merkle tree: an inclusion proof of one record and a
 * consistency proof between two checkpoints, as JSON, and their verification, which needs
 * nothing but the document and a public key (docs/audit.md, "Proofs"). */
#include "audit.h"
#include "audit_int.h"
#include "merkle.h"
#include "sql.h"

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define PROOF_FORMAT "steward-audit-proof"
#define PROOF_FILE_MAX (256 << 10) /* a proof is a few KiB */

#define HEX(n) (2 * (n) + 1)

/* ---- Writing ------------------------------------------------------------------------------ */

static json_t *hex_json(const unsigned char *b, size_t n)
{
	char h[HEX(AUDIT_SIG_BYTES)];

	sodium_bin2hex(h, sizeof(h), b, n);
	return json_string(h);
}

/* The checkpoint as the object a proof carries: everything its signature covers. */
static json_t *checkpoint_json(const struct audit_checkpoint *cp)
{
	return json_pack("{s:i, s:I, s:I, s:o, s:I, s:o, s:o, s:o}", "version", cp->version, "seq",
			 (json_int_t)cp->seq, "ts_ms", (json_int_t)cp->ts_ms, "hash",
			 hex_json(cp->hash, AUDIT_HASH_BYTES), "tree_size",
			 (json_int_t)cp->tree_size, "root", hex_json(cp->root, AUDIT_HASH_BYTES),
			 "public_key", hex_json(cp->public_key, AUDIT_PK_BYTES), "signature",
			 hex_json(cp->signature, AUDIT_SIG_BYTES));
}

static json_t *path_json(const unsigned char (*path)[MERKLE_HASH], size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		if (json_array_append_new(a, hex_json(path[i], MERKLE_HASH))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *text_or_null(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL
		       ? json_null()
		       : json_string((const char *)sqlite3_column_text(st, i));
}

/* Reads record seq into a JSON object of every hashed column and prev; *leaf gets its
 * stored hash. NULL with err when it is missing, damaged or not UTF-8. */
static json_t *record_json(sqlite3 *db, int64_t seq, unsigned char *leaf, struct st_error *err)
{
	static const char *const names[] = {"seq",	 "ts_ms",  "actor",  "uid",	"role",
					    "action",	 "object", "purpose", "outcome", "reason",
					    "counts",	 "host",   "pid",    "version", "pii"};
	sqlite3_stmt *st = NULL;
	json_t *o = NULL, *v;
	int rc;

	if (st_sql_prepare(db, &st,
			    "SELECT seq, ts_ms, actor, uid, role, action, object, purpose, outcome,"
			    " reason, counts, host, pid, version, pii, prev, hash FROM records"
			    " WHERE seq = ?",
			    err))
		goto out;
	sqlite3_bind_int64(st, 1, seq);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			st_error_set(err, ST_E_NOTFOUND, "the audit log has no record %lld",
				     (long long)seq);
		else
			st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	if (sqlite3_column_bytes(st, 15) != AUDIT_HASH_BYTES ||
	    sqlite3_column_bytes(st, 16) != AUDIT_HASH_BYTES || !(o = json_object())) {
		st_error_set(err, ST_E_SYSTEM, "record %lld is damaged; run 'steward audit verify'",
			     (long long)seq);
		goto out;
	}
	for (int i = 0; i < 15; i++) {
		int integer = i == 0 || i == 1 || i == 3 || i == 12 || i == 14;

		v = integer ? json_integer(sqlite3_column_int64(st, i)) : text_or_null(st, i);
		if (!v || json_object_set_new(o, names[i], v)) {
			st_error_set(err, ST_E_SYSTEM,
				     "record %lld holds text that is not UTF-8, or memory ran out",
				     (long long)seq);
			json_decref(o);
			o = NULL;
			goto out;
		}
	}
	if (json_object_set_new(o, "prev", hex_json(sqlite3_column_blob(st, 15), AUDIT_HASH_BYTES))) {
		json_decref(o);
		o = NULL;
		st_error_oom(err);
		goto out;
	}
	memcpy(leaf, sqlite3_column_blob(st, 16), AUDIT_HASH_BYTES);
out:
	sqlite3_finalize(st);
	return o;
}

int audit_prove(struct sqlite3 *db, const struct audit_checkpoint *cp, int64_t seq,
		struct json_t **out, struct st_error *err)
{
	unsigned char path[MERKLE_PATH_MAX][MERKLE_HASH], leaf[AUDIT_HASH_BYTES];
	json_t *record = NULL, *doc = NULL;
	size_t n = 0;
	int ret = -1;

	*out = NULL;
	if (cp->version != 2)
		return st_error_set(err, ST_E_INVALID,
				    "the checkpoint at seq %lld has no Merkle root (format 1)",
				    (long long)cp->seq);
	if (seq < 1 || seq > cp->tree_size)
		return st_error_set(err, ST_E_NOTFOUND,
				    "record %lld is not in the signed log of %lld records",
				    (long long)seq, (long long)cp->tree_size);
	if (!(record = record_json(db, seq, leaf, err)) ||
	    merkle_inclusion(db, seq - 1, cp->tree_size, path, &n, err))
		goto out;
	doc = json_pack("{s:s, s:i, s:s, s:I, s:I, s:o, s:O, s:I, s:o, s:o, s:o}", "format",
			PROOF_FORMAT, "version", 1, "type", "inclusion", "seq", (json_int_t)seq,
			"leaf_index", (json_int_t)(seq - 1), "leaf",
			hex_json(leaf, AUDIT_HASH_BYTES), "record", record, "tree_size",
			(json_int_t)cp->tree_size, "root", hex_json(cp->root, AUDIT_HASH_BYTES),
			"path", path_json((const unsigned char(*)[MERKLE_HASH])path, n),
			"checkpoint", checkpoint_json(cp));
	if (!doc) {
		st_error_oom(err);
		goto out;
	}
	*out = doc;
	ret = 0;
out:
	json_decref(record);
	return ret;
}

int audit_prove_consistency(struct sqlite3 *db, const struct audit_checkpoint *old,
			    const struct audit_checkpoint *cp, struct json_t **out,
			    struct st_error *err)
{
	unsigned char path[MERKLE_PATH_MAX][MERKLE_HASH];
	size_t n = 0;
	json_t *doc;

	*out = NULL;
	if (old->version != 2 || cp->version != 2)
		return st_error_set(err, ST_E_INVALID,
				    "the checkpoint at seq %lld has no Merkle root (format 1)",
				    (long long)(old->version != 2 ? old->seq : cp->seq));
	if (old->tree_size > cp->tree_size)
		return st_error_set(err, ST_E_INVALID,
				    "the log ends at seq %lld, before the anchor's seq %lld",
				    (long long)cp->tree_size, (long long)old->tree_size);
	if (merkle_consistency(db, old->tree_size, cp->tree_size, path, &n, err))
		return -1;
	doc = json_pack("{s:s, s:i, s:s, s:o, s:o, s:o}", "format", PROOF_FORMAT, "version", 1,
			"type", "consistency", "old", checkpoint_json(old), "new",
			checkpoint_json(cp), "path",
			path_json((const unsigned char(*)[MERKLE_HASH])path, n));
	if (!doc)
		return st_error_oom(err);
	*out = doc;
	return 0;
}

int audit_merkle_root_at(struct sqlite3 *db, int64_t size, unsigned char *root,
			 struct st_error *err)
{
	return merkle_root(db, size, root, err);
}

/* ---- Checking ------------------------------------------------------------------------------ */

static int rejected(struct audit_proof_result *res, const char *fmt, ...) ST_PRINTF(2, 3);

static int rejected(struct audit_proof_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->problem, sizeof(res->problem), fmt, ap);
	va_end(ap);
	return 1;
}

static int hex_of(json_t *v, unsigned char *out, size_t n)
{
	const char *s = json_string_value(v);
	size_t got = 0;

	if (!s || strlen(s) != 2 * n)
		return -1;
	if (sodium_hex2bin(out, n, s, strlen(s), NULL, &got, NULL) || got != n)
		return -1;
	return 0;
}

static int int_of(json_t *v, int64_t *out)
{
	if (!json_is_integer(v))
		return -1;
	*out = json_integer_value(v);
	return 0;
}

/* Reads and checks a checkpoint object (what says which one, for messages): its fields,
 * its signature, and the key (the one given, else the first one seen). 0 good, 1 rejected. */
static int check_checkpoint(json_t *o, const char *what, struct audit_proof_result *res,
			    struct audit_checkpoint *cp)
{
	int64_t version = 0;

	memset(cp, 0, sizeof(*cp));
	if (!json_is_object(o) || int_of(json_object_get(o, "version"), &version) ||
	    int_of(json_object_get(o, "seq"), &cp->seq) ||
	    int_of(json_object_get(o, "ts_ms"), &cp->ts_ms) ||
	    int_of(json_object_get(o, "tree_size"), &cp->tree_size) ||
	    hex_of(json_object_get(o, "hash"), cp->hash, AUDIT_HASH_BYTES) ||
	    hex_of(json_object_get(o, "root"), cp->root, AUDIT_HASH_BYTES) ||
	    hex_of(json_object_get(o, "public_key"), cp->public_key, AUDIT_PK_BYTES) ||
	    hex_of(json_object_get(o, "signature"), cp->signature, AUDIT_SIG_BYTES))
		return rejected(res, "the %s is incomplete or malformed", what);
	if (version != 2)
		return rejected(res, "the %s is not a format 2 checkpoint (it has no Merkle root)",
				what);
	cp->version = 2;
	if (cp->tree_size != cp->seq || cp->seq < 1)
		return rejected(res, "the %s's tree size %lld is not its seq %lld", what,
				(long long)cp->tree_size, (long long)cp->seq);
	if (res->key_given && memcmp(cp->public_key, res->public_key, AUDIT_PK_BYTES))
		return rejected(res, "the %s is signed by another key than the one given", what);
	if (!res->key_given && res->key_seen && memcmp(cp->public_key, res->public_key,
						      AUDIT_PK_BYTES))
		return rejected(res, "the %s is signed by another key than the first checkpoint",
				what);
	if (!audit_checkpoint_valid(cp))
		return rejected(res, "the %s's signature does not verify", what);
	memcpy(res->public_key, cp->public_key, AUDIT_PK_BYTES);
	res->key_seen = 1;
	return 0;
}

/* Reads the proof's path array into path (at most MERKLE_PATH_MAX hashes). */
static int read_path(json_t *a, unsigned char (*path)[MERKLE_HASH], size_t *n,
		     struct audit_proof_result *res)
{
	size_t i;
	json_t *v;

	*n = 0;
	if (!json_is_array(a) || json_array_size(a) > MERKLE_PATH_MAX)
		return rejected(res, "the path is not a list of at most %d hashes", MERKLE_PATH_MAX);
	json_array_foreach(a, i, v)
	{
		if (hex_of(v, path[i], MERKLE_HASH))
			return rejected(res, "path hash %zu is not 64 hex digits", i + 1);
	}
	*n = json_array_size(a);
	return 0;
}

static const char *str_or_null(json_t *o, const char *key, int *bad)
{
	json_t *v = json_object_get(o, key);

	if (json_is_null(v))
		return NULL;
	if (!json_is_string(v))
		*bad = 1;
	return json_string_value(v);
}

/* Recomputes the hash of the record object (docs/audit.md) into out. 0, or 1 rejected. */
static int record_hash(json_t *o, unsigned char *out, int64_t *seq, struct audit_proof_result *res)
{
	struct audit_row r = {0};
	unsigned char prev[AUDIT_HASH_BYTES];
	int64_t pii = 0;
	int bad = !json_is_object(o);

	if (!bad)
		bad = int_of(json_object_get(o, "seq"), &r.seq) ||
		      int_of(json_object_get(o, "ts_ms"), &r.ts_ms) ||
		      int_of(json_object_get(o, "uid"), &r.uid) ||
		      int_of(json_object_get(o, "pid"), &r.pid) ||
		      int_of(json_object_get(o, "pii"), &pii) ||
		      hex_of(json_object_get(o, "prev"), prev, AUDIT_HASH_BYTES);
	if (!bad) {
		r.actor = str_or_null(o, "actor", &bad);
		r.role = str_or_null(o, "role", &bad);
		r.action = str_or_null(o, "action", &bad);
		r.object = str_or_null(o, "object", &bad);
		r.purpose = str_or_null(o, "purpose", &bad);
		r.outcome = str_or_null(o, "outcome", &bad);
		r.reason = str_or_null(o, "reason", &bad);
		r.counts = str_or_null(o, "counts", &bad);
		r.host = str_or_null(o, "host", &bad);
		r.version = str_or_null(o, "version", &bad);
	}
	if (bad)
		return rejected(res, "the record is incomplete or malformed");
	r.pii = pii != 0;
	*seq = r.seq;
	audit_record_hash(&r, prev, out);
	return 0;
}

static int check_inclusion(json_t *doc, struct audit_proof_result *res)
{
	unsigned char path[MERKLE_PATH_MAX][MERKLE_HASH], leaf[AUDIT_HASH_BYTES],
		lh[MERKLE_HASH], root[AUDIT_HASH_BYTES], rh[AUDIT_HASH_BYTES];
	struct audit_checkpoint cp;
	int64_t seq, index, size, rseq = 0;
	size_t n, want;
	json_t *record = json_object_get(doc, "record");

	res->type = AUDIT_PROOF_INCLUSION;
	if (int_of(json_object_get(doc, "seq"), &seq) ||
	    int_of(json_object_get(doc, "leaf_index"), &index) ||
	    int_of(json_object_get(doc, "tree_size"), &size) ||
	    hex_of(json_object_get(doc, "leaf"), leaf, AUDIT_HASH_BYTES) ||
	    hex_of(json_object_get(doc, "root"), root, AUDIT_HASH_BYTES))
		return rejected(res, "the proof is incomplete or malformed");
	res->seq = seq;
	res->tree_size = size;
	if (check_checkpoint(json_object_get(doc, "checkpoint"), "checkpoint", res, &cp))
		return 1;
	res->ts_ms = cp.ts_ms;
	memcpy(res->root, cp.root, AUDIT_HASH_BYTES);
	if (size != cp.tree_size)
		return rejected(res, "the proof's tree size %lld is not the signed tree size %lld",
				(long long)size, (long long)cp.tree_size);
	if (memcmp(root, cp.root, AUDIT_HASH_BYTES))
		return rejected(res, "the proof's root is not the signed root");
	if (index != seq - 1)
		return rejected(res, "leaf index %lld is not the index of record %lld",
				(long long)index, (long long)seq);
	if (index < 0 || index >= size)
		return rejected(res, "record %lld is not in a tree of %lld records",
				(long long)seq, (long long)size);
	if (record) {
		if (record_hash(record, rh, &rseq, res))
			return 1;
		if (rseq != seq)
			return rejected(res, "the record is seq %lld, not %lld", (long long)rseq,
					(long long)seq);
		if (memcmp(rh, leaf, AUDIT_HASH_BYTES))
			return rejected(res, "the record does not hash to the leaf: it was changed");
		res->record_checked = 1;
	}
	if (read_path(json_object_get(doc, "path"), path, &n, res))
		return 1;
	want = merkle_inclusion_len(index, size);
	if (n != want)
		return rejected(res,
				"the audit path has %zu hashes; a proof of leaf %lld in a tree of "
				"%lld has %zu",
				n, (long long)index, (long long)size, want);
	merkle_leaf(leaf, lh);
	if (!merkle_verify_inclusion(lh, index, size, (const unsigned char(*)[MERKLE_HASH])path, n,
				     cp.root))
		return rejected(res, "the audit path does not lead from the leaf to the signed root");
	return 0;
}

static int check_consistency(json_t *doc, struct audit_proof_result *res)
{
	unsigned char path[MERKLE_PATH_MAX][MERKLE_HASH];
	struct audit_checkpoint old, cp;
	size_t n, want;

	res->type = AUDIT_PROOF_CONSISTENCY;
	if (check_checkpoint(json_object_get(doc, "old"), "old checkpoint", res, &old) ||
	    check_checkpoint(json_object_get(doc, "new"), "new checkpoint", res, &cp))
		return 1;
	res->old_size = old.tree_size;
	res->old_ts_ms = old.ts_ms;
	res->tree_size = cp.tree_size;
	res->ts_ms = cp.ts_ms;
	memcpy(res->old_root, old.root, AUDIT_HASH_BYTES);
	memcpy(res->root, cp.root, AUDIT_HASH_BYTES);
	if (old.tree_size > cp.tree_size)
		return rejected(res, "the old tree (%lld records) is larger than the new (%lld)",
				(long long)old.tree_size, (long long)cp.tree_size);
	if (read_path(json_object_get(doc, "path"), path, &n, res))
		return 1;
	want = merkle_consistency_len(old.tree_size, cp.tree_size);
	if (n != want)
		return rejected(res,
				"the consistency path has %zu hashes; a proof from %lld to %lld "
				"records has %zu",
				n, (long long)old.tree_size, (long long)cp.tree_size, want);
	if (!merkle_verify_consistency(old.tree_size, cp.tree_size, old.root, cp.root,
				       (const unsigned char(*)[MERKLE_HASH])path, n))
		return rejected(res, old.tree_size == cp.tree_size
					     ? "the two checkpoints have the same size and other roots"
					     : "the consistency path does not lead from the old root "
					       "to the new root");
	return 0;
}

int audit_proof_check(struct json_t *doc, const unsigned char *public_key,
		      struct audit_proof_result *res)
{
	const char *type;

	memset(res, 0, sizeof(*res));
	if (public_key) {
		memcpy(res->public_key, public_key, AUDIT_PK_BYTES);
		res->key_given = 1;
	}
	type = json_string_value(json_object_get(doc, "type"));
	if (!json_is_integer(json_object_get(doc, "version")) ||
	    json_integer_value(json_object_get(doc, "version")) != 1)
		return rejected(res, "the proof's format version is not 1");
	if (type && !strcmp(type, "inclusion"))
		return check_inclusion(doc, res);
	if (type && !strcmp(type, "consistency"))
		return check_consistency(doc, res);
	return rejected(res, "the proof's type is neither inclusion nor consistency");
}

int audit_proof_read(const char *path, struct json_t **out, struct st_error *err)
{
	struct stat sb;
	json_error_t jerr;
	json_t *doc;
	const char *format;

	*out = NULL;
	if (!stat(path, &sb) && sb.st_size > PROOF_FILE_MAX)
		return st_error_set(err, ST_E_INVALID, "'%s' is not a steward proof (over %d KiB)",
				    path, PROOF_FILE_MAX >> 10);
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		if (jerr.line < 0 || !strncmp(jerr.text, "unable to open", 14))
			return st_error_set(err, ST_E_NOTFOUND, "cannot read the proof '%s'", path);
		return st_error_set_at(err, ST_E_INVALID, path, (unsigned)jerr.line,
				       (unsigned)jerr.column, "not a steward proof: %s", jerr.text);
	}
	format = json_string_value(json_object_get(doc, "format"));
	if (!json_is_object(doc) || !format || strcmp(format, PROOF_FORMAT)) {
		json_decref(doc);
		return st_error_set(err, ST_E_INVALID, "'%s' is not a steward proof", path);
	}
	*out = doc;
	return 0;
}

int audit_public_key_read(const char *arg, unsigned char *pk, struct st_error *err)
{
	json_error_t jerr;
	json_t *doc = NULL;
	struct stat sb;
	char text[256];
	size_t len = 0, got = 0;
	FILE *f = NULL;
	int ret = -1;

	if (strlen(arg) == 2 * AUDIT_PK_BYTES &&
	    !sodium_hex2bin(pk, AUDIT_PK_BYTES, arg, strlen(arg), NULL, &got, NULL) &&
	    got == AUDIT_PK_BYTES)
		return 0;
	/* Else a file: an anchor (its public_key) or the key in hex. */
	if (!stat(arg, &sb) && sb.st_size > PROOF_FILE_MAX) {
		st_error_set(err, ST_E_INVALID, "'%s' holds no public key", arg);
		goto out;
	}
	doc = json_load_file(arg, JSON_REJECT_DUPLICATES, &jerr);
	if (doc) {
		if (hex_of(json_object_get(doc, "public_key"), pk, AUDIT_PK_BYTES))
			st_error_set(err, ST_E_INVALID, "'%s' holds no public key", arg);
		else
			ret = 0;
		goto out;
	}
	if (!(f = fopen(arg, "r"))) {
		st_error_set(err, ST_E_NOTFOUND,
			     "'%s' is neither a public key (64 hex digits) nor a file", arg);
		goto out;
	}
	len = fread(text, 1, sizeof(text) - 1, f);
	text[len] = '\0';
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		text[--len] = '\0';
	if (len != 2 * AUDIT_PK_BYTES ||
	    sodium_hex2bin(pk, AUDIT_PK_BYTES, text, len, NULL, &got, NULL) ||
	    got != AUDIT_PK_BYTES) {
		st_error_set(err, ST_E_INVALID, "'%s' holds no public key", arg);
		goto out;
	}
	ret = 0;
out:
	if (f)
		fclose(f);
	json_decref(doc);
	return ret;
}
