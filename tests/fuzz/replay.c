/* Replays fuzz inputs without a fuzzer: runs a target's LLVMFuzzerTestOneInput once on
 * every file named, and on every file of every directory named (in name order), as
 * SQLite's fuzzcheck does, so crashes found once stay fixed. Linked with each target. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Weak, so that a target without an initializer links too. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static const char usage[] = "usage: %s [-v] FILE|DIR...\n";

/* Runs the target on one file. Returns 0, or -1 when the file cannot be read. */
static int replay_file(const char *path, int verbose)
{
	size_t len = 0;
	unsigned char *data = fuzz_read_file(path, &len);

	if (!data) {
		fprintf(stderr, "replay: cannot read '%s': %s\n", path, strerror(errno));
		return -1;
	}
	if (verbose)
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Runs the target on every regular file in dir except dot files and READMEs. Adds the
 * count to *n. Returns 0, or -1 on the first file or directory that cannot be read. */
static int replay_dir(const char *dir, int verbose, size_t *n)
{
	struct dirent **names = NULL;
	int count = scandir(dir, &names, NULL, by_name), ret = 0;

	if (count < 0) {
		fprintf(stderr, "replay: cannot read '%s': %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < count; i++) {
		char path[4096];
		struct stat sb;
		int k = snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);

		if (ret || names[i]->d_name[0] == '.' || !strncmp(names[i]->d_name, "README", 6))
			continue;
		if (k < 0 || (size_t)k >= sizeof(path) || stat(path, &sb)) {
			fprintf(stderr, "replay: cannot read '%s/%s'\n", dir, names[i]->d_name);
			ret = -1;
			continue;
		}
		if (!S_ISREG(sb.st_mode))
			continue;
		if (replay_file(path, verbose))
			ret = -1;
		else
			(*n)++;
	}
	for (int i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return ret;
}

int main(int argc, char **argv)
{
	size_t n = 0;
	int verbose = 0, first = 1, ret = 0;

	if (argc > 1 && !strcmp(argv[1], "-v")) {
		verbose = 1;
		first = 2;
	}
	if (first >= argc) {
		fprintf(stderr, usage, argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = first; i < argc && !ret; i++) {
		struct stat sb;

		if (stat(argv[i], &sb)) {
			fprintf(stderr, "replay: cannot read '%s': %s\n", argv[i], strerror(errno));
			ret = 1;
		} else if (S_ISDIR(sb.st_mode)) {
			ret = replay_dir(argv[i], verbose, &n) ? 1 : 0;
		} else {
			ret = replay_file(argv[i], verbose) ? 1 : 0;
			n += !ret;
		}
	}
	printf("replayed %zu inputs%s\n", n, ret ? " (stopped on an unreadable one)" : "");
	return ret;
}
