/* `steward catalog load`: finds descriptor files, skips unchanged ones by stat data and
 * content hash, validates every document and writes the catalog in one transaction that
 * is rolled back if any problem was found. Cross-file checks (duplicates, versions,
 * references) run inside the transaction, before it commits. */
#include "catalog_int.h"
#include "dbt_int.h"
#include "alloc.h"
#include "file.h"
#include "ftsbuild.h"
#include "buf.h"
#include "embedded.h"
#include "rowbatch.h"
#include "ydoc.h"
#include "digest.h"
#include "sql.h"
#include "strmap.h"
#include "utf8.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILE_SIZE (16u << 20) /* bytes per descriptor file */
/* Bytes of field paths in struct loader's fieldset, about 2.5 MB for 10k datasets; a
 * larger load goes without (16 MB took 26 MB more at the peak of a 100k load). */
#define FIELDSET_MAX (4u << 20)
#define MAX_DIR_DEPTH 32
#define HASH_LEN ST_DIGEST_LEN

enum { F_NEW, F_CHANGED, F_UNCHANGED };

struct file_entry {
	char *display; /* as the user named it */
	char *abs;     /* realpath */
	struct stat sb; /* sb_late: filled by the fstat() that reads it (or by stat_late()) */
	int64_t id;
	int state;
	int dbt;     /* a dbt manifest: catalog/dbt.c reads it */
	int sb_late; /* the walk knew it a regular file from readdir() and did not stat it */
};

struct root {
	char *abs;
	int is_dir;
};

struct loader {
	struct catalog *c;
	sqlite3 *db;
	struct st_diags *diags;
	struct st_error *err;
	struct catalog_load_stats *stats;
	int64_t gen;
	int forgot; /* some file's datasets were dropped (changed or removed files) */
	int fresh;  /* into an empty catalog: no foreign key checks, indexes built after */
	int secure; /* PRAGMA secure_delete was on and the fresh load turned it off (1) */
	int stat_late; /* the catalog looked empty before the walk: see file_entry.sb_late */
	/* A fresh load without dbt input keeps each dataset's search row as it stores the
	 * dataset (fts_inline), in fts_rows, and search_rows() writes them in one go (search
	 * rows written between other statements were flushed to many small segments), then
	 * fixes what depends on other datasets. fts_lost: some dataset was touched without
	 * its row (a dbt extension), or a row did not fit. */
	int fts_inline, fts_lost;
	struct st_buf fts_rows; /* per row: id, then name, description, tags, owner, fields */
	size_t fts_nrows;
	struct catalog_ftsbuild *ftsb; /* indexing fts_rows beside the checks (ftsbuild.c) */
	/* A fresh load: the (name, version) keys of the datasets it wrote, which are all the
	 * catalog holds, so that a name not among them needs no look-up for duplicates. */
	struct known *seen;
	int seen_lost; /* a dbt extension: seen is not the whole catalog */
	/* A fresh load without dbt input (fts_inline): the (name, path) of every field it
	 * writes and each name's mark, as check_references() would read them from the tables
	 * (it takes them from here, without a query per name). NULL once one did not fit. */
	struct fset *fieldset;
	/* With fieldset: what the load's lineage, column lineage and term links refer to
	 * (ref_add()), so that check_references() runs its queries only when one of them is
	 * not in the catalog. refs_lost: one did not fit. */
	struct st_buf refs;
	int refs_lost;
	char **index_sql; /* the CREATE INDEX statements of the indexes dropped for the load */
	size_t nindex;
	int serial; /* parse in this thread (fault-injection runs want a fixed order) */
	char version_tag[64];
	char now[40];   /* now_text(): strftime()'s 19 bytes up to the seconds, then ".mmmZ" */
	size_t now_len; /* its bytes up to the seconds, those of now_sec */
	time_t now_sec;
	struct file_entry *files;
	size_t nfiles, files_cap;
	struct root *roots;
	size_t nroots, roots_cap;
	sqlite3_stmt *st[16];
	struct catalog_dbt_ctx dbt;
	/* Rows written many to a statement (a statement per row cost more than the rows),
	 * flushed when pass 2 ends. Code that reads these tables during pass 2 must flush
	 * the batch first, as has_field() does. The single-row statements S_FIELD_INS,
	 * S_FEDGE_INS, S_EDGE_INS, S_TAG_INS and S_TOUCH are left for other callers. */
	struct catalog_rowbatch fields, fedges, tags, edges, touched;
	/* A fresh load (not serial) writes its files and datasets rows in batches too, giving
	 * each the id SQLite would (next_file_id, next_ds_id: one past the largest): with a
	 * statement per row they took 12% of the main thread's instructions (10k descriptors),
	 * batched 4% less. Whatever reads them during pass 2 flushes them first (flush_ids()). */
	int batch_ids;
	int64_t next_file_id, next_ds_id;
	struct catalog_rowbatch *filesb, *dsb;
	struct st_buf docbuf[3]; /* load_doc(): struct docctx's path, paths and fts */
};

/* Prepared statements, indexed by the enum below. */
enum {
	S_FILE_GET, S_FILE_UPSERT, S_FILE_STAT, S_DS_DUP, S_DS_INS, S_FIELD_INS,
	S_TAG_INS, S_EDGE_INS, S_FEDGE_INS, S_TERM_INS, S_TOUCH, S_FIELD_HAS, S_FILE_NDOCS,
	S_OL_CLAIM, S_FTS_INS, S_COUNT
};

static const char *const sql_text[S_COUNT] = {
	[S_FILE_GET] = "SELECT id, hash, size, mtime_ns, inode FROM files WHERE path = ?1",
	[S_FILE_UPSERT] = "INSERT INTO files(path, display, hash, size, mtime_ns, inode, ndocs, loaded_at)"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
			  " coalesce(?8, " CATALOG_LOADED_AT_NOW "))"
			  " ON CONFLICT(path) DO UPDATE SET display = ?2, hash = ?3, size = ?4,"
			  " mtime_ns = ?5, inode = ?6, ndocs = ?7, loaded_at = excluded.loaded_at",
	[S_FILE_STAT] = "UPDATE files SET display = ?2, size = ?3, mtime_ns = ?4, inode = ?5"
			" WHERE id = ?1",
	[S_DS_DUP] = "SELECT f.display, d.line, d.col FROM datasets d JOIN files f ON f.id = d.file_id"
		     " WHERE d.name = ?1 AND d.version = ?2",
	[S_DS_INS] = "INSERT INTO datasets(name, version, kind, description, owner, domain, system,"
		     " location, format, retention, subject, compatibility, job, erasure, tags,"
		     " certified, file_id, line, col, gen, npii) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
		     " ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
	[S_FIELD_INS] = "INSERT INTO fields(dataset_id, ord, path, depth, type, item_type, required,"
			" nullable, pii, category, transform, normalize, pii_reason, scan, description,"
			" line, col) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
			" ?14, ?15, ?16, ?17)",
	[S_TAG_INS] = "INSERT OR IGNORE INTO tags(dataset_id, tag) VALUES (?1, ?2)",
	[S_EDGE_INS] = "INSERT INTO edges(dataset_id, src, dst, line, col) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_FEDGE_INS] = "INSERT INTO field_edges(dataset_id, src_ds, src_field, dst_ds, dst_field,"
			" line, col) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_TERM_INS] = "INSERT INTO term_links(dataset_id, target, field, line, col)"
		       " VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_TOUCH] = "INSERT OR IGNORE INTO temp.touched(name) VALUES (?1)",
	[S_FIELD_HAS] = "SELECT 1 FROM fields WHERE dataset_id = ?1 AND path = ?2",
	[S_FILE_NDOCS] = "UPDATE files SET ndocs = ?2 WHERE id = ?1",
	[S_OL_CLAIM] = "INSERT OR IGNORE INTO ol_claims(dataset_id, namespace, name)"
		       " VALUES (?1, ?2, ?3)",
	[S_FTS_INS] = CATALOG_FTS_INSERT_SQL,
};

/* ---- small helpers ---- */

static int oom(struct loader *L)
{
	return st_error_oom(L->err);
}

static int diag(struct loader *L, int sev, const char *file, const struct catalog_ynode *at,
		const char *fmt, ...) ST_PRINTF(5, 6);

static int diag(struct loader *L, int sev, const char *file, const struct catalog_ynode *at,
		const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (st_diags_add(L->diags, sev, file, at ? at->line : 0, at ? at->col : 0, "%s", msg))
		return oom(L);
	return 0;
}

/* The text of a scalar, or NULL for a missing, null or non-scalar node. */
static const char *sval(const struct catalog_ynode *n)
{
	if (!n || n->type != CATALOG_Y_SCALAR || catalog_yscalar_kind(n) == CATALOG_YS_NULL)
		return NULL;
	return n->value;
}

static int flag(const struct catalog_ynode *n)
{
	int b = 0;

	return n && !catalog_yscalar_bool(n, &b) ? b : 0;
}

/* Binds text without a copy (a copy per value was a malloc, memcpy and free for each of
 * about a million values in a large load): s must stay valid until the statement has been
 * stepped. Every caller binds every parameter before each step, so a binding whose text
 * is gone is never read. */
static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

void catalog_set_scrubber(struct catalog *c, catalog_scrub_fn fn, void *ctx)
{
	c->scrub = fn;
	c->scrub_ctx = ctx;
}

/* Steps a statement that returns no rows and resets it. Returns 0, or -1 with err. */
static int step_done(struct loader *L, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	/* Bindings are kept: every caller binds every parameter before the next step. */
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	return st_sql_error(L->err, L->db, what);
}

static int touch(struct loader *L, const char *name)
{
	/* Batched: temp.touched is a set read only when the search index is rebuilt. */
	return catalog_rowbatch_text(&L->touched, name, name ? strlen(name) : 0, L->err,
				     "cannot record change");
}

/* Text with trailing white space (as left by folded block scalars) removed. */
static char *trimmed(const char *s)
{
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return st_strndup(s, n);
}

/* ---- finding files ---- */

static int has_yaml_ext(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml"));
}

/* Adds a file; real is its real path when the caller knows it (NULL: resolved here). */
static int add_file(struct loader *L, const char *display, const char *real,
		    const struct stat *sb, int sb_late)
{
	struct file_entry *f;
	char *abs = real ? NULL : realpath(display, NULL);

	if (!real && !abs)
		return diag(L, ST_SEV_ERROR, display, NULL, "cannot resolve path: %s",
			    strerror(errno));
	if (st_grow(&L->files, &L->files_cap, L->nfiles + 1, sizeof(*L->files))) {
		free(abs);
		return oom(L);
	}
	f = &L->files[L->nfiles];
	memset(f, 0, sizeof(*f));
	f->display = st_strdup(display);
	f->abs = st_strdup(real ? real : abs);
	free(abs);
	f->sb = *sb;
	f->sb_late = sb_late;
	L->nfiles++;
	if (!f->display || !f->abs)
		return oom(L);
	return 0;
}

/* A directory entry: its name, and whether readdir() called it a regular file. */
struct dname {
	char *name;
	int reg;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(((const struct dname *)a)->name, ((const struct dname *)b)->name);
}

/* dir/name into b (no slash doubled after dir), without printf: a walk of 10k files made
 * two paths per file. Returns 0, or -1 when it does not fit. */
static int join_path(struct st_buf *b, const char *dir, const char *name)
{
	size_t n = strlen(dir);

	return st_buf_add(b, dir, n) || (dir[n - 1] != '/' && st_buf_add(b, "/", 1)) ||
	       st_buf_adds(b, name);
}

/* The real path of a directory entry that is not a symbolic link: real_dir/name. Returns 0
 * with it in real, 1 when it is longer than PATH_MAX (realpath() then decides), -1 when out
 * of memory. */
static int real_child(struct st_buf *real, const char *real_dir, const char *name)
{
	size_t n = strlen(real_dir);

	if (n + strlen(name) + 2 > PATH_MAX)
		return 1;
	return join_path(real, real_dir, name);
}

/* Walks dir, whose real path is real_dir (NULL: unknown), for descriptors and dbt
 * manifests; with dbt_only, for manifests alone (the YAML under a dbt project's own
 * directories is dbt's, not steward's). An entry that is not a symbolic link has the real
 * path real_dir/name, so only links need realpath(), which costs a system call per path
 * component. */
static int walk_dir(struct loader *L, const char *dir, const char *real_dir, int depth,
		    int dbt_only)
{
	struct dname *names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int ret = -1;
	DIR *d;

	if (depth > MAX_DIR_DEPTH)
		return diag(L, ST_SEV_ERROR, dir, NULL, "directories nested deeper than %d levels",
			    MAX_DIR_DEPTH);
	d = opendir(dir);
	if (!d)
		return diag(L, ST_SEV_ERROR, dir, NULL, "cannot read directory: %s", strerror(errno));
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue; /* ., .., and hidden entries such as .git */
		if (st_grow(&names, &cap, n + 1, sizeof(*names)) ||
		    !(names[n].name = st_strdup(de->d_name))) {
			oom(L);
			goto out;
		}
		names[n++].reg = de->d_type == DT_REG;
	}
	if (n > 1) /* qsort(NULL, 0) is undefined */
		qsort(names, n, sizeof(*names), cmp_names);
	int project = !dbt_only && catalog_dbt_is_project(dir);
	/* Entries are stat()ed by name in the open directory, not by a path walked again. */
	for (size_t i = 0; i < n; i++) {
		const char *name = names[i].name;
		struct st_buf path, real;
		struct stat lsb, sb;
		int r = 0;

		st_buf_init(&path, PATH_MAX);
		st_buf_init(&real, PATH_MAX);
		if (join_path(&path, dir, name)) {
			st_buf_release(&path);
			if (strlen(dir) + strlen(name) + 2 <= PATH_MAX)
				r = st_error_oom(L->err); /* it fits: the allocation failed */
			else
				r = diag(L, ST_SEV_ERROR, dir, NULL, "path too long under this directory");
		} else if (L->stat_late && names[i].reg) {
			/* A regular file, as readdir() said: the worker's fstat() gives its size,
			 * time and inode (stat_late() when the load is not a fresh one). */
			memset(&sb, 0, sizeof(sb));
			sb.st_mode = S_IFREG;
			if (real_dir && real_child(&real, real_dir, name) < 0)
				r = st_error_oom(L->err);
			else if (has_yaml_ext(name) && !dbt_only &&
				 !(project && catalog_dbt_own(name, 0)))
				r = add_file(L, path.p, real.len ? real.p : NULL, &sb, 1);
			else if (catalog_dbt_sniff(path.p, name) &&
				 !(r = add_file(L, path.p, real.len ? real.p : NULL, &sb, 1)))
				L->files[L->nfiles - 1].dbt = 1;
		} else if (fstatat(dirfd(d), name, &lsb, AT_SYMLINK_NOFOLLOW) ||
			   (S_ISLNK(lsb.st_mode) ? fstatat(dirfd(d), name, &sb, 0)
						 : (sb = lsb, 0))) {
			r = diag(L, ST_SEV_ERROR, path.p, NULL, "cannot read: %s", strerror(errno));
		} else if (real_dir && !S_ISLNK(lsb.st_mode) &&
			   real_child(&real, real_dir, name) < 0) {
			r = st_error_oom(L->err);
		} else if (S_ISDIR(sb.st_mode)) {
			/* Symlinked directories are not followed, so the walk cannot loop. */
			if (!S_ISLNK(lsb.st_mode))
				r = walk_dir(L, path.p, real.len ? real.p : NULL, depth + 1,
					     dbt_only || (project && catalog_dbt_own(name, 1)));
		} else if (S_ISREG(sb.st_mode) && has_yaml_ext(name) && !dbt_only &&
			   !(project && catalog_dbt_own(name, 0))) {
			r = add_file(L, path.p, real.len ? real.p : NULL, &sb, 0);
		} else if (S_ISREG(sb.st_mode) && catalog_dbt_sniff(path.p, name)) {
			if (!(r = add_file(L, path.p, real.len ? real.p : NULL, &sb, 0)))
				L->files[L->nfiles - 1].dbt = 1;
		}
		st_buf_release(&path);
		st_buf_release(&real);
		if (r)
			goto out;
	}
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		st_free(names[i].name);
	st_free(names);
	closedir(d);
	return ret;
}

static int cmp_files(const void *a, const void *b)
{
	return strcmp(((const struct file_entry *)a)->abs, ((const struct file_entry *)b)->abs);
}

static int collect(struct loader *L, const char *const *paths, size_t npaths)
{
	for (size_t i = 0; i < npaths; i++) {
		struct stat sb;
		char *abs;
		struct root *r;

		if (stat(paths[i], &sb)) {
			if (diag(L, ST_SEV_ERROR, paths[i], NULL, "cannot read: %s", strerror(errno)))
				return -1;
			continue;
		}
		abs = realpath(paths[i], NULL);
		if (!abs || st_grow(&L->roots, &L->roots_cap, L->nroots + 1, sizeof(*L->roots))) {
			free(abs);
			return oom(L);
		}
		r = &L->roots[L->nroots];
		r->abs = st_strdup(abs);
		r->is_dir = S_ISDIR(sb.st_mode);
		free(abs);
		if (!r->abs)
			return oom(L);
		L->nroots++;
		if (r->is_dir ? walk_dir(L, paths[i], r->abs, 0, 0)
			      : add_file(L, paths[i], NULL, &sb, 0))
			return -1;
		if (!r->is_dir && catalog_dbt_is_json(paths[i]))
			L->files[L->nfiles - 1].dbt = 1;
	}
	if (!L->nfiles)
		return 0;
	/* One entry per real file, however many ways it was named. */
	qsort(L->files, L->nfiles, sizeof(*L->files), cmp_files);
	size_t out = 1;
	for (size_t i = 1; i < L->nfiles; i++) {
		if (!strcmp(L->files[i].abs, L->files[out - 1].abs)) {
			st_free(L->files[i].abs);
			st_free(L->files[i].display);
			continue;
		}
		L->files[out++] = L->files[i];
	}
	L->nfiles = out;
	return 0;
}

static int under_roots(const struct loader *L, const char *abs)
{
	for (size_t i = 0; i < L->nroots; i++) {
		const char *r = L->roots[i].abs;
		size_t n = strlen(r);

		if (!strcmp(abs, r))
			return 1;
		if (L->roots[i].is_dir && !strncmp(abs, r, n) && (abs[n] == '/' || (n == 1)))
			return 1;
	}
	return 0;
}

/* Reads a whole file into a new buffer of at most MAX_FILE_SIZE bytes. Returns 0, or -1
 * after adding a diagnostic to diags (or setting err on out of memory). Thread-safe. */
static int read_file(const struct file_entry *f, struct st_diags *diags, struct st_error *err,
		     unsigned char **out, size_t *len, struct stat *sbp)
{
	unsigned char *p = NULL;
	const char *why;
	int fd = open(f->display, O_RDONLY | O_CLOEXEC);
	struct stat sb;

	*out = NULL;
	if (fd < 0 || fstat(fd, &sb)) {
		st_diags_add(diags, ST_SEV_ERROR, f->display, 0, 0, "cannot read: %s",
			     strerror(errno));
		goto fail;
	}
	if (sb.st_size > (off_t)MAX_FILE_SIZE) {
		st_diags_add(diags, ST_SEV_ERROR, f->display, 0, 0,
			     "file is %lld bytes, over the limit of %u bytes for a descriptor file",
			     (long long)sb.st_size, MAX_FILE_SIZE);
		goto fail;
	}
	p = st_malloc((size_t)sb.st_size + 1);
	if (!p) {
		st_error_oom(err);
		goto fail;
	}
	if ((why = st_file_read_exact(fd, p, (size_t)sb.st_size))) {
		st_diags_add(diags, ST_SEV_ERROR, f->display, 0, 0, "cannot read: %s", why);
		goto fail;
	}
	close(fd);
	*out = p;
	*len = (size_t)sb.st_size;
	if (sbp)
		*sbp = sb;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	st_free(p);
	return -1;
}

static int64_t mtime_ns(const struct stat *sb)
{
	return (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
}

/* ---- removing what a file declared ---- */

static int forget_file(struct loader *L, int64_t file_id, int drop_row)
{
	static const char *const sql[] = {
		"INSERT OR IGNORE INTO temp.touched(name) SELECT name FROM datasets WHERE file_id = ?1",
		("INSERT OR IGNORE INTO temp.touched(name) SELECT l.target FROM term_links l"
		 " JOIN datasets d ON d.id = l.dataset_id WHERE d.file_id = ?1"),
		"INSERT OR IGNORE INTO temp.gone(name) SELECT name FROM datasets WHERE file_id = ?1",
		"DELETE FROM search_fts WHERE rowid IN (SELECT id FROM datasets WHERE file_id = ?1)",
		"DELETE FROM datasets WHERE file_id = ?1",
		"DELETE FROM dbt_extends WHERE file_id = ?1",
		"DELETE FROM files WHERE id = ?1",
	};
	size_t n = sizeof(sql) / sizeof(*sql) - (drop_row ? 0 : 1);

	L->forgot = 1;
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st;
		int r;

		if (st_sql_prepare(L->db, &st, sql[i], L->err))
			return -1;
		sqlite3_bind_int64(st, 1, file_id);
		r = sqlite3_step(st);
		sqlite3_finalize(st);
		if (r != SQLITE_DONE)
			return st_sql_error(L->err, L->db, "cannot remove old descriptors");
	}
	return 0;
}

/* For a load that is not a fresh one, which compares them with the file list: the size,
 * time and inode of the files the walk did not stat(). A file that is gone is reported and
 * left out, as the walk would have. Returns 0 or -1. */
static int stat_late(struct loader *L)
{
	size_t out = 0;

	for (size_t i = 0; i < L->nfiles; i++) {
		struct file_entry *f = &L->files[i];

		if (f->sb_late && !f->dbt && stat(f->display, &f->sb)) {
			int r = diag(L, ST_SEV_ERROR, f->display, NULL, "cannot read: %s",
				     strerror(errno));

			st_free(f->abs);
			st_free(f->display);
			L->stats->files--;
			if (r) { /* keep the list whole for the cleanup */
				for (size_t j = i + 1; j < L->nfiles; j++)
					L->files[out++] = L->files[j];
				L->nfiles = out;
				return -1;
			}
			continue;
		}
		f->sb_late = 0;
		L->files[out++] = *f;
	}
	L->nfiles = out;
	return 0;
}

/* Pass 1: decide which files changed, and drop what changed or vanished files declared,
 * so that pass 2 sees datasets move between files without false duplicates. */
static int classify(struct loader *L)
{
	sqlite3_stmt *get = L->st[S_FILE_GET], *st = NULL;
	int ret = -1;

	for (size_t i = 0; i < L->nfiles; i++) {
		struct file_entry *f = &L->files[i];
		unsigned char hash[HASH_LEN], *data = NULL;
		const void *old_hash;
		size_t len;
		int rc;

		if (f->dbt)
			continue; /* catalog_dbt_load() decides */
		rc = SQLITE_DONE; /* an empty catalog has no row to look up */
		if (!L->fresh) {
			sqlite3_bind_text(get, 1, f->abs, -1, SQLITE_STATIC);
			rc = sqlite3_step(get);
		}
		if (rc != SQLITE_ROW) {
			sqlite3_reset(get);
			if (rc != SQLITE_DONE)
				return st_sql_error(L->err, L->db, "cannot read file list");
			f->state = F_NEW;
			L->stats->files_new++;
			continue;
		}
		f->id = sqlite3_column_int64(get, 0);
		if (sqlite3_column_int64(get, 2) == (int64_t)f->sb.st_size &&
		    sqlite3_column_int64(get, 3) == mtime_ns(&f->sb) &&
		    sqlite3_column_int64(get, 4) == (int64_t)f->sb.st_ino) {
			f->state = F_UNCHANGED;
		} else if (read_file(f, L->diags, L->err, &data, &len, NULL)) {
			sqlite3_reset(get);
			if (L->err->code)
				return -1;
			f->state = F_UNCHANGED; /* reported; keep the old state */
			continue;
		} else {
			st_digest(data, len, hash);
			st_free(data);
			old_hash = sqlite3_column_blob(get, 1);
			f->state = sqlite3_column_bytes(get, 1) == HASH_LEN &&
						   !memcmp(old_hash, hash, HASH_LEN)
					   ? F_UNCHANGED
					   : F_CHANGED;
			if (f->state == F_UNCHANGED) {
				sqlite3_stmt *u = L->st[S_FILE_STAT];

				sqlite3_bind_int64(u, 1, f->id);
				bind_text(u, 2, f->display);
				sqlite3_bind_int64(u, 3, (int64_t)f->sb.st_size);
				sqlite3_bind_int64(u, 4, mtime_ns(&f->sb));
				sqlite3_bind_int64(u, 5, (int64_t)f->sb.st_ino);
				sqlite3_reset(get);
				if (step_done(L, u, "cannot update file list"))
					return -1;
			}
		}
		sqlite3_reset(get);
		if (f->state == F_CHANGED) {
			L->stats->files_changed++;
			if (forget_file(L, f->id, 0))
				return -1;
		} else {
			L->stats->files_unchanged++;
		}
	}
	/* Files that were loaded from under these paths before and are gone now. */
	if (st_sql_prepare(L->db, &st, "SELECT id, path FROM files", L->err))
		return -1;
	{
		int64_t *gone = NULL;
		size_t ngone = 0, cap = 0;

		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *path = (const char *)sqlite3_column_text(st, 1);
			struct file_entry probe = {0};

			probe.abs = (char *)path;
			if (!under_roots(L, path) ||
			    (L->nfiles && /* bsearch() takes no NULL array */
			     bsearch(&probe, L->files, L->nfiles, sizeof(*L->files), cmp_files)))
				continue;
			if (st_grow(&gone, &cap, ngone + 1, sizeof(*gone))) {
				st_free(gone);
				oom(L);
				goto out;
			}
			gone[ngone++] = sqlite3_column_int64(st, 0);
		}
		sqlite3_finalize(st);
		st = NULL;
		for (size_t i = 0; i < ngone; i++)
			if (forget_file(L, gone[i], 1)) {
				st_free(gone);
				goto out;
			}
		L->stats->files_removed = ngone;
		st_free(gone);
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* The fields of the datasets that references name, read once per name: a set of
 * (name, path) keys in a string map (strmap.h), each name also entered with a path of
 * "\x01" once its fields are in. It answers catalog_known_field(name, path), which
 * check_references() asks instead of a subquery that scanned the dataset's field rows for
 * each reference (most of the check's time). */
struct known {
	const struct fset *fs; /* every field of the catalog (a fresh load's): no q */
	sqlite3_stmt *q; /* the paths of every version of a name */
	struct st_strmap set; /* each key: name (no NUL in it), a NUL, then the second part */
	struct st_buf key;    /* the key looked for */
	int failed; /* SQLITE_NOMEM or an SQLite error code */
};

/* The key of (a, b) in k->key, or NULL when memory ran out. */
static const char *known_key(struct known *k, const char *a, size_t an, const char *b, size_t bn)
{
	st_buf_reset(&k->key);
	if (st_buf_add(&k->key, a, an) || st_buf_add(&k->key, "", 1) || st_buf_add(&k->key, b, bn))
		return NULL;
	return k->key.p;
}

/* Enters key (a, b). Returns 1 when it is new, 0 when it was there, -1 when memory ran
 * out. */
static int known_add(struct known *k, const char *a, size_t an, const char *b, size_t bn)
{
	const char *key = known_key(k, a, an, b, bn);

	return key ? st_strmap_put(&k->set, key, k->key.len, NULL) : -1;
}

static int known_has(struct known *k, const char *a, size_t an, const char *b, size_t bn)
{
	const char *key = k->set.n ? known_key(k, a, an, b, bn) : NULL;

	return key && st_strmap_get(&k->set, key, k->key.len);
}

static void known_free(struct known *k)
{
	if (!k)
		return;
	sqlite3_finalize(k->q);
	st_strmap_release(&k->set);
	st_buf_release(&k->key);
	st_free(k);
}

/* A new set, or NULL when memory ran out. */
static struct known *known_new(void)
{
	struct known *k = st_calloc(1, sizeof(*k));

	if (k)
		st_buf_init(&k->key, (size_t)1 << 31);
	return k;
}

/* Keeps a reference of the load in L->refs: kind (REF_*), then the dataset's name and the
 * field's path (b: NULL for none), each as a size_t length and its bytes. */
enum { REF_DATASET = 1, REF_FIELD, REF_TERM };

static void ref_add(struct loader *L, int kind, const char *a, size_t an, const char *b)
{
	unsigned char k = (unsigned char)kind;
	size_t bn = b ? strlen(b) : (size_t)-1;

	if (!L->fieldset || L->refs_lost)
		return;
	if (st_buf_add(&L->refs, &k, 1) || st_buf_add(&L->refs, &an, sizeof(an)) ||
	    st_buf_add(&L->refs, a, an) || st_buf_add(&L->refs, &bn, sizeof(bn)) ||
	    (b && st_buf_add(&L->refs, b, bn)))
		L->refs_lost = 1;
}

/* The field paths of every dataset a fresh load wrote, by name: what check_references()
 * asks of the fields table. An entry per dataset, with the paths walk_field() kept
 * (struct docctx's paths); the versions of a name are chained, latest first. */
struct fset_ent {
	size_t paths_at, paths_len;
	size_t next; /* the name's previous entry + 1, or 0 */
};

struct fset {
	struct st_buf bytes; /* paths */
	struct fset_ent *ent;
	size_t n, ent_cap;
	struct st_strmap names; /* name -> its latest entry + 1 */
	size_t names_len;       /* bytes of the names, bounded with the paths */
};

static void fset_free(struct fset *s)
{
	if (!s)
		return;
	st_buf_release(&s->bytes);
	st_free(s->ent);
	st_strmap_release(&s->names);
	st_free(s);
}

/* The latest entry of name, or NULL. */
static const struct fset_ent *fset_find(const struct fset *s, const char *name, size_t len)
{
	const struct st_strent *at = st_strmap_get(&s->names, name, len);

	return at ? &s->ent[at->val - 1] : NULL;
}

/* Whether a version of e's name has a field of path (len bytes). */
static int fset_has(const struct fset *s, const struct fset_ent *e, const char *path, size_t len)
{
	for (; e; e = e->next ? &s->ent[e->next - 1] : NULL) {
		const char *p = s->bytes.p + e->paths_at;
		size_t n;

		for (size_t i = 0; i < e->paths_len; i += sizeof(n) + n) {
			memcpy(&n, p + i, sizeof(n));
			if (n == len && !memcmp(p + i + sizeof(n), path, n))
				return 1;
		}
	}
	return 0;
}

/* Enters a dataset: its name and its paths (struct docctx's). Returns 0, or -1 when memory
 * ran out or the paths would pass FIELDSET_MAX. */
static int fset_add(struct fset *s, const char *name, size_t len, const struct st_buf *paths)
{
	struct fset_ent *e;
	struct st_strent *at;

	if (s->bytes.len + s->names_len + len + paths->len > FIELDSET_MAX ||
	    st_grow(&s->ent, &s->ent_cap, s->n + 1, sizeof(*s->ent)))
		return -1;
	e = &s->ent[s->n];
	e->paths_at = s->bytes.len;
	e->paths_len = paths->len;
	if ((paths->len && st_buf_add(&s->bytes, paths->p, paths->len)) ||
	    st_strmap_put(&s->names, name, len, &at) < 0)
		return -1;
	s->names_len += len;
	e->next = (size_t)at->val;
	at->val = (int64_t)++s->n;
	return 0;
}

/* The fields of the load are not all in L->fieldset: check_references() reads them. */
static void fieldset_lost(struct loader *L)
{
	fset_free(L->fieldset);
	L->fieldset = NULL;
	st_buf_release(&L->refs);
	L->refs_lost = 1;
}

/* ---- one document ---- */

/* What the scrubber made of a text at a node, found on a parse worker (pre_scrub()), in
 * the order the main thread asks for them. clean is owned until taken. */
struct scrub_memo {
	const struct catalog_ynode *at;
	size_t len;
	char *clean;
	size_t found;
};

/* Free text ready to bind: the text as written, or the scrubber's copy (owned). */
struct ftext {
	const char *p; /* NULL: SQL NULL */
	size_t len;
	char *owned;
};

/* The top-level keys that storing a document reads, each found once (root_keys()). */
enum {
	K_NAME,
	K_VERSION,
	K_KIND,
	K_DESCRIPTION,
	K_OWNER,
	K_DOMAIN,
	K_SYSTEM,
	K_LOCATION,
	K_FORMAT,
	K_RETENTION,
	K_SUBJECT,
	K_COMPATIBILITY,
	K_LINEAGE,
	K_ERASURE,
	K_TAGS,
	K_OPENLINEAGE,
	K_FIELDS,
	K_COLUMNS,
	K_RELATED,
	K_NKEYS
};

/* One document, written in a single pass: the dataset row, then each field while it is
 * checked. Rows of a document with problems may be written too; the load as a whole is
 * rolled back when any error was found, so they never become visible. */
struct docctx {
	struct loader *L;
	const char *file;
	const char *name;
	int64_t dataset_id;
	int64_t ord;
	struct st_buf path;
	struct st_buf paths; /* the paths of the fields written: a size_t length, then bytes */
	int paths_lost;      /* one did not fit: has_field() asks the database */
	struct st_buf fts;   /* fts_inline: the search row's 'fields' text */
	int fts_lost;        /* it did not fit */
	struct scrub_memo *memo; /* the worker's scrubbing of the document's texts */
	size_t nmemo, imemo;     /* imemo: the next one asked for */
	const struct catalog_ynode *k[K_NKEYS]; /* root_keys(): the document's top-level values */
};

/* Binds len bytes of free text (NULL: SQL NULL) after the catalog's scrubber; a text that
 * held personal data is stored redacted, with a warning at the node. Returns 0, or -1 when
 * the load must stop. */
/* Passes len bytes of free text (NULL: SQL NULL) through the catalog's scrubber into out; a
 * text that held personal data is kept redacted, with a warning at the node. Returns 0, or
 * -1 when the load must stop. The caller frees out->owned. */
static int scrub_text(struct docctx *d, const char *text, size_t len,
		      const struct catalog_ynode *at, const char *what, struct ftext *out)
{
	struct loader *L = d->L;
	size_t found = 0;
	char *clean;

	memset(out, 0, sizeof(*out));
	if (!text)
		return 0;
	if (d->imemo < d->nmemo && d->memo[d->imemo].at == at && d->memo[d->imemo].len == len) {
		/* Scrubbed already, on a parse worker. */
		clean = d->memo[d->imemo].clean;
		found = d->memo[d->imemo].found;
		d->memo[d->imemo++].clean = NULL;
	} else {
		clean = L->c->scrub ? L->c->scrub(text, len, &found, L->c->scrub_ctx) : NULL;
	}
	if (found && !clean) {
		st_error_oom(L->err);
		return -1;
	}
	if (found && diag(L, ST_SEV_WARNING, d->file, at,
			  "%s holds what looks like personal data (%zu value%s); it is stored with "
			  "%s replaced",
			  what, found, found == 1 ? "" : "s", found == 1 ? "it" : "them")) {
		st_free(clean);
		return -1;
	}
	if (clean) {
		out->owned = clean;
		out->p = clean;
		out->len = strlen(clean);
		return 0;
	}
	out->p = text;
	out->len = len;
	return 0;
}

/* Adds a text (NULL: SQL NULL) of a search row to L->fts_rows: its length, or -1, then its
 * bytes. A text that does not fit loses the rows (fts_lost). */
static void fts_text(struct loader *L, const char *s, size_t len)
{
	int64_t n = s ? (int64_t)len : -1;

	if (L->fts_lost || st_buf_add(&L->fts_rows, &n, sizeof(n)) ||
	    (s && st_buf_add(&L->fts_rows, s, len)))
		L->fts_lost = 1;
}

/* A dataset row's values: bound to S_DS_INS (st), or added to L->dsb (st NULL; see struct
 * loader's batch_ids). bad: one could not be added (L->err). */
struct dsrow {
	struct loader *L;
	sqlite3_stmt *st;
	int bad;
};

/* Value i (1: name) of the row: len bytes of text at s (NULL: SQL NULL), which the statement
 * may keep until it runs unless copy. */
static void ds_text(struct dsrow *r, int i, const char *s, size_t len, int copy)
{
	if (!r->st)
		r->bad = r->bad || catalog_rowbatch_text(r->L->dsb, s, len, r->L->err,
							 "cannot store dataset");
	else if (s)
		sqlite3_bind_text(r->st, i, s, (int)len, copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
	else
		sqlite3_bind_null(r->st, i);
}

static void ds_str(struct dsrow *r, int i, const char *s)
{
	ds_text(r, i, s, s ? strlen(s) : 0, 0);
}

static void ds_int(struct dsrow *r, int i, int64_t v)
{
	if (!r->st)
		r->bad = r->bad ||
			 catalog_rowbatch_int(r->L->dsb, v, r->L->err, "cannot store dataset");
	else
		sqlite3_bind_int64(r->st, i, v);
}

static int check_dupes(struct docctx *d, const struct catalog_ynode *list)
{
	const struct catalog_ynode *names[256];

	/* Each field's name looked up once: the pairwise loop below looked every name up
	 * again for each later field. Longer lists take that slower path. */
	if (list->n <= sizeof(names) / sizeof(*names)) {
		for (size_t i = 0; i < list->n; i++)
			names[i] = catalog_ymap_get(list->kids[i], "name");
		for (size_t i = 1; i < list->n; i++) {
			const struct catalog_ynode *an = names[i];

			for (size_t j = 0; an && j < i; j++) {
				const struct catalog_ynode *bn = names[j];

				if (!bn || an->len != bn->len ||
				    memcmp(an->value, bn->value, an->len))
					continue;
				if (diag(d->L, ST_SEV_ERROR, d->file, an,
					 "duplicate field '%s' (first at line %u)", an->value,
					 bn->line))
					return -1;
				break;
			}
		}
		return 0;
	}
	for (size_t i = 1; i < list->n; i++) {
		const struct catalog_ynode *an = catalog_ymap_get(list->kids[i], "name");

		for (size_t j = 0; an && j < i; j++) {
			const struct catalog_ynode *bn = catalog_ymap_get(list->kids[j], "name");

			if (bn && an->len == bn->len && !memcmp(an->value, bn->value, an->len)) {
				if (diag(d->L, ST_SEV_ERROR, d->file, an,
					 "duplicate field '%s' (first at line %u)", an->value, bn->line))
					return -1;
				break;
			}
		}
	}
	return 0;
}

static int walk_fields(struct docctx *d, const struct catalog_ynode *list, int depth);

/* An array's items: fields only under an object element, recursing into nested arrays.
 * Item fields are addressed through the array's own path (units.course_ids). */
static int walk_items(struct docctx *d, const struct catalog_ynode *items, int depth)
{
	const char *type = sval(catalog_ymap_get(items, "type"));
	const struct catalog_ynode *sub = catalog_ymap_get(items, "fields");
	const struct catalog_ynode *inner = catalog_ymap_get(items, "items");

	if (sub && type && strcmp(type, "object") &&
	    diag(d->L, ST_SEV_ERROR, d->file, sub,
		 "'fields' under 'items' needs 'type: object', not '%s'", type))
		return -1;
	if (inner && type && strcmp(type, "array") &&
	    diag(d->L, ST_SEV_ERROR, d->file, inner,
		 "'items' under 'items' needs 'type: array', not '%s'", type))
		return -1;
	if (sub && walk_fields(d, sub, depth))
		return -1;
	if (inner && walk_items(d, inner, depth))
		return -1;
	return 0;
}

static int store_from(struct docctx *d, const struct catalog_ynode *from)
{
	struct loader *L = d->L;
	struct catalog_rowbatch *b = &L->fedges;
	static const char what[] = "cannot store column lineage";

	for (size_t i = 0; from && i < from->n; i++) {
		const struct catalog_ynode *r = from->kids[i];
		size_t fo, dl = catalog_split_ref(r->value, &fo);

		ref_add(L, REF_FIELD, r->value, dl, r->value + fo);
		if (catalog_rowbatch_int(b, d->dataset_id, L->err, what) ||
		    catalog_rowbatch_text(b, r->value, dl, L->err, what) ||
		    catalog_rowbatch_text(b, r->value + fo, strlen(r->value + fo), L->err, what) ||
		    catalog_rowbatch_text(b, d->name, strlen(d->name), L->err, what) ||
		    catalog_rowbatch_text(b, d->path.p, d->path.len, L->err, what) ||
		    catalog_rowbatch_int(b, (int)r->line, L->err, what) ||
		    catalog_rowbatch_int(b, (int)r->col, L->err, what))
			return -1;
	}
	return 0;
}

/* A field's keys, found in one pass over its mapping (a look-up per key was most of the
 * loader's own time); the first of duplicate keys wins, as with catalog_ymap_get(). */
struct fkeys {
	const struct catalog_ynode *name, *type, *pii, *category, *fields, *items, *description,
		*required, *nullable, *transform, *normalize, *pii_reason, *scan, *from;
};

/* The member of struct fkeys for a field's key, or NULL: the length picks the one to three
 * names to compare (field_keys() runs three times per field, and a compare per name was most
 * of it). */
static const struct catalog_ynode **fkey_slot(struct fkeys *k, const char *key, size_t len)
{
#define IS(word) (!memcmp(key, word, sizeof(word) - 1))
	switch (len) {
	case 3:
		return IS("pii") ? &k->pii : NULL;
	case 4:
		return IS("name")   ? &k->name
		       : IS("type") ? &k->type
		       : IS("from") ? &k->from
		       : IS("scan") ? &k->scan
				    : NULL;
	case 5:
		return IS("items") ? &k->items : NULL;
	case 6:
		return IS("fields") ? &k->fields : NULL;
	case 8:
		return IS("category")   ? &k->category
		       : IS("required") ? &k->required
		       : IS("nullable") ? &k->nullable
					: NULL;
	case 9:
		return IS("transform") ? &k->transform : IS("normalize") ? &k->normalize : NULL;
	case 10:
		return IS("pii_reason") ? &k->pii_reason : NULL;
	case 11:
		return IS("description") ? &k->description : NULL;
	default:
		return NULL;
	}
#undef IS
}

static void field_keys(const struct catalog_ynode *f, struct fkeys *k)
{
	memset(k, 0, sizeof(*k));
	if (!f || f->type != CATALOG_Y_MAP)
		return;
	for (size_t i = 0; i < f->n; i++) {
		const struct catalog_ynode *key = f->kids[2 * i];
		const struct catalog_ynode **slot;

		if (key->type != CATALOG_Y_SCALAR)
			continue;
		slot = fkey_slot(k, key->value, key->len);
		if (slot && !*slot)
			*slot = f->kids[2 * i + 1];
	}
}

/* Adds text (NUL-terminated, or NULL) to a row of a batch. */
static int batch_str(struct loader *L, struct catalog_rowbatch *b, const char *s,
		     const char *what)
{
	return catalog_rowbatch_text(b, s, s ? strlen(s) : 0, L->err, what);
}

/* The field row of d->path, in column order (the texts are copied). */
static int add_field_row(struct docctx *d, int depth, const struct fkeys *k,
			 const struct ftext *reason, const struct ftext *desc,
			 const struct catalog_ynode *f)
{
	struct loader *L = d->L;
	struct catalog_rowbatch *b = &L->fields;
	static const char what[] = "cannot store field";
	const struct catalog_ynode *items = k->items;

	if (catalog_rowbatch_int(b, d->dataset_id, L->err, what) ||
	    catalog_rowbatch_int(b, d->ord++, L->err, what) ||
	    catalog_rowbatch_text(b, d->path.p, d->path.len, L->err, what) ||
	    catalog_rowbatch_int(b, depth, L->err, what) ||
	    batch_str(L, b, sval(k->type), what) ||
	    batch_str(L, b, items ? sval(catalog_ymap_get(items, "type")) : NULL, what) ||
	    catalog_rowbatch_int(b, flag(k->required), L->err, what) ||
	    catalog_rowbatch_int(b, flag(k->nullable), L->err, what) ||
	    batch_str(L, b, sval(k->pii), what) || batch_str(L, b, sval(k->category), what) ||
	    batch_str(L, b, sval(k->transform), what) ||
	    batch_str(L, b, sval(k->normalize), what) ||
	    catalog_rowbatch_text(b, reason->p, reason->len, L->err, what) ||
	    catalog_rowbatch_int(b, flag(k->scan), L->err, what) ||
	    catalog_rowbatch_text(b, desc->p, desc->len, L->err, what) ||
	    catalog_rowbatch_int(b, (int)f->line, L->err, what) ||
	    catalog_rowbatch_int(b, (int)f->col, L->err, what))
		return -1;
	return 0;
}

static int walk_field(struct docctx *d, const struct catalog_ynode *f, int depth)
{
	struct loader *L = d->L;
	struct fkeys k;
	const struct catalog_ynode *namen, *sub, *items, *desc, *reason;
	const char *type, *cat;
	struct ftext rt = {0}, dt = {0};
	size_t parent_len = d->path.len, dlen;
	int ret = -1;

	field_keys(f, &k);
	namen = k.name;
	type = sval(k.type);
	cat = sval(k.category);
	sub = k.fields;
	items = k.items;
	desc = k.description;
	if ((parent_len && st_buf_add(&d->path, ".", 1)) ||
	    st_buf_add(&d->path, namen->value, namen->len)) {
		if (diag(L, ST_SEV_ERROR, d->file, f, "field path too long"))
			goto out;
		goto done;
	}
	if (sub && strcmp(type, "object") &&
	    diag(L, ST_SEV_ERROR, d->file, sub, "field '%s' has 'fields' but type '%s', not 'object'",
		 d->path.p, type))
		goto out;
	if (items && strcmp(type, "array") &&
	    diag(L, ST_SEV_ERROR, d->file, items, "field '%s' has 'items' but type '%s', not 'array'",
		 d->path.p, type))
		goto out;
	if (cat) {
		char msg[512];

		if (catalog_category_deprecation(L->c->tax, cat, msg, sizeof(msg)) &&
		    diag(L, ST_SEV_WARNING, d->file, k.category, "%s", msg))
			goto out;
	}
	reason = k.pii_reason;
	if (scrub_text(d, sval(reason), sval(reason) ? reason->len : 0, reason, "the pii_reason",
		       &rt))
		goto out;
	for (dlen = sval(desc) ? desc->len : 0; dlen && strchr(" \t\n", desc->value[dlen - 1]);
	     dlen--)
		;
	if (scrub_text(d, sval(desc), dlen, desc, "the description", &dt) ||
	    add_field_row(d, depth, &k, &rt, &dt, f) || store_from(d, k.from))
		goto out;
	/* The search text of the field, as reindex_sql builds it from the row. */
	if (L->fts_inline && !d->fts_lost &&
	    ((d->fts.len && st_buf_add(&d->fts, " ", 1)) ||
	     st_buf_add(&d->fts, d->path.p, d->path.len) ||
	     (dt.p && (st_buf_add(&d->fts, " ", 1) || st_buf_add(&d->fts, dt.p, dt.len))) ||
	     (cat && (st_buf_add(&d->fts, " ", 1) || st_buf_add(&d->fts, cat, strlen(cat))))))
		d->fts_lost = 1;
	if (!d->paths_lost && (st_buf_add(&d->paths, &d->path.len, sizeof(d->path.len)) ||
			       st_buf_add(&d->paths, d->path.p, d->path.len)))
		d->paths_lost = 1;

	if (sub && walk_fields(d, sub, depth + 1))
		goto out;
	if (items && walk_items(d, items, depth + 1))
		goto out;
done:
	ret = 0;
out:
	st_free(rt.owned);
	st_free(dt.owned);
	if (d->path.p) {
		d->path.len = parent_len;
		d->path.p[parent_len] = '\0';
	}
	return ret;
}

static int walk_fields(struct docctx *d, const struct catalog_ynode *list, int depth)
{
	if (check_dupes(d, list))
		return -1;
	for (size_t i = 0; i < list->n; i++)
		if (walk_field(d, list->kids[i], depth))
			return -1;
	return 0;
}

static json_t *to_json(const struct catalog_ynode *n)
{
	json_t *j;

	if (n->type == CATALOG_Y_SCALAR) {
		switch (catalog_yscalar_kind(n)) {
		case CATALOG_YS_NULL:
			return json_null();
		case CATALOG_YS_INT:
			return json_integer(strtoll(n->value, NULL, 10));
		default:
			return json_stringn(n->value, n->len);
		}
	}
	j = n->type == CATALOG_Y_MAP ? json_object() : json_array();
	for (size_t i = 0; j && i < n->n; i++) {
		json_t *v = to_json(n->type == CATALOG_Y_MAP ? n->kids[2 * i + 1] : n->kids[i]);

		if (!v || (n->type == CATALOG_Y_MAP ? json_object_set_new(j, n->kids[2 * i]->value, v)
						     : json_array_append_new(j, v))) {
			json_decref(j);
			return NULL;
		}
	}
	return j;
}

/* Whether the dataset just written has a field at path (1 or 0): from the paths walk_field()
 * kept, or, when they did not all fit, from the database after writing the waiting field
 * rows (-1 with err when that fails). */
static int has_field(struct docctx *d, const char *path)
{
	sqlite3_stmt *st = d->L->st[S_FIELD_HAS];
	int found;

	if (!d->paths_lost) {
		size_t n = strlen(path), len;

		for (size_t i = 0; i < d->paths.len; i += sizeof(len) + len) {
			memcpy(&len, d->paths.p + i, sizeof(len));
			if (len == n && !memcmp(d->paths.p + i + sizeof(len), path, n))
				return 1;
		}
		return 0;
	}
	if (catalog_rowbatch_flush(&d->L->fields, d->L->err, "cannot store field"))
		return -1;

	sqlite3_bind_int64(st, 1, d->dataset_id);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return found;
}

/* Checks that need the fields written: subject and erasure refer to real fields. */
static int check_subject(struct docctx *d)
{
	struct loader *L = d->L;
	const struct catalog_ynode *subject = d->k[K_SUBJECT];
	const struct catalog_ynode *erasure = d->k[K_ERASURE];
	const struct catalog_ynode *match = catalog_ymap_get(erasure, "match");
	const struct catalog_ynode *cols = catalog_ymap_get(erasure, "columns");
	const char *action = sval(catalog_ymap_get(erasure, "action"));
	int h = 1;

	if (sval(subject) && ((h = has_field(d, subject->value)) < 0 ||
			      (!h && diag(L, ST_SEV_ERROR, d->file, subject,
					  "subject '%s' is not a field of '%s'", subject->value,
					  d->name))))
		return -1;
	if (!erasure)
		return 0;
	if (sval(match) && ((h = has_field(d, match->value)) < 0 ||
			    (!h && diag(L, ST_SEV_ERROR, d->file, match,
					"erasure match '%s' is not a field of '%s'", match->value,
					d->name))))
		return -1;
	for (size_t i = 0; cols && i < cols->n; i++)
		if (sval(cols->kids[i]) &&
		    ((h = has_field(d, cols->kids[i]->value)) < 0 ||
		     (!h && diag(L, ST_SEV_ERROR, d->file, cols->kids[i],
				 "erasure column '%s' is not a field of '%s'", cols->kids[i]->value,
				 d->name))))
			return -1;
	if (action && !strcmp(action, "nullify") && (!cols || !cols->n) &&
	    diag(L, ST_SEV_ERROR, d->file, erasure,
		 "erasure action 'nullify' needs 'columns' to set to null"))
		return -1;
	if (action && !strcmp(action, "delete") && cols &&
	    diag(L, ST_SEV_WARNING, d->file, cols,
		 "erasure 'columns' is ignored when the action is 'delete'"))
		return -1;
	if (!sval(match) && !sval(subject) &&
	    diag(L, ST_SEV_ERROR, d->file, erasure,
		 "erasure needs 'match' or a dataset 'subject' to find the subject's rows"))
		return -1;
	return 0;
}

/* Checks on the document's shape that the schema cannot express. */
static int check_shape(struct docctx *d)
{
	struct loader *L = d->L;
	const char *kind = sval(d->k[K_KIND]);
	const struct catalog_ynode *fields = d->k[K_FIELDS];
	const struct catalog_ynode *columns = d->k[K_COLUMNS];
	const struct catalog_ynode *related = d->k[K_RELATED];

	if (fields && columns &&
	    diag(L, ST_SEV_ERROR, d->file, columns,
		 "'%s' has both 'fields' and 'columns'; use one", d->name))
		return -1;
	if (related && strcmp(kind, "term") &&
	    diag(L, ST_SEV_ERROR, d->file, related, "'related' is only allowed on terms, not on a %s",
		 kind))
		return -1;
	if (!strcmp(kind, "term") && (fields || columns) &&
	    diag(L, ST_SEV_ERROR, d->file, fields ? fields : columns, "a term has no fields"))
		return -1;
	return 0;
}

/* The fields under list whose pii is not 'none', counted as walk_field() walks them (into
 * 'fields', and into 'fields' under 'items'), so that the dataset row is written with its
 * count instead of updated after its fields. Where the two walks could differ (a path too
 * long), walk_field() reports an error and the load is not committed. */
static int64_t count_pii(const struct catalog_ynode *list)
{
	int64_t n = 0;

	for (size_t i = 0; list && list->type == CATALOG_Y_SEQ && i < list->n; i++) {
		struct fkeys k;
		const char *pii;

		field_keys(list->kids[i], &k);
		pii = sval(k.pii);
		n += pii && strcmp(pii, "none");
		n += count_pii(k.fields);
		for (const struct catalog_ynode *it = k.items; it && it->type == CATALOG_Y_MAP;
		     it = catalog_ymap_get(it, "items"))
			n += count_pii(catalog_ymap_get(it, "fields"));
	}
	return n;
}

static int store_dataset(struct docctx *d, const struct catalog_ynode *root, int64_t file_id,
			 int64_t version, int64_t npii)
{
	struct loader *L = d->L;
	sqlite3_stmt *st = L->st[S_DS_INS];
	const struct catalog_ynode *tags = d->k[K_TAGS];
	const struct catalog_ynode *lineage = d->k[K_LINEAGE];
	const struct catalog_ynode *erasure = d->k[K_ERASURE];
	const struct catalog_ynode *ol = d->k[K_OPENLINEAGE];
	const char *compat = sval(d->k[K_COMPATIBILITY]);
	char *desc = trimmed(sval(d->k[K_DESCRIPTION]));
	char *erasure_json = NULL;
	struct st_buf tagbuf;
	struct dsrow r = {L, L->batch_ids ? NULL : st, 0};
	struct ftext dt = {0};
	size_t id_at = 0;
	int certified = 0, ret = -1;

	st_buf_init(&tagbuf, 1 << 16);
	for (size_t i = 0; tags && i < tags->n; i++) {
		if ((i && st_buf_add(&tagbuf, " ", 1)) || st_buf_adds(&tagbuf, tags->kids[i]->value))
			goto nomem;
		certified |= !strcmp(tags->kids[i]->value, "certified");
	}
	if (erasure) {
		json_t *j = to_json(erasure);

		erasure_json = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(j);
		if (!erasure_json)
			goto nomem;
	}
	if (r.st) {
		d->dataset_id = 0; /* known once the row is written */
	} else {
		d->dataset_id = L->next_ds_id++;
		ds_int(&r, 0, d->dataset_id);
	}
	ds_str(&r, 1, d->name);
	ds_int(&r, 2, version);
	ds_str(&r, 3, sval(d->k[K_KIND]));
	if (L->fts_inline) { /* the row's id, then its name */
		id_at = L->fts_rows.len;
		if (st_buf_add(&L->fts_rows, &d->dataset_id, sizeof(d->dataset_id)))
			L->fts_lost = 1;
		L->fts_nrows++;
		fts_text(L, d->name, d->name ? strlen(d->name) : 0);
	}
	/* The description after the catalog's scrubber (see scrub_text()), copied; it is also
	 * the search row's. */
	if (scrub_text(d, desc, desc ? strlen(desc) : 0, d->k[K_DESCRIPTION], "the description",
		       &dt))
		goto out;
	ds_text(&r, 4, dt.p, dt.len, dt.owned != NULL);
	if (L->fts_inline)
		fts_text(L, dt.p, dt.len);
	ds_str(&r, 5, sval(d->k[K_OWNER]));
	ds_str(&r, 6, sval(d->k[K_DOMAIN]));
	ds_str(&r, 7, sval(d->k[K_SYSTEM]));
	ds_str(&r, 8, sval(d->k[K_LOCATION]));
	ds_str(&r, 9, sval(d->k[K_FORMAT]));
	ds_str(&r, 10, sval(d->k[K_RETENTION]));
	ds_str(&r, 11, sval(d->k[K_SUBJECT]));
	ds_str(&r, 12, compat ? compat : "backward");
	ds_str(&r, 13, sval(catalog_ymap_get(lineage, "job")));
	ds_str(&r, 14, erasure_json);
	ds_str(&r, 15, st_buf_str(&tagbuf));
	ds_int(&r, 16, certified);
	ds_int(&r, 17, file_id);
	ds_int(&r, 18, (int)root->line);
	ds_int(&r, 19, (int)root->col);
	ds_int(&r, 20, L->gen);
	ds_int(&r, 21, npii);
	if (r.bad)
		goto out;
	if (r.st) {
		if (step_done(L, st, "cannot store dataset"))
			goto out;
		d->dataset_id = sqlite3_last_insert_rowid(L->db);
	}
	/* Inline search rows need no touched names but the targets of terms (store_links()). */
	if (!L->fts_inline && touch(L, d->name))
		goto out;
	if (L->fts_inline) { /* the search row but its fields, which load_doc() adds */
		const char *owner = sval(d->k[K_OWNER]);

		if (!L->fts_lost)
			memcpy(L->fts_rows.p + id_at, &d->dataset_id, sizeof(d->dataset_id));
		fts_text(L, st_buf_str(&tagbuf), strlen(st_buf_str(&tagbuf)));
		fts_text(L, owner, owner ? strlen(owner) : 0);
	}
	for (size_t i = 0; tags && i < tags->n; i++) {
		const char *tag = tags->kids[i]->value;

		if (catalog_rowbatch_int(&L->tags, d->dataset_id, L->err, "cannot store tag") ||
		    catalog_rowbatch_text(&L->tags, tag, tag ? strlen(tag) : 0, L->err,
					  "cannot store tag"))
			goto out;
	}
	if (ol && sval(catalog_ymap_get(ol, "namespace")) && sval(catalog_ymap_get(ol, "name"))) {
		/* The OpenLineage identity it claims (openlineage.c makes the two one). */
		sqlite3_bind_int64(L->st[S_OL_CLAIM], 1, d->dataset_id);
		bind_text(L->st[S_OL_CLAIM], 2, sval(catalog_ymap_get(ol, "namespace")));
		bind_text(L->st[S_OL_CLAIM], 3, sval(catalog_ymap_get(ol, "name")));
		if (step_done(L, L->st[S_OL_CLAIM], "cannot store openlineage identity"))
			goto out;
	}
	ret = 0;
	goto out;
nomem:
	oom(L);
out:
	st_free(dt.owned);
	st_free(desc);
	free(erasure_json);
	st_buf_release(&tagbuf);
	return ret;
}

static int store_links(struct docctx *d)
{
	struct loader *L = d->L;
	const struct catalog_ynode *up = catalog_ymap_get(d->k[K_LINEAGE], "upstream");
	const struct catalog_ynode *related = d->k[K_RELATED];

	if (strcmp(sval(d->k[K_KIND]), "term"))
		related = NULL; /* reported by check_shape() */
	for (size_t i = 0; up && i < up->n; i++) {
		struct catalog_rowbatch *b = &L->edges;
		const char *src = up->kids[i]->value, *what = "cannot store lineage";

		if (src)
			ref_add(L, REF_DATASET, src, strlen(src), NULL);
		else
			L->refs_lost = 1;
		if (catalog_rowbatch_int(b, d->dataset_id, L->err, what) ||
		    catalog_rowbatch_text(b, src, src ? strlen(src) : 0, L->err, what) ||
		    catalog_rowbatch_text(b, d->name, d->name ? strlen(d->name) : 0, L->err,
					  what) ||
		    catalog_rowbatch_int(b, (int)up->kids[i]->line, L->err, what) ||
		    catalog_rowbatch_int(b, (int)up->kids[i]->col, L->err, what))
			return -1;
	}
	for (size_t i = 0; related && i < related->n; i++) {
		const struct catalog_ynode *r = related->kids[i];
		sqlite3_stmt *t = L->st[S_TERM_INS];
		size_t fo, dl = catalog_split_ref(r->value, &fo);

		ref_add(L, REF_TERM, r->value, dl, fo ? r->value + fo : NULL);
		sqlite3_bind_int64(t, 1, d->dataset_id);
		sqlite3_bind_text(t, 2, r->value, (int)dl, SQLITE_STATIC);
		bind_text(t, 3, fo ? r->value + fo : NULL);
		sqlite3_bind_int(t, 4, (int)r->line);
		sqlite3_bind_int(t, 5, (int)r->col);
		if (step_done(L, t, "cannot store term link"))
			return -1;
		if (catalog_rowbatch_text(&L->touched, r->value, dl, L->err,
					  "cannot record change"))
			return -1;
	}
	return 0;
}

/* Writes a document that is not a duplicate: its dataset, links and fields, with the
 * checks that need them written. */
static int store_doc(struct docctx *d, const struct catalog_ynode *root, int64_t file_id,
		     int64_t version, int64_t npii)
{
	struct loader *L = d->L;
	const struct catalog_ynode *fields = d->k[K_FIELDS];

	if (!fields)
		fields = d->k[K_COLUMNS];
	if (check_shape(d) || store_dataset(d, root, file_id, version, npii) ||
	    store_links(d) || (fields && walk_fields(d, fields, 0)) ||
	    check_subject(d) ||
	    catalog_detect_store(L->db, d->dataset_id, d->name, root, d->file, L->diags, L->err))
		return -1;
	if (L->fts_inline) { /* group_concat() of no fields is NULL */
		if (d->fts_lost)
			L->fts_lost = 1;
		fts_text(L, d->fts.len ? d->fts.p : NULL, d->fts.len);
	}
	if (L->fieldset && (!d->name || d->paths_lost ||
			    fset_add(L->fieldset, d->name, strlen(d->name), &d->paths)))
		fieldset_lost(L);
	L->stats->datasets_loaded++;
	return 0;
}

/* Writes the waiting files and datasets rows (see struct loader's batch_ids). Returns 0,
 * or -1 with L->err. */
static int flush_ids(struct loader *L)
{
	if (!L->batch_ids)
		return 0;
	return catalog_rowbatch_flush(L->filesb, L->err, "cannot store file") ||
			       catalog_rowbatch_flush(L->dsb, L->err, "cannot store dataset")
		       ? -1
		       : 0;
}

/* Whether the dataset (name, version) of the document is declared already: reported, 1;
 * not, 0 (-1 when the load must stop). */
static int duplicate(struct loader *L, const char *file, const struct catalog_ynode *root,
		     const char *name, int64_t version)
{
	sqlite3_stmt *dup = L->st[S_DS_DUP];
	int r;

	if (L->seen && !L->seen_lost && name) {
		/* Only a key this load wrote can be a duplicate: the others need no look-up. */
		int added = known_add(L->seen, name, strlen(name), (const char *)&version,
				      sizeof(version));

		if (added)
			return added < 0 ? oom(L) : 0;
	}
	if (flush_ids(L)) /* the query reads them */
		return -1;
	sqlite3_bind_text(dup, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(dup, 2, version);
	if (sqlite3_step(dup) != SQLITE_ROW) {
		sqlite3_reset(dup);
		return 0;
	}
	if (sqlite3_column_int(dup, 1))
		r = diag(L, ST_SEV_ERROR, file, catalog_ymap_get(root, "name"),
			 "dataset '%s' version %lld is already declared at %s:%d:%d", name,
			 (long long)version, (const char *)sqlite3_column_text(dup, 0),
			 sqlite3_column_int(dup, 1), sqlite3_column_int(dup, 2));
	else /* a dbt manifest has no lines */
		r = diag(L, ST_SEV_ERROR, file, catalog_ymap_get(root, "name"),
			 "dataset '%s' is already declared by the dbt manifest %s (add to it "
			 "with 'extends')",
			 name, (const char *)sqlite3_column_text(dup, 0));
	sqlite3_reset(dup);
	return r ? r : 1;
}

/* ext: catalog_dbt_is_extension() of its root; npii: count_pii() of its fields; memo: the
 * scrubbing of its texts (pre_scrub()); all found by the parse worker. */
/* The values of root's top-level keys in enum K_*, what catalog_ymap_get() would give for
 * each (the first of a key written twice; NULL when absent or root is not a mapping), found
 * in one pass over root instead of a search per key. */
static void root_keys(const struct catalog_ynode *root, const struct catalog_ynode **k)
{
	static const struct {
		const char *s;
		size_t len;
	} names[K_NKEYS] = {
		[K_NAME] = {"name", sizeof("name") - 1},
		[K_VERSION] = {"version", sizeof("version") - 1},
		[K_KIND] = {"kind", sizeof("kind") - 1},
		[K_DESCRIPTION] = {"description", sizeof("description") - 1},
		[K_OWNER] = {"owner", sizeof("owner") - 1},
		[K_DOMAIN] = {"domain", sizeof("domain") - 1},
		[K_SYSTEM] = {"system", sizeof("system") - 1},
		[K_LOCATION] = {"location", sizeof("location") - 1},
		[K_FORMAT] = {"format", sizeof("format") - 1},
		[K_RETENTION] = {"retention", sizeof("retention") - 1},
		[K_SUBJECT] = {"subject", sizeof("subject") - 1},
		[K_COMPATIBILITY] = {"compatibility", sizeof("compatibility") - 1},
		[K_LINEAGE] = {"lineage", sizeof("lineage") - 1},
		[K_ERASURE] = {"erasure", sizeof("erasure") - 1},
		[K_TAGS] = {"tags", sizeof("tags") - 1},
		[K_OPENLINEAGE] = {"openlineage", sizeof("openlineage") - 1},
		[K_FIELDS] = {"fields", sizeof("fields") - 1},
		[K_COLUMNS] = {"columns", sizeof("columns") - 1},
		[K_RELATED] = {"related", sizeof("related") - 1},
	};

	memset(k, 0, K_NKEYS * sizeof(*k));
	if (!root || root->type != CATALOG_Y_MAP)
		return;
	for (size_t i = 0; i < root->n; i++) {
		const struct catalog_ynode *key = root->kids[2 * i];

		if (key->type != CATALOG_Y_SCALAR || !key->len)
			continue;
		for (int j = 0; j < K_NKEYS; j++)
			if (names[j].len == key->len && names[j].s[0] == key->value[0] && !k[j] &&
			    !memcmp(names[j].s, key->value, key->len)) {
				k[j] = root->kids[2 * i + 1];
				break;
			}
	}
}

static int load_doc(struct loader *L, const char *file, int64_t file_id,
		    const struct catalog_ydoc *doc, int ext, int64_t npii, struct scrub_memo *memo,
		    size_t nmemo)
{
	struct docctx d;
	const struct catalog_ynode *root = doc->root;
	const struct catalog_ynode *vnode;
	int64_t version = 1;
	int r;

	if (ext) {
		/* It touches a dataset of another file, outside both shortcuts. */
		L->fts_lost = 1;
		L->seen_lost = 1;
		fieldset_lost(L);
		return catalog_dbt_extension(&L->dbt, file, file_id, root);
	}
	memset(&d, 0, sizeof(d));
	d.L = L;
	d.file = file;
	d.memo = memo;
	d.nmemo = nmemo;
	root_keys(root, d.k);
	d.name = sval(d.k[K_NAME]);
	vnode = d.k[K_VERSION];
	if (vnode)
		version = strtoll(vnode->value, NULL, 10);
	r = duplicate(L, file, root, d.name, version);
	if (r)
		return r < 0 ? -1 : 0;
	/* The loader's buffers, emptied: an allocation or three per document fewer. */
	d.path = L->docbuf[0];
	d.paths = L->docbuf[1];
	d.fts = L->docbuf[2];
	st_buf_reset(&d.path);
	st_buf_reset(&d.paths);
	st_buf_reset(&d.fts);
	r = store_doc(&d, root, file_id, version, npii);
	L->docbuf[0] = d.path;
	L->docbuf[1] = d.paths;
	L->docbuf[2] = d.fts;
	return r;
}

/* ---- pass 2: parse (worker thread) and store (main thread) ---- */

/* A file read, parsed and checked against the schema, waiting to be stored. Its
 * diagnostics are kept per document so that the output keeps document order. */
struct parsed_doc {
	struct catalog_ydoc *doc;
	int valid;                    /* passed the schema */
	int ext;                      /* catalog_dbt_is_extension() */
	int64_t npii;                 /* count_pii() of its fields */
	struct scrub_memo *memo;      /* pre_scrub() */
	size_t nmemo, memo_cap;
	size_t diag_end;              /* its diagnostics end here in parsed.diags */
};

struct parsed {
	struct file_entry *f;
	unsigned char hash[HASH_LEN];
	int readable;                 /* valid UTF-8: the file gets a row */
	struct parsed_doc *docs;
	size_t ndocs, docs_cap;
	struct st_diags diags;
	struct st_error err;          /* out of memory and the like */
};

static void parsed_release(struct parsed *p)
{
	for (size_t i = 0; i < p->ndocs; i++) {
		for (size_t j = 0; j < p->docs[i].nmemo; j++)
			st_free(p->docs[i].memo[j].clean);
		st_free(p->docs[i].memo);
		catalog_ydoc_free(p->docs[i].doc);
	}
	st_free(p->docs);
	st_diags_release(&p->diags);
	memset(p, 0, sizeof(*p));
}

/* Scrubs len bytes of text at node at into the document's memo. Returns 0, or -1 when
 * memory ran out. */
static int memo_add(const struct catalog *c, struct parsed_doc *pd,
		    const struct catalog_ynode *at, const char *text, size_t len)
{
	struct scrub_memo *m;

	if (!text)
		return 0;
	if (st_grow(&pd->memo, &pd->memo_cap, pd->nmemo + 1, sizeof(*pd->memo)))
		return -1;
	m = &pd->memo[pd->nmemo++];
	m->at = at;
	m->len = len;
	m->found = 0;
	m->clean = c->scrub(text, len, &m->found, c->scrub_ctx);
	return 0;
}

static int pre_scrub_fields(const struct catalog *c, const struct catalog_ynode *list,
			    struct parsed_doc *pd);

/* An array's items, as walk_items() goes through them. */
static int pre_scrub_items(const struct catalog *c, const struct catalog_ynode *items,
			   struct parsed_doc *pd)
{
	const struct catalog_ynode *sub = catalog_ymap_get(items, "fields");
	const struct catalog_ynode *inner = catalog_ymap_get(items, "items");

	if (sub && pre_scrub_fields(c, sub, pd))
		return -1;
	return inner ? pre_scrub_items(c, inner, pd) : 0;
}

/* The fields of list, as walk_field() scrubs them: pii_reason, then the description
 * without trailing white space, then the fields under it and under its items. */
static int pre_scrub_fields(const struct catalog *c, const struct catalog_ynode *list,
			    struct parsed_doc *pd)
{
	for (size_t i = 0; list && list->type == CATALOG_Y_SEQ && i < list->n; i++) {
		const struct catalog_ynode *desc;
		struct fkeys k;
		size_t dlen;

		field_keys(list->kids[i], &k);
		if (!k.name)
			continue; /* the schema requires it; walk_field() would not get here */
		desc = k.description;
		for (dlen = sval(desc) ? desc->len : 0;
		     dlen && strchr(" \t\n", desc->value[dlen - 1]); dlen--)
			;
		if (memo_add(c, pd, k.pii_reason, sval(k.pii_reason),
			     sval(k.pii_reason) ? k.pii_reason->len : 0) ||
		    memo_add(c, pd, desc, sval(desc), dlen) ||
		    (k.fields && pre_scrub_fields(c, k.fields, pd)) ||
		    (k.items && pre_scrub_items(c, k.items, pd)))
			return -1;
	}
	return 0;
}

/* Scrubs, on a parse worker, the texts that store_doc() will pass through the catalog's
 * scrubber, in the order it will ask for them (scrub_text() takes each from the memo when
 * it is the one asked for, and calls the scrubber itself otherwise): the dataset's
 * description, as trimmed() leaves it, then the fields'. The scrubber was a tenth of a
 * load's instructions, all on the main thread. Returns 0, or -1 when memory ran out. */
static int pre_scrub(const struct catalog *c, const struct catalog_ynode *root,
		     const struct catalog_ynode *fields, struct parsed_doc *pd)
{
	const struct catalog_ynode *desc = catalog_ymap_get(root, "description");
	const char *text = sval(desc);
	size_t len = text ? strlen(text) : 0;

	while (len && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	return memo_add(c, pd, desc, text, len) || (fields && pre_scrub_fields(c, fields, pd));
}

/* Reads, checks, parses and schema-validates one file. Touches no database and no shared
 * state, so it runs on the worker thread. Problems go to p->diags; only a system failure
 * sets p->err. */
static void prepare_file(const struct catalog *c, struct file_entry *f, struct parsed *p)
{
	const struct catalog_jschema *schema = c->schema;
	struct catalog_yparser yp;
	unsigned char *data = NULL;
	size_t len = 0, body = 0;
	unsigned line, col;
	int plain;

	memset(p, 0, sizeof(*p));
	memset(&yp, 0, sizeof(yp));
	p->f = f;
	st_diags_init(&p->diags, 0);
	st_error_init(&p->err);
	/* Only this worker touches f until the loading thread takes p. */
	if (read_file(f, &p->diags, &p->err, &data, &len, f->sb_late ? &f->sb : NULL))
		return;
	if (len >= 2 && ((data[0] == 0xFF && data[1] == 0xFE) || (data[0] == 0xFE && data[1] == 0xFF))) {
		st_diags_add(&p->diags, ST_SEV_ERROR, f->display, 0, 0,
			     "file is UTF-16; descriptors must be UTF-8");
		goto out;
	}
	/* Plain text, as most descriptors are, is valid UTF-8: one pass over it, not two. */
	plain = catalog_yfast_plain(data, len);
	if (!plain && st_utf8_check(data, len, &line, &col)) {
		st_diags_add(&p->diags, ST_SEV_ERROR, f->display, line, col,
			     "invalid UTF-8; descriptors must be UTF-8");
		goto out;
	}
	st_digest(data, len, p->hash);
	p->readable = 1;
	/* A UTF-8 byte-order mark is allowed; libyaml, told the encoding, would count it. */
	if (len >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF)
		body = 3;
	if (plain && !body ? catalog_yparser_init_plain(&yp, f->display, data, len, plain, &p->err)
			   : catalog_yparser_init(&yp, f->display, data + body, len - body, &p->err))
		goto out;
	for (;;) {
		struct catalog_ydoc *doc = NULL;
		struct st_error perr = ST_ERROR_INIT;
		struct parsed_doc *pd;
		int r = catalog_yparser_next(&yp, &doc, &p->diags, &perr);

		if (r == 0)
			break;
		if (r < 0) {
			if (perr.code == ST_E_INVALID)
				st_diags_add(&p->diags, ST_SEV_ERROR, perr.file, perr.line, perr.col,
					     "%s", perr.msg);
			else
				p->err = perr;
			break;
		}
		if (!doc->root) {
			catalog_ydoc_free(doc); /* an empty document, e.g. a trailing '---' */
			continue;
		}
		if (st_grow(&p->docs, &p->docs_cap, p->ndocs + 1, sizeof(*p->docs))) {
			catalog_ydoc_free(doc);
			st_error_oom(&p->err);
			break;
		}
		pd = &p->docs[p->ndocs++];
		memset(pd, 0, sizeof(*pd));
		pd->doc = doc;
		/* An extension of a dbt dataset is checked by catalog_dbt_extension(). */
		pd->ext = catalog_dbt_is_extension(doc->root);
		r = pd->ext ? 0 : catalog_jschema_validate(schema, doc->root, f->display, &p->diags);
		if (r < 0) {
			st_error_oom(&p->err);
			break;
		}
		pd->valid = r == 0;
		if (pd->valid) { /* the fields of store_doc(), counted off the main thread */
			const struct catalog_ynode *fields = catalog_ymap_get(doc->root, "fields");

			fields = fields ? fields : catalog_ymap_get(doc->root, "columns");
			pd->npii = count_pii(fields);
			if (c->scrub && !pd->ext &&
			    pre_scrub(c, doc->root, fields, pd)) {
				st_error_oom(&p->err);
				break;
			}
		}
		pd->diag_end = p->diags.n;
	}
out:
	catalog_yparser_release(&yp);
	st_free(data);
}

static int copy_diags(struct loader *L, const struct st_diags *from, size_t start, size_t end)
{
	for (size_t i = start; i < end; i++) {
		const struct st_diag *x = &from->v[i];

		if (st_diags_add(L->diags, x->severity, x->file, x->line, x->col, "%s", x->msg))
			return oom(L);
	}
	return 0;
}

/* The time now as CATALOG_LOADED_AT_NOW writes it, UTC to the truncated millisecond, or NULL
 * (the statement asks SQLite then): SQLite's formatting of it was a sixth of the cost of a
 * file's row. */
static const char *now_text(struct loader *L)
{
	struct timespec ts;
	struct tm tm;
	char *at;
	int ms;

	if (clock_gettime(CLOCK_REALTIME, &ts))
		return NULL;
	if (!L->now_len || ts.tv_sec != L->now_sec) {
		L->now_len = 0;
		if (!gmtime_r(&ts.tv_sec, &tm) || tm.tm_year + 1900 < 1000 ||
		    tm.tm_year + 1900 > 9999 ||
		    !(L->now_len = strftime(L->now, sizeof(L->now), "%Y-%m-%dT%H:%M:%S", &tm)))
			return NULL;
		L->now_sec = ts.tv_sec;
	}
	/* ".mmmZ" (snprintf() was most of this function's time) */
	at = L->now + L->now_len;
	ms = (int)(ts.tv_nsec / 1000000);
	at[0] = '.';
	at[1] = (char)('0' + ms / 100);
	at[2] = (char)('0' + ms / 10 % 10);
	at[3] = (char)('0' + ms % 10);
	at[4] = 'Z';
	at[5] = '\0';
	return L->now;
}

/* A new file's row in a batch, with the id SQLite would give it. Returns 0, 1 when it
 * must go the usual way (no time to write: the batches stop), or -1 with L->err. */
static int batch_file(struct loader *L, struct parsed *p)
{
	struct catalog_rowbatch *b = L->filesb;
	struct file_entry *f = p->f;
	static const char what[] = "cannot store file";
	const char *now = now_text(L);

	if (!now) {
		L->batch_ids = 0;
		return flush_ids(L) ? -1 : 1;
	}
	f->id = L->next_file_id++;
	return catalog_rowbatch_int(b, f->id, L->err, what) ||
			       catalog_rowbatch_text(b, f->abs, strlen(f->abs), L->err, what) ||
			       catalog_rowbatch_text(b, f->display, strlen(f->display), L->err,
						     what) ||
			       catalog_rowbatch_blob(b, p->hash, sizeof(p->hash), L->err, what) ||
			       catalog_rowbatch_int(b, (int64_t)f->sb.st_size, L->err, what) ||
			       catalog_rowbatch_int(b, mtime_ns(&f->sb), L->err, what) ||
			       catalog_rowbatch_int(b, (int64_t)f->sb.st_ino, L->err, what) ||
			       catalog_rowbatch_int(b, (int64_t)p->ndocs, L->err, what) ||
			       catalog_rowbatch_text(b, now, strlen(now), L->err, what)
		       ? -1
		       : 0;
}

/* Stores what prepare_file() found, in the main thread. */
static int store_file(struct loader *L, struct parsed *p)
{
	struct file_entry *f = p->f;
	sqlite3_stmt *up = L->st[S_FILE_UPSERT];
	size_t done = 0;
	int r;

	/* Problems beyond the worker's list cap were counted, not kept: count them here too. */
	for (size_t i = 0, kept_e = 0, kept_w = 0; i <= p->diags.n; i++) {
		if (i == p->diags.n) {
			L->diags->nerrors += p->diags.nerrors - kept_e;
			L->diags->nwarnings += p->diags.nwarnings - kept_w;
		} else if (p->diags.v[i].severity == ST_SEV_ERROR) {
			kept_e++;
		} else {
			kept_w++;
		}
	}
	if (p->err.code) {
		*L->err = p->err;
		return -1;
	}
	if (p->readable && L->batch_ids && f->state == F_NEW && (r = batch_file(L, p)) <= 0) {
		if (r)
			return -1;
	} else if (p->readable) {
		bind_text(up, 1, f->abs);
		bind_text(up, 2, f->display);
		sqlite3_bind_blob(up, 3, p->hash, sizeof(p->hash), SQLITE_TRANSIENT);
		sqlite3_bind_int64(up, 4, (int64_t)f->sb.st_size);
		sqlite3_bind_int64(up, 5, mtime_ns(&f->sb));
		sqlite3_bind_int64(up, 6, (int64_t)f->sb.st_ino);
		sqlite3_bind_int64(up, 7, (int64_t)p->ndocs);
		bind_text(up, 8, now_text(L));
		if (step_done(L, up, "cannot store file"))
			return -1;
		/* A new file's row is inserted (classify() found none under its path); a changed
		 * file's row is updated and keeps its id. No RETURNING: it doubled the cost. */
		if (f->state == F_NEW)
			f->id = sqlite3_last_insert_rowid(L->db);
	}
	for (size_t i = 0; i < p->ndocs; i++) {
		if (copy_diags(L, &p->diags, done, p->docs[i].diag_end))
			return -1;
		done = p->docs[i].diag_end;
		if (p->docs[i].valid &&
		    load_doc(L, f->display, f->id, p->docs[i].doc, p->docs[i].ext,
			     p->docs[i].npii, p->docs[i].memo, p->docs[i].nmemo))
			return -1;
	}
	L->stats->documents += p->ndocs;
	return copy_diags(L, &p->diags, done, p->diags.n);
}

/* Workers parse files into a ring while the main thread stores them in path order. A
 * worker claims BATCH files at a time, at most RING ahead of the file being stored, and
 * parses them in their slots; the main thread stores every finished item from the one it
 * waits for on, in place. Threads meet on the mutex once per batch, not once per file.
 * Storing is now about twice the parse: over 10k generated descriptors one worker is busy
 * 70% of the time and the main thread 97% (perf, 2 CPUs). */
#define RING 32
#define BATCH 8
#define MAX_WORKERS 4

struct pipeline {
	struct loader *L;
	struct file_entry **todo;
	size_t ntodo;
	struct parsed *ring;     /* RING slots: item i in ring[i % RING] */
	unsigned char filled[RING];
	size_t head; /* the next item to store */
	size_t next; /* the next item to claim: items [head, next) are claimed or parsed */
	int stop;
	pthread_mutex_t mu;
	pthread_cond_t ready, space;
};

static void *worker(void *arg)
{
	struct pipeline *pl = arg;

	pthread_mutex_lock(&pl->mu);
	for (;;) {
		size_t first, n;

		while (!pl->stop && pl->next < pl->ntodo && pl->next + BATCH > pl->head + RING)
			pthread_cond_wait(&pl->space, &pl->mu);
		if (pl->stop || pl->next >= pl->ntodo)
			break;
		first = pl->next;
		n = pl->ntodo - first < BATCH ? pl->ntodo - first : BATCH;
		pl->next += n;
		pthread_mutex_unlock(&pl->mu);
		/* The slots of items first.. are free: their last items were stored. */
		for (size_t j = 0; j < n; j++)
			prepare_file(pl->L->c, pl->todo[first + j],
				     &pl->ring[(first + j) % RING]);
		pthread_mutex_lock(&pl->mu);
		for (size_t j = 0; j < n; j++)
			pl->filled[(first + j) % RING] = 1;
		if (first <= pl->head) /* the main thread may wait for one of them */
			pthread_cond_signal(&pl->ready);
	}
	pthread_mutex_unlock(&pl->mu);
	return NULL;
}

static int load_files_threaded(struct loader *L, struct file_entry **todo, size_t ntodo,
			       size_t nworkers)
{
	struct pipeline pl;
	pthread_t th[MAX_WORKERS];
	size_t started = 0;
	int ret = 0;

	memset(&pl, 0, sizeof(pl));
	if (!(pl.ring = st_calloc(RING, sizeof(*pl.ring))))
		return oom(L);
	pl.L = L;
	pl.todo = todo;
	pl.ntodo = ntodo;
	pthread_mutex_init(&pl.mu, NULL);
	pthread_cond_init(&pl.ready, NULL);
	pthread_cond_init(&pl.space, NULL);
	while (started < nworkers && !pthread_create(&th[started], NULL, worker, &pl))
		started++;
	if (!started) {
		ret = -2; /* no thread: the caller does the work itself */
		goto out;
	}
	while (pl.head < ntodo && !ret) {
		size_t n = 0;

		pthread_mutex_lock(&pl.mu);
		while (!pl.filled[pl.head % RING])
			pthread_cond_wait(&pl.ready, &pl.mu);
		while (n < RING && pl.filled[(pl.head + n) % RING])
			n++;
		pthread_mutex_unlock(&pl.mu);
		for (size_t j = 0; j < n; j++) {
			struct parsed *p = &pl.ring[(pl.head + j) % RING];

			if (!ret && store_file(L, p))
				ret = -1; /* after an error the rest is not stored */
			parsed_release(p);
		}
		pthread_mutex_lock(&pl.mu);
		for (size_t j = 0; j < n; j++)
			pl.filled[(pl.head + j) % RING] = 0;
		pl.head += n;
		pl.stop = ret != 0;
		/* Workers wait only when their next batch does not fit. */
		pthread_cond_broadcast(&pl.space);
		pthread_mutex_unlock(&pl.mu);
	}
	for (size_t t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	for (size_t k = 0; k < RING; k++) /* parsed for nothing, after an error */
		if (pl.filled[k])
			parsed_release(&pl.ring[k]);
out:
	pthread_mutex_destroy(&pl.mu);
	pthread_cond_destroy(&pl.ready);
	pthread_cond_destroy(&pl.space);
	st_free(pl.ring);
	return ret;
}

/* Pass 2: every new or changed file, in path order. */
static int load_files(struct loader *L)
{
	struct file_entry **todo = NULL;
	size_t ntodo = 0, cap = 0;
	long nproc = sysconf(_SC_NPROCESSORS_ONLN);
	int ret = -1;

	for (size_t i = 0; i < L->nfiles; i++) {
		if (L->files[i].state == F_UNCHANGED || L->files[i].dbt)
			continue;
		if (st_grow(&todo, &cap, ntodo + 1, sizeof(*todo))) {
			oom(L);
			goto out;
		}
		todo[ntodo++] = &L->files[i];
	}
	/* A worker per other CPU: this thread, which stores, is the load's critical path
	 * (the parse takes about half its time), and a worker beyond the CPUs left takes CPU
	 * time from it. With two workers on two CPUs, 10k generated descriptors loaded in
	 * 0.565 s (median of 12 interleaved runs), with one in 0.505 s. */
	if (ntodo >= 8 && nproc > 1 && !L->serial) {
		ret = load_files_threaded(L, todo, ntodo,
					  nproc - 1 > MAX_WORKERS ? MAX_WORKERS : (size_t)nproc - 1);
		if (ret != -2)
			goto out;
	}
	for (size_t i = 0; i < ntodo; i++) {
		struct parsed item;
		int r;

		prepare_file(L->c, todo[i], &item);
		r = store_file(L, &item);
		parsed_release(&item);
		if (r)
			goto out;
	}
	ret = 0;
out:
	st_free(todo);
	return ret;
}

/* ---- checks across files ---- */

struct vfield {
	char *path, *type, *item_type;
	int required, nullable;
	unsigned line, col;
};

struct version {
	int64_t id, version;
	char *compat, *file;
	unsigned line, col;
	struct vfield *f;
	size_t n, cap;
};

static void version_release(struct version *v)
{
	for (size_t i = 0; i < v->n; i++) {
		st_free(v->f[i].path);
		st_free(v->f[i].type);
		st_free(v->f[i].item_type);
	}
	st_free(v->f);
	st_free(v->compat);
	st_free(v->file);
	memset(v, 0, sizeof(*v));
}

static int version_fields(struct loader *L, struct version *v)
{
	sqlite3_stmt *st;
	int bad = 0, rc;

	if (st_sql_prepare(L->db, &st,
			    "SELECT path, type, item_type, required, nullable, line, col FROM fields"
			    " WHERE dataset_id = ?1 ORDER BY ord",
			    L->err))
		return -1;
	sqlite3_bind_int64(st, 1, v->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct vfield *f;

		if (st_grow(&v->f, &v->cap, v->n + 1, sizeof(*v->f))) {
			bad = 1;
			break;
		}
		f = &v->f[v->n++];
		memset(f, 0, sizeof(*f));
		f->path = st_sql_col_strdup(st, 0, &bad);
		f->type = st_sql_col_strdup(st, 1, &bad);
		f->item_type = st_sql_col_strdup(st, 2, &bad);
		f->required = sqlite3_column_int(st, 3);
		f->nullable = sqlite3_column_int(st, 4);
		f->line = (unsigned)sqlite3_column_int(st, 5);
		f->col = (unsigned)sqlite3_column_int(st, 6);
	}
	sqlite3_finalize(st);
	if (bad)
		return oom(L);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return st_sql_error(L->err, L->db, "cannot read fields");
	return 0;
}

static const struct vfield *vfind(const struct version *v, const char *path)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->f[i].path, path))
			return &v->f[i];
	return NULL;
}

static int sameish(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Whether data typed `writer` can be read as `reader` (int widens to int64). */
static int readable(const char *reader, const char *writer)
{
	return sameish(reader, writer) ||
	       (reader && writer && !strcmp(reader, "int64") && !strcmp(writer, "int"));
}

struct cmp {
	struct loader *L;
	const char *name;
	const struct version *old, *new;
	int backward, forward;
};

static int incompatible(struct cmp *c, unsigned line, unsigned col, const char *fmt, ...)
	ST_PRINTF(4, 5);

static int incompatible(struct cmp *c, unsigned line, unsigned col, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (st_diags_add(c->L->diags, ST_SEV_ERROR, c->new->file, line ? line : c->new->line,
			 line ? col : c->new->col,
			 "version %lld of '%s' is not %s compatible with version %lld: %s",
			 (long long)c->new->version, c->name,
			 strcmp(c->new->compat, "full") ? c->new->compat : "fully",
			 (long long)c->old->version, what))
		return oom(c->L);
	return 0;
}

static int compare_versions(struct cmp *c)
{
	const struct version *o = c->old, *n = c->new;

	for (size_t i = 0; i < n->n; i++) {
		const struct vfield *nf = &n->f[i], *of = vfind(o, nf->path);

		if (!of) {
			if (nf->required && (c->backward || c->forward) &&
			    incompatible(c, nf->line, nf->col, "field '%s' was added as required",
					 nf->path))
				return -1;
			continue;
		}
		if (((c->backward && (!readable(nf->type, of->type) ||
				      !readable(nf->item_type, of->item_type))) ||
		     (c->forward && (!readable(of->type, nf->type) ||
				     !readable(of->item_type, nf->item_type)))) &&
		    incompatible(c, nf->line, nf->col, "field '%s' changed type from %s%s%s to %s%s%s",
				 nf->path, of->type ? of->type : "?", of->item_type ? " of " : "",
				 of->item_type ? of->item_type : "", nf->type ? nf->type : "?",
				 nf->item_type ? " of " : "", nf->item_type ? nf->item_type : ""))
			return -1;
		if (c->backward && nf->required && !of->required &&
		    incompatible(c, nf->line, nf->col, "field '%s' became required", nf->path))
			return -1;
		if (c->forward && !nf->required && of->required &&
		    incompatible(c, nf->line, nf->col, "field '%s' became optional", nf->path))
			return -1;
		if (c->backward && !nf->nullable && of->nullable &&
		    incompatible(c, nf->line, nf->col, "field '%s' is no longer nullable", nf->path))
			return -1;
		if (c->forward && nf->nullable && !of->nullable &&
		    incompatible(c, nf->line, nf->col, "field '%s' became nullable", nf->path))
			return -1;
	}
	for (size_t i = 0; i < o->n; i++)
		if (o->f[i].required && !vfind(n, o->f[i].path) &&
		    incompatible(c, 0, 0, "required field '%s' was removed", o->f[i].path))
			return -1;
	return 0;
}

static int check_versions(struct loader *L)
{
	sqlite3_stmt *names = NULL, *vers = NULL;
	int ret = -1, rc;

	/* The names of several versions are found on the (name, version) index alone; only
	 * theirs are looked up for their gen (max(gen) over all names looked up every row:
	 * 5 of a 10k-descriptor load's ms). */
	if (st_sql_prepare(L->db, &names,
			    "SELECT name FROM (SELECT name FROM datasets GROUP BY name"
			    " HAVING count(*) > 1) n"
			    " WHERE (SELECT max(gen) FROM datasets x WHERE x.name = n.name) = ?1",
			    L->err) ||
	    st_sql_prepare(L->db, &vers,
			    "SELECT d.id, d.version, d.compatibility, f.display, d.line, d.col, d.gen"
			    " FROM datasets d JOIN files f ON f.id = d.file_id WHERE d.name = ?1"
			    " ORDER BY d.version",
			    L->err))
		goto out;
	sqlite3_bind_int64(names, 1, L->gen);
	while ((rc = sqlite3_step(names)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(names, 0);
		struct version prev = {0}, cur = {0};
		int64_t prev_gen = 0, bad = 0;

		sqlite3_bind_text(vers, 1, name, -1, SQLITE_STATIC);
		while (!bad && sqlite3_step(vers) == SQLITE_ROW) {
			int oomf = 0;
			int64_t gen = sqlite3_column_int64(vers, 6);

			version_release(&prev);
			prev = cur;
			memset(&cur, 0, sizeof(cur));
			cur.id = sqlite3_column_int64(vers, 0);
			cur.version = sqlite3_column_int64(vers, 1);
			cur.compat = st_sql_col_strdup(vers, 2, &oomf);
			cur.file = st_sql_col_strdup(vers, 3, &oomf);
			cur.line = (unsigned)sqlite3_column_int(vers, 4);
			cur.col = (unsigned)sqlite3_column_int(vers, 5);
			if (oomf || version_fields(L, &cur)) {
				if (oomf)
					oom(L);
				bad = 1;
				break;
			}
			if (prev.compat && (gen == L->gen || prev_gen == L->gen) &&
			    strcmp(cur.compat, "none")) {
				struct cmp c = {L, name, &prev, &cur, 0, 0};

				c.backward = !strcmp(cur.compat, "backward") || !strcmp(cur.compat, "full");
				c.forward = !strcmp(cur.compat, "forward") || !strcmp(cur.compat, "full");
				if (compare_versions(&c))
					bad = 1;
			}
			prev_gen = gen;
		}
		sqlite3_reset(vers);
		version_release(&prev);
		version_release(&cur);
		if (bad)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(L->err, L->db, "cannot check versions");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(names);
	sqlite3_finalize(vers);
	return ret;
}

/* catalog_known_field(name, path): 1 when a dataset of that name (any version) has a field
 * of that path, else 0 (NULL for either: 0). */
static void known_field(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	struct known *k = sqlite3_user_data(cx);
	const char *name = (const char *)sqlite3_value_text(argv[0]);
	const char *path = (const char *)sqlite3_value_text(argv[1]);
	size_t nn, pn;
	int rc;

	(void)argc;
	if (!name || !path) {
		sqlite3_result_int(cx, 0);
		return;
	}
	nn = (size_t)sqlite3_value_bytes(argv[0]);
	pn = (size_t)sqlite3_value_bytes(argv[1]);
	if (memchr(name, 0, nn) || memchr(path, 0, pn)) { /* not a key the set can hold */
		sqlite3_result_int(cx, 0);
		return;
	}
	if (k->fs) {
		const struct fset_ent *e = fset_find(k->fs, name, nn);

		sqlite3_result_int(cx, e && fset_has(k->fs, e, path, pn));
		return;
	}
	if (!known_has(k, name, nn, "\x01", 1)) {
		sqlite3_bind_text(k->q, 1, name, (int)nn, SQLITE_STATIC);
		while ((rc = sqlite3_step(k->q)) == SQLITE_ROW) {
			const char *p = (const char *)sqlite3_column_text(k->q, 0);
			size_t n = (size_t)sqlite3_column_bytes(k->q, 0);

			if (p && !memchr(p, 0, n) && known_add(k, name, nn, p, n) < 0) {
				rc = SQLITE_NOMEM;
				break;
			}
		}
		sqlite3_reset(k->q);
		if (rc == SQLITE_DONE && known_add(k, name, nn, "\x01", 1) < 0)
			rc = SQLITE_NOMEM;
		if (rc != SQLITE_DONE) {
			k->failed = rc == SQLITE_ROW ? SQLITE_ERROR : rc;
			sqlite3_result_error_code(cx, k->failed);
			return;
		}
	}
	sqlite3_result_int(cx, known_has(k, name, nn, path, pn));
}

/* Whether every reference in L->refs is to a dataset, or a field, of the catalog, as the
 * queries of check_references() would find (they find nothing then). */
static int refs_resolve(struct loader *L)
{
	const struct fset *fs = L->fieldset;
	const char *p = L->refs.p;

	for (size_t at = 0; at < L->refs.len;) {
		const struct fset_ent *e;
		size_t an, bn;
		const char *a, *b;
		int kind = (unsigned char)p[at++];

		memcpy(&an, p + at, sizeof(an));
		a = p + at + sizeof(an);
		at += sizeof(an) + an;
		memcpy(&bn, p + at, sizeof(bn));
		b = bn == (size_t)-1 ? NULL : p + at + sizeof(bn);
		at += sizeof(bn) + (b ? bn : 0);
		e = fset_find(fs, a, an);
		if (!e || ((kind == REF_FIELD || b) && !fset_has(fs, e, b, bn)))
			return 0;
	}
	return 1;
}

static int query_flag(struct loader *L, const char *sql, int *out);

/* Warns about references to datasets or fields the catalog does not declare. They stay in
 * the graph as external nodes. Only rows written by this load are checked. */
static int check_references(struct loader *L)
{
	/* Each query is run for the rows this load wrote, then, when datasets went away, for
	 * older rows that pointed at them. Two plain scopes keep both on an index. */
	static const struct {
		const char *rows, *head, *ref, *tail, *fmt_ds, *fmt_field;
	} q[] = {
		{"edges e",
		 "SELECT f.display, e.line, e.col, e.src, NULL, d.name FROM edges e"
		 " JOIN datasets d ON d.id = e.dataset_id JOIN files f ON f.id = d.file_id WHERE ",
		 "e.src", " AND NOT EXISTS (SELECT 1 FROM datasets x WHERE x.name = e.src)",
		 "upstream '%s' of '%s' is not declared; it stays in the graph as external", NULL},
		{"field_edges e",
		 "SELECT f.display, e.line, e.col, e.src_ds, e.src_field, d.name,"
		 " EXISTS (SELECT 1 FROM datasets x WHERE x.name = e.src_ds) FROM field_edges e"
		 " JOIN datasets d ON d.id = e.dataset_id JOIN files f ON f.id = d.file_id WHERE ",
		 "e.src_ds", " AND NOT catalog_known_field(e.src_ds, e.src_field)",
		 "'from' refers to undeclared dataset '%s'; it stays in the graph as external",
		 "'from' refers to '%s.%s', but '%s' has no such field; it stays in the graph as "
		 "external"},
		{"term_links l",
		 "SELECT f.display, l.line, l.col, l.target, l.field, d.name,"
		 " EXISTS (SELECT 1 FROM datasets x WHERE x.name = l.target) FROM term_links l"
		 " JOIN datasets d ON d.id = l.dataset_id JOIN files f ON f.id = d.file_id WHERE ",
		 "l.target",
		 " AND NOT (EXISTS (SELECT 1 FROM datasets x WHERE x.name = l.target)"
		 " AND (l.field IS NULL OR catalog_known_field(l.target, l.field)))",
		 "term relates to undeclared dataset '%s'",
		 "term relates to '%s.%s', but '%s' has no such field"},
	};
	int scopes = L->forgot ? 2 : 1, ret = -1;
	struct known *k;

	/* A fresh load whose references all resolve (as a catalog's mostly do) has nothing
	 * to report. */
	if (L->fieldset && !L->refs_lost && !L->forgot && refs_resolve(L))
		return 0;
	if (!(k = known_new()))
		return oom(L);
	k->fs = L->fieldset; /* a fresh load's: no query per name */
	if (st_sql_prepare(L->db, &k->q,
			    "SELECT y.path FROM datasets x JOIN fields y ON y.dataset_id = x.id"
			    " WHERE x.name = ?1",
			    L->err))
		goto out;
	if (sqlite3_create_function_v2(L->db, "catalog_known_field", 2, SQLITE_UTF8, k,
				       known_field, NULL, NULL, NULL) != SQLITE_OK) {
		st_sql_error(L->err, L->db, "cannot check references");
		goto out;
	}
	for (int scope = 0; scope < scopes; scope++)
		for (size_t i = 0; i < sizeof(q) / sizeof(*q); i++) {
			char sql[1024];
			sqlite3_stmt *st;
			int rc = SQLITE_DONE, r = 0;

			/* Every row of a fresh load is this load's: whether any row fails is
			 * asked of the rows alone first (5k-model manifest: 2 ms instead of 7), and
			 * only then which, with where they were written. */
			if (scope == 0 && L->fresh) {
				int any;

				snprintf(sql, sizeof(sql), "SELECT EXISTS (SELECT 1 FROM %s WHERE 1%s)",
					 q[i].rows, q[i].tail);
				if (query_flag(L, sql, &any)) {
					if (k->failed == SQLITE_NOMEM)
						oom(L);
					goto out;
				}
				if (!any)
					continue;
			}
			if (scope == 0)
				snprintf(sql, sizeof(sql), "%sd.gen = ?1%s", q[i].head, q[i].tail);
			else
				snprintf(sql, sizeof(sql),
					 "%sd.gen <> ?1 AND %s IN (SELECT name FROM temp.gone)%s",
					 q[i].head, q[i].ref, q[i].tail);
			if (st_sql_prepare(L->db, &st, sql, L->err))
				goto out;
			sqlite3_bind_int64(st, 1, L->gen);
			while (!r && (rc = sqlite3_step(st)) == SQLITE_ROW) {
				const char *file = (const char *)sqlite3_column_text(st, 0);
				unsigned line = (unsigned)sqlite3_column_int(st, 1);
				unsigned col = (unsigned)sqlite3_column_int(st, 2);
				const char *ds = (const char *)sqlite3_column_text(st, 3);
				const char *field = (const char *)sqlite3_column_text(st, 4);
				const char *owner = (const char *)sqlite3_column_text(st, 5);
				int declared = q[i].fmt_field && sqlite3_column_int(st, 6);

				if (declared && field)
					r = st_diags_add(L->diags, ST_SEV_WARNING, file, line, col,
							 q[i].fmt_field, ds, field, ds);
				else
					r = st_diags_add(L->diags, ST_SEV_WARNING, file, line, col,
							 q[i].fmt_ds, ds, owner);
			}
			if (r) {
				sqlite3_finalize(st);
				oom(L);
				goto out;
			}
			if (rc != SQLITE_DONE) {
				if (k->failed == SQLITE_NOMEM)
					oom(L);
				else
					st_sql_error(L->err, L->db, "cannot check references");
				sqlite3_finalize(st);
				goto out;
			}
			sqlite3_finalize(st);
		}
	ret = 0;
out:
	sqlite3_create_function_v2(L->db, "catalog_known_field", 2, SQLITE_UTF8, NULL, NULL, NULL,
				   NULL, NULL);
	known_free(k);
	return ret;
}

/* Runs sql, a query of one integer, and sets *out to it (0 without a row). Returns 0, or -1
 * with L->err. */
static int query_flag(struct loader *L, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int rc;

	if (st_sql_prepare(L->db, &st, sql, L->err))
		return -1;
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
						      : st_sql_error(L->err, L->db, "cannot read catalog");
}

/* Rebuilds the search rows of every name this load touched, indexing only the latest
 * version, with the text of the glossary terms that refer to it (after
 * CATALOG_FTS_HASHSIZE_SQL). */
static const char reindex_sql[] =
	"DELETE FROM search_fts WHERE rowid IN (SELECT d.id FROM datasets d"
	"  JOIN temp.touched t ON t.name = d.name);"
	"INSERT INTO search_fts(rowid, name, description, fields, tags, owner, terms)"
	" SELECT d.id, d.name, d.description,"
	"  (SELECT group_concat(f.path || coalesce(' ' || f.description, '')"
	"     || coalesce(' ' || f.category, ''), ' ') FROM fields f WHERE f.dataset_id = d.id),"
	"  d.tags, d.owner,"
	"  (SELECT group_concat(t.name || coalesce(' ' || t.description, ''), ' ')"
	"     FROM term_links l JOIN datasets t ON t.id = l.dataset_id WHERE l.target = d.name)"
	" FROM datasets d JOIN temp.touched tt ON tt.name = d.name"
	" WHERE d.version = (SELECT max(version) FROM datasets x WHERE x.name = d.name);";

/* The search rows: rebuilt for every touched name, or, after a load that wrote them inline,
 * only those that depend on other datasets: an older version's row goes, and a name that
 * terms relate to is rebuilt with their text. */
static int search_rows(struct loader *L)
{
	int built = 1, any;

	if (L->ftsb) { /* 1: it failed, and the rows are written here */
		built = catalog_ftsbuild_finish(L->ftsb, L->db, L->err);
		L->ftsb = NULL;
		if (built < 0)
			return -1;
	}
	if (built && st_sql_exec(L->db, CATALOG_FTS_HASHSIZE_SQL, L->err))
		return -1;
	if (L->fts_lost) /* every dataset is this load's: all their names are touched */
		return st_sql_exec(L->db,
				   "INSERT OR IGNORE INTO temp.touched(name) SELECT name FROM datasets",
				   L->err) ||
		       st_sql_exec(L->db, reindex_sql, L->err);
	if (!L->fts_inline) /* a fresh manifest's rows were written with it: none touched */
		return query_flag(L, "SELECT EXISTS (SELECT 1 FROM temp.touched)", &any) ||
		       (any && st_sql_exec(L->db, reindex_sql, L->err));
	for (size_t at = 0; built && at < L->fts_rows.len;) {
		at += catalog_ftsbuild_bind(L->st[S_FTS_INS], L->fts_rows.p + at);
		if (step_done(L, L->st[S_FTS_INS], "cannot index dataset"))
			return -1;
	}
	/* Each statement only when it has rows to change: a catalog of first versions has no
	 * older one, and names are touched only when terms relate to them (their look-ups
	 * took 10 ms of a 10k-descriptor load). */
	if (query_flag(L, "SELECT EXISTS (SELECT 1 FROM datasets WHERE version <> 1)", &any) ||
	    (any && st_sql_exec(L->db,
				"DELETE FROM search_fts WHERE rowid IN (SELECT d.id FROM datasets d"
				"  WHERE d.version < (SELECT max(version) FROM datasets x"
				"  WHERE x.name = d.name))",
				L->err)) ||
	    query_flag(L, "SELECT EXISTS (SELECT 1 FROM temp.touched)", &any))
		return -1;
	return any ? st_sql_exec(L->db, reindex_sql, L->err) : 0;
}

/* Starts indexing the search rows of a fresh load on a thread of its own (ftsbuild.c),
 * while this one builds the indexes and checks the load; search_rows() takes the result.
 * Not for a few rows (a thread and a copy of the index cost more than they save), nor for
 * many (CATALOG_FTS_BUILD_MAX), nor for serial loads (fault injection counts allocations in
 * a fixed order). */
static void fts_build(struct loader *L)
{
	sqlite3_stmt *st;

	if (!L->fts_inline || L->fts_lost || L->serial || L->fts_nrows < CATALOG_FTS_BUILD_MIN ||
	    L->fts_rows.len > CATALOG_FTS_BUILD_MAX ||
	    sqlite3_prepare_v2(L->db,
			       "SELECT sql FROM sqlite_master WHERE type = 'table' AND"
			       " name = 'search_fts'",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(st) == SQLITE_ROW)
		L->ftsb = catalog_ftsbuild_start((const char *)sqlite3_column_text(st, 0),
						 &L->fts_rows);
	sqlite3_finalize(st);
}

static int finish_stats(struct loader *L)
{
	sqlite3_stmt *st = NULL;
	int ret = -1, bad = 0;
	size_t cap = 0;

	/* DISTINCT in a subquery reads the (name, version) index in order; count(DISTINCT)
	 * filled a temporary b-tree (10k datasets: 1.9 ms instead of 3.5). */
	if (st_sql_prepare(L->db, &st,
			    "SELECT (SELECT count(*) FROM datasets),"
			    " (SELECT count(*) FROM (SELECT DISTINCT name FROM datasets))",
			    L->err))
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW) {
		L->stats->datasets = (size_t)sqlite3_column_int64(st, 0);
		L->stats->names = (size_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (st_sql_prepare(L->db, &st,
			    "SELECT name FROM temp.gone WHERE name NOT IN (SELECT name FROM datasets)"
			    " ORDER BY name",
			    L->err))
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct catalog_load_stats *s = L->stats;

		if (st_grow(&s->removed, &cap, s->nremoved + 1, sizeof(char *)) ||
		    !(s->removed[s->nremoved] = st_sql_col_strdup(st, 0, &bad))) {
			oom(L);
			goto out;
		}
		s->nremoved++;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static int forget_for_dbt(void *u, int64_t file_id)
{
	return forget_file(u, file_id, 0);
}

/* The dbt step (catalog/dbt.c): the manifests among the files, after the descriptors. */
static int load_dbt(struct loader *L)
{
	struct catalog_dbt_input *in = st_calloc(L->nfiles + 1, sizeof(*in));
	size_t n = 0;
	int r;

	if (!in)
		return oom(L);
	for (size_t i = 0; i < L->nfiles; i++)
		if (L->files[i].dbt) {
			in[n].display = L->files[i].display;
			in[n++].abs = L->files[i].abs;
		}
	r = catalog_dbt_load(&L->dbt, in, n);
	st_free(in);
	return r;
}

static int next_gen(struct loader *L)
{
	sqlite3_stmt *st;
	int ret = -1;

	if (st_sql_prepare(L->db, &st, "SELECT value FROM meta WHERE key = 'gen'", L->err))
		return -1;
	L->gen = 1;
	if (sqlite3_step(st) == SQLITE_ROW)
		L->gen = sqlite3_column_int64(st, 0) + 1;
	sqlite3_finalize(st);
	if (st_sql_prepare(L->db, &st, "SELECT value FROM meta WHERE key = 'loader'", L->err))
		return -1;
	/* A different validator invalidates every stored hash: everything is checked again. */
	if (sqlite3_step(st) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(st, 0), L->version_tag)) {
		sqlite3_finalize(st);
		return st_sql_exec(L->db, "UPDATE files SET hash = x'', size = -1", L->err);
	}
	ret = 0;
	sqlite3_finalize(st);
	return ret;
}

static int save_meta(struct loader *L)
{
	sqlite3_stmt *st;
	int r;

	if (st_sql_prepare(L->db, &st,
			    "INSERT OR REPLACE INTO meta(key, value) VALUES ('gen', ?1), ('loader', ?2)",
			    L->err))
		return -1;
	sqlite3_bind_int64(st, 1, L->gen);
	sqlite3_bind_text(st, 2, L->version_tag, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : st_sql_error(L->err, L->db, "cannot save load state");
}

void catalog_load_stats_release(struct catalog_load_stats *s)
{
	st_free_strv(s->removed, s->nremoved);
	memset(s, 0, sizeof(*s));
}

/* A load into an empty catalog (no file and no dataset) writes rows that only refer to rows
 * it wrote itself and deletes none, so it needs neither foreign key checks nor the indexes
 * of the tables it fills while it fills them: building an index once from all of its rows
 * costs less than keeping it up to date row by row. Whether the catalog is empty is asked
 * before the transaction (foreign keys can only be turned off outside one) and again inside
 * it. Sets *fresh. */
static int catalog_empty(struct loader *L, int *fresh)
{
	return query_flag(L,
			  "SELECT NOT EXISTS (SELECT 1 FROM files) AND"
			  " NOT EXISTS (SELECT 1 FROM datasets)",
			  fresh);
}

/* The indexes a fresh load keeps: their keys grow as the rows are written (ids, the load's
 * gen), so each row goes at the end of the index, which costs less than sorting the rows
 * for CREATE INDEX afterwards (2k descriptors: 7 M instructions less on the loading thread). */
#define LIVE_INDEXES                                                                           \
	"name NOT IN ('datasets_file', 'datasets_gen', 'edges_dataset', 'field_edges_dst',"   \
	" 'tags_dataset')"

/* For a fresh load: drops the indexes of the tables that the descriptors fill (not the
 * UNIQUE ones, which the load relies on, nor LIVE_INDEXES), keeping their CREATE statements
 * in L->index_sql for build_indexes(). Inside the transaction, so a rollback brings them
 * back. */
static int drop_indexes(struct loader *L)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc, bad = 0;

	if (st_sql_prepare(L->db, &st,
			    "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
			    " AND tbl_name IN ('datasets', 'tags', 'edges', 'field_edges',"
			    " 'term_links') AND " LIVE_INDEXES " ORDER BY name",
			    L->err))
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (st_grow(&L->index_sql, &cap, L->nindex + 1, sizeof(char *)) ||
		    !(L->index_sql[L->nindex] = st_sql_col_strdup(st, 0, &bad))) {
			sqlite3_finalize(st);
			return oom(L);
		}
		L->nindex++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return st_sql_error(L->err, L->db, "cannot read catalog schema");
	if (st_sql_prepare(L->db, &st,
			    "SELECT 'DROP INDEX ' || quote(name) FROM sqlite_master WHERE"
			    " type = 'index' AND sql IS NOT NULL AND tbl_name IN ('datasets', 'tags',"
			    " 'edges', 'field_edges', 'term_links') AND " LIVE_INDEXES,
			    L->err))
		return -1;
	{
		struct st_buf drops;

		st_buf_init(&drops, 1 << 16);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			bad |= st_buf_addf(&drops, "%s;", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		if (bad) {
			st_buf_release(&drops);
			return oom(L);
		}
		if (rc != SQLITE_DONE) {
			st_buf_release(&drops);
			return st_sql_error(L->err, L->db, "cannot read catalog schema");
		}
		rc = drops.len ? st_sql_exec(L->db, drops.p, L->err) : 0;
		st_buf_release(&drops);
		return rc;
	}
}

/* Builds the indexes that drop_indexes() dropped, once their tables are filled. */
static int build_indexes(struct loader *L)
{
	for (size_t i = 0; i < L->nindex; i++)
		if (st_sql_exec(L->db, L->index_sql[i], L->err))
			return -1;
	st_free_strv(L->index_sql, L->nindex);
	L->index_sql = NULL;
	L->nindex = 0;
	return 0;
}

static int prepare_all(struct loader *L)
{
	if (!L->c->schema && catalog_jschema_load(&L->c->schema,
						  (const char *)st_embed_descriptor_schema,
						  st_embed_descriptor_schema_len, L->err))
		return -1;
	if (!L->c->tax && catalog_taxonomy_load(&L->c->tax, L->err))
		return -1;
	if (st_sql_exec(L->db,
			 "CREATE TEMP TABLE IF NOT EXISTS touched(name TEXT PRIMARY KEY);"
			 "CREATE TEMP TABLE IF NOT EXISTS gone(name TEXT PRIMARY KEY);"
			 "DELETE FROM temp.touched; DELETE FROM temp.gone;",
			 L->err))
		return -1;
	for (int i = 0; i < S_COUNT; i++)
		if (st_sql_prepare(L->db, &L->st[i], sql_text[i], L->err))
			return -1;
	return 0;
}

/* Turns on the batches of files and datasets rows (struct loader's batch_ids), with the ids
 * SQLite would give the next rows. Returns 0, or -1 with L->err. */
static int next_ids(struct loader *L)
{
	sqlite3_stmt *st;
	int rc;

	if (st_sql_prepare(L->db, &st,
			    "SELECT (SELECT coalesce(max(id), 0) FROM files),"
			    " (SELECT coalesce(max(id), 0) FROM datasets)",
			    L->err))
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		L->next_file_id = sqlite3_column_int64(st, 0) + 1;
		L->next_ds_id = sqlite3_column_int64(st, 1) + 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return st_sql_error(L->err, L->db, "cannot read catalog");
	if (!(L->filesb = st_calloc(1, sizeof(*L->filesb))) ||
	    !(L->dsb = st_calloc(1, sizeof(*L->dsb))))
		return oom(L);
	catalog_rowbatch_init(L->filesb, L->db,
			      "INSERT OR FAIL INTO files(id, path, display, hash, size, mtime_ns, inode,"
			      " ndocs, loaded_at) VALUES ",
			      9);
	catalog_rowbatch_init(L->dsb, L->db,
			      "INSERT OR FAIL INTO datasets(id, name, version, kind, description, owner,"
			      " domain, system, location, format, retention, subject, compatibility, job,"
			      " erasure, tags, certified, file_id, line, col, gen, npii) VALUES ",
			      22);
	L->batch_ids = 1;
	return 0;
}

int catalog_load(struct catalog *c, const char *const *paths, size_t npaths, unsigned flags,
		 struct catalog_load_stats *stats, struct st_diags *diags, struct st_error *err)
{
	struct loader L;
	int ret = -1, in_tx = 0, changed;

	memset(&L, 0, sizeof(L));
	memset(stats, 0, sizeof(*stats));
	L.c = c;
	L.db = c->db;
	L.diags = diags;
	L.err = err;
	L.stats = stats;
	L.serial = !!(flags & CATALOG_LOAD_SERIAL);
	/* OR FAIL: a statement of many rows that fails ends the load, which rolls back its
	 * whole transaction, so SQLite need not keep a statement journal to undo the rows it
	 * wrote before failing (with ABORT it copied each page such a statement touched first). */
	catalog_rowbatch_init(&L.fields, L.db,
			      "INSERT OR FAIL INTO fields(dataset_id, ord, path, depth, type, item_type,"
			      " required, nullable, pii, category, transform, normalize,"
			      " pii_reason, scan, description, line, col) VALUES ",
			      17);
	catalog_rowbatch_init(&L.fedges, L.db,
			      "INSERT OR FAIL INTO field_edges(dataset_id, src_ds, src_field, dst_ds,"
			      " dst_field, line, col) VALUES ",
			      7);
	catalog_rowbatch_init(&L.tags, L.db,
			      "INSERT OR IGNORE INTO tags(dataset_id, tag) VALUES ", 2);
	catalog_rowbatch_init(&L.edges, L.db,
			      "INSERT OR FAIL INTO edges(dataset_id, src, dst, line, col) VALUES ", 5);
	catalog_rowbatch_init(&L.touched, L.db, "INSERT OR IGNORE INTO temp.touched(name) VALUES ",
			      1);
	st_buf_init(&L.fts_rows, (size_t)1 << 32);
	st_buf_init(&L.refs, (size_t)1 << 31);
	st_buf_init(&L.docbuf[0], 4096);
	st_buf_init(&L.docbuf[1], 1 << 20);
	st_buf_init(&L.docbuf[2], 1 << 24);
	snprintf(L.version_tag, sizeof(L.version_tag), "1:%zu:%zu", st_embed_descriptor_schema_len,
		 st_embed_taxonomy_len);
	if (sodium_init() < 0) {
		st_error_set(err, ST_E_SYSTEM, "cannot initialise libsodium");
		goto out;
	}
	/* An empty catalog (checked again below) takes file sizes from the workers' fstat(). */
	if (catalog_empty(&L, &L.stat_late) || collect(&L, paths, npaths))
		goto out;
	stats->files = L.nfiles;
	/* A large page cache pays off only for loads; short reads start faster without. */
	if (st_sql_exec(L.db, "PRAGMA cache_size = -65536", err) || catalog_empty(&L, &L.fresh) ||
	    (L.fresh && st_sql_exec(L.db, "PRAGMA foreign_keys = OFF", err)))
		goto out;
	if (st_sql_exec(L.db, "BEGIN IMMEDIATE", err))
		goto out;
	in_tx = 1;
	if (L.fresh) {
		int still;

		if (catalog_empty(&L, &still))
			goto out;
		if (!still) { /* another load came first: this one checks and indexes as usual */
			L.fresh = 0;
			in_tx = 0;
			if (st_sql_exec(L.db, "ROLLBACK", err))
				goto out;
			if (st_sql_exec(L.db, "PRAGMA foreign_keys = ON", err) ||
			    st_sql_exec(L.db, "BEGIN IMMEDIATE", err))
				goto out;
			in_tx = 1;
		} else if (drop_indexes(&L)) {
			goto out;
		} else {
			/* Only this load's rows: no page holds deleted content to zero. */
			L.secure = st_sql_secure_delete_off(L.db);
		}
	}
	/* Observed datasets (openlineage.c) step aside while descriptors load. */
	if (prepare_all(&L) || next_gen(&L) || catalog_ol_unsync(c, err) ||
	    (!L.fresh && stat_late(&L)) || classify(&L))
		goto out;
	L.dbt = (struct catalog_dbt_ctx){c, L.db, L.gen, diags, err, stats, forget_for_dbt, &L,
					 L.serial};
	L.fts_inline = L.fresh;
	for (size_t i = 0; i < L.nfiles; i++)
		L.fts_inline &= !L.files[i].dbt;
	if (L.fresh) {
		if (!(L.seen = known_new())) {
			oom(&L);
			goto out;
		}
	}
	if (L.fts_inline) {
		if (!(L.fieldset = st_calloc(1, sizeof(*L.fieldset)))) {
			oom(&L);
			goto out;
		}
		st_buf_init(&L.fieldset->bytes, FIELDSET_MAX);
	}
	if (L.fresh && !L.serial && next_ids(&L))
		goto out;
	if (load_files(&L) || flush_ids(&L) ||
	    catalog_rowbatch_flush(&L.fields, err, "cannot store field") ||
	    catalog_rowbatch_flush(&L.fedges, err, "cannot store column lineage") ||
	    catalog_rowbatch_flush(&L.tags, err, "cannot store tag") ||
	    catalog_rowbatch_flush(&L.edges, err, "cannot store lineage") ||
	    catalog_rowbatch_flush(&L.touched, err, "cannot record change"))
		goto out;
	fts_build(&L);
	if (build_indexes(&L) || load_dbt(&L))
		goto out;
	/* Nothing new, changed or gone: the cross-file checks and the index stand as they were.
	 * The counts come before the search rows, which change none of them: while the search
	 * index is still built beside, this thread has time to spare. */
	changed = stats->files_new + stats->files_changed + stats->files_removed != 0;
	if ((changed && (check_versions(&L) || check_references(&L))) || finish_stats(&L) ||
	    (changed && search_rows(&L)) || catalog_ol_sync(c, err))
		goto out;
	if (diags->nerrors) {
		st_error_set(err, ST_E_INVALID, "%zu error%s found; the catalog was not changed",
			     diags->nerrors, diags->nerrors == 1 ? "" : "s");
		goto out;
	}
	if (flags & CATALOG_LOAD_DRY_RUN) {
		ret = 0;
		goto out;
	}
	if (save_meta(&L) || st_sql_exec(L.db, "COMMIT", err))
		goto out;
	in_tx = 0;
	ret = 0;
out:
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(L.st[i]);
	catalog_rowbatch_release(&L.fields);
	catalog_rowbatch_release(&L.fedges);
	catalog_rowbatch_release(&L.tags);
	catalog_rowbatch_release(&L.edges);
	catalog_rowbatch_release(&L.touched);
	if (L.filesb)
		catalog_rowbatch_release(L.filesb);
	if (L.dsb)
		catalog_rowbatch_release(L.dsb);
	st_free(L.filesb);
	st_free(L.dsb);
	catalog_ftsbuild_abandon(L.ftsb); /* before the rows it reads go */
	st_buf_release(&L.refs);
	for (int i = 0; i < 3; i++)
		st_buf_release(&L.docbuf[i]);
	st_buf_release(&L.fts_rows);
	known_free(L.seen);
	fset_free(L.fieldset);
	if (in_tx)
		sqlite3_exec(L.db, "ROLLBACK", NULL, NULL, NULL);
	if (L.fresh) /* outside the transaction, where it takes effect */
		sqlite3_exec(L.db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	(void)st_sql_secure_delete_restore(L.db, L.secure, NULL);
	st_free_strv(L.index_sql, L.nindex);
	for (size_t i = 0; i < L.nfiles; i++) {
		st_free(L.files[i].display);
		st_free(L.files[i].abs);
	}
	st_free(L.files);
	for (size_t i = 0; i < L.nroots; i++)
		st_free(L.roots[i].abs);
	st_free(L.roots);
	if (ret && !err->code)
		st_error_set(err, ST_E_INVALID, "%zu error%s found; the catalog was not changed",
			     diags->nerrors, diags->nerrors == 1 ? "" : "s");
	return ret;
}
