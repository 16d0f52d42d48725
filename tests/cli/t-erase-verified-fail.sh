#!/bin/sh
# Erasure is verified, never assumed (issue 11), the failures: a jsonl line that cannot be
# parsed fails the target with FILE:LINE:COL and changes nothing, and the request stays open;
# rows a SQLite trigger puts back are found by the re-scan after the erasure, so the target
# fails and the request is not completed until a run verifies 0 remaining; the jsonl glob
# list (jsonl:DIR?match=GLOB,...) and its error; an HTTP target without a verify URL is done
# but unverified, shown and counted apart; an audit.db of schema 1 is migrated.
# (t-erase-verified.sh: the successful path.)
. "$(dirname "$0")/lib.sh"
require sqlite3 jq gzip zcat cmp
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
cd "$TMP" || exit 99

sqlite3 prod.db <<SQL
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, full_name TEXT, phone TEXT);
INSERT INTO users VALUES (2, 'bob@example.com', 'Bob B', NULL), (5, 'dana@example.com', 'Dana D', NULL),
                         (6, 'eve@example.com', 'Eve E', NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, course_id INTEGER,
                     billing_email TEXT, amount REAL);
INSERT INTO orders VALUES (2, 2, 8, 'bob@example.com', 20);
CREATE TABLE enrollments (id INTEGER PRIMARY KEY, user_id INTEGER, course_id INTEGER);
INSERT INTO enrollments VALUES (1, 2, 8), (2, 6, 9);
SQL
mkdir lake
expect_exit 0 steward pii hash --purpose test-fixture --category user.unique_id 2
k_bob=$(cat "$OUT")
expect_exit 0 steward pii hash --purpose test-fixture --category user.unique_id 5
k_dana=$(cat "$OUT")

config() {
	write_config <<YAML
version: 1
targets:
  prod.users: "sqlite:$TMP/prod.db?table=users"
  prod.orders: "sqlite:$TMP/prod.db?table=orders"
  prod.enrollments: "sqlite:$TMP/prod.db?table=enrollments"
  lake.client_log: "$1"
${2:-}
YAML
}

# ---- a line that cannot be parsed fails the target with FILE:LINE, and changes nothing ----
mkdir -p lake2/dt=2026-12-01 lake2/dt=2026-12-02
printf '{"label":"a","user_id":"%s","payload":"h"}\n' "$k_dana" >lake2/dt=2026-12-01/part-0.jsonl
printf '{"label":"b","user_id":"%s","payload":"i"}\n{"label":"c","user_id":\n' "$k_dana" >lake2/dt=2026-12-02/part-0.jsonl
cp -a lake2 lake2.orig
config "jsonl:$TMP/lake2"
expect_exit 0 steward request new erase --subject user.unique_id:5
id2=$(cat "$OUT")
expect_exit 1 steward request run "$id2"
expect_stdout_contains "$id2: 4 targets, 3 done, 1 not done"
expect_stdout_line "  lake.client_log          failed  $TMP/lake2/dt=2026-12-02/part-0.jsonl:2:23: the record ends early; the target was not changed"
check 'the unparsable file is unchanged' cmp lake2.orig/dt=2026-12-02/part-0.jsonl lake2/dt=2026-12-02/part-0.jsonl
check 'and so is the other partition, though it holds the subject' cmp lake2.orig/dt=2026-12-01/part-0.jsonl lake2/dt=2026-12-01/part-0.jsonl
expect_exit 0 steward request show "$id2" --json
expect_jq '.status == "open"' 'the request stays open'
expect_jq '.targets[] | select(.dataset == "lake.client_log") | .status' '"failed"'

# ---- rows the erasure cannot keep out: a trigger puts them back, the re-scan finds them ----
sqlite3 prod.db "CREATE TRIGGER keep_enrollments AFTER DELETE ON enrollments WHEN old.user_id = 6
BEGIN INSERT INTO enrollments VALUES (old.id + 1000, old.user_id, old.course_id); END;"
config "jsonl:$TMP/lake"
expect_exit 0 steward request new erase --subject user.unique_id:6
id3=$(cat "$OUT")
expect_exit 1 steward request run "$id3"
expect_stdout_contains "$id3: 4 targets, 3 done, 1 not done"
expect_stdout_line '  prod.enrollments         failed  verification found 1 row of the subject left after the erasure'
expect_exit 0 steward request show "$id3" --json
expect_jq '.status == "open"' 'rows left: the request is not completed'
expect_jq '.targets[] | select(.dataset == "prod.enrollments") | [.status, .matched, .erased, .remaining, .verified]' '["failed",1,1,1,true]'
expect_equal "$(sqlite3 prod.db 'SELECT count(*) FROM enrollments WHERE user_id = 6')" 1 'sqlite3: the row the trigger put back'
expect_equal "$(sqlite3 prod.db 'SELECT count(*) FROM users WHERE id = 6')" 0 'the other targets were erased'
sqlite3 prod.db 'DROP TRIGGER keep_enrollments'
expect_exit 0 steward request run "$id3"
expect_stdout_contains "$id3: 4 targets, 4 done, 0 not done"
expect_stdout_contains 'completed'
expect_equal "$(sqlite3 prod.db 'SELECT count(*) FROM enrollments WHERE user_id = 6')" 0 'a run after the cause is fixed erases and verifies'

# ---- the glob list: jsonl:DIR?match=GLOB,GLOB ----
mkdir -p lake3/dt=1
printf '{"user_id":"%s"}\n' "$k_bob" | gzip -c >lake3/dt=1/events.LOG.gz
printf '{"user_id":"%s"}\n' "$k_bob" >lake3/dt=1/keep.jsonl
config "jsonl:$TMP/lake3?match=*.log"
expect_exit 0 steward request new erase --subject user.unique_id:2
id4=$(cat "$OUT")
expect_exit 0 steward request run "$id4"
expect_exit 0 steward request show "$id4" --json
expect_jq '.targets[] | select(.dataset == "lake.client_log") | [.visited, .matched, .remaining, .skipped, .detail]' \
	'[1,1,0,1,"skipped 1 file the globs do not match: dt=1/keep.jsonl"]'
expect_equal "$(zcat lake3/dt=1/events.LOG.gz | wc -c)" 0 'a glob matches NAME.gz too, case-insensitively'
check 'a file outside the globs is not touched' grep -q "$k_bob" lake3/dt=1/keep.jsonl
config "jsonl:$TMP/lake3?match=*.log,"
expect_exit 3 steward request plan "$id4"
expect_stderr_line "error: $WS/steward.yaml:6:20: target of 'lake.client_log': target 'jsonl:$TMP/lake3?match=*.log,' has an empty glob in its match list (use jsonl:DIR?match=GLOB,GLOB)"

# ---- an HTTP target without a verify URL: done, unverified, counted apart ----
start_http_target "$TMP/http.log"
export no_proxy='*'
config "jsonl:$TMP/lake" "  ml.user_features: \"http://127.0.0.1:$HTTP_PORT/ok\""
sqlite3 prod.db "INSERT INTO users VALUES (7, 'frank@example.com', 'Frank F', NULL)"
expect_exit 0 steward request new erase --subject user.unique_id:7
id5=$(cat "$OUT")
expect_exit 0 steward request run "$id5"
expect_stdout_line "$id5: 5 targets, 5 done, 0 not done (and datasets needing manual work: see 'request plan'); completed"
expect_stdout_line "  1 target unverified (no re-scan could check the erasure): see 'request show $id5'"
expect_exit 0 steward request show "$id5"
expect_stdout_line '  status:    completed, 1 target unverified'
expect_stdout_contains ' endpoint'
expect_stdout_contains ', unverified, HTTP 200, 1 attempt, '
expect_stdout_contains 'every target done, on time (due '
expect_stdout_contains '; 1 target unverified'
expect_exit 0 steward request show "$id5" --json
expect_jq '.status == "completed" and .unverified_targets == 1' 'completed, one target unverified'
expect_jq '.targets[] | select(.dataset == "ml.user_features") | [.remaining, .verified, .matched_nothing]' '[null,false,false]'
expect_jq '.targets[] | select(.dataset == "prod.users") | [.remaining, .verified]' '[0,true]'
expect_exit 0 steward report --period "$(date -u +%Y-%m)" --format json
expect_jq "[.requests.erasure_evidence[] | select(.id == \"$id5\" and .dataset == \"ml.user_features\") | [.remaining, .result]]" '[[null,"unverified"]]'
expect_jq '.requests.targets_unverified' '1'

# ---- an audit.db of schema 1 (before the verified evidence) is migrated on open ----
DB=$WS/.steward/audit.db
python3 "$STEWARD_SRC/tests/helpers/audit_v1.py" "$WS/.steward" 1 >/dev/null
expect_exit 0 steward request show "$id5" --json
expect_equal "$(sqlite3 "$DB" 'PRAGMA user_version')" "$AUDIT_SCHEMA" 'audit.db: schema 1 migrated to the current one'
expect_jq '.status == "completed" and .unverified_targets == 0' 'evidence recorded before verification: not counted as unverified'
expect_jq '.targets[] | select(.dataset == "prod.users") | has("remaining") | not' 'old evidence has no remaining'
expect_exit 0 steward request show "$id5"
expect_stdout_contains 'prod.users               done    matched 1, changed 1, 1 attempt, '

expect_exit 0 steward audit verify
done_testing
