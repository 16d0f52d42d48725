/* `steward audit prove|consistency|check-proof`: Merkle proofs of the audit log, that one
 * record is in it and that it extends an exported anchor, and their checking anywhere. */
#include "cli.h"
#include "audit.h"

#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char prove_usage[] =
	"usage: steward audit prove SEQ [--json]\n\n"
	"Prints an inclusion proof of record SEQ against the latest signed checkpoint (the head\n"
	"of the log is signed first unless it is already): the record, its hash (the leaf),\n"
	"the tree size and root, the audit path of O(log n) hashes, and the checkpoint with its\n"
	"signature and public key. With --json, prints the proof document; anyone can check it\n"
	"with 'steward audit check-proof FILE' or docs/verify_proof.py, without the workspace.\n";

static const char consistency_usage[] =
	"usage: steward audit consistency FILE [--json]\n\n"
	"Proves that today's log (its latest signed checkpoint) extends the anchor FILE written\n"
	"earlier by 'steward audit checkpoint --export': prints the consistency proof and\n"
	"checks it. Exit status: 0 consistent, 1 not (the first records were changed or cut,\n"
	"or the log is signed by another key), 2 when FILE cannot be used.\n";

static const char check_usage[] =
	"usage: steward audit check-proof FILE [--public-key KEY] [--json]\n\n"
	"Checks a proof written by 'steward audit prove --json' or 'steward audit consistency\n"
	"--json' on its own: no workspace is needed. KEY is the log's public key as 64 hex\n"
	"digits, or a file holding it or an anchor; without it, the key inside the proof is\n"
	"used, and is only as good as your copy of it. Exit status: 0 the proof holds, 1 it\n"
	"does not (the reason is printed), 2 when FILE or KEY cannot be read.\n";

extern const struct cli_cmd cli_cmd_audit_prove, cli_cmd_audit_consistency,
	cli_cmd_audit_check_proof;

static void hex(const unsigned char *b, size_t n, char *out, size_t outn)
{
	sodium_bin2hex(out, outn, b, n);
}

/* Prints the "path" array of doc, one numbered hash a line. */
static void print_path(json_t *doc)
{
	json_t *path = json_object_get(doc, "path"), *v;
	size_t i;

	cli_printf("path:        %zu hashes%s\n", json_array_size(path),
	       json_array_size(path) ? ", deepest first" : "");
	json_array_foreach(path, i, v)
	{
		cli_printf("  %2zu         %s\n", i + 1, json_string_value(v));
	}
}

/* Signs the head unless it is signed, into cp; fails on an empty log. Returns 0 or an exit
 * code after printing. */
static int head_checkpoint(struct audit_checkpoint *cp)
{
	struct st_error err = ST_ERROR_INIT;

	if (audit_checkpoint(cli_audit_log(), cp, &err))
		return cli_fail(&err);
	if (!cp->seq) {
		st_error_set(&err, ST_E_NOTFOUND, "the audit log is empty");
		return cli_fail(&err);
	}
	return 0;
}

/* ---- prove ------------------------------------------------------------------------------ */

static int cmd_prove(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS,
					     {"json", no_argument, NULL, 'j'},
					     {0}};
	struct st_error err = ST_ERROR_INIT;
	struct catalog_workspace ws;
	struct audit_checkpoint cp;
	struct audit_proof_result res;
	json_t *doc = NULL, *rec;
	char h[2 * AUDIT_SIG_BYTES + 1], when[40];
	long seq;
	int json = 0, code;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_audit_prove, opts, cli_json_option,
			       &json)) >= 0)
		return code;
	if (optind + 1 != argc)
		return cli_usage_error(ctx, "give one record number (SEQ)");
	if (cli_parse_count(ctx, "SEQ", argv[optind], &seq))
		return ST_E_USAGE;
	ctx->action = "audit.prove";
	if ((code = cli_find_workspace(ctx, &ws)))
		return code;
	catalog_workspace_release(&ws);
	if ((code = head_checkpoint(&cp)))
		return code;
	if (audit_prove(audit_db(cli_audit_log()), &cp, seq, &doc, &err))
		return cli_fail(&err);
	/* A proof that does not hold is never handed out: the stored tree is damaged. */
	if (audit_proof_check(doc, cp.public_key, &res)) {
		json_decref(doc);
		st_error_set(&err, ST_E_SYSTEM,
			     "the proof of record %ld does not hold (%s): the audit log is damaged; "
			     "run 'steward audit verify'",
			     seq, res.problem);
		return cli_fail(&err);
	}
	snprintf(ctx->counts, sizeof(ctx->counts), "{\"seq\":%ld,\"tree_size\":%lld}", seq,
		 (long long)cp.tree_size);
	if (json)
		return cli_print_json(doc);
	rec = json_object_get(doc, "record");
	cli_printf("inclusion proof: record %ld is leaf %ld of the Merkle tree of %lld records\n", seq,
	       seq - 1, (long long)cp.tree_size);
	cli_printf("record:      %s by %s, %s\n",
	       json_string_value(json_object_get(rec, "action")),
	       json_string_value(json_object_get(rec, "actor")),
	       json_string_value(json_object_get(rec, "outcome")));
	cli_printf("leaf:        %s\n", json_string_value(json_object_get(doc, "leaf")));
	cli_printf("tree size:   %lld\n", (long long)cp.tree_size);
	hex(cp.root, sizeof(cp.root), h, sizeof(h));
	cli_printf("root:        %s\n", h);
	print_path(doc);
	audit_time_format(cp.ts_ms, when, sizeof(when));
	cli_printf("checkpoint:  seq %lld, %s\n", (long long)cp.seq, when);
	hex(cp.signature, sizeof(cp.signature), h, sizeof(h));
	cli_printf("signature:   %s\n", h);
	hex(cp.public_key, sizeof(cp.public_key), h, sizeof(h));
	cli_printf("public key:  %s\n", h);
	cli_printf("proof holds; save it with --json and check it anywhere with "
	       "'steward audit check-proof FILE'\n");
	json_decref(doc);
	return 0;
}

/* ---- consistency -------------------------------------------------------------------------- */

/* Reports that the log does not extend the anchor; returns ST_FINDINGS. */
static int inconsistent(struct cli_ctx *ctx, int json, const char *problem)
{
	snprintf(ctx->counts, sizeof(ctx->counts), "{\"consistent\":false}");
	if (json) {
		json_t *doc = json_pack("{s:b, s:s}", "consistent", 0, "problem", problem);
		int code = cli_print_json(doc);

		return code ? code : ST_FINDINGS;
	}
	cli_printf("not consistent: %s\n", problem);
	return ST_FINDINGS;
}

static int cmd_consistency(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS,
					     {"json", no_argument, NULL, 'j'},
					     {0}};
	struct st_error err = ST_ERROR_INIT;
	struct catalog_workspace ws;
	struct audit_checkpoint anchor, cp;
	struct audit_proof_result res;
	unsigned char root[AUDIT_HASH_BYTES];
	char problem[300], h[2 * AUDIT_HASH_BYTES + 1], when[40];
	json_t *doc = NULL;
	int json = 0, code;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_audit_consistency, opts, cli_json_option,
			       &json)) >= 0)
		return code;
	if (optind + 1 != argc)
		return cli_usage_error(ctx, "give one anchor FILE");
	if (audit_anchor_read(argv[optind], &anchor, &err)) {
		cli_fail(&err);
		return ST_E_USAGE;
	}
	if (anchor.version != 2) {
		st_error_set(&err, ST_E_INVALID,
			     "the anchor '%s' has no Merkle root (it was exported before steward kept "
			     "one); check it with 'steward audit verify --anchor'",
			     argv[optind]);
		cli_fail(&err);
		return ST_E_USAGE;
	}
	ctx->action = "audit.consistency";
	if ((code = cli_find_workspace(ctx, &ws)))
		return code;
	catalog_workspace_release(&ws);
	if ((code = head_checkpoint(&cp)))
		return code;
	if (memcmp(anchor.public_key, cp.public_key, AUDIT_PK_BYTES))
		return inconsistent(ctx, json, "the log is signed by another key than the anchor's");
	if (anchor.tree_size > cp.tree_size) {
		snprintf(problem, sizeof(problem),
			 "the log ends at seq %lld, before the anchor's seq %lld: records were removed",
			 (long long)cp.tree_size, (long long)anchor.tree_size);
		return inconsistent(ctx, json, problem);
	}
	if (audit_merkle_root_at(audit_db(cli_audit_log()), anchor.tree_size, root, &err))
		return cli_fail(&err);
	if (memcmp(root, anchor.root, AUDIT_HASH_BYTES)) {
		snprintf(problem, sizeof(problem),
			 "the log's first %lld records have another Merkle root than the anchor's: "
			 "records up to seq %lld were changed",
			 (long long)anchor.tree_size, (long long)anchor.tree_size);
		return inconsistent(ctx, json, problem);
	}
	if (audit_prove_consistency(audit_db(cli_audit_log()), &anchor, &cp, &doc, &err))
		return cli_fail(&err);
	if (audit_proof_check(doc, anchor.public_key, &res)) {
		json_decref(doc);
		snprintf(problem, sizeof(problem), "%s", res.problem);
		return inconsistent(ctx, json, problem);
	}
	snprintf(ctx->counts, sizeof(ctx->counts),
		 "{\"consistent\":true,\"anchor_seq\":%lld,\"tree_size\":%lld}",
		 (long long)anchor.tree_size, (long long)cp.tree_size);
	if (json)
		return cli_print_json(doc);
	cli_printf("consistency proof: the log of %lld records extends the anchor's log of %lld "
	       "records\n",
	       (long long)cp.tree_size, (long long)anchor.tree_size);
	hex(anchor.root, sizeof(anchor.root), h, sizeof(h));
	audit_time_format(anchor.ts_ms, when, sizeof(when));
	cli_printf("old root:    %s (seq %lld, %s, from the anchor)\n", h, (long long)anchor.seq,
	       when);
	hex(cp.root, sizeof(cp.root), h, sizeof(h));
	audit_time_format(cp.ts_ms, when, sizeof(when));
	cli_printf("new root:    %s (seq %lld, %s)\n", h, (long long)cp.seq, when);
	print_path(doc);
	cli_printf("verified: records 1 to %lld are unchanged since the anchor\n",
	       (long long)anchor.tree_size);
	json_decref(doc);
	return 0;
}

/* ---- check-proof -------------------------------------------------------------------------- */

struct check_opts {
	const char *key;
	int json;
};

static int check_opt(int c, const char *arg, void *u)
{
	struct check_opts *o = u;

	if (c == 'k')
		o->key = arg;
	else
		o->json = 1;
	return -1;
}

static int cmd_check_proof(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS,
					     {"public-key", required_argument, NULL, 'k'},
					     {"json", no_argument, NULL, 'j'},
					     {0}};
	struct st_error err = ST_ERROR_INIT;
	struct check_opts o = {0};
	struct audit_proof_result res;
	unsigned char pk[AUDIT_PK_BYTES];
	char h[2 * AUDIT_HASH_BYTES + 1], when[40], old_when[40];
	json_t *doc = NULL, *out;
	int code, bad;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_audit_check_proof, opts, check_opt,
			       &o)) >= 0)
		return code;
	if (optind + 1 != argc)
		return cli_usage_error(ctx, "give one proof FILE");
	if ((o.key && audit_public_key_read(o.key, pk, &err)) ||
	    audit_proof_read(argv[optind], &doc, &err)) {
		cli_fail(&err);
		return ST_E_USAGE;
	}
	bad = audit_proof_check(doc, o.key ? pk : NULL, &res);
	json_decref(doc);
	hex(res.public_key, sizeof(res.public_key), h, sizeof(h));
	audit_time_format(res.ts_ms, when, sizeof(when));
	audit_time_format(res.old_ts_ms, old_when, sizeof(old_when));
	if (o.json) {
		out = json_pack("{s:s, s:s}", "status", bad ? "rejected" : "good", "type",
				res.type == AUDIT_PROOF_INCLUSION	? "inclusion"
				: res.type == AUDIT_PROOF_CONSISTENCY ? "consistency"
								      : "unknown");
		if (out && bad)
			json_object_set_new(out, "problem", json_string(res.problem));
		if (out && !bad && res.type == AUDIT_PROOF_INCLUSION)
			json_object_set_new(out, "seq", json_integer(res.seq));
		if (out && !bad && res.type == AUDIT_PROOF_CONSISTENCY)
			json_object_set_new(out, "old_tree_size", json_integer(res.old_size));
		if (out && !bad) {
			json_object_set_new(out, "tree_size", json_integer(res.tree_size));
			json_object_set_new(out, "public_key", json_string(h));
			json_object_set_new(out, "key_given", json_boolean(res.key_given));
		}
		code = cli_print_json(out);
		return code ? code : bad ? ST_FINDINGS : 0;
	}
	if (bad) {
		cli_printf("proof rejected: %s\n", res.problem);
		return ST_FINDINGS;
	}
	if (res.type == AUDIT_PROOF_INCLUSION)
		cli_printf("proof holds: record %lld is in the audit log of %lld records signed at %s\n",
		       (long long)res.seq, (long long)res.tree_size, when);
	else
		cli_printf("proof holds: the audit log of %lld records signed at %s extends the one of "
		       "%lld records signed at %s\n",
		       (long long)res.tree_size, when, (long long)res.old_size, old_when);
	if (res.key_given)
		cli_printf("signed with public key %s (given)\n", h);
	else
		cli_printf("signed with public key %s (taken from the proof: compare it with a copy you "
		       "trust, or pass --public-key)\n",
		       h);
	return 0;
}

const struct cli_cmd cli_cmd_audit_prove = {"prove", "prove that a record is in the log",
					    prove_usage, cmd_prove};
const struct cli_cmd cli_cmd_audit_consistency = {
	"consistency", "prove that the log extends an anchor", consistency_usage,
	cmd_consistency};
const struct cli_cmd cli_cmd_audit_check_proof = {
	"check-proof", "check a proof without the workspace", check_usage, cmd_check_proof};
