/* Private to audit/target*.c: what the dispatcher in target.c calls in each target
 * (target_sqlite.c, target_jsonl.c, target_http.c, target_pg.c), and the matcher and
 * evidence helpers of target_match.c that the local targets share. Not part of the audit
 * library's interface. */
#ifndef AUDIT_TARGET_INT_H
#define AUDIT_TARGET_INT_H

#include "target.h"

struct json_t;
struct st_buf;

#define ROWS_MAX ((size_t)64 << 20) /* an access request's rows as JSON text */
#define PATH_MAX_LEN 4096

enum target_kind { TARGET_SQLITE, TARGET_JSONL, TARGET_HTTP, TARGET_PG };

/* A target URI split by target.c. */
struct target_uri {
	int kind;    /* enum target_kind */
	char *path;  /* sqlite: the database file; jsonl: the directory; postgres: the table as
		      * named, "table" or "schema.table" */
	char *table; /* sqlite */
	char *globs; /* jsonl: the file name globs, comma-separated (AUDIT_JSONL_GLOBS if none given) */
};

/* Checks an http:// or https:// URI: it must parse and name a host. Returns 0, or -1 with
 * err (ST_E_INVALID). */
int audit_http_check_uri(const char *uri, struct st_error *err);
/* POSTs the job to its endpoint with retries; fills ev's http_status, attempts and, for
 * access requests, rows_json. Returns 0 on a 2xx answer, or -1 with err. */
int audit_http_run(const struct audit_target_job *job, struct audit_evidence *ev,
		   struct st_error *err);

/* Runs a checked job on the table u names: everything in one transaction, rolled back on
 * any failure. Fills ev's counts, subject values and, for access, rows_json. Returns 0, or
 * -1 with err. (target_sqlite.c) */
int audit_sqlite_run(const struct audit_target_job *job, const struct target_uri *u,
		     struct audit_evidence *ev, struct st_error *err);
/* Runs a checked job on the directory of JSON lines files u names; an erase replaces each
 * changed file whole. Fills ev's counts, files, subject values, detail and, for access,
 * rows_json. Returns 0, or -1 with err. (target_jsonl.c) */
int audit_jsonl_run(const struct audit_target_job *job, const struct target_uri *u,
		    struct audit_evidence *ev, struct st_error *err);

/* Runs a checked job on the PostgreSQL (or Redshift) table u names, connecting with the
 * job's dsn_file or dsn_env: the reads and the erase in one transaction, rolled back on any
 * failure, then a count of what is left in a read-only one. Fills ev's counts, subject
 * values and, for access, rows_json. Returns 0, or -1 with err, which never holds the
 * connection string or its password. (target_pg.c) */
int audit_pg_run(const struct audit_target_job *job, const struct target_uri *u,
		 struct audit_evidence *ev, struct st_error *err);
/* Writes at most limit rows of the table u names to fd as JSON lines (one object per row,
 * max_bytes in all), read through a cursor in a read-only transaction; *rows counts them.
 * Returns 0, or -1 with err. (target_pg.c) */
int audit_pg_sample_run(const struct target_uri *u, const char *dsn_file, const char *dsn_env,
			uint64_t limit, size_t max_bytes, int fd, uint64_t *rows,
			struct st_error *err);

/* Subject values as they are collected: an array that grows, moved into ev at the end
 * (target_match.c). Start it zeroed. */
struct audit_values {
	char **v;
	size_t n, cap;
};

/* Appends a copy of s (n bytes). Returns 0, or -1 when out of memory. */
int audit_values_add(struct audit_values *vs, const char *s, size_t n);
/* Wipes and frees what vs holds; vs is zeroed. */
void audit_values_release(struct audit_values *vs);
/* Sorts the values, drops duplicates and hands them to ev; vs is left empty. */
void audit_values_finish(struct audit_values *vs, struct audit_evidence *ev);
/* Appends row to an access request's rows, "[" row "," row ... "]" in rows (a buffer
 * bounded at ROWS_MAX). Returns 0, or -1 with err when out of memory or over the bound. */
int audit_rows_add(struct st_buf *rows, struct json_t *row, struct st_error *err);
/* Closes the array and hands it to ev->rows_json. Returns 0, or -1 with err. */
int audit_rows_finish(struct st_buf *rows, struct audit_evidence *ev, struct st_error *err);
/* Wipes and releases rows. */
void audit_rows_release(struct st_buf *rows);

#endif
