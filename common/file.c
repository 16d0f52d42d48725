/* Private files: secrets opened only after ssh-style checks, and files written whole or not
 * at all with owner-only permissions. */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int st_file_open_private(const char *path, const char *what, struct stat *sb,
			 struct st_error *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ELOOP)
			return st_error_set(err, ST_E_DENIED,
					    "%s '%s' is a symbolic link; refusing to use it", what, path);
		return st_error_set(err, errno == ENOENT ? ST_E_NOTFOUND : ST_E_SYSTEM,
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
