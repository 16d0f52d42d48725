#!/bin/sh
# steward pii scan: detector shares per field, flags on fields tagged none, proposals.
. "$(dirname "$0")/lib.sh"
init_ws
cat >"$TMP/ds.yaml" <<'YAML'
kind: table
name: s.crm
fields:
  - {name: id, type: int64, pii: none}
  - {name: comment, type: string, pii: none}
  - {name: ref, type: string, pii: none}
  - {name: note, type: string, pii: none, scan: true}
  - {name: email, type: string, pii: direct, category: user.contact.email, transform: hash}
YAML
expect_exit 0 steward catalog load "$TMP/ds.yaml"
python3 - >"$TMP/sample.jsonl" <<'PY'
import json
for i in range(100):
    print(json.dumps({"id": i,
                      "comment": "call me at +82 10-1234-%04d" % i if i % 4 == 0 else "thanks",
                      "ref": "4111111111111111" if i % 2 else "5555555555554444",
                      "note": "x@example.com" if i % 3 == 0 else "-",
                      "email": "p%d@example.com" % i,
                      "extra": {"ip": "203.0.113.%d" % (i % 250)}}))
print("not json")
PY
expect_exit 1 steward pii scan "$TMP/sample.jsonl" --dataset s.crm
expect_stdout_contains 'pii scan s.crm: 100 records read, 1 unreadable'
expect_stdout_line '  comment: tagged none, yet 25.0% of its values hold phone; propose scan: true (free text holding phone)'
expect_stdout_line '  ref: tagged none, yet 100.0% of its values hold card; propose pii: sensitive, category: user.financial.credit_card, transform: mask'
expect_stdout_line '  extra.ip: not in the schema, yet 100.0% of its values hold ip; propose pii: direct, category: user.device.ip_address, transform: hash'
expect_stdout_lacks '  note:' 'a scanned field is not flagged'
expect_stdout_lacks '  email:' 'a tagged field is not flagged'
expect_exit 1 steward pii scan "$TMP/sample.jsonl" --dataset s.crm --json --sample 10
expect_jq '.records == 10 and ([.fields[] | select(.flagged) | .path] | sort) == ["comment", "extra.ip", "ref"]'
expect_jq '.fields[] | select(.path == "email") | .hits.email.whole == 10'
check 'no sampled value is printed' sh -c "! grep -q -e 'example.com' -e '4111' '$OUT'"

expect_exit 0 steward pii scan /dev/null --dataset s.crm
expect_exit 4 steward pii scan /dev/null --dataset s.none
expect_stderr_line "error: no dataset 's.none' in the catalog"
expect_exit 2 steward pii scan /dev/null
expect_stderr_line 'error: --dataset is required'
expect_exit 4 steward pii scan "$TMP/missing.jsonl" --dataset s.crm
expect_stderr_line "error: cannot open '$TMP/missing.jsonl'"

# --explain: each finding of each line of free text, with its score and evidence, never the
# value; a look-alike shows under the threshold.
printf '%s\n' 'SSN = 128-13-6738, IP 136.139.128.99.' 'versão 13.8.8.232' \
	'https://ann:s3cret@host.example.com/' >"$TMP/free.txt"
expect_exit 0 steward pii scan --explain "$TMP/free.txt"
expect_stdout_line 'line 1: ssn at bytes 6-17, score 100: pattern context word'
expect_stdout_line 'line 1: ip at bytes 22-36, score 90: pattern'
expect_stdout_line 'line 2: ip at bytes 8-18, score 10 (under the threshold, kept): pattern negative context'
expect_stdout_line 'line 3: url_credentials at bytes 8-18, score 90: pattern'
check 'no value is printed' sh -c "! grep -q -e '6738' -e 's3cret' '$OUT'"
expect_exit 0 steward pii scan --explain "$TMP/free.txt" --json
expect_stdout_line '{"line":2,"findings":[{"type":"ip","start":8,"end":18,"score":10,"replaced":false,"evidence":["pattern","negative context"]}]}'
expect_exit 2 steward pii scan --explain "$TMP/free.txt" --sample 3
expect_stderr_line 'error: --explain reads a file of free text, without --sample, --dsn-file or --dsn-env'
expect_exit 4 steward pii scan --explain "$TMP/missing.txt"
expect_stderr_line "error: cannot open '$TMP/missing.txt'"

done_testing
