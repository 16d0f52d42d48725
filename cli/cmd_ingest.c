/* `steward ingest DATASET`: the ETL pre-ingest hook. Records on stdin, records with their
 * PII replaced on stdout, rejected records in a 0600 rejects file, a summary on stderr. */
#include "cli.h"
#include "audit.h"
#include "alloc.h"
#include "file.h"
#include "ingest.h"
#include "pii.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: steward ingest DATASET [--purpose TEXT] [--format jsonl|csv] [--label FIELD]\n"
	"                      [--rejects FILE] [--unknown reject|drop] [--max-record BYTES]\n"
	"                      [--threads N]\n\n"
	"Reads records on standard input and writes them to standard output with every field\n"
	"transformed as its descriptor says (hash, drop, mask, truncate, keep) and free-text\n"
	"fields scanned for PII. Each record is validated against the latest version of its\n"
	"schema; records that fail go to the rejects file with their line number and reason.\n"
	"DATASET may be a pattern such as 'events.*': the label field then names the dataset.\n\n"
	"  --purpose TEXT   why these records are pseudonymized, recorded in the audit log;\n"
	"                   needed below the admin role unless steward.yaml declares the\n"
	"                   pipeline under ingest.pipelines (see docs/ingest.md)\n"
	"  --format F       jsonl (default) or csv\n"
	"  --label FIELD    the field that names the dataset under a pattern (event_type)\n"
	"  --rejects FILE   the rejects file for rejected records, created with mode 0600; it\n"
	"                   holds raw PII (default: a new file in .steward/quarantine/)\n"
	"  --unknown P      a field that is not in the schema: reject the record (default)\n"
	"                   or drop the field\n"
	"  --max-record N   the longest record accepted, in bytes (default 1048576)\n"
	"  --threads N      worker threads (output order is kept)\n\n"
	"A summary goes to standard error. Exit status: 0 all records passed, 1 some were\n"
	"rejected, 3 the plan is refused (PII without a transform), 4 no such dataset or key,\n"
	"6 refused (no role that may ingest, or no purpose).\n";

static int cmd_ingest(int argc, char **argv, struct cli_ctx *ctx);

const struct cli_cmd cli_cmd_ingest = {"ingest", "pseudonymize records before they land",
				       usage, cmd_ingest};

static void progress(void *ctx, uint64_t records, uint64_t bytes)
{
	(void)ctx;
	cli_fprintf(stderr, "\r  %llu records, %.1f MB", (unsigned long long)records, (double)bytes / 1e6);
}

/* Opens the rejects file through st_file_open_output(): a user's path is never in
 * .steward/, never standard input or output, never another user's file; the default is a
 * new file in .steward/quarantine/. Writes its path to shown. */
static int open_rejects(const char *path, const struct catalog_workspace *ws,
			struct st_file_output *out, char *shown, size_t n, struct st_error *err)
{
	const struct st_output_guard guard = {path ? ws->state_dir : NULL, NULL, 0};
	char def[4096];

	if (!path) {
		char *dir = catalog_workspace_state_path(ws, "quarantine");
		time_t now = time(NULL);
		struct tm tm;
		char stamp[32];

		if (!dir)
			return st_error_oom(err);
		if (mkdir(dir, 0700) && errno != EEXIST) {
			st_error_set(err, ST_E_SYSTEM, "cannot create '%s': %s", dir, strerror(errno));
			st_free(dir);
			return -1;
		}
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(def, sizeof(def), "%s/rejects-%s-%ld.jsonl", dir, stamp, (long)getpid());
		st_free(dir);
		path = def;
	}
	if (st_file_open_output(out, path, "rejects file", &guard, 0, err))
		return -1;
	snprintf(shown, n, "%s", path);
	return 0;
}

static void summary(const char *dataset, const struct pii_ingest_stats *s, const char *rejects,
		    double secs)
{
	cli_fprintf(stderr, "ingest %s: %llu records in, %llu out, %llu rejected", dataset,
		(unsigned long long)s->in, (unsigned long long)s->out,
		(unsigned long long)s->rejected);
	if (s->suppressed)
		cli_fprintf(stderr, ", %llu suppressed (subjects who objected or were erased)",
			(unsigned long long)s->suppressed);
	if (s->rejected)
		cli_fprintf(stderr, " (rejects in '%s')", rejects);
	fputc('\n', stderr);
	for (int r = 0; r < PII_R_COUNT; r++)
		if (s->by_reason[r])
			cli_fprintf(stderr, "  %-18s %llu\n", pii_reject_code(r),
				(unsigned long long)s->by_reason[r]);
	cli_fprintf(stderr, "  %.1f MB in %.2f s (%.1f MB/s)\n", (double)s->bytes_in / 1e6, secs,
		secs > 0 ? (double)s->bytes_in / 1e6 / secs : 0.0);
}

struct pipeline_match {
	const char *dataset, *purpose;
	const char *file;
};

static int pipeline_entry(const struct catalog_config_entry *e, void *u, struct st_error *err)
{
	struct pipeline_match *m = u;

	if (!e->value || e->is_null || !*e->value) /* located at the key when there is no value */
		return st_error_set_at(err, ST_E_INVALID, m->file,
				       e->is_null ? e->key_line : e->line,
				       e->is_null ? e->key_col : e->col,
				       "ingest.pipelines: the purpose of '%s' must be a text",
				       e->key);
	if (!m->purpose && !fnmatch(e->key, m->dataset, 0))
		m->purpose = e->value;
	return 0;
}

/* The ingest's purpose (cli_ctx.admit): --purpose, else the first ingest.pipelines entry
 * whose pattern matches the dataset argument. A role below admin needs one (an admin too
 * with ingest.require_purpose: always): records of chosen values come back pseudonymized,
 * which is a pseudonym look-up, and pii hash needs a purpose for that. */
static int admit_purpose(const struct cli_ctx *ctx, const struct catalog_config *cfg, int role,
			 const char **purpose, char *reason, size_t reason_len, struct st_error *err)
{
	struct pipeline_match m = {ctx->object, NULL, cfg->file};
	const char *req = catalog_config_str(cfg, "ingest.require_purpose");
	int always;

	if (req && strcmp(req, "always") && strcmp(req, "below_admin"))
		return st_error_set(err, ST_E_INVALID,
				    "ingest.require_purpose in '%s' must be always or below_admin, "
				    "not '%s'",
				    cfg->file, req);
	always = req && !strcmp(req, "always");
	if (catalog_config_each(cfg, "ingest.pipelines",
				"ingest.pipelines must map dataset names or patterns to purposes",
				pipeline_entry, &m, err))
		return -1;
	if (!*purpose)
		*purpose = m.purpose;
	if (*purpose || (role >= AUDIT_ROLE_ADMIN && !always))
		return 0;
	snprintf(reason, reason_len, "needs a purpose");
	return st_error_set(err, ST_E_DENIED,
			    "'steward ingest' of '%s' needs a purpose ('%s' role): give --purpose "
			    "TEXT, or declare the pipeline under ingest.pipelines in steward.yaml",
			    ctx->object, audit_role_name(role));
}

struct ingest_args {
	struct cli_ctx *ctx;
	struct pii_ingest_opts *o;
	const char *rejects, *unknown;
	long threads, max_record;
};

static int ingest_opt(int c, const char *arg, void *u)
{
	struct ingest_args *a = u;

	switch (c) {
	case 'f':
		if (!strcmp(arg, "jsonl"))
			a->o->format = PII_FMT_JSONL;
		else if (!strcmp(arg, "csv"))
			a->o->format = PII_FMT_CSV;
		else
			return cli_usage_error(a->ctx, "unknown format '%s' (jsonl or csv)", arg);
		break;
	case 'l': a->o->label = arg; break;
	case 'p':
		if (!*arg)
			return cli_usage_error(a->ctx, "--purpose needs a text: why the records are "
						       "pseudonymized");
		a->ctx->purpose = arg;
		break;
	case 'r': a->rejects = arg; break;
	case 'u': a->unknown = arg; break;
	case 'm':
		if (cli_parse_count(a->ctx, "--max-record", arg, &a->max_record))
			return ST_E_USAGE;
		break;
	case 't':
		if (cli_parse_count(a->ctx, "--threads", arg, &a->threads))
			return ST_E_USAGE;
		break;
	}
	return -1;
}

static int cmd_ingest(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},  {"label", required_argument, NULL, 'l'},
		{"rejects", required_argument, NULL, 'r'}, {"unknown", required_argument, NULL, 'u'},
		{"max-record", required_argument, NULL, 'm'},
		{"threads", required_argument, NULL, 't'},
		{"purpose", required_argument, NULL, 'p'}, CLI_COMMON_OPTIONS,
		{0}};
	struct pii_ingest_opts o = {0};
	struct catalog_workspace ws = {0};
	const struct catalog_config *cfg;
	struct pii_keyring kr = {0};
	struct pii_ingest_stats stats;
	struct st_error err = ST_ERROR_INIT;
	struct st_diags problems;
	struct pii_ingest *ing = NULL;
	struct catalog *cat = NULL;
	struct timespec t0, t1;
	const char *rejects = NULL, *unknown = NULL;
	char *dir = NULL, shown[4096] = "", **sup_cat = NULL, **sup_pseu = NULL;
	size_t nsup = 0;
	struct ingest_args a = {ctx, &o, NULL, NULL, 1, 0};
	long threads, max_record;
	struct st_file_output rej = {.fd = -1, .dirfd = -1};
	int code = 0;

	st_diags_init(&problems, 0);
	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_ingest, opts, ingest_opt, &a)) >= 0)
		return code;
	rejects = a.rejects;
	unknown = a.unknown;
	threads = a.threads;
	max_record = a.max_record;
	if (argc - optind != 1)
		return cli_usage_error(ctx, "give one dataset name or pattern");
	o.dataset = argv[optind];
	if (threads > 64)
		return cli_usage_error(ctx, "--threads is at most 64");
	ctx->action = "pii.ingest";
	ctx->object = o.dataset;
	ctx->admit = admit_purpose;
	if ((code = cli_open_catalog(ctx, &ws, &cat)))
		return code;
	cfg = cli_config();
	if (!unknown)
		unknown = catalog_config_str(cfg, "ingest.unknown_fields");
	if (unknown && strcmp(unknown, "reject") && strcmp(unknown, "drop")) {
		code = cli_usage_error(ctx, "unknown-field policy must be reject or drop, not '%s'",
				       unknown);
		goto out;
	}
	o.unknown = unknown && !strcmp(unknown, "drop") ? PII_UNKNOWN_DROP : PII_UNKNOWN_REJECT;
	if (!max_record && catalog_config_str(cfg, "ingest.max_record_bytes") &&
	    cli_parse_count(ctx, "ingest.max_record_bytes in steward.yaml",
			    catalog_config_str(cfg, "ingest.max_record_bytes"), &max_record)) {
		code = ST_E_USAGE;
		goto out;
	}
	if (max_record > (64L << 20)) {
		code = cli_usage_error(ctx, "the record limit is at most %ld bytes", 64L << 20);
		goto out;
	}
	o.max_record = (size_t)max_record;
	o.country_code = pii_country_calling_code(catalog_config_str(cfg, "pii.default_country"));
	if (isatty(STDERR_FILENO)) {
		o.progress = progress;
		o.progress_every = 100000;
	}
	if (!(dir = catalog_workspace_state_path(&ws, "keys"))) {
		st_error_oom(&err);
		goto fail;
	}
	if (pii_keyring_open(&kr, dir, 1, &err) ||
	    audit_suppression_load(audit_db(cli_audit_log()), &sup_cat, &sup_pseu, &nsup, &err))
		goto fail;
	o.suppress_categories = (const char *const *)sup_cat;
	o.suppress_pseudonyms = (const char *const *)sup_pseu;
	o.nsuppress = nsup;
	if (pii_ingest_new(&ing, cat, pii_keyring_current(&kr), &o, &problems, &err)) {
		for (size_t i = 0; i < problems.n; i++)
			cli_error("%s", problems.v[i].msg);
		goto fail;
	}
	if (open_rejects(rejects, &ws, &rej, shown, sizeof(shown), &err))
		goto fail;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (pii_ingest_run(ing, STDIN_FILENO, STDOUT_FILENO, rej.fd, (int)threads, &stats, &err)) {
		if (o.progress)
			fputc('\n', stderr);
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (o.progress && stats.in >= o.progress_every)
		fputc('\n', stderr);
	if (st_file_output_commit(&rej, &err))
		goto fail;
	summary(o.dataset, &stats, shown,
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (!stats.rejected && !rejects)
		unlink(shown); /* an empty default rejects file is just noise */
	code = stats.rejected ? ST_FINDINGS : 0;
	snprintf(ctx->counts, sizeof(ctx->counts),
		 "{\"in\":%llu,\"out\":%llu,\"rejected\":%llu,\"suppressed\":%llu}",
		 (unsigned long long)stats.in, (unsigned long long)stats.out,
		 (unsigned long long)stats.rejected, (unsigned long long)stats.suppressed);
	goto out;
fail:
	code = cli_fail(&err);
out:
	st_file_output_release(&rej);
	pii_ingest_free(ing);
	st_free_strv(sup_cat, nsup);
	st_free_strv(sup_pseu, nsup);
	pii_keyring_release(&kr);
	st_diags_release(&problems);
	st_free(dir);
	catalog_free(cat);
	catalog_workspace_release(&ws);
	return code;
}
