#!/usr/bin/env bash
# OpenLineage import benchmark: `steward lineage import` of 100k generated RunEvents
# (bench/gen_ol_events.py) on one core, side by side with bench/baseline_ol_import.py
# (stdlib json + sqlite3, no validation), against the goal of 20k events/s.
# Usage: bench/openlineage.sh [--quick] [--keep DIR]   (see bench/README.md)
# shellcheck disable=SC2154 # wall_med, cpu_med, ... are set by summarize (bench/lib.sh)
set -eu

usage() {
	cat <<'EOF2'
usage: bench/openlineage.sh [--quick] [--keep DIR]

Times `steward lineage import` of 100,000 generated OpenLineage RunEvents (NDJSON) into a
fresh workspace, pinned to one CPU, and bench/baseline_ol_import.py on the same file in the
same rounds, and checks the goal (>= 20,000 events/s) and that the counts reconcile.

  --quick     one round instead of RUNS
  --keep DIR  keep the generated events in DIR and reuse them on later runs

Environment:
  BENCH_TMP   scratch directory (default /tmp/steward-bench)
  STEWARD     binary to test (default build/cli/steward, rebuilt with ninja first)
  RUNS        timed rounds (default 3); the medians are judged
  EVENTS      events to generate (default 100000)

Writes bench/out/openlineage.json. Exit status: 0 all goals met, 1 a goal missed,
2 usage, 3 the benchmark itself failed.
EOF2
}

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
gen=$here/gen_ol_events.py
base=$here/baseline_ol_import.py
runs=${RUNS:-3}
[ "$quick" = 0 ] || runs=1
events=${EVENTS:-100000}
PYTHON=${PYTHON:-python3}

command -v /usr/bin/time >/dev/null || apt_install time
command -v "$PYTHON" >/dev/null || die "python3 is needed (the generator, the baseline and the report)"
command -v taskset >/dev/null || die "taskset is needed (util-linux) to pin to one CPU"
find_steward
make_scratch
private_steward
pin_cpu=$(taskset -pc $$ | awk -F': ' '{ split($2, a, /[,-]/); print a[1] }')
pin=(taskset -c "$pin_cpu")

machine_info
python_v=$("$PYTHON" --version 2>&1 | awk '{ print $2 }')
echo "steward OpenLineage import benchmark ($mode)"
echo "machine: $(nproc) CPUs, $cpu, $mem_mb MB RAM, $(uname -sr), load average $load"
echo "version: $version ($libs), commit $commit"
echo "binary:  $steward_src (sha256 $bin_sha..., run from a copy in the scratch directory)"
echo "baseline: python $python_v, bench/baseline_ol_import.py"
echo "method: $runs rounds (python, then steward), each into a fresh database, both pinned to CPU $pin_cpu; medians judged"
echo

# --- input ---------------------------------------------------------------------

file=$data/ol-events-$events.ndjson
want="--count $events $(sha256sum "$gen" | cut -c1-16)"
if stamp_ok "$file" "$want"; then
	echo "reusing $file"
	gwall=-
else
	measure gen --out "$file.part" --err "$run/gen.log" --check "$PYTHON" "$gen" --count "$events"
	mv "$file.part" "$file"
	echo "$want" >"$file.stamp"
	gwall=$t_wall
fi
bytes=$(stat -c %s "$file")
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
[ "$(wc -l <"$file")" = "$events" ] || die "$file does not hold $events events"
echo "input: $events events, $mb MB ($((bytes / events)) bytes an event), generated in $gwall s"
record gen "generate (gen_ol_events.py --count $events)" "$gwall" s - "$events events, $mb MB"

# --- rounds ----------------------------------------------------------------------

problems=0
notes=
for r in $(seq 1 "$runs"); do
	rm -f "$run/base.db" "$run/base.db-wal" "$run/base.db-shm"
	measure "base$r" --out "$run/base$r.out" --check --sample ol python "${pin[@]}" "$PYTHON" "$base" \
		"$file" "$run/base.db"
	echo "  round $r python:  $t_wall s wall, $t_cpu s CPU ($(cat "$run/base$r.out"))"
	rm -rf "$run/ws"
	"$STEWARD" init "$run/ws" >/dev/null 2>&1 || die "steward init failed"
	measure "stew$r" --out "$run/stew$r.out" --sample ol steward "${pin[@]}" "$STEWARD" \
		--home "$run/ws" lineage import --json "$file"
	[ "$t_rc" = 0 ] || { head -c 2000 "$run/stew$r.err" >&2; die "steward lineage import failed (exit $t_rc)"; }
	read -r s_read s_app s_rej s_ign < <("$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1])); print(d["read"], d["applied"], d["rejected"], d["ignored"])' "$run/stew$r.out")
	echo "  round $r steward: $t_wall s wall, $t_cpu s CPU (read $s_read, applied $s_app, rejected $s_rej, ignored $s_ign)"
	if [ "$s_read" != "$events" ] || [ "$s_read" != $((s_app + s_rej + s_ign)) ] || [ "$s_rej" != 0 ]; then
		problems=$((problems + 1))
		notes="$notes round $r: read $s_read applied $s_app rejected $s_rej ignored $s_ign;"
	fi
done

# --- figures -----------------------------------------------------------------------

summarize ol steward
s_wall=$wall_med s_cpu=$cpu_med s_rss=$rss_max s_runs=$wall_runs
summarize ol python
p_wall=$wall_med p_cpu=$cpu_med
eps() { awk -v n="$events" -v t="$1" 'BEGIN { printf "%.0f", n / t }'; }
record eps_steward "steward lineage import, events/s (median wall)" "$(eps "$s_wall")" events/s '>=20000' \
	"$s_wall s wall, $s_cpu s CPU ($(eps "$s_cpu") events/s of CPU); $mb MB; peak RSS $s_rss MB" \
	"wall_runs=$s_runs"
record eps_python "baseline_ol_import.py, events/s (median wall)" "$(eps "$p_wall")" events/s - \
	"$p_wall s wall, $p_cpu s CPU ($(eps "$p_cpu") events/s of CPU)"
ratio ol wall python steward
record ratio "steward / python throughput" "$x_ratio" x - "per round $x_min-${x_max}x" "per_round=$x_runs"
record counts "steward counts reconcile" "$problems" problems '<=0' \
	"read = $events = applied + rejected + ignored, nothing rejected${notes:+; $notes}"

report_load_end
report openlineage --meta machine.load_average="$load" --meta machine.load_average_end="$load_end" \
	--meta steward.binary="$steward_src" --meta steward.binary_sha256_prefix="$bin_sha" \
	--meta baselines.python="$python_v" --meta method.input="gen_ol_events.py --count $events" \
	--meta method.input_mb:="$mb" --meta method.rounds:="$runs" --meta method.cpu:="$pin_cpu" \
	--meta "method.statistic=median wall time per tool, both pinned to one CPU; ratio = python median / steward median" \
	--goal "eps_steward=steward lineage import >= 20,000 events/s on one core" \
	--goal "counts=steward counts reconcile (read = applied + rejected + ignored)"
