/* Unit tests for the embedded taxonomy: it matches the descriptor schema's category enum
 * key for key, and deprecated categories produce a warning naming their replacement. */
#include "catalog_int.h"
#include "embedded.h"
#include "harness.h"

#include <jansson.h>
#include <string.h>

static void test_schema_matches_taxonomy(void)
{
	struct catalog_taxonomy *t = NULL;
	struct st_error err = ST_ERROR_INIT;
	json_t *schema, *en;
	size_t i, missing = 0;
	json_t *v;

	CHECK(catalog_taxonomy_load(&t, &err) == 0);
	schema = json_loadb((const char *)st_embed_descriptor_schema,
			    st_embed_descriptor_schema_len, 0, NULL);
	en = json_object_get(json_object_get(json_object_get(schema, "definitions"), "category"),
			     "enum");
	CHECK(json_is_array(en));
	CHECK(catalog_taxonomy_count(t) == 85);
	CHECK(json_array_size(en) == catalog_taxonomy_count(t));
	json_array_foreach(en, i, v)
	{
		if (!catalog_taxonomy_find(t, json_string_value(v))) {
			missing++;
			printf("# schema category '%s' is not in the taxonomy\n", json_string_value(v));
		}
	}
	CHECK(missing == 0);
	CHECK_STR(catalog_taxonomy_find(t, "user.contact.email")->name, "User Contact Email");
	CHECK_STR(catalog_taxonomy_find(t, "user.contact.email")->parent, "user.contact");
	CHECK(catalog_taxonomy_find(t, "user.contact.emai") == NULL);
	json_decref(schema);
	catalog_taxonomy_free(t);
}

static void test_deprecation(void)
{
	static const char text[] =
		"data_category:\n"
		"- fides_key: user.old\n  name: Old\n  version_deprecated: 2.1.0\n"
		"  replaced_by: user.new\n  parent_key: user\n"
		"- fides_key: user.new\n  name: New\n  version_deprecated: null\n  parent_key: user\n"
		"- fides_key: user.gone\n  name: Gone\n  version_deprecated: 2.2.0\n";
	struct catalog_taxonomy *t = NULL;
	struct st_error err = ST_ERROR_INIT;
	char msg[256];

	CHECK(catalog_taxonomy_parse(&t, (const unsigned char *)text, sizeof(text) - 1, &err) == 0);
	CHECK(catalog_category_deprecation(t, "user.new", msg, sizeof(msg)) == 0);
	CHECK(catalog_category_deprecation(t, "user.old", msg, sizeof(msg)) == 1);
	CHECK_STR(msg, "category 'user.old' is deprecated since 2.1.0; use 'user.new'");
	CHECK(catalog_category_deprecation(t, "user.gone", msg, sizeof(msg)) == 1);
	CHECK_STR(msg, "category 'user.gone' is deprecated since 2.2.0");
	catalog_taxonomy_free(t);
	t = NULL;
	CHECK(catalog_taxonomy_parse(&t, (const unsigned char *)"x: 1\n", 5, &err) == -1);
	CHECK_STR(err.msg, "taxonomy is malformed");
}

int main(void)
{
	test_schema_matches_taxonomy();
	test_deprecation();
	return t_done();
}
