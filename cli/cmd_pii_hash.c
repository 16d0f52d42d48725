/* `steward pii hash --category CAT VALUE...`: the pseudonym of a value under the current key
 * (or an older one), so analysts and request handling can find a person's rows. */
#include "cli.h"
#include "alloc.h"
#include "pii.h"

#include <getopt.h>
#include <sodium.h>
#include <string.h>

#define MAX_LINE 4096

static const char usage[] =
	"usage: steward pii hash --category CAT --purpose TEXT [--normalize email|phone|ip|none]\n"
	"                        [--key ID] (VALUE... | --stdin)\n\n"
	"Prints the pseudonym of each value, one per line, as steward ingest writes it: the\n"
	"value is normalized (by default as its category implies: e-mail, phone and IP\n"
	"categories), then hashed with the category's subkey of the current key.\n\n"
	"  --category CAT   the data category, e.g. user.contact.email (required)\n"
	"  --purpose TEXT   why you look the person up, e.g. a ticket number (required; it\n"
	"                   goes to the audit log, so never put personal data in it)\n"
	"  --normalize N    override the normalizer\n"
	"  --key ID         use an older key that is not retired (e.g. k1)\n"
	"  --stdin          read values from standard input, one per line, so that they\n"
	"                   stay out of shell history and the process list\n\n"
	"Exit status: 0, 3 when a value cannot be normalized, 4 without keys.\n";

static int cmd_hash(int argc, char **argv, struct cli_ctx *ctx);

const struct cli_cmd cli_cmd_pii_hash = {"hash", "print the pseudonym of a value", usage,
					 cmd_hash};

struct hash_run {
	struct pii_pseudonymizer *h;
	const char *category;
	const char *country;
	int norm;
	size_t n;
};

/* Hashes one value; problems name the value's position, never the value. */
static int hash_one(struct hash_run *r, const char *v, size_t len)
{
	char out[PII_PSEUDONYM_MAX];
	struct st_error err = ST_ERROR_INIT;
	int n;

	r->n++;
	if (pii_subject_check(v, len, &err)) {
		st_error_prefix(&err, "value %zu is refused", r->n);
		return cli_fail(&err);
	}
	n = pii_pseudonymize(r->h, r->norm, r->category, v, len, r->country, out, &err);
	if (n == PII_NOT_OF_KIND) {
		st_error_set(&err, ST_E_INVALID, "value %zu is not a valid %s", r->n,
			     pii_norm_noun(r->norm));
		return cli_fail(&err);
	}
	if (n < 0)
		return cli_fail(&err);
	puts(out);
	return 0;
}

static int hash_stdin(struct hash_run *r)
{
	char line[MAX_LINE + 2];
	int code = 0, ch = 0;

	while (!code && ch != EOF) {
		size_t len = 0;

		/* byte by byte, so that a NUL inside a line is seen and refused, not cut at */
		while ((ch = getchar()) != EOF && ch != '\n' && len <= MAX_LINE)
			line[len++] = (char)ch;
		if (len > MAX_LINE) {
			struct st_error err = ST_ERROR_INIT;

			st_error_set(&err, ST_E_INVALID, "value %zu is longer than %d bytes", r->n + 1,
				     MAX_LINE);
			code = cli_fail(&err);
			break;
		}
		if (ch == EOF && !len)
			break;
		if (len && line[len - 1] == '\r')
			len--;
		line[len] = '\0';
		code = hash_one(r, line, len);
	}
	sodium_memzero(line, sizeof(line));
	return code;
}

struct hash_args {
	struct cli_ctx *ctx;
	struct hash_run *run;
	const char *key_id, *norm;
	int from_stdin;
};

static int hash_opt(int c, const char *arg, void *u)
{
	struct hash_args *a = u;

	switch (c) {
	case 'c': a->run->category = arg; break;
	case 'n': a->norm = arg; break;
	case 'k': a->key_id = arg; break;
	case 's': a->from_stdin = 1; break;
	case 'p': a->ctx->purpose = arg; break;
	}
	return -1;
}

static int cmd_hash(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {{"category", required_argument, NULL, 'c'},
					     {"normalize", required_argument, NULL, 'n'},
					     {"key", required_argument, NULL, 'k'},
					     {"stdin", no_argument, NULL, 's'},
					     {"purpose", required_argument, NULL, 'p'},
					     CLI_COMMON_OPTIONS,
					     {0}};
	struct catalog_workspace ws = {0};
	struct pii_keyring kr = {0};
	struct st_error err = ST_ERROR_INIT;
	struct hash_run run = {0};
	const struct pii_key *key;
	struct hash_args a = {ctx, &run, NULL, NULL, 0};
	const char *key_id, *norm;
	char *dir = NULL;
	int code = 0, from_stdin;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_pii_hash, opts, hash_opt, &a)) >= 0)
		return code;
	key_id = a.key_id;
	norm = a.norm;
	from_stdin = a.from_stdin;
	if (!run.category)
		return cli_usage_error(ctx, "--category is required");
	if (!ctx->purpose || !*ctx->purpose)
		return cli_usage_error(ctx, "--purpose is required: a pseudonym look-up is audited "
					    "with its reason");
	if (from_stdin == (optind < argc))
		return cli_usage_error(ctx, from_stdin ? "give values or --stdin, not both"
						       : "no values given (or use --stdin)");
	run.norm = norm ? pii_norm_parse(norm) : pii_norm_for_category(run.category);
	if (run.norm < 0)
		return cli_usage_error(ctx, "unknown normalizer '%s' (email, phone, ip or none)",
				       norm);
	if (catalog_category_check(run.category, &err))
		return cli_fail(&err);
	ctx->action = "pii.hash";
	ctx->object = run.category;
	if ((code = cli_find_workspace(ctx, &ws)))
		return code;
	if (!(dir = catalog_workspace_state_path(&ws, "keys")) ||
	    pii_keyring_open(&kr, dir, 1, &err)) {
		if (!dir && !err.code)
			st_error_oom(&err);
		code = cli_fail(&err);
		goto out;
	}
	key = key_id ? pii_keyring_find(&kr, key_id) : pii_keyring_current(&kr);
	if (!key || !key->secret) {
		st_error_set(&err, ST_E_NOTFOUND,
			     key ? "key '%s' is retired" : "no key '%s' (see 'steward key list')",
			     key_id);
		code = cli_fail(&err);
		goto out;
	}
	run.country = pii_country_calling_code(catalog_config_str(cli_config(), "pii.default_country"));
	if (pii_pseudonymizer_new(&run.h, key, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	if (from_stdin)
		code = hash_stdin(&run);
	for (int i = optind; !code && i < argc; i++)
		code = hash_one(&run, argv[i], strlen(argv[i]));
out:
	pii_pseudonymizer_free(run.h);
	pii_keyring_release(&kr);
	st_free(dir);
	catalog_workspace_release(&ws);
	return code;
}
