#!/bin/sh
# PostgreSQL as a request target (issue 14): a real server from Debian's postgresql package
# (tests/helpers/pg.sh). An erasure reaches lectra.users (raw e-mail addresses and ids,
# hashed by steward: the table is read through a cursor) and analytics.dim_user, 1,000,000
# rows keyed by pseudonym, first without an index on the key and then with one (the index is
# used: its scan count grows). Each is one transaction with row counts and a verification
# count afterwards (remaining 0); an access request exports the rows through a cursor, an
# objection reads without changing anything. psql checks independently that exactly the
# subject's rows are gone, and the connection string and its password appear in no output,
# no file of the workspace and not in `steward audit log`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../helpers/pg.sh"
require jq
pg_start
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
cd "$TMP" || exit 99
all=$TMP/all-output
keep() { cat "$OUT" "$ERR" >>"$all"; }

c_email='Canary-PG.q7@Example.com'
c_id=770001
o_email='other-pg.q8@example.com'
o_id=770002
expect_exit 0 steward pii hash --purpose test-fixture --category user.unique_id "$c_id"
k_id=$(cat "$OUT")
expect_exit 0 steward pii hash --purpose test-fixture --category user.unique_id "$o_id"
k_o=$(cat "$OUT")
# one transaction that creates and fills the table: no WAL with wal_level = minimal (fast)
pg_sql steward "
BEGIN;
CREATE SCHEMA lectra;
CREATE TABLE lectra.users (id bigint PRIMARY KEY, email text, full_name text, phone text);
INSERT INTO lectra.users VALUES ($c_id, '$c_email', 'Canary Pg', NULL),
  ($o_id, '$o_email', 'Other Pg', '+33 6 12 34 56 78'), (3, 'bob@example.com', 'Bob B', NULL);
INSERT INTO lectra.users SELECT g, 'user' || g || '@example.com', 'U ' || g, NULL
  FROM generate_series(10, 2000) g;
CREATE SCHEMA analytics;
CREATE TABLE analytics.dim_user (user_key text, email_key text, country text, birth_year int,
  signup_date date, is_instructor boolean);
INSERT INTO analytics.dim_user (user_key, country) SELECT 'k1:u' || g, 'FR'
  FROM generate_series(1, 1000000) g;
INSERT INTO analytics.dim_user VALUES ('$k_id', NULL, 'DE', 1981, DATE '2026-02-01', true),
  ('$k_id', NULL, 'DE', 1981, DATE '2026-02-02', false), ('$k_o', NULL, 'IT', 1970, NULL, NULL),
  ('$k_id', NULL, NULL, NULL, NULL, NULL), ('$k_o', NULL, 'IT', 1971, NULL, NULL);
GRANT USAGE ON SCHEMA lectra, analytics TO eraser;
GRANT SELECT, DELETE ON lectra.users, analytics.dim_user TO eraser;
COMMIT;
ANALYZE analytics.dim_user;
" || { echo "Bail out! cannot fill the tables"; exit 99; }

printf '%s\n' "$PG_DSN" >pg.dsn
chmod 600 pg.dsn
export STEWARD_TEST_DSN="$PG_DSN"
write_config <<YAML
version: 1
targets:
  prod.users: {kind: postgres, dsn_file: "$TMP/pg.dsn"}
  dw.dim_user: {kind: redshift, dsn_env: STEWARD_TEST_DSN}
YAML

expect_exit 0 steward request new erase --subject "user.unique_id:$c_id"
id=$(cat "$OUT")
expect_exit 0 steward request plan "$id" --json
keep
expect_jq '[.targets[] | [.dataset, .target, .dsn]] | sort' '[["dw.dim_user","postgres:analytics.dim_user","env"],["prod.users","postgres:lectra.users","file"]]'
expect_exit 0 steward request run "$id"
keep
expect_stdout_line "$id: 2 targets, 2 done, 0 not done (and datasets needing manual work: see 'request plan'); completed"
expect_exit 0 steward request show "$id" --json
keep
expect_jq '[.targets[] | [.dataset, .status, .uri, .visited, .matched, .erased, .remaining, .verified]]' \
	'[["dw.dim_user","done","postgres:analytics.dim_user",1,3,3,0,true],["prod.users","done","postgres:lectra.users",1,1,1,0,true]]'
expect_exit 0 steward request show "$id"
keep
expect_stdout_contains 'prod.users               done    visited 1 table, matched 1, erased 1, remaining 0, 1 attempt, '
expect_stdout_contains 'dw.dim_user              done    visited 1 table, matched 3, erased 3, remaining 0, 1 attempt, '

# psql, independently: exactly the subject's rows gone
expect_equal "$(pg_sql steward "SELECT count(*) FROM analytics.dim_user WHERE user_key = '$k_id'")" 0 'psql: the subject is not in dim_user'
expect_equal "$(pg_sql steward "SELECT count(*) FROM analytics.dim_user")" 1000002 'psql: every other row of dim_user kept'
expect_equal "$(pg_sql steward "SELECT count(*) FROM lectra.users WHERE id = $c_id OR lower(email) = lower('$c_email')")" 0 'psql: the subject is not in users'
expect_equal "$(pg_sql steward "SELECT count(*) FROM lectra.users")" 1993 'psql: every other user kept'

# a second subject, with an index on the key: the erase uses it
pg_sql steward "CREATE INDEX dim_user_key ON analytics.dim_user (user_key); ANALYZE analytics.dim_user" ||
	{ echo "Bail out! cannot create the index"; exit 99; }
scans=$(pg_sql steward "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'dim_user_key'")
expect_exit 0 steward request new object --subject "user.unique_id:$o_id"
obj=$(cat "$OUT")
expect_exit 0 steward request run "$obj"
keep
expect_exit 0 steward request show "$obj" --json
expect_jq '[.targets[] | [.dataset, .status, .matched]]' '[["dw.dim_user","done",2],["prod.users","done",1]]'
expect_equal "$(pg_sql steward "SELECT count(*) FROM analytics.dim_user WHERE user_key = '$k_o'")" 2 'psql: an objection changes nothing'
expect_exit 0 steward request new access --subject "user.unique_id:$o_id"
acc=$(cat "$OUT")
expect_exit 0 steward request run "$acc"
keep
bundle=$(sed -n "s/^.*bundle: //p" "$OUT" | head -n 1)
[ -n "$bundle" ] || bundle=$WS/exports/$acc.json
expect_jq '[.datasets[] | {(.dataset): .records}] | add | to_entries | sort_by(.key) | from_entries' \
	"{\"dw.dim_user\":[{\"user_key\":\"$k_o\",\"email_key\":null,\"country\":\"IT\",\"birth_year\":1970,\"signup_date\":null,\"is_instructor\":null},{\"user_key\":\"$k_o\",\"email_key\":null,\"country\":\"IT\",\"birth_year\":1971,\"signup_date\":null,\"is_instructor\":null}],\"prod.users\":[{\"id\":$o_id,\"email\":\"$o_email\",\"full_name\":\"Other Pg\",\"phone\":\"+33 6 12 34 56 78\"}]}" \
	"$bundle"
expect_exit 0 steward request new erase --subject "user.unique_id:$o_id"
id2=$(cat "$OUT")
expect_exit 0 steward request run "$id2"
keep
expect_exit 0 steward request show "$id2" --json
expect_jq '[.targets[] | [.dataset, .status, .matched, .erased, .remaining]]' '[["dw.dim_user","done",2,2,0],["prod.users","done",1,1,0]]'
check 'the index on the key was used' test "$(pg_sql steward "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'dim_user_key'")" -gt "$scans"
expect_equal "$(pg_sql steward "SELECT count(*) FROM analytics.dim_user")" 1000000 'psql: the two subjects gone, the million others kept'
expect_equal "$(pg_sql steward "SELECT count(*) FROM lectra.users WHERE id IN ($c_id, $o_id)")" 0 'psql: both gone from users'

# running the erasure again: done already, nothing touched
expect_exit 0 steward request run "$id"
keep
expect_exit 0 steward audit log
keep
expect_exit 0 steward audit log --json
keep
check 'the password and the connection string appear in no output' sh -c \
	"! grep -qF -e '$PG_PASSWORD' -e 'password=' '$all'"
check 'nor in any file of the workspace' sh -c "! grep -rqaF -e '$PG_PASSWORD' -e 'password=' '$WS'"
check 'no raw value of the subject in the workspace' sh -c "! grep -rqaiE 'canary-pg|$c_id' '$WS'"
expect_exit 0 steward audit verify
done_testing
