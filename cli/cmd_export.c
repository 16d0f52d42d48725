/* `steward export openlineage`: the catalog as OpenLineage RunEvents, one per line, on
 * standard output or in a file. The events are built by the catalog library
 * (catalog/openlineage_export.c); this file parses the command line and writes them. */
#include "cli.h"
#include "file.h"
#include "version.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char export_usage[] = "usage: steward export openlineage [NAME...] [--out FILE]\n";

static const char ol_usage[] =
	"usage: steward export openlineage [NAME...] [--out FILE]\n\n"
	"Writes the catalog as OpenLineage RunEvents (spec 2-0-2), one JSON object per line:\n"
	"one COMPLETE event per job (a descriptor's lineage.job, else a synthetic job\n"
	"'steward:<dataset>') and input set, with the outputs' schema, columnLineage,\n"
	"ownership, tags, documentation, datasource, datasetType, version and steward_pii\n"
	"facets. Datasets are named by namespace 'steward' and their steward name. The same\n"
	"catalog gives the same bytes. See docs/interop.md.\n\n"
	"  NAME...     only the events of these jobs, and of these datasets (the event that\n"
	"              writes one, else the events that read it)\n"
	"  --out FILE  write to FILE (mode 0600, replaced in one step) instead of standard\n"
	"              output\n\n"
	"Exit status: 0, or 4 when a NAME is no dataset or job of the catalog.\n";

static int cmd_export_openlineage(int argc, char **argv, struct cli_ctx *ctx);

const struct cli_cmd cli_cmd_export_openlineage = {
	"openlineage", "the catalog as OpenLineage RunEvents (NDJSON)", ol_usage,
	cmd_export_openlineage};

static const struct cli_cmd *const export_cmds[] = {&cli_cmd_export_openlineage};

static int cmd_export(int argc, char **argv, struct cli_ctx *ctx)
{
	return cli_dispatch(export_cmds, sizeof(export_cmds) / sizeof(*export_cmds), argc, argv,
			    ctx, "export");
}

const struct cli_cmd cli_cmd_export = {"export", "the catalog in other tools' formats",
				       export_usage, cmd_export};

static int out_option(int c, const char *arg, void *u)
{
	if (c == 'o')
		*(const char **)u = arg;
	return -1;
}

/* Writes one event and a newline to the FILE u, escaped as every JSON output is
 * (cli_json_dumpf()), so that standard output and --out hold the same bytes. */
static int write_line(const char *line, size_t len, void *u, struct st_error *err)
{
	FILE *f = u;

	if (cli_fwrite_escaped(line, len, ST_ESC_JSON, f) || fputc('\n', f) == EOF)
		return st_error_set(err, ST_E_SYSTEM, "cannot write the events");
	return 0;
}

static int cmd_export_openlineage(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS,
					     {"out", required_argument, NULL, 'o'},
					     {0}};
	struct st_error err = ST_ERROR_INIT;
	struct st_file_output out = {.fd = -1, .dirfd = -1};
	struct catalog_ol_export_stats stats = {0};
	struct catalog_ol_opts o = {0};
	struct catalog_workspace ws;
	struct catalog *cat = NULL;
	const char *path = NULL;
	FILE *f = stdout;
	int code, fd;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_export_openlineage, opts, out_option,
			       &path)) >= 0)
		return code;
	if (path && !*path)
		return cli_usage_error(ctx, "--out needs a file name");
	o.names = (const char *const *)argv + optind;
	o.nnames = (size_t)(argc - optind);
	o.version = STEWARD_VERSION;
	ctx->action = "catalog.export";
	ctx->object = "openlineage";
	if ((code = cli_open_catalog(ctx, &ws, &cat)))
		return code;
	if (path) {
		const struct st_output_guard guard = {ws.state_dir, NULL, 0};

		if (st_file_open_output(&out, path, "output file", &guard, ST_OUTPUT_REPLACE,
					&err)) {
			code = cli_fail(&err);
			goto out;
		}
		/* the stream gets its own descriptor; commit syncs and closes out.fd */
		if ((fd = dup(out.fd)) < 0 || !(f = fdopen(fd, "w"))) {
			if (fd >= 0)
				close(fd);
			st_error_set(&err, ST_E_SYSTEM, "cannot write '%s'", path);
			code = cli_fail(&err);
			goto out;
		}
	}
	if (catalog_ol_export(cat, &o, write_line, f, &stats, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	if (fflush(f) || ferror(f)) {
		st_error_set(&err, ST_E_SYSTEM, "cannot write the events to %s",
			     path ? "the output file" : "standard output");
		code = cli_fail(&err);
		goto out;
	}
	if (path) {
		int r = fclose(f);

		f = NULL;
		if (r || st_file_output_commit(&out, &err)) {
			if (r)
				st_error_set(&err, ST_E_SYSTEM, "cannot write '%s'", path);
			code = cli_fail(&err);
			goto out;
		}
		cli_printf("exported %zu event%s (%zu dataset%s) to '%s'\n", stats.events,
			   stats.events == 1 ? "" : "s", stats.datasets,
			   stats.datasets == 1 ? "" : "s", path);
	}
	snprintf(ctx->counts, sizeof(ctx->counts), "{\"events\":%zu,\"datasets\":%zu}",
		 stats.events, stats.datasets);
out:
	if (path && f)
		fclose(f);
	st_file_output_release(&out);
	catalog_free(cat);
	catalog_workspace_release(&ws);
	return code;
}
