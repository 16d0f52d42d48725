#!/bin/sh
# Lineage over the sample catalog (the acceptance paths), a cycle, the depth limit and
# the output formats.
. "$(dirname "$0")/lib.sh"
require jq

init_ws
expect_exit 0 steward catalog load "$CORPUS" "$FIXTURES/lineage/cycle.yaml"

# ---- bi.revenue up: reaches the production tables ----
expect_exit 0 steward lineage bi.revenue --up
expect_stderr_empty
test_cmp "$EXPECTED/lineage-bi-revenue-up.txt" "$OUT" 'lineage bi.revenue --up: golden tree'
expect_exit 0 steward lineage bi.revenue
test_cmp "$EXPECTED/lineage-bi-revenue-up.txt" "$OUT" 'lineage bi.revenue: --up is the default'
expect_exit 0 steward lineage bi.revenue --up --json
expect_jq '.root == "bi.revenue" and .column == false and .direction == "up" and .truncated == false'
expect_jq '[.nodes[].name] | index("prod.orders") != null and index("prod.enrollments") != null' \
	'bi.revenue --up reaches prod.orders and prod.enrollments'
expect_jq '.nodes[0] == {"name": "bi.revenue", "kind": "dashboard", "external": false, "depth": 0}' 'the root is node 0'
expect_jq '.nodes[] | select(.name == "prod.orders") | .depth == 3 and .kind == "table"'
expect_jq '.edges | index({"from": "prod.orders", "to": "dw.fact_enrollment"}) != null
	and index({"from": "dw.revenue_daily", "to": "bi.revenue"}) != null' 'edges follow the data flow'
expect_jq '[.nodes[].name] | length == (unique | length)' 'each node once'

# ---- events.signup down: reaches the lake and the recommender ----
expect_exit 0 steward lineage events.signup --down
expect_stdout_line 'events.signup (event)'
expect_stdout_contains '── lake.client_log (file)'
expect_stdout_contains '── ml.recommendations (model)'
expect_exit 0 steward lineage events.signup --down --json
expect_jq '.direction == "down" and ([.nodes[].name] | index("lake.client_log") != null and index("ml.recommendations") != null)' \
	'events.signup --down reaches lake.client_log and ml.recommendations'
expect_jq '.edges | index({"from": "events.signup", "to": "kafka.client_log"}) != null' 'down edges start at the root'

# ---- column lineage: dw.revenue_daily.net_revenue_usd up to prod.orders.amount ----
expect_exit 0 steward lineage dw.revenue_daily.net_revenue_usd --up
cat >"$TMP/col.txt" <<'TREE'
dw.revenue_daily.net_revenue_usd (table)
└── dw.fact_enrollment.net_amount (table)
    └── prod.orders.amount (table)
TREE
test_cmp "$TMP/col.txt" "$OUT" 'column lineage tree'
expect_exit 0 steward lineage dw.revenue_daily.net_revenue_usd --up --json
expect_jq '.root == "dw.revenue_daily.net_revenue_usd" and .column == true' 'column lineage --json: column is true'
expect_jq '[.nodes[].name] == ["dw.revenue_daily.net_revenue_usd", "dw.fact_enrollment.net_amount", "prod.orders.amount"]' \
	'column lineage --json: the nodes'
expect_jq '.edges == [{"from": "dw.fact_enrollment.net_amount", "to": "dw.revenue_daily.net_revenue_usd"},
	{"from": "prod.orders.amount", "to": "dw.fact_enrollment.net_amount"}]' 'column lineage --json: the edges'
expect_jq 'all(.nodes[]; .external == false)' 'column lineage: no external node'
expect_exit 0 steward lineage prod.orders.amount --down --json
expect_jq '[.nodes[].name] | index("dw.revenue_daily.net_revenue_usd") != null' 'and back down from prod.orders.amount'

# ---- a cycle terminates ----
# Each walk ends (a hang is caught by meson's timeout) and prints the cycle once: the number
# of lines is that of one turn round the cycle, with the return marked "(cycle)".
# cycle_walk LINES CYCLES ARGS...: lineage ARGS exits 0, prints LINES lines, CYCLES of them marked.
cycle_walk() {
	local lines="$1" cycles="$2"
	shift 2
	expect_exit 0 steward lineage "$@"
	expect_count "$lines" '' "$OUT" "lineage $*: $lines lines, once round the cycle"
	expect_count "$cycles" '\(cycle\)$' "$OUT" "lineage $*: the cycle marked $cycles time(s)"
}
cycle_walk 4 1 cyc.a --down
cycle_walk 11 2 cyc.a --both
cycle_walk 4 1 cyc.a.x --up
cycle_walk 2 1 cyc.self --up
expect_exit 0 steward lineage cyc.a --json
expect_jq '(.nodes | length) == 3 and (.edges | length) == 3 and .truncated == false' \
	'lineage cyc.a --json: three nodes and three edges, not truncated'
expect_exit 0 steward lineage cyc.a --dot
expect_count 6 '^  "cyc\.' "$OUT" 'lineage cyc.a --dot: three nodes and three edges'
cycle_walk 4 1 cyc.a --up
cat >"$TMP/cycle.txt" <<'TREE'
cyc.a (table)
└── cyc.c (table)
    └── cyc.b (table)
        └── cyc.a (table)  (cycle)
TREE
test_cmp "$TMP/cycle.txt" "$OUT" 'the cycle is printed once and marked'
expect_exit 0 steward lineage cyc.self --up
expect_stdout_line '└── cyc.self (table)  (cycle)'
expect_exit 0 steward lineage cyc.a.x --up --json
expect_jq '[.nodes[].name] == ["cyc.a.x", "cyc.c.x", "cyc.b.x"] and (.edges | length) == 3' \
	'column cycle: three nodes, three edges'

# ---- the depth limit ----
expect_exit 0 steward lineage bi.revenue --up --depth 1
printf 'bi.revenue (dashboard)\n└── dw.revenue_daily (table)\n' >"$TMP/depth1.txt"
test_cmp "$TMP/depth1.txt" "$OUT" '--depth 1: one level'
expect_stderr_line 'note: the depth limit of 1 cut the graph; use --depth for more'
expect_exit 0 steward lineage bi.revenue --up --depth 1 --json
expect_jq '.depth == 1 and .truncated == true and ([.nodes[].name] == ["bi.revenue", "dw.revenue_daily"])' \
	'--depth 1 --json: truncated'
expect_exit 0 steward lineage bi.revenue --up --depth 2
expect_stderr_line 'note: the depth limit of 2 cut the graph; use --depth for more'
expect_exit 0 steward lineage bi.revenue --up --depth 3
expect_stderr_empty '--depth 3 reaches every source: no cut reported'
test_cmp "$EXPECTED/lineage-bi-revenue-up.txt" "$OUT" '--depth 3: the whole tree'
expect_exit 2 steward lineage bi.revenue --depth 0
expect_stderr_line "error: --depth needs a positive number, not '0'"

# ---- formats and directions ----
expect_exit 0 steward lineage bi.revenue --dot
check '--dot starts with digraph' test "$(head -n 1 "$OUT")" = 'digraph lineage {'
check '--dot ends with }' test "$(tail -n 1 "$OUT")" = '}'
expect_stdout_line '  "dw.revenue_daily" -> "bi.revenue";'
expect_stdout_line '  "bi.revenue" [label="bi.revenue\ndashboard", penwidth=2];'
if command -v dot >/dev/null 2>&1; then
	check 'graphviz accepts the --dot output' dot -Tsvg -o "$TMP/lineage.svg" "$OUT"
else
	skip 'graphviz accepts the --dot output' 'dot is not installed'
fi
expect_exit 2 steward lineage bi.revenue --json --dot
expect_stderr_line 'error: --json and --dot cannot be combined'

expect_exit 0 steward lineage bi.revenue --both
expect_stdout_line 'upstream of bi.revenue:'
expect_stdout_line 'downstream of bi.revenue:'
expect_stdout_line '  (no downstream lineage)'
expect_exit 0 steward lineage prod.courses --up
expect_stdout_line '  (no upstream lineage)'
expect_exit 0 steward lineage dw.dim_course --both --json
expect_jq '.direction == "both" and ([.nodes[].name] | index("prod.courses") != null and index("bi.revenue") != null)' \
	'--both: upstream and downstream nodes'

# ---- unknown names ----
expect_exit 4 steward lineage bi.revenu
expect_stderr_line "error: no dataset 'bi.revenu' in the catalog (did you mean 'bi.revenue'?)"
expect_exit 4 steward lineage dw.dim_user.no_such_field
expect_stderr_line "error: no field 'no_such_field' in dataset 'dw.dim_user'"
expect_exit 2 steward lineage nodots
expect_stderr_line "error: 'nodots' is not a dataset name (namespace.name) or dataset.field"

done_testing
