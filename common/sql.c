/* Small SQLite helpers shared by every module that keeps a database: errors with context,
 * statements without result rows, prepared statements, column copies and cleanup. */
#include "sql.h"
#include "alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

/* ---- Early writeback ----
 * A load's commit writes some 27 MB of WAL frames and its checkpoint as much into the
 * database, each followed by an fdatasync() that then waited for all of it to reach the
 * disk (40 of the 150 ms after a 10k-descriptor load's last row). Asking the kernel to start
 * writing every WB_KICK bytes as they are written lets the disk work while SQLite still
 * copies, so the fdatasync() finds little left. A hint only: what is written and when it
 * is durable stay SQLite's. */
#ifdef SYNC_FILE_RANGE_WRITE
#define WB_FDS 1024
#define WB_KICK ((off_t)1 << 20)

typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);

static pwrite_fn wb_pwrite;
static pthread_mutex_t wb_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	off_t lo, hi, bytes; /* written since the last hint, and where */
} wb[WB_FDS];

/* SQLite's unix VFS writes every page through this (its "pwrite64" system call). */
static ssize_t wb_write(int fd, const void *buf, size_t n, off_t off)
{
	ssize_t r = wb_pwrite(fd, buf, n, off);
	off_t lo = 0, len = 0;
	int saved = errno;

	if (r <= 0 || fd < 0 || fd >= WB_FDS)
		return r;
	pthread_mutex_lock(&wb_lock);
	if (!wb[fd].bytes || off < wb[fd].lo)
		wb[fd].lo = off;
	if (!wb[fd].bytes || off + r > wb[fd].hi)
		wb[fd].hi = off + r;
	wb[fd].bytes += r;
	if (wb[fd].bytes >= WB_KICK) {
		lo = wb[fd].lo;
		len = wb[fd].hi - lo;
		wb[fd].bytes = 0;
	}
	pthread_mutex_unlock(&wb_lock);
	if (len)
		sync_file_range(fd, lo, len, SYNC_FILE_RANGE_WRITE);
	errno = saved;
	return r;
}

/* Puts wb_write() in front of the unix VFS's writes (a build without that system call, or
 * without the VFS, goes without). */
static void wb_install(void)
{
	sqlite3_vfs *vfs = sqlite3_vfs_find("unix");
	sqlite3_syscall_ptr real;

	if (!vfs || vfs->iVersion < 3 || !vfs->xGetSystemCall || !vfs->xSetSystemCall ||
	    !(real = vfs->xGetSystemCall(vfs, "pwrite64")))
		return;
	wb_pwrite = (pwrite_fn)real;
	if (vfs->xSetSystemCall(vfs, "pwrite64", (sqlite3_syscall_ptr)wb_write) != SQLITE_OK)
		wb_pwrite = NULL;
}
#else
static void wb_install(void)
{
}
#endif

void st_sql_process_init(void)
{
	/* Only before SQLite is initialised: a VFS must not change under open databases. */
	if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK)
		wb_install();
}

int st_sql_secure_delete_off(sqlite3 *db)
{
	sqlite3_stmt *st;
	int was = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA secure_delete", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		was = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (was > 0 && sqlite3_exec(db, "PRAGMA secure_delete = OFF", NULL, NULL, NULL) != SQLITE_OK)
		was = -1;
	return was;
}

int st_sql_secure_delete_restore(sqlite3 *db, int was, struct st_error *err)
{
	if (was <= 0)
		return 0;
	if (!err)
		return sqlite3_exec(db, "PRAGMA secure_delete = ON", NULL, NULL, NULL) == SQLITE_OK
			       ? 0
			       : -1;
	return st_sql_exec(db, "PRAGMA secure_delete = ON", err);
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
