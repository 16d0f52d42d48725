#!/usr/bin/env python3
"""Scores steward's free-text detectors on a labelled corpus (gen_corpus.py's JSON lines):
runs the real binary (`steward pii scan --explain --json`) over the texts and prints
precision, recall and F1 per type (span overlap, as in issue 15; "whole" is the share of
found values covered entirely), and the share of hard negatives that drew a detection.

Usage: score.py STEWARD CORPUS [--check] [--show-errors N]
With --check, exits 1 when F1 < 0.95 on a structured type or more than 2% of the hard
negatives drew a detection."""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

TYPES = ["email", "phone", "card", "iban", "ipv4", "ipv6", "ssn", "krrn", "url_credentials"]
F1_MIN, NEG_MAX = 0.95, 0.02


def detected_type(kind, value):
    if kind == "ip":
        return "ipv6" if ":" in value else "ipv4"
    return kind


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("steward")
    ap.add_argument("corpus")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--show-errors", type=int, default=0)
    a = ap.parse_args()
    recs = [json.loads(line) for line in open(a.corpus, encoding="utf-8")]
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        for r in recs:
            f.write(r["text"].replace("\n", " ") + "\n")
        path = f.name
    try:
        out = subprocess.run([a.steward, "pii", "scan", "--explain", "--json", path],
                             check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(path)
    lines = [json.loads(x) for x in out.splitlines()]
    if len(lines) != len(recs):
        sys.exit("score.py: %d lines of findings for %d records" % (len(lines), len(recs)))
    tp = collections.Counter()
    fp = collections.Counter()
    fn = collections.Counter()
    whole = collections.Counter()
    neg_total = collections.Counter()
    neg_hit = collections.Counter()
    errors = []
    for rec, res in zip(recs, lines):
        b = rec["text"].encode()
        found = []
        for m in res["findings"]:
            if not m["replaced"]:
                continue
            v = b[m["start"]:m["end"]].decode("utf-8", "replace")
            found.append((detected_type(m["type"], v), m["start"], m["end"], m))
        gold = [(s["type"], s["start"], s["end"]) for s in rec["spans"]]
        used = set()
        for t, s, e in gold:
            hit = None
            for k, (ft, fs, fe, _) in enumerate(found):
                if ft == t and fs < e and s < fe:
                    hit = k
                    break
            if hit is None:
                fn[t] += 1
                errors.append(("missed " + t, rec["text"]))
            else:
                tp[t] += 1
                used.add(hit)
                if found[hit][1] <= s and found[hit][2] >= e:
                    whole[t] += 1
                else:
                    errors.append(("cut " + t, rec["text"]))
        for k, (ft, fs, fe, m) in enumerate(found):
            if k not in used:
                fp[ft] += 1
                errors.append(("false %s %s" % (ft, m["evidence"]), rec["text"]))
        if rec["negative"]:
            neg_total[rec["negative"]] += 1
            if found:
                neg_hit[rec["negative"]] += 1
    print("| type | gold | precision | recall | F1 | whole span |")
    print("|---|---|---|---|---|---|")
    failed = []
    st = sf = sn = 0
    for t in TYPES:
        p = tp[t] / (tp[t] + fp[t]) if tp[t] + fp[t] else 1.0
        r = tp[t] / (tp[t] + fn[t]) if tp[t] + fn[t] else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        w = whole[t] / tp[t] if tp[t] else 1.0
        st, sf, sn = st + tp[t], sf + fp[t], sn + fn[t]
        print("| %s | %d | %.3f | %.3f | %.3f | %.3f |" % (t, tp[t] + fn[t], p, r, f1, w))
        if f1 < F1_MIN and tp[t] + fn[t] + fp[t]:
            failed.append("%s F1 %.3f" % (t, f1))
    p = st / (st + sf) if st + sf else 1.0
    r = st / (st + sn) if st + sn else 1.0
    print("| micro average | %d | %.3f | %.3f | %.3f | |" % (st + sn, p, r, 2 * p * r / (p + r)))
    nt, nh = sum(neg_total.values()), sum(neg_hit.values())
    share = nh / nt if nt else 0.0
    print("\nhard negatives: %d of %d drew a detection (%.1f%%)" % (nh, nt, 100 * share))
    for k in sorted(neg_total):
        print("  %-10s %d/%d" % (k, neg_hit[k], neg_total[k]))
    if share > NEG_MAX:
        failed.append("hard negatives %.1f%%" % (100 * share))
    for what, text in errors[:a.show_errors]:
        print("%s: %s" % (what, text))
    if a.check and failed:
        print("FAILED: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
