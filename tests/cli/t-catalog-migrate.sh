#!/bin/sh
# A catalog at schema version 3, whose dbt column tags and meta were rows of field_props, is
# migrated when it is opened: the values move to the columns tags and meta of their fields,
# the card shows the same, field_props is gone, and an unchanged manifest is not read again.
. "$(dirname "$0")/lib.sh"
require sqlite3
require jq

DB=$WS/.steward/catalog.db
init_ws
expect_exit 0 steward catalog load "$FIXTURES/dbt/v4/manifest.json"
expect_equal 4 "$(sqlite3 "$DB" 'PRAGMA user_version')" 'a new catalog is at version 4'
expect_equal "$CATALOG_SCHEMA" 4 'the test knows the current version'
# card NAME: the path, tags and meta of each field on NAME's card, in $CARD.
card() {
	expect_exit 0 steward show "$1" --json
	CARD=$(jq -c '[.fields[] | [.path, .tags, .meta]]' "$OUT")
}
card warehouse-analytics.stg_customers
before_stg=$CARD
card warehouse-analytics.customers
before_cus=$CARD
expect_equal '[["customer_id",null,null],["email",["pii:direct","pii-category:user.contact.email","pii-normalize:email"],null],["full_name",null,{"category":"user.name","pii":"direct"}]]' \
	"$before_stg" 'column tags and meta on the card'

# Back to the layout of version 3, as an older steward left it: field_props as the step to
# version 2 makes it.
{ sed -n '/^CREATE TABLE field_props/,/WITHOUT ROWID;$/p' "$STEWARD_SRC/schemas/catalog-v2-dbt.sql"
	cat <<'SQL'
INSERT INTO field_props SELECT dataset_id, path, 'tags', tags FROM fields WHERE tags IS NOT NULL;
INSERT INTO field_props SELECT dataset_id, path, 'meta', meta FROM fields WHERE meta IS NOT NULL;
ALTER TABLE fields DROP COLUMN tags;
ALTER TABLE fields DROP COLUMN meta;
PRAGMA user_version = 3;
SQL
} | sqlite3 "$DB" || fail 'make a version 3 catalog'
expect_equal 7 "$(sqlite3 "$DB" 'SELECT count(*) FROM field_props')" 'version 3: seven field properties'

card warehouse-analytics.stg_customers
expect_equal "$before_stg" "$CARD" 'the same tags and meta after the migration'
card warehouse-analytics.customers
expect_equal "$before_cus" "$CARD" 'the same meta of another dataset'
expect_equal 4 "$(sqlite3 "$DB" 'PRAGMA user_version')" 'migrated to version 4'
expect_equal 0 "$(sqlite3 "$DB" "SELECT count(*) FROM sqlite_schema WHERE name = 'field_props'")" 'field_props is gone'
expect_equal 7 "$(sqlite3 "$DB" 'SELECT count(tags) + count(meta) FROM fields')" 'seven values on the fields'
expect_exit 0 steward catalog load "$FIXTURES/dbt/v4/manifest.json"
expect_stdout_line 'loaded 1 file: 0 new, 0 changed, 1 unchanged, 0 removed; 0 documents read'
card warehouse-analytics.stg_customers
expect_equal "$before_stg" "$CARD" 'and after a load'
done_testing
