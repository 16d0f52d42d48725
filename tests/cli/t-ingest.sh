#!/bin/sh
# steward ingest on JSON lines: validation, every transform, scanning, rejects with reasons,
# reconciled counts, threads, and the refusal to start when PII has no transform.
. "$(dirname "$0")/lib.sh"
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$FIXTURES/ingest/people.yaml"
cd "$TMP" || exit 99

# ---- the plan is refused while PII has no transform, listing every field ----
expect_exit 3 steward ingest t.untagged
expect_stderr_line "error: t.untagged: field 'email' is direct but declares no transform"
expect_stderr_line "error: t.untagged: field 'phone' is direct but declares no transform"
expect_stderr_line "error: t.untagged: field 'note' has scan: true but is a int, not a string"
expect_stderr_contains 'error: 3 fields hold personal data without a transform'
expect_exit 4 steward ingest t.nothing
expect_exit 4 steward ingest 'nope.*'
expect_stderr_line "error: no datasets match 'nope.*'"

# ---- every transform on one good record ----
printf '%s\n' '{"id":42,"email":" Ann@Example.COM","small":7,"score":null,"ok":true,"born":"1990-04-02","card":"4111111111111111","secret":"hunter2","ip":"203.0.113.77","note":"mail ann@example.com or call +82 10-1234-5678","tags":["a","b"],"home":{"city":"Seoul","lat":37.566535}}' >good.jsonl
expect_exit_stdin 0 good.jsonl steward ingest t.person --rejects rej.jsonl
id=$(jq -r .id "$OUT")
email=$(jq -r .email "$OUT")
expect_exit 0 steward pii hash --purpose test --category user.unique_id 42
expect_equal "$(cat "$OUT")" "$id" 'id: the pseudonym pii hash gives'
expect_exit 0 steward pii hash --purpose test --category user.contact.email ann@example.com
expect_equal "$(cat "$OUT")" "$email" 'email: hashed after normalization'
expect_exit_stdin 0 good.jsonl steward ingest t.person --rejects rej.jsonl
expect_jq '.born == "1990" and .card == "************1111" and (has("secret") | not)' 'truncate, mask, drop'
expect_jq '.ip == "203.0.113.0/24" and .home.lat == "37.56" and .home.city == "Seoul"' 'ip and coordinates truncated'
expect_jq '.score == null and .ok == true and .small == 7 and .tags == ["a","b"]' 'other values untouched'
expect_jq '.note | test("^mail <email:k1:[A-Za-z0-9_-]{24}> or call <phone:k1:[A-Za-z0-9_-]{24}>$")' 'free text scanned'
expect_jq 'keys_unsorted == ["id","email","small","score","ok","born","card","ip","note","tags","home"]' 'field order kept'
expect_stderr_contains 'ingest t.person: 1 records in, 1 out, 0 rejected'
expect_equal 600 "$(stat -c %a rej.jsonl)" 'the rejects file is mode 0600'

# \u escapes are decoded before normalizing: one address, one pseudonym.
printf '%s\n' '{"id":42,"email":"ann@example.com"}' '{"id":42,"email":"\u0041nn@Example.com"}' >esc.jsonl
expect_exit_stdin 0 esc.jsonl steward ingest t.person
expect_equal 1 "$(jq -r .email "$OUT" | sort -u | wc -l)" 'escaped and plain spellings hash alike'
expect_equal "$email" "$(jq -r .email "$OUT" | head -n 1)" 'and match the first record'

# ---- one reject per reason, with line numbers; counts reconcile ----
cat >bad.jsonl <<'JSONL'
{"id":1}
{"id":1,"id":2}
{"id":1,"\u0069d":2}
{"id":1,"extra":true}
{"email":"a@b.com"}
{"id":"1"}
{"id":9223372036854775808}
{"id":1,"small":2147483648}
{"id":1,"ok":null}
{"id":1,"born":"1990-13-01"}
{"id":1,"email":"not-an-address"}
{"id":1,"home":[]}
{"id":1,"tags":[1]}
[1,2]
{"id":1
{"id":1,"note":"\ud800"}
JSONL
printf '\357\273\277{"id":1}\n' >>bad.jsonl
printf '{"id":1,"note":"\377"}\n' >>bad.jsonl
printf '\n   \n{"id":2}\r\n{"id":3}' >>bad.jsonl
expect_exit_stdin 1 bad.jsonl steward ingest t.person --rejects rej.jsonl
expect_stderr_contains 'ingest t.person: 20 records in, 3 out, 17 rejected'
expect_count 3 '' "$OUT" 'three records pass (lines 1, 21, 22; 19 and 20 are blank)'
expect_count 17 '' rej.jsonl 'seventeen rejects'
check 'each reject has line, code, reason and the record' \
	jq -e -s 'all(.[]; has("line") and has("code") and has("reason") and (has("record") or has("record_base64")))' rej.jsonl
expect_equal '2 duplicate-key
3 duplicate-key
4 unknown-field
5 missing-field
6 wrong-type
7 out-of-range
8 out-of-range
9 null-not-allowed
10 invalid-value
11 invalid-value
12 wrong-type
13 wrong-type
14 not-an-object
15 malformed-json
16 invalid-escape
17 malformed-json
18 invalid-utf8' "$(jq -r '"\(.line) \(.code)"' rej.jsonl)" 'line numbers and reasons'
check 'invalid UTF-8 is kept byte for byte, as base64' \
	sh -c "jq -r 'select(.line == 18) | .record_base64' rej.jsonl | base64 -d | od -An -c | grep -q '377'"
check 'the BOM line is rejected as is' sh -c "jq -r 'select(.line == 17) | .reason' rej.jsonl | grep -q 'byte order mark'"

# Unknown fields dropped instead, on request.
printf '%s\n' '{"id":1,"extra":{"deep":[1]},"email":"a@b.com"}' >unknown.jsonl
expect_exit_stdin 0 unknown.jsonl steward ingest t.person --unknown drop
expect_jq 'has("extra") | not' '--unknown drop removes the field'

# A record over the limit is streamed to the rejects file, not held in memory.
python3 -c 'print("{\"id\":1,\"note\":\"" + "x" * 5000 + "\"}"); print("{\"id\":7}")' >long.jsonl
expect_exit_stdin 1 long.jsonl steward ingest t.person --max-record 1000 --rejects rej.jsonl
expect_count 1 '' "$OUT" 'the short record passes'
head -n 1 long.jsonl | tr -d '\n' >long1
jq -r .record_base64 rej.jsonl | base64 -d >long2
test_cmp long1 long2 'the long one is quarantined whole, byte for byte'
expect_equal 1 "$(jq -r .line rej.jsonl)" 'with its line number'

# The limit and the unknown-field policy can come from steward.yaml.
printf 'version: 1\ningest:\n  max_record_bytes: 1000\n  unknown_fields: drop\n' | write_config
expect_exit_stdin 1 long.jsonl steward ingest t.person --rejects rej.jsonl
expect_equal 'too-long' "$(jq -r .code rej.jsonl)" 'ingest.max_record_bytes applies'
expect_exit_stdin 0 unknown.jsonl steward ingest t.person
expect_jq 'has("extra") | not' 'ingest.unknown_fields: drop applies'
printf 'version: 1\ningest:\n  max_record_bytes: lots\n' | write_config
expect_exit_stdin 2 long.jsonl steward ingest t.person
expect_stderr_line "error: ingest.max_record_bytes in steward.yaml needs a positive number, not 'lots'"
printf 'version: 1\n' | write_config

# ---- the sample event stream ----
expect_exit 0 steward catalog load "$CORPUS"
python3 "$STEWARD_SHARED/corpus/gen_events.py" --count 20000 --bad-rate 0.01 >events.jsonl
expect_exit_stdin 1 events.jsonl steward ingest 'events.*' --rejects events-rej.jsonl
cp "$OUT" events-out.jsonl
in=$(sed -n 's/^ingest events\.\*: \([0-9]*\) records in, \([0-9]*\) out, \([0-9]*\) rejected.*/\1 \2 \3/p' "$ERR")
set -- $in
expect_equal 20000 "$1" 'all 20000 lines counted'
expect_equal "$1" "$(($2 + $3))" 'in = out + rejected'
expect_equal "$2" "$(wc -l <events-out.jsonl)" 'out matches the output'
expect_equal "$3" "$(wc -l <events-rej.jsonl)" 'rejected matches the quarantine'
check 'no input email, phone, IP, name, card or address in the output' python3 - events.jsonl events-out.jsonl <<'PY'
import json, sys
raw = set()
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        e = json.loads(line)
    except (ValueError, RecursionError):
        continue
    if not isinstance(e, dict):
        continue
    for k in ("email", "phone", "full_name"):
        if isinstance(e.get(k), str):
            raw.add(e[k].strip())
    if isinstance(e.get("context"), dict):
        raw.add(e["context"].get("ip"))
    p = e.get("payment")
    if isinstance(p, dict):
        raw.update([p.get("card_number"), p.get("card_holder"), p.get("billing_address")])
values, free = set(), []
def collect(x):
    if isinstance(x, dict):
        for v in x.values():
            collect(v)
    elif isinstance(x, list):
        for v in x:
            collect(v)
    else:
        values.add(str(x))
for line in open(sys.argv[2], encoding="utf-8"):
    e = json.loads(line)
    collect(e)
    free.extend(str(e.get(k)) for k in ("query", "note"))
free = "\n".join(free)
leaked = [v for v in raw if isinstance(v, str) and v and (v in values or v in free)]
sys.exit(1 if leaked or len(raw) < 1000 else 0)
PY
check 'cards masked, billing dropped, birth dates cut to the year' python3 - events-out.jsonl <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    p = e.get("payment")
    if p and (not p["card_number"].startswith("*") or "billing_address" in p):
        sys.exit(1)
    if "birth_date" in e and len(e["birth_date"]) != 4:
        sys.exit(1)
PY
check 'the same user id always gives the same pseudonym' python3 - events.jsonl events-out.jsonl <<'PY'
import json, sys
out = {}
for line in open(sys.argv[2]):
    e = json.loads(line)
    out[e["event_id"]] = e["user_id"]
seen = {}
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        e = json.loads(line)
    except (ValueError, RecursionError):
        continue
    if isinstance(e, dict) and e.get("event_id") in out:
        if seen.setdefault(e["user_id"], out[e["event_id"]]) != out[e["event_id"]]:
            sys.exit(1)
sys.exit(0 if len(seen) > 1000 else 1)
PY
expect_exit_stdin 1 events.jsonl steward ingest 'events.*' --threads 2 --rejects events-rej2.jsonl
test_cmp events-out.jsonl "$OUT" '--threads 2 writes the same output in the same order'
test_cmp events-rej.jsonl events-rej2.jsonl '--threads 2 writes the same rejects'

expect_exit 2 steward ingest 'events.*' --format xml
expect_stderr_line "error: unknown format 'xml' (jsonl or csv)"
expect_exit_stdin 2 /dev/null steward ingest 'events.*' --rejects /dev/stdout
expect_stderr_line "error: rejects file '/dev/stdout' is a symbolic link; give a regular file"

done_testing
