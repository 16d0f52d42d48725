/* An HTML writer for the server's pages in which every value is escaped: markup is only the
 * program's own text (html_raw(), the format of html_f()); what comes from the catalog, the
 * audit log or the request goes through html_text() or a %s, %U of html_f(). Internal to
 * serve/. */
#ifndef SERVE_HTML_H
#define SERVE_HTML_H

#include "buf.h"

#include <stdarg.h>
#include <stddef.h>

#define HTML_MAX ((size_t)64 << 20) /* bytes of one page */

struct html {
	struct st_buf b;
	int failed; /* out of memory or over HTML_MAX: the page is not sent */
};

/* An empty page buffer. */
void html_init(struct html *h);
/* Frees the buffer. */
void html_release(struct html *h);
/* Appends the program's own markup, unchanged. Never a value. */
void html_raw(struct html *h, const char *markup);
/* Appends len bytes of text escaped for an element or a quoted attribute: & < > " ' as
 * entities, control characters and invalid UTF-8 as st_escape() shows them (a newline is
 * kept). */
void html_textn(struct html *h, const char *s, size_t len);
/* html_textn() of a NUL-terminated string; NULL appends nothing. */
void html_text(struct html *h, const char *s);
/* Appends s percent-encoded for a URL path segment or query value (every byte but
 * A-Z a-z 0-9 - . _ ~), which is also safe in an attribute. NULL appends nothing. */
void html_url(struct html *h, const char *s);
/* Appends fmt, the program's own markup, with its conversions: %s a string escaped as
 * html_text() (NULL: nothing), %U a string as html_url(), %d an int, %ld a long, %lld a
 * long long, %zu a size_t, %% a percent sign. There is no conversion for raw markup. */
void html_f(struct html *h, const char *fmt, ...);
void html_vf(struct html *h, const char *fmt, va_list ap);

#endif
