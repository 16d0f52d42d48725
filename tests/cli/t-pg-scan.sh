#!/bin/sh
# `pii scan` on a PostgreSQL table (issue 14), against a real server (tests/helpers/pg.sh):
# the first rows (a bounded LIMIT, read through a cursor) become JSON objects and go through
# the same scan as a file, so the report on the table is the report on the same rows
# exported by psql as JSON lines, byte for byte; a column tagged none that holds e-mail
# addresses and one missing from the schema are flagged. --sample bounds the rows; a table
# that does not exist and a bad option have their exact messages; the connection string
# appears in no output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../helpers/pg.sh"
require jq
pg_start
init_ws
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
cd "$TMP" || exit 99
all=$TMP/all-output
keep() { cat "$OUT" "$ERR" >>"$all"; }

# prod.courses: title is tagged pii: none, yet 10 of 60 titles name an instructor's address
pg_sql steward "
BEGIN;
CREATE SCHEMA lectra;
CREATE TABLE lectra.courses (id bigint, title text, instructor_id bigint, category text,
  list_price numeric, language text, notes text, draft boolean);
INSERT INTO lectra.courses SELECT g,
  CASE WHEN g % 6 = 0 THEN 'Course by teacher' || g || '@example.com' ELSE 'Course ' || g END,
  1000 + g, 'cat' || (g % 3), 9.5 + g, 'en',
  CASE WHEN g % 2 = 0 THEN 'call +33 6 12 34 56 ' || lpad((g % 100)::text, 2, '0') END, g % 5 = 0
  FROM generate_series(1, 60) g;
GRANT USAGE ON SCHEMA lectra TO eraser;
GRANT SELECT ON lectra.courses TO eraser;
COMMIT;" >/dev/null || { echo "Bail out! cannot fill the table"; exit 99; }
printf '%s\n' "$PG_DSN" >pg.dsn
chmod 600 pg.dsn
# the same rows, exported independently by psql as JSON lines, in the table's order
pg_sql steward "SELECT row_to_json(c) FROM lectra.courses c" >courses.jsonl

expect_exit 1 steward pii scan courses.jsonl --dataset prod.courses --json
cp "$OUT" file.json
expect_exit 1 steward pii scan postgres:lectra.courses --dataset prod.courses --dsn-file "$TMP/pg.dsn" --json
keep
test_cmp file.json "$OUT" 'the report on the table is the report on its rows as a file'
expect_jq '[.records, .unreadable]' '[60,0]'
expect_jq '[.fields[] | select(.flagged) | [.path, .declared, .proposal]]' \
	'[["title","none","scan: true (free text holding email)"],["notes",null,"scan: true (free text holding phone)"]]'
export STEWARD_TEST_DSN="$PG_DSN"
expect_exit 1 steward pii scan postgres: --dataset prod.courses --dsn-env STEWARD_TEST_DSN --sample 12
keep
expect_stdout_line 'pii scan prod.courses: 12 records read, 0 unreadable'
expect_stdout_contains '  title: tagged none, yet 16.7% of its values hold email; propose scan: true (free text holding email)'
expect_exit 1 steward pii scan postgres:lectra.courses --dataset prod.courses --dsn-file "$TMP/pg.dsn" --sample 5
keep
expect_stdout_line 'pii scan prod.courses: 5 records read, 0 unreadable'
expect_stdout_contains '  notes: not in the schema, yet 100.0% of its values hold phone; propose scan: true (free text holding phone)'

expect_exit 3 steward pii scan postgres:lectra.nope --dataset prod.courses --dsn-file "$TMP/pg.dsn"
keep
expect_stderr_line "error: no table 'lectra.nope' in database 'steward'"
expect_exit 3 steward pii scan postgres:lectra.users --dataset prod.courses --dsn-file "$TMP/pg.dsn"
keep
expect_stderr_line "error: no table 'lectra.users' in database 'steward'"
expect_exit 2 steward pii scan postgres:lectra.courses --dataset prod.courses
expect_stderr_contains 'error: a postgres: table needs one of --dsn-file and --dsn-env'
expect_exit 2 steward pii scan courses.jsonl --dataset prod.courses --dsn-env STEWARD_TEST_DSN
expect_stderr_contains 'error: --dsn-file and --dsn-env go with a postgres: table'
expect_exit 3 steward pii scan postgres:a.b.c --dataset prod.courses --dsn-env STEWARD_TEST_DSN
expect_stderr_line "error: invalid table name 'a.b.c' in target 'postgres:a.b.c' ([SCHEMA.]TABLE: letters, digits and '_', not starting with a digit)"
check 'the password and the connection string appear in no output' sh -c \
	"! grep -qF -e '$PG_PASSWORD' -e 'password=' '$all'"
done_testing
