/* UTF-8 validation with the location of the first bad byte. */
#include "utf8.h"


int st_utf8_check(const unsigned char *s, size_t len, unsigned *line, unsigned *col)
{
	unsigned ln = 1, cl = 1;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;

		if (c < 0x80) {
			if (c == '\n') {
				ln++;
				cl = 0;
			}
			i++;
			cl++;
			continue;
		}
		if (!(n = st_utf8_seq(s + i, len - i)))
			goto bad;
		i += n;
		cl++;
	}
	return 0;
bad:
	*line = ln;
	*col = cl;
	return -1;
}
