/* `steward init [DIR]`: creates a workspace (steward.yaml and .steward/catalog.db). */
#include "cli.h"

#include <getopt.h>

static const char usage[] =
	"usage: steward init [DIR]\n\n"
	"Creates a steward workspace in DIR (default: the current directory): steward.yaml\n"
	"for configuration and .steward/ (mode 0700) for catalog.db and, later, audit.db and\n"
	"keys. Running it again on a workspace keeps its files and migrates its database.\n";

static int cmd_init(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
	struct st_error err = ST_ERROR_INIT;
	const char *dir = ".";
	int c, existed, code;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (cli_common_option(c, optarg, ctx, &cli_cmd_init, &code)) {
			if (c == 'h')
				return code;
			continue;
		}
		return cli_option_error(ctx, c, argv);
	}
	if (argc - optind > 1)
		return cli_usage_error(ctx, "'init' takes at most one directory");
	if (optind < argc)
		dir = argv[optind];
	else if (ctx->home)
		dir = ctx->home;
	if (catalog_workspace_create(dir, &existed, &err))
		return cli_fail(&err);
	printf("%s steward workspace in '%s'\n", existed ? "reinitialized existing" : "initialized",
	       dir);
	return 0;
}

const struct cli_cmd cli_cmd_init = {"init", "create a workspace", usage, cmd_init};
