/* UTF-8 validation shared by the readers of descriptors, events and subjects. */
#ifndef ST_UTF8_H
#define ST_UTF8_H

#include <stddef.h>

/* Checks that len bytes are valid UTF-8 (no overlongs, surrogates or values past U+10FFFF).
 * Returns 0, or -1 with the 1-based line and column of the first bad byte. */
int st_utf8_check(const unsigned char *s, size_t len, unsigned *line, unsigned *col);

#endif
