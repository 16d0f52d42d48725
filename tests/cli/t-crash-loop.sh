#!/bin/sh
# Crash loop: SIGKILL `catalog load`, `ingest` and `request run` at seeded random moments and
# check after every kill that nothing is damaged or half done:
#   - catalog.db, audit.db and the request's SQLite target pass PRAGMA integrity_check;
#   - `audit verify` passes, and a killed command that had begun its audit record is chained
#     by the next command as "interrupted before it ended", exactly once;
#   - load: the catalog is either entirely at the state before the load or entirely at the
#     state after it (both computed from un-killed runs);
#   - ingest: the output and the rejects written so far are prefixes of an un-killed run's;
#   - request run: every SQLite table and JSON-lines file holds the subject's rows either all
#     or none (per table, per file), a second, un-killed run completes the request, and then
#     exactly the subject's rows are gone and every other row is byte for byte as it was; no
#     temporary file is left in the JSON-lines directory; each target is recorded done once.
#     The HTTP endpoint may have been called twice for one target (a kill between its answer
#     and the record, as docs/audit.md says); such duplicates are counted, not failed.
#
# Environment:
#   CRASH_SEED   the seed of the kill moments (default 20261122); printed, to reproduce a
#                failure: the failing check names the seed, the command and the iteration
#   CRASH_KILLS  the number of kills in all (default 110: 40 loads, 40 ingests, 30 request
#                runs); scale it down for slow builds, e.g. CRASH_KILLS=45
#
# The kill moment is a seeded fraction of the command's duration, measured on an un-killed
# run first (and shortened when a kill comes too late), so kills land mid-way on fast and
# slow (sanitizer) builds alike. About 40 s with a release build, 80 s under ASan.
. "$(dirname "$0")/lib.sh"
require sqlite3 python3 jq cmp

SEED=${CRASH_SEED:-20261122}
KILLS=${CRASH_KILLS:-110}
case $SEED in '' | *[!0-9]*) echo "Bail out! CRASH_SEED must be a number"; exit 99 ;; esac
case $KILLS in '' | *[!0-9]*) echo "Bail out! CRASH_KILLS must be a number"; exit 99 ;; esac
[ "$KILLS" -ge 3 ] || KILLS=3
N_LOAD=$((KILLS * 4 / 11))
N_INGEST=$((KILLS * 4 / 11))
N_REQ=$((KILLS - N_LOAD - N_INGEST))
note "CRASH_SEED=$SEED CRASH_KILLS=$KILLS: $N_LOAD loads, $N_INGEST ingests, $N_REQ request runs to kill"

case $STEWARD in /*) ;; *) STEWARD=$(pwd)/$STEWARD ;; esac # the loops run in $TMP
cd "$TMP" || exit 99
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$TMP"' EXIT

# ---- helpers ----

# now_ms: a monotonic-enough clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# fractions NAME N: N seeded numbers in [0, 1), one a line, for the kills of one command.
fractions() {
	python3 -c 'import random, sys
r = random.Random(sys.argv[1])
for _ in range(int(sys.argv[2])):
    print("%.6f" % r.random())' "$SEED-$1" "$2"
}

# delay_for FRACTION MS: FRACTION of MS milliseconds, in seconds for sleep(1).
delay_for() { awk -v f="$1" -v t="$2" 'BEGIN { printf "%.4f", f * t / 1000 }'; }

# shrink MS: a kill came after the command ended (the measured run was slow, or the machine
# is busier now): draw the next moments from a window a quarter shorter.
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
# records in $interrupted.
after_kill() {
	_ws=$1 _seq0=$2
	icheck 'catalog.db passes integrity_check' db_ok "$_ws/.steward/catalog.db"
	icheck 'audit.db passes integrity_check' db_ok "$_ws/.steward/audit.db"
	_pending=$(sqlite3 "$_ws/.steward/audit.db" "SELECT count(*) FROM pending WHERE pid = $CPID")
	icheck 'audit verify passes after the kill' "$STEWARD" --home "$_ws" audit verify
	"$STEWARD" --home "$_ws" audit log --outcome error --json >"$TMP/.log.json" 2>"$TMP/.log.err"
	_n=$(jq --argjson p "$CPID" --argjson s "$_seq0" \
		'[.[] | select(.pid == $p and .seq > $s and .reason == "interrupted before it ended")] | length' \
		"$TMP/.log.json" 2>&1)
	if [ "$_pending" = 1 ]; then
		iequal 1 "$_n" "the killed command's pending record is chained once as interrupted"
		interrupted=$((interrupted + 1))
	else
		iequal 0 "$_n" 'a command killed before or after its record is not chained as interrupted'
	fi
	iequal 0 "$(sqlite3 "$_ws/.steward/audit.db" 'SELECT count(*) FROM pending')" \
		'no pending record is left after the next command'
}

# end_phase NAME WINDOW WANTED: one summary line for a command's kills.
end_phase() {
	_msg="$1: $kills kills in $iters runs ($interrupted chained as interrupted; kill window ${2} ms), $((checks - checks0)) checks passed, $((($(now_ms) - tphase) / 1000)) s"
	if [ "$phase_failed" -eq 0 ] && [ "$kills" -ge "$3" ]; then
		pass "$_msg"
	elif [ "$kills" -lt "$3" ]; then
		fail "$_msg" "only $kills of the $3 kills came before the command ended"
	else
		fail "$_msg" "$phase_failed checks failed (above)"
	fi
	summary="$summary $1=$kills"
}

# interrupted_in_log WS ACTION: `audit log` shows as many interrupted records of ACTION as
# there were kills after the pending record ($interrupted).
interrupted_in_log() {
	"$STEWARD" --home "$1" audit log --outcome error --action "$2" --json |
		jq -e --argjson n "$interrupted" '[.[] | select(.reason == "interrupted before it ended")] | length == $n'
}

summary=
T0=$(now_ms)

# ==== catalog load ====
# Two generated catalogs at one path: A, and B made from A with a third of the files given a
# second version, some descriptions edited, some files removed and some added. The workspace
# starts at A and every iteration loads B; whenever a kill came too late (the catalog is at
# B), catalog.db is put back to a snapshot of A.
WL=$TMP/wl
init_ws "$WL"
python3 "$STEWARD_SHARED/corpus/gen_catalog.py" --datasets 1200 --seed 1 --out cat-a >/dev/null
python3 "$STEWARD_SHARED/corpus/gen_catalog.py" --datasets 400 --seed 2 --out cat-new >/dev/null
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
        if rel not in names and added < 150:
            os.makedirs(os.path.dirname(os.path.join(b, rel)), exist_ok=True)
            shutil.copy(os.path.join(d, f), os.path.join(b, rel))
            added += 1
PY

# sig DB: what a catalog is, from outside: datasets (name, version, kind, description),
# fields, tags, lineage, the search index and the files behind them.
sig() {
	sqlite3 "$1" "SELECT count(*) FROM datasets;
SELECT name, version, kind, coalesce(description, ''), npii FROM datasets ORDER BY name, version;
SELECT count(*) FROM fields; SELECT count(*) FROM tags; SELECT count(*) FROM edges;
SELECT count(*) FROM field_edges; SELECT rowid, name FROM search_fts ORDER BY rowid;
SELECT path, hex(hash), ndocs FROM files ORDER BY path;" | md5sum | cut -c1-32
}
ndatasets() { sqlite3 "$1" 'SELECT count(*) FROM datasets'; }
# fts_ok DB: the search index agrees with its content.
fts_ok() { sqlite3 "$1" "INSERT INTO search_fts(search_fts) VALUES ('integrity-check')"; }

cp -R cat-a cat
expect_exit 0 "$STEWARD" --home "$WL" catalog load cat
DB=$WL/.steward/catalog.db
sqlite3 "$DB" ".backup '$TMP/catalog-a.db'"
sig_a=$(sig "$DB")
n_a=$(ndatasets "$DB")
# state B from an un-killed run in a separate workspace, at the same path
init_ws "$TMP/wb"
expect_exit 0 "$STEWARD" --home "$TMP/wb" catalog load cat
rm -rf cat && cp -R cat-b cat
t=$(now_ms)
expect_exit 0 "$STEWARD" --home "$TMP/wb" catalog load cat
T_LOAD=$(($(now_ms) - t))
sig_b=$(sig "$TMP/wb/.steward/catalog.db")
n_b=$(ndatasets "$TMP/wb/.steward/catalog.db")
check 'the load changes the catalog (A and B differ)' test "$sig_a" != "$sig_b"
note "load: A has $n_a dataset versions, B $n_b; an un-killed load of B over A takes $T_LOAD ms"

kills=0 iters=0 interrupted=0 checks0=$checks phase_failed=0 tphase=$(now_ms) at_a=0 at_b=0
fractions load $((N_LOAD * 3)) >fr-load
while [ "$kills" -lt "$N_LOAD" ] && [ "$iters" -lt $((N_LOAD * 3)) ]; do
	iters=$((iters + 1))
	f=$(sed -n "${iters}p" fr-load)
	d=$(delay_for "$f" "$T_LOAD")
	CTX="seed $SEED, load iteration $iters (fraction $f, ${d}s of ${T_LOAD}ms)"
	seq0=$(last_seq "$WL")
	crash "$d" "$STEWARD" --home "$WL" catalog load cat
	[ "$KILLED" -eq 1 ] || { iequal 0 "$CRC" 'a load the kill missed succeeded'; T_LOAD=$(shrink "$T_LOAD"); }
	kills=$((kills + KILLED))
	after_kill "$WL" "$seq0"
	icheck 'the search index agrees with its content' fts_ok "$DB"
	s=$(sig "$DB")
	if [ "$s" = "$sig_a" ]; then
		at_a=$((at_a + 1))
		checks=$((checks + 1))
	elif [ "$s" = "$sig_b" ]; then
		at_b=$((at_b + 1))
		checks=$((checks + 1))
		rm -f "$DB-wal" "$DB-shm" "$DB-journal"
		cp "$TMP/catalog-a.db" "$DB"
	else
		iequal "$sig_a ($n_a datasets) or $sig_b ($n_b datasets)" "$s ($(ndatasets "$DB") datasets)" \
			'the catalog is entirely at the state before or after the load'
		rm -f "$DB-wal" "$DB-shm" "$DB-journal"
		cp "$TMP/catalog-a.db" "$DB"
	fi
done
note "load: $at_a runs left the catalog at A, $at_b at B"
end_phase load "$T_LOAD" "$N_LOAD"
check "audit log shows the $interrupted interrupted catalog loads" interrupted_in_log "$WL" catalog.load
expect_exit 0 "$STEWARD" --home "$WL" catalog load cat
expect_equal "$sig_b" "$(sig "$DB")" 'an un-killed load after the kills reaches B'

# ==== ingest ====
WI=$TMP/wi
init_ws "$WI"
expect_exit 0 "$STEWARD" --home "$WI" key init
expect_exit 0 "$STEWARD" --home "$WI" catalog load "$CORPUS"
python3 "$STEWARD_SHARED/corpus/gen_events.py" --count 60000 --bad-rate 0.01 --seed 11 >events.jsonl
t=$(now_ms)
expect_exit_stdin 1 events.jsonl "$STEWARD" --home "$WI" ingest 'events.*' --label event_type --rejects rej-full.jsonl
T_INGEST=$(($(now_ms) - t))
cp "$OUT" out-full.jsonl
expect_stderr_contains 'ingest events.*: 60000 records in'
check 'the full run rejected some records' test -s rej-full.jsonl
expect_exit_stdin 1 events.jsonl "$STEWARD" --home "$WI" ingest 'events.*' --label event_type --threads 2 --rejects rej-full2.jsonl
check '--threads 2 writes the same output' cmp out-full.jsonl "$OUT"
check '--threads 2 writes the same rejects' cmp rej-full.jsonl rej-full2.jsonl
note "ingest: $(wc -l <out-full.jsonl) records out, $(wc -l <rej-full.jsonl) rejected; an un-killed run takes $T_INGEST ms"

# is_prefix PART FULL: PART is FULL's first bytes (an absent PART is empty).
is_prefix() {
	[ -e "$1" ] || return 0
	_size=$(stat -c %s "$1")
	cmp -n "$_size" "$1" "$2" || { echo "$1 ($_size bytes) is not a prefix of $2"; return 1; }
}

kills=0 iters=0 interrupted=0 checks0=$checks phase_failed=0 tphase=$(now_ms) partial=0
fractions ingest $((N_INGEST * 3)) >fr-ingest
while [ "$kills" -lt "$N_INGEST" ] && [ "$iters" -lt $((N_INGEST * 3)) ]; do
	iters=$((iters + 1))
	f=$(sed -n "${iters}p" fr-ingest)
	d=$(delay_for "$f" "$T_INGEST")
	threads=$((iters % 2 + 1))
	CTX="seed $SEED, ingest iteration $iters (--threads $threads, fraction $f, ${d}s of ${T_INGEST}ms)"
	rm -f part.jsonl rej-part.jsonl
	seq0=$(last_seq "$WI")
	CIN=events.jsonl COUT=part.jsonl crash "$d" "$STEWARD" --home "$WI" ingest 'events.*' \
		--label event_type --threads "$threads" --rejects rej-part.jsonl
	[ "$KILLED" -eq 1 ] || { iequal 1 "$CRC" 'an ingest the kill missed ended as usual'; T_INGEST=$(shrink "$T_INGEST"); }
	kills=$((kills + KILLED))
	[ -s part.jsonl ] && partial=$((partial + 1))
	icheck 'the output so far is a prefix of the full output' is_prefix part.jsonl out-full.jsonl
	icheck 'the rejects so far are a prefix of the full rejects' is_prefix rej-part.jsonl rej-full.jsonl
	after_kill "$WI" "$seq0"
done
note "ingest: $partial kills left a non-empty partial output"
end_phase ingest "$T_INGEST" "$N_INGEST"
check "audit log shows the $interrupted interrupted ingests" interrupted_in_log "$WI" pii.ingest

# ==== request run ====
# SQLite tables and a JSON-lines directory with many rows, two HTTP targets. Subject k (user
# id k, e-mail Subj<k>.Crash@Example.com) is erased by request k: subject 1 un-killed, to
# measure, then one subject per iteration. Each has one user row, three orders (one billed
# to their own address), two enrollments and about 14 lake lines in about 13 files.
WR=$TMP/wr
NSUB=$((N_REQ * 3 + 1))
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
NU, NO, NE, NF, NL = 20000, 25000, 25000, 80, 200
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
            if rnd.random() < 0.08:
                uid = pseu[rnd.randint(1, nsub) - 1]
            else:
                uid = "k1:other-%06d" % other()
            fh.write(json.dumps({"label": "view", "user_id": uid, "payload": "p%d.%d" % (f, l)},
                                separators=(",", ":")) + "\n")
PY
mkdir -p targets
cp pristine/prod.db targets/prod.db
cp -R pristine/lake targets/lake

# The checker: targets against the pristine copy, given the subjects whose erasure completed
# (gone), the one under way (all or none of its rows, per table and per file) and any whose
# request could not complete (skipped). Prints where the in-flight subject was found.
cat >check_targets.py <<'PY'
import os, re, sqlite3, sys
pristine, cur, pseu_file, done, inflight, unknown = sys.argv[1:7]
ids = lambda s: sorted(set(int(x) for x in s.split(",") if x))
done, unknown = ids(done), ids(unknown)
fly = [int(inflight)] if inflight else []
pseu = [l.strip() for l in open(pseu_file)]
bad, state = [], []
db = sqlite3.connect("file:%s/prod.db?mode=ro" % cur, uri=True)
db.execute("ATTACH 'file:%s/prod.db?mode=ro' AS p" % pristine)
lst = lambda v: "(%s)" % ",".join(str(x) for x in v)
D, K, U = lst(done), lst(fly), lst(unknown)
S = lst(done + fly + unknown)
def rows(sql):
    return db.execute(sql).fetchall()
def table(name, key, erased_cols=None):
    # erased_cols: the SELECT list of a pristine row once erased (nullify); None for delete
    ours = "SELECT * FROM p.%s WHERE %s NOT IN %s" % (name, key, S)
    for r in rows("%s EXCEPT SELECT * FROM main.%s LIMIT 5" % (ours, name)):
        bad.append("%s: row %r of another subject is missing or changed" % (name, r))
    allowed = [ours]
    if erased_cols:
        gone = "SELECT %s FROM p.%s WHERE %s IN %s" % (erased_cols, name, key, D)
        for r in rows("%s EXCEPT SELECT * FROM main.%s LIMIT 5" % (gone, name)):
            bad.append("%s: row %r of an erased subject is not erased" % (name, r))
        allowed.append(gone)
        allowed.append("SELECT %s FROM p.%s WHERE %s IN %s" % (erased_cols, name, key, K))
    else:
        for r in rows("SELECT * FROM main.%s WHERE id IN (SELECT id FROM p.%s WHERE %s IN %s) LIMIT 5"
                      % (name, name, key, D)):
            bad.append("%s: row %r of an erased subject is still there" % (name, r))
    allowed.append("SELECT * FROM p.%s WHERE %s IN %s" % (name, key, K))
    extra = ("SELECT * FROM main.%s WHERE id NOT IN (SELECT id FROM p.%s WHERE %s IN %s)"
             " EXCEPT SELECT * FROM (%s) LIMIT 5"
             % (name, name, key, U, " UNION ".join(allowed)))
    for r in rows(extra):
        bad.append("%s: row %r is neither as it was nor erased" % (name, r))
    if fly:
        total = rows("SELECT count(*) FROM p.%s WHERE %s IN %s" % (name, key, K))[0][0]
        kept = rows("SELECT count(*) FROM main.%s m JOIN p.%s o USING (id) WHERE o.%s IN %s AND m.%s IS o.%s"
                    % (name, name, key, K, key, key))[0][0]
        if kept not in (0, total):
            bad.append("%s: %d of the %d rows of the subject in flight are erased" % (name, total - kept, total))
        state.append("%s:%s" % (name, "kept" if kept else "erased"))
table("users", "id")
table("orders", "user_id", "id, NULL, course_id, NULL, amount")
table("enrollments", "user_id")
uid_re = re.compile(rb'"user_id":"([^"]*)"')
gone = set(pseu[u - 1].encode() for u in done)
unk = set(pseu[u - 1].encode() for u in unknown)
f_uid = pseu[fly[0] - 1].encode() if fly else None
pl, cl = os.path.join(pristine, "lake"), os.path.join(cur, "lake")
jsonl = sorted(f for f in os.listdir(pl) if f.endswith(".jsonl"))
if jsonl != sorted(f for f in os.listdir(cl) if f.endswith(".jsonl")):
    bad.append("lake: the .jsonl files are not the ones there were")
n = [0, 0]
for f in jsonl:
    try:
        got = open(os.path.join(cl, f), "rb").read().splitlines(keepends=True)
    except OSError as e:
        bad.append("lake/%s: %s" % (f, e))
        continue
    lines = open(os.path.join(pl, f), "rb").read().splitlines(keepends=True)
    uid = lambda l: uid_re.search(l).group(1)
    if unk:
        got = [l for l in got if uid(l) not in unk]
        lines = [l for l in lines if uid(l) not in unk]
    keep = [l for l in lines if uid(l) not in gone]
    without = [l for l in keep if uid(l) != f_uid]
    if got == keep and keep != without:
        n[0] += 1
    elif got == without and keep != without:
        n[1] += 1
    elif got != keep:
        bad.append("lake/%s: neither without the erased subjects nor without the one in flight too" % f)
if fly:
    state.append("lake:%d/%d" % (n[1], n[0] + n[1]))
if state:
    print(" ".join(state))
for b in bad[:20]:
    print(b)
sys.exit(1 if bad else 0)
PY

python3 "$STEWARD_SRC/tests/helpers/http_target.py" port http.log &
server=$!
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
port=$(cat port)
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
  ml.recommendations: "http://127.0.0.1:$port/ok"
  ml.user_features: "http://127.0.0.1:$port/ok"
YAML

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
posts() { jq -r --arg id "$1" 'select(.body.id == $id) | .path' http.log | wc -l; }
# no_temp_files: the lake holds its .jsonl files and nothing else, but for leftovers already
# reported (in $TMP/.seen-temp).
no_temp_files() {
	find targets/lake -type f ! -name '*.jsonl' | sort >"$TMP/.temp"
	comm -23 "$TMP/.temp" "$TMP/.seen-temp" >"$TMP/.new-temp"
	cat "$TMP/.temp" >"$TMP/.seen-temp"
	[ ! -s "$TMP/.new-temp" ] || { echo 'left in the lake:'; cat "$TMP/.new-temp"; return 1; }
}
: >"$TMP/.seen-temp"

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
check 'request 1: exactly the subject is gone from the targets' \
	python3 check_targets.py pristine targets pseudonyms.txt "$done_ids" '' ''
note "request run: an un-killed run takes $T_REQ ms ($(jq -r '[.targets[] | "\(.dataset) \(.elapsed_ms)"] | join(", ")' "$TMP/.show.json") ms)"

kills=0 iters=0 interrupted=0 checks0=$checks phase_failed=0 tphase=$(now_ms) dup=0 stages=
fractions request $((N_REQ * 3)) >fr-request
while [ "$kills" -lt "$N_REQ" ] && [ "$iters" -lt $((N_REQ * 3)) ]; do
	iters=$((iters + 1))
	k=$((iters + 1))
	f=$(sed -n "${iters}p" fr-request)
	d=$(delay_for "$f" "$T_REQ")
	CTX="seed $SEED, request iteration $iters (subject $k, fraction $f, ${d}s of ${T_REQ}ms)"
	"$STEWARD" --home "$WR" request new erase --subject "user.contact.email:subj$k.crash@example.com" >"$TMP/.id" 2>&1
	id=$(cat "$TMP/.id")
	seq0=$(last_seq "$WR")
	crash "$d" "$STEWARD" --home "$WR" request run "$id"
	[ "$KILLED" -eq 1 ] || { iequal 0 "$CRC" 'a request run the kill missed succeeded'; T_REQ=$(shrink "$T_REQ"); }
	kills=$((kills + KILLED))
	icheck 'the target database passes integrity_check' db_ok targets/prod.db
	after_kill "$WR" "$seq0"
	icheck "each table and file holds all or none of subject $k's rows, the rest as they were" \
		python3 check_targets.py pristine targets pseudonyms.txt "$done_ids" "$k" "$unknown_ids"
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
	icheck 'the target database passes integrity_check' db_ok targets/prod.db
	icheck 'audit verify passes after the second run' "$STEWARD" --home "$WR" audit verify
	if python3 check_targets.py pristine targets pseudonyms.txt "$done_ids,$k" '' "$unknown_ids" >"$TMP/.icheck" 2>&1; then
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
# shellcheck disable=SC2086 # one word per kill
note "request run: where the kills left the subject in flight: $(printf '%s\n' $stages | awk -F, '
	{ n++; for (i = 1; i <= NF; i++) { split($i, a, ":")
		if (a[1] == "lake") { split(a[2], b, "/"); if (b[1] == b[2]) all++; else if (b[1] > 0) some++ }
		else if (a[2] == "erased") e[a[1]]++ } }
	END { printf "erased from users in %d of %d kills, orders %d, enrollments %d; lake: every file %d, some files %d", e["users"], n, e["orders"], e["enrollments"], all, some }')"
note "request run: $dup duplicate POSTs to the HTTP targets (allowed: a kill between an answer and its record)"
end_phase 'request run' "$T_REQ" "$N_REQ"
check "audit log shows the $interrupted interrupted request runs" interrupted_in_log "$WR" request.run
# What a later erasure would miss: no line of an erased subject anywhere under the lake, in
# whatever file name.
check 'no erased subject left anywhere in the lake directory' python3 - "$done_ids" pseudonyms.txt targets/lake <<'PY'
import os, sys
pseu = [l.strip() for l in open(sys.argv[2])]
gone = [pseu[int(u) - 1].encode() for u in sys.argv[1].split(",") if u]
found = []
for f in sorted(os.listdir(sys.argv[3])):
    data = open(os.path.join(sys.argv[3], f), "rb").read()
    n = sum(data.count(p) for p in gone)
    if n:
        found.append("%s: %d lines of erased subjects" % (f, n))
print("\n".join(found))
sys.exit(1 if found else 0)
PY

T1=$(now_ms)
note "crash loop, CRASH_SEED=$SEED:$summary kills; $checks checks passed in the loops; $(((T1 - T0) / 1000)) s"
done_testing
