#!/bin/sh
# Input limits of every reader (docs/testing.md lists them): exceeding one is a clear error,
# and a huge single line streams through ingest in bounded memory. The YAML limits (file
# size, depth, alias expansion) are in t-load-limits.sh and test_ydoc; record length in
# t-ingest.sh; a huge record streaming through ingest in t-input-stream.sh.
. "$(dirname "$0")/lib.sh"
require python3 sqlite3
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
cd "$TMP" || exit 99

# ---- a descriptor file: 16 MiB ----
python3 -c "import sys; sys.stdout.write('kind: table\nname: a.b\ndescription: ' + 'x' * (16 << 20) + '\n')" >big.yaml
expect_exit 3 steward catalog load big.yaml
expect_stderr_line "big.yaml: error: file is 16777252 bytes, over the limit of 16777216 bytes for a descriptor file"

# ---- steward.yaml: 1 MiB ----
cp "$WS/steward.yaml" saved.yaml
{ cat saved.yaml; python3 -c "print('# ' + 'x' * (1 << 20))"; } >"$WS/steward.yaml"
expect_exit 3 steward search revenue
expect_stderr_line "error: '$WS/steward.yaml' is too large"
expect_stdout_empty
cp saved.yaml "$WS/steward.yaml"

# ---- an anchor: 64 KiB ----
python3 -c "print('{\"format\": \"steward-audit-anchor\", \"pad\": \"' + 'x' * (64 << 10) + '\"}')" >anchor.json
expect_exit 2 steward audit verify --anchor anchor.json
expect_stderr_line "error: 'anchor.json' is not a steward anchor (over 64 KiB)"

# ---- a request subject: 1023 bytes ----
expect_exit 3 steward request new erase --subject "user.unique_id:$(python3 -c "print('1' * 1024)")"
expect_stderr_line 'error: the subject is too long'

# ---- JSON nesting in ingest: 64 levels ----
python3 -c "print('{\"event_type\":\"search\",\"a\":' + '[' * 70 + ']' * 70 + '}')" >deep.jsonl
expect_exit_stdin 1 deep.jsonl steward ingest 'events.*' --label event_type --rejects deep.rej
expect_equal 'too-deep' "$(jq -r .code deep.rej)" 'nesting deeper than 64 is rejected as too-deep'

# ---- CSV fields per record: 1024 ----
python3 -c "print(','.join('c%d' % i for i in range(1025)))" >wide.csv
expect_exit_stdin 3 wide.csv steward ingest crm.signups_export --format csv
expect_stderr_line 'error: cannot read the CSV header: the record has more than 1024 fields'

# ---- a CSV header: the record limit; a quoted header spanning lines once overflowed ----
python3 -c "print('event_id,\"' + 'x' * 1500 + '\n' + 'y' * 1500 + '\"'); print('a,b')" >longhdr.csv
expect_exit_stdin 3 longhdr.csv steward ingest crm.signups_export --format csv --max-record 1000
expect_stderr_line 'error: the CSV header is longer than 1000 bytes'

# ---- a line of a jsonl target: 64 MiB; the target is left as it was ----
mkdir lake
expect_exit 0 steward pii hash --purpose test --category user.unique_id 42
k=$(cat "$OUT")
python3 - "$k" <<'PY' >lake/a.jsonl
import sys
print('{"label":"a","user_id":"%s","payload":"p"}' % sys.argv[1])
print('{"label":"b","user_id":"x","payload":"' + 'y' * (64 << 20) + '"}')
PY
before=$(cksum <lake/a.jsonl)
{ cat saved.yaml; printf 'targets:\n  lake.client_log: "jsonl:%s/lake"\n' "$TMP"; } | grep -v '^targets: {}' >"$WS/steward.yaml"
chmod 600 "$WS/steward.yaml"
expect_exit 0 steward request new erase --subject user.unique_id:42
id=$(cat "$OUT")
expect_exit 1 steward request run "$id"
expect_exit 0 steward request show "$id" --json
expect_jq '.targets[0] | [.status, .detail]' "[\"failed\",\"$TMP/lake/a.jsonl:2: the line is longer than 64 MiB; the target was not changed\"]"
expect_equal "$before" "$(cksum <lake/a.jsonl)" 'the target file is unchanged'

done_testing
