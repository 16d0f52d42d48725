#!/bin/sh
# A load with one bad file changes nothing: not the datasets, not the search index, not
# the record of which files were loaded. The good changes in the same load apply later.
. "$(dirname "$0")/lib.sh"
require sqlite3 jq

DB=$WS/.steward/catalog.db
init_ws
cp -R "$CORPUS" "$TMP/cat"
cd "$TMP" || exit 99
expect_exit 0 steward catalog load cat

# snapshot NAME: what the catalog looks like from outside and inside.
snapshot() {
	mkdir -p "$TMP/$1"
	steward show bi.revenue --json >"$TMP/$1/show-bi.revenue.json" 2>&1
	steward show glossary.revenue --json >"$TMP/$1/show-glossary.revenue.json" 2>&1
	steward show events.signup --json >"$TMP/$1/show-events.signup.json" 2>&1
	steward search revenue >"$TMP/$1/search-revenue.txt" 2>&1
	steward search zanzibar >"$TMP/$1/search-zanzibar.txt" 2>&1
	sqlite3 "$DB" 'select count(*) from datasets' >"$TMP/$1/count.txt"
	sqlite3 "$DB" .dump >"$TMP/$1/dump.sql"
}
snapshot before
check 'before: 31 dataset rows' test "$(cat "$TMP/before/count.txt")" = 31
expect_jq '.name == "bi.revenue"' 'before: show bi.revenue works' "$TMP/before/show-bi.revenue.json"

# One load with a changed file, a deleted file, a new file and one bad file.
sed 's/^description: The certified revenue dashboard/description: The certified zanzibar revenue dashboard/' \
	cat/bi/dashboards.yaml >cat/bi/dashboards.yaml.new && mv cat/bi/dashboards.yaml.new cat/bi/dashboards.yaml
check 'the description was edited' grep -q zanzibar cat/bi/dashboards.yaml
rm cat/glossary/terms.yaml
mkdir cat/extra
cp "$FIXTURES/valid-new.yaml" cat/extra/new.yaml
cp "$FIXTURES/errors/unknown-kind.yaml" cat/extra/zz-bad.yaml

expect_exit 3 steward catalog load cat
expect_stderr_line "cat/extra/zz-bad.yaml:2:7: error: unknown kind 'tabel' (did you mean 'table'?)"
expect_stderr_line 'error: 1 error found; the catalog was not changed'
expect_stdout_empty 'failed load: no summary on stdout'

snapshot after
for f in show-bi.revenue.json show-glossary.revenue.json show-events.signup.json \
	search-revenue.txt search-zanzibar.txt count.txt dump.sql; do
	test_cmp "$TMP/before/$f" "$TMP/after/$f" "unchanged after the failed load: $f"
done

# The failed load recorded nothing: once the bad file is gone, every change is seen.
rm cat/extra/zz-bad.yaml
expect_exit 0 steward catalog load cat
expect_stdout_line 'loaded 14 files: 1 new, 1 changed, 12 unchanged, 1 removed; 5 documents read'
expect_stdout_line 'removed 3 datasets whose descriptor is gone: glossary.active_student glossary.personal_data glossary.revenue'
expect_stdout_line 'catalog: 28 datasets (29 versions)'
expect_exit 0 steward search zanzibar
expect_stdout_contains 'bi.revenue'
expect_exit 0 steward show extra.new_table

# A failing --check and a failing load leave the database file byte-identical.
cp "$DB" "$TMP/db-copy"
cp "$FIXTURES/errors/missing-pii.yaml" cat/extra/zz-bad.yaml
expect_exit 3 steward catalog load --check cat
expect_exit 3 steward catalog load cat
check 'catalog.db is byte-identical after failed loads' cmp "$DB" "$TMP/db-copy"

done_testing
