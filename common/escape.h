/* Escaping of control characters, so that a value from the user or from storage can be
 * printed without driving the terminal or splitting a line (docs/cli.md, "Output"). */
#ifndef ST_ESCAPE_H
#define ST_ESCAPE_H

#include <stddef.h>

enum st_escape_flags {
	ST_ESC_KEEP_NL = 1, /* a newline is text here (a multi-line description): keep it */
	ST_ESC_KEEP_CR = 4, /* a carriage return is layout here (CSV's CRLF): keep it */
	ST_ESC_JSON = 2,    /* the input is serialized JSON: write \u00XX escapes, and keep
			     * ASCII controls, which a JSON encoder only emits as layout */
};

/* Escapes len bytes of s into out (outn bytes, outn >= 16), writing as much as fits: a C0
 * control as \a \b \t \n \v \f \r or \xHH (ESC is \x1b), DEL as \x7f, a byte that is not
 * valid UTF-8 as \xHH, and a C1 control (U+0080-U+009F) or a character that reorders or
 * hides text (U+061C, U+200E-U+200F, U+2028-U+202E, U+2066-U+2069) as \uHHHH. Everything
 * else, backslash included, is copied. With ST_ESC_JSON every escape is \u00XX-style so the
 * JSON stays valid. Sets *used to the bytes of s consumed (whole characters only) and
 * returns the bytes written, without a NUL; call again with the rest until *used == len. */
size_t st_escape(const char *s, size_t len, size_t *used, char *out, size_t outn,
		 unsigned flags);
/* Whether len bytes of s would be changed by st_escape() with flags. */
int st_escape_needed(const char *s, size_t len, unsigned flags);

#endif
