/* The rows of a dbt manifest written on a second thread: the manifest's reader queues each
 * value and statement step in order, and the writer thread replays them into the row
 * batches and statements on the one SQLite connection, which only it uses meanwhile. */
#include "dbt_pipe.h"
#include "alloc.h"
#include "sql.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define CHUNK_BYTES ((size_t)256 << 10) /* a chunk is handed over once it holds this much */
#define QUEUE_MAX 8			/* chunks queued before the reader waits */

enum { OP_INT = 'I', OP_TEXT = 'T', OP_NULL = 'N', OP_STEP = 'S' };

struct chunk {
	struct chunk *next;
	size_t len, cap;
	unsigned char *p;
};

struct catalog_dbt_pipe {
	struct catalog_rowbatch *b;
	const char *const *what; /* per batch, for messages */
	size_t nb;
	sqlite3 *db;
	sqlite3_stmt *const *st; /* targets nb and up */
	const char *const *st_what;
	int param[CATALOG_DBT_PIPE_MAX_STMT]; /* the next parameter of each statement */

	struct chunk *cur;		 /* being filled by the reader */
	struct chunk *head, *tail;	 /* queued */
	struct chunk *spare;		 /* done, for reuse */
	size_t queued;
	int closed, failed;
	struct st_error err; /* the writer's */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t ready, space;
};

static void chunk_free(struct chunk *c)
{
	while (c) {
		struct chunk *n = c->next;

		st_free(c->p);
		st_free(c);
		c = n;
	}
}

/* Replays one chunk. Returns 0, or -1 with p->err. */
static int replay(struct catalog_dbt_pipe *p, const struct chunk *c)
{
	size_t at = 0;

	while (at < c->len) {
		int op = c->p[at], t = c->p[at + 1];
		int64_t v = 0;
		uint32_t n = 0;
		const char *s = NULL;

		at += 2;
		if (op == OP_INT) {
			memcpy(&v, c->p + at, sizeof(v));
			at += sizeof(v);
		} else if (op == OP_TEXT) {
			memcpy(&n, c->p + at, sizeof(n));
			s = (const char *)c->p + at + sizeof(n);
			at += sizeof(n) + n;
		}
		if ((size_t)t < p->nb) {
			struct catalog_rowbatch *b = &p->b[t];

			if (op == OP_INT ? catalog_rowbatch_int(b, v, &p->err, p->what[t])
					 : catalog_rowbatch_text(b, s, n, &p->err, p->what[t]))
				return -1;
			continue;
		}
		t -= (int)p->nb;
		if (op == OP_STEP) {
			int rc = sqlite3_step(p->st[t]);

			sqlite3_reset(p->st[t]);
			sqlite3_clear_bindings(p->st[t]);
			p->param[t] = 0;
			if (rc != SQLITE_DONE)
				return st_sql_error(&p->err, p->db, p->st_what[t]);
			continue;
		}
		++p->param[t];
		if ((op == OP_INT	? sqlite3_bind_int64(p->st[t], p->param[t], v)
		     : op == OP_TEXT ? sqlite3_bind_text(p->st[t], p->param[t], s, (int)n,
							 SQLITE_TRANSIENT)
				     : sqlite3_bind_null(p->st[t], p->param[t])) != SQLITE_OK)
			return st_sql_error(&p->err, p->db, p->st_what[t]);
	}
	return 0;
}

static void *writer(void *arg)
{
	struct catalog_dbt_pipe *p = arg;

	for (;;) {
		struct chunk *c;

		pthread_mutex_lock(&p->mu);
		while (!p->head && !p->closed)
			pthread_cond_wait(&p->ready, &p->mu);
		if (!(c = p->head)) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		p->head = c->next;
		if (!p->head)
			p->tail = NULL;
		p->queued--;
		pthread_mutex_unlock(&p->mu);
		if (!p->failed && replay(p, c))
			p->failed = 1; /* the rest is read and dropped */
		c->len = 0;
		pthread_mutex_lock(&p->mu);
		c->next = p->spare;
		p->spare = c;
		pthread_cond_signal(&p->space);
		pthread_mutex_unlock(&p->mu);
	}
}

int catalog_dbt_pipe_start(struct catalog_dbt_pipe **out, struct catalog_rowbatch *b,
			   const char *const *what, size_t nb, sqlite3 *db, sqlite3_stmt *const *st,
			   const char *const *st_what, size_t nst)
{
	struct catalog_dbt_pipe *p;

	*out = NULL;
	if (nst > CATALOG_DBT_PIPE_MAX_STMT || nb + nst > 255 || !(p = st_calloc(1, sizeof(*p))))
		return -1;
	p->b = b;
	p->what = what;
	p->nb = nb;
	p->db = db;
	p->st = st;
	p->st_what = st_what;
	st_error_init(&p->err);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->ready, NULL);
	pthread_cond_init(&p->space, NULL);
	if (pthread_create(&p->th, NULL, writer, p)) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->ready);
		pthread_cond_destroy(&p->space);
		st_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

/* Hands the chunk being filled to the writer, waiting while QUEUE_MAX are queued. */
static void hand_over(struct catalog_dbt_pipe *p)
{
	struct chunk *c = p->cur;

	if (!c || !c->len)
		return;
	p->cur = NULL;
	pthread_mutex_lock(&p->mu);
	while (p->queued >= QUEUE_MAX)
		pthread_cond_wait(&p->space, &p->mu);
	c->next = NULL;
	if (p->tail)
		p->tail->next = c;
	else
		p->head = c;
	p->tail = c;
	p->queued++;
	pthread_cond_signal(&p->ready);
	pthread_mutex_unlock(&p->mu);
}

/* Room for n more bytes in the chunk being filled. Returns 0, or -1 when out of memory. */
static int room(struct catalog_dbt_pipe *p, size_t n)
{
	struct chunk *c = p->cur;

	if (!c) {
		pthread_mutex_lock(&p->mu);
		if ((c = p->spare))
			p->spare = c->next;
		pthread_mutex_unlock(&p->mu);
		if (!c && !(c = st_calloc(1, sizeof(*c))))
			return -1;
		c->next = NULL;
		p->cur = c;
	}
	if (c->len + n > c->cap) {
		size_t cap = c->cap ? c->cap : CHUNK_BYTES;
		unsigned char *q;

		while (cap < c->len + n)
			cap *= 2;
		if (!(q = st_realloc(c->p, cap)))
			return -1;
		c->p = q;
		c->cap = cap;
	}
	return 0;
}

static int put(struct catalog_dbt_pipe *p, int op, int t, const void *v, size_t vn,
	       const char *s, uint32_t sn)
{
	struct chunk *c;

	if (room(p, 2 + vn + sn))
		return -1;
	c = p->cur;
	c->p[c->len++] = (unsigned char)op;
	c->p[c->len++] = (unsigned char)t;
	if (vn)
		memcpy(c->p + c->len, v, vn);
	c->len += vn;
	if (sn)
		memcpy(c->p + c->len, s, sn);
	c->len += sn;
	if (c->len >= CHUNK_BYTES)
		hand_over(p);
	return 0;
}

int catalog_dbt_pipe_int(struct catalog_dbt_pipe *p, int target, int64_t v)
{
	return put(p, OP_INT, target, &v, sizeof(v), NULL, 0);
}

int catalog_dbt_pipe_text(struct catalog_dbt_pipe *p, int target, const char *s, size_t n)
{
	uint32_t len = (uint32_t)n;

	if (!s)
		return put(p, OP_NULL, target, NULL, 0, NULL, 0);
	if (n > INT32_MAX)
		return -1;
	return put(p, OP_TEXT, target, &len, sizeof(len), s, len);
}

int catalog_dbt_pipe_step(struct catalog_dbt_pipe *p, int target)
{
	return put(p, OP_STEP, target, NULL, 0, NULL, 0);
}

int catalog_dbt_pipe_finish(struct catalog_dbt_pipe *p, struct st_error *err)
{
	int ret = 0;

	if (!p)
		return 0;
	hand_over(p);
	pthread_mutex_lock(&p->mu);
	p->closed = 1;
	pthread_cond_signal(&p->ready);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->th, NULL);
	if (p->failed) {
		*err = p->err;
		ret = -1;
	}
	chunk_free(p->cur);
	chunk_free(p->head);
	chunk_free(p->spare);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->ready);
	pthread_cond_destroy(&p->space);
	st_free(p);
	return ret;
}
