#!/bin/sh
# Canary test: unique values planted in PII fields and free text must not appear in
# standard output, standard error, or anywhere in the workspace but the quarantine.
. "$(dirname "$0")/lib.sh"
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$CORPUS" "$CSV_DIR"
cd "$TMP" || exit 99

c_email='canary.q7x1@example.com'
c_phone='+82 10-7391-2846'
c_name='Canaryname Qzxw'
c_ip='198.51.100.173'
c_card='4000056655665556'
c_addr='17 Canary-ro, Seoul'
c_user='9876543210123'
c_session='canarysession0001'
cat >canary.jsonl <<EOF2
{"event_id":"e1","event_type":"signup","schema_version":3,"ts":"2026-01-01T00:00:00Z","user_id":$c_user,"session_id":"$c_session","context":{"ip":"$c_ip","user_agent":"ua","device":"web","country":"KR","page":"home","referrer":null},"email":"$c_email","full_name":"$c_name","birth_date":"1990-01-02","phone":"$c_phone","marketing_opt_in":true}
{"event_id":"e2","event_type":"purchase","schema_version":3,"ts":"2026-01-01T00:00:00Z","user_id":$c_user,"session_id":"$c_session","context":{"ip":"$c_ip","user_agent":"ua","device":"web","country":"KR","page":"home","referrer":null},"course_id":1,"email":"$c_email","price":{"amount":9.5,"currency":"USD"},"payment":{"card_number":"$c_card","card_holder":"$c_name","billing_address":"$c_addr"}}
{"event_id":"e3","event_type":"search","schema_version":3,"ts":"2026-01-01T00:00:00Z","user_id":$c_user,"session_id":"$c_session","context":{"ip":"$c_ip","user_agent":"ua","device":"web","country":"KR","page":"home","referrer":null},"query":"write to $c_email or $c_phone, card $c_card"}
{"event_id":"e4","event_type":"signup","user_id":"$c_email","email":"$c_email","phone":"$c_phone"}
EOF2
expect_exit_stdin 1 canary.jsonl steward ingest 'events.*' --threads 2
cp "$OUT" canary.out
cp "$ERR" canary.err
printf 'event_id,event_type,ts,user_id,email,phone,full_name,ip\ne5,signup,2026-01-01T00:00:00Z,%s,%s,"%s",%s,%s\n' \
	"$c_user" "$c_email" "$c_phone" "$c_name" "$c_ip" >canary.csv
expect_exit_stdin 0 canary.csv steward ingest crm.signups_export --format csv
cat "$OUT" >>canary.out
cat "$ERR" >>canary.err
expect_exit 0 steward pii hash --purpose test --category user.contact.email "$c_email"

found_in() { # FILE...: prints the canaries found in the files
	for c in "$c_email" "$c_phone" "$c_name" "$c_ip" "$c_card" "$c_addr" "$c_user" "$c_session" \
		7391-2846 5665556; do
		grep -rlaF -e "$c" "$@" 2>/dev/null | sed "s|^|$c in |"
	done
}
expect_equal '' "$(found_in canary.out canary.err)" 'no canary in standard output or error'
expect_equal '' "$(found_in "$WS" | grep -v '/.steward/quarantine/')" 'no canary in the workspace outside the quarantine'
check 'the rejected record is in the quarantine' sh -c "grep -rqF '$c_email' '$WS/.steward/quarantine/'"
expect_equal 700 "$(stat -c %a "$WS/.steward/quarantine")" 'the quarantine directory is mode 0700'
expect_equal 600 "$(stat -c %a "$WS"/.steward/quarantine/*.jsonl)" 'quarantine files are mode 0600'

done_testing
