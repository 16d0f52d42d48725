/* Fuzz target for the descriptor loader: the input is one YAML descriptor file, loaded
 * into an empty in-memory catalog (serially, so no threads); what loads is read back through
 * search, cards, dataset and column lineage, and PII propagation (map and check). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "fuzz.h"
#include "pii_map.h"
#include "sql.h"

/* The file the input is written to; fuzz_dbt.c makes it a dbt manifest. */
#ifndef FUZZ_INPUT_NAME
#define FUZZ_INPUT_NAME "input.yaml"
#endif

/* Bounds on the read-back, so one input costs milliseconds, not seconds. */
#define MAX_DATASETS 16
#define MAX_FIELDS 32

static const char *desc_path;
/* One catalog for every input, its database put back to the image of a freshly opened one
 * before each: opening one costs milliseconds (schema, migrations, and the taxonomy and
 * JSON Schema parsed on first load), while what it keeps between loads, those two parsed
 * embedded documents, never changes. STEWARD_FUZZ_FRESH_CATALOG=1 opens one per input. */
static struct catalog *cat;
static unsigned char *pristine;
static sqlite3_int64 pristine_len;
static int fresh;
/* STEWARD_FUZZ_DEBUG set: print each load's outcome (counts only) to check the seeds. */
static int debug;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct st_error err = ST_ERROR_INIT;

	(void)argc;
	(void)argv;
	desc_path = fuzz_path(FUZZ_INPUT_NAME);
	fresh = getenv("STEWARD_FUZZ_FRESH_CATALOG") != NULL;
	debug = getenv("STEWARD_FUZZ_DEBUG") != NULL;
	if (fresh)
		return 0;
	if (catalog_open_path(&cat, ":memory:", &err))
		fuzz_die("cannot open an in-memory catalog", &err);
	if (!(pristine = sqlite3_serialize(catalog_db(cat), "main", &pristine_len, 0)))
		fuzz_die("cannot serialize the empty catalog", NULL);
	return 0;
}

/* The catalog for one input: a new one, or the shared one emptied. */
static struct catalog *empty_catalog(void)
{
	struct st_error err = ST_ERROR_INIT;
	struct catalog *c = NULL;
	unsigned char *copy;

	if (fresh) {
		if (catalog_open_path(&c, ":memory:", &err))
			fuzz_die("cannot open an in-memory catalog", &err);
		return c;
	}
	if (!(copy = sqlite3_malloc64((sqlite3_uint64)pristine_len)))
		fuzz_die("out of memory", NULL);
	memcpy(copy, pristine, (size_t)pristine_len);
	if (sqlite3_deserialize(catalog_db(cat), "main", copy, pristine_len, pristine_len,
				SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE) ||
	    st_sql_exec(catalog_db(cat), "PRAGMA foreign_keys = ON", &err))
		fuzz_die("cannot empty the catalog", &err);
	return cat;
}

/* The card of name, its dataset lineage, its fields' column lineage and its PII graph. */
static void read_dataset(struct catalog *c, const char *name)
{
	struct catalog_card card = {0};
	struct catalog_lineage g = {0};
	struct pii_graph *pg = NULL;
	struct st_error err = ST_ERROR_INIT;

	catalog_lineage_get(c, name, CATALOG_BOTH, 0, &g, &err);
	catalog_lineage_release(&g);
	if (!pii_graph_dataset(c, name, 0, &pg, &err))
		for (size_t i = 0; i < pii_graph_count(pg); i++) {
			size_t chain[8];

			pii_graph_chain(pg, i, chain, sizeof(chain) / sizeof(*chain));
		}
	pii_graph_free(pg);
	if (catalog_card_get(c, name, 0, &card, &err))
		goto out;
	for (size_t i = 0; i < card.nfields && i < MAX_FIELDS; i++) {
		char col[1024];
		int n = snprintf(col, sizeof(col), "%s.%s", name, card.fields[i].path);

		if (n < 0 || (size_t)n >= sizeof(col))
			continue;
		catalog_lineage_get(c, col, CATALOG_BOTH, 4, &g, &err);
		catalog_lineage_release(&g);
	}
out:
	catalog_card_release(&card);
}

/* Reads back what a load put in; any result is fine, only crashes and leaks count. */
static void read_back(struct catalog *c)
{
	struct catalog_search_opts so = {0};
	struct catalog_hits hits = {0};
	struct pii_graph *pg = NULL;
	struct pii_map map = {0};
	struct pii_findings findings = {0};
	struct sqlite3_stmt *st = NULL;
	struct st_error err = ST_ERROR_INIT;

	so.limit = MAX_DATASETS;
	catalog_search(c, "a", &so, &hits, &err);
	catalog_hits_release(&hits);
	if (!pii_graph_catalog(c, &pg, &err)) {
		if (!pii_map_build(c, pg, &map, &err))
			pii_map_release(&map);
		if (!pii_check(c, pg, &findings, &err))
			pii_findings_release(&findings);
	}
	pii_graph_free(pg);
	/* Names straight from the table: search would miss names without a matching word. */
	if (st_sql_prepare(catalog_db(c), &st, "SELECT DISTINCT name FROM datasets ORDER BY name "
				"LIMIT " ST_FUZZ_STR(MAX_DATASETS), &err))
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		if (name)
			read_dataset(c, name);
	}
	sqlite3_finalize(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *paths[1] = {desc_path};
	struct catalog_load_stats stats = {0};
	struct catalog *c = NULL;
	struct st_diags diags;
	struct st_error err = ST_ERROR_INIT;
	int rc;

	st_diags_init(&diags, 0);
	if (fuzz_write_file(desc_path, data, size, 0600))
		fuzz_die("cannot write the descriptor", NULL);
	c = empty_catalog(); /* nothing carries over, so every crash replays alone */
	rc = catalog_load(c, paths, 1, CATALOG_LOAD_SERIAL, &stats, &diags, &err);
	if (debug)
		fprintf(stderr, "load: %d, %zu documents, %zu datasets, %zu errors, %zu warnings\n", rc,
			stats.documents, stats.datasets, diags.nerrors, diags.nwarnings);
	if (!rc)
		read_back(c);
	catalog_load_stats_release(&stats);
	st_diags_release(&diags);
	if (fresh)
		catalog_free(c);
	return 0;
}
