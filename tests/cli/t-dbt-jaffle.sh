#!/bin/sh
# Acceptance: dbt's jaffle-shop artifacts (manifest v12 + catalog.json) load with every model,
# seed and source, every column with its type, the edges of the DAG and the generic tests as
# constraints; the counts are compared with tests/helpers/dbt_counts.py, which reads the
# manifest with Python's json module, not through steward.
. "$(dirname "$0")/lib.sh"
require sqlite3 jq python3

JAFFLE=$STEWARD_SHARED/interop/dbt/jaffle-shop/target
if [ ! -f "$JAFFLE/manifest.json" ]; then
	skip "jaffle-shop artifacts" "no $JAFFLE/manifest.json"
	done_testing
fi
DB=$WS/.steward/catalog.db
init_ws
cp "$JAFFLE/manifest.json" "$JAFFLE/catalog.json" "$TMP/"
cd "$TMP" || exit 99

python3 "$STEWARD_SRC/tests/helpers/dbt_counts.py" manifest.json >counts
check 'the independent counter ran' test -s counts
want() { sed -n "s/^$1=//p" counts; }
q() { sqlite3 "$DB" "$1"; }

expect_exit 0 steward catalog load manifest.json
expect_stdout_line 'dbt: 1 manifest named or found, 1 parsed'
expect_equal "$(want datasets)" "$(q 'SELECT count(*) FROM datasets')" 'datasets: every model, seed and source (a seed and its source are one)'
expect_equal 13 "$(q "SELECT count(DISTINCT dataset_id) FROM dataset_props WHERE key = 'dbt.resource_type' AND value = 'model'")" 'the 13 models'
expect_equal 7 "$(q "SELECT count(DISTINCT dataset_id) FROM dataset_props WHERE key = 'dbt.resource_type' AND value = 'seed'")" 'the 7 seeds'
expect_equal 6 "$(q "SELECT count(DISTINCT dataset_id) FROM dataset_props WHERE key = 'dbt.resource_type' AND value = 'source'")" 'the 6 sources, each on a seed'
expect_equal "$(want fields)" "$(q 'SELECT count(*) FROM fields')" 'fields: every column'
expect_equal 0 "$(q 'SELECT count(*) FROM fields WHERE type IS NULL')" 'every column has its type (catalog.json)'
expect_equal "$(want edges)" "$(q 'SELECT count(*) FROM edges')" 'edges of the DAG'
for k in not_null unique accepted_values relationships; do
	expect_equal "$(want $k)" "$(q "SELECT count(*) FROM constraints WHERE kind = '$k'")" "$k tests as constraints"
done
expect_equal 0 "$(q "SELECT count(*) FROM datasets WHERE name NOT GLOB '*-*.*'")" 'names are <database>-<schema>.<identifier>'

# The card, by the dbt unique_id: constraints, upstream, properties.
expect_exit 0 steward show model.jaffle_shop.orders
expect_stdout_line 'jaffle_shop-main.orders  (table, version 1)'
expect_stdout_line '  relationships    customer_id -> jaffle_shop-main.stg_customers.customer_id'
expect_stdout_line '  not_null         order_id'
expect_stdout_line '  dbt.materialized   table'
expect_stdout_line '  dbt.path           models/marts/orders.sql'
expect_exit 0 steward show jaffle_shop-main.customers --json
expect_jq '.constraints[] | select(.kind == "accepted_values") | .values' '["new","returning"]'
expect_jq '.aliases' '["model.jaffle_shop.customers"]'
expect_jq '[.fields[] | select(.type == null)] | length' '0'
expect_exit 0 steward lineage model.jaffle_shop.customers --up --depth 1
expect_stdout_line '├── jaffle_shop-main.orders (table)'
expect_exit 0 steward search model.jaffle_shop.stg_orders --limit 1
expect_stdout_contains 'jaffle_shop-main.stg_orders'

# No column says its PII class: pii check lists every one as unknown.
expect_exit 1 steward pii check
expect_stdout_line "$(want fields) fields have pii class unknown"
expect_stdout_line "manifest.json: 'jaffle_shop-main.customers.customer_name' has pii class unknown: tag it before its data is ingested"

done_testing
