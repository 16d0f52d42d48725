/* A validator for the subset of JSON Schema (draft-07) that schemas/descriptor.schema.json
 * uses, applied to YAML node trees so that every problem keeps its line and column. */
#ifndef CATALOG_JSCHEMA_H
#define CATALOG_JSCHEMA_H

#include <stddef.h>

#include "error.h"
#include "ydoc.h"

struct catalog_jschema;

/* Parses a schema from len bytes of JSON text. Returns 0 and stores a new schema in *out
 * (free with catalog_jschema_free()), or -1 with err set when the text is not JSON or uses
 * a keyword this validator does not implement. */
int catalog_jschema_load(struct catalog_jschema **out, const char *text, size_t len,
			 struct st_error *err);
/* Frees a schema. NULL is fine. */
void catalog_jschema_free(struct catalog_jschema *s);
/* Validates one document against the schema and appends each problem to diags as an
 * error located in file. Returns the number of errors found, or -1 on out of memory. */
int catalog_jschema_validate(const struct catalog_jschema *s, const struct catalog_ynode *doc,
			     const char *file, struct st_diags *diags);
/* Returns the closest of n candidate words to word when it is within two edits, else NULL.
 * Used for "did you mean" hints. */
const char *catalog_suggest(const char *word, const char *const *cands, size_t n);

#endif
