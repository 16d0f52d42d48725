#!/bin/sh
# Two steward processes in one consumer group split the 6 partitions: the first member has
# them all; when the second joins, the first gives up 3 (cooperative-sticky: it keeps the
# other 3 and goes on reading them) and the second takes those. Every input record is then in
# the output or dead-letter topic exactly once, by content, and each member wrote its share.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kafka_lib.sh"
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$FIXTURES/kafka/clicks.yaml"
start_mock raw clean dlq
pipeline_config clicks
expected 1 600 a
expected 601 1200 b

start_member a clicks --json
check 'a is assigned the 6 partitions' wait_line "$TMP/a.err" "assigned partitions 0,1,2,3,4,5 of 'raw' \(6 in all\)"
produce raw "$TMP/a.in"
check 'a commits the first 600 records' wait_committed 600 a
start_member b clicks --json
check 'b is assigned 3 partitions' wait_line "$TMP/b.err" "assigned partitions [0-5,]+ of 'raw' \(3 in all\)"
check 'a gave up 3 (cooperative: it keeps the other 3)' grep -qE "revoked partitions [0-5,]+ of 'raw' \(3 left\)" "$TMP/a.err"
check_not 'a never gave up all 6' grep -q "(0 left)" "$TMP/a.err"
produce raw "$TMP/b.in"
check 'together they commit the next 1200' wait_committed 1800 a b
kill -TERM "$PID_a" "$PID_b"
RC=0
wait "$PID_a" || RC=$?
expect_equal 0 "$RC" 'a: SIGTERM, exit 0'
RC=0
wait "$PID_b" || RC=$?
expect_equal 0 "$RC" 'b: SIGTERM, exit 0'
check 'b committed records of its own' test "$(jq .in "$TMP/b.out")" -gt 0
expect_equal 1800 "$(($(jq .in "$TMP/a.out") + $(jq .in "$TMP/b.out")))" 'the members committed 1800 records between them'

dump raw "$TMP/src.json"
dump clean "$TMP/out.json"
dump dlq "$TMP/dlq.json"
cat "$TMP/a.in" "$TMP/b.in" >"$TMP/all.in"
check_content 'no gap and no duplicate, by content' --input "$TMP/all.in" \
	--expected "$TMP/a.exp" --expected "$TMP/b.exp" --rejects "$TMP/a.rej" --rejects "$TMP/b.rej" \
	--source "$TMP/src.json" --output "$TMP/out.json" --dlq "$TMP/dlq.json" \
	--log "$TMP/a.err" --log "$TMP/b.err"

done_testing
