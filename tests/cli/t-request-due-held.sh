#!/bin/sh
# `request run --due` and a request another run holds: the held one is skipped with the
# holder named, every other open request still runs, and the held one runs once its lock is
# free. A single `request run ID` of a held request is still refused (exit 6). The holder is
# flock(1) on the request's lock file, as a running steward would hold it.
. "$(dirname "$0")/lib.sh"
require sqlite3 flock
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
cd "$TMP" || exit 99
sqlite3 users.db "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
	INSERT INTO users VALUES (777001, 'a@example.com'), (777002, 'b@example.com');"
write_config <<YAML
version: 1
targets:
  prod.users: sqlite:$TMP/users.db?table=users
YAML

expect_exit 0 steward request new erase --subject user.unique_id:777001
first=$(cat "$OUT")
expect_exit 0 steward request new erase --subject user.unique_id:777002
second=$(cat "$OUT")

# The holder: the lock file as a run writes it, locked by a process that waits on a fifo.
mkdir -p "$WS/.steward/locks"
lock=$WS/.steward/locks/$first.lock
printf 'pid=4242\nuser=alice\nhost=box1\nsince=2026-12-01T10:00:00.000Z\n' >"$lock"
mkfifo ready release
flock "$lock" sh -c 'echo held >ready; read -r _ <release' &
holder=$!
IFS= read -r line <ready
expect_equal held "$line" 'the lock is held'

held_msg="request '$first' is being run by pid 4242 (user 'alice' on host 'box1') since 2026-12-01T10:00:00.000Z; wait for that run to end"
expect_exit 6 steward request run "$first"
expect_stderr_line "error: $held_msg"

expect_exit 0 steward request run --due
expect_stdout_line "$first: skipped: $held_msg"
expect_stdout_contains "$second: 1 target, 1 done, 0 not done"
expect_equal 1 "$(sqlite3 users.db 'SELECT count(*) FROM users')" \
	'the second subject was erased, the first kept while its request is held'
expect_exit 0 steward request show "$first" --json
expect_jq .status '"open"'

echo go >release
wait "$holder"
expect_exit 0 steward request run --due
expect_stdout_contains "$first: 1 target, 1 done, 0 not done"
expect_stdout_lacks skipped
expect_equal 0 "$(sqlite3 users.db 'SELECT count(*) FROM users')" 'both subjects are erased'

done_testing
