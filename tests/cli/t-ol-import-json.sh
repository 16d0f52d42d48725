#!/bin/sh
# steward lineage import reads events with the strict tape reader and keeps what jansson
# said before: what jansson refuses (a duplicate key, "\u0000", an integer beyond 64 bits, a
# real that overflows, a value that is not an object or array) is rejected with jansson's
# own message and position; escapes, white space and layout do not change an event's
# identity (already imported); two events on one line are two events; an event nested
# deeper than 64 levels is rejected, alone, with its position.
. "$(dirname "$0")/lib.sh"
require jq

OL=$STEWARD_SHARED/interop/openlineage
init_ws
E=$(jq -c . "$OL/events/client-python-example_full_event.json")
ev() { printf '%s\n' "$E" | jq -c "$1"; }
with_run() { ev ".run.runId = \"0191f1a2-0000-7000-8000-00000000000$1\""; }
deep() { printf '[%.0s' $(seq 70); printf ']%.0s' $(seq 70); }

# ---- what jansson refuses is refused as jansson said ----
{
	printf '%s\n' '"an event"'
	with_run 1 | sed 's/"runId":/"x":1,"x":2,"runId":/'
	with_run 2 | sed 's/"myjob.mytask"/"my\\u0000job"/'
	with_run 3 | sed 's/"runId":/"n":99999999999999999999,"runId":/'
	with_run 4 | sed 's/"runId":/"n":1e999,"runId":/'
	with_run 5 | sed 's/"runId":/"deep":'"$(deep)"',"runId":/'
	with_run 6
} >"$TMP/bad.ndjson"
B=$TMP/bad.ndjson
expect_exit 1 steward lineage import --rejects "$TMP/rej.jsonl" "$B"
expect_stdout_line 'imported 7 events: 1 applied, 6 rejected, 0 ignored (0 already imported, 0 superseded)'
expect_stderr_line "$B:1: rejected: invalid JSON: 1:10: '[' or '{' expected near '\"an event\"'"
expect_stderr_line "$B:2: rejected: invalid JSON: 2:79: duplicate object key near '\"x\"'"
expect_stderr_line "$B:3: rejected: invalid JSON: 3:602: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"my\\u0000job\"'"
expect_stderr_line "$B:4: rejected: invalid JSON: 4:94: too big integer near '99999999999999999999'"
expect_stderr_line "$B:5: rejected: invalid JSON: 5:79: real number overflow near '1e999'"
expect_stderr_line "$B:6: rejected: invalid JSON: 6:140: nested more than 64 deep"
R=$TMP/rej.jsonl
expect_count 6 . "$R" 'one rejects line per rejected event'
jq -s . "$R" >"$TMP/rej.json"
expect_jq '[.[] | has("event")]' '[false,false,false,false,false,true]' "$TMP/rej.json"
expect_jq '.[5].event.run.runId' '"0191f1a2-0000-7000-8000-000000000005"' "$TMP/rej.json"

# ---- one event, however it is written, is one event ----
{
	with_run 6 | sed 's/"eventType"/"event\\u0054ype"/'
	with_run 6 | jq .
	printf '%s%s\n' "$(with_run 7)" "$(with_run 8)"
} >"$TMP/same.ndjson"
expect_exit 0 steward lineage import --json "$TMP/same.ndjson"
expect_jq '[.read, .applied, .duplicates]' '[4,2,2]'
printf '[%s,\n%s,\n%s]\n' "$(with_run 7)" "$(with_run 8 | jq .)" "$(with_run 9 | sed 's/"runId":/"deep":'"$(deep)"',"runId":/')" \
	>"$TMP/arr.json"
expect_exit 1 steward lineage import --json "$TMP/arr.json"
expect_jq '[.read, .rejected, .duplicates]' '[3,1,2]'
expect_stderr_line "$TMP/arr.json[2]: rejected: invalid JSON: nested more than 64 deep"
done_testing
