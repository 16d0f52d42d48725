#!/bin/sh
# No control character from a value reaches a terminal: arguments echoed in errors, values
# read back from the catalog and the audit log, and `catalog load` diagnostics quoting a
# YAML key are printed with C0 controls, DEL, C1 controls, invalid UTF-8 and text-reordering
# characters escaped (\n, \a, \x1b, \x7f, \xff, \u009b, \u202e: docs/cli.md, "Output").
# JSON output stays valid JSON and escapes the same characters as \u00XX. The monthly report
# in its four formats shows a request's extension reason with the same escapes.
. "$(dirname "$0")/lib.sh"
require python3
init_ws
cd "$TMP" || exit 99

# clean FILE: FILE holds valid UTF-8 with no control character but newline, no DEL, no C1
# control and no U+202E.
clean() {
	python3 -c '
import sys, unicodedata
b = open(sys.argv[1], "rb").read()
t = b.decode("utf-8")
bad = [hex(ord(c)) for c in t
       if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f or c == "\u202e"]
sys.exit(1 if bad else 0)' "$1"
}

esc=$(printf '\033')
bel=$(printf '\007')
nl='
'
# ---- errors that echo an argument ----
expect_exit 2 steward "x${esc}[31m"
expect_stderr_line "error: 'x\\x1b[31m' is not a steward command"
check 'the unknown-command error is clean' clean "$ERR"
expect_exit 2 steward pii "a${esc}]0;t${bel}"
expect_stderr_line "error: 'a\\x1b]0;t\\a' is not a 'steward pii' command"
expect_exit 4 steward show "$(printf 'd\177e\302\233f')"
expect_stderr_line "error: no dataset 'd\\x7fe\\u009bf' in the catalog"
run steward show "n1${nl}n2" # (not expect_exit: the newline would split its TAP line)
expect_equal 4 "$RC" 'exit 4: show NAME with a newline in NAME'
expect_stderr_line "error: no dataset 'n1\\nn2' in the catalog"
expect_count 1 '' "$ERR" 'one line on stderr for a newline in the argument'
expect_exit 4 steward show "$(printf 'g\377h\342\200\256i')"
expect_stderr_line "error: no dataset 'g\\xffh\\u202ei' in the catalog"
check 'the error is clean' clean "$ERR"
expect_exit 2 steward search x --limit "1${esc}[2J"
expect_stderr_line "error: --limit needs a positive number, not '1\\x1b[2J'"

# ---- catalog load quoting YAML keys ----
printf 'kind: table\nname: esc.keys\nowner: o\n"bad\\nkey": 1\n"e\\e[31m": 2\n"b\\a": 3\ncolumns:\n  - {name: id, type: int64, pii: none}\n' >keys.yaml
expect_exit 3 steward catalog load keys.yaml
expect_stderr_line "keys.yaml:4:1: error: unknown key 'bad\\nkey'"
expect_stderr_line "keys.yaml:5:1: error: unknown key 'e\\x1b[31m'"
expect_stderr_line "keys.yaml:6:1: error: unknown key 'b\\a'"
check 'the load diagnostics are clean' clean "$ERR"

# ---- values read back from storage ----
printf 'kind: table\nname: esc.demo\nowner: "o\\e[2J"\ndescription: "a\\x7fb\\x9bc\\e[31md\\u202ee"\ncolumns:\n  - {name: id, type: int64, pii: none}\n' >demo.yaml
expect_exit 0 steward catalog load demo.yaml
expect_exit 0 steward show esc.demo
expect_stdout_line '  a\x7fb\u009bc\x1b[31md\u202ee'
expect_stdout_line '  owner         o\x1b[2J'
check 'show is clean' clean "$OUT"
expect_exit 0 steward show esc.demo --json
expect_stdout_line '  "description": "a\u007fb\u009bc\u001B[31md\u202ee",'
check 'show --json is clean' clean "$OUT"
check 'show --json is valid JSON' python3 -m json.tool "$OUT"
expect_exit 0 steward search demo
expect_stdout_contains 'esc.demo  table  a\x7fb\u009bc\x1b[31md\u202ee'
check 'search is clean' clean "$OUT"

# ---- the monthly report, written to files: the same escapes ----
expect_exit 0 steward key init
expect_exit 0 steward request new erase --subject user.unique_id:42
rid=$(cat "$OUT")
expect_exit 0 steward request extend "$rid" --reason "$(printf 'r\033[2Js\342\200\256t\302\233u')"
period=$(date -u +%Y-%m)
for f in md html json csv; do
	expect_exit 0 steward report --period "$period" --format "$f" --output "report.$f"
	tr -d '\r' <"report.$f" >"report.$f.lf" # CSV lines end in CRLF
	check "report --format $f is clean" clean "report.$f.lf"
	check "report --format $f shows the reason's ESC escaped" grep -qF 'x1b' "report.$f"
	check "report --format $f shows U+202E and U+009B escaped" grep -qF 'u202et' "report.$f"
done
check 'report --format json is valid JSON' python3 -m json.tool report.json

# ---- the audit log ----
expect_exit 0 steward audit log --action catalog.show
expect_stdout_contains "catalog.show      error   n1\\nn2  reason: no dataset 'n1\\nn2' in the catalog"
expect_stdout_contains "error   d\\x7fe\\u009bf  reason:"
expect_stdout_contains "error   g\\xffh\\u202ei  reason:"
check 'audit log is clean' clean "$OUT"
expect_exit 0 steward audit log --json
check 'audit log --json is clean' clean "$OUT"
check 'audit log --json is valid JSON, every record included' python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))
objs = [r["object"] for r in rows]
assert "g\\xffh\\u202ei" in objs, objs
assert len(rows) == rows[-1]["seq"], len(rows)' "$OUT"
done_testing
