#!/bin/sh
# The mapping form of a target in steward.yaml ({url, verify, token_file, token_env}) is
# checked with located messages before anything runs, and a token_file is refused unless
# only its owner may read it (like the key files): nothing is called, no evidence changes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-http.sh"
require python3 jq
http_workspace --headers "$TMP/headers.log"
hp=127.0.0.1:$HTTP_PORT

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
# located MESSAGE: the last stderr is "error: steward.yaml:5:COL: MESSAGE" (the column
# depends on the length of the port and paths in the line).
located() {
	check "located: $1" sh -c 'sed -E "s/^(error: .*steward\.yaml:5:)[0-9]+: /\1C: /" "$1" |
		grep -qxF "error: $2/steward.yaml:5:C: $3"' sh "$ERR" "$WS" "$1"
}

config "\"$u/ok\"" "\"$u/always-500\""
expect_exit 0 steward request new erase --subject user.unique_id:4242
id=$(cat "$OUT")
expect_exit 1 steward request run "$id"
expect_stdout_contains "$id: 2 targets, 1 done, 1 not done"

# ---- token_file: refused unless only its owner may read it; the forms of a mapping ----
printf 'tok-Zm9vOmJhcg\n' >token
chmod 644 token
config "{url: \"$u/ok\", token_file: \"$TMP/token\"}" "\"$u/always-500\""
lines=$(wc -l <http.log)
expect_exit 6 steward request run "$id"
located "target of 'ml.recommendations': token file '$TMP/token' is accessible by group or others (mode 0644); run 'chmod 600 $TMP/token'"
expect_exit 6 steward request plan "$id"
expect_equal "$lines" "$(wc -l <http.log)" 'a refused token file: no endpoint called'
expect_exit 0 steward request show "$id" --json
expect_jq '.targets | length == 2 and all(.runs == 1)' 'a refused token file: the evidence untouched'
ln -s token token-link
config "{url: \"$u/ok\", token_file: \"$TMP/token-link\"}" "\"$u/ok\""
expect_exit 6 steward request plan "$id"
expect_stderr_contains "token file '$TMP/token-link' is a symbolic link; refusing to use it"
config "{url: \"$u/ok\", token_file: \"$TMP/none\"}" "\"$u/ok\""
expect_exit 4 steward request plan "$id"
expect_stderr_contains "target of 'ml.recommendations': cannot open token file '$TMP/none': No such file or directory"
config "{url: \"$u/ok\", token_file: \"$TMP/token\", token_env: T}" "\"$u/ok\""
expect_exit 3 steward request plan "$id"
located "the target of 'ml.recommendations' gives both token_file and token_env"
config "{url: \"$u/ok\", token_env: 1BAD}" "\"$u/ok\""
expect_exit 3 steward request plan "$id"
expect_stderr_contains "invalid token_env '1BAD' in the target of 'ml.recommendations'"
config "{url: \"$u/ok\", tokenfile: x}" "\"$u/ok\""
expect_exit 3 steward request plan "$id"
located "unknown key 'tokenfile' in the target of 'ml.recommendations' (use url, verify, token_file or token_env)"
config "{verify: \"$u/verify-0\"}" "\"$u/ok\""
expect_exit 3 steward request plan "$id"
located "the target of 'ml.recommendations' has no 'url'"
config "{url: \"jsonl:$TMP\", verify: \"$u/verify-0\"}" "\"$u/ok\""
expect_exit 3 steward request plan "$id"
expect_stderr_contains "'verify' in the target of 'ml.recommendations' needs an http:// or https:// url"
config "{url: \"$u/ok\", verify: \"sqlite:x?table=t\"}" "\"$u/ok\""
expect_exit 3 steward request plan "$id"
expect_stderr_contains "the verify url of 'ml.recommendations' must be http:// or https://"
config "[\"$u/ok\"]" "\"$u/ok\""
expect_exit 3 steward request plan "$id"
located "the target of 'ml.recommendations' must be a URI"
expect_exit 0 steward audit verify
done_testing
