/* Unit tests for the strict JSON reader: what it accepts, what it refuses and where. */
#include "harness.h"
#include "json.h"

#include <stdio.h>
#include <string.h>

static struct pii_jtape tape;

static void ok(const char *text)
{
	struct pii_jerr e;

	if (!t_check(pii_json_parse(text, strlen(text), &tape, &e) == 0, text, __FILE__, __LINE__))
		printf("#   %s at %zu\n", e.msg, e.offset);
}

static void bad(const char *text, int code, size_t offset)
{
	struct pii_jerr e;
	int r = pii_json_parse(text, strlen(text), &tape, &e);

	if (!t_check(r == -1 && e.code == code && e.offset == offset, text, __FILE__, __LINE__))
		printf("#   got r=%d code=%d offset=%zu (%s)\n", r, e.code, e.offset,
		       e.msg ? e.msg : "");
}

int main(void)
{
	char deep[200], out[64];
	struct st_buf b;

	ok("{}");
	ok(" {\"a\" : [1, -2.5e+3, true, false, null, \"x\\u00e9\\ud83d\\ude00\"], \"b\":{}} ");
	ok("[]");
	ok("\"caf\xc3\xa9\"");
	ok("0");
	bad("", PII_JE_SYNTAX, 0);
	bad("{", PII_JE_SYNTAX, 1);
	bad("{\"a\":1,}", PII_JE_SYNTAX, 7);
	bad("{'a':1}", PII_JE_SYNTAX, 1);
	bad("{\"a\":01}", PII_JE_SYNTAX, 6);
	bad("{\"a\":1.}", PII_JE_SYNTAX, 7);
	bad("{\"a\":tru}", PII_JE_SYNTAX, 5);
	bad("{\"a\":1} x", PII_JE_SYNTAX, 8);
	bad("{\"a\":\"\x01\"}", PII_JE_SYNTAX, 6);
	bad("{\"a\":\"\\x\"}", PII_JE_ESCAPE, 6);
	bad("{\"a\":\"\\ud800\"}", PII_JE_ESCAPE, 6);
	bad("{\"a\":\"\\udc00\"}", PII_JE_ESCAPE, 6);
	bad("{\"a\":\"\xff\"}", PII_JE_UTF8, 6);
	bad("{\"a\":\"\xc0\xaf\"}", PII_JE_UTF8, 6);
	bad("{\"a\":\"\xed\xa0\x80\"}", PII_JE_UTF8, 6);
	bad("\xef\xbb\xbf{}", PII_JE_SYNTAX, 0);
	memset(deep, '[', 100);
	memset(deep + 100, ']', 99);
	deep[199] = '\0';
	bad(deep, PII_JE_DEPTH, 64);
	memset(deep, '[', 64);
	memset(deep + 64, ']', 64);
	deep[128] = '\0';
	ok(deep);

	/* Spans on the tape. */
	ok("{\"k\":\"v\",\"n\":[1,2]}");
	CHECK(tape.n == 5 && tape.v[0].count == 2);
	CHECK(tape.v[1].key_start == 2 && tape.v[1].key_end == 3);
	CHECK(tape.v[1].start == 5 && tape.v[1].end == 8);
	CHECK(tape.v[tape.v[1].next].type == PII_J_ARR && tape.v[tape.v[1].next].count == 2);

	CHECK(pii_json_unescape("a\\n\\u00e9\\ud83d\\ude00\\\"", 23, out) == 9);
	CHECK(!memcmp(out, "a\n\xc3\xa9\xf0\x9f\x98\x80\"", 9));
	st_buf_init(&b, 100);
	CHECK(pii_json_quote(&b, "a\"b\\c\n\x01", 7) == 0);
	CHECK_STR(st_buf_str(&b), "\"a\\\"b\\\\c\\n\\u0001\"");
	st_buf_release(&b);
	pii_json_tape_release(&tape);
	return t_done();
}
