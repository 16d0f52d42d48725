#!/bin/sh
# steward pii check: the sample catalog passes because its aggregates state a pii_reason;
# without one a field is named with its source and chain, and the check exits 1.
. "$(dirname "$0")/lib.sh"
require jq

init_ws
expect_exit 0 steward catalog load "$CORPUS"

# ---- the sample: both aggregate counts state their reason ----
expect_exit 0 steward pii check
expect_stderr_empty
expect_stdout_line 'no field declared pii none inherits personal data without a pii_reason'
expect_exit 0 steward pii check --json
expect_jq '.count == 0 and .findings == []' 'the sample has no findings'

# The reason shows on the card; a field with a reason has no derived tag.
expect_exit 0 steward show dw.revenue_daily
expect_stdout_line '                    pii_reason: distinct count of learners per day and category'
expect_stdout_lacks '<- derived'
expect_exit 0 steward show dw.revenue_daily --json
expect_jq '.fields[] | select(.path == "paying_learners")
	| .pii_reason == "distinct count of learners per day and category" and (has("derived") | not)' \
	'--json: paying_learners has its pii_reason and no derived tag'

# ---- a copy without the reason on paying_learners ----
cp -R "$CORPUS" "$TMP/cat"
sed -i 's/pii_reason: distinct count of learners per day and category, //' "$TMP/cat/dw/facts.yaml"
check 'the copy lost the reason' sh -c '! grep -q "distinct count of learners" "$1"' sh \
	"$TMP/cat/dw/facts.yaml"
WS=$TMP/ws2
init_ws
expect_exit 0 steward catalog load "$TMP/cat"
expect_exit 1 steward pii check
expect_stdout_line "$TMP/cat/dw/facts.yaml:37:5: 'dw.revenue_daily.paying_learners' is declared pii none but inherits pseudonymous from 'dw.fact_enrollment.user_key'"
expect_stdout_line '  dw.revenue_daily.paying_learners <- dw.fact_enrollment.user_key (declared pseudonymous)'
expect_stdout_line '1 field declared pii none inherits personal data without a pii_reason'
expect_stdout_lacks 'impressions' 'the other aggregate still states its reason'
expect_exit 1 steward pii check --json
expect_jq '.count == 1 and .findings[0].dataset == "dw.revenue_daily"
	and .findings[0].field == "paying_learners" and .findings[0].class == "pseudonymous"
	and .findings[0].from == "dw.fact_enrollment.user_key"
	and .findings[0].file == "'"$TMP"'/cat/dw/facts.yaml" and .findings[0].line == 37
	and .findings[0].chain == [{"field": "dw.fact_enrollment.user_key", "class": "pseudonymous", "declared": true}]' \
	'--json: the finding with its source, chain and location'

# The card shows the derived tag apart from the declared class.
expect_exit 0 steward show dw.revenue_daily
expect_stdout_line '                    <- derived pseudonymous from dw.fact_enrollment.user_key'
check 'paying_learners is still declared none' \
	grep -qE '^  paying_learners +int64 +none +- +-$' "$OUT"
expect_exit 0 steward show dw.revenue_daily --json
expect_jq '.fields[] | select(.path == "paying_learners")
	| .pii == "none" and .derived == {"class": "pseudonymous", "from": "dw.fact_enrollment.user_key"}' \
	'--json: paying_learners is declared none, derived pseudonymous from its source'
expect_jq '[.fields[] | select(has("derived"))] | length == 1' 'only paying_learners is derived'

# ---- both reasons removed: across the hash of impression_id, pseudonymous ----
sed -i 's/pii_reason: count of impressions per algorithm and day, //' "$TMP/cat/dw/facts.yaml"
expect_exit 0 steward catalog load "$TMP/cat"
expect_exit 1 steward pii check
expect_stdout_contains "'dw.ab_conversions.impressions' is declared pii none but inherits pseudonymous from 'events.impression.impression_id'"
expect_stdout_line '  dw.ab_conversions.impressions <- events.impression.impression_id (declared indirect, transform hash)'
expect_stdout_line '2 fields declared pii none inherit personal data without a pii_reason'
check 'findings are sorted by dataset' sh -c \
	'grep -n "is declared pii none" "$1" | head -1 | grep -q dw.ab_conversions' sh "$OUT"

# ---- transitive chains, and a reason that passes nothing on ----
WS=$TMP/ws
expect_exit 0 steward catalog load "$CORPUS" "$FIXTURES/propagation/derived.yaml"
expect_exit 1 steward pii check
expect_stdout_line '  mart.email_domains.domain <- mart.user_emails.email_copy (inherits direct) <- prod.users.email (declared direct)'
expect_stdout_line '  mart.user_emails.user_hash <- events.signup.user_id (declared direct, transform hash)'
expect_stdout_lacks "'mart.email_domains.learners'" 'a field with a pii_reason is not a finding'
expect_stdout_lacks "'mart.email_domains.top_learner'" 'a field with a pii_reason passes nothing on'
expect_stdout_line '3 fields declared pii none inherit personal data without a pii_reason'
expect_exit 1 steward pii check --json
expect_jq '[.findings[] | .dataset + "." + .field] == ["mart.email_domains.domain",
	"mart.user_emails.email_copy", "mart.user_emails.user_hash"]' 'three findings, by dataset'
expect_jq '.findings[0].chain | map(.field) == ["mart.user_emails.email_copy", "prod.users.email"]'

# ---- usage ----
expect_exit 2 steward pii check extra
expect_stderr_contains "error: 'pii check' takes no arguments"
expect_exit 2 steward pii check --bogus
expect_stderr_contains "unknown option '--bogus'"
expect_exit 0 steward pii check --help
expect_stdout_contains 'usage: steward pii check [--json]'
expect_exit 0 steward pii --help
expect_stdout_contains 'check'

done_testing
