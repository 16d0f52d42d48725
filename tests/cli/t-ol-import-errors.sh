#!/bin/sh
# steward lineage import: broken events (a missing eventTime, a wrong eventType, a non-URI
# _producer, ...) are rejected with their exact reason and position (file:line in NDJSON,
# [index] in an array), to standard error and to --rejects; the valid ones still import;
# read = applied + rejected + ignored; the rejects file cannot be aimed into .steward/.
. "$(dirname "$0")/lib.sh"
require jq

OL=$STEWARD_SHARED/interop/openlineage
init_ws
E=$(jq -c . "$OL/events/client-python-example_full_event.json")
ev() { printf '%s\n' "$E" | jq -c "$1"; }
{
	ev 'del(.eventTime)'
	ev '.eventType = "FINISHED"'
	ev '.eventType = "COMPLET"'
	ev '.run.facets.nominalTime._producer = "not a uri"'
	ev '.producer = "producer"'
	ev '.eventTime = "2020-12-28 19:51:01Z"'
	ev '.run.runId = "42"'
	printf '%s\n' '{"eventType": "START",'
	ev '.outputs[0].facets.schema.fields[0] |= del(.name)'
	ev '.inputs[0].facets.schema._schemaURL = "http://x.example/a b"'
	printf '%s\n' '{"eventTime":"2020-12-28T19:51:01Z","producer":"https://x.example/p","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent","dataset":{"namespace":"a","name":"b"}}'
	printf '%s\n' "$E"
	printf '%s\n' '{"eventTime":"2020-12-28T19:51:01Z","producer":"https://x.example/p","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent","dataset":{"namespace":"a","name":"c","facets":{"schema":{"_producer":"https://x.example/p","_schemaURL":"https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet","fields":[{"type":"int"}]}}}}'
} >"$TMP/bad.ndjson"

expect_exit 1 steward lineage import --rejects "$TMP/rejects.jsonl" "$TMP/bad.ndjson"
expect_stdout_line 'imported 13 events: 2 applied (1 DatasetEvent or JobEvent), 11 rejected, 0 ignored (0 already imported, 0 superseded)'
B=$TMP/bad.ndjson
expect_stderr_line "$B:1: rejected: missing required key 'eventTime'"
expect_stderr_line "$B:2: rejected: 'eventType' is 'FINISHED', not one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER"
expect_stderr_line "$B:3: rejected: 'eventType' is 'COMPLET' (did you mean 'COMPLETE'?)"
expect_stderr_line "$B:4: rejected: 'run.facets.nominalTime._producer' must be a URI, not 'not a uri'"
expect_stderr_line "$B:5: rejected: 'producer' must be a URI, not 'producer'"
expect_stderr_line "$B:6: rejected: 'eventTime' must be an RFC 3339 date-time, not '2020-12-28 19:51:01Z'"
expect_stderr_line "$B:7: rejected: 'run.runId' must be a UUID, not '42'"
expect_stderr_line "$B:8: rejected: invalid JSON: 9:1: string or '}' expected near '{'"
expect_stderr_line "$B:9: rejected: 'outputs[0].facets.schema.fields[0]' is missing required key 'name'"
expect_stderr_line "$B:10: rejected: 'inputs[0].facets.schema._schemaURL' must be a URI, not 'http://x.example/a b'"
expect_stderr_line "$B:13: rejected: 'dataset.facets.schema.fields[0]' is missing required key 'name'"
expect_stderr_line "rejected events are in '$TMP/rejects.jsonl'"
expect_count 11 . "$TMP/rejects.jsonl" 'one rejects line per rejected event'
jq -s . "$TMP/rejects.jsonl" >"$TMP/rejects.json"
R=$TMP/rejects.json
expect_jq '[.[] | .line]' '[1,2,3,4,5,6,7,8,9,10,13]' "$R"
expect_jq '.[0] | [.reason, .event.eventType]' "[\"missing required key 'eventTime'\",\"COMPLETE\"]" "$R"
expect_jq "all(.[]; .source == \"$B\")" 'each line names its source file' "$R"
expect_jq '[.[7].text, (.[7] | has("event"))]' '["{\"eventType\": \"START\",\n",false]' "$R"
expect_jq '[.[] | select(has("event")) | .event.job.name // .event.dataset.name] | unique' '["c","myjob.mytask"]' "$R"
check 'the rejects file is private' test "$(stat -c %a "$TMP/rejects.jsonl")" = 600
# The valid event went in all the same.
expect_exit 0 steward show my-datasource-namespace.instance_schema_table

# ---- an array: positions are indexes ----
{
	printf '[\n'
	ev '.eventType = "DONE"'
	printf ',\n'
	ev '.run.runId = "0191f1a2-0000-7000-8000-00000000000a"'
	printf ',\n'
	ev 'del(.job.namespace) | .run.runId = "0191f1a2-0000-7000-8000-00000000000b"'
	printf ']\n'
} >"$TMP/arr.json"
expect_exit 1 steward lineage import --json "$TMP/arr.json"
expect_jq '[.read, .applied, .rejected, .ignored]' '[3,1,2,0]'
expect_stderr_line "$TMP/arr.json[0]: rejected: 'eventType' is 'DONE', not one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER"
expect_stderr_line "$TMP/arr.json[2]: rejected: 'job' is missing required key 'namespace'"
# A broken array is one rejected event at the line jansson names.
printf '[{"eventType": "START"},\n{]\n' >"$TMP/broken.json"
expect_exit 1 steward lineage import "$TMP/broken.json"
expect_stdout_line 'imported 1 event: 0 applied, 1 rejected, 0 ignored (0 already imported, 0 superseded)'
expect_stderr_line "$TMP/broken.json:2: rejected: invalid JSON: 2:2: string or '}' expected near ']'"

# ---- refusals ----
expect_exit 2 steward lineage import --rejects "$WS/.steward/rejects.jsonl" "$TMP/bad.ndjson"
expect_stderr_line "error: rejects file '$WS/.steward/rejects.jsonl' is inside the workspace's state directory '$WS/.steward'; choose a path outside it"
check 'nothing written in .steward' test ! -e "$WS/.steward/rejects.jsonl"
ln -s "$TMP/elsewhere" "$TMP/link.jsonl"
expect_exit 2 steward lineage import --rejects "$TMP/link.jsonl" "$TMP/bad.ndjson"
check 'a symbolic link is not followed' test ! -e "$TMP/elsewhere"
# The rejects file is never one of the inputs: it would be emptied before it is read.
cp "$TMP/bad.ndjson" "$TMP/bad.copy"
expect_exit 2 steward lineage import --rejects "$TMP/bad.ndjson" "$TMP/bad.ndjson"
expect_stderr_line "error: rejects file '$TMP/bad.ndjson' is the same file as an input of this command"
test_cmp "$TMP/bad.copy" "$TMP/bad.ndjson" 'the input is untouched'
# Inside a directory being imported it is no input either (it would read what it writes).
mkdir "$TMP/dir"
cp "$TMP/bad.ndjson" "$TMP/dir/a.ndjson"
expect_exit 1 steward lineage import --rejects "$TMP/dir/rejects.jsonl" "$TMP/dir"
expect_stdout_line 'imported 13 events: 0 applied, 11 rejected, 2 ignored (2 already imported, 0 superseded)'
expect_count 11 . "$TMP/dir/rejects.jsonl" 'the rejects file holds the eleven, and was not read'
expect_exit 4 steward lineage import "$TMP/nope.ndjson"
expect_stderr_line "error: cannot open '$TMP/nope.ndjson': No such file or directory"
expect_exit 2 steward lineage import
expect_stderr_line 'error: no files to import'
expect_exit 0 steward lineage import --help
expect_stdout_contains 'usage: steward lineage import [--rejects FILE] [--json] FILE|DIR|-...'

done_testing
