#!/usr/bin/env python3
"""Input for the Kafka pipeline tests: N click records (JSON lines) numbered from FIRST, one
in every 7 schema-invalid in a different way (missing field, wrong type, unknown field,
malformed JSON), each with a distinct sequence number so that it can be found again.

usage: kafka_gen.py FIRST N
"""
import json
import sys

first, n = int(sys.argv[1]), int(sys.argv[2])
for seq in range(first, first + n):
    rec = {"seq": seq, "email": "user%d@example.com" % seq, "ip": "10.1.%d.%d" % (seq % 250, seq % 199),
           "page": "/p/%d" % (seq % 13), "note": "call +1 555 010 %04d" % (seq % 10000) if seq % 5 == 0 else None}
    bad = (seq // 7) % 4 if seq % 7 == 3 else -1
    if bad == 0:
        del rec["email"]
    elif bad == 1:
        rec["seq"] = "s%d" % seq
    elif bad == 2:
        rec["extra"] = 1
    line = json.dumps(rec, separators=(",", ":"))
    if bad == 3:
        line = line[:-1] + ',"seq_again":%d' % seq  # malformed: the object never closes
    print(line)
