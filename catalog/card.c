/* `steward show`: the dataset card, with fields, versions, neighbours and glossary terms.
 * Also the "no such dataset" error with a did-you-mean hint, shared with lineage. */
#include "catalog_int.h"
#include "alloc.h"
#include "sql.h"

#include <string.h>

int catalog_not_found(struct catalog *c, const char *name, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	char **names = NULL;
	size_t n = 0, cap = 0, fo, dl = catalog_split_ref(name, &fo);
	const char *hint = NULL;
	char prefix[512] = "";
	int bad = 0;

	if (fo && dl < sizeof(prefix)) {
		memcpy(prefix, name, dl);
		prefix[dl] = '\0';
	}
	if (!st_sql_cached(c->db, &st, "SELECT DISTINCT name FROM datasets", err)) {
		while (!bad && sqlite3_step(st) == SQLITE_ROW) {
			if (st_grow(&names, &cap, n + 1, sizeof(*names)) ||
			    !(names[n] = st_sql_col_strdup(st, 0, &bad))) {
				bad = 1;
				break;
			}
			if (prefix[0] && !strcmp(names[n], prefix))
				hint = names[n];
			n++;
		}
	}
	st_sql_done(st);
	if (!hint)
		hint = catalog_suggest(name, (const char *const *)names, n);
	if (hint)
		st_error_set(err, ST_E_NOTFOUND, "no dataset '%s' in the catalog (did you mean '%s'?)",
			     name, hint);
	else
		st_error_set(err, ST_E_NOTFOUND, "no dataset '%s' in the catalog", name);
	st_free_strv(names, n);
	return -1;
}

int catalog_missing(struct catalog *c, const char *name, int64_t version, struct st_error *err)
{
	if (version)
		return st_error_set(err, ST_E_NOTFOUND, "dataset '%s' has no version %lld", name,
				    (long long)version);
	return catalog_not_found(c, name, err);
}

static void refs_release(struct catalog_ref *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		st_free(v[i].name);
		st_free(v[i].kind);
	}
	st_free(v);
}

void catalog_card_release(struct catalog_card *k)
{
	char **strs[] = {&k->name, &k->kind, &k->description, &k->owner, &k->domain, &k->system,
			 &k->location, &k->format, &k->retention, &k->subject, &k->compatibility,
			 &k->job, &k->erasure, &k->tags, &k->file};

	for (size_t i = 0; i < sizeof(strs) / sizeof(*strs); i++)
		st_free(*strs[i]);
	st_free(k->versions);
	for (size_t i = 0; i < k->nfields; i++) {
		struct catalog_field *f = &k->fields[i];

		st_free(f->path);
		st_free(f->type);
		st_free(f->item_type);
		st_free(f->pii);
		st_free(f->category);
		st_free(f->transform);
		st_free(f->normalize);
		st_free(f->pii_reason);
		st_free(f->description);
		st_free(f->tags);
		st_free(f->meta);
		st_free_strv(f->from, f->nfrom);
		st_free_strv(f->from_how, f->nfrom);
	}
	st_free(k->fields);
	st_free_strv(k->aliases, k->naliases);
	for (size_t i = 0; i < k->nconstraints; i++) {
		struct catalog_constraint *x = &k->constraints[i];

		st_free(x->kind);
		st_free(x->field);
		st_free(x->detail);
		st_free(x->ref_ds);
		st_free(x->ref_field);
		st_free(x->origin);
	}
	st_free(k->constraints);
	for (size_t i = 0; i < k->nprops; i++) {
		st_free(k->props[i].key);
		st_free(k->props[i].value);
	}
	st_free(k->props);
	st_free(k->detect_regions);
	st_free(k->detect_country_field);
	refs_release(k->upstream, k->nupstream);
	refs_release(k->downstream, k->ndownstream);
	refs_release(k->terms, k->nterms);
	refs_release(k->related, k->nrelated);
	memset(k, 0, sizeof(*k));
}

/* Runs sql (bound to id in ?1 and name in ?2) and collects (name, kind) rows. */
static int get_refs(struct catalog *c, const char *sql, int64_t id, const char *name,
		    struct catalog_ref **out, size_t *n, struct st_error *err)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc, bad = 0;

	if (st_sql_cached(c->db, &st, sql, err))
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (st_grow(out, &cap, *n + 1, sizeof(**out))) {
			bad = 1;
			break;
		}
		(*out)[*n].name = st_sql_col_strdup(st, 0, &bad);
		(*out)[*n].kind = st_sql_col_strdup(st, 1, &bad);
		(*n)++;
		if (bad)
			break;
	}
	st_sql_done(st);
	if (bad)
		return st_error_oom(err);
	if (rc != SQLITE_DONE)
		return st_sql_error(err, c->db, "cannot read dataset");
	return 0;
}

#define KIND_OF(x) "(SELECT kind FROM datasets k WHERE k.name = " x " LIMIT 1)"

static int get_fields(struct catalog *c, int64_t id, struct catalog_card *k,
		      struct st_error *err)
{
	sqlite3_stmt *st = NULL, *from = NULL;
	size_t cap = 0;
	int rc, bad = 0, ret = -1;

	if (st_sql_cached(c->db, &st,
			    "SELECT path, type, item_type, pii, category, transform, normalize,"
			    " pii_reason, description, depth, required, nullable, scan, tags, meta"
			    " FROM fields WHERE dataset_id = ?1 ORDER BY ord",
			    err) ||
	    st_sql_cached(c->db, &from,
			    "SELECT src_ds || '.' || src_field, ttype || coalesce('/' || tsubtype, '')"
			    " || CASE WHEN masking THEN ', masking' ELSE '' END FROM field_edges"
			    " WHERE dataset_id = ?1 AND dst_field = ?2 ORDER BY rowid",
			    err))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct catalog_field *f;
		size_t fcap = 0, hcap = 0;

		if (st_grow(&k->fields, &cap, k->nfields + 1, sizeof(*k->fields)))
			goto nomem;
		f = &k->fields[k->nfields++];
		memset(f, 0, sizeof(*f));
		f->path = st_sql_col_strdup(st, 0, &bad);
		f->type = st_sql_col_strdup(st, 1, &bad);
		f->item_type = st_sql_col_strdup(st, 2, &bad);
		f->pii = st_sql_col_strdup(st, 3, &bad);
		f->category = st_sql_col_strdup(st, 4, &bad);
		f->transform = st_sql_col_strdup(st, 5, &bad);
		f->normalize = st_sql_col_strdup(st, 6, &bad);
		f->pii_reason = st_sql_col_strdup(st, 7, &bad);
		f->description = st_sql_col_strdup(st, 8, &bad);
		f->depth = sqlite3_column_int(st, 9);
		f->required = sqlite3_column_int(st, 10);
		f->nullable = sqlite3_column_int(st, 11);
		f->scan = sqlite3_column_int(st, 12);
		f->tags = st_sql_col_strdup(st, 13, &bad);
		f->meta = st_sql_col_strdup(st, 14, &bad);
		if (bad)
			goto nomem;
		sqlite3_bind_int64(from, 1, id);
		sqlite3_bind_text(from, 2, f->path, -1, SQLITE_STATIC);
		while (sqlite3_step(from) == SQLITE_ROW) {
			if (st_grow(&f->from, &fcap, f->nfrom + 1, sizeof(*f->from)) ||
			    st_grow(&f->from_how, &hcap, f->nfrom + 1, sizeof(*f->from_how)) ||
			    !(f->from[f->nfrom] = st_sql_col_strdup(from, 0, &bad))) {
				sqlite3_reset(from);
				goto nomem;
			}
			f->from_how[f->nfrom] = st_sql_col_strdup(from, 1, &bad);
			f->nfrom++;
			if (bad) {
				sqlite3_reset(from);
				goto nomem;
			}
		}
		sqlite3_reset(from);
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(err, c->db, "cannot read fields");
		goto out;
	}
	ret = 0;
	goto out;
nomem:
	st_error_oom(err);
out:
	st_sql_done(st);
	st_sql_done(from);
	return ret;
}

static int card_get(struct catalog *c, const char *name, int64_t version,
		    struct catalog_card *k, struct st_error *err);

/* Aliases, properties and constraints: the parts of a card dbt fills. */
static int get_extras(struct catalog *c, int64_t id, struct catalog_card *k,
		      struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int bad = 0, ret = -1, rc;

	if (st_sql_cached(c->db, &st,
			    "SELECT alias FROM aliases WHERE dataset_id = ?1 ORDER BY alias", err))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (st_grow(&k->aliases, &cap, k->naliases + 1, sizeof(*k->aliases)))
			goto nomem;
		if ((k->aliases[k->naliases] = st_sql_col_strdup(st, 0, &bad)))
			k->naliases++;
	}
	st_sql_done(st);
	st = NULL;
	cap = 0;
	if (bad)
		goto nomem;
	if (st_sql_cached(c->db, &st,
			    "SELECT key, value FROM dataset_props WHERE dataset_id = ?1 ORDER BY ord",
			    err))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		struct catalog_prop *p;

		/* a descriptor's detect: key (detect_conf.c) has its own place on the card */
		if (key && !strcmp(key, "detect.threshold")) {
			k->detect_threshold = sqlite3_column_int(st, 1);
			continue;
		}
		if (key && !strcmp(key, "detect.regions")) {
			st_free(k->detect_regions);
			k->detect_regions = st_sql_col_strdup(st, 1, &bad);
			continue;
		}
		if (key && !strcmp(key, "detect.country_field")) {
			st_free(k->detect_country_field);
			k->detect_country_field = st_sql_col_strdup(st, 1, &bad);
			continue;
		}
		if (st_grow(&k->props, &cap, k->nprops + 1, sizeof(*k->props)))
			goto nomem;
		p = &k->props[k->nprops++];
		p->key = st_sql_col_strdup(st, 0, &bad);
		p->value = st_sql_col_strdup(st, 1, &bad);
	}
	st_sql_done(st);
	st = NULL;
	cap = 0;
	if (bad)
		goto nomem;
	if (st_sql_cached(c->db, &st,
			    "SELECT kind, field, detail, ref_ds, ref_field, origin FROM constraints"
			    " WHERE dataset_id = ?1 ORDER BY ord",
			    err))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct catalog_constraint *x;

		if (st_grow(&k->constraints, &cap, k->nconstraints + 1, sizeof(*k->constraints)))
			goto nomem;
		x = &k->constraints[k->nconstraints++];
		x->kind = st_sql_col_strdup(st, 0, &bad);
		x->field = st_sql_col_strdup(st, 1, &bad);
		x->detail = st_sql_col_strdup(st, 2, &bad);
		x->ref_ds = st_sql_col_strdup(st, 3, &bad);
		x->ref_field = st_sql_col_strdup(st, 4, &bad);
		x->origin = st_sql_col_strdup(st, 5, &bad);
	}
	if (bad)
		goto nomem;
	ret = 0;
	goto out;
nomem:
	st_error_oom(err);
out:
	st_sql_done(st);
	return ret;
}

int catalog_card_get(struct catalog *c, const char *name, int64_t version,
		     struct catalog_card *k, struct st_error *err)
{
	char *real = NULL;
	int r;

	memset(k, 0, sizeof(*k));
	if (catalog_resolve_alias(c, name, &real, err) < 0)
		return -1;
	r = card_get(c, real ? real : name, version, k, err);
	st_free(real);
	return r;
}

static int card_get(struct catalog *c, const char *name, int64_t version,
		    struct catalog_card *k, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int64_t id;
	size_t cap = 0;
	int ret = -1, bad = 0, rc;

	memset(k, 0, sizeof(*k));
	if (st_sql_cached(c->db, &st,
			    "SELECT d.id, d.name, d.kind, d.description, d.owner, d.domain, d.system,"
			    " d.location, d.format, d.retention, d.subject, d.compatibility, d.job,"
			    " d.erasure, d.tags, f.display, d.version, d.line, d.certified"
			    " FROM datasets d JOIN files f ON f.id = d.file_id WHERE d.name = ?1"
			    " AND (?2 = 0 OR d.version = ?2) ORDER BY d.version DESC LIMIT 1",
			    err))
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, version);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (rc != SQLITE_DONE)
			st_sql_error(err, c->db, "cannot read dataset");
		else
			catalog_missing(c, name, version, err);
		goto out;
	}
	id = sqlite3_column_int64(st, 0);
	{
		char **dst[] = {&k->name, &k->kind, &k->description, &k->owner, &k->domain,
				&k->system, &k->location, &k->format, &k->retention, &k->subject,
				&k->compatibility, &k->job, &k->erasure, &k->tags, &k->file};

		for (int i = 0; i < 15; i++)
			*dst[i] = st_sql_col_strdup(st, i + 1, &bad);
	}
	k->version = sqlite3_column_int64(st, 16);
	k->line = (unsigned)sqlite3_column_int(st, 17);
	k->certified = sqlite3_column_int(st, 18);
	st_sql_done(st);
	st = NULL;
	if (bad)
		goto nomem;
	if (st_sql_cached(c->db, &st, "SELECT version FROM datasets WHERE name = ?1 ORDER BY version",
			    err))
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (st_grow(&k->versions, &cap, k->nversions + 1, sizeof(*k->versions)))
			goto nomem;
		k->versions[k->nversions++] = sqlite3_column_int64(st, 0);
	}
	if (get_fields(c, id, k, err) ||
	    get_refs(c,
		     "SELECT DISTINCT src, " KIND_OF("src") " FROM edges WHERE dataset_id = ?1"
		     " ORDER BY rowid",
		     id, name, &k->upstream, &k->nupstream, err) ||
	    get_refs(c,
		     "SELECT DISTINCT dst, " KIND_OF("dst") " FROM edges WHERE src = ?2 ORDER BY dst",
		     id, name, &k->downstream, &k->ndownstream, err) ||
	    get_refs(c,
		     "SELECT DISTINCT t.name, t.kind FROM term_links l JOIN datasets t"
		     " ON t.id = l.dataset_id WHERE l.target = ?2 ORDER BY t.name",
		     id, name, &k->terms, &k->nterms, err) ||
	    get_refs(c,
		     "SELECT l.target || coalesce('.' || l.field, ''),"
		     " (SELECT k.kind FROM datasets k WHERE k.name = l.target AND (l.field IS NULL"
		     "  OR EXISTS (SELECT 1 FROM fields f WHERE f.dataset_id = k.id"
		     "  AND f.path = l.field)) LIMIT 1)"
		     " FROM term_links l WHERE l.dataset_id = ?1 ORDER BY l.rowid",
		     id, name, &k->related, &k->nrelated, err) ||
	    get_extras(c, id, k, err))
		goto out;
	ret = 0;
	goto out;
nomem:
	st_error_oom(err);
out:
	st_sql_done(st);
	return ret;
}

int catalog_names_in(struct catalog *c, const char *ns, char ***names, size_t *n,
		     struct st_error *err)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc, bad = 0;

	*names = NULL;
	*n = 0;
	/* Names are namespace.name, so the namespace is everything before the one dot. */
	if (st_sql_cached(c->db, &st,
			    "SELECT DISTINCT name FROM datasets WHERE name >= ?1 || '.'"
			    " AND name < ?1 || '/' ORDER BY name",
			    err))
		return -1;
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (st_grow(names, &cap, *n + 1, sizeof(**names)) ||
		    !((*names)[*n] = st_sql_col_strdup(st, 0, &bad))) {
			bad = 1;
			break;
		}
		(*n)++;
	}
	st_sql_done(st);
	if (bad || rc != SQLITE_DONE) {
		st_free_strv(*names, *n);
		*names = NULL;
		*n = 0;
		return bad ? st_error_oom(err) : st_sql_error(err, c->db, "cannot list datasets");
	}
	return 0;
}
