# Shared by the benchmarks in bench/: options, paths, tools, the binary, scratch space and
# result rows. Source it after defining usage(); it parses the command line.
# shellcheck shell=bash

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
# data directory ($data: --keep DIR or inside $run) and the results file ($results).
make_scratch() {
	mkdir -p "$tmp"
	run=$(mktemp -d "$tmp/run.XXXXXX")
	data=${keep:-$run/data}
	mkdir -p "$data"
	results=$run/results.tsv
	: >"$results"
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

# stats N...: prints "median min max".
stats() {
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
		END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; print m, a[1], a[NR] }'
}

# record ID LABEL VALUE UNIT GOAL DETAIL [KEY=VALUE...]: one result row (tab-separated).
record() {
	local IFS=$'\t'
	echo "$*" >>"$results"
}
