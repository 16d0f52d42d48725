#!/bin/sh
# Input limits, the streaming one: a 256 MiB single-line record goes through `steward ingest`
# in bounded memory and lands in the rejects file as too-long (a test of its own, beside
# t-input-limits.sh, because moving 256 MiB is most of the time such a test takes).
# The rejects file it writes is 341 MiB: in /dev/shm when TMPDIR is not set, so that the test
# measures steward rather than the disk.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	TMPDIR=/dev/shm
fi
. "$(dirname "$0")/lib.sh"
require python3 jq
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
cd "$TMP" || exit 99

# ---- a 256 MiB single-line record streams through ingest in bounded memory ----
# (a 1 GB line was run by hand; docs/testing.md has its figures)
python3 - "$STEWARD" "$WS" <<'PY' >rss.txt
import resource, subprocess, sys
p = subprocess.Popen([sys.argv[1], "--home", sys.argv[2], "ingest", "events.*",
                      "--label", "event_type", "--rejects", "huge.rej"],
                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
chunk = b"y" * (1 << 20)
p.stdin.write(b'{"event_type":"search","q":"')
for _ in range(256):
    p.stdin.write(chunk)
p.stdin.write(b'"}\n')
p.stdin.close()
rc = p.wait()
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
PY
read -r rc rss_mb <rss.txt
expect_equal 1 "$rc" 'the 256 MiB record is rejected (exit 1)'
expect_equal 'too-long' "$(jq -r .code huge.rej)" 'as too-long, into the quarantine'
check "peak memory ${rss_mb} MiB stays far below the record's 256 MiB" test "$rss_mb" -lt 160
done_testing
