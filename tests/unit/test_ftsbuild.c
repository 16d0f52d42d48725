/* Unit tests for the search index built on a thread of its own (catalog/ftsbuild.c): the copy
 * holds what inserting the rows makes, shadow table for shadow table; a build that fails
 * leaves the catalog's table empty and usable for the caller's own inserts. */
#include "harness.h"
#include "ftsbuild.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CREATE_SQL                                                                             \
	"CREATE VIRTUAL TABLE search_fts USING fts5(\n"                                         \
	"  name, description, fields, tags, owner, terms,\n"                                    \
	"  tokenize = 'unicode61 remove_diacritics 2'\n"                                        \
	")"

static struct st_error err = ST_ERROR_INIT;

static int add_text(struct st_buf *b, const char *s)
{
	int64_t n = s ? (int64_t)strlen(s) : -1;

	return st_buf_add(b, &n, sizeof(n)) || (s && st_buf_add(b, s, strlen(s)));
}

/* n search rows in ftsbuild.h's form: rowid, then name, description, tags, owner, fields. */
static int make_rows(struct st_buf *b, int n)
{
	for (int i = 1; i <= n; i++) {
		char name[64], desc[128], fields[128];
		int64_t id = i * 3;

		snprintf(name, sizeof(name), "shop.orders_%d", i);
		snprintf(desc, sizeof(desc), "Orders of week %d, caf\xc3\xa9 and r\xc3\xa9sum\xc3\xa9", i % 53);
		snprintf(fields, sizeof(fields), "id email customer_%d total", i % 17);
		if (st_buf_add(b, &id, sizeof(id)) || add_text(b, name) ||
		    add_text(b, i % 5 ? desc : NULL) || add_text(b, i % 2 ? "pii gold" : "") ||
		    add_text(b, i % 7 ? "team-data" : NULL) || add_text(b, fields))
			return -1;
	}
	return 0;
}

static sqlite3 *open_db(const char *create_sql)
{
	sqlite3 *db = NULL;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_exec(db, create_sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return NULL;
	return db;
}

/* Every row of table t, in rowid order, as one text. */
static char *dump(sqlite3 *db, const char *t)
{
	char sql[256];
	sqlite3_stmt *st = NULL;
	char *out = NULL;

	/* idx and config are WITHOUT ROWID tables: every table in the order of its key */
	snprintf(sql, sizeof(sql), "SELECT group_concat(r, char(10)) FROM (SELECT %s AS r FROM %s)",
		 !strcmp(t, "search_fts_data")	   ? "quote(id) || quote(block)"
		 : !strcmp(t, "search_fts_idx")	   ? "quote(segid) || quote(term) || quote(pgno)"
		 : !strcmp(t, "search_fts_config") ? "quote(k) || quote(v)"
		 : !strcmp(t, "search_fts_docsize") ? "quote(id) || quote(sz)"
						    : "quote(id) || quote(c0) || quote(c1) ||"
						      " quote(c2) || quote(c3) || quote(c4) || quote(c5)",
		 t);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		out = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

static int64_t count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* How same_as_inserted() builds: started on a thread with every row, or opened while the
 * rows are written (in pieces, the buffer moving), some indexed on this thread, the rest
 * on the builder's. */
enum { WHOLE, STREAMED };

static void same_as_inserted(int how)
{
	static const char *const shadow[] = {"search_fts_data", "search_fts_idx",
					     "search_fts_content", "search_fts_docsize",
					     "search_fts_config"};
	struct st_buf rows;
	sqlite3 *a = open_db(CREATE_SQL), *b = open_db(CREATE_SQL);
	sqlite3_stmt *ins = NULL;
	struct catalog_ftsbuild *fb;
	int bad = 0;

	st_buf_init(&rows, 1u << 24);
	CHECK(a && b);
	/* a: built beside, then copied in; b: the rows inserted one by one */
	if (how == WHOLE) {
		CHECK(make_rows(&rows, 600) == 0);
		CHECK((fb = catalog_ftsbuild_start(CREATE_SQL, &rows)) != NULL);
	} else {
		int stepped = 0;

		CHECK((fb = catalog_ftsbuild_open(CREATE_SQL, &rows)) != NULL);
		CHECK(fb && catalog_ftsbuild_step(fb, rows.len) == 0); /* nothing yet */
		for (int piece = 0; fb && piece < 3; piece++) {
			struct st_buf more;

			st_buf_init(&more, 1u << 24);
			CHECK(make_rows(&more, 200) == 0);
			/* the ids go on from the last piece's: rowids one to 600, times 3 */
			for (size_t at = 0; at < more.len;) {
				const char *text[5];
				int64_t id, n;

				memcpy(&id, more.p + at, sizeof(id));
				id += (int64_t)piece * 600;
				CHECK(st_buf_add(&rows, &id, sizeof(id)) == 0);
				at += sizeof(id);
				for (int k = 0; k < 5; k++) {
					memcpy(&n, more.p + at, sizeof(n));
					text[k] = n < 0 ? NULL : more.p + at + sizeof(n);
					CHECK(st_buf_add(&rows, more.p + at,
							 sizeof(n) + (n < 0 ? 0 : (size_t)n)) == 0);
					at += sizeof(n) + (n < 0 ? 0 : (size_t)n);
				}
				(void)text;
			}
			st_buf_release(&more);
			for (int k = 0; k < 150; k++)
				stepped += catalog_ftsbuild_step(fb, rows.len);
		}
		CHECK(stepped == 450);
		CHECK(fb && catalog_ftsbuild_run(fb) == 0);
	}
	if (fb)
		CHECK(catalog_ftsbuild_finish(fb, a, &err) == 0);
	CHECK(sqlite3_exec(b, CATALOG_FTS_HASHSIZE_SQL, NULL, NULL, NULL) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(b, CATALOG_FTS_INSERT_SQL, -1, &ins, NULL) == SQLITE_OK);
	for (size_t at = 0; ins && at < rows.len;) {
		at += catalog_ftsbuild_bind(ins, rows.p + at);
		bad += sqlite3_step(ins) != SQLITE_DONE;
		sqlite3_reset(ins);
	}
	CHECK(bad == 0);
	sqlite3_finalize(ins);
	CHECK(sqlite3_exec(a, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(sqlite3_exec(b, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	for (size_t i = 0; i < sizeof(shadow) / sizeof(*shadow); i++) {
		char *x = dump(a, shadow[i]), *y = dump(b, shadow[i]);

		CHECK(x && y);
		CHECK_STR(x, y);
		sqlite3_free(x);
		sqlite3_free(y);
	}
	CHECK(sqlite3_exec(a, "INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)",
			   NULL, NULL, NULL) == SQLITE_OK);
	CHECK(count(a, "SELECT count(*) FROM search_fts WHERE search_fts MATCH 'resume'") == 480);
	CHECK(count(a, "SELECT count(*) FROM search_fts") == 600);
	st_buf_release(&rows);
	sqlite3_close(a);
	sqlite3_close(b);
}

/* The catalog's connection knows a tokenizer that the builder's does not (unicode61 under
 * another name). Returns 0 when registered. */
static int add_tokenizer(sqlite3 *db)
{
	fts5_api *api = NULL;
	fts5_tokenizer tok;
	sqlite3_stmt *st = NULL;
	void *ud = NULL;
	int ok;

	ok = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) == SQLITE_OK &&
	     sqlite3_bind_pointer(st, 1, &api, "fts5_api_ptr", NULL) == SQLITE_OK &&
	     sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!ok || !api || api->xFindTokenizer(api, "unicode61", &ud, &tok) != SQLITE_OK)
		return -1;
	return api->xCreateTokenizer(api, "steward_test", ud, &tok, NULL) == SQLITE_OK ? 0 : -1;
}

/* The builder cannot make the table (its connection lacks the tokenizer): opened on this
 * thread, there is no builder; started, its build fails, and the catalog's table, whose
 * content rows were written meanwhile, is empty again and takes the caller's own rows. A
 * builder opened and never run is abandoned. */
static void failed_build(void)
{
	static const char create2[] =
		"CREATE VIRTUAL TABLE search_fts USING fts5(name, description, fields, tags,"
		" owner, terms, tokenize = 'steward_test')";
	struct st_buf rows;
	sqlite3 *db = NULL;
	struct catalog_ftsbuild *fb;

	st_buf_init(&rows, 1u << 24);
	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK && add_tokenizer(db) == 0);
	CHECK(sqlite3_exec(db, create2, NULL, NULL, NULL) == SQLITE_OK &&
	      sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(make_rows(&rows, 300) == 0);
	CHECK(catalog_ftsbuild_open(create2, &rows) == NULL);
	CHECK((fb = catalog_ftsbuild_start(create2, &rows)) != NULL);
	if (fb)
		CHECK(catalog_ftsbuild_finish(fb, db, &err) == 1);
	CHECK(count(db, "SELECT count(*) FROM search_fts") == 0);
	CHECK(count(db, "SELECT count(*) FROM search_fts_content") == 0);
	CHECK(sqlite3_exec(db, "INSERT INTO search_fts(rowid, name) VALUES (7, 'orders')", NULL,
			   NULL, NULL) == SQLITE_OK);
	CHECK(count(db, "SELECT rowid FROM search_fts WHERE search_fts MATCH 'orders'") == 7);
	CHECK(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	CHECK((fb = catalog_ftsbuild_open(CREATE_SQL, &rows)) != NULL);
	CHECK(fb && catalog_ftsbuild_step(fb, rows.len) == 1);
	catalog_ftsbuild_abandon(fb); /* never run: nothing to wait for */
	st_buf_release(&rows);
	sqlite3_close(db);
}

int main(void)
{
	same_as_inserted(WHOLE);
	same_as_inserted(STREAMED);
	failed_build();
	return t_done();
}
