#!/bin/sh
# Manifests are read on the strict JSON tape (common/json.c), yet take and refuse what
# jansson did, in jansson's words: \u0000, numbers out of range, text after the document and
# nesting deeper than 2048 are refused; nesting below that loads; a key given twice keeps its
# last value at its first place, in nodes, in meta and in catalog.json.
. "$(dirname "$0")/lib.sh"
require sqlite3

DB=$WS/.steward/catalog.db
init_ws
cd "$TMP" || exit 99
# case NAME SED-SCRIPT: a copy of the v4 fixture (manifest and catalog.json) edited by sed.
case_of() {
	mkdir -p "$1"
	sed "$2" "$FIXTURES/dbt/v4/manifest.json" >"$1/manifest.json"
	cp "$FIXTURES/dbt/v4/catalog.json" "$1/catalog.json"
}
case_of nul 's/"Customers, cleaned."/"Customers\\u0000"/'
case_of big '0,/"env": {}/s//"env": {"n": 99999999999999999999}/'
case_of real '0,/"env": {}/s//"env": {"n": 1e400}/'
deep() { python3 -c "import sys; n = int(sys.argv[1]); print('[' * n + ']' * n, end='')" "$1"; }
case_of deep2049 "0,/\"env\": {}/s//\"env\": $(deep 2047)/"
expect_exit 3 steward catalog load nul/manifest.json big/manifest.json real/manifest.json \
	deep2049/manifest.json
expect_stderr_line "nul/manifest.json:60:35: error: invalid JSON: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"Customers\\u0000\"'"
expect_stderr_line "big/manifest.json:7:35: error: invalid JSON: too big integer near '99999999999999999999'"
expect_stderr_line "real/manifest.json:7:20: error: invalid JSON: real number overflow near '1e400'"
expect_stderr_line "deep2049/manifest.json:7:2056: error: invalid JSON: maximum parsing depth reached near '['"
expect_stderr_line 'error: 4 errors found; the catalog was not changed'
printf '"x" {"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}}' >root.json
case_of catnul 's/"Customers, cleaned."/"Customers"/'
sed 's/"integer"/"int\\u0000"/' "$FIXTURES/dbt/v4/catalog.json" >catnul/catalog.json
expect_exit 3 steward catalog load root.json catnul/manifest.json
expect_stderr_line "root.json:1:3: error: invalid JSON: '[' or '{' expected near '\"x\"'"
expect_stderr_line "catnul/catalog.json:21:24: error: invalid JSON: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"int\\u0000\"'"
expect_equal 0 "$(sqlite3 "$DB" 'SELECT count(*) FROM datasets')" 'nothing was loaded'

# 2048 levels load, as they did; a key given twice keeps its last value at its first place.
case_of deep2048 "0,/\"env\": {}/s//\"env\": $(deep 2046)/"
expect_exit 0 steward catalog load deep2048/manifest.json
expect_stdout_line 'catalog: 8 datasets (8 versions)'
init_ws "$TMP/ws2"
WS=$TMP/ws2
DB=$WS/.steward/catalog.db
case_of dups '0,/"meta": {}/s//"meta": {"pii": "direct", "b": 1, "pii": "none", "a": {"y": 1, "x": 2, "y": 3}}/
0,/^ "nodes": {/s//&"model.shop.orders": {"resource_type": "model", "name": "zzz", "schema": "s"},/'
sed '0,/"type": "BASE TABLE"/s//"type": "A", "type": "B"/' "$FIXTURES/dbt/v4/catalog.json" >dups/catalog.json
expect_exit 0 steward catalog load dups/manifest.json
expect_stdout_line 'catalog: 8 datasets (8 versions)'
expect_equal '{"a":{"x":2,"y":3},"b":1,"pii":"none"}' \
	"$(sqlite3 "$DB" "SELECT value FROM dataset_props WHERE key = 'dbt.meta' AND dataset_id = (SELECT id FROM datasets WHERE name = 'warehouse-raw.customers')")" \
	'meta: the last value of a key given twice'
expect_equal 'B' \
	"$(sqlite3 "$DB" "SELECT value FROM dataset_props WHERE key = 'dbt.catalog_type' AND dataset_id = (SELECT id FROM datasets WHERE name = 'warehouse-analytics.customers')")" \
	'catalog.json: the last value of a key given twice'
expect_equal 'warehouse-analytics.orders' \
	"$(sqlite3 "$DB" "SELECT d.name FROM aliases a JOIN datasets d ON d.id = a.dataset_id WHERE a.alias = 'model.shop.orders'")" \
	'nodes: the node given twice is its last version'
done_testing
