/* `steward init [DIR]`: creates a workspace (steward.yaml and .steward/catalog.db). */
#include "cli.h"

#include "audit.h"

#include <getopt.h>
#include <sys/stat.h>

static const char usage[] =
	"usage: steward init [DIR]\n\n"
	"Creates a steward workspace in DIR (default: the current directory): steward.yaml\n"
	"for configuration, with you as its admin, and .steward/ (mode 0700) for catalog.db,\n"
	"audit.db, the audit signing key and keys. Running it again on a workspace (an admin's\n"
	"job) keeps its files and migrates its database.\n";

static int cmd_init(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
	struct st_error err = ST_ERROR_INIT;
	struct catalog_workspace ws;
	struct audit_actor me;
	const char *dir = ".";
	char probe[4096];
	struct stat sb;
	int existed, code;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_init, opts, cli_no_options, NULL)) >= 0)
		return code;
	if (argc - optind > 1)
		return cli_usage_error(ctx, "'init' takes at most one directory");
	if (optind < argc)
		dir = argv[optind];
	else if (ctx->home)
		dir = ctx->home;
	ctx->action = "workspace.init";
	ctx->home = dir;
	snprintf(probe, sizeof(probe), "%s/.steward", dir);
	if (!stat(probe, &sb)) {
		/* Re-initialising is an admin's job, and is recorded before anything changes. */
		if ((code = cli_find_workspace(ctx, &ws)))
			return code;
		catalog_workspace_release(&ws);
	}
	audit_actor_self(&me);
	if (catalog_workspace_create(dir, me.name, &existed, &err))
		return cli_fail(&err);
	if (!existed) {
		if ((code = cli_find_workspace(ctx, &ws)))
			return code;
		catalog_workspace_release(&ws);
	}
	cli_printf("%s steward workspace in '%s'\n", existed ? "reinitialized existing" : "initialized",
	       dir);
	return 0;
}

const struct cli_cmd cli_cmd_init = {"init", "create a workspace", usage, cmd_init};
