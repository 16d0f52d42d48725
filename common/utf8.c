/* UTF-8 validation with the location of the first bad byte. */
#include "utf8.h"

#include <stdint.h>

int st_utf8_check(const unsigned char *s, size_t len, unsigned *line, unsigned *col)
{
	unsigned ln = 1, cl = 1;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t need;
		uint32_t cp, min;

		if (c < 0x80) {
			if (c == '\n') {
				ln++;
				cl = 0;
			}
			i++;
			cl++;
			continue;
		}
		if ((c & 0xE0) == 0xC0) {
			need = 1, cp = c & 0x1F, min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			need = 2, cp = c & 0x0F, min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			need = 3, cp = c & 0x07, min = 0x10000;
		} else {
			goto bad;
		}
		if (len - i <= need)
			goto bad;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				goto bad;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad;
		i += need + 1;
		cl++;
	}
	return 0;
bad:
	*line = ln;
	*col = cl;
	return -1;
}
