/* `steward audit verify|checkpoint|log|recover`: checking the hash chain, its macs, Merkle
 * tree and signatures, exporting the head for someone else to hold, reading the log, and
 * starting a new log, audited, when the old one was removed, emptied or replaced. The proof
 * verbs are in cmd_audit_proof.c. */
#include "cli.h"
#include "alloc.h"
#include "audit.h"
#include "file.h"
#include "pii.h"
#include "version.h"

#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <string.h>

static const char verify_usage[] =
	"usage: steward audit verify [--anchor FILE] [--json]\n\n"
	"Recomputes the audit log's hash chain, Merkle tree and every record's key-bound mac,\n"
	"checks the request evidence and the suppression list against the records that wrote\n"
	"them, and checks every signed checkpoint (the record it names and the tree root it\n"
	"signs). With --anchor, also checks that the log still holds the exported checkpoint\n"
	"FILE unchanged and is signed by its key: only this catches a log that was cut short,\n"
	"or rewritten by someone holding the key (see docs/audit.md).\n"
	"Exit status: 0 intact, 1 tampered (the first bad seq is named), 2 on errors.\n";

static const char checkpoint_usage[] =
	"usage: steward audit checkpoint [--export FILE]\n\n"
	"Signs the head of the audit log (unless it is signed already) and prints it. With\n"
	"--export, writes it to FILE as an anchor for someone else to hold; give it later to\n"
	"'steward audit verify --anchor FILE'.\n";

static const char log_usage[] =
	"usage: steward audit log [--since TIME] [--until TIME] [--actor NAME] [--action ACTION]\n"
	"                         [--object NAME] [--outcome ok|denied|error] [--limit N] [--json]\n\n"
	"Lists audit records, oldest first. TIME is YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z (UTC);\n"
	"--until is exclusive. ACTION is a word such as catalog.search, or a prefix such as\n"
	"'request.*'.\n";

static const char recover_usage[] =
	"usage: steward audit recover --reason TEXT\n\n"
	"Starts a new audit log when the old one cannot be used while the workspace has its\n"
	"audit key: removed, emptied (0 bytes), replaced by a fresh or another log, or damaged.\n"
	"The old file is moved aside to .steward/audit.db.bad-TIME, never deleted. Record 1 of\n"
	"the new log (action audit.recover, TEXT as its purpose) names the old file's state,\n"
	"size and SHA-256, and is signed. Needs the 'admin' role. Anchors of the old log do not\n"
	"match the new one: export a new anchor ('steward audit checkpoint --export FILE').\n"
	"Exit status: 0 recovered, 3 when the log is usable (nothing to recover), 6 denied.\n";

extern const struct cli_cmd cli_cmd_audit_verify, cli_cmd_audit_checkpoint, cli_cmd_audit_log,
	cli_cmd_audit_recover, cli_cmd_audit_prove, cli_cmd_audit_consistency,
	cli_cmd_audit_check_proof;


static void hex(const unsigned char *b, size_t n, char *out, size_t outn)
{
	sodium_bin2hex(out, outn, b, n);
}

/* ---- verify ---------------------------------------------------------------------------- */

struct verify_opts {
	const char *anchor;
	int json;
};

static int verify_opt(int c, const char *arg, void *u)
{
	struct verify_opts *o = u;

	if (c == 'a')
		o->anchor = arg;
	else
		o->json = 1;
	return -1;
}

static int cmd_verify(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS,
					     {"anchor", required_argument, NULL, 'a'},
					     {"json", no_argument, NULL, 'j'},
					     {0}};
	struct verify_opts o = {0};
	struct st_error err = ST_ERROR_INIT;
	struct catalog_workspace ws;
	struct audit_checkpoint anchor;
	struct audit_verify_result res;
	char h[2 * AUDIT_HASH_BYTES + 1], when[40];
	int code, r;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_audit_verify, opts, verify_opt, &o)) >= 0)
		return code;
	if (o.anchor && audit_anchor_read(o.anchor, &anchor, &err)) {
		cli_fail(&err);
		return ST_E_USAGE;
	}
	ctx->action = "audit.verify";
	if ((code = cli_find_workspace(ctx, &ws)))
		return code == ST_E_DENIED ? code : ST_E_USAGE;
	r = audit_verify_db(audit_db(cli_audit_log()), o.anchor ? &anchor : NULL, &res, &err);
	catalog_workspace_release(&ws);
	if (r < 0) {
		cli_fail(&err);
		return ST_E_USAGE;
	}
	snprintf(ctx->counts, sizeof(ctx->counts),
		 "{\"records\":%lld,\"checkpoints\":%lld,\"bad_seq\":%lld}",
		 (long long)res.records, (long long)res.checkpoints, (long long)res.bad_seq);
	hex(res.head.hash, sizeof(res.head.hash), h, sizeof(h));
	audit_time_format(res.head.ts_ms, when, sizeof(when));
	if (o.json) {
		json_t *doc = audit_verify_json(&res, r);

		if (!doc || cli_json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) {
			json_decref(doc);
			st_error_oom(&err);
			cli_fail(&err);
			return ST_E_USAGE;
		}
		putchar('\n');
		json_decref(doc);
		return r ? ST_FINDINGS : 0;
	}
	if (r) {
		cli_printf("audit log tampered: first bad seq %lld: %s\n", (long long)res.bad_seq,
		       res.problem);
		snprintf(ctx->counts, sizeof(ctx->counts), "{\"bad_seq\":%lld}",
			 (long long)res.bad_seq);
		return ST_FINDINGS;
	}
	cli_printf("audit log intact: %lld records, %lld checkpoints verified\n",
	       (long long)res.records, (long long)res.checkpoints);
	if (res.head.seq)
		cli_printf("head checkpoint: seq %lld, %s, %s\n", (long long)res.head.seq, when, h);
	if (res.anchored)
		cli_printf("anchor: seq %lld matches\n", (long long)anchor.seq);
	else
		cli_printf("no anchor given: a log cut short or re-signed by someone with the key "
		       "is caught only with --anchor\n");
	return 0;
}

/* ---- checkpoint ------------------------------------------------------------------------ */

static int checkpoint_opt(int c, const char *arg, void *u)
{
	(void)c;
	*(const char **)u = arg;
	return -1;
}

static int cmd_checkpoint(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS,
					     {"export", required_argument, NULL, 'e'},
					     {0}};
	struct st_error err = ST_ERROR_INIT;
	struct catalog_workspace ws;
	struct audit_checkpoint cp;
	struct st_output_guard guard = {0};
	const char *export = NULL;
	char h[2 * AUDIT_HASH_BYTES + 1], when[40];
	int code;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_audit_checkpoint, opts, checkpoint_opt,
			  &export)) >= 0)
		return code;
	ctx->action = "audit.checkpoint";
	if ((code = cli_find_workspace(ctx, &ws)))
		return code;
	guard.state_dir = ws.state_dir; /* an anchor never goes into .steward/ */
	if (audit_checkpoint(cli_audit_log(), &cp, &err) ||
	    (!cp.seq && st_error_set(&err, ST_E_NOTFOUND, "the audit log is empty")) ||
	    (export && audit_checkpoint_export(&cp, export, &guard, &err))) {
		catalog_workspace_release(&ws);
		return cli_fail(&err);
	}
	catalog_workspace_release(&ws);
	hex(cp.hash, sizeof(cp.hash), h, sizeof(h));
	audit_time_format(cp.ts_ms, when, sizeof(when));
	cli_printf("checkpoint seq %lld, %s, %s\n", (long long)cp.seq, when, h);
	if (export)
		cli_printf("exported to '%s'; keep it where this machine's users cannot change it\n",
		       export);
	snprintf(ctx->counts, sizeof(ctx->counts), "{\"seq\":%lld}", (long long)cp.seq);
	return 0;
}

/* ---- log ------------------------------------------------------------------------------- */

struct log_opts {
	struct audit_filter f;
	const char *since, *until, *limit;
	int json;
};

static int log_opt(int c, const char *arg, void *u)
{
	struct log_opts *o = u;

	switch (c) {
	case 's': o->since = arg; break;
	case 'u': o->until = arg; break;
	case 'a': o->f.actor = arg; break;
	case 'A': o->f.action = arg; break;
	case 'o': o->f.object = arg; break;
	case 'O': o->f.outcome = arg; break;
	case 'l': o->limit = arg; break;
	default: o->json = 1; break;
	}
	return -1;
}

struct log_out {
	int json;
	json_t *arr;
	long n;
};

static int print_row(void *u, const struct audit_row *r)
{
	struct log_out *out = u;
	char when[40];

	out->n++;
	audit_time_format(r->ts_ms, when, sizeof(when));
	if (out->json)
		return json_array_append_new(out->arr, audit_row_json(r));
	cli_printf("%6lld  %s  %-10s %-8s %-17s %-7s %s%s%s%s%s\n", (long long)r->seq, when, r->actor,
	       r->role, r->action, r->outcome, r->object ? r->object : "-",
	       r->purpose ? "  purpose: " : "", r->purpose ? r->purpose : "",
	       r->reason ? "  reason: " : "", r->reason ? r->reason : "");
	return 0;
}

static int cmd_log(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS,
					     {"since", required_argument, NULL, 's'},
					     {"until", required_argument, NULL, 'u'},
					     {"actor", required_argument, NULL, 'a'},
					     {"action", required_argument, NULL, 'A'},
					     {"object", required_argument, NULL, 'o'},
					     {"outcome", required_argument, NULL, 'O'},
					     {"limit", required_argument, NULL, 'l'},
					     {"json", no_argument, NULL, 'j'},
					     {0}};
	struct st_error err = ST_ERROR_INIT;
	struct catalog_workspace ws;
	struct log_opts o = {0};
	struct log_out out = {0};
	long limit;
	int code;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_audit_log, opts, log_opt, &o)) >= 0)
		return code;
	if (o.since && audit_time_parse(o.since, &o.f.since_ms))
		return cli_usage_error(ctx, "--since needs a date such as 2026-11-01, not '%s'",
				       o.since);
	if (o.until && audit_time_parse(o.until, &o.f.until_ms))
		return cli_usage_error(ctx, "--until needs a date such as 2026-12-01, not '%s'",
				       o.until);
	if (o.f.outcome && strcmp(o.f.outcome, "ok") && strcmp(o.f.outcome, "denied") &&
	    strcmp(o.f.outcome, "error"))
		return cli_usage_error(ctx, "--outcome is ok, denied or error, not '%s'",
				       o.f.outcome);
	if (o.limit) {
		if (cli_parse_count(ctx, "--limit", o.limit, &limit))
			return ST_E_USAGE;
		o.f.limit = limit;
	}
	ctx->action = "audit.log";
	if ((code = cli_find_workspace(ctx, &ws)))
		return code;
	catalog_workspace_release(&ws);
	out.json = o.json;
	if (o.json && !(out.arr = json_array())) {
		st_error_oom(&err);
		return cli_fail(&err);
	}
	if (audit_query(audit_db(cli_audit_log()), &o.f, print_row, &out, &err)) {
		json_decref(out.arr);
		return cli_fail(&err);
	}
	if (o.json) {
		code = cli_json_dumpf(out.arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(out.arr);
		if (code) {
			st_error_oom(&err);
			return cli_fail(&err);
		}
	}
	snprintf(ctx->counts, sizeof(ctx->counts), "{\"records\":%ld}", out.n);
	return 0;
}

/* ---- recover --------------------------------------------------------------------------- */

static int recover_opt(int c, const char *arg, void *u)
{
	(void)c;
	*(const char **)u = arg;
	return -1;
}

/* Records the attempt in the log when it is usable after all (a denial, or nothing to
 * recover); a log that cannot be used cannot record it. */
static void record_if_usable(const struct catalog_workspace *ws, const struct cli_ctx *ctx,
			     const struct audit_actor *actor, const char *purpose, int outcome,
			     const char *reason)
{
	struct st_error err = ST_ERROR_INIT;
	struct audit_entry e = {actor, ctx->action, "audit.db", purpose};
	struct audit_log *log = NULL;

	if (!audit_open(&log, ws->state_dir, STEWARD_VERSION, 0, &err) &&
	    audit_append(log, &e, outcome, reason, NULL, &err))
		cli_fail(&err);
	audit_free(log);
}

static int cmd_recover(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS,
					     {"reason", required_argument, NULL, 'r'},
					     {0}};
	struct st_error err = ST_ERROR_INIT;
	struct catalog_workspace ws;
	struct catalog_config cfg;
	struct audit_actor actor;
	struct audit_recovery rec;
	const char *reason = NULL;
	char purpose_buf[CLI_AUDIT_TEXT_MAX], reason_buf[CLI_AUDIT_TEXT_MAX];
	const char *purpose;
	char sha[2 * AUDIT_HASH_BYTES + 1];
	int code;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_audit_recover, opts, recover_opt,
			       &reason)) >= 0)
		return code;
	if (optind < argc)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
	if (!reason || !*reason)
		return cli_usage_error(ctx, "--reason is required: say why the log is recovered");
	if (strlen(reason) > 1000)
		return cli_usage_error(ctx, "--reason is over 1000 bytes");
	ctx->action = "audit.recover";
	if (catalog_workspace_find(&ws, ctx->home, &err))
		return cli_fail(&err);
	memset(&cfg, 0, sizeof(cfg));
	audit_actor_self(&actor);
	if (catalog_config_load(&cfg, &ws, &err) ||
	    audit_role_resolve(&cfg, ws.config, &actor, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	/* The reason is free text: personal data typed into it is not recorded. */
	purpose = cli_audit_text(reason, purpose_buf);
	if (actor.role < AUDIT_ROLE_ADMIN) {
		const int has = actor.role;

		st_error_set(&err, ST_E_DENIED, "'steward %s' needs the 'admin' role; '%s' has %s%s%s",
			     ctx->verb, actor.name, has ? "the '" : "no role",
			     has ? audit_role_name(has) : "",
			     has ? "' role" : " (see 'roles' in steward.yaml)");
		code = cli_fail(&err);
		record_if_usable(&ws, ctx, &actor, purpose, AUDIT_DENIED,
				 "needs the 'admin' role");
		goto out;
	}
	if (audit_recover(ws.state_dir, STEWARD_VERSION, &actor, purpose, &rec,
			  &err)) {
		code = cli_fail(&err);
		if (err.code == ST_E_INVALID)
			record_if_usable(&ws, ctx, &actor, purpose, AUDIT_ERROR,
					 cli_audit_text(err.msg, reason_buf));
		goto out;
	}
	if (rec.moved_to[0]) {
		sodium_bin2hex(sha, sizeof(sha), rec.old_sha256, sizeof(rec.old_sha256));
		cli_printf("audit log recovered: the old log (%lld bytes, sha256 %s) is kept as '%s'\n",
		       (long long)rec.old_size, sha, rec.moved_to);
	} else {
		cli_printf("audit log recovered: the old log was missing\n");
	}
	cli_printf("the new log begins with record 1 (audit.recover), signed; export a new anchor "
	       "with 'steward audit checkpoint --export FILE'\n");
	code = 0;
out:
	catalog_config_release(&cfg);
	catalog_workspace_release(&ws);
	return code;
}

const struct cli_cmd cli_cmd_audit_verify = {"verify", "check the hash chain and signatures",
					     verify_usage, cmd_verify};
const struct cli_cmd cli_cmd_audit_checkpoint = {"checkpoint", "sign and export the head",
						 checkpoint_usage, cmd_checkpoint};
const struct cli_cmd cli_cmd_audit_log = {"log", "list audit records", log_usage, cmd_log};
const struct cli_cmd cli_cmd_audit_recover = {"recover", "start a new log after a lost one",
					      recover_usage, cmd_recover};

static const struct cli_cmd *const audit_cmds[] = {
	&cli_cmd_audit_verify, &cli_cmd_audit_checkpoint,  &cli_cmd_audit_log,
	&cli_cmd_audit_recover, &cli_cmd_audit_prove, &cli_cmd_audit_consistency,
	&cli_cmd_audit_check_proof};

static int cmd_audit(int argc, char **argv, struct cli_ctx *ctx)
{
	return cli_dispatch(audit_cmds, sizeof(audit_cmds) / sizeof(*audit_cmds), argc, argv, ctx,
			    "audit");
}

const struct cli_cmd cli_cmd_audit = {"audit", "verify and read the audit log",
				      "usage: steward audit verify|checkpoint|log|recover|prove|"
				      "consistency|check-proof [<args>]\n",
				      cmd_audit};
