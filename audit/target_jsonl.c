/* The JSON lines target: a directory of .jsonl files, read line by line; an erase rewrites
 * each changed file (temporary file, fsync, rename) under a lock. */
#include "target.h"
#include "target_int.h"
#include "alloc.h"
#include "buf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- JSON lines --------------------------------------------------------------------- */

struct jfile {
	char *path;
	char *tmp;       /* the rewritten content, until renamed over path */
	struct stat sb;  /* as first read, to notice a writer in between */
	int64_t matched; /* lines of the subject */
	int64_t changed; /* lines dropped or rewritten in tmp */
};

struct jl {
	const struct audit_target_job *job;
	struct audit_values *vs;
	struct st_buf *rows;
	int64_t unparsed; /* lines kept because they are not JSON objects */
};

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

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* Lists the regular files in dir whose names end in ".jsonl", sorted. A symbolic link is
 * an error: renaming over it would replace the link, not the data it points to. */
static int jl_list(const char *dir, struct jfile **out, size_t *nout, struct st_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct jfile *f = NULL;
	size_t n = 0, cap = 0;
	struct stat sb;
	int ret = -1;

	if (!d)
		return st_error_set(err, ST_E_SYSTEM, "cannot open directory '%s': %s", dir,
				    strerror(errno));
	for (errno = 0; (e = readdir(d)); errno = 0) {
		if (!ends_with(e->d_name, ".jsonl"))
			continue;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW)) {
			st_error_set(err, ST_E_SYSTEM, "cannot read '%s/%s': %s", dir, e->d_name,
				     strerror(errno));
			goto out;
		}
		if (S_ISLNK(sb.st_mode)) {
			st_error_set(err, ST_E_INVALID,
				     "'%s/%s' is a symbolic link (steward rewrites regular files "
				     "only)",
				     dir, e->d_name);
			goto out;
		}
		if (!S_ISREG(sb.st_mode))
			continue;
		if (st_grow(&f, &cap, n + 1, sizeof(*f))) {
			st_error_oom(err);
			goto out;
		}
		memset(&f[n], 0, sizeof(*f));
		f[n].path = path_join(dir, e->d_name);
		if (!f[n].path) {
			st_error_oom(err);
			goto out;
		}
		n++;
	}
	if (errno) {
		st_error_set(err, ST_E_SYSTEM, "cannot read directory '%s': %s", dir,
			     strerror(errno));
		goto out;
	}
	if (n)
		qsort(f, n, sizeof(*f), jfile_cmp);
	*out = f;
	*nout = n;
	f = NULL;
	n = 0;
	ret = 0;
out:
	closedir(d);
	jfiles_free(f, n);
	return ret;
}

/* Whether a record has a key to nullify that is not null yet. */
static int jl_has_nullable(const struct audit_target_job *job, json_t *root)
{
	json_t *v;

	for (size_t i = 0; i < job->nnullify; i++)
		if ((v = json_object_get(root, job->nullify[i])) && !json_is_null(v))
			return 1;
	return 0;
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

/* Whether a record belongs to the subject (and, for nullify, still has something to
 * erase). Returns 1 or 0, or -1 with err. */
static int jl_match(const struct audit_target_job *job, json_t *root, struct st_error *err)
{
	char num[32];
	const char *text;
	int n = jl_text(json_object_get(root, job->match_field), &text, num, sizeof(num)), r;

	if (n < 0)
		return 0;
	r = audit_matcher_test(job->match, text, (size_t)n, err);
	sodium_memzero(num, sizeof(num));
	if (r == 1 && job->kind == AUDIT_JOB_ERASE && job->erase_action == AUDIT_ERASE_NULLIFY)
		r = jl_has_nullable(job, root);
	return r;
}

/* Collects what a matched record gives an access request or the caller. */
static int jl_collect(struct jl *c, json_t *root, struct st_error *err)
{
	char num[32];
	const char *text;
	int n, ret = 0;

	if (c->job->subject_field) {
		n = jl_text(json_object_get(root, c->job->subject_field), &text, num, sizeof(num));
		if (n >= 0 && audit_values_add(c->vs, text, (size_t)n))
			ret = st_error_oom(err);
		sodium_memzero(num, sizeof(num));
	}
	if (!ret && c->job->kind == AUDIT_JOB_ACCESS)
		ret = audit_rows_add(c->rows, root, err);
	return ret;
}

/* Writes a nullified record in place of the line it came from, keeping its line end. */
static int jl_write_nullified(const struct audit_target_job *job, json_t *root,
			      const char *end, FILE *out, struct st_error *err)
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
	if (fputs(text, out) == EOF || fputs(end, out) == EOF)
		ret = -1; /* reported by the caller from ferror() */
	sodium_memzero(text, strlen(text));
	free(text); /* jansson's allocator */
	return ret;
}

/* Temporary files are DIR/.NAME.jsonl.steward-tmp.XXXXXX: hidden, and never *.jsonl. */
#define JL_TMP_MARK ".steward-tmp."

/* The longest line a jsonl target may hold; a longer one stops the job, changing nothing. */
#define JL_MAX_LINE (64u << 20)

/* Reads one line (newline included; NUL bytes kept) into *line, growing it up to max
 * bytes. Returns its length, 0 at the end of the file, -1 on a read error or out of memory,
 * -2 when the line is longer than max (nothing more of it is read). */
static ssize_t jl_getline(char **line, size_t *cap, FILE *in, size_t max)
{
	size_t len = 0;
	int ch;

	while ((ch = getc_unlocked(in)) != EOF) {
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
	if (ch == EOF && ferror(in))
		return -1;
	if (len)
		(*line)[len] = '\0';
	return (ssize_t)len;
}

/* Reads one file line by line. Without out (the first pass), counts the subject's records
 * and collects from them; with out, writes the file's new content there: records of the
 * subject dropped or nullified, every other line copied byte for byte. */
static int jl_scan(struct jl *c, struct jfile *f, FILE *in, FILE *out, int64_t *changed,
		   struct st_error *err)
{
	const struct audit_target_job *job = c->job;
	char *line = NULL;
	size_t cap = 0, body, lineno = 0;
	ssize_t n;
	json_t *root = NULL;
	json_error_t jerr;
	int ret = -1, r;

	while ((n = jl_getline(&line, &cap, in, JL_MAX_LINE)) > 0) {
		lineno++;
		body = (size_t)n;
		if (body && line[body - 1] == '\n')
			body--;
		if (body && line[body - 1] == '\r')
			body--;
		r = 0;
		if (strspn(line, " \t\r\n") < (size_t)n) {
			root = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
			if (!root || !json_is_object(root))
				c->unparsed += !out;
			else if ((r = jl_match(job, root, err)) < 0)
				goto out;
		}
		if (!r) {
			if (out && fwrite(line, 1, (size_t)n, out) != (size_t)n)
				goto write_error;
		} else if (!out) {
			f->matched++;
			if (jl_collect(c, root, err))
				goto out;
		} else {
			++*changed;
			if (job->kind == AUDIT_JOB_ERASE && job->erase_action == AUDIT_ERASE_NULLIFY &&
			    jl_write_nullified(job, root, line + body, out, err)) {
				if (!ferror(out))
					goto out; /* out of memory, already reported */
				goto write_error;
			}
		}
		json_decref(root);
		root = NULL;
	}
	if (n == -2) {
		st_error_set(err, ST_E_INVALID,
			     "line %zu of '%s' is longer than %u MiB; the target was not changed",
			     lineno + 1, f->path, JL_MAX_LINE >> 20);
		goto out;
	}
	/* A failed read or allocation is not the end: taking it for one would drop the rest
	 * of the file. */
	if (n < 0 || ferror(in) || !feof(in)) {
		st_error_set(err, ST_E_SYSTEM, "cannot read '%s': %s", f->path,
			     n < 0 && !ferror(in) ? "out of memory" : strerror(errno));
		goto out;
	}
	ret = 0;
	goto out;
write_error:
	st_error_set(err, ST_E_SYSTEM, "cannot write '%s': %s", f->tmp, strerror(errno));
out:
	json_decref(root);
	if (line) {
		sodium_memzero(line, cap);
		st_free(line);
	}
	return ret;
}

/* Opens a file of the target for reading, refusing symbolic links. */
static FILE *jl_open(const char *path, struct stat *sb, struct st_error *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	FILE *f;

	if (fd < 0 || fstat(fd, sb)) {
		st_error_set(err, ST_E_SYSTEM, "cannot open '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		st_error_oom(err);
	}
	return f;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Writes f's new content to a temporary file next to it, with its mode and (when allowed)
 * its owner, and syncs it. */
static int jl_rewrite(struct jl *c, struct jfile *f, struct st_error *err)
{
	const char *slash = strrchr(f->path, '/');
	struct st_buf tmp;
	struct stat sb;
	FILE *in = NULL, *out = NULL;
	int fd = -1, ret = -1, rc;

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
	in = jl_open(f->path, &sb, err);
	if (!in)
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
	out = fdopen(fd, "w");
	if (!out) {
		st_error_oom(err);
		goto out;
	}
	fd = -1;
	if (jl_scan(c, f, in, out, &f->changed, err))
		goto out;
	if (fflush(out) || fsync(fileno(out))) {
		st_error_set(err, ST_E_SYSTEM, "cannot write '%s': %s", f->tmp, strerror(errno));
		goto out;
	}
	rc = fclose(out);
	out = NULL;
	if (rc) {
		st_error_set(err, ST_E_SYSTEM, "cannot write '%s': %s", f->tmp, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	if (fd >= 0)
		close(fd);
	st_buf_release(&tmp);
	return ret;
}

static int fsync_dir(const char *dir, struct st_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (fd < 0 || fsync(fd))
		ret = st_error_set(err, ST_E_SYSTEM, "cannot sync directory '%s': %s", dir,
				   strerror(errno));
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Runs job on a directory of JSON lines files. Every affected file is rewritten to a
 * temporary file first; only when all of them are written are they renamed into place. */
/* Locks the directory itself (flock on it, held until *fd is closed), so two runs never
 * rewrite one directory at once, then removes the temporary files a killed run left: they
 * hold copies of other people's records that later erasures would never reach. Returns the
 * number removed, or -1 with err. */
static int jl_lock_and_clean(const char *dir, int *fd, struct st_error *err)
{
	struct dirent *e;
	DIR *d = NULL;
	int removed = 0, ret = -1, dfd;

	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return st_error_set(err, ST_E_SYSTEM, "cannot open directory '%s': %s", dir,
				    strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB)) {
		st_error_set(err, ST_E_SYSTEM,
			     errno == EWOULDBLOCK ? "another steward is changing '%s'; run again later"
						  : "cannot lock '%s'",
			     dir);
		goto out;
	}
	if ((dfd = dup(*fd)) < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		st_error_set(err, ST_E_SYSTEM, "cannot read directory '%s': %s", dir,
			     strerror(errno));
		goto out;
	}
	while ((e = readdir(d)))
		if (e->d_name[0] == '.' && strstr(e->d_name, ".jsonl" JL_TMP_MARK)) {
			if (unlinkat(dirfd(d), e->d_name, 0) && errno != ENOENT) {
				st_error_set(err, ST_E_SYSTEM, "cannot remove '%s/%s': %s", dir,
					     e->d_name, strerror(errno));
				goto out;
			}
			removed++;
		}
	ret = removed;
out:
	if (d)
		closedir(d);
	return ret;
}

int audit_jsonl_run(const struct audit_target_job *job, const struct target_uri *u,
		     struct audit_evidence *ev, struct st_error *err)
{
	struct jfile *files = NULL;
	size_t nfiles = 0;
	struct audit_values vs = {0};
	struct st_buf rows;
	struct jl c = {job, &vs, &rows, 0};
	struct stat sb;
	int64_t matched = 0;
	FILE *in = NULL;
	int ret = -1, lock = -1, stale = 0;

	st_buf_init(&rows, ROWS_MAX);
	if ((stale = jl_lock_and_clean(u->path, &lock, err)) < 0 ||
	    jl_list(u->path, &files, &nfiles, err))
		goto out;
	for (size_t i = 0; i < nfiles; i++) {
		in = jl_open(files[i].path, &files[i].sb, err);
		if (!in || jl_scan(&c, &files[i], in, NULL, NULL, err))
			goto out;
		fclose(in);
		in = NULL;
		matched += files[i].matched;
	}
	if (job->kind == AUDIT_JOB_ERASE) {
		for (size_t i = 0; i < nfiles; i++)
			if (files[i].matched && jl_rewrite(&c, &files[i], err))
				goto out;
		for (size_t i = 0; i < nfiles; i++) {
			if (!files[i].tmp)
				continue;
			if (lstat(files[i].path, &sb) || !same_file(&sb, &files[i].sb)) {
				st_error_set(err, ST_E_SYSTEM, "'%s' changed while it was erased",
					     files[i].path);
				goto out;
			}
			if (rename(files[i].tmp, files[i].path)) {
				st_error_set(err, ST_E_SYSTEM, "cannot replace '%s': %s",
					     files[i].path, strerror(errno));
				goto out;
			}
			st_free(files[i].tmp);
			files[i].tmp = NULL;
			ev->files++;
			ev->changed += files[i].changed;
		}
		if (ev->files && fsync_dir(u->path, err))
			goto out;
	}
	if (job->kind == AUDIT_JOB_ACCESS && audit_rows_finish(&rows, ev, err))
		goto out;
	ev->matched = matched;
	audit_values_finish(&vs, ev);
	if (c.unparsed)
		snprintf(ev->detail, sizeof(ev->detail),
			 "kept %lld line%s that %s not JSON objects as they were",
			 (long long)c.unparsed, c.unparsed == 1 ? "" : "s",
			 c.unparsed == 1 ? "is" : "are");
	else if (stale)
		snprintf(ev->detail, sizeof(ev->detail),
			 "removed %d temporary file%s an interrupted run left", stale,
			 stale == 1 ? "" : "s");
	ret = 0;
out:
	if (lock >= 0)
		close(lock);
	if (in)
		fclose(in);
	jfiles_free(files, nfiles);
	audit_values_release(&vs);
	audit_rows_release(&rows);
	return ret;
}
