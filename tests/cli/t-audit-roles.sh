#!/bin/sh
# Roles from steward.yaml: the current user mapped to each role in turn (by user name, by
# primary group, both: the strongest wins), what each level may and may not run, the exact
# denial (exit 6, nothing on stdout), no role at all, malformed `roles:` sections (located
# errors), and every denial in `audit log --outcome denied` with the role it needed.
# `pii hash` needs --purpose, which its record keeps.
. "$(dirname "$0")/lib.sh"
require jq
ME=$(id -un)
GROUP=$(id -gn)
CANARY=canary-roles@example.com

init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$FIXTURES/ingest/people.yaml"
printf '{"id":7,"email":"%s"}\n' "$CANARY" >"$TMP/in.jsonl"

# roles_yaml: steward.yaml with standard input as its roles section, mode 0600.
roles_yaml() {
	{ printf 'version: 1\nroles:\n'; cat; } >"$WS/steward.yaml"
	chmod 600 "$WS/steward.yaml"
}
# as ROLE: the current user has ROLE, by name.
as() { printf '  users:\n    "%s": %s\n' "$ME" "$1" | roles_yaml; }

# allowed CODE CMD...: CMD runs (exit CODE) and is not refused.
allowed() {
	local code="$1"
	shift
	STDIN=$TMP/in.jsonl
	expect_exit "$code" steward "$@"
	STDIN=
	expect_stderr_lacks 'role' "no role complaint: $(show_cmd "$@")"
}
# denied NEED HAS VERB CMD...: CMD is refused with exit 6, the exact message and no output.
# HAS is a role name, or "" for none.
denied() {
	local need="$1" has="$2" verb="$3" msg
	shift 3
	if [ -n "$has" ]; then
		msg="error: 'steward $verb' needs the '$need' role; '$ME' has the '$has' role"
	else
		msg="error: 'steward $verb' needs the '$need' role; '$ME' has no role (see 'roles' in steward.yaml)"
	fi
	STDIN=$TMP/in.jsonl
	expect_exit 6 steward "$@"
	STDIN=
	if [ "$(cat "$ERR")" = "$msg" ]; then
		pass "the denial message: $(show_cmd "$@")"
	else
		fail "the denial message: $(show_cmd "$@")" "want: $msg" "$(last_output)"
	fi
	expect_stdout_empty "nothing on stdout: $(show_cmd "$@")"
}

# ---- viewer: search, show, lineage ----
as viewer
allowed 0 search person
expect_stdout_contains 't.person'
allowed 0 show t.person
allowed 0 lineage t.person
denied engineer viewer 'catalog load' catalog load "$FIXTURES/ingest/people.yaml"
denied engineer viewer ingest ingest t.person
denied steward viewer 'pii map' pii map
denied dpo viewer 'audit log' audit log

# ---- engineer: + catalog load, ingest ----
as engineer
allowed 0 search person
allowed 0 catalog load "$FIXTURES/ingest/people.yaml"
expect_stdout_contains 'catalog: 2 datasets'
allowed 0 ingest t.person --purpose 'nightly load'
expect_jq '.id | startswith("k1:")' 'ingest ran: the id is a pseudonym'
denied steward engineer 'pii map' pii map
denied steward engineer 'key list' key list
denied dpo engineer 'request list' request list

# ---- steward: + pii map/check, keys ----
as steward
allowed 0 pii map
allowed 0 key list
expect_stdout_contains 'current'
allowed 0 catalog load "$FIXTURES/ingest/people.yaml"
denied dpo steward 'pii hash' pii hash --purpose 'ticket 42' --category user.contact.email "$CANARY"
denied dpo steward 'request new' request new erase --subject "user.contact.email:$CANARY"
denied dpo steward 'audit verify' audit verify

# ---- dpo: + pseudonym look-ups, requests, audit ----
as dpo
allowed 0 pii hash --purpose 'ticket 42' --category user.contact.email "$CANARY"
expect_stdout_contains 'k1:'
allowed 0 request new erase --subject "user.contact.email:$CANARY"
check 'request new printed an id' grep -Eqx 'R-[0-9]{8}-[0-9]{4}' "$OUT"
allowed 0 request list
allowed 0 audit verify
expect_stdout_contains 'audit log intact: '
allowed 0 audit log
allowed 0 search person
denied admin dpo init init "$WS"

# --purpose is required, and kept in the record.
expect_exit 2 steward pii hash --category user.name x
expect_stderr_line 'error: --purpose is required: a pseudonym look-up is audited with its reason'
expect_stdout_empty
expect_exit 2 steward pii hash --purpose '' --category user.name x
expect_stderr_line 'error: --purpose is required: a pseudonym look-up is audited with its reason'
expect_exit 0 steward pii hash --purpose 'ticket 43: fraud check' --category user.name x
expect_exit 0 steward audit log --action pii.hash --json
expect_jq '.[-1] | .purpose == "ticket 43: fraud check" and .object == "user.name" and .pii == true and
	.outcome == "ok" and .role == "dpo"' 'the look-up is recorded with its purpose'
expect_jq '[.[] | select(.outcome == "ok")] | length == 2' 'two look-ups ran (the denied one is not ok)'

# ---- admin: everything, init on an existing workspace included ----
as admin
cp "$WS/steward.yaml" "$TMP/steward.yaml.admin"
allowed 0 init "$WS"
expect_stdout_line "reinitialized existing steward workspace in '$WS'"
check 'steward.yaml is kept by init' cmp -s "$WS/steward.yaml" "$TMP/steward.yaml.admin"
allowed 0 audit checkpoint

# ---- no role ----
printf '  users:\n    "somebody-else-%s": admin\n' "$ME" | roles_yaml
denied viewer '' search search person
denied viewer '' show show t.person
printf 'version: 1\n' >"$WS/steward.yaml"
chmod 600 "$WS/steward.yaml"
denied viewer '' search search person
printf 'version: 1\nroles:\n' >"$WS/steward.yaml"
chmod 600 "$WS/steward.yaml"
denied viewer '' lineage lineage t.person

# ---- groups: the primary group, and the strongest of user and group wins ----
printf '  groups:\n    "%s": steward\n' "$GROUP" | roles_yaml
allowed 0 pii map
denied dpo steward 'pii hash' pii hash --purpose 'p' --category user.name x
printf '  users:\n    "%s": viewer\n  groups:\n    "%s": dpo\n' "$ME" "$GROUP" | roles_yaml
allowed 0 audit log
printf '  users:\n    "%s": dpo\n  groups:\n    "%s": viewer\n' "$ME" "$GROUP" | roles_yaml
allowed 0 audit log
printf '  users:\n    "%s": engineer\n  groups:\n    "%s": viewer\n    "no-such-group-%s": admin\n' \
	"$ME" "$GROUP" "$ME" | roles_yaml
denied steward engineer 'pii map' pii map
printf '  groups:\n    "no-such-group-%s": admin\n' "$ME" | roles_yaml
denied viewer '' search search person

# ---- malformed roles: located errors (exit 3), for everyone ----
# bad_roles WANT: steward.yaml from standard input is refused with WANT (after "error: ").
bad_roles() {
	roles_yaml
	expect_exit 3 steward search person
	expect_stderr_line "error: $WS/steward.yaml:$1"
	expect_stdout_empty
}
printf '  users:\n    "%s": superuser\n' "$ME" | bad_roles \
	"4:$((${#ME} + 9)): unknown role 'superuser' (the roles are viewer, engineer, steward, dpo and admin)"
printf '  users:\n    "%s": admin\n    "somebody-else": Viewer\n' "$ME" | bad_roles \
	"5:22: unknown role 'Viewer' (the roles are viewer, engineer, steward, dpo and admin)"
printf '  groups:\n    "%s": none\n' "$GROUP" | bad_roles \
	"4:$((${#GROUP} + 9)): unknown role 'none' (the roles are viewer, engineer, steward, dpo and admin)"
printf '  users:\n    "%s": [admin, dpo]\n' "$ME" | bad_roles \
	"4:$((${#ME} + 9)): the role of '$ME' must be one role name"
printf '  people:\n    "%s": admin\n' "$ME" | bad_roles \
	"3:3: unknown setting 'roles.people' (use 'users' or 'groups')"
printf '  users: ["%s"]\n' "$ME" | bad_roles \
	"3:10: 'roles.users' must map names to roles"
printf 'version: 1\nroles: [admin]\n' >"$WS/steward.yaml" # roles_yaml would add "roles:"
chmod 600 "$WS/steward.yaml"
expect_exit 3 steward search person
expect_stderr_line "error: $WS/steward.yaml:2:8: 'roles' must be a mapping with 'users' and 'groups'"

# ---- every denial is in the log, with the role it needed ----
as admin
expect_exit 0 steward audit log --outcome denied --json
expect_jq 'all(.[]; .outcome == "denied" and .actor == "'"$ME"'" and (.reason | test("^needs the '"'"'(viewer|engineer|steward|dpo|admin)'"'"' role$")))' \
	'each denial: the actor and "needs the X role"'
jq -r '.[] | "\(.action) \(.role) \(.reason)"' "$OUT" >"$TMP/denials"
cat >"$TMP/denials.want" <<'EOF'
catalog.load viewer needs the 'engineer' role
pii.ingest viewer needs the 'engineer' role
pii.map viewer needs the 'steward' role
audit.log viewer needs the 'dpo' role
pii.map engineer needs the 'steward' role
key.list engineer needs the 'steward' role
request.list engineer needs the 'dpo' role
pii.hash steward needs the 'dpo' role
request.new steward needs the 'dpo' role
audit.verify steward needs the 'dpo' role
workspace.init dpo needs the 'admin' role
catalog.search none needs the 'viewer' role
catalog.show none needs the 'viewer' role
catalog.search none needs the 'viewer' role
catalog.lineage none needs the 'viewer' role
pii.hash steward needs the 'dpo' role
pii.map engineer needs the 'steward' role
catalog.search none needs the 'viewer' role
EOF
test_cmp "$TMP/denials.want" "$TMP/denials" 'the denials, in order, with the role each had and needed'
expect_jq '[.[] | select(.action == "pii.hash")] | all(.purpose == "ticket 42" or .purpose == "p")' \
	'a denied look-up still records its stated purpose'
expect_exit 0 steward audit log --outcome error --action catalog.search --json
expect_jq 'length == 7 and all(.[]; .role == "none")' 'the malformed roles sections are recorded as errors'

# The subject never reached the workspace in clear.
check 'the canary value is nowhere in the workspace' sh -c "! grep -rqa -e '$CANARY' '$WS'"

done_testing
