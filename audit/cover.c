/* Covered rows: the request tables and the suppression list are bound to the audit record of
 * the command that wrote them. Every row a command writes is noted (by temporary triggers of
 * steward's own connection) and listed with a digest of all its columns in `covered` when the
 * command's record is chained; verify checks the tables against the newest entries. */
#include "audit.h"
#include "audit_int.h"
#include "sql.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#define ROW_DOMAIN "steward.row.v1"
#define COVERS_DOMAIN "steward.covers.v1"
#define PK_MAX 8

const char *const audit_covered_tables[AUDIT_COVERED_TABLES] = {
	"requests", "request_ids", "request_targets", "request_events", "suppressed",
};

/* A covered table's primary key: the columns (indexes into SELECT rowid, *) in key order,
 * or none, when the rowid is the key. */
struct pk_info {
	int n;
	int col[PK_MAX];
	char where[1024]; /* "c1" IS ?1 AND ... */
};

static int table_index(const char *tbl)
{
	for (int i = 0; i < AUDIT_COVERED_TABLES; i++)
		if (tbl && !strcmp(tbl, audit_covered_tables[i]))
			return i;
	return -1;
}

static int pk_load(sqlite3 *db, const char *tbl, struct pk_info *pk, struct st_error *err)
{
	char sql[128];
	sqlite3_stmt *st = NULL;
	int ret = -1, rc, pos[PK_MAX];
	size_t len = 0;

	memset(pk, 0, sizeof(*pk));
	snprintf(sql, sizeof(sql), "PRAGMA table_info(\"%s\")", tbl);
	if (st_sql_prepare(db, &st, sql, err))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int at = sqlite3_column_int(st, 5);

		if (at < 1)
			continue;
		if (at > PK_MAX) {
			st_error_set(err, ST_E_SYSTEM, "'%s' has too long a primary key", tbl);
			goto out;
		}
		pos[at - 1] = sqlite3_column_int(st, 0) + 1; /* after the rowid */
		pk->n = at > pk->n ? at : pk->n;
		len += (size_t)snprintf(pk->where + len, sizeof(pk->where) - len, "%s\"%s\" IS ?%d",
					len ? " AND " : "",
					(const char *)sqlite3_column_text(st, 1), at);
		if (len >= sizeof(pk->where)) {
			st_error_set(err, ST_E_SYSTEM, "'%s' has too long a primary key", tbl);
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	memcpy(pk->col, pos, sizeof(int) * (size_t)pk->n);
	if (!pk->n)
		snprintf(pk->where, sizeof(pk->where), "rowid IS ?1");
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static void put_len(unsigned char *b, size_t n)
{
	b[0] = (unsigned char)(n >> 24);
	b[1] = (unsigned char)(n >> 16);
	b[2] = (unsigned char)(n >> 8);
	b[3] = (unsigned char)n;
}

/* Writes column i of st in the value encoding (a type byte, then 8 big-endian bytes for an
 * integer or a double's bits, or a 4-byte length and the bytes of a text or blob) into out
 * (n bytes). Returns the length, or 0 when it does not fit. NULL is never encoded. */
static size_t enc_value(sqlite3_stmt *st, int i, unsigned char *out, size_t n)
{
	int t = sqlite3_column_type(st, i);
	uint64_t v = 0;
	size_t len;

	if (t == SQLITE_INTEGER || t == SQLITE_FLOAT) {
		if (n < 9)
			return 0;
		if (t == SQLITE_INTEGER) {
			v = (uint64_t)sqlite3_column_int64(st, i);
		} else {
			double d = sqlite3_column_double(st, i);

			memcpy(&v, &d, sizeof(v));
		}
		out[0] = t == SQLITE_INTEGER ? 'i' : 'f';
		for (int k = 8; k >= 1; k--, v >>= 8)
			out[k] = (unsigned char)(v & 0xff);
		return 9;
	}
	if (t == SQLITE_TEXT) {
		const unsigned char *s = sqlite3_column_text(st, i);

		len = (size_t)sqlite3_column_bytes(st, i);
		if (n < 5 + len)
			return 0;
		out[0] = 't';
		memcpy(out + 5, s, len);
	} else {
		const void *b = sqlite3_column_blob(st, i);

		len = (size_t)sqlite3_column_bytes(st, i);
		if (n < 5 + len)
			return 0;
		out[0] = 'b';
		if (len)
			memcpy(out + 5, b, len);
	}
	put_len(out + 1, len);
	return 5 + len;
}

static void hash_str(crypto_hash_sha256_state *h, const void *s, size_t n)
{
	unsigned char b[4];

	put_len(b, n);
	crypto_hash_sha256_update(h, b, 4);
	crypto_hash_sha256_update(h, s, n);
}

/* The key and digest of the current row of st (SELECT rowid, * FROM tbl). The digest is
 * SHA-256 over the domain tag, the table name and, for every column that is not NULL, its
 * name and value, so columns added later are covered as they are. Returns 0, or -1 with err
 * when a value does not fit the key. */
static int row_encode(sqlite3_stmt *st, const char *tbl, const struct pk_info *pk,
		      unsigned char *key, size_t *keylen, unsigned char *digest,
		      struct st_error *err)
{
	crypto_hash_sha256_state h;
	int ncol = sqlite3_column_count(st);
	size_t k = 0;

	if (!pk->n) {
		k = enc_value(st, 0, key, AUDIT_KEY_MAX);
	} else {
		for (int i = 0; i < pk->n; i++) {
			size_t got;

			if (sqlite3_column_type(st, pk->col[i]) == SQLITE_NULL) {
				if (k + 1 > AUDIT_KEY_MAX)
					break;
				key[k++] = 'n';
				continue;
			}
			got = enc_value(st, pk->col[i], key + k, AUDIT_KEY_MAX - k);
			if (!got) {
				k = 0;
				break;
			}
			k += got;
		}
	}
	if (!k)
		return st_error_set(err, ST_E_SYSTEM, "a row of '%s' has a key over %d bytes", tbl,
				    AUDIT_KEY_MAX);
	*keylen = k;
	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const unsigned char *)ROW_DOMAIN, sizeof(ROW_DOMAIN));
	hash_str(&h, tbl, strlen(tbl));
	for (int i = 1; i < ncol; i++) {
		int t = sqlite3_column_type(st, i);
		const char *name = sqlite3_column_name(st, i);
		unsigned char head[9];

		if (t == SQLITE_NULL)
			continue;
		hash_str(&h, name, strlen(name));
		if (t == SQLITE_INTEGER || t == SQLITE_FLOAT) {
			enc_value(st, i, head, sizeof(head));
			crypto_hash_sha256_update(&h, head, 9);
		} else {
			const void *p = t == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, i)
							 : sqlite3_column_blob(st, i);
			size_t n = (size_t)sqlite3_column_bytes(st, i);

			head[0] = t == SQLITE_TEXT ? 't' : 'b';
			put_len(head + 1, n);
			crypto_hash_sha256_update(&h, head, 5);
			if (n)
				crypto_hash_sha256_update(&h, p, n);
		}
	}
	crypto_hash_sha256_final(&h, digest);
	return 0;
}

void audit_covers_init(crypto_hash_sha256_state *h)
{
	crypto_hash_sha256_init(h);
	crypto_hash_sha256_update(h, (const unsigned char *)COVERS_DOMAIN, sizeof(COVERS_DOMAIN));
}

void audit_covers_add(crypto_hash_sha256_state *h, const char *tbl, const void *key,
		      size_t keylen, const unsigned char *digest)
{
	unsigned char flag = digest ? 1 : 0;

	hash_str(h, tbl, strlen(tbl));
	hash_str(h, key, keylen);
	crypto_hash_sha256_update(h, &flag, 1);
	if (digest)
		crypto_hash_sha256_update(h, digest, AUDIT_HASH_BYTES);
}

/* ---- Noting what a command writes ------------------------------------------------------ */

int audit_cover_setup(sqlite3 *db, struct st_error *err)
{
	char sql[16384];
	size_t len;

	/* The temporary schema lives in memory: no temporary file is made for it. A row written
	 * twice in one command is noted once: by a NOT EXISTS, since an outer statement's
	 * conflict policy (an upsert's) overrides a trigger's OR IGNORE. */
	len = (size_t)snprintf(sql, sizeof(sql),
			       "PRAGMA temp_store = MEMORY;"
			       " CREATE TEMP TABLE audit_cur (id INTEGER NOT NULL);"
			       " INSERT INTO audit_cur VALUES (0);");
	for (int i = 0; i < AUDIT_COVERED_TABLES && len < sizeof(sql); i++) {
		const char *t = audit_covered_tables[i];

		for (int k = 0; k < 3 && len < sizeof(sql); k++) {
			static const char *const ev[] = {"INSERT", "UPDATE", "DELETE"};

			len += (size_t)snprintf(
				sql + len, sizeof(sql) - len,
				" CREATE TEMP TRIGGER audit_note_%s_%d AFTER %s ON main.%s BEGIN"
				" INSERT INTO pending_rows (pending_id, tbl, rid)"
				" SELECT id, '%s', %s.rowid FROM audit_cur c WHERE NOT EXISTS"
				" (SELECT 1 FROM pending_rows p WHERE p.pending_id = c.id"
				" AND p.tbl = '%s' AND p.rid = %s.rowid); END;",
				t, k, ev[k], t, t, k == 2 ? "OLD" : "NEW", t,
				k == 2 ? "OLD" : "NEW");
		}
	}
	if (len >= sizeof(sql))
		return st_error_set(err, ST_E_SYSTEM, "too many covered tables");
	return st_sql_exec(db, sql, err);
}

int audit_cover_set_pending(sqlite3 *db, int64_t pending_id, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (st_sql_prepare(db, &st, "UPDATE temp.audit_cur SET id = ?", err))
		goto out;
	sqlite3_bind_int64(st, 1, pending_id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		st_sql_error(err, db, "cannot write the audit log");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Lists the current row of rows (SELECT rowid, * FROM t) in covered under seq. */
static int list_row(sqlite3 *db, sqlite3_stmt *rows, sqlite3_stmt *ins, int64_t seq,
		    const char *t, const struct pk_info *pk, struct st_error *err)
{
	unsigned char key[AUDIT_KEY_MAX], digest[AUDIT_HASH_BYTES];
	size_t keylen;

	if (row_encode(rows, t, pk, key, &keylen, digest, err))
		return -1;
	sqlite3_bind_int64(ins, 1, seq);
	sqlite3_bind_text(ins, 2, t, -1, SQLITE_STATIC);
	sqlite3_bind_blob(ins, 3, key, (int)keylen, SQLITE_TRANSIENT);
	sqlite3_bind_int64(ins, 4, sqlite3_column_int64(rows, 0));
	sqlite3_bind_blob(ins, 5, digest, AUDIT_HASH_BYTES, SQLITE_TRANSIENT);
	if (sqlite3_step(ins) != SQLITE_DONE) {
		sqlite3_reset(ins);
		return st_sql_error(err, db, "cannot write the audit log");
	}
	sqlite3_reset(ins);
	return 0;
}

/* The covers digest of seq's entries in covered; *has = 0 when there are none. */
static int covers_of(sqlite3 *db, int64_t seq, unsigned char *out, int *has,
		     struct st_error *err)
{
	crypto_hash_sha256_state h;
	sqlite3_stmt *st = NULL;
	int ret = -1, rc;

	*has = 0;
	audit_covers_init(&h);
	if (st_sql_prepare(db, &st,
			    "SELECT tbl, key, digest FROM covered WHERE seq = ? ORDER BY tbl, key",
			    err))
		goto out;
	sqlite3_bind_int64(st, 1, seq);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*has = 1;
		audit_covers_add(&h, (const char *)sqlite3_column_text(st, 0),
				 sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
				 sqlite3_column_type(st, 2) == SQLITE_NULL
					 ? NULL
					 : sqlite3_column_blob(st, 2));
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	crypto_hash_sha256_final(&h, out);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

#define COVER_INSERT "INSERT OR REPLACE INTO covered (seq, tbl, key, rid, digest) VALUES (?, ?, ?, ?, ?)"

int audit_cover_claim(sqlite3 *db, int64_t pending_id, int64_t seq, unsigned char *out,
		      int *has, struct st_error *err)
{
	sqlite3_stmt *notes = NULL, *ins = NULL, *gone = NULL, *del = NULL;
	sqlite3_stmt *rows[AUDIT_COVERED_TABLES] = {0};
	struct pk_info pk[AUDIT_COVERED_TABLES];
	int loaded[AUDIT_COVERED_TABLES] = {0};
	int ret = -1, rc, any = 0;

	*has = 0;
	if (!pending_id) /* rows written outside a recorded command are never covered */
		return 0;
	/* Entries under seq or later were not written by steward: seq is not chained yet. */
	if (st_sql_cached(db, &del, "DELETE FROM covered WHERE seq >= ?", err))
		goto out;
	sqlite3_bind_int64(del, 1, seq);
	if (sqlite3_step(del) != SQLITE_DONE) {
		st_sql_error(err, db, "cannot write the audit log");
		goto out;
	}
	st_sql_done(del);
	del = NULL;
	if (st_sql_cached(db, &notes,
			    "SELECT tbl, rid FROM pending_rows WHERE pending_id = ? ORDER BY tbl, rid",
			    err))
		goto out;
	sqlite3_bind_int64(notes, 1, pending_id);
	while ((rc = sqlite3_step(notes)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(notes, 0);
		int64_t rid = sqlite3_column_int64(notes, 1);
		int i = table_index(t);

		if (i < 0)
			continue; /* not a covered table: nothing steward wrote */
		if (!any) {
			any = 1;
			if (st_sql_cached(db, &ins, COVER_INSERT, err) ||
			    st_sql_cached(db, &gone,
					    "INSERT OR IGNORE INTO covered (seq, tbl, key, rid, digest)"
					    " SELECT ?1, tbl, key, rid, NULL FROM covered"
					    " WHERE tbl = ?2 AND rid = ?3 ORDER BY seq DESC LIMIT 1",
					    err))
				goto out;
		}
		if (!loaded[i]) {
			char sql[128];

			snprintf(sql, sizeof(sql), "SELECT rowid, * FROM main.\"%s\" WHERE rowid = ?",
				 audit_covered_tables[i]);
			if (pk_load(db, audit_covered_tables[i], &pk[i], err) ||
			    st_sql_prepare(db, &rows[i], sql, err)) /* not kept: built here */
				goto out;
			loaded[i] = 1;
		}
		sqlite3_bind_int64(rows[i], 1, rid);
		rc = sqlite3_step(rows[i]);
		if (rc == SQLITE_ROW) {
			if (list_row(db, rows[i], ins, seq, audit_covered_tables[i], &pk[i], err))
				goto out;
		} else if (rc == SQLITE_DONE) { /* deleted: its newest entry becomes a deletion */
			sqlite3_bind_int64(gone, 1, seq);
			sqlite3_bind_text(gone, 2, audit_covered_tables[i], -1, SQLITE_STATIC);
			sqlite3_bind_int64(gone, 3, rid);
			rc = sqlite3_step(gone);
			sqlite3_reset(gone);
			if (rc != SQLITE_DONE) {
				st_sql_error(err, db, "cannot write the audit log");
				goto out;
			}
		} else {
			st_sql_error(err, db, "cannot read the audit log");
			goto out;
		}
		sqlite3_reset(rows[i]);
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	if (!any) {
		ret = 0;
		goto out;
	}
	if (st_sql_cached(db, &del, "DELETE FROM pending_rows WHERE pending_id = ?", err))
		goto out;
	sqlite3_bind_int64(del, 1, pending_id);
	if (sqlite3_step(del) != SQLITE_DONE) {
		st_sql_error(err, db, "cannot write the audit log");
		goto out;
	}
	ret = covers_of(db, seq, out, has, err);
out:
	st_sql_done(notes);
	st_sql_done(ins);
	st_sql_done(gone);
	st_sql_done(del);
	for (int i = 0; i < AUDIT_COVERED_TABLES; i++)
		st_sql_done(rows[i]);
	return ret;
}

int audit_cover_all(sqlite3 *db, int64_t seq, unsigned char *out, int *has,
		    struct st_error *err)
{
	sqlite3_stmt *rows = NULL, *ins = NULL;
	int ret = -1, rc = SQLITE_DONE;

	*has = 0;
	if (st_sql_prepare(db, &ins, COVER_INSERT, err))
		goto out;
	for (int i = 0; i < AUDIT_COVERED_TABLES; i++) {
		const char *t = audit_covered_tables[i];
		struct pk_info pk;
		char sql[128];

		snprintf(sql, sizeof(sql), "SELECT rowid, * FROM main.\"%s\"", t);
		if (pk_load(db, t, &pk, err) || st_sql_prepare(db, &rows, sql, err))
			goto out;
		while ((rc = sqlite3_step(rows)) == SQLITE_ROW)
			if (list_row(db, rows, ins, seq, t, &pk, err))
				goto out;
		if (rc != SQLITE_DONE) {
			st_sql_error(err, db, "cannot read the audit log");
			goto out;
		}
		sqlite3_finalize(rows);
		rows = NULL;
	}
	ret = covers_of(db, seq, out, has, err);
out:
	sqlite3_finalize(rows);
	sqlite3_finalize(ins);
	return ret;
}

/* ---- Checking ---------------------------------------------------------------------------- */

/* Writes key (as encoded) readably into out: its values joined by ", ", control characters
 * as '?', long texts cut. */
static void key_format(const unsigned char *key, size_t n, char *out, size_t outn)
{
	size_t i = 0, o = 0;

	out[0] = '\0';
	while (i < n && o + 1 < outn) {
		if (o && o + 2 < outn) {
			out[o++] = ',';
			out[o++] = ' ';
		}
		if (key[i] == 'n') {
			o += (size_t)snprintf(out + o, outn - o, "NULL");
			i++;
		} else if ((key[i] == 'i' || key[i] == 'f') && i + 9 <= n) {
			uint64_t v = 0;

			for (int k = 1; k <= 8; k++)
				v = v << 8 | key[i + (size_t)k];
			if (key[i] == 'i') {
				o += (size_t)snprintf(out + o, outn - o, "%lld", (long long)(int64_t)v);
			} else {
				double d;

				memcpy(&d, &v, sizeof(d));
				o += (size_t)snprintf(out + o, outn - o, "%g", d);
			}
			i += 9;
		} else if ((key[i] == 't' || key[i] == 'b') && i + 5 <= n) {
			size_t len = (size_t)key[i + 1] << 24 | (size_t)key[i + 2] << 16 |
				     (size_t)key[i + 3] << 8 | key[i + 4];
			const unsigned char *s = key + i + 5;

			if (len > n - i - 5)
				break;
			for (size_t k = 0; k < len && k < 64 && o + 2 < outn; k++) {
				if (key[i] == 'b') {
					out[o++] = "0123456789abcdef"[s[k] >> 4];
					out[o++] = "0123456789abcdef"[s[k] & 0xf];
				} else {
					out[o++] = s[k] < 0x20 || s[k] == 0x7f ? '?' : (char)s[k];
				}
			}
			if (len > 64 && o + 4 < outn)
				o += (size_t)snprintf(out + o, outn - o, "...");
			i += 5 + len;
		} else {
			break;
		}
		if (o >= outn)
			o = outn - 1;
	}
	out[o < outn ? o : outn - 1] = '\0';
}

/* Binds the values of key to ?1, ?2, ... of st. Returns 0, or -1 when key is malformed. */
static int key_bind(sqlite3_stmt *st, const unsigned char *key, size_t n)
{
	size_t i = 0;
	int at = 1;

	while (i < n) {
		if (key[i] == 'n') {
			sqlite3_bind_null(st, at++);
			i++;
		} else if ((key[i] == 'i' || key[i] == 'f') && i + 9 <= n) {
			uint64_t v = 0;

			for (int k = 1; k <= 8; k++)
				v = v << 8 | key[i + (size_t)k];
			if (key[i] == 'i') {
				sqlite3_bind_int64(st, at++, (int64_t)v);
			} else {
				double d;

				memcpy(&d, &v, sizeof(d));
				sqlite3_bind_double(st, at++, d);
			}
			i += 9;
		} else if ((key[i] == 't' || key[i] == 'b') && i + 5 <= n) {
			size_t len = (size_t)key[i + 1] << 24 | (size_t)key[i + 2] << 16 |
				     (size_t)key[i + 3] << 8 | key[i + 4];

			if (len > n - i - 5)
				return -1;
			if (key[i] == 't')
				sqlite3_bind_text(st, at++, (const char *)key + i + 5, (int)len,
						  SQLITE_STATIC);
			else
				sqlite3_bind_blob(st, at++, key + i + 5, (int)len, SQLITE_STATIC);
			i += 5 + len;
		} else {
			return -1;
		}
	}
	return 0;
}

/* Checks table t: every row matches the newest entry of its key, unless a command under
 * way is writing it; every newest entry that is not a deletion has its row. */
static int check_table(sqlite3 *db, const char *t,
		       void (*bad)(void *ctx, int64_t seq, const char *msg), void *ctx,
		       struct st_error *err)
{
	unsigned char key[AUDIT_KEY_MAX], digest[AUDIT_HASH_BYTES];
	sqlite3_stmt *rows = NULL, *latest = NULL, *busy = NULL, *live = NULL, *find = NULL;
	struct pk_info pk;
	char sql[1200], name[300], msg[512];
	int ret = -1, rc;
	size_t keylen;

	snprintf(sql, sizeof(sql), "SELECT rowid, * FROM main.\"%s\"", t);
	if (pk_load(db, t, &pk, err) || st_sql_prepare(db, &rows, sql, err) ||
	    st_sql_prepare(db, &latest,
			    "SELECT seq, digest FROM covered WHERE tbl = ?1 AND key = ?2"
			    " ORDER BY seq DESC LIMIT 1",
			    err) ||
	    st_sql_prepare(db, &busy,
			    "SELECT 1 FROM pending_rows r JOIN pending p ON p.id = r.pending_id"
			    " WHERE r.tbl = ?1 AND r.rid = ?2",
			    err) ||
	    st_sql_prepare(db, &live,
			    "SELECT key, seq FROM covered c WHERE tbl = ?1 AND digest IS NOT NULL"
			    " AND seq = (SELECT max(seq) FROM covered WHERE tbl = ?1 AND key = c.key)",
			    err))
		goto out;
	snprintf(sql, sizeof(sql), "SELECT 1 FROM main.\"%s\" WHERE %s", t, pk.where);
	if (st_sql_prepare(db, &find, sql, err))
		goto out;
	while ((rc = sqlite3_step(rows)) == SQLITE_ROW) {
		int64_t seq = 0;
		int lr, changed, known = 0;

		if (row_encode(rows, t, &pk, key, &keylen, digest, err))
			goto out;
		sqlite3_bind_text(latest, 1, t, -1, SQLITE_STATIC);
		sqlite3_bind_blob(latest, 2, key, (int)keylen, SQLITE_STATIC);
		lr = sqlite3_step(latest);
		if (lr == SQLITE_ROW) {
			seq = sqlite3_column_int64(latest, 0);
			known = sqlite3_column_type(latest, 1) != SQLITE_NULL;
		}
		changed = lr != SQLITE_ROW || sqlite3_column_bytes(latest, 1) != AUDIT_HASH_BYTES ||
			  memcmp(sqlite3_column_blob(latest, 1), digest, AUDIT_HASH_BYTES);
		sqlite3_reset(latest);
		if (!changed)
			continue;
		sqlite3_bind_text(busy, 1, t, -1, SQLITE_STATIC);
		sqlite3_bind_int64(busy, 2, sqlite3_column_int64(rows, 0));
		lr = sqlite3_step(busy);
		sqlite3_reset(busy);
		if (lr == SQLITE_ROW)
			continue; /* a command under way wrote it; its record will cover it */
		key_format(key, keylen, name, sizeof(name));
		if (known)
			snprintf(msg, sizeof(msg), "%s row (%s) was changed after record %lld wrote it",
				 t, name, (long long)seq);
		else
			snprintf(msg, sizeof(msg), "%s row (%s) was not written by a recorded command",
				 t, name);
		bad(ctx, seq, msg);
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	sqlite3_bind_text(live, 1, t, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(live)) == SQLITE_ROW) {
		const unsigned char *k = sqlite3_column_blob(live, 0);
		size_t n = (size_t)sqlite3_column_bytes(live, 0);
		int64_t seq = sqlite3_column_int64(live, 1);
		int fr;

		sqlite3_clear_bindings(find);
		if (n > AUDIT_KEY_MAX || key_bind(find, k, n)) {
			snprintf(msg, sizeof(msg), "the covered entry of a %s row is malformed", t);
			bad(ctx, seq, msg);
			continue;
		}
		fr = sqlite3_step(find);
		sqlite3_reset(find);
		if (fr == SQLITE_ROW)
			continue;
		key_format(k, n, name, sizeof(name));
		snprintf(msg, sizeof(msg), "%s row (%s) written by record %lld was deleted", t, name,
			 (long long)seq);
		bad(ctx, seq, msg);
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(rows);
	sqlite3_finalize(latest);
	sqlite3_finalize(busy);
	sqlite3_finalize(live);
	sqlite3_finalize(find);
	return ret;
}

int audit_cover_check(sqlite3 *db, void (*bad)(void *ctx, int64_t seq, const char *msg),
		      void *ctx, struct st_error *err)
{
	for (int i = 0; i < AUDIT_COVERED_TABLES; i++)
		if (check_table(db, audit_covered_tables[i], bad, ctx, err))
			return -1;
	return 0;
}
