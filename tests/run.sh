#!/usr/bin/env bash
# Builds steward with gcc and with clang (warnings are errors in both) and runs every test
# in both builds. Ends with one line: "N passed, N failed".
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

for cc in gcc clang; do
  dir="build-test-$cc"
  echo "== $cc build"
  if [ ! -f "$dir/build.ninja" ]; then
    CC=$cc meson setup "$dir" >/dev/null || { failed=$((failed + 1)); status=1; continue; }
  fi
  if ! ninja -C "$dir"; then
    echo "error: the $cc build failed"
    failed=$((failed + 1))
    status=1
    continue
  fi
  echo "== $cc tests"
  meson test -C "$dir" --print-errorlogs --num-processes 2 || status=1
  count "$dir/meson-logs/testlog.json"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
