#!/bin/sh
# Crash loop: SIGKILL `catalog load`, `ingest` and `request run` mid-way and check after every
# kill that nothing is damaged or half done:
#   - catalog.db, audit.db and the request's SQLite target pass PRAGMA integrity_check;
#   - `audit verify` passes, and a killed command that had begun its audit record is chained
#     by the next command as "interrupted before it ended", exactly once;
#   - load: the catalog is either entirely at the state before the load or entirely at the
#     state after it (both from un-killed runs; compared in SQL against snapshots of both);
#   - ingest: the output and the rejects written so far are prefixes of an un-killed run's;
#   - request run: every SQLite table and JSON-lines file holds the subject's rows either all
#     or none (per table, per file), a second, un-killed run completes the request, and then
#     exactly the subject's rows are gone and every other row is byte for byte as it was; no
#     temporary file is left in the JSON-lines directory; each target is recorded done once.
#     The HTTP endpoint may have been called twice for one target (a kill between its answer
#     and the record, as docs/audit.md says); such duplicates are counted, not failed.
#
# usage: t-crash-loop.sh [load|ingest|request]...   (none: all three; meson runs one each)
#
# Environment:
#   CRASH_SEED   the seed of the kill points (default 20261122); printed, to reproduce a
#                failure: the failing check names the seed, the command and the iteration
#   CRASH_KILLS  the kills to land in all three (default 110: 40 loads, 40 ingests, 30
#                request runs)
#
# Where a kill lands: ingest reads its input from a fifo the script holds open; the kill
# comes once a seeded number of bytes has been written to it, so the command cannot have
# ended (every fourth kill comes right after the end of the input instead, and may miss).
# load and request run are killed after a seeded fraction of a window that starts at an
# un-killed run's duration and shrinks by a quarter whenever a kill comes after the command
# ended. Either way a kill that comes too late is counted as not landed (its run must still
# have succeeded) and the next seeded point is tried, up to three times the kills wanted;
# the delay only decides where a kill lands, never whether a check passes. Each phase prints
# how many kills landed; the test fails if fewer than wanted did.
. "$(dirname "$0")/lib.sh"
require sqlite3 python3 jq cmp awk mkfifo

SEED=${CRASH_SEED:-20261122}
KILLS=${CRASH_KILLS:-110}
case $SEED in '' | *[!0-9]*) echo "Bail out! CRASH_SEED must be a number"; exit 99 ;; esac
case $KILLS in '' | *[!0-9]*) echo "Bail out! CRASH_KILLS must be a number"; exit 99 ;; esac
[ "$KILLS" -ge 3 ] || KILLS=3
N_LOAD=$((KILLS * 4 / 11))
N_INGEST=$((KILLS * 4 / 11))
N_REQ=$((KILLS - N_LOAD - N_INGEST))
EVENTS=25000 # ingest's input: 25,000 generated events, 13 MB
[ $# -gt 0 ] || set -- load ingest request
for spec in "$@"; do
	case $spec in
	load | ingest | request | load:[1-9]/[1-9] | ingest:[1-9]/[1-9] | request:[1-9]/[1-9]) ;;
	*) echo "Bail out! unknown phase '$spec' (load, ingest or request, optionally :PART/PARTS)"; exit 99 ;;
	esac
done
note "CRASH_SEED=$SEED CRASH_KILLS=$KILLS: $N_LOAD loads, $N_INGEST ingests, $N_REQ request runs to kill; this run: $*"

case $STEWARD in /*) ;; *) STEWARD=$(pwd)/$STEWARD ;; esac # the loops run in $TMP
cd "$TMP" || exit 99

# ---- helpers ----

# now_ms: a monotonic-enough clock in milliseconds (for the notes and the kill window only).
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# fractions KEY N: N seeded numbers in [0, 1000000), one a line, for the kills of one phase.
fractions() {
	awk -v seed="$((SEED % 1000000007 + $1))" -v n="$2" \
		'BEGIN { srand(seed); for (i = 0; i < n; i++) printf "%d\n", int(rand() * 1000000) }'
}

# delay_for MILLIONTHS MS: that fraction of MS milliseconds, in seconds for sleep(1).
delay_for() {
	_us=$(($1 * $2 / 1000))
	printf '%d.%06d' $((_us / 1000000)) $((_us % 1000000))
}

# shrink MS: a kill came after the command ended: the next ones come in a window a quarter
# shorter (so, after a few misses, within every run).
shrink() { echo $(($1 * 3 / 4 + 1)); }

# crash DELAY CMD...: runs CMD in the background (stdin $CIN, stdout $COUT, default
# /dev/null), sends it SIGKILL after DELAY seconds and reaps it. Sets CPID, CRC (the exit
# status) and KILLED (1 when the signal landed before the command ended).
crash() {
	_d=$1
	shift
	"$@" <"${CIN:-/dev/null}" >"${COUT:-/dev/null}" 2>"$TMP/.crash-stderr" &
	CPID=$!
	sleep "$_d"
	reap
}
# reap: SIGKILL $CPID and wait for it; sets CRC and KILLED.
reap() {
	kill -9 "$CPID" 2>/dev/null
	CRC=0
	{ wait "$CPID" || CRC=$?; } 2>/dev/null # no "Killed" notice from the shell
	if [ "$CRC" -eq 137 ]; then KILLED=1; else KILLED=0; fi
}

# Checks inside the loops are silent when they pass (counted in $checks) and a TAP failure
# naming the reproducer ($CTX) when they do not.
checks=0
phase_failed=0
icheck() {
	_desc=$1
	shift
	if "$@" >"$TMP/.icheck" 2>&1; then
		checks=$((checks + 1))
	else
		phase_failed=$((phase_failed + 1))
		fail "$CTX: $_desc" "command failed: $(show_cmd "$@")" "$(head -n 30 "$TMP/.icheck")"
	fi
}
# iequal EXPECTED ACTUAL DESC
iequal() {
	if [ "$1" = "$2" ]; then
		checks=$((checks + 1))
	else
		phase_failed=$((phase_failed + 1))
		fail "$CTX: $3" "expected: $1" "actual:   $2"
	fi
}

# db_ok FILE: PRAGMA integrity_check says ok.
db_ok() {
	_r=$(sqlite3 "$1" 'PRAGMA integrity_check' 2>&1)
	[ "$_r" = ok ] || { printf '%s: %s\n' "$1" "$_r"; return 1; }
}

# last_seq WS: the newest audit record's seq (read before a kill).
last_seq() { sqlite3 "$1/.steward/audit.db" 'SELECT coalesce(max(seq), 0) FROM records'; }

# after_kill WS SEQ0: the checks every kill gets. Both databases are intact, `audit verify`
# passes, and the killed process ($CPID) is in the log at most once after SEQ0: as an
# interrupted error when it had left a pending record, else not as one. Counts interrupted
# records in $interrupted. One sqlite3 process for the integrity checks and the pending record.
after_kill() {
	_ws=$1 _seq0=$2
	_r=$(sqlite3 "$_ws/.steward/catalog.db" "ATTACH '$_ws/.steward/audit.db' AS a;
		SELECT (SELECT group_concat(integrity_check, ' ') FROM main.pragma_integrity_check)
		|| ' ' || (SELECT group_concat(integrity_check, ' ') FROM a.pragma_integrity_check)
		|| ' ' || (SELECT count(*) FROM a.pending WHERE pid = $CPID)" 2>&1)
	case $_r in
	'ok ok '[01]) checks=$((checks + 1)) ;;
	*) iequal 'ok ok 0 (or 1)' "$_r" 'catalog.db and audit.db pass integrity_check (and the pending records)' ;;
	esac
	_pending=${_r##* }
	icheck 'audit verify passes after the kill' "$STEWARD" --home "$_ws" audit verify
	_n=$("$STEWARD" --home "$_ws" audit log --outcome error --json 2>&1 |
		jq --argjson p "$CPID" --argjson s "$_seq0" \
			'[.[] | select(.pid == $p and .seq > $s and .reason == "interrupted before it ended")] | length' 2>&1)
	if [ "$_pending" = 1 ]; then
		iequal 1 "$_n" "the killed command's pending record is chained once as interrupted"
		interrupted=$((interrupted + 1))
	else
		iequal 0 "$_n" 'a command killed before or after its record is not chained as interrupted'
	fi
	iequal 0 "$(sqlite3 "$_ws/.steward/audit.db" 'SELECT count(*) FROM pending')" \
		'no pending record is left after the next command'
}

# start_phase: resets the counters of a phase that wants $WANT kills to land.
start_phase() {
	wanted=$WANT kills=0 iters=0 missed=0 interrupted=0 checks0=$checks phase_failed=0 tphase=$(now_ms)
}

# end_phase NAME WINDOW: one summary line for a command's kills: how many landed.
end_phase() {
	_msg="$1: $kills kills landed in $iters runs ($missed came after the command ended; $interrupted chained as interrupted${2:+; kill window $2 ms}), $((checks - checks0)) checks passed, $((($(now_ms) - tphase) / 1000)) s"
	if [ "$phase_failed" -eq 0 ] && [ "$kills" -ge "$wanted" ]; then
		pass "$_msg"
	elif [ "$kills" -lt "$wanted" ]; then
		fail "$_msg" "only $kills of the $wanted kills landed before the command ended, in $iters runs"
	else
		fail "$_msg" "$phase_failed checks failed (above)"
	fi
	summary="$summary $spec=$kills"
	landed=$((landed + kills))
}

# interrupted_in_log WS ACTION: `audit log` shows as many interrupted records of ACTION as
# there were kills after the pending record ($interrupted).
interrupted_in_log() {
	"$STEWARD" --home "$1" audit log --outcome error --action "$2" --json |
		jq -e --argjson n "$interrupted" '[.[] | select(.reason == "interrupted before it ended")] | length == $n'
}

summary=
landed=0
T0=$(now_ms)

# ==== catalog load ====
# Two generated catalogs at one path: A, and B made from A with a third of the files given a
# second version, some descriptions edited, some files removed and some added. The workspace
# starts at A and every iteration loads B; whenever a kill came too late (the catalog is at
# B), catalog.db is put back to a snapshot of A.
phase_load() {
	WL=$TMP/wl
	init_ws "$WL"
	python3 "$STEWARD_SHARED/corpus/gen_catalog.py" --datasets 600 --seed 1 --out cat-a >/dev/null
	python3 "$STEWARD_SHARED/corpus/gen_catalog.py" --datasets 200 --seed 2 --out cat-new >/dev/null
python3 - cat-a cat-new cat-b <<'PY'
import os, random, re, shutil, sys
a, new, b = sys.argv[1:4]
rnd = random.Random(7)
shutil.copytree(a, b)
files = sorted(os.path.relpath(os.path.join(d, f), b) for d, _, fs in os.walk(b) for f in fs)
for f in files:
    p, r = os.path.join(b, f), rnd.random()
    t = open(p).read()
    if r < 0.12:
        os.remove(p)
    elif r < 0.45:  # a second version: an optional field more (backward compatible)
        v2 = re.sub(r"^(name: .*)$", r"\1\nversion: 2", t, count=1, flags=re.M)
        v2 = v2.replace("\ncolumns:\n", "\ncolumns:\n  - {name: crash_extra, type: string, nullable: true, pii: none}\n", 1)
        open(p, "w").write(t + "---\n" + v2)
    elif r < 0.6:
        open(p, "w").write(t.replace("\ndescription: ", "\ndescription: Edited. ", 1))
names = set(files)
added = 0
for d, _, fs in sorted(os.walk(new)):
    for f in sorted(fs):
        rel = os.path.relpath(os.path.join(d, f), new)
        if rel not in names and added < 75:
            os.makedirs(os.path.dirname(os.path.join(b, rel)), exist_ok=True)
            shutil.copy(os.path.join(d, f), os.path.join(b, rel))
            added += 1
PY
	cp -R cat-a cat
	expect_exit 0 "$STEWARD" --home "$WL" catalog load cat
	DB=$WL/.steward/catalog.db
	sqlite3 "$DB" ".backup '$TMP/catalog-a.db'"
	n_a=$(ndatasets "$DB")
	# state B from an un-killed run in a separate workspace, at the same path
	init_ws "$TMP/wb"
	expect_exit 0 "$STEWARD" --home "$TMP/wb" catalog load cat
	rm -rf cat && cp -R cat-b cat
	t=$(now_ms)
	expect_exit 0 "$STEWARD" --home "$TMP/wb" catalog load cat
	T_LOAD=$(($(now_ms) - t))
	sqlite3 "$TMP/wb/.steward/catalog.db" ".backup '$TMP/catalog-b.db'"
	n_b=$(ndatasets "$TMP/catalog-b.db")
	expect_equal A "$(state_of "$DB")" 'the catalog at A is found at A'
	expect_equal B "$(state_of "$TMP/catalog-b.db")" 'the catalog at B is found at B (A and B differ)'
	note "load: A has $n_a dataset versions, B $n_b; an un-killed load of B over A takes $T_LOAD ms"

	start_phase
	at_a=0 at_b=0
	fractions "$FKEY" $((WANT * 3)) >fr-load
	exec 6<fr-load
	while [ "$kills" -lt "$WANT" ] && [ "$iters" -lt $((WANT * 3)) ]; do
		iters=$((iters + 1))
		read -r f <&6
		d=$(delay_for "$f" "$T_LOAD")
		CTX="seed $SEED, load iteration $iters (fraction $f/1000000, ${d}s of ${T_LOAD}ms)"
		seq0=$(last_seq "$WL")
		crash "$d" "$STEWARD" --home "$WL" catalog load cat
		if [ "$KILLED" -eq 0 ]; then
			iequal 0 "$CRC" 'a load the kill missed succeeded'
			missed=$((missed + 1))
			T_LOAD=$(shrink "$T_LOAD")
		fi
		kills=$((kills + KILLED))
		after_kill "$WL" "$seq0"
		s=$(state_of "$DB")
		case $s in
		A) at_a=$((at_a + 1)) checks=$((checks + 1)) ;;
		B) at_b=$((at_b + 1)) checks=$((checks + 1)) ;;
		*) iequal 'A or B' "$s ($(ndatasets "$DB") dataset versions)" \
			'the catalog is entirely at the state before or after the load, its search index sound' ;;
		esac
		[ "$s" = A ] || sqlite3 "$DB" ".restore '$TMP/catalog-a.db'"
	done
	exec 6<&-
	note "load: $at_a runs left the catalog at A, $at_b at B"
	end_phase load "$T_LOAD"
	check "audit log shows the $interrupted interrupted catalog loads" interrupted_in_log "$WL" catalog.load
	expect_exit 0 "$STEWARD" --home "$WL" catalog load cat
	expect_equal B "$(state_of "$DB")" 'an un-killed load after the kills reaches B'
}
ndatasets() { sqlite3 "$1" 'SELECT count(*) FROM datasets'; }

# same_as SCHEMA: SQL true when main's catalog is SCHEMA's: datasets (name, version, kind,
# description, PII count), the files behind them and the search index row for row; fields,
# tags, lineage edges by count.
same_as() {
	_s=$1
	_q=
	for _t in "name, version, kind, coalesce(description, ''), npii FROM %s.datasets" \
		'path, hex(hash), ndocs FROM %s.files' 'rowid, name FROM %s.search_fts'; do
		# shellcheck disable=SC2059 # the table is the format's argument
		_q="$_q NOT EXISTS (SELECT $(printf "$_t" main) EXCEPT SELECT $(printf "$_t" "$_s")) AND
			NOT EXISTS (SELECT $(printf "$_t" "$_s") EXCEPT SELECT $(printf "$_t" main)) AND"
	done
	for _t in datasets fields tags edges field_edges; do
		_q="$_q (SELECT count(*) FROM main.$_t) = (SELECT count(*) FROM $_s.$_t) AND"
	done
	echo "$_q 1"
}
# state_of DB: A or B (the catalog is at that snapshot and its search index agrees with its
# content), else what is wrong; one sqlite3 process.
state_of() {
	sqlite3 "$1" "ATTACH '$TMP/catalog-a.db' AS a; ATTACH '$TMP/catalog-b.db' AS b;
		INSERT INTO main.search_fts(search_fts) VALUES ('integrity-check');
		SELECT CASE WHEN $(same_as a) THEN 'A' WHEN $(same_as b) THEN 'B' ELSE 'neither A nor B' END" 2>&1
}

# ==== ingest ====
phase_ingest() {
	WI=$TMP/wi
	init_ws "$WI"
	expect_exit 0 "$STEWARD" --home "$WI" key init
	expect_exit 0 "$STEWARD" --home "$WI" catalog load "$CORPUS"
	python3 "$STEWARD_SHARED/corpus/gen_events.py" --count "$EVENTS" --bad-rate 0.01 --seed 11 >events.jsonl
	size=$(wc -c <events.jsonl)
	expect_exit_stdin 1 events.jsonl "$STEWARD" --home "$WI" ingest 'events.*' --label event_type --rejects rej-full.jsonl
	cp "$OUT" out-full.jsonl
	expect_stderr_contains "ingest events.*: $EVENTS records in"
	check 'the full run rejected some records' test -s rej-full.jsonl
	expect_exit_stdin 1 events.jsonl "$STEWARD" --home "$WI" ingest 'events.*' --label event_type --threads 2 --rejects rej-full2.jsonl
	check '--threads 2 writes the same output' cmp out-full.jsonl "$OUT"
	check '--threads 2 writes the same rejects' cmp rej-full.jsonl rej-full2.jsonl
	note "ingest: $(wc -l <out-full.jsonl) records out, $(wc -l <rej-full.jsonl) rejected, from $size bytes"

	start_phase
	partial=0 at_end=0
	fractions "$FKEY" $((WANT * 3)) >fr-ingest
	exec 6<fr-ingest
	mkfifo in.fifo
	while [ "$kills" -lt "$WANT" ] && [ "$iters" -lt $((WANT * 3)) ]; do
		iters=$((iters + 1))
		read -r f <&6
		threads=$((iters % 2 + 1))
		bytes=$((f * size / 1000000))
		end=
		[ $((iters % 4)) -eq 0 ] && end=1 bytes=$size
		CTX="seed $SEED, ingest iteration $iters (--threads $threads, killed after $bytes of $size input bytes${end:+ and the end of the input})"
		rm -f part.jsonl rej-part.jsonl
		seq0=$(last_seq "$WI")
		"$STEWARD" --home "$WI" ingest 'events.*' --label event_type --threads "$threads" \
			--rejects rej-part.jsonl <in.fifo >part.jsonl 2>"$TMP/.crash-stderr" &
		CPID=$!
		exec 7>in.fifo # the command cannot end while this is open
		head -c "$bytes" events.jsonl >&7 2>/dev/null
		[ -z "$end" ] || exec 7>&-
		reap
		exec 7>&-
		if [ "$KILLED" -eq 0 ]; then
			iequal 1 "$CRC" 'an ingest the kill missed ended as usual (exit 1: the bad records)'
			missed=$((missed + 1))
		fi
		kills=$((kills + KILLED))
		[ -n "$end" ] && [ "$KILLED" -eq 1 ] && at_end=$((at_end + 1))
		[ -s part.jsonl ] && partial=$((partial + 1))
		icheck 'the output so far is a prefix of the full output' is_prefix part.jsonl out-full.jsonl
		icheck 'the rejects so far are a prefix of the full rejects' is_prefix rej-part.jsonl rej-full.jsonl
		after_kill "$WI" "$seq0"
	done
	exec 6<&-
	note "ingest: $partial kills left a non-empty partial output; $at_end came after the end of the input"
	end_phase ingest
	check "audit log shows the $interrupted interrupted ingests" interrupted_in_log "$WI" pii.ingest
}

# is_prefix PART FULL: PART is FULL's first bytes (an absent PART is empty); one cmp.
is_prefix() {
	[ -e "$1" ] || return 0
	_r=$(cmp "$1" "$2" 2>&1) && return 0
	case $_r in *"EOF on $1"*) return 0 ;; esac
	echo "$1 is not a prefix of $2: $_r"
	return 1
}

# ==== request run ====
# SQLite tables and a JSON-lines directory with many rows, two HTTP targets. Subject k (user
# id k, e-mail Subj<k>.Crash@Example.com) is erased by request k: subject 1 un-killed, to
# measure, then one subject per iteration. Each has one user row, three orders (one billed
# to their own address), two enrollments and about 14 lake lines in about 13 files.
phase_request() {
	WR=$TMP/wr
	NSUB=$((WANT * 3 + 1))
	init_ws "$WR"
	expect_exit 0 "$STEWARD" --home "$WR" key init
	expect_exit 0 "$STEWARD" --home "$WR" catalog load "$STEWARD_SRC/examples/catalog"
	# shellcheck disable=SC2046 # one argument per id
	expect_exit 0 "$STEWARD" --home "$WR" pii hash --purpose crash-test-fixture --category user.unique_id $(seq "$NSUB")
	cp "$OUT" pseudonyms.txt
	check 'one pseudonym per subject' test "$(wc -l <pseudonyms.txt)" -eq "$NSUB"
	mkdir -p pristine
python3 - pristine "$NSUB" pseudonyms.txt <<'PY'
import json, os, random, sqlite3, sys
out, nsub, pseu = sys.argv[1], int(sys.argv[2]), [l.strip() for l in open(sys.argv[3])]
NU, NO, NE, NF, NL = 8000, 10000, 10000, 80, 100
rnd = random.Random(42)
os.makedirs(out + "/lake")
db = sqlite3.connect(out + "/prod.db")
db.executescript("""
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, full_name TEXT, phone TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, course_id INTEGER,
                     billing_email TEXT, amount REAL);
CREATE TABLE enrollments (id INTEGER PRIMARY KEY, user_id INTEGER, course_id INTEGER);
""")
def email(u):
    return "Subj%d.Crash@Example.com" % u if u <= nsub else "user%d@example.com" % u
def other():
    return rnd.randint(nsub + 1, NU)
db.executemany("INSERT INTO users VALUES (?, ?, ?, NULL)",
               ((u, email(u), "Name %d" % u) for u in range(1, NU + 1)))
orders = []
for i in range(NO):
    u = other()
    orders.append((u, rnd.randint(1, 500), email(u) if rnd.random() < 0.5 else "billing%d@example.com" % i, rnd.randint(1, 999)))
for u in range(1, nsub + 1):
    for j in range(3):
        orders.append((u, rnd.randint(1, 500), email(u) if j == 0 else "gift%d.%d@example.com" % (u, j), 10.0))
rnd.shuffle(orders)
db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", [(i + 1,) + o for i, o in enumerate(orders)])
enr = [(other(), rnd.randint(1, 500)) for _ in range(NE)] + [(u, j) for u in range(1, nsub + 1) for j in (1, 2)]
rnd.shuffle(enr)
db.executemany("INSERT INTO enrollments VALUES (?, ?, ?)", [(i + 1,) + e for i, e in enumerate(enr)])
db.commit()
for f in range(NF):
    with open("%s/lake/part-%03d.jsonl" % (out, f), "w") as fh:
        for l in range(NL):
            if rnd.random() < 0.16:
                uid = pseu[rnd.randint(1, nsub) - 1]
            else:
                uid = "k1:other-%06d" % other()
            fh.write(json.dumps({"label": "view", "user_id": uid, "payload": "p%d.%d" % (f, l)},
                                separators=(",", ":")) + "\n")
PY
	mkdir -p targets
	cp pristine/prod.db targets/prod.db
	cp -R pristine/lake targets/lake

	start_http_target "$TMP/http.log"
	export no_proxy='*'
	write_config "$WR" <<YAML
version: 1
requests:
  http_backoff_ms: 10
  http_timeout_ms: 2000
targets:
  prod.users: "sqlite:$TMP/targets/prod.db?table=users"
  prod.orders: "sqlite:$TMP/targets/prod.db?table=orders"
  prod.enrollments: "sqlite:$TMP/targets/prod.db?table=enrollments"
  lake.client_log: "jsonl:$TMP/targets/lake"
  ml.recommendations: "http://127.0.0.1:$HTTP_PORT/ok"
  ml.user_features: "http://127.0.0.1:$HTTP_PORT/ok"
YAML
	seen_temp=
	done_ids=
	unknown_ids=
	# subject 1, un-killed: the duration to scale the kills by, and the whole path once
	expect_exit 0 "$STEWARD" --home "$WR" request new erase --subject user.contact.email:subj1.crash@example.com
	id=$(cat "$OUT")
	t=$(now_ms)
	expect_exit 0 "$STEWARD" --home "$WR" request run "$id"
	T_REQ=$(($(now_ms) - t))
	expect_stdout_line "$id: 6 targets, 6 done, 0 not done (and datasets needing manual work: see 'request plan'); completed"
	check 'request 1: each target done once' request_done "$id"
	expect_equal 2 "$(posts "$id")" 'request 1: one POST per HTTP target'
	done_ids=1
	check 'request 1: exactly the subject is gone from the targets' check_targets "$done_ids" '' ''
	note "request run: an un-killed run takes $T_REQ ms ($(jq -r '[.targets[] | "\(.dataset) \(.elapsed_ms)"] | join(", ")' "$TMP/.show.json") ms)"

	start_phase
	dup=0 stages=
	fractions "$FKEY" $((WANT * 3)) >fr-request
	exec 6<fr-request
	while [ "$kills" -lt "$WANT" ] && [ "$iters" -lt $((WANT * 3)) ]; do
		iters=$((iters + 1))
		k=$((iters + 1))
		read -r f <&6
		d=$(delay_for "$f" "$T_REQ")
		CTX="seed $SEED, request iteration $iters (subject $k, fraction $f/1000000, ${d}s of ${T_REQ}ms)"
		"$STEWARD" --home "$WR" request new erase --subject "user.contact.email:subj$k.crash@example.com" >"$TMP/.id" 2>&1
		id=$(cat "$TMP/.id")
		seq0=$(last_seq "$WR")
		crash "$d" "$STEWARD" --home "$WR" request run "$id"
		if [ "$KILLED" -eq 0 ]; then
			iequal 0 "$CRC" 'a request run the kill missed succeeded'
			missed=$((missed + 1))
			T_REQ=$(shrink "$T_REQ")
		fi
		kills=$((kills + KILLED))
		after_kill "$WR" "$seq0"
		icheck "the target database passes integrity_check; each table and file holds all or none of subject $k's rows, the rest as they were" \
			check_targets "$done_ids" "$k" "$unknown_ids"
		[ "$KILLED" -eq 1 ] && stages="$stages$(head -n 1 "$TMP/.icheck" | tr ' ' ,) "
		# the second, un-killed run completes the request
		run "$STEWARD" --home "$WR" request run "$id"
		if [ "$RC" -eq 0 ] && grep -q 'completed$' "$OUT"; then
			checks=$((checks + 1))
		else
			phase_failed=$((phase_failed + 1))
			fail "$CTX: a second run completes request $id" "$(last_output)"
		fi
		icheck "request $id: completed, each target done and recorded once" request_done "$id"
		n=$(posts "$id")
		if [ "$n" -ge 2 ]; then checks=$((checks + 1)); else iequal '2 or more' "$n" "POSTs for $id"; fi
		dup=$((dup + n - 2))
		icheck 'audit verify passes after the second run' "$STEWARD" --home "$WR" audit verify
		if check_targets "$done_ids,$k" '' "$unknown_ids" >"$TMP/.icheck" 2>&1; then
			checks=$((checks + 1))
			done_ids="$done_ids,$k"
		else
			phase_failed=$((phase_failed + 1))
			fail "$CTX: exactly subject $k's rows are gone after the second run, every other row intact" \
				"$(head -n 30 "$TMP/.icheck")"
			unknown_ids="$unknown_ids,$k" # do not let one failure fail every later iteration
		fi
		icheck 'no temporary file is left in the JSON-lines directory' no_temp_files
	done
	exec 6<&-
	# shellcheck disable=SC2086 # one word per kill
	note "request run: where the kills left the subject in flight: $(printf '%s\n' $stages | awk -F, '
		{ n++; for (i = 1; i <= NF; i++) { split($i, a, ":")
			if (a[1] == "lake") { split(a[2], b, "/"); if (b[1] == b[2]) all++; else if (b[1] > 0) some++ }
			else if (a[2] == "erased") e[a[1]]++ } }
		END { printf "erased from users in %d of %d kills, orders %d, enrollments %d; lake: every file %d, some files %d", e["users"], n, e["orders"], e["enrollments"], all, some }')"
	note "request run: $dup duplicate POSTs to the HTTP targets (allowed: a kill between an answer and its record)"
	end_phase 'request run' "$T_REQ"
	check "audit log shows the $interrupted interrupted request runs" interrupted_in_log "$WR" request.run
	# What a later erasure would miss: no line of an erased subject anywhere under the lake, in
	# whatever file name.
	check 'no erased subject left anywhere in the lake directory' no_erased_in_lake "$done_ids"
}

# request_done ID: the request is completed, each of its 6 targets done and recorded once.
request_done() {
	"$STEWARD" --home "$WR" request show "$1" --json >"$TMP/.show.json" || return 1
	jq -e '.status == "completed" and (.targets | length) == 6
		and all(.targets[]; .status == "done" and .runs == 1)' "$TMP/.show.json" >/dev/null || {
		jq -c '{status, targets: [.targets[] | {dataset, status, runs, matched, changed, detail}]}' "$TMP/.show.json"
		return 1
	}
}
# posts ID: how many POSTs the HTTP endpoint received for request ID.
posts() { jq -n --arg id "$1" '[inputs | select(.body.id == $id)] | length' "$TMP/http.log"; }
# no_temp_files: the lake holds its .jsonl files and nothing else, but for leftovers already
# reported (in $seen_temp).
no_temp_files() {
	_found=$(find targets/lake -type f ! -name '*.jsonl')
	_new=
	for _f in $_found; do
		case " $seen_temp " in *" $_f "*) ;; *) _new="$_new $_f" ;; esac
	done
	seen_temp="$seen_temp $_new"
	[ -z "$_new" ] || { echo "left in the lake:$_new"; return 1; }
}

# list IDS: "(1,2,3)" from "1,2,3" (or from ",1,,2,"), for SQL; in the shell.
list() {
	_l= _ifs=$IFS
	IFS=,
	for _x in $1; do
		[ -z "$_x" ] || _l="$_l${_l:+,}$_x"
	done
	IFS=$_ifs
	echo "($_l)"
}

# check_targets DONE INFLIGHT UNKNOWN: the targets against the pristine copy, given the
# subjects whose erasure completed (DONE, comma-separated), the one under way (all or none of
# its rows, per table and per file; may be empty) and any whose request could not complete
# (UNKNOWN: not checked). Prints where the in-flight subject was found on the first line,
# then what is wrong; fails when anything is. The tables in one sqlite3 process (the
# prod.db target against pristine/prod.db, attached), the lake in one awk process.
check_targets() {
	_D=$(list "$1") _K=$(list "$2") _U=$(list "$3") _S=$(list "$1,$2,$3")
	{
		sqlite3 -batch targets/prod.db "ATTACH 'pristine/prod.db' AS p;
			SELECT 'bad prod.db: ' || integrity_check FROM pragma_integrity_check WHERE integrity_check != 'ok';
			$(table_sql users id '')
			$(table_sql orders user_id 'id, NULL, course_id, NULL, amount')
			$(table_sql enrollments user_id '')" 2>&1
		lake_check "$1" "$2" "$3"
	} >"$TMP/.targets"
	_state= _bad=
	while IFS= read -r _l; do
		case $_l in
		'state '*) _state="$_state${_state:+ }${_l#state }" ;;
		*) _bad="$_bad$_l
" ;;
		esac
	done <"$TMP/.targets"
	printf '%s\n%s' "$_state" "$_bad"
	[ -z "$_bad" ]
}

# table_sql NAME KEY ERASED: the SQL checks of one table for check_targets (uses $_D, $_K,
# $_U, $_S). ERASED is the SELECT list of a pristine row once erased (nullified), or empty
# when erasure deletes the row. Each wrong row prints a "bad" line; the in-flight subject a
# "state" line.
table_sql() {
	_n=$1 _k=$2 _e=$3
	_ours="SELECT * FROM p.$_n WHERE $_k NOT IN $_S"
	echo "SELECT 'bad $_n: row ' || id || ' of another subject is missing or changed' FROM ($_ours EXCEPT SELECT * FROM main.$_n) LIMIT 5;"
	_allowed="$_ours UNION SELECT * FROM p.$_n WHERE $_k IN $_K"
	if [ -n "$_e" ]; then
		echo "SELECT 'bad $_n: row ' || id || ' of an erased subject is not erased' FROM (SELECT $_e FROM p.$_n WHERE $_k IN $_D EXCEPT SELECT * FROM main.$_n) LIMIT 5;"
		_allowed="$_allowed UNION SELECT $_e FROM p.$_n WHERE $_k IN $_D UNION SELECT $_e FROM p.$_n WHERE $_k IN $_K"
	else
		echo "SELECT 'bad $_n: row ' || id || ' of an erased subject is still there' FROM main.$_n WHERE id IN (SELECT id FROM p.$_n WHERE $_k IN $_D) LIMIT 5;"
	fi
	echo "SELECT 'bad $_n: row ' || id || ' is neither as it was nor erased' FROM (SELECT * FROM main.$_n WHERE id NOT IN (SELECT id FROM p.$_n WHERE $_k IN $_U) EXCEPT SELECT * FROM ($_allowed)) LIMIT 5;"
	[ "$_K" = '()' ] && return
	echo "SELECT CASE WHEN kept IN (0, total) THEN 'state $_n:' || CASE WHEN kept > 0 THEN 'kept' ELSE 'erased' END
		ELSE 'bad $_n: ' || (total - kept) || ' of the ' || total || ' rows of the subject in flight are erased' END
		FROM (SELECT (SELECT count(*) FROM p.$_n WHERE $_k IN $_K) AS total,
			(SELECT count(*) FROM main.$_n m JOIN p.$_n o USING (id) WHERE o.$_k IN $_K AND m.$_k IS o.$_k) AS kept);"
}

# lake_check DONE INFLIGHT UNKNOWN: every pristine .jsonl file is in the lake, and holds its
# pristine lines less the erased subjects' (and less or not less the in-flight subject's:
# all or none per file); one awk process over both directories.
lake_check() {
	awk -v done="$1" -v fly="$2" -v unknown="$3" -v pdir=pristine/lake/ -v cdir=targets/lake/ '
		BEGIN {
			while ((getline l < "pseudonyms.txt") > 0) pseu[++np] = l
			n = split(done, a, ","); for (i = 1; i <= n; i++) if (a[i] != "") gone[pseu[a[i]]] = 1
			n = split(unknown, a, ","); for (i = 1; i <= n; i++) if (a[i] != "") unk[pseu[a[i]]] = 1
			f_uid = fly == "" ? "" : pseu[fly]
			for (i = 1; i < ARGC; i++) { # every file, empty ones too
				side = index(ARGV[i], pdir) == 1 ? "p" : "c"
				base = substr(ARGV[i], length(side == "p" ? pdir : cdir) + 1)
				files[side, base] = 1
				if (side == "p") names[base] = 1
			}
		}
		FNR == 1 {
			side = index(FILENAME, pdir) == 1 ? "p" : "c"
			base = substr(FILENAME, length(side == "p" ? pdir : cdir) + 1)
		}
		{
			uid = ""
			if (match($0, /"user_id":"[^"]*"/)) uid = substr($0, RSTART + 11, RLENGTH - 12)
			if (uid in unk) next
			if (side == "c") { got[base] = got[base] $0 "\n"; next }
			if (uid in gone) next
			keep[base] = keep[base] $0 "\n"
			if (fly == "" || uid != f_uid) without[base] = without[base] $0 "\n"
		}
		END {
			for (b in files) { split(b, s, SUBSEP); if (!((s[1] == "p" ? "c" : "p") SUBSEP s[2] in files)) bad = 1 }
			if (bad) print "bad lake: the .jsonl files are not the ones there were"
			for (b in names) {
				if (got[b] == keep[b] && keep[b] != without[b]) nkept++
				else if (got[b] == without[b] && keep[b] != without[b]) nerased++
				else if (got[b] != keep[b]) print "bad lake/" b ": neither without the erased subjects nor without the one in flight too"
			}
			if (fly != "") printf "state lake:%d/%d\n", nerased, nkept + nerased
		}' pristine/lake/*.jsonl targets/lake/*.jsonl
}

# no_erased_in_lake DONE: no line of an erased subject in any file under the lake.
# shellcheck disable=SC2046 # one word per file
no_erased_in_lake() {
	awk -v done="$1" '
		BEGIN {
			while ((getline l < "pseudonyms.txt") > 0) pseu[++np] = l
			n = split(done, a, ","); for (i = 1; i <= n; i++) if (a[i] != "") gone[pseu[a[i]]] = 1
		}
		{ for (p in gone) if (index($0, p)) { found[FILENAME]++; break } }
		END { for (f in found) { print f ": " found[f] " lines of erased subjects"; bad = 1 } exit bad }' \
		$(find targets/lake -type f)
}

# each PHASE[:PART/PARTS]: that part of the phase's kills, with its own seed (FKEY)
for spec in "$@"; do
	phase=${spec%%:*} part=1 parts=1
	case $spec in *:*) part=${spec#*:} parts=${part#*/} part=${part%/*} ;; esac
	case $phase in
	load) n=$N_LOAD key=1 ;;
	ingest) n=$N_INGEST key=2 ;;
	request) n=$N_REQ key=3 ;;
	esac
	WANT=$((n * part / parts - n * (part - 1) / parts)) FKEY=$((key + 10 * (part - 1)))
	note "$spec: $WANT of the $n kills of $phase to land"
	"phase_$phase"
	cd "$TMP" && rm -rf "${TMP:?}"/* || exit 99 # the next phase starts afresh
	[ -z "$HTTP_PID" ] || { kill "$HTTP_PID" 2>/dev/null; HTTP_PID=; }
done

T1=$(now_ms)
note "crash loop, CRASH_SEED=$SEED:$summary kills landed ($landed in all); $checks checks passed in the loops; $(((T1 - T0) / 1000)) s"
done_testing
