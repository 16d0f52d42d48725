#!/bin/sh
# Core dumps are off while steward runs: every command sets RLIMIT_CORE to 0 and
# PR_SET_DUMPABLE to 0 at start-up, before it reads a record or a key (a core of an ingest
# run once held every raw e-mail address it had read). `pii scan` reads its sample from a
# fifo that it opens itself, so the test knows the command is past start-up when its own
# open of the writing end returns, and the command then waits for records while the test
# reads /proc; no sleep. A process that is not dumpable has its /proc/PID owned by root, so
# the commands run as another user than root (nobody, through setpriv, when the test runs
# as root), in a workspace of that user's.
. "$(dirname "$0")/lib.sh"
me=$(id -u)
if [ "$me" = 0 ]; then
	command -v setpriv >/dev/null 2>&1 || { echo '1..0 # SKIP setpriv is missing'; exit 0; }
	uid=65534
	as_user="setpriv --reuid=$uid --regid=$uid --clear-groups"
	chmod 755 "$TMP"
else
	uid=$me
	as_user=
fi
mkdir "$TMP/pub" && chmod 777 "$TMP/pub"
WS=$TMP/pub/ws
run $as_user "$STEWARD" init "$WS"
expect_equal 0 "$RC" "init a workspace as uid $uid"
run $as_user "$STEWARD" --home "$WS" catalog load "$STEWARD_SRC/examples/catalog"
expect_equal 0 "$RC" 'load the example catalog'
fifo=$TMP/pub/sample.jsonl
mkfifo -m 666 "$fifo"
# exec, so that $! is the pid of steward itself
(exec $as_user "$STEWARD" --home "$WS" pii scan "$fifo" --dataset events.signup \
	>"$TMP/pub/out" 2>&1) &
pid=$!
# Should steward end without opening the fifo, this opens it instead when it is gone, so
# that the test fails rather than hangs.
(tail --pid="$pid" -f /dev/null; : <>"$fifo") &
guard=$!
exec 3>"$fifo" # returns once steward has opened the fifo: it is past start-up, and waits
limits=$(grep '^Max core file size' "/proc/$pid/limits")
owner=$(stat -c %u "/proc/$pid/status")
runs_as=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
printf '{"event_id":"e1"}\n' >&3
exec 3>&-
wait "$pid"
expect_equal 0 "$?" "pii scan ends normally once its input is closed"
kill "$guard" 2>/dev/null
case $limits in
*" 0 "*" 0 "*) pass "RLIMIT_CORE is 0, soft and hard ($(echo $limits))" ;;
*) fail 'RLIMIT_CORE is 0, soft and hard' "$limits" ;;
esac
expect_equal "$uid" "$runs_as" "the command runs as uid $uid"
expect_equal 0 "$owner" 'the process is not dumpable: /proc/PID/status is owned by root'
done_testing
