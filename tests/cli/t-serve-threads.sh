#!/bin/sh
# The server's default threads (serve/worker.c): a thread a connection, which takes an audit
# log and a catalog opened before the server listens and gives them back when its
# connection ends. More connections at once than handles kept idle, then many one after
# another: every request is answered, each is one audit record, the log verifies, and the
# handles a new thread takes see the catalog as it is now.
. "$(dirname "$0")/lib.sh"
require curl jq
init_ws
cd "$TMP" || exit 99
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
expect_exit 0 steward token new "$(id -un)" --expires 1
bob=$(cat "$OUT")

mkfifo serve.out
"$STEWARD" --home "$WS" serve --listen 127.0.0.1:0 >serve.out 2>serve.err &
pid=$!
exec 3<serve.out
IFS= read -r l1 <&3
U=http://127.0.0.1:${l1##*:}

get() { curl -s -o "$1.json" -w '%{http_code}\n' -H "Authorization: Bearer $bob" "$U$2"; }

# ---- 80 connections started at once (the handles kept idle are at most 64), each its own
# thread ----
(
	i=0
	while [ $i -lt 80 ]; do
		get "par$i" '/api/v1/search?q=revenue' >"par$i.code" &
		i=$((i + 1))
	done
	wait # this subshell's curls, not the server
)
expect_equal 80 "$(cat par*.code | grep -c '^200$')" '80 connections at once: all answered 200'
expect_equal 1 "$(jq -r '.results[0].name' par*.json | sort -u | wc -l)" 'and the same answer'

# ---- then one after another: each new thread takes a handle given back ----
i=0
while [ $i -lt 40 ]; do
	get seq /api/v1/whoami >>seq.codes
	i=$((i + 1))
done
expect_equal 40 "$(grep -c '^200$' seq.codes)" '40 connections one after another: all 200'

# ---- a handle given back sees the catalog as it is now ----
mkdir more
printf 'kind: table\nname: ops.threads_probe\nowner: ops\ncolumns: [{name: n, type: int64, pii: none}]\n' \
	>more/probe.yaml
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog" more
expect_equal 200 "$(get card /api/v1/datasets/ops.threads_probe)" 'a dataset loaded since: 200'
expect_jq .name '"ops.threads_probe"' card.json

kill -TERM "$pid"
wait "$pid"
expect_equal 0 $? 'the server stops cleanly'
exec 3<&-

# ---- every request is one record, and the log is intact ----
run steward audit log --json --action catalog.search
expect_equal 80 "$(jq length "$OUT")" '80 searches: 80 records'
run steward audit log --json --action serve.whoami
expect_equal 40 "$(jq length "$OUT")" '40 whoami: 40 records'
expect_exit 0 steward audit verify
expect_stdout_contains 'audit log intact: '

# ---- a soft limit of open files below what 256 connections' threads hold is raised ----
hard=$(ulimit -Hn)
if [ -r /proc/self/limits ] && { [ "$hard" = unlimited ] || [ "$hard" -ge 2048 ]; }; then
	mkfifo serve2.out
	(
		ulimit -Sn 256
		exec "$STEWARD" --home "$WS" serve --listen 127.0.0.1:0 >serve2.out 2>serve2.err
	) &
	pid=$!
	exec 3<serve2.out
	IFS= read -r l1 <&3
	soft=$(awk '/^Max open files/ { print $4 }' "/proc/$pid/limits")
	kill -TERM "$pid"
	wait "$pid" || true
	exec 3<&-
	expect_equal 1 "$([ "$soft" -ge 1984 ] && echo 1)" "soft limit 256 raised to $soft (>= 1984)"
fi

done_testing
