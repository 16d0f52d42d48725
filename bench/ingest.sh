#!/usr/bin/env bash
# Ingest benchmark: pipes a generated event stream through `steward ingest 'events.*'`
# (--threads 1 and 2) side by side with the hand-written baselines in shared/bench/
# (Node and Python), interleaved round by round, and checks throughput ratios, peak
# memory and that the record counts reconcile.
# Usage: bench/ingest.sh [--quick] [--keep DIR]   (see bench/README.md)
set -eu

usage() {
	cat <<'EOF'
usage: bench/ingest.sh [--quick] [--keep DIR]

Benchmarks `steward ingest 'events.*'` on the event stream of
shared/corpus/gen_events.py against shared/bench/baseline_node.js and
shared/bench/baseline_python.py, run side by side (interleaved) in one run,
and checks the goals.

  --quick     only the 200k-event part (no 2M-event memory run)
  --keep DIR  keep the generated event files in DIR and reuse them on later runs
              (they are regenerated only when missing or made with other options)

Environment:
  BENCH_TMP      scratch directory (default /tmp/steward-bench)
  STEWARD        binary to test (default build/cli/steward, rebuilt with ninja first)
  RUNS           timed rounds over the 200k events; medians are judged (default 3)
  NODE, PYTHON   interpreters for the baselines (default node, python3)

Writes bench/out/ingest.json. Exit status: 0 all goals met, 1 a goal missed,
2 usage, 3 the benchmark itself failed.
EOF
}

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
gen=$shared/corpus/gen_events.py
corpus_catalog=$shared/corpus/catalog
base_node=$shared/bench/baseline_node.js
base_python=$shared/bench/baseline_python.py
runs=${RUNS:-3}
out_json=$here/out/ingest.json
dataset='events.*'

case $runs in '' | *[!0-9]* | 0) echo "error: RUNS must be a positive integer" >&2; exit 2 ;; esac

# --- tools -------------------------------------------------------------------

command -v /usr/bin/time >/dev/null || apt_install time
NODE=${NODE:-node}
PYTHON=${PYTHON:-python3}
if ! command -v "$NODE" >/dev/null; then
	apt_install nodejs
	command -v "$NODE" >/dev/null || NODE=nodejs
fi
command -v "$NODE" >/dev/null || die "no Node.js ('$NODE') for the baseline"
command -v "$PYTHON" >/dev/null || die "python3 is needed (generator, baseline and report)"
for f in "$gen" "$base_node" "$base_python"; do
	[ -f "$f" ] || die "missing '$f' (set STEWARD_SHARED)"
done
[ -d "$corpus_catalog" ] || die "missing catalog '$corpus_catalog' (set STEWARD_SHARED)"

find_steward

# --- scratch -------------------------------------------------------------------

make_scratch

# Every run uses a private copy of the binary, so that a rebuild of build/ by someone else
# during the benchmark cannot swap it between rounds.
steward_src=$STEWARD
STEWARD=$run/steward
cp "$steward_src" "$STEWARD" || die "cannot copy '$steward_src'"
bin_sha=$(sha256sum "$STEWARD" | cut -c1-12)

# --- helpers -------------------------------------------------------------------


# Rows for record (bench/lib.sh): ID LABEL VALUE UNIT GOAL DETAIL [KEY=VALUE...].
# GOAL is '<=N' or '>=N' in UNIT, or '-' for a figure reported for information.

# generate N FILE: runs gen_events.py --count N unless --keep already holds the same
# stream (a stamp beside FILE records the options and the generator's hash).
# Sets g_wall, g_note, g_bytes, g_mb and g_lines.
generate() {
	local n=$1 file=$2 want t0
	want="--count $n $(sha256sum "$gen" | cut -c1-16)"
	if [ -n "$keep" ] && [ -f "$file" ] && [ "$(cat "$file.stamp" 2>/dev/null)" = "$want" ]; then
		echo "  reusing $file"
		g_wall=-
		g_note=", reused (--keep)"
	else
		rm -f "$file" "$file.stamp"
		t0=$EPOCHREALTIME
		"$PYTHON" "$gen" --count "$n" >"$file.part" 2>"$run/gen.log" ||
			{ cat "$run/gen.log" >&2; die "gen_events.py --count $n failed"; }
		mv "$file.part" "$file"
		g_wall=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
		echo "$want" >"$file.stamp"
		g_note=
	fi
	g_bytes=$(stat -c %s "$file")
	g_mb=$(awk -v b="$g_bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
	g_lines=$(wc -l <"$file")
	[ "$g_lines" = "$n" ] || die "$file has $g_lines lines, expected $n"
	[ "$g_wall" = - ] || echo "  generated $file in $g_wall s: $g_lines events, $g_mb MB"
}

# run_cmd TAG IN SINK CMD...: runs CMD <IN under /usr/bin/time with stderr in
# $run/TAG.err. SINK is 'null' (stdout to /dev/null) or 'count' (stdout lines counted
# by wc -l). Sets r_wall (s, wall clock of the whole run), r_cpu (user + system, s),
# r_rss (MB, peak resident set size), r_rc (exit status) and r_lines (or '-').
run_cmd() {
	local tag=$1 in=$2 sink=$3
	shift 3
	local tf=$run/$tag.time err=$run/$tag.err t0 t1 kb user sys
	rm -f "$tf"
	r_lines=-
	r_rc=0
	t0=$EPOCHREALTIME
	if [ "$sink" = null ]; then
		/usr/bin/time -f '%M %U %S' -o "$tf" "$@" <"$in" >/dev/null 2>"$err" || r_rc=$?
	else
		r_lines=$({
			rc=0
			/usr/bin/time -f '%M %U %S' -o "$tf" "$@" <"$in" 2>"$err" || rc=$?
			echo "$rc" >"$run/$tag.rc"
		} | wc -l)
		r_rc=$(cat "$run/$tag.rc")
	fi
	t1=$EPOCHREALTIME
	[ -s "$tf" ] || { cat "$err" >&2; die "no timing for: $*"; }
	# With a non-zero exit, GNU time writes "Command exited with ..." first.
	read -r kb user sys < <(tail -n 1 "$tf")
	r_wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	r_cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
	r_rss=$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }')
}

# run_baseline TAG IN SINK NAME: runs baseline NAME (node or python); it must exit 0
# and write nothing to stderr (it writes malformed lines there).
run_baseline() {
	local tag=$1 in=$2 sink=$3 name=$4
	case $name in
	node) run_cmd "$tag" "$in" "$sink" "$NODE" "$base_node" ;;
	python) run_cmd "$tag" "$in" "$sink" "$PYTHON" "$base_python" ;;
	esac
	if [ "$r_rc" != 0 ] || [ -s "$run/$tag.err" ]; then
		head -c 2000 "$run/$tag.err" >&2
		die "baseline $name failed (exit $r_rc) or reported malformed lines"
	fi
}

count_problems=0
count_notes=()

# run_steward TAG IN SINK THREADS EXPECT: runs steward ingest with --threads THREADS
# and checks its summary line: in = EXPECT input lines = out + rejected, rejects file
# lines = rejected, the exit status (0, or 1 when some were rejected) and, with SINK
# 'count', output lines = out. Sets s_in s_out s_rej and adds problems to count_problems.
run_steward() {
	local tag=$1 in=$2 sink=$3 threads=$4 expect=$5 rej=$run/rejects-$1.jsonl line bad='' rlines
	rm -f "$rej"
	run_cmd "$tag" "$in" "$sink" "$STEWARD" --home "$ws" ingest "$dataset" \
		--rejects "$rej" --threads "$threads"
	line=$(grep -m1 "^ingest $dataset: " "$run/$tag.err" || true)
	if [ "$r_rc" -gt 1 ] || [ -z "$line" ]; then
		head -c 2000 "$run/$tag.err" >&2
		die "steward ingest --threads $threads failed (exit $r_rc)"
	fi
	read -r s_in s_out s_rej < <(echo "$line" |
		sed -E 's/^.*: ([0-9]+) records in, ([0-9]+) out, ([0-9]+) rejected.*$/\1 \2 \3/')
	case "$s_in $s_out $s_rej" in
	*[!0-9\ ]* | *' ' | ' '*) die "cannot parse the summary line: $line" ;;
	esac
	rlines=0
	[ ! -f "$rej" ] || rlines=$(wc -l <"$rej")
	[ "$s_in" = "$expect" ] || bad="$bad; in $s_in != $expect input lines"
	[ "$s_in" = $((s_out + s_rej)) ] || bad="$bad; in != out + rejected"
	[ "$rlines" = "$s_rej" ] || bad="$bad; rejects file has $rlines lines, not $s_rej"
	if [ "$s_rej" = 0 ]; then
		[ "$r_rc" = 0 ] || bad="$bad; exit $r_rc with nothing rejected"
	else
		[ "$r_rc" = 1 ] || bad="$bad; exit $r_rc with $s_rej rejected"
	fi
	[ "$r_lines" = - ] || [ "$r_lines" = "$s_out" ] || bad="$bad; $r_lines output lines, not $s_out"
	if [ -n "$bad" ]; then
		count_problems=$((count_problems + 1))
		count_notes+=("$tag:${bad#; }")
		echo "  COUNTS DO NOT RECONCILE ($tag): ${bad#; }"
	fi
	s_line=$line
}

# --- header --------------------------------------------------------------------

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
[ -n "$cpu" ] || cpu=$(lscpu 2>/dev/null | awk -F': *' '/Model name/ { print $2; exit }' || true)
mem_mb=$(awk '/^MemTotal/ { printf "%.0f", $2 / 1024 }' /proc/meminfo 2>/dev/null || echo 0)
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
version=$("$STEWARD" version | head -1)
libs=$("$STEWARD" version | tail -n +2 | paste -sd, - | sed 's/,/, /g')
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit+dirty"
node_v=$("$NODE" --version 2>/dev/null || echo unknown)
python_v=$("$PYTHON" --version 2>&1 | awk '{ print $2 }')
mode=full
[ "$quick" = 0 ] || mode=quick

echo "steward ingest benchmark ($mode)"
echo "machine: $(nproc) CPUs, $cpu, $mem_mb MB RAM, $(uname -sr), load average $load"
echo "version: $version ($libs), commit $commit"
echo "binary:  $steward_src (sha256 $bin_sha..., run from a copy in the scratch directory)"
echo "baselines: node $node_v, python $python_v"
echo "scratch: $run   data: $data"
echo "method: $runs interleaved rounds (node, python, steward --threads 1, --threads 2) after one checked warm-up round; medians judged"
echo

# --- workspace -------------------------------------------------------------------

ws=$run/ws
{
	"$STEWARD" init "$ws" &&
		"$STEWARD" --home "$ws" key init &&
		"$STEWARD" --home "$ws" catalog load "$corpus_catalog"
} >"$run/setup.log" 2>&1 || { cat "$run/setup.log" >&2; die "workspace setup failed"; }
echo "workspace: $(grep '^catalog:' "$run/setup.log" || echo '?')"

# --- 200k: throughput, side by side ------------------------------------------------

echo
echo "200k: gen_events.py --count 200000"
ev200k=$data/events200k.jsonl
generate 200000 "$ev200k"
in_mb=$g_mb
in_bytes=$g_bytes
record gen200k "200k generate (gen_events.py)" "$g_wall" s - "$g_lines events, $g_mb MB$g_note" \
	"events=$g_lines" "megabytes=$g_mb"

# Warm-up round: warms the page cache and checks every tool's output line count.
for name in node python; do
	run_baseline "warm-$name" "$ev200k" count "$name"
	[ "$r_lines" = 200000 ] || die "baseline $name wrote $r_lines lines, expected 200000"
	echo "  warm-up $name: $r_wall s, $r_lines lines out"
done
for t in 1 2; do
	run_steward "warm-t$t" "$ev200k" count "$t" 200000
	echo "  warm-up steward --threads $t: $r_wall s, $r_lines lines out; $s_line"
done

tools="node python t1 t2"
declare -A walls cpus rsses
for tool in $tools; do walls[$tool]=; cpus[$tool]=; rsses[$tool]=; done
for i in $(seq "$runs"); do
	msg=
	for tool in $tools; do
		case $tool in
		node | python) run_baseline "r$i-$tool" "$ev200k" null "$tool" ;;
		t*) run_steward "r$i-$tool" "$ev200k" null "${tool#t}" 200000 ;;
		esac
		walls[$tool]+="$r_wall "
		cpus[$tool]+="$r_cpu "
		rsses[$tool]+="$r_rss "
		msg+="  $tool $r_wall s"
	done
	echo "  round $i/$runs:$msg"
done

# summarize TOOL: sets m_wall m_min m_max m_cpu m_rss (max) m_mbs and the comma
# lists m_walls m_rsses.
summarize() {
	local w c r
	read -ra w <<<"${walls[$1]}"
	read -ra c <<<"${cpus[$1]}"
	read -ra r <<<"${rsses[$1]}"
	read -r m_wall m_min m_max < <(stats "${w[@]}")
	read -r m_cpu _ _ < <(stats "${c[@]}")
	read -r _ _ m_rss < <(stats "${r[@]}")
	m_mbs=$(awk -v b="$in_bytes" -v t="$m_wall" 'BEGIN { printf "%.1f", b / 1e6 / t }')
	m_walls=$(IFS=,; echo "${w[*]}")
	m_rsses=$(IFS=,; echo "${r[*]}")
}

declare -A med mbs rss200k cpu_med
for tool in $tools; do
	summarize "$tool"
	med[$tool]=$m_wall
	cpu_med[$tool]=$m_cpu
	mbs[$tool]=$m_mbs
	rss200k[$tool]=$m_rss
	case $tool in
	node) label="200k node baseline_node.js" ;;
	python) label="200k python baseline_python.py" ;;
	t*) label="200k steward ingest --threads ${tool#t}" ;;
	esac
	record "mbs_$tool" "$label" "$m_mbs" MB/s - \
		"median $m_wall s of $runs ($m_min-$m_max s), CPU $m_cpu s, peak RSS $m_rss MB" \
		"wall_s=$m_wall" "runs_s=$m_walls" "min_s=$m_min" "max_s=$m_max" "cpu_s=$m_cpu" \
		"peak_rss_mb=$m_rss" "rss_runs_mb=$m_rsses"
done

# Ratios: baseline median wall / steward median wall (= throughput ratio), plus the
# ratio within each round for the spread.
for t in t1 t2; do
	for b in node python; do
		ratio=$(awk -v a="${med[$b]}" -v s="${med[$t]}" 'BEGIN { printf "%.2f", a / s }')
		cratio=$(awk -v a="${cpu_med[$b]}" -v s="${cpu_med[$t]}" 'BEGIN { printf "%.2f", a / s }')
		read -ra bw <<<"${walls[$b]}"
		read -ra tw <<<"${walls[$t]}"
		per=()
		for i in "${!bw[@]}"; do
			per+=("$(awk -v a="${bw[$i]}" -v s="${tw[$i]}" 'BEGIN { printf "%.2f", a / s }')")
		done
		read -r _ pmin pmax < <(stats "${per[@]}")
		goal=-
		if [ "$b" = node ]; then
			[ "$t" = t1 ] && goal='>=8' || goal='>=14'
		fi
		record "ratio_${t}_$b" "200k steward --threads ${t#t} / $b" "$ratio" x "$goal" \
			"${mbs[$t]} vs ${mbs[$b]} MB/s; per round $pmin-${pmax}x; CPU-time ratio ${cratio}x" \
			"cpu_ratio=$cratio" \
			"per_round=$(IFS=,; echo "${per[*]}")"
	done
done

# --- 2M: memory stays flat -----------------------------------------------------------

declare -A rss2m
if [ "$quick" = 0 ]; then
	echo
	echo "2M: gen_events.py --count 2000000"
	ev2m=$data/events2m.jsonl
	generate 2000000 "$ev2m"
	record gen2m "2M   generate (gen_events.py)" "$g_wall" s - "$g_lines events, $g_mb MB$g_note" \
		"events=$g_lines" "megabytes=$g_mb"
	mb2m=$g_mb
	for t in 1 2; do
		run_steward "2m-t$t" "$ev2m" count "$t" 2000000
		rss2m[t$t]=$r_rss
		mbs2=$(awk -v m="$mb2m" -v w="$r_wall" 'BEGIN { printf "%.1f", m / w }')
		echo "  steward --threads $t: $r_wall s ($mbs2 MB/s), peak RSS $r_rss MB, $r_lines lines out; $s_line"
		record "run2m_t$t" "2M   steward ingest --threads $t" "$mbs2" MB/s - \
			"one run, $r_wall s, CPU $r_cpu s, output counted by wc -l" \
			"wall_s=$r_wall" "cpu_s=$r_cpu" "peak_rss_mb=$r_rss"
	done
fi

# --- memory and count goals ----------------------------------------------------------

for t in t1 t2; do
	a=${rss200k[$t]}
	b=${rss2m[$t]:-}
	peak=$(awk -v a="$a" -v b="${b:-0}" 'BEGIN { print (b > a ? b : a) }')
	record "rss_$t" "peak RSS, steward --threads ${t#t}" "$peak" MB '<=50' \
		"200k: $a MB (max of $runs)${b:+, 2M: $b MB}" "rss_200k_mb=$a" ${b:+"rss_2m_mb=$b"}
	if [ -n "$b" ]; then
		allow=$(awk -v a="$a" 'BEGIN { x = a * 0.10; printf "%.1f", (x > 5 ? x : 5) }')
		growth=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", b - a }')
		record "flat_$t" "peak RSS growth 200k -> 2M, --threads ${t#t}" "$growth" MB "<=$allow" \
			"$a -> $b MB; allowed max(5 MB, 10% of $a MB)" "rss_200k_mb=$a" "rss_2m_mb=$b"
	fi
done

checked=$((2 + 2 * runs))
[ "$quick" = 1 ] || checked=$((checked + 2))
note="$checked runs: in = input lines = out + rejected; rejects file lines = rejected; exit status; output lines = out (warm-up, 2M)"
[ "$count_problems" = 0 ] || note="$(printf '%s | ' "${count_notes[@]}")"
record counts "steward counts reconcile" "$count_problems" problems '<=0' "$note" "runs_checked=$checked"

# --- report ----------------------------------------------------------------------

load_end=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
mkdir -p "$(dirname "$out_json")"
echo
echo "load average at the end: $load_end (at the start: $load)"
echo
MODE=$mode CPU=$cpu NPROC=$(nproc) MEM_MB=$mem_mb KERNEL=$(uname -sr) LOAD=$load LOAD_END=$load_end VERSION=$version \
LIBS=$libs COMMIT=$commit BINARY=$steward_src BIN_SHA=$bin_sha RUNS=$runs NODE_V=$node_v PYTHON_V=$python_v INPUT_MB=$in_mb \
"$PYTHON" - "$results" "$out_json" <<'PY'
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
    if v == "-" or v is None:
        return "-"
    if unit == "s":
        return "%.3f s" % v if v < 1 else "%.2f s" % v
    if unit == "x":
        return "%.2fx" % v
    if unit == "MB/s":
        return "%.1f MB/s" % v
    if unit == "MB":
        return "%.1f MB" % v
    if unit == "problems":
        return "ok" if v == 0 else "%d bad" % v
    return "%g %s" % (v, unit)

def fmt_goal(op, g, unit):
    if g is None:
        return "-"
    if unit == "problems":
        return "none"
    return "%s %s" % (op, fmt(g, unit))

rows = []
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    rid, label, value, unit, goal, detail = f[:6]
    extra = {k: num(v) for k, v in (kv.split("=", 1) for kv in f[6:])}
    for k in ("runs_s", "rss_runs_mb", "per_round"):
        if k in extra and not isinstance(extra[k], list):
            extra[k] = [extra[k]]
    value = None if value == "-" else num(value)
    op, g = (None, None) if goal == "-" else (goal[:2], num(goal[2:]))
    if g is None:
        status = "info"
    else:
        ok = value <= g if op == "<=" else value >= g
        status = "PASS" if ok else "FAIL"
    rows.append(dict(id=rid, label=label, value=value, unit=unit, goal=g, goal_op=op,
                     status=status, detail=detail, **extra))

goals = [("ratio_t1_node", "steward ingest --threads 1 >= 8x Node throughput (200k)"),
         ("ratio_t2_node", "steward ingest --threads 2 >= 14x Node throughput (200k)"),
         ("rss_t1", "steward ingest --threads 1 peak RSS <= 50 MB"),
         ("rss_t2", "steward ingest --threads 2 peak RSS <= 50 MB"),
         ("flat_t1", "--threads 1 peak RSS flat from 200k to 2M events"),
         ("flat_t2", "--threads 2 peak RSS flat from 200k to 2M events"),
         ("counts", "steward counts reconcile (in = out + rejected, output lines = out)")]
by_id = {r["id"]: r for r in rows}

head = ("measurement", "result", "goal", "status", "detail")
table = [(r["label"], fmt(r["value"], r["unit"]), fmt_goal(r["goal_op"], r["goal"], r["unit"]),
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
    if r is None:
        summary.append(dict(id=gid, goal=text, status="SKIP", value=None, unit=None))
    else:
        summary.append(dict(id=gid, goal=text, status=r["status"], value=r["value"], unit=r["unit"],
                            limit=r["goal"], op=r["goal_op"]))
judged = [g for g in summary if g["status"] != "SKIP"]
met = sum(g["status"] == "PASS" for g in judged)

env = os.environ
doc = dict(benchmark="ingest", mode=env["MODE"],
           date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           machine=dict(nproc=int(env["NPROC"]), cpu=env["CPU"], mem_mb=int(env["MEM_MB"]),
                        kernel=env["KERNEL"], load_average=env["LOAD"], load_average_end=env["LOAD_END"]),
           steward=dict(version=env["VERSION"], libraries=env["LIBS"], commit=env["COMMIT"],
                        binary=env["BINARY"], binary_sha256_prefix=env["BIN_SHA"]),
           baselines=dict(node=env["NODE_V"], python=env["PYTHON_V"]),
           method=dict(input="gen_events.py --count 200000", input_mb=float(env["INPUT_MB"]),
                       rounds=int(env["RUNS"]), order=["node", "python", "steward --threads 1",
                                                       "steward --threads 2"],
                       statistic="median wall time per tool; ratio = baseline median / steward median",
                       memory="peak RSS (/usr/bin/time %M); 2M events one run per thread count"),
           results=rows, goals=summary, all_met=met == len(judged))
with open(sys.argv[2], "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")

print()
print("results: %s" % os.path.abspath(sys.argv[2]))
print("goals: %d of %d met%s" % (met, len(judged), ", %d skipped (--quick)" % (len(summary) - len(judged))
                                 if len(summary) > len(judged) else ""))
for g in summary:
    got = "" if g["value"] is None else "  (%s)" % fmt(g["value"], g["unit"])
    print("%-4s  %s%s" % (g["status"], g["goal"], got))
sys.exit(0 if met == len(judged) else 1)
PY
