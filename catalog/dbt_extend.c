/* Descriptor documents that extend a dbt dataset (`extends:`): checked and stored as rows
 * of dbt_extends when their file is loaded, and applied to the dbt datasets whenever a
 * manifest is written again. The merge rule is in docs/interop.md. */
#include "dbt_int.h"
#include "alloc.h"
#include "buf.h"
#include "sql.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int oom(struct catalog_dbt_ctx *x)
{
	return st_error_oom(x->err);
}

struct ext_store {
	struct catalog_dbt_ctx *x;
	const char *file, *target;
	int64_t file_id;
	int ord;
	sqlite3_stmt *ins;
};

static int ext_store_row(struct ext_store *s, const char *key, const char *value,
			 const struct catalog_ynode *at);

static int ext_row(struct ext_store *s, const char *key, const char *value,
		   const struct catalog_ynode *at)
{
	size_t n = strlen(key), found = 0;
	char *clean = NULL;
	int r;

	/* Free text passes the catalog's scrubber, as a descriptor's does. */
	if ((!strcmp(key, "description") || (n > 12 && !strcmp(key + n - 12, ".description")) ||
	     (n > 11 && !strcmp(key + n - 11, ".pii_reason"))) &&
	    s->x->c->scrub) {
		clean = s->x->c->scrub(value, strlen(value), &found, s->x->c->scrub_ctx);
		if (found && !clean)
			return oom(s->x);
		if (found &&
		    catalog_dbt_diag(s->x, ST_SEV_WARNING, s->file, at->line, at->col,
				     "the %s holds what looks like personal data (%zu "
				     "value%s); it is stored with %s replaced",
				     strstr(key, "pii_reason") ? "pii_reason" : "description",
				     found, found == 1 ? "" : "s", found == 1 ? "it" : "them")) {
			st_free(clean);
			return -1;
		}
	}
	r = ext_store_row(s, key, clean ? clean : value, at);
	st_free(clean);
	return r;
}

static int ext_store_row(struct ext_store *s, const char *key, const char *value,
			 const struct catalog_ynode *at)
{
	sqlite3_bind_int64(s->ins, 1, s->file_id);
	sqlite3_bind_int(s->ins, 2, s->ord++);
	catalog_dbt_bind(s->ins, 3, s->target);
	catalog_dbt_bind(s->ins, 4, key);
	catalog_dbt_bind(s->ins, 5, value);
	sqlite3_bind_int(s->ins, 6, (int)at->line);
	sqlite3_bind_int(s->ins, 7, (int)at->col);
	return catalog_dbt_step(s->x, s->ins, "cannot store extension");
}

static const char *scalar(const struct catalog_ynode *n)
{
	if (!n || n->type != CATALOG_Y_SCALAR || catalog_yscalar_kind(n) == CATALOG_YS_NULL)
		return NULL;
	return n->value;
}

static int ext_bad(struct ext_store *s, const struct catalog_ynode *at, const char *fmt, ...)
	ST_PRINTF(3, 4);

static int ext_bad(struct ext_store *s, const struct catalog_ynode *at, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return catalog_dbt_diag(s->x, ST_SEV_ERROR, s->file, at->line, at->col, "%s", msg);
}

/* A field entry of an extension: name plus PII settings and a description. */
static int ext_field(struct ext_store *s, const struct catalog_ynode *f)
{
	static const char *const keys[] = {"pii",	"category",   "transform",
					   "normalize", "pii_reason", "description"};
	const struct catalog_ynode *name = catalog_ymap_get(f, "name");
	struct st_error e = ST_ERROR_INIT;

	if (f->type != CATALOG_Y_MAP || !scalar(name))
		return ext_bad(s, f, "a field of an extension needs a 'name'");
	for (size_t i = 0; i < f->n; i++) {
		const struct catalog_ynode *k = f->kids[2 * i], *v = f->kids[2 * i + 1];
		const char *val = scalar(v);
		char key[600];
		size_t j;

		if (!strcmp(k->value, "name"))
			continue;
		for (j = 0; j < sizeof(keys) / sizeof(*keys); j++)
			if (!strcmp(k->value, keys[j]))
				break;
		if (j == sizeof(keys) / sizeof(*keys)) {
			if (ext_bad(s, k,
				    "'%s' cannot be set by an extension; use pii, category, "
				    "transform, normalize, pii_reason or description",
				    k->value))
				return -1;
			continue;
		}
		if (!val) {
			if (ext_bad(s, v, "'%s' must be a string", k->value))
				return -1;
			continue;
		}
		if ((j == 0 &&
		     !catalog_dbt_one_of(val, catalog_dbt_classes, CATALOG_DBT_NCLASSES - 1)) ||
		    (j == 2 &&
		     !catalog_dbt_one_of(val, catalog_dbt_transforms, CATALOG_DBT_NTRANSFORMS)) ||
		    (j == 3 &&
		     !catalog_dbt_one_of(val, catalog_dbt_normalizers, CATALOG_DBT_NNORMALIZERS))) {
			if (ext_bad(s, v, "unknown %s '%s'", j == 0 ? "pii class" : k->value, val))
				return -1;
			continue;
		}
		if (j == 1 && !catalog_taxonomy_find(s->x->c->tax, val) &&
		    catalog_category_check(val, &e)) {
			if (ext_bad(s, v, "%s", e.msg))
				return -1;
			continue;
		}
		snprintf(key, sizeof(key), "field.%s.%s", name->value, keys[j]);
		if (ext_row(s, key, val, v))
			return -1;
	}
	return 0;
}

int catalog_dbt_extension(struct catalog_dbt_ctx *x, const char *file, int64_t file_id,
			  const struct catalog_ynode *root)
{
	static const char *const plain[] = {"description", "owner", "domain", "retention",
					    "subject"};
	struct ext_store s;
	int ret = -1;

	memset(&s, 0, sizeof(s));
	s.x = x;
	s.file = file;
	s.file_id = file_id;
	s.target = scalar(catalog_ymap_get(root, "extends"));
	if (!s.target)
		return ext_bad(&s, catalog_ymap_get(root, "extends"),
			       "'extends' must name a dbt unique_id or a dbt dataset");
	if (st_sql_prepare(
		    x->db, &s.ins,
		    "INSERT INTO dbt_extends(file_id, ord, target, key, value, line, col)"
		    " VALUES (?1, (SELECT count(*) FROM dbt_extends WHERE file_id = ?1) + 0 * ?2,"
		    " ?3, ?4, ?5, ?6, ?7)",
		    x->err))
		return -1;
	if (ext_row(&s, "extends", s.target, catalog_ymap_get(root, "extends")))
		goto out;
	for (size_t i = 0; i < root->n; i++) {
		const struct catalog_ynode *k = root->kids[2 * i], *v = root->kids[2 * i + 1];
		size_t j;

		if (!strcmp(k->value, "extends"))
			continue;
		for (j = 0; j < sizeof(plain) / sizeof(*plain); j++)
			if (!strcmp(k->value, plain[j]))
				break;
		if (j < sizeof(plain) / sizeof(*plain)) {
			if (!scalar(v)) {
				if (ext_bad(&s, v, "'%s' must be a string", k->value))
					goto out;
			} else if (ext_row(&s, k->value, v->value, v)) {
				goto out;
			}
		} else if (!strcmp(k->value, "tags")) {
			for (size_t t = 0; v->type == CATALOG_Y_SEQ && t < v->n; t++)
				if (scalar(v->kids[t]) &&
				    ext_row(&s, "tag", v->kids[t]->value, v->kids[t]))
					goto out;
			if (v->type != CATALOG_Y_SEQ && ext_bad(&s, v, "'tags' must be a list"))
				goto out;
		} else if (!strcmp(k->value, "erasure")) {
			const struct catalog_ynode *a = catalog_ymap_get(v, "action");
			const struct catalog_ynode *cols = catalog_ymap_get(v, "columns");
			json_t *ej = json_object();
			char *txt = NULL;
			int r = 0;

			if (v->type != CATALOG_Y_MAP || !scalar(a) ||
			    (strcmp(a->value, "delete") && strcmp(a->value, "nullify"))) {
				json_decref(ej);
				if (ext_bad(&s, v,
					    "'erasure' needs 'action: delete' or 'action: "
					    "nullify'"))
					goto out;
				continue;
			}
			for (size_t p = 0; ej && p < v->n; p++) {
				const struct catalog_ynode *pk = v->kids[2 * p],
							   *pv = v->kids[2 * p + 1];

				if (!strcmp(pk->value, "columns")) {
					json_t *arr = json_array();

					for (size_t c = 0;
					     cols->type == CATALOG_Y_SEQ && c < cols->n; c++)
						if (scalar(cols->kids[c]))
							json_array_append_new(
								arr,
								json_string(cols->kids[c]->value));
					json_object_set_new(ej, "columns", arr);
				} else if (scalar(pv) && (!strcmp(pk->value, "action") ||
							  !strcmp(pk->value, "match") ||
							  !strcmp(pk->value, "reason"))) {
					json_object_set_new(ej, pk->value, json_string(pv->value));
				} else {
					r = ext_bad(&s, pk, "unknown erasure setting '%s'",
						    pk->value);
				}
			}
			if (!ej || !(txt = json_dumps(ej, JSON_COMPACT | JSON_SORT_KEYS))) {
				json_decref(ej);
				oom(x);
				goto out;
			}
			json_decref(ej);
			if (!r)
				r = ext_row(&s, "erasure", txt, v);
			free(txt);
			if (r && x->err->code)
				goto out;
		} else if (!strcmp(k->value, "fields") || !strcmp(k->value, "columns")) {
			if (v->type != CATALOG_Y_SEQ) {
				if (ext_bad(&s, v, "'%s' must be a list", k->value))
					goto out;
				continue;
			}
			for (size_t f = 0; f < v->n; f++)
				if (ext_field(&s, v->kids[f]) && x->err->code)
					goto out;
		} else if (ext_bad(&s, k,
				   "'%s' cannot be set by an extension; use description, owner, "
				   "domain, retention, subject, tags, erasure or fields",
				   k->value)) {
			goto out;
		}
	}
	ret = 0;
out:
	sqlite3_finalize(s.ins);
	(void)ret;
	return x->err->code ? -1 : 0;
}

/* One value an extension set, remembered to tell conflicts between extensions apart. */
struct applied {
	int64_t id;
	char *key, *value, *file;
	unsigned line, col;
};

struct apply {
	struct catalog_dbt_ctx *x;
	struct applied *v;
	size_t n, cap;
};

static void apply_release(struct apply *a)
{
	for (size_t i = 0; i < a->n; i++) {
		st_free(a->v[i].key);
		st_free(a->v[i].value);
		st_free(a->v[i].file);
	}
	st_free(a->v);
}

/* Resolves an extension's target: a dbt unique_id, or the name of a dataset a manifest
 * declared. Returns 1 with *id, *gen and the name (a new string), 0 when none, -1. */
static int resolve_target(struct catalog_dbt_ctx *x, const char *target, int64_t *id, int64_t *gen,
			  char **name)
{
	sqlite3_stmt *st;
	int rc, bad = 0;

	if (st_sql_prepare(
		    x->db, &st,
		    "SELECT d.id, d.gen, d.name FROM aliases a JOIN datasets d ON d.id = "
		    "a.dataset_id"
		    " WHERE a.alias = ?1 UNION ALL SELECT d.id, d.gen, d.name FROM datasets d"
		    " JOIN dbt_manifests m ON m.file_id = d.file_id WHERE d.name = ?1 LIMIT 1",
		    x->err))
		return -1;
	sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*gen = sqlite3_column_int64(st, 1);
		*name = st_sql_col_strdup(st, 2, &bad);
	}
	sqlite3_finalize(st);
	if (bad)
		return oom(x);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return st_sql_error(x->err, x->db, "cannot resolve extension");
	return rc == SQLITE_ROW;
}

static int sql_exec_bound(struct catalog_dbt_ctx *x, const char *sql, int64_t id, const char *a,
			  const char *b, const char *c)
{
	sqlite3_stmt *st;
	int rc;

	if (st_sql_prepare(x->db, &st, sql, x->err))
		return -1;
	sqlite3_bind_int64(st, 1, id);
	catalog_dbt_bind(st, 2, a);
	catalog_dbt_bind(st, 3, b);
	catalog_dbt_bind(st, 4, c);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : st_sql_error(x->err, x->db, "cannot apply extension");
}

/* Reads one text value with a bound id and text parameter. Returns 1 with *out (new or
 * NULL), 0 when there is no row, -1. */
static int sql_text(struct catalog_dbt_ctx *x, const char *sql, int64_t id, const char *a,
		    char **out)
{
	sqlite3_stmt *st;
	int rc, bad = 0;

	*out = NULL;
	if (st_sql_prepare(x->db, &st, sql, x->err))
		return -1;
	sqlite3_bind_int64(st, 1, id);
	catalog_dbt_bind(st, 2, a);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = st_sql_col_strdup(st, 0, &bad);
	sqlite3_finalize(st);
	if (bad)
		return oom(x);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return st_sql_error(x->err, x->db, "cannot apply extension");
	return rc == SQLITE_ROW;
}

/* Applies one value of an extension to dataset id (name). Merge rule: an extension fills
 * what dbt leaves unset (a pii class of unknown counts as unset) and adds tags; a value
 * dbt or another extension already set differently is a conflict. */
static int apply_one(struct apply *a, int64_t id, const char *name, const char *key,
		     const char *value, const char *file, unsigned line, unsigned col)
{
	struct catalog_dbt_ctx *x = a->x;
	static const char *const ds_cols[] = {"description", "owner",	"domain",
					      "retention",   "subject", "erasure"};
	char sql[512], *cur = NULL;
	const char *fpath = NULL, *fkey = NULL;
	char fbuf[512];
	struct applied *ap;
	int r, ret = -1;

	if (!strcmp(key, "extends"))
		return 0;
	if (!strcmp(key, "tag")) {
		if (sql_exec_bound(x, "INSERT OR IGNORE INTO tags(dataset_id, tag) VALUES (?1, ?2)",
				   id, value, NULL, NULL) ||
		    sql_exec_bound(
			    x,
			    "UPDATE datasets SET tags = trim(tags || ' ' || ?2),"
			    " certified = certified OR ?2 = 'certified'"
			    " WHERE id = ?1 AND (' ' || tags || ' ') NOT LIKE ('% ' || ?2 || ' %')",
			    id, value, NULL, NULL))
			return -1;
		return 0;
	}
	if (!strncmp(key, "field.", 6)) {
		static const char *const fkeys[] = {"pii",	 "category",   "transform",
						    "normalize", "pii_reason", "description"};
		const char *dot = strrchr(key, '.');

		if (!catalog_dbt_one_of(dot + 1, fkeys, sizeof(fkeys) / sizeof(*fkeys)))
			return 0;

		snprintf(fbuf, sizeof(fbuf), "%.*s", (int)(dot - key - 6), key + 6);
		fpath = fbuf;
		fkey = dot + 1;
		r = sql_text(x, "SELECT 1 FROM fields WHERE dataset_id = ?1 AND path = ?2", id,
			     fpath, &cur);
		st_free(cur);
		cur = NULL;
		if (r < 0)
			return -1;
		if (!r)
			return catalog_dbt_diag(x, ST_SEV_ERROR, file, line, col,
						"field '%s' is not a column of dbt dataset '%s'",
						fpath, name);
		snprintf(sql, sizeof(sql),
			 "SELECT %s FROM fields WHERE dataset_id = ?1 AND path = ?2", fkey);
		r = sql_text(x, sql, id, fpath, &cur);
	} else {
		size_t j;

		for (j = 0; j < sizeof(ds_cols) / sizeof(*ds_cols); j++)
			if (!strcmp(key, ds_cols[j]))
				break;
		if (j == sizeof(ds_cols) / sizeof(*ds_cols))
			return 0;
		snprintf(sql, sizeof(sql), "SELECT %s FROM datasets WHERE id = ?1 AND ?2 IS NULL",
			 key);
		r = sql_text(x, sql, id, NULL, &cur);
	}
	if (r < 0)
		return -1;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].id == id && !strcmp(a->v[i].key, key) && strcmp(a->v[i].value, value)) {
			ret = catalog_dbt_diag(
				x, ST_SEV_ERROR, file, line, col,
				"%s%s%s'%s': %s '%s' conflicts with '%s' set at %s:%u:%u",
				fpath ? "field '" : "", fpath ? fpath : "", fpath ? "' of " : "",
				name, fkey ? fkey : key, value, a->v[i].value, a->v[i].file,
				a->v[i].line, a->v[i].col);
			goto out;
		}
	if (cur && strcmp(cur, value) &&
	    !(fkey && !strcmp(fkey, "pii") && !strcmp(cur, "unknown"))) {
		int mine = 0;

		for (size_t i = 0; i < a->n; i++)
			mine |= a->v[i].id == id && !strcmp(a->v[i].key, key);
		if (!mine) {
			ret = catalog_dbt_diag(
				x, ST_SEV_ERROR, file, line, col,
				"%s%s%s'%s': %s '%s' conflicts with '%s' from the dbt manifest",
				fpath ? "field '" : "", fpath ? fpath : "", fpath ? "' of " : "",
				name, fkey ? fkey : key, value, cur);
			goto out;
		}
	}
	if (fpath) {
		snprintf(sql, sizeof(sql),
			 "UPDATE fields SET %s = ?3 WHERE dataset_id = ?1 AND path = ?2", fkey);
		if (sql_exec_bound(x, sql, id, fpath, value, NULL))
			goto out;
	} else {
		snprintf(sql, sizeof(sql), "UPDATE datasets SET %s = ?2 WHERE id = ?1", key);
		if (sql_exec_bound(x, sql, id, value, NULL, NULL))
			goto out;
	}
	if (st_grow(&a->v, &a->cap, a->n + 1, sizeof(*a->v))) {
		oom(x);
		goto out;
	}
	ap = &a->v[a->n++];
	memset(ap, 0, sizeof(*ap));
	ap->id = id;
	ap->line = line;
	ap->col = col;
	if (!(ap->key = st_strdup(key)) || !(ap->value = st_strdup(value)) ||
	    !(ap->file = st_strdup(file))) {
		oom(x);
		goto out;
	}
	ret = 0;
out:
	st_free(cur);
	return ret;
}

/* After the values: subject and erasure name fields; npii counts the catalog_dbt_classes. */
static int check_applied(struct catalog_dbt_ctx *x, int64_t id, const char *name, const char *file,
			 unsigned line, unsigned col)
{
	char *subject = NULL, *erasure = NULL, *hit = NULL;
	json_t *e = NULL;
	int ret = -1, r;

	if (sql_text(x, "SELECT subject FROM datasets WHERE id = ?1 AND ?2 IS NULL", id, NULL,
		     &subject) < 0 ||
	    sql_text(x, "SELECT erasure FROM datasets WHERE id = ?1 AND ?2 IS NULL", id, NULL,
		     &erasure) < 0)
		goto out;
	if (subject) {
		if ((r = sql_text(x, "SELECT 1 FROM fields WHERE dataset_id = ?1 AND path = ?2", id,
				  subject, &hit)) < 0)
			goto out;
		st_free(hit);
		hit = NULL;
		if (!r && catalog_dbt_diag(x, ST_SEV_ERROR, file, line, col,
					   "subject '%s' is not a field of '%s'", subject, name))
			goto out;
	}
	if (erasure && (e = json_loads(erasure, 0, NULL))) {
		const char *match = json_string_value(json_object_get(e, "match"));
		json_t *cols = json_object_get(e, "columns"), *c;
		size_t i;

		if (match) {
			if ((r = sql_text(
				     x, "SELECT 1 FROM fields WHERE dataset_id = ?1 AND path = ?2",
				     id, match, &hit)) < 0)
				goto out;
			st_free(hit);
			hit = NULL;
			if (!r && catalog_dbt_diag(x, ST_SEV_ERROR, file, line, col,
						   "erasure match '%s' is not a field of '%s'",
						   match, name))
				goto out;
		}
		json_array_foreach(cols, i, c)
		{
			if ((r = sql_text(
				     x, "SELECT 1 FROM fields WHERE dataset_id = ?1 AND path = ?2",
				     id, json_string_value(c), &hit)) < 0)
				goto out;
			st_free(hit);
			hit = NULL;
			if (!r && catalog_dbt_diag(x, ST_SEV_ERROR, file, line, col,
						   "erasure column '%s' is not a field of '%s'",
						   json_string_value(c), name))
				goto out;
		}
		if (!match && !subject &&
		    catalog_dbt_diag(x, ST_SEV_ERROR, file, line, col,
				     "erasure needs 'match' or a dataset 'subject' to find the "
				     "subject's rows"))
			goto out;
	}
	if (sql_exec_bound(x,
			   "UPDATE datasets SET npii = (SELECT count(*) FROM fields f WHERE"
			   " f.dataset_id = ?1 AND f.pii NOT IN ('none', 'unknown')) WHERE id = ?1",
			   id, NULL, NULL, NULL))
		goto out;
	ret = 0;
out:
	json_decref(e);
	st_free(subject);
	st_free(erasure);
	return ret;
}

/* Applies every extension whose target was written by this load. */
int catalog_dbt_apply_extensions(struct catalog_dbt_ctx *x)
{
	sqlite3_stmt *st = NULL;
	struct apply a;
	int64_t cur_file = -1, id = 0, gen = 0;
	char *name = NULL, *cur_target = NULL, *file = NULL;
	unsigned eline = 0, ecol = 0;
	int ret = -1, rc, skip = 0, bad = 0;

	memset(&a, 0, sizeof(a));
	a.x = x;
	if (st_sql_prepare(x->db, &st,
			   "SELECT e.file_id, e.target, e.key, e.value, e.line, e.col, f.display"
			   " FROM dbt_extends e JOIN files f ON f.id = e.file_id"
			   " ORDER BY f.path, e.file_id, e.ord",
			   x->err))
		goto out;
	for (;;) {
		const char *target, *key, *value;
		int64_t fid;
		unsigned line, col;

		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		fid = sqlite3_column_int64(st, 0);
		target = (const char *)sqlite3_column_text(st, 1);
		key = (const char *)sqlite3_column_text(st, 2);
		value = (const char *)sqlite3_column_text(st, 3);
		line = (unsigned)sqlite3_column_int(st, 4);
		col = (unsigned)sqlite3_column_int(st, 5);
		if (!target || !key || !value) {
			oom(x);
			goto out;
		}
		if (!strcmp(key, "extends")) { /* a new document starts */
			if (name && !skip && check_applied(x, id, name, file, eline, ecol))
				goto out;
			st_free(name);
			st_free(cur_target);
			st_free(file);
			name = file = NULL;
			cur_file = fid;
			eline = line;
			ecol = col;
			if (!(cur_target = st_strdup(target)) ||
			    !(file = st_sql_col_strdup(st, 6, &bad)) || bad) {
				oom(x);
				goto out;
			}
			rc = resolve_target(x, target, &id, &gen, &name);
			if (rc < 0)
				goto out;
			skip = !rc || gen != x->gen;
			if (!rc &&
			    catalog_dbt_diag(
				    x, ST_SEV_ERROR, file, line, col,
				    "'extends: %s' names no dbt unique_id or dataset loaded from a "
				    "dbt manifest",
				    target))
				goto out;
			continue;
		}
		if (skip || fid != cur_file)
			continue;
		if (apply_one(&a, id, name, key, value, file, line, col) && x->err->code)
			goto out;
		if (sql_exec_bound(x, "INSERT OR IGNORE INTO temp.touched(name) VALUES (?2)", 0,
				   name, NULL, NULL))
			goto out;
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(x->err, x->db, "cannot read extensions");
		goto out;
	}
	if (name && !skip && check_applied(x, id, name, file, eline, ecol))
		goto out;
	ret = 0;
out:
	sqlite3_finalize(st);
	st_free(name);
	st_free(cur_target);
	st_free(file);
	apply_release(&a);
	return ret;
}
