/* Shared by steward's fuzz targets: the per-process scratch directory and file helpers
 * (see fuzz.h). */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];
static pid_t tmpdir_owner;

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Runs at exit in the process that made the directory (not in forked children). */
static void remove_tmpdir(void)
{
	if (tmpdir[0] && getpid() == tmpdir_owner)
		nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_tmpdir(void)
{
	const char *bases[] = {getenv("STEWARD_FUZZ_TMP"), "/dev/shm", getenv("TMPDIR"), "/tmp"};

	if (tmpdir[0])
		return tmpdir;
	for (size_t i = 0; i < sizeof(bases) / sizeof(*bases); i++) {
		struct stat sb;
		int n;

		if (!bases[i] || !*bases[i] || stat(bases[i], &sb) || !S_ISDIR(sb.st_mode))
			continue;
		n = snprintf(tmpdir, sizeof(tmpdir), "%s/steward-fuzz.XXXXXX", bases[i]);
		if (n > 0 && (size_t)n < sizeof(tmpdir) && mkdtemp(tmpdir)) {
			tmpdir_owner = getpid();
			atexit(remove_tmpdir);
			return tmpdir;
		}
	}
	tmpdir[0] = '\0';
	fuzz_die("cannot create a scratch directory", NULL);
}

const char *fuzz_path(const char *name)
{
	/* Kept reachable, so that LeakSanitizer does not count them after every input. */
	static char *paths[64];
	static size_t npaths;
	const char *dir = fuzz_tmpdir();
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p;

	if (npaths == sizeof(paths) / sizeof(*paths) || !(p = malloc(n)))
		fuzz_die("out of path space", NULL);
	snprintf(p, n, "%s/%s", dir, name);
	paths[npaths++] = p;
	return p;
}

int fuzz_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	const unsigned char *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	int ret = -1;

	if (fd < 0)
		return -1;
	if (fchmod(fd, mode))
		goto out;
	while (len) {
		ssize_t k = write(fd, p, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			goto out;
		p += k;
		len -= (size_t)k;
	}
	ret = 0;
out:
	if (close(fd))
		ret = -1;
	return ret;
}

unsigned char *fuzz_read_file(const char *path, size_t *len)
{
	unsigned char *buf = NULL;
	struct stat sb;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) || sb.st_size < 0 || !(buf = malloc((size_t)sb.st_size + 1)))
		goto fail;
	while (n < (size_t)sb.st_size) {
		ssize_t k = read(fd, buf + n, (size_t)sb.st_size - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			goto fail;
		n += (size_t)k;
	}
	buf[n] = '\0';
	*len = n;
	close(fd);
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

int fuzz_memfd(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		fuzz_die("memfd_create", NULL);
	return fd;
}

int fuzz_memfd_set(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;
	off_t off = 0;

	if (ftruncate(fd, 0))
		return -1;
	while ((size_t)off < len) {
		ssize_t k = pwrite(fd, p + off, len - (size_t)off, off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		off += k;
	}
	return lseek(fd, 0, SEEK_SET) == 0 ? 0 : -1;
}

void fuzz_die(const char *what, const struct st_error *err)
{
	char msg[2048];

	if (err && err->code) {
		st_error_format(err, msg, sizeof(msg));
		fprintf(stderr, "fuzz setup: %s: %s\n", what, msg);
	} else {
		fprintf(stderr, "fuzz setup: %s%s%s\n", what, errno ? ": " : "",
			errno ? strerror(errno) : "");
	}
	abort();
}
