/* Data-subject request targets: target URIs and the dispatcher, which checks a job and
 * runs it on its target (target_sqlite.c, target_jsonl.c, target_http.c or target_pg.c). */
#include "target.h"
#include "target_int.h"
#include "alloc.h"

#include <string.h>
#include <strings.h>
#include <time.h>

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

/* Checks a jsonl target's ?match= list: comma-separated file name globs, none empty and
 * none with a '/' (they match names, not paths). */
static int check_globs(const char *globs, const char *uri, struct st_error *err)
{
	const char *p = globs, *end;

	for (;;) {
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		if (end == p)
			return st_error_set(err, ST_E_INVALID,
					    "target '%s' has an empty glob in its match list (use "
					    "jsonl:DIR?match=GLOB,GLOB)",
					    uri);
		if (memchr(p, '/', (size_t)(end - p)))
			return st_error_set(err, ST_E_INVALID,
					    "target '%s': a glob matches file names and cannot hold '/'",
					    uri);
		if (!*end)
			return 0;
		p = end + 1;
	}
}

/* A PostgreSQL table as a target names it: TABLE or SCHEMA.TABLE, each an identifier. */
static int is_pg_table(const char *s)
{
	const char *dot = strchr(s, '.');
	char schema[256];

	if (!dot)
		return is_ident(s);
	if ((size_t)(dot - s) >= sizeof(schema))
		return 0;
	memcpy(schema, s, (size_t)(dot - s));
	schema[dot - s] = '\0';
	return is_ident(schema) && is_ident(dot + 1);
}

static void uri_release(struct target_uri *u)
{
	st_free(u->path);
	st_free(u->table);
	st_free(u->globs);
	u->path = u->table = u->globs = NULL;
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
		q = strrchr(path, '?');
		if (q && strncmp(q, "?match=", 7))
			q = NULL; /* a '?' in the directory's name */
		if (!*path || q == path)
			return st_error_set(err, ST_E_INVALID,
					    "target '%s' names no directory (use jsonl:DIR)", uri);
		if (q && check_globs(q + 7, uri, err))
			return -1;
		u->kind = TARGET_JSONL;
		u->path = q ? st_strndup(path, (size_t)(q - path)) : st_strdup(path);
		u->globs = st_strdup(q ? q + 7 : AUDIT_JSONL_GLOBS);
		return u->path && u->globs ? 0 : st_error_oom(err);
	}
	if (has_prefix(uri, "postgres://") || has_prefix(uri, "postgresql://") ||
	    has_prefix(uri, "redshift://")) {
		char shown[256];

		/* a connection string in steward.yaml: refused, and shown without credentials */
		audit_target_redact(uri, shown, sizeof(shown));
		return st_error_set(err, ST_E_INVALID,
				    "target '%s' is a connection string; a PostgreSQL target is a "
				    "mapping {kind: postgres, dsn_file: FILE} or {kind: postgres, "
				    "dsn_env: NAME}",
				    shown);
	}
	if (has_prefix(uri, "postgres:")) {
		path = uri + strlen("postgres:");
		if (!is_pg_table(path))
			return st_error_set(err, ST_E_INVALID,
					    "invalid table name '%s' in target '%s' ([SCHEMA.]TABLE: "
					    "letters, digits and '_', not starting with a digit)",
					    path, uri);
		u->kind = TARGET_PG;
		u->path = st_strdup(path);
		return u->path ? 0 : st_error_oom(err);
	}
	if (has_prefix(uri, "http://") || has_prefix(uri, "https://")) {
		u->kind = TARGET_HTTP;
		return audit_http_check_uri(uri, err);
	}
	if (has_prefix(uri, "http:") || has_prefix(uri, "https:")) {
		char shown[256];

		audit_target_redact(uri, shown, sizeof(shown));
		return st_error_set(err, ST_E_INVALID, "invalid url '%s' (use http://HOST/...)",
				    shown);
	}
	return st_error_set(err, ST_E_INVALID,
			    "unsupported target '%s' (use sqlite:PATH?table=NAME, jsonl:DIR, "
			    "http://... or https://...)",
			    uri);
}

int audit_target_counts_rows(const char *uri)
{
	return uri && (has_prefix(uri, "sqlite:") || has_prefix(uri, "jsonl:") ||
		       (has_prefix(uri, "postgres:") && !has_prefix(uri, "postgres://")));
}

int audit_target_check_uri(const char *uri, struct st_error *err)
{
	struct target_uri u;
	int ret = parse_uri(uri, &u, err);

	uri_release(&u);
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
	ev->remaining = -1; /* unverified until a target's re-scan says otherwise */
	if (parse_uri(job->uri, &u, err) || check_job(job, &u, err))
		goto out;
	if (u.kind != TARGET_HTTP)
		ev->attempts = 1;
	switch (u.kind) {
	case TARGET_SQLITE:
		ret = audit_sqlite_run(job, &u, ev, err);
		break;
	case TARGET_JSONL:
		ret = audit_jsonl_run(job, &u, ev, err);
		break;
	case TARGET_PG:
		ret = audit_pg_run(job, &u, ev, err);
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

int audit_location_table(const char *loc, char *out, size_t n)
{
	const char *p = strstr(loc, "://"), *slash, *dot;
	size_t k = 0, len, dots = 0;

	if (p) {
		slash = strrchr(p + 3, '/');
		if (!slash)
			return -1; /* a host and no table */
		p = slash + 1;
	} else {
		p = loc;
	}
	len = strcspn(p, "?#");
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '"')
			continue;
		if (k + 1 >= n)
			return -1;
		out[k++] = p[i];
		dots += p[i] == '.';
	}
	out[k] = '\0';
	if (!k || dots > 2)
		return -1;
	if (dots == 2 && (dot = strchr(out, '.')))
		memmove(out, dot + 1, strlen(dot + 1) + 1);
	return 0;
}

int audit_pg_sample(const char *uri, const char *dsn_file, const char *dsn_env, uint64_t limit,
		    size_t max_bytes, int fd, uint64_t *rows, struct st_error *err)
{
	struct target_uri u;
	int ret = -1;

	*rows = 0;
	if (parse_uri(uri, &u, err))
		goto out;
	if (u.kind != TARGET_PG) {
		char shown[256];

		audit_target_redact(uri, shown, sizeof(shown));
		st_error_set(err, ST_E_INVALID,
			     "'%s' is not a PostgreSQL table (use postgres:[SCHEMA.]TABLE)", shown);
		goto out;
	}
	ret = audit_pg_sample_run(&u, dsn_file, dsn_env, limit ? limit : 1, max_bytes, fd, rows,
				  err);
out:
	uri_release(&u);
	return ret;
}
