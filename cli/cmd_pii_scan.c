/* `steward pii scan FILE --dataset NAME`: what the detectors find in sample records, per
 * field, and which fields tagged none hold PII. The records come from a JSON lines file, or
 * from a PostgreSQL or Redshift table (postgres:TABLE), whose rows become JSON objects; with
 * --explain, each finding in lines of free text, with its score and evidence. */
#include "cli.h"
#include "alloc.h"
#include "scan.h"
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG_SAMPLE_DEFAULT 10000          /* rows read from a table without --sample */
#define PG_SAMPLE_BYTES ((size_t)64 << 20) /* the JSON of a table's sample, at most */

static const char usage[] =
	"usage: steward pii scan FILE --dataset NAME [--sample N] [--json]\n"
	"       steward pii scan postgres:[[SCHEMA.]TABLE] --dataset NAME\n"
	"                        (--dsn-file FILE | --dsn-env NAME) [--sample N] [--json]\n"
	"       steward pii scan --explain FILE [--dataset NAME] [--json]\n\n"
	"Runs the PII detectors (e-mail, phone, card, IP, IBAN, SSN, Korean RRN) over the JSON\n"
	"lines in FILE ('-' for standard input), or over the first rows of a PostgreSQL or\n"
	"Redshift table (each row a JSON object of its columns; 'postgres:' alone: the table\n"
	"of the dataset's location), and reports, per field, the share of values that contain\n"
	"each kind. A field tagged pii: none (or missing from the schema) where at least 1% of\n"
	"values hold PII is flagged with a proposed tag.\n\n"
	"  --dataset NAME   the dataset whose schema the records follow (required)\n"
	"  --sample N       read at most N records (default: all; a table: 10000)\n"
	"  --dsn-file FILE  a table: the connection string, in a file only its owner may read\n"
	"  --dsn-env NAME   a table: the connection string, in this environment variable\n"
	"  --json           print the report as JSON\n"
	"  --explain        read FILE as lines of free text and show each finding: its type,\n"
	"                   its byte span, its score (0-100; ingest replaces it from 50, or\n"
	"                   from the threshold of --dataset) and what decided it; the values\n"
	"                   themselves are not printed. With --dataset, that dataset's\n"
	"                   detect: settings (threshold, phone regions) apply. With --json,\n"
	"                   one JSON object per line read\n\n"
	"Exit status: 0 nothing flagged, 1 fields flagged, 4 no such dataset.\n";

static int cmd_scan(int argc, char **argv, struct cli_ctx *ctx);

const struct cli_cmd cli_cmd_pii_scan = {"scan", "find PII in sample records", usage,
					 cmd_scan};

static void proposal(const struct pii_scan_field *f, char *out, size_t n)
{
	const char *kind = pii_kind_name(f->proposal), *cat = pii_kind_category(f->proposal);
	int sensitive = f->proposal == PII_CARD || f->proposal == PII_IBAN ||
			f->proposal == PII_SSN || f->proposal == PII_KRRN;

	if (f->proposal_whole)
		snprintf(out, n, "pii: %s, category: %s, transform: %s",
			 sensitive ? "sensitive" : "direct", cat,
			 f->proposal == PII_CARD ? "mask" : "hash");
	else
		snprintf(out, n, "scan: true (free text holding %s)", kind);
}

static void print_text(const char *dataset, const struct pii_scan_report *r)
{
	size_t w = 5;

	cli_printf("pii scan %s: %llu records read, %llu unreadable\n\n", dataset,
	       (unsigned long long)r->records, (unsigned long long)r->unreadable);
	for (size_t i = 0; i < r->n; i++)
		w = strlen(r->v[i].path) > w ? strlen(r->v[i].path) : w;
	cli_printf("%-*s  %7s", (int)w, "FIELD", "VALUES");
	for (int k = 0; k < PII_KIND_COUNT; k++)
		cli_printf("  %6s", pii_kind_name(k));
	cli_printf("  DECLARED\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct pii_scan_field *f = &r->v[i];

		cli_printf("%-*s  %7llu", (int)w, f->path, (unsigned long long)f->values);
		for (int k = 0; k < PII_KIND_COUNT; k++) {
			if (!f->hits[k])
				cli_printf("  %6s", "-");
			else
				cli_printf("  %5.1f%%", 100.0 * (double)f->hits[k] / (double)f->values);
		}
		cli_printf("  %s%s%s\n", f->pii ? f->pii : "(not in schema)", f->scan ? ", scan" : "",
		       f->flagged ? "  <- flagged" : "");
	}
	if (!r->flagged)
		return;
	cli_printf("\nflagged:\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct pii_scan_field *f = &r->v[i];
		char p[160];

		if (!f->flagged)
			continue;
		proposal(f, p, sizeof(p));
		cli_printf("  %s: %s, yet %.1f%% of its values hold %s; propose %s\n", f->path,
		       !f->pii			    ? "not in the schema"
		       : !strcmp(f->pii, "unknown") ? "of pii class unknown"
						    : "tagged none",
		       100.0 * (double)f->hits[f->proposal] / (double)f->values,
		       pii_kind_name(f->proposal), p);
	}
}

static void print_json(const char *dataset, const struct pii_scan_report *r)
{
	json_t *fields = json_array(), *o;

	for (size_t i = 0; i < r->n; i++) {
		const struct pii_scan_field *f = &r->v[i];
		json_t *hits = json_object();
		char p[160];

		for (int k = 0; k < PII_KIND_COUNT; k++)
			if (f->hits[k])
				json_object_set_new(hits, pii_kind_name(k),
						    json_pack("{s:I, s:I}", "values",
							      (json_int_t)f->hits[k], "whole",
							      (json_int_t)f->whole[k]));
		proposal(f, p, sizeof(p));
		json_array_append_new(fields, json_pack("{s:s, s:I, s:s?, s:b, s:o, s:b, s:s?}",
							"path", f->path, "values",
							(json_int_t)f->values, "declared", f->pii,
							"scan", f->scan, "hits", hits, "flagged",
							f->flagged, "proposal",
							f->flagged ? p : NULL));
	}
	o = json_pack("{s:s, s:I, s:I, s:o}", "dataset", dataset, "records",
		      (json_int_t)r->records, "unreadable", (json_int_t)r->unreadable, "fields",
		      fields);
	cli_json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(o);
}

#define EXPLAIN_LINE_MAX (1u << 20)

/* Prints the findings in one line of text (n bytes), line number no, under opts' regions;
 * those scored threshold or more are replaced. */
static void explain_line(const char *text, size_t n, unsigned long long no, int json,
			 const struct pii_detect_opts *opts, int threshold)
{
	struct pii_match m[64];
	size_t k = pii_detect_with(text, n, opts, m, 64);

	if (k > 64)
		k = 64;
	if (json) {
		json_t *v = json_array(), *o;

		for (size_t i = 0; i < k; i++) {
			json_t *ev = json_array();

			for (unsigned b = 1; b <= PII_EV_NEGCTX; b <<= 1)
				if (m[i].evidence & b)
					json_array_append_new(ev, json_string(pii_evidence_name(b)));
			json_array_append_new(
				v, json_pack("{s:s, s:I, s:I, s:i, s:b, s:o}", "type",
					     pii_kind_name(m[i].kind), "start", (json_int_t)m[i].start,
					     "end", (json_int_t)m[i].end, "score", m[i].score,
					     "replaced", m[i].score >= threshold, "evidence", ev));
		}
		o = json_pack("{s:I, s:o}", "line", (json_int_t)no, "findings", v);
		cli_json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
		return;
	}
	for (size_t i = 0; i < k; i++) {
		cli_printf("line %llu: %s at bytes %zu-%zu, score %d%s:", no, pii_kind_name(m[i].kind),
			   m[i].start, m[i].end, m[i].score,
			   m[i].score >= threshold ? "" : " (under the threshold, kept)");
		for (unsigned b = 1; b <= PII_EV_NEGCTX; b <<= 1)
			if (m[i].evidence & b)
				cli_printf(" %s", pii_evidence_name(b));
		cli_printf("\n");
	}
}

/* `pii scan --explain FILE`: the detectors' findings in each line of FILE, with the
 * detect: settings of dataset (NULL: the defaults). */
static int explain_file(struct cli_ctx *ctx, const char *path, const char *dataset, int json)
{
	struct catalog_workspace ws = {0};
	struct catalog_card card = {0};
	struct catalog *cat = NULL;
	char regions[PII_REGIONS_LEN];
	struct pii_detect_opts o = {1, NULL, ""};
	int threshold = PII_SCORE_THRESHOLD;
	struct st_error err = ST_ERROR_INIT;
	char *buf = NULL;
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	unsigned long long no = 0;
	int code = 0;

	if (!f) {
		st_error_set(&err, ST_E_NOTFOUND, "cannot open '%s'", path);
		return cli_fail(&err);
	}
	if (dataset) {
		ctx->action = "pii.scan";
		ctx->object = dataset;
		if ((code = cli_open_catalog(ctx, &ws, &cat)))
			goto out;
		if (catalog_card_get(cat, dataset, 0, &card, &err) ||
		    (pii_detect_regions(card.detect_regions,
					catalog_config_str(cli_config(), "pii.default_country"),
					regions, sizeof(regions)) &&
		     st_error_set(&err, ST_E_INVALID, "dataset '%s' declares detect regions steward "
						      "cannot use: load the catalog again", dataset))) {
			code = cli_fail(&err);
			goto out;
		}
		o.regions = regions;
		threshold = card.detect_threshold ? card.detect_threshold : PII_SCORE_THRESHOLD;
	}
	if (!(buf = st_malloc(EXPLAIN_LINE_MAX + 1))) {
		st_error_oom(&err);
		code = cli_fail(&err);
		goto out;
	}
	while (fgets(buf, EXPLAIN_LINE_MAX + 1, f)) {
		size_t n = strlen(buf);

		if (n && buf[n - 1] == '\n')
			buf[--n] = '\0';
		explain_line(buf, n, ++no, json, &o, threshold);
	}
	if (ferror(f)) {
		st_error_set(&err, ST_E_SYSTEM, "cannot read '%s'", path);
		code = cli_fail(&err);
	}
out:
	if (buf)
		sodium_memzero(buf, EXPLAIN_LINE_MAX + 1);
	st_free(buf);
	if (f != stdin)
		fclose(f);
	catalog_card_release(&card);
	catalog_free(cat);
	catalog_workspace_release(&ws);
	return code;
}

struct scan_args {
	struct cli_ctx *ctx;
	const char *dataset, *dsn_file, *dsn_env;
	int json, explain;
	long sample;
};

static int scan_opt(int c, const char *arg, void *u)
{
	struct scan_args *a = u;

	if (c == 'd')
		a->dataset = arg;
	else if (c == 'f')
		a->dsn_file = arg;
	else if (c == 'e')
		a->dsn_env = arg;
	else if (c == 'j')
		a->json = 1;
	else if (c == 'x')
		a->explain = 1;
	else if (c == 'n' && cli_parse_count(a->ctx, "--sample", arg, &a->sample))
		return ST_E_USAGE;
	return -1;
}

/* Reads the first rows of the table src names (its dataset's location when src is
 * "postgres:" alone) as JSON lines into an anonymous file in memory, rewound, for the scan
 * to read as it reads a file. Returns its descriptor, or -1 with err. */
static int sample_table(struct catalog *cat, const char *dataset, const char *src,
			const struct scan_args *a, struct st_error *err)
{
	struct catalog_card card = {0};
	char uri[320], tbl[300];
	uint64_t rows;
	int fd = -1;

	if (!src[9]) {
		if (catalog_card_get(cat, dataset, 0, &card, err))
			goto fail;
		if (!card.location || audit_location_table(card.location, tbl, sizeof(tbl))) {
			st_error_set(err, ST_E_INVALID,
				     "dataset '%s' has no location that names a table (give "
				     "postgres:SCHEMA.TABLE)",
				     dataset);
			goto fail;
		}
		snprintf(uri, sizeof(uri), "postgres:%s", tbl);
		src = uri;
	}
	if ((fd = memfd_create("steward-pii-scan", MFD_CLOEXEC)) < 0) {
		st_error_set(err, ST_E_SYSTEM, "cannot hold the sample in memory: %s",
			     strerror(errno));
		goto fail;
	}
	if (audit_pg_sample(src, a->dsn_file, a->dsn_env,
			    a->sample ? (uint64_t)a->sample : PG_SAMPLE_DEFAULT, PG_SAMPLE_BYTES, fd,
			    &rows, err))
		goto fail;
	if (lseek(fd, 0, SEEK_SET) < 0) {
		st_error_set(err, ST_E_SYSTEM, "cannot read the sample: %s", strerror(errno));
		goto fail;
	}
	catalog_card_release(&card);
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	catalog_card_release(&card);
	return -1;
}

static int cmd_scan(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {{"dataset", required_argument, NULL, 'd'},
					     {"sample", required_argument, NULL, 'n'},
					     {"json", no_argument, NULL, 'j'},
					     {"dsn-file", required_argument, NULL, 'f'},
					     {"dsn-env", required_argument, NULL, 'e'},
					     {"explain", no_argument, NULL, 'x'},
					     CLI_COMMON_OPTIONS,
					     {0}};
	struct catalog_workspace ws = {0};
	struct pii_scan_report r = {0};
	struct st_error err = ST_ERROR_INIT;
	struct catalog *cat = NULL;
	const char *dataset = NULL;
	struct scan_args a = {ctx, NULL, NULL, NULL, 0, 0, 0};
	const char *src;
	long sample;
	int code = 0, json, fd = -1, table;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_pii_scan, opts, scan_opt, &a)) >= 0)
		return code;
	dataset = a.dataset;
	json = a.json;
	sample = a.sample;
	if (argc - optind != 1)
		return cli_usage_error(ctx, "give one sample file (or - for standard input)");
	if (a.explain && (a.dsn_file || a.dsn_env || sample))
		return cli_usage_error(ctx, "--explain reads a file of free text, without "
					    "--sample, --dsn-file or --dsn-env");
	if (a.explain)
		return explain_file(ctx, argv[optind], dataset, json);
	if (!dataset)
		return cli_usage_error(ctx, "--dataset is required");
	src = argv[optind];
	table = !strncmp(src, "postgres:", 9);
	if (!table && (a.dsn_file || a.dsn_env))
		return cli_usage_error(ctx, "--dsn-file and --dsn-env go with a postgres: table");
	if (table && !a.dsn_file == !a.dsn_env)
		return cli_usage_error(ctx, "a postgres: table needs one of --dsn-file and --dsn-env");
	if (!table) {
		fd = strcmp(src, "-") ? open(src, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
		if (fd < 0) {
			st_error_set(&err, ST_E_NOTFOUND, "cannot open '%s'", src);
			return cli_fail(&err);
		}
	}
	ctx->action = "pii.scan";
	ctx->object = dataset;
	if ((code = cli_open_catalog(ctx, &ws, &cat)))
		goto out;
	if (table && (fd = sample_table(cat, dataset, src, &a, &err)) < 0) {
		code = cli_fail(&err);
		goto out;
	}
	if (pii_scan(cat, dataset, catalog_config_str(cli_config(), "pii.default_country"), fd,
		     table ? 0 : (uint64_t)sample, &r, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	if (json)
		print_json(dataset, &r);
	else
		print_text(dataset, &r);
	code = r.flagged ? ST_FINDINGS : 0;
out:
	if (fd > STDIN_FILENO)
		close(fd);
	pii_scan_release(&r);
	catalog_free(cat);
	catalog_workspace_release(&ws);
	return code;
}
