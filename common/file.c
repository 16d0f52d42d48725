/* Private files: secrets opened only after ssh-style checks, files written whole or not
 * at all with owner-only permissions, and the one safe way to open a user-named output. */
#include "file.h"
#include "alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int st_file_open_private(const char *path, const char *what, struct stat *sb,
			 struct st_error *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ELOOP)
			return st_error_set(err, ST_E_DENIED,
					    "%s '%s' is a symbolic link; refusing to use it", what, path);
		return st_error_set(err, errno == ENOENT ? ST_E_NOTFOUND
				    : errno == EACCES || errno == EPERM ? ST_E_DENIED
									: ST_E_SYSTEM,
				    "cannot open %s '%s': %s", what, path, strerror(errno));
	}
	if (fstat(fd, sb)) {
		st_error_set(err, ST_E_SYSTEM, "cannot stat %s '%s': %s", what, path, strerror(errno));
		goto bad;
	}
	if (!S_ISREG(sb->st_mode)) {
		st_error_set(err, ST_E_DENIED, "%s '%s' is not a regular file", what, path);
		goto bad;
	}
	if (sb->st_uid != geteuid()) {
		st_error_set(err, ST_E_DENIED, "%s '%s' belongs to another user (uid %ld)", what, path,
			     (long)sb->st_uid);
		goto bad;
	}
	if (sb->st_mode & 077) {
		st_error_set(err, ST_E_DENIED,
			     "%s '%s' is accessible by group or others (mode %04o); run 'chmod 600 %s'",
			     what, path, (unsigned)(sb->st_mode & 07777), path);
		goto bad;
	}
	return fd;
bad:
	close(fd);
	return -1;
}

int st_file_write_private(const char *path, const void *data, size_t len, struct st_error *err)
{
	char tmp[PATH_MAX + 16];
	size_t done = 0;
	int fd = -1, ret = -1;

	tmp[0] = '\0';
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= sizeof(tmp)) {
		tmp[0] = '\0';
		st_error_set(err, ST_E_USAGE, "'%s' is too long a path", path);
		goto out;
	}
	/* mkstemp() creates the file 0600, owner only, whatever the umask. */
	if ((fd = mkstemp(tmp)) < 0) {
		tmp[0] = '\0';
		st_error_set(err, ST_E_SYSTEM, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	while (done < len) {
		ssize_t n = write(fd, (const char *)data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			st_error_set(err, ST_E_SYSTEM, "cannot write '%s': %s", path,
				     n < 0 ? strerror(errno) : "short write");
			goto out;
		}
		done += (size_t)n;
	}
	if (fsync(fd) || close(fd)) {
		fd = -1;
		st_error_set(err, ST_E_SYSTEM, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path)) {
		st_error_set(err, ST_E_SYSTEM, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp[0])
		unlink(tmp);
	return ret;
}

/* ---- Output files a user names ----------------------------------------------------- */

#define MAX_WALK 4096 /* directory levels walked up before giving up */

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* 1 when the directory dirfd is top or below it: walks up through ".." comparing device and
 * inode, so neither symbolic links nor a spelling of the path get round it. 0 otherwise
 * (also when a parent cannot be opened: nothing above it was reached). */
static int dir_within(int dirfd, const struct stat *top)
{
	struct stat sb, up;
	int fd = dup(dirfd), inside = 0;

	if (fd < 0 || fstat(fd, &sb))
		goto out;
	for (int i = 0; i < MAX_WALK; i++) {
		int parent;

		if (same_file(&sb, top)) {
			inside = 1;
			break;
		}
		parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0 || fstat(parent, &up)) {
			if (parent >= 0)
				close(parent);
			break;
		}
		close(fd);
		fd = parent;
		if (same_file(&up, &sb)) /* the root is its own parent */
			break;
		sb = up;
	}
out:
	if (fd >= 0)
		close(fd);
	return inside;
}

/* Whether path (a symbolic link) leads into the state directory. */
static int link_within(const char *path, const struct stat *top)
{
	char *real = realpath(path, NULL), *slash;
	int fd, inside = 0;

	if (!real)
		return 0;
	slash = strrchr(real, '/');
	if (slash == real)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		inside = dir_within(fd, top);
		close(fd);
	}
	free(real);
	return inside;
}

/* Checks an existing file (sb, from fstat or lstat) against the guard. Returns 0 or -1
 * with err. */
static int check_existing(const struct st_file_output *out, const char *what,
			  const struct stat *sb, const struct st_output_guard *g, int flags,
			  struct st_error *err)
{
	static const char *const std_names[] = {"standard input", "standard output"};
	struct stat other;

	if (S_ISDIR(sb->st_mode))
		return st_error_set(err, ST_E_USAGE, "%s '%s' is a directory", what, out->path);
	if (!S_ISREG(sb->st_mode))
		return st_error_set(err, ST_E_USAGE, "%s '%s' is not a regular file", what,
				    out->path);
	for (int fd = 0; fd < 2; fd++)
		if (!fstat(fd, &other) && same_file(&other, sb))
			return st_error_set(err, ST_E_USAGE, "%s '%s' is the same file as %s", what,
					    out->path, std_names[fd]);
	for (size_t i = 0; g && i < g->ninputs; i++)
		if (!fstat(g->inputs[i], &other) && same_file(&other, sb))
			return st_error_set(err, ST_E_USAGE,
					    "%s '%s' is the same file as an input of this command",
					    what, out->path);
	if (sb->st_uid != geteuid())
		return st_error_set(err, ST_E_DENIED,
				    "%s '%s' belongs to another user (uid %ld); remove it or choose "
				    "another path",
				    what, out->path, (long)sb->st_uid);
	/* Written in place, a file with another name would change under that name too. */
	if (!(flags & ST_OUTPUT_REPLACE) && sb->st_nlink > 1)
		return st_error_set(err, ST_E_USAGE,
				    "%s '%s' has other hard links; remove it or choose another path",
				    what, out->path);
	return 0;
}

static int open_error(const struct st_file_output *out, int e, struct st_error *err)
{
	return st_error_set(err, e == EACCES || e == EPERM ? ST_E_DENIED : ST_E_SYSTEM,
			    "cannot write '%s': %s", out->path, strerror(e));
}

/* Creates a temporary file beside the output, mode 0600. Returns the descriptor or -1. */
static int make_temp(struct st_file_output *out, struct st_error *err)
{
	static unsigned counter;
	size_t n = strlen(out->name) + 48;
	struct timespec ts;

	if (!(out->tmp = st_malloc(n)))
		return st_error_oom(err);
	for (int tries = 0; tries < 100; tries++) {
		int fd;

		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(out->tmp, n, ".%s.tmp-%ld-%u-%06lx", out->name, (long)getpid(), counter++,
			 (unsigned long)(ts.tv_nsec & 0xffffff));
		fd = openat(out->dirfd, out->tmp,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST) {
			open_error(out, errno, err);
			goto fail;
		}
	}
	st_error_set(err, ST_E_SYSTEM, "cannot write '%s': no free temporary name", out->path);
fail:
	st_free(out->tmp);
	out->tmp = NULL;
	return -1;
}

int st_file_open_output(struct st_file_output *out, const char *path, const char *what,
			const struct st_output_guard *g, int flags, struct st_error *err)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	struct stat top, sb;
	char *dir = NULL;
	int have_top, fd, ret = -1;

	memset(out, 0, sizeof(*out));
	out->fd = out->dirfd = -1;
	if (!(out->path = st_strdup(path)))
		return st_error_oom(err);
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
		st_error_set(err, ST_E_USAGE, "%s '%s' is a directory", what, path);
		goto out;
	}
	dir = !slash ? st_strdup(".") : slash == path ? st_strdup("/")
						      : st_strndup(path, (size_t)(slash - path));
	if (!dir || !(out->name = st_strdup(base))) {
		st_error_oom(err);
		goto out;
	}
	out->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (out->dirfd < 0) {
		open_error(out, errno, err);
		goto out;
	}
	have_top = g && g->state_dir && !stat(g->state_dir, &top);
	if (have_top && dir_within(out->dirfd, &top)) {
		st_error_set(err, ST_E_USAGE,
			     "%s '%s' is inside the workspace's state directory '%s'; choose a path "
			     "outside it",
			     what, path, g->state_dir);
		goto out;
	}
	if (!fstatat(out->dirfd, out->name, &sb, AT_SYMLINK_NOFOLLOW)) {
		if (S_ISLNK(sb.st_mode)) {
			if (have_top && link_within(path, &top))
				st_error_set(err, ST_E_USAGE,
					     "%s '%s' leads into the workspace's state directory '%s'; "
					     "choose a path outside it",
					     what, path, g->state_dir);
			else
				st_error_set(err, ST_E_USAGE,
					     "%s '%s' is a symbolic link; give a regular file", what,
					     path);
			goto out;
		}
		if (check_existing(out, what, &sb, g, flags, err))
			goto out;
	} else if (errno != ENOENT) {
		open_error(out, errno, err);
		goto out;
	}
	if (flags & ST_OUTPUT_REPLACE) {
		if ((out->fd = make_temp(out, err)) < 0)
			goto out;
	} else {
		/* No O_TRUNC: nothing changes before the file is checked again, through the
		 * descriptor, where it can no longer be swapped. O_NONBLOCK: a FIFO put there
		 * meanwhile fails instead of blocking. */
		fd = openat(out->dirfd, out->name,
			    O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
		if (fd < 0) {
			if (errno == ELOOP)
				st_error_set(err, ST_E_USAGE,
					     "%s '%s' is a symbolic link; give a regular file", what,
					     path);
			else
				open_error(out, errno, err);
			goto out;
		}
		out->fd = fd;
		if (fstat(fd, &sb)) {
			open_error(out, errno, err);
			goto out;
		}
		if (check_existing(out, what, &sb, g, flags, err))
			goto out;
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) || ftruncate(fd, 0)) {
			open_error(out, errno, err);
			goto out;
		}
	}
	if (fchmod(out->fd, 0600)) {
		open_error(out, errno, err);
		goto out;
	}
	ret = 0;
out:
	st_free(dir);
	if (ret && out->fd >= 0) {
		close(out->fd);
		out->fd = -1;
	}
	return ret;
}

int st_file_check_output_dir(const char *dir, const char *what, const struct st_output_guard *g,
			     struct st_error *err)
{
	struct stat top;
	char *probe = st_strdup(dir);
	int fd = -1, ret = -1;

	if (!probe)
		return st_error_oom(err);
	if (!g || !g->state_dir || stat(g->state_dir, &top)) {
		ret = 0;
		goto out;
	}
	/* The nearest part of the path that exists: the directory is made below it. */
	while ((fd = open(*probe ? probe : "/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		char *slash = strrchr(probe, '/');

		if (errno != ENOENT || !slash) {
			if (errno == ENOENT) { /* a relative name with no existing part */
				fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
				break;
			}
			st_error_set(err, errno == EACCES ? ST_E_DENIED : ST_E_SYSTEM,
				     "cannot use %s '%s': %s", what, dir, strerror(errno));
			goto out;
		}
		*slash = '\0';
	}
	if (fd >= 0 && dir_within(fd, &top)) {
		st_error_set(err, ST_E_USAGE,
			     "%s '%s' is inside the workspace's state directory '%s'; choose a path "
			     "outside it",
			     what, dir, g->state_dir);
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	st_free(probe);
	return ret;
}

int st_file_output_commit(struct st_file_output *out, struct st_error *err)
{
	int fd = out->fd;

	out->fd = -1;
	if (fd < 0)
		return st_error_set(err, ST_E_SYSTEM, "cannot write '%s': not open", out->path);
	if (fsync(fd) && errno != EINVAL) {
		open_error(out, errno, err);
		close(fd);
		return -1;
	}
	if (close(fd))
		return open_error(out, errno, err);
	if (out->tmp) {
		if (renameat(out->dirfd, out->tmp, out->dirfd, out->name))
			return open_error(out, errno, err);
		st_free(out->tmp);
		out->tmp = NULL;
	}
	return 0;
}

void st_file_output_release(struct st_file_output *out)
{
	if (out->fd >= 0)
		close(out->fd);
	if (out->tmp && out->dirfd >= 0)
		unlinkat(out->dirfd, out->tmp, 0);
	if (out->dirfd >= 0)
		close(out->dirfd);
	st_free(out->tmp);
	st_free(out->name);
	st_free(out->path);
	memset(out, 0, sizeof(*out));
	out->fd = out->dirfd = -1;
}

int st_file_write_output(const char *path, const char *what, const struct st_output_guard *g,
			 const void *data, size_t len, struct st_error *err)
{
	struct st_file_output out;
	size_t done = 0;
	int ret = -1;

	if (st_file_open_output(&out, path, what, g, ST_OUTPUT_REPLACE, err))
		goto out;
	while (done < len) {
		ssize_t n = write(out.fd, (const char *)data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			st_error_set(err, ST_E_SYSTEM, "cannot write '%s': %s", path,
				     n < 0 ? strerror(errno) : "short write");
			goto out;
		}
		done += (size_t)n;
	}
	if (st_file_output_commit(&out, err))
		goto out;
	ret = 0;
out:
	st_file_output_release(&out);
	return ret;
}

const char *st_file_read_exact(int fd, unsigned char *buf, size_t size)
{
	size_t n = 0;

	while (n < size) {
		ssize_t r = read(fd, buf + n, size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? strerror(errno) : "file shrank while reading";
		n += (size_t)r;
	}
	buf[n] = '\0';
	return NULL;
}

int (*st_sync_fail_hook)(void);

int st_fdatasync(int fd)
{
	int rc;

	if (st_sync_fail_hook && st_sync_fail_hook()) {
		errno = EIO;
		return -1;
	}
	do
		rc = fdatasync(fd);
	while (rc && errno == EINTR);
	return rc;
}
