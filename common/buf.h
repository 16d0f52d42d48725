/* A growable byte buffer with a hard upper bound, after curl's dynbuf. The content is
 * always NUL-terminated. A failed append releases nothing and reports -1. */
#ifndef ST_BUF_H
#define ST_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "error.h"

struct st_buf {
	char *p;
	size_t len, cap, max;
};

/* Sets up an empty buffer that may never hold more than max bytes (excluding the NUL). */
void st_buf_init(struct st_buf *b, size_t max);
/* Appends n bytes. Returns 0, or -1 when out of memory or over the bound (b unchanged). */
int st_buf_add_slow(struct st_buf *b, const void *data, size_t n) ST_WUR;

/* Where up to n more bytes and their NUL can be written in place, with no growth and
 * within the bound: b->p + b->len; NULL when they do not fit (st_buf_add() grows the
 * buffer). A caller that writes there adds what it wrote to b->len and ends it with a NUL. */
static inline char *st_buf_room(struct st_buf *b, size_t n)
{
	return b->p && n < b->cap - b->len && n <= b->max - b->len ? b->p + b->len : NULL;
}

/* The common case, where the bytes fit, stays inline: it is on the ingest hot path. */
static inline int st_buf_add(struct st_buf *b, const void *data, size_t n)
{
	char *at;

	if (!n)
		return 0; /* also keeps memcpy away from a NULL source, which is undefined */
	if ((at = st_buf_room(b, n))) {
		memcpy(at, data, n);
		b->len += n;
		b->p[b->len] = '\0';
		return 0;
	}
	return st_buf_add_slow(b, data, n);
}
/* Appends a NUL-terminated string. Same returns as st_buf_add. */
int st_buf_adds(struct st_buf *b, const char *s) ST_WUR;
/* Appends formatted text. Same returns as st_buf_add. */
int st_buf_addf(struct st_buf *b, const char *fmt, ...) ST_PRINTF(2, 3) ST_WUR;
/* Empties the buffer, keeping its memory. */
void st_buf_reset(struct st_buf *b);
/* Returns the content (never NULL; "" when empty). Valid until the next change. */
const char *st_buf_str(const struct st_buf *b);
/* Hands the content to the caller (free with st_free) and leaves b empty. NULL on OOM. */
char *st_buf_detach(struct st_buf *b);
/* Frees the content; b is empty and reusable afterwards. */
void st_buf_release(struct st_buf *b);

#endif
