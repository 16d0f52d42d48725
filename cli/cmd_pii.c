/* `steward pii <hash>`: the verb table of the PII commands. */
#include "cli.h"

static const struct cli_cmd *const pii_cmds[] = {
	&cli_cmd_pii_hash,
};

static int cmd_pii(int argc, char **argv, struct cli_ctx *ctx)
{
	return cli_dispatch(pii_cmds, sizeof(pii_cmds) / sizeof(*pii_cmds), argc, argv, ctx, "pii");
}

const struct cli_cmd cli_cmd_pii = {
	"pii", "pseudonyms of values",
	"usage: steward pii <hash> [<args>]\n", cmd_pii,
};