#!/bin/sh
# Errors in dbt artifacts point into the JSON (file: JSON path: message), nothing is
# loaded when any is found, and a manifest version steward does not read is refused with
# the versions it reads.
. "$(dirname "$0")/lib.sh"
require sqlite3

DB=$WS/.steward/catalog.db
init_ws
cp -R "$FIXTURES/dbt" "$TMP/dbt"
cd "$TMP/dbt/badpii" || exit 99

expect_exit 3 steward catalog load manifest.json
expect_stderr_line 'manifest.json: error: nodes."model.shop.orders".columns.email.meta.pii: unknown class "emial"'
expect_stderr_line "manifest.json: error: nodes.\"model.shop.orders\".columns.phone.meta.category: unknown category 'user.contact.phon'"
expect_stderr_line 'manifest.json: error: nodes."model.shop.orders".columns.name.tags[0]: "indirect" conflicts with "direct" from nodes."model.shop.orders".columns.name.meta.pii'
# Conventions of a team's own are warnings, and the column stays unknown; a category
# outside a meta that sets pii means something else and is left alone; pii: false is none.
expect_stderr_line 'manifest.json: warning: nodes."model.shop.orders".columns.age.meta.pii: not a pii class; the column stays unknown (use a string such as direct, indirect or none)'
expect_stderr_line 'manifest.json: warning: nodes."model.shop.orders".columns.flag.meta.pii: not a pii class; the column stays unknown (use a string such as direct, indirect or none)'
expect_stderr_line 'manifest.json: warning: nodes."model.shop.orders".columns.segment.tags[0]: tag "pii:yes" names no pii class; ignored'
expect_stderr_lacks finance
expect_stderr_line 'error: 3 errors found; the catalog was not changed'
expect_equal 0 "$(sqlite3 "$DB" 'SELECT count(*) FROM datasets')" 'nothing was loaded'
expect_equal 0 "$(sqlite3 "$DB" 'SELECT count(*) FROM files')" 'not even the file row'
sed 's/"emial"/"direct"/; s/"user.contact.phon"/"user.contact.phone_number"/; s/"pii:indirect"/"pii:direct"/' manifest.json >m.json && mv m.json manifest.json
expect_exit 0 steward catalog load manifest.json
expect_stdout_line 'catalog: 1 dataset (1 version), 3 warnings'
expect_exit 0 steward show model.shop.orders --json
expect_jq '[.fields[] | [.path, .pii, .category]]' '[["email","direct",null],["phone","direct","user.contact.phone_number"],["name","direct",null],["age","unknown",null],["flag","unknown",null],["segment","unknown",null],["status","none",null]]'
# The rest in a fresh workspace.
WS=$TMP/ws4
DB=$WS/.steward/catalog.db
init_ws

cd "$TMP/dbt" || exit 99
expect_exit 3 steward catalog load v13/manifest.json
expect_stderr_line 'v13/manifest.json: error: metadata.dbt_schema_version: unsupported dbt manifest "https://schemas.getdbt.com/dbt/manifest/v13.json"; steward reads manifest v1 to v12'
sed 's|manifest/v4.json|manifest/v0.json|' v4/manifest.json >v0.json
expect_exit 3 steward catalog load v0.json
expect_stderr_line 'v0.json: error: metadata.dbt_schema_version: unsupported dbt manifest "https://schemas.getdbt.com/dbt/manifest/v0.json"; steward reads manifest v1 to v12'

printf '{"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}\n' >plain.json
printf '{"metadata":\n  {"dbt_schema_version": }\n' >broken.json
expect_exit 3 steward catalog load plain.json broken.json
expect_stderr_line 'plain.json: error: not a dbt manifest: metadata.dbt_schema_version is missing'
expect_stderr_line "broken.json:2:26: error: invalid JSON: unexpected token near '}'"
# Any other JSON file named on the command line is a descriptor, as before (JSON is YAML).
printf '{"kind": "table", "name": "x.json_descriptor", "fields": [{"name": "a", "type": "int", "pii": "none"}]}\n' >desc.json
init_ws "$TMP/ws3"
expect_exit 0 "$STEWARD" --home "$TMP/ws3" catalog load desc.json
expect_stdout_line 'catalog: 1 dataset (1 version)'

# A broken catalog.json beside a good manifest is an error too, and nothing changes.
expect_exit 0 steward catalog load v4/manifest.json
printf '{"nodes": ' >v4/catalog.json
expect_exit 3 steward catalog load v4/manifest.json
expect_stderr_line 'v4/catalog.json:1:10: error: invalid JSON: unexpected token near end of file'
expect_equal 8 "$(sqlite3 "$DB" 'SELECT count(*) FROM datasets')" 'the catalog kept the last good load'

# A descriptor may not declare a dbt dataset's name: it extends it instead.
mkdir desc
cat >desc/clash.yaml <<'YAML'
kind: table
name: warehouse-raw.orders
fields:
  - {name: id, type: int, pii: none}
YAML
rm v4/catalog.json
expect_exit 3 steward catalog load v4/manifest.json desc
expect_stderr_line "desc/clash.yaml:2:7: error: dataset 'warehouse-raw.orders' is already declared by the dbt manifest v4/manifest.json (add to it with 'extends')"
init_ws "$TMP/ws2"
expect_exit 3 "$STEWARD" --home "$TMP/ws2" catalog load v4/manifest.json desc
expect_stderr_line "v4/manifest.json: error: sources.\"source.shop.raw.orders\": dataset 'warehouse-raw.orders' is already declared by a descriptor (a descriptor adds to a dbt dataset with 'extends')"

# Two projects on the same tables (a dbt mesh, or a copy): the first manifest keeps each
# dataset, the second warns and links its lineage to it by name.
mkdir v4b
cp v4/manifest.json v4b/manifest.json
init_ws "$TMP/ws5"
expect_exit 0 "$STEWARD" --home "$TMP/ws5" catalog load v4/manifest.json v4b/manifest.json
expect_stdout_line 'catalog: 8 datasets (8 versions), 8 warnings'
expect_stderr_line "v4b/manifest.json: warning: nodes.\"model.shop.orders\": dataset 'warehouse-analytics.orders' is already declared by v4/manifest.json; it is kept there, and lineage joins it by name"
expect_stderr_line "v4b/manifest.json: warning: exposures.\"exposure.shop.weekly_kpis\": dataset 'shop-exposures.weekly_kpis' is already declared by v4/manifest.json; it is kept there"

# ---- more ways a manifest can be wrong, made from the v4 fixture ----
WS=$TMP/ws6
init_ws
python3 - v4/manifest.json more.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
n = m["nodes"]
del n["model.shop.stg_customers"]["schema"]
# Two relations that clean to one name: "weird table" and weird_table.
n["model.shop.weird1"] = dict(n["model.shop.orders"], unique_id="model.shop.weird1", alias="weird table", columns={})
n["model.shop.weird2"] = dict(n["model.shop.orders"], unique_id="model.shop.weird2", alias="weird_table", columns={})
# Two columns that clean to one field name.
n["model.shop.orders"]["columns"]["order id"] = {"name": "order id", "meta": {}, "tags": []}
n["model.shop.orders"]["columns"]["order_id"] = {"name": "order_id", "meta": {}, "tags": []}
n["model.shop.customers"]["columns"]["email"]["meta"]["transform"] = "shred"
n["model.shop.customers"]["columns"]["email"]["meta"]["normalize"] = "e-mail"
json.dump(m, open(sys.argv[2], "w"), indent=1)
PY
expect_exit 3 steward catalog load more.json missing.json
expect_stderr_line 'missing.json: error: cannot read: No such file or directory'
expect_stderr_line 'more.json: error: nodes."model.shop.stg_customers": no schema'
expect_stderr_line "more.json: warning: nodes.\"model.shop.weird2\": relation maps to dataset 'warehouse-analytics.weird_table', as does nodes.\"model.shop.weird1\"; it is skipped"
expect_stderr_line 'more.json: error: nodes."model.shop.customers".columns.email.meta.transform: unknown transform "shred"'
expect_stderr_line 'more.json: error: nodes."model.shop.customers".columns.email.meta.normalize: unknown normalizer "e-mail"'
expect_stderr_line "more.json: warning: nodes.\"model.shop.orders\": two columns have the name 'order_id' in steward; the second is skipped"
expect_stderr_line 'error: 4 errors found; the catalog was not changed'
python3 - more.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
n = m["nodes"]
n["model.shop.stg_customers"]["schema"] = "analytics"
del n["model.shop.weird2"]
del n["model.shop.customers"]["columns"]["email"]["meta"]["transform"]
del n["model.shop.customers"]["columns"]["email"]["meta"]["normalize"]
json.dump(m, open(sys.argv[1], "w"), indent=1)
PY
expect_exit 0 steward catalog load more.json
expect_stdout_line 'catalog: 9 datasets (9 versions), 1 warning'
expect_equal 'order_id' "$(sqlite3 "$WS/.steward/catalog.db" "SELECT group_concat(f.path) FROM fields f JOIN datasets d ON d.id = f.dataset_id WHERE d.name = 'warehouse-analytics.orders' AND f.path LIKE 'order%'")" 'one order_id field'
# A BigQuery-style nested column (parent.member) is a nested field.
python3 - more.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
c = m["nodes"]["model.shop.customers"]["columns"]
c["address"] = {"name": "address", "data_type": "STRUCT<city STRING>", "meta": {}, "tags": []}
c["address.city"] = {"name": "address.city", "data_type": "STRING", "meta": {"pii": "indirect", "category": "user.contact.address.city"}, "tags": []}
c["bad..name."] = {"name": "bad..name.", "meta": {}, "tags": []}
json.dump(m, open(sys.argv[1], "w"), indent=1)
PY
expect_exit 0 steward catalog load more.json
expect_exit 0 steward show model.shop.customers --json
expect_jq '[.fields[] | select(.path | startswith("address") or startswith("bad")) | [.path, .type, .pii]]' '[["address","STRUCT<city STRING>","unknown"],["address.city","STRING","indirect"],["bad__name_",null,"unknown"]]'
expect_exit 0 steward lineage model.shop.customers.address.city
expect_stdout_line 'warehouse-analytics.customers.address.city (table)'
expect_exit 0 steward catalog load v4/manifest.json

# ---- extensions: what they may not say ----
mkdir -p ext2
cat >ext2/bad.yaml <<'YAML'
extends: [model.shop.orders]
---
extends: model.shop.orders
subject: order_id
tags: gdpr
owner: [a, b]
erasure: {action: nullify, match: nope, columns: [status, nope2], colour: red}
columns: {name: status}
---
extends: model.shop.customers
columns:
  - pii: none
  - {name: email, transform: shred, normalize: e-mail, pii_reason: [x]}
YAML
expect_exit 3 steward catalog load v4/manifest.json ext2
expect_stderr_line "ext2/bad.yaml:1:10: error: 'extends' must name a dbt unique_id or a dbt dataset"
expect_stderr_line "ext2/bad.yaml:5:7: error: 'tags' must be a list"
expect_stderr_line "ext2/bad.yaml:6:8: error: 'owner' must be a string"
expect_stderr_line "ext2/bad.yaml:7:67: error: unknown erasure setting 'colour'"
expect_stderr_line "ext2/bad.yaml:8:10: error: 'columns' must be a list"
expect_stderr_line "ext2/bad.yaml:12:5: error: a field of an extension needs a 'name'"
expect_stderr_line "ext2/bad.yaml:13:30: error: unknown transform 'shred'"
expect_stderr_line "ext2/bad.yaml:13:48: error: unknown normalize 'e-mail'"
expect_stderr_line "ext2/bad.yaml:13:68: error: 'pii_reason' must be a string"
cat >ext2/bad.yaml <<'YAML'
extends: model.shop.orders
erasure: {action: nullify, match: nope, columns: [status, nope2]}
---
extends: warehouse-raw.orders
erasure: {action: delete}
YAML
expect_exit 3 steward catalog load v4/manifest.json ext2
expect_stderr_line "ext2/bad.yaml:1:10: error: erasure match 'nope' is not a field of 'warehouse-analytics.orders'"
expect_stderr_line "ext2/bad.yaml:1:10: error: erasure column 'nope2' is not a field of 'warehouse-analytics.orders'"
expect_stderr_line "ext2/bad.yaml:4:10: error: erasure needs 'match' or a dataset 'subject' to find the subject's rows"

done_testing
