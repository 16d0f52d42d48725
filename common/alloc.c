/* Allocation wrappers; test builds let the fault injector (tests/support) fail them. */
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifdef STEWARD_TEST_BUILD
int (*st_alloc_fail_hook)(void);

static int injected_failure(void)
{
	return st_alloc_fail_hook && st_alloc_fail_hook();
}
#else
static int injected_failure(void)
{
	return 0;
}
#endif

void *st_malloc(size_t n)
{
	if (injected_failure())
		return NULL;
	return malloc(n ? n : 1);
}

void *st_calloc(size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		return NULL;
	if (injected_failure())
		return NULL;
	return calloc(nmemb ? nmemb : 1, size ? size : 1);
}

void *st_realloc(void *p, size_t n)
{
	if (injected_failure())
		return NULL;
	return realloc(p, n ? n : 1);
}

int st_grow(void *arrayp, size_t *cap, size_t want, size_t size)
{
	void **ap = arrayp;
	size_t ncap = *cap ? *cap : 8;
	void *np;

	if (want <= *cap)
		return 0;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2)
			return -1;
		ncap *= 2;
	}
	if (size && ncap > SIZE_MAX / size)
		return -1;
	np = st_realloc(*ap, ncap * size);
	if (!np)
		return -1;
	*ap = np;
	*cap = ncap;
	return 0;
}

/* A big buffer is a private anonymous mapping that starts with its length; the caller's
 * bytes follow the header. */
#define BIG_HEADER 64

static void *big_map(void *old, size_t n)
{
	size_t total;
	unsigned char *m;

	if (n > SIZE_MAX - BIG_HEADER || injected_failure())
		return NULL;
	total = n + BIG_HEADER;
	if (old) {
		unsigned char *om = (unsigned char *)old - BIG_HEADER;
		size_t ototal;

		memcpy(&ototal, om, sizeof(ototal));
		m = mremap(om, ototal, total, MREMAP_MAYMOVE);
	} else {
		/* No MADV_HUGEPAGE: see alloc.h. */
		m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (m == MAP_FAILED)
		return NULL;
	memcpy(m, &total, sizeof(total));
	return m + BIG_HEADER;
}

void *st_big_alloc(size_t n)
{
	return big_map(NULL, n ? n : 1);
}

void *st_big_realloc(void *p, size_t n)
{
	return big_map(p, n ? n : 1);
}

void st_big_free(void *p)
{
	unsigned char *m;
	size_t total;

	if (!p)
		return;
	m = (unsigned char *)p - BIG_HEADER;
	memcpy(&total, m, sizeof(total));
	munmap(m, total);
}

char *st_strdup(const char *s)
{
	return st_strndup(s, strlen(s));
}

char *st_strndup(const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX)
		return NULL;
	p = st_malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void st_free(void *p)
{
	free(p);
}

void st_free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}
