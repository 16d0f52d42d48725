#!/usr/bin/env python3
"""Checks schemas/openapi.json against the server's route tables and its answers.

  openapi_check.py doc DOC SRC     DOC is JSON, says openapi 3.1.x, has a path (with the
                                   route's methods) for every /api/ route in SRC/serve/*.c
                                   and no path that is not a route, unique operationIds,
                                   responses everywhere, every $ref resolves, and each
                                   x-steward-role is the role audit/roles.c gives the route's
                                   x-steward-action
  openapi_check.py spec DOC        the full OpenAPI 3.1 validation of openapi_spec_validator
                                   (exit 77 when it is not installed)
  openapi_check.py answers DOC LIST
                                   each line of LIST, "METHOD PATH STATUS FILE", names an
                                   answer of the server (FILE) that must be valid against the
                                   schema the document gives for METHOD PATH (a document
                                   path, such as /api/v1/requests/{id}) and STATUS
Exit status 0 when it holds, 1 (with the reasons on stderr) when not.
"""
import glob
import json
import re
import sys

ROUTE = re.compile(r'\{"(/api/[^"]*)",\s*([01]),\s*(?:"([^"]+)"|NULL),\s*\w+,\s*([A-Z_| ]+)\}')
ROLE = re.compile(r'\{"([a-z.]+)",\s*AUDIT_ROLE_([A-Z]+),')


def routes(src):
    """(path, prefix, action, {methods}) of every /api/ route of the serve/ tables."""
    out = []
    for f in sorted(glob.glob(src + "/serve/*.c")):
        for m in ROUTE.finditer(open(f).read()):
            methods = set()
            if "SERVE_GET" in m.group(4):
                methods.add("get")
            if "SERVE_POST" in m.group(4):
                methods.add("post")
            out.append((m.group(1), m.group(2) == "1", m.group(3), methods))
    return out


def resolve(doc, ref):
    if not ref.startswith("#/"):
        raise KeyError(ref)
    node = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


def check_doc(path, src):
    bad = []
    doc = json.load(open(path))
    if not re.fullmatch(r"3\.1\.\d+", str(doc.get("openapi"))):
        bad.append("openapi is %r, not 3.1.x" % doc.get("openapi"))
    paths = doc.get("paths", {})
    table = routes(src)
    if len(table) < 5:
        bad.append("only %d routes found in %s/serve/*.c" % (len(table), src))
    roles = dict((a, r.lower()) for a, r in ROLE.findall(open(src + "/audit/roles.c").read()))
    covered = set()
    for rpath, prefix, action, methods in table:
        if prefix:
            docs = [p for p in paths if re.fullmatch(re.escape(rpath) + r"\{[a-z_]+\}", p)]
        else:
            docs = [p for p in paths if p == rpath]
        if not docs:
            bad.append("route %s%s is not in the document" % (rpath, "{...}" if prefix else ""))
            continue
        for p in docs:
            covered.add((p, frozenset(methods)))
            have = set(k for k in paths[p] if k in ("get", "post", "put", "delete", "patch"))
            if not methods <= have:
                bad.append("%s: the route takes %s, the document has %s"
                           % (p, sorted(methods), sorted(have)))
            for m in methods & have:
                op = paths[p][m]
                if op.get("x-steward-action") != action:
                    bad.append("%s %s: x-steward-action is %r, the route's is %r"
                               % (m, p, op.get("x-steward-action"), action))
                if action and op.get("x-steward-role") != roles.get(action):
                    bad.append("%s %s: x-steward-role is %r, roles.c gives %r"
                               % (m, p, op.get("x-steward-role"), roles.get(action)))
    routed = set(p for p, _ in covered)
    for p in paths:
        if p not in routed:
            bad.append("%s is in the document but is no route" % p)
    ids = []
    for p, item in paths.items():
        for m, op in item.items():
            ids.append(op.get("operationId"))
            if not op.get("responses"):
                bad.append("%s %s has no responses" % (m, p))
    if len(ids) != len(set(ids)) or None in ids:
        bad.append("operationIds are not unique: %s" % ids)
    for r in refs(doc):
        try:
            resolve(doc, r)
        except (KeyError, TypeError):
            bad.append("$ref %s does not resolve" % r)
    return bad


def check_spec(path):
    try:
        from openapi_spec_validator import validate
    except ImportError:
        print("openapi_spec_validator is not installed", file=sys.stderr)
        sys.exit(77)
    try:
        validate(json.load(open(path)))
    except Exception as e:  # its errors have no common base worth naming
        return [str(e)[:2000]]
    return []


def check_answer(path, method, route, status, answer):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    doc = json.load(open(path))
    ptr = "/paths/%s/%s/responses/%s" % (route.replace("~", "~0").replace("/", "~1"),
                                         method, status)
    resp = resolve(doc, "#" + ptr)
    if "$ref" in resp:
        ptr = resp["$ref"][1:]
        resp = resolve(doc, resp["$ref"])
    ptr += "/content/application~1json/schema"
    registry = Registry().with_resource(
        "urn:steward-openapi", Resource.from_contents(doc, default_specification=DRAFT202012))
    v = Draft202012Validator({"$ref": "urn:steward-openapi#" + ptr}, registry=registry)
    return ["%s: %s" % ("/".join(map(str, e.absolute_path)) or "(top)", e.message[:300])
            for e in v.iter_errors(json.load(open(answer)))]


def main():
    mode = sys.argv[1]
    if mode == "doc":
        bad = check_doc(sys.argv[2], sys.argv[3])
    elif mode == "spec":
        bad = check_spec(sys.argv[2])
    else:
        bad = []
        for line in open(sys.argv[3]):
            m, p, st, f = line.split()
            bad += ["%s (%s %s %s): %s" % (f, m, p, st, b)
                    for b in check_answer(sys.argv[2], m, p, st, f)]
    for b in bad:
        print(b, file=sys.stderr)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
