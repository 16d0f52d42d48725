/* Unit tests for catalog_load(): statistics, incremental reloads, removal, dry runs,
 * rollback on error, version compatibility, the load into an empty catalog, and the query
 * side on the result. */
#include "alloc.h"
#include "buf.h"
#include "catalog.h"
#include "harness.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct catalog *cat;
static struct catalog_load_stats stats;
static struct st_diags d;
static struct st_error err;

static int load(const char *path, unsigned flags)
{
	const char *paths[1] = {path};

	catalog_load_stats_release(&stats);
	st_diags_release(&d);
	st_error_init(&err);
	return catalog_load(cat, paths, 1, flags, &stats, &d, &err);
}

static long count(const char *sql)
{
	sqlite3_stmt *st;
	long n = -1;

	if (sqlite3_prepare_v2(catalog_db(cat), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static const char *diag_text(size_t i)
{
	static char buf[1200];

	if (i >= d.n)
		return "(none)";
	snprintf(buf, sizeof(buf), "%u:%u: %s", d.v[i].line, d.v[i].col, d.v[i].msg);
	return buf;
}

static void test_sample(const char *shared)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/corpus/catalog", shared);
	CHECK(load(path, 0) == 0);
	CHECK(stats.names == 30 && stats.datasets == 31);
	CHECK(stats.files == 14 && stats.files_new == 14 && stats.documents == 31);
	CHECK(d.nerrors == 0 && d.nwarnings == 0);
	CHECK(load(path, 0) == 0);
	CHECK(stats.files_unchanged == 14 && stats.documents == 0);
	CHECK(count("SELECT count(*) FROM search_fts") == 30);
}

static void test_incremental(void)
{
	const char *dir = t_tmpdir();
	char root[512];
	struct catalog_card card;

	snprintf(root, sizeof(root), "%s/inc", dir);
	t_write(dir, "inc/a.yaml", "kind: table\nname: t.a\ndescription: first\n");
	t_write(dir, "inc/b.yaml", "kind: table\nname: t.b\nlineage: {upstream: [t.a]}\n");
	CHECK(load(root, 0) == 0);
	CHECK(stats.files_new == 2 && stats.names == 32);
	/* Same size, new content: the hash notices even if stat data looked equal. */
	t_write(dir, "inc/a.yaml", "kind: table\nname: t.a\ndescription: again\n");
	CHECK(load(root, 0) == 0);
	CHECK(stats.files_changed == 1 && stats.files_unchanged == 1);
	CHECK(catalog_card_get(cat, "t.a", 0, &card, &err) == 0);
	CHECK_STR(card.description, "again");
	catalog_card_release(&card);
	/* A dataset moves from one file to another in one load: no false duplicate. */
	t_write(dir, "inc/a.yaml", "kind: table\nname: t.b\n");
	t_write(dir, "inc/b.yaml", "kind: table\nname: t.a\n");
	CHECK(load(root, 0) == 0);
	CHECK(d.nerrors == 0);
	/* A vanished file takes its datasets with it. */
	snprintf(root, sizeof(root), "%s/inc/b.yaml", dir);
	CHECK(unlink(root) == 0);
	snprintf(root, sizeof(root), "%s/inc", dir);
	CHECK(load(root, 0) == 0);
	CHECK(stats.files_removed == 1 && stats.nremoved == 1);
	CHECK_STR(stats.nremoved ? stats.removed[0] : NULL, "t.a");
	CHECK(catalog_card_get(cat, "t.a", 0, &card, &err) == -1 && err.code == ST_E_NOTFOUND);
	catalog_card_release(&card);
}

static void test_rollback_and_dry_run(void)
{
	const char *dir = t_tmpdir();
	char root[512];
	long before = count("SELECT count(*) FROM datasets");

	snprintf(root, sizeof(root), "%s/bad", dir);
	t_write(dir, "bad/good.yaml", "kind: table\nname: u.good\n");
	t_write(dir, "bad/bad.yaml", "kind: table\nname: u.bad\ncolumns:\n  - {name: x, type: int}\n");
	CHECK(load(root, 0) == -1);
	CHECK(err.code == ST_E_INVALID);
	CHECK_STR(err.msg, "1 error found; the catalog was not changed");
	CHECK_STR(diag_text(0), "4:5: 'x' is missing required key 'pii'");
	CHECK(count("SELECT count(*) FROM datasets") == before);
	CHECK(count("SELECT count(*) FROM datasets WHERE name = 'u.good'") == 0);

	t_write(dir, "bad/bad.yaml", "kind: table\nname: u.bad\n");
	CHECK(load(root, CATALOG_LOAD_DRY_RUN) == 0);
	CHECK(stats.names == (size_t)count("SELECT count(DISTINCT name) FROM datasets") + 2);
	CHECK(count("SELECT count(*) FROM datasets") == before);
}

/* The text in the first row of a query (owned), or NULL. */
static char *query_text(struct catalog *c, const char *sql)
{
	sqlite3_stmt *st;
	char *out = NULL;

	if (sqlite3_prepare_v2(catalog_db(c), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		out = st_strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

/* The indexes of the tables a fresh load builds afterwards, as one text. */
static char *index_sql(struct catalog *c)
{
	return query_text(c, "SELECT group_concat(name || ':' || sql, ';') FROM (SELECT name, sql"
			     " FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('datasets',"
			     " 'tags', 'edges', 'field_edges', 'term_links') ORDER BY name)");
}

/* A load into an empty catalog runs without foreign key checks and builds its indexes at
 * the end: afterwards, and after one that failed, the catalog has the same indexes, the
 * checks are on again, and a reload that replaces rows still cascades. */
static void test_fresh(void)
{
	struct catalog *saved = cat;
	const char *dir = t_tmpdir();
	char root[512], *schema, *now;

	CHECK(catalog_open_path(&cat, ":memory:", &err) == 0);
	schema = index_sql(cat);
	CHECK(schema && strstr(schema, "field_edges_src:CREATE INDEX"));
	snprintf(root, sizeof(root), "%s/fresh", dir);
	t_write(dir, "fresh/a.yaml",
		"kind: table\nname: f.a\ntags: [x]\nfields:\n"
		"  - {name: id, type: int, pii: none}\n  - {name: mail, type: string, pii: direct}\n");
	t_write(dir, "fresh/b.yaml",
		"kind: table\nname: f.b\nlineage: {upstream: [f.a]}\nfields:\n"
		"  - {name: id, type: int, pii: none, from: [f.a.id]}\n"
		"  - {name: x, type: int, pii: none, from: [f.a.nothing]}\n");
	t_write(dir, "fresh/c.yaml", "kind: table\nname: f.c\ncolumns:\n  - {name: x}\n");
	/* A fresh load turns secure_delete off while it fills the catalog, and on again */
	CHECK(count("PRAGMA secure_delete = ON") == 1);
	CHECK(load(root, 0) == -1); /* c.yaml: the fresh load is rolled back */
	CHECK(count("SELECT count(*) FROM datasets") == 0);
	CHECK(count("PRAGMA foreign_keys") == 1);
	CHECK(count("PRAGMA secure_delete") == 1);
	now = index_sql(cat);
	CHECK_STR(now, schema);
	st_free(now);
	t_write(dir, "fresh/c.yaml", "kind: table\nname: f.c\n");
	CHECK(load(root, 0) == 0);
	CHECK(stats.files_new == 3 && stats.datasets == 3 && d.nwarnings == 1);
	CHECK_STR(diag_text(0), "6:44: 'from' refers to 'f.a.nothing', but 'f.a' has no such field; "
				"it stays in the graph as external");
	CHECK(count("SELECT npii FROM datasets WHERE name = 'f.a'") == 1);
	CHECK(count("PRAGMA foreign_keys") == 1);
	CHECK(count("PRAGMA secure_delete") == 1);
	CHECK(count("SELECT count(*) FROM pragma_foreign_key_check") == 0);
	now = index_sql(cat);
	CHECK_STR(now, schema);
	st_free(now);
	/* Not fresh any more: a changed file's rows go by the foreign keys' cascade. */
	t_write(dir, "fresh/a.yaml", "kind: table\nname: f.a\nfields:\n"
		"  - {name: id, type: int, pii: none}\n");
	CHECK(load(root, 0) == 0);
	CHECK(stats.files_changed == 1);
	CHECK(count("SELECT count(*) FROM fields f JOIN datasets d ON d.id = f.dataset_id"
		    " WHERE d.name = 'f.a'") == 1);
	CHECK(count("SELECT count(*) FROM tags") == 0);
	CHECK(count("SELECT count(*) FROM fields") == 3);
	st_free(schema);
	catalog_free(cat);
	cat = saved;
}

/* A fresh load into a catalog file runs in WAL mode, as any other load, so that another
 * process can open and read the catalog while it runs (a rollback journal, tried for its
 * cheaper commit, made such an open fail with "database is locked"); committed or rolled
 * back, with or without another connection open, the catalog stays in WAL mode. */
static void test_fresh_journal(void)
{
	struct catalog *saved = cat;
	const char *dir = t_tmpdir();
	char root[512], path[512], *mode;
	sqlite3 *other;

	snprintf(root, sizeof(root), "%s/fj", dir);
	snprintf(path, sizeof(path), "%s/fj.db", dir);
	t_write(dir, "fj/a.yaml", "kind: table\nname: j.a\nfields:\n  - {name: id, type: int, pii: none}\n");
	t_write(dir, "fj/b.yaml", "kind: table\nname: j.b\ncolumns:\n  - {name: x}\n");
	CHECK(catalog_open_path(&cat, path, &err) == 0);
	CHECK(load(root, 0) == -1); /* b.yaml: rolled back */
	mode = query_text(cat, "PRAGMA journal_mode");
	CHECK_STR(mode, "wal");
	st_free(mode);
	CHECK(count("SELECT count(*) FROM datasets") == 0);
	CHECK(count("PRAGMA synchronous") == 1); /* NORMAL again */
	t_write(dir, "fj/b.yaml", "kind: table\nname: j.b\n");
	CHECK(load(root, 0) == 0);
	mode = query_text(cat, "PRAGMA journal_mode");
	CHECK_STR(mode, "wal");
	st_free(mode);
	CHECK(count("SELECT count(*) FROM datasets") == 2);
	CHECK(count("SELECT count(*) FROM search_fts('j')") == 2);
	CHECK(count("PRAGMA synchronous") == 1);
	catalog_free(cat);
	/* The same load into a new catalog that another connection holds open. */
	CHECK(unlink(path) == 0);
	CHECK(catalog_open_path(&cat, path, &err) == 0);
	CHECK(sqlite3_open(path, &other) == SQLITE_OK);
	CHECK(sqlite3_exec(other, "SELECT count(*) FROM datasets", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(load(root, 0) == 0);
	CHECK(count("SELECT count(*) FROM datasets") == 2);
	mode = query_text(cat, "PRAGMA journal_mode");
	CHECK_STR(mode, "wal");
	st_free(mode);
	CHECK(sqlite3_exec(other, "SELECT count(*) FROM datasets", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(other);
	catalog_free(cat);
	cat = saved;
}

/* Everything a load reported, and the rows it wrote, as one text. */
static char *load_record(struct catalog *c)
{
	struct st_buf b;
	sqlite3_stmt *st;
	char *out;
	int bad = 0;

	st_buf_init(&b, 1 << 24);
	for (size_t i = 0; i < d.n; i++)
		bad |= st_buf_addf(&b, "%d %s:%s\n", d.v[i].severity, d.v[i].file, diag_text(i));
	if (sqlite3_prepare_v2(catalog_db(c),
			       "SELECT d.id || ' ' || d.name || ' ' || f.path || ' ' ||"
			       " quote(d.description) || ' ' || (SELECT group_concat(path || ':' ||"
			       " quote(description), ',') FROM fields WHERE dataset_id = d.id)"
			       " FROM datasets d JOIN files f ON f.id = d.file_id ORDER BY d.id",
			       -1, &st, NULL) == SQLITE_OK)
		while (sqlite3_step(st) == SQLITE_ROW)
			bad |= st_buf_addf(&b, "%s\n", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	CHECK(!bad);
	out = st_strdup(b.p ? b.p : "");
	st_buf_release(&b);
	return out;
}

/* A scrubber for tests: each "secret" becomes "<s>". */
static char *test_scrub(const char *text, size_t len, size_t *found, void *ctx)
{
	struct st_buf b;
	int bad = 0;

	(void)ctx;
	*found = 0;
	st_buf_init(&b, len * 2 + 16);
	for (size_t i = 0; i < len; i++) {
		if (len - i >= 6 && !memcmp(text + i, "secret", 6)) {
			bad |= st_buf_adds(&b, "<s>");
			(*found)++;
			i += 5;
		} else {
			bad |= st_buf_add(&b, text + i, 1);
		}
	}
	if (bad || !*found) {
		st_buf_release(&b);
		return NULL;
	}
	return st_buf_detach(&b);
}

/* Parse workers finish files out of order, and scrub the texts ahead of the main thread;
 * the load stores them, and reports their problems, in path order all the same: the same
 * as a load on one thread, with problems and scrubbed texts spread over many batches. */
static void test_threaded_order(void)
{
	struct catalog *saved = cat;
	const char *dir = t_tmpdir();
	char root[512], name[64], text[512], *record[2] = {NULL, NULL};

	snprintf(root, sizeof(root), "%s/many", dir);
	for (int i = 0; i < 150; i++) {
		snprintf(name, sizeof(name), "many/d%03d.yaml", i);
		snprintf(text, sizeof(text),
			 "kind: table\nname: m.t%d\nlineage: {upstream: [m.t%d]}\n%scolumns:\n"
			 "  - {name: id, type: int, pii: none, description: 'the %s id  '}\n"
			 "  - {name: v%d, type: int%s}\n",
			 i, i % 5 ? i + 1 : 1000 + i,
			 i % 3 ? "" : "description: |\n  a secret and a secret\n\n",
			 i % 2 ? "secret" : "plain", i, i % 7 ? ", pii: none" : "");
		t_write(dir, name, text);
	}
	for (int pass = 0; pass < 2; pass++) {
		CHECK(catalog_open_path(&cat, ":memory:", &err) == 0);
		catalog_set_scrubber(cat, test_scrub, NULL);
		CHECK(load(root, CATALOG_LOAD_DRY_RUN | (pass ? CATALOG_LOAD_SERIAL : 0)) == -1);
		CHECK(d.nerrors == 22 && d.nwarnings == 149); /* 106 texts scrubbed */
		record[pass] = load_record(cat);
		catalog_free(cat);
	}
	CHECK_STR(record[0], record[1]);
	for (int i = 0; i < 150; i += 7) {
		snprintf(name, sizeof(name), "many/d%03d.yaml", i);
		snprintf(text, sizeof(text),
			 "kind: table\nname: m.t%d\ncolumns:\n  - {name: id, type: int, pii: none}\n",
			 i);
		t_write(dir, name, text);
	}
	for (int pass = 0; pass < 2; pass++) {
		st_free(record[pass]);
		CHECK(catalog_open_path(&cat, ":memory:", &err) == 0);
		catalog_set_scrubber(cat, test_scrub, NULL);
		CHECK(load(root, pass ? CATALOG_LOAD_SERIAL : 0) == 0);
		CHECK(stats.datasets == 150 && d.nerrors == 0);
		record[pass] = load_record(cat);
		catalog_free(cat);
	}
	CHECK_STR(record[0], record[1]);
	CHECK(record[0] && strstr(record[0], "'a <s> and a <s>'") &&
	      strstr(record[0], "id:'the <s> id'"));
	st_free(record[0]);
	st_free(record[1]);
	cat = saved;
}

/* The search rows of x.* datasets, as one text. */
static char *search_rows(struct catalog *c)
{
	return query_text(c, "SELECT group_concat(r, '|') FROM (SELECT name || ':'"
			     " || quote(description) || ':' || quote(fields) || ':' || tags || ':'"
			     " || quote(owner) || ':' || quote(terms) AS r FROM search_fts"
			     " WHERE name LIKE 'x.%' ORDER BY name)");
}

/* A load into an empty catalog keeps the search rows as it stores the datasets and writes
 * them at the end; they are the rows a load into a catalog that holds other datasets builds
 * from the tables: the latest version only, the text of the terms that relate to a dataset,
 * fields with and without descriptions and categories, scrubbed descriptions. */
static void test_search_rows(void)
{
	const char *dir = t_tmpdir();
	char root[512], other[512], *rows[2] = {NULL, NULL};

	snprintf(root, sizeof(root), "%s/sr", dir);
	snprintf(other, sizeof(other), "%s/sr-other", dir);
	t_write(dir, "sr-other/o.yaml", "kind: table\nname: o.other\n");
	t_write(dir, "sr/a.yaml",
		"kind: table\nname: x.a\nowner: team-a\ntags: [t1, t2]\n"
		"description: |\n  mails like anna@example.com\n\n"
		"fields:\n  - {name: id, type: int, pii: none}\n"
		"  - name: mail\n    type: string\n    pii: direct\n"
		"    category: user.contact.email\n    description: 'the address '\n"
		"  - name: ctx\n    type: object\n    pii: none\n    description: ''\n"
		"    fields:\n      - {name: ip, type: string, pii: none}\n");
	t_write(dir, "sr/b.yaml",
		"kind: event\nname: x.b\nversion: 2\nfields:\n"
		"  - {name: a, type: int, pii: none}\n  - {name: c, type: int, pii: none}\n"
		"---\nkind: event\nname: x.b\nversion: 1\nfields:\n"
		"  - {name: a, type: int, pii: none}\n");
	t_write(dir, "sr/e.yaml", "kind: table\nname: x.empty\n");
	t_write(dir, "sr/g.yaml",
		"kind: term\nname: x.glossary\ndescription: money in\n"
		"related: [x.a, x.b.a, x.nothing]\n");
	for (int pass = 0; pass < 2; pass++) {
		struct catalog *saved = cat;

		CHECK(catalog_open_path(&cat, ":memory:", &err) == 0);
		if (pass)
			CHECK(load(other, 0) == 0);
		CHECK(load(root, 0) == 0);
		CHECK(stats.datasets == (size_t)(pass ? 6 : 5));
		rows[pass] = search_rows(cat);
		catalog_free(cat);
		cat = saved;
	}
	CHECK(rows[0] && strstr(rows[0], "x.glossary money in"));
	CHECK_STR(rows[0], rows[1]);
	st_free(rows[0]);
	st_free(rows[1]);
}

/* FTS5's tables behind search_fts, and its integrity check, as one text. */
static char *fts_tables(struct catalog *c)
{
	static const char *const sql[] = {
		"INSERT INTO search_fts(search_fts) VALUES ('integrity-check')",
		"SELECT group_concat(id || ':' || typeof(block) || hex(block), ',') FROM search_fts_data",
		"SELECT group_concat(segid || ':' || hex(term) || ':' || pgno, ',') FROM search_fts_idx",
		"SELECT group_concat(id || ':' || typeof(sz) || hex(sz), ',') FROM search_fts_docsize",
		"SELECT group_concat(k || ':' || v, ',') FROM search_fts_config",
		("SELECT group_concat(id || ':' || quote(c0) || quote(c1) || quote(c2) || quote(c3) ||"
		 " quote(c4) || quote(c5), ',') FROM search_fts_content"),
		"SELECT group_concat(rowid, ',') FROM search_fts('secret OR money OR m')",
	};
	struct st_buf b;
	char *out;
	int bad = 0;

	st_buf_init(&b, 1 << 26);
	for (size_t i = 0; i < sizeof(sql) / sizeof(*sql); i++) {
		char *t = query_text(c, sql[i]);

		if (i == 0)
			bad |= sqlite3_exec(catalog_db(c), sql[i], NULL, NULL, NULL) != SQLITE_OK;
		bad |= st_buf_addf(&b, "%s\n", t ? t : "-");
		st_free(t);
	}
	CHECK(!bad);
	out = st_strdup(b.p ? b.p : "");
	st_buf_release(&b);
	return out;
}

/* A fresh load of enough datasets indexes their search rows on a thread of its own and
 * copies FTS5's tables in: they are byte for byte those of a serial load, which writes
 * the rows itself, with versions, terms and scrubbed texts; later loads update the copied
 * index, and a fresh load after one that emptied the catalog in the same connection too. */
static void test_search_builder(void)
{
	struct catalog *saved = cat;
	const char *dir = t_tmpdir();
	char root[512], away[512], name[600], text[512], d100[512], *tables[2] = {NULL, NULL};

	snprintf(root, sizeof(root), "%s/sb", dir);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "sb/d%03d.yaml", i);
		snprintf(text, sizeof(text),
			 "kind: table\nname: m.t%d\nversion: %d\ntags: [t%d]\nowner: o%d\n"
			 "description: the secret table %d\nfields:\n"
			 "  - {name: id, type: int, pii: none, description: 'a secret id'}\n"
			 "  - {name: mail, type: string, pii: direct, category: user.contact.email}\n",
			 i % 250, 1 + i / 250, i % 3, i % 4, i);
		t_write(dir, name, text);
		if (i == 100)
			snprintf(d100, sizeof(d100), "%s", text);
	}
	t_write(dir, "sb/g.yaml", "kind: term\nname: m.money\ndescription: money in\n"
				  "related: [m.t1, m.t2.id, m.t3]\n");
	for (int pass = 0; pass < 2; pass++) {
		CHECK(catalog_open_path(&cat, ":memory:", &err) == 0);
		catalog_set_scrubber(cat, test_scrub, NULL);
		CHECK(load(root, pass ? CATALOG_LOAD_SERIAL : 0) == 0);
		CHECK(stats.datasets == 301);
		tables[pass] = fts_tables(cat);
		catalog_free(cat);
	}
	CHECK(tables[0] && strstr(tables[0], "<s>") && !strstr(tables[0], "secret"));
	CHECK_STR(tables[0], tables[1]);
	st_free(tables[0]);
	/* The copied index takes a change; then the catalog is emptied and loaded afresh by
	 * the same connection, whose FTS5 had read the index before. */
	CHECK(catalog_open_path(&cat, ":memory:", &err) == 0);
	catalog_set_scrubber(cat, test_scrub, NULL);
	CHECK(load(root, 0) == 0);
	t_write(dir, "sb/d100.yaml", "kind: table\nname: m.t100\ndescription: money\n");
	CHECK(load(root, 0) == 0 && stats.files_changed == 1);
	CHECK(count("SELECT count(*) FROM search_fts('money')") == 5);
	CHECK(sqlite3_exec(catalog_db(cat),
			   "INSERT INTO search_fts(search_fts) VALUES ('integrity-check')", NULL, NULL,
			   NULL) == SQLITE_OK);
	snprintf(away, sizeof(away), "%s/sb-away", dir);
	CHECK(rename(root, away) == 0);
	t_write(dir, "sb/none.txt", "no descriptor\n");
	CHECK(load(root, 0) == 0 && stats.files_removed == 301);
	CHECK(count("SELECT count(*) FROM datasets") == 0 && count("SELECT count(*) FROM search_fts") == 0);
	snprintf(name, sizeof(name), "%s/none.txt", root);
	CHECK(unlink(name) == 0 && rmdir(root) == 0 && rename(away, root) == 0);
	t_write(dir, "sb/d100.yaml", d100);
	CHECK(load(root, 0) == 0 && stats.datasets == 301);
	tables[0] = fts_tables(cat);
	CHECK_STR(tables[0], tables[1]);
	catalog_free(cat);
	st_free(tables[0]);
	st_free(tables[1]);
	cat = saved;
}

/* A fresh load checks its references against the fields it wrote and runs the reference
 * queries only when one does not resolve: each kind of reference that does not is still
 * reported, and one that does is not. */
static void test_fresh_refs(void)
{
	static const struct {
		const char *doc, *want;
	} cases[] = {
		{"kind: table\nname: r.b\nlineage: {upstream: [r.a]}\nfields:\n"
		 "  - {name: x, type: int, pii: none, from: [r.a.id]}\n", NULL},
		{"kind: table\nname: r.b\nlineage: {upstream: [r.c]}\n",
		 "3:22: upstream 'r.c' of 'r.b' is not declared; it stays in the graph as external"},
		{"kind: table\nname: r.b\nfields:\n  - {name: x, type: int, pii: none, from: [r.a.no]}\n",
		 "4:44: 'from' refers to 'r.a.no', but 'r.a' has no such field; it stays in the graph as "
		 "external"},
		{"kind: term\nname: r.b\nrelated: [r.a, r.c]\n", "3:16: term relates to undeclared dataset 'r.c'"},
		{"kind: term\nname: r.b\nrelated: [r.a.id, r.a.no]\n",
		 "3:19: term relates to 'r.a.no', but 'r.a' has no such field"},
	};
	struct catalog *saved = cat;
	const char *dir = t_tmpdir();
	char root[512], name[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		snprintf(root, sizeof(root), "%s/fr%zu", dir, i);
		snprintf(name, sizeof(name), "fr%zu/a.yaml", i);
		t_write(dir, name, "kind: table\nname: r.a\nfields:\n  - {name: id, type: int, pii: none}\n");
		snprintf(name, sizeof(name), "fr%zu/b.yaml", i);
		t_write(dir, name, cases[i].doc);
		CHECK(catalog_open_path(&cat, ":memory:", &err) == 0);
		CHECK(load(root, 0) == 0);
		CHECK(d.nwarnings == (cases[i].want ? 1u : 0u));
		if (cases[i].want)
			CHECK_STR(diag_text(0), cases[i].want);
		catalog_free(cat);
	}
	cat = saved;
}

static void test_versions(void)
{
	const char *dir = t_tmpdir();
	char path[512];

	snprintf(path, sizeof(path), "%s/v.yaml", dir);
	t_write(dir, "v.yaml",
		"kind: event\nname: v.e\nversion: 1\nfields:\n"
		"  - {name: a, type: int, required: true, pii: none}\n"
		"---\n"
		"kind: event\nname: v.e\nversion: 2\nfields:\n"
		"  - {name: a, type: int64, required: true, pii: none}\n"
		"  - {name: b, type: string, required: true, pii: none}\n");
	CHECK(load(path, 0) == -1);
	CHECK(d.nerrors == 1);
	CHECK_STR(diag_text(0), "12:5: version 2 of 'v.e' is not backward compatible with version "
				"1: field 'b' was added as required");
	t_write(dir, "v.yaml",
		"kind: event\nname: v.e\nversion: 1\nfields:\n"
		"  - {name: a, type: int, required: true, pii: none}\n"
		"---\n"
		"kind: event\nname: v.e\nversion: 2\ncompatibility: forward\nfields:\n"
		"  - {name: a, type: int64, required: true, pii: none}\n");
	CHECK(load(path, 0) == -1);
	CHECK_STR(diag_text(0), "12:5: version 2 of 'v.e' is not forward compatible with version "
				"1: field 'a' changed type from int to int64");
}

static void test_queries(void)
{
	struct catalog_search_opts o = {0};
	struct catalog_hits hits = {0};
	struct catalog_lineage g;
	int found = 0;

	CHECK(catalog_search(cat, "revenue", &o, &hits, &err) == 0);
	CHECK(hits.n > 2 && hits.v[0].certified);
	catalog_hits_release(&hits);
	CHECK(catalog_search(cat, "!!!", &o, &hits, &err) == -1 && err.code == ST_E_USAGE);
	o.kind = "term";
	CHECK(catalog_search(cat, "revenue", &o, &hits, &err) == 0);
	CHECK(hits.n == 1);
	CHECK_STR(hits.n ? hits.v[0].name : NULL, "glossary.revenue");
	catalog_hits_release(&hits);

	CHECK(catalog_lineage_get(cat, "bi.revenue", CATALOG_UP, 0, &g, &err) == 0);
	for (size_t i = 0; i < g.nnodes; i++)
		found += !strcmp(g.nodes[i].name, "prod.orders") ||
			 !strcmp(g.nodes[i].name, "prod.enrollments");
	CHECK(found == 2);
	CHECK(!g.truncated);
	catalog_lineage_release(&g);
	CHECK(catalog_lineage_get(cat, "bi.revenue", CATALOG_UP, 1, &g, &err) == 0);
	CHECK(g.nnodes == 2 && g.truncated);
	catalog_lineage_release(&g);
	CHECK(catalog_lineage_get(cat, "dw.revenue_daily.net_revenue_usd", CATALOG_UP, 0, &g,
				  &err) == 0);
	CHECK(g.column && g.nnodes == 3);
	CHECK_STR(g.nnodes == 3 ? g.nodes[2].name : NULL, "prod.orders.amount");
	catalog_lineage_release(&g);
	CHECK(catalog_lineage_get(cat, "bi.revenu", CATALOG_UP, 0, &g, &err) == -1);
	CHECK_STR(err.msg, "no dataset 'bi.revenu' in the catalog (did you mean 'bi.revenue'?)");
}

int main(void)
{
	const char *shared = getenv("STEWARD_SHARED");

	st_diags_init(&d, 0);
	if (!shared) {
		printf("1..0 # SKIP STEWARD_SHARED is not set\n");
		return 0;
	}
	CHECK(catalog_open_path(&cat, ":memory:", &err) == 0);
	test_sample(shared);
	test_incremental();
	test_rollback_and_dry_run();
	test_fresh();
	test_fresh_journal();
	test_fresh_refs();
	test_threaded_order();
	test_search_rows();
	test_search_builder();
	test_versions();
	test_queries();
	catalog_load_stats_release(&stats);
	st_diags_release(&d);
	catalog_free(cat);
	return t_done();
}
