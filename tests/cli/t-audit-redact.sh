#!/bin/sh
# Raw personal data typed as a command argument never reaches the audit log, nor the error
# messages: one canary per kind the free-text detectors know, and a bare user id, planted
# in every argument position of every verb (the object, --purpose, --reason, a subject, an
# option's value, an unknown verb). Afterwards audit.db (an SQL dump, and the raw bytes of
# the database and its -wal file), `audit log` in text and JSON, and everything the
# commands printed are searched for the canaries.
. "$(dirname "$0")/lib.sh"
require sqlite3
init_ws
cd "$TMP" || exit 99

c_email='canary.arg.k7@example.com'
c_phone='+1 202 555 0143'
c_card='4111111111111111'
c_rrn='900101-1234568'
c_ip='203.0.113.77'
c_user='931770042'
canaries="$c_email|\\$c_phone|$c_card|$c_rrn|$c_ip|$c_user|Canary Kim Xq"

all_out=$TMP/all-output
: >"$all_out"
keep() { cat "$OUT" "$ERR" >>"$all_out"; }
# any: runs a command whatever its exit status, and keeps its output.
any() {
	run steward "$@"
	keep
}

expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
expect_exit 0 steward key init
expect_exit 0 steward key rotate
expect_exit 0 steward request new erase --subject user.unique_id:12
id=$(cat "$OUT")
printf '{"user_id":1}\n' >sample.jsonl

# ---- the defects of issue 11, each with its exact message ----
expect_exit 4 steward show "$c_email"
keep
expect_stderr_line "error: no dataset '<email>' in the catalog"
expect_exit 4 steward request show "$c_email"
keep
expect_stderr_line "error: no request '<email>' (see 'steward request list')"
expect_exit 4 steward request show "$c_user"
keep
expect_stderr_line "error: no request '<number>' (see 'steward request list')"
expect_exit 4 steward pii scan sample.jsonl --dataset "$c_email"
keep
expect_stderr_line "error: no dataset '<email>' in the catalog"
expect_exit 4 steward key retire "$c_email"
keep
expect_stderr_line "error: no key '<email>'"
expect_exit 4 steward request plan "$c_phone"
keep
expect_stderr_line "error: no request '<phone>' (see 'steward request list')"
expect_exit 4 steward request run "$c_card"
keep
expect_stderr_line "error: no request '<card>' (see 'steward request list')"

# ---- every kind in the object, and every verb with a canary in each position ----
for c in "$c_email" "$c_phone" "$c_card" "$c_rrn" "$c_ip" "$c_user"; do
	any show "$c"
done
any show dw.dim_user --version "$c_user"
any lineage "$c_email"
any lineage "dw.dim_user.$c_email"
any search "$c_email"
any search users --owner "$c_email" --tag "$c_ip"
any key retire "$c_user"
any pii hash --category user.contact.email --purpose "ticket $c_email $c_phone" "$c_email"
any pii hash --category "$c_email" --purpose t x@example.org
any pii scan "$c_email" --dataset events.signup
any pii scan sample.jsonl --dataset "$c_ip"
any ingest "$c_email"
any ingest events.signup --purpose "$c_email" --rejects "$TMP/$c_email"
any request new erase --subject "user.contact.email:$c_email"
any request new erase "--subject=user.unique_id:$c_user"
# a subject the detectors do not know, echoed by no message but kept out of them all the same
any request new erase --subject "user.name.full:Canary Kim Xq" --received "Canary Kim Xq"
any request new erase "--subject=user.name.full:Canary Kim Xq" --regime "Canary Kim Xq"
any request new "$c_email" --subject user.unique_id:1
any request extend "$c_email" --reason x
any request extend "$id" --reason "call $c_phone"
any request plan "$c_email"
any request run "$c_rrn"
any request show "$c_ip"
any request list --overdue "$c_email"
any report --period "$c_email"
any report --period 2026-11 --format "$c_email"
any audit log --object "$c_email"
any audit verify --anchor "$TMP/$c_email.json"
any catalog load "$TMP/$c_email.yaml"
any "$c_email"
any pii "$c_email"
any request "$c_ip"

expect_exit 2 steward request new erase --subject "user.name.full:Canary Kim Xq" --received "Canary Kim Xq"
keep
expect_stderr_line "error: --received needs a date such as 2026-01-31, not '<subject>'"
expect_exit 4 steward show file.yaml:12:3
keep
expect_stderr_line "error: no dataset 'file.yaml:12:3' in the catalog"

# ---- what the log holds ----
expect_exit 0 steward audit log --action catalog.show --json
expect_stdout_contains '"object": "<email>"'
expect_stdout_contains '"reason": "no dataset '\''<email>'\'' in the catalog"'
expect_stdout_contains '"object": "<number>"'
expect_exit 0 steward audit log --action request.extend --json
keep
expect_stdout_contains '"reason": "no request '\''<email>'\'' (see '\''steward request list'\'')"'
expect_exit 0 steward audit log --action pii.hash --json
keep
expect_stdout_contains '"purpose": "ticket <email> <phone>"'
expect_exit 0 steward audit log
keep
expect_exit 0 steward audit log --json
keep
expect_exit 0 steward audit verify
keep

sqlite3 "$WS/.steward/audit.db" .dump >"$TMP/audit.sql"
check 'no canary in an SQL dump of audit.db' sh -c "! grep -aqE '$canaries' '$TMP/audit.sql'"
found=$(grep -rlaE "$canaries" "$WS" || true)
if [ -z "$found" ]; then
	pass "no canary in any workspace file ($(find "$WS" -type f | wc -l) files, -wal included)"
else
	fail 'no canary in any workspace file' "$found"
fi
if grep -qaE "$canaries" "$all_out"; then
	fail 'no canary in anything the commands printed' "$(grep -aE "$canaries" "$all_out" | sort -u)"
else
	pass 'no canary in anything the commands printed'
fi
check 'the audit log is intact' grep -q 'audit log intact' "$all_out"
done_testing
