/* The rows of a dbt manifest written on a second thread (catalog/dbt_pipe.c), so that
 * SQLite's work overlaps the reading of the manifest. Internal to catalog/. */
#ifndef CATALOG_DBT_PIPE_H
#define CATALOG_DBT_PIPE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "rowbatch.h"

#define CATALOG_DBT_PIPE_MAX_STMT 4

struct catalog_dbt_pipe;

/* Starts the writer thread. Targets 0 to nb - 1 are the row batches b[] (what[]: their
 * messages), which must hold no rows yet, targets nb to nb + nst - 1 the statements st[]
 * (st_what[]). Rows of batch lead (-1: none) are written before any rows of another batch
 * queued after them, in statements of fewer rows if need be (rows that others refer to
 * while SQLite checks foreign keys); the other batches' rows are written a statement's
 * worth at a time. From then until catalog_dbt_pipe_finish() only the writer uses db, b[] and
 * st[]; those and the arrays what[], st[] and st_what[] must outlive it (the writer reads
 * them). fresh: the catalog held no rows when this load began (so no page can hold deleted
 * content), and PRAGMA secure_delete may be off until catalog_dbt_pipe_finish(); otherwise
 * it is left as it is. Returns 0, or -1 when no thread or memory could be had, or b[] holds
 * rows (*out NULL: write directly instead). */
int catalog_dbt_pipe_start(struct catalog_dbt_pipe **out, struct catalog_rowbatch *b,
			   const char *const *what, size_t nb, sqlite3 *db, sqlite3_stmt *const *st,
			   const char *const *st_what, size_t nst, int lead, int fresh);
/* Queues, in order: the next value of a batch's row (catalog_rowbatch_int/_text) or of a
 * statement's parameters (the first, the second... until its step), text s NULL as SQL
 * NULL; or the step of a statement, which must end SQLITE_DONE. Return 0, or -1 when out
 * of memory (the pipe is still to be finished). */
int catalog_dbt_pipe_int(struct catalog_dbt_pipe *p, int target, int64_t v);
int catalog_dbt_pipe_text(struct catalog_dbt_pipe *p, int target, const char *s, size_t n);
int catalog_dbt_pipe_step(struct catalog_dbt_pipe *p, int target);
/* As catalog_dbt_pipe_text() with s not NULL, but a batch's text is not copied: s must stay
 * as it is until catalog_dbt_pipe_finish() (a string constant, or one that outlives the
 * pipe). A text kept at the same address for the same column of the same row of the batch's
 * statement is not bound again. */
int catalog_dbt_pipe_kept(struct catalog_dbt_pipe *p, int target, const char *s, size_t n);
/* Work for the queuing thread while it waits for the writer: fn(u) is called, outside the
 * pipe's lock, as long as the queue is full and it returns 1 (it did a short piece of
 * work); when it returns 0, the thread sleeps until the writer makes room. fn NULL: none. */
void catalog_dbt_pipe_idle(struct catalog_dbt_pipe *p, int (*fn)(void *u), void *u);
/* Waits until every queued value is written, stops the thread and frees p (NULL is fine).
 * The rows of a batch too few to fill its statement are added to the batch b[] (to be
 * flushed by the caller), as catalog_rowbatch_int/_text would have. Returns 0, or -1 with
 * err: the first failure of the writer, after which it wrote nothing. */
int catalog_dbt_pipe_finish(struct catalog_dbt_pipe *p, struct st_error *err);

#endif
