#!/bin/sh
# Three holes public test suites found in what ingest accepts, each rejected now with its
# code: a CSV field with invalid UTF-8 (as the JSON reader rejects it), a float or decimal
# beyond a double's range (1e400), and a duplicate key inside an unknown object dropped under
# --unknown drop. The good records beside them still pass.
. "$(dirname "$0")/lib.sh"
init_ws
expect_exit 0 steward key init
cd "$TMP" || exit 99
cat >holes.yaml <<'EOF'
kind: table
name: t.holes
fields:
  - {name: id, type: int64, pii: none}
  - {name: note, type: string, nullable: true, pii: none}
  - {name: amount, type: float, nullable: true, pii: none}
  - {name: price, type: decimal, nullable: true, pii: none}
  - {name: email, type: string, nullable: true, pii: direct, category: user.contact.email, transform: hash}
  - name: home
    type: object
    nullable: true
    pii: none
    fields:
      - {name: city, type: string, pii: none}
EOF
expect_exit 0 steward catalog load holes.yaml
codes() { jq -r '"\(.line) \(.code) \(.reason)"' "$1"; }

# ---- CSV: invalid UTF-8 is rejected as invalid-utf8, in a kept or a dropped column ----
printf 'id,note\r\n1,ok\r\n2,\377\r\n3,"caf\303"\r\n4,caf\303\251\r\n' >utf8.csv
expect_exit_stdin 1 utf8.csv steward ingest t.holes --format csv --rejects rej.jsonl
expect_stderr_contains 'ingest t.holes: 4 records in, 2 out, 2 rejected'
expect_stderr_line '  invalid-utf8       2'
expect_equal "3 invalid-utf8 invalid UTF-8 in field 'note'
4 invalid-utf8 invalid UTF-8 in field 'note'" "$(codes rej.jsonl)" 'csv: the bad rows, by line'
check_not 'csv: the raw byte is not written out' grep -q "$(printf '\377')" "$OUT"
check 'csv: the rejected row is kept whole, in base64' jq -s -e '.[0].record_base64 != null' rej.jsonl
expect_equal 'id,note
1,ok
4,café' "$(tr -d '\r' <"$OUT")" 'csv: good rows, valid UTF-8 kept'
# A column that is dropped (not in the schema, --unknown drop) is checked too.
printf 'id,extra\r\n1,\377\r\n2,fine\r\n' >drop.csv
expect_exit_stdin 1 drop.csv steward ingest t.holes --format csv --unknown drop --rejects rej.jsonl
expect_equal '2 invalid-utf8 invalid UTF-8 in column 2' "$(codes rej.jsonl)" 'csv: a dropped column with invalid UTF-8'
# The header itself.
printf 'id,n\377te\r\n1,x\r\n' >head.csv
expect_exit_stdin 3 head.csv steward ingest t.holes --format csv
expect_stderr_line 'error: cannot read the CSV header: invalid UTF-8'
# The JSON reader, for comparison: the same byte, the same code.
printf '{"id":1,"note":"\377"}\n' >utf8.jsonl
expect_exit_stdin 1 utf8.jsonl steward ingest t.holes --rejects rej.jsonl
expect_equal 'invalid-utf8' "$(jq -r .code rej.jsonl)" 'json: the same code'

# ---- numbers beyond a double: out-of-range, on float and decimal, JSON and CSV ----
printf '%s\n' '{"id":1,"amount":1e400}' '{"id":2,"price":-1E+400}' '{"id":3,"amount":1e308,"price":0.1}' \
	'{"id":4,"amount":1e-400}' '{"id":5,"price":1797693134862315807937289714053034150799341327710910000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000.0}' >big.jsonl
expect_exit_stdin 1 big.jsonl steward ingest t.holes --rejects rej.jsonl
expect_stderr_contains 'ingest t.holes: 5 records in, 2 out, 3 rejected'
expect_equal "1 out-of-range field 'amount' is out of range
2 out-of-range field 'price' is out of range
5 out-of-range field 'price' is out of range" "$(codes rej.jsonl)" 'json: 1e400, -1E+400 and a 310-digit decimal are out of range'
check 'json: 1e308 passes unchanged' grep -q '"amount":1e308,' "$OUT"
check 'json: 1e-400 (it only underflows) passes unchanged' grep -q '"amount":1e-400}' "$OUT"
printf 'id,amount,price\r\n1,1e400,\r\n2,,2e999\r\n3,1.5,2.25\r\n' >big.csv
expect_exit_stdin 1 big.csv steward ingest t.holes --format csv --rejects rej.jsonl
expect_equal "2 out-of-range field 'amount' is out of range
3 out-of-range field 'price' is out of range" "$(codes rej.jsonl)" 'csv: the same'
expect_equal '3,1.5,2.25' "$(tail -n 1 "$OUT" | tr -d '\r')" 'csv: a good row passes'

# ---- --unknown drop: a duplicate key inside a dropped object is still a duplicate key ----
printf '%s\n' '{"id":1,"x":{"a":1,"a":2}}' '{"id":2,"x":[{"b":{"c":1,"\u0063":2}}]}' \
	'{"id":3,"x":{"a":1,"b":{"a":2}}}' '{"id":4,"home":{"city":"Seoul","y":{"k":1,"k":1}}}' \
	'{"id":5,"x":{"a":1},"x":{"a":1}}' >dup.jsonl
python3 -c 'import json; print(json.dumps({"id": 6, "x": {("k%d" % i): i for i in range(5000)} | {"k4999": 0}}, separators=(",", ":")).replace("\"k4999\":4999,", ""))' >>dup.jsonl
python3 -c 'import json; d = {("k%d" % i): i for i in range(5000)}; print("{\"id\":7,\"x\":" + json.dumps(d, separators=(",", ":"))[:-1] + ",\"k17\":1}}")' >>dup.jsonl
expect_exit_stdin 1 dup.jsonl steward ingest t.holes --unknown drop --rejects rej.jsonl
expect_equal "1 duplicate-key duplicate key in 'the record'
2 duplicate-key duplicate key in 'the record'
4 duplicate-key duplicate key in 'home'
5 duplicate-key duplicate key in 'the record'
7 duplicate-key duplicate key in 'the record'" "$(codes rej.jsonl)" 'drop: duplicates inside dropped values, escaped, nested and among many keys'
expect_equal '3 6' "$(jq -r .id "$OUT" | tr '\n' ' ' | sed 's/ $//')" 'drop: the same key at different levels, and many distinct keys, pass'
expect_jq 'has("x") | not' 'drop: the unknown field is dropped'

done_testing
