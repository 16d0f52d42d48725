/* Unit tests for the subset JSON Schema validator and its did-you-mean hints. */
#include "harness.h"
#include "jschema.h"
#include "ydoc.h"

#include <stdio.h>
#include <string.h>

static const char schema[] =
	"{\"type\": \"object\", \"additionalProperties\": false, \"required\": [\"name\"],"
	" \"properties\": {"
	"  \"name\": {\"type\": \"string\", \"pattern\": \"^[a-z]+\\\\.[a-z]+$\","
	"            \"title\": \"namespace.name\"},"
	"  \"version\": {\"type\": \"integer\", \"minimum\": 1},"
	"  \"pii\": {\"enum\": [\"none\", \"direct\"]},"
	"  \"tags\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}, \"uniqueItems\": true},"
	"  \"fields\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/definitions/f\"}}},"
	" \"definitions\": {\"f\": {\"type\": \"object\", \"required\": [\"name\", \"pii\"],"
	"   \"additionalProperties\": false,"
	"   \"properties\": {\"name\": {\"type\": \"string\"}, \"pii\": {\"enum\": [\"none\"]}}}}}";

static struct st_diags d;

/* Validates text against the test schema; returns the error count. */
static int run(struct catalog_jschema *s, const char *text)
{
	struct catalog_yparser p;
	struct catalog_ydoc *doc = NULL;
	struct st_error err = ST_ERROR_INIT;
	int n = -1;

	st_diags_release(&d);
	if (catalog_yparser_init(&p, "t.yaml", (const unsigned char *)text, strlen(text), &err))
		return -1;
	if (catalog_yparser_next(&p, &doc, &d, &err) == 1)
		n = catalog_jschema_validate(s, doc->root, "t.yaml", &d);
	catalog_ydoc_free(doc);
	catalog_yparser_release(&p);
	return n;
}

/* The descriptor schema's name and path patterns, matched by hand (p), and the same patterns
 * written so that the validator leaves them to regexec() (r). */
#define W "[A-Za-z0-9_-]"
static const char words_schema[] =
	"{\"type\": \"object\", \"properties\": {"
	"\"p1\": {\"pattern\": \"^" W "+$\"}, \"r1\": {\"pattern\": \"^" W "{1,}$\"},"
	"\"p2\": {\"pattern\": \"^" W "+\\\\." W "+$\"},"
	"\"r2\": {\"pattern\": \"^" W "{1,}\\\\." W "{1,}$\"},"
	"\"p3\": {\"pattern\": \"^" W "+\\\\." W "+(\\\\." W "+)*$\"},"
	"\"r3\": {\"pattern\": \"^" W "{1,}\\\\." W "{1,}(\\\\." W "{1,})*$\"},"
	"\"p4\": {\"pattern\": \"^" W "+\\\\." W "+(\\\\." W "+)+$\"},"
	"\"r4\": {\"pattern\": \"^" W "{1,}\\\\." W "{1,}(\\\\." W "{1,}){1,}$\"}}}";

/* Every string of up to 6 characters over a small alphabet (word bytes, dots and others)
 * gets the same verdict from the hand matcher as from the regex. Returns the mismatches. */
static int words_differential(void)
{
	static const char alphabet[] = "aZ0_-./ ";
	struct catalog_jschema *w = NULL;
	struct st_error err = ST_ERROR_INIT;
	int bad = 0;
	size_t k = sizeof(alphabet) - 1;

	if (catalog_jschema_load(&w, words_schema, strlen(words_schema), &err))
		return -1;
	for (size_t len = 0; len <= 6; len++) {
		size_t total = 1;

		for (size_t i = 0; i < len; i++)
			total *= len > 4 ? 4 : k; /* longer strings: a-Z-.-/ only */
		for (size_t code = 0; code < total; code++) {
			char v[8], doc[256];
			size_t c = code, base = len > 4 ? 4 : k;
			int errs[5] = {0};

			for (size_t i = 0; i < len; i++, c /= base)
				v[i] = len > 4 ? "a-./"[c % base] : alphabet[c % base];
			v[len] = '\0';
			for (int p = 1; p <= 4; p++) {
				snprintf(doc, sizeof(doc), "p%d: \"%s\"\n", p, v);
				int np = run(w, doc);
				snprintf(doc, sizeof(doc), "r%d: \"%s\"\n", p, v);
				errs[p] = np != run(w, doc);
			}
			for (int p = 1; p <= 4; p++)
				if (errs[p] && bad++ < 5)
					printf("# pattern %d disagrees on '%s'\n", p, v);
		}
	}
	catalog_jschema_free(w);
	return bad;
}

int main(void)
{
	struct catalog_jschema *s = NULL;
	struct st_error err = ST_ERROR_INIT;
	const char *const words[] = {"description", "domain", "owner"};

	st_diags_init(&d, 0);
	CHECK(catalog_jschema_load(&s, schema, strlen(schema), &err) == 0);
	CHECK(run(s, "name: a.b\nversion: 2\ntags: [x, y]\n") == 0);

	CHECK(run(s, "name: a.b\nnmae: x\n") == 1);
	CHECK_STR(d.v[0].msg, "unknown key 'nmae' (did you mean 'name'?)");
	CHECK(d.v[0].line == 2 && d.v[0].col == 1);

	CHECK(run(s, "version: 0\n") == 2);
	CHECK_STR(d.v[0].msg, "'version' must be at least 1");
	CHECK_STR(d.v[1].msg, "missing required key 'name'");

	CHECK(run(s, "name: ab\n") == 1);
	CHECK_STR(d.v[0].msg, "invalid name 'ab' (expected namespace.name)");

	CHECK(run(s, "name: a.b\nversion: two\n") == 1);
	CHECK_STR(d.v[0].msg, "'version' must be an integer");

	CHECK(run(s, "name: a.b\npii: drect\n") == 1);
	CHECK_STR(d.v[0].msg, "unknown pii 'drect' (did you mean 'direct'?)");
	CHECK(run(s, "name: a.b\npii: zzzzzz\n") == 1);
	CHECK_STR(d.v[0].msg, "unknown pii 'zzzzzz' (expected one of: none, direct)");

	CHECK(run(s, "name: a.b\ntags: [x, x]\n") == 1);
	CHECK_STR(d.v[0].msg, "'tags' lists 'x' twice");
	CHECK(run(s, "name: a.b\ntags: x\n") == 1);
	CHECK_STR(d.v[0].msg, "'tags' must be a list");

	CHECK(run(s, "name: a.b\nfields:\n  - {name: id}\n") == 1);
	CHECK_STR(d.v[0].msg, "'id' is missing required key 'pii'");
	CHECK(d.v[0].line == 3 && d.v[0].col == 5);

	catalog_jschema_free(s);
	s = NULL;
	CHECK(catalog_jschema_load(&s, "{\"oneOf\": []}", 13, &err) == -1);
	CHECK_STR(err.msg, "schema keyword 'oneOf' is not supported");
	CHECK(catalog_jschema_load(&s, "{", 1, &err) == -1);

	CHECK(words_differential() == 0);

	CHECK_STR(catalog_suggest("ownr", words, 3), "owner");
	CHECK(catalog_suggest("zzzzzzz", words, 3) == NULL);
	st_diags_release(&d);
	return t_done();
}
