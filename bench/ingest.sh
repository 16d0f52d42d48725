#!/usr/bin/env bash
# Ingest benchmark: pipes a generated event stream through `steward ingest 'events.*'`
# (--threads 1 and 2) side by side with the hand-written baselines in shared/bench/
# (Node and Python), interleaved round by round, and checks throughput ratios, peak
# memory and that the record counts reconcile.
# Usage: bench/ingest.sh [--quick] [--keep DIR]   (see bench/README.md)
# shellcheck disable=SC2154 # M_med, M_max, ... are set by summarize (bench/lib.sh)
set -eu

usage() {
	cat <<'EOF'
usage: bench/ingest.sh [--quick] [--keep DIR]

Benchmarks `steward ingest 'events.*'` on the event stream of
shared/corpus/gen_events.py against shared/bench/baseline_node.js and
shared/bench/baseline_python.py, run side by side (interleaved) in one run,
and checks the goals.

  --quick     only the 200k-event part (no 2M-event memory run)
  --keep DIR  keep the generated event files in DIR and reuse them on later runs
              (they are regenerated only when missing or made with other options)

Environment:
  BENCH_TMP      scratch directory (default /tmp/steward-bench)
  STEWARD        binary to test (default build/cli/steward, rebuilt with ninja first)
  RUNS           timed rounds over the 200k events; medians are judged (default 3)
  NODE, PYTHON   interpreters for the baselines (default node, python3)

Writes bench/out/ingest.json. Exit status: 0 all goals met, 1 a goal missed,
2 usage, 3 the benchmark itself failed.
EOF
}

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
gen=$shared/corpus/gen_events.py
corpus_catalog=$shared/corpus/catalog
base_node=$shared/bench/baseline_node.js
base_python=$shared/bench/baseline_python.py
runs=${RUNS:-3}
dataset='events.*'

case $runs in '' | *[!0-9]* | 0) echo "error: RUNS must be a positive integer" >&2; exit 2 ;; esac

# --- tools -------------------------------------------------------------------

command -v /usr/bin/time >/dev/null || apt_install time
NODE=${NODE:-node}
PYTHON=${PYTHON:-python3}
if ! command -v "$NODE" >/dev/null; then
	apt_install nodejs
	command -v "$NODE" >/dev/null || NODE=nodejs
fi
command -v "$NODE" >/dev/null || die "no Node.js ('$NODE') for the baseline"
command -v "$PYTHON" >/dev/null || die "no Python ('$PYTHON') for the generator and the baseline"
command -v python3 >/dev/null || die "python3 is needed (the report)"
for f in "$gen" "$base_node" "$base_python"; do
	[ -f "$f" ] || die "missing '$f' (set STEWARD_SHARED)"
done
[ -d "$corpus_catalog" ] || die "missing catalog '$corpus_catalog' (set STEWARD_SHARED)"

find_steward

# --- scratch -------------------------------------------------------------------

make_scratch

private_steward

# --- helpers -------------------------------------------------------------------

# Rows for record (bench/lib.sh): ID LABEL VALUE UNIT GOAL DETAIL [KEY=VALUE...].
# GOAL is '<=N' or '>=N' in UNIT, or '-' for a figure reported for information.

# run_baseline TAG NAME MEASURE_OPTION...: runs baseline NAME (node or python) with measure
# (bench/lib.sh); it must exit 0 and write nothing to stderr (it writes malformed lines there).
run_baseline() {
	local tag=$1 name=$2 cmd
	shift 2
	case $name in
	node) cmd=("$NODE" "$base_node") ;;
	python) cmd=("$PYTHON" "$base_python") ;;
	esac
	measure "$tag" "$@" "${cmd[@]}"
	if [ "$t_rc" != 0 ] || [ -s "$run/$tag.err" ]; then
		head -c 2000 "$run/$tag.err" >&2
		die "baseline $name failed (exit $t_rc) or reported malformed lines"
	fi
}

count_problems=0
count_notes=()

# run_steward TAG THREADS EXPECT MEASURE_OPTION...: runs steward ingest with --threads
# THREADS with measure (bench/lib.sh) and checks its summary line: in = EXPECT input lines
# = out + rejected, rejects file lines = rejected, the exit status (0, or 1 when some were
# rejected) and, with --count, output lines = out. Sets s_in s_out s_rej s_line and adds
# problems to count_problems.
run_steward() {
	local tag=$1 threads=$2 expect=$3 rej=$run/rejects-$1.jsonl line bad='' rlines
	shift 3
	rm -f "$rej"
	measure "$tag" "$@" "$STEWARD" --home "$ws" ingest "$dataset" --rejects "$rej" --threads "$threads"
	line=$(grep -m1 "^ingest $dataset: " "$run/$tag.err" || true)
	if [ "$t_rc" -gt 1 ] || [ -z "$line" ]; then
		head -c 2000 "$run/$tag.err" >&2
		die "steward ingest --threads $threads failed (exit $t_rc)"
	fi
	read -r s_in s_out s_rej < <(echo "$line" |
		sed -E 's/^.*: ([0-9]+) records in, ([0-9]+) out, ([0-9]+) rejected.*$/\1 \2 \3/')
	case "$s_in $s_out $s_rej" in
	*[!0-9\ ]* | *' ' | ' '*) die "cannot parse the summary line: $line" ;;
	esac
	rlines=0
	[ ! -f "$rej" ] || rlines=$(wc -l <"$rej")
	[ "$s_in" = "$expect" ] || bad="$bad; in $s_in != $expect input lines"
	[ "$s_in" = $((s_out + s_rej)) ] || bad="$bad; in != out + rejected"
	[ "$rlines" = "$s_rej" ] || bad="$bad; rejects file has $rlines lines, not $s_rej"
	if [ "$s_rej" = 0 ]; then
		[ "$t_rc" = 0 ] || bad="$bad; exit $t_rc with nothing rejected"
	else
		[ "$t_rc" = 1 ] || bad="$bad; exit $t_rc with $s_rej rejected"
	fi
	[ "$t_lines" = - ] || [ "$t_lines" = "$s_out" ] || bad="$bad; $t_lines output lines, not $s_out"
	if [ -n "$bad" ]; then
		count_problems=$((count_problems + 1))
		count_notes+=("$tag:${bad#; }")
		echo "  COUNTS DO NOT RECONCILE ($tag): ${bad#; }"
	fi
	s_line=$line
}

# --- header --------------------------------------------------------------------

machine_info
node_v=$("$NODE" --version 2>/dev/null || echo unknown)
python_v=$("$PYTHON" --version 2>&1 | awk '{ print $2 }')

echo "steward ingest benchmark ($mode)"
echo "machine: $(nproc) CPUs, $cpu, $mem_mb MB RAM, $(uname -sr), load average $load"
echo "version: $version ($libs), commit $commit"
echo "binary:  $steward_src (sha256 $bin_sha..., run from a copy in the scratch directory)"
echo "baselines: node $node_v, python $python_v"
echo "scratch: $run   data: $data"
echo "method: $runs interleaved rounds (node, python, steward --threads 1, --threads 2) after one checked warm-up round; medians judged"
echo

# --- workspace -------------------------------------------------------------------

ws=$run/ws
{
	"$STEWARD" init "$ws" &&
		"$STEWARD" --home "$ws" key init &&
		"$STEWARD" --home "$ws" catalog load "$corpus_catalog"
} >"$run/setup.log" 2>&1 || { cat "$run/setup.log" >&2; die "workspace setup failed"; }
echo "workspace: $(grep '^catalog:' "$run/setup.log" || echo '?')"

# --- 200k: throughput, side by side ------------------------------------------------

echo
echo "200k: gen_events.py --count 200000"
ev200k=$data/events200k.jsonl
generate 200000 "$ev200k"
in_mb=$g_mb
in_bytes=$g_bytes
record gen200k "200k generate (gen_events.py)" "$g_wall" s - "$g_lines events, $g_mb MB$g_note" \
	"events=$g_lines" "megabytes=$g_mb"

# Warm-up round: warms the page cache and checks every tool's output line count.
for name in node python; do
	run_baseline "warm-$name" "$name" --in "$ev200k" --count
	[ "$t_lines" = 200000 ] || die "baseline $name wrote $t_lines lines, expected 200000"
	echo "  warm-up $name: $t_wall s, $t_lines lines out"
done
for t in 1 2; do
	run_steward "warm-t$t" "$t" 200000 --in "$ev200k" --count
	echo "  warm-up steward --threads $t: $t_wall s, $t_lines lines out; $s_line"
done

# The timed rounds: samples 200k TOOL (wall, cpu, rss), one per round.
tools="node python t1 t2"
for i in $(seq "$runs"); do
	msg=
	for tool in $tools; do
		case $tool in
		node | python) run_baseline "r$i-$tool" "$tool" --in "$ev200k" --sample 200k "$tool" ;;
		t*) run_steward "r$i-$tool" "${tool#t}" 200000 --in "$ev200k" --sample 200k "$tool" ;;
		esac
		msg+="  $tool $t_wall s"
	done
	echo "  round $i/$runs:$msg"
done

declare -A mbs rss200k
for tool in $tools; do
	summarize 200k "$tool"
	mbs[$tool]=$(awk -v b="$in_bytes" -v t="$wall_med" 'BEGIN { printf "%.1f", b / 1e6 / t }')
	rss200k[$tool]=$rss_max
	case $tool in
	node) label="200k node baseline_node.js" ;;
	python) label="200k python baseline_python.py" ;;
	t*) label="200k steward ingest --threads ${tool#t}" ;;
	esac
	record "mbs_$tool" "$label" "${mbs[$tool]}" MB/s - \
		"median $wall_med s of $runs ($wall_min-$wall_max s), CPU $cpu_med s, peak RSS $rss_max MB" \
		"wall_s=$wall_med" "runs_s=$wall_runs" "min_s=$wall_min" "max_s=$wall_max" "cpu_s=$cpu_med" \
		"peak_rss_mb=$rss_max" "rss_runs_mb=$rss_runs"
done

# Ratios: baseline median wall / steward median wall (= throughput ratio), plus the
# ratio within each round for the spread.
for t in t1 t2; do
	for b in node python; do
		ratio 200k cpu "$b" "$t"
		cratio=$x_ratio
		ratio 200k wall "$b" "$t"
		goal=-
		if [ "$b" = node ]; then
			[ "$t" = t1 ] && goal='>=8' || goal='>=14'
		fi
		record "ratio_${t}_$b" "200k steward --threads ${t#t} / $b" "$x_ratio" x "$goal" \
			"${mbs[$t]} vs ${mbs[$b]} MB/s; per round $x_min-${x_max}x; CPU-time ratio ${cratio}x" \
			"cpu_ratio=$cratio" "per_round=$x_runs"
	done
done

# --- 2M: memory stays flat -----------------------------------------------------------

declare -A rss2m
if [ "$quick" = 0 ]; then
	echo
	echo "2M: gen_events.py --count 2000000"
	ev2m=$data/events2m.jsonl
	generate 2000000 "$ev2m"
	record gen2m "2M   generate (gen_events.py)" "$g_wall" s - "$g_lines events, $g_mb MB$g_note" \
		"events=$g_lines" "megabytes=$g_mb"
	mb2m=$g_mb
	for t in 1 2; do
		run_steward "2m-t$t" "$t" 2000000 --in "$ev2m" --count
		rss2m[t$t]=$t_rss
		mbs2=$(awk -v m="$mb2m" -v w="$t_wall" 'BEGIN { printf "%.1f", m / w }')
		echo "  steward --threads $t: $t_wall s ($mbs2 MB/s), peak RSS $t_rss MB, $t_lines lines out; $s_line"
		record "run2m_t$t" "2M   steward ingest --threads $t" "$mbs2" MB/s - \
			"one run, $t_wall s, CPU $t_cpu s, output counted by wc -l" \
			"wall_s=$t_wall" "cpu_s=$t_cpu" "peak_rss_mb=$t_rss"
	done
fi

# --- memory and count goals ----------------------------------------------------------

for t in t1 t2; do
	a=${rss200k[$t]}
	b=${rss2m[$t]:-}
	peak=$(awk -v a="$a" -v b="${b:-0}" 'BEGIN { print (b > a ? b : a) }')
	record "rss_$t" "peak RSS, steward --threads ${t#t}" "$peak" MB '<=50' \
		"200k: $a MB (max of $runs)${b:+, 2M: $b MB}" "rss_200k_mb=$a" ${b:+"rss_2m_mb=$b"}
	if [ -n "$b" ]; then
		allow=$(awk -v a="$a" 'BEGIN { x = a * 0.10; printf "%.1f", (x > 5 ? x : 5) }')
		growth=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", b - a }')
		record "flat_$t" "peak RSS growth 200k -> 2M, --threads ${t#t}" "$growth" MB "<=$allow" \
			"$a -> $b MB; allowed max(5 MB, 10% of $a MB)" "rss_200k_mb=$a" "rss_2m_mb=$b"
	fi
done

checked=$((2 + 2 * runs))
[ "$quick" = 1 ] || checked=$((checked + 2))
note="$checked runs: in = input lines = out + rejected; rejects file lines = rejected; exit status; output lines = out (warm-up, 2M)"
[ "$count_problems" = 0 ] || note="$(printf '%s | ' "${count_notes[@]}")"
record counts "steward counts reconcile" "$count_problems" problems '<=0' "$note" "runs_checked=$checked"

# --- report ----------------------------------------------------------------------

report_load_end
report ingest --meta machine.load_average="$load" --meta machine.load_average_end="$load_end" \
	--meta steward.binary="$steward_src" --meta steward.binary_sha256_prefix="$bin_sha" \
	--meta baselines.node="$node_v" --meta baselines.python="$python_v" \
	--meta method.input="gen_events.py --count 200000" --meta method.input_mb:="$in_mb" \
	--meta method.rounds:="$runs" \
	--meta 'method.order:=["node", "python", "steward --threads 1", "steward --threads 2"]' \
	--meta "method.statistic=median wall time per tool; ratio = baseline median / steward median" \
	--meta "method.memory=peak RSS (/usr/bin/time %M); 2M events one run per thread count" \
	--goal "ratio_t1_node=steward ingest --threads 1 >= 8x Node throughput (200k)" \
	--goal "ratio_t2_node=steward ingest --threads 2 >= 14x Node throughput (200k)" \
	--goal "rss_t1=steward ingest --threads 1 peak RSS <= 50 MB" \
	--goal "rss_t2=steward ingest --threads 2 peak RSS <= 50 MB" \
	--goal "flat_t1=--threads 1 peak RSS flat from 200k to 2M events" \
	--goal "flat_t2=--threads 2 peak RSS flat from 200k to 2M events" \
	--goal "counts=steward counts reconcile (in = out + rejected, output lines = out)"
