/* `steward pii map`: every personal-data field, declared or derived through column lineage,
 * grouped by data category. `steward pii check`: fields declared pii none that inherit
 * personal data without a pii_reason. */
#include "cli.h"
#include "pii_map.h"

#include <getopt.h>
#include <stdint.h>
#include <string.h>

#define CHAIN_MAX 64

static const char map_usage[] =
	"usage: steward pii map [--json]\n\n"
	"Lists every field that holds personal data, grouped by data category: the fields\n"
	"declared with a pii class, and the fields that inherit a stronger class than they\n"
	"declare from the fields they are derived from (from:). For each: dataset, field,\n"
	"class, transform, owner, system, and for a derived class the field it comes from.\n"
	"Only the latest version of each dataset counts.\n\n"
	"  --json   print {categories: [{category, name, fields: [{dataset, field, class,\n"
	"           declared, derived, derived_from, origin, transform, owner, system,\n"
	"           kind}]}], totals: {fields, declared, derived, datasets, categories,\n"
	"           by_class}}\n\n"
	"Exit status: 0.\n";

static const char check_usage[] =
	"usage: steward pii check [--json]\n\n"
	"Lists the fields declared 'pii: none' that inherit personal data through from:\n"
	"and state no pii_reason, each with the chain back to the field whose class is\n"
	"declared. Declare the field's class, or say in pii_reason why it carries no\n"
	"personal data (an aggregate count, say). Also lists the fields whose class is\n"
	"unknown (dbt columns with no pii in their meta or tags): tag them before ingestion.\n"
	"Then the untagged personal data observed in lineage: fields that only OpenLineage\n"
	"events name (steward lineage import) and no descriptor tags, which inherit a class\n"
	"through column lineage or whose name and type match a detector's field rule.\n"
	"Claim the dataset with a descriptor (openlineage: {namespace, name}) and tag them.\n\n"
	"  --json   print {findings: [{dataset, field, class, from, chain: [{field, class,\n"
	"           declared}], file, line, col}], count}; an observed finding has\n"
	"           observed: true and reason 'inherits' or 'name' (with rule, category)\n\n"
	"Exit status: 0 when there is nothing to report, 1 when there is.\n";

static int cmd_map(int argc, char **argv, struct cli_ctx *ctx);
static int cmd_check(int argc, char **argv, struct cli_ctx *ctx);

const struct cli_cmd cli_cmd_pii_map = {"map", "list every PII field, declared and derived",
					map_usage, cmd_map};
const struct cli_cmd cli_cmd_pii_check = {
	"check", "find fields that inherit PII without a pii_reason", check_usage, cmd_check};

/* Parses [--json] and no arguments. Returns -1 to go on, else the exit code. */
static int parse(int argc, char **argv, struct cli_ctx *ctx, const struct cli_cmd *cmd, int *json)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'}, CLI_COMMON_OPTIONS, {0}};
	int code;

	if ((code = cli_getopt(argc, argv, ctx, cmd, opts, cli_json_option, json)) >= 0)
		return code;
	if (argc > optind)
		return cli_usage_error(ctx, "'%s' takes no arguments", ctx->verb);
	return -1;
}

/* ---- pii map ---- */

static int same_category(const struct pii_map *m, size_t i, size_t j)
{
	const char *a = m->rows[i].category, *b = m->rows[j].category;

	return (!a && !b) || (a && b && !strcmp(a, b));
}

static int width(const char *s)
{
	return s ? (int)strlen(s) : 1;
}

static void map_text(const struct pii_graph *g, const struct pii_map *m)
{
	int dw = 7, fw = 5, cw = 12, tw = 9, ow = 5, sw = 6;

	for (size_t i = 0; i < m->n; i++) {
		struct pii_field f;

		pii_graph_field(g, m->rows[i].field, &f);
		dw = width(f.dataset) > dw ? width(f.dataset) : dw;
		fw = width(f.path) > fw ? width(f.path) : fw;
		tw = width(f.transform) > tw ? width(f.transform) : tw;
		ow = width(f.owner) > ow ? width(f.owner) : ow;
		sw = width(f.system) > sw ? width(f.system) : sw;
	}
	for (size_t i = 0; i < m->n; i++) {
		const struct pii_map_row *r = &m->rows[i];
		struct pii_field f, src;

		if (!i || !same_category(m, i, i - 1)) {
			if (i)
				putchar('\n');
			if (!r->category)
				cli_printf("(no category)\n");
			else if (r->category_name)
				cli_printf("%s (%s)\n", r->category, r->category_name);
			else
				cli_printf("%s\n", r->category);
			cli_printf("  %-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", dw, "DATASET", fw,
			       "FIELD", cw, "CLASS", tw, "TRANSFORM", ow, "OWNER", sw, "SYSTEM",
			       "SOURCE");
		}
		pii_graph_field(g, r->field, &f);
		cli_printf("  %-*s  %-*s  %-*s  %-*s  %-*s  %-*s  ", dw, f.dataset, fw, f.path, cw,
		       pii_map_class_name(f.cls), tw, f.transform ? f.transform : "-", ow,
		       f.owner ? f.owner : "-", sw, f.system ? f.system : "-");
		if (f.derived) {
			pii_graph_field(g, f.from, &src);
			cli_printf("derived from %s.%s\n", src.dataset, src.path);
		} else {
			puts("declared");
		}
	}
	if (m->n)
		putchar('\n');
	cli_printf("%zu PII field%s in %zu dataset%s: %zu declared, %zu derived; %zu sensitive, %zu "
	       "direct, %zu indirect, %zu pseudonymous\n",
	       m->n, m->n == 1 ? "" : "s", m->ndatasets, m->ndatasets == 1 ? "" : "s", m->ndeclared,
	       m->nderived, m->by_class[PII_MAP_SENSITIVE], m->by_class[PII_MAP_DIRECT],
	       m->by_class[PII_MAP_INDIRECT], m->by_class[PII_MAP_PSEUDONYMOUS]);
}

static int cmd_map(int argc, char **argv, struct cli_ctx *ctx)
{
	struct catalog_workspace ws = {0};
	struct st_error err = ST_ERROR_INIT;
	struct catalog *cat = NULL;
	struct pii_graph *g = NULL;
	struct pii_map m = {0};
	int json = 0, code = parse(argc, argv, ctx, &cli_cmd_pii_map, &json);

	if (code >= 0)
		return code;
	ctx->action = "pii.map";
	code = cli_open_catalog(ctx, &ws, &cat);
	if (code)
		return code;
	if (pii_graph_catalog(cat, &g, &err) || pii_map_build(cat, g, &m, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	if (json)
		code = cli_print_json(pii_map_json(g, &m, 0, SIZE_MAX));
	else
		map_text(g, &m);
out:
	pii_map_release(&m);
	pii_graph_free(g);
	catalog_free(cat);
	catalog_workspace_release(&ws);
	return code;
}

/* ---- pii check ---- */

/* How a field of a chain got its class: "declared direct", "inherits direct". */
static void print_link(const struct pii_field *f)
{
	cli_printf(" <- %s.%s (%s %s%s)", f->dataset, f->path, f->derived ? "inherits" : "declared",
	       pii_map_class_name(f->cls),
	       f->transform && !strcmp(f->transform, "hash") ? ", transform hash" : "");
}

static void check_text(const struct pii_graph *g, const struct pii_findings *fs)
{
	size_t chain[CHAIN_MAX], ndeclared = 0, nunknown = 0, nobserved = 0;

	for (size_t i = 0; i < fs->n; i++) {
		const struct pii_finding *x = &fs->v[i];
		struct pii_field f, src;
		size_t n;

		if (x->kind != PII_FINDING_DECLARED_NONE && x->kind != PII_FINDING_UNKNOWN)
			continue;
		pii_graph_field(g, x->field, &f);
		if (x->file && x->line)
			cli_printf("%s:%u:%u: ", x->file, x->line, x->col);
		else if (x->file)
			cli_printf("%s: ", x->file);
		if (x->kind == PII_FINDING_UNKNOWN) {
			cli_printf("'%s.%s' has pii class unknown: tag it before its data is ingested\n",
				   f.dataset, f.path);
			nunknown++;
			continue;
		}
		ndeclared++;
		n = pii_graph_chain(g, x->field, chain, CHAIN_MAX);
		pii_graph_field(g, f.from, &src);
		cli_printf("'%s.%s' is declared pii none but inherits %s from '%s.%s'\n", f.dataset,
		       f.path, pii_map_class_name(f.cls), src.dataset, src.path);
		cli_printf("  %s.%s", f.dataset, f.path);
		for (size_t k = 0; k < n; k++) {
			pii_graph_field(g, chain[k], &src);
			print_link(&src);
		}
		putchar('\n');
	}
	if (ndeclared)
		cli_printf("%zu field%s declared pii none inherit%s personal data without a "
		       "pii_reason\n",
		       ndeclared, ndeclared == 1 ? "" : "s", ndeclared == 1 ? "s" : "");
	else
		puts("no field declared pii none inherits personal data without a pii_reason");
	if (nunknown)
		cli_printf("%zu field%s %s pii class unknown\n", nunknown, nunknown == 1 ? "" : "s",
			   nunknown == 1 ? "has" : "have");
	for (size_t i = 0; i < fs->n; i++) {
		const struct pii_finding *x = &fs->v[i];
		struct pii_field f, src;
		size_t n;

		if (x->kind != PII_FINDING_OBSERVED_INHERITS && x->kind != PII_FINDING_OBSERVED_NAMED)
			continue;
		if (!nobserved++)
			puts("untagged personal data observed in lineage:");
		pii_graph_field(g, x->field, &f);
		if (x->kind == PII_FINDING_OBSERVED_NAMED) {
			cli_printf("  '%s.%s' (%s) is named like %s data (%s, %s); no descriptor tags it\n",
				   f.dataset, f.path, f.type ? f.type : "no type", x->rule->rule,
				   x->rule->cls, x->rule->category);
			continue;
		}
		pii_graph_field(g, f.from, &src);
		cli_printf("  '%s.%s' inherits %s from '%s.%s'; no descriptor tags it\n", f.dataset,
			   f.path, pii_map_class_name(f.cls), src.dataset, src.path);
		cli_printf("    %s.%s", f.dataset, f.path);
		n = pii_graph_chain(g, x->field, chain, CHAIN_MAX);
		for (size_t k = 0; k < n; k++) {
			pii_graph_field(g, chain[k], &src);
			print_link(&src);
		}
		putchar('\n');
	}
	if (nobserved)
		cli_printf("%zu observed field%s hold%s untagged personal data\n", nobserved,
			   nobserved == 1 ? "" : "s", nobserved == 1 ? "s" : "");
}

static int cmd_check(int argc, char **argv, struct cli_ctx *ctx)
{
	struct catalog_workspace ws = {0};
	struct st_error err = ST_ERROR_INIT;
	struct catalog *cat = NULL;
	struct pii_graph *g = NULL;
	struct pii_findings fs = {0};
	int json = 0, code = parse(argc, argv, ctx, &cli_cmd_pii_check, &json);

	if (code >= 0)
		return code;
	ctx->action = "pii.check";
	code = cli_open_catalog(ctx, &ws, &cat);
	if (code)
		return code;
	if (pii_graph_catalog(cat, &g, &err) || pii_check(cat, g, &fs, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	if (json && (code = cli_print_json(pii_findings_json(g, &fs, 0, SIZE_MAX))))
		goto out;
	if (!json)
		check_text(g, &fs);
	code = fs.n ? ST_FINDINGS : 0;
out:
	pii_findings_release(&fs);
	pii_graph_free(g);
	catalog_free(cat);
	catalog_workspace_release(&ws);
	return code;
}
