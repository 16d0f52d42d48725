/* Unit tests for the strict JSON reader: what it accepts, what it refuses and where. */
#include "harness.h"
#include "json.h"
#include "strmap.h"
#include "alloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Keys of object obj, in order, joined by commas, with their values when numbers. */
static const char *members(const char *doc, uint32_t obj)
{
	static char out[256];
	size_t at = 0;

	out[0] = '\0';
	for (uint32_t i = st_json_first(&tape, obj); i; i = st_json_next(&tape, i)) {
		const struct st_jnode *n = &tape.v[i];
		char *k = st_json_keydup(doc, n, NULL, NULL);

		at += (size_t)snprintf(out + at, sizeof(out) - at, "%s%s=%.*s", at ? "," : "",
				       k ? k : "?", (int)(n->end - n->start), doc + n->start);
		st_free(k);
	}
	return out;
}

/* Each key once, at its first place with its last value, as jansson loads it; the deep
 * limit is jansson's. */
static void collapse(void)
{
	const char *doc = "{\"a\":1,\"b\":2,\"\\u0061\":3,\"c\":{\"x\":1,\"x\":2},\"b\":4}";
	char big[8192], *deep;
	struct st_jerr e;
	size_t at = 0;

	CHECK(st_json_parse(doc, strlen(doc), &tape, &e) == 0 && !tape.unique);
	CHECK(st_json_collapse_duplicates(doc, &tape) == 3 && tape.unique);
	CHECK_STR(members(doc, 0), "a=3,b=4,c={\"x\":1,\"x\":2}");
	CHECK(tape.v[0].count == 3);
	CHECK_STR(members(doc, st_json_get(doc, &tape, 0, "c")), "x=2");
	CHECK(st_json_collapse_duplicates(doc, &tape) == 0); /* nothing left to do */
	/* A large object (hashed), its duplicates interleaved: the first relink of a later
	 * member must not send the walk around in a loop. */
	big[at++] = '{';
	for (int k = 0; k < 20; k++)
		at += (size_t)snprintf(big + at, sizeof(big) - at, "\"k%d\":%d,", k % 7, k);
	big[at - 1] = '}';
	CHECK(st_json_parse(big, at, &tape, &e) == 0);
	CHECK(st_json_collapse_duplicates(big, &tape) == 13);
	CHECK_STR(members(big, 0), "k0=14,k1=15,k2=16,k3=17,k4=18,k5=19,k6=13");
	CHECK(st_json_get(big, &tape, 0, "k6") && tape.v[0].count == 7);
	/* By ranges of the tape, in any order: the same, unique once the caller says so. */
	CHECK(st_json_parse(doc, strlen(doc), &tape, &e) == 0);
	CHECK(st_json_collapse_range(doc, &tape, 4, tape.n + 10) == 1 && !tape.unique);
	CHECK_STR(members(doc, 4), "x=2");
	CHECK(st_json_collapse_range(doc, &tape, 0, 4) == 2);
	CHECK_STR(members(doc, 0), "a=3,b=4,c={\"x\":1,\"x\":2}");
	CHECK(st_json_collapse_range(doc, &tape, 0, tape.n) == 0);

	CHECK((deep = st_malloc(2 * ST_JSON_DEPTH_LIMIT + 3)) != NULL);
	if (!deep)
		return;
	memset(deep, '[', ST_JSON_DEPTH_LIMIT + 1);
	memset(deep + ST_JSON_DEPTH_LIMIT + 1, ']', ST_JSON_DEPTH_LIMIT + 1);
	CHECK(st_json_parse_depth(deep + 1, 2 * ST_JSON_DEPTH_LIMIT, ST_JSON_DEPTH_LIMIT, &tape,
				  &e) == 0);
	CHECK(st_json_parse_depth(deep, 2 * ST_JSON_DEPTH_LIMIT + 2, ST_JSON_DEPTH_LIMIT, &tape,
				  &e) == -1 && e.code == ST_JE_DEPTH && e.offset == ST_JSON_DEPTH_LIMIT);
	CHECK(st_json_parse(deep + 1, 2 * ST_JSON_DEPTH_LIMIT, &tape, &e) == -1 &&
	      e.code == ST_JE_DEPTH && e.offset == ST_JSON_MAX_DEPTH);
	st_free(deep);
}

/* st_json_dump writes what jansson's json_dumps writes for the same text, sorted or not. */
static void dump_like_jansson(void)
{
	static const char *const texts[] = {
		"{\"b\":1,\"a\":[1.0,-0,-0.0,1e300,1E-7,0.1,123456789012345678,2.5e-320,1.5,100e0,"
		"-1e-300,1e21,12345678.9,0.000001,-9223372036854775808,9223372036854775807,5e-324]}",
		"[\"\\u0001\\u001f\\b\\f\\n\\r\\t\\/\\\"\\\\\xc3\xa9\\u00e9\\ud83d\\ude00\\u007f\\u2028 \x7f\"]",
		"{\"z\":{},\"y\":[],\"\xc3\xa9\":true,\"e\":false,\"ab\":null,\"a\":{\"B\":1,\"b\":2,\"A\":3},"
		"\"\\u0041\":\"x\",\"\":0,\"a\\n\":1}",
		"{\"k\":1,\"j\":2,\"k\":3,\"i\":{\"q\":1,\"p\":2,\"q\":[{\"b\":1,\"a\":2}]}}",
		"[[[[{\"x\":[1,{\"y\":\"\\u0000z\"}]}]]]]",
		"\"top\"", "12", "-0.5e-3", "true", "null", "[]", "{}",
		/* sorted on the stack (16 members) and by qsort (17), in white space */
		"{\"p\":0,\"o\":1,\"n\":2,\"m\":3,\"l\":4,\"k\":5,\"j\":6,\"i\":7,\"h\":8,"
		"\"g\":9,\"f\":10,\"e\":11,\"d\":12,\"c\":13,\"ba\":14,\"b\":15}",
		"{\"p\":0,\"o\":1,\"n\":2,\"m\":3,\"l\":4,\"k\":5,\"j\":6,\"i\":7,\"h\":8,"
		"\"g\":9,\"f\":10,\"e\":11,\"d\":12,\"c\":13,\"ba\":14,\"b\":15,\"a\":\"17\"}",
		" { \"p\" : 1 , \"o\" : [ \"x y\" , { \"b\" : 2 , \"a\" : \"\\\"\" } ] } ",
		"{\"b\":1,\"a\\u0062\":2,\"a\":3}",
	};
	struct st_jerr e;

	for (size_t k = 0; k < sizeof(texts) / sizeof(*texts); k++)
		for (int sorted = 0; sorted < 2; sorted++) {
			const char *text = texts[k];
			json_error_t je;
			json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
			char *want = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY |
							     (sorted ? JSON_SORT_KEYS : 0))
				       : NULL;
			struct st_buf b;

			st_buf_init(&b, 1 << 20);
			CHECK(want != NULL);
			CHECK(st_json_parse(text, strlen(text), &tape, &e) == 0);
			CHECK(st_json_collapse_duplicates(text, &tape) >= 0);
			CHECK(st_json_dump(text, &tape, 0, sorted ? ST_JDUMP_SORT_KEYS : 0, &b) == 0);
			if (want && !t_streq(st_buf_str(&b), want, text, __FILE__, __LINE__))
				printf("#   sorted=%d\n", sorted);
			free(want);
			json_decref(j);
			st_buf_release(&b);
		}
	/* The buffer's bound is reported. */
	{
		struct st_buf b;
		const char *text = "{\"a\":\"0123456789\"}";

		st_buf_init(&b, 8);
		CHECK(st_json_parse(text, strlen(text), &tape, &e) == 0);
		CHECK(st_json_dump(text, &tape, 0, ST_JDUMP_SORT_KEYS, &b) == -1);
		st_buf_release(&b);
	}
}

/* st_json_parse_filter's test: skips the members named "skip", and at depth 2 "deep". */
static int skip_some(void *u, const char *buf, const struct st_jtape *t, const uint32_t *path,
		     size_t depth, const char *key, size_t len, int key_escaped)
{
	(void)buf;
	(void)t;
	(void)path;
	(void)key_escaped;
	++*(int *)u;
	return (len == 4 && !memcmp(key, "skip", 4)) ||
	       (depth == 2 && len == 4 && !memcmp(key, "deep", 4));
}

/* Members left off the tape: their text is still checked, the count leaves them out, and
 * what a reader of every value refuses in them is flagged. */
static void filtered(void)
{
	static const struct {
		const char *text;
		int odd;
	} kept[] = {
		{"{\"a\":1,\"skip\":{\"x\":[1,{\"y\":null}],\"z\":\"s\\n\"},\"b\":{\"deep\":[true,false]"
		 ",\"c\":2},\"deep\":3}", 0},
		{"{\"skip\":\"a\\u0000b\"}", 1},
		{"{\"skip\":{\"k\\u0000\":1}}", 1},
		{"{\"skip\":[\"\\\\u0000\"]}", 0},
		{"{\"skip\":123456789012345678901}", 1},
		{"{\"skip\":1e999}", 1},
		{"{\"skip\":[1.5,-3,{}]}", 0},
	};
	static const struct {
		const char *text;
		int code;
		size_t offset;
	} refused[] = {
		{"{\"skip\":[1,]}", ST_JE_SYNTAX, 11},
		{"{\"skip\":{\"a\" 1}}", ST_JE_SYNTAX, 13},
		{"{\"skip\":\"\\x\"}", ST_JE_ESCAPE, 9},
		{"{\"skip\":[1}", ST_JE_SYNTAX, 10},
		{"{\"skip\":tru}", ST_JE_SYNTAX, 8},
		{"{\"skip\":{", ST_JE_SYNTAX, 9},
	};
	char deep[200];
	struct st_jerr e;
	uint32_t b;
	int calls = 0;

	CHECK(st_json_parse_filter(kept[0].text, strlen(kept[0].text), ST_JSON_MAX_DEPTH, skip_some,
				   &calls, 0, &tape, &e) == 0);
	/* root, a, b, b.c, deep (depth 1 is kept) */
	CHECK(tape.n == 5 && tape.v[0].count == 3 && !tape.skipped_odd && calls == 6);
	CHECK(st_json_get(kept[0].text, &tape, 0, "skip") == 0);
	b = st_json_get(kept[0].text, &tape, 0, "b");
	CHECK(b && tape.v[b].count == 1 && st_json_get(kept[0].text, &tape, b, "c"));
	CHECK(st_json_get(kept[0].text, &tape, 0, "deep") != 0);
	for (size_t i = 1; i < sizeof(kept) / sizeof(*kept); i++) {
		CHECK(st_json_parse_filter(kept[i].text, strlen(kept[i].text), ST_JSON_MAX_DEPTH,
					   skip_some, &calls, 0, &tape, &e) == 0);
		CHECK(tape.n == 1 && tape.skipped_odd == kept[i].odd);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		int r = st_json_parse_filter(refused[i].text, strlen(refused[i].text),
					     ST_JSON_MAX_DEPTH, skip_some, &calls, 0, &tape, &e);

		if (!t_check(r == -1 && e.code == refused[i].code && e.offset == refused[i].offset,
			     refused[i].text, __FILE__, __LINE__))
			printf("#   got r=%d code=%d offset=%zu\n", r, e.code, e.offset);
	}
	/* The depth limit counts the containers around a skipped member. */
	memcpy(deep, "{\"skip\":", 8);
	memset(deep + 8, '[', 64);
	memset(deep + 72, ']', 64);
	memcpy(deep + 136, "}", 2);
	CHECK(st_json_parse_filter(deep, strlen(deep), ST_JSON_MAX_DEPTH, skip_some, &calls, 0, &tape,
				   &e) == -1 &&
	      e.code == ST_JE_DEPTH && e.offset == 71);
	CHECK(st_json_parse_filter(deep + 8, 128, ST_JSON_MAX_DEPTH, skip_some, &calls, 0, &tape, &e) ==
	      0);
	/* A reserved tape is used as it is. */
	CHECK(st_json_tape_reserve(&tape, 600000) == 0 && tape.big && tape.cap >= 600000);
	ok("[1,[2]]");
	CHECK(tape.big && tape.n == 4 && tape.cap >= 600000);
}

/* Every object on the tape with its count and members (key=value text), one a line. */
static void objects(const char *text, struct st_buf *out)
{
	for (size_t i = 0; i < tape.n; i++) {
		if (tape.v[i].type != ST_J_OBJ)
			continue;
		CHECK(st_buf_addf(out, "%zu:%u:", i, tape.v[i].count) == 0);
		for (uint32_t m = st_json_first(&tape, (uint32_t)i); m; m = st_json_next(&tape, m)) {
			const struct st_jnode *n = &tape.v[m];
			char *k = st_json_keydup(text, n, NULL, NULL);

			CHECK(st_buf_addf(out, "%s=%.*s,", k ? k : "?", (int)(n->end - n->start),
					  text + n->start) == 0);
			st_free(k);
		}
		CHECK(st_buf_add(out, "\n", 1) == 0);
	}
}

/* ST_JPARSE_UNIQUE: each object made unique as it closes, the same as a parse followed by
 * st_json_collapse_duplicates(): small objects (compared in pairs) and large ones (hashed),
 * duplicates first, last, interleaved, escaped keys equal to plain ones, nested objects. */
static void parse_unique(void)
{
	static const char *const texts[] = {
		"{\"a\":1,\"a\":2}",
		"{\"a\":1,\"b\":2}",
		"{\"ab\":1,\"a\":2,\"ab\":3,\"b\":4}",
		"{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8}",
		"{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"a\":8}",
		"{\"h\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8}",
		"{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9}",
		"{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"a\":9}",
		"{\"i\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9}",
		"{\"abcdefgh1\":1,\"abcdefgh2\":2,\"abcdefgh1\":3}",
		"{\"abcdefgh\":1,\"abcdefghi\":2,\"abcdefg\":3,\"abcdefgh\":4}",
		"{\"\\u0061\":1,\"a\":2}",
		"{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"\\u0061\":9}",
		"{\"k\\n\":1,\"k\\u000a\":2,\"x\":{\"y\":1,\"z\":{\"y\":2,\"y\":3},\"y\":4}}",
		"[{\"a\":1,\"a\":{\"b\":1,\"b\":2}},{\"a\":[{\"c\":1,\"c\":2}],\"d\":0}]",
		"{\"\":1,\"\":2,\"a\":{}}",
		"{\"a\":1}",
		"{}",
	};
	char big[8192];
	size_t at = 0;
	struct st_jerr e;

	for (size_t k = 0; k <= sizeof(texts) / sizeof(*texts); k++) {
		const char *text = texts[k < sizeof(texts) / sizeof(*texts) ? k : 0];
		struct st_buf want, got;

		if (k == sizeof(texts) / sizeof(*texts)) {
			/* Many members, some twice or more, at the start and the end too. */
			big[at++] = '{';
			for (int m = 0; m < 300; m++)
				at += (size_t)snprintf(big + at, sizeof(big) - at, "\"key%d\":%d,",
						       m % 7 == 3 ? 0 : m % 250, m);
			at += (size_t)snprintf(big + at, sizeof(big) - at, "\"key299\":-1}");
			text = big;
		}
		st_buf_init(&want, 1 << 20);
		st_buf_init(&got, 1 << 20);
		CHECK(st_json_parse(text, strlen(text), &tape, &e) == 0 && !tape.unique);
		CHECK(st_json_collapse_duplicates(text, &tape) >= 0);
		objects(text, &want);
		CHECK(st_json_parse_filter(text, strlen(text), ST_JSON_MAX_DEPTH, NULL, NULL,
					   ST_JPARSE_UNIQUE, &tape, &e) == 0 && tape.unique);
		objects(text, &got);
		t_streq(st_buf_str(&got), st_buf_str(&want), text, __FILE__, __LINE__);
		st_buf_release(&want);
		st_buf_release(&got);
	}
	{ /* An index of a unique tape's object (no key compared while it is built). */
		struct st_jindex ix;
		int64_t v;
		uint32_t i;

		CHECK(st_jindex_init(&ix, big, &tape, 0) == 0);
		i = st_jindex_get(&ix, big, &tape, "key0", 4);
		CHECK(i && st_json_int(big, &tape.v[i], &v) == 0 && v == 297);
		i = st_jindex_get(&ix, big, &tape, "key299", 6);
		CHECK(i && st_json_int(big, &tape.v[i], &v) == 0 && v == -1);
		for (int m = 0; m < 250; m++) {
			char key[16];
			int n = snprintf(key, sizeof(key), "key%d", m);

			/* key<m> for m % 7 == 3 only as the key of member m + 250 */
			i = st_jindex_get(&ix, big, &tape, key, (size_t)n);
			CHECK((i != 0) == (m % 7 != 3 || m < 50));
		}
		CHECK(st_jindex_get(&ix, big, &tape, "key250", 6) == 0);
		st_jindex_release(&ix);
	}
	CHECK(tape.v[0].count == 222 && st_json_get(big, &tape, 0, "key299") &&
	      tape.v[st_json_get(big, &tape, 0, "key0")].start ==
		      tape.v[st_json_get(big, &tape, 0, "key0")].end - 3); /* 297 */
	CHECK(st_json_parse_filter(texts[2], strlen(texts[2]), ST_JSON_MAX_DEPTH, NULL, NULL,
				   ST_JPARSE_UNIQUE, &tape, &e) == 0);
	CHECK_STR(members(texts[2], 0), "ab=3,a=2,b=4");
	/* Refused: not unique. */
	CHECK(st_json_parse_filter("{\"a\":1,\"a\":2", 12, ST_JSON_MAX_DEPTH, NULL, NULL,
				   ST_JPARSE_UNIQUE, &tape, &e) == -1 && !tape.unique);
}

/* ST_JPARSE_ODD: what a reader of every value refuses, on the tape or skipped. */
static void parse_odd(void)
{
	static const struct {
		const char *text;
		int odd;
	} texts[] = {
		{"{\"a\":\"x\\u0000\"}", 1},
		{"{\"a\\u0000\":1}", 1},
		{"{\"a\\u0000\":{}}", 1},
		{"{\"a\\u0000\":[1]}", 1},
		{"[123456789012345678901]", 1},
		{"[-9223372036854775809]", 1},
		{"[1e999]", 1},
		{"[-1E+400]", 1},
		{"{\"skip\":1e999}", 1},
		{"{\"skip\":\"\\u0000\"}", 1},
		{"[9223372036854775807,-9223372036854775808,1e308,2.5e-400,123456789012345678]", 0},
		{"[\"\\\\u0000\",\"\\u0001\",\"a\\n\"]", 0},
		{"{\"a\\n\":[1,2.5,-0],\"b\":\"\\u00e9\"}", 0},
		{"[12345678901234567890123.5]", 0},
	};
	struct st_jerr e;
	int calls = 0;

	for (size_t k = 0; k < sizeof(texts) / sizeof(*texts); k++) {
		const char *text = texts[k].text;

		CHECK(st_json_parse_filter(text, strlen(text), ST_JSON_MAX_DEPTH, skip_some, &calls,
					   ST_JPARSE_ODD, &tape, &e) == 0);
		t_check(tape.odd == texts[k].odd, text, __FILE__, __LINE__);
		CHECK(st_json_parse_filter(text, strlen(text), ST_JSON_MAX_DEPTH, skip_some, &calls, 0,
					   &tape, &e) == 0 && !tape.odd);
	}
}

/* Hash flooding, the attack: an object of 2000 keys chosen so that the hash the parser used
 * for every large object (st_hash_fast(), which anyone can compute) sends them all to one
 * slot of its table of 4096; checking them for duplicates then stepped past 2 million
 * slots. Large objects now take the string map's keyed hash, and the keys spread. */
static void test_key_flood(void)
{
	struct st_buf b;
	struct st_jtape ft;
	struct st_jerr e;
	char key[32];
	int n = 0, ok = 1;

	st_buf_init(&b, (size_t)1 << 24);
	memset(&ft, 0, sizeof(ft));
	ok &= st_buf_add(&b, "{", 1) == 0;
	for (uint32_t i = 0; n < 2000 && i < 100000000u; i++) {
		int len = snprintf(key, sizeof(key), "k%u", i);

		if (st_hash_fast(key, (size_t)len) & 0xfff)
			continue;
		ok &= st_buf_addf(&b, "%s\"%s\":%d", n ? "," : "", key, n) == 0;
		n++;
	}
	ok &= st_buf_add(&b, "}", 1) == 0;
	CHECK(ok && n == 2000);
#ifdef STEWARD_TEST_BUILD /* the count is kept by test builds only */
	st_json_key_probes = 0;
#endif
	CHECK(st_json_parse_filter(b.p, b.len, ST_JSON_MAX_DEPTH, NULL, NULL, ST_JPARSE_UNIQUE,
				   &ft, &e) == 0 &&
	      ft.v[0].count == 2000);
#ifdef STEWARD_TEST_BUILD
	/* about half a slot per key at half load; the flood: 1000 per key */
	CHECK(st_json_key_probes < 20000);
#endif
	st_json_tape_release(&ft);
	st_buf_release(&b);
}

/* ---- A split parse (st_json_parse_split()) against a parse on one thread ---------------- */

static struct st_jtape one, two; /* the one-thread tape and the split one */

/* Whether node a of tape x and node b of tape y hold the same value: type, spans, keys,
 * escapes and counts, then their members or elements in order. *n counts the nodes
 * reached, up to limit (a loop in the links). */
static int same_node(const struct st_jtape *x, uint32_t a, const struct st_jtape *y, uint32_t b,
		     size_t *n, size_t limit)
{
	const struct st_jnode *p = &x->v[a], *q = &y->v[b];
	uint32_t i, j;

	if (++*n > limit) {
		printf("#   more than %zu nodes reached: a loop in the links\n", limit);
		return 0;
	}
	if (p->type != q->type || p->start != q->start || p->end != q->end ||
	    p->key_start != q->key_start || p->key_end != q->key_end || p->escaped != q->escaped ||
	    p->key_escaped != q->key_escaped || p->count != q->count) {
		printf("#   one: type %d [%u, %u) key [%u, %u) esc %d/%d count %u\n", p->type,
		       p->start, p->end, p->key_start, p->key_end, p->escaped, p->key_escaped,
		       p->count);
		printf("#   split: type %d [%u, %u) key [%u, %u) esc %d/%d count %u\n", q->type,
		       q->start, q->end, q->key_start, q->key_end, q->escaped, q->key_escaped,
		       q->count);
		return 0;
	}
	if (p->type != ST_J_OBJ && p->type != ST_J_ARR)
		return 1;
	for (i = st_json_first(x, a), j = st_json_first(y, b); i && j;
	     i = st_json_next(x, i), j = st_json_next(y, j))
		if (!same_node(x, i, y, j, n, limit))
			return 0;
	if (i || j)
		printf("#   container at byte %u: one side has more members\n", p->start);
	return !i && !j;
}

/* Whether tapes x and y hold the same tree from the root (node 0), reached node by node
 * in the same order: the same number of nodes. */
static int same_tree(const struct st_jtape *x, const struct st_jtape *y)
{
	size_t n = 0;

	return x->n && y->n && same_node(x, 0, y, 0, &n, x->n + y->n);
}

/* What split_skip() leaves off the tape, and how often it was asked. */
struct split_calls {
	int mode; /* 0: nothing; 1: "b" at depth 3 and the root's "after" */
	long calls;
};

static int split_skip(void *u, const char *buf, const struct st_jtape *t, const uint32_t *path,
		      size_t depth, const char *key, size_t len, int key_escaped)
{
	struct split_calls *c = u;

	(void)buf;
	(void)t;
	(void)path;
	(void)key_escaped;
	c->calls++;
	return c->mode == 1 && ((depth == 3 && len == 1 && key[0] == 'b') ||
				(depth == 1 && len == 5 && !memcmp(key, "after", 5)));
}

/* Options of split_doc(). */
struct split_opts {
	int members; /* of "nodes" */
	int shape;   /* 0: alike; 1: longs members of long strings (10 kB), then members of
		      * 34 nodes each; 2: those first */
	int longs;
	int dup; /* 1: the member 3/4 of the way in takes member 100's key; 2: also
		  * "z" and the root hold a key twice */
	int odd; /* the member 3/4 of the way in holds "\u0000" and 1e999 (in "b") */
};

/* The test document: {"meta":{…},"nodes":{"n.0":{…},…},"after":[…],"z":{…}}. */
static int split_doc(struct st_buf *b, const struct split_opts *o)
{
	static char big[10001];
	int r = 0, late = o->members * 3 / 4;

	memset(big, 'x', sizeof(big) - 1);
	r |= st_buf_adds(b, "{\"meta\":{\"v\":\"1.0\",\"k\":[1,2,3]},\"nodes\":{");
	for (int i = 0; i < o->members; i++) {
		int key = o->dup && i == late ? 100 : i;
		int small = o->shape == 1 ? i >= o->longs : i < o->members - o->longs;

		r |= st_buf_addf(b, "%s\"n.%d\":", i ? "," : "", key);
		if (o->shape && small)
			r |= st_buf_adds(b, "{\"a\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
					    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}");
		else if (o->shape)
			r |= st_buf_addf(b, "{\"s\":\"%s\"}", big);
		else if (o->odd && i == late)
			r |= st_buf_addf(b, "{\"a\":%d,\"b\":[1e999,2],\"c\":\"\\u0000\"}", i);
		else
			r |= st_buf_addf(b, "{\"a\":%d,\"b\":[1,2],\"c\":\"x\\ty\"}", i);
	}
	r |= st_buf_adds(b, "},\"after\":[1,{\"q\":2,\"r\":[3]},\"s\"],");
	r |= st_buf_adds(b, o->dup == 2 ? "\"meta\":7,\"z\":{\"k\":1,\"k\":[2]}}"
					: "\"z\":{\"y\":{},\"x\":[]}}");
	return r;
}

/* Where the bytes needle start in text, plus off; 0 when they are not there. */
static size_t split_find(const char *text, const char *needle, size_t off)
{
	const char *at = strstr(text, needle);

	CHECK(at != NULL);
	return at ? (size_t)(at - text) + off : 0;
}

/* The guess at member k of "nodes": the opening quote of its key. */
static size_t split_member(const char *text, int k)
{
	char needle[32];

	snprintf(needle, sizeof(needle), ",\"n.%d\":", k);
	return split_find(text, needle, 1);
}

struct split_res {
	int r, used;
	long one, first, second; /* skip's calls: one thread; the split's first and second */
};

/* One named check of split_same(). */
static int split_check(int ok, const char *what, const char *check)
{
	char name[200];

	snprintf(name, sizeof(name), "split: %s: %s", what, check);
	return t_check(ok, name, __FILE__, __LINE__);
}

/* Parses text by st_json_parse_split() (sp.key key, sp.at at; the split tape reserved for
 * reserve nodes, none when 0, its memory filled first with objects of two members of one key
 * when poison) onto two, and by st_json_parse_filter() onto one, with flags and
 * split_skip() in mode (NULL when -1), and checks they give the same: the result and its
 * error, or the tree and the flags. used: what sp.used must be, -1 for either. */
static struct split_res split_same(const char *what, const char *text, size_t len, const char *key,
				   size_t at, int flags, int mode, size_t reserve, int poison,
				   int used)
{
	struct split_calls c0 = {mode, 0}, c1 = {mode, 0}, c2 = {mode, 0};
	struct st_json_split sp = {key, strlen(key), at, &c2, -1};
	st_json_skip_fn skip = mode < 0 ? NULL : split_skip;
	struct split_res res;
	struct st_jerr e1, e2;
	int r1, r2;

	st_json_tape_release(&two);
	if (reserve)
		CHECK(st_json_tape_reserve(&two, reserve) == 0);
	/* Members that point at each other in pairs, with one key: read where there is no
	 * value, they are duplicates. */
	for (size_t i = 0; poison && i < two.cap; i++)
		two.v[i] = (struct st_jnode){.type = ST_J_OBJ,
					     .count = 2,
					     .key_start = 2,
					     .key_end = 6,
					     .first = (uint32_t)(i & ~(size_t)1),
					     .next = i & 1 ? 0 : (uint32_t)i + 1};
	r1 = st_json_parse_filter(text, len, ST_JSON_MAX_DEPTH, skip, &c0, flags, &one, &e1);
	r2 = st_json_parse_split(text, len, ST_JSON_MAX_DEPTH, skip, &c1, flags, &sp, &two, &e2);
	res = (struct split_res){r2, sp.used, c0.calls, c1.calls, c2.calls};
	if (!split_check(r1 == r2 && e1.code == e2.code && e1.offset == e2.offset &&
				 !e1.msg == !e2.msg && (!e1.msg || !strcmp(e1.msg, e2.msg)),
			 what, "same result"))
		printf("#   one: %d %d at %zu (%s); split: %d %d at %zu (%s)\n", r1, e1.code,
		       e1.offset, e1.msg ? e1.msg : "", r2, e2.code, e2.offset,
		       e2.msg ? e2.msg : "");
	if (used >= 0 && !split_check(sp.used == used, what, "sp.used"))
		printf("#   sp.used %d, at %zu\n", sp.used, at);
	if (sp.used)
		split_check(two.hole_lo < two.hole_hi && two.hole_hi <= two.n, what, "a gap");
	if (r1 || r2)
		return res;
	split_check(same_tree(&one, &two), what, "same tree");
	if (!split_check(one.odd == two.odd && one.skipped_odd == two.skipped_odd &&
				 one.unique == two.unique,
			 what, "same flags"))
		printf("#   one: odd %d skipped_odd %d unique %d; split: %d %d %d\n", one.odd,
		       one.skipped_odd, one.unique, two.odd, two.skipped_odd, two.unique);
	if (mode < 0)
		return res;
	/* Each key is asked about once: on one thread or the other. */
	if (!split_check(sp.used ? c1.calls + c2.calls == c0.calls && c2.calls > 0
				 : c1.calls == c0.calls,
			 what, "skip's calls"))
		printf("#   one %ld, first %ld, second %ld\n", c0.calls, c1.calls, c2.calls);
	return res;
}

/* st_json_parse_split() gives what st_json_parse_filter() gives (tree, flags, error) for
 * good and bad guesses, errors on either side, duplicates across the split, a tape with
 * stale nodes in the gap, skip on both threads, too little room, and another key. */
static void split_parse(void)
{
	const int flags = ST_JPARSE_UNIQUE | ST_JPARSE_ODD;
	struct split_opts opts = {4000, 0, 0, 0, 0};
	struct st_buf b, m;
	struct split_res s;
	const char *text;
	size_t len, mid, rsv;
	uint32_t d1, d2, n;
	int added = 0;

	st_buf_init(&b, (size_t)1 << 24);
	st_buf_init(&m, (size_t)1 << 24);
	CHECK(split_doc(&b, &opts) == 0);
	text = st_buf_str(&b);
	len = b.len;
	rsv = len / 4 + 64;
	mid = split_member(text, 2000);

	/* 1. A guess at a member of "nodes": joined. */
	s = split_same("middle", text, len, "nodes", mid, flags, 0, rsv, 0, 1);
	CHECK(s.r == 0 && one.v[0].count == 4 &&
	      one.v[st_json_get(text, &one, 0, "nodes")].count == 4000 && one.unique);
	split_same("middle, no flags", text, len, "nodes", mid, 0, 0, rsv, 0, 1);
	split_same("middle, no skip", text, len, "nodes", mid, flags, -1, rsv, 0, 1);
	split_same("early", text, len, "nodes", split_member(text, 1200), 0, 0, rsv, 0, 1);
	split_same("late", text, len, "nodes", split_member(text, 3000), 0, 0, rsv, 0, 1);
	/* the first member: no comma before it, which the contract does not promise */
	split_same("first member", text, len, "nodes", split_find(text, "{\"n.0\"", 1), flags, 0,
		   rsv, 0, -1);
	/* white space after each comma: the guess at the quote */
	st_buf_reset(&m);
	for (size_t i = 0; i < len; i++)
		added |= st_buf_add(&m, text[i] == ',' ? ", " : text + i, text[i] == ',' ? 2 : 1);
	CHECK(added == 0);
	split_same("white space", m.p, m.len, "nodes", split_find(m.p, ", \"n.2000\"", 2), flags, 0,
		   m.len / 4 + 64, 0, 1);

	/* 2. Guesses that are not a member's start in "nodes": parsed on one thread. */
	split_same("in a string", text, len, "nodes", split_find(text + mid, "\"x\\ty\"", 2) + mid,
		   flags, 0, rsv, 0, 0);
	split_same("at a closing quote", text, len, "nodes",
		   split_find(text + mid, "\"x\\ty\"", 5) + mid, flags, 0, rsv, 0, 0);
	split_same("a level deeper", text, len, "nodes", split_find(text + mid, ",\"b\"", 1) + mid,
		   flags, 0, rsv, 0, 0);
	split_same("a root member", text, len, "nodes", split_find(text, ",\"after\"", 1), flags, 0,
		   rsv, 0, 0);
	split_same("inside after", text, len, "nodes", split_find(text, ",\"r\"", 1), flags, 0, rsv,
		   0, 0);
	split_same("at a comma", text, len, "nodes", mid - 1, flags, 0, rsv, 0, 0);
	split_same("at a colon", text, len, "nodes", split_find(text + mid, "\":{", 1) + mid, flags,
		   0, rsv, 0, 0);
	split_same("at the object", text, len, "nodes", split_find(text, "\"nodes\":", 8), flags, 0,
		   rsv, 0, 0);
	split_same("before the object", text, len, "nodes", split_find(text, ",\"nodes\"", 1),
		   flags, 0, rsv, 0, 0);
	split_same("at 0", text, len, "nodes", 0, flags, 0, rsv, 0, 0);
	split_same("at len - 1", text, len, "nodes", len - 1, flags, 0, rsv, 0, 0);
	split_same("at len", text, len, "nodes", len, flags, 0, rsv, 0, 0);
	split_same("past len", text, len, "nodes", len + 1000, flags, 0, rsv, 0, 0);
	/* an empty long object: the guess is past it */
	st_buf_reset(&m);
	CHECK(st_buf_adds(&m, "{\"nodes\":{},\"rest\":") == 0 && st_buf_add(&m, text, len) == 0 &&
	      st_buf_adds(&m, "}") == 0);
	split_same("empty object", m.p, m.len, "nodes", mid + 19, flags, 0, m.len / 4 + 64, 0, 0);

	/* 3. Errors, on either side of the guess, at it, after the long object and after the
	 * root: the one-thread parse's, code, offset and message. */
	{
		static const struct {
			const char *what, *find;
			size_t off;
			char c;
		} errs[] = {
			{"missing colon after", ",\"n.3500\":{\"a\":", 14, ' '},
			{"missing colon before", ",\"n.500\":{\"a\":", 13, ' '},
			{"bad escape at the guess", ",\"n.2000\":", 2, '\\'},
			{"bad byte after", ",\"n.2500\":{\"a\":", 14, 'q'},
			{"array close after", "},\"after\"", 0, ']'},
			{"root member after", "\"after\":", 7, ' '},
			{"last member after", "\"z\":", 3, '!'},
		};

		for (size_t k = 0; k < sizeof(errs) / sizeof(*errs); k++) {
			st_buf_reset(&m);
			CHECK(st_buf_add(&m, text, len) == 0);
			m.p[split_find(text, errs[k].find, errs[k].off)] = errs[k].c;
			s = split_same(errs[k].what, m.p, m.len, "nodes", mid, flags, 0, rsv, 0,
				       -1);
			CHECK(s.r == -1);
		}
		st_buf_reset(&m);
		CHECK(st_buf_add(&m, text, len) == 0 && st_buf_adds(&m, " x") == 0);
		s = split_same("text after the root", m.p, m.len, "nodes", mid, flags, 0, rsv, 0,
			       -1);
		CHECK(s.r == -1);
		st_buf_reset(&m);
		CHECK(st_buf_add(&m, text, len - 1) == 0);
		s = split_same("no closing brace", m.p, m.len, "nodes", mid, flags, 0, rsv, 0, -1);
		CHECK(s.r == -1);
	}

	/* 4. Duplicate keys across the split: made unique as on one thread (the last value
	 * at the first place), or found and collapsed alike. */
	opts.dup = 2;
	opts.odd = 1;
	st_buf_reset(&m);
	CHECK(split_doc(&m, &opts) == 0);
	s = split_same("duplicates", m.p, m.len, "nodes", split_member(m.p, 2000), flags, 0,
		       m.len / 4 + 64, 0, 1);
	n = st_json_get(m.p, &two, 0, "nodes");
	CHECK(s.r == 0 && two.odd && two.v[n].count == 3999 && two.v[0].count == 4);
	CHECK(two.v[st_json_get(m.p, &two, n, "n.100")].start > split_member(m.p, 2000));
	CHECK(two.v[st_json_get(m.p, &two, 0, "meta")].type == ST_J_NUM);
	CHECK(two.v[st_json_get(m.p, &two, 0, "z")].count == 1);
	for (opts.dup = 1; opts.dup <= 2; opts.dup++) {
		const char *key = opts.dup == 1 ? "n.100" : "meta"; /* the first object's */

		st_buf_reset(&m);
		CHECK(split_doc(&m, &opts) == 0);
		s = split_same(opts.dup == 1 ? "duplicate in nodes, not unique"
					     : "duplicates, not unique",
			       m.p, m.len, "nodes", split_member(m.p, 2000), ST_JPARSE_ODD, 0,
			       m.len / 4 + 64, 0, 1);
		n = st_json_get(m.p, &two, 0, "nodes");
		CHECK(s.r == 0 && !two.unique && two.v[n].count == 4000);
		CHECK(st_json_find_duplicate(m.p, &one, &d1) == 0 && d1);
		CHECK(st_json_find_duplicate(m.p, &two, &d2) == 0 && d2);
		if (!CHECK(d1 && d2 && one.v[d1].key_start == two.v[d2].key_start &&
			   one.v[d1].start == two.v[d2].start &&
			   st_json_key_is(m.p, &two.v[d2], key, strlen(key))))
			printf("#   one: key at %u, split: key at %u\n",
			       d1 ? one.v[d1].key_start : 0, d2 ? two.v[d2].key_start : 0);
		CHECK(st_json_collapse_duplicates(m.p, &one) == 2 * opts.dup - 1 &&
		      st_json_collapse_duplicates(m.p, &two) == 2 * opts.dup - 1 &&
		      same_tree(&one, &two));
	}

	/* 5. The gap holds no value: stale nodes there are not read. */
	s = split_same("stale gap", text, len, "nodes", mid, 0, 0, rsv, 1, 1);
	CHECK(s.used && two.hole_hi - two.hole_lo > 2);
	CHECK(st_json_find_duplicate(text, &two, &d2) == 0 && d2 == 0);
	CHECK(st_json_collapse_duplicates(text, &two) == 0 && same_tree(&one, &two));
	split_same("stale gap, unique", text, len, "nodes", mid, flags, 0, rsv, 1, 1);

	/* 6. Skip on both threads, each with its own counter; a skipped odd value late. */
	s = split_same("skip", m.p, m.len, "nodes", split_member(m.p, 2000), flags, 1,
		       m.len / 4 + 64, 0, 1);
	CHECK(s.r == 0 && one.skipped_odd && two.odd && s.second > 0 &&
	      st_json_get(m.p, &two, 0, "after") == 0);
	n = st_json_get(m.p, &two, 0, "nodes");
	CHECK(two.v[st_json_get(m.p, &two, n, "n.3999")].count == 2);
	split_same("skip, wrong guess", m.p, m.len, "nodes", split_member(m.p, 2000) - 1, flags, 1,
		   m.len / 4 + 64, 0, 0);

	/* 7. Too little room: none reserved, or too little on one side of the guess (or
	 * both), so no second thread; a part of more nodes than its share of the room. */
	s = split_same("no reserve", text, len, "nodes", mid, flags, 0, 0, 0, 0);
	CHECK(s.second == 0);
	s = split_same("little room before", text, len, "nodes", split_member(text, 100), flags, 0,
		       rsv, 0, 0);
	CHECK(s.second == 0);
	s = split_same("little room after", text, len, "nodes", split_member(text, 3950), flags, 0,
		       rsv, 0, 0);
	CHECK(s.second == 0);
	s = split_same("little room", text, len, "nodes", mid, flags, 0, 4096, 0, 0);
	CHECK(s.second == 0);
	/* 20 strings of 10 kB, then 1500 members of 34 nodes in 40% of the bytes: a room of
	 * len / 8 leaves the second part about half the nodes it needs. */
	opts = (struct split_opts){1520, 1, 20, 0, 0};
	st_buf_reset(&m);
	CHECK(split_doc(&m, &opts) == 0);
	s = split_same("second part full", m.p, m.len, "nodes", split_member(m.p, 20), flags, 0,
		       m.len / 8 + 64, 0, 0);
	CHECK(s.r == 0 && s.second > 0 && s.first == s.one);
	split_same("second part has room", m.p, m.len, "nodes", split_member(m.p, 20), flags, 0,
		   m.len, 0, 1);
	opts.shape = 2;
	st_buf_reset(&m);
	CHECK(split_doc(&m, &opts) == 0);
	s = split_same("first part full", m.p, m.len, "nodes", split_member(m.p, 1500), flags, 0,
		       m.len / 8 + 64, 0, 0);
	CHECK(s.r == 0);
	split_same("first part has room", m.p, m.len, "nodes", split_member(m.p, 1500), flags, 0,
		   m.len, 0, 1);

	/* 8. Another key: no second thread, or one whose object ends before the guess. */
	s = split_same("key other", text, len, "other", mid, flags, 0, rsv, 0, 0);
	CHECK(s.second == 0);
	s = split_same("key node", text, len, "node", mid, flags, 0, rsv, 0, 0);
	CHECK(s.second == 0);
	split_same("key meta", text, len, "meta", mid, flags, 0, rsv, 0, 0);

	st_json_tape_release(&one);
	st_json_tape_release(&two);
	st_buf_release(&b);
	st_buf_release(&m);
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
	collapse();
	dump_like_jansson();
	filtered();
	parse_unique();
	parse_odd();
	{ /* A tape of over 8 MB moves to a big buffer (alloc.h) and stays usable. */
		size_t n = 400000, len = 2 * n + 1;
		char *text = malloc(len + 1);
		struct st_jerr e;

		CHECK(text != NULL);
		if (text) {
			text[0] = '[';
			for (size_t i = 0; i < n; i++) {
				text[1 + 2 * i] = (char)('0' + i % 10);
				text[2 + 2 * i] = i + 1 < n ? ',' : ']';
			}
			text[len] = '\0';
			CHECK(st_json_parse(text, len, &tape, &e) == 0);
			CHECK(tape.big && tape.n == n + 1 && tape.v[0].count == n);
			CHECK(tape.v[n].type == ST_J_NUM && tape.v[n].start == len - 2);
			free(text);
		}
		ok("{\"k\":[1,2]}");
		CHECK(tape.n == 4 && tape.v[1].count == 2);
	}
	st_json_tape_release(&tape);
	test_key_flood();
	split_parse();
	return t_done();
}
