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
};

/* A manifest named on the command line or found in a loaded directory. */
struct catalog_dbt_input {
	const char *display, *abs;
};

/* Whether path, a regular file met in a directory walk, is a dbt manifest: it is named
 * manifest.json and its first 4 KiB name a metadata.dbt_schema_version. */
int catalog_dbt_sniff(const char *path, const char *base);

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

#endif
