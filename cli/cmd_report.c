/* `steward report`: the monthly compliance report for the DPO, on standard output or in a
 * file. The report is built and rendered by the audit library (audit/report.c). */
#include "cli.h"
#include "alloc.h"
#include "audit.h"
#include "file.h"
#include "version.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char report_usage[] =
	"usage: steward report --period YYYY-MM [--format md|html|json|csv] [--output FILE]\n\n"
	"The compliance report of one calendar month (UTC): accesses to personal data by actor,\n"
	"role and object; denied attempts; ingest runs and their counts; data-subject requests\n"
	"against their deadlines, with extensions and their reasons; the PII map; and the\n"
	"verified state of the audit chain. Subjects appear by request id and data category\n"
	"only. See docs/reports.md.\n\n"
	"  --period YYYY-MM  the month to report on (required); it may be the current one\n"
	"  --format F        md (default), html (one self-contained page, for printing),\n"
	"                    json or csv\n"
	"  --output FILE     write to FILE (mode 0600, replaced in one step) instead of\n"
	"                    standard output\n";

struct report_opts {
	const char *period, *format, *output;
};

static int report_opt(int c, const char *arg, void *u)
{
	struct report_opts *o = u;

	if (c == 'p')
		o->period = arg;
	else if (c == 'f')
		o->format = arg;
	else
		o->output = arg;
	return -1;
}

static int cmd_report(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS,
					     {"period", required_argument, NULL, 'p'},
					     {"format", required_argument, NULL, 'f'},
					     {"output", required_argument, NULL, 'o'},
					     {0}};
	struct st_error err = ST_ERROR_INIT;
	struct report_opts o = {0};
	struct catalog_workspace ws;
	struct catalog *cat = NULL;
	struct audit_report *rep = NULL;
	struct audit_report_meta meta = {0};
	char *text = NULL;
	size_t len = 0;
	int code, year, month, format = AUDIT_REPORT_MD, have_ws = 0;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_report, opts, report_opt, &o)) >= 0)
		return code;
	if (optind < argc)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
	if (!o.period)
		return cli_usage_error(ctx, "--period YYYY-MM is required, e.g. --period 2026-11");
	if (audit_report_period_parse(o.period, &year, &month))
		return cli_usage_error(ctx, "--period needs a month as YYYY-MM (01-12), not '%s'",
				       o.period);
	if (audit_date_to_ms((struct audit_date){year, month, 1}) > audit_now_ms())
		return cli_usage_error(ctx, "the period '%s' has not begun", o.period);
	if (o.format && (format = audit_report_format_parse(o.format)) < 0)
		return cli_usage_error(ctx, "unknown format '%s' (md, html, json or csv)",
				       o.format);
	if (o.output && !*o.output)
		return cli_usage_error(ctx, "--output needs a file name");
	ctx->action = "report";
	ctx->object = o.period;
	snprintf(ctx->counts, sizeof(ctx->counts), "{\"format\":\"%s\"}",
		 audit_report_format_name(format));
	if ((code = cli_open_catalog(ctx, &ws, &cat)))
		return code;
	have_ws = 1;
	meta.workspace = ws.home;
	meta.version = STEWARD_VERSION;
	meta.actor = cli_audit_actor();
	if (audit_report_build(audit_db(cli_audit_log()), cat, year, month, &meta, &rep, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	if (o.output) {
		const struct st_output_guard guard = {ws.state_dir, NULL, 0};

		if (audit_report_save(rep, format, o.output, &guard, &err)) {
			code = cli_fail(&err);
			goto out;
		}
		cli_printf("report for %s written to '%s' (%s)\n", o.period, o.output,
		       audit_report_format_name(format));
		goto out;
	}
	if (audit_report_render(rep, format, &text, &len, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	/* On standard output (a terminal, perhaps) the document's values are escaped like
	 * every other output; its own layout (line breaks, CSV's CRLF) is kept. */
	if (cli_fwrite_escaped(text, len,
			       format == AUDIT_REPORT_JSON  ? ST_ESC_JSON
			       : format == AUDIT_REPORT_CSV ? ST_ESC_KEEP_NL | ST_ESC_KEEP_CR
							    : ST_ESC_KEEP_NL,
			       stdout) ||
	    fflush(stdout)) {
		st_error_set(&err, ST_E_SYSTEM, "cannot write the report to standard output");
		code = cli_fail(&err);
	}
out:
	st_free(text);
	audit_report_free(rep);
	catalog_free(cat);
	if (have_ws)
		catalog_workspace_release(&ws);
	return code;
}

const struct cli_cmd cli_cmd_report = {"report", "the monthly compliance report", report_usage,
				       cmd_report};
