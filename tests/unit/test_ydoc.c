/* Unit tests for the YAML composer: locations, multi-documents, aliases, merge keys,
 * duplicate keys, expansion and depth limits, scalar kinds and the UTF-8 check. */
#include "alloc.h"
#include "harness.h"
#include "ydoc.h"
#include "utf8.h"

#include <stdio.h>
#include <string.h>

/* Parses text; returns the number of documents, or -1 with err filled. */
static int parse(const char *text, struct catalog_ydoc **docs, int max, struct st_diags *d,
		 struct st_error *err)
{
	struct catalog_yparser p;
	int n = 0, r;

	if (catalog_yparser_init(&p, "t.yaml", (const unsigned char *)text, strlen(text), err))
		return -1;
	while (n < max && (r = catalog_yparser_next(&p, &docs[n], d, err)) == 1)
		n++;
	catalog_yparser_release(&p);
	return r < 0 ? -1 : n;
}

static void free_docs(struct catalog_ydoc **docs, int n)
{
	for (int i = 0; i < n; i++)
		catalog_ydoc_free(docs[i]);
}

static void test_locations(void)
{
	struct catalog_ydoc *docs[4];
	struct st_error err = ST_ERROR_INIT;
	struct st_diags d;
	const struct catalog_ynode *n;
	int k;

	st_diags_init(&d, 0);
	k = parse("# c\nkind: table\nname: a.b\n---\nkind: term\n  \nname:   x.y\n", docs, 4, &d,
		  &err);
	CHECK(k == 2);
	n = catalog_ymap_get(docs[0]->root, "name");
	CHECK(n && n->line == 3 && n->col == 7);
	CHECK_STR(n ? n->value : NULL, "a.b");
	n = catalog_ymap_get(docs[1]->root, "name");
	CHECK(n && n->line == 7 && n->col == 9);
	CHECK(d.n == 0);
	free_docs(docs, k);
	st_diags_release(&d);
}

static void test_aliases_and_merge(void)
{
	struct catalog_ydoc *docs[1];
	struct st_error err = ST_ERROR_INIT;
	struct st_diags d;
	const struct catalog_ynode *root, *b;
	int k;

	st_diags_init(&d, 0);
	k = parse("base: &b {type: string, pii: none}\n"
		  "a: *b\n"
		  "c:\n  <<: *b\n  pii: direct\n  name: x\n",
		  docs, 1, &d, &err);
	CHECK(k == 1);
	root = docs[0]->root;
	CHECK(catalog_ymap_get(root, "a") == catalog_ymap_get(root, "base"));
	b = catalog_ymap_get(root, "c");
	CHECK_STR(catalog_ymap_get(b, "pii")->value, "direct"); /* explicit keys win */
	CHECK_STR(catalog_ymap_get(b, "type")->value, "string");
	CHECK(catalog_ymap_get(b, "<<") == NULL);
	CHECK(b->n == 3);
	CHECK(d.n == 0);
	free_docs(docs, k);
	st_diags_release(&d);
}

static void test_duplicate_keys(void)
{
	struct catalog_ydoc *docs[1];
	struct st_error err = ST_ERROR_INIT;
	struct st_diags d;
	int k;

	st_diags_init(&d, 0);
	k = parse("a: 1\nb: 2\na: 3\n", docs, 1, &d, &err);
	CHECK(k == 1);
	CHECK(d.nerrors == 1);
	CHECK(d.n == 1 && d.v[0].line == 3 && d.v[0].col == 1);
	CHECK_STR(d.n ? d.v[0].msg : NULL, "duplicate key 'a' (first at line 1)");
	free_docs(docs, k);
	st_diags_release(&d);
}

static void test_billion_laughs(void)
{
	struct catalog_ydoc *docs[1];
	struct st_error err = ST_ERROR_INIT;
	struct st_diags d;
	char text[2048];
	size_t off = 0;

	off += (size_t)snprintf(text + off, sizeof(text) - off, "a0: &a0 [lol, lol]\n");
	for (int i = 1; i < 30; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"a%d: &a%d [*a%d, *a%d, *a%d, *a%d]\n", i, i, i - 1, i - 1,
					i - 1, i - 1);
	st_diags_init(&d, 0);
	CHECK(parse(text, docs, 1, &d, &err) == -1);
	CHECK_HAS(err.msg, "alias expansion exceeds 100000 nodes");
	CHECK(err.line == 9 && err.col == 5); /* 2 * 4^8 > 100000 at a8 */
	st_diags_release(&d);
}

static void test_depth(void)
{
	struct catalog_ydoc *docs[1];
	struct st_error err = ST_ERROR_INIT;
	struct st_diags d;
	char text[512];

	memset(text, '[', 100);
	memset(text + 100, ']', 100);
	text[200] = '\0';
	st_diags_init(&d, 0);
	CHECK(parse(text, docs, 1, &d, &err) == -1);
	CHECK_HAS(err.msg, "nesting deeper than 64 levels");
	CHECK(err.line == 1 && err.col == 65);
	st_diags_release(&d);
}

static void test_errors(void)
{
	struct catalog_ydoc *docs[2];
	struct st_error err = ST_ERROR_INIT;
	struct st_diags d;

	st_diags_init(&d, 0);
	CHECK(parse("a: [1, 2\nb: 3\n", docs, 2, &d, &err) == -1);
	CHECK_HAS(err.msg, "invalid YAML");
	CHECK_STR(err.file, "t.yaml");
	CHECK(err.line >= 1);
	CHECK(parse("a: *nope\n", docs, 2, &d, &err) == -1);
	CHECK_STR(err.msg, "unknown alias '*nope'");
	CHECK(err.line == 1 && err.col == 4);
	st_diags_release(&d);
}

static void test_scalars(void)
{
	struct catalog_ydoc *docs[1];
	struct st_error err = ST_ERROR_INIT;
	struct st_diags d;
	const struct catalog_ynode *r;
	int b = -1, k;

	st_diags_init(&d, 0);
	k = parse("i: 12\nf: -1.5e3\nn: ~\ne:\nt: yes\ns: '12'\nw: 12ab\nx: !!str 5\n", docs, 1, &d,
		  &err);
	CHECK(k == 1);
	r = docs[0]->root;
	CHECK(catalog_yscalar_kind(catalog_ymap_get(r, "i")) == CATALOG_YS_INT);
	CHECK(catalog_yscalar_kind(catalog_ymap_get(r, "f")) == CATALOG_YS_FLOAT);
	CHECK(catalog_yscalar_kind(catalog_ymap_get(r, "n")) == CATALOG_YS_NULL);
	CHECK(catalog_yscalar_kind(catalog_ymap_get(r, "e")) == CATALOG_YS_NULL);
	CHECK(catalog_yscalar_kind(catalog_ymap_get(r, "t")) == CATALOG_YS_BOOL);
	CHECK(catalog_yscalar_bool(catalog_ymap_get(r, "t"), &b) == 0 && b == 1);
	CHECK(catalog_yscalar_kind(catalog_ymap_get(r, "s")) == CATALOG_YS_STR);
	CHECK(catalog_yscalar_kind(catalog_ymap_get(r, "w")) == CATALOG_YS_STR);
	CHECK(catalog_yscalar_kind(catalog_ymap_get(r, "x")) == CATALOG_YS_STR);
	free_docs(docs, k);
	st_diags_release(&d);
}

/* Every null and boolean word of YAML 1.1, and words of the same lengths and first letters
 * that are strings. */
static void test_scalar_words(void)
{
	static const struct {
		const char *text;
		int kind;
	} w[] = {
		{"~", CATALOG_YS_NULL},	 {"null", CATALOG_YS_NULL},  {"Null", CATALOG_YS_NULL},
		{"NULL", CATALOG_YS_NULL}, {"true", CATALOG_YS_BOOL},  {"True", CATALOG_YS_BOOL},
		{"TRUE", CATALOG_YS_BOOL}, {"false", CATALOG_YS_BOOL}, {"False", CATALOG_YS_BOOL},
		{"FALSE", CATALOG_YS_BOOL}, {"yes", CATALOG_YS_BOOL},  {"Yes", CATALOG_YS_BOOL},
		{"YES", CATALOG_YS_BOOL},  {"no", CATALOG_YS_BOOL},   {"No", CATALOG_YS_BOOL},
		{"NO", CATALOG_YS_BOOL},   {"on", CATALOG_YS_BOOL},   {"On", CATALOG_YS_BOOL},
		{"ON", CATALOG_YS_BOOL},   {"off", CATALOG_YS_BOOL},  {"Off", CATALOG_YS_BOOL},
		{"OFF", CATALOG_YS_BOOL},  {"none", CATALOG_YS_STR},  {"name", CATALOG_YS_STR},
		{"nul", CATALOG_YS_STR},   {"nulls", CATALOG_YS_STR}, {"tRue", CATALOG_YS_STR},
		{"fals", CATALOG_YS_STR},  {"falsey", CATALOG_YS_STR}, {"ye", CATALOG_YS_STR},
		{"n", CATALOG_YS_STR},     {"o", CATALOG_YS_STR},     {"oN", CATALOG_YS_STR},
		{"offf", CATALOG_YS_STR},  {"type", CATALOG_YS_STR},  {"~~", CATALOG_YS_STR},
	};

	for (size_t i = 0; i < sizeof(w) / sizeof(*w); i++) {
		struct catalog_ydoc *docs[1];
		struct st_error err = ST_ERROR_INIT;
		struct st_diags d;
		char text[64];
		int k;

		st_diags_init(&d, 0);
		snprintf(text, sizeof(text), "v: %s\n", w[i].text);
		k = parse(text, docs, 1, &d, &err);
		CHECK(k == 1);
		if (k == 1) {
			CHECK(catalog_yscalar_kind(catalog_ymap_get(docs[0]->root, "v")) ==
			      w[i].kind);
			free_docs(docs, k);
		}
		st_diags_release(&d);
	}
}

static void test_utf8(void)
{
	unsigned line = 0, col = 0;
	const unsigned char good[] = "ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n";
	const unsigned char overlong[] = "a\n\xc0\xaf";
	const unsigned char surrogate[] = "ab\xed\xa0\x80";
	const unsigned char truncated[] = "\xe2\x82";
	const unsigned char too_big[] = "\xf4\x90\x80\x80";
	const unsigned char stray[] = "x\n\ny\x80";

	CHECK(st_utf8_check(good, sizeof(good) - 1, &line, &col) == 0);
	CHECK(st_utf8_check(overlong, sizeof(overlong) - 1, &line, &col) == -1 && line == 2 &&
	      col == 1);
	CHECK(st_utf8_check(surrogate, sizeof(surrogate) - 1, &line, &col) == -1 && col == 3);
	CHECK(st_utf8_check(truncated, sizeof(truncated) - 1, &line, &col) == -1);
	CHECK(st_utf8_check(too_big, sizeof(too_big) - 1, &line, &col) == -1);
	CHECK(st_utf8_check(stray, sizeof(stray) - 1, &line, &col) == -1 && line == 3 &&
	      col == 2);
}

int main(void)
{
	test_locations();
	test_aliases_and_merge();
	test_duplicate_keys();
	test_billion_laughs();
	test_depth();
	test_errors();
	test_scalars();
	test_scalar_words();
	test_utf8();
	return t_done();
}
