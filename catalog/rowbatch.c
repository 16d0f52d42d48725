/* Rows gathered per table and written up to CATALOG_ROWBATCH_MAX to one INSERT, in the
 * order they were added (so rowids come out as with one statement per row). */
#include "rowbatch.h"
#include "sql.h"

#include <string.h>

void catalog_rowbatch_init(struct catalog_rowbatch *b, sqlite3 *db, const char *head, int ncols)
{
	memset(b, 0, sizeof(*b));
	b->db = db;
	b->head = head;
	b->ncols = ncols;
	b->max_rows = (size_t)sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, -1) / (size_t)ncols;
	if (b->max_rows > CATALOG_ROWBATCH_MAX)
		b->max_rows = CATALOG_ROWBATCH_MAX;
	if (!b->max_rows)
		b->max_rows = 1;
	st_buf_init(&b->text, (size_t)1 << 30); /* what 64 rows of one load can hold */
}

void catalog_rowbatch_release(struct catalog_rowbatch *b)
{
	for (size_t i = 0; i <= CATALOG_ROWBATCH_MAX; i++)
		sqlite3_finalize(b->st[i]);
	st_buf_release(&b->text);
	memset(b, 0, sizeof(*b));
}

/* The INSERT of n rows, prepared once. */
static sqlite3_stmt *stmt(struct catalog_rowbatch *b, size_t n, struct st_error *err)
{
	struct st_buf sql;
	int bad = 0;

	if (b->st[n])
		return b->st[n];
	st_buf_init(&sql, 1 << 16);
	bad |= st_buf_adds(&sql, b->head);
	for (size_t r = 0; r < n; r++) {
		bad |= st_buf_adds(&sql, r ? ",(" : "(");
		for (int c = 0; c < b->ncols; c++)
			bad |= st_buf_adds(&sql, c ? ",?" : "?");
		bad |= st_buf_adds(&sql, ")");
	}
	if (bad)
		st_error_oom(err);
	else if (st_sql_prepare(b->db, &b->st[n], sql.p, err))
		b->st[n] = NULL;
	st_buf_release(&sql);
	return b->st[n];
}

int catalog_rowbatch_write(struct catalog_rowbatch *b, const struct catalog_rowval *vals,
			   size_t nvals, const char *text, struct st_error *err, const char *what)
{
	size_t n = nvals / (size_t)b->ncols, known;
	sqlite3_stmt *st;
	int rc, full;

	if (!n)
		return 0;
	if (!(st = stmt(b, n, err)))
		return -1;
	/* The full statement keeps its bindings from the last batch: a value bound there
	 * before (the same integer, a NULL, a text at the same address and of the same length,
	 * which SQLite reads only when it steps) is not bound again. Fields repeat most of
	 * theirs (zero flags, absent keys): binding was a fifth of writing the rows. */
	full = n == b->max_rows;
	known = full ? b->nbound : 0;
	for (size_t i = 0; i < n * (size_t)b->ncols; i++) {
		const struct catalog_rowval *v = &vals[i];
		struct catalog_rowbound *was = &b->bound[i];
		const char *p;

		switch (v->kind) {
		case SQLITE_INTEGER:
			if (i < known && was->kind == SQLITE_INTEGER && was->i == v->i)
				continue;
			if (full) {
				was->kind = SQLITE_INTEGER;
				was->i = v->i;
			}
			sqlite3_bind_int64(st, (int)i + 1, v->i);
			break;
		case SQLITE_TEXT:
		case SQLITE_BLOB:
			p = v->at ? v->at : text + v->off;
			if (i < known && was->kind == v->kind && was->p == p && was->len == v->len)
				continue;
			if (full) {
				was->kind = v->kind;
				was->p = p;
				was->len = v->len;
			}
			if (v->kind == SQLITE_TEXT)
				sqlite3_bind_text(st, (int)i + 1, p, (int)v->len, SQLITE_STATIC);
			else
				sqlite3_bind_blob(st, (int)i + 1, p, (int)v->len, SQLITE_STATIC);
			break;
		default:
			if (i < known && was->kind == SQLITE_NULL)
				continue;
			if (full)
				was->kind = SQLITE_NULL;
			sqlite3_bind_null(st, (int)i + 1);
		}
	}
	if (full)
		b->nbound = n * (size_t)b->ncols;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : st_sql_error(err, b->db, what);
}

int catalog_rowbatch_flush(struct catalog_rowbatch *b, struct st_error *err, const char *what)
{
	int ret = catalog_rowbatch_write(b, b->vals, b->nvals, b->text.p, err, what);

	b->nvals = 0;
	st_buf_reset(&b->text);
	return ret;
}

/* Counts a value in; writes the batch when the last row is complete and the batch full. */
static int added(struct catalog_rowbatch *b, struct st_error *err, const char *what)
{
	b->nvals++;
	if (b->nvals == b->max_rows * (size_t)b->ncols)
		return catalog_rowbatch_flush(b, err, what);
	return 0;
}

int catalog_rowbatch_int(struct catalog_rowbatch *b, int64_t v, struct st_error *err,
			 const char *what)
{
	struct catalog_rowval *x = &b->vals[b->nvals];

	x->kind = SQLITE_INTEGER;
	x->i = v;
	return added(b, err, what);
}

/* Adds len bytes at p as a value of kind (SQLITE_TEXT or SQLITE_BLOB; NULL p: SQL NULL). */
static int add_bytes(struct catalog_rowbatch *b, int kind, const void *p, size_t len,
		     struct st_error *err, const char *what)
{
	struct catalog_rowval *x = &b->vals[b->nvals];

	x->kind = p ? kind : SQLITE_NULL;
	x->at = NULL;
	x->off = b->text.len;
	x->len = len;
	/* The NUL keeps the buffer allocated, so an empty text is text, not NULL. */
	if (p && (st_buf_add(&b->text, p, len) || st_buf_add(&b->text, "", 1)))
		return st_error_oom(err);
	return added(b, err, what);
}

int catalog_rowbatch_blob(struct catalog_rowbatch *b, const void *p, size_t len,
			  struct st_error *err, const char *what)
{
	return add_bytes(b, SQLITE_BLOB, p, len, err, what);
}

int catalog_rowbatch_text(struct catalog_rowbatch *b, const char *s, size_t len,
			  struct st_error *err, const char *what)
{
	return add_bytes(b, SQLITE_TEXT, s, len, err, what);
}
