#!/bin/sh
# A dataset's detect: settings (issue 15): its threshold decides which findings in free text
# ingest replaces; its regions, and each record's country field, the regions a national phone
# number is tried in with libphonenumber (the real module); the card shows them; pii scan and
# --explain apply them; bad settings fail the load with file:line:col.
. "$(dirname "$0")/lib.sh"
init_ws
expect_exit 0 steward key init
cd "$TMP" || exit 99

cat >ds.yaml <<'YAML'
kind: event
name: d.plain
fields:
  - {name: id, type: int64, pii: none}
  - {name: note, type: string, pii: none, scan: true}
---
kind: event
name: d.low
detect: {threshold: 40}
fields:
  - {name: id, type: int64, pii: none}
  - {name: note, type: string, pii: none, scan: true}
---
kind: event
name: d.high
detect: {threshold: 070}
fields:
  - {name: id, type: int64, pii: none}
  - {name: note, type: string, pii: none, scan: true}
---
kind: event
name: d.at
detect:
  regions: [de_AT, it]
fields:
  - {name: id, type: int64, pii: none}
  - {name: note, type: string, pii: none, scan: true}
---
kind: event
name: d.country
detect: {country_field: address.country}
fields:
  - {name: id, type: int64, pii: none}
  - {name: note, type: string, pii: none, scan: true}
  - name: address
    type: object
    pii: none
    fields:
      - {name: country, type: string, pii: none}
---
kind: table
name: d.csv
detect: {country_field: country}
fields:
  - {name: id, type: int64, pii: none}
  - {name: country, type: string, pii: none}
  - {name: note, type: string, pii: none, scan: true}
YAML
expect_exit 0 steward catalog load ds.yaml

# ---- the threshold: the same text, replaced under a low threshold, left under a high one ----
# "123 45 6789" is an SSN's shape without a context word (score 60); the e-mail address
# scores 95.
printf '%s\n' '{"id":1,"note":"mail ann@example.com, number 123 45 6789"}' >ssn.jsonl
expect_exit_stdin 0 ssn.jsonl steward ingest d.low
expect_jq '.note | test("^mail <email:k1:[A-Za-z0-9_-]{24}>, number <ssn:k1:[A-Za-z0-9_-]{24}>$")' \
	'threshold 40: both replaced'
expect_exit_stdin 0 ssn.jsonl steward ingest d.plain
expect_jq '.note | test("^mail <email:k1:[A-Za-z0-9_-]{24}>, number <ssn:k1:[A-Za-z0-9_-]{24}>$")' \
	'the default threshold (50): both replaced'
expect_exit_stdin 0 ssn.jsonl steward ingest d.high
expect_jq '.note | test("^mail <email:k1:[A-Za-z0-9_-]{24}>, number 123 45 6789$")' \
	'threshold 70: the e-mail address replaced, the number under it left'

# ---- regions: a national number valid only in a declared region ----
# 0660 is an Austrian mobile range: libphonenumber finds 06601234567 valid in AT, and only of
# a possible length in the default regions (DE), which is not enough for a bare number.
# 320 123 4568 is an Italian mobile number, not one of the default regions'.
printf '%s\n' '{"id":1,"note":"ruf an 06601234567 danke"}' \
	'{"id":2,"note":"tel 3201234568"}' >national.jsonl
expect_exit_stdin 0 national.jsonl steward ingest d.plain
jq -sc . "$OUT" >all.json
expect_jq '[.[].note]' '["ruf an 06601234567 danke","tel 3201234568"]' all.json
expect_exit_stdin 0 national.jsonl steward ingest d.at
jq -sc . "$OUT" >all.json
expect_jq '.[0].note | test("^ruf an <phone:k1:[A-Za-z0-9_-]{24}> danke$")' 'regions [de_AT]: found' all.json
expect_jq '.[1].note | test("^tel <phone:k1:[A-Za-z0-9_-]{24}>$")' 'regions [it]: found' all.json

# ---- the record's country field: the region of that record only ----
cat >country.jsonl <<'EOF'
{"id":1,"note":"ruf an 06601234567 danke","address":{"country":"AT"}}
{"id":2,"note":"ruf an 06601234567 danke","address":{"country":"FR"}}
{"id":3,"note":"ruf an 06601234567 danke","address":{"country":"de-at"}}
{"id":4,"note":"ruf an 06601234567 danke"}
{"id":5,"note":"ruf an 06601234567 danke","address":{"country":"A\u0054"}}
{"id":6,"note":"ruf an 06601234567 danke","address":{"country":"Austria"}}
{"id":7,"note":"tel 3201234568","address":{"country":"it_IT.UTF-8"}}
{"id":8,"note":"tel 3201234568","address":{"country":"AT"}}
EOF
expect_exit_stdin 0 country.jsonl steward ingest d.country
jq -sc . "$OUT" >all.json
expect_jq '[.[] | .note | test("<phone:k1:")]' '[true,false,true,false,true,false,true,false]' all.json
expect_jq '.[0].note | test("^ruf an <phone:k1:[A-Za-z0-9_-]{24}> danke$")' 'the whole number replaced' all.json
# CSV: the country column.
printf '%s\r\n' 'id,country,note' '1,AT,Telefon 06601234567' '2,FR,Telefon 06601234567' >country.csv
expect_exit_stdin 0 country.csv steward ingest d.csv --format csv
expect_stdout_contains '1,AT,Telefon <phone:k1:'
expect_stdout_contains '2,FR,Telefon 06601234567'

# ---- pii scan applies the same settings ----
expect_exit 0 steward pii scan country.jsonl --dataset d.country --json
expect_jq '.fields[] | select(.path == "note") | .hits.phone.values' '4'
expect_exit 0 steward pii scan ssn.jsonl --dataset d.high --json
expect_jq '.fields[] | select(.path == "note") | .hits | keys' '["email"]'
# --explain with --dataset: its threshold decides what is replaced, its regions what is found.
printf '%s\n' 'number 123 45 6789' 'ruf an 06601234567' >free.txt
expect_exit 0 steward pii scan --explain free.txt
expect_stdout_line 'line 1: ssn at bytes 7-18, score 60: pattern'
expect_stdout_lacks 'line 2:' 'no region of the defaults takes the number'
expect_exit 0 steward pii scan --explain free.txt --dataset d.high
expect_stdout_line 'line 1: ssn at bytes 7-18, score 60 (under the threshold, kept): pattern'
expect_exit 0 steward pii scan --explain free.txt --dataset d.at --json
expect_stdout_line '{"line":2,"findings":[{"type":"phone","start":7,"end":18,"score":60,"replaced":true,"evidence":["pattern","libphonenumber"]}]}'
expect_exit 4 steward pii scan --explain free.txt --dataset d.none
expect_stderr_line "error: no dataset 'd.none' in the catalog"
expect_exit 2 steward pii scan --explain free.txt --sample 3
expect_stderr_line 'error: --explain reads a file of free text, without --sample, --dsn-file or --dsn-env'
check 'no value is printed' sh -c "! grep -q -e '6789' -e '1234567' '$OUT'"

# ---- the card ----
expect_exit 0 steward show d.country
expect_stdout_line "  detect        threshold 50 (default); phone regions US,GB,DE,FR,MX,BR,KR,JP; each record's country from address.country"
expect_exit 0 steward show d.at
expect_stdout_line '  detect        threshold 50 (default); phone regions AT,IT and the default US,GB,DE,FR,MX,BR,KR,JP'
expect_exit 0 steward show d.high --json
expect_jq '.detect' '{"threshold":70,"threshold_declared":true,"regions":[],"phone_regions":["US","GB","DE","FR","MX","BR","KR","JP"],"country_field":null}'
expect_exit 0 steward show d.at --json
expect_jq '.detect.regions, .detect.phone_regions' '["AT","IT"] ["AT","IT","US","GB","DE","FR","MX","BR","KR","JP"]'
expect_jq '.properties == null' 'the settings are not listed again as properties'

# ---- bad settings: the load fails, located, and the catalog keeps what it had ----
bad() { # bad NAME DETECT-YAML: a descriptor bad/NAME.yaml with that detect: key
	mkdir -p bad
	printf 'kind: event\nname: e.%s\ndetect: %s\nfields:\n  - {name: id, type: int64, pii: none}\n  - {name: note, type: string, pii: none, scan: true}\n  - {name: items, type: array, pii: none, items: {type: object, fields: [{name: cc, type: string, pii: none}]}}\n' \
		"$1" "$2" >"bad/$1.yaml"
}
bad zero '{threshold: 0}'
bad big '{threshold: 101}'
bad word '{threshold: high}'
bad float '{threshold: 50.5}'
bad typo '{treshold: 60}'
bad uk '{regions: [AT, UK]}'
bad xy '{regions: [XY]}'
bad name '{regions: [Austria]}'
bad scalar '{regions: AT}'
bad twice '{regions: [AT, AT]}'
bad many "{regions: [$(python3 -c "print(', '.join(['AT'] + ['A%s' % c for c in 'DEFGILMOQRSUWXZ'] + ['B%s' % c for c in 'ABDEFGHIJLMNOQRST']))")]}"
bad missing '{country_field: address.country}'
bad inarray '{country_field: items.cc}'
bad int '{country_field: id}'
for f in zero:3:21 big:3:21 word:3:21 float:3:21 typo:3:10 uk:3:24 xy:3:20 name:3:20 \
	scalar:3:19 twice:3:24 many:3:19 missing:3:25 inarray:3:25 int:3:25; do
	name=${f%%:*} at=${f#*:}
	case $name in
	zero) msg="'threshold' must be at least 1" ;;
	big) msg="'threshold' must be at most 100" ;;
	word | float) msg="'threshold' must be an integer" ;;
	typo) msg="unknown key 'treshold' (did you mean 'threshold'?)" ;;
	uk) msg="unknown region 'UK' (did you mean 'GB'?)" ;;
	xy) msg="unknown region 'XY' (not an ISO 3166 alpha-2 code)" ;;
	name) msg="invalid region 'Austria' (expected an ISO 3166 alpha-2 code such as AT, or a locale such as de_AT)" ;;
	scalar) msg="'regions' must be a list" ;;
	twice) msg="'regions' lists 'AT' twice" ;;
	many) msg="'regions' lists more than 32 regions" ;;
	missing) msg="detect country_field 'address.country' is not a field of 'e.missing'" ;;
	inarray) msg="detect country_field 'items.cc' lies in the array 'items'; it needs one value per record" ;;
	int) msg="detect country_field 'id' is of type int64, not string" ;;
	esac
	echo "bad/$name.yaml:$at: error: $msg"
done >bad.txt
# One load of them all: every problem is reported, each once, and nothing is loaded.
expect_exit 3 steward catalog load bad
while IFS= read -r line; do
	expect_stderr_line "$line"
done <bad.txt
expect_stderr_line 'error: 14 errors found; the catalog was not changed'
expect_count 15 '' "$ERR" 'no other diagnostics'
expect_exit 4 steward show e.zero

# ---- the workspace's country (pii.default_country) is tried after a dataset's regions ----
write_config <<'EOF'
pii:
  default_country: AT
EOF
expect_exit_stdin 0 national.jsonl steward ingest d.plain
jq -sc . "$OUT" >all.json
expect_jq '[.[] | .note | test("^(ruf an|tel) <phone:k1:[A-Za-z0-9_-]{24}>( danke)?$")]' '[true,false]' all.json
expect_exit 0 steward pii scan national.jsonl --dataset d.plain --json
expect_jq '.fields[] | select(.path == "note") | .hits.phone.values' '1'

done_testing
