/* The handles each worker thread keeps for itself: its audit log and its catalog, opened at
 * first use and closed by the thread-key destructors when the thread ends, and the thread's
 * statement cache (common/sql.h), which keeps their statements prepared. */
#include "serve_int.h"
#include "catalog.h"
#include "sql.h"

#include <sqlite3.h>

#define SERVE_MMAP_BYTES "1073741824" /* 1 GiB of catalog.db mapped */

void serve_close_log(void *p)
{
	audit_free(p);
}

struct audit_log *serve_worker_log(struct server *s, struct st_error *err)
{
	struct audit_log *log = pthread_getspecific(s->key);

	if (log)
		return log;
	st_sql_cache_thread(1); /* a worker answers many requests on the same connections */
	if (audit_open(&log, s->o->ws->state_dir, s->o->version, 0, err))
		return NULL;
	if (pthread_setspecific(s->key, log)) {
		audit_free(log);
		st_error_set(err, ST_E_SYSTEM, "cannot keep the audit log of a worker");
		return NULL;
	}
	return log;
}

void serve_close_catalog(void *p)
{
	catalog_free(p);
}

/* The worker's catalog, opened at its first use. NULL with err when it cannot be. */
struct catalog *serve_worker_catalog(struct server *s, struct st_error *err)
{
	struct catalog *c = pthread_getspecific(s->cat_key);

	if (c)
		return c;
	st_sql_cache_thread(1);
	if (catalog_open(&c, s->o->ws, err))
		return NULL;
	/* Read through a mapping of the file: the workers share the kernel's page cache rather
	 * than each copy pages into a cache of its own, a system call a page. */
	sqlite3_exec(catalog_db(c), "PRAGMA mmap_size = " SERVE_MMAP_BYTES, NULL, NULL, NULL);
	if (pthread_setspecific(s->cat_key, c)) {
		catalog_free(c);
		st_error_set(err, ST_E_SYSTEM, "cannot keep the catalog of a worker");
		return NULL;
	}
	return c;
}
