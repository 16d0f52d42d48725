/* Group commit of audit records for the threads of one process that share audit.db (the
 * server's workers): a thread queues its record, and whichever thread finds no batch being
 * written takes the whole queue and appends it in one transaction and one sync. */
#include "audit.h"
#include "alloc.h"

#include <pthread.h>
#include <string.h>

#define GROUP_MAX 128 /* records in one transaction at most */

/* What a waiter is told (its state, under its own mu). */
#define TOLD_TURN 1 /* no batch is being written: take the queue */
#define TOLD_DONE 2 /* its record was written, or not (rc, err) */

/* A queued record and, once written or not, its result. Lives on its thread's stack; its
 * thread sleeps on wake under its own mu, so that a batch written wakes its threads without
 * each of them taking the group's lock in turn to learn it (a convoy: under load the last
 * of some 30 woke milliseconds after the first). */
struct waiter {
	struct audit_item item;
	struct waiter *next;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	int told, rc;
	struct st_error err;
};

/* Tells w what (TOLD_*) and wakes it. After TOLD_DONE, w may be gone once w->mu is let go. */
static void tell(struct waiter *w, int what)
{
	pthread_mutex_lock(&w->mu);
	w->told |= what;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
}

struct audit_group {
	pthread_mutex_t mu;
	struct waiter *head, **tail; /* queued, not yet taken into a batch */
	int writing;                 /* a thread is writing a batch */
};

struct audit_group *audit_group_new(void)
{
	struct audit_group *g = st_calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	pthread_mutex_init(&g->mu, NULL);
	g->tail = &g->head;
	return g;
}

void audit_group_free(struct audit_group *g)
{
	if (!g)
		return;
	pthread_mutex_destroy(&g->mu);
	st_free(g);
}

/* Writes the records of list (n of them, at most GROUP_MAX) with log and sets each one's
 * result. When the batch fails, each record is tried alone, so that one that cannot be
 * written does not take the others with it. */
static void write_batch(struct audit_log *log, struct waiter *list, size_t n)
{
	struct audit_item items[GROUP_MAX];
	struct st_error err = ST_ERROR_INIT;
	struct waiter *w = list;
	int rc;

	for (size_t i = 0; i < n; i++, w = w->next)
		items[i] = w->item;
	rc = audit_append_many(log, items, n, &err);
	w = list;
	for (size_t i = 0; i < n; i++, w = w->next) {
		if (rc && n > 1) {
			st_error_init(&err);
			w->rc = audit_append_many(log, &items[i], 1, &err);
		} else
			w->rc = rc;
		if (w->rc)
			w->err = err;
	}
}

int audit_group_append(struct audit_group *g, struct audit_log *log, const struct audit_entry *e,
		       int outcome, const char *reason, const char *counts, struct st_error *err)
{
	struct waiter me = {.item = {e, outcome, reason, counts}, .err = ST_ERROR_INIT};
	int done = 0, wrote = 0;

	pthread_mutex_init(&me.mu, NULL);
	pthread_cond_init(&me.wake, NULL);
	pthread_mutex_lock(&g->mu);
	*g->tail = &me;
	g->tail = &me.next;
	while (!done) {
		struct waiter *list, *w, *rest, *next;
		size_t n = 0;

		if (g->writing) {
			int told;

			/* Told TOLD_TURN while queued (under g->mu, so it is still here), TOLD_DONE
			 * once in a batch written: never TOLD_TURN after TOLD_DONE. */
			pthread_mutex_unlock(&g->mu);
			pthread_mutex_lock(&me.mu);
			while (!me.told)
				pthread_cond_wait(&me.wake, &me.mu);
			told = me.told;
			me.told = 0;
			pthread_mutex_unlock(&me.mu);
			if (told & TOLD_DONE)
				break;
			pthread_mutex_lock(&g->mu);
			continue;
		}
		/* This thread writes what is queued (its own record among it, unless over
		 * GROUP_MAX are ahead of it: nothing queued is done, and no batch is being
		 * written). */
		g->writing = 1;
		list = g->head;
		for (w = list; w && n < GROUP_MAX - 1; w = w->next)
			n++;
		rest = w ? w->next : NULL;
		if (w) {
			n++;
			w->next = NULL;
		}
		g->head = rest;
		if (!rest)
			g->tail = &g->head;
		pthread_mutex_unlock(&g->mu);
		write_batch(log, list, n);
		pthread_mutex_lock(&g->mu);
		g->writing = 0;
		if (g->head && g->head != &me) /* the next batch's writer */
			tell(g->head, TOLD_TURN);
		pthread_mutex_unlock(&g->mu);
		for (w = list; w; w = next) {
			next = w->next; /* w is gone once told */
			if (w == &me)
				done = wrote = 1;
			else
				tell(w, TOLD_DONE);
		}
		if (!done)
			pthread_mutex_lock(&g->mu);
	}
	/* The batch's threads go on (and the next batch is written) while this one folds the
	 * WAL, when it is due: a fold copies and syncs megabytes. */
	if (wrote)
		audit_fold(log);
	pthread_cond_destroy(&me.wake);
	pthread_mutex_destroy(&me.mu);
	if (me.rc)
		*err = me.err;
	return me.rc;
}
