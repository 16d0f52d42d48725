/* The JSON lines target: a tree of JSON lines files (Hive partition folders, plain or gzip)
 * read line by line; an erase rewrites each changed file (temporary file, fsync, rename) under
 * a lock on the tree, then reads every file again to verify nothing of the subject is left. */
#include "target.h"
#include "target_int.h"
#include "alloc.h"
#include "buf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- Files of the tree ---------------------------------------------------------------- */

struct jfile {
	char *path;	 /* DIR/REL */
	char *tmp;	 /* the rewritten content, until renamed over path */
	struct stat sb;	 /* as first read, to notice a writer in between */
	int gz;		 /* the name ends in .gz: read and written with zlib */
	long matched;	 /* lines of the subject */
	int64_t changed; /* lines dropped or rewritten in tmp */
};

/* What the walk of the tree finds. */
struct walk {
	const char *root;
	const char *globs; /* comma-separated */
	struct jfile *f;
	size_t n, cap;
	char **skipped; /* files the globs do not match, symbolic links, other file types */
	size_t nskipped, capskipped;
	int stale; /* temporary files of an interrupted run, removed */
};

/* Temporary files are .NAME.steward-tmp.XXXXXX beside NAME: hidden, and matched by no
 * glob a user would write. */
#define JL_TMP_MARK ".steward-tmp."
#define JL_GLOB_MAX 256
#define JL_SHOWN_MAX 160 /* about how many bytes of skipped names the evidence shows */

static void jfiles_free(struct jfile *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (f[i].tmp)
			unlink(f[i].tmp);
		st_free(f[i].tmp);
		st_free(f[i].path);
	}
	st_free(f);
}

static int jfile_cmp(const void *a, const void *b)
{
	return strcmp(((const struct jfile *)a)->path, ((const struct jfile *)b)->path);
}

static int ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcasecmp(s + n - k, suffix);
}

/* Whether name matches one of the globs (case-insensitive), as it is or without a final
 * ".gz". */
static int glob_match(const char *globs, const char *name)
{
	char g[JL_GLOB_MAX], stem[NAME_MAX + 1];
	const char *p = globs, *end;
	size_t n = strlen(name);
	int gz = ends_with_ci(name, ".gz") && n - 3 < sizeof(stem);

	if (gz) {
		memcpy(stem, name, n - 3);
		stem[n - 3] = '\0';
	}
	for (;;) {
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		if ((size_t)(end - p) < sizeof(g)) {
			memcpy(g, p, (size_t)(end - p));
			g[end - p] = '\0';
			if (!fnmatch(g, name, FNM_CASEFOLD) ||
			    (gz && !fnmatch(g, stem, FNM_CASEFOLD)))
				return 1;
		}
		if (!*end)
			return 0;
		p = end + 1;
	}
}

/* Keeps the name of a file the walk does not read (rel, and why when it is not only a
 * name the globs do not match), for the evidence. */
static int walk_skip(struct walk *w, const char *rel, const char *why, struct st_error *err)
{
	struct st_buf b;

	st_buf_init(&b, PATH_MAX_LEN + 64);
	if (st_buf_adds(&b, rel) ||
	    (why && (st_buf_adds(&b, " (") || st_buf_adds(&b, why) || st_buf_adds(&b, ")"))) ||
	    st_grow(&w->skipped, &w->capskipped, w->nskipped + 1, sizeof(*w->skipped)) ||
	    !(w->skipped[w->nskipped] = st_buf_detach(&b))) {
		st_buf_release(&b);
		return st_error_oom(err);
	}
	w->nskipped++;
	return 0;
}

static char *path_join(const char *dir, const char *name)
{
	struct st_buf b;

	st_buf_init(&b, PATH_MAX_LEN);
	if (st_buf_adds(&b, dir) || st_buf_adds(&b, "/") || st_buf_adds(&b, name)) {
		st_buf_release(&b);
		return NULL;
	}
	return st_buf_detach(&b);
}

/* Walks the directory dfd (path names it, rel is its path under the root, "" for the root)
 * at depth: removes the temporary files an interrupted run left (they hold copies of other
 * people's records that later erasures would never reach), lists the regular files the
 * globs match and counts the rest. Subdirectories are opened with O_NOFOLLOW: a symbolic
 * link never leads the walk out of the tree. A matched name that is a symbolic link is an
 * error: renaming over it would replace the link, not the data it points to. Takes dfd. */
static int walk_dir(struct walk *w, int dfd, const char *path, const char *rel, int depth,
		    struct st_error *err)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	struct stat sb;
	char *sub = NULL, *subrel = NULL;
	int ret = -1, cfd;

	if (!d) {
		close(dfd);
		return st_error_set(err, ST_E_SYSTEM, "cannot read directory '%s': %s", path,
				    strerror(errno));
	}
	for (errno = 0; (e = readdir(d)); errno = 0) {
		const char *name = e->d_name;

		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		st_free(sub);
		st_free(subrel);
		sub = path_join(path, name);
		subrel = *rel ? path_join(rel, name) : st_strdup(name);
		if (!sub || !subrel) {
			if (strlen(path) + strlen(name) + 2 > PATH_MAX_LEN)
				st_error_set(err, ST_E_SYSTEM, "path '%s/%s' is too long", path,
					     name);
			else
				st_error_oom(err);
			goto out;
		}
		if (name[0] == '.' && strstr(name, JL_TMP_MARK)) {
			if (unlinkat(dirfd(d), name, 0) && errno != ENOENT) {
				st_error_set(err, ST_E_SYSTEM, "cannot remove '%s': %s", sub,
					     strerror(errno));
				goto out;
			}
			w->stale++;
			continue;
		}
		if (fstatat(dirfd(d), name, &sb, AT_SYMLINK_NOFOLLOW)) {
			st_error_set(err, ST_E_SYSTEM, "cannot read '%s': %s", sub,
				     strerror(errno));
			goto out;
		}
		if (S_ISDIR(sb.st_mode)) {
			if (depth + 1 > AUDIT_JSONL_MAX_DEPTH) {
				st_error_set(
					err, ST_E_INVALID,
					"'%s' is more than %d folders deep; the target was not "
					"changed",
					sub, AUDIT_JSONL_MAX_DEPTH);
				goto out;
			}
			cfd = openat(dirfd(d), name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0) {
				st_error_set(err, ST_E_SYSTEM, "cannot open directory '%s': %s",
					     sub, strerror(errno));
				goto out;
			}
			if (walk_dir(w, cfd, sub, subrel, depth + 1, err))
				goto out;
			continue;
		}
		if (!glob_match(w->globs, name)) {
			if (walk_skip(w, subrel,
				      S_ISLNK(sb.st_mode) ? "symbolic link, not followed" : NULL,
				      err))
				goto out;
			continue;
		}
		if (S_ISLNK(sb.st_mode)) {
			st_error_set(
				err, ST_E_INVALID,
				"'%s' is a symbolic link (steward rewrites regular files only)",
				sub);
			goto out;
		}
		if (!S_ISREG(sb.st_mode)) {
			if (walk_skip(w, subrel, "not a regular file", err))
				goto out;
			continue;
		}
		if (st_grow(&w->f, &w->cap, w->n + 1, sizeof(*w->f))) {
			st_error_oom(err);
			goto out;
		}
		memset(&w->f[w->n], 0, sizeof(*w->f));
		w->f[w->n].path = sub;
		w->f[w->n].gz = ends_with_ci(name, ".gz");
		w->n++;
		sub = NULL;
	}
	if (errno) {
		st_error_set(err, ST_E_SYSTEM, "cannot read directory '%s': %s", path,
			     strerror(errno));
		goto out;
	}
	ret = 0;
out:
	st_free(sub);
	st_free(subrel);
	closedir(d);
	return ret;
}

/* ---- Reading and writing plain or gzip files ------------------------------------------ */

struct jin {
	FILE *f;
	gzFile gz;
};

struct jout {
	FILE *f;
	gzFile gz;
};

static int jin_getc(struct jin *in)
{
	return in->gz ? gzgetc(in->gz) : getc_unlocked(in->f);
}

/* Whether reading failed (not the end of the file). */
static int jin_error(struct jin *in, const char **why)
{
	int code = Z_OK;
	const char *msg;

	if (!in->gz) {
		*why = strerror(errno);
		return ferror(in->f) != 0;
	}
	msg = gzerror(in->gz, &code);
	*why = code == Z_ERRNO ? strerror(errno) : msg;
	return code != Z_OK && code != Z_STREAM_END;
}

static void jin_close(struct jin *in)
{
	if (in->gz)
		gzclose_r(in->gz);
	if (in->f)
		fclose(in->f);
	in->gz = NULL;
	in->f = NULL;
}

static int jout_write(struct jout *out, const void *p, size_t n)
{
	if (!n)
		return 0;
	if (out->gz)
		return gzwrite(out->gz, p, (unsigned)n) == (int)n ? 0 : -1;
	return fwrite(p, 1, n, out->f) == n ? 0 : -1;
}

/* Opens a file of the target for reading, refusing symbolic links; a .gz file must hold
 * gzip data (zlib would read anything else as it is). */
static int jl_open(const struct jfile *f, struct jin *in, struct stat *sb, struct st_error *err)
{
	int fd = open(f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	memset(in, 0, sizeof(*in));
	if (fd < 0 || fstat(fd, sb)) {
		st_error_set(err, ST_E_SYSTEM, "cannot open '%s': %s", f->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (f->gz) {
		in->gz = gzdopen(fd, "rb");
		if (!in->gz) {
			close(fd);
			return st_error_oom(err);
		}
		if (sb->st_size && gzdirect(in->gz)) {
			jin_close(in);
			return st_error_set(err, ST_E_INVALID,
					    "'%s' is not gzip data; the target was not changed",
					    f->path);
		}
		return 0;
	}
	in->f = fdopen(fd, "r");
	if (!in->f) {
		close(fd);
		return st_error_oom(err);
	}
	return 0;
}

/* The longest line a jsonl target may hold; a longer one stops the job, changing nothing. */
#define JL_MAX_LINE (64u << 20)

/* Reads one line (newline included; NUL bytes kept) into *line, growing it up to max
 * bytes. Returns its length, 0 at the end of the file, -1 on a read error or out of memory,
 * -2 when the line is longer than max (nothing more of it is read). */
static ssize_t jl_getline(char **line, size_t *cap, struct jin *in, size_t max)
{
	size_t len = 0;
	int ch;

	while ((ch = jin_getc(in)) != EOF) {
		if (len + 1 >= *cap) {
			size_t want = *cap ? *cap * 2 : 4096;
			char *p;

			if (len >= max)
				return -2;
			if (want > max + 2)
				want = max + 2;
			if (!(p = st_realloc(*line, want)))
				return -1;
			*line = p;
			*cap = want;
		}
		(*line)[len++] = (char)ch;
		if (ch == '\n')
			break;
	}
	if (len)
		(*line)[len] = '\0';
	return (ssize_t)len;
}

/* ---- Records ------------------------------------------------------------------------ */

struct jl {
	const struct audit_target_job *job;
	struct audit_values *vs;
	struct st_buf *rows;
};

/* One record as parsed: the object, and its text when a key occurs more than once in it
 * (then every occurrence of a key counts, not only the last one jansson keeps). */
struct rec {
	json_t *root;
	const char *text; /* NULL when no key repeats */
	size_t len;
};

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* The end of the JSON value starting at p (text jansson accepted, so well-formed). */
static const char *skip_value(const char *p, const char *end)
{
	int depth = 0, in_str = 0;

	for (; p < end; p++) {
		if (in_str) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				in_str = 0;
			if (!in_str && !depth)
				return p + 1;
			continue;
		}
		if (*p == '"')
			in_str = 1;
		else if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']') {
			if (!depth)
				return p; /* the end of the enclosing object */
			if (!--depth)
				return p + 1;
		} else if (!depth &&
			   (*p == ',' || *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			return p;
	}
	return p;
}

/* Calls fn(value, u) for every occurrence of key at the top level of r, in order; stops
 * at fn's first nonzero return, which it returns. Without repeated keys that is the one
 * value jansson holds. */
static int rec_each(const struct rec *r, const char *key, int (*fn)(json_t *v, void *u), void *u)
{
	const char *p, *end, *ks, *vs;
	size_t klen = strlen(key);
	json_t *k, *v;
	int ret = 0, same;

	if (!r->text) {
		v = json_object_get(r->root, key);
		return v ? fn(v, u) : 0;
	}
	end = r->text + r->len;
	p = skip_ws(r->text, end);
	if (p == end || *p != '{')
		return 0;
	p = skip_ws(p + 1, end);
	while (!ret && p < end && *p == '"') {
		ks = p;
		p = skip_value(p, end);
		k = json_loadb(ks, (size_t)(p - ks), JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		same = k && json_string_length(k) == klen &&
		       !memcmp(json_string_value(k), key, klen);
		json_decref(k);
		p = skip_ws(p, end);
		if (p == end || *p != ':')
			break;
		vs = p = skip_ws(p + 1, end);
		p = skip_value(p, end);
		if (same) {
			v = json_loadb(vs, (size_t)(p - vs), JSON_DECODE_ANY | JSON_ALLOW_NUL,
				       NULL);
			if (v)
				ret = fn(v, u);
			json_decref(v);
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',')
			p = skip_ws(p + 1, end);
	}
	return ret;
}

/* A value of a record as text, for matching and subject values: strings and integers
 * only. Returns its length, or -1 when it has neither form. */
static int jl_text(json_t *v, const char **text, char *num, size_t numn)
{
	int n;

	if (json_is_string(v)) {
		*text = json_string_value(v);
		return json_string_length(v) > 0x7fffffff ? -1 : (int)json_string_length(v);
	}
	if (json_is_integer(v)) {
		n = snprintf(num, numn, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		*text = num;
		return n < 0 || (size_t)n >= numn ? -1 : n;
	}
	return -1;
}

struct match_ctx {
	const struct audit_target_job *job;
	struct st_error *err;
	int failed;
};

/* rec_each: 1 when a value of the match field belongs to the subject. */
static int match_value(json_t *v, void *u)
{
	struct match_ctx *m = u;
	char num[32];
	const char *text;
	int n = jl_text(v, &text, num, sizeof(num)), r;

	if (n < 0)
		return 0;
	r = audit_matcher_test(m->job->match, text, (size_t)n, m->err);
	sodium_memzero(num, sizeof(num));
	if (r < 0)
		m->failed = 1;
	return r != 0;
}

static int not_null(json_t *v, void *u)
{
	(void)u;
	return !json_is_null(v);
}

/* Whether a record belongs to the subject (and, for nullify, still has something to
 * erase): any occurrence of a repeated key counts. Returns 1 or 0, or -1 with err. */
static int jl_match(const struct audit_target_job *job, const struct rec *r, struct st_error *err)
{
	struct match_ctx m = {job, err, 0};
	int hit = rec_each(r, job->match_field, match_value, &m);

	if (m.failed)
		return -1;
	if (!hit || job->kind != AUDIT_JOB_ERASE || job->erase_action != AUDIT_ERASE_NULLIFY)
		return hit;
	for (size_t i = 0; i < job->nnullify; i++)
		if (rec_each(r, job->nullify[i], not_null, NULL))
			return 1;
	return 0;
}

struct collect_ctx {
	struct audit_values *vs;
	int oom;
};

static int collect_value(json_t *v, void *u)
{
	struct collect_ctx *c = u;
	char num[32];
	const char *text;
	int n = jl_text(v, &text, num, sizeof(num));

	if (n >= 0 && audit_values_add(c->vs, text, (size_t)n))
		c->oom = 1;
	sodium_memzero(num, sizeof(num));
	return c->oom;
}

/* Collects what a matched record gives an access request or the caller. */
static int jl_collect(struct jl *c, const struct rec *r, struct st_error *err)
{
	struct collect_ctx cc = {c->vs, 0};

	if (c->job->subject_field) {
		rec_each(r, c->job->subject_field, collect_value, &cc);
		if (cc.oom)
			return st_error_oom(err);
	}
	if (c->job->kind == AUDIT_JOB_ACCESS)
		return audit_rows_add(c->rows, r->root, err);
	return 0;
}

/* Writes a nullified record in place of the line it came from, keeping its byte order mark
 * and line end. A repeated key is written once. */
static int jl_write_nullified(const struct audit_target_job *job, json_t *root, int bom,
			      const char *end, struct jout *out, struct st_error *err)
{
	char *text;
	int ret = 0;

	for (size_t i = 0; i < job->nnullify; i++)
		if (json_object_get(root, job->nullify[i]) &&
		    json_object_set_new(root, job->nullify[i], json_null()))
			return st_error_oom(err);
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		return st_error_oom(err);
	if ((bom && jout_write(out, "\xEF\xBB\xBF", 3)) || jout_write(out, text, strlen(text)) ||
	    jout_write(out, end, strlen(end)))
		ret = 1; /* reported by the caller */
	sodium_memzero(text, strlen(text));
	free(text); /* jansson's allocator */
	return ret;
}

/* A fixed cause for jansson's error code: its own text may quote the line, which may hold
 * personal data. */
static const char *parse_cause(const json_error_t *e)
{
	switch (json_error_code(e)) {
	case json_error_premature_end_of_input:
		return "the record ends early";
	case json_error_end_of_input_expected:
		return "text after the record";
	case json_error_invalid_utf8:
		return "invalid UTF-8";
	case json_error_null_character:
	case json_error_null_byte_in_key:
		return "a NUL character";
	case json_error_numeric_overflow:
		return "a number out of range";
	case json_error_stack_overflow:
		return "nested too deeply";
	default:
		return "invalid JSON";
	}
}

/* Parses the line p (n bytes, without a byte order mark) into r. Returns 0, or -1 with err
 * naming FILE:LINE[:COL]. */
static int jl_parse(const struct jfile *f, size_t lineno, const char *p, size_t n, int bom,
		    struct rec *r, struct st_error *err)
{
	json_error_t jerr;

	r->text = NULL;
	r->root = json_loadb(p, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!r->root && json_error_code(&jerr) == json_error_duplicate_key) {
		r->root = json_loadb(p, n, 0, &jerr);
		r->text = p;
		r->len = n;
	}
	if (!r->root)
		return st_error_set(err, ST_E_INVALID, "%s:%zu:%d: %s; the target was not changed",
				    f->path, lineno, jerr.column > 0 ? jerr.column + bom : 1,
				    parse_cause(&jerr));
	if (!json_is_object(r->root)) {
		json_decref(r->root);
		r->root = NULL;
		return st_error_set(err, ST_E_INVALID,
				    "%s:%zu: not a JSON object; the target was not changed",
				    f->path, lineno);
	}
	return 0;
}

enum jl_pass { JL_READ, JL_WRITE, JL_VERIFY };

/* Reads one file line by line. JL_READ counts the subject's records into f->matched and
 * collects from them; JL_WRITE writes the file's new content to out: records of the
 * subject dropped or nullified, every other line copied byte for byte (its line end and
 * byte order mark with it), counting them in *count; JL_VERIFY counts the subject's
 * records left into *count. A line that is not a JSON object fails the pass. */
static int jl_scan(struct jl *c, struct jfile *f, struct jin *in, int pass, struct jout *out,
		   long *count, struct st_error *err)
{
	const struct audit_target_job *job = c->job;
	char *line = NULL;
	const char *why;
	size_t cap = 0, body, lineno = 0, skip;
	ssize_t n;
	struct rec r = {0};
	int ret = -1, m;

	while ((n = jl_getline(&line, &cap, in, JL_MAX_LINE)) > 0) {
		lineno++;
		/* a last line cut short by a read error (a truncated gzip stream) is the error */
		if (line[n - 1] != '\n' && jin_error(in, &why))
			break;
		body = (size_t)n;
		if (body && line[body - 1] == '\n')
			body--;
		if (body && line[body - 1] == '\r')
			body--;
		skip = body >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3) ? 3 : 0;
		m = 0;
		if (strspn(line + skip, " \t\r\n") < (size_t)n - skip) {
			if (jl_parse(f, lineno, line + skip, body - skip, skip ? 1 : 0, &r, err))
				goto out;
			if ((m = jl_match(job, &r, err)) < 0)
				goto out;
		}
		if (pass == JL_WRITE) {
			if (!m) {
				if (jout_write(out, line, (size_t)n))
					goto write_error;
			} else {
				++*count;
				if (job->erase_action == AUDIT_ERASE_NULLIFY) {
					int w = jl_write_nullified(job, r.root, skip != 0,
								   line + body, out, err);

					if (w < 0)
						goto out;
					if (w > 0)
						goto write_error;
				}
			}
		} else if (m && pass == JL_READ) {
			f->matched++;
			if (jl_collect(c, &r, err))
				goto out;
		} else if (m) {
			++*count;
		}
		json_decref(r.root);
		r.root = NULL;
	}
	if (n == -2) {
		st_error_set(err, ST_E_INVALID,
			     "%s:%zu: the line is longer than %u MiB; the target was not changed",
			     f->path, lineno + 1, JL_MAX_LINE >> 20);
		goto out;
	}
	/* A failed read or allocation is not the end: taking it for one would drop the rest
	 * of the file. */
	if (n < 0 || jin_error(in, &why)) {
		st_error_set(err, ST_E_SYSTEM, "cannot read '%s': %s", f->path,
			     n < 0 ? "out of memory" : why);
		goto out;
	}
	ret = 0;
	goto out;
write_error:
	st_error_set(err, ST_E_SYSTEM, "cannot write '%s': %s", f->tmp, strerror(errno));
out:
	json_decref(r.root);
	if (line) {
		sodium_memzero(line, cap);
		st_free(line);
	}
	return ret;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Reads one file in pass JL_READ or JL_VERIFY. */
static int jl_read(struct jl *c, struct jfile *f, int pass, long *count, struct st_error *err)
{
	struct jin in;
	struct stat sb;
	int ret;

	if (jl_open(f, &in, pass == JL_READ ? &f->sb : &sb, err))
		return -1;
	ret = jl_scan(c, f, &in, pass, NULL, count, err);
	jin_close(&in);
	return ret;
}

/* Writes f's new content to a temporary file next to it (gzip again when f is), with its
 * mode and (when allowed) its owner, and syncs it. */
static int jl_rewrite(struct jl *c, struct jfile *f, struct st_error *err)
{
	const char *slash = strrchr(f->path, '/');
	struct st_buf tmp;
	struct stat sb;
	struct jin in = {0};
	struct jout out = {0};
	int fd = -1, wfd = -1, ret = -1, rc;
	long changed = 0;

	st_buf_init(&tmp, PATH_MAX_LEN);
	if (st_buf_add(&tmp, f->path, (size_t)(slash - f->path) + 1) ||
	    st_buf_addf(&tmp, ".%s" JL_TMP_MARK "XXXXXX", slash + 1)) {
		st_error_set(err, ST_E_SYSTEM, "path '%s' is too long", f->path);
		goto out;
	}
	f->tmp = st_buf_detach(&tmp);
	if (!f->tmp) {
		st_error_oom(err);
		goto out;
	}
	if (jl_open(f, &in, &sb, err))
		goto out;
	if (!same_file(&sb, &f->sb)) {
		st_error_set(err, ST_E_SYSTEM, "'%s' changed while it was read", f->path);
		goto out;
	}
	fd = mkstemp(f->tmp);
	if (fd < 0) {
		st_error_set(err, ST_E_SYSTEM, "cannot create '%s': %s", f->tmp, strerror(errno));
		st_free(f->tmp);
		f->tmp = NULL;
		goto out;
	}
	if (fchmod(fd, f->sb.st_mode & 07777)) {
		st_error_set(err, ST_E_SYSTEM, "cannot set the mode of '%s': %s", f->tmp,
			     strerror(errno));
		goto out;
	}
	if (fchown(fd, f->sb.st_uid, f->sb.st_gid)) {
		/* only root may give a file away: others keep their own ownership */
	}
	/* the stream gets its own descriptor: fd stays open for the fsync after it is closed */
	wfd = dup(fd);
	if (wfd >= 0 && f->gz)
		out.gz = gzdopen(wfd, "wb");
	else if (wfd >= 0)
		out.f = fdopen(wfd, "w");
	if (!out.gz && !out.f) {
		st_error_set(err, ST_E_SYSTEM, "cannot write '%s': %s", f->tmp,
			     wfd < 0 ? strerror(errno) : "out of memory");
		goto out;
	}
	wfd = -1;
	if (jl_scan(c, f, &in, JL_WRITE, &out, &changed, err))
		goto out;
	rc = out.gz ? (gzclose_w(out.gz) == Z_OK ? 0 : -1) : fclose(out.f);
	out.gz = NULL;
	out.f = NULL;
	if (rc || fsync(fd)) {
		st_error_set(err, ST_E_SYSTEM, "cannot write '%s': %s", f->tmp, strerror(errno));
		goto out;
	}
	f->changed = changed;
	ret = 0;
out:
	jin_close(&in);
	if (out.gz)
		gzclose_w(out.gz);
	if (out.f)
		fclose(out.f);
	if (wfd >= 0)
		close(wfd);
	if (fd >= 0)
		close(fd);
	st_buf_release(&tmp);
	return ret;
}

/* Syncs the directory that holds path. */
static int fsync_parent(const char *path, struct st_error *err)
{
	const char *slash = strrchr(path, '/');
	char *dir = st_strndup(path, slash ? (size_t)(slash - path) : 0);
	int fd, ret = 0;

	if (!dir)
		return st_error_oom(err);
	fd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		ret = st_error_set(err, ST_E_SYSTEM, "cannot sync directory '%s': %s", dir,
				   strerror(errno));
	if (fd >= 0)
		close(fd);
	st_free(dir);
	return ret;
}

#define LOCK_DEPTH_MAX 64 /* directories above a tree that its lock marks */

/* A tree's lock: its top directory, and the directories above it. */
struct jl_lock {
	int fd;                    /* the top directory, flock(LOCK_EX) */
	int up[LOCK_DEPTH_MAX];    /* the directories above it, flock(LOCK_SH) */
	size_t nup;
};

static void jl_unlock(struct jl_lock *lk)
{
	if (lk->fd >= 0)
		close(lk->fd);
	for (size_t i = 0; i < lk->nup; i++)
		close(lk->up[i]);
	lk->fd = -1;
	lk->nup = 0;
}

static int jl_flock(int fd, int op, const char *dir, struct st_error *err)
{
	if (!flock(fd, op | LOCK_NB))
		return 0;
	if (errno != EWOULDBLOCK)
		return st_error_set(err, ST_E_SYSTEM, "cannot lock '%s': %s", dir, strerror(errno));
	return st_error_set(err, ST_E_SYSTEM,
			    op == LOCK_EX ? "another steward is changing '%s' or a folder in it; run "
					    "again later"
					  : "another steward is changing '%s'; run again later",
			    dir);
}

/* Locks the tree for this run (held until jl_unlock()): flock(LOCK_EX) on its top
 * directory, and flock(LOCK_SH) on every directory above it (by its real path), so that two
 * runs never rewrite one file at once, even when one target's folder is inside another's:
 * a run on a tree is refused while a run holds the tree, a tree around it, or a tree in it.
 * A directory above that cannot be opened for reading is passed over. */
static int jl_lock(const char *dir, struct jl_lock *lk, struct st_error *err)
{
	char real[PATH_MAX], up[PATH_MAX];
	int fd;

	lk->fd = -1;
	lk->nup = 0;
	if (!realpath(dir, real))
		return st_error_set(err, ST_E_SYSTEM, "cannot open directory '%s': %s", dir,
				    strerror(errno));
	for (size_t i = 0; real[i] && lk->nup < LOCK_DEPTH_MAX; i++) {
		if (real[i] != '/' || !real[i + 1])
			continue;
		memcpy(up, real, i);
		up[i ? i : 1] = '\0'; /* "/", "/a", "/a/b", ... */
		if (!i)
			up[0] = '/';
		if ((fd = open(up, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			continue;
		lk->up[lk->nup++] = fd;
		if (jl_flock(fd, LOCK_SH, up, err))
			goto fail;
	}
	lk->fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lk->fd < 0) {
		st_error_set(err, ST_E_SYSTEM, "cannot open directory '%s': %s", dir,
			     strerror(errno));
		goto fail;
	}
	if (jl_flock(lk->fd, LOCK_EX, dir, err))
		goto fail;
	return 0;
fail:
	jl_unlock(lk);
	return -1;
}

/* Renames every rewritten file into place, checking that no one wrote it meanwhile. */
static int jl_commit(struct jfile *files, size_t nfiles, struct audit_evidence *ev,
		     struct st_error *err)
{
	struct stat sb;

	for (size_t i = 0; i < nfiles; i++) {
		if (!files[i].tmp)
			continue;
		if (lstat(files[i].path, &sb) || !same_file(&sb, &files[i].sb))
			return st_error_set(err, ST_E_SYSTEM, "'%s' changed while it was erased",
					    files[i].path);
		if (rename(files[i].tmp, files[i].path))
			return st_error_set(err, ST_E_SYSTEM, "cannot replace '%s': %s",
					    files[i].path, strerror(errno));
		st_free(files[i].tmp);
		files[i].tmp = NULL;
		ev->files++;
		ev->changed += files[i].changed;
		if (fsync_parent(files[i].path, err))
			return -1;
	}
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Notes for the evidence: lines are never skipped, but files may be, and the first of them
 * (in name order) are named. */
static void jl_detail(struct walk *w, struct audit_evidence *ev)
{
	int n = 0;
	size_t shown = 0, i;

	if (w->nskipped)
		qsort(w->skipped, w->nskipped, sizeof(*w->skipped), str_cmp);
	for (i = 0; i < w->nskipped && shown < JL_SHOWN_MAX; i++)
		shown += strlen(w->skipped[i]) + 2;
	if (w->nskipped) {
		n = snprintf(ev->detail, sizeof(ev->detail),
			     "skipped %zu file%s the globs do not match: ", w->nskipped,
			     w->nskipped == 1 ? "" : "s");
		for (size_t k = 0; k < i && n >= 0 && (size_t)n < sizeof(ev->detail); k++)
			n += snprintf(ev->detail + n, sizeof(ev->detail) - (size_t)n, "%s%s",
				      k ? ", " : "", w->skipped[k]);
		if (i < w->nskipped && n >= 0 && (size_t)n < sizeof(ev->detail))
			n += snprintf(ev->detail + n, sizeof(ev->detail) - (size_t)n, ", ...");
	}
	if (w->stale && n >= 0 && (size_t)n < sizeof(ev->detail))
		snprintf(ev->detail + n, sizeof(ev->detail) - (size_t)n,
			 "%sremoved %d temporary file%s an interrupted run left", n ? "; " : "",
			 w->stale, w->stale == 1 ? "" : "s");
}

int audit_jsonl_run(const struct audit_target_job *job, const struct target_uri *u,
		    struct audit_evidence *ev, struct st_error *err)
{
	struct walk w = {0};
	struct audit_values vs = {0};
	struct st_buf rows;
	struct jl c = {job, &vs, &rows};
	struct jl_lock lock = {.fd = -1};
	long matched = 0, remaining = 0;
	int ret = -1, dfd;

	st_buf_init(&rows, ROWS_MAX);
	w.root = u->path;
	w.globs = u->globs ? u->globs : AUDIT_JSONL_GLOBS;
	if (jl_lock(u->path, &lock, err))
		goto out;
	if ((dfd = dup(lock.fd)) < 0) {
		st_error_set(err, ST_E_SYSTEM, "cannot read directory '%s': %s", u->path,
			     strerror(errno));
		goto out;
	}
	if (walk_dir(&w, dfd, u->path, "", 0, err))
		goto out;
	if (w.n)
		qsort(w.f, w.n, sizeof(*w.f), jfile_cmp);
	/* Every file is read whole before any is changed: a line that cannot be read stops
	 * the job with nothing changed anywhere. */
	for (size_t i = 0; i < w.n; i++) {
		if (jl_read(&c, &w.f[i], JL_READ, NULL, err))
			goto out;
		matched += w.f[i].matched;
	}
	if (job->kind == AUDIT_JOB_ERASE) {
		for (size_t i = 0; i < w.n; i++)
			if (w.f[i].matched && jl_rewrite(&c, &w.f[i], err))
				goto out;
		if (jl_commit(w.f, w.n, ev, err))
			goto out;
		/* verified, never assumed: every file is read again for the subject */
		for (size_t i = 0; i < w.n; i++)
			if (jl_read(&c, &w.f[i], JL_VERIFY, &remaining, err))
				goto out;
		ev->erased = (long)ev->changed;
		ev->remaining = remaining;
	}
	if (job->kind == AUDIT_JOB_ACCESS && audit_rows_finish(&rows, ev, err))
		goto out;
	ev->visited = (long)w.n;
	ev->matched = matched;
	ev->skipped = (long)w.nskipped;
	audit_values_finish(&vs, ev);
	jl_detail(&w, ev);
	ret = 0;
out:
	jl_unlock(&lock);
	jfiles_free(w.f, w.n);
	st_free_strv(w.skipped, w.nskipped);
	audit_values_release(&vs);
	audit_rows_release(&rows);
	return ret;
}
