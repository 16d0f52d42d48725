#!/bin/sh
# Incremental and atomic loads of a dbt manifest: unchanged, it costs a stat (no parse);
# touched but the same bytes, a hash; a new catalog.json, a changed manifest or a changed
# extension, a new parse; a failed load changes nothing.
. "$(dirname "$0")/lib.sh"
require sqlite3 jq

DB=$WS/.steward/catalog.db
init_ws
cp -R "$FIXTURES/dbt" "$TMP/dbt"
cd "$TMP/dbt" || exit 99
q() { sqlite3 "$DB" "$1"; }

expect_exit 0 steward catalog load v4/manifest.json
expect_stdout_line 'dbt: 1 manifest named or found, 1 parsed'
first=$(q "SELECT loaded_at FROM files")

# Unchanged: the stat data match; not parsed, nothing written.
expect_exit 0 steward catalog load v4/manifest.json
expect_stdout_line 'loaded 1 file: 0 new, 0 changed, 1 unchanged, 0 removed; 0 documents read'
expect_stdout_line 'dbt: 1 manifest named or found, 0 parsed'
expect_equal "$first" "$(q "SELECT loaded_at FROM files")" 'the file row was not rewritten'

# The same bytes under a new mtime: the hash decides, still not parsed.
touch -d '2001-01-01' v4/manifest.json
expect_exit 0 steward catalog load v4/manifest.json
expect_stdout_line 'dbt: 1 manifest named or found, 0 parsed'
expect_stdout_line 'loaded 1 file: 0 new, 0 changed, 1 unchanged, 0 removed; 0 documents read'

# A new catalog.json beside it: parsed again, with the new type.
sed 's/"numeric(10,2)"/"numeric(12,2)"/' v4/catalog.json >c.new && mv c.new v4/catalog.json
expect_exit 0 steward catalog load v4/manifest.json
expect_stdout_line 'loaded 1 file: 0 new, 1 changed, 0 unchanged, 0 removed; 0 documents read'
expect_stdout_line 'dbt: 1 manifest named or found, 1 parsed'
expect_equal 'numeric(12,2)' "$(q "SELECT type FROM fields WHERE path = 'amount'")" 'the type from the new catalog.json'

# The catalog.json gone: types fall back to the manifest's (none here), columns to the documented.
mv v4/catalog.json v4/catalog.json.off
expect_exit 0 steward catalog load v4/manifest.json
expect_stdout_line 'dbt: 1 manifest named or found, 1 parsed'
expect_equal 0 "$(q "SELECT count(*) FROM fields WHERE path = 'first_seen'")" 'the column only catalog.json knew is gone'
mv v4/catalog.json.off v4/catalog.json

# A node disabled in a new manifest: its dataset goes, with its edges and aliases.
sed 's/"name": "stg_customers", "package_name"/&/' v4/manifest.json >/dev/null
python3 - v4/manifest.json <<'PY'
import json, sys
p = sys.argv[1]
m = json.load(open(p))
m["nodes"]["snapshot.shop.customers_snapshot"]["config"]["enabled"] = False
json.dump(m, open(p, "w"), indent=1)
PY
expect_exit 0 steward catalog load v4/manifest.json
expect_stdout_line 'dbt: 1 manifest named or found, 1 parsed'
expect_stdout_line 'catalog: 7 datasets (7 versions)'
expect_equal 0 "$(q "SELECT count(*) FROM aliases WHERE alias = 'snapshot.shop.customers_snapshot'")" 'its alias went with it'
expect_exit 4 steward show snapshot.shop.customers_snapshot
expect_stderr_line "error: no dataset 'snapshot.shop.customers_snapshot' in the catalog"

# An extension added: the manifest is parsed again to apply it; then nothing is.
mkdir more
cat >more/orders.yaml <<'YAML'
extends: model.shop.orders
columns:
  - {name: customer_id, pii: direct, category: user.unique_id}
YAML
expect_exit 0 steward catalog load v4/manifest.json more
expect_stdout_line 'loaded 2 files: 1 new, 1 changed, 0 unchanged, 0 removed; 1 document read'
expect_stdout_line 'dbt: 1 manifest named or found, 1 parsed'
expect_equal direct "$(q "SELECT f.pii FROM fields f JOIN datasets d ON d.id = f.dataset_id WHERE d.name = 'warehouse-analytics.orders' AND f.path = 'customer_id'")" 'the extension applied'
expect_exit 0 steward catalog load v4/manifest.json more
expect_stdout_line 'dbt: 1 manifest named or found, 0 parsed'
# The manifest changed while the extension did not: it still applies.
sed 's/One row per order\./One row per order, ever./' v4/manifest.json >m.new && mv m.new v4/manifest.json
expect_exit 0 steward catalog load v4/manifest.json more
expect_stdout_line 'dbt: 1 manifest named or found, 1 parsed'
expect_equal direct "$(q "SELECT f.pii FROM fields f JOIN datasets d ON d.id = f.dataset_id WHERE d.name = 'warehouse-analytics.orders' AND f.path = 'customer_id'")" 'the extension applied again'
# Loading only the extension directory re-applies it to the manifest loaded before.
cat >more/orders.yaml <<'YAML'
extends: model.shop.orders
columns:
  - {name: customer_id, pii: pseudonymous, category: user.unique_id}
YAML
expect_exit 0 steward catalog load more
expect_stdout_line 'dbt: 0 manifests named or found, 1 parsed'
expect_equal pseudonymous "$(q "SELECT f.pii FROM fields f JOIN datasets d ON d.id = f.dataset_id WHERE d.name = 'warehouse-analytics.orders' AND f.path = 'customer_id'")" 'the changed extension applied'
# The extension removed: the manifest's own state comes back.
rm more/orders.yaml
expect_exit 0 steward catalog load v4/manifest.json more
expect_stdout_line 'dbt: 1 manifest named or found, 1 parsed'
expect_equal unknown "$(q "SELECT f.pii FROM fields f JOIN datasets d ON d.id = f.dataset_id WHERE d.name = 'warehouse-analytics.orders' AND f.path = 'customer_id'")" 'back to unknown'

# Atomic: a bad manifest leaves the last good state, with every table intact.
before=$(q "SELECT (SELECT count(*) FROM datasets) || '/' || (SELECT count(*) FROM fields) || '/' || (SELECT count(*) FROM edges) || '/' || (SELECT count(*) FROM constraints) || '/' || (SELECT count(*) FROM aliases)")
sed 's/"pii": "none"/"pii": "nope"/' v4/manifest.json >m.new && mv m.new v4/manifest.json
expect_exit 3 steward catalog load v4/manifest.json
expect_stderr_line 'v4/manifest.json: error: nodes."model.shop.orders".columns.status.meta.pii: unknown class "nope"'
expect_equal "$before" "$(q "SELECT (SELECT count(*) FROM datasets) || '/' || (SELECT count(*) FROM fields) || '/' || (SELECT count(*) FROM edges) || '/' || (SELECT count(*) FROM constraints) || '/' || (SELECT count(*) FROM aliases)")" 'datasets, fields, edges, constraints and aliases are as before'
expect_exit 0 steward show model.shop.orders

done_testing
