#!/bin/sh
# Secrets in target configuration are never printed nor stored: credentials in a target URL
# (user:password@, and any query such as ?token=, access_token=, api_key=) stay out of
# request plan, show and list (text and --json), run's output and errors, the monthly
# report and every file under .steward/ (audit.db included), while the endpoint still gets
# them. (t-request-target-config.sh: the mapping form of a target and token_file checks.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-http.sh"
require python3 jq
http_workspace --headers "$TMP/headers.log"
hp=127.0.0.1:$HTTP_PORT
secrets='hunter2pw|tok3n-q|acc3ss-q|k3y-q|v3rifypw|vt0k-q|Zm9vOmJhcg'
all=$TMP/all-output # every stdout and stderr of the commands below

# config RECS FEATURES: the two ml.* datasets bound (YAML values); the others stay manual.
# Its own, not lib-http.sh's: the messages below are located by line in this steward.yaml.
config() {
	write_config <<YAML
version: 1
requests:
  http_backoff_ms: 1
targets:
  ml.recommendations: $1
  ml.user_features: $2
YAML
}
keep() { cat "$OUT" "$ERR" >>"$all"; }

config "\"http://user:hunter2pw@$hp/ok?token=tok3n-q&access_token=acc3ss-q\"" \
	"{url: \"$u/always-500?api_key=k3y-q\", verify: \"http://vuser:v3rifypw@$hp/verify-0?token=vt0k-q\"}"
expect_exit 0 steward request new erase --subject user.unique_id:4242
id=$(cat "$OUT")

expect_exit 0 steward request plan "$id"
keep
check 'plan: the target shown without credentials' grep -Eq "^ml\.recommendations .* $u/ok\$" "$OUT"
expect_stdout_contains " $u/always-500 (verify $u/verify-0)"
expect_exit 0 steward request plan "$id" --json
keep
expect_jq "(.targets[] | select(.dataset == \"ml.recommendations\") | .target == \"$u/ok\")
	and (.targets[] | select(.dataset == \"ml.user_features\") | .target == \"$u/always-500\" and .verify == \"$u/verify-0\")" \
	'plan --json: target and verify redacted'

expect_exit 1 steward request run "$id"
keep
expect_stdout_contains "$id: 2 targets, 1 done, 1 not done"
expect_stdout_contains "'$u/always-500' answered HTTP 500 (3 attempts)"
expect_exit 0 steward request show "$id"
keep
expect_stdout_contains "($u/ok)"
expect_exit 0 steward request show "$id" --json
keep
expect_jq "[.targets[].uri] | sort == [\"$u/always-500\", \"$u/ok\"]" 'show --json: the stored URIs are redacted'
expect_exit 0 steward request list --json
keep
expect_exit 0 steward report --period "$(date -u +%Y-%m)" --format json
keep
expect_exit 0 steward report --period "$(date -u +%Y-%m)"
keep
expect_exit 0 steward audit log --json
keep

# the endpoint did get the credentials: in the URL's query and as Basic authorization
check 'the endpoint got the query' grep -q '"path": "/ok?token=tok3n-q&access_token=acc3ss-q"' http.log
check 'the endpoint got user:password as Basic' grep -q '"authorization": "Basic dXNlcjpodW50ZXIycHc="' headers.log

# a config error names the URL redacted too
config "\"http://user:hunter2pw@bad host/x?token=tok3n-q\"" "\"$u/ok\""
expect_exit 3 steward request plan "$id"
keep
expect_stderr_line "error: $WS/steward.yaml:5:23: target of 'ml.recommendations': invalid url 'http://bad host/x'"

check 'no secret in any output' sh -c "! grep -aEq '$secrets' '$all'"
check 'no secret in any file under .steward (audit.db included)' sh -c "! grep -raEq '$secrets' '$WS/.steward'"
check 'no secret in audit.db, read by sqlite3' sh -c "! sqlite3 '$WS/.steward/audit.db' .dump | grep -aEq '$secrets'"

expect_exit 0 steward audit verify
done_testing
