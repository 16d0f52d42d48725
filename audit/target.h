/* Data-subject request targets: carrying one request out against one bound system
 * (a SQLite or PostgreSQL table, a directory of JSON lines, or an HTTP endpoint) and
 * recording evidence.
 * Raw values of the subject are never given to a target: rows are matched by pseudonym. */
#ifndef AUDIT_TARGET_H
#define AUDIT_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "pii.h"

/* How a dataset's match field holds the subject's identifier. */
enum audit_match_mode {
	AUDIT_MATCH_PSEUDONYM, /* the field holds pseudonyms ("k1:..."): compared as they are */
	AUDIT_MATCH_RAW        /* the field holds raw values: each is normalized and hashed */
};

/* Decides whether a stored value belongs to the subject. Never holds the raw value. */
struct audit_matcher {
	int mode;                 /* enum audit_match_mode */
	const char *category;     /* the match field's data category, e.g. "user.unique_id" */
	int norm;                 /* enum pii_norm for raw values */
	const char *country_code; /* for phone numbers, may be NULL */
	char **pseudonyms;        /* the subject's pseudonyms in category, sorted (strcmp) */
	size_t npseudonyms;
	struct pii_pseudonymizer *pseudonymizer; /* raw mode: hashes values under the current key */
};

/* Whether len bytes of value (a stored field value as text; integers as decimal text)
 * belong to the subject: normalized and hashed in raw mode, compared as is in pseudonym
 * mode. Returns 1 or 0, or -1 with err when hashing fails. A value the normalizer rejects
 * does not match. */
int audit_matcher_test(const struct audit_matcher *m, const char *value, size_t len,
		       struct st_error *err);

/* The jsonl target's default file name globs, and how deep it walks partition folders. */
#define AUDIT_JSONL_GLOBS "*.jsonl,*.ndjson,*.json"
#define AUDIT_JSONL_MAX_DEPTH 16

enum audit_job_kind { AUDIT_JOB_ERASE, AUDIT_JOB_ACCESS, AUDIT_JOB_OBJECT };
enum audit_erase_action { AUDIT_ERASE_DELETE, AUDIT_ERASE_NULLIFY };

/* One request against one target. Every pointer is borrowed for the call. */
struct audit_target_job {
	const char *request_id;  /* e.g. "R-20261122-0001" */
	int kind;                /* enum audit_job_kind */
	const char *dataset;     /* the catalog dataset the target is bound to */
	const char *uri;         /* "sqlite:PATH?table=T", "jsonl:DIR", "http(s)://...",
				  * "postgres:[SCHEMA.]TABLE"; may hold credentials: only
				  * audit_target_redact() output is ever shown */
	int erase_action;        /* enum audit_erase_action (erase only) */
	const char *match_field; /* column, or top-level JSON key, compared with the subject */
	const char *const *nullify; /* nullify: the columns/keys set to null */
	size_t nnullify;
	/* Optional: a field whose values in the matched rows identify the subject in another
	 * category (the dataset's `subject` field). They are returned in subject_values so the
	 * caller can find the subject in other datasets. NULL: not collected. */
	const char *subject_field;
	const struct audit_matcher *match;
	/* HTTP: the category and pseudonym sent in the body; timeouts and retries. */
	const char *category, *pseudonym;
	long connect_timeout_ms, timeout_ms; /* 0: 5000 and 30000 */
	int max_attempts;                    /* 0: 3 */
	long backoff_ms;                     /* first retry delay, doubled each time; 0: 500 */
	/* The longest Retry-After (429, 503) waited for; a longer one fails the target at once.
	 * 0: 60 s; negative: none is waited for (every Retry-After over 0 fails). */
	long retry_after_max_s;
	/* HTTP, optional: the URL that answers how many records of the subject remain after an
	 * erasure (docs/audit.md), and where the bearer token comes from: a file that only its
	 * owner may read, or an environment variable. NULL: none. */
	const char *verify_uri;
	const char *token_file, *token_env;
	/* postgres: where the connection string comes from, a file that only its owner may
	 * read or an environment variable (one of them). It is never shown. */
	const char *dsn_file, *dsn_env;
};

/* What happened at one target. Never holds PII except subject_values and rows (below).
 * visited: tables (sqlite, 1), files read (jsonl) or endpoints asked (http); matched: the
 * subject's rows or records found; erased: those deleted or nullified (erase only);
 * remaining: the subject's rows a re-scan after the erasure still finds (HTTP: what its
 * verify URL answered). Every target starts at remaining -1 (unverified); an erase that
 * verifies sets it, so a target that cannot verify (HTTP without a verify URL) leaves -1.
 * Not an erasure: -1. */
struct audit_evidence {
	long visited, matched, erased, remaining; /* remaining: -1 = unverified */
	long skipped;       /* jsonl: files in the tree the globs do not match (listed in detail) */
	int64_t changed;    /* rows deleted or updated, records dropped or rewritten */
	int64_t files;      /* jsonl: files rewritten */
	long http_status;   /* http: last status, 0 if none */
	int attempts;       /* http: requests made; 1 for local targets */
	int64_t elapsed_ms;
	char detail[256];   /* the cause when it failed, or a note (e.g. lines kept unparsed); no PII */
	/* Values of job->subject_field in the matched rows, as text (NUL-terminated). They may
	 * be raw identifiers: the caller hashes them, then frees them with
	 * audit_evidence_release(), which wipes them. */
	char **subject_values;
	size_t nsubject_values;
	/* Access requests: the subject's rows as a JSON array text (for sqlite and jsonl) or the
	 * endpoint's response body (http); NULL otherwise. Wiped and freed on release. */
	char *rows_json;
};

/* Whether the target at uri counts the subject's rows itself (sqlite:, jsonl:, postgres:), so that
 * matched 0 means it held nothing of the subject. An HTTP target only knows what its
 * service answers: how many records remain, when it has a verify URL, never how many it
 * held. Returns 1 or 0. */
int audit_target_counts_rows(const char *uri);

/* Carries job out. Local targets (sqlite, jsonl, postgres) change nothing unless every step
 * succeeds: sqlite runs in one transaction with PRAGMA secure_delete=ON, postgres in one
 * transaction (audit_pg_run() in target_int.h: IN lists of parameters, cursors, the
 * connection string from job->dsn_file or job->dsn_env, never in a message); jsonl
 * rewrites each affected file through a temporary file, fsync and rename. After an erase, a
 * local target is re-scanned for the subject (sqlite, postgres: a count on the match
 * condition; jsonl: every matched file read again) and ev->remaining says how many rows are
 * left (0 when verified clean).
 * A jsonl target walks its directory tree (partition folders at any depth up to
 * AUDIT_JSONL_MAX_DEPTH, symbolic links never followed) and reads the files whose names
 * match its globs (jsonl:DIR?match=GLOB,GLOB; default AUDIT_JSONL_GLOBS, case-insensitive,
 * each also matching NAME.gz, read and written with zlib); other files are counted in
 * ev->skipped and named in ev->detail. A line that is not a JSON object fails the job
 * with "FILE:LINE: ..." and nothing is changed. Running a job again after success
 * matches nothing and changes nothing. HTTP POSTs {"id","action","category","pseudonym"}
 * with an Idempotency-Key derived from the request id and the dataset, and retries
 * timeouts, connection errors, 429 and 5xx with exponential backoff (or after the
 * Retry-After of a 429 or 503, within job->retry_after_max_s); any 2xx is success; an
 * erasure with a verify URL then asks it how many records remain (ev->remaining), and
 * fails unless none do. Fills ev in every case (release with audit_evidence_release()). Returns 0 when
 * the target is done, or -1 with err and ev->detail set (ST_E_INVALID for a bad URI or a
 * missing table/column, ST_E_SYSTEM for I/O, database or network failures). */
int audit_target_run(const struct audit_target_job *job, struct audit_evidence *ev,
		     struct st_error *err);
/* Wipes and frees subject_values and rows_json. */
void audit_evidence_release(struct audit_evidence *ev);
/* The one form in which a target URI is shown or stored: an http(s) URL, or a postgres://,
 * postgresql:// or redshift:// connection URI, without its user information
 * (user:password@), query and fragment, which may hold credentials or tokens; other URIs
 * as they are. Writes it into out (n bytes, always NUL-terminated when n > 0)
 * and returns its full length, like snprintf. */
size_t audit_target_redact(const char *uri, char *out, size_t n);
/* The same as a new string (free with st_free()), or NULL when out of memory. */
char *audit_target_redacted(const char *uri);
/* Writes at most limit rows (limit >= 1) of the PostgreSQL or Redshift table that uri
 * ("postgres:[SCHEMA.]TABLE") names to fd as JSON lines, one object per row with the
 * columns as keys, for `pii scan`; the connection string comes from dsn_file (only its
 * owner may read it) or the variable dsn_env. The rows are the table's first (a LIMIT,
 * which Redshift has too), read through a server-side cursor in a read-only transaction;
 * more than max_bytes of JSON fails. *rows counts what was written. Returns 0, or -1 with
 * err, which never holds the connection string or its password. */
int audit_pg_sample(const char *uri, const char *dsn_file, const char *dsn_env, uint64_t limit,
		    size_t max_bytes, int fd, uint64_t *rows, struct st_error *err);
/* The table a dataset's location names, into out (n bytes, NUL-terminated): the last
 * segment of its path ("redshift://dw/analytics.dim_user", "mysql://host/db.users"), or
 * the whole of a location without a scheme ("analytics.dim_user"); "database.schema.table"
 * loses the database (the connection chooses it) and double quotes are taken off. Returns
 * 0, or -1 when it names none (or it does not fit). The result is not checked: it becomes
 * a target URI "postgres:TABLE", which audit_target_check_uri() checks. */
int audit_location_table(const char *loc, char *out, size_t n);
/* Checks a target URI's syntax without touching it. Returns 0, or -1 with err
 * (ST_E_INVALID, naming the problem). */
int audit_target_check_uri(const char *uri, struct st_error *err);

#endif
