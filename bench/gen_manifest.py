#!/usr/bin/env python3
"""Deterministic synthetic dbt manifest.json (schema v12) for the catalog benchmark.

Writes one manifest with --models models in layers (staging, intermediate, marts) over
--sources source tables and a few seeds: columns with descriptions, data types, tags and
meta.pii / meta.category on a share of them, generic tests (not_null, unique,
accepted_values, relationships) attached to their columns, depends_on.nodes between the
layers, parent_map and child_map, a share of ephemeral models and disabled nodes. The
shape follows dbt 1.8+ manifests (see shared/interop/dbt/jaffle-shop/target/manifest.json).

  gen_manifest.py --models 5000 --out /tmp/manifest5k/target/manifest.json

The same --seed always gives the same bytes. Standard library only.
"""
import argparse
import json
import os
import random

PROJECT = "bench_shop"
WORDS = ["order", "user", "course", "payment", "session", "invoice", "refund", "review", "coupon",
         "enrollment", "instructor", "lecture", "quiz", "certificate", "campaign", "click", "search",
         "wishlist", "cart", "subscription", "payout", "tax", "region", "device", "experiment"]
PII_COLS = [("email", "direct", "user.contact.email", "varchar"),
            ("phone", "direct", "user.contact.phone_number", "varchar"),
            ("full_name", "direct", "user.name", "varchar"),
            ("ip_address", "direct", "user.device.ip_address", "varchar"),
            ("birth_date", "indirect", "user.demographic.date_of_birth", "date"),
            ("country", "indirect", "user.location.imprecise", "varchar"),
            ("user_key", "pseudonymous", "user.unique_id", "varchar")]
TYPES = {"id": "bigint", "at": "timestamp", "count": "integer", "amount": "numeric(12,2)",
         "code": "varchar", "status": "varchar"}
TEAMS = ["data-eng", "analytics", "growth", "commerce", "discovery", "finance", "ml-platform"]
LAYERS = [("stg", "view", 0.45), ("int", "ephemeral", 0.15), ("mart", "table", 0.40)]
SCHEMA_URL = "https://schemas.getdbt.com/dbt/manifest/v12.json"


def column(name, description, data_type, pii=None, category=None, tags=()):
    meta = {}
    if pii:
        meta["pii"] = pii
    if category:
        meta["category"] = category
    return {"name": name, "description": description, "meta": meta, "data_type": data_type,
            "constraints": [], "quote": None, "config": {"meta": meta, "tags": list(tags)},
            "tags": list(tags), "granularity": None, "doc_blocks": []}


def make_columns(r, ncols, with_status):
    cols = {"id": column("id", "The primary key.", "bigint", pii="none", tags=["pk"])}
    if with_status:
        cols["status"] = column("status", "Lifecycle state.", "varchar", pii="none")
    for c in range(ncols - len(cols)):
        if r.random() < 0.2:
            base, pii, cat, typ = r.choice(PII_COLS)
            name = "%s_%d" % (base, c)
            cols[name] = column(name, "Personal data: %s." % base.replace("_", " "), typ, pii=pii,
                                category=cat, tags=["pii"])
        else:
            kind = r.choice(["id", "at", "count", "amount", "code"])
            name = "%s_%s_%d" % (r.choice(WORDS), kind, c)
            # Some columns carry no PII class at all: steward reports them as unknown.
            pii = "none" if r.random() < 0.9 else None
            cols[name] = column(name, "The %s %s." % (name.split("_")[0], kind), TYPES[kind], pii=pii)
    return cols


def config(materialized, enabled=True, tags=(), meta=None):
    return {"enabled": enabled, "alias": None, "schema": None, "database": None, "tags": list(tags),
            "meta": meta or {}, "group": None, "materialized": materialized,
            "incremental_strategy": None, "persist_docs": {}, "post-hook": [], "pre-hook": [],
            "quoting": {}, "column_types": {}, "full_refresh": None, "unique_key": None,
            "on_schema_change": "ignore", "on_configuration_change": "apply", "grants": {},
            "packages": [], "docs": {"show": True, "node_color": None},
            "contract": {"enforced": False, "alias_types": True}, "access": "protected"}


def relation(schema, name):
    return '"warehouse"."%s"."%s"' % (schema, name)


def node_common(r, rtype, uid, name, schema, path, description, cols, deps, materialized,
                tags, meta, enabled=True):
    return {
        "database": "warehouse", "schema": schema, "name": name, "resource_type": rtype,
        "package_name": PROJECT, "path": path, "original_file_path": path,
        "unique_id": uid, "fqn": [PROJECT] + path.split("/")[1:-1] + [name], "alias": name,
        "checksum": {"name": "sha256", "checksum": "%064x" % r.getrandbits(256)},
        "config": config(materialized, enabled, tags, meta), "tags": list(tags),
        "description": description, "columns": cols, "meta": meta, "group": None,
        "docs": {"show": True, "node_color": None}, "patch_path": None, "build_path": None,
        "unrendered_config": {"materialized": materialized}, "created_at": 1767225600.0,
        "relation_name": None if materialized == "ephemeral" else relation(schema, name),
        "raw_code": "select * from upstream", "doc_blocks": [], "language": "sql",
        "refs": [], "sources": [], "metrics": [], "functions": [],
        "depends_on": {"macros": [], "nodes": deps}, "compiled_path": None,
        "contract": {"enforced": False, "alias_types": True, "checksum": None},
        "access": "protected", "constraints": [], "version": None, "latest_version": None,
        "deprecation_date": None, "primary_key": ["id"], "time_spine": None,
    }


def test_node(r, kind, model_uid, model_name, col, kwargs, deps, path):
    name = "%s_%s_%s" % (kind, model_name, col)
    uid = "test.%s.%s.%010x" % (PROJECT, name, r.getrandbits(40))
    kw = {"column_name": col, "model": "{{ get_where_subquery(ref('%s')) }}" % model_name}
    kw.update(kwargs)
    n = node_common(r, "test", uid, name, "dbt_test__audit", path, "", {}, deps, "test", [], {})
    n.update({"test_metadata": {"name": kind, "kwargs": kw, "namespace": None},
              "column_name": col, "attached_node": model_uid, "file_key_name": "models." + model_name,
              "relation_name": None})
    n["config"]["severity"] = "ERROR"
    return uid, n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=5000)
    ap.add_argument("--sources", type=int, default=0, help="source tables (default: models / 10)")
    ap.add_argument("--columns", type=int, default=12, help="columns per model (average)")
    ap.add_argument("--fanin", type=int, default=3, help="upstream nodes per model (max)")
    ap.add_argument("--seed", type=int, default=20251)
    ap.add_argument("--out", required=True, help="the manifest.json to write")
    a = ap.parse_args()
    r = random.Random(a.seed)
    nsources = a.sources or max(1, a.models // 10)

    nodes, sources, disabled = {}, {}, {}
    layer_nodes = {"src": [], "stg": [], "int": [], "mart": []}
    columns_of = {}

    for i in range(nsources):
        sname = "raw_%s_%s_%d" % (r.choice(WORDS), r.choice(WORDS), i)
        src = "app%d" % (i % 7)
        uid = "source.%s.%s.%s" % (PROJECT, src, sname)
        cols = make_columns(r, max(2, int(r.gauss(a.columns, a.columns / 3))), False)
        columns_of[uid] = list(cols)
        sources[uid] = {
            "database": "warehouse", "schema": "raw_" + src, "name": sname, "resource_type": "source",
            "package_name": PROJECT, "path": "models/staging/__sources.yml",
            "original_file_path": "models/staging/__sources.yml", "unique_id": uid,
            "fqn": [PROJECT, "staging", src, sname], "source_name": src,
            "source_description": "Operational database %s." % src, "loader": "fivetran",
            "identifier": sname, "quoting": {"database": None, "schema": None, "identifier": None,
                                             "column": None},
            "loaded_at_field": None, "freshness": {"warn_after": {"count": None, "period": None},
                                                   "error_after": {"count": None, "period": None},
                                                   "filter": None},
            "external": None, "description": "Raw %s rows, one per event." % sname,
            "columns": cols, "meta": {"owner": r.choice(TEAMS)}, "source_meta": {}, "tags": ["raw"],
            "config": {"enabled": True, "tags": ["raw"], "meta": {}}, "patch_path": None,
            "unrendered_config": {}, "relation_name": relation("raw_" + src, sname),
            "created_at": 1767225600.0, "doc_blocks": []}
        layer_nodes["src"].append(uid)

    # A few seeds, one of them the same table as a source.
    for i in range(max(1, a.models // 500)):
        name = "seed_%s_%d" % (r.choice(WORDS), i)
        uid = "seed.%s.%s" % (PROJECT, name)
        cols = make_columns(r, 4, False)
        columns_of[uid] = list(cols)
        n = node_common(r, "seed", uid, name, "main", "seeds/%s.csv" % name, "Reference data.",
                        cols, [], "seed", [], {})
        for k in ("raw_code", "language", "refs", "sources", "metrics", "functions", "compiled_path",
                  "contract", "access", "constraints", "version", "latest_version",
                  "deprecation_date", "primary_key", "time_spine"):
            n.pop(k, None)
        n["root_path"] = "/bench"
        n["depends_on"] = {"macros": []}
        nodes[uid] = n

    for i in range(a.models):
        layer, materialized, _ = r.choices(LAYERS, [w for _, _, w in LAYERS])[0]
        name = "%s_%s_%s_%d" % (layer, r.choice(WORDS), r.choice(WORDS), i)
        uid = "model.%s.%s" % (PROJECT, name)
        ups_pool = {"stg": ["src"], "int": ["stg"], "mart": ["stg", "int", "mart"]}[layer]
        cands = [u for L in ups_pool for u in layer_nodes[L][-2000:]]
        deps = sorted(set(r.choice(cands) for _ in range(r.randint(1, a.fanin)))) if cands else []
        cols = make_columns(r, max(3, int(r.gauss(a.columns, a.columns / 3))), r.random() < 0.3)
        owner = r.choice(TEAMS)
        path = "models/%s/%s.sql" % ({"stg": "staging", "int": "intermediate", "mart": "marts"}[layer], name)
        enabled = r.random() >= 0.01
        n = node_common(r, "model", uid, name, "analytics_" + layer, path,
                        "Synthetic %s model number %d for scale tests." % (layer, i), cols, deps,
                        materialized, [layer, "synthetic"], {"owner": owner}, enabled)
        n["refs"] = [{"name": d.split(".")[-1], "package": None, "version": None}
                     for d in deps if d.startswith("model.")]
        n["sources"] = [[sources[d]["source_name"], sources[d]["name"]] for d in deps if d.startswith("source.")]
        if not enabled:
            disabled.setdefault(uid, []).append(n)
            continue
        nodes[uid] = n
        columns_of[uid] = list(cols)
        layer_nodes[layer].append(uid)

        tpath = path[:-4] + ".yml"
        tests = [test_node(r, "not_null", uid, name, "id", {}, [uid], tpath),
                 test_node(r, "unique", uid, name, "id", {}, [uid], tpath)]
        if "status" in cols:
            tests.append(test_node(r, "accepted_values", uid, name, "status",
                                   {"values": ["placed", "shipped", "returned"]}, [uid], tpath))
        model_ups = [d for d in deps if d.startswith("model.") and d in nodes]
        if model_ups and r.random() < 0.5:
            up = r.choice(model_ups)
            fk = next((c for c in cols if c.endswith("_id_%s" % c.rsplit("_", 1)[-1])), "id")
            tests.append(test_node(r, "relationships", uid, name, fk,
                                   {"to": "ref('%s')" % up.split(".")[-1], "field": "id"},
                                   [up, uid], tpath))
        for tuid, t in tests:
            nodes[tuid] = t

    parent_map, child_map = {}, {}
    for uid in list(nodes) + list(sources):
        child_map.setdefault(uid, [])
    for uid, n in nodes.items():
        parent_map[uid] = sorted(set(n["depends_on"].get("nodes", [])))
        for p in parent_map[uid]:
            child_map.setdefault(p, []).append(uid)
    for uid in sources:
        parent_map.setdefault(uid, [])
    for k in child_map:
        child_map[k].sort()

    manifest = {
        "metadata": {"dbt_schema_version": SCHEMA_URL, "dbt_version": "1.11.7",
                     "generated_at": "2026-01-01T00:00:00.000000Z",
                     "invocation_id": "00000000-0000-4000-8000-%012x" % a.seed,
                     "invocation_started_at": "2026-01-01T00:00:00.000000Z", "env": {},
                     "project_name": PROJECT, "project_id": "%032x" % a.seed, "user_id": None,
                     "send_anonymous_usage_stats": False, "adapter_type": "postgres",
                     "quoting": {"database": True, "schema": True, "identifier": True, "column": None},
                     "run_started_at": "2026-01-01T00:00:00.000000+00:00"},
        "nodes": nodes, "sources": sources, "macros": {}, "docs": {}, "exposures": {}, "metrics": {},
        "groups": {}, "selectors": {}, "disabled": disabled, "parent_map": parent_map,
        "child_map": child_map, "group_map": {}, "saved_queries": {}, "semantic_models": {},
        "unit_tests": {}, "functions": {},
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(manifest, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
