/* Unit tests for the early writeback of common/sql.c: st_sql_process_init() puts its writer
 * in front of the unix VFS's pwrite64 once (a second call changes nothing), and a database
 * written through it, in WAL mode and checkpointed, reads back whole. */
#include "harness.h"
#include "sql.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	const char *dir = t_tmpdir();
	char path[4096];
	sqlite3_vfs *vfs;
	sqlite3_syscall_ptr first, libc;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int ok = 1;

	st_sql_process_init();
	vfs = sqlite3_vfs_find("unix");
	CHECK(vfs != NULL);
	if (!vfs)
		return t_done();
	libc = (sqlite3_syscall_ptr)pwrite64;
	first = vfs->xGetSystemCall(vfs, "pwrite64");
	CHECK(first != NULL && first != libc);
	snprintf(path, sizeof(path), "%s/wb.db", dir);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	/* some 6 MB through the WAL, then the checkpoint into the database */
	CHECK(sqlite3_exec(db,
			   "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
			   "CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB);"
			   "BEGIN;"
			   "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500)"
			   " INSERT INTO t SELECT i, randomblob(4096) FROM n;"
			   "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);",
			   NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	st_sql_process_init(); /* SQLite runs already: the writer is not put in twice */
	CHECK(vfs->xGetSystemCall(vfs, "pwrite64") == first);
	db = NULL;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "SELECT count(*), sum(length(v)) FROM t", -1, &st, NULL) ==
	      SQLITE_OK);
	ok = st && sqlite3_step(st) == SQLITE_ROW;
	CHECK(ok && sqlite3_column_int64(st, 0) == 1500 &&
	      sqlite3_column_int64(st, 1) == 1500 * 4096);
	sqlite3_finalize(st);
	st = NULL;
	CHECK(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK);
	CHECK(st && sqlite3_step(st) == SQLITE_ROW &&
	      !strcmp((const char *)sqlite3_column_text(st, 0), "ok"));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return t_done();
}
