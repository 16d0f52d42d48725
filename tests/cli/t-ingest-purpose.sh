#!/bin/sh
# steward ingest needs a role that may ingest and a purpose: --purpose TEXT, or a pipeline
# declared under ingest.pipelines in steward.yaml. Without one, a role below admin cannot
# get the pseudonyms of values it chooses (the attack: ingest as a pseudonym look-up without
# the purpose pii hash requires); the refusal is recorded as a denial, and every run records
# its role and its purpose (redacted like --purpose). ingest.require_purpose: always asks it
# of admins too.
. "$(dirname "$0")/lib.sh"
require jq
ME=$(id -un)
CANARY=canary-purpose@example.com
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$FIXTURES/ingest/people.yaml"
cd "$TMP" || exit 99
printf '{"id":7,"email":"%s"}\n' "$CANARY" >in.jsonl

# config ROLE [YAML]: steward.yaml giving the current user ROLE, with YAML before roles.
config() {
	{ printf 'version: 1\n%s' "${2:-}"; printf 'roles:\n  users:\n    "%s": %s\n' "$ME" "$1"; } >"$WS/steward.yaml"
	chmod 600 "$WS/steward.yaml"
}
# last_ingest JQ DESC: checks the newest pii.ingest record (read as admin).
last_ingest() {
	cp "$WS/steward.yaml" saved.yaml
	config admin
	expect_exit 0 steward audit log --action pii.ingest --json
	expect_jq ".[-1] | $1" "$2"
	cp saved.yaml "$WS/steward.yaml"
}
need="give --purpose TEXT, or declare the pipeline under ingest.pipelines in steward.yaml"

# ---- the attack: an engineer ingests a chosen value without a purpose ----
config engineer
expect_exit_stdin 6 in.jsonl steward ingest t.person
expect_stderr_line "error: 'steward ingest' of 't.person' needs a purpose ('engineer' role): $need"
expect_stdout_empty 'no pseudonym comes out'
last_ingest ".outcome == \"denied\" and .role == \"engineer\" and .reason == \"needs a purpose\" and .purpose == null and .object == \"t.person\"" 'the refusal is recorded as a denial'
for role in steward dpo; do
	config $role
	expect_exit_stdin 6 in.jsonl steward ingest t.person
	expect_stderr_line "error: 'steward ingest' of 't.person' needs a purpose ('$role' role): $need"
done
# A role that may not ingest at all is refused for its role, purpose or not.
config viewer
expect_exit_stdin 6 in.jsonl steward ingest t.person --purpose 'nightly load'
expect_stderr_line "error: 'steward ingest' needs the 'engineer' role; '$ME' has the 'viewer' role"
expect_stdout_empty

# ---- --purpose: the run goes ahead and its record carries role and purpose ----
config engineer
expect_exit_stdin 0 in.jsonl steward ingest t.person --purpose 'DPA-7: onboarding load'
expect_jq '.email | startswith("k1:")' 'with a purpose, ingest runs'
last_ingest '.outcome == "ok" and .role == "engineer" and .purpose == "DPA-7: onboarding load" and .pii == true' 'role and purpose are recorded'
expect_exit_stdin 2 in.jsonl steward ingest t.person --purpose ''
expect_stderr_line 'error: --purpose needs a text: why the records are pseudonymized'
# Personal data typed into the purpose is not recorded.
expect_exit_stdin 0 in.jsonl steward ingest t.person --purpose "complaint from $CANARY"
last_ingest ".purpose | test(\"canary-purpose\") | not" 'an address in the purpose is redacted in the record'

# ---- a pipeline declared in steward.yaml gives the purpose ----
pipelines='ingest:
  pipelines:
    "crm.*": "customer onboarding"
    "t.*": "people feed, record of processing entry 12"
'
config engineer "$pipelines"
expect_exit_stdin 0 in.jsonl steward ingest t.person
last_ingest '.outcome == "ok" and .purpose == "people feed, record of processing entry 12"' 'the first matching pipeline is the purpose'
expect_exit_stdin 0 in.jsonl steward ingest t.person --purpose 'backfill, ticket 9'
last_ingest '.purpose == "backfill, ticket 9"' '--purpose wins over the pipeline'
config engineer 'ingest:
  pipelines:
    "crm.*": "customer onboarding"
'
expect_exit_stdin 6 in.jsonl steward ingest t.person
expect_stderr_line "error: 'steward ingest' of 't.person' needs a purpose ('engineer' role): $need"
config engineer 'ingest:
  pipelines:
    "t.*":
'
expect_exit_stdin 3 in.jsonl steward ingest t.person
expect_stderr_line "error: $WS/steward.yaml:4:5: ingest.pipelines: the purpose of 't.*' must be a text"
config engineer 'ingest:
  pipelines: [t.person]
'
expect_exit_stdin 3 in.jsonl steward ingest t.person
expect_stderr_line "error: $WS/steward.yaml:3:14: ingest.pipelines must map dataset names or patterns to purposes"

# ---- admin: ad-hoc runs need none unless require_purpose says always ----
config admin
expect_exit_stdin 0 in.jsonl steward ingest t.person
last_ingest '.outcome == "ok" and .role == "admin" and .purpose == null' 'an admin ad-hoc run, recorded without a purpose'
config admin 'ingest:
  require_purpose: always
'
expect_exit_stdin 6 in.jsonl steward ingest t.person
expect_stderr_line "error: 'steward ingest' of 't.person' needs a purpose ('admin' role): $need"
expect_stdout_empty
expect_exit_stdin 0 in.jsonl steward ingest t.person --purpose 'quarterly reload'
config admin 'ingest:
  require_purpose: sometimes
'
expect_exit_stdin 3 in.jsonl steward ingest t.person
expect_stderr_line "error: ingest.require_purpose in '$WS/steward.yaml' must be always or below_admin, not 'sometimes'"

done_testing
