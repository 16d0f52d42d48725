#!/bin/sh
# steward ingest --pipeline with one member, end to end on the mock cluster: every record is in
# the output topic as the stdin hook rewrites it, or in the dead-letter topic as it came with
# its code, reason and source partition and offset in headers (schema-invalid records of four
# kinds); a key rotation and an objection (the suppression list) are picked up without a
# restart; SIGTERM commits, leaves, exits 0 with
# the counts in --json. The broker password (from the environment) appears in no output and
# no audit record; pipeline settings and overrides are checked with their exact messages.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kafka_lib.sh"
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$FIXTURES/kafka/clicks.yaml"
start_mock raw clean dlq
CANARY=canary-kafka-pw-7c1e

# ---- settings: exact messages, nothing read from a broker ----
pipeline_config clicks
expect_exit 4 steward ingest --pipeline nope
expect_stderr_line "error: no pipeline 'nope' in '$WS/steward.yaml' (pipelines:)"
expect_exit 2 steward ingest --pipeline clicks --rejects r.jsonl
expect_stderr_line "error: a pipeline's rejects go to its dead-letter topic (--rejects-topic), not to a file"
expect_exit 2 steward ingest --pipeline clicks --format csv
expect_stderr_line "error: a pipeline reads JSON records, one per message, not csv"
expect_exit 2 steward ingest --pipeline clicks --threads 4
expect_stderr_line "error: a pipeline runs on one thread: start more processes in the same group instead"
expect_exit 2 steward ingest k.click --group g
expect_stderr_line "error: --brokers, --source-topic, --output-topic, --rejects-topic, --group, --status-interval and --json go with --pipeline"
expect_exit 2 steward ingest --pipeline clicks --output-topic raw
expect_stderr_line "error: pipeline 'clicks': the source, output and dead-letter topics must be three different topics"
write_config <<EOF
version: 1
pipelines:
  clicks: {brokers: "$KAFKA", source: raw, rejects: dlq, group: g, dataset: k.click}
EOF
expect_exit 2 steward ingest --pipeline clicks
expect_stderr_line "error: pipeline 'clicks' names no output topic (output:, or --output-topic)"
pipeline_config clicks '    security: {protocol: plaintext, sasl_password: hunter2}'
expect_exit 3 steward ingest --pipeline clicks
expect_stderr_line "error: $WS/steward.yaml:15:37: pipelines: 'sasl_password' of 'clicks' must not be written in steward.yaml: name a file (sasl_password_file) or an environment variable (sasl_password_env)"
expect_stderr_lacks hunter2
pipeline_config clicks '    security: {protocol: plaintext, sasl_username: steward, sasl_password_env: KAFKA_PW}'
expect_exit 3 env -u KAFKA_PW "$STEWARD" --home "$WS" ingest --pipeline clicks
expect_stderr_line "error: pipeline 'clicks': the environment variable 'KAFKA_PW' (SASL password) is not set"
printf '%s\n' "$CANARY" >"$TMP/pw"
chmod 644 "$TMP/pw"
pipeline_config clicks "    security: {protocol: plaintext, sasl_password_file: $TMP/pw}"
expect_exit 6 steward ingest --pipeline clicks
expect_stderr_contains "secret file '$TMP/pw'"
expect_stderr_lacks "$CANARY"
pipeline_config clicks '    bogus: 1'
expect_exit 3 steward ingest --pipeline clicks
expect_stderr_line "error: $WS/steward.yaml:15:5: pipelines: unknown setting 'bogus' of 'clicks' (brokers, source, output, rejects, group, dataset, purpose, security, session_timeout_ms, batch_records, batch_ms, status_interval_ms, mirror_offsets)"

write_config <<EOF
version: 1
pipelines:
  clicks: {brokers: "$KAFKA", source: raw, output: clean, rejects: dlq, group: g, dataset: k.click,
           batch_ms: soon}
EOF
expect_exit 3 steward ingest --pipeline clicks
expect_stderr_line "error: $WS/steward.yaml:4:22: pipelines: 'batch_ms' must be a positive number"
write_config <<EOF
version: 1
pipelines:
  clicks: {brokers: "$KAFKA", source: raw, output: clean, rejects: dlq, group: g, dataset: k.click,
           mirror_offsets: maybe}
EOF
expect_exit 3 steward ingest --pipeline clicks
expect_stderr_line "error: $WS/steward.yaml:4:28: pipelines: 'mirror_offsets' must be true or false"
pipeline_config clicks '    security: {protocol: plaintext, sasl_token: x}'
expect_exit 3 steward ingest --pipeline clicks
expect_stderr_line "error: $WS/steward.yaml:15:37: pipelines: unknown security setting 'sasl_token' of 'clicks'"
pipeline_config clicks '    security: {protocol: carrier-pigeon}'
expect_exit 3 steward ingest --pipeline clicks
expect_stderr_contains "error: Kafka property 'security.protocol': "
expect_stderr_lacks 'records in' 'no counts when the run never started'
expect_exit 2 steward ingest --pipeline clicks k.click t.other
expect_stderr_line 'error: give at most one dataset with --pipeline'
write_config <<'EOF2'
version: 1
pipelines: [clicks]
EOF2
expect_exit 3 steward ingest --pipeline clicks
expect_stderr_line "error: $WS/steward.yaml:2:12: pipelines must map pipeline names to settings"

# ---- a run: the password from the environment, the group and topics from steward.yaml ----
pipeline_config clicks '    security: {protocol: plaintext, sasl_username: steward, sasl_password_env: KAFKA_PW}'
expected 1 1000 a
produce raw "$TMP/a.in"
KAFKA_PW=$CANARY
export KAFKA_PW
start_member m clicks --json
check 'the member is assigned the 6 partitions' wait_line "$TMP/m.err" "assigned partitions 0,1,2,3,4,5 of 'raw' \(6 in all\)"
check 'the member commits the 1000 records' wait_committed 1000 m
# a rotation while it runs: the next transaction uses the new key
expect_exit 0 steward key rotate
expected 1001 300 b
produce raw "$TMP/b.in"
check 'the member commits the next 300 records' wait_committed 1300 m
check 'it says it reloaded the plan' grep -q 'reloaded the plan' "$TMP/m.err"
# a subject objects while it runs: the next transaction drops their records
expect_exit 0 steward request new object --subject user.contact.email:user1301@example.com
expect_exit 0 steward request run --due
expected 1301 100 c
produce raw "$TMP/c.in"
check 'the member commits the next 100 records' wait_committed 1400 m
stop_member m
expect_equal 0 "$RC" 'SIGTERM: exit 0'
check 'it left the group' grep -q "revoked partitions 0,1,2,3,4,5 of 'raw' (0 left)" "$TMP/m.err"
expect_jq '[.in, .out, .rejected, .suppressed, .aborted_transactions]' '[1400,1199,200,1,0]' "$TMP/m.out"
expect_jq '.by_reason' '{"malformed-json":50,"unknown-field":50,"missing-field":50,"wrong-type":50}' "$TMP/m.out"
check 'the summary line' grep -qx 'ingest clicks: 1400 records in, 1199 out, 200 rejected, 1 suppressed; [0-9]* transactions committed, 0 aborted' "$TMP/m.err"

dump raw "$TMP/src.json"
dump clean "$TMP/out.json"
dump dlq "$TMP/dlq.json"
cat "$TMP/a.in" "$TMP/b.in" "$TMP/c.in" >"$TMP/all.in"
check_content 'every record once, by content, as the stdin hook makes it' --input "$TMP/all.in" \
	--expected "$TMP/a.exp" --expected "$TMP/b.exp" --expected "$TMP/c.exp" \
	--rejects "$TMP/a.rej" --rejects "$TMP/b.rej" --rejects "$TMP/c.rej" \
	--source "$TMP/src.json" --output "$TMP/out.json" --dlq "$TMP/dlq.json" --log "$TMP/m.err"
check "the objecting subject's record is suppressed" grep -q ' 1 suppressed;' "$TMP/.kcheck"
check 'records after the rotation carry k2 pseudonyms' grep -q '"email":"k2:' "$TMP/b.exp"
check 'and so does the output topic' grep -q 'email\\":\\"k2:' "$TMP/out.json"
# a dead-letter record: the record as it came, with its reason and source in headers
expect_equal '["steward-code","unknown-field","steward-reason","steward-source-topic","raw","steward-source-partition","steward-source-offset","steward-txn"]' \
	"$(jq -s -c '[.[] | select(.payload | contains("\"extra\":1"))][0].headers | [.[0],.[1],.[2],.[4],.[5],.[6],.[8],.[10]]' "$TMP/dlq.json")" \
	'a dead-letter record has its code, reason, source and transaction in headers'

# the password is nowhere: not in the output, the status lines, nor the audit log
check_not 'the password is not on stderr' grep -q "$CANARY" "$TMP/m.err"
check_not 'the password is not on stdout' grep -q "$CANARY" "$TMP/m.out"
expect_exit 0 steward audit log --json
expect_stdout_lacks "$CANARY"
expect_jq '[.[] | select(.action == "pii.ingest" and .object == "k.click")] | length > 0' 'the run is audited under its dataset'

done_testing
