#!/bin/sh
# Dataset cards: text and JSON, versions, nested fields, glossary terms, unknown names.
. "$(dirname "$0")/lib.sh"
require jq

init_ws
expect_exit 0 steward catalog load "$CORPUS"

# ---- text card ----
expect_exit 0 steward show dw.dim_user
expect_stderr_empty
expect_stdout_line 'dw.dim_user  (table, version 1)'
expect_stdout_line '  owner         data-eng'
expect_stdout_line '  subject       user_key'
expect_stdout_line "  declared in   $CORPUS/dw/dimensions.yaml:1"
expect_stdout_line 'Fields (* required)'
check 'the field table has FIELD TYPE PII CATEGORY TRANSFORM columns' \
	grep -qE '^  FIELD +TYPE +PII +CATEGORY +TRANSFORM$' "$OUT"
# field_row NAME TYPE PII CATEGORY: one row of the field table (the transform column is '-').
field_row() {
	check "dw.dim_user row: $*" grep -qE "^  $1 +$2 +$3 +$4 +-\$" "$OUT"
}
field_row 'user_key\*' string pseudonymous 'user\.unique_id'
field_row email_key string pseudonymous 'user\.contact\.email'
field_row country string indirect 'user\.location\.imprecise'
field_row birth_year int indirect 'user\.demographic\.date_of_birth'
field_row signup_date date none -
field_row is_instructor bool none -
expect_stdout_contains '<- prod.users.birth_date' 'column lineage under birth_year'
expect_stdout_line '  prod.users (table)' 'upstream prod.users'
expect_stdout_line '  ml.user_features (model)' 'downstream ml.user_features'

# Nested fields are indented under their parent, with transform and normalizer.
expect_exit 0 steward show events.signup
expect_stdout_line 'events.signup  (event, version 3)'
expect_stdout_line '  versions      2, 3'
check 'context is a required object' grep -qE '^  context\* +object +none +- +-$' "$OUT"
check 'context.ip is indented under context, direct, hashed' \
	grep -qE '^    ip +string +direct +user\.device\.ip_address +hash \(normalize ip\)$' "$OUT"
check 'context.referrer is nullable' grep -qE '^    referrer +string +none +- +- nullable$' "$OUT"
expect_exit 0 steward show events.impression
check 'array of objects and array of scalars' \
	sh -c 'grep -qE "^  units +array<object> +none" "$1" && grep -qE "^    course_ids +array<int64> +none" "$1"' sh "$OUT"

# ---- JSON card ----
expect_exit 0 steward show events.signup --json
expect_jq '.name == "events.signup" and .kind == "event" and .version == 3 and .versions == [2, 3]' \
	'events.signup: version 3 of [2, 3]'
expect_jq '.source == {"file": "'"$CORPUS"'/events/signup.yaml", "line": 45}' 'source file and line of version 3'
expect_jq '.fields | length == 18' '18 fields (including nested ones)'
expect_jq 'all(.fields[]; has("path") and has("type") and has("pii") and has("category") and has("transform"))' \
	'every field has path, type, pii, category, transform'
expect_jq '.fields[] | select(.path == "context.ip") | .type == "string" and .pii == "direct"
	and .category == "user.device.ip_address" and .transform == "hash" and .normalize == "ip"' \
	'nested context.ip: string, direct, user.device.ip_address, hash'
expect_jq '.fields[] | select(.path == "context") | .type == "object" and .pii == "none" and .required' \
	'context: required object, pii none'
expect_jq '.fields[] | select(.path == "birth_date") | .transform == "truncate" and .category == "user.demographic.date_of_birth"'
expect_jq '[.fields[].path] | index("phone") != null and index("marketing_opt_in") != null' 'version 3 has phone and marketing_opt_in'
expect_jq '.upstream == [{"name": "web.tracking_sdk", "kind": "source", "external": false}]'
expect_jq '.downstream == [{"name": "kafka.client_log", "kind": "topic", "external": false}]'

expect_exit 0 steward show events.impression --json
expect_jq '.fields[] | select(.path == "units.course_ids") | .type == "array" and .items == "int64"' \
	'units.course_ids: array of int64, addressed through the array'

# ---- --version ----
expect_exit 0 steward show events.signup --version 2 --json
expect_jq '.version == 2 and .versions == [2, 3]' 'show --version 2: version 2'
expect_jq '[.fields[].path] | index("phone") == null and length == 16' 'version 2 has no phone field'
expect_jq '.source.line == 3' 'version 2 starts at line 3'
expect_exit 0 steward show events.signup --version 2
expect_stdout_line 'events.signup  (event, version 2)'
expect_exit 4 steward show events.signup --version 1
expect_stderr_line "error: dataset 'events.signup' has no version 1"
expect_exit 2 steward show events.signup --version two
expect_stderr_line "error: --version needs a positive number, not 'two'"

# ---- glossary terms ----
expect_exit 0 steward show bi.revenue
expect_stdout_line 'bi.revenue  (dashboard, version 1)  [certified]'
expect_stdout_line 'Glossary terms'
expect_stdout_line '  glossary.revenue (term)'
expect_exit 0 steward show bi.revenue --json
expect_jq '.certified and (.terms | map(.name) | index("glossary.revenue") != null)' 'bi.revenue --json: terms include glossary.revenue'
expect_exit 0 steward show glossary.revenue --json
expect_jq '.kind == "term" and (.related | map(.name) | index("bi.revenue") != null)
	and (.related | map(.name) | index("dw.revenue_daily.net_revenue_usd") != null)' \
	'glossary.revenue relates to bi.revenue and dw.revenue_daily.net_revenue_usd'

# ---- unknown names ----
expect_exit 4 steward show dw.dim_usr
expect_stderr_line "error: no dataset 'dw.dim_usr' in the catalog (did you mean 'dw.dim_user'?)"
expect_stdout_empty
expect_exit 4 steward show dw.dim_user.email_key
expect_stderr_line "error: no dataset 'dw.dim_user.email_key' in the catalog (did you mean 'dw.dim_user'?)"
expect_exit 4 steward show zz.nothing_like_it
expect_stderr_line "error: no dataset 'zz.nothing_like_it' in the catalog"
expect_exit 4 steward show dw.dim_usr --json
expect_stdout_empty 'unknown name with --json: nothing on stdout'
expect_exit 2 steward show
expect_stderr_line 'error: no dataset name given'
expect_exit 2 steward show dw.dim_user bi.revenue
expect_stderr_line "error: 'show' takes one dataset name"

done_testing
