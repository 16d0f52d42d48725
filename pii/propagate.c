/* PII propagation: a field derived (from:) from personal data inherits its class, as
 * pseudonymous across a hash, unless it states a pii_reason. Built at query time as an
 * in-memory graph of fields (the whole catalog, or one dataset and its upstream). */
#include "pii_map.h"
#include "catalog_int.h"
#include "alloc.h"
#include "buf.h"

#include <stdlib.h>
#include <string.h>

#define NO_NODE UINT32_MAX
#define MAX_TEXT ((size_t)1 << 30) /* names, paths and labels of one graph */
#define MAX_NODES ((size_t)1 << 28)

enum { F_REASON = 1, F_HASH = 2, F_QUEUED = 4 };

/* One field. Strings are offsets into the graph's text; 0 stands for NULL. */
struct node {
	uint32_t ds, path, category, transform;
	uint32_t src; /* the field it inherits from, or NO_NODE */
	uint8_t declared, derived, flags;
};

struct dataset {
	int64_t id;
	uint32_t name, kind, owner, system;
	int external; /* named by a from: but declared nowhere: remembered to look it up once */
};

/* Open addressing; a slot holds an index + 1, 0 when empty. */
struct table {
	uint32_t *v;
	size_t cap, n;
};

enum { T_NAMES, T_FIELDS, T_STRINGS };

/* T_FIELDS compares the dataset and the interned path; the others compare s. */
struct key {
	uint32_t ds, path;
	const char *s;
};

struct edge {
	uint32_t src, dst;
};

struct pii_graph {
	struct st_buf text;
	struct node *nodes;
	size_t nnodes, nodes_cap;
	struct dataset *ds;
	size_t nds, ds_cap;
	struct edge *edges;
	size_t nedges, edges_cap;
	struct table names;   /* dataset name -> dataset (the latest version) */
	struct table fields;  /* (dataset, path) -> node */
	struct table strings; /* interned text -> offset */
	size_t nroots;
};

static const char *const class_names[PII_MAP_NCLASSES] = {
	"none", "pseudonymous", "indirect", "direct", "sensitive",
};

const char *pii_map_class_name(int cls)
{
	return cls >= 0 && cls < PII_MAP_NCLASSES ? class_names[cls] : "?";
}

int pii_map_class_parse(const char *name)
{
	for (int i = 0; name && i < PII_MAP_NCLASSES; i++)
		if (!strcmp(name, class_names[i]))
			return i;
	return -1;
}

/* ---- text and hash tables ---- */

static const char *text(const struct pii_graph *g, uint32_t off)
{
	return off ? g->text.p + off : NULL;
}

static uint64_t hash_str(const char *s, uint64_t h)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static uint64_t key_hash(int kind, const struct key *k)
{
	uint64_t h;

	if (kind == T_FIELDS)
		h = (uint64_t)k->ds << 32 | k->path;
	else
		h = hash_str(k->s, 1469598103934665603ULL);
	/* Tables index by the low bits, which FNV-1a and plain integers mix poorly: finish as
	 * MurmurHash3 does. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/* The key of the entry whose value is v, for rehashing. */
static struct key key_of(const struct pii_graph *g, int kind, uint32_t v)
{
	struct key k = {0, 0, NULL};

	if (kind == T_NAMES) {
		k.s = text(g, g->ds[v].name);
	} else if (kind == T_FIELDS) {
		k.ds = g->nodes[v].ds;
		k.path = g->nodes[v].path;
	} else {
		k.s = text(g, v);
	}
	return k;
}

static int key_eq(const struct pii_graph *g, int kind, uint32_t v, const struct key *k)
{
	struct key o = key_of(g, kind, v);

	if (kind == T_FIELDS)
		return o.ds == k->ds && o.path == k->path;
	return !strcmp(o.s, k->s);
}

static struct table *table_of(struct pii_graph *g, int kind)
{
	return kind == T_NAMES ? &g->names : kind == T_FIELDS ? &g->fields : &g->strings;
}

/* Returns the value stored under k, or NO_NODE. */
static uint32_t table_find(const struct pii_graph *g, int kind, const struct key *k)
{
	const struct table *t = kind == T_NAMES	   ? &g->names
				: kind == T_FIELDS ? &g->fields
						   : &g->strings;
	size_t i;

	if (!t->cap)
		return NO_NODE;
	for (i = (size_t)key_hash(kind, k) & (t->cap - 1); t->v[i]; i = (i + 1) & (t->cap - 1))
		if (key_eq(g, kind, t->v[i] - 1, k))
			return t->v[i] - 1;
	return NO_NODE;
}

static void table_put(const struct pii_graph *g, int kind, struct table *t, uint32_t v)
{
	struct key k = key_of(g, kind, v);
	size_t i = (size_t)key_hash(kind, &k) & (t->cap - 1);

	while (t->v[i])
		i = (i + 1) & (t->cap - 1);
	t->v[i] = v + 1;
	t->n++;
}

/* Makes room for n entries in all, so that adding them never rehashes. Returns 0, or -1
 * when out of memory. */
static int table_reserve(struct pii_graph *g, int kind, size_t n)
{
	struct table *t = table_of(g, kind);
	size_t cap = t->cap ? t->cap : 1024;

	while (cap < (n + 1) * 2)
		cap *= 2;
	if (cap != t->cap) {
		struct table big = {NULL, cap, 0};

		big.v = st_calloc(big.cap, sizeof(*big.v));
		if (!big.v)
			return -1;
		for (size_t i = 0; i < t->cap; i++)
			if (t->v[i])
				table_put(g, kind, &big, t->v[i] - 1);
		st_free(t->v);
		*t = big;
	}
	return 0;
}

/* Adds value v, whose key is not in the table yet. Returns 0, or -1 when out of memory. */
static int table_add(struct pii_graph *g, int kind, uint32_t v)
{
	struct table *t = table_of(g, kind);

	if ((t->n + 1) * 2 > t->cap && table_reserve(g, kind, t->n + 1))
		return -1;
	table_put(g, kind, t, v);
	return 0;
}

/* Stores n bytes of s (NUL-terminated at s[n]) as new text. Returns 0 with its offset. */
static int add_text(struct pii_graph *g, const char *s, size_t n, uint32_t *off,
		    struct st_error *err)
{
	*off = (uint32_t)g->text.len;
	if (n + 1 > g->text.max - g->text.len)
		return st_error_set(err, ST_E_SYSTEM, "names in the PII graph exceed %zu bytes",
				    MAX_TEXT);
	if (st_buf_add(&g->text, s, n + 1))
		return st_error_oom(err);
	return 0;
}

/* Stores s once: equal strings share an offset. NULL gives 0. */
static int intern(struct pii_graph *g, const unsigned char *s, uint32_t *off, struct st_error *err)
{
	struct key k = {0, 0, (const char *)s};
	uint32_t v;

	*off = 0;
	if (!s)
		return 0;
	v = table_find(g, T_STRINGS, &k);
	if (v != NO_NODE) {
		*off = v;
		return 0;
	}
	if (add_text(g, k.s, strlen(k.s), off, err))
		return -1;
	return table_add(g, T_STRINGS, *off) ? st_error_oom(err) : 0;
}

/* ---- building ---- */

static struct pii_graph *graph_new(void)
{
	struct pii_graph *g = st_calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	st_buf_init(&g->text, MAX_TEXT);
	if (st_buf_add(&g->text, "", 1)) { /* offset 0 is NULL */
		st_free(g);
		return NULL;
	}
	return g;
}

void pii_graph_free(struct pii_graph *g)
{
	if (!g)
		return;
	st_buf_release(&g->text);
	st_free(g->nodes);
	st_free(g->ds);
	st_free(g->edges);
	st_free(g->names.v);
	st_free(g->fields.v);
	st_free(g->strings.v);
	st_free(g);
}

/* Adds a dataset from a row (id, name, kind, owner, system) of st. With by_name, it is
 * the latest version of its name and from: references to that name find it. */
static int add_dataset(struct pii_graph *g, sqlite3_stmt *st, int by_name, uint32_t *idx,
		       struct st_error *err)
{
	const unsigned char *name = sqlite3_column_text(st, 1);
	struct dataset *d;

	if (!name)
		return st_error_oom(err);
	if (g->nds >= MAX_NODES)
		return st_error_set(err, ST_E_SYSTEM, "the PII graph exceeds %zu datasets",
				    MAX_NODES);
	if (st_grow(&g->ds, &g->ds_cap, g->nds + 1, sizeof(*g->ds)))
		return st_error_oom(err);
	d = &g->ds[g->nds];
	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(st, 0);
	if (add_text(g, (const char *)name, (size_t)sqlite3_column_bytes(st, 1), &d->name, err) ||
	    intern(g, sqlite3_column_text(st, 2), &d->kind, err) ||
	    intern(g, sqlite3_column_text(st, 3), &d->owner, err) ||
	    intern(g, sqlite3_column_text(st, 4), &d->system, err))
		return -1;
	*idx = (uint32_t)g->nds++;
	if (by_name && table_add(g, T_NAMES, *idx))
		return st_error_oom(err);
	return 0;
}

/* Adds a field of dataset ds from a row of st whose columns from col on are path, pii,
 * category, transform and whether it has a pii_reason. */
static int add_node(struct pii_graph *g, uint32_t ds, sqlite3_stmt *st, int col, uint32_t *idx,
		    struct st_error *err)
{
	const unsigned char *path = sqlite3_column_text(st, col);
	const char *pii = (const char *)sqlite3_column_text(st, col + 1);
	const unsigned char *transform = sqlite3_column_text(st, col + 3);
	int cls = pii_map_class_parse(pii);
	struct node *n;

	if (!path || !pii)
		return st_error_oom(err);
	if (cls < 0)
		return st_error_set(err, ST_E_INVALID,
				    "field '%s.%s' has an unknown pii class '%s'",
				    text(g, g->ds[ds].name), path, pii);
	if (g->nnodes >= MAX_NODES)
		return st_error_set(err, ST_E_SYSTEM, "the PII graph exceeds %zu fields",
				    MAX_NODES);
	if (st_grow(&g->nodes, &g->nodes_cap, g->nnodes + 1, sizeof(*g->nodes)))
		return st_error_oom(err);
	n = &g->nodes[g->nnodes];
	memset(n, 0, sizeof(*n));
	n->ds = ds;
	n->src = NO_NODE;
	n->declared = (uint8_t)cls;
	if (sqlite3_column_int(st, col + 4))
		n->flags |= F_REASON;
	if (transform && !strcmp((const char *)transform, "hash"))
		n->flags |= F_HASH;
	if (intern(g, path, &n->path, err) ||
	    intern(g, sqlite3_column_text(st, col + 2), &n->category, err) ||
	    intern(g, transform, &n->transform, err))
		return -1;
	*idx = (uint32_t)g->nnodes++;
	return table_add(g, T_FIELDS, *idx) ? st_error_oom(err) : 0;
}

static int add_edge(struct pii_graph *g, uint32_t src, uint32_t dst, struct st_error *err)
{
	if (g->nedges >= UINT32_MAX)
		return st_error_set(err, ST_E_SYSTEM, "the PII graph exceeds %u edges", UINT32_MAX);
	if (st_grow(&g->edges, &g->edges_cap, g->nedges + 1, sizeof(*g->edges)))
		return st_error_oom(err);
	g->edges[g->nedges].src = src;
	g->edges[g->nedges].dst = dst;
	g->nedges++;
	return 0;
}

/* Finds the dataset with datasets.id id among g->ds, sorted by id. */
static uint32_t ds_by_id(const struct pii_graph *g, int64_t id)
{
	size_t lo = 0, hi = g->nds;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (g->ds[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < g->nds && g->ds[lo].id == id ? (uint32_t)lo : NO_NODE;
}

/* The field of dataset ds with this path, or NO_NODE. */
static uint32_t find_field(const struct pii_graph *g, uint32_t ds, const unsigned char *path)
{
	struct key p = {0, 0, (const char *)path}, k = {ds, 0, NULL};

	if (!path || (k.path = table_find(g, T_STRINGS, &p)) == NO_NODE)
		return NO_NODE; /* no field anywhere has this path */
	return table_find(g, T_FIELDS, &k);
}

/* ---- propagation ---- */

static int effective(const struct node *n)
{
	return n->derived > n->declared ? n->derived : n->declared;
}

/* The class a field passes to the fields derived from it. */
static int passes(const struct node *n)
{
	int cls = effective(n);

	if (n->flags & F_REASON)
		return PII_MAP_NONE;
	if (cls > PII_MAP_PSEUDONYMOUS && (n->flags & F_HASH))
		return PII_MAP_PSEUDONYMOUS;
	return cls;
}

/* Worklist propagation to the fixpoint. A field's inherited class only grows, and there are
 * five classes, so each field is queued at most five times and cycles end. */
static int propagate(struct pii_graph *g, struct st_error *err)
{
	uint32_t *first = NULL, *out = NULL, *queue = NULL;
	size_t n = g->nnodes, head = 0, len = 0;
	int ret = -1;

	if (!n)
		return 0;
	first = st_calloc(n + 1, sizeof(*first));
	out = st_calloc(g->nedges ? g->nedges : 1, sizeof(*out));
	queue = st_calloc(n, sizeof(*queue));
	if (!first || !out || !queue) {
		st_error_oom(err);
		goto out;
	}
	/* Out-edges by source, as compressed rows: first[s] .. first[s + 1]. */
	for (size_t e = 0; e < g->nedges; e++)
		first[g->edges[e].src + 1]++;
	for (size_t i = 0; i < n; i++)
		first[i + 1] += first[i];
	/* Fill each row in edge order; queue[] counts what each row holds so far. */
	for (size_t e = 0; e < g->nedges; e++) {
		uint32_t s = g->edges[e].src;

		out[first[s] + queue[s]++] = g->edges[e].dst;
	}
	memset(queue, 0, n * sizeof(*queue));
	for (size_t i = 0; i < n; i++)
		if (passes(&g->nodes[i]) > PII_MAP_NONE) {
			g->nodes[i].flags |= F_QUEUED;
			queue[len++] = (uint32_t)i;
		}
	while (len) {
		uint32_t s = queue[head];
		int cls;

		head = (head + 1) % n;
		len--;
		g->nodes[s].flags &= (uint8_t)~F_QUEUED;
		cls = passes(&g->nodes[s]);
		for (uint32_t e = first[s]; cls > PII_MAP_NONE && e < first[s + 1]; e++) {
			struct node *d = &g->nodes[out[e]];
			int v = cls, before = effective(d);

			/* A field declared pseudonymous is the keyed hash of its source: that is
			 * where the hashing happens, so it inherits no more than pseudonymous. */
			if (d->declared == PII_MAP_PSEUDONYMOUS && v > PII_MAP_PSEUDONYMOUS)
				v = PII_MAP_PSEUDONYMOUS;
			if ((d->flags & F_REASON) || v <= d->derived)
				continue;
			d->derived = (uint8_t)v;
			d->src = s;
			if (effective(d) > before && !(d->flags & F_QUEUED)) {
				d->flags |= F_QUEUED;
				queue[(head + len) % n] = out[e];
				len++;
			}
		}
	}
	ret = 0;
out:
	st_free(first);
	st_free(out);
	st_free(queue);
	return ret;
}

/* ---- the whole catalog ---- */

enum { C_DATASETS, C_NFIELDS, C_FIELDS, C_EDGES, C_COUNT };

static const char *const catalog_sql[C_COUNT] = {
	[C_DATASETS] = "SELECT id, name, kind, owner, system FROM datasets d WHERE NOT EXISTS"
		       " (SELECT 1 FROM datasets n WHERE n.name = d.name AND n.version > d.version)"
		       " ORDER BY id",
	[C_NFIELDS] = "SELECT count(*) FROM fields",
	[C_FIELDS] = "SELECT dataset_id, path, pii, category, transform, pii_reason IS NOT NULL"
		     " FROM fields ORDER BY dataset_id, ord",
	[C_EDGES] = "SELECT dataset_id, dst_field, src_ds, src_field"
		    " FROM field_edges",
};

/* Reads the latest version of every dataset, their fields and the from: edges between
 * them. Older versions' fields and edges are skipped. */
static int load_catalog(struct pii_graph *g, sqlite3 *db, struct st_error *err)
{
	sqlite3_stmt *st[C_COUNT] = {NULL};
	int64_t last_id = -1;
	uint32_t ds = NO_NODE, idx;
	size_t nfields;
	int rc, ret = -1;

	for (int i = 0; i < C_COUNT; i++)
		if (catalog_prepare(db, &st[i], catalog_sql[i], err))
			goto out;
	while ((rc = sqlite3_step(st[C_DATASETS])) == SQLITE_ROW)
		if (add_dataset(g, st[C_DATASETS], 1, &idx, err))
			goto out;
	if (rc != SQLITE_DONE || sqlite3_step(st[C_NFIELDS]) != SQLITE_ROW)
		goto sqlerr;
	/* Sized up front: a table of a million fields would otherwise be rehashed many times. */
	nfields = (size_t)sqlite3_column_int64(st[C_NFIELDS], 0);
	nfields = nfields < MAX_NODES ? nfields : MAX_NODES;
	if (st_grow(&g->nodes, &g->nodes_cap, nfields, sizeof(*g->nodes)) ||
	    table_reserve(g, T_FIELDS, nfields)) {
		st_error_oom(err);
		goto out;
	}
	while ((rc = sqlite3_step(st[C_FIELDS])) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st[C_FIELDS], 0);

		if (id != last_id) {
			ds = ds_by_id(g, id);
			last_id = id;
		}
		if (ds != NO_NODE && add_node(g, ds, st[C_FIELDS], 1, &idx, err))
			goto out;
	}
	if (rc != SQLITE_DONE)
		goto sqlerr;
	while ((rc = sqlite3_step(st[C_EDGES])) == SQLITE_ROW) {
		sqlite3_stmt *e = st[C_EDGES];
		struct key k = {0, 0, (const char *)sqlite3_column_text(e, 2)};
		uint32_t dst, src, sds;

		ds = ds_by_id(g, sqlite3_column_int64(e, 0));
		if (ds == NO_NODE || !k.s)
			continue; /* an older version's edge */
		dst = find_field(g, ds, sqlite3_column_text(e, 1));
		sds = table_find(g, T_NAMES, &k);
		src = sds == NO_NODE ? NO_NODE : find_field(g, sds, sqlite3_column_text(e, 3));
		if (dst != NO_NODE && src != NO_NODE && add_edge(g, src, dst, err))
			goto out;
	}
	if (rc != SQLITE_DONE)
		goto sqlerr;
	ret = 0;
	goto out;
sqlerr:
	catalog_sql_error(err, db, "cannot read the catalog");
out:
	for (int i = 0; i < C_COUNT; i++)
		sqlite3_finalize(st[i]);
	return ret;
}

int pii_graph_catalog(struct catalog *c, struct pii_graph **out, struct st_error *err)
{
	struct pii_graph *g = graph_new();
	int ret = -1;

	*out = NULL;
	if (!g)
		return st_error_oom(err);
	if (load_catalog(g, c->db, err) || propagate(g, err))
		goto out;
	*out = g;
	g = NULL;
	ret = 0;
out:
	pii_graph_free(g);
	return ret;
}

/* ---- one dataset and its upstream ---- */

enum { W_START, W_FIELDS, W_EDGES, W_LATEST, W_FIELD, W_COUNT };

static const char *const walk_sql[W_COUNT] = {
	[W_START] = "SELECT id, name, kind, owner, system, version = (SELECT max(version) FROM"
		    " datasets n WHERE n.name = d.name) FROM datasets d WHERE name = ?1"
		    " AND (?2 = 0 OR version = ?2) ORDER BY version DESC LIMIT 1",
	[W_FIELDS] = "SELECT path, pii, category, transform, pii_reason IS NOT NULL FROM fields"
		     " WHERE dataset_id = ?1 ORDER BY ord",
	[W_EDGES] = "SELECT src_ds, src_field FROM field_edges WHERE dataset_id = ?1"
		    " AND dst_field = ?2 ORDER BY rowid",
	[W_LATEST] = "SELECT id, name, kind, owner, system FROM datasets WHERE name = ?1"
		     " ORDER BY version DESC LIMIT 1",
	[W_FIELD] = "SELECT path, pii, category, transform, pii_reason IS NOT NULL FROM fields"
		    " WHERE dataset_id = ?1 AND path = ?2 ORDER BY ord LIMIT 1",
};

struct walk {
	struct pii_graph *g;
	sqlite3 *db;
	sqlite3_stmt *st[W_COUNT];
	struct st_error *err;
};

/* Finds the latest version of dataset name, loading it on first use. Stores NO_NODE in
 * *ds when no document declares it. */
static int walk_dataset(struct walk *w, const char *name, uint32_t *ds)
{
	struct pii_graph *g = w->g;
	struct key k = {0, 0, name};
	sqlite3_stmt *st = w->st[W_LATEST];
	int rc;

	*ds = table_find(g, T_NAMES, &k);
	if (*ds != NO_NODE) {
		if (g->ds[*ds].external)
			*ds = NO_NODE;
		return 0;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rc = add_dataset(g, st, 1, ds, w->err);
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return catalog_sql_error(w->err, w->db, "cannot read the catalog");
	/* Remember the external name, so that it is looked up once. */
	if (st_grow(&g->ds, &g->ds_cap, g->nds + 1, sizeof(*g->ds)))
		return st_error_oom(w->err);
	memset(&g->ds[g->nds], 0, sizeof(*g->ds));
	g->ds[g->nds].external = 1;
	if (add_text(g, name, strlen(name), &g->ds[g->nds].name, w->err))
		return -1;
	if (table_add(g, T_NAMES, (uint32_t)g->nds++))
		return st_error_oom(w->err);
	*ds = NO_NODE;
	return 0;
}

/* Finds field path of dataset ds, loading it on first use; *idx is NO_NODE when the
 * dataset has no such field. */
static int walk_field(struct walk *w, uint32_t ds, const char *path, uint32_t *idx)
{
	sqlite3_stmt *st = w->st[W_FIELD];
	int rc, ret = 0;

	*idx = find_field(w->g, ds, (const unsigned char *)path);
	if (*idx != NO_NODE)
		return 0;
	if (w->g->nnodes >= PII_MAP_WALK_MAX)
		return st_error_set(w->err, ST_E_SYSTEM, "the walk upstream exceeds %d fields",
				    PII_MAP_WALK_MAX);
	sqlite3_bind_int64(st, 1, w->g->ds[ds].id);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret = add_node(w->g, ds, st, 0, idx, w->err);
	} else if (rc != SQLITE_DONE) {
		ret = catalog_sql_error(w->err, w->db, "cannot read the catalog");
	}
	sqlite3_reset(st);
	return ret;
}

/* Breadth-first upstream: nodes are expanded in the order they were added, each once. */
static int walk_up(struct walk *w)
{
	struct pii_graph *g = w->g;
	sqlite3_stmt *st = w->st[W_EDGES];

	for (size_t head = 0; head < g->nnodes; head++) {
		const struct node *n = &g->nodes[head];
		int rc;

		sqlite3_bind_int64(st, 1, g->ds[n->ds].id);
		sqlite3_bind_text(st, 2, text(g, n->path), -1, SQLITE_TRANSIENT);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *sds = (const char *)sqlite3_column_text(st, 0);
			const char *sfield = (const char *)sqlite3_column_text(st, 1);
			uint32_t ds, src = NO_NODE;

			if (!sds || !sfield) {
				sqlite3_reset(st);
				return st_error_oom(w->err);
			}
			if (walk_dataset(w, sds, &ds) ||
			    (ds != NO_NODE && walk_field(w, ds, sfield, &src)) ||
			    (ds != NO_NODE && src != NO_NODE &&
			     add_edge(g, src, (uint32_t)head, w->err))) {
				sqlite3_reset(st);
				return -1;
			}
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return catalog_sql_error(w->err, w->db, "cannot read the catalog");
	}
	return 0;
}

int pii_graph_dataset(struct catalog *c, const char *name, int64_t version, struct pii_graph **out,
		      struct st_error *err)
{
	struct walk w = {graph_new(), c->db, {NULL}, err};
	uint32_t ds, idx;
	int rc, ret = -1;

	*out = NULL;
	if (!w.g)
		return st_error_oom(err);
	for (int i = 0; i < W_COUNT; i++)
		if (catalog_prepare(c->db, &w.st[i], walk_sql[i], err))
			goto out;
	sqlite3_bind_text(w.st[W_START], 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(w.st[W_START], 2, version);
	rc = sqlite3_step(w.st[W_START]);
	if (rc != SQLITE_ROW) {
		if (rc != SQLITE_DONE)
			catalog_sql_error(err, c->db, "cannot read the catalog");
		else
			catalog_missing(c, name, version, err);
		goto out;
	}
	/* An older version is not what from: references to the name mean. */
	if (add_dataset(w.g, w.st[W_START], sqlite3_column_int(w.st[W_START], 5), &ds, err))
		goto out;
	sqlite3_bind_int64(w.st[W_FIELDS], 1, w.g->ds[ds].id);
	while ((rc = sqlite3_step(w.st[W_FIELDS])) == SQLITE_ROW)
		if (add_node(w.g, ds, w.st[W_FIELDS], 0, &idx, err))
			goto out;
	if (rc != SQLITE_DONE) {
		catalog_sql_error(err, c->db, "cannot read the catalog");
		goto out;
	}
	w.g->nroots = w.g->nnodes;
	if (walk_up(&w) || propagate(w.g, err))
		goto out;
	*out = w.g;
	w.g = NULL;
	ret = 0;
out:
	for (int i = 0; i < W_COUNT; i++)
		sqlite3_finalize(w.st[i]);
	pii_graph_free(w.g);
	return ret;
}

/* ---- reading the graph ---- */

size_t pii_graph_count(const struct pii_graph *g)
{
	return g->nnodes;
}

size_t pii_graph_nroots(const struct pii_graph *g)
{
	return g->nroots;
}

void pii_graph_field(const struct pii_graph *g, size_t i, struct pii_field *f)
{
	const struct node *n = &g->nodes[i];
	const struct dataset *d = &g->ds[n->ds];

	f->dataset = text(g, d->name);
	f->path = text(g, n->path);
	f->kind = text(g, d->kind);
	f->owner = text(g, d->owner);
	f->system = text(g, d->system);
	f->category = text(g, n->category);
	f->transform = text(g, n->transform);
	f->dataset_id = d->id;
	f->declared = n->declared;
	f->cls = effective(n);
	f->derived = n->derived > n->declared;
	f->has_reason = (n->flags & F_REASON) != 0;
	f->from = f->derived ? n->src : PII_MAP_NO_FIELD;
}

size_t pii_graph_chain(const struct pii_graph *g, size_t i, size_t *out, size_t max)
{
	size_t k = 0;
	uint32_t s;

	if (g->nodes[i].derived <= g->nodes[i].declared)
		return 0;
	for (s = g->nodes[i].src; s != NO_NODE && s != i && k < max; s = g->nodes[s].src) {
		out[k++] = s;
		if (g->nodes[s].derived <= g->nodes[s].declared)
			break; /* its class is declared: the chain starts here */
	}
	return k;
}

/* ---- the map ---- */

#define CHAIN_MAX 64

void pii_map_release(struct pii_map *m)
{
	st_free(m->rows);
	memset(m, 0, sizeof(*m));
}

struct sort_row {
	struct pii_map_row row;
	const char *dataset;
};

static int row_cmp(const void *pa, const void *pb)
{
	const struct sort_row *a = pa, *b = pb;
	int c;

	if (!a->row.category != !b->row.category)
		return a->row.category ? -1 : 1;
	if (a->row.category && (c = strcmp(a->row.category, b->row.category)))
		return c;
	if ((c = strcmp(a->dataset, b->dataset)))
		return c;
	return a->row.field < b->row.field ? -1 : a->row.field > b->row.field;
}

int pii_map_build(struct catalog *c, const struct pii_graph *g, struct pii_map *m,
		  struct st_error *err)
{
	struct sort_row *rows = NULL;
	unsigned char *seen = NULL;
	size_t n = 0, cap = 0, chain[CHAIN_MAX];
	int ret = -1;

	memset(m, 0, sizeof(*m));
	if (!c->tax && catalog_taxonomy_load(&c->tax, err))
		return -1;
	seen = st_calloc(g->nds ? g->nds : 1, 1);
	if (!seen)
		return st_error_oom(err);
	for (size_t i = 0; i < g->nnodes; i++) {
		const struct node *nd = &g->nodes[i];
		struct sort_row *r;
		size_t len;

		if (nd->declared == PII_MAP_NONE && nd->derived <= nd->declared)
			continue;
		if (st_grow(&rows, &cap, n + 1, sizeof(*rows))) {
			st_error_oom(err);
			goto out;
		}
		r = &rows[n++];
		r->dataset = text(g, g->ds[nd->ds].name);
		r->row.field = i;
		r->row.category = text(g, nd->category);
		r->row.origin = PII_MAP_NO_FIELD;
		if (nd->derived > nd->declared) {
			len = pii_graph_chain(g, i, chain, CHAIN_MAX);
			for (size_t k = 0; !r->row.category && k < len; k++)
				r->row.category = text(g, g->nodes[chain[k]].category);
			r->row.origin = len ? chain[len - 1] : PII_MAP_NO_FIELD;
			m->nderived++;
		} else {
			m->ndeclared++;
		}
		m->by_class[effective(nd)]++;
		if (!seen[nd->ds]) {
			seen[nd->ds] = 1;
			m->ndatasets++;
		}
	}
	if (n)
		qsort(rows, n, sizeof(*rows), row_cmp);
	if (n && !(m->rows = st_calloc(n, sizeof(*m->rows)))) {
		st_error_oom(err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct catalog_category *cat;

		m->rows[i] = rows[i].row;
		cat = m->rows[i].category ? catalog_taxonomy_find(c->tax, m->rows[i].category)
					  : NULL;
		m->rows[i].category_name = cat ? cat->name : NULL;
		if (!i || !m->rows[i].category != !m->rows[i - 1].category ||
		    (m->rows[i].category && strcmp(m->rows[i].category, m->rows[i - 1].category)))
			m->ncategories++;
	}
	m->n = n;
	ret = 0;
out:
	st_free(rows);
	st_free(seen);
	if (ret)
		pii_map_release(m);
	return ret;
}

/* ---- pii check ---- */

void pii_findings_release(struct pii_findings *f)
{
	for (size_t i = 0; i < f->n; i++)
		st_free(f->v[i].file);
	st_free(f->v);
	memset(f, 0, sizeof(*f));
}

int pii_check(struct catalog *c, const struct pii_graph *g, struct pii_findings *out,
	      struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	struct sort_row *order = NULL;
	size_t cap = 0, nfound = 0;
	int bad = 0, ret = -1;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < g->nnodes; i++) {
		const struct node *n = &g->nodes[i];

		if (n->declared != PII_MAP_NONE || n->derived == PII_MAP_NONE)
			continue;
		if (st_grow(&order, &cap, nfound + 1, sizeof(*order))) {
			st_error_oom(err);
			goto out;
		}
		memset(&order[nfound], 0, sizeof(*order));
		order[nfound].row.field = i;
		order[nfound++].dataset = text(g, g->ds[n->ds].name);
	}
	if (nfound)
		qsort(order, nfound, sizeof(*order), row_cmp);
	if (nfound && !(out->v = st_calloc(nfound, sizeof(*out->v)))) {
		st_error_oom(err);
		goto out;
	}
	for (size_t i = 0; i < nfound; i++)
		out->v[i].field = order[i].row.field;
	out->n = nfound;
	if (catalog_prepare(c->db, &st,
			    "SELECT fl.display, f.line, f.col FROM datasets d"
			    " JOIN files fl ON fl.id = d.file_id"
			    " JOIN fields f ON f.dataset_id = d.id WHERE d.id = ?1 AND f.path = ?2",
			    err))
		goto out;
	for (size_t i = 0; i < out->n; i++) {
		struct pii_finding *f = &out->v[i];
		const struct node *n = &g->nodes[f->field];
		int rc;

		sqlite3_bind_int64(st, 1, g->ds[n->ds].id);
		sqlite3_bind_text(st, 2, text(g, n->path), -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			f->file = catalog_col_strdup(st, 0, &bad);
			f->line = (unsigned)sqlite3_column_int(st, 1);
			f->col = (unsigned)sqlite3_column_int(st, 2);
		}
		sqlite3_reset(st);
		if (bad) {
			st_error_oom(err);
			goto out;
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			catalog_sql_error(err, c->db, "cannot read the catalog");
			goto out;
		}
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	st_free(order);
	if (ret)
		pii_findings_release(out);
	return ret;
}
