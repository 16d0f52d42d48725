#!/usr/bin/env python3
"""Deterministic OpenLineage RunEvents for bench/openlineage.sh, as NDJSON on stdout.

  gen_ol_events.py [--count N] [--datasets D] [--seed S]

D jobs each write one of D tables from the same one (80%) or two other tables on every run
(a scheduler's jobs do not change their inputs between runs); each run sends a START event
that names the datasets and a COMPLETE event whose datasets carry their facets: a schema
facet (4 to 6 fields, some named like personal data) and a dataSource facet; outputs carry a columnLineage facet with DIRECT/IDENTITY, DIRECT/TRANSFORMATION
with masking, and INDIRECT/JOIN edges, plus documentation, ownership and dataSource facets.
Standard library only; the same arguments always give the same bytes.
"""
import argparse
import json
import random
import sys
import uuid

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.30.0/integration/airflow"
SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACET = "https://openlineage.io/spec/facets/1-2-0/%s.json#/$defs/%s"
WORDS = ["id", "user_id", "email", "phone", "country", "amount", "created_at", "status",
         "order_id", "sku", "ip_address", "first_name", "last_name", "score", "region", "device"]
TYPES = {"id": "BIGINT", "user_id": "BIGINT", "amount": "DECIMAL(12,2)", "created_at": "TIMESTAMP",
         "score": "DOUBLE", "order_id": "BIGINT"}


def facet(kind, **body):
    body["_producer"] = PRODUCER
    body["_schemaURL"] = FACET % (kind, kind)
    return body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--datasets", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=12)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    ns = "postgres://warehouse.example:5432"
    tables = []
    for i in range(a.datasets):
        fields = rnd.sample(WORDS, rnd.randint(4, 6))
        tables.append(("shop.public.t%05d" % i, fields))
    inputs = []
    for i in range(a.datasets):
        k = 1 if rnd.random() < 0.8 else 2
        inputs.append(sorted({(i + 1 + rnd.randrange(a.datasets - 1)) % a.datasets for _ in range(k)}))
    out = sys.stdout
    n = 0
    run = 0
    while n < a.count:
        run += 1
        # A job always writes the same table from the same inputs, as a scheduler's do.
        dst = rnd.randrange(a.datasets)
        srcs = inputs[dst]
        run_id = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
        job = {"namespace": "airflow", "name": "dag_%04d.task_%d" % (dst % 997, dst % 7)}

        def ds(idx, with_lineage, bare):
            name, fields = tables[idx]
            if bare:
                return {"namespace": ns, "name": name}
            facets = {
                "schema": facet("SchemaDatasetFacet", fields=[
                    {"name": f, "type": TYPES.get(f, "VARCHAR")} for f in fields]),
                "dataSource": facet("DatasourceDatasetFacet", name="warehouse", uri=ns),
            }
            if with_lineage:
                src_name, src_fields = tables[srcs[0]]
                cols = {}
                for f in fields:
                    if f in src_fields:
                        masking = f in ("email", "phone") and (idx + len(f)) % 3 == 0
                        t = {"type": "DIRECT", "subtype": "TRANSFORMATION" if masking else "IDENTITY",
                             "masking": masking}
                        cols[f] = {"inputFields": [
                            {"namespace": ns, "name": src_name, "field": f, "transformations": [t]}]}
                if cols:
                    cols[fields[0]] = cols.get(fields[0], {"inputFields": []})
                    cols[fields[0]]["inputFields"].append(
                        {"namespace": ns, "name": src_name, "field": src_fields[0],
                         "transformations": [{"type": "INDIRECT", "subtype": "JOIN"}]})
                facets["columnLineage"] = facet("ColumnLineageDatasetFacet", fields=cols)
                facets["documentation"] = facet("DocumentationDatasetFacet",
                                                description="table %s built by %s" % (name, job["name"]))
                facets["ownership"] = facet("OwnershipDatasetFacet",
                                            owners=[{"name": "team:data-%d" % (idx % 9), "type": "TEAM"}])
            return {"namespace": ns, "name": name, "facets": facets}

        for state, sec in (("START", 0), ("COMPLETE", 1 + rnd.randrange(600))):
            if n >= a.count:
                break
            t = 1700000000 + run * 60 + sec
            ev = {
                "eventType": state,
                "eventTime": "2026-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
                    1 + (t // 2592000) % 12, 1 + (t // 86400) % 28, (t // 3600) % 24,
                    (t // 60) % 60, t % 60, run % 1000),
                "run": {"runId": run_id, "facets": {}},
                "job": {"namespace": job["namespace"], "name": job["name"], "facets": {}},
                "inputs": [ds(s, False, state == "START") for s in srcs],
                "outputs": [ds(dst, True, state == "START")],
                "producer": PRODUCER,
                "schemaURL": SCHEMA,
            }
            out.write(json.dumps(ev, separators=(",", ":")) + "\n")
            n += 1


if __name__ == "__main__":
    main()
