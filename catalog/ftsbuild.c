/* A fresh load's search index built on a thread of its own (its first rows, if the loader
 * likes, on the loader's thread while it waits) into a contentless search_fts in memory;
 * FTS5's index, sizes and settings are then copied into the catalog's empty one, with content
 * rows from the same rows (ftsbuild.h). FTS5's tokenizing was a tenth of a 10k load. */
#include "ftsbuild.h"
#include "alloc.h"
#include "rowbatch.h"
#include "sql.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

struct catalog_ftsbuild {
	pthread_t th;
	int running;		   /* th was started (catalog_ftsbuild_run()) */
	sqlite3 *db;               /* the builder's own, in memory */
	sqlite3_stmt *st;	   /* its CATALOG_FTS_INSERT_SQL */
	char *create_sql;          /* the catalog's CREATE VIRTUAL TABLE statement */
	char *builder_sql;         /* the same table, contentless */
	const struct st_buf *rows; /* see catalog_ftsbuild_start() */
	size_t done;		   /* bytes of rows indexed */
	int failed;		   /* an insert failed: the build is of no use */
	int ok;                    /* the thread indexed every row */
};

/* The search row at p: its rowid and its five texts (NULL: SQL NULL) in the order of
 * catalog_ftsbuild_start(). Returns its length in bytes. */
static size_t row_at(const char *p, int64_t *id, const char *text[5], size_t len[5])
{
	size_t at = sizeof(*id);
	int64_t n;

	memcpy(id, p, sizeof(*id));
	for (int i = 0; i < 5; i++) {
		memcpy(&n, p + at, sizeof(n));
		at += sizeof(n);
		text[i] = n < 0 ? NULL : p + at;
		len[i] = n < 0 ? 0 : (size_t)n;
		at += len[i];
	}
	return at;
}

size_t catalog_ftsbuild_bind(sqlite3_stmt *st, const char *p)
{
	const char *text[5];
	size_t len[5], at;
	int64_t id;

	at = row_at(p, &id, text, len);
	sqlite3_bind_int64(st, 1, id);
	for (int i = 0; i < 5; i++)
		if (text[i])
			sqlite3_bind_text(st, i + 2, text[i], (int)len[i], SQLITE_STATIC);
		else
			sqlite3_bind_null(st, i + 2);
	return at;
}

/* Indexes the row of b->rows at b->done. Returns 0, or -1 (b->failed set). */
static int index_row(struct catalog_ftsbuild *b)
{
	int rc;

	b->done += catalog_ftsbuild_bind(b->st, b->rows->p + b->done);
	rc = sqlite3_step(b->st);
	sqlite3_reset(b->st);
	if (rc != SQLITE_DONE)
		b->failed = 1;
	return b->failed ? -1 : 0;
}

/* The builder's database: the contentless table, in one transaction (FTS5 writes its
 * pending entries as a segment at every commit), and its insert. Returns 0, or -1. */
static int open_db(struct catalog_ftsbuild *b)
{
	if (sqlite3_open_v2(":memory:", &b->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    sqlite3_exec(b->db, "PRAGMA journal_mode = OFF", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(b->db, b->builder_sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(b->db, CATALOG_FTS_HASHSIZE_SQL, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(b->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(b->db, CATALOG_FTS_INSERT_SQL, -1, &b->st, NULL) != SQLITE_OK)
		return -1;
	return 0;
}

static void *build(void *arg)
{
	struct catalog_ftsbuild *b = arg;

	if (!b->db && open_db(b))
		b->failed = 1;
	while (!b->failed && b->done < b->rows->len)
		index_row(b);
	if (!b->failed && sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		b->ok = 1;
	sqlite3_finalize(b->st);
	b->st = NULL;
	return NULL;
}

static void builder_free(struct catalog_ftsbuild *b)
{
	if (!b)
		return;
	sqlite3_finalize(b->st);
	sqlite3_close(b->db);
	st_free(b->create_sql);
	st_free(b->builder_sql);
	st_free(b);
}

/* A builder of rows with no database yet. */
static struct catalog_ftsbuild *builder_new(const char *create_sql, const struct st_buf *rows)
{
	struct catalog_ftsbuild *b = st_calloc(1, sizeof(*b));
	const char *close = create_sql ? strrchr(create_sql, ')') : NULL;
	size_t head;

	/* "... USING fts5(columns, options)": content='' goes before the last parenthesis. A
	 * table with a content option of its own is not one this builder knows. */
	static const char opt[] = ", content=''";
	size_t tail;

	if (!b || !close || strncasecmp(create_sql, "CREATE VIRTUAL TABLE", 20) ||
	    strcasestr(create_sql, "content"))
		goto fail;
	head = (size_t)(close - create_sql);
	tail = strlen(close) + 1;
	b->create_sql = st_strdup(create_sql);
	b->builder_sql = st_malloc(head + sizeof(opt) - 1 + tail);
	if (!b->create_sql || !b->builder_sql)
		goto fail;
	memcpy(b->builder_sql, create_sql, head);
	memcpy(b->builder_sql + head, opt, sizeof(opt) - 1);
	memcpy(b->builder_sql + head + sizeof(opt) - 1, close, tail);
	b->rows = rows;
	return b;
fail:
	builder_free(b);
	return NULL;
}

struct catalog_ftsbuild *catalog_ftsbuild_open(const char *create_sql, const struct st_buf *rows)
{
	struct catalog_ftsbuild *b = builder_new(create_sql, rows);

	if (b && open_db(b)) {
		builder_free(b);
		return NULL;
	}
	return b;
}

int catalog_ftsbuild_step(struct catalog_ftsbuild *b, size_t ready)
{
	if (b->failed || b->done >= ready)
		return 0;
	return index_row(b) ? 0 : 1;
}

int catalog_ftsbuild_run(struct catalog_ftsbuild *b)
{
	if (b->failed || pthread_create(&b->th, NULL, build, b))
		return -1;
	b->running = 1;
	return 0;
}

struct catalog_ftsbuild *catalog_ftsbuild_start(const char *create_sql, const struct st_buf *rows)
{
	struct catalog_ftsbuild *b = builder_new(create_sql, rows); /* its thread opens db */

	if (b && catalog_ftsbuild_run(b)) {
		builder_free(b);
		return NULL;
	}
	return b;
}

/* Waits for b's thread, if it was started. */
static void join(struct catalog_ftsbuild *b)
{
	if (b->running)
		pthread_join(b->th, NULL);
	b->running = 0;
}

void catalog_ftsbuild_abandon(struct catalog_ftsbuild *b)
{
	if (!b)
		return;
	join(b);
	builder_free(b);
}

/* The builder's shadow tables, what they are read by and what they are written by. */
static const struct {
	const char *from, *to;
} copies[] = {
	{"SELECT id, block FROM search_fts_data ORDER BY id",
	 "INSERT INTO search_fts_data(id, block) VALUES (?1, ?2)"},
	{"SELECT segid, term, pgno FROM search_fts_idx ORDER BY segid, term",
	 "INSERT INTO search_fts_idx(segid, term, pgno) VALUES (?1, ?2, ?3)"},
	{"SELECT k, v FROM search_fts_config ORDER BY k",
	 "INSERT OR REPLACE INTO search_fts_config(k, v) VALUES (?1, ?2)"},
};
#define NCOPIES (sizeof(copies) / sizeof(*copies))

/* The sizes of every row (one per search row), many to an INSERT. Returns 0, or -1 with
 * err. */
static int copy_sizes(sqlite3 *db, sqlite3_stmt *from, struct catalog_rowbatch *b,
		      struct st_error *err)
{
	static const char what[] = "cannot copy the search index";
	int rc;

	catalog_rowbatch_init(b, db, "INSERT INTO search_fts_docsize(id, sz) VALUES ", 2);
	while ((rc = sqlite3_step(from)) == SQLITE_ROW)
		if (catalog_rowbatch_int(b, sqlite3_column_int64(from, 0), err, what) ||
		    catalog_rowbatch_blob(b, sqlite3_column_blob(from, 1),
					  (size_t)sqlite3_column_bytes(from, 1), err, what))
			return -1;
	if (rc != SQLITE_DONE)
		return st_error_set(err, ST_E_SYSTEM, "cannot read the search index built");
	return catalog_rowbatch_flush(b, err, what);
}

/* The content rows, column for column as FTS5 stores them (c0 to c5: name, description,
 * fields, tags, owner, terms), many to an INSERT. Returns 0, or -1 with err. */
static int copy_content(sqlite3 *db, const struct st_buf *rows, struct catalog_rowbatch *b,
			struct st_error *err)
{
	static const char what[] = "cannot copy the search index";
	static const int col[5] = {0, 1, 3, 4, 2}; /* c0.. for each text of a row */

	catalog_rowbatch_init(b, db,
			      "INSERT INTO search_fts_content(id, c0, c1, c2, c3, c4, c5) VALUES ", 7);
	for (size_t at = 0; at < rows->len;) {
		const char *text[5], *by_col[5];
		size_t len[5], by_len[5];
		int64_t id;

		at += row_at(rows->p + at, &id, text, len);
		for (int i = 0; i < 5; i++) {
			by_col[col[i]] = text[i];
			by_len[col[i]] = len[i];
		}
		if (catalog_rowbatch_int(b, id, err, what))
			return -1;
		for (int i = 0; i < 5; i++)
			if (catalog_rowbatch_text(b, by_col[i], by_len[i], err, what))
				return -1;
		if (catalog_rowbatch_text(b, NULL, 0, err, what))
			return -1;
	}
	return catalog_rowbatch_flush(b, err, what);
}

/* Copies every row of from into to. Returns 0, or -1 with err. */
static int copy_rows(sqlite3 *db, sqlite3_stmt *from, sqlite3_stmt *to, struct st_error *err)
{
	int n = sqlite3_column_count(from), rc;

	while ((rc = sqlite3_step(from)) == SQLITE_ROW) {
		for (int i = 0; i < n; i++)
			sqlite3_bind_value(to, i + 1, sqlite3_column_value(from, i));
		rc = sqlite3_step(to);
		sqlite3_reset(to);
		if (rc != SQLITE_DONE)
			return st_sql_error(err, db, "cannot copy the search index");
	}
	if (rc != SQLITE_DONE)
		return st_error_set(err, ST_E_SYSTEM, "cannot read the search index built");
	return 0;
}

/* Makes db's search_fts a new, empty table: the connection keeps nothing of the old one
 * (FTS5 caches the index structure it read), and it reads a copy as its own. Returns 0, or
 * -1 with err. */
static int fresh_table(struct catalog_ftsbuild *b, sqlite3 *db, struct st_error *err)
{
	return st_sql_exec(db, "DROP TABLE search_fts", err) || st_sql_exec(db, b->create_sql, err);
}

int catalog_ftsbuild_finish(struct catalog_ftsbuild *b, sqlite3 *db, struct st_error *err)
{
	sqlite3_stmt *from[NCOPIES] = {0}, *sizes = NULL, *to = NULL;
	struct catalog_rowbatch *batch = st_calloc(1, sizeof(*batch));
	int ret = -1;

	/* While the thread still indexes, this one writes the content rows, which do not
	 * depend on the index, into a new table. */
	if (!batch) {
		ret = 1;
		goto out;
	}
	if (fresh_table(b, db, err) || st_sql_exec(db, "DELETE FROM search_fts_data", err) ||
	    copy_content(db, b->rows, batch, err))
		goto out;
	catalog_rowbatch_release(batch);
	join(b);
	/* Everything the copy reads is asked for first: without it, the table is made empty
	 * again and the caller writes the rows itself. */
	for (size_t i = 0; b->ok && i < NCOPIES; i++)
		if (sqlite3_prepare_v2(b->db, copies[i].from, -1, &from[i], NULL) != SQLITE_OK)
			b->ok = 0;
	if (b->ok && sqlite3_prepare_v2(b->db, "SELECT id, sz FROM search_fts_docsize ORDER BY id",
					-1, &sizes, NULL) != SQLITE_OK)
		b->ok = 0;
	if (!b->ok) {
		ret = fresh_table(b, db, err) ? -1 : 1;
		goto out;
	}
	for (size_t i = 0; i < NCOPIES; i++) {
		if (st_sql_prepare(db, &to, copies[i].to, err) || copy_rows(db, from[i], to, err))
			goto out;
		sqlite3_finalize(to);
		to = NULL;
	}
	if (copy_sizes(db, sizes, batch, err))
		goto out;
	ret = 0;
out:
	join(b);
	if (batch)
		catalog_rowbatch_release(batch);
	st_free(batch);
	sqlite3_finalize(sizes);
	sqlite3_finalize(to);
	for (size_t i = 0; i < NCOPIES; i++)
		sqlite3_finalize(from[i]);
	builder_free(b);
	return ret;
}
