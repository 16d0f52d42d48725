/* Unit tests for common/file.c's st_file_open_output(): the guard against writing into the
 * state directory (by any spelling or link), onto an input, through links, and the two ways
 * of writing (in place, or a temporary renamed on commit). */
#include "alloc.h"
#include "error.h"
#include "file.h"
#include "harness.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[1024], state[1100];

static const char *at(const char *name)
{
	static char buf[4][1200];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", root, name);
	return buf[k];
}

static int open_code(const char *path, int flags, const int *inputs, size_t n)
{
	const struct st_output_guard g = {state, inputs, n};
	struct st_error err = ST_ERROR_INIT;
	struct st_file_output out;
	int r = st_file_open_output(&out, path, "test file", &g, flags, &err);

	st_file_output_release(&out);
	return r ? err.code : 0;
}

static void test_guard(void)
{
	const struct st_output_guard g = {state, NULL, 0};
	struct st_error err = ST_ERROR_INIT;
	struct st_file_output out;
	char old[1200];
	int in;

	/* Inside the state directory, however it is spelled. */
	t_write(state, "audit.db", "db");
	CHECK(open_code(at(".steward/audit.db"), 0, NULL, 0) == ST_E_USAGE);
	CHECK(open_code(at(".steward/new"), ST_OUTPUT_REPLACE, NULL, 0) == ST_E_USAGE);
	CHECK(access(at(".steward/new"), F_OK) != 0);
	mkdir(at("sub"), 0700);
	CHECK(open_code(at("sub/../.steward/audit.db"), 0, NULL, 0) == ST_E_USAGE);
	CHECK(symlink(state, at("link")) == 0);
	CHECK(open_code(at("link/audit.db"), 0, NULL, 0) == ST_E_USAGE);
	mkdir(at(".steward/keys"), 0700);
	CHECK(open_code(at("link/keys/k"), 0, NULL, 0) == ST_E_USAGE); /* below it, too */
	CHECK(symlink(at(".steward/audit.db"), at("db-link")) == 0);
	CHECK(st_file_open_output(&out, at("db-link"), "test file", &g, 0, &err) == -1);
	CHECK_HAS(err.msg, "leads into the workspace's state directory");
	st_file_output_release(&out);
	{
		char buf[8] = "";
		FILE *f = fopen(at(".steward/audit.db"), "r");

		CHECK(f && fgets(buf, sizeof(buf), f));
		CHECK_STR(buf, "db");
		if (f)
			fclose(f);
	}
	/* Links are never followed, wherever they lead. */
	CHECK(symlink(at("elsewhere"), at("out-link")) == 0);
	CHECK(open_code(at("out-link"), 0, NULL, 0) == ST_E_USAGE);
	CHECK(open_code(at("out-link"), ST_OUTPUT_REPLACE, NULL, 0) == ST_E_USAGE);
	CHECK(access(at("elsewhere"), F_OK) != 0);
	/* An input of the command, and a file with another name. */
	snprintf(old, sizeof(old), "%s", t_write(root, "input.txt", "input"));
	in = open(old, O_RDONLY);
	CHECK(open_code(old, 0, &in, 1) == ST_E_USAGE);
	CHECK(open_code(old, ST_OUTPUT_REPLACE, &in, 1) == ST_E_USAGE);
	CHECK(open_code(old, 0, NULL, 0) == 0); /* once it is not an input, it may be written */
	close(in);
	t_write(root, "two.txt", "x");
	CHECK(link(at("two.txt"), at("two-again.txt")) == 0);
	CHECK(open_code(at("two.txt"), 0, NULL, 0) == ST_E_USAGE);
	CHECK(open_code(at("two.txt"), ST_OUTPUT_REPLACE, NULL, 0) == 0); /* a rename is fine */
	/* Not a file; a missing directory. */
	CHECK(open_code(root, 0, NULL, 0) == ST_E_USAGE);
	CHECK(open_code(at("sub/"), 0, NULL, 0) == ST_E_USAGE);
	CHECK(open_code(at("missing/x"), 0, NULL, 0) == ST_E_SYSTEM);
	/* A guard without a state directory (steward's own default paths). */
	CHECK(st_file_open_output(&out, at(".steward/quarantine"), "test file", NULL, 0, &err) == 0);
	st_file_output_release(&out);
}

static void test_write(void)
{
	const struct st_output_guard g = {state, NULL, 0};
	struct st_error err = ST_ERROR_INIT;
	struct st_file_output out;
	struct stat sb;
	char buf[64] = "";
	FILE *f;

	/* Replace: the old file stays whole until the commit, and no temporary is left. */
	t_write(root, "r.txt", "old");
	chmod(at("r.txt"), 0644);
	CHECK(st_file_open_output(&out, at("r.txt"), "test file", &g, ST_OUTPUT_REPLACE, &err) == 0);
	CHECK(write(out.fd, "new", 3) == 3);
	f = fopen(at("r.txt"), "r");
	CHECK(f && fgets(buf, sizeof(buf), f));
	CHECK_STR(buf, "old");
	if (f)
		fclose(f);
	CHECK(st_file_output_commit(&out, &err) == 0);
	st_file_output_release(&out);
	f = fopen(at("r.txt"), "r");
	CHECK(f && fgets(buf, sizeof(buf), f));
	CHECK_STR(buf, "new");
	if (f)
		fclose(f);
	CHECK(stat(at("r.txt"), &sb) == 0 && (sb.st_mode & 0777) == 0600);
	/* Released without a commit: the old file stays and the temporary goes. */
	CHECK(st_file_open_output(&out, at("r.txt"), "test file", &g, ST_OUTPUT_REPLACE, &err) == 0);
	CHECK(write(out.fd, "lost", 4) == 4);
	st_file_output_release(&out);
	f = fopen(at("r.txt"), "r");
	CHECK(f && fgets(buf, sizeof(buf), f));
	CHECK_STR(buf, "new");
	if (f)
		fclose(f);
	/* In place: truncated, mode 0600. */
	CHECK(st_file_write_output(at("w.txt"), "test file", &g, "0123456789", 10, &err) == 0);
	chmod(at("w.txt"), 0666);
	CHECK(st_file_open_output(&out, at("w.txt"), "test file", &g, 0, &err) == 0);
	CHECK(fstat(out.fd, &sb) == 0 && sb.st_size == 0 && (sb.st_mode & 0777) == 0600);
	CHECK(st_file_output_commit(&out, &err) == 0);
	st_file_output_release(&out);
	st_file_output_release(&out); /* twice is fine */
	/* An exports directory below the state directory, existing or not. */
	CHECK(st_file_check_output_dir(state, "dir", &g, &err) == -1);
	CHECK(st_file_check_output_dir(at(".steward/not/yet"), "dir", &g, &err) == -1);
	CHECK(st_file_check_output_dir(at("link/new"), "dir", &g, &err) == -1);
	CHECK(st_file_check_output_dir(at("exports/new"), "dir", &g, &err) == 0);
	CHECK(st_file_check_output_dir(at(".steward"), "dir", NULL, &err) == 0);
}

int main(void)
{
	snprintf(root, sizeof(root), "%s", t_tmpdir());
	snprintf(state, sizeof(state), "%s/.steward", root);
	mkdir(state, 0700);
	test_guard();
	test_write();
	return t_done();
}
