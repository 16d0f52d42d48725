#!/bin/sh
# A manifest of 64 datasets or more is written by a second thread (catalog/dbt_pipe.c):
# the rows and ids are those of a load on one thread, and a name declared already stops
# the thread before its row, to be refused or kept elsewhere in the same words.
. "$(dirname "$0")/lib.sh"
require sqlite3

DB=$WS/.steward/catalog.db
init_ws
cd "$TMP" || exit 99
mkdir -p a/target b/target desc
python3 "$STEWARD_SRC/bench/gen_manifest.py" --models 100 --out a/target/manifest.json >/dev/null
cp a/target/manifest.json b/target/manifest.json
# Figures from the manifest, computed here: datasets (enabled models, seeds, snapshots,
# sources) and their columns.
python3 - a/target/manifest.json >figures <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
nodes = [n for n in list(m["nodes"].values()) + list(m["sources"].values())
         if n["resource_type"] in ("model", "seed", "snapshot", "source")
         and n.get("config", {}).get("enabled", True)
         and n.get("config", {}).get("materialized") != "ephemeral"]
print(len(nodes), sum(len(n.get("columns", {})) for n in nodes))
clash = [n for n in nodes if n["resource_type"] == "model"][40]
print("%s-%s.%s" % (clash["database"], clash["schema"], clash.get("alias") or clash["name"]))
print(clash["unique_id"])
PY
set -- $(cat figures)
NDS=$1 NFIELDS=$2 CLASH=$3 CLASH_ID=$4
expect_exit 0 steward catalog load a/target/manifest.json
expect_stdout_line "catalog: $NDS datasets ($NDS versions)"
expect_equal "$NDS $NFIELDS" \
	"$(sqlite3 "$DB" "SELECT (SELECT count(*) FROM datasets), (SELECT count(*) FROM fields)" | tr '|' ' ')" \
	'datasets and fields, as the manifest has them'
expect_equal "1 $NDS" "$(sqlite3 "$DB" 'SELECT min(id), max(id) FROM datasets' | tr '|' ' ')" \
	'ids given in order from 1'
expect_equal "$NDS" "$(sqlite3 "$DB" 'SELECT count(DISTINCT dataset_id) FROM aliases')" \
	'every dataset has its alias'
expect_equal 0 "$(sqlite3 "$DB" 'SELECT count(*) FROM fields WHERE dataset_id NOT IN (SELECT id FROM datasets)')" \
	'every field belongs to a dataset'

# The tests become constraints, in the order of the test nodes per dataset (they are read
# while the datasets are stored, and written after the last one).
python3 - a/target/manifest.json >want_cons <<'PY'
import json, re, sys
m = json.load(open(sys.argv[1]))
name = {}
for n in list(m["nodes"].values()) + list(m["sources"].values()):
    if n["resource_type"] in ("model", "seed", "snapshot", "source") \
            and n.get("config", {}).get("enabled", True) \
            and n.get("config", {}).get("materialized") != "ephemeral":
        name[n["unique_id"]] = "%s-%s.%s" % (n["database"], n["schema"],
                                             n.get("alias") or n["name"])
rows, ords = [], {}
for uid, n in m["nodes"].items():
    tm = n.get("test_metadata") or {}
    if n["resource_type"] != "test" or n["attached_node"] not in name:
        continue
    ds = name[n["attached_node"]]
    ref_ds = ref_field = ""
    if tm["name"] == "relationships":
        # The node ref() names, else the other dependency stored; else no constraint.
        to = re.search(r"ref\('([^']*)'\)", tm["kwargs"]["to"]).group(1)
        deps = n["depends_on"]["nodes"]
        ref = [d for d in deps if d.split(".")[-1] == to and d in name] or \
              [d for d in deps if d != n["attached_node"] and d in name]
        if not ref:
            continue
        ref_ds, ref_field = name[ref[0]], tm["kwargs"]["field"]
    ords[ds] = ords.get(ds, -1) + 1
    rows.append((ds, ords[ds], tm["name"], n["column_name"], ref_ds, ref_field, uid))
for r in sorted(rows):
    print("|".join(str(v) for v in r))
PY
expect_equal "$(cat want_cons)" \
	"$(sqlite3 "$DB" "SELECT d.name, c.ord, c.kind, c.field, coalesce(c.ref_ds, ''), coalesce(c.ref_field, ''), c.origin FROM constraints c JOIN datasets d ON d.id = c.dataset_id ORDER BY d.name, c.ord")" \
	'constraints as the tests make them'

# The manifest writes the search rows itself: they are what catalog_load() builds from the
# rows stored (the query of catalog/load.c's reindex_sql).
fts_sql="SELECT rowid, quote(name), quote(description), quote(fields), quote(tags), quote(owner), quote(terms) FROM search_fts ORDER BY rowid"
sql_sql="SELECT d.id, quote(d.name), quote(d.description), quote((SELECT group_concat(f.path || coalesce(' ' || f.description, '') || coalesce(' ' || f.category, ''), ' ') FROM fields f WHERE f.dataset_id = d.id)), quote(d.tags), quote(d.owner), quote((SELECT group_concat(t.name || coalesce(' ' || t.description, ''), ' ') FROM term_links l JOIN datasets t ON t.id = l.dataset_id WHERE l.target = d.name)) FROM datasets d ORDER BY d.id"
expect_equal "$(sqlite3 "$DB" "$sql_sql")" "$(sqlite3 "$DB" "$fts_sql")" 'search rows as the index builds them'

# A glossary term relates to one of them: that one's row has the term's text.
init_ws "$TMP/ws5"
FIRST=$(sqlite3 "$DB" 'SELECT name FROM datasets WHERE id = 1')
mkdir -p terms
printf 'kind: term\nname: glossary.thing\ndescription: A thing.\nrelated: [%s]\n' "$FIRST" >terms/t.yaml
expect_exit 0 "$STEWARD" --home "$TMP/ws5" catalog load a/target/manifest.json terms
DB5=$TMP/ws5/.steward/catalog.db
expect_equal "$(sqlite3 "$DB5" "$sql_sql")" "$(sqlite3 "$DB5" "$fts_sql")" 'search rows with a term'
expect_equal "'glossary.thing A thing.'" "$(sqlite3 "$DB5" "SELECT quote(terms) FROM search_fts f JOIN datasets d ON d.id = f.rowid WHERE d.name = '$FIRST'")" 'the term is in it'

# A second copy: every dataset is declared already, from the first one on.
expect_exit 0 steward catalog load a/target/manifest.json b/target/manifest.json
expect_stdout_line "catalog: $NDS datasets ($NDS versions), $NDS warnings"
expect_stderr_line "b/target/manifest.json: warning: nodes.\"$CLASH_ID\": dataset '$CLASH' is already declared by a/target/manifest.json; it is kept there, and lineage joins it by name"

# A descriptor declares the 41st: the manifest is refused there, and nothing is stored.
init_ws "$TMP/ws2"
printf 'kind: table\nname: %s\nfields:\n  - {name: id, type: int, pii: none}\n' "$CLASH" >desc/clash.yaml
expect_exit 3 "$STEWARD" --home "$TMP/ws2" catalog load a/target/manifest.json desc
expect_stderr_line "a/target/manifest.json: error: nodes.\"$CLASH_ID\": dataset '$CLASH' is already declared by a descriptor (a descriptor adds to a dbt dataset with 'extends')"
expect_equal 0 "$(sqlite3 "$TMP/ws2/.steward/catalog.db" 'SELECT count(*) FROM datasets')" \
	'nothing was loaded'
# Datasets are stored as their columns are checked. A warning of storing (the scrubber's,
# on the 6th model) still follows those of the checks (two columns that clean to one name,
# on the 61st), and an error in the 71st stores nothing: what was stored goes again, its
# warning is not given, and an extension of the 6th names no dataset.
init_ws "$TMP/ws3"
mkdir -p w/target e/target ext
python3 - a/target/manifest.json >ids <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
models = [n for n in m["nodes"].values() if n["resource_type"] == "model"
          and n["config"].get("materialized") != "ephemeral"]
a, b, c = models[5], models[60], models[70]
a["description"] = "Ask bob.smith@example.com about it."
col = dict(next(iter(b["columns"].values())))
col["name"] = "order id"
b["columns"]["order id"] = col
col = dict(col)
col["name"] = "order?id"
b["columns"]["order?id"] = col
json.dump(m, open("w/target/manifest.json", "w"))
next(iter(c["columns"].values()))["meta"] = {"pii": "bogus"}
json.dump(m, open("e/target/manifest.json", "w"))
print(a["unique_id"], b["unique_id"], c["unique_id"], next(iter(c["columns"])))
PY
set -- $(cat ids)
A=$1 B=$2 C=$3 CCOL=$4
dup="nodes.\"$B\": two columns have the name 'order_id' in steward; the second is skipped"
scrub="nodes.\"$A\".description: holds what looks like personal data (1 value); it is stored with it replaced"
expect_exit 0 "$STEWARD" --home "$TMP/ws3" catalog load w/target/manifest.json
expect_equal "w/target/manifest.json: warning: $dup
w/target/manifest.json: warning: $scrub" "$(cat "$ERR")" 'the checks speak first'
init_ws "$TMP/ws4"
printf 'extends: %s\ncolumns:\n  - {name: id, pii: none}\n' "$A" >ext/x.yaml
expect_exit 3 "$STEWARD" --home "$TMP/ws4" catalog load e/target/manifest.json ext
expect_equal "e/target/manifest.json: warning: $dup
e/target/manifest.json: error: nodes.\"$C\".columns.$CCOL.meta.pii: unknown class \"bogus\"
ext/x.yaml:1:10: error: 'extends: $A' names no dbt unique_id or dataset loaded from a dbt manifest
error: 2 errors found; the catalog was not changed" "$(cat "$ERR")" 'nothing stored from a manifest with errors'

# 256 search rows or more, into an empty index, are indexed on a thread of their own and
# copied in (catalog/ftsbuild.c): the rows are those the index builds, FTS5 finds the index
# sound, and a search finds what the rows hold.
init_ws "$TMP/ws6"
mkdir -p big/target
python3 "$STEWARD_SRC/bench/gen_manifest.py" --models 300 --out big/target/manifest.json >/dev/null
expect_exit 0 "$STEWARD" --home "$TMP/ws6" catalog load big/target/manifest.json
DB6=$TMP/ws6/.steward/catalog.db
expect_equal "$(sqlite3 "$DB6" "$sql_sql")" "$(sqlite3 "$DB6" "$fts_sql")" 'search rows built beside the writer'
expect_equal "" "$(sqlite3 "$DB6" "INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)" 2>&1)" \
	'the index copied in is sound'
LAST=$(sqlite3 "$DB6" 'SELECT name FROM datasets ORDER BY id DESC LIMIT 1')
expect_exit 0 "$STEWARD" --home "$TMP/ws6" search "$LAST" --limit 1000
expect_stdout_contains "  $LAST  "
# Into a catalog that holds rows, where SQLite checks foreign keys, a dataset's row is
# written before the rows that name it (the pipe's lead batch); ids follow those there.
init_ws "$TMP/ws7"
mkdir -p pre
printf 'kind: table\nname: pre.existing\nfields:\n  - {name: id, type: int, pii: none}\n' >pre/p.yaml
expect_exit 0 "$STEWARD" --home "$TMP/ws7" catalog load pre
expect_exit 0 "$STEWARD" --home "$TMP/ws7" catalog load a/target/manifest.json
DB7=$TMP/ws7/.steward/catalog.db
expect_equal "$((NDS + 1)) $((NFIELDS + 1)) 2 $((NDS + 1))" \
	"$(sqlite3 "$DB7" "SELECT (SELECT count(*) FROM datasets), (SELECT count(*) FROM fields), (SELECT min(dataset_id) FROM aliases), (SELECT max(id) FROM datasets)" | tr '|' ' ')" \
	'the manifest after the descriptor'
expect_equal "" "$(sqlite3 "$DB7" 'PRAGMA foreign_key_check')" 'every row names a dataset there'

# Meta and tags are stored as jansson wrote them (compact, keys sorted; catalog/dbt.c copies
# the plain parts from the manifest), escapes, numbers, nested values and large objects
# included; a description with personal data is scrubbed, with a warning, each time it
# repeats, and one without is stored as it is each time.
init_ws "$TMP/ws8"
mkdir -p j/target
python3 - a/target/manifest.json j/target/manifest.json >expect_json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
models = [n for n in m["nodes"].values() if n["resource_type"] == "model"
          and n["config"].get("materialized") != "ephemeral"]
n = models[3]
c1, c2, c3 = list(n["columns"].values())[:3]
c1["meta"] = {"pii": "none", "b": {"y": [1, 2.5, True, None, -7], "x": "\u00e9\t\"q\" \\ /"},
              "a\u00e9": 1, "k\n": "v", "a": [], "z": {}}
c1["tags"] = ["t1", "t\"2", "caf\u00e9"]
c2["meta"] = dict([("k%02d" % i, i) for i in range(20)], pii="none", nested={"b": 1, "a": [2]})
c2["description"] = c3["description"] = "Write to bob.smith@example.com for access."
n["meta"] = {"owner": "team", "x": {"b": "\\u0041", "a": 0.5}}
json.dump(m, open(sys.argv[2], "w"), indent=2)
dump = lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
print(n["unique_id"])
print(c1["name"], c2["name"], c3["name"])
print(dump(c1["meta"]))
print(dump(c1["tags"]))
print(dump(c2["meta"]))
print(dump(n["meta"]))
PY
UID8=$(sed -n 1p expect_json)
set -- $(sed -n 2p expect_json)
C1=$1 C2=$2 C3=$3
expect_exit 0 "$STEWARD" --home "$TMP/ws8" catalog load j/target/manifest.json
DB8=$TMP/ws8/.steward/catalog.db
DS8="(SELECT dataset_id FROM aliases WHERE alias = '$UID8')"
expect_equal "$(sed -n 3p expect_json)" \
	"$(sqlite3 "$DB8" "SELECT meta FROM fields WHERE dataset_id = $DS8 AND path = '$C1'")" 'column meta'
expect_equal "$(sed -n 4p expect_json)" \
	"$(sqlite3 "$DB8" "SELECT tags FROM fields WHERE dataset_id = $DS8 AND path = '$C1'")" 'column tags'
expect_equal "$(sed -n 5p expect_json)" \
	"$(sqlite3 "$DB8" "SELECT meta FROM fields WHERE dataset_id = $DS8 AND path = '$C2'")" 'a large meta'
expect_equal "$(sed -n 6p expect_json)" \
	"$(sqlite3 "$DB8" "SELECT value FROM dataset_props WHERE dataset_id = $DS8 AND key = 'dbt.meta'")" 'the model meta'
expect_equal 2 "$(grep -c 'holds what looks like personal data' "$ERR")" 'a warning for each column'
expect_equal 1 "$(sqlite3 "$DB8" "SELECT count(DISTINCT description) FROM fields WHERE dataset_id = $DS8 AND path IN ('$C2', '$C3') AND description NOT LIKE '%bob.smith%'")" \
	'both scrubbed alike'
done_testing
