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

# The parts of a manifest that no reader looks at (a node's fqn, raw_code, checksum...; the
# root's macros, parent_map...) stay off the tape, yet are checked as strictly as the rest:
# what jansson refused there is refused in its words, nesting counts from the root, and a
# key given twice there changes nothing. The cases edit the first fqn (nodes.<id>.fqn).
init_ws "$TMP/ws-skip"
WS=$TMP/ws-skip
DB=$WS/.steward/catalog.db
case_of skipnul '0,/"fqn": \[/s//"fqn": ["\\u0000",/'
case_of skipkeynul '0,/"fqn": \[/s//"fqn": [{"a\\u0000b": 1},/'
case_of skipbig '0,/"fqn": \[/s//"fqn": [99999999999999999999,/'
case_of skipreal '0,/"fqn": \[/s//"fqn": [-1e400,/'
case_of skipsyntax '0,/"fqn": \[/s//"fqn": [1 2,/'
case_of skipdeep "0,/\"fqn\": \[/s//\"fqn\": [$(deep 2046),/"
expect_exit 3 steward catalog load skipnul/manifest.json skipkeynul/manifest.json skipbig/manifest.json \
	skipreal/manifest.json skipsyntax/manifest.json skipdeep/manifest.json
expect_stderr_line "skipnul/manifest.json:22:19: error: invalid JSON: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"\\u0000\"'"
expect_stderr_line "skipkeynul/manifest.json:22:22: error: invalid JSON: NUL byte in object key not supported near '\"a\\u0000b\"'"
expect_stderr_line "skipbig/manifest.json:22:31: error: invalid JSON: too big integer near '99999999999999999999'"
expect_stderr_line "skipreal/manifest.json:22:17: error: invalid JSON: real number overflow near '-1e400'"
expect_stderr_line "skipsyntax/manifest.json:22:14: error: invalid JSON: ']' expected near '2'"
expect_stderr_line "skipdeep/manifest.json:22:2056: error: invalid JSON: maximum parsing depth reached near '['"
expect_stderr_line 'error: 6 errors found; the catalog was not changed'
expect_equal 0 "$(sqlite3 "$DB" 'SELECT count(*) FROM datasets')" 'nothing was loaded'

# Below the limit, and with a key given twice, a skipped part loads as before; so does a
# manifest whose unread root sections are large.
case_of skipok "0,/\"fqn\": \[/s//\"fqn\": [$(deep 2044), {\"a\": 1, \"a\": 2, \"\\\\u0041\": 3},/"
mkdir -p sections
python3 - "$FIXTURES/dbt/v4/manifest.json" sections/manifest.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["parent_map"] = {"model.x.%d" % i: ["source.x.%d" % j for j in range(5)] for i in range(2000)}
m["macros"] = {"macro.x.%d" % i: {"macro_sql": "{%% macro m%d() %%}select 1{%% endmacro %%}" % i,
                                  "arguments": [{"name": "a", "type": None}]} for i in range(500)}
json.dump(m, open(sys.argv[2], "w"))
PY
cp "$FIXTURES/dbt/v4/catalog.json" sections/catalog.json
expect_exit 0 steward catalog load skipok/manifest.json
expect_stdout_line 'catalog: 8 datasets (8 versions)'
init_ws "$TMP/ws-skip2"
WS=$TMP/ws-skip2
expect_exit 0 steward catalog load sections/manifest.json
expect_stdout_line 'catalog: 8 datasets (8 versions)'
expect_equal "$(sqlite3 "$DB" 'SELECT name, description, owner, location, tags FROM datasets ORDER BY name')" \
	"$(sqlite3 "$TMP/ws-skip2/.steward/catalog.db" 'SELECT name, description, owner, location, tags FROM datasets ORDER BY name')" \
	'the unread sections change no dataset'
expect_equal "$(sqlite3 "$DB" 'SELECT d.name, f.path, f.type, f.pii FROM fields f JOIN datasets d ON d.id = f.dataset_id ORDER BY 1, 2')" \
	"$(sqlite3 "$TMP/ws-skip2/.steward/catalog.db" 'SELECT d.name, f.path, f.type, f.pii FROM fields f JOIN datasets d ON d.id = f.dataset_id ORDER BY 1, 2')" \
	'the unread sections change no field'
done_testing
