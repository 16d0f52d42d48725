#!/bin/sh
# Erasure is verified, never assumed (issue 11): an erasure over a partitioned JSON-lines lake,
# (dt=.../part-0.jsonl.gz, an uppercase .JSONL, a BOM line, CRLF lines, a duplicate key) and
# SQLite targets, each re-scanned after it: the evidence says visited, matched, erased and
# remaining 0, a target that matched nothing says so, and an independent zcat/grep/sqlite3
# check finds nothing of the subject. (t-erase-verified-fail.sh: unparsable lines, rows left.)
. "$(dirname "$0")/lib.sh"
require sqlite3 jq gzip zcat cmp
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
cd "$TMP" || exit 99

c_email='canary-verified.q7@example.com'
c_id=880001
sqlite3 prod.db <<SQL
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, full_name TEXT, phone TEXT);
INSERT INTO users VALUES ($c_id, '$c_email', 'Canaryverified Q', NULL), (2, 'bob@example.com', 'Bob B', NULL),
                         (5, 'dana@example.com', 'Dana D', NULL), (6, 'eve@example.com', 'Eve E', NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, course_id INTEGER,
                     billing_email TEXT, amount REAL);
INSERT INTO orders VALUES (1, $c_id, 7, '$c_email', 10), (2, 2, 8, 'bob@example.com', 20);
CREATE TABLE enrollments (id INTEGER PRIMARY KEY, user_id INTEGER, course_id INTEGER);
INSERT INTO enrollments VALUES (1, 2, 8), (2, 6, 9);
SQL
expect_exit 0 steward pii hash --purpose test-fixture --category user.unique_id "$c_id"
k_id=$(cat "$OUT")
expect_exit 0 steward pii hash --purpose test-fixture --category user.unique_id 2
k_bob=$(cat "$OUT")
expect_exit 0 steward pii hash --purpose test-fixture --category user.unique_id 5
k_dana=$(cat "$OUT")

# ---- the lake: Hive partitions at two depths, gzip, upper case, BOM, CRLF, a repeated key ----
mkdir -p lake/dt=2026-11-01 lake/dt=2026-11-02/hour=03 lake/dt=2026-11-03
printf '{"label":"click","user_id":"%s","payload":"a"}\n{"label":"view","user_id":"%s","payload":"b"}\n' \
	"$k_id" "$k_bob" | gzip -c >lake/dt=2026-11-01/part-0.jsonl.gz
printf '\357\273\277{"label":"click","user_id":"%s","payload":"c"}\r\n{"label":"view", "user_id":"%s","payload":"d"}\r\n' \
	"$k_id" "$k_bob" >lake/dt=2026-11-02/hour=03/PART-1.JSONL
printf '{"label":"x","user_id":"%s","user_id":"%s","payload":"e"}\n{"label":"y","user_id":"%s","payload":"f"}\n' \
	"$k_id" "$k_bob" "$k_bob" >lake/dt=2026-11-03/part-2.ndjson
: >lake/dt=2026-11-03/_SUCCESS
printf '{"label":"z","user_id":"%s","payload":"g"}\n' "$k_bob" >lake/2026-11-04.jsonl
ino=$(stat -c %i lake/2026-11-04.jsonl)

config() {
	write_config <<YAML
version: 1
targets:
  prod.users: "sqlite:$TMP/prod.db?table=users"
  prod.orders: "sqlite:$TMP/prod.db?table=orders"
  prod.enrollments: "sqlite:$TMP/prod.db?table=enrollments"
  lake.client_log: "$1"
  ml.user_features:
    url: "http://127.0.0.1:$HTTP_PORT/store/erase"
    verify: "http://127.0.0.1:$HTTP_PORT/store/verify"
YAML
}
# an HTTP service that holds the subject until it is told to erase, and answers its verify URL
start_http_target "$TMP/http.log"
export no_proxy='*'
config "jsonl:$TMP/lake"

expect_exit 0 steward request new erase --subject "user.contact.email:$c_email"
id=$(cat "$OUT")
expect_exit 0 steward request run "$id"
expect_stdout_line "$id: 5 targets, 5 done, 0 not done (and datasets needing manual work: see 'request plan'); completed"

expect_exit 0 steward request show "$id" --json
expect_jq '.status == "completed" and .unverified_targets == 0' 'the request is completed, every target verified'
expect_jq '[.targets[] | [.dataset, .status, .remaining, .verified]]' \
	'[["lake.client_log","done",0,true],["ml.user_features","done",0,true],["prod.enrollments","done",0,true],["prod.orders","done",0,true],["prod.users","done",0,true]]'
expect_jq '.targets[] | select(.dataset == "lake.client_log") | [.visited, .matched, .erased, .files, .skipped]' '[4,3,3,3,1]'
expect_jq '.targets[] | select(.dataset == "lake.client_log") | .detail' \
	'"skipped 1 file the globs do not match: dt=2026-11-03/_SUCCESS"'
expect_jq '.targets[] | select(.dataset == "prod.enrollments") | [.visited, .matched, .matched_nothing]' '[1,0,true]'
expect_jq '.targets[] | select(.dataset == "prod.orders") | [.matched, .erased, .remaining]' '[1,1,0]'
expect_jq '[.timeline[] | select(.event == "target") | .detail] | map(select(startswith("lake.client_log")))' \
	'["lake.client_log done: 3 matched, 3 erased, 0 remaining; skipped 1 file the globs do not match: dt=2026-11-03/_SUCCESS"]'
expect_exit 0 steward request show "$id"
expect_stdout_line '  status:    completed'
expect_stdout_contains 'lake.client_log          done    visited 4 files, matched 3, erased 3, remaining 0, 1 attempt, '
expect_stdout_contains '  skipped 1 file the globs do not match: dt=2026-11-03/_SUCCESS'
expect_stdout_contains 'prod.enrollments         done    visited 1 table, matched 0 rows, remaining 0, '
expect_stdout_contains 'ml.user_features         done    visited 1 endpoint, remaining 0 (its verify url says), HTTP 200, 1 attempt, '

# the HTTP service was told the subject's pseudonym (never a raw value), then asked
expect_equal '/store/erase /store/verify' "$(jq -r .path "$TMP/http.log" | tr '\n' ' ' | sed 's/ $//')" \
	'the HTTP service got one erasure and one verify call'
check 'the HTTP service got pseudonyms only: no raw value of the subject' sh -c \
	"! grep -qE 'canary-verified|$c_id' '$TMP/http.log'"
expect_equal 1 "$(jq -r 'select(.path == "/store/erase") | .body.pseudonym' "$TMP/http.log" | grep -c '^k1:')" \
	'the erasure named the subject by a pseudonym'

# what is left, byte for byte: the other person's lines, their line ends and the gzip format
check 'gzip: still valid gzip' gzip -t lake/dt=2026-11-01/part-0.jsonl.gz
expect_equal "$(zcat lake/dt=2026-11-01/part-0.jsonl.gz)" "{\"label\":\"view\",\"user_id\":\"$k_bob\",\"payload\":\"b\"}" \
	'gzip: the subject line gone, the other one kept'
printf '{"label":"view", "user_id":"%s","payload":"d"}\r\n' "$k_bob" >want-part-1
check '.JSONL: the BOM line of the subject gone, the CRLF line kept byte for byte' cmp want-part-1 lake/dt=2026-11-02/hour=03/PART-1.JSONL
printf '{"label":"y","user_id":"%s","payload":"f"}\n' "$k_bob" >want-part-2
check 'a record whose repeated key holds the subject once is erased' cmp want-part-2 lake/dt=2026-11-03/part-2.ndjson
expect_equal "$(stat -c %i lake/2026-11-04.jsonl)" "$ino" 'a file without the subject is not rewritten'
check 'the skipped file is still there' test -e lake/dt=2026-11-03/_SUCCESS
expect_equal "$(find lake -name '.*' | wc -l)" 0 'no temporary file left in any partition'

# independent checks: nothing of the subject anywhere, the others intact
check 'zcat/grep: no pseudonym, id or address of the subject in the lake' sh -c \
	"! { find lake -type f -name '*.gz' -exec zcat {} +; find lake -type f ! -name '*.gz' -exec cat {} +; } | grep -qE '$k_id|$c_id|canary-verified'"
expect_equal "$(sqlite3 prod.db "SELECT count(*) FROM users WHERE id = $c_id OR email = '$c_email'")" 0 'sqlite3: the subject is not in users'
expect_equal "$(sqlite3 prod.db "SELECT count(*) FROM orders WHERE user_id = $c_id OR billing_email = '$c_email'")" 0 'sqlite3: nor in orders'
expect_equal "$(sqlite3 prod.db 'SELECT group_concat(id) FROM users ORDER BY id')" '2,5,6' 'sqlite3: the others kept'
check 'sqlite3: no byte of the address or pseudonym left in the file (secure_delete)' sh -c "! grep -qaE 'canary-verified|$k_id' prod.db"
check 'no raw value of the subject in the workspace' sh -c \
	"! grep -rqaE 'canary-verified|$c_id' '$WS'"

# the monthly report: the evidence per target, 0 matched said as such, unverified counted apart
expect_exit 0 steward report --period "$(date -u +%Y-%m)" --format json
expect_jq '.requests | [.erasure_targets, .targets_unverified, .targets_matched_nothing]' '[5,0,1]'
expect_jq "[.requests.erasure_evidence[] | select(.id == \"$id\") | [.dataset, .visited, .matched, .erased, .remaining, .result]]" \
	'[["lake.client_log",4,3,3,0,"erased, verified"],["ml.user_features",1,null,null,0,"erased, verified"],["prod.enrollments",1,0,0,0,"matched 0 rows, verified"],["prod.orders",1,1,1,0,"erased, verified"],["prod.users",1,1,1,0,"erased, verified"]]'
expect_exit 0 steward report --period "$(date -u +%Y-%m)"
expect_stdout_line '- **Erasure targets that matched 0 rows:** 1'
expect_stdout_contains "| $id | prod.enrollments | done | 1 | 0 | 0 | 0 | matched 0 rows, verified |"

expect_exit 0 steward audit verify
done_testing
