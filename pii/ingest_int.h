/* Private to pii/ingest*.c: the plan and API (ingest.c), CSV (ingest_csv.c), the pipeline
 * (ingest_pipeline.c) and the record path (ingest_record.c); each calls only files after
 * it in this list, never back. Not part of the pii library's interface. */
#ifndef PII_INGEST_INT_H
#define PII_INGEST_INT_H

#include "ingest.h"
#include "buf.h"
#include "json.h"

#include <stddef.h>
#include <stdint.h>

/* ---- the plan (ingest.c) ---- */

/* Values the fast path of ingest_record.c checks in its member loop: kept (or dropped, and
 * so only checked) strings, dates, timestamps, integers, decimals and booleans, scanned
 * strings that cannot hold a finding, and pseudonymized strings and integers, masked
 * strings and dates truncated to their year (from Q_HASH_STRING on: the value is written
 * transformed), of fields not on the suppression list. */
enum quick_kind { Q_NONE, Q_KEEP_STRING, Q_KEEP_DATE, Q_KEEP_NUMBER, Q_KEEP_DECIMAL,
		  Q_KEEP_BOOL, Q_SCAN_STRING, Q_HASH_STRING, Q_HASH_INT, Q_MASK_STRING,
		  Q_TRUNC_DATE };

enum ftype { F_STRING, F_INT, F_INT64, F_FLOAT, F_DECIMAL, F_BOOL, F_DATE, F_TIMESTAMP,
	     F_OBJECT, F_ARRAY };

struct spec {
	char *name, *path, *category;
	size_t name_len;
	int type, required, nullable, scan, transform, norm, trunc;
	int suppress;        /* its category is on the suppression list */
	int plain;           /* the name needs no JSON escape: "name": is its key as written */
	int quick_key;       /* plain and "name": fits in 24 bytes: */
	uint64_t key_word[3], key_mask[3]; /* those bytes as three words, and their masks */
	unsigned key16_mask; /* bit k: byte k (< 16) of key_word is the key's */
	/* The fast path's script step (fast_object()): the bytes between the previous member's
	 * value and this one's, ',"name":' (for fields[0], whose byte 0 is the object's '{',
	 * that byte is not compared); sep_mask: bit k, byte k of sep is compared; 0 when the
	 * field takes no step (its name is not plain or too long, or it is dropped). */
	unsigned char sep[32];
	uint32_t sep_mask;
	size_t sep_len;
	size_t script_end;   /* an object's first field that takes no script step, or nfields */
	struct spec *fields; /* object members */
	size_t nfields;
	uint64_t required_mask; /* bit k: fields[k] is required (k < 64) */
	int quick;           /* enum quick_kind: what the fast path's member loop takes itself */
	struct spec *items;  /* array element */
	size_t key_slot;     /* Q_HASH_*: its category's subkey in the worker's keys[] */
};

struct plan {
	char *name;
	const char *short_name; /* after the dot */
	size_t short_len;
	char short_key[16];     /* short_name when shorter, zero padded; else its first bytes */
	struct spec root;       /* an object */
	/* The free-text detectors' settings from the descriptor's detect: key, resolved once:
	 * its threshold, and detect.regions pointing at regions (declared, then the defaults). */
	struct pii_detect_opts detect;
	char regions[PII_REGIONS_LEN];
	char *country_field;    /* the path whose value adds a record's region; NULL: none */
	const struct spec *label; /* under a pattern: the root field the label names, or NULL */
};

struct pii_ingest {
	struct pii_ingest_opts o;
	struct plan *plans;
	size_t nplans;
	int pattern;
	size_t label_len;
	char label_key[72];     /* '"label":"', label_key_len bytes; 0 when the label is longer */
	size_t label_key_len;
	const struct pii_key *key;
	size_t nkeys;           /* the fields the fast path pseudonymizes (spec.key_slot) */
	/* Under a pattern, by ing_plan_slot() of a plan's short name: 0 no plan, k + 1 plans[k]
	 * alone, ING_SLOT_MANY more than one (then the plans are searched in order). */
	uint8_t plan_slot[64];
};

#define ING_SLOT_MANY 255

/* The plan_slot[] index of the short name v[0, n): its length, first and last bytes. */
static inline size_t ing_plan_slot(const char *v, size_t n)
{
	return n ? (n + 3 * (size_t)(unsigned char)v[0] + (unsigned char)v[n - 1]) & 63 : 0;
}

/* ---- the record path (ingest_record.c) ---- */

/* What one thread needs to rewrite records: its own tape, buffers and subkey cache. */
struct wctx {
	const struct pii_ingest *ing;
	struct pii_pseudonymizer *h;
	const struct pii_b2b **keys; /* ing->nkeys: a field's subkey state from h, or NULL */
	struct st_jtape tape;
	struct st_buf out, val, rej;
	char *tmp;       /* unescape space, max_record + 1 bytes */
	struct pii_ingest_stats st;
	uint64_t line;
	struct pii_detect_opts det; /* the record's: its plan's, with its country's region */
	int reason;      /* set by the rewrite when it rejects */
	int suppressed;  /* the record belongs to a suppressed subject */
	size_t label_hint; /* where the last record's label was: the fast path looks there first */
	uint64_t *bm;    /* the fast path's map of the line's special bytes, bm_words words */
	size_t bm_words;
	int wide_map;    /* the map is made with AVX-512BW (else SSE2) */
	char why[256];
	struct st_error err;
};

/* Sets up w for ing: buffers bounded by ing's max_record and a pseudonymizer of ing's key.
 * Returns 0, or -1 with err. Release w with ing_wctx_release() in every case once
 * w->ing is set. */
int ing_wctx_init(struct wctx *w, const struct pii_ingest *ing, struct st_error *err);
/* Frees what w holds, the unescape space wiped; w is zeroed. */
void ing_wctx_release(struct wctx *w);
/* Rejects the record: sets w->reason and w->why (fmt with one string a). Returns -1. */
int ing_reject(struct wctx *w, int reason, const char *fmt, const char *a);
/* The member of object spec obj named key (klen bytes), or NULL. */
const struct spec *ing_find_spec(const struct spec *obj, const char *key, size_t klen);
/* 1 when the integer text s (n bytes, JSON grammar already checked) is within [min, max];
 * *is_int is 0 when s holds a character other than a digit after an optional '-'. */
int ing_int_in_range(const char *s, size_t n, int64_t min, int64_t max, int *is_int);
/* 1 when the number text s (n bytes, JSON grammar already checked) is within a double's
 * range (1e400 is not; 1e-400 rounds to 0 and is), 0 when it is not, -1 out of memory. */
int ing_number_finite(const char *s, size_t n);
/* 1 when s (n bytes) is a date YYYY-MM-DD; with timestamp, also when the date is followed
 * by 'T' or ' ' and a time (HH:MM...). */
int ing_valid_date(const char *s, size_t n, int timestamp);
/* Marks the record suppressed when value text v of field s identifies a subject on the
 * suppression list: as it is (already a pseudonym) or hashed under the current key.
 * Returns 0, or -2 on a system error. */
int ing_check_suppressed(struct wctx *w, const struct spec *s, const char *v, size_t len);
/* Applies s's transform to value text (a decoded string, or a number's text). On 0, *res
 * is the text to write: w->val, or text itself when nothing changed. Returns -1 when the
 * record is rejected, -2 on a system error, -3 when it grows past its bound. */
int ing_transform_text(struct wctx *w, const struct spec *s, const char *text, size_t len,
		       const char **res, size_t *rlen);
/* Validates the parsed object obj of line (on w->tape) against spec s and appends its
 * rewrite to w->out. Returns 0, -1 when the record is rejected (w->reason set), -2 on a
 * system error (w->err), -3 when the rewrite grows past its bound. */
int ing_emit_object(struct wctx *w, const char *line, const struct st_jnode *obj,
		    const struct spec *s);
/* The plan for the parsed record line: the one dataset, or the one its label field names.
 * NULL when it has none (the record is rejected, w->reason set). */
const struct plan *ing_pick_plan(struct wctx *w, const char *line);

/* What ing_process_record() made of a record. */
enum { ING_PASSED, ING_REJECTED, ING_SUPPRESSED };
/* The record core, shared by the stdin pipeline and pii_ingest_record() (the Kafka
 * consumer): checks the length, parses, picks the plan, validates and rewrites one record
 * (line, len bytes, no newline); a compact record whose members come in schema order goes
 * in one pass (fast_record() in ingest_record.c). Returns ING_PASSED with the rewrite in w->out (no
 * newline), ING_REJECTED with w->reason and w->why, ING_SUPPRESSED, or -1 with w->err on
 * a system error. Counts nothing. */
int ing_process_record(struct wctx *w, const char *line, size_t len);
/* The same by the full path alone (parse onto the tape, pick the plan, ing_emit_object()),
 * which ing_process_record() takes for every record its one-pass fast path gives up on.
 * The fuzz targets check that both give the same outcome, output and reason. */
int ing_process_full(struct wctx *w, const char *line, size_t len);

/* ---- the pipeline (ingest_pipeline.c) ---- */

/* Where rewritten records and reject entries go: a buffered file descriptor, or (fd < 0)
 * memory that a worker fills for the writer. */
struct sink {
	int fd;
	const char *what;
	struct st_buf b;
};

/* The RFC 4180 states that matter for finding where a record ends. */
enum { CSV_START, CSV_PLAIN, CSV_QUOTED, CSV_QUOTE };

struct reader {
	int fd, eof;
	char *buf;
	size_t cap, off, have;
	uint64_t line; /* lines handed out so far */
};

#define CHUNK (1u << 20)

/* Writes out what o buffers (a file descriptor sink). Returns 0, or -1 with err. */
int ing_sink_flush(struct sink *o, struct st_error *err);
/* Appends n bytes at p to o, writing through when its buffer fills. Returns 0, or -1 with
 * err. */
int ing_sink_add(struct sink *o, const char *p, size_t n, struct st_error *err);
/* Writes the rejects entry for a record held whole in memory (line, len bytes), with
 * w->line, w->reason and w->why, and counts it. Returns 0, or -1 with w->err. */
int ing_write_reject(struct wctx *w, struct sink *rej, const char *line, size_t len);
/* 1 when s (n bytes) holds only spaces, tabs and carriage returns. */
int ing_blank(const char *s, size_t n);
/* Adds the counts of from to to. */
void ing_stats_add(struct pii_ingest_stats *to, const struct pii_ingest_stats *from);
/* Steps the record-end scanner (*state, from CSV_START) over byte c. Returns 1 when c ends
 * the record. A quote counts only at the start of a field or inside a quoted one, so a
 * stray quote in a plain field cannot swallow the following lines. */
int ing_csv_step(int *state, char c);
/* Streams an over-long record, whose first bytes are buffered in rd, into rej as base64,
 * reading on to its end (the next newline; with csv, outside quotes), and counts it in st.
 * Returns 0, or -1 with err. */
int ing_reject_long(struct reader *rd, struct sink *rej, struct pii_ingest_stats *st,
		    size_t max, int csv, struct st_error *err);
/* Rewrites JSON lines from rd on nthreads worker threads, writing to out and rej in input
 * order, and adds the counts to st. Returns 0, or -1 with err. */
int ing_run_threaded(struct pii_ingest *ing, struct reader *rd, struct sink *out,
		     struct sink *rej, struct pii_ingest_stats *st, int nthreads,
		     struct st_error *err);
/* The same on the calling thread. Returns 0, or -1 with err. */
int ing_run_serial(struct pii_ingest *ing, struct reader *rd, struct sink *out,
		   struct sink *rej, struct pii_ingest_stats *st, struct st_error *err);

/* ---- CSV (ingest_csv.c) ---- */

/* Rewrites CSV from rd serially (a record may span lines): the header first, then each
 * row, to out and rej; adds the counts to st. Returns 0, or -1 with err. */
int ing_run_csv(struct pii_ingest *ing, struct reader *rd, struct sink *out,
		struct sink *rej, struct pii_ingest_stats *st, struct st_error *err);

#endif
