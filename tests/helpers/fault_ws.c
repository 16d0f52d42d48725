/* Workspace server for tests/cli/t-fault-injection.sh: puts a fresh copy of a template
 * workspace in place for each fault point without starting a process (cp and mv would cost
 * two processes a point, more than the command under test). One request a line on stdin,
 * one answer a line on stdout ("ok" or "error: ..."):
 *
 *   fresh KEEP TEMPLATE   the workspace directory (argv[1]) is moved to KEEP (a path; "-":
 *                         removed), if it exists, then TEMPLATE is copied to it
 *   remove PATH           PATH is removed, recursively
 *
 * usage: fault_ws WORKSPACE */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char err[16384];

/* remove_tree: removes PATH and, for a directory, everything under it. 0, or -1 with err
 * set. A PATH that does not exist is no error. */
static int remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : (snprintf(err, sizeof(err), "'%.4000s': %s", path, strerror(errno)), -1);
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		char sub[4096];
		if (!d) {
			snprintf(err, sizeof(err), "'%.4000s': %s", path, strerror(errno));
			return -1;
		}
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if (snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) >= (int)sizeof(sub) ||
			    remove_tree(sub) != 0) {
				if (!err[0])
					snprintf(err, sizeof(err), "'%.4000s': path too long", path);
				closedir(d);
				return -1;
			}
		}
		closedir(d);
		if (rmdir(path) == 0)
			return 0;
	} else if (unlink(path) == 0) {
		return 0;
	}
	snprintf(err, sizeof(err), "cannot remove '%.4000s': %s", path, strerror(errno));
	return -1;
}

/* copy_file: copies the regular file FROM to TO (created, mode MODE). 0, or -1 with err set. */
static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	ssize_t n = 0;
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	if (in < 0) {
		snprintf(err, sizeof(err), "'%.4000s': %s", from, strerror(errno));
		return -1;
	}
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
	if (out < 0) {
		snprintf(err, sizeof(err), "'%.4000s': %s", to, strerror(errno));
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		char *p = buf;
		while (n > 0) {
			ssize_t w = write(out, p, (size_t)n);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				n = -1;
				break;
			}
			p += w;
			n -= w;
		}
		if (n < 0)
			break;
	}
	if (n < 0 || fchmod(out, mode & 07777) != 0 || close(out) != 0) {
		snprintf(err, sizeof(err), "copying '%.4000s' to '%.4000s': %s", from, to, strerror(errno));
		close(in);
		return -1;
	}
	close(in);
	return 0;
}

/* copy_tree: copies FROM (a directory of directories and regular files) to TO, which must
 * not exist, keeping the permission bits. 0, or -1 with err set. */
static int copy_tree(const char *from, const char *to)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int rc = 0;
	if (lstat(from, &st) != 0) {
		snprintf(err, sizeof(err), "'%.4000s': %s", from, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (S_ISREG(st.st_mode))
			return copy_file(from, to, st.st_mode);
		snprintf(err, sizeof(err), "'%.4000s': neither a file nor a directory", from);
		return -1;
	}
	if (mkdir(to, st.st_mode & 07777) != 0 || chmod(to, st.st_mode & 07777) != 0) {
		snprintf(err, sizeof(err), "cannot create '%.4000s': %s", to, strerror(errno));
		return -1;
	}
	d = opendir(from);
	if (!d) {
		snprintf(err, sizeof(err), "'%.4000s': %s", from, strerror(errno));
		return -1;
	}
	while (rc == 0 && (e = readdir(d))) {
		char a[4096], b[4096];
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(a, sizeof(a), "%s/%s", from, e->d_name) >= (int)sizeof(a) ||
		    snprintf(b, sizeof(b), "%s/%s", to, e->d_name) >= (int)sizeof(b)) {
			snprintf(err, sizeof(err), "'%.4000s': path too long", from);
			rc = -1;
		} else {
			rc = copy_tree(a, b);
		}
	}
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	char line[8192];
	const char *ws;
	if (argc != 2) {
		fputs("usage: fault_ws WORKSPACE\n", stderr);
		return 2;
	}
	ws = argv[1];
	while (fgets(line, sizeof(line), stdin)) {
		char *keep, *tpl;
		int rc = -1;
		line[strcspn(line, "\n")] = '\0';
		err[0] = '\0';
		if (!strncmp(line, "fresh ", 6) && (tpl = strchr(line + 6, ' '))) {
			keep = line + 6;
			*tpl++ = '\0';
			if (!strcmp(keep, "-"))
				rc = remove_tree(ws);
			else if ((rc = rename(ws, keep)) != 0 && errno == ENOENT)
				rc = 0; /* no workspace yet */
			else if (rc != 0)
				snprintf(err, sizeof(err), "cannot move '%.4000s' to '%.4000s': %s", ws, keep, strerror(errno));
			if (rc == 0)
				rc = copy_tree(tpl, ws);
		} else if (!strncmp(line, "remove ", 7)) {
			rc = remove_tree(line + 7);
		} else {
			snprintf(err, sizeof(err), "unknown request '%.4000s'", line);
		}
		if (rc == 0)
			puts("ok");
		else
			printf("error: %s\n", err);
		fflush(stdout);
	}
	return 0;
}
