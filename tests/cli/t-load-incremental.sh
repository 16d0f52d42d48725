#!/bin/sh
# Loading a changing copy of the sample catalog: changed files are re-read, unchanged
# ones skipped, vanished ones removed, datasets move between files, --check writes nothing.
. "$(dirname "$0")/lib.sh"
require sqlite3 jq

DB=$WS/.steward/catalog.db
init_ws
cp -R "$CORPUS" "$TMP/cat"
cd "$TMP" || exit 99

# edit FILE SED-SCRIPT: edits a file in place (a new inode, so the change is always seen).
edit() {
	sed "$2" "$1" >"$1.new" && mv "$1.new" "$1"
}

# move_doc NAME FROM TO: moves the YAML document that declares NAME from FROM to TO
# (appended after a '---'; TO is created if needed).
move_doc() {
	awk -v name="$1" -v out="$3.doc" '
		function flush() {
			if (doc != "") {
				if (hit) printf "%s", doc > out
				else { if (kept++) printf "---\n"; printf "%s", doc }
			}
			doc = ""; hit = 0
		}
		$0 == "---" { flush(); next }
		{ doc = doc $0 "\n"; if ($0 == "name: " name) hit = 1 }
		END { flush() }' "$2" >"$2.new" && mv "$2.new" "$2"
	if [ -s "$3" ]; then printf -- '---\n' >>"$3"; fi
	cat "$3.doc" >>"$3" && rm "$3.doc"
}

expect_exit 0 steward catalog load cat
expect_stdout_line 'loaded 14 files: 14 new, 0 changed, 0 unchanged, 0 removed; 31 documents read'
# A fresh load takes each file's size, time and inode from the fstat() that read it.
for f in cat/events/search.yaml cat/prod/users.yaml; do
	want=$(stat -c '%s %.9Y %i' "$f" | tr -d .)
	got=$(sqlite3 "$DB" "SELECT size || ' ' || mtime_ns || ' ' || inode FROM files WHERE display = '$f'")
	check "the file list has the size, mtime and inode of $f" [ "$got" = "$want" ]
done

# ---- a changed description ----
edit cat/events/search.yaml 's/^description: A learner ran a search from the search bar\./description: A learner ran a quokka search from the search bar./'
check 'events/search.yaml was edited' grep -q quokka cat/events/search.yaml
expect_exit 0 steward catalog load cat
expect_stdout_line 'loaded 14 files: 0 new, 1 changed, 13 unchanged, 0 removed; 1 document read'
expect_stdout_line 'catalog: 30 datasets (31 versions)'
expect_exit 0 steward search quokka --json
expect_jq 'length == 1 and .[0].name == "events.search"' 'search finds the new word in events.search only'
expect_exit 0 steward show events.search --json
expect_jq '.description == "A learner ran a quokka search from the search bar."' 'show has the new description'

# ---- a new mtime but the same content: hashed, found unchanged, nothing read ----
touch -d '2001-02-03 04:05:06' cat/prod/users.yaml
expect_exit 0 steward catalog load cat
expect_stdout_line 'loaded 14 files: 0 new, 0 changed, 14 unchanged, 0 removed; 0 documents read'

# ---- --check changes nothing ----
sqlite3 "$DB" .dump >"$TMP/dump-before-check.sql"
edit cat/events/search.yaml 's/quokka/wombat/'
rm cat/glossary/terms.yaml
expect_exit 0 steward catalog load --check cat
expect_stdout_line 'checked 13 files: 0 new, 1 changed, 12 unchanged, 1 removed; 1 document read'
expect_stdout_line 'removed 3 datasets whose descriptor is gone: glossary.active_student glossary.personal_data glossary.revenue'
expect_stdout_line 'catalog would have: 27 datasets (28 versions)'
sqlite3 "$DB" .dump >"$TMP/dump-after-check.sql"
test_cmp "$TMP/dump-before-check.sql" "$TMP/dump-after-check.sql" '--check left the database as it was'
expect_exit 0 steward search wombat
expect_stderr_line 'no matches' 'after --check: the new word is not searchable'
expect_exit 0 steward show glossary.revenue
cp "$CORPUS/glossary/terms.yaml" cat/glossary/terms.yaml
expect_exit 0 steward catalog load cat
expect_stdout_line 'loaded 14 files: 0 new, 1 changed, 13 unchanged, 0 removed; 1 document read' \
	'after --check, the real load still sees the change'

# ---- a deleted file ----
rm cat/bi/dashboards.yaml
expect_exit 0 steward catalog load cat
expect_stdout_line 'loaded 13 files: 0 new, 0 changed, 13 unchanged, 1 removed; 0 documents read'
expect_stdout_line 'removed 4 datasets whose descriptor is gone: bi.ab_tests bi.adhoc_revenue_kim bi.marketing_attribution bi.revenue'
expect_stdout_line 'catalog: 26 datasets (27 versions), 1 warning'
expect_stderr_contains "term relates to undeclared dataset 'bi.revenue'" 'a term left pointing at a removed dataset is reported'
for name in bi.ab_tests bi.adhoc_revenue_kim bi.marketing_attribution bi.revenue; do
	expect_exit 4 steward show "$name"
	expect_stderr_contains "no dataset '$name' in the catalog"
done
expect_exit 0 steward search revenue --json
expect_jq '[.[].name | select(startswith("bi."))] == []' 'search no longer finds the removed dashboards'
expect_exit 0 steward lineage dw.revenue_daily --down --json
expect_jq '[.nodes[].name] == ["dw.revenue_daily"]' 'dw.revenue_daily has no downstream left'
expect_exit 0 steward catalog load cat
expect_stdout_line 'loaded 13 files: 0 new, 0 changed, 13 unchanged, 0 removed; 0 documents read' \
	'the removal is reported once'

# ---- a renamed file: its datasets are not reported as removed ----
mv cat/ml/features.yaml cat/ml/renamed.yaml
expect_exit 0 steward catalog load cat
expect_stdout_line 'loaded 13 files: 1 new, 0 changed, 12 unchanged, 1 removed; 2 documents read'
expect_stdout_lacks 'removed 2 datasets' 'renamed file: no dataset reported as removed'
expect_stderr_empty 'renamed file: no duplicate error'
expect_exit 0 steward show ml.user_features --json
expect_jq '.source.file == "cat/ml/renamed.yaml"' 'ml.user_features is now declared in renamed.yaml'

# ---- a dataset moved to a new file, in the same load ----
move_doc prod.orders cat/prod/users.yaml cat/prod/orders.yaml
check 'prod.orders left users.yaml' test "$(grep -c '^name: prod.orders$' cat/prod/users.yaml)" -eq 0
check 'prod.orders is in orders.yaml' grep -qx 'name: prod.orders' cat/prod/orders.yaml
expect_exit 0 steward catalog load cat
expect_stdout_line 'loaded 14 files: 1 new, 1 changed, 12 unchanged, 0 removed; 5 documents read'
expect_stdout_line 'catalog: 26 datasets (27 versions)'
expect_stderr_empty 'moved dataset: no false duplicate'
expect_exit 0 steward show prod.orders --json
expect_jq '.source.file == "cat/prod/orders.yaml" and .source.line == 1' 'prod.orders is declared in orders.yaml'

# ---- a dataset moved into an existing file that sorts first, in the same load ----
move_doc dw.revenue_daily cat/dw/facts.yaml cat/dw/dimensions.yaml
expect_exit 0 steward catalog load cat
expect_stdout_line 'loaded 14 files: 0 new, 2 changed, 12 unchanged, 0 removed; 6 documents read'
expect_stderr_empty 'moved between existing files: no false duplicate'
expect_exit 0 steward show dw.revenue_daily --json
expect_jq '.source.file == "cat/dw/dimensions.yaml"' 'dw.revenue_daily is declared in dimensions.yaml'
expect_jq '[.downstream[].name] == [] and ([.upstream[].name] | sort) == ["dw.dim_course", "dw.fact_enrollment"]' \
	'dw.revenue_daily kept its lineage'

# ---- a dataset copied (not moved) to a second file is a duplicate, blamed on the new file ----
cp cat/prod/orders.yaml cat/prod/orders-copy.yaml
expect_exit 3 steward catalog load cat
expect_stderr_line "cat/prod/orders-copy.yaml:2:7: error: dataset 'prod.orders' version 1 is already declared at cat/prod/orders.yaml:1:1"

done_testing
