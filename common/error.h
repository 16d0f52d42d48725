/* The one error type: a status code, an optional file:line:col location and a message
 * that follows git's rules (lowercase, no full stop, the subject in quotes). */
#ifndef ST_ERROR_H
#define ST_ERROR_H

#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define ST_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define ST_WUR __attribute__((warn_unused_result))
#else
#define ST_PRINTF(f, a)
#define ST_WUR
#endif

/* Status codes double as the CLI's exit codes (see docs/cli.md). */
enum st_code {
	ST_OK = 0,
	ST_FINDINGS = 1,   /* the command worked and found something to report */
	ST_E_USAGE = 2,    /* bad command line */
	ST_E_INVALID = 3,  /* bad input: a descriptor, a record, a value */
	ST_E_NOTFOUND = 4, /* no workspace, no such dataset */
	ST_E_SYSTEM = 5,   /* I/O, database, out of memory */
	ST_E_DENIED = 6,   /* refused by a permission or role check */
};

struct st_error {
	int code;
	char file[512]; /* empty when the error has no location */
	unsigned line, col; /* 1-based; 0 when unknown */
	char msg[1024];
};

#define ST_ERROR_INIT { 0, "", 0, 0, "" }

/* Resets e to "no error". */
void st_error_init(struct st_error *e);
/* Records an error without location. Returns -1 so callers can `return st_error_set(...)`. */
int st_error_set(struct st_error *e, int code, const char *fmt, ...) ST_PRINTF(3, 4);
/* Records an error at file:line:col (1-based; 0 leaves a part out). Returns -1. */
int st_error_set_at(struct st_error *e, int code, const char *file, unsigned line, unsigned col,
		    const char *fmt, ...) ST_PRINTF(6, 7);
/* Records "out of memory" as ST_E_SYSTEM. Returns -1. */
int st_error_oom(struct st_error *e);
/* Adds context in front of the message: "context: message". Keeps code and location. */
void st_error_prefix(struct st_error *e, const char *fmt, ...) ST_PRINTF(2, 3);
/* Writes "file:line:col: message" (or just the message) into out, always NUL-terminated. */
void st_error_format(const struct st_error *e, char *out, size_t n);

enum st_severity { ST_SEV_ERROR, ST_SEV_WARNING };

struct st_diag {
	int severity;
	char *file;
	unsigned line, col;
	char *msg;
};

/* A list of located problems, for checks that report every problem rather than the first.
 * Entries beyond `max` are counted but not kept. */
struct st_diags {
	struct st_diag *v;
	size_t n, cap, max;
	size_t nerrors, nwarnings;
};

/* Sets up an empty list that keeps at most max entries (0 means 10000). */
void st_diags_init(struct st_diags *d, size_t max);
/* Appends one problem; the strings are copied. Returns 0, or -1 on out of memory (the
 * problem is still counted). */
int st_diags_add(struct st_diags *d, int severity, const char *file, unsigned line, unsigned col,
		 const char *fmt, ...) ST_PRINTF(6, 7);
/* Frees every entry and resets the list to empty. */
void st_diags_release(struct st_diags *d);

#endif
