#!/bin/sh
# Output files a user names (--rejects, report --output, audit checkpoint --export, request
# run --exports) cannot be turned against steward: nothing into .steward/ (by any spelling
# or symbolic link), never the file on standard input or output, never another user's file,
# never through a symbolic link or a hard link. Each attack leaves its target untouched.
. "$(dirname "$0")/lib.sh"
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$FIXTURES/ingest/people.yaml"
cd "$TMP" || exit 99
ST=$WS/.steward
KEY=$ST/keys/k1.key
sum() { sha256sum "$1" | cut -d' ' -f1; }
key_sum=$(sum "$KEY")
printf '%s\n' '{"id":1,"email":"ann@example.com"}' '{"id":"bad"}' >bad.jsonl
cp bad.jsonl bad.orig
period=$(date -u +%Y-%m)

# usable: the workspace still works and its log and key are intact.
usable() {
	expect_exit 0 steward audit verify
	expect_exit 0 steward search person
	expect_equal "$key_sum" "$(sum "$KEY")" "$1: the key is intact"
	check "$1: audit.db is still a database" sh -c "head -c 15 '$ST/audit.db' | grep -q 'SQLite format 3'"
}

# ---- --rejects .steward/audit.db: refused before anything is written ----
expect_exit_stdin 2 bad.jsonl steward ingest t.person --rejects "$ST/audit.db"
expect_stderr_line "error: rejects file '$ST/audit.db' is inside the workspace's state directory '$ST'; choose a path outside it"
expect_stdout_empty
usable 'rejects into audit.db'
# The same by a relative path from the workspace, and through '..'.
mkdir "$WS/sub"
(cd "$WS" && STDIN=$TMP/bad.jsonl expect_exit 2 "$STEWARD" ingest t.person --rejects .steward/audit.db)
expect_stderr_line "error: rejects file '.steward/audit.db' is inside the workspace's state directory '$ST'; choose a path outside it"
expect_exit_stdin 2 bad.jsonl steward ingest t.person --rejects "$WS/sub/../.steward/new.jsonl"
expect_stderr_contains "is inside the workspace's state directory"
check_not 'nothing is created in .steward/' test -e "$ST/new.jsonl"
# A symbolic link to the state directory does not get round it.
ln -s "$ST" st-link
expect_exit_stdin 2 bad.jsonl steward ingest t.person --rejects st-link/audit.db
expect_stderr_line "error: rejects file 'st-link/audit.db' is inside the workspace's state directory '$ST'; choose a path outside it"
usable 'rejects through a linked directory'

# ---- report --output .steward/keys/k1.key ----
expect_exit 2 steward report --period "$period" --output "$KEY"
expect_stderr_line "error: report file '$KEY' is inside the workspace's state directory '$ST'; choose a path outside it"
usable 'report over the key'
# Through a symbolic link that points at the key.
ln -s "$KEY" key-link.md
expect_exit 2 steward report --period "$period" --output key-link.md
expect_stderr_line "error: report file 'key-link.md' leads into the workspace's state directory '$ST'; choose a path outside it"
usable 'report through a link to the key'
check 'the link is left as it was' test -L key-link.md
# Any other symbolic link is refused too: it is never followed.
ln -s "$TMP/elsewhere.md" other-link.md
expect_exit 2 steward report --period "$period" --output other-link.md
expect_stderr_line "error: report file 'other-link.md' is a symbolic link; give a regular file"
check_not 'the link target is not created' test -e "$TMP/elsewhere.md"

# ---- audit checkpoint --export into .steward/ ----
expect_exit 2 steward audit checkpoint --export "$ST/audit.db"
expect_stderr_line "error: anchor file '$ST/audit.db' is inside the workspace's state directory '$ST'; choose a path outside it"
usable 'export over audit.db'
expect_exit 2 steward audit checkpoint --export "$ST/keys/anchor.json"
check_not 'no anchor in .steward/keys' test -e "$ST/keys/anchor.json"
expect_exit 2 steward audit checkpoint --export st-link/anchor.json
expect_stderr_contains "is inside the workspace's state directory"
expect_exit 0 steward audit checkpoint --export anchor.json
expect_equal 600 "$(stat -c %a anchor.json)" 'an anchor outside .steward/ is written, mode 0600'

# ---- request run --exports into .steward/ ----
expect_exit 0 steward request new access --subject user.unique_id:1
access=$(cat "$OUT")
expect_exit 2 steward request run "$access" --exports "$ST/keys"
expect_stderr_line "error: exports directory '$ST/keys' is inside the workspace's state directory '$ST'; choose a path outside it"
expect_exit 2 steward request run "$access" --exports st-link/new-dir
expect_stderr_contains "is inside the workspace's state directory"
check_not 'no directory is made in .steward/' test -e "$ST/new-dir"
usable 'exports into .steward'

# ---- --rejects naming the file on standard input: the input is kept ----
expect_exit_stdin 2 bad.jsonl steward ingest t.person --rejects bad.jsonl
expect_stderr_line "error: rejects file 'bad.jsonl' is the same file as standard input"
check 'the input is intact' cmp -s bad.jsonl bad.orig
# ... or the output: report --output naming the file standard output goes to.
expect_exit 2 steward report --period "$period" --output "$OUT"
expect_stderr_line "error: report file '$OUT' is the same file as standard output"
# ... or a second name (hard link) of the input.
ln bad.jsonl bad-link.jsonl
expect_exit_stdin 2 bad.jsonl steward ingest t.person --rejects bad-link.jsonl
expect_stderr_line "error: rejects file 'bad-link.jsonl' is the same file as standard input"
check 'the input is intact after the hard link' cmp -s bad.jsonl bad.orig
# A hard link to some other file would change that file too.
printf 'keep\n' >kept.txt
ln kept.txt kept-link.jsonl
expect_exit_stdin 2 bad.jsonl steward ingest t.person --rejects kept-link.jsonl
expect_stderr_line "error: rejects file 'kept-link.jsonl' has other hard links; remove it or choose another path"
expect_equal keep "$(cat kept.txt)" 'the other name keeps its content'
# Not a regular file.
expect_exit_stdin 2 bad.jsonl steward ingest t.person --rejects "$TMP"
expect_stderr_line "error: rejects file '$TMP' is a directory"
mkfifo fifo
expect_exit_stdin 2 bad.jsonl steward ingest t.person --rejects fifo
expect_stderr_line "error: rejects file 'fifo' is not a regular file"

# ---- a rejects file owned by another user: refused, untouched ----
if [ "$(id -u)" = 0 ]; then
	printf 'theirs\n' >theirs.jsonl
	chmod 666 theirs.jsonl
	chown 65534 theirs.jsonl
	expect_exit_stdin 6 bad.jsonl steward ingest t.person --rejects theirs.jsonl
	expect_stderr_line "error: rejects file 'theirs.jsonl' belongs to another user (uid 65534); remove it or choose another path"
	expect_equal theirs "$(cat theirs.jsonl)" "another user's file is untouched"
	expect_equal 666 "$(stat -c %a theirs.jsonl)" "another user's file keeps its mode"
	expect_exit 6 steward report --period "$period" --output theirs.jsonl
	expect_stderr_line "error: report file 'theirs.jsonl' belongs to another user (uid 65534); remove it or choose another path"
	expect_equal theirs "$(cat theirs.jsonl)" "another user's file is not replaced by a report"
else
	skip "a rejects file owned by another user (needs root to chown)"
fi

# ---- and the ordinary case still works: a new file, and an older one of ours ----
expect_exit_stdin 1 bad.jsonl steward ingest t.person --rejects rej.jsonl
expect_equal 600 "$(stat -c %a rej.jsonl)" 'the rejects file is mode 0600'
expect_equal 1 "$(wc -l <rej.jsonl)" 'one rejected record'
printf 'old\nold\nold\n' >rej.jsonl
chmod 644 rej.jsonl
expect_exit_stdin 1 bad.jsonl steward ingest t.person --rejects rej.jsonl
expect_equal 1 "$(wc -l <rej.jsonl)" 'an older rejects file is truncated'
expect_equal 600 "$(stat -c %a rej.jsonl)" 'and set to mode 0600'
usable 'after everything'

done_testing
