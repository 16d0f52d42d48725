#!/usr/bin/env bash
# Fuzzes one target for a while: tests/fuzz/run.sh TARGET SECONDS [JOBS]. Builds build-fuzz
# (clang, libFuzzer, ASan+UBSan) when needed, grows a working corpus in build-fuzz/corpus/TARGET
# from the committed seeds in tests/fuzz/corpus/TARGET, keeps crash, timeout and OOM inputs in
# build-fuzz/artifacts/TARGET/, and ends with one summary line. Exit 1 when anything was found.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
usage="usage: tests/fuzz/run.sh TARGET SECONDS [JOBS]
targets: fuzz_load fuzz_ingest_json fuzz_csv fuzz_audit_verify fuzz_dbt fuzz_ol_import
         fuzz_config fuzz_serve"

[ $# -ge 2 ] && [ $# -le 3 ] || { echo "$usage" >&2; exit 2; }
target=$1 seconds=$2 jobs=${3:-1}
case $target in
  fuzz_load|fuzz_ingest_json|fuzz_csv) max_len=16384 ;;
  fuzz_audit_verify|fuzz_dbt|fuzz_ol_import) max_len=32768 ;;
  fuzz_config) max_len=4096 ;;
  fuzz_serve) max_len=8192 ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
case $seconds$jobs in *[!0-9]*) echo "$usage" >&2; exit 2 ;; esac
[ "$seconds" -gt 0 ] && [ "$jobs" -gt 0 ] || { echo "$usage" >&2; exit 2; }

build=$root/build-fuzz
if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" "$root" -Dfuzz=true -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined' \
    -Dc_link_args=-fsanitize=fuzzer-no-link >/dev/null || { echo "error: cannot configure $build" >&2; exit 5; }
fi
ninja -C "$build" "tests/fuzz/$target" >/dev/null || { echo "error: the $target build failed" >&2; exit 5; }

corpus=$build/corpus/$target
artifacts=$build/artifacts/$target
log=$build/logs/$target-$(date +%Y%m%dT%H%M%S).log
mkdir -p "$corpus" "$artifacts" "$build/logs"
# Each run gets its own scratch space, removed even when a target crashes.
scratch=$(mktemp -d /dev/shm/steward-fuzz-run.XXXXXX 2>/dev/null || mktemp -d "$build/scratch.XXXXXX") || exit 5
trap 'rm -rf "$scratch"' EXIT
set -- -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$artifacts/" -print_final_stats=1
[ -f "$root/tests/fuzz/dict/$target.dict" ] && set -- "$@" -dict="$root/tests/fuzz/dict/$target.dict"
# Several jobs: fork mode, which goes on after a crash and collects every artifact.
[ "$jobs" -gt 1 ] && set -- "$@" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1

before=$(find "$artifacts" -type f | wc -l)
echo "$target: fuzzing for ${seconds}s with $jobs job(s); log in $log"
STEWARD_FUZZ_TMP=$scratch \
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
  "$build/tests/fuzz/$target" "$@" "$corpus" "$root/tests/fuzz/corpus/$target" >"$log" 2>&1
rc=$?
found=$(( $(find "$artifacts" -type f | wc -l) - before ))

# Executions: the final stats of a single process, else the last status line of fork mode.
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
if [ -z "$runs" ]; then # fork mode: every job's runs, over the wall time
  last=$(grep -E '^#[0-9]+: ' "$log" | tail -n 1)
  runs=$(printf '%s\n' "$last" | sed -n 's/^#\([0-9]*\):.*/\1/p')
  [ -n "$runs" ] && rate=$((runs / seconds))
fi
if [ -z "$runs" ]; then # a crash before the final stats: the last status line
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  runs=$(printf '%s\n' "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
  rate=$(printf '%s\n' "$last" | sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p')
fi
done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1)
if [ "$found" -gt 0 ] || { [ "$rc" -ne 0 ] && [ "$jobs" -eq 1 ]; }; then
  grep -E '^==[0-9]+==ERROR|^SUMMARY|runtime error|^fuzz:|Test unit written to' "$log" | head -n 20
fi
echo "$target: ${runs:-?} executions in ${seconds}s (${rate:-?} exec/s)${done_line:+ [$done_line]}," \
  "corpus $(find "$corpus" -type f | wc -l) inputs, $found new artifact(s) in $artifacts, exit $rc"
[ "$found" -eq 0 ] && [ "$rc" -eq 0 ]
