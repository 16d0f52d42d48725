#!/bin/sh
# The OpenAPI 3.1 document of the API (schemas/openapi.json): valid, served byte for byte at
# /api/v1/openapi.json from the binary, describing every /api/ route of the server's route
# tables with its methods, audit action and role (and nothing that is not a route), and the
# server's real answers, errors included, valid against the schemas it gives for them.
. "$(dirname "$0")/lib.sh"
require curl jq python3
python3 -c 'import jsonschema, referencing' 2>/dev/null || { echo '1..0 # SKIP python3 jsonschema is not installed'; exit 77; }
H="python3 $STEWARD_SRC/tests/helpers/openapi_check.py"
DOC=$STEWARD_SRC/schemas/openapi.json
OL=$STEWARD_SHARED/interop/openlineage/events/client-python-example_full_event.json
init_ws
cd "$TMP" || exit 99
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
expect_exit 0 steward request new erase --subject user.contact.email:canary-oa@example.com
rid=$(cat "$OUT")

check 'the document is JSON, says openapi 3.1.x, and has every route (methods, action, role)' \
	$H doc "$DOC" "$STEWARD_SRC"
run $H spec "$DOC"
if [ "$RC" = 77 ]; then
	skip 'the full OpenAPI 3.1 validation' 'openapi_spec_validator is not installed'
else
	expect_equal 0 "$RC" "the full OpenAPI 3.1 validation (openapi_spec_validator): $(head -c 300 "$ERR")"
fi

mkfifo serve.out
"$STEWARD" --home "$WS" serve --no-tcp --socket "$TMP/s.sock" --threads 2 >serve.out 2>serve.err &
pid=$!
exec 3<serve.out
IFS= read -r l1 <&3

n=0
# answer METHOD DOC-PATH URL-PATH STATUS [CURL-ARGS...]: the answer has STATUS, and is listed
# in answers.txt to be checked against the document's schema for it
answer() {
	m=$1 dp=$2 up=$3 st=$4
	shift 4
	n=$((n + 1))
	code=$(curl -s -o "a$n.json" -w '%{http_code}' --unix-socket "$TMP/s.sock" -X "$(echo "$m" | tr a-z A-Z)" "$@" "http://localhost$up")
	expect_equal "$st" "$code" "$m $up: $st"
	printf '%s %s %s %s\n' "$m" "$dp" "$st" "a$n.json" >>answers.txt
}

curl -s -o served.json --unix-socket "$TMP/s.sock" http://localhost/api/v1/openapi.json
check 'served at /api/v1/openapi.json, byte for byte' cmp served.json "$DOC"
answer get /api/v1/health /api/v1/health 200
answer get /api/v1/whoami /api/v1/whoami 200
answer get /api/v1/search '/api/v1/search?q=revenue&limit=3' 200
answer get /api/v1/search '/api/v1/search?q=revenue&limit=0' 400
answer get '/api/v1/datasets/{name}' /api/v1/datasets/dw.dim_user 200
answer get '/api/v1/datasets/{name}' /api/v1/datasets/no.such 404
answer get '/api/v1/lineage/{name}' '/api/v1/lineage/bi.revenue?dir=both' 200
answer get /api/v1/pii/map '/api/v1/pii/map?limit=5' 200
answer get /api/v1/pii/check /api/v1/pii/check 200
answer get /api/v1/requests /api/v1/requests 200
answer get '/api/v1/requests/{id}' "/api/v1/requests/$rid?plan=1" 200
answer get '/api/v1/requests/{id}' /api/v1/requests/R-20990101-0001 404
answer get /api/v1/audit/status /api/v1/audit/status 200
answer get /api/v1/audit/status '/api/v1/audit/status?verify=1' 200
answer get /api/v1/audit/log '/api/v1/audit/log?limit=50' 200
answer post /api/v1/lineage /api/v1/lineage 200 -H 'Content-Type: application/json' --data-binary "@$OL"
jq -c '[., (.eventType = "X")]' "$OL" >two.json
answer post /api/v1/lineage /api/v1/lineage 422 -H 'Content-Type: application/json' --data-binary @two.json
answer post /api/v1/lineage /api/v1/lineage 400 -H 'Content-Type: application/json' --data-binary '{'
answer post /api/v1/lineage /api/v1/lineage 415 --data-binary '{}'
answer post /api/v1/cli /api/v1/cli 200 -H 'Content-Type: application/json' --data-binary '{"argv": ["search", "revenue"]}'
answer post /api/v1/cli /api/v1/cli 403 -H 'Content-Type: application/json' --data-binary '{"argv": ["token", "list"]}'
check "all $n answers are valid against the document's schemas for them" $H answers "$DOC" answers.txt
echo 'get /api/v1/search 200 a4.json' >wrong.txt
check 'a bad answer is caught: an error is not a page of search results' sh -c \
	"! $H answers '$DOC' wrong.txt 2>/dev/null"

kill -TERM "$pid"
wait "$pid"
exec 3<&-
expect_exit 0 steward audit log --json --action serve.whoami
expect_jq 'length' 1
done_testing
