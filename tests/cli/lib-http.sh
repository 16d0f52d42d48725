# Shared by the HTTP target tests (t-request-http.sh, t-request-http-retry.sh,
# t-request-http-lock.sh, t-request-secrets.sh, t-request-target-config.sh; the last two bind
# targets with a config of their own), sourced after lib.sh: a workspace with a key and the example
# catalog, tests/helpers/http_target.py started, and helpers to bind the ml.* datasets and
# read what the endpoint saw.

# http_workspace [START_HTTP_TARGET ARGS...]: the workspace and the endpoint (its POSTs in
# $TMP/http.log, its base URL in $u); the test then runs in $TMP.
http_workspace() {
	init_ws
	expect_exit 0 steward key init
	expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
	cd "$TMP" || exit 99
	start_http_target "$TMP/http.log" "$@"
	u=http://127.0.0.1:$HTTP_PORT
	export no_proxy='*'
}

# config RECS FEATURES: the two ml.* datasets bound (YAML values); the others stay manual.
config() {
	write_config <<YAML
version: 1
requests:
  http_backoff_ms: 1
  http_timeout_ms: 20000
  http_retry_after_max_s: 5
targets:
  ml.user_features: $2
  ml.recommendations: $1
YAML
}
# new_request: an erasure of one user id; the id in $id.
n=0
new_request() {
	n=$((n + 1))
	expect_exit 0 steward request new erase --subject "user.unique_id:77700$n"
	id=$(cat "$OUT")
}
# posts PATH: how many POSTs the endpoint saw on PATH (its log is one json.dumps line each).
posts() { grep -c "^{\"path\": \"$1\"" http.log; }
# keys PATH: the distinct Idempotency-Keys of PATH's POSTs ("null" when absent; needs the
# endpoint started with --headers "$TMP/headers.log").
keys() {
	grep "^{\"path\": \"$1\"" headers.log |
		sed 's/.*"idempotency_key": "*\([^",]*\)"*, .*/\1/' | sort -u
}
# filters of request show --json's targets
recs='.targets[] | select(.dataset == "ml.recommendations")'
feat='.targets[] | select(.dataset == "ml.user_features")'
