/* `steward audit verify|checkpoint|log`: checking the hash chain and its signatures,
 * exporting the head for someone else to hold, and reading the log. The proof verbs are in
 * cmd_audit_proof.c. */
#include "cli.h"
#include "audit.h"

#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <string.h>

static const char verify_usage[] =
	"usage: steward audit verify [--anchor FILE] [--json]\n\n"
	"Recomputes the audit log's hash chain and Merkle tree and checks every signed\n"
	"checkpoint (the record it names and the tree root it signs). With\n"
	"--anchor, also checks that the log still holds the exported checkpoint FILE unchanged\n"
	"and is signed by its key: only this catches a log that was cut short or rewritten\n"
	"by someone holding the files (see docs/audit.md).\n"
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

extern const struct cli_cmd cli_cmd_audit_verify, cli_cmd_audit_checkpoint, cli_cmd_audit_log,
	cli_cmd_audit_prove, cli_cmd_audit_consistency, cli_cmd_audit_check_proof;


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
		json_t *doc = json_pack("{s:s, s:I, s:I, s:I, s:b}", "status",
					r ? "tampered" : "intact", "records", (json_int_t)res.records,
					"checkpoints", (json_int_t)res.checkpoints, "last_seq",
					(json_int_t)res.head_seq, "anchored", res.anchored);

		if (doc && r) {
			json_object_set_new(doc, "bad_seq", json_integer(res.bad_seq));
			json_object_set_new(doc, "problem", json_string(res.problem));
		}
		if (doc && res.head.seq) {
			json_t *cp = json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)res.head.seq,
					       "time", when, "hash", h);

			/* A format 2 checkpoint also names the Merkle tree it signed. */
			if (cp && res.head.version == 2) {
				hex(res.head.root, sizeof(res.head.root), h, sizeof(h));
				json_object_set_new(cp, "tree_size", json_integer(res.head.tree_size));
				json_object_set_new(cp, "root", json_string(h));
			}
			json_object_set_new(doc, "checkpoint", cp);
		}
		if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) {
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
		printf("audit log tampered: first bad seq %lld: %s\n", (long long)res.bad_seq,
		       res.problem);
		snprintf(ctx->counts, sizeof(ctx->counts), "{\"bad_seq\":%lld}",
			 (long long)res.bad_seq);
		return ST_FINDINGS;
	}
	printf("audit log intact: %lld records, %lld checkpoints verified\n",
	       (long long)res.records, (long long)res.checkpoints);
	if (res.head.seq)
		printf("head checkpoint: seq %lld, %s, %s\n", (long long)res.head.seq, when, h);
	if (res.anchored)
		printf("anchor: seq %lld matches\n", (long long)anchor.seq);
	else
		printf("no anchor given: a log cut short or re-signed by someone with the files "
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
	const char *export = NULL;
	char h[2 * AUDIT_HASH_BYTES + 1], when[40];
	int code;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_audit_checkpoint, opts, checkpoint_opt,
			  &export)) >= 0)
		return code;
	ctx->action = "audit.checkpoint";
	if ((code = cli_find_workspace(ctx, &ws)))
		return code;
	catalog_workspace_release(&ws);
	if (audit_checkpoint(cli_audit_log(), &cp, &err))
		return cli_fail(&err);
	if (!cp.seq) {
		st_error_set(&err, ST_E_NOTFOUND, "the audit log is empty");
		return cli_fail(&err);
	}
	if (export && audit_checkpoint_export(&cp, export, &err))
		return cli_fail(&err);
	hex(cp.hash, sizeof(cp.hash), h, sizeof(h));
	audit_time_format(cp.ts_ms, when, sizeof(when));
	printf("checkpoint seq %lld, %s, %s\n", (long long)cp.seq, when, h);
	if (export)
		printf("exported to '%s'; keep it where this machine's users cannot change it\n",
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
	if (out->json) {
		json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:s?, s:s?, s:s, s:s?, s:o?,"
				      " s:s, s:I, s:s, s:b}",
				      "seq", (json_int_t)r->seq, "time", when, "actor", r->actor,
				      "uid", (json_int_t)r->uid, "role", r->role, "action", r->action,
				      "object", r->object, "purpose", r->purpose, "outcome",
				      r->outcome, "reason", r->reason, "counts",
				      r->counts ? json_loads(r->counts, 0, NULL) : NULL, "host",
				      r->host, "pid", (json_int_t)r->pid, "version", r->version, "pii",
				      r->pii);

		return !o || json_array_append_new(out->arr, o);
	}
	printf("%6lld  %s  %-10s %-8s %-17s %-7s %s%s%s%s%s\n", (long long)r->seq, when, r->actor,
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
		code = json_dumpf(out.arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
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

const struct cli_cmd cli_cmd_audit_verify = {"verify", "check the hash chain and signatures",
					     verify_usage, cmd_verify};
const struct cli_cmd cli_cmd_audit_checkpoint = {"checkpoint", "sign and export the head",
						 checkpoint_usage, cmd_checkpoint};
const struct cli_cmd cli_cmd_audit_log = {"log", "list audit records", log_usage, cmd_log};

static const struct cli_cmd *const audit_cmds[] = {
	&cli_cmd_audit_verify,	&cli_cmd_audit_checkpoint,  &cli_cmd_audit_log,
	&cli_cmd_audit_prove, &cli_cmd_audit_consistency, &cli_cmd_audit_check_proof};

static int cmd_audit(int argc, char **argv, struct cli_ctx *ctx)
{
	return cli_dispatch(audit_cmds, sizeof(audit_cmds) / sizeof(*audit_cmds), argc, argv, ctx,
			    "audit");
}

const struct cli_cmd cli_cmd_audit = {"audit", "verify and read the audit log",
				      "usage: steward audit verify|checkpoint|log|prove|consistency|"
				      "check-proof [<args>]\n",
				      cmd_audit};
