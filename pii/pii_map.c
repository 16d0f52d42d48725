/* PII propagation: a field derived (from:) from personal data inherits its class, as
 * pseudonymous across a hash, unless it states a pii_reason. Built at query time as an
 * in-memory graph of fields (the whole catalog, or one dataset and its upstream). */
#include "pii_map.h"
#include "strmap.h"
#include "catalog.h"
#include "alloc.h"
#include "buf.h"
#include "sql.h"

#include <stdlib.h>
#include <string.h>

#define NO_NODE UINT32_MAX
#define MAX_TEXT ((size_t)1 << 30) /* names, paths and labels of one graph */
#define MAX_NODES ((size_t)1 << 28)

enum { F_REASON = 1, F_HASH = 2, F_QUEUED = 4, F_OBSERVED = 8, F_TAGGED = 16, F_UNKNOWN = 32 };

/* One field. Strings are offsets into the graph's text; 0 stands for NULL. */
struct node {
	uint32_t ds, path, category, transform, type;
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
	int flow; /* CATALOG_FLOW_* */
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

static uint64_t key_hash(int kind, const struct key *k)
{
	uint64_t h;

	if (kind != T_FIELDS) /* names and strings: keyed (strmap.h) */
		return st_strmap_hash(k->s, strlen(k->s));
	h = (uint64_t)k->ds << 32 | k->path;
	/* Tables index by the low bits, which plain integers mix poorly: finish as MurmurHash3
	 * does. */
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

/* Adds dataset d. With by_name, it is the latest version of its name and from: references
 * to that name find it. */
static int add_dataset(struct pii_graph *g, const struct catalog_graph_dataset *d_in, int by_name,
		       uint32_t *idx, struct st_error *err)
{
	struct dataset *d;

	if (!d_in->name)
		return st_error_oom(err);
	if (g->nds >= MAX_NODES)
		return st_error_set(err, ST_E_SYSTEM, "the PII graph exceeds %zu datasets",
				    MAX_NODES);
	if (st_grow(&g->ds, &g->ds_cap, g->nds + 1, sizeof(*g->ds)))
		return st_error_oom(err);
	d = &g->ds[g->nds];
	memset(d, 0, sizeof(*d));
	d->id = d_in->id;
	if (add_text(g, d_in->name, d_in->name_len, &d->name, err) ||
	    intern(g, (const unsigned char *)d_in->kind, &d->kind, err) ||
	    intern(g, (const unsigned char *)d_in->owner, &d->owner, err) ||
	    intern(g, (const unsigned char *)d_in->system, &d->system, err))
		return -1;
	*idx = (uint32_t)g->nds++;
	if (by_name && table_add(g, T_NAMES, *idx))
		return st_error_oom(err);
	return 0;
}

/* Adds field f to dataset ds. */
static int add_node(struct pii_graph *g, uint32_t ds, const struct catalog_graph_field *f,
		    uint32_t *idx, struct st_error *err)
{
	int cls = pii_map_class_parse(f->pii), unknown = 0;
	struct node *n;

	if (!f->path || !f->pii)
		return st_error_oom(err);
	/* Not classified yet (a dbt column without a class): it passes nothing on, and pii
	 * check reports it. */
	if (cls < 0 && !strcmp(f->pii, "unknown")) {
		cls = PII_MAP_NONE;
		unknown = 1;
	}
	if (cls < 0)
		return st_error_set(err, ST_E_INVALID,
				    "field '%s.%s' has an unknown pii class '%s'",
				    text(g, g->ds[ds].name), f->path, f->pii);
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
	if (f->has_reason)
		n->flags |= F_REASON;
	if (unknown)
		n->flags |= F_UNKNOWN;
	if (f->transform && !strcmp(f->transform, "hash"))
		n->flags |= F_HASH;
	if (f->observed)
		n->flags |= F_OBSERVED | (f->observed == CATALOG_OBSERVED_TAGGED ? F_TAGGED : 0);
	if (intern(g, (const unsigned char *)f->path, &n->path, err) ||
	    intern(g, (const unsigned char *)f->category, &n->category, err) ||
	    intern(g, (const unsigned char *)f->transform, &n->transform, err) ||
	    intern(g, (const unsigned char *)f->type, &n->type, err))
		return -1;
	*idx = (uint32_t)g->nnodes++;
	return table_add(g, T_FIELDS, *idx) ? st_error_oom(err) : 0;
}

static int add_edge(struct pii_graph *g, uint32_t src, uint32_t dst, int flow,
		    struct st_error *err)
{
	if (flow == CATALOG_FLOW_INDIRECT)
		return 0; /* a filter or a join key: no value of the source reaches dst */
	if (g->nedges >= UINT32_MAX)
		return st_error_set(err, ST_E_SYSTEM, "the PII graph exceeds %u edges", UINT32_MAX);
	if (st_grow(&g->edges, &g->edges_cap, g->nedges + 1, sizeof(*g->edges)))
		return st_error_oom(err);
	g->edges[g->nedges].src = src;
	g->edges[g->nedges].dst = dst;
	g->edges[g->nedges].flow = flow;
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
	unsigned char *masked = NULL;
	size_t n = g->nnodes, head = 0, len = 0;
	int ret = -1;

	if (!n)
		return 0;
	first = st_calloc(n + 1, sizeof(*first));
	out = st_calloc(g->nedges ? g->nedges : 1, sizeof(*out));
	queue = st_calloc(n, sizeof(*queue));
	masked = st_calloc(g->nedges ? g->nedges : 1, 1);
	if (!first || !out || !queue || !masked) {
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

		masked[first[s] + queue[s]] = g->edges[e].flow == CATALOG_FLOW_MASKING;
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
			 * where the hashing happens, so it inherits no more than pseudonymous. A
			 * masking edge is such a hash too. */
			if ((d->declared == PII_MAP_PSEUDONYMOUS || masked[e]) &&
			    v > PII_MAP_PSEUDONYMOUS)
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
	st_free(masked);
	return ret;
}

/* ---- the whole catalog ---- */

/* The state of a scan of the whole catalog: the dataset the last field belonged to. */
struct scan {
	struct pii_graph *g;
	int64_t last_id;
	uint32_t ds;
};

static int scan_dataset(const struct catalog_graph_dataset *d, void *u, struct st_error *err)
{
	struct scan *s = u;
	uint32_t idx;

	return add_dataset(s->g, d, 1, &idx, err);
}

/* Sizes the tables up front: a million fields would otherwise be rehashed many times. */
static int scan_total(int64_t total, void *u, struct st_error *err)
{
	struct scan *s = u;
	size_t n = total < 0 ? 0 : (size_t)total;

	n = n < MAX_NODES ? n : MAX_NODES;
	if (st_grow(&s->g->nodes, &s->g->nodes_cap, n, sizeof(*s->g->nodes)) ||
	    table_reserve(s->g, T_FIELDS, n))
		return st_error_oom(err);
	return 0;
}

/* A field: skipped when it belongs to an older version. */
static int scan_field(const struct catalog_graph_field *f, void *u, struct st_error *err)
{
	struct scan *s = u;
	uint32_t idx;

	if (f->dataset_id != s->last_id) {
		s->ds = ds_by_id(s->g, f->dataset_id);
		s->last_id = f->dataset_id;
	}
	return s->ds != NO_NODE ? add_node(s->g, s->ds, f, &idx, err) : 0;
}

/* An edge between latest versions; an older version's edge is skipped. */
static int scan_edge(const struct catalog_graph_edge *e, void *u, struct st_error *err)
{
	struct scan *s = u;
	struct pii_graph *g = s->g;
	struct key k = {0, 0, e->src_ds};
	uint32_t ds, dst, src, sds;

	ds = ds_by_id(g, e->dataset_id);
	if (ds == NO_NODE || !k.s)
		return 0;
	dst = find_field(g, ds, (const unsigned char *)e->dst_field);
	sds = table_find(g, T_NAMES, &k);
	src = sds == NO_NODE ? NO_NODE : find_field(g, sds, (const unsigned char *)e->src_field);
	if (dst != NO_NODE && src != NO_NODE)
		return add_edge(g, src, dst, e->flow, err);
	return 0;
}

/* Reads the latest version of every dataset, their fields and the from: edges between
 * them. Older versions' fields and edges are skipped. */
static int load_catalog(struct pii_graph *g, struct catalog *c, struct st_error *err)
{
	static const struct catalog_graph_visitor v = {scan_dataset, scan_total, scan_field,
						      scan_edge};
	struct scan s = {g, -1, NO_NODE};

	return catalog_graph_scan(c, &v, &s, err);
}

int pii_graph_catalog(struct catalog *c, struct pii_graph **out, struct st_error *err)
{
	struct pii_graph *g = graph_new();
	int ret = -1;

	*out = NULL;
	if (!g)
		return st_error_oom(err);
	if (load_catalog(g, c, err) || propagate(g, err))
		goto out;
	*out = g;
	g = NULL;
	ret = 0;
out:
	pii_graph_free(g);
	return ret;
}

/* ---- one dataset and its upstream ---- */

struct walk {
	struct pii_graph *g;
	struct catalog_graph_reader *r;
	uint32_t ds;   /* the dataset being added to */
	uint32_t node; /* the node added last */
	int by_name;   /* the dataset being added is the latest version of its name */
};

static int walk_add_dataset(const struct catalog_graph_dataset *d, void *u, struct st_error *err)
{
	struct walk *w = u;

	return add_dataset(w->g, d, w->by_name >= 0 ? w->by_name : d->latest, &w->ds, err);
}

static int walk_add_node(const struct catalog_graph_field *f, void *u, struct st_error *err)
{
	struct walk *w = u;

	return add_node(w->g, w->ds, f, &w->node, err);
}

/* Finds the latest version of dataset name, loading it on first use. Stores NO_NODE in
 * *ds when no document declares it. */
static int walk_dataset(struct walk *w, const char *name, uint32_t *ds, struct st_error *err)
{
	struct pii_graph *g = w->g;
	struct key k = {0, 0, name};
	int rc;

	*ds = table_find(g, T_NAMES, &k);
	if (*ds != NO_NODE) {
		if (g->ds[*ds].external)
			*ds = NO_NODE;
		return 0;
	}
	w->by_name = 1;
	rc = catalog_graph_latest(w->r, name, walk_add_dataset, w, err);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		*ds = w->ds;
		return 0;
	}
	/* Remember the external name, so that it is looked up once. */
	if (st_grow(&g->ds, &g->ds_cap, g->nds + 1, sizeof(*g->ds)))
		return st_error_oom(err);
	memset(&g->ds[g->nds], 0, sizeof(*g->ds));
	g->ds[g->nds].external = 1;
	if (add_text(g, name, strlen(name), &g->ds[g->nds].name, err))
		return -1;
	if (table_add(g, T_NAMES, (uint32_t)g->nds++))
		return st_error_oom(err);
	*ds = NO_NODE;
	return 0;
}

/* Finds field path of dataset ds, loading it on first use; *idx is NO_NODE when the
 * dataset has no such field. */
static int walk_field(struct walk *w, uint32_t ds, const char *path, uint32_t *idx,
		      struct st_error *err)
{
	int rc;

	*idx = find_field(w->g, ds, (const unsigned char *)path);
	if (*idx != NO_NODE)
		return 0;
	if (w->g->nnodes >= PII_MAP_WALK_MAX)
		return st_error_set(err, ST_E_SYSTEM, "the walk upstream exceeds %d fields",
				    PII_MAP_WALK_MAX);
	w->ds = ds;
	rc = catalog_graph_field(w->r, w->g->ds[ds].id, path, walk_add_node, w, err);
	if (rc > 0)
		*idx = w->node;
	return rc < 0 ? -1 : 0;
}

/* One from: edge into the node being expanded (w->node on entry is its index). */
struct expand {
	struct walk *w;
	uint32_t head;
};

static int walk_source(const struct catalog_graph_edge *e, void *u, struct st_error *err)
{
	struct expand *x = u;
	uint32_t ds, src = NO_NODE;

	if (!e->src_ds || !e->src_field)
		return st_error_oom(err);
	if (walk_dataset(x->w, e->src_ds, &ds, err) ||
	    (ds != NO_NODE && walk_field(x->w, ds, e->src_field, &src, err)))
		return -1;
	if (ds != NO_NODE && src != NO_NODE)
		return add_edge(x->w->g, src, x->head, e->flow, err);
	return 0;
}

/* Breadth-first upstream: nodes are expanded in the order they were added, each once. */
static int walk_up(struct walk *w, struct st_error *err)
{
	struct pii_graph *g = w->g;

	for (size_t head = 0; head < g->nnodes; head++) {
		struct expand x = {w, (uint32_t)head};
		const struct node *n = &g->nodes[head];

		/* the path is copied when bound, so the walk may grow the text buffer under it */
		if (catalog_graph_sources(w->r, g->ds[n->ds].id, text(g, n->path), walk_source, &x,
					  err))
			return -1;
	}
	return 0;
}

int pii_graph_dataset(struct catalog *c, const char *name, int64_t version, struct pii_graph **out,
		      struct st_error *err)
{
	struct walk w = {graph_new(), NULL, NO_NODE, NO_NODE, -1};
	int ret = -1;

	*out = NULL;
	if (!w.g)
		return st_error_oom(err);
	if (catalog_graph_reader_new(c, &w.r, err))
		goto out;
	/* An older version is not what from: references to the name mean. */
	w.by_name = -1;
	if (catalog_graph_start(w.r, name, version, walk_add_dataset, &w, err))
		goto out;
	if (catalog_graph_fields(w.r, w.g->ds[w.ds].id, walk_add_node, &w, err))
		goto out;
	w.g->nroots = w.g->nnodes;
	if (walk_up(&w, err) || propagate(w.g, err))
		goto out;
	*out = w.g;
	w.g = NULL;
	ret = 0;
out:
	catalog_graph_reader_free(w.r);
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
	f->type = text(g, n->type);
	f->observed = n->flags & F_TAGGED ? CATALOG_OBSERVED_TAGGED
					   : (n->flags & F_OBSERVED ? CATALOG_OBSERVED : 0);
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
	int kind;                          /* pii check: the finding's kind */
	const struct pii_field_rule *rule; /* and the rule it matches */
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
		m->rows[i] = rows[i].row;
		m->rows[i].category_name = NULL;
		if (m->rows[i].category &&
		    catalog_category_name(c, m->rows[i].category, &m->rows[i].category_name, err))
			goto out;
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
	struct catalog_graph_reader *r = NULL;
	struct sort_row *order = NULL;
	size_t cap = 0, nfound = 0;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < g->nnodes; i++) {
		const struct node *n = &g->nodes[i];
		const struct pii_field_rule *rule = NULL;
		int kind;

		if (n->flags & F_UNKNOWN) {
			kind = PII_FINDING_UNKNOWN;
		} else if ((n->flags & F_OBSERVED) && !(n->flags & F_TAGGED)) {
			if (n->derived > n->declared)
				kind = PII_FINDING_OBSERVED_INHERITS;
			else if (n->declared == PII_MAP_NONE &&
				 (rule = pii_field_rule_match(text(g, n->path), text(g, n->type))))
				kind = PII_FINDING_OBSERVED_NAMED;
			else
				continue;
		} else if (n->declared != PII_MAP_NONE || n->derived == PII_MAP_NONE) {
			continue;
		} else {
			kind = PII_FINDING_DECLARED_NONE;
		}
		if (st_grow(&order, &cap, nfound + 1, sizeof(*order))) {
			st_error_oom(err);
			goto out;
		}
		memset(&order[nfound], 0, sizeof(*order));
		order[nfound].row.field = i;
		order[nfound].kind = kind;
		order[nfound].rule = rule;
		order[nfound++].dataset = text(g, g->ds[n->ds].name);
	}
	if (nfound)
		qsort(order, nfound, sizeof(*order), row_cmp);
	if (nfound && !(out->v = st_calloc(nfound, sizeof(*out->v)))) {
		st_error_oom(err);
		goto out;
	}
	for (size_t i = 0; i < nfound; i++) {
		out->v[i].field = order[i].row.field;
		out->v[i].kind = order[i].kind;
		out->v[i].rule = order[i].rule;
		out->v[i].unknown = order[i].kind == PII_FINDING_UNKNOWN;
	}
	out->n = nfound;
	if (catalog_graph_reader_new(c, &r, err))
		goto out;
	for (size_t i = 0; i < out->n; i++) {
		struct pii_finding *f = &out->v[i];
		const struct node *n = &g->nodes[f->field];

		if (catalog_graph_field_where(r, g->ds[n->ds].id, text(g, n->path), &f->file,
					      &f->line, &f->col, err) < 0)
			goto out;
	}
	ret = 0;
out:
	catalog_graph_reader_free(r);
	st_free(order);
	if (ret)
		pii_findings_release(out);
	return ret;
}
