#!/bin/sh
# steward ingest --format csv: RFC 4180 quoting, CRLF, BOM, ragged rows, unterminated
# quotes, header checks, and the sample CSV export with its PII replaced.
. "$(dirname "$0")/lib.sh"
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$CORPUS" "$CSV_DIR"
cd "$TMP" || exit 99

printf '\357\273\277event_id,event_type,ts,user_id,email,full_name\r\n' >edge.csv
printf '"e1","signup",2026-01-01T00:00:00Z,5," A@B.com","Kim, ""Jiho"""\r\n' >>edge.csv
printf 'e2,signup,2026-01-01T00:00:00Z,6,c@d.com,"two\nlines"\r\n' >>edge.csv
printf 'e3,signup,2026-01-01T00:00:00Z,7\r\n' >>edge.csv
printf 'e4,signup,2026-01-01T00:00:00Z,8,x@y.com,a"b\r\n' >>edge.csv
printf 'e5,signup,2026-01-01T00:00:00Z,,x@y.com,n\r\n' >>edge.csv
printf 'e6,signup,2026-01-01T00:00:00Z,abc,x@y.com,n\r\n' >>edge.csv
printf 'e7,"signup,2026-01-01T00:00:00Z,8,x@y.com,n\n' >>edge.csv
expect_exit_stdin 1 edge.csv steward ingest crm.signups_export --format csv --rejects rej.jsonl
expect_stderr_contains 'ingest crm.signups_export: 7 records in, 2 out, 5 rejected'
expect_equal 'event_id,event_type,ts,user_id,email,full_name' "$(head -n 1 "$OUT" | tr -d '\r')" 'the header, BOM gone'
expect_equal 3 "$(wc -l <"$OUT")" 'header and two rows'
expect_exit 0 steward pii hash --purpose test --category user.contact.email a@b.com
a=$(cat "$OUT")
expect_exit_stdin 1 edge.csv steward ingest crm.signups_export --format csv --rejects rej.jsonl
check 'quoted fields decoded, e-mail normalized and hashed' grep -q "^e1,signup,2026-01-01T00:00:00Z,k1:[A-Za-z0-9_-]*,$a,k1:" "$OUT"
expect_equal '5 ragged-row
6 malformed-csv
7 missing-field
8 wrong-type
9 malformed-csv' "$(jq -r '"\(.line) \(.code)"' rej.jsonl)" 'line numbers (a quoted newline counts) and reasons'

# A record over the limit, even one spanning lines inside quotes, is streamed whole into
# the quarantine; the record after it still passes, with the right line number.
{ printf 'event_id,event_type,ts,user_id,email\n"e1","sig\n'; head -c 3000 /dev/zero | tr '\0' y
  printf '",2026-01-01T00:00:00Z,5,a@b.com\ne2,signup,2026-01-01T00:00:00Z,6,c@d.com\n'; } >long.csv
expect_exit_stdin 1 long.csv steward ingest crm.signups_export --format csv --max-record 1000 --rejects rl.jsonl
expect_count 2 '' "$OUT" 'the header and the short record'
expect_equal '2 too-long' "$(jq -r '"\(.line) \(.code)"' rl.jsonl)" 'quarantined from its first line'
sed -n '2,3p' long.csv | head -c -1 >long.want
jq -j 'if .record then .record else (.record_base64 | @base64d) end' rl.jsonl >long.got
test_cmp long.want long.got 'quarantined byte for byte'

# The header must name fields; a missing required column stops before any row.
printf 'event_id,event_type,ts,user_id,email,shoe_size\ne1,signup,2026-01-01T00:00:00Z,5,a@b.com,44\n' >unknown.csv
expect_exit_stdin 3 unknown.csv steward ingest crm.signups_export --format csv
expect_stderr_line "error: column 6 of the CSV header is not a field of 'crm.signups_export'"
expect_exit_stdin 0 unknown.csv steward ingest crm.signups_export --format csv --unknown drop
check 'the unknown column is dropped' sh -c "! grep -q shoe_size '$OUT' && ! grep -q ',44' '$OUT'"
printf 'event_id,event_type,ts\ne1,signup,2026-01-01T00:00:00Z\n' >missing.csv
expect_exit_stdin 3 missing.csv steward ingest crm.signups_export --format csv
expect_stderr_line "error: required field 'user_id' has no column"
expect_exit 2 steward ingest 'events.*' --format csv
expect_stderr_line "error: CSV input goes to one dataset, not to 'events.*'"

# ---- the sample export ----
python3 "$STEWARD_SHARED/corpus/gen_events.py" --count 2000 --format csv >signups.csv
expect_exit_stdin 0 signups.csv steward ingest crm.signups_export --format csv
cp "$OUT" signups-out.csv
check 'no e-mail, phone, name or full IP from the input in the output' python3 - signups.csv signups-out.csv <<'PY'
import csv, sys
raw = set()
with open(sys.argv[1], newline="") as f:
    for row in csv.DictReader(f):
        raw.update([row["email"].strip(), row["phone"], row["full_name"], row["ip"]])
out = open(sys.argv[2], encoding="utf-8").read()
sys.exit(1 if [v for v in raw if v and v in out] else 0)
PY
check 'output is valid CSV with birth years and truncated networks' python3 - signups-out.csv <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
ok = len(rows) == 2000 and all(len(r["birth_date"]) == 4 and r["ip"].endswith(("/24", "/48")) for r in rows)
sys.exit(0 if ok else 1)
PY

done_testing
