#!/bin/sh
# The command line as a client of steward serve, with two real OS users (useradd): a service
# user who owns the workspace and runs the server, and an engineer whose own steward.yaml
# only names the server's socket. The engineer searches, shows, follows lineage and ingests
# through the server and sees what the owner's CLI prints; cannot open audit.db, the audit
# key or the keys, nor use the workspace directly; cannot reach admin verbs, a file-writing
# option or --home through the server; a verb above the engineer's role is refused by the
# command itself. The audit log shows each command under the engineer's own name, and only
# the workspace's owner may act for another user (STEWARD_DELEGATE).
. "$(dirname "$0")/lib.sh"
require curl jq sqlite3
if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null || ! command -v setpriv >/dev/null; then
	echo '1..0 # SKIP needs root, useradd and setpriv (two OS users are created)'
	exit 77
fi
o=stwo$$
e=stwe$$
useradd -M -U -s /bin/sh "$o" || { echo "Bail out! cannot add user $o"; exit 99; }
useradd -M -U -G "$o" -s /bin/sh "$e" || { userdel "$o"; echo "Bail out! cannot add user $e"; exit 99; }
trap '[ -z "${pid:-}" ] || kill "$pid" 2>/dev/null; wait 2>/dev/null; userdel "$e"; userdel "$o"; groupdel "$e" 2>/dev/null; groupdel "$o" 2>/dev/null; rm -rf "$TMP"' EXIT
as() { # as USER CMD...: CMD as USER, in a clean environment
	u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --init-groups env -i PATH=/usr/bin:/bin LC_ALL=C.UTF-8 \
		HOME="$TMP" "$@"
}
chmod 0711 "$TMP"
SRV=$TMP/srv
W=$SRV/ws
mkdir -p "$SRV/run" "$TMP/eng"
chown "$o:$o" "$SRV" "$SRV/run"
chmod 0750 "$SRV/run"
chown "$e:$e" "$TMP/eng"
cp "$STEWARD_SRC/examples/events.jsonl" "$TMP/events.jsonl"
chmod 0644 "$TMP/events.jsonl"

# ---- the service user's workspace ----
run as "$o" "$STEWARD" init "$W"
expect_equal 0 "$RC" "the service user makes the workspace $(last_output)"
printf 'roles:\n  users:\n    %s: admin\n    %s: engineer\n' "$o" "$e" >"$W/steward.yaml"
chown "$o:$o" "$W/steward.yaml"
chmod 0600 "$W/steward.yaml"
run as "$o" "$STEWARD" --home "$W" key init
expect_equal 0 "$RC" "key init $(last_output)"
run as "$o" "$STEWARD" --home "$W" catalog load "$STEWARD_SRC/examples/catalog"
expect_equal 0 "$RC" "catalog load $(last_output)"

mkfifo "$TMP/serve.out"
# (not through as(): $! must be the server itself, which setpriv and env become)
setpriv --reuid="$o" --regid="$o" --init-groups env -i PATH=/usr/bin:/bin LC_ALL=C.UTF-8 \
	HOME="$TMP" "$STEWARD" --home "$W" serve --no-tcp --socket "$SRV/run/s.sock" --threads 2 \
	>"$TMP/serve.out" 2>"$TMP/serve.err" &
pid=$!
exec 3<"$TMP/serve.out"
IFS= read -r l1 <&3
expect_equal "listening on unix:$SRV/run/s.sock" "$l1" 'the service user serves it on a socket'

# ---- the engineer: a steward.yaml of their own that names the socket ----
printf 'server:\n  socket: %s\n' "$SRV/run/s.sock" >"$TMP/eng/steward.yaml"
chown "$e:$e" "$TMP/eng/steward.yaml"
chmod 0600 "$TMP/eng/steward.yaml"
eng() { # eng CMD...: steward as the engineer in their directory; stdin from $STDIN
	RC=0
	(cd "$TMP/eng" && as "$e" "$STEWARD" "$@") >"$OUT" 2>"$ERR" <"${STDIN:-/dev/null}" || RC=$?
}
own() { # own CMD...: steward as the service user on the workspace
	RC=0
	as "$o" "$STEWARD" --home "$W" "$@" >"$TMP/own.out" 2>"$TMP/own.err" <"${STDIN:-/dev/null}" || RC=$?
}

eng search revenue
expect_equal 0 "$RC" "search through the server: exit 0 $(last_output)"
own search revenue
check 'it prints what the owner'"'"'s own search prints' cmp "$OUT" "$TMP/own.out"
expect_stdout_contains 'bi.revenue'
eng search revenue --json --limit 2
own search revenue --json --limit 2
check 'search --json too' cmp "$OUT" "$TMP/own.out"
eng show dw.dim_user
own show dw.dim_user
check 'show prints the same card' cmp "$OUT" "$TMP/own.out"
eng lineage bi.revenue --both --depth 2
own lineage bi.revenue --both --depth 2
check 'lineage prints the same graph' cmp "$OUT" "$TMP/own.out"
eng show no.such
expect_equal 4 "$RC" 'a dataset that is not there: exit 4, as the CLI'
expect_stderr_contains "error: no dataset 'no.such' in the catalog"

STDIN=$TMP/events.jsonl eng ingest 'events.*' --label event_type --purpose 'client test'
erc=$RC
cp "$OUT" "$TMP/eng-ingest.out"
STDIN=$TMP/events.jsonl own ingest 'events.*' --label event_type --purpose 'client test'
expect_equal "$RC" "$erc" 'ingest through the server exits as the owner'"'"'s own ingest'
check 'and writes the same pseudonymized records' cmp "$TMP/eng-ingest.out" "$TMP/own.out"
check 'no raw user id in its output' sh -c "! grep -q '\"user_id\":1801019' '$TMP/eng-ingest.out'"

# ---- what the engineer cannot do ----
check 'the engineer cannot open audit.db' sh -c "! setpriv --reuid=$e --regid=$e --init-groups sqlite3 '$W/.steward/audit.db' 'SELECT count(*) FROM records' >/dev/null 2>&1"
check 'nor read the audit key' sh -c "! setpriv --reuid=$e --regid=$e --init-groups cat '$W/.steward/audit.key' >/dev/null 2>&1"
check 'nor list the keys' sh -c "! setpriv --reuid=$e --regid=$e --init-groups ls '$W/.steward/keys' >/dev/null 2>&1"
check 'nor read steward.yaml' sh -c "! setpriv --reuid=$e --regid=$e --init-groups cat '$W/steward.yaml' >/dev/null 2>&1"
eng --home "$W" search revenue
expect_equal 6 "$RC" 'the workspace itself is refused to the engineer: exit 6'
refused() { # refused MESSAGE: the server refused the command with MESSAGE, exit 6
	expect_equal 6 "$RC" "refused: exit 6"
	expect_stderr_line "error: the server at '$SRV/run/s.sock' refused the command: $1"
}
eng token new "$e"
refused "'steward token new' is not run through the server (search, show, lineage, pii map, pii check and ingest are)"
eng audit verify
refused "'steward audit verify' is not run through the server (search, show, lineage, pii map, pii check and ingest are)"
eng key rotate
refused "'steward key rotate' is not run through the server (search, show, lineage, pii map, pii check and ingest are)"
eng search --home /tmp revenue
refused "'steward search' takes no '--home' through the server"
eng search --ho=/tmp revenue
refused "'steward search' takes no '--ho' through the server"
STDIN=$TMP/events.jsonl eng ingest 'events.*' --label event_type --rejects "$TMP/r.jsonl"
refused "'steward ingest' takes no '--rejects' through the server"
eng ingest 'events.*' "$W/.steward/audit.key"
refused "'steward ingest' takes no file through the server (its records come on standard input)"
eng lineage import "$TMP/events.jsonl"
refused "'steward lineage import' is not run through the server (post the events to /api/v1/lineage)"
eng version
expect_equal 0 "$RC" 'version runs here, not through the server'
expect_stdout_contains 'steward '
eng pii map
expect_equal 6 "$RC" 'a verb above the engineer'"'"'s role: the command refuses it, exit 6'
expect_stderr_line "error: 'steward pii map' needs the 'steward' role; '$e' has the 'engineer' role"

# ---- only the workspace's owner may act for another user ----
init_ws "$TMP/w2"
run env STEWARD_DELEGATE="0:$e" "$STEWARD" --home "$TMP/w2" search x
expect_equal 6 "$RC" 'the owner (here root) may: the command is the engineer'"'"'s, with their role'
expect_stderr_line "error: 'steward search' needs the 'viewer' role; '$e' has no role (see 'roles' in steward.yaml)"
chown "$o" "$TMP/w2/.steward"
run env STEWARD_DELEGATE="0:$e" STEWARD_SAFE_DIRECTORIES="$TMP/w2" "$STEWARD" --home "$TMP/w2" search x
expect_equal 6 "$RC" 'anyone else is refused: exit 6'
expect_stderr_line "error: STEWARD_DELEGATE is set, but only the workspace's owner (uid $(id -u "$o")) may act for another user"

# ---- stop; the records, under the engineer's own name ----
kill -TERM "$pid"
IFS= read -r l2 <&3
wait "$pid"
pid=
exec 3<&-
expect_equal 'stopping on SIGTERM' "$l2" 'the server stops'
eng search revenue
expect_equal 5 "$RC" 'no server: exit 5'
expect_stderr_line "error: cannot reach the server at '$SRV/run/s.sock' (server.socket in steward.yaml): Couldn't connect to server"
own audit log --json --action catalog.search
expect_jq "[.[] | select(.actor == \"$e\") | .outcome] | length >= 2" true "$TMP/own.out"
own audit log --json --action pii.ingest
expect_jq "[.[] | .actor] | unique" "[\"$e\",\"$o\"]" "$TMP/own.out"
own audit log --json --action pii.map
expect_jq "[.[] | [.actor, .role, .outcome]]" "[[\"$e\",\"engineer\",\"denied\"]]" "$TMP/own.out"
own audit log --json --action serve.cli
expect_jq "[.[] | .actor] | unique" "[\"$e\"]" "$TMP/own.out"
expect_jq "[.[] | select(.outcome == \"ok\")] | length" 7 "$TMP/own.out"
own audit verify
expect_equal 0 "$RC" 'the audit log is intact'
done_testing
