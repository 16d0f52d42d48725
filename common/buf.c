/* Bounded growable buffer. */
#include "buf.h"
#include "alloc.h"

#include <stdio.h>
#include <string.h>

void st_buf_init(struct st_buf *b, size_t max)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

static int reserve(struct st_buf *b, size_t extra)
{
	size_t want, ncap;
	char *np;

	if (extra > b->max - b->len)
		return -1;
	want = b->len + extra + 1;
	if (want <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < want)
		ncap = ncap > (b->max + 1) / 2 ? b->max + 1 : ncap * 2;
	np = st_realloc(b->p, ncap);
	if (!np)
		return -1;
	b->p = np;
	b->cap = ncap;
	return 0;
}

int st_buf_add_slow(struct st_buf *b, const void *data, size_t n)
{
	if (reserve(b, n))
		return -1;
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int st_buf_adds(struct st_buf *b, const char *s)
{
	return st_buf_add(b, s, strlen(s));
}

int st_buf_addf(struct st_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(b, (size_t)n))
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void st_buf_reset(struct st_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

const char *st_buf_str(const struct st_buf *b)
{
	return b->p ? b->p : "";
}

char *st_buf_detach(struct st_buf *b)
{
	char *p = b->p ? b->p : st_strdup("");

	st_buf_init(b, b->max);
	return p;
}

void st_buf_release(struct st_buf *b)
{
	st_free(b->p);
	st_buf_init(b, b->max);
}
