/* PII propagation along column lineage (pii/pii_map.c): the class a field inherits from
 * the fields it is derived from, the PII map of the whole catalog and `pii check`. Computed
 * at query time from catalog.db; nothing is stored. */
#ifndef PII_MAP_H
#define PII_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "error.h"
#include "pii.h"

/* PII classes, weakest first: a larger value is a stronger class. */
enum pii_map_class {
	PII_MAP_NONE,
	PII_MAP_PSEUDONYMOUS,
	PII_MAP_INDIRECT,
	PII_MAP_DIRECT,
	PII_MAP_SENSITIVE,
	PII_MAP_NCLASSES
};

/* "No field": a field that inherits nothing, the end of a chain. */
#define PII_MAP_NO_FIELD ((size_t)-1)

/* pii_graph_dataset() fails when the walk upstream of one dataset reaches this many fields. */
#define PII_MAP_WALK_MAX 1000000

/* Returns the descriptor spelling of a class ("none", "pseudonymous", ...), or "?" when cls
 * is out of range. The string is static. */
const char *pii_map_class_name(int cls);
/* Returns the class spelled name, or -1 when name is not a class. */
int pii_map_class_parse(const char *name);

/* The propagation result: every field it looked at, with its declared and inherited
 * class. Opaque; read it with pii_graph_count() and pii_graph_field(). */
struct pii_graph;

/* One field of a graph. Every string is borrowed from the graph and lives as long as it. */
struct pii_field {
	const char *dataset, *path; /* the field is dataset.path */
	/* Of its dataset; owner and system may be NULL. */
	const char *kind, *owner, *system;
	/* As declared; NULL when absent. */
	const char *category, *transform;
	int64_t dataset_id; /* datasets.id of the version the graph read */
	int declared;       /* the class declared with pii: */
	int cls;            /* the effective class: declared, or inherited when stronger */
	int derived;        /* 1 when cls is inherited through from: (stronger than declared) */
	int has_reason;     /* a pii_reason: it inherits nothing and passes nothing on */
	size_t from;        /* when derived: the field it inherits from; else PII_MAP_NO_FIELD */
	const char *type;   /* as declared or observed; NULL when unknown */
	int observed;       /* catalog_graph_field.observed: 0 declared by a descriptor */
};

/* Builds the graph of the whole catalog: the latest version of every dataset, every field
 * and every from: edge between declared fields (references to undeclared fields pass
 * nothing), and propagates classes to a fixpoint. Memory is about 50 bytes per field and 12
 * per edge, besides SQLite's. Returns 0 with *out (free with pii_graph_free()), or -1 with
 * err and *out NULL. */
int pii_graph_catalog(struct catalog *c, struct pii_graph **out, struct st_error *err);

/* Builds the graph for one dataset, name at version (0: the latest): its fields, and every
 * field upstream of them through from:, followed up to the latest version of each dataset.
 * The dataset's own fields are fields 0 .. pii_graph_nroots() - 1, in declaration order,
 * the order of catalog_card_get(). Returns 0 with *out (free with pii_graph_free()), or -1
 * with err: ST_E_NOTFOUND when there is no such dataset (with a did-you-mean hint),
 * ST_E_SYSTEM when the walk passes PII_MAP_WALK_MAX fields or the database fails. */
int pii_graph_dataset(struct catalog *c, const char *name, int64_t version, struct pii_graph **out,
		      struct st_error *err);

/* The number of fields in g, and the number of fields of the dataset a
 * pii_graph_dataset() graph was built for (0 for a pii_graph_catalog() graph). */
size_t pii_graph_count(const struct pii_graph *g);
size_t pii_graph_nroots(const struct pii_graph *g);
/* Fills f with field i of g (i < pii_graph_count(g)). */
void pii_graph_field(const struct pii_graph *g, size_t i, struct pii_field *f);
/* Writes the chain field i inherits through into out (at most max entries): the field it
 * inherits from, that field's own source when it inherits too, and so on back to the field
 * whose class is declared. Returns the number written: 0 when i inherits nothing, and never
 * more than max, so a chain always ends, even through a cycle. */
size_t pii_graph_chain(const struct pii_graph *g, size_t i, size_t *out, size_t max);
/* Frees the graph. NULL is fine. */
void pii_graph_free(struct pii_graph *g);

/* ---- The PII map ---------------------------------------------------------------------- */

struct pii_map_row {
	size_t field;		   /* index in the graph */
	const char *category;	   /* the field's category; for a derived field without one,
				    * the nearest category up its chain; NULL when none */
	const char *category_name; /* the taxonomy's name for category, or NULL */
	size_t origin;		   /* when derived: the end of its chain; else PII_MAP_NO_FIELD */
};

struct pii_map {
	struct pii_map_row *rows; /* sorted by category (NULL last), dataset, declaration order */
	size_t n;
	size_t ndeclared, nderived, ndatasets, ncategories;
	size_t by_class[PII_MAP_NCLASSES]; /* rows per effective class */
};

/* Lists every personal-data field of g: declared (pii other than none) or derived (it
 * inherits a class stronger than it declares). Category names come from the embedded
 * taxonomy, which is loaded into c on first use. The rows borrow strings from g and the
 * taxonomy, so m must be released before g and c are freed. Returns 0 with m filled
 * (release with pii_map_release()), or -1 with err and m empty. */
int pii_map_build(struct catalog *c, const struct pii_graph *g, struct pii_map *m,
		  struct st_error *err);
/* Frees the rows and zeroes m. */
void pii_map_release(struct pii_map *m);

/* ---- pii check ------------------------------------------------------------------------ */

/* What a finding is about. */
enum pii_finding_kind {
	PII_FINDING_DECLARED_NONE,     /* declared pii: none, inherits, states no pii_reason */
	PII_FINDING_OBSERVED_INHERITS, /* observed in lineage, untagged, inherits a class */
	PII_FINDING_OBSERVED_NAMED,    /* observed in lineage, untagged, named like PII */
	PII_FINDING_UNKNOWN            /* its class is unknown: not classified yet (dbt) */
};

struct pii_finding {
	size_t field; /* the field, in the graph */
	int kind;     /* enum pii_finding_kind */
	const struct pii_field_rule *rule; /* PII_FINDING_OBSERVED_NAMED: the rule it matches */
	char *file;   /* the descriptor file it is declared in, as loaded; NULL if unknown */
	unsigned line, col; /* 0 when the source has no lines (a dbt manifest) */
	int unknown;  /* kind is PII_FINDING_UNKNOWN */
};

struct pii_findings {
	struct pii_finding *v; /* sorted by dataset name, then declaration order */
	size_t n;
};

/* Finds the fields of g declared pii: none that inherit personal data and state no
 * pii_reason, and the fields whose class is unknown (f->unknown), with where each is declared;
 * and the untagged personal data observed in
 * lineage: fields only OpenLineage events name (no descriptor, no steward_pii class) that
 * inherit a class through column lineage, or whose name and type match a field rule of the
 * detectors (pii_field_rule_match()). Returns 0 with out filled (possibly empty;
 * release with pii_findings_release()), or -1 with err and out empty. */
int pii_check(struct catalog *c, const struct pii_graph *g, struct pii_findings *out,
	      struct st_error *err);
/* Frees the findings and zeroes f. */
void pii_findings_release(struct pii_findings *f);

/* ---- The dataset card as JSON (card_json.c) ---------------------------------------- */

struct json_t;
/* The PII map m of graph g as `pii map --json` prints it and `steward serve` answers it:
 * {categories: [{category, name, fields: [...]}], totals}, with the rows [offset,
 * offset + limit) grouped by category (SIZE_MAX: all of them; totals always count every
 * row). NULL on out of memory. */
struct json_t *pii_map_json(const struct pii_graph *g, const struct pii_map *m, size_t offset,
			    size_t limit);
/* The findings fs of graph g as `pii check --json` prints them: {findings: [...], count},
 * with the findings [offset, offset + limit) (count is all of them). NULL on out of
 * memory. */
struct json_t *pii_findings_json(const struct pii_graph *g, const struct pii_findings *fs,
				 size_t offset, size_t limit);
/* Card k as `show --json` prints it and `steward serve` answers it: its metadata, fields
 * (with the class each inherits through g, which may be NULL, and what OpenLineage left
 * untagged), versions, neighbours, terms, aliases, properties and constraints, and ol.
 * NULL on out of memory. */
struct json_t *pii_card_json(const struct catalog_card *k, const struct pii_graph *g,
			     const struct catalog_ol_info *ol);
/* Field i of card field cf as the propagation saw it, when it inherits a class stronger than
 * it declares: fills f and src (the field it inherits from) and returns 1, else 0. */
int pii_card_field_derived(const struct pii_graph *g, size_t i, const struct catalog_field *cf,
			   struct pii_field *f, struct pii_field *src);
/* Whether field i of the card is observed in lineage and no descriptor tags it. */
int pii_card_field_untagged(const struct pii_graph *g, size_t i, const struct catalog_field *cf);

#endif
