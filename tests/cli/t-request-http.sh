#!/bin/sh
# The HTTP target against tests/helpers/http_target.py: an Idempotency-Key stable across
# attempts and runs, and the verify URL (remaining 0, remaining > 0, a bad answer, none).
# Also t-request-http-retry.sh (Retry-After), t-request-http-lock.sh (the token and the run
# lock) and t-request-secrets.sh (credentials kept out of every output).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-http.sh"
require python3 jq
http_workspace --headers "$TMP/headers.log"

# ---- the idempotency key; Retry-After: 0 retried at once; verify url says 0 remain ----
config "{url: \"$u/429-after-0\", verify: \"$u/verify-0\"}" "\"$u/ok\""
new_request
expect_exit 0 steward request run "$id"
expect_stdout_contains "$id: 2 targets, 2 done, 0 not done"
expect_equal 3 "$(posts /429-after-0)" 'Retry-After 0: two 429 answers, then 200 (3 POSTs)'
expect_equal 1 "$(keys /429-after-0 | wc -l)" 'one idempotency key across the three attempts'
check 'the key is the request id and 32 hex digits' sh -c "keys() { :; }; echo '$(keys /429-after-0)' | grep -Eqx '$id\\.[0-9a-f]{32}'"
check 'another target, another key' sh -c "[ \"$(keys /ok)\" != \"$(keys /429-after-0)\" ] && [ -n \"$(keys /ok)\" ]"
expect_equal 1 "$(posts /verify-0)" 'the verify url is asked once'
expect_equal "[\"verify\",\"$id\",\"user.unique_id\",true]" \
	"$(jq -c 'select(.path == "/verify-0") | .body | [.action, .id, .category, (.pseudonym | startswith("k1:"))]' http.log)" \
	'the verify call: {"id", "action": "verify", "category", "pseudonym"}'
expect_equal null "$(keys /verify-0)" \
	'the verify call (a read) carries no idempotency key'
expect_exit 0 steward request show "$id" --json
expect_jq "($recs | .status == \"done\" and .attempts == 3 and .detail == \"verified: 0 remaining\")
	and ($feat | .status == \"done\" and .detail == \"unverified: no verify url\")
	and .status == \"completed\"" \
	'evidence: verified 0 remaining after 3 attempts; without a verify url unverified; completed'

# ---- the key is stable across runs: a failed target retried later gets the same key ----
config "\"$u/always-500\"" "\"$u/ok\""
new_request
expect_exit 1 steward request run "$id"
expect_stdout_contains "'$u/always-500' answered HTTP 500 (3 attempts)"
config "\"$u/fail-twice\"" "\"$u/ok\""
expect_exit 0 steward request run "$id"
expect_stdout_contains 'completed'
first=$(keys /always-500)
expect_equal "$first" "$(keys /fail-twice)" 'the re-run sends the key of the first run'
check 'three attempts, then three more, one key' sh -c "[ $(posts /always-500) -eq 3 ] && [ $(posts /fail-twice) -eq 3 ]"

# ---- verify says records remain: the target fails, the request stays open ----
config "{url: \"$u/ok\", verify: \"$u/verify-2\"}" "\"$u/ok\""
new_request
expect_exit 1 steward request run "$id"
expect_stdout_contains "$id: 2 targets, 1 done, 1 not done"
expect_stdout_contains "'$u/ok' still holds 2 records of the subject after the erasure (its verify url says)"
expect_exit 0 steward request show "$id" --json
expect_jq "($recs | .status == \"failed\") and .status == \"open\"" \
	'remaining 2: the target is not done, the request not completed'
config "{url: \"$u/ok\", verify: \"$u/verify-bad\"}" "\"$u/ok\""
expect_exit 1 steward request run "$id"
expect_stdout_contains "the verify url '$u/verify-bad' answered no remaining count (want {\"remaining\": N})"
config "{url: \"$u/ok\", verify: \"$u/404\"}" "\"$u/ok\""
expect_exit 1 steward request run "$id"
expect_stdout_contains "verify url: '$u/404' answered HTTP 404 (1 attempt)"
expect_exit 0 steward request show "$id" --json
expect_jq '.status == "open"' 'a verify url that does not answer: still open'

done_testing
