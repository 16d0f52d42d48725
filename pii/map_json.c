/* The PII map and the findings of `pii check` as JSON: what `pii map --json` and `pii check
 * --json` print and `steward serve` answers, built once here (a page of them for the API). */
#include "pii_map.h"

#include <jansson.h>
#include <string.h>

#define CHAIN_MAX 64

/* "dataset.path" of field i as a JSON string; null for no field. */
static json_t *field_name(const struct pii_graph *g, size_t i)
{
	struct pii_field f;

	if (i == PII_MAP_NO_FIELD)
		return json_null();
	pii_graph_field(g, i, &f);
	return json_sprintf("%s.%s", f.dataset, f.path);
}

static int same_category(const struct pii_map *m, size_t i, size_t j)
{
	const char *a = m->rows[i].category, *b = m->rows[j].category;

	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The rows [from, to) of m, grouped by category as m sorts them. NULL on out of memory. */
static json_t *categories_json(const struct pii_graph *g, const struct pii_map *m, size_t from,
			       size_t to)
{
	json_t *cats = json_array(), *fields = NULL;

	for (size_t i = from; cats && i < to; i++) {
		const struct pii_map_row *r = &m->rows[i];
		struct pii_field f;

		if (i == from || !same_category(m, i, i - 1)) {
			fields = json_array();
			if (json_array_append_new(
				    cats, json_pack("{s:o, s:o, s:o}", "category",
						    r->category ? json_string(r->category) : json_null(),
						    "name",
						    r->category_name ? json_string(r->category_name)
								     : json_null(),
						    "fields", json_incref(fields))) ||
			    !fields) {
				json_decref(fields);
				json_decref(cats);
				return NULL;
			}
			json_decref(fields); /* the category holds it */
		}
		pii_graph_field(g, r->field, &f);
		if (json_array_append_new(
			    fields,
			    json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:s?, s:s?, s:s?, s:s}",
				      "dataset", f.dataset, "field", f.path, "class",
				      pii_map_class_name(f.cls), "declared",
				      pii_map_class_name(f.declared), "derived", f.derived,
				      "derived_from", field_name(g, f.from), "origin",
				      field_name(g, r->origin), "transform", f.transform, "owner",
				      f.owner, "system", f.system, "kind", f.kind))) {
			json_decref(cats);
			return NULL;
		}
	}
	return cats;
}

json_t *pii_map_json(const struct pii_graph *g, const struct pii_map *m, size_t offset,
		     size_t limit)
{
	size_t from = offset < m->n ? offset : m->n;
	size_t to = limit < m->n - from ? from + limit : m->n;

	return json_pack("{s:o, s:{s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I}}}", "categories",
			 categories_json(g, m, from, to), "totals", "fields", (json_int_t)m->n,
			 "declared", (json_int_t)m->ndeclared, "derived",
			 (json_int_t)m->nderived, "datasets", (json_int_t)m->ndatasets,
			 "categories", (json_int_t)m->ncategories, "by_class", "sensitive",
			 (json_int_t)m->by_class[PII_MAP_SENSITIVE], "direct",
			 (json_int_t)m->by_class[PII_MAP_DIRECT], "indirect",
			 (json_int_t)m->by_class[PII_MAP_INDIRECT], "pseudonymous",
			 (json_int_t)m->by_class[PII_MAP_PSEUDONYMOUS]);
}

/* One finding: the field, its class, where it inherits from and through what chain, where it
 * is declared; an observed one also says why it was found. NULL on out of memory. */
static json_t *finding_json(const struct pii_graph *g, const struct pii_finding *x)
{
	size_t chain[CHAIN_MAX], n;
	struct pii_field f, src;
	json_t *links, *o;

	pii_graph_field(g, x->field, &f);
	if (x->unknown)
		return json_pack("{s:s, s:s, s:s, s:s?, s:i, s:i}", "dataset", f.dataset, "field",
				 f.path, "class", "unknown", "file", x->file, "line", (int)x->line,
				 "col", (int)x->col);
	if (!(links = json_array()))
		return NULL;
	n = pii_graph_chain(g, x->field, chain, CHAIN_MAX);
	for (size_t k = 0; k < n; k++) {
		pii_graph_field(g, chain[k], &src);
		if (json_array_append_new(links, json_pack("{s:o, s:s, s:b}", "field",
							   field_name(g, chain[k]), "class",
							   pii_map_class_name(src.cls), "declared",
							   !src.derived))) {
			json_decref(links);
			return NULL;
		}
	}
	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s?, s:i, s:i}", "dataset", f.dataset, "field",
		      f.path, "class", pii_map_class_name(f.cls), "from", field_name(g, f.from),
		      "chain", links, "file", x->file, "line", (int)x->line, "col", (int)x->col);
	if (o && x->kind != PII_FINDING_DECLARED_NONE) {
		json_object_set_new(o, "observed", json_true());
		json_object_set_new(o, "reason", json_string(x->kind == PII_FINDING_OBSERVED_NAMED
								     ? "name"
								     : "inherits"));
		json_object_set_new(o, "type", f.type ? json_string(f.type) : json_null());
		if (x->rule) {
			json_object_set_new(o, "rule", json_string(x->rule->rule));
			json_object_set_new(o, "class", json_string(x->rule->cls));
			json_object_set_new(o, "category", json_string(x->rule->category));
		}
	}
	return o;
}

json_t *pii_findings_json(const struct pii_graph *g, const struct pii_findings *fs,
			  size_t offset, size_t limit)
{
	json_t *arr = json_array();

	for (size_t i = offset; arr && i < fs->n && i - offset < limit; i++)
		if (json_array_append_new(arr, finding_json(g, &fs->v[i]))) {
			json_decref(arr);
			arr = NULL;
		}
	return json_pack("{s:o, s:I}", "findings", arr, "count", (json_int_t)fs->n);
}
