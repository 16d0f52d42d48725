/* Unit tests for st_escape() (common/escape.c), the escaper of every text output, and for
 * pii_subject_check() (pii/normalize.c), the check of every subject value. */
#include "escape.h"
#include "harness.h"
#include "pii.h"

#include <stdio.h>
#include <string.h>

/* Escapes len bytes of s with flags in chunks of at most chunk bytes of output. */
static const char *esc(const char *s, size_t len, unsigned flags, size_t chunk)
{
	static char out[1024];
	size_t o = 0;

	while (len) {
		size_t used, n = st_escape(s, len, &used, out + o, chunk, flags);

		if (!used)
			return "(no progress)";
		o += n;
		s += used;
		len -= used;
	}
	out[o] = '\0';
	return out;
}

#define ESC(lit, flags) esc(lit, sizeof(lit) - 1, flags, 512)

int main(void)
{
	struct st_error err = ST_ERROR_INIT;
	char big[300];

	CHECK_STR(ESC("plain text, caf\xc3\xa9 \xe2\x82\xac", 0), "plain text, caf\xc3\xa9 \xe2\x82\xac");
	CHECK_STR(ESC("a\\b", 0), "a\\b");
	CHECK_STR(ESC("\a\b\t\n\v\f\r", 0), "\\a\\b\\t\\n\\v\\f\\r");
	CHECK_STR(ESC("x\x1b[31my", 0), "x\\x1b[31my");
	CHECK_STR(ESC("nul\0x", 0), "nul\\x00x");
	CHECK_STR(ESC("del\x7f", 0), "del\\x7f");
	CHECK_STR(ESC("c1\xc2\x9b\xc2\x85", 0), "c1\\u009b\\u0085");
	CHECK_STR(ESC("bad\xff\xc3", 0), "bad\\xff\\xc3");
	CHECK_STR(ESC("overlong\xc0\xaf", 0), "overlong\\xc0\\xaf");
	CHECK_STR(ESC("surrogate\xed\xa0\x80", 0), "surrogate\\xed\\xa0\\x80");
	CHECK_STR(ESC("rlo\xe2\x80\xae lre\xe2\x80\xaa fsi\xe2\x81\xa8 ls\xe2\x80\xa8 alm\xd8\x9c", 0),
		  "rlo\\u202e lre\\u202a fsi\\u2068 ls\\u2028 alm\\u061c");
	CHECK_STR(ESC("zwj\xe2\x80\x8d stays", 0), "zwj\xe2\x80\x8d stays");
	CHECK_STR(ESC("two\nlines\r\n", ST_ESC_KEEP_NL), "two\nlines\\r\n");
	CHECK_STR(ESC("crlf\r\n\t", ST_ESC_KEEP_NL | ST_ESC_KEEP_CR), "crlf\r\n\\t");
	/* JSON: only what an encoder leaves raw inside strings */
	CHECK_STR(ESC("{\n  \"a\": \"x\x7f\xc2\x9b\xe2\x80\xae\"\n}", ST_ESC_JSON),
		  "{\n  \"a\": \"x\\u007f\\u009b\\u202e\"\n}");
	/* output in small chunks: whole characters and whole escapes only */
	CHECK_STR(esc("ab\x1b\xc3\xa9\xc2\x9b", 7, 0, 16), "ab\\x1b\xc3\xa9\\u009b");
	CHECK_STR(esc("\x1b\x1b\x1b", 3, 0, 4), "\\x1b\\x1b\\x1b");
	CHECK(!st_escape_needed("ok \xc3\xa9", 5, 0));
	CHECK(st_escape_needed("a\nb", 3, 0));
	CHECK(!st_escape_needed("a\nb", 3, ST_ESC_KEEP_NL));
	CHECK(st_escape_needed("\xc2\x9b", 2, 0));

	CHECK(pii_subject_check("x@example.com", 13, &err) == 0);
	CHECK(pii_subject_check("\xea\xb9\x80\xec\xb2\xa0\xec\x88\x98", 9, &err) == 0);
	CHECK(pii_subject_check("x@example.com\0junk", 18, &err) == -1 && err.code == ST_E_INVALID);
	CHECK_STR(err.msg, "it holds a NUL byte (byte 14)");
	CHECK(pii_subject_check("a\x1b", 2, &err) == -1);
	CHECK_STR(err.msg, "it holds a control character (byte 2)");
	CHECK(pii_subject_check("a\xc2\x85", 3, &err) == -1);
	CHECK_STR(err.msg, "it holds a control character (byte 2)");
	CHECK(pii_subject_check("a\x7f", 2, &err) == -1);
	CHECK(pii_subject_check("ab\xff", 3, &err) == -1);
	CHECK_STR(err.msg, "it is not valid UTF-8 (character 3)");
	CHECK(pii_subject_check("", 0, &err) == -1);
	CHECK_STR(err.msg, "it is empty");
	memset(big, 'a', sizeof(big));
	CHECK(pii_subject_check(big, PII_SUBJECT_MAX, &err) == 0);
	CHECK(pii_subject_check(big, PII_SUBJECT_MAX + 1, &err) == -1);
	CHECK_STR(err.msg, "it is longer than 255 bytes");
	return t_done();
}
