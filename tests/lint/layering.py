#!/usr/bin/env python3
"""The layering lint: the modules form layers (common < catalog < pii < audit < kafka < serve < cli), a
file includes only its own module's headers and the public headers of the layers below,
no header include cycle exists, no two object files of the product call each other in a
cycle, and the product carries no test code. TAP on stdout.

usage: layering.py SOURCE_ROOT BUILD_ROOT
"""
import collections
import os
import re
import subprocess
import sys

# Layer order, lowest first, and each module's public headers (the others are internal).
LAYERS = ["common", "catalog", "pii", "audit", "kafka", "serve", "cli"]
PUBLIC = {
    "common": None,  # the base layer: every header is public
    "catalog": {"catalog.h"},
    "pii": {"pii.h", "pii_map.h", "ingest.h", "scan.h"},
    "audit": {"audit.h", "target.h"},
    "kafka": {"kafka.h"},
    "serve": {"serve.h"},
    "cli": {"cli.h"},
}
GENERATED = {"embedded.h", "version.h", "openapi_embed.h"}  # made by the build
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

src, build = sys.argv[1], sys.argv[2]
n = 0
failed = 0


def report(ok, desc, details=()):
    global n, failed
    n += 1
    print(("ok" if ok else "not ok") + " %d - %s" % (n, desc))
    if not ok:
        failed += 1
        for d in details:
            print("#   " + d)


files = {}  # "module/file" -> text
for mod in LAYERS:
    for name in sorted(os.listdir(os.path.join(src, mod))):
        if name.endswith((".c", ".h")):
            with open(os.path.join(src, mod, name), encoding="utf-8") as f:
                files[mod + "/" + name] = f.read()
owner = collections.defaultdict(list)  # header name -> modules that have it
for path in files:
    if path.endswith(".h"):
        owner[path.split("/")[1]].append(path.split("/")[0])

# 1. includes follow the layers
bad = []
for path, text in files.items():
    mod = path.split("/")[0]
    for inc in INCLUDE.findall(text):
        if inc in GENERATED:
            continue
        homes = owner.get(inc, [])
        if mod in homes:
            continue
        if not homes:
            bad.append('%s includes "%s", which no module has' % (path, inc))
            continue
        home = homes[0]
        if LAYERS.index(home) > LAYERS.index(mod):
            bad.append('%s includes "%s" of %s/, a layer above it' % (path, inc, home))
        elif PUBLIC[home] is not None and inc not in PUBLIC[home]:
            bad.append('%s includes "%s", internal to %s/' % (path, inc, home))
report(not bad, "every include is of the file's own module or a public header below it", bad)

# 2. no include cycle between headers (or a header and itself)
graph = {p: {f"{o}/{inc}" for inc in INCLUDE.findall(t) for o in owner.get(inc, [])[:1]}
         for p, t in files.items()}


def cycles(g):
    """Strongly connected components with more than one member, or a self loop (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(100000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in g.get(v, ()):
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


found = cycles(graph)
report(not found, "no include cycle", [" <-> ".join(c) for c in found])

# 3. no call cycle between the product's object files (nm: what each defines and uses)
objects = {}
for mod in LAYERS:
    d = os.path.join(build, mod)
    for root, _, names in os.walk(d):
        for name in names:
            if name.endswith(".c.o") and "embedded" not in name:
                objects[mod + "/" + name[:-2]] = os.path.join(root, name)
if not objects:
    report(False, "no call cycle between object files", ["no object files under " + build])
else:
    defined = {k: set() for k in objects}
    used = {k: set() for k in objects}
    key_of = {obj: key for key, obj in objects.items()}
    # one nm for all: "-A" prefixes each line with "FILE: "
    out = subprocess.run(["nm", "-P", "-A"] + sorted(key_of), capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        obj, _, rest = line.partition(": ")
        parts = rest.split()
        if obj in key_of and len(parts) >= 2:
            if parts[1] in "TDBRC":
                defined[key_of[obj]].add(parts[0])
            elif parts[1] == "U":
                used[key_of[obj]].add(parts[0])
    where = {s: k for k, ds in defined.items() for s in ds}
    calls = {k: {where[s] for s in u if s in where and where[s] != k} for k, u in used.items()}
    found = cycles(calls)
    details = []
    for comp in found:
        details.append(" <-> ".join(comp))
        for a in comp:
            for b in sorted(calls[a] & set(comp)):
                syms = sorted(s for s in used[a] if where.get(s) == b)
                details.append("  %s uses %s of %s" % (a, ", ".join(syms[:4]), b))
    report(not found, "no call cycle between the %d object files of the product" % len(objects),
           details)
    # 4. no test code in the product libraries
    test_syms = sorted("%s: %s" % (k, s) for k, ds in defined.items() for s in ds
                       if re.search(r"fault|st_test_", s, re.I))
    report(not test_syms, "no fault-injection code in the product's objects", test_syms)

env_uses = sorted("%s: %s" % (p, m) for p, t in files.items()
                  for m in re.findall(r'getenv\("(STEWARD_(?:FAIL|FAULT)[A-Z_]*)"\)', t))
report(not env_uses, "no product source reads a fault-injection variable", env_uses)

print("1..%d" % n)
sys.exit(1 if failed else 0)
