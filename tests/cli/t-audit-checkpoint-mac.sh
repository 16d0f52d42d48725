#!/bin/sh
# The checkpoints' macs (schema 5) and the log at rest: verify checks a checkpoint by its mac
# under audit.key and only the head's Ed25519 signature, so a checkpoint edited without the
# key (an older one, not the head) is still caught and named; one with no mac (made before
# schema 5) is checked by its signature; a schema 4 log and a schema 3 one are upgraded once
# and open again. The WAL holds the last commands' frames until a command folds it into
# audit.db; the first write after that lays zeros where the next frames go, and a copy of
# audit.db with that WAL holds every record.
. "$(dirname "$0")/lib.sh"
require sqlite3 python3 jq
V1=$STEWARD_SRC/tests/helpers/audit_v1.py

q() { sqlite3 "$WS/.steward/audit.db" "$@"; }

# ---- a log with three signed checkpoints ----
init_ws
expect_exit 0 steward key init
for t in 1 2 3; do
	expect_exit 0 steward pii hash --purpose "ticket $t" --category user.name "x$t"
done
expect_exit 0 steward search nothing
CPS=$(q 'SELECT count(*) FROM checkpoints')
FIRST=$(q 'SELECT min(seq) FROM checkpoints')
check 'at least three checkpoints' test "$CPS" -ge 3
expect_equal "$CPS" "$(q 'SELECT count(*) FROM checkpoints WHERE length(mac) = 32')" \
	'every checkpoint has a 32-byte mac'
expect_equal "$AUDIT_SCHEMA" "$(q 'PRAGMA user_version')" 'a new log is at the current schema'

BASE=$TMP/base
cp -a "$WS" "$BASE"
use() {
	WS=$TMP/$1
	cp -a "$BASE" "$WS"
}

# ---- intact: one signature, the head's; the others by their macs ----
use intact
expect_exit 0 steward audit verify --json
expect_jq .status '"intact"'
expect_jq .checkpoints "$CPS"
expect_jq .signatures 1

# ---- the log at rest: the last commands' frames in the WAL (below the fold), kept from
# command to command; a copy of audit.db with its WAL holds every record, and once the WAL
# is folded in, audit.db alone does ----
# The WAL file keeps zeros past its frames (audit/log.c: wal_prepare()), so its frames are
# counted: those after the header whose salts are the header's.
wal_frames() {
	python3 - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
n = 0
if len(d) >= 32 and struct.unpack(">I", d[:4])[0] in (0x377F0682, 0x377F0683):
    size, salt, at = struct.unpack(">I", d[8:12])[0], d[16:24], 32
    while at + 24 + size <= len(d) and d[at + 8:at + 16] == salt:
        n, at = n + 1, at + 24 + size
print(n)
EOF
}
wal=$(wal_frames "$WS/.steward/audit.db-wal")
check "the WAL holds the last commands, under 64 pages ($wal)" [ "$wal" -gt 0 -a "$wal" -lt 64 ]
RECORDS=$(q 'SELECT count(*) FROM records') # sqlite3, the last to close it, folds the WAL in
mkdir -p "$TMP/alone/.steward"
cp "$WS/steward.yaml" "$TMP/alone/"
cp "$WS/.steward/audit.db" "$WS/.steward/audit.db-wal" "$WS/.steward/audit.key" "$WS/.steward/catalog.db" "$TMP/alone/.steward/"
expect_exit 0 steward --home "$TMP/alone" audit verify --json
expect_jq .status '"intact"'
expect_jq .records "$RECORDS"
# commands go on until one folds the WAL in (each adds a few pages; 64 fold it)
steward search order >/dev/null
i=1
while [ "$(stat -c %s "$WS/.steward/audit.db-wal")" -gt 0 ] && [ $i -lt 40 ]; do
	steward search order >/dev/null
	i=$((i + 1))
done
check "more than one command before the fold ($i)" [ "$i" -gt 1 ]
expect_equal 0 "$(stat -c %s "$WS/.steward/audit.db-wal")" "a command's end folds the WAL in and empties it (after $i commands)"
# the next command's first write fills the empty WAL with zeros for the frames to come
# (80 of 4 KiB and a header), so that its syncs and the next ones change no file size
steward search order >/dev/null
expect_equal $((80 * 4120 + 32)) "$(stat -c %s "$WS/.steward/audit.db-wal")" "the first write after the fold lays zeros for the frames to come"
check "and its record is a frame in it ($(wal_frames "$WS/.steward/audit.db-wal"))" [ "$(wal_frames "$WS/.steward/audit.db-wal")" -gt 0 ]
steward search order >/dev/null
expect_equal $((80 * 4120 + 32)) "$(stat -c %s "$WS/.steward/audit.db-wal")" "the next command writes in place: the size stays"
RECORDS=$(q 'SELECT count(*) FROM records')
rm -rf "$TMP/alone"
mkdir -p "$TMP/alone/.steward"
cp "$WS/steward.yaml" "$TMP/alone/"
cp "$WS/.steward/audit.db" "$WS/.steward/audit.key" "$WS/.steward/catalog.db" "$TMP/alone/.steward/"
expect_exit 0 steward --home "$TMP/alone" audit verify --json
expect_jq .status '"intact"'
expect_jq .records "$RECORDS"

# ---- an older checkpoint edited without the key: its time ----
use older-time
q "UPDATE checkpoints SET ts_ms = ts_ms - 1000 WHERE seq = $FIRST"
expect_exit 1 steward audit verify
expect_stdout_line "audit log tampered: first bad seq $FIRST: the checkpoint signature at seq $FIRST does not verify"

# ---- its mac alone: another checkpoint's, or garbage ----
use older-mac
q "UPDATE checkpoints SET mac = (SELECT mac FROM checkpoints WHERE seq > $FIRST ORDER BY seq LIMIT 1) WHERE seq = $FIRST"
expect_exit 1 steward audit verify
expect_stdout_line "audit log tampered: first bad seq $FIRST: the checkpoint at seq $FIRST does not verify under the audit key"
use older-mac-short
q "UPDATE checkpoints SET mac = X'00' WHERE seq = $FIRST"
expect_exit 1 steward audit verify
expect_stdout_line "audit log tampered: first bad seq $FIRST: the checkpoint at seq $FIRST does not verify under the audit key"

# ---- no mac (a checkpoint from before schema 5): its signature is checked instead ----
use no-mac
q "UPDATE checkpoints SET mac = NULL WHERE seq = $FIRST"
expect_exit 0 steward audit verify --json
expect_jq .status '"intact"'
expect_jq .signatures 2
use no-mac-forged
q "UPDATE checkpoints SET mac = NULL, ts_ms = ts_ms + 1 WHERE seq = $FIRST"
expect_exit 1 steward audit verify
expect_stdout_line "audit log tampered: first bad seq $FIRST: the checkpoint signature at seq $FIRST does not verify"

# ---- schema 4: upgraded once, every checkpoint gets its mac, and it opens again ----
use v4
run python3 "$V1" "$WS/.steward" 4
expect_equal "0: $CPS checkpoints" "$RC: $(cat "$OUT")" 'audit_v1.py went back to schema 4'
expect_equal 0 "$(q "SELECT count(*) FROM pragma_table_info('checkpoints') WHERE name = 'mac'")" \
	'schema 4 has no checkpoint mac'
expect_exit 0 steward audit verify --json
expect_jq .status '"intact"'
expect_equal "$AUDIT_SCHEMA" "$(q 'PRAGMA user_version')" 'schema 4 upgraded to the current one'
expect_equal 0 "$(q 'SELECT count(*) FROM checkpoints WHERE mac IS NULL')" \
	'every checkpoint got its mac'
expect_exit 0 steward audit verify --json
expect_jq .signatures 1

# A checkpoint forged before the upgrade gets no mac, and is still named.
use v4-forged
run python3 "$V1" "$WS/.steward" 4
q "UPDATE checkpoints SET ts_ms = ts_ms + 1 WHERE seq = $FIRST"
expect_exit 1 steward audit verify
expect_stdout_line "audit log tampered: first bad seq $FIRST: the checkpoint signature at seq $FIRST does not verify"
expect_equal 1 "$(q "SELECT count(*) FROM checkpoints WHERE mac IS NULL AND seq = $FIRST")" \
	'the forged checkpoint got no mac'

# ---- schema 3 (before the Merkle tree) goes to 5 in one open, and opens again ----
use v3
run python3 "$V1" "$WS/.steward" 3
expect_exit 0 steward audit verify
expect_equal "$AUDIT_SCHEMA" "$(q 'PRAGMA user_version')" 'schema 3 upgraded to the current one'
expect_exit 0 steward audit verify
expect_stdout_contains 'audit log intact: '

done_testing
