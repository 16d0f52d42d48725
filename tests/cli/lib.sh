# Shared helpers for the CLI tests, in the spirit of git's t/test-lib.sh. Source it first:
#
#   . "$(dirname "$0")/lib.sh"
#   init_ws
#   expect_exit 0 steward catalog load "$CORPUS"
#   expect_stdout_line 'catalog: 30 datasets (31 versions)'
#   done_testing
#
# Every check prints one TAP line ("ok N - ..." or "not ok N - ...", with details as "#"
# comments), and done_testing prints the plan and exits 1 if any check failed.
#
# Environment (set by meson, with fallbacks for running a script by hand from the repo):
#   STEWARD         the steward binary
#   STEWARD_SRC     the repository root
#   STEWARD_SHARED  the shared read-only material (corpus)
#
# Variables for the tests:
#   TMP       a fresh temporary directory, removed on exit
#   WS        the workspace that `steward` (the function) uses: $TMP/ws
#   OUT ERR   stdout and stderr of the last `run`/`expect_exit`; RC is its exit status
#   HTTP_PORT HTTP_PID  the HTTP test server's, after start_http_target
#   FIXTURES EXPECTED CORPUS CSV_DIR
#   AUDIT_SCHEMA  audit.db's schema version, as audit/log.c defines it
#   CATALOG_SCHEMA  catalog.db's, as catalog/catalog.h defines it
set -u

: "${STEWARD_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${STEWARD:=$STEWARD_SRC/build/cli/steward}"
: "${STEWARD_SHARED:=$STEWARD_SRC/../shared}"
LC_ALL=${LC_ALL:-C.UTF-8}
export LC_ALL
unset STEWARD_HOME

# shellcheck disable=SC2034 # used by the test scripts
{
	TESTS_DIR=$STEWARD_SRC/tests/cli
	FIXTURES=$STEWARD_SRC/tests/fixtures
	EXPECTED=$STEWARD_SRC/tests/fixtures/expected
	CORPUS=$STEWARD_SHARED/corpus/catalog
	CSV_DIR=$STEWARD_SHARED/corpus/csv
	CATALOG_SCHEMA=$(sed -n 's/^#define CATALOG_SCHEMA_VERSION \([0-9]*\)$/\1/p' "$STEWARD_SRC/catalog/catalog.h")
	AUDIT_SCHEMA=$(sed -n 's/^#define AUDIT_SCHEMA_VERSION \([0-9]*\)$/\1/p' "$STEWARD_SRC/audit/log.c")
}

if [ ! -x "$STEWARD" ]; then
	echo "Bail out! steward binary '$STEWARD' is not executable (build first or set STEWARD)"
	exit 99
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/steward-cli.XXXXXX") || {
	echo "Bail out! cannot create a temporary directory"
	exit 99
}
HTTP_PID= # the HTTP test server of start_http_target, killed on exit
trap '[ -z "$HTTP_PID" ] || kill "$HTTP_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
trap 'exit 130' HUP INT TERM
WS=$TMP/ws
OUT=$TMP/.stdout
ERR=$TMP/.stderr
RC=0

test_count=0
test_failed=0
test_failed_names=

# ---- reporting ----

# pass DESC
pass() {
	test_count=$((test_count + 1))
	printf 'ok %d - %s\n' "$test_count" "$1"
}

# fail DESC [DETAIL...]: each detail line is printed as a TAP comment.
fail() {
	test_count=$((test_count + 1))
	test_failed=$((test_failed + 1))
	test_failed_names="$test_failed_names $test_count"
	printf 'not ok %d - %s\n' "$test_count" "$1"
	shift
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/#   /'
	done
}

# skip DESC REASON
skip() {
	test_count=$((test_count + 1))
	printf 'ok %d - %s # SKIP %s\n' "$test_count" "$1" "$2"
}

# note TEXT: a comment in the output, not a check.
note() {
	printf '# %s\n' "$*"
}

# The last run's output, for failure details.
last_output() {
	printf 'exit status: %s\n' "$RC"
	printf -- '--- stdout (first 20 lines):\n'
	head -n 20 "$OUT"
	printf -- '--- stderr (first 20 lines):\n'
	head -n 20 "$ERR"
}

# A command line as text, without the --home option the steward function adds.
show_cmd() {
	local s='' a
	for a in "$@"; do
		case $a in
		*[[:space:]\'\"]* | '') s="$s '$a'" ;;
		*) s="$s $a" ;;
		esac
	done
	printf '%s' "${s# }"
}

# done_testing: prints the plan and exits 0, or 1 if any check failed.
done_testing() {
	printf '1..%d\n' "$test_count"
	if [ "$test_failed" -gt 0 ]; then
		printf '# failed %d of %d checks:%s\n' "$test_failed" "$test_count" "$test_failed_names"
		exit 1
	fi
	printf '# all %d checks passed\n' "$test_count"
	exit 0
}

# ---- running steward ----

# steward ARGS...: the binary on the test workspace. With STEWARD_VALGRIND=1 (meson test
# --setup valgrind) it runs under valgrind, and a memory error or a definite leak makes it
# exit 97, which fails the check that ran it.
steward() {
	if [ "${STEWARD_VALGRIND:-}" = 1 ]; then
		valgrind -q --error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite \
			--show-leak-kinds=definite "$STEWARD" --home "$WS" "$@"
	else
		"$STEWARD" --home "$WS" "$@"
	fi
}

# run CMD...: runs a command with stdout in $OUT, stderr in $ERR and the status in $RC.
# Standard input is $STDIN (see expect_exit_stdin), else /dev/null.
run() {
	RC=0
	"$@" >"$OUT" 2>"$ERR" <"${STDIN:-/dev/null}" || RC=$?
}

# init_ws [DIR]: creates the workspace (default $WS), as a check.
init_ws() {
	local dir="${1:-$WS}"
	run "$STEWARD" init "$dir"
	if [ "$RC" -eq 0 ] && [ -d "$dir/.steward" ]; then
		pass "init workspace"
	else
		fail "init workspace" "$(last_output)"
	fi
}

# write_config [DIR]: replaces DIR's (default $WS) steward.yaml with standard input plus a
# roles section that keeps the current user admin, mode 0600 as steward requires.
write_config() {
	local dir="${1:-$WS}"
	{ cat; printf 'roles:\n  users:\n    "%s": admin\n' "$(id -un)"; } >"$dir/steward.yaml"
	chmod 600 "$dir/steward.yaml"
}

# require PROGRAM...: skips the whole script (exit 77) when a program is missing.
require() {
	local p
	for p in "$@"; do
		if ! command -v "$p" >/dev/null 2>&1; then
			echo "1..0 # SKIP $p is not installed"
			exit 77
		fi
	done
}

# start_http_target LOGFILE [ARGS...]: starts tests/helpers/http_target.py (the stand-in
# erasure endpoint; ARGS go to it before its own) in the background, logging every POST to
# LOGFILE, and returns once it listens: it reads the server's "ready PORT" line through a
# fifo, no polling. Sets HTTP_PORT and HTTP_PID; the server is killed when the script exits.
# Bails out when the server ends without that line.
start_http_target() {
	local log="$1" line=
	shift
	rm -f "$TMP/.http-ready"
	mkfifo "$TMP/.http-ready" || { echo "Bail out! cannot create a fifo in $TMP"; exit 99; }
	python3 "$STEWARD_SRC/tests/helpers/http_target.py" --ready "$@" "$TMP/.http-port" "$log" \
		</dev/null >"$TMP/.http-ready" &
	HTTP_PID=$!
	# the open returns when the server has opened its end; the read, at its line or its end
	IFS= read -r line <"$TMP/.http-ready"
	rm -f "$TMP/.http-ready"
	case $line in
	'ready '[0-9]*) HTTP_PORT=${line#ready } ;;
	*) echo "Bail out! the HTTP test server did not start (it said '$line')"; exit 99 ;;
	esac
}

# ---- checks ----

# expect_exit CODE CMD...: runs CMD (see run) and checks its exit status.
expect_exit() {
	local want="$1"
	shift
	run "$@"
	if [ "$RC" -eq "$want" ]; then
		pass "exit $want: $(show_cmd "$@")"
	else
		fail "exit $want: $(show_cmd "$@")" "$(last_output)"
	fi
}

# expect_exit_stdin CODE FILE CMD...: expect_exit with FILE on standard input.
expect_exit_stdin() {
	local want="$1" file="$2"
	shift 2
	STDIN=$file
	expect_exit "$want" "$@"
	STDIN=
}

# check DESC CMD...: passes when CMD succeeds.
check() {
	local desc="$1"
	shift
	if "$@" >"$TMP/.check" 2>&1; then
		pass "$desc"
	else
		fail "$desc" "command failed: $(show_cmd "$@")" "$(head -n 20 "$TMP/.check")"
	fi
}

# check_not DESC CMD...: passes when CMD fails.
check_not() {
	local desc="$1"
	shift
	if "$@" >"$TMP/.check" 2>&1; then
		fail "$desc" "command succeeded: $(show_cmd "$@")" "$(head -n 20 "$TMP/.check")"
	else
		pass "$desc"
	fi
}

# _expect_in WHICH FILE MODE TEXT [DESC]: MODE is -F (contains) or -Fx (whole line).
_expect_in() {
	local which="$1" file="$2" mode="$3" text="$4" what
	[ "$mode" = -Fx ] && what="has line" || what="contains"
	local desc="${5:-$which $what: $text}"
	if grep -q "$mode" -e "$text" "$file"; then
		pass "$desc"
	else
		fail "$desc" "$which of the last command does not contain this ${what#has }:" "  $text" \
			"$(last_output)"
	fi
}

# expect_stdout_contains TEXT [DESC], expect_stderr_contains TEXT [DESC]: fixed strings.
expect_stdout_contains() { _expect_in stdout "$OUT" -F "$@"; }
expect_stderr_contains() { _expect_in stderr "$ERR" -F "$@"; }
# expect_stdout_line LINE [DESC], expect_stderr_line LINE [DESC]: one whole line, exactly.
expect_stdout_line() { _expect_in stdout "$OUT" -Fx "$@"; }
expect_stderr_line() { _expect_in stderr "$ERR" -Fx "$@"; }

# expect_stdout_lacks TEXT [DESC], expect_stderr_lacks TEXT [DESC]
_expect_lacks() {
	local which="$1" file="$2" text="$3"
	local desc="${4:-$which lacks: $text}"
	if grep -qF -e "$text" "$file"; then
		fail "$desc" "$which of the last command contains:" "  $text" "$(last_output)"
	else
		pass "$desc"
	fi
}
expect_stdout_lacks() { _expect_lacks stdout "$OUT" "$@"; }
expect_stderr_lacks() { _expect_lacks stderr "$ERR" "$@"; }

# expect_stderr_empty [DESC], expect_stdout_empty [DESC]
expect_stderr_empty() {
	if [ -s "$ERR" ]; then
		fail "${1:-stderr is empty}" "$(last_output)"
	else
		pass "${1:-stderr is empty}"
	fi
}
expect_stdout_empty() {
	if [ -s "$OUT" ]; then
		fail "${1:-stdout is empty}" "$(last_output)"
	else
		pass "${1:-stdout is empty}"
	fi
}

# expect_count N REGEX FILE [DESC]: FILE has exactly N lines matching the extended REGEX.
expect_count() {
	local want="$1" re="$2" file="$3" got
	local desc="${4:-$want lines match /$re/}"
	got=$(grep -cE -e "$re" "$file")
	if [ "$got" -eq "$want" ]; then
		pass "$desc"
	else
		fail "$desc" "expected $want matching lines, got $got" "$(head -n 40 "$file")"
	fi
}

# test_cmp EXPECTED ACTUAL [DESC]: the files are identical; shows a diff when not.
test_cmp() {
	local desc="${3:-}"
	[ -n "$desc" ] || desc="$(basename "$2") matches $(basename "$1")"
	if diff -u "$1" "$2" >"$TMP/.diff" 2>&1; then
		pass "$desc"
	else
		fail "$desc" "$(cat "$TMP/.diff")"
	fi
}

# expect_jq FILTER [DESC|EXPECTED] [FILE]: jq -e FILTER is true on FILE (default: the last
# stdout). When the second argument is a JSON text (an array, object, string, number, true,
# false or null, as jq reads it), it is the value FILTER must give instead, compared as
# compact JSON, output for output; a description never parses as JSON.
expect_jq() {
	local filter="$1"
	local desc="${2:-jq: $1}" file="${3:-$OUT}" want got
	if [ $# -ge 2 ] && want=$(printf '%s' "$2" | jq -c . 2>/dev/null) && [ -n "$want" ]; then
		desc="jq: $filter == $(printf '%s' "$want" | head -c 200)"
		if got=$(jq -c "$filter" "$file" 2>&1) && [ "$got" = "$want" ]; then
			pass "$desc"
		else
			fail "$desc" "expected: $want" "actual:   $got"
		fi
		return
	fi
	if jq -e "$filter" "$file" >"$TMP/.jq" 2>&1; then
		pass "$desc"
	else
		fail "$desc" "jq -e '$filter' gave: $(head -c 400 "$TMP/.jq")" \
			"input (first 20 lines):" "$(head -n 20 "$file")"
	fi
}

# expect_equal EXPECTED ACTUAL DESC: two strings are equal.
expect_equal() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3" "expected: $1" "actual:   $2"
	fi
}
