#!/bin/sh
# The HTTP target's bearer token (token_env, token_file) and one `request run` per request
# at a time: a run held on tests/helpers/http_target.py's /hold, a second refused naming its
# holder, nothing of the first damaged; a lock file left by a dead run blocks nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-http.sh"
require python3 jq
mkfifo "$TMP/held" "$TMP/release" || { echo "Bail out! cannot make fifos"; exit 99; }
http_workspace --headers "$TMP/headers.log" --hold "$TMP/held" "$TMP/release"

# ---- the bearer token: from the environment, then from a file ----
config "{url: \"$u/ok\", verify: \"$u/verify-0\", token_env: STEWARD_TEST_TOKEN}" "\"$u/ok\""
new_request
STEWARD_TEST_TOKEN= expect_exit 1 steward request run "$id"
expect_stdout_contains "target '$u/ok': the environment variable 'STEWARD_TEST_TOKEN' (token_env) is not set"
export STEWARD_TEST_TOKEN=env-T0ken-5a1
expect_exit 0 steward request run "$id"
expect_count 1 '^\{"path": "/ok", .*"authorization": "Bearer env-T0ken-5a1"\}$' headers.log \
	'token_env: sent as Authorization: Bearer'
expect_count 1 '^\{"path": "/verify-0", .*"authorization": "Bearer env-T0ken-5a1"\}$' headers.log \
	'the verify call carries the token too'
unset STEWARD_TEST_TOKEN
printf 'file-T0ken-9b2\n' >token
chmod 600 token
config "{url: \"$u/ok\", token_file: \"$TMP/token\"}" "\"$u/ok\""
new_request
expect_exit 0 steward request run "$id"
expect_count 1 '"authorization": "Bearer file-T0ken-9b2"\}$' headers.log 'token_file: its line sent as the bearer token'
printf 'two words\n' >token
new_request
lines=$(wc -l <http.log)
expect_exit 1 steward request run "$id"
expect_stdout_contains "target '$u/ok': token file '$TMP/token' holds no bearer token (one line of at most 4096 visible ASCII characters)"
expect_equal $((lines + 1)) "$(wc -l <http.log)" 'a token file without a token: that target not called (the other is)'
check 'no token anywhere in the workspace' sh -c "! grep -rqaE 'T0ken|two words' '$WS'"

# ---- one run per request: a run held on the endpoint, a second refused ----
config "\"$u/hold\"" "\"$u/ok\""
new_request
# The first run in the background: its pid is known before it starts (exec), and "ended RC"
# goes to the fifo held when it ends, so a first run that fails early cannot hang the test.
(
	sh -c 'echo $$ >first.pid; exec "$@"' sh "$STEWARD" --home "$WS" request run "$id" \
		>first.out 2>first.err
	echo "ended $?" >held
) &
IFS= read -r line <held # "held": the endpoint has the first run's POST, so it holds its lock
first_pid=$(cat first.pid)
if [ "$line" != held ]; then
	fail 'the first run reaches the endpoint' "it said: $line" "$(cat first.err)"
	done_testing
fi
expect_exit 6 steward request run "$id"
check 'the refusal names the holder: pid, user, host, since' grep -Eqx \
	"error: request '$id' is being run by pid $first_pid \\(user '$(id -un)' on host '$(hostname)'\\) since [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z; wait for that run to end" "$ERR"
expect_stdout_empty 'the refused run prints no result'
echo go >release
IFS= read -r line <held
expect_equal 'ended 0' "$line" 'the first run ends well once the endpoint answers'
check 'the first run completed the request' grep -q "^$id: 2 targets, 2 done, 0 not done.*completed" first.out
expect_equal 1 "$(posts /hold)" 'the endpoint saw exactly one POST'
expect_exit 0 steward request show "$id" --json
expect_jq "($recs | .status == \"done\" and .runs == 1 and .attempts == 1)
	and ([.timeline[] | select(.event == \"target\")] | length == 2) and .status == \"completed\"" \
	'the evidence is the first run'"'"'s, written once: no event from the refused run'
check 'the lock file is gone after the run' sh -c "[ ! -e '$WS/.steward/locks/$id.lock' ]"

# a lock file left behind by a run that died (nobody holds it) does not block
new_request
mkdir -p "$WS/.steward/locks"
printf 'pid=999999\nuser=ghost\nhost=gone\nsince=2026-01-01T00:00:00.000Z\n' >"$WS/.steward/locks/$id.lock"
config "\"$u/ok\"" "\"$u/ok\""
expect_exit 0 steward request run "$id"
expect_stdout_contains "$id: 2 targets, 2 done"
expect_exit 0 steward audit verify
done_testing
