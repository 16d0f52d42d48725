/* `steward lineage NAME[.FIELD]`: lineage as a tree, JSON or Graphviz DOT. */
#include "cli.h"
#include "alloc.h"
#include "buf.h"

#include <getopt.h>
#include <jansson.h>
#include <string.h>

static const char usage[] =
	"usage: steward lineage NAME[.FIELD] [--up|--down|--both] [--depth N] [--json|--dot]\n"
	"       steward lineage import [--rejects FILE] [--json] FILE|DIR|-...\n\n"
	"Follows lineage from a dataset (lineage.upstream) or, given dataset.field, from a\n"
	"column (from:). Prints a tree; a node met again is marked '(see above)'. Cycles end.\n"
	"Undeclared datasets and fields are shown as external.\n\n"
	"  --up         towards sources (default)\n"
	"  --down       towards consumers\n"
	"  --both       both directions\n"
	"  --depth N    at most N hops (default 20); a cut is reported\n"
	"  --json       {root, column, direction, depth, truncated, nodes: [{name, kind,\n"
	"               external, depth}], edges: [{from, to}]}; edges follow the data flow\n"
	"  --dot        Graphviz DOT (render with: dot -Tsvg)\n\n"
	"Exit status: 0, or 4 when NAME is unknown.\n";

static int cmd_lineage(int argc, char **argv, struct cli_ctx *ctx);

const struct cli_cmd cli_cmd_lineage = {"lineage", "follow lineage up or down", usage,
					cmd_lineage};

/* Children of each node on one side, in compressed form: kids[start[i] .. start[i+1]). */
struct adj {
	size_t *start, *kids;
};

static int build_adj(const struct catalog_lineage *g, int up, struct adj *a)
{
	size_t *fill;

	a->start = st_calloc(g->nnodes + 1, sizeof(size_t));
	a->kids = st_calloc(g->nedges ? g->nedges : 1, sizeof(size_t));
	fill = st_calloc(g->nnodes + 1, sizeof(size_t));
	if (!a->start || !a->kids || !fill) {
		st_free(fill);
		return -1;
	}
	for (size_t i = 0; i < g->nedges; i++)
		a->start[(up ? g->edges[i].to : g->edges[i].from) + 1]++;
	for (size_t i = 0; i < g->nnodes; i++)
		a->start[i + 1] += a->start[i];
	for (size_t i = 0; i < g->nedges; i++) {
		size_t parent = up ? g->edges[i].to : g->edges[i].from;
		size_t kid = up ? g->edges[i].from : g->edges[i].to;

		a->kids[a->start[parent] + fill[parent]++] = kid;
	}
	st_free(fill);
	return 0;
}

static void adj_release(struct adj *a)
{
	st_free(a->start);
	st_free(a->kids);
}

struct tree {
	const struct catalog_lineage *g;
	struct adj adj;
	unsigned char *state; /* 0 unseen, 1 on the current path, 2 printed */
	char prefix[4 * 256];
	int dir;
};

static void label(const struct catalog_lnode *n)
{
	cli_printf("%s (%s)", n->name, n->kind ? n->kind : "external");
}

static void print_tree(struct tree *t, size_t node, size_t plen)
{
	const struct adj *a = &t->adj;

	t->state[node] = 1;
	for (size_t k = a->start[node]; k < a->start[node + 1]; k++) {
		size_t kid = a->kids[k];
		int last = k + 1 == a->start[node + 1];
		const struct catalog_lnode *n = &t->g->nodes[kid];

		if (!(n->sides & t->dir))
			continue;
		cli_printf("%.*s%s", (int)plen, t->prefix, last ? "└── " : "├── ");
		label(n);
		if (t->state[kid] == 1) {
			puts("  (cycle)");
			continue;
		}
		if (t->state[kid] == 2) {
			puts(a->start[kid] < a->start[kid + 1] ? "  (see above)" : "");
			continue;
		}
		putchar('\n');
		if (plen + 8 < sizeof(t->prefix)) {
			const char *ext = last ? "    " : "│   ";
			size_t elen = strlen(ext);

			memcpy(t->prefix + plen, ext, elen);
			print_tree(t, kid, plen + elen);
		}
	}
	t->state[node] = 2;
}

static int print_text(const struct catalog_lineage *g, int dir)
{
	static const int sides[] = {CATALOG_UP, CATALOG_DOWN};

	for (int s = 0; s < 2; s++) {
		struct tree t;

		if (!(dir & sides[s]))
			continue;
		memset(&t, 0, sizeof(t));
		t.g = g;
		t.dir = sides[s];
		t.state = st_calloc(g->nnodes, 1);
		if (!t.state || build_adj(g, sides[s] == CATALOG_UP, &t.adj)) {
			st_free(t.state);
			adj_release(&t.adj);
			return -1;
		}
		if (dir == CATALOG_BOTH && s)
			putchar('\n');
		if (dir == CATALOG_BOTH)
			cli_printf("%s of %s:\n",
			       sides[s] == CATALOG_UP ? "upstream" : "downstream", g->nodes[0].name);
		label(&g->nodes[0]);
		putchar('\n');
		if (t.adj.start[1] == t.adj.start[0])
			cli_printf("  (no %s lineage)\n", sides[s] == CATALOG_UP ? "upstream" : "downstream");
		print_tree(&t, 0, 0);
		st_free(t.state);
		adj_release(&t.adj);
	}
	return 0;
}

static int print_json(const struct catalog_lineage *g, int dir)
{
	json_t *o = catalog_lineage_json(g, dir);
	int ret;

	if (!o)
		return -1;
	ret = cli_json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(o);
	return ret;
}

/* The DOT is built by the library (catalog_lineage_dot(), which the server lays out as
 * SVG too), its names escaped there. */
static int print_dot(const struct catalog_lineage *g)
{
	struct st_buf b;
	int ret;

	st_buf_init(&b, (size_t)1 << 30);
	ret = catalog_lineage_dot(g, NULL, &b) ||
	      fwrite(b.p ? b.p : "", 1, b.len, stdout) != b.len ? -1 : 0;
	st_buf_release(&b);
	return ret;
}

struct lineage_args {
	struct cli_ctx *ctx;
	int dir, format;
	long depth;
};

static int lineage_opt(int c, const char *arg, void *u)
{
	struct lineage_args *a = u;

	switch (c) {
	case 'u': a->dir |= CATALOG_UP; break;
	case 'd': a->dir |= CATALOG_DOWN; break;
	case 'b': a->dir = CATALOG_BOTH; break;
	case 'j':
	case 'g':
		if (a->format && a->format != c)
			return cli_usage_error(a->ctx, "--json and --dot cannot be combined");
		a->format = c;
		break;
	case 'n':
		if (cli_parse_count(a->ctx, "--depth", arg, &a->depth))
			return ST_E_USAGE;
		break;
	}
	return -1;
}

static int cmd_lineage(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {
		{"up", no_argument, NULL, 'u'},   {"down", no_argument, NULL, 'd'},
		{"both", no_argument, NULL, 'b'}, {"depth", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'}, {"dot", no_argument, NULL, 'g'},
		CLI_COMMON_OPTIONS,               {0}};
	struct catalog_workspace ws = {0};
	struct catalog_lineage g = {0};
	struct st_error err = ST_ERROR_INIT;
	struct catalog *cat = NULL;
	struct lineage_args a = {ctx, 0, 0, CATALOG_LINEAGE_DEFAULT_DEPTH};
	int code = 0, dir, format;
	long depth;

	/* A dataset name always has a dot, so 'import' can only be the subcommand. */
	if (argc > 1 && !strcmp(argv[1], "import")) {
		ctx->verb = "lineage import";
		return cli_cmd_lineage_import.exec(argc - 1, argv + 1, ctx);
	}
	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_lineage, opts, lineage_opt, &a)) >= 0)
		return code;
	dir = a.dir;
	format = a.format;
	depth = a.depth;
	if (argc - optind != 1)
		return cli_usage_error(ctx, argc - optind ? "'lineage' takes one name"
							  : "no dataset name given");
	if (!dir)
		dir = CATALOG_UP;
	ctx->action = "catalog.lineage";
	ctx->object = argv[optind];
	code = cli_open_catalog(ctx, &ws, &cat);
	if (code)
		return code;
	if (catalog_lineage_get(cat, argv[optind], dir, (int)depth, &g, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	if (format == 'j')
		code = print_json(&g, dir);
	else if (format == 'g')
		code = print_dot(&g);
	else
		code = print_text(&g, dir);
	if (code) {
		st_error_set(&err, ST_E_SYSTEM, "out of memory");
		code = cli_fail(&err);
		goto out;
	}
	if (g.truncated)
		cli_fprintf(stderr, "note: the depth limit of %d cut the graph; use --depth for more\n",
			g.depth);
out:
	catalog_lineage_release(&g);
	catalog_free(cat);
	catalog_workspace_release(&ws);
	return code;
}
