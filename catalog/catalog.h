/* steward's catalog library: the workspace, descriptor loading into SQLite, search, dataset
 * cards and lineage. It never prints or exits; every function reports through st_error. */
#ifndef CATALOG_H
#define CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct sqlite3;
struct json_t;

/* ---- Workspace ------------------------------------------------------------------------ */

/* A workspace is a directory with steward.yaml and a .steward/ state directory. */
struct catalog_workspace {
	char *home;      /* absolute path of the workspace directory */
	char *state_dir; /* home/.steward */
	char *config;    /* home/steward.yaml */
	long trusted_uid; /* another owner the user trusts here (safe_directories), else 0 */
};

/* Creates (or re-initialises) a workspace in dir, creating dir if needed, with a
 * commented steward.yaml that makes the login name admin the workspace's admin, and
 * .steward/catalog.db (mode 0700/0600). Sets *existed to 1 when dir already was a
 * workspace (its files are kept and its database migrated). Returns 0, or -1 with err. */
int catalog_workspace_create(const char *dir, const char *admin, int *existed,
			     struct st_error *err);
/* Finds the workspace: explicit_home if not NULL, else $STEWARD_HOME, else the nearest
 * directory at or above the current one that holds .steward/. Fills ws (release with
 * catalog_workspace_release()). As git does since CVE-2022-24765, refuses (ST_E_DENIED) a
 * .steward/ or steward.yaml owned by anyone but the user or root, unless the user's own
 * configuration (catalog_safe_directories()) lists the workspace; refuses either as a
 * symbolic link; and reports a workspace the user may not read or write as ST_E_DENIED,
 * never as missing. Returns 0, or -1 with err (ST_E_NOTFOUND if none). */
int catalog_workspace_find(struct catalog_workspace *ws, const char *explicit_home,
			   struct st_error *err);
/* The user's own configuration file: $XDG_CONFIG_HOME/steward/config.yaml, else
 * $HOME/.config/steward/config.yaml, written into out (n bytes). Returns 0, or -1 when
 * neither variable is set or the path does not fit. */
int catalog_user_config_path(char *out, size_t n);
/* Whether the user trusts the workspace at home (an absolute, resolved path) although
 * someone else owns it: '*' or a path naming it in $STEWARD_SAFE_DIRECTORIES (separated by
 * ':') or in the safe_directories list of the user's configuration file. Returns 1 or 0, or
 * -1 with err (a configuration file that cannot be read or parsed, located). */
int catalog_safe_directory(const char *home, struct st_error *err);
/* Builds the path of a file inside ws's state directory into a new string the caller
 * frees with st_free(). Returns NULL on out of memory. */
char *catalog_workspace_state_path(const struct catalog_workspace *ws, const char *name);
/* Frees the strings in ws. */
void catalog_workspace_release(struct catalog_workspace *ws);

/* ---- Configuration (steward.yaml) ----------------------------------------------------- */

struct catalog_ydoc;

struct catalog_config {
	struct catalog_ydoc *doc; /* NULL when there is no steward.yaml */
	const char *file;         /* the file it came from (the workspace's), for messages */
};

/* Reads ws's steward.yaml. A missing file is not an error (every setting has a default);
 * an unknown top-level setting or invalid YAML is (ST_E_INVALID, located). Release with
 * catalog_config_release() in every case. Returns 0, or -1 with err. */
int catalog_config_load(struct catalog_config *cfg, const struct catalog_workspace *ws,
			struct st_error *err);
/* The scalar at a dotted path such as "pii.default_country", or NULL. Valid until the
 * config is released. */
const char *catalog_config_str(const struct catalog_config *cfg, const char *path);
/* One key of a mapping in steward.yaml, with where it was written. */
struct catalog_config_entry {
	const char *key;
	const char *value; /* the value's text when it is a scalar, else NULL */
	int is_null;       /* the value is a null scalar (empty, ~ or null) */
	unsigned key_line, key_col, line, col; /* 1-based, of the key and of its value */
	const void *map;   /* the value when it is a mapping (for catalog_config_each_in), else NULL */
};
/* Calls fn(entry, u, err) for each key of the mapping at a dotted path ("targets",
 * "roles.users"), in file order, and stops at the first nonzero return, which it returns.
 * An absent or null setting has no entries (returns 0). When the setting is something
 * other than a mapping, sets err (ST_E_INVALID) to not_map, located in the config file,
 * and returns -1. */
int catalog_config_each(const struct catalog_config *cfg, const char *path, const char *not_map,
			int (*fn)(const struct catalog_config_entry *e, void *u,
				  struct st_error *err),
			void *u, struct st_error *err);
/* Calls fn(entry, u, err) for each key of the mapping that entry e (given by
 * catalog_config_each or by this function) holds as its value, in file order, and stops at
 * the first nonzero return, which it returns. When e's value is not a mapping, sets err
 * (ST_E_INVALID) to not_map, located at the value, and returns -1. */
int catalog_config_each_in(const struct catalog_config *cfg, const struct catalog_config_entry *e,
			   const char *not_map,
			   int (*fn)(const struct catalog_config_entry *e, void *u,
				     struct st_error *err),
			   void *u, struct st_error *err);
/* Frees the parsed configuration. */
void catalog_config_release(struct catalog_config *cfg);

/* ---- Catalog database ----------------------------------------------------------------- */

#define CATALOG_SCHEMA_VERSION 4

struct catalog;

/* Opens catalog.db in ws: WAL mode, a busy timeout, foreign keys on, and pending schema
 * migrations applied in one transaction. Returns 0 with a handle in *out (free with
 * catalog_free()), or -1 with err set; a database newer than this program is refused. */
int catalog_open(struct catalog **out, const struct catalog_workspace *ws, struct st_error *err);
/* Opens a catalog database file directly (":memory:" works), creating it. Same contract
 * as catalog_open(). Used by tests and fuzzers. */
int catalog_open_path(struct catalog **out, const char *path, struct st_error *err);
/* Closes the database and frees the handle. NULL is fine. */
void catalog_free(struct catalog *c);
/* The underlying SQLite handle, for tests and fuzzers that inspect or reset the database. */
struct sqlite3 *catalog_db(struct catalog *c);

/* ---- Loading -------------------------------------------------------------------------- */

struct catalog_load_stats {
	size_t files;           /* descriptor files found under the paths */
	size_t files_new, files_changed, files_unchanged, files_removed;
	size_t documents;       /* documents parsed (changed and new files only) */
	size_t datasets;        /* (name, version) rows in the catalog after the load */
	size_t names;           /* distinct names in the catalog after the load */
	size_t datasets_loaded; /* rows written by this load */
	char **removed;         /* names that no longer exist after the load */
	size_t nremoved;
	size_t manifests;        /* dbt manifests named or found (also counted in files) */
	size_t manifests_parsed; /* dbt manifests read and written again by this load */
};

/* catalog_load() flags */
#define CATALOG_LOAD_DRY_RUN 1u /* validate everything, then roll back */
#define CATALOG_LOAD_SERIAL 2u  /* parse on the calling thread only (deterministic tests) */

/* Loads descriptor files and directories (recursively, *.yaml and *.yml) into the catalog.
 * Everything is validated and every problem appended to diags as file:line:col; the load
 * applies in one transaction only when no error was found. Files unchanged since the last
 * load are skipped; datasets whose file vanished from under a loaded directory are
 * removed. With CATALOG_LOAD_DRY_RUN nothing is kept even when all is well. Returns 0
 * (warnings may be in diags), or -1 with err: ST_E_INVALID when diags
 * holds errors and nothing was changed, other codes for system failures. stats is filled
 * either way; release it with catalog_load_stats_release(). */
int catalog_load(struct catalog *c, const char *const *paths, size_t npaths, unsigned flags,
		 struct catalog_load_stats *stats, struct st_diags *diags, struct st_error *err);
/* Frees the lists inside stats. */
void catalog_load_stats_release(struct catalog_load_stats *stats);

/* A scrubber for free text in descriptors. Given len bytes of text, it returns a new
 * NUL-terminated copy (freed with st_free()) with the personal data it detects replaced,
 * and sets *found to how many values it replaced; it returns NULL with *found 0 when it
 * finds nothing, and NULL with *found non-zero when it runs out of memory. */
typedef char *(*catalog_scrub_fn)(const char *text, size_t len, size_t *found, void *ctx);
/* Makes catalog_load() pass descriptions and pii_reason texts through fn before storing
 * them; each text that held personal data gets a warning (without the value). A catalog
 * should describe data, not hold it. The load's parse threads call fn at the same time:
 * it must be thread-safe. */
void catalog_set_scrubber(struct catalog *c, catalog_scrub_fn fn, void *ctx);

/* Checks key against the embedded data category taxonomy. Returns 0 if it is a category,
 * or -1 with err: ST_E_INVALID "unknown category 'x'" with a did-you-mean hint. */
int catalog_category_check(const char *key, struct st_error *err);

/* The display name of data category key in the embedded taxonomy (loaded into c on
 * first use), in *name: valid as long as c, NULL when key is no category. Returns 0, or -1
 * with err when the taxonomy cannot be loaded. */
int catalog_category_name(struct catalog *c, const char *key, const char **name,
			  struct st_error *err);

/* Returns the embedded descriptor JSON Schema (NUL-terminated, static) and its length. */
const char *catalog_descriptor_schema(size_t *len);

/* Resolves an alias of a dataset (a dbt unique_id), alone or followed by .field, unless a
 * dataset has that very name. Returns 1 with *out the steward name (plus the field part), a
 * new string freed with st_free(); 0 with *out NULL when ref is no alias; -1 with err.
 * catalog_card_get(), catalog_lineage_get() and catalog_search() call it themselves. */
int catalog_resolve_alias(struct catalog *c, const char *ref, char **out, struct st_error *err);

/* ---- Search --------------------------------------------------------------------------- */

struct catalog_search_opts {
	const char *kind, *tag, *owner, *domain; /* NULL: no filter */
	int pii_only;                            /* only datasets with a PII field */
	size_t limit;                            /* 0 means 20 */
};

struct catalog_hit {
	char *name, *kind, *description, *owner;
	int64_t version;
	int certified;
	int observed; /* only OpenLineage events name it; such hits come after declared ones */
	double score; /* higher is better */
};

struct catalog_hits {
	struct catalog_hit *v;
	size_t n;
	size_t total;   /* datasets that match, before the limit */
	int restricted; /* so many matched that only name, tag and term matches were ranked */
};

/* Full-text search over names, descriptions, fields, tags, owners and glossary terms,
 * ranked by BM25 with a boost for datasets tagged certified. query is free text; its words
 * are matched as prefixes and all must match. When more than CATALOG_SEARCH_RANK_ALL
 * datasets match, only those matching in their name, tags or glossary terms are ranked
 * (hits->restricted is set), which keeps a one-word query over 100k datasets fast. Fills
 * hits (release with catalog_hits_release()). Returns 0 (possibly no hits), or -1 with err. */
#define CATALOG_SEARCH_RANK_ALL 2000
int catalog_search(struct catalog *c, const char *query, const struct catalog_search_opts *o,
		   struct catalog_hits *hits, struct st_error *err);
/* Frees every hit. */
void catalog_hits_release(struct catalog_hits *hits);
struct json_t;
/* The hits as `search --json` and the API give them: an array of {name, kind, version,
 * score, certified, owner, description[, observed]}. NULL on out of memory. */
struct json_t *catalog_hits_json(const struct catalog_hits *hits);

/* ---- Dataset cards -------------------------------------------------------------------- */

struct catalog_field {
	char *path, *type, *item_type, *pii, *category, *transform, *normalize, *pii_reason,
		*description;
	int depth, required, nullable, scan;
	char **from; /* dataset.field paths this field is derived from */
	char **from_how; /* for each: an OpenLineage edge's transformation ("DIRECT/IDENTITY",
			  * "DIRECT/TRANSFORMATION, masking"), NULL for a descriptor's from: */
	size_t nfrom;
	char *tags, *meta; /* from a dbt column: JSON array and object, else NULL */
};

/* A constraint on a dataset (from a dbt generic test): kind not_null, unique,
 * accepted_values (detail: the values as a JSON array) or relationships (field holds values
 * of ref_ds.ref_field, a join key). field is NULL for a dataset-wide one; origin names the
 * test. */
struct catalog_constraint {
	char *kind, *field, *detail, *ref_ds, *ref_field, *origin;
};

/* A property of a dataset, such as dbt.materialized or dbt.path. */
struct catalog_prop {
	char *key, *value;
};

struct catalog_ref {
	char *name;  /* dataset name, or dataset.field */
	char *kind;  /* NULL when the dataset is not declared (external) */
};

struct catalog_card {
	char *name, *kind, *description, *owner, *domain, *system, *location, *format, *retention,
		*subject, *compatibility, *job, *erasure, *tags, *file;
	int64_t version;
	unsigned line;
	int certified;
	int64_t *versions; /* every version of the name, ascending */
	size_t nversions;
	struct catalog_field *fields;
	size_t nfields;
	struct catalog_ref *upstream, *downstream, *terms, *related;
	size_t nupstream, ndownstream, nterms, nrelated;
	char **aliases; /* other names it answers to (dbt unique_ids) */
	size_t naliases;
	struct catalog_constraint *constraints;
	size_t nconstraints;
	struct catalog_prop *props;
	size_t nprops;
	/* The descriptor's detect: key, for the free-text detectors (not among props): */
	int detect_threshold;       /* the score a finding needs, 1-100; 0: not declared */
	char *detect_regions;       /* phone regions, ISO 3166 alpha-2: "AT,CH"; NULL: none */
	char *detect_country_field; /* the field naming each record's country; NULL: none */
};

/* Fills card with dataset name at version (0 = latest). Returns 0, or -1 with err
 * (ST_E_NOTFOUND, with a suggestion when a similar name exists). Release the card with
 * catalog_card_release() in every case. */
int catalog_card_get(struct catalog *c, const char *name, int64_t version,
		     struct catalog_card *card, struct st_error *err);
/* Frees everything inside card and zeroes it. */
void catalog_card_release(struct catalog_card *card);

/* The region of s (n bytes): an ISO 3166 alpha-2 code in any case, or a locale ("de_AT",
 * "de-AT", "gsw_CH", "de_AT.UTF-8"), upper case into out. Returns 0, or -1 when s is
 * neither. Whether the code is assigned is not checked here. The one rule for a detect:
 * region, a record's country field and pii.default_country (pii_region_code()). */
int catalog_region_code(const char *s, size_t n, char out[3]);

/* Lists the distinct dataset names in namespace ns ("events" for events.click, ...), in
 * name order, into a new array of new strings (free each and the array with st_free()).
 * Returns 0, or -1 with err. */
int catalog_names_in(struct catalog *c, const char *ns, char ***names, size_t *n,
		     struct st_error *err);

/* ---- Fields and their from: edges, for graph builders (fieldgraph.c) ------------------ */

/* A dataset row. Strings are valid only during the callback that receives it. */
struct catalog_graph_dataset {
	int64_t id;
	const char *name;
	size_t name_len;
	const char *kind, *owner, *system; /* NULL when unset */
	int latest; /* 1 when it is the latest version of its name */
};
/* A field row: its declared pii class (text), category, transform, and whether a
 * pii_reason explains it. path or pii is NULL only when SQLite ran out of memory. */
struct catalog_graph_field {
	int64_t dataset_id;
	const char *path, *pii, *category, *transform;
	int has_reason;
	const char *type; /* as declared or observed; NULL when unknown */
	/* 0: a descriptor declares it; CATALOG_OBSERVED: only OpenLineage events name it, and
	 * no descriptor tags it; CATALOG_OBSERVED_TAGGED: the same, with the class of a
	 * steward_pii facet */
	int observed;
};
#define CATALOG_OBSERVED 1
#define CATALOG_OBSERVED_TAGGED 2
/* A from: edge: field dst_field of dataset dataset_id comes from src_ds.src_field (src_ds
 * and src_field are NULL only when SQLite ran out of memory). */
struct catalog_graph_edge {
	int64_t dataset_id;
	const char *dst_field, *src_ds, *src_field;
	int flow; /* CATALOG_FLOW_*: what the edge carries of the source's class */
};
/* A descriptor's from: and OpenLineage DIRECT edges carry the class; a masking edge
 * (OpenLineage masking: true) carries it as a hash does, pseudonymous at most; an INDIRECT
 * edge (a filter, join, group by, ...) carries none. */
#define CATALOG_FLOW_CARRIES 0
#define CATALOG_FLOW_MASKING 1
#define CATALOG_FLOW_INDIRECT 2
/* The callbacks of catalog_graph_scan(); each returns 0 to go on, or -1 with err to stop. */
struct catalog_graph_visitor {
	int (*dataset)(const struct catalog_graph_dataset *d, void *u, struct st_error *err);
	int (*fields_total)(int64_t n, void *u, struct st_error *err); /* before the fields */
	int (*field)(const struct catalog_graph_field *f, void *u, struct st_error *err);
	int (*edge)(const struct catalog_graph_edge *e, void *u, struct st_error *err);
};
/* Hands every latest-version dataset to v->dataset (by id), then the count of all fields,
 * every field of every version (by dataset id, in declared order) and every edge. Returns
 * 0, or -1 with err (a callback's error or ST_E_SYSTEM for the database). */
int catalog_graph_scan(struct catalog *c, const struct catalog_graph_visitor *v, void *u,
		       struct st_error *err);

struct catalog_graph_reader;
/* Prepares the look-ups of a walk over c (which must outlive it). Returns 0 with *out
 * (free with catalog_graph_reader_free()), or -1 with err. */
int catalog_graph_reader_new(struct catalog *c, struct catalog_graph_reader **out,
			     struct st_error *err);
/* Finalizes the look-ups and frees r. NULL is fine. */
void catalog_graph_reader_free(struct catalog_graph_reader *r);
/* Hands dataset name at version (0: the latest) to fn. Returns 0, or -1 with err: fn's, or
 * ST_E_NOTFOUND with a did-you-mean hint when there is no such dataset or version. */
int catalog_graph_start(struct catalog_graph_reader *r, const char *name, int64_t version,
			int (*fn)(const struct catalog_graph_dataset *d, void *u,
				  struct st_error *err),
			void *u, struct st_error *err);
/* Hands the latest version of dataset name to fn. Returns 1 when there is one, 0 when no
 * document declares it, or -1 with err. */
int catalog_graph_latest(struct catalog_graph_reader *r, const char *name,
			 int (*fn)(const struct catalog_graph_dataset *d, void *u,
				   struct st_error *err),
			 void *u, struct st_error *err);
/* Hands each field of dataset dataset_id to fn, in declared order. Returns 0, or -1. */
int catalog_graph_fields(struct catalog_graph_reader *r, int64_t dataset_id,
			 int (*fn)(const struct catalog_graph_field *f, void *u,
				   struct st_error *err),
			 void *u, struct st_error *err);
/* Hands field path of dataset dataset_id to fn. Returns 1 when it exists, 0 when not, or
 * -1 with err. */
int catalog_graph_field(struct catalog_graph_reader *r, int64_t dataset_id, const char *path,
			int (*fn)(const struct catalog_graph_field *f, void *u,
				  struct st_error *err),
			void *u, struct st_error *err);
/* Where field path of dataset dataset_id is declared: the descriptor file's display name
 * (a new string in *file, freed with st_free()), line and column. Returns 1 when found, 0
 * when not (nothing filled), or -1 with err. */
int catalog_graph_field_where(struct catalog_graph_reader *r, int64_t dataset_id,
			      const char *path, char **file, unsigned *line, unsigned *col,
			      struct st_error *err);
/* Hands each from: edge into field dst_field of dataset dataset_id to fn, in declared
 * order. dst_field is copied when bound, so fn may invalidate it; the edge's own strings
 * are SQLite's. Returns 0, or -1 with err. */
int catalog_graph_sources(struct catalog_graph_reader *r, int64_t dataset_id,
			  const char *dst_field,
			  int (*fn)(const struct catalog_graph_edge *e, void *u,
				    struct st_error *err),
			  void *u, struct st_error *err);

/* ---- OpenLineage events in (openlineage.c) ------------------------------------------- */

struct catalog_ol_stats {
	size_t read, applied, rejected, ignored; /* read = applied + rejected + ignored */
	size_t duplicates;   /* ignored: the same event was imported before */
	size_t superseded;   /* ignored: of an earlier stage of its run, or older at the same */
	size_t static_events; /* applied: DatasetEvents and JobEvents (static metadata, no run) */
	size_t datasets_new; /* OpenLineage datasets seen for the first time */
	size_t fields, column_edges;
};

/* An event that is not imported, and why. Valid only during the callback. */
struct catalog_ol_reject {
	const char *source;   /* the file, as named */
	size_t line;          /* where the event starts (NDJSON, one event per file); 0: none */
	long index;           /* its index in a JSON array; -1: none */
	const char *reason;
	const struct json_t *event; /* the event, when it parsed */
	const char *text;     /* else its text, text_len bytes */
	size_t text_len;
};
typedef int (*catalog_ol_reject_fn)(const struct catalog_ol_reject *r, void *u,
				    struct st_error *err);

struct catalog_ol_import;
/* Prepares an import into c (which must outlive it): the embedded OpenLineage schemas
 * compiled and the statements prepared. Returns 0 with *out (free with
 * catalog_ol_import_free()), or -1 with err. */
int catalog_ol_import_new(struct catalog *c, struct catalog_ol_import **out,
			  struct st_error *err);
/* Frees an import. NULL is fine. */
void catalog_ol_import_free(struct catalog_ol_import *im);
/* The most one event, or a JSON array of events, may take. */
#define CATALOG_OL_INPUT_MAX ((size_t)1 << 31)
/* Imports the RunEvents read from fd (named source in messages and rejects): a JSON array,
 * NDJSON or one event, in one transaction; NDJSON is read in chunks, so memory stays bounded
 * by the largest event. Each event is validated against the spec's schema and its facets'
 * schemas; an invalid one goes to reject(r, u, err) (NULL: dropped), counted in stats (which
 * it adds to; zero it first). An event imported before, or superseded by a later state of
 * its run, is ignored. The observed datasets are rebuilt before the commit. Returns 0, or -1
 * with err (nothing of this source is kept; stats may count part of it). */
int catalog_ol_import_fd(struct catalog_ol_import *im, const char *source, int fd,
			 catalog_ol_reject_fn reject, void *u, struct catalog_ol_stats *stats,
			 struct st_error *err);
/* The same import from the len bytes at data (a request body, say), read as they are:
 * a JSON array, NDJSON or one event, with the same validation, rejects and transaction.
 * Returns 0, or -1 with err. */
int catalog_ol_import_mem(struct catalog_ol_import *im, const char *source, const char *data,
			  size_t len, catalog_ol_reject_fn reject, void *u,
			  struct catalog_ol_stats *stats, struct st_error *err);
struct json_t;
/* The counts of an import as `lineage import --json` prints them and `steward serve`
 * answers them. NULL on out of memory. */
struct json_t *catalog_ol_stats_json(const struct catalog_ol_stats *s);
/* Removes the observed rows (datasets, fields, edges and column edges made from events),
 * inside the caller's transaction; catalog_load() does so before it loads. Returns 0, or -1. */
int catalog_ol_unsync(struct catalog *c, struct st_error *err);
/* Rebuilds the observed rows from what the events said, inside the caller's transaction: a
 * dataset a descriptor claims (openlineage: key, a symlink, or the same name) is that
 * descriptor's; the others are observed datasets. Returns 0, or -1 with err. */
int catalog_ol_sync(struct catalog *c, struct st_error *err);

/* What OpenLineage says of a catalog dataset. */
struct catalog_ol_info {
	int found;       /* some event named it */
	int observed;    /* no descriptor declares it */
	char *namespace, *name;            /* its OpenLineage identity */
	char *job, *run_id, *run_state, *run_time; /* the last run that wrote it; NULL: none */
};
/* Fills info for dataset (a steward name). Returns 0 (info->found 0 when no event named
 * it), or -1 with err. Release info with catalog_ol_info_release() in every case. */
int catalog_ol_info_get(struct catalog *c, const char *dataset, struct catalog_ol_info *info,
			struct st_error *err);
void catalog_ol_info_release(struct catalog_ol_info *info);

/* ---- Lineage -------------------------------------------------------------------------- */

enum catalog_direction { CATALOG_UP = 1, CATALOG_DOWN = 2, CATALOG_BOTH = 3 };

#define CATALOG_LINEAGE_DEFAULT_DEPTH 20
#define CATALOG_LINEAGE_MAX_NODES 1000000

struct catalog_lnode {
	char *name;  /* dataset, or dataset.field for column lineage */
	char *kind;  /* NULL when external */
	int depth;   /* fewest hops from the root */
	int sides;   /* CATALOG_UP and/or CATALOG_DOWN: the walks that reached it */
};

struct catalog_ledge {
	size_t from, to; /* node indexes; data flows from -> to */
};

struct catalog_lineage {
	struct catalog_lnode *nodes; /* nodes[0] is the root */
	size_t nnodes, nodes_cap;
	struct catalog_ledge *edges;
	size_t nedges, edges_cap;
	int column;    /* column-level graph */
	int truncated; /* the depth cap cut at least one path */
	int depth;     /* the cap that applied */
};

/* Walks lineage from target: a dataset name, or dataset.field for column-level lineage,
 * up, down or both, at most depth hops (0 = default 20). Cycles terminate. Fills g (release
 * with catalog_lineage_release()). Returns 0, or -1 with err (ST_E_NOTFOUND when target is
 * neither declared nor referenced anywhere). */
int catalog_lineage_get(struct catalog *c, const char *target, int dir, int depth,
			struct catalog_lineage *g, struct st_error *err);
/* Frees the graph. */
void catalog_lineage_release(struct catalog_lineage *g);
/* The graph walked in direction dir as `lineage --json` and the API give it: {root, column,
 * direction, depth, truncated, nodes: [{name, kind, external, depth}], edges: [{from, to}]}.
 * NULL on out of memory. */
struct json_t *catalog_lineage_json(const struct catalog_lineage *g, int dir);

struct st_buf;
/* What a rendering of the graph adds to the plain DOT of `lineage --dot` (NULL: nothing). */
struct catalog_dot_style {
	const char *url_prefix; /* each node links to url_prefix + its dataset's name
				 * (percent-encoded; a column node adds #f-FIELD); NULL: no links */
	const unsigned char *pii_edges;    /* per edge: 1 marks it as carrying personal data */
	const unsigned char *marked_nodes; /* per node: 1 highlights it (a chosen path) */
};
/* Appends the graph g as Graphviz DOT to out: what `lineage --dot` prints, and what the
 * server lays out as SVG with style. Names are escaped for DOT strings (quotes, backslashes,
 * control characters). Returns 0, or -1 when out of memory or over out's bound. */
int catalog_lineage_dot(const struct catalog_lineage *g, const struct catalog_dot_style *style,
			struct st_buf *out);

/* ---- OpenLineage export (openlineage_export.c) ----------------------------------------- */

/* The namespace of steward's datasets and jobs in OpenLineage, unless a descriptor's
 * `openlineage:` key names another for its dataset. */
#define CATALOG_OL_NAMESPACE "steward"
/* The job of a dataset whose descriptor names no lineage.job: this prefix and its name. */
#define CATALOG_OL_SYNTHETIC_JOB "steward:"
/* _producer of every event and facet: this and steward's version. */
#define CATALOG_OL_PRODUCER_BASE "https://github.com/steward-dev/steward/tree/"
/* _schemaURL of the steward_pii dataset facet (schemas/openlineage-steward-pii-facet.json). */
#define CATALOG_OL_PII_FACET_URL \
	"https://steward.dev/spec/facets/1-0-0/StewardPiiDatasetFacet.json#/$defs/StewardPiiDatasetFacet"

struct catalog_ol_opts {
	const char *const *names; /* datasets or jobs to export; none: the whole catalog */
	size_t nnames;
	const char *version;      /* steward's version, for _producer */
};

struct catalog_ol_export_stats {
	size_t events;   /* lines written */
	size_t datasets; /* output datasets in them */
};

/* Receives one event: len bytes of compact JSON without a newline. Returns 0, or -1 with
 * err to stop the export. */
typedef int (*catalog_ol_write_fn)(const char *line, size_t len, void *u, struct st_error *err);

/* Exports the latest version of every dataset of c as OpenLineage RunEvents (spec 2-0-2),
 * handing each to fn in a stable order: one COMPLETE event per job (lineage.job, else the
 * synthetic "steward:<dataset>") and input set, with the facets docs/interop.md lists,
 * eventTime the time the outputs' files were loaded, and a run id derived from the event's
 * content, so that the same catalog gives the same bytes. With o->names, only the events
 * of those jobs, and of those datasets (the event that writes one, else those that read
 * it). Returns 0, or -1 with err: ST_E_NOTFOUND for a name that is no dataset or job (with
 * a hint), fn's error, or ST_E_SYSTEM. stats holds what was written either way. */
int catalog_ol_export(struct catalog *c, const struct catalog_ol_opts *o, catalog_ol_write_fn fn,
		      void *u, struct catalog_ol_export_stats *stats, struct st_error *err);
/* The _schemaURL steward writes for facet key ("schema", "steward_pii", ...; the job's
 * documentation facet is "job_documentation"), or NULL. Static. */
const char *catalog_ol_facet_url(const char *key);

#endif
