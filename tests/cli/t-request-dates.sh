#!/bin/sh
# Data-subject request deadlines through the CLI: GDPR one calendar month clamped to the
# month's end (leap and century years), CCPA 45 days, the one extension with its reason in
# the timeline, overdue requests (list exits 1, --overdue), the JSON fields, the usage and
# input errors, the id alone on stdout, and no raw subject anywhere in the workspace.
# Overdue checks use requests received in 2020 or today, so they hold whatever the date.
. "$(dirname "$0")/lib.sh"
require jq python3
ME=$(id -un)
CANARY=canary-dates@example.com
SUBJECT=user.contact.email:$CANARY
init_ws
expect_exit 0 steward key init

# new ARGS...: request new, checked to print one id alone; the id is in $ID.
new() {
	expect_exit 0 steward request new "$@"
	ID=$(cat "$OUT")
	if printf '%s\n' "$ID" | grep -Eqx 'R-[0-9]{8}-[0-9]{4}' && [ "$(wc -l <"$OUT")" -eq 1 ]; then
		pass "the id alone on stdout: $ID"
	else
		fail "the id alone on stdout" "$(last_output)"
	fi
}
# field ID FILTER: jq -r FILTER on request show ID --json.
field() {
	steward request show "$1" --json | jq -r "$2"
}
# expected_due RECEIVED REGIME [EXTENDED]: the deadline, computed independently in Python.
expected_due() {
	python3 - "$@" <<'PY'
import calendar, datetime, sys
def months(d, n):
    y, m = divmod(d.month - 1 + n, 12)
    y += d.year
    return datetime.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))
d = datetime.date.fromisoformat(sys.argv[1])
gdpr = sys.argv[2] == "gdpr"
d = months(d, 1) if gdpr else d + datetime.timedelta(45)
if len(sys.argv) > 3:
    d = months(d, 2) if gdpr else d + datetime.timedelta(45)
print(d.isoformat())
PY
}

# ---- a request received today: not overdue, list exits 0 ----
new erase --subject "$SUBJECT"
TODAY_ID=$ID
today=$(field "$TODAY_ID" .received)
expect_equal "$(expected_due "$today" gdpr)" "$(field "$TODAY_ID" .due)" \
	"received $today (today, the default): due one month later"
expect_exit 0 steward request list
expect_stderr_empty
expect_exit 0 steward request list --overdue --json
expect_jq '. == []' 'no overdue requests'

# ---- GDPR: one calendar month, clamped ----
# due RECEIVED REGIME WANT
due() {
	new erase --subject "$SUBJECT" --received "$1" --regime "$2"
	expect_equal "$3" "$(field "$ID" .due)" "$2: received $1, due $3"
}
due 2026-01-31 gdpr 2026-02-28
due 2024-01-31 gdpr 2024-02-29
due 2026-03-31 gdpr 2026-04-30
due 2025-12-15 gdpr 2026-01-15
due 2000-01-31 gdpr 2000-02-29
due 2026-08-31 gdpr 2026-09-30
# ---- CCPA: 45 days ----
due 2024-01-20 ccpa 2024-03-05
due 2025-12-31 ccpa 2026-02-14
due 2023-12-20 ccpa 2024-02-03
# (the far future and 2100 are the unit test's: a request cannot be received tomorrow)
new erase --subject "$SUBJECT" --regime ccpa
CCPA_ID=$ID
# --regime defaults to gdpr
new access --subject "$SUBJECT" --received 2026-01-31
expect_equal 'gdpr 2026-02-28 access' "$(field "$ID" '"\(.regime) \(.due) \(.kind)"')" 'gdpr is the default regime'

# ---- show --json ----
new object --subject "$SUBJECT" --received 2020-01-15
OLD_ID=$ID
expect_exit 0 steward request show "$OLD_ID" --json
expect_jq 'keys_unsorted == ["id", "kind", "regime", "category", "pseudonym", "received", "due",
	"statutory_due", "extended", "extension_reason", "status", "overdue", "completed", "bundle", "timeline", "targets"]' \
	'request show --json fields'
expect_jq '.id == "'"$OLD_ID"'" and .kind == "object" and .regime == "gdpr" and
	.category == "user.contact.email" and .received == "2020-01-15" and .due == "2020-02-15" and
	.extended == false and .extension_reason == null and .status == "open" and .overdue == true and
	.completed == null and .bundle == null and .targets == []' 'the 2020 request: open and overdue'
expect_jq '.pseudonym | test("^k1:[A-Za-z0-9_-]{24}$")' 'the subject is a pseudonym'
PSEUDONYM=$(jq -r .pseudonym "$OUT")
expect_jq '.timeline | length == 1 and .[0].event == "received" and .[0].actor == "'"$ME"'"' \
	'the timeline starts with its receipt'
expect_equal "object request under gdpr for user.contact.email $PSEUDONYM, received 2020-01-15, due 2020-02-15" \
	"$(jq -r '.timeline[0].detail' "$OUT")" 'the receipt names the pseudonym and both dates'

# The same subject from standard input (normalized): the same pseudonym.
printf 'Canary-Dates@EXAMPLE.com\n' >"$TMP/subject"
STDIN=$TMP/subject
new erase --subject user.contact.email:- --received 2026-05-01
STDIN=
expect_equal "$PSEUDONYM" "$(field "$ID" .pseudonym)" 'the subject read from stdin, normalized, has the same pseudonym'

# ---- overdue: list exits 1, --overdue keeps only those ----
n_overdue=$(steward request list --overdue --json | jq length)
expect_exit 1 steward request list
if [ "$n_overdue" -eq 1 ]; then
	expect_stderr_line '1 request is overdue'
else
	expect_stderr_line "$n_overdue requests are overdue"
fi
expect_exit 1 steward request list --json
expect_jq "[.[] | select(.overdue)] | length == $n_overdue" '--overdue lists exactly the overdue ones'
expect_jq 'all(.[]; keys_unsorted == ["id", "kind", "regime", "category", "received", "due", "extended", "status", "overdue"])' \
	'request list --json fields'
expect_jq '[.[] | select(.id == "'"$OLD_ID"'")] | .[0] | .overdue == true and .due == "2020-02-15" and
	.received == "2020-01-15" and .kind == "object" and .status == "open"' 'the 2020 request is listed overdue'
expect_jq '[.[] | select(.id == "'"$TODAY_ID"'")] | .[0].overdue == false' "today's request is not overdue"
expect_exit 1 steward request list --overdue --json
expect_jq 'any(.[]; .id == "'"$OLD_ID"'") and all(.[]; .overdue) and all(.[]; .id != "'"$TODAY_ID"'")' \
	'--overdue: the 2020 request, not the one received today'
expect_exit 1 steward request list
expect_stdout_line "$(printf '%-16s %-7s %-5s %-26s %-10s %-11s %s' ID KIND LAW SUBJECT RECEIVED DUE STATUS)"
expect_stdout_line "$(printf '%-16s %-7s %-5s %-26s %-10s %-10s%s %s' "$OLD_ID" object gdpr user.contact.email 2020-01-15 2020-02-15 ' ' OVERDUE)"
expect_stdout_line "$(printf '%-16s %-7s %-5s %-26s %-10s %-10s%s %s' "$TODAY_ID" erase gdpr user.contact.email "$today" "$(expected_due "$today" gdpr)" ' ' open)"

# ---- the one extension ----
ext=$(expected_due "$today" gdpr extended)
expect_exit 0 steward request extend "$TODAY_ID" --reason 'complex request: 14 systems'
expect_stdout_line "$TODAY_ID: deadline extended to $ext"
expect_exit 0 steward request show "$TODAY_ID" --json
expect_jq '.extended == true and .due == "'"$ext"'" and .extension_reason == "complex request: 14 systems"' \
	"extended to $ext, the reason kept"
expect_jq '.timeline | length == 2 and .[1].event == "extended" and .[1].actor == "'"$ME"'" and
	.[1].detail == "deadline extended to '"$ext"': complex request: 14 systems"' 'the extension is in the timeline'
expect_exit 3 steward request extend "$TODAY_ID" --reason 'more time'
expect_stderr_line "error: request '$TODAY_ID' was extended already (to $ext); the law allows one extension"
expect_stdout_empty
expect_equal "complex request: 14 systems|2" "$(field "$TODAY_ID" '"\(.extension_reason)|\(.timeline | length)"')" \
	'the refused extension changed nothing'
expect_exit 1 steward request list
expect_stdout_line "$(printf '%-16s %-7s %-5s %-26s %-10s %-10s%s %s' "$TODAY_ID" erase gdpr user.contact.email "$today" "$ext" '*' open)"

# CCPA: 45 more days.
expect_exit 0 steward request extend "$CCPA_ID" --reason 'volume of requests'
ccpa_ext=$(expected_due "$today" ccpa extended)
expect_stdout_line "$CCPA_ID: deadline extended to $ccpa_ext"
expect_equal "$ccpa_ext true $(expected_due "$today" ccpa)" "$(field "$CCPA_ID" '"\(.due) \(.extended) \(.statutory_due)"')" \
	'ccpa: 45 more days; the statutory deadline is kept'

# An extension is decided within the first deadline, not after it.
expect_exit 3 steward request extend "$OLD_ID" --reason 'too late'
expect_stderr_line "error: request '$OLD_ID' is past its deadline (2020-02-15); an extension must be decided before it"

# A request is not received in the future.
expect_exit 2 steward request new erase --subject "$SUBJECT" --received 2999-01-01
expect_stderr_line "error: --received '2999-01-01' is in the future"
expect_exit 2 steward request new erase --subject "$SUBJECT" --received 9999-12-15
expect_stderr_line "error: --received needs a date such as 2026-01-31, not '9999-12-15'"

# Extension errors.
expect_exit 2 steward request extend "$OLD_ID"
expect_stderr_line 'error: --reason is required: the law asks why'
expect_stderr_line "see 'steward request extend --help'"
expect_exit 2 steward request extend "$OLD_ID" --reason ''
expect_stderr_line 'error: --reason is required: the law asks why'
expect_exit 2 steward request extend "$OLD_ID" --reason "$(printf '%501s' x)"
expect_stderr_line 'error: --reason is limited to 500 characters'
expect_exit 2 steward request extend --reason why
expect_stderr_line 'error: which request? give its id'
expect_exit 4 steward request extend R-20000101-0001 --reason why
expect_stderr_line "error: no request 'R-20000101-0001' (see 'steward request list')"
expect_exit 4 steward request show R-20000101-0001
expect_stderr_line "error: no request 'R-20000101-0001' (see 'steward request list')"
expect_equal false "$(field "$OLD_ID" .extended)" 'the failed extensions changed nothing'

# ---- bad input to request new: nothing is created, the value is never echoed ----
count() { steward request list --json 2>/dev/null | jq length; }
n=$(count)
# bad_new WANT-EXIT WANT-LINE ARGS...
bad_new() {
	local code="$1" line="$2"
	shift 2
	expect_exit "$code" steward request new "$@"
	expect_stderr_line "$line"
	expect_stdout_empty
}
for d in 2026-02-29 2026-13-01 2026-1-01 2026-01-31x 31/01/2026 2026-01-31T00:00 1969-12-31 ''; do
	bad_new 2 "error: --received needs a date such as 2026-01-31, not '$d'" erase --subject "$SUBJECT" --received "$d"
	expect_stderr_line "see 'steward request new --help'"
done
bad_new 2 "error: unknown request kind 'delete' (erase, access or object)" delete --subject "$SUBJECT"
bad_new 2 'error: give one kind: erase, access or object' --subject "$SUBJECT"
bad_new 2 'error: give one kind: erase, access or object' erase access --subject "$SUBJECT"
bad_new 2 "error: unknown regime 'lgpd' (gdpr or ccpa)" erase --subject "$SUBJECT" --regime lgpd
bad_new 2 "error: unknown regime 'GDPR' (gdpr or ccpa)" erase --subject "$SUBJECT" --regime GDPR
bad_new 2 'error: --subject CATEGORY:VALUE is required' erase
bad_new 2 'error: --subject needs CATEGORY:VALUE, e.g. user.unique_id:12345' erase --subject "$CANARY"
bad_new 2 'error: --subject needs CATEGORY:VALUE, e.g. user.unique_id:12345' erase --subject user.contact.email:
bad_new 3 "error: unknown category 'user.contact.emial' (did you mean 'user.contact.email'?)" erase \
	--subject "user.contact.emial:$CANARY"
bad_new 3 'error: the subject is not a valid e-mail address' erase --subject user.contact.email:canary-not-an-email
printf '\n' >"$TMP/empty"
STDIN=$TMP/empty
bad_new 3 'error: no subject on standard input' erase --subject user.contact.email:-
STDIN=
expect_equal "$n" "$(count)" 'no request was created by bad input'

# ---- the raw subject is nowhere: not in the log, not in the workspace ----
expect_exit 0 steward audit log --action request.new --outcome ok --json
expect_jq 'all(.[]; .object | IN("erase", "access", "object"))' 'request.new records the kind as its object'
expect_jq '.[0].counts == {"request": "'"$TODAY_ID"'", "pseudonym": "'"$PSEUDONYM"'"}' \
	'request.new records the id and the pseudonym'
expect_exit 0 steward audit log --action request.extend --json
expect_jq '[.[] | select(.outcome == "ok") | .object] == ["'"$TODAY_ID"'", "'"$CCPA_ID"'"]' \
	'request.extend records the request id'
check 'the raw subject is nowhere in the workspace (databases and -wal files included)' \
	sh -c "! grep -rqai -e '$CANARY' -e 'canary-not-an-email' '$WS'"
check 'the databases were searched' test -s "$WS/.steward/audit.db"

done_testing
