#!/bin/sh
# The whole erasure path against real targets: SQLite files, a JSONL directory and a local
# HTTP endpoint (one that fails twice before it accepts), evidence, idempotent re-runs,
# retrying only what failed, the suppression list in ingest, and a canary: the subject's
# raw values are nowhere in the workspace afterwards.
. "$(dirname "$0")/lib.sh"
require sqlite3 python3 jq
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
cd "$TMP" || exit 99

c_email='canary-erase.z81@example.com'
c_name='Canaryerase Zq'
c_id=777001
mkdir -p targets/lake
sqlite3 targets/prod.db <<SQL
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, full_name TEXT, phone TEXT);
INSERT INTO users VALUES ($c_id, 'Canary-Erase.Z81@Example.com', '$c_name', NULL),
                         (2, 'bob@example.com', 'Bob B', NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, course_id INTEGER,
                     billing_email TEXT, amount REAL);
INSERT INTO orders VALUES (1, $c_id, 7, '$c_email', 10), (2, 2, 8, 'bob@example.com', 20),
                          (3, $c_id, 9, 'other@example.com', 30);
CREATE TABLE enrollments (id INTEGER PRIMARY KEY, user_id INTEGER, course_id INTEGER);
INSERT INTO enrollments VALUES (1, $c_id, 7), (2, 2, 8), (3, $c_id, 9);
SQL
expect_exit 0 steward pii hash --purpose test-fixture --category user.unique_id "$c_id"
k_id=$(cat "$OUT")
expect_exit 0 steward pii hash --purpose test-fixture --category user.unique_id 2
k_bob=$(cat "$OUT")
printf '{"label":"click","user_id":"%s","payload":"a"}\n{"label":"view",  "user_id":"%s","payload":"b"}\n' \
	"$k_id" "$k_bob" >targets/lake/2026-11-01.jsonl
printf '{"label":"view","user_id":"%s","payload":"c"}\n' "$k_bob" >targets/lake/2026-11-02.jsonl
ino=$(stat -c %i targets/lake/2026-11-02.jsonl)

start_http_target "$TMP/http.log"
port=$HTTP_PORT
export no_proxy='*'

config() {
	write_config <<YAML
version: 1
requests:
  http_backoff_ms: 10
  http_timeout_ms: 2000
targets:
  prod.users: "sqlite:$TMP/targets/prod.db?table=users"
  prod.orders: "sqlite:$TMP/targets/prod.db?table=orders"
  prod.enrollments: "sqlite:$TMP/targets/prod.db?table=enrollments"
  lake.client_log: "jsonl:$TMP/targets/lake"
  ml.recommendations: "http://127.0.0.1:$port/$1"
  ml.user_features: "http://127.0.0.1:$port/ok"
YAML
}
config fail-twice

# ---- a new request: its id alone, the pseudonym only ----
expect_exit 0 steward request new erase --subject "user.contact.email:$c_email"
id=$(cat "$OUT")
check 'the id alone on stdout' sh -c "grep -Eqx 'R-[0-9]{8}-[0-9]{4}' '$OUT'"

expect_exit 0 steward request plan "$id" --json
expect_jq '[.targets[].dataset] | sort' '["lake.client_log","ml.recommendations","ml.user_features","prod.enrollments","prod.orders","prod.users"]'
expect_jq '.targets[] | select(.dataset == "prod.users") | [.match_field, .match, .or_field]' '["id","raw","email"]'
expect_jq '.targets[] | select(.dataset == "lake.client_log") | .match' '"pseudonym"'
expect_jq '.targets[] | select(.dataset == "prod.orders") | [.erasure, .nullify]' '["nullify",["user_id","billing_email"]]'
expect_jq '[.manual[].dataset] | index("dw.dim_user") != null' 'true'
expect_exit 0 steward request plan "$id"
expect_stdout_contains 'no target bound (manual work'

# ---- the run ----
expect_exit 0 steward request run "$id"
expect_stdout_line "$id: 6 targets, 6 done, 0 not done (and datasets needing manual work: see 'request plan'); completed"
expect_equal "$(sqlite3 targets/prod.db 'SELECT id FROM users')" '2' 'prod.users: the subject deleted, Bob kept'
expect_equal "$(sqlite3 targets/prod.db 'SELECT id, quote(user_id), quote(billing_email) FROM orders ORDER BY id' | tr '\n' ' ')" \
	"1|NULL|NULL 2|2|'bob@example.com' 3|NULL|NULL " 'prod.orders: both orders nullified, found by the resolved user id'
expect_equal "$(sqlite3 targets/prod.db 'SELECT count(*) FROM enrollments')" '1' 'prod.enrollments: the subject deleted'
expect_equal "$(cat targets/lake/2026-11-01.jsonl)" "{\"label\":\"view\",  \"user_id\":\"$k_bob\",\"payload\":\"b\"}" \
	'lake: the subject line gone, the other line byte for byte'
expect_equal "$(stat -c %i targets/lake/2026-11-02.jsonl)" "$ino" 'lake: a file without the subject is not rewritten'
check 'the raw value is gone from the SQLite file too (secure_delete)' sh -c "! grep -qai 'canary-erase' targets/prod.db"

expect_exit 0 steward request show "$id" --json
expect_jq '.status' '"completed"'
expect_jq '.targets[] | select(.dataset == "ml.recommendations") | [.status, .http_status, .attempts]' '["done",200,3]'
expect_jq '.targets[] | select(.dataset == "prod.orders") | [.matched, .changed]' '[2,2]'
expect_jq '.targets[] | select(.dataset == "lake.client_log") | [.matched, .changed, .files]' '[1,1,1]'
expect_jq '[.timeline[].event] | first, last' '"received"
"completed"'

check 'HTTP: three POSTs to the flaky endpoint' sh -c "[ \$(grep -c fail-twice http.log) -eq 3 ]"
expect_equal "$(jq -c 'select(.path == "/ok") | .body | keys' http.log)" '["action","category","id","pseudonym"]' 'HTTP: the body'
expect_equal "$(jq -r 'select(.path == "/ok") | .body.pseudonym' http.log)" "$k_id" 'HTTP: the pseudonym of the resolved user id'
check 'HTTP: never a raw value' sh -c "! grep -Eqi 'canary|$c_id' http.log"

# ---- idempotent: a completed request runs nothing again ----
expect_exit 0 steward request run "$id"
expect_stdout_contains 'completed'
check 'a completed request calls no endpoint again' sh -c "[ \$(wc -l <http.log) -eq 4 ]"

# ---- a failing target keeps the request open; a re-run retries only it ----
sqlite3 targets/prod.db "INSERT INTO users VALUES (5, 'dana@example.com', 'Dana', NULL);
INSERT INTO enrollments VALUES (9, 5, 1);"
config always-500
expect_exit 0 steward request new erase --subject user.unique_id:5 --received 2026-11-01
id2=$(cat "$OUT")
expect_exit 1 steward request run "$id2"
expect_stdout_contains "$id2: 6 targets, 5 done, 1 not done"
expect_stdout_contains 'ml.recommendations'
expect_exit 0 steward request show "$id2" --json
expect_jq '.status' '"open"'
expect_jq '.targets[] | select(.dataset == "ml.recommendations") | [.status, .http_status, .attempts]' '["failed",500,3]'
config ok
expect_exit 0 steward request run "$id2"
expect_stdout_contains 'completed'
expect_exit 0 steward request show "$id2" --json
expect_jq '[.targets[] | select(.runs > 1) | .dataset]' '["ml.recommendations"]'
expect_jq '.targets[] | select(.dataset == "prod.enrollments") | [.runs, .matched]' '[1,1]'

# ---- --due runs every open request; request list ----
expect_exit 0 steward request run --due
expect_stdout_line 'no open requests'
expect_exit 0 steward request list --json
expect_jq 'map(.status) | unique' '["completed"]'

# ---- the suppression list: a replay cannot bring the subject back ----
sed "s/\"user_id\":1801019/\"user_id\":$c_id/" "$STEWARD_SRC/examples/events.jsonl" >events.jsonl
expect_exit_stdin 0 events.jsonl steward ingest 'events.*' --label event_type
expect_stderr_contains 'ingest events.*: 8 records in, 7 out, 0 rejected, 1 suppressed'
check 'the suppressed record is not in the output' sh -c "! grep -q '$k_id' '$OUT'"
expect_exit 0 steward audit log --action pii.ingest --json
expect_jq '.[-1].counts' '{"in":8,"out":7,"rejected":0,"suppressed":1}'

# ---- canary: the raw values are nowhere in the workspace ----
check 'no raw e-mail, name or id in the workspace' sh -c "! grep -rqaiE 'canary-erase|Canaryerase' '$WS'"
expect_exit 0 steward audit verify
done_testing
