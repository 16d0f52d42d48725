#!/usr/bin/env python3
"""Checks a Kafka pipeline run record by record, by content: every record of the source topic
is in the output topic exactly as the stdin hook rewrote it, or in the dead-letter topic as it
came with the stdin hook's reject code and its source partition and offset in headers, or (a
suppressed subject) in neither; and no record is in them twice.

The mock cluster does not hide the records of aborted transactions from read_committed
readers, as a real broker does. The check does that itself, for the transactions steward
said it aborted (its "aborted transaction TAG" lines) and for the last transaction of a
member killed with SIGKILL: such a transaction must be all or nothing, either every record
of it is also elsewhere (it was read again: it is dropped) or none is (its offsets were
committed: it is kept); a transaction read again in part fails the check.

usage: kafka_check.py --input IN.jsonl --expected OUT.jsonl --rejects REJECTS.jsonl
                      --source SRC.json --output OUT.json --dlq DLQ.json
                      [--log STDERR]... [--killed STDERR]...
(the topic dumps are kcat -J lines; IN/OUT/REJECTS are the stdin hook's input, output and
rejects file on the same records). Exit 0 when it holds, 1 with the problems.
"""
import argparse
import collections
import json
import re
import sys

ap = argparse.ArgumentParser()
for a in ("input", "source", "output", "dlq"):
    ap.add_argument("--" + a, required=True)
ap.add_argument("--expected", action="append", required=True)
ap.add_argument("--rejects", action="append", required=True)
ap.add_argument("--log", action="append", default=[])
ap.add_argument("--killed", action="append", default=[])
args = ap.parse_args()
problems = []


def lines(path):
    with open(path, encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f if l.strip()]


# What the stdin hook made of each input record.
outcome = {}
for path in args.rejects:
    for l in lines(path):
        r = json.loads(l)
        outcome[r["record"]] = ("rej", r["code"])
by_seq = {}
for path in args.expected:
    for l in lines(path):
        by_seq[json.loads(l)["seq"]] = l
for l in lines(args.input):
    if l in outcome:
        continue
    seq = json.loads(l)["seq"]
    outcome[l] = ("out", by_seq[seq]) if seq in by_seq else ("sup", None)

source = {}
for l in lines(args.source):
    m = json.loads(l)
    source[(m["partition"], m["offset"])] = m["payload"]
if sorted(source.values()) != sorted(lines(args.input)):
    problems.append("the source topic does not hold the input records")


def headers(m):
    h = m.get("headers") or []
    return dict(zip(h[0::2], h[1::2]))


cover = collections.defaultdict(list)  # source position -> txn tags of the messages
groups = collections.defaultdict(list)  # txn tag -> source positions
for kind, path in (("out", args.output), ("rej", args.dlq)):
    for l in lines(path):
        m = json.loads(l)
        h = headers(m)
        try:
            pos = (int(h["steward-source-partition"]), int(h["steward-source-offset"]))
            tag = h["steward-txn"]
        except (KeyError, ValueError):
            problems.append("%s message at %s/%s lacks its source headers" % (kind, m["partition"], m["offset"]))
            continue
        src = source.get(pos)
        want = outcome.get(src)
        if src is None or want is None:
            problems.append("%s message names source %s, which holds no input record" % (kind, pos))
            continue
        if want[0] != kind:
            problems.append("source %s went to %s, the stdin hook says %s" % (pos, kind, want[0]))
        elif kind == "out" and m["payload"] != want[1]:
            problems.append("source %s: output differs from the stdin hook's: %s" % (pos, m["payload"]))
        elif kind == "rej" and (m["payload"] != src or h.get("steward-code") != want[1]
                                or not h.get("steward-reason")):
            problems.append("source %s: dead-letter record, code or reason wrong (%s)" % (pos, h))
        cover[pos].append(tag)
        groups[tag].append(pos)

aborted = set()
for path in args.log:
    with open(path, encoding="utf-8", errors="replace") as f:
        aborted.update(re.findall(r"aborted transaction (\S+):", f.read()))
open_notes = []
for path in args.killed:
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    tid = re.search(r"transactional id (\S+)", text)
    if tid:
        seqs = [int(t.rsplit("#", 1)[1]) for t in groups if t.rsplit("#", 1)[0] == tid.group(1)]
        if seqs:
            aborted.add("%s#%d" % (tid.group(1), max(seqs)))
        # The transaction its last status line shows open: its records may not have left the
        # producer before the kill, and then the broker holds none of them.
        st = re.findall(r" (\d+) transactions, (\d+) aborted, (\d+) in the open one", text)
        if st and int(st[-1][2]):
            tag = "%s#%d" % (tid.group(1), int(st[-1][0]) + int(st[-1][1]) + 1)
            open_notes.append("killed member's open transaction %s: %d records on the broker"
                              % (tag, len(groups.get(tag, []))))
dropped = kept = 0
for tag in sorted(aborted):
    pos = groups.get(tag, [])
    again = sum(1 for p in pos if len(cover[p]) > 1)
    if pos and again == len(pos):
        for p in pos:
            cover[p].remove(tag)
        dropped += 1
    elif pos and again:
        problems.append("transaction %s was read again in part (%d of %d records)" % (tag, again, len(pos)))
    elif pos:
        kept += 1

n = collections.Counter()
for pos, src in source.items():
    kind = outcome[src][0]
    n[kind] += 1
    c = len(cover.get(pos, []))
    if kind == "sup" and c:
        problems.append("source %s is a suppressed subject's, yet written" % (pos,))
    elif kind != "sup" and c == 0:
        problems.append("gap: source %s is in neither topic" % (pos,))
    elif c > 1:
        problems.append("duplicate: source %s is written %d times (%s)" % (pos, c, cover[pos]))

print("checked %d records: %d out, %d rejected, %d suppressed; %d aborted transactions "
      "dropped, %d kept" % (len(source), n["out"], n["rej"], n["sup"], dropped, kept))
for note in open_notes:
    print(note)
for p in problems[:20]:
    print("problem: " + p)
sys.exit(1 if problems else 0)
