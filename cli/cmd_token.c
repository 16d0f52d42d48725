/* `steward token new|list|revoke`: the bearer tokens callers present to `steward serve` over
 * TCP. A token is printed once, when it is made; only its hash is kept (audit/token.c). */
#include "cli.h"
#include "audit.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS (24LL * 3600 * 1000)
#define DEFAULT_DAYS 90
#define MAX_DAYS 3650

static int cmd_new(int argc, char **argv, struct cli_ctx *ctx);
static int cmd_list(int argc, char **argv, struct cli_ctx *ctx);
static int cmd_revoke(int argc, char **argv, struct cli_ctx *ctx);

static const struct cli_cmd token_new = {
	"new", "make a token for a user",
	"usage: steward token new USER [--expires DAYS|never]\n\n"
	"Makes a bearer token for USER, a login name the 'roles:' block of steward.yaml maps to\n"
	"a role, and prints it once on stdout: only its SHA-256 is kept, so it cannot be shown\n"
	"again. It expires after DAYS days (default 90, at most 3650; 'never' for no end).\n"
	"Callers send it to 'steward serve' as 'Authorization: Bearer TOKEN'.\n",
	cmd_new};
static const struct cli_cmd token_list = {
	"list", "list tokens (never their secrets)",
	"usage: steward token list [--json]\n\n"
	"Lists token ids, users, creation and expiry times, and revocations.\n",
	cmd_list};
static const struct cli_cmd token_revoke = {
	"revoke", "revoke a token",
	"usage: steward token revoke ID\n\n"
	"Revokes the token with id ID (the 16 hex digits after 'stw_'): the server refuses it\n"
	"from the next request on.\n",
	cmd_revoke};

struct new_args {
	struct cli_ctx *ctx;
	const char *expires;
};

static int new_opt(int c, const char *arg, void *u)
{
	struct new_args *a = u;

	if (c == 'e')
		a->expires = arg;
	return -1;
}

static int cmd_new(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {{"expires", required_argument, NULL, 'e'},
					     CLI_COMMON_OPTIONS,
					     {0}};
	struct new_args a = {ctx, NULL};
	struct catalog_workspace ws = {0};
	struct st_error err = ST_ERROR_INIT;
	char token[AUDIT_TOKEN_MAX], id[17];
	long days = DEFAULT_DAYS;
	int64_t expires = 0;
	int code;

	if ((code = cli_getopt(argc, argv, ctx, &token_new, opts, new_opt, &a)) >= 0)
		return code;
	if (argc - optind != 1)
		return cli_usage_error(ctx, argc - optind ? "give one user" : "no user given");
	if (a.expires && !strcmp(a.expires, "never"))
		days = 0;
	else if (a.expires && (cli_parse_count(ctx, "--expires", a.expires, &days)))
		return ST_E_USAGE;
	if (days > MAX_DAYS)
		return cli_usage_error(ctx, "--expires must be at most %d days, or 'never'", MAX_DAYS);
	ctx->action = "token.new";
	ctx->object = argv[optind];
	if ((code = cli_find_workspace(ctx, &ws)))
		return code;
	if (days)
		expires = audit_now_ms() + days * DAY_MS;
	if (audit_token_new(cli_audit_log(), argv[optind], expires, token, sizeof(token), id,
			    &err)) {
		code = cli_fail(&err);
		goto out;
	}
	snprintf(ctx->counts, sizeof(ctx->counts), "{\"id\":\"%s\"}", id);
	cli_printf("%s\n", token);
	cli_fprintf(stderr, "token %s for '%s'%s; it is shown this once\n", id, argv[optind],
		    days ? "" : ", without an expiry");
out:
	memset(token, 0, sizeof(token));
	catalog_workspace_release(&ws);
	return code;
}

struct list_state {
	int json;
	json_t *arr;
};

static void when(int64_t ms, char *out, size_t n)
{
	if (ms)
		audit_time_format(ms, out, n);
	else
		snprintf(out, n, "-");
}

static int list_one(void *u, const struct audit_token *t)
{
	struct list_state *l = u;
	char c[40], e[40], r[40];

	when(t->created_ms, c, sizeof(c));
	when(t->expires_ms, e, sizeof(e));
	when(t->revoked_ms, r, sizeof(r));
	if (!l->json) {
		cli_printf("%-16s  %-16s  %-24s  %-24s  %s\n", t->id, t->user, c, e, r);
		return 0;
	}
	return json_array_append_new(l->arr,
				     json_pack("{s:s, s:s, s:s, s:s*, s:s*}", "id", t->id, "user",
					       t->user, "created", c, "expires",
					       t->expires_ms ? e : NULL, "revoked",
					       t->revoked_ms ? r : NULL));
}

static int cmd_list(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, CLI_COMMON_OPTIONS,
					     {0}};
	struct list_state l = {0};
	struct catalog_workspace ws = {0};
	struct st_error err = ST_ERROR_INIT;
	int code;

	if ((code = cli_getopt(argc, argv, ctx, &token_list, opts, cli_json_option, &l.json)) >= 0)
		return code;
	if (optind < argc)
		return cli_usage_error(ctx, "'token list' takes no arguments");
	ctx->action = "token.list";
	if ((code = cli_find_workspace(ctx, &ws)))
		return code;
	if (l.json && !(l.arr = json_array())) {
		code = cli_fail(&err);
		goto out;
	}
	if (!l.json)
		cli_printf("%-16s  %-16s  %-24s  %-24s  %s\n", "ID", "USER", "CREATED", "EXPIRES",
			   "REVOKED");
	if (audit_token_each(cli_audit_log(), list_one, &l, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	if (l.json) {
		code = cli_print_json(l.arr);
		l.arr = NULL;
	}
out:
	json_decref(l.arr);
	catalog_workspace_release(&ws);
	return code;
}

static int cmd_revoke(int argc, char **argv, struct cli_ctx *ctx)
{
	struct catalog_workspace ws = {0};
	struct st_error err = ST_ERROR_INIT;
	static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
	int code;

	if ((code = cli_getopt(argc, argv, ctx, &token_revoke, opts, cli_no_options, NULL)) >= 0)
		return code;
	if (argc - optind != 1)
		return cli_usage_error(ctx, argc - optind ? "give one token id" : "no token id given");
	ctx->action = "token.revoke";
	ctx->object = argv[optind];
	if ((code = cli_find_workspace(ctx, &ws)))
		return code;
	if (audit_token_revoke(cli_audit_log(), argv[optind], &err))
		code = cli_fail(&err);
	else
		cli_printf("token %s revoked\n", argv[optind]);
	catalog_workspace_release(&ws);
	return code;
}

static const struct cli_cmd *const token_cmds[] = {&token_new, &token_list, &token_revoke};

static int cmd_token(int argc, char **argv, struct cli_ctx *ctx)
{
	return cli_dispatch(token_cmds, sizeof(token_cmds) / sizeof(*token_cmds), argc, argv, ctx,
			    "token");
}

const struct cli_cmd cli_cmd_token = {
	"token", "manage the bearer tokens of 'steward serve'",
	"usage: steward token <new|list|revoke> [<args>]\n", cmd_token,
};
