#!/usr/bin/env bash
# Server benchmark: `steward serve` on loopback over the 100k-dataset generated catalog, driven
# by wrk (64 connections): search and card latency (p99) and throughput, a lineage SVG of about
# 200 nodes, and the same searches as one `steward search` process per query in the same run.
# Usage: bench/serve.sh [--quick] [--keep DIR]   (see bench/README.md)
# shellcheck disable=SC2154 # wall_med, ... are set by summarize (bench/lib.sh)
set -eu

usage() {
	cat <<'EOF2'
usage: bench/serve.sh [--quick] [--keep DIR]

Loads the 100,000-dataset catalog that shared/corpus/gen_catalog.py makes into a fresh
workspace, starts `steward serve` on 127.0.0.1 with a bearer token, and runs wrk (64
connections, 2 threads) against the search API (five broad words and five dataset names,
round robin; then each kind alone) and the dataset card API, reading wrk's latency
percentiles and the server's CPU time per request; then times a lineage SVG of about 200
nodes; runs the mixed search and the card runs again on a server that keeps no answers
(--no-cache, when the binary has it); and runs the same searches as one `steward search`
process each for the ratio.

  --quick     5 s per wrk run instead of DURATION
  --keep DIR  keep the generated catalog and the loaded workspace in DIR and reuse them

Environment:
  BENCH_TMP   scratch directory (default /tmp/steward-bench)
  STEWARD     binary to test (default build/cli/steward, rebuilt with ninja first)
  DURATION    seconds per wrk run (default 15)
  DATASETS    datasets in the generated catalog (default 100000)
  PROCS       `steward search` processes timed for the ratio (default 60)

Writes bench/out/serve.json. Exit status: 0 all goals met, 1 a goal missed, 2 usage, 3 the
benchmark itself failed.
EOF2
}

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
duration=${DURATION:-15}
[ "$quick" = 0 ] || duration=5
datasets=${DATASETS:-100000}
procs=${PROCS:-60}
gen=$shared/corpus/gen_catalog.py

command -v wrk >/dev/null || apt_install wrk
command -v curl >/dev/null || apt_install curl
[ -f "$gen" ] || die "no generator at '$gen' (../shared beside the checkout)"
find_steward
make_scratch
private_steward
machine_info
echo "steward server benchmark ($mode)"
echo "machine: $(nproc) CPUs, $cpu, $mem_mb MB RAM, $(uname -sr), load average $load"
echo "version: $version ($libs), commit $commit"
echo "binary:  $steward_src (sha256 $bin_sha..., run from a copy in the scratch directory)"
echo "method: wrk -t2 -c64 -d${duration}s --timeout 30s --latency per route, on loopback; $procs search processes for the ratio"
echo

# --- the workspace ---------------------------------------------------------------------

cat_dir=$data/cat$datasets
ws=$data/ws$datasets
want="--datasets $datasets --per-file 50 $(sha256sum "$gen" | cut -c1-16)"
if stamp_ok "$ws" "$want"; then
	echo "reusing $ws"
else
	rm -rf "$cat_dir" "$ws" "$ws.stamp"
	measure gen --log "$run/gen.log" --check python3 "$gen" --datasets "$datasets" --per-file 50 \
		--out "$cat_dir"
	"$STEWARD" init "$ws" >/dev/null || die "steward init failed"
	measure load --log "$run/load.log" --check "$STEWARD" --home "$ws" catalog load "$cat_dir"
	echo "loaded $datasets datasets in $t_wall s"
	echo "$want" >"$ws.stamp"
fi

# Queries, as users type them (chosen once, kept from run to run): words of the generated
# catalog's vocabulary, each in 30% to 80% of the datasets ("user" in 80,547 of 100,000),
# and dataset names pasted whole, which match one or a few. Card names are taken from the
# catalog itself.
broad=(user payment refund session invoice)
mapfile -t narrow < <(sqlite3 "$ws/.steward/catalog.db" \
	"SELECT name FROM datasets WHERE id % 20000 = 4321 ORDER BY id" 2>/dev/null || true)
words=("${broad[@]}" "${narrow[@]}")
mapfile -t names < <(sqlite3 "$ws/.steward/catalog.db" \
	"SELECT name FROM datasets ORDER BY name LIMIT 200" 2>/dev/null || true)
[ "${#names[@]}" -gt 0 ] && [ "${#narrow[@]}" -gt 0 ] ||
	die "no dataset names in the workspace's catalog"

# --- the server ------------------------------------------------------------------------

token=$("$STEWARD" --home "$ws" token new "$(id -un)" --expires 1 2>"$run/token.err" | grep -o 'stw_[A-Za-z0-9_-]*' | head -1)
[ -n "$token" ] || { cat "$run/token.err" >&2; die "steward token new failed"; }
: >"$run/serve.err"
servers=0
# start_server [ARGS...]: starts `steward serve` on a free loopback port (with ARGS); sets
# serve_pid and url. Its access log goes to serve.err, which every server appends to.
start_server() {
	local fifo=$run/serve$servers.out line
	servers=$((servers + 1))
	mkfifo "$fifo"
	"$STEWARD" --home "$ws" serve --listen 127.0.0.1:0 "$@" >"$fifo" 2>>"$run/serve.err" &
	serve_pid=$!
	exec 7<"$fifo"
	url=
	while read -r line <&7; do
		case $line in "listening on http://"*) url=${line#listening on }; break ;; esac
	done
	[ -n "$url" ] || { cat "$run/serve.err" >&2; die "steward serve did not start"; }
	# the readiness line is read; the rest of stdout drains to nowhere
	cat <&7 >/dev/null &
	exec 7<&-
	echo "server: $url (pid $serve_pid${*:+, $*})"
}
serve_pid=
stop_server() { [ -z "$serve_pid" ] || { kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null; } || true; }
trap 'stop_server; cleanup' EXIT
start_server

# cpu_ticks: the server's user + system CPU so far, in clock ticks (/proc/PID/stat).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$serve_pid/stat"; }
hz=$(getconf CLK_TCK)

# wrk_run TAG LUA: wrk against $url with the Lua request generator LUA; sets w_rps (requests/s),
# w_p50 w_p99 (ms), w_errors (non-2xx and socket errors), and, once the server has answered
# every request of the run (drain), w_cpu: the server's CPU time per request answered (ms),
# which the other processes on the machine disturb far less than the latencies.
wrk_run() {
	local tag=$1 lua=$2 c0 c1 n0 n1
	c0=$(cpu_ticks)
	n0=$(wc -l <"$run/serve.err")
	# --timeout 30s: wrk leaves a request slower than its timeout (2 s by default) out of
	# the latency distribution and counts it as an error; here every request is measured.
	wrk -t2 -c64 -d"${duration}s" --timeout 30s --latency -s "$lua" "$url" >"$run/wrk-$tag.txt" 2>&1 ||
		{ cat "$run/wrk-$tag.txt" >&2; die "wrk failed ($tag)"; }
	drain
	c1=$(cpu_ticks)
	n1=$(wc -l <"$run/serve.err")
	w_cpu=$(awk -v c=$((c1 - c0)) -v n=$((n1 - n0)) -v hz="$hz" 'BEGIN { printf "%.2f", n ? c * 1000 / hz / n : -1 }')
	# The server's own time a request (the access line's last field: from its headers read to
	# its answer sent), apart from the time a request waits to be read or its answer to be
	# taken: where a latency comes from.
	read -r w_s50 w_s99 < <(sed -n "$((n0 + 1)),${n1}p" "$run/serve.err" |
		awk '$NF ~ /^[0-9.]+$/ { print $NF * 1000 }' | sort -n |
		awk '{ a[NR] = $1 } END { i = int(NR * 0.99 + 0.5); if (i < 1) i = 1
			if (NR) printf "%.2f %.2f\n", a[int((NR + 1) / 2)], a[i]; else print "-1 -1" }')
	read -r w_rps w_p50 w_p99 w_errors < <(python3 - "$run/wrk-$tag.txt" <<'EOF2'
import re, sys
t = open(sys.argv[1]).read()
def ms(v, u):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[u]
pct = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", t, re.M)}
rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, sock.groups())) if sock else 0)
print(rps.group(1) if rps else "0", "%.2f" % pct.get("50", -1), "%.2f" % pct.get("99", -1), errors)
EOF2
	)
	echo "  $tag: $w_rps requests/s, p50 $w_p50 ms, p99 $w_p99 ms, $w_errors errors;" \
		"server CPU $w_cpu ms a request; in the server p50 $w_s50 ms, p99 $w_s99 ms"
}

# drain: waits until the server has answered every request of the last wrk run (wrk stops
# sending at its deadline; the requests still queued are answered after, and their
# connections count against the per-client limit of the next run): the access log on stderr
# stops growing.
drain() {
	local a b
	b=$(wc -l <"$run/serve.err")
	while :; do
		a=$b
		sleep 0.5
		b=$(wc -l <"$run/serve.err")
		[ "$a" = "$b" ] && break
	done
}

# lua FILE PATH...: a wrk script that sends GET PATH round robin with the bearer token.
lua() {
	local file=$1 p
	shift
	{
		echo "local paths = {"
		for p in "$@"; do printf '  "%s",\n' "$p"; done
		echo "}"
		echo "local i = 0"
		echo "wrk.headers[\"Authorization\"] = \"Bearer $token\""
		echo "request = function() i = i % #paths + 1; return wrk.format(\"GET\", paths[i]) end"
	} >"$file"
}

# --- 1. search and card latency under 64 connections --------------------------------------

echo "1. wrk, 64 connections"
search_paths=()
for w in "${words[@]}"; do search_paths+=("/api/v1/search?q=$w"); done
lua "$run/search.lua" "${search_paths[@]}"
wrk_run search "$run/search.lua"
s_rps=$w_rps s_p99=$w_p99 s_p50=$w_p50 s_err=$w_errors s_cpu=$w_cpu s_s50=$w_s50 s_s99=$w_s99
record search_p99 "GET /api/v1/search, p99 (64 connections)" "$s_p99" ms '<=50' \
	"p50 $s_p50 ms; $s_rps requests/s; $s_err errors; server CPU $s_cpu ms a request; in the server p50 $s_s50 ms, p99 $s_s99 ms; ${#broad[@]} broad words and ${#narrow[@]} dataset names round robin" \
	"p50_ms=$s_p50" "rps=$s_rps" "errors=$s_err" "cpu_ms=$s_cpu" "server_p50_ms=$s_s50" "server_p99_ms=$s_s99"
# The two kinds of query apart, to show where the time goes (no goal of their own).
paths=()
for w in "${broad[@]}"; do paths+=("/api/v1/search?q=$w"); done
lua "$run/broad.lua" "${paths[@]}"
wrk_run search-broad "$run/broad.lua"
b_err=$w_errors
record search_broad "search, the broad words alone, p99" "$w_p99" ms - \
	"${broad[*]}; p50 $w_p50 ms; $w_rps requests/s; server CPU $w_cpu ms a request" \
	"p50_ms=$w_p50" "rps=$w_rps" "errors=$w_errors" "cpu_ms=$w_cpu"
paths=()
for w in "${narrow[@]}"; do paths+=("/api/v1/search?q=$w"); done
lua "$run/narrow.lua" "${paths[@]}"
wrk_run search-narrow "$run/narrow.lua"
n_err=$w_errors
record search_narrow "search, the dataset names alone, p99" "$w_p99" ms - \
	"${#narrow[@]} names; p50 $w_p50 ms; $w_rps requests/s; server CPU $w_cpu ms a request" \
	"p50_ms=$w_p50" "rps=$w_rps" "errors=$w_errors" "cpu_ms=$w_cpu"

card_paths=()
for n in "${names[@]}"; do card_paths+=("/api/v1/datasets/$n"); done
lua "$run/card.lua" "${card_paths[@]}"
wrk_run card "$run/card.lua"
record card_p99 "GET /api/v1/datasets/NAME, p99 (64 connections)" "$w_p99" ms '<=20' \
	"p50 $w_p50 ms; $w_rps requests/s; $w_errors errors; server CPU $w_cpu ms a request; in the server p50 $w_s50 ms, p99 $w_s99 ms; ${#names[@]} cards round robin" \
	"p50_ms=$w_p50" "rps=$w_rps" "errors=$w_errors" "cpu_ms=$w_cpu" "server_p50_ms=$w_s50" "server_p99_ms=$w_s99"
record errors "wrk: non-2xx answers and socket errors" "$((s_err + b_err + n_err + w_errors))" errors '<=0' \
	"search (mixed, broad, names) and card runs"

# --- 2. a lineage SVG of about 200 nodes ------------------------------------------------

echo "2. lineage SVG"
# The downstream lineage closest to 200 nodes (at least 180), among the 10 datasets with the
# most direct downstream edges, at depth 1 to 4, as the lineage API counts it.
svg_name= svg_depth= best=0
mapfile -t hubs < <(sqlite3 "$ws/.steward/catalog.db" \
	"SELECT src FROM edges GROUP BY src ORDER BY count(*) DESC, src LIMIT 10" 2>/dev/null || true)
for n in "${hubs[@]}"; do
	for d in 1 2 3 4; do
		c=$(curl -s -H "Authorization: Bearer $token" "$url/api/v1/lineage/$n?dir=down&depth=$d" |
			python3 -c 'import json, sys
try:
    d = json.load(sys.stdin); print(len(d.get("nodes", [])))
except Exception:
    print(0)')
		if [ "$c" -ge 180 ]; then
			if [ "$best" -lt 180 ] || [ $((c > 200 ? c - 200 : 200 - c)) -lt $((best > 200 ? best - 200 : 200 - best)) ]; then
				best=$c svg_name=$n svg_depth=$d
			fi
			break
		elif [ "$best" -lt 180 ] && [ "$c" -gt "$best" ]; then
			best=$c svg_name=$n svg_depth=$d
		fi
	done
done
[ -n "$svg_name" ] || die "no lineage in the workspace's catalog"
svg_path="/lineage/$svg_name?dir=down&depth=$svg_depth&format=svg"
code=$(curl -s -o "$run/lineage.svg" -w '%{http_code}' -H "Authorization: Bearer $token" "$url$svg_path")
if [ "$code" = 200 ]; then
	: >"$run/svg-times.txt"
	for i in $(seq 20); do
		curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $token" "$url$svg_path" \
			>>"$run/svg-times.txt"
	done
	svg_ms=$(sort -n "$run/svg-times.txt" | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] * 1000 }')
	svg_nodes=$(grep -c '<g id="node' "$run/lineage.svg" || true)
	echo "  $svg_path: median $svg_ms ms, $svg_nodes nodes"
	record svg "lineage SVG, $svg_nodes nodes (median of 20)" "$svg_ms" ms '<=300' \
		"$svg_path; $best datasets in the lineage JSON; the 10 datasets with the most downstream edges searched at depth 1 to 4 for the one nearest 200 nodes" "nodes=$svg_nodes"
else
	echo "  $svg_path: HTTP $code (no SVG route in this build)"
	record svg "lineage SVG of ~200 nodes" - ms - "skipped: $svg_path answered HTTP $code"
fi

# --- 2b. search and card with no kept answers ---------------------------------------------

# The server keeps search and card answers until the catalog changes (serve/cache.c), so the
# runs above, which repeat ten queries and 200 cards, mostly read kept answers. The same mixed
# search run and card run on a server that computes every answer (--no-cache) give the cost
# of the search and the card themselves.
if "$STEWARD" serve --help 2>/dev/null | grep -q -- --no-cache; then
	echo "2b. search and card, every answer computed (--no-cache)"
	stop_server
	start_server --no-cache
	wrk_run search-uncached "$run/search.lua"
	record search_uncached "search, no kept answers (--no-cache), p99" "$w_p99" ms - \
		"the mixed run again on a server that runs every search; p50 $w_p50 ms; $w_rps requests/s; $w_errors errors; server CPU $w_cpu ms a request" \
		"p50_ms=$w_p50" "rps=$w_rps" "errors=$w_errors" "cpu_ms=$w_cpu"
	wrk_run card-uncached "$run/card.lua"
	record card_uncached "card, no kept answers (--no-cache), p99" "$w_p99" ms - \
		"the card run again on a server that computes every card; p50 $w_p50 ms; $w_rps requests/s; $w_errors errors; server CPU $w_cpu ms a request" \
		"p50_ms=$w_p50" "rps=$w_rps" "errors=$w_errors" "cpu_ms=$w_cpu"
	stop_server
	serve_pid=
fi

# --- 3. the same searches as one process each -----------------------------------------------

echo "3. steward search, one process per query ($procs)"
t0=$EPOCHREALTIME
for i in $(seq "$procs"); do
	"$STEWARD" --home "$ws" search "${words[$((i % ${#words[@]}))]}" --json >/dev/null ||
		die "steward search failed"
done
t1=$EPOCHREALTIME
p_qps=$(awk -v n="$procs" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / (b - a) }')
x=$(awk -v s="$s_rps" -v p="$p_qps" 'BEGIN { printf "%.1f", s / p }')
echo "  $p_qps queries/s as processes; the server answers ${x}x that"
record search_procs "steward search, one process per query" "$p_qps" queries/s - \
	"$procs processes in a row, the same words"
record ratio "server search throughput / process-per-query" "$x" x - \
	"$s_rps requests/s (64 connections) against $p_qps queries/s"

stop_server
report_load_end
report serve --meta machine.load_average="$load" --meta machine.load_average_end="$load_end" \
	--meta steward.binary="$steward_src" --meta steward.binary_sha256_prefix="$bin_sha" \
	--meta method.datasets:="$datasets" --meta method.duration_s:="$duration" \
	--meta "method.statistic=wrk latency percentiles over the run (64 connections, 2 threads)" \
	--goal "search_p99=search p99 <= 50 ms at 64 connections" \
	--goal "card_p99=card p99 <= 20 ms at 64 connections" \
	--goal "svg=a lineage SVG of 200 nodes <= 300 ms" \
	--goal "errors=no errors under load"
