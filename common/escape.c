/* The one escaper for text output: control characters, invalid UTF-8 and text-reordering
 * characters become visible escapes (see escape.h). */
#include "escape.h"
#include "utf8.h"

#include <stdint.h>
#include <stdio.h>

/* Decodes the UTF-8 character at s (n > 0 bytes left). Returns its length and sets *cp, or
 * returns 0 when s starts with a byte that is not valid UTF-8. */
static size_t decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	return st_utf8_decode(s, n, cp);
}

/* Whether code point cp is escaped as \uHHHH. */
static int hidden(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
	       (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Writes the escape for the character at s (k bytes, code point cp; k == 0 for a bad
 * byte) into e (at least 8 bytes); returns its length, or 0 when it is copied as is. */
static int escape_one(const unsigned char *s, size_t k, uint32_t cp, unsigned flags, char *e)
{
	static const char named[] = "abtnvfr";

	if (k == 0)
		return snprintf(e, 8, flags & ST_ESC_JSON ? "\\ufffd" : "\\x%02x", s[0]);
	if (cp < 0x20 || cp == 0x7F) {
		if ((flags & ST_ESC_JSON) || (cp == '\n' && (flags & ST_ESC_KEEP_NL)) ||
		    (cp == '\r' && (flags & ST_ESC_KEEP_CR)))
			return cp == 0x7F ? snprintf(e, 8, "\\u007f") : 0;
		if (cp >= 7 && cp <= 13)
			return snprintf(e, 8, "\\%c", named[cp - 7]);
		return snprintf(e, 8, "\\x%02x", (unsigned)cp);
	}
	if (hidden(cp))
		return snprintf(e, 8, "\\u%04x", (unsigned)cp);
	return 0;
}

size_t st_escape(const char *s, size_t len, size_t *used, char *out, size_t outn,
		 unsigned flags)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0;

	while (i < len) {
		uint32_t cp = 0;
		size_t k = decode(u + i, len - i, &cp);
		char e[8];
		int el = escape_one(u + i, k, cp, flags, e);
		size_t step = k ? k : 1, w = el ? (size_t)el : step;

		if (w > outn - o)
			break;
		for (size_t j = 0; j < w; j++)
			out[o + j] = el ? e[j] : s[i + j];
		o += w;
		i += step;
	}
	*used = i;
	return o;
}

int st_escape_needed(const char *s, size_t len, unsigned flags)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		uint32_t cp = 0;
		size_t k;
		char e[8];

		if (u[i] >= 0x20 && u[i] < 0x7F) { /* the common case */
			i++;
			continue;
		}
		k = decode(u + i, len - i, &cp);
		if (escape_one(u + i, k, cp, flags, e))
			return 1;
		i += k ? k : 1;
	}
	return 0;
}
