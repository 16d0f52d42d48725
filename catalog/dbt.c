/* dbt artifacts as a catalog source: a manifest.json (v1 to v12), with the catalog.json
 * beside it, becomes datasets, fields, lineage, constraints and aliases; descriptor
 * documents with `extends:` add PII tags, erasure rules and a subject to those datasets.
 * Mapping and merge rules: docs/interop.md, section "dbt". */
#include "dbt_int.h"
#include "alloc.h"
#include "file.h"
#include "buf.h"
#include "sql.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DBT_MAX_FILE (512u << 20) /* bytes per manifest.json or catalog.json */
#define DBT_MIN_VERSION 1
#define DBT_MAX_VERSION 12
#define DBT_MAPPING "dbt-mapping-1" /* change it when the mapping changes: manifests reload */
#define HASH_LEN 32

/* ---- small helpers ---- */

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : NULL;
}

/* A JSON path element: the key bare when it is a plain word, else in double quotes. */
static const char *qk(const char *key, char *buf, size_t n)
{
	size_t i;

	for (i = 0; key[i]; i++)
		if (!isalnum((unsigned char)key[i]) && key[i] != '_')
			break;
	if (!key[i] && i)
		return key;
	snprintf(buf, n, "\"%s\"", key);
	return buf;
}

static int oom(struct catalog_dbt_ctx *x)
{
	return st_error_oom(x->err);
}

/* Whether the first 4 KiB of path name a dbt_schema_version: dbt writes metadata first. */
static int names_dbt_schema(const char *path)
{
	char head[4097];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	r = read(fd, head, sizeof(head) - 1);
	close(fd);
	if (r <= 0)
		return 0;
	head[r] = '\0';
	return strstr(head, "\"dbt_schema_version\"") != NULL;
}

int catalog_dbt_is_project(const char *dir)
{
	char path[4096];
	struct stat sb;
	int n = snprintf(path, sizeof(path), "%s/dbt_project.yml", dir);

	return n > 0 && (size_t)n < sizeof(path) && !stat(path, &sb) && S_ISREG(sb.st_mode);
}

int catalog_dbt_own(const char *name, int is_dir)
{
	static const char *const dirs[] = {"models", "seeds",	     "snapshots",  "analyses",
					   "macros", "tests",	     "data",	   "target",
					   "logs",   "dbt_packages", "dbt_modules"};
	static const char *const files[] = {"dbt_project.yml", "packages.yml", "dependencies.yml",
					    "selectors.yml",   "profiles.yml", "package-lock.yml"};

	return is_dir ? catalog_dbt_one_of(name, dirs, sizeof(dirs) / sizeof(*dirs))
		      : catalog_dbt_one_of(name, files, sizeof(files) / sizeof(*files));
}

int catalog_dbt_is_json(const char *path)
{
	size_t n = strlen(path);

	return n > 5 && !strcmp(path + n - 5, ".json") && names_dbt_schema(path);
}

int catalog_dbt_sniff(const char *path, const char *base)
{
	return !strcmp(base, "manifest.json") && names_dbt_schema(path);
}

int catalog_dbt_is_extension(const struct catalog_ynode *root)
{
	return root && root->type == CATALOG_Y_MAP && catalog_ymap_get(root, "extends") != NULL;
}

/* Reads a whole file of at most DBT_MAX_FILE bytes. Returns 0; 1 when it does not exist
 * (missing_ok); -1 after a diagnostic; -2 with x->err. */
static int read_all(struct catalog_dbt_ctx *x, const char *path, const char *display,
		    int missing_ok, unsigned char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char *p = NULL;
	const char *why;
	struct stat sb;

	*out = NULL;
	*len = 0;
	if (fd < 0 && missing_ok && errno == ENOENT)
		return 1;
	if (fd < 0 || fstat(fd, &sb)) {
		catalog_dbt_diag(x, ST_SEV_ERROR, display, 0, 0, "cannot read: %s",
				 strerror(errno));
		goto fail;
	}
	if (sb.st_size > (off_t)DBT_MAX_FILE) {
		catalog_dbt_diag(
			x, ST_SEV_ERROR, display, 0, 0,
			"file is %lld bytes, over the limit of %u bytes for a dbt artifact",
			(long long)sb.st_size, DBT_MAX_FILE);
		goto fail;
	}
	if (!(p = st_malloc((size_t)sb.st_size + 1))) {
		close(fd);
		return oom(x) - 1;
	}
	if ((why = st_file_read_exact(fd, p, (size_t)sb.st_size))) {
		catalog_dbt_diag(x, ST_SEV_ERROR, display, 0, 0, "cannot read: %s", why);
		goto fail;
	}
	close(fd);
	*out = p;
	*len = (size_t)sb.st_size;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	st_free(p);
	return x->err->code ? -2 : -1;
}

/* ---- names: relations, quoting and case ---- */

enum { FOLD_KEEP, FOLD_LOWER, FOLD_UPPER };

/* How the adapter's database treats unquoted identifiers. */
static int fold_of(const char *adapter)
{
	static const char *const upper[] = {"snowflake", "oracle", "exasol", "db2", "firebolt"};
	static const char *const lower[] = {"postgres",	  "redshift", "duckdb",	   "databricks",
					    "spark",	  "trino",    "athena",	   "materialize",
					    "sqlite",	  "glue",     "greenplum", "vertica",
					    "risingwave", "starrocks"};

	for (size_t i = 0; adapter && i < sizeof(upper) / sizeof(*upper); i++)
		if (!strcmp(adapter, upper[i]))
			return FOLD_UPPER;
	for (size_t i = 0; adapter && i < sizeof(lower) / sizeof(*lower); i++)
		if (!strcmp(adapter, lower[i]))
			return FOLD_LOWER;
	return FOLD_KEEP;
}

/* Whether part (database, schema, identifier) of node n is quoted: the node's quoting
 * (sources) or config.quoting, else the project's (metadata.quoting), else the adapter's
 * default: Snowflake quotes nothing, the others quote everything. */
static int quoted(const json_t *n, const json_t *meta, const char *part, const char *adapter)
{
	const json_t *q = json_object_get(n, "quoting"), *v;

	if (!json_is_object(q) || !json_is_boolean(json_object_get(q, part)))
		q = json_object_get(json_object_get(n, "config"), "quoting");
	v = json_object_get(q, part);
	if (!json_is_boolean(v))
		v = json_object_get(json_object_get(meta, "quoting"), part);
	if (json_is_boolean(v))
		return json_is_true(v);
	return !(adapter && !strcmp(adapter, "snowflake"));
}

static void fold(char *s, int mode)
{
	for (; *s; s++)
		*s = (char)(mode == FOLD_UPPER	 ? toupper((unsigned char)*s)
			    : mode == FOLD_LOWER ? tolower((unsigned char)*s)
						 : *s);
}

/* Appends s with every character outside [A-Za-z0-9_-] replaced by '_'. */
static int add_clean(struct st_buf *b, const char *s)
{
	if (!*s)
		return st_buf_add(b, "_", 1);
	for (; *s; s++) {
		char c = isalnum((unsigned char)*s) || *s == '_' || *s == '-' ? *s : '_';

		if (st_buf_add(b, &c, 1))
			return -1;
	}
	return 0;
}

/* Appends column name s as a field path: like add_clean(), but a dot between two names
 * stays, making a nested field (BigQuery's catalog names struct members parent.member). */
static int add_clean_path(struct st_buf *b, const char *s)
{
	size_t start = b->len;

	if (add_clean(b, s))
		return -1;
	for (size_t i = 0; s[i]; i++)
		if (s[i] == '.' && i && s[i + 1] && s[i - 1] != '.' && s[i + 1] != '.')
			b->p[start + i] = '.';
	return 0;
}

static int depth_of(const char *path)
{
	int n = 0;

	for (; *path; path++)
		n += *path == '.';
	return n;
}

/* ---- one manifest ---- */

enum { R_MODEL, R_SNAPSHOT, R_SEED, R_SOURCE };

struct rel {
	const char *uid;
	json_t *node; /* the manifest's node */
	json_t *cat;  /* its catalog.json entry, or NULL */
	const char *section;
	int rank; /* R_*: which node of a dataset speaks first */
};

struct col {
	char *name;
	char *type, *desc, *pii, *category, *transform, *normalize, *reason;
	char *ppath; /* JSON path of what set pii, for messages */
	int skip;    /* its name is another column's in steward: not stored */
	json_t *meta, *tags;
};

struct dset {
	char *name, *ident;
	size_t *rels;
	size_t nrels, cap;
	const char *exposure; /* exposure unique_id, for exposures */
	int64_t id;
	int relation_done;
	struct col *cols;
	size_t ncols, ccap;
};

enum {
	Q_DS_INS,
	Q_FIELD_INS,
	Q_TAG_INS,
	Q_EDGE_INS,
	Q_ALIAS_INS,
	Q_PROP_INS,
	Q_FPROP_INS,
	Q_CONS_INS,
	Q_TOUCH,
	Q_COUNT
};

static const char *const q_sql[Q_COUNT] = {
	[Q_DS_INS] =
		"INSERT INTO datasets(name, version, kind, description, owner, system, location,"
		" tags, certified, npii, file_id, line, col, gen) VALUES (?1, 1, ?2, ?3, ?4, ?5,"
		" ?6, ?7, ?8, ?9, ?10, 0, 0, ?11)",
	[Q_FIELD_INS] = "INSERT INTO fields(dataset_id, ord, path, depth, type, pii, category,"
			" transform, normalize, pii_reason, description, line, col)"
			" VALUES (?1, ?2, ?3, ?11, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, 0)",
	[Q_TAG_INS] = "INSERT OR IGNORE INTO tags(dataset_id, tag) VALUES (?1, ?2)",
	[Q_EDGE_INS] =
		"INSERT INTO edges(dataset_id, src, dst, line, col) VALUES (?1, ?2, ?3, 0, 0)",
	[Q_ALIAS_INS] =
		"INSERT OR IGNORE INTO aliases(alias, dataset_id, origin) VALUES (?1, ?2, 'dbt')",
	[Q_PROP_INS] =
		"INSERT INTO dataset_props(dataset_id, ord, key, value)"
		" VALUES (?1, (SELECT count(*) FROM dataset_props WHERE dataset_id = ?1), ?2, ?3)",
	[Q_FPROP_INS] = "INSERT OR REPLACE INTO field_props(dataset_id, path, key, value)"
			" VALUES (?1, ?2, ?3, ?4)",
	[Q_CONS_INS] = "INSERT INTO constraints(dataset_id, ord, kind, field, detail, ref_ds,"
		       " ref_field, origin) VALUES (?1, (SELECT count(*) FROM constraints"
		       " WHERE dataset_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7)",
	[Q_TOUCH] = "INSERT OR IGNORE INTO temp.touched(name) VALUES (?1)",
};

struct mfload {
	struct catalog_dbt_ctx *x;
	const char *file; /* display name, for messages */
	int64_t file_id;
	json_t *root, *catalog, *meta;
	const char *adapter;
	int fold, version;
	struct rel *rels;
	size_t nrels, rcap;
	struct dset *ds;
	size_t nds, dcap;
	json_t *dsof;	   /* unique_id -> dataset index */
	json_t *ephemeral; /* unique_id -> node */
	json_t *names;	   /* steward name -> dataset index */
	sqlite3_stmt *q[Q_COUNT];
};

static void col_release(struct col *c)
{
	st_free(c->name);
	st_free(c->type);
	st_free(c->desc);
	st_free(c->pii);
	st_free(c->category);
	st_free(c->transform);
	st_free(c->normalize);
	st_free(c->reason);
	st_free(c->ppath);
	json_decref(c->meta);
	json_decref(c->tags);
}

static void mf_release(struct mfload *m)
{
	for (size_t i = 0; i < m->nds; i++) {
		st_free(m->ds[i].name);
		st_free(m->ds[i].ident);
		st_free(m->ds[i].rels);
		for (size_t k = 0; k < m->ds[i].ncols; k++)
			col_release(&m->ds[i].cols[k]);
		st_free(m->ds[i].cols);
	}
	st_free(m->ds);
	st_free(m->rels);
	json_decref(m->dsof);
	json_decref(m->ephemeral);
	json_decref(m->names);
	json_decref(m->root);
	json_decref(m->catalog);
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(m->q[i]);
}

static int err_at(struct mfload *m, const char *fmt, ...) ST_PRINTF(2, 3);
static int warn_at(struct mfload *m, const char *fmt, ...) ST_PRINTF(2, 3);

/* An error in the manifest, its message starting with a JSON path. */
static int err_at(struct mfload *m, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return catalog_dbt_diag(m->x, ST_SEV_ERROR, m->file, 0, 0, "%s", msg);
}

/* The dbt schema version N of ".../manifest/vN.json", or -1. */
static int schema_version(const char *url)
{
	const char *p = url ? strstr(url, "/manifest/v") : NULL;
	char *end;
	long v;

	if (!p)
		return -1;
	v = strtol(p + 11, &end, 10);
	if (end == p + 11 || strcmp(end, ".json") || v < 0 || v > 1000)
		return -1;
	return (int)v;
}

static int rank_of(const char *rtype)
{
	if (!strcmp(rtype, "model"))
		return R_MODEL;
	if (!strcmp(rtype, "snapshot"))
		return R_SNAPSHOT;
	if (!strcmp(rtype, "seed"))
		return R_SEED;
	if (!strcmp(rtype, "source"))
		return R_SOURCE;
	return -1;
}

static int enabled(const json_t *n)
{
	const json_t *e = json_object_get(json_object_get(n, "config"), "enabled");

	return !json_is_false(e);
}

/* The folded identity of node n's relation (database \x1f schema \x1f identifier) and its
 * steward name: <database>-<schema>.<identifier>, or <schema>.<identifier> without a
 * database, each part with characters outside [A-Za-z0-9_-] replaced by '_'. */
static int relation(struct mfload *m, const struct rel *r, char **ident, char **name)
{
	const char *parts[3], *keys[3] = {"database", "schema", "identifier"};
	struct st_buf id, nm;
	int ret = -1;

	parts[0] = jstr(r->node, "database");
	parts[1] = jstr(r->node, "schema");
	parts[2] = r->rank == R_SOURCE ? jstr(r->node, "identifier") : jstr(r->node, "alias");
	if (!parts[2])
		parts[2] = jstr(r->node, "name");
	*ident = *name = NULL;
	st_buf_init(&id, 4096);
	st_buf_init(&nm, 4096);
	for (int i = 0; i < 3; i++) {
		char *p;

		if (!parts[i]) {
			if (i == 0)
				continue;
			char b[512];

			err_at(m, "%s.%s: no %s", r->section, qk(r->uid, b, sizeof(b)),
			       i == 1 ? "schema" : "alias, identifier or name");
			ret = -1;
			goto out;
		}
		if (!(p = st_strdup(parts[i])))
			goto nomem;
		if (!quoted(r->node, m->meta, keys[i], m->adapter))
			fold(p, m->fold);
		if (st_buf_adds(&id, p) || st_buf_add(&id, "\x1f", 1) || add_clean(&nm, p) ||
		    st_buf_add(&nm,
			       i == 0	? "-"
			       : i == 1 ? "."
					: "",
			       i == 2 ? 0 : 1)) {
			st_free(p);
			goto nomem;
		}
		st_free(p);
	}
	*ident = st_buf_detach(&id);
	*name = st_buf_detach(&nm);
	if (!*ident || !*name)
		goto nomem;
	ret = 0;
	goto out;
nomem:
	ret = oom(m->x);
out:
	if (ret) {
		st_free(*ident);
		st_free(*name);
		*ident = *name = NULL;
	}
	st_buf_release(&id);
	st_buf_release(&nm);
	return ret;
}

static int add_rel(struct mfload *m, const char *section, const char *uid, json_t *node, int rank)
{
	struct rel *r;

	if (st_grow(&m->rels, &m->rcap, m->nrels + 1, sizeof(*m->rels)))
		return oom(m->x);
	r = &m->rels[m->nrels++];
	r->uid = uid;
	r->node = node;
	r->section = section;
	r->rank = rank;
	r->cat = json_object_get(
		json_object_get(m->catalog, !strcmp(section, "sources") ? "sources" : "nodes"),
		uid);
	return 0;
}

/* Finds or makes the dataset of relation ident (name: its steward name). */
static int dataset_for(struct mfload *m, size_t ri, char *ident, char *name)
{
	struct rel *r = &m->rels[ri];
	json_t *at = json_object_get(m->names, name);
	struct dset *d;
	size_t di;

	if (at) {
		di = (size_t)json_integer_value(at);
		d = &m->ds[di];
		if (strcmp(d->ident, ident)) {
			char b1[512], b2[512];
			int r1 = warn_at(m,
					 "%s.%s: relation maps to dataset '%s', as does %s.%s; it "
					 "is skipped",
					 r->section, qk(r->uid, b1, sizeof(b1)), name,
					 m->rels[d->rels[0]].section,
					 qk(m->rels[d->rels[0]].uid, b2, sizeof(b2)));

			st_free(ident);
			st_free(name);
			return r1;
		}
		st_free(ident);
		st_free(name);
	} else {
		if (st_grow(&m->ds, &m->dcap, m->nds + 1, sizeof(*m->ds))) {
			st_free(ident);
			st_free(name);
			return oom(m->x);
		}
		di = m->nds++;
		d = &m->ds[di];
		memset(d, 0, sizeof(*d));
		d->name = name;
		d->ident = ident;
		if (json_object_set_new(m->names, name, json_integer((json_int_t)di)))
			return oom(m->x);
	}
	if (st_grow(&d->rels, &d->cap, d->nrels + 1, sizeof(*d->rels)))
		return oom(m->x);
	/* Keep the dataset's nodes in rank order: a model speaks before a seed or a source. */
	{
		size_t k = d->nrels++;

		while (k && m->rels[d->rels[k - 1]].rank > r->rank) {
			d->rels[k] = d->rels[k - 1];
			k--;
		}
		d->rels[k] = ri;
	}
	if (json_object_set_new(m->dsof, r->uid, json_integer((json_int_t)di)))
		return oom(m->x);
	return 0;
}

/* Pass 1: every enabled model, seed, snapshot and source with a relation. */
static int collect_rels(struct mfload *m)
{
	static const char *const sections[] = {"nodes", "sources"};

	for (int s = 0; s < 2; s++) {
		json_t *sec = json_object_get(m->root, sections[s]), *n;
		const char *uid;

		if (sec && !json_is_object(sec))
			return err_at(m, "%s: not an object", sections[s]);
		json_object_foreach(sec, uid, n)
		{
			const char *rtype = jstr(n, "resource_type");
			const char *mat = jstr(json_object_get(n, "config"), "materialized");
			int rank;

			if (!json_is_object(n) || !rtype || (rank = rank_of(rtype)) < 0 ||
			    !enabled(n))
				continue;
			if (rank == R_MODEL && mat && !strcmp(mat, "ephemeral")) {
				if (json_object_set(m->ephemeral, uid, n))
					return oom(m->x);
				continue;
			}
			if (add_rel(m, sections[s], uid, n, rank))
				return -1;
		}
	}
	for (size_t i = 0; i < m->nrels; i++) {
		char *ident, *name;

		if (relation(m, &m->rels[i], &ident, &name)) {
			if (m->x->err->code)
				return -1;
			continue; /* reported */
		}
		if (dataset_for(m, i, ident, name) && m->x->err->code)
			return -1;
	}
	return 0;
}

/* ---- columns and their PII ---- */

static struct col *find_col(struct dset *d, const char *name)
{
	for (size_t i = 0; i < d->ncols; i++)
		if (!strcasecmp(d->cols[i].name, name))
			return &d->cols[i];
	return NULL;
}

/* The column of d named name (as the database spells it when quoted), made when missing. */
static struct col *get_col(struct mfload *m, struct dset *d, const char *name, int is_quoted)
{
	struct col *c = find_col(d, name);
	struct st_buf b;

	if (c)
		return c;
	if (st_grow(&d->cols, &d->ccap, d->ncols + 1, sizeof(*d->cols))) {
		oom(m->x);
		return NULL;
	}
	c = &d->cols[d->ncols];
	memset(c, 0, sizeof(*c));
	st_buf_init(&b, 4096);
	if (add_clean_path(&b, name) || !(c->name = st_buf_detach(&b))) {
		st_buf_release(&b);
		oom(m->x);
		return NULL;
	}
	if (!is_quoted)
		fold(c->name, m->fold);
	d->ncols++;
	return c;
}

static int set_str(struct mfload *m, char **dst, const char *v)
{
	if (*dst || !v)
		return 0;
	if (!(*dst = st_strdup(v)))
		return oom(m->x);
	return 0;
}

/* One PII setting (key: pii, category, transform, normalize, pii_reason) of column c, from
 * where (a JSON path). Checks the value and that it agrees with what another source set. */
static int pii_value(struct mfload *m, struct col *c, const char *key, const char *v,
		     const char *where)
{
	char **dst = !strcmp(key, "pii")	 ? &c->pii
		     : !strcmp(key, "category")	 ? &c->category
		     : !strcmp(key, "transform") ? &c->transform
		     : !strcmp(key, "normalize") ? &c->normalize
						 : &c->reason;
	struct st_error e = ST_ERROR_INIT;

	if (!strcmp(key, "pii") &&
	    !catalog_dbt_one_of(v, catalog_dbt_classes, CATALOG_DBT_NCLASSES))
		return err_at(m, "%s: unknown class \"%s\"", where, v);
	if (!strcmp(key, "category") && !catalog_taxonomy_find(m->x->c->tax, v) &&
	    catalog_category_check(v, &e))
		return err_at(m, "%s: %s", where, e.msg);
	if (!strcmp(key, "transform") &&
	    !catalog_dbt_one_of(v, catalog_dbt_transforms, CATALOG_DBT_NTRANSFORMS))
		return err_at(m, "%s: unknown transform \"%s\"", where, v);
	if (!strcmp(key, "normalize") &&
	    !catalog_dbt_one_of(v, catalog_dbt_normalizers, CATALOG_DBT_NNORMALIZERS))
		return err_at(m, "%s: unknown normalizer \"%s\"", where, v);
	if (*dst && strcmp(*dst, v)) {
		if (!strcmp(key, "pii") && c->ppath)
			return err_at(m, "%s: \"%s\" conflicts with \"%s\" from %s", where, v, *dst,
				      c->ppath);
		return err_at(m, "%s: \"%s\" conflicts with \"%s\" set before for column '%s'",
			      where, v, *dst, c->name);
	}
	if (!*dst && !(*dst = st_strdup(v)))
		return oom(m->x);
	if (!strcmp(key, "pii") && !c->ppath && !(c->ppath = st_strdup(where)))
		return oom(m->x);
	return 0;
}

static const char *const pii_keys[] = {"pii", "category", "transform", "normalize", "pii_reason"};

static int warn_at(struct mfload *m, const char *fmt, ...) ST_PRINTF(2, 3);

/* A warning in the manifest, its message starting with a JSON path. */
static int warn_at(struct mfload *m, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return catalog_dbt_diag(m->x, ST_SEV_WARNING, m->file, 0, 0, "%s", msg);
}

/* PII settings from a meta object (column meta or config.meta) at path. category,
 * transform, normalize and pii_reason are read only from a meta that sets pii (or as
 * pii_category, pii_transform, pii_normalize): a bare `category` may mean something else
 * to the team. pii: false means none; other values that are not strings (true, a number,
 * an object) say no class: a warning, and the column stays unknown. */
static int pii_from_meta(struct mfload *m, struct col *c, const json_t *meta, const char *path)
{
	static const char *const alt[] = {NULL, "pii_category", "pii_transform", "pii_normalize",
					  NULL};
	int has_pii = json_object_get(meta, "pii") && !json_is_null(json_object_get(meta, "pii"));

	for (size_t i = 0; i < sizeof(pii_keys) / sizeof(*pii_keys); i++) {
		const char *key = pii_keys[i];
		const json_t *v = has_pii || !i ? json_object_get(meta, key) : NULL;
		char where[2048];

		if ((!v || json_is_null(v)) && alt[i]) {
			key = alt[i];
			v = json_object_get(meta, key);
		}
		if (!v || json_is_null(v))
			continue;
		snprintf(where, sizeof(where), "%s.%s", path, key);
		if (!i && json_is_false(v)) {
			if (pii_value(m, c, "pii", "none", where) && m->x->err->code)
				return -1;
			continue;
		}
		if (!json_is_string(v)) {
			if (warn_at(m,
				    "%s: not a %s; the column stays unknown (use a string such as "
				    "%s)",
				    where, i ? "string" : "pii class",
				    i ? "user.contact.email" : "direct, indirect or none"))
				return -1;
			continue;
		}
		if (pii_value(m, c, pii_keys[i], json_string_value(v), where) && m->x->err->code)
			return -1;
	}
	return 0;
}

/* PII settings from tags: pii:<class>, pii-category:<key>, pii-transform:<t>,
 * pii-normalize:<n>. */
static int pii_from_tags(struct mfload *m, struct col *c, const json_t *tags, const char *path)
{
	static const struct {
		const char *prefix, *key;
	} map[] = {{"pii:", "pii"},
		   {"pii-category:", "category"},
		   {"pii-transform:", "transform"},
		   {"pii-normalize:", "normalize"}};
	size_t i;
	json_t *t;

	json_array_foreach(tags, i, t)
	{
		const char *s = json_string_value(t);
		char where[2048];

		for (size_t k = 0; s && k < sizeof(map) / sizeof(*map); k++) {
			size_t n = strlen(map[k].prefix);

			if (strncmp(s, map[k].prefix, n))
				continue;
			snprintf(where, sizeof(where), "%s[%zu]", path, i);
			/* A tag such as pii:yes is a team's own convention: a warning, not an
			 * error. */
			if (!strcmp(map[k].key, "pii") &&
			    !catalog_dbt_one_of(s + n, catalog_dbt_classes, CATALOG_DBT_NCLASSES)) {
				if (warn_at(m, "%s: tag \"%s\" names no pii class; ignored", where,
					    s))
					return -1;
				continue;
			}
			if (pii_value(m, c, map[k].key, s + n, where) && m->x->err->code)
				return -1;
		}
	}
	return 0;
}

struct catcol {
	json_int_t index;
	size_t seq;
	const char *key;
	json_t *v;
};

static int by_index(const void *a, const void *b)
{
	const struct catcol *x = a, *y = b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Columns of dataset d: the catalog.json's (the database's, in its order), then those the
 * manifest documents; descriptions, types, tags, meta and PII merged by name. */
static int build_cols(struct mfload *m, struct dset *d)
{
	for (size_t k = 0; k < d->nrels; k++) {
		const struct rel *r = &m->rels[d->rels[k]];
		json_t *cols = json_object_get(r->cat, "columns"), *cv;
		size_t n = 0, want = json_object_size(cols);
		struct catcol *v;
		const char *cname;

		if (!want)
			continue;
		if (!(v = st_calloc(want, sizeof(*v))))
			return oom(m->x);
		json_object_foreach(cols, cname, cv)
		{
			v[n].index = json_integer_value(json_object_get(cv, "index"));
			v[n].seq = n;
			v[n].key = cname;
			v[n++].v = cv;
		}
		qsort(v, n, sizeof(*v), by_index);
		for (size_t i = 0; i < n; i++) {
			const char *nm = jstr(v[i].v, "name");
			struct col *c;

			if (!(c = get_col(m, d, nm ? nm : v[i].key, 1)) ||
			    set_str(m, &c->type, jstr(v[i].v, "type")) ||
			    set_str(m, &c->desc, jstr(v[i].v, "comment"))) {
				st_free(v);
				return -1;
			}
		}
		st_free(v);
	}
	for (size_t k = 0; k < d->nrels; k++) {
		const struct rel *r = &m->rels[d->rels[k]];
		json_t *cols = json_object_get(r->node, "columns"), *cv;
		const char *cname;
		char b1[512], b2[512], path[2048];

		json_object_foreach(cols, cname, cv)
		{
			const char *nm = jstr(cv, "name");
			json_t *cfg = json_object_get(cv, "config");
			json_t *tags = json_object_get(cv, "tags");
			struct col *c;

			if (!json_is_object(cv))
				continue;
			if (!(c = get_col(m, d, nm ? nm : cname,
					  json_is_true(json_object_get(cv, "quote")))) ||
			    set_str(m, &c->desc, jstr(cv, "description")) ||
			    set_str(m, &c->type, jstr(cv, "data_type")))
				return -1;
			snprintf(path, sizeof(path), "%s.%s.columns.%s", r->section,
				 qk(r->uid, b1, sizeof(b1)), qk(cname, b2, sizeof(b2)));
			{
				char p2[2100];

				snprintf(p2, sizeof(p2), "%s.meta", path);
				if (pii_from_meta(m, c, json_object_get(cv, "meta"), p2))
					return -1;
				snprintf(p2, sizeof(p2), "%s.config.meta", path);
				if (pii_from_meta(m, c, json_object_get(cfg, "meta"), p2))
					return -1;
				snprintf(p2, sizeof(p2), "%s.tags", path);
				if (pii_from_tags(m, c, tags, p2))
					return -1;
				snprintf(p2, sizeof(p2), "%s.config.tags", path);
				if (pii_from_tags(m, c, json_object_get(cfg, "tags"), p2))
					return -1;
			}
			if (json_object_size(json_object_get(cv, "meta")) && !c->meta)
				c->meta = json_incref(json_object_get(cv, "meta"));
			if (json_array_size(tags) && !c->tags)
				c->tags = json_incref(tags);
		}
	}
	return 0;
}

/* Columns that clean to one field name (order id, order_id) cannot both be fields: the
 * later one is skipped, with a warning. */
static int check_cols(struct mfload *m, struct dset *d)
{
	const struct rel *first = &m->rels[d->rels[0]];
	json_t *seen = json_object();
	char b1[512];
	int ret = 0;

	if (!seen)
		return oom(m->x);
	for (size_t i = 0; !ret && i < d->ncols; i++) {
		json_t *at = json_object_get(seen, d->cols[i].name);

		if (at) {
			d->cols[i].skip = 1;
			ret = warn_at(
				m,
				"%s.%s: two columns have the name '%s' in steward; the second is "
				"skipped",
				first->section, qk(first->uid, b1, sizeof(b1)), d->cols[i].name);
		} else if (json_object_set_new(seen, d->cols[i].name, json_true()))
			ret = oom(m->x);
	}
	json_decref(seen);
	return m->x->err->code ? -1 : 0;
}

/* ---- storing ---- */

static int prop(struct mfload *m, int64_t id, const char *key, const char *value)
{
	sqlite3_stmt *st = m->q[Q_PROP_INS];

	if (!value)
		return 0;
	sqlite3_bind_int64(st, 1, id);
	catalog_dbt_bind(st, 2, key);
	catalog_dbt_bind(st, 3, value);
	return catalog_dbt_step(m->x, st, "cannot store dataset property");
}

static int prop_json(struct mfload *m, int64_t id, const char *key, const json_t *v)
{
	char *s;
	int r;

	if (!v || json_is_null(v) || (json_is_object(v) && !json_object_size(v)))
		return 0;
	if (!(s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)))
		return oom(m->x);
	r = prop(m, id, key, s);
	free(s);
	return r;
}

/* Binds free text after the catalog's scrubber, warning (without the value) when it held
 * personal data. */
static int bind_scrubbed(struct mfload *m, sqlite3_stmt *st, int i, const char *text,
			 const char *where)
{
	struct catalog *c = m->x->c;
	size_t found = 0, n;
	char *clean;

	if (!text)
		return sqlite3_bind_null(st, i) == SQLITE_OK ? 0 : -1;
	n = strlen(text);
	while (n && strchr(" \t\n", text[n - 1]))
		n--;
	clean = c->scrub ? c->scrub(text, n, &found, c->scrub_ctx) : NULL;
	if (found && !clean)
		return oom(m->x);
	if (found &&
	    catalog_dbt_diag(
		    m->x, ST_SEV_WARNING, m->file, 0, 0,
		    "%s: holds what looks like personal data (%zu value%s); it is stored with "
		    "%s replaced",
		    where, found, found == 1 ? "" : "s", found == 1 ? "it" : "them")) {
		st_free(clean);
		return -1;
	}
	sqlite3_bind_text(st, i, clean ? clean : text, clean ? -1 : (int)n, SQLITE_TRANSIENT);
	st_free(clean);
	return 0;
}

/* The owner of node n: meta.owner (node or config), else its group's owner. */
static const char *owner_of(struct mfload *m, const json_t *n)
{
	const json_t *cfg = json_object_get(n, "config");
	const char *o = jstr(json_object_get(n, "meta"), "owner"), *g;
	const json_t *grp, *go;

	if (!o)
		o = jstr(json_object_get(cfg, "meta"), "owner");
	if (o)
		return o;
	g = jstr(n, "group");
	if (!g)
		g = jstr(cfg, "group");
	if (!g)
		return NULL;
	grp = json_object_get(json_object_get(m->root, "groups"), g);
	if (!grp) { /* groups are keyed by unique_id: group.<package>.<name> */
		const char *k;
		json_t *v;

		json_object_foreach(json_object_get(m->root, "groups"), k,
				    v) if (jstr(v, "name") && !strcmp(jstr(v, "name"), g)) grp = v;
	}
	go = json_object_get(grp, "owner");
	return jstr(go, "name") ? jstr(go, "name") : jstr(go, "email");
}

static const char *kind_of_rank(int rank)
{
	return rank == R_SOURCE ? "source" : "table";
}

/* The relation as the adapter writes it: relation_name, or database.schema.identifier. */
static int location_of(const struct rel *r, struct st_buf *b)
{
	const char *rn = jstr(r->node, "relation_name");
	const char *parts[3] = {jstr(r->node, "database"), jstr(r->node, "schema"),
				r->rank == R_SOURCE ? jstr(r->node, "identifier")
						    : jstr(r->node, "alias")};

	if (rn)
		return st_buf_adds(b, rn);
	for (int i = 0, first = 1; i < 3; i++)
		if (parts[i]) {
			if (st_buf_addf(b, "%s%s", first ? "" : ".", parts[i]))
				return -1;
			first = 0;
		}
	return 0;
}

static int add_tags(json_t *set, const json_t *tags)
{
	size_t i;
	json_t *t;

	json_array_foreach(tags, i, t) if (json_string_value(t) &&
					   json_object_set_new(set, json_string_value(t),
							       json_true())) return -1;
	return 0;
}

static int touch(struct mfload *m, const char *name)
{
	catalog_dbt_bind(m->q[Q_TOUCH], 1, name);
	return catalog_dbt_step(m->x, m->q[Q_TOUCH], "cannot record change");
}

/* Whether dataset name (version 1) comes from another dbt manifest: 1 with its display
 * name in *file (a new string), 0 when a descriptor declares it, -1 with x->err. */
static int other_manifest(struct mfload *m, const char *name, char **file)
{
	sqlite3_stmt *st;
	int rc, bad = 0, ret;

	*file = NULL;
	if (st_sql_prepare(m->x->db, &st,
			   "SELECT f.display FROM datasets d JOIN files f ON f.id = d.file_id"
			   " JOIN dbt_manifests x ON x.file_id = d.file_id"
			   " WHERE d.name = ?1 AND d.version = 1",
			   m->x->err))
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*file = st_sql_col_strdup(st, 0, &bad);
	sqlite3_finalize(st);
	if (bad)
		return oom(m->x);
	ret = rc == SQLITE_ROW	  ? 1
	      : rc == SQLITE_DONE ? 0
				  : st_sql_error(m->x->err, m->x->db, "cannot read dataset");
	return ret;
}

/* The relation as the database names it, folded: database.schema.identifier (for
 * matching lineage from other tools, such as OpenLineage's dbt integration). Once per
 * dataset. */
static int relation_prop(struct mfload *m, struct dset *d)
{
	char rel[4096];
	size_t n = 0;

	if (d->relation_done++)
		return 0;
	for (const char *p = d->ident; *p && n + 1 < sizeof(rel); p++)
		rel[n++] = *p == '\x1f' ? '.' : *p;
	while (n && rel[n - 1] == '.')
		n--;
	rel[n] = '\0';
	return prop(m, d->id, "dbt.relation", rel);
}

/* Writes dataset d: its row, aliases, properties, tags and fields. */
static int store_ds(struct mfload *m, struct dset *d)
{
	const struct rel *first = &m->rels[d->rels[0]];
	sqlite3_stmt *st = m->q[Q_DS_INS];
	json_t *tagset = json_object();
	const char *desc = NULL, *owner = NULL, *tag;
	struct st_buf tb, loc;
	int64_t npii = 0;
	int ret = -1, certified = 0;
	char b1[512], where[1024];
	json_t *tv;

	st_buf_init(&tb, 1 << 16);
	st_buf_init(&loc, 4096);
	if (!tagset)
		goto nomem;
	for (size_t k = 0; k < d->nrels; k++) {
		const json_t *n = m->rels[d->rels[k]].node;

		if (!desc)
			desc = jstr(n, "description");
		if (!owner)
			owner = owner_of(m, n);
		if (add_tags(tagset, json_object_get(n, "tags")))
			goto nomem;
	}
	json_object_foreach(tagset, tag, tv)
	{
		if (st_buf_addf(&tb, "%s%s", tb.len ? " " : "", tag))
			goto nomem;
		certified |= !strcmp(tag, "certified");
	}
	for (size_t i = 0; i < d->ncols; i++)
		if (!d->cols[i].skip && d->cols[i].pii && strcmp(d->cols[i].pii, "none") &&
		    strcmp(d->cols[i].pii, "unknown"))
			npii++;
	if (location_of(first, &loc))
		goto nomem;
	snprintf(where, sizeof(where), "%s.%s.description", first->section,
		 qk(first->uid, b1, sizeof(b1)));
	catalog_dbt_bind(st, 1, d->name);
	catalog_dbt_bind(st, 2, kind_of_rank(first->rank));
	if (bind_scrubbed(m, st, 3, desc, where))
		goto out;
	catalog_dbt_bind(st, 4, owner);
	catalog_dbt_bind(st, 5, m->adapter);
	catalog_dbt_bind(st, 6, st_buf_str(&loc));
	catalog_dbt_bind(st, 7, st_buf_str(&tb));
	sqlite3_bind_int(st, 8, certified);
	sqlite3_bind_int64(st, 9, npii);
	sqlite3_bind_int64(st, 10, m->file_id);
	sqlite3_bind_int64(st, 11, m->x->gen);
	{
		int rc = sqlite3_step(st);

		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc == SQLITE_CONSTRAINT_UNIQUE) {
			char *other = NULL;
			int r = other_manifest(m, d->name, &other);

			if (r > 0) /* two projects on one table: the first keeps it */
				ret = warn_at(
					m,
					"%s.%s: dataset '%s' is already declared by %s; it is "
					"kept there, and lineage joins it by name",
					first->section, qk(first->uid, b1, sizeof(b1)), d->name,
					other);
			else if (!r)
				ret = err_at(m,
					     "%s.%s: dataset '%s' is already declared by a "
					     "descriptor (a descriptor adds to a dbt dataset with "
					     "'extends')",
					     first->section, qk(first->uid, b1, sizeof(b1)),
					     d->name);
			st_free(other);
			goto out;
		}
		if (rc != SQLITE_DONE) {
			st_sql_error(m->x->err, m->x->db, "cannot store dataset");
			goto out;
		}
	}
	d->id = sqlite3_last_insert_rowid(m->x->db);
	if (touch(m, d->name))
		goto out;
	json_object_foreach(tagset, tag, tv)
	{
		sqlite3_bind_int64(m->q[Q_TAG_INS], 1, d->id);
		catalog_dbt_bind(m->q[Q_TAG_INS], 2, tag);
		if (catalog_dbt_step(m->x, m->q[Q_TAG_INS], "cannot store tag"))
			goto out;
	}
	for (size_t k = 0; k < d->nrels; k++) {
		const struct rel *r = &m->rels[d->rels[k]];
		const json_t *cfg = json_object_get(r->node, "config");
		json_t *stats = json_object_get(r->cat, "stats"), *sv;
		const char *sk;

		sqlite3_bind_text(m->q[Q_ALIAS_INS], 1, r->uid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(m->q[Q_ALIAS_INS], 2, d->id);
		if (catalog_dbt_step(m->x, m->q[Q_ALIAS_INS], "cannot store alias") ||
		    prop(m, d->id, "dbt.unique_id", r->uid) || relation_prop(m, d) ||
		    prop(m, d->id, "dbt.resource_type", jstr(r->node, "resource_type")) ||
		    prop(m, d->id, "dbt.materialized", jstr(cfg, "materialized")) ||
		    prop(m, d->id, "dbt.path", jstr(r->node, "original_file_path")) ||
		    prop(m, d->id, "dbt.package", jstr(r->node, "package_name")) ||
		    prop(m, d->id, "dbt.group",
			 jstr(r->node, "group") ? jstr(r->node, "group") : jstr(cfg, "group")) ||
		    prop(m, d->id, "dbt.access", jstr(r->node, "access")) ||
		    prop(m, d->id, "dbt.loader", jstr(r->node, "loader")) ||
		    prop_json(m, d->id, "dbt.meta", json_object_get(r->node, "meta")) ||
		    prop(m, d->id, "dbt.catalog_type",
			 jstr(json_object_get(r->cat, "metadata"), "type")))
			goto out;
		json_object_foreach(stats, sk, sv)
		{
			char key[600], val[600];
			const json_t *v = json_object_get(sv, "value");

			if (!json_is_true(json_object_get(sv, "include")) || !v)
				continue;
			snprintf(key, sizeof(key), "dbt.stats.%s", sk);
			if (json_is_string(v))
				snprintf(val, sizeof(val), "%s", json_string_value(v));
			else if (json_is_integer(v))
				snprintf(val, sizeof(val), "%lld",
					 (long long)json_integer_value(v));
			else if (json_is_number(v))
				snprintf(val, sizeof(val), "%g", json_number_value(v));
			else
				snprintf(val, sizeof(val), "%s",
					 json_is_true(v) ? "true" : "false");
			if (prop(m, d->id, key, val))
				goto out;
		}
	}
	for (size_t i = 0; i < d->ncols; i++) {
		struct col *c = &d->cols[i];
		sqlite3_stmt *f = m->q[Q_FIELD_INS];

		if (c->skip)
			continue;
		sqlite3_bind_int64(f, 11, depth_of(c->name));
		sqlite3_bind_int64(f, 1, d->id);
		sqlite3_bind_int64(f, 2, (int64_t)i);
		catalog_dbt_bind(f, 3, c->name);
		catalog_dbt_bind(f, 4, c->type);
		catalog_dbt_bind(f, 5, c->pii ? c->pii : "unknown");
		catalog_dbt_bind(f, 6, c->category);
		catalog_dbt_bind(f, 7, c->transform);
		catalog_dbt_bind(f, 8, c->normalize);
		snprintf(where, sizeof(where), "%s.%s.columns.%s", first->section,
			 qk(first->uid, b1, sizeof(b1)), c->name);
		if (bind_scrubbed(m, f, 9, c->reason, where) ||
		    bind_scrubbed(m, f, 10, c->desc, where) ||
		    catalog_dbt_step(m->x, f, "cannot store field"))
			goto out;
		if (c->tags || c->meta) {
			sqlite3_stmt *p = m->q[Q_FPROP_INS];
			const char *keys[2] = {"tags", "meta"};
			json_t *vals[2] = {c->tags, c->meta};

			for (int k = 0; k < 2; k++) {
				char *s;

				if (!vals[k])
					continue;
				if (!(s = json_dumps(vals[k], JSON_COMPACT | JSON_SORT_KEYS)))
					goto nomem;
				sqlite3_bind_int64(p, 1, d->id);
				catalog_dbt_bind(p, 2, c->name);
				catalog_dbt_bind(p, 3, keys[k]);
				catalog_dbt_bind(p, 4, s);
				free(s);
				if (catalog_dbt_step(m->x, p, "cannot store field property"))
					goto out;
			}
		}
	}
	ret = 0;
	goto out;
nomem:
	ret = oom(m->x);
out:
	json_decref(tagset);
	st_buf_release(&tb);
	st_buf_release(&loc);
	return ret;
}

/* Adds the datasets that node uid stands for to set: itself, or through an ephemeral
 * model, the datasets it is built from. seen holds the ephemeral models already walked,
 * so a cycle or a diamond among them costs one visit each. */
static int upstream_of(struct mfload *m, const char *uid, json_t *set, json_t *seen)
{
	json_t *at = json_object_get(m->dsof, uid), *eph, *deps, *dep;
	size_t i;

	if (at)
		return json_object_set_new(set, m->ds[json_integer_value(at)].name, json_true())
			       ? oom(m->x)
			       : 0;
	eph = json_object_get(m->ephemeral, uid);
	if (!eph || json_object_get(seen, uid))
		return 0; /* not a dataset (disabled, a metric, a macro), or walked already */
	if (json_object_set_new(seen, uid, json_true()))
		return oom(m->x);
	deps = json_object_get(json_object_get(eph, "depends_on"), "nodes");
	json_array_foreach(deps, i,
			   dep) if (json_string_value(dep) &&
				    upstream_of(m, json_string_value(dep), set, seen)) return -1;
	return 0;
}

static int store_edges(struct mfload *m, int64_t id, const char *name, json_t *nodes_of)
{
	json_t *set = json_object(), *seen = json_object(), *v;
	const char *src;
	int ret = -1;

	if (!set || !seen) {
		json_decref(set);
		json_decref(seen);
		return oom(m->x);
	}
	for (size_t i = 0; i < json_array_size(nodes_of); i++) {
		json_t *deps = json_object_get(
			       json_object_get(json_array_get(nodes_of, i), "depends_on"), "nodes"),
		       *dep;
		size_t k;

		json_array_foreach(deps, k, dep) if (json_string_value(dep) &&
						     upstream_of(m, json_string_value(dep), set,
								 seen)) goto out;
	}
	json_object_foreach(set, src, v)
	{
		sqlite3_stmt *e = m->q[Q_EDGE_INS];

		if (!strcmp(src, name))
			continue;
		sqlite3_bind_int64(e, 1, id);
		catalog_dbt_bind(e, 2, src);
		catalog_dbt_bind(e, 3, name);
		if (catalog_dbt_step(m->x, e, "cannot store lineage"))
			goto out;
	}
	ret = 0;
out:
	json_decref(set);
	json_decref(seen);
	return ret;
}

/* The name in ref('name'), ref('package', 'name'), ref('name', v=2) or the table in
 * source('src', 'table'), written into out. Returns 1 (ref) or 2 (source), 0 if neither;
 * for a source, *src gets the source name. */
static int parse_call(const char *s, char *out, size_t n, char *src, size_t sn)
{
	const char *p, *args[3] = {0};
	size_t lens[3] = {0}, na = 0;
	int kind;

	if (!s)
		return 0;
	if ((p = strstr(s, "ref(")))
		kind = 1, p += 4;
	else if ((p = strstr(s, "source(")))
		kind = 2, p += 7;
	else
		return 0;
	while (*p && *p != ')' && na < 3) {
		char q;
		const char *b;

		while (*p == ' ' || *p == ',')
			p++;
		if (*p != '\'' && *p != '"')
			break; /* a keyword argument such as v=2 */
		q = *p++;
		b = p;
		while (*p && *p != q)
			p++;
		if (!*p)
			return 0;
		args[na] = b;
		lens[na++] = (size_t)(p - b);
		p++;
	}
	if (!na || (kind == 2 && na < 2))
		return 0;
	if (kind == 1) {
		snprintf(out, n, "%.*s", (int)lens[na - 1], args[na - 1]);
	} else {
		snprintf(src, sn, "%.*s", (int)lens[0], args[0]);
		snprintf(out, n, "%.*s", (int)lens[1], args[1]);
	}
	return kind;
}

/* The node a ref()/source() text means, among test t's depends_on nodes. */
static const char *resolve_call(struct mfload *m, const json_t *t, const char *text)
{
	char name[512], src[512] = "";
	int kind = parse_call(text, name, sizeof(name), src, sizeof(src));
	json_t *deps = json_object_get(json_object_get(t, "depends_on"), "nodes"), *dep;
	size_t i;

	if (!kind)
		return NULL;
	json_array_foreach(deps, i, dep)
	{
		const char *uid = json_string_value(dep);
		const json_t *n;

		if (!uid)
			continue;
		n = json_object_get(json_object_get(m->root, kind == 2 ? "sources" : "nodes"), uid);
		if (!n)
			continue;
		if (kind == 2 && jstr(n, "source_name") && !strcmp(jstr(n, "source_name"), src) &&
		    jstr(n, "name") && !strcmp(jstr(n, "name"), name))
			return uid;
		if (kind == 1 && jstr(n, "name") && !strcmp(jstr(n, "name"), name))
			return uid;
	}
	return NULL;
}

/* The column of dataset d that a test names, as steward spells it. */
static const char *test_col(struct mfload *m, struct dset *d, const char *name)
{
	struct col *c;

	(void)m;
	if (!name)
		return NULL;
	c = find_col(d, name);
	return c ? c->name : name;
}

/* Generic tests (not_null, unique, accepted_values, relationships) become constraints. */
static int store_tests(struct mfload *m)
{
	json_t *nodes = json_object_get(m->root, "nodes"), *t;
	const char *uid;

	json_object_foreach(nodes, uid, t)
	{
		const json_t *tm = json_object_get(t, "test_metadata");
		const json_t *kw = json_object_get(tm, "kwargs");
		const char *tname = jstr(tm, "name"), *ns = jstr(tm, "namespace");
		const char *target = jstr(t, "attached_node"), *colname;
		json_t *at, *deps = json_object_get(json_object_get(t, "depends_on"), "nodes");
		sqlite3_stmt *st = m->q[Q_CONS_INS];
		struct dset *d;
		char *detail = NULL;
		const char *ref_ds = NULL, *ref_field = NULL;
		int r;

		if (!jstr(t, "resource_type") || strcmp(jstr(t, "resource_type"), "test") ||
		    !enabled(t) || !tname || (ns && strcmp(ns, "dbt")))
			continue;
		if (strcmp(tname, "not_null") && strcmp(tname, "unique") &&
		    strcmp(tname, "accepted_values") && strcmp(tname, "relationships"))
			continue;
		if (!target)
			target = resolve_call(m, t, jstr(kw, "model"));
		if (!target && json_array_size(deps) == 1)
			target = json_string_value(json_array_get(deps, 0));
		if (!target || !(at = json_object_get(m->dsof, target)))
			continue; /* on an ephemeral or disabled node, or not resolvable */
		d = &m->ds[json_integer_value(at)];
		if (!d->id)
			continue; /* not stored: reported */
		colname =
			jstr(kw, "column_name") ? jstr(kw, "column_name") : jstr(t, "column_name");
		if (!strcmp(tname, "accepted_values")) {
			const json_t *vals = json_object_get(kw, "values");

			if (vals && !(detail = json_dumps(vals, JSON_COMPACT | JSON_ENCODE_ANY)))
				return oom(m->x);
		}
		if (!strcmp(tname, "relationships")) {
			const char *to = resolve_call(m, t, jstr(kw, "to"));
			json_t *tat = to ? json_object_get(m->dsof, to) : NULL;

			if (!tat) { /* the other dependency */
				size_t i;
				json_t *dep;

				json_array_foreach(
					deps, i,
					dep) if (json_string_value(dep) &&
						 strcmp(json_string_value(dep), target) &&
						 (tat = json_object_get(
							  m->dsof, json_string_value(dep)))) break;
			}
			if (!tat)
				continue;
			ref_ds = m->ds[json_integer_value(tat)].name;
			ref_field = test_col(m, &m->ds[json_integer_value(tat)], jstr(kw, "field"));
		}
		sqlite3_bind_int64(st, 1, d->id);
		catalog_dbt_bind(st, 2, tname);
		catalog_dbt_bind(st, 3, test_col(m, d, colname));
		catalog_dbt_bind(st, 4, detail);
		catalog_dbt_bind(st, 5, ref_ds);
		catalog_dbt_bind(st, 6, ref_field);
		catalog_dbt_bind(st, 7, uid);
		free(detail);
		r = catalog_dbt_step(m->x, st, "cannot store constraint");
		if (r)
			return -1;
	}
	return 0;
}

/* One constraint of a model contract (dbt 1.5 and later), on column col (NULL: from the
 * model's list, whose columns it names). */
static int contract_one(struct mfload *m, struct dset *d, const struct rel *r, const json_t *c,
			const char *col)
{
	const char *type = jstr(c, "type"), *kind, *ref_ds = NULL, *ref_field = NULL;
	const json_t *cols = json_object_get(c, "columns");
	sqlite3_stmt *st = m->q[Q_CONS_INS];

	if (!type)
		return 0;
	if (!strcmp(type, "not_null") || !strcmp(type, "unique") || !strcmp(type, "primary_key"))
		kind = type;
	else if (!strcmp(type, "foreign_key"))
		kind = "relationships";
	else
		return 0; /* check, custom: not mapped */
	if (!strcmp(kind, "relationships")) {
		const char *to = resolve_call(m, r->node, jstr(c, "to"));
		json_t *at = to ? json_object_get(m->dsof, to) : NULL;

		if (!at)
			return 0; /* an expression only (before dbt 1.9): not resolvable */
		ref_ds = m->ds[json_integer_value(at)].name;
		ref_field = test_col(
			m, &m->ds[json_integer_value(at)],
			json_string_value(json_array_get(json_object_get(c, "to_columns"), 0)));
	}
	if (!col && !(col = json_string_value(json_array_get(cols, 0))))
		return 0;
	sqlite3_bind_int64(st, 1, d->id);
	catalog_dbt_bind(st, 2, kind);
	catalog_dbt_bind(st, 3, test_col(m, d, col));
	catalog_dbt_bind(st, 4, NULL);
	catalog_dbt_bind(st, 5, ref_ds);
	catalog_dbt_bind(st, 6, ref_field);
	catalog_dbt_bind(st, 7, "contract");
	return catalog_dbt_step(m->x, st, "cannot store constraint");
}

/* Model contracts: column and model constraints become constraints too (a foreign key with
 * a ref() target a join key, as a relationships test is). */
static int store_contracts(struct mfload *m)
{
	for (size_t i = 0; i < m->nds; i++) {
		struct dset *d = &m->ds[i];

		for (size_t k = 0; d->id && k < d->nrels; k++) {
			const struct rel *r = &m->rels[d->rels[k]];
			json_t *cols = json_object_get(r->node, "columns"), *cv, *c;
			const char *cname;
			size_t j;

			json_object_foreach(cols, cname, cv)
			{
				const char *nm = jstr(cv, "name") ? jstr(cv, "name") : cname;

				json_array_foreach(json_object_get(cv, "constraints"), j,
						   c) if (contract_one(m, d, r, c, nm)) return -1;
			}
			json_array_foreach(json_object_get(r->node, "constraints"), j,
					   c) if (contract_one(m, d, r, c, NULL)) return -1;
		}
	}
	return 0;
}

/* Exposures become dashboards (dashboard), models (ml) or applications (the rest). */
static int store_exposures(struct mfload *m)
{
	json_t *exps = json_object_get(m->root, "exposures"), *e;
	const char *uid;

	json_object_foreach(exps, uid, e)
	{
		const char *type = jstr(e, "type"), *pkg = jstr(e, "package_name");
		const json_t *ow = json_object_get(e, "owner");
		const char *owner = jstr(ow, "name") ? jstr(ow, "name") : jstr(ow, "email");
		sqlite3_stmt *st = m->q[Q_DS_INS];
		struct st_buf nm, tb;
		json_t *one, *t;
		char b1[512], where[1024];
		int64_t id;
		size_t i;
		int rc;

		if (!json_is_object(e) || !enabled(e) || !jstr(e, "name"))
			continue;
		st_buf_init(&nm, 4096);
		st_buf_init(&tb, 1 << 16);
		if (add_clean(&nm, pkg ? pkg : "dbt") || st_buf_adds(&nm, "-exposures.") ||
		    add_clean(&nm, jstr(e, "name")))
			goto nomem;
		json_array_foreach(json_object_get(e, "tags"), i,
				   t) if (json_string_value(t) &&
					  st_buf_addf(&tb, "%s%s", tb.len ? " " : "",
						      json_string_value(t))) goto nomem;
		snprintf(where, sizeof(where), "exposures.%s.description", qk(uid, b1, sizeof(b1)));
		catalog_dbt_bind(st, 1, nm.p);
		catalog_dbt_bind(st, 2,
				 type && !strcmp(type, "dashboard") ? "dashboard"
				 : type && !strcmp(type, "ml")	    ? "model"
								    : "application");
		if (bind_scrubbed(m, st, 3, jstr(e, "description"), where)) {
			st_buf_release(&nm);
			st_buf_release(&tb);
			return -1;
		}
		catalog_dbt_bind(st, 4, owner);
		catalog_dbt_bind(st, 5, m->adapter);
		catalog_dbt_bind(st, 6, jstr(e, "url"));
		catalog_dbt_bind(st, 7, st_buf_str(&tb));
		sqlite3_bind_int(st, 8, 0);
		sqlite3_bind_int64(st, 9, 0);
		sqlite3_bind_int64(st, 10, m->file_id);
		sqlite3_bind_int64(st, 11, m->x->gen);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc == SQLITE_CONSTRAINT_UNIQUE) {
			char *other = NULL;
			int r = other_manifest(m, nm.p, &other);

			rc = r < 0   ? -1
			     : r > 0 ? warn_at(m,
					       "exposures.%s: dataset '%s' is already declared by "
					       "%s; it is kept there",
					       qk(uid, b1, sizeof(b1)), nm.p, other)
				     : err_at(m,
					      "exposures.%s: dataset '%s' is already declared by a "
					      "descriptor",
					      qk(uid, b1, sizeof(b1)), nm.p);
			st_free(other);
			st_buf_release(&nm);
			st_buf_release(&tb);
			if (rc)
				return -1;
			continue;
		}
		if (rc != SQLITE_DONE) {
			st_buf_release(&nm);
			st_buf_release(&tb);
			return st_sql_error(m->x->err, m->x->db, "cannot store exposure");
		}
		id = sqlite3_last_insert_rowid(m->x->db);
		json_array_foreach(json_object_get(e, "tags"), i, t)
		{
			sqlite3_bind_int64(m->q[Q_TAG_INS], 1, id);
			catalog_dbt_bind(m->q[Q_TAG_INS], 2, json_string_value(t));
			if (json_string_value(t) &&
			    catalog_dbt_step(m->x, m->q[Q_TAG_INS], "cannot store tag"))
				goto fail;
		}
		sqlite3_bind_text(m->q[Q_ALIAS_INS], 1, uid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(m->q[Q_ALIAS_INS], 2, id);
		if (!(one = json_array()) || json_array_append(one, e)) {
			json_decref(one);
			goto nomem;
		}
		rc = catalog_dbt_step(m->x, m->q[Q_ALIAS_INS], "cannot store alias") ||
		     prop(m, id, "dbt.unique_id", uid) ||
		     prop(m, id, "dbt.resource_type", "exposure") ||
		     prop(m, id, "dbt.exposure_type", type) ||
		     prop(m, id, "dbt.maturity", jstr(e, "maturity")) ||
		     prop(m, id, "dbt.path", jstr(e, "original_file_path")) ||
		     prop(m, id, "dbt.package", pkg) ||
		     prop_json(m, id, "dbt.meta", json_object_get(e, "meta")) ||
		     store_edges(m, id, nm.p, one) || touch(m, nm.p);
		json_decref(one);
		if (rc)
			goto fail;
		st_buf_release(&nm);
		st_buf_release(&tb);
		continue;
	nomem:
		oom(m->x);
	fail:
		st_buf_release(&nm);
		st_buf_release(&tb);
		return -1;
	}
	return 0;
}

/* Parses a manifest (and its catalog.json) and writes what it declares under file_id. */
static int materialize(struct catalog_dbt_ctx *x, const char *display, int64_t file_id,
		       const unsigned char *data, size_t len, const char *cat_display,
		       const unsigned char *cdata, size_t clen, int *version, char **adapter,
		       char **project)
{
	struct mfload m;
	json_error_t je;
	const char *url;
	size_t errors0 = x->diags->nerrors;
	int ret = -1;

	memset(&m, 0, sizeof(m));
	m.x = x;
	m.file = display;
	m.file_id = file_id;
	*version = 0;
	m.root = json_loadb((const char *)data, len, 0, &je);
	if (!m.root) {
		ret = catalog_dbt_diag(x, ST_SEV_ERROR, display,
				       je.line > 0 ? (unsigned)je.line : 0,
				       je.line > 0 ? (unsigned)(je.column > 0 ? je.column : 1) : 0,
				       "invalid JSON: %s", je.text);
		goto out;
	}
	m.meta = json_object_get(m.root, "metadata");
	url = jstr(m.meta, "dbt_schema_version");
	if (!json_is_object(m.root) || !url) {
		ret = catalog_dbt_diag(
			x, ST_SEV_ERROR, display, 0, 0,
			"not a dbt manifest: metadata.dbt_schema_version is missing");
		goto out;
	}
	m.version = schema_version(url);
	if (m.version < DBT_MIN_VERSION || m.version > DBT_MAX_VERSION) {
		ret = catalog_dbt_diag(
			x, ST_SEV_ERROR, display, 0, 0,
			"metadata.dbt_schema_version: unsupported dbt manifest \"%s\"; steward "
			"reads manifest v%d to v%d",
			url, DBT_MIN_VERSION, DBT_MAX_VERSION);
		goto out;
	}
	*version = m.version;
	if (cdata) {
		m.catalog = json_loadb((const char *)cdata, clen, 0, &je);
		if (!m.catalog) {
			ret = catalog_dbt_diag(
				x, ST_SEV_ERROR, cat_display, je.line > 0 ? (unsigned)je.line : 0,
				je.line > 0 ? (unsigned)(je.column > 0 ? je.column : 1) : 0,
				"invalid JSON: %s", je.text);
			goto out;
		}
	}
	m.adapter = jstr(m.meta, "adapter_type");
	m.fold = fold_of(m.adapter);
	if (m.adapter && !(*adapter = st_strdup(m.adapter)))
		goto nomem;
	if (jstr(m.meta, "project_name") && !(*project = st_strdup(jstr(m.meta, "project_name"))))
		goto nomem;
	if (!(m.dsof = json_object()) || !(m.ephemeral = json_object()) ||
	    !(m.names = json_object()))
		goto nomem;
	for (int i = 0; i < Q_COUNT; i++)
		if (st_sql_prepare(x->db, &m.q[i], q_sql[i], x->err))
			goto out;
	if (collect_rels(&m))
		goto out;
	for (size_t i = 0; i < m.nds; i++)
		if (build_cols(&m, &m.ds[i]) || check_cols(&m, &m.ds[i]))
			goto out;
	if (x->diags->nerrors > errors0) { /* nothing is stored from a manifest with errors */
		ret = 0;
		goto out;
	}
	for (size_t i = 0; i < m.nds; i++) {
		json_t *nodes = json_array();
		int r = 0;

		if (!nodes)
			goto nomem;
		for (size_t k = 0; k < m.ds[i].nrels && !r; k++)
			r = json_array_append(nodes, m.rels[m.ds[i].rels[k]].node);
		r = r ? oom(x) : store_ds(&m, &m.ds[i]);
		if (!r && m.ds[i].id)
			r = store_edges(&m, m.ds[i].id, m.ds[i].name, nodes);
		json_decref(nodes);
		if (r && x->err->code)
			goto out;
		x->stats->datasets_loaded++;
	}
	if (store_tests(&m) || store_contracts(&m) || store_exposures(&m))
		goto out;
	ret = 0;
	goto out;
nomem:
	oom(x);
out:
	mf_release(&m);
	(void)ret; /* problems in the manifest are diagnostics; only x->err stops the load */
	return x->err->code ? -1 : 0;
}

/* ---- the dbt step of a load ---- */

struct mf {
	char *display, *abs, *cat_abs, *cat_display;
	int64_t id;		    /* files.id, 0 when new */
	int64_t size, mtime, inode; /* combined stat data of the manifest and its catalog.json */
	int known, named, stat_same, ov_same;
	unsigned char hash[HASH_LEN];
	int has_hash;
};

static int64_t mtime_ns(const struct stat *sb)
{
	return (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
}

/* The digest of every extension, to re-materialize manifests when one changes. */
static int overlay_digest(struct catalog_dbt_ctx *x, unsigned char out[HASH_LEN])
{
	crypto_generichash_state h;
	sqlite3_stmt *st;
	int rc;

	if (st_sql_prepare(
		    x->db, &st,
		    "SELECT e.target, e.key, e.value, e.line, e.col, f.path FROM dbt_extends e"
		    " JOIN files f ON f.id = e.file_id ORDER BY f.path, e.ord",
		    x->err))
		return -1;
	crypto_generichash_init(&h, NULL, 0, HASH_LEN);
	crypto_generichash_update(&h, (const unsigned char *)DBT_MAPPING, sizeof(DBT_MAPPING));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		for (int i = 0; i < 6; i++) {
			const unsigned char *t = sqlite3_column_text(st, i);

			if (t)
				crypto_generichash_update(&h, t,
							  (size_t)sqlite3_column_bytes(st, i) + 1);
		}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return st_sql_error(x->err, x->db, "cannot read extensions");
	crypto_generichash_final(&h, out, HASH_LEN);
	return 0;
}

static void mf_free(struct mf *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		st_free(v[i].display);
		st_free(v[i].abs);
		st_free(v[i].cat_abs);
		st_free(v[i].cat_display);
	}
	st_free(v);
}

/* The catalog.json beside path (same directory), a new string. */
static char *beside(const char *path)
{
	const char *slash = strrchr(path, '/');
	struct st_buf b;

	st_buf_init(&b, 8192);
	if (slash && st_buf_add(&b, path, (size_t)(slash - path) + 1))
		return NULL;
	if (st_buf_adds(&b, "catalog.json")) {
		st_buf_release(&b);
		return NULL;
	}
	return st_buf_detach(&b);
}

static int stat_sig(struct mf *f)
{
	struct stat a, b;

	if (stat(f->abs, &a))
		return -1;
	f->size = (int64_t)a.st_size;
	f->mtime = mtime_ns(&a);
	f->inode = (int64_t)a.st_ino;
	if (!stat(f->cat_abs, &b)) {
		f->size += (int64_t)b.st_size;
		f->mtime += mtime_ns(&b);
		f->inode ^= (int64_t)b.st_ino << 20;
	}
	return 0;
}

static int mf_add(struct mf **v, size_t *n, size_t *cap, const char *display, const char *abs)
{
	struct mf *f;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i].abs, abs))
			return 0;
	if (st_grow(v, cap, *n + 1, sizeof(**v)))
		return -1;
	f = &(*v)[(*n)++];
	memset(f, 0, sizeof(*f));
	f->display = st_strdup(display);
	f->abs = st_strdup(abs);
	f->cat_abs = beside(abs);
	f->cat_display = beside(display);
	return f->display && f->abs && f->cat_abs && f->cat_display ? 0 : -1;
}

/* Reads manifest f (and its catalog.json), and rewrites what it declares when it changed. */
static int reload(struct catalog_dbt_ctx *x, struct mf *f, const unsigned char ov[HASH_LEN],
		  int *materialized)
{
	unsigned char *data = NULL, *cdata = NULL, hash[HASH_LEN];
	crypto_generichash_state h;
	size_t len = 0, clen = 0;
	sqlite3_stmt *st = NULL;
	char *adapter = NULL, *project = NULL;
	int r, ret = -1, version = 0, has_cat;

	r = read_all(x, f->abs, f->display, 0, &data, &len);
	if (r)
		return r == -2 ? -1 : 0;
	r = read_all(x, f->cat_abs, f->cat_display, 1, &cdata, &clen);
	if (r < 0) {
		st_free(data);
		return r == -2 ? -1 : 0;
	}
	has_cat = r == 0;
	crypto_generichash_init(&h, NULL, 0, HASH_LEN);
	crypto_generichash_update(&h, (const unsigned char *)DBT_MAPPING, sizeof(DBT_MAPPING));
	crypto_generichash_update(&h, data, len);
	crypto_generichash_update(&h, (const unsigned char *)"\0catalog\0", 9);
	if (has_cat)
		crypto_generichash_update(&h, cdata, clen);
	crypto_generichash_final(&h, hash, HASH_LEN);
	if (f->known && f->has_hash && f->ov_same && !memcmp(hash, f->hash, HASH_LEN)) {
		/* The same bytes under new stat data: remember the stat data only. */
		if (st_sql_prepare(
			    x->db, &st,
			    "UPDATE files SET display = ?2, size = ?3, mtime_ns = ?4, inode = ?5"
			    " WHERE id = ?1",
			    x->err))
			goto out;
		sqlite3_bind_int64(st, 1, f->id);
		catalog_dbt_bind(st, 2, f->display);
		sqlite3_bind_int64(st, 3, f->size);
		sqlite3_bind_int64(st, 4, f->mtime);
		sqlite3_bind_int64(st, 5, f->inode);
		if (catalog_dbt_step(x, st, "cannot update file list"))
			goto out;
		if (f->named)
			x->stats->files_unchanged++;
		ret = 0;
		goto out;
	}
	if (f->known && x->forget(x->forget_u, f->id))
		goto out;
	if (f->named) {
		if (f->known)
			x->stats->files_changed++;
		else
			x->stats->files_new++;
	}
	x->stats->manifests_parsed++;
	*materialized = 1;
	if (st_sql_prepare(
		    x->db, &st,
		    "INSERT INTO files(path, display, hash, size, mtime_ns, inode, ndocs, "
		    "loaded_at)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, strftime('%Y-%m-%dT%H:%M:%fZ'))"
		    " ON CONFLICT(path) DO UPDATE SET display = ?2, hash = ?3, size = ?4,"
		    " mtime_ns = ?5, inode = ?6, loaded_at = excluded.loaded_at RETURNING id",
		    x->err))
		goto out;
	catalog_dbt_bind(st, 1, f->abs);
	catalog_dbt_bind(st, 2, f->display);
	sqlite3_bind_blob(st, 3, hash, HASH_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, f->size);
	sqlite3_bind_int64(st, 5, f->mtime);
	sqlite3_bind_int64(st, 6, f->inode);
	if (sqlite3_step(st) != SQLITE_ROW) {
		st_sql_error(x->err, x->db, "cannot store file");
		goto out;
	}
	f->id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (materialize(x, f->display, f->id, data, len, f->cat_display, has_cat ? cdata : NULL,
			clen, &version, &adapter, &project))
		goto out;
	if (st_sql_prepare(x->db, &st,
			   "INSERT OR REPLACE INTO dbt_manifests(file_id, schema_version, adapter,"
			   " project, catalog_path, overlays) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			   x->err))
		goto out;
	sqlite3_bind_int64(st, 1, f->id);
	sqlite3_bind_int(st, 2, version);
	catalog_dbt_bind(st, 3, adapter);
	catalog_dbt_bind(st, 4, project);
	catalog_dbt_bind(st, 5, has_cat ? f->cat_abs : NULL);
	sqlite3_bind_blob(st, 6, ov, HASH_LEN, SQLITE_TRANSIENT);
	if (catalog_dbt_step(x, st, "cannot store manifest"))
		goto out;
	ret = 0;
out:
	sqlite3_finalize(st);
	st_free(data);
	st_free(cdata);
	st_free(adapter);
	st_free(project);
	return ret;
}

int catalog_dbt_load(struct catalog_dbt_ctx *x, const struct catalog_dbt_input *in, size_t n)
{
	unsigned char ov[HASH_LEN];
	struct mf *v = NULL;
	size_t nv = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	int ret = -1, materialized = 0, ov_changed = 0, rc;

	if (overlay_digest(x, ov))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (mf_add(&v, &nv, &cap, in[i].display, in[i].abs)) {
			oom(x);
			goto out;
		}
		v[nv - 1].named = 1;
	}
	x->stats->manifests = nv;
	/* Manifests loaded before: their stored state, and the ones not named this time. */
	if (st_sql_prepare(x->db, &st,
			   "SELECT f.id, f.path, f.display, f.hash, f.size, f.mtime_ns, f.inode,"
			   " m.overlays FROM dbt_manifests m JOIN files f ON f.id = m.file_id",
			   x->err))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(st, 1);
		int same_ov = sqlite3_column_bytes(st, 7) == HASH_LEN &&
			      !memcmp(sqlite3_column_blob(st, 7), ov, HASH_LEN);
		struct mf *f = NULL;

		if (!path)
			continue;
		for (size_t i = 0; i < nv; i++)
			if (!strcmp(v[i].abs, path))
				f = &v[i];
		if (!same_ov)
			ov_changed = 1;
		if (!f) {
			if (same_ov)
				continue; /* not named, nothing to apply: left as it is */
			if (mf_add(&v, &nv, &cap, (const char *)sqlite3_column_text(st, 2), path)) {
				oom(x);
				goto out;
			}
			f = &v[nv - 1];
		}
		f->known = 1;
		f->id = sqlite3_column_int64(st, 0);
		f->ov_same = same_ov;
		if (sqlite3_column_bytes(st, 3) == HASH_LEN) {
			memcpy(f->hash, sqlite3_column_blob(st, 3), HASH_LEN);
			f->has_hash = 1;
		}
		f->size = sqlite3_column_int64(st, 4);
		f->mtime = sqlite3_column_int64(st, 5);
		f->inode = sqlite3_column_int64(st, 6);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		st_sql_error(x->err, x->db, "cannot read manifests");
		goto out;
	}
	for (size_t i = 0; i < nv; i++) {
		struct mf *f = &v[i];
		int64_t size = f->size, mtime = f->mtime, inode = f->inode;

		if (stat_sig(f)) {
			if (catalog_dbt_diag(x, ST_SEV_ERROR, f->display, 0, 0, "cannot read: %s",
					     strerror(errno)))
				goto out;
			continue;
		}
		if (f->known && f->ov_same && size == f->size && mtime == f->mtime &&
		    inode == f->inode) {
			if (f->named)
				x->stats->files_unchanged++;
			continue;
		}
		if (reload(x, f, ov, &materialized))
			goto out;
	}
	/* A manifest rewritten, or an extension changed: extensions apply again. Without any
	 * manifest, every extension is checked, and each names nothing. */
	if (!nv) {
		sqlite3_stmt *q;

		if (st_sql_prepare(x->db, &q, "SELECT 1 FROM dbt_manifests LIMIT 1", x->err))
			goto out;
		rc = sqlite3_step(q);
		sqlite3_finalize(q);
		ov_changed = rc != SQLITE_ROW;
	}
	if ((materialized || ov_changed) && catalog_dbt_apply_extensions(x))
		goto out;
	ret = 0;
out:
	sqlite3_finalize(st);
	mf_free(v, nv);
	return ret;
}
