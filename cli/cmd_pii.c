/* `steward pii <hash|map|check|scan>`: the verb table of the PII commands. */
#include "cli.h"

static const struct cli_cmd *const pii_cmds[] = {
	&cli_cmd_pii_hash, &cli_cmd_pii_map, &cli_cmd_pii_check, &cli_cmd_pii_scan,
};

static int cmd_pii(int argc, char **argv, struct cli_ctx *ctx)
{
	return cli_dispatch(pii_cmds, sizeof(pii_cmds) / sizeof(*pii_cmds), argc, argv, ctx, "pii");
}

const struct cli_cmd cli_cmd_pii = {
	"pii", "pseudonyms, the PII map, PII checks and scans",
	"usage: steward pii <hash|map|check|scan> [<args>]\n", cmd_pii,
};
