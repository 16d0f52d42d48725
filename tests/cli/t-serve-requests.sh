#!/bin/sh
# The request-level corpus of steward serve (tests/fixtures/serve/requests.tsv), sent raw
# over the Unix socket: odd paths and names, bad methods, bodies where none is taken, bodies
# too large (by length and chunked), query parameters given twice, too many, with NUL bytes,
# or out of range, malformed request lines and oversized headers; each answer's status and
# exact message. The server must answer every one and stay up: health still answers after,
# it stops cleanly, and the audit log is intact.
. "$(dirname "$0")/lib.sh"
require python3 curl
init_ws
cd "$TMP" || exit 99
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"

mkfifo serve.out
"$STEWARD" --home "$WS" serve --no-tcp --socket "$TMP/s.sock" --threads 2 >serve.out 2>serve.err &
pid=$!
exec 3<serve.out
IFS= read -r l1 <&3
expect_equal "listening on unix:$TMP/s.sock" "$l1" 'it listens on the socket'

python3 "$STEWARD_SRC/tests/helpers/http_raw.py" "$TMP/s.sock" \
	"$STEWARD_SRC/tests/fixtures/serve/requests.tsv" >results.txt 2>results.err
rc=$?
while IFS= read -r line; do
	case $line in
	'ok '*) pass "${line#ok }" ;;
	'not ok '*) fail "${line#not ok }" ;;
	esac
done <results.txt
expect_equal 0 "$rc" "the corpus ran to its end $(head -c 300 results.err)"
expect_equal "$(grep -c '	' "$STEWARD_SRC/tests/fixtures/serve/requests.tsv")" "$(wc -l <results.txt)" 'every case was sent'

check 'the server is still up: health answers' sh -c \
	"curl -sf --unix-socket '$TMP/s.sock' http://localhost/api/v1/health | grep -q '\"ok\"'"
kill -TERM "$pid"
IFS= read -r l2 <&3
expect_equal 'stopping on SIGTERM' "$l2" 'it stops on SIGTERM'
rc=0
wait "$pid" || rc=$?
expect_equal 0 "$rc" 'and exits 0'
exec 3<&-
check 'no NUL byte or raw control character reached the access log' sh -c \
	"! LC_ALL=C grep -q '[[:cntrl:]]' serve.err"
expect_exit 0 steward audit verify
expect_stdout_contains 'audit log intact: '
done_testing
