#!/usr/bin/env bash
# Builds steward with gcc, with clang, and with clang under sanitizers (warnings are errors
# in all) and runs every test in each build. Ends with one line: "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

tools/install-deps || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
status=0

# count LOGFILE: adds the results in meson's testlog.json to the totals.
count() {
  local p f
  read -r p f < <(python3 - "$1" <<'PY'
import json, sys
p = f = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL", "SKIP"):
        p += 1
    else:
        f += 1
print(p, f)
PY
)
  passed=$((passed + p))
  failed=$((failed + f))
}

# Three builds: gcc, clang, and clang with AddressSanitizer, UndefinedBehaviorSanitizer
# and LeakSanitizer (any report fails the test that triggered it).
for lane in gcc clang sanitize; do
  dir="build-test-$lane"
  echo "== $lane build"
  if [ ! -f "$dir/build.ninja" ]; then
    case $lane in
      sanitize) CC=clang meson setup "$dir" -Dbuildtype=debugoptimized \
                  -Db_sanitize=address,undefined -Db_lundef=false \
                  -Dc_args=-fno-sanitize-recover=all -Dc_link_args=-fno-sanitize-recover=all \
                  >/dev/null ;;
      *) CC=$lane meson setup "$dir" >/dev/null ;;
    esac || { failed=$((failed + 1)); status=1; continue; }
  fi
  if ! ninja -C "$dir"; then
    echo "error: the $lane build failed"
    failed=$((failed + 1))
    status=1
    continue
  fi
  echo "== $lane tests"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C "$dir" --print-errorlogs --num-processes 2 --timeout-multiplier 3 || status=1
  count "$dir/meson-logs/testlog.json"
done

# One valgrind pass over a few CLI tests that between them run every verb (memory errors
# and definite leaks fail them; the whole CLI suite under valgrind takes too long for CI,
# see docs/testing.md).
if [ -f build-test-gcc/build.ninja ]; then
  echo "== valgrind (CLI tests with every steward run under valgrind)"
  meson test -C build-test-gcc --setup valgrind --print-errorlogs --num-processes 2 \
    t-leak-canary.sh t-request-erase.sh t-ingest-canary.sh t-show.sh || status=1
  count build-test-gcc/meson-logs/testlog-valgrind.json
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
