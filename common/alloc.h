/* Allocation wrappers shared by every module. They never abort: callers see NULL and
 * report "out of memory". Test builds can make allocations fail on purpose. */
#ifndef ST_ALLOC_H
#define ST_ALLOC_H

#include <stddef.h>

/* Like malloc(3); returns NULL on failure or injected failure. Free with st_free(). */
void *st_malloc(size_t n);
/* Like calloc(3), with overflow checking of nmemb * size; NULL on failure. */
void *st_calloc(size_t nmemb, size_t size);
/* Like realloc(3); on failure returns NULL and leaves p untouched and owned by the caller. */
void *st_realloc(void *p, size_t n);
/* Grows an array to hold at least `want` elements of `size` bytes, doubling. Takes the
 * array pointer and its capacity by reference; returns 0, or -1 with both untouched. */
int st_grow(void *arrayp, size_t *cap, size_t want, size_t size);
/* Copies a NUL-terminated string; returns NULL on failure. The caller owns the copy. */
char *st_strdup(const char *s);
/* Copies n bytes and appends a NUL; returns NULL on failure. The caller owns the copy. */
char *st_strndup(const char *s, size_t n);
/* Large buffers (from a few MB up) in a mapping of their own, so that growing one moves no
 * bytes (mremap) and freeing one gives its pages back at once. Plain 4 kB pages: on a VM
 * whose balloon reports free memory to the host (2 MB blocks), a huge page comes from a
 * reported block, which the host backs again while it is zeroed: 2.4 to 3.1 ms per MB
 * after two seconds of idle, against 0.4 ms per MB for 4 kB pages (docs/interop.md).
 * Like malloc(3) and realloc(3) (st_big_realloc(NULL, n) allocates; on failure it returns
 * NULL and leaves p untouched); free only with st_big_free(), NULL is fine. */
void *st_big_alloc(size_t n);
void *st_big_realloc(void *p, size_t n);
void st_big_free(void *p);
/* Releases memory from the functions above. NULL is fine. */
void st_free(void *p);
/* Frees n strings and the array that holds them. NULL is fine. */
void st_free_strv(char **v, size_t n);

#ifdef STEWARD_TEST_BUILD
/* Test builds only: when set, every allocation above first calls it and fails (returns
 * NULL) when it returns nonzero. Set by the fault injector in tests/support before main(). */
extern int (*st_alloc_fail_hook)(void);
#endif

#endif
