#!/bin/sh
# The audit log bound to audit.key, attacked by someone who can write .steward/audit.db but
# does not use the key: checkpoints deleted and every hash recomputed (with python3, as the
# documented encoding allows), a record dropped and the rest renumbered, audit.db truncated
# to 0 bytes, replaced by a fresh log (from the schema, from another workspace, or forged
# with this log's public key), request evidence edited, suppression entries deleted or
# added, the list of covered rows edited, a forged pending row. Each is detected with its
# message and nothing is damaged. Then `audit recover`: refused to a non-admin and on a
# usable log, and after each loss a new log whose signed record 1 names the old file.
# tests/helpers/audit_mac.py recomputes the documented mac and row digests exactly.
. "$(dirname "$0")/lib.sh"
require sqlite3 python3 jq sha256sum
CHAIN=$STEWARD_SRC/tests/helpers/audit_chain.py
MAC=$STEWARD_SRC/tests/helpers/audit_mac.py

# ---- a base workspace: a completed erasure with evidence and suppression entries ----
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
mkdir "$TMP/targets"
sqlite3 "$TMP/targets/prod.db" <<'SQL'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, full_name TEXT, phone TEXT);
INSERT INTO users VALUES (1, 'keyed.subject@example.com', 'Keyed Subject', NULL),
                         (2, 'bob@example.com', 'Bob B', NULL);
SQL
write_config <<YAML
version: 1
targets:
  prod.users: "sqlite:$TMP/targets/prod.db?table=users"
YAML
expect_exit 0 steward request new erase --subject user.contact.email:keyed.subject@example.com
rid=$(cat "$OUT")
expect_exit 0 steward request run "$rid"
expect_stdout_contains "$rid: 1 target, 1 done, 0 not done"
expect_exit 0 steward search person
BASE=$TMP/base
mv "$WS" "$BASE"

q() { sqlite3 "$WS/.steward/audit.db" "$@"; }
use() {
	WS=$TMP/$1
	cp -a "$BASE" "$WS"
}
DB() { printf '%s' "$WS/.steward/audit.db"; }

use plain
run_seq=$(q "SELECT seq FROM records WHERE action = 'request.run'")
last=$(q 'SELECT max(seq) FROM records')
expect_equal 'request_events request_ids request_targets requests suppressed' \
	"$(q "SELECT group_concat(tbl, ' ') FROM (SELECT DISTINCT tbl FROM covered ORDER BY tbl)")" \
	'the erasure wrote rows of every covered table'
expect_equal 1 "$(q "SELECT count(*) FROM covered WHERE seq = $run_seq AND tbl = 'request_targets'")" \
	'the evidence row is covered by the request.run record'
expect_equal 0 "$(q "SELECT count(*) FROM records WHERE mac IS NULL OR length(mac) != 32")" \
	'every record has a 32-byte mac'
run python3 "$MAC" check "$BASE/.steward/audit.db" "$BASE/.steward/audit.key"
expect_equal "0: $last records match, $(q "SELECT (SELECT count(*) FROM requests) + (SELECT count(*) FROM request_ids) + (SELECT count(*) FROM request_targets) + (SELECT count(*) FROM request_events) + (SELECT count(*) FROM suppressed)") rows match" \
	"$RC: $(cat "$OUT")" 'audit_mac.py recomputes every mac, covers digest and row digest as documented'
expect_exit 0 steward audit verify
expect_stdout_contains "audit log intact: $last records, "

# ---- (1) checkpoints deleted, one record edited, every hash recomputed ----
use rechain-all
q "UPDATE records SET actor = 'mallory' WHERE seq = 3; DELETE FROM checkpoints"
run python3 "$CHAIN" rechain "$(DB)" 1
expect_equal "0: rechained $last records" "$RC: $(cat "$OUT")" 'the attacker recomputes every hash'
run python3 "$CHAIN" check "$(DB)"
expect_equal "0: $last records match" "$RC: $(cat "$OUT")" 'the unkeyed chain is whole again'
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 3: record 3 does not verify under the audit key (it was rewritten and its hash recomputed)'
run python3 "$MAC" check "$(DB)" "$WS/.steward/audit.key"
expect_equal '1: record 3: mac differs' "$RC: $(cat "$OUT")" 'audit_mac.py sees it too'

# A record dropped, the rest renumbered and rechained, checkpoints deleted.
use dropped
q "DELETE FROM records WHERE seq = 2; DELETE FROM checkpoints;
   UPDATE records SET seq = -(seq - 1) WHERE seq > 2; UPDATE records SET seq = -seq WHERE seq < 0;
   UPDATE covered SET seq = seq - 1 WHERE seq > 2"
run python3 "$CHAIN" rechain "$(DB)" 1
expect_exit 1 steward audit verify
expect_stdout_line 'audit log tampered: first bad seq 2: record 2 does not verify under the audit key (it was rewritten and its hash recomputed)'

# ---- (2) audit.db truncated to 0 bytes ----
use truncated
cp "$WS/.steward/audit.key" "$TMP/key.before"
: >"$(DB)"
msg_empty="error: the audit log '$(DB)' is empty but the workspace has an audit key; the log was truncated or replaced (see 'steward audit recover --help')"
for cmd in 'search person' 'audit verify' 'audit log' 'request list'; do
	# shellcheck disable=SC2086 # word splitting of the command is intended
	expect_exit 6 steward $cmd
	expect_stderr_line "$msg_empty"
	expect_stdout_empty
done
check 'audit.db is still 0 bytes: nothing was written into it' test ! -s "$(DB)"
check 'audit.key is untouched' cmp -s "$TMP/key.before" "$WS/.steward/audit.key"

# Cut short (not to 0 bytes): shorter than its SQLite header says; nothing is written to it.
use cut
sz=$(stat -c %s "$(DB)")
truncate -s 8192 "$(DB)"
check 'the log was longer than 8 KiB' test "$sz" -gt 8192
expect_exit 6 steward search person
expect_stderr_line "error: the audit log '$(DB)' is shorter than its header says but the workspace has an audit key; the log was truncated (see 'steward audit recover --help')"
expect_equal 8192 "$(stat -c %s "$(DB)")" 'the cut log is left as it is'

# ---- (3) audit.db replaced by a fresh log ----
use fresh-schema
rm -f "$(DB)" "$(DB)-wal" "$(DB)-shm"
sqlite3 "$(DB)" <"$STEWARD_SRC/schemas/audit-v1.sql"
chmod 600 "$(DB)"
sum=$(sha256sum <"$(DB)")
expect_exit 6 steward search person
expect_stderr_line "error: the audit log '$(DB)' is empty but the workspace has an audit key; the log was truncated or replaced (see 'steward audit recover --help')"
expect_equal "$sum" "$(sha256sum <"$(DB)")" 'the fresh log was not written to'

use other-workspace
init_ws "$TMP/other"
rm -f "$(DB)" "$(DB)-wal" "$(DB)-shm"
cp "$TMP/other/.steward/audit.db" "$(DB)"
expect_exit 6 steward search person
expect_stderr_line "error: audit log '$(DB)': '$WS/.steward/audit.key' is not the key this audit log is signed with"

# Forged: a fresh log that copies this log's public key and its first records (the hashes
# recompute; the macs cannot be made without the key).
use forged
sqlite3 "$TMP/forged.db" <"$STEWARD_SRC/schemas/audit-v1.sql"
sqlite3 "$TMP/forged.db" "PRAGMA user_version = 2; ATTACH '$(DB)' AS o; INSERT INTO meta SELECT * FROM o.meta;
	INSERT INTO records SELECT seq, ts_ms, actor, uid, role, action, object, purpose, outcome,
	  reason, counts, host, pid, version, pii, prev, hash, NULL, NULL FROM o.records WHERE seq <= 2"
rm -f "$(DB)" "$(DB)-wal" "$(DB)-shm"
cp "$TMP/forged.db" "$(DB)"
chmod 600 "$(DB)"
sum_forged=$(sha256sum "$(DB)" | cut -d' ' -f1)
expect_exit 6 steward audit verify
expect_stderr_line "error: the audit log '$(DB)' was not written with the workspace's audit key (record 1 does not verify); the log was replaced (see 'steward audit recover --help')"

# ---- (4) request evidence and the suppression list ----
use evidence-edit
q "UPDATE request_targets SET matched = 0, changed = 0"
expect_exit 1 steward audit verify
expect_stdout_line "audit log tampered: first bad seq $run_seq: request_targets row ($rid, prod.users) was changed after record $run_seq wrote it"

use event-edit
ev=$(q "SELECT max(id) FROM request_events")
q "UPDATE request_events SET detail = 'nothing happened' WHERE id = $ev"
expect_exit 1 steward audit verify
expect_stdout_line "audit log tampered: first bad seq $run_seq: request_events row ($ev) was changed after record $run_seq wrote it"

use status-edit
q "UPDATE requests SET status = 'open', completed_ms = NULL"
expect_exit 1 steward audit verify
expect_stdout_line "audit log tampered: first bad seq $run_seq: requests row ($rid) was changed after record $run_seq wrote it"

use suppression-delete
sup=$(q "SELECT category || ', ' || pseudonym FROM suppressed ORDER BY rowid LIMIT 1")
q "DELETE FROM suppressed WHERE rowid = (SELECT min(rowid) FROM suppressed)"
expect_exit 1 steward audit verify
expect_stdout_line "audit log tampered: first bad seq $run_seq: suppressed row ($sup) written by record $run_seq was deleted"

use suppression-add
q "INSERT INTO suppressed VALUES ('user.contact.email', 'k1:forged', '$rid', 0)"
expect_exit 1 steward audit verify
expect_stdout_line "audit log tampered: first bad seq $last: suppressed row (user.contact.email, k1:forged) was not written by a recorded command"

use covered-edit
q "DELETE FROM covered WHERE seq = $run_seq AND tbl = 'suppressed'; DELETE FROM suppressed"
expect_exit 1 steward audit verify
expect_stdout_line "audit log tampered: first bad seq $run_seq: the list of rows record $run_seq covers was changed"

# A pending row steward did not write is never chained as a record, and verify names it.
use forged-pending
q "INSERT INTO pending (ts_ms, actor, uid, role, action, object, purpose, host, pid, version, pii)
   VALUES (0, 'mallory', 0, 'admin', 'catalog.search', NULL, NULL, 'elsewhere', 1, '0', 0)"
pid_forged=$(q 'SELECT max(id) FROM pending')
expect_exit 0 steward search person
expect_equal 0 "$(q "SELECT count(*) FROM records WHERE actor = 'mallory'")" 'the forged pending row was not chained'
last_f=$(q 'SELECT max(seq) FROM records')
expect_exit 1 steward audit verify
expect_stdout_line "audit log tampered: first bad seq $last_f: pending row $pid_forged was not written by steward"

# ---- (5) recovery ----
use recover-denied
cp "$WS/steward.yaml" "$TMP/steward.yaml.admin"
: >"$(DB)"
printf 'version: 1\nroles:\n  users:\n    "%s": dpo\n' "$(id -un)" >"$WS/steward.yaml"
chmod 600 "$WS/steward.yaml"
expect_exit 6 steward audit recover --reason 'ticket 9'
expect_stderr_line "error: 'steward audit recover' needs the 'admin' role; '$(id -un)' has the 'dpo' role"
check 'audit.db is still 0 bytes after the denied recovery' test ! -s "$(DB)"
cp "$TMP/steward.yaml.admin" "$WS/steward.yaml"

expect_exit 2 steward audit recover
expect_stderr_line 'error: --reason is required: say why the log is recovered'
expect_exit 0 steward audit recover --help
expect_stdout_contains 'usage: steward audit recover --reason TEXT'

# After truncation: the old file (and its -wal) moved aside, a new log with a signed record 1.
WS=$TMP/truncated
expect_exit 0 steward audit recover --reason 'ticket 7: audit.db found empty'
moved=$(ls -d "$WS/.steward/"audit.db.bad-* | grep -v -- '-wal$')
expect_stdout_line "audit log recovered: the old log (0 bytes, sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855) is kept as '$moved'"
expect_stdout_line "the new log begins with record 1 (audit.recover), signed; export a new anchor with 'steward audit checkpoint --export FILE'"
check 'the old empty file is kept' test -f "$moved" -a ! -s "$moved"
check 'audit.key is untouched by the recovery' cmp -s "$TMP/key.before" "$WS/.steward/audit.key"
expect_exit 0 steward audit verify
expect_stdout_line 'audit log intact: 1 records, 1 checkpoints verified'
expect_stdout_contains 'head checkpoint: seq 1, '
expect_exit 0 steward audit log --json
expect_jq '.[0] | .seq == 1 and .action == "audit.recover" and .role == "admin" and .outcome == "ok" and
	.purpose == "ticket 7: audit.db found empty" and .counts.old_state == "empty" and
	.counts.old_size == 0 and
	.counts.old_sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"' \
	'record 1 says what was recovered, by whom and why'
expect_equal "$(basename "$moved")" "$(jq -r '.[0].object' "$OUT")" 'record 1 names the file kept aside'
run python3 "$MAC" check "$(DB)" "$WS/.steward/audit.key"
expect_equal '0: 3 records match, 0 rows match' "$RC: $(cat "$OUT")" 'the new log is bound to the same key'
# A usable log has nothing to recover; the attempt is recorded.
expect_exit 3 steward audit recover --reason 'again'
expect_stderr_line "error: the audit log in '$WS/.steward' opens under the workspace's audit key; there is nothing to recover (run 'steward audit verify')"
expect_exit 0 steward audit log --action audit.recover --json
expect_jq 'length == 2 and .[1].outcome == "error" and (.[1].reason | contains("nothing to recover"))' \
	'the refused recovery is in the log'

# After removal.
use removed
rm "$(DB)"
expect_exit 6 steward search person
expect_stderr_line "error: the audit log '$(DB)' is missing but the workspace has an audit key; the log was removed (see 'steward audit recover --help')"
expect_exit 0 steward audit recover --reason 'ticket 8'
expect_stdout_line 'audit log recovered: the old log was missing'
expect_exit 0 steward audit log --json
expect_jq '.[0].action == "audit.recover" and .[0].counts == {"old_state": "missing"} and .[0].object == null'

# After the forged replacement: its hash is recorded.
WS=$TMP/forged
expect_exit 0 steward audit recover --reason 'ticket 10'
expect_stdout_contains ", sha256 $sum_forged) is kept as '$WS/.steward/audit.db.bad-"
expect_exit 0 steward audit log --json
expect_jq ".[0].counts.old_state == \"replaced\" and .[0].counts.old_sha256 == \"$sum_forged\""
expect_exit 0 steward search person
expect_exit 0 steward audit verify
expect_stdout_contains 'audit log intact: 3 records, '

# Cut short, then recovered: the state is named.
WS=$TMP/cut
expect_exit 0 steward audit recover --reason 'ticket 11'
expect_stdout_contains "audit log recovered: the old log (8192 bytes, sha256 "
expect_exit 0 steward audit log --json
expect_jq '.[0].counts.old_state == "truncated" and .[0].counts.old_size == 8192'

# Damaged (not a database): recovered too.
use damaged
printf 'this is not an SQLite database, only text that is long enough\n' >"$(DB)"
expect_exit 5 steward search person
expect_stderr_line "error: audit log '$(DB)': database: file is not a database"
expect_exit 0 steward audit recover --reason 'ticket 12'
expect_exit 0 steward audit log --json
expect_jq '.[0].counts.old_state == "damaged" and .[0].counts.old_size == 62'

# ---- (6) a version 1 log is upgraded: every record bound, every covered row listed ----
use upgrade
q "ALTER TABLE records DROP COLUMN covers; ALTER TABLE records DROP COLUMN mac;
   ALTER TABLE pending DROP COLUMN mac; DROP TABLE covered; DROP TABLE pending_rows;
   PRAGMA user_version = 1"
expect_exit 0 steward audit verify
expect_stdout_contains "audit log intact: $last records, "
expect_equal 2 "$(q 'PRAGMA user_version')" 'the log is at version 2'
run python3 "$MAC" check "$(DB)" "$WS/.steward/audit.key"
check 'the upgraded log binds every record and covers every row' test "$RC" = 0

done_testing
