#!/bin/sh
# Broker errors injected with the mock cluster's API while a member runs: a produce error that
# makes the open transaction abortable (it is aborted and its records read again), retriable
# errors on the transaction's requests (AddPartitionsToTxn, TxnOffsetCommit, EndTxn) and on
# produce, and a broker down then up again. Every input record ends up in the output or
# dead-letter topic exactly once, by content. A failure that aborting does not cure stops the
# run after ten aborted transactions in a row (exit 5) instead of looping.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kafka_lib.sh"
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$FIXTURES/kafka/clicks.yaml"
start_mock raw clean dlq
pipeline_config clicks
expected 1 1000 a
expected 1001 500 b
produce raw "$TMP/a.in"

# Kafka error codes: 29 TOPIC_AUTHORIZATION_FAILED (abortable), 19 NOT_ENOUGH_REPLICAS,
# 51 CONCURRENT_TRANSACTIONS, 14 COORDINATOR_LOAD_IN_PROGRESS, 15 COORDINATOR_NOT_AVAILABLE;
# API keys: 0 Produce, 24 AddPartitionsToTxn, 28 TxnOffsetCommit, 26 EndTxn.
mock error 0 29 19 19
mock error 24 51 51
mock error 28 14
mock error 26 15
start_member m clicks --json
check 'the transaction hit by the produce error is aborted' wait_line "$TMP/m.err" '^warning: ingest clicks: aborted transaction [^ ]*: (commit failed|cannot produce to)'
check 'the member commits the 1000 records all the same' wait_committed 1000 m

lines=$(wc -l <"$TMP/m.err")
mock down 2
check 'a broker down is reported' wait_line "$TMP/m.err" '^warning: ingest clicks: kafka' $((lines + 1))
mock up 2
produce raw "$TMP/b.in"
check 'the member commits the next 500 once it is up' wait_committed 1500 m
dump raw "$TMP/src.json"
dump clean "$TMP/out.json"
dump dlq "$TMP/dlq.json"
cat "$TMP/a.in" "$TMP/b.in" >"$TMP/all.in"
check_content 'no gap and no duplicate, by content' --input "$TMP/all.in" \
	--expected "$TMP/a.exp" --expected "$TMP/b.exp" --rejects "$TMP/a.rej" --rejects "$TMP/b.rej" \
	--source "$TMP/src.json" --output "$TMP/out.json" --dlq "$TMP/dlq.json" --log "$TMP/m.err"

# ---- a failure that aborting does not cure: the run stops after ten aborts in a row ----
# (the same member: it ends on its own, with its counts)
lines=$(wc -l <"$TMP/m.err")
# (30 GROUP_AUTHORIZATION_FAILED on TxnOffsetCommit, which kcat does not send)
mock error 28 $(seq 40 | sed 's/.*/30/')
expected 1501 100 c
produce raw "$TMP/c.in"
RC=0
wait "$PID_m" || RC=$?
expect_equal 5 "$RC" 'the member exits 5'
check 'with the reason' grep -q '^error: 10 transactions in a row were aborted; the last: ' "$TMP/m.err"
check 'each abort was reported' test "$(tail -n +$((lines + 1)) "$TMP/m.err" | grep -c '^warning: ingest clicks: aborted transaction')" -eq 10
expect_jq '.in == 1500 and .aborted_transactions >= 11 and .broker_errors >= 1' 'its counts: the 1500 records committed before, the aborts and the errors counted' "$TMP/m.out"

done_testing
