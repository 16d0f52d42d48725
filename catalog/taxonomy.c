/* The fideslang data-category taxonomy, embedded from schemas/taxonomy/ at build time
 * (CC BY 4.0, fideslang by IAB Tech Lab and Ethyca). */
#include "catalog_int.h"
#include "alloc.h"
#include "embedded.h"
#include "ydoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct catalog_taxonomy {
	struct catalog_category *v;
	size_t n, cap;
};

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct catalog_category *)a)->key,
		      ((const struct catalog_category *)b)->key);
}

void catalog_taxonomy_free(struct catalog_taxonomy *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		struct catalog_category *c = &t->v[i];

		st_free(c->key);
		st_free(c->name);
		st_free(c->description);
		st_free(c->parent);
		st_free(c->deprecated);
		st_free(c->replaced_by);
	}
	st_free(t->v);
	st_free(t);
}

/* Copies a scalar's text, or stores NULL for a missing or null value. Returns -1 on OOM. */
static int take(const struct catalog_ynode *map, const char *key, char **out)
{
	const struct catalog_ynode *n = catalog_ymap_get(map, key);

	*out = NULL;
	if (!n || n->type != CATALOG_Y_SCALAR || catalog_yscalar_kind(n) == CATALOG_YS_NULL)
		return 0;
	*out = st_strdup(n->value);
	return *out ? 0 : -1;
}

int catalog_taxonomy_load(struct catalog_taxonomy **out, struct st_error *err)
{
	return catalog_taxonomy_parse(out, st_embed_taxonomy, st_embed_taxonomy_len, err);
}

int catalog_taxonomy_parse(struct catalog_taxonomy **out, const unsigned char *text,
			   size_t len, struct st_error *err)
{
	struct catalog_taxonomy *t = st_calloc(1, sizeof(*t));
	struct catalog_yparser p;
	struct catalog_ydoc *doc = NULL;
	struct st_diags diags;
	const struct catalog_ynode *list;
	int ret = -1;

	st_diags_init(&diags, 16);
	if (!t)
		return st_error_oom(err);
	memset(&p, 0, sizeof(p));
	if (catalog_yparser_init(&p, "taxonomy", text, len, err))
		goto out;
	if (catalog_yparser_next(&p, &doc, &diags, err) != 1)
		goto bad;
	list = catalog_ymap_get(doc->root, "data_category");
	if (!list || list->type != CATALOG_Y_SEQ)
		goto bad;
	for (size_t i = 0; i < list->n; i++) {
		const struct catalog_ynode *e = list->kids[i];
		struct catalog_category *c;

		if (st_grow(&t->v, &t->cap, t->n + 1, sizeof(*t->v))) {
			st_error_oom(err);
			goto out;
		}
		c = &t->v[t->n];
		memset(c, 0, sizeof(*c));
		t->n++;
		if (take(e, "fides_key", &c->key) || take(e, "name", &c->name) ||
		    take(e, "description", &c->description) || take(e, "parent_key", &c->parent) ||
		    take(e, "version_deprecated", &c->deprecated) ||
		    take(e, "replaced_by", &c->replaced_by)) {
			st_error_oom(err);
			goto out;
		}
		if (!c->key)
			goto bad;
	}
	if (t->n > 1)
		qsort(t->v, t->n, sizeof(*t->v), by_key);
	*out = t;
	t = NULL;
	ret = 0;
	goto out;
bad:
	if (!err->code)
		st_error_set(err, ST_E_SYSTEM, "taxonomy is malformed");
out:
	catalog_ydoc_free(doc);
	catalog_yparser_release(&p);
	st_diags_release(&diags);
	catalog_taxonomy_free(t);
	return ret;
}

const struct catalog_category *catalog_taxonomy_find(const struct catalog_taxonomy *t,
						     const char *key)
{
	struct catalog_category probe = {0};

	probe.key = (char *)key;
	return bsearch(&probe, t->v, t->n, sizeof(*t->v), by_key);
}

size_t catalog_taxonomy_count(const struct catalog_taxonomy *t)
{
	return t->n;
}

const struct catalog_category *catalog_taxonomy_at(const struct catalog_taxonomy *t, size_t i)
{
	return i < t->n ? &t->v[i] : NULL;
}

int catalog_category_deprecation(const struct catalog_taxonomy *t, const char *key, char *msg,
				 size_t n)
{
	const struct catalog_category *c = catalog_taxonomy_find(t, key);

	if (!c || !c->deprecated)
		return 0;
	if (c->replaced_by)
		snprintf(msg, n, "category '%s' is deprecated since %s; use '%s'", key,
			 c->deprecated, c->replaced_by);
	else
		snprintf(msg, n, "category '%s' is deprecated since %s", key, c->deprecated);
	return 1;
}

int catalog_category_check(const char *key, struct st_error *err)
{
	struct catalog_taxonomy *t = NULL;
	const char **keys = NULL;
	const char *hint;
	int ret = -1;

	if (catalog_taxonomy_load(&t, err))
		return -1;
	if (catalog_taxonomy_find(t, key)) {
		ret = 0;
		goto out;
	}
	keys = st_calloc(t->n, sizeof(*keys));
	if (!keys) {
		st_error_oom(err);
		goto out;
	}
	for (size_t i = 0; i < t->n; i++)
		keys[i] = t->v[i].key;
	hint = catalog_suggest(key, keys, t->n);
	if (hint)
		st_error_set(err, ST_E_INVALID, "unknown category '%s' (did you mean '%s'?)", key, hint);
	else
		st_error_set(err, ST_E_INVALID, "unknown category '%s'", key);
out:
	st_free(keys);
	catalog_taxonomy_free(t);
	return ret;
}

int catalog_category_name(struct catalog *c, const char *key, const char **name,
			  struct st_error *err)
{
	const struct catalog_category *cat;

	*name = NULL;
	if (!c->tax && catalog_taxonomy_load(&c->tax, err))
		return -1;
	cat = catalog_taxonomy_find(c->tax, key);
	*name = cat ? cat->name : NULL;
	return 0;
}
