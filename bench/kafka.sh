#!/usr/bin/env bash
# steward ingest on Kafka: events/s of `ingest --pipeline` with 1 and 2 member processes on a
# 6-partition topic of librdkafka's mock cluster (tests/helpers/mock_cluster.c), as a ratio to
# the stdin hook (`ingest k.click < file`) on the same records in the same run. The mock
# cluster runs in one process on the same machine, so the figures are a floor for the hook's
# own cost per record plus librdkafka's, not a broker benchmark.
#
# usage: bench/kafka.sh [--quick] [--keep DIR]
usage() { sed -n 's/^# usage: //p' "$0"; }
. "$(dirname "$0")/lib.sh"

command -v kcat >/dev/null || apt_install kcat
find_steward
make_scratch
private_steward
machine_info
mock=$root/build/tests/cli/mock_cluster
[ -x "$mock" ] || ninja -C "$root/build" tests/cli/mock_cluster >/dev/null || die "no mock cluster helper"
n=200000
[ "$quick" = 0 ] || n=50000
ws=$run/ws
"$STEWARD" init "$ws" >/dev/null && "$STEWARD" --home "$ws" key init >/dev/null &&
	"$STEWARD" --home "$ws" catalog load "$root/tests/fixtures/kafka/clicks.yaml" >/dev/null ||
	die "cannot set up the workspace"
python3 "$root/tests/helpers/kafka_gen.py" 1 "$n" >"$data/in.jsonl"
awk '{ printf "k%d|%s\n", NR, $0 }' "$data/in.jsonl" >"$data/keyed"

now() { printf '%s' "$EPOCHREALTIME"; }

# the stdin hook on the same records
t0=$(now)
"$STEWARD" --home "$ws" ingest k.click --rejects "$run/stdin.rej" <"$data/in.jsonl" >"$run/stdin.out" 2>/dev/null
[ $? -le 1 ] || die "the stdin hook failed"
t1=$(now)
stdin_rate=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')

# pipeline MEMBERS: a fresh mock cluster, the records produced first, then MEMBERS processes
# in one group; timed from the moment every member has its partitions to the moment their
# committed counts add up to n.
pipeline() {
	local members=$1 dir=$run/p$1 line= i sum
	mkdir -p "$dir"
	mkfifo "$dir/in" "$dir/out"
	"$mock" raw clean dlq <"$dir/in" >"$dir/out" 2>"$dir/mock.err" &
	local mpid=$!
	exec 7>"$dir/in" 8<"$dir/out"
	IFS= read -r line <&8
	local brokers=${line#ready }
	kcat -P -q -b "$brokers" -t raw -K '|' -X linger.ms=50 <"$data/keyed" || die "kcat failed"
	cat >"$ws/steward.yaml" <<EOF
version: 1
pipelines:
  bench:
    brokers: "$brokers"
    source: raw
    output: clean
    rejects: dlq
    group: bench
    dataset: k.click
    session_timeout_ms: 4000
    batch_records: 5000
    batch_ms: 200
    status_interval_ms: 100
    mirror_offsets: true
roles:
  users:
    "$(id -un)": admin
EOF
	chmod 600 "$ws/steward.yaml"
	local pids=()
	for ((i = 0; i < members; i++)); do
		"$STEWARD" --home "$ws" ingest --pipeline bench --json >"$dir/m$i.json" 2>"$dir/m$i.err" &
		pids+=($!)
	done
	for ((i = 0; i < members; i++)); do
		timeout 60 sh -c 'tail -n +1 -F "$1" 2>/dev/null | grep -m1 -q "assigned partitions"' _ "$dir/m$i.err" ||
			die "member $i was never assigned partitions"
	done
	local start
	start=$(now)
	while :; do
		sum=0
		for ((i = 0; i < members; i++)); do
			c=$(sed -n 's/^ingest bench: [0-9]* partitions, lag [^,]*, \([0-9]*\) in,.*/\1/p' "$dir/m$i.err" | tail -n 1)
			sum=$((sum + ${c:-0}))
		done
		[ "$sum" -ge "$n" ] && break
		timeout 60 sh -c 'tail -n 0 -F "$1" 2>/dev/null | grep -m1 -q " partitions, lag "' _ "$dir/m0.err" ||
			die "the pipeline stalled at $sum of $n"
	done
	local end
	end=$(now)
	for p in "${pids[@]}"; do kill -TERM "$p"; done
	for p in "${pids[@]}"; do wait "$p"; done
	exec 7>&- 8<&-
	wait "$mpid"
	awk -v n="$n" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", n / (b - a) }'
}

one=$(pipeline 1)
two=$(pipeline 2)
r1=$(awk -v a="$one" -v b="$stdin_rate" 'BEGIN { printf "%.2f", a / b }')
r2=$(awk -v a="$two" -v b="$stdin_rate" 'BEGIN { printf "%.2f", a / b }')
echo "machine: $cpu, ${mem_mb} MB, load $load (figures from a shared machine are noisy)"
echo "steward: $version ($libs), commit $commit, $mode run, $n records"
printf '%-32s %12s %8s\n' "run" "events/s" "ratio"
printf '%-32s %12s %8s\n' "stdin hook (1 thread)" "$stdin_rate" "1.00"
printf '%-32s %12s %8s\n' "pipeline, 1 process, 6 parts" "$one" "$r1"
printf '%-32s %12s %8s\n' "pipeline, 2 processes, 6 parts" "$two" "$r2"
mkdir -p "$here/out"
printf '{"records":%d,"stdin_events_per_s":%s,"kafka1_events_per_s":%s,"kafka2_events_per_s":%s,"ratio1":%s,"ratio2":%s,"load":"%s","commit":"%s"}\n' \
	"$n" "$stdin_rate" "$one" "$two" "$r1" "$r2" "$load" "$commit" >"$here/out/kafka.json"
