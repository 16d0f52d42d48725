#!/bin/sh
# A descriptor extends a dbt dataset (extends: <unique_id or name>) with a subject, erasure
# rules, tags and PII classes, without editing the dbt project; conflicts with the manifest
# or between extensions are errors at the descriptor's line; and a relationships test is a
# join key that erasure planning follows, end to end through a request run.
. "$(dirname "$0")/lib.sh"
require sqlite3 jq

DB=$WS/.steward/catalog.db
init_ws
cp -R "$FIXTURES/dbt" "$TMP/dbt"
cd "$TMP/dbt" || exit 99
q() { sqlite3 "$DB" "$1"; }

expect_exit 0 steward catalog load v4/manifest.json ext
expect_stdout_line 'loaded 2 files: 2 new, 0 changed, 0 unchanged, 0 removed; 2 documents read'
expect_exit 0 steward show model.shop.customers --json
expect_jq '[.subject, .erasure, .tags, .certified]' \
	'["customer_id",{"action":"delete","reason":"Customers ask to be forgotten"},["certified","marts","gdpr"],true]'
expect_jq '.fields[] | select(.path == "lifetime_value") | [.pii, .category, .pii_reason]' \
	'["indirect","user.financial","Spend identifies a customer with their orders"]'
expect_jq '.fields[] | select(.path == "email") | [.pii, .category, .transform]' '["direct","user.contact.email","hash"]'
expect_jq '.source.file' '"v4/manifest.json"'
# By name, on the seed-and-source dataset: a subject, and classes for two unknown columns.
expect_exit 0 steward show warehouse-raw.customers --json
expect_jq '[.subject, [.fields[] | [.path, .pii]]]' '["email",[["id","direct"],["email","direct"],["created_at","none"]]]'
expect_equal 3 "$(q "SELECT npii FROM datasets WHERE name = 'warehouse-analytics.customers'")" 'npii counts the classes the extension set'
expect_exit 0 steward search gdpr --pii
expect_stdout_contains 'warehouse-analytics.customers'

# Free text in an extension passes the scrubber, as a descriptor's does.
mkdir scrub
printf 'extends: model.shop.orders\ncolumns:\n  - {name: order_id, pii: none, pii_reason: ask ann@example.com why}\n' >scrub/x.yaml
expect_exit 0 steward catalog load v4/manifest.json ext scrub
expect_stderr_line 'scrub/x.yaml:3:45: warning: the pii_reason holds what looks like personal data (1 value); it is stored with it replaced'
expect_stderr_lacks 'ann@example.com'
expect_equal 'ask <email> why' "$(q "SELECT f.pii_reason FROM fields f JOIN datasets d ON d.id = f.dataset_id WHERE d.name = 'warehouse-analytics.orders' AND f.path = 'order_id'")" 'stored redacted'
expect_equal 0 "$(q "SELECT count(*) FROM dbt_extends WHERE value LIKE '%ann@%'")" 'not even in the stored extension'
rm scrub/x.yaml
expect_exit 0 steward catalog load v4/manifest.json ext scrub
expect_equal unknown "$(q "SELECT f.pii FROM fields f JOIN datasets d ON d.id = f.dataset_id WHERE d.name = 'warehouse-analytics.orders' AND f.path = 'order_id'")" 'the extension gone with its file'

# ---- conflicts ----
expect_exit 3 steward catalog load v4/manifest.json ext ext-conflict
expect_stderr_line "ext-conflict/customers.yaml:4:10: error: field 'email' of 'warehouse-analytics.customers': pii 'indirect' conflicts with 'direct' from the dbt manifest"
expect_stderr_line "ext-conflict/twice.yaml:9:15: error: field 'lifetime_value' of 'warehouse-analytics.customers': category 'user.financial.bank_account' conflicts with 'user.financial' set at ext-conflict/twice.yaml:4:15"
expect_stderr_line "ext-conflict/twice.yaml:11:10: error: field 'no_such_column' is not a column of dbt dataset 'warehouse-analytics.customers'"
expect_stderr_line "ext-conflict/twice.yaml:13:10: error: 'extends: model.shop.nothing' names no dbt unique_id or dataset loaded from a dbt manifest"
expect_stderr_line 'error: 4 errors found; the catalog was not changed'
expect_equal 'customer_id' "$(q "SELECT subject FROM datasets WHERE name = 'warehouse-analytics.customers'")" 'the catalog kept the last good load'

# ---- what an extension may say ----
mkdir bad
cat >bad/x.yaml <<'YAML'
extends: model.shop.orders
kind: table
subject: nope
erasure: {action: shred}
columns:
  - name: status
    pii: emial
    type: string
  - name: amount
    category: user.contact.phon
YAML
expect_exit 3 steward catalog load v4/manifest.json bad
expect_stderr_line "bad/x.yaml:2:1: error: 'kind' cannot be set by an extension; use description, owner, domain, retention, subject, tags, erasure or fields"
expect_stderr_line "bad/x.yaml:4:10: error: 'erasure' needs 'action: delete' or 'action: nullify'"
expect_stderr_line "bad/x.yaml:7:10: error: unknown pii class 'emial'"
expect_stderr_line "bad/x.yaml:8:5: error: 'type' cannot be set by an extension; use pii, category, transform, normalize, pii_reason or description"
expect_stderr_line "bad/x.yaml:10:15: error: unknown category 'user.contact.phon'"
expect_stderr_line "bad/x.yaml:1:10: error: subject 'nope' is not a field of 'warehouse-analytics.orders'"
# Without any manifest, an extension names nothing.
init_ws "$TMP/ws2"
expect_exit 3 "$STEWARD" --home "$TMP/ws2" catalog load ext
expect_stderr_line "ext/customers.yaml:3:10: error: 'extends: model.shop.customers' names no dbt unique_id or dataset loaded from a dbt manifest"

# ---- a relationships test as a join key for erasure ----
mkdir -p targets
sqlite3 targets/shop.db "CREATE TABLE customers(customer_id INTEGER, email TEXT, lifetime_value REAL);
  INSERT INTO customers VALUES (1, 'ann@example.com', 10), (2, 'bob@example.com', 20);
  CREATE TABLE orders(order_id INTEGER, customer_id INTEGER, status TEXT, amount REAL);
  INSERT INTO orders VALUES (10, 1, 'placed', 5), (11, 1, 'shipped', 5), (12, 2, 'placed', 7);"
write_config <<YAML
version: 1
targets:
  warehouse-analytics.customers: "sqlite:$TMP/dbt/targets/shop.db?table=customers"
  warehouse-analytics.orders: "sqlite:$TMP/dbt/targets/shop.db?table=orders"
YAML
expect_exit 0 steward key init
expect_exit 0 steward request new erase --subject user.contact.email:ann@example.com
id=$(cat "$OUT")
expect_exit 0 steward request plan "$id" --json
expect_jq '.targets[] | select(.dataset == "warehouse-analytics.orders") | [.match_field, .match_category, .resolved]' \
	'["customer_id","user.unique_id",true]'
expect_jq '.targets[] | select(.dataset == "warehouse-analytics.customers") | [.match_field, .or_field]' \
	'["customer_id","email"]'
expect_exit 0 steward request run "$id"
expect_equal 2 "$(sqlite3 targets/shop.db 'SELECT group_concat(customer_id) FROM customers')" 'the subject deleted from customers'
expect_equal 12 "$(sqlite3 targets/shop.db 'SELECT group_concat(order_id) FROM orders')" 'and their orders, reached through the join key'

done_testing
