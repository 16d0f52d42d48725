#!/bin/sh
# Fault injection: one representative command per module (catalog load, ingest, request new,
# request run, audit verify, report) with its Nth allocation (STEWARD_FAIL_ALLOC), Nth SQLite
# write (STEWARD_FAIL_WRITE) or Nth SQLite sync (STEWARD_FAIL_SYNC) failing, for N from 1 to
# the first N at which the command succeeds. Every N must end in a clean failure (exit 1..6
# with one "error: ..." line on stderr, no crash, hang or sanitizer report) or in success;
# afterwards, without faults, every database passes integrity_check, the audit chain
# verifies and the workspace still works. Writes and syncs fail from the Nth on
# (STEWARD_FAIL_MODE=after, a full or dead disk) and, separately, only the Nth (once, a
# transient error). Allocations are covered for every N up to STEWARD_FAULT_ALL (150), then
# at STEWARD_FAULT_SAMPLE (100) seeded random points per command (STEWARD_FAULT_SEED);
# STEWARD_FAULT_FULL=1 covers every point. Needs a test build (meson -Dtest_build=true).
#
# The workspaces live in /dev/shm when TMPDIR is not set: every command fsyncs audit.db,
# which on a disk costs more than the rest of the run, and the fault points are counted by
# the shim whatever the file system.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	TMPDIR=/dev/shm
fi
. "$(dirname "$0")/lib.sh"
require sqlite3 timeout awk
unset STEWARD_FAIL_ALLOC STEWARD_FAIL_WRITE STEWARD_FAIL_SYNC STEWARD_FAIL_MODE STEWARD_FAULT_COUNT

ALL=${STEWARD_FAULT_ALL:-150}
SAMPLE=${STEWARD_FAULT_SAMPLE:-100}
SEED=${STEWARD_FAULT_SEED:-4242}
if [ -n "${STEWARD_FAULT_FULL:-}" ]; then
	ALL=100000000
	SAMPLE=0
fi
EX=$STEWARD_SRC/examples
W=$TMP/w # every point runs on a fresh copy of a template here (steward.yaml names its paths)
SUBJECT=user.contact.email:ann@example.com
PERIOD=$(date -u +%Y-%m)
LIMIT=60 # seconds: a command still running then counts as hung
started=$(date +%s)

# ---- templates: the state each command starts from ----
ws() { "$STEWARD" --home "$W" "$@"; }
run "$STEWARD" init "$W"
[ "$RC" -eq 0 ] || { echo "Bail out! steward init failed"; cat "$ERR"; exit 99; }
run env STEWARD_FAULT_COUNT=1 "$STEWARD" --home "$W" audit verify
if ! grep -q '^steward-fault: ' "$ERR"; then
	echo "1..0 # SKIP not a test build (configure with -Dtest_build=true)"
	exit 77
fi
sqlite3 "$W/targets.db" <<'SQL'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, full_name TEXT, phone TEXT);
INSERT INTO users VALUES (1, 'ann@example.com', 'Ann A', NULL), (2, 'bob@example.com', 'Bob B', NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, course_id INTEGER,
                     billing_email TEXT, amount REAL);
INSERT INTO orders VALUES (1, 1, 7, 'ann@example.com', 10), (2, 2, 8, 'bob@example.com', 20);
SQL
write_config "$W" <<YAML
version: 1
targets:
  prod.users: "sqlite:$W/targets.db?table=users"
  prod.orders: "sqlite:$W/targets.db?table=orders"
YAML
cp -a "$W" "$TMP/tpl-load"
expect_exit 0 ws catalog load "$EX/catalog"
load_line=$(tail -n 1 "$OUT")
cp "$OUT" "$TMP/load.out"
expect_stdout_line 'catalog: 31 datasets (32 versions)'
expect_exit 0 ws key init
cp -a "$W" "$TMP/tpl-ingest"
cp -a "$W" "$TMP/tpl-new"
expect_exit_stdin 0 "$EX/events.jsonl" ws ingest 'events.*' --label event_type
cp "$OUT" "$TMP/ingest.expected"
rm -rf "$W" && cp -a "$TMP/tpl-new" "$W"
expect_exit 0 ws catalog load "$EX/catalog"
load_new=$(head -n 1 "$TMP/load.out")
load_unchanged=$(head -n 1 "$OUT")
expect_stdout_contains '0 new, 0 changed, 15 unchanged'
rm -rf "$W" && cp -a "$TMP/tpl-new" "$W"
expect_exit 0 ws request new erase --subject "$SUBJECT"
ID=$(cat "$OUT")
cp -a "$W" "$TMP/tpl-run"
expect_exit 0 ws request run "$ID"
expect_stdout_contains 'completed'
erased="$(sqlite3 "$W/targets.db" 'SELECT group_concat(id) FROM users; SELECT quote(user_id) FROM orders WHERE id = 1' | tr '\n' ' ')"
expect_equal '2 NULL ' "$erased" 'the request erased the subject from the target'
cp -a "$W" "$TMP/tpl-verify"
cp -a "$W" "$TMP/tpl-report"

# ---- one point ----

# cmd NAME [VAR=VALUE...]: runs the command under test on $W with the environment additions,
# under a time limit; stdout in $OUT, stderr in $ERR, status in $RC.
cmd() {
	local name="$1"
	shift
	RC=0
	case $name in
	load) env "$@" timeout -k 5 $LIMIT "$STEWARD" --home "$W" catalog load "$EX/catalog" </dev/null ;;
	ingest) env "$@" timeout -k 5 $LIMIT "$STEWARD" --home "$W" ingest 'events.*' --label event_type \
		<"$EX/events.jsonl" ;;
	new) env "$@" timeout -k 5 $LIMIT "$STEWARD" --home "$W" request new erase --subject "$SUBJECT" \
		</dev/null ;;
	run) env "$@" timeout -k 5 $LIMIT "$STEWARD" --home "$W" request run "$ID" </dev/null ;;
	verify) env "$@" timeout -k 5 $LIMIT "$STEWARD" --home "$W" audit verify </dev/null ;;
	report) env "$@" timeout -k 5 $LIMIT "$STEWARD" --home "$W" report --period "$PERIOD" </dev/null ;;
	esac >"$OUT" 2>"$ERR" || RC=$?
}

title() {
	case $1 in
	load) echo 'catalog load' ;;
	ingest) echo 'ingest' ;;
	new) echo 'request new' ;;
	run) echo 'request run' ;;
	verify) echo 'audit verify' ;;
	report) echo 'report' ;;
	esac
}

# judge NAME: how the faulted run ended. Sets outcome (failed, findings or ok) and why (empty
# when the run ended cleanly, else what was wrong).
judge() {
	local nerr summary_re='^$'
	# ingest's summary goes to stderr too, also when the command fails after it
	[ "$1" = ingest ] && summary_re='^ingest [^ ]*: [0-9]+ records in, |^  [0-9.]+ MB in '
	why=
	outcome=failed
	if grep -qE 'Sanitizer|runtime error|==[0-9]+==|Segmentation fault|Aborted|core dumped|Assertion|stack-overflow' "$ERR"; then
		why='a sanitizer or crash report'
	fi
	case $RC in
	0) outcome=ok ;;
	[1-6]) ;;
	124 | 137) why="${why:+$why; }hung (killed after $LIMIT s)" ;;
	*) if [ "$RC" -gt 128 ]; then
		why="${why:+$why; }killed by signal $((RC - 128))"
	else
		why="${why:+$why; }exit $RC"
	fi ;;
	esac
	nerr=$(grep -c '^error: ' "$ERR")
	# When the disk keeps failing, the command's own error is followed by the audit
	# record's: both are true, and the second says the log misses this command's outcome.
	if [ "$nerr" -eq 2 ] && [ "$RC" -eq 5 ] &&
		tail -n 1 "$ERR" | grep -q '^error: cannot complete the audit record: '; then
		nerr=1
	fi
	if [ "$outcome" = ok ]; then
		[ "$nerr" -eq 0 ] || why="${why:+$why; }exit 0 with an error message"
		case $1 in
		load) grep -qFx "$load_line" "$OUT" || why="${why:+$why; }exit 0 without the full catalog" ;;
		ingest) cmp -s "$OUT" "$TMP/ingest.expected" || why="${why:+$why; }exit 0 with different output" ;;
		esac
		return
	fi
	# exit 1 without a message is a finding (records rejected, a target not done)
	if [ "$RC" -eq 1 ] && [ "$nerr" -eq 0 ]; then
		outcome=findings
		case $1 in
		ingest | run) ;;
		*) why="${why:+$why; }exit 1 without an error message" ;;
		esac
		return
	fi
	if [ "$nerr" -ne 1 ]; then
		why="${why:+$why; }$nerr error lines"
	elif grep -vE '^error: ' "$ERR" | grep -qvE "$summary_re"; then
		why="${why:+$why; }more than the error line on stderr"
	elif grep '^error: ' "$ERR" | grep -qE '\(null\)|%|[^[:print:]]|: *$|^error: *$'; then
		why="${why:+$why; }a garbled message"
	fi
}

# healthy ARGS...: steward on $W without faults, under the time limit (see run).
healthy() {
	run timeout -k 5 $LIMIT "$STEWARD" --home "$W" "$@"
}

# after NAME: without faults, the databases are intact, the audit chain verifies and the
# workspace still works. Sets why (empty when all is well).
after() {
	local got id
	why=
	got=$(sqlite3 "$W/.steward/catalog.db" "ATTACH '$W/.steward/audit.db' AS a;
		ATTACH '$W/targets.db' AS t; PRAGMA main.integrity_check; PRAGMA a.integrity_check;
		PRAGMA t.integrity_check" 2>&1 | tr '\n' ' ')
	[ "$got" = 'ok ok ok ' ] || why="integrity_check: $got"
	healthy audit verify
	[ "$RC" -eq 0 ] || why="${why:+$why; }audit verify exits $RC: $(head -n 3 "$ERR" "$OUT" | tr '\n' ' ')"
	case $1 in
	load)
		# a load applies whole or not at all: the next one finds every file new or unchanged
		healthy catalog load "$EX/catalog"
		got=$(head -n 1 "$OUT")
		if [ "$RC" -ne 0 ] || ! grep -qFx "$load_line" "$OUT"; then
			why="${why:+$why; }a load afterwards: exit $RC, $(tail -n 1 "$OUT") $(head -n 2 "$ERR")"
		elif [ "$outcome" = ok ] && [ "$got" != "$load_unchanged" ]; then
			why="${why:+$why; }exit 0, yet a load afterwards says: $got"
		elif [ "$got" != "$load_unchanged" ] && [ "$got" != "$load_new" ]; then
			why="${why:+$why; }applied in part: a load afterwards says: $got"
		fi ;;
	ingest)
		STDIN=$EX/events.jsonl
		healthy ingest 'events.*' --label event_type
		STDIN=
		[ "$RC" -eq 0 ] && cmp -s "$OUT" "$TMP/ingest.expected" ||
			why="${why:+$why; }an ingest afterwards: exit $RC, $(head -n 2 "$ERR")" ;;
	new)
		healthy request new erase --subject "$SUBJECT"
		id=$(cat "$OUT")
		healthy request run "$id"
		[ "$RC" -eq 0 ] && grep -q completed "$OUT" ||
			why="${why:+$why; }a new request run afterwards: exit $RC, $(head -n 2 "$ERR" "$OUT" | tr '\n' ' ')" ;;
	run)
		got=$(sqlite3 "$W/targets.db" 'SELECT group_concat(id) FROM users; SELECT quote(user_id) FROM orders WHERE id = 1' | tr '\n' ' ')
		[ "$outcome" != ok ] || [ "$got" = '2 NULL ' ] ||
			why="${why:+$why; }exit 0, yet the subject is not erased: $got"
		healthy request run "$ID"
		[ "$RC" -eq 0 ] && grep -q completed "$OUT" ||
			why="${why:+$why; }a request run afterwards: exit $RC, $(head -n 2 "$ERR" "$OUT" | tr '\n' ' ')"
		got=$(sqlite3 "$W/targets.db" 'SELECT group_concat(id) FROM users; SELECT quote(user_id) FROM orders WHERE id = 1' | tr '\n' ' ')
		[ "$got" = '2 NULL ' ] || why="${why:+$why; }the subject is not erased afterwards: $got" ;;
	verify) ;; # the audit verify above
	report)
		healthy report --period "$PERIOD"
		[ "$RC" -eq 0 ] && [ -s "$OUT" ] || why="${why:+$why; }a report afterwards: exit $RC, $(head -n 2 "$ERR")" ;;
	esac
}

# points TOTAL: the N to cover for a kind with TOTAL fault points: every N up to $ALL, then
# $SAMPLE seeded random ones, then TOTAL itself and TOTAL + 1 (where the command succeeds).
points() {
	local total="$1" upto
	upto=$((total < ALL ? total : ALL))
	[ "$upto" -gt 0 ] && seq 1 "$upto"
	if [ "$total" -gt $((upto + 1)) ] && [ "$SAMPLE" -gt 0 ]; then
		awk -v lo="$upto" -v hi="$total" -v k="$SAMPLE" -v seed="$((SEED + total))" 'BEGIN {
			srand(seed); n = hi - lo - 1; if (k > n) k = n
			while (c < k) { x = lo + 1 + int(rand() * n); if (!(x in s)) { s[x]; c++ } }
			for (x in s) print x }' | sort -n
	fi
	[ "$total" -gt "$upto" ] && echo "$total"
	echo $((total + 1))
}

# first_alloc NAME: the first N at which STEWARD_FAIL_ALLOC=N lets the command succeed,
# found by doubling, then bisection (allocations fail from the Nth on, so success is monotonic).
first_alloc() {
	local name="$1" lo=0 hi=1 mid
	while :; do
		rm -rf "$W" && cp -a "$TMP/tpl-$name" "$W"
		cmd "$name" STEWARD_FAIL_ALLOC=$hi
		[ "$RC" -eq 0 ] && break
		lo=$hi
		hi=$((hi * 2))
		[ "$hi" -gt 10000000 ] && { echo 0; return; }
	done
	while [ $((hi - lo)) -gt 1 ]; do
		mid=$(((lo + hi) / 2))
		rm -rf "$W" && cp -a "$TMP/tpl-$name" "$W"
		cmd "$name" STEWARD_FAIL_ALLOC=$mid
		if [ "$RC" -eq 0 ]; then hi=$mid; else lo=$mid; fi
	done
	echo "$hi"
}

# io_count NAME: "writes syncs" of a fault-free run, from STEWARD_FAULT_COUNT.
io_count() {
	rm -rf "$W" && cp -a "$TMP/tpl-$1" "$W"
	cmd "$1" STEWARD_FAULT_COUNT=1
	sed -n 's/^steward-fault: writes=\([0-9]*\) syncs=\([0-9]*\)$/\1 \2/p' "$ERR" | tail -n 1
}

summary=$TMP/summary
: >"$summary"
total_points=0
total_problems=0

# sweep NAME KIND MODE TOTAL: every point of one command and kind: one check, a summary row.
sweep() {
	local name="$1" kind="$2" mode="$3" total="$4" var covered=0 failed=0 ok=0 findings=0
	local problems=0 details='' desc last_ok=no t0 n bad rc last
	t0=$(date +%s)
	case $kind in
	alloc) var=STEWARD_FAIL_ALLOC ;;
	write) var=STEWARD_FAIL_WRITE ;;
	sync) var=STEWARD_FAIL_SYNC ;;
	esac
	for n in $(points "$total"); do
		[ "$mode" = once ] && [ "$n" -gt "$total" ] && continue
		rm -rf "$W" && cp -a "$TMP/tpl-$name" "$W"
		cmd "$name" "$var=$n" STEWARD_FAIL_MODE="$mode"
		judge "$name"
		bad=$why
		rc=$RC
		cp "$ERR" "$TMP/fault.err" # after() runs more commands
		case $outcome in
		ok) ok=$((ok + 1)) ;;
		findings) findings=$((findings + 1)) ;;
		*) failed=$((failed + 1)) ;;
		esac
		[ "$n" -gt "$total" ] && [ "$outcome" = ok ] && last_ok=yes
		[ -n "${STEWARD_FAULT_VERBOSE:-}" ] && note "$name $kind $mode N=$n: exit $rc $(head -n 1 "$ERR")"
		after "$name"
		if [ -n "$bad$why" ]; then
			problems=$((problems + 1))
			printf '%s, %s=N (%s): %s\n' "$(title "$name")" "$var" "$mode" \
				"${bad:-exit $rc}${why:+; afterwards: $why}" >>"$TMP/problems"
			[ "$problems" -le 5 ] && details="$details
$var=$n (mode $mode): exit $rc${bad:+, $bad}${why:+; afterwards: $why}
  stderr: $(head -n 4 "$TMP/fault.err" | tr '\n' '|')"
		fi
		covered=$((covered + 1))
	done
	last=$((total + 1))
	[ "$mode" = once ] && last=$total
	desc="$(title "$name"), $var=N ($mode), N in 1..$last: $covered covered, each ends cleanly"
	if [ "$problems" -eq 0 ]; then
		pass "$desc"
	else
		fail "$desc" "$problems points with problems (first 5):$details"
	fi
	[ "$mode" = once ] || [ "$last_ok" = yes ] ||
		note "$(title "$name") $kind: N=$((total + 1)) did not succeed"
	printf '%-13s %-5s %-5s %6d %7d %6d %8d %8d %8d %5ds\n' "$(title "$name")" "$kind" "$mode" \
		"$total" "$covered" "$failed" "$findings" "$ok" "$problems" $(($(date +%s) - t0)) >>"$summary"
	total_points=$((total_points + covered))
	total_problems=$((total_problems + problems))
}

for name in load ingest new run verify report; do
	first=$(first_alloc "$name")
	# shellcheck disable=SC2046 # two numbers
	set -- $(io_count "$name")
	if [ "$first" -eq 0 ] || [ $# -ne 2 ]; then
		fail "$(title "$name"): count its fault points" "first success at STEWARD_FAIL_ALLOC=$first; counts: $*"
		continue
	fi
	note "$(title "$name"): $((first - 1)) allocations, $1 SQLite writes, $2 syncs"
	sweep "$name" alloc after $((first - 1))
	sweep "$name" write after "$1"
	sweep "$name" write once "$1"
	sweep "$name" sync after "$2"
	sweep "$name" sync once "$2"
done

note "fault-injection points covered. calls: allocations, SQLite writes or syncs the command makes"
note "without faults; covered: the N run (allocations: every N up to $ALL, then $SAMPLE sampled with"
note "seed $SEED, then N = calls; mode after: also N = calls + 1, past the last); failed: exit 1..6"
note "with an error message; findings: exit 1 without one (records rejected, a target not done); ok: exit 0."
note "$(printf '%-13s %-5s %-5s %6s %7s %6s %8s %8s %8s %6s' command kind mode calls covered failed findings ok problems time)"
while IFS= read -r line; do
	note "$line"
done <"$summary"
if [ -s "$TMP/problems" ]; then
	note "problems, by kind (count, command, what):"
	sort "$TMP/problems" | uniq -c | while IFS= read -r line; do
		note "$line"
	done
fi
note "fault injection: $total_points points covered, $total_problems with problems, $(($(date +%s) - started)) s"
done_testing
