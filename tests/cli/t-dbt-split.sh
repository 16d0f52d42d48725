#!/bin/sh
# A manifest of 4 MB or more is parsed on two threads (st_json_parse_split(), catalog/dbt.c):
# the second takes the nodes from about the middle on. The catalog is the one a parse on one
# thread gives (the same manifest written with indentation, where no split point is found),
# a node given twice keeps its last text wherever the two fall, and a broken manifest is
# refused in the same words before and after the split point.
. "$(dirname "$0")/lib.sh"
require sqlite3 python3 taskset

init_ws
cd "$TMP" || exit 99
mkdir -p split/target one/target dup/target late/target early/target ws1 ws2
python3 "$STEWARD_SRC/bench/gen_manifest.py" --models 400 --out split/target/manifest.json >/dev/null
python3 - split/target/manifest.json <<'PY'
import json, sys
src = sys.argv[1]
text = open(src).read()
assert len(text) >= 4 << 20, "the manifest must reach the size of a split parse"
m = json.loads(text)
# The same manifest on many lines: its members start after a newline, not a comma, so no
# split point is found and one thread parses it.
json.dump(m, open("one/target/manifest.json", "w"), indent=1)
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
WS1=$TMP/ws1
expect_exit 0 steward --home "$WS1" init "$WS1"
expect_exit 0 steward --home "$WS1" catalog load one/target/manifest.json
tables=$(sqlite3 "$DB" "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'files'
	AND name NOT LIKE 'sqlite_%' ORDER BY name")
for t in $tables; do
	sqlite3 "$DB" "SELECT * FROM \"$t\"" >"got.$t"
	sqlite3 "$WS1/.steward/catalog.db" "SELECT * FROM \"$t\"" >"want.$t"
	test_cmp "want.$t" "got.$t" "table $t as a parse on one thread gives it"
done
check 'the datasets were compared' test -s want.datasets

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
