/* A tiny TAP producer for the C unit tests: one "ok N - what" line per check. */
#ifndef TEST_HARNESS_H
#define TEST_HARNESS_H

#include <stddef.h>

/* Records one check; prints "ok" or "not ok" with the expression and location. */
int t_check(int ok, const char *what, const char *file, int line);
/* Checks that two strings are equal (NULL-safe), printing both when they differ. */
int t_streq(const char *got, const char *want, const char *what, const char *file, int line);
/* Checks that hay contains needle. */
int t_contains(const char *hay, const char *needle, const char *what, const char *file, int line);
/* Prints the plan and returns the process exit status (0 when every check passed). */
int t_done(void);
/* Writes text to a new file dir/name and returns its path in a static buffer. */
const char *t_write(const char *dir, const char *name, const char *text);
/* Makes a fresh temporary directory, removed at exit. */
const char *t_tmpdir(void);

#define CHECK(c) t_check(!!(c), #c, __FILE__, __LINE__)
#define CHECK_STR(got, want) t_streq((got), (want), #got, __FILE__, __LINE__)
#define CHECK_HAS(hay, needle) t_contains((hay), (needle), #hay, __FILE__, __LINE__)

#endif
