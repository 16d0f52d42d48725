#!/usr/bin/env bash
# steward demo: installs what is missing, builds, then loads the bundled example catalog
# into a fresh workspace and shows a search, a dataset card and lineage trees, ingest, and
# (examples/request-demo.sh) an erasure request carried out across example targets.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

tools/install-deps
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

steward="$here/build/cli/steward"
ws=${STEWARD_DEMO_HOME:-"$here/build/demo-workspace"}
rm -rf "$ws"

bold='' plain=''
if [ -t 1 ]; then bold=$(printf '\033[1m') plain=$(printf '\033[0m'); fi
run() {
  printf '\n%s$ steward %s%s\n' "$bold" "$*" "$plain"
  "$steward" --home "$ws" "$@"
}

"$steward" init "$ws"
run catalog load examples/catalog
run search revenue
run show dw.revenue_daily
run lineage bi.revenue --up
run lineage events.signup --down
run lineage dw.revenue_daily.net_revenue_usd --up
run key init
run pii check
printf '\n%s$ steward ingest '"'"'events.*'"'"' < examples/events.jsonl | head -n 2%s\n' "$bold" "$plain"
"$steward" --home "$ws" ingest 'events.*' --rejects "$ws/rejects.jsonl" <examples/events.jsonl | head -n 2
printf '\nThe workspace is in %s; try: build/cli/steward --home %s search "email"\n' "$ws" "$ws"

printf '\n%s==== a data-subject request (examples/request-demo.sh) ====%s\n' "$bold" "$plain"
STEWARD_DEMO_BUILT=1 examples/request-demo.sh

# ---- the catalog in a browser: a demo server left running ----
printf '\n%s==== steward serve (docs/serve.md) ====%s\n' "$bold" "$plain"
pidfile="$here/build/demo-serve.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  kill -TERM "$(cat "$pidfile")" # the previous demo's server, on the workspace made anew
  while kill -0 "$(cat "$pidfile")" 2>/dev/null; do sleep 0.1; done
fi
token=$("$steward" --home "$ws" token new "$(id -un)" --expires 7 | grep -o 'stw_[A-Za-z0-9_-]*')
log="$here/build/demo-serve.log"
setsid "$steward" --home "$ws" serve --listen 127.0.0.1:0 >"$log" 2>"$here/build/demo-serve.access.log" </dev/null &
echo $! >"$pidfile"
url=
for _ in $(seq 100); do # the server prints its address once it accepts connections
  url=$(sed -n 's/^listening on \(http:.*\)/\1/p' "$log")
  [ -n "$url" ] && break
  kill -0 "$(cat "$pidfile")" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$url" ]; then
  cat "$here/build/demo-serve.access.log" >&2
  echo "error: the demo server did not start" >&2
  exit 1
fi
printf 'A demo server is running over the example catalog (pid %s).\n' "$(cat "$pidfile")"
printf 'In a browser, open %s/login and paste this token, made for you (valid 7 days):\n' "$url"
printf '  %s\n' "$token"
printf 'The API takes it as a bearer token:\n'
printf '  curl -H "Authorization: Bearer %s" "%s/api/v1/search?q=revenue"\n' "$token" "$url"
printf 'Stop it with: kill $(cat build/demo-serve.pid)\n'
printf '%s\n' "$url"
