#!/usr/bin/env bash
# Audit benchmark: what the audit log adds to one command, `audit verify` on a log of 1M
# records, and erasing one subject from 1M-row SQLite targets with `request run`, against
# absolute goals (there is no hand-written baseline for the audit code).
# Usage: bench/audit.sh [--quick] [--keep DIR]   (see bench/README.md)
set -eu

usage() {
	cat <<'EOF'
usage: bench/audit.sh [--quick] [--keep DIR]

Benchmarks the audit log and data-subject erasure and checks the goals:
  - the audit work one command adds (open, begin, end, close), in a fresh
    process each time, on a log of 100k records: catalog.search and
    pii.ingest (which signs a checkpoint)
  - `steward audit verify` on a log of 1M generated records
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
  ERASE_RUNS     erasure requests per target, one subject each (default 5)
  HF_RUNS        hyperfine runs for the whole-process context (default 30)

Writes bench/out/audit.json. Exit status: 0 all goals met, 1 a goal missed,
2 usage, 3 the benchmark itself failed.
EOF
}

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
out_json=$here/out/audit.json
append_runs=${APPEND_RUNS:-100}
verify_runs=${VERIFY_RUNS:-3}
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
for v in "$append_runs" "$verify_runs" "$erase_runs" "$hf_runs"; do
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
steward_src=$STEWARD
STEWARD=$run/steward
AB=$run/audit_bench
{ cp "$steward_src" "$STEWARD" && cp "$AUDIT_BENCH" "$AB"; } || die "cannot copy the binaries"
bin_sha=$(sha256sum "$STEWARD" | cut -c1-12)

# --- helpers -------------------------------------------------------------------

# Rows for record (bench/lib.sh): ID LABEL VALUE UNIT GOAL DETAIL [KEY=VALUE...].
# GOAL is the upper bound in UNIT, or '-' for a figure reported for information.

# pctl P N...: the P-th percentile (nearest rank) of N..., e.g. pctl 95 ...
pctl() {
	local p=$1
	shift
	printf '%s\n' "$@" | sort -g | awk -v p="$p" '{ a[NR] = $1 }
		END { i = int(p / 100 * NR); if (i < p / 100 * NR) i++; if (i < 1) i = 1; print a[i] }'
}

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

# stamp_ok PATH WANT: with --keep, whether PATH exists with a stamp equal to WANT.
stamp_ok() {
	[ -n "$keep" ] && [ -e "$1" ] && [ "$(cat "$1.stamp" 2>/dev/null)" = "$2" ]
}

# The generated logs depend on the helper and the log format.
log_src_hash=$(cat "$root/bench/audit_bench.c" "$root/audit/log.c" "$root/schemas/audit-v1.sql" |
	sha256sum | cut -c1-16)

# audit_log TAG N PII: a workspace whose audit log holds N generated records (PII: the
# share of PII actions in per mille, or 'mix' for the helper's command mix), in $data
# and, with --keep, reused when its stamp matches. Sets a_ws (a copy in $run with
# --keep), a_fill (s, or - when reused), a_rate (records/s while filling) and a_note.
audit_log() {
	local tag=$1 n=$2 pii=$3 dir=$data/audit-$1 want t0 opt
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
		t0=$EPOCHREALTIME
		"$AB" fill "$dir" "$n" "${opt[@]}" >"$run/fill-$tag.log" 2>&1 ||
			{ cat "$run/fill-$tag.log" >&2; die "audit_bench fill $n failed"; }
		a_fill=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
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

# summarize_fsync TAG: sets f_med f_p95 (ms) from the probe during append_cost TAG.
summarize_fsync() {
	local lat
	read -ra lat < <(paste -sd' ' - <"$run/fsync-$1.txt")
	read -r f_med _ _ < <(stats "${lat[@]}")
	f_p95=$(pctl 95 "${lat[@]}")
}

# summarize_append FILE: sets p_med p_p95 p_min p_max (total, ms), p_phases (the median of
# each phase, as text) and p_runs (every total, comma-separated).
summarize_append() {
	local f=$1 totals
	read -ra totals < <(awk '{ print $1 }' "$f" | paste -sd' ' -)
	read -r p_med p_min p_max < <(stats "${totals[@]}")
	p_p95=$(pctl 95 "${totals[@]}")
	p_runs=$(IFS=,; echo "${totals[*]}")
	p_phases=$(for c in 2 3 4 5 6; do
		read -ra col < <(awk -v c="$c" '{ print $c }' "$f" | paste -sd' ' -)
		read -r m _ _ < <(stats "${col[@]}")
		printf '%s ' "$m"
	done)
	read -r ph_roles ph_open ph_begin ph_end ph_close <<<"$p_phases"
	p_phases="roles $ph_roles, open $ph_open, begin $ph_begin, end $ph_end, close $ph_close ms"
}

# hf NAME CMD...: hyperfine (no shell) on CMD; sets h_med h_mean h_min h_max (ms).
hf() {
	local name=$1
	shift
	local cmd
	cmd=$(printf '%q ' "$@")
	if ! hyperfine -N --style basic --warmup 3 --runs "$hf_runs" \
		--export-json "$run/$name.json" "$cmd" >"$run/$name.log" 2>&1; then
		cat "$run/$name.log" >&2
		die "hyperfine failed: $cmd"
	fi
	read -r h_med h_mean h_min h_max < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(" ".join("%.2f" % (1000 * r[k]) for k in ("median", "mean", "min", "max")))' "$run/$name.json")
}

# verify_log TAG HOME N: VERIFY_RUNS timed runs of `steward audit verify --json`, each
# checked to report an intact log of at least N records. Sets v_med v_min v_max (s),
# v_cpu (median, s), v_rss (MB, the largest), v_walls, v_records and v_checkpoints.
check_problems=0
check_notes=()
verify_log() {
	local tag=$1 home=$2 n=$3 i walls=() cpus=() t0 t1 kb user sys st
	v_rss=0
	for i in $(seq "$verify_runs"); do
		t0=$EPOCHREALTIME
		/usr/bin/time -f '%M %U %S' -o "$run/verify.time" \
			"$STEWARD" --home "$home" audit verify --json >"$run/verify-$tag.json" 2>"$run/verify.err" ||
			{ cat "$run/verify.err" >&2; die "audit verify of the $tag log failed"; }
		t1=$EPOCHREALTIME
		read -r kb user sys <"$run/verify.time"
		walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
		cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')")
		v_rss=$(awk -v a="$v_rss" -v k="$kb" 'BEGIN { m = k / 1024; printf "%.1f", (m > a ? m : a) }')
		read -r st v_records v_checkpoints < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["status"], d["records"], d["checkpoints"])' "$run/verify-$tag.json")
		if [ "$st" != intact ] || [ "$v_records" -lt "$n" ]; then
			check_problems=$((check_problems + 1))
			check_notes+=("verify $tag: $st, $v_records records")
			echo "  VERIFY PROBLEM ($tag): $st, $v_records records"
		fi
		echo "  audit verify $i/$verify_runs: ${walls[-1]} s (CPU ${cpus[-1]} s), $v_records records, $v_checkpoints checkpoints, $st"
	done
	read -r v_med v_min v_max < <(stats "${walls[@]}")
	read -r v_cpu _ _ < <(stats "${cpus[@]}")
	v_walls=$(IFS=,; echo "${walls[*]}")
}

# --- header --------------------------------------------------------------------

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
[ -n "$cpu" ] || cpu=$(lscpu 2>/dev/null | awk -F': *' '/Model name/ { print $2; exit }' || true)
mem_mb=$(awk '/^MemTotal/ { printf "%.0f", $2 / 1024 }' /proc/meminfo 2>/dev/null || echo 0)
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
fs=$(df -PT "$run" 2>/dev/null | awk 'NR == 2 { print $2 " on " $1 }' || echo unknown)
version=$("$STEWARD" version | head -1)
libs=$("$STEWARD" version | tail -n +2 | paste -sd, - | sed 's/,/, /g')
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit+dirty"
mode=full
[ "$quick" = 0 ] || mode=quick

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
	summarize_append "$run/append-a-$a.txt"
	id=append_${a#*.}
	note="median of $append_runs fresh processes, p95 $p_p95 ms, $p_min-$p_max ms; $p_phases"
	[ "$a" = catalog.search ] || note="signs a checkpoint; $note"
	echo "  $a: median $p_med ms, p95 $p_p95 ms ($p_phases)"
	record "$id" "audit adds to one command: $a" "$p_med" ms 2 "$note" \
		"p95_ms=$p_p95" "min_ms=$p_min" "max_ms=$p_max" "roles_ms=$ph_roles" "open_ms=$ph_open" \
		"begin_ms=$ph_begin" "end_ms=$ph_end" "close_ms=$ph_close" "runs_ms=$p_runs"
	med[$id]=$p_med
done

summarize_fsync a
echo "  disk probe during the loop: 4 KiB append + fdatasync, median $f_med ms, p95 $f_p95 ms"
record fsync_probe "disk: 4 KiB append + fdatasync (probe)" "$f_med" ms - \
	"median of $append_runs, one per round of the loop above, p95 $f_p95 ms; the audit sequence makes several such commits (audit.db is synchronous=FULL)" \
	"p95_ms=$f_p95"

# The same sequence repeated in one process: what stays when nothing is cold.
"$AB" append "$ws_a" catalog.search --repeat "$append_runs" >"$run/append-warm.txt" 2>"$run/append.err" ||
	{ cat "$run/append.err" >&2; die "audit_bench append --repeat failed"; }
summarize_append "$run/append-warm.txt"
record append_warm "same for catalog.search, $append_runs in one process" "$p_med" ms - \
	"median, p95 $p_p95 ms; $p_phases" "p95_ms=$p_p95" "min_ms=$p_min" "max_ms=$p_max"

# Context: whole processes in the same (small) workspace.
"$STEWARD" --home "$ws_a" catalog load "$root/examples/catalog" >"$run/load.log" 2>&1 ||
	{ cat "$run/load.log" >&2; die "catalog load of examples/catalog failed"; }
hits=$("$STEWARD" --home "$ws_a" search order --json |
	python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
hf search "$STEWARD" --home "$ws_a" search order
echo "  steward search order (whole process): median $h_med ms, $hits result(s)"
record search_process "whole process: steward search order" "$h_med" ms - \
	"hyperfine median of $hf_runs (mean $h_mean, $h_min-$h_max ms), examples/catalog, $hits result(s); includes the audit (catalog.search above: ${med[append_search]} ms)" \
	"mean_ms=$h_mean" "min_ms=$h_min" "max_ms=$h_max" "results=$hits"
hf version "$STEWARD" version
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
rate=$(awk -v r="$v_records" -v t="$v_med" 'BEGIN { printf "%.0f", r / t }')
goal=3
[ "$log_n" = 1000000 ] || goal=-
record verify "audit verify, $tag_n records" "$v_med" s "$goal" \
	"median of $verify_runs ($v_min-$v_max s), CPU $v_cpu s, peak RSS $v_rss MB; $v_records records, $v_checkpoints checkpoints; $rate records/s" \
	"runs_s=$v_walls" "min_s=$v_min" "max_s=$v_max" "cpu_s=$v_cpu" "peak_rss_mb=$v_rss" "records=$v_records" \
	"checkpoints=$v_checkpoints" "records_per_s=$rate"
record verify_rate "audit verify throughput, $tag_n records" "$rate" records/s - \
	"records / median wall time" "records=$v_records"
cps_mix=$v_checkpoints
t_mix=$v_med

# The same size with no PII actions: checkpoints every 1000 records only, so the
# difference is the cost of checking the signatures of the PII checkpoints.
echo "   the same with no PII actions (a checkpoint every 1000 records only)"
audit_log "$tag_n-nopii" "$log_n" 0
settle
verify_log "$tag_n-nopii" "$a_ws" "$log_n"
rate=$(awk -v r="$v_records" -v t="$v_med" 'BEGIN { printf "%.0f", r / t }')
per_sig=$(awk -v a="$t_mix" -v b="$v_med" -v ca="$cps_mix" -v cb="$v_checkpoints" \
	'BEGIN { printf "%.1f", (ca > cb ? (a - b) / (ca - cb) * 1e6 : 0) }')
record verify_nopii "audit verify, $tag_n records, no PII actions" "$v_med" s - \
	"median of $verify_runs ($v_min-$v_max s); $v_checkpoints checkpoints; $rate records/s; each extra checkpoint of the mix costs ~$per_sig us" \
	"runs_s=$v_walls" "records=$v_records" "checkpoints=$v_checkpoints" "records_per_s=$rate" \
	"us_per_checkpoint=$per_sig"
rm -rf "$run/audit-$tag_n-nopii"

# The append cost on the big log (information: the log's size should not matter).
settle
append_cost big "$ws_v" 30 catalog.search
summarize_append "$run/append-big-catalog.search.txt"
summarize_fsync big
echo "  catalog.search append on the $tag_n log: median $p_med ms, p95 $p_p95 ms (disk probe: median $f_med ms)"
record append_big "audit adds to catalog.search, $tag_n-record log" "$p_med" ms - \
	"median of 30 fresh processes, p95 $p_p95 ms; $p_phases; disk probe median $f_med ms" \
	"p95_ms=$p_p95" "fsync_probe_ms=$f_med"
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
declare -A e_walls e_cpus e_elapsed e_new
cases="raw pseu pseu_ix"
for c in $cases; do e_walls[$c]=; e_cpus[$c]=; e_elapsed[$c]=; e_new[$c]=; done
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
		rc=0
		t2=$EPOCHREALTIME
		/usr/bin/time -f '%M %U %S' -o "$run/run.time" \
			"$STEWARD" --home "$ws_e" request run "$rid" >"$run/run-$c-$i.out" 2>"$run/run-$c-$i.err" || rc=$?
		t3=$EPOCHREALTIME
		read -r _ user sys < <(tail -n 1 "$run/run.time")
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
		e_walls[$c]+="$(awk -v a="$t2" -v b="$t3" 'BEGIN { printf "%.3f", b - a }') "
		e_cpus[$c]+="$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }') "
		e_elapsed[$c]+="$elapsed "
		e_new[$c]+="$(ms "$t0" "$t1") "
		msg+="  $c $(ms "$t2" "$t3") ms"
	done
	echo "  round $i/$erase_runs (subject $v):$msg"
done

for c in $cases; do
	read -ra w <<<"${e_walls[$c]}"
	read -ra cu <<<"${e_cpus[$c]}"
	read -ra el <<<"${e_elapsed[$c]}"
	read -ra nw <<<"${e_new[$c]}"
	read -r m_wall m_min m_max < <(stats "${w[@]}")
	read -r m_cpu _ _ < <(stats "${cu[@]}")
	read -r m_el _ _ < <(stats "${el[@]}")
	read -r m_new _ _ < <(stats "${nw[@]}")
	case $c in
	raw) label="raw int64 id (every row hashed)" ;;
	pseu) label="pseudonymous key, no index" ;;
	pseu_ix) label="pseudonymous key, indexed" ;;
	esac
	goal=1
	[ "$rows_n" = 1000000 ] || goal=-
	record "erase_$c" "erase one subject, $rtag rows: $label" "$m_wall" s "$goal" \
		"request run, whole process: median of $erase_runs ($m_min-$m_max s), CPU $m_cpu s; target time $m_el ms (evidence elapsed_ms); request new $m_new ms" \
		"runs_s=$(IFS=,; echo "${w[*]}")" "min_s=$m_min" "max_s=$m_max" "cpu_s=$m_cpu" \
		"target_ms=$m_el" "target_runs_ms=$(IFS=,; echo "${el[*]}")" "request_new_ms=$m_new"
done

checked=$((3 * erase_runs + 2 * verify_runs))
note="$checked checked: each erasure exits 0, completes and removes exactly the subject's rows (1 in users, 2 in dim_user), as its evidence says; every verify reports an intact log"
[ "$check_problems" = 0 ] || note=$(printf '%s | ' "${check_notes[@]}")
record checks "erasures and verifies are correct" "$check_problems" problems 0 "$note" "checked=$checked"

# --- report ----------------------------------------------------------------------

load_end=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
mkdir -p "$(dirname "$out_json")"
echo
echo "load average at the end: $load_end (at the start: $load)"
echo
MODE=$mode CPU=$cpu NPROC=$(nproc) MEM_MB=$mem_mb KERNEL=$(uname -sr) LOAD=$load LOAD_END=$load_end \
VERSION=$version LIBS=$libs COMMIT=$commit BINARY=$steward_src BIN_SHA=$bin_sha FS=$fs \
APPEND_RUNS=$append_runs VERIFY_RUNS=$verify_runs ERASE_RUNS=$erase_runs HF_RUNS=$hf_runs \
LOG_N=$log_n ROWS_N=$rows_n APPEND_LOG_N=$append_log_n \
python3 - "$results" "$out_json" <<'PY'
import datetime, json, os, sys

def crashed(*exc):  # a bug in the report is a benchmark failure (3), not a missed goal (1)
    sys.__excepthook__(*exc)
    sys.stdout.flush()
    os._exit(3)
sys.excepthook = crashed

def num(s):
    if "," in s:
        return [num(x) for x in s.split(",")]
    try:
        return float(s) if "." in s or "e" in s else int(s)
    except ValueError:
        return s

def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "s":
        return "%.3f s" % v if v < 1 else "%.2f s" % v
    if unit == "ms":
        return "%.2f ms" % v
    if unit == "records/s":
        return "{:,.0f}/s".format(v)
    if unit == "problems":
        return "ok" if v == 0 else "%d bad" % v
    return "%g %s" % (v, unit)

rows = []
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    rid, label, value, unit, goal, detail = f[:6]
    extra = {k: num(v) for k, v in (kv.split("=", 1) for kv in f[6:])}
    for k in list(extra):
        if k.endswith("runs_s") or k.endswith("runs_ms"):
            if not isinstance(extra[k], list):
                extra[k] = [extra[k]]
    value = None if value == "-" else num(value)
    goal = None if goal == "-" else num(goal)
    status = "info" if goal is None else ("PASS" if value <= goal else "FAIL")
    rows.append(dict(id=rid, label=label, value=value, unit=unit, goal=goal, status=status,
                     detail=detail, **extra))

goals = [("append_search", "the audit adds <= 2 ms to a command: catalog.search (median, fresh process)"),
         ("append_ingest", "the audit adds <= 2 ms to a command: pii.ingest, which signs a checkpoint"),
         ("verify", "audit verify on 1M records in <= 3 s"),
         ("erase_raw", "erase one subject from a 1M-row SQLite table in <= 1 s: raw int64 id (full scan)"),
         ("erase_pseu", "erase one subject from a 1M-row SQLite table in <= 1 s: pseudonymous key, no index"),
         ("erase_pseu_ix", "erase one subject from a 1M-row SQLite table in <= 1 s: pseudonymous key, indexed"),
         ("checks", "erasures remove exactly the subject's rows; verify reports intact")]
by_id = {r["id"]: r for r in rows}

head = ("measurement", "result", "goal", "status", "detail")
table = [(r["label"], fmt(r["value"], r["unit"]),
          "-" if r["goal"] is None else ("none" if r["unit"] == "problems" else "<= " + fmt(r["goal"], r["unit"])),
          r["status"], r["detail"]) for r in rows]
w = [max(len(x[i]) for x in table + [head]) for i in range(5)]
line = lambda x: "  ".join((x[i].rjust(w[i]) if i in (1, 2) else x[i].ljust(w[i])) for i in range(5)).rstrip()
print(line(head))
print("  ".join("-" * n for n in w))
for t in table:
    print(line(t))

summary = []
for gid, text in goals:
    r = by_id.get(gid)
    if r is None or r["status"] == "info":
        summary.append(dict(id=gid, goal=text, status="SKIP", value=None if r is None else r["value"],
                            unit=None if r is None else r["unit"]))
    else:
        summary.append(dict(id=gid, goal=text, status=r["status"], value=r["value"], unit=r["unit"],
                            limit=r["goal"]))
judged = [g for g in summary if g["status"] != "SKIP"]
met = sum(g["status"] == "PASS" for g in judged)

env = os.environ
doc = dict(benchmark="audit", mode=env["MODE"],
           date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           machine=dict(nproc=int(env["NPROC"]), cpu=env["CPU"], mem_mb=int(env["MEM_MB"]),
                        kernel=env["KERNEL"], scratch_fs=env["FS"], load_average=env["LOAD"],
                        load_average_end=env["LOAD_END"]),
           steward=dict(version=env["VERSION"], libraries=env["LIBS"], commit=env["COMMIT"],
                        binary=env["BINARY"], binary_sha256_prefix=env["BIN_SHA"]),
           baseline=None,
           method=dict(append=dict(log_records=int(env["APPEND_LOG_N"]), fresh_processes=int(env["APPEND_RUNS"]),
                                   statistic="median of the audit work (roles, open, begin, end, close) per process"),
                       verify=dict(log_records=int(env["LOG_N"]), runs=int(env["VERIFY_RUNS"]),
                                   statistic="median wall time of the whole process"),
                       erase=dict(rows=int(env["ROWS_N"]), runs_per_target=int(env["ERASE_RUNS"]),
                                  statistic="median wall time of `request run`, whole process"),
                       hyperfine_runs=int(env["HF_RUNS"])),
           results=rows, goals=summary, all_met=met == len(judged))
with open(sys.argv[2], "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")

print()
print("results: %s" % os.path.abspath(sys.argv[2]))
skipped = len(summary) - len(judged)
print("goals: %d of %d met%s (absolute goals; no baseline)" % (met, len(judged),
      ", %d skipped (--quick: sizes below 1M)" % skipped if skipped else ""))
for g in summary:
    got = "" if g["value"] is None else "  (%s)" % fmt(g["value"], g["unit"])
    print("%-4s  %s%s" % (g["status"], g["goal"], got))
sys.exit(0 if met == len(judged) else 1)
PY
