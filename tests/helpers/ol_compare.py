#!/usr/bin/env python3
"""Compares two steward catalogs the way the OpenLineage round trip must keep them: the same
datasets, the same fields (path, type, pii class, category, in order), the same dataset
edges and the same column edges. Independent of steward's own comparison code: it reads a
catalog either straight from its catalog.db or through `steward show NAME --json`.

    ol_compare.py [--steward BIN] A B

A and B are each db:PATH (a catalog.db whose datasets are declared ones, read with sqlite3)
or cli:WORKSPACE (every dataset of the other side, and those WORKSPACE's catalog.db lists,
through `BIN --home WORKSPACE show NAME --json`, which also sees datasets an import keeps
apart). A name that one side only references (an external upstream) may be a dataset of the
other. Prints the differences and exits 1, or prints the counts and exits 0; 2 on a usage
error.
"""
import argparse
import json
import os
import sqlite3
import subprocess
import sys

LATEST = ("SELECT id, name FROM datasets d WHERE kind <> 'term' AND NOT EXISTS"
          " (SELECT 1 FROM datasets n WHERE n.name = d.name AND n.version > d.version)")


class Catalog:
    """datasets: name -> [(path, type, pii, category)]; edges: {(src, dst)}; column edges:
    {(src dataset.field, dst dataset.field)}; refs: names referenced but not declared."""

    def __init__(self):
        self.datasets = {}
        self.edges = set()
        self.col_edges = set()
        self.refs = set()


def split_ref(ref):
    """'a.b.c.d' -> ('a.b', 'c.d'): a dataset name has exactly two parts."""
    parts = ref.split(".")
    return ".".join(parts[:2]), ".".join(parts[2:])


def from_db(path):
    c = Catalog()
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    for ds_id, name in db.execute(LATEST).fetchall():
        c.datasets[name] = [tuple(r) for r in db.execute(
            "SELECT path, type, pii, category FROM fields WHERE dataset_id = ? ORDER BY ord",
            (ds_id,))]
        for (src,) in db.execute("SELECT src FROM edges WHERE dataset_id = ?", (ds_id,)):
            c.edges.add((src, name))
        for src_ds, src_field, dst_field in db.execute(
                "SELECT src_ds, src_field, dst_field FROM field_edges WHERE dataset_id = ?",
                (ds_id,)):
            c.col_edges.add(("%s.%s" % (src_ds, src_field), "%s.%s" % (name, dst_field)))
    db.close()
    finish(c)
    return c


def db_names(ws):
    path = os.path.join(ws, ".steward", "catalog.db")
    try:
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        names = {n for _, n in db.execute(LATEST)}
        db.close()
        return names
    except sqlite3.Error:
        return set()


def from_cli(steward, ws, names):
    c = Catalog()
    for name in sorted(names | db_names(ws)):
        p = subprocess.run([steward, "--home", ws, "show", name, "--json"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if p.returncode == 4:
            continue
        if p.returncode:
            raise RuntimeError("steward show %s: exit %d: %s" % (name, p.returncode,
                                                                 p.stderr.strip()))
        card = json.loads(p.stdout)
        if card.get("kind") == "term":
            continue
        c.datasets[name] = [(f["path"], f.get("type"), f.get("pii"), f.get("category"))
                            for f in card.get("fields", [])]
        for up in card.get("upstream", []):
            c.edges.add((up["name"], name))
        for f in card.get("fields", []):
            for src in f.get("from") or []:
                c.col_edges.add((src, "%s.%s" % (name, f["path"])))
    finish(c)
    return c


def finish(c):
    for src, _ in c.edges:
        if src not in c.datasets:
            c.refs.add(src)
    for src, _ in c.col_edges:
        ds, _ = split_ref(src)
        if ds not in c.datasets:
            c.refs.add(ds)


def load(spec, steward, other_names):
    kind, _, arg = spec.partition(":")
    if kind == "db":
        return from_db(arg)
    if kind == "cli":
        return from_cli(steward, arg, other_names)
    raise ValueError("'%s' is neither db:PATH nor cli:WORKSPACE" % spec)


def compare(a, b):
    diffs = []
    for name in sorted(set(a.datasets) | set(b.datasets)):
        if name not in b.datasets:
            if name not in b.refs:
                diffs.append("dataset %s: only in A" % name)
            continue
        if name not in a.datasets:
            if name not in a.refs:
                diffs.append("dataset %s: only in B" % name)
            continue
        fa, fb = a.datasets[name], b.datasets[name]
        if fa != fb:
            for i in range(max(len(fa), len(fb))):
                x = fa[i] if i < len(fa) else None
                y = fb[i] if i < len(fb) else None
                if x != y:
                    diffs.append("dataset %s: field %d: A has %s, B has %s" % (name, i + 1, x, y))
    for what, sa, sb in (("dataset edge", a.edges, b.edges),
                         ("column edge", a.col_edges, b.col_edges)):
        for e in sorted(sa - sb):
            diffs.append("%s %s -> %s: only in A" % (what, e[0], e[1]))
        for e in sorted(sb - sa):
            diffs.append("%s %s -> %s: only in B" % (what, e[0], e[1]))
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steward", default="steward", help="the steward binary (for cli:)")
    ap.add_argument("a")
    ap.add_argument("b")
    opts = ap.parse_args()
    try:
        a = load(opts.a, opts.steward, set())
        b = load(opts.b, opts.steward, set(a.datasets) | a.refs)
        if opts.a.startswith("cli:"):
            a = load(opts.a, opts.steward, set(b.datasets) | b.refs)
    except (ValueError, RuntimeError, sqlite3.Error, OSError) as e:
        print("ol_compare: %s" % e, file=sys.stderr)
        return 2
    diffs = compare(a, b)
    for d in diffs:
        print(d)
    if diffs:
        print("%d differences" % len(diffs))
        return 1
    print("equal: %d datasets, %d fields, %d dataset edges, %d column edges" % (
        len(a.datasets), sum(len(f) for f in a.datasets.values()), len(a.edges),
        len(a.col_edges)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
