/* The PII map page (the record of processing: every personal-data field, declared or
 * derived, by category) and the untagged data page (what `pii check` reports). */
#include "pages_int.h"
#include "catalog.h"
#include "pii_map.h"

#include <string.h>

static void field_link(struct page *p, const struct pii_field *f)
{
	html_f(&p->h, "<a href=\"/datasets/%U#f-%U\">%s</a>.%s", f->dataset, f->path, f->dataset,
	       f->path);
}

/* GET /pii/map: pii map. */
enum MHD_Result page_pii_map(struct server *s, struct MHD_Connection *c, struct request *r,
			     const struct audit_actor *a, const char *name)
{
	struct st_error err = ST_ERROR_INIT;
	struct pii_graph *g = NULL;
	struct pii_map m = {0};
	struct catalog *cat;
	enum MHD_Result ret;
	struct page p;

	(void)name;
	if (!(cat = serve_worker_catalog(s, &err)) || pii_graph_catalog(cat, &g, &err) ||
	    pii_map_build(cat, g, &m, &err)) {
		ret = serve_reply_failure(c, r, &err);
		goto out;
	}
	page_begin(&p, c, r, a, "PII map");
	html_f(&p.h, "<p id=\"summary\">%zu personal-data fields (%zu declared, %zu derived) in %zu "
		     "datasets, %zu categories.</p>\n",
	       m.n, m.ndeclared, m.nderived, m.ndatasets, m.ncategories);
	html_raw(&p.h, "<table id=\"pii-map\"><tr><th>category</th><th>field</th><th>class</th>"
		       "<th>transform</th><th>derived from</th><th>owner</th><th>system</th></tr>\n");
	for (size_t i = 0; i < m.n; i++) {
		const struct pii_map_row *row = &m.rows[i];
		struct pii_field f, o;

		pii_graph_field(g, row->field, &f);
		html_f(&p.h, "<tr><td>%s", row->category ? row->category : "(none)");
		if (row->category_name)
			html_f(&p.h, "<div class=\"muted\">%s</div>", row->category_name);
		html_raw(&p.h, "</td><td>");
		field_link(&p, &f);
		html_raw(&p.h, "</td><td>");
		page_class_badge(&p, pii_map_class_name(f.cls));
		html_f(&p.h, "</td><td>%s</td><td>", f.transform ? f.transform : "-");
		if (row->origin != PII_MAP_NO_FIELD) {
			pii_graph_field(g, row->origin, &o);
			field_link(&p, &o);
		}
		html_f(&p.h, "</td><td>%s</td><td>%s</td></tr>\n", f.owner ? f.owner : "-",
		       f.system ? f.system : "-");
	}
	html_raw(&p.h, "</table>\n");
	ret = page_end(&p);
out:
	pii_map_release(&m);
	pii_graph_free(g);
	return ret;
}

/* GET /pii/untagged: pii check's findings. */
enum MHD_Result page_untagged(struct server *s, struct MHD_Connection *c, struct request *r,
			      const struct audit_actor *a, const char *name)
{
	struct st_error err = ST_ERROR_INIT;
	struct pii_findings fs = {0};
	struct pii_graph *g = NULL;
	struct catalog *cat;
	enum MHD_Result ret;
	struct page p;

	(void)name;
	if (!(cat = serve_worker_catalog(s, &err)) || pii_graph_catalog(cat, &g, &err) ||
	    pii_check(cat, g, &fs, &err)) {
		ret = serve_reply_failure(c, r, &err);
		goto out;
	}
	page_begin(&p, c, r, a, "Untagged data");
	html_f(&p.h, "<p id=\"summary\">%zu finding%s.</p>", fs.n, fs.n == 1 ? "" : "s");
	html_raw(&p.h, "<table id=\"findings\"><tr><th>field</th><th>finding</th><th>declared in"
		       "</th></tr>\n");
	for (size_t i = 0; i < fs.n; i++) {
		const struct pii_finding *x = &fs.v[i];
		struct pii_field f, src;

		pii_graph_field(g, x->field, &f);
		html_raw(&p.h, "<tr><td>");
		field_link(&p, &f);
		html_raw(&p.h, "</td><td>");
		switch (x->kind) {
		case PII_FINDING_DECLARED_NONE:
			html_raw(&p.h, "declared <code>pii: none</code> but inherits ");
			page_class_badge(&p, pii_map_class_name(f.cls));
			if (f.from != PII_MAP_NO_FIELD) {
				pii_graph_field(g, f.from, &src);
				html_raw(&p.h, " from ");
				field_link(&p, &src);
			}
			html_raw(&p.h, ", with no pii_reason");
			break;
		case PII_FINDING_OBSERVED_INHERITS:
			html_raw(&p.h, "observed in lineage, untagged, inherits ");
			page_class_badge(&p, pii_map_class_name(f.cls));
			break;
		case PII_FINDING_OBSERVED_NAMED:
			html_f(&p.h, "observed in lineage, untagged, named like %s (%s, %s)",
			       x->rule ? x->rule->rule : "?", x->rule ? x->rule->cls : "?",
			       x->rule ? x->rule->category : "?");
			break;
		default:
			html_raw(&p.h, "its class is unknown: not classified yet");
		}
		html_f(&p.h, "</td><td>%s", x->file ? x->file : "-");
		if (x->line)
			html_f(&p.h, ":%ld:%ld", (long)x->line, (long)x->col);
		html_raw(&p.h, "</td></tr>\n");
	}
	html_raw(&p.h, "</table>\n");
	ret = page_end(&p);
out:
	pii_findings_release(&fs);
	pii_graph_free(g);
	return ret;
}
