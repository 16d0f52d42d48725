#!/bin/sh
# steward pii map: every personal-data field of the catalog, declared and derived, grouped
# by category, as text and as JSON; and the derived tags on the dataset card.
. "$(dirname "$0")/lib.sh"
require jq

init_ws
expect_exit 0 steward catalog load "$CORPUS"

# ---- text, on the sample ----
expect_exit 0 steward pii map
expect_stderr_empty
expect_stdout_line 'user.contact.email (User Contact Email)'
# map_row DATASET FIELD CLASS TRANSFORM OWNER SYSTEM SOURCE: one row (regex parts).
map_row() {
	check "row: $1 $2 $3" grep -qE "^  $1 +$2 +$3 +$4 +$5 +$6 +$7\$" "$OUT"
}
map_row 'prod\.users' email direct - identity-eng mysql declared
map_row 'dw\.dim_user' email_key pseudonymous - data-eng redshift declared
map_row 'events\.signup' 'context\.ip' direct hash growth-eng kafka declared
map_row 'events\.purchase' 'payment\.card_number' sensitive mask commerce-eng kafka declared
check 'prod.users.email and dw.dim_user.email_key are under user.contact.email' sh -c \
	'awk "/^[^ ]/ { cat = \$1 } / email_key / || / prod\\.users +email / { print cat }" "$1" |
	sort -u | grep -qx user.contact.email' sh "$OUT"
expect_stdout_line '(no category)' 'fields without a category come last'
expect_stdout_lacks 'paying_learners' 'a field with a pii_reason is not personal data'
expect_stdout_lacks 'derived from' 'the sample has no derived fields'
expect_stdout_line '72 PII fields in 20 datasets: 72 declared, 0 derived; 4 sensitive, 27 direct, 28 indirect, 13 pseudonymous'

# ---- JSON, on the sample ----
expect_exit 0 steward pii map --json
expect_jq '.categories | length > 10' 'categories'
expect_jq '[.categories[].category | select(. != null)] | . == sort' 'categories sorted by key'
expect_jq '.categories[-1].category == null and .categories[-1].name == null' \
	'no category: last, as null'
expect_jq 'all(.categories[].fields[]; keys == (["class", "dataset", "declared", "derived",
	"derived_from", "field", "kind", "origin", "owner", "system", "transform"]))' \
	'every field has the documented keys'
expect_jq '.categories[] | select(.category == "user.contact.email") | .name == "User Contact Email"
	and ([.fields[] | .dataset + "." + .field] | index("prod.users.email") != null
	and index("dw.dim_user.email_key") != null)' 'user.contact.email holds prod.users.email and dw.dim_user.email_key'
expect_jq '.categories[].fields[] | select(.dataset == "prod.users" and .field == "email")
	== {"dataset": "prod.users", "field": "email", "class": "direct", "declared": "direct",
	"derived": false, "derived_from": null, "origin": null, "transform": null,
	"owner": "identity-eng", "system": "mysql", "kind": "table"}' 'prod.users.email, declared'
expect_jq '.totals == {"fields": 72, "declared": 72, "derived": 0, "datasets": 20, "categories": 17,
	"by_class": {"sensitive": 4, "direct": 27, "indirect": 28, "pseudonymous": 13}}' 'totals'
expect_jq '.totals.fields == ([.categories[].fields[]] | length)' 'totals.fields counts the rows'

# ---- derived fields ----
expect_exit 0 steward catalog load "$CORPUS" "$FIXTURES/propagation/derived.yaml"
expect_exit 0 steward pii map
map_row 'mart\.user_emails' email_copy direct - growth-analytics bigquery 'derived from prod\.users\.email'
map_row 'mart\.email_domains' domain direct - growth-analytics bigquery \
	'derived from mart\.user_emails\.email_copy'
map_row 'mart\.user_emails' user_hash pseudonymous - growth-analytics bigquery \
	'derived from events\.signup\.user_id'
map_row 'mart\.user_emails' card_hint sensitive - growth-analytics bigquery \
	'derived from events\.purchase\.payment\.card_number'
map_row 'mart\.user_emails' age_band indirect - growth-analytics bigquery declared
expect_stdout_lacks 'learners' 'aggregate with a reason, and what it feeds, are not in the map'
expect_stdout_line '77 PII fields in 22 datasets: 73 declared, 4 derived; 5 sensitive, 29 direct, 29 indirect, 14 pseudonymous'

expect_exit 0 steward pii map --json
expect_jq '.categories[] | select(.category == "user.contact.email") | .fields[]
	| select(.dataset == "mart.email_domains") | .field == "domain" and .class == "direct"
	and .declared == "none" and .derived and .derived_from == "mart.user_emails.email_copy"
	and .origin == "prod.users.email"' 'derived through a chain: under the source category, with its origin'
expect_jq '.categories[] | select(.category == "user.financial.credit_card") | .fields[]
	| select(.field == "card_hint") | .class == "sensitive" and .declared == "indirect" and .derived' \
	'a weaker declared class is shown derived'
expect_jq '.categories[] | select(.category == "user.unique_id") | .fields[]
	| select(.field == "user_hash") | .class == "pseudonymous" and .derived_from == "events.signup.user_id"' \
	'across a hash: pseudonymous'
expect_jq '.totals.derived == 4 and .totals.declared == 73'

# ---- the card shows derived tags apart from declared classes ----
expect_exit 0 steward show mart.user_emails
expect_stderr_empty
check 'email_copy is declared none' grep -qE '^  email_copy +string +none +- +-$' "$OUT"
expect_stdout_line '              <- prod.users.email'
expect_stdout_line '              <- derived direct from prod.users.email'
expect_stdout_line '              <- derived sensitive from events.purchase.payment.card_number'
expect_stdout_line '              <- derived pseudonymous from events.signup.user_id'
expect_count 3 '<- derived' "$OUT" 'age_band, as strong as its source, has no derived tag'
expect_exit 0 steward show mart.user_emails --json
expect_jq '.fields[] | select(.path == "email_copy") | .pii == "none"
	and .derived == {"class": "direct", "from": "prod.users.email"}' '--json: derived {class, from}'
expect_jq '.fields[] | select(.path == "age_band") | has("derived") | not' '--json: no derived tag when not stronger'
expect_exit 0 steward show mart.email_domains
expect_stdout_line '               <- derived direct from mart.user_emails.email_copy'
expect_stdout_line '               pii_reason: count of learners per domain'
expect_count 1 '<- derived' "$OUT" 'learners (reason) and top_learner (fed by it) inherit nothing'
expect_exit 0 steward show dw.dim_user
expect_stdout_lacks '<- derived' 'pseudonymous keys of prod ids are not shown as direct'

# ---- usage ----
expect_exit 2 steward pii map extra
expect_stderr_contains "error: 'pii map' takes no arguments"
expect_exit 0 steward pii map --help
expect_stdout_contains 'usage: steward pii map [--json]'

done_testing
