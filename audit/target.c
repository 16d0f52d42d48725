/* Data-subject request targets: the subject matcher, target URIs, the dispatcher and the
 * two local targets, a SQLite table (one transaction) and a directory of JSON lines files
 * (temporary file, fsync, rename). The HTTP target is in target_http.c. */
#include "target.h"
#include "target_int.h"
#include "alloc.h"
#include "buf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SQL_MAX ((size_t)1 << 20)   /* one generated statement */
#define ROWS_MAX ((size_t)64 << 20) /* an access request's rows as JSON text */
#define PATH_MAX_LEN 4096
#define IN_LIST_MAX 256 /* more pseudonyms than this are matched by steward_match() */
#define BUSY_TIMEOUT_MS 5000

enum target_kind { TARGET_SQLITE, TARGET_JSONL, TARGET_HTTP };

struct target_uri {
	int kind;    /* enum target_kind */
	char *path;  /* sqlite: the database file; jsonl: the directory */
	char *table; /* sqlite */
};

/* ---- The matcher -------------------------------------------------------------------- */

struct span {
	const char *p;
	size_t n;
};

/* bsearch order for a counted string against a NUL-terminated one, the same as strcmp's. */
static int span_cmp(const void *key, const void *elem)
{
	const struct span *k = key;
	const char *s = *(char *const *)elem;
	size_t n = strlen(s);
	int c = k->n && n ? memcmp(k->p, s, k->n < n ? k->n : n) : 0;

	if (c)
		return c;
	return k->n < n ? -1 : k->n > n;
}

int audit_matcher_test(const struct audit_matcher *m, const char *value, size_t len,
		       struct st_error *err)
{
	char pseudo[PII_PSEUDONYM_MAX];
	struct span key = {value ? value : "", value ? len : 0};
	int n;

	if (!m->npseudonyms)
		return 0;
	if (m->mode == AUDIT_MATCH_PSEUDONYM)
		return bsearch(&key, m->pseudonyms, m->npseudonyms, sizeof(*m->pseudonyms),
			       span_cmp) != NULL;
	if (m->mode != AUDIT_MATCH_RAW)
		return st_error_set(err, ST_E_INVALID, "unknown match mode %d", m->mode);
	if (!m->hasher || !m->category)
		return st_error_set(err, ST_E_INVALID,
				    "matching raw values needs a hasher and a category");
	n = pii_pseudonymize(m->hasher, m->norm, m->category, key.p, key.n, m->country_code, pseudo,
			     err);
	if (n == PII_NOT_OF_KIND)
		return 0; /* not an address, number, ...: not the subject's */
	if (n < 0)
		return -1;
	key.p = pseudo;
	key.n = (size_t)n;
	return bsearch(&key, m->pseudonyms, m->npseudonyms, sizeof(*m->pseudonyms), span_cmp) !=
	       NULL;
}

/* ---- URIs --------------------------------------------------------------------------- */

static int has_prefix(const char *s, const char *prefix)
{
	return !strncasecmp(s, prefix, strlen(prefix));
}

/* An SQL identifier steward accepts in a URI: [A-Za-z_][A-Za-z0-9_]*. */
static int is_ident(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static void uri_release(struct target_uri *u)
{
	st_free(u->path);
	st_free(u->table);
	u->path = u->table = NULL;
}

/* Splits uri into u (release with uri_release() in every case). Returns 0, or -1 with err
 * (ST_E_INVALID). */
static int parse_uri(const char *uri, struct target_uri *u, struct st_error *err)
{
	const char *path, *q;

	memset(u, 0, sizeof(*u));
	if (!uri || !*uri)
		return st_error_set(err, ST_E_INVALID, "empty target (use sqlite:PATH?table=NAME, "
						       "jsonl:DIR, http://... or https://...)");
	if (has_prefix(uri, "sqlite:")) {
		path = uri + strlen("sqlite:");
		q = strrchr(path, '?');
		if (!q || strncmp(q, "?table=", 7))
			return st_error_set(err, ST_E_INVALID,
					    "target '%s' names no table (use sqlite:PATH?table=NAME)",
					    uri);
		if (q == path)
			return st_error_set(err, ST_E_INVALID,
					    "target '%s' names no database file (use "
					    "sqlite:PATH?table=NAME)",
					    uri);
		if (!is_ident(q + 7))
			return st_error_set(err, ST_E_INVALID,
					    "invalid table name '%s' in target '%s' (letters, digits "
					    "and '_', not starting with a digit)",
					    q + 7, uri);
		u->kind = TARGET_SQLITE;
		u->path = st_strndup(path, (size_t)(q - path));
		u->table = st_strdup(q + 7);
		if (!u->path || !u->table)
			return st_error_oom(err);
		return 0;
	}
	if (has_prefix(uri, "jsonl:")) {
		path = uri + strlen("jsonl:");
		if (!*path)
			return st_error_set(err, ST_E_INVALID,
					    "target '%s' names no directory (use jsonl:DIR)", uri);
		u->kind = TARGET_JSONL;
		u->path = st_strdup(path);
		return u->path ? 0 : st_error_oom(err);
	}
	if (has_prefix(uri, "http://") || has_prefix(uri, "https://")) {
		u->kind = TARGET_HTTP;
		return audit_http_check_uri(uri, err);
	}
	if (has_prefix(uri, "http:") || has_prefix(uri, "https:")) {
		char shown[256];

		audit_http_redact(uri, shown, sizeof(shown));
		return st_error_set(err, ST_E_INVALID, "invalid url '%s' (use http://HOST/...)",
				    shown);
	}
	return st_error_set(err, ST_E_INVALID,
			    "unsupported target '%s' (use sqlite:PATH?table=NAME, jsonl:DIR, "
			    "http://... or https://...)",
			    uri);
}

int audit_target_check_uri(const char *uri, struct st_error *err)
{
	struct target_uri u;
	int ret = parse_uri(uri, &u, err);

	uri_release(&u);
	return ret;
}

/* ---- Evidence ----------------------------------------------------------------------- */

void audit_evidence_release(struct audit_evidence *ev)
{
	for (size_t i = 0; i < ev->nsubject_values; i++) {
		sodium_memzero(ev->subject_values[i], strlen(ev->subject_values[i]));
		st_free(ev->subject_values[i]);
	}
	st_free(ev->subject_values);
	ev->subject_values = NULL;
	ev->nsubject_values = 0;
	if (ev->rows_json) {
		sodium_memzero(ev->rows_json, strlen(ev->rows_json));
		st_free(ev->rows_json);
		ev->rows_json = NULL;
	}
}

/* Subject values as they are collected: an array that grows, moved into ev at the end. */
struct values {
	char **v;
	size_t n, cap;
};

static int values_add(struct values *vs, const char *s, size_t n)
{
	char *copy;

	if (st_grow(&vs->v, &vs->cap, vs->n + 1, sizeof(*vs->v)))
		return -1;
	copy = st_strndup(s, n);
	if (!copy)
		return -1;
	vs->v[vs->n++] = copy;
	return 0;
}

static void values_release(struct values *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		sodium_memzero(vs->v[i], strlen(vs->v[i]));
		st_free(vs->v[i]);
	}
	st_free(vs->v);
	memset(vs, 0, sizeof(*vs));
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the values, drops duplicates and hands them to ev. */
static void values_finish(struct values *vs, struct audit_evidence *ev)
{
	size_t k = 0;

	if (vs->n)
		qsort(vs->v, vs->n, sizeof(*vs->v), strp_cmp);
	for (size_t i = 0; i < vs->n; i++) {
		if (k && !strcmp(vs->v[k - 1], vs->v[i])) {
			sodium_memzero(vs->v[i], strlen(vs->v[i]));
			st_free(vs->v[i]);
			continue;
		}
		vs->v[k++] = vs->v[i];
	}
	ev->subject_values = vs->v;
	ev->nsubject_values = k;
	memset(vs, 0, sizeof(*vs));
}

/* An access request's rows: "[" row "," row ... "]" in a bounded buffer. */
static int rows_add(struct st_buf *rows, json_t *row, struct st_error *err)
{
	char *text = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int ret = -1;

	if (!text)
		return st_error_oom(err);
	if (st_buf_adds(rows, rows->len ? "," : "[") || st_buf_adds(rows, text)) {
		st_error_set(err, ST_E_SYSTEM, "the subject's rows are over %zu MiB",
			     ROWS_MAX >> 20);
		goto out;
	}
	ret = 0;
out:
	sodium_memzero(text, strlen(text));
	free(text); /* jansson's allocator */
	return ret;
}

/* Closes the array and hands it to ev. */
static int rows_finish(struct st_buf *rows, struct audit_evidence *ev, struct st_error *err)
{
	if (st_buf_adds(rows, rows->len ? "]" : "[]"))
		return st_error_set(err, ST_E_SYSTEM, "the subject's rows are over %zu MiB",
				    ROWS_MAX >> 20);
	ev->rows_json = st_buf_detach(rows);
	return ev->rows_json ? 0 : st_error_oom(err);
}

static void rows_release(struct st_buf *rows)
{
	if (rows->p)
		sodium_memzero(rows->p, rows->cap);
	st_buf_release(rows);
}

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
	ret = rows_add(rows, row, err);
out:
	json_decref(row);
	return ret;
}

/* The SELECT pass: counts the subject's rows and collects subject values and, for access
 * requests, the rows. */
static int sq_select(struct sq *s, struct values *vs, struct st_buf *rows, int64_t *matched,
		     struct st_error *err)
{
	const struct audit_target_job *job = s->job;
	struct st_buf sql;
	sqlite3_stmt *st = NULL;
	int ret = -1, rc, first = 0;
	const unsigned char *v;

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
		if (job->subject_field && sqlite3_column_type(st, 0) != SQLITE_NULL) {
			v = sqlite3_column_text(st, 0);
			if (!v || values_add(vs, (const char *)v, (size_t)sqlite3_column_bytes(st, 0))) {
				st_error_oom(err);
				goto out;
			}
		}
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

/* The erase: DELETE or UPDATE ... SET col = NULL over the subject's rows. */
static int sq_erase(struct sq *s, int64_t *changed, struct st_error *err)
{
	const struct audit_target_job *job = s->job;
	struct st_buf sql;
	sqlite3_stmt *st = NULL;
	int ret = -1, oom = 0;

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
	if (oom || st_buf_adds(&sql, " WHERE ") || add_cond(s, &sql)) {
		st_error_oom(err);
		goto out;
	}
	if (sq_prepare(s, &st, &sql, "cannot erase from", err))
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
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

/* Runs job on a table: everything in one transaction, rolled back on any failure. */
static int run_sqlite(const struct audit_target_job *job, const struct target_uri *u,
		      struct audit_evidence *ev, struct st_error *err)
{
	struct sq s;
	struct values vs = {0};
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
	if (sq_check_columns(&s, err) || sq_select(&s, &vs, &rows, &matched, err))
		goto out;
	if (job->kind == AUDIT_JOB_ERASE && matched && sq_erase(&s, &changed, err))
		goto out;
	if (sq_exec(&s, "COMMIT", err))
		goto out;
	in_tx = 0;
	/* in WAL mode the erased rows' old pages stay in the database file until a
	 * checkpoint; one is tried now, and left to SQLite if readers hold it off */
	if (changed)
		sqlite3_exec(s.db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	if (job->kind == AUDIT_JOB_ACCESS && rows_finish(&rows, ev, err))
		goto out;
	ev->matched = matched;
	ev->changed = changed;
	values_finish(&vs, ev);
	ret = 0;
out:
	if (in_tx)
		sqlite3_exec(s.db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(s.db);
	values_release(&vs);
	rows_release(&rows);
	st_buf_release(&path);
	return ret;
}

/* ---- JSON lines --------------------------------------------------------------------- */

struct jfile {
	char *path;
	char *tmp;       /* the rewritten content, until renamed over path */
	struct stat sb;  /* as first read, to notice a writer in between */
	int64_t matched; /* lines of the subject */
	int64_t changed; /* lines dropped or rewritten in tmp */
};

struct jl {
	const struct audit_target_job *job;
	struct values *vs;
	struct st_buf *rows;
	int64_t unparsed; /* lines kept because they are not JSON objects */
};

static char *path_join(const char *dir, const char *name)
{
	struct st_buf b;

	st_buf_init(&b, PATH_MAX_LEN);
	if (st_buf_adds(&b, dir) || st_buf_adds(&b, "/") || st_buf_adds(&b, name)) {
		st_buf_release(&b);
		return NULL;
	}
	return st_buf_detach(&b);
}

static void jfiles_free(struct jfile *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (f[i].tmp)
			unlink(f[i].tmp);
		st_free(f[i].tmp);
		st_free(f[i].path);
	}
	st_free(f);
}

static int jfile_cmp(const void *a, const void *b)
{
	return strcmp(((const struct jfile *)a)->path, ((const struct jfile *)b)->path);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* Lists the regular files in dir whose names end in ".jsonl", sorted. A symbolic link is
 * an error: renaming over it would replace the link, not the data it points to. */
static int jl_list(const char *dir, struct jfile **out, size_t *nout, struct st_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct jfile *f = NULL;
	size_t n = 0, cap = 0;
	struct stat sb;
	int ret = -1;

	if (!d)
		return st_error_set(err, ST_E_SYSTEM, "cannot open directory '%s': %s", dir,
				    strerror(errno));
	for (errno = 0; (e = readdir(d)); errno = 0) {
		if (!ends_with(e->d_name, ".jsonl"))
			continue;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW)) {
			st_error_set(err, ST_E_SYSTEM, "cannot read '%s/%s': %s", dir, e->d_name,
				     strerror(errno));
			goto out;
		}
		if (S_ISLNK(sb.st_mode)) {
			st_error_set(err, ST_E_INVALID,
				     "'%s/%s' is a symbolic link (steward rewrites regular files "
				     "only)",
				     dir, e->d_name);
			goto out;
		}
		if (!S_ISREG(sb.st_mode))
			continue;
		if (st_grow(&f, &cap, n + 1, sizeof(*f))) {
			st_error_oom(err);
			goto out;
		}
		memset(&f[n], 0, sizeof(*f));
		f[n].path = path_join(dir, e->d_name);
		if (!f[n].path) {
			st_error_oom(err);
			goto out;
		}
		n++;
	}
	if (errno) {
		st_error_set(err, ST_E_SYSTEM, "cannot read directory '%s': %s", dir,
			     strerror(errno));
		goto out;
	}
	if (n)
		qsort(f, n, sizeof(*f), jfile_cmp);
	*out = f;
	*nout = n;
	f = NULL;
	n = 0;
	ret = 0;
out:
	closedir(d);
	jfiles_free(f, n);
	return ret;
}

/* Whether a record has a key to nullify that is not null yet. */
static int jl_has_nullable(const struct audit_target_job *job, json_t *root)
{
	json_t *v;

	for (size_t i = 0; i < job->nnullify; i++)
		if ((v = json_object_get(root, job->nullify[i])) && !json_is_null(v))
			return 1;
	return 0;
}

/* A value of a record as text, for matching and subject values: strings and integers
 * only. Returns its length, or -1 when it has neither form. */
static int jl_text(json_t *v, const char **text, char *num, size_t numn)
{
	int n;

	if (json_is_string(v)) {
		*text = json_string_value(v);
		return json_string_length(v) > 0x7fffffff ? -1 : (int)json_string_length(v);
	}
	if (json_is_integer(v)) {
		n = snprintf(num, numn, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		*text = num;
		return n < 0 || (size_t)n >= numn ? -1 : n;
	}
	return -1;
}

/* Whether a record belongs to the subject (and, for nullify, still has something to
 * erase). Returns 1 or 0, or -1 with err. */
static int jl_match(const struct audit_target_job *job, json_t *root, struct st_error *err)
{
	char num[32];
	const char *text;
	int n = jl_text(json_object_get(root, job->match_field), &text, num, sizeof(num)), r;

	if (n < 0)
		return 0;
	r = audit_matcher_test(job->match, text, (size_t)n, err);
	sodium_memzero(num, sizeof(num));
	if (r == 1 && job->kind == AUDIT_JOB_ERASE && job->erase_action == AUDIT_ERASE_NULLIFY)
		r = jl_has_nullable(job, root);
	return r;
}

/* Collects what a matched record gives an access request or the caller. */
static int jl_collect(struct jl *c, json_t *root, struct st_error *err)
{
	char num[32];
	const char *text;
	int n, ret = 0;

	if (c->job->subject_field) {
		n = jl_text(json_object_get(root, c->job->subject_field), &text, num, sizeof(num));
		if (n >= 0 && values_add(c->vs, text, (size_t)n))
			ret = st_error_oom(err);
		sodium_memzero(num, sizeof(num));
	}
	if (!ret && c->job->kind == AUDIT_JOB_ACCESS)
		ret = rows_add(c->rows, root, err);
	return ret;
}

/* Writes a nullified record in place of the line it came from, keeping its line end. */
static int jl_write_nullified(const struct audit_target_job *job, json_t *root,
			      const char *end, FILE *out, struct st_error *err)
{
	char *text;
	int ret = 0;

	for (size_t i = 0; i < job->nnullify; i++)
		if (json_object_get(root, job->nullify[i]) &&
		    json_object_set_new(root, job->nullify[i], json_null()))
			return st_error_oom(err);
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		return st_error_oom(err);
	if (fputs(text, out) == EOF || fputs(end, out) == EOF)
		ret = -1; /* reported by the caller from ferror() */
	sodium_memzero(text, strlen(text));
	free(text); /* jansson's allocator */
	return ret;
}

/* Temporary files are DIR/.NAME.jsonl.steward-tmp.XXXXXX: hidden, and never *.jsonl. */
#define JL_TMP_MARK ".steward-tmp."

/* The longest line a jsonl target may hold; a longer one stops the job, changing nothing. */
#define JL_MAX_LINE (64u << 20)

/* Reads one line (newline included; NUL bytes kept) into *line, growing it up to max
 * bytes. Returns its length, 0 at the end of the file, -1 on a read error or out of memory,
 * -2 when the line is longer than max (nothing more of it is read). */
static ssize_t jl_getline(char **line, size_t *cap, FILE *in, size_t max)
{
	size_t len = 0;
	int ch;

	while ((ch = getc_unlocked(in)) != EOF) {
		if (len + 1 >= *cap) {
			size_t want = *cap ? *cap * 2 : 4096;
			char *p;

			if (len >= max)
				return -2;
			if (want > max + 2)
				want = max + 2;
			if (!(p = st_realloc(*line, want)))
				return -1;
			*line = p;
			*cap = want;
		}
		(*line)[len++] = (char)ch;
		if (ch == '\n')
			break;
	}
	if (ch == EOF && ferror(in))
		return -1;
	if (len)
		(*line)[len] = '\0';
	return (ssize_t)len;
}

/* Reads one file line by line. Without out (the first pass), counts the subject's records
 * and collects from them; with out, writes the file's new content there: records of the
 * subject dropped or nullified, every other line copied byte for byte. */
static int jl_scan(struct jl *c, struct jfile *f, FILE *in, FILE *out, int64_t *changed,
		   struct st_error *err)
{
	const struct audit_target_job *job = c->job;
	char *line = NULL;
	size_t cap = 0, body, lineno = 0;
	ssize_t n;
	json_t *root = NULL;
	json_error_t jerr;
	int ret = -1, r;

	while ((n = jl_getline(&line, &cap, in, JL_MAX_LINE)) > 0) {
		lineno++;
		body = (size_t)n;
		if (body && line[body - 1] == '\n')
			body--;
		if (body && line[body - 1] == '\r')
			body--;
		r = 0;
		if (strspn(line, " \t\r\n") < (size_t)n) {
			root = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
			if (!root || !json_is_object(root))
				c->unparsed += !out;
			else if ((r = jl_match(job, root, err)) < 0)
				goto out;
		}
		if (!r) {
			if (out && fwrite(line, 1, (size_t)n, out) != (size_t)n)
				goto write_error;
		} else if (!out) {
			f->matched++;
			if (jl_collect(c, root, err))
				goto out;
		} else {
			++*changed;
			if (job->kind == AUDIT_JOB_ERASE && job->erase_action == AUDIT_ERASE_NULLIFY &&
			    jl_write_nullified(job, root, line + body, out, err)) {
				if (!ferror(out))
					goto out; /* out of memory, already reported */
				goto write_error;
			}
		}
		json_decref(root);
		root = NULL;
	}
	if (n == -2) {
		st_error_set(err, ST_E_INVALID,
			     "line %zu of '%s' is longer than %u MiB; the target was not changed",
			     lineno + 1, f->path, JL_MAX_LINE >> 20);
		goto out;
	}
	/* A failed read or allocation is not the end: taking it for one would drop the rest
	 * of the file. */
	if (n < 0 || ferror(in) || !feof(in)) {
		st_error_set(err, ST_E_SYSTEM, "cannot read '%s': %s", f->path,
			     n < 0 && !ferror(in) ? "out of memory" : strerror(errno));
		goto out;
	}
	ret = 0;
	goto out;
write_error:
	st_error_set(err, ST_E_SYSTEM, "cannot write '%s': %s", f->tmp, strerror(errno));
out:
	json_decref(root);
	if (line) {
		sodium_memzero(line, cap);
		st_free(line);
	}
	return ret;
}

/* Opens a file of the target for reading, refusing symbolic links. */
static FILE *jl_open(const char *path, struct stat *sb, struct st_error *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	FILE *f;

	if (fd < 0 || fstat(fd, sb)) {
		st_error_set(err, ST_E_SYSTEM, "cannot open '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		st_error_oom(err);
	}
	return f;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Writes f's new content to a temporary file next to it, with its mode and (when allowed)
 * its owner, and syncs it. */
static int jl_rewrite(struct jl *c, struct jfile *f, struct st_error *err)
{
	const char *slash = strrchr(f->path, '/');
	struct st_buf tmp;
	struct stat sb;
	FILE *in = NULL, *out = NULL;
	int fd = -1, ret = -1, rc;

	st_buf_init(&tmp, PATH_MAX_LEN);
	if (st_buf_add(&tmp, f->path, (size_t)(slash - f->path) + 1) ||
	    st_buf_addf(&tmp, ".%s" JL_TMP_MARK "XXXXXX", slash + 1)) {
		st_error_set(err, ST_E_SYSTEM, "path '%s' is too long", f->path);
		goto out;
	}
	f->tmp = st_buf_detach(&tmp);
	if (!f->tmp) {
		st_error_oom(err);
		goto out;
	}
	in = jl_open(f->path, &sb, err);
	if (!in)
		goto out;
	if (!same_file(&sb, &f->sb)) {
		st_error_set(err, ST_E_SYSTEM, "'%s' changed while it was read", f->path);
		goto out;
	}
	fd = mkstemp(f->tmp);
	if (fd < 0) {
		st_error_set(err, ST_E_SYSTEM, "cannot create '%s': %s", f->tmp, strerror(errno));
		st_free(f->tmp);
		f->tmp = NULL;
		goto out;
	}
	if (fchmod(fd, f->sb.st_mode & 07777)) {
		st_error_set(err, ST_E_SYSTEM, "cannot set the mode of '%s': %s", f->tmp,
			     strerror(errno));
		goto out;
	}
	if (fchown(fd, f->sb.st_uid, f->sb.st_gid)) {
		/* only root may give a file away: others keep their own ownership */
	}
	out = fdopen(fd, "w");
	if (!out) {
		st_error_oom(err);
		goto out;
	}
	fd = -1;
	if (jl_scan(c, f, in, out, &f->changed, err))
		goto out;
	if (fflush(out) || fsync(fileno(out))) {
		st_error_set(err, ST_E_SYSTEM, "cannot write '%s': %s", f->tmp, strerror(errno));
		goto out;
	}
	rc = fclose(out);
	out = NULL;
	if (rc) {
		st_error_set(err, ST_E_SYSTEM, "cannot write '%s': %s", f->tmp, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	if (fd >= 0)
		close(fd);
	st_buf_release(&tmp);
	return ret;
}

static int fsync_dir(const char *dir, struct st_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (fd < 0 || fsync(fd))
		ret = st_error_set(err, ST_E_SYSTEM, "cannot sync directory '%s': %s", dir,
				   strerror(errno));
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Runs job on a directory of JSON lines files. Every affected file is rewritten to a
 * temporary file first; only when all of them are written are they renamed into place. */
/* Locks the directory itself (flock on it, held until *fd is closed), so two runs never
 * rewrite one directory at once, then removes the temporary files a killed run left: they
 * hold copies of other people's records that later erasures would never reach. Returns the
 * number removed, or -1 with err. */
static int jl_lock_and_clean(const char *dir, int *fd, struct st_error *err)
{
	struct dirent *e;
	DIR *d = NULL;
	int removed = 0, ret = -1, dfd;

	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return st_error_set(err, ST_E_SYSTEM, "cannot open directory '%s': %s", dir,
				    strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB)) {
		st_error_set(err, ST_E_SYSTEM,
			     errno == EWOULDBLOCK ? "another steward is changing '%s'; run again later"
						  : "cannot lock '%s'",
			     dir);
		goto out;
	}
	if ((dfd = dup(*fd)) < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		st_error_set(err, ST_E_SYSTEM, "cannot read directory '%s': %s", dir,
			     strerror(errno));
		goto out;
	}
	while ((e = readdir(d)))
		if (e->d_name[0] == '.' && strstr(e->d_name, ".jsonl" JL_TMP_MARK)) {
			if (unlinkat(dirfd(d), e->d_name, 0) && errno != ENOENT) {
				st_error_set(err, ST_E_SYSTEM, "cannot remove '%s/%s': %s", dir,
					     e->d_name, strerror(errno));
				goto out;
			}
			removed++;
		}
	ret = removed;
out:
	if (d)
		closedir(d);
	return ret;
}

static int run_jsonl(const struct audit_target_job *job, const struct target_uri *u,
		     struct audit_evidence *ev, struct st_error *err)
{
	struct jfile *files = NULL;
	size_t nfiles = 0;
	struct values vs = {0};
	struct st_buf rows;
	struct jl c = {job, &vs, &rows, 0};
	struct stat sb;
	int64_t matched = 0;
	FILE *in = NULL;
	int ret = -1, lock = -1, stale = 0;

	st_buf_init(&rows, ROWS_MAX);
	if ((stale = jl_lock_and_clean(u->path, &lock, err)) < 0 ||
	    jl_list(u->path, &files, &nfiles, err))
		goto out;
	for (size_t i = 0; i < nfiles; i++) {
		in = jl_open(files[i].path, &files[i].sb, err);
		if (!in || jl_scan(&c, &files[i], in, NULL, NULL, err))
			goto out;
		fclose(in);
		in = NULL;
		matched += files[i].matched;
	}
	if (job->kind == AUDIT_JOB_ERASE) {
		for (size_t i = 0; i < nfiles; i++)
			if (files[i].matched && jl_rewrite(&c, &files[i], err))
				goto out;
		for (size_t i = 0; i < nfiles; i++) {
			if (!files[i].tmp)
				continue;
			if (lstat(files[i].path, &sb) || !same_file(&sb, &files[i].sb)) {
				st_error_set(err, ST_E_SYSTEM, "'%s' changed while it was erased",
					     files[i].path);
				goto out;
			}
			if (rename(files[i].tmp, files[i].path)) {
				st_error_set(err, ST_E_SYSTEM, "cannot replace '%s': %s",
					     files[i].path, strerror(errno));
				goto out;
			}
			st_free(files[i].tmp);
			files[i].tmp = NULL;
			ev->files++;
			ev->changed += files[i].changed;
		}
		if (ev->files && fsync_dir(u->path, err))
			goto out;
	}
	if (job->kind == AUDIT_JOB_ACCESS && rows_finish(&rows, ev, err))
		goto out;
	ev->matched = matched;
	values_finish(&vs, ev);
	if (c.unparsed)
		snprintf(ev->detail, sizeof(ev->detail),
			 "kept %lld line%s that %s not JSON objects as they were",
			 (long long)c.unparsed, c.unparsed == 1 ? "" : "s",
			 c.unparsed == 1 ? "is" : "are");
	else if (stale)
		snprintf(ev->detail, sizeof(ev->detail),
			 "removed %d temporary file%s an interrupted run left", stale,
			 stale == 1 ? "" : "s");
	ret = 0;
out:
	if (lock >= 0)
		close(lock);
	if (in)
		fclose(in);
	jfiles_free(files, nfiles);
	values_release(&vs);
	rows_release(&rows);
	return ret;
}

/* ---- Dispatch ----------------------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Checks the parts of a job every target needs. */
static int check_job(const struct audit_target_job *job, const struct target_uri *u,
		     struct st_error *err)
{
	if (job->kind != AUDIT_JOB_ERASE && job->kind != AUDIT_JOB_ACCESS &&
	    job->kind != AUDIT_JOB_OBJECT)
		return st_error_set(err, ST_E_INVALID, "unknown request kind %d", job->kind);
	if (u->kind == TARGET_HTTP)
		return 0;
	if (!job->match || !job->match_field || !*job->match_field)
		return st_error_set(err, ST_E_INVALID, "target '%s' needs a match field", job->uri);
	if (job->kind == AUDIT_JOB_ERASE && job->erase_action != AUDIT_ERASE_DELETE &&
	    job->erase_action != AUDIT_ERASE_NULLIFY)
		return st_error_set(err, ST_E_INVALID, "unknown erase action %d",
				    job->erase_action);
	if (job->kind == AUDIT_JOB_ERASE && job->erase_action == AUDIT_ERASE_NULLIFY) {
		if (!job->nnullify)
			return st_error_set(err, ST_E_INVALID,
					    "erase by nullify on '%s' names no fields", job->uri);
		for (size_t i = 0; i < job->nnullify; i++)
			if (!job->nullify[i] || !*job->nullify[i])
				return st_error_set(err, ST_E_INVALID,
						    "erase by nullify on '%s' names an empty field",
						    job->uri);
	}
	return 0;
}

int audit_target_run(const struct audit_target_job *job, struct audit_evidence *ev,
		     struct st_error *err)
{
	int64_t start = now_ms();
	struct target_uri u;
	int ret = -1;

	memset(ev, 0, sizeof(*ev));
	if (parse_uri(job->uri, &u, err) || check_job(job, &u, err))
		goto out;
	if (u.kind != TARGET_HTTP)
		ev->attempts = 1;
	switch (u.kind) {
	case TARGET_SQLITE:
		ret = run_sqlite(job, &u, ev, err);
		break;
	case TARGET_JSONL:
		ret = run_jsonl(job, &u, ev, err);
		break;
	default:
		ret = audit_http_run(job, ev, err);
		break;
	}
out:
	if (ret) {
		audit_evidence_release(ev);
		size_t n = strnlen(err->msg, sizeof(ev->detail) - 1); /* cut short on purpose */

		memcpy(ev->detail, err->msg, n);
		ev->detail[n] = '\0';
	}
	ev->elapsed_ms = now_ms() - start;
	uri_release(&u);
	return ret;
}
