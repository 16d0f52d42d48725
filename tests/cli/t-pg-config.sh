#!/bin/sh
# steward.yaml's postgres targets (issue 14), no server needed: the mapping {kind: postgres,
# dsn_file | dsn_env, table} is checked with located messages before anything runs; a
# connection string written as a target URL is refused and shown without its password; a
# dsn_file open to others is refused like a key file; an unset dsn_env and a malformed
# connection string fail the target with messages that never quote the string. The password
# appears in no output, no file of the workspace and not in `steward audit log`.
. "$(dirname "$0")/lib.sh"
require jq
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
cd "$TMP" || exit 99
all=$TMP/all-output
keep() { cat "$OUT" "$ERR" >>"$all"; }
PG_PASSWORD='pw-Canary-c0nf1g'
PG_DIR=$TMP/nowhere
printf 'host=%s dbname=steward user=eraser password=%s\n' "$PG_DIR" "$PG_PASSWORD" >pg.dsn
chmod 600 pg.dsn
# detail_of ID DATASET: the detail request show --json gives for the request's target
detail_of() {
	run steward request show "$1" --json
	keep
	jq -r ".targets[] | select(.dataset == \"$2\") | .detail" "$OUT"
}
expect_exit 0 steward request new erase --subject user.unique_id:5
id=$(cat "$OUT")

located() {
	check "located: $1" sh -c 'sed -E "s/^(error: .*steward\.yaml:4:)[0-9]+: /\1C: /" "$1" |
		grep -qxF "error: $2/steward.yaml:4:C: $3"' sh "$ERR" "$WS" "$1"
}
bind() {
	write_config <<YAML
version: 1
targets:
  dw.dim_user: {kind: postgres, dsn_file: "$TMP/pg.dsn"}
  prod.users: $1
YAML
}
bind '{kind: mysql, dsn_env: X}'
expect_exit 3 steward request plan "$id"
located "unknown kind 'mysql' in the target of 'prod.users' (use postgres)"
bind '{kind: postgres}'
expect_exit 3 steward request plan "$id"
located "the postgres target of 'prod.users' needs dsn_file or dsn_env (its connection string)"
bind '{kind: postgres, dsn_env: X, url: "jsonl:/tmp"}'
expect_exit 3 steward request plan "$id"
located "'url' in the target of 'prod.users' does not go with kind: postgres"
bind '{kind: postgres, dsn_env: X, dsn_file: y}'
expect_exit 3 steward request plan "$id"
located "the target of 'prod.users' gives both dsn_file and dsn_env"
bind '{kind: postgres, dsn_env: X, tabel: t}'
expect_exit 3 steward request plan "$id"
located "unknown key 'tabel' in the target of 'prod.users' (use kind, dsn_file, dsn_env or table)"
bind '{kind: postgres, dsn_env: X, table: "a.b.c"}'
expect_exit 3 steward request plan "$id"
located "target of 'prod.users': invalid table name 'a.b.c' in target 'postgres:a.b.c' ([SCHEMA.]TABLE: letters, digits and '_', not starting with a digit)"
long=$(printf 't%.0s' $(seq 400))
bind "{kind: postgres, dsn_env: X, table: $long}"
expect_exit 3 steward request plan "$id"
located "the table of 'prod.users' is over 299 bytes"
bind '{url: "jsonl:/tmp", dsn_env: X}'
expect_exit 3 steward request plan "$id"
located "'dsn_env' in the target of 'prod.users' needs kind: postgres"
bind "\"postgresql://eraser:$PG_PASSWORD@localhost/steward?sslmode=disable\""
expect_exit 3 steward request plan "$id"
keep
located "target of 'prod.users': target 'postgresql://localhost/steward' is a connection string; a PostgreSQL target is a mapping {kind: postgres, dsn_file: FILE} or {kind: postgres, dsn_env: NAME}"
bind '"postgres:lectra.users"'
expect_exit 3 steward request plan "$id"
located "the target of 'prod.users' is a PostgreSQL table: write it as {kind: postgres, dsn_file: FILE} or {kind: postgres, dsn_env: NAME}"
chmod 644 pg.dsn
bind "{kind: postgres, dsn_file: \"$TMP/pg.dsn\"}"
expect_exit 6 steward request plan "$id"
expect_stderr_contains "target of 'dw.dim_user': dsn file '$TMP/pg.dsn' is accessible by group or others (mode 0644); run 'chmod 600 $TMP/pg.dsn'"
chmod 600 pg.dsn
# an objection (it reads only) for the messages of a connection string that cannot be had
expect_exit 0 steward request new object --subject user.unique_id:3
id3=$(cat "$OUT")
unset STEWARD_NO_SUCH_DSN
bind '{kind: postgres, dsn_env: STEWARD_NO_SUCH_DSN}'
expect_exit 1 steward request run "$id3"
keep
expect_equal "the environment variable 'STEWARD_NO_SUCH_DSN' (dsn_env) is not set" "$(detail_of "$id3" prod.users)" \
	'an unset dsn_env: its message'
printf 'host=%s password=%s nonsense\n' "$PG_DIR" "$PG_PASSWORD" >bad.dsn
chmod 600 bad.dsn
bind "{kind: postgres, dsn_file: \"$TMP/bad.dsn\"}"
expect_exit 1 steward request run "$id3"
keep
expect_equal "dsn file '$TMP/bad.dsn' holds no valid connection string" "$(detail_of "$id3" prod.users)" \
	'a malformed connection string: its message, never its text'


expect_exit 0 steward audit log
keep
expect_exit 0 steward audit log --json
keep
check 'the password and the connection strings appear in no output' sh -c \
	"! grep -qF -e '$PG_PASSWORD' -e 'password=' -e 'nonsense' '$all'"
check 'nor in any file of the workspace' sh -c "! grep -rqaF -e '$PG_PASSWORD' -e 'password=' '$WS'"
expect_exit 0 steward audit verify
done_testing
