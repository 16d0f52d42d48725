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
