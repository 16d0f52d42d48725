/* The handles each worker thread uses: its audit log and its catalog, and the thread's
 * statement cache (common/sql.h), which keeps their statements prepared. A thread takes
 * them at its first use from the server's idle handles (opened before the server listens,
 * so that no request waits for an open), and gives them back when it ends: a thread a
 * connection comes and goes with its connection, its handles stay open. */
#include "serve_int.h"
#include "alloc.h"
#include "catalog.h"
#include "sql.h"

#include <sqlite3.h>

#define SERVE_MMAP_BYTES "1073741824" /* 1 GiB of catalog.db mapped */

/* What the calling thread holds (the value of s->key). */
struct worker {
	struct server *s;
	struct audit_log *log;
	struct catalog *cat;
};

/* The calling thread's record, made at its first use. NULL with err. */
static struct worker *worker_of(struct server *s, struct st_error *err)
{
	struct worker *w = pthread_getspecific(s->key);

	if (w)
		return w;
	if (!(w = st_calloc(1, sizeof(*w)))) {
		st_error_oom(err);
		return NULL;
	}
	w->s = s;
	if (pthread_setspecific(s->key, w)) {
		st_free(w);
		st_error_set(err, ST_E_SYSTEM, "cannot keep the handles of a worker");
		return NULL;
	}
	st_sql_cache_thread(1); /* a worker answers many requests on the same handles */
	return w;
}

/* A new catalog handle, read through a mapping of the file: the workers share the kernel's
 * page cache rather than each copy pages into a cache of its own, a system call a page. */
static int open_catalog(struct server *s, struct catalog **c, struct st_error *err)
{
	if (catalog_open(c, s->o->ws, err))
		return -1;
	sqlite3_exec(catalog_db(*c), "PRAGMA mmap_size = " SERVE_MMAP_BYTES, NULL, NULL, NULL);
	return 0;
}

/* An idle handle of v (*n of them), taken, or NULL when there is none. */
static void *take(struct serve_idle *idle, void **v, size_t *n)
{
	void *h = NULL;

	pthread_mutex_lock(&idle->mu);
	if (*n)
		h = v[--*n];
	pthread_mutex_unlock(&idle->mu);
	return h;
}

/* Gives h back to v (*n of them) unless SERVE_IDLE_MAX are there. Returns 1 when it was. */
static int give(struct serve_idle *idle, void **v, size_t *n, void *h)
{
	int kept = 0;

	pthread_mutex_lock(&idle->mu);
	if (h && *n < SERVE_IDLE_MAX) {
		v[(*n)++] = h;
		kept = 1;
	}
	pthread_mutex_unlock(&idle->mu);
	return kept;
}

struct audit_log *serve_worker_log(struct server *s, struct st_error *err)
{
	struct worker *w = worker_of(s, err);

	if (w && !w->log && !(w->log = take(&s->idle, s->idle.logs, &s->idle.nlogs)) &&
	    audit_open(&w->log, s->o->ws->state_dir, s->o->version, 0, err))
		w->log = NULL;
	return w ? w->log : NULL;
}

struct catalog *serve_worker_catalog(struct server *s, struct st_error *err)
{
	struct worker *w = worker_of(s, err);

	if (w && !w->cat && !(w->cat = take(&s->idle, s->idle.cats, &s->idle.ncats)) &&
	    open_catalog(s, &w->cat, err))
		w->cat = NULL;
	return w ? w->cat : NULL;
}

void serve_worker_end(void *p)
{
	struct worker *w = p;
	struct serve_idle *idle = &w->s->idle;

	/* This thread's statements go first: only the handles, clean, are passed on. */
	st_sql_cache_thread(0);
	if (!give(idle, idle->logs, &idle->nlogs, w->log))
		audit_free(w->log); /* more than are kept idle */
	if (!give(idle, idle->cats, &idle->ncats, w->cat))
		catalog_free(w->cat);
	st_free(w);
}

void serve_workers_open(struct server *s, size_t n)
{
	struct serve_idle *idle = &s->idle;
	struct st_error ignored = ST_ERROR_INIT;

	for (size_t i = 0; i < n && i < SERVE_IDLE_MAX; i++) {
		struct audit_log *log;
		struct catalog *cat;

		if (audit_open(&log, s->o->ws->state_dir, s->o->version, 0, &ignored))
			return; /* the first request that needs one says why */
		idle->logs[idle->nlogs++] = log;
		if (open_catalog(s, &cat, &ignored))
			return;
		idle->cats[idle->ncats++] = cat;
	}
}

void serve_workers_close(struct server *s)
{
	struct serve_idle *idle = &s->idle;

	while (idle->nlogs)
		audit_free(idle->logs[--idle->nlogs]);
	while (idle->ncats)
		catalog_free(idle->cats[--idle->ncats]);
}
