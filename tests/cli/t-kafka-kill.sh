#!/bin/sh
# A member killed with SIGKILL in the middle of a transaction: the other member of the group
# takes its partitions over from their committed offsets and reads again what the dead one's
# open transaction had read. Every input record is then in the output or dead-letter topic
# exactly once, by content; the check drops what the mock cluster shows of the aborted
# transaction, which a real broker hides from read_committed readers (docs/ingest.md).
# Then SIGTERM of the survivor inside a transaction commits it (exit 0, nothing aborted).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kafka_lib.sh"
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$FIXTURES/kafka/clicks.yaml"
start_mock raw clean dlq
# each transaction stays open for a second, so that the victim dies inside one and the
# survivor is stopped inside one
pipeline_config clicks '  slow:
    brokers: "'"$KAFKA"'"
    source: raw
    output: clean
    rejects: dlq
    group: g
    dataset: k.click
    session_timeout_ms: 3500
    batch_ms: 1000
    batch_records: 1000000
    status_interval_ms: 100
    mirror_offsets: true'
expected 1 3000 a
expected 3001 1000 b
expected 4001 200 d

# both join at once: one rebalance gives each 3 partitions
start_member victim slow --json
start_member b slow --json
check 'the victim is assigned 3 partitions' wait_line "$TMP/victim.err" "assigned partitions [0-5,]+ of 'raw' \(3 in all\)"
check 'b is assigned 3 partitions' wait_line "$TMP/b.err" "assigned partitions [0-5,]+ of 'raw' \(3 in all\)"
produce raw "$TMP/a.in"
check 'the victim commits a transaction' wait_line "$TMP/victim.err" ' [1-9][0-9]* transactions, 0 aborted'
lines=$(wc -l <"$TMP/victim.err")
produce raw "$TMP/b.in"
check 'the victim has records in an open transaction' wait_line "$TMP/victim.err" ' [1-9][0-9]* transactions, 0 aborted, [1-9][0-9]* in the open one$' $((lines + 1))
kill -9 "$PID_victim"
wait "$PID_victim" 2>/dev/null
lines=$(wc -l <"$TMP/b.err")
check "b takes the victim's partitions over" wait_line "$TMP/b.err" "assigned partitions [0-5,]+ of 'raw' \(6 in all\)" "$lines"
lines=$(grep -n "(6 in all)" "$TMP/b.err" | tail -n 1 | cut -d: -f1)
check 'b catches up with the end of the 6 partitions and commits' \
	wait_line "$TMP/b.err" '^ingest slow: 6 partitions, lag 0, .* 0 in the open one$' "$lines"
# SIGTERM inside a transaction: it is committed, not aborted
lines=$(wc -l <"$TMP/b.err")
produce raw "$TMP/d.in"
check 'b has all 200 new records in an open transaction' wait_line "$TMP/b.err" ' 200 in the open one$' $((lines + 1))
stop_member b
expect_equal 0 "$RC" 'b: SIGTERM, exit 0'
expect_jq '.aborted_transactions' '0' "$TMP/b.out"

dump raw "$TMP/src.json"
dump clean "$TMP/out.json"
dump dlq "$TMP/dlq.json"
cat "$TMP/a.in" "$TMP/b.in" "$TMP/d.in" >"$TMP/all.in"
check_content 'no gap and no duplicate, by content (the last batch committed by SIGTERM)' \
	--input "$TMP/all.in" --expected "$TMP/a.exp" --expected "$TMP/b.exp" --expected "$TMP/d.exp" \
	--rejects "$TMP/a.rej" --rejects "$TMP/b.rej" --rejects "$TMP/d.rej" \
	--source "$TMP/src.json" --output "$TMP/out.json" --dlq "$TMP/dlq.json" \
	--log "$TMP/victim.err" --log "$TMP/b.err" --killed "$TMP/victim.err"
# Its records were on the broker and b wrote them again (dropped above), or they had not left
# the victim's producer when it was killed (a loaded machine): then only b wrote them, which
# the content check above proves (no gap).
check "the victim's open transaction was read again by b" \
	grep -Eq '^checked .* [1-9][0-9]* aborted transactions dropped|^killed member.s open transaction .*: 0 records on the broker' "$TMP/.kcheck"

done_testing
