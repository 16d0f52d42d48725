#!/bin/sh
# steward serve in a real browser: Debian's Chromium, headless, driven through ChromeDriver's
# WebDriver protocol by a small Python client (tests/helpers/webdriver.py). Search "revenue",
# open the certified dataset, its lineage, click an upstream node of the SVG and get its card;
# the column lineage of a PII field marks the edge; the requests page shows an overdue request
# (received in 2020, so it is overdue whatever the date) in the overdue group. Screenshots go
# to BUILD/browser-screenshots/; every assertion reads the DOM. Skipped, visibly, only where
# Chromium or ChromeDriver is missing or cannot start.
. "$(dirname "$0")/lib.sh"
require python3
for p in chromium chromedriver; do
	if ! command -v "$p" >/dev/null 2>&1; then
		echo "1..0 # SKIP $p is not installed (tools/install-deps installs it)"
		exit 77
	fi
done
init_ws
me=$(id -un)
cd "$TMP" || exit 99
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
expect_exit 0 steward key init
printf 'overdue@example.com\n' >subject
expect_exit 0 sh -c "'$STEWARD' --home '$WS' request new object --subject user.contact.email:- --received 2020-01-15 <subject"
overdue=$(cat "$OUT")
expect_exit 0 steward token new "$me"
tok=$(cat "$OUT")

mkfifo serve.out
"$STEWARD" --home "$WS" serve --listen 127.0.0.1:0 --threads 2 >serve.out 2>serve.err &
pid=$!
HTTP_PID=$pid # lib.sh's exit trap stops it if the script ends early
exec 3<serve.out
IFS= read -r l1 <&3
U=http://127.0.0.1:${l1##*:}

shots=${STEWARD_BUILD_ROOT:-$TMP}/browser-screenshots
mkdir -p "$shots"
rc=0
python3 "$STEWARD_SRC/tests/helpers/webdriver.py" "$U" "$tok" "$overdue" "$shots" "$TMP/profile" \
	>wd.out 2>wd.err || rc=$?
if [ "$rc" -eq 77 ]; then
	kill -TERM "$pid"
	wait "$pid"
	echo "1..0 # SKIP $(sed -n 's/^skip //p' wd.out | head -n 1)"
	exit 77
fi
while IFS= read -r line; do
	case $line in
	"ok "*) pass "${line#ok }" ;;
	"not ok "*) fail "${line#not ok }" ;;
	*) fail "unexpected output of the WebDriver client" "$line" ;;
	esac
done <wd.out
expect_equal 0 "$rc" 'the WebDriver client finished' 
[ ! -s wd.err ] || fail 'the WebDriver client wrote to stderr' "$(cat wd.err)"
check 'a screenshot of each step' sh -c "[ \$(ls '$shots'/*.png | wc -l) -ge 6 ]"

kill -TERM "$pid"
IFS= read -r l2 <&3
expect_equal 'stopping on SIGTERM' "$l2" 'the server stops on SIGTERM'
rc=0
wait "$pid" || rc=$?
HTTP_PID=
expect_equal 0 "$rc" 'and exits 0'
check 'it wrote nothing but access lines on stderr' sh -c "! grep -v ' HTTP/1.1\" ' serve.err"
exec 3<&-
expect_exit 0 steward audit log --json --action catalog.lineage --actor "$me"
expect_jq '[.[] | .object] | index("/lineage/dw.fact_enrollment.user_key") != null' true
done_testing
