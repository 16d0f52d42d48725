/* Small SQLite helpers shared by every module that keeps a database: errors with context,
 * statements without result rows, prepared statements, column copies and cleanup. */
#include "sql.h"
#include "alloc.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

void st_sql_process_init(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int st_sql_error(struct st_error *err, sqlite3 *db, const char *what)
{
	return st_error_set(err, ST_E_SYSTEM, "%s: %s", what, sqlite3_errmsg(db));
}

int st_sql_exec(sqlite3 *db, const char *sql, struct st_error *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	st_error_set(err, ST_E_SYSTEM, "database: %s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

int st_sql_prepare(sqlite3 *db, sqlite3_stmt **st, const char *sql, struct st_error *err)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK)
		return 0;
	*st = NULL;
	return st_sql_error(err, db, "cannot prepare query");
}

char *st_sql_col_strdup(sqlite3_stmt *st, int i, int *oom)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	char *p;

	if (!s)
		return NULL;
	p = st_strndup((const char *)s, (size_t)sqlite3_column_bytes(st, i));
	if (!p)
		*oom = 1;
	return p;
}

void st_sql_finalize(sqlite3_stmt **st, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_finalize(st[i]);
		st[i] = NULL;
	}
}
