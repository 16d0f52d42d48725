#!/bin/sh
# End to end: a class declared by a descriptor travels across an OpenLineage DIRECT column
# edge to an observed field, stops at a masking edge (pseudonymous at most, as across a
# hash) and at an INDIRECT one (none), through pii map, pii check (untagged personal data
# observed in lineage) and erasure planning; once a descriptor claims the dataset and tags
# it, pii check is clean.
. "$(dirname "$0")/lib.sh"
require jq

F=$FIXTURES/openlineage
C=postgres-dw-example-5432.mart_public_contacts
init_ws
expect_exit 0 steward catalog load "$F/crm.yaml"
expect_exit 0 steward lineage import "$F/events-pii.ndjson"
expect_stdout_line 'imported 2 events: 2 applied, 0 rejected, 0 ignored (0 already imported, 0 superseded)'

# ---- pii map ----
expect_exit 0 steward pii map --json
expect_jq "[.categories[] | .category as \$c | .fields[] | select(.dataset == \"$C\")
	| [\$c, .field, .class, .derived, .derived_from]]" \
	"[[\"user.contact.email\",\"contact_email\",\"direct\",true,\"crm.users.email\"],
	  [\"user.contact.email\",\"email_digest\",\"pseudonymous\",true,\"crm.users.email\"]]"
expect_jq "[.categories[].fields[] | select(.dataset == \"$C\" and .field == \"country\")]" '[]'
expect_exit 0 steward show "$C"
expect_stdout_line '                 <- crm.users.email (DIRECT/IDENTITY)'
expect_stdout_line '                 <- derived direct from crm.users.email'
expect_stdout_line '                 <- crm.users.email (DIRECT/TRANSFORMATION, masking)'
expect_stdout_line '                 <- derived pseudonymous from crm.users.email'
expect_stdout_line '                 <- crm.users.email (INDIRECT/FILTER)'

# ---- pii check: untagged personal data observed in lineage ----
expect_exit 1 steward pii check
expect_stdout_line 'no field declared pii none inherits personal data without a pii_reason'
expect_stdout_line 'untagged personal data observed in lineage:'
expect_stdout_line "  '$C.contact_email' inherits direct from 'crm.users.email'; no descriptor tags it"
expect_stdout_line "    $C.contact_email <- crm.users.email (declared direct)"
expect_stdout_line "  '$C.email_digest' inherits pseudonymous from 'crm.users.email'; no descriptor tags it"
expect_stdout_line "  '$C.phone_number' (VARCHAR) is named like phone data (direct, user.contact.phone_number); no descriptor tags it"
expect_stdout_line '3 observed fields hold untagged personal data'
expect_stdout_lacks "'$C.country'"
expect_stdout_lacks "'$C.visits'"
expect_exit 1 steward pii check --json
expect_jq '[.findings[] | [.field, .class, .observed, .reason, .rule]]' \
	'[["contact_email","direct",true,"inherits",null],["email_digest","pseudonymous",true,"inherits",null],["phone_number","direct",true,"name","phone"]]'

# ---- erasure planning: the copy across the DIRECT edge is where the subject is ----
expect_exit 0 steward key init
printf 'a@b.example\n' >"$TMP/subject"
expect_exit_stdin 0 "$TMP/subject" steward request new erase --subject user.contact.email:-
ID=$(cat "$OUT")
expect_exit 0 steward request plan "$ID" --json
expect_jq "[.manual[] | select(.dataset == \"$C\") | [.match_field, .match_category]]" \
	'[["contact_email","user.contact.email"]]'
expect_jq '[.manual[].dataset] | sort' "[\"crm.users\",\"$C\"]"

# ---- a descriptor claims and tags the dataset: one dataset, nothing untagged ----
expect_exit 0 steward catalog load "$F/crm.yaml" "$F/claim"
expect_exit 0 steward pii check
expect_stdout_lacks 'untagged personal data observed in lineage:'
expect_exit 4 steward show "$C"
expect_exit 0 steward show dw.contacts --json
expect_jq '[.observed, .openlineage.name, (.fields[] | select(.path == "contact_email") | .from_transformations)]' \
	'[false,"mart.public.contacts",["DIRECT/IDENTITY"]]'
expect_exit 0 steward request plan "$ID" --json
expect_jq '[.manual[].dataset] | sort' '["crm.users","dw.contacts"]'

done_testing
