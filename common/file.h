/* Private files: opening secrets safely, writing files atomically owner only, and opening
 * the output files a user names so that they cannot be turned against steward. */
#ifndef ST_FILE_H
#define ST_FILE_H

#include <stddef.h>

#include "error.h"

struct stat;
/* Opens a secret file (a key) for reading after ssh's checks: never through a symbolic
 * link, a regular file, owned by this user, with no access for group or others. what
 * names it in messages ("key file"). Returns the descriptor (the caller closes it) and
 * fills *sb, or -1 with err saying why it is refused (ST_E_DENIED, also when the user may
 * not read it; ST_E_NOTFOUND when it does not exist). */
int st_file_open_private(const char *path, const char *what, struct stat *sb,
			 struct st_error *err);
/* Writes len bytes of data to path whole or not at all: a temporary file beside it (mode
 * 0600), fsync, then rename over path, which ends up mode 0600. Returns 0, or -1 with err
 * (no temporary file is left behind). */
int st_file_write_private(const char *path, const void *data, size_t len, struct st_error *err);

/* What an output file a user names must never be. */
struct st_output_guard {
	const char *state_dir; /* the workspace's .steward/: nothing in it or below (NULL: none) */
	const int *inputs;     /* descriptors the command reads besides standard input */
	size_t ninputs;
};

/* An output file being written: st_file_open_output() fills it. */
struct st_file_output {
	int fd;      /* write here */
	int dirfd;   /* the directory it is in */
	char *name;  /* its name in that directory */
	char *tmp;   /* ST_OUTPUT_REPLACE: the temporary's name until committed, else NULL */
	char *path;  /* as the user gave it, for messages */
};

/* Write a temporary file beside the path and rename it over the path on commit (whole-file
 * outputs); without it the file itself is truncated and written as it goes (streams). */
#define ST_OUTPUT_REPLACE 1

/* The one way to open an output file the user names (--rejects, --output, --export, bundle
 * paths). what names it in messages ("rejects file"). Refuses, with err and nothing
 * created or changed: a path whose directory is, or is below, g->state_dir (found by
 * walking up the real directories, so symbolic links and '..' do not get round it); a
 * symbolic link (never followed); anything but a regular file; the same file as standard
 * input, standard output or one of g->inputs; an existing file owned by another user; and,
 * without ST_OUTPUT_REPLACE, a file with other hard links. Refusals are ST_E_USAGE
 * (ST_E_DENIED for another user's file or a permission error). The file is created mode
 * 0600, owned by the caller, with O_NOFOLLOW and O_CLOEXEC; an existing one is set to mode
 * 0600. Returns 0 with out filled (write to out->fd, then st_file_output_commit()), or -1
 * with err; out can be released in both cases. */
int st_file_open_output(struct st_file_output *out, const char *path, const char *what,
			const struct st_output_guard *g, int flags, struct st_error *err);
/* Checks a directory the user names for output files (an exports directory) against g's
 * state directory before anything is written there: refused (ST_E_USAGE) when it is, or
 * is below, the state directory, symbolic links and '..' resolved. A directory that does
 * not exist yet is checked by its nearest existing parent. Returns 0, or -1 with err. */
int st_file_check_output_dir(const char *dir, const char *what, const struct st_output_guard *g,
			     struct st_error *err);
/* Finishes an output: fsync and close, and with ST_OUTPUT_REPLACE renames the temporary
 * over the path. Returns 0, or -1 with err (the temporary is removed on release). */
int st_file_output_commit(struct st_file_output *out, struct st_error *err);
/* Closes what is still open and removes an uncommitted temporary; safe to call twice. */
void st_file_output_release(struct st_file_output *out);
/* Writes len bytes to the user-named path whole or not at all, through
 * st_file_open_output() with ST_OUTPUT_REPLACE. Returns 0, or -1 with err. */
int st_file_write_output(const char *path, const char *what, const struct st_output_guard *g,
			 const void *data, size_t len, struct st_error *err);

/* Reads the size bytes of the file open as fd into buf (size + 1 bytes) and puts a NUL
 * after them. Returns NULL, or the cause for "cannot read: <cause>": the read error, or
 * "file shrank while reading". */
const char *st_file_read_exact(int fd, unsigned char *buf, size_t size);

 /* Set by the test builds' fault injector (tests/support) before main(): st_fdatasync()
 * fails with EIO, as on a dead disk, when it returns nonzero. NULL in the product. */
extern int (*st_sync_fail_hook)(void);

/* fdatasync(fd), again after EINTR. Returns 0, or -1 with errno. The syncs steward makes
 * outside SQLite go through here, so that the fault injector counts them with SQLite's. */
int st_fdatasync(int fd);

#endif
