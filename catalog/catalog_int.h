/* Internals shared by the catalog library's files; not part of its public API. */
#ifndef CATALOG_INT_H
#define CATALOG_INT_H

#include <sqlite3.h>

#include "catalog.h"
#include "jschema.h"

struct catalog_taxonomy;

/* files.loaded_at for a row written now, as an SQL expression: UTC to the millisecond,
 * "2026-12-07T21:05:00.123Z", which sorts as text in time order. Every file row takes it
 * (load.c's now_text() writes the same in C for its batches). */
#define CATALOG_LOADED_AT_NOW "strftime('%Y-%m-%dT%H:%M:%fZ')"

struct catalog {
	sqlite3 *db;
	struct catalog_jschema *schema;  /* loaded on first use */
	struct catalog_taxonomy *tax;    /* loaded on first use */
	catalog_scrub_fn scrub;          /* free text in descriptors; NULL: stored as written */
	void *scrub_ctx;
};

/* ---- Taxonomy (taxonomy.c) ---- */
struct catalog_category {
	char *key, *name, *description, *parent, *deprecated, *replaced_by;
};
/* Parses the embedded fideslang taxonomy. Returns 0 with *out, or -1 with err. */
int catalog_taxonomy_load(struct catalog_taxonomy **out, struct st_error *err);
/* Parses a taxonomy in fideslang's YAML layout (data_category: [...]) from len bytes of
 * text. Same contract as catalog_taxonomy_load(). */
int catalog_taxonomy_parse(struct catalog_taxonomy **out, const unsigned char *text,
			   size_t len, struct st_error *err);
/* The number of categories, and category i in key order (NULL past the end). */
size_t catalog_taxonomy_count(const struct catalog_taxonomy *t);
const struct catalog_category *catalog_taxonomy_at(const struct catalog_taxonomy *t, size_t i);
/* When key is a deprecated category, writes a warning naming its replacement into msg (n
 * bytes) and returns 1; otherwise returns 0. */
int catalog_category_deprecation(const struct catalog_taxonomy *t, const char *key, char *msg,
				 size_t n);
/* Returns the entry for key, or NULL. */
const struct catalog_category *catalog_taxonomy_find(const struct catalog_taxonomy *t,
						     const char *key);
/* Frees the taxonomy. NULL is fine. */
void catalog_taxonomy_free(struct catalog_taxonomy *t);

/* Splits a "dataset.field.path" reference at the dataset name, which is exactly
 * "namespace.name". Stores the field part's offset in *field (0 when there is none). Returns
 * the dataset name's length, or 0 when ref has no namespace. */
size_t catalog_split_ref(const char *ref, size_t *field);

/* Sets a not-found error for name (ST_E_NOTFOUND) with a did-you-mean hint: the dataset
 * part of a dataset.field name, or a name within two edits. Returns -1. */
int catalog_not_found(struct catalog *c, const char *name, struct st_error *err);
/* Sets the error for a (name, version) look-up that found no row (version 0: the latest):
 * "has no version N", or catalog_not_found(). Returns -1. */
int catalog_missing(struct catalog *c, const char *name, int64_t version, struct st_error *err);

/* ---- A descriptor's detect: key (detect_conf.c) ---- */
struct catalog_ynode;
/* Checks the detect: key of the document root of dataset name (id dataset_id), which the
 * schema already passed: its regions are ISO 3166 alpha-2 codes or locales, its
 * country_field a string field outside any array. Problems go to d, located in file; with
 * none, stores the settings as the dataset's detect.threshold, detect.regions (normalized:
 * "AT,CH") and detect.country_field properties. Returns 0, or -1 with err on a system
 * error. */
int catalog_detect_store(sqlite3 *db, int64_t dataset_id, const char *name,
			 const struct catalog_ynode *root, const char *file, struct st_diags *d,
			 struct st_error *err);

#endif
