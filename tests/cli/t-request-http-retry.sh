#!/bin/sh
# The HTTP target honours Retry-After (seconds or an HTTP-date) on 429 and 503 within
# requests.http_retry_after_max_s, judged by counts of attempts, never by time: a value over
# the bound fails the target at once, a value within it is retried (and still counts
# against http_attempts).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-http.sh"
require python3
http_workspace

# ---- Retry-After beyond the bound fails at once; an HTTP-date is read ----
config "\"$u/503-after-3600\"" "\"$u/ok\""
new_request
expect_exit 1 steward request run "$id"
expect_stdout_contains "'$u/503-after-3600' answered HTTP 503 asking to retry after 3600 s, longer than the 5 s steward waits (requests.http_retry_after_max_s)"
expect_equal 1 "$(posts /503-after-3600)" 'Retry-After over the bound: one attempt, no wait'
config "\"$u/429-after-future\"" "\"$u/ok\""
expect_exit 1 steward request run "$id"
expect_stdout_contains "'$u/429-after-future' answered HTTP 429 asking to retry after 86"
expect_equal 1 "$(posts /429-after-future)" 'an HTTP-date a day ahead: over the bound, one attempt'
config "\"$u/429-after-past\"" "\"$u/ok\""
expect_exit 0 steward request run "$id"
expect_equal 3 "$(posts /429-after-past)" 'an HTTP-date in the past: retried at once, done on the third'
config "\"$u/503-after-0\"" "\"$u/ok\""
new_request
printf 'version: 1\nrequests:\n  http_attempts: 2\n  http_backoff_ms: 1\ntargets:\n  ml.recommendations: "%s"\n' "$u/503-after-0" | write_config
expect_exit 1 steward request run "$id"
expect_stdout_contains "'$u/503-after-0' answered HTTP 503 (2 attempts)"
expect_equal 2 "$(posts /503-after-0)" 'Retry-After within the bound still counts against http_attempts'
printf 'version: 1\nrequests:\n  http_retry_after_max_s: 3601\n' | write_config
expect_exit 3 steward request run "$id"
expect_stderr_line "error: 'requests' settings in '$WS/steward.yaml' need whole numbers (http_attempts at most 20, http_retry_after_max_s at most 3600)"

done_testing
