#!/usr/bin/env python3
"""What OpenLineage events describe, computed independently of steward (standard library
only), for the `lineage import` tests to compare with catalog.db.

  ol_figures.py FILE|DIR...

Reads RunEvents (a JSON array, NDJSON, or one event per file; a directory's *.json,
*.jsonl and *.ndjson files in name order), takes the valid RunEvents as the spec defines
them (run and job present), and applies them in order the way docs/interop.md says an
import does: an event already seen is ignored; within a run, an event of an earlier stage
(START < RUNNING < COMPLETE/ABORT/FAIL) or older at the same stage is ignored, OTHER never
is; a dataset's schema facet replaces its fields, its columnLineage and lineage facets its
column edges (lineage: DATASET inputs with a field), the lineage facet's DATASET inputs add
dataset edges; a facet marked _deleted is not there. Prints {"events", "applied", "ignored", "datasets", "fields", "column_edges",
"edges"} as JSON, where datasets counts every (namespace, name) named by an applied event
(inputs, outputs, columnLineage input fields).
"""
import datetime
import json
import os
import sys

RANK = {"START": 0, "RUNNING": 1, "OTHER": 1, "COMPLETE": 2, "ABORT": 2, "FAIL": 2}


def events_of(path):
    if os.path.isdir(path):
        for name in sorted(os.listdir(path)):
            if name.endswith((".json", ".jsonl", ".ndjson")) and not name.startswith("."):
                yield from events_of(os.path.join(path, name))
        return
    text = open(path, encoding="utf-8-sig").read()
    if text.lstrip().startswith("["):
        yield from json.loads(text)
        return
    dec = json.JSONDecoder()
    i = 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text):
            break
        value, i = dec.raw_decode(text, i)
        yield value


def utc(t):
    return datetime.datetime.fromisoformat(t.replace("Z", "+00:00").replace("z", "+00:00"))


def flat(fields, prefix=""):
    for f in fields or []:
        if "name" not in f:
            continue
        path = prefix + f["name"]
        yield path
        yield from flat(f.get("fields"), path + ".")


def main():
    seen, runs = set(), {}
    datasets, fields, colin, edges = set(), {}, {}, set()
    n = applied = ignored = 0
    for path in sys.argv[1:]:
        for ev in events_of(path):
            n += 1
            key = json.dumps(ev, sort_keys=False)
            if "run" not in ev or "job" not in ev or key in seen:
                ignored += 1
                continue
            seen.add(key)
            state = ev.get("eventType", "OTHER")
            run_id = ev["run"]["runId"]
            when = utc(ev["eventTime"])
            if run_id in runs and state != "OTHER":
                had, at = runs[run_id]
                if RANK[state] < RANK[had] or (RANK[state] == RANK[had] and when < at):
                    ignored += 1
                    continue
            if state != "OTHER":
                runs[run_id] = (state, when)
            applied += 1
            ins = []
            for side in ("inputs", "outputs"):
                for d in ev.get(side) or []:
                    ds = (d["namespace"], d["name"])
                    datasets.add(ds)
                    facets = {k: v for k, v in (d.get("facets") or {}).items()
                              if not v.get("_deleted")}
                    if "schema" in facets:
                        fields[ds] = set(flat(facets["schema"].get("fields")))
                    if "columnLineage" in facets or "lineage" in facets:
                        cl = set()
                        for facet, key in (("columnLineage", "inputFields"), ("lineage", "inputs")):
                            for fname, f in (facets.get(facet) or {}).get("fields", {}).items():
                                old = f.get("transformationType")
                                for inp in f.get(key, []):
                                    if inp.get("type", "DATASET") != "DATASET" or "field" not in inp:
                                        continue
                                    src = (inp["namespace"], inp["name"])
                                    datasets.add(src)
                                    for t in inp.get("transformations") or [None]:
                                        if t is None:
                                            cl.add((fname, src, inp["field"], "DIRECT", old or ""))
                                        else:
                                            cl.add((fname, src, inp["field"], t["type"],
                                                    t.get("subtype", "")))
                        for inp in (facets.get("lineage") or {}).get("inputs", []):
                            if inp.get("type", "DATASET") == "DATASET" and "namespace" in inp:
                                src = (inp["namespace"], inp["name"])
                                datasets.add(src)
                                if src != ds:
                                    edges.add((src, ds))
                        colin[ds] = cl
                    if side == "inputs":
                        ins.append(ds)
                    else:
                        edges.update((src, ds) for src in ins if src != ds)
    print(json.dumps({
        "events": n, "applied": applied, "ignored": ignored,
        "datasets": len(datasets), "fields": sum(len(v) for v in fields.values()),
        "column_edges": sum(len(v) for v in colin.values()), "edges": len(edges),
    }, sort_keys=True))


if __name__ == "__main__":
    main()
