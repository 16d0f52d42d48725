#!/usr/bin/env python3
"""Whole RunEvents made of the OpenLineage spec's facet examples (spec/tests/<Facet>/N.json),
one per example, as NDJSON on stdout: each facet goes where its name says (run, job, input,
output or dataset facets). For t-ol-import.sh, which imports them.

  ol_spec_events.py SPEC_DIR
"""
import json
import os
import sys
import uuid

spec = sys.argv[1]
tests = os.path.join(spec, "tests")
out = []
i = 0
for d in sorted(os.listdir(tests)):
    p = os.path.join(tests, d)
    if not os.path.isdir(p):
        continue
    for f in sorted(os.listdir(p)):
        facet = json.load(open(os.path.join(p, f)))
        i += 1
        ev = {"eventType": "COMPLETE", "eventTime": "2026-01-01T00:00:%02dZ" % (i % 60),
              "run": {"runId": str(uuid.UUID(int=i, version=4))},
              "job": {"namespace": "spec-tests", "name": "%s.%s" % (d, f[:-5])},
              "inputs": [], "outputs": [],
              "producer": "https://example.com/wrap", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"}
        ds = {"namespace": "spec-tests", "name": "%s.%s" % (d, f[:-5])}
        if d.endswith("RunFacet"):
            ev["run"]["facets"] = facet
        elif d.endswith("JobFacet"):
            ev["job"]["facets"] = facet
        elif d.endswith("InputDatasetFacet"):
            ds["inputFacets"] = facet; ev["inputs"].append(ds)
        elif d.endswith("OutputDatasetFacet"):
            ds["outputFacets"] = facet; ev["outputs"].append(ds)
        elif d == "BaseSubsetDatasetFacet":
            ds["inputFacets"] = facet; ev["inputs"].append(ds)
        elif d == "LineageFacet":
            ds["facets"] = facet; ev["outputs"].append(ds)
        else:
            ds["facets"] = facet; ev["outputs"].append(ds)
        out.append(ev)
for ev in out:
    print(json.dumps(ev))
