/* The escaping HTML writer of the pages (html.h): values become text, never markup. */
#include "html.h"
#include "escape.h"

#include <stdio.h>
#include <string.h>

void html_init(struct html *h)
{
	st_buf_init(&h->b, HTML_MAX);
	h->failed = 0;
}

void html_release(struct html *h)
{
	st_buf_release(&h->b);
}

static void add(struct html *h, const char *s, size_t n)
{
	if (!h->failed && st_buf_add(&h->b, s, n))
		h->failed = 1;
}

void html_raw(struct html *h, const char *markup)
{
	add(h, markup, strlen(markup));
}

/* Appends text already free of controls, with & < > " ' as entities. */
static void entities(struct html *h, const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		const char *e = s[i] == '&'   ? "&amp;"
				: s[i] == '<' ? "&lt;"
				: s[i] == '>' ? "&gt;"
				: s[i] == '"' ? "&quot;"
				: s[i] == '\'' ? "&#39;"
					       : NULL;

		if (!e)
			continue;
		add(h, s + start, i - start);
		html_raw(h, e);
		start = i + 1;
	}
	add(h, s + start, n - start);
}

void html_textn(struct html *h, const char *s, size_t len)
{
	char chunk[512];

	if (!st_escape_needed(s, len, ST_ESC_KEEP_NL)) {
		entities(h, s, len);
		return;
	}
	while (len) {
		size_t used, n = st_escape(s, len, &used, chunk, sizeof(chunk), ST_ESC_KEEP_NL);

		entities(h, chunk, n);
		s += used;
		len -= used;
	}
}

void html_text(struct html *h, const char *s)
{
	if (s)
		html_textn(h, s, strlen(s));
}

void html_url(struct html *h, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		char pct[3] = {'%', hex[c >> 4], hex[c & 15]};

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			add(h, s, 1);
		else
			add(h, pct, 3);
	}
}

void html_vf(struct html *h, const char *fmt, va_list ap)
{
	while (*fmt) {
		const char *pct = strchr(fmt, '%');
		char num[32];

		if (!pct) {
			html_raw(h, fmt);
			return;
		}
		add(h, fmt, (size_t)(pct - fmt));
		fmt = pct + 1;
		if (*fmt == 's') {
			html_text(h, va_arg(ap, const char *));
			fmt++;
		} else if (*fmt == 'U') {
			html_url(h, va_arg(ap, const char *));
			fmt++;
		} else if (*fmt == 'd') {
			snprintf(num, sizeof(num), "%d", va_arg(ap, int));
			html_raw(h, num);
			fmt++;
		} else if (!strncmp(fmt, "lld", 3)) {
			snprintf(num, sizeof(num), "%lld", va_arg(ap, long long));
			html_raw(h, num);
			fmt += 3;
		} else if (!strncmp(fmt, "ld", 2)) {
			snprintf(num, sizeof(num), "%ld", va_arg(ap, long));
			html_raw(h, num);
			fmt += 2;
		} else if (!strncmp(fmt, "zu", 2)) {
			snprintf(num, sizeof(num), "%zu", va_arg(ap, size_t));
			html_raw(h, num);
			fmt += 2;
		} else if (*fmt == '%') {
			add(h, "%", 1);
			fmt++;
		} else {
			h->failed = 1; /* a conversion the writer does not know: a program error */
			return;
		}
	}
}

void html_f(struct html *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	html_vf(h, fmt, ap);
	va_end(ap);
}
