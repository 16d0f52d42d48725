#!/usr/bin/env bash
# Detector benchmark: scores the full labelled corpus (tests/detect/gen_corpus.py, 3,000
# records in 11 locales with hard negatives) through `steward pii scan --explain --json`
# and prints precision, recall and F1 per type, then times the scan over a larger corpus.
# Usage: bench/detect.sh [--seed N] [--records N]
# Environment: STEWARD (default build/cli/steward, rebuilt with ninja first).
set -eu
seed=1
records=3000
while [ $# -gt 0 ]; do
	case $1 in
	--seed) seed=$2; shift 2 ;;
	--records) records=$2; shift 2 ;;
	*) echo "usage: bench/detect.sh [--seed N] [--records N]" >&2; exit 2 ;;
	esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${STEWARD:-}" ]; then
	ninja -C "$root/build" >/dev/null
	STEWARD=$root/build/cli/steward
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$root/tests/detect/gen_corpus.py" --seed "$seed" --records "$records" >"$tmp/corpus.jsonl"
echo "# python3 tests/detect/gen_corpus.py --seed $seed --records $records | score.py"
status=0
python3 "$root/tests/detect/score.py" "$STEWARD" "$tmp/corpus.jsonl" --check --show-errors 20 || status=$?
# Throughput: the corpus' texts repeated to about 20 MB, one per line.
python3 - "$tmp/corpus.jsonl" "$tmp/texts.txt" <<'PY'
import json, sys
texts = [json.loads(l)["text"] for l in open(sys.argv[1], encoding="utf-8")]
with open(sys.argv[2], "w", encoding="utf-8") as f:
    n = 0
    while n < 20_000_000:
        for t in texts:
            f.write(t + "\n")
            n += len(t.encode()) + 1
PY
bytes=$(wc -c <"$tmp/texts.txt")
/usr/bin/time -f '%e %U' -o "$tmp/time" "$STEWARD" pii scan --explain --json "$tmp/texts.txt" >/dev/null
read -r wall cpu <"$tmp/time"
python3 -c "import sys; b=int(sys.argv[1]); w=float(sys.argv[2]); c=float(sys.argv[3]); print('scan --explain: %.1f MB in %.2f s wall, %.2f s CPU: %.1f MB/s wall, %.1f MB/s CPU (a shared machine: figures vary)' % (b/1e6, w, c, b/1e6/w, b/1e6/max(c, 0.01)))" "$bytes" "$wall" "$cpu"
exit $status
