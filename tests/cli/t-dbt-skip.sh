#!/bin/sh
# The parts of a manifest that no reader looks at (a node's fqn, raw_code, checksum...; the
# root's macros, parent_map...) stay off the tape, yet are checked as strictly as the rest:
# what jansson refused there is refused in jansson's words, nesting counts from the root,
# and a key given twice there changes nothing.
. "$(dirname "$0")/lib.sh"
require sqlite3

DB=$WS/.steward/catalog.db
init_ws
cd "$TMP" || exit 99
# case NAME SED-SCRIPT: a copy of the v4 fixture whose first fqn (nodes.<id>.fqn, left off the
# tape) is edited by sed.
case_of() {
	mkdir -p "$1"
	sed "$2" "$FIXTURES/dbt/v4/manifest.json" >"$1/manifest.json"
	cp "$FIXTURES/dbt/v4/catalog.json" "$1/catalog.json"
}
deep() { python3 -c "import sys; n = int(sys.argv[1]); print('[' * n + ']' * n, end='')" "$1"; }
case_of nul '0,/"fqn": \[/s//"fqn": ["\\u0000",/'
case_of keynul '0,/"fqn": \[/s//"fqn": [{"a\\u0000b": 1},/'
case_of big '0,/"fqn": \[/s//"fqn": [99999999999999999999,/'
case_of real '0,/"fqn": \[/s//"fqn": [-1e400,/'
case_of syntax '0,/"fqn": \[/s//"fqn": [1 2,/'
case_of deep "0,/\"fqn\": \[/s//\"fqn\": [$(deep 2046),/"
expect_exit 3 steward catalog load nul/manifest.json keynul/manifest.json big/manifest.json \
	real/manifest.json syntax/manifest.json deep/manifest.json
expect_stderr_line "nul/manifest.json:22:19: error: invalid JSON: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"\\u0000\"'"
expect_stderr_line "keynul/manifest.json:22:22: error: invalid JSON: NUL byte in object key not supported near '\"a\\u0000b\"'"
expect_stderr_line "big/manifest.json:22:31: error: invalid JSON: too big integer near '99999999999999999999'"
expect_stderr_line "real/manifest.json:22:17: error: invalid JSON: real number overflow near '-1e400'"
expect_stderr_line "syntax/manifest.json:22:14: error: invalid JSON: ']' expected near '2'"
expect_stderr_line "deep/manifest.json:22:2056: error: invalid JSON: maximum parsing depth reached near '['"
expect_stderr_line 'error: 6 errors found; the catalog was not changed'
expect_equal 0 "$(sqlite3 "$DB" 'SELECT count(*) FROM datasets')" 'nothing was loaded'

# Below the limit, and with a key given twice, a skipped part loads as before; so does a
# manifest whose unread root sections are large.
case_of ok "0,/\"fqn\": \[/s//\"fqn\": [$(deep 2044), {\"a\": 1, \"a\": 2, \"\\\\u0041\": 3},/"
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
expect_exit 0 steward catalog load ok/manifest.json
expect_stdout_line 'catalog: 8 datasets (8 versions)'
init_ws "$TMP/ws2"
WS=$TMP/ws2
expect_exit 0 steward catalog load sections/manifest.json
expect_stdout_line 'catalog: 8 datasets (8 versions)'
expect_equal "$(sqlite3 "$DB" 'SELECT name, description, owner, location, tags FROM datasets ORDER BY name')" \
	"$(sqlite3 "$TMP/ws2/.steward/catalog.db" 'SELECT name, description, owner, location, tags FROM datasets ORDER BY name')" \
	'the unread sections change no dataset'
expect_equal "$(sqlite3 "$DB" 'SELECT d.name, f.path, f.type, f.pii FROM fields f JOIN datasets d ON d.id = f.dataset_id ORDER BY 1, 2')" \
	"$(sqlite3 "$TMP/ws2/.steward/catalog.db" 'SELECT d.name, f.path, f.type, f.pii FROM fields f JOIN datasets d ON d.id = f.dataset_id ORDER BY 1, 2')" \
	'the unread sections change no field'
done_testing
