/* The SQLite target: finds the subject's rows in one table with steward_match() and reads
 * or erases them in one transaction. */
#include "target.h"
#include "target_int.h"
#include "alloc.h"
#include "buf.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define SQL_MAX ((size_t)1 << 20)   /* one generated statement */
#define IN_LIST_MAX 256 /* more pseudonyms than this are matched by steward_match() */
#define BUSY_TIMEOUT_MS 5000

/* ---- SQLite ------------------------------------------------------------------------- */

struct sq {
	sqlite3 *db;
	const struct audit_target_job *job;
	const char *path, *table;
	int nbind;             /* pseudonyms bound as ?1..?n in the match condition */
	int matcher_failed;    /* steward_match() raised merr */
	struct st_error merr;
};

/* steward_match(x): 1 when x belongs to the subject. NULL never does; integers and reals
 * are compared as their text. Only callable from steward's own statements (DIRECTONLY),
 * never from the target's triggers or views. */
static void sql_match(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sq *s = sqlite3_user_data(ctx);
	const unsigned char *v;
	int r;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	v = sqlite3_value_text(argv[0]);
	if (!v) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	r = audit_matcher_test(s->job->match, (const char *)v, (size_t)sqlite3_value_bytes(argv[0]),
			       &s->merr);
	if (r < 0) {
		s->matcher_failed = 1;
		sqlite3_result_error(ctx, s->merr.msg, -1);
		return;
	}
	sqlite3_result_int(ctx, r);
}

/* Reports a failed SQLite call on the target: the matcher's own error if it raised one. */
static int sq_fail(struct sq *s, struct st_error *err, const char *what)
{
	if (s->matcher_failed) {
		*err = s->merr;
		return -1;
	}
	return st_error_set(err, ST_E_SYSTEM, "%s table '%s' of '%s': %s", what, s->table,
			    s->path, sqlite3_errmsg(s->db));
}

static int sq_exec(struct sq *s, const char *sql, struct st_error *err)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	return st_error_set(err, ST_E_SYSTEM, "cannot run '%s' on '%s': %s", sql, s->path,
			    sqlite3_errmsg(s->db));
}

/* Appends name as a quoted SQL identifier. */
static int add_ident(struct st_buf *b, const char *name)
{
	if (st_buf_add(b, "\"", 1))
		return -1;
	for (const char *p = name; *p; p++)
		if ((*p == '"' && st_buf_add(b, "\"", 1)) || st_buf_add(b, p, 1))
			return -1;
	return st_buf_add(b, "\"", 1);
}

/* Appends the condition that selects the subject's rows: a plain IN list for a few
 * pseudonyms, so an index on the column is used, else steward_match(). An erase by
 * nullify only selects rows that still hold something to erase, so a second run matches
 * nothing. */
static int add_cond(struct sq *s, struct st_buf *b)
{
	const struct audit_target_job *job = s->job;
	const struct audit_matcher *m = job->match;

	s->nbind = 0;
	if (!m->npseudonyms) {
		if (st_buf_adds(b, "0"))
			return -1;
	} else if (m->mode == AUDIT_MATCH_PSEUDONYM && m->npseudonyms <= IN_LIST_MAX) {
		/* BINARY: a NOCASE column must not match pseudonyms that differ in case */
		if (add_ident(b, job->match_field) || st_buf_adds(b, " COLLATE BINARY IN ("))
			return -1;
		for (size_t i = 0; i < m->npseudonyms; i++)
			if (st_buf_adds(b, i ? ",?" : "?"))
				return -1;
		if (st_buf_adds(b, ")"))
			return -1;
		s->nbind = (int)m->npseudonyms;
	} else if (st_buf_adds(b, "steward_match(") || add_ident(b, job->match_field) ||
		   st_buf_adds(b, ")")) {
		return -1;
	}
	if (job->kind != AUDIT_JOB_ERASE || job->erase_action != AUDIT_ERASE_NULLIFY)
		return 0;
	if (st_buf_adds(b, " AND ("))
		return -1;
	for (size_t i = 0; i < job->nnullify; i++)
		if ((i && st_buf_adds(b, " OR ")) || add_ident(b, job->nullify[i]) ||
		    st_buf_adds(b, " IS NOT NULL"))
			return -1;
	return st_buf_adds(b, ")");
}

/* Prepares sql and binds the pseudonyms of the match condition. */
static int sq_prepare(struct sq *s, sqlite3_stmt **st, const struct st_buf *sql,
		      const char *what, struct st_error *err)
{
	if (sqlite3_prepare_v2(s->db, st_buf_str(sql), (int)sql->len, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return sq_fail(s, err, what);
	}
	for (int i = 0; i < s->nbind; i++)
		if (sqlite3_bind_text(*st, i + 1, s->job->match->pseudonyms[i], -1,
				      SQLITE_STATIC) != SQLITE_OK)
			return sq_fail(s, err, what);
	return 0;
}

/* Checks that the table exists and has every column the job names. */
static int sq_check_columns(struct sq *s, struct st_error *err)
{
	const struct audit_target_job *job = s->job;
	sqlite3_stmt *st = NULL;
	int ret = -1;
	size_t nnames = 2 + job->nnullify;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT count(*), coalesce(sum(name = ?2 COLLATE NOCASE), 0) "
			       "FROM pragma_table_info(?1)",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, s->table, -1, SQLITE_STATIC) != SQLITE_OK) {
		sq_fail(s, err, "cannot read the columns of");
		goto out;
	}
	for (size_t i = 0; i < nnames; i++) {
		const char *name = i == 0 ? job->match_field
				   : i == 1 ? job->subject_field
					    : job->nullify[i - 2];

		if (!name)
			continue;
		sqlite3_reset(st);
		if (sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_ROW) {
			sq_fail(s, err, "cannot read the columns of");
			goto out;
		}
		if (!sqlite3_column_int64(st, 0)) {
			st_error_set(err, ST_E_INVALID, "no table '%s' in '%s'", s->table, s->path);
			goto out;
		}
		if (!sqlite3_column_int64(st, 1)) {
			st_error_set(err, ST_E_INVALID, "no column '%s' in table '%s' of '%s'", name,
				     s->table, s->path);
			goto out;
		}
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* A column value as JSON: text as a string (base64 when it is not UTF-8), blobs as
 * base64 text, numbers as numbers. NULL on out of memory. */
static json_t *sq_json_value(sqlite3_stmt *st, int i)
{
	const void *p;
	size_t n, b64len;
	char *b64;
	json_t *v = NULL;

	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		return json_null();
	case SQLITE_INTEGER:
		return json_integer((json_int_t)sqlite3_column_int64(st, i));
	case SQLITE_FLOAT:
		v = json_real(sqlite3_column_double(st, i));
		return v ? v : json_null(); /* infinities have no JSON form */
	case SQLITE_TEXT:
		p = sqlite3_column_text(st, i);
		n = (size_t)sqlite3_column_bytes(st, i);
		v = p ? json_stringn(p, n) : NULL;
		if (v)
			return v;
		break;
	default:
		break;
	}
	p = sqlite3_column_blob(st, i);
	n = (size_t)sqlite3_column_bytes(st, i);
	b64len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	b64 = st_malloc(b64len);
	if (!b64)
		return NULL;
	sodium_bin2base64(b64, b64len, p ? p : (const void *)"", n,
			  sodium_base64_VARIANT_ORIGINAL);
	v = json_string(b64);
	sodium_memzero(b64, b64len);
	st_free(b64);
	return v;
}

/* One matched row as a JSON object of its columns from `first` on. */
static int sq_add_row(struct st_buf *rows, sqlite3_stmt *st, int first, struct st_error *err)
{
	json_t *row = json_object(), *v;
	int ret = -1;

	if (!row)
		return st_error_oom(err);
	for (int i = first; i < sqlite3_column_count(st); i++) {
		v = sq_json_value(st, i);
		if (!v || json_object_set_new(row, sqlite3_column_name(st, i), v)) {
			st_error_oom(err);
			goto out;
		}
	}
	ret = audit_rows_add(rows, row, err);
out:
	json_decref(row);
	return ret;
}

/* Keeps the subject value in column 0 of the current row of st (none when NULL). Returns
 * 0, or -1 with err on out of memory. */
static int sq_subject_value(struct audit_values *vs, sqlite3_stmt *st, struct st_error *err)
{
	const unsigned char *v;

	if (sqlite3_column_type(st, 0) == SQLITE_NULL)
		return 0;
	v = sqlite3_column_text(st, 0);
	if (!v || audit_values_add(vs, (const char *)v, (size_t)sqlite3_column_bytes(st, 0)))
		return st_error_oom(err);
	return 0;
}

/* The SELECT pass: counts the subject's rows and collects subject values and, for access
 * requests, the rows. */
static int sq_select(struct sq *s, struct audit_values *vs, struct st_buf *rows, int64_t *matched,
		     struct st_error *err)
{
	const struct audit_target_job *job = s->job;
	struct st_buf sql;
	sqlite3_stmt *st = NULL;
	int ret = -1, rc, first = 0;

	st_buf_init(&sql, SQL_MAX);
	if (st_buf_adds(&sql, "SELECT ") ||
	    (job->subject_field && (add_ident(&sql, job->subject_field) ||
				    st_buf_adds(&sql, job->kind == AUDIT_JOB_ACCESS ? ", " : ""))) ||
	    (job->kind == AUDIT_JOB_ACCESS && st_buf_adds(&sql, "*")) ||
	    (!job->subject_field && job->kind != AUDIT_JOB_ACCESS && st_buf_adds(&sql, "1")) ||
	    st_buf_adds(&sql, " FROM ") || add_ident(&sql, s->table) ||
	    st_buf_adds(&sql, " WHERE ") || add_cond(s, &sql)) {
		st_error_oom(err);
		goto out;
	}
	if (sq_prepare(s, &st, &sql, "cannot read", err))
		goto out;
	if (job->subject_field)
		first = 1;
	*matched = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		++*matched;
		if (job->subject_field && sq_subject_value(vs, st, err))
			goto out;
		if (job->kind == AUDIT_JOB_ACCESS && sq_add_row(rows, st, first, err))
			goto out;
	}
	if (rc != SQLITE_DONE) {
		sq_fail(s, err, "cannot read");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	st_buf_release(&sql);
	return ret;
}

/* The erase: DELETE or UPDATE ... SET col = NULL over the subject's rows. A DELETE also
 * returns the subject values of the rows it removes (vs), so that it is the only pass over
 * the table before the re-scan: with raw values, a pass hashes every row. */
static int sq_erase(struct sq *s, struct audit_values *vs, int64_t *changed, struct st_error *err)
{
	const struct audit_target_job *job = s->job;
	struct st_buf sql;
	sqlite3_stmt *st = NULL;
	int ret = -1, oom = 0, rc;

	st_buf_init(&sql, SQL_MAX);
	if (job->erase_action == AUDIT_ERASE_DELETE) {
		oom = st_buf_adds(&sql, "DELETE FROM ") || add_ident(&sql, s->table);
	} else {
		oom = st_buf_adds(&sql, "UPDATE ") || add_ident(&sql, s->table) ||
		      st_buf_adds(&sql, " SET ");
		for (size_t i = 0; !oom && i < job->nnullify; i++)
			oom = (i && st_buf_adds(&sql, ", ")) || add_ident(&sql, job->nullify[i]) ||
			      st_buf_adds(&sql, " = NULL");
	}
	if (oom || st_buf_adds(&sql, " WHERE ") || add_cond(s, &sql) ||
	    (job->erase_action == AUDIT_ERASE_DELETE &&
	     (st_buf_adds(&sql, " RETURNING ") ||
	      (job->subject_field ? add_ident(&sql, job->subject_field)
				  : st_buf_adds(&sql, "1"))))) {
		st_error_oom(err);
		goto out;
	}
	if (sq_prepare(s, &st, &sql, "cannot erase from", err))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (job->subject_field && sq_subject_value(vs, st, err))
			goto out;
	if (rc != SQLITE_DONE) {
		sq_fail(s, err, "cannot erase from");
		goto out;
	}
	*changed = sqlite3_changes(s->db);
	ret = 0;
out:
	sqlite3_finalize(st);
	st_buf_release(&sql);
	return ret;
}

/* The re-scan after an erase: counts the rows the match condition still selects, in a
 * transaction of its own after the erase committed (a trigger or another writer may have
 * put rows back). */
static int sq_verify(struct sq *s, long *remaining, struct st_error *err)
{
	struct st_buf sql;
	sqlite3_stmt *st = NULL;
	int ret = -1;

	st_buf_init(&sql, SQL_MAX);
	if (st_buf_adds(&sql, "SELECT count(*) FROM ") || add_ident(&sql, s->table) ||
	    st_buf_adds(&sql, " WHERE ") || add_cond(s, &sql)) {
		st_error_oom(err);
		goto out;
	}
	if (sq_prepare(s, &st, &sql, "cannot verify", err))
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sq_fail(s, err, "cannot verify");
		goto out;
	}
	*remaining = (long)sqlite3_column_int64(st, 0);
	ret = 0;
out:
	sqlite3_finalize(st);
	st_buf_release(&sql);
	return ret;
}

/* Runs job on a table: everything in one transaction, rolled back on any failure. */
int audit_sqlite_run(const struct audit_target_job *job, const struct target_uri *u,
		      struct audit_evidence *ev, struct st_error *err)
{
	struct sq s;
	struct audit_values vs = {0};
	struct st_buf rows, path;
	struct stat sb;
	int ret = -1, in_tx = 0, rc;
	int64_t matched = 0, changed = 0;

	memset(&s, 0, sizeof(s));
	s.job = job;
	s.path = u->path;
	s.table = u->table;
	st_error_init(&s.merr);
	st_buf_init(&rows, ROWS_MAX);
	st_buf_init(&path, PATH_MAX_LEN);
	if (stat(u->path, &sb)) {
		st_error_set(err, ST_E_SYSTEM, "cannot open '%s': %s", u->path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		st_error_set(err, ST_E_SYSTEM, "cannot open '%s': not a regular file", u->path);
		goto out;
	}
	/* "./" keeps a relative name that starts with "file:" from being read as a URI */
	if (st_buf_adds(&path, u->path[0] == '/' ? "" : "./") || st_buf_adds(&path, u->path)) {
		st_error_set(err, ST_E_INVALID, "path '%s' is too long", u->path);
		goto out;
	}
	rc = sqlite3_open_v2(st_buf_str(&path), &s.db, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		if (!s.db)
			st_error_oom(err);
		else
			st_error_set(err, ST_E_SYSTEM, "cannot open '%s': %s", u->path,
				     sqlite3_errmsg(s.db));
		goto out;
	}
	sqlite3_busy_timeout(s.db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(s.db, 1);
	if (sq_exec(&s, "PRAGMA secure_delete = ON", err))
		goto out;
	if (sqlite3_create_function_v2(s.db, "steward_match", 1,
				       SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, &s,
				       sql_match, NULL, NULL, NULL) != SQLITE_OK) {
		st_error_set(err, ST_E_SYSTEM, "cannot open '%s': %s", u->path,
			     sqlite3_errmsg(s.db));
		goto out;
	}
	if (sq_exec(&s, job->kind == AUDIT_JOB_ERASE ? "BEGIN IMMEDIATE" : "BEGIN", err))
		goto out;
	in_tx = 1;
	if (sq_check_columns(&s, err))
		goto out;
	if (job->kind == AUDIT_JOB_ERASE && job->erase_action == AUDIT_ERASE_DELETE) {
		if (sq_erase(&s, &vs, &changed, err))
			goto out;
		matched = changed;
	} else if (sq_select(&s, &vs, &rows, &matched, err) ||
		   (job->kind == AUDIT_JOB_ERASE && matched && sq_erase(&s, &vs, &changed, err))) {
		goto out;
	}
	if (sq_exec(&s, "COMMIT", err))
		goto out;
	in_tx = 0;
	/* in WAL mode the erased rows' old pages stay in the database file until a
	 * checkpoint; one is tried now, and left to SQLite if readers hold it off */
	if (changed)
		sqlite3_exec(s.db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	/* verified, never assumed */
	if (job->kind == AUDIT_JOB_ERASE && sq_verify(&s, &ev->remaining, err))
		goto out;
	if (job->kind == AUDIT_JOB_ACCESS && audit_rows_finish(&rows, ev, err))
		goto out;
	ev->visited = 1;
	ev->matched = (long)matched;
	ev->changed = changed;
	if (job->kind == AUDIT_JOB_ERASE)
		ev->erased = (long)changed;
	audit_values_finish(&vs, ev);
	ret = 0;
out:
	if (in_tx)
		sqlite3_exec(s.db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(s.db);
	audit_values_release(&vs);
	audit_rows_release(&rows);
	st_buf_release(&path);
	return ret;
}
