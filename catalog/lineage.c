/* `steward lineage`: breadth-first walks over dataset edges (lineage.upstream) or column
 * edges (from:), up, down or both, with a depth cap. Each node is expanded once, so cycles
 * terminate. */
#include "catalog_int.h"
#include "strmap.h"
#include "alloc.h"
#include "buf.h"
#include "escape.h"
#include "sql.h"

#include <jansson.h>

#include <string.h>

void catalog_lineage_release(struct catalog_lineage *g)
{
	for (size_t i = 0; i < g->nnodes; i++) {
		st_free(g->nodes[i].name);
		st_free(g->nodes[i].kind);
	}
	st_free(g->nodes);
	st_free(g->edges);
	memset(g, 0, sizeof(*g));
}

struct walk {
	struct catalog *c;
	struct catalog_lineage *g;
	struct st_strmap nodes; /* name (the node's own, borrowed) -> index in g->nodes */
	struct st_strmap edges; /* "from>to" */
	struct st_error *err;
};

/* Finds or adds a node reached at depth; the caller marks the side that expands it. */
static int add_node(struct walk *w, const char *name, const char *kind, int depth, size_t *idx)
{
	struct catalog_lnode *n;
	struct st_strent *at;

	if ((at = st_strmap_gets(&w->nodes, name))) {
		*idx = (size_t)at->val;
		n = &w->g->nodes[*idx];
		n->depth = depth < n->depth ? depth : n->depth;
		return 0;
	}
	if (w->g->nnodes >= CATALOG_LINEAGE_MAX_NODES)
		return st_error_set(w->err, ST_E_SYSTEM, "lineage graph exceeds %d nodes",
				    CATALOG_LINEAGE_MAX_NODES);
	if (st_grow(&w->g->nodes, &w->g->nodes_cap, w->g->nnodes + 1, sizeof(*w->g->nodes)))
		return st_error_oom(w->err);
	n = &w->g->nodes[w->g->nnodes];
	memset(n, 0, sizeof(*n));
	n->name = st_strdup(name);
	n->kind = kind ? st_strdup(kind) : NULL;
	n->depth = depth;
	if (!n->name || (kind && !n->kind) ||
	    st_strmap_set(&w->nodes, n->name, (int64_t)w->g->nnodes)) {
		st_free(n->name);
		st_free(n->kind);
		return st_error_oom(w->err);
	}
	*idx = w->g->nnodes++;
	return 0;
}

static int add_edge(struct walk *w, size_t from, size_t to)
{
	char key[64];
	int r;

	snprintf(key, sizeof(key), "%zu>%zu", from, to);
	if ((r = st_strmap_put(&w->edges, key, strlen(key), NULL)) <= 0)
		return r ? st_error_oom(w->err) : 0;
	if (st_grow(&w->g->edges, &w->g->edges_cap, w->g->nedges + 1, sizeof(*w->g->edges)))
		return st_error_oom(w->err);
	w->g->edges[w->g->nedges].from = from;
	w->g->edges[w->g->nedges].to = to;
	w->g->nedges++;
	return 0;
}

/* Neighbour queries: ?1 is the dataset, ?2 the field (column level only). Each row gives
 * the neighbour's name and its kind (NULL when external). */
static const char *const neighbours_sql[2][2] = {
	{
		/* dataset level: up, down */
		"SELECT DISTINCT e.src, (SELECT kind FROM datasets k WHERE k.name = e.src LIMIT 1)"
		" FROM edges e JOIN datasets d ON d.id = e.dataset_id WHERE d.name = ?1 ORDER BY 1",
		"SELECT DISTINCT e.dst, (SELECT kind FROM datasets k WHERE k.name = e.dst LIMIT 1)"
		" FROM edges e WHERE e.src = ?1 ORDER BY 1",
	},
	{
		/* column level: up, down */
		"SELECT DISTINCT e.src_ds || '.' || e.src_field,"
		" (SELECT k.kind FROM datasets k JOIN fields f ON f.dataset_id = k.id"
		"  WHERE k.name = e.src_ds AND f.path = e.src_field LIMIT 1)"
		" FROM field_edges e JOIN datasets d ON d.id = e.dataset_id"
		" WHERE d.name = ?1 AND e.dst_field = ?2 ORDER BY 1",
		"SELECT DISTINCT e.dst_ds || '.' || e.dst_field,"
		" (SELECT k.kind FROM datasets k JOIN fields f ON f.dataset_id = k.id"
		"  WHERE k.name = e.dst_ds AND f.path = e.dst_field LIMIT 1)"
		" FROM field_edges e WHERE e.src_ds = ?1 AND e.src_field = ?2 ORDER BY 1",
	},
};

static void bind_target(sqlite3_stmt *st, const char *name, int column)
{
	size_t fo, dl = catalog_split_ref(name, &fo);

	if (column) {
		sqlite3_bind_text(st, 1, name, (int)dl, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, name + fo, -1, SQLITE_TRANSIENT);
	} else {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	}
}

struct qitem {
	size_t node;
	int depth;
};

/* Breadth-first walk on one side. A node is expanded once per side, so a node that the
 * upstream walk reached (in a cycle, say) is still expanded by the downstream walk. */
static int walk_dir(struct walk *w, int dir, int cap)
{
	struct qitem *queue = NULL;
	size_t qn = 0, qcap = 0;
	sqlite3_stmt *st;
	int ret = -1, rc;
	int up = dir == CATALOG_UP;

	if (st_sql_cached(w->c->db, &st, neighbours_sql[w->g->column][up ? 0 : 1], w->err))
		return -1;
	if (st_grow(&queue, &qcap, 1, sizeof(*queue))) {
		st_error_oom(w->err);
		goto out;
	}
	w->g->nodes[0].sides |= dir;
	queue[qn++] = (struct qitem){0, 0};
	for (size_t head = 0; head < qn; head++) {
		struct qitem it = queue[head];

		bind_target(st, w->g->nodes[it.node].name, w->g->column);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *name = (const char *)sqlite3_column_text(st, 0);
			const char *kind = (const char *)sqlite3_column_text(st, 1);
			size_t idx;

			if (it.depth >= cap) {
				/* Past the cap, only edges between nodes already in the graph are
				 * kept; anything else is cut, and said so. */
				const struct st_strent *at = st_strmap_gets(&w->nodes, name);

				if (!at) {
					w->g->truncated = 1;
					continue;
				}
				idx = (size_t)at->val;
				if (!(w->g->nodes[idx].sides & dir))
					w->g->truncated = 1;
				if (add_edge(w, up ? idx : it.node, up ? it.node : idx))
					goto out;
				continue;
			}
			if (add_node(w, name, kind, it.depth + 1, &idx) ||
			    add_edge(w, up ? idx : it.node, up ? it.node : idx))
				goto out;
			if (w->g->nodes[idx].sides & dir)
				continue;
			if (st_grow(&queue, &qcap, qn + 1, sizeof(*queue))) {
				st_error_oom(w->err);
				goto out;
			}
			w->g->nodes[idx].sides |= dir;
			queue[qn++] = (struct qitem){idx, it.depth + 1};
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			st_sql_error(w->err, w->c->db, "cannot read lineage");
			goto out;
		}
	}
	ret = 0;
out:
	st_free(queue);
	st_sql_done(st);
	return ret;
}

/* Whether target is known at all: declared, or named by some edge. Stores its kind. */
static int lookup_root(struct catalog *c, const char *target, int column, char **kind,
		       int *known, struct st_error *err)
{
	static const char *const sql[2] = {
		"SELECT (SELECT kind FROM datasets WHERE name = ?1 LIMIT 1),"
		" EXISTS (SELECT 1 FROM datasets WHERE name = ?1)"
		" OR EXISTS (SELECT 1 FROM edges WHERE src = ?1)",
		"SELECT (SELECT k.kind FROM datasets k JOIN fields f ON f.dataset_id = k.id"
		"  WHERE k.name = ?1 AND f.path = ?2 LIMIT 1),"
		" EXISTS (SELECT 1 FROM datasets k JOIN fields f ON f.dataset_id = k.id"
		"  WHERE k.name = ?1 AND f.path = ?2)"
		" OR EXISTS (SELECT 1 FROM field_edges WHERE src_ds = ?1 AND src_field = ?2)"
		" OR EXISTS (SELECT 1 FROM field_edges WHERE dst_ds = ?1 AND dst_field = ?2)",
	};
	sqlite3_stmt *st;
	int bad = 0, ret = -1;

	*kind = NULL;
	*known = 0;
	if (st_sql_cached(c->db, &st, sql[column], err))
		return -1;
	bind_target(st, target, column);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*kind = st_sql_col_strdup(st, 0, &bad);
		*known = sqlite3_column_int(st, 1);
		ret = bad ? st_error_oom(err) : 0;
	} else {
		st_sql_error(err, c->db, "cannot read lineage");
	}
	st_sql_done(st);
	return ret;
}

static int lineage_get(struct catalog *c, const char *target, int dir, int depth,
		       struct catalog_lineage *g, struct st_error *err);

int catalog_lineage_get(struct catalog *c, const char *target, int dir, int depth,
			struct catalog_lineage *g, struct st_error *err)
{
	char *real = NULL;
	int r;

	memset(g, 0, sizeof(*g));
	if (catalog_resolve_alias(c, target, &real, err) < 0)
		return -1;
	r = lineage_get(c, real ? real : target, dir, depth, g, err);
	st_free(real);
	return r;
}

static int lineage_get(struct catalog *c, const char *target, int dir, int depth,
		       struct catalog_lineage *g, struct st_error *err)
{
	struct walk w;
	char *kind = NULL;
	size_t fo, root;
	int known, ret = -1;

	memset(g, 0, sizeof(*g));
	memset(&w, 0, sizeof(w));
	st_strmap_init(&w.nodes, ST_STRMAP_BORROW);
	w.c = c;
	w.g = g;
	w.err = err;
	if (!catalog_split_ref(target, &fo))
		return st_error_set(err, ST_E_USAGE,
				    "'%s' is not a dataset name (namespace.name) or dataset.field",
				    target);
	if (depth < 0)
		return st_error_set(err, ST_E_USAGE, "depth must be a positive number");
	g->column = fo != 0;
	g->depth = depth ? depth : CATALOG_LINEAGE_DEFAULT_DEPTH;
	if (lookup_root(c, target, g->column, &kind, &known, err))
		goto out;
	if (!known) {
		if (g->column) {
			char ds[512];
			size_t n = fo - 1 < sizeof(ds) - 1 ? fo - 1 : sizeof(ds) - 1;

			memcpy(ds, target, n);
			ds[n] = '\0';
			st_error_set(err, ST_E_NOTFOUND, "no field '%s' in dataset '%s'", target + fo,
				     ds);
		} else {
			catalog_not_found(c, target, err);
		}
		goto out;
	}
	if (add_node(&w, target, kind, 0, &root))
		goto out;
	if ((dir & CATALOG_UP) && walk_dir(&w, CATALOG_UP, g->depth))
		goto out;
	if ((dir & CATALOG_DOWN) && walk_dir(&w, CATALOG_DOWN, g->depth))
		goto out;
	ret = 0;
out:
	st_free(kind);
	st_strmap_release(&w.nodes);
	st_strmap_release(&w.edges);
	if (ret)
		catalog_lineage_release(g);
	return ret;
}

json_t *catalog_lineage_json(const struct catalog_lineage *g, int dir)
{
	json_t *nodes = json_array(), *edges = json_array();

	for (size_t i = 0; nodes && i < g->nnodes; i++)
		if (json_array_append_new(nodes, json_pack("{s:s, s:s?, s:b, s:i}", "name",
							   g->nodes[i].name, "kind",
							   g->nodes[i].kind, "external",
							   g->nodes[i].kind == NULL, "depth",
							   g->nodes[i].depth)))
			goto oom;
	for (size_t i = 0; edges && i < g->nedges; i++)
		if (json_array_append_new(edges, json_pack("{s:s, s:s}", "from",
							   g->nodes[g->edges[i].from].name, "to",
							   g->nodes[g->edges[i].to].name)))
			goto oom;
	if (!nodes || !edges || !g->nnodes)
		goto oom;
	return json_pack("{s:s, s:b, s:s, s:i, s:b, s:o, s:o}", "root", g->nodes[0].name, "column",
			 g->column, "direction",
			 dir == CATALOG_UP ? "up" : dir == CATALOG_DOWN ? "down" : "both", "depth",
			 g->depth, "truncated", g->truncated, "nodes", nodes, "edges", edges);
oom:
	json_decref(nodes);
	json_decref(edges);
	return NULL;
}

/* Appends s as a DOT quoted string's content: '"' and '\' escaped, control characters as
 * st_escape() writes them. Returns 0, or -1 when out of memory or over the bound. */
static int dot_text(struct st_buf *b, const char *s)
{
	char chunk[256];

	while (*s) {
		size_t run = strcspn(s, "\"\\"), used;

		while (run) {
			size_t n = st_escape(s, run, &used, chunk, sizeof(chunk), 0);

			if (st_buf_add(b, chunk, n))
				return -1;
			s += used;
			run -= used;
		}
		if (*s && (st_buf_add(b, "\\", 1) || st_buf_add(b, s++, 1)))
			return -1;
	}
	return 0;
}

/* Appends s to b with every byte that is not unreserved in a URL written as %XX. */
static int url_text(struct st_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == '_' || c == '~') {
			if (st_buf_add(b, s, 1))
				return -1;
		} else if (st_buf_addf(b, "%%%02X", c)) {
			return -1;
		}
	}
	return 0;
}

/* Appends the card a node links to: the node's dataset (of a column node, the part before the
 * field: a dataset name has exactly one dot), with the field as the fragment. */
static int url_node(struct st_buf *b, const char *name, int column)
{
	const char *dot = strchr(name, '.');
	const char *field = column && dot ? strchr(dot + 1, '.') : NULL;
	char ds[1024];

	if (!field)
		return url_text(b, name);
	if ((size_t)(field - name) >= sizeof(ds))
		return -1;
	memcpy(ds, name, (size_t)(field - name));
	ds[field - name] = '\0';
	return url_text(b, ds) || st_buf_adds(b, "#f-") || url_text(b, field + 1);
}

int catalog_lineage_dot(const struct catalog_lineage *g, const struct catalog_dot_style *st,
			struct st_buf *out)
{
	if (st_buf_adds(out, "digraph lineage {\n  rankdir=LR;\n  node [shape=box, "
			     "fontname=\"Helvetica\"];\n"))
		return -1;
	for (size_t i = 0; i < g->nnodes; i++) {
		const struct catalog_lnode *n = &g->nodes[i];

		if (st_buf_adds(out, "  \"") || dot_text(out, n->name) ||
		    st_buf_adds(out, "\" [label=\"") || dot_text(out, n->name) ||
		    st_buf_adds(out, "\\n") || dot_text(out, n->kind ? n->kind : "external") ||
		    st_buf_addf(out, "\"%s%s", n->kind ? "" : ", style=dashed", i ? "" : ", penwidth=2"))
			return -1;
		if (st && st->url_prefix &&
		    (st_buf_addf(out, ", id=\"node%zu\", URL=\"", i) ||
		     st_buf_adds(out, st->url_prefix) ||
		     url_node(out, n->name, g->column) ||
		     st_buf_adds(out, "\", tooltip=\"") || dot_text(out, n->name) ||
		     st_buf_adds(out, "\"")))
			return -1;
		if (st && st->marked_nodes && st->marked_nodes[i] &&
		    st_buf_adds(out, ", color=\"#1f6feb\", penwidth=3, class=\"path\""))
			return -1;
		if (st_buf_adds(out, "];\n"))
			return -1;
	}
	for (size_t i = 0; i < g->nedges; i++) {
		if (st_buf_adds(out, "  \"") || dot_text(out, g->nodes[g->edges[i].from].name) ||
		    st_buf_adds(out, "\" -> \"") || dot_text(out, g->nodes[g->edges[i].to].name) ||
		    st_buf_adds(out, "\""))
			return -1;
		if (st && (st->pii_edges && st->pii_edges[i]) &&
		    st_buf_addf(out, " [id=\"edge%zu\", class=\"pii\", color=\"#c62828\", "
				     "penwidth=2.5, label=\"PII\", fontcolor=\"#c62828\", "
				     "fontname=\"Helvetica\"]",
				i))
			return -1;
		else if (st && !(st->pii_edges && st->pii_edges[i]) && st->url_prefix &&
			 st_buf_addf(out, " [id=\"edge%zu\"]", i))
			return -1;
		if (st_buf_adds(out, ";\n"))
			return -1;
	}
	return st_buf_adds(out, "}\n");
}
