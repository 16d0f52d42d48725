#!/bin/sh
# Help, usage errors, exit codes, and how commands find their workspace.
. "$(dirname "$0")/lib.sh"

# ---- --help on every command exits 0 and prints usage on stdout ----
#
for cmd in '' init catalog 'catalog load' 'catalog schema' search show lineage; do
	# shellcheck disable=SC2086 # the command words are split on purpose
	expect_exit 0 "$STEWARD" $cmd --help
	check "steward $cmd --help: usage on stdout" grep -q '^usage: steward' "$OUT"
	expect_stderr_empty "steward $cmd --help: stderr is empty"
done
expect_exit 0 "$STEWARD" -h
expect_exit 0 "$STEWARD" help
expect_exit 0 "$STEWARD" help search
expect_stdout_contains 'usage: steward search QUERY'
expect_exit 0 "$STEWARD" help version
expect_exit 0 "$STEWARD" search -h
expect_stdout_contains 'usage: steward search QUERY'
expect_exit 0 "$STEWARD" --version
check '--version prints the version' grep -qE '^steward [0-9]+\.[0-9]+\.[0-9]+$' "$OUT"
expect_exit 0 "$STEWARD" version
expect_stdout_contains 'sqlite '
expect_exit 0 "$STEWARD" catalog schema
if command -v jq >/dev/null 2>&1; then
	check 'catalog schema prints JSON' jq -e '."$schema" and .properties.kind' "$OUT"
fi

# ---- usage errors: exit 2 with "error:" ----
usage_error() { # MESSAGE ARGS...
	msg=$1
	shift
	expect_exit 2 "$STEWARD" "$@"
	expect_stderr_line "error: $msg"
	expect_stdout_empty "$(show_cmd "$@"): nothing on stdout"
}
usage_error "'frobnicate' is not a steward command" frobnicate
usage_error "unknown option '--bogus'" --bogus
usage_error "unknown option '-x'" -x
usage_error "'frob' is not a 'steward catalog' command" catalog frob
usage_error "unknown option '--bogus'" search --bogus revenue
usage_error "unknown option '-q'" show -q bi.revenue
usage_error "unknown option '--up-to'" lineage --up-to bi.revenue
usage_error "unknown option '--force'" catalog load --force x.yaml
usage_error "unknown option '--bare'" init --bare x
usage_error "no query given" search
usage_error "give the query as one argument (quote it)" search two words
usage_error "option '--limit' needs a value" search revenue --limit
usage_error "--limit needs a positive number, not '-3'" search revenue --limit -3
usage_error "no dataset name given" show
usage_error "no dataset name given" lineage
usage_error "'lineage' takes one name" lineage a.b c.d
usage_error "no paths to load" catalog load
usage_error "'catalog schema' takes no arguments" catalog schema extra
usage_error "'init' takes at most one directory" init a b
usage_error "'version' takes no arguments" version extra
usage_error "no help for 'frobnicate'" help frobnicate
expect_exit 2 "$STEWARD"
expect_stderr_contains 'usage: steward'
expect_exit 2 "$STEWARD" catalog
expect_stderr_contains 'usage: steward catalog <command>'

# ---- outside a workspace: exit 4 ----
mkdir -p "$TMP/nowhere/deep"
ws_above=
dir=$TMP
while [ "$dir" != / ]; do
	[ -d "$dir/.steward" ] && ws_above=$dir
	dir=$(dirname "$dir")
done
[ -d /.steward ] && ws_above=/
cd "$TMP/nowhere/deep" || exit 99
for args in 'search revenue' 'show bi.revenue' 'lineage bi.revenue' 'catalog load .'; do
	if [ -n "$ws_above" ]; then
		skip "$args outside a workspace" "a workspace exists above $TMP ($ws_above)"
		continue
	fi
	# shellcheck disable=SC2086
	expect_exit 4 "$STEWARD" $args
	expect_stderr_line "error: not in a steward workspace (run 'steward init', or use --home or STEWARD_HOME)"
done
expect_exit 4 "$STEWARD" --home "$TMP/nowhere" show bi.revenue
expect_stderr_line "error: '$TMP/nowhere' is not a steward workspace (run 'steward init $TMP/nowhere')"
STEWARD_HOME=$TMP/nowhere
export STEWARD_HOME
expect_exit 4 "$STEWARD" show bi.revenue
expect_stderr_line "error: '$TMP/nowhere' is not a steward workspace (run 'steward init $TMP/nowhere')" \
	'STEWARD_HOME without a workspace: exit 4'
unset STEWARD_HOME

# ---- finding the workspace: --home, STEWARD_HOME, walking up ----
init_ws
expect_exit 0 steward catalog load "$CORPUS"
mkdir -p "$WS/a/b/c"
cd "$WS/a/b/c" || exit 99
expect_exit 0 "$STEWARD" show bi.revenue
expect_stdout_contains 'bi.revenue  (dashboard, version 1)' 'found by walking up from a subdirectory'
cd "$TMP/nowhere/deep" || exit 99
STEWARD_HOME=$WS
export STEWARD_HOME
expect_exit 0 "$STEWARD" show bi.revenue
expect_stdout_contains 'bi.revenue  (dashboard, version 1)' 'found through STEWARD_HOME'
expect_exit 4 "$STEWARD" --home "$TMP/nowhere" show bi.revenue
expect_stderr_contains "'$TMP/nowhere' is not a steward workspace" '--home wins over STEWARD_HOME'
unset STEWARD_HOME
expect_exit 0 "$STEWARD" --home="$WS" show bi.revenue
expect_exit 0 "$STEWARD" show --home "$WS" bi.revenue
expect_stdout_contains 'bi.revenue  (dashboard, version 1)' '--home after the command'

# init: a second run keeps the workspace.
expect_exit 0 "$STEWARD" init "$WS"
expect_stdout_line "reinitialized existing steward workspace in '$WS'"
expect_exit 0 "$STEWARD" --home "$WS" search revenue
expect_stdout_contains 'bi.revenue' 'the catalog survives a second init'

done_testing
