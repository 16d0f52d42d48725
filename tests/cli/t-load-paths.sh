#!/bin/sh
# The paths a load records: each file once under its real path, however it was named (a
# symbolic link to a file, a root named through a link, a nested directory), symbolic links
# to directories not followed. The walk builds real paths from the root's without asking
# the system for each file, so these pin what realpath() would say.
. "$(dirname "$0")/lib.sh"
require sqlite3

DB=$WS/.steward/catalog.db
init_ws
cd "$TMP" || exit 99
mkdir -p cat/sub/deeper other
cat >cat/a.yaml <<'YAML'
kind: table
name: t.a
columns:
  - {name: id, type: int64, pii: none}
YAML
sed 's/t\.a/t.b/' cat/a.yaml >cat/sub/deeper/b.yaml
sed 's/t\.a/t.c/' cat/a.yaml >other/c.yaml
ln -s a.yaml cat/link-to-a.yaml             # the same file twice: loaded once
ln -s ../other cat/linked-dir               # a directory link: not followed
ln -s ../../other/c.yaml cat/sub/link-to-c.yaml # a file link out of the tree: followed
ln -s cat catlink
REAL=$(cd "$TMP" && pwd -P)

expect_exit 0 steward catalog load catlink
expect_stdout_line 'loaded 3 files: 3 new, 0 changed, 0 unchanged, 0 removed; 3 documents read'
expect_stdout_line 'catalog: 3 datasets (3 versions)'
expect_equal "$REAL/cat/a.yaml|$REAL/cat/sub/deeper/b.yaml|$REAL/other/c.yaml" \
	"$(sqlite3 "$DB" "SELECT group_concat(path, '|') FROM (SELECT path FROM files ORDER BY path)")" \
	'files are recorded under their real paths'
expect_equal 'catlink/a.yaml|catlink/sub/deeper/b.yaml|catlink/sub/link-to-c.yaml' \
	"$(sqlite3 "$DB" "SELECT group_concat(display, '|') FROM (SELECT display FROM files ORDER BY path)")" \
	'and shown as they were named'

# The same tree named without the link is the same files: nothing new, changed or removed.
expect_exit 0 steward catalog load "$TMP/cat"
expect_stdout_line 'loaded 3 files: 0 new, 0 changed, 3 unchanged, 0 removed; 0 documents read'
expect_exit 0 steward catalog load ./cat/../cat/sub cat/a.yaml
expect_stdout_line 'loaded 3 files: 0 new, 0 changed, 3 unchanged, 0 removed; 0 documents read'

done_testing
