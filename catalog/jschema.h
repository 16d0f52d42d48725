/* A validator for the subset of JSON Schema (draft-07) that schemas/descriptor.schema.json
 * uses, applied to YAML node trees so that every problem keeps its line and column; and a
 * compiled one for JSON documents against a set of draft 2020-12 schema files that refer to
 * each other (the OpenLineage spec: $ref into $defs and across files, allOf/anyOf/oneOf/not,
 * const, dependentRequired, formats uri, date-time and uuid). The schemas are jansson trees,
 * compiled once; the documents are read off the strict reader's tape (common/json.h). */
#ifndef CATALOG_JSCHEMA_H
#define CATALOG_JSCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "json.h"
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
/* Adds a further schema document, which $ref reaches by name, the last path element of a
 * URL before '#' ("https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/X"
 * reaches "SchemaDatasetFacet.json"). The root document is reached by the last element of
 * its $id. Returns 0, or -1 with err (not JSON, or an unsupported keyword). */
int catalog_jschema_add(struct catalog_jschema *s, const char *name, const char *text,
			size_t len, struct st_error *err);

struct catalog_jschema_node;
/* Compiles the subschema ref names ("#/$defs/RunEvent", "FILE.json#/properties/schema", "#"
 * for the root) and everything it reaches, once; *out lives as long as s. Returns 0, or -1
 * with err when a reference does not resolve. */
int catalog_jschema_compile(struct catalog_jschema *s, const char *ref,
			    const struct catalog_jschema_node **out, struct st_error *err);
/* Validates a JSON document against a compiled schema: the value at node x of tape t, made
 * by st_json_parse() from buf. Numbers are read as jansson reads them (without fraction or
 * exponent: an integer), so the caller must have ruled out what jansson refuses (numbers out
 * of range, "\u0000"). Returns 0 when it is valid, or 1 with the first problem written to
 * why (n bytes), naming where it is as a path such as 'inputs[0].facets.schema._producer'.
 * Of the choices of a failed oneOf or anyOf, the problem reported is the one found deepest
 * in the document. */
int catalog_jschema_check(const struct catalog_jschema_node *node, const char *buf,
			  const struct st_jtape *t, uint32_t x, char *why, size_t n);
/* The same for a document found at path at ("outputs[0].facets.schema") in a larger one:
 * the paths in messages start there. */
int catalog_jschema_check_at(const struct catalog_jschema_node *node, const char *buf,
			     const struct st_jtape *t, uint32_t x, const char *at, char *why,
			     size_t n);
/* Returns the closest of n candidate words to word when it is within two edits, else NULL.
 * Used for "did you mean" hints. */
const char *catalog_suggest(const char *word, const char *const *cands, size_t n);

#endif
