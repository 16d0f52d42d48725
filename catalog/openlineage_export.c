/* The catalog as OpenLineage RunEvents (spec 2-0-2): one COMPLETE event per job and input
 * set, with the schema, columnLineage, ownership, tags, documentation, datasource and
 * steward_pii facets (docs/interop.md, "OpenLineage out"). Deterministic: the same catalog
 * gives the same bytes. Prints nothing; the caller writes the lines it is handed. */
#include "catalog_int.h"
#include "alloc.h"
#include "buf.h"
#include "sql.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_ERROR "cannot read the catalog"

#define OL_SPEC "https://openlineage.io/spec/2-0-2/OpenLineage.json"
#define OL_FACETS "https://openlineage.io/spec/facets/"

/* The _schemaURL of each facet steward writes: the versions in the spec it was built with
 * (../shared/interop/openlineage/spec, commit 8f02abf). */
static const struct {
	const char *key, *url;
} facet_urls[] = {
	{"schema", OL_FACETS "1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"},
	{"columnLineage",
	 OL_FACETS "1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"},
	{"ownership", OL_FACETS "1-0-1/OwnershipDatasetFacet.json#/$defs/OwnershipDatasetFacet"},
	{"tags", OL_FACETS "1-0-0/TagsDatasetFacet.json#/$defs/TagsDatasetFacet"},
	{"documentation",
	 OL_FACETS "1-1-0/DocumentationDatasetFacet.json#/$defs/DocumentationDatasetFacet"},
	{"dataSource", OL_FACETS "1-0-1/DatasourceDatasetFacet.json#/$defs/DatasourceDatasetFacet"},
	{"datasetType",
	 OL_FACETS "1-0-1/DatasetTypeDatasetFacet.json#/$defs/DatasetTypeDatasetFacet"},
	{"version",
	 OL_FACETS "1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet"},
	{"steward_pii", CATALOG_OL_PII_FACET_URL},
	{"job_documentation",
	 OL_FACETS "1-1-0/DocumentationJobFacet.json#/$defs/DocumentationJobFacet"},
};

/* A declared dataset: the latest version of its name. */
struct ol_ds {
	int64_t id, version;
	char *name, *kind, *description, *owner, *system, *location, *job, *loaded_at, *subject;
	char *ns, *olname; /* its OpenLineage identity */
	char *writer;      /* the job that writes it: job, else "steward:<name>" */
	char *job_ns;      /* the namespace of an observed dataset's job, else NULL */
	char **up;         /* lineage.upstream, sorted, without duplicates */
	size_t nup;
	int has_from;      /* a field declares from: */
	long event;        /* the event that writes it, or -1 */
	int read;          /* some event reads it */
};

/* One event: a job and the outputs that share their input set. */
struct ol_event {
	char *job;        /* lineage.job, or the synthetic "steward:<dataset>" */
	const char *ns;   /* its namespace */
	int synthetic;
	size_t *outs;     /* indexes into datasets, by name: a run of the export's order[] */
	size_t nouts;
	int selected;
};

struct ol_export {
	struct catalog *c;
	const struct catalog_ol_opts *o;
	char producer[256];
	struct ol_ds *ds;
	size_t nds, dscap;
	struct ol_event *ev;
	size_t nev, evcap;
	size_t *order; /* datasets with an event, sorted by (job, input set, name) */
	size_t norder;
	sqlite3_stmt *st_fields, *st_tags, *st_cols;
	struct st_error *err;
	/* what OpenLineage import adds to catalog.db, when this catalog has it: observed rows
	 * (datasets, fields, field_edges.observed), their edges' transformations
	 * (field_edges.ttype, tsubtype, masking) and descriptors' claims (ol_claims) */
	int observed_ds, observed_fields, edge_types, claims;
};

const char *catalog_ol_facet_url(const char *key)
{
	for (size_t i = 0; i < sizeof(facet_urls) / sizeof(*facet_urls); i++)
		if (!strcmp(facet_urls[i].key, key))
			return facet_urls[i].url;
	return NULL;
}

static void ds_release(struct ol_ds *d)
{
	st_free(d->name);
	st_free(d->kind);
	st_free(d->description);
	st_free(d->owner);
	st_free(d->system);
	st_free(d->location);
	st_free(d->job);
	st_free(d->loaded_at);
	st_free(d->subject);
	st_free(d->ns);
	st_free(d->olname);
	st_free(d->writer);
	st_free(d->job_ns);
	st_free_strv(d->up, d->nup);
}

static void export_release(struct ol_export *x)
{
	for (size_t i = 0; i < x->nds; i++)
		ds_release(&x->ds[i]);
	st_free(x->ds);
	for (size_t i = 0; i < x->nev; i++)
		st_free(x->ev[i].job);
	st_free(x->ev);
	st_free(x->order);
	sqlite3_finalize(x->st_fields);
	sqlite3_finalize(x->st_tags);
	sqlite3_finalize(x->st_cols);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The declared dataset called name, by binary search (datasets are sorted by name), or
 * NULL when none is. */
static struct ol_ds *find_ds(struct ol_export *x, const char *name)
{
	size_t lo = 0, hi = x->nds;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(name, x->ds[mid].name);

		if (!r)
			return &x->ds[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Whether catalog.db has column col in table (col NULL: the table). */
static int has_column(struct ol_export *x, const char *table, const char *col)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	if (sqlite3_prepare_v2(x->c->db,
			       col ? "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2"
				   : "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
		if (col)
			sqlite3_bind_text(st, 2, col, -1, SQLITE_STATIC);
		r = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return r;
}

/* The (namespace, name) a dataset is exported under (contract 2): namespace "steward" and
 * the steward name verbatim, unless its descriptor claims another with an `openlineage:`
 * key, which the import keeps in ol_claims. */
static int load_identities(struct ol_export *x)
{
	sqlite3_stmt *st = NULL;
	int bad = 0;

	for (size_t i = 0; i < x->nds && !bad; i++)
		if (!(x->ds[i].ns = st_strdup(CATALOG_OL_NAMESPACE)) ||
		    !(x->ds[i].olname = st_strdup(x->ds[i].name)))
			bad = 1;
	if (bad)
		return st_error_oom(x->err);
	if (!x->claims)
		return 0;
	if (st_sql_prepare(x->c->db, &st,
			   "SELECT namespace, name FROM ol_claims WHERE dataset_id = ?1"
			   " ORDER BY namespace, name LIMIT 1",
			   x->err))
		return -1;
	for (size_t i = 0; i < x->nds && !bad; i++) {
		struct ol_ds *d = &x->ds[i];
		char *ns, *name;

		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, d->id);
		if (sqlite3_step(st) != SQLITE_ROW)
			continue;
		ns = st_sql_col_strdup(st, 0, &bad);
		name = st_sql_col_strdup(st, 1, &bad);
		if (ns && name) {
			st_free(d->ns);
			st_free(d->olname);
			d->ns = ns;
			d->olname = name;
		} else {
			st_free(ns);
			st_free(name);
		}
	}
	sqlite3_finalize(st);
	return bad ? st_error_oom(x->err) : 0;
}

/* Reads the latest version of every dataset (glossary terms are no datasets here) and its
 * upstream names. */
static int load_datasets(struct ol_export *x)
{
	sqlite3_stmt *st = NULL, *up = NULL;
	int ret = -1, bad = 0, rc;

	if (st_sql_prepare(x->c->db, &st,
			   x->observed_ds
				   ? "SELECT d.id, d.version, d.name, d.kind, d.description, d.owner,"
				     " d.system, d.location, d.job, f.loaded_at, d.subject,"
				     " EXISTS (SELECT 1 FROM field_edges e WHERE e.dataset_id = d.id),"
				     " d.observed"
				     " FROM datasets d JOIN files f ON f.id = d.file_id"
				     " WHERE d.kind <> 'term' AND NOT EXISTS (SELECT 1 FROM datasets n"
				     " WHERE n.name = d.name AND n.version > d.version)"
				     " ORDER BY d.name"
				   :
			   "SELECT d.id, d.version, d.name, d.kind, d.description, d.owner, d.system,"
			   " d.location, d.job, f.loaded_at, d.subject,"
			   " EXISTS (SELECT 1 FROM field_edges e WHERE e.dataset_id = d.id), 0"
			   " FROM datasets d JOIN files f ON f.id = d.file_id"
			   " WHERE d.kind <> 'term' AND NOT EXISTS (SELECT 1 FROM datasets n"
			   " WHERE n.name = d.name AND n.version > d.version)"
			   " ORDER BY d.name",
			   x->err) ||
	    st_sql_prepare(x->c->db, &up,
			   "SELECT DISTINCT src FROM edges WHERE dataset_id = ?1 ORDER BY src",
			   x->err))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ol_ds *d;
		size_t cap = 0;

		if (st_grow(&x->ds, &x->dscap, x->nds + 1, sizeof(*x->ds))) {
			st_error_oom(x->err);
			goto out;
		}
		d = &x->ds[x->nds++];
		memset(d, 0, sizeof(*d));
		d->id = sqlite3_column_int64(st, 0);
		d->version = sqlite3_column_int64(st, 1);
		d->event = -1;
		d->name = st_sql_col_strdup(st, 2, &bad);
		d->kind = st_sql_col_strdup(st, 3, &bad);
		d->description = st_sql_col_strdup(st, 4, &bad);
		d->owner = st_sql_col_strdup(st, 5, &bad);
		d->system = st_sql_col_strdup(st, 6, &bad);
		d->location = st_sql_col_strdup(st, 7, &bad);
		d->job = st_sql_col_strdup(st, 8, &bad);
		d->loaded_at = st_sql_col_strdup(st, 9, &bad);
		d->subject = st_sql_col_strdup(st, 10, &bad);
		d->has_from = sqlite3_column_int(st, 11);
		if (bad || !d->name || !d->kind || !d->loaded_at) {
			st_error_oom(x->err);
			goto out;
		}
		/* an observed dataset's job is "namespace/name", as its last run named it */
		if (sqlite3_column_int(st, 12) && d->job && strchr(d->job, '/')) {
			char *slash = strchr(d->job, '/'), *name = st_strdup(slash + 1);

			if (!name || !(d->job_ns = st_strndup(d->job, (size_t)(slash - d->job)))) {
				st_free(name);
				st_error_oom(x->err);
				goto out;
			}
			st_free(d->job);
			d->job = name;
		}
		sqlite3_reset(up);
		sqlite3_bind_int64(up, 1, d->id);
		while ((rc = sqlite3_step(up)) == SQLITE_ROW) {
			if (st_grow(&d->up, &cap, d->nup + 1, sizeof(*d->up)) ||
			    !(d->up[d->nup] = st_sql_col_strdup(up, 0, &bad))) {
				st_error_oom(x->err);
				goto out;
			}
			d->nup++;
		}
		if (rc != SQLITE_DONE) {
			st_sql_error(x->err, x->c->db, READ_ERROR);
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(x->err, x->c->db, READ_ERROR);
		goto out;
	}
	ret = load_identities(x);
out:
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	return ret;
}

/* Orders datasets by the job that writes them, then by their input set, then by name:
 * the outputs of one event end up next to each other. */
static int cmp_job_inputs(const void *pa, const void *pb, void *u)
{
	const struct ol_export *x = u;
	const struct ol_ds *a = &x->ds[*(const size_t *)pa], *b = &x->ds[*(const size_t *)pb];
	int r = strcmp(a->writer, b->writer);

	if (!r)
		r = strcmp(a->job_ns ? a->job_ns : "", b->job_ns ? b->job_ns : "");
	for (size_t i = 0; !r && i < a->nup && i < b->nup; i++)
		r = strcmp(a->up[i], b->up[i]);
	if (!r)
		r = a->nup < b->nup ? -1 : a->nup > b->nup;
	return r ? r : strcmp(a->name, b->name);
}

static int same_event(const struct ol_ds *a, const struct ol_ds *b)
{
	if (strcmp(a->writer, b->writer) || a->nup != b->nup ||
	    strcmp(a->job_ns ? a->job_ns : "", b->job_ns ? b->job_ns : ""))
		return 0;
	for (size_t i = 0; i < a->nup; i++)
		if (strcmp(a->up[i], b->up[i]))
			return 0;
	return 1;
}

/* Which datasets are outputs: those with a job, upstream datasets or column lineage, and
 * those no event would mention otherwise (so that every dataset is in the export); the
 * others appear as inputs, with their facets. Groups the outputs into events. */
static int plan_events(struct ol_export *x)
{
	x->order = st_calloc(x->nds ? x->nds : 1, sizeof(*x->order));
	if (!x->order)
		return st_error_oom(x->err);
	for (size_t i = 0; i < x->nds; i++) {
		struct ol_ds *d = &x->ds[i];

		if (d->job || d->nup || d->has_from)
			for (size_t k = 0; k < d->nup; k++) {
				struct ol_ds *s = find_ds(x, d->up[k]);

				if (s)
					s->read = 1;
			}
	}
	for (size_t i = 0; i < x->nds; i++) {
		struct ol_ds *d = &x->ds[i];
		struct st_buf b;

		if (!(d->job || d->nup || d->has_from || !d->read))
			continue;
		st_buf_init(&b, 1u << 20);
		if (d->job ? st_buf_adds(&b, d->job)
			   : st_buf_addf(&b, "%s%s", CATALOG_OL_SYNTHETIC_JOB, d->name)) {
			st_buf_release(&b);
			return st_error_oom(x->err);
		}
		if (!(d->writer = st_buf_detach(&b)))
			return st_error_oom(x->err);
		x->order[x->norder++] = i;
	}
	qsort_r(x->order, x->norder, sizeof(*x->order), cmp_job_inputs, x);
	for (size_t i = 0; i < x->norder; i++) {
		struct ol_ds *d = &x->ds[x->order[i]];
		struct ol_event *e;

		if (!i || !same_event(&x->ds[x->order[i - 1]], d)) {
			if (st_grow(&x->ev, &x->evcap, x->nev + 1, sizeof(*x->ev)))
				return st_error_oom(x->err);
			e = &x->ev[x->nev++];
			memset(e, 0, sizeof(*e));
			if (!(e->job = st_strdup(d->writer)))
				return st_error_oom(x->err);
			e->synthetic = !d->job;
			e->ns = d->job_ns ? d->job_ns : CATALOG_OL_NAMESPACE;
			e->outs = &x->order[i]; /* the outputs of one event are next to each other */
		}
		e = &x->ev[x->nev - 1];
		e->nouts++;
		d->event = (long)(x->nev - 1);
	}
	return 0;
}

/* Marks the events NAME... selects: a job's events; a dataset's writer, or the events that
 * read it when nothing writes it. Unknown names are ST_E_NOTFOUND, with a hint. */
static int select_events(struct ol_export *x)
{
	const struct catalog_ol_opts *o = x->o;

	for (size_t i = 0; i < x->nev; i++)
		x->ev[i].selected = !o->nnames;
	for (size_t k = 0; k < o->nnames; k++) {
		const char *name = o->names[k];
		struct ol_ds *d = find_ds(x, name);
		int found = 0;

		for (size_t i = 0; i < x->nev; i++)
			if (!strcmp(x->ev[i].job, name))
				x->ev[i].selected = found = 1;
		if (d && d->event >= 0) {
			x->ev[d->event].selected = found = 1;
		} else if (d) {
			for (size_t i = 0; i < x->nev; i++)
				for (size_t j = 0; j < x->ev[i].nouts; j++) {
					const struct ol_ds *w = &x->ds[x->ev[i].outs[j]];

					if (w->nup && /* bsearch() takes no NULL array */
					    bsearch(&name, w->up, w->nup, sizeof(*w->up), cmp_str))
						x->ev[i].selected = found = 1;
				}
		}
		if (!found) {
			const char **cands = st_calloc(x->nds + x->nev + 1, sizeof(*cands));
			const char *hint;
			size_t n = 0;
			int term = 0;
			sqlite3_stmt *st = NULL;

			if (!cands)
				return st_error_oom(x->err);
			for (size_t i = 0; i < x->nds; i++)
				cands[n++] = x->ds[i].name;
			for (size_t i = 0; i < x->nev; i++)
				if (!x->ev[i].synthetic)
					cands[n++] = x->ev[i].job;
			hint = catalog_suggest(name, cands, n);
			if (!st_sql_prepare(x->c->db, &st,
					    "SELECT 1 FROM datasets WHERE name = ?1 AND kind = 'term'",
					    x->err)) {
				sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
				term = sqlite3_step(st) == SQLITE_ROW;
			}
			sqlite3_finalize(st);
			if (term)
				st_error_set(x->err, ST_E_NOTFOUND,
					     "'%s' is a glossary term, which OpenLineage has no place for",
					     name);
			else if (hint)
				st_error_set(x->err, ST_E_NOTFOUND,
					     "no dataset or job '%s' in the catalog (did you mean '%s'?)",
					     name, hint);
			else
				st_error_set(x->err, ST_E_NOTFOUND,
					     "no dataset or job '%s' in the catalog", name);
			st_free(cands);
			return -1;
		}
	}
	return 0;
}

/* ---- JSON building ------------------------------------------------------------------- */

/* Appends v to o under key, taking v; a NULL v (out of memory) fails. */
static int put(json_t *o, const char *key, json_t *v)
{
	return !v || json_object_set_new(o, key, v) ? -1 : 0;
}

/* Appends the string s under key when it is set and not empty. */
static int put_str(json_t *o, const char *key, const char *s)
{
	return s && *s ? put(o, key, json_string(s)) : 0;
}

/* The error of a step that failed without saying why: jansson and the allocators only
 * return NULL, so it ran out of memory. Returns -1. */
static int failed(struct ol_export *x)
{
	if (!x->err->msg[0])
		st_error_oom(x->err);
	return -1;
}

/* A new facet object with _producer and the _schemaURL of key. */
static json_t *facet_new(const struct ol_export *x, const char *key)
{
	json_t *f = json_object();

	if (f && (put_str(f, "_producer", x->producer) ||
		  put_str(f, "_schemaURL", catalog_ol_facet_url(key)))) {
		json_decref(f);
		return NULL;
	}
	return f;
}

/* Whether s is an absolute URI by RFC 3986's outline: a scheme, ':', then characters a
 * URI may hold. A location that is not one keeps the dataSource facet to its name. */
static int is_uri(const char *s)
{
	const char *p = s;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return 0;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p++ != ':' || !*p)
		return 0;
	for (; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || strchr("\"<>\\^`{|}", *p))
			return 0;
	return 1;
}

/* The schema and steward_pii facets of dataset d, from its fields in declared order:
 * nested fields (depth > 0) go under their parent's "fields". */
static int fields_facets(struct ol_export *x, const struct ol_ds *d, json_t *facets)
{
	json_t *schema = facet_new(x, "schema"), *pii = facet_new(x, "steward_pii");
	json_t *top = json_array(), *piif = json_object();
	json_t *stack[65] = {0}; /* the open parent at each depth; descriptors nest at most 64 */
	size_t pos[65] = {0};
	int ret = -1, rc;

	if (!schema || !pii || !top || !piif)
		goto out;
	stack[0] = top;
	sqlite3_reset(x->st_fields);
	sqlite3_bind_int64(x->st_fields, 1, d->id);
	while ((rc = sqlite3_step(x->st_fields)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(x->st_fields, 0);
		int depth = sqlite3_column_int(x->st_fields, 1);
		const char *leaf, *cls = (const char *)sqlite3_column_text(x->st_fields, 3);
		json_t *f = json_object(), *p = json_object(), *kids;

		if (!path || !cls || !f || !p) {
			json_decref(f);
			json_decref(p);
			goto out;
		}
		if (depth < 0 || depth > 63 || !stack[depth]) {
			json_decref(f);
			json_decref(p);
			st_error_set(x->err, ST_E_SYSTEM, "%s: field '%s' of '%s' has no parent",
				     READ_ERROR, path, d->name);
			goto out;
		}
		leaf = strrchr(path, '.');
		leaf = leaf ? leaf + 1 : path;
		/* f and p belong to their parents first: nothing leaks when a later step fails */
		if (json_array_append_new(stack[depth], f)) {
			json_decref(p);
			goto out;
		}
		if (put(piif, path, p))
			goto out;
		if (put_str(f, "name", leaf) ||
		    put_str(f, "type", (const char *)sqlite3_column_text(x->st_fields, 2)) ||
		    put_str(f, "description", (const char *)sqlite3_column_text(x->st_fields, 8)) ||
		    put(f, "ordinal_position", json_integer((json_int_t)++pos[depth])) ||
		    put(f, "fields", kids = json_array()))
			goto out;
		/* the next deeper field is this one's child */
		stack[depth + 1] = kids;
		pos[depth + 1] = 0;
		if (put_str(p, "class", cls) ||
		    put_str(p, "category", (const char *)sqlite3_column_text(x->st_fields, 4)) ||
		    put_str(p, "transform", (const char *)sqlite3_column_text(x->st_fields, 5)) ||
		    put_str(p, "normalize", (const char *)sqlite3_column_text(x->st_fields, 6)) ||
		    put_str(p, "reason", (const char *)sqlite3_column_text(x->st_fields, 7)) ||
		    put(p, "derived", json_false()))
			goto out;
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(x->err, x->c->db, READ_ERROR);
		goto out;
	}
	if (put(schema, "fields", json_incref(top)) || put(pii, "fields", json_incref(piif)) ||
	    (d->subject && put_str(pii, "subject", d->subject)) ||
	    put(facets, "schema", json_incref(schema)) ||
	    put(facets, "steward_pii", json_incref(pii)))
		goto out;
	ret = 0;
out:
	if (ret)
		failed(x);
	json_decref(schema);
	json_decref(pii);
	json_decref(top);
	json_decref(piif);
	return ret;
}

/* Removes every empty "fields" array below the schema facet's fields a. */
static void prune_empty(json_t *a)
{
	size_t i;
	json_t *f;

	json_array_foreach(a, i, f) {
		json_t *kids = json_object_get(f, "fields");

		if (kids && !json_array_size(kids))
			json_object_del(f, "fields");
		else if (kids)
			prune_empty(kids);
	}
}

/* The columnLineage facet of d from its fields' from: (contract 4): DIRECT, IDENTITY for a
 * plain copy; TRANSFORMATION with masking for a field that hashes or drops its source (a
 * transform of hash or drop, or a field declared pseudonymous from a source that is not);
 * TRANSFORMATION without masking for mask and truncate. None when no field has from:. */
static int lineage_facet(struct ol_export *x, const struct ol_ds *d, json_t *facets)
{
	json_t *facet = NULL, *fields = NULL;
	int ret = -1, rc;

	if (!d->has_from)
		return 0;
	if (!(facet = facet_new(x, "columnLineage")) || !(fields = json_object()))
		goto out;
	sqlite3_reset(x->st_cols);
	sqlite3_bind_int64(x->st_cols, 1, d->id);
	while ((rc = sqlite3_step(x->st_cols)) == SQLITE_ROW) {
		const char *dst = (const char *)sqlite3_column_text(x->st_cols, 0);
		const char *src_ds = (const char *)sqlite3_column_text(x->st_cols, 1);
		const char *src_field = (const char *)sqlite3_column_text(x->st_cols, 2);
		const char *tr = (const char *)sqlite3_column_text(x->st_cols, 3);
		const char *cls = (const char *)sqlite3_column_text(x->st_cols, 4);
		const char *src_cls = (const char *)sqlite3_column_text(x->st_cols, 5);
		/* an edge an event observed keeps the transformation the event gave it */
		const char *otype = (const char *)sqlite3_column_text(x->st_cols, 6);
		const char *osub = (const char *)sqlite3_column_text(x->st_cols, 7);
		const struct ol_ds *s;
		json_t *entry, *inputs, *in, *t, *ts;
		int masking, identity;

		if (!dst || !src_ds || !src_field)
			goto out;
		masking = (tr && (!strcmp(tr, "hash") || !strcmp(tr, "drop"))) ||
			  (cls && !strcmp(cls, "pseudonymous") &&
			   !(src_cls && !strcmp(src_cls, "pseudonymous")));
		identity = !masking && !(tr && (!strcmp(tr, "mask") || !strcmp(tr, "truncate")));
		if (!(entry = json_object_get(fields, dst))) {
			if (put(fields, dst, entry = json_object()) ||
			    put(entry, "inputFields", json_array()))
				goto out;
		}
		inputs = json_object_get(entry, "inputFields");
		s = find_ds(x, src_ds);
		if (!(in = json_object()) || json_array_append_new(inputs, in) ||
		    put_str(in, "namespace", s ? s->ns : CATALOG_OL_NAMESPACE) ||
		    put_str(in, "name", s ? s->olname : src_ds) ||
		    put_str(in, "field", src_field) || put(in, "transformations", ts = json_array()) ||
		    !(t = json_object()) || json_array_append_new(ts, t) ||
		    put_str(t, "type", otype ? otype : "DIRECT") ||
		    put_str(t, "subtype", otype ? osub : identity ? "IDENTITY" : "TRANSFORMATION") ||
		    put(t, "masking",
			json_boolean(otype ? sqlite3_column_int(x->st_cols, 8) : masking)))
			goto out;
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(x->err, x->c->db, READ_ERROR);
		goto out;
	}
	/* put() takes the value, also when it fails */
	ret = put(facet, "fields", fields);
	fields = NULL;
	if (ret)
		goto out;
	ret = put(facets, "columnLineage", facet);
	facet = NULL;
	if (ret)
		goto out;
	return 0;
out:
	if (ret)
		failed(x);
	json_decref(facet);
	json_decref(fields);
	return ret;
}

/* The facets of declared dataset d (with lineage: its columnLineage too). */
static json_t *dataset_facets(struct ol_export *x, const struct ol_ds *d, int with_lineage)
{
	json_t *facets = json_object(), *f, *a, *o;
	char ver[32];
	int rc;

	if (!facets || fields_facets(x, d, facets))
		goto fail;
	prune_empty(json_object_get(json_object_get(facets, "schema"), "fields"));
	if (with_lineage && lineage_facet(x, d, facets))
		goto fail;
	if (d->description && *d->description) {
		if (!(f = facet_new(x, "documentation")) || put(facets, "documentation", f) ||
		    put_str(f, "description", d->description))
			goto fail;
	}
	if (d->owner && *d->owner) {
		if (!(f = facet_new(x, "ownership")) || put(facets, "ownership", f) ||
		    put(f, "owners", a = json_array()) || !(o = json_object()) ||
		    json_array_append_new(a, o) || put_str(o, "name", d->owner))
			goto fail;
	}
	sqlite3_reset(x->st_tags);
	sqlite3_bind_int64(x->st_tags, 1, d->id);
	a = NULL;
	while ((rc = sqlite3_step(x->st_tags)) == SQLITE_ROW) {
		const char *tag = (const char *)sqlite3_column_text(x->st_tags, 0);

		if (!tag)
			goto fail;
		if (!a && (!(f = facet_new(x, "tags")) || put(facets, "tags", f) ||
			   put(f, "tags", a = json_array())))
			goto fail;
		if (!(o = json_object()) || json_array_append_new(a, o) || put_str(o, "key", tag) ||
		    put_str(o, "value", "true") || put_str(o, "source", "STEWARD"))
			goto fail;
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(x->err, x->c->db, READ_ERROR);
		goto fail;
	}
	if ((d->system && *d->system) || (d->location && is_uri(d->location))) {
		if (!(f = facet_new(x, "dataSource")) || put(facets, "dataSource", f) ||
		    put_str(f, "name", d->system) ||
		    (d->location && is_uri(d->location) && put_str(f, "uri", d->location)))
			goto fail;
	}
	{
		char type[64];
		size_t i;

		for (i = 0; d->kind[i] && i < sizeof(type) - 1; i++)
			type[i] = (char)(d->kind[i] >= 'a' && d->kind[i] <= 'z' ? d->kind[i] - 32
										  : d->kind[i]);
		type[i] = '\0';
		if (!(f = facet_new(x, "datasetType")) || put(facets, "datasetType", f) ||
		    put_str(f, "datasetType", type))
			goto fail;
	}
	snprintf(ver, sizeof(ver), "%lld", (long long)d->version);
	if (!(f = facet_new(x, "version")) || put(facets, "version", f) ||
	    put_str(f, "datasetVersion", ver))
		goto fail;
	return facets;
fail:
	failed(x);
	json_decref(facets);
	return NULL;
}

/* An input or output dataset entry: name is a declared dataset or an external name. */
static json_t *dataset_entry(struct ol_export *x, const char *name, int facets_too,
			     int with_lineage)
{
	const struct ol_ds *d = find_ds(x, name);
	json_t *o = json_object();

	if (!o || put_str(o, "namespace", d ? d->ns : CATALOG_OL_NAMESPACE) ||
	    put_str(o, "name", d ? d->olname : name))
		goto fail;
	if (d && facets_too) {
		json_t *f = dataset_facets(x, d, with_lineage);

		if (!f || put(o, "facets", f))
			goto fail;
	}
	return o;
fail:
	failed(x);
	json_decref(o);
	return NULL;
}

/* Writes the run id: a UUID (RFC 9562 version 8) of the first 16 bytes of BLAKE2b over the
 * event as serialized without it, so the same catalog gives the same ids. */
static void run_id(const char *text, size_t len, char out[37])
{
	unsigned char h[16];

	crypto_generichash(h, sizeof(h), (const unsigned char *)text, len, NULL, 0);
	h[6] = (unsigned char)((h[6] & 0x0f) | 0x80);
	h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12],
		 h[13], h[14], h[15]);
}

/* Builds event i and hands its line to the writer. */
static int write_event(struct ol_export *x, const struct ol_event *e, catalog_ol_write_fn fn,
		       void *u, struct catalog_ol_export_stats *stats)
{
	const struct ol_ds *first = &x->ds[e->outs[0]];
	json_t *ev = json_object(), *run = NULL, *job, *ins, *outs, *jf;
	const char *when = first->loaded_at;
	char *text = NULL, id[37];
	int ret = -1;

	for (size_t i = 1; i < e->nouts; i++)
		if (strcmp(x->ds[e->outs[i]].loaded_at, when) > 0)
			when = x->ds[e->outs[i]].loaded_at;
	if (!ev || put_str(ev, "eventTime", when) || put_str(ev, "eventType", "COMPLETE") ||
	    put_str(ev, "producer", x->producer) ||
	    put_str(ev, "schemaURL", OL_SPEC "#/$defs/RunEvent") ||
	    put(ev, "run", json_incref(run = json_object())) || put(ev, "job", job = json_object()) ||
	    put_str(job, "namespace", e->ns) || put_str(job, "name", e->job))
		goto out;
	if (e->synthetic) {
		char desc[600];
		json_t *doc;

		snprintf(desc, sizeof(desc),
			 "steward's synthetic job for '%s', whose descriptor names no lineage.job",
			 first->name);
		if (put(job, "facets", jf = json_object()) ||
		    !(doc = facet_new(x, "job_documentation")) || put(jf, "documentation", doc) ||
		    put_str(doc, "description", desc))
			goto out;
	}
	if (put(ev, "inputs", ins = json_array()) || put(ev, "outputs", outs = json_array()))
		goto out;
	for (size_t i = 0; i < first->nup; i++) {
		const struct ol_ds *s = find_ds(x, first->up[i]);
		/* a source nothing writes carries its facets here */
		json_t *in = dataset_entry(x, first->up[i], s && s->event < 0, 0);

		if (!in || json_array_append_new(ins, in))
			goto out;
	}
	for (size_t i = 0; i < e->nouts; i++) {
		json_t *out = dataset_entry(x, x->ds[e->outs[i]].name, 1, 1);

		if (!out || json_array_append_new(outs, out))
			goto out;
		stats->datasets++;
	}
	if (!(text = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER)))
		goto out;
	run_id(text, strlen(text), id);
	free(text);
	text = NULL;
	if (put_str(run, "runId", id) ||
	    !(text = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER)))
		goto out;
	if (fn(text, strlen(text), u, x->err))
		goto out;
	stats->events++;
	ret = 0;
out:
	if (ret)
		failed(x);
	free(text);
	json_decref(run);
	json_decref(ev);
	return ret;
}

int catalog_ol_export(struct catalog *c, const struct catalog_ol_opts *o, catalog_ol_write_fn fn,
		      void *u, struct catalog_ol_export_stats *stats, struct st_error *err)
{
	struct ol_export x = {.c = c, .o = o, .err = err};
	int ret = -1;

	memset(stats, 0, sizeof(*stats));
	st_error_init(err); /* failed() tells an unexplained failure by an empty message */
	snprintf(x.producer, sizeof(x.producer), "%s%s", CATALOG_OL_PRODUCER_BASE,
		 o->version ? o->version : "unknown");
	/* one snapshot: a load that commits meanwhile is not half seen */
	if (st_sql_exec(c->db, "BEGIN", err))
		return -1;
	x.observed_ds = has_column(&x, "datasets", "observed");
	x.observed_fields = has_column(&x, "fields", "observed");
	x.edge_types = has_column(&x, "field_edges", "ttype") &&
		       has_column(&x, "field_edges", "observed");
	x.claims = has_column(&x, "ol_claims", NULL);
	if (load_datasets(&x) || plan_events(&x) || select_events(&x))
		goto out;
	/* a field an event named without a steward_pii class: nobody has tagged it yet */
	if (st_sql_prepare(c->db, &x.st_fields,
			   x.observed_fields
				   ? "SELECT path, depth, type,"
				     " CASE WHEN observed = 1 THEN 'unknown' ELSE pii END, category,"
				     " transform, normalize, pii_reason, description FROM fields"
				     " WHERE dataset_id = ?1 ORDER BY ord"
				   : "SELECT path, depth, type, pii, category, transform, normalize,"
				     " pii_reason, description FROM fields WHERE dataset_id = ?1"
				     " ORDER BY ord",
			   err) ||
	    st_sql_prepare(c->db, &x.st_tags,
			   "SELECT tag FROM tags WHERE dataset_id = ?1 ORDER BY tag", err) ||
	    st_sql_prepare(c->db, &x.st_cols,
			   x.edge_types
				   ? "SELECT e.dst_field, e.src_ds, e.src_field, f.transform, f.pii,"
				     " (SELECT sf.pii FROM fields sf JOIN datasets sd"
				     "  ON sd.id = sf.dataset_id WHERE sd.name = e.src_ds"
				     "  AND sf.path = e.src_field ORDER BY sd.version DESC LIMIT 1),"
				     " CASE WHEN e.observed = 1 THEN e.ttype END, e.tsubtype, e.masking"
				     " FROM field_edges e LEFT JOIN fields f"
				     " ON f.dataset_id = e.dataset_id AND f.path = e.dst_field"
				     " WHERE e.dataset_id = ?1 ORDER BY e.rowid"
				   :
			   "SELECT e.dst_field, e.src_ds, e.src_field, f.transform, f.pii,"
			   " (SELECT sf.pii FROM fields sf JOIN datasets sd ON sd.id = sf.dataset_id"
			   "  WHERE sd.name = e.src_ds AND sf.path = e.src_field"
			   "  ORDER BY sd.version DESC LIMIT 1), NULL, NULL, 0"
			   " FROM field_edges e LEFT JOIN fields f"
			   " ON f.dataset_id = e.dataset_id AND f.path = e.dst_field"
			   " WHERE e.dataset_id = ?1 ORDER BY e.rowid",
			   err))
		goto out;
	for (size_t i = 0; i < x.nev; i++)
		if (x.ev[i].selected && write_event(&x, &x.ev[i], fn, u, stats))
			goto out;
	ret = 0;
out:
	sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	export_release(&x);
	return ret;
}
