#!/usr/bin/env bash
# Audit benchmark: what the audit log adds to one command, `audit verify` on a log of 1M
# records, Merkle proofs of one record in it, and erasing one subject from 1M-row SQLite
# targets with `request run`, against absolute goals (there is no hand-written baseline for
# the audit code).
# Usage: bench/audit.sh [--quick] [--keep DIR]   (see bench/README.md)
# shellcheck disable=SC2154 # M_med, M_max, ... are set by summarize (bench/lib.sh)
set -eu

usage() {
	cat <<'EOF'
usage: bench/audit.sh [--quick] [--keep DIR]

Benchmarks the audit log and data-subject erasure and checks the goals:
  - the audit work one command adds (open, begin, end, close; an output-only
    command such as a search: open, one record, close), in a fresh
    process each time, on a log of 100k records: catalog.search and
    pii.ingest (which signs a checkpoint)
  - `steward audit verify` on a log of 1M generated records
  - Merkle proofs on that log: an inclusion proof of one record (built and
    checked, audit_bench prove) and `steward audit prove` as a whole process
  - `steward request run` of an erasure against 1M-row SQLite tables: a raw
    int64 id (every row hashed), a pseudonymous key without and with an index

  --quick     100k records and 100k-row tables, fewer runs: a smoke run of
              about 20 s; the 1M goals are then skipped
  --keep DIR  keep the generated audit logs and target tables in DIR and reuse
              them (copied into the scratch directory before each use); they are
              regenerated only when missing or made with other options

Environment:
  BENCH_TMP      scratch directory (default /tmp/steward-bench)
  STEWARD        binary to test (default build/cli/steward, rebuilt with ninja first)
  AUDIT_BENCH    the helper (default build/bench/audit_bench, built with ninja)
  APPEND_RUNS    fresh processes per action for the append cost (default 100)
  VERIFY_RUNS    timed `audit verify` runs per log; the median is judged (default 3)
  PROVE_RUNS     inclusion proofs of random records timed on the big log (default 200)
  ERASE_RUNS     erasure requests per target, one subject each (default 5)
  HF_RUNS        hyperfine runs for the whole-process context (default 30)

Writes bench/out/audit.json. Exit status: 0 all goals met, 1 a goal missed,
2 usage, 3 the benchmark itself failed.
EOF
}

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
append_runs=${APPEND_RUNS:-100}
verify_runs=${VERIFY_RUNS:-3}
prove_runs=${PROVE_RUNS:-200}
erase_runs=${ERASE_RUNS:-5}
hf_runs=${HF_RUNS:-30}
if [ "$quick" = 1 ]; then
	append_runs=${APPEND_RUNS:-30}
	erase_runs=${ERASE_RUNS:-3}
	hf_runs=${HF_RUNS:-10}
	log_n=100000
	rows_n=100000
else
	log_n=1000000
	rows_n=1000000
fi
append_log_n=100000
for v in "$append_runs" "$verify_runs" "$prove_runs" "$erase_runs" "$hf_runs"; do
	case $v in '' | *[!0-9]* | 0) echo "error: run counts must be positive integers" >&2; exit 2 ;; esac
done

# --- tools -------------------------------------------------------------------

command -v /usr/bin/time >/dev/null || apt_install time
command -v hyperfine >/dev/null || apt_install hyperfine
command -v python3 >/dev/null || die "python3 is needed (target tables and the report)"

find_steward
if [ -z "${AUDIT_BENCH:-}" ]; then
	AUDIT_BENCH=$root/build/bench/audit_bench
	if [ -f "$root/build/build.ninja" ] && command -v ninja >/dev/null; then
		ninja -C "$root/build" bench/audit_bench >/dev/null ||
			die "build failed: ninja -C '$root/build' bench/audit_bench"
	fi
fi
[ -x "$AUDIT_BENCH" ] || die "no helper at '$AUDIT_BENCH' (build with: ninja -C build bench/audit_bench)"

# --- scratch -------------------------------------------------------------------

make_scratch

# Private copies, so that a rebuild of build/ during the benchmark cannot swap them.
private_steward
AB=$run/audit_bench
cp "$AUDIT_BENCH" "$AB" || die "cannot copy '$AUDIT_BENCH'"

# --- helpers -------------------------------------------------------------------

# Rows for record (bench/lib.sh): ID LABEL VALUE UNIT GOAL DETAIL [KEY=VALUE...].
# GOAL is the upper bound in UNIT, or '-' for a figure reported for information.

# ms A B: milliseconds from $EPOCHREALTIME A to B.
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }

# settle: writes the generated data back to disk before a timed part. On ext4 an fsync
# (audit.db is synchronous=FULL) waits for a journal commit that carries other files' dirty
# data too, so without this the timings would include the benchmark's own writeback.
settle() { sync; }

# new_ws DIR: a fresh workspace.
new_ws() {
	rm -rf "$1"
	"$STEWARD" init "$1" >"$run/init.log" 2>&1 || { cat "$run/init.log" >&2; die "steward init $1 failed"; }
}

# The generated logs depend on the helper and the log format.
log_src_hash=$(cat "$root/bench/audit_bench.c" "$root/audit/log.c" "$root/audit/merkle.c" \
	"$root/schemas/audit-v1.sql" |
	sha256sum | cut -c1-16)

# audit_log TAG N PII: a workspace whose audit log holds N generated records (PII: the
# share of PII actions in per mille, or 'mix' for the helper's command mix), in $data
# and, with --keep, reused when its stamp matches. Sets a_ws (a copy in $run with
# --keep), a_fill (s, or - when reused), a_rate (records/s while filling) and a_note.
audit_log() {
	local tag=$1 n=$2 pii=$3 dir=$data/audit-$1 want opt
	want="records $n pii $pii $log_src_hash"
	if stamp_ok "$dir" "$want"; then
		echo "  reusing $dir"
		a_fill=-
		a_rate=-
		a_note=", reused (--keep)"
	else
		rm -rf "$dir" "$dir.stamp"
		new_ws "$dir"
		opt=()
		[ "$pii" = mix ] || opt=(--pii "$pii")
		measure "fill-$tag" --log "$run/fill-$tag.log" --check "$AB" fill "$dir" "$n" "${opt[@]}"
		a_fill=$t_wall
		a_rate=$(sed -nE 's/^.*: ([0-9]+) records\/s.*$/\1/p' "$run/fill-$tag.log")
		a_note=
		echo "$want" >"$dir.stamp"
		echo "  $(cat "$run/fill-$tag.log")"
	fi
	a_ws=$dir
	if [ -n "$keep" ]; then
		a_ws=$run/audit-$tag
		rm -rf "$a_ws"
		cp -a "$dir" "$a_ws" || die "cannot copy '$dir'"
	fi
}

# append_cost TAG HOME K ACTION...: K rounds; each round runs `audit_bench append HOME
# ACTION` once per action, each in a fresh process (interleaved), and one disk probe
# (`audit_bench fsync`: 4 KiB appended to a new file and fdatasync()ed). The per-run lines
# ("total roles open begin end close", ms) go to $run/append-TAG-ACTION.txt, the probe's
# to $run/fsync-TAG.txt.
append_cost() {
	local tag=$1 home=$2 k=$3 i a
	shift 3
	for a in "$@"; do : >"$run/append-$tag-$a.txt"; done
	: >"$run/fsync-$tag.txt"
	for i in $(seq "$k"); do
		"$AB" fsync "$run" 1 >>"$run/fsync-$tag.txt" || die "audit_bench fsync failed"
		for a in "$@"; do
			"$AB" append "$home" "$a" >>"$run/append-$tag-$a.txt" 2>"$run/append.err" ||
				{ cat "$run/append.err" >&2; die "audit_bench append $a failed"; }
		done
	done
}

# summarize_fsync TAG: sets fsync_med fsync_p95 (ms) from the probe during append_cost TAG.
summarize_fsync() {
	sample_columns "fsync_$1" probe "$run/fsync-$1.txt" fsync
	summarize "fsync_$1" probe
}

# summarize_append NAME FILE: samples the per-run lines of audit_bench append in FILE as NAME
# and sets total_med total_p95 total_min total_max total_runs (the total, ms), the median
# of each phase (roles_med open_med begin_med end_med close_med) and p_phases (them as text).
summarize_append() {
	sample_columns "$1" steward "$2" total roles open begin end close
	summarize "$1" steward
	p_phases="roles $roles_med, open $open_med, begin $begin_med, end $end_med, close $close_med ms"
}

# verify_log TAG HOME N: VERIFY_RUNS timed runs of `steward audit verify --json`, each
# checked to report an intact log of at least N records, sampled as verify_TAG steward.
# Sets wall_med wall_min wall_max wall_runs (s), cpu_med (s), rss_max (MB), v_records and
# v_checkpoints.
check_problems=0
check_notes=()
verify_log() {
	local tag=$1 home=$2 n=$3 i st
	for i in $(seq "$verify_runs"); do
		measure verify --out "$run/verify-$tag.json" --check --sample "verify_$tag" steward \
			"$STEWARD" --home "$home" audit verify --json
		read -r st v_records v_checkpoints < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["status"], d["records"], d["checkpoints"])' "$run/verify-$tag.json")
		if [ "$st" != intact ] || [ "$v_records" -lt "$n" ]; then
			check_problems=$((check_problems + 1))
			check_notes+=("verify $tag: $st, $v_records records")
			echo "  VERIFY PROBLEM ($tag): $st, $v_records records"
		fi
		echo "  audit verify $i/$verify_runs: $t_wall s (CPU $t_cpu s), $v_records records, $v_checkpoints checkpoints, $st"
	done
	summarize "verify_$tag" steward
}

# --- header --------------------------------------------------------------------

machine_info
fs=$(df -PT "$run" 2>/dev/null | awk 'NR == 2 { print $2 " on " $1 }' || echo unknown)

echo "steward audit benchmark ($mode)"
echo "machine: $(nproc) CPUs, $cpu, $mem_mb MB RAM, $(uname -sr), load average $load"
echo "version: $version ($libs), commit $commit"
echo "binary:  $steward_src (sha256 $bin_sha..., run from a copy in the scratch directory)"
echo "scratch: $run ($fs; audit.db is synchronous=FULL, so fsync latency counts)   data: $data"
echo "method: append cost over $append_runs fresh processes per action (median and p95); audit verify median of $verify_runs; $erase_runs erasures per target (median)"
echo "goals are absolute: there is no hand-written baseline for the audit code"
echo

# --- 1. the audit work one command adds ----------------------------------------------

echo "1. audit append cost: a log of $append_log_n records, $append_runs fresh processes per action"
audit_log append "$append_log_n" mix
ws_a=$a_ws
record fill_append "$append_log_n-record log: generate (audit_bench fill)" "$a_fill" s - \
	"bulk audit_append in transactions of 100k: ${a_rate:--} records/s$a_note" \
	"records_per_s=${a_rate:--}"
settle
append_cost a "$ws_a" "$append_runs" catalog.search pii.ingest
declare -A med
for a in catalog.search pii.ingest; do
	id=append_${a#*.}
	summarize_append "$id" "$run/append-a-$a.txt"
	note="median of $append_runs fresh processes, p95 $total_p95 ms, $total_min-$total_max ms; $p_phases"
	if [ "$a" = catalog.search ]; then
		note="output only: one record before its output is shown, no pending row; $note"
	else
		note="a pending row, then the record, which signs a checkpoint; $note"
	fi
	echo "  $a: median $total_med ms, p95 $total_p95 ms ($p_phases)"
	record "$id" "audit adds to one command: $a" "$total_med" ms 2 "$note" \
		"p95_ms=$total_p95" "min_ms=$total_min" "max_ms=$total_max" "roles_ms=$roles_med" "open_ms=$open_med" \
		"begin_ms=$begin_med" "end_ms=$end_med" "close_ms=$close_med" "runs_ms=$total_runs"
	med[$id]=$total_med
done

summarize_fsync a
echo "  disk probe during the loop: 4 KiB append + fdatasync, median $fsync_med ms, p95 $fsync_p95 ms"
record fsync_probe "disk: 4 KiB append + fdatasync (probe)" "$fsync_med" ms - \
	"median of $append_runs, one per round of the loop above, p95 $fsync_p95 ms; the audit sequence flushes the WAL once for an output-only command, twice for one with other effects" \
	"p95_ms=$fsync_p95"

# The same sequence repeated in one process: what stays when nothing is cold.
"$AB" append "$ws_a" catalog.search --repeat "$append_runs" >"$run/append-warm.txt" 2>"$run/append.err" ||
	{ cat "$run/append.err" >&2; die "audit_bench append --repeat failed"; }
summarize_append append_warm "$run/append-warm.txt"
record append_warm "same for catalog.search, $append_runs in one process" "$total_med" ms - \
	"median, p95 $total_p95 ms; $p_phases" "p95_ms=$total_p95" "min_ms=$total_min" "max_ms=$total_max"

# Context: whole processes in the same (small) workspace.
"$STEWARD" --home "$ws_a" catalog load "$root/examples/catalog" >"$run/load.log" 2>&1 ||
	{ cat "$run/load.log" >&2; die "catalog load of examples/catalog failed"; }
hits=$("$STEWARD" --home "$ws_a" search order --json |
	python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
hf search "$hf_runs" 3 "$STEWARD" --home "$ws_a" search order
echo "  steward search order (whole process): median $h_med ms, $hits result(s)"
record search_process "whole process: steward search order" "$h_med" ms - \
	"hyperfine median of $hf_runs (mean $h_mean, $h_min-$h_max ms), examples/catalog, $hits result(s); includes the audit (catalog.search above: ${med[append_search]} ms)" \
	"mean_ms=$h_mean" "min_ms=$h_min" "max_ms=$h_max" "results=$hits"
hf version "$hf_runs" 3 "$STEWARD" version
record version_process "whole process: steward version (not audited)" "$h_med" ms - \
	"hyperfine median of $hf_runs (mean $h_mean, $h_min-$h_max ms): process start-up alone" \
	"mean_ms=$h_mean" "min_ms=$h_min" "max_ms=$h_max"

# --- 2. audit verify on a log of log_n records ---------------------------------------------

tag_n=$((log_n / 1000))k
[ "$log_n" -lt 1000000 ] || tag_n=$((log_n / 1000000))M
echo
echo "2. audit verify: a log of $log_n records (the command mix of audit_bench: about 8.5% PII actions, each signing a checkpoint)"
audit_log "$tag_n" "$log_n" mix
ws_v=$a_ws
record "fill_$tag_n" "$tag_n-record log: generate (audit_bench fill)" "$a_fill" s - \
	"bulk audit_append in transactions of 100k: ${a_rate:--} records/s$a_note" \
	"records_per_s=${a_rate:--}"
settle
verify_log "$tag_n" "$ws_v" "$log_n"
rate=$(awk -v r="$v_records" -v t="$wall_med" 'BEGIN { printf "%.0f", r / t }')
goal=3
[ "$log_n" = 1000000 ] || goal=-
record verify "audit verify, $tag_n records" "$wall_med" s "$goal" \
	"median of $verify_runs ($wall_min-$wall_max s), CPU $cpu_med s, peak RSS $rss_max MB; $v_records records, $v_checkpoints checkpoints; $rate records/s" \
	"runs_s=$wall_runs" "min_s=$wall_min" "max_s=$wall_max" "cpu_s=$cpu_med" "peak_rss_mb=$rss_max" "records=$v_records" \
	"checkpoints=$v_checkpoints" "records_per_s=$rate"
record verify_rate "audit verify throughput, $tag_n records" "$rate" records/s - \
	"records / median wall time" "records=$v_records"
cps_mix=$v_checkpoints
t_mix=$wall_med

# Merkle proofs on the same log: the library work of `audit prove` (build the inclusion
# proof of a random record from the stored tree and check it) and of `audit consistency`,
# then `steward audit prove` as a whole process (open, sign the head, prove, record).
"$AB" prove "$ws_v" "$prove_runs" >"$run/prove.txt" 2>"$run/prove.err" ||
	{ cat "$run/prove.err" >&2; die "audit_bench prove failed"; }
sample_columns prove merkle "$run/prove.txt" inclusion consistency pathlen
summarize prove merkle
echo "  inclusion proof of one record (built and checked): median $inclusion_med ms, p95 $inclusion_p95 ms, $pathlen_med hashes; consistency proof: median $consistency_med ms"
goal=10
[ "$log_n" = 1000000 ] || goal=-
record prove "inclusion proof of one record, $tag_n records" "$inclusion_med" ms "$goal" \
	"built from the stored tree and checked, median of $prove_runs random records ($inclusion_min-$inclusion_max ms, p95 $inclusion_p95 ms); $pathlen_med hashes" \
	"p95_ms=$inclusion_p95" "min_ms=$inclusion_min" "max_ms=$inclusion_max" "path_hashes=$pathlen_med"
record consistency "consistency proof, $tag_n records" "$consistency_med" ms - \
	"from a random prefix to the head, median of $prove_runs (p95 $consistency_p95 ms)" \
	"p95_ms=$consistency_p95"
hf prove_process "$hf_runs" 3 "$STEWARD" --home "$ws_v" audit prove "$((log_n / 2))" --json
echo "  steward audit prove (whole process): median $h_med ms"
record prove_process "whole process: steward audit prove, $tag_n records" "$h_med" ms - \
	"hyperfine median of $hf_runs (mean $h_mean, $h_min-$h_max ms): open, sign the head, prove, check, record" \
	"mean_ms=$h_mean" "min_ms=$h_min" "max_ms=$h_max"

# The same size with no PII actions: checkpoints every 1000 records only, so the
# difference is the cost of checking the signatures of the PII checkpoints.
echo "   the same with no PII actions (a checkpoint every 1000 records only)"
audit_log "$tag_n-nopii" "$log_n" 0
settle
verify_log "$tag_n-nopii" "$a_ws" "$log_n"
rate=$(awk -v r="$v_records" -v t="$wall_med" 'BEGIN { printf "%.0f", r / t }')
per_sig=$(awk -v a="$t_mix" -v b="$wall_med" -v ca="$cps_mix" -v cb="$v_checkpoints" \
	'BEGIN { printf "%.1f", (ca > cb ? (a - b) / (ca - cb) * 1e6 : 0) }')
record verify_nopii "audit verify, $tag_n records, no PII actions" "$wall_med" s - \
	"median of $verify_runs ($wall_min-$wall_max s); $v_checkpoints checkpoints; $rate records/s; each extra checkpoint of the mix costs ~$per_sig us" \
	"runs_s=$wall_runs" "records=$v_records" "checkpoints=$v_checkpoints" "records_per_s=$rate" \
	"us_per_checkpoint=$per_sig"
rm -rf "$run/audit-$tag_n-nopii"

# The append cost on the big log (information: the log's size should not matter).
settle
append_cost big "$ws_v" 30 catalog.search
summarize_append append_big "$run/append-big-catalog.search.txt"
summarize_fsync big
echo "  catalog.search append on the $tag_n log: median $total_med ms, p95 $total_p95 ms (disk probe: median $fsync_med ms)"
record append_big "audit adds to catalog.search, $tag_n-record log" "$total_med" ms - \
	"median of 30 fresh processes, p95 $total_p95 ms; $p_phases; disk probe median $fsync_med ms" \
	"p95_ms=$total_p95" "fsync_probe_ms=$fsync_med"
rm -rf "$run/audit-$tag_n" "$run/audit-append"

# --- 3. erasure against SQLite targets ------------------------------------------------------

rtag=$((rows_n / 1000))k
[ "$rows_n" -lt 1000000 ] || rtag=$((rows_n / 1000000))M
echo
echo "3. erasure: request run against $rows_n-row SQLite tables, $erase_runs subjects each"

# The target tables: users (raw int64 id), dim_user with fake pseudonyms (no index), and a
# copy of it with an index on user_key. The subjects' real pseudonyms depend on the
# workspace's key, so they are written into a fresh copy of the tables in each run.
gen_targets() {
	local dir=$1 n=$2
	python3 - "$dir" "$n" <<'PY'
import base64, os, random, sqlite3, sys

out, n = sys.argv[1], int(sys.argv[2])
first = ["ana", "ben", "carla", "dev", "eli", "femi", "gita", "hugo", "ines", "jon", "kai", "lia",
         "milo", "nora", "omar", "pia"]
last = ["smith", "garcia", "chen", "okafor", "muller", "rossi", "kim", "silva", "nowak", "haddad"]
countries = ["US", "DE", "FR", "IN", "BR", "NG", "JP", "GB", "ES", "CA"]

def make(path, ddl, sql, rows):
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute(ddl)
    db.executemany(sql, rows)
    db.commit()
    db.execute("PRAGMA journal_mode = DELETE")
    db.close()

def users():
    for i in range(1, n + 1):
        f, l = first[i % 16], last[(i // 16) % 10]
        yield (i, "%s.%s%d@example.com" % (f, l, i), "%s %s" % (f.title(), l.title()),
               "2024-%02d-%02dT10:00:00Z" % (1 + i % 12, 1 + i % 28))

def dims():
    r = random.Random(2)
    for i in range(1, n + 1):
        key = "k1:" + base64.urlsafe_b64encode(r.randbytes(18)).decode()
        yield (i, key, countries[i % 10], "2024-%02d-%02d" % (1 + i % 12, 1 + i % 28), 1)

make(out + "/users.db", "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL,"
     " name TEXT, created_at TEXT NOT NULL)", "INSERT INTO users VALUES (?, ?, ?, ?)", users())
make(out + "/dim.db", "CREATE TABLE dim_user (sk INTEGER PRIMARY KEY, user_key TEXT NOT NULL,"
     " country TEXT, signup_date TEXT, is_current INTEGER NOT NULL)",
     "INSERT INTO dim_user VALUES (?, ?, ?, ?, ?)", dims())
PY
	cp "$dir/dim.db" "$dir/dimix.db" &&
		python3 -c 'import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute("CREATE INDEX dim_user_key ON dim_user (user_key)"); db.commit()' "$dir/dimix.db"
}

tdir=$data/targets-$rtag
want="rows $rows_n $(sed -n '/^gen_targets() {/,/^}/p' "$0" | sha256sum | cut -c1-16)"
if stamp_ok "$tdir" "$want"; then
	echo "  reusing $tdir"
	gen_wall=-
	gen_note=", reused (--keep)"
else
	rm -rf "$tdir" "$tdir.stamp"
	mkdir -p "$tdir"
	t0=$EPOCHREALTIME
	gen_targets "$tdir" "$rows_n" >"$run/gen.log" 2>&1 || { cat "$run/gen.log" >&2; die "generating the target tables failed"; }
	gen_wall=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	gen_note=
	echo "$want" >"$tdir.stamp"
	echo "  generated $tdir in $gen_wall s"
fi
if [ -n "$keep" ]; then
	rm -rf "$run/targets"
	cp -a "$tdir" "$run/targets" || die "cannot copy '$tdir'"
	tdir=$run/targets
fi
tmb=$(du -sm "$tdir" | cut -f1)
record gen_targets "$rtag-row tables: generate (python3 sqlite3)" "$gen_wall" s - \
	"users.db, dim.db, dimix.db: $tmb MB$gen_note" "megabytes=$tmb"

# The workspace: a catalog of prod.users (raw id) and dw.dim_user (pseudonymous key).
ws_e=$run/ws-erase
new_ws "$ws_e"
cat >"$run/catalog.yaml" <<'YAML'
kind: table
name: prod.users
description: Accounts, one row per user (benchmark table).
owner: identity-eng
subject: id
erasure:
  action: delete
  match: id
columns:
  - {name: id, type: int64, required: true, pii: direct, category: user.unique_id}
  - {name: email, type: string, required: true, pii: direct, category: user.contact.email, normalize: email}
  - {name: name, type: string, pii: direct, category: user.name}
  - {name: created_at, type: timestamp, required: true, pii: none}
---
kind: table
name: dw.dim_user
description: User dimension keyed by the pseudonym of prod.users.id, with history rows (benchmark table).
owner: data-eng
subject: user_key
erasure:
  action: delete
  match: user_key
columns:
  - {name: user_key, type: string, required: true, pii: pseudonymous, category: user.unique_id, from: [prod.users.id]}
  - {name: country, type: string, pii: indirect, category: user.location.imprecise}
  - {name: signup_date, type: date, pii: none}
  - {name: is_current, type: bool, pii: none}
YAML
{
	"$STEWARD" --home "$ws_e" key init &&
		"$STEWARD" --home "$ws_e" catalog load "$run/catalog.yaml"
} >"$run/setup.log" 2>&1 || { cat "$run/setup.log" >&2; die "workspace setup failed"; }

# The subjects: ids spread over the table; in dim_user each has two rows (sk = id and
# id + 3, a current and a history row) carrying its real pseudonym.
subjects=()
for i in $(seq "$erase_runs"); do subjects+=($((i * rows_n / (erase_runs + 1) + 7))); done
"$STEWARD" --home "$ws_e" pii hash --purpose bench --category user.unique_id "${subjects[@]}" \
	>"$run/pseudonyms.txt" 2>"$run/hash.err" || { cat "$run/hash.err" >&2; die "pii hash failed"; }
python3 - "$tdir" "$run/pseudonyms.txt" "${subjects[@]}" <<'PY' || die "cannot place the subjects' rows"
import sqlite3, sys
tdir, keys, ids = sys.argv[1], open(sys.argv[2]).read().split(), [int(x) for x in sys.argv[3:]]
assert len(keys) == len(ids), "one pseudonym per subject"
for name in ("dim.db", "dimix.db"):
    db = sqlite3.connect(tdir + "/" + name)
    for k, i in zip(keys, ids):
        cur = db.execute("UPDATE dim_user SET user_key = ? WHERE sk IN (?, ?)", (k, i, i + 3))
        assert cur.rowcount == 2
    db.commit()
    db.close()
PY

# set_target DATASET URI: binds only DATASET in steward.yaml, keeping everything above the
# targets: section (the roles) and the file's mode.
set_target() {
	python3 - "$ws_e/steward.yaml" "$1" "$2" <<'PY' || die "cannot write the targets into steward.yaml"
import sys
path, dataset, uri = sys.argv[1:]
text = open(path).read()
at = text.find("\ntargets:")
assert at >= 0 and "\nroles:" in text[:at]
with open(path, "w") as f:
    f.write(text[:at + 1] + 'targets:\n  %s: "%s"\n' % (dataset, uri))
PY
	[ "$(stat -c %a "$ws_e/steward.yaml")" = 600 ] || die "steward.yaml is no longer mode 0600"
}

count_rows() {
	python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM " + sys.argv[2]).fetchone()[0])' "$1" "$2"
}

settle
# Samples erase_CASE steward: wall, cpu and rss of `request run`, target (its evidence's
# elapsed_ms) and new (ms of `request new`), one per round.
cases="raw pseu pseu_ix"
for i in $(seq "$erase_runs"); do
	v=${subjects[$((i - 1))]}
	msg=
	for c in $cases; do
		case $c in
		raw) ds=prod.users db=$tdir/users.db table=users expect=1 ;;
		pseu) ds=dw.dim_user db=$tdir/dim.db table=dim_user expect=2 ;;
		pseu_ix) ds=dw.dim_user db=$tdir/dimix.db table=dim_user expect=2 ;;
		esac
		set_target "$ds" "sqlite:$db?table=$table"
		before=$(count_rows "$db" "$table")
		t0=$EPOCHREALTIME
		"$STEWARD" --home "$ws_e" request new erase --subject "user.unique_id:$v" \
			>"$run/new.out" 2>"$run/new.err" || { cat "$run/new.err" >&2; die "request new failed"; }
		t1=$EPOCHREALTIME
		rid=$(cat "$run/new.out")
		measure run --out "$run/run-$c-$i.out" --err "$run/run-$c-$i.err" --sample "erase_$c" steward \
			"$STEWARD" --home "$ws_e" request run "$rid"
		rc=$t_rc
		after=$(count_rows "$db" "$table")
		"$STEWARD" --home "$ws_e" request show "$rid" --json >"$run/show.json" 2>"$run/show.err" ||
			{ cat "$run/show.err" >&2; die "request show failed"; }
		read -r matched changed elapsed < <(python3 -c '
import json, sys
t = [t for t in json.load(open(sys.argv[1]))["targets"] if t["dataset"] == sys.argv[2]][0]
print(t["matched"], t["changed"], t["elapsed_ms"])' "$run/show.json" "$ds")
		bad=
		[ "$rc" = 0 ] || bad="$bad; request run exit $rc"
		grep -q '; completed$' "$run/run-$c-$i.out" || bad="$bad; not completed"
		[ "$((before - after))" = "$expect" ] || bad="$bad; $((before - after)) rows gone, not $expect"
		[ "$matched $changed" = "$expect $expect" ] || bad="$bad; evidence matched $matched changed $changed"
		if [ -n "$bad" ]; then
			check_problems=$((check_problems + 1))
			check_notes+=("$c subject $v:${bad#;}")
			echo "  ERASURE PROBLEM ($c, subject $v):${bad#;}"
			head -c 2000 "$run/run-$c-$i.err" >&2
		fi
		sample "erase_$c" steward target "$elapsed" new "$(ms "$t0" "$t1")"
		msg+="  $c $(awk -v w="$t_wall" 'BEGIN { printf "%.1f", w * 1000 }') ms"
	done
	echo "  round $i/$erase_runs (subject $v):$msg"
done

for c in $cases; do
	summarize "erase_$c" steward
	case $c in
	raw) label="raw int64 id (every row hashed)" ;;
	pseu) label="pseudonymous key, no index" ;;
	pseu_ix) label="pseudonymous key, indexed" ;;
	esac
	goal=1
	[ "$rows_n" = 1000000 ] || goal=-
	record "erase_$c" "erase one subject, $rtag rows: $label" "$wall_med" s "$goal" \
		"request run, whole process: median of $erase_runs ($wall_min-$wall_max s), CPU $cpu_med s; target time $target_med ms (evidence elapsed_ms); request new $new_med ms" \
		"runs_s=$wall_runs" "min_s=$wall_min" "max_s=$wall_max" "cpu_s=$cpu_med" \
		"target_ms=$target_med" "target_runs_ms=$target_runs" "request_new_ms=$new_med"
done

checked=$((3 * erase_runs + 2 * verify_runs))
note="$checked checked: each erasure exits 0, completes and removes exactly the subject's rows (1 in users, 2 in dim_user), as its evidence says; every verify reports an intact log"
[ "$check_problems" = 0 ] || note=$(printf '%s | ' "${check_notes[@]}")
record checks "erasures and verifies are correct" "$check_problems" problems 0 "$note" "checked=$checked"

# --- report ----------------------------------------------------------------------

report_load_end
report audit --goals-note "absolute goals; no baseline" --skipped "--quick: sizes below 1M" \
	--meta machine.scratch_fs="$fs" --meta machine.load_average="$load" \
	--meta machine.load_average_end="$load_end" \
	--meta steward.binary="$steward_src" --meta steward.binary_sha256_prefix="$bin_sha" \
	--meta baseline:=null \
	--meta method.append.log_records:="$append_log_n" --meta method.append.fresh_processes:="$append_runs" \
	--meta "method.append.statistic=median of the audit work (roles, open, begin, end, close) per process" \
	--meta method.verify.log_records:="$log_n" --meta method.verify.runs:="$verify_runs" \
	--meta "method.verify.statistic=median wall time of the whole process" \
	--meta method.prove.runs:="$prove_runs" \
	--meta "method.prove.statistic=median of the library work per proof (audit_bench prove)" \
	--meta method.erase.rows:="$rows_n" --meta method.erase.runs_per_target:="$erase_runs" \
	--meta "method.erase.statistic=median wall time of \`request run\`, whole process" \
	--meta method.hyperfine_runs:="$hf_runs" \
	--goal "append_search=the audit adds <= 2 ms to a command: catalog.search (median, fresh process)" \
	--goal "append_ingest=the audit adds <= 2 ms to a command: pii.ingest, which signs a checkpoint" \
	--goal "verify=audit verify on 1M records in <= 3 s" \
	--goal "prove=an inclusion proof of one record of 1M in <= 10 ms" \
	--goal "erase_raw=erase one subject from a 1M-row SQLite table in <= 1 s: raw int64 id (full scan)" \
	--goal "erase_pseu=erase one subject from a 1M-row SQLite table in <= 1 s: pseudonymous key, no index" \
	--goal "erase_pseu_ix=erase one subject from a 1M-row SQLite table in <= 1 s: pseudonymous key, indexed" \
	--goal "checks=erasures remove exactly the subject's rows; verify reports intact"
