/* Unit tests for the loader's row batches (catalog/rowbatch.c): rows come out as added,
 * across full batches whose statement keeps the values it bound before, also rows gathered
 * elsewhere (catalog_rowbatch_write(): texts in a buffer of their own or kept where they
 * are, the same address holding another text by the next write). */
#include "harness.h"
#include "rowbatch.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static struct st_error err = ST_ERROR_INIT;

static int text(struct catalog_rowbatch *b, const char *s)
{
	return catalog_rowbatch_text(b, s, s ? strlen(s) : 0, &err, "row");
}

static int row(struct catalog_rowbatch *b, int64_t a, const char *t, const char *c)
{
	return catalog_rowbatch_int(b, a, &err, "row") || text(b, t) || text(b, c);
}

/* Checks that table t holds want: its rows in rowid order, quoted. */
static void check_rows(sqlite3 *db, const char *want)
{
	sqlite3_stmt *st = NULL;

	CHECK(sqlite3_prepare_v2(db,
				 "SELECT group_concat(quote(a) || quote(b) || quote(c), ' ')"
				 " FROM (SELECT * FROM t ORDER BY rowid)",
				 -1, &st, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), want);
	sqlite3_finalize(st);
}

int main(void)
{
	struct catalog_rowbatch b;
	sqlite3 *db = NULL;

	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "CREATE TABLE t(a, b, c)", NULL, NULL, NULL) == SQLITE_OK);
	/* 6 variables: batches of two rows of three values */
	sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, 6);
	catalog_rowbatch_init(&b, db, "INSERT INTO t(a, b, c) VALUES ", 3);
	CHECK(b.max_rows == 2);
	/* the same integers and NULLs, other texts in the same places, then other kinds, a
	 * short batch, and full ones again */
	CHECK(row(&b, 1, "p", NULL) == 0 && row(&b, 1, "x", NULL) == 0);
	CHECK(row(&b, 1, "q", NULL) == 0 && row(&b, 2, "y", NULL) == 0);
	CHECK(row(&b, 1, "q", "") == 0 && row(&b, 2, NULL, "z") == 0);
	CHECK(catalog_rowbatch_blob(&b, "q", 1, &err, "row") == 0 && text(&b, "r") == 0 &&
	      catalog_rowbatch_int(&b, 7, &err, "row") == 0);
	CHECK(catalog_rowbatch_flush(&b, &err, "row") == 0);
	CHECK(row(&b, 3, "s", NULL) == 0 && row(&b, 2, NULL, "z") == 0);
	CHECK(row(&b, 3, "t", NULL) == 0 && row(&b, 2, NULL, "zz") == 0);
	CHECK(catalog_rowbatch_flush(&b, &err, "row") == 0);
	check_rows(db, "1'p'NULL 1'x'NULL 1'q'NULL 2'y'NULL 1'q''' 2NULL'z' X'71''r'7 3's'NULL "
		       "2NULL'z' 3't'NULL 2NULL'zz'");

	{
		char kept[8] = "k1", buf[16] = "ab";
		struct catalog_rowval v[6] = {
			{SQLITE_INTEGER, 5, 0, 0, NULL}, {SQLITE_TEXT, 0, 0, 2, kept},
			{SQLITE_TEXT, 0, 0, 1, buf},	 {SQLITE_INTEGER, 6, 0, 0, NULL},
			{SQLITE_TEXT, 0, 1, 1, NULL},	 {SQLITE_TEXT, 0, 0, 0, ""}};

		CHECK(sqlite3_exec(db, "DELETE FROM t", NULL, NULL, NULL) == SQLITE_OK);
		CHECK(catalog_rowbatch_write(&b, v, 6, buf, &err, "row") == 0);
		/* the same addresses and lengths, other texts there: written as they are now */
		memcpy(kept, "k2", 2);
		buf[0] = 'c';
		buf[1] = 'd';
		CHECK(catalog_rowbatch_write(&b, v, 6, buf, &err, "row") == 0);
		v[1].at = "long";
		v[1].len = 4;
		CHECK(catalog_rowbatch_write(&b, v, 3, buf, &err, "row") == 0); /* one row */
		check_rows(db, "5'k1''a' 6'b''' 5'k2''c' 6'd''' 5'long''c'");
	}
	catalog_rowbatch_release(&b);
	sqlite3_close(db);
	return t_done();
}
