/* The rows of a dbt manifest written on a second thread: the manifest's reader gathers the
 * rows of each batch (whole statements' worth) and queues them, with each value and step of
 * the other statements, in order; the writer thread writes them on the one SQLite
 * connection, which only it uses meanwhile. */
#include "dbt_pipe.h"
#include "alloc.h"
#include "sql.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define CHUNK_BYTES ((size_t)256 << 10) /* a chunk is handed over once it holds this much */
#define QUEUE_MAX 16			/* chunks queued before the reader waits... */
#define QUEUE_LOW 8			/* ...until the writer is down to this many */

enum { OP_INT = 'I', OP_TEXT = 'T', OP_NULL = 'N', OP_STEP = 'S', OP_ROWS = 'R' };

/* The rows of one statement of a batch, gathered by the reader (catalog_rowbatch's form:
 * texts at their offsets in text, each followed by a NUL, so that an empty one is text). */
struct rows {
	struct rows *next;
	size_t nvals, cap;
	struct catalog_rowval *vals;
	struct st_buf text;
};

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
	struct rows **fill;		      /* per batch: the rows being gathered, or NULL */
	size_t *full;			      /* per batch: the values of a statement's rows */
	int lead;			      /* the batch written first, or -1 */
	size_t lead_cols;
	struct rows *spare_rows;	      /* written, for reuse */

	struct chunk *cur;		 /* being filled by the reader */
	struct chunk *head, *tail;	 /* queued */
	struct chunk *spare;		 /* done, for reuse */
	size_t queued;
	int closed, failed;
	int secure; /* PRAGMA secure_delete before the pipe (-1: unknown, left as it was) */
	int (*idle)(void *u); /* catalog_dbt_pipe_idle() */
	void *idle_u;
	struct st_error err; /* the writer's */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t ready, space;
};

static void rows_free(struct rows *r)
{
	while (r) {
		struct rows *n = r->next;

		st_free(r->vals);
		st_buf_release(&r->text);
		st_free(r);
		r = n;
	}
}

static void chunk_free(struct chunk *c)
{
	while (c) {
		struct chunk *n = c->next;

		st_free(c->p);
		st_free(c);
		c = n;
	}
}

/* Replays one chunk (after a failure, p->failed: only takes back the rows it holds); a
 * failure sets p->failed and p->err. Batch values come only as whole statements' rows
 * (OP_ROWS); single values and steps are the other statements'. */
static void replay(struct catalog_dbt_pipe *p, const struct chunk *c)
{
	size_t at = 0;

	while (at < c->len) {
		int op = c->p[at], t = c->p[at + 1];
		int64_t v = 0;
		uint32_t n = 0;
		const char *s = NULL;

		at += 2;
		if (op == OP_ROWS) {
			struct rows *r;
			int bad;

			memcpy(&r, c->p + at, sizeof(r));
			at += sizeof(r);
			bad = !p->failed && catalog_rowbatch_write(&p->b[t], r->vals, r->nvals,
								   r->text.p, &p->err, p->what[t]);
			r->nvals = 0;
			st_buf_reset(&r->text);
			pthread_mutex_lock(&p->mu);
			r->next = p->spare_rows;
			p->spare_rows = r;
			pthread_mutex_unlock(&p->mu);
			if (bad)
				p->failed = 1; /* the rest is read and dropped */
			continue;
		}
		if (op == OP_INT) {
			memcpy(&v, c->p + at, sizeof(v));
			at += sizeof(v);
		} else if (op == OP_TEXT) {
			memcpy(&n, c->p + at, sizeof(n));
			s = (const char *)c->p + at + sizeof(n);
			at += sizeof(n) + n;
		}
		if (p->failed)
			continue;
		t -= (int)p->nb;
		if (op == OP_STEP) {
			int rc = sqlite3_step(p->st[t]);

			sqlite3_reset(p->st[t]);
			sqlite3_clear_bindings(p->st[t]);
			p->param[t] = 0;
			if (rc != SQLITE_DONE) {
				st_sql_error(&p->err, p->db, p->st_what[t]);
				p->failed = 1;
			}
			continue;
		}
		++p->param[t];
		if ((op == OP_INT	? sqlite3_bind_int64(p->st[t], p->param[t], v)
		     : op == OP_TEXT ? sqlite3_bind_text(p->st[t], p->param[t], s, (int)n,
							 SQLITE_TRANSIENT)
				     : sqlite3_bind_null(p->st[t], p->param[t])) != SQLITE_OK) {
			st_sql_error(&p->err, p->db, p->st_what[t]);
			p->failed = 1;
		}
	}
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
		replay(p, c);
		c->len = 0;
		pthread_mutex_lock(&p->mu);
		c->next = p->spare;
		p->spare = c;
		/* The reader waits for QUEUE_LOW: one wake-up for every few chunks. */
		if (p->queued <= QUEUE_LOW)
			pthread_cond_signal(&p->space);
		pthread_mutex_unlock(&p->mu);
	}
}

int catalog_dbt_pipe_start(struct catalog_dbt_pipe **out, struct catalog_rowbatch *b,
			   const char *const *what, size_t nb, sqlite3 *db, sqlite3_stmt *const *st,
			   const char *const *st_what, size_t nst, int lead, int fresh)
{
	struct catalog_dbt_pipe *p;

	*out = NULL;
	if (nst > CATALOG_DBT_PIPE_MAX_STMT || nb + nst > 255)
		return -1;
	for (size_t i = 0; i < nb; i++)
		if (b[i].nvals) /* rows gathered already: written directly, in order */
			return -1;
	if (!(p = st_calloc(1, sizeof(*p))))
		return -1;
	if (!(p->fill = st_calloc(nb ? nb : 1, sizeof(*p->fill))) ||
	    !(p->full = st_calloc(nb ? nb : 1, sizeof(*p->full)))) {
		st_free(p->fill);
		st_free(p->full);
		st_free(p);
		return -1;
	}
	for (size_t i = 0; i < nb; i++)
		p->full[i] = b[i].max_rows * (size_t)b[i].ncols;
	p->b = b;
	p->lead = lead >= 0 && (size_t)lead < nb ? lead : -1;
	p->lead_cols = p->lead >= 0 ? (size_t)b[lead].ncols : 1;
	p->what = what;
	p->nb = nb;
	p->db = db;
	p->st = st;
	p->st_what = st_what;
	st_error_init(&p->err);
	/* Only into an empty catalog: the writer only inserts, so what B-tree pages free
	 * meanwhile are cells moved to other pages as they split and balance, and no page holds
	 * deleted content (~6% of the writer's instructions). A load into a catalog with rows
	 * keeps it: FTS5's merges there drop old segments. */
	p->secure = fresh ? st_sql_secure_delete_off(db) : -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->ready, NULL);
	pthread_cond_init(&p->space, NULL);
	if (pthread_create(&p->th, NULL, writer, p)) {
		(void)st_sql_secure_delete_restore(db, p->secure, NULL);
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->ready);
		pthread_cond_destroy(&p->space);
		st_free(p->fill);
		st_free(p->full);
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
	if (p->queued >= QUEUE_MAX)
		while (p->queued > QUEUE_LOW) {
			int more;

			if (p->idle) {
				pthread_mutex_unlock(&p->mu);
				more = p->idle(p->idle_u);
				pthread_mutex_lock(&p->mu);
				if (more)
					continue;
			}
			pthread_cond_wait(&p->space, &p->mu);
		}
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

void catalog_dbt_pipe_idle(struct catalog_dbt_pipe *p, int (*fn)(void *u), void *u)
{
	if (!p)
		return;
	p->idle = fn;
	p->idle_u = u;
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

/* The rows being gathered for batch t, taken from the spare ones or made. NULL when out of
 * memory. */
static struct rows *rows_of(struct catalog_dbt_pipe *p, int t)
{
	struct rows *r = p->fill[t];

	if (r)
		return r;
	pthread_mutex_lock(&p->mu);
	if ((r = p->spare_rows))
		p->spare_rows = r->next;
	pthread_mutex_unlock(&p->mu);
	if (!r) {
		if (!(r = st_calloc(1, sizeof(*r))))
			return NULL;
		st_buf_init(&r->text, (size_t)1 << 30); /* as catalog_rowbatch's */
	}
	r->next = NULL;
	p->fill[t] = r;
	return r;
}

/* Queues the rows gathered for batch t. Returns 0, or -1 when out of memory. */
static int queue_rows(struct catalog_dbt_pipe *p, int t)
{
	struct rows *r = p->fill[t];

	p->fill[t] = NULL;
	if (put(p, OP_ROWS, t, &r, sizeof(r), NULL, 0)) {
		rows_free(r);
		return -1;
	}
	hand_over(p); /* the writer may be waiting for these */
	return 0;
}

/* Adds a value (kind: SQLITE_INTEGER v, SQLITE_TEXT s[0, n) or SQLITE_NULL) to batch t's
 * rows, a text copied unless kept (its address: see catalog_dbt_pipe_kept()); once they
 * fill a statement, queues them. Returns 0, or -1 when out of memory. */
static int add_val(struct catalog_dbt_pipe *p, int t, int kind, int64_t v, const char *s,
		   size_t n, const char *kept)
{
	struct rows *r = p->fill[t];
	struct catalog_rowval *x;

	if (!r && !(r = rows_of(p, t)))
		return -1;
	if (r->nvals == r->cap && st_grow(&r->vals, &r->cap, p->full[t], sizeof(*r->vals)))
		return -1;
	x = &r->vals[r->nvals];
	x->kind = kind;
	x->i = v;
	x->off = r->text.len;
	x->len = n;
	x->at = kept;
	if (kind == SQLITE_TEXT && !kept) {
		char *at = st_buf_room(&r->text, n + 1);

		if (at) { /* the text, its NUL, and the buffer's */
			memcpy(at, s, n);
			at[n] = at[n + 1] = '\0';
			r->text.len += n + 1;
		} else if (st_buf_add(&r->text, s, n) || st_buf_add(&r->text, "", 1)) {
			return -1;
		}
	}
	if (++r->nvals < p->full[t])
		return 0;
	/* The lead's (whole) rows first, however few. */
	if (p->lead >= 0 && t != p->lead && p->fill[p->lead] && p->fill[p->lead]->nvals &&
	    p->fill[p->lead]->nvals % p->lead_cols == 0 && queue_rows(p, p->lead))
		return -1;
	return queue_rows(p, t);
}

/* The next value of batch t's rows when it neither starts nor ends a statement's worth
 * and fits (add_val() does the rest): the common case, kept short. */
static struct catalog_rowval *next_val(struct catalog_dbt_pipe *p, int t)
{
	struct rows *r = p->fill[t];

	return r && r->nvals + 1 < p->full[t] && r->nvals < r->cap ? &r->vals[r->nvals] : NULL;
}

int catalog_dbt_pipe_int(struct catalog_dbt_pipe *p, int target, int64_t v)
{
	struct catalog_rowval *x;

	if ((size_t)target >= p->nb)
		return put(p, OP_INT, target, &v, sizeof(v), NULL, 0);
	if (!(x = next_val(p, target)))
		return add_val(p, target, SQLITE_INTEGER, v, NULL, 0, NULL);
	x->kind = SQLITE_INTEGER;
	x->i = v;
	p->fill[target]->nvals++;
	return 0;
}

int catalog_dbt_pipe_text(struct catalog_dbt_pipe *p, int target, const char *s, size_t n)
{
	uint32_t len = (uint32_t)n;
	struct catalog_rowval *x;
	char *at;

	if (n > INT32_MAX)
		return -1;
	if ((size_t)target < p->nb) {
		struct rows *r = p->fill[target];

		if (!s || !(x = next_val(p, target)) || !(at = st_buf_room(&r->text, n + 1)))
			return add_val(p, target, s ? SQLITE_TEXT : SQLITE_NULL, 0, s, s ? n : 0, NULL);
		x->kind = SQLITE_TEXT;
		x->off = r->text.len;
		x->len = n;
		x->at = NULL;
		memcpy(at, s, n); /* the text, its NUL, and the buffer's */
		at[n] = at[n + 1] = '\0';
		r->text.len += n + 1;
		r->nvals++;
		return 0;
	}
	if (!s)
		return put(p, OP_NULL, target, NULL, 0, NULL, 0);
	return put(p, OP_TEXT, target, &len, sizeof(len), s, len);
}

int catalog_dbt_pipe_kept(struct catalog_dbt_pipe *p, int target, const char *s, size_t n)
{
	struct catalog_rowval *x;

	if ((size_t)target >= p->nb || !s)
		return catalog_dbt_pipe_text(p, target, s, n);
	if (n > INT32_MAX)
		return -1;
	if (!(x = next_val(p, target)))
		return add_val(p, target, SQLITE_TEXT, 0, s, n, s);
	x->kind = SQLITE_TEXT;
	x->len = n;
	x->at = s;
	p->fill[target]->nvals++;
	return 0;
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
	/* As it was: deletes after the pipe zero what they free again. */
	if (st_sql_secure_delete_restore(p->db, p->secure, ret ? NULL : err))
		ret = -1;
	/* Rows that fill no statement yet go to their batch, as if the writer had added them
	 * there (it wrote only whole statements' worth, so it holds none). */
	for (size_t t = 0; t < p->nb; t++) {
		struct rows *r = p->fill[t];

		for (size_t i = 0; !ret && r && i < r->nvals; i++) {
			const struct catalog_rowval *v = &r->vals[i];

			if (v->kind == SQLITE_INTEGER
				    ? catalog_rowbatch_int(&p->b[t], v->i, err, p->what[t])
				    : catalog_rowbatch_text(&p->b[t],
							    v->kind != SQLITE_TEXT ? NULL
							    : v->at		   ? v->at
										   : r->text.p + v->off,
							    v->len, err, p->what[t]))
				ret = -1;
		}
		rows_free(r);
	}
	st_free(p->fill);
	st_free(p->full);
	rows_free(p->spare_rows);
	chunk_free(p->cur);
	chunk_free(p->head);
	chunk_free(p->spare);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->ready);
	pthread_cond_destroy(&p->space);
	st_free(p);
	return ret;
}
