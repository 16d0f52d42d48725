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
	return t_done();
}
