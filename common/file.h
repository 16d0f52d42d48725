/* Private files: opening secrets safely and writing files atomically, owner only. */
#ifndef ST_FILE_H
#define ST_FILE_H

#include <stddef.h>

#include "error.h"

struct stat;
/* Opens a secret file (a key) for reading after ssh's checks: never through a symbolic
 * link, a regular file, owned by this user, with no access for group or others. what
 * names it in messages ("key file"). Returns the descriptor (the caller closes it) and
 * fills *sb, or -1 with err saying why it is refused (ST_E_DENIED; ST_E_NOTFOUND when it
 * does not exist). */
int st_file_open_private(const char *path, const char *what, struct stat *sb,
			 struct st_error *err);
/* Writes len bytes of data to path whole or not at all: a temporary file beside it (mode
 * 0600), fsync, then rename over path, which ends up mode 0600. Returns 0, or -1 with err
 * (no temporary file is left behind). */
int st_file_write_private(const char *path, const void *data, size_t len, struct st_error *err);

#endif
