#!/bin/sh
# Full-text search over the sample catalog: ranking, JSON output, filters, bad queries.
. "$(dirname "$0")/lib.sh"
require jq

init_ws
expect_exit 0 steward catalog load "$CORPUS"

# ---- ranking ----
expect_exit 0 steward search revenue --json --limit 100
cp "$OUT" "$TMP/all.json"
expect_jq 'type == "array" and length > 0' 'search --json prints a non-empty array'
expect_jq 'all(.[]; (.name | type) == "string" and (.kind | type) == "string"
	and (.score | type) == "number" and (.description | type) == "string")' \
	'every hit has name, kind, score and description'
expect_jq '.[0].name | IN("bi.revenue", "dw.revenue_daily", "glossary.revenue")' \
	'the first hit is bi.revenue, dw.revenue_daily or glossary.revenue'
expect_jq '.[0].certified == true' 'the first hit is certified'
expect_jq '(map(.name) | index("bi.revenue")) < (map(.name) | index("bi.adhoc_revenue_kim"))' \
	'bi.revenue ranks above bi.adhoc_revenue_kim'
expect_jq '(map(.name) | index("bi.adhoc_revenue_kim")) > 0' 'bi.adhoc_revenue_kim is found, below the first hit'
expect_jq '[.[].score] == ([.[].score] | sort | reverse)' 'hits are sorted by descending score'

expect_exit 0 steward search revenue
expect_stderr_empty
check 'text output: header line' grep -qE '^SCORE +NAME +KIND +DESCRIPTION$' "$OUT"
check 'text output: the first hit is certified and shown so' \
	sh -c 'sed -n 2p "$1" | grep -qE "^ *[0-9]+\.[0-9]{2}  (bi\.revenue|dw\.revenue_daily|glossary\.revenue) .*\[certified\]"' sh "$OUT"
check 'text output: same hits as --json' \
	test "$(tail -n +2 "$OUT" | awk '{print $2}')" = "$(jq -r '.[].name' "$TMP/all.json")"

expect_exit 0 steward search REVENUE --json --limit 100
check 'search is case-insensitive' test "$(jq -c 'map(.name)' "$OUT")" = "$(jq -c 'map(.name)' "$TMP/all.json")"
expect_exit 0 steward search reven --json --limit 100
check 'words match as prefixes' test "$(jq -c 'map(.name)' "$OUT")" = "$(jq -c 'map(.name)' "$TMP/all.json")"
expect_exit 0 steward search 'revenue daily' --json
expect_jq 'map(.name) == ["dw.revenue_daily"]' 'every word must match'
expect_exit 0 steward search birth_year --json
expect_jq 'map(.name) | index("dw.dim_user") != null' 'field names are searchable'
expect_exit 0 steward search bookings --json
expect_jq 'map(.name) | (index("glossary.revenue") != null and index("bi.revenue") != null)' \
	'a word from a glossary term finds the datasets the term relates to'
expect_exit 0 steward search revenue --limit 3 --json
expect_jq 'length == 3' '--limit 3 gives 3 hits'
check '--limit keeps the best hits' test "$(jq -c 'map(.name)' "$OUT")" = "$(jq -c '.[:3] | map(.name)' "$TMP/all.json")"

# ---- filters: each gives exactly the unfiltered hits that match it, in the same order ----
# The cards of all unfiltered hits, to know their tags, domain and pii.
for name in $(jq -r '.[].name' "$TMP/all.json"); do
	steward show "$name" --json
done | jq -s 'map({key: .name, value: .}) | from_entries' >"$TMP/cards.json"
check 'cards of all hits' jq -e 'length > 5' "$TMP/cards.json"

# filter DESC JQ-SELECT OPTION...: compares `search revenue OPTION...` with the unfiltered
# hits for which JQ-SELECT (given the hit as . and its card as $c) holds.
filter() {
	desc=$1 sel=$2
	shift 2
	expect_exit 0 steward search revenue --json --limit 100 "$@"
	jq -c --slurpfile cards "$TMP/cards.json" \
		"[.[] | . as \$h | \$cards[0][.name] as \$c | select($sel) | .name]" "$TMP/all.json" \
		>"$TMP/want.txt"
	jq -c 'map(.name)' "$OUT" >"$TMP/got.txt"
	test_cmp "$TMP/want.txt" "$TMP/got.txt" "$desc: exactly the matching hits"
	check "$desc: narrows (fewer hits, but some)" \
		test "$(jq length "$OUT")" -gt 0 -a "$(jq length "$OUT")" -lt "$(jq length "$TMP/all.json")"
}
filter '--kind dashboard' '.kind == "dashboard"' --kind dashboard
filter '--kind term' '.kind == "term"' --kind term
filter '--tag certified' '$c.tags | index("certified") != null' --tag certified
filter '--tag kpi' '$c.tags | index("kpi") != null' --tag kpi
filter '--owner data-eng' '.owner == "data-eng"' --owner data-eng
filter '--domain finance' '$c.domain == "finance"' --domain finance
filter '--pii' '[$c.fields[].pii] | any(. != "none")' --pii
filter '--kind table --owner data-eng' '.kind == "table" and .owner == "data-eng"' --kind table --owner data-eng
expect_exit 0 steward search revenue --kind dashboard --tag certified --json
expect_jq 'map(.name) == ["bi.revenue"]' '--kind dashboard --tag certified: bi.revenue only'
expect_exit 0 steward search revenue --owner nobody-at-all
expect_stderr_line 'no matches' 'a filter that matches nothing: no matches'

# ---- queries that find nothing or are not queries ----
expect_exit 0 steward search xyzzyq
expect_stderr_line 'no matches'
expect_stdout_empty 'no match: nothing on stdout'
expect_exit 0 steward search xyzzyq --json
expect_jq '. == []' 'no match with --json: an empty array'
expect_stderr_empty 'no match with --json: stderr is empty'

expect_exit 2 steward search '!?.,; --- ***'
expect_stderr_line 'error: query has no words to search for'
expect_stdout_empty
expect_exit 2 steward search ''
expect_stderr_line 'error: query has no words to search for'
# FTS5 syntax in the query is taken literally, never as an FTS5 error.
for q in 'revenue"' 'NEAR(revenue' 'revenue OR' 'rev*' '^revenue' 'revenue:' 'a AND' '(revenue'; do
	expect_exit 0 steward search "$q"
	expect_stderr_lacks 'error' "query '$q' is not an error"
done

done_testing
