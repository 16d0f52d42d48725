#!/bin/sh
# PostgreSQL targets when things go wrong (issue 14), against a real server
# (tests/helpers/pg.sh): a table that does not exist, a role without DELETE, a request killed
# (SIGKILL) while its DELETE is in flight, the server stopped in the middle of a request and
# a connection refused, each with its exact message; nothing is half done (the transaction
# rolls back: psql finds the subject's rows all there), a later run resumes where the last
# stopped (targets done before are not run again) and ends with the subject gone and
# verification 0. The request is held in flight by a trigger that writes a line to a fifo
# and waits on another (no sleep). The connection string and its password appear in no
# output and not in `steward audit log`. (t-pg-config.sh: steward.yaml's postgres mappings;
# t-pg-match.sh: raw values matched in IN lists.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../helpers/pg.sh"
require jq mkfifo
pg_start
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
cd "$TMP" || exit 99
all=$TMP/all-output
keep() { cat "$OUT" "$ERR" >>"$all"; }

c_id=660001
c_email='canary-pgerr.q7@example.com'
o_id=660002
expect_exit 0 steward pii hash --purpose test-fixture --category user.unique_id "$c_id"
k_id=$(cat "$OUT")
pg_sql steward "
BEGIN;
CREATE SCHEMA lectra;
CREATE TABLE lectra.users (id bigint PRIMARY KEY, email text, full_name text, phone text);
INSERT INTO lectra.users VALUES ($c_id, '$c_email', 'Canary Err', NULL), ($o_id, 'o@example.com', 'O', NULL),
  (3, 'bob@example.com', 'Bob', NULL);
CREATE TABLE lectra.orders (id int, user_id bigint, course_id int, billing_email text, amount numeric);
INSERT INTO lectra.orders VALUES (1, $c_id, 7, '$c_email', 10), (2, 3, 8, 'bob@example.com', 20),
  (3, $c_id, 9, NULL, 30);
CREATE SCHEMA analytics;
CREATE TABLE analytics.dim_user (user_key text, email_key text, country text);
INSERT INTO analytics.dim_user VALUES ('$k_id', NULL, 'DE'), ('k1:other', NULL, 'FR'), ('$k_id', NULL, 'DE'),
  ('$k_id', NULL, NULL);
GRANT USAGE ON SCHEMA lectra, analytics TO eraser;
GRANT SELECT, DELETE, UPDATE ON lectra.users, lectra.orders TO eraser;
GRANT SELECT ON analytics.dim_user TO eraser;
-- holds the statement that fires it: a line to the fifo ready, then waits for one on go
CREATE FUNCTION hold() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS \$\$
BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'echo ready >$PG_DIR/ready; cat $PG_DIR/go >/dev/null');
  RETURN NULL;
END \$\$;
COMMIT;
" >/dev/null || { echo "Bail out! cannot fill the tables"; exit 99; }
mkfifo -m 666 "$PG_DIR/ready" "$PG_DIR/go" || { echo "Bail out! cannot create the fifos"; exit 99; }

printf '%s\n' "$PG_DSN" >pg.dsn
chmod 600 pg.dsn
config() {
	write_config <<YAML
version: 1
targets:
  prod.users: {kind: postgres, dsn_file: "$TMP/pg.dsn"}
  prod.orders: {kind: postgres, dsn_file: "$TMP/pg.dsn"}
  prod.enrollments: {kind: postgres, dsn_file: "$TMP/pg.dsn"}
  dw.dim_user: {kind: postgres, dsn_file: "$TMP/pg.dsn"}
YAML
}
config
# detail_of ID DATASET: the detail request show --json gives for the request's target
detail_of() {
	run steward request show "$1" --json
	keep
	jq -r ".targets[] | select(.dataset == \"$2\") | .detail" "$OUT"
}

# ---- a table that does not exist, a role without DELETE: the others are done ----
expect_exit 0 steward request new erase --subject "user.unique_id:$c_id"
id=$(cat "$OUT")
expect_exit 1 steward request run "$id"
keep
expect_stdout_contains "$id: 4 targets, 2 done, 2 not done"
expect_equal "no table 'lectra.enrollments' in database 'steward'" "$(detail_of "$id" prod.enrollments)" \
	'a missing table: its message'
expect_equal "cannot erase from table 'analytics.dim_user' of database 'steward': permission denied for table dim_user" \
	"$(detail_of "$id" dw.dim_user)" 'a role without DELETE: its message'
expect_exit 0 steward request show "$id" --json
expect_jq '[.targets[] | [.dataset, .status, .matched, .erased, .remaining]]' \
	'[["dw.dim_user","failed",0,0,null],["prod.enrollments","failed",0,0,null],["prod.orders","done",2,2,0],["prod.users","done",1,1,0]]'
expect_equal "$(pg_sql steward "SELECT count(*) FROM analytics.dim_user WHERE user_key = '$k_id'")" 3 \
	'psql: the refused erasure changed nothing (rolled back)'
expect_equal "$(pg_sql steward "SELECT id, coalesce(user_id, 0), coalesce(billing_email, '-') FROM lectra.orders ORDER BY id" | tr '\n' ' ')" \
	'1|0|- 2|3|bob@example.com 3|0|- ' 'psql: orders nullified, the rows kept'

# ---- killed while its DELETE is in flight: nothing half done, then it resumes ----
pg_sql steward "
GRANT DELETE ON analytics.dim_user TO eraser;
CREATE TABLE lectra.enrollments (id int, user_id bigint, course_id int);
INSERT INTO lectra.enrollments VALUES (1, $c_id, 7), (2, 3, 8), (3, $c_id, 8);
GRANT SELECT, DELETE ON lectra.enrollments TO eraser;
CREATE TRIGGER hold BEFORE DELETE ON analytics.dim_user FOR EACH STATEMENT EXECUTE FUNCTION hold();
" >/dev/null || { echo "Bail out! cannot change the tables"; exit 99; }
"$STEWARD" --home "$WS" request run "$id" >run.out 2>&1 &
pid=$!
IFS= read -r line <"$PG_DIR/ready"
expect_equal ready "$line" 'the DELETE on dim_user is in flight'
kill -KILL "$pid"
wait "$pid" 2>/dev/null
expect_equal 137 "$?" 'steward was killed'
echo go >"$PG_DIR/go" # the trigger returns; the server finds its client gone and rolls back
pg_sql steward "DROP TRIGGER hold ON analytics.dim_user" # waits for that rollback
expect_equal "$(pg_sql steward "SELECT count(*) FROM analytics.dim_user WHERE user_key = '$k_id'")" 3 \
	'psql: the killed erasure left every row of the subject (rolled back)'
expect_exit 0 steward request run "$id"
keep
expect_stdout_contains "$id: 4 targets, 4 done, 0 not done"
expect_exit 0 steward request show "$id" --json
expect_jq '[.targets[] | [.dataset, .status, .matched, .erased, .remaining, .runs]]' \
	'[["dw.dim_user","done",3,3,0,2],["prod.enrollments","done",2,2,0,2],["prod.orders","done",2,2,0,1],["prod.users","done",1,1,0,1]]'
expect_equal "$(pg_sql steward "SELECT (SELECT count(*) FROM analytics.dim_user WHERE user_key = '$k_id') + (SELECT count(*) FROM lectra.enrollments WHERE user_id = $c_id) + (SELECT count(*) FROM lectra.users WHERE id = $c_id) + (SELECT count(*) FROM lectra.orders WHERE user_id = $c_id)")" 0 \
	'psql: the subject is gone from every table'
expect_equal "$(pg_sql steward "SELECT count(*) FROM analytics.dim_user") $(pg_sql steward "SELECT count(*) FROM lectra.enrollments")" '1 1' \
	'psql: the other rows kept'

# ---- the server stops in the middle of the request; then a connection is refused ----
write_config <<YAML
version: 1
targets:
  prod.users: {kind: postgres, dsn_file: "$TMP/pg.dsn"}
YAML
pg_sql steward "CREATE TRIGGER hold BEFORE DELETE ON lectra.users FOR EACH STATEMENT EXECUTE FUNCTION hold()" ||
	{ echo "Bail out! cannot create the trigger"; exit 99; }
expect_exit 0 steward request new erase --subject "user.unique_id:$o_id"
id2=$(cat "$OUT")
"$STEWARD" --home "$WS" request run "$id2" >run.out 2>&1 &
pid=$!
IFS= read -r line <"$PG_DIR/ready"
pg_stop
wait "$pid"
expect_equal 1 "$?" 'the run whose server stopped fails'
cat run.out >>"$all"
expect_equal "cannot erase from table 'lectra.users' of database 'steward': server closed the connection unexpectedly" \
	"$(detail_of "$id2" prod.users)" 'the server gone mid-statement: its message'
expect_exit 1 steward request run "$id2"
keep
expect_equal "cannot connect to the database of 'postgres:lectra.users': connection to server on socket \"$PG_DIR/.s.PGSQL.5432\" failed: No such file or directory" \
	"$(detail_of "$id2" prod.users)" 'no server: its message'
printf 'host=127.0.0.1 port=1 dbname=steward user=eraser password=%s connect_timeout=5\n' "$PG_PASSWORD" >pg.dsn
expect_exit 1 steward request run "$id2"
keep
expect_equal "cannot connect to the database of 'postgres:lectra.users': connection to server at \"127.0.0.1\", port 1 failed: Connection refused" \
	"$(detail_of "$id2" prod.users)" 'a connection refused: its message'
pg_restart
printf 'postgresql://eraser:%s@/steward?host=%s&connect_timeout=120\n' "wrong-$PG_PASSWORD" "$PG_DIR" >pg.dsn
expect_exit 1 steward request run "$id2"
keep
expect_equal "cannot connect to the database of 'postgres:lectra.users': connection to server on socket \"$PG_DIR/.s.PGSQL.5432\" failed: FATAL:  password authentication failed for user \"eraser\"" \
	"$(detail_of "$id2" prod.users)" 'a wrong password: its message, without the password'
expect_equal 2 "$(pg_sql steward "SELECT count(*) FROM lectra.users WHERE id IN ($o_id, 3)")" \
	'psql: the subject still there after the failed runs'
pg_sql steward "DROP TRIGGER hold ON lectra.users"
printf 'postgresql://eraser:%s@/steward?host=%s&connect_timeout=120\n' "$PG_PASSWORD" "$PG_DIR" >pg.dsn
expect_exit 0 steward request run "$id2"
keep
expect_exit 0 steward request show "$id2" --json
expect_jq '[.targets[] | [.dataset, .status, .matched, .erased, .remaining]]' '[["prod.users","done",1,1,0]]'
expect_equal "$(pg_sql steward "SELECT string_agg(id::text, ',' ORDER BY id) FROM lectra.users")" 3 \
	'psql: the subject gone, the other kept'

expect_exit 0 steward audit log
keep
expect_exit 0 steward audit log --json
keep
check 'the password and the connection strings appear in no output' sh -c \
	"! grep -qF -e '$PG_PASSWORD' -e 'password=' '$all'"
check 'nor in any file of the workspace' sh -c "! grep -rqaF -e '$PG_PASSWORD' -e 'password=' '$WS'"
check 'no raw value of the subject in the workspace' sh -c "! grep -rqaiE 'canary-pgerr|$c_id' '$WS'"
expect_exit 0 steward audit verify
done_testing
