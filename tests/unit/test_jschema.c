/* Unit tests for the subset JSON Schema validator and its did-you-mean hints. */
#include "harness.h"
#include "jschema.h"
#include "json.h"
#include "ydoc.h"

#include <jansson.h>
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

/* Two documents in the layout of the OpenLineage spec: the event schema, whose root is a
 * oneOf, and a facet file that refers back into it by URL. */
static const char ev_schema[] =
	"{\"$id\": \"https://x.example/spec/1-0-0/Ev.json\","
	" \"$defs\": {"
	"  \"Base\": {\"type\": \"object\", \"required\": [\"time\", \"producer\"],"
	"   \"properties\": {\"time\": {\"type\": \"string\", \"format\": \"date-time\"},"
	"    \"producer\": {\"type\": \"string\", \"format\": \"uri\"}}},"
	"  \"Run\": {\"allOf\": [{\"$ref\": \"#/$defs/Base\"}, {\"type\": \"object\","
	"   \"required\": [\"run\"], \"properties\": {"
	"    \"kind\": {\"enum\": [\"START\", \"COMPLETE\"]},"
	"    \"run\": {\"type\": \"object\", \"required\": [\"id\"],"
	"     \"properties\": {\"id\": {\"type\": \"string\", \"format\": \"uuid\"}}},"
	"    \"facets\": {\"type\": \"object\","
	"     \"additionalProperties\": {\"$ref\": \"#/$defs/Facet\"}}}}]},"
	"  \"Static\": {\"allOf\": [{\"$ref\": \"#/$defs/Base\"}, {\"type\": \"object\","
	"   \"required\": [\"dataset\"], \"not\": {\"required\": [\"run\"]}}]},"
	"  \"Facet\": {\"type\": \"object\", \"required\": [\"_producer\"],"
	"   \"properties\": {\"_producer\": {\"type\": \"string\", \"format\": \"uri\"}}}},"
	" \"oneOf\": [{\"$ref\": \"#/$defs/Run\"}, {\"$ref\": \"#/$defs/Static\"}]}";
static const char facet_schema[] =
	"{\"$defs\": {\"F\": {\"allOf\": [{\"$ref\": \"https://x.example/spec/1-0-0/Ev.json#/$defs/Facet\"},"
	"  {\"type\": \"object\", \"properties\": {\"_producer\": {}, \"mode\": {\"const\": \"binary\"},"
	"   \"n\": {\"type\": \"integer\", \"minimum\": 1}},"
	"   \"dependentRequired\": {\"a\": [\"b\"]}, \"additionalProperties\": false}]}},"
	" \"properties\": {\"f\": {\"$ref\": \"#/$defs/F\"}}}";

/* Checks JSON text against a compiled node (at path at, when not NULL); returns 0 valid,
 * 1 with why set, -1 bad JSON. */
static int jrun_at(const struct catalog_jschema_node *n, const char *text, const char *at,
		   char *why)
{
	struct st_jtape t = {0};
	struct st_jerr e;
	int r = -1;

	why[0] = '\0';
	if (!st_json_parse(text, strlen(text), &t, &e))
		r = at ? catalog_jschema_check_at(n, text, &t, 0, at, why, 600)
		       : catalog_jschema_check(n, text, &t, 0, why, 600);
	st_json_tape_release(&t);
	return r;
}

static int jrun(const struct catalog_jschema_node *n, const char *text, char *why)
{
	return jrun_at(n, text, NULL, why);
}

#define EV_OK "\"time\": \"2020-12-28T19:51:01.641Z\", \"producer\": \"https://p.example/x\""
#define RUN_OK "\"run\": {\"id\": \"ea041791-68bc-4ae1-bd89-4c8106a157e4\"}"

static void json_tests(void)
{
	struct catalog_jschema *s = NULL;
	const struct catalog_jschema_node *ev = NULL, *facet = NULL;
	struct st_error err = ST_ERROR_INIT;
	char why[600];

	CHECK(catalog_jschema_load(&s, ev_schema, strlen(ev_schema), &err) == 0);
	CHECK(catalog_jschema_add(s, "Facet.json", facet_schema, strlen(facet_schema), &err) == 0);
	CHECK(catalog_jschema_compile(s, "#", &ev, &err) == 0);
	CHECK(catalog_jschema_compile(s, "Facet.json#/properties/f", &facet, &err) == 0);
	CHECK(catalog_jschema_compile(s, "Facet.json#/nowhere", &facet, &err) == -1);
	CHECK_STR(err.msg, "schema reference 'Facet.json#/nowhere' does not resolve");
	CHECK(catalog_jschema_compile(s, "Facet.json#/properties/f", &facet, &err) == 0);

	CHECK(jrun(ev, "{" EV_OK ", " RUN_OK ", \"kind\": \"START\"}", why) == 0);
	CHECK(jrun(ev, "{" EV_OK ", \"dataset\": {}}", why) == 0);
	/* oneOf: the problem of the branch that got deepest. */
	CHECK(jrun(ev, "{\"producer\": \"https://p.example/x\", " RUN_OK "}", why) == 1);
	CHECK_STR(why, "missing required key 'time'");
	CHECK(jrun(ev, "{" EV_OK ", " RUN_OK ", \"kind\": \"FINISH\"}", why) == 1);
	CHECK_STR(why, "'kind' is 'FINISH', not one of START, COMPLETE");
	CHECK(jrun(ev, "{" EV_OK ", " RUN_OK ", \"kind\": \"STRAT\"}", why) == 1);
	CHECK_STR(why, "'kind' is 'STRAT' (did you mean 'START'?)");
	CHECK(jrun(ev, "{\"time\": \"2020-02-30T00:00:00Z\", \"producer\": \"x\", " RUN_OK "}",
		   why) == 1);
	CHECK_STR(why, "'time' must be an RFC 3339 date-time, not '2020-02-30T00:00:00Z'");
	CHECK(jrun(ev, "{\"time\": \"2020-02-29T23:59:60.5+05:30\", \"producer\": \"not a uri\", "
		   RUN_OK "}", why) == 1);
	CHECK_STR(why, "'producer' must be a URI, not 'not a uri'");
	CHECK(jrun(ev, "{" EV_OK ", \"run\": {\"id\": \"42\"}}", why) == 1);
	CHECK_STR(why, "'run.id' must be a UUID, not '42'");
	CHECK(jrun(ev, "{" EV_OK ", \"run\": {}}", why) == 1);
	CHECK_STR(why, "'run' is missing required key 'id'");
	CHECK(jrun(ev, "{" EV_OK ", " RUN_OK ", \"facets\": {\"x\": {\"_producer\": 7}}}", why) == 1);
	CHECK_STR(why, "'facets.x._producer' must be a string");
	CHECK(jrun(ev, "[]", why) == 1);
	CHECK_STR(why, "the document must be an object");
	/* not: a static event must not have a run; then neither branch matches. */
	CHECK(jrun(ev, "{" EV_OK ", \"dataset\": {}, \"run\": {}}", why) == 1);
	CHECK_STR(why, "'run' is missing required key 'id'");

	/* A facet file: $ref back into the event schema by URL, const, minimum,
	 * dependentRequired, additionalProperties false; paths start where the facet is. */
	CHECK(jrun(facet, "{\"_producer\": \"urn:x\", \"mode\": \"binary\", \"n\": 2}", why) == 0);
	CHECK(jrun(facet, "{\"mode\": \"binary\"}", why) == 1);
	CHECK_STR(why, "missing required key '_producer'");
	CHECK(jrun(facet, "{\"_producer\": \"urn:x\", \"mode\": \"text\"}", why) == 1);
	CHECK_STR(why, "'mode' must be 'binary'");
	CHECK(jrun(facet, "{\"_producer\": \"urn:x\", \"n\": 0}", why) == 1);
	CHECK_STR(why, "'n' must be at least 1");
	CHECK(jrun(facet, "{\"_producer\": \"urn:x\", \"a\": 1}", why) == 1);
	CHECK_STR(why, "the document has 'a' but not 'b'");
	CHECK(jrun(facet, "{\"_producer\": \"urn:x\", \"zz\": 1}", why) == 1);
	CHECK_STR(why, "unknown key 'zz'");
	CHECK(jrun_at(facet, "{\"_producer\": \"http://a b\"}", "outputs[0].facets.f", why) == 1);
	CHECK_STR(why, "'outputs[0].facets.f._producer' must be a URI, not 'http://a b'");
	/* Escaped keys and values read as their text: paths and messages show them unescaped,
	 * and a key escaped in the document still names its property. */
	CHECK(jrun(facet, "{\"_pro\\u0064ucer\": \"urn:x\", \"m\\u00f6de\": 1}", why) == 1);
	CHECK_STR(why, "unknown key 'm\xc3\xb6" "de'");
	CHECK(jrun(facet, "{\"_producer\": \"urn:x\", \"mode\": \"bin\\u0061ry\"}", why) == 0);
	CHECK(jrun(facet, "{\"_producer\": \"a\\tb\"}", why) == 1);
	CHECK_STR(why, "'_producer' must be a URI, not 'a\tb'");
	CHECK(jrun(ev, "{" EV_OK ", " RUN_OK ", \"facets\": {\"\\\"q\\\"\": {\"_producer\": 7}}}",
		   why) == 1);
	CHECK_STR(why, "'facets.\"q\"._producer' must be a string");
	/* Numbers as jansson reads them: 2 and 2.0 are both integers for "type", and 2.5 is
	 * not; minimum compares values. */
	CHECK(jrun(facet, "{\"_producer\": \"urn:x\", \"n\": 2.0}", why) == 0);
	CHECK(jrun(facet, "{\"_producer\": \"urn:x\", \"n\": 2.5}", why) == 1);
	CHECK_STR(why, "'n' must be an integer");
	CHECK(jrun(facet, "{\"_producer\": \"urn:x\", \"n\": 5e-1}", why) == 1);
	CHECK_STR(why, "'n' must be an integer");
	CHECK(jrun(facet, "{\"_producer\": \"urn:x\", \"n\": -1}", why) == 1);
	CHECK_STR(why, "'n' must be at least 1");
	/* A long value is cut at 60 bytes in messages. */
	CHECK(jrun(facet, "{\"_producer\": \"urn:x\", \"mode\": \"0123456789012345678901234567"
		   "8901234567890123456789012345678901234567\"}", why) == 1);
	CHECK_STR(why, "'mode' must be 'binary'");
	CHECK(jrun(ev, "{" EV_OK ", " RUN_OK ", \"kind\": \"0123456789012345678901234567"
		   "8901234567890123456789012345678901234567\"}", why) == 1);
	CHECK_STR(why, "'kind' is '012345678901234567890123456789012345678901234567890123456789...',"
		  " not one of START, COMPLETE");
	catalog_jschema_free(s);
}

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

/* The links validation follows (made when the schema loads): type lists and unknown type
 * names, additionalProperties as a schema behind a $ref, a schema that is not an object
 * (accepts anything), a $ref that leads nowhere (checks nothing), an enum with repeated and
 * non-string entries, and a schema added after the first, which links everything again. */
static const char links_schema[] =
	"{\"type\": \"object\", \"properties\": {"
	"  \"n\": {\"type\": [\"integer\", \"null\"]},"
	"  \"s\": {\"type\": \"string\"},"
	"  \"odd\": {\"type\": \"thing\"},"
	"  \"bad\": {\"type\": 5},"
	"  \"any\": {\"type\": \"array\", \"items\": true},"
	"  \"gone\": {\"$ref\": \"#/definitions/missing\"},"
	"  \"e\": {\"enum\": [\"a\", 1, \"a\", \"b\"]},"
	"  \"m\": {\"type\": \"object\", \"additionalProperties\": {\"$ref\": \"#/definitions/pos\"}}},"
	" \"definitions\": {\"pos\": {\"type\": \"integer\", \"minimum\": 1}}}";

static void links_tests(void)
{
	struct catalog_jschema *s = NULL;
	struct st_error err = ST_ERROR_INIT;

	CHECK(catalog_jschema_load(&s, links_schema, strlen(links_schema), &err) == 0);
	CHECK(run(s, "n: 3\ns: 4\nany: [1, {x: y}]\ngone: {x: 1}\ne: b\nm: {a: 1, b: 2}\n") == 0);
	CHECK(run(s, "n: ~\ns: true\n") == 0);
	CHECK(run(s, "n: x\n") == 1);
	CHECK_STR(d.v[0].msg, "'n' has the wrong type");
	CHECK(run(s, "s: ~\n") == 1);
	CHECK_STR(d.v[0].msg, "'s' must be a string");
	CHECK(run(s, "odd: x\n") == 1);
	CHECK_STR(d.v[0].msg, "'odd' must be a string");
	CHECK(run(s, "bad: x\n") == 1);
	CHECK_STR(d.v[0].msg, "'bad' has the wrong type");
	CHECK(run(s, "e: c\n") == 1);
	CHECK_STR(d.v[0].msg, "unknown e 'c' (did you mean 'a'?)");
	CHECK(run(s, "e: \"a\\0b\"\n") == 0); /* compared up to the NUL, as strcmp() did */
	CHECK(run(s, "m: {a: 0, b: x}\n") == 2);
	CHECK_STR(d.v[0].msg, "'a' must be at least 1");
	CHECK_STR(d.v[1].msg, "'b' must be an integer");
	CHECK(catalog_jschema_add(s, "other.json", "{\"type\": \"object\"}", 18, &err) == 0);
	CHECK(run(s, "m: {a: 0}\n") == 1);
	CHECK_STR(d.v[0].msg, "'a' must be at least 1");
	catalog_jschema_free(s);
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
	CHECK(catalog_jschema_load(&s, "{\"if\": true}", 12, &err) == -1);
	CHECK_STR(err.msg, "schema keyword 'if' is not supported");
	CHECK(catalog_jschema_load(&s, "{", 1, &err) == -1);

	json_tests();
	links_tests();
	CHECK(words_differential() == 0);

	CHECK_STR(catalog_suggest("ownr", words, 3), "owner");
	CHECK(catalog_suggest("zzzzzzz", words, 3) == NULL);
	st_diags_release(&d);
	return t_done();
}
