/* The lineage page: the graph `lineage --dot` prints (catalog_lineage_dot()), laid out in
 * the process by Graphviz (libgvc) as SVG whose nodes link to their cards, with direction and
 * depth in the URL, the count of nodes the depth cap hides, PII-carrying column edges marked,
 * a path between two chosen nodes highlighted, and downloads as SVG, DOT and CSV of edges. */
#include "pages_int.h"
#include "alloc.h"
#include "buf.h"
#include "catalog.h"
#include "lazy_gvc.h"
#include "pii_map.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define PAGE_DEPTH 3    /* the depth a lineage page shows unless the URL says */
#define DEPTH_MAX 100   /* the deepest a URL may ask for, and the walk that counts what is hidden */
#define DOT_MAX ((size_t)64 << 20)
#define PII_CACHE 64    /* datasets whose classes a column graph looks up */

/* Graphviz keeps global state (its parser, its error handler): one layout at a time. */
static pthread_mutex_t gv_lock = PTHREAD_MUTEX_INITIALIZER;
static GVC_t *gvc;

static int quiet(char *msg)
{
	(void)msg;
	return 0;
}

/* Lays dot out and renders it as SVG into out. Returns 0, or -1 with err. */
static int layout_svg(const char *dot, struct st_buf *out, struct st_error *err)
{
	Agraph_t *g = NULL;
	char *svg = NULL;
	unsigned int len = 0;
	int ret = -1;

	if (st_gvc_load(err))
		return -1;
	pthread_mutex_lock(&gv_lock);
	if (!gvc) {
		static const lt_symlist_t none[] = {{NULL, NULL}};

		agseterr(AGMAX);
		agseterrf(quiet);
		/* Only the two plugins loaded: the dot layout and the SVG renderer, with text
		 * widths from Graphviz's own font metrics (no pango, fontconfig or config file). */
		if ((gvc = gvContextPlugins(none, 0))) {
			gvAddLibrary(gvc, st_gvc.dot_layout);
			gvAddLibrary(gvc, st_gvc.core);
		}
	}
	if (!gvc || !(g = agmemread(dot))) {
		st_error_set(err, ST_E_SYSTEM, "graphviz cannot read the graph");
		goto out;
	}
	if (gvLayout(gvc, g, "dot")) {
		st_error_set(err, ST_E_SYSTEM, "graphviz cannot lay out the graph");
		goto out;
	}
	if (gvRenderData(gvc, g, "svg", &svg, &len) || !svg) {
		st_error_set(err, ST_E_SYSTEM, "graphviz cannot render the graph as svg");
		gvFreeLayout(gvc, g);
		goto out;
	}
	ret = st_buf_add(out, svg, len) ? st_error_oom(err), -1 : 0;
	gvFreeRenderData(svg);
	gvFreeLayout(gvc, g);
out:
	if (g)
		agclose(g);
	pthread_mutex_unlock(&gv_lock);
	return ret;
}

/* The effective classes of the datasets a column graph names, looked up once each. */
struct classes {
	struct catalog *cat;
	char *name[PII_CACHE];
	struct pii_graph *g[PII_CACHE];
	size_t n;
};

static void classes_release(struct classes *k)
{
	for (size_t i = 0; i < k->n; i++) {
		st_free(k->name[i]);
		pii_graph_free(k->g[i]);
	}
}

/* The effective class of column node ds.field (a dataset name has exactly one dot), or
 * PII_MAP_NONE when it is not known. */
static int column_class(struct classes *k, const char *node)
{
	const char *dot = strchr(node, '.'), *fd = dot ? strchr(dot + 1, '.') : NULL;
	struct st_error err = ST_ERROR_INIT;
	struct pii_graph *g = NULL;
	size_t i;

	if (!fd)
		return PII_MAP_NONE;
	for (i = 0; i < k->n; i++)
		if (!strncmp(k->name[i], node, (size_t)(fd - node)) && !k->name[i][fd - node])
			break;
	if (i == k->n) {
		if (k->n == PII_CACHE || !(k->name[i] = st_strndup(node, (size_t)(fd - node))))
			return PII_MAP_NONE;
		pii_graph_dataset(k->cat, k->name[i], 0, &k->g[i], &err); /* NULL: not known */
		k->n++;
	}
	if (!(g = k->g[i]))
		return PII_MAP_NONE;
	for (size_t j = 0; j < pii_graph_nroots(g); j++) {
		struct pii_field f;

		pii_graph_field(g, j, &f);
		if (!strcmp(f.path, fd + 1))
			return f.cls;
	}
	return PII_MAP_NONE;
}

/* The node named name in g, or (size_t)-1. */
static size_t node_of(const struct catalog_lineage *g, const char *name)
{
	for (size_t i = 0; name && i < g->nnodes; i++)
		if (!strcmp(g->nodes[i].name, name))
			return i;
	return (size_t)-1;
}

/* Marks the nodes of a shortest path along the data flow from a to b (or from b to a) in
 * mark. Returns 1 when there is one, else 0. */
static int mark_path(const struct catalog_lineage *g, size_t a, size_t b, unsigned char *mark)
{
	size_t *prev = st_calloc(g->nnodes, sizeof(size_t)), *queue = st_calloc(g->nnodes, sizeof(size_t));
	int found = 0;

	for (int pass = 0; prev && queue && pass < 2 && !found; pass++) {
		size_t from = pass ? b : a, to = pass ? a : b, head = 0, tail = 0;

		for (size_t i = 0; i < g->nnodes; i++)
			prev[i] = (size_t)-1;
		prev[from] = from;
		queue[tail++] = from;
		while (head < tail && prev[to] == (size_t)-1) {
			size_t n = queue[head++];

			for (size_t e = 0; e < g->nedges; e++)
				if (g->edges[e].from == n && prev[g->edges[e].to] == (size_t)-1) {
					prev[g->edges[e].to] = n;
					queue[tail++] = g->edges[e].to;
				}
		}
		if (prev[to] != (size_t)-1) {
			found = 1;
			for (size_t n = to; n != from; n = prev[n])
				mark[n] = 1;
			mark[from] = 1;
		}
	}
	st_free(prev);
	st_free(queue);
	return found;
}

/* A CSV field (RFC 4180), with a leading ' before what a spreadsheet would take for a
 * formula. */
static int csv_field(struct st_buf *b, const char *s)
{
	if (st_buf_add(b, "\"", 1) || (strchr("=+-@\t\r", *s) && *s && st_buf_add(b, "'", 1)))
		return -1;
	for (; *s; s++)
		if ((*s == '"' && st_buf_add(b, "\"", 1)) || st_buf_add(b, s, 1))
			return -1;
	return st_buf_add(b, "\"", 1);
}

/* A node as a link to its card (a column node: to its dataset's card, at the field). */
static void node_link(struct page *p, const struct catalog_lnode *n, int column)
{
	const char *dot = strchr(n->name, '.'), *fd = column && dot ? strchr(dot + 1, '.') : NULL;
	char ds[512];

	if (!fd || (size_t)(fd - n->name) >= sizeof(ds)) {
		page_dataset_link(p, n->name, n->kind);
		return;
	}
	memcpy(ds, n->name, (size_t)(fd - n->name));
	ds[fd - n->name] = '\0';
	html_f(&p->h, "<a class=\"ds\" href=\"/datasets/%U#f-%U\">%s</a>", ds, fd + 1, n->name);
	if (!n->kind)
		html_raw(&p->h, " <span class=\"kind external\">external</span>");
}

static void dir_option(struct page *p, const char *v, int dir, int is)
{
	html_f(&p->h, "<option value=\"%s\"%s>%s</option>", v, dir == is ? " selected" : "", v);
}

/* GET /lineage/NAME[.FIELD][?dir=up|down|both&depth=N&from=A&to=B&format=svg|dot|csv] */
enum MHD_Result page_lineage(struct server *s, struct MHD_Connection *c, struct request *r,
			     const struct audit_actor *a, const char *name)
{
	struct catalog_lineage g = {0}, all = {0};
	struct catalog_dot_style style = {"/datasets/", NULL, NULL};
	struct classes k = {0};
	struct st_error err = ST_ERROR_INIT;
	struct st_buf dot, svg;
	struct catalog *cat;
	const char *d = serve_arg(c, "dir"), *fmt = serve_arg(c, "format");
	const char *from = serve_arg(c, "from"), *to = serve_arg(c, "to");
	unsigned char *pii = NULL, *mark = NULL;
	const char *dname = "up";
	enum MHD_Result ret;
	struct page p;
	size_t hidden = 0, npii = 0;
	int dir = CATALOG_UP, path = 0;
	long depth;
	char title[600];

	st_buf_init(&dot, DOT_MAX);
	st_buf_init(&svg, DOT_MAX);
	if (d && !strcmp(d, "down"))
		dir = CATALOG_DOWN, dname = "down";
	else if (d && !strcmp(d, "both"))
		dir = CATALOG_BOTH, dname = "both";
	else if (d && strcmp(d, "up"))
		return serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
					 "parameter 'dir' must be up, down or both");
	if (fmt && strcmp(fmt, "svg") && strcmp(fmt, "dot") && strcmp(fmt, "csv"))
		return serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
					 "parameter 'format' must be svg, dot or csv");
	if (serve_arg_count(c, r, "depth", 1, DEPTH_MAX, PAGE_DEPTH, &depth, &ret))
		return ret;
	if (!(cat = serve_worker_catalog(s, &err)) ||
	    catalog_lineage_get(cat, name, dir, (int)depth, &g, &err) ||
	    (g.truncated && catalog_lineage_get(cat, name, dir, DEPTH_MAX, &all, &err))) {
		ret = serve_reply_failure(c, r, &err);
		goto out;
	}
	if (all.nnodes > g.nnodes)
		hidden = all.nnodes - g.nnodes;
	if (!(pii = st_calloc(g.nedges + 1, 1)) || !(mark = st_calloc(g.nnodes + 1, 1))) {
		ret = serve_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		goto out;
	}
	k.cat = cat;
	for (size_t i = 0; g.column && i < g.nedges; i++)
		npii += pii[i] = column_class(&k, g.nodes[g.edges[i].from].name) > PII_MAP_NONE;
	if (from && to && node_of(&g, from) != (size_t)-1 && node_of(&g, to) != (size_t)-1)
		path = mark_path(&g, node_of(&g, from), node_of(&g, to), mark) ? 1 : -1;
	style.pii_edges = pii;
	style.marked_nodes = mark;
	if (fmt && !strcmp(fmt, "csv")) {
		int bad = st_buf_adds(&dot, "from,to,pii\r\n");

		for (size_t i = 0; !bad && i < g.nedges; i++)
			bad = csv_field(&dot, g.nodes[g.edges[i].from].name) ||
			      st_buf_add(&dot, ",", 1) ||
			      csv_field(&dot, g.nodes[g.edges[i].to].name) ||
			      st_buf_adds(&dot, pii[i] ? ",yes\r\n" : ",no\r\n");
		ret = bad ? serve_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory")
			  : serve_reply_data(c, r, MHD_HTTP_OK, "text/csv; charset=utf-8",
					     st_buf_str(&dot), dot.len, "lineage.csv");
		goto out;
	}
	if (catalog_lineage_dot(&g, fmt && !strcmp(fmt, "dot") ? NULL : &style, &dot)) {
		ret = serve_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		goto out;
	}
	if (fmt && !strcmp(fmt, "dot")) { /* what `lineage --dot` prints */
		ret = serve_reply_data(c, r, MHD_HTTP_OK, "text/vnd.graphviz; charset=utf-8",
				       st_buf_str(&dot), dot.len, "lineage.dot");
		goto out;
	}
	if (layout_svg(st_buf_str(&dot), &svg, &err)) {
		ret = serve_reply_failure(c, r, &err);
		goto out;
	}
	if (fmt) {
		ret = serve_reply_data(c, r, MHD_HTTP_OK, "image/svg+xml", st_buf_str(&svg), svg.len,
				       "lineage.svg");
		goto out;
	}
	snprintf(title, sizeof(title), "Lineage of %s", g.nodes[0].name);
	page_begin(&p, c, r, a, title);
	html_f(&p.h, "<form method=\"get\" action=\"/lineage/%U\" class=\"controls\">"
		     "<label>direction <select name=\"dir\">",
	       name);
	dir_option(&p, "up", dir, CATALOG_UP);
	dir_option(&p, "down", dir, CATALOG_DOWN);
	dir_option(&p, "both", dir, CATALOG_BOTH);
	html_f(&p.h, "</select></label> <label>depth <input type=\"number\" name=\"depth\" min=\"1\" "
		     "max=\"%d\" value=\"%ld\"></label> <button type=\"submit\">Show</button></form>\n",
	       DEPTH_MAX, depth);
	html_f(&p.h, "<p>%zu nodes, %zu edges, %s, at most %ld hops", g.nnodes, g.nedges, dname,
	       depth);
	if (hidden)
		html_f(&p.h, " · <span class=\"note\" id=\"hidden\">%zu more nodes are hidden by the "
			     "depth cap</span> <a id=\"expand\" href=\"/lineage/%U?dir=%s&amp;depth=%ld\">"
			     "one hop more</a>",
		       hidden, name, dname, depth + 1);
	if (npii)
		html_f(&p.h, npii == 1 ? " · <span class=\"pii\" id=\"pii-edges\">%zu edge carries "
					 "personal data</span>"
				       : " · <span class=\"pii\" id=\"pii-edges\">%zu edges carry "
					 "personal data</span>",
		       npii);
	html_f(&p.h, " · download <a href=\"/lineage/%U?dir=%s&amp;depth=%ld&amp;format=svg\">SVG"
		     "</a>, <a href=\"/lineage/%U?dir=%s&amp;depth=%ld&amp;format=dot\">DOT</a>, "
		     "<a href=\"/lineage/%U?dir=%s&amp;depth=%ld&amp;format=csv\">CSV of edges</a>"
		     " · <a href=\"/datasets/%U\">card</a></p>\n",
	       name, dname, depth, name, dname, depth, name, dname, depth, g.nodes[0].name);
	if (path < 0)
		html_raw(&p.h, "<p class=\"note\" id=\"path-none\">No path joins the two nodes.</p>");
	html_raw(&p.h, "<div class=\"graph\" id=\"graph\">");
	{
		const char *start = strstr(st_buf_str(&svg), "<svg");

		html_raw(&p.h, start ? start : ""); /* Graphviz's output: it escapes every name */
	}
	html_raw(&p.h, "</div>\n<h2>Path</h2>");
	html_f(&p.h, "<form method=\"get\" action=\"/lineage/%U\" id=\"pathform\"><input type=\"hidden\" "
		     "name=\"dir\" value=\"%s\"><input type=\"hidden\" name=\"depth\" value=\"%ld\">"
		     "<label>from <select name=\"from\">",
	       name, dname, depth);
	for (int side = 0; side < 2; side++) {
		const char *chosen = side ? to : from;

		if (side)
			html_raw(&p.h, "</select></label> <label>to <select name=\"to\">");
		for (size_t i = 0; i < g.nnodes; i++)
			html_f(&p.h, "<option%s>%s</option>",
			       chosen && !strcmp(chosen, g.nodes[i].name) ? " selected" : "",
			       g.nodes[i].name);
	}
	html_raw(&p.h, "</select></label> <button type=\"submit\">Highlight</button></form>\n"
		       "<h2>Nodes</h2><table id=\"nodes\"><tr><th>node</th><th>hops</th><th></th></tr>");
	for (size_t i = 0; i < g.nnodes; i++) {
		html_raw(&p.h, mark[i] ? "<tr class=\"path\"><td>" : "<tr><td>");
		node_link(&p, &g.nodes[i], g.column);
		html_f(&p.h, "</td><td>%d</td><td><a href=\"/lineage/%U?dir=%s&amp;depth=%ld\">"
			     "lineage from here</a></td></tr>",
		       g.nodes[i].depth, g.nodes[i].name, dname, depth);
	}
	html_raw(&p.h, "</table>\n<h2>Edges</h2><table id=\"edges\"><tr><th>from</th><th>to</th>"
		       "<th></th></tr>");
	for (size_t i = 0; i < g.nedges; i++)
		html_f(&p.h, pii[i] ? "<tr class=\"pii-edge\"><td>%s</td><td>%s</td><td>%s</td></tr>"
				    : "<tr><td>%s</td><td>%s</td><td>%s</td></tr>",
		       g.nodes[g.edges[i].from].name,
		       g.nodes[g.edges[i].to].name, pii[i] ? "PII" : "");
	html_raw(&p.h, "</table>\n");
	ret = page_end(&p);
out:
	classes_release(&k);
	st_free(pii);
	st_free(mark);
	st_buf_release(&dot);
	st_buf_release(&svg);
	catalog_lineage_release(&all);
	catalog_lineage_release(&g);
	return ret;
}
