/* steward's catalog library: the workspace, descriptor loading into SQLite, search, dataset
 * cards and lineage. It never prints or exits; every function reports through st_error. */
#ifndef CATALOG_H
#define CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct sqlite3;

/* ---- Workspace ------------------------------------------------------------------------ */

/* A workspace is a directory with steward.yaml and a .steward/ state directory. */
struct catalog_workspace {
	char *home;      /* absolute path of the workspace directory */
	char *state_dir; /* home/.steward */
	char *config;    /* home/steward.yaml */
};

/* Creates (or re-initialises) a workspace in dir, creating dir if needed, with a
 * commented steward.yaml that makes the login name admin the workspace's admin, and
 * .steward/catalog.db (mode 0700/0600). Sets *existed to 1 when dir already was a
 * workspace (its files are kept and its database migrated). Returns 0, or -1 with err. */
int catalog_workspace_create(const char *dir, const char *admin, int *existed,
			     struct st_error *err);
/* Finds the workspace: explicit_home if not NULL, else $STEWARD_HOME, else the nearest
 * directory at or above the current one that holds .steward/. Fills ws (release with
 * catalog_workspace_release()). Returns 0, or -1 with err (ST_E_NOTFOUND if none). */
int catalog_workspace_find(struct catalog_workspace *ws, const char *explicit_home,
			   struct st_error *err);
/* Builds the path of a file inside ws's state directory into a new string the caller
 * frees with st_free(). Returns NULL on out of memory. */
char *catalog_workspace_path(const struct catalog_workspace *ws, const char *name);
/* Frees the strings in ws. */
void catalog_workspace_release(struct catalog_workspace *ws);
struct stat;
/* Opens a secret file (a key) for reading after ssh's checks: never through a symbolic
 * link, a regular file, owned by this user, with no access for group or others. what
 * names it in messages ("key file"). Returns the descriptor (the caller closes it) and
 * fills *sb, or -1 with err saying why it is refused (ST_E_DENIED; ST_E_NOTFOUND when it
 * does not exist). */
int catalog_open_private(const char *path, const char *what, struct stat *sb,
			 struct st_error *err);
/* Writes len bytes of data to path whole or not at all: a temporary file beside it (mode
 * 0600), fsync, then rename over path, which ends up mode 0600. Returns 0, or -1 with err
 * (no temporary file is left behind). */
int catalog_write_private(const char *path, const void *data, size_t len, struct st_error *err);

/* ---- Configuration (steward.yaml) ----------------------------------------------------- */

struct catalog_ydoc;

struct catalog_config {
	struct catalog_ydoc *doc; /* NULL when there is no steward.yaml */
};

/* Reads ws's steward.yaml. A missing file is not an error (every setting has a default);
 * an unknown top-level setting or invalid YAML is (ST_E_INVALID, located). Release with
 * catalog_config_release() in every case. Returns 0, or -1 with err. */
int catalog_config_load(struct catalog_config *cfg, const struct catalog_workspace *ws,
			struct st_error *err);
/* The scalar at a dotted path such as "pii.default_country", or NULL. Valid until the
 * config is released. */
const char *catalog_config_str(const struct catalog_config *cfg, const char *path);
/* Frees the parsed configuration. */
void catalog_config_release(struct catalog_config *cfg);

/* ---- Catalog database ----------------------------------------------------------------- */

#define CATALOG_SCHEMA_VERSION 1

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
/* The underlying SQLite handle, for other steward modules that keep tables beside it. */
struct sqlite3 *catalog_db(struct catalog *c);

/* ---- SQLite helpers shared by steward's modules -------------------------------------- */

struct sqlite3_stmt;

/* Records SQLite's current error on db as ST_E_SYSTEM with what as context. Returns -1. */
int catalog_sql_error(struct st_error *err, struct sqlite3 *db, const char *what);
/* Runs SQL with no result rows. Returns 0, or -1 with err. */
int catalog_exec(struct sqlite3 *db, const char *sql, struct st_error *err);
/* Prepares sql into *st (finalize it with sqlite3_finalize()). Returns 0, or -1 with err
 * and *st NULL. */
int catalog_prepare(struct sqlite3 *db, struct sqlite3_stmt **st, const char *sql,
		    struct st_error *err);
/* Copies column i of the current row as a new string (NULL for SQL NULL or out of memory;
 * *oom is set on the latter). */
char *catalog_col_strdup(struct sqlite3_stmt *st, int i, int *oom);

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
 * should describe data, not hold it. */
void catalog_set_scrubber(struct catalog *c, catalog_scrub_fn fn, void *ctx);

/* Checks key against the embedded data category taxonomy. Returns 0 if it is a category,
 * or -1 with err: ST_E_INVALID "unknown category 'x'" with a did-you-mean hint. */
int catalog_category_check(const char *key, struct st_error *err);

/* Returns the embedded descriptor JSON Schema (NUL-terminated, static) and its length. */
const char *catalog_descriptor_schema(size_t *len);

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

/* ---- Dataset cards -------------------------------------------------------------------- */

struct catalog_field {
	char *path, *type, *item_type, *pii, *category, *transform, *normalize, *pii_reason,
		*description;
	int depth, required, nullable, scan;
	char **from; /* dataset.field paths this field is derived from */
	size_t nfrom;
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
};

/* Fills card with dataset name at version (0 = latest). Returns 0, or -1 with err
 * (ST_E_NOTFOUND, with a suggestion when a similar name exists). Release the card with
 * catalog_card_release() in every case. */
int catalog_card_get(struct catalog *c, const char *name, int64_t version,
		     struct catalog_card *card, struct st_error *err);
/* Frees everything inside card and zeroes it. */
void catalog_card_release(struct catalog_card *card);

/* Lists the distinct dataset names in namespace ns ("events" for events.click, ...), in
 * name order, into a new array of new strings (free each and the array with st_free()).
 * Returns 0, or -1 with err. */
int catalog_names_in(struct catalog *c, const char *ns, char ***names, size_t *n,
		     struct st_error *err);

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

#endif
