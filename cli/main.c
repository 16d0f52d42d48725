/* steward's entry point: global options, then one verb from the command table. */
#include "cli.h"
#include "sql.h"
#include "version.h"

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

static const struct cli_cmd *const commands[] = {
	&cli_cmd_init, &cli_cmd_catalog, &cli_cmd_search, &cli_cmd_show, &cli_cmd_lineage,
	&cli_cmd_key, &cli_cmd_pii, &cli_cmd_ingest, &cli_cmd_request, &cli_cmd_audit,
	&cli_cmd_report, &cli_cmd_export, &cli_cmd_serve, &cli_cmd_token, &cli_cmd_version,
};

static void usage(FILE *out)
{
	fputs("usage: steward [--home DIR] <command> [<args>]\n\n"
	      "A data governance and PII catalog.\n\ncommands:\n",
	      out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		cli_fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fputs("\nEvery command takes --help. The workspace is --home DIR, else $STEWARD_HOME,\n"
	      "else the nearest directory above the current one that holds .steward/.\n"
	      "Exit codes: 0 ok, 1 findings, 2 usage, 3 invalid input, 4 not found,\n"
	      "5 system error, 6 permission denied.\n",
	      out);
}

/* Keeps raw records and key material out of core dumps and away from other processes of
 * the same user (ptrace, /proc/PID/mem): every command, so that no verb can forget it. */
static int no_core_dumps(void)
{
	const struct rlimit none = {0, 0};

	return setrlimit(RLIMIT_CORE, &none) || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = {0};
	int i = 1;

	cli_args(argc, argv);
	st_sql_process_init();
	if (no_core_dumps()) {
		cli_error("cannot disable core dumps, so no command runs");
		return ST_E_SYSTEM;
	}

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--home") && i + 1 >= argc) {
			cli_error("option '--home' needs a value");
			return ST_E_USAGE;
		} else if (!strcmp(argv[i], "--home")) {
			ctx.home = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--home=", 7)) {
			ctx.home = argv[i] + 7;
			i++;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			cli_printf("steward %s\n", STEWARD_VERSION);
			return 0;
		} else {
			cli_error("unknown option '%s'", argv[i]);
			usage(stderr);
			return ST_E_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return ST_E_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 >= argc) {
			usage(stdout);
			return 0;
		}
		for (size_t k = 0; k < sizeof(commands) / sizeof(*commands); k++)
			if (!strcmp(argv[i + 1], commands[k]->name))
				return cli_help(commands[k]);
		cli_error("no help for '%s'", argv[i + 1]);
		return ST_E_USAGE;
	}
	{
		int code;

		if (cli_client_run(ctx.home, argc - i, argv + i, &code))
			return code;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(*commands); k++)
		if (!strcmp(argv[i], commands[k]->name)) {
			int code;

			ctx.verb = commands[k]->name;
			code = commands[k]->exec(argc - i, argv + i, &ctx);
			return cli_audit_end(&ctx, code);
		}
	cli_error("'%s' is not a steward command", argv[i]);
	fputs("see 'steward --help'\n", stderr);
	return ST_E_USAGE;
}
