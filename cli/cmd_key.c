/* `steward key init|rotate|retire|list`: the keyring behind pseudonyms. */
#include "cli.h"
#include "alloc.h"
#include "pii.h"

#include <getopt.h>
#include <jansson.h>
#include <string.h>

static int keys_dir(const struct cli_ctx *ctx, struct catalog_workspace *ws, char **dir)
{
	int code = cli_find_workspace(ctx, ws);

	if (code)
		return code;
	*dir = catalog_workspace_state_path(ws, "keys");
	if (!*dir) {
		struct st_error err = ST_ERROR_INIT;

		catalog_workspace_release(ws);
		st_error_oom(&err);
		return cli_fail(&err);
	}
	return 0;
}

/* Runs one key verb after the usual option parsing; takes at most nargs operands. */
static int key_verb(int argc, char **argv, struct cli_ctx *ctx, const struct cli_cmd *cmd,
		    int nargs, int *json, int (*fn)(const char *dir, char **args, int json))
{
	static char action[32];
	static const struct option json_opts[] = {{"json", no_argument, NULL, 'j'},
						  CLI_COMMON_OPTIONS, {0}};
	static const struct option plain_opts[] = {CLI_COMMON_OPTIONS, {0}};
	struct catalog_workspace ws = {0};
	char *dir = NULL;
	int code = 0;

	if ((code = cli_getopt(argc, argv, ctx, cmd, json ? json_opts : plain_opts,
			       json ? cli_json_option : cli_no_options, json)) >= 0)
		return code;
	if (argc - optind != nargs)
		return cli_usage_error(ctx, nargs ? "give one key id" : "no arguments expected");
	snprintf(action, sizeof(action), "key.%s", cmd->name);
	ctx->action = action;
	ctx->object = nargs ? argv[optind] : NULL;
	code = keys_dir(ctx, &ws, &dir);
	if (code)
		return code;
	code = fn(dir, argv + optind, json ? *json : 0);
	st_free(dir);
	catalog_workspace_release(&ws);
	return code;
}

static int do_init(const char *dir, char **args, int json)
{
	struct st_error err = ST_ERROR_INIT;

	(void)args;
	(void)json;
	if (pii_keyring_create(dir, &err))
		return cli_fail(&err);
	cli_printf("created key k1 in '%s'\n", dir);
	return 0;
}

static int do_rotate(const char *dir, char **args, int json)
{
	struct st_error err = ST_ERROR_INIT;
	struct pii_keyring kr;
	char id[PII_KEY_ID_MAX];
	int code = 0;

	(void)args;
	(void)json;
	if (pii_keyring_open(&kr, dir, 0, &err) || pii_keyring_rotate(&kr, id, sizeof(id), &err))
		code = cli_fail(&err);
	else
		cli_printf("%s is the current key; older keys stay for look-ups until retired\n", id);
	pii_keyring_release(&kr);
	return code;
}

static int do_retire(const char *dir, char **args, int json)
{
	struct st_error err = ST_ERROR_INIT;
	struct pii_keyring kr;
	int code = 0;

	(void)json;
	if (pii_keyring_open(&kr, dir, 0, &err) || pii_keyring_retire(&kr, args[0], &err))
		code = cli_fail(&err);
	else
		cli_printf("retired %s; its pseudonyms can no longer be computed\n", args[0]);
	pii_keyring_release(&kr);
	return code;
}

static int do_list(const char *dir, char **args, int json)
{
	struct st_error err = ST_ERROR_INIT;
	struct pii_keyring kr;
	json_t *arr;

	(void)args;
	/* Loading the secrets checks every key file, so list reports a bad one. */
	if (pii_keyring_open(&kr, dir, 1, &err)) {
		pii_keyring_release(&kr);
		return cli_fail(&err);
	}
	if (!json) {
		cli_printf("%-6s %-8s %-9s %s\n", "ID", "VERSION", "STATUS", "CREATED");
		for (size_t i = 0; i < kr.n; i++)
			cli_printf("%-6s %-8d %-9s %s\n", kr.keys[i].id, kr.keys[i].version,
			       pii_key_status_name(kr.keys[i].status), kr.keys[i].created);
	} else {
		arr = json_array();
		for (size_t i = 0; i < kr.n; i++)
			json_array_append_new(arr, json_pack("{s:s, s:i, s:s, s:s}", "id",
							     kr.keys[i].id, "version",
							     kr.keys[i].version, "status",
							     pii_key_status_name(kr.keys[i].status),
							     "created", kr.keys[i].created));
		cli_json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(arr);
	}
	pii_keyring_release(&kr);
	return 0;
}

static int cmd_init(int argc, char **argv, struct cli_ctx *ctx);
static int cmd_rotate(int argc, char **argv, struct cli_ctx *ctx);
static int cmd_retire(int argc, char **argv, struct cli_ctx *ctx);
static int cmd_list(int argc, char **argv, struct cli_ctx *ctx);

static const struct cli_cmd key_init = {
	"init", "create the keyring and its first key",
	"usage: steward key init\n\n"
	"Creates .steward/keys/ (mode 0700) and the first key, k1: 32 random bytes in a file of\n"
	"mode 0600. Pseudonyms are computed under the current key; see docs/pseudonyms.md.\n",
	cmd_init};
static const struct cli_cmd key_rotate = {
	"rotate", "make a new current key",
	"usage: steward key rotate\n\n"
	"Creates a new key and makes it current. The previous key stays available for\n"
	"look-ups (steward pii hash --key ID) until it is retired.\n",
	cmd_rotate};
static const struct cli_cmd key_retire = {
	"retire", "destroy a previous key",
	"usage: steward key retire ID\n\n"
	"Overwrites and deletes a previous key. Pseudonyms made under it can then no longer\n"
	"be computed from a value, which is what crypto-shredding relies on.\n",
	cmd_retire};
static const struct cli_cmd key_list = {
	"list", "list keys and their status",
	"usage: steward key list [--json]\n\n"
	"Lists key ids, versions, status (current, previous, retired) and creation times,\n"
	"after checking every key file's type, owner and permissions. Never prints a secret.\n",
	cmd_list};

static int cmd_init(int argc, char **argv, struct cli_ctx *ctx)
{
	return key_verb(argc, argv, ctx, &key_init, 0, NULL, do_init);
}

static int cmd_rotate(int argc, char **argv, struct cli_ctx *ctx)
{
	return key_verb(argc, argv, ctx, &key_rotate, 0, NULL, do_rotate);
}

static int cmd_retire(int argc, char **argv, struct cli_ctx *ctx)
{
	return key_verb(argc, argv, ctx, &key_retire, 1, NULL, do_retire);
}

static int cmd_list(int argc, char **argv, struct cli_ctx *ctx)
{
	int json = 0;

	return key_verb(argc, argv, ctx, &key_list, 0, &json, do_list);
}

static const struct cli_cmd *const key_cmds[] = {&key_init, &key_rotate, &key_retire,
						 &key_list};

static int cmd_key(int argc, char **argv, struct cli_ctx *ctx)
{
	return cli_dispatch(key_cmds, sizeof(key_cmds) / sizeof(*key_cmds), argc, argv, ctx, "key");
}

const struct cli_cmd cli_cmd_key = {
	"key", "manage the pseudonym keys",
	"usage: steward key <init|rotate|retire|list> [<args>]\n", cmd_key,
};
