#!/usr/bin/env bash
# Record-core benchmark: the ingest record core (shared by the stdin hook and the Kafka
# pipeline) on one thread over events held in memory, against the keyed BLAKE2b hashes it
# spends on them alone, in the same run (bench/core_bench.c); the goal is core events/s >=
# 0.70 x hashes-only events/s. Also checks that the helper's core writes what
# `steward ingest` writes.
# Usage: bench/core.sh [--quick] [--keep DIR]   (see bench/README.md)
# shellcheck disable=SC2154 # M_med, M_max, ... are set by summarize (bench/lib.sh)
set -eu

usage() {
	cat <<'EOF'
usage: bench/core.sh [--quick] [--keep DIR]

Times the ingest record core (pii_ingest_record) on one thread over the events of
shared/corpus/gen_events.py held in memory, and the keyed BLAKE2b hashes it spends
on them alone (the same values, keys and function), round by round in one process,
and checks the goal: core throughput >= 70% of the hashes-only throughput.

  --quick     5 rounds over 50k events instead of RUNS rounds over 200k
  --keep DIR  keep the generated event file in DIR and reuse it on later runs
              (shared with bench/ingest.sh --keep DIR)

Environment:
  BENCH_TMP      scratch directory (default /tmp/steward-bench)
  STEWARD        binary for the workspace and the output check (default build/cli/steward)
  CORE_BENCH     the helper (default build/bench/core_bench, built with ninja first)
  RUNS           timed rounds; medians are judged (default 9)
  PYTHON         interpreter for the generator (default python3)

Writes bench/out/core.json. Exit status: 0 the goal met, 1 missed, 2 usage,
3 the benchmark itself failed.
EOF
}

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
gen=$shared/corpus/gen_events.py
corpus_catalog=$shared/corpus/catalog
runs=${RUNS:-9}
events=200000
dataset='events.*'
PYTHON=${PYTHON:-python3}
if [ "$quick" = 1 ]; then
	events=50000
	runs=${RUNS:-5}
fi
case $runs in '' | *[!0-9]* | 0) echo "error: RUNS must be a positive integer" >&2; exit 2 ;; esac

command -v /usr/bin/time >/dev/null || apt_install time
command -v "$PYTHON" >/dev/null || die "no Python ('$PYTHON') for the generator"
[ -f "$gen" ] || die "missing '$gen' (set STEWARD_SHARED)"
[ -d "$corpus_catalog" ] || die "missing catalog '$corpus_catalog' (set STEWARD_SHARED)"

find_steward
if [ -z "${CORE_BENCH:-}" ]; then
	CORE_BENCH=$root/build/bench/core_bench
	ninja -C "$root/build" bench/core_bench >/dev/null || die "cannot build bench/core_bench"
fi
[ -x "$CORE_BENCH" ] || die "no helper at '$CORE_BENCH'"

make_scratch
private_steward
helper=$run/core_bench
cp "$CORE_BENCH" "$helper" || die "cannot copy '$CORE_BENCH'"
helper_sha=$(sha256sum "$helper" | cut -c1-12)

machine_info
echo "steward record-core benchmark ($mode)"
echo "machine: $(nproc) CPUs, $cpu, $mem_mb MB RAM, $(uname -sr), load average $load"
echo "version: $version ($libs), commit $commit"
echo "helper:  $CORE_BENCH (sha256 $helper_sha...), steward $steward_src (sha256 $bin_sha...)"
echo "scratch: $run   data: $data"
echo "method: one process, one thread, $events events in memory; $runs rounds of (hashes only, core),"
echo "        the order alternating; thread CPU time and wall time per pass; medians judged"
echo

ws=$run/ws
{
	"$STEWARD" init "$ws" &&
		"$STEWARD" --home "$ws" key init &&
		"$STEWARD" --home "$ws" catalog load "$corpus_catalog"
} >"$run/setup.log" 2>&1 || { cat "$run/setup.log" >&2; die "workspace setup failed"; }

if [ "$events" = 200000 ]; then
	evfile=$data/events200k.jsonl
else
	evfile=$data/events$events.jsonl
fi
generate "$events" "$evfile"

# The helper's first pass writes what its core made of every event: it must be what
# `steward ingest` writes for the same events.
measure ingest --in "$evfile" --out "$run/ingest.out" "$STEWARD" --home "$ws" ingest "$dataset" \
	--rejects "$run/rejects.jsonl"
[ "$t_rc" -le 1 ] || { head -c 2000 "$run/ingest.err" >&2; die "steward ingest failed (exit $t_rc)"; }
measure core --in /dev/null --out "$run/core.log" --check "$helper" "$ws" "$dataset" "$evfile" \
	--rounds "$runs" --out "$run/core.out"
cmp -s "$run/core.out" "$run/ingest.out" ||
	die "the helper's core output differs from steward ingest's ($run/core.out, $run/ingest.out)"
echo "  the helper's core output is byte for byte steward ingest's ($(wc -l <"$run/core.out") records)"
helper_rss=$t_rss

read -r _ n_events < <(grep '^events ' "$run/core.log")
read -r _ n_hashes < <(grep '^hashes ' "$run/core.log")
read -r _ n_pass _ n_rej _ n_sup < <(grep '^passed ' "$run/core.log")
[ "$n_events" = "$events" ] || die "the helper read $n_events events, expected $events"
per_event=$(awk -v h="$n_hashes" -v e="$n_events" 'BEGIN { printf "%.2f", h / e }')
echo "  $n_hashes hashes for $n_events events ($per_event per event); passed $n_pass, rejected $n_rej, suppressed $n_sup"
grep '^round ' "$run/core.log" | while read -r _ k hw hc cw cc; do
	echo "  round $k: hashes only $hw s (CPU $hc s), core $cw s (CPU $cc s)"
done
grep '^round ' "$run/core.log" | cut -d' ' -f3,4 >"$run/rounds-hash.txt"
grep '^round ' "$run/core.log" | cut -d' ' -f5,6 >"$run/rounds-core.txt"
sample_columns core hash "$run/rounds-hash.txt" wall cpu
sample_columns core core "$run/rounds-core.txt" wall cpu

summarize core hash
h_wall=$wall_med h_cpu=$cpu_med h_cpu_runs=$cpu_runs
summarize core core
c_wall=$wall_med c_cpu=$cpu_med c_cpu_runs=$cpu_runs
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / t }'; }

record hash "hashes only (pii_b2b_digest), events/s" "$(rate "$events" "$h_cpu")" records/s - \
	"median CPU $h_cpu s of $runs ($n_hashes hashes, $per_event an event); wall $h_wall s, $(rate "$events" "$h_wall") events/s" \
	"cpu_s=$h_cpu" "wall_s=$h_wall" "cpu_runs_s=$h_cpu_runs" "hashes=$n_hashes" "hashes_per_event=$per_event" \
	"hashes_per_s=$(rate "$n_hashes" "$h_cpu")"
record core "record core (pii_ingest_record), events/s" "$(rate "$events" "$c_cpu")" records/s - \
	"median CPU $c_cpu s of $runs; wall $c_wall s, $(rate "$events" "$c_wall") events/s; helper peak RSS $helper_rss MB" \
	"cpu_s=$c_cpu" "wall_s=$c_wall" "cpu_runs_s=$c_cpu_runs" "passed=$n_pass" "rejected=$n_rej" \
	"suppressed=$n_sup"
ratio core cpu hash core
ratio_cpu=$x_ratio cpu_detail="per round $x_min-$x_max"
ratio core wall hash core
record ratio "core / hashes only (throughput, CPU time)" "$ratio_cpu" x '>=0.70' \
	"$cpu_detail; by wall time ${x_ratio} ($x_min-$x_max)" "wall_ratio=$x_ratio" "per_round_wall=$x_runs"

report_load_end
report core --meta machine.load_average="$load" --meta machine.load_average_end="$load_end" \
	--meta steward.binary="$steward_src" --meta steward.binary_sha256_prefix="$bin_sha" \
	--meta helper.binary="$CORE_BENCH" --meta helper.sha256_prefix="$helper_sha" \
	--meta method.input="gen_events.py --count $events" --meta method.rounds:="$runs" \
	--meta "method.statistic=median thread CPU time per pass; ratio = hashes-only median / core median (= core events/s / hashes-only events/s)" \
	--meta "method.check=the helper's core output equals steward ingest's, byte for byte" \
	--goal "ratio=record core >= 0.70 x the throughput of its hashes alone (one thread)"
