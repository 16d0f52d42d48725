#!/bin/sh
# Two runs never rewrite one jsonl file at once, even when one target names a folder inside
# another target's: a run locks its tree (flock LOCK_EX) and every directory above it
# (LOCK_SH). flock(1) plays the other run, holding the locks a run on the outer tree, or on
# the inner one, would hold; the erasure fails that target with a message naming the tree,
# changes nothing, and succeeds once the other run is gone.
. "$(dirname "$0")/lib.sh"
require flock
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
cd "$TMP" || exit 99
T=$(realpath "$TMP")
mkdir -p lake/sub
expect_exit 0 steward pii hash --purpose test-fixture --category user.unique_id 777001
k=$(cat "$OUT")
line() { printf '{"label":"click","user_id":"%s","n":%s}\n' "$1" "$2"; }
{ line "$k" 1; line other 2; } >lake/sub/part-0.jsonl
sum=$(sha256sum lake/sub/part-0.jsonl)

target() {
	write_config <<YAML
version: 1
targets:
  lake.client_log: "jsonl:$1"
YAML
}
expect_exit 0 steward request new erase --subject user.unique_id:777001
id=$(cat "$OUT")
mkfifo ready release

# hold MODE DIR [MODE DIR]: flock(1) holds the locks (-s or -x on each directory), then
# says so on the fifo, and keeps them until told to let go.
hold() {
	(
		exec 8<"$2"
		flock "$1" 8
		if [ $# -gt 2 ]; then
			exec 9<"$4"
			flock "$3" 9
		fi
		echo held >ready
		read -r _ <release
	) &
	holder=$!
	IFS= read -r _ <ready
}
free() {
	echo go >release
	wait "$holder"
}

# ---- the target is the inner folder; another run holds the outer tree ----
target "$TMP/lake/sub"
hold -x "$T/lake"
expect_exit 1 steward request run "$id"
expect_stdout_contains "another steward is changing '$T/lake'; run again later"
expect_equal "$sum" "$(sha256sum lake/sub/part-0.jsonl)" 'nothing changed under the held tree'
free

# ---- the target is the outer tree; another run holds the inner folder ----
target "$TMP/lake"
hold -s "$T/lake" -x "$T/lake/sub"
expect_exit 1 steward request run "$id"
expect_stdout_contains "another steward is changing '$TMP/lake' or a folder in it; run again later"
expect_equal "$sum" "$(sha256sum lake/sub/part-0.jsonl)" 'nothing changed in the held folder'
free

# ---- a sibling folder held: no conflict ----
mkdir -p lake/other
hold -s "$T/lake" -x "$T/lake/other"
target "$TMP/lake/sub"
expect_exit 0 steward request run "$id"
expect_stdout_contains "$id: 1 target, 1 done, 0 not done"
free
expect_equal 1 "$(grep -c . lake/sub/part-0.jsonl)" 'the subject line is gone, the other kept'
check 'the other line is kept' grep -q '"user_id":"other"' lake/sub/part-0.jsonl

done_testing
