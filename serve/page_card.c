/* The dataset card page: metadata, the field tree with PII class, category, transform and
 * the class a field inherits with its source, versions with a diff between two, upstream and
 * downstream, glossary terms, and the dbt or OpenLineage origin. */
#include "pages_int.h"
#include "catalog.h"
#include "pii_map.h"

#include <stdint.h>
#include <string.h>

static void meta_row(struct page *p, const char *label, const char *value)
{
	if (value && *value)
		html_f(&p->h, "<tr><th>%s</th><td>%s</td></tr>", label, value);
}

static void refs(struct page *p, const char *title, const char *id,
		 const struct catalog_ref *v, size_t n)
{
	if (!n)
		return;
	html_f(&p->h, "<h2>%s</h2><ul id=\"%s\">", title, id);
	for (size_t i = 0; i < n; i++) {
		html_raw(&p->h, "<li>");
		page_dataset_link(p, v[i].name, v[i].kind);
		html_raw(&p->h, "</li>");
	}
	html_raw(&p->h, "</ul>\n");
}

static const char *leaf(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot ? dot + 1 : path;
}

static void fields(struct page *p, const struct catalog_card *k, const struct pii_graph *g)
{
	html_raw(&p->h, "<h2>Fields</h2><table class=\"fields\" id=\"fields\"><tr><th>field</th>"
			"<th>type</th><th>PII</th><th>category</th><th>transform</th>"
			"<th>from</th><th></th></tr>\n");
	for (size_t i = 0; i < k->nfields; i++) {
		const struct catalog_field *f = &k->fields[i];
		struct pii_field pf, src;

		html_f(&p->h, "<tr id=\"f-%U\"><td class=\"tree\">", f->path);
		for (int d = 0; d < f->depth && d < 32; d++)
			html_raw(&p->h, "  ");
		html_f(&p->h, "%s%s</td><td>%s", leaf(f->path), f->required ? "*" : "",
		       f->type ? f->type : "-");
		if (f->item_type)
			html_f(&p->h, "&lt;%s&gt;", f->item_type);
		html_f(&p->h, "%s</td><td>", f->nullable ? " nullable" : "");
		if (pii_card_field_untagged(g, i, f))
			html_raw(&p->h, "<span class=\"pii\">untagged</span>");
		else
			page_class_badge(p, f->pii);
		if (pii_card_field_derived(g, i, f, &pf, &src)) {
			html_raw(&p->h, " <span class=\"derived\">derived ");
			page_class_badge(p, pii_map_class_name(pf.cls));
			html_f(&p->h, " from <a href=\"/datasets/%U#f-%U\">%s.%s</a></span>",
			       src.dataset, src.path, src.dataset, src.path);
		}
		if (f->pii_reason)
			html_f(&p->h, "<div class=\"muted\">pii_reason: %s</div>", f->pii_reason);
		html_f(&p->h, "</td><td>%s</td><td>%s%s%s</td><td>", f->category ? f->category : "-",
		       f->transform ? f->transform : "-", f->normalize ? " (normalize " : "",
		       f->normalize ? f->normalize : "");
		if (f->normalize)
			html_raw(&p->h, ")");
		html_raw(&p->h, "</td><td>");
		for (size_t j = 0; j < f->nfrom; j++) {
			html_f(&p->h, "%s<a href=\"/lineage/%U\">%s</a>", j ? "<br>" : "", f->from[j],
			       f->from[j]);
			if (f->from_how[j])
				html_f(&p->h, " <span class=\"muted\">(%s)</span>", f->from_how[j]);
		}
		html_f(&p->h, "</td><td><a class=\"field-lineage\" href=\"/lineage/%U.%U?dir=up\">lineage</a>",
		       k->name, f->path);
		if (f->description)
			html_f(&p->h, "<div class=\"muted\">%s</div>", f->description);
		html_raw(&p->h, "</td></tr>\n");
	}
	html_raw(&p->h, "</table>\n");
}

/* The field of card k at path, or NULL. */
static const struct catalog_field *field_at(const struct catalog_card *k, const char *path)
{
	for (size_t i = 0; i < k->nfields; i++)
		if (!strcmp(k->fields[i].path, path))
			return &k->fields[i];
	return NULL;
}

static int same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* The diff of old (version A) to k (version B): fields added, removed, and changed in type,
 * class, category or transform, and the description. */
static void diff(struct page *p, const struct catalog_card *old, const struct catalog_card *k)
{
	size_t n = 0;

	html_f(&p->h, "<h2>Changes from version %lld to %lld</h2><table id=\"diff\"><tr><th>field"
		      "</th><th>change</th><th>version %lld</th><th>version %lld</th></tr>\n",
	       (long long)old->version, (long long)k->version, (long long)old->version,
	       (long long)k->version);
	for (size_t i = 0; i < k->nfields; i++) {
		const struct catalog_field *f = &k->fields[i], *o = field_at(old, f->path);
		static const char *const what[] = {"type", "pii", "category", "transform"};

		if (!o) {
			html_f(&p->h, "<tr><td>%s</td><td>added</td><td></td><td>%s %s</td></tr>",
			       f->path, f->type, f->pii);
			n++;
			continue;
		}
		for (int w = 0; w < 4; w++) {
			const char *a = w == 0 ? o->type : w == 1 ? o->pii : w == 2 ? o->category : o->transform;
			const char *b = w == 0 ? f->type : w == 1 ? f->pii : w == 2 ? f->category : f->transform;

			if (!same(a, b)) {
				html_f(&p->h, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>",
				       f->path, what[w], a ? a : "-", b ? b : "-");
				n++;
			}
		}
	}
	for (size_t i = 0; i < old->nfields; i++)
		if (!field_at(k, old->fields[i].path)) {
			html_f(&p->h, "<tr><td>%s</td><td>removed</td><td>%s %s</td><td></td></tr>",
			       old->fields[i].path, old->fields[i].type, old->fields[i].pii);
			n++;
		}
	if (!same(old->description, k->description)) {
		html_f(&p->h, "<tr><td>(description)</td><td>changed</td><td>%s</td><td>%s</td></tr>",
		       old->description, k->description);
		n++;
	}
	html_raw(&p->h, "</table>");
	if (!n)
		html_raw(&p->h, "<p class=\"muted\">No differences in the fields.</p>");
}

static void versions(struct page *p, const struct catalog_card *k, long against)
{
	html_raw(&p->h, "<tr><th>versions</th><td>");
	for (size_t i = 0; i < k->nversions; i++)
		html_f(&p->h, "%s<a href=\"/datasets/%U?version=%lld\">%lld</a>", i ? ", " : "",
		       k->name, (long long)k->versions[i], (long long)k->versions[i]);
	if (k->nversions > 1) {
		html_f(&p->h, "<form method=\"get\" action=\"/datasets/%U\" class=\"inline\">"
			      "diff <select name=\"diff\">",
		       k->name);
		for (size_t i = 0; i < k->nversions; i++)
			html_f(&p->h, "<option%s>%lld</option>",
			       k->versions[i] == against ? " selected" : "", (long long)k->versions[i]);
		html_raw(&p->h, "</select> against <select name=\"version\">");
		for (size_t i = 0; i < k->nversions; i++)
			html_f(&p->h, "<option%s>%lld</option>",
			       k->versions[i] == k->version ? " selected" : "",
			       (long long)k->versions[i]);
		html_raw(&p->h, "</select> <button type=\"submit\">Compare</button></form>");
	}
	html_raw(&p->h, "</td></tr>");
}

/* GET /datasets/NAME[?version=N][&diff=M]: the card; with diff, the changes from M to N. */
enum MHD_Result page_card(struct server *s, struct MHD_Connection *c, struct request *r,
			  const struct audit_actor *a, const char *name)
{
	struct catalog_card card = {0}, old = {0};
	struct catalog_ol_info ol = {0};
	struct st_error err = ST_ERROR_INIT, gerr = ST_ERROR_INIT;
	struct pii_graph *g = NULL;
	struct catalog *cat;
	enum MHD_Result ret;
	struct page p;
	long version, against;
	char title[600];

	if (serve_arg_count(c, r, "version", 1, INT32_MAX, 0, &version, &ret) ||
	    serve_arg_count(c, r, "diff", 1, INT32_MAX, 0, &against, &ret))
		return ret;
	if (!(cat = serve_worker_catalog(s, &err)) ||
	    catalog_card_get(cat, name, version, &card, &err) ||
	    catalog_ol_info_get(cat, card.name, &ol, &err) ||
	    (against && catalog_card_get(cat, card.name, against, &old, &err))) {
		ret = serve_reply_failure(c, r, &err);
		goto out;
	}
	pii_graph_dataset(cat, card.name, card.version, &g, &gerr); /* extra, as in the CLI */
	snprintf(title, sizeof(title), "%s", card.name);
	page_begin(&p, c, r, a, title);
	html_f(&p.h, "<p class=\"sub\"><span class=\"kind\">%s</span> version %lld",
	       card.kind, (long long)card.version);
	if (card.certified)
		html_raw(&p.h, " <span class=\"badge certified\" id=\"certified\">certified</span>");
	if (ol.observed)
		html_raw(&p.h, " <span class=\"badge observed\">observed</span>");
	html_f(&p.h, " · <a id=\"lineage-link\" href=\"/lineage/%U?dir=both\">lineage</a> · "
		     "<a href=\"/lineage/%U?dir=up\">upstream</a> · <a href=\"/lineage/%U?dir=down\">"
		     "downstream</a></p>\n",
	       card.name, card.name, card.name);
	if (card.description)
		html_f(&p.h, "<p class=\"desc\" id=\"description\">%s</p>\n", card.description);
	html_raw(&p.h, "<table class=\"meta\" id=\"meta\">");
	meta_row(&p, "owner", card.owner);
	meta_row(&p, "domain", card.domain);
	meta_row(&p, "system", card.system);
	meta_row(&p, "location", card.location);
	meta_row(&p, "format", card.format);
	meta_row(&p, "retention", card.retention);
	if (card.tags && *card.tags)
		html_f(&p.h, "<tr><th>tags</th><td id=\"tags\">%s</td></tr>", card.tags);
	meta_row(&p, "subject", card.subject);
	meta_row(&p, "erasure", card.erasure);
	meta_row(&p, "job", card.job);
	versions(&p, &card, against);
	if (card.nversions > 1)
		meta_row(&p, "compatibility", card.compatibility);
	if (ol.observed)
		meta_row(&p, "observed in", "OpenLineage events only, no descriptor");
	else if (card.line)
		html_f(&p.h, "<tr><th>declared in</th><td>%s:%ld</td></tr>", card.file,
		       (long)card.line);
	else
		meta_row(&p, "declared in", card.file);
	if (ol.found) {
		html_f(&p.h, "<tr><th>OpenLineage</th><td id=\"openlineage\">%s %s</td></tr>",
		       ol.namespace, ol.name);
		if (ol.run_id)
			html_f(&p.h, "<tr><th>last run</th><td>%s %s at %s (run %s)</td></tr>", ol.job,
			       ol.run_state, ol.run_time, ol.run_id);
	}
	html_raw(&p.h, "</table>\n");
	if (against)
		diff(&p, &old, &card);
	if (card.nfields)
		fields(&p, &card, g);
	if (card.nconstraints) {
		html_raw(&p.h, "<h2>Constraints</h2><ul>");
		for (size_t i = 0; i < card.nconstraints; i++) {
			const struct catalog_constraint *x = &card.constraints[i];

			html_f(&p.h, "<li>%s %s", x->kind, x->field ? x->field : "(table)");
			if (x->ref_ds)
				html_f(&p.h, " → <a href=\"/datasets/%U\">%s</a>.%s", x->ref_ds,
				       x->ref_ds, x->ref_field ? x->ref_field : "?");
			if (x->detail)
				html_f(&p.h, " in %s", x->detail);
			html_raw(&p.h, "</li>");
		}
		html_raw(&p.h, "</ul>\n");
	}
	if (card.naliases || card.nprops) {
		html_raw(&p.h, "<h2>Origin</h2><table id=\"origin\">");
		for (size_t i = 0; i < card.naliases; i++)
			meta_row(&p, "alias", card.aliases[i]);
		for (size_t i = 0; i < card.nprops; i++)
			meta_row(&p, card.props[i].key, card.props[i].value);
		html_raw(&p.h, "</table>\n");
	}
	refs(&p, "Upstream", "upstream", card.upstream, card.nupstream);
	refs(&p, "Downstream", "downstream", card.downstream, card.ndownstream);
	refs(&p, "Glossary terms", "terms", card.terms, card.nterms);
	refs(&p, "Related", "related", card.related, card.nrelated);
	ret = page_end(&p);
out:
	pii_graph_free(g);
	catalog_ol_info_release(&ol);
	catalog_card_release(&old);
	catalog_card_release(&card);
	return ret;
}
