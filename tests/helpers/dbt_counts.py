#!/usr/bin/env python3
"""Counts what a dbt manifest.json (and the catalog.json beside it) should become in a
catalog, computed from the artifacts alone with the standard library, independently of
steward: relation datasets (models that are not ephemeral, seeds, snapshots and sources,
enabled, one per relation), exposures, columns (the catalog's and the documented ones, by
name without regard to case), dataset edges (depends_on, through ephemeral models), and
generic tests (not_null, unique, accepted_values, relationships) on those datasets.

usage: dbt_counts.py MANIFEST   prints key=value lines
"""
import json
import os
import sys


def main():
    path = sys.argv[1]
    with open(path, encoding="utf-8") as f:
        m = json.load(f)
    cat_path = os.path.join(os.path.dirname(path), "catalog.json")
    cat = {}
    if os.path.exists(cat_path):
        with open(cat_path, encoding="utf-8") as f:
            cat = json.load(f)
    adapter = m["metadata"].get("adapter_type")
    upper = adapter == "snowflake"

    def enabled(n):
        return (n.get("config") or {}).get("enabled", True) is not False

    def ident(n):
        parts = [n.get("database"), n.get("schema"),
                 n.get("identifier") if n["resource_type"] == "source" else (n.get("alias") or n.get("name"))]
        parts = [p for p in parts if p]
        return tuple(p.upper() if upper else p.lower() for p in parts)

    rel = {}       # unique_id -> relation
    ephemeral = {}
    for section in ("nodes", "sources"):
        for uid, n in m.get(section, {}).items():
            rt = n.get("resource_type")
            if rt not in ("model", "seed", "snapshot", "source") or not enabled(n):
                continue
            if rt == "model" and (n.get("config") or {}).get("materialized") == "ephemeral":
                ephemeral[uid] = n
                continue
            rel[uid] = ident(n)
    relations = set(rel.values())

    cols = {}
    for uid, r in rel.items():
        s = cols.setdefault(r, set())
        n = m["nodes"].get(uid) or m["sources"].get(uid)
        for c in (n.get("columns") or {}).values():
            s.add((c.get("name") or "").lower())
        entry = (cat.get("sources" if uid.startswith("source.") else "nodes") or {}).get(uid)
        for c in ((entry or {}).get("columns") or {}).values():
            s.add(c["name"].lower())

    def ups(uid, depth=0):
        if uid in rel:
            return {rel[uid]}
        if uid in ephemeral and depth < 64:
            out = set()
            for d in ephemeral[uid]["depends_on"]["nodes"]:
                out |= ups(d, depth + 1)
            return out
        return set()

    edges = set()
    for uid, r in rel.items():
        n = m["nodes"].get(uid) or m["sources"].get(uid)
        for d in (n.get("depends_on") or {}).get("nodes", []):
            for u in ups(d):
                if u != r:
                    edges.add((u, r))
    exposures = 0
    for uid, e in (m.get("exposures") or {}).items():
        if not enabled(e):
            continue
        exposures += 1
        for d in e["depends_on"]["nodes"]:
            for u in ups(d):
                edges.add((u, ("exposure", uid)))

    tests = {"not_null": 0, "unique": 0, "accepted_values": 0, "relationships": 0}
    for uid, t in m["nodes"].items():
        md = t.get("test_metadata") or {}
        if t.get("resource_type") != "test" or not enabled(t) or md.get("name") not in tests:
            continue
        if md.get("namespace") not in (None, "dbt"):
            continue
        deps = t["depends_on"]["nodes"]
        target = t.get("attached_node")
        if not target:
            # the tested node: the one the kwargs.model call names, else the only one
            model = (md.get("kwargs") or {}).get("model", "")
            for d in deps:
                n = m["nodes"].get(d) or m["sources"].get(d)
                if n and ("'%s'" % n["name"]) in model:
                    target = d
            if not target and len(deps) == 1:
                target = deps[0]
        if target in rel:
            tests[md["name"]] += 1

    print("datasets=%d" % (len(relations) + exposures))
    print("relations=%d" % len(relations))
    print("exposures=%d" % exposures)
    print("fields=%d" % sum(len(s) for s in cols.values()))
    print("edges=%d" % len(edges))
    for k in sorted(tests):
        print("%s=%d" % (k, tests[k]))


if __name__ == "__main__":
    main()
