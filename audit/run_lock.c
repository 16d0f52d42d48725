/* The run lock of a request: a file under .steward/locks/ held with flock(2) while
 * `request run` carries the request out, so a second run is refused and told who holds it. */
#include "run_lock.h"
#include "audit.h"
#include "alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOLDER_MAX 1024 /* bytes of the lock file read back */
#define FIELD_MAX 64    /* longest holder field shown */
#define TRIES 8         /* opens of a lock file removed under us before giving up */

struct audit_run_lock {
	int fd;
	char path[PATH_MAX];
};

/* A request id as a file name: letters, digits, '-' and '_' only. */
static int safe_id(const char *id)
{
	if (!*id || strlen(id) > 64)
		return 0;
	for (; *id; id++)
		if (!((*id >= 'A' && *id <= 'Z') || (*id >= 'a' && *id <= 'z') ||
		      (*id >= '0' && *id <= '9') || *id == '-' || *id == '_'))
			return 0;
	return 1;
}

/* Copies the value of "name=" in text (one line) into out, or "?" when it is missing or
 * holds anything but letters, digits and ".:_@+-" (the file may be damaged). */
static void field(const char *text, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name), len;
	const char *p = text;

	snprintf(out, n, "?");
	while (p && *p) {
		if (!strncmp(p, name, nl) && p[nl] == '=') {
			p += nl + 1;
			len = strcspn(p, "\n");
			if (!len || len >= n || len > FIELD_MAX)
				return;
			for (size_t i = 0; i < len; i++)
				if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z') ||
				      (p[i] >= '0' && p[i] <= '9') || strchr(".:_@+-", p[i])))
					return;
			memcpy(out, p, len);
			out[len] = '\0';
			return;
		}
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
}

/* The refusal, naming the holder as its lock file says. */
static int held(int fd, const char *id, struct st_error *err)
{
	char text[HOLDER_MAX + 1], pid[FIELD_MAX + 1], user[FIELD_MAX + 1], host[FIELD_MAX + 1],
		since[FIELD_MAX + 1];
	ssize_t n = pread(fd, text, HOLDER_MAX, 0);

	text[n > 0 ? n : 0] = '\0';
	field(text, "pid", pid, sizeof(pid));
	field(text, "user", user, sizeof(user));
	field(text, "host", host, sizeof(host));
	field(text, "since", since, sizeof(since));
	return st_error_set(err, ST_E_DENIED,
			    "request '%s' is being run by pid %s (user '%s' on host '%s') since %s; "
			    "wait for that run to end",
			    id, pid, user, host, since);
}

int audit_run_lock_acquire(struct sqlite3 *db, const char *id, const char *actor,
			   struct audit_run_lock **out, struct st_error *err)
{
	const char *dbfile = sqlite3_db_filename(db, "main"), *slash;
	struct audit_run_lock *lk = NULL;
	char dir[PATH_MAX], info[512], host[256] = "", since[40];
	struct stat a, b;
	int ret = -1, fd = -1, len;

	*out = NULL;
	if (!dbfile || !*dbfile)
		return 0; /* an in-memory log: nothing to share with another process */
	if (!safe_id(id))
		return st_error_set(err, ST_E_INVALID, "invalid request id '%s'", id);
	slash = strrchr(dbfile, '/');
	if ((size_t)snprintf(dir, sizeof(dir), "%.*s/locks", slash ? (int)(slash - dbfile) : 1,
			     slash ? dbfile : ".") >= sizeof(dir))
		return st_error_set(err, ST_E_SYSTEM, "'%s' is too long a path", dbfile);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return st_error_set(err, ST_E_SYSTEM, "cannot create '%s': %s", dir, strerror(errno));
	if (!(lk = st_calloc(1, sizeof(*lk))))
		return st_error_oom(err);
	lk->fd = -1;
	if ((size_t)snprintf(lk->path, sizeof(lk->path), "%s/%s.lock", dir, id) >=
	    sizeof(lk->path)) {
		st_error_set(err, ST_E_SYSTEM, "'%s' is too long a path", dir);
		goto out;
	}
	for (int tries = 0;; tries++) {
		if (tries == TRIES) {
			st_error_set(err, ST_E_SYSTEM, "cannot lock '%s': it keeps being replaced",
				     lk->path);
			goto out;
		}
		fd = open(lk->path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			st_error_set(err, ST_E_SYSTEM, "cannot open '%s': %s", lk->path,
				     strerror(errno));
			goto out;
		}
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			if (errno == EWOULDBLOCK) {
				held(fd, id, err);
				ret = 1;
			} else {
				st_error_set(err, ST_E_SYSTEM, "cannot lock '%s': %s", lk->path,
					     strerror(errno));
			}
			goto out;
		}
		/* The holder before us removes the file when it is done: a lock on a file no
		 * longer at the path protects nothing, so open the path again. */
		if (!fstat(fd, &a) && !stat(lk->path, &b) && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			break;
		close(fd);
		fd = -1;
	}
	gethostname(host, sizeof(host) - 1);
	audit_time_format(audit_now_ms(), since, sizeof(since));
	len = snprintf(info, sizeof(info), "pid=%ld\nuser=%s\nhost=%s\nsince=%s\n", (long)getpid(),
		       actor ? actor : "?", host, since);
	if (ftruncate(fd, 0) || len < 0 || pwrite(fd, info, (size_t)len, 0) != len) {
		st_error_set(err, ST_E_SYSTEM, "cannot write '%s': %s", lk->path, strerror(errno));
		goto out;
	}
	lk->fd = fd;
	fd = -1;
	*out = lk;
	lk = NULL;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	st_free(lk);
	return ret;
}

void audit_run_lock_release(struct audit_run_lock *lk)
{
	if (!lk)
		return;
	/* Removed while still held, so whoever opened it meanwhile sees it is gone. */
	unlink(lk->path);
	close(lk->fd);
	st_free(lk);
}
