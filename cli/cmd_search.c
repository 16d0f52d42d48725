/* `steward search QUERY`: ranked full-text search over the catalog. */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <string.h>

static const char usage[] =
	"usage: steward search QUERY [--kind K] [--tag T] [--owner O] [--domain D] [--pii]\n"
	"                      [--limit N] [--json]\n\n"
	"Searches names, descriptions, field names and descriptions, tags, owners and the\n"
	"glossary terms that refer to a dataset. Every word must match (as a prefix).\n"
	"Results are ranked by relevance; datasets tagged 'certified' are boosted.\n\n"
	"  --kind K     only this kind (event, table, topic, file, model, dashboard, source, term,\n"
	"               application: a dbt exposure)\n"
	"  --tag T      only datasets with this tag\n"
	"  --owner O    only datasets owned by O\n"
	"  --domain D   only datasets in domain D\n"
	"  --pii        only datasets with at least one PII field\n"
	"  --limit N    at most N results (default 20)\n"
	"  --json       print a JSON array of {name, kind, version, score, certified,\n"
	"               owner, description}\n\n"
	"Exit status: 0, also when nothing matched.\n";

static int cmd_search(int argc, char **argv, struct cli_ctx *ctx);

const struct cli_cmd cli_cmd_search = {"search", "search the catalog", usage, cmd_search};

static void print_json(const struct catalog_hits *hits)
{
	json_t *arr = catalog_hits_json(hits);

	cli_json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	putchar('\n');
	json_decref(arr);
}

/* Prints up to width columns of s, on one line, cutting at a character boundary; line
 * breaks and tabs become spaces and other controls are escaped. */
static void print_clipped(const char *s, int width)
{
	size_t i = 0, start = 0;
	int col = 0, cut = 0;

	for (; s && s[i] && col < width; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch & 0xC0) != 0x80)
			col++;
		if (col == width && s[i + 1]) {
			cut = 1;
			break;
		}
	}
	while (!cut && s && (s[i] & 0xC0) == 0x80) /* the rest of the last character */
		i++;
	for (size_t j = 0; j < i; j++)
		if (s[j] == '\n' || s[j] == '\t') {
			cli_fwrite_escaped(s + start, j - start, 0, stdout);
			putchar(' ');
			start = j + 1;
		}
	if (s)
		cli_fwrite_escaped(s + start, i - start, 0, stdout);
	if (cut)
		fputs("…", stdout);
}

static void print_text(const struct catalog_hits *hits)
{
	int width = cli_term_width(), namew = 4, kindw = 4;

	for (size_t i = 0; i < hits->n; i++) {
		int n = (int)strlen(hits->v[i].name), k = (int)strlen(hits->v[i].kind);

		namew = n > namew ? n : namew;
		kindw = k > kindw ? k : kindw;
	}
	namew = namew > 40 ? 40 : namew;
	cli_printf("%-6s  %-*s  %-*s  %s\n", "SCORE", namew, "NAME", kindw, "KIND", "DESCRIPTION");
	for (size_t i = 0; i < hits->n; i++) {
		const struct catalog_hit *h = &hits->v[i];
		int rest = width - 6 - namew - kindw - 6;

		cli_printf("%6.2f  %-*s  %-*s  ", h->score, namew, h->name, kindw, h->kind);
		if (h->certified) {
			fputs("[certified] ", stdout);
			rest -= 12;
		}
		if (h->observed) {
			fputs("[observed] ", stdout);
			rest -= 11;
		}
		print_clipped(h->description, !cli_isatty_out() ? 1 << 20 : rest > 10 ? rest : 10);
		putchar('\n');
	}
}

struct search_args {
	struct cli_ctx *ctx;
	struct catalog_search_opts *o;
	int json;
	long limit;
};

static int search_opt(int c, const char *arg, void *u)
{
	struct search_args *a = u;

	switch (c) {
	case 'k': a->o->kind = arg; break;
	case 't': a->o->tag = arg; break;
	case 'o': a->o->owner = arg; break;
	case 'd': a->o->domain = arg; break;
	case 'p': a->o->pii_only = 1; break;
	case 'j': a->json = 1; break;
	case 'n':
		if (cli_parse_count(a->ctx, "--limit", arg, &a->limit))
			return ST_E_USAGE;
		break;
	}
	return -1;
}

static int cmd_search(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {
		{"kind", required_argument, NULL, 'k'}, {"tag", required_argument, NULL, 't'},
		{"owner", required_argument, NULL, 'o'}, {"domain", required_argument, NULL, 'd'},
		{"pii", no_argument, NULL, 'p'},         {"limit", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},        CLI_COMMON_OPTIONS,
		{0}};
	struct catalog_search_opts o = {0};
	struct catalog_workspace ws = {0};
	struct catalog_hits hits = {0};
	struct st_error err = ST_ERROR_INIT;
	struct catalog *cat = NULL;
	struct search_args a = {ctx, &o, 0, 20};
	int code = 0, json;
	long limit;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_search, opts, search_opt, &a)) >= 0)
		return code;
	json = a.json;
	limit = a.limit;
	if (argc - optind != 1)
		return cli_usage_error(ctx, argc - optind ? "give the query as one argument (quote it)"
							  : "no query given");
	o.limit = (size_t)limit;
	ctx->action = "catalog.search"; /* the query may hold PII: it is not the object */
	code = cli_open_catalog(ctx, &ws, &cat);
	if (code)
		return code;
	if (catalog_search(cat, argv[optind], &o, &hits, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	if (json)
		print_json(&hits);
	else if (hits.n)
		print_text(&hits);
	if (!hits.total && !json)
		fputs("no matches\n", stderr); /* the query may hold personal data: not echoed */
	else if (hits.total > hits.n && !json)
		cli_fprintf(stderr, "%zu of %zu matches; use --limit for more\n", hits.n, hits.total);
	if (hits.restricted)
		cli_fprintf(stderr,
			"note: over %d datasets match, so only those matching in their name, tags or\n"
			"glossary terms were ranked; add words or filters to narrow the search\n",
			CATALOG_SEARCH_RANK_ALL);
out:
	catalog_hits_release(&hits);
	catalog_free(cat);
	catalog_workspace_release(&ws);
	return code;
}
