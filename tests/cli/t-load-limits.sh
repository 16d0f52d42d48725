#!/bin/sh
# Error paths not covered elsewhere: erasure checks, YAML structure errors, size and depth
# limits, workspace problems and a database from a newer steward.
. "$(dirname "$0")/lib.sh"
init_ws
cd "$TMP" || exit 99

printf 'kind: table\nname: e.x\nsubject: id\nerasure: {action: delete, match: id, columns: [id]}\ncolumns:\n  - {name: id, type: int, pii: none}\n' >w.yaml
expect_exit 0 steward catalog load w.yaml
expect_stderr_line "w.yaml:4:47: warning: erasure 'columns' is ignored when the action is 'delete'"
expect_stdout_line 'catalog: 1 dataset (1 version), 1 warning'

printf 'kind: table\nname: e.y\nerasure: {action: nullify, columns: [nope]}\ncolumns:\n  - {name: id, type: int, pii: none}\n' >e.yaml
expect_exit 3 steward catalog load e.yaml
expect_stderr_line "e.yaml:3:38: error: erasure column 'nope' is not a field of 'e.y'"
expect_stderr_line "e.yaml:3:10: error: erasure needs 'match' or a dataset 'subject' to find the subject's rows"
expect_stderr_line 'error: 2 errors found; the catalog was not changed'

printf 'kind: table\nname: e.z\n? [a]\n: 1\n' >k.yaml
expect_exit 3 steward catalog load k.yaml
expect_stderr_line 'k.yaml:3:3: error: mapping keys must be plain scalars'

printf 'kind: table\nname: e.m\nb: &b [1]\n<<: *b\n' >m.yaml
expect_exit 3 steward catalog load m.yaml
expect_stderr_line "m.yaml:4:1: error: merge key '<<' needs a mapping or a list of mappings"

printf 'a: &x [1, *x]\n' >r.yaml
expect_exit 3 steward catalog load r.yaml
expect_stderr_line "r.yaml:1:11: error: alias '*x' refers to a node that contains it"

head -c 17000000 /dev/zero | tr '\0' '#' >big.yaml
expect_exit 3 steward catalog load big.yaml
expect_stderr_line 'big.yaml: error: file is 17000000 bytes, over the limit of 16777216 bytes for a descriptor file'

p=deep
for i in $(seq 1 34); do p=$p/d; done
mkdir -p "$p"
expect_exit 3 steward catalog load deep
expect_stderr_contains 'error: directories nested deeper than 32 levels'

expect_exit 0 steward show e.x
expect_exit 4 steward show e.y

# Workspaces.
expect_exit 5 "$STEWARD" init /etc/passwd/x
expect_stderr_line "error: cannot create '/etc/passwd/x': Not a directory"
expect_exit 4 "$STEWARD" --home "$TMP/nowhere" search x
expect_stderr_line "error: '$TMP/nowhere' is not a steward workspace (run 'steward init $TMP/nowhere')"
expect_exit 2 "$STEWARD" --home
expect_stderr_line "error: option '--home' needs a value"
expect_exit 2 "$STEWARD" help nosuch
expect_stderr_line "error: no help for 'nosuch'"

# A database written by a newer steward is refused, not changed.
sqlite3 "$WS/.steward/catalog.db" 'PRAGMA user_version = 99'
expect_exit 5 steward search x
expect_stderr_line "error: catalog.db has schema version 99, newer than this steward supports ($CATALOG_SCHEMA)"
expect_equal 99 "$(sqlite3 "$WS/.steward/catalog.db" 'PRAGMA user_version')" 'user_version is untouched'

done_testing
