#!/usr/bin/env bash
# The test runner: builds steward in lanes (warnings are errors in all) and runs the tests in
# each. Ends with the skipped tests and their reasons, the wall time of each lane, the ten
# slowest tests, and one last line: "N passed, N failed, N skipped".
#
#   tests/run.sh          what CI runs (.ci/run): gcc (every test), sanitize (every test but
#                         the crash loop, the fault matrix's failed writes and three of the
#                         Kafka tests), clang (a release build: unit, fuzz corpora,
#                         lints and the 'release' suite of CLI tests), valgrind (two CLI tests)
#   tests/run.sh --quick  the gcc lane alone (one test build, every test): the edit-test loop
#   tests/run.sh --full   the CI lanes with the full fault matrix (STEWARD_FAULT_FULL=1),
#                         valgrind over every CLI test, and a minute of each fuzz target
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 2

usage='usage: tests/run.sh [--quick | --full]'
mode=ci
case $# in
0) ;;
1) case $1 in
   --quick) mode=quick ;;
   --full) mode=full ;;
   -h | --help) echo "$usage"; exit 0 ;;
   *) echo "$usage" >&2; exit 2 ;;
   esac ;;
*) echo "$usage" >&2; exit 2 ;;
esac

tools/install-deps || { echo "error: tools/install-deps failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

results=$(mktemp -d "${TMPDIR:-/tmp}/steward-run.XXXXXX") || exit 2
trap 'rm -rf "$results"' EXIT
# $results/lanes: one line per lane, "LANE WALL-SECONDS CPU-SECONDS NOTE"; $results/LANE.json:
# its testlog (meson's JSON lines, or the same fields written here for the fuzz lane);
# $results/extra: one line per failure that is not a test ("LANE WHAT"), such as a failed build.
: >"$results/lanes"
: >"$results/extra"

# cpu_now: sets cpu to the CPU seconds (user + system) of this script's finished children so
# far, builds and tests included: on a shared machine a fairer measure of a lane's work than
# its wall time. (`times` must run in this shell, not in a subshell, to see them.)
cpu_now() {
	local f="$results/times.$BASHPID" # per process: the valgrind lane runs beside the others
	times >"$f"
	cpu=$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$f")
}

# lane_start: notes the wall clock and CPU time at the start of a lane.
lane_start() {
	t0=$(date +%s)
	cpu_now
	c0=$cpu
}

# lane_done LANE NOTE: records the lane's wall time and CPU time since lane_start.
lane_done() {
	cpu_now
	echo "$1 $(($(date +%s) - t0)) $((cpu - c0)) $2" >>"$results/lanes"
}

# build LANE DIR CC [OPTION...]: configures DIR with CC (and its C++ compiler) on first use
# (later, the options are set again, so a build directory left by an older run.sh gets the
# lane's options) and builds it.
# The output goes to $results/LANE.build, shown when the build fails.
build() {
	local lane="$1" dir="$2" cc="$3" cxx
	shift 3
	# the C++ unit (pii/phone.cc) is built by the same family: a sanitized clang build
	# cannot load a module that gcc's sanitizer runtime was linked into
	case $cc in clang) cxx=clang++ ;; *) cxx=g++ ;; esac
	{
		if [ ! -f "$dir/build.ninja" ]; then
			CC=$cc CXX=$cxx meson setup "$dir" "$@"
		elif [ $# -gt 0 ]; then
			meson configure "$dir" "$@"
		fi && ninja -C "$dir"
	} >"$results/$lane.build" 2>&1 && return 0
	tail -n 40 "$results/$lane.build"
	echo "error: the $lane build failed (configure or compile; $dir)"
	echo "$lane the build failed" >>"$results/extra"
	return 1
}

# option DIR NAME: the value of a meson option in a configured build directory.
option() {
	meson introspect "$1" --buildoptions | python3 -c '
import json, sys
print(next((str(o["value"]).lower() for o in json.load(sys.stdin) if o["name"] == sys.argv[1]), "?"))' "$2"
}

# tests LANE DIR [MESON TEST ARGS...]: runs the tests of DIR; keeps the testlog as LANE.json.
# A failure of meson itself (no testlog, or an error exit with no failed test in the log)
# counts as one failure.
tests() {
	local lane="$1" dir="$2" log rc=0
	shift 2
	log=$dir/meson-logs/testlog.json
	case " $* " in *" --setup valgrind "*) log=$dir/meson-logs/testlog-valgrind.json ;; esac
	rm -f "$log"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C "$dir" --print-errorlogs "$@" || rc=$?
	if [ -f "$log" ]; then
		cp "$log" "$results/$lane.json"
	fi
	if [ "$rc" -ne 0 ] && { [ ! -f "$log" ] ||
		! grep -qE '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log"; }; then
		echo "$lane meson test exited $rc" >>"$results/extra"
	fi
}

# The fault-injection tests read STEWARD_FAULT_FULL: set for --full (every point), never
# inherited otherwise. Tests in the plain lanes run with the timeouts meson.build gives them,
# no multiplier; under --full the full fault matrix does several times the CI work by design.
unset STEWARD_FAULT_FULL
plain_mult=()
san_mult=(--timeout-multiplier 3) # instrumented code is several times slower by construction
if [ "$mode" = full ]; then
	export STEWARD_FAULT_FULL=1
	plain_mult=(--timeout-multiplier 4)
	san_mult=(--timeout-multiplier 12)
fi

# ---- gcc: a test build (fault-injection variables honoured) ----
lane_start
echo "== gcc lane (build-test-gcc: gcc, -Dtest_build=true)"
gcc_ok=0
if build gcc build-test-gcc gcc -Dtest_build=true; then
	gcc_ok=1
	tests gcc build-test-gcc "${plain_mult[@]}"
fi
lane_done gcc "gcc, test build"

# valgrind_lane: the gcc build with every steward run under valgrind (memory errors and
# definite leaks fail the check that ran it). CI: t-leak-canary.sh, which runs nearly every
# verb, and t-ingest-canary.sh; --full: every CLI test (about 30 minutes on 2 CPUs). The valgrind setup in
# tests/cli/meson.build multiplies the timeouts (valgrind is slower by construction). The
# full fault matrix runs in the gcc and sanitize lanes; the fault-injection test does not
# run steward under valgrind, so here it runs its CI points.
valgrind_lane() {
	unset STEWARD_FAULT_FULL
	lane_start
	if [ "$mode" = full ]; then
		echo "== valgrind lane (build-test-gcc, meson test --setup valgrind, every CLI test)"
		tests valgrind build-test-gcc --setup valgrind --suite cli
	else
		echo "== valgrind lane (build-test-gcc, meson test --setup valgrind, two CLI tests)"
		tests valgrind build-test-gcc --setup valgrind t-leak-canary.sh t-ingest-canary.sh
	fi
	lane_done valgrind "gcc build under valgrind, beside the clang and sanitize lanes"
}

if [ "$mode" != quick ]; then
	# ---- valgrind, in the background: it is mostly one long test (t-leak-canary under
	# valgrind), so it runs beside the clang and sanitize lanes instead of after them, and
	# its output is shown when it has ended ----
	valgrind_pid=
	if [ "$gcc_ok" = 1 ]; then
		valgrind_lane >"$results/valgrind.out" 2>&1 &
		valgrind_pid=$!
	else
		echo "== valgrind lane: not run (the gcc build failed)"
		echo "valgrind 0 0 not run: the gcc build failed" >>"$results/lanes"
	fi

	# ---- clang: a release build as a packager makes it (default options: buildtype
	# release, test_build off); the fault-injection tests skip with their reason there, and
	# t-release-build.sh checks that the fault variables change nothing ----
	lane_start
	dir=build-release-clang
	echo "== clang lane ($dir: clang, meson's default options, a release build)"
	ok=1
	if [ -f "$dir/build.ninja" ] && [ "$(option "$dir" test_build)" = true ]; then
		# configured when the default was different: start again from the defaults
		rm -rf "$dir"
	fi
	build clang "$dir" clang || ok=0
	if [ "$ok" = 1 ] && [ "$(option "$dir" test_build)" != false ]; then
		echo "error: the clang lane is not a release build: meson_options.txt defaults test_build to true, so a packager's build would honour STEWARD_FAIL_* (the tests run anyway)"
		echo "clang default options make a test build" >>"$results/extra"
	fi
	# the release build checks what a packager's optimized binary changes: every verb's main
	# path, the leak canaries and the release-build check (tests/cli/meson.build's 'release'
	# suite), with the unit tests, fuzz corpora and lints; every test runs in the clang
	# sanitize lane below (--full: every test here too)
	if [ "$mode" = full ]; then
		clang_sel=()
	else
		clang_sel=(--suite unit --suite fuzz --suite detect --suite lint --suite release)
	fi
	[ "$ok" = 1 ] && tests clang "$dir" "${plain_mult[@]}" "${clang_sel[@]}"
	lane_done clang "clang, release build, default options"

	# ---- sanitize: clang with AddressSanitizer, UndefinedBehaviorSanitizer and
	# LeakSanitizer (any report fails the test that triggered it), a test build ----
	lane_start
	echo "== sanitize lane (build-test-sanitize: clang, ASan+UBSan+LSan, -Dtest_build=true)"
	if build sanitize build-test-sanitize clang -Dtest_build=true -Dbuildtype=debugoptimized \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=all -Dc_link_args=-fno-sanitize-recover=all \
		-Dcpp_args=-fno-sanitize-recover=all -Dcpp_link_args=-fno-sanitize-recover=all; then
		# the crash loop (SIGKILL at chosen points, then recovery), the failed writes and
		# syncs of the fault matrix, and the Kafka group's rebalances, killed member and
		# broker errors check outcomes, which the gcc lane does; the failed allocations (whose cleanup paths could leak) run
		# here up to the 100th of each command (the sampled ones past it, suite fault-alloc-tail,
		# 20 to 40 s a shard here, in the gcc lane only); --full runs everything here too
		if [ "$mode" = full ]; then
			san_sel=()
		else
			san_sel=(--no-suite crash-loop --no-suite fault-io --no-suite fault-alloc-tail
				--no-suite kafka-group)
		fi
		tests sanitize build-test-sanitize "${san_mult[@]}" "${san_sel[@]}"
	fi
	lane_done sanitize "clang, ASan+UBSan+LSan, test build"

	if [ -n "$valgrind_pid" ]; then
		wait "$valgrind_pid" || true
		cat "$results/valgrind.out"
	fi

fi

# ---- fuzz (--full): a minute of each target (tests/fuzz/run.sh builds build-fuzz: clang,
# libFuzzer, ASan+UBSan); one result per target ----
if [ "$mode" = full ]; then
	lane_start
	echo "== fuzz lane (build-fuzz, tests/fuzz/run.sh TARGET 60)"
	for target in fuzz_load fuzz_dbt fuzz_ingest_json fuzz_csv fuzz_audit_verify fuzz_config; do
		s=$(date +%s)
		rc=0
		tests/fuzz/run.sh "$target" 60 >"$results/fuzz.out" 2>&1 || rc=$?
		cat "$results/fuzz.out"
		python3 - "$target" "$rc" "$(($(date +%s) - s))" "$results/fuzz.out" >>"$results/fuzz.json" <<'PY'
import json, sys
name, rc, secs, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
print(json.dumps({"name": name, "result": "OK" if rc == 0 else "FAIL", "duration": secs,
                  "stdout": open(out, errors="replace").read()}))
PY
	done
	lane_done fuzz "libFuzzer, 60 s per target"
fi

# ---- summary ----
python3 - "$results" <<'PY'
import json, os, re, sys

res = sys.argv[1]
lanes = [l.split(" ", 3) for l in open(os.path.join(res, "lanes")).read().splitlines()]
extra = [l.split(" ", 1) for l in open(os.path.join(res, "extra")).read().splitlines()]
passed = failed = skipped = 0
skips, subskips, failures, timed = [], [], [], []
for lane, _secs, _cpu, _note in lanes:
    path = os.path.join(res, lane + ".json")
    if not os.path.exists(path):
        continue
    for line in open(path):
        r = json.loads(line)
        name = r["name"].split(" / ")[-1]
        out = r.get("stdout") or ""
        timed.append((float(r.get("duration") or 0), name, lane))
        if r["result"] in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r["result"] == "SKIP":
            skipped += 1
            m = re.search(r"^1\.\.0\s*#\s*SKIP\b:?\s*(.*)$", out, re.M | re.I) or \
                re.search(r"#\s*SKIP\b:?\s*(.*)$", out, re.M | re.I)
            if m and m.group(1).strip():
                why = m.group(1).strip()
            else:
                lines = [l for l in out.splitlines() if l.strip()]
                why = lines[-1].strip() if lines else "no reason printed"
            skips.append((lane, name, why))
        else:
            failed += 1
            failures.append((lane, name, r["result"]))
        if r["result"] in ("OK", "EXPECTEDFAIL"):
            for m in re.finditer(r"^ok \d+ - (.*?)\s*#\s*SKIP\s*(.*)$", out, re.M | re.I):
                subskips.append((lane, name, m.group(1), m.group(2)))
for lane, what in extra:
    failed += 1
    failures.append((lane, "-", what))

print()
print("== summary")
for lane, secs, cpu, note in lanes:
    s = int(secs)
    print(f"lane {lane}: {s // 60} min {s % 60:02d} s wall, {int(cpu)} s CPU ({note})")
if timed:
    print("the ten slowest tests:")
    for d, name, lane in sorted(timed, reverse=True)[:10]:
        print(f"  {d:7.1f} s  {name} ({lane})")
if subskips:
    print(f"checks skipped inside tests that passed ({len(subskips)}, not counted as skipped tests):")
    for lane, name, what, why in subskips:
        print(f"  {lane}: {name}: {what}: {why}")
for lane, name, what in failures:
    print(f"failed: {lane}: {name}: {what}")
for lane, name, why in skips:
    print(f"skipped: {lane}: {name}: {why}")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
