/* Shared by steward's fuzz targets: the libFuzzer entry points, a per-process scratch
 * directory, and small file helpers. Setup failures abort, since a target that cannot set
 * itself up must not report every input as passing. */
#ifndef STEWARD_FUZZ_H
#define STEWARD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define ST_FUZZ_STR_(x) #x
#define ST_FUZZ_STR(x) ST_FUZZ_STR_(x)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The scratch directory of this process (mode 0700), created on first call under
 * $STEWARD_FUZZ_TMP, else /dev/shm, else $TMPDIR, else /tmp, and removed with everything in
 * it at exit (not after a crash: run.sh gives each run its own STEWARD_FUZZ_TMP). */
const char *fuzz_tmpdir(void);
/* Joins fuzz_tmpdir() and name into a new string that lives until exit (at most 64). */
const char *fuzz_path(const char *name);
/* Replaces path with len bytes of data, created with mode (and chmod'ed to it). Returns 0,
 * or -1 with errno. */
int fuzz_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* Reads the whole of path into a new buffer (free()); returns NULL with errno. */
unsigned char *fuzz_read_file(const char *path, size_t *len);
/* A memory file for feeding bytes as a descriptor (input, output). Returns the fd. */
int fuzz_memfd(const char *name);
/* Makes fd hold exactly len bytes of data, positioned at the start. Returns 0, or -1. */
int fuzz_memfd_set(int fd, const void *data, size_t len);
/* Prints what failed (and err's message when err is set) to stderr and aborts. */
void fuzz_die(const char *what, const struct st_error *err) __attribute__((noreturn));

#endif
