#!/usr/bin/env python3
"""The Python baseline of bench/openlineage.sh: what `steward lineage import` does to an
NDJSON file of OpenLineage RunEvents, in plain Python: the standard library's json module
parses each line, and sqlite3 stores the run, every dataset (by namespace and name), its
schema fields and its column lineage edges, in one transaction. It does not validate the
events against the spec's JSON Schema, nor skip START events, nor check for duplicates
beyond the tables' keys, so it does less than steward.

  baseline_ol_import.py EVENTS.ndjson DB
Prints "events N datasets D fields F column_edges C".
"""
import json
import sqlite3
import sys


def main():
    src, db_path = sys.argv[1], sys.argv[2]
    db = sqlite3.connect(db_path)
    db.executescript("""
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, job TEXT, state TEXT, time TEXT);
        CREATE TABLE IF NOT EXISTS datasets (id INTEGER PRIMARY KEY, namespace TEXT, name TEXT,
            description TEXT, owner TEXT, UNIQUE (namespace, name));
        CREATE TABLE IF NOT EXISTS fields (ds INTEGER, path TEXT, type TEXT, PRIMARY KEY (ds, path));
        CREATE TABLE IF NOT EXISTS column_edges (ds INTEGER, field TEXT, src INTEGER, src_field TEXT,
            type TEXT, subtype TEXT, masking INTEGER,
            PRIMARY KEY (ds, field, src, src_field, type, subtype));
    """)
    ids = {}

    def ds_id(ns, name):
        key = (ns, name)
        if key not in ids:
            db.execute("INSERT OR IGNORE INTO datasets (namespace, name) VALUES (?, ?)", key)
            ids[key] = db.execute("SELECT id FROM datasets WHERE namespace = ? AND name = ?",
                                  key).fetchone()[0]
        return ids[key]

    n = 0
    db.execute("BEGIN")
    with open(src, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            ev = json.loads(line)
            n += 1
            job = ev["job"]["namespace"] + "/" + ev["job"]["name"]
            db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?)",
                       (ev["run"]["runId"], job, ev.get("eventType"), ev["eventTime"]))
            for d in (ev.get("inputs") or []) + (ev.get("outputs") or []):
                i = ds_id(d["namespace"], d["name"])
                facets = d.get("facets") or {}
                doc = facets.get("documentation")
                own = facets.get("ownership")
                if doc or own:
                    db.execute("UPDATE datasets SET description = coalesce(?, description),"
                               " owner = coalesce(?, owner) WHERE id = ?",
                               (doc and doc.get("description"),
                                own and ", ".join(o["name"] for o in own.get("owners", [])), i))
                schema = facets.get("schema")
                if schema:
                    db.execute("DELETE FROM fields WHERE ds = ?", (i,))
                    db.executemany("INSERT OR IGNORE INTO fields VALUES (?, ?, ?)",
                                   [(i, fl["name"], fl.get("type")) for fl in schema.get("fields", [])])
                cl = facets.get("columnLineage")
                if cl:
                    db.execute("DELETE FROM column_edges WHERE ds = ?", (i,))
                    rows = []
                    for field, spec in cl.get("fields", {}).items():
                        for inp in spec.get("inputFields", []):
                            s = ds_id(inp["namespace"], inp["name"])
                            for t in inp.get("transformations") or [{"type": "DIRECT"}]:
                                rows.append((i, field, s, inp["field"], t["type"],
                                             t.get("subtype", ""), int(bool(t.get("masking")))))
                    db.executemany("INSERT OR IGNORE INTO column_edges VALUES (?, ?, ?, ?, ?, ?, ?)",
                                   rows)
    db.commit()
    counts = [db.execute("SELECT count(*) FROM " + t).fetchone()[0]
              for t in ("datasets", "fields", "column_edges")]
    print("events %d datasets %d fields %d column_edges %d" % (n, *counts))


if __name__ == "__main__":
    main()
