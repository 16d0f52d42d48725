/* Helpers shared by the verbs: error printing, usage, workspace opening, dispatch. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <getopt.h>
#include <unistd.h>

int cli_fail(const struct st_error *err)
{
	char line[2048];

	st_error_format(err, line, sizeof(line));
	fprintf(stderr, "error: %s\n", line);
	return err->code > 0 ? err->code : ST_E_SYSTEM;
}

int cli_usage_error(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nsee 'steward %s --help'\n", ctx->verb ? ctx->verb : "");
	return ST_E_USAGE;
}

int cli_help(const struct cli_cmd *cmd)
{
	fputs(cmd->usage, stdout);
	return 0;
}

int cli_common_option(int c, const char *arg, struct cli_ctx *ctx, const struct cli_cmd *cmd,
		      int *exit_code)
{
	if (c == CLI_OPT_HOME) {
		ctx->home = arg;
		return 1;
	}
	if (c == 'h') {
		*exit_code = cli_help(cmd);
		return 1;
	}
	return 0;
}

int cli_find_workspace(const struct cli_ctx *ctx, struct catalog_workspace *ws)
{
	struct st_error err = ST_ERROR_INIT;

	if (catalog_workspace_find(ws, ctx->home, &err))
		return cli_fail(&err);
	if (cli_audit_begin(ctx, ws)) {
		catalog_workspace_release(ws);
		st_error_set(&err, ST_E_SYSTEM, "cannot write the audit record; refusing to go on");
		return cli_fail(&err);
	}
	return 0;
}

int cli_audit_begin(const struct cli_ctx *ctx, const struct catalog_workspace *ws)
{
	(void)ctx;
	(void)ws;
	return 0;
}

void cli_audit_end(const struct cli_ctx *ctx, int exit_code)
{
	(void)ctx;
	(void)exit_code;
}

int cli_open_catalog(const struct cli_ctx *ctx, struct catalog_workspace *ws,
		     struct catalog **cat)
{
	struct st_error err = ST_ERROR_INIT;
	int code;

	*cat = NULL;
	if ((code = cli_find_workspace(ctx, ws)))
		return code;
	if (catalog_open(cat, ws, &err)) {
		catalog_workspace_release(ws);
		return cli_fail(&err);
	}
	return 0;
}

int cli_dispatch(const struct cli_cmd *const *table, size_t n, int argc, char **argv,
		 struct cli_ctx *ctx, const char *parent)
{
	static char verb[128];

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		FILE *out = argc < 2 ? stderr : stdout;

		fprintf(out, "usage: steward %s <command> [<args>]\n\ncommands:\n", parent);
		for (size_t i = 0; i < n; i++)
			fprintf(out, "  %-10s %s\n", table[i]->name, table[i]->summary);
		return argc < 2 ? ST_E_USAGE : 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(argv[1], table[i]->name)) {
			snprintf(verb, sizeof(verb), "%s %s", parent, table[i]->name);
			ctx->verb = verb;
			return table[i]->exec(argc - 1, argv + 1, ctx);
		}
	fprintf(stderr, "error: '%s' is not a 'steward %s' command\nsee 'steward %s --help'\n",
		argv[1], parent, parent);
	return ST_E_USAGE;
}

int cli_parse_count(const struct cli_ctx *ctx, const char *opt, const char *s, long *out)
{
	char *end;
	long v;

	v = strtol(s, &end, 10);
	if (!*s || *end || v <= 0 || v > (1L << 30)) {
		cli_usage_error(ctx, "%s needs a positive number, not '%s'", opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_isatty_out(void)
{
	return isatty(STDOUT_FILENO);
}

int cli_term_width(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

int cli_option_error(const struct cli_ctx *ctx, int c, char **argv)
{
	const char *opt = argv[optind - 1];
	const char *eq = strchr(opt, '=');

	if (c == ':')
		return cli_usage_error(ctx, "option '%s' needs a value", opt);
	if (!strncmp(opt, "--", 2) && eq && optopt)
		return cli_usage_error(ctx, "option '%.*s' takes no value", (int)(eq - opt), opt);
	if (strncmp(opt, "--", 2) && optopt && optopt != '?')
		return cli_usage_error(ctx, "unknown option '-%c'", optopt);
	return cli_usage_error(ctx, "unknown option '%s'", opt);
}
