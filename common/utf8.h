/* UTF-8 validation shared by the readers of descriptors, events and subjects. */
#ifndef ST_UTF8_H
#define ST_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length (2 to 4) of the valid UTF-8 sequence at s, with left bytes readable from s,
 * and its code point in *cp; 0 when it is not one: an ASCII byte, a stray continuation byte,
 * an overlong form, a surrogate, a value past U+10FFFF, or a sequence cut short. Inline: the
 * ingest fast path steps over sequences with it. */
static inline size_t st_utf8_decode(const unsigned char *s, size_t left, uint32_t *out)
{
	size_t need;
	uint32_t cp, min;

	if ((s[0] & 0xE0) == 0xC0)
		need = 1, cp = s[0] & 0x1F, min = 0x80;
	else if ((s[0] & 0xF0) == 0xE0)
		need = 2, cp = s[0] & 0x0F, min = 0x800;
	else if ((s[0] & 0xF8) == 0xF0)
		need = 3, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (left <= need)
		return 0;
	for (size_t k = 1; k <= need; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	*out = cp;
	return need + 1;
}

/* st_utf8_decode() without the code point. */
static inline size_t st_utf8_seq(const unsigned char *s, size_t left)
{
	uint32_t cp;

	return st_utf8_decode(s, left, &cp);
}

/* Checks that len bytes are valid UTF-8 (no overlongs, surrogates or values past U+10FFFF).
 * Returns 0, or -1 with the 1-based line and column of the first bad byte. */
int st_utf8_check(const unsigned char *s, size_t len, unsigned *line, unsigned *col);

#endif
