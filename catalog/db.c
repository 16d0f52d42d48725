/* catalog.db: opening a database file, pragmas and versioned migrations. */
#include "catalog_int.h"
#include "alloc.h"
#include "embedded.h"
#include "sql.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

size_t catalog_split_ref(const char *ref, size_t *field)
{
	const char *dot = strchr(ref, '.'), *dot2;

	*field = 0;
	if (!dot || dot == ref)
		return 0;
	dot2 = strchr(dot + 1, '.');
	if (!dot2)
		return strlen(ref);
	*field = (size_t)(dot2 - ref) + 1;
	return (size_t)(dot2 - ref);
}

/* Migrations, oldest first; entry i brings the schema from version i to i + 1. */
static const unsigned char *const migrations[] = {st_embed_catalog_v1, st_embed_catalog_v2_dbt,
						  st_embed_catalog_v2_openlineage,
						  st_embed_catalog_v4_field_meta};

static int migrate(sqlite3 *db, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1, version = 0;
	char sql[64];

	if (st_sql_prepare(db, &st, "PRAGMA user_version", err))
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	/* Done with before the steps run: no statement may be open while one drops a table. */
	sqlite3_finalize(st);
	st = NULL;
	if (version > CATALOG_SCHEMA_VERSION) {
		st_error_set(err, ST_E_SYSTEM,
			     "catalog.db has schema version %d, newer than this steward supports (%d)",
			     version, CATALOG_SCHEMA_VERSION);
		goto out;
	}
	if (version == CATALOG_SCHEMA_VERSION) {
		ret = 0;
		goto out;
	}
	if (st_sql_exec(db, "BEGIN IMMEDIATE", err))
		goto out;
	for (int v = version; v < CATALOG_SCHEMA_VERSION; v++)
		if (st_sql_exec(db, (const char *)migrations[v], err))
			goto rollback;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", CATALOG_SCHEMA_VERSION);
	if (st_sql_exec(db, sql, err) || st_sql_exec(db, "COMMIT", err))
		goto rollback;
	ret = 0;
	goto out;
rollback:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	st_error_prefix(err, "cannot migrate catalog.db");
out:
	sqlite3_finalize(st);
	return ret;
}

int catalog_open_path(struct catalog **out, const char *path, struct st_error *err)
{
	struct catalog *c = st_calloc(1, sizeof(*c));
	int ret = -1;

	if (!c)
		return st_error_oom(err);
	/* One thread at a time uses a catalog (the loader's parse workers never touch the
	 * database), so the connection needs no mutex of its own: SQLite's per-call locking
	 * costs a lot once the process has threads. */
	if (sqlite3_open_v2(path, &c->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		if (!c->db) {
			st_error_oom(err);
			goto out;
		}
		/* Permission denied is not a missing or broken database. */
		st_error_set(err, sqlite3_system_errno(c->db) == EACCES ? ST_E_DENIED : ST_E_SYSTEM,
			     "cannot open '%s': %s%s", path, sqlite3_errmsg(c->db),
			     sqlite3_system_errno(c->db) == EACCES ? " (permission denied)" : "");
		goto out;
	}
	sqlite3_busy_timeout(c->db, 5000);
	sqlite3_extended_result_codes(c->db, 1);
	/* 16 kB pages for a new catalog (an existing one keeps its own; SQLite changes the
	 * page size of an empty database only): a load then writes its rows, its WAL frames
	 * and its checkpoint in a quarter of the pages and system calls of 4 kB ones, which
	 * took 13% less CPU for 10k generated descriptors. */
	if (st_sql_exec(c->db,
			 "PRAGMA page_size = 16384;"
			 "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
			 "PRAGMA foreign_keys = ON;"
			 "PRAGMA temp_store = MEMORY",
			 err)) {
		st_error_prefix(err, "cannot open '%s'", path);
		goto out;
	}
	if (migrate(c->db, err))
		goto out;
	*out = c;
	c = NULL;
	ret = 0;
out:
	catalog_free(c);
	return ret;
}

void catalog_free(struct catalog *c)
{
	if (!c)
		return;
	st_sql_cache_drop(c->db);
	sqlite3_close(c->db);
	catalog_jschema_free(c->schema);
	catalog_taxonomy_free(c->tax);
	st_free(c);
}

struct sqlite3 *catalog_db(struct catalog *c)
{
	return c->db;
}

const char *catalog_descriptor_schema(size_t *len)
{
	*len = st_embed_descriptor_schema_len;
	return (const char *)st_embed_descriptor_schema;
}
