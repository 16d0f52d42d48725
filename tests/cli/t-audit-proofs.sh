#!/bin/sh
# The Merkle tree over the audit log and its proofs: the tree and its stored nodes against an
# independent RFC 6962 implementation in Python (hashlib, checked first against Certificate
# Transparency's roots for 0 to 8 leaves); `audit prove`, `audit consistency` and `audit
# check-proof` (run with no workspace) on good proofs and on proofs altered every way (a
# flipped hash, another index, size, root or record, a bad signature, a cut path, another
# key), with docs/verify_proof.py giving the same verdicts; consistency against a rewritten,
# cut or foreign log; the migration of a schema 1 log with format 1 checkpoints.
. "$(dirname "$0")/lib.sh"
require sqlite3 python3 jq
VERIFY=$STEWARD_SRC/docs/verify_proof.py
CHAIN=$STEWARD_SRC/tests/helpers/audit_chain.py
V1=$STEWARD_SRC/tests/helpers/audit_v1.py

# The independent tree: MTH, PATH and PROOF as RFC 6962 section 2.1 defines them.
cat >"$TMP/rfc6962.py" <<'PY'
import hashlib, json, sqlite3, sys
H = lambda b: hashlib.sha256(b).digest()
def mth(d):
    if not d: return H(b"")
    if len(d) == 1: return H(b"\x00" + d[0])
    k = 1
    while 2 * k < len(d): k *= 2
    return H(b"\x01" + mth(d[:k]) + mth(d[k:]))
def path(m, d):
    if len(d) <= 1: return []
    k = 1
    while 2 * k < len(d): k *= 2
    return path(m, d[:k]) + [mth(d[k:])] if m < k else path(m - k, d[k:]) + [mth(d[:k])]
def sub(m, d, b):
    if m == len(d): return [] if b else [mth(d)]
    k = 1
    while 2 * k < len(d): k *= 2
    return sub(m, d[:k], b) + [mth(d[k:])] if m <= k else sub(m - k, d[k:], False) + [mth(d[:k])]
cmd = sys.argv[1]
if cmd == "vectors":  # Certificate Transparency's test leaves and roots
    leaves = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
              bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70))]
    print(" ".join(mth(leaves[:i]).hex()[:8] for i in range(9)))
    sys.exit(0)
leaves = [r[0] for r in sqlite3.connect(sys.argv[2]).execute("SELECT hash FROM records ORDER BY seq")]
if cmd == "root":       # root N: of the first N records
    print(mth(leaves[:int(sys.argv[3])]).hex())
elif cmd == "nodes":    # every stored node matches the subtree it stands for
    db, bad, n = sqlite3.connect(sys.argv[2]), 0, 0
    stored = dict(db.execute("SELECT pos, hash FROM merkle"))
    pos, size = 0, 0
    for i in range(len(leaves)):
        size = i + 1
        level = 1
        while size % (1 << level) == 0:
            lo = size - (1 << level)
            bad += stored.get(pos) != mth(leaves[lo:size])
            pos, level, n = pos + 1, level + 1, n + 1
    print("%d nodes, %d wrong, %d more stored" % (n, bad, len(stored) - n))
elif cmd == "inclusion":  # inclusion PROOF.json: the path is RFC 6962's
    p = json.load(open(sys.argv[3]))
    want = [h.hex() for h in path(p["leaf_index"], leaves[:p["tree_size"]])]
    print("same" if want == p["path"] and mth(leaves[:p["tree_size"]]).hex() == p["root"] else "differs")
elif cmd == "consistency":
    p = json.load(open(sys.argv[3]))
    m, n = p["old"]["tree_size"], p["new"]["tree_size"]
    want = [h.hex() for h in sub(m, leaves[:n], True)] if m < n else []
    print("same" if want == p["path"] else "differs")
PY
PY6962="python3 $TMP/rfc6962.py"
q() { sqlite3 "$WS/.steward/audit.db" "$@"; }

run $PY6962 vectors
expect_equal 'e3b0c442 6e340b9c fac54203 aeb6bcfe d37ee418 4e3bbb1f 76e67dad ddb89be4 5dc9da79' \
	"$(cat "$OUT")" "the Python tree gives Certificate Transparency's roots for 0 to 8 leaves"

# ---- a log of 11 records; the tree is RFC 6962's ----
init_ws                                                    # 1
expect_exit 0 steward key init                             # 2
expect_exit 0 steward catalog load "$FIXTURES/ingest/people.yaml"   # 3
for _ in 1 2 3 4 5 6; do expect_exit 0 steward search person; done  # 4-9
expect_exit 0 steward pii hash --purpose 'ticket 9' --category user.name x   # 10, signed
expect_exit 4 steward show no.such                         # 11
expect_equal 10 "$(q 'SELECT group_concat(seq) FROM checkpoints WHERE root IS NOT NULL')" \
	'the pii.hash record ended in a format 2 checkpoint with a root'
expect_equal "$(q "SELECT lower(hex(root)) FROM checkpoints WHERE seq = 10")" \
	"$($PY6962 root "$WS/.steward/audit.db" 10)" 'its signed root is the RFC 6962 root of records 1-10'
run $PY6962 nodes "$WS/.steward/audit.db"
expect_equal '0: 8 nodes, 0 wrong, 0 more stored' "$RC: $(cat "$OUT")" \
	'every stored node is the RFC 6962 hash of its subtree (11 leaves: 11 - popcount 11 nodes)'

# ---- prove ----
expect_exit 0 steward audit prove 5                        # signs 11; this is 12
expect_stdout_line 'inclusion proof: record 5 is leaf 4 of the Merkle tree of 11 records'
expect_stdout_line 'record:      catalog.search by '"$(id -un)"', ok'
expect_stdout_line "leaf:        $(q 'SELECT lower(hex(hash)) FROM records WHERE seq = 5')"
expect_stdout_line 'tree size:   11'
expect_stdout_line "root:        $($PY6962 root "$WS/.steward/audit.db" 11)"
expect_stdout_line 'path:        4 hashes, deepest first'
expect_stdout_line "public key:  $(q "SELECT value FROM meta WHERE key = 'public_key'")"
expect_stdout_line "proof holds; save it with --json and check it anywhere with 'steward audit check-proof FILE'"
expect_equal 11 "$(q 'SELECT max(seq) FROM checkpoints WHERE root IS NOT NULL')" 'prove signed the head, seq 11'
expect_exit 0 steward audit prove 5 --json                 # 13, against 12
cp "$OUT" "$TMP/p5.json"
expect_jq '.format == "steward-audit-proof" and .version == 1 and .type == "inclusion" and
	.seq == 5 and .leaf_index == 4 and .tree_size == 12 and (.path | length) == 4 and
	.checkpoint.version == 2 and .checkpoint.seq == 12 and .checkpoint.tree_size == 12 and
	.record.seq == 5 and .record.action == "catalog.search" and .record.object == null and
	(.checkpoint.signature | test("^[0-9a-f]{128}$"))' 'the proof document'
run $PY6962 inclusion "$WS/.steward/audit.db" "$TMP/p5.json"
expect_equal same "$(cat "$OUT")" "the path and root are RFC 6962's PATH(4, D[12]) and MTH(D[12])"
for s in 1 2 7 12; do
	expect_exit 0 steward audit prove "$s" --json
	cp "$OUT" "$TMP/p$s.json"
	run $PY6962 inclusion "$WS/.steward/audit.db" "$TMP/p$s.json"
	expect_equal same "$(cat "$OUT")" "record $s: RFC 6962's path"
done
expect_exit 4 steward audit prove 99
expect_stderr_line 'error: record 99 is not in the signed log of 17 records'
expect_exit 2 steward audit prove 0
expect_stderr_line "error: SEQ needs a positive number, not '0'"
expect_exit 2 steward audit prove
expect_stderr_line 'error: give one record number (SEQ)'

# ---- check-proof, with no workspace ----
cd "$TMP" || exit 1
PK=$(q "SELECT value FROM meta WHERE key = 'public_key'")
run "$STEWARD" audit check-proof "$TMP/p5.json"
expect_equal 0 "$RC" 'check-proof needs no workspace'
expect_stdout_contains 'proof holds: record 5 is in the audit log of 12 records signed at '
expect_stdout_line "signed with public key $PK (taken from the proof: compare it with a copy you trust, or pass --public-key)"
run "$STEWARD" audit check-proof "$TMP/p5.json" --public-key "$PK"
expect_stdout_line "signed with public key $PK (given)"
run "$STEWARD" audit check-proof "$TMP/p5.json" --json
expect_jq '.status == "good" and .type == "inclusion" and .seq == 5 and .tree_size == 12 and .key_given == false'
run python3 "$VERIFY" "$TMP/p5.json"
expect_equal 0 "$RC" 'docs/verify_proof.py accepts it'
expect_stdout_line 'proof holds: record 5 is in the audit log of 12 records'
run python3 "$VERIFY" "$TMP/p5.json" --public-key "$PK"
expect_stdout_line "signed with public key $PK (given)"
for s in 1 2 7 12; do
	run "$STEWARD" audit check-proof "$TMP/p$s.json" --public-key "$PK"
	expect_equal 0 "$RC" "check-proof: record $s"
done
run python3 "$VERIFY" "$TMP/p1.json" "$TMP/p2.json" "$TMP/p7.json" "$TMP/p12.json"
expect_equal 0 "$RC" 'verify_proof.py: the proofs of records 1, 2, 7 and 12 hold'
expect_count 4 '^/.*/p[0-9]+\.json: proof holds: record [0-9]+ is in the audit log of [0-9]+ records$' "$OUT" \
	'verify_proof.py: one verdict a file'

# altered FILTER WHY SOURCE: the proof changed by jq FILTER is rejected by check-proof with
# "proof rejected: WHY"; py_expect queues the same verdict for the Python verifier, which
# py_verdicts then runs once on all the queued files (a Python start each costs much).
NALT=0
: >"$TMP/py-files"
: >"$TMP/py-want"
py_expect() { echo "$1" >>"$TMP/py-files"; echo "$1: $2" >>"$TMP/py-want"; }
py_verdicts() {
	# shellcheck disable=SC2046 # one file name a line, none with blanks
	run python3 "$VERIFY" $(cat "$TMP/py-files")
	expect_equal 1 "$RC" 'verify_proof.py rejects them'
	test_cmp "$TMP/py-want" "$OUT" 'verify_proof.py gives the same verdicts as check-proof'
	: >"$TMP/py-files"
	: >"$TMP/py-want"
}
altered() {
	NALT=$((NALT + 1))
	jq "$1" "$3" >"$TMP/altered-$NALT.json"
	run "$STEWARD" audit check-proof "$TMP/altered-$NALT.json"
	expect_equal "1: proof rejected: $2" "$RC: $(cat "$OUT")" "check-proof: $1"
	py_expect "$TMP/altered-$NALT.json" "proof rejected: $2"
}
flip='(if startswith("0") then "1" else "0" end) + .[1:]'
altered ".path[0] |= $flip" 'the audit path does not lead from the leaf to the signed root' "$TMP/p5.json"
altered ".path[3] |= $flip" 'the audit path does not lead from the leaf to the signed root' "$TMP/p5.json"
altered ".leaf |= $flip" 'the record does not hash to the leaf: it was changed' "$TMP/p5.json"
altered "del(.record) | .leaf |= $flip" 'the audit path does not lead from the leaf to the signed root' "$TMP/p5.json"
altered '.leaf_index = 5' 'leaf index 5 is not the index of record 5' "$TMP/p5.json"
altered 'del(.record) | .seq = 6 | .leaf_index = 5' 'the audit path does not lead from the leaf to the signed root' "$TMP/p5.json"
altered '.record.actor = "mallory"' 'the record does not hash to the leaf: it was changed' "$TMP/p5.json"
altered '.record.reason = "x"' 'the record does not hash to the leaf: it was changed' "$TMP/p5.json"
altered '.tree_size = 11' "the proof's tree size 11 is not the signed tree size 12" "$TMP/p5.json"
altered '.checkpoint.tree_size = 13 | .checkpoint.seq = 13 | .tree_size = 13' "the checkpoint's signature does not verify" "$TMP/p5.json"
altered ".root |= $flip" "the proof's root is not the signed root" "$TMP/p5.json"
altered ".checkpoint.root |= $flip | .root = .checkpoint.root" "the checkpoint's signature does not verify" "$TMP/p5.json"
altered ".checkpoint.signature |= $flip" "the checkpoint's signature does not verify" "$TMP/p5.json"
altered '.checkpoint.ts_ms += 1' "the checkpoint's signature does not verify" "$TMP/p5.json"
altered '.checkpoint.version = 1' 'the checkpoint is not a format 2 checkpoint (it has no Merkle root)' "$TMP/p5.json"
# A cut path: check-proof names the length, the Python verifier the failed walk.
jq '.path |= .[:3]' "$TMP/p5.json" >"$TMP/cut.json"
run "$STEWARD" audit check-proof "$TMP/cut.json"
expect_equal '1: proof rejected: the audit path has 3 hashes; a proof of leaf 4 in a tree of 12 has 4' \
	"$RC: $(cat "$OUT")" 'check-proof: a cut path'
py_expect "$TMP/cut.json" 'proof rejected: the audit path does not lead from the leaf to the signed root'
jq '.path += [.root]' "$TMP/p5.json" >"$TMP/long.json"
run "$STEWARD" audit check-proof "$TMP/long.json"
expect_equal '1: proof rejected: the audit path has 5 hashes; a proof of leaf 4 in a tree of 12 has 4' \
	"$RC: $(cat "$OUT")" 'check-proof: a longer path'
jq '.path[1] = "zz"' "$TMP/p5.json" >"$TMP/hex.json"
run "$STEWARD" audit check-proof "$TMP/hex.json"
expect_equal '1: proof rejected: path hash 2 is not 64 hex digits' "$RC: $(cat "$OUT")" 'check-proof: a path hash that is not hex'
run "$STEWARD" audit check-proof "$TMP/altered-$NALT.json" --json
expect_jq '.status == "rejected" and .problem == "the checkpoint is not a format 2 checkpoint (it has no Merkle root)"'
expect_equal 1 "$RC" 'check-proof --json exits 1 too'

# Another key: a proof re-signed by another workspace's key fails against the real one.
init_ws "$TMP/other"
expect_exit 0 "$STEWARD" --home "$TMP/other" search x
expect_exit 0 "$STEWARD" --home "$TMP/other" audit checkpoint --export "$TMP/other-anchor.json"
OPK=$(jq -r .public_key "$TMP/other-anchor.json")
run "$STEWARD" audit check-proof "$TMP/p5.json" --public-key "$OPK"
expect_equal '1: proof rejected: the checkpoint is signed by another key than the one given' \
	"$RC: $(cat "$OUT")" 'check-proof: another key given'
run "$STEWARD" audit check-proof "$TMP/p5.json" --public-key "$TMP/other-anchor.json"
expect_equal '1: proof rejected: the checkpoint is signed by another key than the one given' \
	"$RC: $(cat "$OUT")" 'check-proof: the key given as an anchor file'
# The proof's key swapped for the other one: the signature no longer verifies.
altered ".checkpoint.public_key = \"$OPK\"" "the checkpoint's signature does not verify" "$TMP/p5.json"
py_verdicts
run python3 "$VERIFY" "$TMP/p5.json" --public-key "$OPK"
expect_equal '1: proof rejected: the checkpoint is signed by another key than the one given' \
	"$RC: $(cat "$OUT")" 'verify_proof.py: another key given'

# Errors: exit 2.
run "$STEWARD" audit check-proof "$TMP/no-such.json"
expect_equal "2: error: cannot read the proof '$TMP/no-such.json'" "$RC: $(cat "$ERR")" 'check-proof: a missing file'
printf 'nope\n' >"$TMP/nope.json"
run "$STEWARD" audit check-proof "$TMP/nope.json"
expect_equal "2: error: $TMP/nope.json:1:4: not a steward proof: '[' or '{' expected near 'nope'" "$RC: $(cat "$ERR")" 'check-proof: not JSON'
run "$STEWARD" audit check-proof "$TMP/other-anchor.json"
expect_equal "2: error: '$TMP/other-anchor.json' is not a steward proof" "$RC: $(cat "$ERR")" 'check-proof: an anchor is not a proof'
run "$STEWARD" audit check-proof "$TMP/p5.json" --public-key abc
expect_equal "2: error: 'abc' is neither a public key (64 hex digits) nor a file" "$RC: $(cat "$ERR")" 'check-proof: a bad key'
cd "$STEWARD_SRC" || exit 1

# ---- consistency ----
expect_exit 0 steward audit checkpoint --export "$TMP/anchor.json"   # signs 18; this is 19
expect_jq '.version == 1 and .checkpoint_version == 2 and .seq == 18 and .tree_size == 18 and
	(.root | test("^[0-9a-f]{64}$"))' 'the anchor carries the tree size and root' "$TMP/anchor.json"
expect_equal "$(jq -r .root "$TMP/anchor.json")" "$($PY6962 root "$WS/.steward/audit.db" 18)" \
	"the anchor's root is the RFC 6962 root of records 1-18"
expect_exit 0 steward audit verify --anchor "$TMP/anchor.json"       # 20
expect_stdout_line 'anchor: seq 18 matches'
for _ in 1 2 3 4 5; do expect_exit 0 steward search person; done     # 21-25
expect_exit 0 steward audit consistency "$TMP/anchor.json"           # signs 25; this is 26
expect_stdout_line 'consistency proof: the log of 25 records extends the anchor'"'"'s log of 18 records'
expect_stdout_contains "old root:    $(jq -r .root "$TMP/anchor.json") (seq 18, "
expect_stdout_line 'verified: records 1 to 18 are unchanged since the anchor'
expect_exit 0 steward audit consistency "$TMP/anchor.json" --json    # signs 26; this is 27
cp "$OUT" "$TMP/c.json"
expect_jq '.type == "consistency" and .old.tree_size == 18 and .new.tree_size == 26 and
	.old.version == 2 and .new.version == 2 and (.path | length) == 5' 'the consistency proof document' "$TMP/c.json"
expect_equal "$(jq -r .signature "$TMP/anchor.json")" "$(jq -r .old.signature "$TMP/c.json")" \
	"the old checkpoint is the anchor's"
run $PY6962 consistency "$WS/.steward/audit.db" "$TMP/c.json"
expect_equal same "$(cat "$OUT")" "the path is RFC 6962's PROOF(18, D[26])"
run "$STEWARD" audit check-proof "$TMP/c.json" --public-key "$TMP/anchor.json"
expect_equal 0 "$RC" 'check-proof accepts it with the anchor as the key'
expect_stdout_contains 'proof holds: the audit log of 26 records signed at '
expect_stdout_contains ' extends the one of 18 records signed at '
run python3 "$VERIFY" "$TMP/c.json" --public-key "$PK"
expect_equal '0: proof holds: the audit log of 26 records extends the one of 18 records' \
	"$RC: $(head -1 "$OUT")" 'verify_proof.py accepts it'
altered ".path[0] |= $flip" 'the consistency path does not lead from the old root to the new root' "$TMP/c.json"
jq '.path |= .[1:]' "$TMP/c.json" >"$TMP/ccut.json"
run "$STEWARD" audit check-proof "$TMP/ccut.json"
expect_equal '1: proof rejected: the consistency path has 4 hashes; a proof from 18 to 26 records has 5' \
	"$RC: $(cat "$OUT")" 'check-proof: a cut consistency path'
py_expect "$TMP/ccut.json" 'proof rejected: the consistency path does not lead from the old root to the new root'
altered ".old.root |= $flip" "the old checkpoint's signature does not verify" "$TMP/c.json"
altered ".new.signature |= $flip" "the new checkpoint's signature does not verify" "$TMP/c.json"
altered '.old as $o | .old = .new | .new = $o' 'the old tree (26 records) is larger than the new (18)' "$TMP/c.json"
altered ".new.public_key = \"$OPK\"" "the new checkpoint is signed by another key than the first checkpoint" "$TMP/c.json"
py_verdicts
expect_exit 2 steward audit consistency "$TMP/no-such.json"
expect_stderr_line "error: cannot read the anchor '$TMP/no-such.json'"

# A log rewritten before the anchor (chain and tree recomputed, as audit_chain.py does):
# the tree of its first 18 records has another root.
cp -a "$WS" "$TMP/rewritten"
WS=$TMP/rewritten
q "UPDATE records SET actor = 'mallory' WHERE seq = 3"
run python3 "$CHAIN" rechain "$WS/.steward/audit.db" 3
expect_exit 1 steward audit consistency "$TMP/anchor.json"
expect_stdout_line "not consistent: the log's first 18 records have another Merkle root than the anchor's: records up to seq 18 were changed"
expect_exit 1 steward audit consistency "$TMP/anchor.json" --json
expect_jq '.consistent == false and (.problem | startswith("the log'"'"'s first 18 records"))'
# Cut before the anchor's seq.
WS=$TMP/ws
cp -a "$WS" "$TMP/cut"
WS=$TMP/cut
q 'DELETE FROM records WHERE seq > 15; DELETE FROM checkpoints WHERE seq > 15'
expect_exit 1 steward audit consistency "$TMP/anchor.json"
expect_stdout_line "not consistent: the log ends at seq 15, before the anchor's seq 18: records were removed"
# Another workspace's log.
WS=$TMP/other
expect_exit 1 steward audit consistency "$TMP/anchor.json"
expect_stdout_line "not consistent: the log is signed by another key than the anchor's"

# ---- verify checks the stored tree ----
WS=$TMP/ws
cp -a "$WS" "$TMP/node"
WS=$TMP/node
q "UPDATE merkle SET hash = zeroblob(32) WHERE pos = 3"
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 6: the stored Merkle tree does not match record 6'
expect_exit 5 steward audit prove 7
expect_stderr_contains 'error: the proof of record 7 does not hold (the audit path does not lead from the leaf to the signed root): the audit log is damaged'
# The attack: a writer without the key replaces the largest complete subtree of the head
# (records 1 to 2^L), as if over other records, so that the next signed root would cover
# records that never were. steward trusts stored nodes only as far as a signed root vouches
# for them: the next checkpoint's root is still the records' own, and the node is repaired.
WS=$TMP/ws
cp -a "$WS" "$TMP/forged-node"
WS=$TMP/forged-node
N=$(q 'SELECT max(seq) FROM records')
L=$(python3 -c "import sys; print(int(sys.argv[1]).bit_length() - 1)" "$N")
q "UPDATE merkle SET hash = randomblob(32) WHERE pos = $(((1 << L) - 2))"
expect_exit 0 steward audit checkpoint                         # signs N
expect_equal "$($PY6962 root "$WS/.steward/audit.db" "$N")" "$(q "SELECT lower(hex(root)) FROM checkpoints WHERE seq = $N")" \
	"a forged node is not signed: the root signed at $N is the RFC 6962 root of the records"
expect_exit 0 steward audit verify
expect_stdout_contains 'audit log intact: '
WS=$TMP/ws
cp -a "$WS" "$TMP/node2"
WS=$TMP/node2
q "DELETE FROM merkle WHERE pos = 10"
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 14: the stored Merkle tree does not match record 14'
# A signed root that is not the records' (a checkpoint re-signed over another root is
# caught by its signature first; only the key holder can sign a wrong root).
WS=$TMP/ws
cp -a "$WS" "$TMP/root"
WS=$TMP/root
q "UPDATE checkpoints SET root = zeroblob(32) WHERE seq = 10"
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 10: the checkpoint signature at seq 10 does not verify'
# Signed again with the key (a key holder, or a bug): the signature holds, the root is not
# the records'.
python3 - "$WS/.steward" 10 <<'PY'
import os, sqlite3, struct, sys
sys.path.insert(0, os.path.join(os.environ["STEWARD_SRC"], "tests", "helpers"))
import audit_v1
d, seq = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(d + "/audit.db")
ts, h = db.execute("SELECT ts_ms, hash FROM checkpoints WHERE seq = ?", (seq,)).fetchone()
root = bytes(32)
msg = (b"steward.checkpoint.v2\0" + struct.pack(">q", seq) + h + struct.pack(">q", ts)
       + struct.pack(">q", seq) + root)
sig, _ = audit_v1.sign(open(d + "/audit.key", "rb").read(), msg)
db.execute("UPDATE checkpoints SET root = ?, signature = ? WHERE seq = ?", (root, sig, seq))
db.commit()
PY
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 10: the Merkle root signed at seq 10 is not the root of records 1 to 10'

# ---- a schema 1 log: migrated, its format 1 checkpoints still verify ----
WS=$TMP/v1
cp -a "$TMP/ws" "$WS"
expect_exit 0 steward pii hash --purpose 'ticket 10' --category user.name y   # the head, signed
H=$(q 'SELECT max(seq) FROM records')
C=$(q 'SELECT count(*) FROM checkpoints')
expect_equal "$H" "$(q 'SELECT max(seq) FROM checkpoints')" 'the head record has a checkpoint'
run python3 "$V1" "$WS/.steward"
expect_equal "0: $C checkpoints" "$RC: $(cat "$OUT")" 'the log is turned back into schema 1, re-signed in format 1'
expect_equal '1|0' "$(q "PRAGMA user_version; SELECT count(*) FROM pragma_table_info('checkpoints') WHERE name = 'root'" | paste -sd'|' -)" \
	'schema 1: no root column'
# A format 1 anchor of the old log.
sqlite3 -json "$WS/.steward/audit.db" "SELECT seq, ts_ms, lower(hex(hash)) AS hash, lower(hex(public_key)) AS public_key, lower(hex(signature)) AS signature FROM checkpoints WHERE seq = 18" |
	jq '.[0] | {format: "steward-audit-anchor", version: 1} + .' >"$TMP/v1-anchor.json"
# The first command migrates; a proof needs a format 2 checkpoint of the head, which
# replaces the head's format 1 one.
expect_exit 0 steward audit prove 3 --json
expect_equal "$AUDIT_SCHEMA" "$(q 'PRAGMA user_version')" 'migrated to the current schema'
expect_jq ".checkpoint.seq == $H and .checkpoint.version == 2 and .tree_size == $H" \
	'the proof is against a format 2 checkpoint of the same head'
cp "$OUT" "$TMP/pv1.json"
run "$STEWARD" audit check-proof "$TMP/pv1.json"
expect_equal 0 "$RC" 'the proof from the migrated log holds'
run $PY6962 inclusion "$WS/.steward/audit.db" "$TMP/pv1.json"
expect_equal same "$(cat "$OUT")" "the migrated tree gives RFC 6962's path"
expect_equal "$((C - 1))|1" "$(q 'SELECT count(*) FROM checkpoints WHERE root IS NULL; SELECT count(*) FROM checkpoints WHERE root IS NOT NULL' | paste -sd'|' -)" \
	'the other checkpoints stay format 1'
expect_exit 0 steward audit verify
expect_stdout_line "audit log intact: $((H + 1)) records, $C checkpoints verified"
run $PY6962 nodes "$WS/.steward/audit.db"
expect_equal '0 wrong, 0 more stored' "$(sed 's/^[0-9]* nodes, //' "$OUT")" \
	'the migration built the tree of the existing records'
expect_exit 0 steward audit verify --anchor "$TMP/v1-anchor.json"
expect_stdout_line 'anchor: seq 18 matches'
expect_exit 2 steward audit consistency "$TMP/v1-anchor.json"
expect_stderr_line "error: the anchor '$TMP/v1-anchor.json' has no Merkle root (it was exported before steward kept one); check it with 'steward audit verify --anchor'"
expect_exit 0 steward audit verify --json
expect_jq ".checkpoint.seq == $H and .checkpoint.tree_size == $H and
	.checkpoint.root == \"$(q "SELECT lower(hex(root)) FROM checkpoints WHERE seq = $H")\"" \
	'verify --json names the tree of a format 2 head checkpoint'

done_testing
