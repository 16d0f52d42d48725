#!/bin/sh
# Leak canaries across the whole product: unique values planted in descriptors' free text,
# an event stream, a CSV file, request subjects, search queries, purposes and reasons. Every
# command runs; then every file in the workspace (databases with their -wal and -shm files,
# keys, exports, reports, anchors) and everything the commands printed is searched for the
# raw canaries. The only places raw values may stay are the inputs themselves (outside the
# workspace) and the ingest quarantine, which by design keeps rejected records whole.
. "$(dirname "$0")/lib.sh"
require python3 sqlite3
init_ws
cd "$TMP" || exit 99

c_desc='canary.desc.k3@example.com'     # a descriptor's description
c_field='+1 202 555 0187'               # a field's description
c_reason='4012888888881881'             # a pii_reason (a card number)
c_email='canary.event.k3@example.com'   # an event's e-mail field
c_query='canary.query.k3@example.com'   # free text an event carries
c_csv='canary.csv.k3@example.com'       # a CSV row
c_subject='canary.subject.k3@example.com' # a request's subject
c_search='canary.search.k3@example.com' # a search query
c_purpose='canary.purpose.k3@example.com' # typed into --purpose
c_ext='canary.ext.k3@example.com'       # typed into an extension reason
c_user=931770017                        # a user id in events and a target table
canaries="$c_desc|\\$c_field|$c_reason|$c_email|$c_query|$c_csv|$c_subject|$c_search|$c_purpose|$c_ext|$c_user"

all_out=$TMP/all-output
: >"$all_out"
# keep: appends the last command's stdout and stderr to what is searched at the end.
keep() { cat "$OUT" "$ERR" >>"$all_out"; }

# ---- inputs (outside the workspace) ----
mkdir -p cat
cp -R "$STEWARD_SRC/examples/catalog/." cat/
cat >cat/canary.yaml <<EOF
kind: table
name: crm.canary_contacts
description: Ask $c_desc for access.
owner: crm-team
subject: contact_id
erasure: {action: delete, match: contact_id}
columns:
  - {name: contact_id, type: int64, required: true, pii: direct, category: user.unique_id}
  - {name: email, type: string, pii: direct, category: user.contact.email, transform: hash}
  - {name: note, type: string, pii: none, description: "call $c_field if broken"}
  - {name: bucket, type: string, pii: none, pii_reason: "was $c_reason once"}
EOF
python3 - "$c_user" "$c_email" "$c_query" <<'PY' >events.jsonl
import json, sys
user, email, query = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = {"ip": "198.51.100.7", "user_agent": "ua", "device": "web", "country": "KR",
       "page": "home", "referrer": None}
base = {"schema_version": 3, "ts": "2026-11-01T00:00:00Z", "user_id": user,
        "session_id": "s1", "context": ctx}
print(json.dumps(dict(base, event_id="e1", event_type="signup", email=email,
                      full_name="Kim Canary", birth_date="1990-01-02",
                      phone="+82 10-1234-5678", marketing_opt_in=True)))
print(json.dumps(dict(base, event_id="e2", event_type="search", query="mail " + query)))
print(json.dumps(dict(base, event_id="e3", event_type="search")))  # rejected: no query
PY
printf 'event_id,event_type,ts,user_id,email,phone,full_name,ip\ne5,signup,2026-01-01T00:00:00Z,%s,%s,"+82 10-2222-3333",Canary Kim,198.51.100.9\n' \
	"$c_user" "$c_csv" >signups.csv
sqlite3 prod.db "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, full_name TEXT);
INSERT INTO users VALUES ($c_user, '$c_subject', 'Kim Canary'), (2, 'bob@example.com', 'Bob');
CREATE TABLE enrollments (id INTEGER PRIMARY KEY, user_id INTEGER, course_id INTEGER);
INSERT INTO enrollments VALUES (1, $c_user, 7), (2, 2, 8);"

write_config <<EOF
version: 1
pii:
  default_country: KR
targets:
  prod.users: "sqlite:$TMP/prod.db?table=users"
  prod.enrollments: "sqlite:$TMP/prod.db?table=enrollments"
EOF

# ---- every command ----
expect_exit 0 steward catalog load --check cat; keep
expect_exit 0 steward catalog load cat; keep
expect_stderr_contains 'canary.yaml:3:14: warning: the description holds what looks like personal data (1 value); it is stored with it replaced'
expect_exit 0 steward catalog schema; keep
expect_exit 0 steward search "$c_search"; keep
expect_exit 0 steward search contacts --json; keep
expect_exit 0 steward show crm.canary_contacts; keep
expect_exit 0 steward show crm.canary_contacts --json; keep
expect_exit 0 steward lineage dw.dim_user --both; keep
expect_exit 0 steward key init; keep
expect_exit 0 steward key rotate; keep
expect_exit 0 steward key list; keep
expect_exit 0 steward pii hash --purpose "ticket for $c_purpose" --category user.contact.email "$c_subject"; keep
expect_exit 0 steward pii map --json; keep
steward pii check >/dev/null 2>&1
expect_exit 1 steward pii scan events.jsonl --dataset events.search; keep
expect_exit_stdin 1 events.jsonl steward ingest 'events.*' --label event_type; keep
expect_exit_stdin 0 signups.csv steward ingest crm.signups_export --format csv; keep
expect_exit 0 steward request new erase --subject "user.contact.email:$c_subject"; keep
id=$(cat "$OUT")
printf '%s\n' "$c_subject" >subject.txt
expect_exit_stdin 0 subject.txt steward request new object --subject user.contact.email:-; keep
expect_exit 0 steward request new access --subject "user.unique_id:$c_user"; keep
access=$(cat "$OUT")
expect_exit 0 steward request plan "$id" --json; keep
expect_exit 0 steward request extend "$id" --reason "the DPO $c_ext is away"; keep
expect_exit 0 steward request run "$access" --exports "$TMP/exports"; keep
expect_exit 0 steward request run "$id"; keep
expect_exit 0 steward request run --due; keep
expect_exit 0 steward request show "$id" --json; keep
expect_exit 0 steward request list --json; keep
expect_exit_stdin 1 events.jsonl steward ingest 'events.*' --label event_type --rejects "$TMP/rejects.jsonl"
keep
expect_stderr_contains 'suppressed'
expect_exit 0 steward audit log --json; keep
expect_exit 0 steward audit verify; keep
expect_exit 0 steward audit checkpoint --export "$WS/anchor.json"; keep
month=$(date -u +%Y-%m)
for f in md html json csv; do
	expect_exit 0 steward report --period "$month" --format "$f" --output "$WS/report.$f"; keep
done
expect_exit 0 steward report --period "$month"; keep

# ---- what the design keeps raw ----
check 'the access bundle (delivered to the subject) holds their data, outside the workspace' \
	sh -c "grep -q 'Kim Canary' '$TMP/exports/$access.json'"
check 'the quarantine keeps the rejected record whole (documented in docs/ingest.md)' \
	sh -c "grep -rq 'e3' '$WS/.steward/quarantine'"
check 'the erasure reached the target' sh -c "[ \$(sqlite3 prod.db 'SELECT count(*) FROM users') -eq 1 ]"

# ---- nothing raw anywhere else ----
found=$(grep -rlaE "$canaries" "$WS" | grep -v "^$WS/.steward/quarantine/" || true)
if [ -z "$found" ]; then
	pass "no canary in any workspace file ($(find "$WS" -type f | wc -l) files, databases, -wal and -shm included)"
else
	fail 'no canary in any workspace file' "$(for f in $found; do
		printf '%s: %s\n' "$f" "$(grep -aoE "$canaries" "$f" | sort -u | tr '\n' ' ')"; done)"
fi
if grep -qaE "$canaries" "$all_out"; then
	fail 'no canary in anything the commands printed' "$(grep -aoE "$canaries" "$all_out" | sort -u)"
else
	pass 'no canary in anything the commands printed'
fi
check 'no canary in the quarantine except the rejected record itself' \
	sh -c "! grep -raE '$c_desc|\\$c_field|$c_reason|$c_csv|$c_subject|$c_search|$c_purpose|$c_ext' '$WS/.steward/quarantine'"
done_testing
