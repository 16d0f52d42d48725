/* `steward lineage import`: OpenLineage RunEvents validated against the embedded spec, kept
 * by OpenLineage identity in the ol_* tables, and turned into observed datasets, fields and
 * column edges (catalog_ol_sync) that a descriptor can claim. */
#include "catalog_int.h"
#include "strmap.h"
#include "alloc.h"
#include "buf.h"
#include "embedded.h"
#include "json.h"
#include "sql.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Where a facet schema applies, from the base facet its schema extends. */
enum { AT_DATASET = 1, AT_INPUT = 2, AT_OUTPUT = 4, AT_RUN = 8, AT_JOB = 16 };

struct facet_schema {
	const char *key; /* the facet's name in an event: "schema", "columnLineage" */
	size_t klen;
	unsigned at;
	const struct catalog_jschema_node *node;
};

enum {
	Q_EVENT_ADD, Q_RUN_GET, Q_RUN_PUT, Q_DS_GET, Q_ALIAS_GET, Q_NAME_TAKEN,
	Q_DS_ADD, Q_DS_FACETS, Q_DS_RUN, Q_DS_JOB, Q_ALIAS_ADD, Q_FIELDS_DEL, Q_FIELD_ADD,
	Q_FIELD_PII, Q_FEDGES_DEL, Q_FEDGE_ADD, Q_EDGE_ADD, Q_FH_GET, Q_FH_PUT, Q_COUNT
};

static const char *const q_sql[Q_COUNT] = {
	[Q_EVENT_ADD] = "INSERT OR IGNORE INTO ol_events(hash) VALUES (?1)",
	[Q_RUN_GET] = "SELECT state, time FROM ol_runs WHERE run_id = ?1",
	[Q_RUN_PUT] = "INSERT INTO ol_runs(run_id, job, state, time) VALUES (?1, ?2, ?3, ?4)"
		      " ON CONFLICT(run_id) DO UPDATE SET job = ?2, state = ?3, time = ?4",
	[Q_DS_GET] = "SELECT id FROM ol_datasets WHERE namespace = ?1 AND name = ?2",
	[Q_ALIAS_GET] = "SELECT ds FROM ol_aliases WHERE namespace = ?1 AND name = ?2 ORDER BY ds"
			" LIMIT 1",
	[Q_NAME_TAKEN] = "SELECT 1 FROM ol_datasets WHERE steward = ?1",
	[Q_DS_ADD] = "INSERT INTO ol_datasets(namespace, name, steward) VALUES (?1, ?2, ?3)",
	[Q_DS_FACETS] = "UPDATE ol_datasets SET kind = coalesce(?2, kind),"
			" description = coalesce(?3, description), owner = coalesce(?4, owner),"
			" tags = coalesce(?5, tags), system = coalesce(?6, system),"
			" location = coalesce(?7, location) WHERE id = ?1",
	[Q_DS_RUN] = "UPDATE ol_datasets SET job = ?2, run_id = ?3, run_state = ?4, run_time = ?5"
		     " WHERE id = ?1 AND (run_time IS NULL OR run_time <= ?5)",
	/* A JobEvent's job, on an output no run has written */
	[Q_DS_JOB] = "UPDATE ol_datasets SET job = ?2 WHERE id = ?1 AND run_id IS NULL",
	[Q_ALIAS_ADD] = "INSERT OR IGNORE INTO ol_aliases(namespace, name, ds) VALUES (?1, ?2, ?3)",
	[Q_FIELDS_DEL] = "DELETE FROM ol_fields WHERE ds = ?1",
	[Q_FIELD_ADD] = "INSERT OR IGNORE INTO ol_fields(ds, path, ord, depth, type, description)"
			" VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_FIELD_PII] = "UPDATE ol_fields SET pii = ?3, category = ?4, transform = ?5"
			" WHERE ds = ?1 AND path = ?2",
	[Q_FEDGES_DEL] = "DELETE FROM ol_field_edges WHERE ds = ?1",
	[Q_FEDGE_ADD] = "INSERT OR IGNORE INTO ol_field_edges(ds, field, src, src_field, ttype,"
			" tsubtype, masking, description) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[Q_EDGE_ADD] = "INSERT OR IGNORE INTO ol_edges(ds, src) VALUES (?1, ?2)",
	[Q_FH_GET] = "SELECT facets_hash = ?2 FROM ol_datasets WHERE id = ?1",
	[Q_FH_PUT] = "UPDATE ol_datasets SET facets_hash = ?2 WHERE id = ?1",
};

/* The latest run that wrote a dataset in this import, stored when the import ends. */
struct run_note {
	int set;
	char job[1024], run_id[64], state[16], when[64];
};

/* A dataset met in this import (struct catalog_ol_import's ds): its id and the hash of
 * the facets last applied, so that a dataset named again costs no query; and what is still
 * to be written of it when the import ends (flush_slots()). Each is allocated on its own,
 * so that a pointer to one stays valid while the table grows. */
struct ds_slot {
	int64_t id;
	unsigned char hash[16];
	int has_hash;
	int hash_dirty;            /* hash is not in ol_datasets yet */
	unsigned char part[4][16]; /* of the schema, steward_pii, columnLineage and card facets */
	unsigned parts;            /* bit k: part[k] is set */
	struct run_note *run;      /* NULL: none pending */
};

/* Datasets, runs and edges kept per import at most; past that, the database is asked. */
#define CACHE_MAX ((size_t)1 << 21)

/* A run met in this import: its row of ol_runs as it stands, or will when the import ends
 * (known 0: it has none). */
struct run_slot {
	char *job;
	int known, dirty; /* dirty: the row is still to be written */
	char state[16], when[64];
};

/* A dataset edge src -> ds, as the key of catalog_ol_import's edges. */
struct edge_key {
	int64_t ds, src;
};

#define HBUF_MAX (64 << 20)

struct catalog_ol_import {
	struct catalog *c;
	struct st_buf hbuf; /* scratch for hash_of() */
	struct st_strmap ds_keys; /* the datasets met, by namespace '\0' name: ds[entry] */
	struct ds_slot **ds;
	size_t ds_cap;
	struct st_strmap edges;    /* the dataset edges stored in this import (struct edge_key) */
	struct st_strmap run_keys; /* the runs met in this import, by run id: runs[entry] */
	struct run_slot **runs;
	size_t runs_cap;
	sqlite3 *db;
	struct catalog_jschema *schema;
	const struct catalog_jschema_node *event;
	struct facet_schema *facets;
	size_t nfacets;
	sqlite3_stmt *q[Q_COUNT];
	struct catalog_ol_stats *stats;
	struct st_error *err;
	/* The event being handled: the text its tape was made from, the tape (reused from
	 * event to event), the strings taken from it, and whether taking one ran out of memory. */
	const char *buf;
	struct st_jtape tape;
	struct chunk *strs;
	int oom;
	struct st_buf path; /* scratch for field paths */
	/* Where each node of the event is in its flattened form (hbuf), so that the hash of a
	 * part of the event needs no flattening of its own. */
	struct span {
		uint32_t s, e;
	} *fo;
	size_t fo_cap;
};

/* ---- set-up ---- */

/* Where a facet file's facet may appear, from the base facets its schema extends. */
static unsigned facet_places(const char *text)
{
	static const struct {
		const char *base;
		unsigned at;
	} bases[] = {
		{"#/$defs/DatasetFacet\"", AT_DATASET}, {"#/$defs/InputDatasetFacet\"", AT_INPUT},
		{"#/$defs/OutputDatasetFacet\"", AT_OUTPUT}, {"#/$defs/RunFacet\"", AT_RUN},
		{"#/$defs/JobFacet\"", AT_JOB},
	};
	unsigned at = 0;

	for (size_t i = 0; i < sizeof(bases) / sizeof(*bases); i++)
		if (strstr(text, bases[i].base))
			at |= bases[i].at;
	return at;
}

/* Loads the embedded spec: OpenLineage.json as the root, every facet file beside it, and
 * compiles the event schema and each facet's schema with the places it may appear. */
static int load_schemas(struct catalog_ol_import *im, struct st_error *err)
{
	const struct st_embed_entry *e;
	size_t n = 0;

	if (catalog_jschema_load(&im->schema, (const char *)st_embed_ol_OpenLineage,
				 st_embed_ol_OpenLineage_len, err))
		return -1;
	for (size_t i = 0; i < st_embedded_index_len; i++) {
		e = &st_embedded_index[i];
		if (!strncmp(e->name, "ol_", 3) && strcmp(e->name, "ol_OpenLineage")) {
			char file[128];

			snprintf(file, sizeof(file), "%s.json", e->name + 3);
			if (catalog_jschema_add(im->schema, file, (const char *)e->data, e->len, err))
				return -1;
			n++;
		}
	}
	if (catalog_jschema_compile(im->schema, "#", &im->event, err))
		return -1;
	if (!(im->facets = st_calloc(n ? n : 1, sizeof(*im->facets))))
		return st_error_oom(err);
	for (size_t i = 0; i < st_embedded_index_len; i++) {
		json_t *doc, *props;
		const char *key;
		json_t *v;
		char ref[256];

		e = &st_embedded_index[i];
		if (strncmp(e->name, "ol_", 3) || !strcmp(e->name, "ol_OpenLineage"))
			continue;
		doc = json_loadb((const char *)e->data, e->len, 0, NULL);
		props = json_object_get(doc, "properties");
		json_object_foreach(props, key, v)
		{
			struct facet_schema *f = &im->facets[im->nfacets];

			(void)v;
			snprintf(ref, sizeof(ref), "%s.json#/properties/%s", e->name + 3, key);
			if (catalog_jschema_compile(im->schema, ref, &f->node, err)) {
				json_decref(doc);
				return -1;
			}
			/* A facet file defines one facet, the one property of its root. */
			f->at = facet_places((const char *)e->data);
			f->klen = strlen(key);
			if (!(f->key = st_strdup(key))) {
				json_decref(doc);
				return st_error_oom(err);
			}
			im->nfacets++;
			break;
		}
		json_decref(doc);
	}
	return 0;
}

/* Forgets the runs and edges met: they are kept for one call of catalog_ol_import_fd() (one
 * transaction), since another process may write ol_runs between two. */
static void runs_clear(struct catalog_ol_import *im)
{
	for (size_t i = 0; i < im->run_keys.n; i++) {
		st_free(im->runs[i]->job);
		st_free(im->runs[i]);
	}
	st_free(im->runs);
	im->runs = NULL;
	im->runs_cap = 0;
	st_strmap_release(&im->run_keys);
	st_strmap_release(&im->edges);
}

static void cache_clear(struct catalog_ol_import *im)
{
	runs_clear(im);
	for (size_t i = 0; i < im->ds_keys.n; i++) {
		st_free(im->ds[i]->run);
		st_free(im->ds[i]);
	}
	st_free(im->ds);
	im->ds = NULL;
	im->ds_cap = 0;
	st_strmap_release(&im->ds_keys);
}

static void arena_release(struct catalog_ol_import *im);

void catalog_ol_import_free(struct catalog_ol_import *im)
{
	if (!im)
		return;
	cache_clear(im);
	st_buf_release(&im->hbuf);
	st_buf_release(&im->path);
	st_json_tape_release(&im->tape);
	arena_release(im);
	st_free(im->fo);
	st_sql_finalize(im->q, Q_COUNT);
	for (size_t i = 0; i < im->nfacets; i++)
		st_free((char *)im->facets[i].key);
	st_free(im->facets);
	catalog_jschema_free(im->schema);
	st_free(im);
}

int catalog_ol_import_new(struct catalog *c, struct catalog_ol_import **out, struct st_error *err)
{
	struct catalog_ol_import *im = st_calloc(1, sizeof(*im));

	if (!im)
		return st_error_oom(err);
	im->c = c;
	im->db = c->db;
	st_buf_init(&im->hbuf, HBUF_MAX);
	st_buf_init(&im->path, 4096);
	if (sodium_init() < 0) {
		st_error_set(err, ST_E_SYSTEM, "cannot initialise libsodium");
		goto fail;
	}
	if (load_schemas(im, err))
		goto fail;
	for (int i = 0; i < Q_COUNT; i++)
		if (st_sql_prepare(im->db, &im->q[i], q_sql[i], err))
			goto fail;
	*out = im;
	return 0;
fail:
	catalog_ol_import_free(im);
	return -1;
}

/* ---- reading the event's tape ---- */

/* Strings taken from the event, NUL-terminated, in chunks that stay put until the next
 * event: an event's strings cost no allocation each. */
struct chunk {
	struct chunk *next;
	size_t len, cap;
	char p[];
};

#define CHUNK_MIN ((size_t)64 << 10)

/* n bytes that live until arena_reset(); NULL when out of memory (im->oom is set). */
static char *arena_alloc(struct catalog_ol_import *im, size_t n)
{
	struct chunk *c = im->strs;

	if (!c || c->cap - c->len < n) {
		size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;

		if (!(c = st_malloc(sizeof(*c) + cap))) {
			im->oom = 1;
			return NULL;
		}
		c->next = im->strs;
		c->len = 0;
		c->cap = cap;
		im->strs = c;
	}
	c->len += n;
	return c->p + c->len - n;
}

/* Empties the arena, keeping its newest chunk. */
static void arena_reset(struct catalog_ol_import *im)
{
	struct chunk *c = im->strs, *o, *next;

	if (!c)
		return;
	for (o = c->next; o; o = next) {
		next = o->next;
		st_free(o);
	}
	c->next = NULL;
	c->len = 0;
}

static void arena_release(struct catalog_ol_import *im)
{
	arena_reset(im);
	st_free(im->strs);
	im->strs = NULL;
}

/* No node: what a lookup of a key that is not there returns (node 0 is a root). */
#define NO UINT32_MAX

/* Member key of object obj, or NO (also when obj is NO or not an object). */
static uint32_t jget(const struct catalog_ol_import *im, uint32_t obj, const char *key)
{
	uint32_t m;

	if (obj == NO)
		return NO;
	m = st_json_get(im->buf, &im->tape, obj, key);
	return m ? m : NO;
}

static int is_true(const struct catalog_ol_import *im, uint32_t x)
{
	return x != NO && im->tape.v[x].type == ST_J_TRUE;
}

/* The first child of x when x is a container of type, else 0; then st_json_next(). */
static uint32_t kids(const struct catalog_ol_import *im, uint32_t x, int type)
{
	return x != NO && im->tape.v[x].type == type ? im->tape.v[x].first : 0;
}

/* How many children x has when it is a container of type, else 0. */
static size_t nkids(const struct catalog_ol_import *im, uint32_t x, int type)
{
	return x != NO && im->tape.v[x].type == type ? im->tape.v[x].count : 0;
}

/* Bytes s[0, n), unescaped when escaped, as a C string in the arena. */
static const char *text_of(struct catalog_ol_import *im, const char *s, size_t n, int escaped)
{
	char *out = arena_alloc(im, n + 1);

	if (!out)
		return NULL;
	if (escaped)
		st_json_unescape(s, n, out);
	else {
		memcpy(out, s, n);
		out[n] = '\0';
	}
	return out;
}

/* String node x as a C string, or NULL when x is NO or not a string. */
static const char *jval(struct catalog_ol_import *im, uint32_t x)
{
	const struct st_jnode *v;

	if (x == NO || im->tape.v[x].type != ST_J_STR)
		return NULL;
	v = &im->tape.v[x];
	return text_of(im, im->buf + v->start + 1, v->end - v->start - 2, v->escaped);
}

/* The member key of node m as a C string (NULL when out of memory). */
static const char *jkey(struct catalog_ol_import *im, uint32_t m)
{
	const struct st_jnode *v = &im->tape.v[m];

	return text_of(im, im->buf + v->key_start, v->key_end - v->key_start, v->key_escaped);
}

static const char *jstr(struct catalog_ol_import *im, uint32_t o, const char *key)
{
	return jval(im, jget(im, o, key));
}

/* Facet key of facets, unless it is absent or marked _deleted. */
static uint32_t present(const struct catalog_ol_import *im, uint32_t facets, const char *key)
{
	uint32_t f = jget(im, facets, key);

	return f != NO && !is_true(im, jget(im, f, "_deleted")) ? f : NO;
}

/* Whether number node n is written as an integer (no fraction or exponent), which jansson
 * reads as a json_int_t and any other number as a double. */
static int num_is_int(const char *buf, const struct st_jnode *n)
{
	for (uint32_t i = n->start; i < n->end; i++)
		if (buf[i] == '.' || buf[i] == 'e' || buf[i] == 'E')
			return 0;
	return 1;
}

/* Whether the JSON string body s[0, n) has a "\u0000" escape. */
static int has_nul(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == '\\') {
			if (s[i + 1] == 'u' && i + 5 < n && !memcmp(s + i + 2, "0000", 4))
				return 1;
			i++;
		}
	return 0;
}

/* Whether jansson, whose reading the import's messages, hashes and rejects file keep, takes
 * the text on the tape as it stands: an object or an array at the top (any value when
 * any_root), no key twice, no "\u0000", integers within 64 bits and no real that
 * overflows. Returns 1, 0, or -1 when out of memory. */
static int as_jansson(const char *buf, const struct st_jtape *t, int any_root)
{
	uint32_t dup;

	if (!any_root && t->v[0].type != ST_J_OBJ && t->v[0].type != ST_J_ARR)
		return 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct st_jnode *n = &t->v[i];
		int64_t iv;
		double d;

		if (n->type == ST_J_NUM &&
		    (num_is_int(buf, n) ? st_json_int(buf, n, &iv) : st_json_double(buf, n, &d)))
			return 0;
		if (n->escaped && has_nul(buf + n->start + 1, n->end - n->start - 2))
			return 0;
		if (n->key_escaped && has_nul(buf + n->key_start, n->key_end - n->key_start))
			return 0;
	}
	if (st_json_find_duplicate(buf, t, &dup))
		return -1;
	return dup == 0;
}

/* Parses p[0, len) onto im->tape as the event to handle. Returns 1 when it is there as
 * jansson reads it, 0 when not (je says why when the tape reader refused it), or -1 with
 * err when out of memory. */
static int tape_event(struct catalog_ol_import *im, const char *p, size_t len, int any_root,
		      struct st_jerr *je)
{
	int r;

	if (st_json_parse(p, len, &im->tape, je))
		return je->code == ST_JE_NOMEM ? st_error_oom(im->err) : 0;
	im->buf = p;
	if ((r = as_jansson(p, &im->tape, any_root)) < 0)
		return st_error_oom(im->err);
	return r;
}


/* ---- small helpers ---- */

static void bind_str(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static int done(struct catalog_ol_import *im, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	return st_sql_error(im->err, im->db, what);
}

/* Whether edge src -> ds was stored in this import; else notes it (when memory allows: the
 * caller then stores it). */
static int edge_seen(struct catalog_ol_import *im, int64_t ds, int64_t src)
{
	struct edge_key key = {ds, src};

	if (im->edges.n >= CACHE_MAX)
		return st_strmap_get(&im->edges, (const char *)&key, sizeof(key)) != NULL;
	/* 0: it was there; not noted (out of memory), the caller stores it all the same */
	return st_strmap_put(&im->edges, (const char *)&key, sizeof(key), NULL) == 0;
}

/* Stores the dataset edge src -> ds (once an import). Returns 0, or -1 with im->err. */
static int add_edge(struct catalog_ol_import *im, int64_t ds, int64_t src)
{
	if (edge_seen(im, ds, src))
		return 0;
	sqlite3_bind_int64(im->q[Q_EDGE_ADD], 1, ds);
	sqlite3_bind_int64(im->q[Q_EDGE_ADD], 2, src);
	return done(im, im->q[Q_EDGE_ADD], "cannot store lineage");
}

/* An RFC 3339 time (already validated) as a UTC text that sorts: 2020-12-28T19:51:01.641000Z. */
static void utc_key(const char *t, char *out, size_t n)
{
	struct tm tm = {0};
	long frac = 0, fdigits = 0;
	const char *p = t + 19;
	time_t secs;
	int sign = 0, oh = 0, om = 0;

	tm.tm_year = atoi(t) - 1900;
	tm.tm_mon = atoi(t + 5) - 1;
	tm.tm_mday = atoi(t + 8);
	tm.tm_hour = atoi(t + 11);
	tm.tm_min = atoi(t + 14);
	tm.tm_sec = atoi(t + 17);
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (fdigits < 6) {
				frac = frac * 10 + (*p - '0');
				fdigits++;
			}
	while (fdigits < 6) {
		frac *= 10;
		fdigits++;
	}
	if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		oh = atoi(p + 1);
		om = atoi(p + 4);
	}
	secs = timegm(&tm) - sign * (oh * 3600 + om * 60);
	gmtime_r(&secs, &tm);
	if (snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", (tm.tm_year + 1900) % 10000,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (int)(frac % 1000000)) < 0)
		out[0] = '\0';
}

/* One part of a steward name from OpenLineage text: letters, digits, '_' and '-' kept, any
 * other run of characters becomes one sep, and seps at the ends are dropped. */
static void name_part(const char *in, char sep, char *out, size_t n)
{
	size_t len = 0;

	for (const char *p = in; *p && len + 1 < n; p++) {
		char c = *p;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '_' || c == '-';

		if (ok)
			out[len++] = c;
		else if (len && out[len - 1] != sep)
			out[len++] = sep;
	}
	while (len && out[len - 1] == sep)
		len--;
	out[len] = '\0';
}

static int steward_name_ok(const char *s)
{
	const char *dot = strchr(s, '.');
	size_t len = strlen(s);

	if (!dot || dot == s || dot == s + len - 1 || strchr(dot + 1, '.') || len > 200)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return 0;
	return 1;
}

/* The steward name an OpenLineage dataset is observed under: the name itself in namespace
 * 'steward' (contract of `export openlineage`), else <namespace>.<name> with every other
 * character run turned into '-' and '_', and -2, -3, ... when that is taken. */
static int make_name(struct catalog_ol_import *im, const char *ns, const char *name, char *out,
		     size_t n)
{
	sqlite3_stmt *st = im->q[Q_NAME_TAKEN];
	char a[64], b[128];

	if (!strcmp(ns, "steward") && steward_name_ok(name) && strlen(name) < n) {
		snprintf(out, n, "%s", name);
	} else {
		name_part(ns, '-', a, sizeof(a));
		name_part(name, '_', b, sizeof(b));
		snprintf(out, n, "%s.%s", a[0] ? a : "ol", b[0] ? b : "dataset");
	}
	char base[200];

	snprintf(base, sizeof(base), "%.190s", out);
	for (int k = 2; k < 100000; k++) {
		int rc;

		sqlite3_bind_text(st, 1, out, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_ROW)
			return st_sql_error(im->err, im->db, "cannot name dataset");
		if (snprintf(out, n, "%.190s-%d", base, k) < 0)
			break;
	}
	return st_error_set(im->err, ST_E_SYSTEM, "cannot name dataset '%s'", name);
}

/* The ol_datasets id of (ns, name): itself, a dataset that names it as a symlink, or a new
 * row. Returns the id, or -1 with im->err. */
static int64_t dataset_id_db(struct catalog_ol_import *im, const char *ns, const char *name)
{
	sqlite3_stmt *st;
	char sname[256];
	int rc;

	for (int q = Q_DS_GET; q <= Q_ALIAS_GET; q++) {
		st = im->q[q];
		sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(st, 0);

			sqlite3_reset(st);
			return id;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return st_sql_error(im->err, im->db, "cannot read datasets");
	}
	if (make_name(im, ns, name, sname, sizeof(sname)))
		return -1;
	st = im->q[Q_DS_ADD];
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sname, -1, SQLITE_STATIC);
	if (done(im, st, "cannot store dataset"))
		return -1;
	im->stats->datasets_new++;
	return sqlite3_last_insert_rowid(im->db);
}

static struct ds_slot *dataset_slot(struct catalog_ol_import *im, const char *ns,
				    const char *name, int64_t *id)
{
	size_t nl = strlen(ns), ml = strlen(name);
	char key[1024];
	const struct st_strent *e;
	struct ds_slot *slot;
	int keep = nl + ml + 1 <= sizeof(key);

	if (keep) {
		memcpy(key, ns, nl + 1);
		memcpy(key + nl + 1, name, ml);
		if ((e = st_strmap_get(&im->ds_keys, key, nl + 1 + ml))) {
			slot = im->ds[e - im->ds_keys.e];
			*id = slot->id;
			return slot;
		}
	}
	if ((*id = dataset_id_db(im, ns, name)) < 0)
		return NULL;
	if (!keep || im->ds_keys.n >= CACHE_MAX ||
	    st_grow(&im->ds, &im->ds_cap, im->ds_keys.n + 1, sizeof(*im->ds)) ||
	    !(slot = st_calloc(1, sizeof(*slot))))
		return NULL;
	if (st_strmap_put(&im->ds_keys, key, nl + 1 + ml, NULL) < 0) {
		st_free(slot);
		return NULL;
	}
	slot->id = *id;
	im->ds[im->ds_keys.n - 1] = slot;
	return slot;
}

/* The ol_datasets id of (ns, name). Returns it, or -1 with im->err. */
static int64_t dataset_id(struct catalog_ol_import *im, const char *ns, const char *name)
{
	int64_t id;

	dataset_slot(im, ns, name, &id);
	return id;
}

/* Appends text s[0, n) (unescaped when escaped) and a NUL to b. */
static int add_text(struct catalog_ol_import *im, struct st_buf *b, const char *s, size_t n,
		    int escaped)
{
	if (escaped && !(s = text_of(im, s, n, 1)))
		return -1;
	return st_buf_add(b, s, escaped ? strlen(s) + 1 : n) || (!escaped && st_buf_add(b, "", 1))
		       ? -1
		       : 0;
}

/* Appends a JSON value to b in a compact form that tells values apart (a type byte as
 * jansson numbers its types, then the content), keys in document order: the form that
 * event and facet hashes have always been taken of. Returns 0, or -1 when b is full or out
 * of memory. */
static int flatten_value(struct catalog_ol_import *im, struct st_buf *b, uint32_t x,
			 const struct st_jnode *v, const char *buf);

/* Flattens node x, and notes where its form is in b (im->fo[x]). */
static int flatten(struct catalog_ol_import *im, struct st_buf *b, uint32_t x)
{	const struct st_jnode *v = &im->tape.v[x];
	const char *buf = im->buf;

	im->fo[x].s = (uint32_t)b->len;
	if (flatten_value(im, b, x, v, buf))
		return -1;
	im->fo[x].e = (uint32_t)b->len;
	return 0;
}

static int flatten_value(struct catalog_ol_import *im, struct st_buf *b, uint32_t x,
			 const struct st_jnode *v, const char *buf)
{
	static const char tags[] = {[ST_J_OBJ] = '0', [ST_J_ARR] = '1', [ST_J_STR] = '2',
				    [ST_J_TRUE] = '5', [ST_J_FALSE] = '6', [ST_J_NULL] = '7'};

	(void)x;
	switch (v->type) {
	case ST_J_OBJ:
		if (st_buf_add(b, "0", 1))
			return -1;
		for (uint32_t m = v->first; m; m = im->tape.v[m].next) {
			const struct st_jnode *k = &im->tape.v[m];

			if (add_text(im, b, buf + k->key_start, k->key_end - k->key_start,
				     k->key_escaped) ||
			    flatten(im, b, m))
				return -1;
		}
		return st_buf_add(b, "}", 1);
	case ST_J_ARR:
		if (st_buf_add(b, "1", 1))
			return -1;
		for (uint32_t m = v->first; m; m = im->tape.v[m].next)
			if (flatten(im, b, m))
				return -1;
		return st_buf_add(b, "]", 1);
	case ST_J_STR:
		return st_buf_add(b, "2", 1) ||
		       add_text(im, b, buf + v->start + 1, v->end - v->start - 2, v->escaped);
	case ST_J_NUM:
		if (num_is_int(buf, v)) {
			json_int_t n = 0;
			int64_t i;

			if (!st_json_int(buf, v, &i))
				n = (json_int_t)i;
			return st_buf_add(b, "3", 1) || st_buf_add(b, &n, sizeof(n));
		} else {
			double d = 0;

			if (st_json_double(buf, v, &d))
				d = 0;
			return st_buf_add(b, "4", 1) || st_buf_add(b, &d, sizeof(d));
		}
	default:
		return st_buf_add(b, &tags[v->type], 1);
	}
}

/* Flattens the event (node ev) into im->hbuf, noting where each of its values is. Returns
 * 0, or -1 with im->err. */
static int flatten_event(struct catalog_ol_import *im, uint32_t ev)
{
	if (im->tape.n > im->fo_cap) {
		struct span *v = st_realloc(im->fo, im->tape.n * sizeof(*v));

		if (!v)
			return st_error_oom(im->err);
		im->fo = v;
		im->fo_cap = im->tape.n;
	}
	st_buf_reset(&im->hbuf);
	if (flatten(im, &im->hbuf, ev))
		return im->oom ? st_error_oom(im->err)
			       : st_error_set(im->err, ST_E_INVALID, "an event is larger than %d bytes",
					      HBUF_MAX);
	return 0;
}

/* A 16-byte BLAKE2b of values xs[0..n) of the event flattened one after the other (NO
 * entries skipped), as if each were flattened anew: flatten_event() came first. */
static int hash_of(struct catalog_ol_import *im, const uint32_t *xs, size_t n,
		   unsigned char *out)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 16);
	for (size_t i = 0; i < n; i++)
		if (xs[i] != NO)
			crypto_generichash_update(&st, (const unsigned char *)im->hbuf.p + im->fo[xs[i]].s,
						  im->fo[xs[i]].e - im->fo[xs[i]].s);
	crypto_generichash_final(&st, out, 16);
	return 0;
}

/* ---- facets ---- */

static int add_fields(struct catalog_ol_import *im, int64_t ds, uint32_t list,
		      struct st_buf *path, int depth, int64_t *ord)
{
	size_t base = path->len;

	if (depth > 16)
		return 0;
	for (uint32_t f = kids(im, list, ST_J_ARR); f; f = st_json_next(&im->tape, f)) {
		const char *name = jstr(im, f, "name");
		sqlite3_stmt *st = im->q[Q_FIELD_ADD];

		if (!name)
			continue;
		path->len = base;
		if ((base && st_buf_add(path, ".", 1)) || st_buf_adds(path, name))
			return st_error_oom(im->err);
		sqlite3_bind_int64(st, 1, ds);
		sqlite3_bind_text(st, 2, st_buf_str(path), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, (*ord)++);
		sqlite3_bind_int(st, 4, depth);
		bind_str(st, 5, jstr(im, f, "type"));
		bind_str(st, 6, jstr(im, f, "description"));
		if (done(im, st, "cannot store field"))
			return -1;
		im->stats->fields++;
		if (add_fields(im, ds, jget(im, f, "fields"), path, depth + 1, ord))
			return -1;
	}
	path->len = base;
	if (path->p)
		path->p[base] = '\0';
	return 0;
}

/* The schema facet replaces the dataset's fields. */
static int apply_schema(struct catalog_ol_import *im, int64_t ds, uint32_t facet)
{
	int64_t ord = 0;

	sqlite3_bind_int64(im->q[Q_FIELDS_DEL], 1, ds);
	if (done(im, im->q[Q_FIELDS_DEL], "cannot store fields"))
		return -1;
	st_buf_reset(&im->path);
	return add_fields(im, ds, jget(im, facet, "fields"), &im->path, 0, &ord);
}

/* steward's own facet (written by `export openlineage`): the classes of the fields. A
 * derived class is not stored: propagation computes it again. */
static int apply_steward_pii(struct catalog_ol_import *im, int64_t ds, uint32_t facet)
{
	for (uint32_t f = kids(im, jget(im, facet, "fields"), ST_J_OBJ); f;
	     f = st_json_next(&im->tape, f)) {
		sqlite3_stmt *st = im->q[Q_FIELD_PII];
		const char *name, *cls = jstr(im, f, "class");

		if (im->tape.v[f].type != ST_J_OBJ || is_true(im, jget(im, f, "derived")))
			continue;
		if (cls && strcmp(cls, "none") && strcmp(cls, "direct") && strcmp(cls, "indirect") &&
		    strcmp(cls, "sensitive") && strcmp(cls, "pseudonymous"))
			cls = NULL; /* 'unknown' and anything newer: no class */
		if (!(name = jkey(im, f)))
			return st_error_oom(im->err);
		sqlite3_bind_int64(st, 1, ds);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		bind_str(st, 3, cls);
		bind_str(st, 4, jstr(im, f, "category"));
		bind_str(st, 5, jstr(im, f, "transform"));
		if (done(im, st, "cannot store field class"))
			return -1;
	}
	return 0;
}

/* Stores the edges into ds of one facet's field map: fields.F.<inputs>[] (inputFields in
 * columnLineage, inputs in the lineage facet, where only DATASET inputs with a field count).
 * Each transformation of an input field is an edge; an input field without transformations
 * is DIRECT, of the deprecated field-level transformationType (MASKED is masking). */
static int add_field_edges(struct catalog_ol_import *im, int64_t ds, uint32_t fields,
			   const char *inputs)
{
	const struct st_jtape *t = &im->tape;

	for (uint32_t f = kids(im, fields, ST_J_OBJ); f; f = st_json_next(t, f)) {
		const char *old = jstr(im, f, "transformationType"), *field = jkey(im, f);

		if (!field)
			return st_error_oom(im->err);
		for (uint32_t in = kids(im, jget(im, f, inputs), ST_J_ARR); in;
		     in = st_json_next(t, in)) {
			uint32_t ts = jget(im, in, "transformations");
			const char *kind = jstr(im, in, "type"), *ns = jstr(im, in, "namespace");
			const char *name = jstr(im, in, "name"), *src_field = jstr(im, in, "field");
			size_t nt = nkids(im, ts, ST_J_ARR);
			uint32_t tr = kids(im, ts, ST_J_ARR);
			int64_t src;

			if ((kind && strcmp(kind, "DATASET")) || !ns || !name || !src_field)
				continue;
			if ((src = dataset_id(im, ns, name)) < 0)
				return -1;
			for (size_t k = 0; k < (nt ? nt : 1); k++, tr = nt ? st_json_next(t, tr) : 0) {
				uint32_t x = nt ? tr : NO;
				sqlite3_stmt *st = im->q[Q_FEDGE_ADD];
				const char *type = x != NO ? jstr(im, x, "type") : "DIRECT";
				const char *sub = x != NO ? jstr(im, x, "subtype") : old;
				int masking = x != NO ? is_true(im, jget(im, x, "masking"))
						      : old && !strcmp(old, "MASKED");

				sqlite3_bind_int64(st, 1, ds);
				sqlite3_bind_text(st, 2, field, -1, SQLITE_STATIC);
				sqlite3_bind_int64(st, 3, src);
				sqlite3_bind_text(st, 4, src_field, -1, SQLITE_STATIC);
				bind_str(st, 5, type ? type : "DIRECT");
				bind_str(st, 6, sub ? sub : "");
				sqlite3_bind_int(st, 7, masking);
				bind_str(st, 8, x != NO ? jstr(im, x, "description") : NULL);
				if (done(im, st, "cannot store column lineage"))
					return -1;
				if (sqlite3_changes(im->db))
					im->stats->column_edges++;
			}
		}
	}
	return 0;
}

/* The columnLineage and lineage facets replace the column edges into the dataset; the
 * lineage facet's dataset-level DATASET inputs are dataset edges. */
static int apply_column_lineage(struct catalog_ol_import *im, int64_t ds, uint32_t cl,
				uint32_t lin)
{
	sqlite3_bind_int64(im->q[Q_FEDGES_DEL], 1, ds);
	if (done(im, im->q[Q_FEDGES_DEL], "cannot store column lineage") ||
	    add_field_edges(im, ds, jget(im, cl, "fields"), "inputFields") ||
	    add_field_edges(im, ds, jget(im, lin, "fields"), "inputs"))
		return -1;
	for (uint32_t in = kids(im, jget(im, lin, "inputs"), ST_J_ARR); in;
	     in = st_json_next(&im->tape, in)) {
		const char *kind = jstr(im, in, "type"), *ns = jstr(im, in, "namespace");
		const char *name = jstr(im, in, "name");
		int64_t src;

		if ((kind && strcmp(kind, "DATASET")) || !ns || !name)
			continue;
		if ((src = dataset_id(im, ns, name)) < 0)
			return -1;
		if (src == ds)
			continue;
		if (add_edge(im, ds, src))
			return -1;
	}
	return 0;
}

/* The words of the datasetType facet as steward kinds. */
static const char *kind_of(const char *type)
{
	static const char *const map[][2] = {
		{"TABLE", "table"}, {"VIEW", "table"},	  {"STREAM", "topic"}, {"TOPIC", "topic"},
		{"FILE", "file"},   {"MODEL", "model"}, {"DASHBOARD", "dashboard"},
	};

	for (size_t i = 0; type && i < sizeof(map) / sizeof(*map); i++)
		if (!strcasecmp(type, map[i][0]))
			return map[i][1];
	return NULL;
}

/* The card-level facets: documentation, ownership, tags, dataSource, datasetType, and the
 * symlinks that give the dataset more identities. */
static int apply_card(struct catalog_ol_import *im, int64_t ds, uint32_t facets)
{
	const struct st_jtape *t = &im->tape;
	uint32_t own = jget(im, present(im, facets, "ownership"), "owners");
	uint32_t tags = jget(im, present(im, facets, "tags"), "tags");
	uint32_t src = present(im, facets, "dataSource");
	uint32_t links = jget(im, present(im, facets, "symlinks"), "identifiers");
	sqlite3_stmt *st = im->q[Q_DS_FACETS];
	struct st_buf owners, tagtext;
	int ret = -1;

	st_buf_init(&owners, 4096);
	st_buf_init(&tagtext, 1 << 16);
	for (uint32_t v = kids(im, own, ST_J_ARR); v; v = st_json_next(t, v)) {
		const char *name = jstr(im, v, "name");

		if (name && st_buf_addf(&owners, "%s%s", owners.len ? ", " : "", name))
			goto nomem;
	}
	for (uint32_t v = kids(im, tags, ST_J_ARR); v; v = st_json_next(t, v)) {
		const char *key = jstr(im, v, "key"), *val = jstr(im, v, "value");
		size_t start = tagtext.len;

		if (!key)
			continue;
		if (st_buf_addf(&tagtext, "%s%s", tagtext.len ? " " : "", key) ||
		    (val && *val && strcmp(val, "true") && st_buf_addf(&tagtext, ":%s", val)))
			goto nomem;
		for (size_t k = start + (start ? 1 : 0); k < tagtext.len; k++)
			if (tagtext.p[k] == ' ' || tagtext.p[k] == '\t' || tagtext.p[k] == '\n')
				tagtext.p[k] = '_';
	}
	sqlite3_bind_int64(st, 1, ds);
	bind_str(st, 2, kind_of(jstr(im, present(im, facets, "datasetType"), "datasetType")));
	bind_str(st, 3, jstr(im, present(im, facets, "documentation"), "description"));
	bind_str(st, 4, owners.len ? st_buf_str(&owners) : NULL);
	bind_str(st, 5, present(im, facets, "tags") != NO ? st_buf_str(&tagtext) : NULL);
	bind_str(st, 6, jstr(im, src, "name"));
	bind_str(st, 7, jstr(im, src, "uri"));
	if (done(im, st, "cannot store dataset facets"))
		goto out;
	for (uint32_t v = kids(im, links, ST_J_ARR); v; v = st_json_next(t, v)) {
		sqlite3_stmt *a = im->q[Q_ALIAS_ADD];
		const char *ns = jstr(im, v, "namespace"), *name = jstr(im, v, "name");

		if (!ns || !name)
			continue;
		sqlite3_bind_text(a, 1, ns, -1, SQLITE_STATIC);
		sqlite3_bind_text(a, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(a, 3, ds);
		if (done(im, a, "cannot store symlink"))
			goto out;
	}
	ret = 0;
	goto out;
nomem:
	st_error_oom(im->err);
out:
	st_buf_release(&owners);
	st_buf_release(&tagtext);
	return ret;
}

static int apply_dataset(struct catalog_ol_import *im, uint32_t d, int64_t *id,
			 struct ds_slot **slotp)
{
	uint32_t facets = jget(im, d, "facets");
	unsigned char hash[16];
	struct ds_slot *slot;
	sqlite3_stmt *st;
	int same;

	const char *ns = jstr(im, d, "namespace"), *name = jstr(im, d, "name");

	if (!ns || !name) /* the schema requires them: only memory can be short */
		return st_error_oom(im->err);
	slot = dataset_slot(im, ns, name, id);
	if (slotp)
		*slotp = slot;
	if (*id < 0)
		return -1;
	if (!nkids(im, facets, ST_J_OBJ))
		return 0;
	/* Runs of a job send the same facets again and again: applied once. */
	if (hash_of(im, &facets, 1, hash))
		return -1;
	if (slot && slot->has_hash) {
		same = !memcmp(slot->hash, hash, sizeof(hash));
	} else {
		st = im->q[Q_FH_GET];
		sqlite3_bind_int64(st, 1, *id);
		sqlite3_bind_blob(st, 2, hash, sizeof(hash), SQLITE_STATIC);
		same = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
		sqlite3_reset(st);
	}
	if (slot) {
		memcpy(slot->hash, hash, sizeof(hash));
		slot->has_hash = 1;
	}
	if (same)
		return 0;
	if (slot) {
		slot->hash_dirty = 1; /* stored when the import ends */
	} else {
		st = im->q[Q_FH_PUT];
		sqlite3_bind_int64(st, 1, *id);
		sqlite3_bind_blob(st, 2, hash, sizeof(hash), SQLITE_STATIC);
		if (done(im, st, "cannot store dataset"))
			return -1;
	}
	/* Of facets that changed, apply only the parts that did. */
	for (int k = 0; k < 4; k++) {
		static const char *const parts[] = {"schema", "steward_pii", "columnLineage", NULL};
		uint32_t f = parts[k] ? present(im, facets, parts[k]) : facets;
		uint32_t lin = present(im, facets, "lineage"), both[2];
		unsigned char h[16];
		int r = 0;

		if (k == 2 && f == NO && lin == NO)
			continue;
		if (k != 2 && f == NO)
			continue;
		if (k == 3) {
			/* The card: everything but the parts above. */
			uint32_t card[16];
			size_t nc = 0;

			for (uint32_t v = kids(im, facets, ST_J_OBJ); v;
			     v = st_json_next(&im->tape, v)) {
				const struct st_jnode *m = &im->tape.v[v];

				if (!st_json_key_is(im->buf, m, "schema", 6) &&
				    !st_json_key_is(im->buf, m, "steward_pii", 11) &&
				    !st_json_key_is(im->buf, m, "columnLineage", 13) &&
				    !st_json_key_is(im->buf, m, "lineage", 7) && nc < 16)
					card[nc++] = v;
			}
			if (hash_of(im, card, nc, h))
				return -1;
		} else if (k == 2) {
			both[0] = f;
			both[1] = lin;
			if (hash_of(im, both, 2, h))
				return -1;
		} else if (hash_of(im, &f, 1, h)) {
			return -1;
		}
		if (slot && (slot->parts & (1u << k)) && !memcmp(slot->part[k], h, sizeof(h)))
			continue;
		if (k == 0)
			r = apply_schema(im, *id, f);
		else if (k == 1)
			r = apply_steward_pii(im, *id, f);
		else if (k == 2)
			r = apply_column_lineage(im, *id, f, lin);
		else
			r = apply_card(im, *id, facets);
		if (r)
			return -1;
		if (slot) {
			memcpy(slot->part[k], h, sizeof(h));
			slot->parts |= 1u << k;
		}
	}
	return 0;
}

/* ---- runs ---- */

/* The slot of run run_id, read from ol_runs the first time; NULL when it cannot be kept
 * (the caller then reads and writes ol_runs itself) or on a database error (*rc -1). */
static struct run_slot *run_get(struct catalog_ol_import *im, const char *run_id, int *rc)
{
	const struct st_strent *e = st_strmap_gets(&im->run_keys, run_id);
	sqlite3_stmt *st = im->q[Q_RUN_GET];
	struct run_slot *r;
	int step;

	*rc = 0;
	if (e)
		return im->runs[e - im->run_keys.e];
	if (im->run_keys.n >= CACHE_MAX ||
	    st_grow(&im->runs, &im->runs_cap, im->run_keys.n + 1, sizeof(*im->runs)) ||
	    !(r = st_calloc(1, sizeof(*r))))
		return NULL;
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		const char *had = (const char *)sqlite3_column_text(st, 0);
		const char *at = (const char *)sqlite3_column_text(st, 1);

		r->known = had && at && strlen(had) < sizeof(r->state) && strlen(at) < sizeof(r->when);
		if (r->known) {
			memcpy(r->state, had, strlen(had) + 1);
			memcpy(r->when, at, strlen(at) + 1);
		}
	}
	sqlite3_reset(st);
	if ((step == SQLITE_ROW && !r->known) || (step != SQLITE_ROW && step != SQLITE_DONE) ||
	    st_strmap_put(&im->run_keys, run_id, strlen(run_id), NULL) < 0) {
		/* Not representable here (or an error: the caller's own read says which). */
		st_free(r);
		return NULL;
	}
	im->runs[im->run_keys.n - 1] = r;
	return r;
}

/* Records that run r is now in state at time when, of job: written when the import ends.
 * Returns 0, or -1 when out of memory. */
static int run_set(struct run_slot *r, const char *job, const char *state, const char *when)
{
	if (strlen(state) >= sizeof(r->state) || strlen(when) >= sizeof(r->when))
		return -1;
	if (!r->job || strcmp(r->job, job)) {
		char *j = st_strdup(job);

		if (!j)
			return -1;
		st_free(r->job);
		r->job = j;
	}
	memcpy(r->state, state, strlen(state) + 1);
	memcpy(r->when, when, strlen(when) + 1);
	r->known = r->dirty = 1;
	return 0;
}

/* ---- what is written when the import ends ---- */

/* Records that a run wrote dataset id (its slot, or NULL), as ol_datasets says: the run of
 * the latest time (the later of equal ones), unless the dataset has a later one already. */
static int put_run(struct catalog_ol_import *im, int64_t id, const char *job, const char *run_id,
		   const char *state, const char *when)
{
	sqlite3_stmt *st = im->q[Q_DS_RUN];

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, job, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, when, -1, SQLITE_STATIC);
	return done(im, st, "cannot store run");
}

/* The same, kept in the dataset's slot until the import ends: of the runs that write a
 * dataset many times, only the latest is stored, once. Returns 0, or -1 with im->err. */
static int note_run(struct catalog_ol_import *im, struct ds_slot *slot, int64_t id,
		    const char *job, const char *run_id, const char *state, const char *when)
{
	struct run_note *r;

	if (slot && !slot->run)
		slot->run = st_calloc(1, sizeof(*slot->run));
	r = slot ? slot->run : NULL;
	if (r && strlen(job) < sizeof(r->job) && strlen(run_id) < sizeof(r->run_id) &&
	    strlen(state) < sizeof(r->state) && strlen(when) < sizeof(r->when)) {
		if (!r->set || strcmp(r->when, when) <= 0) {
			memcpy(r->job, job, strlen(job) + 1);
			memcpy(r->run_id, run_id, strlen(run_id) + 1);
			memcpy(r->state, state, strlen(state) + 1);
			memcpy(r->when, when, strlen(when) + 1);
			r->set = 1;
		}
		return 0;
	}
	/* Not kept: the one kept goes first, so that the order of the writes is the order of
	 * the events. */
	if (r && r->set) {
		if (put_run(im, id, r->job, r->run_id, r->state, r->when))
			return -1;
		r->set = 0;
	}
	return put_run(im, id, job, run_id, state, when);
}

/* Records job (namespace/name) as the writer of dataset id when no run of it is recorded:
 * a JobEvent's output. Returns 0, or -1 with im->err. */
static int put_job(struct catalog_ol_import *im, int64_t id, const char *job)
{
	sqlite3_stmt *st = im->q[Q_DS_JOB];

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, job, -1, SQLITE_STATIC);
	return done(im, st, "cannot store job");
}

/* Writes what the slots keep: the runs' states, the facet hashes and the latest run of
 * each dataset. Returns 0, or -1. */
static int flush_slots(struct catalog_ol_import *im)
{
	for (size_t i = 0; i < im->run_keys.n; i++) {
		struct run_slot *r = im->runs[i];
		sqlite3_stmt *st = im->q[Q_RUN_PUT];

		if (!r->dirty)
			continue;
		sqlite3_bind_text(st, 1, im->run_keys.e[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, r->job, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, r->state, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, r->when, -1, SQLITE_STATIC);
		if (done(im, st, "cannot store run"))
			return -1;
		r->dirty = 0;
	}
	for (size_t i = 0; i < im->ds_keys.n; i++) {
		struct ds_slot *s = im->ds[i];

		if (s->hash_dirty) {
			sqlite3_stmt *st = im->q[Q_FH_PUT];

			sqlite3_bind_int64(st, 1, s->id);
			sqlite3_bind_blob(st, 2, s->hash, sizeof(s->hash), SQLITE_STATIC);
			if (done(im, st, "cannot store dataset"))
				return -1;
			s->hash_dirty = 0;
		}
		if (s->run && s->run->set) {
			if (put_run(im, s->id, s->run->job, s->run->run_id, s->run->state,
				    s->run->when))
				return -1;
			s->run->set = 0;
		}
	}
	return 0;
}

/* ---- one event ---- */

/* Where a state stands in a run's life: START, then RUNNING, then an end. */
static int rank(const char *state)
{
	if (!strcmp(state, "START"))
		return 0;
	if (!strcmp(state, "COMPLETE") || !strcmp(state, "ABORT") || !strcmp(state, "FAIL"))
		return 2;
	return 1;
}

/* Validates the facets of one container against the facet schemas for its place. */
static int check_facets(struct catalog_ol_import *im, uint32_t facets, unsigned at,
			const char *where, char *why, size_t n)
{
	for (uint32_t v = kids(im, facets, ST_J_OBJ); v; v = st_json_next(&im->tape, v)) {
		const struct st_jnode *m = &im->tape.v[v];

		for (size_t i = 0; i < im->nfacets; i++) {
			const struct facet_schema *f = &im->facets[i];
			char path[300];
			const char *key;

			if (!(f->at & at) || !st_json_key_is(im->buf, m, f->key, f->klen))
				continue;
			if (!(key = jkey(im, v)))
				return st_error_oom(im->err);
			snprintf(path, sizeof(path), "%s.%s", where, key);
			if (catalog_jschema_check_at(f->node, im->buf, &im->tape, v, path, why, n))
				return 1;
			break;
		}
	}
	return 0;
}

/* Whether an event is valid: the event schema, then each facet against its own schema.
 * Returns 0 valid, 1 not (why says so), or -1 with err. */
static int check_event(struct catalog_ol_import *im, uint32_t ev, char *why, size_t n)
{
	static const struct {
		const char *list, *box;
		unsigned at;
	} boxes[] = {
		{"inputs", "facets", AT_DATASET},   {"inputs", "inputFacets", AT_INPUT},
		{"outputs", "facets", AT_DATASET},  {"outputs", "outputFacets", AT_OUTPUT},
	};
	char where[200];
	int r;

	if (catalog_jschema_check(im->event, im->buf, &im->tape, ev, why, n))
		return 1;
	if ((r = check_facets(im, jget(im, jget(im, ev, "run"), "facets"), AT_RUN, "run.facets",
			      why, n)) ||
	    (r = check_facets(im, jget(im, jget(im, ev, "job"), "facets"), AT_JOB, "job.facets",
			      why, n)) ||
	    (r = check_facets(im, jget(im, jget(im, ev, "dataset"), "facets"), AT_DATASET,
			      "dataset.facets", why, n)))
		return r;
	for (size_t b = 0; b < sizeof(boxes) / sizeof(*boxes); b++) {
		size_t i = 0;

		for (uint32_t d = kids(im, jget(im, ev, boxes[b].list), ST_J_ARR); d;
		     d = st_json_next(&im->tape, d), i++) {
			snprintf(where, sizeof(where), "%s[%zu].%s", boxes[b].list, i, boxes[b].box);
			if ((r = check_facets(im, jget(im, d, boxes[b].box), boxes[b].at, where, why,
					      n)))
				return r;
		}
	}
	return 0;
}

enum { EV_APPLIED, EV_REJECTED, EV_IGNORED };

/* What an event records on each of its outputs: its job, and a RunEvent's run (run_id,
 * state and when NULL for a JobEvent). */
struct run_of {
	const char *job, *run_id, *state, *when;
};

/* Applies the datasets of an event's inputs and outputs and an edge from each input to
 * each output (not to itself), and records r's job and run on each output (a JobEvent's
 * job only where no run is recorded). Returns EV_APPLIED, or -1 with err. */
static int apply_lineage(struct catalog_ol_import *im, uint32_t inputs, uint32_t outputs,
			 const struct run_of *r)
{
	size_t nin = nkids(im, inputs, ST_J_ARR), i = 0;
	int64_t *in_ids = NULL;
	int ret = -1;

	if (nin && !(in_ids = st_calloc(nin, sizeof(*in_ids))))
		return st_error_oom(im->err);
	for (uint32_t d = kids(im, inputs, ST_J_ARR); d; d = st_json_next(&im->tape, d))
		if (apply_dataset(im, d, &in_ids[i++], NULL))
			goto out;
	for (uint32_t d = kids(im, outputs, ST_J_ARR); d; d = st_json_next(&im->tape, d)) {
		struct ds_slot *slot;
		int64_t id;

		if (apply_dataset(im, d, &id, &slot))
			goto out;
		if (r->run_id ? note_run(im, slot, id, r->job, r->run_id, r->state, r->when)
			      : put_job(im, id, r->job))
			goto out;
		for (size_t k = 0; k < nin; k++)
			if (in_ids[k] != id && add_edge(im, id, in_ids[k]))
				goto out;
	}
	ret = im->oom ? st_error_oom(im->err) : EV_APPLIED;
out:
	st_free(in_ids);
	return ret;
}

/* The name an event's job is recorded under, namespace/name, in out (n bytes). Returns 0,
 * or -1 when a part is missing: the schema requires both, so only memory was short. */
static int job_name(struct catalog_ol_import *im, uint32_t job, char *out, size_t n)
{
	const char *ns = jstr(im, job, "namespace"), *name = jstr(im, job, "name");

	if (im->oom || !ns || !name)
		return -1;
	snprintf(out, n, "%s/%s", ns, name);
	return 0;
}

/* Applies a valid DatasetEvent (job NO: one dataset's static metadata, its facets) or
 * JobEvent (a job's static lineage: its inputs and outputs, and their facets): their
 * datasets, fields, edges and column edges are a run's; of a run there is only the job,
 * recorded on outputs no run has written. Returns EV_APPLIED, or -1 with err. */
static int apply_static(struct catalog_ol_import *im, uint32_t ev, uint32_t job, uint32_t inputs,
			uint32_t outputs)
{
	char jobname[1024];
	int64_t id;

	im->stats->static_events++;
	if (job == NO)
		return apply_dataset(im, jget(im, ev, "dataset"), &id, NULL) ? -1 : EV_APPLIED;
	if (job_name(im, job, jobname, sizeof(jobname)))
		return st_error_oom(im->err);
	return apply_lineage(im, inputs, outputs, &(struct run_of){jobname, NULL, NULL, NULL});
}

/* Applies one valid event. Returns EV_APPLIED or EV_IGNORED (with why), or -1 with err. */
static int apply_event(struct catalog_ol_import *im, uint32_t ev, char *why, size_t n)
{
	uint32_t run = jget(im, ev, "run"), job = jget(im, ev, "job");
	uint32_t inputs = jget(im, ev, "inputs"), outputs = jget(im, ev, "outputs");
	const char *state = jstr(im, ev, "eventType"), *run_id = jstr(im, run, "runId");
	const char *etime;
	unsigned char hash[16];
	char when[64], jobname[1024];
	struct run_slot *rs;
	sqlite3_stmt *st;
	int rc;

	/* The event as parsed: the same event in an array, in NDJSON or pretty-printed is
	 * the same event. */
	if (flatten_event(im, ev) || hash_of(im, &ev, 1, hash))
		return -1;
	sqlite3_bind_blob(im->q[Q_EVENT_ADD], 1, hash, sizeof(hash), SQLITE_STATIC);
	if (done(im, im->q[Q_EVENT_ADD], "cannot store event"))
		return -1;
	if (!sqlite3_changes(im->db)) {
		snprintf(why, n, "already imported");
		im->stats->duplicates++;
		return EV_IGNORED;
	}
	/* Without both: a DatasetEvent (no job; it may carry a run) or a JobEvent (no run). */
	if (run == NO || job == NO)
		return apply_static(im, ev, job, inputs, outputs);
	if (!state)
		state = "OTHER";
	etime = jstr(im, ev, "eventTime");
	if (im->oom || !etime || !run_id || job_name(im, job, jobname, sizeof(jobname)))
		return st_error_oom(im->err); /* required: only memory is short */
	utc_key(etime, when, sizeof(when));
	/* An event of an earlier stage of its run than the one recorded (a START after the
	 * COMPLETE), or older at the same stage, changes nothing. OTHER events add metadata at
	 * any time and change no state. */
	if ((rs = run_get(im, run_id, &rc))) {
		if (rs->known && strcmp(state, "OTHER") &&
		    (rank(state) < rank(rs->state) ||
		     (rank(state) == rank(rs->state) && strcmp(when, rs->when) < 0))) {
			snprintf(why, n, "superseded: run '%s' is already %s", run_id, rs->state);
			im->stats->superseded++;
			return EV_IGNORED;
		}
		if (strcmp(state, "OTHER") && run_set(rs, jobname, state, when))
			return st_error_oom(im->err);
	}
	st = im->q[Q_RUN_GET];
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	rc = rs ? SQLITE_DONE : sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *had = (const char *)sqlite3_column_text(st, 0);
		const char *at = (const char *)sqlite3_column_text(st, 1);

		if (strcmp(state, "OTHER") &&
		    (rank(state) < rank(had) || (rank(state) == rank(had) && strcmp(when, at) < 0))) {
			snprintf(why, n, "superseded: run '%s' is already %s", run_id, had);
			sqlite3_reset(st);
			im->stats->superseded++;
			return EV_IGNORED;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return st_sql_error(im->err, im->db, "cannot read runs");
	if (!rs && strcmp(state, "OTHER")) {
		st = im->q[Q_RUN_PUT];
		sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, jobname, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, when, -1, SQLITE_STATIC);
		if (done(im, st, "cannot store run"))
			return -1;
	}
	return apply_lineage(im, inputs, outputs, &(struct run_of){jobname, run_id, state, when});
}

/* ---- input formats ---- */

struct feed {
	struct catalog_ol_import *im;
	const char *source;
	catalog_ol_reject_fn reject;
	void *u;
	size_t line; /* of the next byte */
};

/* Handles one value: ev, a node of im->tape, or NO when it did not parse as an event (why
 * says so; tree is what jansson made of it, if anything, else text is what was skipped),
 * found at line (0: none) or array index index (-1: none). Returns 0, or -1 with err. */
static int one(struct feed *f, uint32_t ev, const json_t *tree, const char *text,
	       size_t text_len, size_t line, long index, char *why)
{
	struct catalog_ol_import *im = f->im;
	struct catalog_ol_reject r;
	json_t *made = NULL;
	int rc = EV_REJECTED, ret;

	im->stats->read++;
	arena_reset(im);
	im->oom = 0;
	if (ev != NO) {
		int bad = check_event(im, ev, why, 600);

		if (bad < 0)
			return -1;
		if (!bad && (rc = apply_event(im, ev, why, 600)) < 0)
			return -1;
	}
	if (rc == EV_APPLIED) {
		im->stats->applied++;
		return 0;
	}
	if (rc == EV_IGNORED) {
		im->stats->ignored++;
		return 0;
	}
	im->stats->rejected++;
	if (!f->reject)
		return 0;
	/* The rejects file shows the event as jansson reads it: made again from its text. */
	if (ev != NO && !(tree = made = json_loadb(im->buf + im->tape.v[ev].start,
						   im->tape.v[ev].end - im->tape.v[ev].start,
						   JSON_DECODE_ANY, NULL)))
		return st_error_oom(im->err);
	memset(&r, 0, sizeof(r));
	r.source = f->source;
	r.line = line;
	r.index = index;
	r.reason = why;
	r.event = tree;
	r.text = tree ? NULL : text;
	r.text_len = tree ? 0 : text_len;
	ret = f->reject(&r, f->u, im->err);
	json_decref(made);
	return ret;
}

static size_t count_lines(const char *p, const char *end)
{
	size_t n = 0;

	for (; p < end; p++)
		n += *p == '\n';
	return n;
}

/* The reason for a value jansson reads but the tape reader does not (nested deeper than
 * ST_JSON_MAX_DEPTH), at byte off of the text that starts at line. */
static void too_deep(const char *p, size_t off, size_t line, const struct st_jerr *je,
		     char *why, size_t n)
{
	size_t col = 1;

	for (size_t i = 0; i < off; i++) {
		col++;
		if (p[i] == '\n') {
			line++;
			col = 1;
		}
	}
	snprintf(why, n, "invalid JSON: %zu:%zu: %s", line, col,
		 je->code == ST_JE_DEPTH ? "nested more than 64 deep" : "not readable");
}

/* A stream of JSON values: NDJSON, or one event (pretty or not) per file, read in chunks.
 * Parses the values in data[0, len) and sets *used to what it consumed: everything when eof,
 * else up to the start of a value the chunk cuts. A value that does not parse is rejected
 * up to the next line that starts with '{'. Returns 0, or -1 with err.
 * A line that the tape reader takes whole, as jansson would, is one event (the common case
 * by far); anything else goes through jansson, whose messages and positions are kept. */
static int feed_stream(struct feed *f, const char *data, size_t len, int eof, size_t *used)
{
	struct catalog_ol_import *im = f->im;
	const char *p = data, *end = data + len;
	char why[600];

	while (p < end) {
		json_error_t jerr;
		struct st_jerr je;
		json_t *ev;
		const char *start, *q, *nl;
		int r;

		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
			f->line += *p == '\n';
			p++;
		}
		if (p >= end)
			break;
		start = p;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl || eof) {
			const char *le = nl ? nl : end;

			if ((r = tape_event(im, p, (size_t)(le - p), 0, &je)) < 0)
				return -1;
			if (r) {
				if (one(f, 0, NULL, NULL, 0, f->line, -1, why))
					return -1;
				p = le;
				continue;
			}
		}
		ev = json_loadb(p, (size_t)(end - p), JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES,
				&jerr);
		if (!ev && !eof && (size_t)jerr.position >= (size_t)(end - p))
			break; /* cut by the chunk: read more */
		if (!ev) {
			snprintf(why, sizeof(why), "invalid JSON: %zu:%d: %s",
				 f->line + (size_t)(jerr.line > 0 ? jerr.line - 1 : 0), jerr.column,
				 jerr.text);
			/* Skip to the next line that starts a value (all of it at the end of the
			 * chunk: the rest comes with the next). */
			for (q = p + 1; q < end && !(*q == '{' && q[-1] == '\n'); q++)
				;
			if (q == end && !eof)
				break;
			if (one(f, NO, NULL, start, (size_t)(q - start), f->line, -1, why))
				return -1;
			f->line += count_lines(p, q);
			p = q;
			continue;
		}
		/* jansson read it: the tape has it too, unless it is nested too deep for it. */
		if ((r = tape_event(im, p, (size_t)jerr.position, 0, &je)) > 0) {
			r = one(f, 0, NULL, NULL, 0, f->line, -1, why);
		} else if (r == 0) {
			too_deep(p, je.offset, f->line, &je, why, sizeof(why));
			r = one(f, NO, ev, NULL, 0, f->line, -1, why);
		}
		json_decref(ev);
		if (r)
			return -1;
		f->line += count_lines(p, p + jerr.position);
		p += jerr.position;
	}
	*used = (size_t)(p - data);
	return 0;
}


/* Reads more of fd into *buf after *len bytes, growing it up to INPUT_MAX. Sets *eof at
 * the end. Returns 0, or -1 with err. */
static int read_more(int fd, const char *source, char **buf, size_t *cap, size_t *len, int *eof,
		     struct st_error *err)
{
	ssize_t r;

	if (fd < 0) { /* a buffer in memory (catalog_ol_import_mem()): all of it is there */
		*eof = 1;
		return 0;
	}
	if (*len == *cap) {
		char *nb;

		if (*cap >= CATALOG_OL_INPUT_MAX)
			return st_error_set(err, ST_E_INVALID, "'%s': an event is larger than %zu bytes",
					    source, (size_t)CATALOG_OL_INPUT_MAX);
		if (!(nb = st_realloc(*buf, *cap * 2)))
			return st_error_oom(err);
		*buf = nb;
		*cap *= 2;
	}
	do
		r = read(fd, *buf + *len, *cap - *len);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return st_error_set(err, ST_E_SYSTEM, "cannot read '%s': %s", source, strerror(errno));
	*len += (size_t)r;
	*eof = r == 0;
	return 0;
}

/* A JSON array of events: parsed whole (it cannot be cut), up to CATALOG_OL_INPUT_MAX. */
static int feed_array(struct feed *f, int fd, char **buf, size_t *cap, size_t *len, int eof)
{
	struct catalog_ol_import *im = f->im;
	json_error_t jerr;
	struct st_jerr je;
	json_t *arr, *ev;
	char why[600];
	size_t i;
	long k = 0;
	int r;

	while (!eof)
		if (read_more(fd, f->source, buf, cap, len, &eof, im->err))
			return -1;
	if ((r = tape_event(im, *buf, *len, 0, &je)) < 0)
		return -1;
	if (r) {
		for (uint32_t e = st_json_first(&im->tape, 0); e; e = st_json_next(&im->tape, e))
			if (one(f, e, NULL, NULL, 0, 0, k++, why))
				return -1;
		return 0;
	}
	arr = json_loadb(*buf, *len, JSON_REJECT_DUPLICATES, &jerr);
	if (!arr) {
		snprintf(why, sizeof(why), "invalid JSON: %d:%d: %s", jerr.line, jerr.column,
			 jerr.text);
		return one(f, NO, NULL, NULL, 0, (size_t)jerr.line, -1, why);
	}
	/* jansson read it and the tape reader did not: nested too deep somewhere. Each event
	 * is written out again and read on its own. */
	json_array_foreach(arr, i, ev)
	{
		char *text = json_dumps(ev, JSON_COMPACT | JSON_ENCODE_ANY);

		if (!text) {
			json_decref(arr);
			return st_error_oom(im->err);
		}
		if ((r = tape_event(im, text, strlen(text), 1, &je)) > 0) {
			r = one(f, 0, NULL, NULL, 0, 0, (long)i, why);
		} else if (r == 0) {
			snprintf(why, sizeof(why), "invalid JSON: %s",
				 je.code == ST_JE_DEPTH ? "nested more than 64 deep" : "not readable");
			r = one(f, NO, ev, NULL, 0, 0, (long)i, why);
		}
		free(text);
		if (r) {
			json_decref(arr);
			return -1;
		}
	}
	json_decref(arr);
	return 0;
}

/* Imports from fd, or (fd < 0) from the len bytes already in buf (cap bytes), which it
 * takes. */
static int import_input(struct catalog_ol_import *im, const char *source, int fd, char *buf,
			size_t cap, size_t len, catalog_ol_reject_fn reject, void *u,
			struct catalog_ol_stats *stats, struct st_error *err)
{
	struct feed f = {im, source, reject, u, 1};
	size_t off = 0, used;
	int eof = fd < 0, ret = -1;

	im->stats = stats;
	im->err = err;
	if (!buf)
		return st_error_oom(err);
	if (st_sql_exec(im->db, "PRAGMA cache_size = -65536", err) ||
	    st_sql_exec(im->db, "BEGIN IMMEDIATE", err)) {
		st_free(buf);
		return -1;
	}
	/* Enough to see the first character that is not space. */
	do {
		if (read_more(fd, source, &buf, &cap, &len, &eof, err))
			goto out;
		if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
			off = 3;
		while (off < len && strchr(" \t\r\n", buf[off]))
			f.line += buf[off++] == '\n';
	} while (off == len && !eof);
	if (off < len && buf[off] == '[') {
		if (feed_array(&f, fd, &buf, &cap, &len, eof))
			goto out;
	} else {
		for (;;) {
			if (feed_stream(&f, buf + off, len - off, eof, &used))
				goto out;
			off += used;
			if (eof)
				break;
			memmove(buf, buf + off, len - off);
			len -= off;
			off = 0;
			if (read_more(fd, source, &buf, &cap, &len, &eof, err))
				goto out;
		}
	}
	if (flush_slots(im) || catalog_ol_sync(im->c, err) || st_sql_exec(im->db, "COMMIT", err))
		goto out;
	ret = 0;
out:
	st_free(buf);
	runs_clear(im);
	if (ret) {
		sqlite3_exec(im->db, "ROLLBACK", NULL, NULL, NULL);
		cache_clear(im); /* it may hold rows that were rolled back */
	}
	return ret;
}

int catalog_ol_import_fd(struct catalog_ol_import *im, const char *source, int fd,
			 catalog_ol_reject_fn reject, void *u, struct catalog_ol_stats *stats,
			 struct st_error *err)
{
	size_t cap = 1 << 22;

	return import_input(im, source, fd, st_malloc(cap), cap, 0, reject, u, stats, err);
}

int catalog_ol_import_mem(struct catalog_ol_import *im, const char *source, const char *data,
			  size_t len, catalog_ol_reject_fn reject, void *u,
			  struct catalog_ol_stats *stats, struct st_error *err)
{
	char *buf;

	if (len > CATALOG_OL_INPUT_MAX)
		return st_error_set(err, ST_E_INVALID, "'%s': an event is larger than %zu bytes",
				    source, (size_t)CATALOG_OL_INPUT_MAX);
	if ((buf = st_malloc(len + 1)) && len)
		memcpy(buf, data, len);
	return import_input(im, source, -1, buf, len + 1, len, reject, u, stats, err);
}

json_t *catalog_ol_stats_json(const struct catalog_ol_stats *s)
{
	return json_pack("{sI sI sI sI sI sI sI sI sI sI}", "read", (json_int_t)s->read, "applied",
			 (json_int_t)s->applied, "rejected", (json_int_t)s->rejected, "ignored",
			 (json_int_t)s->ignored, "duplicates", (json_int_t)s->duplicates,
			 "superseded", (json_int_t)s->superseded, "static_events",
			 (json_int_t)s->static_events, "datasets_new", (json_int_t)s->datasets_new,
			 "fields", (json_int_t)s->fields, "column_edges",
			 (json_int_t)s->column_edges);
}

/* ---- observed rows ---- */

static const char unsync_sql[] =
	"DELETE FROM search_fts WHERE rowid IN (SELECT id FROM datasets WHERE observed = 1);"
	"DELETE FROM datasets WHERE observed = 1;"
	"DELETE FROM edges WHERE observed = 1;"
	"DELETE FROM field_edges WHERE observed = 1;";

/* Whether any event named a dataset: 1, 0, or -1 with err. A catalog without any costs a
 * descriptor load nothing more. */
static int any_events(struct catalog *c, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int any = 0;

	if (st_sql_cached(c->db, &st, "SELECT EXISTS (SELECT 1 FROM ol_datasets)", err))
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		any = sqlite3_column_int(st, 0);
	st_sql_done(st);
	return any;
}

int catalog_ol_unsync(struct catalog *c, struct st_error *err)
{
	int any = any_events(c, err);

	if (any < 0)
		return -1;
	return any ? st_sql_exec(c->db, unsync_sql, err) : 0;
}

/* Each OpenLineage dataset goes to its target: the declared dataset that claims it (its own
 * identity or one of its symlinks; a symlink in namespace 'steward' names one directly), a
 * declared dataset of the same name, or else the observed dataset of its own name. Run with
 * the observed rows removed, so that every dataset left is declared. */
static const char targets_sql[] =
	"CREATE TEMP TABLE IF NOT EXISTS ol_target(ds INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	" declared INTEGER NOT NULL);"
	"DELETE FROM temp.ol_target;"
	"INSERT INTO temp.ol_target(ds, name, declared) SELECT o.id, coalesce("
	" (SELECT d.name FROM ol_claims c JOIN datasets d ON d.id = c.dataset_id"
	"   WHERE c.namespace = o.namespace AND c.name = o.name AND d.observed = 0"
	"   ORDER BY d.version DESC LIMIT 1),"
	" (SELECT d.name FROM ol_aliases a JOIN ol_claims c ON c.namespace = a.namespace"
	"   AND c.name = a.name JOIN datasets d ON d.id = c.dataset_id WHERE a.ds = o.id"
	"   AND d.observed = 0 ORDER BY d.name LIMIT 1),"
	" (SELECT d.name FROM ol_aliases a JOIN datasets d ON d.name = a.name"
	"   WHERE a.ds = o.id AND a.namespace = 'steward' AND d.observed = 0 ORDER BY d.name"
	"   LIMIT 1),"
	" (SELECT d.name FROM datasets d WHERE d.name = o.steward AND d.observed = 0 LIMIT 1),"
	" o.steward), 0 FROM ol_datasets o;"
	"UPDATE temp.ol_target SET declared = 1 WHERE name IN (SELECT name FROM datasets"
	" WHERE observed = 0);";

/* Computes temp.ol_target. */
static int targets(struct catalog *c, struct st_error *err)
{
	return st_sql_exec(c->db, targets_sql, err);
}

static const char sync_sql[] =
	"INSERT INTO datasets(name, version, kind, description, owner, system, location, job,"
	" tags, file_id, line, col, gen, observed)"
	" SELECT t.name, 1, o.kind, o.description, o.owner, o.system, o.location, o.job, o.tags,"
	" (SELECT id FROM files WHERE path = 'openlineage:'), 0, 0, 0, 1"
	" FROM temp.ol_target t JOIN ol_datasets o ON o.id = t.ds WHERE t.declared = 0;"
	"INSERT INTO fields(dataset_id, ord, path, depth, type, pii, category, transform,"
	" description, line, col, observed)"
	" SELECT d.id, f.ord, f.path, f.depth, f.type, coalesce(f.pii, 'none'), f.category,"
	" f.transform, f.description, 0, 0, CASE WHEN f.pii IS NULL THEN 1 ELSE 2 END"
	" FROM temp.ol_target t JOIN datasets d ON d.name = t.name AND d.observed = 1"
	" JOIN ol_fields f ON f.ds = t.ds WHERE t.declared = 0;"
	"UPDATE datasets SET npii = (SELECT count(*) FROM fields f WHERE f.dataset_id = datasets.id"
	" AND f.pii <> 'none') WHERE observed = 1;"
	"WITH RECURSIVE split(id, rest, tag) AS ("
	" SELECT id, tags || ' ', NULL FROM datasets WHERE observed = 1 AND tags <> ''"
	" UNION ALL SELECT id, substr(rest, instr(rest, ' ') + 1),"
	" substr(rest, 1, instr(rest, ' ') - 1) FROM split WHERE rest <> '')"
	" INSERT OR IGNORE INTO tags(dataset_id, tag) SELECT id, tag FROM split"
	" WHERE tag IS NOT NULL AND tag <> '';"
	"INSERT INTO edges(dataset_id, src, dst, line, col, observed)"
	" SELECT DISTINCT d.id, ts.name, td.name, 0, 0, 1 FROM ol_edges e"
	" JOIN temp.ol_target td ON td.ds = e.ds JOIN temp.ol_target ts ON ts.ds = e.src"
	" JOIN datasets d ON d.name = td.name AND d.version = (SELECT max(version) FROM datasets x"
	"  WHERE x.name = td.name)"
	" WHERE ts.name <> td.name AND NOT EXISTS (SELECT 1 FROM edges y WHERE y.dataset_id = d.id"
	"  AND y.src = ts.name);"
	"INSERT INTO field_edges(dataset_id, src_ds, src_field, dst_ds, dst_field, line, col,"
	" observed, ttype, tsubtype, masking)"
	" SELECT d.id, ts.name, e.src_field, td.name, e.field, 0, 0, 1, e.ttype,"
	" nullif(e.tsubtype, ''), e.masking FROM ol_field_edges e"
	" JOIN temp.ol_target td ON td.ds = e.ds JOIN temp.ol_target ts ON ts.ds = e.src"
	" JOIN datasets d ON d.name = td.name AND d.version = (SELECT max(version) FROM datasets x"
	"  WHERE x.name = td.name)"
	" WHERE NOT EXISTS (SELECT 1 FROM field_edges y WHERE y.dataset_id = d.id"
	"  AND y.dst_field = e.field AND y.src_ds = ts.name AND y.src_field = e.src_field"
	"  AND y.observed = 0);"
	"INSERT INTO search_fts(rowid, name, description, fields, tags, owner, terms)"
	" SELECT d.id, d.name, d.description,"
	"  (SELECT group_concat(f.path || coalesce(' ' || f.description, ''), ' ') FROM fields f"
	"   WHERE f.dataset_id = d.id), d.tags, d.owner, NULL FROM datasets d WHERE d.observed = 1;";

int catalog_ol_sync(struct catalog *c, struct st_error *err)
{
	int any = any_events(c, err);

	if (any <= 0)
		return any;
	if (st_sql_exec(c->db, unsync_sql, err))
		return -1;
	if (st_sql_exec(c->db,
			 "INSERT OR IGNORE INTO files(path, display, hash, size, mtime_ns, inode,"
			 " ndocs, loaded_at) VALUES ('openlineage:', 'openlineage', x'', -1, 0, 0, 0,"
			 " " CATALOG_LOADED_AT_NOW ")",
			 err))
		return -1;
	return targets(c, err) || st_sql_exec(c->db, sync_sql, err) ? -1 : 0;
}

/* ---- what the card shows ---- */

void catalog_ol_info_release(struct catalog_ol_info *info)
{
	st_free(info->namespace);
	st_free(info->name);
	st_free(info->job);
	st_free(info->run_id);
	st_free(info->run_state);
	st_free(info->run_time);
	memset(info, 0, sizeof(*info));
}

int catalog_ol_info_get(struct catalog *c, const char *dataset, struct catalog_ol_info *info,
			struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1, bad = 0, any;

	memset(info, 0, sizeof(*info));
	/* Without any event there is no origin to show, and no target table to compute. */
	if ((any = any_events(c, err)) <= 0)
		return any;
	if (targets(c, err) ||
	    st_sql_cached(c->db, &st,
			    "SELECT o.namespace, o.name, o.job, o.run_id, o.run_state, o.run_time,"
			    " (SELECT observed FROM datasets WHERE name = ?1 ORDER BY version DESC"
			    "  LIMIT 1) FROM ol_datasets o JOIN temp.ol_target t ON t.ds = o.id"
			    " WHERE t.name = ?1 ORDER BY o.run_time IS NULL, o.run_time DESC, o.id",
			    err))
		goto out;
	sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		info->found = 1;
		info->namespace = st_sql_col_strdup(st, 0, &bad);
		info->name = st_sql_col_strdup(st, 1, &bad);
		info->job = st_sql_col_strdup(st, 2, &bad);
		info->run_id = st_sql_col_strdup(st, 3, &bad);
		info->run_state = st_sql_col_strdup(st, 4, &bad);
		info->run_time = st_sql_col_strdup(st, 5, &bad);
		info->observed = sqlite3_column_int(st, 6);
	}
	if (bad) {
		st_error_oom(err);
		goto out;
	}
	ret = 0;
out:
	st_sql_done(st);
	if (ret)
		catalog_ol_info_release(info);
	return ret;
}
