/* The pre-ingest hook: streams records (JSON lines or CSV), validates each against its
 * dataset's latest schema, replaces PII as each field declares, and sends every record it
 * cannot pass to the rejects file with its line number and reason. */
#ifndef PII_INGEST_H
#define PII_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "error.h"
#include "pii.h"

enum pii_format { PII_FMT_JSONL, PII_FMT_CSV };
enum pii_unknown_policy { PII_UNKNOWN_REJECT, PII_UNKNOWN_DROP };

/* Why a record was rejected; pii_reject_code() names each for reports and the rejects file. */
enum pii_reject {
	PII_R_MALFORMED, PII_R_UTF8, PII_R_ESCAPE, PII_R_DEPTH, PII_R_TOO_LONG, PII_R_DUP_KEY,
	PII_R_NOT_OBJECT, PII_R_NO_LABEL, PII_R_UNKNOWN_LABEL, PII_R_UNKNOWN_FIELD,
	PII_R_MISSING_FIELD, PII_R_TYPE, PII_R_RANGE, PII_R_NULL, PII_R_VALUE, PII_R_RAGGED,
	PII_R_CSV, PII_R_COUNT
};

#define PII_INGEST_DEFAULT_MAX_RECORD (1u << 20)

struct pii_ingest_opts {
	const char *dataset;      /* a dataset name, or "namespace.*" */
	const char *label;        /* with a pattern: the field naming the dataset (event_type) */
	int format;               /* enum pii_format */
	int unknown;              /* enum pii_unknown_policy */
	size_t max_record;        /* bytes per record; 0 means the default (1 MiB) */
	const char *country_code; /* for phone numbers without one, e.g. "82"; may be NULL */
	const char *region;       /* the workspace's country (pii.default_country, "KR"): the
				   * detectors try it for national phone numbers after a
				   * dataset's own regions; NULL: none */
	/* Called every `progress_every` records with the running totals, if set. */
	void (*progress)(void *ctx, uint64_t records, uint64_t bytes);
	void *progress_ctx;
	uint64_t progress_every;
	/* The suppression list: subjects who objected or were erased, as (category,
	 * pseudonym) pairs in two parallel arrays sorted by category, then pseudonym. A record
	 * with a field of one of these categories whose value (hashed under the current key,
	 * or as it is when it already is a pseudonym) is on the list is dropped and counted as
	 * suppressed. Borrowed for the ingest's life. */
	const char *const *suppress_categories, *const *suppress_pseudonyms;
	size_t nsuppress;
};

struct pii_ingest_stats {
	uint64_t in, out, rejected, suppressed; /* in = out + rejected + suppressed */
	uint64_t bytes_in, bytes_out;
	uint64_t by_reason[PII_R_COUNT];
};

struct pii_ingest;

/* Builds the plan for o->dataset from the catalog: every field's type, transform,
 * normalizer and category. When a field classed direct, indirect or sensitive declares no
 * transform, or a transform cannot apply to its type, ingest must not start: each such
 * field goes to problems and -1 is returned with err (ST_E_INVALID). key must have its
 * secret loaded and outlive the ingest. Free with pii_ingest_free(). */
int pii_ingest_new(struct pii_ingest **out, struct catalog *c, const struct pii_key *key,
		   const struct pii_ingest_opts *o, struct st_diags *problems,
		   struct st_error *err);
/* Reads records from in_fd until end of input, writes the records that pass, transformed, to
 * out_fd in the input's format and field order, and writes each rejected record to rej_fd as
 * a JSON line {line, code, reason, record or record_base64}. Records of suppressed subjects
 * are written nowhere and counted. Memory stays bounded whatever
 * the input: a record longer than the limit is streamed to the rejects file. Fills stats
 * (in = out + rejected + suppressed always). With threads > 1, that many workers rewrite chunks of
 * lines in parallel and the output keeps the input order. Returns 0, or -1 with err on an
 * I/O or system failure. */
int pii_ingest_run(struct pii_ingest *ing, int in_fd, int out_fd, int rej_fd, int threads,
		   struct pii_ingest_stats *stats, struct st_error *err);
/* ---- one record at a time: the core that pii_ingest_run() uses, for other transports ---- */

enum pii_record_outcome { PII_REC_PASSED, PII_REC_REJECTED, PII_REC_SUPPRESSED };

struct pii_record_result {
	int outcome;       /* enum pii_record_outcome */
	const char *out;   /* PASSED: the rewritten record (JSON, no newline), out_len bytes, */
	size_t out_len;    /* valid until the worker's next call */
	int reason;        /* REJECTED: enum pii_reject */
	const char *why;   /* REJECTED: the reason; names a field, never quotes a value */
};

/* One thread's buffers, JSON tape and subkey cache for pii_ingest_record(). */
struct pii_ingest_worker;

/* Makes a worker for ing (JSON records; ing must outlive it). Returns 0, or -1 with err. */
int pii_ingest_worker_new(struct pii_ingest_worker **out, const struct pii_ingest *ing,
			  struct st_error *err);
/* Frees a worker, its buffers wiped. NULL is fine. */
void pii_ingest_worker_free(struct pii_ingest_worker *w);
/* Validates and pseudonymizes one JSON record (rec, len bytes, without a newline) with the
 * same core as pii_ingest_run(): same checks, same transforms, same suppression list.
 * Fills res; returns 0, or -1 with err on a system error (out of memory). */
int pii_ingest_record(struct pii_ingest_worker *w, const char *rec, size_t len,
		      struct pii_record_result *res, struct st_error *err);
/* Frees the plan, buffers and subkeys. NULL is fine. */
void pii_ingest_free(struct pii_ingest *ing);
/* The short code of a reject reason ("malformed-json", "unknown-field", ...). */
const char *pii_reject_code(int reason);

#endif
