/* The search index of a fresh load built on a thread of its own, in a database of its own,
 * while the loader's connection builds indexes and checks references (its first rows
 * possibly on the loader's thread, in its waits); then copied into the catalog's empty
 * search_fts (catalog/ftsbuild.c). */
#ifndef STEWARD_CATALOG_FTSBUILD_H
#define STEWARD_CATALOG_FTSBUILD_H

#include "buf.h"
#include "error.h"

#include <sqlite3.h>

struct catalog_ftsbuild;

/* FTS5 keeps up to 'hashsize' bytes of new index entries in memory before it writes them
 * as a segment (1 MB by default); each segment written costs merges later (a third of the
 * rebuild of 10k datasets). 16 MB holds the 10k in one segment and bounds the memory of
 * larger loads. Search results do not depend on how the index is segmented. */
#define CATALOG_FTS_HASHSIZE_SQL \
	"INSERT INTO search_fts(search_fts, rank) VALUES ('hashsize', 16777216)"

/* A load indexes its search rows on a thread of their own from CATALOG_FTS_BUILD_MIN rows up
 * to CATALOG_FTS_BUILD_MAX bytes of them: the builder's database holds a second copy of the
 * index until it is copied (20 MB for 100k datasets, whose load must stay within 300 MB). */
#define CATALOG_FTS_BUILD_MIN 256
#define CATALOG_FTS_BUILD_MAX (16u << 20)

/* A search row, bound by catalog_ftsbuild_bind(). */
#define CATALOG_FTS_INSERT_SQL \
	"INSERT INTO search_fts(rowid, name, description, tags, owner, fields)" \
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6)"

/* Binds the search row at p (the form catalog_ftsbuild_start() describes) to the
 * parameters of CATALOG_FTS_INSERT_SQL, without a copy. Returns its length in bytes. */
size_t catalog_ftsbuild_bind(sqlite3_stmt *st, const char *p);

/* Starts indexing rows on a new thread. rows holds, per search row, its rowid (int64_t),
 * then name, description, tags, owner and fields, each as an int64_t length (-1: NULL)
 * followed by its bytes; terms are NULL. rows must stay unchanged until
 * catalog_ftsbuild_finish() or catalog_ftsbuild_abandon(). create_sql is the catalog's
 * CREATE VIRTUAL TABLE statement of search_fts (copied). Returns a builder, or NULL when
 * none could start (no thread, no memory, a statement of another form): the caller then
 * writes the rows itself. */
struct catalog_ftsbuild *catalog_ftsbuild_start(const char *create_sql, const struct st_buf *rows);

/* As catalog_ftsbuild_start(), without the thread yet: rows may still grow (and move) while
 * catalog_ftsbuild_step() indexes them on the caller's thread, a row at a time, in moments
 * it would otherwise wait; catalog_ftsbuild_run() then hands the rest to a thread. Returns a
 * builder, or NULL as catalog_ftsbuild_start() does and when the builder's own connection
 * cannot make the table (opened here, not on the thread). */
struct catalog_ftsbuild *catalog_ftsbuild_open(const char *create_sql, const struct st_buf *rows);
/* Indexes the next row of rows when one lies before ready, the end of a whole row. Returns
 * 1 when it indexed one, 0 when there is none yet (or an insert failed, which
 * catalog_ftsbuild_finish() reports as a failed build). */
int catalog_ftsbuild_step(struct catalog_ftsbuild *b, size_t ready);
/* Indexes the rest of rows, which stay unchanged from now on, on a thread of its own.
 * Returns 0, or -1 when no thread started (catalog_ftsbuild_abandon() it). */
int catalog_ftsbuild_run(struct catalog_ftsbuild *b);

/* Makes db's search_fts, which must be empty and inside db's open transaction, hold exactly
 * the rows given to catalog_ftsbuild_start() or _open(): the same index, row for row and byte for
 * byte, as inserting them into it would make. Its content rows are written while the
 * builder still runs; then it waits for the builder. Returns 0 when done, 1 when the build
 * failed (search_fts empty as it was: the caller writes the rows itself), -1 with err when
 * db failed (the caller rolls back). Frees b. */
int catalog_ftsbuild_finish(struct catalog_ftsbuild *b, sqlite3 *db, struct st_error *err);

/* Waits for the builder and frees it, leaving db alone. NULL is a no-op. */
void catalog_ftsbuild_abandon(struct catalog_ftsbuild *b);

#endif
