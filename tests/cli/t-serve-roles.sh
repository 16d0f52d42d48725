#!/bin/sh
# steward serve keeps what each request would otherwise read again, and none of it goes
# stale: a caller's role (kept until steward.yaml's bytes, or the password and group files,
# change) follows every edit of `roles:` at the next request, an edit of the same size, a
# file renamed over it, and a config that breaks (reported on every request, never kept);
# a worker's prepared statements and its read snapshot see what another process loads into
# the catalog at the next request. One worker, so that every request meets the same
# statement cache and the same connection.
. "$(dirname "$0")/lib.sh"
require curl jq
init_ws
me=$(id -un)
cd "$TMP" || exit 99

expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
expect_exit 0 steward token new bob --expires 1
bob=$(cat "$OUT")

mkfifo serve.out
"$STEWARD" --home "$WS" serve --listen 127.0.0.1:0 --threads 1 >serve.out 2>serve.err &
pid=$!
exec 3<serve.out
IFS= read -r l1 <&3
U=http://127.0.0.1:${l1##*:}

who() { # who NAME: GET whoami as bob; body in NAME.json, status in NAME.code
	curl -s -o "$1.json" -w '%{http_code}' -H "Authorization: Bearer $bob" "$U/api/v1/whoami" \
		>"$1.code"
}
roles() { # roles LINES: steward.yaml with me admin and LINES under users
	{ printf 'roles:\n  users:\n    "%s": admin\n' "$me"; printf "$1"; } >"$WS/steward.yaml"
	chmod 600 "$WS/steward.yaml"
}

who none1
expect_equal 403 "$(cat none1.code)" 'bob has no role: 403'
who none2
expect_equal 403 "$(cat none2.code)" 'asked again (the role kept): still 403'
roles '    bob: viewer\n'
who viewer
expect_equal 200 "$(cat viewer.code)" 'bob made viewer in steward.yaml: 200 at the next request'
expect_jq .role '"viewer"' viewer.json
roles '    bob: steward\n' # the same size as the line before: only the bytes differ
who steward
expect_jq .role '"steward"' steward.json
{ printf 'roles:\n  users:\n    "%s": admin\n' "$me"; } >new.yaml
chmod 600 new.yaml
mv new.yaml "$WS/steward.yaml"
who renamed
expect_equal 403 "$(cat renamed.code)" 'a steward.yaml renamed over it without bob: 403'
printf 'roles: [not, a, mapping\n' >"$WS/steward.yaml"
who broken1
expect_equal 500 "$(cat broken1.code)" 'a broken steward.yaml: 500'
expect_jq '.error.message | startswith("invalid YAML: ")' true broken1.json
who broken2
expect_equal 500 "$(cat broken2.code)" 'and again: a failure is never kept'
expect_jq '.error.message | startswith("invalid YAML: ")' true broken2.json
roles '    bob: viewer\n'
who fixed
expect_equal 200 "$(cat fixed.code)" 'fixed: 200'

# ---- the catalog changes under the worker's cached statements ----
get() { curl -s -o "$1.json" -w '%{http_code}' -H "Authorization: Bearer $bob" "$U$2" >"$1.code"; }
get before '/api/v1/search?q=zebrafish'
expect_jq .total 0 before.json
get card0 /api/v1/datasets/lab.zebrafish
expect_equal 404 "$(cat card0.code)" 'no such dataset yet: 404'
mkdir more
cat >more/zebra.yaml <<'EOF'
kind: table
name: lab.zebrafish
description: Zebrafish tank readings.
owner: lab
columns:
  - {name: tank_id, type: int64, pii: none}
EOF
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog" more
get after '/api/v1/search?q=zebrafish'
expect_jq '[.total, .results[0].name]' '[1,"lab.zebrafish"]' after.json
get card1 /api/v1/datasets/lab.zebrafish
expect_equal 200 "$(cat card1.code)" 'the new dataset'"'"'s card: 200'
expect_jq '[.name, .description]' '["lab.zebrafish","Zebrafish tank readings."]' card1.json
sed -i 's/Zebrafish tank readings\./Zebrafish tank readings, hourly./' more/zebra.yaml
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog" more
get card2 /api/v1/datasets/lab.zebrafish
expect_jq .description '"Zebrafish tank readings, hourly."' card2.json

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
expect_equal 0 "$rc" 'it stops cleanly'
exec 3<&-
expect_exit 0 steward audit log --json --action serve.whoami --actor bob
expect_jq '[.[] | .outcome]' '["denied","denied","ok","ok","denied","ok"]'
expect_exit 0 steward audit verify

done_testing
