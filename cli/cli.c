/* Helpers shared by the verbs: error printing, usage, workspace opening, dispatch. */
#include "cli.h"
#include "alloc.h"
#include "audit.h"
#include "pii.h"
#include "version.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <getopt.h>
#include <jansson.h>
#include <unistd.h>

/* The command's audit state: the log it is recorded in and the last error it printed,
 * which becomes the record's reason. */
static struct {
	struct audit_log *log;
	struct catalog_config cfg; /* steward.yaml, parsed once per command */
	struct audit_actor actor;
	int begun;
	char reason[1024];
} audit_state;

int cli_fail(const struct st_error *err)
{
	char line[2048];

	st_error_format(err, line, sizeof(line));
	fprintf(stderr, "error: %s\n", line);
	snprintf(audit_state.reason, sizeof(audit_state.reason), "%s", err->msg);
	return err->code > 0 ? err->code : ST_E_SYSTEM;
}

int cli_usage_error(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vsnprintf(audit_state.reason, sizeof(audit_state.reason), fmt, ap);
	va_end(ap);
	fputs(audit_state.reason, stderr);
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
	int code;

	if (catalog_workspace_find(ws, ctx->home, &err))
		return cli_fail(&err);
	if ((code = cli_audit_begin(ctx, ws))) {
		catalog_workspace_release(ws);
		return code;
	}
	return 0;
}

struct audit_log *cli_audit_log(void)
{
	return audit_state.begun ? audit_state.log : NULL;
}

const struct audit_actor *cli_audit_actor(void)
{
	return audit_state.begun ? &audit_state.actor : NULL;
}

static long checkpoint_every(const struct catalog_config *cfg)
{
	const char *s = catalog_config_str(cfg, "audit.checkpoint_every");
	long v = s ? strtol(s, NULL, 10) : 0;

	return v > 0 ? v : 0;
}

int cli_audit_begin(const struct cli_ctx *ctx, const struct catalog_workspace *ws)
{
	struct st_error err = ST_ERROR_INIT, cfg_err = ST_ERROR_INIT;
	struct catalog_config *cfg = &audit_state.cfg;
	struct audit_entry e = {&audit_state.actor, ctx->action, ctx->object, ctx->purpose};
	char *purpose = NULL;
	size_t found = 0;
	int need, code = 0, cfg_failed;

	if (audit_state.log) { /* one record per command */
		st_error_set(&err, ST_E_SYSTEM, "a command is already being recorded");
		return cli_fail(&err);
	}
	need = ctx->action ? audit_action_role(ctx->action) : -1;
	if (need < 0) {
		st_error_set(&err, ST_E_SYSTEM, "'%s' has no audit action",
			     ctx->verb ? ctx->verb : "?");
		return cli_fail(&err);
	}
	/* A purpose is free text: personal data typed into it is not recorded. */
	if (ctx->purpose && (purpose = pii_redact(ctx->purpose, strlen(ctx->purpose), &found)))
		e.purpose = purpose;
	if (found && !purpose) {
		st_error_oom(&err);
		return cli_fail(&err);
	}
	audit_actor_self(&audit_state.actor);
	cfg_failed = catalog_config_load(cfg, ws, &cfg_err) ||
		     audit_role_resolve(cfg, ws->config, &audit_state.actor, &cfg_err);
	if (audit_open(&audit_state.log, ws->state_dir, STEWARD_VERSION,
		       cfg_failed ? 0 : checkpoint_every(cfg), &err)) {
		code = cli_fail(&err);
		goto out;
	}
	if (cfg_failed) {
		code = cli_fail(&cfg_err);
		if (audit_append(audit_state.log, &e,
				 cfg_err.code == ST_E_DENIED ? AUDIT_DENIED : AUDIT_ERROR,
				 audit_state.reason, NULL, &err))
			cli_fail(&err);
		goto out;
	}
	if (audit_state.actor.role < need) {
		const int has = audit_state.actor.role;

		st_error_set(&err, ST_E_DENIED, "'steward %s' needs the '%s' role; '%s' has %s%s%s",
			     ctx->verb, audit_role_name(need), audit_state.actor.name,
			     has ? "the '" : "no role", has ? audit_role_name(has) : "",
			     has ? "' role" : " (see 'roles' in steward.yaml)");
		code = cli_fail(&err);
		snprintf(audit_state.reason, sizeof(audit_state.reason), "needs the '%s' role",
			 audit_role_name(need));
		if (audit_append(audit_state.log, &e, AUDIT_DENIED, audit_state.reason, NULL, &err))
			cli_fail(&err);
		goto out;
	}
	if (ctx->admit) {
		const char *p = ctx->purpose;
		char why[256] = "";

		if (ctx->admit(ctx, cfg, audit_state.actor.role, &p, why, sizeof(why), &err)) {
			const int outcome = err.code == ST_E_DENIED ? AUDIT_DENIED : AUDIT_ERROR;

			code = cli_fail(&err);
			if (why[0])
				snprintf(audit_state.reason, sizeof(audit_state.reason), "%s", why);
			if (audit_append(audit_state.log, &e, outcome, audit_state.reason, NULL, &err))
				cli_fail(&err);
			goto out;
		}
		if (p != ctx->purpose) { /* from steward.yaml: redacted like --purpose */
			st_free(purpose);
			found = 0;
			purpose = p ? pii_redact(p, strlen(p), &found) : NULL;
			if (found && !purpose) {
				st_error_oom(&err);
				code = cli_fail(&err);
				goto out;
			}
			e.purpose = purpose ? purpose : p;
		}
	}
	if (audit_begin(audit_state.log, &e, &err)) {
		st_error_prefix(&err, "cannot write the audit record, so the command does not run");
		code = cli_fail(&err);
		goto out;
	}
	audit_state.begun = 1;
	audit_state.reason[0] = '\0';
out:
	st_free(purpose);
	if (code) {
		catalog_config_release(cfg);
		audit_free(audit_state.log);
		audit_state.log = NULL;
	}
	return code;
}

const struct catalog_config *cli_config(void)
{
	return &audit_state.cfg;
}

int cli_audit_end(const struct cli_ctx *ctx, int exit_code)
{
	struct st_error err = ST_ERROR_INIT;
	char reason[1100];
	int outcome = exit_code == 0 || exit_code == ST_FINDINGS ? AUDIT_OK : AUDIT_ERROR;

	if (!audit_state.begun)
		goto out;
	if (outcome == AUDIT_ERROR && !audit_state.reason[0])
		snprintf(reason, sizeof(reason), "exit %d", exit_code);
	else
		snprintf(reason, sizeof(reason), "%s", audit_state.reason);
	if (audit_end(audit_state.log, outcome, reason[0] ? reason : NULL,
		      ctx->counts[0] ? ctx->counts : NULL, &err)) {
		st_error_prefix(&err, "cannot complete the audit record");
		cli_fail(&err);
		exit_code = ST_E_SYSTEM;
	}
	audit_state.begun = 0;
out:
	catalog_config_release(&audit_state.cfg);
	audit_free(audit_state.log);
	audit_state.log = NULL;
	return exit_code;
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

int cli_getopt(int argc, char **argv, struct cli_ctx *ctx, const struct cli_cmd *cmd,
	       const struct option *opts, int (*own)(int c, const char *arg, void *u), void *u)
{
	int c, code;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (cli_common_option(c, optarg, ctx, cmd, &code)) {
			if (c == 'h')
				return code;
			continue;
		}
		if (c == '?' || c == ':')
			return cli_option_error(ctx, c, argv);
		if ((code = own(c, optarg, u)) >= 0)
			return code;
	}
	return -1;
}

int cli_print_json(struct json_t *doc)
{
	struct st_error err = ST_ERROR_INIT;
	int r = !doc || json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(doc);
	if (r) {
		st_error_oom(&err);
		return cli_fail(&err);
	}
	putchar('\n');
	return 0;
}

int cli_no_options(int c, const char *arg, void *u)
{
	(void)c;
	(void)arg;
	(void)u;
	return -1;
}

int cli_json_option(int c, const char *arg, void *u)
{
	(void)arg;
	if (c == 'j')
		*(int *)u = 1;
	return -1;
}
