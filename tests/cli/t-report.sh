#!/bin/sh
# steward report: the monthly compliance report from a workspace with accesses, denied
# attempts, ingest runs and requests, in every format; period and option checks; --output;
# the report's own audit record; no subject value or pseudonym anywhere in a report.
. "$(dirname "$0")/lib.sh"
require jq python3 sqlite3
init_ws
me=$(id -un)
period=$(date -u +%Y-%m)
first=$(date -u +%Y-%m-01)
note "period $period (a run across a month boundary fails)"
cd "$TMP" || exit 99

# A dataset with a field that inherits a stronger class and two untagged fields.
cat >extra.yaml <<'YAML'
kind: table
name: t.report_extra
description: Fields the report flags.
owner: data-eng
fields:
  - {name: contact, type: string, pii: none, category: user.contact.email}
  - {name: note, type: string, pii: indirect}
  - {name: email_copy, type: string, pii: none, from: [prod.users.email]}
YAML

expect_exit 0 steward key init
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog" extra.yaml
expect_exit 0 steward search revenue
expect_exit_stdin 0 "$STEWARD_SRC/examples/events.jsonl" steward ingest 'events.*' --label event_type
expect_exit 4 steward ingest 'nope.*'
expect_exit 0 steward pii hash --purpose test --category user.contact.email canary-report@example.com
canary_pseudonym=$(cat "$OUT")

# ---- denied attempts: the current user as viewer, then admin again ----
printf 'version: 1\nroles:\n  users:\n    "%s": viewer\n' "$me" >"$WS/steward.yaml"
chmod 600 "$WS/steward.yaml"
expect_exit 6 steward ingest '=1+2' --label event_type
expect_exit 6 steward request list
expect_exit 6 steward report --period "$period"
expect_stderr_contains "needs the 'dpo' role"
printf 'version: 1\n' | write_config

# ---- requests: received this month, late, on time, open and overdue, one extended ----
expect_exit 0 steward request new erase --subject user.contact.email:canary-report@example.com --received "$first"
r1=$(cat "$OUT")
expect_exit 0 steward request new access --subject user.unique_id:canary-42424242 --received 2020-01-01
r2=$(cat "$OUT")
expect_exit 0 steward request new erase --subject user.unique_id:1801019 --received "$first"
r3=$(cat "$OUT")
expect_exit 0 steward request new object --subject user.device.device_id:canary-device-7 --received 2020-03-01
r4=$(cat "$OUT")
reason='restore from backups, "cold" storage | <b>R&D</b>'
expect_exit 0 steward request extend "$r1" --reason "$reason"
expect_exit 0 steward request run "$r2"
expect_exit 0 steward request run "$r3"

# A second ingest after the erasure: its subject is suppressed, and one record is bad.
{ cat "$STEWARD_SRC/examples/events.jsonl"; printf '%s\n' '{"event_type":"click"}'; } >events2.jsonl
expect_exit_stdin 1 events2.jsonl steward ingest 'events.*' --label event_type --rejects rej.jsonl

# ---- JSON ----
expect_exit 0 steward report --period "$period" --format json
expect_stderr_empty
cp "$OUT" report.json
expect_jq '.format == "steward-report" and .version == 1'
expect_jq '[keys_unsorted[]] == ["format","version","header","pii_access","denied","ingest","requests","pii_map","audit_chain"]' 'json: sections in order'
expect_jq ".header.period == \"$period\" and .header.actor == \"$me\" and .header.role == \"admin\"" 'header: period, actor, role'
expect_jq ".header.from == \"${first}T00:00:00.000Z\" and (.header.to | endswith(\"-01T00:00:00.000Z\"))" 'header: the month in UTC'
expect_jq '(.header.generator | startswith("steward ")) and (.header.workspace | endswith("/ws")) and (.header.generated | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))' 'header: generator, workspace, time'

# 1. accesses to personal data
expect_jq '.pii_access.by_action | map(select(.action == "pii.ingest"))[0] | .ok == 2 and .denied == 1 and .error == 1 and .total == 4' 'access: pii.ingest per outcome'
expect_jq '.pii_access.by_action | map(select(.action == "pii.hash"))[0].ok == 1' 'access: the pseudonym look-up'
expect_jq '.pii_access.by_action | map(.action) | index("catalog.search") == null' 'access: no search (no personal data)'
expect_jq ".pii_access.by_actor | map(select(.actor == \"$me\" and .role == \"viewer\" and .action == \"pii.ingest\"))[0] | .object == \"=1+2\" and .denied == 1" 'access: the denied ingest by the viewer'
expect_jq ".pii_access.by_actor | map(select(.role == \"admin\" and .action == \"pii.ingest\" and .object == \"events.*\"))[0] | .ok == 2 and .total == 2" 'access: by actor, role and object'
expect_jq '.pii_access.record_count == (.pii_access.by_action | map(.total) | add) and .pii_access.actor_count == 1' 'access: totals add up'

# 2. denied attempts
expect_jq '.denied.attempt_count == 3 and (.denied.attempts | length) == 3' 'denied: three attempts'
expect_jq '.denied.attempts | map(.action) == ["pii.ingest","request.list","report"]' 'denied: oldest first'
expect_jq ".denied.attempts | all(.role == \"viewer\" and .actor == \"$me\")" 'denied: actor and role'
expect_jq '.denied.attempts[0].reason == "needs the '"'engineer'"' role" and .denied.attempts[2].reason == "needs the '"'dpo'"' role"' 'denied: reasons'
expect_jq ".denied.attempts[2].object == \"$period\"" 'denied: the report attempt names its period'

# 3. ingest runs
expect_jq '.ingest.run_count == 3 and .ingest.failed_runs == 1 and (.ingest.runs | length) == 3' 'ingest: three runs (the denied one is not a run)'
expect_jq '.ingest.runs[0] | .dataset == "events.*" and .outcome == "ok" and .in == 8 and .out == 8 and .rejected == 0 and .suppressed == 0' 'ingest: the first run counts'
expect_jq '.ingest.runs[1] | .dataset == "nope.*" and .outcome == "error" and .in == null' 'ingest: a failed run has no counts'
expect_jq '.ingest.runs[2] | .in == 9 and .rejected == 1 and .suppressed == 1 and .out == 7' 'ingest: rejected and suppressed records'
expect_jq '.ingest.in == 17 and .ingest.out == 15 and .ingest.rejected == 1 and .ingest.suppressed == 1' 'ingest: totals'

# 4. requests
expect_jq '.requests.received == 2 and .requests.completed_count == 2 and .requests.completed_on_time == 1 and .requests.completed_late == 1' 'requests: received and completed'
expect_jq '.requests.open == 2 and .requests.overdue_count == 1' 'requests: open and overdue'
expect_jq ".requests.overdue[0] | .id == \"$r4\" and .kind == \"object\" and .category == \"user.device.device_id\" and .deadline == \"2020-04-01\" and .days_overdue > 0" 'requests: the overdue one'
expect_jq ".requests.completed | map({id, timeliness}) == [{id: \"$r2\", timeliness: \"late\"}, {id: \"$r3\", timeliness: \"on time\"}]" 'requests: late and on time'
expect_jq '.requests.median_days_to_complete == (.requests.completed | map(.days) | add / 2)' 'requests: median days to complete'
expect_jq ".requests.extension_count == 1 and (.requests.extensions[0] | .id == \"$r1\" and .kind == \"erase\" and .category == \"user.contact.email\")" 'requests: the extension'
expect_equal "$reason" "$(jq -r '.requests.extensions[0].reason' report.json)" 'requests: the extension reason, as given'
expect_jq '.requests.extensions[0] | .extended_to > .due' 'requests: extended beyond the due date'

# 5. PII map
expect_jq '.pii_map.by_class | map(.class) == ["none","pseudonymous","indirect","direct","sensitive"]' 'map: every class'
expect_jq '.pii_map.fields == (.pii_map.by_class | map(.fields) | add) and .pii_map.datasets == (.pii_map.by_class | map(.datasets) | add)' 'map: classes add up'
expect_jq '.pii_map.derived == [{dataset: "t.report_extra", field: "email_copy", declared: "none", effective: "direct", source: "prod.users.email"}] and .pii_map.derived_count == 1' 'map: the derived field'
expect_jq '.pii_map.untagged | map(select(.dataset == "t.report_extra")) | map([.field, .problem]) == [["contact","category without class"],["note","class without category"]]' 'map: untagged fields'
expect_jq '.pii_map.untagged_count == (.pii_map.untagged | length)' 'map: untagged count'

# 6. audit chain
expect_jq '.audit_chain | .status == "intact" and .bad_seq == null and .problem == null and .records >= 18 and .records == .last_seq and .records_in_period == .records and .checkpoints > 0' 'chain: intact, every record counted'
expect_jq '.audit_chain | (.checkpoint_hash | test("^[0-9a-f]{64}$")) and (.checkpoint_public_key | test("^[0-9a-f]{64}$")) and .checkpoint_seq <= .last_seq' 'chain: the head checkpoint'
head_hash=$(jq -r .audit_chain.checkpoint_hash report.json)
expect_exit 0 steward audit verify --json
expect_jq ".checkpoint.hash == \"$head_hash\"" 'chain: the head audit verify reports'

# ---- Markdown (the default) ----
expect_exit 0 steward report --period "$period"
cp "$OUT" report.md
expect_stdout_line "# Compliance report $period"
expect_stdout_line '## 1. Accesses to personal data'
expect_stdout_line '## 2. Denied attempts'
expect_stdout_line '## 3. Ingest runs'
expect_stdout_line '## 4. Data-subject requests'
expect_stdout_line '## 5. PII map'
expect_stdout_line '## 6. Audit chain'
expect_stdout_line '| Action | OK | Denied | Error | Total |'
expect_stdout_line '| pii.ingest | 2 | 1 | 1 | 4 |'
expect_stdout_line '| t.report_extra | email_copy | none | direct | prod.users.email |'
expect_stdout_line '| t.report_extra | contact | none | user.contact.email | category without class |'
expect_stdout_contains '| restore from backups, "cold" storage \| \<b\>R\&D\</b\> |'
expect_stdout_line '- **Status:** intact'
expect_stdout_line '- **Completed late:** 1'

# ---- HTML ----
expect_exit 0 steward report --period "$period" --format html
cp "$OUT" report.html
expect_stdout_lacks '<script'
expect_stdout_lacks 'http://'
expect_stdout_lacks 'https://'
expect_stdout_lacks '<b>R&D</b>' 'html: text is escaped'
expect_stdout_contains 'restore from backups, &quot;cold&quot; storage | &lt;b&gt;R&amp;D&lt;/b&gt;'
expect_stdout_contains '@media print'
cat >check_html.py <<'PY'
import sys
from html.parser import HTMLParser

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "source", "area", "base"}


class Check(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.tags, self.problems = [], {}, []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for name, value in attrs:
            if name in ("src", "href", "action") or name.startswith("on"):
                self.problems.append("attribute %s on <%s>" % (name, tag))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append("</%s> closes <%s>" % (tag, self.stack[-1] if self.stack else "nothing"))
        else:
            self.stack.pop()


c = Check()
c.feed(open(sys.argv[1], encoding="utf-8").read())
c.close()
if c.stack:
    c.problems.append("unclosed: %s" % c.stack)
for tag in ("script", "link", "img", "iframe", "object", "embed"):
    if c.tags.get(tag):
        c.problems.append("has <%s>" % tag)
if c.tags.get("style") != 1 or c.tags.get("section") != 6 or c.tags.get("h2") != 6:
    c.problems.append("structure: %s" % c.tags)
if c.problems:
    print("\n".join(c.problems))
    sys.exit(1)
PY
check 'html: well-formed, one inline style, six sections, no script or resource' python3 check_html.py report.html

# ---- CSV ----
expect_exit 0 steward report --period "$period" --format csv
cp "$OUT" report.csv
cat >check_csv.py <<'PY'
import csv, sys

with open(sys.argv[1], newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f, strict=True))
problems = []
if rows[0] != ["section", "table", "row", "key", "value"]:
    problems.append("header %r" % rows[0])
if any(len(r) != 5 for r in rows):
    problems.append("a row without five fields")
body = rows[1:]
sections = []
for r in body:
    if r[0] not in sections:
        sections.append(r[0])
if sections != ["header", "pii_access", "denied", "ingest", "requests", "pii_map", "audit_chain"]:
    problems.append("sections %r" % sections)
fact = {(r[0], r[3]): r[4] for r in body if not r[1]}
cell = {(r[0], r[1], r[2], r[3]): r[4] for r in body if r[1]}
if fact.get(("requests", "completed_count")) != "2" or fact.get(("audit_chain", "status")) != "intact":
    problems.append("facts %r" % fact)
if cell.get(("requests", "extensions", "1", "reason")) != sys.argv[2]:
    problems.append("reason %r" % cell.get(("requests", "extensions", "1", "reason")))
if cell.get(("denied", "attempts", "1", "object")) != "'=1+2":
    problems.append("formula not neutralized: %r" % cell.get(("denied", "attempts", "1", "object")))
if fact.get(("audit_chain", "bad_seq")) != "":
    problems.append("null is not empty")
if problems:
    print("\n".join(problems))
    sys.exit(1)
PY
check 'csv: RFC 4180, section,table,row,key,value, values round-trip' python3 check_csv.py report.csv "$reason"
check 'csv: CRLF line ends' grep -q "$(printf '\r')\$" report.csv

# ---- no subject anywhere ----
for f in report.json report.md report.html report.csv; do
	for canary in canary-report canary-42424242 canary-device 1801019 "$canary_pseudonym"; do
		check_not "$f has no '$canary'" grep -qF -e "$canary" "$f"
	done
done

# ---- --output ----
mkdir out
printf 'old\n' >out/report.html
chmod 644 out/report.html
expect_exit 0 steward report --period "$period" --format html --output out/report.html
expect_stdout_line "report for $period written to 'out/report.html' (html)"
expect_equal 600 "$(stat -c %a out/report.html)" 'output: mode 0600, also over an older file'
expect_equal 'report.html' "$(ls out)" 'output: no temporary file left'
check 'output: the whole page' python3 check_html.py out/report.html
expect_exit 0 steward report --period "$period" --format json --output out/report.json
check 'output: json' jq -e '.requests.received == 2' out/report.json
expect_exit 5 steward report --period "$period" --output missing/dir/report.md
expect_stderr_contains "cannot write 'missing/dir/report.md'"

# ---- an earlier month: nothing happened, and the requests are seen as of its end ----
expect_exit 0 steward report --period 2020-02 --format json
expect_jq '.pii_access.record_count == 0 and .denied.attempt_count == 0 and .ingest.run_count == 0' 'past month: no records'
expect_jq '.requests.as_of == "2020-02-29" and .requests.received == 0 and .requests.open == 1 and .requests.overdue_count == 1' 'past month: open and overdue at its end'
expect_jq '.requests.median_days_to_complete == null and .audit_chain.records_in_period == 0' 'past month: nulls and zeros'

# ---- a new workspace: nothing signed yet, an empty catalog ----
expect_exit 0 "$STEWARD" init fresh
expect_exit 0 "$STEWARD" --home fresh report --period "$period" --format json
expect_jq '.audit_chain | .status == "intact" and .checkpoint_seq == null and .checkpoint_hash == null and .checkpoint_public_key == null' 'fresh: nothing signed yet'
expect_jq '.pii_map.fields == 0 and .pii_map.datasets == 0 and (.pii_map.by_class | map(.fields) | add) == 0' 'fresh: an empty catalog'
expect_exit 0 "$STEWARD" --home fresh report --period "$period" --format csv
expect_stdout_contains "$(printf 'audit_chain,,,checkpoint_hash,\r')"

# ---- period and option checks ----
for bad in 2026-13 2026-00 2026-1 26-11 2026/11 2026-11-01 abcd-ef '' 1969-12; do
	expect_exit 2 steward report --period "$bad"
	expect_stderr_line "error: --period needs a month as YYYY-MM (01-12), not '$bad'"
done
expect_exit 2 steward report
expect_stderr_contains 'error: --period YYYY-MM is required'
expect_exit 2 steward report --period 2999-01
expect_stderr_line "error: the period '2999-01' has not begun"
expect_exit 2 steward report --period "$period" --format pdf
expect_stderr_line "error: unknown format 'pdf' (md, html, json or csv)"
expect_exit 2 steward report --period "$period" extra
expect_exit 0 steward report --help
expect_stdout_contains 'usage: steward report --period YYYY-MM'

# ---- the report is audited ----
expect_exit 0 steward audit log --action report --json
expect_jq "map(select(.outcome == \"ok\")) | length >= 6 and all(.object == \"$period\" or .object == \"2020-02\")" 'audit: every report run is recorded with its period'
expect_jq 'map(select(.outcome == "ok") | .counts.format) | unique == ["csv","html","json","md"]' 'audit: with its format'
expect_jq 'map(select(.outcome == "denied")) | length == 1' 'audit: and the denied attempt'

# ---- out of memory at every step: a clean error, never a crash or a partial report ----
cp -R "$WS" torture
n=1
crashed=
while [ "$n" -le 400 ]; do
	rc=0
	STEWARD_FAIL_ALLOC=$n "$STEWARD" --home torture report --period "$period" --format html \
		>torture.out 2>torture.err || rc=$?
	if [ "$rc" -ne 0 ] && { [ "$rc" -ne 5 ] || [ -s torture.out ]; }; then
		crashed="$crashed $n:$rc"
	fi
	n=$((n + 3))
done
expect_equal '' "$crashed" 'failed allocations: exit 5 and no output, or a whole report'

# ---- a tampered log is reported as such ----
sqlite3 "$WS/.steward/audit.db" "UPDATE records SET object = 'changed' WHERE seq = 3"
expect_exit 0 steward report --period "$period" --format json
expect_jq '.audit_chain.status == "tampered" and .audit_chain.bad_seq == 3 and (.audit_chain.problem | test("record 3"))' 'chain: tampered, with the first bad record'

done_testing
