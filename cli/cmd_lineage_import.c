/* `steward lineage import FILE|DIR|-`: OpenLineage RunEvents into the catalog as observed
 * datasets, fields and column lineage; invalid events to --rejects with their reason. */
#include "cli.h"
#include "alloc.h"
#include "file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
	"usage: steward lineage import [--rejects FILE] [--json] FILE|DIR|-...\n\n"
	"Imports OpenLineage events (spec 2-0-x: RunEvents, and the static DatasetEvents\n"
	"and JobEvents): a JSON array of events, NDJSON (one event a line), or one event a\n"
	"file; a directory is read for *.json, *.jsonl and *.ndjson files, in name order;\n"
	"- reads standard input. Every event is validated against the embedded OpenLineage\n"
	"JSON Schema and the schema of each facet. Datasets no descriptor declares become\n"
	"observed datasets; a descriptor claims one with 'openlineage: {namespace, name}'.\n"
	"Each file is imported in one transaction, and importing an event twice changes\n"
	"nothing.\n\n"
	"  --rejects FILE  write each invalid event as a JSON line {source, line|index,\n"
	"                  reason, event|text} to FILE (never inside .steward/)\n"
	"  --json          print the counts as JSON\n\n"
	"Counts: read = applied + rejected + ignored (ignored: imported before, or\n"
	"superseded by a later state of its run).\n"
	"Exit status: 0 every event imported or ignored, 1 some were rejected, 2 usage,\n"
	"4 no such file.\n";

static int cmd_import(int argc, char **argv, struct cli_ctx *ctx);

const struct cli_cmd cli_cmd_lineage_import = {"import", "import OpenLineage events", usage,
					       cmd_import};

/* Reasons printed on standard error; the rest are counted. */
#define SHOWN_MAX 20

struct run {
	struct st_file_output out;
	int has_out;
	struct stat out_sb; /* the rejects file, never read as input */
	size_t shown;
};

static int on_reject(const struct catalog_ol_reject *r, void *u, struct st_error *err)
{
	struct run *run = u;
	char where[64] = "";

	if (r->index >= 0)
		snprintf(where, sizeof(where), "[%ld]", r->index);
	else if (r->line)
		snprintf(where, sizeof(where), ":%zu", r->line);
	if (run->shown++ < SHOWN_MAX)
		cli_line(stderr, "%s%s: rejected: %s", r->source, where, r->reason);
	if (run->has_out) {
		json_t *o = json_object();
		char *line;
		int bad;

		if (!o)
			return st_error_oom(err);
		bad = json_object_set_new(o, "source", json_string(r->source));
		if (r->index >= 0)
			bad |= json_object_set_new(o, "index", json_integer(r->index));
		else if (r->line)
			bad |= json_object_set_new(o, "line", json_integer((json_int_t)r->line));
		bad |= json_object_set_new(o, "reason", json_string(r->reason));
		if (r->event)
			bad |= json_object_set(o, "event", (json_t *)r->event);
		else if (r->text)
			bad |= json_object_set_new(o, "text",
						   json_stringn_nocheck(r->text, r->text_len));
		line = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
		json_decref(o);
		if (!line)
			return st_error_oom(err);
		size_t len = strlen(line);
		int ok = write(run->out.fd, line, len) == (ssize_t)len && write(run->out.fd, "\n", 1) == 1;

		free(line);
		if (!ok)
			return st_error_set(err, ST_E_SYSTEM, "cannot write rejects file '%s': %s",
					    run->out.path, strerror(errno));
	}
	return 0;
}

static int event_file(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && !strcmp(name + n - 5, ".json")) ||
	       (n > 6 && !strcmp(name + n - 6, ".jsonl")) ||
	       (n > 7 && !strcmp(name + n - 7, ".ndjson"));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Imports one file (or standard input). */
static int import_one(struct catalog_ol_import *im, const char *path, struct run *run,
		      struct catalog_ol_stats *stats, struct st_error *err)
{
	int fd = 0, ret;

	if (strcmp(path, "-")) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return st_error_set(err, errno == ENOENT ? ST_E_NOTFOUND : ST_E_SYSTEM,
					    "cannot open '%s': %s", path, strerror(errno));
	}
	ret = catalog_ol_import_fd(im, path, fd, on_reject, run, stats, err);
	if (fd)
		close(fd);
	return ret;
}

static int import_path(struct catalog_ol_import *im, const char *path, struct run *run,
		       struct catalog_ol_stats *stats, struct st_error *err)
{
	struct stat sb;
	char **names = NULL;
	size_t n = 0, cap = 0;
	DIR *d;
	struct dirent *e;
	int ret = -1;

	if (!strcmp(path, "-") || stat(path, &sb) || !S_ISDIR(sb.st_mode))
		return import_one(im, path, run, stats, err);
	if (!(d = opendir(path)))
		return st_error_set(err, ST_E_SYSTEM, "cannot read directory '%s': %s", path,
				    strerror(errno));
	while ((e = readdir(d))) {
		struct stat fsb;

		if (e->d_name[0] == '.' || !event_file(e->d_name))
			continue;
		/* The rejects file may be in the directory: it is no input. */
		if (run->has_out && !fstatat(dirfd(d), e->d_name, &fsb, 0) &&
		    fsb.st_dev == run->out_sb.st_dev && fsb.st_ino == run->out_sb.st_ino)
			continue;
		size_t len = strlen(path) + strlen(e->d_name) + 2;

		if (st_grow(&names, &cap, n + 1, sizeof(*names)) || !(names[n] = st_malloc(len))) {
			st_error_oom(err);
			goto out;
		}
		snprintf(names[n], len, "%s/%s", path, e->d_name);
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++)
		if (import_one(im, names[i], run, stats, err))
			goto out;
	ret = 0;
out:
	closedir(d);
	st_free_strv(names, n);
	return ret;
}

/* Opens the rejects file through st_file_open_output(): never in .steward/, never one of
 * the named input files (which it would truncate before they are read). Returns 0, or an
 * exit code after printing. */
static int open_rejects(const char *path, const struct catalog_workspace *ws, int nin,
			char **in, struct run *run)
{
	struct st_error err = ST_ERROR_INIT;
	struct st_output_guard guard = {ws->state_dir, NULL, 0};
	int *fds = st_calloc((size_t)nin + 1, sizeof(int)), code = 0;
	size_t n = 0;

	if (!fds) {
		st_error_oom(&err);
		return cli_fail(&err);
	}
	for (int i = 0; i < nin; i++) {
		struct stat sb;
		int fd;

		if (strcmp(in[i], "-") && !stat(in[i], &sb) && S_ISREG(sb.st_mode) &&
		    (fd = open(in[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK)) >= 0)
			fds[n++] = fd;
	}
	guard.inputs = fds;
	guard.ninputs = n;
	if (st_file_open_output(&run->out, path, "rejects file", &guard, 0, &err) ||
	    fstat(run->out.fd, &run->out_sb)) {
		if (!err.code)
			st_error_set(&err, ST_E_SYSTEM, "cannot stat '%s': %s", path, strerror(errno));
		code = cli_fail(&err);
		st_file_output_release(&run->out);
	} else {
		run->has_out = 1;
	}
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	st_free(fds);
	return code;
}

struct opts {
	const char *rejects;
	int json;
};

static int import_opt(int c, const char *arg, void *u)
{
	struct opts *o = u;

	if (c == 'r')
		o->rejects = arg;
	else if (c == 'j')
		o->json = 1;
	return -1;
}

static int cmd_import(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {{"rejects", required_argument, NULL, 'r'},
					     {"json", no_argument, NULL, 'j'}, CLI_COMMON_OPTIONS,
					     {0}};
	struct catalog_workspace ws = {0};
	struct st_error err = ST_ERROR_INIT;
	struct catalog_ol_import *im = NULL;
	struct catalog_ol_stats stats;
	struct catalog *cat = NULL;
	struct opts o = {NULL, 0};
	struct run run;
	int code;

	memset(&run, 0, sizeof(run));
	run.out.fd = -1;
	run.out.dirfd = -1;
	memset(&stats, 0, sizeof(stats));
	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_lineage_import, opts, import_opt, &o)) >= 0)
		return code;
	if (optind >= argc)
		return cli_usage_error(ctx, "no files to import");
	ctx->action = "catalog.import";
	if ((code = cli_open_catalog(ctx, &ws, &cat)))
		return code;
	if (o.rejects && (code = open_rejects(o.rejects, &ws, argc - optind, argv + optind, &run)))
		goto out;
	if (catalog_ol_import_new(cat, &im, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	for (int i = optind; i < argc; i++)
		if (import_path(im, argv[i], &run, &stats, &err)) {
			code = cli_fail(&err);
			goto out;
		}
	if (run.has_out && st_file_output_commit(&run.out, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	if (run.shown > SHOWN_MAX)
		cli_fprintf(stderr, "(%zu more rejected events not shown)\n", run.shown - SHOWN_MAX);
	snprintf(ctx->counts, sizeof(ctx->counts),
		 "{\"read\":%zu,\"applied\":%zu,\"rejected\":%zu,\"ignored\":%zu}", stats.read,
		 stats.applied, stats.rejected, stats.ignored);
	if (o.json) {
		json_t *j = catalog_ol_stats_json(&stats);

		if ((code = cli_print_json(j)))
			goto out;
	} else {
		cli_printf("imported %zu event%s: %zu applied", stats.read,
			   stats.read == 1 ? "" : "s", stats.applied);
		if (stats.static_events)
			cli_printf(" (%zu DatasetEvent%s or JobEvent%s)", stats.static_events,
				   stats.static_events == 1 ? "" : "s",
				   stats.static_events == 1 ? "" : "s");
		cli_printf(", %zu rejected, %zu ignored (%zu already imported, %zu superseded)\n",
			   stats.rejected, stats.ignored, stats.duplicates, stats.superseded);
		cli_printf("%zu new dataset%s, %zu field%s, %zu column edge%s\n", stats.datasets_new,
			   stats.datasets_new == 1 ? "" : "s", stats.fields,
			   stats.fields == 1 ? "" : "s", stats.column_edges,
			   stats.column_edges == 1 ? "" : "s");
	}
	if (stats.rejected && run.has_out)
		cli_fprintf(stderr, "rejected events are in '%s'\n", o.rejects);
	code = stats.rejected ? 1 : 0;
out:
	if (run.has_out)
		st_file_output_release(&run.out);
	catalog_ol_import_free(im);
	catalog_free(cat);
	catalog_workspace_release(&ws);
	return code;
}
