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

/* ---- The statement cache ---- */

#define CACHE_MAX 128 /* statements a thread keeps prepared */

struct cached {
	sqlite3 *db;
	const char *sql; /* the caller's text, by address (its text is checked too) */
	sqlite3_stmt *st;
	int busy;
};

static _Thread_local struct {
	int on;
	size_t n;
	struct cached v[CACHE_MAX];
} cache;

void st_sql_cache_thread(int on)
{
	if (!on)
		for (size_t i = 0; i < cache.n; i++)
			sqlite3_finalize(cache.v[i].st);
	if (!on)
		cache.n = 0;
	cache.on = on;
}

int st_sql_cached(sqlite3 *db, sqlite3_stmt **st, const char *sql, struct st_error *err)
{
	struct cached *c;

	if (!cache.on)
		return st_sql_prepare(db, st, sql, err);
	for (size_t i = 0; i < cache.n; i++) {
		c = &cache.v[i];
		if (c->db == db && c->sql == sql && !strcmp(sqlite3_sql(c->st), sql)) {
			if (c->busy)
				return st_sql_prepare(db, st, sql, err);
			c->busy = 1;
			*st = c->st;
			return 0;
		}
	}
	if (cache.n == CACHE_MAX)
		return st_sql_prepare(db, st, sql, err);
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return st_sql_error(err, db, "cannot prepare query");
	}
	cache.v[cache.n++] = (struct cached){db, sql, *st, 1};
	return 0;
}

void st_sql_done(sqlite3_stmt *st)
{
	if (!st)
		return;
	for (size_t i = 0; cache.on && i < cache.n; i++)
		if (cache.v[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			cache.v[i].busy = 0;
			return;
		}
	sqlite3_finalize(st);
}

void st_sql_done_all(sqlite3_stmt **st, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		st_sql_done(st[i]);
		st[i] = NULL;
	}
}

int st_sql_run(sqlite3 *db, const char *sql, struct st_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (!cache.on)
		return st_sql_exec(db, sql, err);
	if (st_sql_cached(db, &st, sql, err))
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		st_error_set(err, ST_E_SYSTEM, "database: %s", sqlite3_errmsg(db));
		st_sql_done(st);
		return -1;
	}
	st_sql_done(st);
	return 0;
}

void st_sql_cache_drop(sqlite3 *db)
{
	size_t k = 0;

	for (size_t i = 0; i < cache.n; i++) {
		if (cache.v[i].db == db)
			sqlite3_finalize(cache.v[i].st);
		else
			cache.v[k++] = cache.v[i];
	}
	cache.n = k;
}
