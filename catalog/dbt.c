/* dbt artifacts as a catalog source: a manifest.json (v1 to v12), with the catalog.json
 * beside it, becomes datasets, fields, lineage, constraints and aliases; descriptor
 * documents with `extends:` add PII tags, erasure rules and a subject to those datasets.
 * Mapping and merge rules: docs/interop.md, section "dbt". */
#include "dbt_int.h"
#include "strmap.h"
#include "alloc.h"
#include "file.h"
#include "buf.h"
#include "json.h"
#include "rowbatch.h"
#include "dbt_pipe.h"
#include "ftsbuild.h"
#include "digest.h"
#include "sql.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#define DBT_MAX_FILE (512u << 20) /* bytes per manifest.json or catalog.json */
#define DBT_MIN_VERSION 1
#define DBT_MAX_VERSION 12
#define DBT_MAPPING "dbt-mapping-2" /* change it when the mapping changes: manifests reload */
#define HASH_LEN ST_DIGEST_LEN

/* ---- small helpers ---- */

/* A parsed JSON document (manifest.json or catalog.json): its text and its tape. Node 0 is
 * the root; everywhere else 0 means "no such node", as NULL did for jansson's json_t. */
struct jdoc {
	const char *buf;
	struct st_jtape t;
	int loaded;
};

/* Strings read from the documents, NUL-terminated and unescaped, kept until the manifest is
 * done: blocks of ARENA_BLOCK bytes, a longer string in a block of its own. */
#define ARENA_BLOCK 65536

struct ablock {
	struct ablock *next;
	size_t used, cap;
	char data[];
};

struct arena {
	struct ablock *head;
};

static char *arena_alloc(struct arena *a, size_t n)
{
	struct ablock *b = a->head;
	char *p;

	if (!b || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		if (!(b = st_malloc(sizeof(*b) + cap)))
			return NULL;
		b->used = 0;
		b->cap = cap;
		if (a->head && n > ARENA_BLOCK) { /* keep filling the current block */
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	p = b->data + b->used;
	b->used += n;
	return p;
}

static void arena_release(struct arena *a)
{
	while (a->head) {
		struct ablock *b = a->head;

		a->head = b->next;
		st_free(b);
	}
}

/* ---- reading the documents ---- */

static const struct st_jnode *jn(const struct jdoc *d, uint32_t n)
{
	return &d->t.v[n];
}

/* Member key of object o (0: none), or 0. */
static uint32_t jget(const struct jdoc *d, uint32_t o, const char *key)
{
	return o ? st_json_get(d->buf, &d->t, o, key) : 0;
}

/* A word and its length, for comparing keys without strlen(). */
struct word {
	const char *w;
	size_t n;
};
#define W(s) {s, sizeof(s) - 1}

/* Which of keys[0, n) member node i is named, among those not found yet (out[k] 0), or
 * -1. */
static int jkey_of(const struct jdoc *d, uint32_t i, const struct word *keys, size_t n,
		   const uint32_t *out)
{
	const struct st_jnode *v = jn(d, i);
	size_t len = v->key_end - v->key_start;

	for (size_t k = 0; k < n; k++) {
		if (out[k] ||
		    (!v->key_escaped &&
		     (keys[k].n != len || memcmp(d->buf + v->key_start, keys[k].w, len))) ||
		    (v->key_escaped && !st_json_key_is(d->buf, v, keys[k].w, keys[k].n)))
			continue;
		return (int)k;
	}
	return -1;
}

/* The members of object o named keys[0, n) into out[] (0: none), in one walk over its
 * members: what jget() finds for each (the document's keys are unique). */
static void jfields(const struct jdoc *d, uint32_t o, const struct word *keys, size_t n,
		    uint32_t *out)
{
	size_t left = n;

	memset(out, 0, n * sizeof(*out));
	if (!o || jn(d, o)->type != ST_J_OBJ)
		return;
	for (uint32_t i = st_json_first(&d->t, o); i && left; i = st_json_next(&d->t, i)) {
		int k = jkey_of(d, i, keys, n, out);

		if (k >= 0) {
			out[k] = i;
			left--;
		}
	}
}

/* Member key of the document's root, or 0. */
static uint32_t jroot(const struct jdoc *d, const char *key)
{
	return d->loaded ? st_json_get(d->buf, &d->t, 0, key) : 0;
}

static int jis(const struct jdoc *d, uint32_t n, int type)
{
	return n && jn(d, n)->type == type;
}

static int jbool(const struct jdoc *d, uint32_t n)
{
	return jis(d, n, ST_J_TRUE) || jis(d, n, ST_J_FALSE);
}

static int jnull(const struct jdoc *d, uint32_t n)
{
	return jis(d, n, ST_J_NULL);
}

/* The first member of object o, or the first element of array o; 0 when o is not one. */
static uint32_t jobj_first(const struct jdoc *d, uint32_t o)
{
	return jis(d, o, ST_J_OBJ) ? st_json_first(&d->t, o) : 0;
}

static uint32_t jarr_first(const struct jdoc *d, uint32_t a)
{
	return jis(d, a, ST_J_ARR) ? st_json_first(&d->t, a) : 0;
}

static uint32_t jnext(const struct jdoc *d, uint32_t i)
{
	return st_json_next(&d->t, i);
}

static size_t jsize(const struct jdoc *d, uint32_t n, int type)
{
	return jis(d, n, type) ? jn(d, n)->count : 0;
}

/* Bytes s[0, n) (escaped when escaped) as a string of the arena; NULL when out of memory,
 * with x->err. */
static const char *jtext(struct arena *a, struct catalog_dbt_ctx *x, const char *s, size_t n,
			 int escaped)
{
	char *p = arena_alloc(a, n + 1);

	if (!p) {
		st_error_oom(x->err);
		return NULL;
	}
	if (escaped)
		st_json_unescape(s, n, p);
	else {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Document strings live in m's arena: see below (jsv, jstr, jkey, jint). */

/* A JSON path element: the key bare when it is a plain word, else in double quotes. */
/* Writes the NULL-terminated list of strings that follows n, one after the other, into
 * dst: what snprintf(dst, n, "%s%s...", ...) writes (cut at n - 1 bytes, NUL-terminated),
 * without parsing a format for each of the hundreds of thousands of JSON paths a large
 * manifest names. */
static void join(char *dst, size_t n, ...)
{
	size_t at = 0;
	const char *p;
	va_list ap;

	va_start(ap, n);
	while ((p = va_arg(ap, const char *))) {
		size_t len = strlen(p);

		if (len > n - 1 - at)
			len = n - 1 - at;
		memcpy(dst + at, p, len);
		at += len;
	}
	va_end(ap);
	dst[at] = '\0';
}

static const char *qk(const char *key, char *buf, size_t n)
{
	size_t i;

	for (i = 0; key[i]; i++)
		if (!isalnum((unsigned char)key[i]) && key[i] != '_')
			break;
	if (!key[i] && i)
		return key;
	join(buf, n, "\"", key, "\"", (char *)NULL);
	return buf;
}

static int oom(struct catalog_dbt_ctx *x)
{
	return st_error_oom(x->err);
}

/* Whether the first 4 KiB of path name a dbt_schema_version: dbt writes metadata first. */
static int names_dbt_schema(const char *path)
{
	char head[4097];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	r = read(fd, head, sizeof(head) - 1);
	close(fd);
	if (r <= 0)
		return 0;
	head[r] = '\0';
	return strstr(head, "\"dbt_schema_version\"") != NULL;
}

int catalog_dbt_is_project(const char *dir)
{
	char path[4096];
	struct stat sb;
	int n = snprintf(path, sizeof(path), "%s/dbt_project.yml", dir);

	return n > 0 && (size_t)n < sizeof(path) && !stat(path, &sb) && S_ISREG(sb.st_mode);
}

int catalog_dbt_own(const char *name, int is_dir)
{
	static const char *const dirs[] = {"models", "seeds",	     "snapshots",  "analyses",
					   "macros", "tests",	     "data",	   "target",
					   "logs",   "dbt_packages", "dbt_modules"};
	static const char *const files[] = {"dbt_project.yml", "packages.yml", "dependencies.yml",
					    "selectors.yml",   "profiles.yml", "package-lock.yml"};

	return is_dir ? catalog_dbt_one_of(name, dirs, sizeof(dirs) / sizeof(*dirs))
		      : catalog_dbt_one_of(name, files, sizeof(files) / sizeof(*files));
}

int catalog_dbt_is_json(const char *path)
{
	size_t n = strlen(path);

	return n > 5 && !strcmp(path + n - 5, ".json") && names_dbt_schema(path);
}

int catalog_dbt_sniff(const char *path, const char *base)
{
	return !strcmp(base, "manifest.json") && names_dbt_schema(path);
}

int catalog_dbt_is_extension(const struct catalog_ynode *root)
{
	return root && root->type == CATALOG_Y_MAP && catalog_ymap_get(root, "extends") != NULL;
}

/* A file's bytes, read-only: a regular file is mapped (a manifest of a hundred MB is then
 * the page cache itself, with no copy and no fresh memory to fault in), anything else is
 * read into an st_big_alloc() buffer. */
struct fbytes {
	unsigned char *p;
	size_t len;
	size_t map_len; /* bytes mapped; 0 when p is an st_big_alloc() buffer */
};

static void fbytes_release(struct fbytes *b)
{
	if (b->map_len)
		munmap(b->p, b->map_len);
	else
		st_big_free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Maps or reads a whole file of at most DBT_MAX_FILE bytes into out. Returns 0; 1 when it
 * does not exist (missing_ok); -1 after a diagnostic; -2 with x->err. */
static int read_all(struct catalog_dbt_ctx *x, const char *path, const char *display,
		    int missing_ok, struct fbytes *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char *p = NULL;
	const char *why;
	struct stat sb;

	memset(out, 0, sizeof(*out));
	if (fd < 0 && missing_ok && errno == ENOENT)
		return 1;
	if (fd < 0 || fstat(fd, &sb)) {
		catalog_dbt_diag(x, ST_SEV_ERROR, display, 0, 0, "cannot read: %s",
				 strerror(errno));
		goto fail;
	}
	if (sb.st_size > (off_t)DBT_MAX_FILE) {
		catalog_dbt_diag(
			x, ST_SEV_ERROR, display, 0, 0,
			"file is %lld bytes, over the limit of %u bytes for a dbt artifact",
			(long long)sb.st_size, DBT_MAX_FILE);
		goto fail;
	}
	if (S_ISREG(sb.st_mode) && sb.st_size > 0) {
		int flags = MAP_PRIVATE;
		void *m;

#ifdef MAP_POPULATE
		flags |= MAP_POPULATE; /* one call maps every page, instead of a fault each */
#endif
		m = mmap(NULL, (size_t)sb.st_size, PROT_READ, flags, fd, 0);
		if (m != MAP_FAILED) {
			close(fd);
			out->p = m;
			out->len = out->map_len = (size_t)sb.st_size;
			return 0;
		}
	}
	if (!(p = st_big_alloc((size_t)sb.st_size + 1))) {
		close(fd);
		return oom(x) - 1;
	}
	if ((why = st_file_read_exact(fd, p, (size_t)sb.st_size))) {
		catalog_dbt_diag(x, ST_SEV_ERROR, display, 0, 0, "cannot read: %s", why);
		goto fail;
	}
	close(fd);
	out->p = p;
	out->len = (size_t)sb.st_size;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	st_big_free(p);
	return x->err->code ? -2 : -1;
}

/* ---- names: relations, quoting and case ---- */

enum { FOLD_KEEP, FOLD_LOWER, FOLD_UPPER };

/* How the adapter's database treats unquoted identifiers. */
static int fold_of(const char *adapter)
{
	static const char *const upper[] = {"snowflake", "oracle", "exasol", "db2", "firebolt"};
	static const char *const lower[] = {"postgres",	  "redshift", "duckdb",	   "databricks",
					    "spark",	  "trino",    "athena",	   "materialize",
					    "sqlite",	  "glue",     "greenplum", "vertica",
					    "risingwave", "starrocks"};

	for (size_t i = 0; adapter && i < sizeof(upper) / sizeof(*upper); i++)
		if (!strcmp(adapter, upper[i]))
			return FOLD_UPPER;
	for (size_t i = 0; adapter && i < sizeof(lower) / sizeof(*lower); i++)
		if (!strcmp(adapter, lower[i]))
			return FOLD_LOWER;
	return FOLD_KEEP;
}

static void fold(char *s, int mode)
{
	for (; *s; s++)
		*s = (char)(mode == FOLD_UPPER	 ? toupper((unsigned char)*s)
			    : mode == FOLD_LOWER ? tolower((unsigned char)*s)
						 : *s);
}

/* Appends s with every character outside [A-Za-z0-9_-] replaced by '_'. */
static int add_clean(struct st_buf *b, const char *s)
{
	if (!*s)
		return st_buf_add(b, "_", 1);
	for (; *s; s++) {
		char c = isalnum((unsigned char)*s) || *s == '_' || *s == '-' ? *s : '_';

		if (st_buf_add(b, &c, 1))
			return -1;
	}
	return 0;
}

static int depth_of(const char *path)
{
	int n = 0;

	for (; *path; path++)
		n += *path == '.';
	return n;
}

/* ---- one manifest ---- */

enum { R_MODEL, R_SNAPSHOT, R_SEED, R_SOURCE };

struct rel {
	const char *uid;
	uint32_t node; /* the manifest's node */
	uint32_t cat;  /* its catalog.json entry, or 0 */
	const char *section;
	int rank; /* R_*: which node of a dataset speaks first */
};

/* Where in the manifest a PII setting of a column is: the column (node cv of relation r's
 * columns), then suffix and .key, or suffix[idx] for a tag (idx >= 0). Made into the JSON
 * path only for a message (where_str()): most settings never need one. */
struct where {
	const struct rel *r;
	uint32_t cv;
	const char *suffix, *key;
	long idx;
};

struct col {
	/* Strings of the manifest's arena (strs), like the rest of what it read. */
	char *name;
	char *type, *desc, *pii, *category, *transform, *normalize, *reason;
	struct where ppath; /* what set pii (ppath.r NULL: nothing yet), for messages */
	int skip;    /* its name is another column's in steward: not stored */
	uint32_t meta, tags; /* manifest nodes, or 0 */
};

struct dset {
	char *name, *ident;
	size_t *rels;
	size_t nrels, cap;
	const char *exposure; /* exposure unique_id, for exposures */
	int64_t id;
	int64_t ncons; /* constraints written: the next one's ord */
	int relation_done;
	struct col *cols;
	size_t ncols, ccap;
};

enum { Q_DS_INS, Q_FTS_SIZE, Q_FTS, Q_COUNT };

/* A dataset's search row is written with the manifest's, in one run after every other row
 * (FTS5 writes what it holds before each other statement: rows between them made many
 * small segments), as catalog_load()'s index would make it from the rows stored: their
 * text, the fields' group_concat(path || ' ' || description || ' ' || category, ' '), and
 * no terms. A name that the index rebuilds anyway (touched already), that another dataset
 * row has, or that glossary terms link to is touched instead (reindex_names()), for
 * catalog_load() to index as before. The hash size is catalog_load()'s: the rows stay in
 * memory until the end. */
static const char *const q_sql[Q_COUNT] = {
	[Q_DS_INS] =
		("INSERT INTO datasets(name, version, kind, description, owner, system, location,"
		 " tags, certified, npii, file_id, line, col, gen, id) VALUES (?1, 1, ?2, ?3, ?4,"
		 " ?5, ?6, ?7, ?8, ?9, ?10, 0, 0, ?11, ?12)"),
	[Q_FTS_SIZE] = "INSERT INTO search_fts(search_fts, rank) VALUES ('hashsize', 16777216)",
	[Q_FTS] = CATALOG_FTS_INSERT_SQL,
};

static const char *const q_what[Q_COUNT] = {"cannot store dataset", "cannot index datasets",
					   "cannot index dataset"};

/* The rows below a dataset row are gathered and written many to a statement
 * (catalog/rowbatch.c): a statement per row was most of a manifest's load. They are
 * flushed when the manifest is done, before anything reads them (the extensions). The
 * ordinals of dataset_props and constraints are counted here, not by a query per row.
 * OR FAIL: a batch that fails fails the whole load, which rolls back the savepoint and its
 * transaction, so SQLite need keep no statement journal of the pages each batch touches. */
enum { B_FIELD, B_TAG, B_EDGE, B_ALIAS, B_PROP, B_CONS, B_TOUCH, B_DS, B_COUNT };

static const struct {
	const char *head, *what;
	int ncols;
} b_def[B_COUNT] = {
	[B_FIELD] = {"INSERT OR FAIL INTO fields(dataset_id, ord, path, depth, type, pii, category,"
		     " transform, normalize, pii_reason, description, line, col, tags, meta) VALUES ",
		     "cannot store field", 15},
	[B_TAG] = {"INSERT OR IGNORE INTO tags(dataset_id, tag) VALUES ", "cannot store tag", 2},
	[B_EDGE] = {"INSERT OR FAIL INTO edges(dataset_id, src, dst, line, col) VALUES ",
		    "cannot store lineage", 5},
	[B_ALIAS] = {"INSERT OR IGNORE INTO aliases(alias, dataset_id, origin) VALUES ",
		     "cannot store alias", 3},
	[B_PROP] = {"INSERT OR FAIL INTO dataset_props(dataset_id, ord, key, value) VALUES ",
		    "cannot store dataset property", 4},
	[B_CONS] = {"INSERT OR FAIL INTO constraints(dataset_id, ord, kind, field, detail, ref_ds,"
		    " ref_field, origin) VALUES ",
		    "cannot store constraint", 8},
	[B_TOUCH] = {"INSERT OR IGNORE INTO temp.touched(name) VALUES ", "cannot record change", 1},
	/* Dataset rows (Q_DS_INS's) while a writer thread runs, which refuses no name then. */
	[B_DS] = {"INSERT OR FAIL INTO datasets(name, version, kind, description, owner, system,"
		  " location, tags, certified, npii, file_id, line, col, gen, id) VALUES ",
		  "cannot store dataset", 15},
};

struct mfload {
	struct catalog_dbt_ctx *x;
	const char *file; /* display name, for messages */
	int64_t file_id;
	struct jdoc doc, cdoc; /* the manifest, its catalog.json (cdoc.loaded 0: none) */
	uint32_t meta;	       /* the manifest's metadata */
	uint32_t meta_quoting; /* its quoting, or 0 */
	struct st_jindex nodes, sources;   /* the manifest's nodes and sources, by unique_id
					    * (made by the first resolve_call(): indexed set) */
	int indexed;
	struct st_jindex cnodes, csources; /* the catalog.json's */
	struct arena strs;
	const char *adapter;
	int fold, version;
	struct rel *rels;
	size_t nrels, rcap;
	struct dset *ds;
	size_t nds, dcap;
	struct st_strmap dsof;      /* unique_id -> dataset index */
	struct st_strmap ephemeral; /* unique_id -> node */
	struct st_strmap names;     /* steward name -> dataset index */
	sqlite3_stmt *q[Q_COUNT];
	struct catalog_rowbatch *b; /* B_COUNT batches */
	int64_t prop_id, prop_ord;  /* the dataset whose properties are being written */
	/* The search rows, written last (Q_FTS): per row its id, then name, description,
	 * tags, owner and fields, each a length (-1: NULL) and its bytes (ftsbuild.h's form).
	 * When the catalog's index is empty and a writer thread runs, a builder (fts_create:
	 * the table's SQL, ftsb: the builder) indexes them: here, while this thread waits for
	 * the writer (fts_ready: the bytes of whole rows so far), then on a thread of its own
	 * beside the writer's last rows; they are copied in once it is done
	 * (store_fts_built()). */
	struct st_buf fts;
	size_t nfts, fts_ready;
	char *fts_create;
	struct catalog_ftsbuild *ftsb;
	struct st_strmap reindex; /* names touched instead (Q_FTS) */
	/* While the datasets, tests and contracts are stored, a writer thread does the SQL
	 * (dbt_pipe.h): ids are given here, the next one next_id, and a name that taken holds
	 * (a dataset row of version 1 before the manifest) stops the pipe, to be refused as
	 * before. */
	struct catalog_dbt_pipe *pipe;
	const char *pipe_what[B_COUNT]; /* the batches' names for its messages, read as it runs */
	int64_t next_id;
	struct st_strmap taken;
	/* Texts the scrubber found nothing in (strings of strs, borrowed), so that a
	 * description that repeats (doc blocks, generated projects) is scrubbed once:
	 * scrubbed(). */
	struct st_strmap clean;
	/* The tests and contracts, read while the datasets are stored (the writer thread is
	 * behind then, and a dataset's columns are fresh in memory) and written after them,
	 * when every dataset's columns and id are known: the test nodes of nodes (in order,
	 * tests_read of them read), what each generic test that becomes a constraint says, and
	 * the contract constraints of the stored datasets, in store_contracts()'s order. */
	uint32_t *tests;
	size_t ntests, tests_cap, tests_read;
	struct tcase {
		size_t di, ref_di; /* the dataset tested, the relationships' other (else -1) */
		const char *tname, *col, *detail, *ref_field, *origin;
	} *tc;
	size_t ntc, tc_cap;
	struct ccase {
		size_t di, ri; /* the dataset, the relation whose node holds c */
		uint32_t c;
		const char *col; /* the column it is on, NULL for the model's list */
	} *cc;
	size_t ncc, cc_cap;
	struct st_buf tjb; /* accepted_values' text */
};

/* Target of statement Q_x in the pipe (after the batches). */
#define PIPE_Q(q) (B_COUNT + (q))
#define PIPE_MIN_DATASETS 64 /* fewer are written on this thread */

/* Waits for the writer thread, which then stops, and writes the dataset rows it left (ids
 * are SQLite's again from here). Returns 0, or -1 with x->err. */
static int pipe_stop(struct mfload *m)
{
	struct catalog_dbt_pipe *p = m->pipe;

	m->pipe = NULL;
	if (!p)
		return 0;
	return catalog_dbt_pipe_finish(p, m->x->err) ||
			       catalog_rowbatch_flush(&m->b[B_DS], m->x->err, b_def[B_DS].what)
		       ? -1
		       : 0;
}

/* Adds an integer or a text (NULL: SQL NULL) to the current row of batch i. */
static int bint(struct mfload *m, int i, int64_t v)
{
	if (m->pipe)
		return catalog_dbt_pipe_int(m->pipe, i, v) ? oom(m->x) : 0;
	return catalog_rowbatch_int(&m->b[i], v, m->x->err, b_def[i].what);
}

/* n bytes of text (s NULL: SQL NULL) into the current row of batch i. */
static int btextn(struct mfload *m, int i, const char *s, size_t n)
{
	if (m->pipe)
		return catalog_dbt_pipe_text(m->pipe, i, s, n) ? oom(m->x) : 0;
	return catalog_rowbatch_text(&m->b[i], s, n, m->x->err, b_def[i].what);
}

static int btext(struct mfload *m, int i, const char *s)
{
	return btextn(m, i, s, s ? strlen(s) : 0);
}

/* As btextn() for text that stays as it is until the manifest is done (a string constant,
 * one of strs or a dataset's name): the writer thread reads it there, and binds it only when
 * another text was bound in its place. */
static int bkeptn(struct mfload *m, int i, const char *s, size_t n)
{
	if (m->pipe && s)
		return catalog_dbt_pipe_kept(m->pipe, i, s, n) ? oom(m->x) : 0;
	return btextn(m, i, s, n);
}

static int bkept(struct mfload *m, int i, const char *s)
{
	return bkeptn(m, i, s, s ? strlen(s) : 0);
}

/* String node n's value (json_string_value): NULL when n is not a string (or memory ran
 * out, with x->err), else its text, "" included. */
static const char *jsv(struct mfload *m, const struct jdoc *d, uint32_t n)
{
	const struct st_jnode *v;

	if (!jis(d, n, ST_J_STR))
		return NULL;
	v = jn(d, n);
	return jtext(&m->strs, m->x, d->buf + v->start + 1, v->end - v->start - 2, v->escaped);
}

/* String node n when it is not empty, else NULL (n 0 too). */
static const char *jstr_of(struct mfload *m, const struct jdoc *d, uint32_t n)
{
	if (!jis(d, n, ST_J_STR) || jn(d, n)->end - jn(d, n)->start == 2)
		return NULL;
	return jsv(m, d, n);
}

/* Member key of object o when it is a string that is not empty, else NULL. */
static const char *jstr(struct mfload *m, const struct jdoc *d, uint32_t o, const char *key)
{
	return jstr_of(m, d, jget(d, o, key));
}

/* The same in the manifest. */
static const char *mstr(struct mfload *m, uint32_t o, const char *key)
{
	return jstr(m, &m->doc, o, key);
}

static uint32_t mget(const struct mfload *m, uint32_t o, const char *key)
{
	return jget(&m->doc, o, key);
}

/* Member node n's key. */
static const char *jkey(struct mfload *m, const struct jdoc *d, uint32_t n)
{
	const struct st_jnode *v = jn(d, n);

	return jtext(&m->strs, m->x, d->buf + v->key_start, v->key_end - v->key_start,
		     v->key_escaped);
}

/* Number node n as json_integer_value() has it: its value when it is a whole number, else
 * 0. */
static int64_t jint(const struct jdoc *d, uint32_t n)
{
	int64_t v;

	return jis(d, n, ST_J_NUM) && !st_json_int(d->buf, jn(d, n), &v) ? v : 0;
}

/* Whether part (database, schema, identifier) of a node is quoted: the node's quoting
 * (sources) or config.quoting (nq, cq: those members of the node, or 0), else the
 * project's (mq: metadata.quoting, or 0), else the adapter's default: Snowflake quotes nothing, the
 * others quote everything. */
static int quoted(struct mfload *m, uint32_t nq, uint32_t cq, uint32_t mq, const char *part)
{
	const struct jdoc *d = &m->doc;
	uint32_t q = nq, v;

	if (!jis(d, q, ST_J_OBJ) || !jbool(d, jget(d, q, part)))
		q = cq;
	v = jget(d, q, part);
	if (!jbool(d, v))
		v = jget(d, mq, part);
	if (jbool(d, v))
		return jis(d, v, ST_J_TRUE);
	return !(m->adapter && !strcmp(m->adapter, "snowflake"));
}

static void mf_release(struct mfload *m)
{
	struct st_error ignored;

	/* After a failure elsewhere: the writer's own, if any, matters no more. */
	st_error_init(&ignored);
	catalog_dbt_pipe_finish(m->pipe, &ignored);
	m->pipe = NULL;
	st_strmap_release(&m->taken);
	for (size_t i = 0; i < m->nds; i++) {
		st_free(m->ds[i].name);
		st_free(m->ds[i].ident);
		st_free(m->ds[i].rels);
		st_free(m->ds[i].cols);
	}
	st_free(m->ds);
	st_free(m->rels);
	st_strmap_release(&m->dsof);
	st_strmap_release(&m->ephemeral);
	st_strmap_release(&m->names);
	st_jindex_release(&m->nodes);
	st_jindex_release(&m->sources);
	st_jindex_release(&m->cnodes);
	st_jindex_release(&m->csources);
	st_json_tape_release(&m->doc.t);
	st_json_tape_release(&m->cdoc.t);
	arena_release(&m->strs);
	catalog_ftsbuild_abandon(m->ftsb); /* before the rows it reads go */
	st_buf_release(&m->fts);
	st_free(m->fts_create);
	st_strmap_release(&m->reindex);
	st_strmap_release(&m->clean);
	st_free(m->tests);
	st_free(m->tc);
	st_free(m->cc);
	st_buf_release(&m->tjb);
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(m->q[i]);
	for (int i = 0; m->b && i < B_COUNT; i++)
		catalog_rowbatch_release(&m->b[i]);
	st_free(m->b);
}

/* A copy of s in m's arena, or NULL when memory runs out. */
static char *arena_strdup(struct mfload *m, const char *s)
{
	return (char *)jtext(&m->strs, m->x, s, strlen(s), 0);
}

static int err_at(struct mfload *m, const char *fmt, ...) ST_PRINTF(2, 3);
static int warn_at(struct mfload *m, const char *fmt, ...) ST_PRINTF(2, 3);

/* An error in the manifest, its message starting with a JSON path. */
static int err_at(struct mfload *m, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return catalog_dbt_diag(m->x, ST_SEV_ERROR, m->file, 0, 0, "%s", msg);
}

/* The dbt schema version N of ".../manifest/vN.json", or -1. */
static int schema_version(const char *url)
{
	const char *p = url ? strstr(url, "/manifest/v") : NULL;
	char *end;
	long v;

	if (!p)
		return -1;
	v = strtol(p + 11, &end, 10);
	if (end == p + 11 || strcmp(end, ".json") || v < 0 || v > 1000)
		return -1;
	return (int)v;
}

static int rank_of(const char *rtype)
{
	if (!strcmp(rtype, "model"))
		return R_MODEL;
	if (!strcmp(rtype, "snapshot"))
		return R_SNAPSHOT;
	if (!strcmp(rtype, "seed"))
		return R_SEED;
	if (!strcmp(rtype, "source"))
		return R_SOURCE;
	return -1;
}

static int enabled(struct mfload *m, uint32_t n)
{
	return !jis(&m->doc, mget(m, mget(m, n, "config"), "enabled"), ST_J_FALSE);
}

/* The folded identity of node n's relation (database \x1f schema \x1f identifier) and its
 * steward name: <database>-<schema>.<identifier>, or <schema>.<identifier> without a
 * database, each part with characters outside [A-Za-z0-9_-] replaced by '_'. */
static int relation(struct mfload *m, const struct rel *r, char **ident, char **name)
{
	enum { F_DB, F_SCHEMA, F_IDENT, F_ALIAS, F_NAME, F_QUOTING, F_CONFIG, F_N };
	enum { MAX_PART = 4096 }; /* the bound of the buffers ident and name were made in */
	static const struct word fk[F_N] = {W("database"), W("schema"), W("identifier"),
					    W("alias"),	   W("name"),	W("quoting"),
					    W("config")};
	const char *parts[3], *keys[3] = {"database", "schema", "identifier"};
	const struct jdoc *d = &m->doc;
	char id[MAX_PART + 1], nm[MAX_PART + 1], p[MAX_PART + 1];
	size_t idn = 0, nmn = 0;
	uint32_t f[F_N], cq, mq;
	int ret = -1;

	/* The node's members in one pass (a look-up each walked the node ten times). */
	jfields(d, r->node, fk, F_N, f);
	cq = jget(d, f[F_CONFIG], "quoting");
	mq = m->meta_quoting;
	parts[0] = jstr_of(m, d, f[F_DB]);
	parts[1] = jstr_of(m, d, f[F_SCHEMA]);
	parts[2] = jstr_of(m, d, r->rank == R_SOURCE ? f[F_IDENT] : f[F_ALIAS]);
	if (!parts[2])
		parts[2] = jstr_of(m, d, f[F_NAME]);
	*ident = *name = NULL;
	if (m->x->err->code)
		return -1;
	for (int i = 0; i < 3; i++) {
		size_t n;

		if (!parts[i]) {
			if (i == 0)
				continue;
			char b[512];

			err_at(m, "%s.%s: no %s", r->section, qk(r->uid, b, sizeof(b)),
			       i == 1 ? "schema" : "alias, identifier or name");
			goto out;
		}
		if ((n = strlen(parts[i])) > MAX_PART || idn + n + 1 > MAX_PART ||
		    nmn + (n ? n : 1) + (i < 2) > MAX_PART)
			goto nomem;
		memcpy(p, parts[i], n + 1);
		if (!quoted(m, f[F_QUOTING], cq, mq, keys[i]))
			fold(p, m->fold);
		/* ident: the parts, each ended by \x1f; name: each cleaned (add_clean()), then
		 * "-" after the database and "." after the schema. */
		memcpy(id + idn, p, n);
		idn += n;
		id[idn++] = '\x1f';
		if (!n)
			nm[nmn++] = '_';
		for (size_t k = 0; k < n; k++)
			nm[nmn++] = isalnum((unsigned char)p[k]) || p[k] == '_' || p[k] == '-' ? p[k] : '_';
		if (i < 2)
			nm[nmn++] = i == 0 ? '-' : '.';
	}
	id[idn] = nm[nmn] = '\0';
	if (!(*ident = st_strndup(id, idn)) || !(*name = st_strndup(nm, nmn)))
		goto nomem;
	return 0;
nomem:
	ret = oom(m->x);
out:
	st_free(*ident);
	st_free(*name);
	*ident = *name = NULL;
	return ret;
}

static int add_rel(struct mfload *m, const char *section, const char *uid, uint32_t node,
		   int rank)
{
	struct rel *r;

	if (st_grow(&m->rels, &m->rcap, m->nrels + 1, sizeof(*m->rels)))
		return oom(m->x);
	r = &m->rels[m->nrels++];
	r->uid = uid;
	r->node = node;
	r->section = section;
	r->rank = rank;
	r->cat = st_jindex_get(!strcmp(section, "sources") ? &m->csources : &m->cnodes,
			       m->cdoc.buf, &m->cdoc.t, uid, strlen(uid));
	return 0;
}

/* Finds or makes the dataset of relation ident (name: its steward name). */
static int dataset_for(struct mfload *m, size_t ri, char *ident, char *name)
{
	struct rel *r = &m->rels[ri];
	struct st_strent *at = st_strmap_gets(&m->names, name);
	struct dset *d;
	size_t di;

	if (at) {
		di = (size_t)at->val;
		d = &m->ds[di];
		if (strcmp(d->ident, ident)) {
			char b1[512], b2[512];
			int r1 = warn_at(m,
					 "%s.%s: relation maps to dataset '%s', as does %s.%s; it "
					 "is skipped",
					 r->section, qk(r->uid, b1, sizeof(b1)), name,
					 m->rels[d->rels[0]].section,
					 qk(m->rels[d->rels[0]].uid, b2, sizeof(b2)));

			st_free(ident);
			st_free(name);
			return r1;
		}
		st_free(ident);
		st_free(name);
	} else {
		if (st_grow(&m->ds, &m->dcap, m->nds + 1, sizeof(*m->ds))) {
			st_free(ident);
			st_free(name);
			return oom(m->x);
		}
		di = m->nds++;
		d = &m->ds[di];
		memset(d, 0, sizeof(*d));
		d->name = name;
		d->ident = ident;
		if (st_strmap_set(&m->names, name, (int64_t)di))
			return oom(m->x);
	}
	if (st_grow(&d->rels, &d->cap, d->nrels + 1, sizeof(*d->rels)))
		return oom(m->x);
	/* Keep the dataset's nodes in rank order: a model speaks before a seed or a source. */
	{
		size_t k = d->nrels++;

		while (k && m->rels[d->rels[k - 1]].rank > r->rank) {
			d->rels[k] = d->rels[k - 1];
			k--;
		}
		d->rels[k] = ri;
	}
	if (st_strmap_set(&m->dsof, r->uid, (int64_t)di))
		return oom(m->x);
	return 0;
}

/* Pass 1: every enabled model, seed, snapshot and source with a relation. */
static int collect_rels(struct mfload *m)
{
	static const char *const sections[] = {"nodes", "sources"};

	for (int s = 0; s < 2; s++) {
		uint32_t sec = jroot(&m->doc, sections[s]), n;

		if (sec && !jis(&m->doc, sec, ST_J_OBJ))
			return err_at(m, "%s: not an object", sections[s]);
		for (n = jobj_first(&m->doc, sec); n; n = jnext(&m->doc, n)) {
			static const struct word keys[2] = {W("resource_type"), W("config")};
			static const struct word ckeys[2] = {W("enabled"), W("materialized")};
			uint32_t f[2], cf[2];
			const char *rtype, *mat, *uid;
			int rank;

			/* jfields(), but a test (most nodes) is known by its resource_type. */
			f[0] = f[1] = 0;
			for (uint32_t i = jobj_first(&m->doc, n); i && !(f[0] && f[1]);
			     i = jnext(&m->doc, i)) {
				int k = jkey_of(&m->doc, i, keys, 2, f);

				if (k >= 0)
					f[k] = i;
				if (k == 0 && !s &&
				    st_json_str_is(m->doc.buf, jn(&m->doc, i), "test", 4))
					break;
			}
			if (!s && f[0] && st_json_str_is(m->doc.buf, jn(&m->doc, f[0]), "test", 4)) {
				if (st_grow(&m->tests, &m->tests_cap, m->ntests + 1, sizeof(*m->tests)))
					return oom(m->x);
				m->tests[m->ntests++] = n;
				continue;
			}
			jfields(&m->doc, f[1], ckeys, 2, cf);
			rtype = jstr_of(m, &m->doc, f[0]);
			if (m->x->err->code)
				return -1;
			if (!jis(&m->doc, n, ST_J_OBJ) || !rtype || (rank = rank_of(rtype)) < 0 ||
			    jis(&m->doc, cf[0], ST_J_FALSE))
				continue;
			mat = jstr_of(m, &m->doc, cf[1]);
			if (!(uid = jkey(m, &m->doc, n)))
				return -1;
			if (rank == R_MODEL && mat && !strcmp(mat, "ephemeral")) {
				if (st_strmap_set(&m->ephemeral, uid, (int64_t)n))
					return oom(m->x);
				continue;
			}
			if (add_rel(m, sections[s], uid, n, rank))
				return -1;
		}
	}
	m->meta_quoting = mget(m, m->meta, "quoting");
	for (size_t i = 0; i < m->nrels; i++) {
		char *ident, *name;

		if (relation(m, &m->rels[i], &ident, &name)) {
			if (m->x->err->code)
				return -1;
			continue; /* reported */
		}
		if (dataset_for(m, i, ident, name) && m->x->err->code)
			return -1;
	}
	return 0;
}

/* ---- columns and their PII ---- */

static struct col *find_col(struct dset *d, const char *name)
{
	int first = tolower((unsigned char)*name);

	/* The first letters first: strcasecmp() compares the same tolower() of each. */
	for (size_t i = 0; i < d->ncols; i++)
		if (tolower((unsigned char)*d->cols[i].name) == first &&
		    !strcasecmp(d->cols[i].name, name))
			return &d->cols[i];
	return NULL;
}

/* The column of d named name (as the database spells it when quoted), made when missing.
 * Its field path: name with every character outside [A-Za-z0-9_-] replaced by '_' (as
 * add_clean()), but a dot between two names stays, making a nested field (BigQuery's
 * catalog names struct members parent.member). A name over 4 KiB is refused as out of
 * memory (the bound of the buffer it was cleaned into before). */
static struct col *get_col(struct mfload *m, struct dset *d, const char *name, int is_quoted)
{
	struct col *c = find_col(d, name);
	size_t n = strlen(name);
	char *p;

	if (c)
		return c;
	if (n > 4096 || st_grow(&d->cols, &d->ccap, d->ncols + 1, sizeof(*d->cols)) ||
	    !(p = arena_alloc(&m->strs, (n ? n : 1) + 1))) {
		oom(m->x);
		return NULL;
	}
	c = &d->cols[d->ncols];
	memset(c, 0, sizeof(*c));
	if (!n)
		p[n++] = '_';
	else
		for (size_t i = 0; i < n; i++)
			p[i] = isalnum((unsigned char)name[i]) || name[i] == '_' || name[i] == '-' ||
					       (name[i] == '.' && i && name[i + 1] &&
						name[i - 1] != '.' && name[i + 1] != '.')
				       ? name[i]
				       : '_';
	p[n] = '\0';
	c->name = p;
	if (!is_quoted)
		fold(c->name, m->fold);
	d->ncols++;
	return c;
}

static int set_str(struct mfload *m, char **dst, const char *v)
{
	if (*dst || !v)
		return 0;
	if (!(*dst = arena_strdup(m, v)))
		return oom(m->x);
	return 0;
}

enum { K_PII, K_CATEGORY, K_TRANSFORM, K_NORMALIZE, K_REASON, K_COUNT };

static const char *const pii_keys[K_COUNT] = {"pii", "category", "transform", "normalize",
					      "pii_reason"};

/* The JSON path of w in out (n bytes; cut as snprintf() cuts). */
static void where_str(struct mfload *m, const struct where *w, char *out, size_t n)
{
	char b1[512], b2[512], idx[32];
	const char *cname = jkey(m, &m->doc, w->cv);

	snprintf(idx, sizeof(idx), "[%ld]", w->idx);
	join(out, n, w->r->section, ".", qk(w->r->uid, b1, sizeof(b1)), ".columns.",
	     qk(cname ? cname : "", b2, sizeof(b2)), w->suffix, w->idx < 0 ? "." : idx,
	     w->idx < 0 ? w->key : "", (char *)NULL);
}

/* One PII setting (k: K_*) of column c, from where. Checks the value and that it agrees
 * with what another source set. */
static int pii_value(struct mfload *m, struct col *c, int k, const char *v,
		     const struct where *w)
{
	char **dst = k == K_PII		? &c->pii
		     : k == K_CATEGORY	? &c->category
		     : k == K_TRANSFORM ? &c->transform
		     : k == K_NORMALIZE ? &c->normalize
					: &c->reason;
	char where[2048], pwhere[2048];

	if ((k == K_PII && !catalog_dbt_one_of(v, catalog_dbt_classes, CATALOG_DBT_NCLASSES)) ||
	    (k == K_TRANSFORM &&
	     !catalog_dbt_one_of(v, catalog_dbt_transforms, CATALOG_DBT_NTRANSFORMS)) ||
	    (k == K_NORMALIZE &&
	     !catalog_dbt_one_of(v, catalog_dbt_normalizers, CATALOG_DBT_NNORMALIZERS))) {
		where_str(m, w, where, sizeof(where));
		return err_at(m, "%s: unknown %s \"%s\"", where,
			      k == K_PII ? "class" : k == K_TRANSFORM ? "transform" : "normalizer",
			      v);
	}
	if (k == K_CATEGORY && !catalog_taxonomy_find(m->x->c->tax, v)) {
		struct st_error e = ST_ERROR_INIT; /* 1.5 kB to clear: only for this */

		if (catalog_category_check(v, &e)) {
			where_str(m, w, where, sizeof(where));
			return err_at(m, "%s: %s", where, e.msg);
		}
	}
	if (*dst && strcmp(*dst, v)) {
		where_str(m, w, where, sizeof(where));
		if (k == K_PII && c->ppath.r) {
			where_str(m, &c->ppath, pwhere, sizeof(pwhere));
			return err_at(m, "%s: \"%s\" conflicts with \"%s\" from %s", where, v, *dst,
				      pwhere);
		}
		return err_at(m, "%s: \"%s\" conflicts with \"%s\" set before for column '%s'",
			      where, v, *dst, c->name);
	}
	if (!*dst && !(*dst = arena_strdup(m, v)))
		return oom(m->x);
	if (k == K_PII && !c->ppath.r)
		c->ppath = *w;
	return 0;
}

static int warn_at(struct mfload *m, const char *fmt, ...) ST_PRINTF(2, 3);

/* A warning in the manifest, its message starting with a JSON path. */
static int warn_at(struct mfload *m, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return catalog_dbt_diag(m->x, ST_SEV_WARNING, m->file, 0, 0, "%s", msg);
}

/* PII settings from a meta object (column meta or config.meta) of column cv of relation r,
 * suffix its path there. category, transform, normalize and pii_reason are read only from
 * a meta that sets pii (or as pii_category, pii_transform, pii_normalize): a bare
 * `category` may mean something else to the team. pii: false means none; other values that
 * are not strings (true, a number, an object) say no class: a warning, and the column stays
 * unknown. */
static int pii_from_meta(struct mfload *m, struct col *c, uint32_t meta, const struct rel *r,
			 uint32_t cv, const char *suffix)
{
	static const char *const alt[] = {NULL, "pii_category", "pii_transform", "pii_normalize",
					  NULL};
	/* The members of pii_keys, then those of alt: read in one pass. */
	static const struct word mk[] = {W("pii"),	    W("category"),	W("transform"),
					 W("normalize"),    W("pii_reason"),	W("pii_category"),
					 W("pii_transform"), W("pii_normalize")};
	static const size_t alt_at[] = {0, 5, 6, 7, 0};
	const struct jdoc *d = &m->doc;
	uint32_t f[sizeof(mk) / sizeof(*mk)];
	int has_pii;

	if (!jsize(d, meta, ST_J_OBJ))
		return 0;
	jfields(d, meta, mk, sizeof(mk) / sizeof(*mk), f);
	has_pii = f[0] && !jnull(d, f[0]);
	for (int i = 0; i < K_COUNT; i++) {
		struct where w = {r, cv, suffix, pii_keys[i], -1};
		const char *s;
		uint32_t v = has_pii || !i ? f[i] : 0;

		if ((!v || jnull(d, v)) && alt[i]) {
			w.key = alt[i];
			v = f[alt_at[i]];
		}
		if (!v || jnull(d, v))
			continue;
		if (!i && jis(d, v, ST_J_FALSE)) {
			if (pii_value(m, c, K_PII, "none", &w) && m->x->err->code)
				return -1;
			continue;
		}
		if (!jis(d, v, ST_J_STR)) {
			char where[2048];

			where_str(m, &w, where, sizeof(where));
			if (warn_at(m,
				    "%s: not a %s; the column stays unknown (use a string such as "
				    "%s)",
				    where, i ? "string" : "pii class",
				    i ? "user.contact.email" : "direct, indirect or none"))
				return -1;
			continue;
		}
		if (!(s = jsv(m, d, v)))
			return -1;
		if (pii_value(m, c, i, s, &w) && m->x->err->code)
			return -1;
	}
	return 0;
}

/* PII settings from tags: pii:<class>, pii-category:<key>, pii-transform:<t>,
 * pii-normalize:<n>. */
static int pii_from_tags(struct mfload *m, struct col *c, uint32_t tags, const struct rel *r,
			 uint32_t cv, const char *suffix)
{
	static const struct {
		const char *prefix;
		size_t n;
		int key;
	} map[] = {{"pii:", 4, K_PII},
		   {"pii-category:", 13, K_CATEGORY},
		   {"pii-transform:", 14, K_TRANSFORM},
		   {"pii-normalize:", 14, K_NORMALIZE}};
	long i = 0;

	for (uint32_t t = jarr_first(&m->doc, tags); t; t = jnext(&m->doc, t), i++) {
		const char *s;

		/* Only a tag that starts with "pii" can set anything. */
		if (jis(&m->doc, t, ST_J_STR) && !jn(&m->doc, t)->escaped &&
		    (jn(&m->doc, t)->end - jn(&m->doc, t)->start < 5 ||
		     memcmp(m->doc.buf + jn(&m->doc, t)->start + 1, "pii", 3)))
			continue;
		s = jsv(m, &m->doc, t);
		if (m->x->err->code)
			return -1;
		for (size_t k = 0; s && k < sizeof(map) / sizeof(*map); k++) {
			size_t n = map[k].n;
			struct where w = {r, cv, suffix, NULL, i};

			if (strncmp(s, map[k].prefix, n))
				continue;
			/* A tag such as pii:yes is a team's own convention: a warning, not an
			 * error. */
			if (map[k].key == K_PII &&
			    !catalog_dbt_one_of(s + n, catalog_dbt_classes, CATALOG_DBT_NCLASSES)) {
				char where[2048];

				where_str(m, &w, where, sizeof(where));
				if (warn_at(m, "%s: tag \"%s\" names no pii class; ignored", where,
					    s))
					return -1;
				continue;
			}
			if (pii_value(m, c, map[k].key, s + n, &w) && m->x->err->code)
				return -1;
		}
	}
	return 0;
}

struct catcol {
	int64_t index;
	size_t seq;
	uint32_t v; /* the column's node in catalog.json */
};

static int by_index(const void *a, const void *b)
{
	const struct catcol *x = a, *y = b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Columns of dataset d: the catalog.json's (the database's, in its order), then those the
 * manifest documents; descriptions, types, tags, meta and PII merged by name. */
static int build_cols(struct mfload *m, struct dset *d)
{
	const struct jdoc *cd = &m->cdoc, *md = &m->doc;

	for (size_t k = 0; k < d->nrels; k++) {
		const struct rel *r = &m->rels[d->rels[k]];
		uint32_t cols = jget(cd, r->cat, "columns");
		size_t n = 0, want = jsize(cd, cols, ST_J_OBJ);
		struct catcol *v;

		if (!want)
			continue;
		if (!(v = st_calloc(want, sizeof(*v))))
			return oom(m->x);
		for (uint32_t cv = jobj_first(cd, cols); cv && n < want; cv = jnext(cd, cv)) {
			v[n].index = jint(cd, jget(cd, cv, "index"));
			v[n].seq = n;
			v[n++].v = cv;
		}
		qsort(v, n, sizeof(*v), by_index);
		for (size_t i = 0; i < n; i++) {
			const char *nm = jstr(m, cd, v[i].v, "name");
			struct col *c;

			if (!nm && !m->x->err->code)
				nm = jkey(m, cd, v[i].v);
			if (!nm || !(c = get_col(m, d, nm, 1)) ||
			    set_str(m, &c->type, jstr(m, cd, v[i].v, "type")) ||
			    set_str(m, &c->desc, jstr(m, cd, v[i].v, "comment")) || m->x->err->code) {
				st_free(v);
				return -1;
			}
		}
		st_free(v);
	}
	for (size_t k = 0; k < d->nrels; k++) {
		const struct rel *r = &m->rels[d->rels[k]];
		uint32_t cols = mget(m, r->node, "columns");

		for (uint32_t cv = jobj_first(md, cols); cv; cv = jnext(md, cv)) {
			enum { F_NAME, F_CONFIG, F_TAGS, F_META, F_QUOTE, F_DESC, F_TYPE, F_N };
			static const struct word keys[F_N] = {
				W("name"), W("config"),	     W("tags"),	    W("meta"),
				W("quote"), W("description"), W("data_type")};
			static const struct word ckeys[2] = {W("meta"), W("tags")};
			uint32_t f[F_N], cf[2];
			const char *nm, *cname;
			uint32_t cfg, tags, meta;
			struct col *c;

			jfields(md, cv, keys, F_N, f);
			nm = jstr_of(m, md, f[F_NAME]);
			cname = jkey(m, md, cv);
			cfg = f[F_CONFIG];
			tags = f[F_TAGS];
			meta = f[F_META];
			if (!cname)
				return -1;
			if (!jis(md, cv, ST_J_OBJ))
				continue;
			if (!(c = get_col(m, d, nm ? nm : cname, jis(md, f[F_QUOTE], ST_J_TRUE))) ||
			    set_str(m, &c->desc, jstr_of(m, md, f[F_DESC])) ||
			    set_str(m, &c->type, jstr_of(m, md, f[F_TYPE])) || m->x->err->code)
				return -1;
			jfields(md, cfg, ckeys, 2, cf); /* config.meta, config.tags */
			if (pii_from_meta(m, c, meta, r, cv, ".meta") ||
			    pii_from_meta(m, c, cf[0], r, cv, ".config.meta") ||
			    pii_from_tags(m, c, tags, r, cv, ".tags") ||
			    pii_from_tags(m, c, cf[1], r, cv, ".config.tags"))
				return -1;
			if (jsize(md, meta, ST_J_OBJ) && !c->meta)
				c->meta = meta;
			if (jsize(md, tags, ST_J_ARR) && !c->tags)
				c->tags = tags;
		}
	}
	return 0;
}

/* Columns that clean to one field name (order id, order_id) cannot both be fields: the
 * later one is skipped, with a warning. */
static int check_cols(struct mfload *m, struct dset *d)
{
	const struct rel *first = &m->rels[d->rels[0]];
	uint32_t small[256], *slot = small; /* column + 1, 0 when empty */
	size_t ns = 16;
	char b1[512];
	int ret = 0;

	/* A set of the names seen, pointing at the columns (a map of copies cost a strdup()
	 * per column). */
	while (ns < 2 * d->ncols)
		ns *= 2;
	if (ns > sizeof(small) / sizeof(*small) && !(slot = st_calloc(ns, sizeof(*slot))))
		return oom(m->x);
	if (slot == small)
		memset(small, 0, ns * sizeof(*small));
	for (size_t i = 0; !ret && i < d->ncols; i++) {
		const char *name = d->cols[i].name;
		size_t at = st_strmap_hash(name, strlen(name)) & (ns - 1);

		while (slot[at] && strcmp(d->cols[slot[at] - 1].name, name))
			at = (at + 1) & (ns - 1);
		if (!slot[at]) {
			slot[at] = (uint32_t)i + 1;
			continue;
		}
		d->cols[i].skip = 1;
		ret = warn_at(m,
			      "%s.%s: two columns have the name '%s' in steward; the second is "
			      "skipped",
			      first->section, qk(first->uid, b1, sizeof(b1)), name);
	}
	if (slot != small)
		st_free(slot);
	return m->x->err->code ? -1 : 0;
}

/* ---- storing ---- */

/* A dataset's properties are written in one run, right after its row: ord counts from 0
 * for each new dataset id. */
static int prop_to(struct mfload *m, int64_t id, const char *key, const char *value, int kept)
{
	if (!value)
		return 0;
	if (id != m->prop_id) {
		m->prop_id = id;
		m->prop_ord = 0;
	}
	return bint(m, B_PROP, id) || bint(m, B_PROP, m->prop_ord++) ||
	       (kept ? bkept(m, B_PROP, key) || bkept(m, B_PROP, value)
		     : btext(m, B_PROP, key) || btext(m, B_PROP, value));
}

static int prop(struct mfload *m, int64_t id, const char *key, const char *value)
{
	return prop_to(m, id, key, value, 0);
}

/* The same for a key and a value that stay until the manifest is done (see bkept()). */
static int prop_kept(struct mfload *m, int64_t id, const char *key, const char *value)
{
	return prop_to(m, id, key, value, 1);
}

/* Node v of the manifest as JSON text, what jansson's json_dumps() wrote with
 * JSON_COMPACT | JSON_ENCODE_ANY (| JSON_SORT_KEYS with sort), in b, emptied first; NULL
 * with x->err when memory runs out. Valid until b changes. */
static const char *dump_json(struct mfload *m, uint32_t v, int sort, struct st_buf *b)
{
	st_buf_reset(b);
	if (st_json_dump(m->doc.buf, &m->doc.t, v, sort ? ST_JDUMP_SORT_KEYS : 0, b)) {
		oom(m->x);
		return NULL;
	}
	return st_buf_str(b);
}

/* A field's tags or meta (node v, 0 for none: SQL NULL) as JSON text, the next value of the
 * row of B_FIELD; b is for the text. */
static int bjson(struct mfload *m, uint32_t v, struct st_buf *b)
{
	const char *s = NULL;

	if (v && !(s = dump_json(m, v, 1, b)))
		return -1;
	return btextn(m, B_FIELD, s, s ? b->len : 0);
}

/* A property of JSON node v (not written when absent, null or {}); b is for the text. */
static int prop_json(struct mfload *m, int64_t id, const char *key, uint32_t v, struct st_buf *b)
{
	const char *s;

	if (!v || jnull(&m->doc, v) || (jis(&m->doc, v, ST_J_OBJ) && !jn(&m->doc, v)->count))
		return 0;
	if (!(s = dump_json(m, v, 1, b)))
		return -1;
	return prop(m, id, key, s);
}

/* Free text as it is stored: without trailing white space (*n bytes of text), or, when the
 * catalog's scrubber found personal data in it, *clean (st_free() it) with that replaced, and
 * a warning that names where it is (where, then name unless NULL; never the value). A text
 * the scrubber found nothing in before is not scrubbed again (the scrubber is a function of
 * the text). text is a string of strs. Returns 0, or -1 (out of memory, or the warning
 * stopped the load). */
static int scrubbed(struct mfload *m, const char *text, const char *where, const char *name,
		    size_t *n, char **clean)
{
	struct catalog *c = m->x->c;
	size_t found = 0;
	char path[1024];

	*n = strlen(text);
	while (*n && strchr(" \t\n", text[*n - 1]))
		(*n)--;
	*clean = NULL;
	if (!c->scrub || st_strmap_get(&m->clean, text, *n))
		return 0;
	*clean = c->scrub(text, *n, &found, c->scrub_ctx);
	if (!found) {
		/* Only a cache: when memory runs out, it remembers nothing. */
		int kept = st_strmap_put(&m->clean, text, *n, NULL);

		(void)kept;
		return 0;
	}
	if (!*clean)
		return oom(m->x);
	join(path, sizeof(path), where, name ? name : "", (char *)NULL);
	if (catalog_dbt_diag(
		    m->x, ST_SEV_WARNING, m->file, 0, 0,
		    "%s: holds what looks like personal data (%zu value%s); it is stored with "
		    "%s replaced",
		    path, found, found == 1 ? "" : "s", found == 1 ? "it" : "them")) {
		st_free(*clean);
		*clean = NULL;
		return -1;
	}
	return 0;
}

/* Free text as scrubbed() stores it: *out (NULL when text is) of *n bytes, which *clean
 * holds when it is not text (st_free() it). Returns 0, or -1 as scrubbed(). */
static int scrub_text(struct mfload *m, const char *text, const char *where, const char *name,
		      const char **out, size_t *n, char **clean)
{
	*out = text;
	*n = 0;
	*clean = NULL;
	if (!text)
		return 0;
	if (scrubbed(m, text, where, name, n, clean))
		return -1;
	if (*clean) {
		*out = *clean;
		*n = strlen(*clean);
	}
	return 0;
}

/* Binds free text after the catalog's scrubber (scrubbed()). */
static int bind_scrubbed(struct mfload *m, sqlite3_stmt *st, int i, const char *text,
			 const char *where)
{
	char *clean;
	size_t n;

	if (!text)
		return sqlite3_bind_null(st, i) == SQLITE_OK ? 0 : -1;
	if (scrubbed(m, text, where, NULL, &n, &clean))
		return -1;
	sqlite3_bind_text(st, i, clean ? clean : text, clean ? -1 : (int)n, SQLITE_TRANSIENT);
	st_free(clean);
	return 0;
}

/* As bind_scrubbed(), into the current row of batch i; *out and *n get the text stored
 * (NULL: none), valid until *clean is freed (scrub_text()). */
static int batch_scrubbed(struct mfload *m, int i, const char *text, const char *where,
			  const char *name, const char **out, size_t *n, char **clean)
{
	return scrub_text(m, text, where, name, out, n, clean) ||
	       (*clean ? btextn(m, i, *out, *n) : bkeptn(m, i, *out, *n));
}

/* Appends a text of a search row to m->fts (s NULL: SQL NULL). */
static int fts_text(struct mfload *m, const char *s, size_t n)
{
	int64_t len = s ? (int64_t)n : -1;

	return st_buf_add(&m->fts, &len, sizeof(len)) || (n && st_buf_add(&m->fts, s, n))
		       ? oom(m->x)
		       : 0;
}

/* Appends a field's part of a search row's fields text (catalog_load()'s
 * path || coalesce(' ' || description, '') || coalesce(' ' || category, '')). */
static int fts_field(struct st_buf *b, const char *path, const char *desc, size_t dn,
		     const char *category)
{
	return (b->len && st_buf_add(b, " ", 1)) || st_buf_adds(b, path) ||
	       (desc && (st_buf_add(b, " ", 1) || (dn && st_buf_add(b, desc, dn)))) ||
	       (category && (st_buf_add(b, " ", 1) || st_buf_adds(b, category)));
}

/* Binds parameter i of statement q (an integer, or text s of n bytes, NULL: SQL NULL), or
 * queues it for the writer thread, which binds in order. Return 0, or -1 with x->err. */
static int qint(struct mfload *m, int q, int i, int64_t v)
{
	if (m->pipe)
		return catalog_dbt_pipe_int(m->pipe, PIPE_Q(q), v) ? oom(m->x) : 0;
	return sqlite3_bind_int64(m->q[q], i, v) == SQLITE_OK
		       ? 0
		       : st_sql_error(m->x->err, m->x->db, q_what[q]);
}

static int qtext(struct mfload *m, int q, int i, const char *s, size_t n)
{
	if (m->pipe)
		return catalog_dbt_pipe_text(m->pipe, PIPE_Q(q), s, n) ? oom(m->x) : 0;
	return (s ? sqlite3_bind_text(m->q[q], i, s, (int)n, SQLITE_TRANSIENT)
		  : sqlite3_bind_null(m->q[q], i)) == SQLITE_OK
		       ? 0
		       : st_sql_error(m->x->err, m->x->db, q_what[q]);
}

/* Steps statement q (here, or queued after its parameters). */
static int qstep(struct mfload *m, int q)
{
	if (m->pipe)
		return catalog_dbt_pipe_step(m->pipe, PIPE_Q(q)) ? oom(m->x) : 0;
	return catalog_dbt_step(m->x, m->q[q], q_what[q]);
}

/* catalog_dbt_pipe_idle()'s work while the writer is behind: the next search row. */
static int fts_idle(void *u)
{
	struct mfload *m = u;

	return catalog_ftsbuild_step(m->ftsb, m->fts_ready);
}

/* Writes the search rows gathered in m->fts (see Q_FTS). Returns 0, or -1 with x->err. */
static int store_search_rows(struct mfload *m)
{
	const char *p = m->fts.p;

	if (m->ftsb) { /* open since the pipe started: the rest of the rows on its thread */
		catalog_dbt_pipe_idle(m->pipe, NULL, NULL);
		if (m->fts.len && m->nfts >= CATALOG_FTS_BUILD_MIN &&
		    m->fts.len <= CATALOG_FTS_BUILD_MAX && !catalog_ftsbuild_run(m->ftsb))
			return 0;
		catalog_ftsbuild_abandon(m->ftsb);
		m->ftsb = NULL;
	}
	if (!m->fts.len)
		return 0;
	if (qstep(m, Q_FTS_SIZE))
		return -1;
	for (size_t at = 0; at < m->fts.len;) {
		const char *t[5];
		int64_t id, len[5];

		memcpy(&id, p + at, sizeof(id));
		at += sizeof(id);
		for (int k = 0; k < 5; k++) {
			memcpy(&len[k], p + at, sizeof(len[k]));
			at += sizeof(len[k]);
			t[k] = len[k] < 0 ? NULL : p + at;
			at += len[k] < 0 ? 0 : (size_t)len[k];
		}
		if (qint(m, Q_FTS, 1, id))
			return -1;
		for (int k = 0; k < 5; k++)
			if (qtext(m, Q_FTS, k + 2, t[k], t[k] ? (size_t)len[k] : 0))
				return -1;
		if (qstep(m, Q_FTS))
			return -1;
	}
	return 0;
}

/* Copies the index built beside the writer (m->ftsb) into the catalog's, once the writer is
 * done; when the build failed, writes the rows here instead. Returns 0, or -1 with x->err. */
static int store_fts_built(struct mfload *m)
{
	int r;

	if (!m->ftsb)
		return 0;
	r = catalog_ftsbuild_finish(m->ftsb, m->x->db, m->x->err);
	m->ftsb = NULL;
	st_free(m->fts_create);
	m->fts_create = NULL;
	return r < 0 ? -1 : r ? store_search_rows(m) : 0;
}

/* The owner of node n: meta.owner (node or config), else its group's owner. */
static const char *owner_of(struct mfload *m, uint32_t n)
{
	uint32_t cfg = mget(m, n, "config"), groups = jroot(&m->doc, "groups"), grp, go;
	const char *o = mstr(m, mget(m, n, "meta"), "owner"), *g;

	if (!o)
		o = mstr(m, mget(m, cfg, "meta"), "owner");
	if (o)
		return o;
	g = mstr(m, n, "group");
	if (!g)
		g = mstr(m, cfg, "group");
	if (!g)
		return NULL;
	grp = mget(m, groups, g);
	if (!grp) /* groups are keyed by unique_id: group.<package>.<name> */
		for (uint32_t v = jobj_first(&m->doc, groups); v; v = jnext(&m->doc, v)) {
			const char *nm = mstr(m, v, "name");

			if (nm && !strcmp(nm, g))
				grp = v;
		}
	go = mget(m, grp, "owner");
	return mstr(m, go, "name") ? mstr(m, go, "name") : mstr(m, go, "email");
}

static const char *kind_of_rank(int rank)
{
	return rank == R_SOURCE ? "source" : "table";
}

/* The relation as the adapter writes it: relation_name, or database.schema.identifier. */
static int location_of(struct mfload *m, const struct rel *r, struct st_buf *b)
{
	const char *rn = mstr(m, r->node, "relation_name");
	const char *parts[3] = {mstr(m, r->node, "database"), mstr(m, r->node, "schema"),
				r->rank == R_SOURCE ? mstr(m, r->node, "identifier")
						    : mstr(m, r->node, "alias")};

	if (m->x->err->code)
		return -1;
	if (rn)
		return st_buf_adds(b, rn);
	for (int i = 0, first = 1; i < 3; i++)
		if (parts[i]) {
			if (st_buf_addf(b, "%s%s", first ? "" : ".", parts[i]))
				return -1;
			first = 0;
		}
	return 0;
}

static int add_tags(struct mfload *m, struct st_strmap *set, uint32_t tags)
{
	for (uint32_t t = jarr_first(&m->doc, tags); t; t = jnext(&m->doc, t)) {
		const char *s = jsv(m, &m->doc, t);

		if (m->x->err->code || (s && st_strmap_set(set, s, 1)))
			return -1;
	}
	return 0;
}


static int touch(struct mfload *m, const char *name)
{
	return bkept(m, B_TOUCH, name);
}

/* Whether dataset name (version 1) comes from another dbt manifest: 1 with its display
 * name in *file (a new string), 0 when a descriptor declares it, -1 with x->err. */
static int other_manifest(struct mfload *m, const char *name, char **file)
{
	sqlite3_stmt *st;
	int rc, bad = 0, ret;

	*file = NULL;
	if (st_sql_prepare(m->x->db, &st,
			   "SELECT f.display FROM datasets d JOIN files f ON f.id = d.file_id"
			   " JOIN dbt_manifests x ON x.file_id = d.file_id"
			   " WHERE d.name = ?1 AND d.version = 1",
			   m->x->err))
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*file = st_sql_col_strdup(st, 0, &bad);
	sqlite3_finalize(st);
	if (bad)
		return oom(m->x);
	ret = rc == SQLITE_ROW	  ? 1
	      : rc == SQLITE_DONE ? 0
				  : st_sql_error(m->x->err, m->x->db, "cannot read dataset");
	return ret;
}

/* The relation as the database names it, folded: database.schema.identifier (for
 * matching lineage from other tools, such as OpenLineage's dbt integration). Once per
 * dataset. */
static int relation_prop(struct mfload *m, struct dset *d)
{
	char rel[4096];
	size_t n = 0;

	if (d->relation_done++)
		return 0;
	for (const char *p = d->ident; *p && n + 1 < sizeof(rel); p++)
		rel[n++] = *p == '\x1f' ? '.' : *p;
	while (n && rel[n - 1] == '.')
		n--;
	rel[n] = '\0';
	return prop(m, d->id, "dbt.relation", rel);
}

/* A column's pii as stored: the class constant (the same address for the same class, so
 * that the writer need not bind it again), or "unknown" when none was set. */
static const char *class_of(const char *pii)
{
	for (size_t i = 0; pii && i < CATALOG_DBT_NCLASSES; i++)
		if (!strcmp(pii, catalog_dbt_classes[i]))
			return catalog_dbt_classes[i];
	return pii ? pii : "unknown";
}

/* Writes dataset d: its row, aliases, properties, tags and fields. */
static int store_ds(struct mfload *m, struct dset *d)
{
	const struct rel *first = &m->rels[d->rels[0]];
	const struct jdoc *cd = &m->cdoc;
	sqlite3_stmt *st = m->q[Q_DS_INS];
	struct st_strmap tagset;
	const char *desc = NULL, *owner = NULL, *dtext;
	struct st_buf tb, loc, fb, jb;
	int64_t npii = 0;
	size_t dn, nfields = 0;
	int ret = -1, certified = 0;
	char b1[512], where[1024], cpre[sizeof(where)], *dclean = NULL;

	memset(&tagset, 0, sizeof(tagset));
	st_buf_init(&tb, 1 << 16);
	st_buf_init(&loc, 4096);
	st_buf_init(&fb, DBT_MAX_FILE);
	st_buf_init(&jb, DBT_MAX_FILE);
	for (size_t k = 0; k < d->nrels; k++) {
		uint32_t n = m->rels[d->rels[k]].node;

		if (!desc)
			desc = mstr(m, n, "description");
		if (!owner)
			owner = owner_of(m, n);
		if (add_tags(m, &tagset, mget(m, n, "tags")))
			goto nomem;
	}
	for (size_t i = 0; i < tagset.n; i++) {
		const char *tag = tagset.e[i].key;

		if ((tb.len && st_buf_add(&tb, " ", 1)) || st_buf_adds(&tb, tag))
			goto nomem;
		certified |= !strcmp(tag, "certified");
	}
	for (size_t i = 0; i < d->ncols; i++)
		if (!d->cols[i].skip && d->cols[i].pii && strcmp(d->cols[i].pii, "none") &&
		    strcmp(d->cols[i].pii, "unknown"))
			npii++;
	if (location_of(m, first, &loc))
		goto nomem;
	join(where, sizeof(where), first->section, ".", qk(first->uid, b1, sizeof(b1)),
	     ".description", (char *)NULL);
	if (m->pipe && st_strmap_gets(&m->taken, d->name) && pipe_stop(m))
		goto out; /* the name is declared already: refused below, as before */
	if (scrub_text(m, desc, where, NULL, &dtext, &dn, &dclean))
		goto out;
	if (m->pipe) {
		d->id = m->next_id++;
		if (bkept(m, B_DS, d->name) || bint(m, B_DS, 1) ||
		    bkept(m, B_DS, kind_of_rank(first->rank)) ||
		    (dclean ? btextn(m, B_DS, dtext, dn) : bkeptn(m, B_DS, dtext, dn)) ||
		    bkept(m, B_DS, owner) || bkept(m, B_DS, m->adapter) ||
		    btextn(m, B_DS, loc.len ? loc.p : "", loc.len) ||
		    btextn(m, B_DS, tb.len ? tb.p : "", tb.len) || bint(m, B_DS, certified) ||
		    bint(m, B_DS, npii) || bint(m, B_DS, m->file_id) || bint(m, B_DS, 0) ||
		    bint(m, B_DS, 0) || bint(m, B_DS, m->x->gen) || bint(m, B_DS, d->id))
			goto out;
		goto stored;
	}
	catalog_dbt_bind(st, 1, d->name);
	catalog_dbt_bind(st, 2, kind_of_rank(first->rank));
	if (dtext)
		sqlite3_bind_text(st, 3, dtext, (int)dn, SQLITE_TRANSIENT);
	catalog_dbt_bind(st, 4, owner);
	catalog_dbt_bind(st, 5, m->adapter);
	catalog_dbt_bind(st, 6, st_buf_str(&loc));
	catalog_dbt_bind(st, 7, st_buf_str(&tb));
	sqlite3_bind_int(st, 8, certified);
	sqlite3_bind_int64(st, 9, npii);
	sqlite3_bind_int64(st, 10, m->file_id);
	sqlite3_bind_int64(st, 11, m->x->gen);
	{
		int rc = sqlite3_step(st);

		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc == SQLITE_CONSTRAINT_UNIQUE) {
			char *other = NULL;
			int r = other_manifest(m, d->name, &other);

			if (r > 0) /* two projects on one table: the first keeps it */
				ret = warn_at(
					m,
					"%s.%s: dataset '%s' is already declared by %s; it is "
					"kept there, and lineage joins it by name",
					first->section, qk(first->uid, b1, sizeof(b1)), d->name,
					other);
			else if (!r)
				ret = err_at(m,
					     "%s.%s: dataset '%s' is already declared by a "
					     "descriptor (a descriptor adds to a dbt dataset with "
					     "'extends')",
					     first->section, qk(first->uid, b1, sizeof(b1)),
					     d->name);
			st_free(other);
			goto out;
		}
		if (rc != SQLITE_DONE) {
			st_sql_error(m->x->err, m->x->db, "cannot store dataset");
			goto out;
		}
	}
	d->id = sqlite3_last_insert_rowid(m->x->db);
stored:
	if (st_strmap_gets(&m->reindex, d->name) && touch(m, d->name))
		goto out;
	for (size_t i = 0; i < tagset.n; i++)
		if (bint(m, B_TAG, d->id) || btext(m, B_TAG, tagset.e[i].key))
			goto out;
	for (size_t k = 0; k < d->nrels; k++) {
		const struct rel *r = &m->rels[d->rels[k]];
		uint32_t cfg = mget(m, r->node, "config");
		uint32_t stats = jget(cd, r->cat, "stats");

		if (bkept(m, B_ALIAS, r->uid) || bint(m, B_ALIAS, d->id) ||
		    bkept(m, B_ALIAS, "dbt") || prop_kept(m, d->id, "dbt.unique_id", r->uid) ||
		    relation_prop(m, d) ||
		    prop_kept(m, d->id, "dbt.resource_type", mstr(m, r->node, "resource_type")) ||
		    prop_kept(m, d->id, "dbt.materialized", mstr(m, cfg, "materialized")) ||
		    prop_kept(m, d->id, "dbt.path", mstr(m, r->node, "original_file_path")) ||
		    prop_kept(m, d->id, "dbt.package", mstr(m, r->node, "package_name")) ||
		    prop_kept(m, d->id, "dbt.group",
			 mstr(m, r->node, "group") ? mstr(m, r->node, "group")
						   : mstr(m, cfg, "group")) ||
		    prop_kept(m, d->id, "dbt.access", mstr(m, r->node, "access")) ||
		    prop_kept(m, d->id, "dbt.loader", mstr(m, r->node, "loader")) ||
		    prop_json(m, d->id, "dbt.meta", mget(m, r->node, "meta"), &jb) ||
		    prop_kept(m, d->id, "dbt.catalog_type",
			 jstr(m, cd, jget(cd, r->cat, "metadata"), "type")) ||
		    m->x->err->code)
			goto out;
		for (uint32_t sv = jobj_first(cd, stats); sv; sv = jnext(cd, sv)) {
			char key[600], val[600];
			uint32_t v = jget(cd, sv, "value");
			const char *sk = jkey(m, cd, sv), *s;
			int64_t iv;
			double dv;

			if (!sk)
				goto out;
			if (!jis(cd, jget(cd, sv, "include"), ST_J_TRUE) || !v)
				continue;
			snprintf(key, sizeof(key), "dbt.stats.%s", sk);
			if (jis(cd, v, ST_J_STR)) {
				if (!(s = jsv(m, cd, v)))
					goto out;
				snprintf(val, sizeof(val), "%s", s);
			} else if (jis(cd, v, ST_J_NUM) && !st_json_int(cd->buf, jn(cd, v), &iv))
				snprintf(val, sizeof(val), "%lld", (long long)iv);
			else if (jis(cd, v, ST_J_NUM) && !st_json_double(cd->buf, jn(cd, v), &dv))
				snprintf(val, sizeof(val), "%g", dv);
			else
				snprintf(val, sizeof(val), "%s",
					 jis(cd, v, ST_J_TRUE) ? "true" : "false");
			if (prop(m, d->id, key, val))
				goto out;
		}
	}
	join(cpre, sizeof(cpre), first->section, ".", qk(first->uid, b1, sizeof(b1)), ".columns.",
	     (char *)NULL);
	for (size_t i = 0; i < d->ncols; i++) {
		struct col *c = &d->cols[i];
		const char *rtext, *ftext;
		char *rclean = NULL, *fclean = NULL;
		size_t rn, fn;
		int r;

		if (c->skip)
			continue;
		r = bint(m, B_FIELD, d->id) || bint(m, B_FIELD, (int64_t)i) ||
		    bkept(m, B_FIELD, c->name) || bint(m, B_FIELD, depth_of(c->name)) ||
		    bkept(m, B_FIELD, c->type) || bkept(m, B_FIELD, class_of(c->pii)) ||
		    bkept(m, B_FIELD, c->category) || bkept(m, B_FIELD, c->transform) ||
		    bkept(m, B_FIELD, c->normalize) ||
		    batch_scrubbed(m, B_FIELD, c->reason, cpre, c->name, &rtext, &rn, &rclean) ||
		    batch_scrubbed(m, B_FIELD, c->desc, cpre, c->name, &ftext, &fn, &fclean) ||
		    bint(m, B_FIELD, 0) || bint(m, B_FIELD, 0) || bjson(m, c->tags, &jb) ||
		    bjson(m, c->meta, &jb);
		if (!r && fts_field(&fb, c->name, ftext, fn, c->category))
			r = oom(m->x);
		st_free(rclean);
		st_free(fclean);
		if (r)
			goto out;
		nfields++;
	}
	if (!st_strmap_gets(&m->reindex, d->name) &&
	    (st_buf_add(&m->fts, &d->id, sizeof(d->id)) || fts_text(m, d->name, strlen(d->name)) ||
	     fts_text(m, dtext, dn) || fts_text(m, st_buf_str(&tb), tb.len) ||
	     fts_text(m, owner, owner ? strlen(owner) : 0) ||
	     fts_text(m, nfields ? fb.p : NULL, fb.len)))
		goto nomem;
	m->nfts += !st_strmap_gets(&m->reindex, d->name);
	m->fts_ready = m->fts.len;
	ret = 0;
	goto out;
nomem:
	ret = oom(m->x);
out:
	st_strmap_release(&tagset);
	st_buf_release(&tb);
	st_buf_release(&loc);
	st_buf_release(&fb);
	st_buf_release(&jb);
	st_free(dclean);
	return ret;
}

/* Adds the datasets that node uid stands for to set: itself, or through an ephemeral
 * model, the datasets it is built from. seen holds the ephemeral models already walked,
 * so a cycle or a diamond among them costs one visit each. */
static int upstream_of(struct mfload *m, const char *uid, struct st_strmap *set, struct st_strmap *seen)
{
	struct st_strent *at = st_strmap_gets(&m->dsof, uid), *eph;
	uint32_t deps;

	if (at)
		return st_strmap_set(set, m->ds[at->val].name, 1) ? oom(m->x) : 0;
	eph = st_strmap_gets(&m->ephemeral, uid);
	if (!eph || st_strmap_gets(seen, uid))
		return 0; /* not a dataset (disabled, a metric, a macro), or walked already */
	if (st_strmap_set(seen, uid, 1))
		return oom(m->x);
	deps = mget(m, mget(m, (uint32_t)eph->val, "depends_on"), "nodes");
	for (uint32_t dep = jarr_first(&m->doc, deps); dep; dep = jnext(&m->doc, dep)) {
		const char *s = jsv(m, &m->doc, dep);

		if (m->x->err->code || (s && upstream_of(m, s, set, seen)))
			return -1;
	}
	return 0;
}

/* Lineage into dataset name (row id) from what the manifest nodes nodes_of[0, n) depend on. */
static int store_edges(struct mfload *m, int64_t id, const char *name, const uint32_t *nodes_of,
		       size_t n)
{
	struct st_strmap set, seen;
	int ret = -1;

	memset(&set, 0, sizeof(set));
	memset(&seen, 0, sizeof(seen));
	for (size_t i = 0; i < n; i++) {
		uint32_t deps = mget(m, mget(m, nodes_of[i], "depends_on"), "nodes");

		for (uint32_t dep = jarr_first(&m->doc, deps); dep; dep = jnext(&m->doc, dep)) {
			const char *s = jsv(m, &m->doc, dep);

			if (m->x->err->code || (s && upstream_of(m, s, &set, &seen)))
				goto out;
		}
	}
	for (size_t i = 0; i < set.n; i++) {
		const char *src = set.e[i].key;

		if (!strcmp(src, name))
			continue;
		if (bint(m, B_EDGE, id) || btext(m, B_EDGE, src) || bkept(m, B_EDGE, name) ||
		    bint(m, B_EDGE, 0) || bint(m, B_EDGE, 0))
			goto out;
	}
	ret = 0;
out:
	st_strmap_release(&set);
	st_strmap_release(&seen);
	return ret;
}


/* The name in ref('name'), ref('package', 'name'), ref('name', v=2) or the table in
 * source('src', 'table'), written into out. Returns 1 (ref) or 2 (source), 0 if neither;
 * for a source, *src gets the source name. */
static int parse_call(const char *s, char *out, size_t n, char *src, size_t sn)
{
	const char *p, *args[3] = {0};
	size_t lens[3] = {0}, na = 0;
	int kind;

	if (!s)
		return 0;
	if ((p = strstr(s, "ref(")))
		kind = 1, p += 4;
	else if ((p = strstr(s, "source(")))
		kind = 2, p += 7;
	else
		return 0;
	while (*p && *p != ')' && na < 3) {
		char q;
		const char *b;

		while (*p == ' ' || *p == ',')
			p++;
		if (*p != '\'' && *p != '"')
			break; /* a keyword argument such as v=2 */
		q = *p++;
		b = p;
		while (*p && *p != q)
			p++;
		if (!*p)
			return 0;
		args[na] = b;
		lens[na++] = (size_t)(p - b);
		p++;
	}
	if (!na || (kind == 2 && na < 2))
		return 0;
	if (kind == 1) {
		snprintf(out, n, "%.*s", (int)lens[na - 1], args[na - 1]);
	} else {
		snprintf(src, sn, "%.*s", (int)lens[0], args[0]);
		snprintf(out, n, "%.*s", (int)lens[1], args[1]);
	}
	return kind;
}

/* The node a ref()/source() text means, among test t's depends_on nodes. */
static const char *resolve_call(struct mfload *m, uint32_t t, const char *text)
{
	char name[512], src[512] = "";
	int kind = parse_call(text, name, sizeof(name), src, sizeof(src));
	uint32_t deps = mget(m, mget(m, t, "depends_on"), "nodes");

	if (!kind)
		return NULL;
	/* Indexed when first needed: a manifest without such tests needs no index, and the
	 * writer thread need not wait for it (the tests are read while it writes). */
	if (!m->indexed) {
		uint32_t nodes = jroot(&m->doc, "nodes"), sources = jroot(&m->doc, "sources");

		if ((nodes && st_jindex_init(&m->nodes, m->doc.buf, &m->doc.t, nodes)) ||
		    (sources && st_jindex_init(&m->sources, m->doc.buf, &m->doc.t, sources))) {
			oom(m->x);
			return NULL;
		}
		m->indexed = 1;
	}
	for (uint32_t dep = jarr_first(&m->doc, deps); dep; dep = jnext(&m->doc, dep)) {
		const char *uid = jsv(m, &m->doc, dep), *nm;
		uint32_t n;

		if (!uid)
			continue;
		n = st_jindex_get(kind == 2 ? &m->sources : &m->nodes, m->doc.buf, &m->doc.t, uid,
				  strlen(uid));
		if (!n)
			continue;
		nm = mstr(m, n, "name");
		if (kind == 2 && mstr(m, n, "source_name") &&
		    !strcmp(mstr(m, n, "source_name"), src) && nm && !strcmp(nm, name))
			return uid;
		if (kind == 1 && nm && !strcmp(nm, name))
			return uid;
	}
	return NULL;
}

/* The column of dataset d that a test names, as steward spells it. */
static const char *test_col(struct mfload *m, struct dset *d, const char *name)
{
	struct col *c;

	(void)m;
	if (!name)
		return NULL;
	c = find_col(d, name);
	return c ? c->name : name;
}

/* Generic tests (not_null, unique, accepted_values, relationships) become constraints:
 * reads the test nodes up to the upto-th (m->tests) into m->tc. Returns 0, or -1 with
 * x->err. */
static int read_tests(struct mfload *m, size_t upto)
{
	const struct jdoc *md = &m->doc;

	for (; m->tests_read < upto && m->tests_read < m->ntests; m->tests_read++) {
		uint32_t t = m->tests[m->tests_read];
		enum { F_RTYPE, F_TM, F_ATTACHED, F_DEPS, F_CONFIG, F_COLUMN, F_N };
		static const struct word keys[F_N] = {W("resource_type"), W("test_metadata"),
						      W("attached_node"), W("depends_on"),
						      W("config"),	  W("column_name")};
		enum { T_KWARGS, T_NAME, T_NS, T_N };
		static const struct word tkeys[T_N] = {W("kwargs"), W("name"), W("namespace")};
		enum { K_MODEL, K_COLUMN, K_VALUES, K_TO, K_FIELD, K_N };
		static const struct word kwkeys[K_N] = {W("model"), W("column_name"), W("values"),
							W("to"), W("field")};
		uint32_t f[F_N], tf[T_N], kf[K_N];
		uint32_t tm, deps;
		const char *tname, *ns, *target, *colname;
		struct st_strent *at, *tat = NULL;
		const char *detail = NULL, *ref_field = NULL;
		struct tcase *tc;

		jfields(md, t, keys, F_N, f);
		tm = f[F_TM];
		jfields(md, tm, tkeys, T_N, tf);
		jfields(md, tf[T_KWARGS], kwkeys, K_N, kf);
		tname = jstr_of(m, md, tf[T_NAME]);
		ns = jstr_of(m, md, tf[T_NS]);
		target = jstr_of(m, md, f[F_ATTACHED]);
		deps = mget(m, f[F_DEPS], "nodes");
		if (m->x->err->code)
			return -1;
		if (jis(md, mget(m, f[F_CONFIG], "enabled"), ST_J_FALSE) || !tname ||
		    (ns && strcmp(ns, "dbt")))
			continue;
		if (strcmp(tname, "not_null") && strcmp(tname, "unique") &&
		    strcmp(tname, "accepted_values") && strcmp(tname, "relationships"))
			continue;
		if (!target)
			target = resolve_call(m, t, jstr_of(m, md, kf[K_MODEL]));
		if (!target && jsize(md, deps, ST_J_ARR) == 1)
			target = jsv(m, md, jarr_first(md, deps));
		if (m->x->err->code)
			return -1;
		if (!target || !(at = st_strmap_gets(&m->dsof, target)))
			continue; /* on an ephemeral or disabled node, or not resolvable */
		colname = jstr_of(m, md, kf[K_COLUMN]) ? jstr_of(m, md, kf[K_COLUMN])
						       : jstr_of(m, md, f[F_COLUMN]);
		if (!strcmp(tname, "accepted_values")) {
			uint32_t vals = kf[K_VALUES];

			if (vals && (!(detail = dump_json(m, vals, 0, &m->tjb)) ||
				     !(detail = arena_strdup(m, detail))))
				return oom(m->x);
		}
		if (!strcmp(tname, "relationships")) {
			const char *to = resolve_call(m, t, jstr_of(m, md, kf[K_TO]));

			tat = to ? st_strmap_gets(&m->dsof, to) : NULL;
			if (!tat) /* the other dependency */
				for (uint32_t dep = jarr_first(md, deps); dep; dep = jnext(md, dep)) {
					const char *s = jsv(m, md, dep);

					if (s && strcmp(s, target) && (tat = st_strmap_gets(&m->dsof, s)))
						break;
				}
			if (m->x->err->code)
				return -1;
			if (!tat)
				continue;
			ref_field = jstr_of(m, md, kf[K_FIELD]);
		}
		if (m->x->err->code)
			return -1;
		if (st_grow(&m->tc, &m->tc_cap, m->ntc + 1, sizeof(*m->tc)))
			return oom(m->x);
		tc = &m->tc[m->ntc];
		tc->di = (size_t)at->val;
		tc->ref_di = tat ? (size_t)tat->val : (size_t)-1;
		tc->tname = tname;
		tc->col = colname;
		tc->detail = detail;
		tc->ref_field = ref_field;
		if (!(tc->origin = jkey(m, md, t)))
			return -1;
		m->ntc++;
	}
	return 0;
}

/* Writes the constraints of the tests (read_tests() reads those left first), on the
 * datasets stored. Returns 0, or -1 with x->err. */
static int store_tests(struct mfload *m)
{
	if (read_tests(m, m->ntests))
		return -1;
	for (size_t i = 0; i < m->ntc; i++) {
		const struct tcase *tc = &m->tc[i];
		struct dset *d = &m->ds[tc->di];
		const char *ref_ds = NULL, *ref_field = NULL, *colname;

		if (!d->id)
			continue; /* not stored: reported */
		if (tc->ref_di != (size_t)-1) {
			ref_ds = m->ds[tc->ref_di].name;
			ref_field = test_col(m, &m->ds[tc->ref_di], tc->ref_field);
		}
		colname = test_col(m, d, tc->col);
		if (bint(m, B_CONS, d->id) || bint(m, B_CONS, d->ncons++) ||
		    bkept(m, B_CONS, tc->tname) || bkept(m, B_CONS, colname) ||
		    btext(m, B_CONS, tc->detail) || bkept(m, B_CONS, ref_ds) ||
		    bkept(m, B_CONS, ref_field) || bkept(m, B_CONS, tc->origin) || m->x->err->code)
			return -1;
	}
	return 0;
}

/* Adds contract constraint c of relation ri to m->cc. Returns 0, or -1 with x->err. */
static int add_contract(struct mfload *m, size_t di, size_t ri, uint32_t c, const char *col)
{
	if (st_grow(&m->cc, &m->cc_cap, m->ncc + 1, sizeof(*m->cc)))
		return oom(m->x);
	m->cc[m->ncc].di = di;
	m->cc[m->ncc].ri = ri;
	m->cc[m->ncc].c = c;
	m->cc[m->ncc++].col = col;
	return 0;
}

/* One constraint of a model contract (dbt 1.5 and later), on column col (NULL: from the
 * model's list, whose columns it names). */
static int contract_one(struct mfload *m, struct dset *d, const struct rel *r, uint32_t c,
			const char *col)
{
	const char *type = mstr(m, c, "type"), *kind, *ref_ds = NULL, *ref_field = NULL;
	uint32_t cols = mget(m, c, "columns");

	if (!type)
		return m->x->err->code ? -1 : 0;
	if (!strcmp(type, "not_null") || !strcmp(type, "unique") || !strcmp(type, "primary_key"))
		kind = type;
	else if (!strcmp(type, "foreign_key"))
		kind = "relationships";
	else
		return 0; /* check, custom: not mapped */
	if (!strcmp(kind, "relationships")) {
		const char *to = resolve_call(m, r->node, mstr(m, c, "to"));
		struct st_strent *at = to ? st_strmap_gets(&m->dsof, to) : NULL;

		if (!at)
			return m->x->err->code ? -1 : 0; /* an expression only (before dbt 1.9) */
		ref_ds = m->ds[at->val].name;
		ref_field = test_col(m, &m->ds[at->val],
				     jsv(m, &m->doc, jarr_first(&m->doc, mget(m, c, "to_columns"))));
	}
	if (!col && !(col = jsv(m, &m->doc, jarr_first(&m->doc, cols))))
		return m->x->err->code ? -1 : 0;
	if (m->x->err->code)
		return -1;
	col = test_col(m, d, col);
	return bint(m, B_CONS, d->id) || bint(m, B_CONS, d->ncons++) || bkept(m, B_CONS, kind) ||
	       bkept(m, B_CONS, col) || btext(m, B_CONS, NULL) || bkept(m, B_CONS, ref_ds) ||
	       bkept(m, B_CONS, ref_field) || bkept(m, B_CONS, "contract")
		       ? -1
		       : 0;
}

/* Model contracts: column and model constraints become constraints too (a foreign key with
 * a ref() target a join key, as a relationships test is). Reads those of stored dataset di
 * into m->cc, to be written by store_contracts(). Returns 0, or -1 with x->err. */
static int read_contracts(struct mfload *m, size_t di)
{
	const struct jdoc *md = &m->doc;
	const struct dset *d = &m->ds[di];

	for (size_t k = 0; d->id && k < d->nrels; k++) {
		const struct rel *r = &m->rels[d->rels[k]];
		uint32_t cols = mget(m, r->node, "columns"), c;

		for (uint32_t cv = jobj_first(md, cols); cv; cv = jnext(md, cv)) {
			const char *nm = NULL;

			for (c = jarr_first(md, mget(m, cv, "constraints")); c; c = jnext(md, c)) {
				if (!nm && !(nm = mstr(m, cv, "name")) && !(nm = jkey(m, md, cv)))
					return -1;
				if (add_contract(m, di, d->rels[k], c, nm))
					return -1;
			}
		}
		for (c = jarr_first(md, mget(m, r->node, "constraints")); c; c = jnext(md, c))
			if (add_contract(m, di, d->rels[k], c, NULL))
				return -1;
	}
	return m->x->err->code ? -1 : 0;
}

/* Writes the contract constraints read_contracts() read. Returns 0, or -1 with x->err. */
static int store_contracts(struct mfload *m)
{
	for (size_t i = 0; i < m->ncc; i++) {
		const struct ccase *cc = &m->cc[i];

		if (contract_one(m, &m->ds[cc->di], &m->rels[cc->ri], cc->c, cc->col))
			return -1;
	}
	return 0;
}

/* Exposures become dashboards (dashboard), models (ml) or applications (the rest). */
static int store_exposures(struct mfload *m)
{
	const struct jdoc *md = &m->doc;
	uint32_t exps = jroot(md, "exposures");

	for (uint32_t e = jobj_first(md, exps); e; e = jnext(md, e)) {
		const char *type = mstr(m, e, "type"), *pkg = mstr(m, e, "package_name");
		uint32_t ow = mget(m, e, "owner");
		const char *owner = mstr(m, ow, "name") ? mstr(m, ow, "name") : mstr(m, ow, "email");
		const char *uid = jkey(m, md, e), *s;
		sqlite3_stmt *st = m->q[Q_DS_INS];
		struct st_buf nm, tb, jb;
		char b1[512], where[1024];
		int64_t id;
		uint32_t t;
		int rc;

		if (m->x->err->code)
			return -1;
		if (!jis(md, e, ST_J_OBJ) || !enabled(m, e) || !mstr(m, e, "name"))
			continue;
		st_buf_init(&nm, 4096);
		st_buf_init(&tb, 1 << 16);
		st_buf_init(&jb, DBT_MAX_FILE);
		if (add_clean(&nm, pkg ? pkg : "dbt") || st_buf_adds(&nm, "-exposures.") ||
		    add_clean(&nm, mstr(m, e, "name")))
			goto nomem;
		for (t = jarr_first(md, mget(m, e, "tags")); t; t = jnext(md, t))
			if ((s = jsv(m, md, t)) && st_buf_addf(&tb, "%s%s", tb.len ? " " : "", s))
				goto nomem;
		if (m->x->err->code)
			goto fail;
		snprintf(where, sizeof(where), "exposures.%s.description", qk(uid, b1, sizeof(b1)));
		catalog_dbt_bind(st, 1, nm.p);
		catalog_dbt_bind(st, 2,
				 type && !strcmp(type, "dashboard") ? "dashboard"
				 : type && !strcmp(type, "ml")	    ? "model"
								    : "application");
		if (bind_scrubbed(m, st, 3, mstr(m, e, "description"), where)) {
			st_buf_release(&nm);
			st_buf_release(&tb);
			st_buf_release(&jb);
			return -1;
		}
		catalog_dbt_bind(st, 4, owner);
		catalog_dbt_bind(st, 5, m->adapter);
		catalog_dbt_bind(st, 6, mstr(m, e, "url"));
		catalog_dbt_bind(st, 7, st_buf_str(&tb));
		sqlite3_bind_int(st, 8, 0);
		sqlite3_bind_int64(st, 9, 0);
		sqlite3_bind_int64(st, 10, m->file_id);
		sqlite3_bind_int64(st, 11, m->x->gen);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc == SQLITE_CONSTRAINT_UNIQUE) {
			char *other = NULL;
			int r = other_manifest(m, nm.p, &other);

			rc = r < 0   ? -1
			     : r > 0 ? warn_at(m,
					       "exposures.%s: dataset '%s' is already declared by "
					       "%s; it is kept there",
					       qk(uid, b1, sizeof(b1)), nm.p, other)
				     : err_at(m,
					      "exposures.%s: dataset '%s' is already declared by a "
					      "descriptor",
					      qk(uid, b1, sizeof(b1)), nm.p);
			st_free(other);
			st_buf_release(&nm);
			st_buf_release(&tb);
			st_buf_release(&jb);
			if (rc)
				return -1;
			continue;
		}
		if (rc != SQLITE_DONE) {
			st_buf_release(&nm);
			st_buf_release(&tb);
			st_buf_release(&jb);
			return st_sql_error(m->x->err, m->x->db, "cannot store exposure");
		}
		id = sqlite3_last_insert_rowid(m->x->db);
		for (t = jarr_first(md, mget(m, e, "tags")); t; t = jnext(md, t)) {
			s = jsv(m, md, t);
			if (s && (bint(m, B_TAG, id) || btext(m, B_TAG, s)))
				goto fail;
		}
		if (m->x->err->code)
			goto fail;
		rc = btext(m, B_ALIAS, uid) || bint(m, B_ALIAS, id) || btext(m, B_ALIAS, "dbt") ||
		     prop(m, id, "dbt.unique_id", uid) ||
		     prop(m, id, "dbt.resource_type", "exposure") ||
		     prop(m, id, "dbt.exposure_type", type) ||
		     prop(m, id, "dbt.maturity", mstr(m, e, "maturity")) ||
		     prop(m, id, "dbt.path", mstr(m, e, "original_file_path")) ||
		     prop(m, id, "dbt.package", pkg) ||
		     prop_json(m, id, "dbt.meta", mget(m, e, "meta"), &jb) ||
		     store_edges(m, id, nm.p, &e, 1) || touch(m, nm.p) || m->x->err->code;
		if (rc)
			goto fail;
		st_buf_release(&nm);
		st_buf_release(&tb);
		st_buf_release(&jb);
		continue;
	nomem:
		oom(m->x);
	fail:
		st_buf_release(&nm);
		st_buf_release(&tb);
		st_buf_release(&jb);
		return -1;
	}
	return 0;
}

/* What of a manifest is read: the members of the root, of a node (nodes.<id>, sources.<id>),
 * of its config, of a column (<node>.columns.<name>) and of the column's config that this
 * file looks at. The others (the root's macros, docs, parent_map, child_map, disabled...;
 * a node's raw_code, fqn, checksum, docs, refs, unrendered_config...) are checked and left
 * off the tape: they are half of a manifest's values. A key read anywhere below must be in
 * these lists. */
static const struct word keep_root[] = {W("metadata"), W("nodes"), W("sources"), W("groups"),
					W("exposures")};
static const struct word keep_node[] = {
	W("quoting"),	  W("config"),	       W("database"),	 W("schema"),
	W("identifier"),  W("alias"),	       W("name"),	 W("resource_type"),
	W("meta"),	  W("group"),	       W("relation_name"), W("description"),
	W("tags"),	  W("columns"),	       W("original_file_path"), W("package_name"),
	W("access"),	  W("loader"),	       W("depends_on"),	 W("source_name"),
	W("test_metadata"), W("attached_node"), W("column_name"), W("constraints")};
static const struct word keep_config[] = {W("enabled"), W("materialized"), W("meta"), W("group"),
					  W("quoting")};
static const struct word keep_column[] = {W("name"), W("description"), W("meta"),
					  W("data_type"), W("quote"), W("config"),
					  W("tags"), W("constraints")};
static const struct word keep_column_config[] = {W("meta"), W("tags")};

/* Whether tape node i is a member named word. */
static int named(const char *buf, const struct st_jtape *t, uint32_t i, const struct word w)
{
	const struct st_jnode *n = &t->v[i];

	if (!n->key_escaped)
		return n->key_end - n->key_start == w.n && !memcmp(buf + n->key_start, w.w, w.n);
	return st_json_key_is(buf, n, w.w, w.n);
}

/* What manifest_skip() found of the containers around the last member it was asked about:
 * the root member (a section), the node member and the column member it was in. */
#define KEEP_BITS 9
#define KEEP_SLOTS ((size_t)1 << KEEP_BITS) /* over ten times the words below */

struct skip_cache {
	uint32_t sec, node_member, col_member;
	int in_section;	  /* sec is nodes or sources */
	int member_kind;  /* node_member is 1: config, 2: columns, 0: another */
	int col_config;	  /* col_member is config */
	int list[7];	  /* by depth (3 to 6): the K_* list of the members kept there, -1 all */
	/* The words of the lists above by keep_slot(), each at its own slot when displaced is
	 * 0 (the multiplier mul is chosen so): which lists hold each, with the word's length
	 * and its bytes as key_word() takes them. */
	uint64_t mul;
	int displaced;
	struct {
		uint64_t w[2];
		uint32_t n;	/* 0 for an empty slot */
		unsigned lists; /* 1 << K_* */
		const char *s;
	} slot[KEEP_SLOTS];
};

enum { K_ROOT, K_NODE, K_CONFIG, K_COLUMN, K_COLUMN_CONFIG };

/* Bytes [0, 16) of key (len > 0 bytes) as two words that, with len, tell one key from any
 * other up to 16 bytes long (of a longer key, its first and last eight): loads that overlap,
 * none past the key. */
static inline uint64_t key_word(const char *key, size_t len, int second)
{
	uint64_t w;
	uint32_t a, b;

	if (len >= 8) {
		memcpy(&w, key + (second ? len - 8 : 0), 8);
		return w;
	}
	if (second)
		return 0;
	if (len >= 4) {
		memcpy(&a, key, 4);
		memcpy(&b, key + len - 4, 4);
		return a | (uint64_t)b << 32;
	}
	return (unsigned char)key[0] | (unsigned)(unsigned char)key[len / 2] << 8 |
	       (unsigned)(unsigned char)key[len - 1] << 16;
}

/* The slot of a key whose first word is w0. */
static inline size_t keep_slot(const struct skip_cache *c, uint64_t w0, size_t len)
{
	return (size_t)(((w0 + len) * c->mul) >> (64 - KEEP_BITS));
}

/* Fills c's table with the words of the five lists. */
static void keep_init(struct skip_cache *c)
{
	static const struct {
		const struct word *set;
		size_t n;
	} lists[] = {
		[K_ROOT] = {keep_root, sizeof(keep_root) / sizeof(*keep_root)},
		[K_NODE] = {keep_node, sizeof(keep_node) / sizeof(*keep_node)},
		[K_CONFIG] = {keep_config, sizeof(keep_config) / sizeof(*keep_config)},
		[K_COLUMN] = {keep_column, sizeof(keep_column) / sizeof(*keep_column)},
		[K_COLUMN_CONFIG] = {keep_column_config,
				     sizeof(keep_column_config) / sizeof(*keep_column_config)},
	};
	uint64_t mul = 0x9e3779b97f4a7c15ull;

	/* A multiplier that gives each word a slot of its own (a few tries), else probing. */
	for (int tries = 0; tries < 4096; tries++, mul += 2) {
		memset(c, 0, sizeof(*c));
		c->mul = mul;
		for (size_t l = 0; l < sizeof(lists) / sizeof(*lists); l++)
			for (size_t i = 0; i < lists[l].n; i++) {
				const struct word *w = &lists[l].set[i];
				size_t at = keep_slot(c, key_word(w->w, w->n, 0), w->n);

				while (c->slot[at].n &&
				       (c->slot[at].n != w->n || memcmp(c->slot[at].s, w->w, w->n))) {
					at = (at + 1) & (KEEP_SLOTS - 1);
					c->displaced = 1;
				}
				c->slot[at].w[0] = key_word(w->w, w->n, 0);
				c->slot[at].w[1] = key_word(w->w, w->n, 1);
				c->slot[at].n = (uint32_t)w->n;
				c->slot[at].s = w->w;
				c->slot[at].lists |= 1u << l;
			}
		if (!c->displaced)
			break;
	}
}

/* Whether key (len bytes, escaped) is a word of list l. An escaped key is kept. */
static inline int kept(const struct skip_cache *c, const char *key, size_t len, int escaped,
		       int l)
{
	uint64_t w0;

	if (escaped)
		return 1;
	if (!len)
		return 0;
	w0 = key_word(key, len, 0);
	for (size_t at = keep_slot(c, w0, len); c->slot[at].n; at = (at + 1) & (KEEP_SLOTS - 1)) {
		if (c->slot[at].n == len && c->slot[at].w[0] == w0 &&
		    c->slot[at].w[1] == key_word(key, len, 1) &&
		    (len <= 16 || !memcmp(c->slot[at].s + 8, key + 8, len - 16)))
			return (c->slot[at].lists >> l) & 1;
		if (!c->displaced)
			break;
	}
	return 0;
}

/* manifest_skip()'s look at the containers around a member depth (3 to 6) deep when they
 * are not the ones of the last: out of line (once per container), so that the call for
 * each member saves no registers. */
#ifdef __GNUC__
__attribute__((noinline, cold))
#endif
static void skip_refresh(struct skip_cache *c, const char *buf, const struct st_jtape *t,
			 const uint32_t *path, size_t depth)
{
	if (path[1] != c->sec) {
		c->sec = path[1];
		c->in_section = named(buf, t, path[1], (struct word)W("nodes")) ||
				named(buf, t, path[1], (struct word)W("sources"));
		c->node_member = c->col_member = 0;
	}
	if (depth >= 4 && path[3] != c->node_member) {
		c->node_member = path[3];
		c->member_kind = named(buf, t, path[3], (struct word)W("config"))    ? 1
				 : named(buf, t, path[3], (struct word)W("columns")) ? 2
										     : 0;
		c->col_member = 0;
	}
	if (depth >= 6 && path[5] != c->col_member) {
		c->col_member = path[5];
		c->col_config = named(buf, t, path[5], (struct word)W("config"));
	}
	c->list[3] = c->in_section ? K_NODE : -1;
	c->list[4] = c->in_section && c->member_kind == 1 ? K_CONFIG : -1;
	c->list[5] = c->in_section && c->member_kind == 2 ? K_COLUMN : -1;
	c->list[6] = c->list[5] >= 0 && c->col_config ? K_COLUMN_CONFIG : -1;
}

/* The manifest's st_json_skip_fn: the members no reader here looks at (the lists above). */
static int manifest_skip(void *u, const char *buf, const struct st_jtape *t, const uint32_t *path,
			 size_t depth, const char *key, size_t len, int key_escaped)
{
	struct skip_cache *c = u;
	int l = K_ROOT;

	if (depth != 1) {
		if (depth < 3 || depth > 6)
			return 0;
		if (path[1] != c->sec || (depth >= 4 && path[3] != c->node_member) ||
		    (depth >= 6 && path[5] != c->col_member))
			skip_refresh(c, buf, t, path, depth);
		if ((l = c->list[depth]) < 0)
			return 0;
	}
	return !kept(c, key, len, key_escaped, l);
}

/* Manifests from this size on are parsed on two threads (st_json_parse_split()): a thread
 * costs less than a tenth of a millisecond, a megabyte of manifest about two. */
#define SPLIT_MIN_BYTES ((size_t)4 << 20)
/* Where the second thread starts, as a share of the text: it parses from there to the end
 * (the rest of nodes, then sources and the maps, mostly skipped), the first up to there.
 * When no node starts near there (a project of few models and many macros, whose nodes end
 * before the middle), nearer the start, in steps. */
#define SPLIT_AT 52
#define SPLIT_STEP 8
#define SPLIT_LAST 12
#define SPLIT_SEARCH ((size_t)256 << 10) /* bytes looked through at each place */

/* The first place in data[from, stop) where a member of the manifest's nodes seems to
 * start: a comma, then the opening quote of a key that starts as a node's unique_id does
 * (its resource type and a dot) and is followed by ':' and '{', with or without white
 * space between (dbt writes both ways). 0 when there is none. */
static size_t node_start_in(const unsigned char *data, size_t from, size_t stop)
{
	static const struct word types[] = {W("model."),	W("test."),	W("seed."),
					    W("snapshot."),	W("analysis."), W("operation."),
					    W("sql_operation.")};
	size_t at = from;

	while (at < stop) {
		const unsigned char *c = memchr(data + at, ',', stop - at), *q;
		size_t i, j, k;

		if (!c)
			break;
		at = i = (size_t)(c - data) + 1;
		while (i < stop && st_json_is_ws(data[i]))
			i++;
		if (i >= stop || data[i] != '"')
			continue;
		for (k = 0; k < sizeof(types) / sizeof(*types); k++)
			if (stop - i - 1 > types[k].n &&
			    !memcmp(data + i + 1, types[k].w, types[k].n))
				break;
		if (k == sizeof(types) / sizeof(*types) ||
		    !(q = memchr(data + i + 1, '"', stop - i - 1)))
			continue;
		for (j = (size_t)(q - data) + 1; j < stop && st_json_is_ws(data[j]); j++)
			;
		if (j >= stop || data[j++] != ':')
			continue;
		while (j < stop && st_json_is_ws(data[j]))
			j++;
		if (j < stop && data[j] == '{')
			return i;
	}
	return 0;
}

/* A guess at where a member of the manifest's nodes starts, for st_json_parse_split(),
 * which checks it; 0 when none is found. */
static size_t nodes_split_guess(const unsigned char *data, size_t len)
{
	for (size_t share = SPLIT_AT; share >= SPLIT_LAST; share -= SPLIT_STEP) {
		size_t from = len / 100 * share, at;

		at = node_start_in(data, from,
				   len - from > SPLIT_SEARCH ? from + SPLIT_SEARCH : len);
		if (at)
			return at;
	}
	return 0;
}

/* Reads the JSON text data[0, len) of file display onto d's tape, taking what jansson took
 * (not: a root that is neither an object nor an array, \u0000 in a string or a key, a whole
 * number outside long long, a number that overflows a double), with each object's keys once
 * (the last value, at the first place), as jansson kept them; a manifest (manifest set)
 * without what manifest_skip() leaves off. Returns 0; -1 after a diagnostic (jansson's
 * message for a text it refuses, as before); -2 with x->err. */
static int doc_load(struct catalog_dbt_ctx *x, const char *display, const unsigned char *data,
		    size_t len, int manifest, struct jdoc *d)
{
	struct skip_cache cache, cache2;
	struct st_json_split sp = {"nodes", 5, 0, &cache2, 0};
	struct st_jerr e;
	json_error_t je;
	json_t *j;
	int r;

	d->buf = (const char *)data;
	if (manifest) {
		keep_init(&cache);
		if (len >= SPLIT_MIN_BYTES)
			sp.at = nodes_split_guess(data, len);
	}
	if (sp.at) {
		cache2 = cache;
		r = st_json_parse_split(d->buf, len, ST_JSON_DEPTH_LIMIT, manifest_skip, &cache,
					ST_JPARSE_UNIQUE | ST_JPARSE_ODD, &sp, &d->t, &e);
	} else {
		r = st_json_parse_filter(d->buf, len, ST_JSON_DEPTH_LIMIT,
					 manifest ? manifest_skip : NULL, &cache,
					 ST_JPARSE_UNIQUE | ST_JPARSE_ODD, &d->t, &e);
	}
	if (r && e.code == ST_JE_NOMEM)
		return oom(x) - 1;
	if (!r && (d->t.v[0].type == ST_J_OBJ || d->t.v[0].type == ST_J_ARR) && !d->t.odd) {
		d->loaded = 1;
		return 0;
	}
	/* Refused: in jansson's words, which the messages always were. */
	j = json_loadb(d->buf, len, 0, &je);
	if (!j)
		return catalog_dbt_diag(x, ST_SEV_ERROR, display,
					je.line > 0 ? (unsigned)je.line : 0,
					je.line > 0 ? (unsigned)(je.column > 0 ? je.column : 1) : 0,
					"invalid JSON: %s", je.text) - 1;
	json_decref(j);
	{ /* jansson takes it (no text known to do this): the tape's words */
		unsigned line = 1, col = 1;

		for (size_t i = 0; r && i < e.offset && i < len; i++, col++)
			if (data[i] == '\n')
				line++, col = 0;
		return catalog_dbt_diag(x, ST_SEV_ERROR, display, r ? line : 0, r ? col : 0,
					"invalid JSON: %s", r ? e.msg : "unsupported value") -
		       1;
	}
}

/* The names of m's datasets whose search rows catalog_load() rebuilds (see Q_FTS): touched
 * already, held by a dataset row, or linked to by glossary terms. Returns 0, or -1 with
 * x->err. */
static int reindex_names(struct mfload *m)
{
	sqlite3_stmt *st;
	int ret = 0, rc;

	/* Into an empty catalog (a first load) no name can be any of those: one query instead
	 * of one per dataset, before the writer thread can start. */
	if (st_sql_prepare(m->x->db, &st,
			   "SELECT EXISTS (SELECT 1 FROM temp.touched) OR EXISTS (SELECT 1 FROM datasets)"
			   " OR EXISTS (SELECT 1 FROM term_links)",
			   m->x->err))
		return -1;
	rc = sqlite3_step(st);
	ret = rc != SQLITE_ROW ? st_sql_error(m->x->err, m->x->db, "cannot read datasets")
			       : !sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (ret)
		return ret < 0 ? -1 : 0;
	if (st_sql_prepare(m->x->db, &st,
			   "SELECT EXISTS (SELECT 1 FROM temp.touched WHERE name = ?1)"
			   " OR EXISTS (SELECT 1 FROM datasets WHERE name = ?1)"
			   " OR EXISTS (SELECT 1 FROM term_links WHERE target = ?1)",
			   m->x->err))
		return -1;
	for (size_t i = 0; !ret && i < m->nds; i++) {
		sqlite3_bind_text(st, 1, m->ds[i].name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW)
			ret = st_sql_error(m->x->err, m->x->db, "cannot read datasets");
		else if (sqlite3_column_int(st, 0) && st_strmap_set(&m->reindex, m->ds[i].name, 1))
			ret = oom(m->x);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return ret;
}

/* Hands the SQL of the datasets about to be stored to a writer thread (see struct mfload),
 * unless the load is serial or the manifest small. Returns 0 (with or without the thread),
 * or -1 with x->err. */
static int pipe_start(struct mfload *m)
{
	sqlite3_stmt *st;
	int rc, fk = 1;

	if (m->x->serial || m->nds < PIPE_MIN_DATASETS || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return 0;
	if (st_sql_prepare(m->x->db, &st,
			   "SELECT (SELECT coalesce(max(id), 0) FROM datasets), name FROM datasets"
			   " WHERE version = 1 UNION ALL SELECT coalesce(max(id), 0), NULL"
			   " FROM datasets",
			   m->x->err))
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);

		m->next_id = sqlite3_column_int64(st, 0) + 1;
		if (name && st_strmap_set(&m->taken, name, 1)) {
			sqlite3_finalize(st);
			return oom(m->x);
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return st_sql_error(m->x->err, m->x->db, "cannot read datasets");
	for (int i = 0; i < B_COUNT; i++)
		m->pipe_what[i] = b_def[i].what;
	/* The search index is built beside the writer only into an empty one (read now: the
	 * writer has the connection until pipe_stop()). */
	if (st_sql_prepare(m->x->db, &st,
			   "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'search_fts'"
			   " AND NOT EXISTS (SELECT 1 FROM search_fts)",
			   m->x->err))
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && !(m->fts_create = st_strdup((const char *)sqlite3_column_text(st, 0))))
		rc = SQLITE_NOMEM;
	sqlite3_finalize(st);
	if (rc == SQLITE_NOMEM)
		return oom(m->x);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return st_sql_error(m->x->err, m->x->db, "cannot read the search index");
	/* While SQLite checks foreign keys (a load into a catalog that holds rows), a dataset's
	 * row goes before the rows that name it. No thread: the rows are written here, as they
	 * are then. Foreign keys are off only for a load into an empty catalog (load.c). */
	if (sqlite3_db_config(m->x->db, SQLITE_DBCONFIG_ENABLE_FKEY, -1, &fk) != SQLITE_OK)
		fk = 1;
	(void)catalog_dbt_pipe_start(&m->pipe, m->b, m->pipe_what, B_COUNT, m->x->db, m->q,
				     q_what, Q_COUNT, fk ? B_DS : -1, !fk);
	if (m->pipe && m->fts_create && m->nds >= CATALOG_FTS_BUILD_MIN &&
	    (m->ftsb = catalog_ftsbuild_open(m->fts_create, &m->fts)))
		catalog_dbt_pipe_idle(m->pipe, fts_idle, m);
	return 0;
}

/* Appends the problems of side to x->diags, in order, as if they had been reported there
 * (those side could not keep are counted all the same). Returns 0, or -1 with x->err. */
static int diags_append(struct catalog_dbt_ctx *x, const struct st_diags *side)
{
	size_t errors = 0;

	for (size_t i = 0; i < side->n; i++) {
		const struct st_diag *e = &side->v[i];

		errors += e->severity == ST_SEV_ERROR;
		if (st_diags_add(x->diags, e->severity, e->file, e->line, e->col, "%s", e->msg))
			return oom(x);
	}
	x->diags->nerrors += side->nerrors - errors;
	x->diags->nwarnings += side->nwarnings - (side->n - errors);
	return 0;
}

/* Parses a manifest (and its catalog.json) and writes what it declares under file_id.
 * The manifest is parsed already when pre is not NULL (doc_load() into *pre, returning
 * pre_r): its tape becomes materialize()'s. */
static int materialize(struct catalog_dbt_ctx *x, const char *display, int64_t file_id,
		       const unsigned char *data, size_t len, struct jdoc *pre, int pre_r,
		       const char *cat_display, const unsigned char *cdata, size_t clen,
		       int *version, char **adapter, char **project)
{
	struct mfload m;
	const char *url, *project_name;
	size_t errors0 = x->diags->nerrors, loaded0 = x->stats->datasets_loaded;
	struct st_diags side;
	uint32_t *nodes = NULL;
	int ret = -1;

	st_diags_init(&side, x->diags->max);
	memset(&m, 0, sizeof(m));
	st_buf_init(&m.fts, (size_t)1 << 32);
	st_buf_init(&m.tjb, DBT_MAX_FILE);
	st_strmap_init(&m.clean, ST_STRMAP_BORROW);
	m.x = x;
	m.file = display;
	m.file_id = file_id;
	*version = 0;
	if (pre) {
		m.doc = *pre;
		memset(pre, 0, sizeof(*pre));
		if (pre_r)
			goto out;
	} else if (doc_load(x, display, data, len, 1, &m.doc)) {
		goto out;
	}
	m.meta = jroot(&m.doc, "metadata");
	url = mstr(&m, m.meta, "dbt_schema_version");
	if (x->err->code)
		goto out;
	if (!url) {
		ret = catalog_dbt_diag(
			x, ST_SEV_ERROR, display, 0, 0,
			"not a dbt manifest: metadata.dbt_schema_version is missing");
		goto out;
	}
	m.version = schema_version(url);
	if (m.version < DBT_MIN_VERSION || m.version > DBT_MAX_VERSION) {
		ret = catalog_dbt_diag(
			x, ST_SEV_ERROR, display, 0, 0,
			"metadata.dbt_schema_version: unsupported dbt manifest \"%s\"; steward "
			"reads manifest v%d to v%d",
			url, DBT_MIN_VERSION, DBT_MAX_VERSION);
		goto out;
	}
	*version = m.version;
	if (cdata && doc_load(x, cat_display, cdata, clen, 0, &m.cdoc))
		goto out;
	m.adapter = mstr(&m, m.meta, "adapter_type");
	project_name = mstr(&m, m.meta, "project_name");
	if (x->err->code)
		goto out;
	m.fold = fold_of(m.adapter);
	if (m.adapter && !(*adapter = st_strdup(m.adapter)))
		goto nomem;
	if (project_name && !(*project = st_strdup(project_name)))
		goto nomem;
	if ((jroot(&m.cdoc, "nodes") &&
	     st_jindex_init(&m.cnodes, m.cdoc.buf, &m.cdoc.t, jroot(&m.cdoc, "nodes"))) ||
	    (jroot(&m.cdoc, "sources") &&
	     st_jindex_init(&m.csources, m.cdoc.buf, &m.cdoc.t, jroot(&m.cdoc, "sources"))))
		goto nomem;
	for (int i = 0; i < Q_COUNT; i++)
		if (st_sql_prepare(x->db, &m.q[i], q_sql[i], x->err))
			goto out;
	if (!(m.b = st_calloc(B_COUNT, sizeof(*m.b))))
		goto nomem;
	for (int i = 0; i < B_COUNT; i++)
		catalog_rowbatch_init(&m.b[i], x->db, b_def[i].head, b_def[i].ncols);
	if (collect_rels(&m) || x->err->code)
		goto out;
	/* Each dataset is stored as soon as its columns are known, so that the writer thread
	 * starts early. Nothing is stored from a manifest with errors: once one is found the
	 * rest is only checked, and what was stored is rolled back to the savepoint. What
	 * storing reports waits in side, to follow every message of the checks as it did when
	 * they all came first. */
	if (st_sql_exec(x->db, "SAVEPOINT dbt_manifest", x->err))
		goto out;
	if (x->diags->nerrors == errors0 && (reindex_names(&m) || pipe_start(&m)))
		goto out;
	for (size_t i = 0; i < m.nds; i++) {
		struct dset *d = &m.ds[i];
		struct st_diags *diags = x->diags;
		int r;

		if (build_cols(&m, d) || check_cols(&m, d) || x->err->code)
			goto out;
		if (x->diags->nerrors > errors0)
			continue;
		st_free(nodes);
		if (!(nodes = st_calloc(d->nrels ? d->nrels : 1, sizeof(*nodes))))
			goto nomem;
		for (size_t k = 0; k < d->nrels; k++)
			nodes[k] = m.rels[d->rels[k]].node;
		x->diags = &side;
		r = store_ds(&m, d);
		if (!r && d->id)
			r = store_edges(&m, d->id, d->name, nodes, d->nrels);
		x->diags = diags;
		if (r && x->err->code)
			goto out;
		x->stats->datasets_loaded++;
		/* What the tests and contracts say is read now, while the writer thread has rows
		 * to write: a share of the tests with each dataset. */
		if (read_contracts(&m, i) || read_tests(&m, m.ntests * (i + 1) / m.nds))
			goto out;
	}
	if (x->diags->nerrors > errors0) {
		x->stats->datasets_loaded = loaded0;
		if (pipe_stop(&m) ||
		    st_sql_exec(x->db, "ROLLBACK TO dbt_manifest; RELEASE dbt_manifest", x->err))
			goto out;
		ret = 0;
		goto out;
	}
	if (diags_append(x, &side))
		goto out;
	/* Tests and contracts only add rows; exposures read what is stored. The search rows
	 * are complete: their index is built (or queued) first, so that its thread has the
	 * time the tests take beside the writer, not only the writer's last rows. */
	if (store_search_rows(&m) || store_tests(&m) || store_contracts(&m))
		goto out;
	if (pipe_stop(&m) || store_fts_built(&m))
		goto out;
	/* After a failure (x->err) the savepoint stays: the load rolls back all of it. */
	if (st_sql_exec(x->db, "RELEASE dbt_manifest", x->err))
		goto out;
	if (store_exposures(&m))
		goto out;
	for (int i = 0; i < B_COUNT; i++)
		if (catalog_rowbatch_flush(&m.b[i], x->err, b_def[i].what))
			goto out;
	ret = 0;
	goto out;
nomem:
	oom(x);
out:
	st_free(nodes);
	mf_release(&m);
	st_diags_release(&side);
	(void)ret; /* problems in the manifest are diagnostics; only x->err stops the load */
	return x->err->code ? -1 : 0;
}

/* ---- the dbt step of a load ---- */

struct mf {
	char *display, *abs, *cat_abs, *cat_display;
	int64_t id;		    /* files.id, 0 when new */
	int64_t size, mtime, inode; /* combined stat data of the manifest and its catalog.json */
	int known, named, stat_same, ov_same;
	unsigned char hash[HASH_LEN];
	int has_hash;
};

static int64_t mtime_ns(const struct stat *sb)
{
	return (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
}

/* The digest of every extension, to re-materialize manifests when one changes. */
static int overlay_digest(struct catalog_dbt_ctx *x, unsigned char out[HASH_LEN])
{
	struct st_digest h;
	sqlite3_stmt *st;
	int rc;

	if (st_sql_prepare(
		    x->db, &st,
		    "SELECT e.target, e.key, e.value, e.line, e.col, f.path FROM dbt_extends e"
		    " JOIN files f ON f.id = e.file_id ORDER BY f.path, e.ord",
		    x->err))
		return -1;
	st_digest_init(&h);
	st_digest_update(&h, DBT_MAPPING, sizeof(DBT_MAPPING));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		for (int i = 0; i < 6; i++) {
			const unsigned char *t = sqlite3_column_text(st, i);

			if (t)
				st_digest_update(&h, t, (size_t)sqlite3_column_bytes(st, i) + 1);
		}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return st_sql_error(x->err, x->db, "cannot read extensions");
	st_digest_final(&h, out);
	return 0;
}

static void mf_free(struct mf *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		st_free(v[i].display);
		st_free(v[i].abs);
		st_free(v[i].cat_abs);
		st_free(v[i].cat_display);
	}
	st_free(v);
}

/* The catalog.json beside path (same directory), a new string. */
static char *beside(const char *path)
{
	const char *slash = strrchr(path, '/');
	struct st_buf b;

	st_buf_init(&b, 8192);
	if (slash && st_buf_add(&b, path, (size_t)(slash - path) + 1))
		return NULL;
	if (st_buf_adds(&b, "catalog.json")) {
		st_buf_release(&b);
		return NULL;
	}
	return st_buf_detach(&b);
}

static int stat_sig(struct mf *f)
{
	struct stat a, b;

	if (stat(f->abs, &a))
		return -1;
	f->size = (int64_t)a.st_size;
	f->mtime = mtime_ns(&a);
	f->inode = (int64_t)a.st_ino;
	if (!stat(f->cat_abs, &b)) {
		f->size += (int64_t)b.st_size;
		f->mtime += mtime_ns(&b);
		f->inode ^= (int64_t)b.st_ino << 20;
	}
	return 0;
}

static int mf_add(struct mf **v, size_t *n, size_t *cap, const char *display, const char *abs)
{
	struct mf *f;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i].abs, abs))
			return 0;
	if (st_grow(v, cap, *n + 1, sizeof(**v)))
		return -1;
	f = &(*v)[(*n)++];
	memset(f, 0, sizeof(*f));
	f->display = st_strdup(display);
	f->abs = st_strdup(abs);
	f->cat_abs = beside(abs);
	f->cat_display = beside(display);
	return f->display && f->abs && f->cat_abs && f->cat_display ? 0 : -1;
}

/* The digest that tells whether a manifest changed: the mapping's version, the manifest's
 * bytes and its catalog.json's (cdata NULL: none). Reads only its inputs, so a manifest
 * being loaded is hashed on a thread of idle priority, which takes what a CPU has left
 * while the load runs (a parse on two threads leaves none). When the load needs the
 * digest, hash_finish() hashes what that thread has not, at the loader's priority: a busy
 * machine gives an idle thread next to nothing. */
struct hash_job {
	const unsigned char *data, *cdata;
	size_t len, clen;
	struct st_digest h;
	size_t done;	 /* bytes of data, then of cdata, hashed (the thread's until joined) */
	int part;	 /* 0: data, 1: cdata, 2: all of it */
	atomic_int stop; /* set: the thread stops before its next step */
	unsigned char out[HASH_LEN];
};

/* The most bytes the hashing thread takes at a step: what the loader waits for at most when
 * it takes over (about 50 us of SHA-256). */
#define HASH_STEP ((size_t)64 << 10)

/* Tape nodes reserved (address space only) per byte of a manifest: dbt writes a value per
 * 20 to 45 bytes, of which manifest_skip() keeps about half (one per 40 bytes of the
 * generated manifests; far fewer of real ones, whose macros are skipped). A parse on two
 * threads needs room for each part (st_json_parse_split()). */
#define TAPE_RESERVE(len) ((len) / 16 + 64)

static void hash_begin(struct hash_job *j, const unsigned char *data, size_t len,
		       const unsigned char *cdata, size_t clen)
{
	memset(j, 0, sizeof(*j));
	j->data = data;
	j->len = len;
	j->cdata = cdata;
	j->clen = clen;
	atomic_init(&j->stop, 0);
	st_digest_init(&j->h);
	st_digest_update(&j->h, DBT_MAPPING, sizeof(DBT_MAPPING));
}

/* Hashes the rest of j's inputs; on the thread (thread set), only until j->stop is set. */
static void hash_steps(struct hash_job *j, int thread)
{
	while (j->part < 2) {
		const unsigned char *p = j->part ? j->cdata : j->data;
		size_t len = j->part ? j->clen : j->len;
		size_t n = len - j->done < HASH_STEP ? len - j->done : HASH_STEP;

		if (thread && atomic_load_explicit(&j->stop, memory_order_relaxed))
			return;
		if (n)
			st_digest_update(&j->h, p + j->done, n);
		j->done += n;
		if (j->done < len)
			continue;
		if (!j->part++) {
			st_digest_update(&j->h, "\0catalog\0", 9);
			if (!j->cdata)
				j->part++;
		}
		j->done = 0;
	}
}

static void *hash_thread(void *arg)
{
#ifdef SCHED_IDLE
	struct sched_param none = {0};

	(void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &none); /* a preference */
#endif
	hash_steps(arg, 1);
	return NULL;
}

/* Stops and joins j's thread *th when *running; what it hashed stays in j. */
static void hash_stop(struct hash_job *j, pthread_t *th, int *running)
{
	if (*running) {
		atomic_store(&j->stop, 1);
		pthread_join(*th, NULL);
		*running = 0;
	}
}

/* The digest into j->out; *running: j's thread *th, which is stopped and joined first. */
static void hash_finish(struct hash_job *j, pthread_t *th, int *running)
{
	hash_stop(j, th, running);
	hash_steps(j, 0);
	st_digest_final(&j->h, j->out);
}

/* Reads manifest f (and its catalog.json), and rewrites what it declares when it changed. */
static int reload(struct catalog_dbt_ctx *x, struct mf *f, const unsigned char ov[HASH_LEN],
		  int *materialized)
{
	struct fbytes data, cdata;
	unsigned char hash[HASH_LEN];
	struct hash_job hj;
	struct jdoc pre;
	pthread_t th;
	sqlite3_stmt *st = NULL;
	char *adapter = NULL, *project = NULL;
	int r, ret = -1, version = 0, has_cat, parsed = 0, pre_r = 0, hashing = 0;

	memset(&pre, 0, sizeof(pre));
	memset(&cdata, 0, sizeof(cdata));
	r = read_all(x, f->abs, f->display, 0, &data);
	if (r)
		return r == -2 ? -1 : 0;
	r = read_all(x, f->cat_abs, f->cat_display, 1, &cdata);
	if (r < 0) {
		fbytes_release(&data);
		return r == -2 ? -1 : 0;
	}
	has_cat = r == 0;
	hash_begin(&hj, data.p, data.len, has_cat ? cdata.p : NULL, cdata.len);
	/* A manifest that may be unchanged is hashed first: an unchanged one costs a hash and
	 * no parse. Any other is parsed first (on both CPUs), and its digest, which is only
	 * stored, is taken beside its rows. */
	if (!(f->known && f->has_hash && f->ov_same)) {
		if (st_json_tape_reserve(&pre.t, TAPE_RESERVE(data.len))) {
			oom(x);
			goto out;
		}
		pre_r = doc_load(x, f->display, data.p, data.len, 1, &pre);
		parsed = 1;
		if (x->err->code)
			goto out;
		hashing = !pthread_create(&th, NULL, hash_thread, &hj);
		memset(hash, 0, HASH_LEN); /* until then */
	} else {
		hash_finish(&hj, &th, &hashing);
		memcpy(hash, hj.out, HASH_LEN);
	}
	if (f->known && f->has_hash && f->ov_same && !memcmp(hash, f->hash, HASH_LEN)) {
		/* The same bytes under new stat data: remember the stat data only. */
		if (st_sql_prepare(
			    x->db, &st,
			    "UPDATE files SET display = ?2, size = ?3, mtime_ns = ?4, inode = ?5"
			    " WHERE id = ?1",
			    x->err))
			goto out;
		sqlite3_bind_int64(st, 1, f->id);
		catalog_dbt_bind(st, 2, f->display);
		sqlite3_bind_int64(st, 3, f->size);
		sqlite3_bind_int64(st, 4, f->mtime);
		sqlite3_bind_int64(st, 5, f->inode);
		if (catalog_dbt_step(x, st, "cannot update file list"))
			goto out;
		if (f->named)
			x->stats->files_unchanged++;
		ret = 0;
		goto out;
	}
	if (f->known && x->forget(x->forget_u, f->id))
		goto out;
	if (f->named) {
		if (f->known)
			x->stats->files_changed++;
		else
			x->stats->files_new++;
	}
	x->stats->manifests_parsed++;
	*materialized = 1;
	if (st_sql_prepare(
		    x->db, &st,
		    "INSERT INTO files(path, display, hash, size, mtime_ns, inode, ndocs, "
		    "loaded_at)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, " CATALOG_LOADED_AT_NOW ")"
		    " ON CONFLICT(path) DO UPDATE SET display = ?2, hash = ?3, size = ?4,"
		    " mtime_ns = ?5, inode = ?6, loaded_at = excluded.loaded_at RETURNING id",
		    x->err))
		goto out;
	catalog_dbt_bind(st, 1, f->abs);
	catalog_dbt_bind(st, 2, f->display);
	sqlite3_bind_blob(st, 3, hash, HASH_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, f->size);
	sqlite3_bind_int64(st, 5, f->mtime);
	sqlite3_bind_int64(st, 6, f->inode);
	if (sqlite3_step(st) != SQLITE_ROW) {
		st_sql_error(x->err, x->db, "cannot store file");
		goto out;
	}
	f->id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (materialize(x, f->display, f->id, data.p, data.len, parsed ? &pre : NULL, pre_r,
			f->cat_display, has_cat ? cdata.p : NULL, cdata.len, &version, &adapter,
			&project))
		goto out;
	if (parsed) {
		hash_finish(&hj, &th, &hashing);
		if (st_sql_prepare(x->db, &st, "UPDATE files SET hash = ?2 WHERE id = ?1", x->err))
			goto out;
		sqlite3_bind_int64(st, 1, f->id);
		sqlite3_bind_blob(st, 2, hj.out, HASH_LEN, SQLITE_STATIC);
		if (catalog_dbt_step(x, st, "cannot store file"))
			goto out;
		sqlite3_finalize(st);
		st = NULL;
	}
	if (st_sql_prepare(x->db, &st,
			   "INSERT OR REPLACE INTO dbt_manifests(file_id, schema_version, adapter,"
			   " project, catalog_path, overlays) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			   x->err))
		goto out;
	sqlite3_bind_int64(st, 1, f->id);
	sqlite3_bind_int(st, 2, version);
	catalog_dbt_bind(st, 3, adapter);
	catalog_dbt_bind(st, 4, project);
	catalog_dbt_bind(st, 5, has_cat ? f->cat_abs : NULL);
	sqlite3_bind_blob(st, 6, ov, HASH_LEN, SQLITE_TRANSIENT);
	if (catalog_dbt_step(x, st, "cannot store manifest"))
		goto out;
	ret = 0;
out:
	hash_stop(&hj, &th, &hashing); /* before the bytes it reads go */
	sqlite3_finalize(st);
	st_json_tape_release(&pre.t);
	fbytes_release(&data);
	fbytes_release(&cdata);
	st_free(adapter);
	st_free(project);
	return ret;
}

int catalog_dbt_load(struct catalog_dbt_ctx *x, const struct catalog_dbt_input *in, size_t n)
{
	unsigned char ov[HASH_LEN];
	struct mf *v = NULL;
	size_t nv = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	int ret = -1, materialized = 0, ov_changed = 0, rc;

	if (overlay_digest(x, ov))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (mf_add(&v, &nv, &cap, in[i].display, in[i].abs)) {
			oom(x);
			goto out;
		}
		v[nv - 1].named = 1;
	}
	x->stats->manifests = nv;
	/* Manifests loaded before: their stored state, and the ones not named this time. */
	if (st_sql_prepare(x->db, &st,
			   "SELECT f.id, f.path, f.display, f.hash, f.size, f.mtime_ns, f.inode,"
			   " m.overlays FROM dbt_manifests m JOIN files f ON f.id = m.file_id",
			   x->err))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(st, 1);
		int same_ov = sqlite3_column_bytes(st, 7) == HASH_LEN &&
			      !memcmp(sqlite3_column_blob(st, 7), ov, HASH_LEN);
		struct mf *f = NULL;

		if (!path)
			continue;
		for (size_t i = 0; i < nv; i++)
			if (!strcmp(v[i].abs, path))
				f = &v[i];
		if (!same_ov)
			ov_changed = 1;
		if (!f) {
			if (same_ov)
				continue; /* not named, nothing to apply: left as it is */
			if (mf_add(&v, &nv, &cap, (const char *)sqlite3_column_text(st, 2), path)) {
				oom(x);
				goto out;
			}
			f = &v[nv - 1];
		}
		f->known = 1;
		f->id = sqlite3_column_int64(st, 0);
		f->ov_same = same_ov;
		if (sqlite3_column_bytes(st, 3) == HASH_LEN) {
			memcpy(f->hash, sqlite3_column_blob(st, 3), HASH_LEN);
			f->has_hash = 1;
		}
		f->size = sqlite3_column_int64(st, 4);
		f->mtime = sqlite3_column_int64(st, 5);
		f->inode = sqlite3_column_int64(st, 6);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		st_sql_error(x->err, x->db, "cannot read manifests");
		goto out;
	}
	for (size_t i = 0; i < nv; i++) {
		struct mf *f = &v[i];
		int64_t size = f->size, mtime = f->mtime, inode = f->inode;

		if (stat_sig(f)) {
			if (catalog_dbt_diag(x, ST_SEV_ERROR, f->display, 0, 0, "cannot read: %s",
					     strerror(errno)))
				goto out;
			continue;
		}
		if (f->known && f->ov_same && size == f->size && mtime == f->mtime &&
		    inode == f->inode) {
			if (f->named)
				x->stats->files_unchanged++;
			continue;
		}
		if (reload(x, f, ov, &materialized))
			goto out;
	}
	/* A manifest rewritten, or an extension changed: extensions apply again. Without any
	 * manifest, every extension is checked, and each names nothing. */
	if (!nv) {
		sqlite3_stmt *q;

		if (st_sql_prepare(x->db, &q, "SELECT 1 FROM dbt_manifests LIMIT 1", x->err))
			goto out;
		rc = sqlite3_step(q);
		sqlite3_finalize(q);
		ov_changed = rc != SQLITE_ROW;
	}
	if ((materialized || ov_changed) && catalog_dbt_apply_extensions(x))
		goto out;
	ret = 0;
out:
	sqlite3_finalize(st);
	mf_free(v, nv);
	return ret;
}
