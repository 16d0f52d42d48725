/* The PostgreSQL (and Redshift) target: the subject's rows of one table, found by an IN list
 * of parameters, read through a server-side cursor and erased in one transaction, then
 * counted again. The connection string comes from a file or the environment and never
 * reaches a message: every cause libpq gives is cut to its first line and scrubbed. */
#include "target.h"
#include "target_int.h"
#include "alloc.h"
#include "buf.h"
#include "file.h"
#include "lazy_pq.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DSN_MAX 4096                /* a connection string, in its file or variable */
#define KEYS_PER_STMT 500           /* parameters in one IN list, far below the protocol's 65535 */
#define FETCH_SQL "FETCH FORWARD 1000 FROM steward_cur"
#define SQL_MAX ((size_t)1 << 20)   /* one generated statement */
#define CAUSE_MAX 400

/* Type OIDs (PostgreSQL's pg_type, the same on Redshift) that have a JSON form of their own. */
enum { OID_BOOL = 16, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_JSON = 114,
       OID_FLOAT4 = 700, OID_FLOAT8 = 701, OID_JSONB = 3802 };

struct pg {
	PGconn *conn;
	const struct audit_target_job *job;
	const char *shown;       /* the table as the target names it: "schema.table" */
	char *qtable;            /* "schema"."table", quoted by libpq (PQescapeIdentifier) */
	char *qmatch, *qsubject; /* quoted columns */
	char **qnull;            /* quoted nullify columns (job->nnullify) */
	char *db;                /* the database's name, for messages */
	char *dsn, *secret;      /* the connection string and its password: wiped, scrubbed */
	struct audit_values keys; /* raw mode: the match column's values that are the subject's */
	const char *const *key;  /* what the match column is compared with */
	size_t nkeys;
};

/* ---- Connecting, without ever showing the connection string ------------------------- */

static void wipe_free(char *s)
{
	if (s) {
		sodium_memzero(s, strlen(s));
		st_free(s);
	}
}

/* Reads the connection string from dsn_file (only its owner may read it) or the variable
 * dsn_env into a new string (wipe and free it). Returns 0, or -1 with err. */
static int read_dsn(const char *dsn_file, const char *dsn_env, const char *shown, char **out,
		    struct st_error *err)
{
	char buf[DSN_MAX + 2];
	const char *t = NULL;
	struct stat sb;
	size_t len = 0;
	ssize_t k;
	int fd = -1, ret = -1;

	*out = NULL;
	if (dsn_file) {
		if ((fd = st_file_open_private(dsn_file, "dsn file", &sb, err)) < 0)
			goto out;
		while (len < sizeof(buf) - 1 && (k = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				st_error_set(err, ST_E_SYSTEM, "cannot read dsn file '%s': %s", dsn_file,
					     strerror(errno));
				goto out;
			}
			len += (size_t)k;
		}
		buf[len] = '\0';
		while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
			       buf[len - 1] == '\t'))
			buf[--len] = '\0';
		if (!len || len > DSN_MAX) {
			st_error_set(err, ST_E_INVALID,
				     "dsn file '%s' holds no connection string (one line of at most "
				     "%d bytes)",
				     dsn_file, DSN_MAX);
			goto out;
		}
		t = buf;
	} else if (dsn_env) {
		t = getenv(dsn_env);
		if (!t || !*t) {
			st_error_set(err, ST_E_INVALID,
				     "the environment variable '%s' (dsn_env) is not set", dsn_env);
			goto out;
		}
		if ((len = strlen(t)) > DSN_MAX) {
			st_error_set(err, ST_E_INVALID,
				     "the environment variable '%s' (dsn_env) is over %d bytes",
				     dsn_env, DSN_MAX);
			goto out;
		}
	} else {
		st_error_set(err, ST_E_INVALID, "target 'postgres:%s' has no dsn_file or dsn_env",
			     shown);
		goto out;
	}
	if (!(*out = st_strndup(t, len))) {
		st_error_oom(err);
		goto out;
	}
	ret = 0;
out:
	sodium_memzero(buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Replaces every occurrence of secret in s (NUL-terminated, n bytes of room) by "***"; the
 * search goes on after each replacement, so a secret made of '*' cannot loop. */
static void scrub(char *s, size_t n, const char *secret)
{
	size_t sl = secret ? strlen(secret) : 0;
	char *at = s, *p;

	if (!sl)
		return;
	while ((p = strstr(at, secret))) {
		size_t tail = strlen(p + sl);

		if (sl >= 3) {
			memcpy(p, "***", 3);
			memmove(p + 3, p + sl, tail + 1);
		} else if (p + 3 + tail < s + n) {
			memmove(p + 3, p + sl, tail + 1);
			memcpy(p, "***", 3);
		} else {
			memset(p, '*', sl);
			at = p + sl;
			continue;
		}
		at = p + 3;
	}
}

/* The cause of a failure as steward shows it: the server's primary message (no detail,
 * which may quote a row's values), else the first line of libpq's, with the connection
 * string and its password cut out. */
static void pg_cause(const struct pg *s, const PGresult *res, char *out, size_t n)
{
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	size_t len;

	if (!m || !*m)
		m = s->conn ? PQerrorMessage(s->conn) : NULL;
	if (!m || !*m)
		m = "unknown error";
	len = strcspn(m, "\n");
	while (len && (m[len - 1] == ' ' || m[len - 1] == '\t' || m[len - 1] == '\r'))
		len--;
	snprintf(out, n, "%.*s", (int)len, m);
	scrub(out, n, s->dsn);
	scrub(out, n, s->secret);
}

static void notice_none(void *arg, const char *message)
{
	(void)arg;
	(void)message; /* the library never prints; notices carry nothing steward reports */
}

/* Connects with the connection string of dsn_file or dsn_env. libpq's own defaults (the
 * PG* variables, ~/.pgpass) apply; the client encoding is always UTF-8. Returns 0, or -1
 * with err. */
static int pg_connect(struct pg *s, const char *dsn_file, const char *dsn_env,
		      long connect_timeout_ms, struct st_error *err)
{
	PQconninfoOption *opts = NULL;
	char *perr = NULL, timeout[24], cause[CAUSE_MAX];
	const char *keys[] = {"connect_timeout", "application_name", "dbname", "client_encoding",
			      NULL};
	const char *vals[] = {timeout, "steward", NULL, "UTF8", NULL};
	int ret = -1;

	if (st_pq_load(err))
		return -1;
	snprintf(timeout, sizeof(timeout), "%ld",
		 connect_timeout_ms > 0 ? (connect_timeout_ms + 999) / 1000 : 5);
	if (read_dsn(dsn_file, dsn_env, s->shown, &s->dsn, err))
		goto out;
	/* libpq's message for a malformed string quotes it: never shown */
	if (!(opts = PQconninfoParse(s->dsn, &perr))) {
		if (dsn_file)
			st_error_set(err, ST_E_INVALID,
				     "dsn file '%s' holds no valid connection string", dsn_file);
		else
			st_error_set(err, ST_E_INVALID,
				     "the environment variable '%s' (dsn_env) holds no valid "
				     "connection string",
				     dsn_env);
		goto out;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val)
			continue;
		if (!strcmp(o->keyword, "password") && *o->val && !s->secret &&
		    !(s->secret = st_strdup(o->val))) {
			st_error_oom(err);
			goto out;
		}
		sodium_memzero(o->val, strlen(o->val));
	}
	vals[2] = s->dsn;
	s->conn = PQconnectdbParams(keys, vals, 1);
	if (!s->conn) {
		st_error_oom(err);
		goto out;
	}
	PQsetNoticeProcessor(s->conn, notice_none, NULL);
	if (PQstatus(s->conn) != CONNECTION_OK) {
		pg_cause(s, NULL, cause, sizeof(cause));
		st_error_set(err, ST_E_SYSTEM, "cannot connect to the database of 'postgres:%s': %s",
			     s->shown, cause);
		goto out;
	}
	if (!(s->db = st_strdup(PQdb(s->conn) ? PQdb(s->conn) : ""))) {
		st_error_oom(err);
		goto out;
	}
	ret = 0;
out:
	if (perr) {
		sodium_memzero(perr, strlen(perr));
		PQfreemem(perr);
	}
	PQconninfoFree(opts);
	return ret;
}

static void pg_release(struct pg *s)
{
	if (s->conn)
		PQfinish(s->conn);
	st_free(s->qtable);
	st_free(s->qmatch);
	st_free(s->qsubject);
	if (s->qnull)
		st_free_strv(s->qnull, s->job->nnullify);
	st_free(s->db);
	wipe_free(s->dsn);
	wipe_free(s->secret);
	audit_values_release(&s->keys);
	memset(s, 0, sizeof(*s));
}

/* ---- Statements --------------------------------------------------------------------- */

/* Fills err for a failed statement: a missing table or schema is ST_E_INVALID, a refused
 * privilege ST_E_DENIED, anything else ST_E_SYSTEM. */
static int pg_fail(const struct pg *s, const PGresult *res, const char *what,
		   struct st_error *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char cause[CAUSE_MAX];

	if (state && (!strcmp(state, "42P01") || !strcmp(state, "3F000")))
		return st_error_set(err, ST_E_INVALID, "no table '%s' in database '%s'", s->shown,
				    s->db);
	pg_cause(s, res, cause, sizeof(cause));
	return st_error_set(err, state && !strcmp(state, "42501") ? ST_E_DENIED : ST_E_SYSTEM,
			    "%s table '%s' of database '%s': %s", what, s->shown, s->db, cause);
}

/* Wipes the values a result holds (rows of the subject), then frees it. */
static void pg_clear(PGresult *res)
{
	if (!res)
		return;
	for (int r = 0; r < PQntuples(res); r++)
		for (int c = 0; c < PQnfields(res); c++)
			sodium_memzero(PQgetvalue(res, r, c), (size_t)PQgetlength(res, r, c));
	PQclear(res);
}

/* Runs one statement with n text parameters (never a value in the SQL text). Returns its
 * result (free with pg_clear()), or NULL with err. */
static PGresult *pg_run(struct pg *s, const char *sql, int n, const char *const *params,
			const char *what, struct st_error *err)
{
	PGresult *res = PQexecParams(s->conn, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	pg_fail(s, res, what, err);
	pg_clear(res);
	return NULL;
}

/* Runs a statement that returns nothing steward reads. Returns 0, or -1 with err. */
static int pg_cmd(struct pg *s, const char *sql, int n, const char *const *params,
		  const char *what, struct st_error *err)
{
	PGresult *res = pg_run(s, sql, n, params, what, err);

	PQclear(res);
	return res ? 0 : -1;
}

typedef int (*batch_fn)(struct pg *s, const PGresult *res, void *u, struct st_error *err);

/* Runs select (n parameters) through a server-side cursor inside the open transaction,
 * FETCH FORWARD 1000 at a time, giving each batch to fn. Returns 0, or -1 with err. */
static int pg_cursor(struct pg *s, const char *select, int n, const char *const *params,
		     const char *what, batch_fn fn, void *u, struct st_error *err)
{
	struct st_buf sql;
	PGresult *res = NULL;
	int ret = -1, rows;

	st_buf_init(&sql, SQL_MAX);
	if (st_buf_adds(&sql, "DECLARE steward_cur CURSOR FOR ") || st_buf_adds(&sql, select)) {
		st_error_oom(err);
		goto out;
	}
	if (pg_cmd(s, st_buf_str(&sql), n, params, what, err))
		goto out;
	for (;;) {
		if (!(res = pg_run(s, FETCH_SQL, 0, NULL, what, err)))
			goto out;
		rows = PQntuples(res);
		if (rows && fn(s, res, u, err))
			goto out;
		pg_clear(res);
		res = NULL;
		if (!rows)
			break;
	}
	if (pg_cmd(s, "CLOSE steward_cur", 0, NULL, what, err))
		goto out;
	ret = 0;
out:
	pg_clear(res);
	st_buf_release(&sql);
	return ret;
}

/* ---- Names -------------------------------------------------------------------------- */

/* name quoted as an identifier by libpq, appended to b. Returns 0, or -1 with err. */
static int add_ident(struct pg *s, struct st_buf *b, const char *name, size_t len,
		     struct st_error *err)
{
	char *q = PQescapeIdentifier(s->conn, name, len);
	char cause[CAUSE_MAX];
	int ret;

	if (!q) {
		pg_cause(s, NULL, cause, sizeof(cause));
		return st_error_set(err, ST_E_INVALID, "cannot quote '%.*s': %s", (int)len, name,
				    cause);
	}
	ret = st_buf_adds(b, q);
	PQfreemem(q);
	return ret ? st_error_oom(err) : 0;
}

/* A quoted name as a new string (st_free), or NULL with err. */
static char *quoted(struct pg *s, const char *name, struct st_error *err)
{
	struct st_buf b;
	char *q;

	st_buf_init(&b, SQL_MAX);
	if (add_ident(s, &b, name, strlen(name), err)) {
		st_buf_release(&b);
		return NULL;
	}
	if (!(q = st_buf_detach(&b)))
		st_error_oom(err);
	return q;
}

/* Quotes the table ("schema"."table": each part on its own) and the job's columns. */
static int pg_quote(struct pg *s, struct st_error *err)
{
	const struct audit_target_job *job = s->job;
	const char *dot = strchr(s->shown, '.');
	struct st_buf b;
	int ret = -1;

	st_buf_init(&b, SQL_MAX);
	if (dot && (add_ident(s, &b, s->shown, (size_t)(dot - s->shown), err) ||
		    (st_buf_adds(&b, ".") && st_error_oom(err))))
		goto out;
	if (add_ident(s, &b, dot ? dot + 1 : s->shown, strlen(dot ? dot + 1 : s->shown), err))
		goto out;
	if (!(s->qtable = st_buf_detach(&b))) {
		st_error_oom(err);
		goto out;
	}
	if (!job)
		return 0;
	if (!(s->qmatch = quoted(s, job->match_field, err)) ||
	    (job->subject_field && !(s->qsubject = quoted(s, job->subject_field, err))))
		goto out;
	if (job->nnullify && !(s->qnull = st_calloc(job->nnullify, sizeof(char *)))) {
		st_error_oom(err);
		goto out;
	}
	for (size_t i = 0; i < job->nnullify; i++)
		if (!(s->qnull[i] = quoted(s, job->nullify[i], err)))
			goto out;
	ret = 0;
out:
	st_buf_release(&b);
	return ret;
}

/* Checks that the table exists and has every column the job names: a query that returns
 * no row but every column's name (information_schema would miss the search path). */
static int pg_check_columns(struct pg *s, struct st_error *err)
{
	const struct audit_target_job *job = s->job;
	struct st_buf sql;
	PGresult *res = NULL;
	int ret = -1, k;

	st_buf_init(&sql, SQL_MAX);
	if (st_buf_adds(&sql, "SELECT * FROM ") || st_buf_adds(&sql, s->qtable) ||
	    st_buf_adds(&sql, " WHERE 1 = 0")) {
		st_error_oom(err);
		goto out;
	}
	if (!(res = pg_run(s, st_buf_str(&sql), 0, NULL, "cannot read", err)))
		goto out;
	for (size_t i = 0; i < 2 + job->nnullify; i++) {
		const char *name = i == 0 ? job->match_field
				   : i == 1 ? job->subject_field
					    : job->nullify[i - 2];

		if (!name)
			continue;
		for (k = 0; k < PQnfields(res); k++)
			if (!strcmp(PQfname(res, k), name))
				break;
		if (k == PQnfields(res)) {
			st_error_set(err, ST_E_INVALID, "no column '%s' in table '%s' of database '%s'",
				     name, s->shown, s->db);
			goto out;
		}
	}
	ret = 0;
out:
	PQclear(res);
	st_buf_release(&sql);
	return ret;
}

/* ---- Finding the subject ------------------------------------------------------------ */

static int keys_batch(struct pg *s, const PGresult *res, void *u, struct st_error *err)
{
	(void)u;
	for (int r = 0; r < PQntuples(res); r++) {
		const char *v = PQgetvalue(res, r, 0);
		size_t len = (size_t)PQgetlength(res, r, 0);
		int m = audit_matcher_test(s->job->match, v, len, err);

		if (m < 0)
			return -1;
		if (m && audit_values_add(&s->keys, v, len))
			return st_error_oom(err);
	}
	return 0;
}

/* What the match column is compared with: the subject's pseudonyms as they are, or (raw
 * values) every distinct value of the column that the matcher takes for the subject's,
 * read through a cursor. A server cannot run steward's keyed hash, so a raw column is
 * read whole; its values stay in memory only, and are wiped. */
static int pg_find_keys(struct pg *s, struct st_error *err)
{
	const struct audit_matcher *m = s->job->match;
	struct st_buf sql;
	int ret = -1;

	audit_values_release(&s->keys);
	s->key = NULL;
	s->nkeys = 0;
	if (!m->npseudonyms)
		return 0;
	if (m->mode == AUDIT_MATCH_PSEUDONYM) {
		s->key = (const char *const *)m->pseudonyms;
		s->nkeys = m->npseudonyms;
		return 0;
	}
	st_buf_init(&sql, SQL_MAX);
	if (st_buf_adds(&sql, "SELECT DISTINCT ") || st_buf_adds(&sql, s->qmatch) ||
	    st_buf_adds(&sql, " FROM ") || st_buf_adds(&sql, s->qtable) ||
	    st_buf_adds(&sql, " WHERE ") || st_buf_adds(&sql, s->qmatch) ||
	    st_buf_adds(&sql, " IS NOT NULL")) {
		st_error_oom(err);
		goto out;
	}
	if (pg_cursor(s, st_buf_str(&sql), 0, NULL, "cannot read", keys_batch, NULL, err))
		goto out;
	s->key = (const char *const *)s->keys.v;
	s->nkeys = s->keys.n;
	ret = 0;
out:
	st_buf_release(&sql);
	return ret;
}

/* Appends " WHERE match IN ($1, ..., $k)" and, for an erase by nullify, only the rows
 * that still hold something to erase, so that a second run matches nothing. */
static int add_where(struct pg *s, struct st_buf *b, size_t k)
{
	const struct audit_target_job *job = s->job;

	if (st_buf_adds(b, " WHERE ") || st_buf_adds(b, s->qmatch) || st_buf_adds(b, " IN ("))
		return -1;
	for (size_t i = 0; i < k; i++)
		if (st_buf_addf(b, i ? ", $%zu" : "$%zu", i + 1))
			return -1;
	if (st_buf_adds(b, ")"))
		return -1;
	if (job->kind != AUDIT_JOB_ERASE || job->erase_action != AUDIT_ERASE_NULLIFY)
		return 0;
	if (st_buf_adds(b, " AND ("))
		return -1;
	for (size_t i = 0; i < job->nnullify; i++)
		if ((i && st_buf_adds(b, " OR ")) || st_buf_adds(b, s->qnull[i]) ||
		    st_buf_adds(b, " IS NOT NULL"))
			return -1;
	return st_buf_adds(b, ")");
}

static size_t chunk(const struct pg *s, size_t at)
{
	return s->nkeys - at < KEYS_PER_STMT ? s->nkeys - at : KEYS_PER_STMT;
}

/* ---- Rows as JSON ------------------------------------------------------------------- */

/* A column value as JSON: integers, booleans and finite floats as such, json and jsonb as
 * their value, everything else as its text (base64 when it is not UTF-8). NULL on out of
 * memory. */
static json_t *pg_value(const PGresult *res, int r, int c)
{
	const char *v = PQgetvalue(res, r, c);
	size_t n = (size_t)PQgetlength(res, r, c), b64len;
	char *end, *b64;
	json_t *j = NULL;

	if (PQgetisnull(res, r, c))
		return json_null();
	switch (PQftype(res, c)) {
	case OID_INT2:
	case OID_INT4:
	case OID_INT8: {
		long long x;

		errno = 0;
		x = strtoll(v, &end, 10);
		if (!errno && end != v && !*end)
			return json_integer((json_int_t)x);
		break;
	}
	case OID_BOOL:
		return json_boolean(v[0] == 't');
	case OID_FLOAT4:
	case OID_FLOAT8: {
		double d = strtod(v, &end);

		if (end != v && !*end && isfinite(d) && (j = json_real(d)))
			return j;
		break;
	}
	case OID_JSON:
	case OID_JSONB:
		if ((j = json_loadb(v, n, JSON_DECODE_ANY, NULL)))
			return j;
		break;
	default:
		break;
	}
	if ((j = json_stringn(v, n)))
		return j;
	b64len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	if (!(b64 = st_malloc(b64len)))
		return NULL;
	sodium_bin2base64(b64, b64len, (const unsigned char *)v, n, sodium_base64_VARIANT_ORIGINAL);
	j = json_string(b64);
	sodium_memzero(b64, b64len);
	st_free(b64);
	return j;
}

/* Row r's columns from first on as a JSON object (NULL on out of memory). */
static json_t *pg_row(const PGresult *res, int r, int first)
{
	json_t *row = json_object(), *v;

	for (int c = first; row && c < PQnfields(res); c++)
		if (!(v = pg_value(res, r, c)) || json_object_set_new(row, PQfname(res, c), v)) {
			json_decref(row);
			row = NULL;
		}
	return row;
}

/* ---- Reading, erasing, verifying ---------------------------------------------------- */

struct sel {
	struct audit_values *vs;
	struct st_buf *rows;
	int64_t matched;
};

static int sel_batch(struct pg *s, const PGresult *res, void *u, struct st_error *err)
{
	struct sel *x = u;
	int first = s->job->subject_field ? 1 : 0;

	for (int r = 0; r < PQntuples(res); r++) {
		x->matched++;
		if (s->job->subject_field && !PQgetisnull(res, r, 0) &&
		    audit_values_add(x->vs, PQgetvalue(res, r, 0), (size_t)PQgetlength(res, r, 0)))
			return st_error_oom(err);
		if (s->job->kind == AUDIT_JOB_ACCESS) {
			json_t *row = pg_row(res, r, first);
			int ret;

			if (!row)
				return st_error_oom(err);
			ret = audit_rows_add(x->rows, row, err);
			json_decref(row);
			if (ret)
				return -1;
		}
	}
	return 0;
}

/* The SELECT pass: counts the subject's rows and collects subject values and, for access
 * requests, the rows, through a cursor per IN list. */
static int pg_select(struct pg *s, struct audit_values *vs, struct st_buf *rows,
		     int64_t *matched, struct st_error *err)
{
	const struct audit_target_job *job = s->job;
	struct sel x = {vs, rows, 0};
	struct st_buf sql;
	int ret = -1;

	st_buf_init(&sql, SQL_MAX);
	for (size_t at = 0; at < s->nkeys; at += chunk(s, at)) {
		st_buf_reset(&sql);
		if (st_buf_adds(&sql, "SELECT ") ||
		    (job->subject_field &&
		     (st_buf_adds(&sql, s->qsubject) ||
		      st_buf_adds(&sql, job->kind == AUDIT_JOB_ACCESS ? ", " : ""))) ||
		    st_buf_adds(&sql, job->kind == AUDIT_JOB_ACCESS ? "*"
				      : job->subject_field  ? ""
							    : "1") ||
		    st_buf_adds(&sql, " FROM ") || st_buf_adds(&sql, s->qtable) ||
		    add_where(s, &sql, chunk(s, at))) {
			st_error_oom(err);
			goto out;
		}
		if (pg_cursor(s, st_buf_str(&sql), (int)chunk(s, at), s->key + at, "cannot read",
			      sel_batch, &x, err))
			goto out;
	}
	*matched = x.matched;
	ret = 0;
out:
	st_buf_release(&sql);
	return ret;
}

/* The erase: DELETE, or UPDATE ... SET col = NULL, per IN list; the rows changed are the
 * command's count (no RETURNING: Redshift has none). */
static int pg_erase(struct pg *s, int64_t *changed, struct st_error *err)
{
	const struct audit_target_job *job = s->job;
	struct st_buf sql;
	PGresult *res = NULL;
	int ret = -1, oom;

	*changed = 0;
	st_buf_init(&sql, SQL_MAX);
	for (size_t at = 0; at < s->nkeys; at += chunk(s, at)) {
		st_buf_reset(&sql);
		if (job->erase_action == AUDIT_ERASE_DELETE) {
			oom = st_buf_adds(&sql, "DELETE FROM ") || st_buf_adds(&sql, s->qtable);
		} else {
			oom = st_buf_adds(&sql, "UPDATE ") || st_buf_adds(&sql, s->qtable) ||
			      st_buf_adds(&sql, " SET ");
			for (size_t i = 0; !oom && i < job->nnullify; i++)
				oom = (i && st_buf_adds(&sql, ", ")) ||
				      st_buf_adds(&sql, s->qnull[i]) || st_buf_adds(&sql, " = NULL");
		}
		if (oom || add_where(s, &sql, chunk(s, at))) {
			st_error_oom(err);
			goto out;
		}
		if (!(res = pg_run(s, st_buf_str(&sql), (int)chunk(s, at), s->key + at,
				   "cannot erase from", err)))
			goto out;
		*changed += strtoll(PQcmdTuples(res), NULL, 10);
		PQclear(res);
		res = NULL;
	}
	ret = 0;
out:
	PQclear(res);
	st_buf_release(&sql);
	return ret;
}

/* The re-scan after the erase committed, in a read-only transaction of its own (a trigger
 * or another writer may have put rows back): the subject's values are looked for again
 * (raw mode), and the rows the condition still selects are counted. */
static int pg_verify(struct pg *s, long *remaining, struct st_error *err)
{
	struct st_buf sql;
	PGresult *res = NULL;
	int ret = -1, in_tx = 0;
	long n = 0;

	st_buf_init(&sql, SQL_MAX);
	if (pg_cmd(s, "BEGIN READ ONLY", 0, NULL, "cannot verify", err))
		goto out;
	in_tx = 1;
	if (pg_find_keys(s, err))
		goto out;
	for (size_t at = 0; at < s->nkeys; at += chunk(s, at)) {
		st_buf_reset(&sql);
		if (st_buf_adds(&sql, "SELECT count(*) FROM ") || st_buf_adds(&sql, s->qtable) ||
		    add_where(s, &sql, chunk(s, at))) {
			st_error_oom(err);
			goto out;
		}
		if (!(res = pg_run(s, st_buf_str(&sql), (int)chunk(s, at), s->key + at,
				   "cannot verify", err)))
			goto out;
		n += strtol(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
		res = NULL;
	}
	if (pg_cmd(s, "COMMIT", 0, NULL, "cannot verify", err))
		goto out;
	in_tx = 0;
	*remaining = n;
	ret = 0;
out:
	PQclear(res);
	if (in_tx)
		PQclear(PQexecParams(s->conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0));
	st_buf_release(&sql);
	return ret;
}

int audit_pg_run(const struct audit_target_job *job, const struct target_uri *u,
		 struct audit_evidence *ev, struct st_error *err)
{
	struct pg s;
	struct audit_values vs = {0};
	struct st_buf rows;
	int ret = -1, in_tx = 0, erase = job->kind == AUDIT_JOB_ERASE;
	int64_t matched = 0, changed = 0;

	memset(&s, 0, sizeof(s));
	s.job = job;
	s.shown = u->path;
	st_buf_init(&rows, ROWS_MAX);
	if (pg_connect(&s, job->dsn_file, job->dsn_env, job->connect_timeout_ms, err) ||
	    pg_quote(&s, err))
		goto out;
	if (pg_cmd(&s, erase ? "BEGIN" : "BEGIN READ ONLY", 0, NULL, "cannot read", err))
		goto out;
	in_tx = 1;
	if (pg_check_columns(&s, err) || pg_find_keys(&s, err))
		goto out;
	if (erase && job->erase_action == AUDIT_ERASE_DELETE && !job->subject_field) {
		if (pg_erase(&s, &changed, err))
			goto out;
		matched = changed;
	} else if (pg_select(&s, &vs, &rows, &matched, err) ||
		   (erase && matched && pg_erase(&s, &changed, err))) {
		goto out;
	}
	if (pg_cmd(&s, "COMMIT", 0, NULL, erase ? "cannot erase from" : "cannot read", err))
		goto out;
	in_tx = 0;
	/* verified, never assumed */
	if (erase && pg_verify(&s, &ev->remaining, err))
		goto out;
	if (job->kind == AUDIT_JOB_ACCESS && audit_rows_finish(&rows, ev, err))
		goto out;
	ev->visited = 1;
	ev->matched = (long)matched;
	ev->changed = changed;
	if (erase)
		ev->erased = (long)changed;
	audit_values_finish(&vs, ev);
	ret = 0;
out:
	if (in_tx && PQstatus(s.conn) == CONNECTION_OK)
		PQclear(PQexecParams(s.conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0));
	pg_release(&s);
	audit_values_release(&vs);
	audit_rows_release(&rows);
	return ret;
}

/* ---- Sampling a table for `pii scan` ------------------------------------------------ */

struct sample {
	int fd;
	size_t written, max_bytes;
	uint64_t rows;
};

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int sample_batch(struct pg *s, const PGresult *res, void *u, struct st_error *err)
{
	struct sample *x = u;

	for (int r = 0; r < PQntuples(res); r++) {
		json_t *row = pg_row(res, r, 0);
		char *text = row ? json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		size_t n = text ? strlen(text) : 0;
		int ret = 0;

		json_decref(row);
		if (!text)
			return st_error_oom(err);
		if (x->written + n + 1 > x->max_bytes)
			ret = st_error_set(err, ST_E_SYSTEM,
					   "the sample of table '%s' is over %zu MiB (give a smaller "
					   "--sample)",
					   s->shown, x->max_bytes >> 20);
		else if (write_all(x->fd, text, n) || write_all(x->fd, "\n", 1))
			ret = st_error_set(err, ST_E_SYSTEM, "cannot write the sample: %s",
					   strerror(errno));
		x->written += n + 1;
		sodium_memzero(text, n);
		free(text); /* jansson's allocator */
		if (ret)
			return -1;
		x->rows++;
	}
	return 0;
}

int audit_pg_sample_run(const struct target_uri *u, const char *dsn_file, const char *dsn_env,
			uint64_t limit, size_t max_bytes, int fd, uint64_t *rows,
			struct st_error *err)
{
	struct pg s;
	struct sample x = {fd, 0, max_bytes, 0};
	struct st_buf sql;
	char lim[24];
	const char *params[1] = {lim};
	int ret = -1, in_tx = 0;

	memset(&s, 0, sizeof(s));
	s.shown = u->path;
	*rows = 0;
	st_buf_init(&sql, SQL_MAX);
	snprintf(lim, sizeof(lim), "%llu", (unsigned long long)limit);
	if (pg_connect(&s, dsn_file, dsn_env, 0, err) || pg_quote(&s, err))
		goto out;
	if (pg_cmd(&s, "BEGIN READ ONLY", 0, NULL, "cannot read", err))
		goto out;
	in_tx = 1;
	/* the first rows, not a random sample: TABLESAMPLE is PostgreSQL's, not Redshift's */
	if (st_buf_adds(&sql, "SELECT * FROM ") || st_buf_adds(&sql, s.qtable) ||
	    st_buf_adds(&sql, " LIMIT $1")) {
		st_error_oom(err);
		goto out;
	}
	if (pg_cursor(&s, st_buf_str(&sql), 1, params, "cannot read", sample_batch, &x, err) ||
	    pg_cmd(&s, "COMMIT", 0, NULL, "cannot read", err))
		goto out;
	in_tx = 0;
	*rows = x.rows;
	ret = 0;
out:
	if (in_tx && PQstatus(s.conn) == CONNECTION_OK)
		PQclear(PQexecParams(s.conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0));
	pg_release(&s);
	st_buf_release(&sql);
	return ret;
}
