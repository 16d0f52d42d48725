#!/bin/sh
# Commands that read the catalog while a load writes it: held at the first write to the
# catalog's WAL (the test build's STEWARD_PAUSE_WRITE, tests/support/faults.h), a first load
# of descriptors and one of a dbt manifest let `search` and `show` read the
# catalog as it was (empty); once the load goes on, they read what it committed. (A load into an
# empty catalog that ran with a rollback journal failed every such command with "database
# is locked".)
. "$(dirname "$0")/lib.sh"
require mkfifo

P=$TMP/pause
mkdir -p "$P"
mkfifo "$P/paused" "$P/resume"

# paused_load WS ARGS...: starts `steward --home WS catalog load ARGS` held at its first WAL
# write, and waits until it is held there (or has ended, which fails the check).
paused_load() {
	ws=$1
	shift
	(
		STEWARD_PAUSE_WRITE=catalog.db-wal STEWARD_PAUSE_DIR=$P \
			"$STEWARD" --home "$ws" catalog load "$@" >"$TMP/load.out" 2>"$TMP/load.err"
		echo "exit $?" >"$P/paused"
	) &
	read -r state <"$P/paused"
	expect_equal paused "$state" 'the load is held at its first write'
}

# go_on: lets the held load go on, and checks that it ends well.
go_on() {
	if [ "$state" = paused ]; then
		echo go >"$P/resume"
		read -r state <"$P/paused"
	fi
	expect_equal 'exit 0' "$state" 'the load ends well'
	wait
}

init_ws
paused_load "$WS" "$FIXTURES/dbt/v4/manifest.json"
expect_exit 0 steward search customers
expect_stderr_line 'no matches'
expect_exit 4 steward show warehouse-analytics.customers
expect_stderr_line "error: no dataset 'warehouse-analytics.customers' in the catalog"
go_on
expect_exit 0 steward search customers
expect_stdout_contains 'warehouse-analytics.customers'
expect_exit 0 steward show warehouse-analytics.customers

WS2=$TMP/ws2
init_ws "$WS2"
paused_load "$WS2" "$STEWARD_SHARED/corpus/catalog"
run "$STEWARD" --home "$WS2" search user
expect_equal 0 "$RC" 'search while the descriptors load'
expect_equal 'no matches' "$(cat "$ERR")" 'and it finds nothing yet'
go_on
run "$STEWARD" --home "$WS2" search user
expect_equal 0 "$RC" 'search after the load'
check 'and it finds datasets' test "$(grep -c . "$OUT")" -gt 1
done_testing
