/* `steward show NAME`: the dataset card. */
#include "cli.h"
#include "pii_map.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: steward show NAME [--version N] [--json]\n\n"
	"Shows the dataset card: metadata, the field tree with type, pii, category and\n"
	"transform, the class a field inherits through column lineage when it is stronger\n"
	"than the one it declares, versions, upstream and downstream datasets, and the\n"
	"glossary terms that refer to it. For a glossary term, shows what it relates to.\n\n"
	"  --version N  a specific version (default: the latest)\n"
	"  --json       print the card as JSON\n\n"
	"Exit status: 0, or 4 when there is no such dataset.\n";

static int cmd_show(int argc, char **argv, struct cli_ctx *ctx);

const struct cli_cmd cli_cmd_show = {"show", "show a dataset card", usage, cmd_show};

static int print_json(const struct catalog_card *k, const struct pii_graph *g,
		      const struct catalog_ol_info *ol)
{
	json_t *o = pii_card_json(k, g, ol);
	int ret;

	if (!o)
		return -1;
	ret = cli_json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(o);
	return ret;
}

static void meta_line(const char *label, const char *value)
{
	if (value && *value)
		cli_printf("  %-13s %s\n", label, value);
}

static void print_refs(const char *title, const struct catalog_ref *v, size_t n)
{
	if (!n)
		return;
	cli_printf("\n%s\n", title);
	for (size_t i = 0; i < n; i++)
		cli_printf("  %s (%s)\n", v[i].name, v[i].kind ? v[i].kind : "external");
}

/* The last segment of a dotted path: what the tree shows at each level. */
static const char *leaf(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot ? dot + 1 : path;
}

static void print_fields(const struct catalog_card *k, const struct pii_graph *g)
{
	int namew = 5, typew = 4, catw = 8;

	for (size_t i = 0; i < k->nfields; i++) {
		const struct catalog_field *f = &k->fields[i];
		int n = 2 * f->depth + (int)strlen(leaf(f->path)) + (f->required ? 1 : 0);
		int t = (int)strlen(f->type ? f->type : "") +
			(f->item_type ? (int)strlen(f->item_type) + 2 : 0);
		int c = f->category ? (int)strlen(f->category) : 1;

		namew = n > namew ? n : namew;
		typew = t > typew ? t : typew;
		catw = c > catw ? c : catw;
	}
	cli_printf("\nFields (* required)\n  %-*s  %-*s  %-12s  %-*s  %s\n", namew, "FIELD", typew,
	       "TYPE", "PII", catw, "CATEGORY", "TRANSFORM");
	for (size_t i = 0; i < k->nfields; i++) {
		const struct catalog_field *f = &k->fields[i];
		struct pii_field pf, src;
		char name[512], type[128];

		snprintf(name, sizeof(name), "%*s%s%s", 2 * f->depth, "", leaf(f->path),
			 f->required ? "*" : "");
		snprintf(type, sizeof(type), "%s%s%s%s", f->type ? f->type : "-",
			 f->item_type ? "<" : "", f->item_type ? f->item_type : "",
			 f->item_type ? ">" : "");
		cli_printf("  %-*s  %-*s  %-12s  %-*s  %s", namew, name, typew, type,
			   pii_card_field_untagged(g, i, f) ? "untagged" : f->pii, catw,
			   f->category ? f->category : "-", f->transform ? f->transform : "-");
		if (f->normalize)
			cli_printf(" (normalize %s)", f->normalize);
		if (f->scan)
			cli_printf(" (scan)");
		if (f->nullable)
			cli_printf(" nullable");
		putchar('\n');
		for (size_t j = 0; j < f->nfrom; j++)
			if (f->from_how[j])
				cli_printf("  %*s  <- %s (%s)\n", namew, "", f->from[j], f->from_how[j]);
			else
				cli_printf("  %*s  <- %s\n", namew, "", f->from[j]);
		if (pii_card_field_derived(g, i, f, &pf, &src))
			cli_printf("  %*s  <- derived %s from %s.%s\n", namew, "",
			       pii_map_class_name(pf.cls), src.dataset, src.path);
		if (f->pii_reason)
			cli_printf("  %*s  pii_reason: %s\n", namew, "", f->pii_reason);
	}
}

/* Constraints: one line each, "not_null customer_id", "relationships customer_id ->
 * shop.customers.customer_id", "accepted_values status: [...]". */
static void print_constraints(const struct catalog_card *k)
{
	if (!k->nconstraints)
		return;
	cli_printf("\nConstraints\n");
	for (size_t i = 0; i < k->nconstraints; i++) {
		const struct catalog_constraint *x = &k->constraints[i];

		cli_printf("  %-16s %s", x->kind, x->field ? x->field : "(table)");
		if (x->ref_ds)
			cli_printf(" -> %s.%s", x->ref_ds, x->ref_field ? x->ref_field : "?");
		if (x->detail)
			cli_printf(" in %s", x->detail);
		putchar('\n');
	}
}

/* Aliases and properties (dbt's unique_id, materialization, file, meta...). */
static void print_extras(const struct catalog_card *k)
{
	if (k->naliases) {
		cli_printf("\nAliases\n");
		for (size_t i = 0; i < k->naliases; i++)
			cli_printf("  %s\n", k->aliases[i]);
	}
	if (k->nprops) {
		int w = 4;

		for (size_t i = 0; i < k->nprops; i++)
			w = (int)strlen(k->props[i].key) > w ? (int)strlen(k->props[i].key) : w;
		cli_printf("\nProperties\n");
		for (size_t i = 0; i < k->nprops; i++)
			cli_printf("  %-*s  %s\n", w, k->props[i].key, k->props[i].value);
	}
}

/* The free-text detectors' settings, when the dataset declares them or has a field to
 * scan: "threshold 70; phone regions AT,CH and the default US,...; each record's country
 * from address.country". */
static void print_detect(const struct catalog_card *k)
{
	int scan = 0;

	for (size_t i = 0; i < k->nfields; i++)
		scan |= k->fields[i].scan;
	if (!scan && !k->detect_threshold && !k->detect_regions && !k->detect_country_field)
		return;
	cli_printf("  %-13s threshold %d%s; phone regions %s%s%s", "detect",
		   k->detect_threshold ? k->detect_threshold : PII_SCORE_THRESHOLD,
		   k->detect_threshold ? "" : " (default)",
		   k->detect_regions ? k->detect_regions : "",
		   k->detect_regions ? " and the default " : "", pii_builtin_regions());
	if (k->detect_country_field)
		cli_printf("; each record's country from %s", k->detect_country_field);
	cli_printf("\n");
}

static void print_text(const struct catalog_card *k, const struct pii_graph *g,
		       const struct catalog_ol_info *ol)
{
	char versions[256] = "", line[32];
	size_t off = 0;

	cli_printf("%s  (%s, version %lld)%s\n", k->name, k->kind, (long long)k->version,
	       k->certified ? "  [certified]" : "");
	if (k->description) { /* multi-line text: its own line breaks stay */
		fputs("\n  ", stdout);
		cli_fwrite_escaped(k->description, strlen(k->description), ST_ESC_KEEP_NL, stdout);
		fputs("\n\n", stdout);
	}
	else
		putchar('\n');
	for (size_t i = 0; i < k->nversions && off < sizeof(versions) - 24; i++)
		off += (size_t)snprintf(versions + off, sizeof(versions) - off, "%s%lld",
					i ? ", " : "", (long long)k->versions[i]);
	if (k->line)
		snprintf(line, sizeof(line), ":%u", k->line);
	else
		line[0] = '\0'; /* a dbt manifest: no lines */
	meta_line("owner", k->owner);
	meta_line("domain", k->domain);
	meta_line("system", k->system);
	meta_line("location", k->location);
	meta_line("format", k->format);
	meta_line("retention", k->retention);
	meta_line("tags", k->tags);
	meta_line("subject", k->subject);
	meta_line("erasure", k->erasure);
	meta_line("job", k->job);
	print_detect(k);
	meta_line("versions", versions);
	if (k->nversions > 1)
		meta_line("compatibility", k->compatibility);
	if (ol->observed) {
		cli_printf("  %-13s OpenLineage events only, no descriptor (observed)\n", "observed in");
	} else {
		cli_printf("  %-13s %s%s\n", "declared in", k->file, line);
	}
	if (ol->found) {
		cli_printf("  %-13s %s %s\n", "openlineage", ol->namespace, ol->name);
		if (ol->run_id)
			cli_printf("  %-13s %s %s at %s (run %s)\n", "last run", ol->job,
				   ol->run_state, ol->run_time, ol->run_id);
	}
	if (k->nfields)
		print_fields(k, g);
	print_constraints(k);
	print_extras(k);
	print_refs("Upstream", k->upstream, k->nupstream);
	print_refs("Downstream", k->downstream, k->ndownstream);
	print_refs("Glossary terms", k->terms, k->nterms);
	print_refs("Related", k->related, k->nrelated);
}

struct show_opts {
	struct cli_ctx *ctx;
	int json;
	long version;
};

static int show_opt(int c, const char *arg, void *u)
{
	struct show_opts *o = u;

	if (c == 'j')
		o->json = 1;
	else if (c == 'V' && cli_parse_count(o->ctx, "--version", arg, &o->version))
		return ST_E_USAGE;
	return -1;
}

static int cmd_show(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
					     {"version", required_argument, NULL, 'V'},
					     CLI_COMMON_OPTIONS,
					     {0}};
	struct catalog_workspace ws = {0};
	struct catalog_card card = {0};
	struct catalog_ol_info ol = {0};
	struct st_error err = ST_ERROR_INIT;
	struct catalog *cat = NULL;
	struct pii_graph *g = NULL;
	struct show_opts so = {ctx, 0, 0};
	int code = 0, json;
	long version;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_show, opts, show_opt, &so)) >= 0)
		return code;
	json = so.json;
	version = so.version;
	if (argc - optind != 1)
		return cli_usage_error(ctx, argc - optind ? "'show' takes one dataset name"
							  : "no dataset name given");
	ctx->action = "catalog.show";
	ctx->object = argv[optind];
	code = cli_open_catalog(ctx, &ws, &cat);
	if (code)
		return code;
	if (catalog_card_get(cat, argv[optind], version, &card, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	if (catalog_ol_info_get(cat, card.name, &ol, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	/* Derived tags are extra: without them the card is still worth printing. */
	if (pii_graph_dataset(cat, card.name, card.version, &g, &err)) {
		char msg[2048];

		st_error_format(&err, msg, sizeof(msg));
		cli_line(stderr, "warning: cannot work out inherited pii classes: %s", msg);
		st_error_init(&err);
	}
	if (json) {
		if (print_json(&card, g, &ol)) {
			st_error_set(&err, ST_E_SYSTEM, "cannot print the card");
			code = cli_fail(&err);
		}
	} else {
		print_text(&card, g, &ol);
	}
out:
	pii_graph_free(g);
	catalog_ol_info_release(&ol);
	catalog_card_release(&card);
	catalog_free(cat);
	catalog_workspace_release(&ws);
	return code;
}
