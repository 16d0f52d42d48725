#!/usr/bin/env bash
# steward request demo: an erasure request carried out across the example catalog's targets:
# a SQLite production database, a JSON-lines lake partitioned the Hive way and gzipped
# (lake/dt=YYYY-MM-DD/part-0.jsonl.gz) and two HTTP services; every local target is re-scanned
# after the erasure, the evidence says what remains, and an independent check reads the
# targets again; then a replay that the suppression list stops, and the log's verification.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

if [ -z "${STEWARD_DEMO_BUILT:-}" ]; then
  tools/install-deps
  [ -f build/build.ninja ] || meson setup build >/dev/null
  ninja -C build >/dev/null
fi
steward="$here/build/cli/steward"
ws=${STEWARD_DEMO_HOME:-"$here/build/request-demo"}
rm -rf "$ws"
mkdir -p "$ws/targets/lake"

bold='' plain=''
if [ -t 1 ]; then bold=$(printf '\033[1m') plain=$(printf '\033[0m'); fi
say() { printf '\n%s# %s%s\n' "$bold" "$*" "$plain"; }
run() {
  printf '\n%s$ steward %s%s\n' "$bold" "$*" "$plain"
  "$steward" --home "$ws" "$@"
}

"$steward" init "$ws" >/dev/null
"$steward" --home "$ws" catalog load examples/catalog >/dev/null
"$steward" --home "$ws" key init >/dev/null

say "the production database (prod.users, prod.orders, prod.enrollments) and a partitioned gzip lake"
python3 - "$ws/targets/prod.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, full_name TEXT, phone TEXT,
                    country TEXT, created_at TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, course_id INTEGER,
                     billing_email TEXT, amount REAL, currency TEXT, ordered_at TEXT);
CREATE TABLE enrollments (id INTEGER PRIMARY KEY, user_id INTEGER, course_id INTEGER,
                          enrolled_at TEXT);
""")
people = [(1801019, "Jiho.Kim@example.com", "Jiho Kim"), (526713, "ana@example.org", "Ana Souza"),
          (4681479, "lee@example.net", "Min Lee")]
for i, (uid, email, name) in enumerate(people):
    db.execute("INSERT INTO users VALUES (?, ?, ?, NULL, 'KR', '2025-01-01')", (uid, email, name))
    for k in range(3):
        db.execute("INSERT INTO orders (user_id, course_id, billing_email, amount, currency,"
                   " ordered_at) VALUES (?, ?, ?, 19.0, 'USD', '2026-02-01')", (uid, 100 + k, email))
        db.execute("INSERT INTO enrollments (user_id, course_id, enrolled_at)"
                   " VALUES (?, ?, '2026-02-01')", (uid, 100 + k))
db.commit()
PY
"$steward" --home "$ws" ingest 'events.*' --rejects "$ws/rejects.jsonl" <examples/events.jsonl \
  2>/dev/null | python3 -c '
import collections, gzip, json, os, sys
parts = collections.defaultdict(list)
for line in sys.stdin:
    e = json.loads(line)
    parts[e["ts"][:10]].append(json.dumps({"label": e["event_type"], "user_id": e["user_id"],
                                           "payload": e["event_id"]}))
for dt, lines in parts.items():
    d = os.path.join(sys.argv[1], "dt=" + dt)
    os.makedirs(d)
    with gzip.open(os.path.join(d, "part-0.jsonl.gz"), "wt") as f:
        f.write("\n".join(lines) + "\n")
open(os.path.join(sys.argv[1], "_SUCCESS"), "w").close()  # what Spark leaves: listed as skipped
' "$ws/targets/lake"
lake_lines() { find "$ws/targets/lake" -name '*.jsonl.gz' -exec zcat {} + | wc -l; }
echo "prod.db: 3 users, 9 orders, 9 enrollments; lake: $(lake_lines) events in" \
  "$(find "$ws/targets/lake" -name '*.jsonl.gz' | wc -l) gzip partitions, user ids pseudonymized"
(cd "$ws/targets" && find lake -type f | sort | head -3 && echo "...")

say "two downstream services that accept erasures over HTTP"
python3 examples/erasure_endpoint.py "$ws/port" "$ws/endpoint.log" &
endpoint=$!
trap 'kill $endpoint 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$ws/port" ] && break; sleep 0.05; done
port=$(cat "$ws/port")
cat >>"$ws/steward.yaml" <<YAML

requests:
  http_backoff_ms: 200
YAML
sed -i "s|^targets: {}|targets:\\
  prod.users: \"sqlite:$ws/targets/prod.db?table=users\"\\
  prod.orders: \"sqlite:$ws/targets/prod.db?table=orders\"\\
  prod.enrollments: \"sqlite:$ws/targets/prod.db?table=enrollments\"\\
  lake.client_log: \"jsonl:$ws/targets/lake\"\\
  ml.user_features:\\
    url: \"http://127.0.0.1:$port/features/erase\"\\
    verify: \"http://127.0.0.1:$port/features/verify\"\\
  ml.recommendations: \"http://127.0.0.1:$port/flaky\"|" "$ws/steward.yaml"
# ml.user_features has a verify URL (the service answers how many records of the subject it
# still holds), so its evidence says remaining 0 like the local targets; ml.recommendations
# has none, so its evidence says "unverified".
sed -n '/^targets:/,$p' "$ws/steward.yaml"

say "Jiho Kim asks to be erased; only the pseudonym of the address is kept"
printf '\n%s$ steward request new erase --subject user.contact.email:jiho.kim@example.com%s\n' "$bold" "$plain"
id=$("$steward" --home "$ws" request new erase --subject user.contact.email:jiho.kim@example.com)
echo "$id"
run request plan "$id"
run request run "$id"
run request show "$id"

say "what is left in the targets"
python3 - "$ws/targets/prod.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print("users:", [r[0] for r in db.execute("SELECT id FROM users ORDER BY id")])
print("orders of the subject, kept for tax law without the buyer:",
      db.execute("SELECT count(*) FROM orders WHERE user_id IS NULL").fetchone()[0])
print("enrollments:", db.execute("SELECT count(*) FROM enrollments").fetchone()[0])
PY
echo "lake lines: $(lake_lines), every partition still valid gzip: $(find "$ws/targets/lake" -name '*.gz' -exec gzip -t {} + && echo yes)"

say "an independent check, outside steward: nothing of the subject is left in the local targets"
subject_id=$("$steward" --home "$ws" pii hash --purpose demo-check --category user.unique_id 1801019)
python3 - "$ws/targets/prod.db" "$ws/targets/lake" "$subject_id" <<'PY'
import gzip, os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT (SELECT count(*) FROM users WHERE id = 1801019 OR lower(email) ="
                  " 'jiho.kim@example.com') + (SELECT count(*) FROM orders WHERE user_id ="
                  " 1801019 OR lower(billing_email) = 'jiho.kim@example.com') +"
                  " (SELECT count(*) FROM enrollments WHERE user_id = 1801019)").fetchone()[0]
hits = 0
for root, _, files in os.walk(sys.argv[2]):
    for name in files:
        path = os.path.join(root, name)
        data = gzip.open(path).read() if name.endswith(".gz") else open(path, "rb").read()
        hits += data.count(sys.argv[3].encode())
print("sqlite3: %d rows of the subject; lake: %d lines with the subject's pseudonym" % (rows, hits))
PY
echo "the services received:"
cat "$ws/endpoint.log"

say "a replay of the same events: the erased person's records are dropped"
printf '\n%s$ steward ingest '"'"'events.*'"'"' < examples/events.jsonl > /dev/null%s\n' "$bold" "$plain"
"$steward" --home "$ws" ingest 'events.*' --rejects "$ws/rejects.jsonl" <examples/events.jsonl >/dev/null

run request list
run audit log --action 'request.*'
run audit verify
run audit checkpoint --export "$ws/anchor.json"
run report --period "$(date -u +%Y-%m)" --format html --output "$ws/report.html"
printf '\nThe workspace is in %s; the month'"'"'s compliance report is %s/report.html.\n' "$ws" "$ws"
