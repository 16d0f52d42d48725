# Shared by the benchmarks in bench/: options, paths, tools, the binary, scratch space, timing
# (measure, hf), samples and their statistics, result rows and the report (bench/report.py).
# Source it after defining usage(); it parses the command line.
# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables set here are for the scripts that source it

quick=0
keep=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--keep) [ $# -ge 2 ] || { usage >&2; exit 2; }; keep=$2; shift ;;
	--keep=*) keep=${1#--keep=} ;;
	-h | --help) usage; exit 0 ;;
	*) echo "error: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
shared=${STEWARD_SHARED:-$(cd "$root/.." && pwd)/shared}
tmp=${BENCH_TMP:-/tmp/steward-bench}

report_py=$here/report.py

die() { echo "error: $*" >&2; exit 3; }

# apt_install PACKAGE: installs a Debian package that a benchmark needs.
apt_install() {
	echo "installing $1 (apt-get) ..."
	local sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get install -y "$1" >/dev/null 2>&1 ||
		{ $sudo apt-get update >/dev/null 2>&1 && $sudo apt-get install -y "$1" >/dev/null 2>&1; } ||
		die "cannot install '$1'"
}

# find_steward: $STEWARD, or build/cli/steward rebuilt with ninja first.
find_steward() {
	if [ -z "${STEWARD:-}" ]; then
		STEWARD=$root/build/cli/steward
		if [ -f "$root/build/build.ninja" ] && command -v ninja >/dev/null; then
			ninja -C "$root/build" >/dev/null || die "build failed: ninja -C '$root/build'"
		fi
	fi
	[ -x "$STEWARD" ] || die "no steward binary at '$STEWARD' (build with: ninja -C build)"
}

# make_scratch: a run directory ($run) removed at exit unless the benchmark failed, the
# data directory ($data: --keep DIR or inside $run), the results file ($results) and the
# samples file ($samples).
make_scratch() {
	mkdir -p "$tmp"
	run=$(mktemp -d "$tmp/run.XXXXXX")
	data=${keep:-$run/data}
	mkdir -p "$data"
	results=$run/results.tsv
	samples=$run/samples.tsv
	: >"$results"
	: >"$samples"
	trap cleanup EXIT
}

cleanup() {
	local rc=$?
	if [ "$rc" -ge 3 ]; then
		echo "benchmark failed; logs kept in $run" >&2
	else
		rm -rf "$run"
	fi
}

# private_steward: runs the benchmark from a copy of $STEWARD in $run, so that a rebuild of
# build/ during the benchmark cannot swap it between runs. Sets steward_src (the original)
# and bin_sha (its sha256 prefix).
private_steward() {
	steward_src=$STEWARD
	STEWARD=$run/steward
	cp "$steward_src" "$STEWARD" || die "cannot copy '$steward_src'"
	bin_sha=$(sha256sum "$STEWARD" | cut -c1-12)
}

# machine_info: sets cpu, mem_mb, load (load average), version and libs (of $STEWARD),
# commit (+dirty when tracked files changed) and mode (quick or full).
machine_info() {
	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
	[ -n "$cpu" ] || cpu=$(lscpu 2>/dev/null | awk -F': *' '/Model name/ { print $2; exit }' || true)
	mem_mb=$(awk '/^MemTotal/ { printf "%.0f", $2 / 1024 }' /proc/meminfo 2>/dev/null || echo 0)
	load=$(loadavg)
	version=$("$STEWARD" version | head -1)
	libs=$("$STEWARD" version | tail -n +2 | paste -sd, - | sed 's/,/, /g')
	commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
	[ -z "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit+dirty"
	mode=full
	[ "$quick" = 0 ] || mode=quick
}

# generate N FILE: runs $PYTHON $gen (shared/corpus/gen_events.py) --count N unless --keep
# already holds the same stream (a stamp beside FILE records the options and the
# generator's hash), so bench/ingest.sh and bench/core.sh share the files.
# Sets g_wall, g_note, g_bytes, g_mb and g_lines.
# shellcheck disable=SC2154 # gen and PYTHON are set by the script that sources this file
generate() {
	local n=$1 file=$2 want
	want="--count $n $(sha256sum "$gen" | cut -c1-16)"
	if stamp_ok "$file" "$want"; then
		echo "  reusing $file"
		g_wall=-
		g_note=", reused (--keep)"
	else
		rm -f "$file" "$file.stamp"
		measure gen --out "$file.part" --err "$run/gen.log" --check "$PYTHON" "$gen" --count "$n"
		mv "$file.part" "$file"
		g_wall=$t_wall
		echo "$want" >"$file.stamp"
		g_note=
	fi
	g_bytes=$(stat -c %s "$file")
	g_mb=$(awk -v b="$g_bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
	g_lines=$(wc -l <"$file")
	[ "$g_lines" = "$n" ] || die "$file has $g_lines lines, expected $n"
	[ "$g_wall" = - ] || echo "  generated $file in $g_wall s: $g_lines events, $g_mb MB"
}

# loadavg: prints the 1, 5 and 15 minute load averages.
loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown; }

# stamp_ok PATH WANT: with --keep, whether PATH exists with a stamp (PATH.stamp) equal to
# WANT, i.e. generated data that can be reused.
stamp_ok() {
	[ -n "$keep" ] && [ -e "$1" ] && [ "$(cat "$1.stamp" 2>/dev/null)" = "$2" ]
}

# measure TAG [OPTION...] CMD...: runs CMD once under /usr/bin/time and sets t_wall (s,
# wall clock around the whole run, from $EPOCHREALTIME), t_cpu (user + system, s), t_rss
# (MB, peak resident set size), t_rc (exit status) and t_lines ('-' unless --count).
# Options:
#   --in FILE      stdin (default /dev/null)
#   --out FILE     stdout (default /dev/null)
#   --err FILE     stderr (default $run/TAG.err)
#   --log FILE     stdout and stderr together
#   --count        stdout is counted (wc -l) into t_lines
#   --check        a non-zero exit status is a benchmark failure (shows stderr, exits 3)
#   --sample NAME VARIANT   appends the wall, cpu and rss samples (see sample)
measure() {
	local tag=$1 in=/dev/null out=/dev/null err='' count=0 check=0 name='' variant=''
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--in) in=$2; shift 2 ;;
		--out) out=$2; shift 2 ;;
		--err) err=$2; shift 2 ;;
		--log) out=$2; err=$2; shift 2 ;;
		--count) count=1; shift ;;
		--check) check=1; shift ;;
		--sample) name=$2 variant=$3; shift 3 ;;
		*) break ;;
		esac
	done
	err=${err:-$run/$tag.err}
	local tf=$run/$tag.time t0 t1 kb user sys
	rm -f "$tf"
	t_rc=0
	t_lines=-
	t0=$EPOCHREALTIME
	if [ "$count" = 1 ]; then
		t_lines=$({
			rc=0
			/usr/bin/time -f '%M %U %S' -o "$tf" "$@" <"$in" 2>"$err" || rc=$?
			echo "$rc" >"$run/$tag.rc"
		} | wc -l)
		t_rc=$(cat "$run/$tag.rc")
	elif [ "$out" = "$err" ]; then
		/usr/bin/time -f '%M %U %S' -o "$tf" "$@" <"$in" >"$out" 2>&1 || t_rc=$?
	else
		/usr/bin/time -f '%M %U %S' -o "$tf" "$@" <"$in" >"$out" 2>"$err" || t_rc=$?
	fi
	t1=$EPOCHREALTIME
	if [ "$check" = 1 ] && [ "$t_rc" != 0 ]; then
		head -c 4000 "$err" >&2
		die "command failed (exit $t_rc): $*"
	fi
	[ -s "$tf" ] || { head -c 4000 "$err" >&2; die "no timing for: $*"; }
	# With a non-zero exit, GNU time writes "Command exited with ..." first.
	read -r kb user sys < <(tail -n 1 "$tf")
	t_wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	t_cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
	t_rss=$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }')
	[ -z "$name" ] || sample "$name" "$variant" wall "$t_wall" cpu "$t_cpu" rss "$t_rss"
}

# sample NAME VARIANT METRIC VALUE [METRIC VALUE...]: appends samples to $samples, one
# row each: NAME (a measurement), VARIANT (the tool or case), METRIC (wall, cpu, rss,
# ...) and VALUE.
sample() {
	local name=$1 variant=$2
	shift 2
	while [ $# -ge 2 ]; do
		printf '%s\t%s\t%s\t%s\n' "$name" "$variant" "$1" "$2" >>"$samples"
		shift 2
	done
}

# sample_columns NAME VARIANT FILE METRIC...: one sample of each METRIC from each line of
# FILE (white-space separated columns, in the order of the METRICs).
sample_columns() {
	local name=$1 variant=$2 file=$3
	shift 3
	awk -v n="$name" -v v="$variant" -v ms="$*" 'BEGIN { k = split(ms, m, " ") }
		{ for (i = 1; i <= k; i++) printf "%s\t%s\t%s\t%s\n", n, v, m[i], $i }' "$file" >>"$samples" ||
		die "cannot read samples from '$file'"
}

# summarize NAME VARIANT: for every METRIC sampled for NAME VARIANT, sets METRIC_med,
# METRIC_min, METRIC_max, METRIC_p95 (nearest rank), METRIC_n and METRIC_runs (every value,
# comma-separated), e.g. wall_med and rss_max.
summarize() {
	local out m med min max p95 n runs
	out=$(python3 "$report_py" stats "$samples" "$1" "$2") || die "no statistics for '$1' '$2'"
	while read -r m med min max p95 n runs; do
		printf -v "${m}_med" %s "$med"
		printf -v "${m}_min" %s "$min"
		printf -v "${m}_max" %s "$max"
		printf -v "${m}_p95" %s "$p95"
		printf -v "${m}_n" %s "$n"
		printf -v "${m}_runs" %s "$runs"
	done <<<"$out"
}

# ratio NAME METRIC BASE VARIANT: sets x_ratio (median METRIC of BASE / median of
# VARIANT: for times, how many times faster VARIANT is), and the same ratio run by run
# (the k-th sample of each): x_min, x_max and x_runs (comma-separated).
ratio() {
	local out
	out=$(python3 "$report_py" ratio "$samples" "$@") || die "no ratio for: $*"
	read -r x_ratio x_min x_max x_runs <<<"$out"
}

# hf NAME RUNS WARMUP CMD...: hyperfine (no shell) on CMD, RUNS runs after WARMUP;
# sets h_mean h_med h_min h_max h_sd (ms).
hf() {
	local name=$1 runs=$2 warmup=$3 cmd out
	shift 3
	cmd=$(printf '%q ' "$@")
	if ! hyperfine -N --style basic --warmup "$warmup" --runs "$runs" \
		--export-json "$run/$name.json" "$cmd" >"$run/$name.log" 2>&1; then
		cat "$run/$name.log" >&2
		die "hyperfine failed: $cmd"
	fi
	out=$(python3 "$report_py" hyperfine "$run/$name.json") || die "cannot read '$run/$name.json'"
	read -r h_mean h_med h_min h_max h_sd <<<"$out"
}

# record ID LABEL VALUE UNIT GOAL DETAIL [KEY=VALUE...]: one result row (tab-separated).
# VALUE '-' is no figure; GOAL is '-' (information), N or <=N (an upper bound in UNIT) or
# >=N (a lower bound). A KEY=VALUE extra goes to the JSON; a VALUE with commas is a list.
record() {
	local IFS=$'\t'
	echo "$*" >>"$results"
}

# report NAME [report.py table option...]: prints the table and the goal lines and writes
# bench/out/NAME.json with the machine and steward fields of machine_info (the options add
# more, e.g. --meta machine.load_average="$load", and the goals); the exit status
# is 0 when every goal is met, 1 when one is missed, 3 when the report failed.
report() {
	local name=$1
	shift
	echo
	python3 "$report_py" table "$results" "$here/out/$name.json" --benchmark "$name" --mode "$mode" \
		--meta machine.nproc:="$(nproc)" --meta machine.cpu="$cpu" --meta machine.mem_mb:="$mem_mb" \
		--meta machine.kernel="$(uname -sr)" \
		--meta steward.version="$version" --meta steward.libraries="$libs" --meta steward.commit="$commit" "$@"
}

# report_load_end: prints the load average now beside the one at the start; sets load_end.
report_load_end() {
	load_end=$(loadavg)
	echo
	echo "load average at the end: $load_end (at the start: $load)"
}
