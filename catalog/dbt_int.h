/* dbt artifacts as a catalog source (catalog/dbt.c): the loader's hooks into it. Internal to
 * the catalog library. */
#ifndef CATALOG_DBT_INT_H
#define CATALOG_DBT_INT_H

#include <sys/stat.h>

#include "catalog_int.h"
#include "ydoc.h"

/* What catalog_load() shares with the dbt step of one load. */
struct catalog_dbt_ctx {
	struct catalog *c;
	sqlite3 *db;
	int64_t gen;
	struct st_diags *diags;
	struct st_error *err;
	struct catalog_load_stats *stats;
	/* load.c's: drops what a file declared (datasets, search rows), keeping its row. */
	int (*forget)(void *u, int64_t file_id);
	void *forget_u;
	int serial; /* one thread only (CATALOG_LOAD_SERIAL): no SQLite writer thread */
};

/* A manifest named on the command line or found in a loaded directory. */
struct catalog_dbt_input {
	const char *display, *abs;
};

/* Whether path, a regular file met in a directory walk, is a dbt manifest: it is named
 * manifest.json and its first 4 KiB name a metadata.dbt_schema_version. */
int catalog_dbt_sniff(const char *path, const char *base);

/* Whether dir is a dbt project: it holds dbt_project.yml. */
int catalog_dbt_is_project(const char *dir);

/* Whether an entry of a dbt project's directory belongs to dbt (is_dir: a directory whose
 * YAML is dbt's: models, seeds, snapshots, analyses, macros, tests, data, target, logs,
 * dbt_packages, dbt_modules; else a file: dbt_project.yml, packages.yml, dependencies.yml,
 * selectors.yml, profiles.yml, package-lock.yml). The loader reads no descriptor there,
 * only manifests. */
int catalog_dbt_own(const char *name, int is_dir);

/* Whether a file named explicitly is to be read as a dbt manifest: it ends in .json and its
 * first 4 KiB name a dbt_schema_version (any other file is a descriptor, as before). */
int catalog_dbt_is_json(const char *path);

/* The dbt step of a load, after every descriptor is stored: decides which manifests changed
 * (stat data, then a hash of the manifest, its catalog.json and the descriptor extensions),
 * re-materializes those, and applies every `extends:` document to them. Problems go to
 * x->diags; returns 0, or -1 with x->err for failures that stop the load. */
int catalog_dbt_load(struct catalog_dbt_ctx *x, const struct catalog_dbt_input *in, size_t n);

/* Whether a descriptor document is an extension of a dbt dataset (has `extends`). */
int catalog_dbt_is_extension(const struct catalog_ynode *root);

/* Checks an `extends:` document and stores what it sets, for catalog_dbt_load() to apply.
 * Problems go to x->diags, located in file; returns 0, or -1 with x->err. */
int catalog_dbt_extension(struct catalog_dbt_ctx *x, const char *file, int64_t file_id,
			  const struct catalog_ynode *root);

/* ---- shared by dbt.c and dbt_extend.c ---- */

/* Appends a problem to x->diags (file:line:col when line is not 0). Returns 0, or -1 with
 * x->err when memory ran out. */
int catalog_dbt_diag(struct catalog_dbt_ctx *x, int sev, const char *file, unsigned line,
		     unsigned col, const char *fmt, ...) ST_PRINTF(6, 7);
/* Binds s, or NULL as SQL NULL. Returns SQLite's code. */
int catalog_dbt_bind(sqlite3_stmt *st, int i, const char *s);
/* Steps a statement that returns no rows, then resets it and clears its bindings.
 * Returns 0, or -1 with x->err (what: the context). */
int catalog_dbt_step(struct catalog_dbt_ctx *x, sqlite3_stmt *st, const char *what);
/* Whether v is one of the n words of set. */
int catalog_dbt_one_of(const char *v, const char *const *set, size_t n);

/* PII classes (unknown last: a manifest may say it, an extension may not), transforms and
 * normalisers. */
#define CATALOG_DBT_NCLASSES 6
#define CATALOG_DBT_NTRANSFORMS 5
#define CATALOG_DBT_NNORMALIZERS 3
extern const char *const catalog_dbt_classes[CATALOG_DBT_NCLASSES];
extern const char *const catalog_dbt_transforms[CATALOG_DBT_NTRANSFORMS];
extern const char *const catalog_dbt_normalizers[CATALOG_DBT_NNORMALIZERS];

/* Applies every stored extension whose target dataset this load wrote (gen), checking
 * conflicts, and reports extensions that name no dbt dataset. Returns 0, or -1 with
 * x->err. */
int catalog_dbt_apply_extensions(struct catalog_dbt_ctx *x);

#endif
