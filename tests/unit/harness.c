/* TAP output and scratch files for the unit tests. */
#include "harness.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int count, failed;
static char tmpdir[256];

int t_check(int ok, const char *what, const char *file, int line)
{
	count++;
	if (ok) {
		printf("ok %d - %s\n", count, what);
		return 1;
	}
	failed++;
	printf("not ok %d - %s (%s:%d)\n", count, what, file, line);
	return 0;
}

int t_streq(const char *got, const char *want, const char *what, const char *file, int line)
{
	int ok = (!got && !want) || (got && want && !strcmp(got, want));

	if (!t_check(ok, what, file, line))
		printf("#   got:  '%s'\n#   want: '%s'\n", got ? got : "(null)", want ? want : "(null)");
	return ok;
}

int t_contains(const char *hay, const char *needle, const char *what, const char *file, int line)
{
	int ok = hay && strstr(hay, needle);

	if (!t_check(ok, what, file, line))
		printf("#   '%s'\n#   does not contain '%s'\n", hay ? hay : "(null)", needle);
	return ok;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	if (tmpdir[0] && nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS))
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

const char *t_tmpdir(void)
{
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/steward-unit-XXXXXX");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(2);
		}
		atexit(cleanup);
	}
	return tmpdir;
}

const char *t_write(const char *dir, const char *name, const char *text)
{
	static char path[512];
	char sub[512], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(sub, sizeof(sub), "%s", path);
	for (slash = strchr(sub + strlen(dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(sub, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(2);
	}
	return path;
}

int t_done(void)
{
	printf("1..%d\n", count);
	return failed ? 1 : 0;
}
