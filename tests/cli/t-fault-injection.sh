#!/bin/sh
# Fault injection: one representative command per module (catalog load, ingest, request new,
# request run, audit verify, report) with its Nth allocation (STEWARD_FAIL_ALLOC), Nth SQLite
# write (STEWARD_FAIL_WRITE) or Nth SQLite sync (STEWARD_FAIL_SYNC) failing.
#
# usage: t-fault-injection.sh [SHARD...]   (none: every command and kind)
#   SHARD is COMMAND or COMMAND-KIND, optionally with :FROM-TO (only the N in that range);
#   COMMAND is load, ingest, new, run, verify or report; KIND is alloc, write, sync or io
#   (write and sync). tests/cli/meson.build registers one test per shard.
#
# Every N must end in a clean failure (exit 1..6 with one "error: ..." line on stderr, no
# crash or sanitizer report) or in success with the right result; this is judged on every
# point, in the shell, without starting another process. Writes and syncs fail from the Nth
# on (STEWARD_FAIL_MODE=after, a full or dead disk) and, separately, only the Nth (once, a
# transient error). Allocations: every N up to STEWARD_FAULT_ALL (150), then
# STEWARD_FAULT_SAMPLE (110) seeded random points (STEWARD_FAULT_SEED), then the last ones.
#
# The state afterwards: every point's workspace is kept and, in batches, one sqlite3 process
# runs integrity_check on its three databases (and, for load, checks that the catalog is
# either empty or whole). The expensive checks (audit verify and a healthy re-run of the
# command without faults) run on a seeded sample, one point in STEWARD_FAULT_CHECK_EVERY (8),
# on the first and last points, and on every point whose run looked wrong.
# STEWARD_FAULT_FULL=1 covers every point and runs every check on each. A hang is caught by
# meson's test timeout. Needs a test build (meson -Dtest_build=true).
#
# The workspaces live in /dev/shm when TMPDIR is not set: every command fsyncs audit.db,
# which on a disk costs more than the rest of the run, and the fault points are counted by
# the shim whatever the file system.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	TMPDIR=/dev/shm
fi
. "$(dirname "$0")/lib.sh"
require sqlite3 awk
unset STEWARD_FAIL_ALLOC STEWARD_FAIL_WRITE STEWARD_FAIL_SYNC STEWARD_FAIL_MODE STEWARD_FAULT_COUNT

ALL=${STEWARD_FAULT_ALL:-150}
SAMPLE=${STEWARD_FAULT_SAMPLE:-110}
SEED=${STEWARD_FAULT_SEED:-4242}
EVERY=${STEWARD_FAULT_CHECK_EVERY:-8}
BATCH=40 # kept workspaces per integrity_check batch
if [ -n "${STEWARD_FAULT_FULL:-}" ]; then
	ALL=100000000
	SAMPLE=0
	EVERY=1
fi
for v in "$ALL" "$SAMPLE" "$SEED" "$EVERY"; do
	case $v in '' | *[!0-9]*) echo "Bail out! STEWARD_FAULT_* must be numbers"; exit 99 ;; esac
done
[ "$EVERY" -ge 1 ] || EVERY=1

# ---- the shards to run: "COMMAND KIND FROM TO" lines ----
shards=$TMP/shards
: >"$shards"
[ $# -gt 0 ] || set -- load ingest new run verify report
shard_names="$*"
for spec in "$@"; do
	range=
	case $spec in *:*) range=${spec#*:} spec=${spec%%:*} ;; esac
	name=${spec%%-*}
	kinds=alloc,write,sync
	case $spec in *-*) kinds=${spec#*-} ;; esac
	[ "$kinds" = io ] && kinds=write,sync
	from=1 to=100000000
	if [ -n "$range" ]; then
		from=${range%-*} to=${range#*-}
		[ -n "$to" ] || to=100000000
	fi
	case $name in load | ingest | new | run | verify | report) ;; *) name= ;; esac
	case $kinds in alloc | write | sync | write,sync | alloc,write,sync) ;; *) name= ;; esac
	case $from$to in '' | *[!0-9]*) name= ;; esac
	[ -n "$name" ] || {
		echo "Bail out! unknown shard '$spec${range:+:$range}' (COMMAND[-alloc|-write|-sync|-io][:FROM-TO])"
		exit 99
	}
	for kind in $(echo "$kinds" | tr , ' '); do
		echo "$name $kind $from $to" >>"$shards"
	done
done

EX=$STEWARD_SRC/examples
W=$TMP/w # every point runs on a fresh copy of a template here (steward.yaml names its paths)
SUBJECT=user.contact.email:ann@example.com
PERIOD=$(date -u +%Y-%m)

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
# what a whole load leaves in catalog.db (the batched check: empty or whole, never in part)
load_rows=$(sqlite3 "$W/.steward/catalog.db" 'SELECT (SELECT count(*) FROM datasets) || " " || (SELECT count(*) FROM files)')
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
rm -rf "$W"

# ---- one point ----

# cmd NAME [VAR=VALUE...]: runs the command under test on $W with the environment additions
# (through eval: `env` would cost a process a point); stdout in $OUT, stderr in $ERR, status in
# $RC. No time limit: meson's test timeout catches a hang.
cmd() {
	local name="$1" vars=
	shift
	for a in "$@"; do
		vars="$vars ${a%%=*}=${a#*=}" # the values are numbers and words
	done
	RC=0
	case $name in
	load) eval "$vars \"\$STEWARD\" --home \"\$W\" catalog load \"\$EX/catalog\"" </dev/null ;;
	ingest) eval "$vars \"\$STEWARD\" --home \"\$W\" ingest 'events.*' --label event_type" <"$EX/events.jsonl" ;;
	new) eval "$vars \"\$STEWARD\" --home \"\$W\" request new erase --subject \"\$SUBJECT\"" </dev/null ;;
	run) eval "$vars \"\$STEWARD\" --home \"\$W\" request run \"\$ID\"" </dev/null ;;
	verify) eval "$vars \"\$STEWARD\" --home \"\$W\" audit verify" </dev/null ;;
	report) eval "$vars \"\$STEWARD\" --home \"\$W\" report --period \"\$PERIOD\"" </dev/null ;;
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

# has_line FILE LINE: FILE has LINE, exactly (in the shell: no process).
has_line() {
	local l
	while IFS= read -r l; do
		[ "$l" = "$2" ] && return 0
	done <"$1"
	return 1
}

# judge NAME: how the faulted run ended, read in the shell (no process but cmp on a success
# of ingest). Sets outcome (failed, findings or ok) and why (empty when the run ended
# cleanly, else what was wrong).
judge() {
	local nerr=0 crash= other= garbled= last= l t
	why=
	err1= # the first stderr line, for the report of a point the batched check finds wrong
	outcome=failed
	while IFS= read -r l || [ -n "$l" ]; do
		last=$l
		[ -n "$err1" ] || err1=$l
		case $l in
		*Sanitizer* | *'runtime error'* | *==[0-9]*==* | *'Segmentation fault'* | *Aborted* | \
			*'core dumped'* | *Assertion* | *stack-overflow*) crash=1 ;;
		esac
		case $l in
		'error: '*)
			nerr=$((nerr + 1))
			t=${l%"${l##*[! ]}"} # without trailing blanks
			# (control characters: the shell's classes are per byte, and UTF-8 is fine)
			case $l in *'(null)'* | *%* | *[[:cntrl:]]*) garbled=1 ;; esac
			case $t in *:) garbled=1 ;; esac ;;
		# ingest's summary goes to stderr too, also when the command fails after it
		'ingest '*': '[0-9]*' records in, '* | '  '[0-9.]*' MB in '*) [ "$1" = ingest ] || other=1 ;;
		*) other=1 ;;
		esac
	done <"$ERR"
	[ -z "$crash" ] || why='a sanitizer or crash report'
	case $RC in
	0) outcome=ok ;;
	[1-6]) ;;
	*) if [ "$RC" -gt 128 ]; then
		why="${why:+$why; }killed by signal $((RC - 128))"
	else
		why="${why:+$why; }exit $RC"
	fi ;;
	esac
	# When the disk keeps failing, the command's own error is followed by the audit
	# record's: both are true, and the second says the log misses this command's outcome.
	if [ "$nerr" -eq 2 ] && [ "$RC" -eq 5 ]; then
		case $last in 'error: cannot complete the audit record: '*) nerr=1 ;; esac
	fi
	if [ "$outcome" = ok ]; then
		[ "$nerr" -eq 0 ] || why="${why:+$why; }exit 0 with an error message"
		case $1 in
		load) has_line "$OUT" "$load_line" || why="${why:+$why; }exit 0 without the full catalog" ;;
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
	elif [ -n "$other" ]; then
		why="${why:+$why; }more than the error line on stderr"
	elif [ -n "$garbled" ]; then
		why="${why:+$why; }a garbled message"
	fi
}

# healthy ARGS...: steward on $W without faults (see run).
healthy() {
	run "$STEWARD" --home "$W" "$@"
}

# after NAME: without faults, the databases are intact, the audit chain verifies and the
# workspace still works. Sets why (empty when all is well).
after() {
	local got id
	why=
	got=$(sqlite3 "$W/.steward/catalog.db" "ATTACH '$W/.steward/audit.db' AS a;
		ATTACH '$W/targets.db' AS t; SELECT group_concat(integrity_check, ' ') FROM
		(SELECT * FROM main.pragma_integrity_check UNION ALL SELECT * FROM a.pragma_integrity_check
		 UNION ALL SELECT * FROM t.pragma_integrity_check)" 2>&1)
	[ "$got" = 'ok ok ok' ] || why="integrity_check: $got"
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

# sampled N TOTAL KEY: the point gets the full after-check: one in $EVERY by a seeded hash of
# N and the shard (KEY), and always the first and the last two.
sampled() {
	[ "$1" -eq 1 ] || [ "$1" -ge "$2" ] && return 0
	[ $(((($1 + $3) * 2654435761 + SEED * 40503) % 1000003 % EVERY)) -eq 0 ]
}

# first_alloc NAME: the first N at which STEWARD_FAIL_ALLOC=N lets the command succeed,
# found by doubling, then bisection (allocations fail from the Nth on, so success is monotonic).
first_alloc() {
	local name="$1" lo=0 hi=1 mid
	while :; do
		fresh "$TMP/tpl-$name"
		cmd "$name" STEWARD_FAIL_ALLOC=$hi
		[ "$RC" -eq 0 ] && break
		lo=$hi
		hi=$((hi * 2))
		[ "$hi" -gt 10000000 ] && { echo 0; return; }
	done
	while [ $((hi - lo)) -gt 1 ]; do
		mid=$(((lo + hi) / 2))
		fresh "$TMP/tpl-$name"
		cmd "$name" STEWARD_FAIL_ALLOC=$mid
		if [ "$RC" -eq 0 ]; then hi=$mid; else lo=$mid; fi
	done
	echo "$hi"
}

# io_count NAME: "writes syncs" of a fault-free run, from STEWARD_FAULT_COUNT.
io_count() {
	fresh "$TMP/tpl-$1"
	cmd "$1" STEWARD_FAULT_COUNT=1
	sed -n 's/^steward-fault: writes=\([0-9]*\) syncs=\([0-9]*\)$/\1 \2/p' "$ERR" | tail -n 1
}

# ---- fresh workspaces ----
# tests/helpers/fault_ws (built by meson) moves or removes the last point's workspace and
# copies the template in its place without starting a process; without it, mv/rm and cp do.
: "${STEWARD_FAULT_WS:=$(dirname "$(dirname "$STEWARD")")/tests/cli/fault_ws}"
if [ -x "$STEWARD_FAULT_WS" ]; then
	mkfifo "$TMP/ws.in" "$TMP/ws.out" || exit 99
	"$STEWARD_FAULT_WS" "$W" <"$TMP/ws.in" >"$TMP/ws.out" &
	exec 3>"$TMP/ws.in" 4<"$TMP/ws.out" # it ends when the script does (end of its input)
else
	note "no $STEWARD_FAULT_WS: fresh workspaces by mv, rm and cp"
	STEWARD_FAULT_WS=
fi

# ws_do REQUEST: one request to the helper (see tests/helpers/fault_ws.c).
ws_do() {
	local answer
	echo "$1" >&3
	IFS= read -r answer <&4 || answer='error: the workspace helper ended'
	[ "$answer" = ok ] || { echo "Bail out! fault_ws: $answer"; exit 99; }
}

# fresh TEMPLATE [KEEP]: $W becomes a copy of TEMPLATE; the workspace there before is moved to
# KEEP, or removed.
fresh() {
	if [ -n "$STEWARD_FAULT_WS" ]; then
		ws_do "fresh ${2:--} $1"
	else
		if [ -n "${2:-}" ]; then mv "$W" "$2" 2>/dev/null; else rm -rf "$W"; fi
		cp -a "$1" "$W"
	fi
}

# ---- the batched integrity check of the kept workspaces ----
KEEP=$TMP/keep # the workspace after point N of the current sweep is $KEEP/N
mkdir "$KEEP"
kept=
nkept=0
# a load's catalog: "ok" when empty or whole
rows="(SELECT count(*) FROM datasets) || ' ' || (SELECT count(*) FROM files)"
load_sql="SELECT CASE WHEN $rows IN ('0 0', '$load_rows') THEN 'ok' ELSE 'catalog in part: ' || $rows END;"

# check_kept NAME: one sqlite3 process checks every kept workspace (integrity_check of its
# three databases; for load, the catalog empty or whole) and removes them. A point with a
# problem is added to $TMP/bad as "N what", for sweep to report.
check_kept() {
	local n
	[ -n "$kept" ] || return 0
	for n in $kept; do
		printf '.print @ %s\n' "$n"
		printf ".open '%s/%s/.steward/catalog.db'\n" "$KEEP" "$n"
		printf "ATTACH '%s/%s/.steward/audit.db' AS a;\n" "$KEEP" "$n"
		printf "ATTACH '%s/%s/targets.db' AS t;\n" "$KEEP" "$n"
		printf 'PRAGMA main.integrity_check;\nPRAGMA a.integrity_check;\nPRAGMA t.integrity_check;\n'
		[ "$1" = load ] && printf '%s\n' "$load_sql"
	done | sqlite3 -batch 2>&1 | awk -v want="$([ "$1" = load ] && echo 4 || echo 3)" '
		function flush() { if (n != "" && (got != want || msg != "")) print n, "integrity_check: " (msg == "" ? "missing lines" : msg) }
		/^@ / { flush(); n = $2; got = 0; msg = ""; next }
		$0 == "ok" { got++; next }
		{ msg = msg (msg == "" ? "" : " | ") $0 }
		END { flush() }' >>"$TMP/bad"
	for n in $kept; do
		if [ -n "$STEWARD_FAULT_WS" ]; then ws_do "remove $KEEP/$n"; else rm -rf "${KEEP:?}/$n"; fi
	done
	kept=
	nkept=0
}

summary=$TMP/summary
: >"$summary"
keep_last=
: >"$TMP/problems"
total_points=0
total_problems=0
total_after=0

# report_point N RC BAD WHY ERRFILE: one point with a problem, counted and described.
report_point() {
	problems=$((problems + 1))
	printf '%s, %s=N (%s): %s\n' "$(title "$name")" "$var" "$mode" \
		"${3:-exit $2}${4:+; afterwards: $4}" >>"$TMP/problems"
	[ "$problems" -le 5 ] && details="$details
$var=$1 (mode $mode): exit $2${3:+, $3}${4:+; afterwards: $4}
  stderr: $(head -n 4 "$5" | tr '\n' '|')"
}

# sweep NAME KIND MODE TOTAL FROM TO: the points of one command and kind: one check, a
# summary row.
sweep() {
	local kind="$2" total="$4" from="$5" to="$6" covered=0 failed=0 ok=0 findings=0
	local desc last_ok=no t0 n bad rc last key nafter=0 line
	name=$1 mode=$3 problems=0 details=
	t0=$(date +%s)
	case $kind in
	alloc) var=STEWARD_FAIL_ALLOC key=0 ;;
	write) var=STEWARD_FAIL_WRITE key=1000 ;;
	sync) var=STEWARD_FAIL_SYNC key=2000 ;;
	esac
	[ "$mode" = once ] && key=$((key + 500))
	: >"$TMP/bad"
	: >"$TMP/kept-info"
	for n in $(points "$total"); do
		[ "$mode" = once ] && [ "$n" -gt "$total" ] && continue
		[ "$n" -ge "$from" ] && [ "$n" -le "$to" ] || continue
		if [ "$nkept" -ge "$BATCH" ]; then
			fresh "$TMP/tpl-$name" $keep_last
			keep_last=
			check_kept "$name"
		fi
		fresh "$TMP/tpl-$name" $keep_last
		keep_last=
		cmd "$name" "$var=$n" STEWARD_FAIL_MODE="$mode"
		judge "$name"
		bad=$why
		rc=$RC
		case $outcome in
		ok) ok=$((ok + 1)) ;;
		findings) findings=$((findings + 1)) ;;
		*) failed=$((failed + 1)) ;;
		esac
		[ "$n" -gt "$total" ] && [ "$outcome" = ok ] && last_ok=yes
		[ -n "${STEWARD_FAULT_VERBOSE:-}" ] && note "$name $kind $mode N=$n: exit $rc $(head -n 1 "$ERR")"
		why=
		if [ -n "$bad" ] || sampled "$n" "$total" "$key"; then
			cp "$ERR" "$TMP/fault.err" # after() runs more commands
			after "$name"
			nafter=$((nafter + 1))
			[ -z "$bad$why" ] || report_point "$n" "$rc" "$bad" "$why" "$TMP/fault.err"
		else
			keep_last=$KEEP/$n # moved there by the next fresh
			kept="$kept $n"
			echo "$n $rc $err1" >>"$TMP/kept-info"
			nkept=$((nkept + 1))
		fi
		covered=$((covered + 1))
	done
	fresh "$TMP/tpl-$name" $keep_last
	keep_last=
	check_kept "$name"
	while read -r n line; do
		while read -r k rc err1; do
			[ "$k" = "$n" ] && break
		done <"$TMP/kept-info"
		echo "$err1" >"$TMP/fault.err"
		report_point "$n" "$rc" "" "$line" "$TMP/fault.err"
	done <"$TMP/bad"
	last=$((total + 1))
	[ "$mode" = once ] && last=$total
	[ "$to" -lt "$last" ] && last=$to
	desc="$(title "$name"), $var=N ($mode), N in $from..$last: $covered covered, each ends cleanly"
	if [ "$problems" -eq 0 ]; then
		pass "$desc"
	else
		fail "$desc" "$problems points with problems (first 5):$details"
	fi
	[ "$mode" = once ] || [ "$last_ok" = yes ] || [ "$to" -le "$total" ] ||
		note "$(title "$name") $kind: N=$((total + 1)) did not succeed"
	printf '%-13s %-5s %-5s %6d %7d %6d %8d %8d %6d %8d %5ds\n' "$(title "$name")" "$kind" "$mode" \
		"$total" "$covered" "$failed" "$findings" "$ok" "$nafter" "$problems" $(($(date +%s) - t0)) >>"$summary"
	total_points=$((total_points + covered))
	total_problems=$((total_problems + problems))
	total_after=$((total_after + nafter))
}

started=$(date +%s)
counted=
while read -r name kind from to; do
	case " $counted " in
	*" $name "*) ;;
	*)
		# only what this shard needs: the allocations take about 2 log2(calls) runs to count
		allocs=? writes=? syncs=?
		if grep -q "^$name alloc " "$shards"; then
			first=$(first_alloc "$name")
			[ "$first" -gt 0 ] || {
				fail "$(title "$name"): count its allocations" "no success up to STEWARD_FAIL_ALLOC=10000000"
				continue
			}
			allocs=$((first - 1))
		fi
		if grep -qE "^$name (write|sync) " "$shards"; then
			# shellcheck disable=SC2046 # two numbers
			set -- $(io_count "$name")
			[ $# -eq 2 ] || {
				fail "$(title "$name"): count its writes and syncs" "STEWARD_FAULT_COUNT=1 printed: $*"
				continue
			}
			writes=$1 syncs=$2
		fi
		counted="$counted $name"
		note "$(title "$name"): $allocs allocations, $writes SQLite writes, $syncs syncs" ;;
	esac
	case $kind in
	alloc) sweep "$name" alloc after "$allocs" "$from" "$to" ;;
	write)
		sweep "$name" write after "$writes" "$from" "$to"
		sweep "$name" write once "$writes" "$from" "$to" ;;
	sync)
		sweep "$name" sync after "$syncs" "$from" "$to"
		sweep "$name" sync once "$syncs" "$from" "$to" ;;
	esac
done <"$shards"

note "fault-injection points covered. calls: allocations, SQLite writes or syncs the command makes"
note "without faults; covered: the N run (allocations: every N up to $ALL, then $SAMPLE sampled with"
note "seed $SEED, then N = calls; mode after: also N = calls + 1, past the last); failed: exit 1..6"
note "with an error message; findings: exit 1 without one (records rejected, a target not done); ok: exit 0;"
note "after: points given audit verify and a healthy re-run (1 in $EVERY, the first and last, any that looked"
note "wrong); every point's databases pass integrity_check."
note "$(printf '%-13s %-5s %-5s %6s %7s %6s %8s %8s %6s %8s %6s' command kind mode calls covered failed findings ok after problems time)"
while IFS= read -r line; do
	note "$line"
done <"$summary"
if [ -s "$TMP/problems" ]; then
	note "problems, by kind (count, command, what):"
	sort "$TMP/problems" | uniq -c | while IFS= read -r line; do
		note "$line"
	done
fi
note "fault injection $shard_names: $total_points points covered ($total_after fully re-checked), $total_problems with problems, $(($(date +%s) - started)) s"
done_testing
