/* SQLite helpers shared by steward's modules (catalog.db, audit.db, SQLite targets). */
#ifndef ST_SQL_H
#define ST_SQL_H

#include <stddef.h>

#include "error.h"

struct sqlite3;
struct sqlite3_stmt;

/* Process-wide SQLite settings, called once at start before any other SQLite call (later it
 * changes nothing): no memory statistics, which take a global mutex on every allocation. */
void st_sql_process_init(void);
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

#endif
