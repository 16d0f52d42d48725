/* Unit tests for the strict JSON reader: what it accepts, what it refuses and where. */
#include "harness.h"
#include "json.h"
#include "alloc.h"

#include <stdio.h>
#include <string.h>

static struct st_jtape tape;

static void ok(const char *text)
{
	struct st_jerr e;

	if (!t_check(st_json_parse(text, strlen(text), &tape, &e) == 0, text, __FILE__, __LINE__))
		printf("#   %s at %zu\n", e.msg, e.offset);
}

static void bad(const char *text, int code, size_t offset)
{
	struct st_jerr e;
	int r = st_json_parse(text, strlen(text), &tape, &e);

	if (!t_check(r == -1 && e.code == code && e.offset == offset, text, __FILE__, __LINE__))
		printf("#   got r=%d code=%d offset=%zu (%s)\n", r, e.code, e.offset,
		       e.msg ? e.msg : "");
}

/* The reading side: lookups by key (escaped keys, the last of duplicates), the index of a
 * large object, strings, numbers and duplicate keys. */
static void lookups(void)
{
	const char *doc = "{\"a\":1, \"b\\u0062\":\"x\\ny\", \"a\":-7, \"n\":2.5e3,"
			  " \"big\":123456789012345678901, \"o\":{}}";
	char big[8192];
	struct st_jerr e;
	struct st_jindex ix;
	uint32_t i, dup;
	int64_t v;
	double d;
	size_t len, at = 0;
	char *str;
	int oom;

	CHECK(st_json_parse(doc, strlen(doc), &tape, &e) == 0);
	i = st_json_get(doc, &tape, 0, "a");
	CHECK(i && st_json_int(doc, &tape.v[i], &v) == 0 && v == -7); /* the last one */
	i = st_json_get(doc, &tape, 0, "bb");
	CHECK(i && st_json_str_is(doc, &tape.v[i], "x\ny", 3));
	str = st_json_strdup(doc, &tape.v[i], &len, &oom);
	CHECK(str && len == 3 && !strcmp(str, "x\ny") && !oom);
	st_free(str);
	str = st_json_keydup(doc, &tape.v[i], &len, NULL);
	CHECK(str && !strcmp(str, "bb") && len == 2);
	st_free(str);
	CHECK(st_json_get(doc, &tape, 0, "b") == 0 && st_json_get(doc, &tape, 0, "zz") == 0);
	i = st_json_get(doc, &tape, 0, "n");
	CHECK(st_json_int(doc, &tape.v[i], &v) == -1);
	CHECK(st_json_double(doc, &tape.v[i], &d) == 0 && d == 2500.0);
	CHECK(st_json_int(doc, &tape.v[st_json_get(doc, &tape, 0, "big")], &v) == -1);
	CHECK(st_json_strdup(doc, &tape.v[st_json_get(doc, &tape, 0, "o")], NULL, &oom) == NULL &&
	      !oom);
	CHECK(st_json_find_duplicate(doc, &tape, &dup) == 0 && dup &&
	      st_json_key_is(doc, &tape.v[dup], "a", 1) && tape.v[dup].start > 10);
	CHECK(st_jindex_init(&ix, doc, &tape, 0) == 0);
	i = st_jindex_get(&ix, doc, &tape, "bb", 2);
	CHECK(i && st_json_key_is(doc, &tape.v[i], "bb", 2));
	i = st_jindex_get(&ix, doc, &tape, "a", 1);
	CHECK(i && st_json_int(doc, &tape.v[i], &v) == 0 && v == -7);
	CHECK(st_jindex_get(&ix, doc, &tape, "q", 1) == 0);
	st_jindex_release(&ix);

	/* A large object: 500 members, then one of them again. */
	big[at++] = '{';
	for (int k = 0; k < 500; k++)
		at += (size_t)snprintf(big + at, sizeof(big) - at, "\"k%d\":%d,", k, k);
	at += (size_t)snprintf(big + at, sizeof(big) - at, "\"k250\":-1}");
	CHECK(st_json_parse(big, at, &tape, &e) == 0);
	CHECK(st_jindex_init(&ix, big, &tape, 0) == 0);
	i = st_jindex_get(&ix, big, &tape, "k499", 4);
	CHECK(i && st_json_int(big, &tape.v[i], &v) == 0 && v == 499);
	i = st_jindex_get(&ix, big, &tape, "k250", 4);
	CHECK(i && st_json_int(big, &tape.v[i], &v) == 0 && v == -1);
	st_jindex_release(&ix);
	CHECK(st_json_find_duplicate(big, &tape, &dup) == 0 && dup &&
	      st_json_key_is(big, &tape.v[dup], "k250", 4) &&
	      st_json_int(big, &tape.v[dup], &v) == 0 && v == -1);
	doc = "{\"x\":{\"a\":1,\"b\":2},\"y\":[{\"c\":1}]}";
	CHECK(st_json_parse(doc, strlen(doc), &tape, &e) == 0);
	CHECK(st_json_find_duplicate(doc, &tape, &dup) == 0 && dup == 0);
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
	bad("", ST_JE_SYNTAX, 0);
	bad("{", ST_JE_SYNTAX, 1);
	bad("{\"a\":1,}", ST_JE_SYNTAX, 7);
	bad("{'a':1}", ST_JE_SYNTAX, 1);
	bad("{\"a\":01}", ST_JE_SYNTAX, 6);
	bad("{\"a\":1.}", ST_JE_SYNTAX, 7);
	bad("{\"a\":tru}", ST_JE_SYNTAX, 5);
	bad("{\"a\":1} x", ST_JE_SYNTAX, 8);
	bad("{\"a\":\"\x01\"}", ST_JE_SYNTAX, 6);
	bad("{\"a\":\"\\x\"}", ST_JE_ESCAPE, 6);
	bad("{\"a\":\"\\ud800\"}", ST_JE_ESCAPE, 6);
	bad("{\"a\":\"\\udc00\"}", ST_JE_ESCAPE, 6);
	bad("{\"a\":\"\xff\"}", ST_JE_UTF8, 6);
	bad("{\"a\":\"\xc0\xaf\"}", ST_JE_UTF8, 6);
	bad("{\"a\":\"\xed\xa0\x80\"}", ST_JE_UTF8, 6);
	bad("\xef\xbb\xbf{}", ST_JE_SYNTAX, 0);
	memset(deep, '[', 100);
	memset(deep + 100, ']', 99);
	deep[199] = '\0';
	bad(deep, ST_JE_DEPTH, 64);
	memset(deep, '[', 64);
	memset(deep + 64, ']', 64);
	deep[128] = '\0';
	ok(deep);

	/* Spans on the tape. */
	ok("{\"k\":\"v\",\"n\":[1,2]}");
	CHECK(tape.n == 5 && tape.v[0].count == 2);
	CHECK(tape.v[1].key_start == 2 && tape.v[1].key_end == 3);
	CHECK(tape.v[1].start == 5 && tape.v[1].end == 8);
	CHECK(tape.v[tape.v[1].next].type == ST_J_ARR && tape.v[tape.v[1].next].count == 2);

	CHECK(st_json_unescape("a\\n\\u00e9\\ud83d\\ude00\\\"", 23, out) == 9);
	CHECK(!memcmp(out, "a\n\xc3\xa9\xf0\x9f\x98\x80\"", 9));
	st_buf_init(&b, 100);
	CHECK(st_json_quote(&b, "a\"b\\c\n\x01", 7) == 0);
	CHECK_STR(st_buf_str(&b), "\"a\\\"b\\\\c\\n\\u0001\"");
	st_buf_release(&b);
	lookups();
	st_json_tape_release(&tape);
	return t_done();
}
