#!/bin/sh
# A manifest of 4 MB or more is parsed on two threads (st_json_parse_split(), catalog/dbt.c):
# the second takes the text from a node about the middle on. The catalog is the one a parse
# on one thread gives (the same manifest with the root's "nodes" key escaped, which the split
# does not take), whether dbt wrote it compact, with spaces or indented, and when most of it
# is macros after the nodes; a node given twice keeps its last text wherever the two fall;
# a broken manifest is refused in the same words before and after the split point.
. "$(dirname "$0")/lib.sh"
require sqlite3 python3 taskset

init_ws
cd "$TMP" || exit 99
mkdir -p split/target one/target spaced/target indented/target macros/target \
	macros_one/target dup/target late/target early/target ws1 ws2
python3 "$STEWARD_SRC/bench/gen_manifest.py" --models 400 --out split/target/manifest.json >/dev/null
python3 - split/target/manifest.json <<'PY'
import json, sys
src = sys.argv[1]
text = open(src).read()
assert len(text) >= 4 << 20, "the manifest must reach the size of a split parse"
m = json.loads(text)
def one_thread(t):
    # The root's "nodes" with an escaped letter: the same key to a reader, but not the
    # long object the split looks for, so one thread parses it all.
    assert t.count('"nodes":{') >= 1
    return t.replace('"nodes":{', '"\\u006eodes":{', 1)
open("one/target/manifest.json", "w").write(one_thread(text))
# As dbt writes it too: ", " and ": " between values, or indented.
json.dump(m, open("spaced/target/manifest.json", "w"))
json.dump(m, open("indented/target/manifest.json", "w"), indent=2)
# Twice as many bytes of macros after the nodes: no node starts at the middle.
m2 = dict(m)
m2["macros"] = {"macro.bench_shop.m%d" % i: {"name": "m%d" % i, "resource_type": "macro",
                "macro_sql": "{%% macro m%d() %%}select 1{%% endmacro %%}" % i + " " * 2000}
                for i in range(len(text) // 1000)}
t2 = json.dumps(m2, separators=(",", ":"))
assert t2.index('"macros":') < len(t2) // 2 < t2.index('"parent_map":')
open("macros/target/manifest.json", "w").write(t2)
open("macros_one/target/manifest.json", "w").write(one_thread(t2))
# The first model (not ephemeral) again at the end of nodes, described anew: the last text
# counts.
first = next(k for k, n in m["nodes"].items() if n["resource_type"] == "model"
             and n["config"]["materialized"] != "ephemeral")
node = dict(m["nodes"][first], description="Described again at the end.")
end = text.index(',"sources":{')
open("dup/target/manifest.json", "w").write(
    text[:end - 1] + "," + json.dumps(first) + ":" + json.dumps(node, separators=(",", ":"))
    + text[end - 1:])
open("first_model", "w").write(first + "\n")
# A colon missing late in nodes (the second thread's part) and early (the first's).
for name, share in (("late", 0.8), ("early", 0.2)):
    i = text.rindex('"resource_type":"test"', 0, int(len(text) * share))
    broken = text[:i] + '"resource_type" "test"' + text[i + 22:]
    open(name + "/target/manifest.json", "w").write(broken)
    open(name + "_col", "w").write("%d\n" % (i + 22))
PY
check 'the manifests were written' test -s dup/target/manifest.json

python3 "$STEWARD_SRC/tests/helpers/dbt_counts.py" split/target/manifest.json >counts
want() { sed -n "s/^$1=//p" counts; }
expect_exit 0 steward catalog load split/target/manifest.json
expect_stdout_line "catalog: $(want datasets) datasets ($(want datasets) versions)"
DB=$WS/.steward/catalog.db
expect_equal "$(want fields)" "$(sqlite3 "$DB" 'SELECT count(*) FROM fields')" 'fields: every column'
expect_equal "$(want edges)" "$(sqlite3 "$DB" 'SELECT count(*) FROM edges')" 'edges of the DAG'
# (Not relationships: the generated manifest has tests whose "to" is an ephemeral model,
# which the counter counts and steward, with no dataset to refer to, does not.)
for k in not_null unique accepted_values; do
	expect_equal "$(want $k)" "$(sqlite3 "$DB" "SELECT count(*) FROM constraints WHERE kind = '$k'")" \
		"$k tests as constraints"
done

# Every table but the file list (sizes and digests differ) as one thread makes it.
tables=$(sqlite3 "$DB" "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'files'
	AND name NOT LIKE 'sqlite_%' ORDER BY name")
# same_catalog WS_A WS_B WHAT: every table but files alike in the two workspaces.
same_catalog() {
	for t in $tables; do
		sqlite3 "$1/.steward/catalog.db" "SELECT * FROM \"$t\"" >"a.$t"
		sqlite3 "$2/.steward/catalog.db" "SELECT * FROM \"$t\"" >"b.$t"
		test_cmp "b.$t" "a.$t" "$3: table $t as a parse on one thread gives it"
	done
}
# load_into NAME MANIFEST: a fresh workspace $TMP/ws-NAME with the manifest loaded.
load_into() {
	expect_exit 0 steward --home "$TMP/ws-$1" init "$TMP/ws-$1"
	expect_exit 0 steward --home "$TMP/ws-$1" catalog load "$2"
}
load_into one one/target/manifest.json
same_catalog "$WS" "$TMP/ws-one" 'compact'
check 'the datasets were compared' test -s a.datasets
for form in spaced indented; do
	load_into $form $form/target/manifest.json
	same_catalog "$TMP/ws-$form" "$TMP/ws-one" "$form"
done
load_into macros macros/target/manifest.json
load_into macros_one macros_one/target/manifest.json
same_catalog "$TMP/ws-macros" "$TMP/ws-macros_one" 'nodes before the middle'

# A node given twice: one dataset, with the last text.
FIRST=$(cat first_model)
WS2=$TMP/ws2
expect_exit 0 steward --home "$WS2" init "$WS2"
expect_exit 0 steward --home "$WS2" catalog load dup/target/manifest.json
expect_stdout_line "catalog: $(want datasets) datasets ($(want datasets) versions)"
expect_equal 'Described again at the end.' \
	"$(sqlite3 "$WS2/.steward/catalog.db" "SELECT d.description FROM datasets d JOIN aliases a
		ON a.dataset_id = d.id WHERE a.alias = '$FIRST'")" 'the later text of the node given twice'

# Broken after and before the split point: refused with the place, the catalog unchanged.
for part in late early; do
	expect_exit 3 steward --home "$WS2" catalog load $part/target/manifest.json
	expect_stderr_contains "$part/target/manifest.json:1:$(cat ${part}_col): error: invalid JSON: ':' expected near '\"test\"'"
	expect_stderr_line 'error: 1 error found; the catalog was not changed'
done
expect_equal "$(want datasets)" "$(sqlite3 "$WS2/.steward/catalog.db" 'SELECT count(*) FROM datasets')" \
	'the catalog as it was'

# The digest's thread runs at idle priority. With the load and a busy loop on one CPU it gets
# next to nothing, and the load hashes what is left itself: a second load of the manifest,
# touched (new stat data, so that it is hashed first and at once), finds it unchanged.
WS3=$TMP/ws3
expect_exit 0 steward --home "$WS3" init "$WS3"
taskset -c 0 sh -c 'while :; do :; done' &
HOG=$!
trap 'kill "$HOG" 2>/dev/null; rm -rf "$TMP"' EXIT
expect_exit 0 taskset -c 0 "$STEWARD" --home "$WS3" catalog load split/target/manifest.json
kill "$HOG"
touch -d '2001-01-01 00:00:00' split/target/manifest.json
expect_exit 0 steward --home "$WS3" catalog load split/target/manifest.json
expect_stdout_line 'loaded 1 file: 0 new, 0 changed, 1 unchanged, 0 removed; 0 documents read'

done_testing
