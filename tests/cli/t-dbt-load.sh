#!/bin/sh
# dbt manifests of other shapes: a v4 (dbt 1.0) postgres project with no relation_name and
# source tests without attached_node, ephemeral, disabled, analysis and test nodes and
# exposures; a v12 Snowflake project that folds unquoted names to upper case; a manifest
# found in a directory walk; and the counts against tests/helpers/dbt_counts.py.
. "$(dirname "$0")/lib.sh"
require sqlite3 jq python3

DB=$WS/.steward/catalog.db
init_ws
cp -R "$FIXTURES/dbt" "$TMP/dbt"
cd "$TMP/dbt" || exit 99
q() { sqlite3 "$DB" "$1"; }

# ---- v4 ----
expect_exit 0 steward catalog load v4/manifest.json
expect_stdout_line 'loaded 1 file: 1 new, 0 changed, 0 unchanged, 0 removed; 0 documents read'
expect_stdout_line 'dbt: 1 manifest named or found, 1 parsed'
expect_stdout_line 'catalog: 8 datasets (8 versions)'
expect_equal 'shop-exposures.churn_model|model
shop-exposures.weekly_kpis|dashboard
warehouse-analytics.customers|table
warehouse-analytics.orders|table
warehouse-analytics.stg_customers|table
warehouse-raw.customers|table
warehouse-raw.orders|source
warehouse-snapshots.customers_snapshot|table' "$(q 'SELECT name, kind FROM datasets ORDER BY name')" \
	'models, the seed (one dataset with its source), the snapshot, the sources, the exposures; no ephemeral, disabled, analysis or test node'
expect_equal 'seed.shop.customers source.shop.raw.customers' \
	"$(q "SELECT group_concat(alias, ' ') FROM (SELECT alias FROM aliases a JOIN datasets d ON d.id = a.dataset_id WHERE d.name = 'warehouse-raw.customers' ORDER BY alias)")" \
	'the seed and the source that name one table are one dataset with both unique_ids'

python3 "$STEWARD_SRC/tests/helpers/dbt_counts.py" v4/manifest.json >counts
want() { sed -n "s/^$1=//p" counts; }
expect_equal "$(want datasets)" "$(q 'SELECT count(*) FROM datasets')" 'datasets as counted from the manifest'
expect_equal "$(want fields)" "$(q 'SELECT count(*) FROM fields')" 'fields as counted'
expect_equal "$(want edges)" "$(q 'SELECT count(*) FROM edges')" 'edges as counted'
for k in not_null unique accepted_values relationships; do
	expect_equal "$(want $k)" "$(q "SELECT count(*) FROM constraints WHERE kind = '$k'")" "$k as counted"
done

# The ephemeral int_orders passes lineage through: raw.orders feeds orders directly.
expect_exit 0 steward lineage model.shop.orders --up
expect_stdout_line '└── warehouse-raw.orders (source)'
expect_stdout_lacks int_orders
# The source test without attached_node, resolved from kwargs.model's source() call.
expect_exit 0 steward show source.shop.raw.customers
expect_stdout_line '  not_null         id'
expect_stdout_line '  dbt.resource_type  seed'
expect_stdout_line '  dbt.resource_type  source'
expect_stdout_line '  dbt.path           seeds/customers.csv'
# Relationships from kwargs.to, accepted values, and no dbt_utils test.
expect_exit 0 steward show warehouse-analytics.orders --json
expect_jq '[.constraints[] | [.kind, .field, .ref_dataset, .ref_field, .values]]' \
	'[["not_null","order_id",null,null,null],["relationships","customer_id","warehouse-analytics.customers","customer_id",null],["accepted_values","status",null,null,["placed","shipped"]]]'
expect_jq '[.upstream[].name] | sort' '["warehouse-analytics.stg_customers","warehouse-raw.orders"]'
# Owner from meta.owner, tags, certified, the catalog.json's types, columns and stats.
expect_exit 0 steward show model.shop.customers --json
expect_jq '[.owner, .certified, .tags, .system, .location]' '["crm-team",true,["certified","marts"],"postgres","warehouse.analytics.customers"]'
expect_jq '[.fields[] | [.path, .type, .pii, .category, .transform, .normalize]]' \
	'[["customer_id","integer","direct","user.unique_id",null,null],["email","text","direct","user.contact.email","hash","email"],["lifetime_value","numeric","unknown",null,null,null],["first_seen","date","unknown",null,null,null]]'
expect_jq '[.properties[] | select(.key == "dbt.stats.row_count") | .value]' '["1234"]'
expect_jq '[.properties[] | select(.key == "dbt.stats.has_stats")] | length' '0'
# PII from documented tags (pii:direct, pii-category:..., pii-normalize:...).
expect_exit 0 steward show model.shop.stg_customers --json
expect_jq '.fields[] | select(.path == "email") | [.pii, .category, .normalize, .tags]' \
	'["direct","user.contact.email","email",["pii:direct","pii-category:user.contact.email","pii-normalize:email"]]'
# Exposures: dashboard and ml, owner, upstream.
expect_exit 0 steward show exposure.shop.weekly_kpis --json
expect_jq '[.kind, .owner, .location, [.upstream[].name]]' \
	'["dashboard","Finance","https://bi.example.com/d/42",["warehouse-analytics.customers","warehouse-analytics.orders"]]'
expect_exit 0 steward show shop-exposures.churn_model --json
expect_jq '[.kind, .owner]' '["model","ml@example.com"]'
# Untagged columns are unknown, and pii check says so (exit 1).
expect_exit 1 steward pii check
expect_stdout_line "v4/manifest.json: 'warehouse-analytics.orders.order_id' has pii class unknown: tag it before its data is ingested"
expect_stdout_line '10 fields have pii class unknown'
expect_stdout_lacks "'warehouse-analytics.orders.status'"
# Tagging comes before ingestion: a dataset with unknown columns is refused.
expect_exit 0 steward key init
printf '{"order_id": 1}\n' >"$TMP/rec.jsonl"
expect_exit_stdin 3 "$TMP/rec.jsonl" steward ingest warehouse-analytics.orders --purpose test
expect_stderr_line "error: warehouse-analytics.orders: field 'order_id' has pii class unknown: tag it before ingesting data"
expect_stderr_line "error: 2 fields cannot be ingested as declared; give every field a pii class ('steward pii check' lists the unknown ones) and a transform"
# pii scan proposes a class for an unknown column whose values hold personal data.
printf '{"id": 1, "customer_id": 3, "status": "ann@example.com"}\n' >"$TMP/o.jsonl"
expect_exit 1 steward pii scan "$TMP/o.jsonl" --dataset source.shop.raw.orders
expect_stdout_line '  status: of pii class unknown, yet 100.0% of its values hold email; propose pii: direct, category: user.contact.email, transform: hash'
expect_exit 0 steward pii map
expect_stdout_line '  warehouse-analytics.stg_customers  full_name    direct        -          -         postgres  declared'
# search finds a dataset by a unique_id and by a word.
expect_exit 0 steward search 'lifetime value'
expect_stdout_contains 'warehouse-analytics.customers'

# ---- snowflake: unquoted names fold to upper case; quoted ones keep theirs ----
expect_exit 0 steward catalog load v4/manifest.json snowflake/manifest.json
expect_stdout_line 'catalog: 11 datasets (11 versions)'
expect_equal 'ANALYTICS-MARTS.DIM_CUSTOMERS|CS team
ANALYTICS-MARTS.MixedCase|
RAW-CRM.CUSTOMERS|' "$(q "SELECT name, coalesce(owner, '') FROM datasets WHERE system = 'snowflake' ORDER BY name")" \
	'snowflake names: folded, a quoted identifier kept, the group owner'
expect_equal 'seed.acme.customers source.acme.crm.customers' \
	"$(q "SELECT group_concat(alias, ' ') FROM (SELECT alias FROM aliases a JOIN datasets d ON d.id = a.dataset_id WHERE d.name = 'RAW-CRM.CUSTOMERS' ORDER BY alias)")" \
	'seed CUSTOMERS and source customers are one table in Snowflake'
expect_exit 0 steward show model.acme.dim_customers --json
expect_jq '[.fields[] | [.path, .type, .pii]]' '[["CUSTOMER_ID","NUMBER","unknown"],["EMAIL","TEXT","direct"]]'
expect_jq '[.constraints[] | [.kind, .field, .ref_dataset, .ref_field]]' \
	'[["unique","CUSTOMER_ID",null,null],["relationships","CUSTOMER_ID","RAW-CRM.CUSTOMERS","ID"],["not_null","CUSTOMER_ID",null,null],["primary_key","CUSTOMER_ID",null,null],["relationships","CUSTOMER_ID","RAW-CRM.CUSTOMERS","ID"]]'
expect_jq '[.constraints[] | .origin] | map(select(. == "contract")) | length' '3'

# ---- the shape of dbt 0.20 (manifest v2): disabled nodes in a list, no attached_node ----
mkdir v2
python3 - v4/manifest.json v2/manifest.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["metadata"]["dbt_schema_version"] = "https://schemas.getdbt.com/dbt/manifest/v2.json"
m["metadata"]["dbt_version"] = "0.20.2"
m["disabled"] = [n[0] for n in m["disabled"].values()]
json.dump(m, open(sys.argv[2], "w"))
PY
init_ws "$TMP/ws3"
expect_exit 0 "$STEWARD" --home "$TMP/ws3" catalog load v2/manifest.json
expect_stdout_line 'catalog: 8 datasets (8 versions)'
expect_equal 5 "$(sqlite3 "$TMP/ws3/.steward/catalog.db" 'SELECT count(*) FROM constraints')" 'v2: the same constraints'

# ---- a manifest.json met in a directory walk is loaded; other JSON files are not ----
mkdir -p proj/target proj/other
cp v4/manifest.json v4/catalog.json proj/target/
printf '{"name": "not dbt"}\n' >proj/other/manifest.json
printf '{}\n' >proj/target/run_results.json
init_ws "$TMP/ws2"
expect_exit 0 "$STEWARD" --home "$TMP/ws2" catalog load proj
expect_stdout_line 'dbt: 1 manifest named or found, 1 parsed'
expect_stdout_line 'catalog: 8 datasets (8 versions)'
# A dbt project directory: its own YAML (dbt_project.yml, models/*.yml) is dbt's, not
# steward's, and is not read; descriptors elsewhere in it are.
mkdir -p proj/models proj/steward proj/dbt_packages/util/models
printf 'name: shop\nversion: "1.0.0"\nprofile: shop\n' >proj/dbt_project.yml
printf 'version: 2\nmodels:\n  - name: orders\n    columns:\n      - name: order_id\n' >proj/models/schema.yml
cp proj/models/schema.yml proj/dbt_packages/util/models/schema.yml
printf 'packages:\n  - package: dbt-labs/dbt_utils\n' >proj/packages.yml
printf 'extends: model.shop.orders\ncolumns:\n  - {name: order_id, pii: none}\n' >proj/steward/orders.yaml
init_ws "$TMP/ws4"
expect_exit 0 "$STEWARD" --home "$TMP/ws4" catalog load proj
expect_stdout_line 'loaded 2 files: 2 new, 0 changed, 0 unchanged, 0 removed; 1 document read'
expect_stdout_line 'catalog: 8 datasets (8 versions)'
expect_stderr_empty

# ---- PII settings in a column's meta: the bare names only beside pii, the pii_ names
# anywhere, a null as if missing, the last of two equal keys ----
init_ws "$TMP/ws5"
mkdir -p meta/target
python3 - v4/manifest.json meta/target/manifest.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
cols = m["nodes"]["model.shop.orders"]["columns"] = {}
for i, v in enumerate([
        {"pii": "direct", "category": "user.contact.email"},
        {"category": "user.contact.email"},
        {"pii_category": "user.contact.email"},
        {"pii": None, "pii_category": "user.contact.email", "pii_transform": "hash"},
        {"pii": False},
        {"pii": "direct", "category": None, "pii_category": "user.contact.email",
         "transform": "hash", "normalize": "email", "pii_reason": "because"},
        {"pii": "indirect", "pii_normalize": "email", "normalize": None},
        {"pii": "DUP", "transform": "DUP"}]):
    cols["c%d" % i] = {"name": "c%d" % i, "meta": v}
s = json.dumps(m).replace('{"pii": "DUP", "transform": "DUP"}',
                          '{"pii": "none", "pii": "direct", "transform": 3, "transform": "hash"}')
open(sys.argv[2], "w").write(s)
PY
expect_exit 0 "$STEWARD" --home "$TMP/ws5" catalog load meta/target/manifest.json
expect_equal 'c0|direct|user.contact.email|||
c1|unknown||||
c2|unknown|user.contact.email|||
c3|unknown|user.contact.email|hash||
c4|none||||
c5|direct|user.contact.email|hash|email|because
c6|indirect|||email|
c7|direct||hash||' "$(sqlite3 "$TMP/ws5/.steward/catalog.db" "SELECT f.path, f.pii, f.category, f.transform, f.normalize, f.pii_reason FROM fields f JOIN datasets d ON d.id = f.dataset_id WHERE d.name = 'warehouse-analytics.orders' ORDER BY f.ord")" 'PII settings read from meta'

done_testing
