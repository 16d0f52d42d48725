#!/usr/bin/env python3
"""The one helper behind the benchmark scripts in bench/ (called through bench/lib.sh): the
statistics of timing samples, ratios against a baseline, hyperfine's JSON, and the report
(the table, the goal lines and bench/out/NAME.json). A benchmark tool, not part of steward.

  report.py stats SAMPLES NAME VARIANT
  report.py ratio SAMPLES NAME METRIC BASE VARIANT
  report.py hyperfine FILE
  report.py table RESULTS JSON --benchmark NAME --mode MODE [options]
  report.py markdown JSON

SAMPLES holds one sample a line, tab-separated: NAME VARIANT METRIC VALUE (bench/lib.sh
`sample` and `measure --sample` append them). RESULTS holds one result row a line,
tab-separated: ID LABEL VALUE UNIT GOAL DETAIL [KEY=VALUE...] (bench/lib.sh `record`).
Exit status: 0, or 1 for the table when a goal is missed; 2 usage; 3 anything else (a bug
in the report is a benchmark failure, not a missed goal).
"""
import argparse, datetime, json, math, os, sys


def crashed(*exc):
    sys.__excepthook__(*exc)
    sys.stdout.flush()
    os._exit(3)


sys.excepthook = crashed


def num(s):
    """A field as a number where it reads as one ('1,2' as a list), else the string."""
    if "," in s:
        return [num(x) for x in s.split(",")]
    try:
        return float(s) if "." in s or "e" in s else int(s)
    except ValueError:
        return s


def plain(v):
    """A computed number as text: at most 6 decimals, no exponent, no trailing zeros."""
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return ("%.6f" % v).rstrip("0").rstrip(".")


# --- samples -----------------------------------------------------------------------

def read_samples(path, name, variant):
    """{metric: [value text, ...]} for NAME VARIANT, metrics in first-seen order."""
    out = {}
    with open(path) as f:
        for line in f:
            n, v, m, x = line.rstrip("\n").split("\t")
            if n == name and v == variant:
                out.setdefault(m, []).append(x)
    return out


def median(xs):
    s = sorted(xs)
    k = len(s)
    return s[k // 2] if k % 2 else (s[k // 2 - 1] + s[k // 2]) / 2


def percentile(xs, p):
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    s = sorted(xs)
    return s[max(1, math.ceil(p / 100 * len(s))) - 1]


def cmd_stats(a):
    """One line a metric: METRIC MEDIAN MIN MAX P95 N RUNS (RUNS: every value, comma-separated,
    as recorded; MIN, MAX and P95 are recorded values too)."""
    got = read_samples(a.samples, a.name, a.variant)
    if not got:
        sys.exit("report.py: no samples for '%s' '%s'" % (a.name, a.variant))
    for metric, texts in got.items():
        by = sorted(texts, key=float)
        vals = [float(x) for x in by]
        p95 = by[vals.index(percentile(vals, 95))]
        k = len(by)
        med = by[k // 2] if k % 2 else plain(median(vals))
        print(metric, med, by[0], by[-1], p95, k, ",".join(texts))


def cmd_ratio(a):
    """RATIO MIN MAX RUNS: median of BASE / median of VARIANT for METRIC (for times, the
    throughput ratio), then the same ratio sample by sample (round by round)."""
    base = [float(x) for x in read_samples(a.samples, a.name, a.base).get(a.metric, [])]
    var = [float(x) for x in read_samples(a.samples, a.name, a.variant).get(a.metric, [])]
    if not base or len(base) != len(var):
        sys.exit("report.py: '%s' has %d '%s' and %d '%s' samples of %s" %
                 (a.name, len(base), a.base, len(var), a.variant, a.metric))
    per = ["%.2f" % (b / v) for b, v in zip(base, var)]
    by = sorted(per, key=float)
    print("%.2f" % (median(base) / median(var)), by[0], by[-1], ",".join(per))


def cmd_hyperfine(a):
    """MEAN MEDIAN MIN MAX STDDEV in ms of the first command in hyperfine's --export-json."""
    r = json.load(open(a.file))["results"][0]
    print(" ".join("%.2f" % (1000 * (r[k] or 0)) for k in ("mean", "median", "min", "max", "stddev")))


# --- the report --------------------------------------------------------------------

FORMATS = {"x": "%.2fx", "MB/s": "%.1f MB/s", "MB": "%.1f MB", "ms": "%.2f ms"}


def fmt(v, unit, formats):
    if v is None or v == "-":
        return "-"
    if unit in formats:
        return formats[unit] % v
    if unit == "s":
        return "%.3f s" % v if v < 1 else "%.2f s" % v
    if unit == "records/s":
        return "{:,.0f}/s".format(v)
    if unit == "problems":
        return "ok" if v == 0 else "%d bad" % v
    return "%g %s" % (v, unit)


def fmt_goal(op, g, unit, formats):
    if g is None:
        return "-"
    if unit == "problems":
        return "none"
    return "%s %s" % (op, fmt(g, unit, formats))


def is_list_key(k):
    """Extras that hold every run: a list even when there was one run."""
    return k == "per_round" or any(k.endswith(s) for s in ("runs_s", "runs_ms", "runs_mb"))


def read_rows(path):
    """The result rows; GOAL is '-', N or <=N (an upper bound), or >=N (a lower bound)."""
    rows = []
    with open(path) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            rid, label, value, unit, goal, detail = fields[:6]
            extra = {}
            for kv in fields[6:]:
                k, v = kv.split("=", 1)
                v = num(v)
                extra[k] = [v] if is_list_key(k) and not isinstance(v, list) else v
            value = None if value == "-" else num(value)
            if goal == "-":
                op, g = None, None
            elif goal[:2] in ("<=", ">="):
                op, g = goal[:2], num(goal[2:])
            else:
                op, g = "<=", num(goal)
            if g is None:
                status = "info"
            else:
                status = "PASS" if (value <= g if op == "<=" else value >= g) else "FAIL"
            rows.append(dict(id=rid, label=label, value=value, unit=unit, goal=g, goal_op=op,
                             status=status, detail=detail, **extra))
    return rows


def table_cells(rows, formats):
    head = ("measurement", "result", "goal", "status", "detail")
    return head, [(r["label"], fmt(r["value"], r["unit"], formats),
                   fmt_goal(r["goal_op"], r["goal"], r["unit"], formats), r["status"], r["detail"])
                  for r in rows]


def print_table(rows, formats):
    """Columns padded to width, result and goal right-aligned."""
    head, cells = table_cells(rows, formats)
    w = [max(len(x[i]) for x in cells + [head]) for i in range(5)]

    def line(x):
        return "  ".join((x[i].rjust(w[i]) if i in (1, 2) else x[i].ljust(w[i]))
                         for i in range(5)).rstrip()
    print(line(head))
    print("  ".join("-" * n for n in w))
    for c in cells:
        print(line(c))


def put(doc, path, value):
    keys = path.split(".")
    for k in keys[:-1]:
        doc = doc.setdefault(k, {})
    doc[keys[-1]] = value


def cmd_table(a):
    formats = dict(FORMATS)
    for f in a.format:
        unit, spec = f.split("=", 1)
        formats[unit] = spec
    rows = read_rows(a.results)
    print_table(rows, formats)

    by_id = {r["id"]: r for r in rows}
    summary = []
    for g in a.goal:
        gid, text = g.split("=", 1)
        r = by_id.get(gid)
        if r is None or r["status"] == "info":  # not measured, or measured below the goal's size
            summary.append(dict(id=gid, goal=text, status="SKIP", value=None if r is None else r["value"],
                                unit=None if r is None else r["unit"]))
        else:
            summary.append(dict(id=gid, goal=text, status=r["status"], value=r["value"], unit=r["unit"],
                                limit=r["goal"], op=r["goal_op"]))
    judged = [g for g in summary if g["status"] != "SKIP"]
    met = sum(g["status"] == "PASS" for g in judged)

    doc = dict(benchmark=a.benchmark, mode=a.mode,
               date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    for m in a.meta:  # PATH=TEXT, or PATH:=JSON
        k, v = m.split("=", 1)
        if k.endswith(":"):
            put(doc, k[:-1], json.loads(v))
        else:
            put(doc, k, v)
    if a.format:  # for `report.py markdown`
        doc["formats"] = dict(f.split("=", 1) for f in a.format)
    doc.update(results=rows, goals=summary, all_met=met == len(judged))
    os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")

    print()
    print("results: %s" % os.path.abspath(a.json))
    skipped = len(summary) - len(judged)
    print("goals: %d of %d met%s%s" % (met, len(judged), ", %d skipped (%s)" % (skipped, a.skipped)
                                       if skipped else "", " (%s)" % a.goals_note if a.goals_note else ""))
    for g in summary:
        got = "" if g["value"] is None else "  (%s)" % fmt(g["value"], g["unit"], formats)
        print("%-4s  %s%s" % (g["status"], g["goal"], got))
    sys.exit(0 if met == len(judged) else 1)


def cmd_markdown(a):
    """The results of a bench/out/NAME.json as a markdown table, to quote in a document."""
    doc = json.load(open(a.json))
    formats = dict(FORMATS)
    formats.update(doc.get("formats", {}))
    head, cells = table_cells(doc["results"], formats)
    print("| " + " | ".join(head) + " |")
    print("|---|---:|---:|---|---|")
    for c in cells:
        print("| " + " | ".join(x.replace("|", "\\|") for x in c) + " |")


def main():
    p = argparse.ArgumentParser(prog="report.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("stats", help="median, min, max, p95 of each metric of NAME VARIANT")
    s.add_argument("samples")
    s.add_argument("name")
    s.add_argument("variant")
    s.set_defaults(run=cmd_stats)
    s = sub.add_parser("ratio", help="median BASE / median VARIANT, and round by round")
    for arg in ("samples", "name", "metric", "base", "variant"):
        s.add_argument(arg)
    s.set_defaults(run=cmd_ratio)
    s = sub.add_parser("hyperfine", help="mean median min max stddev (ms) from --export-json")
    s.add_argument("file")
    s.set_defaults(run=cmd_hyperfine)
    s = sub.add_parser("table", help="print the table and the goals, write the JSON")
    s.add_argument("results")
    s.add_argument("json")
    s.add_argument("--benchmark", required=True)
    s.add_argument("--mode", required=True)
    s.add_argument("--goal", action="append", default=[], metavar="ID=TEXT",
                   help="a goal line, judged by the row ID (SKIP when missing or info)")
    s.add_argument("--meta", action="append", default=[], metavar="PATH=TEXT|PATH:=JSON",
                   help="a field of the JSON, e.g. machine.cpu=... or machine.nproc:=2")
    s.add_argument("--format", action="append", default=[], metavar="UNIT=PRINTF",
                   help="how values of UNIT are shown, e.g. 'ms=%%.1f ms'")
    s.add_argument("--skipped", default="--quick", help="why goals are skipped")
    s.add_argument("--goals-note", default="", help="appended to the goals line")
    s.set_defaults(run=cmd_table)
    s = sub.add_parser("markdown", help="a bench/out JSON's results as a markdown table")
    s.add_argument("json")
    s.set_defaults(run=cmd_markdown)
    a = p.parse_args()
    a.run(a)


if __name__ == "__main__":
    main()
