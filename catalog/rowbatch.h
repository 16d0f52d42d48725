/* Rows for one table gathered and written many to an INSERT: the loader's field, edge and
 * tag rows.
 * A statement per row cost the loader more than the rows themselves. Internal to catalog/. */
#ifndef CATALOG_ROWBATCH_H
#define CATALOG_ROWBATCH_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

#define CATALOG_ROWBATCH_MAX 64  /* rows per statement */
#define CATALOG_ROWBATCH_COLS 22 /* columns per row (a dataset's row: load.c) */

struct catalog_rowval {
	int kind; /* SQLITE_INTEGER, SQLITE_TEXT, SQLITE_BLOB or SQLITE_NULL */
	int64_t i;
	size_t off, len; /* text: in the batch's own copy */
	const char *at;	 /* text not copied: where it is (NULL: at off in the copy) */
};

struct catalog_rowbatch {
	sqlite3 *db;
	const char *head; /* "INSERT ... VALUES " */
	int ncols;
	size_t max_rows; /* CATALOG_ROWBATCH_MAX, or fewer when SQLite allows fewer variables */
	sqlite3_stmt *st[CATALOG_ROWBATCH_MAX + 1]; /* of n rows, prepared on first use */
	struct catalog_rowval vals[CATALOG_ROWBATCH_MAX * CATALOG_ROWBATCH_COLS];
	size_t nvals;
	struct st_buf text;
	/* What the statement of max_rows rows has bound (bindings outlive sqlite3_reset()):
	 * nbound values, texts by address (where SQLite reads them when it steps). */
	struct catalog_rowbound {
		int kind;
		int64_t i;
		const char *p;
		size_t len;
	} bound[CATALOG_ROWBATCH_MAX * CATALOG_ROWBATCH_COLS];
	size_t nbound;
};

/* Sets up an empty batch for head (a string constant ending in "VALUES ") with ncols
 * columns (at most CATALOG_ROWBATCH_COLS). Release with catalog_rowbatch_release(). */
void catalog_rowbatch_init(struct catalog_rowbatch *b, sqlite3 *db, const char *head, int ncols);
/* Adds the next value of the current row: an integer, or len bytes of text (copied; NULL is
 * SQL NULL). A full row is written with the others once the batch is full. Return 0, or -1
 * with err (what names the rows in the message). */
int catalog_rowbatch_int(struct catalog_rowbatch *b, int64_t v, struct st_error *err,
			 const char *what);
int catalog_rowbatch_text(struct catalog_rowbatch *b, const char *s, size_t len,
			  struct st_error *err, const char *what);
/* The same for a blob of len bytes (copied; NULL is SQL NULL). */
int catalog_rowbatch_blob(struct catalog_rowbatch *b, const void *p, size_t len,
			  struct st_error *err, const char *what);
/* Writes the rows gathered so far in one statement. Returns 0, or -1 with err ("what:
 * <SQLite's message>"). */
int catalog_rowbatch_flush(struct catalog_rowbatch *b, struct st_error *err, const char *what);
/* Writes nvals values vals[] (whole rows of b's columns, at most max_rows; texts and blobs
 * at their at, else at text + off, which must stay as they are until the next write to b)
 * in one statement, as catalog_rowbatch_flush() writes the rows gathered in b, which this
 * leaves as they are. For rows gathered elsewhere (catalog/dbt_pipe.c). Returns 0, or -1
 * with err. */
int catalog_rowbatch_write(struct catalog_rowbatch *b, const struct catalog_rowval *vals,
			   size_t nvals, const char *text, struct st_error *err, const char *what);
/* Drops rows not written and finalizes the statements. */
void catalog_rowbatch_release(struct catalog_rowbatch *b);

#endif
