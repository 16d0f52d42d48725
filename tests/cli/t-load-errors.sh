#!/bin/sh
# One fixture per error class (tests/fixtures/errors/): each load fails with exit 3 and
# exactly one diagnostic, `file:line:col: error: message`, whose text is in
# tests/fixtures/expected/load-errors.txt. Then everything at once: all errors are reported.
. "$(dirname "$0")/lib.sh"

init_ws

# Work on copies so that the paths in messages are short and relative: errors/x.yaml.
cp -R "$FIXTURES/errors" "$FIXTURES/dup-dataset" "$FIXTURES/multi-doc-errors.yaml" "$TMP/"
cd "$TMP" || exit 99

# The encoding fixtures are binary, so they are written here rather than kept in the tree.
# An invalid byte after a two-byte character: the column counts characters, not bytes.
printf '# An invalid byte (0xFF) in line 4.\nkind: table\nname: err.invalid_utf8\ndescription: caf\303\251 \377\n' \
	>errors/invalid-utf8.yaml
# UTF-16 with a byte order mark, little and big endian.
printf '\377\376k\000i\000n\000d\000:\000 \000t\000e\000r\000m\000\n\000' >errors/utf16le.yaml
printf '\376\377\000k\000i\000n\000d\000:\000 \000t\000e\000r\000m\000\n' >errors/utf16be.yaml

# ---- one error class at a time ----
while IFS= read -r line; do
	file=${line%%:*}
	case $file in
	dup-dataset/*) set -- dup-dataset/first.yaml dup-dataset/second.yaml ;;
	*) set -- "$file" ;;
	esac
	note "$file"
	expect_exit 3 steward catalog load "$@"
	expect_stderr_line "$line"
	expect_stderr_line 'error: 1 error found; the catalog was not changed'
	expect_count 2 '' "$ERR" "$file: no other diagnostics"
	expect_stdout_empty "$file: nothing on stdout"
done <"$EXPECTED/load-errors.txt"

# The duplicate is also found against a dataset committed by an earlier load.
expect_exit 0 steward catalog load dup-dataset/first.yaml
expect_exit 3 steward catalog load dup-dataset/second.yaml
expect_stderr_line "dup-dataset/second.yaml:3:7: error: dataset 'dup.same' version 1 is already declared at dup-dataset/first.yaml:2:1"

# --check reports the same errors with the same exit status.
expect_exit 3 steward catalog load --check errors/unknown-kind.yaml
expect_stderr_line "errors/unknown-kind.yaml:2:7: error: unknown kind 'tabel' (did you mean 'table'?)"

# The alias bomb is refused by counting, not by running out of time: a..d expand to 11, 111,
# 1111 and 11111 nodes and e to 111111, so the count passes the limit inside &e on line 9, and
# the error there (with the limit in its words) shows that composing stopped after 100000
# nodes rather than 10^9.
expect_exit 3 steward catalog load errors/alias-bomb.yaml
expect_stderr_line 'errors/alias-bomb.yaml:9:4: error: alias expansion exceeds 100000 nodes (is this a billion laughs file?)' \
	'the alias bomb stops where the expansion passes 100000 nodes (line 9)'
expect_count 2 '' "$ERR" 'the alias bomb: that error and the summary, nothing else'

# ---- several errors in one file ----
expect_exit 3 steward catalog load multi-doc-errors.yaml
expect_stderr_line "multi-doc-errors.yaml:5:1: error: unknown key 'ownr' (did you mean 'owner'?)"
expect_stderr_line "multi-doc-errors.yaml:12:7: error: unknown kind 'tabel' (did you mean 'table'?)"
expect_stderr_line "multi-doc-errors.yaml:19:12: error: duplicate field 'id' (first at line 18)"
expect_stderr_line 'error: 3 errors found; the catalog was not changed'
expect_count 4 '' "$ERR" 'multi-doc file: 3 errors and the summary, nothing else'

# ---- every error of every file in one run ----
expect_exit 3 steward catalog load errors dup-dataset errors/does-not-exist.yaml
n=$(wc -l <"$EXPECTED/load-errors.txt")
expect_count "$n" ': error: ' "$ERR" "all $n errors are reported in one run"
expect_stderr_line "error: $n errors found; the catalog was not changed"
grep -v '^error: ' "$ERR" | sort >"$TMP/actual-errors.txt"
sort "$EXPECTED/load-errors.txt" >"$TMP/expected-errors.txt"
test_cmp "$TMP/expected-errors.txt" "$TMP/actual-errors.txt" 'the errors of the combined run are exactly the per-file errors'

# Nothing was ever written except dup.same from the one good load.
check 'the catalog holds only dup.same' \
	test "$(sqlite3 "$WS/.steward/catalog.db" 'select group_concat(name) from datasets')" = dup.same

done_testing
