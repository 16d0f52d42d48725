#!/bin/sh
# A release build (meson's default options, test_build off, as a packager builds it) ignores
# the fault-injection variables: init, catalog load, key init, ingest and audit verify do
# exactly what they do without them, and the binary holds no fault-injection code. Skips in
# a test build (-Dtest_build=true), where the variables are honoured on purpose.
. "$(dirname "$0")/lib.sh"

EX=$STEWARD_SRC/examples
FAULTS="STEWARD_FAIL_ALLOC=1 STEWARD_FAIL_WRITE=1 STEWARD_FAIL_SYNC=1 STEWARD_FAIL_MODE=after STEWARD_FAULT_COUNT=1"

# A test build prints a "steward-fault:" line under STEWARD_FAULT_COUNT=1; a release build not.
run "$STEWARD" init "$TMP/probe"
[ "$RC" -eq 0 ] || { echo "Bail out! steward init failed"; cat "$ERR"; exit 99; }
run env STEWARD_FAULT_COUNT=1 "$STEWARD" --home "$TMP/probe" audit verify
if grep -q '^steward-fault: ' "$ERR"; then
	echo "1..0 # SKIP a test build (-Dtest_build=true) honours the fault variables; this test is for release builds"
	exit 77
fi
pass 'a release build: no steward-fault line under STEWARD_FAULT_COUNT=1'

# step N: the Nth command of the sequence, on $WS.
step() {
	case $1 in
	1) echo init ;;
	2) echo catalog load ;;
	3) echo key init ;;
	4) echo ingest ;;
	5) echo audit verify ;;
	esac
}
# cmd N [VAR=VALUE...]: runs step N with the environment additions; stdout in $OUT, stderr
# in $ERR (without ingest's throughput line, which holds a time), status in $RC.
cmd() {
	local n="$1"
	shift
	RC=0
	case $n in
	1) env "$@" "$STEWARD" init "$WS" </dev/null ;;
	2) env "$@" "$STEWARD" --home "$WS" catalog load "$EX/catalog" </dev/null ;;
	3) env "$@" "$STEWARD" --home "$WS" key init </dev/null ;;
	4) env "$@" "$STEWARD" --home "$WS" ingest 'events.*' --label event_type <"$EX/events.jsonl" ;;
	5) env "$@" "$STEWARD" --home "$WS" audit verify </dev/null ;;
	esac >"$OUT" 2>"$TMP/.raw-err" || RC=$?
	grep -vE '^  [0-9.]+ MB in [0-9.]+ s \(' "$TMP/.raw-err" >"$ERR"
}

# Without the variables: each step from the state the previous one left, which is kept
# (before.N) so that the run with the variables starts from exactly the same files.
for n in 1 2 3 4 5; do
	rm -rf "$TMP/before.$n"
	[ -e "$WS" ] && cp -a "$WS" "$TMP/before.$n"
	cmd $n
	expect_equal 0 "$RC" "without fault variables: $(step $n) succeeds"
	cp "$OUT" "$TMP/plain.$n.out"
	cp "$ERR" "$TMP/plain.$n.err"
	echo "$RC" >"$TMP/plain.$n.rc"
done
expect_stdout_contains 'audit log intact: ' 'the sequence ends with an intact audit log'

# With every fault variable set (every allocation, write and sync from the first one on
# would fail in a test build): the same status, stdout and stderr, on the same files.
for n in 1 2 3 4 5; do
	rm -rf "$WS"
	[ -e "$TMP/before.$n" ] && cp -a "$TMP/before.$n" "$WS"
	# shellcheck disable=SC2086 # FAULTS is split on purpose
	cmd $n $FAULTS
	expect_equal "$(cat "$TMP/plain.$n.rc")" "$RC" "with fault variables: $(step $n) exits as without them"
	test_cmp "$TMP/plain.$n.out" "$OUT" "with fault variables: $(step $n) prints the same stdout"
	test_cmp "$TMP/plain.$n.err" "$ERR" "with fault variables: $(step $n) prints the same stderr"
	expect_stderr_lacks 'steward-fault:' "with fault variables: $(step $n) prints no steward-fault line"
done

# No code reads a fault variable: the names are nowhere in the binary.
check_not 'no STEWARD_FAIL_ name in the binary' grep -aq 'STEWARD_FAIL_' "$STEWARD"

# No fault-injection symbol: a test build links tests/support (fault_vfs, the shim's
# functions, st_test_faultvfs_*, the allocation hook); a release build links none of it.
if ! command -v nm >/dev/null 2>&1; then
	skip 'no fault-injection symbols in the binary' 'nm is not installed'
elif ! nm "$STEWARD" >"$TMP/syms" 2>/dev/null || [ ! -s "$TMP/syms" ]; then
	skip 'no fault-injection symbols in the binary' 'the binary is stripped'
else
	# ("fault" where a name or a part of one starts: "pii_detect_with.defaults" is no fault)
	bad=$(awk '{ print $NF }' "$TMP/syms" | grep -E '(^|[._])fault|st_test_|st_alloc_fail_hook' |
		tr '\n' ' ')
	expect_equal '' "$bad" "no fault-injection symbols ($(wc -l <"$TMP/syms") symbols)"
fi

done_testing
