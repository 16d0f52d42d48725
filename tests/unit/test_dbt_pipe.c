/* Unit tests for the dbt manifest's writer thread (catalog/dbt_pipe.c): a batch's rows
 * written as they came (NULL, integers, texts copied and kept), the rows too few for a
 * statement left to the batch, PRAGMA secure_delete as it was once the pipe is finished, and
 * the idle hook called while the writer is behind. */
#include "dbt_pipe.h"
#include "harness.h"

#include <semaphore.h>
#include <sqlite3.h>
#include <string.h>

static struct st_error err = ST_ERROR_INIT;

static int row(struct catalog_dbt_pipe *p, const char *a, int64_t ai, const char *b,
	       const char *c)
{
	int r = a ? catalog_dbt_pipe_text(p, 0, a, strlen(a))
		  : ai < 0 ? catalog_dbt_pipe_text(p, 0, NULL, 0)
			   : catalog_dbt_pipe_int(p, 0, ai);

	return r || catalog_dbt_pipe_kept(p, 0, b, strlen(b)) ||
	       catalog_dbt_pipe_text(p, 0, c, strlen(c));
}

static void check_query(sqlite3 *db, const char *sql, const char *want)
{
	sqlite3_stmt *st = NULL;

	CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), want);
	sqlite3_finalize(st);
}

/* The writer held at its first row until the idle hook lets it go: the queue fills up, so
 * the hook runs on the queuing thread. A pipe that never calls the hook hangs here, which
 * the test's timeout reports. */
static sem_t gate;
static int held;

static void block(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)argv;
	if (!held++)
		while (sem_wait(&gate))
			;
	sqlite3_result_null(ctx);
}

struct idle_calls {
	int calls, work; /* calls, and how many of them report work done */
};

static int idle(void *u)
{
	struct idle_calls *c = u;

	if (!c->calls++)
		sem_post(&gate);
	return c->calls <= c->work;
}

static void idle_while_full(void)
{
	static struct catalog_rowbatch b;
	const char *what[1] = {"cannot store row"};
	struct catalog_dbt_pipe *p = NULL;
	struct idle_calls calls = {0, 3};
	char text[201];
	sqlite3 *db = NULL;
	int bad = 0, n = 40000;

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	CHECK(sem_init(&gate, 0, 0) == 0);
	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	CHECK(sqlite3_create_function(db, "block", 0, SQLITE_UTF8, NULL, block, NULL, NULL) ==
	      SQLITE_OK);
	CHECK(sqlite3_exec(db,
			   "CREATE TABLE t(a, c);"
			   "CREATE TRIGGER held AFTER INSERT ON t BEGIN SELECT block(); END",
			   NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, 8); /* four rows to a statement */
	catalog_rowbatch_init(&b, db, "INSERT INTO t(a, c) VALUES ", 2);
	CHECK(catalog_dbt_pipe_start(&p, &b, what, 1, db, NULL, NULL, 0, -1, 1) == 0 && p);
	catalog_dbt_pipe_idle(p, idle, &calls);
	/* 8 MB of rows, over the 4 MB the queue holds */
	for (int i = 0; p && i < n; i++)
		bad |= catalog_dbt_pipe_int(p, 0, i) || catalog_dbt_pipe_text(p, 0, text, 200);
	CHECK(bad == 0);
	CHECK(catalog_dbt_pipe_finish(p, &err) == 0);
	CHECK(catalog_rowbatch_flush(&b, &err, what[0]) == 0);
	CHECK(calls.calls > calls.work); /* the hook ran, and the thread then slept */
	check_query(db, "SELECT count(*) || ' ' || sum(a) || ' ' || min(length(c)) FROM t",
		    "40000 799980000 200");
	check_query(db, "SELECT count(*) FROM t WHERE a <> rowid - 1", "0");
	catalog_rowbatch_release(&b);
	sqlite3_close(db);
	sem_destroy(&gate);
}

int main(void)
{
	static struct catalog_rowbatch b;
	const char *what[1] = {"cannot store row"};
	struct catalog_dbt_pipe *p = NULL;
	sqlite3 *db = NULL;

	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "CREATE TABLE t(a, b, c); PRAGMA secure_delete = ON", NULL, NULL,
			   NULL) == SQLITE_OK);
	/* statements of four rows of three values */
	sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, 12);
	catalog_rowbatch_init(&b, db, "INSERT INTO t(a, b, c) VALUES ", 3);
	CHECK(b.max_rows == 4);
	CHECK(catalog_dbt_pipe_start(&p, &b, what, 1, db, NULL, NULL, 0, -1, 1) == 0 && p);
	/* two statements' rows in the order they came, and one row too few for a statement */
	CHECK(row(p, NULL, 2, "b", "1") == 0 && row(p, "t", 0, "a", "2") == 0 &&
	      row(p, NULL, 1, "z", "3") == 0 && row(p, NULL, -1, "a", "4") == 0);
	CHECK(row(p, "ab", 0, "k", "5") == 0 && row(p, "a", 0, "k", "6") == 0 &&
	      row(p, "a", 0, "k", "7") == 0 && row(p, NULL, 10, "k", "8") == 0);
	CHECK(row(p, "b", 0, "k", "9") == 0);
	CHECK(catalog_dbt_pipe_finish(p, &err) == 0);
	CHECK(b.nvals == 3);
	CHECK(catalog_rowbatch_flush(&b, &err, what[0]) == 0);
	check_query(db, "SELECT group_concat(c, ' ') FROM (SELECT c FROM t ORDER BY rowid)",
		    "1 2 3 4 5 6 7 8 9");
	check_query(db, "SELECT quote(a) || '/' || b FROM t WHERE c = '4'", "NULL/a");
	check_query(db, "SELECT quote(a) || '/' || b FROM t WHERE c = '5'", "'ab'/k");
	check_query(db, "PRAGMA secure_delete", "1");
	catalog_rowbatch_release(&b);
	sqlite3_close(db);
	idle_while_full();
	return t_done();
}
