/* `steward version`: prints the program and library versions. */
#include "cli.h"
#include "kafka.h"
#include "version.h"

#include <jansson.h>
#include <string.h>
#include <sodium.h>
#include <sqlite3.h>
#include <yaml.h>

static int cmd_version(int argc, char **argv, struct cli_ctx *ctx)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return cli_help(&cli_cmd_version);
	if (argc > 1)
		return cli_usage_error(ctx, "'version' takes no arguments");
	cli_printf("steward %s\nsqlite %s\nlibsodium %s\nlibyaml %s\njansson %s\nlibrdkafka %s\n",
		   STEWARD_VERSION, sqlite3_libversion(), sodium_version_string(),
		   yaml_get_version_string(), JANSSON_VERSION, kafka_version());
	return 0;
}

const struct cli_cmd cli_cmd_version = {
	"version", "show the versions of steward and its libraries",
	"usage: steward version\n\nPrints steward's version and the versions of the libraries it uses.\n",
	cmd_version,
};
