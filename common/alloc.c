/* Allocation wrappers; test builds let the fault injector (tests/support) fail them. */
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
