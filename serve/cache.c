/* The API's search and card answers, kept while the catalog is unchanged: a broad word ranks
 * tens of thousands of matches (milliseconds of FTS5), a card is some 30 queries, and callers
 * repeat both. An answer is kept under a digest of its route and parameters and under the
 * catalog's generation, which any commit to catalog.db (this process's or another's) ends.
 * Access control and the request's audit record are the route's, as for any answer
 * (server.c: run_route()); only the answer's body comes from here. */
#include "serve_int.h"
#include "alloc.h"

#include <sodium.h>
#include <sqlite3.h>
#include <string.h>

void serve_cache_init(struct serve_cache *k, int on)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->done, NULL);
	pthread_mutex_init(&k->watch_mu, NULL);
	k->on = on;
	k->gen = 1;
}

void serve_cache_release(struct serve_cache *k)
{
	for (size_t i = 0; i < SERVE_CACHE_SLOTS; i++)
		st_free(k->v[i].body);
	sqlite3_finalize(k->watch_read);
	sqlite3_close(k->watch);
	pthread_mutex_destroy(&k->mu);
	pthread_cond_destroy(&k->done);
	pthread_mutex_destroy(&k->watch_mu);
	memset(k, 0, sizeof(*k));
}

/* ---- The catalog's generation ------------------------------------------------------------ */

/* A connection of its own (the watch) looks at catalog.db for each search: a read
 * transaction, in which SQLITE_FCNTL_DATA_VERSION changes with any commit since its last
 * look, by any connection of any process. Then the generation is g; a commit seen starts a
 * new one. The request's own snapshot begins after that look, so it holds every commit the
 * look saw, and an answer kept under g is never older than what g stands for; a commit after
 * the look is seen by the next request's look, which starts g + 1 before anything is read. The
 * look is one short read transaction under a mutex (a few microseconds). Returns 0 and sets
 * *gen, or -1 when the catalog cannot be looked at (then nothing is kept or read). */
static int look(struct serve_cache *k, sqlite3 *db, uint64_t *gen)
{
	unsigned version = 0;
	int ret = -1;

	pthread_mutex_lock(&k->watch_mu);
	if (k->broken)
		goto out;
	if (!k->watch) {
		const char *path = sqlite3_db_filename(db, "main");

		if (!path || !*path ||
		    sqlite3_open_v2(path, &k->watch, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
				    NULL) != SQLITE_OK ||
		    sqlite3_prepare_v2(k->watch, "PRAGMA schema_version", -1, &k->watch_read,
				       NULL) != SQLITE_OK) {
			sqlite3_finalize(k->watch_read);
			sqlite3_close(k->watch);
			k->watch = NULL;
			k->watch_read = NULL;
			k->broken = 1; /* never kept, never read */
			goto out;
		}
		sqlite3_busy_timeout(k->watch, 1000);
	}
	/* The statement's read transaction (autocommit) is the look; the version is read while
	 * it is open. */
	if (sqlite3_step(k->watch_read) == SQLITE_ROW &&
	    sqlite3_file_control(k->watch, "main", SQLITE_FCNTL_DATA_VERSION, &version) ==
		    SQLITE_OK) {
		if (!k->looked || version != k->version)
			k->gen++;
		k->looked = 1;
		k->version = version;
		*gen = k->gen;
		ret = 0;
	}
	sqlite3_reset(k->watch_read);
out:
	pthread_mutex_unlock(&k->watch_mu);
	return ret;
}

int serve_cache_begin(struct server *s, struct catalog *cat, uint64_t *gen)
{
	struct serve_cache *k = &s->cache;
	sqlite3 *db = catalog_db(cat);

	/* Without the route's transaction, each query would read a catalog of its own. With
	 * it, nothing has read cat yet (its BEGIN is deferred), so the snapshot begins at the
	 * route's first query, after the look; a kept answer needs none. */
	return k->on && !sqlite3_get_autocommit(db) && !look(k, db, gen);
}

/* ---- The answers ------------------------------------------------------------------------- */

void serve_cache_key(unsigned char key[SERVE_CACHE_KEY], const char *const *parts, size_t n)
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, NULL, 0, SERVE_CACHE_KEY);
	for (size_t i = 0; i < n; i++) {
		/* absent and empty differ; each part ends with its NUL */
		unsigned char present = parts[i] != NULL;

		crypto_generichash_update(&h, &present, 1);
		if (parts[i])
			crypto_generichash_update(&h, (const unsigned char *)parts[i],
						  strlen(parts[i]) + 1);
	}
	crypto_generichash_final(&h, key, SERVE_CACHE_KEY);
}

char *serve_cache_get(struct server *s, const unsigned char *key, uint64_t gen, size_t *len,
		      int *claim)
{
	struct serve_cache *k = &s->cache;
	char *copy = NULL;

	*claim = 0;
	pthread_mutex_lock(&k->mu);
	for (;;) {
		struct serve_cache_pending *free_p = NULL, *busy = NULL;
		size_t i;

		for (i = 0; i < SERVE_CACHE_SLOTS; i++) {
			struct serve_cache_entry *e = &k->v[i];

			if (e->body && e->gen == gen && !memcmp(e->key, key, SERVE_CACHE_KEY))
				break;
		}
		if (i < SERVE_CACHE_SLOTS) {
			struct serve_cache_entry *e = &k->v[i];

			if ((copy = st_malloc(e->len + 1))) {
				memcpy(copy, e->body, e->len + 1);
				*len = e->len;
				e->used = ++k->tick;
			}
			break;
		}
		/* Not kept: another thread may be computing it in this generation. Then this one
		 * waits for that answer rather than compute it too (when a broad word is asked
		 * by many callers at once, a single ranking rather than one a caller). */
		for (i = 0; i < SERVE_CACHE_PENDING; i++) {
			struct serve_cache_pending *p = &k->pending[i];

			if (!p->busy)
				free_p = free_p ? free_p : p;
			else if (p->gen == gen && !memcmp(p->key, key, SERVE_CACHE_KEY))
				busy = p;
		}
		if (busy) {
			pthread_cond_wait(&k->done, &k->mu);
			continue;
		}
		if (free_p) { /* this thread computes it (else it computes it unannounced) */
			memcpy(free_p->key, key, SERVE_CACHE_KEY);
			free_p->gen = gen;
			free_p->busy = 1;
			*claim = (int)(free_p - k->pending) + 1;
		}
		break;
	}
	pthread_mutex_unlock(&k->mu);
	return copy;
}

/* Ends the computation claim announced (serve_cache_get()), waking the threads that wait. Under
 * k->mu. */
static void unclaim(struct serve_cache *k, int claim)
{
	if (claim > 0 && claim <= SERVE_CACHE_PENDING) {
		k->pending[claim - 1].busy = 0;
		pthread_cond_broadcast(&k->done);
	}
}

void serve_cache_abandon(struct server *s, int claim)
{
	if (!claim)
		return;
	pthread_mutex_lock(&s->cache.mu);
	unclaim(&s->cache, claim);
	pthread_mutex_unlock(&s->cache.mu);
}

/* Empties entry e. */
static void drop(struct serve_cache *k, struct serve_cache_entry *e)
{
	k->bytes -= e->len;
	st_free(e->body);
	e->body = NULL;
	e->len = 0;
}

void serve_cache_put(struct server *s, const unsigned char *key, uint64_t gen, const char *body,
		     size_t len, int claim)
{
	struct serve_cache *k = &s->cache;
	struct serve_cache_entry *slot = NULL;
	uint64_t now;
	char *copy = NULL;

	pthread_mutex_lock(&k->watch_mu);
	now = k->gen;
	pthread_mutex_unlock(&k->watch_mu);
	if (gen != now || len > SERVE_CACHE_BODY_MAX || !(copy = st_malloc(len + 1))) {
		serve_cache_abandon(s, claim); /* over already, too large, or no memory */
		return;
	}
	memcpy(copy, body, len);
	copy[len] = '\0';
	pthread_mutex_lock(&k->mu);
	/* Answers of past generations go first; then the same key's; then the least used. */
	for (size_t i = 0; i < SERVE_CACHE_SLOTS; i++) {
		struct serve_cache_entry *e = &k->v[i];

		if (e->body && e->gen != now)
			drop(k, e);
		if (e->body && !memcmp(e->key, key, SERVE_CACHE_KEY))
			drop(k, e);
		if (!slot || (slot->body && (!e->body || e->used < slot->used)))
			slot = e;
	}
	if (slot->body)
		drop(k, slot);
	while (k->bytes + len > SERVE_CACHE_BYTES_MAX) {
		struct serve_cache_entry *old = NULL;

		for (size_t i = 0; i < SERVE_CACHE_SLOTS; i++)
			if (k->v[i].body && (!old || k->v[i].used < old->used))
				old = &k->v[i];
		if (!old)
			break;
		drop(k, old);
	}
	memcpy(slot->key, key, SERVE_CACHE_KEY);
	slot->gen = gen;
	slot->body = copy;
	slot->len = len;
	slot->used = ++k->tick;
	k->bytes += len;
	unclaim(k, claim);
	pthread_mutex_unlock(&k->mu);
}

/* ---- A route's answer ---------------------------------------------------------------------- */

int serve_cache_answer(struct server *s, struct MHD_Connection *c, struct request *r,
		       struct catalog *cat, const char *const *parts, size_t n,
		       struct serve_kept *kc, enum MHD_Result *ret)
{
	char *text;
	size_t len = 0;

	memset(kc, 0, sizeof(*kc));
	if (!(kc->keep = serve_cache_begin(s, cat, &kc->gen)))
		return 0;
	serve_cache_key(kc->key, parts, n);
	if (!(text = serve_cache_get(s, kc->key, kc->gen, &len, &kc->claim)))
		return 0;
	*ret = serve_reply_bytes(c, r, MHD_HTTP_OK, "application/json", text, len,
				 MHD_RESPMEM_MUST_FREE);
	return 1;
}

void serve_cache_skip(struct server *s, struct serve_kept *kc)
{
	serve_cache_abandon(s, kc->claim);
	kc->claim = 0;
	kc->keep = 0;
}

enum MHD_Result serve_cache_reply(struct server *s, struct MHD_Connection *c, struct request *r,
				  struct serve_kept *kc, json_t *doc)
{
	char *text;
	size_t len;

	if (!kc->keep || !(text = serve_json_text(doc))) {
		serve_cache_skip(s, kc);
		return serve_reply_json(c, r, MHD_HTTP_OK, doc);
	}
	json_decref(doc);
	len = strlen(text);
	serve_cache_put(s, kc->key, kc->gen, text, len, kc->claim);
	kc->claim = 0;
	return serve_reply_bytes(c, r, MHD_HTTP_OK, "application/json", text, len,
				 MHD_RESPMEM_MUST_FREE);
}
