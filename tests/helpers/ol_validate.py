#!/usr/bin/env python3
"""Validates OpenLineage RunEvents (NDJSON, one event per line) against the spec's JSON
Schema and against the schema of every facet they carry, independently of steward.

    ol_validate.py --spec DIR [--facet-schema FILE]... FILE...

DIR is the OpenLineage spec (OpenLineage.json and facets/*.json); each --facet-schema adds a
custom facet's schema (steward's schemas/openlineage-steward-pii-facet.json). The schemas'
$id/$ref URLs resolve to these local files, never to the network. Each event is checked
against OpenLineage.json#/$defs/RunEvent, and each facet (run, job, dataset, input and
output facets) against the schema its _schemaURL names: the facet must be the one that
schema defines under the key it has in the event. Formats uri, uuid and date-time are
checked. A file is NDJSON, or one JSON document (an event or an array of events).
Prints one line per problem ("FILE:LINE: where: what") and a summary; exits 0
when every event is valid, 1 when one is not, 2 on a usage or schema error.

Uses only the API of Debian 12's python3-jsonschema (4.10.3): Draft202012Validator,
RefResolver with a store, FormatChecker.
"""
import argparse
import datetime
import glob
import json
import os
import re
import sys
import uuid
import warnings

# RefResolver is deprecated in newer jsonschema releases but is the API of 4.10.3.
warnings.filterwarnings("ignore", category=DeprecationWarning)
from jsonschema import Draft202012Validator, FormatChecker, RefResolver  # noqa: E402

URI_RE = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`]*$')
DATE_TIME_RE = re.compile(
    r'^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$')


def formats():
    fc = FormatChecker(formats=())

    @fc.checks("uri", raises=ValueError)
    def is_uri(s):
        if not isinstance(s, str):
            return True
        return bool(URI_RE.match(s))

    @fc.checks("uuid", raises=ValueError)
    def is_uuid(s):
        if not isinstance(s, str):
            return True
        return len(s) == 36 and str(uuid.UUID(s)) == s.lower()

    @fc.checks("date-time", raises=ValueError)
    def is_date_time(s):
        if not isinstance(s, str):
            return True
        m = DATE_TIME_RE.match(s)
        if not m:
            return False
        y, mo, d, h, mi, sec = (int(m.group(i)) for i in range(1, 7))
        datetime.datetime(y, mo, d, h, mi, min(sec, 59))  # raises ValueError when invalid
        return True

    return fc


def load_store(spec_dir, extra):
    store = {}
    files = [os.path.join(spec_dir, "OpenLineage.json")]
    files += sorted(glob.glob(os.path.join(spec_dir, "facets", "*.json")))
    for path in files + extra:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if path in extra:  # the spec's own schemas are checked upstream; a custom one here
            Draft202012Validator.check_schema(doc)
        store[doc["$id"]] = doc
    return store


class Checker:
    def __init__(self, store):
        self.store = store
        self.fc = formats()
        ol = next(d for i, d in store.items() if i.endswith("/OpenLineage.json"))
        self.event = self.validator(ol, {"$ref": ol["$id"] + "#/$defs/RunEvent"})
        self.facet_validators = {}
        self.nfacets = 0

    def validator(self, doc, schema):
        resolver = RefResolver(base_uri=doc["$id"], referrer=doc, store=self.store)
        return Draft202012Validator(schema, resolver=resolver, format_checker=self.fc)

    def facet_problems(self, key, facet):
        if not isinstance(facet, dict):
            return ["is not an object"]
        url = facet.get("_schemaURL")
        if not isinstance(url, str):
            return ["has no _schemaURL"]
        base, _, frag = url.partition("#")
        doc = self.store.get(base)
        if doc is None:
            return ["_schemaURL '%s' names no known schema" % url]
        props = doc.get("properties", {})
        if key not in props:
            return ["is named '%s', but %s defines the facet %s" %
                    (key, os.path.basename(base), ", ".join(sorted(props)) or "(none)")]
        want = props[key].get("$ref", "")
        if frag and want and frag != want.lstrip("#"):
            return ["_schemaURL fragment '#%s' is not the facet's '%s'" % (frag, want)]
        v = self.facet_validators.get(base)
        if v is None:
            v = self.facet_validators[base] = self.validator(doc, doc)
        self.nfacets += 1
        return [where(e) + e.message for e in v.iter_errors({key: facet})]

    def problems(self, event):
        out = [where(e) + e.message for e in self.event.iter_errors(event)]
        if not isinstance(event, dict):
            return out
        groups = []
        for part in ("run", "job"):
            if isinstance(event.get(part), dict):
                groups.append(("%s.facets" % part, event[part].get("facets")))
        for side in ("inputs", "outputs"):
            for i, ds in enumerate(event.get(side) or []):
                if not isinstance(ds, dict):
                    continue
                groups.append(("%s[%d].facets" % (side, i), ds.get("facets")))
                extra = "inputFacets" if side == "inputs" else "outputFacets"
                groups.append(("%s[%d].%s" % (side, i, extra), ds.get(extra)))
        for prefix, facets in groups:
            if not isinstance(facets, dict):
                continue
            for key, facet in facets.items():
                for p in self.facet_problems(key, facet):
                    out.append("%s.%s: %s" % (prefix, key, p))
        return out


def where(e):
    path = ".".join(str(p) for p in e.absolute_path)
    return path + ": " if path else ""


def short(text, n=300):
    return text if len(text) <= n else text[:n] + "..."


def read_events(name):
    """Yields (line or index, event, error) for each event of a file: NDJSON, or one JSON
    document holding an event or an array of events."""
    f = sys.stdin if name == "-" else open(name, encoding="utf-8")
    with f:
        text = f.read()
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, list):
        for i, event in enumerate(doc):
            yield "[%d]" % i, event, None
        return
    if isinstance(doc, dict):
        yield "1", doc, None
        return
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield str(lineno), json.loads(line), None
        except ValueError as e:
            yield str(lineno), None, e


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", required=True, help="the OpenLineage spec directory")
    ap.add_argument("--facet-schema", action="append", default=[],
                    help="a custom facet's JSON Schema")
    ap.add_argument("files", nargs="+", help="NDJSON files of RunEvents ('-': standard input)")
    a = ap.parse_args()
    try:
        checker = Checker(load_store(a.spec, a.facet_schema))
    except Exception as e:  # a missing or broken schema is a usage error, not a finding
        print("ol_validate: cannot load the schemas: %s" % e, file=sys.stderr)
        return 2
    nevents = nbad = 0
    for name in a.files:
        for where_, event, error in read_events(name):
            nevents += 1
            probs = ["not JSON: %s" % error] if error else checker.problems(event)
            for p in probs:
                print("%s:%s: %s" % (name, where_, short(p)))
            nbad += bool(probs)
    if nbad:
        print("%d of %d events invalid" % (nbad, nevents))
        return 1
    print("%d events valid, %d facets valid" % (nevents, checker.nfacets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
