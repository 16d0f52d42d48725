/* SQLite helpers shared by steward's modules (catalog.db, audit.db, SQLite targets). */
#ifndef ST_SQL_H
#define ST_SQL_H

#include <stddef.h>

#include "error.h"

struct sqlite3;
struct sqlite3_stmt;

/* Process-wide SQLite settings, called once at start before any other SQLite call (later it
 * changes nothing): no memory statistics, which take a global mutex on every allocation, and
 * database files written back to disk as they are written (sql.c, "Early writeback"). */
void st_sql_process_init(void);
/* Turns PRAGMA secure_delete off on db, for a load that fills an empty catalog (no page can
 * hold deleted content; Debian's SQLite has it on, zeroing every cell a B-tree page frees as
 * it splits and balances). Returns what it was: 1 (the caller turns it on again when done),
 * 0 (it was off), or -1 (unknown, left as it was). */
int st_sql_secure_delete_off(struct sqlite3 *db);
/* Undoes st_sql_secure_delete_off(), whose result was was: turns PRAGMA secure_delete on
 * again when it was on, else does nothing. Returns 0, or -1 with err (err NULL: after
 * another failure, this one is not reported). */
int st_sql_secure_delete_restore(struct sqlite3 *db, int was, struct st_error *err);
/* Records SQLite's current error on db as ST_E_SYSTEM with what as context. Returns -1. */
int st_sql_error(struct st_error *err, struct sqlite3 *db, const char *what);
/* Runs SQL with no result rows. Returns 0, or -1 with err. */
int st_sql_exec(struct sqlite3 *db, const char *sql, struct st_error *err);
/* Prepares sql into *st (finalize it with sqlite3_finalize() or st_sql_finalize()).
 * Returns 0, or -1 with err and *st NULL. */
int st_sql_prepare(struct sqlite3 *db, struct sqlite3_stmt **st, const char *sql,
		   struct st_error *err);
/* Copies column i of the current row as a new string (NULL for SQL NULL or out of memory;
 * *oom is set on the latter). The caller frees it with st_free(). */
char *st_sql_col_strdup(struct sqlite3_stmt *st, int i, int *oom);
/* Finalizes the n statements of st (NULL entries are fine) and sets each to NULL. */
void st_sql_finalize(struct sqlite3_stmt **st, size_t n);

/* ---- A statement cache for long-lived connections (the server's workers) ----
 * Preparing a statement costs 10 to 50 µs of parsing and planning, more than running most
 * of them; a thread that answers many requests on its own connections turns the cache on
 * and keeps each statement prepared. The cache belongs to the calling thread (a
 * connection is used by one thread at a time: its own); off (the default) st_sql_cached()
 * prepares and st_sql_done() finalizes, as before. */

/* Turns the calling thread's statement cache on (1) or off (0: its statements are
 * finalized). */
void st_sql_cache_thread(int on);
/* Like st_sql_prepare(), but with the cache on, the statement for this sql on db is kept
 * prepared between uses: give it back with st_sql_done() (never sqlite3_finalize()).
 * sql must be one statement. A statement already in use (a nested call) or a full cache
 * gets a statement of its own, which st_sql_done() finalizes. */
int st_sql_cached(struct sqlite3 *db, struct sqlite3_stmt **st, const char *sql,
		  struct st_error *err);
/* Gives back a statement from st_sql_cached() (NULL is fine): reset, its bindings cleared
 * (so it holds no lock and no pointer of the caller's), or finalized when not cached. */
void st_sql_done(struct sqlite3_stmt *st);
/* st_sql_done() on each of the n statements of st (NULL entries are fine), set to NULL. */
void st_sql_done_all(struct sqlite3_stmt **st, size_t n);
/* Runs sql (one statement, no result rows) through the cache. Returns 0, or -1 with err. */
int st_sql_run(struct sqlite3 *db, const char *sql, struct st_error *err);
/* Finalizes the calling thread's cached statements of db: call it before closing db. */
void st_sql_cache_drop(struct sqlite3 *db);

#endif
