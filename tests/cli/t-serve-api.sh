#!/bin/sh
# The governance reads of the API and POST /api/v1/lineage, against the CLI's --json: the
# PII map and pii check (paged), requests (a page, one with its timeline, evidence and plan),
# the audit status (cheap, or a full verification when asked), and OpenLineage events posted
# as one object, an array or JSON lines, imported exactly as `lineage import` imports them,
# with rejects by index or line and reason, 400/415/422 for bad bodies, and the roles each
# route needs (a viewer cannot read the PII map or post events).
. "$(dirname "$0")/lib.sh"
require curl jq
OL=$STEWARD_SHARED/interop/openlineage/events/client-python-example_full_event.json
init_ws
me=$(id -un)
cd "$TMP" || exit 99
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
{ printf 'roles:\n  users:\n    viewer1: viewer\n    eng1: engineer\n    "%s": admin\n' "$me"; } >"$WS/steward.yaml"
chmod 600 "$WS/steward.yaml"
expect_exit 0 steward request new erase --subject user.contact.email:canary-api@example.com
r1=$(cat "$OUT")
expect_exit 0 steward request new access --subject user.contact.email:canary-api2@example.com --received 2020-01-02
r2=$(cat "$OUT")
expect_exit 0 steward token new viewer1
tv=$(cat "$OUT")
expect_exit 0 steward token new eng1
te=$(cat "$OUT")

mkfifo serve.out
"$STEWARD" --home "$WS" serve --listen 127.0.0.1:0 --socket "$TMP/s.sock" --threads 2 \
	>serve.out 2>serve.err &
pid=$!
exec 3<serve.out
IFS= read -r l1 <&3
IFS= read -r l2 <&3
U=http://127.0.0.1:${l1##*:}
S=http://localhost

get() { # get NAME CURL-ARGS...: body in NAME.json, status in NAME.code
	n=$1
	shift
	curl -s -o "$n.json" -w '%{http_code}' "$@" >"$n.code"
}
sock() { # sock NAME PATH [CURL-ARGS...]: over the socket, as me (admin)
	n=$1
	p=$2
	shift 2
	get "$n" --unix-socket "$TMP/s.sock" "$@" "$S$p"
}
code() { cat "$1.code"; }

# ---- the PII map: what pii map --json prints, its fields paged ----
expect_exit 0 steward pii map --json
cp "$OUT" cli-map.json
sock map '/api/v1/pii/map?limit=1000'
expect_equal 200 "$(code map)" 'pii map: 200'
check 'pii map: the categories and totals are what pii map --json prints' sh -c \
	'jq -S "{categories, totals}" map.json | cmp - "$(jq -S . cli-map.json >c.json; echo c.json)"'
nf=$(jq '.totals.fields' cli-map.json)
check 'the example catalog has more than 5 PII fields' test "$nf" -gt 5
sock mapp '/api/v1/pii/map?limit=3&offset=2'
expect_jq '[.total, .offset, .limit, .totals.fields]' "[$nf, 2, 3, $nf]" mapp.json
check 'pii map: a page (offset 2, limit 3) holds those fields, grouped' sh -c \
	'[ "$(jq -c "[.categories[].fields[]]" mapp.json)" = "$(jq -c "[.categories[].fields[]][2:5]" cli-map.json)" ]'
sock mapend '/api/v1/pii/map?offset=100000'
expect_jq '[.categories, .totals.fields]' "[[], $nf]" mapend.json

# ---- pii check: what pii check --json prints (a finding comes from an observed event) ----
sock chk /api/v1/pii/check
expect_equal 200 "$(code chk)" 'pii check: 200'
run steward pii check --json
check 'pii check: findings and count are what pii check --json prints' sh -c \
	"jq -S '{findings, count}' chk.json | cmp - \"\$(jq -S . '$OUT' >c2.json; echo c2.json)\""
expect_jq '[.total, .offset, .limit]' "[$(jq .count "$OUT"), 0, 20]" chk.json

# ---- requests ----
sock reqs /api/v1/requests
expect_equal 200 "$(code reqs)" 'requests: 200'
run steward request list --json
check 'requests: the results are what request list --json prints' sh -c \
	"jq -S .results reqs.json | cmp - \"\$(jq -S . '$OUT' >c3.json; echo c3.json)\""
expect_jq '[.total, .overdue, (.results | length)]' '[2, 1, 2]' reqs.json
sock reqo '/api/v1/requests?overdue=1'
expect_jq "[.total, [.results[].id]]" "[1, [\"$r2\"]]" reqo.json
sock reqp '/api/v1/requests?limit=1&offset=1'
expect_jq "[.total, .offset, .limit, [.results[].id]]" "[2, 1, 1, [\"$r2\"]]" reqp.json
sock req "/api/v1/requests/$r1"
expect_equal 200 "$(code req)" 'one request: 200'
run steward request show "$r1" --json
check 'one request: what request show --json prints (timeline, evidence)' sh -c \
	"jq -S . req.json | cmp - \"\$(jq -S . '$OUT' >c4.json; echo c4.json)\""
sock reqplan "/api/v1/requests/$r1?plan=1"
run steward request plan "$r1" --json
check 'with plan=1, its plan is what request plan --json prints' sh -c \
	"jq -S .plan reqplan.json | cmp - \"\$(jq -S . '$OUT' >c5.json; echo c5.json)\""
check 'the plan is not there unless asked' sh -c "jq -e 'has(\"plan\") | not' req.json >/dev/null"
sock noreq /api/v1/requests/R-20990101-0001
expect_equal 404 "$(code noreq)" 'no such request: 404'
expect_jq .error.message "\"no request 'R-20990101-0001' (see 'steward request list')\"" noreq.json
sock longreq "/api/v1/requests/$(printf 'R%.0s' $(seq 1 60))"
expect_jq .error.message "\"no request '$(printf 'R%.0s' $(seq 1 40))' (see 'steward request list')\"" longreq.json
sock badflag "/api/v1/requests/$r1?plan=yes"
expect_equal 400 "$(code badflag)" 'plan=yes: 400'
expect_jq .error.message "\"parameter 'plan' must be 1 or 0\"" badflag.json
check 'no raw subject in any answer' sh -c "! grep -q canary-api ./*.json"

# ---- the audit status: cheap by default, a full verification when asked ----
sock st /api/v1/audit/status
expect_equal 200 "$(code st)" 'audit status: 200'
expect_jq '[has("records"), has("last_record"), .checkpoint.seq > 0, .verify]' '[true, true, true, null]' st.json
expect_jq '.unsigned_records == .records - .checkpoint.seq' true st.json
sock stv '/api/v1/audit/status?verify=1'
expect_jq '[.verify.status, .verify.records >= .records]' '["intact", true]' stv.json
expect_exit 0 steward audit verify --json
check 'verify: the same document as audit verify --json' sh -c \
	"[ \"\$(jq -c '.verify | keys' stv.json)\" = \"\$(jq -c keys '$OUT')\" ]"

# ---- the audit log: what audit log --json prints, paged ----
sock alog '/api/v1/audit/log?action=pii.map&limit=1000'
expect_equal 200 "$(code alog)" 'audit log: 200'
run steward audit log --json --action pii.map
check 'audit log: the results are what audit log --json prints' sh -c \
	"jq -S .results alog.json | cmp - \"\$(jq -S . '$OUT' >c7.json; echo c7.json)\""
expect_jq '[.total, (.results | length)]' '[4, 4]' alog.json
sock alogp '/api/v1/audit/log?action=pii.*&outcome=ok&limit=2&offset=1'
expect_jq '[.total >= 4, .offset, .limit, (.results | length), (.results | all(.outcome == "ok"))]' '[true, 1, 2, 2, true]' alogp.json
sock alogo '/api/v1/audit/log?outcome=fine'
expect_jq .error.message "\"parameter 'outcome' must be ok, denied or error\"" alogo.json
sock alogs '/api/v1/audit/log?since=yesterday'
expect_jq .error.message "\"parameter 'since' must be a date such as 2026-11-01 or 2026-11-01T09:30Z\"" alogs.json
sock alogf '/api/v1/audit/log?since=2999-01-01'
expect_jq '[.total, .results]' '[0, []]' alogf.json

# ---- roles: the same as the CLI's ----
get vmap -H "Authorization: Bearer $tv" "$U/api/v1/pii/map"
expect_equal 403 "$(code vmap)" 'a viewer: no PII map'
expect_jq .error.message "\"'/api/v1/pii/map' needs the 'steward' role; 'viewer1' has the 'viewer' role\"" vmap.json
get vreq -H "Authorization: Bearer $te" "$U/api/v1/requests"
expect_jq .error.message "\"'/api/v1/requests' needs the 'dpo' role; 'eng1' has the 'engineer' role\"" vreq.json
get vst -H "Authorization: Bearer $te" "$U/api/v1/audit/status"
expect_equal 403 "$(code vst)" 'an engineer: no audit status'
get vpost -H "Authorization: Bearer $tv" -H 'Content-Type: application/json' --data-binary "@$OL" "$U/api/v1/lineage"
expect_equal 403 "$(code vpost)" 'a viewer cannot post events'
expect_jq .error.message "\"'/api/v1/lineage' needs the 'engineer' role; 'viewer1' has the 'viewer' role\"" vpost.json

# ---- POST /api/v1/lineage: the import of lineage import ----
jq -c . "$OL" >one.json
get post1 -H "Authorization: Bearer $te" -H 'Content-Type: application/json' --data-binary @one.json "$U/api/v1/lineage"
expect_equal 200 "$(code post1)" 'one event: 200 (an engineer)'
init_ws "$TMP/ws2"
run "$STEWARD" --home "$TMP/ws2" lineage import --json one.json
check 'the counts are what lineage import --json prints for the same event' sh -c \
	"jq -S 'del(.rejects)' post1.json | cmp - \"\$(jq -S . '$OUT' >c6.json; echo c6.json)\""
expect_jq '[.applied, .rejects]' '[1, []]' post1.json
get post2 -H "Authorization: Bearer $te" -H 'Content-Type: application/json' --data-binary @one.json "$U/api/v1/lineage"
expect_jq '[.read, .applied, .ignored, .duplicates]' '[1, 0, 1, 1]' post2.json
run steward search --json "$(jq -r '.outputs[0].name' "$OL")"
expect_jq 'length > 0' true
# a batch: an array with two bad events among good ones
jq -c '[(.run.runId = "3f5e83fa-3480-44ff-99c5-ff943904e5e9"), (.eventType = "FINISHED"),
	(.run.runId = "42"), (.run.runId = "3f5e83fa-3480-44ff-99c5-ff943904e5ea")]' "$OL" >batch.json
sock batch /api/v1/lineage -H 'Content-Type: application/json' --data-binary @batch.json
expect_equal 422 "$(code batch)" 'a batch with invalid events: 422'
expect_jq '[.read, .applied, .rejected]' '[4, 2, 2]' batch.json
expect_jq '.rejects' "[{\"event\":1,\"reason\":\"'eventType' is 'FINISHED', not one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER\",\"index\":1},{\"event\":2,\"reason\":\"'run.runId' must be a UUID, not '42'\",\"index\":2}]" batch.json
expect_jq '.error' '{"status":422,"message":"2 of 4 events rejected"}' batch.json
# JSON lines, one of them broken: 400, with where
{ jq -c '.run.runId = "3f5e83fa-3480-44ff-99c5-ff943904e5eb"' "$OL"; printf '{"eventType": "START",\n'; } >lines.ndjson
sock lines /api/v1/lineage -H 'Content-Type: application/x-ndjson' --data-binary @lines.ndjson
expect_equal 400 "$(code lines)" 'a line that is not JSON: 400'
expect_jq '[.applied, .rejects]' "[1, [{\"event\":1,\"reason\":\"invalid JSON: 3:0: string or '}' expected near end of file\",\"line\":2}]]" lines.json
expect_jq .error.message '"1 of 2 events rejected (some of the body is not JSON)"' lines.json
sock trunc /api/v1/lineage -H 'Content-Type: application/json' --data-binary '[{"eventType": '
expect_jq .rejects[0].reason "\"invalid JSON: 1:15: unexpected token near end of file\"" trunc.json
sock empty /api/v1/lineage -H 'Content-Type: application/json' --data-binary ''
expect_equal 400 "$(code empty)" 'no body: 400'
expect_jq .error.message '"no events given (a RunEvent, a JSON array of them or JSON lines in the request body)"' empty.json
sock blank /api/v1/lineage -H 'Content-Type: application/json' --data-binary '   '
expect_jq .error.message '"no events given (a RunEvent, a JSON array of them or JSON lines in the request body)"' blank.json
sock form /api/v1/lineage --data-binary @one.json
expect_equal 415 "$(code form)" 'a form (curl'"'"'s default type): 415'
expect_jq .error.message "\"'/api/v1/lineage' takes application/json or application/x-ndjson\"" form.json
sock getl /api/v1/lineage
expect_equal 405 "$(code getl)" 'GET /api/v1/lineage: 405'
expect_jq .error.message "\"'/api/v1/lineage' takes POST only\"" getl.json
sock nul /api/v1/lineage -H 'Content-Type: application/json' --data-binary @"$STEWARD_SRC/tests/cli/t-serve-api.sh"
expect_equal 400 "$(code nul)" 'a shell script as events: 400'

# ---- stop; the records ----
kill -TERM "$pid"
IFS= read -r l3 <&3
wait "$pid"
exec 3<&-
expect_exit 0 steward audit log --json --action catalog.import
expect_jq '[.[] | [.actor, .outcome, .counts.applied, .counts.rejected]]' \
	"[[\"viewer1\",\"denied\",null,null],[\"eng1\",\"ok\",1,0],[\"eng1\",\"ok\",0,0],[\"$me\",\"error\",2,2],[\"$me\",\"error\",1,1],[\"$me\",\"error\",0,1],[\"$me\",\"error\",null,null],[\"$me\",\"error\",null,null],[\"$me\",\"error\",null,null],[\"$me\",\"error\",0,3]]"
expect_exit 0 steward audit log --json --action pii.map
expect_jq '[.[] | .actor] | unique' "[\"$me\",\"viewer1\"]"
expect_exit 0 steward audit verify
check 'no raw subject in the access log' sh -c "! grep -q canary-api serve.err"

done_testing
