/* Unit tests for dbt manifests through the library: catalog_load() of a manifest written
 * here, aliases (catalog_resolve_alias) with and without a field part, an alias that is
 * also a dataset name, cards with constraints and properties, and lineage through an
 * ephemeral model. */
#include "alloc.h"
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

static const char manifest[] =
	"{\"metadata\": {\"dbt_schema_version\": "
	"\"https://schemas.getdbt.com/dbt/manifest/v7.json\", \"adapter_type\": \"redshift\"},\n"
	" \"nodes\": {\n"
	"  \"model.p.a\": {\"resource_type\": \"model\", \"name\": \"a\", \"database\": \"DW\","
	"   \"schema\": \"Core\", \"alias\": \"A\", \"config\": {\"materialized\": \"table\"},"
	"   \"columns\": {\"ID\": {\"name\": \"ID\", \"meta\": {\"pii\": \"direct\","
	"   \"category\": \"user.unique_id\"}}}, \"depends_on\": {\"nodes\": [\"model.p.e\"]}},\n"
	"  \"model.p.e\": {\"resource_type\": \"model\", \"name\": \"e\", \"config\":"
	"   {\"materialized\": \"ephemeral\"}, \"depends_on\": {\"nodes\": [\"source.p.s.t\"]}},\n"
	"  \"test.p.nn\": {\"resource_type\": \"test\", \"column_name\": \"id\", \"test_metadata\":"
	"   {\"name\": \"not_null\", \"kwargs\": {\"column_name\": \"id\", \"model\":"
	"   \"{{ get_where_subquery(ref('a')) }}\"}}, \"depends_on\": {\"nodes\": "
	"[\"model.p.a\"]}}\n"
	" },\n"
	" \"sources\": {\"source.p.s.t\": {\"resource_type\": \"source\", \"name\": \"t\","
	"  \"source_name\": \"s\", \"database\": \"dw\", \"schema\": \"raw\", \"identifier\": "
	"\"t\"}}\n"
	"}\n";

static int load(const char *path)
{
	const char *paths[1] = {path};

	catalog_load_stats_release(&stats);
	st_diags_release(&d);
	st_error_init(&err);
	return catalog_load(cat, paths, 1, CATALOG_LOAD_SERIAL, &stats, &d, &err);
}

static void test_load_and_aliases(const char *path)
{
	struct catalog_card card = {0};
	struct catalog_lineage g = {0};
	char *out = NULL;

	CHECK(load(path) == 0);
	CHECK(d.nerrors == 0);
	CHECK(stats.manifests == 1 && stats.manifests_parsed == 1 && stats.names == 2);
	/* redshift folds unquoted names to lower case: relations are quoted by default, so
	 * they keep their case; columns are not, so ID becomes id. */
	CHECK(catalog_resolve_alias(cat, "model.p.a", &out, &err) == 1);
	CHECK_STR(out, "DW-Core.A");
	st_free(out);
	CHECK(catalog_resolve_alias(cat, "model.p.a.id", &out, &err) == 1);
	CHECK_STR(out, "DW-Core.A.id");
	st_free(out);
	CHECK(catalog_resolve_alias(cat, "model.p.e", &out, &err) == 0 && !out);
	CHECK(catalog_resolve_alias(cat, "DW-Core.A", &out, &err) == 0 && !out);
	CHECK(catalog_card_get(cat, "model.p.a", 0, &card, &err) == 0);
	CHECK_STR(card.name, "DW-Core.A");
	CHECK(card.nconstraints == 1);
	if (card.nconstraints) {
		CHECK_STR(card.constraints[0].kind, "not_null");
		CHECK_STR(card.constraints[0].field, "id");
	}
	CHECK(card.naliases == 1 && card.nupstream == 1);
	if (card.nupstream)
		CHECK_STR(card.upstream[0].name, "dw-raw.t"); /* through the ephemeral model */
	CHECK(card.nfields == 1);
	if (card.nfields)
		CHECK_STR(card.fields[0].pii, "direct");
	catalog_card_release(&card);
	CHECK(catalog_lineage_get(cat, "source.p.s.t", CATALOG_DOWN, 0, &g, &err) == 0);
	CHECK(g.nnodes == 2);
	catalog_lineage_release(&g);
	/* Unchanged: not parsed again. */
	CHECK(load(path) == 0);
	CHECK(stats.manifests_parsed == 0 && stats.files_unchanged == 1);
}

int main(void)
{
	char dir[] = "/tmp/steward-unit-dbt.XXXXXX", path[512];
	FILE *f;

	st_diags_init(&d, 0);
	if (!mkdtemp(dir)) {
		printf("Bail out! cannot create a temporary directory\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(manifest, f);
		fclose(f);
	}
	CHECK(catalog_open_path(&cat, ":memory:", &err) == 0);
	test_load_and_aliases(path);
	catalog_load_stats_release(&stats);
	st_diags_release(&d);
	catalog_free(cat);
	unlink(path);
	rmdir(dir);
	return t_done();
}
