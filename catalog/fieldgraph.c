/* Datasets, fields and field-level from: edges as rows for graph builders outside the
 * catalog (pii/'s propagation): a scan of the whole catalog, and prepared look-ups for a
 * walk upstream from one dataset. The rows are handed to callbacks; nothing is kept. */
#include "catalog_int.h"
#include "alloc.h"
#include "sql.h"

#include <string.h>

#define READ_ERROR "cannot read the catalog"

/* Fills d from columns id, name, kind, owner, system of st. */
static void row_dataset(sqlite3_stmt *st, struct catalog_graph_dataset *d)
{
	d->id = sqlite3_column_int64(st, 0);
	d->name = (const char *)sqlite3_column_text(st, 1);
	d->name_len = (size_t)sqlite3_column_bytes(st, 1);
	d->kind = (const char *)sqlite3_column_text(st, 2);
	d->owner = (const char *)sqlite3_column_text(st, 3);
	d->system = (const char *)sqlite3_column_text(st, 4);
}

/* The columns row_field() reads. */
#define FIELD_COLS "path, pii, category, transform, pii_reason IS NOT NULL, observed, type"
/* How a column edge carries a class (CATALOG_FLOW_*): an OpenLineage INDIRECT edge carries
 * none, a masking one is a hash; a descriptor's from: (ttype NULL) carries it. */
#define EDGE_FLOW "CASE WHEN ttype = 'INDIRECT' THEN 2 WHEN masking THEN 1 ELSE 0 END"

/* Fills f from columns FIELD_COLS of st from col on. */
static void row_field(sqlite3_stmt *st, int col, struct catalog_graph_field *f)
{
	f->path = (const char *)sqlite3_column_text(st, col);
	f->pii = (const char *)sqlite3_column_text(st, col + 1);
	f->category = (const char *)sqlite3_column_text(st, col + 2);
	f->transform = (const char *)sqlite3_column_text(st, col + 3);
	f->has_reason = sqlite3_column_int(st, col + 4);
	f->observed = sqlite3_column_int(st, col + 5);
	f->type = (const char *)sqlite3_column_text(st, col + 6);
}

/* ---- the whole catalog ---- */

enum { C_DATASETS, C_NFIELDS, C_FIELDS, C_EDGES, C_COUNT };

static const char *const scan_sql[C_COUNT] = {
	[C_DATASETS] = "SELECT id, name, kind, owner, system FROM datasets d WHERE NOT EXISTS"
		       " (SELECT 1 FROM datasets n WHERE n.name = d.name AND n.version > d.version)"
		       " ORDER BY id",
	[C_NFIELDS] = "SELECT count(*) FROM fields",
	[C_FIELDS] = "SELECT dataset_id, " FIELD_COLS " FROM fields ORDER BY dataset_id, ord",
	[C_EDGES] = "SELECT dataset_id, dst_field, src_ds, src_field, " EDGE_FLOW
		    " FROM field_edges",
};

int catalog_graph_scan(struct catalog *c, const struct catalog_graph_visitor *v, void *u,
		       struct st_error *err)
{
	sqlite3_stmt *st[C_COUNT] = {NULL};
	int rc, ret = -1;

	for (int i = 0; i < C_COUNT; i++)
		if (st_sql_cached(c->db, &st[i], scan_sql[i], err))
			goto out;
	while ((rc = sqlite3_step(st[C_DATASETS])) == SQLITE_ROW) {
		struct catalog_graph_dataset d = {.latest = 1};

		row_dataset(st[C_DATASETS], &d);
		if (v->dataset(&d, u, err))
			goto out;
	}
	if (rc != SQLITE_DONE || sqlite3_step(st[C_NFIELDS]) != SQLITE_ROW)
		goto sqlerr;
	if (v->fields_total(sqlite3_column_int64(st[C_NFIELDS], 0), u, err))
		goto out;
	while ((rc = sqlite3_step(st[C_FIELDS])) == SQLITE_ROW) {
		struct catalog_graph_field f;

		f.dataset_id = sqlite3_column_int64(st[C_FIELDS], 0);
		row_field(st[C_FIELDS], 1, &f);
		if (v->field(&f, u, err))
			goto out;
	}
	if (rc != SQLITE_DONE)
		goto sqlerr;
	while ((rc = sqlite3_step(st[C_EDGES])) == SQLITE_ROW) {
		sqlite3_stmt *e = st[C_EDGES];
		struct catalog_graph_edge edge = {
			.dataset_id = sqlite3_column_int64(e, 0),
			.dst_field = (const char *)sqlite3_column_text(e, 1),
			.src_ds = (const char *)sqlite3_column_text(e, 2),
			.src_field = (const char *)sqlite3_column_text(e, 3),
			.flow = sqlite3_column_int(e, 4),
		};

		if (v->edge(&edge, u, err))
			goto out;
	}
	if (rc != SQLITE_DONE)
		goto sqlerr;
	ret = 0;
	goto out;
sqlerr:
	st_sql_error(err, c->db, READ_ERROR);
out:
	st_sql_done_all(st, C_COUNT);
	return ret;
}

/* ---- look-ups for a walk ---- */

enum { W_START, W_FIELDS, W_EDGES, W_LATEST, W_FIELD, W_WHERE, W_COUNT };

static const char *const walk_sql[W_COUNT] = {
	[W_START] = "SELECT id, name, kind, owner, system, version = (SELECT max(version) FROM"
		    " datasets n WHERE n.name = d.name) FROM datasets d WHERE name = ?1"
		    " AND (?2 = 0 OR version = ?2) ORDER BY version DESC LIMIT 1",
	[W_FIELDS] = "SELECT " FIELD_COLS " FROM fields WHERE dataset_id = ?1 ORDER BY ord",
	[W_EDGES] = "SELECT src_ds, src_field, dst_field, " EDGE_FLOW " FROM field_edges"
		    " WHERE dataset_id = ?1 AND dst_field = ?2 ORDER BY rowid",
	[W_LATEST] = "SELECT id, name, kind, owner, system FROM datasets WHERE name = ?1"
		     " ORDER BY version DESC LIMIT 1",
	[W_FIELD] = "SELECT " FIELD_COLS " FROM fields WHERE dataset_id = ?1 AND path = ?2"
		    " ORDER BY ord LIMIT 1",
	[W_WHERE] = "SELECT fl.display, f.line, f.col FROM datasets d"
		    " JOIN files fl ON fl.id = d.file_id"
		    " JOIN fields f ON f.dataset_id = d.id WHERE d.id = ?1 AND f.path = ?2",
};

struct catalog_graph_reader {
	struct catalog *c;
	sqlite3_stmt *st[W_COUNT];
};

int catalog_graph_reader_new(struct catalog *c, struct catalog_graph_reader **out,
			     struct st_error *err)
{
	struct catalog_graph_reader *r = st_calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return st_error_oom(err);
	r->c = c;
	for (int i = 0; i < W_COUNT; i++)
		if (st_sql_cached(c->db, &r->st[i], walk_sql[i], err)) {
			catalog_graph_reader_free(r);
			return -1;
		}
	*out = r;
	return 0;
}

void catalog_graph_reader_free(struct catalog_graph_reader *r)
{
	if (!r)
		return;
	st_sql_done_all(r->st, W_COUNT);
	st_free(r);
}

/* Steps st and hands each row to row (every row, or only the first when once); resets st.
 * Returns the number of rows handed over, or -1 with err (a read error, or row failing). */
static int step_rows(struct catalog_graph_reader *r, sqlite3_stmt *st, int once,
		     int (*row)(sqlite3_stmt *st, void *ctx, struct st_error *err), void *ctx,
		     struct st_error *err)
{
	int rc, n = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (row(st, ctx, err)) {
			n = -1;
			goto out;
		}
		n++;
		if (once)
			goto out;
	}
	if (rc != SQLITE_DONE)
		n = st_sql_error(err, r->c->db, READ_ERROR);
out:
	sqlite3_reset(st);
	return n;
}

/* The callers' callbacks, with what step_rows' row functions need to call them. */
struct dataset_call {
	int (*fn)(const struct catalog_graph_dataset *d, void *u, struct st_error *err);
	void *u;
};
struct field_call {
	int (*fn)(const struct catalog_graph_field *f, void *u, struct st_error *err);
	void *u;
	int64_t dataset_id;
};
struct edge_call {
	int (*fn)(const struct catalog_graph_edge *e, void *u, struct st_error *err);
	void *u;
	int64_t dataset_id;
};
struct where_call {
	char **file;
	unsigned *line, *col;
};

static int dataset_row(sqlite3_stmt *st, void *ctx, struct st_error *err)
{
	const struct dataset_call *c = ctx;
	struct catalog_graph_dataset d = {0};

	row_dataset(st, &d);
	d.latest = sqlite3_column_count(st) > 5 ? sqlite3_column_int(st, 5) : 1;
	return c->fn(&d, c->u, err);
}

static int field_row(sqlite3_stmt *st, void *ctx, struct st_error *err)
{
	const struct field_call *c = ctx;
	struct catalog_graph_field f = {.dataset_id = c->dataset_id};

	row_field(st, 0, &f);
	return c->fn(&f, c->u, err);
}

static int edge_row(sqlite3_stmt *st, void *ctx, struct st_error *err)
{
	const struct edge_call *c = ctx;
	struct catalog_graph_edge e = {
		.dataset_id = c->dataset_id,
		.dst_field = (const char *)sqlite3_column_text(st, 2),
		.src_ds = (const char *)sqlite3_column_text(st, 0),
		.src_field = (const char *)sqlite3_column_text(st, 1),
		.flow = sqlite3_column_int(st, 3),
	};

	return c->fn(&e, c->u, err);
}

static int where_row(sqlite3_stmt *st, void *ctx, struct st_error *err)
{
	const struct where_call *c = ctx;
	int oom = 0;

	*c->file = st_sql_col_strdup(st, 0, &oom);
	*c->line = (unsigned)sqlite3_column_int(st, 1);
	*c->col = (unsigned)sqlite3_column_int(st, 2);
	return oom ? st_error_oom(err) : 0;
}

/* Steps st for one dataset row and hands it to fn. Returns 1 when there was a row (and fn
 * returned 0), 0 when there was none, or -1 with err. */
static int one_dataset(struct catalog_graph_reader *r, sqlite3_stmt *st,
		       int (*fn)(const struct catalog_graph_dataset *d, void *u,
				 struct st_error *err),
		       void *u, struct st_error *err)
{
	struct dataset_call c = {fn, u};

	return step_rows(r, st, 1, dataset_row, &c, err);
}

int catalog_graph_start(struct catalog_graph_reader *r, const char *name, int64_t version,
			int (*fn)(const struct catalog_graph_dataset *d, void *u,
				  struct st_error *err),
			void *u, struct st_error *err)
{
	sqlite3_stmt *st = r->st[W_START];
	int rc;

	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, version);
	rc = one_dataset(r, st, fn, u, err);
	if (rc == 0)
		return catalog_missing(r->c, name, version, err);
	return rc < 0 ? -1 : 0;
}

int catalog_graph_latest(struct catalog_graph_reader *r, const char *name,
			 int (*fn)(const struct catalog_graph_dataset *d, void *u,
				   struct st_error *err),
			 void *u, struct st_error *err)
{
	sqlite3_stmt *st = r->st[W_LATEST];

	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	return one_dataset(r, st, fn, u, err);
}

int catalog_graph_fields(struct catalog_graph_reader *r, int64_t dataset_id,
			 int (*fn)(const struct catalog_graph_field *f, void *u,
				   struct st_error *err),
			 void *u, struct st_error *err)
{
	struct field_call c = {fn, u, dataset_id};

	sqlite3_bind_int64(r->st[W_FIELDS], 1, dataset_id);
	return step_rows(r, r->st[W_FIELDS], 0, field_row, &c, err) < 0 ? -1 : 0;
}

int catalog_graph_field(struct catalog_graph_reader *r, int64_t dataset_id, const char *path,
			int (*fn)(const struct catalog_graph_field *f, void *u,
				  struct st_error *err),
			void *u, struct st_error *err)
{
	sqlite3_stmt *st = r->st[W_FIELD];
	struct field_call c = {fn, u, dataset_id};

	sqlite3_bind_int64(st, 1, dataset_id);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	return step_rows(r, st, 1, field_row, &c, err);
}

int catalog_graph_sources(struct catalog_graph_reader *r, int64_t dataset_id,
			  const char *dst_field,
			  int (*fn)(const struct catalog_graph_edge *e, void *u,
				    struct st_error *err),
			  void *u, struct st_error *err)
{
	sqlite3_stmt *st = r->st[W_EDGES];
	struct edge_call c = {fn, u, dataset_id};

	sqlite3_bind_int64(st, 1, dataset_id);
	sqlite3_bind_text(st, 2, dst_field, -1, SQLITE_TRANSIENT);
	return step_rows(r, st, 0, edge_row, &c, err) < 0 ? -1 : 0;
}

int catalog_graph_field_where(struct catalog_graph_reader *r, int64_t dataset_id,
			      const char *path, char **file, unsigned *line, unsigned *col,
			      struct st_error *err)
{
	sqlite3_stmt *st = r->st[W_WHERE];
	struct where_call c = {file, line, col};

	sqlite3_bind_int64(st, 1, dataset_id);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	return step_rows(r, st, 1, where_row, &c, err);
}
