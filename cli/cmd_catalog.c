/* `steward catalog load|schema`: loading descriptors, and printing the descriptor schema. */
#include "cli.h"
#include "pii.h"

#include <getopt.h>
#include <malloc.h>
#include <string.h>

static const char load_usage[] =
	"usage: steward catalog load [--check] PATH...\n\n"
	"Loads descriptor files (YAML, format v1) and directories (recursively, *.yaml and\n"
	"*.yml) into the workspace catalog. Everything is validated first and every problem\n"
	"is printed as file:line:col; the load applies in one transaction only if there are\n"
	"no errors. Unchanged files are skipped. Datasets whose file disappeared from a\n"
	"loaded directory are removed.\n\n"
	"A path ending in .json, and a file named manifest.json that names a\n"
	"dbt_schema_version met in a directory, is a dbt manifest (v1 to v12); the\n"
	"catalog.json beside it adds column types and table statistics. Problems in it are\n"
	"printed as file: JSON path: message (docs/interop.md).\n\n"
	"  --check    validate only; change nothing\n\n"
	"Exit status: 0 loaded (warnings are fine), 3 errors found and nothing changed.\n";

static void print_diags(const struct st_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct st_diag *x = &d->v[i];
		const char *sev = x->severity == ST_SEV_ERROR ? "error" : "warning";

		if (x->line && x->col)
			cli_line(stderr, "%s:%u:%u: %s: %s", x->file, x->line, x->col, sev, x->msg);
		else if (x->file[0])
			cli_line(stderr, "%s: %s: %s", x->file, sev, x->msg);
		else
			cli_line(stderr, "%s: %s", sev, x->msg);
	}
	/* Below the cap, a problem is missing only because memory ran out, which the load's
	 * own error then says. */
	if (d->nerrors + d->nwarnings > d->n && d->n >= d->max)
		cli_fprintf(stderr, "(%zu more problems not shown)\n", d->nerrors + d->nwarnings - d->n);
}

static int cmd_load(int argc, char **argv, struct cli_ctx *ctx);

static const struct cli_cmd cmd_catalog_load = {
	"load", "load descriptor files and directories", load_usage, cmd_load,
};

/* Descriptions and pii_reason texts are stored with detected personal data replaced. */
static char *scrub(const char *text, size_t len, size_t *found, void *ctx)
{
	(void)ctx;
	return pii_redact(text, len, found);
}

static int load_opt(int c, const char *arg, void *u)
{
	(void)arg;
	if (c == 'c')
		*(unsigned *)u |= CATALOG_LOAD_DRY_RUN;
	return -1;
}

static int cmd_load(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {{"check", no_argument, NULL, 'c'}, CLI_COMMON_OPTIONS,
					     {0}};
	struct catalog_workspace ws = {0};
	struct catalog_load_stats stats;
	struct st_error err = ST_ERROR_INIT;
	struct st_diags diags;
	struct catalog *cat = NULL;
	unsigned flags = 0;
	int code = 0;

	if ((code = cli_getopt(argc, argv, ctx, &cmd_catalog_load, opts, load_opt, &flags)) >= 0)
		return code;
	if (optind >= argc)
		return cli_usage_error(ctx, "no paths to load");
	ctx->action = flags & CATALOG_LOAD_DRY_RUN ? "catalog.check" : "catalog.load";
	/* A load allocates and frees documents by the thousand on two threads. By default
	 * glibc hands freed memory at the top of a heap back to the kernel (above 128 kB) and
	 * maps every block over 128 kB on its own, so the next document faults the same pages
	 * in again: a third of the parse worker's time. This short-lived process keeps them. */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	code = cli_open_catalog(ctx, &ws, &cat);
	if (code)
		return code;
	catalog_set_scrubber(cat, scrub, NULL);
	st_diags_init(&diags, 0);
	code = catalog_load(cat, (const char *const *)argv + optind, (size_t)(argc - optind), flags,
			    &stats, &diags, &err);
	print_diags(&diags);
	if (code) {
		code = cli_fail(&err);
		goto out;
	}
	cli_printf("%s %zu file%s: %zu new, %zu changed, %zu unchanged, %zu removed; %zu document%s "
	       "read\n",
	       flags & CATALOG_LOAD_DRY_RUN ? "checked" : "loaded", stats.files,
	       stats.files == 1 ? "" : "s", stats.files_new, stats.files_changed,
	       stats.files_unchanged, stats.files_removed, stats.documents,
	       stats.documents == 1 ? "" : "s");
	if (stats.manifests || stats.manifests_parsed)
		cli_printf("dbt: %zu manifest%s named or found, %zu parsed\n", stats.manifests,
			   stats.manifests == 1 ? "" : "s", stats.manifests_parsed);
	if (stats.nremoved) {
		cli_printf("removed %zu dataset%s whose descriptor is gone:", stats.nremoved,
		       stats.nremoved == 1 ? "" : "s");
		for (size_t i = 0; i < stats.nremoved; i++)
			cli_printf(" %s", stats.removed[i]);
		putchar('\n');
	}
	cli_printf("catalog%s: %zu dataset%s (%zu version%s)",
	       flags & CATALOG_LOAD_DRY_RUN ? " would have" : "", stats.names,
	       stats.names == 1 ? "" : "s", stats.datasets, stats.datasets == 1 ? "" : "s");
	if (!diags.nwarnings)
		putchar('\n');
	else
		cli_printf(", %zu warning%s\n", diags.nwarnings, diags.nwarnings == 1 ? "" : "s");
out:
	st_diags_release(&diags);
	catalog_load_stats_release(&stats);
	catalog_free(cat);
	catalog_workspace_release(&ws);
	return code;
}

static const char schema_usage[] =
	"usage: steward catalog schema\n\n"
	"Prints the JSON Schema of descriptor format v1 that steward validates with, for\n"
	"editors: save it and point the YAML language server at it (docs/descriptor-format.md).\n";

static int cmd_schema(int argc, char **argv, struct cli_ctx *ctx)
{
	size_t len;
	const char *s;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(schema_usage, stdout);
		return 0;
	}
	if (argc > 1)
		return cli_usage_error(ctx, "'catalog schema' takes no arguments");
	s = catalog_descriptor_schema(&len);
	fwrite(s, 1, len, stdout);
	return 0;
}

static const struct cli_cmd cmd_catalog_schema = {
	"schema", "print the descriptor JSON Schema", schema_usage, cmd_schema,
};

static const struct cli_cmd *const catalog_cmds[] = {&cmd_catalog_load, &cmd_catalog_schema};

static int cmd_catalog(int argc, char **argv, struct cli_ctx *ctx)
{
	return cli_dispatch(catalog_cmds, sizeof(catalog_cmds) / sizeof(*catalog_cmds), argc, argv,
			    ctx, "catalog");
}

const struct cli_cmd cli_cmd_catalog = {
	"catalog", "load descriptors into the catalog",
	"usage: steward catalog <load|schema> [<args>]\n", cmd_catalog,
};
