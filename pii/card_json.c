/* A dataset card as JSON: what `steward show --json` prints and `steward serve` answers,
 * built once here from the catalog's card, the PII propagation and the OpenLineage facts. */
#include "pii_map.h"

#include <jansson.h>
#include <string.h>

static json_t *refs_json(const struct catalog_ref *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s?, s:b}", "name", v[i].name, "kind",
						   v[i].kind, "external", v[i].kind == NULL));
	return a;
}

static json_t *split_tags(const char *tags)
{
	json_t *a = json_array();
	const char *p = tags;

	while (a && p && *p) {
		const char *sp = strchr(p, ' ');
		size_t n = sp ? (size_t)(sp - p) : strlen(p);

		if (n)
			json_array_append_new(a, json_stringn(p, n));
		p = sp ? sp + 1 : NULL;
	}
	return a;
}

int pii_card_field_derived(const struct pii_graph *g, size_t i, const struct catalog_field *cf,
			    struct pii_field *f, struct pii_field *src)
{
	if (!g || i >= pii_graph_nroots(g))
		return 0;
	pii_graph_field(g, i, f);
	if (strcmp(f->path, cf->path) || !f->derived)
		return 0;
	pii_graph_field(g, f->from, src);
	return 1;
}

/* What OpenLineage says of the dataset, for the card; NULL when no event named it. */
static json_t *ol_json(const struct catalog_ol_info *ol)
{
	if (!ol->found)
		return json_null();
	return json_pack("{s:s?, s:s?, s:b, s:s?, s:{s:s?, s:s?, s:s?}}", "namespace", ol->namespace,
			 "name", ol->name, "observed", ol->observed, "job", ol->job, "last_run",
			 "id", ol->run_id, "state", ol->run_state, "time", ol->run_time);
}

int pii_card_field_untagged(const struct pii_graph *g, size_t i, const struct catalog_field *cf)
{
	struct pii_field f;

	if (!g || i >= pii_graph_nroots(g))
		return 0;
	pii_graph_field(g, i, &f);
	return !strcmp(f.path, cf->path) && f.observed == CATALOG_OBSERVED;
}

/* The array of the regions in list ("AT,CH"). */
static json_t *regions_json(const char *list)
{
	json_t *a = json_array();

	for (const char *p = list; a && p && *p;) {
		size_t n = strcspn(p, ",");

		json_array_append_new(a, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	return a;
}

/* The free-text detectors' settings for the dataset: the threshold in force and whether the
 * descriptor sets it, the regions it declares, every region tried in order, the country
 * field. */
static json_t *detect_json(const struct catalog_card *k)
{
	char all[PII_REGIONS_LEN];

	if (pii_detect_regions(k->detect_regions, NULL, all, sizeof(all)))
		all[0] = '\0'; /* the catalog holds only what its checks let through */
	return json_pack("{s:i, s:b, s:o, s:o, s:s?}", "threshold",
			 k->detect_threshold ? k->detect_threshold : PII_SCORE_THRESHOLD,
			 "threshold_declared", k->detect_threshold != 0, "regions",
			 regions_json(k->detect_regions), "phone_regions", regions_json(all),
			 "country_field", k->detect_country_field);
}

json_t *pii_card_json(const struct catalog_card *k, const struct pii_graph *g,
		      const struct catalog_ol_info *ol)
{
	json_t *o, *fields = json_array(), *versions = json_array();

	for (size_t i = 0; i < k->nversions; i++)
		json_array_append_new(versions, json_integer(k->versions[i]));
	for (size_t i = 0; i < k->nfields; i++) {
		const struct catalog_field *f = &k->fields[i];
		json_t *from = json_array(), *how = NULL, *fo;
		struct pii_field pf, src;

		for (size_t j = 0; j < f->nfrom; j++) {
			json_array_append_new(from, json_string(f->from[j]));
			if (f->from_how[j] && !how)
				how = json_array();
		}
		for (size_t j = 0; how && j < f->nfrom; j++)
			json_array_append_new(how, f->from_how[j] ? json_string(f->from_how[j])
								  : json_null());
		fo = json_pack("{s:s, s:s?, s:s?, s:b, s:b, s:s, s:s?, s:s?, s:s?, s:b, s:s?, "
			       "s:s?, s:o}",
			       "path", f->path, "type", f->type, "items", f->item_type, "required",
			       f->required, "nullable", f->nullable, "pii", f->pii, "category",
			       f->category, "transform", f->transform, "normalize", f->normalize,
			       "scan", f->scan, "pii_reason", f->pii_reason, "description",
			       f->description, "from", from);
		if (fo && f->tags)
			json_object_set_new(fo, "tags", json_loads(f->tags, 0, NULL));
		if (fo && f->meta)
			json_object_set_new(fo, "meta", json_loads(f->meta, 0, NULL));
		if (fo && pii_card_field_untagged(g, i, f))
			json_object_set_new(fo, "untagged", json_true());
		if (fo && how)
			json_object_set_new(fo, "from_transformations", how);
		else
			json_decref(how);
		if (fo && pii_card_field_derived(g, i, f, &pf, &src))
			json_object_set_new(fo, "derived",
					    json_pack("{s:s, s:s++}", "class",
						      pii_map_class_name(pf.cls), "from",
						      src.dataset, ".", src.path));
		json_array_append_new(fields, fo);
	}
	o = json_pack("{s:s, s:s, s:I, s:o, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:o, s:b, "
		      "s:s?, s:s, s:s?}",
		      "name", k->name, "kind", k->kind, "version", (json_int_t)k->version,
		      "versions", versions, "description", k->description, "owner", k->owner,
		      "domain", k->domain, "system", k->system, "location", k->location, "format",
		      k->format, "retention", k->retention, "tags", split_tags(k->tags),
		      "certified", k->certified, "subject", k->subject, "compatibility",
		      k->compatibility, "job", k->job);
	if (!o)
		return NULL;
	json_object_set_new(o, "erasure", k->erasure ? json_loads(k->erasure, 0, NULL) : json_null());
	json_object_set_new(o, "source", json_pack("{s:s, s:i}", "file", k->file, "line", k->line));
	json_object_set_new(o, "observed", json_boolean(ol->observed));
	json_object_set_new(o, "openlineage", ol_json(ol));
	json_object_set_new(o, "fields", fields);
	json_object_set_new(o, "upstream", refs_json(k->upstream, k->nupstream));
	json_object_set_new(o, "downstream", refs_json(k->downstream, k->ndownstream));
	json_object_set_new(o, "terms", refs_json(k->terms, k->nterms));
	if (!strcmp(k->kind, "term"))
		json_object_set_new(o, "related", refs_json(k->related, k->nrelated));
	else
		json_object_set_new(o, "detect", detect_json(k));
	if (k->naliases) {
		json_t *a = json_array();

		for (size_t i = 0; i < k->naliases; i++)
			json_array_append_new(a, json_string(k->aliases[i]));
		json_object_set_new(o, "aliases", a);
	}
	if (k->nprops) {
		json_t *p = json_array();

		for (size_t i = 0; i < k->nprops; i++)
			json_array_append_new(p, json_pack("{s:s, s:s}", "key", k->props[i].key,
							   "value", k->props[i].value));
		json_object_set_new(o, "properties", p);
	}
	if (k->nconstraints) {
		json_t *c = json_array();

		for (size_t i = 0; i < k->nconstraints; i++) {
			const struct catalog_constraint *x = &k->constraints[i];
			json_t *co = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?}", "kind", x->kind,
					       "field", x->field, "ref_dataset", x->ref_ds,
					       "ref_field", x->ref_field, "origin", x->origin);

			if (co && x->detail)
				json_object_set_new(co, "values", json_loads(x->detail, 0, NULL));
			json_array_append_new(c, co);
		}
		json_object_set_new(o, "constraints", c);
	}
	return o;
}

