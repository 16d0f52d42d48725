/* Unit tests for the subset JSON Schema validator and its did-you-mean hints. */
#include "harness.h"
#include "jschema.h"
#include "ydoc.h"

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

	CHECK_STR(catalog_suggest("ownr", words, 3), "owner");
	CHECK(catalog_suggest("zzzzzzz", words, 3) == NULL);
	st_diags_release(&d);
	return t_done();
}
