#!/bin/sh
# Field rows are written in batches of up to 64 per statement (58 where SQLite allows 999
# variables): a dataset of 78 fields (more than one batch) with nested fields, texts the
# scrubber redacts, and a subject and erasure columns near the end, stores the same rows,
# order, redactions and warnings as one statement per row did; with more than 1 MB of field
# paths, the subject and erasure checks ask the database after writing the waiting rows.
. "$(dirname "$0")/lib.sh"
require sqlite3

DB=$WS/.steward/catalog.db
init_ws
cd "$TMP" || exit 99
mkdir cat
{
	printf 'kind: table\nname: t.wide\nsubject: f74\nerasure:\n  action: nullify\n  match: f74\n'
	printf '  columns: [f73, ctx.inner]\ncolumns:\n'
	i=0
	while [ $i -lt 75 ]; do
		if [ $i = 30 ]; then
			printf '  - name: ctx\n    type: object\n    pii: none\n    fields:\n'
			printf '      - {name: a, type: string, pii: none}\n'
			printf '      - {name: inner, type: string, pii: direct, category: user.contact.email}\n'
			printf '      - {name: b, type: int64, pii: none}\n'
		elif [ $i = 5 ] || [ $i = 40 ]; then
			printf '  - name: f%d\n    type: string\n    pii: direct\n' $i
			printf '    category: user.contact.email\n'
			printf '    description: like anna.kowalska@example.com\n'
			printf '    pii_reason: mails such as jan@example.org\n'
		else
			printf '  - {name: f%d, type: int64, pii: none}\n' $i
		fi
		i=$((i + 1))
	done
} >cat/wide.yaml

expect_exit 0 steward catalog load cat
expect_stdout_line 'catalog: 1 dataset (1 version), 4 warnings'
expect_equal 78 "$(sqlite3 "$DB" 'SELECT count(*) FROM fields')" 'every field stored'
expect_equal '0|77|78' "$(sqlite3 "$DB" 'SELECT min(ord), max(ord), count(DISTINCT ord) FROM fields')" \
	'in document order, without gaps'
expect_equal 'f29|ctx|ctx.a|ctx.inner|ctx.b|f31' \
	"$(sqlite3 "$DB" "SELECT group_concat(path, '|') FROM (SELECT path FROM fields WHERE ord BETWEEN 29 AND 34 ORDER BY ord)")" \
	'nested fields across the first batch boundary'
expect_equal '1|1' "$(sqlite3 "$DB" "SELECT count(*), min(depth) FROM fields WHERE path = 'ctx.inner'")" \
	'a nested field has its depth'
expect_equal 'f74|77' "$(sqlite3 "$DB" "SELECT path, ord FROM fields WHERE path = 'f74'")" \
	'the last field, in the third batch'
expect_equal 0 "$(sqlite3 "$DB" "SELECT count(*) FROM fields WHERE description LIKE '%example.com%' OR pii_reason LIKE '%example.org%'")" \
	'no address stored in any batch'
expect_equal 2 "$(sqlite3 "$DB" "SELECT count(*) FROM fields WHERE description IS NOT NULL AND pii_reason IS NOT NULL")" \
	'the redacted texts are kept'
w='holds what looks like personal data (1 value); it is stored with it replaced'
printf 'cat/wide.yaml:%s: warning: the %s %s\n' 19:17 pii_reason "$w" 18:18 description "$w" \
	65:17 pii_reason "$w" 64:18 description "$w" >want.err
test_cmp want.err "$ERR" 'the warnings, in the order they were always given'

# A subject or erasure column that is not a field is still found out.
sed 's/^subject: f74$/subject: f75/; s/columns: \[f73, ctx.inner\]/columns: [f73, ctx.nope]/' cat/wide.yaml >cat/w2 &&
	mv cat/w2 cat/wide.yaml
expect_exit 3 steward catalog load cat
expect_stderr_contains "wide.yaml:3:10: error: subject 'f75' is not a field of 't.wide'"
expect_stderr_contains "error: erasure column 'ctx.nope' is not a field of 't.wide'"

# Field paths of more than 1 MB in one dataset: the subject and erasure checks then ask the
# database, after writing the rows still waiting.
long=$(printf '%03900d' 0 | tr 0 x)
{
	printf 'kind: table\nname: t.long\nsubject: %s_299\nerasure:\n  action: nullify\n' "$long"
	printf '  match: %s_150\n  columns: [%s_298, %s_300]\ncolumns:\n' "$long" "$long" "$long"
	i=0
	while [ $i -lt 300 ]; do
		printf '  - {name: %s_%d, type: int64, pii: none}\n' "$long" $i
		i=$((i + 1))
	done
} >cat/wide.yaml
expect_exit 3 steward catalog load cat
# (The message is cut at its 1 KB bound; its location says which column it is.)
expect_stderr_contains "cat/wide.yaml:7:3919: error: erasure column 'xxxx"
expect_equal 1 "$(grep -c ': error: ' "$ERR")" 'only the missing column is reported'
sed 's/_300\]/_297]/' cat/wide.yaml >cat/w2 && mv cat/w2 cat/wide.yaml
expect_exit 0 steward catalog load cat
expect_equal 300 "$(sqlite3 "$DB" "SELECT count(*) FROM fields f JOIN datasets d ON d.id = f.dataset_id WHERE d.name = 't.long'")" \
	'every long field stored'

# A file's row says when it was loaded, to the millisecond, as SQLite's
# strftime('%Y-%m-%dT%H:%M:%fZ') writes it (the loader formats it itself).
BEFORE=$(sqlite3 :memory: "SELECT strftime('%Y-%m-%dT%H:%M:%fZ')")
echo '# changed' >>cat/wide.yaml
expect_exit 0 steward catalog load cat
AFTER=$(sqlite3 :memory: "SELECT strftime('%Y-%m-%dT%H:%M:%fZ')")
expect_equal 1 "$(sqlite3 "$DB" "SELECT loaded_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z' AND loaded_at BETWEEN '$BEFORE' AND '$AFTER' FROM files")" \
	"loaded_at in strftime's form, between $BEFORE and $AFTER"

# A fresh load writes files and datasets rows in batches too, with the ids one statement per
# row gave: files in path order, datasets in the order of their documents, each pointing at
# its file; a duplicate among them is reported with the place of the first.
init_ws "$TMP/ws2"
DB2=$TMP/ws2/.steward/catalog.db
mkdir ids
printf 'kind: table\nname: i.b\n---\nkind: table\nname: i.c\n' >ids/b.yaml
printf 'kind: table\nname: i.a\n' >ids/a.yaml
printf 'kind: event\nname: i.d\n' >ids/c.yaml
expect_exit 0 "$STEWARD" --home "$TMP/ws2" catalog load ids
expect_equal '1:a.yaml 2:b.yaml 3:c.yaml' \
	"$(sqlite3 "$DB2" "SELECT group_concat(id || ':' || replace(display, 'ids/', ''), ' ') FROM (SELECT * FROM files ORDER BY id)")" \
	'file ids in path order'
expect_equal '1:i.a:1 2:i.b:2 3:i.c:2 4:i.d:3' \
	"$(sqlite3 "$DB2" "SELECT group_concat(id || ':' || name || ':' || file_id, ' ') FROM (SELECT * FROM datasets ORDER BY id)")" \
	'dataset ids in document order, with their files'
init_ws "$TMP/ws3"
printf 'kind: table\nname: i.a\n' >ids/d.yaml
expect_exit 3 "$STEWARD" --home "$TMP/ws3" catalog load ids
expect_stderr_contains "ids/d.yaml:2:7: error: dataset 'i.a' version 1 is already declared at ids/a.yaml:1:1"

done_testing
