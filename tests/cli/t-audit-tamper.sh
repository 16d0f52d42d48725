#!/bin/sh
# steward audit verify against a log edited behind steward's back with the sqlite3 CLI: a
# changed field, a deleted record, swapped records, a forged checkpoint, a chain recomputed
# after an edit (tests/helpers/audit_chain.py reimplements the documented hash encoding and
# must reproduce every stored hash), a log cut short or replaced (caught only with an
# exported anchor), anchors from another workspace, --json, and the exit 2 errors.
. "$(dirname "$0")/lib.sh"
require sqlite3 python3 jq
CHAIN=$STEWARD_SRC/tests/helpers/audit_chain.py

# ---- a base workspace with a known log: 8 records, a signed checkpoint at seq 6 ----
init_ws                                                   # 1 workspace.init
expect_exit 0 steward key init                            # 2 key.init
expect_exit 0 steward catalog load "$FIXTURES/ingest/people.yaml"   # 3 catalog.load
expect_exit 0 steward search person                       # 4 catalog.search
expect_exit 0 steward show t.person                       # 5 catalog.show
expect_exit 0 steward pii hash --purpose 'ticket 1' --category user.name x   # 6 pii.hash, signed
expect_exit 4 steward show no.such                        # 7 catalog.show, error
expect_exit 0 steward audit log --limit 1                 # 8 audit.log, with counts
BASE=$TMP/base
mv "$WS" "$BASE"

q() { sqlite3 "$WS/.steward/audit.db" "$@"; }
# use NAME: WS becomes a fresh copy of the base workspace.
use() {
	WS=$TMP/$1
	cp -a "$BASE" "$WS"
}

use plain
expect_equal '1|2|3|4|5|6|7|8' "$(q "SELECT group_concat(seq, '|') FROM (SELECT seq FROM records ORDER BY seq)")" \
	'the base log has records 1 to 8'
expect_equal 6 "$(q 'SELECT group_concat(seq) FROM checkpoints')" \
	'the pii.hash record (seq 6) ended in the only checkpoint'
expect_equal 'catalog.show|error|1' \
	"$(q "SELECT action, outcome, reason IS NOT NULL FROM records WHERE seq = 7")" \
	'seq 7 is the failed show, with a reason'

# ---- the documented encoding reproduces every stored hash ----
run python3 "$CHAIN" check "$BASE/.steward/audit.db"
expect_equal '0: 8 records match' "$RC: $(cat "$OUT")" \
	'audit_chain.py recomputes all 8 hashes exactly (NULLs, counts, purpose, reason)'

expect_exit 0 steward audit verify
expect_stdout_line 'audit log intact: 8 records, 1 checkpoints verified'
expect_stdout_contains 'head checkpoint: seq 6, '
expect_stdout_line 'no anchor given: a log cut short or re-signed by someone with the key is caught only with --anchor'
expect_stderr_empty
run python3 "$CHAIN" check "$WS/.steward/audit.db"
expect_equal '0: 9 records match' "$RC: $(cat "$OUT")" \
	'the verify record (seq 9, with counts) hashes as documented too'

# ---- (a) a changed field in a record ----
use changed-actor
q "UPDATE records SET actor = 'mallory' WHERE seq = 3"
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 3: record 3 was changed'
expect_stdout_lacks 'intact'
# The finding itself is recorded, chained after the damage.
expect_exit 0 steward audit log --action audit.verify --json
expect_jq '.[-1].outcome == "ok" and .[-1].counts == {"bad_seq": 3}' \
	'the verify that found it is in the log with bad_seq 3'
run python3 "$CHAIN" check "$WS/.steward/audit.db"
expect_equal 1 "$RC" 'audit_chain.py sees the change too'

use changed-counts
q "UPDATE records SET counts = '{\"records\":0}' WHERE seq = 8"
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 8: record 8 was changed'

use changed-outcome
q "UPDATE records SET outcome = 'ok', reason = NULL WHERE seq = 7"
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 7: record 7 was changed'

use changed-purpose
q "UPDATE records SET purpose = 'ticket 2' WHERE seq = 6"
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 6: record 6 was changed'

use changed-time
q "UPDATE records SET ts_ms = ts_ms + 1 WHERE seq = 2"
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 2: record 2 was changed'

use changed-pii
q "UPDATE records SET pii = 0 WHERE seq = 6"
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 6: record 6 was changed'

use changed-two
q "UPDATE records SET object = 't.untagged' WHERE seq = 5; UPDATE records SET actor = 'x' WHERE seq = 2"
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 2: record 2 was changed' 'two edits: the first is named'

# ---- (b) deleted records ----
use deleted
q 'DELETE FROM records WHERE seq = 4'
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 4: record 4 is missing'

use deleted-first
q 'DELETE FROM records WHERE seq = 1'
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 1: record 1 is missing'

use deleted-signed
q 'DELETE FROM records WHERE seq = 6'
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 6: record 6 is missing'

# ---- (c) swapped records ----
use swapped-seq
q 'UPDATE records SET seq = -1 WHERE seq = 3; UPDATE records SET seq = 3 WHERE seq = 5;
   UPDATE records SET seq = 5 WHERE seq = -1'
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 3: record 3 does not link to record 2'

use swapped-content
q 'CREATE TEMP TABLE t AS SELECT seq, ts_ms, action, object FROM records WHERE seq IN (4, 5);
   UPDATE records SET (ts_ms, action, object) =
     (SELECT ts_ms, action, object FROM t WHERE t.seq = 9 - records.seq) WHERE seq IN (4, 5)'
expect_equal 'catalog.show|catalog.search' "$(q "SELECT group_concat(action, '|') FROM (SELECT action FROM records WHERE seq IN (4, 5) ORDER BY seq)")" \
	'the contents of records 4 and 5 are swapped, seq, prev and hash kept'
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 4: record 4 was changed'

# ---- (d) forged checkpoints ----
# flip_hex HEX: HEX with its first digit changed.
flip_hex() {
	case $1 in
	0*) printf '1%s' "${1#?}" ;;
	*) printf '0%s' "${1#?}" ;;
	esac
}
use forged-signature
sig=$(q 'SELECT hex(signature) FROM checkpoints WHERE seq = 6')
q "UPDATE checkpoints SET signature = X'$(flip_hex "$sig")' WHERE seq = 6"
check 'the signature was changed' test "$(q 'SELECT hex(signature) FROM checkpoints WHERE seq = 6')" != "$sig"
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 6: the checkpoint signature at seq 6 does not verify'

use forged-checkpoint-hash
h=$(q 'SELECT hex(hash) FROM checkpoints WHERE seq = 6')
q "UPDATE checkpoints SET hash = X'$(flip_hex "$h")' WHERE seq = 6"
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 6: the checkpoint signature at seq 6 does not verify'

use forged-checkpoint-time
q 'UPDATE checkpoints SET ts_ms = ts_ms - 1000 WHERE seq = 6'
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 6: the checkpoint signature at seq 6 does not verify'

use forged-checkpoint-malformed
q "UPDATE checkpoints SET signature = X'00' WHERE seq = 6"
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 6: the checkpoint at seq 6 is malformed'

# A valid checkpoint from another workspace (its own key) pasted in.
init_ws "$TMP/other"
expect_exit 0 "$STEWARD" --home "$TMP/other" key init
expect_exit 0 "$STEWARD" --home "$TMP/other" pii hash --purpose 'other' --category user.name y
other_cp=$(sqlite3 "$TMP/other/.steward/audit.db" 'SELECT seq FROM checkpoints')
expect_equal 3 "$other_cp" 'the other workspace has a checkpoint at seq 3'
use foreign-checkpoint
q "ATTACH '$TMP/other/.steward/audit.db' AS o;
   INSERT INTO checkpoints SELECT * FROM o.checkpoints WHERE seq = 3"
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 3: the checkpoint at seq 3 is signed by another key'

use checkpoint-orphan
q 'DELETE FROM records WHERE seq >= 6'
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 6: the checkpoint at seq 6 names a record that is missing' \
	'a tail cut that leaves its checkpoint is caught'

use checkpoint-no-record
q "INSERT INTO checkpoints SELECT 20, ts_ms, hash, public_key, signature, root, mac FROM checkpoints WHERE seq = 6"
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 20: the checkpoint signature at seq 20 does not verify'

# ---- (e) an edit with the chain recomputed after it ----
use rechained
q "UPDATE records SET actor = 'mallory' WHERE seq = 3"
run python3 "$CHAIN" rechain "$WS/.steward/audit.db" 3
expect_equal '0: rechained 6 records' "$RC: $(cat "$OUT")" 'records 3 to 8 rechained'
run python3 "$CHAIN" check "$WS/.steward/audit.db"
expect_equal '0: 8 records match' "$RC: $(cat "$OUT")" 'the rewritten chain links and hashes'
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 3: record 3 does not verify under the audit key (it was rewritten and its hash recomputed)' \
	'the recomputed chain lacks the key-bound mac (before the key binding: seq 6, by its checkpoint)'

# After the last checkpoint, a rewritten chain is caught by the key-bound mac (before the key binding,
# only by an anchor). Here the head is exported (signing seq 8), then record 7 is rewritten,
# the chain recomputed and the new checkpoint dropped: neither the log nor the anchor verifies.
use rechained-tail
expect_exit 0 steward audit checkpoint --export "$TMP/tail-anchor.json"   # signs 8; this is 9
expect_stdout_contains 'checkpoint seq 8, '
expect_stdout_line "exported to '$TMP/tail-anchor.json'; keep it where this machine's users cannot change it"
q "UPDATE records SET outcome = 'ok', reason = NULL WHERE seq = 7; DELETE FROM checkpoints WHERE seq = 8"
run python3 "$CHAIN" rechain "$WS/.steward/audit.db" 7
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 7: record 7 does not verify under the audit key (it was rewritten and its hash recomputed)' \
	'a rewrite after the last checkpoint is caught without an anchor'
expect_exit 1 steward audit verify --anchor "$TMP/tail-anchor.json"
expect_stdout_line 'audit log tampered: first bad seq 7: record 7 does not verify under the audit key (it was rewritten and its hash recomputed)'

# ---- (f) a log cut short, or replaced, and anchors ----
use truncated
expect_exit 0 steward audit checkpoint --export "$TMP/anchor.json"   # signs 8; this is 9
expect_jq '.format == "steward-audit-anchor" and .version == 1 and .seq == 8 and
	(.hash | test("^[0-9a-f]{64}$")) and (.public_key | test("^[0-9a-f]{64}$")) and
	(.signature | test("^[0-9a-f]{128}$"))' 'the anchor file' "$TMP/anchor.json"
expect_equal "$(jq -r .hash "$TMP/anchor.json")" "$(q 'SELECT lower(hex(hash)) FROM records WHERE seq = 8')" \
	'the anchor holds the hash of record 8'
expect_equal "$(jq -r .public_key "$TMP/anchor.json")" "$(q "SELECT value FROM meta WHERE key = 'public_key'")" \
	"the anchor holds the log's public key"
expect_exit 0 steward search person                          # 10
expect_exit 0 steward audit verify --anchor "$TMP/anchor.json"  # 11
expect_stdout_line 'audit log intact: 10 records, 2 checkpoints verified'
expect_stdout_line 'anchor: seq 8 matches'
expect_stdout_lacks 'no anchor given'

# Records after the anchor can be cut without the anchor noticing: it covers up to seq 8.
cp -a "$WS" "$TMP/truncated-after"
q 'DELETE FROM records WHERE seq >= 10'
expect_exit 0 steward audit verify --anchor "$TMP/anchor.json"
expect_stdout_line 'audit log intact: 9 records, 2 checkpoints verified'
expect_stdout_line 'anchor: seq 8 matches'

# Cut at the anchor: the log alone still verifies, the anchor catches it.
WS=$TMP/truncated-after
q 'DELETE FROM records WHERE seq >= 8; DELETE FROM checkpoints WHERE seq >= 8'
cp -a "$WS" "$TMP/truncated-after-2"
expect_exit 1 steward audit verify --anchor "$TMP/anchor.json"
expect_stdout_line "audit log tampered: first bad seq 8: the log ends at seq 7, before the anchor's seq 8: records were removed"
WS=$TMP/truncated-after-2
expect_exit 0 steward audit verify
expect_stdout_line 'audit log intact: 7 records, 1 checkpoints verified' \
	'a clean tail cut is invisible without an anchor'
# Once the cut log has grown past the anchor again, the record there differs.
expect_exit 1 steward audit verify --anchor "$TMP/anchor.json"
expect_stdout_line 'audit log tampered: first bad seq 8: record 8 differs from the anchor'

# The log removed while its key stays: refused, nothing recreated.
use replaced
rm "$WS/.steward/audit.db"
expect_exit 6 steward audit verify
expect_stderr_line "error: the audit log '$WS/.steward/audit.db' is missing but the workspace has an audit key; the log was removed (see 'steward audit recover --help')"
check 'no new audit.db' test ! -e "$WS/.steward/audit.db"
# Replaced by a fresh log and key: plain verify passes; the anchor catches it.
mv "$WS/.steward/audit.key" "$TMP/old-audit.key"
expect_exit 0 steward audit verify
expect_stdout_line 'audit log intact: 0 records, 0 checkpoints verified'
expect_exit 1 steward audit verify --anchor "$TMP/anchor.json"
expect_stdout_line "audit log tampered: first bad seq 1: the log is signed by another key than the anchor's"

# An anchor exported by another workspace: another key.
expect_exit 0 "$STEWARD" --home "$TMP/other" audit checkpoint --export "$TMP/other-anchor.json"
use foreign-anchor
expect_exit 1 steward audit verify --anchor "$TMP/other-anchor.json"
expect_stdout_line "audit log tampered: first bad seq 1: the log is signed by another key than the anchor's"

# ---- (g) --json ----
use json
expect_exit 0 steward audit verify --json
expect_jq 'keys_unsorted == ["status", "records", "checkpoints", "signatures", "last_seq", "anchored", "checkpoint"]'
expect_jq '.status == "intact" and .records == 8 and .checkpoints == 1 and .last_seq == 8 and
	.anchored == false' 'intact: counts'
expect_jq '.checkpoint.seq == 6 and (.checkpoint.hash | test("^[0-9a-f]{64}$")) and
	(.checkpoint.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"))' \
	'intact: the head checkpoint'
expect_equal "$(jq -r .checkpoint.hash "$OUT")" "$(q 'SELECT lower(hex(hash)) FROM records WHERE seq = 6')" \
	'the head checkpoint hash is record 6'
expect_exit 0 steward audit verify --json --anchor "$TMP/anchor.json"
expect_jq '.status == "intact" and .anchored == true and .records == 9' 'intact, anchored'
q "UPDATE records SET actor = 'mallory' WHERE seq = 3"
expect_exit 1 steward audit verify --json
expect_jq '.status == "tampered" and .bad_seq == 3 and .problem == "record 3 was changed" and
	.records == 10 and .anchored == false' 'tampered: bad_seq and problem'
expect_exit 1 steward audit verify --json --anchor "$TMP/anchor.json"
expect_jq '.status == "tampered" and .bad_seq == 3 and .anchored == false' \
	'tampered before the anchor: not anchored'

# ---- exit 2: unusable anchors and logs ----
use errors
expect_exit 2 steward audit verify --anchor "$TMP/no-such-anchor.json"
expect_stderr_line "error: cannot read the anchor '$TMP/no-such-anchor.json'"
expect_stdout_empty
printf 'garbage\n' >"$TMP/garbage.json"
expect_exit 2 steward audit verify --anchor "$TMP/garbage.json"
expect_stderr_line "error: $TMP/garbage.json:1:7: not a steward anchor: '[' or '{' expected near 'garbage'"
printf '{"format": "steward-audit-anchor", "version": 1, "seq": 8}\n' >"$TMP/partial.json"
expect_exit 2 steward audit verify --anchor "$TMP/partial.json"
expect_stderr_line "error: '$TMP/partial.json' is not a steward anchor"
jq '.signature |= (if startswith("0") then "1" else "0" end) + .[1:]' "$TMP/anchor.json" >"$TMP/badsig.json"
expect_exit 2 steward audit verify --anchor "$TMP/badsig.json"
expect_stderr_line "error: the anchor '$TMP/badsig.json' has a bad signature"
jq '.seq = 7' "$TMP/anchor.json" >"$TMP/moved.json"
expect_exit 2 steward audit verify --anchor "$TMP/moved.json"
expect_stderr_line "error: the anchor '$TMP/moved.json' has a bad signature" 'a moved seq breaks the signature'
run python3 "$CHAIN" check "$WS/.steward/audit.db"
expect_equal '0: 8 records match' "$RC: $(cat "$OUT")" 'bad anchors are refused before anything is recorded'

printf 'this is not an SQLite database, only text that is long enough\n' >"$WS/.steward/audit.db"
expect_exit 2 steward audit verify
expect_stderr_line "error: audit log '$WS/.steward/audit.db': database: file is not a database"
expect_stdout_empty

done_testing
