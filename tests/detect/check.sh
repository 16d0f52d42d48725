#!/bin/sh
# The detectors' quality gate in the test suite: a small labelled corpus (gen_corpus.py,
# fixed seed) scored through the real binary (score.py --check): F1 at least 0.95 on every
# structured type and at most 2% of hard negatives detected. bench/detect.sh runs the full one.
set -eu
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/gen_corpus.py" --seed "${SEED:-11}" --records "${RECORDS:-600}" --negatives 0.25 \
	>"$tmp/corpus.jsonl"
python3 "$here/score.py" "${STEWARD:?}" "$tmp/corpus.jsonl" --check --show-errors 20
